//! Reading a file for `validate` in memory bounded by the file, not by what is wrong with it
//! (SPEC §5): the records are checked in parallel as [`super::read`] does, but only counted;
//! nothing is kept of a record but the hashes of its keys and where it starts. Duplicates are
//! found from those, and the problems to show are told again, in order, by
//! [`super::each_problem`], which reads the records once more.

use super::{
    each_record, id_key, in_spans, mail_key, newlines, open_text, spans, unnamed_columns_used,
    LineCounter, ReadOptions, Span, SpanEnd, SPAN_BYTES,
};
use crate::core::file::ImportFile;
use crate::core::problem::{Code, Problem, Severity, Tally};
use crate::core::record::{self, Entry};
use rayon::prelude::*;
use std::collections::HashSet;

/// A key's 128-bit hash: two keys with the same one are taken as the same key (the chance
/// that two different keys of a file share one is below 2^-100), so that no key is kept.
fn hash128(key: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(key.as_bytes())
}

/// What the lean reading of one span gave.
#[derive(Default)]
struct LeanSpan {
    rows: u32,
    /// Hashes of the keys that must be unique, with the index of their record in the span.
    ids: Vec<(u128, u32)>,
    mails: Vec<(u128, u32)>,
    /// Records of valid entries naming unknown groups: (index in the span, how many).
    unknown: Vec<(u32, u32)>,
    unnamed_used: Vec<(usize, u64)>,
    /// The records' problems, counted.
    tally: Tally,
    /// A CSV error stopped the reading.
    failed: bool,
}

fn lean_span(
    text: &str,
    span: &Span,
    file: &ImportFile,
    opts: &ReadOptions,
    known: Option<&HashSet<String>>,
) -> (LeanSpan, SpanEnd) {
    let columns = &file.columns;
    let mut lines = LineCounter {
        text: text.as_bytes(),
        offset: span.start,
        line: span.line,
    };
    let mut out = LeanSpan::default();
    let mut unnamed_seen = vec![false; columns.unnamed.len()];
    let (end, error) = each_record(text, span, file.delimiter, |cells| {
        let at = span.start + cells.position().map_or(0, |p| p.byte() as usize);
        let line = lines.line_at(at);
        super::note_unnamed(
            &columns.unnamed,
            &mut unnamed_seen,
            cells,
            line,
            &mut out.unnamed_used,
        );
        let (entry, problems) = record::check(cells, line, columns, &opts.rules);
        problems.iter().for_each(|p| out.tally.count(p));
        let index = out.rows;
        out.rows += 1;
        if let Some(key) = id_key(&entry) {
            out.ids.push((hash128(&key), index));
        }
        if let Some(key) = mail_key(&entry) {
            out.mails.push((hash128(&key), index));
        }
        if let (Some(known), Entry::Valid(r)) = (known, &entry) {
            let unknown = r.groups().filter(|g| !known.contains(*g)).count() as u32;
            if unknown > 0 {
                out.unknown.push((index, unknown));
                out.tally
                    .add(Code::UnknownGroup, Severity::Warning, u64::from(unknown));
            }
        }
    });
    out.failed = error.is_some();
    (out, end)
}

/// Read a file for `validate`: its own problems (header, encoding) kept, of its records'
/// problems the first `keep` errors and `keep` warnings kept and the rest counted
/// ([`ImportFile::dropped`]), no entries. `known`: the Group IDs the file is checked against.
/// A file that a CSV error stops is read as [`super::read`] does.
pub fn read_lean(
    bytes: &[u8],
    opts: &ReadOptions,
    keep: usize,
    known: Option<&HashSet<String>>,
) -> ImportFile {
    let mut file = ImportFile {
        delimiter: b',',
        encoding: "utf-8",
        keep: Some(keep),
        ..ImportFile::default()
    };
    let Some((text, data)) = open_text(bytes, opts, &mut file) else {
        file.limit_problems();
        return file;
    };
    let line = 1 + newlines(&text.as_bytes()[..data]);
    let spans = spans(text.as_bytes(), data, line, SPAN_BYTES);
    let read = in_spans(&text, &spans, |span| {
        lean_span(&text, span, &file, opts, known)
    });
    if read.iter().any(|s| s.failed) {
        return read_whole(bytes, opts, known);
    }
    let rows: usize = read.iter().map(|s| s.rows as usize).sum();
    let mut ids = Vec::with_capacity(read.iter().map(|s| s.ids.len()).sum());
    let mut mails = Vec::with_capacity(read.iter().map(|s| s.mails.len()).sum());
    let (mut unknown, mut unnamed_used, mut tally) = (Vec::new(), Vec::new(), Tally::new());
    let mut base = 0u32;
    for span in read {
        ids.extend(span.ids.iter().map(|&(h, i)| (h, base + i)));
        mails.extend(span.mails.iter().map(|&(h, i)| (h, base + i)));
        unknown.extend(span.unknown.iter().map(|&(i, n)| (base + i, n)));
        unnamed_used.extend(span.unnamed_used);
        tally.merge(&span.tally);
        base += span.rows;
    }
    let header_line = file.header_line;
    unnamed_columns_used(&mut file, header_line, &unnamed_used);
    file.rows = rows;
    if rows == 0 {
        file.problems.push(super::file_problem(
            Code::EmptyFile,
            "the file has a header but no data records",
        ));
        file.limit_problems();
        return file;
    }
    let (duplicate_ids, duplicate_mails) = rayon::join(|| repeated(ids), || repeated(mails));
    tally.add(
        Code::DuplicateId,
        Severity::Error,
        duplicate_ids.len() as u64,
    );
    tally.add(
        Code::DuplicateMail,
        Severity::Error,
        duplicate_mails.len() as u64,
    );
    // A duplicated record is invalid: its groups are not checked.
    for (i, n) in unknown {
        if duplicate_ids.binary_search(&i).is_ok() || duplicate_mails.binary_search(&i).is_ok() {
            tally.uncount(Code::UnknownGroup, Severity::Warning, u64::from(n));
        }
    }
    file.duplicate_ids = duplicate_ids;
    file.duplicate_mails = duplicate_mails;
    let want = (
        keep.min(tally.errors() as usize),
        keep.min(tally.warnings() as usize),
    );
    let shown = first_problems(&text, opts, &file, known, want);
    for p in &shown {
        tally.uncount(p.code, p.severity, 1);
    }
    file.problems.extend(shown);
    file.dropped = tally;
    file.limit_problems();
    file
}

/// The file read whole, as `apply` reads it, its groups checked.
fn read_whole(bytes: &[u8], opts: &ReadOptions, known: Option<&HashSet<String>>) -> ImportFile {
    let mut file = super::read(bytes, opts);
    if let (Some(known), None) = (known, file.file_error()) {
        file.check_groups(known);
    }
    file
}

/// The first errors and warnings of the records (as many as `want` says of each: the records
/// have at least that many), told again in order until there are enough.
fn first_problems(
    text: &str,
    opts: &ReadOptions,
    file: &ImportFile,
    known: Option<&HashSet<String>>,
    want: (usize, usize),
) -> Vec<Problem> {
    let mut kept = Vec::new();
    let (mut errors, mut warnings) = (0, 0);
    if want == (0, 0) {
        return kept;
    }
    // Stopping early is what the error is for: nothing else fails in the closure.
    let _stopped = super::tell_again(text, opts, file, known, &mut |p: &Problem| {
        if file.of_a_record(p) {
            let (n, most) = if p.is_error() {
                (&mut errors, want.0)
            } else {
                (&mut warnings, want.1)
            };
            if *n < most {
                *n += 1;
                kept.push(p.clone());
            }
        }
        if errors >= want.0 && warnings >= want.1 {
            return Err(std::io::Error::other("enough"));
        }
        Ok(())
    });
    kept
}

/// The indices (sorted) of the records whose key's hash another record's key has too.
fn repeated(mut hashed: Vec<(u128, u32)>) -> Vec<u32> {
    hashed.par_sort_unstable_by_key(|&(h, _)| h);
    let mut marked: Vec<u32> = hashed
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
        .flatten()
        .map(|&(_, i)| i)
        .collect();
    drop(hashed);
    marked.par_sort_unstable();
    marked
}

//! Reading a file for `validate` in memory bounded by the file, not by what is wrong with it
//! (SPEC §5): the records are checked in parallel as [`super::read`] does, but only counted;
//! nothing is kept of a record but a 64-bit hash of each of its keys (16 bytes a record, beside
//! the file's hundred). Duplicates are found from those; the records whose hashes meet are
//! read again and their keys' 128-bit hashes compared (two different keys of a file share one
//! with a chance below 2^-100). The problems to show are told again, in order, by
//! [`super::each_problem`], which reads the records once more.

use super::split::record_line;
use super::{
    each_record, id_key, in_spans, newlines, open_text, spans, unnamed_columns_used, ReadOptions,
    Span, SpanEnd, SPAN_BYTES,
};
use crate::core::file::ImportFile;
use crate::core::problem::{Code, Problem, Severity, Tally};
use crate::core::record::{self, Checked};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashSet;

/// A key's 64-bit hash, never 0 (0 stands for a record without the key). Records whose hashes
/// meet are read again and their keys' 128-bit hashes compared ([`confirmed`]).
fn hash(key: &str) -> u64 {
    super::hash(key).max(1)
}

/// The Group IDs a file is checked against, looked up with a fast hash (one lookup a
/// membership).
type Known<'a> = HashSet<&'a str, foldhash::fast::RandomState>;

/// What the lean reading of one span gave.
#[derive(Default)]
struct LeanSpan {
    /// Where the span's records are (to read some of them again).
    span: Span,
    rows: u32,
    /// The hash of each record's UniqueID and of its Mail's key, in the records' order (0 for
    /// none).
    ids: Vec<u64>,
    mails: Vec<u64>,
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
    lines_in_span: usize,
    file: &ImportFile,
    opts: &ReadOptions,
    known: Option<&Known<'_>>,
) -> (LeanSpan, SpanEnd) {
    let columns = &file.columns;
    let mut out = LeanSpan {
        span: span.clone(),
        ..LeanSpan::default()
    };
    out.ids.reserve_exact(lines_in_span);
    out.mails.reserve_exact(lines_in_span);
    let mut unnamed_seen = vec![false; columns.unnamed.len()];
    let (end, error) = each_record(text, span, file.delimiter, |cells| {
        let line = record_line(text.as_bytes(), span, cells.position());
        super::note_unnamed(
            &columns.unnamed,
            &mut unnamed_seen,
            cells,
            line,
            &mut out.unnamed_used,
        );
        // No record is built: only its keys and groups are looked at.
        record::check_with(cells, line, columns, &opts.rules, |checked, problems| {
            problems.iter().for_each(|p| out.tally.count(p));
            let index = out.rows;
            out.rows += 1;
            let (id, mail) = lean_keys(&checked);
            out.ids.push(id.map_or(0, |k| hash(&k)));
            out.mails.push(mail.map_or(0, |k| hash(&k)));
            if let (Some(known), Checked::Valid(v)) = (known, &checked) {
                let unknown = v.groups.iter().filter(|g| !known.contains(*g)).count() as u32;
                if unknown > 0 {
                    out.unknown.push((index, unknown));
                    out.tally
                        .add(Code::UnknownGroup, Severity::Warning, u64::from(unknown));
                }
            }
        });
    });
    out.failed = error.is_some();
    (out, end)
}

/// A checked record's UniqueID and Mail key, as the whole reading compares them: [`id_key`]
/// of its entry, and the key of [`Checked::mail`] (an invalid record's too).
fn lean_keys<'c>(checked: &'c Checked<'_>) -> (Option<Cow<'c, str>>, Option<Cow<'c, str>>) {
    let mail = checked.mail().map(crate::core::mail::key);
    match checked {
        Checked::Valid(v) => (Some(Cow::Borrowed(v.unique_id())), mail),
        Checked::Invalid(entry, _) => (id_key(entry), mail),
    }
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
    read_lean_in_spans(bytes, opts, keep, known, SPAN_BYTES)
}

/// [`read_lean`] in spans of about `span_bytes` (the tests cut them small).
pub(super) fn read_lean_in_spans(
    bytes: &[u8],
    opts: &ReadOptions,
    keep: usize,
    known: Option<&HashSet<String>>,
    span_bytes: usize,
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
    let spans = spans(text.as_bytes(), data, line, span_bytes);
    let known_ids: Option<Known<'_>> = known.map(|k| k.iter().map(String::as_str).collect());
    let read = in_spans(&text, &spans, |span| {
        let lines = lines_in(text.as_bytes(), &spans, span);
        lean_span(&text, span, lines, &file, opts, known_ids.as_ref())
    });
    if read.iter().any(|s| s.failed) {
        return read_whole(bytes, opts, known);
    }
    let rows: usize = read.iter().map(|s| s.rows as usize).sum();
    let Gathered {
        unknown,
        unnamed_used,
        mut tally,
    } = gathered(&read);
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
    let (duplicate_ids, duplicate_mails) = duplicates(&text, &read, &file, opts);
    drop(read);
    count_duplicates(&mut tally, &duplicate_ids, &duplicate_mails, &unknown);
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

/// The lines `span` has at most (a record a line at most: its lists are made once, at their
/// size), from the first lines of the spans that `spans` cut (the first pass counted them),
/// else counted.
fn lines_in(text: &[u8], spans: &[Span], span: &Span) -> usize {
    let next = spans.partition_point(|s| s.start < span.end);
    match spans.get(next) {
        Some(s) if s.start == span.end && s.line >= span.line => (s.line - span.line) as usize + 1,
        _ => newlines(&text[span.start..span.end]) as usize + 1,
    }
}

/// The spans' findings, gathered.
#[derive(Default)]
struct Gathered {
    /// The records naming unknown groups: (index in the file, how many).
    unknown: Vec<(u32, u32)>,
    unnamed_used: Vec<(usize, u64)>,
    /// The records' problems, counted.
    tally: Tally,
}

fn gathered(read: &[LeanSpan]) -> Gathered {
    let mut all = Gathered::default();
    let mut base = 0u32;
    for span in read {
        all.unknown
            .extend(span.unknown.iter().map(|&(i, n)| (base + i, n)));
        all.unnamed_used.extend_from_slice(&span.unnamed_used);
        all.tally.merge(&span.tally);
        base += span.rows;
    }
    all
}

/// Count each duplicate as an error; a duplicated record is invalid, so its unknown groups
/// (`unknown`: index, how many) are not counted.
fn count_duplicates(tally: &mut Tally, ids: &[u32], mails: &[u32], unknown: &[(u32, u32)]) {
    tally.add(Code::DuplicateId, Severity::Error, ids.len() as u64);
    tally.add(Code::DuplicateMail, Severity::Error, mails.len() as u64);
    for &(i, n) in unknown {
        if ids.binary_search(&i).is_ok() || mails.binary_search(&i).is_ok() {
            tally.uncount(Code::UnknownGroup, Severity::Warning, u64::from(n));
        }
    }
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

/// The records (by index, sorted) whose UniqueID, and those whose Mail, another record has
/// too: those whose hashes meet, their keys compared.
fn duplicates(
    text: &str,
    read: &[LeanSpan],
    file: &ImportFile,
    opts: &ReadOptions,
) -> (Vec<u32>, Vec<u32>) {
    let ids = meeting(read, |s| &s.ids);
    let mails = meeting(read, |s| &s.mails);
    if ids.is_empty() && mails.is_empty() {
        return (ids, mails);
    }
    confirmed(text, read, file, opts, &ids, &mails)
}

/// The indices (sorted) of the records whose hash (`of` each span) another record's is too.
/// Instead of sorting every hash, two tables of bits are set in parallel, a bit for the top
/// bits of each hash: `seen` the first time, `again` when it was already set. Only the
/// hashes whose bit is set `again` (a few percent: the table has 16 bits a hash) are sorted
/// and compared, so what meets is exactly the hashes that are there twice.
fn meeting(read: &[LeanSpan], of: fn(&LeanSpan) -> &[u64]) -> Vec<u32> {
    let total: usize = read.iter().map(|s| of(s).len()).sum();
    let table = Bits::new(total);
    let again = Bits::new(total);
    read.par_iter().for_each(|span| {
        for &h in of(span).iter().filter(|&&h| h != 0) {
            if table.set(h) {
                again.set(h);
            }
        }
    });
    drop(table);
    let mut sorted: Vec<u64> = read
        .par_iter()
        .flat_map_iter(|span| of(span).iter().copied().filter(|&h| h != 0 && again.has(h)))
        .collect();
    sorted.par_sort_unstable();
    let twice: Vec<u64> = sorted
        .chunk_by(|a, b| a == b)
        .filter(|run| run.len() > 1)
        .map(|run| run[0])
        .collect();
    drop(sorted);
    if twice.is_empty() {
        return Vec::new();
    }
    let mut met = Vec::new();
    let mut base = 0u32;
    for span in read {
        let hashes = of(span).iter().enumerate();
        met.extend(
            hashes
                .filter(|(_, &h)| h != 0 && again.has(h) && twice.binary_search(&h).is_ok())
                .map(|(j, _)| base + j as u32),
        );
        base += span.rows;
    }
    met
}

/// A table of bits indexed by the top bits of a hash, set from several threads at once.
struct Bits {
    words: Vec<std::sync::atomic::AtomicU64>,
    shift: u32,
}

impl Bits {
    /// A table of about 16 bits for each of `n` hashes (at least 4096, at most 2^28).
    fn new(n: usize) -> Bits {
        let bits = (n.max(1).next_power_of_two().trailing_zeros() + 4).clamp(12, 28);
        let words = (0..1usize << (bits - 6))
            .map(|_| std::sync::atomic::AtomicU64::new(0))
            .collect();
        Bits {
            words,
            shift: 64 - bits,
        }
    }

    fn place(&self, h: u64) -> (usize, u64) {
        let slot = h >> self.shift;
        ((slot >> 6) as usize, 1 << (slot & 63))
    }

    /// Set the bit of `h`: whether it was set already.
    fn set(&self, h: u64) -> bool {
        let (word, bit) = self.place(h);
        let was = self.words[word].fetch_or(bit, std::sync::atomic::Ordering::Relaxed);
        was & bit != 0
    }

    fn has(&self, h: u64) -> bool {
        let (word, bit) = self.place(h);
        self.words[word].load(std::sync::atomic::Ordering::Relaxed) & bit != 0
    }
}

/// Of the records whose hashes meet (`ids`, `mails`: indices, sorted), those whose keys'
/// 128-bit hashes do: the spans that hold them are read twice more, to count each key's
/// records (a key once, not a record each: a file of one UniqueID on every line meets on
/// every line), then to list the records whose key another has too.
fn confirmed(
    text: &str,
    read: &[LeanSpan],
    file: &ImportFile,
    opts: &ReadOptions,
    ids: &[u32],
    mails: &[u32],
) -> (Vec<u32>, Vec<u32>) {
    let again = Again {
        text,
        read,
        file,
        opts,
        ids,
        mails,
    };
    let mut counts = (Counts::default(), Counts::default());
    for (span_ids, span_mails) in again.per_span(|c: &mut (Counts, Counts), mail, h, _, _| {
        let of = if mail { &mut c.1 } else { &mut c.0 };
        *of.entry(h).or_default() += 1;
    }) {
        for (into, from) in [(&mut counts.0, span_ids), (&mut counts.1, span_mails)] {
            for (h, n) in from {
                *into.entry(h).or_default() += n;
            }
        }
    }
    let same = again.per_span(|lists: &mut (Vec<u32>, Vec<u32>), mail, h, i, may| {
        let (of, list) = if mail {
            (&counts.1, &mut lists.1)
        } else {
            (&counts.0, &mut lists.0)
        };
        if may && of.get(&h).is_some_and(|&n| n > 1) {
            list.push(i);
        }
    });
    let (id_lists, mail_lists): (Vec<Vec<u32>>, Vec<Vec<u32>>) = same.into_iter().unzip();
    (
        id_lists.into_iter().flatten().collect(),
        mail_lists.into_iter().flatten().collect(),
    )
}

/// The records whose hashes meet, to be read again ([`confirmed`]).
struct Again<'a> {
    text: &'a str,
    read: &'a [LeanSpan],
    file: &'a ImportFile,
    opts: &'a ReadOptions,
    ids: &'a [u32],
    mails: &'a [u32],
}

impl Again<'_> {
    /// What `tell` makes of each span's keys ([`keys_again`]), span by span in parallel.
    fn per_span<T: Default + Send>(
        &self,
        tell: impl Fn(&mut T, bool, u128, u32, bool) + Sync,
    ) -> Vec<T> {
        let mut bases = Vec::with_capacity(self.read.len());
        let mut base = 0u32;
        for span in self.read {
            bases.push(base);
            base += span.rows;
        }
        let within = |list: &[u32], from: u32, rows: u32| -> std::ops::Range<usize> {
            list.partition_point(|&i| i < from)..list.partition_point(|&i| i < from + rows)
        };
        self.read
            .par_iter()
            .zip(&bases)
            .map(|(span, &base)| {
                let want = (
                    &self.ids[within(self.ids, base, span.rows)],
                    &self.mails[within(self.mails, base, span.rows)],
                );
                let mut out = T::default();
                keys_again(
                    self.text,
                    span,
                    base,
                    self.file,
                    self.opts,
                    want,
                    |mail, h, i, may| tell(&mut out, mail, h, i, may),
                );
                out
            })
            .collect()
    }
}

/// The number of records of each key's 128-bit hash.
type Counts = std::collections::HashMap<u128, u32, foldhash::fast::RandomState>;

/// The 128-bit hashes of the UniqueIDs and Mail keys of the records `want` names (indices
/// from `base`, sorted) in a span, read again: each told to `tell` (whether it is a Mail key,
/// its hash, the record's index, and whether that record may be marked a duplicate: not one
/// of the wrong field count, SPEC §1, whose key counts all the same), in the records' order.
fn keys_again(
    text: &str,
    span: &LeanSpan,
    base: u32,
    file: &ImportFile,
    opts: &ReadOptions,
    want: (&[u32], &[u32]),
    mut tell: impl FnMut(bool, u128, u32, bool),
) {
    if want.0.is_empty() && want.1.is_empty() {
        return;
    }
    let (mut want_ids, mut want_mails) = (want.0.iter().peekable(), want.1.iter().peekable());
    let mut index = base;
    let _ = each_record(text, &span.span, file.delimiter, |cells| {
        let i = index;
        index += 1;
        let (id, mail) = (
            want_ids.next_if(|&&w| w == i).is_some(),
            want_mails.next_if(|&&w| w == i).is_some(),
        );
        if !id && !mail {
            return;
        }
        // The line only places problems, which are not kept. A record of the wrong field
        // count gets only that code (SPEC §1): its UniqueID counts, it is not marked.
        let (id_hash, mail_hash, marked) =
            record::check_with(cells, 0, &file.columns, &opts.rules, |checked, _| {
                let marked = !matches!(&checked, Checked::Invalid(e, _) if e.wrong_field_count());
                let (id_key, mail_key) = lean_keys(&checked);
                let hashed = |k: Option<Cow<'_, str>>| k.map(|k| hash128(&k));
                (hashed(id_key), hashed(mail_key), marked)
            });
        if let (true, Some(h)) = (id, id_hash) {
            tell(false, h, i, marked);
        }
        if let (true, Some(h)) = (mail, mail_hash) {
            tell(true, h, i, true);
        }
    });
}

fn hash128(key: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    /// What [`meeting`] replaced: every hash sorted, those there twice found, their records
    /// listed.
    fn meeting_by_sort(read: &[LeanSpan]) -> Vec<u32> {
        let all: Vec<u64> = read.iter().flat_map(|s| s.ids.iter().copied()).collect();
        let mut sorted: Vec<u64> = all.iter().copied().filter(|&h| h != 0).collect();
        sorted.sort_unstable();
        (0..all.len() as u32)
            .filter(|&i| {
                let h = all[i as usize];
                h != 0
                    && sorted.partition_point(|&x| x < h) + 1 < sorted.partition_point(|&x| x <= h)
            })
            .collect()
    }

    fn spans_of(hashes: &[u64], per_span: usize) -> Vec<LeanSpan> {
        hashes
            .chunks(per_span.max(1))
            .map(|ids| LeanSpan {
                rows: ids.len() as u32,
                ids: ids.to_vec(),
                ..LeanSpan::default()
            })
            .collect()
    }

    #[test]
    fn meeting_finds_the_hashes_there_twice() {
        let cases: Vec<Vec<u64>> = vec![
            vec![],
            vec![0, 0, 0],
            vec![1, 2, 3],
            vec![5, 0, 5, 7],
            // Hashes that share the table's bit but differ, and the largest ones.
            vec![1 << 63, (1 << 63) | 1, u64::MAX, u64::MAX - 1, u64::MAX],
            (0..10_000u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 3000)
                .collect(),
        ];
        for hashes in &cases {
            for per_span in [1, 3, 1000] {
                let read = spans_of(hashes, per_span);
                assert_eq!(
                    meeting(&read, |s| &s.ids),
                    meeting_by_sort(&read),
                    "{hashes:?} in {per_span}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn meeting_agrees_with_a_sort(
            hashes in proptest::collection::vec(proptest::prop_oneof![
                0u64..4,
                proptest::num::u64::ANY,
                (0u64..8).prop_map(|h| h << 60),
            ], 0..300),
            per_span in 1usize..50,
        ) {
            let read = spans_of(&hashes, per_span);
            proptest::prop_assert_eq!(meeting(&read, |s| &s.ids), meeting_by_sort(&read));
        }
    }
}

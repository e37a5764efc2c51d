//! Reading an import file: bytes → text (encoding) → records (delimiter, header) → checked entries.
//!
//! Reading never fails: whatever is wrong with the file becomes a [`Problem`], so that
//! `validate` can report everything at once and `apply` can decide what to do.

pub use crate::core::file::ImportFile;
use crate::core::problem::{Code, Problem, Tally};
use crate::core::record::{self, Checked, Columns, Entry, Field, Rules};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;

pub mod mapping;
pub use mapping::Mapping;
mod split;
use split::{newlines, spans, Span};

/// Which encoding to read a file in (`csv.encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Auto,
    Utf8,
    Utf16,
    Windows1252,
}

/// How to read a file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// `None` detects the delimiter from the header.
    pub delimiter: Option<u8>,
    pub encoding: Encoding,
    pub max_file_bytes: u64,
    pub rules: Rules,
    /// `[columns]`: where the roster columns are read from.
    pub mapping: Mapping,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            delimiter: None,
            encoding: Encoding::Auto,
            max_file_bytes: 1 << 30,
            rules: Rules::default(),
            mapping: Mapping::default(),
        }
    }
}

pub fn delimiter_name(d: u8) -> &'static str {
    match d {
        b';' => ";",
        b'\t' => "\t",
        b'|' => "|",
        _ => ",",
    }
}

fn file_problem(code: Code, message: impl Into<String>) -> Problem {
    Problem::new(None, None, code, message)
}

/// The bytes as UTF-8 text, or the offset of the first byte that is not (checked with SIMD: a
/// large file's text is checked whole before its reading starts).
fn utf8(bytes: &[u8]) -> Result<&str, usize> {
    simdutf8::compat::from_utf8(bytes).map_err(|e| e.valid_up_to())
}

/// Decode the bytes to text, and name the encoding used. A lone CR ends a line as it ends a
/// record for the CSV reading (a spreadsheet on a Mac writes such files): it is given the LF
/// that every count of lines looks for ([`line_feeds`]).
fn decode<'a>(
    bytes: &'a [u8],
    encoding: Encoding,
    problems: &mut Vec<Problem>,
) -> Result<(Cow<'a, str>, &'static str), &'static str> {
    decode_as_is(bytes, encoding, problems).map(|(text, name)| (line_feeds(text), name))
}

/// The text with an LF after every CR that has none; a text without such a CR (the common
/// case, told by one vector search for CRs) as it is.
fn line_feeds(text: Cow<'_, str>) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let lone = |i: usize| bytes.get(i + 1) != Some(&b'\n');
    let Some(first) = memchr::memchr_iter(b'\r', bytes).find(|&i| lone(i)) else {
        return text;
    };
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 32);
    out.push_str(&text[..=first]);
    out.push('\n');
    let (start, mut from) = (first + 1, first + 1);
    for i in memchr::memchr_iter(b'\r', &bytes[start..]).map(|i| i + start) {
        if lone(i) {
            out.push_str(&text[from..=i]);
            out.push('\n');
            from = i + 1;
        }
    }
    out.push_str(&text[from..]);
    Cow::Owned(out)
}

/// [`decode`], the line ends as the file has them. `Err`: the bytes are not valid in the
/// encoding named (a `not-csv` problem says where).
fn decode_as_is<'a>(
    bytes: &'a [u8],
    encoding: Encoding,
    problems: &mut Vec<Problem>,
) -> Result<(Cow<'a, str>, &'static str), &'static str> {
    use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};
    let mut not_valid = |message: String| problems.push(file_problem(Code::NotCsv, message));
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match utf8(rest) {
            Ok(s) => Ok((Cow::Borrowed(s), "utf-8")),
            Err(valid_up_to) => {
                not_valid(format!(
                    "the file starts with a UTF-8 byte-order mark but is not UTF-8 at {} (byte {})",
                    place(&rest[..valid_up_to]),
                    valid_up_to + 3
                ));
                Err("utf-8")
            }
        };
    }
    let utf16 = match bytes {
        [0xFF, 0xFE, ..] => Some((UTF_16LE, "utf-16le")),
        [0xFE, 0xFF, ..] => Some((UTF_16BE, "utf-16be")),
        _ if encoding == Encoding::Utf16 => Some((UTF_16LE, "utf-16le")),
        _ => None,
    };
    if let Some((enc, name)) = utf16 {
        let (text, had_errors) = enc.decode_with_bom_removal(bytes);
        if had_errors {
            let at = utf16_valid_start(bytes, enc == UTF_16BE);
            not_valid(format!("the file is not valid {name} at {}", place(&at)));
            return Err(name);
        }
        return Ok((text, name));
    }
    match encoding {
        Encoding::Windows1252 => Ok((
            WINDOWS_1252.decode_without_bom_handling(bytes).0,
            "windows-1252",
        )),
        Encoding::Utf8 | Encoding::Utf16 => match utf8(bytes) {
            Ok(s) => Ok((Cow::Borrowed(s), "utf-8")),
            Err(valid_up_to) => {
                not_valid(format!("the file is not valid UTF-8 at {} (byte {valid_up_to}); set csv.encoding if it is in another encoding", place(&bytes[..valid_up_to])));
                Err("utf-8")
            }
        },
        Encoding::Auto => match utf8(bytes) {
            Ok(s) => Ok((Cow::Borrowed(s), "utf-8")),
            Err(_) => {
                problems.push(
                    Problem::new(
                        None,
                        None,
                        Code::EncodingFallback,
                        "the file is not valid UTF-8; it was read as Windows-1252",
                    )
                    .with_value("windows-1252"),
                );
                Ok((
                    WINDOWS_1252.decode_without_bom_handling(bytes).0,
                    "windows-1252",
                ))
            }
        },
    }
}

/// Where the first byte that is not valid in a file's encoding is, from the valid bytes before
/// it: `line L, character C` (a CR, an LF or both end a line).
fn place(before: &[u8]) -> String {
    let before = String::from_utf8_lossy(before);
    let (mut line, mut character, mut cr) = (1, 1, false);
    for c in before.chars() {
        match c {
            '\n' if cr => {}
            '\n' | '\r' => (line, character) = (line + 1, 1),
            _ => character += 1,
        }
        cr = c == '\r';
    }
    format!("line {line}, character {character}")
}

/// The UTF-8 bytes of a UTF-16 file's valid start, before its first unpaired surrogate or odd
/// last byte (the byte-order mark left out).
fn utf16_valid_start(bytes: &[u8], big_endian: bool) -> Vec<u8> {
    let bom: &[u8] = if big_endian { b"\xFE\xFF" } else { b"\xFF\xFE" };
    let units = bytes
        .strip_prefix(bom)
        .unwrap_or(bytes)
        .chunks_exact(2)
        .map(|p| {
            let pair = [p[0], p[1]];
            if big_endian {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        });
    let text: String = char::decode_utf16(units).map_while(Result::ok).collect();
    text.into_bytes()
}

/// Decode a file's bytes to text with the reading rules of import files.
pub fn decode_text(bytes: &[u8], encoding: Encoding) -> Result<Cow<'_, str>, Problem> {
    let mut problems = Vec::new();
    match decode(bytes, encoding, &mut problems) {
        Ok((text, _)) => Ok(text),
        Err(_) => Err(problems
            .pop()
            .unwrap_or_else(|| file_problem(Code::NotCsv, "the file cannot be decoded"))),
    }
}

/// A lenient CSV reader over decoded text: the configured delimiter, else the one the header
/// uses; records may have any number of fields (the checks report wrong counts).
pub fn csv_reader(text: &str, delimiter: Option<u8>, has_headers: bool) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(has_headers)
        .flexible(true)
        .delimiter(delimiter.unwrap_or_else(|| detect_delimiter(text)))
        .from_reader(text.as_bytes())
}

/// Pick the delimiter that occurs most often in the header line, outside quotes.
pub fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = candidates.iter().position(|&c| c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let (best, count) =
        counts
            .iter()
            .enumerate()
            .fold((0, 0), |acc, (i, &n)| if n > acc.1 { (i, n) } else { acc });
    if count == 0 {
        b','
    } else {
        candidates[best]
    }
}

/// The data records are cut into spans of about this many bytes, read and checked in parallel.
const SPAN_BYTES: usize = 1 << 20;

/// Read and check a file on its own.
pub fn read(bytes: &[u8], opts: &ReadOptions) -> ImportFile {
    read_in_spans(bytes, opts, SPAN_BYTES, None)
}

/// [`read`], keeping every entry but of the records' problems only the first `keep` errors
/// and `keep` warnings (by line), the rest counted ([`ImportFile::keep`]), so that an import
/// of a file whose every line is wrong holds its records, not a problem each (SPEC §5);
/// [`each_problem`] tells them all again.
pub fn read_keeping(bytes: &[u8], opts: &ReadOptions, keep: usize) -> ImportFile {
    read_in_spans(bytes, opts, SPAN_BYTES, Some(keep))
}

/// Read a file in spans of about `span_bytes` (the tests cut them small).
fn read_in_spans(
    bytes: &[u8],
    opts: &ReadOptions,
    span_bytes: usize,
    keep: Option<usize>,
) -> ImportFile {
    let mut file = read_unsorted(bytes, opts, span_bytes, keep);
    file.limit_problems();
    file
}

/// Counts lines as the reader moves through the text. The CSV reader's own line count skips
/// blank lines, so the line of a record is found from its byte offset instead.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl LineCounter<'_> {
    /// The line on which the record whose bytes begin at `start` has its first character.
    fn line_at(&mut self, start: usize) -> u64 {
        let mut start = start.min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= self.offset {
            self.line += newlines(&self.text[self.offset..start]);
            self.offset = start;
        }
        self.line
    }
}

/// A line of nothing but spaces: one cell, empty once trimmed.
fn is_blank(cells: usize, first: &str) -> bool {
    cells == 1 && record::trim(first).is_empty()
}

/// The next record that is not blank (the header is the first).
fn next_record(
    reader: &mut csv::Reader<&[u8]>,
    record: &mut csv::StringRecord,
) -> csv::Result<bool> {
    loop {
        match reader.read_record(record) {
            Ok(true) if is_blank(record.len(), record.get(0).unwrap_or("")) => continue,
            other => return other,
        }
    }
}

/// Decode a file, find its delimiter and read its header into `file`: the text and the byte
/// at which its records start, or `None` when a file error (in `file.problems`) stops it.
fn open_text<'a>(
    bytes: &'a [u8],
    opts: &ReadOptions,
    file: &mut ImportFile,
) -> Option<(Cow<'a, str>, usize)> {
    if bytes.len() as u64 > opts.max_file_bytes {
        file.problems.push(file_problem(
            Code::TooLarge,
            format!(
                "the file has {} bytes; csv.max_file_bytes allows {}",
                bytes.len(),
                opts.max_file_bytes
            ),
        ));
        return None;
    }
    if bytes.len() > SPAN_BYTES {
        // Large files are read in parallel: load the phone metadata meanwhile.
        rayon::spawn(crate::core::phone::warm_up);
    }
    let decoded = decode(bytes, opts.encoding, &mut file.problems);
    file.encoding = decoded
        .as_ref()
        .map_or_else(|name| *name, |(_, name)| *name);
    let (text, _) = decoded.ok()?;
    if let Some(pos) = memchr::memchr(0, text.as_bytes()) {
        file.problems.push(file_problem(
            Code::NotCsv,
            format!("the file contains a NUL byte (character {pos}): it is not a CSV text file"),
        ));
        return None;
    }
    let delimiter = opts.delimiter.unwrap_or_else(|| detect_delimiter(&text));
    file.delimiter = delimiter;

    let mut reader = csv_reader(&text, Some(delimiter), false);
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter {
        text: text.as_bytes(),
        offset: 0,
        line: 1,
    };

    // The header: the first non-blank record.
    match next_record(&mut reader, &mut record) {
        Ok(true) => {}
        Ok(false) => {
            file.problems.push(file_problem(
                Code::EmptyFile,
                "the file is empty: it has no header and no records",
            ));
            return None;
        }
        Err(e) => {
            file.problems.push(file_problem(
                Code::NotCsv,
                format!("the header cannot be read as CSV: {e}"),
            ));
            return None;
        }
    }
    let header_line = lines.line_at(record.position().map_or(0, |p| p.byte() as usize));
    file.header_line = header_line;
    if !read_header(&record, header_line, &opts.mapping, file) {
        return None;
    }

    let data = reader.position().byte() as usize;
    Some((text, data))
}

fn read_unsorted(
    bytes: &[u8],
    opts: &ReadOptions,
    span_bytes: usize,
    keep: Option<usize>,
) -> ImportFile {
    let mut file = new_file(keep);
    let Some((text, data)) = open_text(bytes, opts, &mut file) else {
        return file;
    };
    let spans = data_spans(&text, data, span_bytes);
    let rooms = rooms(text.as_bytes(), &spans);
    read_text(file, &text, spans, &rooms, opts)
}

/// Read the data records of a decoded text, in `spans` (a part of `rooms` entries each).
fn read_text(
    mut file: ImportFile,
    text: &str,
    spans: Vec<Span>,
    rooms: &[usize],
    opts: &ReadOptions,
) -> ImportFile {
    // The file's one list of entries, made once at a size no reading exceeds (a record a
    // line), each span read into its own part of it: the entries are never in two lists at
    // once (issue 31: a first import's peak).
    file.entries.resize_with(rooms.iter().sum(), vacant);
    let (delimiter, keep) = (file.delimiter, file.keep);
    let read_spans = read_into(text, &spans, &mut file.entries, rooms, |span, part| {
        read_span(
            text,
            span,
            delimiter,
            &file.columns,
            &opts.rules,
            keep,
            part,
        )
    });
    finish(file, text, read_spans, opts)
}

/// An import file before its reading: nothing read, nothing found.
fn new_file(keep: Option<usize>) -> ImportFile {
    ImportFile {
        delimiter: b',',
        encoding: "utf-8",
        keep,
        ..ImportFile::default()
    }
}

/// The spans of about `span_bytes` that a decoded text's data records (from byte `data`) are
/// read in.
fn data_spans(text: &str, data: usize, span_bytes: usize) -> Vec<Span> {
    let line = 1 + newlines(&text.as_bytes()[..data]);
    spans(text.as_bytes(), data, line, span_bytes)
}

/// The file from its spans' readings (each with where its part of `file.entries` starts):
/// their problems, their entries brought together, and the duplicates marked. `text` is the
/// decoded text from its start, at least through every record whose Mail an invalid entry
/// left to read again ([`InvalidMails`]).
fn finish(
    mut file: ImportFile,
    text: &str,
    mut read_spans: Vec<(usize, SpanRead)>,
    opts: &ReadOptions,
) -> ImportFile {
    file.problems
        .reserve_exact(read_spans.iter().map(|(_, s)| s.problems.len()).sum());
    let mut unnamed_used = Vec::new();
    for (_, span) in &mut read_spans {
        unnamed_used.append(&mut span.unnamed_used);
        file.problems.append(&mut span.problems);
        file.dropped.merge(&span.dropped);
        if let Some(problem) = span.error.take() {
            file.problems.push(problem);
            file.entries = Vec::new();
            return file;
        }
    }
    let invalid_mails = InvalidMails {
        list: invalid_mails(&mut read_spans),
        text,
        delimiter: file.delimiter,
        columns: file.columns.clone(),
        rules: &opts.rules,
    };
    gather(&mut file.entries, read_spans);
    let header_line = file.header_line;
    unnamed_columns_used(&mut file, header_line, &unnamed_used);
    file.rows = file.entries.len();
    if file.rows == 0 {
        file.problems.push(file_problem(
            Code::EmptyFile,
            "the file has a header but no data records",
        ));
        return file;
    }
    mark_duplicates(&mut file, &invalid_mails);
    file
}

/// The spans' [`InvalidMail`]s, each indexed in the file's one list of entries (the spans'
/// entries in order, as [`gather`] puts them).
fn invalid_mails(reads: &mut [(usize, SpanRead)]) -> Vec<InvalidMail> {
    let mut all = Vec::with_capacity(reads.iter().map(|(_, r)| r.invalid_mails.len()).sum());
    let mut base = 0u32;
    for (_, r) in reads {
        let of_span = std::mem::take(&mut r.invalid_mails);
        all.extend(of_span.into_iter().map(|m| InvalidMail {
            index: base + m.index,
            ..m
        }));
        base += (r.placed + r.entries.len()) as u32;
    }
    all
}

/// What fills the room of an entry not read yet (it allocates nothing).
fn vacant() -> Entry {
    Entry::Invalid(record::Rejected::new(0, None, None, false))
}

/// The room for each span's entries: a record a line that can start one, a blank line left
/// out (SPEC §1: ignored; 4,000,000 of them under a header were room for as many entries, 214
/// MiB, where no record was read). Too little room is no error: a span's records past its
/// room go in a list of their own ([`read_span`]).
fn rooms(text: &[u8], spans: &[Span]) -> Vec<usize> {
    spans
        .par_iter()
        .map(|s| record_lines(&text[s.start..s.end]) + 1)
        .collect()
}

/// The lines after the first of `bytes` that are not blank (a record may start on them).
fn record_lines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes)
        .filter(|&at| !matches!(bytes.get(at + 1), None | Some(b'\n' | b'\r')))
        .count()
}

/// Read the spans in parallel, each into its part of `entries` (`rooms` long each, in
/// order), as [`in_spans`] does: a span whose start the cut guessed wrong is read again with
/// the spans after it, into a list of its own (`read` is given no part). Each reading comes
/// with where its part starts.
fn read_into(
    text: &str,
    spans: &[Span],
    entries: &mut [Entry],
    rooms: &[usize],
    read: impl Fn(&Span, &mut [Entry]) -> (SpanRead, SpanEnd) + Sync,
) -> Vec<(usize, SpanRead)> {
    let parts = parts(entries, rooms);
    let (reads, ends): (Vec<SpanRead>, Vec<SpanEnd>) = spans
        .par_iter()
        .zip(parts)
        .map(|(span, part)| read(span, part))
        .unzip();
    let settled = settle(text, spans, reads, &ends, &|span| read(span, &mut []));
    placed(settled, rooms)
}

/// `entries` cut into each span's part, `rooms` long each, in order.
fn parts<'e>(entries: &'e mut [Entry], rooms: &[usize]) -> Vec<&'e mut [Entry]> {
    let mut parts = Vec::with_capacity(rooms.len());
    let mut rest = entries;
    for &room in rooms {
        let (part, tail) = std::mem::take(&mut rest).split_at_mut(room);
        parts.push(part);
        rest = tail;
    }
    parts
}

/// Each settled reading (by the span it starts at) with where that span's part of the
/// entries starts.
fn placed(settled: Vec<(usize, SpanRead)>, rooms: &[usize]) -> Vec<(usize, SpanRead)> {
    let starts: Vec<usize> = rooms
        .iter()
        .scan(0, |at, room| {
            let start = *at;
            *at += room;
            Some(start)
        })
        .collect();
    settled.into_iter().map(|(k, r)| (starts[k], r)).collect()
}

/// Bring the spans' entries together at the front of `entries`, in order (each span's part
/// from where it starts, then those of its own list), and drop the rest of the room.
fn gather(entries: &mut Vec<Entry>, reads: Vec<(usize, SpanRead)>) {
    if reads.iter().all(|(_, r)| r.entries.is_empty()) {
        // Each entry moves towards the front, never past one not yet moved.
        let mut to = 0;
        for (start, r) in &reads {
            for i in 0..r.placed {
                entries.swap(to + i, start + i);
            }
            to += r.placed;
        }
        entries.truncate(to);
        return;
    }
    // A span read into a list of its own (lines that end in a lone `\r`, or a span read
    // again with the spans after it): the list is made anew, a rare file's cost.
    let total = reads.iter().map(|(_, r)| r.placed + r.entries.len()).sum();
    let mut all = Vec::with_capacity(total);
    for (start, r) in reads {
        let placed = &mut entries[start..start + r.placed];
        all.extend(placed.iter_mut().map(|e| std::mem::replace(e, vacant())));
        all.extend(r.entries);
    }
    *entries = all;
}

/// The hash of each entry's key (its UniqueID, or its Mail's), with the entry's index: made
/// once the spans' entries are in the file's one list and the spans' lists are freed, for one
/// key at a time, 8 bytes an entry (the first import's peak holds them beside the file's bytes
/// and records, issue 31). 32 bits are plenty: entries whose hashes meet are compared by key
/// ([`repeated`]), and a million keys make about a hundred such pairs.
fn key_hashes<'a>(
    entries: &'a [Entry],
    key: fn(&'a Entry) -> Option<Cow<'a, str>>,
) -> Vec<(u32, u32)> {
    // One pair an entry (an exact list, filled in place), then those without the key (hash
    // 0, which no key has) taken out in place.
    let mut hashed: Vec<(u32, u32)> = entries
        .par_iter()
        .enumerate()
        .map(|(i, e)| (key(e).map_or(0, |k| bucket(&k)), i as u32))
        .collect();
    hashed.retain(|&(h, _)| h != 0);
    hashed
}

/// A key's 32-bit hash, never 0 (0 stands for an entry without the key).
fn bucket(key: &str) -> u32 {
    ((hash(key) >> 32) as u32).max(1)
}

/// An invalid record whose Mail counts for duplicates ([`Checked::mail`]), which its entry
/// does not keep (issue 31: an entry is 56 bytes): its key's hash ([`bucket`]), kept from the
/// reading, and where the record starts, to read its Mail again when the hash meets another.
/// 16 bytes, for invalid records only.
struct InvalidMail {
    /// The byte of the text at which the record starts.
    at: u64,
    hash: u32,
    /// The entry's index: in its span's reading, then in the file's list ([`invalid_mails`]).
    index: u32,
}

/// A file's [`InvalidMail`]s, by index (sorted), and what reads their Mails again.
struct InvalidMails<'a> {
    list: Vec<InvalidMail>,
    text: &'a str,
    delimiter: u8,
    columns: Columns,
    rules: &'a Rules,
}

impl InvalidMails<'_> {
    /// The Mail of invalid entry `i`, as the file writes it, read again, when it counts.
    fn mail(&self, i: usize) -> Option<String> {
        let k = self
            .list
            .binary_search_by_key(&i, |m| m.index as usize)
            .ok()?;
        let at = usize::try_from(self.list[k].at).ok()?;
        let mut reader = csv_reader(self.text.get(at..)?, Some(self.delimiter), false);
        let mut record = csv::ByteRecord::new();
        if !reader.read_byte_record(&mut record).ok()? {
            return None;
        }
        let cells = CsvCells::new(&record)?;
        record::check_with(&cells, 0, &self.columns, self.rules, |checked, _| {
            checked.mail().map(str::to_string)
        })
    }
}

/// The Mail of entry `i` that counts for duplicates, as the file writes it: a valid entry's
/// (not a Skip record's), or an invalid one's read again.
fn mail_of<'e>(entries: &'e [Entry], i: usize, invalid: &InvalidMails<'_>) -> Option<Cow<'e, str>> {
    match &entries[i] {
        Entry::Valid(r) if !r.skip => Some(Cow::Borrowed(r.mail())),
        Entry::Valid(_) => None,
        Entry::Invalid(_) => invalid.mail(i).map(Cow::Owned),
    }
}

/// The cells of a CSV record, for the record checks: the record's bytes checked as UTF-8 once,
/// each cell a slice of that text.
struct CsvCells<'r> {
    text: &'r str,
    record: &'r csv::ByteRecord,
}

impl<'r> CsvCells<'r> {
    fn new(record: &'r csv::ByteRecord) -> Option<Self> {
        let text = simdutf8::basic::from_utf8(record.as_slice()).ok()?;
        Some(CsvCells { text, record })
    }

    fn position(&self) -> Option<&csv::Position> {
        self.record.position()
    }
}

impl record::Cells for CsvCells<'_> {
    fn count(&self) -> usize {
        self.record.len()
    }
    fn cell(&self, i: usize) -> Option<&str> {
        self.text.get(self.record.range(i)?)
    }
    /// The record's text, so that its checks scan it once rather than cell by cell.
    fn whole(&self) -> Option<&str> {
        Some(self.text)
    }
}

/// How the reading of a span ended.
struct SpanEnd {
    /// False when the span ended inside a quoted cell, so that the next span did not start at
    /// a record. (A quoted cell ending in a line break also says false: the safe side.)
    clean: bool,
    /// A CSV error stopped the reading: later spans do not count.
    failed: bool,
}

/// Spans read again together, at most, when a cut was guessed wrong ([`in_spans`]); past
/// that, the rest of the file is read in one piece.
const MERGED_SPANS: usize = 4;

/// Read the spans in parallel, and give what one sequential reading would. A span whose start
/// the cut guessed wrong (a stray quote in an unquoted cell before a quoted line break) is
/// found by the span before it, which ends inside a quoted cell: that one is read again with
/// the spans after it until the reading ends at a record. A CSV error ends the reading.
fn in_spans<T: Send>(
    text: &str,
    spans: &[Span],
    read: impl Fn(&Span) -> (T, SpanEnd) + Sync,
) -> Vec<T> {
    let (read_spans, ends): (Vec<T>, Vec<SpanEnd>) = spans.par_iter().map(&read).unzip();
    settle(text, spans, read_spans, &ends, &read)
        .into_iter()
        .map(|(_, r)| r)
        .collect()
}

/// What one sequential reading would give, from the spans read in parallel (`read_spans`,
/// how each ended in `ends`): each span that ended at a record as it was read, one that ended
/// inside a quoted cell read again with the spans after it ([`read_on`]), up to a CSV error.
/// Each reading comes with the span it starts at.
fn settle<T>(
    text: &str,
    spans: &[Span],
    read_spans: Vec<T>,
    ends: &[SpanEnd],
    read: &impl Fn(&Span) -> (T, SpanEnd),
) -> Vec<(usize, T)> {
    let mut read_spans: Vec<Option<T>> = read_spans.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(spans.len());
    let mut k = 0;
    while k < spans.len() {
        let end = &ends[k];
        let (span_read, failed, next) = if end.failed || end.clean || k + 1 == spans.len() {
            (read_spans[k].take(), end.failed, k + 1)
        } else {
            let (merged, failed, next) = read_on(text, spans, k, read);
            (Some(merged), failed, next)
        };
        out.extend(span_read.map(|r| (k, r)));
        if failed {
            break;
        }
        k = next;
    }
    out
}

/// Read span `k` again together with the spans after it, until the reading ends at a record
/// (or in an error), [`MERGED_SPANS`] at most, else through the end of the text: what it
/// gave, whether it failed, and the first span after it.
fn read_on<T>(
    text: &str,
    spans: &[Span],
    k: usize,
    read: &impl Fn(&Span) -> (T, SpanEnd),
) -> (T, bool, usize) {
    let mut j = k + 1;
    loop {
        let last = j + 1 >= spans.len() || j >= k + MERGED_SPANS;
        let span = Span {
            start: spans[k].start,
            end: if last { text.len() } else { spans[j].end },
            line: spans[k].line,
        };
        let (span_read, end) = read(&span);
        if last || end.clean || end.failed {
            return (
                span_read,
                end.failed,
                if last { spans.len() } else { j + 1 },
            );
        }
        j += 1;
    }
}

/// Count the data records of a file as the reading would (the first non-blank record is the
/// header; blank lines are not records), in parallel; `None` when it cannot be decoded or read.
pub fn count_records(bytes: &[u8], opts: &ReadOptions) -> Option<usize> {
    let text = decode_text(bytes, opts.encoding).ok()?;
    let delimiter = opts.delimiter.unwrap_or_else(|| detect_delimiter(&text));
    let mut reader = csv_reader(&text, Some(delimiter), false);
    next_record(&mut reader, &mut csv::StringRecord::new()).ok()?;
    let data = reader.position().byte() as usize;
    let spans = spans(text.as_bytes(), data, 1, SPAN_BYTES);
    let counts = in_spans(&text, &spans, |span| {
        let mut n = 0;
        let (end, error) = each_record(&text, span, delimiter, |_| n += 1);
        (error.is_none().then_some(n), end)
    });
    counts.into_iter().sum()
}

/// Every problem of a file that [`read_lean`] read, told again one at a time in the order
/// [`read`] gives them (by line; on a line, errors first), without holding them: the records
/// are read once more, in order, and checked again, and the duplicates the first reading
/// found are told at their lines. `known`: the Group IDs the file was checked against
/// ([`ImportFile::check_groups`]), if any. A file with a file error is told as it was kept.
pub fn each_problem(
    bytes: &[u8],
    opts: &ReadOptions,
    file: &ImportFile,
    known: Option<&std::collections::HashSet<String>>,
    tell: &mut dyn FnMut(&Problem) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let reread = file.keep.is_some() && !file.dropped.is_empty() && file.file_error().is_none();
    let text = if reread {
        decode(bytes, opts.encoding, &mut Vec::new())
            .ok()
            .map(|(text, _)| text)
    } else {
        None
    };
    match text {
        Some(text) => tell_again(&text, opts, file, known, tell),
        None => file.problems.iter().try_for_each(tell),
    }
}

/// Tell every problem of a file again (see [`each_problem`]) from its decoded text.
fn tell_again(
    text: &str,
    opts: &ReadOptions,
    file: &ImportFile,
    known: Option<&std::collections::HashSet<String>>,
    tell: &mut dyn FnMut(&Problem) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let Some(span) = data_span(text, file.delimiter) else {
        return file.problems.iter().try_for_each(&mut *tell);
    };
    let mut lines = LineCounter {
        text: text.as_bytes(),
        offset: span.start,
        line: span.line,
    };
    // The file's own problems, kept whole and sorted: told in their places among the records'
    // (and `mail-taken`, found against the store, never counted away).
    let mut own = file
        .problems
        .iter()
        .filter(|p| !file.of_a_record(p) || p.code == Code::MailTaken)
        .peekable();
    let mut again = Again {
        opts,
        file,
        known,
        ids: file.duplicate_ids.iter().peekable(),
        mails: file.duplicate_mails.iter().peekable(),
    };
    let mut failed = None;
    let mut index = 0u32;
    each_record(text, &span, file.delimiter, |cells| {
        let i = index;
        index += 1;
        if failed.is_some() {
            return;
        }
        let at = span.start + cells.position().map_or(0, |p| p.byte() as usize);
        let line = lines.line_at(at);
        let mut told = Ok(());
        while let Some(p) = own.next_if(|p| p.line.unwrap_or(0) < line) {
            told = told.and_then(|()| tell(p));
        }
        let on_line = std::iter::from_fn(|| own.next_if(|p| p.line == Some(line)).cloned());
        let here = again.problems(cells, line, i, on_line.collect());
        told = told.and_then(|()| here.iter().try_for_each(&mut *tell));
        failed = told.err();
    });
    if let Some(e) = failed {
        return Err(e);
    }
    own.try_for_each(tell)
}

/// The data records of a decoded text as one span, after its header; `None` when it has no
/// header to read.
fn data_span(text: &str, delimiter: u8) -> Option<Span> {
    let mut reader = csv_reader(text, Some(delimiter), false);
    if !matches!(
        next_record(&mut reader, &mut csv::StringRecord::new()),
        Ok(true)
    ) {
        return None;
    }
    let data = reader.position().byte() as usize;
    Some(Span {
        start: data,
        end: text.len(),
        line: 1 + newlines(&text.as_bytes()[..data]),
    })
}

/// What the problems of a record read again come from: the first reading (its duplicates, by
/// record index, sorted, met in order as the records are read again) and the checks.
struct Again<'a> {
    opts: &'a ReadOptions,
    file: &'a ImportFile,
    known: Option<&'a std::collections::HashSet<String>>,
    ids: std::iter::Peekable<std::slice::Iter<'a, u32>>,
    mails: std::iter::Peekable<std::slice::Iter<'a, u32>>,
}

impl Again<'_> {
    /// The problems of record `i` (on `line`), as the whole reading gives them: its checks,
    /// its duplicates, the file's own problems on its line (`own`), its unknown groups; errors
    /// first.
    fn problems(
        &mut self,
        cells: &CsvCells<'_>,
        line: u64,
        i: u32,
        own: Vec<Problem>,
    ) -> Vec<Problem> {
        let columns = &self.file.columns;
        let duplicate_id = self.ids.next_if(|&&d| d == i).is_some();
        let duplicate_mail = self.mails.next_if(|&&d| d == i).is_some();
        let (entry, mut here, mail) = record::check_with(
            cells,
            line,
            columns,
            &self.opts.rules,
            |checked, problems| {
                let mail = duplicate_mail.then(|| checked.mail().map(str::to_string));
                (checked.into_entry(line), problems, mail.flatten())
            },
        );
        if let (true, Some(uid)) = (duplicate_id, entry.unique_id()) {
            here.push(duplicate_id_problem(
                line,
                columns.name(Field::UniqueId),
                uid,
            ));
        }
        if let Some(mail) = mail {
            here.push(duplicate_mail_problem(
                line,
                columns.name(Field::Mail),
                &mail,
            ));
        }
        here.extend(own);
        if let (Some(known), Entry::Valid(r), false) =
            (self.known, &entry, duplicate_id || duplicate_mail)
        {
            let column = columns.name(Field::Groups);
            for g in r.groups().filter(|g| !known.contains(*g)) {
                here.push(crate::core::file::unknown_group(line, column, g));
            }
        }
        here.sort_by_key(|p| !p.is_error());
        here
    }
}

/// Why the reading of a span stopped before its end.
struct ReadError {
    /// Where in the span, when known.
    byte: Option<u64>,
    message: String,
}

impl From<csv::Error> for ReadError {
    fn from(e: csv::Error) -> Self {
        ReadError {
            byte: e.position().map(|p| p.byte()),
            message: e.to_string(),
        }
    }
}

/// Note, once each, the first line on which a record fills a column under an empty header
/// (`unnamed`): such a column is an `unknown-column` warning only when a record uses it.
fn note_unnamed(
    unnamed: &[usize],
    seen: &mut [bool],
    cells: &CsvCells<'_>,
    line: u64,
    used: &mut Vec<(usize, u64)>,
) {
    for (k, &i) in unnamed.iter().enumerate() {
        if !seen[k] && record::Cells::cell(cells, i).is_some_and(|c| !record::trim(c).is_empty()) {
            seen[k] = true;
            used.push((i, line));
        }
    }
}

/// Read the non-blank records of a span, in order, and say how the span ended; a CSV error
/// stops the reading and is given back. Records are read as bytes and each is checked as
/// UTF-8 once, with SIMD ([`CsvCells`]).
fn each_record(
    text: &str,
    span: &Span,
    delimiter: u8,
    mut each: impl FnMut(&CsvCells<'_>),
) -> (SpanEnd, Option<ReadError>) {
    let mut reader = csv_reader(&text[span.start..span.end], Some(delimiter), false);
    let mut record = csv::ByteRecord::new();
    let mut end = SpanEnd {
        clean: true,
        failed: false,
    };
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                end.clean = !record
                    .iter()
                    .next_back()
                    .is_some_and(|c| c.ends_with(b"\n"));
                let Some(cells) = CsvCells::new(&record) else {
                    // The text is UTF-8 as a whole, and a record only loses quotes from it.
                    end.failed = true;
                    let byte = record.position().map(|p| p.byte());
                    let message = "a record is not valid UTF-8".to_string();
                    return (end, Some(ReadError { byte, message }));
                };
                if !is_blank(cells.record.len(), cells.text) {
                    each(&cells);
                }
            }
            Ok(false) => return (end, None),
            Err(e) => {
                end.failed = true;
                return (end, Some(e.into()));
            }
        }
    }
}

/// What reading one span gave.
#[derive(Default)]
struct SpanRead {
    /// The entries read into the span's part of the file's list ([`read_into`]).
    placed: usize,
    /// The entries past the part's room, in order after them (all of them without a part).
    entries: Vec<Entry>,
    problems: Vec<Problem>,
    /// Columns without a header name that have a value: (column, first line in the span).
    unnamed_used: Vec<(usize, u64)>,
    /// The CSV error that stopped the reading.
    error: Option<Problem>,
    /// With `keep`: the problems past the span's first `keep` errors and warnings, counted.
    /// (The file's first `keep` are among the spans' first `keep`.)
    dropped: Tally,
    /// The invalid records whose Mail counts for duplicates, by index in this reading.
    invalid_mails: Vec<InvalidMail>,
}

fn read_span(
    text: &str,
    span: &Span,
    delimiter: u8,
    columns: &record::Columns,
    rules: &Rules,
    keep: Option<usize>,
    part: &mut [Entry],
) -> (SpanRead, SpanEnd) {
    let (mut errors, mut warnings) = (0, 0);
    let mut lines = LineCounter {
        text: text.as_bytes(),
        offset: span.start,
        line: span.line,
    };
    let mut out = SpanRead::default();
    if part.is_empty() {
        // A record a line at most: the entries' list is made once, at its size.
        let lines_in_span = newlines(&text.as_bytes()[span.start..span.end]) as usize + 1;
        out.entries.reserve_exact(lines_in_span);
    }
    let mut unnamed_seen = vec![false; columns.unnamed.len()];
    let (end, error) = each_record(text, span, delimiter, |cells| {
        // The reader counts the lines: no second pass over the record's bytes.
        let line = split::record_line(text.as_bytes(), span, cells.position());
        note_unnamed(
            &columns.unnamed,
            &mut unnamed_seen,
            cells,
            line,
            &mut out.unnamed_used,
        );
        let (entry, problems, mail) =
            record::check_with(cells, line, columns, rules, |checked, problems| {
                let mail = match &checked {
                    Checked::Invalid(_, Some(m)) => Some(bucket(&crate::core::mail::key(m))),
                    _ => None,
                };
                (checked.into_entry(line), problems, mail)
            });
        if let Some(hash) = mail {
            let at = span.start + cells.position().map_or(0, |p| p.byte() as usize);
            out.invalid_mails.push(InvalidMail {
                at: at as u64,
                hash,
                index: (out.placed + out.entries.len()) as u32,
            });
        }
        match part.get_mut(out.placed) {
            Some(room) if out.entries.is_empty() => {
                *room = entry;
                out.placed += 1;
            }
            _ => out.entries.push(entry),
        }
        for p in problems {
            let kept = if p.is_error() {
                &mut errors
            } else {
                &mut warnings
            };
            if keep.is_some_and(|n| *kept >= n) {
                out.dropped.count(&p);
            } else {
                *kept += 1;
                out.problems.push(p);
            }
        }
    });
    out.error = error.map(|e| {
        let line = e.byte.map(|b| lines.line_at(span.start + b as usize));
        Problem::new(
            line,
            None,
            Code::NotCsv,
            format!("the file cannot be read as CSV: {}", e.message),
        )
    });
    (out, end)
}

/// Unknown columns named one by one in the problems; more are counted in one more warning, so
/// that a header of a million columns does not make a million problems.
const UNKNOWN_COLUMNS_NAMED: usize = 100;

/// True when two header names are the same column (compared case-insensitively).
fn same_name(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// Map the header to columns (through `[columns]`); false when a file error stops the reading.
fn read_header(
    record: &csv::StringRecord,
    line: u64,
    mapping: &Mapping,
    file: &mut ImportFile,
) -> bool {
    let duplicates = repeated_names(record);
    let is_duplicate = |i: usize| duplicates.binary_search(&i).is_ok();
    let written = header_names(record, line, &is_duplicate, file);
    let mut used = vec![false; record.len()];
    let missing = map_fields(&written, line, mapping, &mut used, file);
    unknown_columns(
        &written,
        line,
        mapping,
        &|i| used[i] || is_duplicate(i),
        file,
    );
    let ok = duplicates.is_empty() && missing.is_empty();
    file.problems.extend(missing);
    required_columns(record.len(), line, mapping, file) && ok
}

/// The header's names as written (trimmed, without a byte-order mark), noting the columns
/// without a name and a `duplicate-column` error for each name an earlier column has.
fn header_names<'r>(
    record: &'r csv::StringRecord,
    line: u64,
    is_duplicate: &dyn Fn(usize) -> bool,
    file: &mut ImportFile,
) -> Vec<&'r str> {
    let mut written: Vec<&str> = Vec::with_capacity(record.len());
    file.columns.width = record.len();
    for (i, raw) in record.iter().enumerate() {
        let name = record::trim(raw.trim_start_matches('\u{feff}'));
        written.push(name);
        if name.is_empty() {
            // Spreadsheets end a header in empty cells: ignored unless a record fills them.
            file.columns.unnamed.push(i);
        } else if is_duplicate(i) {
            let shown = record::quoted(name);
            file.problems.push(Problem::new(
                Some(line),
                Some(&shown),
                Code::DuplicateColumn,
                format!("the column `{shown}` appears more than once in the header"),
            ));
        }
    }
    written
}

/// Find each roster field's column (its own name, or where `[columns]` reads it from), marking
/// the columns read in `used`; the `missing-column` errors of `[columns]` headers not found.
fn map_fields(
    written: &[&str],
    line: u64,
    mapping: &Mapping,
    used: &mut [bool],
    file: &mut ImportFile,
) -> Vec<Problem> {
    // The first column of that name (a few lookups, each a scan: no map of a wide header).
    let find = |header: &str| {
        let header = record::trim(header);
        written
            .iter()
            .position(|n| !n.is_empty() && same_name(n, header))
    };
    let mut missing: Vec<Problem> = Vec::new();
    for field in record::FIELDS {
        let Some(source) = mapping.source(field) else {
            if let Some(i) = find(field.column()) {
                file.columns.position[field as usize] = Some(i);
                used[i] = true;
            }
            continue;
        };
        let mut found = Vec::new();
        for header in source.headers() {
            match find(header) {
                Some(i) => found.push(i),
                None => missing.push(Problem::new(
                    Some(line),
                    Some(header),
                    Code::MissingColumn,
                    format!(
                        "the column `{header}`, which [columns] reads {} from, is missing",
                        field.column()
                    ),
                )),
            }
        }
        for &i in &found {
            used[i] = true;
        }
        if found.len() == source.headers().len() {
            map_source(field, source, &found, written, file);
        }
    }
    missing
}

/// Record where `[columns]` reads `field` from, all its headers `found` in the header.
fn map_source(
    field: Field,
    source: &mapping::Source,
    found: &[usize],
    written: &[&str],
    file: &mut ImportFile,
) {
    use mapping::{Piece, Source};
    let names: Vec<&str> = found.iter().map(|&i| written[i]).collect();
    file.columns.names[field as usize] = Some(names.join("+").into());
    match source {
        Source::Header(_) => file.columns.position[field as usize] = Some(found[0]),
        Source::Template(pieces) => {
            let mut cells = found.iter();
            let parts = pieces
                .iter()
                .filter_map(|p| match p {
                    Piece::Text(t) => Some(record::Part::Text(t.as_str().into())),
                    Piece::Header(_) => cells.next().map(|&i| record::Part::Cell(i)),
                })
                .collect();
            file.columns.templates.push((field, parts));
        }
    }
}

/// An `unknown-column` warning for each named column that is neither read (`taken`) nor
/// ignored by `[columns]`: the first [`UNKNOWN_COLUMNS_NAMED`] by name, the rest in one.
fn unknown_columns(
    written: &[&str],
    line: u64,
    mapping: &Mapping,
    taken: &dyn Fn(usize) -> bool,
    file: &mut ImportFile,
) {
    let mut unknown = 0usize;
    for (i, name) in written.iter().enumerate() {
        let ignored = mapping.ignore.iter().any(|h| same_name(name, h));
        if taken(i) || name.is_empty() || ignored {
            continue;
        }
        unknown += 1;
        if unknown <= UNKNOWN_COLUMNS_NAMED {
            let shown = record::quoted(name);
            file.problems.push(
                Problem::new(
                    Some(line),
                    Some(&shown),
                    Code::UnknownColumn,
                    format!("the column `{shown}` is not known and is ignored"),
                )
                .with_value(shown.as_ref()),
            );
        }
    }
    if unknown > UNKNOWN_COLUMNS_NAMED {
        file.problems.push(Problem::new(
            Some(line),
            None,
            Code::UnknownColumn,
            format!(
                "{} more columns are not known and are ignored ({unknown} in all)",
                unknown - UNKNOWN_COLUMNS_NAMED
            ),
        ));
    }
}

/// A `missing-column` error for each required column the header lacks (and `[columns]` does
/// not read from elsewhere); false when there is one.
fn required_columns(width: usize, line: u64, mapping: &Mapping, file: &mut ImportFile) -> bool {
    let mut ok = true;
    for field in [Field::UniqueId, Field::Name, Field::Mail] {
        if mapping.source(field).is_none() && !file.columns.has(field) {
            let hint = if width == 1 {
                " (is the delimiter right? set csv.delimiter if it is not one of , ; tab |)"
            } else {
                ""
            };
            file.problems.push(Problem::new(
                Some(line),
                Some(field.column()),
                Code::MissingColumn,
                format!("the required column `{}` is missing{hint}", field.column()),
            ));
            ok = false;
        }
    }
    ok
}

/// The header cells whose name (compared case-insensitively) an earlier cell has, sorted.
/// Found from sorted hashes rather than a map of names, so that a header of a million
/// columns costs a few bytes a column.
fn repeated_names(record: &csv::StringRecord) -> Vec<usize> {
    let key = |raw: &str| record::trim(raw.trim_start_matches('\u{feff}')).to_lowercase();
    let mut hashed: Vec<(u64, u32)> = record
        .iter()
        .enumerate()
        .filter(|(_, raw)| !record::trim(raw.trim_start_matches('\u{feff}')).is_empty())
        .map(|(i, raw)| (hash(&key(raw)), i as u32))
        .collect();
    hashed.sort_unstable();
    let mut repeated = Vec::new();
    for run in hashed.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        let names: Vec<(u32, String)> = run
            .iter()
            .map(|&(_, i)| (i, key(record.get(i as usize).unwrap_or(""))))
            .collect();
        for (i, name) in &names {
            if names.iter().any(|(j, other)| j < i && other == name) {
                repeated.push(*i as usize);
            }
        }
    }
    repeated.sort_unstable();
    repeated
}

/// An `unknown-column` warning for each column without a name in the header that some record
/// has a value in (`used`: the column's index and the first line with a value).
fn unnamed_columns_used(file: &mut ImportFile, header_line: u64, used: &[(usize, u64)]) {
    let mut first = used.to_vec();
    // Sorted by column, then line: the first of each column is its first line.
    first.sort_unstable();
    first.dedup_by_key(|(col, _)| *col);
    let total = first.len();
    for (n, (col, line)) in first.into_iter().enumerate() {
        if n == UNKNOWN_COLUMNS_NAMED {
            file.problems.push(Problem::new(
                Some(header_line),
                None,
                Code::UnknownColumn,
                format!(
                    "{} more columns without a name have values and are ignored",
                    total - UNKNOWN_COLUMNS_NAMED
                ),
            ));
            break;
        }
        file.problems.push(Problem::new(
            Some(header_line),
            None,
            Code::UnknownColumn,
            format!(
                "column {} has no name in the header but has values (first on line {line}); it is ignored",
                col + 1
            ),
        ));
    }
}

fn id_key(entry: &Entry) -> Option<Cow<'_, str>> {
    entry.unique_id().map(Cow::Borrowed)
}

fn mail_key(entry: &Entry) -> Option<Cow<'_, str>> {
    match entry {
        Entry::Valid(r) if !r.skip => Some(crate::core::mail::key(r.mail())),
        _ => None,
    }
}

fn hash(key: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key.as_bytes())
}

/// Every occurrence of a UniqueID or a Mail (case-insensitive) that appears twice is an error,
/// whether or not the record has other errors (an invalid record's Mail is in `invalid`),
/// but on a record of the wrong field count, which gets only that code (SPEC §1): its
/// UniqueID counts for the others' all the same.
/// The keys are hashed one after the other (each sorted on both cores), so that one list of
/// hashes is held at a time.
fn mark_duplicates(file: &mut ImportFile, invalid: &InvalidMails<'_>) {
    let entries = &file.entries;
    let mut ids = repeated(entries, key_hashes(entries, id_key), |i| {
        id_key(&entries[i])
    });
    for (i, entry) in entries.iter().enumerate() {
        ids[i] &= !entry.wrong_field_count();
    }
    let mut mail_hashes = key_hashes(entries, mail_key);
    mail_hashes.extend(invalid.list.iter().map(|m| (m.hash, m.index)));
    // Only the entries whose hashes meet are keyed: a copy each is no cost.
    let mails = repeated(entries, mail_hashes, |i| {
        let mail = mail_of(entries, i, invalid)?;
        Some(Cow::Owned(crate::core::mail::key(&mail).into_owned()))
    });
    if file.keep.is_some() {
        // Told again by `each_problem` from these.
        let marked = |m: &[bool]| (0..m.len() as u32).filter(|&i| m[i as usize]).collect();
        file.duplicate_ids = marked(&ids);
        file.duplicate_mails = marked(&mails);
    }
    // One record's problems at a time; with `keep`, those held are compacted as they grow, so
    // that a file of one repeated UniqueID holds `keep` of them, not one a line.
    let held = file.problems.len();
    for i in (0..file.entries.len()).filter(|&i| ids[i] || mails[i]) {
        let entry = &file.entries[i];
        let id = match (ids[i], entry.unique_id()) {
            (true, Some(uid)) => Some(duplicate_id_problem(
                entry.line(),
                file.columns.name(Field::UniqueId),
                uid,
            )),
            _ => None,
        };
        let mail = mails[i].then(|| {
            let mail = mail_of(&file.entries, i, invalid)?;
            let column = file.columns.name(Field::Mail);
            Some(duplicate_mail_problem(entry.line(), column, &mail))
        });
        invalidate(&mut file.entries, i);
        file.problems.extend(id.into_iter().chain(mail.flatten()));
        if file
            .keep
            .is_some_and(|n| file.problems.len() > held + 2 * n + 1024)
        {
            file.limit_problems();
        }
    }
    free_large(ids);
    free_large(mails);
}

/// Mark an entry invalid (a duplicate), keeping its UniqueID and name.
fn invalidate(entries: &mut [Entry], i: usize) {
    if let Entry::Valid(r) = &entries[i] {
        entries[i] = Entry::Invalid(record::Rejected::new(
            r.line,
            Some(r.unique_id()),
            Some(r.name()),
            false,
        ));
    }
}

/// The `duplicate-id` error of a record whose UniqueID another record has too.
fn duplicate_id_problem(line: u64, column: &str, uid: &str) -> Problem {
    Problem::new(
        Some(line),
        Some(column),
        Code::DuplicateId,
        format!("the UniqueID `{uid}` appears more than once in the file"),
    )
}

/// The `duplicate-mail` error of a record whose Mail another record has too.
fn duplicate_mail_problem(line: u64, column: &str, mail: &str) -> Problem {
    Problem::new(
        Some(line),
        Some(column),
        Code::DuplicateMail,
        format!("the mail `{mail}` appears more than once in the file"),
    )
}

/// For each entry, whether its key (`key` of its index) is also another entry's key. The
/// hashes are sorted; only entries whose hashes meet are compared.
fn repeated<'a>(
    entries: &'a [Entry],
    mut hashed: Vec<(u32, u32)>,
    key: impl Fn(usize) -> Option<Cow<'a, str>>,
) -> Vec<bool> {
    hashed.par_sort_unstable_by_key(|&(hash, _)| hash);
    let mut marked = vec![false; entries.len()];
    for run in hashed
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
    {
        // How many entries of the run have each key: a run is nearly always one key (a file
        // of one UniqueID on every line is one run of them all), so the keys are counted,
        // each once, not held an entry each (SPEC §5), and each entry's is made again.
        let mut counted: HashMap<Cow<'a, str>, u32, foldhash::fast::RandomState> =
            HashMap::default();
        for &(_, i) in run {
            if let Some(k) = key(i as usize) {
                *counted.entry(k).or_default() += 1;
            }
        }
        for &(_, i) in run {
            if let Some(k) = key(i as usize) {
                marked[i as usize] = counted.get(&k).is_some_and(|&n| n > 1);
            }
        }
    }
    free_large(hashed);
    marked
}

/// Free a large list shrunk to one element first. glibc's malloc gives a large block a
/// mapping of its own, and raises the size from which it does so to that of a mapped block
/// freed whole under 32 MiB: freeing a list of 8 MiB would keep every later buffer under 8
/// MiB in the heap, where freeing it gives nothing back (issue 31: 8 MiB more at a first
/// import's peak, the plan's and SQLite's). Shrinking a mapped block remaps it in place.
fn free_large<T>(mut list: Vec<T>) {
    list.clear();
    list.shrink_to(1);
}

pub mod give_back;
pub mod groups;
pub mod lean;
pub use give_back::{read_giving_back, Cut, Gate, Given};
pub use lean::read_lean;

#[cfg(test)]
mod tests;

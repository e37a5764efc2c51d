//! Reading an import file: bytes → text (encoding) → records (delimiter, header) → checked entries.
//!
//! Reading never fails: whatever is wrong with the file becomes a [`Problem`], so that
//! `validate` can report everything at once and `apply` can decide what to do.

use crate::core::file::sort_problems;
pub use crate::core::file::ImportFile;
use crate::core::problem::{Code, Problem};
use crate::core::record::{self, Entry, Field, Rules};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;

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
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            delimiter: None,
            encoding: Encoding::Auto,
            max_file_bytes: 1 << 30,
            rules: Rules::default(),
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

/// Decode the bytes to text, and name the encoding used.
fn decode<'a>(
    bytes: &'a [u8],
    encoding: Encoding,
    problems: &mut Vec<Problem>,
) -> Option<(Cow<'a, str>, &'static str)> {
    use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(rest) {
            Ok(s) => Some((Cow::Borrowed(s), "utf-8")),
            Err(e) => {
                problems.push(file_problem(
                    Code::NotCsv,
                    format!(
                        "the file starts with a UTF-8 byte-order mark but is not UTF-8 (byte {})",
                        e.valid_up_to() + 3
                    ),
                ));
                None
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
            problems.push(file_problem(
                Code::NotCsv,
                format!("the file is not valid {name}"),
            ));
            return None;
        }
        return Some((text, name));
    }
    match encoding {
        Encoding::Windows1252 => Some((
            WINDOWS_1252.decode_without_bom_handling(bytes).0,
            "windows-1252",
        )),
        Encoding::Utf8 | Encoding::Utf16 => match std::str::from_utf8(bytes) {
            Ok(s) => Some((Cow::Borrowed(s), "utf-8")),
            Err(e) => {
                problems.push(file_problem(
                    Code::NotCsv,
                    format!("the file is not valid UTF-8 (byte {}); set csv.encoding if it is in another encoding", e.valid_up_to()),
                ));
                None
            }
        },
        Encoding::Auto => match std::str::from_utf8(bytes) {
            Ok(s) => Some((Cow::Borrowed(s), "utf-8")),
            Err(_) => {
                problems.push(Problem::new(
                    None,
                    None,
                    Code::EncodingFallback,
                    "the file is not valid UTF-8; it was read as Windows-1252",
                ));
                Some((
                    WINDOWS_1252.decode_without_bom_handling(bytes).0,
                    "windows-1252",
                ))
            }
        },
    }
}

/// Decode a file's bytes to text with the reading rules of import files.
pub fn decode_text(bytes: &[u8], encoding: Encoding) -> Result<Cow<'_, str>, Problem> {
    let mut problems = Vec::new();
    match decode(bytes, encoding, &mut problems) {
        Some((text, _)) => Ok(text),
        None => Err(problems
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

/// Records are checked in parallel in chunks of this many, so that memory stays near the
/// size of the file rather than growing with a copy of every raw record.
const CHUNK: usize = 8192;

/// Read and check a file on its own.
pub fn read(bytes: &[u8], opts: &ReadOptions) -> ImportFile {
    let mut file = read_unsorted(bytes, opts);
    sort_problems(&mut file.problems);
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
            self.line += self.text[self.offset..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.offset = start;
        }
        self.line
    }
}

fn is_blank(record: &csv::StringRecord) -> bool {
    record.len() == 1 && record::trim(&record[0]).is_empty()
}

fn read_unsorted(bytes: &[u8], opts: &ReadOptions) -> ImportFile {
    let mut file = ImportFile {
        delimiter: b',',
        encoding: "utf-8",
        ..ImportFile::default()
    };
    if bytes.len() as u64 > opts.max_file_bytes {
        file.problems.push(file_problem(
            Code::TooLarge,
            format!(
                "the file has {} bytes; csv.max_file_bytes allows {}",
                bytes.len(),
                opts.max_file_bytes
            ),
        ));
        return file;
    }
    let Some((text, encoding)) = decode(bytes, opts.encoding, &mut file.problems) else {
        return file;
    };
    file.encoding = encoding;
    if let Some(pos) = text.find('\0') {
        file.problems.push(file_problem(
            Code::NotCsv,
            format!("the file contains a NUL byte (character {pos}): it is not a CSV text file"),
        ));
        return file;
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
    let next = |reader: &mut csv::Reader<&[u8]>, record: &mut csv::StringRecord| loop {
        match reader.read_record(record) {
            Ok(true) if is_blank(record) => continue,
            other => break other,
        }
    };
    match next(&mut reader, &mut record) {
        Ok(true) => {}
        Ok(false) => {
            file.problems.push(file_problem(
                Code::EmptyFile,
                "the file is empty: it has no header and no records",
            ));
            return file;
        }
        Err(e) => {
            file.problems.push(file_problem(
                Code::NotCsv,
                format!("the header cannot be read as CSV: {e}"),
            ));
            return file;
        }
    }
    let header_line = lines.line_at(record.position().map_or(0, |p| p.byte() as usize));
    if !read_header(&record, header_line, &mut file) {
        return file;
    }

    let columns = file.columns.clone();
    // One thread reads records while the pool checks the chunk before: reading is sequential,
    // checking is not.
    type Chunk = Vec<(u64, csv::StringRecord)>;
    let (send, receive) = std::sync::mpsc::sync_channel::<Result<Chunk, Problem>>(2);
    let failure = std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut chunk: Chunk = Vec::with_capacity(CHUNK);
            loop {
                match next(&mut reader, &mut record) {
                    Ok(true) => {
                        let line =
                            lines.line_at(record.position().map_or(0, |p| p.byte() as usize));
                        chunk.push((line, std::mem::take(&mut record)));
                        if chunk.len() == CHUNK
                            && send.send(Ok(std::mem::take(&mut chunk))).is_err()
                        {
                            return;
                        }
                    }
                    Ok(false) => {
                        if !chunk.is_empty() {
                            let _ = send.send(Ok(chunk));
                        }
                        return;
                    }
                    Err(e) => {
                        let line = e.position().map(|p| lines.line_at(p.byte() as usize));
                        let problem = Problem::new(
                            line,
                            None,
                            Code::NotCsv,
                            format!("the file cannot be read as CSV: {e}"),
                        );
                        let _ = send.send(Err(problem));
                        return;
                    }
                }
            }
        });
        for chunk in receive {
            let chunk = match chunk {
                Ok(c) => c,
                Err(problem) => return Some(problem),
            };
            let checked: Vec<(Entry, Vec<Problem>)> = chunk
                .par_iter()
                .map(|(line, rec)| {
                    let cells: Vec<&str> = rec.iter().collect();
                    record::check(&cells, *line, &columns, &opts.rules)
                })
                .collect();
            for (entry, problems) in checked {
                file.entries.push(entry);
                file.problems.extend(problems);
            }
        }
        None
    });
    if let Some(problem) = failure {
        file.problems.push(problem);
        file.entries.clear();
        return file;
    }
    file.rows = file.entries.len();
    if file.rows == 0 {
        file.problems.push(file_problem(
            Code::EmptyFile,
            "the file has a header but no data records",
        ));
        return file;
    }
    mark_duplicates(&mut file);
    file
}

/// Map the header to columns; false when a file error stops the reading.
fn read_header(record: &csv::StringRecord, line: u64, file: &mut ImportFile) -> bool {
    let mut ok = true;
    let mut seen: HashMap<String, usize> = HashMap::new();
    file.columns.width = record.len();
    for (i, raw) in record.iter().enumerate() {
        let name = record::trim(raw.trim_start_matches('\u{feff}'));
        let key = name.to_lowercase();
        if seen.insert(key, i).is_some() {
            file.problems.push(Problem::new(
                Some(line),
                Some(name),
                Code::DuplicateColumn,
                format!("the column `{name}` appears more than once in the header"),
            ));
            ok = false;
            continue;
        }
        match Field::from_header(name) {
            Some(field) => file.columns.position[field as usize] = Some(i),
            None => file.problems.push(Problem::new(
                Some(line),
                Some(name),
                Code::UnknownColumn,
                format!("the column `{name}` is not known and is ignored"),
            )),
        }
    }
    for field in [Field::UniqueId, Field::Name, Field::Mail] {
        if !file.columns.has(field) {
            let hint = if record.len() == 1 {
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

/// Every occurrence of a UniqueID or a Mail (case-insensitive) that appears twice is an error.
fn mark_duplicates(file: &mut ImportFile) {
    let mut ids: HashMap<&str, u32> = HashMap::with_capacity(file.entries.len());
    let mut mails: HashMap<Cow<'_, str>, u32> = HashMap::with_capacity(file.entries.len());
    for entry in &file.entries {
        if let Some(uid) = entry.unique_id() {
            *ids.entry(uid).or_default() += 1;
        }
        if let Entry::Valid(r) = entry {
            if !r.skip {
                *mails.entry(crate::core::mail::key(r.mail())).or_default() += 1;
            }
        }
    }
    let mut marks: Vec<(usize, Problem)> = Vec::new();
    for (i, entry) in file.entries.iter().enumerate() {
        if let Some(uid) = entry.unique_id() {
            if ids.get(uid).copied().unwrap_or(0) > 1 {
                marks.push((
                    i,
                    Problem::new(
                        Some(entry.line()),
                        Some(Field::UniqueId.column()),
                        Code::DuplicateId,
                        format!("the UniqueID `{uid}` appears more than once in the file"),
                    ),
                ));
            }
        }
        if let Entry::Valid(r) = entry {
            if !r.skip
                && mails
                    .get(&crate::core::mail::key(r.mail()))
                    .copied()
                    .unwrap_or(0)
                    > 1
            {
                marks.push((
                    i,
                    Problem::new(
                        Some(r.line),
                        Some(Field::Mail.column()),
                        Code::DuplicateMail,
                        format!("the mail `{}` appears more than once in the file", r.mail()),
                    ),
                ));
            }
        }
    }
    drop(ids);
    drop(mails);
    for (i, problem) in marks {
        if let Entry::Valid(r) = &file.entries[i] {
            file.entries[i] = Entry::Invalid {
                line: r.line,
                unique_id: Some(r.unique_id().to_owned()),
            };
        }
        file.problems.push(problem);
    }
}

#[cfg(test)]
mod tests;

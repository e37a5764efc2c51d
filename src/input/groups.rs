//! The group file of `groups import` and `validate --groups-file`: a `GroupID` column and an
//! optional `Name` column.

use super::Encoding;
use crate::core::problem::Code;
use crate::core::record::{chars_over, trim, unnameable_group_id};

/// Why a group file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupFileError {
    /// The file cannot be read as a group file (not CSV, no GroupID column, no groups).
    Unreadable(String),
    /// A Group ID no import file could name: refused (SPEC §3).
    Refused(String),
}

impl std::fmt::Display for GroupFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupFileError::Unreadable(m) | GroupFileError::Refused(m) => f.write_str(m),
        }
    }
}

/// Read a group file: a `GroupID` column and an optional `Name` column. The file's own
/// encoding is detected (`Encoding::Auto`: a BOM, else UTF-8, else Windows-1252) unless named;
/// `csv.encoding` is for import files. So is `csv.delimiter`: it is used when the header read
/// with it names a `GroupID` column, else the header's own delimiter is (a group file may come
/// from another system than the import files). Cells are trimmed as an import file's are; a Group ID
/// that no import file could name (with `separator`, `csv.group_separator`) is refused, and so
/// is a Group ID or a name longer than `max_chars` (`csv.max_cell_chars`: never stored).
pub fn read(
    bytes: &[u8],
    encoding: Encoding,
    delimiter: Option<u8>,
    (separator, max_chars): (&str, usize),
) -> Result<Vec<(String, Option<String>)>, GroupFileError> {
    use GroupFileError::{Refused, Unreadable};
    // `csv.encoding` does not apply to this file: its own option is named instead.
    let text = super::decode_text(bytes, encoding)
        .map_err(|p| Unreadable(p.message.replace("set csv.encoding", "give --encoding")))?;
    let delimiter = delimiter.filter(|&d| names_group_id(&text, d));
    let mut reader = super::csv_reader(&text, delimiter, true);
    let header = reader
        .headers()
        .map_err(|e| Unreadable(format!("{}: {e}", Code::NotCsv)))?
        .clone();
    let id_col = column(&header, "GroupID")
        .ok_or_else(|| Unreadable("the GroupID column is missing".into()))?;
    let name_col = column(&header, "Name");
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Unreadable(format!("not CSV: {e}")))?;
        // A line of nothing but spaces (and delimiters) is blank, as in an import file.
        if rec.iter().all(|c| trim(c).is_empty()) && rec.len() <= 1 {
            continue;
        }
        let line = rec.position().map_or(i as u64 + 2, |p| p.line());
        let id = trim(rec.get(id_col).unwrap_or(""));
        if let Some(why) = unnameable_group_id(id, separator, max_chars) {
            return Err(Refused(format!(
                "line {line}, column GroupID: {why}; no import file could name it"
            )));
        }
        if !seen.insert(id.to_string()) {
            return Err(Unreadable(format!(
                "line {line}, column GroupID: `{id}` appears more than once"
            )));
        }
        let name = name_col
            .and_then(|c| rec.get(c))
            .map(trim)
            .filter(|n| !n.is_empty());
        if let Some(n) = name.and_then(|n| chars_over(n, max_chars)) {
            return Err(Refused(format!(
                "line {line}, column Name: the name has {n} characters; csv.max_cell_chars allows {max_chars}"
            )));
        }
        if name.is_some_and(|n| n.chars().any(char::is_control)) {
            return Err(Unreadable(format!(
                "line {line}, column Name: the name contains a control character"
            )));
        }
        out.push((id.to_string(), name.map(str::to_string)));
    }
    if out.is_empty() {
        return Err(Unreadable("the file has no groups".into()));
    }
    Ok(out)
}

/// Whether the header of `text`, read with `delimiter`, names a `GroupID` column.
fn names_group_id(text: &str, delimiter: u8) -> bool {
    let mut reader = super::csv_reader(text, Some(delimiter), true);
    reader
        .headers()
        .is_ok_and(|h| column(h, "GroupID").is_some())
}

/// The column a header names `name` (any case, trimmed, after a byte-order mark).
fn column(header: &csv::StringRecord, name: &str) -> Option<usize> {
    header
        .iter()
        .position(|h| trim(h.trim_start_matches('\u{feff}')).eq_ignore_ascii_case(name))
}

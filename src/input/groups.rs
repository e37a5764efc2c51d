//! The group file of `groups import` and `validate --groups-file`: a `GroupID` column and an
//! optional `Name` column.

use super::Encoding;
use crate::core::problem::Code;
use crate::core::record::trim;

/// Read a group file: a `GroupID` column and an optional `Name` column.
pub fn read(
    bytes: &[u8],
    encoding: Encoding,
    delimiter: Option<u8>,
) -> Result<Vec<(String, Option<String>)>, String> {
    let text = super::decode_text(bytes, encoding).map_err(|p| p.message)?;
    let mut reader = super::csv_reader(&text, delimiter, true);
    let header = reader
        .headers()
        .map_err(|e| format!("{}: {e}", Code::NotCsv))?
        .clone();
    let find = |name: &str| {
        header
            .iter()
            .position(|h| trim(h.trim_start_matches('\u{feff}')).eq_ignore_ascii_case(name))
    };
    let id_col = find("GroupID").ok_or("the GroupID column is missing")?;
    let name_col = find("Name");
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| format!("not CSV: {e}"))?;
        let line = rec.position().map_or(i as u64 + 2, |p| p.line());
        let id = trim(rec.get(id_col).unwrap_or(""));
        if id.is_empty() {
            return Err(format!(
                "line {line}, column GroupID: the Group ID is empty"
            ));
        }
        if id.chars().any(char::is_control) {
            return Err(format!(
                "line {line}, column GroupID: the Group ID contains a control character"
            ));
        }
        if !seen.insert(id.to_string()) {
            return Err(format!(
                "line {line}, column GroupID: `{id}` appears more than once"
            ));
        }
        let name = name_col
            .and_then(|c| rec.get(c))
            .map(trim)
            .filter(|n| !n.is_empty());
        if name.is_some_and(|n| n.chars().any(char::is_control)) {
            return Err(format!(
                "line {line}, column Name: the name contains a control character"
            ));
        }
        out.push((id.to_string(), name.map(str::to_string)));
    }
    if out.is_empty() {
        return Err("the file has no groups".into());
    }
    Ok(out)
}

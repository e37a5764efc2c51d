//! CSV that a spreadsheet opens as it should: cells it would run as a formula escaped (SPEC §5),
//! and for the report's attachments a UTF-8 byte-order mark and a chosen delimiter (SPEC §4
//! `report.csv_delimiter`), so Excel in a comma-decimal locale reads columns, not mojibake.

use std::borrow::Cow;

/// A cell that starts with `=`, `+`, `-` or `@` (which a spreadsheet runs as a formula) with a
/// `'` before it; any other as it is.
pub fn escape_cell(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The byte-order mark that tells a spreadsheet the file is UTF-8.
pub const BOM: &str = "\u{feff}";

/// A header and rows as CSV for a spreadsheet: the BOM, then records separated by `delimiter`
/// and ended by CRLF, every cell escaped ([`escape_cell`]) and quoted where it must be.
pub fn csv_text(header: &[&str], rows: &[Vec<String>], delimiter: u8) -> String {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::CRLF)
        .from_writer(BOM.as_bytes().to_vec());
    // Writing to memory fails only on a record of another length, which these never are;
    // a failed record is left out rather than the whole attachment.
    let _ = w.write_record(header.iter().map(|h| escape_cell(h).into_owned()));
    for row in rows {
        let _ = w.write_record(row.iter().map(|c| escape_cell(c).into_owned()));
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_the_delimiter_and_escaped_formulas() {
        let rows = [vec!["=SUM(1)".to_string(), "a; \"b\", c".to_string()]];
        assert_eq!(
            csv_text(&["A", "B"], &rows, b','),
            "\u{feff}A,B\r\n'=SUM(1),\"a; \"\"b\"\", c\"\r\n"
        );
        assert_eq!(
            csv_text(&["A", "B"], &rows, b';'),
            "\u{feff}A;B\r\n'=SUM(1);\"a; \"\"b\"\", c\"\r\n"
        );
        assert_eq!(escape_cell("-1"), "'-1");
        assert_eq!(escape_cell("Anna"), "Anna");
    }
}

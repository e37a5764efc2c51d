//! Printing: tables (comfy-table), JSON documents, GitHub annotations, and progress bars.
//! Only this module and `commands` write to the terminal.

pub mod grid;
pub mod log;
pub mod plan;
pub mod problems;
pub mod progress;

use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;
use std::io::{self, Write};

/// Write text to standard output. A closed pipe comes back as an error that `main` treats as
/// a quiet success.
pub fn emit(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.is_empty() && !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Standard output, buffered, for output written piece by piece (flush it at the end).
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(1 << 16, io::stdout().lock())
}

/// Write raw bytes to standard output.
pub fn emit_bytes(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// One JSON document on standard output, written as it is serialized (never built whole in
/// memory).
pub fn json<T: Serialize + ?Sized>(value: &T) -> io::Result<()> {
    let mut out = stdout();
    write_json(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// One JSON value, indented, to `out`. A closed pipe stays an I/O error of its kind, which
/// `main` takes for a quiet end.
pub fn write_json<T: Serialize + ?Sized>(out: &mut impl Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => io::Error::new(kind, e),
        None => io::Error::other(e),
    })
}

/// The most characters a table cell shows (SPEC §3.1); longer values end in `…`.
pub const CELL_CHARS: usize = 80;

/// A value as a table cell shows it: control characters escaped (`\t`, `\u{1b}`) and cut to
/// [`CELL_CHARS`] characters with `…`. JSON carries the full value.
pub fn cell(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(CELL_CHARS * 4));
    let mut shown = 0;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        let escaped = match c {
            '\t' => Some("\\t".to_string()),
            '\n' => Some("\\n".to_string()),
            '\r' => Some("\\r".to_string()),
            c if c.is_control() => Some(format!("\\u{{{:x}}}", c as u32)),
            _ => None,
        };
        let width = escaped.as_ref().map_or(1, |e| e.len());
        let last = chars.peek().is_none();
        // Room for this, and for the `…` unless this is the end of the value.
        if shown + width > CELL_CHARS || (!last && shown + width == CELL_CHARS) {
            out.push('…');
            return out;
        }
        match escaped {
            Some(e) => out.push_str(&e),
            None => out.push(c),
        }
        shown += width;
    }
    out
}

/// A count with thousands separators: `2,219`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A table with the given header, ready for rows.
pub fn table<I: IntoIterator<Item = &'static str>>(header: I) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    if !io::IsTerminal::is_terminal(&io::stdout()) {
        t.load_preset(presets::ASCII_MARKDOWN);
        t.set_content_arrangement(ContentArrangement::Disabled);
    }
    t
}

/// A cell for an optional value: empty when there is none.
pub fn opt(value: Option<&str>) -> String {
    cell(value.unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_escaped_and_cut() {
        let long = "x".repeat(200);
        let cut = format!("{}…", "x".repeat(79));
        let exact = "y".repeat(80);
        let cases: &[(&str, &str)] = &[
            ("plain", "plain"),
            ("a\tb", "a\\tb"),
            ("a\nb\r", "a\\nb\\r"),
            ("esc\u{1b}[31m", "esc\\u{1b}[31m"),
            ("nul\0", "nul\\u{0}"),
            ("Åsa Öberg", "Åsa Öberg"),
            (&long, &cut),
            (&exact, &exact),
        ];
        for (value, want) in cases {
            assert_eq!(cell(value), *want, "{value:?}");
            assert!(cell(value).chars().count() <= CELL_CHARS);
        }
    }

    #[test]
    fn thousands_separators() {
        for (n, want) in [
            (0, "0"),
            (31, "31"),
            (999, "999"),
            (2219, "2,219"),
            (1_000_000, "1,000,000"),
        ] {
            assert_eq!(thousands(n), want);
        }
    }
}

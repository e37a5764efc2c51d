//! Printing: tables (comfy-table), JSON documents, GitHub annotations, and progress bars.
//! Only this module and `commands` write to the terminal.

pub mod grid;
pub mod log;
pub mod plan;
pub mod problems;
pub mod progress;
pub mod prometheus;
pub mod report;
pub mod status;
pub mod top;

/// Counts in everything roster prints: `2,219`.
pub use crate::core::number::thousands;

use comfy_table::{presets, ContentArrangement};
use serde::Serialize;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The most characters a table cell shows (SPEC §3.1); a longer value is cut, ending in `…`.
pub const CELL_CHARS: usize = 80;

/// True for a character that must not reach a terminal raw: a control character (C0, DEL,
/// C1), a line or paragraph separator, or a bidirectional control that reorders what is shown
/// (Unicode's Bidi_Control: the Arabic letter mark too).
pub(super) fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

pub(super) fn push_escaped(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// A value as a table cell shows it: control characters escaped (`\t`, `\u{1b}`) and cut to
/// [`CELL_CHARS`] characters with `…`. Reads at most the first few hundred bytes of the value,
/// so that a cell of any size costs the same; JSON carries the full value.
pub fn cell(value: &str) -> String {
    // The common case: short and clean, shown as it is.
    let mut chars = 0;
    let mut clean = true;
    for c in value.chars() {
        chars += 1;
        if chars > CELL_CHARS || is_hidden(c) {
            clean = false;
            break;
        }
    }
    if clean {
        return value.to_string();
    }
    let mut out = String::with_capacity(CELL_CHARS * 2);
    let mut shown = 0;
    let mut rest = value.chars().peekable();
    while let Some(c) = rest.next() {
        let mut piece = String::new();
        if is_hidden(c) {
            push_escaped(&mut piece, c);
        } else {
            piece.push(c);
        }
        let width = piece.chars().count();
        // Room is left for the `…` unless this is the last character.
        let limit = if rest.peek().is_some() {
            CELL_CHARS - 1
        } else {
            CELL_CHARS
        };
        if shown + width > limit {
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        shown += width;
    }
    out
}

/// Text for the terminal: control characters escaped, but for line breaks and tabs.
pub fn terminal_text(text: &str) -> Cow<'_, str> {
    let keep = |c: char| c == '\n' || c == '\t' || !is_hidden(c);
    if text.chars().all(keep) && !text.contains("::") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        for c in no_command(line).chars() {
            if keep(c) {
                out.push(c);
            } else {
                push_escaped(&mut out, c);
            }
        }
    }
    Cow::Owned(out)
}

/// A line of text for a person, never a GitHub workflow command: the runner reads any line
/// that starts with `::` (spaces trimmed) as one, so a value that opens a line (`validate`'s
/// summary opens with the file's name, `::error::x.csv`; a wrapped line with any word) has its
/// first `:` shown as `\u{3a}` (SPEC §3.1).
pub fn no_command(line: &str) -> Cow<'_, str> {
    let rest = line.trim_start();
    if !rest.starts_with("::") {
        return Cow::Borrowed(line);
    }
    let at = line.len() - rest.len();
    Cow::Owned(format!("{}\\u{{3a}}{}", &line[..at], &line[at + 1..]))
}

/// A message for the terminal, on one line: every control character escaped (a line break
/// too, so that a value quoted in it, a file name with a newline say, cannot forge a line of
/// output or a GitHub workflow command, SPEC §3.1), and cut with `…` past a few screens. Used
/// for errors and log lines, which may quote what they read.
pub fn message(text: &str) -> Cow<'_, str> {
    const LINE_CHARS: usize = 2000;
    let needs = text.chars().any(is_hidden) || text.len() > LINE_CHARS;
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(1 << 16));
    for (n, c) in text.chars().enumerate() {
        if n >= LINE_CHARS {
            out.push('…');
            break;
        }
        if is_hidden(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A table whose every cell goes through [`cell`]: rows are added with [`Table::add_row`];
/// the rest of comfy-table's API is reached through `Deref`.
pub struct Table(comfy_table::Table);

impl Table {
    /// Add a row; each value is escaped and cut as [`cell`] says.
    pub fn add_row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut row = comfy_table::Row::from(
            cells
                .into_iter()
                .map(|c| cell(c.as_ref()))
                .collect::<Vec<String>>(),
        );
        // A cell too wide for the table's 100 columns is cut to one line, not wrapped.
        row.max_height(1);
        self.0.add_row(row);
        self
    }
}

impl std::ops::Deref for Table {
    type Target = comfy_table::Table;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Table {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Write text to standard output. A closed pipe comes back as an error that `main` treats as
/// a quiet success.
pub fn emit(text: &str) -> io::Result<()> {
    emit_raw(&terminal_text(text))
}

/// Write text as it is (JSON, which escapes its own control characters).
fn emit_raw(text: &str) -> io::Result<()> {
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

/// One JSON document on standard output, written by `write` as it goes (a plan's writer).
pub fn json_by(
    write: impl FnOnce(&mut io::BufWriter<io::StdoutLock<'static>>) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = stdout();
    write(&mut out)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// One JSON value, compact (no indentation: a million-change plan is written in a fraction of
/// the bytes; `jq .` indents it for a person), to `out`. A closed pipe stays an I/O error of its kind, which
/// `main` takes for a quiet end.
pub fn write_json<T: Serialize + ?Sized>(out: &mut impl Write, value: &T) -> io::Result<()> {
    serde_json::to_writer(out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => io::Error::new(kind, e),
        None => io::Error::other(e),
    })
}

/// A table with the given header, ready for rows.
pub fn table<I: IntoIterator<Item = &'static str>>(header: I) -> Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    if !io::IsTerminal::is_terminal(&io::stdout()) {
        t.load_preset(presets::ASCII_MARKDOWN);
    }
    // Every table fits 100 columns (SPEC §3.1), or the terminal when it is narrower.
    let width = t
        .width()
        .map_or(grid::WIDTH, |w| usize::from(w).min(grid::WIDTH));
    t.set_width(u16::try_from(width).unwrap_or(100))
        .set_truncation_indicator("…");
    Table(t)
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
}

#[cfg(test)]
mod cell_tests {
    use super::*;

    #[test]
    fn cells_are_escaped_and_cut() {
        let long = "x".repeat(200);
        let exact = "y".repeat(CELL_CHARS);
        let cut = format!("{}…", "x".repeat(CELL_CHARS - 1));
        let cases: Vec<(&str, String)> = vec![
            ("Anna", "Anna".into()),
            ("", "".into()),
            ("Tab\there", "Tab\\there".into()),
            ("a\u{1b}[31mb", "a\\u{1b}[31mb".into()),
            ("nul\0", "nul\\u{0}".into()),
            ("line\r\nbreak", "line\\r\\nbreak".into()),
            ("bel\u{7}c1\u{9b}", "bel\\u{7}c1\\u{9b}".into()),
            ("rtl\u{202e}txt", "rtl\\u{202e}txt".into()),
            ("Åsa Öberg", "Åsa Öberg".into()),
            (&exact, exact.clone()),
            (&long, cut.clone()),
        ];
        for (input, want) in cases {
            assert_eq!(cell(input), want, "{input:?}");
            assert!(cell(input).chars().count() <= CELL_CHARS);
        }
        // An escape at the edge is not split: the cut comes before it.
        let edge = format!("{}\u{1b}more", "z".repeat(CELL_CHARS - 3));
        let shown = cell(&edge);
        assert_eq!(shown, format!("{}…", "z".repeat(CELL_CHARS - 3)));
        assert!(!shown.contains('\u{1b}'));
    }

    #[test]
    fn a_huge_cell_costs_what_a_short_one_does() {
        let huge = "ä".repeat(50 << 20);
        let start = std::time::Instant::now();
        for _ in 0..1000 {
            assert_eq!(cell(&huge).chars().count(), CELL_CHARS);
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn messages_are_one_line_with_every_control_character_escaped() {
        assert_eq!(message("a\nb"), "a\\nb");
        assert_eq!(message("a\u{1b}b\tc"), "a\\u{1b}b\\tc");
        let long = "m".repeat(10_000);
        assert_eq!(message(&long).chars().count(), 2001);
    }
}

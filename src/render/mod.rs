//! Printing: tables (comfy-table), JSON documents, GitHub annotations, and progress bars.
//! Only this module and `commands` write to the terminal.

pub mod plan;
pub mod problems;
pub mod progress;
pub mod prometheus;

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

/// Write raw bytes to standard output.
pub fn emit_bytes(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// One JSON document on standard output.
pub fn json<T: Serialize + ?Sized>(value: &T) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    emit(&text)
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
    value.unwrap_or("").to_string()
}

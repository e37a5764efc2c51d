//! Tables written row by row, for lists that may have a million rows: the caller measures
//! each row, then writes each one, so the cost is linear and nothing holds the whole table.
//! The look is that of the other tables off a terminal (Markdown), so a long list pasted into
//! a ticket reads the same.

use std::io::{self, Write};

/// A table of `N` columns whose widths are learned from the rows ([`Grid::measure`]).
pub struct Grid<const N: usize> {
    header: [&'static str; N],
    widths: [usize; N],
}

impl<const N: usize> Grid<N> {
    pub fn new(header: [&'static str; N]) -> Self {
        Grid {
            header,
            widths: header.map(|h| h.chars().count()),
        }
    }

    /// Widen the columns to fit this row's cells (already made cells by [`super::cell`]).
    pub fn measure(&mut self, row: &[String; N]) {
        for (w, c) in self.widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }

    pub fn write_header(&self, out: &mut impl Write) -> io::Result<()> {
        self.write_cells(out, self.header.iter().copied())?;
        out.write_all(b"|")?;
        for w in self.widths {
            out.write_all("-".repeat(w + 2).as_bytes())?;
            out.write_all(b"|")?;
        }
        out.write_all(b"\n")
    }

    pub fn write_row(&self, out: &mut impl Write, row: &[String; N]) -> io::Result<()> {
        self.write_cells(out, row.iter().map(String::as_str))
    }

    fn write_cells<'a>(
        &self,
        out: &mut impl Write,
        cells: impl Iterator<Item = &'a str>,
    ) -> io::Result<()> {
        for (c, w) in cells.zip(self.widths) {
            let pad = w.saturating_sub(c.chars().count());
            write!(out, "| {c}{:pad$} ", "")?;
        }
        out.write_all(b"|\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_aligned_to_the_widest_cell() {
        let rows = [
            ["update".to_string(), "E1".to_string()],
            ["create".to_string(), "Åsa-long".to_string()],
        ];
        let mut g = Grid::new(["Action", "ID"]);
        for r in &rows {
            g.measure(r);
        }
        let mut out = Vec::new();
        g.write_header(&mut out).unwrap_or_default();
        for r in &rows {
            g.write_row(&mut out, r).unwrap_or_default();
        }
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "| Action | ID       |\n|--------|----------|\n| update | E1       |\n| create | Åsa-long |\n"
        );
    }
}

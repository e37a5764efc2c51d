//! Tables written row by row, for lists that may have a million rows: the caller measures
//! each row, then writes each one, so the cost is linear and nothing holds the whole table.
//! The look is that of the other tables off a terminal (Markdown), so a long list pasted into
//! a ticket reads the same. A table fits [`WIDTH`] columns: the widest columns are cut (`…`)
//! until it does (SPEC §3.1).

use std::io::{self, Write};

/// The most characters a line that a person reads may have (SPEC §3.1).
pub const WIDTH: usize = 100;

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

    /// Cut the widest columns until the table fits [`WIDTH`]: each column keeps its width up
    /// to a cap, the largest under which the table fits, and the room left goes to the cut
    /// columns from the left.
    fn fit(&mut self) {
        // `| a | b |`: three characters a column and one at the end.
        let room = WIDTH.saturating_sub(3 * N + 1);
        if self.widths.iter().sum::<usize>() <= room {
            return;
        }
        let used = |cap: usize| self.widths.iter().map(|w| (*w).min(cap)).sum::<usize>();
        let mut cap = 1;
        while used(cap + 1) <= room {
            cap += 1;
        }
        let mut left = room.saturating_sub(used(cap));
        for w in &mut self.widths {
            if *w > cap {
                *w = cap + usize::from(left > 0);
                left = left.saturating_sub(1);
            }
        }
    }

    pub fn write_header(&mut self, out: &mut impl Write) -> io::Result<()> {
        self.fit();
        self.write_cells(out, self.header.iter().copied())?;
        out.write_all(b"|")?;
        for w in self.widths {
            out.write_all("-".repeat(w + 2).as_bytes())?;
            out.write_all(b"|")?;
        }
        out.write_all(b"\n")
    }

    /// A table whose rows are all in hand: measured, then written under the header.
    pub fn write_rows(&mut self, out: &mut impl Write, rows: &[[String; N]]) -> io::Result<()> {
        for r in rows {
            self.measure(r);
        }
        self.write_header(out)?;
        for r in rows {
            self.write_row(out, r)?;
        }
        Ok(())
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
            let chars = c.chars().count();
            if chars > w {
                let cut: String = c.chars().take(w.saturating_sub(1)).collect();
                write!(out, "| {cut}… ")?;
            } else {
                write!(out, "| {c}{:pad$} ", "", pad = w - chars)?;
            }
        }
        out.write_all(b"|\n")
    }
}

/// A line of text broken into lines of at most `width` characters, each after the first
/// indented by two spaces: after a `, ` or `; ` where it can, else at a space; a word longer than a
/// line is cut with `…`.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out = Wrapped {
        lines: Vec::new(),
        current: String::new(),
        chars: 0,
        width,
    };
    if line.chars().count() <= width {
        return vec![line.to_string()];
    }
    for piece in pieces(line) {
        if out.fits(piece) {
            out.push(piece);
            continue;
        }
        out.next_line();
        if out.fits(piece) {
            out.push(piece);
            continue;
        }
        for word in piece.split_inclusive(' ') {
            if !out.fits(word) {
                out.next_line();
            }
            out.push(word);
        }
    }
    out.next_line();
    out.lines
}

/// Write `line` as [`wrap`] breaks it to [`WIDTH`]; a line indented by two spaces is one of a
/// command's lines ([`command_lines`]), laid out already and never broken again.
pub fn write_wrapped(out: &mut impl Write, line: &str) -> io::Result<()> {
    if line.starts_with("  ") {
        return writeln!(out, "{line}");
    }
    for l in wrap(line, WIDTH) {
        writeln!(out, "{}", super::no_command(&l))?;
    }
    Ok(())
}

/// A command for a person to copy, in lines of at most `width` characters: broken before an
/// option (` --`) with a shell continuation (` \\`), so that pasted whole it runs as printed.
/// Never cut: an option longer than a line stays whole on a line of its own.
pub fn command_lines(command: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, part) in options(command).into_iter().enumerate() {
        let part = if i == 0 {
            part.to_string()
        } else {
            format!("--{part}")
        };
        let fits = current.chars().count() + 1 + part.chars().count() + 2 <= width;
        if current.is_empty() || fits {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&part);
        } else {
            lines.push(format!("{current} \\"));
            current = format!("    {part}");
        }
    }
    lines.push(current);
    lines
}

/// `command` cut before each ` --` that a shell reads as a new word: not inside a quoted value
/// (`'/srv/a --b'`), which [`crate::core::text::shell_word`] writes in single quotes.
fn options(command: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, b) in command.bytes().enumerate() {
        if escaped {
            escaped = false;
        } else if b == b'\'' {
            quoted = !quoted;
        } else if !quoted && b == b'\\' {
            escaped = true;
        } else if !quoted && i >= start && command[i..].starts_with(" --") {
            parts.push(&command[start..i]);
            start = i + 3;
        }
    }
    parts.push(&command[start..]);
    parts
}

/// The file name of a source, which names it in a line of text that must fit [`WIDTH`]
/// (`sftp://hr@host/out/users.csv` → `users.csv`).
pub fn source_name(source: &str) -> &str {
    source
        .rsplit(['/', '\\'])
        .find(|s| !s.is_empty())
        .unwrap_or(source)
}

/// `line` cut after each `, ` and `; `: where [`wrap`] breaks it when it can.
fn pieces(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in line.match_indices([',', ';']) {
        if line[i + 1..].starts_with(' ') {
            out.push(&line[start..i + 2]);
            start = i + 2;
        }
    }
    out.push(&line[start..]);
    out
}

/// The lines [`wrap`] has made, and the one it fills.
struct Wrapped {
    lines: Vec<String>,
    current: String,
    chars: usize,
    width: usize,
}

impl Wrapped {
    /// Whether `piece` (its trailing spaces aside) fits on the current line.
    fn fits(&self, piece: &str) -> bool {
        self.chars + piece.trim_end().chars().count() <= self.width
    }

    fn push(&mut self, piece: &str) {
        let n = piece.chars().count();
        if self.fits(piece) {
            self.current.push_str(piece);
            self.chars += n;
            return;
        }
        let keep = self.width.saturating_sub(self.chars + 1);
        self.current.extend(piece.chars().take(keep));
        self.current.push('…');
        self.chars = self.width;
    }

    /// End the current line (when it has more than its indent) and start an indented one.
    fn next_line(&mut self) {
        let text = self.current.trim_end();
        if !text.trim_start().is_empty() {
            self.lines.push(text.to_string());
            self.current = "  ".to_string();
            self.chars = 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_broken_before_an_option_and_pastes_whole() {
        let cmd = "roster apply --batch 12 --allow-removals 1000000 --allow-updates 2018 \
                   --allow-invalid 5 --expect-plan 3f9a0c1b7d2e";
        let cmd = cmd.split_whitespace().collect::<Vec<_>>().join(" ");
        for width in [20, 40, 60, 80, 200] {
            let lines = command_lines(&cmd, width);
            let joined = lines
                .iter()
                .map(|l| l.trim_end_matches(" \\").trim())
                .collect::<Vec<_>>()
                .join(" ");
            assert_eq!(joined, cmd, "width {width}");
            for l in &lines[..lines.len() - 1] {
                assert!(l.ends_with(" \\"), "{l}");
            }
            // Only an option longer than the line may pass it.
            for l in &lines {
                let longest = cmd.split(" --").map(|p| p.len() + 8).max().unwrap_or(0);
                assert!(l.chars().count() <= width.max(longest), "{l}");
            }
            assert!(lines.iter().all(|l| !l.contains("--expect-plan \\")));
        }
        assert_eq!(command_lines(&cmd, 200), vec![cmd.clone()]);
    }

    /// A quoted value holding ` --` is one word: a line is never broken inside it, where the
    /// shell would keep the backslash and the line break as part of the value.
    #[test]
    fn a_command_is_not_broken_inside_a_quoted_value() {
        let cmd = "roster --store '/srv/a --b/roster.db' users list --search 'it'\\''s --y' --all";
        for width in [10, 30, 50] {
            let lines = command_lines(cmd, width);
            for l in &lines {
                let quotes = l.replace("\\'", "").matches('\'').count();
                assert_eq!(quotes % 2, 0, "width {width}: {l}");
            }
            let joined = lines
                .iter()
                .map(|l| l.trim_end_matches(" \\").trim())
                .collect::<Vec<_>>()
                .join(" ");
            assert_eq!(joined, cmd, "width {width}");
        }
    }

    #[test]
    fn rows_are_aligned_to_the_widest_cell() {
        let rows = [
            ["update".to_string(), "E1".to_string()],
            ["create".to_string(), "Åsa-long".to_string()],
        ];
        let mut g = Grid::new(["Action", "ID"]);
        let mut out = Vec::new();
        g.write_rows(&mut out, &rows).unwrap_or_default();
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "| Action | ID       |\n|--------|----------|\n| update | E1       |\n| create | Åsa-long |\n"
        );
    }

    #[test]
    fn a_wide_table_is_cut_to_100_columns_widest_first() {
        let row = [
            "E1".to_string(),
            "n".repeat(80),
            "m".repeat(60),
            "ok".to_string(),
        ];
        let mut g = Grid::new(["ID", "Name", "Mail", "S"]);
        g.measure(&row);
        let mut out = Vec::new();
        g.write_header(&mut out).unwrap_or_default();
        g.write_row(&mut out, &row).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        for line in text.lines() {
            assert_eq!(line.chars().count(), WIDTH, "{text}");
        }
        assert!(text.contains("| E1 |") && text.contains("| ok |"), "{text}");
        assert!(text.contains("n…") && text.contains("m…"), "{text}");
    }

    #[test]
    fn long_lines_wrap_at_spaces() {
        assert_eq!(wrap("a b c", 10), vec!["a b c"]);
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "  ccc"]);
        assert_eq!(wrap("aaaaaaaaaa b", 5), vec!["aaaa…", "  b"]);
        assert_eq!(
            wrap("create 1, update 20,000, remove 3", 20),
            vec!["create 1,", "  update 20,000,", "  remove 3"]
        );
        assert_eq!(
            wrap("title: a → b 60; c → d 20", 20),
            vec!["title: a → b 60;", "  c → d 20"]
        );
        for line in wrap(&"word ".repeat(100), 100) {
            assert!(line.chars().count() <= 100);
        }
    }
}

//! Rendering the problems of a file: table, JSON (SPEC §6) and GitHub Actions annotations.

use super::grid::Grid;
use super::{cell, thousands};
use crate::core::problem::{Code, Problem, Severity, Tally};
use crate::input::{delimiter_name, ImportFile};
use serde::Serialize;
use std::borrow::Cow;
use std::io::{self, Write};

/// The JSON document of `validate`.
#[derive(Debug, Serialize)]
pub struct ValidationReport<'a> {
    pub file: &'a str,
    pub valid: bool,
    pub rows: usize,
    pub errors: usize,
    pub warnings: usize,
    pub delimiter: &'static str,
    pub encoding: &'static str,
    pub problems: &'a [Problem],
    /// The problems counted but not kept in `problems` (a file with many).
    #[serde(skip)]
    pub dropped: &'a Tally,
}

/// The fields of the JSON document before its `problems`, in the same order.
#[derive(Serialize)]
struct Head<'a> {
    file: &'a str,
    valid: bool,
    rows: usize,
    errors: usize,
    warnings: usize,
    delimiter: &'static str,
    encoding: &'static str,
}

impl<'a> ValidationReport<'a> {
    pub fn new(file: &'a str, read: &'a ImportFile) -> Self {
        let errors = read.errors();
        ValidationReport {
            file,
            valid: errors == 0,
            rows: read.rows,
            errors,
            warnings: read.warnings(),
            delimiter: delimiter_name(read.delimiter),
            encoding: read.encoding,
            problems: &read.problems,
            dropped: &read.dropped,
        }
    }

    /// The number of problems of each code, those counted but not kept included.
    pub fn per_code(&self) -> Vec<(Code, Severity, u64)> {
        counted(per_code(self.problems), self.dropped)
    }

    /// Every problem, kept or counted.
    pub fn total(&self) -> u64 {
        self.problems.len() as u64 + self.dropped.errors() + self.dropped.warnings()
    }

    /// The JSON document (SPEC §6), written as it goes: `each` tells every problem of the file
    /// in turn, so that a file with a million problems never holds them (SPEC §5).
    pub fn write_json(
        &self,
        out: &mut impl Write,
        each: impl FnOnce(&mut dyn FnMut(&Problem) -> io::Result<()>) -> io::Result<()>,
    ) -> io::Result<()> {
        let head = Head {
            file: self.file,
            valid: self.valid,
            rows: self.rows,
            errors: self.errors,
            warnings: self.warnings,
            delimiter: self.delimiter,
            encoding: self.encoding,
        };
        let mut text = serde_json::to_vec(&head).map_err(io::Error::other)?;
        text.pop(); // the closing brace: the problems follow
        out.write_all(&text)?;
        out.write_all(b",\"problems\":[")?;
        let mut first = true;
        each(&mut |p: &Problem| {
            if !std::mem::take(&mut first) {
                out.write_all(b",")?;
            }
            super::write_json(out, p)
        })?;
        out.write_all(b"]}\n")
    }

    pub fn summary(&self) -> String {
        let delim = match self.delimiter {
            "\t" => "tab".to_string(),
            d => format!("'{d}'"),
        };
        // The file by its name, not its path (SPEC §3.1): the line fits 100 columns.
        let name = std::path::Path::new(self.file)
            .file_name()
            .map_or(Cow::Borrowed(self.file), |n| n.to_string_lossy());
        format!(
            "{}: {} — {} rows, {} errors, {} warnings (delimiter {delim}, encoding {})",
            super::message(&name),
            if self.valid { "valid" } else { "invalid" },
            thousands(self.rows as u64),
            thousands(self.errors as u64),
            thousands(self.warnings as u64),
            self.encoding
        )
    }
}

/// The number of problems of each code, the most first (errors before warnings on a tie).
pub fn per_code<'a>(problems: impl IntoIterator<Item = &'a Problem>) -> Vec<(Code, Severity, u64)> {
    let mut counts: Vec<(Code, Severity, u64)> = Vec::new();
    for p in problems {
        match counts
            .iter_mut()
            .find(|(c, s, _)| *c == p.code && *s == p.severity)
        {
            Some((_, _, n)) => *n += 1,
            None => counts.push((p.code, p.severity, 1)),
        }
    }
    counts.sort_by(|a, b| {
        b.2.cmp(&a.2)
            .then((a.1 != Severity::Error).cmp(&(b.1 != Severity::Error)))
            .then(a.0.as_str().cmp(b.0.as_str()))
    });
    counts
}

/// Counts per code with those of a tally added, in [`per_code`]'s order.
pub fn counted(
    mut counts: Vec<(Code, Severity, u64)>,
    tally: &Tally,
) -> Vec<(Code, Severity, u64)> {
    for (code, sev, n) in tally.each() {
        match counts.iter_mut().find(|(c, s, _)| *c == code && *s == sev) {
            Some((_, _, m)) => *m += n,
            None => counts.push((code, sev, n)),
        }
    }
    counts.sort_by(|a, b| {
        b.2.cmp(&a.2)
            .then((a.1 != Severity::Error).cmp(&(b.1 != Severity::Error)))
            .then(a.0.as_str().cmp(b.0.as_str()))
    });
    counts
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Problems in a table: the counts per code, then at most `limit` problems, then how many
/// more there are.
pub fn write_table<'a>(
    out: &mut impl Write,
    problems: impl Iterator<Item = &'a Problem> + Clone,
    limit: Option<usize>,
    more_hint: &str,
) -> io::Result<()> {
    write_counted_table(out, problems.clone(), per_code(problems), limit, more_hint)
}

/// [`write_table`] with the counts given: problems that were counted but not kept are in
/// `counts`, not in `problems`, which holds the first ones.
pub fn write_counted_table<'a>(
    out: &mut impl Write,
    problems: impl Iterator<Item = &'a Problem> + Clone,
    counts: Vec<(Code, Severity, u64)>,
    limit: Option<usize>,
    more_hint: &str,
) -> io::Result<()> {
    if counts.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(c, s, n)| format!("{c} {} ({})", thousands(*n), severity(*s)))
        .collect();
    // Broken after a `, ` where the codes do not fit one line of 100 columns.
    super::grid::write_wrapped(out, &format!("problems per code: {}", parts.join(", ")))?;
    let total: u64 = counts.iter().map(|c| c.2).sum();
    let kept = problems.clone().count() as u64;
    let listed = limit.map_or(total, |l| total.min(l as u64)).min(kept) as usize;
    let row = |p: &Problem| -> [String; 5] {
        [
            p.line.map(|l| l.to_string()).unwrap_or_default(),
            super::opt(p.column.as_deref()),
            severity(p.severity).to_string(),
            p.code.to_string(),
            cell(&p.message),
        ]
    };
    if listed > 0 {
        let mut grid = Grid::new(["Line", "Column", "Severity", "Code", "Message"]);
        for p in problems.clone().take(listed) {
            grid.measure(&row(p));
        }
        grid.write_header(out)?;
        for p in problems.take(listed) {
            grid.write_row(out, &row(p))?;
        }
    }
    if (listed as u64) < total {
        writeln!(
            out,
            "… and {} more ({more_hint})",
            thousands(total - listed as u64)
        )?;
    }
    Ok(())
}

/// The errors of a file that an apply rejected (counts per code, at most `limit` of them);
/// `validate` is the command that lists them all (`roster validate --batch 7`, or for a dry
/// run of a file stored nowhere, `roster validate users.csv`).
pub fn write_errors(
    out: &mut impl Write,
    problems: &[Problem],
    limit: Option<usize>,
    validate: &str,
) -> io::Result<()> {
    write_table(
        out,
        problems.iter().filter(|p| p.is_error()),
        limit,
        &format!("{validate} --all, or --format json"),
    )
}

/// Escape a value of an annotation property (GitHub's workflow-command rules).
/// Any other control character, a line separator or a bidi override is shown escaped
/// (`\u{1b}`), never raw (SPEC §3.1).
fn escape_property(s: &str) -> String {
    escape_command(s, &[':', ','])
}

fn escape_data(s: &str) -> String {
    escape_command(s, &[])
}

fn escape_command(s: &str, also: &[char]) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' | '\r' | '\n' => out.push_str(&format!("%{:02X}", c as u32)),
            c if also.contains(&c) => out.push_str(&format!("%{:02X}", c as u32)),
            c if super::is_hidden(c) => super::push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// How many annotations of each severity GitHub shows for one step.
pub const GITHUB_ANNOTATIONS: usize = 10;

/// GitHub Actions annotations: at most [`GITHUB_ANNOTATIONS`] errors and as many warnings,
/// then one `::notice` with the totals.
pub fn github(out: &mut impl Write, report: &ValidationReport<'_>) -> io::Result<()> {
    let file = report.file;
    // In the file's order, until each severity has its share.
    let (mut errors, mut warnings) = (0, 0);
    for p in report.problems {
        let annotated = match p.severity {
            Severity::Error => &mut errors,
            Severity::Warning => &mut warnings,
        };
        if *annotated == GITHUB_ANNOTATIONS {
            if errors == GITHUB_ANNOTATIONS && warnings == GITHUB_ANNOTATIONS {
                break;
            }
            continue;
        }
        *annotated += 1;
        let mut props = format!("file={}", escape_property(file));
        if let Some(line) = p.line {
            props.push_str(&format!(",line={line}"));
        }
        props.push_str(&format!(",title={}", escape_property(p.code.as_str())));
        let message = match &p.column {
            Some(c) => format!("{c}: {}", p.message),
            None => p.message.clone(),
        };
        writeln!(
            out,
            "::{} {props}::{}",
            severity(p.severity),
            escape_data(&message)
        )?;
    }
    let shown = |n: usize| n.min(GITHUB_ANNOTATIONS);
    let mut totals = format!(
        "{}: {} — {} rows, {} errors, {} warnings",
        file,
        if report.valid { "valid" } else { "invalid" },
        thousands(report.rows as u64),
        thousands(report.errors as u64),
        thousands(report.warnings as u64),
    );
    if report.errors > GITHUB_ANNOTATIONS || report.warnings > GITHUB_ANNOTATIONS {
        totals.push_str(&format!(
            " (annotated: {} errors, {} warnings; the step summary or roster validate --format json has them all)",
            shown(report.errors),
            shown(report.warnings)
        ));
    }
    writeln!(
        out,
        "::notice title={}::{}",
        escape_property("roster validate"),
        escape_data(&totals)
    )
}

/// How many problems the step summary lists.
pub const SUMMARY_PROBLEMS: usize = 50;

/// A Markdown summary for `$GITHUB_STEP_SUMMARY`: the totals, the counts per code and the
/// first [`SUMMARY_PROBLEMS`] problems.
pub fn step_summary(report: &ValidationReport<'_>) -> String {
    let mut md = String::new();
    md.push_str(&format!(
        "### roster validate: {}\n\n**{}**: {} rows, {} errors, {} warnings (encoding {})\n\n",
        markdown(report.file),
        if report.valid { "valid" } else { "invalid" },
        thousands(report.rows as u64),
        thousands(report.errors as u64),
        thousands(report.warnings as u64),
        report.encoding,
    ));
    let counts = report.per_code();
    if !counts.is_empty() {
        md.push_str("| Code | Severity | Problems |\n|---|---|---:|\n");
        for (code, sev, n) in &counts {
            md.push_str(&format!(
                "| {code} | {} | {} |\n",
                severity(*sev),
                thousands(*n)
            ));
        }
        let total = report.total() as usize;
        md.push_str(&format!(
            "\n{} of {} problems:\n\n| Line | Column | Severity | Code | Message |\n|---:|---|---|---|---|\n",
            if total > SUMMARY_PROBLEMS { format!("The first {SUMMARY_PROBLEMS}") } else { "All".to_string() },
            thousands(total as u64),
        ));
        for p in report.problems.iter().take(SUMMARY_PROBLEMS) {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                p.line.map(|l| l.to_string()).unwrap_or_default(),
                markdown(p.column.as_deref().unwrap_or("")),
                severity(p.severity),
                p.code,
                markdown(&p.message),
            ));
        }
    }
    md.push('\n');
    md
}

/// A value in a Markdown table cell (or the heading): cut and escaped like any cell, then
/// every character that Markdown reads as syntax escaped, so that a value can neither end the
/// cell (`|`), nor open HTML (`<`, `&`), a link or an image (`[`, `!`, a bare `https:` that
/// GitHub links), nor close or open a code span or emphasis (SPEC §3.1).
fn markdown(value: &str) -> String {
    let shown = cell(value);
    let mut out = String::with_capacity(shown.len() + 16);
    for c in shown.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // `.` too: GitHub links a bare `www.example.com` (and `:` an `https://`).
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '!' | '|' | '~' | '#' | ':' | '.' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::problem::Code;

    fn report<'a>(file: &'a str, problems: &'a [Problem]) -> ValidationReport<'a> {
        let errors = problems.iter().filter(|p| p.is_error()).count();
        ValidationReport {
            file,
            valid: errors == 0,
            rows: 120,
            errors,
            warnings: problems.len() - errors,
            delimiter: ",",
            encoding: "utf-8",
            problems,
            dropped: &NONE,
        }
    }

    static NONE: Tally = Tally::new();

    fn github_text(r: &ValidationReport<'_>) -> String {
        let mut out = Vec::new();
        github(&mut out, r).unwrap_or_default();
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn github_annotations_escape() {
        let p = vec![
            Problem::new(
                Some(4),
                Some("Mail"),
                Code::BadMail,
                "`a,b` is 100% wrong\nreally\r",
            ),
            Problem::new(None, None, Code::EncodingFallback, "read as Windows-1252"),
        ];
        assert_eq!(
            github_text(&report("dir/users,1:a.csv", &p)),
            "::error file=dir/users%2C1%3Aa.csv,line=4,title=bad-mail::Mail: `a,b` is 100%25 wrong%0Areally%0D\n\
             ::warning file=dir/users%2C1%3Aa.csv,title=encoding-fallback::read as Windows-1252\n\
             ::notice title=roster validate::dir/users,1:a.csv: invalid — 120 rows, 1 errors, 1 warnings\n"
        );
    }

    #[test]
    fn github_annotations_are_capped() {
        let mut p: Vec<Problem> = (0..25)
            .map(|i| Problem::new(Some(i + 2), Some("Mail"), Code::BadMail, "bad"))
            .collect();
        p.extend(
            (0..3)
                .map(|i| Problem::new(Some(i + 2), Some("Groups"), Code::UnknownGroup, "unknown")),
        );
        let text = github_text(&report("u.csv", &p));
        let count = |prefix: &str| text.lines().filter(|l| l.starts_with(prefix)).count();
        assert_eq!(
            (count("::error "), count("::warning "), count("::notice ")),
            (10, 3, 1)
        );
        let notice = text.lines().last().unwrap_or_default();
        assert!(notice.contains("25 errors, 3 warnings"), "{notice}");
        assert!(
            notice.contains("annotated: 10 errors, 3 warnings"),
            "{notice}"
        );
        let md = step_summary(&report("u.csv", &p));
        assert!(md.contains("| bad-mail | error | 25 |"), "{md}");
        assert_eq!(
            md.lines()
                .filter(|l| l.starts_with("| ") && l.contains("| bad |"))
                .count(),
            25
        );
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(markdown("a|b <script>\t"), "a\\|b &lt;script&gt;\\\\t");
    }
}

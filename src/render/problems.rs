//! Rendering the problems of a file: table, JSON (SPEC §6) and GitHub Actions annotations.

use crate::core::problem::{Problem, Severity};
use crate::input::{delimiter_name, ImportFile};
use serde::Serialize;

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
        }
    }

    pub fn summary(&self) -> String {
        let delim = match self.delimiter {
            "\t" => "tab".to_string(),
            d => format!("'{d}'"),
        };
        format!(
            "{}: {} — {} rows, {} errors, {} warnings (delimiter {delim}, encoding {})",
            self.file,
            if self.valid { "valid" } else { "invalid" },
            self.rows,
            self.errors,
            self.warnings,
            self.encoding
        )
    }
}

pub fn table(problems: &[Problem]) -> String {
    let mut t = super::table(["Line", "Column", "Severity", "Code", "Message"]);
    for p in problems {
        t.add_row(vec![
            p.line.map(|l| l.to_string()).unwrap_or_default(),
            super::opt(p.column.as_deref()),
            match p.severity {
                Severity::Error => "error".into(),
                Severity::Warning => "warning".into(),
            },
            p.code.to_string(),
            p.message.clone(),
        ]);
    }
    t.to_string()
}

/// Escape a value of an annotation property (GitHub's workflow-command rules).
fn escape_property(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace(':', "%3A")
        .replace(',', "%2C")
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// One `::error`/`::warning` line per problem.
pub fn github(file: &str, problems: &[Problem]) -> String {
    let mut out = String::new();
    for p in problems {
        let kind = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut props = format!("file={}", escape_property(file));
        if let Some(line) = p.line {
            props.push_str(&format!(",line={line}"));
        }
        props.push_str(&format!(",title={}", escape_property(p.code.as_str())));
        let message = match &p.column {
            Some(c) => format!("{c}: {}", p.message),
            None => p.message.clone(),
        };
        out.push_str(&format!("::{kind} {props}::{}\n", escape_data(&message)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::problem::Code;

    #[test]
    fn github_annotations_escape() {
        let p = vec![
            Problem::new(
                Some(4),
                Some("Mail"),
                Code::BadMail,
                "`a,b` is 100% wrong\nreally",
            ),
            Problem::new(None, None, Code::EncodingFallback, "read as Windows-1252"),
        ];
        let out = github("dir/users,1.csv", &p);
        assert_eq!(
            out,
            "::error file=dir/users%2C1.csv,line=4,title=bad-mail::Mail: `a,b` is 100%25 wrong%0Areally\n\
             ::warning file=dir/users%2C1.csv,title=encoding-fallback::read as Windows-1252\n"
        );
    }
}

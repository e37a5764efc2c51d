//! Problems found in an import file: their stable codes, severities and locations (SPEC §1).

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A stable machine code of a problem; the strings are part of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    // File errors: the whole file is rejected.
    NotCsv,
    EmptyFile,
    MissingColumn,
    DuplicateColumn,
    TooLarge,
    // Record errors: one record is rejected.
    FieldCount,
    MissingField,
    BadMail,
    BadPhone,
    BadSkip,
    DuplicateId,
    DuplicateMail,
    MailTaken,
    ControlChar,
    TooLong,
    // Warnings: nothing is rejected.
    UnknownGroup,
    UnknownColumn,
    EncodingFallback,
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::NotCsv => "not-csv",
            Code::EmptyFile => "empty-file",
            Code::MissingColumn => "missing-column",
            Code::DuplicateColumn => "duplicate-column",
            Code::TooLarge => "too-large",
            Code::FieldCount => "field-count",
            Code::MissingField => "missing-field",
            Code::BadMail => "bad-mail",
            Code::BadPhone => "bad-phone",
            Code::BadSkip => "bad-skip",
            Code::DuplicateId => "duplicate-id",
            Code::DuplicateMail => "duplicate-mail",
            Code::MailTaken => "mail-taken",
            Code::ControlChar => "control-char",
            Code::TooLong => "too-long",
            Code::UnknownGroup => "unknown-group",
            Code::UnknownColumn => "unknown-column",
            Code::EncodingFallback => "encoding-fallback",
        }
    }

    pub fn parse(s: &str) -> Option<Code> {
        ALL_CODES.iter().copied().find(|c| c.as_str() == s)
    }

    /// File errors reject the whole file.
    pub fn is_file_error(self) -> bool {
        matches!(
            self,
            Code::NotCsv
                | Code::EmptyFile
                | Code::MissingColumn
                | Code::DuplicateColumn
                | Code::TooLarge
        )
    }

    pub fn severity(self) -> Severity {
        match self {
            Code::UnknownGroup | Code::UnknownColumn | Code::EncodingFallback => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

pub const ALL_CODES: [Code; 18] = [
    Code::NotCsv,
    Code::EmptyFile,
    Code::MissingColumn,
    Code::DuplicateColumn,
    Code::TooLarge,
    Code::FieldCount,
    Code::MissingField,
    Code::BadMail,
    Code::BadPhone,
    Code::BadSkip,
    Code::DuplicateId,
    Code::DuplicateMail,
    Code::MailTaken,
    Code::ControlChar,
    Code::TooLong,
    Code::UnknownGroup,
    Code::UnknownColumn,
    Code::EncodingFallback,
];

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem: where it is, what it is, and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file line on which the record starts (header = 1); `None` for the whole file.
    pub line: Option<u64>,
    pub column: Option<String>,
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The value the problem is about, when it names one that others may share (the Group ID
    /// of `unknown-group`, the column of `unknown-column`): warnings are grouped by code and
    /// this value, never by parsing the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Problem {
    pub fn new(
        line: Option<u64>,
        column: Option<&str>,
        code: Code,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            line,
            column: column.map(str::to_owned),
            code,
            severity: code.severity(),
            message: message.into(),
            value: None,
        }
    }

    /// The same problem, naming the value it is about (see [`Problem::value`]).
    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: ")?,
            (Some(l), None) => write!(f, "line {l}: ")?,
            (None, Some(c)) => write!(f, "column {c}: ")?,
            (None, None) => {}
        }
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// Tells every problem of a file, in order, to the function it is given: a file read keeping
/// only its first problems ([`crate::core::file::ImportFile::keep`]) tells the rest again
/// from its bytes, so that they are streamed, not held (SPEC §5).
pub type EachProblem<'a> =
    &'a dyn Fn(&mut dyn FnMut(&Problem) -> std::io::Result<()>) -> std::io::Result<()>;

/// How many problems of each code and severity a file has that are counted, not kept: a file
/// whose every line is wrong costs a few counters, not a problem a line (SPEC §5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Per code (in [`ALL_CODES`] order): errors, warnings.
    counts: [[u64; 2]; ALL_CODES.len()],
}

impl Tally {
    pub const fn new() -> Tally {
        Tally {
            counts: [[0; 2]; ALL_CODES.len()],
        }
    }
    pub fn add(&mut self, code: Code, severity: Severity, n: u64) {
        self.counts[code as usize][usize::from(severity == Severity::Warning)] += n;
    }
    /// Take back `n` counted (never below zero).
    pub fn uncount(&mut self, code: Code, severity: Severity, n: u64) {
        let c = &mut self.counts[code as usize][usize::from(severity == Severity::Warning)];
        *c = c.saturating_sub(n);
    }
    pub fn count(&mut self, p: &Problem) {
        self.add(p.code, p.severity, 1);
    }
    pub fn merge(&mut self, other: &Tally) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            mine[0] += theirs[0];
            mine[1] += theirs[1];
        }
    }
    pub fn errors(&self) -> u64 {
        self.counts.iter().map(|c| c[0]).sum()
    }
    pub fn warnings(&self) -> u64 {
        self.counts.iter().map(|c| c[1]).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.errors() + self.warnings() == 0
    }
    /// Every warning counted as an error (`validate --strict`).
    pub fn strict(&mut self) {
        for c in &mut self.counts {
            c[0] += std::mem::take(&mut c[1]);
        }
    }
    /// Each code and severity with its count, those counted only.
    pub fn each(&self) -> impl Iterator<Item = (Code, Severity, u64)> + '_ {
        ALL_CODES.iter().zip(&self.counts).flat_map(|(&code, c)| {
            [
                (code, Severity::Error, c[0]),
                (code, Severity::Warning, c[1]),
            ]
            .into_iter()
            .filter(|&(_, _, n)| n > 0)
        })
    }
}

/// The counts of each unknown Group ID among `unknown-group` warnings.
pub fn unknown_groups(problems: &[Problem]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for p in problems.iter().filter(|p| p.code == Code::UnknownGroup) {
        if let Some(id) = &p.value {
            *out.entry(id.clone()).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_classify() {
        for code in ALL_CODES {
            assert_eq!(Code::parse(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        let files: Vec<_> = ALL_CODES.iter().filter(|c| c.is_file_error()).collect();
        assert_eq!(files.len(), 5);
        let warnings: Vec<_> = ALL_CODES
            .iter()
            .filter(|c| c.severity() == Severity::Warning)
            .collect();
        assert_eq!(warnings.len(), 3);
        for (i, code) in ALL_CODES.iter().enumerate() {
            assert_eq!(
                *code as usize, i,
                "{code}: Tally indexes codes by their order"
            );
        }
    }

    #[test]
    fn a_tally_counts_per_code_and_severity() {
        let mut t = Tally::default();
        t.add(Code::FieldCount, Severity::Error, 3);
        t.add(Code::UnknownGroup, Severity::Warning, 2);
        let mut u = Tally::default();
        u.add(Code::FieldCount, Severity::Error, 1);
        t.merge(&u);
        assert_eq!((t.errors(), t.warnings()), (4, 2));
        let each: Vec<_> = t.each().collect();
        assert_eq!(
            each,
            vec![
                (Code::FieldCount, Severity::Error, 4),
                (Code::UnknownGroup, Severity::Warning, 2)
            ]
        );
        t.strict();
        assert_eq!((t.errors(), t.warnings()), (6, 0));
    }
}

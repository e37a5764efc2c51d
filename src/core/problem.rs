//! Problems found in an import file: their stable codes, severities and locations (SPEC §1).

use serde::Serialize;
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
    }
}

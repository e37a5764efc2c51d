//! The import policies that configuration chooses: safeguard limits, absent users, manual phones.

use serde::Deserialize;

/// A safeguard limit: a count, or a share of a total.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Count(u64),
    Percent(f64),
}

impl Limit {
    /// The largest number allowed out of `total`.
    pub fn allowed(self, total: u64) -> u64 {
        match self {
            Limit::Count(n) => n,
            Limit::Percent(p) => ((total as f64) * p / 100.0).floor() as u64,
        }
    }

    pub fn parse(text: &str) -> Result<Limit, String> {
        let t = text.trim();
        if let Some(p) = t.strip_suffix('%') {
            match p.trim().parse::<f64>() {
                Ok(v) if (0.0..=100.0).contains(&v) => Ok(Limit::Percent(v)),
                _ => Err(format!("`{text}` is not a share between 0% and 100%")),
            }
        } else {
            t.parse::<u64>()
                .map(Limit::Count)
                .map_err(|_| format!("`{text}` is not a count like 50 or a share like 10%"))
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Count(n) => write!(f, "{n}"),
            Limit::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// What happens to an imported user that is absent from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MissingUsers {
    #[default]
    Deactivate,
    Delete,
    Keep,
}

/// What an import does with a Group ID that no group has (`import.unknown_groups`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum UnknownGroups {
    /// Ignore the membership and warn.
    #[default]
    Warn,
    /// Create the group, with its ID as its name, and keep the membership.
    Create,
}

/// Whether an empty phone cell keeps a number entered by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeepPhones {
    pub primary: bool,
    pub secondary: bool,
}

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
    /// Block the run until the groups exist or `--allow-unknown-groups` (then as `Warn`).
    Block,
}

/// `import.max_churn`: how many times the usual count of a night a count may be before the
/// churn safeguard trips, or off.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum MaxChurn {
    #[default]
    Off,
    Factor(f64),
}

impl MaxChurn {
    /// `"10x"` (or `"10"`, `"2.5x"`), or `"off"`.
    pub fn parse(text: &str) -> Result<MaxChurn, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("off") {
            return Ok(MaxChurn::Off);
        }
        let number = t.strip_suffix(['x', 'X']).unwrap_or(t).trim();
        match number.parse::<f64>() {
            Ok(v) if (1.0..=1e6).contains(&v) => Ok(MaxChurn::Factor(v)),
            _ => Err(format!(
                "`{text}` is not a factor like 10x (at least 1x) or off"
            )),
        }
    }
}

impl std::fmt::Display for MaxChurn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaxChurn::Off => f.write_str("off"),
            MaxChurn::Factor(v) => write!(f, "{}x", number(*v)),
        }
    }
}

/// A number as a person writes it: `10`, `2.5`, `33.5`.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Whether an empty phone cell keeps a number entered by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeepPhones {
    pub primary: bool,
    pub secondary: bool,
}

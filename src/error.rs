//! Typed errors that callers branch on, and the exit code each one means (SPEC §3).

use std::fmt;

/// An error whose exit code is not the generic runtime failure (1).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Wrong command-line use or an older batch without `--force`: exit 2.
    #[error("{0}")]
    Usage(String),
    /// A configuration key or value is wrong: exit 2.
    #[error("configuration: {0}")]
    Config(String),
    /// The file was rejected: exit 3.
    #[error("{0}")]
    Rejected(String),
    /// A safeguard blocked the apply: exit 4.
    #[error("{0}")]
    Blocked(String),
    /// Another run holds the store's lock: exit 5.
    #[error("{0}")]
    Locked(String),
    /// A usage error that lists what it found (the users of a name), one a line: exit 2.
    #[error("{}", listed(.head, .lines))]
    Listed { head: String, lines: Vec<String> },
}

/// The head, then each line indented on a line of its own.
fn listed(head: &str, lines: &[String]) -> String {
    let mut text = head.to_string();
    for line in lines {
        text.push_str("\n  ");
        text.push_str(line);
    }
    text
}

/// The exit codes of SPEC §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Failure = 1,
    Usage = 2,
    Rejected = 3,
    Blocked = 4,
    Locked = 5,
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::Usage(_) | Error::Config(_) | Error::Listed { .. } => Exit::Usage,
            Error::Rejected(_) => Exit::Rejected,
            Error::Blocked(_) => Exit::Blocked,
            Error::Locked(_) => Exit::Locked,
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", *self as u8)
    }
}

/// Shorthand for a usage error.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Error::Usage(message.into()).into()
}

/// Shorthand for a configuration error.
pub fn config(message: impl Into<String>) -> anyhow::Error {
    Error::Config(message.into()).into()
}

/// The exit code for an error chain: the first typed error in it decides, else 1.
pub fn exit_code(err: &anyhow::Error) -> Exit {
    err.chain()
        .find_map(|e| e.downcast_ref::<Error>())
        .map_or(Exit::Failure, Error::exit)
}

//! The commands roster prints for a person to paste (`to apply it anyway, run: roster apply
//! --batch 8 …`). Each runs as printed in the shell the command ran in: it carries the
//! `--config` and `--store` that command was given on its command line, made absolute (so that
//! a report mailed from cron names the organisation's files too). What came from
//! `ROSTER_CONFIG`, `ROSTER_STORE` or `./roster.toml` is left out: the same shell has it.

use crate::core::text::shell_option;
use std::path::Path;
use std::sync::OnceLock;

static ROSTER: OnceLock<String> = OnceLock::new();
static SOURCE: OnceLock<String> = OnceLock::new();

/// Record the global options of this invocation; called once, before any command runs.
pub fn set_options(config: Option<&Path>, store: Option<&Path>) {
    let mut words = String::from("roster");
    for (flag, path) in [("--config", config), ("--store", store)] {
        if let Some(path) = path {
            let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            words.push(' ');
            words.push_str(&shell_option(flag, &path.to_string_lossy()));
        }
    }
    // A second call (the tests of one process) keeps the first: one invocation, one prefix.
    let _ = ROSTER.set(words);
}

/// Record the `--source` of this invocation (`fetch`, `sync`), which the commands it names
/// for the same source (`fetch --check --trust-host-key`, `sync`) carry.
pub fn set_source(source: Option<&str>) {
    let _ = SOURCE
        .set(source.map_or_else(String::new, |s| format!(" {}", shell_option("--source", s))));
}

/// ` --source URL` as this invocation was given it, else nothing.
pub fn source() -> &'static str {
    SOURCE.get().map_or("", String::as_str)
}

/// `roster` and the global options of this invocation: what every printed command starts with.
pub fn roster() -> &'static str {
    ROSTER.get().map_or("roster", String::as_str)
}

/// A positional argument and an option after it, as a shell reads them back: `'Car park'
/// --force`, quoted when it needs it; `--force -- -Natt` when it starts with `-`, which
/// before the option would be read as one.
pub fn arg_then(word: &str, option: &str) -> String {
    let quoted = crate::core::text::shell_word(word);
    if word.starts_with('-') {
        format!("{option} -- {quoted}")
    } else {
        format!("{quoted} {option}")
    }
}

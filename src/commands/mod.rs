//! One module per subcommand: load, call the library, render. No command calls another's `run`.

pub mod apply;
pub mod batches;
pub mod completions;
pub mod diff;
pub mod fetch;
pub mod groups;
pub mod push;
pub mod report;
pub mod status;
pub mod sync;
pub mod users;
pub mod validate;

use crate::cli::Format;
use crate::config::Config;
use crate::error;

/// What every command that runs gets: the configuration and the global flags.
pub struct Context {
    pub config: Config,
    pub quiet: bool,
    pub verbose: u8,
    pub format: Option<Format>,
}

impl Context {
    /// The chosen format, or a usage error when this command does not print it.
    pub fn format(&self, allowed: &[Format]) -> anyhow::Result<Format> {
        let f = self.format.unwrap_or(Format::Table);
        if allowed.contains(&f) {
            Ok(f)
        } else {
            let names: Vec<String> = allowed
                .iter()
                .map(|a| format!("{a:?}").to_lowercase())
                .collect();
            Err(error::usage(format!(
                "this command does not print --format {}; use one of: {}",
                format!("{f:?}").to_lowercase(),
                names.join(", ")
            )))
        }
    }
}

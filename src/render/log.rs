//! `-v` and `-vv` (SPEC §3.1): the library says what it does through the `log` facade; this
//! writes it to stderr. `-v` shows one line per stage (stage, time taken, counts), `-vv` adds
//! the SSH, SMTP and SQLite steps. Messages never carry a secret: passwords and passphrases
//! are never formatted into them, only user names, hosts, paths and counts.

use log::{LevelFilter, Log, Metadata, Record};
use std::io::Write;

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        // Only roster's own lines: the crates below it have their own views of "debug".
        m.target().starts_with("roster") && m.level() <= log::max_level()
    }

    fn log(&self, r: &Record<'_>) {
        if self.enabled(r.metadata()) {
            let line = format!("roster: {}", r.args());
            let _ = writeln!(std::io::stderr().lock(), "{}", super::message(&line));
        }
    }

    fn flush(&self) {}
}

static LOGGER: Stderr = Stderr;

/// Start logging at the level `-v` asks for: without it only warnings (what a run waits for,
/// a retry), which `-q` silences too.
pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::Off,
        (false, 0) => LevelFilter::Warn,
        (false, 1) => LevelFilter::Info,
        (false, _) => LevelFilter::Debug,
    };
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

/// Seconds to the millisecond, for the stage lines.
pub fn secs(since: std::time::Instant) -> String {
    format!("{:.3}s", since.elapsed().as_secs_f64())
}

//! Progress bars on standard error, only when it is a terminal.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Off with `-q`; set once by `app` before any stage runs.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Silence every bar of this process (`-q`).
pub fn init(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

fn shown() -> bool {
    !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// A stage without a count of its own (reading, planning): its name and the time it has
/// taken, ticking, until it is cleared or dropped. Hidden unless stderr is a terminal.
pub fn stage(what: &str) -> ProgressBar {
    if !shown() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner().with_finish(indicatif::ProgressFinish::AndClear);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A stage that works through a list whose length is not known beforehand (the users of a
/// `users list`): its name, the number done so far and the time taken, ticking, until it is
/// cleared. Hidden unless stderr is a terminal; hidden too when the list is `streamed` to
/// stdout as it is read and stdout is a terminal (the output is progress enough, and a bar
/// would tear it).
pub fn counter(what: &str, streamed: bool) -> Clearing {
    Clearing(counter_bar(what, streamed))
}

fn counter_bar(what: &str, streamed: bool) -> ProgressBar {
    if !shown() || (streamed && std::io::stdout().is_terminal()) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}: {human_pos} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A stage that works through `len` rows (writing the directory, sending invitations):
/// rows done of rows to do. Hidden unless stderr is a terminal.
pub fn rows(len: u64, what: &str) -> ProgressBar {
    bar(len, what, !shown())
}

/// A bar for `len` steps of `what`, hidden unless stderr is a terminal (and not in quiet mode).
pub fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let template = if std::env::var_os("NO_COLOR").is_some() {
        "{msg} [{bar:30}] {pos}/{len} ({eta})"
    } else {
        "{msg} [{bar:30.cyan/blue}] {pos}/{len} ({eta})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// A bar for a download of `len` bytes, with the rate; hidden unless stderr is a terminal.
pub fn bytes_bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ({eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// A bar that is cleared when it goes out of scope, an error included.
pub struct Clearing(ProgressBar);

impl std::ops::Deref for Clearing {
    type Target = ProgressBar;
    fn deref(&self) -> &ProgressBar {
        &self.0
    }
}

impl Drop for Clearing {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

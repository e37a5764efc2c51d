//! Where a run is (`fetch`, `store`, `validate`, `plan`, `apply`, `invitations`, `push`, …), and
//! panics caught into errors, so that a failure or a crash of any command that writes is an
//! error naming its stage (exit 1, never 101) and, where the command records runs, a `failed`
//! run (SPEC §3 `sync`, §4 "never a panic").

use std::cell::Cell;

thread_local! {
    static CURRENT: Cell<&'static str> = const { Cell::new("start") };
}

/// Enter a stage. In debug builds `ROSTER_TEST_PANIC_AT=<stage>` panics here, so that the
/// tests can prove a crash at any stage is caught and recorded.
pub fn enter(name: &'static str) {
    CURRENT.with(|c| c.set(name));
    #[cfg(debug_assertions)]
    if std::env::var("ROSTER_TEST_PANIC_AT").is_ok_and(|s| s == name) {
        panic!("injected panic at the {name} stage (ROSTER_TEST_PANIC_AT)");
    }
}

/// A place inside a stage (in a transaction, before its commit) where, in debug builds,
/// `ROSTER_TEST_PANIC_AT=<name>` panics, so that the tests can prove a crash in the middle of a
/// write leaves the store as it was. The stage stays the one entered.
pub fn crash_point(name: &'static str) {
    #[cfg(debug_assertions)]
    if std::env::var("ROSTER_TEST_PANIC_AT").is_ok_and(|s| s == name) {
        panic!("injected panic at {name} (ROSTER_TEST_PANIC_AT)");
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}

/// The stage this thread is at.
pub fn current() -> &'static str {
    CURRENT.with(Cell::get)
}

/// A panic caught by [`catching_panics`]: a bug in roster, turned into an error.
#[derive(Debug)]
pub struct Panicked {
    /// The panic's message and where it happened.
    pub what: String,
}

impl std::fmt::Display for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "roster crashed (a panic: {}); this is a bug in roster, please report it",
            self.what
        )
    }
}

impl std::error::Error for Panicked {}

/// The message of the last panic, with where it happened, caught by [`catching_panics`].
static PANICKED: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Run `work`, turning a panic into a [`Panicked`] error (with its message and place) rather
/// than an abort with half a story and exit 101. A transaction open at the panic is rolled back
/// as the panic unwinds, so the store keeps its before-state.
pub fn catching_panics<T>(work: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let before = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        let place = info
            .location()
            .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        if let Ok(mut p) = PANICKED.lock() {
            *p = Some(format!("{what}{place}"));
        }
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    std::panic::set_hook(before);
    result.unwrap_or_else(|_| {
        let what = PANICKED
            .lock()
            .ok()
            .and_then(|mut p| p.take())
            .unwrap_or_else(|| "no message".into());
        Err(Panicked { what }.into())
    })
}

/// Whether this error is a caught panic.
pub fn is_panic(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<Panicked>())
}

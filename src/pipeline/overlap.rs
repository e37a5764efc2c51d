//! `sync`'s fetch, store and read at once, each as soon as it can start: the file arrives
//! while the store's directory loads, and is stored while it is read.

use super::read::{bytes_text, log_read, KEEP_PROBLEMS};
use super::stage;
use super::store::{batch_content, store_hashed, Count};
use crate::config::Config;
use crate::core::file::ImportFile;
use crate::input::{self, give_back, Cut, Gate, Given};
use crate::store::batches::{sha256_hex, Batch, Stored};
use crate::store::directory::Loaded;
use crate::store::Store;
use crate::transport::Fetched;
use std::sync::mpsc::Sender;
use std::sync::{OnceLock, RwLock};
use std::thread::ScopedJoinHandle;

/// What `sync` has once the file is fetched: the bytes, the batch they are (a new one, the
/// newest, or a reverted one), and, when an apply follows, the file read with the store's
/// directory loaded beside it.
pub struct Fetch {
    pub fetched: Fetched,
    pub stored: Stored,
    pub read: Option<Box<Prepared>>,
    /// The reading gave the bytes back as it went (`fetched.bytes` is empty): they are the
    /// new batch's, in the store ([`batch_content`]).
    pub given_back: bool,
}

/// A file read, and the store's directory loaded, before the apply (with no write to the
/// directory between).
pub struct Prepared {
    pub file: ImportFile,
    pub directory: Loaded,
}

/// `sync`'s fetch, store and read, each as soon as it can start: the file is fetched on a
/// thread of its own while this one loads the store's directory (the load costs nothing while
/// the bytes arrive); that thread then reads the file on the other cores while this one
/// hashes and stores it. A file equal to the newest batch, already applied, or to a reverted
/// batch is neither read nor stored again (the load is cut short, and the reading of a
/// reverted one is thrown away).
pub fn fetch_store_and_read(
    store: &Store,
    config: &Config,
    fetch: impl FnOnce() -> anyhow::Result<Fetched> + Send,
) -> anyhow::Result<Fetch> {
    let newest = store.newest_batch()?.filter(|b| b.status == "applied");
    let interrupt = store.interrupt_handle();
    let opts = config.read_options();
    let slot: Slot = OnceLock::new();
    // Into a store that no file was applied to yet (a first import), the reading is the peak:
    // it waits for the store rather than make all the records beside the whole text.
    let gate = Gate::new(newest.is_none());
    let (fetched_tx, fetched_rx) = std::sync::mpsc::channel::<()>();
    let started = std::time::Instant::now();
    let outcome = std::thread::scope(
        |s| -> anyhow::Result<(Stored, Option<Box<Prepared>>, bool)> {
            // Should this thread stop early (an error, a panic), the reading waits for no store.
            let _never = Never(&gate);
            let arrival = Arrival {
                newest: newest.as_ref(),
                slot: &slot,
                gate: &gate,
                opts: &opts,
                started,
            };
            // The sender goes with the thread: a fetch that fails drops it unsent.
            let fetching = s.spawn(move || fetch_then_read(fetch, &arrival, interrupt, fetched_tx));
            let loaded = load_directory(store);
            let Ok(()) = fetched_rx.recv() else {
                // The fetch failed.
                return match joined(fetching, &slot) {
                    Err(e) => Err(e),
                    Ok(_) => Err(anyhow::anyhow!("the fetch ended without a file")),
                };
            };
            store_while_read(store, config, &slot, &gate, fetching, loaded, started)
        },
    );
    let (stored, read, given_back) = outcome?;
    let Some(arrived) = slot.into_inner() else {
        return Err(anyhow::anyhow!("the fetch ended without a file"));
    };
    let mut fetched = arrived.fetched;
    fetched.bytes = arrived
        .bytes
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(Fetch {
        fetched,
        stored,
        read,
        given_back,
    })
}

/// Where the fetching thread leaves the file.
type Slot = OnceLock<Arrived>;

/// The fetched file as both threads share it: its bytes apart, which the reading may cut
/// once they are stored ([`input::read_giving_back`]).
struct Arrived {
    /// The file, its bytes moved to `bytes`.
    fetched: Fetched,
    bytes: RwLock<Vec<u8>>,
    /// How many bytes were fetched.
    size: usize,
    /// The SHA-256 of the bytes, when they were hashed on the fetching thread.
    sha256: Option<String>,
}

/// Tells the reading, when dropped, that the bytes will not be stored by this thread (unless
/// it said otherwise before), so that it never waits for a thread that has stopped.
struct Never<'a>(&'a Gate);

impl Drop for Never<'_> {
    fn drop(&mut self) {
        self.0.set(Cut::Never);
    }
}

/// What the fetching thread needs besides the fetch: the newest applied batch, where to leave
/// the file, and how to read it.
struct Arrival<'a> {
    newest: Option<&'a Batch>,
    slot: &'a Slot,
    /// Whether the reading may cut the bytes behind it (once they are stored).
    gate: &'a Gate,
    opts: &'a input::ReadOptions,
    /// When the fetch started, for the `-vv` time of the read.
    started: std::time::Instant,
}

/// The fetching thread: fetch, leave the file in the slot and tell the store's thread, then
/// read it. Only a file of the newest applied batch's size may be that batch: it is hashed
/// before it is read, and when it is that batch the load is stopped and nothing is read. A
/// fetch that fails stops the load too.
fn fetch_then_read(
    fetch: impl FnOnce() -> anyhow::Result<Fetched>,
    arrival: &Arrival<'_>,
    interrupt: rusqlite::InterruptHandle,
    fetched_tx: Sender<()>,
) -> anyhow::Result<Option<Given>> {
    let mut fetched = match fetch() {
        Ok(f) => f,
        Err(e) => {
            // The load is not needed (nothing when it has ended).
            interrupt.interrupt();
            return Err(e);
        }
    };
    let newest = arrival.newest;
    let same_size = newest.is_some_and(|b| b.size == fetched.bytes.len() as i64);
    let sha256 = same_size.then(|| sha256_hex(&fetched.bytes));
    let same = sha256
        .as_deref()
        .is_some_and(|sha256| newest.is_some_and(|b| b.sha256 == sha256));
    let bytes = std::mem::take(&mut fetched.bytes);
    let arrived = arrival.slot.get_or_init(|| Arrived {
        fetched,
        size: bytes.len(),
        bytes: RwLock::new(bytes),
        sha256,
    });
    // The load is stopped before the store is told: an interrupt after it could land on the
    // store's next statement instead (a file that is there at once, like one a waiting sync
    // fetched, made that happen).
    if same {
        interrupt.interrupt();
    }
    fetched_tx.send(()).ok();
    if same {
        return Ok(None);
    }
    let file = input::read_giving_back(&arrived.bytes, arrival.gate, arrival.opts, KEEP_PROBLEMS);
    log::debug!(
        "read: the file read in {}",
        crate::render::log::secs(arrival.started)
    );
    Ok(Some(file))
}

/// The fetching thread's end: its reading, or its panic raised again here, at the stage it
/// was at (the read once the file is there, else the fetch).
fn joined(
    fetching: ScopedJoinHandle<'_, anyhow::Result<Option<Given>>>,
    slot: &Slot,
) -> anyhow::Result<Option<Given>> {
    fetching.join().unwrap_or_else(|panic| {
        stage::enter(if slot.get().is_some() {
            "validate"
        } else {
            "fetch"
        });
        std::panic::resume_unwind(panic)
    })
}

/// The store stage on this thread while the fetching thread reads the file: hash and store
/// it, then take the reading and the directory loaded meanwhile (loaded again if its load was
/// cut short). A reverted batch's file is not stored again, and its reading is thrown away;
/// the newest applied batch's file was not read. Once a new batch is stored, the reading may
/// give the bytes back ([`input::read_giving_back`]); whether it did comes back too.
fn store_while_read(
    store: &Store,
    config: &Config,
    slot: &Slot,
    gate: &Gate,
    fetching: ScopedJoinHandle<'_, anyhow::Result<Option<Given>>>,
    loaded: anyhow::Result<Loaded>,
    started: std::time::Instant,
) -> anyhow::Result<(Stored, Option<Box<Prepared>>, bool)> {
    stage::enter("store");
    let Some(arrived) = slot.get() else {
        return Err(anyhow::anyhow!("the fetch said it ended without a file"));
    };
    let shown = crate::render::progress::stage(&format!(
        "reading {}, storing it, and loading the directory",
        bytes_text(arrived.size)
    ));
    let stored = match store_shared(store, config, arrived, started)? {
        Shared::Stored(stored) => stored,
        Shared::Reverted(batch) => {
            // Not stored again, its reading thrown away.
            gate.set(Cut::Never);
            joined(fetching, slot)?;
            return Ok((Stored::Unchanged(batch), None, false));
        }
    };
    // The bytes are stored as a new batch, and this thread reads them no more: the reading
    // may cut them behind it.
    gate.set(match &stored {
        Ok(Stored::New(_)) => Cut::Allowed,
        _ => Cut::Never,
    });
    let file = joined(fetching, slot);
    shown.finish_and_clear();
    let (stored, given) = (stored?, file?);
    // Nothing read: the file is the newest batch's, and nothing follows.
    let Some(given) = given else {
        return Ok((stored, None, false));
    };
    let (file, given_back) = match given {
        Given::Read { file, cut } => (*file, cut),
        Given::Again => (read_again(store, config, arrived, &stored)?, false),
    };
    log_read(&file, arrived.size, started);
    let directory = match loaded {
        Ok(loaded) => loaded,
        Err(_) => load_directory(store)?,
    };
    let prepared = Box::new(Prepared { file, directory });
    Ok((stored, Some(prepared), given_back))
}

/// What storing the fetched bytes came to.
enum Shared {
    /// They are a reverted batch's: not stored again.
    Reverted(crate::store::batches::Batch),
    /// Stored (as a new batch, or found the newest), or the store's error.
    Stored(anyhow::Result<Stored>),
}

/// Hash and store the fetched bytes while the fetching thread reads them (the error is the
/// look-up of a reverted batch's).
fn store_shared(
    store: &Store,
    config: &Config,
    arrived: &Arrived,
    started: std::time::Instant,
) -> anyhow::Result<Shared> {
    let bytes = give_back::to_read(&arrived.bytes);
    let sha256 = match &arrived.sha256 {
        Some(sha256) => sha256.clone(),
        None => sha256_hex(&bytes),
    };
    if let Some(batch) = store.reverted_batch(&sha256)? {
        return Ok(Shared::Reverted(batch));
    }
    let stored = store_hashed(
        store,
        config,
        &arrived.fetched,
        &bytes,
        &sha256,
        Count::ByApply,
    );
    log::debug!(
        "store: the file stored in {}",
        crate::render::log::secs(started)
    );
    Ok(Shared::Stored(stored))
}

/// The file read again from its new batch in the store, when the reading needed bytes it had
/// given back already (a span that ends inside a quoted cell); the bytes are back too.
fn read_again(
    store: &Store,
    config: &Config,
    arrived: &Arrived,
    stored: &Stored,
) -> anyhow::Result<ImportFile> {
    let (Stored::New(batch) | Stored::Unchanged(batch)) = stored;
    let content = batch_content(store, config, batch)?;
    let file = input::read_keeping(&content, &config.read_options(), KEEP_PROBLEMS);
    *give_back::to_write(&arrived.bytes) = content;
    Ok(file)
}

/// The store's directory, loaded (and the time it took, at -vv).
fn load_directory(store: &Store) -> anyhow::Result<Loaded> {
    let loading = std::time::Instant::now();
    let loaded = Loaded::load(store);
    log::debug!(
        "sqlite: the directory loaded in {}",
        crate::render::log::secs(loading)
    );
    loaded
}

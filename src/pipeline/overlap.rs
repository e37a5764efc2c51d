//! `sync`'s fetch, store and read at once, each as soon as it can start: the file arrives
//! while the store's directory loads, and is stored while it is read.

use super::read::{bytes_text, log_read, KEEP_PROBLEMS};
use super::stage;
use super::store::{store_hashed, Count};
use crate::config::Config;
use crate::core::file::ImportFile;
use crate::input;
use crate::store::batches::{sha256_hex, Batch, Stored};
use crate::store::directory::Loaded;
use crate::store::Store;
use crate::transport::Fetched;
use std::sync::mpsc::Sender;
use std::sync::OnceLock;
use std::thread::ScopedJoinHandle;

/// What `sync` has once the file is fetched: the bytes, the batch they are (a new one, the
/// newest, or a reverted one), and, when an apply follows, the file read with the store's
/// directory loaded beside it.
pub struct Fetch {
    pub fetched: Fetched,
    pub stored: Stored,
    pub read: Option<Box<Prepared>>,
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
    let (fetched_tx, fetched_rx) = std::sync::mpsc::channel::<()>();
    let started = std::time::Instant::now();
    let outcome = std::thread::scope(|s| -> anyhow::Result<(Stored, Option<Box<Prepared>>)> {
        let arrival = Arrival {
            newest: newest.as_ref(),
            slot: &slot,
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
        store_while_read(store, config, &slot, fetching, loaded, started)
    });
    let (stored, read) = outcome?;
    let Some((fetched, _)) = slot.into_inner() else {
        return Err(anyhow::anyhow!("the fetch ended without a file"));
    };
    Ok(Fetch {
        fetched,
        stored,
        read,
    })
}

/// Where the fetching thread leaves the file, with its SHA-256 when it was hashed there.
type Slot = OnceLock<(Fetched, Option<String>)>;

/// What the fetching thread needs besides the fetch: the newest applied batch, where to leave
/// the file, and how to read it.
struct Arrival<'a> {
    newest: Option<&'a Batch>,
    slot: &'a Slot,
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
) -> anyhow::Result<Option<ImportFile>> {
    let fetched = match fetch() {
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
    let (fetched, _) = arrival.slot.get_or_init(|| (fetched, sha256));
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
    let file = input::read_keeping(&fetched.bytes, arrival.opts, KEEP_PROBLEMS);
    log::debug!(
        "read: the file read in {}",
        crate::render::log::secs(arrival.started)
    );
    Ok(Some(file))
}

/// The fetching thread's end: its reading, or its panic raised again here, at the stage it
/// was at (the read once the file is there, else the fetch).
fn joined(
    fetching: ScopedJoinHandle<'_, anyhow::Result<Option<ImportFile>>>,
    slot: &Slot,
) -> anyhow::Result<Option<ImportFile>> {
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
/// the newest applied batch's file was not read.
fn store_while_read(
    store: &Store,
    config: &Config,
    slot: &Slot,
    fetching: ScopedJoinHandle<'_, anyhow::Result<Option<ImportFile>>>,
    loaded: anyhow::Result<Loaded>,
    started: std::time::Instant,
) -> anyhow::Result<(Stored, Option<Box<Prepared>>)> {
    stage::enter("store");
    let Some((fetched, sha256)) = slot.get() else {
        return Err(anyhow::anyhow!("the fetch said it ended without a file"));
    };
    let sha256 = match sha256 {
        Some(sha256) => sha256.clone(),
        None => sha256_hex(&fetched.bytes),
    };
    if let Some(batch) = store.reverted_batch(&sha256)? {
        joined(fetching, slot)?;
        return Ok((Stored::Unchanged(batch), None));
    }
    let shown = crate::render::progress::stage(&format!(
        "reading {}, storing it, and loading the directory",
        bytes_text(fetched.bytes.len())
    ));
    let stored = store_hashed(store, config, fetched, &sha256, Count::ByApply);
    log::debug!(
        "store: the file stored in {}",
        crate::render::log::secs(started)
    );
    let file = joined(fetching, slot);
    shown.finish_and_clear();
    let (stored, file) = (stored?, file?);
    // No file: it is the newest batch's, and nothing follows.
    let Some(file) = file else {
        return Ok((stored, None));
    };
    log_read(&file, fetched.bytes.len(), started);
    let directory = match loaded {
        Ok(loaded) => loaded,
        Err(_) => load_directory(store)?,
    };
    Ok((stored, Some(Box::new(Prepared { file, directory }))))
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

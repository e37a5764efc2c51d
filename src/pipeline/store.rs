//! The store stage: a fetched file kept as a batch (or found unchanged), and the batches a
//! command picks and reads back.

use crate::config::Config;
use crate::input;
use crate::store::batches::{sha256_hex, Batch, Stored};
use crate::store::{now, Store};
use crate::transport::Fetched;

/// When the records of a fetched file are counted (for the batch list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Now, on the other cores while SQLite stores the bytes (`fetch`).
    Now,
    /// By the apply that follows, which reads the file anyway (`sync`).
    ByApply,
}

/// Store a fetched file as a batch (or find that it is unchanged).
pub fn store_fetched(
    store: &Store,
    config: &Config,
    fetched: &Fetched,
    count: Count,
) -> anyhow::Result<Stored> {
    let bytes = &fetched.bytes;
    store_hashed(store, config, fetched, bytes, &sha256_hex(bytes), count)
}

/// [`store_fetched`] of `bytes` (the fetched file's, held apart from it) with their SHA-256
/// already computed.
pub(super) fn store_hashed(
    store: &Store,
    config: &Config,
    fetched: &Fetched,
    bytes: &[u8],
    sha256: &str,
    count: Count,
) -> anyhow::Result<Stored> {
    let opts = config.read_options();
    let (counted, stored) = std::thread::scope(|s| {
        let counting =
            (count == Count::Now).then(|| s.spawn(|| input::count_records(bytes, &opts)));
        let stored = store.store_batch(bytes, sha256, &fetched.source, fetched.mtime);
        (counting.map(|c| c.join()), stored)
    });
    let stored = match (stored?, counted) {
        (Stored::New(batch), Some(counted)) => {
            let records = counted.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Stored::New(store.set_batch_records(batch, records)?)
        }
        (stored, _) => stored,
    };
    store.set_meta("last_fetch_at", &now())?;
    // The remote file's mtime at this fetch, for `status` (an unchanged file stores no batch).
    if let Some(mtime) = fetched.mtime {
        store.set_meta("last_fetch_mtime", &mtime.to_string())?;
    }
    store.prune(config.store.keep_batches, config.store.keep_history)?;
    Ok(stored)
}

/// Pick a batch: the given one, else the newest.
pub fn pick_batch(store: &Store, id: Option<i64>) -> anyhow::Result<Option<Batch>> {
    match id {
        Some(id) => match store.batch(id)? {
            Some(b) => Ok(Some(b)),
            None => Err(crate::error::usage(format!(
                "there is no batch {id}; see {} batches list",
                crate::core::command::roster()
            ))),
        },
        None => store.newest_batch(),
    }
}

/// The bytes of a stored batch.
pub fn batch_content(store: &Store, config: &Config, batch: &Batch) -> anyhow::Result<Vec<u8>> {
    store.batch_content(batch.id)?.ok_or_else(|| {
        anyhow::anyhow!(
            "the content of batch {} was pruned (store.keep_batches = {} days); fetch the file again",
            batch.id,
            config.store.keep_batches
        )
    })
}

/// Whether only `apply --force` applies this batch: it is older than the newest applied
/// batch (a rollback), or it was reverted.
pub fn needs_force(store: &Store, batch: &Batch) -> anyhow::Result<bool> {
    Ok(batch.status == "reverted"
        || store
            .newest_applied_batch()?
            .is_some_and(|applied| batch.id < applied.id))
}

/// Why the file of an applied batch is planned again though its bytes are the batch's (SPEC
/// §2): the settings that shape its plan changed since it was applied, or groups that its run
/// ignored as unknown exist now, so their memberships wait. None: the file is unchanged.
pub fn plans_again(
    store: &Store,
    config: &Config,
    batch: &Batch,
) -> anyhow::Result<Option<String>> {
    if batch.status != "applied" {
        return Ok(None);
    }
    if store.batch_settings(batch.id)?.as_deref() != Some(&config.plan_fingerprint()) {
        return Ok(Some(
            "the settings that shape its plan changed since it was applied".into(),
        ));
    }
    // Under `import.unknown_groups = "create"` (the setting the batch was applied with, as
    // the fingerprint says) its run created the groups and kept their memberships.
    if creates_groups(config) {
        return Ok(None);
    }
    const NAMED: usize = 3;
    let known = store.batch_groups_known_now(batch.id, NAMED + 1)?;
    if known.is_empty() {
        return Ok(None);
    }
    let mut ids: Vec<String> = known
        .keys()
        .take(NAMED)
        .map(|g| crate::render::cell(g))
        .collect();
    if known.len() > NAMED {
        ids.push("…".into());
    }
    Ok(Some(format!(
        "groups that its run ignored as unknown exist now ({})",
        ids.join(", ")
    )))
}

/// True when imports create the groups a file names that do not exist
/// (`import.unknown_groups = "create"`): no membership waits for them.
pub fn creates_groups(config: &Config) -> bool {
    config.import.unknown_groups == crate::config::UnknownGroups::Create
}

/// Who reverted a batch, for a person: `run 12`, or `a later run` when the store no longer says.
pub fn reverted_by(store: &Store, batch: i64) -> anyhow::Result<String> {
    Ok(store
        .batch_reverted_by(batch)?
        .map_or_else(|| "a later run".to_string(), |r| format!("run {r}")))
}

//! What `roster status` says (SPEC §3, §5), as one value: the last fetch, run, apply and
//! report, invitations, held plans, a run in progress, the directory's size, the push, and
//! what is true now ([`Now`]) with the health it gives. Rendered as a table, JSON and the
//! Prometheus text format by `render::status`.

use super::report::{Held, Run};
use super::signal::{Attention, Level, Now};
use serde::Serialize;

/// The newest stored file, and when a fetch last looked.
#[derive(Debug, Clone, Serialize)]
pub struct Fetch {
    /// When the last fetch ran (an unchanged file stores no batch).
    pub at: String,
    /// When this content arrived (its batch's time).
    pub changed_at: String,
    pub batch: i64,
    pub sha256: String,
    pub status: String,
    pub source: String,
    /// The remote file's mtime (seconds since the epoch), when known.
    pub remote_mtime: Option<i64>,
}

/// A run holding the store's lock.
#[derive(Debug, Clone, Serialize)]
pub struct InProgress {
    pub pid: Option<u32>,
    pub since: String,
}

/// Everything `status` shows.
#[derive(Debug, Clone)]
pub struct Status {
    pub now: Now,
    pub last_fetch: Option<Fetch>,
    /// The newest run that is not a manual edit: the last apply (SPEC §6 `last_apply`),
    /// whatever its status.
    pub last_run: Option<Run>,
    /// The newest `sync` or `apply` that applied a file or found it unchanged (an approved
    /// held batch and a forced rollback too; not a revert nor a manual edit).
    pub last_success: Option<Run>,
    /// The newest `sync`, `apply` or `revert` that applied its changes.
    pub last_applied: Option<Run>,
    pub last_report: Option<String>,
    pub pending_invitations: i64,
    pub failed_invitations: i64,
    pub held: Vec<(Run, Held)>,
    pub in_progress: Option<InProgress>,
    pub active: u64,
    pub deactivated: u64,
    /// Seconds since the source file's content last changed.
    pub source_age: Option<i64>,
    /// For each run status, when the newest run of it finished.
    pub last_run_times: Vec<(String, String)>,
    /// The push as `scim::status` gives it (with `[scim]`, or after a push).
    pub push: Option<serde_json::Value>,
    /// The attributes the provider did not keep, for people (`title (1,772 users)`).
    pub push_dropped: Option<String>,
    /// The store's mode lets others read it.
    pub store_readable_by_others: bool,
}

impl Status {
    /// Why it is unhealthy (empty: healthy).
    pub fn unhealthy(&self) -> Vec<String> {
        self.now.unhealthy()
    }

    pub fn healthy(&self) -> bool {
        self.unhealthy().is_empty()
    }

    /// The worst open status now: what a report's subject would say.
    pub fn level(&self) -> Level {
        self.now.level()
    }

    pub fn attention(&self) -> Vec<Attention> {
        self.now.attention()
    }
}

/// The stage at which a failed run stopped (`fetch`, `apply`, …), as the run recorded it.
pub fn stage_of(run: &Run) -> Option<&str> {
    run.detail.as_ref()?.get("stage")?.as_str()
}

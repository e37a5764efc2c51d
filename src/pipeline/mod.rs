//! The stages of an import as functions, shared by the stage commands and by `sync`, so that
//! there is one implementation of each. One file per stage, in the order a night runs them
//! (`sync`'s chain is `commands/sync/night.rs`):
//!
//! | stage | file | what it does |
//! |---|---|---|
//! | fetch | `fetch.rs`, `wait.rs` | read the source (SFTP, a path, stdin); `source.wait_for = "new"` |
//! | store | `store.rs` | keep the fetched bytes as a batch (or find them unchanged); pick a batch |
//! | validate | `read.rs` | read the file beside the store's directory; check its Group IDs |
//! | (the three at once) | `overlap.rs` | `sync`'s fetch, store and read, each as soon as it can start |
//! | plan | `plan.rs` | the plan's settings, the plan, the churn safeguard's `-v` line |
//! | safeguards | `safeguards.rs` | hold a plan a safeguard blocks; `--expect-plan`; the command that proceeds |
//! | apply | `apply.rs`, `outcome.rs` | reject, hold or write a plan in one transaction; how it ended |
//! | invitations | `invite.rs` | send the pending invitations, each at most once, paced |
//! | delete | `delete.rs` | remove the remote file after an applied import |
//! | push | `push.rs` | push to the SCIM provider after the commit |
//! | report | `report.rs`, `report_mail.rs` | build the report and `status`; mail the report when due |
//!
//! Beside them: `run.rs` (what a run records: the operator's reason and overrides, its detail,
//! a crash) and `mailer.rs` (the mailer `[mail]` describes, for invitations and the report).

pub mod apply;
pub mod delete;
pub mod fetch;
pub mod invite;
pub mod mailer;
pub mod outcome;
pub mod overlap;
pub mod plan;
pub mod push;
pub mod read;
pub mod report;
pub mod report_mail;
pub mod run;
pub mod safeguards;
pub mod store;
pub mod wait;

pub use crate::stage;

#[cfg(test)]
pub(crate) use apply::apply_text;
pub use apply::{apply, Input};
pub use delete::delete_after_import;
pub use fetch::{read_source, sftp_options, source};
pub use invite::{send_invitations, send_pending_invitations, Sent};
pub use mailer::{mail_per_minute, mailer};
pub use outcome::{Outcome, Status};
pub use overlap::{fetch_store_and_read, Fetch, Prepared};
pub use plan::{plan, settings, settings_for};
pub use push::{push, push_after_commit};
pub use read::{
    read_against, read_batch, read_batch_keeping, read_keeping, GroupWarnings, KEEP_PROBLEMS,
};
pub use report::{build_night_report, build_report, status_of, what_is_true_now};
pub use report_mail::{report_due, send_report, stale_days};
pub use run::{note_operator, overrides, record_crash, tripped_detail, Recorded};
pub use safeguards::{proceed, releases, tripped, would_hold};
pub use store::{
    batch_content, needs_force, pick_batch, plans_again, reverted_by, store_fetched, Count,
};
pub use wait::wait_for_new;

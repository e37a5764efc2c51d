//! The push stage: the directory to the provider of `[scim]` after the commit (SPEC §8).

use super::stage;
use crate::config::Config;
use crate::store::Store;

/// Push to the provider of `[scim]`, and note which runs a push that went through carried,
/// so that `status` knows since when changes wait (SPEC §5 "Honest health").
pub fn push(
    store: &mut Store,
    config: &Config,
    options: &crate::scim::Options,
) -> anyhow::Result<crate::scim::Outcome> {
    let through = store.newest_run_id()?;
    let outcome = crate::scim::push(store, config, options)?;
    if matches!(outcome.status, "pushed" | "partial") {
        store.note_pushed_through(through)?;
    }
    Ok(outcome)
}

/// What a push after a commit that failed or did not complete says first.
pub const COMMITTED: &str = "the directory is committed, but the push to the SCIM provider";

/// After a committed `apply` or `revert` (SPEC §2): push to the provider of `[scim]` as `sync`
/// does, with the run's `--allow-removals` for the push's safeguard. `None` without `[scim]`.
/// A push that failed is an error that says the directory is committed; one that did not
/// complete (blocked, refused, unconfirmed) is its outcome, whose line is shown before its
/// error as `sync` shows it.
pub fn push_after_commit(
    store: &mut Store,
    config: &Config,
    allow_removals: Option<u64>,
    quiet: bool,
) -> Option<anyhow::Result<crate::scim::Outcome>> {
    config.scim.as_ref()?;
    stage::enter("push");
    let options = crate::scim::Options {
        dry_run: false,
        full: false,
        allow_removals,
        quiet,
    };
    Some(push(store, config, &options).map_err(|e| e.context(format!("{COMMITTED} failed"))))
}

//! What a run records beside its plan: the operator's reason and `--allow-*` overrides, the
//! detail kept for reports, and a crash turned into a `failed` run naming its stage.

use super::stage;
use crate::cli::ApplyArgs;
use crate::core::plan::{self, Plan};
use crate::store::runs::NewRun;
use crate::store::Store;

/// A failure that is already recorded as a run: the caller does not record it again.
#[derive(Debug)]
pub struct Recorded {
    pub run: i64,
    pub message: String,
}

impl std::fmt::Display for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// After a command that records runs (`apply`, `revert`) crashed: record a `failed` run naming
/// the stage it stopped at (the panic's transaction is rolled back, so the store holds the state
/// before that stage), so that `status` is unhealthy and the report shows it (SPEC §3). The
/// error that comes back says the stage and, when recorded, is [`Recorded`].
pub fn record_crash(
    store: &Store,
    command: &str,
    batch: Option<i64>,
    started_at: &str,
    err: anyhow::Error,
) -> anyhow::Error {
    let stage = stage::current();
    let message = format!(
        "{command} failed at the {stage} stage: {err:#}. What that stage wrote was rolled back; \
         fix the cause (a crash is a bug to report), then run roster {command} again"
    );
    let said = format!("{command} failed at the {stage} stage");
    match store.record_run(&NewRun {
        batch,
        command,
        started_at,
        status: "failed",
        counts: None,
        message: Some(&message),
        detail: Some(&serde_json::json!({"stage": stage})),
        unknown_groups: None,
        problems: &[],
        each_problem: None,
        rejected: None,
    }) {
        Ok(run) => err.context(Recorded { run, message: said }),
        Err(e) => err.context(format!(
            "{said}, and the failure could not be recorded in the store: {e:#}"
        )),
    }
}

/// The `--allow-*` flags of a run, as JSON shows them (SPEC §6).
pub fn overrides(args: &ApplyArgs) -> serde_json::Value {
    serde_json::json!({
        "allow_removals": args.allow.allow_removals,
        "allow_updates": args.allow.allow_updates,
        "allow_invalid": args.allow.allow_invalid,
        "allow_creates": args.allow_creates,
        "allow_unknown_groups": args.allow_unknown_groups.then_some(true),
    })
}

/// Record the reason and the overrides of this run with every run the store writes.
pub fn note_operator(store: &mut Store, args: &ApplyArgs) {
    store.operator.reason = args.reason.clone();
    let any = args.allow.allow_removals.is_some()
        || args.allow.allow_updates.is_some()
        || args.allow.allow_invalid.is_some()
        || args.allow_creates.is_some()
        || args.allow_unknown_groups;
    store.operator.overrides = any.then(|| overrides(args));
}

/// The safeguards of a plan for the run's record: those that tripped, and those that an
/// `--allow-*` flag let through (`"overridden": true`).
pub fn tripped_detail(plan: &Plan) -> Vec<serde_json::Value> {
    let tripped = plan.tripped.iter().map(|t| (t, false));
    let overridden = plan.overridden.iter().map(|t| (t, true));
    tripped
        .chain(overridden)
        .map(|(t, overridden)| {
            let mut v = serde_json::to_value(t).unwrap_or_default();
            v["overridden"] = overridden.into();
            v
        })
        .collect()
}

/// The detail kept with a run, for reports: what tripped, who is removed and the updates per
/// field. The rejected records are written from the plan's changes
/// ([`NewRun::rejected`]): as a JSON tree they cost a kilobyte each (SPEC §5).
pub(super) fn detail(plan: Option<&Plan>, dry_run: bool) -> serde_json::Value {
    let Some(plan) = plan else {
        return serde_json::json!({});
    };
    let removals: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action == plan::Action::Remove)
        .map(|c| serde_json::json!({"unique_id": c.unique_id, "name": c.name()}))
        .collect();
    let mut fields: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for c in plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, plan::Action::Update | plan::Action::Reactivate))
    {
        for f in c.fields() {
            *fields.entry(f.field).or_default() += 1;
        }
    }
    // The unknown groups go with the run from the plan ([`NewRun::unknown_groups`]).
    serde_json::json!({"tripped": tripped_detail(plan), "removals": removals, "dry_run": dry_run,
        "fields": fields})
}

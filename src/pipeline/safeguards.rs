//! The safeguards stage: a plan that a safeguard blocks is held (recorded `blocked` with its
//! digest), a reviewed plan checked with `--expect-plan`, and the one command that proceeds.

use super::outcome::Status;
use super::run::detail;
use crate::cli::ApplyArgs;
use crate::core::file::ImportFile;
use crate::core::plan::{self, Plan};
use crate::store::batches::Batch;
use crate::store::runs::NewRun;
use crate::store::Store;

/// Where a plan stops before it is written: its run (when recorded), status and reason, and
/// for a plan a safeguard holds (or would hold, in a dry run) the one command that proceeds.
pub(super) struct Stop {
    pub(super) run: Option<i64>,
    pub(super) status: Status,
    pub(super) reason: Option<String>,
    pub(super) proceed: Option<String>,
}

/// Check a plan before it is written: a plan other than the one reviewed (`--expect-plan`)
/// stops with nothing recorded; a plan a safeguard blocks is held; a dry run stops here (one
/// that a safeguard would hold says so, with nothing recorded). `None`: write it.
pub(super) fn check(
    store: &Store,
    held: &Held<'_>,
    plan: &Plan,
    file: &ImportFile,
    each_problem: crate::core::problem::EachProblem<'_>,
    args: &ApplyArgs,
) -> anyhow::Result<Option<Stop>> {
    let stale = args
        .expect_plan
        .as_deref()
        .and_then(|expected| stale_plan(held.batch.id, plan, file, expected));
    if let Some(reason) = stale {
        // Nothing is written and no run recorded: the operator reviews the plan again.
        return Ok(Some(Stop {
            run: None,
            status: Status::PlanChanged,
            reason: Some(reason),
            proceed: None,
        }));
    }
    if plan.blocked() {
        return hold(store, held, plan, file, each_problem, args.dry_run).map(Some);
    }
    Ok(args.dry_run.then_some(Stop {
        run: None,
        status: Status::DryRun,
        reason: None,
        proceed: None,
    }))
}

/// `--expect-plan DIGEST` against the plan computed now: the message when it is another plan.
fn stale_plan(batch: i64, plan: &Plan, file: &ImportFile, expected: &str) -> Option<String> {
    let digest = plan.digest(file);
    (digest != expected).then(|| {
        format!(
            "the plan of batch {batch} changed since it was reviewed: its digest is now {digest}, \
             not {expected}; nothing was applied. Review it again: {} diff --batch {batch}",
            crate::core::command::roster()
        )
    })
}

/// The run a plan that a safeguard holds is recorded as.
pub(super) struct Held<'a> {
    pub(super) batch: &'a Batch,
    pub(super) command: &'a str,
    pub(super) started_at: &'a str,
    /// The batch is applied only with `--force` (a rollback), which the command names.
    pub(super) force: bool,
}

/// Hold a plan that a safeguard blocks: record the run `blocked` with the plan's digest and
/// the one command that proceeds, and mark the batch; returns where it stopped, whose message
/// names what tripped and that command. A dry run records nothing and says what a real run
/// would do: it *would* be blocked (SPEC §2: it records no run, so nothing "was" blocked).
fn hold(
    store: &Store,
    held: &Held<'_>,
    plan: &Plan,
    file: &ImportFile,
    each_problem: crate::core::problem::EachProblem<'_>,
    dry_run: bool,
) -> anyhow::Result<Stop> {
    let batch = held.batch.id;
    let digest = plan.digest(file);
    let proceed = proceed(batch, plan, &digest, held.force);
    let was = if dry_run { "would be" } else { "was" };
    let reason = format!(
        "batch {batch} {was} blocked by a safeguard: {}; to apply it anyway, run: {proceed}",
        tripped(plan),
    );
    if dry_run {
        return Ok(Stop {
            run: None,
            status: Status::DryRun,
            reason: Some(reason),
            proceed: Some(proceed),
        });
    }
    let mut detail = detail(Some(plan), false);
    detail["plan_digest"] = digest.into();
    detail["proceed"] = proceed.as_str().into();
    let run = store.record_run(&NewRun {
        batch: Some(batch),
        command: held.command,
        started_at: held.started_at,
        status: "blocked",
        counts: Some(&plan.counts),
        message: Some(&reason),
        detail: Some(&detail),
        unknown_groups: Some(&plan.unknown_groups),
        problems: &file.problems,
        each_problem: Some(each_problem),
        rejected: Some((plan, &file.entries)),
    })?;
    store.set_batch_status(batch, "blocked")?;
    Ok(Stop {
        run: Some(run),
        status: Status::Blocked,
        reason: Some(reason),
        proceed: Some(proceed),
    })
}

/// What a dry run says of a plan that a safeguard would hold as batch `batch` (`force`: one
/// that only `--force` applies), and the one command the real run names then.
pub fn would_hold(batch: i64, plan: &Plan, file: &ImportFile, force: bool) -> (String, String) {
    let proceed = proceed(batch, plan, &plan.digest(file), force);
    let reason = format!(
        "a real run would be blocked by a safeguard ({}) and hold the file as batch {batch}; \
         to apply it anyway, run: {proceed}",
        tripped(plan),
    );
    (reason, proceed)
}

/// The one command that applies a held plan: the batch by number (`sync` would fetch whatever
/// the server holds by then), each `--allow-*` flag it needs (those this run used too) once,
/// and `--expect-plan`, so that what is approved is exactly the plan that was reviewed; with
/// `--force` when the batch is one that only `--force` applies ([`super::needs_force`]).
pub fn proceed(batch: i64, plan: &Plan, digest: &str, force: bool) -> String {
    let mut command = format!("{} apply --batch {batch}", crate::core::command::roster());
    if force {
        command.push_str(" --force");
    }
    for release in releases(plan) {
        command.push(' ');
        command.push_str(release);
    }
    command.push_str(" --expect-plan ");
    command.push_str(digest);
    command
}

/// What tripped, for a person: each tripped safeguard described, `; ` between them.
pub fn tripped(plan: &Plan) -> String {
    let what: Vec<String> = plan.tripped.iter().map(plan::Tripped::describe).collect();
    what.join("; ")
}

/// The `--allow-*` flags that let a plan through: those of the safeguards that tripped and of
/// those this run's flags overrode, each once.
pub fn releases(plan: &Plan) -> Vec<&str> {
    let mut seen: Vec<&str> = Vec::new();
    for t in plan.tripped.iter().chain(&plan.overridden) {
        if !seen.contains(&t.release.as_str()) {
            seen.push(&t.release);
        }
    }
    seen
}

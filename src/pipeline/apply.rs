//! The apply stage (SPEC §2): reject a file with a file error, hold a plan that trips a
//! safeguard, and otherwise write the plan in one transaction, recording the run.

use super::outcome::{Outcome, Status};
use super::overlap::Prepared;
use super::read::{check_groups, read_keeping_against, GroupWarnings, KEEP_PROBLEMS};
use super::run::{detail, note_operator, Recorded};
use super::safeguards::{check, Held};
use super::store::{batch_content, needs_force, reverted_by};
use super::{mail_per_minute, plan, settings_for, stage};
use crate::cli::ApplyArgs;
use crate::config::Config;
use crate::core::file::ImportFile;
use crate::core::plan::Plan;
use crate::core::problem::{EachProblem, Problem};
use crate::input;
use crate::store::apply::ApplyRun;
use crate::store::batches::Batch;
use crate::store::directory::StoreDirectory;
use crate::store::runs::NewRun;
use crate::store::{now, Store};

/// The file an apply works on.
pub enum Input<'a> {
    /// The batch's bytes in the store.
    Stored,
    /// The bytes at hand (just fetched).
    Bytes(&'a [u8]),
    /// The bytes at hand, already read beside the store's directory ([`super::fetch_store_and_read`]).
    Read(&'a [u8], Box<Prepared>),
}

/// Plan and apply a batch (SPEC §2): reject a file with a file error, hold a plan that trips a
/// safeguard, and otherwise apply it in one transaction. Records the run unless `dry_run`.
pub fn apply(
    store: &mut Store,
    config: &Config,
    batch: Batch,
    input: Input<'_>,
    args: &ApplyArgs,
    command: &str,
) -> anyhow::Result<Outcome> {
    let content = match input {
        Input::Stored => Some(batch_content(store, config, &batch)?),
        _ => None,
    };
    let (bytes, read) = match input {
        Input::Stored => (content.as_deref().unwrap_or_default(), None),
        Input::Bytes(bytes) => (bytes, None),
        Input::Read(bytes, prepared) => (bytes, Some(prepared)),
    };
    let mut outcome = apply_bytes(store, config, batch, bytes, read, args, command)?;
    if !outcome.file.dropped.is_empty() {
        outcome.source = content;
    }
    Ok(outcome)
}

/// The run an apply records: the command that runs it, and when it started.
struct Recording<'a> {
    command: &'a str,
    started_at: &'a str,
}

/// [`apply`] of a file at hand (`read` when it is read already, beside the loaded directory):
/// refuse a batch only `--force` applies, read, count, reject or plan, check the safeguards,
/// then write.
fn apply_bytes(
    store: &mut Store,
    config: &Config,
    batch: Batch,
    bytes: &[u8],
    read: Option<Box<Prepared>>,
    args: &ApplyArgs,
    command: &str,
) -> anyhow::Result<Outcome> {
    let started = now();
    let recording = Recording {
        command,
        started_at: &started,
    };
    note_operator(store, args);
    // A forced rollback to an older batch is not a night the churn safeguard learns from, nor
    // is a batch applied again (already applied, or brought back after a revert).
    let force = needs_force(store, &batch)?;
    let rollback = force || batch.status == "applied";
    if !args.force {
        refuse_unforced(store, &batch)?;
    }
    stage::enter("validate");
    let (mut file, dir) = read_for_apply(store, config, bytes, read)?;
    let batch = count_records(store, config, batch, &file, bytes, args.dry_run)?;
    if let Some(problem) = file.file_error() {
        let problem = problem.to_string();
        return reject(store, &recording, batch, file, &problem, args);
    }
    let mut plan = plan(
        &dir,
        &mut file,
        &settings_for(store, config, batch.id, args)?,
    )?;
    plan.invitations_per_minute = mail_per_minute(config);
    drop(dir);
    // Every problem, those the reading did not keep told again from the bytes.
    let opts = config.read_options();
    let file_ref = &file;
    let each_problem = |tell: &mut dyn FnMut(&Problem) -> std::io::Result<()>| {
        input::each_problem(bytes, &opts, file_ref, None, tell)
    };
    let held = Held {
        batch: &batch,
        command,
        started_at: &started,
        force,
    };
    if let Some(stop) = check(store, &held, &plan, &file, &each_problem, args)? {
        let mut outcome = Outcome::new(stop.run, batch, stop.status, file, Some(plan), stop.reason);
        outcome.proceed = stop.proceed;
        return Ok(outcome);
    }
    stage::enter("apply");
    let applied = write(
        store,
        config,
        &recording,
        &batch,
        &plan,
        &file,
        &each_problem,
        rollback,
    )?;
    Ok(Outcome::new(
        Some(applied),
        batch,
        Status::Applied,
        file,
        Some(plan),
        None,
    ))
}

/// Without `--force`: a reverted batch, or one older than the newest applied batch (a
/// rollback), is refused with the command that applies it.
fn refuse_unforced(store: &Store, batch: &Batch) -> anyhow::Result<()> {
    if batch.status == "reverted" {
        let by = reverted_by(store, batch.id)?;
        return Err(crate::error::usage(format!(
            "batch {} was reverted by {by}; to apply it again, run: {} apply --batch {} --force",
            batch.id,
            crate::core::command::roster(),
            batch.id
        )));
    }
    if let Some(applied) = store.newest_applied_batch()? {
        if batch.id < applied.id {
            return Err(crate::error::usage(format!(
                "batch {} is older than batch {}, which was applied; to roll back to it, run: {} apply --batch {} --force",
                batch.id,
                applied.id,
                crate::core::command::roster(),
                batch.id
            )));
        }
    }
    Ok(())
}

/// The file read beside the store's directory: now, or as `sync` read it already (its groups
/// are then checked here, against the directory it loaded).
fn read_for_apply<'s>(
    store: &'s Store,
    config: &Config,
    bytes: &[u8],
    read: Option<Box<Prepared>>,
) -> anyhow::Result<(ImportFile, StoreDirectory<'s>)> {
    let Some(prepared) = read else {
        return read_keeping_against(
            store,
            config,
            bytes,
            GroupWarnings::Counted,
            Some(KEEP_PROBLEMS),
        );
    };
    let Prepared {
        mut file,
        directory,
    } = *prepared;
    let mut dir = StoreDirectory::new(store, directory);
    check_groups(
        &mut file,
        &mut dir,
        config.import.unknown_groups == crate::config::UnknownGroups::Create,
        GroupWarnings::Counted,
    );
    Ok((file, dir))
}

/// A batch `sync` stored without a count gets the count of this reading (a rejected file's
/// records are counted from its bytes); a dry run writes nothing.
fn count_records(
    store: &Store,
    config: &Config,
    batch: Batch,
    file: &ImportFile,
    bytes: &[u8],
    dry_run: bool,
) -> anyhow::Result<Batch> {
    if batch.records.is_some() || dry_run {
        return Ok(batch);
    }
    let records = match file.file_error() {
        None => Some(file.rows),
        Some(_) => input::count_records(bytes, &config.read_options()),
    };
    store.set_batch_records(batch, records)
}

/// `--expect-plan` of a file that a setting changed since the review makes a rejected one: no
/// plan has the reviewed digest now (SPEC §2), so nothing is written and no run recorded.
fn rejected_since_review(batch: i64, problem: &str, args: &ApplyArgs) -> Option<String> {
    let expected = args.expect_plan.as_deref()?;
    Some(format!(
        "the plan of batch {batch} changed since it was reviewed: the file is now rejected \
         ({problem}), not the plan {expected}; nothing was applied. Review it again: \
         {} diff --batch {batch}",
        crate::core::command::roster()
    ))
}

/// A file with a file error (`problem`): the run recorded `rejected` and the batch marked; a
/// dry run records and marks nothing, and is a `dry-run` that would be rejected
/// ([`Outcome::would_reject`]); under `--expect-plan` no plan has the reviewed digest, so
/// nothing is recorded either ([`rejected_since_review`]).
fn reject(
    store: &Store,
    recording: &Recording<'_>,
    batch: Batch,
    file: ImportFile,
    problem: &str,
    args: &ApplyArgs,
) -> anyhow::Result<Outcome> {
    if let Some(reason) = rejected_since_review(batch.id, problem, args) {
        let status = Status::PlanChanged;
        return Ok(Outcome::new(None, batch, status, file, None, Some(reason)));
    }
    // A dry run records nothing: the file *would be* rejected.
    let was = if args.dry_run { "would be" } else { "was" };
    let reason = format!("batch {} {was} rejected: {problem}", batch.id);
    if args.dry_run {
        let status = Status::DryRun;
        return Ok(Outcome::new(None, batch, status, file, None, Some(reason)));
    }
    let run = Some(store.record_run(&NewRun {
        batch: Some(batch.id),
        command: recording.command,
        started_at: recording.started_at,
        status: "rejected",
        counts: None,
        message: Some(&reason),
        detail: None,
        unknown_groups: None,
        problems: &file.problems,
        each_problem: None,
        rejected: None,
    })?);
    store.set_batch_status(batch.id, "rejected")?;
    Ok(Outcome::new(
        run,
        batch,
        Status::Rejected,
        file,
        None,
        Some(reason),
    ))
}

/// Write a plan in one transaction, with a progress bar (a `rollback` is not a night the churn
/// safeguard learns from), and note the settings that shaped it;
/// gives the run. A failed write changes nothing and is recorded as a `failed` run.
#[allow(clippy::too_many_arguments)]
fn write(
    store: &mut Store,
    config: &Config,
    recording: &Recording<'_>,
    batch: &Batch,
    plan: &Plan,
    file: &ImportFile,
    each_problem: EachProblem<'_>,
    rollback: bool,
) -> anyhow::Result<i64> {
    let mut detail = detail(Some(plan), false);
    // A night the churn safeguard learns from: not a rollback, not a first import (SPEC §2).
    detail["churn_history"] = (!rollback && !plan.empty_directory).into();
    let writing = std::time::Instant::now();
    let shown = crate::render::progress::rows(0, "writing the directory");
    let bar = shown.clone();
    store.on_progress(move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    let applied = store.apply(
        plan,
        file,
        &ApplyRun {
            command: recording.command,
            started_at: recording.started_at,
            missing_users: config.import.missing_users,
            problems: &file.problems,
            each_problem: Some(each_problem),
            detail: &detail,
            invite: config.import.send_invitations,
        },
    );
    shown.finish_and_clear();
    let run = match applied {
        Ok(run) => run,
        Err(err) => return Err(record_failed_write(store, recording, batch, plan, err)),
    };
    log::info!(
        "write: run {run}, batch {}: {} changes committed in {}",
        batch.id,
        crate::render::thousands(
            plan.counts.create
                + plan.counts.adopt
                + plan.counts.update
                + plan.counts.reactivate
                + plan.counts.remove
                + plan.counts.missing
        ),
        crate::render::log::secs(writing)
    );
    store.set_batch_settings(batch.id, &config.plan_fingerprint())?;
    Ok(run)
}

/// A write that failed (its transaction rolled back): recorded as a `failed` run at the apply
/// stage; the error that comes back says nothing changed and, when recorded, is [`Recorded`].
fn record_failed_write(
    store: &Store,
    recording: &Recording<'_>,
    batch: &Batch,
    plan: &Plan,
    err: anyhow::Error,
) -> anyhow::Error {
    let message = format!(
        "failed at the apply stage: the apply of batch {} failed and nothing was changed: {err:#}",
        batch.id
    );
    let run = store.record_run(&NewRun {
        batch: Some(batch.id),
        command: recording.command,
        started_at: recording.started_at,
        status: "failed",
        counts: Some(&plan.counts),
        message: Some(&message),
        detail: Some(&serde_json::json!({"stage": "apply"})),
        unknown_groups: None,
        problems: &[],
        each_problem: None,
        rejected: None,
    });
    let said = format!(
        "the apply of batch {} failed at the apply stage; nothing was changed",
        batch.id
    );
    match run {
        Ok(run) => err.context(Recorded { run, message: said }),
        Err(_) => err.context(said),
    }
}

/// Store `text` as a fetched file and apply it with the default arguments (for unit tests of
/// what an import leaves in the store).
#[cfg(test)]
pub(crate) fn apply_text(
    store: &mut Store,
    config: &Config,
    text: &str,
) -> anyhow::Result<Outcome> {
    use crate::store::batches::Stored;
    let fetched = crate::transport::Fetched {
        bytes: text.as_bytes().to_vec(),
        source: "test".into(),
        mtime: None,
    };
    let batch = match super::store_fetched(store, config, &fetched, super::Count::Now)? {
        Stored::New(b) | Stored::Unchanged(b) => b,
    };
    apply(
        store,
        config,
        batch,
        Input::Stored,
        &ApplyArgs::default(),
        "apply",
    )
}

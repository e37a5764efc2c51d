//! The apply stage (SPEC §2): reject a file with a file error, hold a plan that trips a
//! safeguard, and otherwise write the plan in one transaction, recording the run.

use super::outcome::{Outcome, Status};
use super::overlap::Prepared;
use super::read::{check_groups, read_keeping_against, GroupWarnings, KEEP_PROBLEMS};
use super::run::{detail, note_operator, Recorded};
use super::safeguards::{hold, stale_plan, Held};
use super::store::{batch_content, needs_force};
use super::{mail_per_minute, plan, settings_for, stage};
use crate::cli::ApplyArgs;
use crate::config::Config;
use crate::core::problem::Problem;
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
    /// The bytes at hand, already read beside the store's directory ([`fetch_store_and_read`]).
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
    let input = match &content {
        Some(content) => Input::Bytes(content),
        None => input,
    };
    let mut outcome = apply_input(store, config, batch, input, args, command)?;
    if !outcome.file.dropped.is_empty() {
        outcome.source = content;
    }
    Ok(outcome)
}

/// [`apply`] of a file at hand.
fn apply_input(
    store: &mut Store,
    config: &Config,
    batch: Batch,
    input: Input<'_>,
    args: &ApplyArgs,
    command: &str,
) -> anyhow::Result<Outcome> {
    let started = now();
    note_operator(store, args);
    // A forced rollback to an older batch is not a night the churn safeguard learns from, nor
    // is a batch applied again (already applied, or brought back after a revert).
    let force = needs_force(store, &batch)?;
    let rollback = force || batch.status == "applied";
    if !args.force && batch.status == "reverted" {
        let by = store
            .batch_reverted_by(batch.id)?
            .map_or_else(|| "a later run".to_string(), |r| format!("run {r}"));
        return Err(crate::error::usage(format!(
            "batch {} was reverted by {by}; to apply it again, run: roster apply --batch {} --force",
            batch.id, batch.id
        )));
    }
    if !args.force {
        if let Some(applied) = store.newest_applied_batch()? {
            if batch.id < applied.id {
                return Err(crate::error::usage(format!(
                    "batch {} is older than batch {}, which was applied; to roll back to it, run: roster apply --batch {} --force",
                    batch.id, applied.id, batch.id
                )));
            }
        }
    }
    stage::enter("validate");
    let content;
    let (bytes, (mut file, dir)) = match input {
        Input::Stored => {
            content = batch_content(store, config, &batch)?;
            (
                &content[..],
                read_keeping_against(
                    store,
                    config,
                    &content,
                    GroupWarnings::Counted,
                    Some(KEEP_PROBLEMS),
                )?,
            )
        }
        Input::Bytes(bytes) => (
            bytes,
            read_keeping_against(
                store,
                config,
                bytes,
                GroupWarnings::Counted,
                Some(KEEP_PROBLEMS),
            )?,
        ),
        Input::Read(bytes, prepared) => {
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
            (bytes, (file, dir))
        }
    };
    let batch = match (batch.records, args.dry_run) {
        // Stored by sync without a count: this reading counted it.
        (None, false) => {
            let records = match file.file_error() {
                None => Some(file.rows),
                Some(_) => input::count_records(bytes, &config.read_options()),
            };
            store.set_batch_records(batch, records)?
        }
        _ => batch,
    };
    if let Some(problem) = file.file_error() {
        let reason = format!("batch {} was rejected: {}", batch.id, problem);
        let mut run = None;
        if !args.dry_run {
            run = Some(store.record_run(&NewRun {
                batch: Some(batch.id),
                command,
                started_at: &started,
                status: "rejected",
                counts: None,
                message: Some(&reason),
                detail: None,
                problems: &file.problems,
                each_problem: None,
                rejected: None,
            })?);
            store.set_batch_status(batch.id, "rejected")?;
        }
        return Ok(Outcome {
            run,
            batch,
            status: Status::Rejected,
            file,
            plan: None,
            reason: Some(reason),
            source: None,
        });
    }
    let settings = settings_for(store, config, batch.id, args)?;
    let mut plan = plan(&dir, &mut file, &settings)?;
    plan.invitations_per_minute = mail_per_minute(config);
    drop(dir);
    // Every problem, those the reading did not keep told again from the bytes.
    let opts = config.read_options();
    let file_ref = &file;
    let each_problem = |tell: &mut dyn FnMut(&Problem) -> std::io::Result<()>| {
        input::each_problem(bytes, &opts, file_ref, None, tell)
    };
    let stale = args
        .expect_plan
        .as_deref()
        .and_then(|expected| stale_plan(batch.id, &plan, &file, expected));
    if let Some(reason) = stale {
        // Nothing is written and no run recorded: the operator reviews the plan again.
        return Ok(Outcome {
            run: None,
            batch,
            status: Status::Blocked,
            file,
            plan: Some(plan),
            reason: Some(reason),
            source: None,
        });
    }
    if plan.blocked() {
        let held = Held {
            batch: &batch,
            command,
            started_at: &started,
            force,
        };
        let (run, reason) = hold(store, &held, &plan, &file, &each_problem, args.dry_run)?;
        return Ok(Outcome {
            run,
            batch,
            status: Status::Blocked,
            file,
            plan: Some(plan),
            reason: Some(reason),
            source: None,
        });
    }
    if args.dry_run {
        return Ok(Outcome {
            run: None,
            batch,
            status: Status::DryRun,
            file,
            plan: Some(plan),
            reason: None,
            source: None,
        });
    }
    stage::enter("apply");
    let writing = std::time::Instant::now();
    let shown = crate::render::progress::rows(0, "writing the directory");
    let bar = shown.clone();
    store.on_progress(move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    let mut detail = detail(Some(&plan), false);
    // A night the churn safeguard learns from: not a rollback, not a first import (SPEC §2).
    detail["churn_history"] = (!rollback && !plan.empty_directory).into();
    let applied = store.apply(
        &plan,
        &file,
        &ApplyRun {
            command,
            started_at: &started,
            missing_users: config.import.missing_users,
            problems: &file.problems,
            each_problem: Some(&each_problem),
            detail: &detail,
            invite: config.import.send_invitations,
        },
    );
    shown.finish_and_clear();
    if let Ok(run) = &applied {
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
    }
    if applied.is_ok() {
        store.set_batch_settings(batch.id, &config.plan_fingerprint())?;
    }
    match applied {
        Ok(run) => Ok(Outcome {
            run: Some(run),
            batch,
            status: Status::Applied,
            file,
            plan: Some(plan),
            reason: None,
            source: None,
        }),
        Err(err) => {
            let message = format!(
                "failed at the apply stage: the apply of batch {} failed and nothing was changed: {err:#}",
                batch.id
            );
            let run = store.record_run(&NewRun {
                batch: Some(batch.id),
                command,
                started_at: &started,
                status: "failed",
                counts: Some(&plan.counts),
                message: Some(&message),
                detail: Some(&serde_json::json!({"stage": "apply"})),
                problems: &[],
                each_problem: None,
                rejected: None,
            });
            let said = format!(
                "the apply of batch {} failed at the apply stage; nothing was changed",
                batch.id
            );
            match run {
                Ok(run) => Err(err.context(Recorded { run, message: said })),
                Err(_) => Err(err.context(said)),
            }
        }
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

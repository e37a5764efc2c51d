//! `sync --dry-run`: the night's plan of the fetched file against the store, with nothing
//! stored (SPEC §2: a dry run stores nothing, so the commands it names work on no batch).

use super::{show_with, Night};
use crate::cli::Format;
use crate::core::file::ImportFile;
use crate::core::plan::Plan;
use crate::pipeline::{self, Outcome, Status};
use crate::render;
use crate::store::batches::{sha256_hex, Batch};
use crate::store::directory::StoreDirectory;
use crate::store::{now, Store};
use crate::transport::Fetched;
use serde_json::json;

/// Plan the fetched file against the store without storing anything: read, plan and check
/// the safeguards as a real run would, and show what it would do.
pub(super) fn dry_run(
    night: &Night<'_>,
    store: &Store,
    mut fetched: Fetched,
) -> anyhow::Result<()> {
    // The batch a real run would store the file as: the newest one (or a reverted one) of
    // the same SHA-256, else a new one; reverted, or applied and not to be planned again, the
    // night is unchanged.
    let sha256 = sha256_hex(&fetched.bytes);
    let newest = store.newest_batch()?;
    let same = match store.reverted_batch(&sha256)? {
        Some(reverted) => Some(reverted),
        None => newest.as_ref().filter(|b| b.sha256 == sha256).cloned(),
    };
    let done = match same.as_ref() {
        Some(b) if b.status == "reverted" => Some(b),
        Some(b) if b.status == "applied" => {
            let config = &night.ctx.config;
            pipeline::plans_again(store, config, b)?
                .is_none()
                .then_some(b)
        }
        _ => None,
    };
    if let Some(done) = done {
        night.reached.shown.set(true);
        night.reached.settled.set(true);
        return unchanged_dry_run(night, store, done);
    }
    // Of the records' problems the first are kept, the rest told again from the bytes, as a
    // real run does (SPEC §5: a dry run of 400,000 one-field rows held every problem, 157
    // MiB against a bound of 67).
    let (file, dir) = pipeline::read_keeping(
        store,
        &night.ctx.config,
        &fetched.bytes,
        pipeline::GroupWarnings::Counted,
    )?;
    let next = match &same {
        Some(held) => held.id,
        None => newest.map_or(1, |b| b.id + 1),
    };
    let batch = unstored_batch(next, &fetched, sha256, &file);
    let mut outcome = match file.file_error() {
        Some(p) => {
            let reason = format!("the file would be rejected: {p}");
            Outcome::new(None, batch, Status::DryRun, file, None, Some(reason))
        }
        None => {
            let held = match &same {
                Some(held) => Proceeds::Batch(held),
                None => Proceeds::File(&fetched.source),
            };
            dry_plan(night, store, batch, file, dir, held)?
        }
    };
    outcome.source = Some(std::mem::take(&mut fetched.bytes));
    show_with(night, &outcome, store, Some(&fetched.source))?;
    night.reached.shown.set(true);
    night.reached.settled.set(true);
    match outcome.error() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// The batch a real run would store the fetched file as, numbered `next`.
fn unstored_batch(next: i64, fetched: &Fetched, sha256: String, file: &ImportFile) -> Batch {
    Batch {
        id: next,
        fetched_at: now(),
        source: fetched.source.clone(),
        size: fetched.bytes.len() as i64,
        sha256,
        records: Some(file.rows as i64),
        status: "dry-run".into(),
        has_content: false,
        remote_mtime: fetched.mtime,
        reverted_by_run: None,
    }
}

/// What the one command a dry run's blocked plan names applies.
enum Proceeds<'a> {
    /// The batch the file is stored as already (held, or fetched and not applied): a real
    /// run holds it again and names `roster apply --batch N` (SPEC §2).
    Batch(&'a Batch),
    /// The file at this source, stored as no batch: the command is one that works now.
    File(&'a str),
}

/// The plan of a dry run and what the safeguards would do with it: a blocked plan names the
/// one command a real run would name (the file's batch), or that applies this file now when
/// no batch exists to name.
fn dry_plan(
    night: &Night<'_>,
    store: &Store,
    batch: Batch,
    mut file: ImportFile,
    dir: StoreDirectory<'_>,
    proceeds: Proceeds<'_>,
) -> anyhow::Result<Outcome> {
    let config = &night.ctx.config;
    let settings = pipeline::settings_for(store, config, batch.id, night.apply_args)?;
    let mut plan = pipeline::plan(&dir, &mut file, &settings)?;
    plan.invitations_per_minute = pipeline::mail_per_minute(config);
    drop(dir);
    let (reason, proceed) = match (plan.blocked(), proceeds) {
        (false, _) => (None, None),
        (true, Proceeds::File(source)) => {
            let (reason, proceed) = would_hold_unstored(&plan, source);
            (Some(reason), Some(proceed))
        }
        (true, Proceeds::Batch(held)) => {
            let force = pipeline::needs_force(store, held)?;
            let (reason, proceed) = pipeline::would_hold(held.id, &plan, &file, force);
            (Some(reason), Some(proceed))
        }
    };
    let mut outcome = Outcome::new(None, batch, Status::DryRun, file, Some(plan), reason);
    outcome.proceed = proceed;
    Ok(outcome)
}

/// A dry run of the file of a batch already applied or reverted: what the real run would say
/// of an unchanged night, with no run recorded.
fn unchanged_dry_run(night: &Night<'_>, store: &Store, batch: &Batch) -> anyhow::Result<()> {
    let reverted = batch.status == "reverted";
    let said = if reverted {
        let by = pipeline::reverted_by(store, batch.id)?;
        format!(
            "the file is the one of batch {}, which {by} reverted; nothing would be applied (to apply it again: {} apply --batch {} --force)",
            batch.id,
            crate::core::command::roster(),
            batch.id
        )
    } else {
        format!(
            "the file is the one of batch {} (already applied)",
            batch.id
        )
    };
    let args = night.apply_args;
    match night.format {
        Format::Json => render::json(&json!({"run": null, "batch": batch.id,
            "status": "unchanged", "counts": crate::core::plan::Counts::default(),
            "plan": null, "problems": [], "invitations": 0,
            "by": store.operator.by, "reason": args.reason,
            "overrides": pipeline::overrides(args), "reverted": reverted,
            "dry_run": true, "message": said}))?,
        _ if night.ctx.quiet => {}
        _ => render::emit(&format!("unchanged: {said}"))?,
    }
    Ok(())
}

/// What a real run of this dry run's file would hold, and the one command that applies this
/// file now: no batch exists to name (SPEC §2: a dry run stores nothing). Gives the message
/// and that command.
fn would_hold_unstored(plan: &Plan, source: &str) -> (String, String) {
    let command = format!(
        "{} {}",
        unstored_hints(source).0.replace(" --dry-run", ""),
        pipeline::releases(plan).join(" ")
    );
    let reason = format!(
        "a real run would be blocked by a safeguard ({}) and hold the file; to apply this file \
         anyway, run: {command}",
        pipeline::tripped(plan),
    );
    (reason, command)
}

/// The commands that show a dry run's whole plan and every problem of its file, which is
/// stored as no batch (SPEC §2: a dry run stores nothing): the same dry run, and `validate`
/// of a local file.
pub(super) fn unstored_hints(source: &str) -> (String, String) {
    let quoted = if source
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-:@+=,".contains(c))
    {
        source.to_string()
    } else {
        format!("'{}'", source.replace('\'', "'\\''"))
    };
    // A file named `-x.csv` after a space would be read as an option: `--source=-x.csv`, and
    // `./-x.csv` where it is an argument.
    let dashed = source != "-" && source.starts_with('-');
    let (joined, path) = if dashed { ("=", "./") } else { (" ", "") };
    let roster = crate::core::command::roster();
    let dry_run = format!("{roster} sync --dry-run --source{joined}{quoted}");
    let local = source != "-" && !source.contains("://");
    let validate = if local {
        format!("{roster} validate {path}{quoted}")
    } else {
        format!("{dry_run} --format json")
    };
    (dry_run, validate)
}

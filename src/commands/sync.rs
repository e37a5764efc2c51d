//! `roster sync`: the whole night in one command — fetch, validate, diff, apply, invitations,
//! and the report when due — built from the same pipeline functions as the single stages.

use super::Context;
use crate::cli::{ApplyArgs, Format, SyncArgs};
use crate::error::{self, Error};
use crate::pipeline::{self, Outcome, Status};
use crate::render;
use crate::store::batches::Stored;
use crate::store::runs::NewRun;
use crate::store::{lock, now, Store};
use serde_json::json;
use std::time::Duration;

/// A run that has held the lock this long is taken to be hung: the report says so.
const HUNG_AFTER: Duration = Duration::from_secs(4 * 3600);

pub fn run(ctx: &Context, args: &SyncArgs) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json])?;
    // A push without its token would fail only after the apply: say so before anything.
    if let Some(scim) = &ctx.config.scim {
        scim.token()?;
    }
    // The [mail] configuration is checked before anything is written (SPEC §3).
    pipeline::mailer(&ctx.config)?;
    let store_path = ctx.config.store_path().to_path_buf();
    let (_lock, waited) = lock_for_night(ctx, args, &store_path)?;
    let waited = std::sync::Mutex::new(waited);
    let mut store = Store::open(&store_path)?;
    let apply_args = ApplyArgs {
        dry_run: args.dry_run,
        allow: args.allow.clone(),
        allow_creates: args.allow_creates,
        allow_unknown_groups: args.allow_unknown_groups,
        reason: args.reason.clone(),
        shown: args.shown.clone(),
        ..ApplyArgs::default()
    };
    pipeline::note_operator(&mut store, &apply_args);
    let started = now();
    let night = Night::default();
    // Every failure from here on, a panic included, is a run that names its stage (SPEC §3).
    let result = crate::stage::catching_panics(|| {
        pipeline::stage::enter("fetch");
        one_night(
            ctx,
            args,
            format,
            &mut store,
            &apply_args,
            &started,
            &night,
            &waited,
        )
    });
    let err = match result {
        Ok(()) => return Ok(()),
        Err(e) if night.settled.get() => return Err(e),
        Err(e) => e,
    };
    let stage = pipeline::stage::current();
    let code = error::exit_code(&err);
    let status = if stage == "fetch" && code == error::Exit::Rejected {
        "rejected"
    } else {
        "failed"
    };
    let recorded = err.downcast_ref::<pipeline::Recorded>().map(|r| r.run);
    let what = match night.source.borrow().as_deref() {
        Some(source) if stage == "fetch" => format!("fetch from {source} failed: {err:#}"),
        _ => format!("{err:#}"),
    };
    let message =
        format!("sync failed at the {stage} stage: {what}. Fix the cause, then run: roster sync");
    let mut run = recorded;
    let mut unrecorded = None;
    if run.is_none() && !args.dry_run {
        match store.record_run(&NewRun {
            batch: night.batch.get(),
            command: "sync",
            started_at: &started,
            status,
            counts: None,
            message: Some(&message),
            detail: Some(&json!({"stage": stage})),
            problems: &[],
            each_problem: None,
            rejected: None,
        }) {
            Ok(id) => run = Some(id),
            Err(e) => unrecorded = Some(e),
        }
    }
    if format == Format::Json && !night.shown.get() {
        render::json(&json!({
            "run": run, "batch": night.batch.get(), "status": status, "stage": stage,
            "counts": night.counts.borrow().clone(), "plan": null, "problems": [],
            "by": store.operator.by, "reason": apply_args.reason,
            "overrides": pipeline::overrides(&apply_args), "message": message,
        }))
        .ok();
    }
    if run.is_some() && !args.dry_run {
        mail_report(ctx, &store, run);
    }
    let err = match unrecorded {
        Some(e) => err.context(format!(
            "and the failure could not be recorded in the store: {e:#}"
        )),
        None => err,
    };
    Err(err.context(format!("sync failed at the {stage} stage")))
}

/// What a night has got to, for the failed run that records where it stopped.
#[derive(Default)]
struct Night {
    /// The source being fetched.
    source: std::cell::RefCell<Option<String>>,
    /// The batch the fetched file became.
    batch: std::cell::Cell<Option<i64>>,
    /// The JSON document is printed: a failure after it prints no second one.
    shown: std::cell::Cell<bool>,
    /// The outcome is recorded, shown and mailed already (rejected, blocked).
    settled: std::cell::Cell<bool>,
    /// The counts of an apply whose JSON document waits for the push.
    counts: std::cell::RefCell<Option<serde_json::Value>>,
}

/// A file a waiting sync fetched, or why it failed.
type Waited = Option<anyhow::Result<crate::transport::Fetched>>;

/// The locks of a night: the run lock at once; the store's only once a new file is there
/// (SPEC §3: while a sync waits for one, `users`/`groups` edits go ahead, and a second run
/// still exits 5). A lock held for hours is reported as a hung run.
fn lock_for_night(
    ctx: &Context,
    args: &SyncArgs,
    store_path: &std::path::Path,
) -> anyhow::Result<(crate::store::Lock, Waited)> {
    let locked = lock::RunLock::acquire(store_path).and_then(|run| {
        match waited_for(ctx, args, store_path) {
            Some(file) => Ok((
                run.and_store_waiting(store_path, patience(ctx), |_| {})?,
                Some(file),
            )),
            None => Ok((run.and_store(store_path)?, None)),
        }
    });
    locked.inspect_err(|e| report_hung_lock(ctx, store_path, e))
}

/// The file a waiting sync (`source.wait_for = "new"`) fetched, or why it failed; none when
/// it does not wait: `wait_for = "file"`, a dry run, standard input, or no applied batch yet.
/// The failure is the night's fetch failure, recorded as one.
fn waited_for(ctx: &Context, args: &SyncArgs, store_path: &std::path::Path) -> Waited {
    if ctx.config.source.wait_for != crate::config::WaitFor::New || args.dry_run {
        return None;
    }
    let source = pipeline::source(&ctx.config).ok().filter(|s| s != "-")?;
    // Read as any reader does, without the store's lock; no store yet is no applied batch.
    let applied = store_path
        .exists()
        .then(|| Store::open(store_path).ok()?.newest_batch().ok()?)
        .flatten()
        .filter(|b| b.status == "applied")?;
    let bar = render::progress::bytes_bar(0, "fetch", ctx.quiet);
    let fetched = pipeline::wait_for_new(&ctx.config, &source, &applied, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    Some(fetched)
}

/// How long a sync that has waited for a new file waits for an edit holding the store's lock.
fn patience(ctx: &Context) -> Duration {
    Duration::from_secs(ctx.config.store.lock_wait_secs)
}

/// Fetch, store, validate, plan, apply, invite, push and report: the night of a `sync`.
#[allow(clippy::too_many_arguments)]
fn one_night(
    ctx: &Context,
    args: &SyncArgs,
    format: Format,
    store: &mut Store,
    apply_args: &ApplyArgs,
    started: &str,
    night: &Night,
    waited: &std::sync::Mutex<Waited>,
) -> anyhow::Result<()> {
    // Fetch.
    let source = pipeline::source(&ctx.config)?;
    *night.source.borrow_mut() = Some(source.clone());
    let bar = render::progress::bytes_bar(0, "fetch", ctx.quiet);
    let fetch = || {
        if let Some(file) = waited.lock().ok().and_then(|mut w| w.take()) {
            bar.finish_and_clear();
            return file;
        }
        let fetched = pipeline::read_source(&ctx.config, &source, None, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        });
        bar.finish_and_clear();
        fetched
    };
    if args.dry_run {
        return dry_run(ctx, format, store, &fetch()?, apply_args, night);
    }
    // The directory is loaded while the file arrives, and the file stored while it is read.
    // A file equal to a reverted batch is not applied again by a night's run: an operator
    // undid it (`roster apply --batch N --force` brings it back).
    let fetch = pipeline::fetch_store_and_read(store, &ctx.config, fetch)?;
    let pipeline::Fetch {
        mut fetched,
        stored,
        read,
    } = fetch;

    let (batch, unchanged) = match stored {
        Stored::New(b) => (b, false),
        Stored::Unchanged(b) => (b, true),
    };
    night.batch.set(Some(batch.id));
    // The same bytes under settings that plan them otherwise (a new alias, another mapping)
    // are planned and applied again (SPEC §2).
    let replan = unchanged
        && batch.status == "applied"
        && store.batch_settings(batch.id)?.as_deref() != Some(&ctx.config.plan_fingerprint());
    if replan && !ctx.quiet {
        eprintln!(
            "roster: the file is the one of batch {}, but the settings that shape its plan changed since it was applied: planning it again",
            batch.id
        );
    }
    if unchanged && !replan && matches!(batch.status.as_str(), "applied" | "reverted") {
        let said = if batch.status == "reverted" {
            let by = store
                .batch_reverted_by(batch.id)?
                .map_or_else(|| "a later run".to_string(), |r| format!("run {r}"));
            format!(
                "the file is the one of batch {}, which {by} reverted; nothing applied (to apply it again: roster apply --batch {} --force)",
                batch.id, batch.id
            )
        } else {
            format!("the file is unchanged since batch {}", batch.id)
        };
        // Nothing new: a quiet night, but pending invitations and the daily report still go out.
        let stale = pipeline::stale_days(store, &ctx.config)?.is_some();
        let run = store.record_run(&NewRun {
            batch: Some(batch.id),
            command: "sync",
            started_at: started,
            status: "unchanged",
            counts: None,
            message: Some(&said),
            detail: None,
            problems: &[],
            each_problem: None,
            rejected: None,
        })?;
        // The apply document of SPEC §6: nothing planned, nothing applied.
        let document = json!({"run": run, "batch": batch.id,
            "status": "unchanged", "counts": crate::core::plan::Counts::default(),
            "plan": null, "problems": [], "invitations": 0,
            "by": store.operator.by, "reason": apply_args.reason,
            "overrides": pipeline::overrides(apply_args),
            "reverted": batch.status == "reverted", "message": said});
        match format {
            // With [scim], the document waits for the push: a failed push makes it "failed".
            Format::Json if ctx.config.scim.is_some() => {}
            Format::Json => render::json(&document)?,
            _ if ctx.quiet => {}
            _ if batch.status == "reverted" => render::emit(&format!("unchanged: {said}"))?,
            _ => render::emit(&format!(
                "unchanged: the file is the one of batch {} (already applied)",
                batch.id
            ))?,
        }
        let deferred = format == Format::Json && ctx.config.scim.is_some();
        night.shown.set(!deferred);
        pipeline::stage::enter("invitations");
        let invited = invite(ctx, store);
        finish_mail(invited, Ok(()), None)?;
        pipeline::stage::enter("push");
        // A failed push fails the night at this stage: the caller records and mails it.
        if let Some(e) = push_after(ctx, store, format, args) {
            return Err(e);
        }
        if deferred {
            render::json(&document)?;
            night.shown.set(true);
        }
        pipeline::stage::enter("report");
        return mail_report_if_due(ctx, store, run, stale)
            .map_err(|e| e.context("the report was not sent"));
    }

    // Validate, diff and apply; an unchanged file that was rejected or blocked comes here
    // again, and is rejected or blocked again, and reported again.
    let mut outcome = pipeline::apply(
        store,
        &ctx.config,
        batch,
        match read {
            // Read and stored: the apply needs the bytes again only to count the records of a
            // file it rejects, or to tell again the problems its reading did not keep. Freed
            // before the plan otherwise, so that a first import holds the file's records and
            // its plan, not its bytes too.
            Some(prepared) => {
                if prepared.file.file_error().is_none() && prepared.file.dropped.is_empty() {
                    fetched.bytes = Vec::new();
                }
                pipeline::Input::Read(&fetched.bytes, prepared)
            }
            None => pipeline::Input::Bytes(&fetched.bytes),
        },
        apply_args,
        "sync",
    )?;
    if !outcome.file.dropped.is_empty() && outcome.source.is_none() {
        outcome.source = Some(std::mem::take(&mut fetched.bytes));
    }
    // With [scim] the JSON document of an applied night waits for the push, so that a failed
    // push makes it "failed" (SPEC §3 `sync`: every failure after the fetch is the night's).
    let deferred = format == Format::Json
        && ctx.config.scim.is_some()
        && outcome.status == pipeline::Status::Applied;
    if deferred {
        *night.counts.borrow_mut() = outcome
            .plan
            .as_ref()
            .and_then(|p| serde_json::to_value(p.counts).ok());
    } else {
        show(ctx, format, &outcome, store, apply_args)?;
        night.shown.set(true);
    }
    if let Some(e) = outcome.error() {
        // The report is built from the store: the file's records and its plan are freed
        // first, so that its memory comes on top of neither (SPEC §5).
        let run = outcome.run;
        drop(outcome);
        mail_report(ctx, store, run);
        night.settled.set(true);
        return Err(e.into());
    }
    // After the commit: a failure of a later stage is a failed run of its own, mailed.
    pipeline::stage::enter("invitations");
    let invited = invite(ctx, store);
    let attention = matches!(&invited, Ok(Some(s)) if s.error.is_some());
    finish_mail(invited, Ok(()), None)?;
    pipeline::stage::enter("delete");
    let deleted = pipeline::delete_after_import(&ctx.config, &outcome.batch);
    if let Ok(Some(line)) = &deleted {
        if !ctx.quiet {
            eprintln!("roster: {line}");
        }
    }
    finish_mail(
        Ok(None),
        Ok(()),
        deleted.err().map(|e| (outcome.batch.id, e)),
    )?;
    pipeline::stage::enter("push");
    // A failed push fails the night at this stage: the caller records and mails it.
    if let Some(e) = push_after(ctx, store, format, args) {
        return Err(e);
    }
    if deferred {
        show(ctx, format, &outcome, store, apply_args)?;
        night.shown.set(true);
    }
    pipeline::stage::enter("report");
    if let Some(run) = outcome.run {
        mail_report_if_due(ctx, store, run, attention)
            .map_err(|e| e.context("the directory is committed, but the report was not sent"))?;
    }
    // The process ends after this: the OS takes back a million records at once, faster than
    // their destructors would, one allocation at a time.
    std::mem::forget(outcome);
    Ok(())
}

/// With `[scim]`, the directory goes to the provider after the apply (SPEC §8). A failed or
/// blocked push is the run's exit and makes the report due at once; the directory is
/// committed either way.
fn push_after(
    ctx: &Context,
    store: &mut Store,
    format: Format,
    args: &SyncArgs,
) -> Option<anyhow::Error> {
    ctx.config.scim.as_ref()?;
    let options = crate::scim::Options {
        dry_run: false,
        full: false,
        allow_removals: args.allow.allow_removals,
        quiet: ctx.quiet,
    };
    match pipeline::push(store, &ctx.config, &options) {
        Ok(o) => {
            if format != Format::Json && (!ctx.quiet || o.error().is_some()) {
                render::emit(&o.summary()).ok();
            }
            o.error()
                .map(|e| e.context("the directory is committed, but the push to the SCIM provider did not complete"))
        }
        Err(e) => {
            Some(e.context("the directory is committed, but the push to the SCIM provider failed"))
        }
    }
}

/// Send the pending invitations with a progress bar, and say how it went.
fn invite(ctx: &Context, store: &Store) -> anyhow::Result<Option<pipeline::Sent>> {
    let bar = render::progress::bar(0, "invitations", ctx.quiet);
    let sent = pipeline::send_pending_invitations(store, &ctx.config, &|done, all| {
        bar.set_length(all as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    if let (Ok(Some(sent)), false) = (&sent, ctx.quiet) {
        eprintln!("roster: {}", sent.summary());
    }
    sent
}

/// Turn the after-commit steps into the exit: the directory is committed either way.
fn finish_mail(
    invited: anyhow::Result<Option<pipeline::Sent>>,
    report: anyhow::Result<()>,
    deleted: Option<(i64, anyhow::Error)>,
) -> anyhow::Result<()> {
    match invited {
        Ok(Some(s)) if s.error.is_some() => {
            return Err(anyhow::anyhow!(
                "the directory is committed, but {} invitation(s) stay pending and go out with the next run: {}",
                s.pending,
                s.error.unwrap_or_default()
            ))
        }
        Err(e) => return Err(e.context("the directory is committed, but invitations were not sent; they stay pending")),
        _ => {}
    }
    if let Some((batch, e)) = deleted {
        return Err(e.context(format!(
            "batch {batch} is committed, but the remote file could not be removed"
        )));
    }
    report.map_err(|e| e.context("the directory is committed, but the report was not sent"))
}

fn show(
    ctx: &Context,
    format: Format,
    o: &Outcome,
    store: &Store,
    args: &ApplyArgs,
) -> anyhow::Result<()> {
    show_with(ctx, format, o, store, args, None)
}

/// [`show`]; a dry run, whose file is stored as no batch, names commands that work on it.
fn show_with(
    ctx: &Context,
    format: Format,
    o: &Outcome,
    store: &Store,
    args: &ApplyArgs,
    source: Option<&str>,
) -> anyhow::Result<()> {
    let mut selection = super::selection(&args.shown, format);
    selection.unstored = source.map(unstored_hints);
    super::apply::show(
        ctx,
        format,
        o,
        &selection,
        &super::apply::operator(store, args),
    )
}

/// What a real run of this dry run's file would hold, and the one command that applies this
/// file now: no batch exists to name (SPEC §2: a dry run stores nothing).
fn would_hold_unstored(plan: &crate::core::plan::Plan, source: &str) -> String {
    let what: Vec<String> = plan
        .tripped
        .iter()
        .map(crate::core::plan::Tripped::describe)
        .collect();
    let mut flags: Vec<&str> = Vec::new();
    for t in plan.tripped.iter().chain(&plan.overridden) {
        if !flags.contains(&t.release.as_str()) {
            flags.push(&t.release);
        }
    }
    format!(
        "a real run would be blocked by a safeguard ({}) and hold the file; to apply this file \
         anyway, run: {} {}",
        what.join("; "),
        unstored_hints(source).0.replace(" --dry-run", ""),
        flags.join(" ")
    )
}

/// The commands that show a dry run's whole plan and every problem of its file, which is
/// stored as no batch (SPEC §2: a dry run stores nothing): the same dry run, and `validate`
/// of a local file.
fn unstored_hints(source: &str) -> (String, String) {
    let quoted = if source
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-:@+=,".contains(c))
    {
        source.to_string()
    } else {
        format!("'{}'", source.replace('\'', "'\\''"))
    };
    let dry_run = format!("roster sync --dry-run --source {quoted}");
    let local = source != "-" && !source.contains("://");
    let validate = if local {
        format!("roster validate {quoted}")
    } else {
        format!("{dry_run} --format json")
    };
    (dry_run, validate)
}

/// `--dry-run`: plan the fetched file against the store without storing anything.
fn dry_run(
    ctx: &Context,
    format: Format,
    store: &mut Store,
    fetched: &crate::transport::Fetched,
    args: &ApplyArgs,
    night: &Night,
) -> anyhow::Result<()> {
    // The batch a real run would store the file as: the newest one (or a reverted one) of
    // the same SHA-256, else a new one; applied or reverted, the night is unchanged.
    let sha256 = crate::store::batches::sha256_hex(&fetched.bytes);
    let newest = store.newest_batch()?;
    let same = match store.reverted_batch(&sha256)? {
        Some(reverted) => Some(reverted),
        None => newest.as_ref().filter(|b| b.sha256 == sha256).cloned(),
    };
    if let Some(done) = same
        .as_ref()
        .filter(|b| matches!(b.status.as_str(), "applied" | "reverted"))
    {
        night.shown.set(true);
        night.settled.set(true);
        return unchanged_dry_run(ctx, format, store, done, args);
    }
    let (mut file, dir) = pipeline::read_against(
        store,
        &ctx.config,
        &fetched.bytes,
        pipeline::GroupWarnings::Counted,
    )?;
    let next = match &same {
        Some(held) => held.id,
        None => newest.map_or(1, |b| b.id + 1),
    };
    let batch = crate::store::batches::Batch {
        id: next,
        fetched_at: now(),
        source: fetched.source.clone(),
        size: fetched.bytes.len() as i64,
        sha256: crate::store::batches::sha256_hex(&fetched.bytes),
        records: Some(file.rows as i64),
        status: "dry-run".into(),
        has_content: false,
        remote_mtime: fetched.mtime,
        reverted_by_run: None,
    };
    if let Some(p) = file.file_error() {
        let reason = format!("the file would be rejected: {p}");
        let outcome = Outcome {
            run: None,
            batch,
            status: Status::Rejected,
            file,
            plan: None,
            reason: Some(reason),
            source: None,
        };
        show_with(ctx, format, &outcome, store, args, Some(&fetched.source))?;
        night.shown.set(true);
        night.settled.set(true);
        return Err(outcome
            .error()
            .map_or_else(|| anyhow::anyhow!("rejected"), Into::into));
    }
    let mut plan = pipeline::plan(
        &dir,
        &mut file,
        &pipeline::settings_for(store, &ctx.config, next, args)?,
    )?;
    plan.invitations_per_minute = pipeline::mail_per_minute(&ctx.config);
    drop(dir);
    let (status, reason) = if plan.blocked() {
        (
            Status::Blocked,
            // The file is stored as no batch: the command named is one that works now.
            Some(would_hold_unstored(&plan, &fetched.source)),
        )
    } else {
        (Status::DryRun, None)
    };
    let outcome = Outcome {
        run: None,
        batch,
        status,
        file,
        plan: Some(plan),
        reason,
        source: None,
    };
    show_with(ctx, format, &outcome, store, args, Some(&fetched.source))?;
    night.shown.set(true);
    night.settled.set(true);
    match outcome.error() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// A dry run of the file of a batch already applied or reverted: what the real run would say
/// of an unchanged night, with no run recorded.
fn unchanged_dry_run(
    ctx: &Context,
    format: Format,
    store: &Store,
    batch: &crate::store::batches::Batch,
    args: &ApplyArgs,
) -> anyhow::Result<()> {
    let reverted = batch.status == "reverted";
    let said = if reverted {
        let by = store
            .batch_reverted_by(batch.id)?
            .map_or_else(|| "a later run".to_string(), |r| format!("run {r}"));
        format!(
            "the file is the one of batch {}, which {by} reverted; nothing would be applied (to apply it again: roster apply --batch {} --force)",
            batch.id, batch.id
        )
    } else {
        format!(
            "the file is the one of batch {} (already applied)",
            batch.id
        )
    };
    match format {
        Format::Json => render::json(&json!({"run": null, "batch": batch.id,
            "status": "unchanged", "counts": crate::core::plan::Counts::default(),
            "plan": null, "problems": [], "invitations": 0,
            "by": store.operator.by, "reason": args.reason,
            "overrides": pipeline::overrides(args), "reverted": reverted,
            "dry_run": true, "message": said}))?,
        _ if ctx.quiet => {}
        _ => render::emit(&format!("unchanged: {said}"))?,
    }
    Ok(())
}

/// Send the report of this run now (it failed, was blocked or rejected). Mail trouble is said
/// on stderr; the run's own exit code stands.
fn mail_report(ctx: &Context, store: &Store, run: Option<i64>) {
    if let Err(e) = try_mail_report(ctx, store, run) {
        eprintln!("roster: the failure report was not sent: {e:#}");
    }
}

fn try_mail_report(ctx: &Context, store: &Store, run: Option<i64>) -> anyhow::Result<()> {
    let Some(mailer) = pipeline::mailer(&ctx.config)? else {
        return Ok(());
    };
    if ctx.config.report.recipients.is_empty() {
        return Ok(());
    }
    let report = pipeline::build_report(store, &ctx.config, run, None)?;
    pipeline::send_report(store, &ctx.config, &mailer, &report)
}

/// Send the report when it is due: at once when something needs attention, else once a day.
fn mail_report_if_due(
    ctx: &Context,
    store: &Store,
    run: i64,
    attention: bool,
) -> anyhow::Result<()> {
    if ctx.config.mail.is_none() || ctx.config.report.recipients.is_empty() {
        return Ok(());
    }
    if !pipeline::report_due(store, &ctx.config, attention)? {
        return Ok(());
    }
    let since_last = store.meta("last_report_at")?;
    let report = match since_last {
        Some(at) if !attention => pipeline::build_report(store, &ctx.config, None, Some(&at))?,
        _ => pipeline::build_report(store, &ctx.config, Some(run), None)?,
    };
    let mailer =
        pipeline::mailer(&ctx.config)?.ok_or_else(|| anyhow::anyhow!("no [mail] section"))?;
    pipeline::send_report(store, &ctx.config, &mailer, &report)
}

/// When another run has held the lock for hours, it is probably hung: say so by mail.
fn report_hung_lock(ctx: &Context, store_path: &std::path::Path, err: &anyhow::Error) {
    if !matches!(err.downcast_ref::<Error>(), Some(Error::Locked(_))) {
        return;
    }
    let held = lock::holder(store_path).and_then(|h| h.since.elapsed().ok());
    if held.is_none_or(|h| h <= HUNG_AFTER) {
        return;
    }
    let result = (|| -> anyhow::Result<()> {
        let Some(mailer) = pipeline::mailer(&ctx.config)? else {
            return Ok(());
        };
        if ctx.config.report.recipients.is_empty() {
            return Ok(());
        }
        let hours = held.map_or(0, |h| h.as_secs() / 3600);
        let report = crate::core::report::Report::notice(
            now(),
            "sync could not start".into(),
            format!(
                "stage lock: {err}; it has been held for {hours} hours, so that run is probably hung. \
                 Check the process named in the lock file and stop it; the next roster sync then runs normally."
            ),
        );
        let message = crate::mail::report(
            &mailer.from,
            &ctx.config.report.recipients,
            &report.subject(),
            report.text(),
            report.html(),
            &[],
        )?;
        mailer.send(&message).map_err(|e| anyhow::anyhow!("{e}"))
    })();
    if let Err(e) = result {
        eprintln!("roster: the hung-lock report was not sent: {e:#}");
    }
}

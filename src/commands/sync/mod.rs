//! `roster sync`: the whole night in one command — fetch, validate, diff, apply, invitations,
//! and the report when due — built from the same pipeline functions as the single stages.
//!
//! `night.rs` chains the stages of one night; `dry_run.rs` is the night that stores nothing;
//! `mail.rs` sends the report of a night; this file takes the locks, runs the night and
//! records a night that failed as a run naming its stage.

mod dry_run;
mod mail;
mod night;

use super::Context;
use crate::cli::{ApplyArgs, Format, SyncArgs};
use crate::error;
use crate::pipeline;
use crate::render;
use crate::store::runs::NewRun;
use crate::store::{lock, now, Store};
use serde_json::json;
use std::cell::{Cell, RefCell};
use std::io::Write as _;
use std::time::Duration;

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
    let apply_args = apply_args(args);
    pipeline::note_operator(&mut store, &apply_args);
    let started = now();
    let night = Night {
        ctx,
        args,
        format,
        apply_args: &apply_args,
        started: &started,
        reached: Reached::default(),
    };
    // Every failure from here on, a panic included, is a run that names its stage (SPEC §3).
    let result = crate::stage::catching_panics(|| {
        pipeline::stage::enter("fetch");
        night::one_night(&night, &mut store, &waited)
    });
    match result {
        Ok(()) => Ok(()),
        Err(e) if night.reached.settled.get() => Err(e),
        Err(e) => Err(failed(&night, &store, e)),
    }
}

/// The apply flags of a night: those `sync` takes.
fn apply_args(args: &SyncArgs) -> ApplyArgs {
    ApplyArgs {
        dry_run: args.dry_run,
        allow: args.allow.clone(),
        allow_creates: args.allow_creates,
        allow_unknown_groups: args.allow_unknown_groups,
        reason: args.reason.clone(),
        shown: args.shown.clone(),
        ..ApplyArgs::default()
    }
}

/// What a night runs with: the command's context and flags, and what it has got to.
struct Night<'a> {
    ctx: &'a Context,
    args: &'a SyncArgs,
    format: Format,
    apply_args: &'a ApplyArgs,
    /// When the night started, for its run.
    started: &'a str,
    reached: Reached,
}

/// What a night has got to, for the failed run that records where it stopped.
#[derive(Default)]
struct Reached {
    /// The source being fetched.
    source: RefCell<Option<String>>,
    /// The batch the fetched file became.
    batch: Cell<Option<i64>>,
    /// The JSON document is printed: a failure after it prints no second one.
    shown: Cell<bool>,
    /// The outcome is recorded, shown and mailed already (rejected, blocked).
    settled: Cell<bool>,
    /// The run the night recorded before a later stage failed (its apply, or a quiet night):
    /// the failed run names it, so that the night's report covers both.
    recorded: Cell<Option<i64>>,
    /// The counts of an apply whose JSON document waits for the push.
    counts: RefCell<Option<serde_json::Value>>,
}

/// A night that failed (a panic included) and is not settled yet: recorded as a run that
/// names the stage it stopped at (`rejected` when the fetch refused the file), shown as the
/// JSON document when none was, and mailed. The error that comes back says the stage.
fn failed(night: &Night<'_>, store: &Store, err: anyhow::Error) -> anyhow::Error {
    let stage = pipeline::stage::current();
    let status = if stage == "fetch" && error::exit_code(&err) == error::Exit::Rejected {
        "rejected"
    } else {
        "failed"
    };
    if status == "rejected" && night.args.dry_run {
        return would_reject(night, store, err);
    }
    let what = match night.reached.source.borrow().as_deref() {
        Some(source) if stage == "fetch" => format!("fetch from {source} failed: {err:#}"),
        _ => format!("{err:#}"),
    };
    let message = format!(
        "sync failed at the {stage} stage: {what}. Fix the cause, then run: {} sync",
        crate::core::command::roster()
    );
    let mut run = err.downcast_ref::<pipeline::Recorded>().map(|r| r.run);
    let mut unrecorded = None;
    if run.is_none() && !night.args.dry_run {
        match record_failed(night, store, status, stage, &message) {
            Ok(id) => run = Some(id),
            Err(e) => unrecorded = Some(e),
        }
    }
    if night.format == Format::Json && !night.reached.shown.get() {
        render::json(&json!({
            "run": run, "batch": night.reached.batch.get(), "status": status, "stage": stage,
            "counts": night.reached.counts.borrow().clone(), "plan": null, "problems": [],
            "by": store.operator.by, "reason": night.apply_args.reason,
            "overrides": pipeline::overrides(night.apply_args), "message": message,
        }))
        .ok();
    }
    if run.is_some() && !night.args.dry_run {
        mail::mail_report(night.ctx, store, run);
    }
    let err = match unrecorded {
        Some(e) => err.context(format!(
            "and the failure could not be recorded in the store: {e:#}"
        )),
        None => err,
    };
    err.context(format!("sync failed at the {stage} stage"))
}

/// A dry run whose fetch refused the file: it records nothing, so it says, as the dry run of
/// any file a real run would reject, that the file *would be* rejected (JSON status `dry-run`
/// with `would_reject`); it exits 3 as the real run.
fn would_reject(night: &Night<'_>, store: &Store, err: anyhow::Error) -> anyhow::Error {
    use crate::core::problem::{Code, Problem};
    // The fetch rejects a file for one reason only: it is larger than csv.max_file_bytes.
    let problem = Problem::new(None, None, Code::TooLarge, format!("{err:#}"));
    if night.format == Format::Json && !night.reached.shown.get() {
        render::json(&json!({
            "run": null, "batch": null, "status": "dry-run", "would_block": null,
            "would_reject": problem, "stage": "fetch", "counts": null, "plan": null,
            "problems": [problem], "by": store.operator.by, "reason": night.apply_args.reason,
            "overrides": pipeline::overrides(night.apply_args),
            "message": format!("the file would be rejected: {problem}"),
        }))
        .ok();
    } else if night.format != Format::Json && !night.reached.shown.get() {
        let mut out = render::stdout();
        render::grid::write_wrapped(&mut out, &render::plan::would_reject_line(None, &problem))
            .and_then(|()| out.flush())
            .ok();
    }
    err.context("the file would be rejected")
}

/// The run of a night that failed at `stage`.
fn record_failed(
    night: &Night<'_>,
    store: &Store,
    status: &str,
    stage: &str,
    message: &str,
) -> anyhow::Result<i64> {
    store.record_run(&NewRun {
        batch: night.reached.batch.get(),
        command: "sync",
        started_at: night.started,
        status,
        counts: None,
        message: Some(message),
        detail: Some(&match night.reached.recorded.get() {
            Some(first) => json!({"stage": stage, "night_from": first}),
            None => json!({"stage": stage}),
        }),
        unknown_groups: None,
        problems: &[],
        each_problem: None,
        rejected: None,
    })
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
    locked.inspect_err(|e| mail::report_hung_lock(ctx, store_path, e))
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

/// Show a night's outcome as `apply` does.
fn show(night: &Night<'_>, o: &pipeline::Outcome, store: &Store) -> anyhow::Result<()> {
    show_with(night, o, store, None)
}

/// [`show`]; a dry run, whose file is stored as no batch, names commands that work on it.
fn show_with(
    night: &Night<'_>,
    o: &pipeline::Outcome,
    store: &Store,
    source: Option<&str>,
) -> anyhow::Result<()> {
    let mut selection = super::selection(&night.apply_args.shown, night.format);
    selection.unstored = source.map(dry_run::unstored_hints);
    super::apply::show(
        night.ctx,
        night.format,
        o,
        &selection,
        &super::apply::operator(store, night.apply_args),
    )
}

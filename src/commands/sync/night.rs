//! One night of `sync`, as the stages it chains: fetch, store and read (at once); an unchanged
//! file is a quiet night; else validate, plan, check the safeguards and apply; then, after the
//! commit, invitations, the remote file's deletion, the push, and the report when due.

use super::mail::{mail_report, mail_report_if_due};
use super::{dry_run, show, Night, Waited};
use crate::cli::Format;
use crate::commands::Context;
use crate::pipeline::{self, Outcome, Prepared, Status};
use crate::render;
use crate::store::batches::{Batch, Stored};
use crate::store::runs::NewRun;
use crate::store::Store;
use crate::transport::Fetched;
use serde_json::json;
use std::sync::Mutex;

/// Fetch, store, validate, plan, apply, invite, push and report: the night of a `sync`.
pub(super) fn one_night(
    night: &Night<'_>,
    store: &mut Store,
    waited: &Mutex<Waited>,
) -> anyhow::Result<()> {
    let (ctx, config) = (night.ctx, &night.ctx.config);
    let source = pipeline::source(config)?;
    *night.reached.source.borrow_mut() = Some(source.clone());
    let fetch = || fetch(ctx, &source, waited);
    if night.args.dry_run {
        return dry_run::dry_run(night, store, fetch()?);
    }
    // The directory is loaded while the file arrives, and the file stored while it is read.
    let arrived = pipeline::fetch_store_and_read(store, config, fetch)?;
    let (batch, unchanged) = match arrived.stored {
        Stored::New(b) => (b, false),
        Stored::Unchanged(b) => (b, true),
    };
    night.reached.batch.set(Some(batch.id));
    // A file equal to a reverted batch is not applied again by a night's run: an operator
    // undid it (`roster apply --batch N --force` brings it back).
    let done = matches!(batch.status.as_str(), "applied" | "reverted");
    if unchanged && done && !plan_again(night, store, &batch)? {
        return quiet_night(night, store, &batch);
    }
    // Validate, diff and apply; an unchanged file that was rejected or blocked comes here
    // again, and is rejected or blocked again, and reported again.
    let read = (arrived.read, arrived.given_back);
    let outcome = apply(night, store, batch, arrived.fetched, read)?;
    let deferred = show_or_defer(night, store, &outcome)?;
    if let Some(e) = outcome.error() {
        // The report is built from the store: the file's records and its plan are freed
        // first, so that its memory comes on top of neither (SPEC §5).
        let run = outcome.run;
        drop(outcome);
        mail_report(ctx, store, run);
        night.reached.settled.set(true);
        return Err(e.into());
    }
    // After the commit: a failure of a later stage is a failed run of its own, mailed with
    // this one.
    night.reached.recorded.set(outcome.run);
    invitations(night, store)?;
    delete(night, &outcome.batch)?;
    push(night, store)?;
    if deferred {
        show(night, &outcome, store)?;
        night.reached.shown.set(true);
    }
    pipeline::stage::enter("report");
    if let Some(run) = outcome.run {
        mail_report_if_due(ctx, store, run, false)
            .map_err(|e| e.context("the directory is committed, but the report was not sent"))?;
    }
    // The process ends after this: the OS takes back a million records at once, faster than
    // their destructors would, one allocation at a time.
    std::mem::forget(outcome);
    Ok(())
}

/// The fetch stage: the file a waiting sync fetched already, else the source read now, with
/// a progress bar.
fn fetch(ctx: &Context, source: &str, waited: &Mutex<Waited>) -> anyhow::Result<Fetched> {
    if let Some(file) = waited.lock().ok().and_then(|mut w| w.take()) {
        return file;
    }
    let bar = render::progress::bytes_bar(0, "fetch", ctx.quiet);
    let fetched = pipeline::read_source(&ctx.config, source, None, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    fetched
}

/// Whether the file of an applied batch is planned again: the same bytes under settings that
/// plan them otherwise (a new alias, another mapping), or whose run ignored groups that exist
/// now, are planned and applied again (SPEC §2).
fn plan_again(night: &Night<'_>, store: &Store, batch: &Batch) -> anyhow::Result<bool> {
    let why = pipeline::plans_again(store, &night.ctx.config, batch)?;
    if let (Some(why), false) = (&why, night.ctx.quiet) {
        eprintln!(
            "roster: the file is the one of batch {}, but {why}: planning it again",
            batch.id
        );
    }
    Ok(why.is_some())
}

/// Nothing new (the file of the applied batch, or of a reverted one): a quiet night, recorded
/// `unchanged`; pending invitations, the push and the daily report still go out.
fn quiet_night(night: &Night<'_>, store: &mut Store, batch: &Batch) -> anyhow::Result<()> {
    let said = unchanged_message(store, batch)?;
    let stale = pipeline::stale_days(store, &night.ctx.config)?.is_some();
    let run = store.record_run(&NewRun {
        batch: Some(batch.id),
        command: "sync",
        started_at: night.started,
        status: "unchanged",
        counts: None,
        message: Some(&said),
        detail: None,
        unknown_groups: None,
        problems: &[],
        each_problem: None,
        rejected: None,
    })?;
    night.reached.recorded.set(Some(run));
    // The apply document of SPEC §6: nothing planned, nothing applied.
    let document = json!({"run": run, "batch": batch.id,
        "status": "unchanged", "counts": crate::core::plan::Counts::default(),
        "plan": null, "problems": [], "invitations": 0,
        "by": store.operator.by, "reason": night.apply_args.reason,
        "overrides": pipeline::overrides(night.apply_args),
        "reverted": batch.status == "reverted", "message": said});
    let deferred = show_unchanged(night, batch, &document, &said)?;
    invitations(night, store)?;
    push(night, store)?;
    if deferred {
        render::json(&document)?;
        night.reached.shown.set(true);
    }
    pipeline::stage::enter("report");
    mail_report_if_due(night.ctx, store, run, stale)
        .map_err(|e| e.context("the report was not sent"))
}

/// What a quiet night says of its file.
fn unchanged_message(store: &Store, batch: &Batch) -> anyhow::Result<String> {
    Ok(if batch.status == "reverted" {
        let by = pipeline::reverted_by(store, batch.id)?;
        format!(
            "the file is the one of batch {}, which {by} reverted; nothing applied (to apply it again: {} apply --batch {} --force)",
            batch.id,
            crate::core::command::roster(),
            batch.id
        )
    } else {
        format!("the file is unchanged since batch {}", batch.id)
    })
}

/// Show a quiet night: its JSON document (with `[scim]` it waits for the push: a failed push
/// makes it "failed"), or a line. Whether it waits.
fn show_unchanged(
    night: &Night<'_>,
    batch: &Batch,
    document: &serde_json::Value,
    said: &str,
) -> anyhow::Result<bool> {
    let deferred = night.format == Format::Json && night.ctx.config.scim.is_some();
    match night.format {
        Format::Json if deferred => {}
        Format::Json => render::json(document)?,
        _ if night.ctx.quiet => {}
        _ if batch.status == "reverted" => render::emit(&format!("unchanged: {said}"))?,
        _ => render::emit(&format!(
            "unchanged: the file is the one of batch {} (already applied)",
            batch.id
        ))?,
    }
    night.reached.shown.set(!deferred);
    Ok(deferred)
}

/// Validate, plan, check the safeguards and apply the fetched file ([`pipeline::apply`]),
/// read already when `read` is there (and its bytes given back to the store, when it says so).
fn apply(
    night: &Night<'_>,
    store: &mut Store,
    batch: Batch,
    mut fetched: Fetched,
    (read, given_back): (Option<Box<Prepared>>, bool),
) -> anyhow::Result<Outcome> {
    let config = &night.ctx.config;
    let input = match read {
        // Read and stored: the apply needs the bytes again only to count the records of a
        // file it rejects, or to tell again the problems its reading did not keep (read
        // back from the store when the reading gave them back). Freed before the plan
        // otherwise, so that a first import holds the file's records and its plan, not its
        // bytes too.
        Some(prepared) => {
            if prepared.file.file_error().is_none() && prepared.file.dropped.is_empty() {
                fetched.bytes = Vec::new();
            } else if given_back {
                fetched.bytes = pipeline::batch_content(store, config, &batch)?;
            }
            pipeline::Input::Read(&fetched.bytes, prepared)
        }
        None => pipeline::Input::Bytes(&fetched.bytes),
    };
    let mut outcome = pipeline::apply(store, config, batch, input, night.apply_args, "sync")?;
    if !outcome.file.dropped.is_empty() && outcome.source.is_none() {
        outcome.source = Some(std::mem::take(&mut fetched.bytes));
    }
    Ok(outcome)
}

/// Show the outcome now; or, with `[scim]`, keep the JSON document of an applied night for
/// after the push, so that a failed push makes it "failed" (SPEC §3 `sync`: every failure
/// after the fetch is the night's). Whether it waits.
fn show_or_defer(night: &Night<'_>, store: &Store, outcome: &Outcome) -> anyhow::Result<bool> {
    let deferred = night.format == Format::Json
        && night.ctx.config.scim.is_some()
        && outcome.status == Status::Applied;
    if deferred {
        *night.reached.counts.borrow_mut() = outcome
            .plan
            .as_ref()
            .and_then(|p| serde_json::to_value(p.counts).ok());
    } else {
        show(night, outcome, store)?;
        night.reached.shown.set(true);
    }
    Ok(deferred)
}

/// The invitations stage: the pending invitations sent with a progress bar, and said how it
/// went. Invitations that stay pending fail the night; the directory is committed either way.
fn invitations(night: &Night<'_>, store: &Store) -> anyhow::Result<()> {
    pipeline::stage::enter("invitations");
    match crate::commands::send_pending_invitations(night.ctx, store) {
        Ok(Some(s)) if s.error.is_some() => Err(anyhow::anyhow!(
            "the directory is committed, but {} invitation(s) stay pending and go out with the next run: {}",
            s.pending,
            s.error.unwrap_or_default()
        )),
        Ok(_) => Ok(()),
        Err(e) => Err(e.context(
            "the directory is committed, but invitations were not sent; they stay pending",
        )),
    }
}

/// The delete stage: with `source.delete_after_import`, the remote file of the applied batch
/// is removed, and the operator told.
fn delete(night: &Night<'_>, batch: &Batch) -> anyhow::Result<()> {
    pipeline::stage::enter("delete");
    match pipeline::delete_after_import(&night.ctx.config, batch) {
        Ok(Some(line)) if !night.ctx.quiet => {
            eprintln!("roster: {line}");
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e) => Err(e.context(format!(
            "batch {} is committed, but the remote file could not be removed",
            batch.id
        ))),
    }
}

/// The push stage: with `[scim]`, the directory goes to the provider after the apply (SPEC
/// §8). A failed or blocked push fails the night at this stage (the caller records and mails
/// it); the directory is committed either way.
fn push(night: &Night<'_>, store: &mut Store) -> anyhow::Result<()> {
    pipeline::stage::enter("push");
    let ctx = night.ctx;
    if ctx.config.scim.is_none() {
        return Ok(());
    }
    let options = crate::scim::Options {
        dry_run: false,
        full: false,
        allow_removals: night.args.allow.allow_removals,
        quiet: ctx.quiet,
    };
    let said = "the directory is committed, but the push to the SCIM provider";
    let o = pipeline::push(store, &ctx.config, &options)
        .map_err(|e| e.context(format!("{said} failed")))?;
    if night.format != Format::Json && (!ctx.quiet || o.error().is_some()) {
        render::emit(&o.summary()).ok();
    }
    match o.error() {
        Some(e) => Err(e.context(format!("{said} did not complete"))),
        None => Ok(()),
    }
}

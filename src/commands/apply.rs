//! `roster apply`: apply the plan of the newest (or given) batch.

use super::Context;
use crate::cli::{ApplyArgs, Format};
use crate::pipeline::{self, Outcome};
use crate::render::{self, plan::Operator, plan::PlanView, plan::Selection};
use crate::store::{Lock, Store};
use std::io::Write;

pub fn run(ctx: &Context, args: &ApplyArgs) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json])?;
    // A push without its token would fail only after the commit: say so before anything.
    if let (Some(scim), false) = (&ctx.config.scim, args.no_push || args.dry_run) {
        scim.token()?;
    }
    let _lock = Lock::acquire(ctx.config.store_path())?;
    // The [mail] configuration is checked before anything is written (SPEC §3).
    pipeline::mailer(&ctx.config)?;
    let mut store = Store::open(ctx.config.store_path())?;
    let started = crate::store::now();
    let batch = std::cell::Cell::new(None);
    let shown = std::cell::Cell::new(false);
    // A crash at any stage is an error (exit 1) and a `failed` run naming the stage (SPEC §3).
    let result = crate::stage::catching_panics(|| {
        crate::stage::enter("start");
        applying(ctx, args, format, &mut store, &batch, &shown)
    });
    match result {
        Err(e) if crate::stage::is_panic(&e) => {
            let err = pipeline::record_crash(&store, "apply", batch.get(), &started, e);
            if format == Format::Json && !shown.get() {
                let run = err.downcast_ref::<pipeline::Recorded>().map(|r| r.run);
                render::json(&serde_json::json!({
                    "run": run, "batch": batch.get(), "status": "failed",
                    "stage": crate::stage::current(), "counts": null, "plan": null,
                    "problems": [], "message": format!("{err:#}"),
                }))
                .ok();
            }
            Err(err)
        }
        other => other,
    }
}

/// Pick the batch, apply it, show the outcome, send the invitations; `batch` and `shown` say
/// how far it got, for the failed run of a crash.
fn applying(
    ctx: &Context,
    args: &ApplyArgs,
    format: Format,
    store: &mut Store,
    picked: &std::cell::Cell<Option<i64>>,
    shown: &std::cell::Cell<bool>,
) -> anyhow::Result<()> {
    let Some(batch) = pipeline::pick_batch(store, args.batch)? else {
        if !ctx.quiet {
            eprintln!(
                "roster: there is no batch to apply; run {} fetch first",
                crate::core::command::roster()
            );
        }
        return Ok(());
    };
    picked.set(Some(batch.id));
    let outcome = pipeline::apply(
        store,
        &ctx.config,
        batch,
        pipeline::Input::Stored,
        args,
        "apply",
    )?;
    show(
        ctx,
        format,
        &outcome,
        &super::Selection {
            batch: args.batch,
            ..super::selection(&args.shown, format)
        },
        &operator(store, args),
    )?;
    shown.set(true);
    if outcome.status == pipeline::Status::Applied {
        invite_after_commit(ctx, store, outcome.batch.id)?;
        delete_after_commit(ctx, &outcome.batch)?;
    }
    if outcome.status == pipeline::Status::Applied && !args.no_push {
        super::push_after_commit(ctx, format, store, args.allow.allow_removals)?;
    }
    match outcome.error() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// The invitations the apply queued, sent once it is committed: a failure says the batch
/// was applied and the invitations stay pending.
fn invite_after_commit(ctx: &Context, store: &Store, batch: i64) -> anyhow::Result<()> {
    crate::stage::enter("invitations");
    let sent = match super::send_pending_invitations(ctx, store) {
        Ok(Some(sent)) => sent,
        Ok(None) => return Ok(()),
        Err(e) => {
            return Err(e.context(format!(
                "batch {batch} was applied and committed, but invitations were not sent; they stay pending"
            )))
        }
    };
    if let Some(e) = sent.error {
        return Err(anyhow::anyhow!(
            "batch {batch} was applied and committed, but invitations could not all be sent (they stay \
             pending and go out with the next run or {} users invite --pending): {e}",
            crate::core::command::roster()
        ));
    }
    Ok(())
}

/// The remote file removed once the apply is committed (`source.delete_after_import`).
fn delete_after_commit(ctx: &Context, batch: &crate::store::batches::Batch) -> anyhow::Result<()> {
    crate::stage::enter("delete");
    match pipeline::delete_after_import(&ctx.config, batch) {
        Ok(Some(line)) if !ctx.quiet => eprintln!("roster: {line}"),
        Ok(_) => {}
        Err(e) => {
            return Err(e.context(format!(
                "batch {} was applied and committed, but the remote file could not be removed",
                batch.id
            )))
        }
    }
    Ok(())
}

/// Who runs this apply (or sync), why, and its `--allow-*` flags, for its JSON.
pub fn operator<'a>(store: &'a Store, args: &'a ApplyArgs) -> Operator<'a> {
    Operator {
        by: &store.operator.by,
        reason: args.reason.as_deref(),
        overrides: pipeline::overrides(args),
    }
}

/// A dry run's `would_block` (SPEC §2: it prints what a real run would do): what a safeguard
/// would block and the command that would then proceed, or null; nothing for other runs.
fn would_block(o: &Outcome) -> Option<Option<render::plan::WouldBlock<'_>>> {
    if o.status != pipeline::Status::DryRun {
        return None;
    }
    let plan = o.plan.as_ref().filter(|_| o.would_block());
    Some(plan.map(|plan| render::plan::WouldBlock {
        tripped: pipeline::tripped(plan),
        command: o.proceed.as_deref().unwrap_or_default(),
    }))
}

/// The line an outcome's text opens with: its plan's counts (`batch 7: dry-run, would be
/// blocked — create 1, …`), or what a dry run of a file a real run would reject says instead.
fn head_line(o: &Outcome) -> Option<String> {
    if let Some(problem) = o.would_reject() {
        return Some(render::plan::would_reject_line(Some(o.batch.id), problem));
    }
    let plan = o.plan.as_ref()?;
    // A dry run records nothing: a plan a safeguard would hold was not "blocked".
    let status = if o.would_block() {
        "dry-run, would be blocked"
    } else {
        o.status.as_str()
    };
    Some(render::plan::outcome_line(
        o.run,
        o.batch.id,
        status,
        &plan.counts,
    ))
}

/// Print an apply's or a sync's outcome: JSON per SPEC §6, or the summary lines per SPEC §3.1
/// A stale `--expect-plan`, not a block: the plan changed, its new digest and the command
/// to review it.
fn plan_changed(o: &Outcome, plan: Option<&PlanView<'_>>) -> String {
    let b = o.batch.id;
    let now = match plan {
        Some(view) => view.plan.digest(&o.file),
        None => "a rejected file".to_string(),
    };
    format!(
        "batch {b}: not applied, the plan changed since review (now {now}); see {} diff --batch {b}",
        crate::core::command::roster()
    )
}

/// and the changes the selection lists when this is a dry run or with `-v`.
pub fn show(
    ctx: &Context,
    format: Format,
    o: &Outcome,
    shown: &Selection,
    operator: &Operator<'_>,
) -> anyhow::Result<()> {
    let plan = o.plan.as_ref().map(|p| PlanView::new(p, &o.file, shown));
    if format == Format::Json {
        let each_problem =
            |tell: &mut dyn FnMut(&crate::core::problem::Problem) -> std::io::Result<()>| {
                o.each_problem(&ctx.config, tell)
            };
        let view = render::plan::OutcomeView {
            run: o.run,
            batch: o.batch.id,
            status: o.status.as_str(),
            plan,
            file: &o.file,
            each_problem: Some(&each_problem),
            reason: o.reason.as_deref(),
            operator: Some(operator),
            would_block: would_block(o),
            would_reject: (o.status == pipeline::Status::DryRun).then(|| o.would_reject()),
        };
        render::json_by(|out| view.write_json(out))?;
        return Ok(());
    }
    if ctx.quiet && o.error().is_none() {
        return Ok(());
    }
    let mut out = render::stdout();
    // Not a block: one line says the plan changed, its new digest and the command to review it.
    if o.status == pipeline::Status::PlanChanged {
        writeln!(out, "{}", plan_changed(o, plan.as_ref()))?;
        out.flush()?;
        return Ok(());
    }
    if let Some(head) = head_line(o) {
        render::grid::write_wrapped(&mut out, &head)?;
    }
    if let Some(view) = &plan {
        let unstored = shown
            .unstored
            .as_ref()
            .map(|(d, v)| (d.as_str(), v.as_str()));
        let invite = ctx.config.import.send_invitations;
        for line in render::plan::summary_lines_of(view.plan, &o.file, invite, unstored) {
            render::grid::write_wrapped(&mut out, &line)?;
        }
        // What a reviewer approves: shown unless the plan was applied.
        if o.status != pipeline::Status::Applied {
            writeln!(out, "{}", render::plan::digest_line(view.plan, &o.file))?;
        }
        // A dry run (nothing recorded) lists the changes; a real run only with -v.
        if ctx.verbose > 0 || o.run.is_none() {
            render::plan::write_changes(&mut out, view)?;
        }
    }
    if o.plan.is_none() || ctx.verbose > 0 {
        let roster = crate::core::command::roster();
        let validate = shown.unstored.as_ref().map_or_else(
            || format!("{roster} validate --batch {}", o.batch.id),
            |(_, v)| v.clone(),
        );
        render::problems::write_errors(&mut out, &o.file.problems, shown.limit, &validate)?;
    }
    out.flush()?;
    Ok(())
}

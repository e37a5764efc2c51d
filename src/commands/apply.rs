//! `roster apply`: apply the plan of the newest (or given) batch.

use super::Context;
use crate::cli::{ApplyArgs, Format};
use crate::pipeline::{self, Outcome};
use crate::render;
use crate::store::{Lock, Store};

pub fn run(ctx: &Context, args: &ApplyArgs) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json])?;
    let _lock = Lock::acquire(ctx.config.store_path())?;
    let mut store = Store::open(ctx.config.store_path())?;
    let Some(batch) = pipeline::pick_batch(&store, args.batch)? else {
        if !ctx.quiet {
            eprintln!("roster: there is no batch to apply; run roster fetch first");
        }
        return Ok(());
    };
    let outcome = pipeline::apply(
        &mut store,
        &ctx.config,
        batch,
        pipeline::Input::Stored,
        args,
        "apply",
    )?;
    show(ctx, format, &outcome)?;
    if outcome.status == pipeline::Status::Applied {
        let bar = render::progress::bar(0, "invitations", ctx.quiet);
        let invited = pipeline::send_pending_invitations(&store, &ctx.config, &|done, all| {
            bar.set_length(all as u64);
            bar.set_position(done as u64);
        });
        bar.finish_and_clear();
        match invited {
            Ok(Some(sent)) => {
                if !ctx.quiet {
                    eprintln!("roster: {}", sent.summary());
                }
                if let Some(e) = sent.error {
                    return Err(anyhow::anyhow!(
                        "batch {} was applied and committed, but invitations could not all be sent (they stay pending \
                         and go out with the next run or roster users invite --pending): {e}",
                        outcome.batch.id
                    ));
                }
            }
            Ok(None) => {}
            Err(e) => {
                return Err(e.context(format!(
                    "batch {} was applied and committed, but invitations were not sent; they stay pending",
                    outcome.batch.id
                )))
            }
        }
        match pipeline::delete_after_import(&ctx.config, &outcome.batch) {
            Ok(Some(line)) if !ctx.quiet => eprintln!("roster: {line}"),
            Ok(_) => {}
            Err(e) => {
                return Err(e.context(format!(
                    "batch {} was applied and committed, but the remote file could not be removed",
                    outcome.batch.id
                )))
            }
        }
    }
    match outcome.error() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// An apply's or a sync's outcome as the JSON document of SPEC §6.
pub fn json(o: &Outcome) -> anyhow::Result<()> {
    render::json(&render::plan::outcome_document(
        o.run,
        o.batch.id,
        o.status.as_str(),
        o.plan.as_ref(),
        &o.file,
        o.reason.as_deref(),
    ))?;
    Ok(())
}

/// Print an apply's outcome: JSON per SPEC §6, or counts and (with -v) every change.
pub fn show(ctx: &Context, format: Format, o: &Outcome) -> anyhow::Result<()> {
    match format {
        Format::Json => json(o)?,
        _ => {
            if let Some(plan) = &o.plan {
                if !ctx.quiet || o.error().is_some() {
                    render::emit(&render::plan::outcome_line(
                        o.run,
                        o.batch.id,
                        o.status.as_str(),
                        &plan.counts,
                    ))?;
                }
                if (ctx.verbose > 0 || o.status == pipeline::Status::DryRun)
                    && !plan.changes.is_empty()
                {
                    render::emit(&render::plan::changes_table(plan, &o.file))?;
                }
            }
            let errors: Vec<_> = o
                .file
                .problems
                .iter()
                .filter(|p| p.is_error())
                .cloned()
                .collect();
            if !errors.is_empty() && (ctx.verbose > 0 || o.plan.is_none()) {
                render::emit(&render::problems::table(&errors))?;
            }
        }
    }
    Ok(())
}

//! `roster diff`: the plan of the newest (or given) batch, without changing anything.

use super::Context;
use crate::cli::{ApplyArgs, DiffArgs, Format};
use crate::error::Error;
use crate::pipeline;
use crate::render::{self, plan::PlanView};
use crate::store::Store;
use std::io::Write;

pub fn run(ctx: &Context, args: &DiffArgs) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json])?;
    let store = Store::open(ctx.config.store_path())?;
    let Some(batch) = pipeline::pick_batch(&store, args.batch)? else {
        return Err(crate::error::usage(
            "there is no batch yet; run roster fetch first",
        ));
    };
    let (mut file, dir) = pipeline::read_batch(
        &store,
        &ctx.config,
        &batch,
        pipeline::GroupWarnings::Counted,
    )?;
    if let Some(p) = file.file_error() {
        return Err(Error::Rejected(format!("batch {} cannot be planned: {p}", batch.id)).into());
    }
    let settings = pipeline::settings_for(&store, &ctx.config, batch.id, &ApplyArgs::default())?;
    let mut plan = pipeline::plan(&dir, &mut file, &settings)?;
    plan.invitations_per_minute = pipeline::mail_per_minute(&ctx.config);
    drop(dir);
    if ctx.quiet {
        return Ok(());
    }
    let shown = super::selection(&args.shown, format);
    let view = PlanView::new(&plan, &file, &shown);
    match format {
        Format::Json => render::json_by(|out| view.write_json(out))?,
        _ => {
            let mut out = render::stdout();
            let head = format!(
                "batch {} ({}): {}",
                batch.id,
                render::cell(render::grid::source_name(&batch.source)),
                render::plan::counts_line(&plan.counts)
            );
            render::grid::write_wrapped(&mut out, &head)?;
            let digest = plan.digest(&file);
            writeln!(out, "plan digest: {digest}")?;
            render::plan::write_plan(&mut out, &view, ctx.config.import.send_invitations)?;
            for t in &plan.tripped {
                render::grid::write_wrapped(
                    &mut out,
                    &format!("safeguard would trip: {}", t.describe()),
                )?;
            }
            if plan.blocked() {
                writeln!(out, "to apply it anyway:")?;
                let force = pipeline::needs_force(&store, &batch)?;
                let command = pipeline::proceed(batch.id, &plan, &digest, force);
                for line in render::grid::command_lines(&command, render::grid::WIDTH - 2) {
                    writeln!(out, "  {line}")?;
                }
            }
            out.flush()?;
        }
    }
    Ok(())
}

//! `roster diff`: the plan of the newest (or given) batch, without changing anything.

use super::Context;
use crate::cli::{ApplyArgs, DiffArgs, Format};
use crate::core::file::ImportFile;
use crate::core::plan::Plan;
use crate::core::problem::Problem;
use crate::error::Error;
use crate::pipeline;
use crate::render::{self, plan::PlanView};
use crate::store::batches::Batch;
use crate::store::Store;
use std::io::Write;

pub fn run(ctx: &Context, args: &DiffArgs) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json])?;
    let store = Store::open(ctx.config.store_path())?;
    let Some(batch) = pipeline::pick_batch(&store, args.batch)? else {
        return Err(crate::error::usage(format!(
            "there is no batch yet; run {} fetch first",
            crate::core::command::roster()
        )));
    };
    let mut shown = super::selection(&args.shown, format);
    shown.batch = args.batch;
    // JSON lists the problems as apply's does: the first ones kept, the rest streamed from
    // the bytes (SPEC §5); the table shows each listed invalid record's own problem, which
    // the kept ones hold while it lists no more than [`KEPT_FOR_A_TABLE`] changes (a record
    // has at most one problem a code), and every problem is read for a longer one.
    let keeping = format == Format::Json || shown.limit.is_some_and(|n| n <= KEPT_FOR_A_TABLE);
    let (bytes, mut file, dir) = if keeping {
        pipeline::read_batch_keeping(
            &store,
            &ctx.config,
            &batch,
            pipeline::GroupWarnings::Counted,
        )?
    } else {
        let (file, dir) = pipeline::read_batch(
            &store,
            &ctx.config,
            &batch,
            pipeline::GroupWarnings::Counted,
        )?;
        (Vec::new(), file, dir)
    };
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
    let view = PlanView::new(&plan, &file, &shown);
    match format {
        Format::Json => {
            let opts = ctx.config.read_options();
            let each_problem = |tell: &mut dyn FnMut(&Problem) -> std::io::Result<()>| {
                crate::input::each_problem(&bytes, &opts, &file, None, tell)
            };
            render::json_by(|out| view.write_json_with_problems(out, Some(&each_problem)))?;
        }
        _ => table(ctx, &store, &batch, &plan, &file, &view)?,
    }
    Ok(())
}

/// The most changes a table lists from a reading that kept only the first problems
/// ([`pipeline::KEEP_PROBLEMS`] errors, a record at most one a code).
const KEPT_FOR_A_TABLE: usize = 50;

/// The plan as a table: the head line, the digest, the plan, and what would trip with the one
/// command that proceeds.
fn table(
    ctx: &Context,
    store: &Store,
    batch: &Batch,
    plan: &Plan,
    file: &ImportFile,
    view: &PlanView<'_>,
) -> anyhow::Result<()> {
    let mut out = render::stdout();
    let head = format!(
        "batch {} ({}): {}",
        batch.id,
        render::cell(render::grid::source_name(&batch.source)),
        render::plan::counts_line(&plan.counts)
    );
    render::grid::write_wrapped(&mut out, &head)?;
    let digest = plan.digest(file);
    writeln!(out, "plan digest: {digest}")?;
    render::plan::write_plan(&mut out, view, ctx.config.import.send_invitations)?;
    for t in &plan.tripped {
        render::grid::write_wrapped(&mut out, &format!("safeguard would trip: {}", t.describe()))?;
    }
    if plan.blocked() {
        writeln!(out, "to apply it anyway:")?;
        let force = pipeline::needs_force(store, batch)?;
        let command = pipeline::proceed(batch.id, plan, &digest, force);
        for line in render::grid::command_lines(&command, render::grid::WIDTH - 2) {
            writeln!(out, "  {line}")?;
        }
    }
    out.flush()?;
    Ok(())
}

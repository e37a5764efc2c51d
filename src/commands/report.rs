//! `roster report`: summarise one run or every run since WHEN.

use super::Context;
use crate::cli::{Format, ReportArgs};
use crate::error;
use crate::pipeline;
use crate::render;
use crate::store::{Lock, Store};

pub fn run(ctx: &Context, args: &ReportArgs) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json, Format::Text, Format::Html])?;
    let store = Store::open(ctx.config.store_path())?;
    let report = pipeline::build_report(&store, &ctx.config, args.run, args.since.as_deref())?;
    if args.send {
        let _lock = Lock::acquire(ctx.config.store_path())?;
        let mailer = pipeline::mailer(&ctx.config)?
            .ok_or_else(|| error::config("report --send needs a [mail] section"))?;
        pipeline::send_report(&store, &ctx.config, &mailer, &report)?;
        if !ctx.quiet {
            eprintln!(
                "roster: report sent to {}",
                ctx.config.report.recipients.join(", ")
            );
        }
        return Ok(());
    }
    match format {
        Format::Json => render::json(&report)?,
        Format::Html => render::emit(&report.html())?,
        Format::Text => render::emit(&report.text())?,
        _ => {
            let mut t = render::table([
                "Run", "Command", "Batch", "Status", "Finished", "Changes", "Errors",
            ]);
            for r in &report.runs {
                let run = &r.run;
                t.add_row(vec![
                    run.id.to_string(),
                    run.command.clone(),
                    run.batch.map_or(String::new(), |b| b.to_string()),
                    run.status.clone(),
                    run.finished_at.clone().unwrap_or_default(),
                    run.counts
                        .as_ref()
                        .map_or(String::new(), render::plan::counts_line),
                    r.problems
                        .iter()
                        .filter(|p| p.severity == "error")
                        .count()
                        .to_string(),
                ]);
            }
            render::emit(&t.to_string())?;
            for r in &report.runs {
                let run = &r.run;
                let mut who = Vec::new();
                if let Some(by) = &run.by {
                    who.push(format!("by {by}"));
                }
                if let Some(reason) = &run.reason {
                    who.push(format!("reason: {reason}"));
                }
                if let Some(flags) = crate::core::report::overrides_text(run.overrides.as_ref()) {
                    who.push(format!("overrides: {flags}"));
                }
                if let Some(of) = run.reverts {
                    who.push(format!("reverts run {of}"));
                }
                if !who.is_empty() {
                    render::emit(&format!("run {}: {}", run.id, who.join("; ")))?;
                }
            }
            for r in report.runs.iter().filter(|r| r.run.message.is_some()) {
                render::emit(&format!(
                    "run {}: {}",
                    r.run.id,
                    r.run.message.as_deref().unwrap_or("")
                ))?;
            }
        }
    }
    Ok(())
}

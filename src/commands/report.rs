//! `roster report`: summarise one run or every run since WHEN.

use super::Context;
use crate::cli::{Format, ReportArgs};
use crate::core::report::{fit, TEXT_WIDTH};
use crate::error;
use crate::pipeline;
use crate::render;
use crate::store::{Lock, Store};

pub fn run(ctx: &Context, args: &ReportArgs) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json, Format::Text, Format::Html])?;
    // A bad WHEN or a bad [mail] section is said before any store is opened (or created).
    if let Some(when) = &args.since {
        crate::core::report::parse_since(when, chrono::Utc::now())
            .map_err(|m| error::usage(format!("--since: {m}")))?;
    }
    if args.send {
        pipeline::mailer(&ctx.config)?
            .ok_or_else(|| error::config("report --send needs a [mail] section"))?;
    }
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
            let mut out = format!("{}\n\n", report.subject());
            for (label, value) in report.summary() {
                let label = if label.is_empty() {
                    String::new()
                } else {
                    format!("{label}:")
                };
                out.push_str(&fit(&format!("{label:<18}{value}"), TEXT_WIDTH));
                out.push('\n');
            }
            render::emit(&out)?;
            if !report.runs.is_empty() {
                let mut t = render::table([
                    "Run", "Command", "Batch", "Status", "Finished", "Changes", "Errors",
                ]);
                for r in &report.runs {
                    let run = &r.run;
                    let mut status = run.status.clone();
                    if let Some(by) = r.resolved_by {
                        status.push_str(&format!(" (resolved by run {by})"));
                    }
                    t.add_row(vec![
                        run.id.to_string(),
                        run.command.clone(),
                        run.batch.map_or(String::new(), |b| b.to_string()),
                        status,
                        run.finished_at.clone().unwrap_or_default(),
                        run.counts
                            .as_ref()
                            .map_or(String::new(), crate::core::report::counts_line),
                        r.rejected.len().to_string(),
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
                    if let Some(flags) = crate::core::report::overrides_text(run.overrides.as_ref())
                    {
                        who.push(format!("overrides: {flags}"));
                    }
                    if let Some(of) = run.reverts {
                        who.push(format!("reverts run {of}"));
                    }
                    if !who.is_empty() {
                        render::emit(&format!("run {}: {}", run.id, who.join("; ")))?;
                    }
                }
            }
        }
    }
    Ok(())
}

//! `roster report`: summarise one run or every run since WHEN.

use super::Context;
use crate::cli::{Format, ReportArgs};
use crate::core::report::{self, Report, RunReport};
use crate::error;
use crate::render;
use crate::store::{now, Store};

/// Build the report of one run, or of the runs since a time.
pub fn build(store: &Store, run: Option<i64>, since: Option<&str>) -> anyhow::Result<Report> {
    let runs = match (run, since) {
        (Some(id), _) => vec![store
            .run(id)?
            .ok_or_else(|| error::usage(format!("there is no run {id}")))?],
        (None, Some(when)) => {
            let t = report::parse_since(when, chrono::Utc::now())
                .map_err(|m| error::usage(format!("--since: {m}")))?;
            store.runs_since(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))?
        }
        (None, None) => store.last_run()?.into_iter().collect(),
    };
    let scope = match (run, since) {
        (Some(id), _) => format!("run {id}"),
        (None, Some(when)) => format!("runs since {when}"),
        (None, None) => "the last run".to_string(),
    };
    let runs = runs
        .into_iter()
        .map(|run| {
            Ok(RunReport {
                problems: store.run_problems(run.id)?,
                run,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Report {
        generated_at: now(),
        scope,
        runs,
        notices: Vec::new(),
    })
}

pub fn run(ctx: &Context, args: &ReportArgs) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json, Format::Text, Format::Html])?;
    let store = Store::open(ctx.config.store_path())?;
    let report = build(&store, args.run, args.since.as_deref())?;
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

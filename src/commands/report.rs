//! `roster report`: summarise one run or every run since WHEN.

use super::Context;
use crate::cli::{Format, ReportArgs};
use crate::core::report::TEXT_WIDTH;
use crate::error;
use crate::pipeline;
use crate::render;
use crate::render::report::{counts_line, fit, overrides_text, Line};
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
        Format::Json => json(&store, report)?,
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
                let line = format!("{label:<18}{}", value.text);
                for line in (Line {
                    text: line,
                    ..value
                })
                .fitted(TEXT_WIDTH)
                {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
            render::emit(&out)?;
            if !report.runs.is_empty() {
                render::emit(&runs_table(&report.runs))?;
                for r in &report.runs {
                    let run = &r.run;
                    let mut who = Vec::new();
                    if let Some(by) = &run.by {
                        who.push(format!("by {by}"));
                    }
                    if let Some(reason) = &run.reason {
                        who.push(format!("reason: {reason}"));
                    }
                    if let Some(flags) = overrides_text(run.overrides.as_ref()) {
                        who.push(format!("overrides: {flags}"));
                    }
                    if let Some(of) = run.reverts {
                        who.push(format!("reverts run {of}"));
                    }
                    if !who.is_empty() {
                        render::emit(&fit(
                            &format!("run {}: {}", run.id, who.join("; ")),
                            RUNS_WIDTH,
                        ))?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The report as JSON with every joiner and rejected record of each run: the report holds the
/// first of them, so each run's `joined` and `rejected` are written from the store as they are
/// read (a first import's million never in memory at once). The rest of the report goes
/// through serde one run at a time, so that a period of many bad nights holds one run's tree.
fn json(store: &Store, mut report: crate::core::report::Report) -> anyhow::Result<()> {
    use std::io::Write as _;
    let runs = std::mem::take(&mut report.runs);
    let mut out = render::stdout();
    // The rest of the report is streamed (open unknown groups may be 300,000: a JSON tree of
    // them, twice, peaked at 151 MiB), its closing brace held back for the runs to follow.
    let mut head = HoldLast::new(&mut out);
    render::write_json(&mut head, &report)?;
    drop(report);
    if head.last != Some(b'}') {
        anyhow::bail!("the report did not serialize as a JSON object");
    }
    out.write_all(b",\"runs\":[")?;
    for (i, r) in runs.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        json_run(store, &mut out, r)?;
    }
    out.write_all(b"]}\n")?;
    out.flush()?;
    Ok(())
}

/// A writer that passes on every byte but the last written, which it holds.
struct HoldLast<W> {
    out: W,
    last: Option<u8>,
}

impl<W> HoldLast<W> {
    fn new(out: W) -> Self {
        HoldLast { out, last: None }
    }
}

impl<W: std::io::Write> std::io::Write for HoldLast<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some((&end, rest)) = buf.split_last() else {
            return Ok(0);
        };
        if let Some(held) = self.last.take() {
            self.out.write_all(&[held])?;
        }
        self.out.write_all(rest)?;
        self.last = Some(end);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// One run of the JSON report: its lists that the report holds only the first of are
/// dropped before serde sees the run, then written whole from the store.
fn json_run(
    store: &Store,
    out: &mut impl std::io::Write,
    mut r: crate::core::report::RunReport,
) -> anyhow::Result<()> {
    let whole_joined = r.joined.len() as u64 == r.joined_total;
    let whole_rejected = r.rejected.len() as u64 == r.rejected_total;
    if !whole_joined {
        r.joined = Vec::new();
    }
    if !whole_rejected {
        r.rejected = Vec::new();
    }
    let mut run = serde_json::to_value(&r)?;
    if let Some(o) = run.as_object_mut() {
        if !whole_joined {
            o.remove("joined");
        }
        if !whole_rejected {
            o.remove("rejected");
        }
    }
    let text = serde_json::to_string(&run)?;
    drop(run);
    let Some(open) = text
        .strip_suffix('}')
        .filter(|_| !(whole_joined && whole_rejected))
    else {
        out.write_all(text.as_bytes())?;
        return Ok(());
    };
    out.write_all(open.as_bytes())?;
    let mut comma = open.len() > 1;
    if !whole_joined {
        list(&mut *out, "joined", &mut comma, |each| {
            store.each_joiner(r.run.id, each)
        })?;
    }
    if !whole_rejected {
        list(&mut *out, "rejected", &mut comma, |each| {
            store.each_rejected(r.run.id, each)
        })?;
    }
    out.write_all(b"}")?;
    Ok(())
}

/// `"key":[…]`, each item written as the store reads it.
fn list<T: serde::Serialize>(
    out: &mut impl std::io::Write,
    key: &str,
    comma: &mut bool,
    read: impl FnOnce(&mut dyn FnMut(&T) -> anyhow::Result<()>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if std::mem::replace(comma, true) {
        out.write_all(b",")?;
    }
    render::write_json(&mut *out, key)?;
    out.write_all(b":[")?;
    let mut first = true;
    read(&mut |item: &T| {
        if !std::mem::take(&mut first) {
            out.write_all(b",")?;
        }
        render::write_json(&mut *out, item)?;
        Ok(())
    })?;
    out.write_all(b"]")?;
    Ok(())
}

/// The widest a line of the runs table may be (SPEC §3: an operator's 100-column terminal).
const RUNS_WIDTH: usize = 100;

/// The runs in at most [`RUNS_WIDTH`] columns: times to the minute (UTC), the status short,
/// and the counts cut to the room left (the whole counts are in `--format json` and `text`).
fn runs_table(runs: &[crate::core::report::RunReport]) -> String {
    const HEADER: [&str; 7] = [
        "Run", "Command", "Batch", "Status", "Finished", "Errors", "Changes",
    ];
    let rows: Vec<[String; 7]> = runs
        .iter()
        .map(|r| {
            let run = &r.run;
            let mut status = run.status.clone();
            if let Some(c) = r.closed {
                status.push_str(&format!(", {}", c.text()));
            }
            if let Some(by) = r.reverted_by {
                status.push_str(&format!(", reverted by {by}"));
            }
            let finished = run.finished_at.as_deref().unwrap_or_default();
            [
                run.id.to_string(),
                render::cell(&run.command),
                run.batch.map_or(String::new(), |b| b.to_string()),
                render::cell(&status),
                finished.get(..16).unwrap_or(finished).replace('T', " "),
                render::thousands(r.rejected_total),
                run.counts.as_ref().map_or(String::new(), counts_line),
            ]
        })
        .collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    // Two spaces between columns; the last column (the counts) takes the room that is left.
    let fixed: usize = widths[..6].iter().map(|w| w + 2).sum();
    let room = RUNS_WIDTH.saturating_sub(fixed).max(HEADER[6].len());
    let mut out = String::new();
    let mut line = |cells: [&str; 7]| {
        let mut text = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i < 6 {
                let pad = widths[i].saturating_sub(c.chars().count());
                text.push_str(c);
                text.push_str(&" ".repeat(pad + 2));
            } else {
                text.push_str(&fit(c, room));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(HEADER);
    for row in &rows {
        line(row.each_ref().map(String::as_str));
    }
    out
}

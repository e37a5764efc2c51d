//! The report's text, HTML and CSV (SPEC §5): read by a person first — the worst open status
//! and the period, a summary with the open items, then each run with capped lists (the whole
//! lists go along as CSV), and the trend of the last 30 days. It renders the model of
//! [`crate::core::report`] and computes nothing of its own.

use crate::core::number::thousands;
use crate::core::plan::Counts;
use crate::core::report::{
    Held, Open, Person, RejectedOnce, Report, Run, RunReport, ATTACH_ROWS, LIST_CAP, TEXT_WIDTH,
};
use crate::core::signal::{Closed, GroupsLeftOut, OpenRun};
use std::collections::BTreeMap;
use std::fmt::Write as _;

mod html;

/// Values as a line of block characters, the highest as `█`; zero is the lowest block.
pub fn sparkline(values: &[u64]) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            if max == 0 || v == 0 {
                BLOCKS[0]
            } else {
                // 1..=7 for any value above zero, so that a small night still shows.
                let level = (v as u128 * 7).div_ceil(max as u128) as usize;
                BLOCKS[level.clamp(1, 7)]
            }
        })
        .collect()
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

/// How long a streak of rejections is: `6 runs in a row`, or `1 run` (a streak of one).
fn runs_in_a_row(runs: u64) -> String {
    if runs == 1 {
        "1 run".to_string()
    } else {
        format!("{} runs in a row", thousands(runs))
    }
}

/// A list of the report: its title, the file its whole goes to, the header and rows.
pub struct List {
    pub title: String,
    pub file: String,
    pub header: &'static [&'static str],
    /// The first rows (at most [`ATTACH_ROWS`] of a long list of joiners), or all of them.
    pub rows: Vec<Vec<String>>,
    /// How many rows the whole list has.
    pub total: usize,
}

/// A line of the report, and what the text does with it when it is longer than the text's
/// width: a run's message (what failed and what fixes it) is wrapped ([`wrap_lines`]); any
/// other line is fitted ([`fit_lines`]: a command broken, never cut; the rest cut).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub wrap: bool,
}

impl Line {
    /// A line the text wraps, never cuts.
    fn wrapped(text: String) -> Line {
        Line { text, wrap: true }
    }

    /// The line in lines of at most `width` characters.
    pub fn fitted(&self, width: usize) -> Vec<String> {
        if self.wrap {
            wrap_lines(&self.text, width)
        } else {
            fit_lines(&self.text, width)
        }
    }
}

impl From<String> for Line {
    fn from(text: String) -> Line {
        Line { text, wrap: false }
    }
}

impl Report {
    /// The period, for people: `2026-11-27 03:00 to 2026-11-28 03:00 UTC`.
    pub fn period(&self) -> String {
        match &self.from {
            Some(from) => format!("{} to {}", short_time(from), long_time(&self.to)),
            None => match self.runs.as_slice() {
                [one] => format!(
                    "run {}, {}",
                    one.run.id,
                    long_time(
                        one.run
                            .finished_at
                            .as_deref()
                            .unwrap_or(&one.run.started_at)
                    )
                ),
                _ => format!("{}, {}", self.scope, long_time(&self.to)),
            },
        }
    }

    pub fn subject(&self) -> String {
        format!("roster: {} — {}", self.status, self.period())
    }

    /// Runs counted per status, as `2 applied, 1 blocked`.
    fn run_counts(&self) -> String {
        // A block or a failure that a later run closed is counted apart: it is no open item.
        let mut by: BTreeMap<String, u64> = BTreeMap::new();
        for r in &self.runs {
            let status = match r.closed {
                Some(c) => format!("{} ({})", r.run.status, c.word()),
                None => r.run.status.clone(),
            };
            *by.entry(status).or_default() += 1;
        }
        by.iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The summary's lines (without indentation), shared by text, table and HTML.
    pub fn summary(&self) -> Vec<(String, Line)> {
        let mut rows = Vec::new();
        let runs = if self.runs.is_empty() {
            "none".to_string()
        } else {
            format!("{} — {}", self.runs.len(), self.run_counts())
        };
        rows.push(("Runs".to_string(), runs.into()));
        // A run's message is in its summary: wrapped, never cut.
        rows.extend(
            self.runs
                .iter()
                .filter_map(run_summary)
                .map(|l| (String::new(), Line::wrapped(l))),
        );
        let mut plain = Vec::new();
        self.change_rows(&mut plain);
        self.rejected_rows(&mut plain);
        let open = self.open_lines();
        if open.is_empty() {
            plain.push(("Open items".to_string(), "none".to_string()));
        }
        for (i, line) in open.into_iter().enumerate() {
            let label = if i == 0 { "Open items" } else { "" };
            plain.push((label.to_string(), line));
        }
        if let Some(push) = &self.push {
            plain.push(("Push".to_string(), push.clone()));
        }
        for n in &self.notices {
            plain.push(("ATTENTION".to_string(), n.clone()));
        }
        rows.extend(
            plain
                .into_iter()
                .map(|(label, value)| (label, value.into())),
        );
        rows
    }

    /// Joiners and leavers, and the updates per field, of the applied runs.
    fn change_rows(&self, rows: &mut Vec<(String, String)>) {
        let mut total = Counts::default();
        let mut fields: BTreeMap<&str, u64> = BTreeMap::new();
        for r in self.runs.iter().filter(|r| r.run.status == "applied") {
            if let Some(c) = &r.run.counts {
                total.create += c.create;
                total.adopt += c.adopt;
                total.update += c.update;
                total.reactivate += c.reactivate;
                total.remove += c.remove;
            }
            for (f, n) in &r.fields {
                *fields.entry(f.as_str()).or_default() += n;
            }
        }
        let joined = total.create + total.adopt + total.reactivate;
        let net = total.create as i64 + total.reactivate as i64 - total.remove as i64;
        rows.push((
            "Joiners, leavers".to_string(),
            format!(
                "joined: {} (created {}, adopted {}, reactivated {}); left: {}; net {}{}",
                thousands(joined),
                thousands(total.create),
                thousands(total.adopt),
                thousands(total.reactivate),
                thousands(total.remove),
                if net < 0 { "−" } else { "+" },
                thousands(net.unsigned_abs())
            ),
        ));
        let mut by_field: Vec<(&str, u64)> = fields.into_iter().collect();
        by_field.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let updates = if total.update == 0 {
            "none".to_string()
        } else {
            let per: Vec<String> = by_field
                .iter()
                .map(|(f, n)| format!("{f} {}", thousands(*n)))
                .collect();
            format!(
                "{} {} — {}",
                thousands(total.update),
                plural(total.update, "user"),
                per.join(", ")
            )
        };
        rows.push(("Updates".to_string(), updates));
    }

    /// The rejected records: over several runs each once, with since when (SPEC §5).
    fn rejected_rows(&self, rows: &mut Vec<(String, String)>) {
        let label = "Rejected records".to_string();
        if let Some(once) = self.rejected_once.as_ref().filter(|o| o.records > 0) {
            rows.push((label, rejected_once_line(once)));
            if once.first_time > 0 {
                let mut line = format!(
                    "rejected for the first time in the newest file: {} ({}",
                    thousands(once.first_time),
                    once.first_time_keys.join(", ")
                );
                if once.first_time > once.first_time_keys.len() as u64 {
                    line.push_str(", …");
                }
                line.push(')');
                rows.push((String::new(), line));
            }
            for s in &once.old {
                rows.push((
                    String::new(),
                    format!(
                        "{} {} rejected in {}, since {} (run {})",
                        thousands(s.records),
                        plural(s.records, "record"),
                        runs_in_a_row(s.runs),
                        s.since,
                        s.since_run
                    ),
                ));
            }
            return;
        }
        let mut codes = BTreeMap::<&str, u64>::new();
        for r in &self.runs {
            for (c, n) in &r.rejected_codes {
                *codes.entry(c.as_str()).or_default() += n;
            }
        }
        // Records, not their errors: a record with a bad mail and a bad phone is one.
        let total: u64 = self.runs.iter().map(|r| r.rejected_records).sum();
        if total > 0 {
            rows.push((
                label,
                format!("{} ({})", thousands(total), codes_text(&codes)),
            ));
        }
    }

    /// The open items: held plans, invitations, unknown groups, a stale source (or none ever
    /// fetched), and what else
    /// `status` lists under attention.
    fn open_lines(&self) -> Vec<String> {
        let mut out = self.open_before();
        out.extend(open_lines(&self.open));
        for a in self.now.attention() {
            if a.kind != "unknown-groups" {
                out.push(format!("{}: {}", a.kind.replace('-', " "), a.detail));
            }
        }
        out
    }

    /// The failed and rejected runs still open that the report does not cover (its subject
    /// says them): `run 3 (sync, batch -): failed at the fetch stage, not closed since`. A
    /// blocked one is a held plan, listed with its command.
    fn open_before(&self) -> Vec<String> {
        let stage = |r: &OpenRun| r.stage.as_ref().map(|s| format!(" at the {s} stage"));
        self.open_beyond()
            .map(|r| {
                format!(
                    "run {} ({}, batch {}): {}{}, not closed since",
                    r.run,
                    r.command,
                    r.batch.map_or_else(|| "-".to_string(), |b| b.to_string()),
                    r.status,
                    stage(r).unwrap_or_default()
                )
            })
            .collect()
    }

    /// The lists of users and records, each whole (the text and HTML show the first
    /// [`LIST_CAP`]; the whole goes along as CSV).
    pub fn lists(&self, run: &RunReport) -> Vec<List> {
        let id = run.run.id;
        let person = |p: &Person| {
            vec![
                p.unique_id.clone().unwrap_or_default(),
                p.name.clone().unwrap_or_default(),
                p.mail.clone().unwrap_or_default(),
            ]
        };
        let mut lists = Vec::new();
        if !run.joined.is_empty() {
            lists.push(List {
                title: "Joined".into(),
                file: format!("run-{id}-joined.csv"),
                header: &["UniqueID", "Name", "Mail"],
                rows: run.joined.iter().map(person).collect(),
                total: run.joined_total as usize,
            });
        }
        if !run.removed.is_empty() {
            let title = if run.run.status == "applied" {
                "Removed"
            } else {
                "Would remove"
            };
            lists.push(List {
                title: title.into(),
                file: format!("run-{id}-removed.csv"),
                header: &["UniqueID", "Name", "Mail"],
                rows: run.removed.iter().map(person).collect(),
                total: run.removed_total as usize,
            });
        }
        if !run.rejected.is_empty() {
            lists.push(List {
                title: "Rejected records".into(),
                file: format!("run-{id}-rejected.csv"),
                header: &["Line", "UniqueID", "Name", "Code", "Column", "Message"],
                rows: run
                    .rejected
                    .iter()
                    .map(|p| {
                        vec![
                            p.line.map_or_else(String::new, |l| l.to_string()),
                            p.unique_id.clone().unwrap_or_default(),
                            p.name.clone().unwrap_or_default(),
                            p.code.clone(),
                            p.column.clone().unwrap_or_default(),
                            p.message.clone(),
                        ]
                    })
                    .collect(),
                total: run.rejected_total as usize,
            });
        }
        lists
    }

    /// The CSV files that go along with the mail: every list longer than [`LIST_CAP`], each
    /// of at most [`ATTACH_ROWS`] rows, its cells separated by `delimiter`.
    pub fn attachments(&self, delimiter: u8) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for r in &self.runs {
            for list in self.lists(r) {
                if list.total > LIST_CAP {
                    let rows = &list.rows[..list.rows.len().min(ATTACH_ROWS)];
                    out.push((
                        list.file.clone(),
                        crate::core::spreadsheet::csv_text(list.header, rows, delimiter),
                    ));
                }
            }
        }
        out
    }

    /// The heading and the detail lines of one run (who, why, counts, warnings…), without
    /// its lists of users.
    fn detail_lines(&self, r: &RunReport) -> Vec<Line> {
        let run = &r.run;
        let mut lines = vec![format!(
            "Run {} — {}, {}, batch {}, {}",
            run.id,
            run.command,
            run.status,
            run.batch.map_or_else(|| "-".to_string(), |b| b.to_string()),
            long_time(run.finished_at.as_deref().unwrap_or(&run.started_at))
        )
        .into()];
        if let Some(reverted) = r.reverts {
            lines.push(format!("  Revert of run {reverted}").into());
        }
        if let Some(by) = r.reverted_by {
            lines.push(format!("  Reverted by run {by}").into());
        }
        // One line each: a long reason must not cut the overrides off.
        if let Some(by) = &r.by {
            lines.push(format!("  By {by}").into());
        }
        if let Some(reason) = &r.reason {
            lines.push(format!("  Reason: {reason}").into());
        }
        let flags = override_flags(r);
        if !flags.is_empty() {
            lines.push(format!("  Overrides: {}", flags.join(" ")).into());
        }
        if let Some(c) = &run.counts {
            lines.push(format!("  {}", counts_line(c)).into());
        }
        if !r.fields.is_empty() {
            lines.push(format!("  Updates per field: {}", fields_line(&r.fields)).into());
        }
        for t in tripped(run) {
            lines.push(format!("  {t}").into());
        }
        match (run.status.as_str(), r.closed) {
            (_, Some(Closed::Resolved(by))) => lines.push(format!("  Resolved by run {by}").into()),
            (_, Some(c)) => {
                if let Some(m) = &run.message {
                    lines.push(Line::wrapped(format!("  {m}")));
                }
                lines.push(format!("  {}", upper_first(&c.text())).into());
            }
            // The command on a line of its own, which the text wraps and the HTML shows as
            // code: never cut (SPEC §2).
            ("blocked", None) => {
                lines.push("  To apply it anyway:".to_string().into());
                lines.push(format!("    {}", Held::of(run).command).into());
            }
            _ => {
                if let Some(m) = &run.message {
                    lines.push(Line::wrapped(format!("  {m}")));
                }
            }
        }
        if !r.unknown_groups.is_empty() {
            // The words of `status` and the open items, from the same writer.
            let left_out = GroupsLeftOut {
                groups: r.unknown_groups_more,
                records: r.unknown_groups_more_records,
            };
            let groups = crate::core::signal::groups_text_and(&r.unknown_groups, left_out);
            lines.push(format!("  Unknown groups: {groups}").into());
        }
        for p in r.problems.iter().filter(|p| p.severity == "warning") {
            lines.push(format!("  Warning ({}): {}", p.code, p.message).into());
        }
        lines
    }

    /// The lines of one run, before fitting to the width: its details, then its lists.
    fn run_lines(&self, r: &RunReport) -> Vec<Line> {
        let mut lines = self.detail_lines(r);
        let run = &r.run;
        for list in self.lists(r) {
            lines.push(format!("  {} ({}):", list.title, thousands(list.total as u64)).into());
            for row in list.rows.iter().take(LIST_CAP) {
                let cells: Vec<&str> = row
                    .iter()
                    .map(String::as_str)
                    .filter(|c| !c.is_empty())
                    .collect();
                lines.push(format!("    {}", cells.join("  ")).into());
            }
            if list.total > ATTACH_ROWS {
                lines.push(
                    format!(
                        "    … and {} more (the first {} in {});",
                        thousands((list.total - LIST_CAP) as u64),
                        thousands(ATTACH_ROWS as u64),
                        list.file
                    )
                    .into(),
                );
                lines.push(
                    format!(
                        "    every one: {} report --run {} --format json",
                        crate::core::command::roster(),
                        run.id
                    )
                    .into(),
                );
            } else if list.total > LIST_CAP {
                lines.push(
                    format!(
                        "    … and {} more (all of them in {})",
                        thousands((list.total - LIST_CAP) as u64),
                        list.file
                    )
                    .into(),
                );
            }
        }
        lines
    }

    /// The two trend lines, for text.
    fn trend_lines(&self) -> Vec<String> {
        if self.trend.is_empty() {
            return Vec::new();
        }
        let changes: Vec<u64> = self.trend.iter().map(|d| d.changes).collect();
        let users: Vec<u64> = self.trend.iter().map(|d| d.users).collect();
        vec![
            format!(
                "Changes per night, {} days: {} max {}",
                self.trend.len(),
                sparkline(&changes),
                thousands(changes.iter().copied().max().unwrap_or(0))
            ),
            format!(
                "Users in the directory:     {} now {}",
                sparkline(&users),
                thousands(users.last().copied().unwrap_or(0))
            ),
        ]
    }

    /// The report as plain text (the terminal's `--format text`, and the text part of mail):
    /// no line longer than [`TEXT_WIDTH`] characters.
    pub fn text(&self) -> String {
        let mut lines = vec![
            self.subject(),
            format!(
                "Generated {} ({}).",
                long_time(&self.generated_at),
                self.scope
            ),
            String::new(),
            "Summary".to_string(),
        ]
        .into_iter()
        .map(Line::from)
        .collect::<Vec<_>>();
        for (label, value) in self.summary() {
            let text = if label.is_empty() {
                format!("    {}", value.text)
            } else {
                format!("  {label}: {}", value.text)
            };
            lines.push(Line { text, ..value });
        }
        for t in self.trend_lines() {
            lines.push(format!("  {t}").into());
        }
        for r in &self.runs {
            lines.push(String::new().into());
            lines.extend(self.run_lines(r));
        }
        let mut out = String::new();
        for line in lines.iter().flat_map(|l| l.fitted(TEXT_WIDTH)) {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// The command of a line that is one (past its indentation it starts with `roster `): a
/// command for a person to copy.
pub fn command_of(line: &str) -> Option<&str> {
    Some(line.trim_start()).filter(|l| l.starts_with("roster "))
}

/// A line of text in lines of at most `width` characters: a command ([`command_of`]) broken
/// before an option with a shell continuation, as `status` shows it, so that it is never cut
/// (SPEC §2: the one command that proceeds, digest included); any other line cut ([`fit`]).
pub fn fit_lines(line: &str, width: usize) -> Vec<String> {
    match command_of(line) {
        Some(command) if line.chars().count() > width => {
            let indent = &line[..line.len() - command.len()];
            let room = width.saturating_sub(indent.chars().count());
            super::grid::command_lines(command, room)
                .iter()
                .map(|l| fit(&format!("{indent}{l}"), width))
                .collect()
        }
        _ => vec![fit(line, width)],
    }
}

/// A line of text in lines of at most `width` characters, broken at spaces, each after the
/// first indented two more than it, control characters escaped: never cut (a run's message
/// ends with what fixes it); a word longer than a line (a long path) is broken across lines.
pub fn wrap_lines(line: &str, width: usize) -> Vec<String> {
    let line = escaped(line);
    if line.chars().count() <= width {
        return vec![line];
    }
    let body = line.trim_start_matches(' ');
    let more = format!("{}  ", &line[..line.len() - body.len()]);
    let mut lines = Vec::new();
    let mut current = line[..line.len() - body.len()].to_string();
    let mut start = current.chars().count();
    let mut n = start;
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        if n > start && n + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut current, more.clone()));
            start = more.chars().count();
            n = start;
        } else if n > start {
            current.push(' ');
            n += 1;
        }
        let mut rest = word;
        while n + rest.chars().count() > width && n < width {
            let at = rest
                .char_indices()
                .nth(width - n)
                .map_or(rest.len(), |(i, _)| i);
            current.push_str(&rest[..at]);
            rest = &rest[at..];
            lines.push(std::mem::replace(&mut current, more.clone()));
            start = more.chars().count();
            n = start;
        }
        current.push_str(rest);
        n += rest.chars().count();
    }
    lines.push(current);
    lines
}

/// `line` with its control characters escaped, as [`fit`] writes them.
fn escaped(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `run 10 (sync, batch 10): blocked (max_removals tripped: 25 > 4), superseded by run 11`:
/// a failed, blocked or rejected run, for the summary.
fn run_summary(r: &RunReport) -> Option<String> {
    if !matches!(r.run.status.as_str(), "failed" | "blocked" | "rejected") {
        return None;
    }
    let mut line = format!(
        "run {} ({}, batch {}): {}",
        r.run.id,
        r.run.command,
        r.run
            .batch
            .map_or_else(|| "-".to_string(), |b| b.to_string()),
        r.run.status
    );
    let tripped: Vec<String> = tripped(&r.run)
        .iter()
        .filter_map(|t| t.strip_prefix("Safeguard "))
        .filter_map(|t| t.split_once(" (").map(|(head, _)| head.to_string()))
        .collect();
    if !tripped.is_empty() {
        let _ = write!(line, " ({})", tripped.join("; "));
    }
    match r.closed {
        Some(c) => {
            let _ = write!(line, ", {}", c.text());
        }
        None if tripped.is_empty() => {
            if let Some(m) = &r.run.message {
                let _ = write!(line, " — {m}");
            }
        }
        None => {}
    }
    Some(line)
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// `10 (bad-mail 8, field-count 2)`.
fn rejected_once_line(once: &RejectedOnce) -> String {
    let codes: BTreeMap<&str, u64> = once.codes.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    format!(
        "{} {}, each counted once ({})",
        thousands(once.records),
        plural(once.records, "record"),
        codes_text(&codes)
    )
}

fn codes_text(codes: &BTreeMap<&str, u64>) -> String {
    codes
        .iter()
        .map(|(c, n)| format!("{c} {}", thousands(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What an operator must act on, one line each.
fn open_lines(open: &Open) -> Vec<String> {
    let mut out = Vec::new();
    for h in &open.held {
        out.push(format!(
            "Held plan of batch {} (run {}); to apply it:",
            h.batch.unwrap_or_default(),
            h.run
        ));
        out.push(format!("  {}", h.command));
    }
    if open.pending_invitations > 0 || open.failed_invitations > 0 {
        out.push(format!(
            "Invitations: {} pending, {} failed ({} users invite --pending sends the pending)",
            thousands(open.pending_invitations as u64),
            thousands(open.failed_invitations as u64),
            crate::core::command::roster()
        ));
    }
    for to in &open.stuck_invitations {
        out.push(format!(
            "An email to {to} was left in `sending` by a run that stopped; check whether it \
             arrived ({} users invite {} sends it again)",
            crate::core::command::roster(),
            crate::core::command::arg_then(to, "--resend")
        ));
    }
    if !open.unknown_groups.is_empty() {
        out.push(format!(
            "Unknown groups: {}",
            crate::core::signal::groups_text(&open.unknown_groups)
        ));
    }
    if let Some(days) = open.stale_days {
        out.push(format!(
            "STALE: the source file has not changed for {days} days \
             (source.stale_after_days = {}); is the export running?",
            open.stale_after_days
        ));
    }
    if open.never_fetched {
        out.push(format!(
            "STALE: no file was ever fetched; check source.url, then run {} sync",
            crate::core::command::roster()
        ));
    }
    out
}

/// The `--allow-*` flags of a run, as an operator would type them.
fn override_flags(r: &RunReport) -> Vec<String> {
    let Some(serde_json::Value::Object(o)) = &r.overrides else {
        return Vec::new();
    };
    o.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            serde_json::Value::Bool(true) => format!("--{}", k.replace('_', "-")),
            _ => format!("--{} {}", k.replace('_', "-"), v),
        })
        .collect()
}

/// The counts that are not zero, as `create 40, remove 2` (or `nothing`).
pub fn counts_line(c: &Counts) -> String {
    let all = c.named();
    let parts: Vec<String> = all
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(a, n)| format!("{a} {}", thousands(*n)))
        .collect();
    if parts.is_empty() {
        "nothing".to_string()
    } else {
        parts.join(", ")
    }
}

fn fields_line(fields: &BTreeMap<String, u64>) -> String {
    let mut by: Vec<(&String, &u64)> = fields.iter().collect();
    by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    by.iter()
        .map(|(f, n)| format!("{f} {}", thousands(**n)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn tripped(run: &Run) -> Vec<String> {
    run.tripped()
        .map(|t| {
            // Counts as a person reads them (`1,300`), the rest as stored.
            let get = |k: &str| match t.get(k).and_then(serde_json::Value::as_u64) {
                Some(n) => thousands(n),
                None => t
                    .get(k)
                    .map(|v| v.to_string().trim_matches('"').to_string())
                    .unwrap_or_default(),
            };
            if t.get("overridden").and_then(|v| v.as_bool()) == Some(true) {
                return format!(
                    "Safeguard {} overridden: {} let through by {}",
                    get("safeguard"),
                    get("count"),
                    get("setting")
                );
            }
            format!(
                "Safeguard {} tripped: {} > {} ({})",
                get("safeguard"),
                get("count"),
                get("limit"),
                get("setting")
            )
        })
        .collect()
}

/// An RFC 3339 time as `2026-11-28 03:00 UTC` (or as it is, when it is not one).
fn long_time(at: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M UTC")
            .to_string(),
        Err(_) => at.to_string(),
    }
}

fn short_time(at: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => at.to_string(),
    }
}

/// One line of text at most `width` characters: control characters escaped, the rest cut
/// with `…`.
pub fn fit(line: &str, width: usize) -> String {
    let mut out = String::with_capacity(line.len().min(width * 4));
    let mut count = 0;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let piece: String = if c.is_control() {
            c.escape_default().collect()
        } else {
            c.to_string()
        };
        let n = piece.chars().count();
        let rest_fits = chars.peek().is_none();
        if count + n > width || (count + n == width && !rest_fits) {
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        count += n;
    }
    out
}

/// The `--allow-*` flags a run used, as they were typed: `--allow-updates 2219`.
pub fn overrides_text(overrides: Option<&serde_json::Value>) -> Option<String> {
    let o = overrides?.as_object()?;
    let flags: Vec<String> = o
        .iter()
        .filter_map(|(k, v)| Some(format!("--{} {}", k.replace('_', "-"), v.as_u64()?)))
        .collect();
    (!flags.is_empty()).then(|| flags.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::report::{Rejected, RunParts};
    use crate::core::signal::Now;

    fn run(id: i64, batch: i64, status: &str, detail: serde_json::Value) -> Run {
        Run {
            id,
            batch: Some(batch),
            command: "sync".into(),
            started_at: "2026-11-28T02:00:00Z".into(),
            finished_at: None,
            status: status.into(),
            counts: Some(Counts {
                remove: 25,
                ..Counts::default()
            }),
            message: None,
            detail: Some(detail),
            ..Run::default()
        }
    }

    fn blocked_report(resolved_by: Option<i64>) -> Report {
        let detail = serde_json::json!({
            "tripped": [{"safeguard": "max_removals", "count": 25, "limit": 4, "setting": "10%", "release": "--allow-removals 25"}],
            "removals": [{"unique_id": "E1", "name": "Anna <script>"}],
            "invalid": [{"line": 4, "unique_id": "E4", "name": "Bo Ek"}]
        });
        let rejected = vec![Rejected {
            line: Some(4),
            unique_id: Some("E4".into()),
            name: Some("Bo Ek".into()),
            column: Some("Mail".into()),
            code: "bad-mail".into(),
            message: "`x` is bad".into(),
        }];
        let parts = RunParts {
            removed: (
                vec![Person {
                    unique_id: Some("E1".into()),
                    name: Some("Anna <script>".into()),
                    mail: None,
                }],
                1,
            ),
            rejected: (rejected, [("bad-mail".to_string(), 1)].into()),
            rejected_records: 1,
            closed: resolved_by.map(Closed::Resolved),
            ..RunParts::default()
        };
        Report::new(
            "2026-11-28T03:00:00Z".into(),
            "run 3".into(),
            None,
            vec![RunReport::new(run(3, 7, "blocked", detail), parts)],
            Open::default(),
            Vec::new(),
            Now::default(),
        )
    }

    #[test]
    fn blocked_run_says_what_tripped_and_how_to_proceed() {
        let report = blocked_report(None);
        let text = report.text();
        assert!(
            text.contains("Safeguard max_removals tripped: 25 > 4"),
            "{text}"
        );
        assert!(
            text.contains("roster apply --batch 7 --allow-removals 25"),
            "{text}"
        );
        assert!(text.contains("Would remove (1):"), "{text}");
        assert!(text.contains("    E1  Anna <script>"), "{text}");
        assert!(
            text.contains("    4  E4  Bo Ek  bad-mail  Mail  `x` is bad"),
            "{text}"
        );
        let html = report.html();
        assert!(html.contains("Anna &lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"));
        assert!(report.needs_attention());
        assert_eq!(
            report.subject(),
            "roster: BLOCKED — run 3, 2026-11-28 02:00 UTC"
        );
    }

    #[test]
    fn a_resolved_block_is_not_the_worst_status() {
        let report = blocked_report(Some(4));
        assert_eq!(report.status, "OK");
        assert!(report.text().contains("Resolved by run 4"));
        assert!(!report.text().contains("To apply it anyway"));
    }

    #[test]
    fn the_worst_status_wins() {
        let cases: &[(&[&str], bool, &str)] = &[
            (&["applied"], false, "OK"),
            (&[], false, "OK"),
            (&["applied"], true, "STALE"),
            (&["applied", "blocked"], true, "BLOCKED"),
            (&["blocked", "rejected"], false, "REJECTED"),
            (&["rejected", "failed", "blocked"], false, "FAILED"),
        ];
        for (statuses, stale, want) in cases {
            let runs = statuses
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    RunReport::new(
                        run(i as i64, 1, s, serde_json::json!({})),
                        RunParts::default(),
                    )
                })
                .collect();
            let now = Now {
                stale_days: stale.then_some(5),
                ..Now::default()
            };
            let report = Report::new(
                "2026-11-28T03:00:00Z".into(),
                "x".into(),
                None,
                runs,
                Open::default(),
                vec![],
                now,
            );
            assert_eq!(report.status, *want, "{statuses:?} stale {stale}");
        }
    }

    #[test]
    fn fit_cuts_and_escapes() {
        let cases = [
            ("short", 10, "short"),
            ("exactly10!", 10, "exactly10!"),
            ("eleven chars", 10, "eleven ch…"),
            ("tab\there", 20, "tab\\there"),
            ("åäöåäöåäöåäö", 5, "åäöå…"),
        ];
        for (line, width, want) in cases {
            assert_eq!(fit(line, width), want, "{line}");
        }
    }

    /// A run's unknown groups in the words of `status` and the open items
    /// ([`crate::core::signal::groups_text`]), those left out counted with their records.
    #[test]
    fn a_runs_unknown_groups_say_records() {
        let parts = RunParts {
            unknown_groups: (
                [("INTMED".to_string(), 5), ("X".to_string(), 1)].into(),
                crate::core::signal::GroupsLeftOut {
                    groups: 3,
                    records: 7,
                },
            ),
            ..RunParts::default()
        };
        let mut report = blocked_report(None);
        let applied = run(4, 8, "applied", serde_json::json!({}));
        report.runs = vec![RunReport::new(applied, parts)];
        let text = report.text();
        assert!(
            text.contains(
                "  Unknown groups: INTMED (5 records), X (1 record), and 3 more (7 records)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn wrap_lines_breaks_never_cuts() {
        let path = format!("/srv/{}users.csv", "folder/".repeat(20));
        let message = format!(
            "  sync failed at the fetch stage: cannot open {path}: No such file. Fix the cause, \
             then run: roster sync"
        );
        for width in [30, 60, 100] {
            let lines = wrap_lines(&message, width);
            assert!(lines.len() > 1, "{lines:?}");
            for l in &lines {
                assert!(l.chars().count() <= width, "{width}: {l}");
                assert!(!l.contains('…'), "{l}");
            }
            assert!(
                lines[1..].iter().all(|l| l.starts_with("    ")),
                "{lines:?}"
            );
            let squeezed = |s: &str| s.split_whitespace().collect::<String>();
            assert_eq!(squeezed(&lines.concat()), squeezed(&message), "{width}");
        }
        assert_eq!(wrap_lines("  short", 10), vec!["  short"]);
        assert_eq!(wrap_lines("a\tb", 10), vec!["a\\tb"]);
    }

    #[test]
    fn sparkline_levels() {
        assert_eq!(sparkline(&[0, 1, 50, 100]), "▁▂▅█");
        assert_eq!(sparkline(&[0, 0]), "▁▁");
    }

    #[test]
    fn every_value_in_the_html_is_escaped() {
        let many = |n: usize, tag: &str| -> Vec<Person> {
            (0..n)
                .map(|i| Person {
                    unique_id: Some(format!("E{i}")),
                    name: Some(format!("{tag} O'Brien & <b>{i}</b> \"q\"")),
                    mail: Some(format!("p{i}@x.se")),
                })
                .collect()
        };
        let mut detail_run = run(
            5,
            8,
            "applied",
            serde_json::json!({"by": "ops <a>", "reason": "why & how"}),
        );
        detail_run.message = Some("a 'message' <i>".into());
        let parts = RunParts {
            joined: (many(120, "J"), 1200),
            removed: (many(30, "R"), 30),
            ..RunParts::default()
        };
        let mut report = blocked_report(None);
        report.runs.push(RunReport::new(detail_run, parts));
        report.trend = (1..=5)
            .map(|d| crate::core::report::Day {
                date: format!("2026-11-0{d}"),
                changes: d * 3,
                users: 100 + d,
            })
            .collect();
        report.notices.push("roster <now> & 'then'".into());
        report.push = Some("push ok \"x\"".into());
        let html = report.html();
        for raw in ["<b>", "<a>", "<i>", "<now>", "\"q\"", "\"x\""] {
            assert!(!html.contains(raw), "{raw} unescaped: {html}");
        }
        for escaped in [
            "J O'Brien &amp; &lt;b&gt;0&lt;/b&gt; &quot;q&quot;",
            "<td>ops &lt;a&gt;</td><td>why &amp; how</td>",
            "<code>roster &lt;now&gt; &amp; 'then'</code>",
            "<li>a 'message' &lt;i&gt;</li>",
        ] {
            assert!(html.contains(escaped), "no {escaped}: {html}");
        }
        assert_eq!(html.matches("<table class=\"chart\"").count(), 2);
    }
}

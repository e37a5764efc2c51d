//! Reports of runs (SPEC §5), read by a person first: the worst status and the period, a
//! summary with the open items, then each run with capped lists (the whole lists go along as
//! CSV), and the trend of the last 30 days. Built from plain data so that the terminal, JSON
//! and mail share it.

use super::plan::Counts;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// At most this many lines of one list of users in the text and HTML; the rest is attached.
pub const LIST_CAP: usize = 100;
/// At most this many rows of one list go along as a CSV attachment (about half a megabyte),
/// so that the report of a first import of a million users stays a mail; every row is in
/// `roster report --run N --format json`.
pub const ATTACH_ROWS: usize = 10_000;
/// No line of the text is longer than this (in characters).
pub const TEXT_WIDTH: usize = 100;
/// Days of the trend.
pub const TREND_DAYS: usize = 30;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Run {
    pub id: i64,
    pub batch: Option<i64>,
    pub command: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub counts: Option<Counts>,
    pub message: Option<String>,
    pub detail: Option<serde_json::Value>,
    /// Who ran it: the OS user (and the sudo user).
    pub by: Option<String>,
    pub reason: Option<String>,
    /// The `--allow-*` flags it was run with.
    pub overrides: Option<serde_json::Value>,
    /// For a revert: the run it undid.
    pub reverts: Option<i64>,
}

/// A problem as stored with its run.
#[derive(Debug, Clone, Serialize)]
pub struct StoredProblem {
    pub line: Option<i64>,
    pub column: Option<String>,
    pub code: String,
    pub severity: String,
    pub message: String,
}

/// A user in a list of the report (joined, removed).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Person {
    pub unique_id: Option<String>,
    pub name: Option<String>,
    pub mail: Option<String>,
}

/// A rejected record: what HR needs to find and fix it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Rejected {
    pub line: Option<i64>,
    pub unique_id: Option<String>,
    pub name: Option<String>,
    pub column: Option<String>,
    pub code: String,
    pub message: String,
}

/// One run with what the report shows of it.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    #[serde(flatten)]
    pub run: Run,
    pub problems: Vec<StoredProblem>,
    /// Who ran it (the OS user, and `SUDO_USER`), when recorded.
    pub by: Option<String>,
    pub reason: Option<String>,
    /// The `--allow-*` limits this run used, as `{"allow_removals": 25, …}`.
    pub overrides: Option<serde_json::Value>,
    /// The run this run reverted (command `revert`, or `apply --batch N --force`).
    pub reverts: Option<i64>,
    /// Users updated per field.
    pub fields: BTreeMap<String, u64>,
    /// The first [`ATTACH_ROWS`] of the users the run created (the lists and the attachment
    /// show no more; `roster report --format json` writes every one from the store).
    pub joined: Vec<Person>,
    /// How many users the run created in all.
    pub joined_total: u64,
    pub removed: Vec<Person>,
    pub rejected: Vec<Rejected>,
    /// Unknown Group IDs and the number of records that name each.
    pub unknown_groups: BTreeMap<String, u64>,
    /// For a blocked run: the later run that applied the same batch.
    pub resolved_by: Option<i64>,
}

impl RunReport {
    /// The report of a run from what its row holds; `joined` (the first of `joined_total`) is
    /// read from the audit log.
    pub fn new(
        run: Run,
        problems: Vec<StoredProblem>,
        joined: Vec<Person>,
        joined_total: u64,
        resolved_by: Option<i64>,
    ) -> RunReport {
        let detail = run.detail.clone().unwrap_or_default();
        let text =
            |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let removed = detail
            .get("removals")
            .and_then(|r| r.as_array())
            .map(|list| {
                list.iter()
                    .map(|x| Person {
                        unique_id: text(x, "unique_id"),
                        name: text(x, "name"),
                        mail: text(x, "mail"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let fields = detail
            .get("fields")
            .and_then(|f| serde_json::from_value(f.clone()).ok())
            .unwrap_or_default();
        let unknown_groups = detail
            .get("unknown_groups")
            .and_then(|f| serde_json::from_value(f.clone()).ok())
            .unwrap_or_default();
        // The records of the file by line, to name the UniqueID and name of a rejected one.
        let mut invalid: BTreeMap<i64, (Option<String>, Option<String>)> = BTreeMap::new();
        for x in detail
            .get("invalid")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(line) = x.get("line").and_then(|l| l.as_i64()) {
                invalid.insert(line, (text(x, "unique_id"), text(x, "name")));
            }
        }
        let rejected = problems
            .iter()
            .filter(|p| p.severity == "error")
            .map(|p| {
                let (unique_id, name) = p
                    .line
                    .and_then(|l| invalid.get(&l).cloned())
                    .unwrap_or_default();
                Rejected {
                    line: p.line,
                    unique_id,
                    name,
                    column: p.column.clone(),
                    code: p.code.clone(),
                    message: p.message.clone(),
                }
            })
            .collect();
        // Who, why and the overrides are columns of the run (older runs: in the detail).
        let reverts = run
            .reverts
            .or_else(|| detail.get("reverts").and_then(|r| r.as_i64()));
        RunReport {
            by: run.by.clone().or_else(|| text(&detail, "by")),
            reason: run.reason.clone().or_else(|| text(&detail, "reason")),
            overrides: run
                .overrides
                .clone()
                .or_else(|| detail.get("overrides").cloned())
                .filter(|o| !o.is_null()),
            reverts,
            fields,
            joined_total: joined_total.max(joined.len() as u64),
            joined,
            removed,
            rejected,
            unknown_groups,
            resolved_by,
            problems,
            run,
        }
    }

    /// The status this run gives the report: a block that was resolved is no longer one.
    fn effective_status(&self) -> &str {
        match self.run.status.as_str() {
            "blocked" if self.resolved_by.is_some() => "applied",
            s => s,
        }
    }

    /// The `--allow-*` flags of this run, as an operator would type them.
    fn override_flags(&self) -> Vec<String> {
        let Some(serde_json::Value::Object(o)) = &self.overrides else {
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
}

/// A plan held by a safeguard, with the one command that proceeds.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Held {
    pub run: i64,
    pub batch: Option<i64>,
    pub command: String,
}

impl Held {
    pub fn of(run: &Run) -> Held {
        // The command the run named (with `--expect-plan`), as it said it.
        let named = run.detail.as_ref().and_then(|d| d.get("proceed"));
        if let Some(command) = named.and_then(|p| p.as_str()) {
            let (run, batch, command) = (run.id, run.batch, command.to_string());
            return Held {
                run,
                batch,
                command,
            };
        }
        let flags: Vec<String> = run
            .detail
            .as_ref()
            .and_then(|d| d.get("tripped"))
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("release").and_then(|r| r.as_str()))
            .map(str::to_string)
            .collect();
        let reverts = run.reverts.or_else(|| {
            run.detail
                .as_ref()
                .and_then(|d| d.get("reverts"))
                .and_then(|r| r.as_i64())
        });
        let mut command = match (run.command.as_str(), reverts) {
            ("revert", Some(of)) => format!("roster revert {of}"),
            _ => format!("roster apply --batch {}", run.batch.unwrap_or_default()),
        };
        for f in flags {
            command.push(' ');
            command.push_str(&f);
        }
        Held {
            run: run.id,
            batch: run.batch,
            command,
        }
    }
}

/// What an operator must act on, whatever the period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Open {
    pub held: Vec<Held>,
    pub pending_invitations: i64,
    pub failed_invitations: i64,
    /// Recipients of emails left in `sending` by a run that stopped.
    pub stuck_invitations: Vec<String>,
    /// Unknown Group IDs of the newest run that read a file, with their record counts.
    pub unknown_groups: BTreeMap<String, u64>,
    /// Days since the source file last changed, when that is stale.
    pub stale_days: Option<i64>,
    pub stale_after_days: u32,
}

impl Open {
    fn is_empty(&self) -> bool {
        self.held.is_empty()
            && self.pending_invitations == 0
            && self.failed_invitations == 0
            && self.stuck_invitations.is_empty()
            && self.unknown_groups.is_empty()
            && self.stale_days.is_none()
    }

    fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for h in &self.held {
            out.push(format!(
                "Held plan of batch {} (run {}); to apply it:",
                h.batch.unwrap_or_default(),
                h.run
            ));
            out.push(format!("  {}", h.command));
        }
        if self.pending_invitations > 0 || self.failed_invitations > 0 {
            out.push(format!(
                "Invitations: {} pending, {} failed (roster users invite --pending sends the pending)",
                thousands(self.pending_invitations as u64),
                thousands(self.failed_invitations as u64)
            ));
        }
        for to in &self.stuck_invitations {
            out.push(format!(
                "An email to {to} was left in `sending` by a run that stopped; check whether it \
                 arrived (roster users invite USER --resend sends it again)"
            ));
        }
        if !self.unknown_groups.is_empty() {
            let mut groups: Vec<(&String, &u64)> = self.unknown_groups.iter().collect();
            groups.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let list: Vec<String> = groups
                .iter()
                .map(|(g, n)| format!("{g} ({} {})", thousands(**n), plural(**n, "record")))
                .collect();
            out.push(format!("Unknown groups: {}", list.join(", ")));
        }
        if let Some(days) = self.stale_days {
            out.push(format!(
                "STALE: the source file has not changed for {days} days \
                 (source.stale_after_days = {}); is the export running?",
                self.stale_after_days
            ));
        }
        out
    }
}

/// One night of the trend.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Day {
    pub date: String,
    /// Changes applied that day (create, adopt, update, reactivate, remove).
    pub changes: u64,
    /// Active users in the directory at the end of the day.
    pub users: u64,
}

/// The last [`TREND_DAYS`] days up to `today`: the changes applied per day, and the users in
/// the directory at each day's end, counted back from `users_now` through each day's net
/// change (created and reactivated less removed).
pub fn trend(
    today: chrono::NaiveDate,
    users_now: u64,
    applied: &[(chrono::NaiveDate, Counts)],
) -> Vec<Day> {
    let first = today - chrono::Duration::days(TREND_DAYS as i64 - 1);
    let mut changes = [0u64; TREND_DAYS];
    let mut net = [0i64; TREND_DAYS];
    for (date, c) in applied {
        let Ok(i) = usize::try_from((*date - first).num_days()) else {
            continue;
        };
        if i >= TREND_DAYS {
            continue;
        }
        changes[i] += c.create + c.adopt + c.update + c.reactivate + c.remove;
        net[i] += c.create as i64 + c.reactivate as i64 - c.remove as i64;
    }
    let mut users = [0u64; TREND_DAYS];
    let mut at_end = users_now as i64;
    for i in (0..TREND_DAYS).rev() {
        users[i] = at_end.max(0) as u64;
        at_end -= net[i];
    }
    (0..TREND_DAYS)
        .map(|i| Day {
            date: (first + chrono::Duration::days(i as i64))
                .format("%Y-%m-%d")
                .to_string(),
            changes: changes[i],
            users: users[i],
        })
        .collect()
}

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

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

/// A report: the runs of a period (or one run) and anything an operator must act on.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The worst status: `OK`, `STALE`, `BLOCKED`, `REJECTED` or `FAILED`.
    pub status: String,
    pub generated_at: String,
    pub scope: String,
    /// The period: from (RFC 3339, none for one run) to.
    pub from: Option<String>,
    pub to: String,
    pub runs: Vec<RunReport>,
    pub open: Open,
    /// Lines that need attention beyond the runs and open items (a hung lock).
    pub notices: Vec<String>,
    pub trend: Vec<Day>,
    /// The SCIM push: the last one, changes pending, refusals (SPEC §8), when configured.
    pub push: Option<String>,
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

impl Report {
    pub fn new(
        generated_at: String,
        scope: String,
        from: Option<String>,
        runs: Vec<RunReport>,
        open: Open,
        trend: Vec<Day>,
    ) -> Report {
        let mut report = Report {
            status: String::new(),
            to: generated_at.clone(),
            generated_at,
            scope,
            from,
            runs,
            open,
            notices: Vec::new(),
            trend,
            push: None,
        };
        report.status = report.worst().to_string();
        report
    }

    /// A report of no runs that says one thing (a sync that could not start).
    pub fn notice(generated_at: String, scope: String, notice: String) -> Report {
        let mut report = Report::new(
            generated_at,
            scope,
            None,
            Vec::new(),
            Open::default(),
            Vec::new(),
        );
        report.notices.push(notice);
        report.status = "FAILED".into();
        report
    }

    /// The worst status of the runs (a resolved block does not count), else `STALE`, else `OK`.
    fn worst(&self) -> &'static str {
        let statuses: Vec<&str> = self.runs.iter().map(|r| r.effective_status()).collect();
        for (status, name) in [
            ("failed", "FAILED"),
            ("rejected", "REJECTED"),
            ("blocked", "BLOCKED"),
        ] {
            if statuses.contains(&status) {
                return name;
            }
        }
        if self.open.stale_days.is_some() {
            return "STALE";
        }
        "OK"
    }

    /// True when a run failed, was blocked or rejected, the source is stale, or a notice or an
    /// open item needs attention.
    pub fn needs_attention(&self) -> bool {
        self.status != "OK" || !self.notices.is_empty() || !self.open.is_empty()
    }

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
        let mut by: BTreeMap<&str, u64> = BTreeMap::new();
        for r in &self.runs {
            *by.entry(r.run.status.as_str()).or_default() += 1;
        }
        by.iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The summary's lines (without indentation), shared by text, table and HTML.
    pub fn summary(&self) -> Vec<(String, String)> {
        let mut rows = Vec::new();
        let runs = if self.runs.is_empty() {
            "none".to_string()
        } else {
            format!("{} — {}", self.runs.len(), self.run_counts())
        };
        rows.push(("Runs".to_string(), runs));
        for r in &self.runs {
            if matches!(r.run.status.as_str(), "failed" | "blocked" | "rejected") {
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
                match r.resolved_by {
                    Some(by) => {
                        let _ = write!(line, ", resolved by run {by}");
                    }
                    None if tripped.is_empty() => {
                        if let Some(m) = &r.run.message {
                            let _ = write!(line, " — {m}");
                        }
                    }
                    None => {}
                }
                rows.push((String::new(), line));
            }
        }
        let mut total = Counts::default();
        let mut fields: BTreeMap<&str, u64> = BTreeMap::new();
        let mut rejected = BTreeMap::<&str, u64>::new();
        for r in &self.runs {
            for p in &r.rejected {
                *rejected.entry(p.code.as_str()).or_default() += 1;
            }
            if !matches!(r.run.status.as_str(), "applied") {
                continue;
            }
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
        rows.push((
            "Updates".to_string(),
            if total.update == 0 {
                "none".to_string()
            } else {
                format!(
                    "{} {} — {}",
                    thousands(total.update),
                    plural(total.update, "user"),
                    by_field
                        .iter()
                        .map(|(f, n)| format!("{f} {}", thousands(*n)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        ));
        let rejected_total: u64 = rejected.values().sum();
        if rejected_total > 0 {
            rows.push((
                "Rejected records".to_string(),
                format!(
                    "{} ({})",
                    thousands(rejected_total),
                    rejected
                        .iter()
                        .map(|(c, n)| format!("{c} {}", thousands(*n)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let open = self.open.lines();
        if open.is_empty() {
            rows.push(("Open items".to_string(), "none".to_string()));
        }
        for (i, line) in open.into_iter().enumerate() {
            let label = if i == 0 { "Open items" } else { "" };
            rows.push((label.to_string(), line));
        }
        if let Some(push) = &self.push {
            rows.push(("Push".to_string(), push.clone()));
        }
        for n in &self.notices {
            rows.push(("ATTENTION".to_string(), n.clone()));
        }
        rows
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
                total: run.removed.len(),
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
                total: run.rejected.len(),
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
                    out.push((list.file.clone(), csv_text(list.header, rows, delimiter)));
                }
            }
        }
        out
    }

    /// The heading and the detail lines of one run (who, why, counts, warnings…), without
    /// its lists of users.
    fn detail_lines(&self, r: &RunReport) -> Vec<String> {
        let run = &r.run;
        let mut lines = vec![format!(
            "Run {} — {}, {}, batch {}, {}",
            run.id,
            run.command,
            run.status,
            run.batch.map_or_else(|| "-".to_string(), |b| b.to_string()),
            long_time(run.finished_at.as_deref().unwrap_or(&run.started_at))
        )];
        if let Some(reverted) = r.reverts {
            lines.push(format!("  Revert of run {reverted}"));
        }
        // One line each: a long reason must not cut the overrides off.
        if let Some(by) = &r.by {
            lines.push(format!("  By {by}"));
        }
        if let Some(reason) = &r.reason {
            lines.push(format!("  Reason: {reason}"));
        }
        let flags = r.override_flags();
        if !flags.is_empty() {
            lines.push(format!("  Overrides: {}", flags.join(" ")));
        }
        if let Some(c) = &run.counts {
            lines.push(format!("  {}", counts_line(c)));
        }
        if !r.fields.is_empty() {
            lines.push(format!("  Updates per field: {}", fields_line(&r.fields)));
        }
        for t in tripped(run) {
            lines.push(format!("  {t}"));
        }
        match (run.status.as_str(), r.resolved_by) {
            ("blocked", Some(by)) => lines.push(format!("  Resolved by run {by}")),
            ("blocked", None) => {
                lines.push(format!("  To apply it anyway: {}", Held::of(run).command))
            }
            _ => {
                if let Some(m) = &run.message {
                    lines.push(format!("  {m}"));
                }
            }
        }
        if !r.unknown_groups.is_empty() {
            let list: Vec<String> = r
                .unknown_groups
                .iter()
                .map(|(g, n)| format!("{g} ({})", thousands(*n)))
                .collect();
            lines.push(format!("  Unknown groups: {}", list.join(", ")));
        }
        for p in r.problems.iter().filter(|p| p.severity == "warning") {
            lines.push(format!("  Warning ({}): {}", p.code, p.message));
        }
        lines
    }

    /// The lines of one run, before fitting to the width: its details, then its lists.
    fn run_lines(&self, r: &RunReport) -> Vec<String> {
        let mut lines = self.detail_lines(r);
        let run = &r.run;
        for list in self.lists(r) {
            lines.push(format!(
                "  {} ({}):",
                list.title,
                thousands(list.total as u64)
            ));
            for row in list.rows.iter().take(LIST_CAP) {
                let cells: Vec<&str> = row
                    .iter()
                    .map(String::as_str)
                    .filter(|c| !c.is_empty())
                    .collect();
                lines.push(format!("    {}", cells.join("  ")));
            }
            if list.total > ATTACH_ROWS {
                lines.push(format!(
                    "    … and {} more (the first {} in {});",
                    thousands((list.total - LIST_CAP) as u64),
                    thousands(ATTACH_ROWS as u64),
                    list.file
                ));
                lines.push(format!(
                    "    every one: roster report --run {} --format json",
                    run.id
                ));
            } else if list.total > LIST_CAP {
                lines.push(format!(
                    "    … and {} more (all of them in {})",
                    thousands((list.total - LIST_CAP) as u64),
                    list.file
                ));
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
        ];
        for (label, value) in self.summary() {
            if label.is_empty() {
                lines.push(format!("    {value}"));
            } else {
                lines.push(format!("  {label}: {value}"));
            }
        }
        for t in self.trend_lines() {
            lines.push(format!("  {t}"));
        }
        for r in &self.runs {
            lines.push(String::new());
            lines.extend(self.run_lines(r));
        }
        let mut out = String::new();
        for line in lines {
            out.push_str(&fit(&line, TEXT_WIDTH));
            out.push('\n');
        }
        out
    }

    /// The report as an HTML document (the HTML part of mail, and `--format html`): tables,
    /// and the trend as bars drawn with table cells, with nothing to load from elsewhere.
    pub fn html(&self) -> String {
        let mut out = String::from("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
        out.push_str(&escape_html(&self.subject()));
        out.push_str("</title></head>\n<body style=\"font-family: sans-serif; color: #222\">\n");
        let _ = writeln!(
            out,
            "<h1>roster: {}</h1>\n<p>{} — generated {} ({})</p>",
            escape_html(&self.status),
            escape_html(&self.period()),
            escape_html(&long_time(&self.generated_at)),
            escape_html(&self.scope)
        );
        out.push_str("<h2>Summary</h2>\n<table class=\"summary\" cellpadding=\"4\" style=\"border-collapse: collapse\">\n");
        for (label, value) in self.summary() {
            // The command that proceeds, as something to copy.
            let value = match value.trim_start().strip_prefix("roster ") {
                Some(rest) => format!("<code>roster {}</code>", escape_html(rest)),
                None => escape_html(&value),
            };
            let _ = writeln!(
                out,
                "<tr><th align=\"left\" valign=\"top\">{}</th><td>{value}</td></tr>",
                escape_html(&label),
            );
        }
        out.push_str("</table>\n");
        if !self.trend.is_empty() {
            let _ = writeln!(out, "<h2>Last {} days</h2>", self.trend.len());
            out.push_str(&bar_chart(
                "Changes per night",
                &self
                    .trend
                    .iter()
                    .map(|d| (d.date.as_str(), d.changes))
                    .collect::<Vec<_>>(),
                "#3465a4",
            ));
            out.push_str(&bar_chart(
                "Users in the directory",
                &self
                    .trend
                    .iter()
                    .map(|d| (d.date.as_str(), d.users))
                    .collect::<Vec<_>>(),
                "#4e9a06",
            ));
        }
        if !self.runs.is_empty() {
            out.push_str("<h2>Runs</h2>\n<table class=\"runs\" border=\"1\" cellpadding=\"4\" style=\"border-collapse: collapse\">\n");
            out.push_str("<tr><th>Run</th><th>Command</th><th>Status</th><th>Batch</th><th>Finished</th><th>By</th><th>Reason</th><th>Changes</th></tr>\n");
            for r in &self.runs {
                let run = &r.run;
                let mut status = run.status.clone();
                if let Some(by) = r.resolved_by {
                    let _ = write!(status, " (resolved by run {by})");
                }
                if let Some(rev) = r.reverts {
                    let _ = write!(status, " (revert of run {rev})");
                }
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    run.id,
                    escape_html(&run.command),
                    escape_html(&status),
                    run.batch.map_or_else(String::new, |b| b.to_string()),
                    escape_html(&long_time(run.finished_at.as_deref().unwrap_or(&run.started_at))),
                    escape_html(r.by.as_deref().unwrap_or("")),
                    escape_html(r.reason.as_deref().unwrap_or("")),
                    escape_html(&run.counts.as_ref().map(counts_line).unwrap_or_default())
                );
            }
            out.push_str("</table>\n");
        }
        for r in &self.runs {
            let mut lines = self.detail_lines(r).into_iter();
            if let Some(head) = lines.next() {
                let _ = writeln!(out, "<h3>{}</h3>", escape_html(&head));
            }
            // The lists are tables of their own, below.
            let details: Vec<String> = lines.collect();
            if !details.is_empty() {
                out.push_str("<ul>\n");
                for l in details {
                    let _ = writeln!(out, "<li>{}</li>", escape_html(l.trim_start()));
                }
                out.push_str("</ul>\n");
            }
            for list in self.lists(r) {
                let _ = writeln!(
                    out,
                    "<h4>{} ({})</h4>\n<table class=\"list\" border=\"1\" cellpadding=\"3\" style=\"border-collapse: collapse\">",
                    escape_html(&list.title),
                    thousands(list.total as u64)
                );
                out.push_str("<tr>");
                for h in list.header {
                    let _ = write!(out, "<th>{h}</th>");
                }
                out.push_str("</tr>\n");
                for row in list.rows.iter().take(LIST_CAP) {
                    out.push_str("<tr>");
                    for cell in row {
                        let _ = write!(out, "<td>{}</td>", escape_html(cell));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
                if list.total > ATTACH_ROWS {
                    let _ = writeln!(
                        out,
                        "<p>… and {} more (the first {} in the attached {}; every one: \
                         <code>roster report --run {} --format json</code>)</p>",
                        thousands((list.total - LIST_CAP) as u64),
                        thousands(ATTACH_ROWS as u64),
                        escape_html(&list.file),
                        r.run.id
                    );
                } else if list.total > LIST_CAP {
                    let _ = writeln!(
                        out,
                        "<p>… and {} more (all of them in the attached {})</p>",
                        thousands((list.total - LIST_CAP) as u64),
                        escape_html(&list.file)
                    );
                }
            }
        }
        out.push_str("</body></html>\n");
        out
    }
}

/// A bar chart as a table: one cell per day, its bar a block of that height, so that every
/// mail client shows it without loading anything.
fn bar_chart(title: &str, days: &[(&str, u64)], colour: &str) -> String {
    const HEIGHT: u64 = 80;
    let max = days.iter().map(|d| d.1).max().unwrap_or(0);
    let mut out = format!(
        "<table class=\"chart\" role=\"img\" aria-label=\"{t}\" cellspacing=\"1\" cellpadding=\"0\" style=\"border-collapse: separate\">\n\
         <caption style=\"text-align: left\">{t} (max {})</caption>\n<tr valign=\"bottom\">",
        thousands(max),
        t = escape_html(title)
    );
    for (date, v) in days {
        let h = if max == 0 {
            0
        } else {
            (v * HEIGHT).div_ceil(max)
        };
        let _ = write!(
            out,
            "<td title=\"{date}: {n}\" style=\"width: 12px; height: {HEIGHT}px; vertical-align: bottom\">\
             <div style=\"height: {h}px; width: 10px; background: {colour}; font-size: 1px; line-height: 1px\">&nbsp;</div></td>",
            n = thousands(*v)
        );
    }
    out.push_str("</tr>\n<tr>");
    let last = days.len().saturating_sub(1);
    for (i, (date, _)) in days.iter().enumerate() {
        let label = if i == 0 || i == last {
            date.get(5..).unwrap_or(date)
        } else {
            ""
        };
        let _ = write!(
            out,
            "<td style=\"font-size: 9px\">{}</td>",
            escape_html(label)
        );
    }
    out.push_str("</tr>\n</table>\n");
    out
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
    run.detail
        .as_ref()
        .and_then(|d| d.get("tripped"))
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
        .map(|t| {
            let get = |k: &str| {
                t.get(k)
                    .map(|v| v.to_string().trim_matches('"').to_string())
                    .unwrap_or_default()
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

/// The counts of each unknown Group ID among `unknown-group` warnings.
pub fn unknown_groups(problems: &[super::problem::Problem]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for p in problems
        .iter()
        .filter(|p| p.code == super::problem::Code::UnknownGroup)
    {
        if let Some(id) = &p.value {
            *out.entry(id.clone()).or_default() += 1;
        }
    }
    out
}

/// Cells as CSV text for a spreadsheet: a UTF-8 BOM, `delimiter` between cells, a cell that
/// a spreadsheet would run as a formula escaped with `'` ([`super::spreadsheet`]).
pub fn csv_text(header: &[&str], rows: &[Vec<String>], delimiter: u8) -> String {
    super::spreadsheet::csv_text(header, rows, delimiter)
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

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let problems = vec![StoredProblem {
            line: Some(4),
            column: Some("Mail".into()),
            code: "bad-mail".into(),
            severity: "error".into(),
            message: "`x` is bad".into(),
        }];
        Report::new(
            "2026-11-28T03:00:00Z".into(),
            "run 3".into(),
            None,
            vec![RunReport::new(
                run(3, 7, "blocked", detail),
                problems,
                Vec::new(),
                0,
                resolved_by,
            )],
            Open::default(),
            Vec::new(),
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
                        vec![],
                        vec![],
                        0,
                        None,
                    )
                })
                .collect();
            let open = Open {
                stale_days: stale.then_some(5),
                ..Open::default()
            };
            let report = Report::new(
                "2026-11-28T03:00:00Z".into(),
                "x".into(),
                None,
                runs,
                open,
                vec![],
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

    #[test]
    fn trend_counts_back_from_today() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let c = |create, remove, update| Counts {
            create,
            remove,
            update,
            ..Counts::default()
        };
        let days = trend(
            d("2026-11-28"),
            90,
            &[
                (d("2026-11-27"), c(100, 0, 0)),
                (d("2026-11-28"), c(0, 10, 5)),
                (d("2026-01-01"), c(7, 0, 0)),
            ],
        );
        assert_eq!(days.len(), 30);
        assert_eq!(days[0].date, "2026-10-30");
        assert_eq!(days[29].changes, 15);
        assert_eq!(days[29].users, 90);
        assert_eq!(days[28].changes, 100);
        assert_eq!(days[28].users, 100);
        assert_eq!(days[27].users, 0);
    }

    #[test]
    fn sparkline_levels() {
        assert_eq!(sparkline(&[0, 1, 50, 100]), "▁▂▅█");
        assert_eq!(sparkline(&[0, 0]), "▁▁");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
    }

    #[test]
    fn csv_escapes_formulas_and_quotes() {
        let text = csv_text(
            &["A", "B"],
            &[vec!["=SUM(1)".into(), "a, \"b\"".into()]],
            b',',
        );
        assert_eq!(text, "\u{feff}A,B\r\n'=SUM(1),\"a, \"\"b\"\"\"\r\n");
    }
}

/// Read WHEN of `--since`: a date (local midnight), an RFC 3339 time, or an age (`24h`, `7d`).
pub fn parse_since(
    text: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, String> {
    use chrono::{DateTime, Duration, Local, NaiveDate, TimeZone, Utc};
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).ok_or("bad date")?;
        return Local
            .from_local_datetime(&midnight)
            .earliest()
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| format!("`{t}` is not a valid local date"));
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: i64 = n.parse().map_err(|_| {
        format!("`{t}` is not a date (2026-11-01), a time (RFC 3339) nor an age (24h, 7d)")
    })?;
    let age = match unit {
        "m" | "min" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        "w" => Duration::try_weeks(n),
        _ => {
            return Err(format!(
                "`{t}`: an age is a number with m, h, d or w (24h, 7d)"
            ))
        }
    };
    // At most a thousand years back: further is no date a store has.
    age.filter(|a| *a <= Duration::days(366_000))
        .and_then(|a| now.checked_sub_signed(a))
        .ok_or_else(|| format!("`{t}`: the age is out of range (at most 1000 years)"))
}

#[cfg(test)]
mod since_tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn since_forms() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
            .single()
            .unwrap_or_default();
        let ok = [
            ("24h", "2026-11-27T12:00:00+00:00"),
            ("7d", "2026-11-21T12:00:00+00:00"),
            ("30m", "2026-11-28T11:30:00+00:00"),
            ("2026-11-01T05:00:00+01:00", "2026-11-01T04:00:00+00:00"),
        ];
        for (text, want) in ok {
            assert_eq!(
                parse_since(text, now).map(|d| d.to_rfc3339()),
                Ok(want.to_string()),
                "{text}"
            );
        }
        assert!(parse_since("2026-11-01", now).is_ok());
        for bad in ["yesterday", "5y", "", "2026-13-01"] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }
}

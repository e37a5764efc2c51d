//! Reports of runs (SPEC §5), read by a person first: the worst status and the period, a
//! summary with the open items, then each run with capped lists (the whole lists go along as
//! CSV), and the trend of the last 30 days. Built from plain data so that the terminal, JSON
//! and mail share it.

use super::plan::Counts;
use super::signal::{Closed, GroupsLeftOut, Level, Now, OpenRun};
use serde::Serialize;
use std::collections::BTreeMap;

/// At most this many lines of one list of users in the text and HTML; the rest is attached.
pub const LIST_CAP: usize = 100;
/// At most this many rows of one list go along as a CSV attachment (about half a megabyte),
/// so that the report of a first import of a million users stays a mail; every row is in
/// `roster report --run N --format json`.
pub const ATTACH_ROWS: usize = 10_000;

pub use super::signal::UNKNOWN_GROUPS_SHOWN;

fn is_zero(n: &u64) -> bool {
    *n == 0
}
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

impl Run {
    /// The safeguards its plan tripped (or that were overridden), as its detail keeps them.
    pub fn tripped(&self) -> impl Iterator<Item = &serde_json::Value> {
        self.detail
            .as_ref()
            .and_then(|d| d.get("tripped"))
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
    }
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

/// One run with what the report shows of it. Its lists hold their first rows only (at most
/// [`ATTACH_ROWS`]), with their whole counts: a bad night of 200,000 rejected records costs the
/// report what it shows, not the records (`roster report --format json` writes every one from
/// the store as it reads it).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    #[serde(flatten)]
    pub run: Run,
    /// The warnings stored with the run (a file's own: a few).
    pub problems: Vec<StoredProblem>,
    /// Who ran it (the OS user, and `SUDO_USER`), when recorded.
    pub by: Option<String>,
    pub reason: Option<String>,
    /// The `--allow-*` limits this run used, as `{"allow_removals": 25, …}`.
    pub overrides: Option<serde_json::Value>,
    /// The run this run reverted (command `revert`, or `apply --batch N --force`).
    pub reverts: Option<i64>,
    /// The revert that undid this run, while that revert stands.
    pub reverted_by: Option<i64>,
    /// Users updated per field.
    pub fields: BTreeMap<String, u64>,
    /// The first users the run created, and how many it created in all.
    pub joined: Vec<Person>,
    pub joined_total: u64,
    /// The first users the run removed (or would remove), and how many in all.
    pub removed: Vec<Person>,
    pub removed_total: u64,
    /// The first rejected records, how many in all, and how many per code.
    pub rejected: Vec<Rejected>,
    pub rejected_total: u64,
    pub rejected_codes: BTreeMap<String, u64>,
    /// How many records those are: a record with two errors is one (by UniqueID, else line).
    pub rejected_records: u64,
    /// Unknown Group IDs and the number of records that name each: the
    /// [`UNKNOWN_GROUPS_SHOWN`] named by the most records.
    pub unknown_groups: BTreeMap<String, u64>,
    /// How many more unknown Group IDs the run named.
    #[serde(skip_serializing_if = "is_zero")]
    pub unknown_groups_more: u64,
    /// How many records name those more unknown Group IDs.
    #[serde(skip_serializing_if = "is_zero")]
    pub unknown_groups_more_records: u64,
    /// For a failed, blocked or rejected run: the later run that closed it (SPEC §5).
    pub closed: Option<Closed>,
    /// For a blocked run: the later run that applied the same batch.
    pub resolved_by: Option<i64>,
}

/// What the store gives a run's report beyond its row: its first lists and what closed it.
#[derive(Debug, Clone, Default)]
pub struct RunParts {
    /// The warnings stored with the run.
    pub warnings: Vec<StoredProblem>,
    pub joined: (Vec<Person>, u64),
    pub removed: (Vec<Person>, u64),
    pub rejected: (Vec<Rejected>, BTreeMap<String, u64>),
    /// How many records were rejected (a record with two errors is one).
    pub rejected_records: u64,
    pub closed: Option<Closed>,
    pub reverted_by: Option<i64>,
    /// The first of the unknown Group IDs the run named, and how many more it did (with the
    /// records that name them).
    pub unknown_groups: (BTreeMap<String, u64>, GroupsLeftOut),
}

impl RunReport {
    /// The report of a run from what its row holds and what the store gives beside it.
    pub fn new(run: Run, parts: RunParts) -> RunReport {
        let detail = run.detail.clone().unwrap_or_default();
        let text =
            |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let map = |k: &str| {
            detail
                .get(k)
                .and_then(|f| serde_json::from_value(f.clone()).ok())
                .unwrap_or_default()
        };
        let (joined, joined_total) = parts.joined;
        let (removed, removed_total) = parts.removed;
        let (rejected, rejected_codes) = parts.rejected;
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
            reverted_by: parts.reverted_by,
            fields: map("fields"),
            joined_total: joined_total.max(joined.len() as u64),
            joined,
            removed_total: removed_total.max(removed.len() as u64),
            removed,
            rejected_total: rejected_codes
                .values()
                .sum::<u64>()
                .max(rejected.len() as u64),
            rejected,
            rejected_codes,
            rejected_records: parts.rejected_records,
            // Read from the store ([`RunParts`]); a detail that still holds them (a report
            // made from a run not stored) is read as it is.
            unknown_groups: if parts.unknown_groups.0.is_empty() {
                map("unknown_groups")
            } else {
                parts.unknown_groups.0
            },
            unknown_groups_more: parts.unknown_groups.1.groups,
            unknown_groups_more_records: parts.unknown_groups.1.records,
            resolved_by: match parts.closed {
                Some(Closed::Resolved(r)) if run.status == "blocked" => Some(r),
                _ => None,
            },
            closed: parts.closed,
            problems: parts.warnings,
            run,
        }
    }

    /// Whether this run sets the report's status: a failed, blocked or rejected run that no
    /// later run closed.
    pub fn is_open(&self) -> bool {
        self.closed.is_none() && Level::of_run(&self.run.status) != Level::Ok
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
            .tripped()
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
            ("revert", Some(of)) => format!("{} revert {of}", super::command::roster()),
            _ => format!(
                "{} apply --batch {}",
                super::command::roster(),
                run.batch.unwrap_or_default()
            ),
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
    /// No file was ever fetched: as stale as a source gets (SPEC §3 `status`).
    pub never_fetched: bool,
}

impl Open {
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
            && self.pending_invitations == 0
            && self.failed_invitations == 0
            && self.stuck_invitations.is_empty()
            && self.unknown_groups.is_empty()
            && self.stale_days.is_none()
            && !self.never_fetched
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
/// change (created and reactivated less removed). A day before `since` (the day of the
/// store's first run) had no directory: 0 users, not the users added by hand since.
pub fn trend(
    today: chrono::NaiveDate,
    users_now: u64,
    applied: &[(chrono::NaiveDate, Counts)],
    since: Option<chrono::NaiveDate>,
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
        let day = first + chrono::Duration::days(i as i64);
        if since.is_some_and(|s| day < s) {
            break;
        }
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

/// A report: the runs of a period (or one run) and anything an operator must act on.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The worst open status (SPEC §5): `OK`, `WARNING`, `STALE`, `BLOCKED`, `REJECTED` or
    /// `FAILED`.
    pub status: String,
    pub generated_at: String,
    pub scope: String,
    /// The period: from (RFC 3339, none for one run) to.
    pub from: Option<String>,
    pub to: String,
    /// Not serialized with the rest: the JSON report writes the runs after it, one at a time,
    /// their whole lists read from the store (`commands::report`).
    #[serde(skip)]
    pub runs: Vec<RunReport>,
    pub open: Open,
    /// Lines that need attention beyond the runs and open items (a hung lock).
    pub notices: Vec<String>,
    pub trend: Vec<Day>,
    /// The SCIM push: the last one, changes pending, refusals (SPEC §8), when configured.
    pub push: Option<String>,
    /// What is true now, beyond the runs: what `status` says too.
    pub now: Now,
    /// Over several runs: the rejected records, each once, with since when.
    pub rejected_once: Option<RejectedOnce>,
}

/// How many rejected records of a period were rejected since when: `records` of them in
/// `runs` runs in a row, since `since` (the date of `since_run`, the first that rejected them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Streak {
    pub since_run: i64,
    pub since: String,
    pub runs: u64,
    pub records: u64,
}

/// The rejected records of several runs, each counted once (by UniqueID, else line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RejectedOnce {
    /// Distinct records.
    pub records: u64,
    /// Distinct records per code.
    pub codes: BTreeMap<String, u64>,
    /// Records the newest file of the period rejected for the first time (not the file before
    /// it), and the keys of the first of them.
    pub first_time: u64,
    pub first_time_keys: Vec<String>,
    /// The others, by since when.
    pub old: Vec<Streak>,
}

impl Report {
    pub fn new(
        generated_at: String,
        scope: String,
        from: Option<String>,
        runs: Vec<RunReport>,
        open: Open,
        trend: Vec<Day>,
        now: Now,
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
            now,
            rejected_once: None,
        };
        report.status = report.worst().as_str().to_string();
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
            Now::default(),
        );
        report.notices.push(notice);
        report.status = Level::Failed.as_str().into();
        report
    }

    /// The worst open status of the period (SPEC §5): its runs that nothing closed, and what
    /// is true now: a run still open from before the period (a failed sync that has not
    /// succeeded since is open through the period), a warning still true, a stale source, the
    /// push. The subject and `status` say the same.
    pub fn worst(&self) -> Level {
        let runs = self
            .runs
            .iter()
            .filter(|r| r.is_open())
            .map(|r| Level::of_run(&r.run.status));
        runs.chain(std::iter::once(self.now.level()))
            .max()
            .unwrap_or_default()
    }

    /// The failed and rejected runs still open that the report does not cover: they set its
    /// subject as they set `status`. (A blocked one is a held plan, in [`Open::held`].)
    pub fn open_beyond(&self) -> impl Iterator<Item = &OpenRun> {
        let covered = |id: i64| self.runs.iter().any(|r| r.run.id == id);
        self.now
            .open_runs
            .iter()
            .filter(move |r| r.status != "blocked" && !covered(r.run))
    }

    /// True when a run failed, was blocked or rejected, the source is stale, or a notice or an
    /// open item needs attention.
    pub fn needs_attention(&self) -> bool {
        self.status != "OK" || !self.notices.is_empty() || !self.open.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            None,
        );
        assert_eq!(days.len(), 30);
        assert_eq!(days[0].date, "2026-10-30");
        assert_eq!(days[29].changes, 15);
        assert_eq!(days[29].users, 90);
        assert_eq!(days[28].changes, 100);
        assert_eq!(days[28].users, 100);
        assert_eq!(days[27].users, 0);
        // 50 users added by hand before the first import, the day the store began: none
        // before that day.
        let days = trend(
            d("2026-11-28"),
            150,
            &[(d("2026-11-28"), c(100, 0, 0))],
            None,
        );
        assert_eq!((days[0].users, days[28].users), (50, 50));
        let since = Some(d("2026-11-28"));
        let days = trend(
            d("2026-11-28"),
            150,
            &[(d("2026-11-28"), c(100, 0, 0))],
            since,
        );
        assert_eq!((days[0].users, days[28].users, days[29].users), (0, 0, 150));
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

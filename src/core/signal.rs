//! What is true now (SPEC §5, "The report says what is true now" and "Honest health"): which
//! failed, blocked and rejected runs are still open, the worst open status, what needs
//! attention and whether roster is healthy. Computed once from plain data; the report (its
//! subject), `status` (table, JSON, Prometheus) and the mail render it, so they cannot
//! disagree. A rule like "superseded" is written here and nowhere else.

use serde::Serialize;
use std::collections::BTreeMap;

/// The status a report's subject and `status` say, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    #[default]
    Ok,
    Warning,
    Stale,
    Blocked,
    Rejected,
    Failed,
}

impl Level {
    /// Every level, best first.
    pub const ALL: [Level; 6] = [
        Level::Ok,
        Level::Warning,
        Level::Stale,
        Level::Blocked,
        Level::Rejected,
        Level::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Stale => "STALE",
            Level::Blocked => "BLOCKED",
            Level::Rejected => "REJECTED",
            Level::Failed => "FAILED",
        }
    }

    /// The level of an open run of this status.
    pub fn of_run(status: &str) -> Level {
        match status {
            "failed" => Level::Failed,
            "rejected" => Level::Rejected,
            "blocked" => Level::Blocked,
            _ => Level::Ok,
        }
    }
}

/// What decides whether a run is still open: its command, batch and status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fact {
    pub id: i64,
    pub command: String,
    pub batch: Option<i64>,
    pub status: String,
    /// For a revert: the run it undid.
    pub reverts: Option<i64>,
}

/// Why a failed, blocked or rejected run no longer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "run", rename_all = "kebab-case")]
pub enum Closed {
    /// The held batch was applied by this later run.
    Resolved(i64),
    /// A later batch was applied by this run: the held or rejected file is old news.
    Superseded(i64),
    /// A later run of the same command succeeded.
    Succeeded(i64),
    /// For a sync failed at the push stage: a later push went through (this is the push's
    /// number, as `status` shows it in `push.last.push`), so nothing it failed to send waits.
    Pushed(i64),
    /// For a sync failed at the report stage: a report sent since covered it (this is the
    /// newest run that reports sent have covered).
    Reported(i64),
    /// For a sync failed at the invitations stage: every invitation it left was sent since
    /// (no run sent them: this is the failed run itself).
    Invited(i64),
}

impl Closed {
    pub fn run(self) -> i64 {
        match self {
            Closed::Resolved(r)
            | Closed::Superseded(r)
            | Closed::Succeeded(r)
            | Closed::Pushed(r)
            | Closed::Reported(r)
            | Closed::Invited(r) => r,
        }
    }

    /// `resolved`, `superseded` or `succeeded again`.
    pub fn word(self) -> &'static str {
        match self {
            Closed::Resolved(_) => "resolved",
            Closed::Superseded(_) => "superseded",
            Closed::Succeeded(_) => "succeeded again",
            Closed::Pushed(_) => "pushed since",
            Closed::Reported(_) => "reported since",
            Closed::Invited(_) => "invitations sent since",
        }
    }

    /// `superseded by run 11`, for people.
    pub fn text(self) -> String {
        match self {
            Closed::Succeeded(r) => format!("succeeded again in run {r}"),
            Closed::Pushed(p) => format!("pushed since (push {p} went through)"),
            Closed::Reported(_) => "reported since (a report sent covered it)".to_string(),
            Closed::Invited(_) => "invitations sent since".to_string(),
            c => format!("{} by run {}", c.word(), c.run()),
        }
    }
}

/// Whether a later run of `later` (the runs after `run`, in order) closed `run`: a failed run
/// once a later run of the same command succeeded; a blocked or rejected run once its batch,
/// or a later batch, was applied (a blocked revert: once that run was reverted, or a batch
/// later than the one it would undo applied). `newest` is
/// the newest batch a run before `run` read: a file rejected before it became a batch is
/// superseded by a batch newer than that.
pub fn closed(run: &Fact, later: &[Fact], newest: Option<i64>) -> Option<Closed> {
    let mut applied = later.iter().filter(|l| l.status == "applied");
    let succeeded = || {
        later
            .iter()
            .find(|l| {
                l.command == run.command && matches!(l.status.as_str(), "applied" | "unchanged")
            })
            .map(|l| Closed::Succeeded(l.id))
    };
    match (run.status.as_str(), run.batch) {
        ("failed", _) => succeeded(),
        // A file rejected before it became a batch (too large at the fetch): as a failure,
        // or old news once a later file was applied, whichever came first.
        ("rejected", None) => {
            let superseded = applied
                .find(|l| l.command != "revert" && l.batch > newest)
                .map(|l| Closed::Superseded(l.id));
            [succeeded(), superseded]
                .into_iter()
                .flatten()
                .min_by_key(|c| c.run())
        }
        // A held revert: resolved once that run was reverted, old news once a later batch
        // than the one it would undo was applied, as a held file.
        ("blocked" | "rejected", batch) if run.command == "revert" => {
            applied.find_map(|l| match l.command.as_str() {
                "revert" if l.reverts == run.reverts => Some(Closed::Resolved(l.id)),
                "revert" => None,
                _ => (batch.is_some() && l.batch > batch).then_some(Closed::Superseded(l.id)),
            })
        }
        ("blocked" | "rejected", Some(batch)) => applied
            .filter(|l| l.command != "revert")
            .find_map(|l| match l.batch? {
                b if b == batch => Some(Closed::Resolved(l.id)),
                // Another file applied since: the held or rejected one is old news.
                b if b > batch => Some(Closed::Superseded(l.id)),
                _ => None,
            }),
        _ => None,
    }
}

/// The stage of a sync failed after its commit that a later command can do again: `push`
/// (closed by a push that went through, [`Closed::Pushed`]), `report` (by a report sent
/// that covers it, [`Closed::Reported`]) or `invitations` (once every one it left went out,
/// [`Closed::Invited`]). What it failed to do done since, by hand as by the next sync, it
/// fails nothing (SPEC §5 "Honest health").
pub fn done_again<'a>(run: &Fact, stage: Option<&'a str>) -> Option<&'a str> {
    match stage {
        Some(s @ ("push" | "report" | "invitations")) if run.status == "failed" => Some(s),
        _ => None,
    }
}

/// Each run's closure, for runs in id order.
pub fn closures(facts: &[Fact]) -> Vec<Option<Closed>> {
    let mut newest = None;
    (0..facts.len())
        .map(|i| {
            let closed = closed(&facts[i], &facts[i + 1..], newest);
            newest = newest.max(facts[i].batch);
            closed
        })
        .collect()
}

/// A failed, blocked or rejected run that nothing closed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OpenRun {
    pub run: i64,
    pub command: String,
    pub status: String,
    pub batch: Option<i64>,
    /// The stage a failed run stopped at.
    pub stage: Option<String>,
    /// For a revert: the run it undid (what its held plan would undo).
    #[serde(skip)]
    pub reverts: Option<i64>,
}

/// The SCIM push as it stands.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Push {
    /// Changes not yet pushed.
    pub pending: u64,
    /// Since when the oldest of them waits (RFC 3339), when known.
    pub pending_since: Option<String>,
    /// How long that is, in seconds: what `max_pending_minutes` is compared with.
    pub pending_seconds: Option<i64>,
    /// The same in whole minutes, for people.
    pub pending_minutes: Option<i64>,
    /// `scim.max_pending_minutes` (0: never unhealthy for waiting).
    pub max_pending_minutes: u32,
    /// The last attempt failed, was blocked, or had changes refused or not confirmed.
    pub failed: bool,
    /// The last attempt was blocked by the push safeguard.
    pub blocked: bool,
}

impl Push {
    /// Changes have waited longer than `scim.max_pending_minutes`, to the second (96 s is
    /// more than a minute).
    pub fn overdue(&self) -> bool {
        self.pending > 0
            && self.max_pending_minutes > 0
            && self
                .pending_seconds
                .is_some_and(|s| s > i64::from(self.max_pending_minutes) * 60)
    }

    /// `96 seconds`, `2 hours`: how long the oldest change has waited, for people.
    pub fn waited_text(&self) -> String {
        match self.pending_seconds.unwrap_or_default() {
            s if s < 120 => format!("{s} seconds"),
            s if s < 7200 => format!("{} minutes", s / 60),
            s => format!("{} hours", s / 3600),
        }
    }
}

/// Records an applied file rejected that the file before it did not.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NewRejections {
    pub run: i64,
    pub records: u64,
}

/// One thing `status` lists under `attention`: a warning, not unhealthy.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Attention {
    pub kind: &'static str,
    pub detail: String,
}

/// What is true of the store now, beyond the runs of a period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Now {
    /// No file was ever fetched.
    pub never_fetched: bool,
    /// The newest run (not a manual edit), when it is open.
    pub last_run: Option<OpenRun>,
    /// Every failed, blocked or rejected run that nothing closed, oldest first.
    pub open_runs: Vec<OpenRun>,
    /// Unknown Group IDs the newest applied file named that still do not exist, with the
    /// records that name each, and that run.
    pub unknown_groups: BTreeMap<String, u64>,
    pub unknown_groups_run: Option<i64>,
    /// Group IDs that run ignored as unknown and that exist now, with their records: the
    /// memberships wait for the next sync, which plans the same file again (SPEC §2).
    pub memberships_waiting: BTreeMap<String, u64>,
    pub new_rejections: Option<NewRejections>,
    /// Days since the source file last changed, when that is more than `stale_after_days`.
    pub stale_days: Option<i64>,
    pub stale_after_days: u32,
    /// Emails left in `sending` by a run that stopped.
    pub stuck_invitations: u64,
    /// With `[scim]` (or after a push).
    pub push: Option<Push>,
    /// The push as the SCIM module reports it (the last push, pending, refusals), read once
    /// for `status` and the report.
    #[serde(skip)]
    pub push_detail: Option<serde_json::Value>,
    /// Why another user can read or replace the store, if one can.
    pub store_exposed: Option<String>,
}

impl Now {
    /// The worst of what is open now, whatever the period: `status` says it.
    pub fn level(&self) -> Level {
        let runs = self.open_runs.iter().map(|r| Level::of_run(&r.status));
        runs.chain(std::iter::once(self.level_beyond_runs()))
            .max()
            .unwrap_or_default()
    }

    /// The level of what is true now whatever the period: the warnings, a stale source, the
    /// push. Every report says it beside its own runs, so that it agrees with `status`.
    pub fn level_beyond_runs(&self) -> Level {
        let mut level = Level::Ok;
        let warned = !self.unknown_groups.is_empty()
            || !self.memberships_waiting.is_empty()
            || self.new_rejections.is_some();
        if warned || self.push.as_ref().is_some_and(|p| p.pending > 0) {
            level = Level::Warning;
        }
        // Unhealthy never reads OK: no file at all is as stale as a source can be, and an
        // email left in `sending` is a run that stopped in the middle.
        if self.stale_days.is_some() || self.never_fetched {
            level = Level::Stale;
        }
        if self.stuck_invitations > 0 {
            level = Level::Failed;
        }
        match &self.push {
            Some(p) if p.blocked => level.max(Level::Blocked),
            Some(p) if p.failed || p.overdue() => level.max(Level::Failed),
            _ => level,
        }
    }

    /// The plans held by a safeguard: each open blocked run that no later open blocked or
    /// rejected run of the same plan (the same batch; for a revert, the same run undone)
    /// followed. A held rollback or revert is one as much as a held night (SPEC §2).
    pub fn held(&self) -> impl Iterator<Item = &OpenRun> {
        let plan = |r: &OpenRun| match r.command.as_str() {
            "revert" => (true, r.reverts),
            _ => (false, r.batch),
        };
        let runs = &self.open_runs;
        runs.iter().enumerate().filter_map(move |(i, r)| {
            let again = runs[i + 1..]
                .iter()
                .any(|l| l.status != "failed" && plan(l) == plan(r));
            (r.status == "blocked" && !again).then_some(r)
        })
    }

    /// The warnings, as `status --format json` lists them under `attention`.
    pub fn attention(&self) -> Vec<Attention> {
        let mut out = Vec::new();
        if !self.unknown_groups.is_empty() {
            out.push(Attention {
                kind: "unknown-groups",
                detail: groups_text(&self.unknown_groups),
            });
        }
        if !self.memberships_waiting.is_empty() {
            let verb = match self.memberships_waiting.len() {
                1 => "exists",
                _ => "exist",
            };
            out.push(Attention {
                kind: "memberships-waiting",
                detail: format!(
                    "{} {verb} now; the next sync applies them",
                    groups_text(&self.memberships_waiting)
                ),
            });
        }
        if let Some(n) = &self.new_rejections {
            out.push(Attention {
                kind: "new-rejections",
                detail: format!(
                    "run {} rejected {} {} that the file before it did not",
                    n.run,
                    super::number::thousands(n.records),
                    if n.records == 1 { "record" } else { "records" }
                ),
            });
        }
        if let Some(p) = self.push.as_ref().filter(|p| p.pending > 0) {
            out.push(Attention {
                kind: "push-pending",
                detail: match &p.pending_since {
                    Some(since) => format!(
                        "{} changes waiting since {since}",
                        super::number::thousands(p.pending)
                    ),
                    None => format!("{} changes waiting", super::number::thousands(p.pending)),
                },
            });
        }
        if let Some(why) = &self.store_exposed {
            out.push(Attention {
                kind: "store-exposed",
                detail: why.clone(),
            });
        }
        out
    }

    /// Why `status` is unhealthy (empty: healthy). Warnings never are.
    pub fn unhealthy(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.never_fetched {
            out.push("no file was ever fetched".to_string());
        }
        let stage = |r: &OpenRun| {
            r.stage
                .as_ref()
                .map_or(String::new(), |s| format!(" at the {s} stage"))
        };
        for r in &self.open_runs {
            let last = self.last_run.as_ref().is_some_and(|l| l.run == r.run);
            let which = if last { "the last run" } else { "a run" };
            out.push(format!(
                "{which} (run {}, {}) was {}{}",
                r.run,
                r.command,
                r.status,
                stage(r)
            ));
        }
        if self.stale_days.is_some() {
            out.push(format!(
                "the source file has not changed for more than {} days",
                self.stale_after_days
            ));
        }
        if self.stuck_invitations > 0 {
            out.push(format!(
                "{} invitation(s) were left in `sending` by a run that stopped; see {} users invite --pending",
                super::number::thousands(self.stuck_invitations),
                crate::core::command::roster()
            ));
        }
        if let Some(p) = &self.push {
            if p.failed || p.blocked {
                out.push(
                    "the last push to the SCIM provider failed, was blocked, or had changes refused or not confirmed"
                        .into(),
                );
            }
            if p.overdue() {
                out.push(format!(
                    "{} change(s) have waited {} to be pushed (scim.max_pending_minutes = {}); run: {} push",
                    super::number::thousands(p.pending),
                    p.waited_text(),
                    p.max_pending_minutes,
                    crate::core::command::roster()
                ));
            }
        }
        out
    }
}

/// A report or `status` names at most this many unknown Group IDs (those named by the most
/// records), and counts the rest.
pub const UNKNOWN_GROUPS_SHOWN: usize = 100;

/// Unknown Group IDs a report read no further than the [`UNKNOWN_GROUPS_SHOWN`] named most:
/// how many it left out, and how many records name them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupsLeftOut {
    pub groups: u64,
    pub records: u64,
}

/// `INTMED (2,219 records), X (1 record)`: the most named first; past
/// [`UNKNOWN_GROUPS_SHOWN`], `and 1,200 more (1,450 records)`.
pub fn groups_text(groups: &BTreeMap<String, u64>) -> String {
    groups_text_and(groups, GroupsLeftOut::default())
}

/// [`groups_text`] of the Group IDs read, and of those `left_out` before (counted with the
/// ones past [`UNKNOWN_GROUPS_SHOWN`]): the one writer of unknown groups for `status`, the
/// open items and each run of a report.
pub fn groups_text_and(groups: &BTreeMap<String, u64>, left_out: GroupsLeftOut) -> String {
    let mut by: Vec<(&String, &u64)> = groups.iter().collect();
    by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let records = |n: u64| {
        let word = if n == 1 { "record" } else { "records" };
        format!("{} {word}", super::number::thousands(n))
    };
    let shown = UNKNOWN_GROUPS_SHOWN;
    let mut parts: Vec<String> = by
        .iter()
        .take(shown)
        .map(|(g, n)| format!("{g} ({})", records(**n)))
        .collect();
    let rest = by.get(shown..).unwrap_or_default();
    let more = left_out.groups + rest.len() as u64;
    if more > 0 {
        // A file may name thousands: the line says how many, not each (SPEC §5).
        let named = left_out.records + rest.iter().map(|(_, n)| **n).sum::<u64>();
        parts.push(format!(
            "and {} more ({})",
            super::number::thousands(more),
            records(named)
        ));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(id: i64, command: &str, batch: Option<i64>, status: &str) -> Fact {
        Fact {
            id,
            command: command.into(),
            batch,
            status: status.into(),
            reverts: None,
        }
    }

    #[test]
    fn what_closes_a_run() {
        let cases: &[(&[Fact], Option<Closed>)] = &[
            // A block, then the same batch applied: resolved.
            (
                &[
                    fact(1, "sync", Some(1), "blocked"),
                    fact(2, "apply", Some(1), "applied"),
                ],
                Some(Closed::Resolved(2)),
            ),
            // A block, then a later batch applied: superseded.
            (
                &[
                    fact(1, "sync", Some(1), "blocked"),
                    fact(2, "sync", Some(2), "applied"),
                ],
                Some(Closed::Superseded(2)),
            ),
            // A rejection, then a rollback to an older batch: still open.
            (
                &[
                    fact(5, "sync", Some(5), "rejected"),
                    fact(6, "apply", Some(3), "applied"),
                ],
                None,
            ),
            // Blocked again: still open.
            (
                &[
                    fact(1, "sync", Some(1), "blocked"),
                    fact(2, "sync", Some(1), "blocked"),
                ],
                None,
            ),
            // A sync failed at the apply of batch 2, then a sync applied it: closed.
            (
                &[
                    fact(1, "sync", Some(2), "failed"),
                    fact(2, "sync", Some(2), "applied"),
                ],
                Some(Closed::Succeeded(2)),
            ),
            // A failed sync, then an unchanged night of sync: closed.
            (
                &[
                    fact(1, "sync", Some(1), "failed"),
                    fact(2, "sync", Some(1), "unchanged"),
                ],
                Some(Closed::Succeeded(2)),
            ),
            // A file rejected at the fetch, then a sync that applied one: closed.
            (
                &[
                    fact(1, "sync", None, "rejected"),
                    fact(2, "sync", Some(1), "applied"),
                ],
                Some(Closed::Succeeded(2)),
            ),
            // A failed sync, then an apply: still open (another command).
            (
                &[
                    fact(1, "sync", None, "failed"),
                    fact(2, "apply", Some(1), "applied"),
                ],
                None,
            ),
            (&[fact(1, "sync", Some(1), "applied")], None),
        ];
        for (facts, want) in cases {
            assert_eq!(closed(&facts[0], &facts[1..], None), *want, "{facts:?}");
        }
    }

    #[test]
    fn a_later_file_supersedes_a_file_rejected_at_the_fetch_or_a_held_revert() {
        let cases: &[(&[Fact], Option<Closed>)] = &[
            // A file rejected at the fetch, then a file applied by hand: superseded.
            (
                &[
                    fact(1, "sync", None, "rejected"),
                    fact(2, "apply", Some(1), "applied"),
                ],
                Some(Closed::Superseded(2)),
            ),
            // A held revert of run 2 (batch 2), then a later file applied: superseded.
            (
                &[
                    Fact {
                        reverts: Some(2),
                        ..fact(3, "revert", Some(2), "blocked")
                    },
                    fact(4, "apply", Some(1), "applied"),
                    fact(5, "sync", Some(3), "applied"),
                ],
                Some(Closed::Superseded(5)),
            ),
        ];
        for (facts, want) in cases {
            assert_eq!(closed(&facts[0], &facts[1..], None), *want, "{facts:?}");
        }
    }

    #[test]
    fn what_a_later_command_can_do_again() {
        let failed = fact(2, "sync", Some(1), "failed");
        for stage in ["push", "report", "invitations"] {
            assert_eq!(done_again(&failed, Some(stage)), Some(stage));
        }
        for stage in [None, Some("fetch"), Some("apply"), Some("delete")] {
            assert_eq!(done_again(&failed, stage), None, "{stage:?}");
        }
        let applied = fact(2, "sync", Some(1), "applied");
        assert_eq!(done_again(&applied, Some("push")), None);
        assert_eq!(
            Closed::Pushed(4).text(),
            "pushed since (push 4 went through)"
        );
    }

    #[test]
    fn the_worst_open_level_wins() {
        let open = |status: &str| OpenRun {
            run: 1,
            command: "sync".into(),
            status: status.into(),
            batch: Some(1),
            stage: None,
            reverts: None,
        };
        let mut now = Now::default();
        assert_eq!(now.level(), Level::Ok);
        now.push = Some(Push {
            pending: 3,
            ..Push::default()
        });
        assert_eq!(now.level(), Level::Warning);
        assert!(now.unhealthy().is_empty());
        now.stale_days = Some(5);
        assert_eq!(now.level(), Level::Stale);
        now.open_runs = vec![open("blocked")];
        assert_eq!(now.level(), Level::Blocked);
        now.open_runs.push(open("failed"));
        assert_eq!(now.level(), Level::Failed);
        assert!(Level::Warning < Level::Stale && Level::Rejected < Level::Failed);
    }

    #[test]
    fn unhealthy_never_reads_ok() {
        let unhealthy: Vec<(&str, Now)> = vec![
            (
                "never fetched",
                Now {
                    never_fetched: true,
                    ..Now::default()
                },
            ),
            (
                "stale",
                Now {
                    stale_days: Some(4),
                    ..Now::default()
                },
            ),
            (
                "stuck invitations",
                Now {
                    stuck_invitations: 1,
                    ..Now::default()
                },
            ),
            (
                "push failed",
                Now {
                    push: Some(Push {
                        failed: true,
                        ..Push::default()
                    }),
                    ..Now::default()
                },
            ),
            (
                "push overdue",
                Now {
                    push: Some(Push {
                        pending: 1,
                        pending_seconds: Some(3601),
                        max_pending_minutes: 60,
                        ..Push::default()
                    }),
                    ..Now::default()
                },
            ),
        ];
        for (why, now) in unhealthy {
            assert!(!now.unhealthy().is_empty(), "{why}");
            assert_ne!(now.level(), Level::Ok, "{why}");
        }
        let never = Now {
            never_fetched: true,
            ..Now::default()
        };
        assert_eq!(never.level(), Level::Stale);
    }

    #[test]
    fn a_push_waiting_too_long_is_unhealthy() {
        let mut p = Push {
            pending: 2,
            pending_seconds: Some(3660),
            max_pending_minutes: 60,
            ..Push::default()
        };
        assert!(p.overdue());
        p.max_pending_minutes = 0;
        assert!(!p.overdue());
        p.max_pending_minutes = 60;
        p.pending_seconds = Some(3600);
        assert!(!p.overdue());
        // Compared to the second, not in whole minutes.
        p.pending_seconds = Some(3601);
        assert!(p.overdue());
        p.max_pending_minutes = 1;
        p.pending_seconds = Some(96);
        assert!(p.overdue());
        assert_eq!(p.waited_text(), "96 seconds");
        p.pending_seconds = Some(60);
        assert!(!p.overdue());
    }
    #[test]
    fn the_newest_blocked_run_of_each_plan_is_held() {
        let open =
            |run: i64, command: &str, status: &str, batch: i64, reverts: Option<i64>| OpenRun {
                run,
                command: command.into(),
                status: status.into(),
                batch: Some(batch),
                stage: None,
                reverts,
            };
        let now = Now {
            open_runs: vec![
                // Batch 2 held, then held again: the newer names the command.
                open(2, "sync", "blocked", 2, None),
                open(3, "apply", "blocked", 2, None),
                // A rollback to batch 1, held.
                open(4, "apply", "blocked", 1, None),
                // The revert of run 5 (batch 1), held, then a failed attempt: still held.
                open(6, "revert", "blocked", 1, Some(5)),
                open(7, "revert", "failed", 1, Some(5)),
            ],
            ..Now::default()
        };
        let held: Vec<i64> = now.held().map(|r| r.run).collect();
        assert_eq!(held, [3, 4, 6]);
    }
}

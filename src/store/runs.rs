//! Runs: every apply (and every rejected or blocked attempt), with its counts and problems.

use super::{now, Store};
use crate::core::plan::{Counts, Night};
pub use crate::core::problem::EachProblem;
use crate::core::problem::Problem;
use crate::core::record::Entry;
pub use crate::core::report::{Run, StoredProblem};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// What a new run row says.
pub struct NewRun<'a> {
    pub batch: Option<i64>,
    pub command: &'a str,
    pub started_at: &'a str,
    pub status: &'a str,
    pub counts: Option<&'a Counts>,
    pub message: Option<&'a str>,
    pub detail: Option<&'a serde_json::Value>,
    /// A plan's unknown Group IDs with the records naming each, kept as rows of
    /// `run_unknown_groups` (written from the map, a row at a time).
    pub unknown_groups: Option<&'a std::collections::BTreeMap<String, u64>>,
    /// Errors are kept in full; warnings are many on some files and add nothing to a report.
    pub problems: &'a [Problem],
    /// Every problem of the file, told one at a time, when `problems` holds only the first
    /// few (SPEC §5: the rest are streamed to the store, not held); used instead of it.
    pub each_problem: Option<EachProblem<'a>>,
    /// The plan's changes and the file's entries: its invalid records are written as the
    /// run's `invalid` list (line, UniqueID, name) straight from them, never as one JSON tree
    /// of them all.
    pub rejected: Option<(&'a crate::core::plan::Plan, &'a [Entry])>,
}

/// A run's detail is read without its per-record lists (`invalid`, `removals`: 200,000 of
/// them on a bad night), which the report reads a few at a time in SQL (as it reads a run's
/// unknown Group IDs, rows of their own).
const COLUMNS: &str = "id, batch_id, command, started_at, finished_at, status, counts, message,
     CASE WHEN json_valid(detail)
          THEN json_remove(detail, '$.invalid', '$.removals') ELSE detail END,
     by_user, reason, overrides, reverts";

/// Who runs this process, why, and the limits raised for it: recorded with every run.
#[derive(Debug, Clone, Default)]
pub struct Operator {
    /// The OS user, and who became it through sudo: `root (sudo: alice)`.
    pub by: String,
    /// `--reason TEXT`.
    pub reason: Option<String>,
    /// The `--allow-*` flags of this run, when one was given.
    pub overrides: Option<serde_json::Value>,
}

/// The name of the OS user this process runs as (its uid looked up in /etc/passwd, else
/// `$USER`, else the uid), and `SUDO_USER` when set.
pub fn os_user() -> String {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    let from_passwd = uid.and_then(|uid| {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|line| {
            let mut parts = line.split(':');
            let name = parts.next()?;
            (parts.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
        })
    });
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let user = from_passwd
        .or_else(|| env("USER"))
        .or_else(|| env("LOGNAME"))
        .unwrap_or_else(|| uid.map_or_else(|| "unknown".to_string(), |u| format!("uid {u}")));
    match env("SUDO_USER") {
        Some(sudo) if sudo != user => format!("{user} (sudo: {sudo})"),
        _ => user,
    }
}

/// The audit row of a change to an existing user, written before the change: `was` keeps what
/// the user's row held beside its fields (times, absence counter, manual groups).
pub const INSERT_AUDIT: &str = "INSERT INTO audit (run_id, user_pk, unique_id, field, old, new, at, was)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,
       (SELECT json_object('created_at', u.created_at, 'updated_at', COALESCE(u.updated_at, u.created_at),
                           'missing_count', u.missing_count, 'last_missing_batch', u.last_missing_batch,
                           'manual_groups', json((SELECT json_group_array(g.name) FROM memberships m
                                                  JOIN groups g ON g.pk = m.group_pk
                                                  WHERE m.user_pk = u.pk AND g.group_id IS NULL)))
        FROM users u WHERE u.pk = ?2))";

impl Store {
    /// Record the run of a manual edit (a `users` or `groups` command) in the caller's
    /// transaction, so that its audit rows name it and it can be reverted.
    pub(crate) fn manual_run(&self, conn: &Connection, command: &str) -> anyhow::Result<i64> {
        let at = now();
        let id = insert(
            conn,
            &NewRun {
                batch: None,
                command,
                started_at: &at,
                status: "applied",
                counts: None,
                message: None,
                detail: None,
                unknown_groups: None,
                problems: &[],
                each_problem: None,
                rejected: None,
            },
        )?;
        stamp(conn, id, &self.operator)?;
        // Inside the manual command's transaction: a crash here must leave the store as it was.
        crate::stage::crash_point("manual-write");
        Ok(id)
    }
}

/// Write who ran a run, why, and its overrides.
pub fn stamp(conn: &Connection, run: i64, op: &Operator) -> anyhow::Result<()> {
    conn.prepare_cached("UPDATE runs SET by_user = ?2, reason = ?3, overrides = ?4 WHERE id = ?1")?
        .execute(params![
            run,
            op.by,
            op.reason,
            op.overrides
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?
        ])?;
    Ok(())
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Run> {
    let counts: Option<String> = r.get(6)?;
    let detail: Option<String> = r.get(8)?;
    Ok(Run {
        id: r.get(0)?,
        batch: r.get(1)?,
        command: r.get(2)?,
        started_at: r.get(3)?,
        finished_at: r.get(4)?,
        status: r.get(5)?,
        counts: counts.and_then(|c| serde_json::from_str(&c).ok()),
        message: r.get(7)?,
        detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
        by: r.get(9)?,
        reason: r.get(10)?,
        overrides: r
            .get::<_, Option<String>>(11)?
            .and_then(|o| serde_json::from_str(&o).ok()),
        reverts: r.get(12)?,
    })
}

/// At most this many warnings of a file are kept with its run.
const FILE_WARNINGS: usize = 200;

/// Record a run (inside the caller's transaction when there is one); returns its id.
pub fn insert(conn: &Connection, run: &NewRun<'_>) -> anyhow::Result<i64> {
    // The per-record lists go to rows of their own, so a report reads the few it shows.
    let (detail, records) = super::report::detail_text(run.detail)?;
    // An applied import whose detail says it is a night the churn safeguard learns from.
    let history = run.status == "applied"
        && run
            .detail
            .and_then(|d| d.get("churn_history"))
            .and_then(serde_json::Value::as_bool)
            == Some(true);
    conn.execute(
        "INSERT INTO runs (batch_id, command, started_at, finished_at, status, counts, message, detail,
                           creates, updates, removals, churn_history)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            run.batch,
            run.command,
            run.started_at,
            now(),
            run.status,
            run.counts.map(serde_json::to_string).transpose()?,
            run.message,
            detail,
            run.counts.map(|c| c.create as i64),
            run.counts.map(|c| c.update as i64),
            run.counts.map(|c| c.remove as i64),
            history,
        ],
    )?;
    let id = conn.last_insert_rowid();
    super::report::insert_records(conn, id, run.detail, &records)?;
    super::report::insert_unknown_groups(conn, id, run.unknown_groups)?;
    if let Some(changes) = run.rejected {
        super::report::insert_invalid(conn, id, changes)?;
    }
    insert_problems(conn, id, run)?;
    Ok(id)
}

/// Write a run's problems: errors in full; of the warnings, the file's own (`unknown-column`,
/// `encoding-fallback`: a few per file). Unknown Group IDs are kept counted in the run's
/// detail (a plan counts them; a warning of a record, should one be here, is left out).
fn insert_problems(conn: &Connection, id: i64, run: &NewRun<'_>) -> anyhow::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO problems (run_id, line, column_name, code, severity, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut warnings = 0;
    let mut write = |p: &Problem| -> rusqlite::Result<()> {
        if !p.is_error() {
            if p.code == crate::core::problem::Code::UnknownGroup || warnings >= FILE_WARNINGS {
                return Ok(());
            }
            warnings += 1;
        }
        let severity = if p.is_error() { "error" } else { "warning" };
        stmt.execute(params![
            id,
            p.line.map(|l| l as i64),
            p.column,
            p.code.as_str(),
            severity,
            p.message
        ])?;
        Ok(())
    };
    match run.each_problem {
        Some(each) => {
            let mut failed = None;
            let told = each(&mut |p| {
                write(p).map_err(|e| {
                    let said = std::io::Error::other(e.to_string());
                    failed = Some(e);
                    said
                })
            });
            if let Some(e) = failed {
                return Err(e.into());
            }
            told?;
        }
        None => run.problems.iter().try_for_each(&mut write)?,
    }
    Ok(())
}

impl Store {
    pub fn record_run(&self, run: &NewRun<'_>) -> anyhow::Result<i64> {
        let tx = self.conn.unchecked_transaction()?;
        let id = insert(&tx, run)?;
        stamp(&tx, id, &self.operator)?;
        tx.commit()?;
        Ok(id)
    }

    pub fn run(&self, id: i64) -> anyhow::Result<Option<Run>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM runs WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?)
    }

    /// The runs from `first` to `last` (their ids), oldest first: those of one night, whose
    /// sync holds the lock from its first run to its last.
    pub fn runs_between(&self, first: i64, last: i64) -> anyhow::Result<Vec<Run>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM runs WHERE id BETWEEN ?1 AND ?2 ORDER BY id"
        ))?;
        let rows = stmt.query_map([first, last], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Runs that started at or after `since` (RFC 3339), oldest first.
    pub fn runs_since(&self, since: &str) -> anyhow::Result<Vec<Run>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM runs WHERE started_at >= ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([since], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn last_run(&self) -> anyhow::Result<Option<Run>> {
        Ok(self
            .conn
            .query_row(
                // Manual edits are runs too, but not what `status` and a report by default
                // speak of: the last import's state.
                &format!("SELECT {COLUMNS} FROM runs WHERE command NOT LIKE 'users %' AND command NOT LIKE 'groups %'
                          ORDER BY id DESC LIMIT 1"),
                [],
                from_row,
            )
            .optional()?)
    }

    /// The revert that undid a run, while that revert stands: a revert that was itself
    /// reverted undoes nothing any more (SPEC §2: the run shows as applied again). An import
    /// whose batch a later forced rollback reverted was undone by that rollback, while its
    /// batch stays reverted.
    pub fn reverted_by(&self, run: i64) -> anyhow::Result<Option<i64>> {
        let reverts: Vec<i64> = self
            .conn
            .prepare_cached(
                "SELECT id FROM runs WHERE reverts = ?1 AND status = 'applied' ORDER BY id DESC",
            )?
            .query_map([run], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in reverts.into_iter().filter(|&id| id > run) {
            if self.reverted_by(id)?.is_none() {
                return Ok(Some(id));
            }
        }
        Ok(self
            .conn
            .prepare_cached(
                "SELECT b.reverted_by FROM runs r
                   JOIN batches b ON b.id = r.batch_id AND b.status = 'reverted'
                   JOIN runs x ON x.id = b.reverted_by AND x.command = 'apply' AND x.id > r.id
                  WHERE r.id = ?1 AND r.command IN ('sync', 'apply') AND r.status = 'applied'",
            )?
            .query_row([run], |r| r.get(0))
            .optional()?)
    }

    /// The first run after run `through` (none: that started at or after `since`, RFC 3339),
    /// if any: where the runs no report sent has covered begin.
    pub fn first_run_after(
        &self,
        through: Option<i64>,
        since: &str,
    ) -> anyhow::Result<Option<i64>> {
        let first = match through {
            Some(id) => {
                self.conn
                    .query_row("SELECT MIN(id) FROM runs WHERE id > ?1", [id], |r| r.get(0))?
            }
            None => self.conn.query_row(
                "SELECT MIN(id) FROM runs WHERE started_at >= ?1",
                [since],
                |r| r.get(0),
            )?,
        };
        Ok(first)
    }

    /// The ids of the runs after run `id`, oldest first.
    pub fn run_ids_after(&self, id: i64) -> anyhow::Result<Vec<i64>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM runs WHERE id > ?1 ORDER BY id")?;
        let ids = stmt.query_map([id], |r| r.get(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }

    /// The applied imports the churn safeguard compares with, newest first (at most `limit`).
    pub fn churn_nights(&self, limit: usize) -> anyhow::Result<Vec<Night>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, COALESCE(creates, 0), COALESCE(updates, 0), COALESCE(removals, 0)
             FROM runs WHERE churn_history = 1 ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            let count = |i: usize| r.get::<_, i64>(i).map(|n| n.max(0) as u64);
            Ok(Night {
                run: r.get(0)?,
                creates: count(1)?,
                updates: count(2)?,
                removals: count(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A run's stored warnings (a few per file, [`FILE_WARNINGS`] at most), not its errors:
    /// a file whose every line is wrong has hundreds of thousands (SPEC §5), which the report
    /// reads a few at a time ([`Store::run_rejected`]) and counts in SQL.
    pub fn run_warnings(&self, run: i64) -> anyhow::Result<Vec<StoredProblem>> {
        let mut stmt = self.conn.prepare(
            "SELECT line, column_name, code, severity, message FROM problems
              WHERE run_id = ?1 AND severity != 'error' ORDER BY line, rowid LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![run, FILE_WARNINGS as i64], |r| {
            Ok(StoredProblem {
                line: r.get(0)?,
                column: r.get(1)?,
                code: r.get(2)?,
                severity: r.get(3)?,
                message: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Store {
    /// Invitations waiting to be sent.
    pub fn pending_invitations(&self) -> anyhow::Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND status = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }
}

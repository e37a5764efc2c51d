//! Runs: every apply (and every rejected or blocked attempt), with its counts and problems.

use super::{now, Store};
use crate::core::plan::Counts;
use crate::core::problem::Problem;
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
    /// Errors are kept in full; warnings are many on some files and add nothing to a report.
    pub problems: &'a [Problem],
}

const COLUMNS: &str =
    "id, batch_id, command, started_at, finished_at, status, counts, message, detail";

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
    })
}

/// Record a run (inside the caller's transaction when there is one); returns its id.
pub fn insert(conn: &Connection, run: &NewRun<'_>) -> anyhow::Result<i64> {
    conn.execute(
        "INSERT INTO runs (batch_id, command, started_at, finished_at, status, counts, message, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            run.batch,
            run.command,
            run.started_at,
            now(),
            run.status,
            run.counts.map(serde_json::to_string).transpose()?,
            run.message,
            run.detail.map(serde_json::to_string).transpose()?,
        ],
    )?;
    let id = conn.last_insert_rowid();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO problems (run_id, line, column_name, code, severity, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for p in run.problems.iter().filter(|p| p.is_error()) {
        let severity = if p.is_error() { "error" } else { "warning" };
        stmt.execute(params![
            id,
            p.line.map(|l| l as i64),
            p.column,
            p.code.as_str(),
            severity,
            p.message
        ])?;
    }
    Ok(id)
}

impl Store {
    pub fn record_run(&self, run: &NewRun<'_>) -> anyhow::Result<i64> {
        insert(&self.conn, run)
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
                &format!("SELECT {COLUMNS} FROM runs ORDER BY id DESC LIMIT 1"),
                [],
                from_row,
            )
            .optional()?)
    }

    /// Blocked runs whose batch is newer than every applied batch: plans held for an operator.
    pub fn held_runs(&self) -> anyhow::Result<Vec<Run>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM runs r WHERE status = 'blocked'
               AND id = (SELECT MAX(id) FROM runs WHERE batch_id = r.batch_id)
               AND batch_id > COALESCE((SELECT MAX(id) FROM batches WHERE status = 'applied'), 0)
             ORDER BY id"
        ))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn run_problems(&self, run: i64) -> anyhow::Result<Vec<StoredProblem>> {
        let mut stmt = self.conn.prepare(
            "SELECT line, column_name, code, severity, message FROM problems WHERE run_id = ?1 ORDER BY line, rowid",
        )?;
        let rows = stmt.query_map([run], |r| {
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

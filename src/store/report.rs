//! What the report and `status` read beyond the runs: joiners from the audit log, what
//! resolved a block, the applied counts per day, invitations by state and the directory's size.

use super::Store;
use crate::core::plan::Counts;
use crate::core::record::Entry;
use crate::core::report::{Person, Rejected, RejectedOnce, Run, Streak};
use crate::core::signal::{Fact, GroupsLeftOut};
use rusqlite::OptionalExtension;
use std::collections::BTreeMap;

/// The users a run created, from their `created` rows, in the order created: in blocks
/// ([`super::created`], migration 15 and 17), or in the audit log in a store older than 15 (a
/// run has one or the other).
const JOINERS_LOGGED: &str =
    "SELECT unique_id, json_extract(new, '$.name'), json_extract(new, '$.mail')
       FROM audit WHERE run_id = ?1 AND field = 'created' ORDER BY id";

/// How many users a run created in the audit log (a store older than migration 15).
const JOINERS_LOGGED_COUNT: &str =
    "SELECT COUNT(*) FROM audit WHERE run_id = ?1 AND field = 'created'";

fn joiner(c: super::created::CreatedRow) -> Person {
    Person {
        unique_id: c.unique_id,
        name: Some(c.name),
        mail: Some(c.mail),
    }
}

fn person(r: &rusqlite::Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        unique_id: r.get(0)?,
        name: r.get(1)?,
        mail: r.get(2)?,
    })
}

impl Store {
    /// The first `limit` users a run created, from their `created` rows, in the order
    /// created, and how many it created in all (counted in SQL, not read, past the limit).
    pub fn run_joiners(&self, run: i64, limit: usize) -> anyhow::Result<(Vec<Person>, u64)> {
        let mut first = Vec::new();
        super::created::each_of_run(&self.conn, run, |c| {
            if first.len() < limit {
                first.push(joiner(c));
            }
            Ok(first.len() < limit)
        })?;
        let left = limit - first.len();
        let mut stmt = self.conn.prepare(&format!("{JOINERS_LOGGED} LIMIT ?2"))?;
        let mut rows = stmt.query(rusqlite::params![run, left as i64])?;
        while let Some(r) = rows.next()? {
            first.push(person(r)?);
        }
        let total = if first.len() < limit {
            first.len() as u64
        } else {
            let logged: i64 = self
                .conn
                .query_row(JOINERS_LOGGED_COUNT, [run], |r| r.get(0))?;
            (super::created::count_of_run(&self.conn, run)? + logged) as u64
        };
        Ok((first, total))
    }

    /// Every user a run created, in the order created, one at a time (for a JSON report).
    pub fn each_joiner(
        &self,
        run: i64,
        mut each: impl FnMut(&Person) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        super::created::each_of_run(&self.conn, run, |c| {
            each(&joiner(c))?;
            Ok(true)
        })?;
        let mut stmt = self.conn.prepare(JOINERS_LOGGED)?;
        let mut rows = stmt.query([run])?;
        while let Some(r) = rows.next()? {
            each(&person(r)?)?;
        }
        Ok(())
    }

    /// The later run that applied the batch a blocked run held, if any.
    pub fn resolved_by(&self, run: i64, batch: Option<i64>) -> anyhow::Result<Option<i64>> {
        let Some(batch) = batch else {
            return Ok(None);
        };
        Ok(self
            .conn
            .query_row(
                "SELECT MIN(id) FROM runs WHERE batch_id = ?1 AND id > ?2 AND status = 'applied'",
                [batch, run],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// The counts of every applied run finished at or after `since` (RFC 3339), with the UTC
    /// date it finished.
    pub fn applied_counts_since(
        &self,
        since: &str,
    ) -> anyhow::Result<Vec<(chrono::NaiveDate, Counts)>> {
        let mut stmt = self.conn.prepare(
            "SELECT COALESCE(finished_at, started_at), counts FROM runs
              WHERE status = 'applied' AND COALESCE(finished_at, started_at) >= ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([since], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (at, counts) = row?;
            let (Ok(at), Some(Ok(counts))) = (
                chrono::DateTime::parse_from_rfc3339(&at),
                counts.map(|c| serde_json::from_str::<Counts>(&c)),
            ) else {
                continue;
            };
            out.push((at.with_timezone(&chrono::Utc).date_naive(), counts));
        }
        Ok(out)
    }

    /// The day (UTC) of the store's first run, a manual edit included: the directory's first
    /// day. None before any run.
    pub fn first_run_day(&self) -> anyhow::Result<Option<chrono::NaiveDate>> {
        let at: Option<String> = self
            .conn
            .query_row("SELECT started_at FROM runs ORDER BY id LIMIT 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(at
            .and_then(|a| chrono::DateTime::parse_from_rfc3339(&a).ok())
            .map(|t| t.with_timezone(&chrono::Utc).date_naive()))
    }

    /// Invitations that the mail server refused (and that were not sent again since).
    pub fn failed_invitations(&self) -> anyhow::Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM outbox o WHERE kind = 'invitation' AND status = 'failed'
               AND NOT EXISTS (SELECT 1 FROM outbox n WHERE n.kind = 'invitation'
                                  AND n.user_pk = o.user_pk AND n.id > o.id)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Users per status (`active`, `deactivated`).
    pub fn users_by_status(&self) -> anyhow::Result<(u64, u64)> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(active = 1), 0), COALESCE(SUM(active = 0), 0) FROM users",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    }

    /// The newest run of one of `commands` whose status is one of `statuses`.
    pub fn last_run_of(&self, commands: &[&str], statuses: &[&str]) -> anyhow::Result<Option<Run>> {
        // The lists are the callers' constants; quotes are dropped all the same.
        let list = |words: &[&str]| {
            words
                .iter()
                .map(|s| format!("'{}'", s.replace('\'', "")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let id: Option<i64> = self.conn.query_row(
            &format!(
                "SELECT MAX(id) FROM runs WHERE command IN ({}) AND status IN ({})",
                list(commands),
                list(statuses)
            ),
            [],
            |r| r.get(0),
        )?;
        match id {
            Some(id) => self.run(id),
            None => Ok(None),
        }
    }

    /// For each run status, when the newest run of it finished (RFC 3339): the runs `status`
    /// speaks of, not manual edits (each of them is `applied`).
    pub fn last_run_times(&self) -> anyhow::Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT status, MAX(COALESCE(finished_at, started_at)) FROM runs
              WHERE command NOT LIKE 'users %' AND command NOT LIKE 'groups %'
              GROUP BY status ORDER BY status",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The key a rejected record is known by across runs: its UniqueID, else its line.
const REJECTED_KEY: &str = "COALESCE(i.unique_id, 'line ' || p.line, 'file')";

/// The rejected records of a run (its error problems, in the order recorded: the file's) with
/// the UniqueID and name the run recorded for each line. Read through the index of problems by
/// run, in its order: no sort of 200,000 rows in memory.
/// The errors of a run's records (`p`), each beside what the run kept of its record (`i`:
/// UniqueID, name). File errors are left out: a file that one rejects (a missing column)
/// rejected no record, and its report says why in the run's message. The codes are those of
/// `Code::is_file_error` (a test holds them to it).
const RECORD_ERRORS: &str = "problems p LEFT JOIN run_records i
        ON i.run_id = p.run_id AND i.list = 'invalid' AND i.line = p.line
     WHERE p.run_id = ?1 AND p.severity = 'error'
       AND p.code NOT IN ('not-csv', 'empty-file', 'missing-column', 'duplicate-column', 'too-large')";

/// A run's rejected records, each error a row, in the file's order ([`rejected_row`]).
fn rejected_sql() -> String {
    format!(
        "SELECT p.line, i.unique_id, i.name, p.column_name, p.code, p.message
           FROM {RECORD_ERRORS} ORDER BY p.rowid"
    )
}

fn rejected_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Rejected> {
    Ok(Rejected {
        line: r.get(0)?,
        unique_id: r.get(1)?,
        name: r.get(2)?,
        column: r.get(3)?,
        code: r.get(4)?,
        message: r.get(5)?,
    })
}

impl Store {
    /// A report's sorts and temporary tables go to a file rather than memory (the store keeps
    /// them in memory for the apply's speed), so that it holds what it shows (SPEC §5).
    pub fn report_spills_to_disk(&self) -> anyhow::Result<()> {
        self.conn.execute_batch("PRAGMA temp_store = FILE")?;
        Ok(())
    }

    /// The first `limit` rejected records of a run, in line order, and how many per code.
    pub fn run_rejected(
        &self,
        run: i64,
        limit: usize,
    ) -> anyhow::Result<(Vec<Rejected>, BTreeMap<String, u64>)> {
        let mut stmt = self.conn.prepare(&format!("{} LIMIT ?2", rejected_sql()))?;
        let rows = stmt.query_map(rusqlite::params![run, limit as i64], rejected_row)?;
        let first = rows.collect::<Result<Vec<_>, _>>()?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT p.code, COUNT(*) FROM {RECORD_ERRORS} GROUP BY p.code"
        ))?;
        let codes = stmt
            .query_map([run], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
            .collect::<Result<_, _>>()?;
        Ok((first, codes))
    }

    /// How many records a run rejected, each once whatever its errors (by UniqueID, else
    /// line), counted by SQLite.
    pub fn run_rejected_records(&self, run: i64) -> anyhow::Result<u64> {
        let n: i64 = self.conn.query_row(
            &format!("SELECT COUNT(DISTINCT {REJECTED_KEY}) FROM {RECORD_ERRORS}"),
            [run],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Every rejected record of a run, in line order, one at a time (for a JSON report).
    pub fn each_rejected(
        &self,
        run: i64,
        mut each: impl FnMut(&Rejected) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut stmt = self.conn.prepare(&rejected_sql())?;
        let mut rows = stmt.query([run])?;
        while let Some(r) = rows.next()? {
            each(&rejected_row(r)?)?;
        }
        Ok(())
    }

    /// The first `limit` users a blocked or applied run removes (or would), and how many in
    /// all, without reading the whole list.
    pub fn run_removed(&self, run: i64, limit: usize) -> anyhow::Result<(Vec<Person>, u64)> {
        let mut stmt = self.conn.prepare(
            "SELECT unique_id, name, mail FROM run_records
              WHERE run_id = ?1 AND list = 'removals' ORDER BY seq LIMIT ?2",
        )?;
        let first = stmt
            .query_map(rusqlite::params![run, limit as i64], person)?
            .collect::<Result<Vec<_>, _>>()?;
        let total: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM run_records WHERE run_id = ?1 AND list = 'removals'",
            [run],
            |r| r.get(0),
        )?;
        Ok((first, total as u64))
    }

    /// The newest run's id (0 without runs): what a push about to start will carry.
    pub fn newest_run_id(&self) -> anyhow::Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM runs", [], |r| r.get(0))?)
    }

    /// A push went through carrying every run up to `run` (see [`Store::newest_run_id`]).
    pub fn note_pushed_through(&self, run: i64) -> anyhow::Result<()> {
        self.set_meta("push_through_run", &run.to_string())
    }

    /// Since when changes wait to be pushed: when the first run that changed the directory
    /// after the last push that went through finished (RFC 3339), if any did. Runs are told
    /// apart from the push by number (noted as the push went through), else by time.
    pub fn push_pending_since(&self) -> anyhow::Result<Option<String>> {
        if let Some(run) = self
            .meta("push_through_run")?
            .and_then(|r| r.parse::<i64>().ok())
        {
            return Ok(self.conn.query_row(
                "SELECT MIN(COALESCE(finished_at, started_at)) FROM runs
                  WHERE status = 'applied' AND id > ?1",
                [run],
                |r| r.get(0),
            )?);
        }
        Ok(self.conn.query_row(
            "SELECT MIN(COALESCE(finished_at, started_at)) FROM runs WHERE status = 'applied'
               AND COALESCE(finished_at, started_at) > COALESCE(
                   (SELECT MAX(COALESCE(finished_at, started_at)) FROM scim_pushes
                     WHERE status IN ('pushed', 'partial')), '')",
            [],
            |r| r.get(0),
        )?)
    }

    /// What decides whether each run is still open, every run but manual edits, in order,
    /// with the stage a failed run stopped at. A blocked revert names the run it would undo in
    /// its detail only (the column is written by a revert that is applied).
    pub fn run_facts(&self) -> anyhow::Result<Vec<(Fact, Option<String>)>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, command, batch_id, status,
                    COALESCE(reverts, CASE WHEN json_valid(detail) THEN json_extract(detail, '$.reverts') END),
                    CASE WHEN json_valid(detail) THEN json_extract(detail, '$.stage') END
               FROM runs WHERE command NOT LIKE 'users %' AND command NOT LIKE 'groups %' ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                Fact {
                    id: r.get(0)?,
                    command: r.get(1)?,
                    batch: r.get(2)?,
                    status: r.get(3)?,
                    reverts: r.get(4)?,
                },
                r.get(5)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The runs that read a file's records (`sync`, `apply`: applied, blocked, or rejected
    /// with a record's error), in order. A file rejected whole (a missing column) read no
    /// record: it neither breaks a record's rejections in a row nor makes them new.
    fn file_runs(&self, upto: i64) -> anyhow::Result<Vec<(i64, String)>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT id, started_at FROM runs r WHERE command IN ('sync', 'apply') AND id <= ?1
               AND (status IN ('applied', 'blocked')
                    OR status = 'rejected' AND EXISTS (SELECT 1 FROM {}))
             ORDER BY id",
            RECORD_ERRORS.replace("?1", "r.id")
        ))?;
        let rows = stmt.query_map([upto], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The Group IDs the newest run that planned a file (applied or blocked) named and that
    /// still do not exist, with their record counts, and that run when it was applied. Read
    /// one at a time from the run's detail: a file may name 200,000 (SPEC §5).
    pub fn open_unknown_groups(&self) -> anyhow::Result<(Option<i64>, BTreeMap<String, u64>)> {
        let newest: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT id, status FROM runs WHERE command IN ('sync', 'apply')
                    AND status IN ('applied', 'blocked') ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((run, status)) = newest else {
            return Ok((None, BTreeMap::new()));
        };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT g.key, g.value FROM {UNKNOWN_GROUPS}
                AND NOT EXISTS (SELECT 1 FROM groups WHERE group_id = g.key)"
        ))?;
        let open = stmt
            .query_map([run], group_count)?
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let run = (status == "applied" && !open.is_empty()).then_some(run);
        Ok((run, open))
    }

    /// The Group IDs the newest run that planned a file ignored as unknown and that exist
    /// now, with their record counts: memberships that wait for the next sync, while that run
    /// was applied and its batch still is (SPEC §2: the file is then not "unchanged").
    pub fn waiting_memberships(&self) -> anyhow::Result<BTreeMap<String, u64>> {
        let newest: Option<i64> = self
            .conn
            .query_row(
                "SELECT r.id FROM runs r JOIN batches b ON b.id = r.batch_id
                  WHERE r.id = (SELECT MAX(id) FROM runs WHERE command IN ('sync', 'apply')
                                   AND status IN ('applied', 'blocked'))
                    AND r.status = 'applied' AND b.status = 'applied'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match newest {
            Some(run) => self.groups_known_now(run, usize::MAX),
            None => Ok(BTreeMap::new()),
        }
    }

    /// The Group IDs that the newest applied `sync` or `apply` of `batch` ignored as unknown
    /// and that exist now (at most `limit`, named by the most records first): its file is
    /// planned again (SPEC §2).
    pub fn batch_groups_known_now(
        &self,
        batch: i64,
        limit: usize,
    ) -> anyhow::Result<BTreeMap<String, u64>> {
        let run: Option<i64> = self.conn.query_row(
            "SELECT MAX(id) FROM runs WHERE batch_id = ?1 AND command IN ('sync', 'apply')
                AND status = 'applied'",
            [batch],
            |r| r.get(0),
        )?;
        match run {
            Some(run) => self.groups_known_now(run, limit),
            None => Ok(BTreeMap::new()),
        }
    }

    /// The unknown Group IDs of a run that exist now, named by the most records first.
    fn groups_known_now(&self, run: i64, limit: usize) -> anyhow::Result<BTreeMap<String, u64>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT g.key, g.value FROM {UNKNOWN_GROUPS}
                AND EXISTS (SELECT 1 FROM groups WHERE group_id = g.key)
              ORDER BY g.value DESC, g.key LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let known = stmt
            .query_map(rusqlite::params![run, limit], group_count)?
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        Ok(known)
    }

    /// The unknown Group IDs a run's plan named: the `limit` named by the most records (then
    /// by ID), and how many IDs are left out, with the records that name them.
    pub fn run_unknown_groups(
        &self,
        run: i64,
        limit: usize,
    ) -> anyhow::Result<(BTreeMap<String, u64>, GroupsLeftOut)> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT g.key, g.value FROM {UNKNOWN_GROUPS} ORDER BY g.value DESC, g.key LIMIT ?2"
        ))?;
        let first = stmt
            .query_map(rusqlite::params![run, limit as i64], group_count)?
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let (total, records): (i64, i64) = self.conn.query_row(
            &format!("SELECT COUNT(*), COALESCE(SUM(MAX(g.value, 0)), 0) FROM {UNKNOWN_GROUPS}"),
            [run],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let left_out = GroupsLeftOut {
            groups: (total as u64).saturating_sub(first.len() as u64),
            records: (records as u64).saturating_sub(first.values().sum()),
        };
        Ok((first, left_out))
    }

    /// Records the newest run that read a file rejected that the file before it did not, when
    /// that run was applied. The file before it is that of the last run that read another
    /// batch: a held file approved is compared with the file before it, not with its own
    /// blocked run.
    pub fn new_rejections(&self) -> anyhow::Result<Option<(i64, u64)>> {
        let runs = self.file_runs(i64::MAX)?;
        let Some((newest, _)) = runs.last() else {
            return Ok(None);
        };
        let Some(run) = self.run(*newest)?.filter(|r| r.status == "applied") else {
            return Ok(None);
        };
        let mut before = None;
        for (id, _) in runs.iter().rev().skip(1) {
            if self.run(*id)?.is_some_and(|r| r.batch != run.batch) {
                before = Some(*id);
                break;
            }
        }
        let keys = format!("SELECT {REJECTED_KEY} FROM {RECORD_ERRORS}");
        let n: i64 = self.conn.query_row(
            &format!(
                "SELECT COUNT(*) FROM ({keys} EXCEPT {})",
                keys.replace("?1", "?2")
            ),
            rusqlite::params![newest, before.unwrap_or(-1)],
            |r| r.get(0),
        )?;
        Ok((n > 0).then_some((*newest, n as u64)))
    }

    /// The rejected records of the runs `period` (ids, in order) that read a file, each once,
    /// with since when it has been rejected, looking back at most `lookback` files before.
    pub fn rejected_once(&self, period: &[i64], lookback: usize) -> anyhow::Result<RejectedOnce> {
        let Some(&last) = period.last() else {
            return Ok(RejectedOnce::default());
        };
        let all = self.file_runs(last)?;
        let Some(first) = all.iter().position(|(id, _)| period.contains(id)) else {
            return Ok(RejectedOnce::default());
        };
        let start = first.saturating_sub(lookback);
        let chain = &all[start..];
        let first_seq = (first - start) as i64;
        let last_seq = (chain.len() - 1) as i64;
        self.conn.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS report_rejected (seq INTEGER NOT NULL, key TEXT NOT NULL,
                 code TEXT, PRIMARY KEY (key, seq)) WITHOUT ROWID;
             DELETE FROM temp.report_rejected;",
        )?;
        for (seq, (run, _)) in chain.iter().enumerate() {
            self.conn.execute(
                &format!(
                    "INSERT OR IGNORE INTO temp.report_rejected
                     SELECT ?2, {REJECTED_KEY}, p.code FROM {RECORD_ERRORS}"
                ),
                rusqlite::params![run, seq as i64],
            )?;
        }
        streaks(&self.conn, chain, first_seq, last_seq)
    }
}

/// The unknown Group IDs of run `?1` (rows of `run_unknown_groups`), one row each, `g.key`
/// and `g.value`: read a row at a time, nothing is built of them all at once.
const UNKNOWN_GROUPS: &str = "(SELECT group_id AS key, records AS value
                                FROM run_unknown_groups WHERE run_id = ?1) AS g
     WHERE 1";

/// A row of [`UNKNOWN_GROUPS`]: a Group ID and the records naming it.
fn group_count(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, u64)> {
    Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64))
}

/// The lists of a run's detail kept as rows of their own ([`insert_records`]).
const RECORD_LISTS: [&str; 2] = ["invalid", "removals"];

/// A run's detail as the store keeps it: its members but the per-record lists (rows of their
/// own, [`insert_records`]), written without a copy of the detail's JSON tree; and whether it
/// had any such list. (A plan's unknown Group IDs are rows of their own too:
/// [`insert_unknown_groups`].)
pub(crate) fn detail_text(
    detail: Option<&serde_json::Value>,
) -> anyhow::Result<(Option<String>, bool)> {
    let members = match detail {
        Some(serde_json::Value::Object(map)) => map,
        Some(other) => return Ok((Some(serde_json::to_string(other)?), false)),
        None => return Ok((None, false)),
    };
    let records = RECORD_LISTS.iter().any(|k| members.contains_key(*k));
    Ok((Some(serde_json::to_string(&Kept(members))?), records))
}

/// What [`detail_text`] writes: the detail's members but its per-record lists.
struct Kept<'a>(&'a serde_json::Map<String, serde_json::Value>);

impl serde::Serialize for Kept<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut out = s.serialize_map(None)?;
        for (k, v) in self.0 {
            if !RECORD_LISTS.contains(&k.as_str()) {
                out.serialize_entry(k, v)?;
            }
        }
        out.end()
    }
}

/// Write a plan's unknown Group IDs, with the records naming each, as rows of
/// `run_unknown_groups`: straight from the plan's map, so that a file naming 200,000 of them
/// costs no text of them all (SPEC §5).
pub(crate) fn insert_unknown_groups(
    conn: &rusqlite::Connection,
    run: i64,
    groups: Option<&BTreeMap<String, u64>>,
) -> rusqlite::Result<()> {
    let Some(groups) = groups.filter(|g| !g.is_empty()) else {
        return Ok(());
    };
    let mut stmt = conn.prepare_cached(
        "INSERT INTO run_unknown_groups (run_id, group_id, records) VALUES (?1, ?2, ?3)",
    )?;
    for (group, records) in groups {
        let records = i64::try_from(*records).unwrap_or(i64::MAX);
        stmt.execute(rusqlite::params![run, group, records])?;
    }
    Ok(())
}

/// Write the per-record lists of a run's detail (`invalid`: line, UniqueID, name; `removals`:
/// UniqueID, name, mail) as rows of `run_records`.
pub(crate) fn insert_records(
    conn: &rusqlite::Connection,
    run: i64,
    detail: Option<&serde_json::Value>,
    any: &bool,
) -> anyhow::Result<()> {
    let Some(detail) = detail.filter(|_| *any) else {
        return Ok(());
    };
    let mut stmt = conn.prepare_cached(
        "INSERT INTO run_records (run_id, list, seq, line, unique_id, name, mail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for list in RECORD_LISTS {
        let items = detail.get(list).and_then(|l| l.as_array());
        for (seq, x) in items.into_iter().flatten().enumerate() {
            let text = |k: &str| x.get(k).and_then(|v| v.as_str());
            stmt.execute(rusqlite::params![
                run,
                list,
                seq as i64,
                x.get("line").and_then(|l| l.as_i64()),
                text("unique_id"),
                text("name"),
                text("mail"),
            ])?;
        }
    }
    Ok(())
}

/// Write the invalid records of a plan's changes (line, UniqueID, name) as the run's
/// `invalid` rows of `run_records`, in the plan's order, one at a time; a record's name is
/// read from its entry in the file the plan was made of.
pub(crate) fn insert_invalid(
    conn: &rusqlite::Connection,
    run: i64,
    (plan, entries): (&crate::core::plan::Plan, &[Entry]),
) -> anyhow::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO run_records (run_id, list, seq, line, unique_id, name, mail)
         VALUES (?1, 'invalid', ?2, ?3, ?4, ?5, NULL)",
    )?;
    for (seq, c) in plan.invalid_changes(entries).enumerate() {
        stmt.execute(rusqlite::params![
            run,
            seq as i64,
            c.line().map(|l| l as i64),
            c.unique_id.as_deref(),
            c.entry().and_then(|i| entries.get(i)).and_then(entry_name),
        ])?;
    }
    Ok(())
}

/// The Name cell of a record as the file has it.
fn entry_name(entry: &Entry) -> Option<&str> {
    match entry {
        Entry::Valid(r) => Some(r.name()),
        Entry::Invalid(r) => r.name(),
    }
}

/// Each record's current run of consecutive rejections, summed up (see [`RejectedOnce`]).
/// Records rejected in the period (from `first_seq` on) count once; those the newest file
/// (`last_seq`) rejected for the first time are listed apart from the old ones, which are
/// counted by since when.
fn streaks(
    conn: &rusqlite::Connection,
    chain: &[(i64, String)],
    first_seq: i64,
    last_seq: i64,
) -> anyhow::Result<RejectedOnce> {
    const CURRENT: &str = "WITH k AS (SELECT key, seq, code,
                                 seq - ROW_NUMBER() OVER (PARTITION BY key ORDER BY seq) AS grp
                            FROM temp.report_rejected),
             s AS (SELECT key, MIN(seq) AS since, MAX(seq) AS last, COUNT(*) AS n, MAX(code) AS code
                     FROM k GROUP BY key, grp),
             c AS (SELECT key, since, last, n, code,
                          ROW_NUMBER() OVER (PARTITION BY key ORDER BY last DESC) AS rn FROM s)
        SELECT key, since, n, code FROM c WHERE rn = 1 AND last >= ?1";
    let mut out = RejectedOnce::default();
    let mut stmt = conn.prepare(&format!(
        "SELECT since, n, COUNT(*) FROM ({CURRENT}) WHERE since < ?2 GROUP BY since, n ORDER BY since"
    ))?;
    let old = stmt.query_map([first_seq, last_seq], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in old {
        let (since, runs, records) = row?;
        let Some((since_run, at)) = chain.get(since as usize) else {
            continue;
        };
        out.old.push(Streak {
            since_run: *since_run,
            since: at.get(..10).unwrap_or(at).to_string(),
            runs: runs as u64,
            records: records as u64,
        });
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT code, COUNT(*), SUM(since >= ?2) FROM ({CURRENT}) GROUP BY code"
    ))?;
    let codes = stmt.query_map([first_seq, last_seq], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in codes {
        let (code, n, new) = row?;
        out.codes.insert(code, n as u64);
        out.records += n as u64;
        out.first_time += new as u64;
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT key FROM ({CURRENT}) WHERE since >= ?2 ORDER BY key LIMIT 100"
    ))?;
    out.first_time_keys = stmt
        .query_map([first_seq, last_seq], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::report::ATTACH_ROWS;
    use crate::pipeline;

    /// What a run's detail is kept as: without its per-record lists (rows of their own), and
    /// whether it had such a list.
    #[test]
    fn detail_text_keeps_members_but_the_record_lists() {
        let with_lists = serde_json::json!({"tripped": [], "removals": [{"unique_id": "E1"}],
            "fields": {"title": 3}, "invalid": []});
        let cases: [(Option<serde_json::Value>, Option<&str>, bool); 4] = [
            (None, None, false),
            (
                Some(serde_json::json!({"stage": "apply"})),
                Some(r#"{"stage":"apply"}"#),
                false,
            ),
            (
                Some(with_lists),
                Some(r#"{"tripped":[],"fields":{"title":3}}"#),
                true,
            ),
            (Some(serde_json::json!([1])), Some("[1]"), false),
        ];
        for (detail, want, lists) in cases {
            let (text, had) = detail_text(detail.as_ref()).unwrap();
            assert_eq!((text.as_deref(), had), (want, lists), "{detail:?}");
        }
    }

    /// The file errors [`RECORD_ERRORS`] leaves out are exactly the codes that reject a file.
    #[test]
    fn record_errors_leave_out_every_file_error_and_only_those() {
        let listed = RECORD_ERRORS.split("NOT IN (").nth(1).unwrap_or_default();
        for code in crate::core::problem::ALL_CODES {
            let named = listed.contains(&format!("'{}'", code.as_str()));
            assert_eq!(named, code.is_file_error(), "{}", code.as_str());
        }
    }

    /// A store of schema 17 keeps the unknown Group IDs its runs' details held through
    /// migration 18: as rows, read as before (most named first), and out of the details.
    #[test]
    fn migration_18_moves_unknown_groups_into_rows() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("old.db");
        let conn = rusqlite::Connection::open(&path)?;
        for sql in &crate::store::schema::MIGRATIONS[..17] {
            conn.execute_batch(sql)?;
        }
        conn.execute_batch(
            r#"INSERT INTO runs (id, command, started_at, finished_at, status, detail) VALUES
                 (1, 'sync', 't1', 't1', 'applied',
                  '{"stage":"apply","unknown_groups":{"A":1,"B":3,"C":2}}'),
                 (2, 'sync', 't2', 't2', 'applied', '{"stage":"apply"}'),
                 (3, 'sync', 't3', 't3', 'failed', 'not json');"#,
        )?;
        conn.pragma_update(None, "user_version", 17)?;
        drop(conn);
        let store = Store::open(&path)?;
        let (first, left_out) = store.run_unknown_groups(1, 2)?;
        let first: Vec<_> = first.into_iter().collect();
        assert_eq!(first, [("B".to_string(), 3), ("C".to_string(), 2)]);
        assert_eq!((left_out.groups, left_out.records), (1, 1));
        assert!(store.run_unknown_groups(2, 10)?.0.is_empty());
        let details: Vec<Option<String>> = store
            .conn
            .prepare("SELECT detail FROM runs ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let want = [r#"{"stage":"apply"}"#, r#"{"stage":"apply"}"#, "not json"];
        assert_eq!(details, want.map(|d| Some(d.to_string())));
        Ok(())
    }

    /// The report of a first import reads at most [`ATTACH_ROWS`] of its joiners and counts
    /// the rest in SQL, so that a million joiners cost neither a million rows in memory nor
    /// their strings; `each_joiner` still gives every one, in order, for the JSON.
    #[test]
    fn a_report_reads_its_joiners_capped_and_counts_the_rest() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let mut store = Store::open(&dir.path().join("roster.db"))?;
        let config = crate::config::Config::default();
        let n = ATTACH_ROWS + 150;
        let mut text = String::from("UniqueID,Name,Mail\n");
        for i in 0..n {
            text.push_str(&format!("E{i:06},Person {i},p{i}@example.org\n"));
        }
        let outcome = pipeline::apply_text(&mut store, &config, &text)?;
        let run = outcome.run.expect("a run");
        let report = pipeline::build_report(&store, &config, Some(run), None)?;
        let r = &report.runs[0];
        assert_eq!(r.joined.len(), ATTACH_ROWS);
        assert_eq!(r.joined_total, n as u64);
        assert_eq!(r.joined[0].unique_id.as_deref(), Some("E000000"));
        // The lists and the attachment say the whole count but hold the first rows only.
        let lists = report.lists(r);
        assert_eq!(lists[0].total, n);
        assert_eq!(
            report.attachments(b',')[0].1.lines().count(),
            ATTACH_ROWS + 1
        );
        assert!(report.text().contains(&format!(
            "Joined ({}):",
            crate::core::number::thousands(n as u64)
        )));
        let mut every = Vec::new();
        store.each_joiner(run, |p| {
            every.push(p.unique_id.clone().unwrap_or_default());
            Ok(())
        })?;
        assert_eq!(every.len(), n);
        assert_eq!(every[n - 1], format!("E{:06}", n - 1));
        Ok(())
    }
}

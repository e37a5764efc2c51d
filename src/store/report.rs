//! What the report and `status` read beyond the runs: joiners from the audit log, what
//! resolved a block, the applied counts per day, invitations by state and the directory's size.

use super::Store;
use crate::core::plan::Counts;
use crate::core::report::{Person, Run};
use rusqlite::OptionalExtension;

impl Store {
    /// The users a run created, from their `created` audit rows, in the order created.
    pub fn run_joiners(&self, run: i64) -> anyhow::Result<Vec<Person>> {
        let mut stmt = self.conn.prepare(
            "SELECT unique_id, json_extract(new, '$.name'), json_extract(new, '$.mail')
               FROM audit WHERE run_id = ?1 AND field = 'created' ORDER BY id",
        )?;
        let rows = stmt.query_map([run], |r| {
            Ok(Person {
                unique_id: r.get(0)?,
                name: r.get(1)?,
                mail: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
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

    /// The newest run whose status is one of `statuses`.
    pub fn last_run_with(&self, statuses: &[&str]) -> anyhow::Result<Option<Run>> {
        let list = statuses
            .iter()
            .map(|s| format!("'{}'", s.replace('\'', "")))
            .collect::<Vec<_>>()
            .join(", ");
        let id: Option<i64> = self.conn.query_row(
            &format!("SELECT MAX(id) FROM runs WHERE status IN ({list})"),
            [],
            |r| r.get(0),
        )?;
        match id {
            Some(id) => self.run(id),
            None => Ok(None),
        }
    }

    /// For each run status, when the newest run of it finished (RFC 3339).
    pub fn last_run_times(&self) -> anyhow::Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT status, MAX(COALESCE(finished_at, started_at)) FROM runs GROUP BY status ORDER BY status",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

//! What the report and `status` read beyond the runs: joiners from the audit log, what
//! resolved a block, the applied counts per day, invitations by state and the directory's size.

use super::Store;
use crate::core::plan::Counts;
use crate::core::report::{Person, Run};
use rusqlite::OptionalExtension;

/// The users a run created, from their `created` audit rows, in the order created.
const JOINERS: &str = "SELECT unique_id, json_extract(new, '$.name'), json_extract(new, '$.mail')
                         FROM audit WHERE run_id = ?1 AND field = 'created' ORDER BY id";

fn person(r: &rusqlite::Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        unique_id: r.get(0)?,
        name: r.get(1)?,
        mail: r.get(2)?,
    })
}

impl Store {
    /// The first `limit` users a run created, from their `created` audit rows, in the order
    /// created, and how many it created in all (counted in SQL, not read, past the limit).
    pub fn run_joiners(&self, run: i64, limit: usize) -> anyhow::Result<(Vec<Person>, u64)> {
        let mut first = Vec::new();
        let mut stmt = self.conn.prepare(&format!("{JOINERS} LIMIT ?2"))?;
        let mut rows = stmt.query(rusqlite::params![run, limit as i64])?;
        while let Some(r) = rows.next()? {
            first.push(person(r)?);
        }
        let total = if first.len() < limit {
            first.len() as u64
        } else {
            self.conn.query_row(
                "SELECT COUNT(*) FROM audit WHERE run_id = ?1 AND field = 'created'",
                [run],
                |r| r.get::<_, i64>(0),
            )? as u64
        };
        Ok((first, total))
    }

    /// Every user a run created, in the order created, one at a time (for a JSON report).
    pub fn each_joiner(
        &self,
        run: i64,
        mut each: impl FnMut(&Person) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut stmt = self.conn.prepare(JOINERS)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::report::ATTACH_ROWS;
    use crate::pipeline;

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
            crate::core::report::thousands(n as u64)
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

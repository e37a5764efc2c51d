//! Batches: every fetched file, its bytes and SHA-256, kept for `store.keep_batches` days.

use super::{now, Store};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Serialize)]
pub struct Batch {
    pub id: i64,
    pub fetched_at: String,
    pub source: String,
    pub size: i64,
    pub sha256: String,
    pub records: Option<i64>,
    pub status: String,
    /// False once the content has been pruned.
    pub has_content: bool,
    pub remote_mtime: Option<i64>,
    /// For a `reverted` batch: the run that reverted it (SPEC §2).
    pub reverted_by_run: Option<i64>,
}

/// What storing a fetched file did.
#[derive(Debug, Clone)]
pub enum Stored {
    New(Batch),
    /// The newest batch has the same SHA-256; nothing was stored.
    Unchanged(Batch),
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

const COLUMNS: &str = "id, fetched_at, source, size, sha256, records, status,
     EXISTS (SELECT 1 FROM batch_contents c WHERE c.batch_id = batches.id), remote_mtime,
     CASE WHEN status = 'reverted' THEN reverted_by END";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Batch> {
    Ok(Batch {
        id: r.get(0)?,
        fetched_at: r.get(1)?,
        source: r.get(2)?,
        size: r.get(3)?,
        sha256: r.get(4)?,
        records: r.get(5)?,
        status: r.get(6)?,
        has_content: r.get(7)?,
        remote_mtime: r.get(8)?,
        reverted_by_run: r.get(9)?,
    })
}

impl Store {
    /// Store a file as a new batch unless the newest batch has the same SHA-256.
    /// Its number of records is set apart ([`Store::set_batch_records`]), as it may be counted
    /// while the bytes are stored.
    /// `sha256` is the bytes' hash ([`sha256_hex`]), which the caller has at hand.
    pub fn store_batch(
        &self,
        bytes: &[u8],
        sha256: &str,
        source: &str,
        mtime: Option<i64>,
    ) -> anyhow::Result<Stored> {
        if let Some(newest) = self.newest_batch()? {
            if newest.sha256 == sha256 {
                return Ok(Stored::Unchanged(newest));
            }
        }
        // The file's pages are new pages at the end of the store (unless a pruned batch freed
        // some): a rollback journal keeps no copy of those, so they are written once, into the
        // store. Through the WAL they are written to the log, read back and written to the
        // store by the checkpoint. Switching
        // needs the store to itself: when another process has it open, the file goes through
        // the WAL as any other write.
        let journal = self
            .conn
            .query_row("PRAGMA journal_mode = DELETE", [], |r| {
                r.get::<_, String>(0)
            })
            .is_ok_and(|mode| mode.eq_ignore_ascii_case("delete"));
        let stored = self.insert_batch(bytes, sha256, source, mtime);
        if journal {
            // Back to the WAL; should another process hold the store open just now, the next
            // open of the store switches it.
            self.conn
                .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
                .ok();
        }
        let id = stored?;
        let batch = self
            .batch(id)?
            .ok_or_else(|| anyhow::anyhow!("batch {id} vanished"))?;
        Ok(Stored::New(batch))
    }

    /// Insert a batch and its bytes in one transaction; returns its id.
    fn insert_batch(
        &self,
        bytes: &[u8],
        sha256: &str,
        source: &str,
        mtime: Option<i64>,
    ) -> anyhow::Result<i64> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO batches (fetched_at, source, size, sha256, status, remote_mtime)
             VALUES (?1, ?2, ?3, ?4, 'fetched', ?5)",
            params![now(), source, bytes.len() as i64, sha256, mtime],
        )?;
        let id = tx.last_insert_rowid();
        // The bytes go straight into the blob's pages: bound as a parameter, SQLite would copy
        // the whole file twice on the way (the bound value, then the record).
        tx.execute(
            "INSERT INTO batch_contents (batch_id, content) VALUES (?1, zeroblob(?2))",
            params![id, bytes.len() as i64],
        )?;
        tx.blob_open(
            rusqlite::DatabaseName::Main,
            "batch_contents",
            "content",
            id,
            false,
        )?
        .write_at(bytes, 0)?;
        crate::stage::crash_point("store-commit");
        tx.commit()?;
        Ok(id)
    }

    /// Record how many data records a batch has (`None`: it cannot be read).
    pub fn set_batch_records(
        &self,
        mut batch: Batch,
        records: Option<usize>,
    ) -> anyhow::Result<Batch> {
        let records = records.map(|r| r as i64);
        self.conn.execute(
            "UPDATE batches SET records = ?2 WHERE id = ?1",
            params![batch.id, records],
        )?;
        batch.records = records;
        Ok(batch)
    }

    pub fn batch(&self, id: i64) -> anyhow::Result<Option<Batch>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM batches WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?)
    }

    pub fn newest_batch(&self) -> anyhow::Result<Option<Batch>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM batches ORDER BY id DESC LIMIT 1"),
                [],
                from_row,
            )
            .optional()?)
    }

    /// The newest batch that was applied.
    pub fn newest_applied_batch(&self) -> anyhow::Result<Option<Batch>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM batches WHERE status = 'applied' ORDER BY id DESC LIMIT 1"),
                [],
                from_row,
            )
            .optional()?)
    }

    /// The run that reverted a batch (a rollback past it, or `roster revert`).
    pub fn batch_reverted_by(&self, id: i64) -> anyhow::Result<Option<i64>> {
        Ok(self
            .conn
            .query_row("SELECT reverted_by FROM batches WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .flatten())
    }

    /// The fingerprint of the settings a batch was last applied with (see
    /// [`crate::config::Config::plan_fingerprint`]).
    pub fn batch_settings(&self, id: i64) -> anyhow::Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT settings FROM batch_settings WHERE batch_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_batch_settings(&self, id: i64, fingerprint: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO batch_settings (batch_id, settings) VALUES (?1, ?2)
             ON CONFLICT(batch_id) DO UPDATE SET settings = excluded.settings",
            params![id, fingerprint],
        )?;
        Ok(())
    }

    /// The newest reverted batch with this SHA-256, if any.
    pub fn reverted_batch(&self, sha256: &str) -> anyhow::Result<Option<Batch>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM batches WHERE sha256 = ?1 AND status = 'reverted' ORDER BY id DESC LIMIT 1"),
                [sha256],
                from_row,
            )
            .optional()?)
    }

    pub fn batches(&self) -> anyhow::Result<Vec<Batch>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM batches ORDER BY id"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The bytes of a batch; `None` when they have been pruned.
    pub fn batch_content(&self, id: i64) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT content FROM batch_contents WHERE batch_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_batch_status(&self, id: i64, status: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE batches SET status = ?2 WHERE id = ?1",
            params![id, status],
        )?;
        Ok(())
    }

    /// Drop file contents older than `keep_batches` days (never the newest batch's), and audit
    /// rows older than `keep_history` days.
    pub fn prune(&self, keep_batches: u32, keep_history: u32) -> anyhow::Result<()> {
        let cutoff = |days: u32| {
            (chrono::Utc::now() - chrono::Duration::days(i64::from(days)))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        self.conn.execute(
            "DELETE FROM batch_contents WHERE batch_id IN
             (SELECT id FROM batches WHERE fetched_at < ?1 AND id < (SELECT MAX(id) FROM batches))",
            [cutoff(keep_batches)],
        )?;
        // Through the index on `at` (migration 2): a day with nothing to prune costs nothing.
        self.conn
            .execute("DELETE FROM audit WHERE at < ?1", [cutoff(keep_history)])?;
        self.conn.execute(
            "DELETE FROM audit_created WHERE run_id IN (SELECT id FROM runs WHERE finished_at < ?1)",
            [cutoff(keep_history)],
        )?;
        self.conn.execute(
            "DELETE FROM group_audit WHERE at < ?1",
            [cutoff(keep_history)],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store made before the bytes moved to their own table keeps every batch's bytes.
    #[test]
    fn migration_2_moves_the_bytes_of_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(super::super::schema::MIGRATIONS[0])
                .unwrap();
            conn.execute_batch(
                "INSERT INTO batches (fetched_at, source, size, sha256, records, status, content)
                 VALUES ('2026-01-01T00:00:00Z', 'a.csv', 3, 'x', 1, 'applied', X'616263'),
                        ('2026-01-02T00:00:00Z', 'b.csv', 3, 'y', 1, 'fetched', NULL);
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.batch_content(1).unwrap().as_deref(),
            Some(&b"abc"[..])
        );
        assert_eq!(store.batch_content(2).unwrap(), None);
        let batches = store.batches().unwrap();
        assert!(batches[0].has_content && !batches[1].has_content);
        assert_eq!(batches[0].status, "applied");
    }

    fn journal_mode(conn: &rusqlite::Connection) -> String {
        conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap_or_default()
    }

    /// A file is stored through a rollback journal when the store is this process's alone,
    /// through the WAL when another connection has it open; either way its bytes are whole
    /// and the store is in the WAL afterwards, where readers never wait for a writer.
    #[test]
    fn a_file_is_stored_whole_alone_or_beside_a_reader() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("roster.db");
        let store = Store::open(&path)?;
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let stored = |bytes: &[u8], sha: &str| -> anyhow::Result<Batch> {
            match store.store_batch(bytes, sha, "a.csv", None)? {
                Stored::New(b) => Ok(b),
                Stored::Unchanged(_) => anyhow::bail!("stored as unchanged"),
            }
        };
        let alone = stored(&bytes, "a")?;
        assert_eq!(journal_mode(&store.conn), "wal");
        let reader = rusqlite::Connection::open(&path)?;
        let before: i64 = reader.query_row("SELECT count(*) FROM batches", [], |r| r.get(0))?;
        assert_eq!(before, 1);
        let beside = stored(&bytes[1..], "b")?;
        assert_eq!(journal_mode(&store.conn), "wal");
        assert_eq!(journal_mode(&reader), "wal");
        drop(reader);
        assert_eq!(store.batch_content(alone.id)?.as_deref(), Some(&bytes[..]));
        assert_eq!(
            store.batch_content(beside.id)?.as_deref(),
            Some(&bytes[1..])
        );
        assert_eq!((alone.size, beside.size), (300_000, 299_999));
        Ok(())
    }
}

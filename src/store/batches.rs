//! Batches: every fetched file, its bytes and SHA-256, kept for `store.keep_batches` days.
//! The bytes are stored compressed (zstd), in chunks of at most 64 KiB: any file up to
//! `csv.max_file_bytes` fits (one SQLite value holds at most 10^9 bytes), in a third of the
//! pages for a CSV file. A batch stored whole before migration 16 is read as it was stored.

use super::{now, Store};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Write;

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
     EXISTS (SELECT 1 FROM batch_chunks c WHERE c.batch_id = batches.id)
     OR EXISTS (SELECT 1 FROM batch_contents c WHERE c.batch_id = batches.id), remote_mtime,
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
        insert_chunks(&tx, id, bytes, CHUNK_BYTES)?;
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
        if let Some(bytes) = self.chunked_content(id)? {
            return Ok(Some(bytes));
        }
        // A batch stored before migration 16: its bytes in one value, as they came.
        Ok(self
            .conn
            .query_row(
                "SELECT content FROM batch_contents WHERE batch_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The bytes of a batch stored in chunks, its compressed stream decompressed as its chunks
    /// are read into one buffer of the batch's size; `None` when it has no chunks.
    fn chunked_content(&self, id: i64) -> anyhow::Result<Option<Vec<u8>>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT content FROM batch_chunks WHERE batch_id = ?1 ORDER BY seq")?;
        let mut rows = stmt.query([id])?;
        let Some(first) = rows.next()? else {
            return Ok(None);
        };
        let unreadable = |e: std::io::Error| anyhow::anyhow!("batch {id} cannot be read: {e}");
        let mut content = Vec::with_capacity(self.batch_size(id)?);
        let mut decoder = zstd::stream::write::Decoder::new(&mut content).map_err(unreadable)?;
        decoder
            .write_all(first.get_ref(0)?.as_blob()?)
            .map_err(unreadable)?;
        while let Some(row) = rows.next()? {
            decoder
                .write_all(row.get_ref(0)?.as_blob()?)
                .map_err(unreadable)?;
        }
        decoder.flush().map_err(unreadable)?;
        drop(decoder);
        Ok(Some(content))
    }

    /// The size a batch's file had, in bytes (0 when there is no such batch).
    fn batch_size(&self, id: i64) -> anyhow::Result<usize> {
        let size: Option<i64> = self
            .conn
            .query_row("SELECT size FROM batches WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        Ok(usize::try_from(size.unwrap_or(0)).unwrap_or(0))
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
        for table in ["batch_chunks", "batch_contents"] {
            self.conn.execute(
                &format!(
                    "DELETE FROM {table} WHERE batch_id IN
                     (SELECT id FROM batches
                      WHERE fetched_at < ?1 AND id < (SELECT MAX(id) FROM batches))"
                ),
                [cutoff(keep_batches)],
            )?;
        }
        // Through the index on `at` (migration 2): a day with nothing to prune costs nothing.
        self.conn
            .execute("DELETE FROM audit WHERE at < ?1", [cutoff(keep_history)])?;
        self.conn.execute(
            "DELETE FROM audit_created_blocks WHERE run_id IN (SELECT id FROM runs WHERE finished_at < ?1)",
            [cutoff(keep_history)],
        )?;
        self.conn.execute(
            "DELETE FROM group_audit WHERE at < ?1",
            [cutoff(keep_history)],
        )?;
        Ok(())
    }
}

/// The most bytes of a batch's compressed stream one chunk holds: far under SQLite's largest
/// value (10^9 bytes), and under the size (128 KiB) from which the allocator maps memory of
/// its own for a buffer. A buffer so mapped and freed raises that size for the rest of the
/// run (glibc's dynamic threshold), which cost a 1% day 50 MiB more at its peak with chunks
/// of 8 MiB compressed each on their own.
const CHUNK_BYTES: usize = 64 << 10;

/// How hard a file is compressed: zstd's fastest level shrinks a CSV file of a million users
/// 3.4 times (the benchmark's realistic file), at several hundred MB a second. Its negative
/// levels gain a tenth in speed for a third more bytes to write (2.4 times): not worth it.
const ZSTD_LEVEL: i32 = 1;

/// How many bytes of the file one zstd frame holds. The file is in memory already: each frame
/// is compressed in one call straight from its bytes (zstd's streaming mode copied every byte
/// into a window of its own first, and searched it as an external dictionary, slower). The
/// frames follow each other in the stream, which a zstd decoder reads as one; a window of
/// level 1 is 512 KiB, so frames of 4 MiB lose next to nothing of the ratio.
const FRAME_BYTES: usize = 4 << 20;

/// Store `bytes` as the chunks of batch `id`: zstd frames of at most [`FRAME_BYTES`] of the
/// file each, one after the other in one stream, cut into chunks of at most `chunk` bytes,
/// numbered from 0 in its order. An empty file is one frame of nothing.
fn insert_chunks(
    conn: &rusqlite::Connection,
    id: i64,
    bytes: &[u8],
    chunk: usize,
) -> anyhow::Result<()> {
    let mut rows = ChunkRows {
        insert: conn.prepare_cached(
            "INSERT INTO batch_chunks (batch_id, seq, content) VALUES (?1, ?2, ?3)",
        )?,
        id,
        seq: 0,
        chunk: chunk.max(1),
        buffer: Vec::with_capacity(chunk.max(1)),
    };
    let mut held = COMPRESSOR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Compressor { context, frame } = held.get_or_insert_with(Compressor::new);
    let zstd_error = |code| anyhow::anyhow!("zstd: {}", zstd::zstd_safe::get_error_name(code));
    context
        .reset(zstd::zstd_safe::ResetDirective::SessionAndParameters)
        .map_err(zstd_error)?;
    context
        .set_parameter(zstd::zstd_safe::CParameter::CompressionLevel(ZSTD_LEVEL))
        .map_err(zstd_error)?;
    let frames = bytes.len().div_ceil(FRAME_BYTES).max(1);
    for n in 0..frames {
        let part =
            &bytes[(n * FRAME_BYTES).min(bytes.len())..((n + 1) * FRAME_BYTES).min(bytes.len())];
        frame.clear();
        context.compress2(frame, part).map_err(zstd_error)?;
        rows.write_all(frame)?;
    }
    rows.insert_row()?;
    Ok(())
}

/// The compression context and the buffer a frame is compressed into, kept for the life of
/// the process: the context's workspace (about a MiB) and the buffer (a frame's worth) are
/// mapped memory of their own, and freeing them would raise glibc's threshold for mapping
/// memory for the rest of the run, which cost a 1% day 10–25 MiB and a first import 35 MiB
/// more at their peaks (measured: the same run with the threshold pinned did not grow).
struct Compressor {
    context: zstd::zstd_safe::CCtx<'static>,
    frame: Vec<u8>,
}

impl Compressor {
    fn new() -> Compressor {
        Compressor {
            context: zstd::zstd_safe::CCtx::create(),
            frame: Vec::with_capacity(zstd::zstd_safe::compress_bound(FRAME_BYTES)),
        }
    }
}

static COMPRESSOR: std::sync::Mutex<Option<Compressor>> = std::sync::Mutex::new(None);

/// The compressed stream of a batch as it is written: each full chunk is inserted as a row.
struct ChunkRows<'c> {
    insert: rusqlite::CachedStatement<'c>,
    id: i64,
    seq: i64,
    chunk: usize,
    buffer: Vec<u8>,
}

impl ChunkRows<'_> {
    /// Insert what the buffer holds as the next chunk (nothing when it is empty).
    fn insert_row(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.insert
            .execute(params![self.id, self.seq, &self.buffer[..]])
            .map_err(std::io::Error::other)?;
        self.seq += 1;
        self.buffer.clear();
        Ok(())
    }
}

impl std::io::Write for ChunkRows<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let taken = data.len().min(self.chunk - self.buffer.len());
        self.buffer.extend_from_slice(&data[..taken]);
        if self.buffer.len() == self.chunk {
            self.insert_row()?;
        }
        Ok(taken)
    }

    /// The chunks are inserted as they fill, the last one by [`insert_chunks`].
    fn flush(&mut self) -> std::io::Result<()> {
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

    /// The chunking rule at a small size: a file's compressed stream is cut into chunks of
    /// the chunk size, in order, the last one shorter, and read back whole; an empty file is
    /// one chunk (a zstd frame of nothing).
    #[test]
    fn a_file_is_stored_in_chunks_of_at_most_the_chunk_size() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("roster.db"))?;
        // Bytes that do not compress, so that their stream is about as long as they are.
        let mut state = 7u64;
        let bytes: Vec<u8> = (0..10_500)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                (state >> 56) as u8
            })
            .collect();
        for (id, file) in [&bytes[..], &bytes[..999], &bytes[..0], &[b'a'; 50_000][..]]
            .into_iter()
            .enumerate()
        {
            let id = id as i64 + 1;
            store.conn.execute(
                "INSERT INTO batches (id, fetched_at, source, size, sha256) VALUES (?1, 'x', 'a', ?2, 'x')",
                params![id, file.len() as i64],
            )?;
            insert_chunks(&store.conn, id, file, 1000)?;
            let mut stmt = store.conn.prepare(
                "SELECT length(content) FROM batch_chunks WHERE batch_id = ?1 ORDER BY seq",
            )?;
            let lengths: Vec<usize> = stmt
                .query_map([id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let (last, full) = lengths.split_last().expect("at least one chunk");
            assert!(full.iter().all(|&n| n == 1000), "{lengths:?}");
            assert!((1..=1000).contains(last), "{lengths:?}");
            let stream = full.len() * 1000 + last;
            if file.len() == 10_500 {
                assert!(lengths.len() >= 11, "{} chunks", lengths.len());
            }
            if file.len() == 50_000 {
                assert!(stream < 1000, "a repeated byte compresses: {stream}");
            }
            assert_eq!(store.batch_content(id)?.as_deref(), Some(file));
            assert!(store.batch(id)?.is_some_and(|b| b.has_content));
        }
        Ok(())
    }

    /// A file of several zstd frames (the last a partial one) is stored as one stream cut into
    /// full chunks, and read back byte for byte.
    #[test]
    fn a_file_of_several_frames_reads_back_whole() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("roster.db"))?;
        let file: Vec<u8> = (0..2 * FRAME_BYTES + 4_097)
            .map(|i| b"abcdefghij,\n"[(i * 7 + i / 4_093) % 12])
            .collect();
        store.conn.execute(
            "INSERT INTO batches (id, fetched_at, source, size, sha256) VALUES (1, 'x', 'a', ?1, 'x')",
            [file.len() as i64],
        )?;
        insert_chunks(&store.conn, 1, &file, CHUNK_BYTES)?;
        let lengths: Vec<usize> = store
            .conn
            .prepare("SELECT length(content) FROM batch_chunks WHERE batch_id = 1 ORDER BY seq")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let (_, full) = lengths.split_last().expect("at least one chunk");
        assert!(full.iter().all(|&n| n == CHUNK_BYTES), "{lengths:?}");
        assert!(store.batch_content(1)?.as_deref() == Some(&file[..]));
        Ok(())
    }

    /// A batch stored in one value before migration 16 is read as before, and pruned as before.
    #[test]
    fn a_batch_stored_whole_before_the_chunks_stays_readable() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("roster.db"))?;
        store.conn.execute_batch(
            "INSERT INTO batches (id, fetched_at, source, size, sha256)
                 VALUES (1, '2020-01-01T00:00:00Z', 'a', 3, 'x'),
                        (2, '2020-01-02T00:00:00Z', 'b', 3, 'y');
             INSERT INTO batch_contents (batch_id, content) VALUES (1, X'616263');",
        )?;
        assert_eq!(store.batch_content(1)?.as_deref(), Some(&b"abc"[..]));
        assert!(store.batch(1)?.is_some_and(|b| b.has_content));
        store.prune(1, 365_000)?;
        assert_eq!(store.batch_content(1)?, None);
        assert!(store.batch(1)?.is_some_and(|b| !b.has_content));
        Ok(())
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

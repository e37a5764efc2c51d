//! The store: one SQLite file with the directory, the fetched files, runs and the audit log.

pub mod apply;
pub mod batches;
pub mod created;
pub mod directory;
pub mod exposed;
pub mod groups;
pub mod lock;
pub mod outbox;
pub mod report;
pub mod revert;
pub mod runs;
mod schema;
pub mod scim;
pub mod users;

use anyhow::Context as _;
use rusqlite::{Connection, OptionalExtension};
use std::fs::OpenOptions;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub use lock::Lock;

/// How long a statement waits for another process's write (a first load of a large file takes
/// minutes; readers wait for it rather than fail).
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// An open store.
pub struct Store {
    pub(crate) conn: Connection,
    pub path: PathBuf,
    /// Who runs this process and why: recorded with every run it makes.
    pub operator: runs::Operator,
    /// The checkpoint of a large apply, running on a connection of its own (see
    /// [`Store::checkpoint_beside`]); joined before the store closes.
    checkpoint: Option<std::thread::JoinHandle<()>>,
    /// Told (rows written, rows to write) while an apply writes the directory.
    progress: Option<Box<dyn Fn(u64, u64) + Send + Sync>>,
}

impl Drop for Store {
    fn drop(&mut self) {
        self.join_checkpoint();
    }
}

/// The key for a new user: past every key a user ever had, so that the audit log and the
/// outbox never confuse a new user with a deleted one (SQLite would reuse the largest key).
/// The largest key of a deleted user is kept in `meta` by a trigger (migration 9).
pub(crate) fn next_user_pk(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT MAX(COALESCE((SELECT MAX(pk) FROM users), 0),
                    COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'user_pk_high'), 0)) + 1",
        [],
        |r| r.get(0),
    )
}

/// The mail key a user's row holds: the key of its address, or for a user whose address was
/// given to another (`import.reuse_mail_of_deactivated`, mail empty) one that is its own and
/// that no address has, since the column is unique.
pub(crate) fn mail_key_of(pk: i64, mail: &str) -> String {
    if mail.is_empty() {
        format!("\u{2}{pk}")
    } else {
        crate::core::mail::key(mail).into_owned()
    }
}

/// The mail key as a user's row stores it (migration 17): none where it is the address itself,
/// as it is for most addresses; the index and the lookups take `COALESCE(mail_key, mail)`.
pub(crate) fn stored_mail_key(pk: i64, mail: &str) -> Option<String> {
    let key = mail_key_of(pk, mail);
    (key != mail).then_some(key)
}

/// The time now, as the store writes it (RFC 3339, UTC, seconds).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Store {
    /// Open the store, creating it (mode 0600) and its folder on first use, and migrate it.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        Store::open_with(path, true)
    }

    /// Open a store that exists, for a reader that must not create one (`status`): a missing
    /// store is an error, `no store at PATH`.
    pub fn open_existing(path: &Path) -> anyhow::Result<Store> {
        Store::open_with(path, false)
    }

    fn open_with(path: &Path, create: bool) -> anyhow::Result<Store> {
        // A FIFO or a device would block the open or feed SQLite endless bytes: a store is a
        // regular file (through a symbolic link or not), else the run fails at once.
        if let Ok(meta) = std::fs::metadata(path) {
            if !meta.is_file() {
                anyhow::bail!("the store {} is not a regular file", path.display());
            }
            // A hard link is a second name no lock beside a name can see, and SQLite keeps its
            // WAL beside each name: two runs by two names would both write (SPEC §5: one store
            // is one lock however it is reached).
            if meta.nlink() > 1 {
                anyhow::bail!(
                    "the store {} is one file with {} names (hard links): SQLite keeps its journal, and roster its lock, beside each name, so two runs by two names would both write; remove the other hard links (a symbolic link is fine)",
                    path.display(),
                    meta.nlink()
                );
            }
        }
        // An empty file is no store either: a reader never writes a store into it.
        if !create && std::fs::metadata(path).map_or(true, |m| !m.is_file() || m.len() == 0) {
            anyhow::bail!("no store at {}", path.display());
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            lock::create_private_dir(dir)?;
        }
        // SQLite opens the real path, the one the lock is derived from: one store, one lock.
        let real = lock::real_path(path);
        // Create the file ourselves so that it never exists with a wider mode.
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&real)
            .with_context(|| format!("cannot create the store {}", path.display()))?;
        let conn = Connection::open(&real)
            .with_context(|| format!("cannot open the store {}", path.display()))?;
        // Synchronous FULL: a commit is on the disk before the next step, as the outbox
        // needs (an invitation marked `sending`, then sent, must not come back as pending
        // after a power cut). With NORMAL, WAL commits wait for the next checkpoint.
        // The busy timeout comes first, so that every later step waits for a writer rather
        // than fail with "database is locked" (a first load holds the store in a rollback
        // journal, see `apply`): readers wait for its commit (SPEC §5).
        conn.busy_timeout(BUSY_TIMEOUT)
            .with_context(|| format!("cannot set up the store {}", path.display()))?;
        // Back to the WAL when the store is not in it; while a first load has it in a
        // rollback journal the switch cannot be made now, and is made by a later open.
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .ok();
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;",
        )
        .with_context(|| format!("cannot set up the store {}", path.display()))?;
        let mut store = Store {
            conn,
            path: real,
            operator: runs::Operator {
                by: runs::os_user(),
                ..runs::Operator::default()
            },
            checkpoint: None,
            progress: None,
        };
        store
            .migrate()
            .with_context(|| format!("cannot migrate the store {}", path.display()))?;
        log::debug!(
            "sqlite: opened {} (WAL, synchronous FULL, schema version {})",
            path.display(),
            schema::MIGRATIONS.len()
        );
        Ok(store)
    }

    fn migrate(&mut self) -> anyhow::Result<()> {
        let version: usize = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > schema::MIGRATIONS.len() {
            anyhow::bail!(
                "the store is at schema version {version}, newer than this roster knows ({}); upgrade roster",
                schema::MIGRATIONS.len()
            );
        }
        if version == schema::MIGRATIONS.len() {
            return Ok(());
        }
        // Foreign keys are off while migrating (outside the transactions: SQLite ignores the
        // switch inside one), so that a migration may rebuild a table others refer to (8) with
        // every row and key as it was.
        self.conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        let migrated = (|| -> anyhow::Result<()> {
            for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version) {
                log::debug!("sqlite: migration {}", i + 1);
                let tx = self.conn.transaction()?;
                tx.execute_batch(sql)?;
                schema::after(i + 1, &tx)?;
                tx.pragma_update(None, "user_version", i + 1)?;
                tx.commit()?;
            }
            Ok(())
        })();
        self.conn.execute_batch("PRAGMA foreign_keys = ON")?;
        migrated
    }

    /// Copy the log into the store file on a thread and a connection of their own, while
    /// this one goes on (rendering, sending invitations, freeing the read file). SQLite's own
    /// checkpoint after a large commit would do it on this thread, waiting for the disk.
    /// Best effort: a checkpoint that fails is done again by the next one, or by the close.
    pub(crate) fn checkpoint_beside(&mut self) {
        self.join_checkpoint();
        log::debug!("sqlite: checkpoint of the log on a thread of its own");
        let path = self.path.clone();
        self.checkpoint = Some(std::thread::spawn(move || {
            let copy = || -> rusqlite::Result<()> {
                let conn = Connection::open(&path)?;
                conn.busy_timeout(std::time::Duration::from_secs(10))?;
                conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            };
            copy().ok();
        }));
    }

    /// Wait for the checkpoint of [`Store::checkpoint_beside`], if one runs.
    fn join_checkpoint(&mut self) {
        if let Some(running) = self.checkpoint.take() {
            running.join().ok();
        }
    }

    /// Follow the writing of the next applies: `progress(rows written, rows to write)`, told
    /// every few hundred rows and at the end.
    pub fn on_progress(&mut self, progress: impl Fn(u64, u64) + Send + Sync + 'static) {
        self.progress = Some(Box::new(progress));
    }

    /// A handle that stops this store's running statement from another thread (it fails with
    /// SQLite's `interrupted`); nothing when none runs.
    pub fn interrupt_handle(&self) -> rusqlite::InterruptHandle {
        self.conn.get_interrupt_handle()
    }

    pub fn meta(&self, key: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline;

    fn synchronous(store: &Store) -> i64 {
        store
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap_or(-1)
    }

    /// Make a store as a roster of schema `version` left it: the migrations before it, then
    /// `rows` (foreign keys checked).
    fn old_store(path: &std::path::Path, version: usize, rows: &str) -> anyhow::Result<()> {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
        for sql in &schema::MIGRATIONS[..version] {
            conn.execute_batch(sql)?;
        }
        conn.execute_batch(rows)?;
        conn.pragma_update(None, "user_version", version)?;
        Ok(())
    }

    /// Whether the store's schema has a table, index or trigger of that name.
    fn has_object(store: &Store, name: &str) -> anyhow::Result<bool> {
        Ok(store.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?)
    }

    /// A store made before migration 8 keeps every user, key and membership through the
    /// rebuild of its users table, and its UniqueIDs and mail keys stay unique.
    #[test]
    fn migration_8_keeps_users_and_memberships() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("old.db");
        old_store(
            &path,
            7,
            "INSERT INTO groups (pk, group_id, name, created_at) VALUES (1, 'ICU', 'ICU', 't');
             INSERT INTO users (pk, unique_id, name, mail, mail_key, active, row_hash,
                                missing_count, created_at, updated_at)
             VALUES (5, 'E5', 'Ann', 'Ann@x.org', 'ann@x.org', 1, 7, 0, 't', 't'),
                    (9, NULL, 'Bo', 'bo@x.org', 'bo@x.org', 0, 8, 2, 't', 't');
             INSERT INTO memberships (user_pk, group_pk) VALUES (5, 1), (9, 1);",
        )?;
        let store = Store::open(&path)?;
        let rows: Vec<(i64, Option<String>, String, i64, i64)> = store
            .conn
            .prepare(
                "SELECT pk, unique_id, mail_key, active, missing_count FROM users ORDER BY pk",
            )?
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?;
        assert_eq!(
            rows,
            vec![
                (5, Some("E5".into()), "ann@x.org".into(), 1, 0),
                (9, None, "bo@x.org".into(), 0, 2)
            ]
        );
        let members: i64 = store
            .conn
            .query_row("SELECT count(*) FROM memberships", [], |r| r.get(0))?;
        assert_eq!(members, 2);
        assert!(store
            .conn
            .prepare("PRAGMA foreign_key_check")?
            .query([])?
            .next()?
            .is_none());
        let foreign_keys: i64 = store
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
        assert_eq!(foreign_keys, 1);
        for dup in [
            "INSERT INTO users (unique_id, name, mail, mail_key, row_hash, created_at, updated_at)
             VALUES ('E5', 'X', 'x@x.org', 'x@x.org', 0, 't', 't')",
            "INSERT INTO users (unique_id, name, mail, mail_key, row_hash, created_at, updated_at)
             VALUES ('E6', 'X', 'ANN@x.org', 'ann@x.org', 0, 't', 't')",
        ] {
            let err = store.conn.execute(dup, []).unwrap_err().to_string();
            assert!(err.contains("UNIQUE constraint failed"), "{err}");
        }
        // Deleting a user still takes its memberships with it.
        store.conn.execute("DELETE FROM users WHERE pk = 9", [])?;
        let members: i64 = store
            .conn
            .query_row("SELECT count(*) FROM memberships", [], |r| r.get(0))?;
        assert_eq!(members, 1);
        Ok(())
    }

    /// Migration 9 drops the audit log's index by user, and a new user's key still passes every
    /// key a user ever had: one known only from the log, and one deleted after the migration.
    #[test]
    fn migration_9_keeps_new_keys_past_deleted_users() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("old.db");
        // User 7 was deleted: only the log remembers it.
        old_store(
            &path,
            8,
            "INSERT INTO users (pk, unique_id, name, mail, mail_key, active, row_hash,
                                missing_count, created_at, updated_at)
             VALUES (3, 'E3', 'Ann', 'ann@x.org', 'ann@x.org', 1, 7, 0, 't', 't');
             INSERT INTO audit (run_id, user_pk, unique_id, field, old, new, at)
             VALUES (NULL, 7, 'E7', 'status', 'active', 'deleted', 't');",
        )?;
        let store = Store::open(&path)?;
        assert!(!has_object(&store, "audit_user")?);
        assert_eq!(next_user_pk(&store.conn)?, 8);
        // A user deleted now, past every other key, is not given again either.
        store.conn.execute_batch(
            "INSERT INTO users (pk, unique_id, name, mail, mail_key, active, row_hash,
                                missing_count, created_at, updated_at)
             VALUES (12, 'E12', 'Bo', 'bo@x.org', 'bo@x.org', 1, 7, 0, 't', 't');
             DELETE FROM users WHERE pk = 12;",
        )?;
        assert_eq!(next_user_pk(&store.conn)?, 13);
        // A deleted user below the largest key leaves it as it was.
        store.conn.execute("DELETE FROM users WHERE pk = 3", [])?;
        assert_eq!(next_user_pk(&store.conn)?, 13);
        Ok(())
    }

    /// Migration 10 drops the memberships' index by group; what reads a group's members
    /// (the counts of `groups list`, a revert's groups as they are) reads them as before.
    #[test]
    fn migration_10_keeps_every_groups_members() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("old.db");
        old_store(
            &path,
            9,
            "INSERT INTO groups (pk, group_id, name, created_at)
             VALUES (1, 'ICU', 'Intensive care', 't'), (2, NULL, 'Choir', 't'), (3, 'NIGHT', 'Nights', 't');
             INSERT INTO users (pk, unique_id, name, mail, mail_key, active, row_hash,
                                missing_count, created_at, updated_at)
             VALUES (3, 'E3', 'Ann', 'ann@x.org', 'ann@x.org', 1, 7, 0, 't', 't'),
                    (5, 'E5', 'Bo', 'bo@x.org', 'bo@x.org', 0, 7, 0, 't', 't'),
                    (9, NULL, 'Cy', 'cy@x.org', 'cy@x.org', 1, 7, 0, 't', 't');
             INSERT INTO memberships (user_pk, group_pk) VALUES (9, 1), (3, 1), (5, 1), (9, 2);",
        )?;
        let store = Store::open(&path)?;
        assert!(!has_object(&store, "memberships_group")?);
        let counts: Vec<(Option<String>, i64, i64)> = store
            .groups()?
            .into_iter()
            .map(|g| (g.id, g.members, g.deactivated))
            .collect();
        assert_eq!(
            counts,
            [
                (Some("ICU".to_string()), 2, 1),
                (Some("NIGHT".to_string()), 0, 0),
                (None, 1, 0)
            ]
        );
        let members: Vec<(i64, Vec<i64>)> = store
            .groups_now()?
            .into_iter()
            .map(|g| (g.pk, g.members))
            .collect();
        assert_eq!(members, [(1, vec![3, 5, 9]), (2, vec![9]), (3, vec![])]);
        Ok(())
    }

    /// Every commit is on the disk before the next step (the outbox's promise), also after the
    /// first load and a later apply, which set pragmas of their own for their writes.
    #[test]
    fn commits_wait_for_the_disk() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let mut store = Store::open(&dir.path().join("roster.db"))?;
        const FULL: i64 = 2;
        assert_eq!(synchronous(&store), FULL);
        let mut config = crate::config::Config::default();
        // The second file updates the one user: more than the default share.
        config.import.max_updates = crate::config::Limit::Percent(100.0);
        for text in [
            "UniqueID,Name,Mail\nE1,Ann,ann@example.org\n",
            "UniqueID,Name,Mail\nE1,Ann Berg,ann@example.org\n",
        ] {
            let outcome = pipeline::apply_text(&mut store, &config, text)?;
            assert_eq!(outcome.status, pipeline::Status::Applied);
            assert_eq!(synchronous(&store), FULL);
        }
        Ok(())
    }
}

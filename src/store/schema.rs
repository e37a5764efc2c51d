//! Migrations: numbered and append-only. Never edit one that has landed; add the next.

pub const MIGRATIONS: &[&str] = &[
    // 1: the directory, the stored files, runs and the audit log.
    r#"
    CREATE TABLE groups (
        pk INTEGER PRIMARY KEY,
        group_id TEXT UNIQUE,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE users (
        pk INTEGER PRIMARY KEY,
        unique_id TEXT UNIQUE,
        name TEXT NOT NULL,
        mail TEXT NOT NULL,
        mail_key TEXT NOT NULL UNIQUE,
        title TEXT,
        phone TEXT,
        phone2 TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        row_hash INTEGER NOT NULL,
        missing_count INTEGER NOT NULL DEFAULT 0,
        last_missing_batch INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE memberships (
        user_pk INTEGER NOT NULL REFERENCES users(pk) ON DELETE CASCADE,
        group_pk INTEGER NOT NULL REFERENCES groups(pk) ON DELETE CASCADE,
        PRIMARY KEY (user_pk, group_pk)
    ) WITHOUT ROWID;
    CREATE INDEX memberships_group ON memberships(group_pk);
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        fetched_at TEXT NOT NULL,
        source TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        records INTEGER,
        status TEXT NOT NULL DEFAULT 'fetched',
        content BLOB,
        remote_mtime INTEGER
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        batch_id INTEGER REFERENCES batches(id),
        command TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        counts TEXT,
        message TEXT,
        detail TEXT
    );
    CREATE TABLE problems (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        line INTEGER,
        column_name TEXT,
        code TEXT NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX problems_run ON problems(run_id);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        run_id INTEGER,
        user_pk INTEGER NOT NULL,
        unique_id TEXT,
        field TEXT NOT NULL,
        old TEXT,
        new TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX audit_user ON audit(user_pk);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        user_pk INTEGER,
        recipient TEXT NOT NULL,
        run_id INTEGER,
        status TEXT NOT NULL DEFAULT 'pending',
        created_at TEXT NOT NULL,
        attempted_at TEXT,
        sent_at TEXT,
        error TEXT
    );
    CREATE INDEX outbox_status ON outbox(status);
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 2: pruning the audit log by age reads an index, not the whole log; a batch's bytes live
    // in their own table, so that setting a batch's status does not rewrite the whole file.
    r#"
    CREATE INDEX audit_at ON audit(at);
    CREATE TABLE batch_contents (
        batch_id INTEGER PRIMARY KEY REFERENCES batches(id) ON DELETE CASCADE,
        content BLOB NOT NULL
    );
    INSERT INTO batch_contents (batch_id, content)
        SELECT id, content FROM batches WHERE content IS NOT NULL;
    ALTER TABLE batches DROP COLUMN content;
    "#,
    // 3: the planner reads the key and hash of every imported user in one scan, and the flags
    // of the few that are deactivated or missing through this index of just them.
    r#"
    CREATE INDEX users_unusual ON users(pk, active, missing_count, last_missing_batch)
        WHERE active = 0 OR missing_count > 0;
    "#,
    // 4: the SCIM push (SPEC §8): what the provider holds of each pushed user and group (its
    // `id`, ETag, a hash of the attributes it acknowledged, and whether it is active there), a
    // refusal waiting for the next push, and each push run. Keyed by UniqueID and Group ID, not
    // by the row, so that a user deleted from the store is still known to the provider.
    r#"
    CREATE TABLE scim_users (
        unique_id TEXT PRIMARY KEY,
        scim_id TEXT,
        etag TEXT,
        hash INTEGER,
        active INTEGER,
        sending TEXT,
        error TEXT,
        failed_at TEXT,
        pushed_at TEXT
    ) WITHOUT ROWID;
    CREATE TABLE scim_groups (
        group_id TEXT PRIMARY KEY,
        scim_id TEXT,
        etag TEXT,
        hash INTEGER,
        active INTEGER,
        sending TEXT,
        error TEXT,
        failed_at TEXT,
        pushed_at TEXT
    ) WITHOUT ROWID;
    CREATE TABLE scim_pushes (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        counts TEXT,
        message TEXT
    );
    "#,
    // 5: change control. A run records who ran it, why, and the `--allow-*` flags it used; a
    // revert names the run it undid, a batch the run that reverted it. An audit row keeps what
    // the user's row held beside its fields before the change (`was`: times, absence counter,
    // manual groups), so that a revert gives back the exact row.
    r#"
    ALTER TABLE runs ADD COLUMN by_user TEXT;
    ALTER TABLE runs ADD COLUMN reason TEXT;
    ALTER TABLE runs ADD COLUMN overrides TEXT;
    ALTER TABLE runs ADD COLUMN reverts INTEGER;
    ALTER TABLE batches ADD COLUMN reverted_by INTEGER;
    ALTER TABLE audit ADD COLUMN was TEXT;
    CREATE INDEX audit_run ON audit(run_id);
    "#,
    // 6: a user's newest invitation is found through this index (users list shows it for
    // every user; users invite --uninvited finds the users without one).
    r#"
    CREATE INDEX outbox_user ON outbox(user_pk, id) WHERE kind = 'invitation';
    "#,
    // 7: groups in the audit log, so that a revert undoes a group change: a group a run
    // `created` (new: its name), renamed (`name`, old → new) or `removed` (old: its name,
    // `created_at` to bring it back as it was). The members' memberships are users' rows.
    r#"
    CREATE TABLE group_audit (
        id INTEGER PRIMARY KEY,
        run_id INTEGER,
        group_pk INTEGER NOT NULL,
        group_id TEXT,
        field TEXT NOT NULL,
        old TEXT,
        new TEXT,
        created_at TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX group_audit_run ON group_audit(run_id);
    CREATE INDEX group_audit_at ON group_audit(at);
    "#,
    // 8: a user's UniqueID and mail key are unique through named indexes rather than column
    // constraints (the same rule), so that a first load can drop them and build each once
    // after it, sorted, instead of inserting a million keys in no order into them. The table
    // is rebuilt (SQLite cannot drop a column constraint); run with foreign keys off, so that
    // dropping the old table takes no memberships with it.
    r#"
    CREATE TABLE users_new (
        pk INTEGER PRIMARY KEY,
        unique_id TEXT,
        name TEXT NOT NULL,
        mail TEXT NOT NULL,
        mail_key TEXT NOT NULL,
        title TEXT,
        phone TEXT,
        phone2 TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        row_hash INTEGER NOT NULL,
        missing_count INTEGER NOT NULL DEFAULT 0,
        last_missing_batch INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    INSERT INTO users_new (pk, unique_id, name, mail, mail_key, title, phone, phone2, active,
                           row_hash, missing_count, last_missing_batch, created_at, updated_at)
        SELECT pk, unique_id, name, mail, mail_key, title, phone, phone2, active,
               row_hash, missing_count, last_missing_batch, created_at, updated_at
        FROM users ORDER BY pk;
    DROP TABLE users;
    ALTER TABLE users_new RENAME TO users;
    CREATE UNIQUE INDEX users_unique_id ON users(unique_id);
    CREATE UNIQUE INDEX users_mail_key ON users(mail_key);
    CREATE INDEX users_unusual ON users(pk, active, missing_count, last_missing_batch)
        WHERE active = 0 OR missing_count > 0;
    "#,
    // 9: no index of the audit log by user. Each import's audit rows fall on users in no
    // order, so that index cost a page written for nearly every changed user; a user's history
    // reads the log whole instead (about 0.1 s a million rows). A new user's key was found
    // past the largest key of that index; it is now found past the largest key a user ever had,
    // kept in `meta` (`user_pk_high`) as users are deleted.
    r#"
    INSERT INTO meta (key, value)
        SELECT 'user_pk_high', MAX(COALESCE((SELECT MAX(user_pk) FROM audit), 0),
                                   COALESCE((SELECT MAX(pk) FROM users), 0));
    CREATE TRIGGER users_pk_high AFTER DELETE ON users BEGIN
        INSERT INTO meta (key, value) VALUES ('user_pk_high', old.pk)
            ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), old.pk);
    END;
    DROP INDEX audit_user;
    "#,
    // 10: no index of memberships by group. A day's membership changes fall on groups in no
    // order, so that index cost a page written for nearly every membership added or removed
    // (a quarter of the pages of a 1% day). What asks for a group's members reads the
    // memberships whole (about 0.15 s for 2.5 million) or counts them in one pass.
    r#"
    DROP INDEX memberships_group;
    "#,
    // 11: the churn safeguard (SPEC §2) takes the medians of the creates, updates and removals
    // of the last applied imports from the runs table: each run keeps its three counts, and
    // `churn_history` marks the applied `sync` and `apply` runs that count as nights (not a
    // revert, a forced rollback, nor an import into an empty directory). Existing runs are
    // filled in from their counts: the first applied import and a rollback to an older batch
    // are left out.
    r#"
    ALTER TABLE runs ADD COLUMN creates INTEGER;
    ALTER TABLE runs ADD COLUMN updates INTEGER;
    ALTER TABLE runs ADD COLUMN removals INTEGER;
    ALTER TABLE runs ADD COLUMN churn_history INTEGER NOT NULL DEFAULT 0;
    UPDATE runs SET creates = json_extract(counts, '$.create'),
                    updates = json_extract(counts, '$.update'),
                    removals = json_extract(counts, '$.remove')
        WHERE json_valid(counts);
    UPDATE runs SET churn_history = 1
        WHERE status = 'applied' AND command IN ('sync', 'apply') AND creates IS NOT NULL
          AND batch_id >= (SELECT MAX(p.batch_id) FROM runs p
                           WHERE p.id < runs.id AND p.status = 'applied'
                             AND p.command IN ('sync', 'apply') AND p.counts IS NOT NULL);
    CREATE INDEX runs_churn_history ON runs(id) WHERE churn_history = 1;
    "#,
    // 12: what the provider kept (SPEC §8): per pushed user and group, the attributes it
    // dropped or changed (bits in the order of `store::scim::USER_ATTRIBUTES` and
    // `GROUP_ATTRIBUTES`), the hash of what roster last sent (so that a change in the store
    // goes out even in an attribute the provider does not keep), and a group's members as the
    // provider holds them (their provider ids, one a line), so that membership changes go as
    // PATCH add/remove.
    r#"
    ALTER TABLE scim_users ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE scim_users ADD COLUMN sent INTEGER;
    ALTER TABLE scim_groups ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE scim_groups ADD COLUMN sent INTEGER;
    ALTER TABLE scim_groups ADD COLUMN members TEXT;
    "#,
    // 13: the fingerprint of the settings that shaped a batch's plan when it was applied
    // (SPEC §2): the same file under another mapping or alias is planned again. A table of its
    // own (and 14 below) written so that running it again changes nothing.
    r#"
    CREATE TABLE IF NOT EXISTS batch_settings (
        batch_id INTEGER PRIMARY KEY REFERENCES batches(id) ON DELETE CASCADE,
        settings TEXT NOT NULL
    );
    "#,
    // 14: a run's per-record lists (its rejected records' UniqueIDs and names, the users it
    // removes) in rows of their own rather than inside its detail, so that a report of a night
    // of 200,000 rejected records reads the hundred it shows (SPEC §5: bounded memory).
    r#"
    CREATE TABLE IF NOT EXISTS run_records (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        list TEXT NOT NULL,
        seq INTEGER NOT NULL,
        line INTEGER,
        unique_id TEXT,
        name TEXT,
        mail TEXT,
        PRIMARY KEY (run_id, list, seq)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS run_records_line ON run_records(run_id, line) WHERE list = 'invalid';
    INSERT OR IGNORE INTO run_records (run_id, list, seq, line, unique_id, name, mail)
        SELECT r.id, l.list, j.key, json_extract(j.value, '$.line'),
               json_extract(j.value, '$.unique_id'), json_extract(j.value, '$.name'),
               json_extract(j.value, '$.mail')
          FROM runs r, (SELECT 'invalid' AS list UNION ALL SELECT 'removals') l,
               json_each(r.detail, '$.' || l.list) j
         WHERE json_valid(r.detail);
    UPDATE runs SET detail = json_remove(detail, '$.invalid', '$.removals')
     WHERE json_valid(detail)
       AND (json_type(detail, '$.invalid') IS NOT NULL OR json_type(detail, '$.removals') IS NOT NULL);
    "#,
    // 15: a user an import creates is one row of `audit_created`, its values in columns (as
    // `created_values` lists them; `status` is `active`), keyed by its run and its key, so that
    // a first import appends them in order with no index beside. `seq`: how many rows of the
    // audit log its run wrote before it, so that a run's rows read in the order written. Its
    // time is its run's (`runs.finished_at`, the apply's audit rows' `at`). Older stores keep
    // their `created` rows in `audit`; readers read both.
    r#"
    CREATE TABLE IF NOT EXISTS audit_created (
        run_id INTEGER NOT NULL,
        user_pk INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        unique_id TEXT,
        name TEXT NOT NULL,
        mail TEXT NOT NULL,
        title TEXT,
        phone TEXT,
        phone2 TEXT,
        groups TEXT,
        PRIMARY KEY (run_id, user_pk)
    ) WITHOUT ROWID;
    "#,
    // 16: a batch's bytes compressed (zstd) and cut into chunks, so that a file over SQLite's
    // largest value (10^9 bytes) can be stored, in about a third of the pages. The batches
    // stored before stay in `batch_contents` as they are, read as before.
    r#"
    CREATE TABLE IF NOT EXISTS batch_chunks (
        batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        content BLOB NOT NULL,
        PRIMARY KEY (batch_id, seq)
    );
    "#,
    // 17: a created user's row (15) in blocks of its run's users, compressed (see
    // `store::created`): about a quarter of the pages. The rows of `audit_created` are moved
    // into blocks by [`after`] and that table dropped.
    // A user's row holds its mail key only where the key is not the address itself (most
    // addresses are their own key), and its `updated_at` only where the row changed after
    // its creation: none is the address, the creation time. The index of the keys is of the
    // key either way (`COALESCE(mail_key, mail)`, what the lookups ask). The table is rebuilt
    // (SQLite cannot drop NOT NULL) with every value as it was, foreign keys off as for 8.
    r#"
    CREATE TABLE users_new (
        pk INTEGER PRIMARY KEY,
        unique_id TEXT,
        name TEXT NOT NULL,
        mail TEXT NOT NULL,
        mail_key TEXT,
        title TEXT,
        phone TEXT,
        phone2 TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        row_hash INTEGER NOT NULL,
        missing_count INTEGER NOT NULL DEFAULT 0,
        last_missing_batch INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT
    );
    INSERT INTO users_new (pk, unique_id, name, mail, mail_key, title, phone, phone2, active,
                           row_hash, missing_count, last_missing_batch, created_at, updated_at)
        SELECT pk, unique_id, name, mail, mail_key, title, phone, phone2, active,
               row_hash, missing_count, last_missing_batch, created_at, updated_at
        FROM users ORDER BY pk;
    DROP TABLE users;
    ALTER TABLE users_new RENAME TO users;
    CREATE UNIQUE INDEX users_unique_id ON users(unique_id);
    CREATE UNIQUE INDEX users_mail_key ON users(COALESCE(mail_key, mail));
    CREATE INDEX users_unusual ON users(pk, active, missing_count, last_missing_batch)
        WHERE active = 0 OR missing_count > 0;
    CREATE TRIGGER users_pk_high AFTER DELETE ON users BEGIN
        INSERT INTO meta (key, value) VALUES ('user_pk_high', old.pk)
            ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), old.pk);
    END;
    CREATE TABLE IF NOT EXISTS audit_created_blocks (
        run_id INTEGER NOT NULL,
        first_pk INTEGER NOT NULL,
        last_pk INTEGER NOT NULL,
        users INTEGER NOT NULL,
        content BLOB NOT NULL,
        PRIMARY KEY (run_id, first_pk)
    ) WITHOUT ROWID;
    "#,
    // 18: a run's unknown Group IDs in rows of their own rather than inside its detail: a
    // file naming 200,000 of them made a detail of 8 MB that SQLite copied twice more to
    // store it (SPEC §5: memory bounded by the file). The IDs kept in details are moved.
    r#"
    CREATE TABLE IF NOT EXISTS run_unknown_groups (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        group_id TEXT NOT NULL,
        records INTEGER NOT NULL,
        PRIMARY KEY (run_id, group_id)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO run_unknown_groups (run_id, group_id, records)
        SELECT runs.id, g.key, g.value
        FROM runs, json_each(CASE WHEN json_valid(runs.detail) THEN runs.detail END,
                             '$.unknown_groups') AS g
        WHERE g.type = 'integer';
    UPDATE runs SET detail = json_remove(detail, '$.unknown_groups')
        WHERE json_valid(detail) AND json_type(detail, '$.unknown_groups') IS NOT NULL;
    "#,
];

/// What a migration does beyond its SQL, in its transaction, after it: `version` is the
/// migration's number.
pub(crate) fn after(version: usize, conn: &rusqlite::Connection) -> anyhow::Result<()> {
    if version == 17 {
        super::created::convert(conn)?;
    }
    Ok(())
}

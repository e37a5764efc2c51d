//! The `created` rows of the users an import creates (migration 17): their values kept in
//! blocks of up to [`BLOCK_USERS`] users of one run, compressed (zstd), keyed by the run and
//! the block's first user key, with its last (`audit_created_blocks`). A run's users are
//! created with consecutive keys, so that a user's row is one index seek and one block read,
//! and a run's rows read block by block in the order written. About 30 bytes a user, where a
//! row of its own cost 122 (migration 15).
//!
//! A block's bytes before compression: for each user, its key, its `seq` (how many rows of the
//! audit log its run wrote before it) and its seven values (UniqueID, name, mail, title,
//! phone, second phone, Group IDs joined by commas), each as its length plus one (0: none)
//! then its bytes; numbers as LEB128 varints.

use super::apply::Created;
use anyhow::Context as _;
use rusqlite::{Connection, Statement};

/// How many users a block holds at most: large enough that zstd finds the repetitions of the
/// values (mail domains, titles, phone prefixes, groups), small enough that reading one user's
/// row decompresses about 100 KB.
pub(crate) const BLOCK_USERS: usize = 1024;

/// zstd's level: about 3.3 times smaller than the raw values at a few ms a block.
const LEVEL: i32 = 3;

/// One created user's `created` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedRow {
    pub user_pk: i64,
    /// How many rows of the audit log its run wrote before it.
    pub seq: i64,
    pub unique_id: Option<String>,
    pub name: String,
    pub mail: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub phone2: Option<String>,
    /// Its Group IDs joined by commas, none when it has none.
    pub groups: Option<String>,
}

impl CreatedRow {
    /// Its values as its history shows them (JSON: [`Created`]). A user an import creates is
    /// active.
    pub fn json(&self) -> String {
        Created {
            name: &self.name,
            mail: &self.mail,
            title: self.title.as_deref(),
            phone: self.phone.as_deref(),
            phone2: self.phone2.as_deref(),
            groups: self.groups.as_deref(),
            status: "active",
        }
        .json()
    }
}

/// The values of a created user as a block takes them: UniqueID, name, mail, title, phone,
/// second phone, Group IDs.
pub(crate) type Values<'a> = [Option<&'a str>; 7];

/// The blocks of one run being written: users are added in the order created (rising keys);
/// a full block is written at once, the last by [`Blocks::flush`].
pub(crate) struct Blocks<'c> {
    run: i64,
    raw: Vec<u8>,
    first: i64,
    last: i64,
    users: usize,
    insert: Statement<'c>,
}

impl<'c> Blocks<'c> {
    pub(crate) fn new(conn: &'c Connection, run: i64) -> rusqlite::Result<Self> {
        Ok(Blocks {
            run,
            raw: Vec::new(),
            first: 0,
            last: 0,
            users: 0,
            insert: conn.prepare(
                "INSERT INTO audit_created_blocks (run_id, first_pk, last_pk, users, content)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
        })
    }

    /// Add a user's row; a block full with it is written.
    pub(crate) fn push(&mut self, pk: i64, seq: i64, values: Values<'_>) -> rusqlite::Result<()> {
        if self.users == 0 {
            self.first = pk;
        }
        self.last = self.last.max(pk);
        self.users += 1;
        varint(&mut self.raw, pk as u64);
        varint(&mut self.raw, seq as u64);
        for value in values {
            match value {
                None => varint(&mut self.raw, 0),
                Some(v) => {
                    varint(&mut self.raw, v.len() as u64 + 1);
                    self.raw.extend_from_slice(v.as_bytes());
                }
            }
        }
        if self.users >= BLOCK_USERS {
            self.flush()?;
        }
        Ok(())
    }

    /// Write the block being filled, if it holds anyone.
    pub(crate) fn flush(&mut self) -> rusqlite::Result<()> {
        if self.users == 0 {
            return Ok(());
        }
        let content = zstd::bulk::compress(&self.raw, LEVEL)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        self.insert.execute(rusqlite::params![
            self.run,
            self.first,
            self.last,
            self.users as i64,
            content
        ])?;
        self.raw.clear();
        self.users = 0;
        self.last = 0;
        Ok(())
    }
}

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a block's raw bytes.
struct Cursor<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Cursor<'b> {
    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            n |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(n);
            }
        }
        None
    }

    fn text(&mut self) -> Option<Option<String>> {
        match self.bytes()? {
            None => Some(None),
            Some(bytes) => Some(Some(std::str::from_utf8(bytes).ok()?.to_string())),
        }
    }

    /// A value's bytes without copying them: none for no value.
    fn bytes(&mut self) -> Option<Option<&'b [u8]>> {
        let len = self.varint()? as usize;
        if len == 0 {
            return Some(None);
        }
        let end = self.at.checked_add(len - 1)?;
        let bytes = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(Some(bytes))
    }

    /// The next row's key and its value number `i` (0: UniqueID, 2: mail), the others skipped.
    fn key_and_value(&mut self, i: usize) -> Option<(i64, Option<&'b [u8]>)> {
        let pk = self.varint()? as i64;
        self.varint()?;
        let mut value = None;
        for at in 0..7 {
            let v = self.bytes()?;
            if at == i {
                value = v;
            }
        }
        Some((pk, value))
    }

    fn row(&mut self) -> Option<CreatedRow> {
        let (user_pk, seq) = (self.varint()? as i64, self.varint()? as i64);
        let mut values = [(); 7].map(|_| None);
        for value in &mut values {
            *value = self.text()?;
        }
        let [unique_id, name, mail, title, phone, phone2, groups] = values;
        Some(CreatedRow {
            user_pk,
            seq,
            unique_id,
            name: name.unwrap_or_default(),
            mail: mail.unwrap_or_default(),
            title,
            phone,
            phone2,
            groups,
        })
    }
}

/// A block's raw bytes, decompressed.
fn unpack(content: &[u8]) -> anyhow::Result<Vec<u8>> {
    zstd::stream::decode_all(content).context("a block of created users is unreadable")
}

/// The rows of a block, in the order written.
pub fn decode(content: &[u8]) -> anyhow::Result<Vec<CreatedRow>> {
    let raw = unpack(content)?;
    let mut cursor = Cursor { bytes: &raw, at: 0 };
    let mut rows = Vec::new();
    while cursor.at < raw.len() {
        rows.push(
            cursor
                .row()
                .context("a block of created users is unreadable")?,
        );
    }
    Ok(rows)
}

/// Each `created` row of a run, in the order created, until `each` returns false.
pub(crate) fn each_of_run(
    conn: &Connection,
    run: i64,
    mut each: impl FnMut(CreatedRow) -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let mut stmt = conn
        .prepare("SELECT content FROM audit_created_blocks WHERE run_id = ?1 ORDER BY first_pk")?;
    let mut blocks = stmt.query([run])?;
    while let Some(block) = blocks.next()? {
        for row in decode(block.get_ref(0)?.as_blob()?)? {
            if !each(row)? {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// How many users a run created, as its blocks count them.
pub(crate) fn count_of_run(conn: &Connection, run: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COALESCE(SUM(users), 0) FROM audit_created_blocks WHERE run_id = ?1",
        [run],
        |r| r.get(0),
    )
}

/// The row of user `pk` in a block, if it is there.
pub(crate) fn find(content: &[u8], pk: i64) -> anyhow::Result<Option<CreatedRow>> {
    Ok(decode(content)?.into_iter().find(|r| r.user_pk == pk))
}

/// The newest `created` row that names UniqueID `uid` (the latest run, the largest key in
/// it), as (run, user key). Reads the blocks newest first until one names it.
pub(crate) fn newest_named(conn: &Connection, uid: &str) -> anyhow::Result<Option<(i64, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT run_id, content FROM audit_created_blocks ORDER BY run_id DESC, first_pk DESC",
    )?;
    let mut blocks = stmt.query([])?;
    while let Some(block) = blocks.next()? {
        let raw = unpack(block.get_ref(1)?.as_blob()?)?;
        let mut cursor = Cursor { bytes: &raw, at: 0 };
        let mut named = None;
        while cursor.at < raw.len() {
            let (pk, id) = cursor
                .key_and_value(0)
                .context("a block of created users is unreadable")?;
            if id == Some(uid.as_bytes()) {
                named = named.max(Some(pk));
            }
        }
        if let Some(pk) = named {
            return Ok(Some((block.get(0)?, pk)));
        }
    }
    Ok(None)
}

/// Each created user's key and the address it was created with, every run's blocks read in
/// turn.
pub(crate) fn each_mail(conn: &Connection, mut each: impl FnMut(i64, &str)) -> anyhow::Result<()> {
    let mut stmt = conn.prepare("SELECT content FROM audit_created_blocks")?;
    let mut blocks = stmt.query([])?;
    while let Some(block) = blocks.next()? {
        let raw = unpack(block.get_ref(0)?.as_blob()?)?;
        let mut cursor = Cursor { bytes: &raw, at: 0 };
        while cursor.at < raw.len() {
            let (pk, mail) = cursor
                .key_and_value(2)
                .context("a block of created users is unreadable")?;
            let mail = std::str::from_utf8(mail.unwrap_or_default())
                .context("a block of created users is unreadable")?;
            each(pk, mail);
        }
    }
    Ok(())
}

/// Migration 17: the rows of `audit_created` (migration 15) into blocks, run by run in the
/// order of their keys, and that table dropped.
pub(crate) fn convert(conn: &Connection) -> anyhow::Result<()> {
    let mut read = conn.prepare(
        "SELECT run_id, user_pk, seq, unique_id, name, mail, title, phone, phone2, groups
         FROM audit_created ORDER BY run_id, user_pk",
    )?;
    let mut rows = read.query([])?;
    let mut blocks: Option<Blocks<'_>> = None;
    while let Some(r) = rows.next()? {
        let run: i64 = r.get(0)?;
        if blocks.as_ref().map(|b| b.run) != Some(run) {
            if let Some(mut done) = blocks.take() {
                done.flush()?;
            }
            blocks = Some(Blocks::new(conn, run)?);
        }
        let mut values: [Option<String>; 7] = Default::default();
        for (i, value) in values.iter_mut().enumerate() {
            *value = r.get(3 + i)?;
        }
        if let Some(b) = blocks.as_mut() {
            b.push(
                r.get(1)?,
                r.get(2)?,
                values.each_ref().map(|v| v.as_deref()),
            )?;
        }
    }
    if let Some(mut done) = blocks.take() {
        done.flush()?;
    }
    drop(rows);
    drop(read);
    conn.execute_batch("DROP TABLE audit_created")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn row(pk: i64, seq: i64, uid: Option<&str>, name: &str) -> CreatedRow {
        CreatedRow {
            user_pk: pk,
            seq,
            unique_id: uid.map(str::to_string),
            name: name.to_string(),
            mail: format!("{}@x.org", name.to_lowercase()),
            title: (pk % 2 == 0).then(|| "Nurse".to_string()),
            phone: None,
            phone2: Some(String::new()),
            groups: (pk % 3 == 0).then(|| "ER,ICU".to_string()),
        }
    }

    fn values(r: &CreatedRow) -> Values<'_> {
        [
            r.unique_id.as_deref(),
            Some(&r.name),
            Some(&r.mail),
            r.title.as_deref(),
            r.phone.as_deref(),
            r.phone2.as_deref(),
            r.groups.as_deref(),
        ]
    }

    /// Rows read back as written, across blocks; a damaged block is an error, not a panic.
    #[test]
    fn blocks_read_back_what_was_written() -> anyhow::Result<()> {
        let conn = Connection::open_in_memory()?;
        for sql in super::super::schema::MIGRATIONS {
            conn.execute_batch(sql)?;
        }
        let rows: Vec<CreatedRow> = (1..=2_100)
            .map(|pk| {
                row(
                    pk,
                    pk / 700,
                    (pk != 5).then_some("E\u{e9}\"1,\n"),
                    "Åsa Öberg",
                )
            })
            .collect();
        let mut blocks = Blocks::new(&conn, 7)?;
        for r in &rows {
            blocks.push(r.user_pk, r.seq, values(r))?;
        }
        blocks.flush()?;
        drop(blocks);
        let mut back = Vec::new();
        each_of_run(&conn, 7, |r| {
            back.push(r);
            Ok(true)
        })?;
        assert_eq!(back, rows);
        assert_eq!(count_of_run(&conn, 7)?, 2_100);
        let blocks: i64 = conn.query_row("SELECT COUNT(*) FROM audit_created_blocks", [], |r| {
            r.get(0)
        })?;
        assert_eq!(blocks, 3);
        assert!(decode(b"not a block").is_err());
        let cut = zstd::bulk::compress(&[0x85, 0x01, 0x00, 0x09, b'a'], 1)?;
        assert!(decode(&cut).is_err());
        Ok(())
    }

    /// A store of schema 16 keeps its created users' rows through migration 17: each user's
    /// history, a run's joiners and its audit rows in order read as before, and every user's
    /// row and mail key are as they were.
    #[test]
    fn migration_17_moves_created_rows_into_blocks() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("old.db");
        let conn = Connection::open(&path)?;
        for sql in &super::super::schema::MIGRATIONS[..16] {
            conn.execute_batch(sql)?;
        }
        conn.execute_batch(
            "INSERT INTO runs (id, command, started_at, finished_at, status)
             VALUES (1, 'sync', 't1', 't1', 'applied'), (2, 'sync', 't2', 't2', 'applied');
             INSERT INTO users (pk, unique_id, name, mail, mail_key, row_hash, created_at, updated_at)
             VALUES (1, 'E1', 'Ann', 'Ann@x.org', 'ann@x.org', 1, 't1', 't2');
             INSERT INTO audit (run_id, user_pk, unique_id, field, old, new, at)
             VALUES (2, 1, 'E1', 'name', 'Anna', 'Ann', 't2');",
        )?;
        let mut insert = conn.prepare(
            "INSERT INTO audit_created (run_id, user_pk, seq, unique_id, name, mail, title,
                                        phone, phone2, groups)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut want = Vec::new();
        for pk in 1..=1_500 {
            let (run, seq) = if pk <= 1_200 { (1, 0) } else { (2, 1) };
            let r = row(pk, seq, Some(&format!("E{pk}")), &format!("P{pk}"));
            let [a, b, c, d, e, f, g] = values(&r);
            insert.execute(rusqlite::params![run, pk, seq, a, b, c, d, e, f, g])?;
            want.push((run, r));
        }
        drop(insert);
        conn.pragma_update(None, "user_version", 16)?;
        drop(conn);

        let store = Store::open(&path)?;
        let old_table: i64 = store.conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'audit_created'",
            [],
            |r| r.get(0),
        )?;
        assert_eq!(old_table, 0);
        for (run, r) in want
            .iter()
            .filter(|(_, r)| [1, 1_024, 1_200, 1_201, 1_500].contains(&r.user_pk))
        {
            let found: Vec<_> = store
                .history(r.user_pk)?
                .into_iter()
                .filter(|h| h.field == "created")
                .collect();
            assert_eq!(found.len(), 1, "{}", r.user_pk);
            assert_eq!(found[0].run, Some(*run));
            assert_eq!(found[0].new.as_deref(), Some(r.json().as_str()));
        }
        let (joiners, total) = store.run_joiners(1, 3)?;
        assert_eq!(total, 1_200);
        assert_eq!(joiners[2].mail.as_deref(), Some("p3@x.org"));
        let audit = store.run_audit(2)?;
        assert_eq!(audit.len(), 301);
        assert_eq!((audit[0].field.as_str(), audit[1].user_pk), ("name", 1_201));
        assert_eq!(store.history_by_unique_id("E1300")?.len(), 1);
        assert_eq!(store.mail_key_holder("ann@x.org")?.map(|h| h.pk), Some(1));
        let row: (String, String, Option<String>, String) = store.conn.query_row(
            "SELECT mail, mail_key, updated_at, created_at FROM users WHERE pk = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        assert_eq!(
            row,
            (
                "Ann@x.org".into(),
                "ann@x.org".into(),
                Some("t2".into()),
                "t1".into()
            )
        );
        Ok(())
    }
}

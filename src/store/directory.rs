//! The planner's view of the store: keys and hashes of all imported users, rows on demand.

use super::Store;
use crate::core::plan::{Directory, Holder, Imported, Known, UserState};
use rusqlite::OptionalExtension;
use std::collections::HashSet;

pub struct StoreDirectory<'a> {
    store: &'a Store,
    loaded: Loaded,
}

/// What the planner reads of the store up front, owned: the keys, hashes and absence counters
/// of every imported user, and the Group IDs. Loaded before a view of the store is needed (so
/// beside other work on the same connection), and given to [`StoreDirectory::new`].
pub struct Loaded {
    imported: Imported,
    group_ids: HashSet<String>,
    has_users: bool,
}

impl Loaded {
    pub fn load(store: &Store) -> anyhow::Result<Self> {
        // The largest key bounds the number of users and costs one look-up (a count would scan).
        let count: usize = store
            .conn
            .query_row("SELECT max(pk) FROM users", [], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .map_or(0, |n| n.clamp(0, 1 << 24) as usize);
        let mut imported = Imported::with_capacity(count);
        // Most users are active and were not missing: the scan reads only keys and hashes (each
        // column read costs, a million times over), and the flags of the others come after.
        let mut stmt = store.conn.prepare(
            "SELECT unique_id, pk, row_hash FROM users WHERE unique_id IS NOT NULL ORDER BY pk",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let uid = r.get_ref(0)?.as_str()?;
            let known = Known {
                pk: r.get(1)?,
                hash: r.get::<_, i64>(2)? as u64,
                active: true,
                missing: 0,
                last_missing_batch: None,
            };
            imported.push(uid, known);
        }
        drop(rows);
        // The deactivated and missing users, in the same order (manual ones are not listed).
        let mut stmt = store.conn.prepare(
            "SELECT pk, active, missing_count, last_missing_batch
             FROM users INDEXED BY users_unusual
             WHERE active = 0 OR missing_count > 0 ORDER BY pk",
        )?;
        let mut rows = stmt.query([])?;
        let mut listed = imported.values_mut().peekable();
        while let Some(r) = rows.next()? {
            let pk: i64 = r.get(0)?;
            while listed.next_if(|k| k.pk < pk).is_some() {}
            if let Some(k) = listed.next_if(|k| k.pk == pk) {
                k.active = r.get(1)?;
                k.missing = r.get(2)?;
                k.last_missing_batch = r.get(3)?;
            }
        }
        drop(listed);
        Ok(Loaded {
            imported,
            group_ids: store.managed_group_ids()?,
            has_users: store.has_users()?,
        })
    }
}

impl<'a> StoreDirectory<'a> {
    /// Read the keys, hashes and absence counters of every imported user, and the Group IDs.
    pub fn load(store: &'a Store) -> anyhow::Result<Self> {
        Ok(StoreDirectory::new(store, Loaded::load(store)?))
    }

    /// The store this is a view of.
    pub fn store(&self) -> &'a Store {
        self.store
    }

    /// The view of a store from what was loaded of it (with no write between).
    pub fn new(store: &'a Store, loaded: Loaded) -> Self {
        StoreDirectory { store, loaded }
    }
}

/// A user's stored fields and status, without memberships (`Store::user_state` adds those).
pub(crate) fn stored_fields(conn: &rusqlite::Connection, pk: i64) -> rusqlite::Result<UserState> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {FIELDS} FROM users WHERE pk = ?1"))?;
    stmt.query_row([pk], fields_of)
}

/// The columns [`fields_of`] reads, first in a row.
const FIELDS: &str = "unique_id, name, mail, title, phone, phone2, active";

fn fields_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserState> {
    Ok(UserState {
        unique_id: r.get(0)?,
        name: r.get(1)?,
        mail: r.get(2)?,
        title: r.get(3)?,
        phone: r.get(4)?,
        phone2: r.get(5)?,
        groups: Vec::new(),
        active: r.get(6)?,
    })
}

impl StoreDirectory<'_> {
    /// Take these Group IDs as known: groups the apply creates (`import.unknown_groups`).
    pub fn assume_groups(&mut self, ids: impl IntoIterator<Item = String>) {
        self.loaded.group_ids.extend(ids);
    }
}

impl Store {
    /// The Group IDs of groups that imports manage.
    pub fn managed_group_ids(&self) -> anyhow::Result<HashSet<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT group_id FROM groups WHERE group_id IS NOT NULL")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// False for a store without users, imported or manual (then an apply is a first load).
    pub(crate) fn has_users(&self) -> rusqlite::Result<bool> {
        self.conn
            .query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |r| r.get(0))
    }

    /// The import-managed state of one user, in one statement: the planner reads one for
    /// every user whose hash differs.
    pub fn user_state(&self, pk: i64) -> anyhow::Result<UserState> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {FIELDS},
                    (SELECT json_group_array(g.group_id) FROM memberships m
                     JOIN groups g ON g.pk = m.group_pk
                     WHERE m.user_pk = u.pk AND g.group_id IS NOT NULL)
             FROM users u WHERE pk = ?1"
        ))?;
        let (mut state, groups) =
            stmt.query_row([pk], |r| Ok((fields_of(r)?, r.get::<_, String>(7)?)))?;
        state.groups = serde_json::from_str(&groups)?;
        state.groups.sort_unstable();
        Ok(state)
    }
}

impl Directory for StoreDirectory<'_> {
    type Error = anyhow::Error;

    fn imported(&self) -> &Imported {
        &self.loaded.imported
    }

    fn group_ids(&self) -> &HashSet<String> {
        &self.loaded.group_ids
    }

    fn has_users(&self) -> bool {
        self.loaded.has_users
    }

    fn user(&self, pk: i64) -> anyhow::Result<UserState> {
        self.store.user_state(pk)
    }

    fn mail_holder(&self, key: &str) -> anyhow::Result<Option<Holder>> {
        let mut stmt = self.store.conn.prepare_cached(
            "SELECT pk, unique_id, active FROM users WHERE COALESCE(mail_key, mail) = ?1",
        )?;
        Ok(stmt
            .query_row([key], |r| {
                Ok(Holder {
                    pk: r.get(0)?,
                    unique_id: r.get(1)?,
                    active: r.get(2)?,
                })
            })
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The load reads keys and hashes in one scan and the flags of the unusual users through
    /// their index: the same as reading every column of every imported user.
    #[test]
    fn the_load_has_every_users_flags() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("roster.db"))?;
        // (UniqueID or manual, active, missing, last missing batch): interleaved, and unusual
        // manual users among them, which the load leaves out.
        let users: &[(Option<&str>, bool, u32, Option<i64>)] = &[
            (Some("E1"), true, 0, None),
            (Some("E2"), false, 0, None),
            (None, false, 0, None),
            (Some("E3"), true, 2, Some(7)),
            (Some("E4"), true, 0, None),
            (None, true, 0, None),
            (Some("E5"), false, 1, Some(3)),
            (Some("E6"), true, 0, None),
            (None, false, 0, None),
        ];
        for (i, (uid, active, missing, last)) in users.iter().enumerate() {
            store.conn.execute(
                "INSERT INTO users (unique_id, name, mail, mail_key, active, row_hash,
                 missing_count, last_missing_batch, created_at, updated_at)
                 VALUES (?1, 'N', ?2, ?2, ?3, ?4, ?5, ?6, 'now', 'now')",
                rusqlite::params![
                    uid,
                    format!("u{i}@example.org"),
                    active,
                    i as i64 * 11,
                    missing,
                    last
                ],
            )?;
        }
        let mut want = Vec::new();
        let mut stmt = store.conn.prepare(
            "SELECT unique_id, pk, row_hash, active, missing_count, last_missing_batch
             FROM users WHERE unique_id IS NOT NULL ORDER BY pk",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let known = Known {
                pk: r.get(1)?,
                hash: r.get::<_, i64>(2)? as u64,
                active: r.get(3)?,
                missing: r.get(4)?,
                last_missing_batch: r.get(5)?,
            };
            want.push((r.get::<_, String>(0)?, known));
        }
        let loaded = Loaded::load(&store)?;
        let got: Vec<(String, Known)> = loaded
            .imported
            .iter()
            .map(|(uid, k)| (uid.to_string(), *k))
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            got.iter()
                .filter(|(_, k)| !k.active || k.missing > 0)
                .count(),
            3
        );
        Ok(())
    }
}

//! Groups: those with a Group ID are managed by imports; those without one by hand.

use super::{now, Store};
use crate::error;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// A group as `groups list` prints it (SPEC §6).
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    #[serde(skip)]
    pub pk: i64,
    pub id: Option<String>,
    pub name: String,
    /// Active members.
    pub members: i64,
    /// Deactivated users still in the group.
    pub deactivated: i64,
}

/// What `groups import` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GroupImport {
    pub added: usize,
    pub renamed: usize,
    pub unchanged: usize,
}

/// A group from a row of `pk, group_id, name`, its members not counted yet.
fn uncounted(r: &rusqlite::Row<'_>) -> rusqlite::Result<GroupView> {
    Ok(GroupView {
        pk: r.get(0)?,
        id: r.get(1)?,
        name: r.get(2)?,
        members: 0,
        deactivated: 0,
    })
}

impl Store {
    pub fn groups(&self) -> anyhow::Result<Vec<GroupView>> {
        let mut stmt = self.conn.prepare(
            "SELECT pk, group_id, name FROM groups
             ORDER BY group_id IS NULL, group_id, name",
        )?;
        let rows = stmt.query_map([], uncounted)?;
        let mut groups: Vec<GroupView> = rows.collect::<Result<_, _>>()?;
        self.count_members(&mut groups, None)?;
        Ok(groups)
    }

    /// Count the members of `groups`, active and deactivated apart, in one pass over the
    /// memberships (they have no index by group, and SQLite's GROUP BY would sort them all);
    /// with `only`, of that group alone.
    fn count_members(&self, groups: &mut [GroupView], only: Option<i64>) -> anyhow::Result<()> {
        let at: std::collections::HashMap<i64, usize> =
            groups.iter().enumerate().map(|(i, g)| (g.pk, i)).collect();
        let mut stmt = self.conn.prepare(
            "SELECT m.group_pk, u.active FROM memberships m JOIN users u ON u.pk = m.user_pk
             WHERE ?1 IS NULL OR m.group_pk = ?1",
        )?;
        let mut rows = stmt.query([only])?;
        while let Some(r) = rows.next()? {
            if let Some(&i) = at.get(&r.get::<_, i64>(0)?) {
                if r.get::<_, bool>(1)? {
                    groups[i].members += 1;
                } else {
                    groups[i].deactivated += 1;
                }
            }
        }
        Ok(())
    }

    /// Find a group by its Group ID, else by its name; its members are counted (one pass over
    /// the memberships, which have no index by group).
    pub fn find_group(&self, group: &str) -> anyhow::Result<Option<GroupView>> {
        let by_id = self
            .conn
            .query_row(
                "SELECT pk, group_id, name FROM groups WHERE group_id = ?1",
                [group],
                uncounted,
            )
            .optional()?;
        let found = match by_id {
            Some(g) => Some(g),
            None => self
                .conn
                .query_row(
                    "SELECT pk, group_id, name FROM groups WHERE name = ?1",
                    [group],
                    uncounted,
                )
                .optional()?,
        };
        let Some(mut found) = found else {
            return Ok(None);
        };
        let pk = found.pk;
        self.count_members(std::slice::from_mut(&mut found), Some(pk))?;
        Ok(Some(found))
    }

    pub fn require_group(&self, group: &str) -> anyhow::Result<GroupView> {
        self.find_group(group)?
            .ok_or_else(|| error::usage(format!("no group has the ID or name `{group}`")))
    }

    fn check_name_free(&self, name: &str) -> anyhow::Result<()> {
        let taken: Option<i64> = self
            .conn
            .query_row("SELECT pk FROM groups WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?;
        if taken.is_some() {
            return Err(error::usage(format!(
                "a group named `{name}` already exists"
            )));
        }
        Ok(())
    }

    /// Add a group, as a run of its own (`groups add`) with its audit row.
    pub fn add_group(&self, id: Option<&str>, name: &str) -> anyhow::Result<i64> {
        if let Some(id) = id {
            if self
                .conn
                .query_row("SELECT 1 FROM groups WHERE group_id = ?1", [id], |_| Ok(()))
                .optional()?
                .is_some()
            {
                return Err(error::usage(format!(
                    "a group with the ID `{id}` already exists"
                )));
            }
        }
        self.check_name_free(name)?;
        let tx = self.conn.unchecked_transaction()?;
        let run = self.manual_run(&tx, "groups add")?;
        let at = now();
        tx.execute(
            "INSERT INTO groups (group_id, name, created_at) VALUES (?1, ?2, ?3)",
            params![id, name, at],
        )?;
        let pk = tx.last_insert_rowid();
        audit_group(&tx, run, pk, id, "created", None, Some(name), None)?;
        tx.commit()?;
        Ok(pk)
    }

    /// Rename a group, as a run of its own (`groups rename`) with its audit row.
    pub fn rename_group(&self, pk: i64, name: &str) -> anyhow::Result<()> {
        self.check_name_free(name)?;
        let tx = self.conn.unchecked_transaction()?;
        let run = self.manual_run(&tx, "groups rename")?;
        let (id, old): (Option<String>, String) = tx.query_row(
            "SELECT group_id, name FROM groups WHERE pk = ?1",
            [pk],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        tx.execute(
            "UPDATE groups SET name = ?2 WHERE pk = ?1",
            params![pk, name],
        )?;
        audit_group(
            &tx,
            run,
            pk,
            id.as_deref(),
            "name",
            Some(&old),
            Some(name),
            None,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Remove a group and its memberships, as a run of its own (`groups remove`): the group's
    /// audit row, and one row per member whose memberships change, so that a revert brings
    /// both back. Members' hashes are brought up to date.
    pub fn remove_group(&mut self, pk: i64) -> anyhow::Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        let run = self.manual_run(&tx, "groups remove")?;
        let (id, name, created_at): (Option<String>, String, String) = tx.query_row(
            "SELECT group_id, name, created_at FROM groups WHERE pk = ?1",
            [pk],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let members: Vec<(i64, Option<String>)> = {
            let mut stmt = tx.prepare(
                "SELECT m.user_pk, u.unique_id FROM memberships m JOIN users u ON u.pk = m.user_pk
                 WHERE m.group_pk = ?1 ORDER BY m.user_pk",
            )?;
            let rows = stmt.query_map([pk], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let at = now();
        for (user, uid) in &members {
            let (field, old, new) = match &id {
                Some(gid) => {
                    let before = self.user_state(*user)?.groups;
                    let after: Vec<&String> = before.iter().filter(|g| *g != gid).collect();
                    let join = |v: Vec<&String>| {
                        (!v.is_empty())
                            .then(|| v.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(","))
                    };
                    ("groups", join(before.iter().collect()), join(after))
                }
                None => {
                    let before = Self::manual_groups_of(&tx, *user)?;
                    let after: Vec<&String> = before.iter().filter(|g| **g != name).collect();
                    (
                        "manual_groups",
                        Some(serde_json::to_string(&before)?),
                        Some(serde_json::to_string(&after)?),
                    )
                }
            };
            tx.execute(
                super::runs::INSERT_AUDIT,
                params![run, user, uid, field, old, new, at],
            )?;
        }
        audit_group(
            &tx,
            run,
            pk,
            id.as_deref(),
            "removed",
            Some(&name),
            None,
            Some(&created_at),
        )?;
        tx.execute("DELETE FROM memberships WHERE group_pk = ?1", [pk])?;
        tx.execute("DELETE FROM groups WHERE pk = ?1", [pk])?;
        for (user, _) in members {
            let state = self.user_state(user)?;
            tx.execute(
                "UPDATE users SET row_hash = ?2 WHERE pk = ?1",
                params![user, state.hash() as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The names of the manual groups a user is in, sorted, as the audit log holds them.
    pub(crate) fn manual_groups_of(
        conn: &rusqlite::Connection,
        user: i64,
    ) -> anyhow::Result<Vec<String>> {
        let mut stmt = conn.prepare_cached(
            "SELECT g.name FROM memberships m JOIN groups g ON g.pk = m.group_pk
             WHERE m.user_pk = ?1 AND g.group_id IS NULL ORDER BY g.name",
        )?;
        let rows = stmt.query_map([user], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Add and remove members of a manual group in one run with an audit row per user whose
    /// manual groups change (`manual_groups`, old → new as JSON arrays of names).
    pub fn set_members(&self, group: i64, add: &[i64], remove: &[i64]) -> anyhow::Result<usize> {
        let tx = self.conn.unchecked_transaction()?;
        let run = self.manual_run(&tx, "groups members")?;
        let at = now();
        let mut changed = 0;
        for (users, member) in [(add, true), (remove, false)] {
            for &user in users {
                let before = Self::manual_groups_of(&tx, user)?;
                let has = tx
                    .query_row(
                        "SELECT 1 FROM memberships WHERE user_pk = ?1 AND group_pk = ?2",
                        [user, group],
                        |_| Ok(()),
                    )
                    .optional()?
                    .is_some();
                if has == member {
                    continue;
                }
                let mut after = before.clone();
                let name: String =
                    tx.query_row("SELECT name FROM groups WHERE pk = ?1", [group], |r| {
                        r.get(0)
                    })?;
                if member {
                    after.push(name);
                    after.sort();
                } else {
                    after.retain(|n| *n != name);
                }
                let uid: Option<String> =
                    tx.query_row("SELECT unique_id FROM users WHERE pk = ?1", [user], |r| {
                        r.get(0)
                    })?;
                tx.execute(
                    super::runs::INSERT_AUDIT,
                    params![
                        run,
                        user,
                        uid,
                        "manual_groups",
                        serde_json::to_string(&before)?,
                        serde_json::to_string(&after)?,
                        at
                    ],
                )?;
                if member {
                    tx.execute(
                        "INSERT INTO memberships (user_pk, group_pk) VALUES (?1, ?2)",
                        [user, group],
                    )?;
                } else {
                    tx.execute(
                        "DELETE FROM memberships WHERE user_pk = ?1 AND group_pk = ?2",
                        [user, group],
                    )?;
                }
                changed += 1;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Add new groups and rename known ones, in one transaction, as a run of its own
    /// (`groups import`) with an audit row per group it adds or renames.
    pub fn import_groups(
        &mut self,
        groups: &[(String, Option<String>)],
    ) -> anyhow::Result<GroupImport> {
        let tx = self.conn.unchecked_transaction()?;
        let run = self.manual_run(&tx, "groups import")?;
        let mut result = GroupImport::default();
        let at = now();
        for (id, name) in groups {
            let known: Option<(i64, String)> = tx
                .query_row(
                    "SELECT pk, name FROM groups WHERE group_id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let name_owner: Option<i64> = match name {
                Some(n) => tx
                    .query_row("SELECT pk FROM groups WHERE name = ?1", [n], |r| r.get(0))
                    .optional()?,
                None => None,
            };
            match known {
                Some((pk, old)) => match name {
                    Some(n) if *n != old => {
                        if name_owner.is_some_and(|o| o != pk) {
                            return Err(error::usage(format!(
                                "cannot rename group `{id}` to `{n}`: another group has that name"
                            )));
                        }
                        tx.execute("UPDATE groups SET name = ?2 WHERE pk = ?1", params![pk, n])?;
                        audit_group(&tx, run, pk, Some(id), "name", Some(&old), Some(n), None)?;
                        result.renamed += 1;
                    }
                    _ => result.unchanged += 1,
                },
                None => {
                    let n = name.clone().unwrap_or_else(|| id.clone());
                    if name_owner.is_some()
                        || tx
                            .query_row("SELECT 1 FROM groups WHERE name = ?1", [&n], |_| Ok(()))
                            .optional()?
                            .is_some()
                    {
                        return Err(error::usage(format!(
                            "cannot add group `{id}`: another group is named `{n}`"
                        )));
                    }
                    tx.execute(
                        "INSERT INTO groups (group_id, name, created_at) VALUES (?1, ?2, ?3)",
                        params![id, n, at],
                    )?;
                    let pk = tx.last_insert_rowid();
                    audit_group(&tx, run, pk, Some(id), "created", None, Some(&n), None)?;
                    result.added += 1;
                }
            }
        }
        tx.commit()?;
        Ok(result)
    }
}

/// Write a group's audit row (`group_audit`, migration 7): `created` (new: its name), `name`
/// (old → new) or `removed` (old: its name, with its `created_at`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn audit_group(
    conn: &rusqlite::Connection,
    run: i64,
    pk: i64,
    group_id: Option<&str>,
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
    created_at: Option<&str>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO group_audit (run_id, group_pk, group_id, field, old, new, created_at, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        run,
        pk,
        group_id,
        field,
        old,
        new,
        created_at,
        now()
    ])?;
    Ok(())
}

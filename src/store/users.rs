//! Users as operators see them: listing, lookup, history, and manual users.

use super::{now, Store};
use crate::core::plan::diff_fields;
use crate::core::{fold, mail, text};
use crate::error;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use std::collections::HashMap;

/// A user as `users list` and `users show` print it (SPEC §6).
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    #[serde(skip)]
    pub pk: i64,
    pub unique_id: Option<String>,
    pub name: String,
    /// Empty (null in JSON) when the address was given to another user.
    #[serde(serialize_with = "empty_as_null")]
    pub mail: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub phone2: Option<String>,
    pub groups: Vec<String>,
    pub manual_groups: Vec<String>,
    pub status: &'static str,
    pub source: &'static str,
    pub created_at: String,
    pub updated_at: String,
    /// The newest invitation: null (never invited), "pending", {"sent": time}, "sending"
    /// (a run stopped while sending it) or "failed". Filled by `users list`/`show` only.
    pub invitation: serde_json::Value,
}

fn empty_as_null<S: serde::Serializer>(value: &str, s: S) -> Result<S::Ok, S::Error> {
    if value.is_empty() {
        s.serialize_none()
    } else {
        s.serialize_str(value)
    }
}

/// One row of a user's history.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub at: String,
    pub run: Option<i64>,
    pub unique_id: Option<String>,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// The run's command, who ran it and why (none for rows older than runs of manual edits).
    pub command: Option<String>,
    pub by: Option<String>,
    pub reason: Option<String>,
    /// The revert that undid this row's run, while that revert stands.
    pub reverted_by: Option<i64>,
}

/// Fields of a manual user, already checked.
#[derive(Debug, Clone, Default)]
pub struct ManualFields {
    pub name: Option<String>,
    pub mail: Option<String>,
    /// `Some(None)` clears the value.
    pub title: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub phone2: Option<Option<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    Active,
    Deactivated,
}

impl Store {
    /// Find a user by UniqueID, else by mail address (case-insensitive).
    pub fn find_user(&self, user: &str) -> anyhow::Result<Option<i64>> {
        let by_id = self
            .conn
            .query_row(
                "SELECT pk FROM users WHERE unique_id = ?1",
                [user.trim()],
                |r| r.get(0),
            )
            .optional()?;
        if by_id.is_some() {
            return Ok(by_id);
        }
        Ok(self
            .conn
            .query_row(
                "SELECT pk FROM users WHERE COALESCE(mail_key, mail) = ?1",
                [mail::key(user.trim())],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Find a user or fail with a usage error that names what was looked for.
    pub fn require_user(&self, user: &str) -> anyhow::Result<i64> {
        self.find_user(user)?
            .ok_or_else(|| error::usage(format!("no user has the UniqueID or mail `{user}`")))
    }

    /// Find a user by UniqueID, mail, or else a whole name (ignoring case and accents) that one
    /// user has. Several users of that name are a usage error that lists them.
    pub fn find_user_or_name(&self, user: &str) -> anyhow::Result<Option<i64>> {
        if let Some(pk) = self.find_user(user)? {
            return Ok(Some(pk));
        }
        let want = fold_name(user);
        if want.is_empty() {
            return Ok(None);
        }
        let mut found: Vec<(i64, Option<String>, String, String)> = Vec::new();
        let mut stmt = self
            .conn
            .prepare("SELECT pk, unique_id, name, mail FROM users ORDER BY unique_id IS NULL, unique_id, COALESCE(mail_key, mail)")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let name: String = r.get(2)?;
            if fold_name(&name) == want {
                found.push((r.get(0)?, r.get(1)?, name, r.get(3)?));
            }
        }
        match found.len() {
            0 => Ok(None),
            1 => Ok(Some(found[0].0)),
            n => Err(candidates(user, n, &found)),
        }
    }

    /// [`Store::find_user_or_name`], or a usage error that names what was looked for.
    pub fn require_user_or_name(&self, user: &str) -> anyhow::Result<i64> {
        self.find_user_or_name(user)?
            .ok_or_else(|| error::usage(format!("no user has the UniqueID, mail or name `{user}`")))
    }

    /// Users, with their groups, ordered by UniqueID (manual users last, by mail).
    pub fn users(
        &self,
        filter: Filter,
        group: Option<i64>,
        only: Option<i64>,
    ) -> anyhow::Result<Vec<UserView>> {
        let mut memberships: HashMap<i64, (Vec<String>, Vec<String>)> = HashMap::new();
        {
            // In the order memberships are kept (by user), each user's lists sorted here:
            // memberships have no index by group, and an ORDER BY of the groups would sort
            // every membership of the store at once.
            const GROUPS: &str = "SELECT m.user_pk, g.group_id, g.name
                                  FROM memberships m JOIN groups g ON g.pk = m.group_pk";
            let mut stmt = match only {
                Some(_) => self
                    .conn
                    .prepare(&format!("{GROUPS} WHERE m.user_pk = ?1"))?,
                None => self.conn.prepare(GROUPS)?,
            };
            let mut rows = match only {
                Some(pk) => stmt.query([pk])?,
                None => stmt.query([])?,
            };
            while let Some(r) = rows.next()? {
                let entry = memberships.entry(r.get(0)?).or_default();
                match r.get::<_, Option<String>>(1)? {
                    Some(id) => entry.0.push(id),
                    None => entry.1.push(r.get(2)?),
                }
            }
            for (ids, names) in memberships.values_mut() {
                ids.sort_unstable();
                names.sort_unstable();
            }
        }
        let mut stmt = self.conn.prepare(
            "SELECT pk, unique_id, name, mail, title, phone, phone2, active, created_at, COALESCE(updated_at, created_at) FROM users u
             WHERE (?1 IS NULL OR active = ?1)
               AND (?2 IS NULL OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_pk = u.pk AND m.group_pk = ?2))
               AND (?3 IS NULL OR pk = ?3)
             ORDER BY unique_id IS NULL, unique_id, COALESCE(mail_key, mail)",
        )?;
        let active = match filter {
            Filter::All => None,
            Filter::Active => Some(true),
            Filter::Deactivated => Some(false),
        };
        let rows = stmt.query_map(params![active, group, only], |r| {
            let pk: i64 = r.get(0)?;
            let unique_id: Option<String> = r.get(1)?;
            Ok(UserView {
                pk,
                source: if unique_id.is_some() {
                    "import"
                } else {
                    "manual"
                },
                unique_id,
                name: r.get(2)?,
                mail: r.get(3)?,
                title: r.get(4)?,
                phone: r.get(5)?,
                phone2: r.get(6)?,
                groups: Vec::new(),
                manual_groups: Vec::new(),
                status: if r.get(7)? { "active" } else { "deactivated" },
                created_at: r.get(8)?,
                updated_at: r.get(9)?,
                invitation: serde_json::Value::Null,
            })
        })?;
        let mut users: Vec<UserView> = rows.collect::<Result<_, _>>()?;
        for u in &mut users {
            if let Some((ids, names)) = memberships.remove(&u.pk) {
                u.groups = ids;
                u.manual_groups = names;
            }
        }
        Ok(users)
    }

    pub fn user(&self, pk: i64) -> anyhow::Result<UserView> {
        self.users(Filter::All, None, Some(pk))?
            .pop()
            .ok_or_else(|| anyhow::anyhow!("user {pk} vanished"))
    }

    /// The audit log of a user, oldest first: its `created` row (a user an import created has
    /// it in a block of its run's, [`super::created`]), then its changes.
    pub fn history(&self, pk: i64) -> anyhow::Result<Vec<AuditRow>> {
        let mut rows = self.created_row(pk)?;
        let mut stmt = self
            .conn
            .prepare("SELECT a.at, a.run_id, a.unique_id, a.field, a.old, a.new, r.command, r.by_user, r.reason
                      FROM audit a LEFT JOIN runs r ON r.id = a.run_id
                      WHERE a.user_pk = ?1 AND a.field != 'missing_count' ORDER BY a.id")?;
        let changes = stmt.query_map([pk], |r| {
            Ok(AuditRow {
                at: r.get(0)?,
                run: r.get(1)?,
                unique_id: r.get(2)?,
                field: r.get(3)?,
                old: r.get(4)?,
                new: r.get(5)?,
                command: r.get(6)?,
                by: r.get(7)?,
                reason: r.get(8)?,
                reverted_by: None,
            })
        })?;
        for row in changes {
            rows.push(row?);
        }
        // Each run's revert, looked up once: a history has many rows of few runs.
        let mut reverted = std::collections::HashMap::new();
        for row in &mut rows {
            if let Some(run) = row.run {
                let by = match reverted.get(&run) {
                    Some(by) => *by,
                    None => *reverted.entry(run).or_insert(self.reverted_by(run)?),
                };
                row.reverted_by = by;
            }
        }
        Ok(rows)
    }

    /// The `created` row of a user an import created, with its run's time and who ran it. Its
    /// run is found among the runs (few), its block by one seek in each ([`super::created`]).
    fn created_row(&self, pk: i64) -> anyhow::Result<Vec<AuditRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.finished_at, b.run_id, r.command, r.by_user, r.reason, b.content
             FROM runs r CROSS JOIN audit_created_blocks b
               ON b.run_id = r.id
              AND b.first_pk = (SELECT MAX(first_pk) FROM audit_created_blocks
                                WHERE run_id = r.id AND first_pk <= ?1)
             WHERE b.last_pk >= ?1",
        )?;
        let mut blocks = stmt.query([pk])?;
        let mut rows = Vec::new();
        while let Some(r) = blocks.next()? {
            let Some(created) = super::created::find(r.get_ref(5)?.as_blob()?, pk)? else {
                continue;
            };
            rows.push(AuditRow {
                at: r.get(0)?,
                run: r.get(1)?,
                unique_id: created.unique_id.clone(),
                field: "created".to_string(),
                old: None,
                new: Some(created.json()),
                command: r.get(2)?,
                by: r.get(3)?,
                reason: r.get(4)?,
                reverted_by: None,
            });
        }
        Ok(rows)
    }

    /// The history of a deleted user, found by its UniqueID in the audit log: the user of the
    /// newest row that names it (a `created` row after the changes of its run).
    pub fn history_by_unique_id(&self, uid: &str) -> anyhow::Result<Vec<AuditRow>> {
        let changed: Option<(i64, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT user_pk, run_id FROM audit WHERE unique_id = ?1 ORDER BY id DESC LIMIT 1",
                [uid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let created = super::created::newest_named(&self.conn, uid)?;
        // The later run's; a run's `created` row counts after its changes (a change row of no
        // run is older than any run).
        let pk = match (changed, created) {
            (Some((pk, Some(run))), Some((created_run, _))) if run > created_run => Some(pk),
            (_, Some((_, pk))) => Some(pk),
            (Some((pk, _)), None) => Some(pk),
            (None, None) => None,
        };
        match pk {
            Some(pk) => self.history(pk),
            None => Ok(Vec::new()),
        }
    }

    /// The users who ever had address `mail_addr` (compared by its key, as the store compares
    /// addresses), in the order they were created: those whose log holds it as a value a
    /// change took or left (`mail` rows, a deletion's among them) or as the value they were
    /// created with (their run's blocks, [`super::created`], or in an older store a `created`
    /// row of the log). The log is read whole, as a history is (no index by user or value).
    pub fn former_holders(&self, mail_addr: &str) -> anyhow::Result<Vec<i64>> {
        let key = mail::key(mail_addr.trim());
        let is_key = |m: &str| !m.is_empty() && mail::key(m) == key;
        let mut pks = std::collections::BTreeSet::new();
        let mut stmt = self.conn.prepare(
            "SELECT user_pk, field, old, new FROM audit WHERE field IN ('mail', 'created')",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (old, new): (Option<String>, Option<String>) = (r.get(2)?, r.get(3)?);
            let held = if r.get_ref(1)?.as_str()? == "created" {
                let created = new.and_then(|n| serde_json::from_str::<serde_json::Value>(&n).ok());
                created.is_some_and(|c| c["mail"].as_str().is_some_and(is_key))
            } else {
                old.as_deref().is_some_and(is_key) || new.as_deref().is_some_and(is_key)
            };
            if held {
                pks.insert(r.get::<_, i64>(0)?);
            }
        }
        super::created::each_mail(&self.conn, |pk, m| {
            if is_key(m) {
                pks.insert(pk);
            }
        })?;
        Ok(pks.into_iter().collect())
    }

    fn check_mail_free(&self, mail_addr: &str, except: Option<i64>) -> anyhow::Result<()> {
        let holder: Option<(i64, Option<String>)> = self
            .conn
            .query_row(
                "SELECT pk, unique_id FROM users WHERE COALESCE(mail_key, mail) = ?1",
                [mail::key(mail_addr)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match holder {
            Some((pk, uid)) if Some(pk) != except => Err(error::usage(format!(
                "the mail `{mail_addr}` already belongs to {}",
                uid.map_or_else(|| "a manual user".to_string(), |u| format!("the user {u}"))
            ))),
            _ => Ok(()),
        }
    }

    /// Add a manual user (no UniqueID); returns its key.
    pub fn add_manual_user(
        &mut self,
        name: &str,
        mail_addr: &str,
        f: &ManualFields,
    ) -> anyhow::Result<i64> {
        self.check_mail_free(mail_addr, None)?;
        let tx = self.conn.unchecked_transaction()?;
        let at = now();
        let title = f.title.clone().flatten();
        let phone = f.phone.clone().flatten();
        let phone2 = f.phone2.clone().flatten();
        let pk = super::next_user_pk(&tx)?;
        tx.execute(
            "INSERT INTO users (unique_id, name, mail, mail_key, title, phone, phone2, active, row_hash, created_at, updated_at, pk)
             VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, 1, 0, ?7, ?7, ?8)",
            params![name, mail_addr, mail::key(mail_addr), title, phone, phone2, at, pk],
        )?;
        let state = crate::core::plan::UserState {
            unique_id: None,
            name: name.into(),
            mail: mail_addr.into(),
            title,
            phone,
            phone2,
            groups: Vec::new(),
            active: true,
        };
        let values: serde_json::Map<String, serde_json::Value> = diff_fields(None, &state)
            .into_iter()
            .filter_map(|f| Some((f.field.to_string(), serde_json::Value::String(f.new?))))
            .collect();
        let run = self.manual_run(&tx, "users add")?;
        tx.execute(
            "INSERT INTO audit (run_id, user_pk, unique_id, field, old, new, at) VALUES (?4, ?1, NULL, 'created', NULL, ?2, ?3)",
            params![pk, serde_json::Value::Object(values).to_string(), at, run],
        )?;
        tx.execute(
            "UPDATE users SET row_hash = ?2 WHERE pk = ?1",
            params![pk, state.hash() as i64],
        )?;
        tx.commit()?;
        Ok(pk)
    }

    /// Change fields of a user by hand; the caller has checked which fields it may change.
    pub fn edit_user(&mut self, pk: i64, f: &ManualFields) -> anyhow::Result<usize> {
        // SQLite's write lock first, then the reads: the old values in the audit rows are the
        // ones this edit replaces, and no other writer commits between the read and the write.
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        if let Some(m) = &f.mail {
            self.check_mail_free(m, Some(pk))?;
        }
        let old = self.user_state(pk)?;
        let mut new = old.clone();
        if let Some(n) = &f.name {
            new.name = n.clone();
        }
        if let Some(m) = &f.mail {
            new.mail = m.clone();
        }
        if let Some(t) = &f.title {
            new.title = t.clone();
        }
        if let Some(p) = &f.phone {
            new.phone = p.clone();
        }
        if let Some(p) = &f.phone2 {
            new.phone2 = p.clone();
        }
        let changes = diff_fields(Some(&old), &new);
        if changes.is_empty() {
            return Ok(0);
        }
        let at = now();
        let run = self.manual_run(&tx, "users edit")?;
        for c in &changes {
            tx.execute(
                super::runs::INSERT_AUDIT,
                params![run, pk, old.unique_id, c.field, c.old, c.new, at],
            )?;
        }
        // Only the columns this edit changes are written.
        for c in &changes {
            match c.field {
                "name" => tx.execute(
                    "UPDATE users SET name = ?2 WHERE pk = ?1",
                    params![pk, new.name],
                )?,
                "mail" => tx.execute(
                    "UPDATE users SET mail = ?2, mail_key = ?3 WHERE pk = ?1",
                    params![pk, new.mail, mail::key(&new.mail)],
                )?,
                "title" => tx.execute(
                    "UPDATE users SET title = ?2 WHERE pk = ?1",
                    params![pk, new.title],
                )?,
                "phone" => tx.execute(
                    "UPDATE users SET phone = ?2 WHERE pk = ?1",
                    params![pk, new.phone],
                )?,
                "phone2" => tx.execute(
                    "UPDATE users SET phone2 = ?2 WHERE pk = ?1",
                    params![pk, new.phone2],
                )?,
                _ => 0,
            };
        }
        tx.execute(
            "UPDATE users SET row_hash = ?2, updated_at = ?3 WHERE pk = ?1",
            params![pk, new.hash() as i64, at],
        )?;
        tx.commit()?;
        Ok(changes.len())
    }

    /// Delete a manual user (its audit rows stay for `store.keep_history` days).
    pub fn remove_manual_user(&mut self, pk: i64) -> anyhow::Result<()> {
        let old = self.user_state(pk)?;
        let tx = self.conn.unchecked_transaction()?;
        let at = now();
        let run = self.manual_run(&tx, "users remove")?;
        // Every value goes into the log, as an import's deletion writes it, so that a revert
        // can bring the user back.
        let gone = crate::core::plan::UserState {
            active: false,
            ..Default::default()
        };
        for f in diff_fields(Some(&old), &gone) {
            let new = if f.field == "status" {
                Some("deleted")
            } else {
                None
            };
            tx.execute(
                super::runs::INSERT_AUDIT,
                params![run, pk, old.unique_id, f.field, f.old, new, at],
            )?;
        }
        tx.execute("DELETE FROM users WHERE pk = ?1", [pk])?;
        tx.commit()?;
        Ok(())
    }

    /// Call `each` with every user of the filter in the order of `users list`, one row at a
    /// time, so that a million users are never held at once. Each user's groups come with its
    /// row (the memberships are read through their primary key).
    pub fn each_user(
        &self,
        filter: Filter,
        group: Option<i64>,
        mut each: impl FnMut(UserView) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT pk, unique_id, name, mail, title, phone, phone2, active, created_at, COALESCE(updated_at, created_at),
                    (SELECT group_concat(group_id, char(31)) FROM
                        (SELECT g.group_id FROM memberships m JOIN groups g ON g.pk = m.group_pk
                         WHERE m.user_pk = u.pk AND g.group_id IS NOT NULL ORDER BY g.group_id)),
                    (SELECT group_concat(name, char(31)) FROM
                        (SELECT g.name FROM memberships m JOIN groups g ON g.pk = m.group_pk
                         WHERE m.user_pk = u.pk AND g.group_id IS NULL ORDER BY g.name)),
                    (SELECT status FROM outbox o WHERE o.kind = 'invitation' AND o.user_pk = u.pk
                        ORDER BY o.id DESC LIMIT 1),
                    (SELECT sent_at FROM outbox o WHERE o.kind = 'invitation' AND o.user_pk = u.pk
                        ORDER BY o.id DESC LIMIT 1)
             FROM users u
             WHERE (?1 IS NULL OR active = ?1)
               AND (?2 IS NULL OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_pk = u.pk AND m.group_pk = ?2))
             ORDER BY unique_id IS NULL, unique_id, COALESCE(mail_key, mail)",
        )?;
        let active = match filter {
            Filter::All => None,
            Filter::Active => Some(true),
            Filter::Deactivated => Some(false),
        };
        let split = |joined: Option<String>| -> Vec<String> {
            joined.map_or_else(Vec::new, |j| {
                j.split('\u{1f}').map(str::to_string).collect()
            })
        };
        let mut rows = stmt.query(params![active, group])?;
        while let Some(r) = rows.next()? {
            let unique_id: Option<String> = r.get(1)?;
            each(UserView {
                pk: r.get(0)?,
                source: if unique_id.is_some() {
                    "import"
                } else {
                    "manual"
                },
                unique_id,
                name: r.get(2)?,
                mail: r.get(3)?,
                title: r.get(4)?,
                phone: r.get(5)?,
                phone2: r.get(6)?,
                groups: split(r.get(10)?),
                manual_groups: split(r.get(11)?),
                status: if r.get(7)? { "active" } else { "deactivated" },
                created_at: r.get(8)?,
                updated_at: r.get(9)?,
                invitation: invitation_json(r.get(12)?, r.get(13)?),
            })?;
        }
        Ok(())
    }
}

/// A name as a lookup compares it: folded, its spaces collapsed ([`fold::fold_spaces`]) and
/// trimmed.
fn fold_name(name: &str) -> String {
    fold::fold_spaces(name).trim().to_string()
}

/// The error for a name several users have: each candidate with UniqueID and mail, one a line.
fn candidates(
    user: &str,
    n: usize,
    found: &[(i64, Option<String>, String, String)],
) -> anyhow::Error {
    const SHOWN: usize = 20;
    let head = format!(
        "{} users are named `{user}`; name one by its UniqueID or mail:",
        crate::core::number::thousands(n as u64)
    );
    let mut lines: Vec<String> = found
        .iter()
        .take(SHOWN)
        .map(|(_, uid, name, mail)| {
            format!("{}  {name}  {mail}", uid.as_deref().unwrap_or("(manual)"))
        })
        .collect();
    if n > SHOWN {
        // The search that lists every candidate (and those whose name only contains it).
        let name = user.split_whitespace().collect::<Vec<_>>().join(" ");
        lines.push(format!(
            "… and {} more ({} users list {} --all)",
            crate::core::number::thousands((n - SHOWN) as u64),
            crate::core::command::roster(),
            text::shell_option("--search", &name)
        ));
    }
    error::Error::Listed { head, lines }.into()
}

/// A user's invitation state as `users show`/`list` give it: null (never invited),
/// "pending", {"sent": time}, "sending" (a run stopped while sending it) or "failed".
pub fn invitation_json(status: Option<String>, sent_at: Option<String>) -> serde_json::Value {
    match status.as_deref() {
        None => serde_json::Value::Null,
        Some("sent") => serde_json::json!({ "sent": sent_at }),
        Some(other) => serde_json::Value::String(other.to_string()),
    }
}

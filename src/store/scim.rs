//! The SCIM push's state (SPEC §8): the directory as the provider should hold it, what the
//! provider acknowledged of each user and group, and the push runs.

use super::{now, Store};
use rusqlite::{params, OptionalExtension};
use std::collections::HashMap;

/// The attributes of a user that roster sets and compares with what the provider kept, in the
/// order of the bits of `Pushed::dropped`.
pub const USER_ATTRIBUTES: &[&str] = &[
    "externalId",
    "userName",
    "displayName",
    "name.formatted",
    "title",
    "emails",
    "phoneNumbers",
];

/// The same for a group.
pub const GROUP_ATTRIBUTES: &[&str] = &["externalId", "displayName", "members"];

/// An imported user as it is pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUser {
    pub unique_id: String,
    pub name: String,
    pub mail: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub phone2: Option<String>,
    pub active: bool,
}

/// A group with an ID as it is pushed: its active imported members, by UniqueID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimGroup {
    pub group_id: String,
    pub name: String,
    pub members: Vec<String>,
}

/// What the provider holds of one user or group, as far as it acknowledged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushed {
    /// The provider's `id`; `None` when it holds nothing of ours.
    pub scim_id: Option<String>,
    pub etag: Option<String>,
    /// A hash of the attributes it holds (without `active`).
    pub hash: Option<i64>,
    /// Whether it is active there (users only).
    pub active: Option<bool>,
    /// A change was sent whose answer was not committed: the provider may have made it.
    pub sending: Option<String>,
    /// The provider's last refusal, tried again by the next push.
    pub error: Option<String>,
    pub failed_at: Option<String>,
    pub pushed_at: Option<String>,
    /// The attributes the provider did not keep as sent (bits of `USER_ATTRIBUTES` or
    /// `GROUP_ATTRIBUTES`): left out of `hash`, and not sent again.
    pub dropped: i64,
    /// The hash of what roster last sent that the provider confirmed (nothing left out), so
    /// that a change in the store is sent even in an attribute the provider does not keep.
    pub sent: Option<i64>,
    /// A group's members as the provider holds them (provider ids, sorted); `None`: unknown.
    pub members: Option<Vec<String>>,
}

/// Users or groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::User => "scim_users",
            Kind::Group => "scim_groups",
        }
    }

    fn attributes(self) -> &'static [&'static str] {
        match self {
            Kind::User => USER_ATTRIBUTES,
            Kind::Group => GROUP_ATTRIBUTES,
        }
    }

    fn members(self) -> &'static str {
        match self {
            Kind::User => "NULL",
            Kind::Group => "members",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Kind::User => "unique_id",
            Kind::Group => "group_id",
        }
    }
}

/// One push, as `status` and the report show it.
#[derive(Debug, Clone, PartialEq)]
pub struct PushRun {
    pub id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub counts: Option<serde_json::Value>,
    pub message: Option<String>,
}

/// A refusal waiting for the next push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: Kind,
    pub id: String,
    pub error: String,
    pub at: Option<String>,
}

impl Store {
    /// The imported users and the groups with an ID, read in one transaction.
    pub fn scim_directory(&self) -> anyhow::Result<(Vec<ScimUser>, Vec<ScimGroup>)> {
        let tx = self.conn.unchecked_transaction()?;
        let mut users = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT unique_id, name, mail, title, phone, phone2, active FROM users
                 WHERE unique_id IS NOT NULL ORDER BY unique_id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                users.push(ScimUser {
                    unique_id: r.get(0)?,
                    name: r.get(1)?,
                    mail: r.get(2)?,
                    title: r.get(3)?,
                    phone: r.get(4)?,
                    phone2: r.get(5)?,
                    active: r.get::<_, i64>(6)? != 0,
                });
            }
        }
        let mut groups: Vec<ScimGroup> = Vec::new();
        let mut index = HashMap::new();
        {
            let mut stmt = tx.prepare(
                "SELECT group_id, name FROM groups WHERE group_id IS NOT NULL ORDER BY group_id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let group_id: String = r.get(0)?;
                index.insert(group_id.clone(), groups.len());
                groups.push(ScimGroup {
                    group_id,
                    name: r.get(1)?,
                    members: Vec::new(),
                });
            }
            let mut stmt = tx.prepare(
                "SELECT g.group_id, u.unique_id FROM memberships m
                 JOIN groups g ON g.pk = m.group_pk JOIN users u ON u.pk = m.user_pk
                 WHERE g.group_id IS NOT NULL AND u.unique_id IS NOT NULL AND u.active = 1
                 ORDER BY g.group_id, u.unique_id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let group_id: String = r.get(0)?;
                if let Some(&i) = index.get(&group_id) {
                    groups[i].members.push(r.get(1)?);
                }
            }
        }
        tx.commit()?;
        Ok((users, groups))
    }

    /// What the provider holds of each user or group that roster ever pushed.
    pub fn scim_pushed(&self, kind: Kind) -> anyhow::Result<HashMap<String, Pushed>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {}, scim_id, etag, hash, active, sending, error, failed_at, pushed_at, dropped, sent, {}
             FROM {}",
            kind.key(),
            kind.members(),
            kind.table()
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = HashMap::new();
        while let Some(r) = rows.next()? {
            out.insert(
                r.get(0)?,
                Pushed {
                    scim_id: r.get(1)?,
                    etag: r.get(2)?,
                    hash: r.get(3)?,
                    active: r.get::<_, Option<i64>>(4)?.map(|a| a != 0),
                    sending: r.get(5)?,
                    error: r.get(6)?,
                    failed_at: r.get(7)?,
                    pushed_at: r.get(8)?,
                    dropped: r.get(9)?,
                    sent: r.get(10)?,
                    members: r
                        .get::<_, Option<String>>(11)?
                        .map(|m| m.lines().map(str::to_string).collect()),
                },
            );
        }
        Ok(out)
    }

    /// Write what the provider acknowledged or refused, in one transaction.
    pub fn scim_save<'a>(
        &mut self,
        kind: Kind,
        rows: impl IntoIterator<Item = (&'a str, &'a Pushed)>,
    ) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare(&format!(
                "INSERT INTO {t} ({k}, scim_id, etag, hash, active, sending, error, failed_at, pushed_at,
                   dropped, sent{mc})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11{mv})
                 ON CONFLICT({k}) DO UPDATE SET scim_id = excluded.scim_id, etag = excluded.etag,
                   hash = excluded.hash, active = excluded.active, sending = excluded.sending,
                   error = excluded.error, failed_at = excluded.failed_at,
                   pushed_at = excluded.pushed_at, dropped = excluded.dropped,
                   sent = excluded.sent{mu}",
                t = kind.table(),
                k = kind.key(),
                mc = if kind == Kind::Group { ", members" } else { "" },
                mv = if kind == Kind::Group { ", ?12" } else { "" },
                mu = if kind == Kind::Group { ", members = excluded.members" } else { "" },
            ))?;
            for (id, p) in rows {
                let fields = params![
                    id,
                    p.scim_id,
                    p.etag,
                    p.hash,
                    p.active.map(i64::from),
                    p.sending,
                    p.error,
                    p.failed_at,
                    p.pushed_at,
                    p.dropped,
                    p.sent,
                ];
                if kind == Kind::Group {
                    let members = p.members.as_ref().map(|m| m.join("\n"));
                    let mut all = fields.to_vec();
                    all.push(&members);
                    stmt.execute(all.as_slice())?;
                } else {
                    stmt.execute(fields)?;
                }
            }
        }
        crate::stage::crash_point("push-save");
        tx.commit()?;
        Ok(())
    }

    /// Start a push run.
    pub fn scim_start_push(&self) -> anyhow::Result<i64> {
        self.conn.execute(
            "INSERT INTO scim_pushes (started_at, status) VALUES (?1, 'running')",
            [now()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Finish a push run with its status, counts and message.
    pub fn scim_finish_push(
        &self,
        id: i64,
        status: &str,
        counts: &serde_json::Value,
        message: Option<&str>,
    ) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE scim_pushes SET finished_at = ?2, status = ?3, counts = ?4, message = ?5 WHERE id = ?1",
            params![id, now(), status, counts.to_string(), message],
        )?;
        Ok(())
    }

    /// The newest push run.
    pub fn scim_last_push(&self) -> anyhow::Result<Option<PushRun>> {
        self.scim_pushes_since(None).map(|mut v| v.pop())
    }

    /// The first push that went through (every change acknowledged) after run `run` started:
    /// what closes a sync failed at the push stage (SPEC §5 "Honest health").
    pub fn scim_pushed_after(&self, run: i64) -> anyhow::Result<Option<i64>> {
        if self.scim_last_push()?.is_none() {
            return Ok(None);
        }
        Ok(self
            .conn
            .query_row(
                "SELECT p.id FROM scim_pushes p JOIN runs r ON r.id = ?1
                  WHERE p.status = 'pushed' AND p.started_at >= r.started_at
                  ORDER BY p.id LIMIT 1",
                [run],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The push runs since a time (RFC 3339), or every one, oldest first.
    pub fn scim_pushes_since(&self, since: Option<&str>) -> anyhow::Result<Vec<PushRun>> {
        let has_table: Option<String> = self
            .conn
            .query_row(
                "SELECT name FROM sqlite_master WHERE name = 'scim_pushes'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if has_table.is_none() {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(
            "SELECT id, started_at, finished_at, status, counts, message FROM scim_pushes
             WHERE ?1 IS NULL OR started_at >= ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([since], |r| {
            let counts: Option<String> = r.get(4)?;
            Ok(PushRun {
                id: r.get(0)?,
                started_at: r.get(1)?,
                finished_at: r.get(2)?,
                status: r.get(3)?,
                counts: counts.and_then(|c| serde_json::from_str(&c).ok()),
                message: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The attributes the provider did not keep as sent, with the number of users and groups
    /// each (that it holds), most first: SPEC §8's `push.dropped`.
    pub fn scim_dropped(&self) -> anyhow::Result<Vec<(String, u64)>> {
        let mut out: Vec<(String, u64)> = Vec::new();
        for kind in [Kind::User, Kind::Group] {
            for (bit, name) in kind.attributes().iter().enumerate() {
                let n: i64 = match self.conn.query_row(
                    &format!(
                        "SELECT COUNT(*) FROM {} WHERE scim_id IS NOT NULL AND dropped & ?1 != 0",
                        kind.table()
                    ),
                    [1i64 << bit],
                    |r| r.get(0),
                ) {
                    Ok(n) => n,
                    // A store from before the push (or its migration 11): nothing recorded.
                    Err(_) => return Ok(Vec::new()),
                };
                if n == 0 {
                    continue;
                }
                match out.iter_mut().find(|(a, _)| a == name) {
                    Some((_, c)) => *c += n as u64,
                    None => out.push((name.to_string(), n as u64)),
                }
            }
        }
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }

    /// The refusals waiting for the next push.
    pub fn scim_refusals(&self) -> anyhow::Result<Vec<Refusal>> {
        let mut out = Vec::new();
        for kind in [Kind::User, Kind::Group] {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT {}, error, failed_at FROM {} WHERE error IS NOT NULL ORDER BY 1",
                kind.key(),
                kind.table()
            ))?;
            let rows = stmt.query_map([], |r| {
                Ok(Refusal {
                    kind,
                    id: r.get(0)?,
                    error: r.get(1)?,
                    at: r.get(2)?,
                })
            })?;
            for r in rows {
                out.push(r?);
            }
        }
        Ok(out)
    }
}

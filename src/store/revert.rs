//! Reverting a run: its audit rows read, and the revert's writes in one transaction.

use super::{now, runs, Store};
use crate::core::plan::Holder;
use crate::core::revert::{
    AuditEntry, Current, GroupChange, GroupEntry, GroupNow, RevertPlan, Target, Was,
};
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::{HashMap, HashSet};

impl Store {
    /// The audit rows a run wrote, in the order it wrote them: its `created` rows (kept apart,
    /// in blocks) each before the change rows written after it.
    pub fn run_audit(&self, run: i64) -> anyhow::Result<Vec<AuditEntry>> {
        let mut created = self.run_created(run)?.into_iter().peekable();
        let mut stmt = self.conn.prepare(
            "SELECT user_pk, unique_id, field, old, new, was FROM audit WHERE run_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([run], |r| {
            let was: Option<String> = r.get(5)?;
            Ok(AuditEntry {
                user_pk: r.get(0)?,
                unique_id: r.get(1)?,
                field: r.get(2)?,
                old: r.get(3)?,
                new: r.get(4)?,
                was: was.and_then(|w| serde_json::from_str::<Was>(&w).ok()),
            })
        })?;
        let mut out = Vec::new();
        for (written, row) in rows.enumerate() {
            while let Some((_, c)) = created.next_if(|(seq, _)| *seq <= written as i64) {
                out.push(c);
            }
            out.push(row?);
        }
        out.extend(created.map(|(_, c)| c));
        Ok(out)
    }

    /// The `created` rows of a run (in blocks, [`super::created`]) in the order written, each
    /// with how many change rows its run wrote before it.
    fn run_created(&self, run: i64) -> anyhow::Result<Vec<(i64, AuditEntry)>> {
        let mut rows = Vec::new();
        super::created::each_of_run(&self.conn, run, |c| {
            rows.push((
                c.seq,
                AuditEntry {
                    user_pk: c.user_pk,
                    new: Some(c.json()),
                    unique_id: c.unique_id,
                    field: "created".to_string(),
                    old: None,
                    was: None,
                },
            ));
            Ok(true)
        })?;
        Ok(rows)
    }

    /// The group rows a run wrote, in the order it wrote them.
    pub fn run_group_audit(&self, run: i64) -> anyhow::Result<Vec<GroupEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT group_pk, group_id, field, old, new, created_at FROM group_audit
             WHERE run_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([run], |r| {
            Ok(GroupEntry {
                group_pk: r.get(0)?,
                group_id: r.get(1)?,
                field: r.get(2)?,
                old: r.get(3)?,
                new: r.get(4)?,
                created_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every group as it is now, with its members.
    pub fn groups_now(&self) -> anyhow::Result<Vec<GroupNow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT pk, group_id, name, created_at FROM groups ORDER BY pk")?;
        let rows = stmt.query_map([], |r| {
            Ok(GroupNow {
                pk: r.get(0)?,
                group_id: r.get(1)?,
                name: r.get(2)?,
                created_at: r.get(3)?,
                members: Vec::new(),
            })
        })?;
        let mut groups: Vec<GroupNow> = rows.collect::<Result<_, _>>()?;
        // One pass over the memberships (they have no index by group), in the order they are
        // kept: by user, so that each group's members come sorted.
        let at: HashMap<i64, usize> = groups.iter().enumerate().map(|(i, g)| (g.pk, i)).collect();
        let mut members = self
            .conn
            .prepare("SELECT group_pk, user_pk FROM memberships ORDER BY user_pk, group_pk")?;
        let mut rows = members.query([])?;
        while let Some(r) = rows.next()? {
            if let Some(&i) = at.get(&r.get::<_, i64>(0)?) {
                groups[i].members.push(r.get(1)?);
            }
        }
        Ok(groups)
    }

    /// The users these keys name as they are now (absent: deleted).
    pub fn current_users(&self, pks: &HashSet<i64>) -> anyhow::Result<HashMap<i64, Current>> {
        let mut out = HashMap::new();
        for &pk in pks {
            let exists = self
                .conn
                .query_row("SELECT 1 FROM users WHERE pk = ?1", [pk], |_| Ok(()))
                .optional()?
                .is_some();
            if !exists {
                continue;
            }
            let state = self.user_state(pk)?;
            let manual_groups = Self::manual_groups_of(&self.conn, pk)?;
            let (missing_count, last_missing_batch) = self.conn.query_row(
                "SELECT missing_count, last_missing_batch FROM users WHERE pk = ?1",
                [pk],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            out.insert(
                pk,
                Current {
                    state,
                    manual_groups,
                    missing_count,
                    last_missing_batch,
                },
            );
        }
        Ok(out)
    }

    /// Who holds a mail key now.
    pub fn mail_key_holder(&self, key: &str) -> anyhow::Result<Option<Holder>> {
        Ok(self
            .conn
            .query_row(
                "SELECT pk, unique_id, active FROM users WHERE COALESCE(mail_key, mail) = ?1",
                [key],
                |r| {
                    Ok(Holder {
                        pk: r.get(0)?,
                        unique_id: r.get(1)?,
                        active: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Imported, active users (the base of the safeguards' shares).
    pub fn active_imported(&self) -> anyhow::Result<u64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM users WHERE unique_id IS NOT NULL AND active = 1",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Write a revert in one transaction and record it as a run (command `revert`) that names
    /// the run it undid; that run's batch becomes `reverted`. Returns the new run's id.
    ///
    /// Foreign keys are not checked during the transaction, as in an apply: removing a group
    /// would scan every membership for its members (they have no index by group). The writes
    /// below delete a user's or a group's memberships with it.
    pub fn revert(
        &mut self,
        plan: &RevertPlan,
        of: &crate::core::report::Run,
        started_at: &str,
        detail: &serde_json::Value,
    ) -> anyhow::Result<i64> {
        self.conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        let reverted = self.revert_unchecked(plan, of, started_at, detail);
        self.conn.execute_batch("PRAGMA foreign_keys = ON")?;
        reverted
    }

    /// The writes of a revert, in one transaction: its run recorded, the groups back before
    /// the users (their memberships need them), moving addresses parked, deletions before the
    /// rest (they free addresses), the groups the run created removed once the users have
    /// left them, the batch's status set back, the commit.
    fn revert_unchecked(
        &mut self,
        plan: &RevertPlan,
        of: &crate::core::report::Run,
        started_at: &str,
        detail: &serde_json::Value,
    ) -> anyhow::Result<i64> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let run = record_revert(&tx, plan, of, started_at, detail)?;
        runs::stamp(&tx, run, &self.operator)?;
        let at = now();
        restore_groups(&tx, run, &plan.groups, &at)?;
        park_moving_mail(&tx, plan)?;
        let mut ordered: Vec<_> = plan.changes.iter().collect();
        ordered.sort_by_key(|c| !matches!(c.target, Target::Delete));
        for c in ordered {
            revert_user(&tx, run, c, &at)?;
        }
        remove_created_groups(&tx, run, &plan.groups)?;
        set_batch_back(&tx, of, run)?;
        crate::stage::crash_point("revert-commit");
        tx.commit()?;
        Ok(run)
    }
}

/// Record the revert as a run (command `revert`) that names the run it undid.
fn record_revert(
    tx: &Transaction<'_>,
    plan: &RevertPlan,
    of: &crate::core::report::Run,
    started_at: &str,
    detail: &serde_json::Value,
) -> anyhow::Result<i64> {
    let run = runs::insert(
        tx,
        &runs::NewRun {
            batch: of.batch,
            command: "revert",
            started_at,
            status: "applied",
            counts: Some(&plan.counts),
            message: Some(&format!("reverted run {}", of.id)),
            detail: Some(detail),
            unknown_groups: None,
            problems: &[],
            each_problem: None,
            rejected: None,
        },
    )?;
    tx.execute("UPDATE runs SET reverts = ?2 WHERE id = ?1", [run, of.id])?;
    Ok(run)
}

/// Groups back before the users: a group the run removed comes back (under its old key when
/// free), a group it renamed takes its old name; each with its audit row.
fn restore_groups(
    tx: &Transaction<'_>,
    run: i64,
    groups: &[GroupChange],
    at: &str,
) -> rusqlite::Result<()> {
    for g in groups {
        match g {
            GroupChange::Recreate {
                pk,
                group_id,
                name,
                created_at,
            } => {
                let free = tx
                    .query_row("SELECT 1 FROM groups WHERE pk = ?1", [pk], |_| Ok(()))
                    .optional()?
                    .is_none();
                tx.execute(
                    "INSERT INTO groups (pk, group_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        free.then_some(*pk),
                        group_id,
                        name,
                        created_at.as_deref().unwrap_or(at)
                    ],
                )?;
                let pk = tx.last_insert_rowid();
                super::groups::audit_group(
                    tx,
                    run,
                    pk,
                    group_id.as_deref(),
                    "created",
                    None,
                    Some(name),
                    None,
                )?;
            }
            GroupChange::Rename { pk, from, to } => {
                let id: Option<String> =
                    tx.query_row("SELECT group_id FROM groups WHERE pk = ?1", [pk], |r| {
                        r.get(0)
                    })?;
                tx.execute("UPDATE groups SET name = ?2 WHERE pk = ?1", params![pk, to])?;
                super::groups::audit_group(
                    tx,
                    run,
                    *pk,
                    id.as_deref(),
                    "name",
                    Some(from),
                    Some(to),
                    None,
                )?;
            }
            GroupChange::Remove { .. } => {}
        }
    }
    Ok(())
}

/// Addresses that move: parked first so that a swap never collides.
fn park_moving_mail(tx: &Transaction<'_>, plan: &RevertPlan) -> rusqlite::Result<()> {
    for c in &plan.changes {
        if matches!(c.target, Target::Set(..)) && c.fields.iter().any(|f| f.field == "mail") {
            tx.execute(
                "UPDATE users SET mail_key = ?2 WHERE pk = ?1",
                params![c.pk, format!("\u{1}{}", c.pk)],
            )?;
        }
    }
    Ok(())
}

/// One user's revert: deleted, set back, or brought back; each with its audit rows.
fn revert_user(
    tx: &Transaction<'_>,
    run: i64,
    c: &crate::core::revert::UserRevert,
    at: &str,
) -> rusqlite::Result<()> {
    let audit = |pk: i64| -> rusqlite::Result<()> {
        let mut stmt = tx.prepare_cached(runs::INSERT_AUDIT)?;
        for f in &c.fields {
            stmt.execute(params![run, pk, c.unique_id, f.field, f.old, f.new, at])?;
        }
        Ok(())
    };
    match &c.target {
        Target::Delete => {
            audit(c.pk)?;
            tx.execute(super::outbox::CANCEL_PENDING, [c.pk])?;
            tx.execute("DELETE FROM memberships WHERE user_pk = ?1", [c.pk])?;
            tx.execute("DELETE FROM users WHERE pk = ?1", [c.pk])?;
        }
        Target::Set(t, was) => {
            audit(c.pk)?;
            if !t.state.active {
                tx.execute(super::outbox::CANCEL_PENDING, [c.pk])?;
            }
            write_user(tx, c.pk, t, was.as_ref(), at)?;
            set_memberships(tx, c.pk, t)?;
        }
        Target::Recreate(t, was) => {
            let pk = recreate_user(tx, c.pk, t, was.as_ref(), at)?;
            write_user(tx, pk, t, was.as_ref(), at)?;
            set_memberships(tx, pk, t)?;
            audit(pk)?;
        }
    }
    Ok(())
}

/// Insert a deleted user's row again, under its old key when free (else a new one), created
/// when `was` says; returns its key.
fn recreate_user(
    tx: &Transaction<'_>,
    pk: i64,
    t: &Current,
    was: Option<&Was>,
    at: &str,
) -> rusqlite::Result<i64> {
    let free = tx
        .query_row("SELECT 1 FROM users WHERE pk = ?1", [pk], |_| Ok(()))
        .optional()?
        .is_none();
    let created = was.and_then(|w| w.created_at.as_deref()).unwrap_or(at);
    let new_pk = if free { pk } else { super::next_user_pk(tx)? };
    tx.execute(
        "INSERT INTO users (pk, unique_id, name, mail, mail_key, title, phone, phone2, active,
                            row_hash, missing_count, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, 0, ?10, ?10)",
        params![
            new_pk,
            t.state.unique_id,
            t.state.name,
            t.state.mail,
            super::stored_mail_key(new_pk, &t.state.mail),
            t.state.title,
            t.state.phone,
            t.state.phone2,
            t.state.active,
            created
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Groups the run created, once the users have left them: their memberships go in one pass
/// over the memberships, then each group with its audit row.
fn remove_created_groups(
    tx: &Transaction<'_>,
    run: i64,
    groups: &[GroupChange],
) -> anyhow::Result<()> {
    let removed: Vec<i64> = groups
        .iter()
        .filter_map(|g| match g {
            GroupChange::Remove { pk, .. } => Some(*pk),
            _ => None,
        })
        .collect();
    if !removed.is_empty() {
        tx.execute(
            "DELETE FROM memberships WHERE group_pk IN (SELECT value FROM json_each(?1))",
            [serde_json::to_string(&removed)?],
        )?;
    }
    for g in groups {
        if let GroupChange::Remove {
            pk,
            group_id,
            name,
            created_at,
        } = g
        {
            super::groups::audit_group(
                tx,
                run,
                *pk,
                group_id.as_deref(),
                "removed",
                Some(name),
                None,
                Some(created_at),
            )?;
            tx.execute("DELETE FROM groups WHERE pk = ?1", [pk])?;
        }
    }
    Ok(())
}

/// The reverted run's batch becomes `reverted`; a revert of a revert: the batch the first one
/// undid stands again (SPEC §2), as do the newer batches a forced rollback reverted once that
/// rollback is reverted.
fn set_batch_back(
    tx: &Transaction<'_>,
    of: &crate::core::report::Run,
    run: i64,
) -> rusqlite::Result<()> {
    match of.batch {
        Some(batch) if of.command == "revert" => tx.execute(
            "UPDATE batches SET status = 'applied', reverted_by = NULL WHERE id = ?1 AND reverted_by = ?2",
            [batch, of.id],
        )?,
        Some(batch) => {
            tx.execute(
                "UPDATE batches SET status = 'applied', reverted_by = NULL WHERE id > ?1 AND reverted_by = ?2",
                [batch, of.id],
            )?;
            tx.execute(
                "UPDATE batches SET status = 'reverted', reverted_by = ?2 WHERE id = ?1 AND status = 'applied'",
                [batch, run],
            )?
        }
        None => 0,
    };
    Ok(())
}

/// Write a user's fields, status, hash and absence counter; its row's times as `was` held
/// them (else updated now).
fn write_user(
    tx: &Transaction<'_>,
    pk: i64,
    t: &Current,
    was: Option<&Was>,
    at: &str,
) -> rusqlite::Result<()> {
    let s = &t.state;
    tx.execute(
        "UPDATE users SET unique_id = ?2, name = ?3, mail = ?4, mail_key = ?5, title = ?6, phone = ?7,
         phone2 = ?8, active = ?9, row_hash = ?10, updated_at = ?11 WHERE pk = ?1",
        params![
            pk,
            s.unique_id,
            s.name,
            s.mail,
            super::stored_mail_key(pk, &s.mail),
            s.title,
            s.phone,
            s.phone2,
            s.active,
            s.hash() as i64,
            was.and_then(|w| w.updated_at.as_deref()).unwrap_or(at)
        ],
    )?;
    tx.execute(
        "UPDATE users SET missing_count = ?2, last_missing_batch = ?3 WHERE pk = ?1",
        params![pk, t.missing_count, t.last_missing_batch],
    )?;
    Ok(())
}

/// Make a user's memberships those of `t`: the groups with an ID by ID, manual ones by name
/// (groups that no longer exist are left out).
fn set_memberships(tx: &Transaction<'_>, pk: i64, t: &Current) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM memberships WHERE user_pk = ?1", [pk])?;
    let mut by_id = tx.prepare_cached(
        "INSERT OR IGNORE INTO memberships (user_pk, group_pk) SELECT ?1, pk FROM groups WHERE group_id = ?2",
    )?;
    for g in &t.state.groups {
        by_id.execute(params![pk, g])?;
    }
    let mut by_name = tx.prepare_cached(
        "INSERT OR IGNORE INTO memberships (user_pk, group_pk) SELECT ?1, pk FROM groups WHERE name = ?2 AND group_id IS NULL",
    )?;
    for g in &t.manual_groups {
        by_name.execute(params![pk, g])?;
    }
    Ok(())
}

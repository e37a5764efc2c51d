//! Applying a plan: every write of an import in one SQLite transaction, all of it or none.

use super::{now, runs, Store};
use crate::core::file::ImportFile;
use crate::core::plan::{diff_fields, Action, Plan, UserState};
use crate::core::policy::MissingUsers;
use crate::core::problem::Problem;
use rusqlite::{params, Statement, Transaction};
use std::collections::{HashMap, HashSet};

/// What the run that applies a plan records.
pub struct ApplyRun<'a> {
    pub command: &'a str,
    pub started_at: &'a str,
    pub missing_users: MissingUsers,
    pub problems: &'a [Problem],
    /// Every problem of the file, when `problems` holds only the first few (see
    /// [`runs::NewRun::each_problem`]).
    pub each_problem: Option<runs::EachProblem<'a>>,
    pub detail: &'a serde_json::Value,
    /// Queue an invitation for each created user (`import.send_invitations`).
    pub invite: bool,
}

/// The secondary indexes that a first load drops and builds again after it, as the store
/// defines them: the users' keys, which come in no order. The audit log's indexes (by time, by
/// run) stay: a new row's entries go at their end, which costs less than two more scans of
/// the log.
const DEFERRED_INDEXES: [&str; 2] = ["users_unique_id", "users_mail_key"];

/// The page cache of a first load, in KiB. It also bounds the memory of each sorted run of
/// the index builds (SQLite's sorter fills up to the cache's size before it writes a run),
/// which comes on top of the file's records and the plan at the load's end: the first
/// import's peak (issue 31). 2 MiB sorts a million users' keys in a few more runs than 8 MiB
/// did, for no time that the benchmark tells apart.
const FIRST_LOAD_CACHE_KIB: u32 = 2_048;

/// Memberships are added by statements of 1 to this many (and of [`PAIRS_PER_INSERT`]).
const MEMBERS_PER_INSERT: usize = 8;

/// New users' memberships are written this many a statement.
const PAIRS_PER_INSERT: usize = 64;

/// New users are written this many at a time: one statement for all their rows and one for all
/// their memberships (their `created` rows go into blocks, [`super::created`]). A statement's
/// fixed cost (opening its cursors, checking the schema, halting) is then paid once for them all.
const CREATES_PER_INSERT: usize = 32;

/// The columns of a new user's row, in the order the statements below bind them.
const USER_COLUMNS: &str = "(unique_id, name, mail, mail_key, title, phone, phone2, active, \
                             row_hash, missing_count, created_at, updated_at, pk)";
const USER_VALUES: &str = "(?, ?, ?, ?, ?, ?, ?, 1, ?, 0, ?, ?, ?)";

/// The statements `INSERT OR FAIL INTO table columns VALUES row, row, …` of one row and of
/// [`CREATES_PER_INSERT`] rows. `OR FAIL`: a failing row leaves the rows before it rather than
/// undo the statement (which would make SQLite journal each statement's pages apart); any
/// failure rolls back the whole apply.
struct Inserts<'t> {
    one: Statement<'t>,
    batch: Statement<'t>,
}

impl<'t> Inserts<'t> {
    fn prepare(
        tx: &'t Transaction<'t>,
        table: &str,
        columns: &str,
        row: &str,
    ) -> rusqlite::Result<Self> {
        let sql = |rows: usize| {
            format!(
                "INSERT OR FAIL INTO {table} {columns} VALUES {}",
                vec![row; rows].join(", ")
            )
        };
        Ok(Inserts {
            one: tx.prepare(&sql(1))?,
            batch: tx.prepare(&sql(CREATES_PER_INSERT))?,
        })
    }

    /// The statement of `rows` rows: [`CREATES_PER_INSERT`], else one.
    fn of(&mut self, rows: usize) -> &mut Statement<'t> {
        if rows == CREATES_PER_INSERT {
            &mut self.batch
        } else {
            &mut self.one
        }
    }
}

/// Bind `values` to a statement's parameters after the `*param`th, and count them.
fn bind(
    stmt: &mut Statement<'_>,
    param: &mut usize,
    values: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<()> {
    for value in values {
        *param += 1;
        stmt.raw_bind_parameter(*param, value)?;
    }
    Ok(())
}

/// A new user's row as it is written.
struct NewUser {
    state: UserState,
    hash: i64,
    /// Its Group IDs as its `created` row holds them: joined by commas, none when it has none.
    groups: Option<String>,
}

impl NewUser {
    fn of(state: UserState) -> Self {
        NewUser {
            hash: state.hash() as i64,
            groups: (!state.groups.is_empty()).then(|| state.groups.join(",")),
            state,
        }
    }
}

/// The values a new user starts with, as its history shows its `created` row: the fields that
/// `diff_fields` would list against no user, in its order, in JSON.
#[derive(serde::Serialize)]
pub(super) struct Created<'a> {
    pub name: &'a str,
    pub mail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone2: Option<&'a str>,
    /// Its Group IDs joined by commas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<&'a str>,
    pub status: &'static str,
}

impl Created<'_> {
    pub fn json(&self) -> String {
        // Serialising strings into a string cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The `created` values of a state, in JSON ([`Created`]).
#[cfg(test)]
fn created_values(s: &UserState) -> String {
    let groups = s.groups.join(",");
    Created {
        name: &s.name,
        mail: &s.mail,
        title: s.title.as_deref(),
        phone: s.phone.as_deref(),
        phone2: s.phone2.as_deref(),
        groups: (!groups.is_empty()).then_some(groups.as_str()),
        status: if s.active { "active" } else { "deactivated" },
    }
    .json()
}

/// Which indexed keys of a user's row an update writes.
enum Keys {
    Kept,
    /// A changed address: the mail key.
    Mail,
    /// An adopted user: its UniqueID and mail key.
    Both,
}

/// The statements of an apply, prepared once for the whole transaction.
struct Writer<'t> {
    run: i64,
    at: String,
    groups: HashMap<String, i64>,
    /// The keys of the managed groups (`groups`' values).
    managed: HashSet<i64>,
    /// An audit row of a change to a user, written before the change.
    audit: Statement<'t>,
    /// How many audit rows the run has written: a `created` row's `seq`.
    audited: i64,
    /// The `created` rows of new users (nothing was there before), in blocks.
    created: super::created::Blocks<'t>,
    /// A user's memberships (any group: the managed ones are picked by `groups`).
    member_of: Statement<'t>,
    remove_member: Statement<'t>,
    /// `add_pairs[n - 1]` adds n memberships, each its user's key and its group's; the last
    /// adds [`PAIRS_PER_INSERT`].
    add_pairs: Vec<Statement<'t>>,
    update_user: Statement<'t>,
    /// Writes the indexed keys, apart from the other fields: SQLite rewrites an index entry of
    /// every indexed column an UPDATE sets, changed or not. `update_keys` writes both (an
    /// adopted user), `update_mail_key` only the mail key (a changed address): each index
    /// entry rewritten costs a page of that index, wherever the key falls. The address goes
    /// with the mail key, since the index of the keys is of `COALESCE(mail_key, mail)`; an
    /// address that does not change is not written.
    update_keys: Statement<'t>,
    update_mail_key: Statement<'t>,
    /// New users' rows.
    insert_user: Inserts<'t>,
    /// New users not written yet, with their keys (fewer than [`CREATES_PER_INSERT`]); written
    /// before any other audit row, so that the log keeps the order of the changes, and before
    /// the commit.
    new_users: Vec<(i64, NewUser)>,
    /// The key of the next new user ([`super::next_user_pk`]).
    next_pk: i64,
}

impl<'t> Writer<'t> {
    fn new(
        tx: &'t Transaction<'t>,
        run: i64,
        groups: HashMap<String, i64>,
    ) -> rusqlite::Result<Self> {
        // The run's time: its `created` rows show it as theirs.
        let at = tx.query_row("SELECT finished_at FROM runs WHERE id = ?1", [run], |r| {
            r.get::<_, Option<String>>(0)
        })?;
        Ok(Writer {
            run,
            at: at.unwrap_or_else(now),
            managed: groups.values().copied().collect(),
            groups,
            audit: tx.prepare(runs::INSERT_AUDIT)?,
            audited: 0,
            created: super::created::Blocks::new(tx, run)?,
            member_of: tx.prepare("SELECT group_pk FROM memberships WHERE user_pk = ?1")?,
            remove_member: tx
                .prepare("DELETE FROM memberships WHERE user_pk = ?1 AND group_pk = ?2")?,
            add_pairs: (1..=MEMBERS_PER_INSERT)
                .chain([PAIRS_PER_INSERT])
                .map(|n| {
                    tx.prepare(&format!(
                        "INSERT OR IGNORE INTO memberships (user_pk, group_pk) VALUES {}",
                        vec!["(?, ?)"; n].join(", ")
                    ))
                })
                .collect::<rusqlite::Result<_>>()?,
            update_user: tx.prepare(
                "UPDATE users SET name = ?2, title = ?3, phone = ?4, phone2 = ?5, active = 1,
                 row_hash = ?6, missing_count = 0, last_missing_batch = NULL, updated_at = ?7
                 WHERE pk = ?1",
            )?,
            update_keys: tx.prepare(
                "UPDATE users SET unique_id = ?2, mail = ?3, mail_key = ?4 WHERE pk = ?1",
            )?,
            update_mail_key: tx
                .prepare("UPDATE users SET mail = ?2, mail_key = ?3 WHERE pk = ?1")?,
            insert_user: Inserts::prepare(tx, "users", USER_COLUMNS, USER_VALUES)?,
            new_users: Vec::with_capacity(CREATES_PER_INSERT),
            next_pk: super::next_user_pk(tx)?,
        })
    }

    fn audit(
        &mut self,
        pk: i64,
        uid: Option<&str>,
        field: &str,
        old: Option<&str>,
        new: Option<&str>,
    ) -> rusqlite::Result<()> {
        self.write_new_users()?;
        self.audit
            .execute(params![self.run, pk, uid, field, old, new, self.at])?;
        self.audited += 1;
        Ok(())
    }

    /// The audit row of a change of a user's absence counter (`missing_count`, old → new;
    /// `was` holds the batch that counted it before), when it changes: a revert counts back.
    fn audit_absence(
        &mut self,
        tx: &Transaction<'_>,
        pk: i64,
        uid: Option<&str>,
        count: i64,
        batch: Option<i64>,
    ) -> rusqlite::Result<()> {
        let (old, old_batch, stored_uid): (i64, Option<i64>, Option<String>) = tx
            .prepare_cached(
                "SELECT missing_count, last_missing_batch, unique_id FROM users WHERE pk = ?1",
            )?
            .query_row([pk], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        if (old, old_batch) != (count, batch) {
            let uid = uid.map(str::to_string).or(stored_uid);
            self.audit(
                pk,
                uid.as_deref(),
                "missing_count",
                Some(&old.to_string()),
                Some(&count.to_string()),
            )?;
        }
        Ok(())
    }

    /// Make a user's memberships in managed groups exactly `groups`. Only the difference is
    /// written: each membership written or deleted costs a page, wherever the user is.
    fn set_groups(&mut self, pk: i64, groups: &[String]) -> rusqlite::Result<()> {
        let held: Vec<i64> = self
            .member_of
            .query_map([pk], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let wanted: Vec<i64> = self.group_keys(groups).collect();
        for gpk in held.iter().filter(|g| self.managed.contains(g)) {
            if !wanted.contains(gpk) {
                self.remove_member.execute([pk, *gpk])?;
            }
        }
        let added: Vec<(i64, i64)> = wanted
            .into_iter()
            .filter(|gpk| !held.contains(gpk))
            .map(|gpk| (pk, gpk))
            .collect();
        self.add_memberships(&added)
    }

    /// The keys of the managed groups among `groups` (a Group ID no group has is left out).
    fn group_keys<'a>(&'a self, groups: &'a [String]) -> impl Iterator<Item = i64> + 'a {
        groups.iter().filter_map(|g| self.groups.get(g).copied())
    }

    /// Add memberships (user, group): [`PAIRS_PER_INSERT`] a statement, the rest up to
    /// [`MEMBERS_PER_INSERT`] a statement.
    fn add_memberships(&mut self, pairs: &[(i64, i64)]) -> rusqlite::Result<()> {
        let mut whole = pairs.chunks_exact(PAIRS_PER_INSERT);
        let rest = whole.remainder().chunks(MEMBERS_PER_INSERT);
        for chunk in whole.by_ref().chain(rest) {
            // `add_pairs` holds the statements of 1 to MEMBERS_PER_INSERT pairs, then the one
            // of PAIRS_PER_INSERT: a chunk is one or the other.
            let at = chunk.len().min(MEMBERS_PER_INSERT + 1) - 1;
            let stmt = &mut self.add_pairs[at];
            let mut param = 0;
            for (pk, gpk) in chunk {
                bind(stmt, &mut param, &[pk, gpk])?;
            }
            stmt.raw_execute()?;
        }
        Ok(())
    }

    /// Write a user's fields, and the keys `keys` says (with the address: `Kept` is an
    /// address that does not change).
    fn write_user(&mut self, pk: i64, s: &UserState, keys: Keys) -> rusqlite::Result<()> {
        self.update_user.execute(params![
            pk,
            s.name,
            s.title,
            s.phone,
            s.phone2,
            s.hash() as i64,
            self.at
        ])?;
        match keys {
            Keys::Kept => {}
            Keys::Mail => {
                let key = super::stored_mail_key(pk, &s.mail);
                self.update_mail_key.execute(params![pk, s.mail, key])?;
            }
            Keys::Both => {
                let key = super::stored_mail_key(pk, &s.mail);
                self.update_keys
                    .execute(params![pk, s.unique_id, s.mail, key])?;
            }
        }
        Ok(())
    }

    /// A new user, with its memberships and its `created` audit row; returns its key. It is
    /// written with the next new users, or by [`Writer::write_new_users`].
    fn create_user(&mut self, user: NewUser) -> rusqlite::Result<i64> {
        let pk = self.next_pk;
        self.next_pk += 1;
        self.new_users.push((pk, user));
        if self.new_users.len() == CREATES_PER_INSERT {
            self.write_new_users()?;
        }
        Ok(pk)
    }

    /// The end of the writes: the new users still waiting are written.
    fn finish(mut self) -> rusqlite::Result<()> {
        self.write_new_users()?;
        self.created.flush()
    }

    /// Write the new users waiting: a whole batch with one statement per table, fewer one by one.
    fn write_new_users(&mut self) -> rusqlite::Result<()> {
        if self.new_users.is_empty() {
            return Ok(());
        }
        let users = std::mem::take(&mut self.new_users);
        let size = if users.len() == CREATES_PER_INSERT {
            CREATES_PER_INSERT
        } else {
            1
        };
        let (at, seq) = (&self.at, self.audited);
        for chunk in users.chunks(size) {
            let rows = self.insert_user.of(size);
            let mut param = 0;
            for (pk, u) in chunk {
                let s = &u.state;
                bind(
                    rows,
                    &mut param,
                    &[
                        &s.unique_id,
                        &s.name,
                        &s.mail,
                        &super::stored_mail_key(*pk, &s.mail),
                        &s.title,
                        &s.phone,
                        &s.phone2,
                        &u.hash,
                        at,
                        &None::<&str>,
                        pk,
                    ],
                )?;
            }
            rows.raw_execute()?;
            for (pk, u) in chunk {
                let s = &u.state;
                self.created.push(
                    *pk,
                    seq,
                    [
                        s.unique_id.as_deref(),
                        Some(&s.name),
                        Some(&s.mail),
                        s.title.as_deref(),
                        s.phone.as_deref(),
                        s.phone2.as_deref(),
                        u.groups.as_deref(),
                    ],
                )?;
            }
        }
        let pairs: Vec<(i64, i64)> = users
            .iter()
            .flat_map(|(pk, u)| self.group_keys(&u.state.groups).map(|gpk| (*pk, gpk)))
            .collect();
        self.add_memberships(&pairs)?;
        self.new_users = users;
        self.new_users.clear();
        Ok(())
    }
}

impl Store {
    /// Apply a plan in one transaction and record its run; returns the run's id.
    ///
    /// The page cache is large (256 MiB) while it writes, for the indexes an apply changes in place.
    /// Foreign keys are not checked during the transaction (SQLite would look up the user and
    /// the group of every membership written): the writes below keep them, and a deleted user's
    /// memberships are deleted with it.
    pub fn apply(
        &mut self,
        plan: &Plan,
        file: &ImportFile,
        run: &ApplyRun<'_>,
    ) -> anyhow::Result<i64> {
        let first_load = !self.has_users()?;
        // A first load writes nearly every page of the store anew. Through the WAL each page
        // would be written twice (the log, then the checkpoint); with a rollback journal the
        // new pages go once into the file, and the journal holds only the few pages that
        // existed. Switching needs the store to itself: when another process has it open, the
        // load goes through the WAL as any other apply.
        let journal = first_load
            && self
                .conn
                .query_row("PRAGMA journal_mode = DELETE", [], |r| {
                    r.get::<_, String>(0)
                })
                .is_ok_and(|mode| mode.eq_ignore_ascii_case("delete"));
        // Through the WAL, the commit leaves the copy of its pages into the store file (the
        // checkpoint) to a thread of its own (a rollback journal has no checkpoint to leave).
        // A first load only appends (the users' keys are indexed after it, sorted; the audit
        // log's indexes grow at their end), so a small page cache does: its memory is that of the file and the plan, not of the store.
        let cache = if first_load {
            FIRST_LOAD_CACHE_KIB
        } else {
            262_144
        };
        // The sorted runs of the index builds go to temporary files (the kernel's cache), not
        // into the process beside the plan.
        let temp = if first_load { "FILE" } else { "MEMORY" };
        self.conn.execute_batch(&format!(
            "PRAGMA foreign_keys = OFF; PRAGMA cache_size = -{cache}; PRAGMA wal_autocheckpoint = 0;
             PRAGMA temp_store = {temp};"
        ))?;
        log::debug!(
            "sqlite: one IMMEDIATE transaction for the apply ({})",
            if journal {
                "first load: rollback journal, the users' key indexes built after it"
            } else {
                "through the WAL"
            }
        );
        let applied = self.apply_unchecked(plan, file, run, first_load);
        log::debug!(
            "sqlite: the apply {}",
            if applied.is_ok() {
                "committed"
            } else {
                "rolled back"
            }
        );
        if journal {
            // Back to the WAL; should another process hold the store open just now, the next
            // open of the store switches it (the apply has happened either way).
            self.conn
                .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
                .ok();
        }
        self.conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA cache_size = -2000; PRAGMA wal_autocheckpoint = 1000;
             PRAGMA temp_store = MEMORY;",
        )?;
        if applied.is_ok() && !journal {
            self.checkpoint_beside();
        }
        applied
    }

    /// The writes of an apply, in the order SPEC §2 gives them, in one transaction: the run
    /// recorded, the groups it takes as known created, removals (they free addresses), users
    /// named again, reused addresses cleared, moving addresses parked, then creates and updates;
    /// the batch marked applied, the indexes a first load dropped built again, the commit.
    fn apply_unchecked(
        &mut self,
        plan: &Plan,
        file: &ImportFile,
        run: &ApplyRun<'_>,
        first_load: bool,
    ) -> anyhow::Result<i64> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Loading an empty store: the users' key indexes are built once after the load, which
        // is faster than keeping them in step with a million inserts.
        let rebuild = if first_load {
            drop_deferred_indexes(&tx)?
        } else {
            Vec::new()
        };
        let run_id = record_run(&tx, plan, &file.entries, run)?;
        runs::stamp(&tx, run_id, &self.operator)?;
        create_known_groups(&tx, run_id, &plan.group_ids)?;
        let mut w = Writer::new(&tx, run_id, group_keys(&tx)?)?;
        let mut tick = Ticks::new(self.progress.as_deref(), plan);
        w.remove_users(&tx, plan, run.missing_users, &mut tick)?;
        w.reset_absence(&tx, &plan.present_again)?;
        w.clear_reused_mail(&tx, &plan.mail_reused)?;
        park_moving_mail(&tx, plan)?;
        w.create_and_update(&tx, plan, file, run.invite, &mut tick)?;
        w.finish()?;
        mark_batch_applied(&tx, plan.batch, run_id)?;
        build_indexes(&tx, &rebuild)?;
        crate::stage::crash_point("apply-commit");
        tx.commit()?;
        Ok(run_id)
    }
}

/// Drop the indexes a first load builds after it ([`DEFERRED_INDEXES`]); returns their
/// definitions.
fn drop_deferred_indexes(tx: &Transaction<'_>) -> rusqlite::Result<Vec<String>> {
    let mut definition =
        tx.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1")?;
    let mut rebuild = Vec::with_capacity(DEFERRED_INDEXES.len());
    for name in DEFERRED_INDEXES {
        rebuild.push(definition.query_row([name], |r| r.get(0))?);
        tx.execute_batch(&format!("DROP INDEX {name}"))?;
    }
    Ok(rebuild)
}

/// Build the indexes a first load dropped, sorted, once after it.
fn build_indexes(tx: &Transaction<'_>, rebuild: &[String]) -> rusqlite::Result<()> {
    if rebuild.is_empty() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    for sql in rebuild {
        tx.execute_batch(sql)?;
    }
    log::debug!(
        "sqlite: {} indexes built in {:.3}s",
        rebuild.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Record the apply's run; returns its id.
fn record_run(
    tx: &Transaction<'_>,
    plan: &Plan,
    entries: &[crate::core::record::Entry],
    run: &ApplyRun<'_>,
) -> anyhow::Result<i64> {
    runs::insert(
        tx,
        &runs::NewRun {
            batch: Some(plan.batch),
            command: run.command,
            started_at: run.started_at,
            status: "applied",
            counts: Some(&plan.counts),
            message: None,
            detail: Some(run.detail),
            unknown_groups: Some(&plan.unknown_groups),
            problems: run.problems,
            each_problem: run.each_problem,
            rejected: Some((plan, entries)),
        },
    )
}

/// Groups the plan takes as known but the store has not (`unknown_groups = "create"`):
/// created with their ID as their name (or `ID (import)` when a group has that name), each
/// with its audit row, so that a revert of this run removes it again.
fn create_known_groups(
    tx: &Transaction<'_>,
    run_id: i64,
    ids: &HashSet<String>,
) -> rusqlite::Result<()> {
    for id in ids {
        let exists = tx
            .prepare_cached("SELECT 1 FROM groups WHERE group_id = ?1")?
            .exists([id])?;
        if exists {
            continue;
        }
        let taken = tx
            .prepare_cached("SELECT 1 FROM groups WHERE name = ?1")?
            .exists([id])?;
        let name = if taken {
            format!("{id} (import)")
        } else {
            id.clone()
        };
        tx.execute(
            "INSERT INTO groups (group_id, name, created_at) VALUES (?1, ?2, ?3)",
            params![id, name, super::now()],
        )?;
        super::groups::audit_group(
            tx,
            run_id,
            tx.last_insert_rowid(),
            Some(id),
            "created",
            None,
            Some(&name),
            None,
        )?;
    }
    Ok(())
}

/// The key of every group with a Group ID.
fn group_keys(tx: &Transaction<'_>) -> rusqlite::Result<HashMap<String, i64>> {
    let mut stmt = tx.prepare("SELECT group_id, pk FROM groups WHERE group_id IS NOT NULL")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    rows.collect()
}

/// A user's stored fields with its groups: the values the log keeps of a user deleted or of
/// an address cleared, for a revert.
fn stored_with_groups(tx: &Transaction<'_>, pk: i64) -> rusqlite::Result<UserState> {
    let mut old = super::directory::stored_fields(tx, pk)?;
    old.groups = tx
        .prepare_cached(
            "SELECT g.group_id FROM memberships m JOIN groups g ON g.pk = m.group_pk
             WHERE m.user_pk = ?1 AND g.group_id IS NOT NULL ORDER BY g.group_id",
        )?
        .query_map([pk], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(old)
}

/// Addresses that move between users: parked first so that a swap never collides.
fn park_moving_mail(tx: &Transaction<'_>, plan: &Plan) -> rusqlite::Result<()> {
    for c in &plan.changes {
        if let (Some(pk), true) = (c.pk(), c.changes("mail")) {
            if matches!(
                c.action,
                Action::Update | Action::Reactivate | Action::Adopt
            ) {
                tx.prepare_cached("UPDATE users SET mail_key = ?2 WHERE pk = ?1")?
                    .execute(params![pk, format!("\u{1}{pk}")])?;
            }
        }
    }
    Ok(())
}

/// The plan's batch is applied; a rollback (an older batch applied) undoes every newer
/// applied batch.
fn mark_batch_applied(tx: &Transaction<'_>, batch: i64, run_id: i64) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE batches SET status = 'applied' WHERE id = ?1",
        [batch],
    )?;
    tx.execute(
        "UPDATE batches SET status = 'reverted', reverted_by = ?2 WHERE id > ?1 AND status = 'applied'",
        [batch, run_id],
    )?;
    Ok(())
}

/// The progress of the writes: `report(rows written, rows to write)` every 512 rows and at
/// the last.
struct Ticks<'p> {
    report: Option<&'p (dyn Fn(u64, u64) + Send + Sync)>,
    written: u64,
    to_write: u64,
}

impl<'p> Ticks<'p> {
    fn new(report: Option<&'p (dyn Fn(u64, u64) + Send + Sync)>, plan: &Plan) -> Self {
        let to_write = plan
            .changes
            .iter()
            .filter(|c| c.action != Action::Invalid)
            .count() as u64;
        Ticks {
            report,
            written: 0,
            to_write,
        }
    }

    fn tick(&mut self) {
        self.written += 1;
        if self.written.is_multiple_of(512) || self.written == self.to_write {
            if let Some(report) = self.report {
                report(self.written, self.to_write);
            }
        }
    }
}

impl Writer<'_> {
    /// Removals first, so that deleted users free their addresses: a user deleted
    /// (`import.missing_users = "delete"`), deactivated, or counted absent once more.
    fn remove_users(
        &mut self,
        tx: &Transaction<'_>,
        plan: &Plan,
        missing_users: MissingUsers,
        tick: &mut Ticks<'_>,
    ) -> rusqlite::Result<()> {
        for c in plan
            .changes
            .iter()
            .filter(|c| matches!(c.action, Action::Remove | Action::Missing))
        {
            tick.tick();
            let Some(pk) = c.pk() else { continue };
            let uid = c.unique_id.as_deref();
            if c.action == Action::Remove && missing_users == MissingUsers::Delete {
                self.delete_user(tx, pk, uid)?;
                continue;
            }
            let absent = c.absent().unwrap_or(1);
            if c.action == Action::Missing {
                self.audit_absence(tx, pk, uid, i64::from(absent), Some(plan.batch))?;
            }
            if c.action == Action::Remove {
                self.audit(pk, uid, "status", Some("active"), Some("deactivated"))?;
                // A deactivated user is not invited: its queued invitation goes.
                tx.prepare_cached(super::outbox::CANCEL_PENDING)?
                    .execute([pk])?;
            }
            tx.prepare_cached(
                "UPDATE users SET missing_count = ?2, last_missing_batch = ?3,
                 active = CASE WHEN ?4 THEN 0 ELSE active END, updated_at = CASE WHEN ?4 THEN ?5 ELSE updated_at END
                 WHERE pk = ?1",
            )?
            .execute(params![pk, absent, plan.batch, c.action == Action::Remove, self.at])?;
        }
        Ok(())
    }

    /// Delete a user, its every value (groups too) in the log first, for a revert.
    fn delete_user(
        &mut self,
        tx: &Transaction<'_>,
        pk: i64,
        uid: Option<&str>,
    ) -> rusqlite::Result<()> {
        let old = stored_with_groups(tx, pk)?;
        let gone = UserState {
            active: false,
            ..UserState::default()
        };
        for f in diff_fields(Some(&old), &gone) {
            let new = (f.field == "status").then_some("deleted");
            self.audit(pk, uid, f.field, f.old.as_deref(), new)?;
        }
        tx.prepare_cached("DELETE FROM memberships WHERE user_pk = ?1")?
            .execute([pk])?;
        tx.prepare_cached("DELETE FROM users WHERE pk = ?1")?
            .execute([pk])?;
        Ok(())
    }

    /// Users absent before and named again: their counter starts over (before the updates,
    /// whose audit rows would otherwise hold the counter already cleared).
    fn reset_absence(&mut self, tx: &Transaction<'_>, again: &[i64]) -> rusqlite::Result<()> {
        for &pk in again {
            self.audit_absence(tx, pk, None, 0, None)?;
            tx.prepare_cached(
                "UPDATE users SET missing_count = 0, last_missing_batch = NULL WHERE pk = ?1",
            )?
            .execute([pk])?;
        }
        Ok(())
    }

    /// Addresses given to new holders (`import.reuse_mail_of_deactivated`): the deactivated
    /// user's mail is cleared, with an audit row, before anyone takes it.
    fn clear_reused_mail(
        &mut self,
        tx: &Transaction<'_>,
        reused: &[crate::core::plan::Reused],
    ) -> rusqlite::Result<()> {
        for r in reused {
            let mut old = stored_with_groups(tx, r.pk)?;
            self.audit(
                r.pk,
                old.unique_id.as_deref(),
                "mail",
                Some(&old.mail),
                None,
            )?;
            // An invitation still waiting would now reach the address's new holder.
            tx.prepare_cached(
                "DELETE FROM outbox WHERE kind = 'invitation' AND user_pk = ?1 AND status = 'pending'",
            )?
            .execute([r.pk])?;
            old.mail.clear();
            tx.prepare_cached(
                "UPDATE users SET mail = '', mail_key = ?2, row_hash = ?3, updated_at = ?4 WHERE pk = ?1",
            )?
            .execute(params![
                r.pk,
                super::mail_key_of(r.pk, ""),
                old.hash() as i64,
                self.at
            ])?;
        }
        Ok(())
    }

    /// The creates and updates, in the plan's order.
    fn create_and_update(
        &mut self,
        tx: &Transaction<'_>,
        plan: &Plan,
        file: &ImportFile,
        invite: bool,
        tick: &mut Ticks<'_>,
    ) -> rusqlite::Result<()> {
        for c in &plan.changes {
            match c.action {
                Action::Remove | Action::Missing | Action::Invalid => {}
                Action::Create => {
                    tick.tick();
                    if let Some(user) = plan.new_state(c, file).map(NewUser::of) {
                        self.create(tx, user, invite)?;
                    }
                }
                Action::Adopt | Action::Update | Action::Reactivate => {
                    tick.tick();
                    self.update(c)?;
                }
                _ => tick.tick(),
            }
        }
        Ok(())
    }

    /// A new user, with its invitation queued when `invite`.
    fn create(
        &mut self,
        tx: &Transaction<'_>,
        user: NewUser,
        invite: bool,
    ) -> rusqlite::Result<()> {
        let invitation = invite.then(|| user.state.mail.clone());
        let pk = self.create_user(user)?;
        if let Some(mail) = invitation {
            tx.prepare_cached(
                "INSERT INTO outbox (kind, user_pk, recipient, run_id, status, created_at)
                 VALUES ('invitation', ?1, ?2, ?3, 'pending', ?4)",
            )?
            .execute(params![pk, mail, self.run, self.at])?;
        }
        Ok(())
    }

    /// An existing user's change (adopted, updated, reactivated): its audit rows first (they
    /// keep what the row held before), then its row and its groups.
    fn update(&mut self, c: &crate::core::plan::Change) -> rusqlite::Result<()> {
        let (Some(pk), Some(new)) = (c.pk(), c.state()) else {
            return Ok(());
        };
        let uid = c.unique_id.as_deref();
        for f in c.fields() {
            self.audit(pk, uid, f.field, f.old.as_deref(), f.new.as_deref())?;
        }
        let keys = if c.action == Action::Adopt {
            Keys::Both
        } else if c.changes("mail") {
            Keys::Mail
        } else {
            Keys::Kept
        };
        self.write_user(pk, new, keys)?;
        if c.changes("groups") {
            self.set_groups(pk, &new.groups)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `created` row holds what a diff against no user lists, as before it was built directly.
    #[test]
    fn created_values_are_the_fields_of_a_create() {
        let full = UserState {
            unique_id: Some("E1".into()),
            name: "Åsa \"Bee\" Öberg".into(),
            mail: "asa@example.se".into(),
            title: Some("Nurse".into()),
            phone: Some("+46701234567".into()),
            phone2: Some("+4681234567".into()),
            groups: vec!["ER".into(), "ICU".into()],
            active: true,
        };
        let bare = UserState {
            title: None,
            phone: None,
            phone2: None,
            groups: Vec::new(),
            ..full.clone()
        };
        for state in [full, bare] {
            let want: serde_json::Map<String, serde_json::Value> = diff_fields(None, &state)
                .into_iter()
                .filter_map(|f| Some((f.field.to_string(), serde_json::Value::String(f.new?))))
                .collect();
            assert_eq!(
                created_values(&state),
                serde_json::Value::Object(want).to_string()
            );
        }
    }
}

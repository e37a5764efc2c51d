//! Undoing one run from its audit rows (SPEC §2, Revert), computed without I/O: each field
//! goes back where the user still holds the run's new value; anything changed since is a
//! conflict, left as it is and listed.

use super::mail;
use super::plan::{diff_fields, Action, Counts, FieldChange, Holder, UserState};
use super::policy::MissingUsers;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// What the user's row held beside its fields before a change (the audit row's `was`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Was {
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub missing_count: Option<i64>,
    pub last_missing_batch: Option<i64>,
    #[serde(default)]
    pub manual_groups: Vec<String>,
}

/// One audit row of the run to revert.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub user_pk: i64,
    pub unique_id: Option<String>,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub was: Option<Was>,
}

/// A user as the store holds it now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Current {
    pub state: UserState,
    /// Names of the manual groups the user is in, sorted.
    pub manual_groups: Vec<String>,
    /// Files absent in a row (`import.remove_after_missing`), and the batch that last counted.
    pub missing_count: i64,
    pub last_missing_batch: Option<i64>,
}

/// Why a revert leaves a field as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Why {
    /// The field no longer holds what the run wrote (or its user or group is gone, or taken).
    ChangedSince,
    /// The address the revert would give back is another user's now (`held_by`), as an
    /// import's record whose Mail another user has is `mail-taken`.
    MailTaken,
}

/// A field the revert leaves as it is, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub unique_id: Option<String>,
    /// The user's mail, for manual users (who have no UniqueID).
    pub mail: Option<String>,
    /// A group's conflict: its Group ID, or its name (then `unique_id` and `mail` are null).
    pub group: Option<String>,
    pub field: String,
    pub now: Option<String>,
    pub run_new: Option<String>,
    pub reason: Why,
    /// For `mail-taken`: the address, and the UniqueID of the user who has it now (none for a
    /// manual user).
    pub taken: Option<String>,
    pub held_by: Option<String>,
}

impl Conflict {
    /// The same conflict, for an address that `holder` has now.
    fn taken_by(self, address: &str, holder: &Holder) -> Conflict {
        Conflict {
            reason: Why::MailTaken,
            taken: Some(address.to_string()),
            held_by: holder.unique_id.clone(),
            ..self
        }
    }
}

/// What the revert does to one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Write these values (fields, memberships, and the row's times when `was` is known).
    Set(Current, Option<Was>),
    /// Bring back a user the run deleted.
    Recreate(Current, Option<Was>),
    /// Delete the user (one the run created, per `import.missing_users`).
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRevert {
    pub pk: i64,
    pub action: Action,
    pub unique_id: Option<String>,
    /// The fields as the revert's own audit rows hold them (old = now, new = restored).
    pub fields: Vec<FieldChange>,
    pub target: Target,
}

#[derive(Debug, Clone, Default)]
pub struct RevertPlan {
    pub changes: Vec<UserRevert>,
    /// Groups brought back and renamed back (before the users' changes), and removed (after).
    pub groups: Vec<GroupChange>,
    pub conflicts: Vec<Conflict>,
    pub counts: Counts,
}

fn join(groups: &[String]) -> Option<String> {
    (!groups.is_empty()).then(|| groups.join(","))
}

fn status(active: bool) -> &'static str {
    if active {
        "active"
    } else {
        "deactivated"
    }
}

fn split(groups: Option<&str>, known: &HashSet<String>) -> Vec<String> {
    let mut out: Vec<String> = groups
        .unwrap_or("")
        .split(',')
        .filter(|g| !g.is_empty() && known.contains(*g))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn manual_json(groups: &[String]) -> String {
    serde_json::to_string(groups).unwrap_or_default()
}

/// The value of a field (as audit rows name it) in a user's state.
fn value(c: &Current, field: &str) -> Option<String> {
    let s = &c.state;
    match field {
        "unique_id" => s.unique_id.clone(),
        "name" => Some(s.name.clone()),
        // A cleared address (given to another user) is no value, as its audit row has it.
        "mail" => (!s.mail.is_empty()).then(|| s.mail.clone()),
        "title" => s.title.clone(),
        "phone" => s.phone.clone(),
        "phone2" => s.phone2.clone(),
        "groups" => join(&s.groups),
        "status" => Some(status(s.active).to_string()),
        "manual_groups" => Some(manual_json(&c.manual_groups)),
        "missing_count" => Some(c.missing_count.to_string()),
        _ => None,
    }
}

/// Set a field of a state to an audit row's old value (`was`: what the row held beside it).
fn set(
    c: &mut Current,
    field: &str,
    old: Option<&str>,
    was: Option<&Was>,
    known: &HashSet<String>,
) {
    let s = &mut c.state;
    let text = || old.map(str::to_string);
    match field {
        "unique_id" => s.unique_id = text(),
        "name" => s.name = old.unwrap_or_default().to_string(),
        "mail" => s.mail = old.unwrap_or_default().to_string(),
        "title" => s.title = text(),
        "phone" => s.phone = text(),
        "phone2" => s.phone2 = text(),
        "groups" => s.groups = split(old, known),
        "status" => s.active = old == Some("active"),
        "manual_groups" => {
            c.manual_groups = old
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or_default();
            c.manual_groups.sort();
        }
        "missing_count" => {
            c.missing_count = old.and_then(|o| o.parse().ok()).unwrap_or(0);
            c.last_missing_batch = was.and_then(|w| w.last_missing_batch);
        }
        _ => {}
    }
}

/// The audit rows of a change from `from` to `to` (either may be absent: a creation, a
/// deletion), as a deletion and a creation write them (`status` to or from `deleted`).
pub fn fields_between(from: Option<&Current>, to: Option<&Current>) -> Vec<FieldChange> {
    let empty = Current::default();
    let a = from.unwrap_or(&empty);
    let b = to.unwrap_or(&empty);
    let mut out = Vec::new();
    if a.state.unique_id != b.state.unique_id {
        out.push(FieldChange {
            field: "unique_id",
            old: a.state.unique_id.clone(),
            new: b.state.unique_id.clone(),
        });
    }
    for mut f in diff_fields(from.map(|c| &c.state), &b.state) {
        if to.is_none() {
            f.new = (f.field == "status").then(|| "deleted".to_string());
        }
        if from.is_none() && f.field == "status" {
            f.old = Some("deleted".to_string());
        }
        if f.old != f.new {
            out.push(f);
        }
    }
    if from.is_some() && to.is_none() && !out.iter().any(|f| f.field == "status") {
        out.push(FieldChange {
            field: "status",
            old: Some(status(a.state.active).to_string()),
            new: Some("deleted".to_string()),
        });
    }
    if a.manual_groups != b.manual_groups {
        out.push(FieldChange {
            field: "manual_groups",
            old: Some(manual_json(&a.manual_groups)),
            new: Some(manual_json(&b.manual_groups)),
        });
    }
    // The absence counter of a user that stays (its batch goes with it, in the row's `was`).
    if from.is_some()
        && to.is_some()
        && (a.missing_count, a.last_missing_batch) != (b.missing_count, b.last_missing_batch)
    {
        out.push(FieldChange {
            field: "missing_count",
            old: Some(a.missing_count.to_string()),
            new: Some(b.missing_count.to_string()),
        });
    }
    out
}

/// Plan the revert of a run from its audit rows (in the order they were written) and the
/// users they name as they are now. `holder` tells who holds a mail key now.
pub fn plan(
    rows: &[AuditEntry],
    current: &HashMap<i64, Current>,
    missing_users: MissingUsers,
    known_groups: &HashSet<String>,
    holder: &dyn Fn(&str) -> Option<Holder>,
) -> RevertPlan {
    let mut out = RevertPlan::default();
    for user in UserRows::of(rows, current) {
        if user.created() {
            out.changes.extend(user.remove_created(missing_users));
        } else if user.deleted() {
            user.bring_back(known_groups, holder, &mut out);
        } else if let Some(now) = user.now {
            let (change, conflicts) = user.undo(now, known_groups);
            out.conflicts.extend(conflicts);
            out.changes.extend(change);
        } else {
            // The user is gone since: every field is a conflict.
            let gone = user
                .rows
                .iter()
                .map(|r| user.conflict(&r.field, None, r.new.clone()));
            out.conflicts.extend(gone);
        }
    }
    resolve_mail(&mut out, current, holder);
    for c in &out.changes {
        out.counts.add(c.action);
    }
    out
}

/// The audit rows of one user, with the user as it is now.
struct UserRows<'a> {
    pk: i64,
    rows: Vec<&'a AuditEntry>,
    /// The UniqueID the rows name.
    uid: Option<String>,
    now: Option<&'a Current>,
    /// What the user's row held beside its fields before the run.
    was: Option<Was>,
}

impl<'a> UserRows<'a> {
    /// The rows of each user, in the order the run first wrote one of theirs.
    fn of(rows: &'a [AuditEntry], current: &'a HashMap<i64, Current>) -> Vec<UserRows<'a>> {
        let mut users: Vec<UserRows<'a>> = Vec::new();
        let mut at: HashMap<i64, usize> = HashMap::new();
        for r in rows {
            let i = *at.entry(r.user_pk).or_insert_with(|| {
                users.push(UserRows {
                    pk: r.user_pk,
                    rows: Vec::new(),
                    uid: None,
                    now: current.get(&r.user_pk),
                    was: None,
                });
                users.len() - 1
            });
            users[i].rows.push(r);
        }
        for user in &mut users {
            user.uid = user.rows.iter().find_map(|r| r.unique_id.clone());
            user.was = user.rows.iter().find_map(|r| r.was.clone());
        }
        users
    }

    fn conflict(&self, field: &str, now: Option<String>, run_new: Option<String>) -> Conflict {
        Conflict {
            unique_id: self
                .now
                .and_then(|c| c.state.unique_id.clone())
                .or_else(|| self.uid.clone()),
            mail: self.now.map(|c| c.state.mail.clone()),
            group: None,
            field: field.to_string(),
            now,
            run_new,
            reason: Why::ChangedSince,
            taken: None,
            held_by: None,
        }
    }

    /// The run created the user.
    fn created(&self) -> bool {
        self.rows.iter().any(|r| r.field == "created")
    }

    /// The run deleted the user.
    fn deleted(&self) -> bool {
        let deleted = |r: &&AuditEntry| r.field == "status" && r.new.as_deref() == Some("deleted");
        self.rows.iter().any(deleted)
    }

    /// A user the run created: removed per `import.missing_users` (a manual one deleted).
    fn remove_created(&self, missing_users: MissingUsers) -> Option<UserRevert> {
        let c = self.now?;
        let remove = |fields, target| UserRevert {
            pk: self.pk,
            action: Action::Remove,
            unique_id: c.state.unique_id.clone(),
            fields,
            target,
        };
        let manual = c.state.unique_id.is_none();
        if manual || missing_users == MissingUsers::Delete {
            return Some(remove(fields_between(Some(c), None), Target::Delete));
        }
        if missing_users != MissingUsers::Deactivate || !c.state.active {
            return None;
        }
        let mut t = c.clone();
        t.state.active = false;
        let fields = fields_between(Some(c), Some(&t));
        Some(remove(fields, Target::Set(t, None)))
    }

    /// A user the run deleted comes back with the values it had, unless a user with its key
    /// or its address is there now (a conflict).
    fn bring_back(
        &self,
        known_groups: &HashSet<String>,
        holder: &dyn Fn(&str) -> Option<Holder>,
        out: &mut RevertPlan,
    ) {
        if let Some(c) = self.now {
            let now = value(c, "status");
            out.conflicts
                .push(self.conflict("status", now, Some("deleted".into())));
            return;
        }
        let mut t = Current {
            state: UserState {
                unique_id: self.uid.clone(),
                ..UserState::default()
            },
            manual_groups: self
                .was
                .as_ref()
                .map(|w| w.manual_groups.clone())
                .unwrap_or_default(),
            ..Current::default()
        };
        t.manual_groups.sort();
        for r in &self.rows {
            let (old, was) = (r.old.as_deref(), r.was.as_ref());
            set(&mut t, &r.field, old, was, known_groups);
        }
        if let Some(w) = &self.was {
            t.missing_count = w.missing_count.unwrap_or(0);
            t.last_missing_batch = w.last_missing_batch;
        }
        if let Some(h) = holder(&mail::key(&t.state.mail)).filter(|h| h.pk != self.pk) {
            let conflict = self.conflict("mail", Some(t.state.mail.clone()), None);
            out.conflicts.push(conflict.taken_by(&t.state.mail, &h));
            return;
        }
        out.changes.push(UserRevert {
            pk: self.pk,
            action: Action::Create,
            unique_id: self.uid.clone(),
            fields: fields_between(None, Some(&t)),
            target: Target::Recreate(t, self.was.clone()),
        });
    }

    /// Each field goes back where the user still holds the run's new value; a field changed
    /// since is a conflict. A user the run brought back from deletion is deleted again.
    fn undo(
        &self,
        c: &Current,
        known_groups: &HashSet<String>,
    ) -> (Option<UserRevert>, Vec<Conflict>) {
        let mut t = c.clone();
        let mut conflicts = Vec::new();
        let mut delete = false;
        for r in &self.rows {
            if !still_holds(c, r) {
                conflicts.push(self.conflict(&r.field, value(c, &r.field), r.new.clone()));
                continue;
            }
            delete |= r.field == "status" && r.old.as_deref() == Some("deleted");
            set(
                &mut t,
                &r.field,
                r.old.as_deref(),
                r.was.as_ref(),
                known_groups,
            );
        }
        let conflicted = !conflicts.is_empty();
        if delete {
            let change = UserRevert {
                pk: self.pk,
                action: Action::Remove,
                unique_id: c.state.unique_id.clone(),
                fields: fields_between(Some(c), None),
                target: Target::Delete,
            };
            return (Some(change), conflicts);
        }
        restore_absence(&mut t, c, self.was.as_ref(), conflicted);
        if t == *c {
            return (None, conflicts);
        }
        let change = UserRevert {
            pk: self.pk,
            action: undo_action(c, &t),
            unique_id: c
                .state
                .unique_id
                .clone()
                .or_else(|| t.state.unique_id.clone()),
            fields: fields_between(Some(c), Some(&t)),
            // The row's times go back too when every field did.
            target: Target::Set(t, if conflicted { None } else { self.was.clone() }),
        };
        (Some(change), conflicts)
    }
}

/// True when the user still holds the value the run wrote into the field.
fn still_holds(c: &Current, r: &AuditEntry) -> bool {
    if r.field != "manual_groups" {
        return value(c, &r.field) == r.new;
    }
    let want: Option<Vec<String>> = r.new.as_deref().and_then(|n| serde_json::from_str(n).ok());
    want.map(|mut w| {
        w.sort();
        w
    }) == Some(c.manual_groups.clone())
}

/// The absence counter of a user the revert changes: back whole with the row (when every field
/// went back), or zero for a user brought back without what its row held (present now).
fn restore_absence(t: &mut Current, c: &Current, was: Option<&Was>, conflicted: bool) {
    match (was, conflicted) {
        (Some(w), false) => {
            t.missing_count = w.missing_count.unwrap_or(0);
            t.last_missing_batch = w.last_missing_batch;
        }
        _ if t.state.active && !c.state.active => {
            t.missing_count = 0;
            t.last_missing_batch = None;
        }
        _ => {}
    }
}

/// What undoing the run's fields does to a user, from what it is to what it becomes.
fn undo_action(c: &Current, t: &Current) -> Action {
    match (c.state.active, t.state.active) {
        (false, true) => Action::Reactivate,
        (true, false) => Action::Remove,
        _ if t.state == c.state && t.manual_groups == c.manual_groups => Action::Missing,
        _ => Action::Update,
    }
}

/// An address the revert gives back that another user holds now (and keeps) is a conflict,
/// `mail-taken`, naming that user: the user keeps the address it has.
fn resolve_mail(
    out: &mut RevertPlan,
    current: &HashMap<i64, Current>,
    holder: &dyn Fn(&str) -> Option<Holder>,
) {
    let mut released: HashSet<String> = HashSet::new();
    for c in &out.changes {
        let Some(cur) = current.get(&c.pk) else {
            continue;
        };
        let gives_up = match &c.target {
            Target::Delete => true,
            Target::Set(t, _) => mail::key(&t.state.mail) != mail::key(&cur.state.mail),
            Target::Recreate(..) => false,
        };
        if gives_up {
            released.insert(mail::key(&cur.state.mail).into_owned());
        }
    }
    let mut conflicts = Vec::new();
    for c in &mut out.changes {
        let (Target::Set(t, was), Some(cur)) = (&mut c.target, current.get(&c.pk)) else {
            continue;
        };
        let key = mail::key(&t.state.mail).into_owned();
        if key == mail::key(&cur.state.mail) {
            continue;
        }
        let Some(h) = holder(&key).filter(|h| h.pk != c.pk && !released.contains(&key)) else {
            continue;
        };
        conflicts.push(Conflict {
            unique_id: cur.state.unique_id.clone(),
            mail: Some(cur.state.mail.clone()),
            group: None,
            field: "mail".into(),
            now: Some(cur.state.mail.clone()),
            run_new: Some(cur.state.mail.clone()),
            reason: Why::MailTaken,
            taken: Some(t.state.mail.clone()),
            held_by: h.unique_id,
        });
        t.state.mail = cur.state.mail.clone();
        *was = None;
        c.fields = fields_between(Some(cur), Some(t));
    }
    out.changes.retain(|c| !c.fields.is_empty());
    out.conflicts.extend(conflicts);
}

/// One group row of the audit log (`group_audit`): a group the run `created`, renamed
/// (`name`, old → new) or `removed` (old: its name; `created_at` kept to bring it back).
#[derive(Debug, Clone, Default)]
pub struct GroupEntry {
    pub group_pk: i64,
    pub group_id: Option<String>,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub created_at: Option<String>,
}

/// A group as the store holds it now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupNow {
    pub pk: i64,
    pub group_id: Option<String>,
    pub name: String,
    pub created_at: String,
    /// Its members (active or not).
    pub members: Vec<i64>,
}

/// What a revert does to one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange {
    /// Bring back a group the run removed (its memberships come back with the users' rows).
    Recreate {
        pk: i64,
        group_id: Option<String>,
        name: String,
        created_at: Option<String>,
    },
    /// Give a group the run renamed its old name back.
    Rename { pk: i64, from: String, to: String },
    /// Remove a group the run created, which nothing uses after the revert.
    Remove {
        pk: i64,
        group_id: Option<String>,
        name: String,
        created_at: String,
    },
}

impl GroupChange {
    /// As the revert's JSON lists it.
    pub fn json(&self) -> serde_json::Value {
        match self {
            GroupChange::Recreate { group_id, name, .. } => {
                serde_json::json!({"action": "create", "id": group_id, "name": name})
            }
            GroupChange::Rename { from, to, .. } => {
                serde_json::json!({"action": "rename", "old": from, "new": to})
            }
            GroupChange::Remove { group_id, name, .. } => {
                serde_json::json!({"action": "remove", "id": group_id, "name": name})
            }
        }
    }
}

fn group_conflict(
    g: Option<&GroupNow>,
    label: &str,
    field: &str,
    now: Option<String>,
    run_new: Option<String>,
) -> Conflict {
    Conflict {
        unique_id: None,
        mail: None,
        group: Some(g.map_or_else(
            || label.to_string(),
            |g| g.group_id.clone().unwrap_or_else(|| g.name.clone()),
        )),
        field: field.to_string(),
        now,
        run_new,
        reason: Why::ChangedSince,
        taken: None,
        held_by: None,
    }
}

/// The groups a revert brings back and renames back, decided before the users' changes (whose
/// memberships need the groups): a removed group comes back when neither its Group ID nor its
/// name is taken now; a renamed one gets its old name back when it still has the run's name
/// and no other group has the old one. Anything else is a conflict.
pub fn plan_groups_back(
    rows: &[GroupEntry],
    groups: &[GroupNow],
    out: &mut RevertPlan,
) -> HashSet<String> {
    let mut back = HashSet::new();
    let by_pk: HashMap<i64, &GroupNow> = groups.iter().map(|g| (g.pk, g)).collect();
    let name_taken =
        |name: &str, except: i64| groups.iter().any(|g| g.name == name && g.pk != except);
    for r in rows {
        let label = r
            .group_id
            .clone()
            .or_else(|| r.old.clone())
            .or_else(|| r.new.clone())
            .unwrap_or_default();
        match r.field.as_str() {
            "removed" => {
                let name = r.old.clone().unwrap_or_default();
                let holder = groups
                    .iter()
                    .find(|g| (r.group_id.is_some() && g.group_id == r.group_id) || g.name == name);
                if let Some(h) = holder {
                    out.conflicts.push(group_conflict(
                        Some(h),
                        &label,
                        "group",
                        Some(h.name.clone()),
                        Some("removed".into()),
                    ));
                    continue;
                }
                if let Some(id) = &r.group_id {
                    back.insert(id.clone());
                }
                out.groups.push(GroupChange::Recreate {
                    pk: r.group_pk,
                    group_id: r.group_id.clone(),
                    name,
                    created_at: r.created_at.clone(),
                });
            }
            "name" => {
                let (Some(old), Some(new)) = (&r.old, &r.new) else {
                    continue;
                };
                let now = by_pk.get(&r.group_pk).copied();
                match now {
                    Some(g) if g.name == *new && !name_taken(old, g.pk) => {
                        out.groups.push(GroupChange::Rename {
                            pk: g.pk,
                            from: new.clone(),
                            to: old.clone(),
                        });
                    }
                    _ => out.conflicts.push(group_conflict(
                        now,
                        &label,
                        "name",
                        now.map(|g| g.name.clone()),
                        Some(new.clone()),
                    )),
                }
            }
            _ => {}
        }
    }
    back
}

/// The groups the run created that the revert removes: those as the run left them (same
/// name) that no user is in after the revert, other than users the run created and the
/// revert removes; those users' memberships in them go with them. A group still in use, or
/// renamed since, stays and is a conflict.
pub fn plan_groups_gone(
    rows: &[GroupEntry],
    groups: &[GroupNow],
    created_users: &HashSet<i64>,
    current: &HashMap<i64, Current>,
    out: &mut RevertPlan,
) {
    let by_pk: HashMap<i64, &GroupNow> = groups.iter().map(|g| (g.pk, g)).collect();
    let targets = targets(&out.changes);
    let mut gone: Vec<&GroupNow> = Vec::new();
    for r in rows.iter().filter(|r| r.field == "created") {
        let Some(g) = by_pk.get(&r.group_pk).copied() else {
            continue;
        };
        if r.new.as_deref().is_some_and(|n| n != g.name) {
            let now = Some(g.name.clone());
            let conflict = group_conflict(Some(g), &g.name, "name", now, r.new.clone());
            out.conflicts.push(conflict);
            continue;
        }
        let users = members_after(g, &out.changes, &targets, created_users);
        if users > 0 {
            let now = Some(users.to_string());
            let conflict = group_conflict(Some(g), &g.name, "members", now, None);
            out.conflicts.push(conflict);
            continue;
        }
        out.groups.push(GroupChange::Remove {
            pk: g.pk,
            group_id: g.group_id.clone(),
            name: g.name.clone(),
            created_at: g.created_at.clone(),
        });
        gone.push(g);
    }
    leave_groups(&mut out.changes, &gone, current);
}

/// What each user the revert changes becomes (none: deleted).
fn targets(changes: &[UserRevert]) -> HashMap<i64, Option<&Current>> {
    changes
        .iter()
        .map(|c| {
            let t = match &c.target {
                Target::Set(t, _) | Target::Recreate(t, _) => Some(t),
                Target::Delete => None,
            };
            (c.pk, t)
        })
        .collect()
}

/// How many users are in a group after the revert: its members the revert leaves alone, and
/// those it changes that stay in it, other than users the run created that the revert
/// deactivates or deletes.
fn members_after(
    g: &GroupNow,
    changes: &[UserRevert],
    targets: &HashMap<i64, Option<&Current>>,
    created_users: &HashSet<i64>,
) -> usize {
    let member = |t: &Current| match &g.group_id {
        Some(id) => t.state.groups.contains(id),
        None => t.manual_groups.contains(&g.name),
    };
    let leaving = |pk: &i64| {
        created_users.contains(pk)
            && targets
                .get(pk)
                .is_some_and(|t| t.is_none_or(|t| !t.state.active))
    };
    let untouched = g.members.iter().filter(|pk| !targets.contains_key(pk));
    let staying = changes
        .iter()
        .filter(|c| !leaving(&c.pk))
        .filter(|c| targets[&c.pk].is_some_and(member));
    untouched.count() + staying.count()
}

/// The leaving users' memberships in the removed groups go in the revert's own rows.
fn leave_groups(changes: &mut [UserRevert], gone: &[&GroupNow], current: &HashMap<i64, Current>) {
    if gone.is_empty() {
        return;
    }
    for c in changes {
        let Target::Set(t, _) = &mut c.target else {
            continue;
        };
        let before = t.clone();
        for g in gone {
            match &g.group_id {
                Some(id) => t.state.groups.retain(|x| x != id),
                None => t.manual_groups.retain(|x| *x != g.name),
            }
        }
        if *t != before {
            if let Some(cur) = current.get(&c.pk) {
                c.fields = fields_between(Some(cur), Some(t));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        pk: i64,
        id: Option<&str>,
        field: &str,
        old: Option<&str>,
        new: Option<&str>,
    ) -> GroupEntry {
        GroupEntry {
            group_pk: pk,
            group_id: id.map(str::to_string),
            field: field.to_string(),
            old: old.map(str::to_string),
            new: new.map(str::to_string),
            created_at: Some("2026-01-01T00:00:00Z".into()),
        }
    }

    fn group(pk: i64, id: Option<&str>, name: &str, members: &[i64]) -> GroupNow {
        GroupNow {
            pk,
            group_id: id.map(str::to_string),
            name: name.to_string(),
            created_at: "t".into(),
            members: members.to_vec(),
        }
    }

    /// What a plan did to the groups: each change or conflict as one short line.
    fn outcome(plan: &RevertPlan) -> Vec<String> {
        let mut out: Vec<String> = plan
            .groups
            .iter()
            .map(|g| match g {
                GroupChange::Recreate { name, .. } => format!("recreate {name}"),
                GroupChange::Rename { from, to, .. } => format!("rename {from}>{to}"),
                GroupChange::Remove { name, .. } => format!("remove {name}"),
            })
            .collect();
        out.extend(plan.conflicts.iter().map(|c| {
            format!(
                "conflict {} {}",
                c.group.clone().unwrap_or_default(),
                c.field
            )
        }));
        out
    }

    #[test]
    fn groups_come_back_unless_something_holds_their_place() {
        let cases: Vec<(&str, GroupEntry, Vec<GroupNow>, &[&str])> = vec![
            (
                "a removed group comes back",
                row(3, Some("ER"), "removed", Some("Emergency"), None),
                vec![group(1, Some("ICU"), "Intensive", &[])],
                &["recreate Emergency"],
            ),
            (
                "its Group ID was given to another group since",
                row(3, Some("ER"), "removed", Some("Emergency"), None),
                vec![group(4, Some("ER"), "Emergency room", &[])],
                &["conflict ER group"],
            ),
            (
                "a manual group's name was taken since",
                row(3, None, "removed", Some("Parking"), None),
                vec![group(4, None, "Parking", &[])],
                &["conflict Parking group"],
            ),
            (
                "a rename goes back",
                row(1, Some("ICU"), "name", Some("Intensive"), Some("IVA")),
                vec![group(1, Some("ICU"), "IVA", &[])],
                &["rename IVA>Intensive"],
            ),
            (
                "renamed again since",
                row(1, Some("ICU"), "name", Some("Intensive"), Some("IVA")),
                vec![group(1, Some("ICU"), "Intensive care", &[])],
                &["conflict ICU name"],
            ),
            (
                "another group has the old name now",
                row(1, None, "name", Some("Lockers"), Some("Garage")),
                vec![
                    group(1, None, "Garage", &[]),
                    group(2, None, "Lockers", &[]),
                ],
                &["conflict Garage name"],
            ),
            (
                "the renamed group is gone",
                row(1, Some("ICU"), "name", Some("Intensive"), Some("IVA")),
                vec![],
                &["conflict ICU name"],
            ),
        ];
        for (what, entry, groups, want) in cases {
            let mut plan = RevertPlan::default();
            let back = plan_groups_back(std::slice::from_ref(&entry), &groups, &mut plan);
            assert_eq!(outcome(&plan), want.to_vec(), "{what}");
            let recreated = want.iter().any(|w| w.starts_with("recreate"));
            assert_eq!(
                back.contains("ER"),
                recreated && entry.group_id.is_some(),
                "{what}"
            );
        }
    }

    fn user(pk: i64, groups: &[&str], active: bool) -> (i64, Current) {
        let c = Current {
            state: UserState {
                unique_id: Some(format!("E{pk}")),
                name: format!("User {pk}"),
                mail: format!("u{pk}@example.se"),
                groups: groups.iter().map(|g| g.to_string()).collect(),
                active,
                ..UserState::default()
            },
            ..Current::default()
        };
        (pk, c)
    }

    /// A user the revert changes, as (pk, what it becomes, created by the run): in the groups
    /// given, active or not.
    fn changed(pk: i64, groups: &[&str], active: bool, by_run: bool) -> (i64, Current, bool) {
        let (pk, c) = user(pk, groups, active);
        (pk, c, by_run)
    }

    /// The revert of a run that created the group NEW, with these users changed by it (each
    /// in NEW now), planned against the groups as they are now.
    fn revert_created_group(groups: &[GroupNow], users: Vec<(i64, Current, bool)>) -> RevertPlan {
        let created = row(5, Some("NEW"), "created", None, Some("NEW"));
        let mut plan = RevertPlan::default();
        let mut current = HashMap::new();
        let mut made = HashSet::new();
        for (pk, target, by_run) in users {
            let (_, now) = user(pk, &["NEW"], true);
            plan.changes.push(UserRevert {
                pk,
                action: Action::Update,
                unique_id: target.state.unique_id.clone(),
                fields: fields_between(Some(&now), Some(&target)),
                target: Target::Set(target, None),
            });
            current.insert(pk, now);
            if by_run {
                made.insert(pk);
            }
        }
        let rows = std::slice::from_ref(&created);
        plan_groups_gone(rows, groups, &made, &current, &mut plan);
        plan
    }

    #[test]
    fn a_created_group_goes_when_nothing_else_uses_it() {
        /// What, the group now, the users the revert changes (pk, target, created by the run),
        /// and the outcome.
        type Case<'a> = (
            &'a str,
            Vec<GroupNow>,
            Vec<(i64, Current, bool)>,
            &'a [&'a str],
        );
        let new = |members: &[i64]| vec![group(5, Some("NEW"), "NEW", members)];
        let cases: Vec<Case> = vec![
            ("empty", new(&[]), vec![], &["remove NEW"]),
            (
                "a member the revert leaves alone",
                new(&[7]),
                vec![],
                &["conflict NEW members"],
            ),
            (
                "a member the revert takes out of it",
                new(&[7]),
                vec![changed(7, &["ICU"], true, false)],
                &["remove NEW"],
            ),
            (
                "a user the run created, deactivated by the revert",
                new(&[8]),
                vec![changed(8, &["NEW"], false, true)],
                &["remove NEW"],
            ),
            (
                "a user the run created that stays active",
                new(&[8]),
                vec![changed(8, &["NEW"], true, true)],
                &["conflict NEW members"],
            ),
            (
                "renamed since",
                vec![group(5, Some("NEW"), "New group", &[])],
                vec![],
                &["conflict NEW name"],
            ),
            ("gone since", vec![], vec![], &[]),
        ];
        for (what, groups, users, want) in cases {
            let plan = revert_created_group(&groups, users);
            assert_eq!(outcome(&plan), want.to_vec(), "{what}");
            if want != ["remove NEW"] {
                continue;
            }
            for c in &plan.changes {
                let Target::Set(t, _) = &c.target else {
                    panic!("{what}")
                };
                assert!(!t.state.groups.contains(&"NEW".to_string()), "{what}");
                let groups = c.fields.iter().find(|f| f.field == "groups");
                assert_eq!(
                    groups.and_then(|f| f.old.clone()).as_deref(),
                    Some("NEW"),
                    "{what}: the revert's row keeps the membership it takes"
                );
            }
        }
    }
}

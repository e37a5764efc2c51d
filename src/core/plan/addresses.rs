//! Who gets which mail address (SPEC §1 `mail-taken`, §2 adopt): a record that takes an
//! address another user keeps after the plan is invalid; a new record whose address a user
//! added by hand holds adopts that user.

use super::{diff_fields, wanted, Action, Change, Directory, FieldChange, Holder, Reused};
use crate::core::file::ImportFile;
use crate::core::mail;
use crate::core::policy::KeepPhones;
use crate::core::problem::{Code, Problem};
use crate::core::record::{Entry, Field, Record};
use std::collections::{HashMap, HashSet};

/// What `import.reuse_mail_of_deactivated` needs to know of the plan: who it deactivates, and
/// whom a Skip record names (left exactly as they are).
pub(super) struct Reuse<'a> {
    pub deactivating: &'a HashSet<i64>,
    pub skipped: &'a HashSet<i64>,
}

/// Decide, for each record that takes a mail address it did not have, whether the address is
/// free after the plan; adopt manual users whose address a new record carries. A record that
/// loses this way keeps the user's old address, which may in turn keep another address taken,
/// so this repeats until nothing changes. With `reuse`, an address whose holder is deactivated
/// after the plan (and that no record of the file names) is free: the holder's mail is cleared,
/// and the returned list says so.
pub(super) fn resolve_mail<D: Directory>(
    file: &mut ImportFile,
    dir: &D,
    changes: &mut [Change],
    deleted: &HashSet<i64>,
    known_groups: &HashSet<String>,
    reuse: Option<Reuse<'_>>,
) -> Result<Vec<Reused>, D::Error> {
    if !dir.has_users() {
        return Ok(Vec::new());
    }
    let claims = Claims::of(file, changes);
    let mut holders: HashMap<String, Option<Holder>> = HashMap::new();
    for c in changes.iter().filter(|c| claimant(c)) {
        if let Some(key) = claims.key(c) {
            let holder = dir.mail_holder(&key)?;
            holders.insert(key, holder);
        }
    }
    loop {
        let free = Free::after(changes, deleted, &claims, reuse.as_ref());
        let lost = adopt_or_lose(file, dir, changes, &claims, &holders, &free, known_groups)?;
        if lost.is_empty() {
            return reused(dir, changes, &claims, &holders, &free);
        }
        for (i, key) in lost {
            let holder = holders.get(&key).and_then(|h| h.as_ref());
            lose_mail(file, &mut changes[i], &key, holder, reuse.is_some());
        }
    }
}

/// A change that may claim an address: a create, an update or a reactivation.
fn claimant(c: &Change) -> bool {
    matches!(
        c.action,
        Action::Create | Action::Update | Action::Reactivate
    )
}

/// The record a change comes from, if it is valid.
fn record<'f>(file: &'f ImportFile, c: &Change) -> Option<&'f Record> {
    match file.entries.get(c.entry()?)? {
        Entry::Valid(r) => Some(r),
        Entry::Invalid(_) => None,
    }
}

/// The addresses the changes ask for, as keys (compared case-insensitively).
struct Claims {
    /// The address of each new record, by entry.
    file_mail: HashMap<usize, String>,
    /// The address each user holds now, for the users whose address changes.
    old_mail: HashMap<i64, String>,
}

impl Claims {
    fn of(file: &ImportFile, changes: &[Change]) -> Self {
        let file_mail = changes
            .iter()
            .filter(|c| c.action == Action::Create)
            .filter_map(|c| Some((c.entry()?, mail::key(record(file, c)?.mail()).into_owned())))
            .collect();
        let mut old_mail = HashMap::new();
        for c in changes {
            let mail_change = c.fields().iter().find(|f| f.field == "mail");
            if let (Some(pk), Some(mail_change)) = (c.pk(), mail_change) {
                // No old address (one given to another user) is "", which every address
                // differs from.
                let old = mail_change.old.as_deref().unwrap_or("");
                old_mail.insert(pk, mail::key(old).into_owned());
            }
        }
        Claims {
            file_mail,
            old_mail,
        }
    }

    /// The address a change claims: a create's, or a new address other than in case.
    fn key(&self, c: &Change) -> Option<String> {
        if c.action == Action::Create {
            return self.file_mail.get(&c.entry()?).cloned();
        }
        let new = c.state()?;
        let key = mail::key(&new.mail).into_owned();
        match c.pk() {
            None => Some(key),
            Some(pk) => self
                .old_mail
                .get(&pk)
                .filter(|old| **old != key)
                .map(|_| key),
        }
    }

    /// The address a claimant claims and the user who holds it now, if one does.
    fn held<'h>(
        &self,
        c: &Change,
        holders: &'h HashMap<String, Option<Holder>>,
    ) -> Option<(String, &'h Holder)> {
        if !claimant(c) {
            return None;
        }
        let key = self.key(c)?;
        let holder = holders.get(&key)?.as_ref()?;
        Some((key, holder))
    }
}

/// Whose addresses are free after the plan, as far as it has been decided.
struct Free<'a> {
    /// Users who give up their address in this plan (deleted, or taking another one).
    releasing: HashSet<i64>,
    /// Deactivated users the file brings back or names (an invalid record), and those a Skip
    /// record names: they keep their addresses.
    named: HashSet<i64>,
    reuse: Option<&'a Reuse<'a>>,
}

impl<'a> Free<'a> {
    fn after(
        changes: &[Change],
        deleted: &HashSet<i64>,
        claims: &Claims,
        reuse: Option<&'a Reuse<'a>>,
    ) -> Self {
        let mut releasing: HashSet<i64> = deleted.clone();
        for c in changes {
            if matches!(c.action, Action::Update | Action::Reactivate) && claims.key(c).is_some() {
                releasing.extend(c.pk());
            }
        }
        let mut named: HashSet<i64> = reuse.map(|r| r.skipped.clone()).unwrap_or_default();
        named.extend(
            changes
                .iter()
                .filter(|c| matches!(c.action, Action::Reactivate | Action::Invalid))
                .filter_map(Change::pk),
        );
        Free {
            releasing,
            named,
            reuse,
        }
    }

    /// True when the holder keeps the address from the change: it is someone else, who does
    /// not give it up.
    fn kept_from(&self, holder: &Holder, c: &Change) -> bool {
        Some(holder.pk) != c.pk() && !self.releasing.contains(&holder.pk)
    }

    /// With `import.reuse_mail_of_deactivated`: a holder deactivated after the plan, whom no
    /// record names, gives up the address.
    fn reusable(&self, h: &Holder) -> bool {
        self.reuse.is_some_and(|r| {
            !self.named.contains(&h.pk) && (!h.active || r.deactivating.contains(&h.pk))
        })
    }
}

/// Adopt the manual users whose address a new record carries; the changes that claim an
/// address someone else keeps (by index, with the address) lose it.
fn adopt_or_lose<D: Directory>(
    file: &ImportFile,
    dir: &D,
    changes: &mut [Change],
    claims: &Claims,
    holders: &HashMap<String, Option<Holder>>,
    free: &Free<'_>,
    known_groups: &HashSet<String>,
) -> Result<Vec<(usize, String)>, D::Error> {
    let mut lost = Vec::new();
    for (i, c) in changes.iter_mut().enumerate() {
        let Some((key, holder)) = claims.held(c, holders) else {
            continue;
        };
        if !free.kept_from(holder, c) {
            continue;
        }
        if holder.unique_id.is_none() && c.action == Action::Create {
            adopt(file, dir, c, holder.pk, known_groups)?;
            continue;
        }
        if c.action == Action::Adopt || free.reusable(holder) {
            continue;
        }
        lost.push((i, key));
    }
    Ok(lost)
}

/// A manual user with the address of a new record: the record adopts it (the user gets the
/// UniqueID and the record's values).
fn adopt<D: Directory>(
    file: &ImportFile,
    dir: &D,
    c: &mut Change,
    pk: i64,
    known_groups: &HashSet<String>,
) -> Result<(), D::Error> {
    let old = dir.user(pk)?;
    if let Some(r) = record(file, c) {
        let new = wanted(r, file, KeepPhones::default(), known_groups, Some(&old));
        let mut fields = diff_fields(Some(&old), &new);
        let adopted = FieldChange {
            field: "unique_id",
            old: None,
            new: new.unique_id.clone(),
        };
        fields.insert(0, adopted);
        c.set_fields(fields);
        c.set_state(Some(new));
    }
    c.action = Action::Adopt;
    c.set_pk(pk);
    c.set_name(Some(old.name));
    Ok(())
}

/// The addresses taken from deactivated users (`import.reuse_mail_of_deactivated`).
fn reused<D: Directory>(
    dir: &D,
    changes: &[Change],
    claims: &Claims,
    holders: &HashMap<String, Option<Holder>>,
    free: &Free<'_>,
) -> Result<Vec<Reused>, D::Error> {
    let mut reused = Vec::new();
    for c in changes {
        let Some((_, holder)) = claims.held(c, holders) else {
            continue;
        };
        if !free.kept_from(holder, c) || !free.reusable(holder) {
            continue;
        }
        reused.push(Reused {
            pk: holder.pk,
            unique_id: holder.unique_id.clone(),
            mail: dir.user(holder.pk)?.mail,
            to: c.unique_id.as_deref().unwrap_or_default().to_owned(),
        });
    }
    Ok(reused)
}

/// A record whose address another user keeps is invalid (`mail-taken`), and its user keeps
/// the address it has.
fn lose_mail(
    file: &mut ImportFile,
    c: &mut Change,
    key: &str,
    holder: Option<&Holder>,
    reuse: bool,
) {
    if let Some(entry) = c.entry() {
        let who = match holder.and_then(|h| h.unique_id.as_deref()) {
            Some(uid) => format!("the user {uid}"),
            None => "a user added by hand".to_string(),
        };
        let (who, hint) = match holder {
            Some(h) if !h.active && !reuse => (
                format!("{who} (deactivated)"),
                "; import.reuse_mail_of_deactivated = true would give it to this record",
            ),
            Some(h) if !h.active => (format!("{who} (deactivated)"), ""),
            _ => (who, ""),
        };
        let column = file.columns.name(Field::Mail).to_string();
        let problem = Problem::new(
            Some(c.line().unwrap_or(0)),
            Some(&column),
            Code::MailTaken,
            format!("the mail `{key}` belongs to {who} in the store{hint}"),
        );
        file.invalidate(entry, problem);
    }
    c.action = Action::Invalid;
    c.set_state(None);
    c.set_fields(Vec::new());
}

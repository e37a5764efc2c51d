//! The most common value changes of each field in a plan's updates (SPEC §3.1
//! `top_changes`): so that 6,046 title changes read as the three recodings they are.

use super::{Action, Plan};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// A change is named when at least this many users have it.
pub const MIN_USERS: u64 = 10;
/// At most this many changes are named a field.
pub const PER_FIELD: usize = 3;

/// One value change and how many users it happens to. For `groups` the old side is the groups
/// removed and the new side the groups added, each comma-joined (null when none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopChange {
    pub old: Option<String>,
    pub new: Option<String>,
    pub users: u64,
}

/// The fields with a change of at least [`MIN_USERS`] users, each with its most common
/// changes (at most [`PER_FIELD`], the most users first); the fields by their top count.
pub fn top_changes(plan: &Plan) -> Vec<(&'static str, Vec<TopChange>)> {
    let mut values: HashMap<(&'static str, Option<&str>, Option<&str>), u64> = HashMap::new();
    let mut groups: HashMap<(Option<String>, Option<String>), u64> = HashMap::new();
    for c in plan.changes.iter().filter(|c| c.action == Action::Update) {
        for f in c.fields() {
            if f.field == "groups" {
                *groups
                    .entry(group_move(f.old.as_deref(), f.new.as_deref()))
                    .or_default() += 1;
            } else {
                *values
                    .entry((f.field, f.old.as_deref(), f.new.as_deref()))
                    .or_default() += 1;
            }
        }
    }
    let mut by_field: HashMap<&'static str, Vec<TopChange>> = HashMap::new();
    let common = values.into_iter().filter(|(_, n)| *n >= MIN_USERS);
    for ((field, old, new), users) in common {
        by_field.entry(field).or_default().push(TopChange {
            old: old.map(str::to_string),
            new: new.map(str::to_string),
            users,
        });
    }
    for ((old, new), users) in groups.into_iter().filter(|(_, n)| *n >= MIN_USERS) {
        by_field
            .entry("groups")
            .or_default()
            .push(TopChange { old, new, users });
    }
    let mut out: Vec<(&'static str, Vec<TopChange>)> = by_field
        .into_iter()
        .map(|(field, mut changes)| {
            changes.sort_by(|a, b| {
                b.users
                    .cmp(&a.users)
                    .then_with(|| a.old.cmp(&b.old))
                    .then_with(|| a.new.cmp(&b.new))
            });
            changes.truncate(PER_FIELD);
            (field, changes)
        })
        .collect();
    out.sort_by(|a, b| b.1[0].users.cmp(&a.1[0].users).then(a.0.cmp(b.0)));
    out
}

/// A change of groups as the pair (groups removed, groups added), from the comma-joined lists
/// before and after.
fn group_move(old: Option<&str>, new: Option<&str>) -> (Option<String>, Option<String>) {
    fn split(s: Option<&str>) -> BTreeSet<&str> {
        s.map(|s| s.split(',').filter(|g| !g.is_empty()).collect())
            .unwrap_or_default()
    }
    let (before, after) = (split(old), split(new));
    let join = |set: Vec<&str>| (!set.is_empty()).then(|| set.join(","));
    (
        join(before.difference(&after).copied().collect()),
        join(after.difference(&before).copied().collect()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::plan::{Change, FieldChange};

    fn update(fields: &[(&'static str, Option<&str>, Option<&str>)]) -> Change {
        let mut c = Change::new(Action::Update, Some("E1".into()), Some(1), None, None);
        c.set_fields(
            fields
                .iter()
                .map(|(field, old, new)| FieldChange {
                    field,
                    old: old.map(str::to_string),
                    new: new.map(str::to_string),
                })
                .collect(),
        );
        c
    }

    #[test]
    fn the_most_common_changes_of_each_field_with_ten_users_or_more() {
        let mut plan = Plan::default();
        let mut add = |n: usize, fields: &[(&'static str, Option<&str>, Option<&str>)]| {
            for _ in 0..n {
                plan.changes.push(update(fields));
            }
        };
        add(40, &[("title", Some("Nurse"), Some("Carer"))]);
        add(30, &[("title", Some("Doctor"), Some("Physician"))]);
        add(20, &[("title", None, Some("Porter"))]);
        add(15, &[("title", Some("Cook"), Some("Chef"))]);
        add(9, &[("phone", Some("1"), Some("2"))]);
        add(
            12,
            &[(
                "groups",
                Some("ICU,MEDAKUT,NIGHT"),
                Some("AKUTMED,ICU,NIGHT"),
            )],
        );
        add(11, &[("groups", Some("ICU"), Some("ICU,NIGHT"))]);
        let top = top_changes(&plan);
        let titles = [("Nurse", "Carer", 40), ("Doctor", "Physician", 30)];
        assert_eq!(top[0].0, "title");
        assert_eq!(top[0].1.len(), 3);
        for (i, (old, new, n)) in titles.iter().enumerate() {
            assert_eq!(top[0].1[i].old.as_deref(), Some(*old));
            assert_eq!(top[0].1[i].new.as_deref(), Some(*new));
            assert_eq!(top[0].1[i].users, *n);
        }
        assert_eq!(top[0].1[2].old, None);
        assert_eq!(top[1].0, "groups");
        assert_eq!(top[1].1[0].old.as_deref(), Some("MEDAKUT"));
        assert_eq!(top[1].1[0].new.as_deref(), Some("AKUTMED"));
        assert_eq!(top[1].1[1].old, None);
        assert_eq!(top[1].1[1].new.as_deref(), Some("NIGHT"));
        assert_eq!(top.len(), 2, "phone has fewer than 10 users: {top:?}");
    }
}

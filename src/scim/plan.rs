//! The plan of a push: the store against what the provider last acknowledged (and keeps).

use super::resource::{self, MEMBERS_BIT};
use super::{kind_name, Change, Counts};
use crate::config::{ScimConfig, ScimRemoved};
use crate::store::scim::{Kind, Pushed, ScimGroup, ScimUser};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A resource's JSON, serialized once when it is planned: a few hundred bytes a user, where
/// the JSON tree would take kilobytes, so that a plan of every user stays small.
pub type Body = Box<str>;

#[derive(Debug, Clone)]
pub enum Op {
    /// `members`: a group's members as sent (provider ids, sorted).
    Create {
        body: Body,
        hash: i64,
        members: Option<Vec<String>>,
    },
    Replace {
        id: String,
        body: Body,
        hash: i64,
        members: Option<Vec<String>>,
    },
    /// A group's PATCH of members added and removed, and of its `displayName` when `rename`
    /// (its body is made when it is sent, in the shape the provider takes); `members` as they
    /// will be.
    Patch {
        id: String,
        rename: Option<String>,
        add: Vec<String>,
        remove: Vec<String>,
        hash: i64,
        members: Vec<String>,
    },
    SetActive {
        id: String,
        active: bool,
    },
    /// A PUT of a deactivated user whose address went to another ([`resource::released`]);
    /// `deactivate`: the provider still holds it active.
    Release {
        id: String,
        body: Body,
        hash: i64,
        deactivate: bool,
    },
    Delete {
        id: String,
    },
}

#[derive(Debug, Clone)]
pub struct Task {
    pub kind: Kind,
    pub key: String,
    pub name: String,
    pub op: Op,
}

impl Task {
    pub fn action(&self) -> &'static str {
        match &self.op {
            Op::Create { .. } => "create",
            Op::Replace { .. } | Op::Patch { .. } => "update",
            Op::SetActive { active: false, .. } => "deactivate",
            Op::SetActive { active: true, .. } => "update",
            Op::Release {
                deactivate: true, ..
            } => "deactivate",
            Op::Release { .. } => "update",
            Op::Delete { .. } => "delete",
        }
    }

    pub fn change(&self) -> Change {
        Change {
            kind: kind_name(self.kind),
            action: self.action(),
            id: self.key.clone(),
            name: self.name.clone(),
        }
    }
}

/// The plan of a push: the store against what the provider last acknowledged.
pub struct Planner<'a> {
    pub scim: &'a ScimConfig,
    /// Whether the provider takes PATCH (a group's members then go as add/remove).
    pub patch: bool,
    /// Learned in a push: this provider refused a PATCH of `displayName`, so a rename is a PUT.
    pub rename_by_put: bool,
    pub users: &'a HashMap<String, Pushed>,
    pub groups: &'a HashMap<String, Pushed>,
    /// Users to move aside first (see `Pusher::parked`).
    pub parked: &'a HashSet<String>,
}

impl Planner<'_> {
    /// The users to send: each imported user whose provider copy differs from it (in the
    /// attributes the provider keeps), and the removals per `scim.removed`. `only`: just these
    /// UniqueIDs (a second round).
    pub fn plan_users(
        &self,
        users: &[ScimUser],
        only: Option<&BTreeSet<String>>,
        counts: &mut Counts,
    ) -> Vec<Task> {
        let wanted = |key: &str| only.is_none_or(|o| o.contains(key));
        let mut tasks = Vec::new();
        let none = Pushed::default();
        let mut in_store = HashSet::with_capacity(users.len());
        // Removals first: an address a leaver gives up may be a joiner's, created after it.
        let mut first = Vec::new();
        for u in users {
            in_store.insert(u.unique_id.as_str());
            if !wanted(&u.unique_id) {
                continue;
            }
            let p = self.users.get(&u.unique_id).unwrap_or(&none);
            if !u.active && u.mail.is_empty() && self.scim.removed == ScimRemoved::Deactivate {
                first.extend(self.release(u, p, counts));
                continue;
            }
            if !u.active {
                first.extend(self.removal(&u.unique_id, &u.mail, p, counts));
                continue;
            }
            let mut doc = resource::user(u);
            if self.parked.contains(&u.unique_id) {
                doc.user_name = Some(resource::Text(u.unique_id.clone()));
            }
            let attributes = resource::attributes(Kind::User, &doc);
            let hash = resource::hash(&attributes, p.dropped);
            let changed = changed_since_sent(p, &attributes);
            let op = match &p.scim_id {
                None => {
                    counts.create += 1;
                    Op::Create {
                        body: resource::body(&doc),
                        hash,
                        members: None,
                    }
                }
                Some(id) if p.hash != Some(hash) || changed || p.active != Some(true) => {
                    counts.update += 1;
                    Op::Replace {
                        id: id.clone(),
                        body: resource::body(&doc),
                        hash,
                        members: None,
                    }
                }
                Some(_) => {
                    counts.unchanged += 1;
                    continue;
                }
            };
            tasks.push(Task {
                kind: Kind::User,
                key: u.unique_id.clone(),
                name: u.mail.clone(),
                op,
            });
        }
        let mut gone: Vec<(&String, &Pushed)> = self
            .users
            .iter()
            .filter(|(k, p)| !in_store.contains(k.as_str()) && p.scim_id.is_some() && wanted(k))
            .collect();
        gone.sort_by(|a, b| a.0.cmp(b.0));
        for (key, p) in gone {
            first.extend(self.removal(key, "", p, counts));
        }
        first.extend(tasks);
        first
    }

    /// A deactivated user whose address was given to another: its provider copy gives the
    /// address up (and is inactive), unless it holds it so already.
    fn release(&self, u: &ScimUser, p: &Pushed, counts: &mut Counts) -> Option<Task> {
        let Some(id) = p.scim_id.clone() else {
            counts.unchanged += 1;
            return None;
        };
        let doc = resource::released(u);
        let attributes = resource::attributes(Kind::User, &doc);
        let hash = resource::hash(&attributes, p.dropped);
        let deactivate = p.active != Some(false);
        if !deactivate && p.hash == Some(hash) && !changed_since_sent(p, &attributes) {
            counts.unchanged += 1;
            return None;
        }
        match deactivate {
            true => counts.deactivate += 1,
            false => counts.update += 1,
        }
        Some(Task {
            kind: Kind::User,
            key: u.unique_id.clone(),
            name: u.unique_id.clone(),
            op: Op::Release {
                id,
                body: resource::body(&doc),
                hash,
                deactivate,
            },
        })
    }

    /// The removal of a user who left the directory (or the store), per `scim.removed`.
    fn removal(&self, key: &str, name: &str, p: &Pushed, counts: &mut Counts) -> Option<Task> {
        let Some(id) = p.scim_id.clone() else {
            counts.unchanged += 1;
            return None;
        };
        let op = match self.scim.removed {
            ScimRemoved::Deactivate if p.active == Some(false) => {
                counts.unchanged += 1;
                return None;
            }
            ScimRemoved::Deactivate => {
                counts.deactivate += 1;
                Op::SetActive { id, active: false }
            }
            ScimRemoved::Delete => {
                counts.delete += 1;
                Op::Delete { id }
            }
        };
        Some(Task {
            kind: Kind::User,
            key: key.to_string(),
            name: name.to_string(),
            op,
        })
    }

    /// A group's active members' provider ids, sorted (in a dry run, the users about to be
    /// created stand in as `bulkId:UniqueID`).
    fn members(&self, g: &ScimGroup, placeholders: &HashMap<&str, String>) -> Vec<String> {
        let mut members: Vec<String> = g
            .members
            .iter()
            .filter_map(|uid| {
                if let Some(ph) = placeholders.get(uid.as_str()) {
                    return Some(ph.clone());
                }
                self.users
                    .get(uid)
                    .filter(|p| p.active == Some(true))
                    .and_then(|p| p.scim_id.clone())
            })
            .collect();
        members.sort_unstable();
        members.dedup();
        members
    }

    /// The groups to send: each group with an ID whose name or active members' provider ids
    /// differ from what the provider holds, and the groups gone from the store.
    pub fn plan_groups(
        &self,
        groups: &[ScimGroup],
        only: Option<&BTreeSet<String>>,
        counts: &mut Counts,
        pending_users: &[Task],
    ) -> Vec<Task> {
        let wanted = |key: &str| only.is_none_or(|o| o.contains(key));
        let placeholders: HashMap<&str, String> = pending_users
            .iter()
            .filter(|t| matches!(t.op, Op::Create { .. }))
            .map(|t| (t.key.as_str(), format!("bulkId:{}", t.key)))
            .collect();
        let none = Pushed::default();
        let mut tasks = Vec::new();
        let mut in_store = HashSet::with_capacity(groups.len());
        for g in groups {
            in_store.insert(g.group_id.as_str());
            if !wanted(&g.group_id) {
                continue;
            }
            let members = self.members(g, &placeholders);
            let p = self.groups.get(&g.group_id).unwrap_or(&none);
            let Some(op) = self.group_op(g, members, p, counts) else {
                continue;
            };
            tasks.push(Task {
                kind: Kind::Group,
                key: g.group_id.clone(),
                name: g.name.clone(),
                op,
            });
        }
        let mut gone: Vec<(&String, &Pushed)> = self
            .groups
            .iter()
            .filter(|(k, p)| !in_store.contains(k.as_str()) && p.scim_id.is_some() && wanted(k))
            .collect();
        gone.sort_by(|a, b| a.0.cmp(b.0));
        for (key, p) in gone {
            if let Some(id) = &p.scim_id {
                counts.delete += 1;
                tasks.push(Task {
                    kind: Kind::Group,
                    key: key.clone(),
                    name: String::new(),
                    op: Op::Delete { id: id.clone() },
                });
            }
        }
        tasks
    }

    /// The change one group needs: created with its members; its name or members changed (by
    /// PATCH add/remove when the provider takes PATCH and roster knows what it holds).
    fn group_op(
        &self,
        g: &ScimGroup,
        members: Vec<String>,
        p: &Pushed,
        counts: &mut Counts,
    ) -> Option<Op> {
        let refs: Vec<&str> = members.iter().map(String::as_str).collect();
        let doc = resource::group(g, &refs);
        let attributes = resource::attributes(Kind::Group, &doc);
        let hash = resource::hash(&attributes, p.dropped);
        let renamed = p.hash != Some(hash) || changed_since_sent(p, &attributes);
        let Some(id) = &p.scim_id else {
            counts.create += 1;
            return Some(Op::Create {
                body: resource::body(&doc),
                hash,
                members: Some(members),
            });
        };
        let members_kept = p.dropped & MEMBERS_BIT == 0;
        let members_differ = members_kept && p.members.as_ref() != Some(&members);
        if !renamed && !members_differ {
            counts.unchanged += 1;
            return None;
        }
        counts.update += 1;
        // Members go as PATCH add/remove, and a rename with them as a replace of
        // `displayName`; a provider that refused that gets a PUT of the whole group, whose
        // answer says if the members were kept (if not, a PATCH follows in the same push).
        match (&p.members, self.patch) {
            (Some(held), true) if !renamed || !self.rename_by_put => {
                let held_set: HashSet<&String> = held.iter().collect();
                let want_set: HashSet<&String> = members.iter().collect();
                let add: Vec<String> = members
                    .iter()
                    .filter(|m| !held_set.contains(m))
                    .cloned()
                    .collect();
                let remove: Vec<String> = held
                    .iter()
                    .filter(|m| !want_set.contains(m))
                    .cloned()
                    .collect();
                Some(Op::Patch {
                    id: id.clone(),
                    rename: renamed.then(|| g.name.clone()),
                    add,
                    remove,
                    hash,
                    members,
                })
            }
            _ => Some(Op::Replace {
                id: id.clone(),
                body: resource::body(&doc),
                hash,
                members: Some(members),
            }),
        }
    }
}

/// Whether the store changed since roster last sent this resource, in any attribute (those
/// the provider does not keep included): such a change is sent once, not again and again.
fn changed_since_sent(p: &Pushed, attributes: &[String]) -> bool {
    p.dropped != 0
        && p.sent
            .is_some_and(|sent| sent != resource::hash(attributes, 0))
}

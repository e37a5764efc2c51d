//! The provider's answer to one change, recorded: what it confirmed (and kept of what was
//! sent), what it refused, and what must be looked up or planned again.

use super::plan::{Op, Task};
use super::resource::{self, Res, MEMBERS_BIT};
use super::send::Answer;
use super::{endpoint, index, kind_name, percent, Pusher, Refused};
use crate::store::now;
use crate::store::scim::{Kind, Pushed, ScimGroup, ScimUser};
use std::collections::{BTreeSet, HashSet};
use ureq::http::Method;

/// What the provider kept of a resource that was sent: the dropped attributes' bits, the hash
/// of the rest, and a group's members as it holds them.
struct Kept {
    dropped: i64,
    hash: i64,
    /// The hash of what was sent, nothing left out (`None`: not known here).
    sent: Option<i64>,
    members: Option<Vec<String>>,
}

impl Pusher<'_> {
    /// Record the provider's answer to one change in the in-memory state; `done` collects the
    /// keys to commit, `retry` those to plan again in this push.
    pub(super) fn settle(
        &mut self,
        task: &Task,
        answer: Answer,
        retry: &mut BTreeSet<String>,
        done: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        let status = answer.status;
        if (200..300).contains(&status) {
            if self.removal_ignored(task, &answer, retry, done) {
                return Ok(());
            }
            return self.confirmed_change(task, answer, retry, done);
        }
        if status == 403 {
            // Before the token was accepted, a 403 may be the token's: a read tells.
            self.client()?.check_token(endpoint(task.kind))?;
        }
        let key = task.key.clone();
        let first_time = self
            .replanned
            .insert((kind_name(task.kind), key.clone(), status));
        if self.park(task, status, first_time, retry, done)
            || self.replan(task, &answer, first_time, retry, done)?
        {
            return Ok(());
        }
        done.push(key);
        self.refusal(task, answer);
        Ok(())
    }

    /// A refused change that is not refused after all: looked up, taken over, sent again in
    /// the shape the provider takes, read again, or gone (a removal done). Whether it was.
    fn replan(
        &mut self,
        task: &Task,
        answer: &Answer,
        first_time: bool,
        retry: &mut BTreeSet<String>,
        done: &mut Vec<String>,
    ) -> anyhow::Result<bool> {
        let (status, key) = (answer.status, &task.key);
        Ok(match (status, &task.op) {
            // The resource is there already (made by someone else, or by a create whose answer
            // was lost): looked up by its externalId and taken over, then planned again.
            (409, Op::Create { .. }) if first_time => {
                self.conflicts.push((task.kind, key.clone()));
                true
            }
            // An error of the provider's own: the create may have been carried out.
            (500.., Op::Create { .. }) if status != 501 => {
                self.lost.push((task.kind, key.clone()));
                true
            }
            // A PATCH of a group's `displayName` the provider does not take: renames go as a
            // PUT of the whole group, from now on.
            (
                400 | 501,
                Op::Patch {
                    rename: Some(_), ..
                },
            ) if first_time => {
                log::info!(
                    "push: the provider refused a PATCH of displayName ({}); renaming by PUT",
                    answer.reason
                );
                self.features.rename_by_put = true;
                self.again(task, retry, done);
                true
            }
            // A PATCH removing members in a shape this provider does not take (some take only
            // a value filter path, others only a `value` list): the other shape, from now on.
            (400 | 501, Op::Patch { remove, .. }) if first_time && !remove.is_empty() => {
                self.other_shape(task, &answer.reason, retry, done);
                true
            }
            // A PATCH removing members refused in either shape: they may be gone already (a
            // provider that drops a deleted user from its groups will not remove it again).
            // Read once (the 0 in `replanned`) and planned again from what the group holds.
            (400 | 501, Op::Patch { id, remove, .. })
                if !remove.is_empty()
                    && self
                        .replanned
                        .insert((kind_name(task.kind), key.clone(), 0))
                    && self.read_again(task.kind, key, id)? =>
            {
                done.push(key.clone());
                retry.insert(key.clone());
                true
            }
            // Gone from the provider: a removal is done; an update creates it again.
            (404, _) => {
                self.gone(task, first_time, retry, done);
                true
            }
            // Changed on the provider since roster last saw it: read it again and plan again.
            (
                412,
                Op::Replace { id, .. }
                | Op::Release { id, .. }
                | Op::Patch { id, .. }
                | Op::SetActive { id, .. }
                | Op::Delete { id },
            ) if first_time && self.read_again(task.kind, key, id)? => {
                done.push(key.clone());
                retry.insert(key.clone());
                true
            }
            _ => false,
        })
    }

    /// Refused creates of users who left the directory, or of groups gone from the store,
    /// before the provider took them: nothing of theirs is left to send, so nothing is left
    /// refused (their refusal would keep `status` unhealthy for ever).
    pub(super) fn settle_left(
        &mut self,
        users: &[ScimUser],
        groups: &[ScimGroup],
    ) -> anyhow::Result<()> {
        let active: HashSet<&str> = users
            .iter()
            .filter(|u| u.active)
            .map(|u| u.unique_id.as_str())
            .collect();
        let kept: HashSet<&str> = groups.iter().map(|g| g.group_id.as_str()).collect();
        for (kind, wanted) in [(Kind::User, &active), (Kind::Group, &kept)] {
            let keys: Vec<String> = self
                .state(kind)
                .iter_mut()
                .filter(|(k, p)| {
                    p.error.is_some()
                        && p.scim_id.is_none()
                        && p.sending.is_none()
                        && !wanted.contains(k.as_str())
                })
                .map(|(k, p)| {
                    p.error = None;
                    p.failed_at = None;
                    k.clone()
                })
                .collect();
            self.commit(kind, &keys)?;
        }
        Ok(())
    }

    /// Refusals of resources a plan leaves alone (the store took the change back, or the
    /// provider holds it already, read on resume): nothing of theirs is left to send, so
    /// nothing is left refused (their refusal would keep `status` unhealthy for ever).
    pub(super) fn settle_in_step(&mut self, kind: Kind, tasks: &[Task]) -> anyhow::Result<()> {
        let planned: HashSet<&str> = tasks.iter().map(|t| t.key.as_str()).collect();
        let keys: Vec<String> = self
            .state(kind)
            .iter_mut()
            .filter(|(k, p)| {
                p.error.is_some() && p.sending.is_none() && !planned.contains(k.as_str())
            })
            .map(|(k, p)| {
                p.error = None;
                p.failed_at = None;
                k.clone()
            })
            .collect();
        self.commit(kind, &keys)
    }

    /// A PATCH removing members answered 2xx with the group still holding one of them (the
    /// first time for this group in this push): taken, but not in the shape this provider
    /// applies, so sent again in the other shape, as after a refusal. Whether it was.
    fn removal_ignored(
        &mut self,
        task: &Task,
        answer: &Answer,
        retry: &mut BTreeSet<String>,
        done: &mut Vec<String>,
    ) -> bool {
        let Op::Patch { remove, .. } = &task.op else {
            return false;
        };
        let Some(res) = answer.res.as_ref().filter(|r| r.members.is_some()) else {
            return false;
        };
        let held = res.member_ids();
        let ignored = remove.iter().any(|m| held.binary_search(m).is_ok())
            && self
                .replanned
                .insert((kind_name(task.kind), task.key.clone(), answer.status));
        if ignored {
            let reason = format!("{}, the members still there", answer.status);
            self.other_shape(task, &reason, retry, done);
        }
        ignored
    }

    /// A change the provider refused: recorded for it, reported, and tried again by the next
    /// push (a 4xx is surely not carried out, so it is no longer marked as sent).
    fn refusal(&mut self, task: &Task, answer: Answer) {
        self.refused.push(Refused {
            kind: kind_name(task.kind),
            id: task.key.clone(),
            action: task.action(),
            reason: answer.reason.clone(),
        });
        let p = self.state(task.kind).entry(task.key.clone()).or_default();
        if (400..500).contains(&answer.status) {
            p.sending = None;
        }
        p.error = Some(answer.reason);
        p.failed_at = Some(now());
    }

    /// A PATCH refused for the shape of its member removals: the other shape, from now on
    /// (changes sent in the shape an earlier refusal already switched from switch nothing).
    fn other_shape(
        &mut self,
        task: &Task,
        reason: &str,
        retry: &mut BTreeSet<String>,
        done: &mut Vec<String>,
    ) {
        if self.sent_by_value == self.features.remove_by_value {
            self.features.remove_by_value = !self.sent_by_value;
        }
        log::info!(
            "push: the provider did not take a PATCH removing members ({reason}); trying the other shape"
        );
        self.again(task, retry, done);
    }

    /// A change refused for its shape, planned again in this push (in the other shape).
    fn again(&mut self, task: &Task, retry: &mut BTreeSet<String>, done: &mut Vec<String>) {
        let key = task.key.clone();
        done.push(key.clone());
        self.state(task.kind)
            .entry(key.clone())
            .or_default()
            .sending = None;
        retry.insert(key);
    }

    /// A 404: the provider holds nothing of it; a removal is done, an update creates it again.
    fn gone(
        &mut self,
        task: &Task,
        first_time: bool,
        retry: &mut BTreeSet<String>,
        done: &mut Vec<String>,
    ) {
        let key = task.key.clone();
        done.push(key.clone());
        let p = self.state(task.kind).entry(key.clone()).or_default();
        forget(p);
        if matches!(task.op, Op::Replace { .. } | Op::Patch { .. }) && first_time {
            retry.insert(key);
        } else {
            p.error = None;
            p.pushed_at = Some(now());
            // A removal of what the provider no longer holds is done, and counted as listed.
            match task.op {
                Op::Delete { .. } => self.done[index(task.kind)].delete += 1,
                Op::SetActive { active: false, .. }
                | Op::Release {
                    deactivate: true, ..
                } => self.done[index(task.kind)].deactivate += 1,
                _ => {}
            }
        }
    }

    /// Read a resource again by its id (after a 412): `false` when it cannot be read.
    fn read_again(&mut self, kind: Kind, key: &str, id: &str) -> anyhow::Result<bool> {
        let path = format!("{}/{}", endpoint(kind), percent(id));
        let reply = self.client()?.send(Method::GET, &path, None, None)?;
        let Some(res) = reply.ok().then(|| reply.parse::<Res>()).flatten() else {
            return Ok(false);
        };
        let mut held = self.held_as(kind, key, &res);
        held.etag = reply.etag.clone().or(held.etag);
        let p = self.state(kind).entry(key.to_string()).or_default();
        adopt(p, held);
        Ok(true)
    }

    /// A 2xx: counted and recorded only when it confirms the change (a create needs the new
    /// resource's `id`).
    fn confirmed_change(
        &mut self,
        task: &Task,
        answer: Answer,
        retry: &mut BTreeSet<String>,
        done: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        if let Some(what) = unconfirmed(task, &answer) {
            // Left marked as sent: the next push looks it up (by its externalId, or its id).
            self.unconfirmed.push(format!(
                "{} {} {}: {what}",
                kind_name(task.kind),
                task.key,
                task.action()
            ));
            return Ok(());
        }
        if task.kind == Kind::User && self.parked.remove(&task.key) {
            // Moved aside: recorded as the provider holds it, counted with its next change.
            retry.insert(task.key.clone());
            return self.parked_aside(task, answer, done);
        }
        let mut answer = answer;
        if answer.res.is_none() && self.full {
            self.read_back(task, &mut answer)?;
        }
        let kept = self.kept(task, answer.res.as_ref());
        let key = task.key.clone();
        self.count(task);
        let patch = self.features.patch;
        done.push(key.clone());
        let kind = task.kind;
        let p = self.state(kind).entry(key.clone()).or_default();
        p.sending = None;
        p.error = None;
        p.failed_at = None;
        p.pushed_at = Some(now());
        if answer.etag.is_some() {
            p.etag = answer.etag;
        }
        if let Op::Create { .. } = task.op {
            p.scim_id = answer.id;
        }
        match &task.op {
            Op::Create { .. } | Op::Replace { .. } | Op::Patch { .. } => {
                if let Some(k) = kept {
                    p.dropped = k.dropped;
                    p.hash = Some(k.hash);
                    if k.sent.is_some() {
                        p.sent = k.sent;
                    }
                    // A group created or replaced without its members, by a provider that
                    // takes PATCH: they are added by PATCH in this push.
                    let ignored = kind == Kind::Group
                        && patch
                        && !matches!(task.op, Op::Patch { .. })
                        && k.members != planned_members(&task.op);
                    p.members = k.members;
                    if ignored {
                        retry.insert(key);
                    }
                }
                if kind == Kind::User {
                    p.active = Some(true);
                }
            }
            Op::SetActive { active, .. } => p.active = Some(*active),
            Op::Release { .. } => {
                if let Some(k) = kept {
                    (p.dropped, p.hash, p.sent) = (k.dropped, Some(k.hash), k.sent.or(p.sent));
                }
                p.active = Some(false);
            }
            Op::Delete { .. } => forget(p),
        }
        Ok(())
    }

    /// A user's PUT refused 409 (its new address held by another account, as when two users
    /// swap theirs), the first time: moved aside in the next round (its UniqueID as
    /// `userName`), then to its address in the one after. Whether it was.
    fn park(
        &mut self,
        task: &Task,
        status: u16,
        first_time: bool,
        retry: &mut BTreeSet<String>,
        done: &mut Vec<String>,
    ) -> bool {
        let park = status == 409
            && first_time
            && task.kind == Kind::User
            && matches!(task.op, Op::Replace { .. });
        if park {
            self.parked.insert(task.key.clone());
            self.again(task, retry, done);
        }
        park
    }

    /// A user moved aside (confirmed): what the provider holds now, planned again.
    fn parked_aside(
        &mut self,
        task: &Task,
        answer: Answer,
        done: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        let kept = self.kept(task, answer.res.as_ref());
        done.push(task.key.clone());
        let p = self.state(task.kind).entry(task.key.clone()).or_default();
        p.sending = None;
        if answer.etag.is_some() {
            p.etag = answer.etag;
        }
        if let Some(k) = kept {
            (p.dropped, p.hash) = (k.dropped, Some(k.hash));
        }
        p.active = Some(true);
        Ok(())
    }

    /// Count a confirmed change. What completes a resource made (or taken over) in this push
    /// is counted with that, not again as an update.
    fn count(&mut self, task: &Task) {
        let i = index(task.kind);
        if matches!(task.op, Op::Create { .. }) {
            self.created[i].insert(task.key.clone());
        }
        let once = self.taken[i].contains(&task.key) || self.created[i].contains(&task.key);
        let counts = &mut self.done[i];
        match &task.op {
            Op::Create { .. } => counts.create += 1,
            Op::Replace { .. } | Op::Patch { .. } if once => {}
            Op::Replace { .. } | Op::Patch { .. } | Op::SetActive { active: true, .. } => {
                counts.update += 1
            }
            Op::SetActive { active: false, .. }
            | Op::Release {
                deactivate: true, ..
            } => counts.deactivate += 1,
            Op::Release { .. } => counts.update += 1,
            Op::Delete { .. } => counts.delete += 1,
        }
    }

    /// A create or replace of `--full` confirmed without the provider's representation: the
    /// resource read back by its id, so that what the provider dropped is learned (and not
    /// repaired again by every `--full`). Nothing when it cannot be read.
    fn read_back(&mut self, task: &Task, answer: &mut Answer) -> anyhow::Result<()> {
        let id = match &task.op {
            Op::Replace { id, .. } | Op::Release { id, .. } => id.clone(),
            Op::Create { .. } => match &answer.id {
                Some(id) => id.clone(),
                None => return Ok(()),
            },
            _ => return Ok(()),
        };
        let path = format!("{}/{}", endpoint(task.kind), percent(&id));
        let reply = self.client()?.send(Method::GET, &path, None, None)?;
        if !reply.ok() {
            return Ok(());
        }
        answer.res = reply.parse::<Res>().filter(Res::is_representation);
        if answer.res.is_some() {
            answer.etag = reply
                .etag
                .clone()
                .or_else(|| answer.res.as_ref().and_then(Res::version))
                .or(answer.etag.take());
        }
        Ok(())
    }

    /// What the provider kept of a create, replace or patch: from its representation in the
    /// answer when there is one, else what was sent.
    fn kept(&self, task: &Task, res: Option<&Res>) -> Option<Kept> {
        let (hash, members, body) = match &task.op {
            Op::Create {
                hash,
                members,
                body,
            }
            | Op::Replace {
                hash,
                members,
                body,
                ..
            } => (*hash, members.clone(), Some(body)),
            Op::Release { hash, body, .. } => (*hash, None, Some(body)),
            Op::Patch { hash, members, .. } => (*hash, Some(members.clone()), None),
            _ => return None,
        };
        let old = self
            .state_ref(task.kind)
            .get(&task.key)
            .map_or(0, |p| p.dropped);
        let sent_attributes = match (&task.op, body) {
            // A rename by PATCH: the group as it was sent, to compare with the answer.
            (
                Op::Patch {
                    rename: Some(name), ..
                },
                _,
            ) => {
                let sent = ScimGroup {
                    group_id: task.key.clone(),
                    name: name.clone(),
                    members: Vec::new(),
                };
                Some(resource::attributes(
                    task.kind,
                    &resource::group(&sent, &[]),
                ))
            }
            (_, body) => body
                .and_then(|b| serde_json::from_str::<Res>(b).ok())
                .map(|sent| resource::attributes(task.kind, &sent)),
        };
        let sent = sent_attributes.as_ref().map(|a| resource::hash(a, 0));
        let Some(res) = res else {
            return Some(Kept {
                dropped: old,
                hash,
                sent,
                members,
            });
        };
        let mut dropped = match &sent_attributes {
            Some(a) => resource::differences(a, &resource::attributes(task.kind, res)),
            None => old & !MEMBERS_BIT,
        };
        let members = match (task.kind, members) {
            (Kind::Group, Some(sent)) => {
                let held = res.member_ids();
                let ignored = held != sent;
                if ignored && (!self.features.patch || matches!(task.op, Op::Patch { .. })) {
                    dropped |= MEMBERS_BIT;
                }
                Some(held)
            }
            (_, m) => m,
        };
        let hash = match &sent_attributes {
            Some(a) => resource::hash(a, dropped),
            None => hash,
        };
        Some(Kept {
            dropped,
            hash,
            sent,
            members,
        })
    }

    /// What the provider holds, from one of its resources (read with the attributes it is
    /// known not to keep left out of the hash).
    pub(super) fn held(&self, kind: Kind, r: &Res) -> Pushed {
        self.held_as(kind, r.external_id().unwrap_or(""), r)
    }

    /// Like [`Pusher::held`], for the resource roster tracks as `key` (read by its id).
    pub(super) fn held_as(&self, kind: Kind, key: &str, r: &Res) -> Pushed {
        let dropped = self.state_ref(kind).get(key).map_or(0, |p| p.dropped);
        Pushed {
            scim_id: r.id(),
            etag: r.version(),
            hash: Some(resource::hash(&resource::attributes(kind, r), dropped)),
            active: match kind {
                Kind::User => Some(r.is_active()),
                Kind::Group => None,
            },
            dropped,
            members: match kind {
                Kind::User => None,
                Kind::Group => Some(r.member_ids()),
            },
            ..Pushed::default()
        }
    }
}

/// What a 2xx failed to confirm (SPEC §8): a create is confirmed by a 201 (or 200) with the
/// new resource's `id`; a PUT, PATCH or DELETE by a 200 or 204 (a 202 only says the provider
/// will see to it); a PATCH of `active` (or a user's PUT) whose answer shows the resource
/// as it was, by no status (a leaver still active in the app is not deactivated, whatever the status says).
fn unconfirmed(task: &Task, answer: &Answer) -> Option<String> {
    let status = answer.status;
    // A (de)activation, or a user's PUT (active: true, a reactivation among them), whose
    // answer shows the resource as it was: the provider ignored it.
    let wanted = match &task.op {
        Op::SetActive { active, .. } => Some((*active, "PATCH")),
        Op::Replace { .. } if task.kind == Kind::User => Some((true, "PUT")),
        Op::Release { .. } => Some((false, "PUT")),
        _ => None,
    };
    if let (Some((active, method)), Some(held)) =
        (wanted, answer.res.as_ref().and_then(|r| r.active))
    {
        if held.0 != active {
            return Some(format!(
                "{method} {} answered {status} with the resource still {}",
                endpoint(task.kind),
                if held.0 { "active" } else { "inactive" }
            ));
        }
    }
    let method = match &task.op {
        Op::Create { .. } if !matches!(status, 200 | 201) => "POST",
        Op::Create { .. } if answer.id.is_none() => {
            return Some(format!(
                "POST {} answered {status} without an id",
                endpoint(task.kind)
            ))
        }
        Op::Create { .. } => return None,
        _ if matches!(status, 200 | 204) => return None,
        Op::Replace { .. } | Op::Release { .. } => "PUT",
        Op::Patch { .. } | Op::SetActive { .. } => "PATCH",
        Op::Delete { .. } => "DELETE",
    };
    Some(format!(
        "{method} {} answered {status}, which does not confirm the change",
        endpoint(task.kind)
    ))
}

fn planned_members(op: &Op) -> Option<Vec<String>> {
    match op {
        Op::Create { members, .. } | Op::Replace { members, .. } => members.clone(),
        Op::Patch { members, .. } => Some(members.clone()),
        _ => None,
    }
}

/// The provider holds nothing of it any more.
pub(super) fn forget(p: &mut Pushed) {
    p.scim_id = None;
    p.etag = None;
    p.hash = None;
    p.active = None;
    p.sending = None;
    p.members = None;
}

/// Take what the provider holds as what roster knows of it.
pub(super) fn adopt(p: &mut Pushed, held: Pushed) {
    p.scim_id = held.scim_id;
    p.etag = held.etag;
    p.hash = held.hash;
    p.active = held.active;
    p.members = held.members;
    p.sending = None;
}

//! Reading the provider's resources: its listing (paged, checked and bounded), a lookup by
//! `externalId` (a filter, or the listing), and what `--full`, a resume and a lost answer make
//! of them.

use super::plan::{Op, Task};
use super::resource::Res;
use super::settle::{adopt, forget};
use super::{endpoint, index, kind_name, percent, Pusher};
use crate::render::log::secs;
use crate::render::thousands;
use crate::store::now;
use crate::store::scim::{Kind, Pushed};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Instant;
use ureq::http::Method;

/// Resources roster may find on the provider beyond those it tracks, when it bounds the pages
/// of a listing (SPEC §8).
const LISTING_SLACK: usize = 10_000;

/// One page of a listing (RFC 7644 §3.4.2): its counts, and how many resources it brought.
/// The resources themselves are handed one at a time to the reader's closure as they are
/// parsed, never held as a list (a 16 MiB page of tiny resources is half a million of them).
#[derive(Debug, Default)]
struct Page {
    total_results: Option<u64>,
    start_index: Option<u64>,
    items_per_page: Option<u64>,
    resources: usize,
}

impl Page {
    /// Read a page from the bytes of an answer, giving each resource to `each`.
    fn read(bytes: &[u8], each: &mut dyn FnMut(Res)) -> serde_json::Result<Page> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let page = PageSeed(each).deserialize(&mut de)?;
        de.end()?;
        Ok(page)
    }
}

struct PageSeed<'f>(&'f mut dyn FnMut(Res));

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = Page;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Page, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = Page;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a SCIM listing")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page, A::Error> {
        let each = self.0;
        let mut page = Page::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "totalResults" => page.total_results = map.next_value()?,
                "startIndex" => page.start_index = map.next_value()?,
                "itemsPerPage" => page.items_per_page = map.next_value()?,
                "Resources" => page.resources += map.next_value_seed(Each(&mut *each))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(page)
    }
}

/// The `Resources` of a page: each given to the closure; how many there were.
struct Each<'a>(&'a mut dyn FnMut(Res));

impl<'de> DeserializeSeed<'de> for Each<'_> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Each<'_> {
    type Value = usize;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of resources")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<usize, S::Error> {
        let mut n = 0;
        while let Some(r) = seq.next_element::<Res>()? {
            (self.0)(r);
            n += 1;
        }
        Ok(n)
    }
}

/// The provider's resources of one `externalId`, as read.
pub(super) type Found = HashMap<String, Vec<Pushed>>;

impl Pusher<'_> {
    /// Read the provider's whole listing of `kind`, keeping the resources whose `externalId`
    /// `wanted` accepts. It stops when the resources seen reach `totalResults`, at an empty
    /// page, or after `(tracked + 10,000) / itemsPerPage + 1` pages; a page that does not start
    /// where it was asked, or brings no resource not seen before, is an error, as is a listing
    /// cut short: an incomplete listing is never read as resources gone. Returns what was kept
    /// and how many resources were read.
    pub(super) fn list(
        &mut self,
        kind: Kind,
        wanted: &dyn Fn(&str) -> bool,
    ) -> anyhow::Result<(Found, usize)> {
        let spinner =
            crate::render::progress::stage(&format!("reading the provider's {}s", kind_name(kind)));
        let count = self.features.page.max(1);
        let tracked = self.state_ref(kind).len();
        let mut start = 1usize;
        let mut pages = 0usize;
        let mut ids: HashSet<u128> = HashSet::new();
        let mut found: Found = HashMap::new();
        let what = endpoint(kind);
        loop {
            let path = format!("{what}?startIndex={start}&count={count}");
            let reply = self.client()?.send(Method::GET, &path, None, None)?;
            if !reply.ok() {
                anyhow::bail!("the provider refused to list {what}: {}", reply.reason());
            }
            let before = ids.len();
            let this = &*self;
            let page = Page::read(&reply.bytes, &mut |r: Res| {
                // The ids seen, as hashes: a page may bring half a million of them.
                if !ids.insert(id_hash(&r.id().unwrap_or_default())) {
                    return;
                }
                if let Some(ext) = r.external_id().filter(|e| wanted(e)) {
                    let held = this.held(kind, &r);
                    found.entry(ext.to_string()).or_default().push(held);
                }
            })
            .map_err(|e| {
                anyhow::anyhow!("the provider's answer to GET {what} is not a SCIM listing: {e}")
            })?;
            drop(reply);
            pages += 1;
            if page_ends(what, start, &page, before)? {
                break;
            }
            if ids.len() == before {
                anyhow::bail!(
                    "the provider answered GET {what}?startIndex={start} with the resources of an earlier page: it does not page its listing, so roster cannot tell what it holds (nothing is read as gone)"
                );
            }
            spinner.set_message(format!(
                "reading the provider's {}s: {}",
                kind_name(kind),
                thousands(ids.len() as u64)
            ));
            start += page.resources;
            let total = page.total_results.unwrap_or(u64::MAX) as usize;
            if ids.len() >= total {
                break;
            }
            // Pages of the provider's itemsPerPage (SPEC §8), however many were asked for;
            // never more than the page brought, so that what is read stays within
            // (tracked + 10,000) resources and a page, whatever the provider claims.
            let per = page
                .items_per_page
                .map_or(page.resources, |n| (n as usize).min(page.resources))
                .max(1);
            if pages > (tracked + LISTING_SLACK) / per {
                anyhow::bail!(
                    "the provider's listing of {what} did not end after {pages} pages ({} resources read of the {} it claims); roster stopped reading (nothing is read as gone)",
                    ids.len(),
                    page.total_results.map_or("?".to_string(), |t| t.to_string())
                );
            }
        }
        spinner.finish_and_clear();
        Ok((found, ids.len()))
    }

    /// Look resources up by `externalId`: by a filter when the provider has one, and by the
    /// listing for those the filter does not find (or without a filter).
    pub(super) fn find(&mut self, kind: Kind, keys: &[String]) -> anyhow::Result<Found> {
        let mut found: Found = HashMap::new();
        if keys.is_empty() {
            return Ok(found);
        }
        if self.features.filter {
            for key in keys {
                if let Some(held) = self.filter_one(kind, key)?.filter(|h| !h.is_empty()) {
                    found.insert(key.clone(), held);
                }
            }
        }
        let rest: HashSet<&str> = keys
            .iter()
            .filter(|k| !found.contains_key(*k))
            .map(String::as_str)
            .collect();
        if !rest.is_empty() {
            let (listed, _) = self.list(kind, &|e| rest.contains(e))?;
            found.extend(listed);
        }
        Ok(found)
    }

    /// The resources of one `externalId`, by a filter. `None` when the answer cannot be
    /// trusted to be complete: an error, not a listing, or one that shows other resources or
    /// more than it brings (a provider that ignores the filter answers a page of its listing;
    /// only the resources of this externalId are kept from it).
    fn filter_one(&mut self, kind: Kind, key: &str) -> anyhow::Result<Option<Vec<Pushed>>> {
        let filter = format!(
            "externalId eq \"{}\"",
            key.replace('\\', "\\\\").replace('"', "\\\"")
        );
        let path = format!("{}?filter={}", endpoint(kind), percent(&filter));
        let reply = self.client()?.send(Method::GET, &path, None, None)?;
        if !reply.ok() {
            return Ok(None);
        }
        let mut held: Vec<Pushed> = Vec::new();
        let mut others = false;
        let this = &*self;
        let read = Page::read(&reply.bytes, &mut |r: Res| {
            if r.external_id() == Some(key) {
                held.push(this.held(kind, &r));
            } else {
                others = true;
            }
        });
        let Ok(page) = read else {
            return Ok(None);
        };
        let complete = !others
            && page
                .total_results
                .is_none_or(|t| t <= page.resources as u64);
        Ok((complete || !held.is_empty()).then_some(held))
    }

    /// Before a push creates resources roster has no `id` for: the accounts the provider
    /// already holds under their `externalId` (made by hand, by another tool, or by a push
    /// whose answer never came) are taken over, not made twice (SPEC §8). Bounded: one read
    /// of the provider's `totalResults`; only when it holds more than roster tracks, a filter
    /// per create when they are no more than the listing's pages, else one listing. Returns
    /// whether any was taken over (then the plan is made again).
    pub(super) fn take_over_before_create(
        &mut self,
        kind: Kind,
        tasks: &[Task],
    ) -> anyhow::Result<bool> {
        let keys: Vec<String> = tasks
            .iter()
            .filter(|t| matches!(t.op, Op::Create { .. }))
            .map(|t| t.key.clone())
            .collect();
        if keys.is_empty() {
            return Ok(false);
        }
        let started = Instant::now();
        let tracked = self
            .state_ref(kind)
            .values()
            .filter(|p| p.scim_id.is_some())
            .count() as u64;
        let total = self.total(kind)?;
        if total.is_some_and(|t| t <= tracked) {
            return Ok(false);
        }
        let pages = total.map_or(u64::MAX, |t| t / self.features.page.max(1) as u64 + 1);
        let mut found: Found = HashMap::new();
        let mut rest: HashSet<&str> = keys.iter().map(String::as_str).collect();
        if self.features.filter && keys.len() as u64 <= pages {
            let mut unfound: Vec<&str> = Vec::new();
            for key in &keys {
                if let Some(held) = self.filter_one(kind, key)? {
                    rest.remove(key.as_str());
                    if held.is_empty() {
                        unfound.push(key);
                    } else {
                        found.insert(key.clone(), held);
                    }
                }
            }
            // "Not there" is believed only from a filter that finds what roster knows is
            // there; a filter that answers nothing is matched by the listing (SPEC §8).
            if !unfound.is_empty() && !self.filter_finds(kind)? {
                rest.extend(unfound);
            }
        }
        // A listing that cannot be read whole (one that ends short of its total, say) finds
        // nothing here: the creates go, and a 409 or `--full` settles what they meet.
        if !rest.is_empty() {
            match self.list(kind, &|e| rest.contains(e)) {
                Ok((listed, _)) => found.extend(listed),
                Err(e) if e.downcast_ref::<super::client::Down>().is_none() => log::info!(
                    "push: the {}s to create could not be looked up in the listing: {e:#}",
                    kind_name(kind)
                ),
                Err(e) => return Err(e),
            }
        }
        let mut taken: Vec<String> = found.keys().cloned().collect();
        taken.sort();
        for key in &taken {
            let all = &found[key];
            let held = all[self.keep_of(kind, key, all)].clone();
            let p = self.state(kind).entry(key.clone()).or_default();
            adopt(p, held);
            p.pushed_at = Some(now());
            p.error = None;
            self.done[index(kind)].taken_over += 1;
            self.taken[index(kind)].insert(key.clone());
        }
        self.commit(kind, &taken)?;
        log::info!(
            "push: looked up {} {}s to create by externalId: {} held by the provider, taken over, in {}",
            thousands(keys.len() as u64),
            kind_name(kind),
            thousands(taken.len() as u64),
            secs(started)
        );
        Ok(!taken.is_empty())
    }

    /// Whether the provider's filter finds a resource roster tracks (by its `externalId`,
    /// with the id roster knows); `false` when roster tracks none to try it with.
    fn filter_finds(&mut self, kind: Kind) -> anyhow::Result<bool> {
        let tracked = self
            .state_ref(kind)
            .iter()
            .filter(|(_, p)| p.sending.is_none())
            .filter_map(|(k, p)| Some((k, p.scim_id.as_ref()?)))
            .min()
            .map(|(k, id)| (k.clone(), id.clone()));
        let Some((key, id)) = tracked else {
            return Ok(false);
        };
        let held = self.filter_one(kind, &key)?.unwrap_or_default();
        Ok(held.iter().any(|h| h.scim_id.as_ref() == Some(&id)))
    }

    /// How many resources of `kind` the provider holds (its `totalResults`), read from a
    /// page of one; `None` when it does not say, or says no more than that full page brought
    /// (a provider that counts the page it answers, not what it holds, would say 1 however
    /// many it holds).
    fn total(&mut self, kind: Kind) -> anyhow::Result<Option<u64>> {
        let path = format!("{}?startIndex=1&count=1", endpoint(kind));
        let reply = self.client()?.send(Method::GET, &path, None, None)?;
        if !reply.ok() {
            return Ok(None);
        }
        Ok(Page::read(&reply.bytes, &mut |_| {}).ok().and_then(|p| {
            p.total_results
                .filter(|t| p.resources == 0 || *t > p.resources as u64)
        }))
    }

    /// The one of several resources of one `externalId` roster keeps: the one it tracks, else
    /// an active one, else the first.
    fn keep_of(&self, kind: Kind, key: &str, all: &[Pushed]) -> usize {
        let tracked = self
            .state_ref(kind)
            .get(key)
            .and_then(|p| p.scim_id.as_ref());
        all.iter()
            .position(|h| h.scim_id.as_ref() == tracked && tracked.is_some())
            .or_else(|| all.iter().position(|h| h.active != Some(false)))
            .unwrap_or(0)
    }

    /// After a round of sends: look up the creates whose answer was lost, those a bulk's
    /// answer confirmed without naming them, and those that met a resource of their
    /// `externalId` (409), take over what is there, and return the keys to plan again (a lost
    /// create not found is sent again; a taken-over account is made to match the store).
    pub(super) fn recover(&mut self, kind: Kind) -> anyhow::Result<BTreeSet<String>> {
        let mut retry = BTreeSet::new();
        let lost: Vec<String> = take_kind(&mut self.lost, kind);
        let conflicts: Vec<String> = take_kind(&mut self.conflicts, kind);
        let made: Vec<String> = take_kind(&mut self.made, kind);
        if lost.is_empty() && conflicts.is_empty() && made.is_empty() {
            return Ok(retry);
        }
        let keys: Vec<String> = lost
            .iter()
            .chain(&conflicts)
            .chain(&made)
            .cloned()
            .collect();
        log::info!(
            "push: looking up {} {}s by externalId ({} answers lost, {} conflicts, {} made without an id)",
            keys.len(),
            kind_name(kind),
            lost.len(),
            conflicts.len(),
            made.len()
        );
        let found = self.find(kind, &keys)?;
        let conflicted: HashSet<&String> = conflicts.iter().collect();
        let made: HashSet<&String> = made.iter().collect();
        let mut done = Vec::new();
        for key in &keys {
            let is_conflict = conflicted.contains(key);
            match found.get(key) {
                Some(all) => {
                    let held = all[self.keep_of(kind, key, all)].clone();
                    let p = self.state(kind).entry(key.clone()).or_default();
                    adopt(p, held);
                    p.pushed_at = Some(now());
                    p.error = None;
                    let counts = &mut self.done[index(kind)];
                    if is_conflict {
                        counts.taken_over += 1;
                        self.taken[index(kind)].insert(key.clone());
                    } else {
                        counts.create += 1;
                        self.created[index(kind)].insert(key.clone());
                    }
                }
                None if is_conflict => {
                    self.conflict_not_found(kind, key);
                    done.push(key.clone());
                    continue;
                }
                // Made, the provider said, but not found: never sent again in this push; left
                // marked as sent, so that the next push looks it up first.
                None if made.contains(key) => {
                    self.unconfirmed.push(format!(
                        "{} {key} create: POST /Bulk answered its operation without a location or an id, and the provider holds no {} of this externalId",
                        kind_name(kind),
                        kind_name(kind)
                    ));
                    continue;
                }
                // Not there: sent again (still marked as sent, so that a push that ends before
                // it is sent again looks it up first).
                None => {}
            }
            done.push(key.clone());
            retry.insert(key.clone());
        }
        self.commit(kind, &done)?;
        Ok(retry)
    }

    /// A create that met a conflict (409) with nothing of its `externalId` found: refused.
    fn conflict_not_found(&mut self, kind: Kind, key: &str) {
        self.refused.push(super::Refused {
            kind: kind_name(kind),
            id: key.to_string(),
            action: "create",
            reason:
                "409: the provider holds a conflicting resource that is not found by its externalId"
                    .into(),
        });
        let p = self.state(kind).entry(key.to_string()).or_default();
        p.sending = None;
        p.error = Some("409: conflicting resource not found by externalId".into());
        p.failed_at = Some(now());
    }

    /// `--full`: read every resource of `kind` on the provider and take what it holds of ours
    /// as the truth, so that the plan puts back whatever drifted; duplicates of one
    /// `externalId` are kept aside for [`Pusher::remove_duplicates`]. Returns how many were
    /// read.
    pub(super) fn reconcile<'k>(
        &mut self,
        kind: Kind,
        keys: impl Iterator<Item = &'k str>,
    ) -> anyhow::Result<usize> {
        let ours: HashSet<String> = keys
            .map(str::to_string)
            .chain(self.state_ref(kind).keys().cloned())
            .collect();
        let (found, read) = self.list(kind, &|e| ours.contains(e))?;
        let now = now();
        let mut changed: Vec<(String, Pushed)> = Vec::new();
        let mut duplicates: Vec<(String, Pushed)> = Vec::new();
        let mut seen: HashMap<String, Pushed> = HashMap::new();
        for (key, all) in found {
            let keep = self.keep_of(kind, &key, &all);
            for (i, h) in all.into_iter().enumerate() {
                if i == keep {
                    seen.insert(key.clone(), h);
                } else if kind == Kind::Group || h.active != Some(false) {
                    duplicates.push((key.clone(), h));
                }
            }
        }
        let unreadable = self.read_unlisted(kind, &mut seen)?;
        let state = self.state(kind);
        for (key, p) in state.iter_mut() {
            if p.scim_id.is_some() && !seen.contains_key(key) && !unreadable.contains(key) {
                forget(p);
                changed.push((key.clone(), p.clone()));
            }
        }
        for (key, held) in seen {
            let old = state.get(&key).cloned().unwrap_or_default();
            let mut p = old.clone();
            adopt(&mut p, held);
            p.sending = old.sending.clone();
            p.pushed_at = old.pushed_at.clone().or(Some(now.clone()));
            if old != p {
                state.insert(key.clone(), p.clone());
                changed.push((key, p));
            }
        }
        if !self.dry_run {
            self.store
                .scim_save(kind, changed.iter().map(|(k, p)| (k.as_str(), p)))?;
        }
        // Removed once the push is known not to be blocked (a blocked push sends nothing).
        duplicates.sort_by(|a, b| a.0.cmp(&b.0));
        self.found_duplicates[index(kind)] = duplicates;
        Ok(read)
    }

    /// The resources roster tracks that the listing did not show (a provider whose
    /// `totalResults` claims fewer than it holds ends its listing early): each is read by its
    /// id before it is taken as gone, so that nothing is made again while it is there. Adds
    /// those read to `seen`; returns those that could not be read (left as they were).
    fn read_unlisted(
        &mut self,
        kind: Kind,
        seen: &mut HashMap<String, Pushed>,
    ) -> anyhow::Result<HashSet<String>> {
        let mut unlisted: Vec<(String, String)> = self
            .state_ref(kind)
            .iter()
            .filter(|(key, _)| !seen.contains_key(*key))
            .filter_map(|(key, p)| Some((key.clone(), p.scim_id.clone()?)))
            .collect();
        unlisted.sort();
        let mut unreadable = HashSet::new();
        for (key, id) in unlisted {
            match self.read_by_id(kind, &key, &id)? {
                Some(Some(held)) => {
                    seen.insert(key, held);
                }
                Some(None) => {}
                None => {
                    unreadable.insert(key);
                }
            }
        }
        Ok(unreadable)
    }

    /// Delete the duplicates of one `externalId` `--full` found and roster does not keep (a
    /// user the provider will not delete is deactivated), naming each.
    pub(super) fn remove_duplicates(&mut self, kind: Kind) -> anyhow::Result<()> {
        let duplicates = std::mem::take(&mut self.found_duplicates[index(kind)]);
        for (key, h) in duplicates {
            let Some(id) = h.scim_id else { continue };
            let path = format!("{}/{}", endpoint(kind), percent(&id));
            let what = format!(
                "duplicate {} {key} (id {})",
                kind_name(kind),
                crate::render::message(&id)
            );
            // A provider may forbid deleting (403) with a token that reads and writes well.
            let reason = match self.client()?.send(Method::DELETE, &path, None, None) {
                Ok(reply) if reply.ok() || reply.status == 404 => {
                    self.duplicates.push(format!("{what} removed"));
                    continue;
                }
                Ok(reply) => reply.reason(),
                Err(super::client::Down::Token { status: 403, .. }) => "403".to_string(),
                Err(e) => return Err(e.into()),
            };
            if kind == Kind::User {
                let body = super::resource::set_active(false).to_string();
                let r = self
                    .client()?
                    .send(Method::PATCH, &path, Some(body.as_bytes()), None)?;
                if r.ok() {
                    self.duplicates.push(format!(
                        "{what} removed (deactivated: the provider would not delete it: {reason})"
                    ));
                    continue;
                }
            }
            self.duplicates.push(format!(
                "{what} NOT removed: the provider refused ({reason})"
            ));
        }
        Ok(())
    }

    /// Changes sent by an interrupted push whose answers were not committed: read what the
    /// provider made of them before planning, so that none is sent twice. Creates are looked
    /// up by their externalId (a filter, or the listing) and those found are taken over; an
    /// update, deactivation or deletion is read by its id (gone: the provider holds nothing
    /// of it any more).
    pub(super) fn resume(&mut self, kind: Kind) -> anyhow::Result<()> {
        let mut open: Vec<(String, Option<String>)> = self
            .state_ref(kind)
            .iter()
            .filter(|(_, p)| p.sending.is_some())
            .map(|(k, p)| (k.clone(), p.scim_id.clone()))
            .collect();
        if open.is_empty() {
            return Ok(());
        }
        open.sort();
        let started = Instant::now();
        let creates: Vec<String> = open
            .iter()
            .filter(|(_, id)| id.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        let found = self.find(kind, &creates)?;
        for (key, id) in &open {
            let read = match id {
                None => Some(
                    found
                        .get(key)
                        .map(|all| all[self.keep_of(kind, key, all)].clone()),
                ),
                Some(id) => self.read_by_id(kind, key, id)?,
            };
            // A create found: nothing confirmed it, so it counts as taken over (its update,
            // if it needs one, is part of the take-over).
            if id.is_none() && matches!(read, Some(Some(_))) {
                self.done[index(kind)].taken_over += 1;
                self.taken[index(kind)].insert(key.clone());
            }
            let p = self.state(kind).entry(key.clone()).or_default();
            p.sending = None;
            match read {
                Some(Some(held)) => {
                    adopt(p, held);
                    p.pushed_at = Some(now());
                }
                Some(None) if id.is_some() => {
                    forget(p);
                    p.pushed_at = Some(now());
                }
                _ => {}
            }
            let p = p.clone();
            self.store.scim_save(kind, [(key.as_str(), &p)])?;
        }
        log::info!(
            "push: resume: read {} {}s an interrupted push sent in {}",
            thousands(open.len() as u64),
            kind_name(kind),
            secs(started)
        );
        Ok(())
    }

    /// A resource read by its id: `Some(None)` when it is gone, `None` when it cannot be read.
    /// What the provider is read as not keeping is that of `key`, whatever `externalId` the
    /// answer shows (a provider may not keep it).
    fn read_by_id(
        &mut self,
        kind: Kind,
        key: &str,
        id: &str,
    ) -> anyhow::Result<Option<Option<Pushed>>> {
        let path = format!("{}/{}", endpoint(kind), percent(id));
        let reply = self.client()?.send(Method::GET, &path, None, None)?;
        if reply.status == 404 {
            return Ok(Some(None));
        }
        let Some(res) = reply.ok().then(|| reply.parse::<Res>()).flatten() else {
            return Ok(None);
        };
        let mut held = self.held_as(kind, key, &res);
        held.etag = reply.etag.clone().or(held.etag);
        Ok(Some(Some(held)))
    }
}

/// Check a listed page: it must start where it was asked to, and an empty one ends the
/// listing only when the provider claims no more than was read (`read`, before this page).
/// `true`: the end.
fn page_ends(what: &str, start: usize, page: &Page, read: usize) -> anyhow::Result<bool> {
    if page.start_index.is_some_and(|s| s != start as u64) {
        anyhow::bail!(
            "the provider answered GET {what}?startIndex={start} with a page starting at {}: it does not page its listing, so roster cannot tell what it holds (nothing is read as gone)",
            page.start_index.unwrap_or(0)
        );
    }
    if page.resources > 0 {
        return Ok(false);
    }
    if page.total_results.is_some_and(|t| (read as u64) < t) {
        anyhow::bail!(
            "the provider answered GET {what}?startIndex={start} with no resources after {read} of the {} it claims; roster cannot tell what it holds (nothing is read as gone)",
            page.total_results.unwrap_or(0)
        );
    }
    Ok(true)
}

/// A provider id as a 128-bit hash (what the listing keeps of each id it has seen).
fn id_hash(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

/// The keys of one kind taken out of a list of (kind, key).
fn take_kind(list: &mut Vec<(Kind, String)>, kind: Kind) -> Vec<String> {
    let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(list)
        .into_iter()
        .partition(|(k, _)| *k == kind);
    *list = rest;
    let mut keys: Vec<String> = mine.into_iter().map(|(_, k)| k).collect();
    keys.sort();
    keys.dedup();
    keys
}

//! The plan digest (SPEC §2): the first 12 hex digits of the SHA-256 of a plan's changes in a
//! canonical form, so that what an operator approves is exactly what was reviewed.
//!
//! The form holds what the apply does and nothing of where: each change by UniqueID (sorted),
//! its action and its fields old → new, the counts, the unknown groups, the addresses reused
//! and the invitations; never a store row id, a run or batch number, a time or a line number
//! (except for an invalid record without a UniqueID, which has nothing else). The same plan
//! of the same store gives the same digest on any machine and any copy of the store.

use super::{Action, Change, Plan};
use crate::core::file::ImportFile;
use crate::core::record::Entry;
use sha2::{Digest, Sha256};

/// A plan's digest once computed: the JSON, the table and the run's record each show it.
#[derive(Debug, Clone, Default)]
pub struct Memo(std::sync::OnceLock<String>);

/// Hex digits of the SHA-256 that make the digest.
pub const DIGITS: usize = 12;

/// Writes values into the hash so that no two sequences of values give the same bytes.
struct Canonical(Sha256);

impl Canonical {
    fn text(&mut self, s: &str) {
        self.0.update([1]);
        self.0.update((s.len() as u64).to_le_bytes());
        self.0.update(s.as_bytes());
    }

    fn opt(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.text(s),
            None => self.0.update([0]),
        }
    }

    fn number(&mut self, n: u64) {
        self.0.update([2]);
        self.0.update(n.to_le_bytes());
    }
}

/// The order of the canonical form: by UniqueID, then action, then line.
fn key(c: &Change) -> (Option<&str>, &'static str, Option<u64>) {
    (c.unique_id.as_deref(), c.action.as_str(), c.line())
}

impl Plan {
    /// The plan's digest: 12 lower-case hex digits (computed once; `file` is the plan's).
    pub fn digest(&self, file: &ImportFile) -> String {
        self.digest_memo
            .0
            .get_or_init(|| self.compute_digest(file))
            .clone()
    }

    fn compute_digest(&self, file: &ImportFile) -> String {
        let mut h = Canonical(Sha256::new());
        h.text("roster plan 1");
        for (name, n) in self.counts.named() {
            h.text(name);
            h.number(n);
        }
        h.number(self.invitations);
        let mut order: Vec<&Change> = self.changes.iter().collect();
        // No two changes have the same key (a record has its own line, an absent user its own
        // UniqueID): the order is the same as a stable sort's, without its buffer of half the
        // list. The invalid records' changes, which the plan does not hold, are sorted by
        // their entries' indices (4 bytes a line, where a file of invalid records is a
        // change a line) and told as they merge in.
        order.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
        let entries = &file.entries;
        let entry_key = |i: u32| {
            let e = &entries[i as usize];
            (e.unique_id(), Action::Invalid.as_str(), Some(e.line()))
        };
        let mut invalid: Vec<u32> = (0..entries.len())
            .filter(|&i| matches!(entries[i], Entry::Invalid(_)))
            .map(|i| i as u32)
            .collect();
        invalid.sort_unstable_by(|&a, &b| entry_key(a).cmp(&entry_key(b)));
        let mut held = order.into_iter().peekable();
        let mut told = invalid.into_iter().peekable();
        loop {
            let held_first = match (held.peek(), told.peek()) {
                (None, None) => break,
                (Some(c), Some(&i)) => key(c) < entry_key(i),
                (held, _) => held.is_some(),
            };
            if held_first {
                if let Some(c) = held.next() {
                    hash_change(&mut h, self, c, file);
                }
            } else if let Some(i) = told.next() {
                let c = Change::invalid(&entries[i as usize], i as usize, None);
                hash_change(&mut h, self, &c, file);
            }
        }
        for (id, n) in &self.unknown_groups {
            h.text(id);
            h.number(*n);
        }
        let mut reused: Vec<_> = self
            .mail_reused
            .iter()
            .map(|r| (r.unique_id.as_deref(), r.mail.as_str(), r.to.as_str()))
            .collect();
        reused.sort();
        for (from, mail, to) in reused {
            h.opt(from);
            h.text(mail);
            h.text(to);
        }
        let hash = h.0.finalize();
        let mut hex = String::with_capacity(DIGITS);
        for b in hash.iter().take(DIGITS / 2) {
            hex.push_str(&format!("{b:02x}"));
        }
        hex
    }
}

/// One change, as the digest takes it in.
fn hash_change(h: &mut Canonical, plan: &Plan, c: &Change, file: &ImportFile) {
    h.text(c.action.as_str());
    h.opt(c.unique_id.as_deref());
    if c.unique_id.is_none() {
        h.number(c.line().unwrap_or(0));
    }
    if let Some(n) = c.absent().filter(|_| c.action == Action::Missing) {
        h.number(n.into());
    }
    change_fields(h, plan, c, file);
    h.text("end");
}

/// The fields of a change, old → new: a create's straight from its record.
fn change_fields(h: &mut Canonical, plan: &Plan, c: &Change, file: &ImportFile) {
    match plan.created_fields(c, file) {
        Some(created) => {
            for (name, value) in created.texts() {
                h.text(name);
                h.opt(None);
                h.text(value);
            }
            if let Some(groups) = created.groups() {
                h.text("groups");
                h.opt(None);
                h.text(&groups.collect::<Vec<_>>().join(","));
            }
            h.text("status");
            h.opt(None);
            h.text("active");
        }
        None => {
            for f in c.fields() {
                h.text(f.field);
                h.opt(f.old.as_deref());
                h.opt(f.new.as_deref());
            }
        }
    }
}

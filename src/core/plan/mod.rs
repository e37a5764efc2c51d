//! The plan: what an import file does to the directory (SPEC §2), computed without I/O.
//!
//! The planner reads the store through the [`Directory`] trait: the keys and a hash of every
//! imported user up front, and full rows only for the users whose hash differs. So a day on
//! which 1% of a large directory changes costs work in proportion to that 1%.

use super::file::ImportFile;
use super::policy::{KeepPhones, Limit, MissingUsers};
use super::record::{Entry, Field, Record};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

mod addresses;
pub mod churn;
pub mod digest;
mod uid;

use addresses::{resolve_mail, Reuse};
pub use churn::{Churn, ChurnCheck, ChurnTrip, Night};
pub use uid::Uid;

/// The import-managed state of a user, as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserState {
    pub unique_id: Option<String>,
    pub name: String,
    pub mail: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub phone2: Option<String>,
    /// Group IDs of the import-managed groups the user is in, sorted.
    pub groups: Vec<String>,
    pub active: bool,
}

/// What the planner knows of an imported user without reading its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub pk: i64,
    pub hash: u64,
    pub active: bool,
    pub missing: u32,
    pub last_missing_batch: Option<i64>,
}

/// Who holds a mail address in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pk: i64,
    pub unique_id: Option<String>,
    /// False for a deactivated user, whose address the message names as such.
    pub active: bool,
}

/// Every imported user (with a UniqueID), in the order the store lists them: the keys side by
/// side in one buffer (no allocation per user), and what is known of each. Found by
/// [`Imported::locate`], which needs no index of a million keys on a usual day.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    keys: String,
    /// End offset in `keys` of each key.
    ends: Vec<u32>,
    known: Vec<Known>,
}

/// How far past the next user the walk of [`Imported::locate`] looks for a record's user.
const LOCATE_AHEAD: usize = 8;

impl Imported {
    pub fn with_capacity(users: usize) -> Self {
        Imported {
            keys: String::with_capacity(users * 8),
            ends: Vec::with_capacity(users),
            known: Vec::with_capacity(users),
        }
    }

    fn key(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.keys[start..self.ends[i] as usize]
    }

    /// Add a user. UniqueIDs are unique, as the store holds them.
    pub fn push(&mut self, uid: &str, known: Known) {
        self.keys.push_str(uid);
        self.ends.push(self.keys.len() as u32);
        self.known.push(known);
    }

    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// What is known of the user at an index that [`Imported::locate`] gave.
    pub fn known(&self, i: u32) -> &Known {
        &self.known[i as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Known)> {
        self.known.iter().enumerate().map(|(i, k)| (self.key(i), k))
    }

    pub fn values(&self) -> impl Iterator<Item = &Known> {
        self.known.iter()
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Known> {
        self.known.iter_mut()
    }

    /// For each UniqueID (of a file's records, in order), the index of the user it names.
    ///
    /// A day's file mostly lists its users in the order of the day before, which is the order
    /// they were created in and so the order the store lists them: a walk along both finds
    /// most of them with one comparison each, looking a few users ahead past those that left.
    /// The users the walk passed by are then put in a map for the rest of the records (all of
    /// them when the file is in another order). A UniqueID the file repeats is found for each
    /// of its records.
    pub fn locate(&self, uids: &[Option<&str>]) -> Vec<Option<u32>> {
        let n = self.len();
        let mut found: Vec<Option<u32>> = vec![None; uids.len()];
        if n == 0 {
            return found;
        }
        let mut claimed = vec![false; n];
        let mut pending: Vec<usize> = Vec::new();
        let mut next = 0;
        for (i, uid) in uids.iter().enumerate() {
            let Some(uid) = uid else { continue };
            match (next..n.min(next + LOCATE_AHEAD)).find(|&k| self.key(k) == *uid) {
                Some(k) => {
                    found[i] = Some(k as u32);
                    claimed[k] = true;
                    next = k + 1;
                }
                None => pending.push(i),
            }
        }
        if pending.is_empty() {
            return found;
        }
        type Map<'a> = HashMap<&'a str, u32, foldhash::fast::RandomState>;
        let passed: Map = (0..n)
            .filter(|&k| !claimed[k])
            .map(|k| (self.key(k), k as u32))
            .collect();
        // Not found yet: a new user's, or a UniqueID that the walk found for an earlier record.
        let unfound: Vec<usize> = pending
            .into_iter()
            .filter(|&i| match uids[i].and_then(|uid| passed.get(uid)) {
                Some(&k) => {
                    found[i] = Some(k);
                    false
                }
                None => true,
            })
            .collect();
        drop(passed);
        let walked = claimed.iter().filter(|&&c| c).count();
        if unfound.is_empty() || walked == 0 {
            return found;
        }
        // The smaller side goes into a map: the walked users on a day of many new ones.
        if walked <= unfound.len() {
            let walked: Map = (0..n)
                .filter(|&k| claimed[k])
                .map(|k| (self.key(k), k as u32))
                .collect();
            for i in unfound {
                found[i] = uids[i].and_then(|uid| walked.get(uid).copied());
            }
        } else {
            let mut by_uid: HashMap<&str, Vec<usize>, foldhash::fast::RandomState> =
                HashMap::default();
            for i in unfound {
                if let Some(uid) = uids[i] {
                    by_uid.entry(uid).or_default().push(i);
                }
            }
            for k in (0..n).filter(|&k| claimed[k]) {
                for &i in by_uid.get(self.key(k)).into_iter().flatten() {
                    found[i] = Some(k as u32);
                }
            }
        }
        found
    }
}

/// The planner's view of the store.
pub trait Directory {
    type Error;
    /// Every imported user (with a UniqueID), by UniqueID.
    fn imported(&self) -> &Imported;
    /// The Group IDs of groups managed by imports.
    fn group_ids(&self) -> &HashSet<String>;
    /// The full state of one user.
    fn user(&self, pk: i64) -> Result<UserState, Self::Error>;
    /// False for an empty directory (then no address can be taken).
    fn has_users(&self) -> bool;
    /// Who holds this mail key (lower-case address), if anyone.
    fn mail_holder(&self, mail_key: &str) -> Result<Option<Holder>, Self::Error>;
}

/// The hash of a user's import-managed fields, kept in the store beside each user: XXH3 of
/// the fields, each ended by a NUL, then the Group IDs, each ended by 0x1f.
pub fn state_hash<'a>(
    name: &str,
    mail: &str,
    title: &str,
    phone: &str,
    phone2: &str,
    groups: impl IntoIterator<Item = &'a str>,
) -> u64 {
    let mut h = StateHasher::default();
    for part in [name, mail, title, phone, phone2] {
        h.write(part.as_bytes(), 0);
    }
    for g in groups {
        h.write(g.as_bytes(), 0x1f);
    }
    h.finish()
}

/// XXH3 of the bytes written, hashed in one call when they fit on the stack (a streaming
/// XXH3 costs more than the whole of a usual user's fields). Both give the same hash.
struct StateHasher {
    buf: [u8; 256],
    len: usize,
    stream: Option<Box<xxhash_rust::xxh3::Xxh3>>,
}

impl Default for StateHasher {
    fn default() -> Self {
        StateHasher {
            buf: [0; 256],
            len: 0,
            stream: None,
        }
    }
}

impl StateHasher {
    /// Write `bytes` and then the byte `end`.
    fn write(&mut self, bytes: &[u8], end: u8) {
        if self.stream.is_none() && self.len + bytes.len() < self.buf.len() {
            self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.buf[self.len + bytes.len()] = end;
            self.len += bytes.len() + 1;
            return;
        }
        let stream = self.stream.get_or_insert_with(|| {
            let mut stream = Box::new(xxhash_rust::xxh3::Xxh3::new());
            stream.update(&self.buf[..self.len]);
            stream
        });
        stream.update(bytes);
        stream.update(&[end]);
    }

    fn finish(&self) -> u64 {
        match &self.stream {
            Some(stream) => stream.digest(),
            None => xxhash_rust::xxh3::xxh3_64(&self.buf[..self.len]),
        }
    }
}

impl UserState {
    pub fn hash(&self) -> u64 {
        state_hash(
            &self.name,
            &self.mail,
            self.title.as_deref().unwrap_or(""),
            self.phone.as_deref().unwrap_or(""),
            self.phone2.as_deref().unwrap_or(""),
            self.groups.iter().map(String::as_str),
        )
    }
}

/// The settings an import runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub batch: i64,
    pub missing_users: MissingUsers,
    pub remove_after_missing: u32,
    pub keep_phones: KeepPhones,
    pub max_removals: Limit,
    pub max_updates: Limit,
    pub max_invalid: Limit,
    /// `--allow-removals N`: raises (never lowers) the removal limit for this run.
    pub allow_removals: Option<u64>,
    pub allow_updates: Option<u64>,
    pub allow_invalid: Option<u64>,
    /// `--allow-creates N`: releases the churn safeguard of creates up to N for this run.
    pub allow_creates: Option<u64>,
    /// `import.unknown_groups = "block"`: a Group ID that no group has blocks the run.
    pub block_unknown_groups: bool,
    /// `--allow-unknown-groups`: such IDs are ignored this run, as with `"warn"`.
    pub allow_unknown_groups: bool,
    /// The churn safeguard and the applied imports it compares with.
    pub churn: Churn,
    /// `import.send_invitations`: each created user is invited.
    pub send_invitations: bool,
    /// `import.reuse_mail_of_deactivated`: a record may take the address of a user who is
    /// deactivated after the plan; that user's mail is cleared.
    pub reuse_mail_of_deactivated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Adopt,
    Update,
    Reactivate,
    Remove,
    Missing,
    Unchanged,
    Skipped,
    Invalid,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Adopt => "adopt",
            Action::Update => "update",
            Action::Reactivate => "reactivate",
            Action::Remove => "remove",
            Action::Missing => "missing",
            Action::Unchanged => "unchanged",
            Action::Skipped => "skipped",
            Action::Invalid => "invalid",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counts {
    pub create: u64,
    pub adopt: u64,
    pub update: u64,
    pub reactivate: u64,
    pub remove: u64,
    pub missing: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub invalid: u64,
}

impl Counts {
    /// Each action's name beside its count, in the order the contract lists them.
    pub fn named(&self) -> [(&'static str, u64); 9] {
        [
            ("create", self.create),
            ("adopt", self.adopt),
            ("update", self.update),
            ("reactivate", self.reactivate),
            ("remove", self.remove),
            ("missing", self.missing),
            ("unchanged", self.unchanged),
            ("skipped", self.skipped),
            ("invalid", self.invalid),
        ]
    }

    pub(in crate::core) fn add(&mut self, action: Action) {
        match action {
            Action::Create => self.create += 1,
            Action::Adopt => self.adopt += 1,
            Action::Update => self.update += 1,
            Action::Reactivate => self.reactivate += 1,
            Action::Remove => self.remove += 1,
            Action::Missing => self.missing += 1,
            Action::Unchanged => self.unchanged += 1,
            Action::Skipped => self.skipped += 1,
            Action::Invalid => self.invalid += 1,
        }
    }

    /// True when applying would change the directory.
    pub fn changes_anything(&self) -> bool {
        self.create + self.adopt + self.update + self.reactivate + self.remove > 0
    }
}

/// One field that changes: `old` → `new` (`None` is empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// What happens to one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: Action,
    /// Inline when short ([`Uid`]): a first import's million creates make no allocation each.
    pub unique_id: Option<Uid>,
    /// The store's key of an existing user ([`Change::pk`]), [`NO_PK`] for none: eight bytes,
    /// not sixteen (issue 31, as `line`).
    pk: i64,
    /// The index of the record in the file's entries, when the user is in the file
    /// ([`Change::entry`]), [`NO_ENTRY`] for none: four bytes, not eight, as a file of every
    /// line invalid is a change a line.
    entry: u32,
    /// The line of the record ([`Change::line`]): a line is never 0, so that `None` takes no
    /// room of its own and a first import's million creates are 8 bytes smaller each (issue
    /// 31: the plan is beside the file's records at a first import's peak).
    line: Option<std::num::NonZeroU64>,
    /// What only some changes have ([`Change::state`], [`Change::fields`], [`Change::name`],
    /// [`Change::absent`]), apart: a create has none of it (its state and fields derive from
    /// its record when needed, [`Plan::new_state`]), so that each of a first import's million
    /// creates is 72 bytes (with its UniqueID inline) rather than 144 and an allocation.
    more: Option<Box<More>>,
}

/// [`Change::entry`] of a change whose user is not in the file.
const NO_ENTRY: u32 = u32::MAX;

/// [`Change::pk`] of a change whose user is not in the store: SQLite gives its rows keys from
/// 1 up, never this one.
const NO_PK: i64 = i64::MIN;

/// An entry's index as a change keeps it: a file of 2^32 - 1 records would need 256 GiB for
/// its entries alone, so it is never read; past that, the change has no entry.
fn entry_index(entry: usize) -> u32 {
    u32::try_from(entry)
        .ok()
        .filter(|&e| e != NO_ENTRY)
        .unwrap_or(NO_ENTRY)
}

/// The parts of a [`Change`] that a create does not have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct More {
    new: Option<UserState>,
    fields: Vec<FieldChange>,
    name: Option<String>,
    absent: Option<u32>,
}

impl Change {
    /// A change with nothing but its user and record; the rest is set apart.
    pub fn new(
        action: Action,
        unique_id: Option<String>,
        pk: Option<i64>,
        entry: Option<usize>,
        line: Option<u64>,
    ) -> Self {
        Change {
            action,
            unique_id: unique_id.map(Uid::from),
            pk: pk.unwrap_or(NO_PK),
            // A file of 2^32 records would need 256 GiB for its entries alone: never read.
            entry: entry.map_or(NO_ENTRY, entry_index),
            line: line.and_then(std::num::NonZeroU64::new),
            more: None,
        }
    }

    /// The create of a new user from the record at `entry` (its UniqueID copied inline when
    /// short: no allocation).
    pub fn create(unique_id: &str, entry: usize, line: u64) -> Self {
        Change {
            action: Action::Create,
            unique_id: Some(Uid::new(unique_id)),
            pk: NO_PK,
            entry: entry_index(entry),
            line: std::num::NonZeroU64::new(line),
            more: None,
        }
    }

    /// The change of the invalid record at `entry` in the file: it leaves the user of its
    /// UniqueID alone (`pk`, when the store has that user). Told from the entry when needed
    /// ([`Plan::each_change`]), not held by the plan.
    pub fn invalid(record: &Entry, entry: usize, pk: Option<i64>) -> Self {
        Change {
            action: Action::Invalid,
            unique_id: record.unique_id().map(Uid::new),
            pk: pk.unwrap_or(NO_PK),
            entry: entry_index(entry),
            line: std::num::NonZeroU64::new(record.line()),
            more: None,
        }
    }

    /// The store's key of the user, when it is in the store.
    pub fn pk(&self) -> Option<i64> {
        (self.pk != NO_PK).then_some(self.pk)
    }

    /// The change is to the user of store key `pk` (an adopted one).
    pub fn set_pk(&mut self, pk: i64) {
        self.pk = pk;
    }

    /// The line of the record, when the user is in the file.
    pub fn line(&self) -> Option<u64> {
        self.line.map(std::num::NonZeroU64::get)
    }

    /// The index of the record in the file's entries, when the user is in the file.
    pub fn entry(&self) -> Option<usize> {
        (self.entry != NO_ENTRY).then_some(self.entry as usize)
    }

    /// True when the change sets this field (as named in [`FieldChange::field`]).
    pub fn changes(&self, field: &str) -> bool {
        self.fields().iter().any(|f| f.field == field)
    }

    /// The user's state after the change (adopt, update, reactivate); none for a create.
    pub fn state(&self) -> Option<&UserState> {
        self.more.as_ref()?.new.as_ref()
    }

    /// Field-level changes (for a create, see [`Plan::fields`]).
    pub fn fields(&self) -> &[FieldChange] {
        self.more.as_ref().map_or(&[], |m| &m.fields)
    }

    /// The user's name as the store has it, for reports of removals.
    pub fn name(&self) -> Option<&str> {
        self.more.as_ref()?.name.as_deref()
    }

    /// For missing and removed users: files absent in a row, counting this one.
    pub fn absent(&self) -> Option<u32> {
        self.more.as_ref()?.absent
    }

    fn more(&mut self) -> &mut More {
        self.more.get_or_insert_with(Box::default)
    }

    pub fn set_state(&mut self, state: Option<UserState>) {
        if state.is_some() || self.more.is_some() {
            self.more().new = state;
        }
    }

    pub fn set_fields(&mut self, fields: Vec<FieldChange>) {
        if !fields.is_empty() || self.more.is_some() {
            self.more().fields = fields;
        }
    }

    pub fn set_name(&mut self, name: Option<String>) {
        if name.is_some() || self.more.is_some() {
            self.more().name = name;
        }
    }

    pub fn set_absent(&mut self, absent: Option<u32>) {
        if absent.is_some() || self.more.is_some() {
            self.more().absent = absent;
        }
    }
}

/// A safeguard that tripped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tripped {
    pub safeguard: &'static str,
    pub count: u64,
    pub limit: u64,
    pub setting: String,
    /// The flag that raises the limit for one run, with the number that lets this plan through.
    pub release: String,
    /// For `max_churn`: which count, and the median and history it was compared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub churn: Option<ChurnTrip>,
}

impl Tripped {
    /// What tripped, for a person: `max_updates (2,018 > 2,000, import.max_updates = …)`,
    /// `max_churn (updates 2,018 > 10 × median 33), …`.
    pub fn describe(&self) -> String {
        match &self.churn {
            // A flag set the limit: it is what the count exceeds.
            Some(churn) if self.setting.starts_with("--") => format!(
                "{} ({} {} > {})",
                self.safeguard,
                churn.of,
                crate::core::number::thousands(self.count),
                self.setting
            ),
            Some(churn) => format!(
                "{} ({}), the median of the last {} applied imports (runs {}–{})",
                self.safeguard,
                churn.describe(self.count),
                churn.imports,
                churn.runs[0],
                churn.runs[1]
            ),
            None if self.safeguard == "unknown_groups" => {
                format!("{} ({})", self.safeguard, self.setting)
            }
            None => format!(
                "{} ({} > {}, {})",
                self.safeguard,
                crate::core::number::thousands(self.count),
                crate::core::number::thousands(self.limit),
                self.setting
            ),
        }
    }
}

/// An address a record takes from a user who is deactivated after the plan
/// (`import.reuse_mail_of_deactivated`): that user's mail is cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reused {
    #[serde(skip)]
    pub pk: i64,
    /// The deactivated user's UniqueID.
    pub unique_id: Option<String>,
    /// The address as that user held it.
    pub mail: String,
    /// The UniqueID of the record that takes it.
    pub to: String,
}

/// The plan of one batch.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub batch: i64,
    pub counts: Counts,
    /// Every user that is created, adopted, updated, reactivated, removed or missing. The
    /// invalid records' changes are not held (a file of every line invalid would be a change
    /// a line, 56 bytes for a line of 2: SPEC §5) but told from the file's entries, in order
    /// among these, by [`Plan::each_change`].
    pub changes: Vec<Change>,
    /// The store's key of the user each invalid record names (by the record's entry, sorted),
    /// for the records that name one: what an invalid change has beside its entry.
    pub invalid_users: Vec<(u32, i64)>,
    /// Present users whose absence counter goes back to zero (no visible change).
    pub present_again: Vec<i64>,
    pub tripped: Vec<Tripped>,
    /// Safeguards the count exceeded but an `--allow-*` flag let through (recorded with the run).
    pub overridden: Vec<Tripped>,
    /// Imported, active users before the plan (the base of `max_removals`).
    pub active_imported: u64,
    /// The Group IDs the import manages, as the plan saw them.
    pub group_ids: HashSet<String>,
    /// Group IDs of the file that no group has, with the number of records naming each.
    pub unknown_groups: std::collections::BTreeMap<String, u64>,
    /// Invitations the run will queue (one per created user with `import.send_invitations`).
    pub invitations: u64,
    /// `mail.max_per_minute` (0: no limit), for how long the invitations take to send.
    pub invitations_per_minute: u32,
    /// The stored state of each user the file leaves out (removed or missing), by key: what a
    /// person needs to judge a removal (name, mail, groups).
    pub absent_users: HashMap<i64, UserState>,
    /// Addresses taken from deactivated users, whose mail the apply clears.
    pub mail_reused: Vec<Reused>,
    /// No imported user before the plan (a first import): not a night the churn safeguard
    /// learns from.
    pub empty_directory: bool,
    /// What the churn safeguard compared this plan with.
    pub churn: ChurnCheck,
    /// The digest, once computed ([`Plan::digest`]).
    pub digest_memo: digest::Memo,
}

impl Plan {
    pub fn blocked(&self) -> bool {
        !self.tripped.is_empty()
    }

    /// Every change of the plan in its order: the records' (the invalid ones told from their
    /// entries in the file the plan was made of) in the file's order, then the absent users'.
    pub fn each_change<'a>(
        &'a self,
        entries: &'a [Entry],
    ) -> impl Iterator<Item = std::borrow::Cow<'a, Change>> + 'a {
        let mut held = self.changes.iter().peekable();
        let mut invalid = invalid_entries(entries).peekable();
        std::iter::from_fn(move || {
            let told = match (held.peek(), invalid.peek()) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(c), Some(&(i, _))) => c.entry().is_none_or(|e| e > i),
            };
            if told {
                let (i, entry) = invalid.next()?;
                Some(std::borrow::Cow::Owned(self.invalid_change(entry, i)))
            } else {
                held.next().map(std::borrow::Cow::Borrowed)
            }
        })
    }

    /// The changes of the invalid records, in the file's order (see [`Plan::each_change`]).
    pub fn invalid_changes<'a>(
        &'a self,
        entries: &'a [Entry],
    ) -> impl Iterator<Item = Change> + 'a {
        invalid_entries(entries).map(|(i, entry)| self.invalid_change(entry, i))
    }

    /// How many changes [`Plan::each_change`] tells.
    pub fn change_count(&self, entries: &[Entry]) -> usize {
        self.changes.len() + invalid_entries(entries).count()
    }

    fn invalid_change(&self, entry: &Entry, i: usize) -> Change {
        let at = u32::try_from(i).unwrap_or(NO_ENTRY);
        let pk = self
            .invalid_users
            .binary_search_by_key(&at, |&(e, _)| e)
            .ok()
            .map(|k| self.invalid_users[k].1);
        Change::invalid(entry, i, pk)
    }

    /// The state a change leads to: stored for most changes, derived from the record for a create.
    pub fn new_state(&self, change: &Change, file: &ImportFile) -> Option<UserState> {
        if change.action != Action::Create {
            return change.state().cloned();
        }
        match file.entries.get(change.entry()?)? {
            Entry::Valid(r) => Some(wanted(
                r,
                file,
                KeepPhones::default(),
                &self.group_ids,
                None,
            )),
            Entry::Invalid(_) => None,
        }
    }

    /// The field-level changes of a change (computed for a create).
    pub fn fields<'a>(
        &self,
        change: &'a Change,
        file: &ImportFile,
    ) -> std::borrow::Cow<'a, [FieldChange]> {
        if change.action == Action::Create {
            let new = self.new_state(change, file).unwrap_or_default();
            std::borrow::Cow::Owned(diff_fields(None, &new))
        } else {
            std::borrow::Cow::Borrowed(change.fields())
        }
    }
}

impl Plan {
    /// The fields a create sets, borrowed from its record: what [`Plan::fields`] gives for a
    /// create, in the same order and with the same values, without copying a value (the JSON
    /// of a first import writes a million of them). `None` for any other change.
    pub fn created_fields<'a>(
        &'a self,
        change: &Change,
        file: &'a ImportFile,
    ) -> Option<CreatedFields<'a>> {
        if change.action != Action::Create {
            return None;
        }
        match file.entries.get(change.entry()?)? {
            Entry::Valid(record) => Some(CreatedFields {
                record,
                columns: &file.columns,
                known: &self.group_ids,
            }),
            Entry::Invalid(_) => None,
        }
    }
}

/// The fields of a create, serialized as `[{"field", "old": null, "new"}, …]` straight from
/// its record (see [`Plan::created_fields`]).
pub struct CreatedFields<'a> {
    record: &'a Record,
    columns: &'a crate::core::record::Columns,
    known: &'a HashSet<String>,
}

impl<'a> CreatedFields<'a> {
    /// The text fields the create sets, in [`diff_fields`]' order: name and mail always,
    /// title and phones when the file has the column and the cell is not empty.
    pub fn texts(&self) -> impl Iterator<Item = (&'static str, &'a str)> + 'a {
        let r = self.record;
        let columns = self.columns;
        [
            ("name", None, r.name()),
            ("mail", None, r.mail()),
            ("title", Some(Field::Title), r.title()),
            ("phone", Some(Field::Phone), r.phone()),
            ("phone2", Some(Field::Phone2), r.phone2()),
        ]
        .into_iter()
        .filter(move |(_, column, value)| {
            column.is_none_or(|c| columns.has(c) && !value.is_empty())
        })
        .map(|(name, _, value)| (name, value))
    }

    /// The known groups of the record (joined with `,`, the `groups` field), when the file
    /// has a Groups column and the record names any; the `status` field that follows is
    /// always `active`.
    pub fn groups(&self) -> Option<impl Iterator<Item = &'a str> + Clone + 'a> {
        let known = self.known;
        let groups = self.record.groups().filter(move |g| known.contains(*g));
        (self.columns.has(Field::Groups) && groups.clone().next().is_some()).then_some(groups)
    }
}

impl Serialize for CreatedFields<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        #[derive(Serialize)]
        struct Set<V> {
            field: &'static str,
            old: Option<()>,
            new: V,
        }
        let mut seq = s.serialize_seq(None)?;
        for (field, new) in self.texts() {
            seq.serialize_element(&Set {
                field,
                old: None,
                new,
            })?;
        }
        if let Some(groups) = self.groups() {
            seq.serialize_element(&Set {
                field: "groups",
                old: None,
                new: groups.collect::<Vec<_>>().join(","),
            })?;
        }
        seq.serialize_element(&Set {
            field: "status",
            old: None,
            new: "active",
        })?;
        seq.end()
    }
}

fn none_if_empty(s: &str) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s.to_string())
    }
}

/// True when the record alone decides every field (so its hash can be compared at once).
fn self_contained(r: &Record, file: &ImportFile, keep: KeepPhones) -> bool {
    let c = &file.columns;
    c.has(Field::Title)
        && c.has(Field::Phone)
        && c.has(Field::Phone2)
        && c.has(Field::Groups)
        && !(keep.primary && r.phone().is_empty())
        && !(keep.secondary && r.phone2().is_empty())
}

/// The state a record asks for, given the user's current state (for fields the file leaves alone).
fn wanted(
    r: &Record,
    file: &ImportFile,
    keep: KeepPhones,
    known: &HashSet<String>,
    old: Option<&UserState>,
) -> UserState {
    let c = &file.columns;
    let keep_old =
        |present: bool, cell: &str, keep: bool, old: Option<&Option<String>>| -> Option<String> {
            if !present || (keep && cell.is_empty()) {
                old.cloned().flatten()
            } else {
                none_if_empty(cell)
            }
        };
    UserState {
        unique_id: Some(r.unique_id().to_string()),
        name: r.name().to_string(),
        mail: r.mail().to_string(),
        title: keep_old(c.has(Field::Title), r.title(), false, old.map(|o| &o.title)),
        phone: keep_old(
            c.has(Field::Phone),
            r.phone(),
            keep.primary,
            old.map(|o| &o.phone),
        ),
        phone2: keep_old(
            c.has(Field::Phone2),
            r.phone2(),
            keep.secondary,
            old.map(|o| &o.phone2),
        ),
        groups: if c.has(Field::Groups) {
            r.groups()
                .filter(|g| known.contains(*g))
                .map(str::to_string)
                .collect()
        } else {
            old.map(|o| o.groups.clone()).unwrap_or_default()
        },
        active: true,
    }
}

/// The field-level differences between two states.
pub fn diff_fields(old: Option<&UserState>, new: &UserState) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let empty = UserState::default();
    let o = old.unwrap_or(&empty);
    let mut push = |field: &'static str, a: Option<&str>, b: Option<&str>| {
        if a != b {
            out.push(FieldChange {
                field,
                old: a.map(str::to_string),
                new: b.map(str::to_string),
            });
        }
    };
    push("name", old.map(|o| o.name.as_str()), Some(&new.name));
    // A cleared address (given to another user) is no value.
    push(
        "mail",
        old.map(|o| o.mail.as_str()).filter(|m| !m.is_empty()),
        Some(&new.mail),
    );
    push("title", o.title.as_deref(), new.title.as_deref());
    push("phone", o.phone.as_deref(), new.phone.as_deref());
    push("phone2", o.phone2.as_deref(), new.phone2.as_deref());
    let join = |g: &[String]| {
        if g.is_empty() {
            None
        } else {
            Some(g.join(","))
        }
    };
    push(
        "groups",
        join(&o.groups).as_deref(),
        join(&new.groups).as_deref(),
    );
    let status = |s: &UserState| if s.active { "active" } else { "deactivated" };
    push("status", old.map(status), Some(status(new)));
    out
}

/// The invalid entries of a file, with their indices.
fn invalid_entries(entries: &[Entry]) -> impl Iterator<Item = (usize, &Entry)> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Entry::Invalid(_)))
}

/// Compute the plan of `file` against the directory (SPEC §2). Records whose Mail another user
/// keeps are marked `mail-taken` in `file` (they become invalid).
pub fn plan<D: Directory>(
    file: &mut ImportFile,
    dir: &D,
    settings: &Settings,
) -> Result<Plan, D::Error> {
    let known_groups = dir.group_ids();
    let imported = dir.imported();
    let mut plan = Plan {
        batch: settings.batch,
        group_ids: known_groups.clone(),
        active_imported: imported.values().filter(|k| k.active).count() as u64,
        empty_directory: imported.is_empty(),
        ..Plan::default()
    };
    // Every record against the store: most are unchanged, which a hash tells without reading
    // the user's row. An empty store knows no record's user: nothing to locate or hash, and
    // no list a record long beside the creates (a first import's peak, issue 31).
    let (seen, present) = if imported.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let (located, hashes) = locate_and_hash(file, imported, known_groups, settings.keep_phones);
        let seen = unchanged(imported, &located, hashes);
        (seen, present(imported.len(), located))
    };
    // Absent users first: their removals can free mail addresses for the records.
    let absent = absent_users(imported, present, dir, settings, &mut plan)?;
    let removed = |how: MissingUsers| -> HashSet<i64> {
        if settings.missing_users != how {
            return HashSet::new();
        }
        let removals = absent.iter().filter(|c| c.action == Action::Remove);
        removals.filter_map(Change::pk).collect()
    };
    let deleted = removed(MissingUsers::Delete);
    // Users this plan deactivates: afterwards their addresses may be reused.
    let deactivating = removed(MissingUsers::Deactivate);
    // Users a Skip record names: left exactly as they are, their addresses too.
    let mut skipped: HashSet<i64> = HashSet::new();
    let mut changes = record_changes(file, dir, seen, settings, &mut plan, &mut skipped)?;
    let reuse = settings.reuse_mail_of_deactivated.then_some(Reuse {
        deactivating: &deactivating,
        skipped: &skipped,
    });
    plan.mail_reused = resolve_mail(file, dir, &mut changes, &deleted, known_groups, reuse)?;
    // The invalid changes (a mail taken among them) are told from the entries from now on.
    changes.retain(|c| {
        if c.action != Action::Invalid {
            return true;
        }
        if let (Some(entry), Some(pk)) = (c.entry(), c.pk()) {
            plan.invalid_users.push((entry_index(entry), pk));
        }
        false
    });
    plan.invalid_users.sort_unstable();
    count_changes(&mut plan.counts, &changes, &absent);
    plan.counts.invalid = invalid_entries(&file.entries).count() as u64;
    changes.reserve_exact(absent.len());
    changes.extend(absent);
    plan.changes = changes;
    plan.unknown_groups = file.take_unknown_group_counts();
    check_safeguards(&mut plan, file.rows as u64, settings);
    if settings.send_invitations {
        plan.invitations = plan.counts.create;
    }
    Ok(plan)
}

/// Each record's user (found by a walk, on one core) while the other core hashes what each
/// record asks for, when the record alone decides it (an empty store is not asked: see
/// [`plan`]).
fn locate_and_hash(
    file: &ImportFile,
    imported: &Imported,
    known_groups: &HashSet<String>,
    keep: KeepPhones,
) -> (Vec<Option<u32>>, Vec<Option<u64>>) {
    let entries = &file.entries;
    let locate = || {
        let uids: Vec<Option<&str>> = entries.iter().map(Entry::unique_id).collect();
        imported.locate(&uids)
    };
    let managed: HashSet<&str, foldhash::fast::RandomState> =
        known_groups.iter().map(String::as_str).collect();
    let hash = || -> Vec<Option<u64>> {
        entries
            .par_iter()
            .map(|entry| match entry {
                // The hash of what `wanted` would build (computed without building it).
                Entry::Valid(r) if !r.skip && self_contained(r, file, keep) => Some(state_hash(
                    r.name(),
                    r.mail(),
                    r.title(),
                    r.phone(),
                    r.phone2(),
                    r.groups().filter(|g| managed.contains(*g)),
                )),
                _ => None,
            })
            .collect()
    };
    rayon::join(locate, hash)
}

/// What is known of each record's user, and whether the record leaves it unchanged: the user
/// is active and has the record's hash.
fn unchanged<'d>(
    imported: &'d Imported,
    located: &[Option<u32>],
    hashes: Vec<Option<u64>>,
) -> Vec<(Option<&'d Known>, bool)> {
    located
        .iter()
        .enumerate()
        .map(|(i, at)| {
            let known = at.map(|at| imported.known(at));
            let unchanged = match (hashes.get(i).copied().flatten(), known) {
                (Some(hash), Some(k)) => k.active && hash == k.hash,
                _ => false,
            };
            (known, unchanged)
        })
        .collect()
}

/// The imported users some record names (an invalid or a Skip record too): not absent.
fn present(users: usize, located: Vec<Option<u32>>) -> Vec<bool> {
    let mut present = vec![false; users];
    for at in located.into_iter().flatten() {
        present[at as usize] = true;
    }
    present
}

/// Each imported, active user the file leaves out: removed per `import.missing_users` once it
/// has been absent from `import.remove_after_missing` files in a row (re-applying the same
/// batch does not count again), missing until then; none with `keep`. Sorted by UniqueID.
fn absent_users<D: Directory>(
    imported: &Imported,
    present: Vec<bool>,
    dir: &D,
    settings: &Settings,
    plan: &mut Plan,
) -> Result<Vec<Change>, D::Error> {
    let mut absent: Vec<Change> = Vec::new();
    if settings.missing_users == MissingUsers::Keep {
        return Ok(absent);
    }
    for ((uid, k), present) in imported.iter().zip(present) {
        if !k.active || present {
            continue;
        }
        let count = if k.last_missing_batch == Some(settings.batch) {
            k.missing.max(1)
        } else {
            k.missing + 1
        };
        let state = dir.user(k.pk)?;
        let mut change = if count >= settings.remove_after_missing {
            removal(uid, k.pk, settings.missing_users)
        } else {
            Change::new(
                Action::Missing,
                Some(uid.to_string()),
                Some(k.pk),
                None,
                None,
            )
        };
        change.set_name(Some(state.name.clone()));
        change.set_absent(Some(count));
        absent.push(change);
        plan.absent_users.insert(k.pk, state);
    }
    absent.sort_by(|a, b| a.unique_id.cmp(&b.unique_id));
    Ok(absent)
}

/// The removal of an absent user: deleted or deactivated.
fn removal(uid: &str, pk: i64, missing_users: MissingUsers) -> Change {
    let new = if missing_users == MissingUsers::Delete {
        "deleted"
    } else {
        "deactivated"
    };
    let mut change = Change::new(Action::Remove, Some(uid.to_string()), Some(pk), None, None);
    change.set_fields(vec![FieldChange {
        field: "status",
        old: Some("active".into()),
        new: Some(new.into()),
    }]);
    change
}

/// What each record of the file does: an invalid record leaves its user alone, a Skip record
/// too (its user goes in `skipped`); a new UniqueID is a create; a known user is updated or
/// reactivated when the record asks for something else, else it is unchanged. `seen` says
/// what is known of each record's user (empty: no record's user is known).
fn record_changes<D: Directory>(
    file: &mut ImportFile,
    dir: &D,
    seen: Vec<(Option<&Known>, bool)>,
    settings: &Settings,
    plan: &mut Plan,
    skipped: &mut HashSet<i64>,
) -> Result<Vec<Change>, D::Error> {
    // One change a valid record at most: no room to spare (a first import is all creates).
    let valid = file.entries.len() - invalid_entries(&file.entries).count();
    let mut changes: Vec<Change> = Vec::with_capacity(valid);
    for i in 0..file.entries.len() {
        let (known, unchanged) = seen.get(i).copied().unwrap_or((None, false));
        let Entry::Valid(record) = &file.entries[i] else {
            // Held only while addresses are resolved, and only when it names a stored user
            // (whom it leaves alone): the plan tells the others from the entries.
            if let Some(k) = known {
                changes.push(Change::invalid(&file.entries[i], i, Some(k.pk)));
            }
            continue;
        };
        if record.skip {
            plan.counts.add(Action::Skipped);
            skipped.extend(known.map(|k| k.pk));
            continue;
        }
        let Some(k) = known else {
            changes.push(Change::create(record.unique_id(), i, record.line));
            continue;
        };
        if k.missing > 0 {
            plan.present_again.push(k.pk);
        }
        let change = if unchanged {
            None
        } else {
            update(
                record,
                i,
                k.pk,
                file,
                dir,
                settings.keep_phones,
                &plan.group_ids,
            )?
        };
        match change {
            Some(change) => changes.push(change),
            None => plan.counts.add(Action::Unchanged),
        }
    }
    Ok(changes)
}

/// The update (or reactivation) of a known user to what its record asks for, or none when the
/// user already is that.
fn update<D: Directory>(
    record: &Record,
    i: usize,
    pk: i64,
    file: &ImportFile,
    dir: &D,
    keep: KeepPhones,
    known_groups: &HashSet<String>,
) -> Result<Option<Change>, D::Error> {
    let old = dir.user(pk)?;
    let want = wanted(record, file, keep, known_groups, Some(&old));
    if want == old {
        return Ok(None);
    }
    let action = if old.active {
        Action::Update
    } else {
        Action::Reactivate
    };
    let uid = Some(record.unique_id().to_string());
    let mut change = Change::new(action, uid, Some(pk), Some(i), Some(record.line));
    change.set_fields(diff_fields(Some(&old), &want));
    change.set_state(Some(want));
    change.set_name(Some(old.name));
    Ok(Some(change))
}

/// The counts of what the plan does, once the records' changes are final (an address taken
/// makes a record invalid): the invalid records counted again, from the changes.
fn count_changes(counts: &mut Counts, changes: &[Change], absent: &[Change]) {
    for c in changes.iter().chain(absent) {
        counts.add(c.action);
    }
}

/// One safeguard against its count: tripped when the count exceeds the configured limit and
/// the flag (which only raises it); overridden when only the flag lets the count through.
struct Guard<'a> {
    safeguard: &'static str,
    key: &'static str,
    flag: &'static str,
    count: u64,
    limit: Limit,
    allow: Option<u64>,
    /// What the limit is a share of, for the message: `10 active imported users`.
    of: &'a str,
    total: u64,
}

impl Guard<'_> {
    fn check(&self, plan: &mut Plan) {
        let configured = self.limit.allowed(self.total);
        let allow = self.allow.unwrap_or(0);
        let limit = configured.max(allow);
        let entry = |setting: String| Tripped {
            safeguard: self.safeguard,
            count: self.count,
            limit,
            setting,
            release: format!("{} {}", self.flag, self.count),
            churn: None,
        };
        let key = format!(
            "import.{} = {} of {} {}",
            self.key,
            self.limit,
            crate::core::number::thousands(self.total),
            self.of
        );
        if self.count > limit {
            // The message names what set the limit: the flag when it raised it, else the key.
            let setting = if self.allow.is_some() && allow >= configured {
                format!("{} {allow}", self.flag)
            } else {
                key
            };
            plan.tripped.push(entry(setting));
        } else if self.count > configured {
            plan.overridden
                .push(entry(format!("{} {allow} (above {key})", self.flag)));
        }
    }
}

/// Check the three safeguards of a plan (its counts, its `active_imported`) and note which
/// tripped and which a flag let through.
pub fn check_safeguards(plan: &mut Plan, rows: u64, s: &Settings) {
    let active = plan.active_imported;
    let guards = [
        Guard {
            safeguard: "max_removals",
            key: "max_removals",
            flag: "--allow-removals",
            count: plan.counts.remove,
            limit: s.max_removals,
            allow: s.allow_removals,
            of: "active imported users",
            total: active,
        },
        // Reactivations restore users and are not counted.
        Guard {
            safeguard: "max_updates",
            key: "max_updates",
            flag: "--allow-updates",
            count: plan.counts.update,
            limit: s.max_updates,
            allow: s.allow_updates,
            of: "active imported users",
            total: active,
        },
        Guard {
            safeguard: "max_invalid",
            key: "max_invalid",
            flag: "--allow-invalid",
            count: plan.counts.invalid,
            limit: s.max_invalid,
            allow: s.allow_invalid,
            of: "records",
            total: rows,
        },
    ];
    for g in &guards {
        g.check(plan);
    }
    churn::check(plan, s);
    check_unknown_groups(plan, s);
}

/// `import.unknown_groups = "block"`: the Group IDs of the file that no group has block the
/// run, each named once with the number of records naming it, until the groups exist or
/// `--allow-unknown-groups` ignores those memberships (as `"warn"` does).
fn check_unknown_groups(plan: &mut Plan, s: &Settings) {
    if !s.block_unknown_groups || plan.unknown_groups.is_empty() {
        return;
    }
    let named: Vec<String> = plan
        .unknown_groups
        .iter()
        .map(|(id, n)| {
            let records = if *n == 1 { "record" } else { "records" };
            format!("{id}: {} {records}", crate::core::number::thousands(*n))
        })
        .collect();
    let ids = plan.unknown_groups.len() as u64;
    let entry = |setting: String| Tripped {
        safeguard: "unknown_groups",
        count: ids,
        limit: 0,
        setting,
        release: "--allow-unknown-groups".to_string(),
        churn: None,
    };
    let setting = format!(
        "no group has the ID {}; import.unknown_groups = \"block\"",
        named.join(", ")
    );
    if s.allow_unknown_groups {
        plan.overridden.push(entry(format!(
            "--allow-unknown-groups (the memberships are ignored: {setting})"
        )));
    } else {
        plan.tripped.push(entry(setting));
    }
}

pub mod top;

#[cfg(test)]
mod tests;

//! `roster push` (SPEC §8): bring a SCIM 2.0 service provider in step with the store. Only what
//! differs from what the provider last acknowledged is sent; each answer is committed before the
//! next request, so an interrupted push resumes without sending anything twice. A create whose
//! answer was lost is looked up before it is sent again; only what the provider confirmed
//! counts, and what it holds is compared with what was sent, attribute by attribute.

pub mod client;
mod listing;
mod plan;
pub mod resource;
mod send;
mod settle;

use crate::config::{Config, ScimConfig, ScimRemoved};
use crate::error::Error;
use crate::render::log::secs;
use crate::render::thousands;
use crate::store::scim::{Kind, Pushed, ScimGroup, ScimUser};
use crate::store::Store;
use client::Client;
use plan::{Op, Planner, Task};
use resource::{Flag, Text};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Instant;
use ureq::http::Method;

/// What `push` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub dry_run: bool,
    pub full: bool,
    pub allow_removals: Option<u64>,
    pub quiet: bool,
}

/// Changes per action, for users or groups.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub create: u64,
    pub update: u64,
    pub deactivate: u64,
    pub delete: u64,
    pub unchanged: u64,
    /// Accounts the provider already held with our `externalId`, made ours (SPEC §8).
    pub taken_over: u64,
}

/// One change sent and confirmed (or, in a dry run, that would be sent).
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub kind: &'static str,
    pub action: &'static str,
    /// The UniqueID or Group ID (the resource's `externalId`).
    pub id: String,
    /// The `userName` or `displayName`.
    pub name: String,
}

/// A change the provider refused: recorded, reported, and tried again by the next push.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub kind: &'static str,
    pub id: String,
    pub action: &'static str,
    pub reason: String,
}

/// An attribute the provider does not keep as sent, and on how many users and groups.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Dropped {
    pub attribute: String,
    pub resources: u64,
}

/// What a push did: the counts are of changes the provider confirmed (or, in a dry run, of
/// the plan).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// `pushed`, `partial` (some changes refused), `unconfirmed` (some answers confirmed
    /// nothing), `dry-run` or `blocked`.
    pub status: &'static str,
    pub push: Option<i64>,
    pub users: Counts,
    pub groups: Counts,
    pub refused: Vec<Refused>,
    pub requests: u64,
    pub bulk_requests: u64,
    pub changes: Vec<Change>,
    /// What the provider answered without confirming the change (left pending).
    pub unconfirmed: Vec<String>,
    /// Duplicates of one `externalId` found by `--full`, and what became of each.
    pub duplicates: Vec<String>,
    /// Attributes the provider did not keep, seen for the first time in this push.
    pub dropped: Vec<Dropped>,
    pub message: Option<String>,
    pub seconds: f64,
}

impl Counts {
    /// `3 created, 1 updated, 0 deactivated, 0 deleted, 9 unchanged` (groups are never
    /// deactivated, so theirs has no `deactivated`).
    pub fn line(&self, users: bool) -> String {
        let mut v = vec![
            format!("{} created", self.create),
            format!("{} updated", self.update),
        ];
        if users {
            v.push(format!("{} deactivated", self.deactivate));
        }
        v.push(format!("{} deleted", self.delete));
        if self.taken_over > 0 {
            v.push(format!("{} taken over", self.taken_over));
        }
        v.push(format!("{} unchanged", self.unchanged));
        v.join(", ")
    }
}

impl Outcome {
    /// One line: `push: users 3 created, 1 updated, …; groups …; 2 requests (1 bulk)`.
    pub fn summary(&self) -> String {
        let o = self;
        let part = |c: &Counts, users: bool| c.line(users);
        let verb = match o.status {
            "dry-run" => "push (dry run, nothing sent)",
            "blocked" => "push BLOCKED",
            "partial" => "push (some changes refused)",
            "unconfirmed" => "push (some changes not confirmed)",
            _ => "push",
        };
        let mut line = format!(
            "{verb}: users {}; groups {}",
            part(&o.users, true),
            part(&o.groups, false)
        );
        if o.status != "dry-run" && o.status != "blocked" {
            line.push_str(&format!(
                "; {} refused; {} requests ({} bulk) in {:.1} s",
                o.refused.len(),
                o.requests,
                o.bulk_requests,
                o.seconds
            ));
        }
        for d in &o.duplicates {
            line.push('\n');
            line.push_str(d);
        }
        if !o.dropped.is_empty() {
            let list: Vec<String> = o
                .dropped
                .iter()
                .map(|d| format!("{} ({} resources)", d.attribute, thousands(d.resources)))
                .collect();
            line.push_str(&format!(
                "\nprovider limitation: the provider does not keep {} as sent; roster does not send {} again",
                list.join(", "),
                if o.dropped.len() == 1 { "it" } else { "them" }
            ));
        }
        if let Some(m) = &o.message {
            line.push('\n');
            line.push_str(m);
        }
        line
    }

    /// The error the exit code comes from, if any.
    pub fn error(&self) -> Option<anyhow::Error> {
        match self.status {
            "blocked" => Some(Error::Blocked(self.message.clone().unwrap_or_default()).into()),
            "partial" | "unconfirmed" => Some(anyhow::anyhow!(
                "{}",
                self.message.clone().unwrap_or_default()
            )),
            _ => None,
        }
    }
}

/// What the provider advertises (`/ServiceProviderConfig`).
#[derive(Debug, Clone, Default)]
struct Features {
    bulk_ops: usize,
    bulk_bytes: usize,
    etag: bool,
    filter: bool,
    patch: bool,
    page: usize,
    /// Learned in a push: this provider removes members only as a `value` list.
    remove_by_value: bool,
    /// Learned in a push: this provider refused a PATCH of a group's `displayName`.
    rename_by_put: bool,
}

/// `/ServiceProviderConfig`, read into the few values roster uses (the rest is skipped).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Spc {
    bulk: Option<Support>,
    filter: Option<Support>,
    etag: Option<Support>,
    patch: Option<Support>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Support {
    supported: Option<Flag>,
    max_operations: Option<Text>,
    max_payload_size: Option<Text>,
    max_results: Option<Text>,
}

impl Features {
    /// What the provider offers, for the `-v` line: `bulk (1000 operations, 1048576 bytes),
    /// ETags, filter, PATCH`.
    fn describe(&self) -> String {
        let mut v = vec![if self.bulk_ops > 1 && self.bulk_bytes > 0 {
            format!(
                "bulk ({} operations, {} bytes)",
                self.bulk_ops, self.bulk_bytes
            )
        } else {
            "no bulk".to_string()
        }];
        v.push(if self.etag { "ETags" } else { "no ETags" }.to_string());
        v.push(if self.filter { "filter" } else { "no filter" }.to_string());
        v.push(if self.patch { "PATCH" } else { "no PATCH" }.to_string());
        v.push(format!("pages of {}", self.page));
        v.join(", ")
    }

    fn read(spc: &Spc) -> Features {
        let supported =
            |s: &Option<Support>| s.as_ref().and_then(|s| s.supported).is_some_and(|f| f.0);
        let number = |s: &Option<Support>, pick: fn(&Support) -> &Option<Text>| {
            s.as_ref()
                .and_then(|s| pick(s).as_ref())
                .and_then(|t| t.0.trim().parse::<u64>().ok())
                .unwrap_or(0)
                .min(1 << 40) as usize
        };
        let bulk = supported(&spc.bulk);
        Features {
            bulk_ops: if bulk {
                number(&spc.bulk, |s| &s.max_operations).min(1000)
            } else {
                0
            },
            bulk_bytes: if bulk {
                number(&spc.bulk, |s| &s.max_payload_size)
            } else {
                0
            },
            etag: supported(&spc.etag),
            filter: supported(&spc.filter),
            patch: supported(&spc.patch),
            remove_by_value: false,
            rename_by_put: false,
            page: match number(&spc.filter, |s| &s.max_results) {
                0 => 100,
                n => n.min(1000),
            },
        }
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "user",
        Kind::Group => "group",
    }
}

fn endpoint(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "/Users",
        Kind::Group => "/Groups",
    }
}

fn index(kind: Kind) -> usize {
    match kind {
        Kind::User => 0,
        Kind::Group => 1,
    }
}

/// What the stages of one push share: its options, the store's users and groups, and the
/// changes sent.
struct Stage<'s> {
    opts: &'s Options,
    users: &'s [ScimUser],
    groups: &'s [ScimGroup],
    changes: Vec<Change>,
}

/// The push of one run: the provider, and what it holds of ours.
struct Pusher<'a> {
    store: &'a mut Store,
    scim: &'a ScimConfig,
    client: Option<Client>,
    features: Features,
    users: HashMap<String, Pushed>,
    groups: HashMap<String, Pushed>,
    dry_run: bool,
    /// `--full`: its repairs go one request each, so that each answer shows what the provider
    /// kept (a bulk's answer need not).
    full: bool,
    refused: Vec<Refused>,
    /// The answers that made a change be planned again in this push (kind, key, status):
    /// each may do so once, so a provider that keeps answering 412 or 409 ends in a refusal.
    replanned: BTreeSet<(&'static str, String, u16)>,
    /// Users whose new address another account held (409): moved aside (their UniqueID as
    /// `userName`) in one round, to their address in the next (two users swapping addresses).
    parked: HashSet<String>,
    /// Creates whose answer was lost (a timeout, a reset, a 5xx): looked up before anything
    /// is sent again; and creates that met a resource of our `externalId` (409).
    lost: Vec<(Kind, String)>,
    conflicts: Vec<(Kind, String)>,
    /// Creates a bulk's answer confirmed without naming the new resource (a status, but no
    /// `location` nor `id`): made, so looked up by `externalId` in this push, never sent again.
    made: Vec<(Kind, String)>,
    /// How many times each lost create (users, groups) was sent again in this push.
    resent: [HashMap<String, u32>; 2],
    /// Keys taken over in this push (users, groups), so their update counts as the take-over.
    taken: [HashSet<String>; 2],
    /// Keys created in this push (users, groups): the change that completes one in the same
    /// push (members its answer shows dropped, added by PATCH) is part of its create.
    created: [HashSet<String>; 2],
    /// The shape of member removals in the request last sent (see `Features`).
    sent_by_value: bool,
    /// Changes the provider confirmed, per kind.
    done: [Counts; 2],
    unconfirmed: Vec<String>,
    duplicates: Vec<String>,
    /// Duplicates of one `externalId` found by `--full` (users, groups), removed once the push
    /// is known not to be blocked.
    found_duplicates: [Vec<(String, Pushed)>; 2],
    bulk_requests: u64,
    bar: indicatif::ProgressBar,
}

/// For `status`: the last push, the changes waiting for the next one (counted against what
/// the provider last acknowledged, without asking it), the refusals, and the attributes the
/// provider does not keep. `None` without `[scim]` and without any push.
pub fn status(store: &Store, config: &Config) -> anyhow::Result<Option<Value>> {
    let last = store.scim_last_push()?.map(|p| ended(p, config));
    let dropped: Vec<Value> = store
        .scim_dropped()?
        .into_iter()
        .map(|(attribute, resources)| json!({"attribute": attribute, "resources": resources}))
        .collect();
    let Some(scim) = config.scim.as_ref() else {
        return Ok(last.map(|l| {
            json!({"last": push_json(&l), "pending": null, "failures": null, "dropped": dropped})
        }));
    };
    let (users, groups) = store.scim_directory()?;
    let refusals = store.scim_refusals()?;
    let (pushed_users, pushed_groups) = (
        store.scim_pushed(Kind::User)?,
        store.scim_pushed(Kind::Group)?,
    );
    let pusher = Planner {
        scim,
        patch: true,
        rename_by_put: false,
        users: &pushed_users,
        groups: &pushed_groups,
        parked: &HashSet::new(),
    };
    let mut counts = Counts::default();
    let tasks = pusher.plan_users(&users, None, &mut counts);
    let mut pending = tasks.len();
    if scim.groups {
        pending += pusher
            .plan_groups(&groups, None, &mut Counts::default(), &tasks)
            .len();
    }
    Ok(Some(json!({
        "last": last.as_ref().map(push_json),
        "pending": pending,
        "failures": refusals.len(),
        "refused": refusals.iter().take(100).map(|r| json!({
            "kind": kind_name(r.kind), "id": r.id, "reason": r.error, "at": r.at})).collect::<Vec<_>>(),
        "dropped": dropped,
    })))
}

/// A push still recorded as running while no roster holds the store's lock ended without
/// finishing (killed, or the machine stopped): its attempt failed (SPEC §5, honest health).
fn ended(p: crate::store::scim::PushRun, config: &Config) -> crate::store::scim::PushRun {
    if p.status != "running" || crate::store::lock::holder(config.store_path()).is_some() {
        return p;
    }
    crate::store::scim::PushRun {
        status: "failed".to_string(),
        message: Some(
            "the push stopped before it finished (the process ended); the next push resumes from what the provider acknowledged"
                .to_string(),
        ),
        ..p
    }
}

/// A push run as JSON.
pub fn push_json(p: &crate::store::scim::PushRun) -> Value {
    json!({"push": p.id, "at": p.finished_at.clone().unwrap_or_else(|| p.started_at.clone()),
           "status": p.status, "counts": p.counts, "message": p.message})
}

/// The push in one line, for the report (whose lines are at most 100 characters): `pushed
/// 2026-12-01T03:00:05Z: 3 created, 1 updated; 0 pending; 2 refused; not kept: title (3)`
/// (counts of users, those that are not zero; refusals when there are).
pub fn report_line(status: &Value) -> String {
    let last = &status["last"];
    let mut line = match last["status"].as_str() {
        None => "never pushed".to_string(),
        Some(s) => {
            let mut l = format!("{s} {}", last["at"].as_str().unwrap_or(""));
            let u = &last["counts"]["users"];
            if u.is_object() {
                let done: Vec<String> = [
                    ("create", "created"),
                    ("update", "updated"),
                    ("deactivate", "deactivated"),
                    ("delete", "deleted"),
                    ("taken_over", "taken over"),
                ]
                .iter()
                .filter_map(|(k, word)| {
                    u[*k]
                        .as_u64()
                        .filter(|n| *n > 0)
                        .map(|n| format!("{n} {word}"))
                })
                .collect();
                let done = if done.is_empty() {
                    "no user changed".to_string()
                } else {
                    done.join(", ")
                };
                l.push_str(&format!(": {done}"));
            }
            l
        }
    };
    if !status["pending"].is_null() {
        line.push_str(&format!("; {} pending", status["pending"]));
    }
    if let Some(n) = status["failures"].as_u64().filter(|n| *n > 0) {
        line.push_str(&format!("; {n} refused"));
    }
    if let Some(d) = dropped_text(status) {
        line.push_str(&format!("; not kept: {d}"));
    }
    line
}

/// The attributes the provider does not keep, from [`status`]: `title (1772), phoneNumbers
/// (1429)`; `None` when it keeps everything roster sends.
pub fn dropped_text(status: &Value) -> Option<String> {
    let d = status["dropped"].as_array().filter(|d| !d.is_empty())?;
    let list: Vec<String> = d
        .iter()
        .map(|d| {
            format!(
                "{} ({})",
                d["attribute"].as_str().unwrap_or(""),
                d["resources"]
            )
        })
        .collect();
    Some(list.join(", "))
}

/// What needs an operator about the push, for the report's attention lines.
pub fn report_notice(status: &Value) -> Option<String> {
    let last = &status["last"];
    let message = last["message"].as_str().unwrap_or("");
    let refused = status["failures"].as_u64().unwrap_or(0);
    match last["status"].as_str()? {
        "blocked" => Some(format!(
            "SCIM push blocked by import.max_removals; to proceed: {}",
            message
                .find("To proceed: ")
                .map_or("roster push --allow-removals N", |i| &message[i + 12..])
        )),
        "failed" => Some(format!("SCIM push failed: {message}")),
        "unconfirmed" => Some(format!("SCIM push not confirmed: {message}")),
        _ if refused > 0 => {
            let first = &status["refused"][0];
            Some(format!(
                "SCIM push: {refused} refused by the provider, tried again by the next push (first: {} {})",
                first["id"].as_str().unwrap_or(""),
                first["reason"].as_str().unwrap_or("")
            ))
        }
        _ => None,
    }
}

/// Whether the last push needs an operator: it failed, was blocked, had changes refused, or
/// had answers that confirmed nothing.
pub fn unhealthy(status: &Value) -> bool {
    matches!(
        status["last"]["status"].as_str(),
        Some("failed" | "blocked" | "partial" | "unconfirmed")
    ) || status["failures"].as_u64().unwrap_or(0) > 0
}

/// Push the store to the provider of `[scim]`.
pub fn push(store: &mut Store, config: &Config, opts: &Options) -> anyhow::Result<Outcome> {
    let scim = config.scim.as_ref().ok_or_else(|| {
        crate::error::config("there is no [scim] section: set scim.url (SPEC §8) to push")
    })?;
    let token = scim.token()?;
    let started = Instant::now();
    let (users, groups) = store.scim_directory()?;
    let dropped_before = store.scim_dropped()?;
    let mut pusher = Pusher {
        users: store.scim_pushed(Kind::User)?,
        groups: store.scim_pushed(Kind::Group)?,
        store,
        scim,
        client: None,
        features: Features::default(),
        dry_run: opts.dry_run,
        full: opts.full,
        refused: Vec::new(),
        replanned: BTreeSet::new(),
        parked: HashSet::new(),
        lost: Vec::new(),
        conflicts: Vec::new(),
        made: Vec::new(),
        resent: [HashMap::new(), HashMap::new()],
        taken: [HashSet::new(), HashSet::new()],
        created: [HashSet::new(), HashSet::new()],
        sent_by_value: false,
        done: [Counts::default(), Counts::default()],
        unconfirmed: Vec::new(),
        duplicates: Vec::new(),
        found_duplicates: [Vec::new(), Vec::new()],
        bulk_requests: 0,
        bar: indicatif::ProgressBar::hidden(),
    };
    log::info!(
        "push: read {} users and {} groups from the store in {}",
        thousands(users.len() as u64),
        thousands(groups.len() as u64),
        secs(started)
    );
    let run = if opts.dry_run {
        None
    } else {
        Some(pusher.store.scim_start_push()?)
    };
    // A crash mid-push is a failed push like any other (what the provider acknowledged is kept).
    let result =
        crate::stage::catching_panics(|| pusher.run(config, opts, &token, &users, &groups));
    let requests = pusher.client.as_ref().map_or(0, |c| c.requests);
    pusher.bar.finish_and_clear();
    let scrub = |text: String| client::scrub_text(&text, &token);
    match result {
        Ok((mut outcome, changes)) => {
            outcome.push = run;
            outcome.requests = requests;
            outcome.changes = changes;
            outcome.seconds = started.elapsed().as_secs_f64();
            pusher.fill(&mut outcome, &dropped_before)?;
            outcome.message = outcome.message.map(scrub);
            if let Some(run) = run {
                pusher.store.scim_finish_push(
                    run,
                    outcome.status,
                    &counts_json(&outcome),
                    outcome.message.as_deref(),
                )?;
            }
            log::info!(
                "push: {}: {} requests ({} bulk) in {}",
                outcome.status,
                thousands(outcome.requests),
                thousands(outcome.bulk_requests),
                secs(started)
            );
            Ok(outcome)
        }
        Err(e) => Err(pusher.failed(run, requests, started, e, &token)?),
    }
}

impl Pusher<'_> {
    /// A push that stopped: recorded as failed (with the token scrubbed from its message).
    fn failed(
        &mut self,
        run: Option<i64>,
        requests: u64,
        started: Instant,
        e: anyhow::Error,
        token: &str,
    ) -> anyhow::Result<anyhow::Error> {
        log::info!(
            "push: failed: {} requests in {}",
            thousands(requests),
            secs(started)
        );
        if let Some(run) = run {
            let counts = json!({"requests": requests});
            let message = client::scrub_text(&format!("{e:#}"), token);
            self.store
                .scim_finish_push(run, "failed", &counts, Some(&message))?;
        }
        Ok(e.context(
            "the push stopped; what the provider acknowledged is kept, and the next push goes on from there",
        ))
    }

    /// What the push gathered, into its outcome, and the outcome's final status.
    fn fill(
        &mut self,
        outcome: &mut Outcome,
        dropped_before: &[(String, u64)],
    ) -> anyhow::Result<()> {
        outcome.bulk_requests = self.bulk_requests;
        outcome.refused = std::mem::take(&mut self.refused);
        outcome.unconfirmed = std::mem::take(&mut self.unconfirmed);
        outcome.duplicates = std::mem::take(&mut self.duplicates);
        outcome.dropped = newly_dropped(dropped_before, &self.store.scim_dropped()?);
        finish_status(outcome);
        Ok(())
    }
}

/// The attributes counted as not kept now that were not before this push.
fn newly_dropped(before: &[(String, u64)], after: &[(String, u64)]) -> Vec<Dropped> {
    after
        .iter()
        .filter(|(a, _)| !before.iter().any(|(b, n)| b == a && *n > 0))
        .map(|(a, n)| Dropped {
            attribute: a.clone(),
            resources: *n,
        })
        .collect()
}

/// A pushed outcome with refusals is `partial`; with answers that confirmed nothing,
/// `unconfirmed` (both exit 1, naming the first).
fn finish_status(outcome: &mut Outcome) {
    if outcome.status != "pushed" {
        return;
    }
    if !outcome.unconfirmed.is_empty() {
        outcome.status = "unconfirmed";
        outcome.message = Some(format!(
            "the provider did not confirm {} change(s), left pending for the next push (which looks them up first): {}",
            outcome.unconfirmed.len(),
            outcome.unconfirmed[0]
        ));
    } else if !outcome.refused.is_empty() {
        outcome.status = "partial";
        outcome.message = Some(format!(
            "the provider refused {} change(s) (first: {} {}: {}); they are recorded and tried again by the next push",
            outcome.refused.len(),
            outcome.refused[0].kind,
            outcome.refused[0].id,
            outcome.refused[0].reason
        ));
    }
}

/// The counts a push run records.
pub fn counts_json(o: &Outcome) -> Value {
    json!({"users": o.users, "groups": o.groups, "refused": o.refused.len(),
           "unconfirmed": o.unconfirmed.len(), "duplicates": o.duplicates.len(),
           "requests": o.requests, "bulk_requests": o.bulk_requests})
}

impl Pusher<'_> {
    fn client(&mut self) -> anyhow::Result<&mut Client> {
        self.client
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("no connection to the provider"))
    }

    fn connect(&mut self, token: &str) -> anyhow::Result<()> {
        if self.client.is_some() {
            return Ok(());
        }
        let started = Instant::now();
        // Kept before the first request, so that the tries of a provider that is down count.
        self.client = Some(Client::new(self.scim, token)?);
        let reply = self
            .client()?
            .send(Method::GET, "/ServiceProviderConfig", None, None)?;
        self.features = match reply.ok() {
            true => Features::read(&reply.parse::<Spc>().unwrap_or_default()),
            false => Features::default(),
        };
        log::info!(
            "push: connected to {}: {} in {}",
            self.scim.base(),
            self.features.describe(),
            secs(started)
        );
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn run(
        &mut self,
        config: &Config,
        opts: &Options,
        token: &str,
        users: &[ScimUser],
        groups: &[ScimGroup],
    ) -> anyhow::Result<(Outcome, Vec<Change>)> {
        if !opts.dry_run || opts.full {
            self.connect(token)?;
        }
        if opts.full {
            self.full(users, groups)?;
        }
        if !opts.dry_run {
            self.resume(Kind::User)?;
            self.resume(Kind::Group)?;
            self.settle_left(users, groups)?;
        }

        // Users first: the groups' members are the users' provider ids.
        let t = Instant::now();
        let requests_before = self.requests();
        let mut user_counts = Counts::default();
        let tasks = self.planner().plan_users(users, None, &mut user_counts);
        self.not_unchanged(Kind::User, &tasks, &mut user_counts);
        let mut changes: Vec<Change> = tasks.iter().map(Task::change).collect();
        if let Some(message) = self.blocked(config, opts, &tasks) {
            return Ok((self.blocked_outcome(opts, &user_counts, message), changes));
        }
        if opts.dry_run {
            let mut group_counts = Counts::default();
            if self.scim.groups {
                let gtasks = self
                    .planner()
                    .plan_groups(groups, None, &mut group_counts, &tasks);
                changes.extend(gtasks.iter().map(Task::change));
            }
            return Ok((
                self.outcome("dry-run", user_counts, group_counts, None),
                changes,
            ));
        }
        self.remove_duplicates(Kind::User)?;
        self.remove_duplicates(Kind::Group)?;
        // Accounts the provider already holds under the externalId of a user to create are
        // taken over, not made twice; the plan is then made again.
        let (tasks, user_counts) = match self.take_over_before_create(Kind::User, &tasks)? {
            true => self.plan(Kind::User, users, groups),
            false => (tasks, user_counts),
        };
        let mut stage = Stage {
            opts,
            users,
            groups,
            changes: Vec::new(),
        };
        let since = (t, requests_before);
        let user_counts = self.stage(Kind::User, tasks, user_counts, &mut stage, since)?;
        let mut group_counts = Counts::default();
        if self.scim.groups {
            let since = (Instant::now(), self.requests());
            let (mut gtasks, mut counts) = self.plan(Kind::Group, users, groups);
            // As for users: a group the provider holds under the externalId of one to create.
            if self.take_over_before_create(Kind::Group, &gtasks)? {
                (gtasks, counts) = self.plan(Kind::Group, users, groups);
            }
            group_counts = self.stage(Kind::Group, gtasks, counts, &mut stage, since)?;
        }
        Ok((
            self.outcome("pushed", user_counts, group_counts, None),
            stage.changes,
        ))
    }

    /// The outcome of a push the removal safeguard holds. Nothing is sent: it counts what was
    /// done (a resume's take-overs); what it would do is its message and changes. A dry run
    /// counts what it would do.
    fn blocked_outcome(&self, opts: &Options, planned: &Counts, message: String) -> Outcome {
        let users = match opts.dry_run {
            true => planned.clone(),
            false => self.confirmed(Kind::User, planned),
        };
        self.outcome("blocked", users, Counts::default(), Some(message))
    }

    /// The plan of one kind, with the resources taken over before it not counted unchanged.
    fn plan(&self, kind: Kind, users: &[ScimUser], groups: &[ScimGroup]) -> (Vec<Task>, Counts) {
        let mut counts = Counts::default();
        let planner = self.planner();
        let tasks = match kind {
            Kind::User => planner.plan_users(users, None, &mut counts),
            Kind::Group => planner.plan_groups(groups, None, &mut counts, &[]),
        };
        self.not_unchanged(kind, &tasks, &mut counts);
        (tasks, counts)
    }

    /// Send the plan of one kind; its confirmed counts.
    fn stage(
        &mut self,
        kind: Kind,
        tasks: Vec<Task>,
        counts: Counts,
        stage: &mut Stage,
        (started, requests_before): (Instant, u64),
    ) -> anyhow::Result<Counts> {
        let planned: Vec<Change> = tasks.iter().map(Task::change).collect();
        self.bar.finish_and_clear();
        let label = format!("push {}s", kind_name(kind));
        self.bar = crate::render::progress::bar(tasks.len() as u64, &label, stage.opts.quiet);
        self.settle_in_step(kind, &tasks)?;
        self.rounds(kind, tasks, stage.users, stage.groups)?;
        // Only what was sent: not what the provider refused, nor what it left unconfirmed
        // (still marked as being sent).
        let refused: HashSet<&str> = self
            .refused
            .iter()
            .filter(|r| r.kind == kind_name(kind))
            .map(|r| r.id.as_str())
            .collect();
        let state = self.state_ref(kind);
        let (taken, created) = (&self.taken[index(kind)], &self.created[index(kind)]);
        let listed: HashSet<String> = planned.iter().map(|c| c.id.clone()).collect();
        stage.changes.extend(
            planned
                .into_iter()
                .filter(|c| {
                    !refused.contains(c.id.as_str())
                        && state.get(&c.id).is_none_or(|p| p.sending.is_none())
                })
                // An account taken over is listed as that, as it is counted (SPEC §8); an
                // update that found the account gone made it again.
                .map(|c| match (taken.contains(&c.id), created.contains(&c.id)) {
                    (true, _) => Change {
                        action: "take over",
                        ..c
                    },
                    (false, true) => Change {
                        action: "create",
                        ..c
                    },
                    _ => c,
                }),
        );
        stage
            .changes
            .extend(taken_unchanged(kind, taken, &listed, stage));
        let counts = self.confirmed(kind, &counts);
        self.log_stage(kind, &counts, started, requests_before);
        Ok(counts)
    }

    /// `--full`: read the provider's users and groups, take what it holds of ours as the
    /// truth, and find the duplicates of one `externalId` (removed unless the push is blocked).
    fn full(&mut self, users: &[ScimUser], groups: &[ScimGroup]) -> anyhow::Result<()> {
        let t = Instant::now();
        let n = self.reconcile(Kind::User, users.iter().map(|u| u.unique_id.as_str()))?;
        let m = if self.scim.groups {
            self.reconcile(Kind::Group, groups.iter().map(|g| g.group_id.as_str()))?
        } else {
            0
        };
        log::info!(
            "push: --full: read {} users and {} groups on the provider in {}",
            thousands(n as u64),
            thousands(m as u64),
            secs(t)
        );
        Ok(())
    }

    /// The message of a push blocked by `import.max_removals`, if it is.
    fn blocked(&self, config: &Config, opts: &Options, tasks: &[Task]) -> Option<String> {
        let removals = tasks
            .iter()
            .filter(|t| {
                matches!(
                    t.op,
                    Op::Delete { .. }
                        | Op::SetActive { active: false, .. }
                        | Op::Release {
                            deactivate: true,
                            ..
                        }
                )
            })
            .count() as u64;
        let pushed = self
            .users
            .values()
            .filter(|p| p.scim_id.is_some() && p.active == Some(true))
            .count() as u64;
        let limit = config.import.max_removals;
        let allowed = limit.allowed(pushed).max(opts.allow_removals.unwrap_or(0));
        if removals <= allowed {
            return None;
        }
        let verb = match self.scim.removed {
            ScimRemoved::Deactivate => "deactivate",
            ScimRemoved::Delete => "delete",
        };
        Some(format!(
            "the push would {verb} {} of the {} users pushed to the provider, more than import.max_removals ({limit} = {}); nothing was sent. \
             To proceed: {} push --allow-removals {removals}",
            thousands(removals),
            thousands(pushed),
            thousands(allowed),
            crate::core::command::roster()
        ))
    }

    /// Send the tasks of one kind; then, up to three times, what must be planned again: a
    /// create whose answer was lost (after it was looked up), a take-over, a stale ETag.
    fn rounds(
        &mut self,
        kind: Kind,
        tasks: Vec<Task>,
        users: &[ScimUser],
        groups: &[ScimGroup],
    ) -> anyhow::Result<()> {
        let mut retry = self.execute(tasks)?;
        retry.extend(self.recover_lost(kind)?);
        for _ in 0..3 {
            if retry.is_empty() {
                break;
            }
            let mut again = Counts::default();
            let planner = self.planner();
            let tasks = match kind {
                Kind::User => planner.plan_users(users, Some(&retry), &mut again),
                Kind::Group => planner.plan_groups(groups, Some(&retry), &mut again, &[]),
            };
            retry = self.execute(tasks)?;
            retry.extend(self.recover_lost(kind)?);
        }
        // Answers still lost after the last round: pending, looked up by the next push.
        for key in retry {
            if self
                .state_ref(kind)
                .get(&key)
                .is_some_and(|p| p.sending.is_some())
            {
                self.unconfirmed.push(format!(
                    "{} {key}: the provider's answers were lost; it is looked up before it is sent again",
                    kind_name(kind)
                ));
            }
        }
        Ok(())
    }

    /// The resources taken over before the plan (on resume) that need no change: counted as
    /// taken over, not also as unchanged.
    fn not_unchanged(&self, kind: Kind, tasks: &[Task], counts: &mut Counts) {
        let planned: HashSet<&str> = tasks.iter().map(|t| t.key.as_str()).collect();
        let untouched = self.taken[index(kind)]
            .iter()
            .filter(|k| !planned.contains(k.as_str()))
            .count() as u64;
        counts.unchanged = counts.unchanged.saturating_sub(untouched);
    }

    /// The confirmed counts of a kind, with the plan's `unchanged`.
    fn confirmed(&self, kind: Kind, planned: &Counts) -> Counts {
        Counts {
            unchanged: planned.unchanged,
            ..self.done[index(kind)].clone()
        }
    }

    fn requests(&self) -> u64 {
        self.client.as_ref().map_or(0, |c| c.requests)
    }

    /// The `-v` line of the users' or the groups' stage: counts, refusals, requests, time.
    fn log_stage(&self, kind: Kind, counts: &Counts, started: Instant, requests_before: u64) {
        let refused = self
            .refused
            .iter()
            .filter(|r| r.kind == kind_name(kind))
            .count();
        log::info!(
            "push: {}s: {}; {} refused; {} requests in {}",
            kind_name(kind),
            counts.line(kind == Kind::User),
            thousands(refused as u64),
            thousands(self.requests() - requests_before),
            secs(started)
        );
    }

    fn outcome(
        &self,
        status: &'static str,
        users: Counts,
        groups: Counts,
        message: Option<String>,
    ) -> Outcome {
        Outcome {
            status,
            push: None,
            users,
            groups,
            refused: Vec::new(),
            requests: 0,
            bulk_requests: 0,
            changes: Vec::new(),
            unconfirmed: Vec::new(),
            duplicates: Vec::new(),
            dropped: Vec::new(),
            message,
            seconds: 0.0,
        }
    }

    fn planner(&self) -> Planner<'_> {
        Planner {
            scim: self.scim,
            patch: self.features.patch,
            rename_by_put: self.features.rename_by_put,
            users: &self.users,
            groups: &self.groups,
            parked: &self.parked,
        }
    }

    fn state(&mut self, kind: Kind) -> &mut HashMap<String, Pushed> {
        match kind {
            Kind::User => &mut self.users,
            Kind::Group => &mut self.groups,
        }
    }

    fn state_ref(&self, kind: Kind) -> &HashMap<String, Pushed> {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        }
    }
}

/// The accounts taken over in this push that needed no change (so had no change planned),
/// as changes of their own: each is counted as taken over, so each is listed.
fn taken_unchanged(
    kind: Kind,
    taken: &HashSet<String>,
    listed: &HashSet<String>,
    stage: &Stage,
) -> Vec<Change> {
    let mut keys: Vec<&String> = taken.iter().filter(|k| !listed.contains(*k)).collect();
    keys.sort();
    keys.into_iter()
        .map(|key| {
            let name = match kind {
                Kind::User => stage
                    .users
                    .iter()
                    .find(|u| &u.unique_id == key)
                    .map(|u| u.mail.clone()),
                Kind::Group => stage
                    .groups
                    .iter()
                    .find(|g| &g.group_id == key)
                    .map(|g| g.name.clone()),
            };
            Change {
                kind: kind_name(kind),
                action: "take over",
                id: key.clone(),
                name: name.unwrap_or_default(),
            }
        })
        .collect()
}

/// Percent-encode for a URL path segment or query value.
fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encodes_all_but_unreserved() {
        assert_eq!(
            percent("externalId eq \"E1\""),
            "externalId%20eq%20%22E1%22"
        );
        assert_eq!(percent("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(percent("Å"), "%C3%85");
    }

    fn spc(v: Value) -> Spc {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn features_follow_the_service_provider_config() {
        let f = Features::read(&spc(json!({
            "bulk": {"supported": true, "maxOperations": 5000, "maxPayloadSize": 1048576},
            "etag": {"supported": true},
            "patch": {"supported": true},
            "filter": {"supported": true, "maxResults": 200}
        })));
        assert_eq!(
            (f.bulk_ops, f.bulk_bytes, f.etag, f.filter, f.patch, f.page),
            (1000, 1048576, true, true, true, 200)
        );
        let f = Features::read(&spc(
            json!({"bulk": {"supported": false, "maxOperations": 10}}),
        ));
        assert_eq!(
            (f.bulk_ops, f.etag, f.filter, f.patch, f.page),
            (0, false, false, false, 100)
        );
    }
}

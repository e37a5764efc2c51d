//! `roster push` (SPEC §8): bring a SCIM 2.0 service provider in step with the store. Only what
//! differs from what the provider last acknowledged is sent; each answer is committed before the
//! next request, so an interrupted push resumes without sending anything twice.

pub mod client;
pub mod resource;

use crate::config::{Config, ScimConfig, ScimRemoved};
use crate::error::Error;
use crate::render::log::secs;
use crate::render::thousands;
use crate::store::scim::{Kind, Pushed, ScimGroup, ScimUser};
use crate::store::{now, Store};
use client::{Client, Reply};
use serde::Serialize;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
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
}

/// One change sent (or, in a dry run, that would be).
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

/// What a push did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// `pushed`, `partial` (some changes refused), `dry-run` or `blocked`.
    pub status: &'static str,
    pub push: Option<i64>,
    pub users: Counts,
    pub groups: Counts,
    pub refused: Vec<Refused>,
    pub requests: u64,
    pub bulk_requests: u64,
    pub changes: Vec<Change>,
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
            "partial" => Some(anyhow::anyhow!(
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
    page: usize,
}

impl Features {
    /// What the provider offers, for the `-v` line: `bulk (1000 operations, 1048576 bytes),
    /// ETags, filter`.
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
        v.push(format!("pages of {}", self.page));
        v.join(", ")
    }

    fn read(spc: &Value) -> Features {
        let supported = |k: &str| {
            spc.get(k)
                .and_then(|v| v.get("supported"))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let number = |k: &str, n: &str| {
            spc.get(k)
                .and_then(|v| v.get(n))
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize
        };
        let bulk = supported("bulk");
        Features {
            bulk_ops: if bulk {
                number("bulk", "maxOperations").min(1000)
            } else {
                0
            },
            bulk_bytes: if bulk {
                number("bulk", "maxPayloadSize")
            } else {
                0
            },
            etag: supported("etag"),
            filter: supported("filter"),
            page: match number("filter", "maxResults") {
                0 => 100,
                n => n.min(1000),
            },
        }
    }
}

/// A resource's JSON, serialized once when it is planned: a few hundred bytes a user, where
/// the JSON tree (`Value`) would take kilobytes, so that a plan of every user stays small.
type Body = Box<str>;

fn body(v: &Value) -> Body {
    // `Value`'s Display is its JSON and cannot fail.
    v.to_string().into_boxed_str()
}

#[derive(Debug, Clone)]
enum Op {
    Create { body: Body, hash: i64 },
    Replace { id: String, body: Body, hash: i64 },
    SetActive { id: String, active: bool },
    Delete { id: String },
}

#[derive(Debug, Clone)]
struct Task {
    kind: Kind,
    key: String,
    name: String,
    op: Op,
}

impl Task {
    fn action(&self) -> &'static str {
        match &self.op {
            Op::Create { .. } => "create",
            Op::Replace { .. } => "update",
            Op::SetActive { active: false, .. } => "deactivate",
            Op::SetActive { active: true, .. } => "update",
            Op::Delete { .. } => "delete",
        }
    }

    fn change(&self) -> Change {
        Change {
            kind: kind_name(self.kind),
            action: self.action(),
            id: self.key.clone(),
            name: self.name.clone(),
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

/// A provider's answer to one change, from a single request or one operation of a bulk.
struct Answer {
    status: u16,
    id: Option<String>,
    etag: Option<String>,
    body: Value,
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
    refused: Vec<Refused>,
    /// The answers that made a change be planned again in this push (kind, key, status):
    /// each may do so once, so a provider that keeps answering 412 or 409 ends in a refusal.
    replanned: BTreeSet<(&'static str, String, u16)>,
    bulk_requests: u64,
    bar: indicatif::ProgressBar,
}

/// For `status`: the last push, the changes waiting for the next one (counted against what
/// the provider last acknowledged, without asking it), and the refusals. `None` without
/// `[scim]` and without any push.
pub fn status(store: &Store, config: &Config) -> anyhow::Result<Option<Value>> {
    let last = store.scim_last_push()?;
    let Some(scim) = config.scim.as_ref() else {
        return Ok(last.map(|l| json!({"last": push_json(&l), "pending": null, "failures": null})));
    };
    let (users, groups) = store.scim_directory()?;
    let refusals = store.scim_refusals()?;
    let (pushed_users, pushed_groups) = (
        store.scim_pushed(Kind::User)?,
        store.scim_pushed(Kind::Group)?,
    );
    let pusher = Planner {
        scim,
        users: &pushed_users,
        groups: &pushed_groups,
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
    })))
}

/// A push run as JSON.
pub fn push_json(p: &crate::store::scim::PushRun) -> Value {
    json!({"push": p.id, "at": p.finished_at.clone().unwrap_or_else(|| p.started_at.clone()),
           "status": p.status, "counts": p.counts, "message": p.message})
}

/// The push in one line, for the report: `pushed 2026-12-01T03:00:05Z: 3 created, 1 updated,
/// 0 deactivated, 0 deleted; 0 pending; 0 refused`.
pub fn report_line(status: &Value) -> String {
    let last = &status["last"];
    let mut line = match last["status"].as_str() {
        None => "never pushed".to_string(),
        Some(s) => {
            let mut l = format!("{s} {}", last["at"].as_str().unwrap_or(""));
            let u = &last["counts"]["users"];
            if u.is_object() {
                l.push_str(&format!(
                    ": {} created, {} updated, {} deactivated, {} deleted",
                    u["create"], u["update"], u["deactivate"], u["delete"]
                ));
            }
            l
        }
    };
    if !status["pending"].is_null() {
        line.push_str(&format!("; {} pending", status["pending"]));
    }
    if let Some(n) = status["failures"].as_u64() {
        line.push_str(&format!("; {n} refused"));
    }
    line
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
                .find("roster push --allow-removals")
                .map_or("roster push --allow-removals N", |i| &message[i..])
        )),
        "failed" => Some(format!("SCIM push failed: {message}")),
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

/// Whether the last push needs an operator: it failed, was blocked, or had changes refused.
pub fn unhealthy(status: &Value) -> bool {
    matches!(
        status["last"]["status"].as_str(),
        Some("failed" | "blocked" | "partial")
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
    let mut pusher = Pusher {
        users: store.scim_pushed(Kind::User)?,
        groups: store.scim_pushed(Kind::Group)?,
        store,
        scim,
        client: None,
        features: Features::default(),
        dry_run: opts.dry_run,
        refused: Vec::new(),
        replanned: BTreeSet::new(),
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
    match result {
        Ok((mut outcome, changes)) => {
            outcome.push = run;
            outcome.requests = requests;
            outcome.bulk_requests = pusher.bulk_requests;
            outcome.refused = std::mem::take(&mut pusher.refused);
            outcome.changes = changes;
            outcome.seconds = started.elapsed().as_secs_f64();
            if outcome.status == "pushed" && !outcome.refused.is_empty() {
                outcome.status = "partial";
                outcome.message = Some(format!(
                    "the provider refused {} change(s) (first: {} {}: {}); they are recorded and tried again by the next push",
                    outcome.refused.len(),
                    outcome.refused[0].kind,
                    outcome.refused[0].id,
                    outcome.refused[0].reason
                ));
            }
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
        Err(e) => {
            log::info!(
                "push: failed: {} requests in {}",
                thousands(requests),
                secs(started)
            );
            if let Some(run) = run {
                let counts = json!({"requests": requests});
                pusher
                    .store
                    .scim_finish_push(run, "failed", &counts, Some(&format!("{e:#}")))?;
            }
            Err(e.context(
                "the push stopped; what the provider acknowledged is kept, and the next push goes on from there",
            ))
        }
    }
}

/// The counts a push run records.
pub fn counts_json(o: &Outcome) -> Value {
    json!({"users": o.users, "groups": o.groups, "refused": o.refused.len(),
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
        self.features = if reply.ok() {
            Features::read(&reply.body)
        } else {
            Features::default()
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
        }
        if !opts.dry_run {
            self.resume(Kind::User)?;
            self.resume(Kind::Group)?;
        }

        // Users first: the groups' members are the users' provider ids.
        let t = Instant::now();
        let requests_before = self.requests();
        let mut user_counts = Counts::default();
        let tasks = self.planner().plan_users(users, None, &mut user_counts);
        let removals = tasks
            .iter()
            .filter(|t| {
                matches!(
                    t.op,
                    Op::Delete { .. } | Op::SetActive { active: false, .. }
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
        let mut changes: Vec<Change> = tasks.iter().map(Task::change).collect();
        if removals > allowed {
            let verb = match self.scim.removed {
                ScimRemoved::Deactivate => "deactivate",
                ScimRemoved::Delete => "delete",
            };
            let message = format!(
                "the push would {verb} {removals} of the {pushed} users pushed to the provider, more than import.max_removals ({limit} = {allowed}); nothing was sent. \
                 To proceed: roster push --allow-removals {removals}"
            );
            let group_counts = Counts::default();
            return Ok((
                self.outcome("blocked", user_counts, group_counts, Some(message)),
                changes,
            ));
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
        self.bar = crate::render::progress::bar(tasks.len() as u64, "push users", opts.quiet);
        let mut retry = self.execute(tasks)?;
        for _ in 0..2 {
            if retry.is_empty() {
                break;
            }
            let mut again = Counts::default();
            let tasks = self.planner().plan_users(users, Some(&retry), &mut again);
            retry = self.execute(tasks)?;
        }
        self.log_stage(Kind::User, &user_counts, t, requests_before);

        let t = Instant::now();
        let requests_before = self.requests();
        let mut group_counts = Counts::default();
        if self.scim.groups {
            let gtasks = self
                .planner()
                .plan_groups(groups, None, &mut group_counts, &[]);
            changes.extend(gtasks.iter().map(Task::change));
            self.bar.finish_and_clear();
            self.bar = crate::render::progress::bar(gtasks.len() as u64, "push groups", opts.quiet);
            let mut retry = self.execute(gtasks)?;
            for _ in 0..2 {
                if retry.is_empty() {
                    break;
                }
                let mut again = Counts::default();
                let gtasks = self
                    .planner()
                    .plan_groups(groups, Some(&retry), &mut again, &[]);
                retry = self.execute(gtasks)?;
            }
            self.log_stage(Kind::Group, &group_counts, t, requests_before);
        }
        Ok((
            self.outcome("pushed", user_counts, group_counts, None),
            changes,
        ))
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
            message,
            seconds: 0.0,
        }
    }

    fn planner(&self) -> Planner<'_> {
        Planner {
            scim: self.scim,
            users: &self.users,
            groups: &self.groups,
        }
    }

    fn state(&mut self, kind: Kind) -> &mut HashMap<String, Pushed> {
        match kind {
            Kind::User => &mut self.users,
            Kind::Group => &mut self.groups,
        }
    }

    /// `--full`: read every resource of `kind` on the provider and take what it holds of ours
    /// as the truth, so that the plan puts back whatever drifted. Returns how many were read.
    fn reconcile<'k>(
        &mut self,
        kind: Kind,
        keys: impl Iterator<Item = &'k str>,
    ) -> anyhow::Result<usize> {
        let ours: std::collections::HashSet<&str> = keys.collect();
        let spinner =
            crate::render::progress::stage(&format!("reading the provider's {}s", kind_name(kind)));
        let page = self.features.page.max(1);
        let mut start = 1usize;
        let mut seen: HashMap<String, Pushed> = HashMap::new();
        let mut read = 0usize;
        loop {
            let path = format!("{}?startIndex={start}&count={page}", endpoint(kind));
            let reply = self.client()?.send(Method::GET, &path, None, None)?;
            if !reply.ok() {
                anyhow::bail!(
                    "the provider refused to list {}: {}",
                    endpoint(kind),
                    reply.reason()
                );
            }
            let resources = reply
                .body
                .get("Resources")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for r in &resources {
                let Some(ext) = r.get("externalId").and_then(Value::as_str) else {
                    continue;
                };
                if !ours.contains(ext) && !self.state(kind).contains_key(ext) {
                    continue;
                }
                if seen.contains_key(ext) {
                    continue;
                }
                seen.insert(ext.to_string(), self.held(kind, r));
            }
            read += resources.len();
            spinner.set_message(format!(
                "reading the provider's {}s: {}",
                kind_name(kind),
                thousands(read as u64)
            ));
            let total = reply
                .body
                .get("totalResults")
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize;
            start += resources.len();
            if resources.is_empty() || start > total {
                break;
            }
        }
        spinner.finish_and_clear();
        let now = now();
        let mut changed: Vec<(String, Pushed)> = Vec::new();
        let state = self.state(kind);
        for (key, p) in state.iter_mut() {
            if p.scim_id.is_some() && !seen.contains_key(key) {
                p.scim_id = None;
                p.etag = None;
                p.hash = None;
                p.active = None;
                changed.push((key.clone(), p.clone()));
            }
        }
        for (key, mut held) in seen {
            let old = state.get(&key).cloned().unwrap_or_default();
            held.error = old.error.clone();
            held.failed_at = old.failed_at.clone();
            held.pushed_at = old.pushed_at.clone().or(Some(now.clone()));
            if old != held {
                state.insert(key.clone(), held.clone());
                changed.push((key, held));
            }
        }
        if !self.dry_run {
            self.store
                .scim_save(kind, changed.iter().map(|(k, p)| (k.as_str(), p)))?;
        }
        Ok(read)
    }

    /// What the provider holds, from one of its resources.
    fn held(&self, kind: Kind, r: &Value) -> Pushed {
        Pushed {
            scim_id: r.get("id").and_then(Value::as_str).map(str::to_string),
            etag: r
                .get("meta")
                .and_then(|m| m.get("version"))
                .and_then(Value::as_str)
                .map(str::to_string),
            hash: Some(match kind {
                Kind::User => resource::user_hash(r),
                Kind::Group => resource::group_hash(r),
            }),
            active: match kind {
                Kind::User => Some(resource::is_active(r)),
                Kind::Group => None,
            },
            ..Pushed::default()
        }
    }

    /// Find a resource of ours by its `externalId` (a create whose answer was lost, or a
    /// conflict): what the provider holds of it, or `None`.
    fn lookup(&mut self, kind: Kind, key: &str) -> anyhow::Result<Option<Pushed>> {
        if !self.features.filter {
            return Ok(None);
        }
        let filter = format!(
            "externalId eq \"{}\"",
            key.replace('\\', "\\\\").replace('"', "\\\"")
        );
        let path = format!("{}?filter={}", endpoint(kind), percent(&filter));
        let reply = self.client()?.send(Method::GET, &path, None, None)?;
        if !reply.ok() {
            return Ok(None);
        }
        Ok(reply
            .body
            .get("Resources")
            .and_then(Value::as_array)
            .and_then(|rs| {
                rs.iter()
                    .find(|r| r.get("externalId").and_then(Value::as_str) == Some(key))
            })
            .map(|r| self.held(kind, r)))
    }

    /// Changes sent by an interrupted push whose answers were not committed: read what the
    /// provider made of them before planning, so that none is sent twice. A create is looked
    /// up by its externalId; an update, deactivation or deletion is read by its id (gone: the
    /// provider holds nothing of it any more).
    fn resume(&mut self, kind: Kind) -> anyhow::Result<()> {
        let mut open: Vec<(String, Option<String>)> = self
            .state(kind)
            .iter()
            .filter(|(_, p)| p.sending.is_some())
            .map(|(k, p)| (k.clone(), p.scim_id.clone()))
            .collect();
        if open.is_empty() {
            return Ok(());
        }
        open.sort();
        let started = Instant::now();
        let spinner = crate::render::progress::stage(&format!(
            "reading the {} {}s an interrupted push sent",
            open.len(),
            kind_name(kind)
        ));
        for (key, id) in &open {
            let found = match id {
                None => Some(self.lookup(kind, key)?),
                Some(id) => {
                    let path = format!("{}/{}", endpoint(kind), percent(id));
                    let reply = self.client()?.send(Method::GET, &path, None, None)?;
                    match reply.status {
                        404 => Some(None),
                        _ if reply.ok() => {
                            let mut held = self.held(kind, &reply.body);
                            held.etag = reply.etag.or(held.etag);
                            Some(Some(held))
                        }
                        // Not readable now: planned and sent as usual.
                        _ => None,
                    }
                }
            };
            let state = self.state(kind);
            let p = state.entry(key.clone()).or_default();
            p.sending = None;
            match found {
                Some(Some(held)) => {
                    p.scim_id = held.scim_id;
                    p.etag = held.etag;
                    p.hash = held.hash;
                    p.active = held.active;
                    p.pushed_at = Some(now());
                }
                Some(None) if id.is_some() => {
                    p.scim_id = None;
                    p.etag = None;
                    p.hash = None;
                    p.active = None;
                    p.pushed_at = Some(now());
                }
                _ => {}
            }
            let p = p.clone();
            self.store.scim_save(kind, [(key.as_str(), &p)])?;
        }
        spinner.finish_and_clear();
        log::info!(
            "push: resume: read {} {}s an interrupted push sent in {}",
            thousands(open.len() as u64),
            kind_name(kind),
            secs(started)
        );
        Ok(())
    }

    /// Send the tasks, in bulk when the provider has it, committing each answer. Returns the
    /// keys to plan again (a create that met its own resource, a stale ETag, a vanished id).
    fn execute(&mut self, tasks: Vec<Task>) -> anyhow::Result<BTreeSet<String>> {
        let mut retry = BTreeSet::new();
        if tasks.is_empty() {
            return Ok(retry);
        }
        let bulk = self.features.bulk_ops > 1 && self.features.bulk_bytes > 0;
        if !bulk {
            for task in tasks {
                self.mark_sending(std::slice::from_ref(&task))?;
                let answer = self.single(&task)?;
                let mut done = Vec::new();
                self.settle(&task, answer, &mut retry, &mut done)?;
                self.commit(task.kind, &done)?;
                self.bar.inc(1);
            }
            return Ok(retry);
        }
        // Bulk requests within maxOperations and maxPayloadSize; a change too large for a bulk
        // goes alone.
        let overhead = 200;
        let mut chunk: Vec<Task> = Vec::new();
        let mut size = overhead;
        for task in tasks {
            let bytes = self.bulk_op(&task, 999_999).len() + 1;
            if bytes + overhead > self.features.bulk_bytes {
                if !chunk.is_empty() {
                    self.send_bulk(std::mem::take(&mut chunk), &mut retry)?;
                    size = overhead;
                }
                self.mark_sending(std::slice::from_ref(&task))?;
                let answer = self.single(&task)?;
                let mut done = Vec::new();
                self.settle(&task, answer, &mut retry, &mut done)?;
                self.commit(task.kind, &done)?;
                self.bar.inc(1);
                continue;
            }
            if chunk.len() >= self.features.bulk_ops || size + bytes > self.features.bulk_bytes {
                self.send_bulk(std::mem::take(&mut chunk), &mut retry)?;
                size = overhead;
            }
            size += bytes;
            chunk.push(task);
        }
        if !chunk.is_empty() {
            self.send_bulk(chunk, &mut retry)?;
        }
        Ok(retry)
    }

    /// Mark changes as sent before sending them (the outbox's rule): when the answer is lost
    /// (a crash, a hang-up), the next push reads what the provider made of them instead of
    /// sending them again: a create is looked up by its externalId, any other change is read
    /// by its id.
    fn mark_sending(&mut self, tasks: &[Task]) -> anyhow::Result<()> {
        let at = now();
        let mut marked: Vec<(Kind, String, Pushed)> = Vec::new();
        for t in tasks {
            let state = self.state(t.kind);
            let p = state.entry(t.key.clone()).or_default();
            p.sending = Some(at.clone());
            marked.push((t.kind, t.key.clone(), p.clone()));
        }
        for kind in [Kind::User, Kind::Group] {
            let rows: Vec<(&str, &Pushed)> = marked
                .iter()
                .filter(|(k, _, _)| *k == kind)
                .map(|(_, key, p)| (key.as_str(), p))
                .collect();
            if !rows.is_empty() {
                self.store.scim_save(kind, rows)?;
            }
        }
        Ok(())
    }

    fn commit(&mut self, kind: Kind, keys: &[String]) -> anyhow::Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let state = match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        };
        let rows: Vec<(&str, &Pushed)> = keys
            .iter()
            .filter_map(|k| state.get(k).map(|p| (k.as_str(), p)))
            .collect();
        self.store.scim_save(kind, rows)
    }

    fn if_match(&self, task: &Task) -> Option<String> {
        if !self.features.etag {
            return None;
        }
        let state = match task.kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        };
        state.get(&task.key).and_then(|p| p.etag.clone())
    }

    fn request<'t>(&self, task: &'t Task) -> (Method, String, Option<Cow<'t, str>>) {
        let base = endpoint(task.kind);
        match &task.op {
            Op::Create { body, .. } => (Method::POST, base.to_string(), Some(Cow::Borrowed(body))),
            Op::Replace { id, body, .. } => (
                Method::PUT,
                format!("{base}/{}", percent(id)),
                Some(Cow::Borrowed(body)),
            ),
            Op::SetActive { id, active } => (
                Method::PATCH,
                format!("{base}/{}", percent(id)),
                Some(Cow::Owned(resource::set_active(*active).to_string())),
            ),
            Op::Delete { id } => (Method::DELETE, format!("{base}/{}", percent(id)), None),
        }
    }

    fn single(&mut self, task: &Task) -> anyhow::Result<Answer> {
        let (method, path, body) = self.request(task);
        let tag = self.if_match(task);
        let bytes = body.map(|b| b.into_owned().into_bytes());
        let reply: Reply = self
            .client()?
            .send(method, &path, bytes.as_deref(), tag.as_deref())?;
        let id = reply
            .body
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string);
        let etag = reply.etag.clone().or_else(|| {
            reply
                .body
                .get("meta")
                .and_then(|m| m.get("version"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        Ok(Answer {
            status: reply.status,
            id,
            etag,
            body: reply.body,
        })
    }

    /// One operation of a bulk request, as JSON text: the planned body goes in as it is.
    fn bulk_op(&self, task: &Task, index: usize) -> String {
        let (method, path, body) = self.request(task);
        let mut op = format!(
            "{{\"method\":\"{}\",\"path\":{},\"bulkId\":\"b{index}\"",
            method.as_str(),
            Value::from(path)
        );
        if let Some(body) = body {
            op.push_str(",\"data\":");
            op.push_str(&body);
        }
        if let Some(tag) = self.if_match(task) {
            op.push_str(",\"version\":");
            op.push_str(&Value::from(tag).to_string());
        }
        op.push('}');
        op
    }

    fn send_bulk(&mut self, tasks: Vec<Task>, retry: &mut BTreeSet<String>) -> anyhow::Result<()> {
        // The bulkIds are the places in this request: b0, b1, …
        let mut body = Vec::with_capacity(self.features.bulk_bytes.min(16 << 20));
        body.extend_from_slice(
            format!(
                "{{\"schemas\":[\"{}\"],\"failOnErrors\":{},\"Operations\":[",
                resource::BULK_REQUEST_SCHEMA,
                tasks.len() + 1
            )
            .as_bytes(),
        );
        for (i, task) in tasks.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(self.bulk_op(task, i).as_bytes());
        }
        body.extend_from_slice(b"]}");
        self.mark_sending(&tasks)?;
        let reply = self
            .client()?
            .send(Method::POST, "/Bulk", Some(&body), None)?;
        self.bulk_requests += 1;
        if !reply.ok() {
            // The provider would not take the bulk as a whole: one request per change.
            for task in &tasks {
                let answer = self.single(task)?;
                let mut done = Vec::new();
                self.settle(task, answer, retry, &mut done)?;
                self.commit(task.kind, &done)?;
                self.bar.inc(1);
            }
            return Ok(());
        }
        let ops = reply
            .body
            .get("Operations")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut answers: Vec<Option<Answer>> = (0..tasks.len()).map(|_| None).collect();
        for (n, op) in ops.iter().enumerate() {
            let index = op
                .get("bulkId")
                .and_then(Value::as_str)
                .and_then(|b| b.strip_prefix('b'))
                .and_then(|i| i.parse::<usize>().ok())
                .unwrap_or(n);
            let Some(slot) = answers.get_mut(index) else {
                continue;
            };
            let status = match op.get("status") {
                Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
                Some(Value::Number(n)) => n.as_u64().unwrap_or(0) as u16,
                Some(Value::Object(o)) => o
                    .get("code")
                    .and_then(|c| {
                        c.as_u64()
                            .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
                    })
                    .unwrap_or(0) as u16,
                _ => 0,
            };
            let response = op.get("response").cloned().unwrap_or(Value::Null);
            let id = response
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| {
                    op.get("location")
                        .and_then(Value::as_str)
                        .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
                        .map(str::to_string)
                });
            let etag = op
                .get("version")
                .and_then(Value::as_str)
                .map(str::to_string);
            *slot = Some(Answer {
                status,
                id,
                etag,
                body: response,
            });
        }
        let mut done: Vec<String> = Vec::new();
        let kind = tasks[0].kind;
        for (task, answer) in tasks.iter().zip(answers) {
            // An operation not answered (the provider stopped early) is tried again next time.
            if let Some(a) = answer {
                self.settle(task, a, retry, &mut done)?;
            }
        }
        self.bar.inc(tasks.len() as u64);
        self.commit(kind, &done)
    }

    /// Record the provider's answer to one change in the in-memory state; `done` collects the
    /// keys to commit, `retry` those to plan again in this push.
    fn settle(
        &mut self,
        task: &Task,
        answer: Answer,
        retry: &mut BTreeSet<String>,
        done: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        let at = now();
        let status = answer.status;
        let key = task.key.clone();
        done.push(key.clone());
        if (200..300).contains(&status) {
            let state = self.state(task.kind);
            let p = state.entry(key).or_default();
            p.sending = None;
            p.error = None;
            p.failed_at = None;
            p.pushed_at = Some(at);
            if answer.etag.is_some() {
                p.etag = answer.etag;
            }
            match &task.op {
                Op::Create { hash, .. } => {
                    p.scim_id = answer.id;
                    p.hash = Some(*hash);
                    p.active = (task.kind == Kind::User).then_some(true);
                    if p.scim_id.is_none() {
                        // A create without an id cannot be followed: find it next time.
                        p.sending = Some(now());
                    }
                }
                Op::Replace { hash, .. } => {
                    p.hash = Some(*hash);
                    p.active = (task.kind == Kind::User).then_some(true);
                }
                Op::SetActive { active, .. } => p.active = Some(*active),
                Op::Delete { .. } => {
                    p.scim_id = None;
                    p.etag = None;
                    p.hash = None;
                    p.active = None;
                }
            }
            return Ok(());
        }
        let first_time = self
            .replanned
            .insert((kind_name(task.kind), key.clone(), status));
        match (status, &task.op) {
            // The resource is there already (a lost answer, or made by someone else): take it
            // over by its externalId and plan it again.
            (409, Op::Create { .. }) if first_time => {
                if let Some(held) = self.lookup(task.kind, &key)? {
                    let state = self.state(task.kind);
                    let p = state.entry(key.clone()).or_default();
                    p.scim_id = held.scim_id;
                    p.etag = held.etag;
                    p.hash = held.hash;
                    p.active = held.active;
                    p.sending = None;
                    retry.insert(key);
                    return Ok(());
                }
            }
            // Gone from the provider: a removal is done; an update creates it again.
            (404, _) => {
                let state = self.state(task.kind);
                let p = state.entry(key.clone()).or_default();
                p.scim_id = None;
                p.etag = None;
                p.hash = None;
                p.active = None;
                p.sending = None;
                if matches!(task.op, Op::Replace { .. }) && first_time {
                    retry.insert(key);
                } else {
                    p.error = None;
                    p.pushed_at = Some(at);
                }
                return Ok(());
            }
            // Changed on the provider since roster last saw it: read it again and plan again.
            (412, Op::Replace { id, .. } | Op::SetActive { id, .. } | Op::Delete { id })
                if first_time =>
            {
                let path = format!("{}/{}", endpoint(task.kind), percent(id));
                let reply = self.client()?.send(Method::GET, &path, None, None)?;
                if reply.ok() {
                    let held = self.held(task.kind, &reply.body);
                    let state = self.state(task.kind);
                    let p = state.entry(key.clone()).or_default();
                    p.etag = reply.etag.or(held.etag);
                    p.hash = held.hash;
                    p.active = held.active;
                    p.sending = None;
                    retry.insert(key);
                    return Ok(());
                }
            }
            _ => {}
        }
        let reason = client::reason(status, &answer.body);
        self.refused.push(Refused {
            kind: kind_name(task.kind),
            id: key.clone(),
            action: task.action(),
            reason: reason.clone(),
        });
        let state = self.state(task.kind);
        let p = state.entry(key).or_default();
        if (400..500).contains(&status) {
            p.sending = None;
        }
        p.error = Some(reason);
        p.failed_at = Some(at);
        Ok(())
    }
}

/// The plan of a push: the store against what the provider last acknowledged.
struct Planner<'a> {
    scim: &'a ScimConfig,
    users: &'a HashMap<String, Pushed>,
    groups: &'a HashMap<String, Pushed>,
}

impl Planner<'_> {
    /// The users to send: each imported user whose provider copy differs from it, and the
    /// removals per `scim.removed`. `only`: just these UniqueIDs (a second round).
    fn plan_users(
        &self,
        users: &[ScimUser],
        only: Option<&BTreeSet<String>>,
        counts: &mut Counts,
    ) -> Vec<Task> {
        let wanted = |key: &str| only.is_none_or(|o| o.contains(key));
        let mut tasks = Vec::new();
        let none = Pushed::default();
        let mut in_store = std::collections::HashSet::with_capacity(users.len());
        for u in users {
            in_store.insert(u.unique_id.as_str());
            if !wanted(&u.unique_id) {
                continue;
            }
            let p = self.users.get(&u.unique_id).unwrap_or(&none);
            if !u.active {
                tasks.extend(self.removal(&u.unique_id, &u.mail, p, counts));
                continue;
            }
            let doc = resource::user(u);
            let hash = resource::user_hash(&doc);
            let body = body(&doc);
            let op = match &p.scim_id {
                None => {
                    counts.create += 1;
                    Op::Create { body, hash }
                }
                Some(id) if p.hash != Some(hash) || p.active != Some(true) => {
                    counts.update += 1;
                    Op::Replace {
                        id: id.clone(),
                        body,
                        hash,
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
            tasks.extend(self.removal(key, "", p, counts));
        }
        tasks
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

    /// The groups to send: each group with an ID whose name or active members' provider ids
    /// differ from what the provider holds, and the groups gone from the store.
    fn plan_groups(
        &self,
        groups: &[ScimGroup],
        only: Option<&BTreeSet<String>>,
        counts: &mut Counts,
        pending_users: &[Task],
    ) -> Vec<Task> {
        let wanted = |key: &str| only.is_none_or(|o| o.contains(key));
        // In a dry run, the users about to be created have no provider id yet.
        let new: std::collections::HashSet<&str> = pending_users
            .iter()
            .filter(|t| matches!(t.op, Op::Create { .. }))
            .map(|t| t.key.as_str())
            .collect();
        let placeholders: HashMap<&str, String> =
            new.iter().map(|k| (*k, format!("bulkId:{k}"))).collect();
        let none = Pushed::default();
        let mut tasks = Vec::new();
        let mut in_store = std::collections::HashSet::with_capacity(groups.len());
        for g in groups {
            in_store.insert(g.group_id.as_str());
            if !wanted(&g.group_id) {
                continue;
            }
            let mut members: Vec<&str> = g
                .members
                .iter()
                .filter_map(|uid| {
                    if let Some(ph) = placeholders.get(uid.as_str()) {
                        return Some(ph.as_str());
                    }
                    self.users
                        .get(uid)
                        .filter(|p| p.active == Some(true))
                        .and_then(|p| p.scim_id.as_deref())
                })
                .collect();
            members.sort_unstable();
            let doc = resource::group(g, &members);
            let hash = resource::group_hash(&doc);
            let body = body(&doc);
            let p = self.groups.get(&g.group_id).unwrap_or(&none);
            let op = match &p.scim_id {
                None => {
                    counts.create += 1;
                    Op::Create { body, hash }
                }
                Some(id) if p.hash != Some(hash) => {
                    counts.update += 1;
                    Op::Replace {
                        id: id.clone(),
                        body,
                        hash,
                    }
                }
                Some(_) => {
                    counts.unchanged += 1;
                    continue;
                }
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

    #[test]
    fn features_follow_the_service_provider_config() {
        let f = Features::read(&json!({
            "bulk": {"supported": true, "maxOperations": 5000, "maxPayloadSize": 1048576},
            "etag": {"supported": true},
            "filter": {"supported": true, "maxResults": 200}
        }));
        assert_eq!(
            (f.bulk_ops, f.bulk_bytes, f.etag, f.filter, f.page),
            (1000, 1048576, true, true, 200)
        );
        let f = Features::read(&json!({"bulk": {"supported": false, "maxOperations": 10}}));
        assert_eq!(
            (f.bulk_ops, f.etag, f.filter, f.page),
            (0, false, false, 100)
        );
    }
}

//! The stages of an import as functions — fetch, read, plan, apply — shared by the stage
//! commands and by `sync`, so that there is one implementation of each.

use crate::cli::ApplyArgs;
use crate::config::Config;
use crate::core::file::ImportFile;
use crate::core::plan::{self, Plan, Settings};
use crate::core::problem::Problem;
use crate::error::Error;
use crate::input;
use crate::store::apply::ApplyRun;
use crate::store::batches::{sha256_hex, Batch, Stored};
use crate::store::directory::{Loaded, StoreDirectory};
use crate::store::runs::NewRun;
use crate::store::{now, Store};
use crate::transport::{local, sftp, Fetched};
use serde::Serialize;

pub use crate::stage;

pub mod report;
pub use report::{build_report, status_of, what_is_true_now};

/// A failure that is already recorded as a run: the caller does not record it again.
#[derive(Debug)]
pub struct Recorded {
    pub run: i64,
    pub message: String,
}

impl std::fmt::Display for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// After a command that records runs (`apply`, `revert`) crashed: record a `failed` run naming
/// the stage it stopped at (the panic's transaction is rolled back, so the store holds the state
/// before that stage), so that `status` is unhealthy and the report shows it (SPEC §3). The
/// error that comes back says the stage and, when recorded, is [`Recorded`].
pub fn record_crash(
    store: &Store,
    command: &str,
    batch: Option<i64>,
    started_at: &str,
    err: anyhow::Error,
) -> anyhow::Error {
    let stage = stage::current();
    let message = format!(
        "{command} failed at the {stage} stage: {err:#}. What that stage wrote was rolled back; \
         fix the cause (a crash is a bug to report), then run roster {command} again"
    );
    let said = format!("{command} failed at the {stage} stage");
    match store.record_run(&NewRun {
        batch,
        command,
        started_at,
        status: "failed",
        counts: None,
        message: Some(&message),
        detail: Some(&serde_json::json!({"stage": stage})),
        problems: &[],
        each_problem: None,
        rejected: None,
    }) {
        Ok(run) => err.context(Recorded { run, message: said }),
        Err(e) => err.context(format!(
            "{said}, and the failure could not be recorded in the store: {e:#}"
        )),
    }
}

/// When the records of a fetched file are counted (for the batch list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Now, on the other cores while SQLite stores the bytes (`fetch`).
    Now,
    /// By the apply that follows, which reads the file anyway (`sync`).
    ByApply,
}

/// Store a fetched file as a batch (or find that it is unchanged).
pub fn store_fetched(
    store: &Store,
    config: &Config,
    fetched: &Fetched,
    count: Count,
) -> anyhow::Result<Stored> {
    store_hashed(store, config, fetched, &sha256_hex(&fetched.bytes), count)
}

/// [`store_fetched`] with the file's SHA-256 already computed.
fn store_hashed(
    store: &Store,
    config: &Config,
    fetched: &Fetched,
    sha256: &str,
    count: Count,
) -> anyhow::Result<Stored> {
    let opts = config.read_options();
    let (counted, stored) = std::thread::scope(|s| {
        let counting =
            (count == Count::Now).then(|| s.spawn(|| input::count_records(&fetched.bytes, &opts)));
        let stored = store.store_batch(&fetched.bytes, sha256, &fetched.source, fetched.mtime);
        (counting.map(|c| c.join()), stored)
    });
    let stored = match (stored?, counted) {
        (Stored::New(batch), Some(counted)) => {
            let records = counted.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Stored::New(store.set_batch_records(batch, records)?)
        }
        (stored, _) => stored,
    };
    store.set_meta("last_fetch_at", &now())?;
    // The remote file's mtime at this fetch, for `status` (an unchanged file stores no batch).
    if let Some(mtime) = fetched.mtime {
        store.set_meta("last_fetch_mtime", &mtime.to_string())?;
    }
    store.prune(config.store.keep_batches, config.store.keep_history)?;
    Ok(stored)
}

/// Pick a batch: the given one, else the newest.
pub fn pick_batch(store: &Store, id: Option<i64>) -> anyhow::Result<Option<Batch>> {
    match id {
        Some(id) => match store.batch(id)? {
            Some(b) => Ok(Some(b)),
            None => Err(crate::error::usage(format!(
                "there is no batch {id}; see roster batches list"
            ))),
        },
        None => store.newest_batch(),
    }
}

/// The bytes of a stored batch.
pub fn batch_content(store: &Store, config: &Config, batch: &Batch) -> anyhow::Result<Vec<u8>> {
    store.batch_content(batch.id)?.ok_or_else(|| {
        anyhow::anyhow!(
            "the content of batch {} was pruned (store.keep_batches = {} days); fetch the file again",
            batch.id,
            config.store.keep_batches
        )
    })
}

/// How a read file's unknown Group IDs are told. A plan shows each once with the number of
/// records naming it (SPEC §2), so for a plan they are only counted; `validate` lists each
/// record's warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupWarnings {
    Counted,
    PerRecord,
}

/// Read a file and load the store's directory at the same time: the reading runs on the
/// other cores while SQLite scans the users. The file is checked against the store's groups.
pub fn read_against<'s>(
    store: &'s Store,
    config: &Config,
    bytes: &[u8],
    warnings: GroupWarnings,
) -> anyhow::Result<(ImportFile, StoreDirectory<'s>)> {
    read_keeping_against(store, config, bytes, warnings, None)
}

/// [`read_against`], keeping of the records' problems only the first `keep` errors and
/// warnings when `keep` is set ([`input::read_keeping`]).
fn read_keeping_against<'s>(
    store: &'s Store,
    config: &Config,
    bytes: &[u8],
    warnings: GroupWarnings,
    keep: Option<usize>,
) -> anyhow::Result<(ImportFile, StoreDirectory<'s>)> {
    stage::enter("validate");
    let opts = config.read_options();
    let started = std::time::Instant::now();
    let shown = crate::render::progress::stage(&format!(
        "reading {} and the directory",
        bytes_text(bytes.len())
    ));
    let (file, dir) = std::thread::scope(|s| {
        let reading = s.spawn(|| match keep {
            Some(keep) => input::read_keeping(bytes, &opts, keep),
            None => input::read(bytes, &opts),
        });
        let dir = StoreDirectory::load(store);
        (reading.join(), dir)
    });
    shown.finish_and_clear();
    let mut file = file.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let mut dir = dir?;
    check_groups(
        &mut file,
        &mut dir,
        config.import.unknown_groups == crate::config::UnknownGroups::Create,
        warnings,
    );
    log_read(&file, bytes.len(), started);
    Ok((file, dir))
}

/// A size for a person: `58.3 MB`.
fn bytes_text(n: usize) -> String {
    if n < 1_000_000 {
        format!("{} kB", n.div_ceil(1000))
    } else {
        format!("{:.1} MB", n as f64 / 1e6)
    }
}

/// The stage line of a reading: records, problems, and the time it took.
fn log_read(file: &ImportFile, bytes: usize, started: std::time::Instant) {
    log::info!(
        "read: {} records of {} bytes ({}, delimiter {}), {} errors, {} warnings, with the directory loaded beside it, in {}",
        crate::render::thousands(file.rows as u64),
        crate::render::thousands(bytes as u64),
        file.encoding,
        input::delimiter_name(file.delimiter),
        crate::render::thousands(file.errors() as u64),
        // Unknown Group IDs counted rather than warned of record by record count as theirs.
        crate::render::thousands(
            file.warnings() as u64 + file.unknown_groups.values().sum::<u64>()
        ),
        crate::render::log::secs(started)
    );
}

/// Tell the group IDs of a read file that the store's directory does not manage, counted or
/// warned of record by record as `warnings` says (a file with a file error is left as it is).
fn check_groups(
    file: &mut ImportFile,
    dir: &mut StoreDirectory<'_>,
    create: bool,
    warnings: GroupWarnings,
) {
    if file.file_error().is_some() {
        return;
    }
    match warnings {
        GroupWarnings::Counted => file.count_unknown_groups(plan::Directory::group_ids(dir)),
        GroupWarnings::PerRecord => file.check_groups(plan::Directory::group_ids(dir)),
    }
    if create {
        // `import.unknown_groups = "create"`: the apply creates them, the plan keeps their
        // memberships, and the warnings say so.
        for p in file
            .problems
            .iter_mut()
            .filter(|p| p.code == crate::core::problem::Code::UnknownGroup)
        {
            p.message = p.message.replace(
                "this membership is ignored",
                "the group is created with its ID as its name (import.unknown_groups)",
            );
        }
        dir.assume_groups(file.unknown_group_counts().into_keys());
    }
}

/// Read a stored batch beside the store's directory (see [`read_against`]).
pub fn read_batch<'s>(
    store: &'s Store,
    config: &Config,
    batch: &Batch,
    warnings: GroupWarnings,
) -> anyhow::Result<(ImportFile, StoreDirectory<'s>)> {
    read_against(
        store,
        config,
        &batch_content(store, config, batch)?,
        warnings,
    )
}

/// The plan settings from configuration and this run's flags.
pub fn settings(config: &Config, batch: i64, args: &ApplyArgs) -> Settings {
    Settings {
        batch,
        missing_users: config.import.missing_users,
        remove_after_missing: config.import.remove_after_missing,
        keep_phones: config.import.keep_manual_phones,
        max_removals: config.import.max_removals,
        max_updates: config.import.max_updates,
        max_invalid: config.import.max_invalid,
        allow_removals: args.allow.allow_removals,
        allow_updates: args.allow.allow_updates,
        allow_invalid: args.allow.allow_invalid,
        allow_creates: args.allow_creates,
        block_unknown_groups: config.import.unknown_groups == crate::config::UnknownGroups::Block,
        allow_unknown_groups: args.allow_unknown_groups,
        churn: plan::Churn {
            max: config.import.max_churn,
            floor: config.import.churn_floor,
            nights: Vec::new(),
        },
        send_invitations: config.import.send_invitations,
        reuse_mail_of_deactivated: config.import.reuse_mail_of_deactivated,
    }
}

/// [`settings`] with the applied imports the churn safeguard compares with, from the runs
/// table (SPEC §2).
pub fn settings_for(
    store: &Store,
    config: &Config,
    batch: i64,
    args: &ApplyArgs,
) -> anyhow::Result<Settings> {
    let mut settings = settings(config, batch, args);
    if settings.churn.max != crate::config::MaxChurn::Off {
        settings.churn.nights = store.churn_nights(plan::churn::NIGHTS)?;
    }
    Ok(settings)
}

/// The `-v` line of the churn safeguard: what it compared with, or why it did not apply.
fn log_churn(check: &plan::ChurnCheck) {
    match (&check.median, check.runs) {
        (Some(m), Some([from, to])) => log::info!(
            "churn: compared with the medians of the last {} applied imports (runs {from}–{to}): \
             creates {}, updates {}, removals {} (import.max_churn = {}, import.churn_floor = {})",
            check.imports,
            crate::core::policy::number(m.create),
            crate::core::policy::number(m.update),
            crate::core::policy::number(m.remove),
            check.max_churn,
            check.churn_floor
        ),
        _ if check.max_churn == "off" => {
            log::info!("churn: not checked (import.max_churn = off)")
        }
        _ => log::info!(
            "churn: not checked: {} applied import{} before this one, it needs {}",
            check.imports,
            if check.imports == 1 { "" } else { "s" },
            plan::churn::MIN_NIGHTS
        ),
    }
}

/// `mail.max_per_minute`, 0 (no limit) without a `[mail]` section.
pub fn mail_per_minute(config: &Config) -> u32 {
    config.mail.as_ref().map_or(0, |m| m.max_per_minute)
}

/// Plan a read file against the store's directory.
pub fn plan(
    dir: &StoreDirectory<'_>,
    file: &mut ImportFile,
    settings: &Settings,
) -> anyhow::Result<Plan> {
    stage::enter("plan");
    // One read transaction: the plan's reads see one state of the store, and SQLite takes
    // its locks once rather than for each user it reads.
    let started = std::time::Instant::now();
    let shown = crate::render::progress::stage(&format!(
        "planning {} records",
        crate::render::thousands(file.rows as u64)
    ));
    let snapshot = dir.store().conn.unchecked_transaction()?;
    let plan = plan::plan(file, dir, settings);
    shown.finish_and_clear();
    let plan = plan?;
    snapshot.finish()?;
    log_churn(&plan.churn);
    log::info!(
        "plan: batch {}: {}{} in {}",
        plan.batch,
        crate::render::plan::counts_line(&plan.counts),
        if plan.blocked() {
            " (a safeguard trips)"
        } else {
            ""
        },
        crate::render::log::secs(started)
    );
    Ok(plan)
}

/// How an apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Applied,
    DryRun,
    Blocked,
    Rejected,
    Failed,
    Unchanged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::DryRun => "dry-run",
            Status::Blocked => "blocked",
            Status::Rejected => "rejected",
            Status::Failed => "failed",
            Status::Unchanged => "unchanged",
        }
    }
}

/// The outcome of an apply, for rendering.
pub struct Outcome {
    pub run: Option<i64>,
    pub batch: Batch,
    pub status: Status,
    pub file: ImportFile,
    pub plan: Option<Plan>,
    /// For rejected and blocked runs: the one-line reason.
    pub reason: Option<String>,
    /// The file's bytes, when its reading kept only its first problems ([`KEEP_PROBLEMS`]):
    /// the rest are told again from them ([`Outcome::each_problem`]).
    pub source: Option<Vec<u8>>,
}

impl Outcome {
    /// Tell every problem of the file, in order, to `tell`: those kept, or, when only the
    /// first were kept, all of them read again from [`Outcome::source`].
    pub fn each_problem(
        &self,
        config: &Config,
        tell: &mut dyn FnMut(&Problem) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        match &self.source {
            Some(bytes) => {
                input::each_problem(bytes, &config.read_options(), &self.file, None, tell)
            }
            None => self.file.problems.iter().try_for_each(tell),
        }
    }

    /// The error that gives this outcome its exit code, if it is not a success.
    pub fn error(&self) -> Option<Error> {
        let reason = self.reason.clone().unwrap_or_default();
        match self.status {
            Status::Rejected => Some(Error::Rejected(reason)),
            Status::Blocked => Some(Error::Blocked(reason)),
            _ => None,
        }
    }
}

/// The `--allow-*` flags of a run, as JSON shows them (SPEC §6).
pub fn overrides(args: &ApplyArgs) -> serde_json::Value {
    serde_json::json!({
        "allow_removals": args.allow.allow_removals,
        "allow_updates": args.allow.allow_updates,
        "allow_invalid": args.allow.allow_invalid,
        "allow_creates": args.allow_creates,
        "allow_unknown_groups": args.allow_unknown_groups.then_some(true),
    })
}

/// Record the reason and the overrides of this run with every run the store writes.
pub fn note_operator(store: &mut Store, args: &ApplyArgs) {
    store.operator.reason = args.reason.clone();
    let any = args.allow.allow_removals.is_some()
        || args.allow.allow_updates.is_some()
        || args.allow.allow_invalid.is_some()
        || args.allow_creates.is_some()
        || args.allow_unknown_groups;
    store.operator.overrides = any.then(|| overrides(args));
}

/// The safeguards of a plan for the run's record: those that tripped, and those that an
/// `--allow-*` flag let through (`"overridden": true`).
pub fn tripped_detail(plan: &Plan) -> Vec<serde_json::Value> {
    let tripped = plan.tripped.iter().map(|t| (t, false));
    let overridden = plan.overridden.iter().map(|t| (t, true));
    tripped
        .chain(overridden)
        .map(|(t, overridden)| {
            let mut v = serde_json::to_value(t).unwrap_or_default();
            v["overridden"] = overridden.into();
            v
        })
        .collect()
}

/// The detail kept with a run, for reports: what tripped, who is removed, the updates per
/// field and the unknown groups. The rejected records are written from the plan's changes
/// ([`NewRun::rejected`]): as a JSON tree they cost a kilobyte each (SPEC §5).
fn detail(plan: Option<&Plan>, dry_run: bool) -> serde_json::Value {
    let Some(plan) = plan else {
        return serde_json::json!({});
    };
    let removals: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action == plan::Action::Remove)
        .map(|c| serde_json::json!({"unique_id": c.unique_id, "name": c.name()}))
        .collect();
    let mut fields: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for c in plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, plan::Action::Update | plan::Action::Reactivate))
    {
        for f in c.fields() {
            *fields.entry(f.field).or_default() += 1;
        }
    }
    let unknown_groups = &plan.unknown_groups;
    serde_json::json!({"tripped": tripped_detail(plan), "removals": removals, "dry_run": dry_run,
        "fields": fields, "unknown_groups": unknown_groups})
}

/// `--expect-plan DIGEST` against the plan computed now: the message when it is another plan.
fn stale_plan(batch: i64, plan: &Plan, file: &ImportFile, expected: &str) -> Option<String> {
    let digest = plan.digest(file);
    (digest != expected).then(|| {
        format!(
            "the plan of batch {batch} is not the one reviewed: its digest is now {digest}, not \
             {expected}; nothing was applied. Review it again: roster diff --batch {batch}"
        )
    })
}

/// The run a plan that a safeguard holds is recorded as.
struct Held<'a> {
    batch: &'a Batch,
    command: &'a str,
    started_at: &'a str,
    /// The batch is applied only with `--force` (a rollback), which the command names.
    force: bool,
}

/// Hold a plan that a safeguard blocks: record the run `blocked` (unless a dry run) with the
/// plan's digest and the one command that proceeds, and mark the batch; returns the run and
/// the message, which names what tripped and that command.
fn hold(
    store: &Store,
    held: &Held<'_>,
    plan: &Plan,
    file: &ImportFile,
    each_problem: crate::core::problem::EachProblem<'_>,
    dry_run: bool,
) -> anyhow::Result<(Option<i64>, String)> {
    let batch = held.batch.id;
    let what: Vec<String> = plan.tripped.iter().map(plan::Tripped::describe).collect();
    let digest = plan.digest(file);
    let proceed = proceed(batch, plan, &digest, held.force);
    let reason = format!(
        "batch {batch} was blocked by a safeguard: {}; to apply it anyway, run: {proceed}",
        what.join("; "),
    );
    if dry_run {
        return Ok((None, reason));
    }
    let mut detail = detail(Some(plan), false);
    detail["plan_digest"] = digest.into();
    detail["proceed"] = proceed.into();
    let run = store.record_run(&NewRun {
        batch: Some(batch),
        command: held.command,
        started_at: held.started_at,
        status: "blocked",
        counts: Some(&plan.counts),
        message: Some(&reason),
        detail: Some(&detail),
        problems: &file.problems,
        each_problem: Some(each_problem),
        rejected: Some(&plan.changes),
    })?;
    store.set_batch_status(batch, "blocked")?;
    Ok((Some(run), reason))
}

/// What a dry run says of a plan that a safeguard would hold as batch `next`.
pub fn would_hold(next: i64, plan: &Plan, file: &ImportFile) -> String {
    // A new batch: never a rollback.
    let what: Vec<String> = plan.tripped.iter().map(plan::Tripped::describe).collect();
    format!(
        "a real run would be blocked by a safeguard ({}) and hold the file as batch {next}; \
         to apply it then, run: {}",
        what.join("; "),
        proceed(next, plan, &plan.digest(file), false)
    )
}

/// The one command that applies a held plan: the batch by number (`sync` would fetch whatever
/// the server holds by then), each `--allow-*` flag it needs (those this run used too) once,
/// and `--expect-plan`, so that what is approved is exactly the plan that was reviewed; with
/// `--force` when the batch is one that only `--force` applies ([`needs_force`]).
pub fn proceed(batch: i64, plan: &Plan, digest: &str, force: bool) -> String {
    let mut command = format!("roster apply --batch {batch}");
    if force {
        command.push_str(" --force");
    }
    let mut seen: Vec<&str> = Vec::new();
    for t in plan.tripped.iter().chain(&plan.overridden) {
        if !seen.contains(&t.release.as_str()) {
            seen.push(&t.release);
            command.push(' ');
            command.push_str(&t.release);
        }
    }
    command.push_str(" --expect-plan ");
    command.push_str(digest);
    command
}

/// The file an apply works on.
pub enum Input<'a> {
    /// The batch's bytes in the store.
    Stored,
    /// The bytes at hand (just fetched).
    Bytes(&'a [u8]),
    /// The bytes at hand, already read beside the store's directory ([`fetch_store_and_read`]).
    Read(&'a [u8], Box<Prepared>),
}

/// A file read, and the store's directory loaded, before the apply (with no write to the
/// directory between).
pub struct Prepared {
    pub file: ImportFile,
    pub directory: Loaded,
}

/// The store's directory, loaded (and the time it took, at -vv).
fn load_directory(store: &Store) -> anyhow::Result<Loaded> {
    let loading = std::time::Instant::now();
    let loaded = Loaded::load(store);
    log::debug!(
        "sqlite: the directory loaded in {}",
        crate::render::log::secs(loading)
    );
    loaded
}

/// What `sync` has once the file is fetched: the bytes, the batch they are (a new one, the
/// newest, or a reverted one), and, when an apply follows, the file read with the store's
/// directory loaded beside it.
pub struct Fetch {
    pub fetched: Fetched,
    pub stored: Stored,
    pub read: Option<Box<Prepared>>,
}

/// `sync`'s fetch, store and read, each as soon as it can start: the file is fetched on a
/// thread of its own while this one loads the store's directory (the load costs nothing while
/// the bytes arrive); that thread then reads the file on the other cores while this one
/// hashes and stores it. A file equal to the newest batch, already applied, or to a reverted
/// batch is neither read nor stored again (the load is cut short, and the reading of a
/// reverted one is thrown away).
pub fn fetch_store_and_read(
    store: &Store,
    config: &Config,
    fetch: impl FnOnce() -> anyhow::Result<Fetched> + Send,
) -> anyhow::Result<Fetch> {
    // Only a file of the newest applied batch's size may be that batch: it is hashed before
    // it is read. Any other is read at once, and hashed on this thread while it is read.
    let newest = store.newest_batch()?.filter(|b| b.status == "applied");
    let same_size = |f: &Fetched| {
        newest
            .as_ref()
            .is_some_and(|b| b.size == f.bytes.len() as i64)
    };
    let same_as_newest = |sha256: &str| newest.as_ref().is_some_and(|b| b.sha256 == sha256);
    let interrupt = store.interrupt_handle();
    let opts = config.read_options();
    let slot: std::sync::OnceLock<(Fetched, Option<String>)> = std::sync::OnceLock::new();
    let (fetched_tx, fetched_rx) = std::sync::mpsc::channel::<()>();
    let started = std::time::Instant::now();
    let outcome = std::thread::scope(|s| -> anyhow::Result<(Stored, Option<Box<Prepared>>)> {
        let (slot, opts, same_size, same_as_newest) = (&slot, &opts, &same_size, &same_as_newest);
        // The sender goes with the thread: a fetch that fails drops it unsent.
        let fetching = s.spawn(move || -> anyhow::Result<Option<ImportFile>> {
            let fetched = match fetch() {
                Ok(f) => f,
                Err(e) => {
                    // The load is not needed (nothing when it has ended).
                    interrupt.interrupt();
                    return Err(e);
                }
            };
            let sha256 = same_size(&fetched).then(|| sha256_hex(&fetched.bytes));
            let same = sha256.as_deref().is_some_and(same_as_newest);
            let (fetched, _) = slot.get_or_init(|| (fetched, sha256));
            // The load is stopped before the store is told: an interrupt after it could land
            // on the store's next statement instead (a file that is there at once, like one a
            // waiting sync fetched, made that happen).
            if same {
                interrupt.interrupt();
            }
            fetched_tx.send(()).ok();
            if same {
                return Ok(None);
            }
            Ok(Some(input::read_keeping(
                &fetched.bytes,
                opts,
                KEEP_PROBLEMS,
            )))
        });
        let loaded = load_directory(store);
        let joined = |fetching: std::thread::ScopedJoinHandle<'_, _>| {
            fetching.join().unwrap_or_else(|panic| {
                stage::enter(if slot.get().is_some() {
                    "validate"
                } else {
                    "fetch"
                });
                std::panic::resume_unwind(panic)
            })
        };
        let Ok(()) = fetched_rx.recv() else {
            // The fetch failed.
            return match joined(fetching) {
                Err(e) => Err(e),
                Ok(_) => Err(anyhow::anyhow!("the fetch ended without a file")),
            };
        };
        stage::enter("store");
        let Some((fetched, sha256)) = slot.get() else {
            return Err(anyhow::anyhow!("the fetch said it ended without a file"));
        };
        let sha256 = match sha256 {
            Some(sha256) => sha256.clone(),
            None => sha256_hex(&fetched.bytes),
        };
        if let Some(batch) = store.reverted_batch(&sha256)? {
            joined(fetching)?;
            return Ok((Stored::Unchanged(batch), None));
        }
        let shown = crate::render::progress::stage(&format!(
            "reading {}, storing it, and loading the directory",
            bytes_text(fetched.bytes.len())
        ));
        let stored = store_hashed(store, config, fetched, &sha256, Count::ByApply);
        log::debug!(
            "store: the file stored in {}",
            crate::render::log::secs(started)
        );
        let file = joined(fetching);
        shown.finish_and_clear();
        let (stored, file) = (stored?, file?);
        // No file: it is the newest batch's, and nothing follows.
        let Some(file) = file else {
            return Ok((stored, None));
        };
        log_read(&file, fetched.bytes.len(), started);
        let directory = match loaded {
            Ok(loaded) => loaded,
            Err(_) => load_directory(store)?,
        };
        Ok((stored, Some(Box::new(Prepared { file, directory }))))
    });
    let (stored, read) = outcome?;
    let Some((fetched, _)) = slot.into_inner() else {
        return Err(anyhow::anyhow!("the fetch ended without a file"));
    };
    Ok(Fetch {
        fetched,
        stored,
        read,
    })
}

/// Of the records' problems, a plan's reading keeps this many errors and this many warnings
/// (what a person reads, and more); the rest are counted, and streamed to the store and to
/// the JSON document from the file's bytes (SPEC §5: bounded by the file).
pub const KEEP_PROBLEMS: usize = 1000;

/// Whether only `apply --force` applies this batch: it is older than the newest applied
/// batch (a rollback), or it was reverted.
pub fn needs_force(store: &Store, batch: &Batch) -> anyhow::Result<bool> {
    Ok(batch.status == "reverted"
        || store
            .newest_applied_batch()?
            .is_some_and(|applied| batch.id < applied.id))
}

/// Plan and apply a batch (SPEC §2): reject a file with a file error, hold a plan that trips a
/// safeguard, and otherwise apply it in one transaction. Records the run unless `dry_run`.
pub fn apply(
    store: &mut Store,
    config: &Config,
    batch: Batch,
    input: Input<'_>,
    args: &ApplyArgs,
    command: &str,
) -> anyhow::Result<Outcome> {
    let content = match input {
        Input::Stored => Some(batch_content(store, config, &batch)?),
        _ => None,
    };
    let input = match &content {
        Some(content) => Input::Bytes(content),
        None => input,
    };
    let mut outcome = apply_input(store, config, batch, input, args, command)?;
    if !outcome.file.dropped.is_empty() {
        outcome.source = content;
    }
    Ok(outcome)
}

/// [`apply`] of a file at hand.
fn apply_input(
    store: &mut Store,
    config: &Config,
    batch: Batch,
    input: Input<'_>,
    args: &ApplyArgs,
    command: &str,
) -> anyhow::Result<Outcome> {
    let started = now();
    note_operator(store, args);
    // A forced rollback to an older batch is not a night the churn safeguard learns from, nor
    // is a batch applied again (already applied, or brought back after a revert).
    let force = needs_force(store, &batch)?;
    let rollback = force || batch.status == "applied";
    if !args.force && batch.status == "reverted" {
        let by = store
            .batch_reverted_by(batch.id)?
            .map_or_else(|| "a later run".to_string(), |r| format!("run {r}"));
        return Err(crate::error::usage(format!(
            "batch {} was reverted by {by}; to apply it again, run: roster apply --batch {} --force",
            batch.id, batch.id
        )));
    }
    if !args.force {
        if let Some(applied) = store.newest_applied_batch()? {
            if batch.id < applied.id {
                return Err(crate::error::usage(format!(
                    "batch {} is older than batch {}, which was applied; to roll back to it, run: roster apply --batch {} --force",
                    batch.id, applied.id, batch.id
                )));
            }
        }
    }
    stage::enter("validate");
    let content;
    let (bytes, (mut file, dir)) = match input {
        Input::Stored => {
            content = batch_content(store, config, &batch)?;
            (
                &content[..],
                read_keeping_against(
                    store,
                    config,
                    &content,
                    GroupWarnings::Counted,
                    Some(KEEP_PROBLEMS),
                )?,
            )
        }
        Input::Bytes(bytes) => (
            bytes,
            read_keeping_against(
                store,
                config,
                bytes,
                GroupWarnings::Counted,
                Some(KEEP_PROBLEMS),
            )?,
        ),
        Input::Read(bytes, prepared) => {
            let Prepared {
                mut file,
                directory,
            } = *prepared;
            let mut dir = StoreDirectory::new(store, directory);
            check_groups(
                &mut file,
                &mut dir,
                config.import.unknown_groups == crate::config::UnknownGroups::Create,
                GroupWarnings::Counted,
            );
            (bytes, (file, dir))
        }
    };
    let batch = match (batch.records, args.dry_run) {
        // Stored by sync without a count: this reading counted it.
        (None, false) => {
            let records = match file.file_error() {
                None => Some(file.rows),
                Some(_) => input::count_records(bytes, &config.read_options()),
            };
            store.set_batch_records(batch, records)?
        }
        _ => batch,
    };
    if let Some(problem) = file.file_error() {
        let reason = format!("batch {} was rejected: {}", batch.id, problem);
        let mut run = None;
        if !args.dry_run {
            run = Some(store.record_run(&NewRun {
                batch: Some(batch.id),
                command,
                started_at: &started,
                status: "rejected",
                counts: None,
                message: Some(&reason),
                detail: None,
                problems: &file.problems,
                each_problem: None,
                rejected: None,
            })?);
            store.set_batch_status(batch.id, "rejected")?;
        }
        return Ok(Outcome {
            run,
            batch,
            status: Status::Rejected,
            file,
            plan: None,
            reason: Some(reason),
            source: None,
        });
    }
    let settings = settings_for(store, config, batch.id, args)?;
    let mut plan = plan(&dir, &mut file, &settings)?;
    plan.invitations_per_minute = mail_per_minute(config);
    drop(dir);
    // Every problem, those the reading did not keep told again from the bytes.
    let opts = config.read_options();
    let file_ref = &file;
    let each_problem = |tell: &mut dyn FnMut(&Problem) -> std::io::Result<()>| {
        input::each_problem(bytes, &opts, file_ref, None, tell)
    };
    let stale = args
        .expect_plan
        .as_deref()
        .and_then(|expected| stale_plan(batch.id, &plan, &file, expected));
    if let Some(reason) = stale {
        // Nothing is written and no run recorded: the operator reviews the plan again.
        return Ok(Outcome {
            run: None,
            batch,
            status: Status::Blocked,
            file,
            plan: Some(plan),
            reason: Some(reason),
            source: None,
        });
    }
    if plan.blocked() {
        let held = Held {
            batch: &batch,
            command,
            started_at: &started,
            force,
        };
        let (run, reason) = hold(store, &held, &plan, &file, &each_problem, args.dry_run)?;
        return Ok(Outcome {
            run,
            batch,
            status: Status::Blocked,
            file,
            plan: Some(plan),
            reason: Some(reason),
            source: None,
        });
    }
    if args.dry_run {
        return Ok(Outcome {
            run: None,
            batch,
            status: Status::DryRun,
            file,
            plan: Some(plan),
            reason: None,
            source: None,
        });
    }
    stage::enter("apply");
    let writing = std::time::Instant::now();
    let shown = crate::render::progress::rows(0, "writing the directory");
    let bar = shown.clone();
    store.on_progress(move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    let mut detail = detail(Some(&plan), false);
    // A night the churn safeguard learns from: not a rollback, not a first import (SPEC §2).
    detail["churn_history"] = (!rollback && !plan.empty_directory).into();
    let applied = store.apply(
        &plan,
        &file,
        &ApplyRun {
            command,
            started_at: &started,
            missing_users: config.import.missing_users,
            problems: &file.problems,
            each_problem: Some(&each_problem),
            detail: &detail,
            invite: config.import.send_invitations,
        },
    );
    shown.finish_and_clear();
    if let Ok(run) = &applied {
        log::info!(
            "write: run {run}, batch {}: {} changes committed in {}",
            batch.id,
            crate::render::thousands(
                plan.counts.create
                    + plan.counts.adopt
                    + plan.counts.update
                    + plan.counts.reactivate
                    + plan.counts.remove
                    + plan.counts.missing
            ),
            crate::render::log::secs(writing)
        );
    }
    if applied.is_ok() {
        store.set_batch_settings(batch.id, &config.plan_fingerprint())?;
    }
    match applied {
        Ok(run) => Ok(Outcome {
            run: Some(run),
            batch,
            status: Status::Applied,
            file,
            plan: Some(plan),
            reason: None,
            source: None,
        }),
        Err(err) => {
            let message = format!(
                "failed at the apply stage: the apply of batch {} failed and nothing was changed: {err:#}",
                batch.id
            );
            let run = store.record_run(&NewRun {
                batch: Some(batch.id),
                command,
                started_at: &started,
                status: "failed",
                counts: Some(&plan.counts),
                message: Some(&message),
                detail: Some(&serde_json::json!({"stage": "apply"})),
                problems: &[],
                each_problem: None,
                rejected: None,
            });
            let said = format!(
                "the apply of batch {} failed at the apply stage; nothing was changed",
                batch.id
            );
            match run {
                Ok(run) => Err(err.context(Recorded { run, message: said })),
                Err(_) => Err(err.context(said)),
            }
        }
    }
}

/// Push to the provider of `[scim]`, and note which runs a push that went through carried,
/// so that `status` knows since when changes wait (SPEC §5 "Honest health").
pub fn push(
    store: &mut Store,
    config: &Config,
    options: &crate::scim::Options,
) -> anyhow::Result<crate::scim::Outcome> {
    let through = store.newest_run_id()?;
    let outcome = crate::scim::push(store, config, options)?;
    if matches!(outcome.status, "pushed" | "partial") {
        store.note_pushed_through(through)?;
    }
    Ok(outcome)
}

/// After a committed `apply` or `revert` (SPEC §2): push to the provider of `[scim]` as `sync`
/// does, with the run's `--allow-removals` for the push's safeguard. `None` without `[scim]`.
/// A push that did not complete is an error that says the directory is committed.
pub fn push_after_commit(
    store: &mut Store,
    config: &Config,
    allow_removals: Option<u64>,
    quiet: bool,
) -> Option<anyhow::Result<crate::scim::Outcome>> {
    config.scim.as_ref()?;
    stage::enter("push");
    let options = crate::scim::Options {
        dry_run: false,
        full: false,
        allow_removals,
        quiet,
    };
    let said = "the directory is committed, but the push to the SCIM provider";
    Some(match push(store, config, &options) {
        Ok(o) => match o.error() {
            Some(e) => Err(e.context(format!("{said} did not complete"))),
            None => Ok(o),
        },
        Err(e) => Err(e.context(format!("{said} failed"))),
    })
}

/// Read a secret from a file (one line; the trailing newline is not part of it).
fn read_secret(path: &std::path::Path, what: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::error::config(format!("cannot read {what} {}: {e}", path.display())))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

/// The SFTP options that `[source]` describes.
pub fn sftp_options(config: &Config, trust: Option<&str>) -> anyhow::Result<sftp::Options> {
    let s = &config.source;
    let password = match (&s.password_file, &s.password_env) {
        (Some(file), _) => Some(read_secret(file, "source.password_file")?),
        (None, Some(env)) => Some(env.clone()),
        (None, None) => None,
    };
    let passphrase = s
        .passphrase_file
        .as_deref()
        .map(|p| read_secret(p, "source.passphrase_file"))
        .transpose()?;
    let temp_dir = config
        .store_path()
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(
            || std::path::PathBuf::from("."),
            std::path::Path::to_path_buf,
        );
    std::fs::create_dir_all(&temp_dir).ok();
    Ok(sftp::Options {
        known_hosts: s
            .known_hosts
            .clone()
            .unwrap_or_else(|| std::path::PathBuf::from(".ssh/known_hosts")),
        password,
        identity_file: s.identity_file.clone(),
        passphrase,
        timeout: std::time::Duration::from_secs(s.timeout_secs.max(1)),
        retries: s.retries,
        settle: std::time::Duration::from_secs(s.settle_secs),
        max_bytes: config.csv.max_file_bytes,
        temp_dir,
        trust: trust.map(str::to_string),
        backoff: std::time::Duration::from_secs(1),
        wait: std::time::Duration::from_secs(s.wait_secs),
    })
}

/// The configured source, or a usage error.
pub fn source(config: &Config) -> anyhow::Result<String> {
    config
        .source
        .url
        .clone()
        .ok_or_else(|| crate::error::usage("no source: pass --source URL or set source.url"))
}

/// Read the source (SFTP, a local path or stdin) into memory.
pub fn read_source(
    config: &Config,
    source: &str,
    trust: Option<&str>,
    progress: &dyn Fn(u64, u64),
) -> anyhow::Result<Fetched> {
    let started = std::time::Instant::now();
    let logged = |f: Fetched| {
        log::info!(
            "fetch: {} bytes from {} in {}",
            crate::render::thousands(f.bytes.len() as u64),
            f.source,
            crate::render::log::secs(started)
        );
        f
    };
    if source.starts_with("sftp://") {
        let url = sftp::Url::parse(source).map_err(crate::error::usage)?;
        return sftp::fetch(&url, &sftp_options(config, trust)?, progress).map(logged);
    }
    match local::read(source, config.csv.max_file_bytes)? {
        local::Local::Read(f) => Ok(logged(f)),
        local::Local::TooLarge(size) => Err(Error::Rejected(format!(
            "{source} has {size} bytes; csv.max_file_bytes allows {}",
            config.csv.max_file_bytes
        ))
        .into()),
    }
}

/// `source.wait_for = "new"` (SPEC §3): look at the source until a file other than the
/// `applied` batch's is there, or `source.wait_secs` passes, then fetch it as a night would.
/// Between downloads the source is only looked at: a file of the applied batch's size and
/// mtime is that batch's file without a download; any other is downloaded and its SHA-256
/// compared. Gives the file fetched last: the new one, or when the wait ran out the one that
/// is there (the applied file again: an unchanged night); a missing file then fails.
pub fn wait_for_new(
    config: &Config,
    source: &str,
    applied: &Batch,
    progress: &dyn Fn(u64, u64),
) -> anyhow::Result<Fetched> {
    use std::time::{Duration, Instant};
    // This loop does the waiting: each fetch in it fails at once on a missing file.
    let mut once = config.clone();
    once.source.wait_secs = 0;
    let wait = Duration::from_secs(config.source.wait_secs);
    let poll = (wait / 20).clamp(Duration::from_millis(500), Duration::from_secs(30));
    let started = Instant::now();
    let mut said: Option<Instant> = None;
    // The size and mtime of the last file downloaded and found to be the applied one.
    let mut known = (applied.size, applied.remote_mtime);
    loop {
        let seen = if source.starts_with("sftp://") {
            let url = sftp::Url::parse(source).map_err(crate::error::usage)?;
            sftp::look(&url, &sftp_options(&once, None)?)?
        } else {
            local::look(source)?
        };
        if let Some(stat) = seen.filter(|s| (s.size as i64, Some(s.mtime)) != known) {
            let fetched = read_source(&once, source, None, progress)?;
            if sha256_hex(&fetched.bytes) != applied.sha256 {
                return Ok(fetched);
            }
            known = (stat.size as i64, Some(stat.mtime));
        }
        let waited = started.elapsed();
        if waited >= wait {
            return read_source(&once, source, None, progress).map_err(|e| {
                e.context(format!(
                    "gave up after waiting {}s for a new file (source.wait_secs = {})",
                    waited.as_secs(),
                    wait.as_secs()
                ))
            });
        }
        // Said at the first look, then once a minute.
        if said.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            log::warn!(
                "{} is {} (source.wait_for = \"new\"); waiting for a new file, {}s left",
                crate::render::grid::source_name(source),
                match seen {
                    Some(_) => format!("still the file of batch {}, already applied", applied.id),
                    None => "not there".to_string(),
                },
                (wait - waited).as_secs()
            );
            said = Some(Instant::now());
        }
        std::thread::sleep(poll.min(wait - waited));
    }
}

/// After an applied batch from SFTP, with `source.delete_after_import`: remove the remote file
/// if it is still the one fetched. Returns a line for the operator, if anything was done.
pub fn delete_after_import(config: &Config, batch: &Batch) -> anyhow::Result<Option<String>> {
    if !config.source.delete_after_import || !batch.source.starts_with("sftp://") {
        return Ok(None);
    }
    let url = sftp::Url::parse(&batch.source).map_err(crate::error::usage)?;
    let Some(mtime) = batch.remote_mtime else {
        return Ok(None);
    };
    let removed = sftp::delete_if_unchanged(
        &url,
        &sftp_options(config, None)?,
        batch.size as u64,
        mtime,
        &batch.sha256,
    )?;
    Ok(Some(if removed {
        format!("removed {} from the server", url.path)
    } else {
        format!(
            "left {} on the server: it changed after it was fetched",
            url.path
        )
    }))
}

/// The mailer that `[mail]` describes, or `None` when there is no `[mail]` section.
pub fn mailer(config: &Config) -> anyhow::Result<Option<crate::mail::Mailer>> {
    let Some(mail) = &config.mail else {
        return Ok(None);
    };
    // What a night will need from the mail configuration, checked before anything is written
    // (SPEC §3): the report's recipients are addresses, the invitation template can be read.
    crate::mail::check_recipients(&config.report.recipients)?;
    if let Some(p) = &config.invitations.template_file {
        std::fs::read_to_string(p).map_err(|e| {
            crate::error::config(format!("invitations.template_file {}: {e}", p.display()))
        })?;
    }
    let password = match (&mail.password_file, &mail.password_env) {
        (Some(file), _) => Some(read_secret(file, "mail.password_file")?),
        (None, Some(env)) => Some(env.clone()),
        (None, None) => None,
    };
    crate::mail::Mailer::new(mail, password).map(Some)
}

/// What sending the pending invitations did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Sent {
    pub sent: usize,
    pub failed: usize,
    pub pending: usize,
    /// Left in `sending`: the connection broke while the message was sent (it may have
    /// arrived); reported, never resent on its own.
    pub unknown: usize,
    /// SMTP connections opened.
    pub connections: usize,
    /// The first error, for the operator.
    pub error: Option<String>,
}

impl Sent {
    /// One line for the operator: `invitations: 19,998 sent, 2 failed`.
    pub fn summary(&self) -> String {
        let n = |n: usize| {
            let digits = n.to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(c);
            }
            out
        };
        let mut line = format!(
            "invitations: {} sent, {} failed",
            n(self.sent),
            n(self.failed)
        );
        if self.pending > 0 {
            line += &format!(", {} still pending", n(self.pending));
        }
        if self.unknown > 0 {
            line += &format!(
                ", {} left in sending (they may have arrived; see roster users invite --pending)",
                n(self.unknown)
            );
        }
        line
    }
}

/// Rows marked `sending` in one commit: a crash leaves at most this many in `sending`, and
/// 10,000 invitations are a few hundred commits rather than 20,000.
const SENDING_AT_ONCE: usize = 100;

/// Send pending invitations (all, or only `only`'s rows), each at most once, over one SMTP
/// connection (opened again when the server drops it): rows are `sending` before their SMTP
/// conversation and `sent` after it. A server that cannot be reached puts the rows back to
/// `pending` and stops the round; a refused recipient marks its row `failed`; a connection
/// that breaks during a message's text leaves that row in `sending` (it may have arrived).
/// `mail.max_per_minute` spaces the messages; `progress(done, total)` follows the round.
pub fn send_invitations(
    store: &Store,
    config: &Config,
    mailer: &crate::mail::Mailer,
    only: Option<&[i64]>,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<Sent> {
    use crate::mail::Delivery;
    let subject = config
        .invitations
        .subject
        .clone()
        .unwrap_or_else(|| crate::mail::DEFAULT_SUBJECT.to_string());
    let body = match &config.invitations.template_file {
        Some(p) => std::fs::read_to_string(p).map_err(|e| {
            crate::error::config(format!("invitations.template_file {}: {e}", p.display()))
        })?,
        None => crate::mail::DEFAULT_TEMPLATE.to_string(),
    };
    let only: Option<std::collections::HashSet<i64>> =
        only.map(|ids| ids.iter().copied().collect());
    let rows: Vec<_> = store
        .pending_invitations_to()?
        .into_iter()
        .filter(|(id, _)| only.as_ref().is_none_or(|ids| ids.contains(id)))
        .collect();
    let mut result = Sent::default();
    if rows.is_empty() {
        return Ok(result);
    }
    let per_minute = config.mail.as_ref().map_or(0, |m| m.max_per_minute);
    let spacing = (per_minute > 0).then(|| std::time::Duration::from_secs(60) / per_minute);
    let at_once = match per_minute {
        0 => SENDING_AT_ONCE,
        n => (n as usize / 60).clamp(1, SENDING_AT_ONCE),
    };
    let mut session = mailer.session();
    let started = std::time::Instant::now();
    let mut done = 0usize;
    progress(0, rows.len());
    'chunks: for chunk in rows.chunks(at_once) {
        // Build the messages first: a row that cannot become a message is failed at once.
        let mut marks: Vec<(i64, &str, Option<String>)> = Vec::with_capacity(chunk.len());
        let mut messages = Vec::with_capacity(chunk.len());
        for (id, user) in chunk {
            let Some((name, mail, title)) = user else {
                marks.push((*id, "failed", Some("the user no longer exists".into())));
                result.failed += 1;
                continue;
            };
            let who = crate::mail::Invitee {
                name,
                mail,
                title: title.as_deref().unwrap_or(""),
            };
            match crate::mail::invitation(&mailer.from, &who, &subject, &body) {
                Ok(m) => messages.push((*id, m)),
                Err(e) => {
                    marks.push((*id, "failed", Some(e.to_string())));
                    result.failed += 1;
                }
            }
        }
        let sending: Vec<(i64, &str, Option<&str>)> = messages
            .iter()
            .map(|(id, _)| (*id, "sending", None))
            .collect();
        store.outbox_mark_all(&sending)?;
        let mut stop = None;
        for (i, (id, message)) in messages.iter().enumerate() {
            if let Some(spacing) = spacing {
                let due = started + spacing * (result.sent + result.failed) as u32;
                std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
            }
            match session.send(message) {
                Delivery::Sent => {
                    marks.push((*id, "sent", None));
                    result.sent += 1;
                }
                Delivery::NotSent {
                    permanent: true,
                    error,
                } => {
                    result.failed += 1;
                    result.error.get_or_insert(error.clone());
                    marks.push((*id, "failed", Some(error)));
                }
                Delivery::NotSent {
                    permanent: false,
                    error,
                } => {
                    // The server is away: this row and the rest of the chunk wait for the next run.
                    for (rest, _) in &messages[i..] {
                        marks.push((*rest, "pending", Some(error.clone())));
                    }
                    stop = Some(error);
                    break;
                }
                Delivery::Unknown(error) => {
                    result.unknown += 1;
                    result.error.get_or_insert(error.clone());
                    marks.push((*id, "sending", Some(error)));
                }
            }
            done += 1;
            progress(done, rows.len());
        }
        let marks: Vec<(i64, &str, Option<&str>)> = marks
            .iter()
            .map(|(id, s, e)| (*id, *s, e.as_deref()))
            .collect();
        store.outbox_mark_all(&marks)?;
        if let Some(error) = stop {
            result.pending = rows.len() - result.sent - result.failed - result.unknown;
            result.error.get_or_insert(error);
            break 'chunks;
        }
    }
    result.connections = session.connections;
    log::info!(
        "invitations: {} sent, {} failed, {} still pending, {} left in sending, over {} connection(s), in {}",
        result.sent,
        result.failed,
        result.pending,
        result.unknown,
        result.connections,
        crate::render::log::secs(started)
    );
    Ok(result)
}

/// Mail a report to `[report] recipients`, and note when.
pub fn send_report(
    store: &Store,
    config: &Config,
    mailer: &crate::mail::Mailer,
    report: &crate::core::report::Report,
) -> anyhow::Result<()> {
    if config.report.recipients.is_empty() {
        return Err(crate::error::config(
            "report.recipients is empty: nobody to send the report to",
        ));
    }
    let message = crate::mail::report(
        &mailer.from,
        &config.report.recipients,
        &report.subject(),
        report.text(),
        report.html(),
        &report.attachments(config.report.csv_delimiter),
    )?;
    let started = std::time::Instant::now();
    mailer
        .send(&message)
        .map_err(|e| anyhow::anyhow!("the report was not sent: {e}"))?;
    log::info!(
        "report: mailed to {} recipient(s) in {}",
        config.report.recipients.len(),
        crate::render::log::secs(started)
    );
    store.set_meta("last_report_at", &now())?;
    store.set_meta(
        "last_report_day",
        &chrono::Local::now().format("%Y-%m-%d").to_string(),
    )?;
    Ok(())
}

/// Whether `sync` sends the report now: at once when something needs attention, else once a
/// day (machine local time) when `report.daily` is on.
pub fn report_due(store: &Store, config: &Config, attention: bool) -> anyhow::Result<bool> {
    if attention {
        return Ok(true);
    }
    if !config.report.daily {
        return Ok(false);
    }
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    Ok(store.meta("last_report_day")?.as_deref() != Some(today.as_str()))
}

/// Days since the newest batch arrived, when that is more than `source.stale_after_days`.
pub fn stale_days(store: &Store, config: &Config) -> anyhow::Result<Option<i64>> {
    let Some(newest) = store.newest_batch()? else {
        return Ok(None);
    };
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(&newest.fetched_at) else {
        return Ok(None);
    };
    let days = (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_days();
    Ok((days > i64::from(config.source.stale_after_days)).then_some(days))
}

/// Right after a committed apply: send the pending invitations when there is a `[mail]`
/// section. `None` when nothing was to be sent or there is no mail configured.
pub fn send_pending_invitations(
    store: &Store,
    config: &Config,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<Option<Sent>> {
    if store.pending_invitations()? == 0 {
        return Ok(None);
    }
    let Some(mailer) = mailer(config)? else {
        return Ok(None);
    };
    send_invitations(store, config, &mailer, None, progress).map(Some)
}

/// Store `text` as a fetched file and apply it with the default arguments (for unit tests of
/// what an import leaves in the store).
#[cfg(test)]
pub(crate) fn apply_text(
    store: &mut Store,
    config: &Config,
    text: &str,
) -> anyhow::Result<Outcome> {
    let fetched = Fetched {
        bytes: text.as_bytes().to_vec(),
        source: "test".into(),
        mtime: None,
    };
    let batch = match store_fetched(store, config, &fetched, Count::Now)? {
        Stored::New(b) | Stored::Unchanged(b) => b,
    };
    apply(
        store,
        config,
        batch,
        Input::Stored,
        &ApplyArgs::default(),
        "apply",
    )
}

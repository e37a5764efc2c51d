//! `roster revert RUN`: undo one run from its audit rows (SPEC §2), planned, shown and
//! safeguarded like an import, in one transaction, recorded as a run of its own.

use super::Context;
use crate::cli::{ApplyArgs, Format, RevertArgs};
use crate::core::plan::{Action, Counts, Plan};
use crate::core::revert::{self, RevertPlan};
use crate::error::{self, Error};
use crate::pipeline;
use crate::render;
use crate::store::runs::NewRun;
use crate::store::{now, Lock, Store};
use serde::Serialize;
use serde_json::json;
use std::collections::HashSet;
use std::io::Write as _;

pub fn run(ctx: &Context, args: &RevertArgs) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json])?;
    // A push without its token would fail only after the commit: say so before anything.
    if let (Some(scim), false) = (&ctx.config.scim, args.no_push || args.dry_run) {
        scim.token()?;
    }
    let _lock = Lock::acquire(ctx.config.store_path())?;
    let mut store = Store::open(ctx.config.store_path())?;
    let apply_args = ApplyArgs {
        dry_run: args.dry_run,
        allow: args.allow.clone(),
        reason: args.reason.clone(),
        ..ApplyArgs::default()
    };
    pipeline::note_operator(&mut store, &apply_args);
    let started = now();
    let batch = std::cell::Cell::new(None);
    // A crash at any stage is an error (exit 1) and a `failed` run naming the stage (SPEC §3).
    let result = crate::stage::catching_panics(|| {
        crate::stage::enter("plan");
        reverting(ctx, args, format, &mut store, &apply_args, &started, &batch)
    });
    match result {
        Err(e) if crate::stage::is_panic(&e) => Err(pipeline::record_crash(
            &store,
            "revert",
            batch.get(),
            &started,
            e,
        )),
        other => other,
    }
}

/// Plan the revert of one run, safeguard it, write it and show it.
fn reverting(
    ctx: &Context,
    args: &RevertArgs,
    format: Format,
    store: &mut Store,
    apply_args: &ApplyArgs,
    started: &str,
    batch: &std::cell::Cell<Option<i64>>,
) -> anyhow::Result<()> {
    let of = revertable(store, args.run)?;
    batch.set(of.batch);
    let plan = plan_revert(ctx, store, &of)?;
    let guard = safeguard(ctx, store, apply_args, &plan)?;
    let detail = run_detail(&of, &plan, &guard, args.dry_run);
    let outcome = if guard.blocked() {
        blocked(store, args, &of, &plan, &guard, &detail, started)?
    } else if args.dry_run {
        Outcome {
            status: "dry-run",
            run: None,
            reason: None,
            proceed: None,
        }
    } else {
        crate::stage::enter("apply");
        let writing = render::progress::stage("writing the directory");
        let id = store.revert(&plan, &of, started, &detail)?;
        writing.finish_and_clear();
        Outcome {
            status: "applied",
            run: Some(id),
            reason: None,
            proceed: None,
        }
    };
    show(ctx, format, store, apply_args, &of, &plan, &outcome)?;
    if outcome.status == "applied" && !args.no_push {
        // Undoing a night reaches the apps at once (SPEC §2).
        super::push_after_commit(ctx, format, store, args.allow.allow_removals)?;
    }
    match outcome.reason {
        Some(r) => Err(Error::Blocked(r).into()),
        None => Ok(()),
    }
}

/// What became of a revert: its status, the run it was recorded as, and why it was blocked
/// (or, a dry run, why it would be).
struct Outcome {
    status: &'static str,
    run: Option<i64>,
    reason: Option<String>,
    /// A revert a safeguard holds, or would hold (a dry run): what tripped, and the one
    /// command that reverts it anyway.
    proceed: Option<(String, String)>,
}

impl Outcome {
    /// A dry run that a safeguard would block: nothing was recorded, and the real revert
    /// would be held (it exits as the real one would, SPEC §3).
    fn would_block(&self) -> bool {
        self.status == "dry-run" && self.proceed.is_some()
    }
}

/// The run to revert: one that was applied and not reverted yet.
fn revertable(store: &Store, run: i64) -> anyhow::Result<crate::core::report::Run> {
    let of = store.run(run)?.ok_or_else(|| {
        error::usage(format!(
            "there is no run {run}; see {} report --since 7d",
            crate::core::command::roster()
        ))
    })?;
    if of.status != "applied" {
        return Err(error::usage(format!(
            "run {} was {}: it changed nothing, so there is nothing to revert",
            of.id, of.status
        )));
    }
    if let Some(by) = store.reverted_by(of.id)? {
        return Err(error::usage(format!(
            "run {} was already reverted by run {by}; to undo that, run: {} revert {by}",
            of.id,
            crate::core::command::roster()
        )));
    }
    Ok(of)
}

/// The revert of a run, planned from its audit rows and what the directory holds now.
fn plan_revert(
    ctx: &Context,
    store: &Store,
    of: &crate::core::report::Run,
) -> anyhow::Result<RevertPlan> {
    let reading = render::progress::stage(&format!("reading the changes of run {}", of.id));
    let rows = store.run_audit(of.id)?;
    let pks: HashSet<i64> = rows.iter().map(|r| r.user_pk).collect();
    let current = store.current_users(&pks)?;
    // Groups the run removed come back first (the users' memberships need them), the ones it
    // created go last, when nothing uses them.
    let group_rows = store.run_group_audit(of.id)?;
    let groups_now = store.groups_now()?;
    let mut back = RevertPlan::default();
    let mut groups = store.managed_group_ids()?;
    groups.extend(revert::plan_groups_back(
        &group_rows,
        &groups_now,
        &mut back,
    ));
    let mut plan = revert::plan(
        &rows,
        &current,
        ctx.config.import.missing_users,
        &groups,
        &|key| store.mail_key_holder(key).ok().flatten(),
    );
    plan.groups.splice(0..0, back.groups);
    plan.conflicts.splice(0..0, back.conflicts);
    let created: HashSet<i64> = rows
        .iter()
        .filter(|r| r.field == "created")
        .map(|r| r.user_pk)
        .collect();
    revert::plan_groups_gone(&group_rows, &groups_now, &created, &current, &mut plan);
    reading.finish_and_clear();
    Ok(plan)
}

/// The safeguards of an import, over the revert's counts.
fn safeguard(
    ctx: &Context,
    store: &Store,
    apply_args: &ApplyArgs,
    plan: &RevertPlan,
) -> anyhow::Result<Plan> {
    let mut guard = Plan {
        counts: plan.counts,
        active_imported: store.active_imported()?,
        ..Plan::default()
    };
    crate::core::plan::check_safeguards(
        &mut guard,
        0,
        &pipeline::settings(&ctx.config, 0, apply_args),
    );
    Ok(guard)
}

/// The detail the revert's run keeps: what tripped, whom it removes, the conflicts.
fn run_detail(
    of: &crate::core::report::Run,
    plan: &RevertPlan,
    guard: &Plan,
    dry_run: bool,
) -> serde_json::Value {
    json!({
        "tripped": pipeline::tripped_detail(guard),
        "removals": plan.changes.iter().filter(|c| c.action == Action::Remove)
            .map(|c| json!({"unique_id": c.unique_id, "name": c.fields.iter().find(|f| f.field == "name").and_then(|f| f.old.clone())}))
            .collect::<Vec<_>>(),
        "conflicts": plan.conflicts,
        "reverts": of.id,
        "dry_run": dry_run,
    })
}

/// A revert a safeguard blocked: why, and the command that reverts it anyway; recorded as a
/// `blocked` run unless it is a dry run, which records nothing and so says the revert *would
/// be* blocked (as `apply --dry-run` does).
fn blocked(
    store: &Store,
    args: &RevertArgs,
    of: &crate::core::report::Run,
    plan: &RevertPlan,
    guard: &Plan,
    detail: &serde_json::Value,
    started: &str,
) -> anyhow::Result<Outcome> {
    let release: Vec<&str> = guard
        .tripped
        .iter()
        .chain(&guard.overridden)
        .map(|t| t.release.as_str())
        .collect();
    let what = pipeline::tripped(guard);
    let command = format!(
        "{} revert {} {}",
        crate::core::command::roster(),
        of.id,
        release.join(" ")
    );
    let was = if args.dry_run { "would be" } else { "was" };
    let reason = format!(
        "the revert of run {} {was} blocked by a safeguard: {what}; to revert it anyway, run: {command}",
        of.id,
    );
    let proceed = Some((what, command));
    if args.dry_run {
        return Ok(Outcome {
            status: "dry-run",
            run: None,
            reason: Some(reason),
            proceed,
        });
    }
    let run = store.record_run(&NewRun {
        batch: of.batch,
        command: "revert",
        started_at: started,
        status: "blocked",
        counts: Some(&plan.counts),
        message: Some(&reason),
        detail: Some(detail),
        unknown_groups: None,
        problems: &[],
        each_problem: None,
        rejected: None,
    })?;
    Ok(Outcome {
        status: "blocked",
        run: Some(run),
        reason: Some(reason),
        proceed,
    })
}

/// The revert as JSON, or as its head line, its groups, its users (when blocked, a dry run
/// or `-v`) and its conflicts.
fn show(
    ctx: &Context,
    format: Format,
    store: &Store,
    args: &ApplyArgs,
    of: &crate::core::report::Run,
    plan: &RevertPlan,
    outcome: &Outcome,
) -> anyhow::Result<()> {
    let reason = outcome.reason.as_deref();
    if format == Format::Json {
        // Serialized from borrowed parts as it is written: a revert of a first import lists a
        // million changes, and a tree of values built first would copy every one.
        let shown = Shown {
            run: outcome.run,
            reverts: of.id,
            batch: of.batch,
            status: outcome.status,
            would_block: would_block(outcome),
            counts: &plan.counts,
            plan: ShownPlan {
                reverts: of.id,
                counts: &plan.counts,
                changes: ShownChanges(&plan.changes),
                groups: plan.groups.iter().map(revert::GroupChange::json).collect(),
            },
            conflicts: &plan.conflicts,
            by: &store.operator.by,
            reason: args.reason.as_deref(),
            overrides: pipeline::overrides(args),
            problems: [],
            message: reason,
        };
        return Ok(render::json(&shown)?);
    }
    if ctx.quiet && reason.is_none() {
        return Ok(());
    }
    let head = match outcome.run {
        Some(r) => format!("run {r}: revert of run {} ({}): ", of.id, of.command),
        None => format!("revert of run {} ({}): ", of.id, of.command),
    };
    // A dry run records nothing: a revert a safeguard would hold was not "blocked".
    let status = if outcome.would_block() {
        "dry-run, would be blocked"
    } else {
        outcome.status
    };
    let head = format!(
        "{head}{status} — {}",
        render::plan::counts_line(&plan.counts)
    );
    render::emit(&render::grid::wrap(&head, render::grid::WIDTH).join("\n"))?;
    for g in &plan.groups {
        render::emit(&group_line(g))?;
    }
    if (ctx.verbose > 0 || outcome.status != "applied") && !plan.changes.is_empty() {
        show_users(store, of, plan, (outcome.status, outcome.run))?;
    }
    if !plan.conflicts.is_empty() {
        show_conflicts(of, &plan.conflicts, (outcome.status, outcome.run))?;
    }
    Ok(())
}

/// A dry run's `would_block`, as apply's: what a safeguard would block and the command that
/// would then revert it anyway, or null; nothing for a real revert.
fn would_block(o: &Outcome) -> Option<Option<render::plan::WouldBlock<'_>>> {
    (o.status == "dry-run").then(|| {
        o.proceed
            .as_ref()
            .map(|(tripped, command)| render::plan::WouldBlock {
                tripped: tripped.clone(),
                command,
            })
    })
}

/// What the revert does to one group, as a sentence.
fn group_line(g: &revert::GroupChange) -> String {
    match g {
        revert::GroupChange::Recreate { group_id, name, .. } => match group_id {
            Some(id) => format!("group {id} ({name}) comes back"),
            None => format!("group {name} comes back"),
        },
        revert::GroupChange::Rename { from, to, .. } => {
            format!("group {from} is renamed back to {to}")
        }
        revert::GroupChange::Remove { group_id, name, .. } => match group_id {
            Some(id) => format!("group {id} ({name}) is removed"),
            None => format!("group {name} is removed"),
        },
    }
}

/// At most the plan's default limit of users, one row each, written row by row: the revert of
/// a first import has a million changes (SPEC §3.1).
fn show_users(
    store: &Store,
    of: &crate::core::report::Run,
    plan: &RevertPlan,
    status: (&str, Option<i64>),
) -> anyhow::Result<()> {
    let listed = &plan.changes[..plan.changes.len().min(render::plan::DEFAULT_LIMIT)];
    let rows: Vec<[String; 4]> = listed.iter().map(|c| user_row(store, c)).collect();
    let mut grid = render::grid::Grid::new(["Action", "UniqueID", "Name", "Changes"]);
    let mut out = render::stdout();
    grid.write_rows(&mut out, &rows)?;
    write_more(
        &mut out,
        of,
        status,
        List::Users,
        plan.changes.len() - listed.len(),
    )?;
    out.flush()?;
    Ok(())
}

/// Which list of a revert was cut.
#[derive(Clone, Copy, PartialEq, Eq)]
enum List {
    Users,
    Conflicts,
}

/// `… and N more (…)` after a list cut at the plan's default limit, naming what has every one.
fn write_more(
    out: &mut impl std::io::Write,
    of: &crate::core::report::Run,
    (status, run): (&str, Option<i64>),
    list: List,
    more: usize,
) -> std::io::Result<()> {
    if more == 0 {
        return Ok(());
    }
    let roster = crate::core::command::roster();
    let every = match (status, run) {
        // Applied: the revert's own revert lists the same users (and its report the conflicts
        // kept in the run's detail).
        ("applied", Some(run)) if list == List::Users => {
            format!("{roster} revert {run} --dry-run --format json lists every one")
        }
        ("applied", Some(run)) => {
            format!("{roster} report --run {run} --format json lists every one")
        }
        _ => format!("{roster} revert {} --dry-run --format json", of.id),
    };
    writeln!(
        out,
        "… and {} more ({every})",
        render::thousands(more as u64)
    )
}

/// The fields the revert leaves as they are: those changed since the run in a table of at
/// most the plan's default limit of rows (a revert of a night changed again since has a
/// conflict a user), then each address that is another user's now, naming that user.
fn show_conflicts(
    of: &crate::core::report::Run,
    conflicts: &[revert::Conflict],
    status: (&str, Option<i64>),
) -> anyhow::Result<()> {
    let (taken, changed): (Vec<_>, Vec<_>) = conflicts
        .iter()
        .partition(|c| c.reason == revert::Why::MailTaken);
    if !changed.is_empty() {
        render::emit(&format!(
            "{} field(s) changed since run {} and were left as they are:",
            render::thousands(changed.len() as u64),
            of.id
        ))?;
        let listed = &changed[..changed.len().min(render::plan::DEFAULT_LIMIT)];
        let rows: Vec<[String; 4]> = listed.iter().map(|c| conflict_row(c)).collect();
        let mut grid = render::grid::Grid::new(["UniqueID", "Field", "Now", "Run set"]);
        let mut out = render::stdout();
        grid.write_rows(&mut out, &rows)?;
        write_more(
            &mut out,
            of,
            status,
            List::Conflicts,
            changed.len() - listed.len(),
        )?;
        out.flush()?;
    }
    for c in taken {
        let line = render::message(&mail_taken_line(c)).into_owned();
        render::emit(&render::grid::wrap(&line, render::grid::WIDTH).join("\n"))?;
    }
    Ok(())
}

/// A field the revert leaves as it is, as a row: whose, which, its value now and the run's.
fn conflict_row(c: &revert::Conflict) -> [String; 4] {
    let whose = c
        .unique_id
        .clone()
        .or_else(|| c.mail.clone())
        .or_else(|| c.group.as_ref().map(|g| format!("group {g}")))
        .unwrap_or_default();
    [
        render::cell(&whose),
        render::cell(&c.field),
        render::opt(c.now.as_deref()),
        render::opt(c.run_new.as_deref()),
    ]
}

/// An address the revert does not give back, as a sentence: whose it is now, and what the
/// user it was for keeps (or that it is not brought back: a user the run deleted, whose
/// conflict has no value of the run's).
fn mail_taken_line(c: &revert::Conflict) -> String {
    let who = c
        .unique_id
        .as_deref()
        .or(c.mail.as_deref())
        .unwrap_or("a manual user");
    let holder = c.held_by.as_deref().unwrap_or("a manual user");
    let taken = c.taken.as_deref().unwrap_or_default();
    match &c.run_new {
        None => format!("{who} is not brought back: {taken} is now {holder}'s address"),
        Some(_) => format!(
            "{who}'s mail is left as {}: {taken} is now {holder}'s address",
            render::opt(c.now.as_deref())
        ),
    }
}

/// One user of a revert as a table row: action, UniqueID, name, and its fields `old → new`
/// (the bookkeeping of absent files left out).
fn user_row(store: &Store, c: &revert::UserRevert) -> [String; 4] {
    let name = match &c.target {
        revert::Target::Set(now, _) | revert::Target::Recreate(now, _) => now.state.name.clone(),
        revert::Target::Delete => store.user(c.pk).map(|u| u.name).unwrap_or_default(),
    };
    let what = render::plan::field_changes(c.fields.iter().filter(|f| f.field != "missing_count"));
    [
        c.action.as_str().to_string(),
        render::opt(c.unique_id.as_deref()),
        render::cell(&name),
        render::cell(&what),
    ]
}

/// `revert --format json`: the shape of `apply`'s (SPEC §6), with the conflicts.
#[derive(Serialize)]
struct Shown<'a> {
    run: Option<i64>,
    reverts: i64,
    batch: Option<i64>,
    status: &'a str,
    /// A dry run: what a safeguard would block (null: nothing), as apply's `would_block`.
    #[serde(skip_serializing_if = "Option::is_none")]
    would_block: Option<Option<render::plan::WouldBlock<'a>>>,
    counts: &'a Counts,
    plan: ShownPlan<'a>,
    conflicts: &'a [revert::Conflict],
    by: &'a str,
    reason: Option<&'a str>,
    overrides: serde_json::Value,
    problems: [(); 0],
    message: Option<&'a str>,
}

#[derive(Serialize)]
struct ShownPlan<'a> {
    reverts: i64,
    counts: &'a Counts,
    changes: ShownChanges<'a>,
    groups: Vec<serde_json::Value>,
}

/// The users' changes, each as `{"action", "unique_id", "fields"}`.
struct ShownChanges<'a>(&'a [revert::UserRevert]);

impl Serialize for ShownChanges<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct One<'a> {
            action: Action,
            unique_id: Option<&'a str>,
            fields: &'a [crate::core::plan::FieldChange],
        }
        s.collect_seq(self.0.iter().map(|c| One {
            action: c.action,
            unique_id: c.unique_id.as_deref(),
            fields: &c.fields,
        }))
    }
}

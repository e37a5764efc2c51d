//! What the report and `status` are built from: the runs of a period read from the store
//! with capped lists, and what is true now ([`Now`]), computed once here for both.

use super::stale_days;
use crate::config::Config;
use crate::core::report::{self as model, Held, Open, Report, RunParts, RunReport};
use crate::core::signal::{self, Level, Now, OpenRun, Push};
use crate::store::{now, Store};

/// How many files before a period the report looks back at to say since when a record has
/// been rejected.
const LOOKBACK: usize = 30;

/// The runs a report covers, what it calls them, and since when (none for a run or a night).
struct Covered {
    runs: Vec<model::Run>,
    scope: String,
    from: Option<String>,
}

/// Build the report of one run, of the runs since a time, or (with neither) of the last night.
pub fn build_report(
    store: &Store,
    config: &Config,
    run: Option<i64>,
    since: Option<&str>,
) -> anyhow::Result<Report> {
    let covered = match (run, since) {
        (Some(id), _) => Covered {
            runs: vec![one_run(store, id)?],
            scope: format!("run {id}"),
            from: None,
        },
        (None, Some(when)) => {
            let from = model::parse_since(when, chrono::Utc::now())
                .map_err(|m| crate::error::usage(format!("--since: {m}")))?
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            Covered {
                runs: store.runs_since(&from)?,
                scope: format!("runs since {when}"),
                from: Some(from),
            }
        }
        (None, None) => night(store, config, None)?,
    };
    report_of(store, config, covered)
}

/// Build the report of the night that `run` ended (without it, the last run's): the run and
/// those its sync recorded before it, and with reports mailed every run since the last one
/// sent. A night whose push failed after its apply is two runs, and its report says what both
/// did; an apply by hand the day before is in it too (SPEC §5: the report says what is true
/// now).
pub fn build_night_report(
    store: &Store,
    config: &Config,
    run: Option<i64>,
) -> anyhow::Result<Report> {
    report_of(store, config, night(store, config, run)?)
}

fn one_run(store: &Store, id: i64) -> anyhow::Result<model::Run> {
    store
        .run(id)?
        .ok_or_else(|| crate::error::usage(format!("there is no run {id}")))
}

/// The runs of the night that `run` (else the last run) ended: from the first run that its
/// detail names (`night_from`, which a sync that failed after recording a run writes). With
/// reports mailed, from the first run that no report sent covered when the night's are not
/// (an apply by hand between two nights is in the next report, whatever that night did): the
/// period since the last report.
fn night(store: &Store, config: &Config, run: Option<i64>) -> anyhow::Result<Covered> {
    let last = match run {
        Some(id) => Some(one_run(store, id)?),
        None => store.last_run()?,
    };
    let night_from = last
        .as_ref()
        .and_then(|r| r.detail.as_ref()?.get("night_from")?.as_i64());
    let unreported = match &last {
        Some(l) => unreported_from(store, config)?
            .filter(|(first, _)| *first <= night_from.unwrap_or(l.id)),
        None => None,
    };
    let first = unreported.as_ref().map(|(first, _)| *first).or(night_from);
    let runs = match (last, first) {
        (Some(l), Some(f)) if f < l.id => store.runs_between(f, l.id)?,
        (l, _) => l.into_iter().collect(),
    };
    let sent = store.meta(LAST_REPORT_AT)?.is_some();
    let scope = match (runs.as_slice(), run) {
        _ if unreported.is_some() && !sent => "the runs no report sent has covered".to_string(),
        _ if unreported.is_some() => "the runs since the last report".to_string(),
        ([first, .., last], _) => format!("the sync of runs {}–{}", first.id, last.id),
        (_, Some(id)) => format!("run {id}"),
        (_, None) => "the last run".to_string(),
    };
    Ok(Covered {
        runs,
        scope,
        from: unreported.map(|(_, at)| at),
    })
}

/// With reports mailed, the first run that no report sent covered, and when the last one was
/// sent; before the first report, the first run of a report that could not be sent, and when
/// it started (none when no report was tried).
fn unreported_from(store: &Store, config: &Config) -> anyhow::Result<Option<(i64, String)>> {
    if config.mail.is_none() || config.report.recipients.is_empty() {
        return Ok(None);
    }
    let through = store
        .meta(REPORTED_THROUGH)?
        .and_then(|m| m.parse::<i64>().ok());
    let Some(at) = store.meta(LAST_REPORT_AT)? else {
        // None sent yet: from the first run of a report that could not be sent, if one was not.
        let Some(first) = through
            .map(|t| store.first_run_after(Some(t), ""))
            .transpose()?
        else {
            return Ok(None);
        };
        return Ok(first
            .and_then(|f| store.run(f).transpose())
            .transpose()?
            .map(|r| (r.id, r.started_at)));
    };
    // A store whose last report predates the mark: the runs that started after it was sent.
    Ok(store
        .first_run_after(through, &at)?
        .map(|first| (first, at)))
}

/// Whether a report sent covered run `run`: the newest run reports sent have covered, when
/// that is `run` or later.
fn reported_since(store: &Store, run: i64) -> anyhow::Result<Option<i64>> {
    if store.meta(LAST_REPORT_AT)?.is_none() {
        return Ok(None);
    }
    let through = store
        .meta(REPORTED_THROUGH)?
        .and_then(|m| m.parse::<i64>().ok());
    Ok(through.filter(|t| *t >= run))
}

/// When the last report was sent (RFC 3339).
pub(super) const LAST_REPORT_AT: &str = "last_report_at";

/// The newest run up to which every run was in a report sent.
pub(super) const REPORTED_THROUGH: &str = "last_report_run";

/// The newest run up to which every run was in a report sent, once `report` is: the mark moves
/// on over the runs after it that the report covered, and stops at the first it did not (a
/// report of one old run leaves the runs after the mark for the next).
pub(super) fn reported_through(store: &Store, report: &Report) -> anyhow::Result<Option<i64>> {
    let covered: std::collections::BTreeSet<i64> = report.runs.iter().map(|r| r.run.id).collect();
    let mark = store
        .meta(REPORTED_THROUGH)?
        .and_then(|m| m.parse::<i64>().ok());
    let Some(start) = mark.or_else(|| covered.first().map(|first| first - 1)) else {
        return Ok(None);
    };
    let mut through = start;
    for id in store.run_ids_after(start)? {
        if !covered.contains(&id) {
            break;
        }
        through = id;
    }
    Ok(Some(through))
}

/// The report of the runs a report covers, with what is true now.
fn report_of(store: &Store, config: &Config, covered: Covered) -> anyhow::Result<Report> {
    let Covered { runs, scope, from } = covered;
    // The joiners of a first import are a million rows of the audit log.
    let _shown = crate::render::progress::stage("building the report");
    store.report_spills_to_disk()?;
    let facts = store.run_facts()?;
    let closures = closures(store, &facts)?;
    let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
    let runs = runs
        .into_iter()
        .map(|run| {
            let closed = closures.get(&run.id).copied().flatten();
            let parts = run_parts(store, &run, closed)?;
            Ok(RunReport::new(run, parts))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let truth = what_is_true_now(store, config)?;
    let open = Open {
        held: held_runs(store, &truth)?.iter().map(Held::of).collect(),
        pending_invitations: store.pending_invitations()?,
        failed_invitations: store.failed_invitations()?,
        stuck_invitations: store
            .outbox_stuck()?
            .into_iter()
            .map(|(_, to)| to)
            .collect(),
        unknown_groups: truth.unknown_groups.clone(),
        stale_days: truth.stale_days,
        stale_after_days: config.source.stale_after_days,
        never_fetched: truth.never_fetched,
    };
    let today = chrono::Utc::now().date_naive();
    let first = today - chrono::Duration::days(model::TREND_DAYS as i64 - 1);
    let applied = store.applied_counts_since(&format!("{first}T00:00:00Z"))?;
    let (active, _) = store.users_by_status()?;
    let since = store.first_run_day()?;
    let trend = model::trend(today, active, &applied, since);
    let mut report = Report::new(now(), scope, from, runs, open, trend, truth);
    if ids.len() > 1 {
        report.rejected_once = Some(store.rejected_once(&ids, LOOKBACK)?);
    }
    if let Some(push) = &report.now.push_detail {
        if let Some(notice) = crate::scim::report_notice(push) {
            report.notices.push(notice);
        }
        report.push = Some(crate::scim::report_line(push));
    }
    Ok(report)
}

/// What the store gives a run's report beside its row: the first of its lists (with their
/// counts), its warnings, and what closed or reverted it.
fn run_parts(
    store: &Store,
    run: &model::Run,
    closed: Option<signal::Closed>,
) -> anyhow::Result<RunParts> {
    // The first of each list only, for the text and the attachments: the rest are counted.
    let joined = if run.status == "applied" {
        store.run_joiners(run.id, model::ATTACH_ROWS)?
    } else {
        (Vec::new(), 0)
    };
    let warnings = store.run_warnings(run.id)?;
    Ok(RunParts {
        warnings,
        joined,
        removed: store.run_removed(run.id, model::ATTACH_ROWS)?,
        rejected: store.run_rejected(run.id, model::ATTACH_ROWS)?,
        rejected_records: store.run_rejected_records(run.id)?,
        closed,
        reverted_by: store.reverted_by(run.id)?,
        unknown_groups: store.run_unknown_groups(run.id, model::UNKNOWN_GROUPS_SHOWN)?,
    })
}

/// Each run's closure (SPEC §5: superseded, resolved, succeeded again; a night whose push
/// failed, pushed since), by run id.
fn closures(
    store: &Store,
    facts: &[(signal::Fact, Option<String>)],
) -> anyhow::Result<std::collections::HashMap<i64, Option<signal::Closed>>> {
    let only: Vec<signal::Fact> = facts.iter().map(|(f, _)| f.clone()).collect();
    let closed = signal::closures(&only);
    facts
        .iter()
        .zip(closed)
        .map(|((f, stage), closed)| {
            let closed = match (closed, signal::done_again(f, stage.as_deref())) {
                (None, Some("push")) => store.scim_pushed_after(f.id)?.map(signal::Closed::Pushed),
                (None, Some("report")) => {
                    reported_since(store, f.id)?.map(signal::Closed::Reported)
                }
                (None, Some(_)) => store
                    .invitations_sent_through(f.id)?
                    .then_some(signal::Closed::Invited(f.id)),
                _ => closed,
            };
            Ok((f.id, closed))
        })
        .collect()
}

/// What is true now (SPEC §5): the open runs, the open warnings, the push, the source and
/// the store's exposure. `status`, the metrics and every report's subject say this.
pub fn what_is_true_now(store: &Store, config: &Config) -> anyhow::Result<Now> {
    // Comparing two nights' rejected records sorts them: on disk, not in memory.
    store.report_spills_to_disk()?;
    let facts = store.run_facts()?;
    let closures = closures(store, &facts)?;
    let open_runs: Vec<OpenRun> = facts
        .iter()
        .filter(|(f, _)| {
            Level::of_run(&f.status) != Level::Ok
                && closures.get(&f.id).copied().flatten().is_none()
        })
        .map(|(f, stage)| OpenRun {
            run: f.id,
            command: f.command.clone(),
            status: f.status.clone(),
            batch: f.batch,
            stage: stage.clone(),
            reverts: f.reverts,
        })
        .collect();
    let last_run = facts
        .last()
        .and_then(|(f, _)| open_runs.iter().find(|o| o.run == f.id).cloned());
    let (unknown_groups_run, unknown_groups) = store.open_unknown_groups()?;
    let push_detail = crate::scim::status(store, config)?;
    Ok(Now {
        never_fetched: store.newest_batch()?.is_none(),
        last_run,
        open_runs,
        unknown_groups,
        unknown_groups_run,
        memberships_waiting: if super::store::creates_groups(config) {
            Default::default()
        } else {
            store.waiting_memberships()?
        },
        new_rejections: store
            .new_rejections()?
            .map(|(run, records)| signal::NewRejections { run, records }),
        stale_days: stale_days(store, config)?,
        stale_after_days: config.source.stale_after_days,
        stuck_invitations: store.outbox_stuck()?.len() as u64,
        push: push_detail
            .as_ref()
            .map(|p| push_now(store, config, p))
            .transpose()?,
        push_detail,
        store_exposed: crate::store::exposed::exposed(config.store_path()),
    })
}

/// The push as it stands: what waits, since when, and how the last attempt ended.
fn push_now(store: &Store, config: &Config, status: &serde_json::Value) -> anyhow::Result<Push> {
    let pending = status["pending"].as_u64().unwrap_or(0);
    let pending_since = if pending > 0 {
        store.push_pending_since()?
    } else {
        None
    };
    let pending_seconds = pending_since
        .as_deref()
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds());
    Ok(Push {
        pending,
        pending_since,
        pending_seconds,
        pending_minutes: pending_seconds.map(|s| s / 60),
        max_pending_minutes: config.scim.as_ref().map_or(0, |s| s.max_pending_minutes),
        failed: crate::scim::unhealthy(status),
        blocked: status["last"]["status"] == "blocked",
    })
}

/// The runs of the plans held by a safeguard ([`Now::held`]), as the store keeps them.
fn held_runs(store: &Store, now: &Now) -> anyhow::Result<Vec<model::Run>> {
    now.held()
        .filter_map(|h| store.run(h.run).transpose())
        .collect()
}

/// What `status` shows, read once from the store (SPEC §3, §5).
pub fn status_of(store: &Store, config: &Config) -> anyhow::Result<crate::core::status::Status> {
    use crate::core::status::{Fetch, InProgress, Status};
    let path = config.store_path();
    let newest = store.newest_batch()?;
    let last_check = store.meta("last_fetch_at")?;
    let last_mtime = store
        .meta("last_fetch_mtime")?
        .and_then(|m| m.parse::<i64>().ok())
        .or_else(|| newest.as_ref().and_then(|b| b.remote_mtime));
    let source_age = newest
        .as_ref()
        .and_then(|b| chrono::DateTime::parse_from_rfc3339(&b.fetched_at).ok())
        .map(|t| {
            (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
                .num_seconds()
                .max(0)
        });
    let (active, deactivated) = store.users_by_status()?;
    let readable = std::fs::metadata(path).is_ok_and(|m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode() & 0o077 != 0
    });
    let now = what_is_true_now(store, config)?;
    let held = held_runs(store, &now)?
        .into_iter()
        .map(|r| {
            let h = Held::of(&r);
            (r, h)
        })
        .collect();
    Ok(Status {
        push: now.push_detail.clone(),
        push_dropped: now.push_detail.as_ref().and_then(crate::scim::dropped_text),
        now,
        last_fetch: newest.map(|b| Fetch {
            at: last_check.unwrap_or_else(|| b.fetched_at.clone()),
            changed_at: b.fetched_at,
            batch: b.id,
            sha256: b.sha256,
            status: b.status,
            source: b.source,
            remote_mtime: last_mtime,
        }),
        last_run: store.last_run()?,
        // What the metric's HELP says: a run that applied a file or found it unchanged. A
        // manual edit or a revert applies no file, so it never hides a timer that stopped.
        last_success: store.last_run_of(&["sync", "apply"], &["applied", "unchanged"])?,
        last_applied: store.last_run_of(&["sync", "apply", "revert"], &["applied"])?,
        last_report: store.meta("last_report_at")?,
        pending_invitations: store.pending_invitations()?,
        failed_invitations: store.failed_invitations()?,
        held,
        in_progress: crate::store::lock::holder(path).map(|h| InProgress {
            pid: h.pid,
            since: chrono::DateTime::<chrono::Utc>::from(h.since)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }),
        active,
        deactivated,
        source_age,
        last_run_times: store.last_run_times()?,
        store_readable_by_others: readable,
    })
}

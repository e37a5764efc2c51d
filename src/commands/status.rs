//! `roster status`: one screen for an operator (within 100 columns), JSON and the Prometheus
//! text format for monitoring; exit 1 when unhealthy (SPEC §3).

use super::Context;
use crate::cli::Format;
use crate::core::report::{counts_line, fit, Held, Run};
use crate::render;
use crate::render::prometheus::Metrics;
use crate::store::{lock, Store};
use chrono::{DateTime, Utc};
use serde_json::json;

/// The width the screen keeps to.
const WIDTH: usize = 100;

fn parse(at: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// How long ago a time was, for people.
fn ago(t: DateTime<Utc>) -> String {
    let secs = (Utc::now() - t).num_seconds().max(0);
    match secs {
        s if s < 120 => format!("{s}s ago"),
        s if s < 7200 => format!("{}m ago", s / 60),
        s if s < 172_800 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86_400),
    }
}

/// `2026-11-28 03:00 UTC (5h ago)`.
fn when(t: DateTime<Utc>) -> String {
    format!("{} ({})", t.format("%Y-%m-%d %H:%M UTC"), ago(t))
}

fn when_text(at: &str) -> String {
    parse(at).map_or_else(|| at.to_string(), when)
}

fn run_time(r: &Run) -> &str {
    r.finished_at.as_deref().unwrap_or(&r.started_at)
}

fn epoch(at: &str) -> f64 {
    parse(at).map_or(f64::NAN, |t| t.timestamp() as f64)
}

fn from_epoch(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

/// The file name of a source (`sftp://hr@host/out/users.csv` → `users.csv`).
fn file_name(source: &str) -> &str {
    source.rsplit('/').next().unwrap_or(source)
}

pub fn run(ctx: &Context) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json, Format::Prometheus])?;
    let store_path = ctx.config.store_path();
    // Status never creates a store: a typo in a monitoring check must not pass as healthy.
    let store = Store::open_existing(store_path)?;
    if let Some(mode) = readable_by_others(store_path) {
        eprintln!(
            "roster: warning: the store {} can be read by other users (mode {mode:04o}); run: chmod 600 {}",
            store_path.display(),
            store_path.display()
        );
    }
    let newest = store.newest_batch()?;
    let last_check = store.meta("last_fetch_at")?;
    let last_mtime = store
        .meta("last_fetch_mtime")?
        .and_then(|m| m.parse::<i64>().ok())
        .or_else(|| newest.as_ref().and_then(|b| b.remote_mtime))
        .and_then(from_epoch);
    let last_run = store.last_run()?;
    let last_success = store.last_run_with(&["applied", "unchanged"])?;
    let last_applied = store.last_run_with(&["applied"])?;
    let last_report = store.meta("last_report_at")?;
    let pending = store.pending_invitations()?;
    let failed = store.failed_invitations()?;
    let stuck = store.outbox_stuck()?.len();
    let held = store.held_runs()?;
    let (active, deactivated) = store.users_by_status()?;
    let in_progress = lock::holder(store_path);
    let changed_at = newest.as_ref().and_then(|b| parse(&b.fetched_at));
    let source_age = changed_at.map(|t| (Utc::now() - t).num_seconds().max(0));
    let stale_after = chrono::Duration::days(i64::from(ctx.config.source.stale_after_days));
    let stale = changed_at.is_some_and(|t| Utc::now() - t > stale_after);

    let mut unhealthy = Vec::new();
    if newest.is_none() {
        unhealthy.push("no file was ever fetched".to_string());
    }
    if let Some(r) = last_run
        .as_ref()
        .filter(|r| matches!(r.status.as_str(), "failed" | "blocked" | "rejected"))
    {
        unhealthy.push(format!(
            "the last run (run {}, {}) was {}{}",
            r.id,
            r.command,
            r.status,
            stage_of(r).map_or(String::new(), |s| format!(" at the {s} stage"))
        ));
    }
    if stale {
        unhealthy.push(format!(
            "the source file has not changed for more than {} days",
            ctx.config.source.stale_after_days
        ));
    }
    if stuck > 0 {
        // Unhealthy until someone looks at them: roster users invite --pending says how.
        unhealthy.push(format!(
            "{stuck} invitation(s) were left in `sending` by a run that stopped; see roster users invite --pending"
        ));
    }
    let push = crate::scim::status(&store, &ctx.config)?;
    if push.as_ref().is_some_and(crate::scim::unhealthy) {
        unhealthy.push(
            "the last push to the SCIM provider failed, was blocked, or had changes refused or not confirmed".into(),
        );
    }
    let healthy = unhealthy.is_empty();
    let held: Vec<(Run, Held)> = held
        .into_iter()
        .map(|r| {
            let h = Held::of(&r);
            (r, h)
        })
        .collect();

    match format {
        Format::Json => {
            let doc = json!({
                "healthy": healthy,
                "unhealthy": unhealthy,
                "last_fetch": newest.as_ref().map(|b| json!({
                    "at": last_check.clone().unwrap_or_else(|| b.fetched_at.clone()),
                    "changed_at": b.fetched_at, "batch": b.id, "sha256": b.sha256,
                    "status": b.status, "source": b.source,
                    "remote_mtime": last_mtime.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))})),
                "last_apply": last_run.as_ref().map(|r| json!({
                    "at": run_time(r), "run": r.id, "status": r.status, "command": r.command,
                    "batch": r.batch, "message": r.message,
                    "stage": stage_of(r)})),
                "last_success": last_success.as_ref().map(|r| json!({"at": run_time(r), "run": r.id})),
                "last_report": last_report.as_ref().map(|at| json!({"at": at})),
                "pending_invitations": pending,
                "failed_invitations": failed,
                "stuck_invitations": stuck,
                "blocked_runs": held.iter().map(|(r, h)| json!({
                    "run": r.id, "batch": r.batch, "at": r.started_at, "message": r.message,
                    "command": h.command})).collect::<Vec<_>>(),
                "in_progress": in_progress.as_ref().map(|h| json!({
                    "pid": h.pid,
                    "since": DateTime::<Utc>::from(h.since).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)})),
                "users": {"active": active, "deactivated": deactivated},
                "source_age_seconds": source_age,
                "stale": stale,
                "store_readable_by_others": readable_by_others(store_path).is_some(),
                "push": push,
            });
            render::json(&doc)?;
        }
        Format::Prometheus => {
            let mut m = Metrics::default();
            m.value(
                "roster_healthy",
                "1 when roster status finds nothing wrong, else 0.",
                if healthy { 1.0 } else { 0.0 },
            );
            m.gauge(
                "roster_last_success_timestamp_seconds",
                "When the last run that applied a file (or found it unchanged) finished.",
                &last_success
                    .as_ref()
                    .map(|r| (&[][..], epoch(run_time(r))))
                    .into_iter()
                    .collect::<Vec<_>>(),
            );
            let times = store.last_run_times()?;
            let labels: Vec<[(&str, &str); 1]> = times
                .iter()
                .map(|(s, _)| [("status", s.as_str())])
                .collect();
            let samples: Vec<(&[(&str, &str)], f64)> = labels
                .iter()
                .zip(&times)
                .map(|(l, (_, at))| (&l[..], epoch(at)))
                .collect();
            m.gauge(
                "roster_last_run_timestamp_seconds",
                "When the last run of each status finished.",
                &samples,
            );
            let counts = last_applied
                .as_ref()
                .and_then(|r| r.counts)
                .unwrap_or_default();
            let actions = counts.named();
            let labels: Vec<[(&str, &str); 1]> =
                actions.iter().map(|(a, _)| [("action", *a)]).collect();
            let samples: Vec<(&[(&str, &str)], f64)> = labels
                .iter()
                .zip(&actions)
                .map(|(l, (_, n))| (&l[..], *n as f64))
                .collect();
            m.gauge(
                "roster_changes",
                "Users per action in the last applied run.",
                &samples,
            );
            m.gauge(
                "roster_users",
                "Users in the directory per status.",
                &[
                    (&[("status", "active")], active as f64),
                    (&[("status", "deactivated")], deactivated as f64),
                ],
            );
            m.value(
                "roster_pending_invitations",
                "Invitations waiting to be sent.",
                pending as f64,
            );
            m.value(
                "roster_failed_invitations",
                "Invitations the mail server refused.",
                failed as f64,
            );
            m.value(
                "roster_stuck_invitations",
                "Emails left in sending by a run that stopped.",
                stuck as f64,
            );
            m.gauge(
                "roster_source_age_seconds",
                "Seconds since the source file's content last changed (its newest batch).",
                &source_age
                    .map(|a| (&[][..], a as f64))
                    .into_iter()
                    .collect::<Vec<_>>(),
            );
            m.value(
                "roster_blocked_runs",
                "Plans held by a safeguard.",
                held.len() as f64,
            );
            if let Some(p) = &push {
                m.gauge(
                    "roster_push_last_timestamp_seconds",
                    "When the last push to the SCIM provider finished.",
                    &p["last"]["at"]
                        .as_str()
                        .map(|at| (&[][..], epoch(at)))
                        .into_iter()
                        .collect::<Vec<_>>(),
                );
                let number = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
                m.value(
                    "roster_push_pending",
                    "Changes not yet pushed to the SCIM provider.",
                    number(&p["pending"]),
                );
                m.value(
                    "roster_push_failures",
                    "Changes the SCIM provider refused.",
                    number(&p["failures"]),
                );
            }
            m.value(
                "roster_run_in_progress",
                "1 while a run holds the store's lock.",
                if in_progress.is_some() { 1.0 } else { 0.0 },
            );
            render::emit(m.text())?;
        }
        _ => {
            let mut lines = if healthy {
                vec!["roster status: healthy".to_string()]
            } else {
                // Every reason whole: wrapped within the width, not cut.
                wrap(
                    &format!("roster status: UNHEALTHY — {}", unhealthy.join("; ")),
                    WIDTH,
                    "    ",
                )
            };
            let mut row = |label: &str, value: String| {
                lines.push(fit(&format!("  {label:<13} {value}"), WIDTH));
            };
            row("store", store_path.display().to_string());
            match &newest {
                Some(b) => {
                    let at = last_check.clone().unwrap_or_else(|| b.fetched_at.clone());
                    row(
                        "last fetch",
                        format!(
                            "{}: batch {} ({}), {}",
                            when_text(&at),
                            b.id,
                            b.status,
                            file_name(&b.source)
                        ),
                    );
                    row(
                        "",
                        match last_mtime {
                            Some(t) => format!("remote file modified {}", when(t)),
                            None => "remote file modified: not known".to_string(),
                        },
                    );
                    row(
                        "source",
                        format!(
                            "{}: this content since {}; stale after {} days",
                            if stale { "STALE" } else { "fresh" },
                            when_text(&b.fetched_at),
                            ctx.config.source.stale_after_days
                        ),
                    );
                }
                None => row("last fetch", "never".into()),
            }
            match &last_run {
                Some(r) => row(
                    "last run",
                    format!(
                        "{}: run {} ({}) {}{}",
                        when_text(run_time(r)),
                        r.id,
                        r.command,
                        r.status,
                        stage_of(r).map_or(String::new(), |s| format!(" at the {s} stage"))
                    ),
                ),
                None => row("last run", "never".into()),
            }
            if let Some(r) = last_applied
                .as_ref()
                .filter(|a| last_run.as_ref().is_none_or(|l| l.id != a.id))
            {
                row(
                    "last apply",
                    format!(
                        "{}: run {} ({}) {}",
                        when_text(run_time(r)),
                        r.id,
                        r.command,
                        r.counts.as_ref().map(counts_line).unwrap_or_default()
                    ),
                );
            }
            row(
                "last report",
                last_report
                    .as_deref()
                    .map_or_else(|| "never".to_string(), when_text),
            );
            let mut invitations = format!("{pending} pending, {failed} failed");
            if stuck > 0 {
                invitations.push_str(&format!(", {stuck} left in sending"));
            }
            row("invitations", invitations);
            for (r, h) in &held {
                let tripped: Vec<String> = r
                    .detail
                    .as_ref()
                    .and_then(|d| d.get("tripped"))
                    .and_then(|t| t.as_array())
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        format!(
                            "{} {} > {}",
                            t.get("safeguard").and_then(|v| v.as_str()).unwrap_or(""),
                            t.get("count").unwrap_or(&serde_json::Value::Null),
                            t.get("limit").unwrap_or(&serde_json::Value::Null)
                        )
                    })
                    .collect();
                row(
                    "held plan",
                    format!(
                        "batch {} (run {}, {}): {}",
                        r.batch.unwrap_or_default(),
                        r.id,
                        parse(&r.started_at).map_or_else(String::new, ago),
                        tripped.join(", ")
                    ),
                );
                row("", h.command.clone());
            }
            row(
                "in progress",
                match &in_progress {
                    None => "none".to_string(),
                    Some(h) => format!(
                        "{} since {}",
                        h.pid
                            .map_or_else(|| "a run".to_string(), |p| format!("PID {p}")),
                        when(DateTime::<Utc>::from(h.since))
                    ),
                },
            );
            row(
                "users",
                format!("{active} active, {deactivated} deactivated"),
            );
            if let Some(p) = &push {
                let last = &p["last"];
                row(
                    "last push",
                    format!(
                        "{}: {} ({} pending, {} refused)",
                        last["at"]
                            .as_str()
                            .map_or_else(|| "never".to_string(), when_text),
                        last["status"].as_str().unwrap_or("never"),
                        p["pending"],
                        p["failures"]
                    ),
                );
                if let Some(d) = crate::scim::dropped_text(p) {
                    row("not kept", d);
                }
            }
            let mut text = lines.join("\n");
            text.push('\n');
            render::emit(&text)?;
        }
    }
    if healthy {
        Ok(())
    } else {
        Err(anyhow::Error::new(Unhealthy(unhealthy.join("; "))))
    }
}

/// `text` in lines of at most `width` characters, broken at spaces; the lines after the
/// first start with `indent`. A word longer than a line is cut (with `…`).
fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        let room = if len == 0 { 0 } else { 1 };
        if len > 0 && len + room + word.chars().count() > width && line.trim() != "" {
            lines.push(std::mem::replace(&mut line, indent.to_string()));
        }
        if !line.is_empty() && !line.ends_with(' ') {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.into_iter().map(|l| fit(&l, width)).collect()
}

/// The store file's permission bits when others than its owner may read or write it.
fn readable_by_others(path: &std::path::Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// Unhealthy is exit 1 (a runtime failure), with the reason.
#[derive(Debug, thiserror::Error)]
#[error("unhealthy: {0}")]
pub struct Unhealthy(pub String);

/// The stage at which a failed run stopped (`fetch`, `apply`, …), as the run recorded it.
fn stage_of(run: &Run) -> Option<&str> {
    run.detail.as_ref()?.get("stage")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_at_spaces_within_the_width() {
        let cases: &[(&str, usize, &[&str])] = &[
            ("short", 10, &["short"]),
            ("one two three", 7, &["one two", "  three"]),
            ("one two three", 13, &["one two three"]),
            ("abcdefghijkl x", 6, &["abcde…", "  x"]),
        ];
        for (text, width, want) in cases {
            assert_eq!(wrap(text, *width, "  "), *want, "{text:?} in {width}");
        }
    }
}

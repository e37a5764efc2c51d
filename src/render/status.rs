//! `roster status` rendered: one screen within 100 columns, the JSON document, and the
//! Prometheus text format. Each reads the same [`Status`]; none computes anything.

use super::prometheus::Metrics;
use crate::core::report::{Held, Run};
use crate::core::signal::Level;
use crate::core::status::{stage_of, Status};
use crate::render::report::{counts_line, fit};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

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

fn mtime_text(secs: i64) -> Option<String> {
    DateTime::from_timestamp(secs, 0).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// The file name of a source (`sftp://hr@host/out/users.csv` → `users.csv`).
fn file_name(source: &str) -> &str {
    source.rsplit('/').next().unwrap_or(source)
}

fn stage_text(r: &Run) -> String {
    stage_of(r).map_or(String::new(), |s| format!(" at the {s} stage"))
}

/// The JSON document (SPEC §6).
pub fn json(s: &Status) -> Value {
    json!({
        "healthy": s.healthy(),
        "unhealthy": s.unhealthy(),
        "status": s.level(),
        "attention": s.attention(),
        "last_fetch": s.last_fetch.as_ref().map(|f| json!({
            "at": f.at, "changed_at": f.changed_at, "batch": f.batch, "sha256": f.sha256,
            "status": f.status, "source": f.source,
            "remote_mtime": f.remote_mtime.and_then(mtime_text)})),
        "last_apply": s.last_run.as_ref().map(|r| json!({
            "at": run_time(r), "run": r.id, "status": r.status, "command": r.command,
            "batch": r.batch, "message": r.message, "stage": stage_of(r)})),
        "last_applied": s.last_applied.as_ref().map(|r| json!({
            "at": run_time(r), "run": r.id, "command": r.command, "batch": r.batch,
            "counts": r.counts})),
        "last_success": s.last_success.as_ref().map(|r| json!({"at": run_time(r), "run": r.id})),
        "last_report": s.last_report.as_ref().map(|at| json!({"at": at})),
        "pending_invitations": s.pending_invitations,
        "failed_invitations": s.failed_invitations,
        "stuck_invitations": s.now.stuck_invitations,
        "blocked_runs": s.held.iter().map(|(r, h)| json!({
            "run": r.id, "batch": r.batch, "at": r.started_at, "message": r.message,
            "command": h.command})).collect::<Vec<_>>(),
        "open_runs": s.now.open_runs,
        "in_progress": s.in_progress,
        "users": {"active": s.active, "deactivated": s.deactivated},
        "source_age_seconds": s.source_age,
        "stale": s.now.stale_days.is_some(),
        "store_readable_by_others": s.store_readable_by_others,
        "store_exposed": s.now.store_exposed,
        "push": push_json(s),
    })
}

/// The push as `scim::status` gives it, with since when changes wait.
fn push_json(s: &Status) -> Value {
    let Some(mut p) = s.push.clone() else {
        return Value::Null;
    };
    if let (Some(o), Some(now)) = (p.as_object_mut(), &s.now.push) {
        o.insert("pending_since".into(), json!(now.pending_since));
        o.insert("overdue".into(), json!(now.overdue()));
    }
    p
}

/// The Prometheus text format, for node_exporter's textfile collector.
pub fn prometheus(s: &Status) -> String {
    let mut m = Metrics::default();
    let bool = |b: bool| if b { 1.0 } else { 0.0 };
    m.value(
        "roster_healthy",
        "1 when roster status finds nothing wrong, else 0.",
        bool(s.healthy()),
    );
    let level = s.level();
    let labels: Vec<[(&str, &str); 1]> = Level::ALL
        .iter()
        .map(|l| [("status", l.as_str())])
        .collect();
    let samples: Vec<(&[(&str, &str)], f64)> = labels
        .iter()
        .zip(Level::ALL)
        .map(|(l, v)| (&l[..], bool(v == level)))
        .collect();
    m.gauge(
        "roster_status",
        "1 for the worst open status now (what a report's subject says), 0 for the others.",
        &samples,
    );
    m.value(
        "roster_attention",
        "Warnings listed under attention by roster status (unknown groups, memberships waiting for the next sync, new rejections, changes waiting to be pushed, an exposed store).",
        s.attention().len() as f64,
    );
    m.value(
        "roster_store_exposed",
        "1 when another user can read or replace the store.",
        bool(s.now.store_exposed.is_some()),
    );
    runs_metrics(&mut m, s);
    directory_metrics(&mut m, s);
    push_metrics(&mut m, s);
    m.value(
        "roster_run_in_progress",
        "1 while a run holds the store's lock.",
        bool(s.in_progress.is_some()),
    );
    m.text().to_string()
}

fn runs_metrics(m: &mut Metrics, s: &Status) {
    m.gauge(
        "roster_last_success_timestamp_seconds",
        "When the last run that applied a file (or found it unchanged) finished.",
        &s.last_success
            .as_ref()
            .map(|r| (&[][..], epoch(run_time(r))))
            .into_iter()
            .collect::<Vec<_>>(),
    );
    let labels: Vec<[(&str, &str); 1]> = s
        .last_run_times
        .iter()
        .map(|(st, _)| [("status", st.as_str())])
        .collect();
    let samples: Vec<(&[(&str, &str)], f64)> = labels
        .iter()
        .zip(&s.last_run_times)
        .map(|(l, (_, at))| (&l[..], epoch(at)))
        .collect();
    m.gauge(
        "roster_last_run_timestamp_seconds",
        "When the last run of each status finished (a sync, apply or revert; not a manual edit).",
        &samples,
    );
    let counts = s
        .last_applied
        .as_ref()
        .and_then(|r| r.counts)
        .unwrap_or_default();
    let actions = counts.named();
    let labels: Vec<[(&str, &str); 1]> = actions.iter().map(|(a, _)| [("action", *a)]).collect();
    let samples: Vec<(&[(&str, &str)], f64)> = labels
        .iter()
        .zip(&actions)
        .map(|(l, (_, n))| (&l[..], *n as f64))
        .collect();
    m.gauge(
        "roster_changes",
        "Users per action in the last applied sync, apply or revert.",
        &samples,
    );
    m.value(
        "roster_blocked_runs",
        "Plans held by a safeguard (a block superseded by a later applied file is not one).",
        s.held.len() as f64,
    );
    m.value(
        "roster_open_runs",
        "Failed, blocked or rejected runs that no later run closed.",
        s.now.open_runs.len() as f64,
    );
}

fn directory_metrics(m: &mut Metrics, s: &Status) {
    m.gauge(
        "roster_users",
        "Users in the directory per status.",
        &[
            (&[("status", "active")], s.active as f64),
            (&[("status", "deactivated")], s.deactivated as f64),
        ],
    );
    m.value(
        "roster_pending_invitations",
        "Invitations waiting to be sent.",
        s.pending_invitations as f64,
    );
    m.value(
        "roster_failed_invitations",
        "Invitations the mail server refused.",
        s.failed_invitations as f64,
    );
    m.value(
        "roster_stuck_invitations",
        "Emails left in sending by a run that stopped.",
        s.now.stuck_invitations as f64,
    );
    m.gauge(
        "roster_source_age_seconds",
        "Seconds since the source file's content last changed (its newest batch).",
        &s.source_age
            .map(|a| (&[][..], a as f64))
            .into_iter()
            .collect::<Vec<_>>(),
    );
}

fn push_metrics(m: &mut Metrics, s: &Status) {
    let Some(p) = &s.push else {
        return;
    };
    m.gauge(
        "roster_push_last_timestamp_seconds",
        "When the last push to the SCIM provider finished.",
        &p["last"]["at"]
            .as_str()
            .map(|at| (&[][..], epoch(at)))
            .into_iter()
            .collect::<Vec<_>>(),
    );
    let number = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    m.value(
        "roster_push_pending",
        "Changes not yet pushed to the SCIM provider.",
        number(&p["pending"]),
    );
    m.gauge(
        "roster_push_pending_seconds",
        "How long the oldest change not yet pushed has waited.",
        &s.now
            .push
            .as_ref()
            .and_then(|n| n.pending_seconds)
            .map(|secs| (&[][..], secs.max(0) as f64))
            .into_iter()
            .collect::<Vec<_>>(),
    );
    m.value(
        "roster_push_failures",
        "Changes the SCIM provider refused.",
        number(&p["failures"]),
    );
}

/// The screen: the health (every reason whole, wrapped), then one row per thing.
pub fn table(s: &Status, store_path: &std::path::Path, stale_after_days: u32) -> String {
    let unhealthy = s.unhealthy();
    let mut lines = if unhealthy.is_empty() {
        // Healthy with a warning says so: the same word a report's subject would say.
        vec![match s.level() {
            Level::Ok => "roster status: healthy".to_string(),
            level => format!("roster status: healthy ({})", level.as_str()),
        }]
    } else {
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
    fetch_rows(&mut row, s, stale_after_days);
    run_rows(&mut row, s);
    for a in s.attention() {
        row("attention", format!("{}: {}", a.kind, a.detail));
    }
    row(
        "in progress",
        match &s.in_progress {
            None => "none".to_string(),
            Some(h) => format!(
                "{} since {}",
                h.pid
                    .map_or_else(|| "a run".to_string(), |p| format!("PID {p}")),
                when_text(&h.since)
            ),
        },
    );
    row(
        "users",
        format!(
            "{} active, {} deactivated",
            super::thousands(s.active),
            super::thousands(s.deactivated)
        ),
    );
    if let Some(p) = &s.push {
        let last = &p["last"];
        row(
            "last push",
            format!(
                "{}: {} ({} pending, {} refused)",
                last["at"]
                    .as_str()
                    .map_or_else(|| "never".to_string(), when_text),
                last["status"].as_str().unwrap_or("never"),
                super::thousands(p["pending"].as_u64().unwrap_or(0)),
                super::thousands(p["failures"].as_u64().unwrap_or(0))
            ),
        );
        if let Some(d) = &s.push_dropped {
            row("not kept", d.clone());
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn fetch_rows(row: &mut impl FnMut(&str, String), s: &Status, stale_after_days: u32) {
    let Some(f) = &s.last_fetch else {
        row("last fetch", "never".into());
        return;
    };
    row(
        "last fetch",
        format!(
            "{}: batch {} ({}), {}",
            when_text(&f.at),
            f.batch,
            f.status,
            file_name(&f.source)
        ),
    );
    row(
        "",
        match f.remote_mtime.and_then(|m| DateTime::from_timestamp(m, 0)) {
            Some(t) => format!("remote file modified {}", when(t)),
            None => "remote file modified: not known".to_string(),
        },
    );
    row(
        "source",
        format!(
            "{}: this content since {}; stale after {stale_after_days} days",
            if s.now.stale_days.is_some() {
                "STALE"
            } else {
                "fresh"
            },
            when_text(&f.changed_at),
        ),
    );
}

fn run_rows(row: &mut impl FnMut(&str, String), s: &Status) {
    // The rows JSON names `last_apply` and `last_applied`, each the same run.
    match &s.last_run {
        Some(r) => row(
            "last apply",
            format!(
                "{}: run {} ({}) {}{}",
                when_text(run_time(r)),
                r.id,
                r.command,
                r.status,
                stage_text(r)
            ),
        ),
        None => row("last apply", "never".into()),
    }
    if let Some(r) = s
        .last_applied
        .as_ref()
        .filter(|a| s.last_run.as_ref().is_none_or(|l| l.id != a.id))
    {
        row(
            "last applied",
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
        s.last_report
            .as_deref()
            .map_or_else(|| "never".to_string(), when_text),
    );
    let mut invitations = format!(
        "{} pending, {} failed",
        super::thousands(s.pending_invitations as u64),
        super::thousands(s.failed_invitations as u64)
    );
    if s.now.stuck_invitations > 0 {
        invitations.push_str(&format!(
            ", {} left in sending",
            super::thousands(s.now.stuck_invitations)
        ));
    }
    row("invitations", invitations);
    for (r, h) in &s.held {
        held_rows(row, r, h);
    }
}

fn held_rows(row: &mut impl FnMut(&str, String), r: &Run, h: &Held) {
    let tripped: Vec<String> = r
        .tripped()
        .map(|t| {
            let count = |k: &str| match t.get(k).and_then(Value::as_u64) {
                Some(n) => super::thousands(n),
                None => t.get(k).unwrap_or(&Value::Null).to_string(),
            };
            format!(
                "{} {} > {}",
                t.get("safeguard").and_then(|v| v.as_str()).unwrap_or(""),
                count("count"),
                count("limit")
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
    for line in super::grid::command_lines(&h.command, WIDTH - 16) {
        row("", line);
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

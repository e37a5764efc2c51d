//! `roster status`: one screen for an operator, and JSON for monitoring; exit 1 when unhealthy.

use super::Context;
use crate::cli::Format;
use crate::render;
use crate::store::Store;
use serde_json::json;

/// How long ago an RFC 3339 time was, for people.
fn age(at: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(at) else {
        return String::new();
    };
    let secs = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    match secs {
        s if s < 120 => format!("{s}s ago"),
        s if s < 7200 => format!("{}m ago", s / 60),
        s if s < 172_800 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86_400),
    }
}

pub fn run(ctx: &Context) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json])?;
    let store = Store::open(ctx.config.store_path())?;
    let newest = store.newest_batch()?;
    let last_check = store.meta("last_fetch_at")?;
    let last_run = store.last_run()?;
    let last_report = store.meta("last_report_at")?;
    let pending: i64 = store.pending_invitations()?;
    let held = store.held_runs()?;
    let stale_after = chrono::Duration::days(i64::from(ctx.config.source.stale_after_days));
    let stale = newest.as_ref().is_some_and(|b| {
        chrono::DateTime::parse_from_rfc3339(&b.fetched_at)
            .map(|t| chrono::Utc::now() - t.with_timezone(&chrono::Utc) > stale_after)
            .unwrap_or(false)
    });
    let last_failed = last_run
        .as_ref()
        .is_some_and(|r| matches!(r.status.as_str(), "failed" | "blocked" | "rejected"));
    let push = crate::scim::status(&store, &ctx.config)?;
    let push_failed = push.as_ref().is_some_and(crate::scim::unhealthy);
    let healthy = !stale && !last_failed && !push_failed;
    let doc = json!({
        "healthy": healthy,
        "last_fetch": newest.as_ref().map(|b| json!({
            "at": last_check.clone().unwrap_or_else(|| b.fetched_at.clone()),
            "changed_at": b.fetched_at, "batch": b.id, "sha256": b.sha256, "status": b.status})),
        "last_apply": last_run.as_ref().map(|r| json!({
            "at": r.finished_at.clone().unwrap_or_else(|| r.started_at.clone()), "run": r.id, "status": r.status,
            "batch": r.batch, "message": r.message})),
        "last_report": last_report.as_ref().map(|at| json!({"at": at})),
        "pending_invitations": pending,
        "blocked_runs": held.iter().map(|r| json!({"run": r.id, "batch": r.batch, "message": r.message})).collect::<Vec<_>>(),
        "stale": stale,
        "push": push,
    });
    match format {
        Format::Json => render::json(&doc)?,
        _ => {
            let mut t = render::table(["", "When", "Age", "What"]);
            match &newest {
                Some(b) => {
                    let at = last_check.clone().unwrap_or_else(|| b.fetched_at.clone());
                    t.add_row(vec![
                        "last fetch".into(),
                        at.clone(),
                        age(&at),
                        format!("batch {} ({}), {}", b.id, b.status, b.source),
                    ]);
                    t.add_row(vec![
                        "file last changed".into(),
                        b.fetched_at.clone(),
                        age(&b.fetched_at),
                        if stale {
                            format!(
                                "STALE: older than {} days",
                                ctx.config.source.stale_after_days
                            )
                        } else {
                            "fresh".into()
                        },
                    ]);
                }
                None => {
                    t.add_row(vec![
                        "last fetch".into(),
                        "never".into(),
                        String::new(),
                        String::new(),
                    ]);
                }
            }
            match &last_run {
                Some(r) => {
                    let at = r
                        .finished_at
                        .clone()
                        .unwrap_or_else(|| r.started_at.clone());
                    t.add_row(vec![
                        "last run".into(),
                        at.clone(),
                        age(&at),
                        format!("run {} ({}): {}", r.id, r.command, r.status),
                    ]);
                }
                None => {
                    t.add_row(vec![
                        "last run".into(),
                        "never".into(),
                        String::new(),
                        String::new(),
                    ]);
                }
            }
            match &last_report {
                Some(at) => t.add_row(vec![
                    "last report".into(),
                    at.clone(),
                    age(at),
                    String::new(),
                ]),
                None => t.add_row(vec![
                    "last report".into(),
                    "never".into(),
                    String::new(),
                    String::new(),
                ]),
            };
            t.add_row(vec![
                "pending invitations".into(),
                String::new(),
                String::new(),
                pending.to_string(),
            ]);
            for r in &held {
                t.add_row(vec![
                    "held plan".into(),
                    r.started_at.clone(),
                    age(&r.started_at),
                    r.message.clone().unwrap_or_default(),
                ]);
            }
            if let Some(p) = &push {
                let last = &p["last"];
                let at = last["at"].as_str().unwrap_or("never").to_string();
                t.add_row(vec![
                    "last push".into(),
                    at.clone(),
                    age(&at),
                    format!(
                        "{} ({} pending, {} refused)",
                        last["status"].as_str().unwrap_or("never"),
                        p["pending"],
                        p["failures"]
                    ),
                ]);
            }
            render::emit(&t.to_string())?;
            render::emit(if healthy { "healthy" } else { "UNHEALTHY" })?;
        }
    }
    if healthy {
        Ok(())
    } else {
        let why = if stale {
            "the source file is stale"
        } else if last_failed {
            "the last run failed, was blocked or was rejected"
        } else {
            "the last push to the SCIM provider failed, was blocked or had changes refused"
        };
        Err(anyhow::Error::new(Unhealthy(why.to_string())))
    }
}

/// Unhealthy is exit 1 (a runtime failure), with the reason.
#[derive(Debug, thiserror::Error)]
#[error("unhealthy: {0}")]
pub struct Unhealthy(pub String);

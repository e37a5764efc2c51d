//! The report stage's mail: whether the report is due (at once when something needs attention,
//! else once a day), and its sending to `[report] recipients`.

use crate::config::Config;
use crate::store::{now, Store};

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

/// Whole days since the newest batch arrived, when that is longer than
/// `source.stale_after_days`: compared to the second, as 2 days and 23 hours are more than 2.
pub fn stale_days(store: &Store, config: &Config) -> anyhow::Result<Option<i64>> {
    let Some(newest) = store.newest_batch()? else {
        return Ok(None);
    };
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(&newest.fetched_at) else {
        return Ok(None);
    };
    let age = chrono::Utc::now() - at.with_timezone(&chrono::Utc);
    let limit = chrono::Duration::days(i64::from(config.source.stale_after_days));
    Ok((age > limit).then_some(age.num_days()))
}

/// Before the first report is sent, a report that could not be: the mark stops before its
/// runs, so the first report sent covers them (SPEC §5: failure is reported).
fn unsent(store: &Store, report: &crate::core::report::Report) -> anyhow::Result<()> {
    let first = report.runs.iter().map(|r| r.run.id).min();
    if store.meta(super::report::LAST_REPORT_AT)?.is_some() {
        return Ok(());
    }
    let mark = store.meta(super::report::REPORTED_THROUGH)?;
    match (mark, first) {
        (None, Some(first)) => {
            store.set_meta(super::report::REPORTED_THROUGH, &(first - 1).to_string())
        }
        _ => Ok(()),
    }
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
    if let Err(e) = mailer.send(&message) {
        unsent(store, report)?;
        return Err(anyhow::anyhow!("the report was not sent: {e}"));
    }
    log::info!(
        "report: mailed to {} recipient(s) in {}",
        config.report.recipients.len(),
        crate::render::log::secs(started)
    );
    // Marked before the time: the next report covers the runs after what this one covered.
    if let Some(through) = super::report::reported_through(store, report)? {
        store.set_meta(super::report::REPORTED_THROUGH, &through.to_string())?;
    }
    store.set_meta(super::report::LAST_REPORT_AT, &now())?;
    store.set_meta(
        "last_report_day",
        &chrono::Local::now().format("%Y-%m-%d").to_string(),
    )?;
    Ok(())
}

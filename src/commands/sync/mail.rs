//! The report of a night, by mail: at once when it failed, was blocked or rejected; else when
//! it is due (SPEC §3). And the notice of a run that has held the lock for hours.

use super::super::Context;
use crate::error::Error;
use crate::pipeline;
use crate::store::{lock, now, Store};
use std::time::Duration;

/// A run that has held the lock this long is taken to be hung: the report says so.
const HUNG_AFTER: Duration = Duration::from_secs(4 * 3600);

/// Send the report of the night this run ended now (it failed, was blocked or rejected): with
/// the runs the night recorded before it. Mail trouble is said on stderr; the run's own exit
/// code stands.
pub(super) fn mail_report(ctx: &Context, store: &Store, run: Option<i64>) {
    if let Err(e) = try_mail_report(ctx, store, run) {
        eprintln!("roster: the failure report was not sent: {e:#}");
    }
}

fn try_mail_report(ctx: &Context, store: &Store, run: Option<i64>) -> anyhow::Result<()> {
    let Some(mailer) = pipeline::mailer(&ctx.config)? else {
        return Ok(());
    };
    if ctx.config.report.recipients.is_empty() {
        return Ok(());
    }
    let report = pipeline::build_night_report(store, &ctx.config, run)?;
    pipeline::send_report(store, &ctx.config, &mailer, &report)
}

/// Send the report when it is due: at once when something needs attention, else once a day.
pub(super) fn mail_report_if_due(
    ctx: &Context,
    store: &Store,
    run: i64,
    attention: bool,
) -> anyhow::Result<()> {
    if ctx.config.mail.is_none() || ctx.config.report.recipients.is_empty() {
        return Ok(());
    }
    if !pipeline::report_due(store, &ctx.config, attention)? {
        return Ok(());
    }
    // Every run since the last report sent, and the night's (SPEC §5).
    let report = pipeline::build_night_report(store, &ctx.config, Some(run))?;
    let mailer =
        pipeline::mailer(&ctx.config)?.ok_or_else(|| anyhow::anyhow!("no [mail] section"))?;
    pipeline::send_report(store, &ctx.config, &mailer, &report)
}

/// When another run has held the lock for hours, it is probably hung: say so by mail.
pub(super) fn report_hung_lock(ctx: &Context, store_path: &std::path::Path, err: &anyhow::Error) {
    if !matches!(err.downcast_ref::<Error>(), Some(Error::Locked(_))) {
        return;
    }
    let held = lock::holder(store_path).and_then(|h| h.since.elapsed().ok());
    if held.is_none_or(|h| h <= HUNG_AFTER) {
        return;
    }
    let result = (|| -> anyhow::Result<()> {
        let Some(mailer) = pipeline::mailer(&ctx.config)? else {
            return Ok(());
        };
        if ctx.config.report.recipients.is_empty() {
            return Ok(());
        }
        let hours = held.map_or(0, |h| h.as_secs() / 3600);
        let report = crate::core::report::Report::notice(
            now(),
            "sync could not start".into(),
            format!(
                "stage lock: {err}; it has been held for {hours} hours, so that run is probably hung. \
                 Check the process named in the lock file and stop it; the next roster sync then runs normally."
            ),
        );
        let message = crate::mail::report(
            &mailer.from,
            &ctx.config.report.recipients,
            &report.subject(),
            report.text(),
            report.html(),
            &[],
        )?;
        mailer.send(&message).map_err(|e| anyhow::anyhow!("{e}"))
    })();
    if let Err(e) = result {
        eprintln!("roster: the hung-lock report was not sent: {e:#}");
    }
}

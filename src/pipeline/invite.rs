//! The invitations stage: the pending invitations sent, each at most once, over one SMTP
//! connection, paced by `mail.max_per_minute`.

use super::mailer::{mail_per_minute, mailer};
use crate::config::Config;
use crate::store::Store;
use serde::Serialize;

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
    let per_minute = mail_per_minute(config);
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

//! The invitations stage: the pending invitations sent, each at most once, over one SMTP
//! connection, paced by `mail.max_per_minute`.

use super::mailer::{mail_per_minute, mailer};
use crate::config::Config;
use crate::mail::Delivery;
use crate::store::Store;
use serde::Serialize;
use std::collections::HashSet;
use std::time::{Duration, Instant};

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
        let n = |n: usize| crate::render::thousands(n as u64);
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
                ", {} left in sending (they may have arrived; see {} users invite --pending)",
                n(self.unknown),
                crate::core::command::roster()
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
    let letter = Letter::of(config)?;
    let rows = rows_to_send(store, only)?;
    if rows.is_empty() {
        return Ok(Sent::default());
    }
    let pace = Pace::of(mail_per_minute(config));
    let mut session = mailer.session();
    let mut round = Round {
        sent: Sent::default(),
        started: Instant::now(),
        done: 0,
        total: rows.len(),
        progress,
    };
    progress(0, rows.len());
    for chunk in rows.chunks(pace.at_once) {
        // Build the messages first: a row that cannot become a message is failed at once.
        let (messages, marks) = messages_of(chunk, mailer, &letter, &mut round.sent);
        if let Some(error) = send_chunk(store, &mut session, &messages, marks, &pace, &mut round)? {
            let sent = &mut round.sent;
            sent.pending = rows.len() - sent.sent - sent.failed - sent.unknown;
            sent.error.get_or_insert(error);
            break;
        }
    }
    round.sent.connections = session.connections;
    log_round(&round.sent, round.started);
    Ok(round.sent)
}

/// The subject and text of every invitation.
struct Letter {
    subject: String,
    body: String,
}

impl Letter {
    fn of(config: &Config) -> anyhow::Result<Letter> {
        let subject = config
            .invitations
            .subject
            .clone()
            .unwrap_or_else(|| crate::mail::DEFAULT_SUBJECT.to_string());
        Ok(Letter {
            subject,
            body: invitation_body(config)?,
        })
    }
}

/// The text of an invitation: `invitations.template_file`, else the built-in one.
pub(super) fn invitation_body(config: &Config) -> anyhow::Result<String> {
    match &config.invitations.template_file {
        Some(p) => std::fs::read_to_string(p).map_err(|e| {
            crate::error::config(format!("invitations.template_file {}: {e}", p.display()))
        }),
        None => Ok(crate::mail::DEFAULT_TEMPLATE.to_string()),
    }
}

/// A pending invitation: its outbox row, and its user's name, mail and title (none when the
/// user no longer exists).
type Row = (i64, Option<(String, String, Option<String>)>);

/// The pending invitations, or only `only`'s rows of them.
fn rows_to_send(store: &Store, only: Option<&[i64]>) -> anyhow::Result<Vec<Row>> {
    let only: Option<HashSet<i64>> = only.map(|ids| ids.iter().copied().collect());
    Ok(store
        .pending_invitations_to()?
        .into_iter()
        .filter(|(id, _)| only.as_ref().is_none_or(|ids| ids.contains(id)))
        .collect())
}

/// How `mail.max_per_minute` paces a round: the time between two messages, and how many rows
/// are marked `sending` in one commit.
struct Pace {
    spacing: Option<Duration>,
    at_once: usize,
}

impl Pace {
    fn of(per_minute: u32) -> Pace {
        Pace {
            spacing: (per_minute > 0).then(|| Duration::from_secs(60) / per_minute),
            at_once: match per_minute {
                0 => SENDING_AT_ONCE,
                n => (n as usize / 60).clamp(1, SENDING_AT_ONCE),
            },
        }
    }

    /// Wait until the next message is due: `so_far` messages after the round's start.
    fn wait(&self, started: Instant, so_far: usize) {
        if let Some(spacing) = self.spacing {
            let due = started + spacing * so_far as u32;
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
    }
}

/// A round of sending: what it did so far, and the progress it reports.
struct Round<'p> {
    sent: Sent,
    started: Instant,
    done: usize,
    total: usize,
    progress: &'p dyn Fn(usize, usize),
}

/// Where an outbox row goes: its status, and the error that put it there.
type Mark = (i64, &'static str, Option<String>);

/// The messages of a chunk of rows, and the rows that cannot become one, marked `failed`.
fn messages_of(
    chunk: &[Row],
    mailer: &crate::mail::Mailer,
    letter: &Letter,
    sent: &mut Sent,
) -> (Vec<(i64, lettre::Message)>, Vec<Mark>) {
    let mut marks: Vec<Mark> = Vec::with_capacity(chunk.len());
    let mut messages = Vec::with_capacity(chunk.len());
    for (id, user) in chunk {
        let Some((name, mail, title)) = user else {
            marks.push((*id, "failed", Some("the user no longer exists".into())));
            sent.failed += 1;
            continue;
        };
        let who = crate::mail::Invitee {
            name,
            mail,
            title: title.as_deref().unwrap_or(""),
        };
        match crate::mail::invitation(&mailer.from, &who, &letter.subject, &letter.body) {
            Ok(m) => messages.push((*id, m)),
            Err(e) => {
                marks.push((*id, "failed", Some(e.to_string())));
                sent.failed += 1;
            }
        }
    }
    (messages, marks)
}

/// Send a chunk's messages: marked `sending` in one commit, sent one by one, then each marked
/// as it went in one more. Gives the error of a server that is away, which stops the round
/// (the chunk's unsent rows are `pending` again).
fn send_chunk(
    store: &Store,
    session: &mut crate::mail::Session<'_>,
    messages: &[(i64, lettre::Message)],
    mut marks: Vec<Mark>,
    pace: &Pace,
    round: &mut Round<'_>,
) -> anyhow::Result<Option<String>> {
    let sending: Vec<(i64, &str, Option<&str>)> = messages
        .iter()
        .map(|(id, _)| (*id, "sending", None))
        .collect();
    store.outbox_mark_all(&sending)?;
    let mut stop = None;
    for (i, (id, message)) in messages.iter().enumerate() {
        pace.wait(round.started, round.sent.sent + round.sent.failed);
        if let Some(error) = tell(session.send(message), *id, &mut round.sent, &mut marks) {
            // The server is away: this row and the rest of the chunk wait for the next run.
            for (rest, _) in &messages[i..] {
                marks.push((*rest, "pending", Some(error.clone())));
            }
            stop = Some(error);
            break;
        }
        round.done += 1;
        (round.progress)(round.done, round.total);
    }
    let marks: Vec<(i64, &str, Option<&str>)> = marks
        .iter()
        .map(|(id, s, e)| (*id, *s, e.as_deref()))
        .collect();
    store.outbox_mark_all(&marks)?;
    Ok(stop)
}

/// Count and mark how one message's delivery ended; the error of a server that is away (the
/// message was not taken, and may be sent again) is given back instead.
fn tell(delivery: Delivery, id: i64, sent: &mut Sent, marks: &mut Vec<Mark>) -> Option<String> {
    match delivery {
        Delivery::Sent => {
            marks.push((id, "sent", None));
            sent.sent += 1;
        }
        Delivery::NotSent {
            permanent: true,
            error,
        } => {
            sent.failed += 1;
            sent.error.get_or_insert(error.clone());
            marks.push((id, "failed", Some(error)));
        }
        Delivery::NotSent {
            permanent: false,
            error,
        } => return Some(error),
        Delivery::Unknown(error) => {
            sent.unknown += 1;
            sent.error.get_or_insert(error.clone());
            marks.push((id, "sending", Some(error)));
        }
    }
    None
}

/// The stage line of a round of invitations.
fn log_round(sent: &Sent, started: Instant) {
    log::info!(
        "invitations: {} sent, {} failed, {} still pending, {} left in sending, over {} connection(s), in {}",
        sent.sent,
        sent.failed,
        sent.pending,
        sent.unknown,
        sent.connections,
        crate::render::log::secs(started)
    );
}

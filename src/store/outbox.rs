//! The outbox: every email roster sends, marked `sending` before the SMTP conversation and
//! `sent` after it, so that a crash never leads to a second copy.

use super::{now, Store};
use rusqlite::{params, OptionalExtension};

/// Drop a user's queued (not yet sending) invitations: a user that is deactivated or deleted
/// is not invited; reactivated, it has none (`users invite --uninvited` finds it).
pub const CANCEL_PENDING: &str =
    "DELETE FROM outbox WHERE kind = 'invitation' AND user_pk = ?1 AND status = 'pending'";

#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub user_pk: Option<i64>,
    pub recipient: String,
}

impl Store {
    /// Pending rows of a kind, oldest first (optionally only for some users).
    pub fn outbox_pending(&self, kind: &str) -> anyhow::Result<Vec<OutboxRow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, user_pk, recipient FROM outbox WHERE kind = ?1 AND status = 'pending' ORDER BY id")?;
        let rows = stmt.query_map([kind], |r| {
            Ok(OutboxRow {
                id: r.get(0)?,
                user_pk: r.get(1)?,
                recipient: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Move a row to `status`; `sending` and `sent` are committed before anything else happens.
    pub fn outbox_mark(&self, id: i64, status: &str, error: Option<&str>) -> anyhow::Result<()> {
        let at = now();
        self.conn.execute(
            "UPDATE outbox SET status = ?2, error = ?3,
                attempted_at = CASE WHEN ?2 = 'sending' THEN ?4 ELSE attempted_at END,
                sent_at = CASE WHEN ?2 = 'sent' THEN ?4 ELSE sent_at END
             WHERE id = ?1",
            params![id, status, error, at],
        )?;
        Ok(())
    }

    /// The pending invitations with what they are written from (name, mail, title of the
    /// user now; `None` when the user is gone), oldest first, in one read.
    #[allow(clippy::type_complexity)]
    pub fn pending_invitations_to(
        &self,
    ) -> anyhow::Result<Vec<(i64, Option<(String, String, Option<String>)>)>> {
        let mut stmt = self.conn.prepare(
            "SELECT o.id, u.name, u.mail, u.title FROM outbox o LEFT JOIN users u ON u.pk = o.user_pk
             WHERE o.kind = 'invitation' AND o.status = 'pending' ORDER BY o.id",
        )?;
        let rows = stmt.query_map([], |r| {
            let name: Option<String> = r.get(1)?;
            let mail: Option<String> = r.get(2)?;
            Ok((
                r.get(0)?,
                name.zip(mail).map(|(n, m)| (n, m, r.get(3).ok().flatten())),
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Move many rows in one commit (a run marks its next rows `sending` together, and
    /// records how they ended together, so that 10,000 invitations are not 20,000 commits).
    pub fn outbox_mark_all(&self, marks: &[(i64, &str, Option<&str>)]) -> anyhow::Result<()> {
        let at = now();
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET status = ?2, error = ?3,
                    attempted_at = CASE WHEN ?2 = 'sending' THEN ?4 ELSE attempted_at END,
                    sent_at = CASE WHEN ?2 = 'sent' THEN ?4 ELSE sent_at END
                 WHERE id = ?1",
            )?;
            for (id, status, error) in marks {
                stmt.execute(params![id, status, error, at])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Users that were never invited (no outbox row of theirs), active, imported or not,
    /// optionally only the members of a group (by Group ID or name); with their mail.
    pub fn uninvited_users(&self, group: Option<i64>) -> anyhow::Result<Vec<(i64, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT u.pk, u.mail FROM users u
             WHERE u.active = 1
               AND u.pk NOT IN (SELECT user_pk FROM outbox WHERE kind = 'invitation' AND user_pk IS NOT NULL)
               AND (?1 IS NULL OR u.pk IN (SELECT user_pk FROM memberships WHERE group_pk = ?1))
             ORDER BY u.pk",
        )?;
        let rows = stmt.query_map([group], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Close the rows of a user left in `sending`, when the operator sends it again.
    pub fn outbox_close_stuck(&self, user_pk: i64, note: &str) -> anyhow::Result<usize> {
        Ok(self.conn.execute(
            "UPDATE outbox SET status = 'failed', error = ?2 WHERE kind = 'invitation' AND user_pk = ?1 AND status = 'sending'",
            params![user_pk, note],
        )?)
    }

    /// A user's invitation state (see [`super::users::invitation_json`]).
    pub fn invitation_of(&self, user_pk: i64) -> anyhow::Result<serde_json::Value> {
        let newest: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT status, sent_at FROM outbox WHERE kind = 'invitation' AND user_pk = ?1 ORDER BY id DESC LIMIT 1",
                [user_pk],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match newest {
            Some((status, at)) => super::users::invitation_json(Some(status), at),
            None => serde_json::Value::Null,
        })
    }

    /// Whether the invitations queued up to run `run` went out since it started: some were
    /// sent after, and none is pending, in `sending`, or failed without a newer one to the
    /// same user (what closes a sync failed at its invitations stage; a run that stopped there
    /// with nothing to send stays open).
    pub fn invitations_sent_through(&self, run: i64) -> anyhow::Result<bool> {
        Ok(self.conn.query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'invitation'
                AND o.run_id <= ?1 AND (o.status IN ('pending', 'sending') OR (o.status = 'failed'
                     AND NOT EXISTS (SELECT 1 FROM outbox n WHERE n.kind = 'invitation'
                                       AND n.user_pk = o.user_pk AND n.id > o.id))))
               AND EXISTS (SELECT 1 FROM outbox o JOIN runs r ON r.id = ?1
                WHERE o.kind = 'invitation' AND o.run_id <= ?1 AND o.status = 'sent'
                  AND o.sent_at >= r.started_at)",
            [run],
            |r| r.get(0),
        )?)
    }

    /// Rows left in `sending` by a run that stopped mid-conversation: reported, never resent.
    pub fn outbox_stuck(&self) -> anyhow::Result<Vec<(i64, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, recipient FROM outbox WHERE status = 'sending' ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest invitation status of a user, if it was ever invited.
    pub fn invitation_status(&self, user_pk: i64) -> anyhow::Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT status FROM outbox WHERE kind = 'invitation' AND user_pk = ?1 ORDER BY id DESC LIMIT 1",
                [user_pk],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn queue_invitation(&self, user_pk: i64, recipient: &str) -> anyhow::Result<i64> {
        self.conn.execute(
            "INSERT INTO outbox (kind, user_pk, recipient, status, created_at) VALUES ('invitation', ?1, ?2, 'pending', ?3)",
            params![user_pk, recipient, now()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }
}

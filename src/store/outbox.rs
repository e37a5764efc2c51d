//! The outbox: every email roster sends, marked `sending` before the SMTP conversation and
//! `sent` after it, so that a crash never leads to a second copy.

use super::{now, Store};
use rusqlite::{params, OptionalExtension};

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

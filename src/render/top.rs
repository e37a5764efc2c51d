//! The plan summary's lines that sum up many changes: the most common value changes of each
//! field (`top_changes`) and how long the invitations take (SPEC §3, §3.1).

use super::{cell, thousands};
use crate::core::plan::top::TopChange;
use crate::core::plan::Plan;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::io::{self, Write};

/// `top_changes` in JSON: per field a list of `{"old", "new", "users"}`.
pub struct TopChanges(pub Vec<(&'static str, Vec<TopChange>)>);

impl Serialize for TopChanges {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (field, changes) in &self.0 {
            m.serialize_entry(field, changes)?;
        }
        m.end()
    }
}

/// One field's most common changes: `title: Nurse → Carer 4,089; Cook → Chef 12`.
pub fn line(field: &str, changes: &[TopChange]) -> String {
    let value = |v: &Option<String>| v.as_deref().map_or("(none)".to_string(), cell);
    let parts: Vec<String> = changes
        .iter()
        .map(|c| {
            format!(
                "{} → {} {}",
                value(&c.old),
                value(&c.new),
                thousands(c.users)
            )
        })
        .collect();
    format!("{field}: {}", parts.join("; "))
}

/// Minutes that `n` invitations take at `per_minute` (none without a limit), rounded.
fn minutes(n: u64, per_minute: u32) -> Option<u64> {
    (per_minute > 0).then(|| ((n + u64::from(per_minute) / 2) / u64::from(per_minute)).max(1))
}

/// `5 h 33 min`, `12 min`, `2 h`.
fn duration(minutes: u64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// The summary line of the invitations a plan sends: how many and, with
/// `mail.max_per_minute`, how long (`19,990 invitations, about 5 h 33 min at 60 a minute`).
pub fn invitations_line(n: u64, per_minute: u32) -> String {
    match minutes(n, per_minute) {
        None => format!(
            "invitations: {} will be sent (one to each new user)",
            thousands(n)
        ),
        Some(m) => format!(
            "invitations: {} invitation{}, about {} at {} a minute (one to each new user)",
            thousands(n),
            if n == 1 { "" } else { "s" },
            duration(m),
            thousands(per_minute.into())
        ),
    }
}

/// In a plan's JSON, when it sends invitations: `"invitations_per_minute"` (0: no limit) and
/// `"invitations_minutes"`, how long they take (null without a limit).
pub fn write_invitation_time(out: &mut impl Write, plan: &Plan) -> io::Result<()> {
    if plan.invitations == 0 {
        return Ok(());
    }
    out.write_all(b",\"invitations_per_minute\":")?;
    super::write_json(out, &plan.invitations_per_minute)?;
    out.write_all(b",\"invitations_minutes\":")?;
    super::write_json(out, &minutes(plan.invitations, plan.invitations_per_minute))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_invitations_take() {
        for (n, per_minute, want) in [
            (
                19_990,
                60,
                "19,990 invitations, about 5 h 33 min at 60 a minute",
            ),
            (1, 60, "1 invitation, about 1 min at 60 a minute"),
            (600, 60, "600 invitations, about 10 min at 60 a minute"),
            (7_200, 60, "7,200 invitations, about 2 h at 60 a minute"),
            (25, 0, "25 will be sent (one to each new user)"),
        ] {
            let line = invitations_line(n, per_minute);
            assert!(line.contains(want), "{line}");
        }
    }
}

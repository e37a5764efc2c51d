//! Rendering a plan (SPEC §3.1): the counts, the updates per field, the warnings grouped, the
//! invitations, then at most a limit of changes, one line each. JSON is serialized change by
//! change as it is written, so a plan of a million changes is never built twice in memory.

use super::grid::Grid;
use super::{cell, thousands};
use crate::core::file::ImportFile;
use crate::core::plan::{Action, Change, Counts, FieldChange, Plan, UserState};
use crate::core::problem::{Code, Problem, Severity};
use crate::core::record::Entry;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

/// How many changes a table lists unless told otherwise.
pub const DEFAULT_LIMIT: usize = 50;

/// How many groups of warnings the summary names before it sums up the rest.
const WARNING_GROUPS: usize = 10;

/// Which changes of a plan are listed: those of these actions that set these fields (any,
/// when empty), at most `limit` of them.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub limit: Option<usize>,
    pub actions: Vec<Action>,
    pub fields: Vec<&'static str>,
}

impl Selection {
    fn matches(&self, plan: &Plan, file: &ImportFile, c: &Change) -> bool {
        if !self.actions.is_empty() && !self.actions.contains(&c.action) {
            return false;
        }
        if self.fields.is_empty() {
            return true;
        }
        let fields = plan.fields(c, file);
        self.fields
            .iter()
            .any(|want| fields.iter().any(|f| f.field == *want))
    }

    fn limit(&self) -> usize {
        self.limit.unwrap_or(usize::MAX)
    }
}

/// A plan with what to list of it.
#[derive(Clone, Copy)]
pub struct PlanView<'a> {
    pub plan: &'a Plan,
    pub file: &'a ImportFile,
    pub shown: &'a Selection,
}

impl<'a> PlanView<'a> {
    pub fn new(plan: &'a Plan, file: &'a ImportFile, shown: &'a Selection) -> Self {
        PlanView { plan, file, shown }
    }

    fn selected(&self) -> impl Iterator<Item = &'a Change> + 'a {
        let PlanView { plan, file, shown } = *self;
        plan.changes
            .iter()
            .filter(move |c| shown.matches(plan, file, c))
    }

    /// How many changes are listed, and how many more the selection matches.
    fn listed(&self) -> (usize, usize) {
        let matched = if self.shown.actions.is_empty() && self.shown.fields.is_empty() {
            self.plan.changes.len()
        } else {
            self.selected().count()
        };
        let listed = matched.min(self.shown.limit());
        (listed, matched - listed)
    }

    fn change(&self, c: &'a Change) -> ChangeView<'a> {
        let absent = c.pk.and_then(|pk| self.plan.absent_users.get(&pk));
        ChangeView {
            action: c.action,
            unique_id: c.unique_id.as_deref(),
            line: c.line,
            name: if matches!(c.action, Action::Remove | Action::Missing) {
                c.name.as_deref()
            } else {
                None
            },
            mail: absent.map(|u| u.mail.as_str()),
            groups: absent.map(|u| u.groups.as_slice()),
            absent: c.absent,
            fields: self.plan.fields(c, self.file),
        }
    }
}

/// One change as JSON shows it (SPEC §6). A removed or missing user has its name, mail and
/// groups.
#[derive(Debug, Serialize)]
pub struct ChangeView<'a> {
    pub action: Action,
    pub unique_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absent: Option<u32>,
    pub fields: Cow<'a, [FieldChange]>,
}

/// The plan document of `diff`, and `"plan"` inside `apply`'s output: `batch`, `counts`,
/// `updates` (per field), `changes`, then `more` when a limit left changes out.
impl Serialize for PlanView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (listed, more) = self.listed();
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("batch", &self.plan.batch)?;
        m.serialize_entry("counts", &self.plan.counts)?;
        m.serialize_entry("updates", &FieldCounts(updates_per_field(self.plan)))?;
        m.serialize_entry(
            "changes",
            &ChangeList {
                view: *self,
                listed,
            },
        )?;
        if more > 0 {
            m.serialize_entry("more", &more)?;
        }
        if !self.plan.tripped.is_empty() {
            m.serialize_entry("safeguards", &self.plan.tripped)?;
        }
        m.serialize_entry("unknown_groups", &self.plan.unknown_groups)?;
        m.serialize_entry("invitations", &self.plan.invitations)?;
        if !self.plan.mail_reused.is_empty() {
            m.serialize_entry("mail_reused", &self.plan.mail_reused)?;
        }
        m.end()
    }
}

struct ChangeList<'a> {
    view: PlanView<'a>,
    listed: usize,
}

impl Serialize for ChangeList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.listed))?;
        for c in self.view.selected().take(self.listed) {
            seq.serialize_element(&self.view.change(c))?;
        }
        seq.end()
    }
}

struct FieldCounts(Vec<(&'static str, u64)>);

impl Serialize for FieldCounts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (field, n) in &self.0 {
            m.serialize_entry(field, n)?;
        }
        m.end()
    }
}

/// How many updates set each field, the most first: `groups 2,219, title 31`.
pub fn updates_per_field(plan: &Plan) -> Vec<(&'static str, u64)> {
    let mut counts: Vec<(&'static str, u64)> = Vec::new();
    for c in plan.changes.iter().filter(|c| c.action == Action::Update) {
        for f in &c.fields {
            match counts.iter_mut().find(|(name, _)| *name == f.field) {
                Some((_, n)) => *n += 1,
                None => counts.push((f.field, 1)),
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts
}

/// The problems of a file grouped by code and by the value they name (the first `…` quoted
/// in the message, such as the Group ID of `unknown-group`): each group with the number of
/// records, the largest first.
pub fn grouped_problems(problems: &[Problem], severity: Severity) -> Vec<(Code, String, u64)> {
    let mut groups: HashMap<(Code, &str), u64> = HashMap::new();
    for p in problems.iter().filter(|p| p.severity == severity) {
        // Errors are told apart by code only: their values (a mail, a phone) are each their own.
        let value = if severity == Severity::Error {
            ""
        } else if p.line.is_none() {
            p.message.as_str()
        } else {
            quoted(&p.message).unwrap_or("")
        };
        *groups.entry((p.code, value)).or_default() += 1;
    }
    let mut out: Vec<(Code, String, u64)> = groups
        .into_iter()
        .map(|((code, value), n)| (code, value.to_string(), n))
        .collect();
    out.sort_by(|a, b| {
        b.2.cmp(&a.2)
            .then(a.0.as_str().cmp(b.0.as_str()))
            .then(a.1.cmp(&b.1))
    });
    out
}

/// The first value quoted with backticks in a message.
fn quoted(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

fn records(n: u64) -> String {
    format!("{} record{}", thousands(n), if n == 1 { "" } else { "s" })
}

pub fn counts_line(c: &Counts) -> String {
    format!(
        "create {}, adopt {}, update {}, reactivate {}, remove {}, missing {}, unchanged {}, skipped {}, invalid {}",
        thousands(c.create),
        thousands(c.adopt),
        thousands(c.update),
        thousands(c.reactivate),
        thousands(c.remove),
        thousands(c.missing),
        thousands(c.unchanged),
        thousands(c.skipped),
        thousands(c.invalid)
    )
}

/// The lines under a plan's counts: the updates per field, the problems grouped, the
/// invitations the apply queues (one per created user when `invite`).
pub fn summary_lines(plan: &Plan, file: &ImportFile, invite: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let per_field = updates_per_field(plan);
    if !per_field.is_empty() {
        let parts: Vec<String> = per_field
            .iter()
            .map(|(f, n)| format!("{f} {}", thousands(*n)))
            .collect();
        lines.push(format!("updates per field: {}", parts.join(", ")));
    }
    for (severity, what) in [(Severity::Error, "invalid"), (Severity::Warning, "warning")] {
        let groups = grouped_problems(&file.problems, severity);
        for (code, value, n) in groups.iter().take(WARNING_GROUPS) {
            let code = code.as_str().replace('-', " ");
            lines.push(if value.is_empty() {
                format!("{what}: {code}: {}", records(*n))
            } else {
                format!("{what}: {code} {}: {}", cell(value), records(*n))
            });
        }
        if groups.len() > WARNING_GROUPS {
            let rest: u64 = groups[WARNING_GROUPS..].iter().map(|g| g.2).sum();
            lines.push(format!(
                "{what}: … and {} more kinds, {} (roster validate --batch {})",
                thousands((groups.len() - WARNING_GROUPS) as u64),
                records(rest),
                plan.batch
            ));
        }
    }
    for r in plan.mail_reused.iter().take(WARNING_GROUPS) {
        lines.push(format!(
            "mail reused: {} from {} (deactivated) to {}",
            cell(&r.mail),
            cell(r.unique_id.as_deref().unwrap_or("a user added by hand")),
            cell(&r.to)
        ));
    }
    if plan.mail_reused.len() > WARNING_GROUPS {
        lines.push(format!(
            "mail reused: … and {} more (roster diff --format json)",
            thousands((plan.mail_reused.len() - WARNING_GROUPS) as u64)
        ));
    }
    let created = plan.counts.create;
    if invite && created > 0 {
        lines.push(format!(
            "invitations: {} will be sent (one to each new user)",
            thousands(created)
        ));
    } else if created > 0 {
        lines.push("invitations: none (import.send_invitations is off)".to_string());
    }
    lines
}

/// The changes a selection lists, one line each, then `… and N more`.
pub fn write_changes(out: &mut impl Write, view: &PlanView<'_>) -> io::Result<()> {
    let (listed, more) = view.listed();
    if listed > 0 {
        let mut grid = Grid::new(["Action", "UniqueID", "Name", "Mail", "Changes"]);
        for c in view.selected().take(listed) {
            grid.measure(&row(view, c));
        }
        grid.write_header(out)?;
        for c in view.selected().take(listed) {
            grid.write_row(out, &row(view, c))?;
        }
    }
    if more > 0 {
        writeln!(
            out,
            "… and {} more (roster diff --all, or --format json)",
            thousands(more as u64)
        )?;
    }
    Ok(())
}

/// A plan in a table: the counts line is the caller's; then the summary lines and the
/// changes the selection lists.
pub fn write_plan(out: &mut impl Write, view: &PlanView<'_>, invite: bool) -> io::Result<()> {
    for line in summary_lines(view.plan, view.file, invite) {
        writeln!(out, "{line}")?;
    }
    write_changes(out, view)
}

/// One change as a table row: action, UniqueID, name, mail, and what changes.
fn row(view: &PlanView<'_>, c: &Change) -> [String; 5] {
    let PlanView { plan, file, .. } = *view;
    let record = match c.entry.and_then(|i| file.entries.get(i)) {
        Some(Entry::Valid(r)) => Some(r),
        _ => None,
    };
    let absent: Option<&UserState> = c.pk.and_then(|pk| plan.absent_users.get(&pk));
    let (name, mail): (&str, &str) = match (c.action, &c.new, absent, record) {
        (_, Some(new), _, _) => (&new.name, &new.mail),
        (_, None, Some(u), _) => (&u.name, &u.mail),
        (_, None, None, Some(r)) => (r.name(), r.mail()),
        _ => (c.name.as_deref().unwrap_or(""), ""),
    };
    let what = match c.action {
        Action::Create => plan
            .fields(c, file)
            .iter()
            .filter(|f| !matches!(f.field, "name" | "mail" | "status"))
            .map(|f| format!("{} {}", f.field, f.new.as_deref().unwrap_or("")))
            .collect::<Vec<_>>()
            .join("; "),
        Action::Remove | Action::Missing => {
            let mut parts = Vec::new();
            if let Some(status) = c.fields.iter().find(|f| f.field == "status") {
                parts.push(status.new.clone().unwrap_or_default());
            }
            if let Some(u) = absent {
                parts.push(if u.groups.is_empty() {
                    "no groups".to_string()
                } else {
                    format!("groups {}", u.groups.join(","))
                });
            }
            if let Some(n) = c.absent {
                parts.push(format!(
                    "absent from {n} file{} in a row",
                    if n == 1 { "" } else { "s" }
                ));
            }
            parts.join("; ")
        }
        Action::Invalid => {
            let line = c.line.unwrap_or(0);
            let at = file
                .problems
                .partition_point(|p| p.line.unwrap_or(0) < line);
            match file.problems[at..]
                .iter()
                .take_while(|p| p.line == Some(line))
                .find(|p| p.is_error())
            {
                Some(p) => format!("line {line}: {}: {}", p.code, p.message),
                None => format!("line {line}: see roster validate"),
            }
        }
        _ => c
            .fields
            .iter()
            .map(|f| {
                format!(
                    "{}: {} → {}",
                    f.field,
                    f.old.as_deref().unwrap_or("(none)"),
                    f.new.as_deref().unwrap_or("(none)")
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    };
    [
        c.action.as_str().to_string(),
        cell(c.unique_id.as_deref().unwrap_or("")),
        cell(name),
        cell(mail),
        cell(&what),
    ]
}

/// The document `apply` and `sync` print with `--format json` (SPEC §6), written as a stream.
pub struct OutcomeView<'a> {
    pub run: Option<i64>,
    pub batch: i64,
    pub status: &'a str,
    pub plan: Option<PlanView<'a>>,
    pub file: &'a ImportFile,
    /// Why a run was rejected or blocked.
    pub reason: Option<&'a str>,
    /// Who ran it, `--reason` and the `--allow-*` flags (SPEC §6: `by`, `reason`, `overrides`).
    pub operator: Option<&'a Operator<'a>>,
}

/// Who ran a run, why, and the limits raised for it, as apply's JSON shows them.
#[derive(Debug, Serialize)]
pub struct Operator<'a> {
    pub by: &'a str,
    pub reason: Option<&'a str>,
    pub overrides: serde_json::Value,
}

impl Serialize for OutcomeView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("run", &self.run)?;
        m.serialize_entry("batch", &self.batch)?;
        m.serialize_entry("status", self.status)?;
        m.serialize_entry("counts", &self.plan.map(|p| p.plan.counts))?;
        m.serialize_entry("plan", &self.plan)?;
        m.serialize_entry(
            "problems",
            &Errors(self.file, self.plan.map(|p| &p.plan.unknown_groups)),
        )?;
        // No plan (a rejected file): none will be sent.
        m.serialize_entry("invitations", &self.plan.map_or(0, |p| p.plan.invitations))?;
        match self.operator {
            // `reason` is the operator's; the block or rejection is the `message`.
            Some(op) => {
                m.serialize_entry("by", op.by)?;
                m.serialize_entry("reason", &op.reason)?;
                m.serialize_entry("overrides", &op.overrides)?;
                m.serialize_entry("message", &self.reason)?;
            }
            None => m.serialize_entry("reason", &self.reason)?,
        }
        m.end()
    }
}

/// At most this many warnings other than `unknown-group` in a JSON `problems` (the reader
/// names at most a few unknown columns, then one line for the rest).
const FILE_WARNINGS: usize = 100;

/// The errors of a file, then its other warnings, then each unknown Group ID once with the number of records naming
/// it (SPEC §2), as a JSON array.
struct Errors<'a>(
    &'a ImportFile,
    Option<&'a std::collections::BTreeMap<String, u64>>,
);

impl Serialize for Errors<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        for p in self.0.problems.iter().filter(|p| p.is_error()) {
            seq.serialize_element(p)?;
        }
        // The file's other warnings (`unknown-column`, `encoding-fallback`) are a few per
        // file, each in full; `unknown-group` is one per record, so it comes grouped below.
        for p in self
            .0
            .problems
            .iter()
            .filter(|p| !p.is_error() && p.code != crate::core::problem::Code::UnknownGroup)
            .take(FILE_WARNINGS)
        {
            seq.serialize_element(p)?;
        }
        for (group, records) in self.1.into_iter().flatten() {
            seq.serialize_element(&serde_json::json!({
                "line": null, "column": "Groups", "code": "unknown-group", "severity": "warning",
                "group": group, "records": records,
                "message": format!("no group has the ID `{group}`: {records} record(s) name it"),
            }))?;
        }
        seq.end()
    }
}

/// The one-line summary of an apply: `run 12, batch 7: applied — create 1, …`.
pub fn outcome_line(run: Option<i64>, batch: i64, status: &str, counts: &Counts) -> String {
    let run = run.map_or(String::new(), |r| format!("run {r}, "));
    format!("{run}batch {batch}: {status} — {}", counts_line(counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_group_by_code_and_value() {
        let p = |line, code, msg: &str| Problem::new(Some(line), Some("Groups"), code, msg);
        let problems = vec![
            p(
                2,
                Code::UnknownGroup,
                "no group has the ID `INTMED`; ignored",
            ),
            p(
                3,
                Code::UnknownGroup,
                "no group has the ID `INTMED`; ignored",
            ),
            p(3, Code::UnknownGroup, "no group has the ID `X`; ignored"),
            p(4, Code::BadMail, "the mail `a@` is not valid"),
        ];
        assert_eq!(
            grouped_problems(&problems, Severity::Warning),
            vec![
                (Code::UnknownGroup, "INTMED".to_string(), 2),
                (Code::UnknownGroup, "X".to_string(), 1)
            ]
        );
        assert_eq!(grouped_problems(&problems, Severity::Error).len(), 1);
    }
}

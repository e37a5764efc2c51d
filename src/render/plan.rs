//! Rendering a plan (SPEC §3.1): the counts, the updates per field, the warnings grouped, the
//! invitations, then at most a limit of changes, one line each. JSON is serialized change by
//! change as it is written, so a plan of a million changes is never built twice in memory.

use super::grid::Grid;
use super::{cell, thousands};
use crate::core::file::ImportFile;
use crate::core::plan::top::top_changes;
use crate::core::plan::{Action, Change, Counts, CreatedFields, FieldChange, Plan, UserState};
use crate::core::problem::{Code, EachProblem, Problem, Severity};
use crate::core::record::Entry;
use serde::ser::SerializeMap;
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
    /// A dry run of a file that is stored nowhere (`sync --dry-run`): the commands a hint
    /// names, as `(the same dry run, validating the file)`, since no batch exists to name.
    pub unstored: Option<(String, String)>,
    /// The batch the command was given (`--batch N`), named again by the hint that lists the
    /// rest.
    pub batch: Option<i64>,
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

    /// `roster diff --all` with the batch and filters of this selection: the command that
    /// lists every change it matches, not every change of the newest batch.
    fn diff_all(&self) -> String {
        let mut command = format!("{} diff", crate::core::command::roster());
        if let Some(batch) = self.batch {
            command.push_str(&format!(" --batch {batch}"));
        }
        for action in &self.actions {
            command.push_str(&format!(" --action {}", action.as_str()));
        }
        for field in &self.fields {
            command.push_str(&format!(" --field {field}"));
        }
        command.push_str(" --all");
        command
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

    fn selected(&self) -> impl Iterator<Item = Cow<'a, Change>> + 'a {
        let PlanView { plan, file, shown } = *self;
        plan.each_change(&file.entries)
            .filter(move |c| shown.matches(plan, file, c))
    }

    /// How many changes are listed, and how many more the selection matches.
    fn listed(&self) -> (usize, usize) {
        let matched = if self.shown.actions.is_empty() && self.shown.fields.is_empty() {
            self.plan.change_count(&self.file.entries)
        } else {
            self.selected().count()
        };
        let listed = matched.min(self.shown.limit());
        (listed, matched - listed)
    }

    /// The reference shape of one change, which [`PlanView::write_change`] writes by hand.
    #[cfg(test)]
    fn change(&self, c: &'a Change) -> ChangeView<'a> {
        let absent = c.pk().and_then(|pk| self.plan.absent_users.get(&pk));
        ChangeView {
            action: c.action,
            unique_id: c.unique_id.as_deref(),
            line: c.line(),
            name: if matches!(c.action, Action::Remove | Action::Missing) {
                c.name()
            } else {
                None
            },
            mail: absent.map(|u| u.mail.as_str()),
            groups: absent.map(|u| u.groups.as_slice()),
            absent: c.absent(),
            fields: match self.plan.created_fields(c, self.file) {
                Some(created) => Fields::Created(created),
                None => Fields::Listed(self.plan.fields(c, self.file)),
            },
        }
    }
}

/// One change as JSON shows it (SPEC §6). A removed or missing user has its name, mail and
/// groups.
#[derive(Serialize)]
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
    pub fields: Fields<'a>,
}

/// The field changes of a change: a create's straight from its record, the others' as the
/// plan holds them.
pub enum Fields<'a> {
    Created(CreatedFields<'a>),
    Listed(Cow<'a, [FieldChange]>),
}

impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Fields::Created(f) => f.serialize(s),
            Fields::Listed(f) => f.serialize(s),
        }
    }
}

/// The plan document of `diff`, and `"plan"` inside `apply`'s output: `batch`, `counts`,
/// `updates` (per field), `changes`, then `more` when a limit left changes out. The changes,
/// which may be a million, are written by hand ([`PlanView::write_change`]); the rest by serde.
impl PlanView<'_> {
    pub fn write_json(&self, out: &mut impl Write) -> io::Result<()> {
        self.write_entries(out)?;
        out.write_all(b"}")
    }

    /// The document of `diff`: the plan, then its file's `problems` as apply's JSON lists
    /// them (each unknown Group ID once with its records, SPEC §2); `each_problem` streams
    /// those the reading did not keep.
    pub fn write_json_with_problems(
        &self,
        out: &mut impl Write,
        each_problem: Option<EachProblem<'_>>,
    ) -> io::Result<()> {
        self.write_entries(out)?;
        out.write_all(b",\"problems\":")?;
        let unknown = Some(&self.plan.unknown_groups);
        super::write_json(out, &Errors(self.file, unknown, each_problem))?;
        out.write_all(b"}")
    }

    /// The plan document without its closing brace.
    fn write_entries(&self, out: &mut impl Write) -> io::Result<()> {
        let (listed, more) = self.listed();
        out.write_all(b"{\"batch\":")?;
        super::write_json(out, &self.plan.batch)?;
        out.write_all(b",\"plan_digest\":")?;
        super::write_json(out, &self.plan.digest(self.file))?;
        out.write_all(b",\"counts\":")?;
        super::write_json(out, &self.plan.counts)?;
        out.write_all(b",\"updates\":")?;
        super::write_json(out, &FieldCounts(updates_per_field(self.plan)))?;
        out.write_all(b",\"top_changes\":")?;
        super::write_json(out, &super::top::TopChanges(top_changes(self.plan)))?;
        out.write_all(b",\"changes\":[")?;
        let mut buf = Vec::with_capacity(CHUNK + 4096);
        for (i, c) in self.selected().take(listed).enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            self.write_change(&mut buf, &c);
            if buf.len() >= CHUNK {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        out.write_all(&buf)?;
        out.write_all(b"]")?;
        if more > 0 {
            out.write_all(b",\"more\":")?;
            super::write_json(out, &more)?;
        }
        if !self.plan.tripped.is_empty() {
            out.write_all(b",\"safeguards\":")?;
            super::write_json(out, &self.plan.tripped)?;
        }
        if !self.plan.overridden.is_empty() {
            out.write_all(b",\"overridden\":")?;
            super::write_json(out, &self.plan.overridden)?;
        }
        out.write_all(b",\"churn\":")?;
        super::write_json(out, &self.plan.churn)?;
        out.write_all(b",\"unknown_groups\":")?;
        super::write_json(out, &self.plan.unknown_groups)?;
        out.write_all(b",\"invitations\":")?;
        super::write_json(out, &self.plan.invitations)?;
        super::top::write_invitation_time(out, self.plan)?;
        if !self.plan.mail_reused.is_empty() {
            out.write_all(b",\"mail_reused\":")?;
            super::write_json(out, &self.plan.mail_reused)?;
        }
        Ok(())
    }

    /// One change as [`ChangeView`] serializes it, byte for byte (a test holds them equal),
    /// written straight into `buf`: a first import writes a million of them.
    fn write_change(&self, buf: &mut Vec<u8>, c: &Change) {
        buf.extend_from_slice(b"{\"action\":\"");
        buf.extend_from_slice(c.action.as_str().as_bytes());
        buf.extend_from_slice(b"\",\"unique_id\":");
        json_opt(buf, c.unique_id.as_deref());
        if let Some(line) = c.line() {
            buf.extend_from_slice(b",\"line\":");
            json_u64(buf, line);
        }
        if matches!(c.action, Action::Remove | Action::Missing) {
            if let Some(name) = c.name() {
                buf.extend_from_slice(b",\"name\":");
                json_str(buf, name);
            }
        }
        if let Some(u) = c.pk().and_then(|pk| self.plan.absent_users.get(&pk)) {
            buf.extend_from_slice(b",\"mail\":");
            json_str(buf, &u.mail);
            buf.extend_from_slice(b",\"groups\":[");
            for (i, g) in u.groups.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                json_str(buf, g);
            }
            buf.push(b']');
        }
        if let Some(absent) = c.absent() {
            buf.extend_from_slice(b",\"absent\":");
            json_u64(buf, absent.into());
        }
        buf.extend_from_slice(b",\"fields\":[");
        let field = |buf: &mut Vec<u8>, first: bool, name: &str| {
            if !first {
                buf.push(b',');
            }
            buf.extend_from_slice(b"{\"field\":\"");
            buf.extend_from_slice(name.as_bytes());
            buf.extend_from_slice(b"\",\"old\":");
        };
        match self.plan.created_fields(c, self.file) {
            Some(created) => {
                let mut first = true;
                for (name, value) in created.texts() {
                    field(buf, first, name);
                    buf.extend_from_slice(b"null,\"new\":");
                    json_str(buf, value);
                    buf.push(b'}');
                    first = false;
                }
                if let Some(groups) = created.groups() {
                    field(buf, false, "groups");
                    buf.extend_from_slice(b"null,\"new\":\"");
                    for (i, g) in groups.enumerate() {
                        if i > 0 {
                            buf.push(b',');
                        }
                        json_str_contents(buf, g);
                    }
                    buf.extend_from_slice(b"\"}");
                }
                field(buf, false, "status");
                buf.extend_from_slice(b"null,\"new\":\"active\"}");
            }
            None => {
                for (i, f) in self.plan.fields(c, self.file).iter().enumerate() {
                    field(buf, i == 0, f.field);
                    json_opt(buf, f.old.as_deref());
                    buf.extend_from_slice(b",\"new\":");
                    json_opt(buf, f.new.as_deref());
                    buf.push(b'}');
                }
            }
        }
        buf.extend_from_slice(b"]}");
    }
}

/// How many bytes of changes are gathered before they are written out.
const CHUNK: usize = 1 << 16;

/// A JSON string, escaped as serde_json escapes it.
fn json_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    json_str_contents(buf, s);
    buf.push(b'"');
}

fn json_str_contents(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        if escaped.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            buf.extend_from_slice(b"\\u00");
            buf.push(HEX[usize::from(b >> 4)]);
            buf.push(HEX[usize::from(b & 0xf)]);
        } else {
            buf.extend_from_slice(escaped);
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
}

fn json_opt(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => json_str(buf, s),
        None => buf.extend_from_slice(b"null"),
    }
}

fn json_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[at..]);
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
        for f in c.fields() {
            match counts.iter_mut().find(|(name, _)| *name == f.field) {
                Some((_, n)) => *n += 1,
                None => counts.push((f.field, 1)),
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts
}

/// The problems of a file grouped by code and by the value they are about ([`Problem::value`],
/// such as the Group ID of `unknown-group`): each group with the number of records, the
/// largest first. Errors are grouped by code only: their values (a mail, a phone) are each
/// their own.
pub fn grouped_problems(problems: &[Problem], severity: Severity) -> Vec<(Code, &str, u64)> {
    grouped(problems, severity, &EMPTY_GROUPS)
}

/// No unknown Group IDs (for [`grouped_problems`]).
static EMPTY_GROUPS: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();

/// [`grouped_problems`] with the unknown Group IDs taken from `unknown_groups` (a plan's,
/// counted however the file was checked) rather than from the problems. Each ID is its own
/// group, listed as borrowed: a file naming 300,000 of them made a table and a copy of each.
fn grouped<'a>(
    problems: &'a [Problem],
    severity: Severity,
    unknown_groups: &'a std::collections::BTreeMap<String, u64>,
) -> Vec<(Code, &'a str, u64)> {
    let mut groups: HashMap<(Code, &str), u64> = HashMap::new();
    let problems = problems.iter().filter(|p| {
        p.severity == severity && (unknown_groups.is_empty() || p.code != Code::UnknownGroup)
    });
    for p in problems {
        let value = match (severity, &p.value) {
            (Severity::Warning, Some(v)) => v.as_str(),
            _ => "",
        };
        *groups.entry((p.code, value)).or_default() += 1;
    }
    let mut out: Vec<(Code, &str, u64)> = Vec::with_capacity(groups.len() + unknown_groups.len());
    out.extend(
        groups
            .into_iter()
            .map(|((code, value), n)| (code, value, n)),
    );
    // The problems of unknown groups were left out above: no ID is counted twice.
    let unknown = unknown_groups.iter();
    out.extend(unknown.map(|(id, n)| (Code::UnknownGroup, id.as_str(), *n)));
    out.sort_by(largest_first);
    out
}

/// The order of grouped problems: the most records first, then by code and value.
fn largest_first(a: &(Code, &str, u64), b: &(Code, &str, u64)) -> std::cmp::Ordering {
    b.2.cmp(&a.2)
        .then(a.0.as_str().cmp(b.0.as_str()))
        .then(a.1.cmp(b.1))
}

/// Add to groups by code the problems a reading counted rather than kept
/// ([`ImportFile::dropped`]), the largest group still first.
fn add_dropped(groups: &mut Vec<(Code, &str, u64)>, file: &ImportFile, severity: Severity) {
    for (code, _, n) in file.dropped.each().filter(|&(_, s, _)| s == severity) {
        match groups.iter_mut().find(|g| g.0 == code && g.1.is_empty()) {
            Some(g) => g.2 += n,
            None => groups.push((code, "", n)),
        }
    }
    groups.sort_by(largest_first);
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
    summary_lines_of(plan, file, invite, None)
}

/// [`summary_lines`], naming the commands that list every problem when the file is stored as
/// no batch: `unstored` is (the same dry run, `validate` of the file).
pub fn summary_lines_of(
    plan: &Plan,
    file: &ImportFile,
    invite: bool,
    unstored: Option<(&str, &str)>,
) -> Vec<String> {
    let mut lines = Vec::new();
    let per_field = updates_per_field(plan);
    if !per_field.is_empty() {
        let parts: Vec<String> = per_field
            .iter()
            .map(|(f, n)| format!("{f} {}", thousands(*n)))
            .collect();
        lines.push(format!("updates per field: {}", parts.join(", ")));
    }
    lines.extend(top_lines(plan));
    for (severity, what) in [(Severity::Error, "invalid"), (Severity::Warning, "warning")] {
        let mut groups = match severity {
            Severity::Warning => grouped(&file.problems, severity, &plan.unknown_groups),
            Severity::Error => grouped_problems(&file.problems, severity),
        };
        add_dropped(&mut groups, file, severity);
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
            // `validate FILE` checks no Group ID against the store: the dry run's JSON has
            // every unknown group.
            let all = match (unstored, severity) {
                (None, _) => format!(
                    "{} validate --batch {}",
                    crate::core::command::roster(),
                    plan.batch
                ),
                (Some((dry_run, _)), Severity::Warning) => format!("{dry_run} --format json"),
                (Some((_, validate)), Severity::Error) => validate.to_string(),
            };
            let more = format!(
                "{what}: … and {} more kinds, {}",
                thousands((groups.len() - WARNING_GROUPS) as u64),
                records(rest),
            );
            lines.extend(more_lines(&more, &all));
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
            "mail reused: … and {} more ({} diff --format json)",
            thousands((plan.mail_reused.len() - WARNING_GROUPS) as u64),
            crate::core::command::roster()
        ));
    }
    let created = plan.counts.create;
    if invite && created > 0 {
        lines.push(super::top::invitations_line(
            created,
            plan.invitations_per_minute,
        ));
    } else if created > 0 {
        lines.push("invitations: none (import.send_invitations is off)".to_string());
    }
    lines
}

/// `… and N more kinds, M records (COMMAND)` in lines that a wrap leaves whole: on one line
/// when it fits, else the command on lines of its own, broken before an option with ` \\`,
/// so that a long path never splits it where a shell would not join it again.
fn more_lines(more: &str, command: &str) -> Vec<String> {
    let line = format!("{more} ({command})");
    if line.chars().count() <= super::grid::WIDTH {
        return vec![line];
    }
    let mut lines = vec![format!("{more}, listed by:")];
    for l in super::grid::command_lines(command, super::grid::WIDTH - 2) {
        lines.push(format!("  {l}"));
    }
    lines
}

/// `plan digest: 3f9a0c1b7d2e`: what `roster apply --expect-plan` takes.
pub fn digest_line(plan: &Plan, file: &ImportFile) -> String {
    format!("plan digest: {}", plan.digest(file))
}

/// The most common value changes of each field, a line a field:
/// `title: Nurse → Carer 4,089; Doctor → Physician 1,146`.
fn top_lines(plan: &Plan) -> Vec<String> {
    top_changes(plan)
        .iter()
        .map(|(field, changes)| super::top::line(field, changes))
        .collect()
}

/// The changes a selection lists, one line each, then `… and N more`.
pub fn write_changes(out: &mut impl Write, view: &PlanView<'_>) -> io::Result<()> {
    let (listed, more) = view.listed();
    if listed > 0 {
        let mut grid = Grid::new(["Action", "UniqueID", "Name", "Mail", "Changes"]);
        for c in view.selected().take(listed) {
            grid.measure(&row(view, &c));
        }
        grid.write_header(out)?;
        for c in view.selected().take(listed) {
            grid.write_row(out, &row(view, &c))?;
        }
    }
    if more > 0 {
        let again = match &view.shown.unstored {
            Some((dry_run, _)) => format!("{dry_run} --all"),
            None => view.shown.diff_all(),
        };
        writeln!(
            out,
            "… and {} more ({again}, or --format json)",
            thousands(more as u64)
        )?;
    }
    Ok(())
}

/// Field changes in a cell: `title: Nurse → Head nurse; phone: (none) → +46701234567`.
pub fn field_changes<'a>(fields: impl IntoIterator<Item = &'a FieldChange>) -> String {
    fields
        .into_iter()
        .map(|f| {
            format!(
                "{}: {} → {}",
                f.field,
                f.old.as_deref().unwrap_or("(none)"),
                f.new.as_deref().unwrap_or("(none)")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A plan in a table: the counts line is the caller's; then the summary lines and the
/// changes the selection lists.
pub fn write_plan(out: &mut impl Write, view: &PlanView<'_>, invite: bool) -> io::Result<()> {
    for line in summary_lines(view.plan, view.file, invite) {
        super::grid::write_wrapped(out, &line)?;
    }
    write_changes(out, view)
}

/// One change as a table row: action, UniqueID, name, mail, and what changes.
fn row(view: &PlanView<'_>, c: &Change) -> [String; 5] {
    let PlanView { plan, file, .. } = *view;
    let record = match c.entry().and_then(|i| file.entries.get(i)) {
        Some(Entry::Valid(r)) => Some(r),
        _ => None,
    };
    let absent: Option<&UserState> = c.pk().and_then(|pk| plan.absent_users.get(&pk));
    let (name, mail): (&str, &str) = match (c.action, c.state(), absent, record) {
        (_, Some(new), _, _) => (&new.name, &new.mail),
        (_, None, Some(u), _) => (&u.name, &u.mail),
        (_, None, None, Some(r)) => (r.name(), r.mail()),
        _ => (c.name().unwrap_or(""), ""),
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
            if let Some(status) = c.fields().iter().find(|f| f.field == "status") {
                parts.push(status.new.clone().unwrap_or_default());
            }
            if let Some(u) = absent {
                parts.push(if u.groups.is_empty() {
                    "no groups".to_string()
                } else {
                    format!("groups {}", u.groups.join(","))
                });
            }
            if let Some(n) = c.absent() {
                parts.push(format!(
                    "absent from {n} file{} in a row",
                    if n == 1 { "" } else { "s" }
                ));
            }
            parts.join("; ")
        }
        Action::Invalid => {
            let line = c.line().unwrap_or(0);
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
        _ => field_changes(c.fields()),
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
    /// Every problem of the file, when `file` kept only its first ones: streamed into
    /// `problems`, never held (SPEC §5).
    pub each_problem: Option<EachProblem<'a>>,
    /// Why a run was rejected or blocked.
    pub reason: Option<&'a str>,
    /// Who ran it, `--reason` and the `--allow-*` flags (SPEC §6: `by`, `reason`, `overrides`).
    pub operator: Option<&'a Operator<'a>>,
    /// A dry run: what a safeguard would block (`None`: nothing), as `would_block`.
    pub would_block: Option<Option<WouldBlock<'a>>>,
    /// A dry run: the file error a real run would reject the file for (`None`: none), as
    /// `would_reject`.
    pub would_reject: Option<Option<&'a Problem>>,
}

/// What a dry run says a safeguard would block: what would trip, and the one command that
/// would then proceed (the plan's digest is the document's `plan_digest`).
#[derive(Debug, Serialize)]
pub struct WouldBlock<'a> {
    pub tripped: String,
    pub command: &'a str,
}

/// Who ran a run, why, and the limits raised for it, as apply's JSON shows them.
#[derive(Debug, Serialize)]
pub struct Operator<'a> {
    pub by: &'a str,
    pub reason: Option<&'a str>,
    pub overrides: serde_json::Value,
}

impl OutcomeView<'_> {
    /// The document, written as it goes; the plan's changes as [`PlanView::write_json`]
    /// writes them.
    pub fn write_json(&self, out: &mut impl Write) -> io::Result<()> {
        let entry = |out: &mut dyn Write, key: &str, value: &dyn erased::Value| -> io::Result<()> {
            write!(out, ",\"{key}\":")?;
            value.write(out)
        };
        out.write_all(b"{\"run\":")?;
        super::write_json(out, &self.run)?;
        entry(out, "batch", &self.batch)?;
        entry(out, "status", &self.status)?;
        if let Some(would_block) = &self.would_block {
            entry(out, "would_block", would_block)?;
        }
        if let Some(would_reject) = &self.would_reject {
            entry(out, "would_reject", would_reject)?;
        }
        entry(out, "counts", &self.plan.map(|p| p.plan.counts))?;
        entry(
            out,
            "plan_digest",
            &self.plan.map(|p| p.plan.digest(self.file)),
        )?;
        out.write_all(b",\"plan\":")?;
        match &self.plan {
            Some(view) => view.write_json(out)?,
            None => out.write_all(b"null")?,
        }
        entry(
            out,
            "problems",
            &Errors(
                self.file,
                self.plan.map(|p| &p.plan.unknown_groups),
                self.each_problem,
            ),
        )?;
        // No plan (a rejected file): none will be sent.
        entry(
            out,
            "invitations",
            &self.plan.map_or(0, |p| p.plan.invitations),
        )?;
        match self.operator {
            // `reason` is the operator's; the block or rejection is the `message`.
            Some(op) => {
                entry(out, "by", &op.by)?;
                entry(out, "reason", &op.reason)?;
                entry(out, "overrides", &op.overrides)?;
                entry(out, "message", &self.reason)?;
            }
            None => entry(out, "reason", &self.reason)?,
        }
        out.write_all(b"}")
    }
}

/// A value that serde writes, behind `dyn` (so that one closure writes entries of any type).
mod erased {
    use std::io::{self, Write};

    pub trait Value {
        fn write(&self, out: &mut dyn Write) -> io::Result<()>;
    }

    impl<T: serde::Serialize> Value for T {
        fn write(&self, mut out: &mut dyn Write) -> io::Result<()> {
            super::super::write_json(&mut out, self)
        }
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
    Option<EachProblem<'a>>,
);

impl Serialize for Errors<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = s.serialize_seq(None)?;
        match self.2 {
            Some(each) => {
                let mut failed = None;
                let told = each(&mut |p| {
                    if !p.is_error() {
                        return Ok(());
                    }
                    seq.serialize_element(p).map_err(|e| {
                        failed = Some(e);
                        io::Error::other("the problems could not be written")
                    })
                });
                if let Some(e) = failed {
                    return Err(e);
                }
                told.map_err(S::Error::custom)?;
            }
            None => {
                for p in self.0.problems.iter().filter(|p| p.is_error()) {
                    seq.serialize_element(p)?;
                }
            }
        }
        // The file's other warnings (`unknown-column`, `encoding-fallback`) are a few per
        // file, each in full; `unknown-group` comes below, each ID once with its records (a
        // plan counts them; a warning of a record, should the file have been checked record
        // by record, is left out here).
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

/// The head line of a dry run of a file that a real run would reject, which has no plan and
/// so no counts: `batch 3: dry-run, would be rejected — line 1, column Mail: … (missing-column)`
/// (no batch when the fetch refused the file).
pub fn would_reject_line(batch: Option<i64>, problem: &Problem) -> String {
    let batch = batch.map_or(String::new(), |b| format!("batch {b}: "));
    format!(
        "{batch}dry-run, would be rejected — {}",
        super::message(&problem.to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_written_as_serde_writes_them() {
        let file = crate::input::read(
            "UniqueID,Name,Mail,Title,TelephoneNumber,Groups\n\
             E1,\"Åsa \"\"Ö\\\",asa@example.se,Nurse,+46701234567,\"ICU,X,NIGHT\"\n\
             E2,Bo,bo@example.se,,,\n"
                .as_bytes(),
            &crate::input::ReadOptions::default(),
        );
        let hostile = "a\u{1}\u{8}\u{c}\n\r\t\"\\\u{7f}é\u{202e}";
        let change = |action, uid: Option<&str>, pk, entry, line| {
            Change::new(action, uid.map(str::to_string), pk, entry, line)
        };
        let mut plan = Plan {
            group_ids: ["ICU".to_string(), "NIGHT".to_string()].into(),
            ..Plan::default()
        };
        plan.absent_users.insert(
            7,
            UserState {
                mail: format!("{hostile}@example.se"),
                groups: vec!["ICU".into(), hostile.into()],
                ..UserState::default()
            },
        );
        let mut update = change(
            Action::Update,
            Some(hostile),
            Some(3),
            None,
            Some(12_345_678_901),
        );
        update.set_fields(vec![
            FieldChange {
                field: "title",
                old: Some(hostile.into()),
                new: None,
            },
            FieldChange {
                field: "phone",
                old: None,
                new: Some("+4670".into()),
            },
        ]);
        let mut remove = change(Action::Remove, Some("E9"), Some(7), None, None);
        remove.set_name(Some(hostile.into()));
        remove.set_absent(Some(3));
        plan.changes = vec![
            change(Action::Create, Some("E1"), None, Some(0), Some(2)),
            change(Action::Create, Some("E2"), None, Some(1), Some(3)),
            update,
            remove,
            change(Action::Missing, Some("E8"), Some(8), None, None),
            change(Action::Invalid, None, None, None, Some(0)),
        ];
        let shown = Selection::default();
        let view = PlanView::new(&plan, &file, &shown);
        for c in &plan.changes {
            let mut mine = Vec::new();
            view.write_change(&mut mine, c);
            let serde = serde_json::to_vec(&view.change(c)).unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&mine),
                String::from_utf8_lossy(&serde)
            );
        }
        let mut doc = Vec::new();
        view.write_json(&mut doc).unwrap_or_default();
        let doc: serde_json::Value = serde_json::from_slice(&doc).unwrap_or_default();
        assert_eq!(doc["changes"].as_array().map(Vec::len), Some(6));
        assert_eq!(doc["changes"][0]["fields"][4]["new"], "ICU,NIGHT");
    }

    #[test]
    fn warnings_group_by_code_and_value() {
        let group = |line, id: &str, msg: &str| {
            Problem::new(Some(line), Some("Groups"), Code::UnknownGroup, msg).with_value(id)
        };
        let problems = vec![
            group(2, "INTMED", "no group has the ID `INTMED`; ignored"),
            // The message is reworded (import.unknown_groups = "create"): same group.
            group(
                3,
                "INTMED",
                "no group has the ID `INTMED`; the group is created",
            ),
            // A value with backticks of its own, and a message that quotes something else first.
            group(3, "A`B", "no group has the ID `A`B`; ignored"),
            group(4, "X", "`Groups` names `X`, which no group has"),
            Problem::new(
                Some(1),
                Some("Extra"),
                Code::UnknownColumn,
                "the column `Extra` is not known",
            )
            .with_value("Extra"),
            Problem::new(
                Some(1),
                None,
                Code::UnknownColumn,
                "2 more columns are not known",
            ),
            Problem::new(
                Some(4),
                Some("Mail"),
                Code::BadMail,
                "the mail `a@` is not valid",
            ),
            Problem::new(
                Some(5),
                Some("Mail"),
                Code::BadMail,
                "the mail `b@` is not valid",
            ),
        ];
        assert_eq!(
            grouped_problems(&problems, Severity::Warning),
            vec![
                (Code::UnknownGroup, "INTMED", 2),
                (Code::UnknownColumn, "", 1),
                (Code::UnknownColumn, "Extra", 1),
                (Code::UnknownGroup, "A`B", 1),
                (Code::UnknownGroup, "X", 1),
            ]
        );
        assert_eq!(
            grouped_problems(&problems, Severity::Error),
            vec![(Code::BadMail, "", 2)]
        );
        let unknown = crate::core::problem::unknown_groups(&problems);
        assert_eq!(
            unknown.into_iter().collect::<Vec<_>>(),
            vec![
                ("A`B".to_string(), 1),
                ("INTMED".to_string(), 2),
                ("X".to_string(), 1)
            ]
        );
    }
}

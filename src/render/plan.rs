//! Rendering a plan: counts per case, then each change with field-level old → new.

use crate::core::file::ImportFile;
use crate::core::plan::{Action, Counts, FieldChange, Plan};
use serde::Serialize;

/// One change as JSON shows it (SPEC §6).
#[derive(Debug, Serialize)]
pub struct ChangeView<'a> {
    pub action: Action,
    pub unique_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absent: Option<u32>,
    pub fields: std::borrow::Cow<'a, [FieldChange]>,
}

/// The plan document of `diff`, and `"plan"` inside `apply`'s output.
#[derive(Debug, Serialize)]
pub struct PlanView<'a> {
    pub batch: i64,
    pub counts: Counts,
    pub changes: Vec<ChangeView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub safeguards: Vec<&'a crate::core::plan::Tripped>,
}

impl<'a> PlanView<'a> {
    pub fn new(plan: &'a Plan, file: &ImportFile) -> Self {
        PlanView {
            batch: plan.batch,
            counts: plan.counts,
            changes: plan
                .changes
                .iter()
                .map(|c| ChangeView {
                    action: c.action,
                    unique_id: c.unique_id.as_deref(),
                    line: c.line,
                    name: if matches!(c.action, Action::Remove | Action::Missing) {
                        c.name.as_deref()
                    } else {
                        None
                    },
                    absent: c.absent,
                    fields: plan.fields(c, file),
                })
                .collect(),
            safeguards: plan.tripped.iter().collect(),
        }
    }
}

pub fn counts_line(c: &Counts) -> String {
    format!(
        "create {}, adopt {}, update {}, reactivate {}, remove {}, missing {}, unchanged {}, skipped {}, invalid {}",
        c.create, c.adopt, c.update, c.reactivate, c.remove, c.missing, c.unchanged, c.skipped, c.invalid
    )
}

pub fn counts_table(c: &Counts) -> String {
    let mut t = super::table([
        "create",
        "adopt",
        "update",
        "reactivate",
        "remove",
        "missing",
        "unchanged",
        "skipped",
        "invalid",
    ]);
    t.add_row(
        [
            c.create,
            c.adopt,
            c.update,
            c.reactivate,
            c.remove,
            c.missing,
            c.unchanged,
            c.skipped,
            c.invalid,
        ]
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>(),
    );
    t.to_string()
}

/// Every change, a row per field.
pub fn changes_table(plan: &Plan, file: &ImportFile) -> String {
    let mut t = super::table(["Action", "UniqueID", "Field", "Old", "New"]);
    for c in &plan.changes {
        let uid = c.unique_id.clone().unwrap_or_default();
        let fields = plan.fields(c, file);
        if fields.is_empty() {
            let note = match (c.action, c.absent, c.line) {
                (Action::Missing, Some(n), _) => format!("absent from {n} file(s) in a row"),
                (Action::Invalid, _, Some(line)) => format!("line {line}: see roster validate"),
                _ => String::new(),
            };
            t.add_row(vec![
                c.action.as_str().to_string(),
                uid,
                String::new(),
                String::new(),
                note,
            ]);
            continue;
        }
        for f in fields.iter() {
            t.add_row(vec![
                c.action.as_str().to_string(),
                uid.clone(),
                f.field.to_string(),
                f.old.clone().unwrap_or_default(),
                f.new.clone().unwrap_or_default(),
            ]);
        }
    }
    t.to_string()
}

/// The document `apply` and `sync` print with `--format json` (SPEC §6).
pub fn outcome_document(
    run: Option<i64>,
    batch: i64,
    status: &str,
    plan: Option<&Plan>,
    file: &ImportFile,
    reason: Option<&str>,
) -> serde_json::Value {
    let problems: Vec<_> = file.problems.iter().filter(|p| p.is_error()).collect();
    serde_json::json!({
        "run": run,
        "batch": batch,
        "status": status,
        "counts": plan.map(|p| p.counts),
        "plan": plan.map(|p| PlanView::new(p, file)),
        "problems": problems,
        "reason": reason,
    })
}

/// The one-line summary of an apply: `run 12, batch 7: applied — create 1, …`.
pub fn outcome_line(run: Option<i64>, batch: i64, status: &str, counts: &Counts) -> String {
    let run = run.map_or(String::new(), |r| format!("run {r}, "));
    format!("{run}batch {batch}: {status} — {}", counts_line(counts))
}

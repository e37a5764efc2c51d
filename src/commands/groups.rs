//! `roster groups`: list, add, rename, remove, members, import.

use super::Context;
use crate::cli::{Format, GroupsCommand};
use crate::core::problem::Code;
use crate::core::record::trim;
use crate::error::{self, Error};
use crate::input;
use crate::render;
use crate::store::users::Filter;
use crate::store::Store;

pub fn run(ctx: &Context, cmd: &GroupsCommand) -> anyhow::Result<()> {
    let mut store = Store::open(ctx.config.store_path())?;
    store.operator.reason = cmd.reason().map(str::to_string);
    let say = |text: String| -> anyhow::Result<()> {
        if !ctx.quiet {
            render::emit(&text)?;
        }
        Ok(())
    };
    match cmd {
        GroupsCommand::List => {
            let groups = store.groups()?;
            match ctx.format(&[Format::Table, Format::Json])? {
                Format::Json => render::json(&groups)?,
                _ => {
                    let mut t = render::table(["ID", "Name", "Members", "Managed by"]);
                    for g in &groups {
                        t.add_row(vec![
                            render::opt(g.id.as_deref()),
                            g.name.clone(),
                            g.members.to_string(),
                            if g.id.is_some() {
                                "import".into()
                            } else {
                                "hand".to_string()
                            },
                        ]);
                    }
                    render::emit(&t.to_string())?;
                }
            }
        }
        GroupsCommand::Add { id, name, .. } => {
            let id = id.as_deref().map(trim).filter(|i| !i.is_empty());
            let name = checked_name(name)?;
            store.add_group(id, &name)?;
            store.record_group_run("groups add")?;
            say(match id {
                Some(id) => format!("added group {id} ({name}), managed by imports"),
                None => format!("added manual group {name}"),
            })?;
        }
        GroupsCommand::Rename { group, name, .. } => {
            let g = store.require_group(group)?;
            let name = checked_name(name)?;
            store.rename_group(g.pk, &name)?;
            store.record_group_run("groups rename")?;
            say(format!("renamed {} to {name}", g.name))?;
        }
        GroupsCommand::Remove { group, force, .. } => {
            let g = store.require_group(group)?;
            if g.members > 0 && !force {
                return Err(error::usage(format!(
                    "the group {} has {} members; to remove it and its memberships, run: roster groups remove {group} --force",
                    g.name, g.members
                )));
            }
            store.remove_group(g.pk)?;
            store.record_group_run("groups remove")?;
            say(format!("removed group {}", g.name))?;
        }
        GroupsCommand::Members {
            group, add, remove, ..
        } => {
            let g = store.require_group(group)?;
            if !add.is_empty() || !remove.is_empty() {
                if let Some(id) = &g.id {
                    return Err(error::usage(format!(
                        "the group {id} is managed by imports: its members come from the file's Groups column"
                    )));
                }
                // Resolve every user first, so that one unknown user changes nothing.
                let adds = add
                    .iter()
                    .map(|u| store.require_user(u))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let removes = remove
                    .iter()
                    .map(|u| store.require_user(u))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                store.set_members(g.pk, &adds, &removes)?;
            }
            let members = store.users(Filter::All, Some(g.pk), None)?;
            match ctx.format(&[Format::Table, Format::Json])? {
                Format::Json => render::json(&members)?,
                _ => {
                    let mut t = render::table(["UniqueID", "Name", "Mail", "Status"]);
                    for u in &members {
                        t.add_row(vec![
                            render::opt(u.unique_id.as_deref()),
                            u.name.clone(),
                            u.mail.clone(),
                            u.status.to_string(),
                        ]);
                    }
                    render::emit(&t.to_string())?;
                }
            }
        }
        GroupsCommand::Import { file, .. } => {
            let bytes = std::fs::read(file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let groups = read_group_file(&bytes, &ctx.config)
                .map_err(|m| Error::Rejected(format!("{}: {m}", file.display())))?;
            let result = store.import_groups(&groups)?;
            store.record_group_run("groups import")?;
            match ctx.format(&[Format::Table, Format::Json])? {
                Format::Json => render::json(&result)?,
                _ => say(format!(
                    "groups: {} added, {} renamed, {} unchanged",
                    result.added, result.renamed, result.unchanged
                ))?,
            }
        }
    }
    Ok(())
}

fn checked_name(name: &str) -> anyhow::Result<String> {
    let name = trim(name);
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(error::usage(
            "a group name must not be empty nor contain control characters",
        ));
    }
    Ok(name.to_string())
}

/// Read a group file: a `GroupID` column and an optional `Name` column.
fn read_group_file(
    bytes: &[u8],
    config: &crate::config::Config,
) -> Result<Vec<(String, Option<String>)>, String> {
    let text = input::decode_text(bytes, config.csv.encoding).map_err(|p| p.message)?;
    let mut reader = input::csv_reader(&text, config.csv.delimiter, true);
    let header = reader
        .headers()
        .map_err(|e| format!("{}: {e}", Code::NotCsv))?
        .clone();
    let find = |name: &str| {
        header
            .iter()
            .position(|h| trim(h.trim_start_matches('\u{feff}')).eq_ignore_ascii_case(name))
    };
    let id_col = find("GroupID").ok_or("the GroupID column is missing")?;
    let name_col = find("Name");
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| format!("not CSV: {e}"))?;
        let line = rec.position().map_or(i as u64 + 2, |p| p.line());
        let id = trim(rec.get(id_col).unwrap_or(""));
        if id.is_empty() {
            return Err(format!(
                "line {line}, column GroupID: the Group ID is empty"
            ));
        }
        if id.chars().any(char::is_control) {
            return Err(format!(
                "line {line}, column GroupID: the Group ID contains a control character"
            ));
        }
        if !seen.insert(id.to_string()) {
            return Err(format!(
                "line {line}, column GroupID: `{id}` appears more than once"
            ));
        }
        let name = name_col
            .and_then(|c| rec.get(c))
            .map(trim)
            .filter(|n| !n.is_empty());
        if name.is_some_and(|n| n.chars().any(char::is_control)) {
            return Err(format!(
                "line {line}, column Name: the name contains a control character"
            ));
        }
        out.push((id.to_string(), name.map(str::to_string)));
    }
    if out.is_empty() {
        return Err("the file has no groups".into());
    }
    Ok(out)
}

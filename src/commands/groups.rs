//! `roster groups`: list, add, rename, remove, members, import.

use super::Context;
use crate::cli::{Format, GroupsCommand};
use crate::core::record::{chars_over, quoted, trim, unnameable_group_id};
use crate::error::{self, Error};
use crate::input;
use crate::render;
use crate::store::users::Filter;
use crate::store::Store;

pub fn run(ctx: &Context, cmd: &GroupsCommand) -> anyhow::Result<()> {
    let writes = match cmd {
        GroupsCommand::List => false,
        GroupsCommand::Members { add, remove, .. } => !add.is_empty() || !remove.is_empty(),
        _ => true,
    };
    let _lock = if writes {
        Some(super::writer_lock(ctx)?)
    } else {
        None
    };
    let mut store = Store::open(ctx.config.store_path())?;
    store.operator.reason = cmd.reason().map(str::to_string);
    match cmd {
        GroupsCommand::List => list(ctx, &store),
        GroupsCommand::Add { id, name, .. } => add(ctx, &store, id.as_deref(), name),
        GroupsCommand::Rename { group, name, .. } => rename(ctx, &store, group, name),
        GroupsCommand::Remove { group, force, .. } => remove(ctx, &mut store, group, *force),
        GroupsCommand::Members {
            group, add, remove, ..
        } => members(ctx, &store, group, add, remove),
        GroupsCommand::Import { file, encoding, .. } => {
            import(ctx, &mut store, file, encoding.as_deref())
        }
    }
}

/// `groups list`: every group, its members and who manages it.
fn list(ctx: &Context, store: &Store) -> anyhow::Result<()> {
    let groups = store.groups()?;
    if ctx.format(&[Format::Table, Format::Json])? == Format::Json {
        return Ok(render::json(&groups)?);
    }
    let mut t = render::table(["ID", "Name", "Members", "Deactivated", "Managed by"]);
    for g in &groups {
        t.add_row(vec![
            render::opt(g.id.as_deref()),
            render::cell(&g.name),
            g.members.to_string(),
            g.deactivated.to_string(),
            if g.id.is_some() {
                "import".into()
            } else {
                "hand".to_string()
            },
        ]);
    }
    render::emit(&t.to_string())?;
    Ok(())
}

/// `groups add`: a manual group, or one with an ID that imports then manage.
fn add(ctx: &Context, store: &Store, id: Option<&str>, name: &str) -> anyhow::Result<()> {
    let id = checked_id(ctx, id)?;
    let name = checked_name(ctx, name)?;
    store.add_group(id, &name)?;
    ctx.say(&match id {
        Some(id) => format!("added group {id} ({name}), managed by imports"),
        None => format!("added manual group {name}"),
    })
}

fn rename(ctx: &Context, store: &Store, group: &str, name: &str) -> anyhow::Result<()> {
    let g = store.require_group(group)?;
    let name = checked_name(ctx, name)?;
    store.rename_group(g.pk, &name)?;
    ctx.say(&format!("renamed {} to {name}", g.name))
}

/// `groups remove`: a group with members only with `--force`.
fn remove(ctx: &Context, store: &mut Store, group: &str, force: bool) -> anyhow::Result<()> {
    let g = store.require_group(group)?;
    if g.members + g.deactivated > 0 && !force {
        // The command as a shell takes it: a group's name may hold spaces.
        let word = crate::core::command::arg_then(group, "--force");
        let roster = crate::core::command::roster();
        return Err(error::usage(format!(
            "the group {} has {} members ({} deactivated); to remove it and its memberships, run: {roster} groups remove {word}",
            g.name,
            g.members + g.deactivated,
            g.deactivated
        )));
    }
    store.remove_group(g.pk)?;
    ctx.say(&format!("removed group {}", g.name))
}

/// `groups members`: the members of a group, after adding and removing manual members.
fn members(
    ctx: &Context,
    store: &Store,
    group: &str,
    add: &[String],
    remove: &[String],
) -> anyhow::Result<()> {
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
    if ctx.format(&[Format::Table, Format::Json])? == Format::Json {
        return Ok(render::json(&members)?);
    }
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
    Ok(())
}

/// `groups import FILE`: the groups of a file of Group IDs and names, added or renamed.
fn import(
    ctx: &Context,
    store: &mut Store,
    file: &std::path::Path,
    encoding: Option<&str>,
) -> anyhow::Result<()> {
    let groups = read_group_file(ctx, file, encoding)?;
    let result = store.import_groups(&groups)?;
    match ctx.format(&[Format::Table, Format::Json])? {
        Format::Json => Ok(render::json(&result)?),
        _ => ctx.say(&format!(
            "groups: {} added, {} renamed, {} unchanged",
            result.added, result.renamed, result.unchanged
        )),
    }
}

/// The Group ID of `groups add`: none (a manual group), or one that an import file can name.
fn checked_id<'a>(ctx: &Context, id: Option<&'a str>) -> anyhow::Result<Option<&'a str>> {
    let Some(id) = id.filter(|i| !trim(i).is_empty()) else {
        return Ok(None);
    };
    let csv = &ctx.config.csv;
    match unnameable_group_id(id, &csv.group_separator, csv.max_cell_chars) {
        Some(why) => Err(error::usage(format!(
            "{why}: no import file could name the group `{}`",
            quoted(id)
        ))),
        None => Ok(Some(id)),
    }
}

/// Read the file of `groups import` in its own encoding (detected unless `--encoding` names
/// it; `csv.encoding` is for import files): exit 2 for a Group ID no file could name, 3 for a
/// file that is not a group file.
fn read_group_file(
    ctx: &Context,
    file: &std::path::Path,
    encoding: Option<&str>,
) -> anyhow::Result<Vec<(String, Option<String>)>> {
    let encoding = match encoding {
        Some(name) => crate::config::parse_encoding(name)
            .map_err(|m| error::usage(format!("--encoding: {m}")))?,
        None => input::Encoding::Auto,
    };
    let bytes =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let csv = &ctx.config.csv;
    let id_rules = (csv.group_separator.as_str(), csv.max_cell_chars);
    input::groups::read(&bytes, encoding, csv.delimiter, id_rules).map_err(|e| {
        let message = format!("{}: {e}", file.display());
        match e {
            input::groups::GroupFileError::Refused(_) => error::usage(message),
            input::groups::GroupFileError::Unreadable(_) => Error::Rejected(message).into(),
        }
    })
}

fn checked_name(ctx: &Context, name: &str) -> anyhow::Result<String> {
    let name = trim(name);
    // Nothing longer than a file's cell may be is stored, by hand either (SPEC §1 `too-long`).
    let max = ctx.config.csv.max_cell_chars;
    if let Some(n) = chars_over(name, max) {
        return Err(error::usage(format!(
            "the group name has {n} characters; csv.max_cell_chars allows {max}"
        )));
    }
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(error::usage(
            "a group name must not be empty nor contain control characters",
        ));
    }
    Ok(name.to_string())
}

//! `roster users`: list, show, history, add, edit, remove, export.

use super::Context;
use crate::cli::{EditFields, Format, StatusFilter, UserFields, UsersCommand};
use crate::core::fold::fold_spaces;
// The export's cells are escaped by the rule of the report's attachments.
use crate::core::spreadsheet::escape_cell;
use crate::core::text::shell_option;
use crate::core::{mail, phone, record::trim};
use crate::error;
use crate::pipeline;
use crate::render;
use crate::render::plan::DEFAULT_LIMIT;
use crate::store::users::{AuditRow, Filter, ManualFields, UserView};
use crate::store::{Lock, Store};
use std::io::Write;

pub fn run(ctx: &Context, cmd: &UsersCommand) -> anyhow::Result<()> {
    let _lock = match cmd {
        UsersCommand::Add(_) | UsersCommand::Edit { .. } | UsersCommand::Remove { .. } => {
            Some(super::writer_lock(ctx)?)
        }
        _ => None,
    };
    let mut store = Store::open(ctx.config.store_path())?;
    store.operator.reason = cmd.reason().map(str::to_string);
    match cmd {
        UsersCommand::List {
            status,
            group,
            search,
            limit,
            all,
        } => list_users(
            ctx,
            &store,
            *status,
            group.as_deref(),
            search.as_deref(),
            *limit,
            *all,
        ),
        UsersCommand::Show { user } => show(ctx, &store, user),
        UsersCommand::History { user } => history(ctx, &store, user),
        UsersCommand::Add(f) => add(ctx, &mut store, f),
        UsersCommand::Edit { user, fields, .. } => edit(ctx, &mut store, user, fields),
        UsersCommand::Remove { user, .. } => remove(ctx, &mut store, user),
        UsersCommand::Invite {
            user,
            resend,
            pending,
            uninvited,
            group,
        } => {
            let who = Invitees {
                user: user.as_deref(),
                resend: *resend,
                uninvited: *uninvited,
                group: group.as_deref(),
            };
            invite(ctx, &store, &who, *pending)
        }
        UsersCommand::Export => export_users(ctx, &store),
    }
}

/// `users list`: the filters and the limit read from the flags, then the list.
fn list_users(
    ctx: &Context,
    store: &Store,
    status: Option<StatusFilter>,
    group: Option<&str>,
    search: Option<&str>,
    limit: Option<usize>,
    all: bool,
) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json])?;
    let filter = match status {
        None => Filter::All,
        Some(StatusFilter::Active) => Filter::Active,
        Some(StatusFilter::Deactivated) => Filter::Deactivated,
    };
    let group_pk = match group {
        Some(g) => Some(store.require_group(g)?.pk),
        None => None,
    };
    let shown = Shown {
        search: search.map(fold_spaces),
        every: every_command(status, group, search),
        limit: match (all, limit, format) {
            (true, _, _) => None,
            (false, Some(n), _) => Some(n),
            (false, None, Format::Json) => None,
            (false, None, _) => Some(DEFAULT_LIMIT),
        },
    };
    list(ctx, format, store, filter, group_pk, &shown)
}

/// `users show USER`: every field of one user and its invitation.
fn show(ctx: &Context, store: &Store, user: &str) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json])?;
    let mut u = store.user(store.require_user_or_name(user)?)?;
    u.invitation = store.invitation_of(u.pk)?;
    match format {
        Format::Json => Ok(render::json(&u)?),
        _ => show_table(&u),
    }
}

/// `users history USER`: the audit rows of a user, of a UniqueID no user has any more, or of
/// each user who had an address no user has now.
fn history(ctx: &Context, store: &Store, user: &str) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json])?;
    let histories = histories(store, user)?;
    if histories.is_empty() {
        return Err(error::usage(format!(
            "no user has the UniqueID, mail or name `{user}`, nor had"
        )));
    }
    if format == Format::Json {
        let rows: Vec<&AuditRow> = histories.iter().flat_map(|(_, rows)| rows).collect();
        return Ok(render::json(&rows)?);
    }
    for (head, rows) in &histories {
        if let Some(head) = head {
            render::emit(&render::message(head))?;
        }
        history_table(rows)?;
    }
    Ok(())
}

/// The histories `users history USER` shows: of the user that has the UniqueID or mail now;
/// else of the UniqueID's former user; else of the user of that name; else of every user who
/// had that address, in the order they were created, each headed by whom it is of.
fn histories(store: &Store, user: &str) -> anyhow::Result<Vec<(Option<String>, Vec<AuditRow>)>> {
    if let Some(pk) = store.find_user(user)? {
        return Ok(vec![(None, store.history(pk)?)]);
    }
    let by_id = store.history_by_unique_id(user)?;
    if !by_id.is_empty() {
        return Ok(vec![(None, by_id)]);
    }
    if let Some(pk) = store.find_user_or_name(user)? {
        return Ok(vec![(None, store.history(pk)?)]);
    }
    let mut out = Vec::new();
    for pk in store.former_holders(user)? {
        let rows = store.history(pk)?;
        let who = rows
            .iter()
            .find_map(|r| r.unique_id.clone())
            .unwrap_or_else(|| "a manual user".to_string());
        let head = format!("{who} had {}; no user has it now:", user.trim());
        out.push((Some(head), rows));
    }
    Ok(out)
}

/// `users add`: a manual user, its fields checked first.
fn add(ctx: &Context, store: &mut Store, f: &UserFields) -> anyhow::Result<()> {
    let fields = checked_add(ctx, f)?;
    let name = fields.name.clone().unwrap_or_default();
    let mail_addr = fields.mail.clone().unwrap_or_default();
    store.add_manual_user(&name, &mail_addr, &fields)?;
    ctx.say(&format!("added manual user {name} <{mail_addr}>"))
}

/// `users edit`: a manual user's fields, or only the phones of an imported one.
fn edit(ctx: &Context, store: &mut Store, user: &str, fields: &EditFields) -> anyhow::Result<()> {
    let pk = store.require_user(user)?;
    let current = store.user(pk)?;
    let changes = checked_edit(ctx, fields)?;
    if current.unique_id.is_some()
        && (changes.name.is_some() || changes.mail.is_some() || changes.title.is_some())
    {
        return Err(error::usage(format!(
            "{user} is managed by imports: only --phone and --phone2 may be edited by hand"
        )));
    }
    let n = store.edit_user(pk, &changes)?;
    ctx.say(&format!("{user}: {n} field(s) changed"))
}

/// `users remove`: a manual user only; an imported one goes when the file no longer has it.
fn remove(ctx: &Context, store: &mut Store, user: &str) -> anyhow::Result<()> {
    let pk = store.require_user(user)?;
    let current = store.user(pk)?;
    if let Some(uid) = &current.unique_id {
        return Err(error::usage(format!(
            "{uid} is managed by imports; it is removed when the file no longer has it"
        )));
    }
    store.remove_manual_user(pk)?;
    ctx.say(&format!("removed manual user {}", current.mail))
}

/// Whom `users invite` sends to: one user, the uninvited (of a group), or the pending only.
struct Invitees<'a> {
    user: Option<&'a str>,
    resend: bool,
    uninvited: bool,
    group: Option<&'a str>,
}

/// `users invite`: queue what the flags ask for, send the pending invitations, then say what
/// was sent and which were left in `sending` by a run that stopped.
fn invite(ctx: &Context, store: &Store, who: &Invitees, pending: bool) -> anyhow::Result<()> {
    let _lock = Lock::acquire(ctx.config.store_path())?;
    let mailer = pipeline::mailer(&ctx.config)?
        .ok_or_else(|| error::config("users invite needs a [mail] section"))?;
    let only = match (who.user, who.uninvited) {
        (Some(user), _) => queue_one(store, user, who.resend)?,
        (None, true) => Some(queue_uninvited(store, who.group)?),
        (None, false) => None,
    };
    let bar = render::progress::bar(0, "invitations", ctx.quiet);
    let sent = pipeline::send_invitations(
        store,
        &ctx.config,
        &mailer,
        only.as_deref(),
        &|done, all| {
            bar.set_length(all as u64);
            bar.set_position(done as u64);
        },
    )?;
    bar.finish_and_clear();
    let stuck = if pending {
        store.outbox_stuck()?
    } else {
        Vec::new()
    };
    match ctx.format(&[Format::Table, Format::Json])? {
        Format::Json => {
            let mut doc = serde_json::to_value(&sent)?;
            if pending {
                doc["sending"] = serde_json::json!(stuck
                    .iter()
                    .map(|(id, to)| serde_json::json!({"outbox": id, "mail": to}))
                    .collect::<Vec<_>>());
            }
            render::json(&doc)?
        }
        _ => ctx.say(&sent.summary())?,
    }
    if !ctx.quiet {
        warn_stuck(&stuck);
    }
    match sent.error {
        Some(e) => Err(anyhow::anyhow!("{e}")),
        None => Ok(()),
    }
}

/// The outbox rows to send for one user: a new invitation (or one sent again with
/// `--resend`), or its pending one; `None` when there is nothing of its own to send.
fn queue_one(store: &Store, user: &str, resend: bool) -> anyhow::Result<Option<Vec<i64>>> {
    let pk = store.require_user(user)?;
    let u = store.user(pk)?;
    if u.mail.is_empty() {
        return Err(error::usage(format!(
            "{user} has no mail address (it was given to another user, \
             import.reuse_mail_of_deactivated); nothing to invite"
        )));
    }
    let queued = match store.invitation_status(pk)?.as_deref() {
        Some(status @ ("sent" | "sending")) if !resend => {
            return Err(error::usage(format!(
                "{user} was already invited (status {status}); to send it again, run: {} users invite {}",
                crate::core::command::roster(),
                crate::core::command::arg_then(user, "--resend")
            )));
        }
        Some("pending") if !resend => None,
        _ => {
            store.outbox_close_stuck(pk, "sent again with roster users invite --resend")?;
            Some(vec![store.queue_invitation(pk, &u.mail)?])
        }
    };
    Ok(queued.or_else(|| {
        store.outbox_pending("invitation").ok().map(|rows| {
            rows.into_iter()
                .filter(|r| r.user_pk == Some(pk))
                .map(|r| r.id)
                .collect()
        })
    }))
}

/// An invitation queued for every user never invited (of `group`, when given).
fn queue_uninvited(store: &Store, group: Option<&str>) -> anyhow::Result<Vec<i64>> {
    let group = match group {
        Some(g) => Some(store.require_group(g)?.pk),
        None => None,
    };
    let users = store.uninvited_users(group)?;
    let mut ids = Vec::with_capacity(users.len());
    for (pk, mail) in users {
        ids.push(store.queue_invitation(pk, &mail)?);
    }
    Ok(ids)
}

/// The invitations a stopped run left in `sending`, on stderr: they are never resent on their
/// own.
fn warn_stuck(stuck: &[(i64, String)]) {
    if stuck.is_empty() {
        return;
    }
    eprintln!(
        "roster: {} invitation(s) were left in `sending` by a run that stopped while it sent them; \
         they may have arrived and are never resent on their own. Ask the recipients (or read the \
         mail server's log), then for each that did not arrive run: {} users invite MAIL --resend",
        stuck.len(),
        crate::core::command::roster()
    );
    for (_, to) in stuck.iter().take(20) {
        eprintln!("  {to}");
    }
    if stuck.len() > 20 {
        eprintln!(
            "  … and {} more ({} users invite --pending --format json)",
            crate::render::thousands((stuck.len() - 20) as u64),
            crate::core::command::roster()
        );
    }
}

/// `users export`: the active imported users in the import format.
fn export_users(ctx: &Context, store: &Store) -> anyhow::Result<()> {
    let bar = render::progress::stage("exporting users");
    let users = store.users(Filter::Active, None, None)?;
    let bytes = export(&users, &ctx.config.csv.group_separator);
    bar.finish_and_clear();
    render::emit_bytes(&bytes?)?;
    Ok(())
}

/// `users show` in a table: one row a field.
fn show_table(u: &UserView) -> anyhow::Result<()> {
    let mut t = render::table(["Field", "Value"]);
    let rows: [(&str, String); 13] = [
        ("UniqueID", render::opt(u.unique_id.as_deref())),
        ("Name", u.name.clone()),
        ("Mail", u.mail.clone()),
        ("Title", render::opt(u.title.as_deref())),
        ("Phone", render::opt(u.phone.as_deref())),
        ("Phone 2", render::opt(u.phone2.as_deref())),
        ("Groups", u.groups.join(", ")),
        ("Manual groups", u.manual_groups.join(", ")),
        ("Status", u.status.to_string()),
        ("Source", u.source.to_string()),
        ("Created", u.created_at.clone()),
        ("Updated", u.updated_at.clone()),
        ("Invitation", invitation_text(&u.invitation)),
    ];
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    render::emit(&t.to_string())?;
    Ok(())
}

/// `users history` in a table of 100 columns: when, which run, who and why, and the change
/// as `field: old → new` (a created or deleted user's stored row is in JSON only).
fn history_table(rows: &[AuditRow]) -> anyhow::Result<()> {
    let mut grid = render::grid::Grid::new(["Time", "Run", "Change", "By", "Reason"]);
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let change = match (r.old.as_deref(), r.new.as_deref()) {
                (_, Some(v)) | (Some(v), None) if v.starts_with('{') => r.field.clone(),
                (old, new) => format!(
                    "{}: {} → {}",
                    r.field,
                    old.unwrap_or("(none)"),
                    new.unwrap_or("(none)")
                ),
            };
            let by = match (r.command.as_deref(), r.by.as_deref()) {
                (Some(c), Some(b)) => format!("{c}, {b}"),
                (c, b) => c.or(b).unwrap_or("").to_string(),
            };
            // `2026-12-07T07:51:19Z` → `2026-12-07 07:51`.
            let at: String = r.at.replacen('T', " ", 1).chars().take(16).collect();
            let row = [
                render::cell(&at),
                match (r.run, r.reverted_by) {
                    (Some(run), Some(by)) => format!("{run} (reverted by run {by})"),
                    (run, _) => run.map_or("by hand".to_string(), |r| r.to_string()),
                },
                render::cell(&change),
                render::cell(&by),
                render::opt(r.reason.as_deref()),
            ];
            grid.measure(&row);
            row
        })
        .collect();
    let mut out = render::stdout();
    grid.write_header(&mut out)?;
    for row in &cells {
        grid.write_row(&mut out, row)?;
    }
    out.flush()?;
    Ok(())
}

fn invitation_text(state: &serde_json::Value) -> String {
    match state {
        serde_json::Value::Null => "-".into(),
        serde_json::Value::String(s) => s.clone(),
        other => format!("sent {}", other["sent"].as_str().unwrap_or("")),
    }
}

/// Which users `users list` prints: those whose UniqueID, name, mail or title contains the
/// folded search text, at most `limit` of them.
struct Shown {
    search: Option<String>,
    limit: Option<usize>,
    /// The command that lists every user shown: the same filters and search, `--all`.
    every: String,
}

/// `roster users list [--status S] [--group G] [--search TEXT] --all`, each value quoted for a
/// shell when it needs it.
fn every_command(
    status: Option<StatusFilter>,
    group: Option<&str>,
    search: Option<&str>,
) -> String {
    let mut command = format!("{} users list", crate::core::command::roster());
    match status {
        Some(StatusFilter::Active) => command.push_str(" --status active"),
        Some(StatusFilter::Deactivated) => command.push_str(" --status deactivated"),
        None => {}
    }
    for (flag, value) in [("--group", group), ("--search", search)] {
        if let Some(value) = value {
            command.push_str(&format!(" {}", shell_option(flag, value)));
        }
    }
    command.push_str(" --all");
    command
}

impl Shown {
    fn matches(&self, u: &UserView) -> bool {
        let Some(want) = &self.search else {
            return true;
        };
        [
            u.unique_id.as_deref(),
            Some(u.name.as_str()),
            Some(u.mail.as_str()),
            u.title.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|v| fold_spaces(v).contains(want.as_str()))
    }
}

/// `users list`: JSON written user by user as the store reads them; a table of one line per
/// user, at most the limit, then how many more. With `-q` the users are read and nothing is
/// printed.
fn list(
    ctx: &Context,
    format: Format,
    store: &Store,
    filter: Filter,
    group: Option<i64>,
    shown: &Shown,
) -> anyhow::Result<()> {
    if ctx.quiet {
        return store.each_user(filter, group, |_| Ok(()));
    }
    let limit = shown.limit.unwrap_or(usize::MAX);
    // Cleared before the table is written, and when the list ends in an error.
    let bar = render::progress::counter("reading users", format == Format::Json);
    if format == Format::Json {
        return list_json(store, filter, group, shown, limit, &bar);
    }
    // Phone and source are left to `users show` and JSON: the table fits 100 columns.
    let mut out = render::stdout();
    let mut rows: Vec<[String; 6]> = Vec::new();
    let mut grid =
        render::grid::Grid::new(["UniqueID", "Name", "Mail", "Title", "Groups", "Status"]);
    let mut more: u64 = 0;
    store.each_user(filter, group, |u| {
        bar.inc(1);
        if !shown.matches(&u) {
            return Ok(());
        }
        if rows.len() >= limit {
            more += 1;
            return Ok(());
        }
        let mut groups = u.groups;
        groups.extend(u.manual_groups);
        let row = [
            render::opt(u.unique_id.as_deref()),
            render::cell(&u.name),
            render::cell(&u.mail),
            render::opt(u.title.as_deref()),
            render::cell(&groups.join(", ")),
            u.status.to_string(),
        ];
        grid.measure(&row);
        rows.push(row);
        Ok(())
    })?;
    bar.finish_and_clear();
    grid.write_header(&mut out)?;
    for row in &rows {
        grid.write_row(&mut out, row)?;
    }
    if more > 0 {
        writeln!(
            out,
            "{}",
            render::message(&format!(
                "… and {} more ({}, or --format json)",
                render::thousands(more),
                shown.every
            ))
        )?;
    }
    out.flush()?;
    Ok(())
}

/// `users list --format json`: an array written element by element as the store reads the
/// users: `[`, each user, `]`.
fn list_json(
    store: &Store,
    filter: Filter,
    group: Option<i64>,
    shown: &Shown,
    limit: usize,
    bar: &render::progress::Clearing,
) -> anyhow::Result<()> {
    let mut out = render::stdout();
    let mut written = 0;
    out.write_all(b"[")?;
    store.each_user(filter, group, |u| {
        bar.inc(1);
        if written >= limit || !shown.matches(&u) {
            return Ok(());
        }
        out.write_all(if written == 0 { b"\n" } else { b",\n" })?;
        written += 1;
        render::write_json(&mut out, &u)?;
        Ok(())
    })?;
    out.write_all(if written == 0 { b"]\n" } else { b"\n]\n" })?;
    out.flush()?;
    Ok(())
}

/// Active imported users in the import format.
fn export(users: &[UserView], separator: &str) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "UniqueID",
        "Name",
        "Mail",
        "Title",
        "TelephoneNumber",
        "SecondaryTelephoneNumber",
        "Groups",
    ])?;
    for u in users.iter().filter(|u| u.unique_id.is_some()) {
        let groups = u.groups.join(separator);
        let cells = [
            u.unique_id.as_deref().unwrap_or(""),
            &u.name,
            &u.mail,
            u.title.as_deref().unwrap_or(""),
            u.phone.as_deref().unwrap_or(""),
            u.phone2.as_deref().unwrap_or(""),
            &groups,
        ];
        w.write_record(cells.iter().map(|c| escape_cell(c).into_owned()))?;
    }
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write the export: {e}"))
}

fn text_field(flag: &str, value: &str) -> anyhow::Result<String> {
    let v = trim(value);
    if v.chars().any(char::is_control) {
        return Err(error::usage(format!(
            "--{flag} must not contain control characters"
        )));
    }
    Ok(v.to_string())
}

fn phone_field(ctx: &Context, flag: &str, value: &str) -> anyhow::Result<Option<String>> {
    let v = trim(value);
    if v.is_empty() {
        return Ok(None);
    }
    phone::normalize(v, ctx.config.csv.default_region)
        .map(|p| Some(p.into_owned()))
        .map_err(|m| error::usage(format!("--{flag}: {m}")))
}

fn mail_field(value: &str) -> anyhow::Result<String> {
    let v = trim(value);
    mail::check(v).map_err(|m| error::usage(format!("--mail: {m}")))?;
    Ok(v.to_string())
}

/// A new manual user: the checks of an edit, with name and mail required.
fn checked_add(ctx: &Context, f: &UserFields) -> anyhow::Result<ManualFields> {
    let all = EditFields {
        name: Some(f.name.clone()),
        mail: Some(f.mail.clone()),
        title: f.title.clone(),
        phone: f.phone.clone(),
        phone2: f.phone2.clone(),
    };
    checked_edit(ctx, &all)
}

fn checked_edit(ctx: &Context, f: &EditFields) -> anyhow::Result<ManualFields> {
    // Nothing longer than a file's cell may be is stored by hand either (SPEC §1 `too-long`).
    let max = ctx.config.csv.max_cell_chars;
    for (flag, value) in [
        ("name", &f.name),
        ("mail", &f.mail),
        ("title", &f.title),
        ("phone", &f.phone),
        ("phone2", &f.phone2),
    ] {
        if let Some(n) = value
            .as_deref()
            .and_then(|v| crate::core::record::chars_over(v, max))
        {
            return Err(error::usage(format!(
                "--{flag} has {n} characters; csv.max_cell_chars allows {max}"
            )));
        }
    }
    let name = f
        .name
        .as_deref()
        .map(|n| text_field("name", n))
        .transpose()?;
    if name.as_deref() == Some("") {
        return Err(error::usage("--name must not be empty"));
    }
    Ok(ManualFields {
        name,
        mail: f.mail.as_deref().map(mail_field).transpose()?,
        title: f
            .title
            .as_deref()
            .map(|t| text_field("title", t).map(|t| Some(t).filter(|t| !t.is_empty())))
            .transpose()?,
        phone: f
            .phone
            .as_deref()
            .map(|p| phone_field(ctx, "phone", p))
            .transpose()?,
        phone2: f
            .phone2
            .as_deref()
            .map(|p| phone_field(ctx, "phone2", p))
            .transpose()?,
    })
}

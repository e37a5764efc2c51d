//! One module per subcommand: load, call the library, render. No command calls another's `run`.

pub mod apply;
pub mod batches;
pub mod completions;
pub mod diff;
pub mod fetch;
pub mod groups;
pub mod push;
pub mod report;
pub mod revert;
pub mod status;
pub mod sync;
pub mod users;
pub mod validate;

use crate::cli::{ActionFilter, FieldFilter, Format, ShownArgs};
use crate::config::Config;
use crate::core::plan::Action;
use crate::error;
use crate::render::plan::{Selection, DEFAULT_LIMIT};

/// What every command that runs gets: the configuration and the global flags.
pub struct Context {
    pub config: Config,
    pub quiet: bool,
    pub verbose: u8,
    pub format: Option<Format>,
}

impl Context {
    /// The chosen format, or a usage error when this command does not print it.
    pub fn format(&self, allowed: &[Format]) -> anyhow::Result<Format> {
        let f = self.format.unwrap_or(Format::Table);
        if allowed.contains(&f) {
            Ok(f)
        } else {
            let names: Vec<String> = allowed
                .iter()
                .map(|a| format!("{a:?}").to_lowercase())
                .collect();
            Err(error::usage(format!(
                "this command does not print --format {}; use one of: {}",
                format!("{f:?}").to_lowercase(),
                names.join(", ")
            )))
        }
    }

    /// A line for the operator on stdout, unless `-q`.
    pub fn say(&self, text: &str) -> anyhow::Result<()> {
        if !self.quiet {
            crate::render::emit(text)?;
        }
        Ok(())
    }
}

/// The changes of a plan to print: `--limit` (50 by default in a table, every change in JSON),
/// `--all`, `--action`, `--field`.
pub fn selection(args: &ShownArgs, format: Format) -> Selection {
    let limit = match (args.all, args.limit, format) {
        (true, _, _) => None,
        (false, Some(n), _) => Some(n),
        (false, None, Format::Json) => None,
        (false, None, _) => Some(DEFAULT_LIMIT),
    };
    Selection {
        limit,
        actions: args
            .action
            .iter()
            .map(|a| match a {
                ActionFilter::Create => Action::Create,
                ActionFilter::Adopt => Action::Adopt,
                ActionFilter::Update => Action::Update,
                ActionFilter::Reactivate => Action::Reactivate,
                ActionFilter::Remove => Action::Remove,
                ActionFilter::Missing => Action::Missing,
                ActionFilter::Invalid => Action::Invalid,
            })
            .collect(),
        fields: args
            .field
            .iter()
            .map(|f| match f {
                FieldFilter::Name => "name",
                FieldFilter::Mail => "mail",
                FieldFilter::Title => "title",
                FieldFilter::Phone => "phone",
                FieldFilter::Phone2 => "phone2",
                FieldFilter::Groups => "groups",
                FieldFilter::Status => "status",
            })
            .collect(),
        unstored: None,
        batch: None,
    }
}

/// The store lock for a command that writes by hand (`users`, `groups`): taken before the
/// store is read, waiting up to `store.lock_wait_secs` (30 s by default) for a run that holds it
/// (and saying so on stderr), so that an edit never interleaves with an apply (SPEC §5); then
/// exit 5.
pub fn writer_lock(ctx: &Context) -> anyhow::Result<crate::store::Lock> {
    let patience = std::time::Duration::from_secs(ctx.config.store.lock_wait_secs);
    crate::store::Lock::wait(ctx.config.store_path(), patience, |holder| {
        if !ctx.quiet {
            eprintln!(
                "roster: waiting up to {} s for the lock held by {holder}…",
                patience.as_secs()
            );
        }
    })
}

/// With `[scim]`, push right after the commit of `apply` or `revert`, like `sync` (SPEC §2);
/// the summary goes to stderr when the JSON document is on stdout.
pub fn push_after_commit(
    ctx: &Context,
    format: Format,
    store: &mut crate::store::Store,
    allow_removals: Option<u64>,
) -> anyhow::Result<()> {
    let Some(pushed) =
        crate::pipeline::push_after_commit(store, &ctx.config, allow_removals, ctx.quiet)
    else {
        return Ok(());
    };
    let o = pushed?;
    if !ctx.quiet || o.error().is_some() {
        if format == Format::Json {
            eprintln!("roster: {}", o.summary());
        } else {
            crate::render::emit(&o.summary())?;
        }
    }
    match o.error() {
        Some(e) => Err(e.context(format!(
            "{} did not complete",
            crate::pipeline::push::COMMITTED
        ))),
        None => Ok(()),
    }
}

/// After a commit: send the pending invitations with a progress bar, and say on stderr how it
/// went (`None`: nothing to send, or no `[mail]`).
pub fn send_pending_invitations(
    ctx: &Context,
    store: &crate::store::Store,
) -> anyhow::Result<Option<crate::pipeline::Sent>> {
    let bar = crate::render::progress::bar(0, "invitations", ctx.quiet);
    let sent = crate::pipeline::send_pending_invitations(store, &ctx.config, &|done, all| {
        bar.set_length(all as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    if let (Ok(Some(sent)), false) = (&sent, ctx.quiet) {
        eprintln!("roster: {}", sent.summary());
    }
    sent
}

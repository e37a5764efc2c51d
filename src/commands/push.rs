//! `roster push`: bring the SCIM 2.0 provider of `[scim]` in step with the store (SPEC §8).

use super::Context;
use crate::cli::{Format, PushArgs};
use crate::render;
use crate::scim::{Options, Outcome};
use crate::store::{Lock, Store};

pub fn run(ctx: &Context, args: &PushArgs) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json])?;
    if ctx.config.scim.is_none() {
        return Err(crate::error::config(
            "there is no [scim] section: set scim.url and scim.token_file (or ROSTER_SCIM_TOKEN) to push",
        ));
    }
    let _lock = Lock::acquire(ctx.config.store_path())?;
    let mut store = Store::open(ctx.config.store_path())?;
    let outcome = crate::pipeline::push(&mut store, &ctx.config, &options(ctx, args))?;
    show(ctx, format, &outcome)?;
    match outcome.error() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The push options of these flags.
pub fn options(ctx: &Context, args: &PushArgs) -> Options {
    Options {
        dry_run: args.dry_run,
        full: args.full,
        allow_removals: args.allow_removals,
        quiet: ctx.quiet,
    }
}

/// Print a push's outcome: JSON, or a summary line (and, in a dry run or with -v, each change).
pub fn show(ctx: &Context, format: Format, o: &Outcome) -> anyhow::Result<()> {
    if format == Format::Json {
        render::json(o)?;
        return Ok(());
    }
    if ctx.quiet && o.error().is_none() {
        return Ok(());
    }
    render::emit(&o.summary())?;
    if (o.status == "dry-run" || ctx.verbose > 0) && !o.changes.is_empty() {
        let mut t = render::table(["Action", "Kind", "ID", "Name"]);
        for c in o
            .changes
            .iter()
            .take(if ctx.verbose > 0 { usize::MAX } else { 50 })
        {
            t.add_row(vec![
                c.action.to_string(),
                c.kind.to_string(),
                render::opt(Some(&c.id)),
                render::opt(Some(&c.name)),
            ]);
        }
        render::emit(&t.to_string())?;
        if ctx.verbose == 0 && o.changes.len() > 50 {
            render::emit(&format!(
                "… and {} more ({} push --dry-run -v, or --format json)",
                render::thousands((o.changes.len() - 50) as u64),
                crate::core::command::roster()
            ))?;
        }
    }
    if !o.refused.is_empty() {
        let mut t = render::table(["Refused", "Kind", "ID", "Provider's reason"]);
        for r in o.refused.iter().take(100) {
            t.add_row(vec![
                r.action.to_string(),
                r.kind.to_string(),
                render::opt(Some(&r.id)),
                render::opt(Some(&r.reason)),
            ]);
        }
        render::emit(&t.to_string())?;
    }
    Ok(())
}

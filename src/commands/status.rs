//! `roster status`: one screen for an operator (within 100 columns), JSON and the Prometheus
//! text format for monitoring; exit 1 when unhealthy (SPEC §3). What it says is computed once
//! (`pipeline::status_of`) and rendered by `render::status`.

use super::Context;
use crate::cli::Format;
use crate::pipeline;
use crate::render;
use crate::store::Store;

pub fn run(ctx: &Context) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json, Format::Prometheus])?;
    let store_path = ctx.config.store_path();
    // Status never creates a store: a typo in a monitoring check must not pass as healthy.
    let store = Store::open_existing(store_path)?;
    let status = pipeline::status_of(&store, &ctx.config)?;
    if let Some(why) = &status.now.store_exposed {
        eprintln!("roster: warning: {}", render::report::fit(why, 400));
    }
    match format {
        Format::Json => render::json(&render::status::json(&status))?,
        Format::Prometheus => render::emit(&render::status::prometheus(&status))?,
        _ => render::emit(&render::status::table(
            &status,
            store_path,
            ctx.config.source.stale_after_days,
        ))?,
    }
    let unhealthy = status.unhealthy();
    if unhealthy.is_empty() {
        Ok(())
    } else {
        Err(anyhow::Error::new(Unhealthy(unhealthy.join("; "))))
    }
}

/// Unhealthy is exit 1 (a runtime failure), with the reason.
#[derive(Debug, thiserror::Error)]
#[error("unhealthy: {0}")]
pub struct Unhealthy(pub String);

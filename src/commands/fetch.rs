//! `roster fetch`: store the source file as a new batch (or check the source with `--check`).

use super::Context;
use crate::cli::{FetchArgs, Format};
use crate::pipeline;
use crate::render;
use crate::store::batches::Stored;
use crate::store::{Lock, Store};
use crate::transport::sftp;
use serde_json::json;

pub fn run(ctx: &Context, args: &FetchArgs) -> anyhow::Result<()> {
    let format = ctx.format(&[Format::Table, Format::Json])?;
    let _lock = Lock::acquire(ctx.config.store_path())?;
    let source = pipeline::source(&ctx.config)?;
    if args.check {
        let url = sftp::Url::parse(&source)
            .map_err(|m| crate::error::usage(format!("--check works on sftp:// sources: {m}")))?;
        let (print, stat) = sftp::check(
            &url,
            &pipeline::sftp_options(&ctx.config, args.trust_host_key.as_deref())?,
        )?;
        let doc = json!({"source": url.display(), "host_key": print, "size": stat.size, "mtime": stat.mtime});
        match format {
            Format::Json => render::json(&doc)?,
            _ if ctx.quiet => {}
            _ => render::emit(&format!(
                "ok: {} — host key {print}, authenticated, {} bytes, modified {}",
                render::message(&url.display().to_string()),
                stat.size,
                chrono::DateTime::from_timestamp(stat.mtime, 0)
                    .map_or(String::new(), |t| t.to_rfc3339())
            ))?,
        }
        return Ok(());
    }
    let store = Store::open(ctx.config.store_path())?;
    let bar = render::progress::bytes_bar(0, "fetch", ctx.quiet);
    let fetched = pipeline::read_source(
        &ctx.config,
        &source,
        args.trust_host_key.as_deref(),
        &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )?;
    bar.finish_and_clear();
    let stored = pipeline::store_fetched(&store, &ctx.config, &fetched, pipeline::Count::Now)?;
    let (state, batch) = match &stored {
        Stored::New(b) => ("new", b),
        Stored::Unchanged(b) => ("unchanged", b),
    };
    match format {
        Format::Json => render::json(&json!({"status": state, "batch": batch}))?,
        _ if ctx.quiet => {}
        _ => match &stored {
            // Within 100 columns (SPEC §3.1): the source by its file name, the hash on a line
            // of its own when the line is wider.
            Stored::New(b) => render::emit(
                &render::grid::wrap(
                    &format!(
                        "batch {}: {}, {} bytes, {} records, sha256 {}",
                        b.id,
                        render::message(render::grid::source_name(&b.source)),
                        render::thousands(b.size.max(0) as u64),
                        b.records
                            .map_or("?".to_string(), |r| render::thousands(r.max(0) as u64)),
                        b.sha256,
                    ),
                    render::grid::WIDTH,
                )
                .join("\n"),
            )?,
            Stored::Unchanged(b) => {
                render::emit(&format!("unchanged (same SHA-256 as batch {})", b.id))?
            }
        },
    }
    Ok(())
}

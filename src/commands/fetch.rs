//! `roster fetch`: store the source file as a new batch.

use super::Context;
use crate::error;
use crate::pipeline;
use crate::render;
use crate::store::batches::Stored;
use crate::store::{Lock, Store};
use crate::transport::local::{self, Local};
use serde_json::json;

pub fn run(ctx: &Context) -> anyhow::Result<()> {
    let format = ctx.format(&[crate::cli::Format::Table, crate::cli::Format::Json])?;
    let _lock = Lock::acquire(ctx.config.store_path())?;
    let source = ctx
        .config
        .source
        .url
        .clone()
        .ok_or_else(|| error::usage("no source: pass --source URL or set source.url"))?;
    if source.starts_with("sftp://") {
        return Err(error::usage("sftp:// sources are not supported by this build yet; fetch the file and pass a local path"));
    }
    let store = Store::open(ctx.config.store_path())?;
    let fetched = match local::read(&source, ctx.config.csv.max_file_bytes)? {
        Local::Read(f) => f,
        Local::TooLarge(size) => {
            return Err(error::Error::Rejected(format!(
                "{source} has {size} bytes; csv.max_file_bytes allows {}",
                ctx.config.csv.max_file_bytes
            ))
            .into())
        }
    };
    let stored = pipeline::store_fetched(&store, &ctx.config, &fetched)?;
    let (state, batch) = match &stored {
        Stored::New(b) => ("new", b),
        Stored::Unchanged(b) => ("unchanged", b),
    };
    match format {
        crate::cli::Format::Json => render::json(&json!({"status": state, "batch": batch}))?,
        _ if ctx.quiet => {}
        _ => match &stored {
            Stored::New(b) => render::emit(&format!(
                "batch {}: {} bytes, {} records, sha256 {} from {}",
                b.id,
                b.size,
                b.records.map_or("?".to_string(), |r| r.to_string()),
                b.sha256,
                b.source
            ))?,
            Stored::Unchanged(b) => {
                render::emit(&format!("unchanged (same SHA-256 as batch {})", b.id))?
            }
        },
    }
    Ok(())
}

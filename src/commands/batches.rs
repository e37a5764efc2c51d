//! `roster batches list|show|export`: the stored files.

use super::Context;
use crate::cli::{BatchesCommand, Format};
use crate::error;
use crate::render;
use crate::store::batches::Batch;
use crate::store::Store;

pub fn run(ctx: &Context, cmd: &BatchesCommand) -> anyhow::Result<()> {
    let store = Store::open(ctx.config.store_path())?;
    match cmd {
        BatchesCommand::List => {
            let format = ctx.format(&[Format::Table, Format::Json])?;
            let batches = store.batches()?;
            match format {
                Format::Json => render::json(&batches)?,
                _ => render::emit(&table(&batches))?,
            }
        }
        BatchesCommand::Show { batch } => {
            let format = ctx.format(&[Format::Table, Format::Json])?;
            let b = require(&store, *batch)?;
            match format {
                Format::Json => render::json(&b)?,
                _ => render::emit(&table(std::slice::from_ref(&b)))?,
            }
        }
        BatchesCommand::Export { batch } => {
            let b = require(&store, *batch)?;
            let bytes = store
                .batch_content(b.id)?
                .ok_or_else(|| anyhow::anyhow!("the content of batch {} was pruned", b.id))?;
            render::emit_bytes(&bytes)?;
        }
    }
    Ok(())
}

fn require(store: &Store, id: i64) -> anyhow::Result<Batch> {
    store
        .batch(id)?
        .ok_or_else(|| error::usage(format!("there is no batch {id}; see roster batches list")))
}

fn table(batches: &[Batch]) -> String {
    let mut t = render::table([
        "Batch", "Fetched", "Source", "Bytes", "Records", "Status", "SHA-256",
    ]);
    for b in batches {
        t.add_row(vec![
            b.id.to_string(),
            b.fetched_at.clone(),
            b.source.clone(),
            b.size.to_string(),
            b.records.map_or(String::new(), |r| r.to_string()),
            if b.has_content {
                b.status.clone()
            } else {
                format!("{} (pruned)", b.status)
            },
            b.sha256.clone(),
        ]);
    }
    t.to_string()
}

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
                _ => render::emit(&list(&batches))?,
            }
        }
        BatchesCommand::Show { batch } => {
            let format = ctx.format(&[Format::Table, Format::Json])?;
            let b = require(&store, *batch)?;
            match format {
                Format::Json => render::json(&b)?,
                _ => render::emit(&table(&b))?,
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
    store.batch(id)?.ok_or_else(|| {
        error::usage(format!(
            "there is no batch {id}; see {} batches list",
            crate::core::command::roster()
        ))
    })
}

/// `batches show` in a table: one row a field, so that the full values (the whole SHA-256,
/// the time to the second) fit 100 columns.
fn table(b: &Batch) -> String {
    let status = if b.has_content {
        b.status.clone()
    } else {
        format!("{} (pruned)", b.status)
    };
    let mut t = render::table(["Field", "Value"]);
    let rows: [(&str, String); 7] = [
        ("Batch", b.id.to_string()),
        ("Fetched", b.fetched_at.clone()),
        ("Source", render::cell(&b.source)),
        ("Bytes", b.size.to_string()),
        (
            "Records",
            b.records.map_or(String::new(), |r| r.to_string()),
        ),
        ("Status", status),
        ("SHA-256", b.sha256.clone()),
    ];
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    t.to_string()
}

/// The list in at most 100 columns: short SHA-256, the file name rather than the whole URL,
/// sizes in units, times to the minute (UTC); the full values are in `batches show` and JSON.
fn list(batches: &[Batch]) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header([
            "Batch", "Fetched", "File", "Size", "Records", "Status", "Modified", "SHA-256",
        ]);
    let mut pruned = false;
    for b in batches {
        pruned |= !b.has_content;
        let name = b.source.rsplit(['/', '\\']).next().unwrap_or(&b.source);
        t.add_row(vec![
            b.id.to_string(),
            b.fetched_at
                .get(..16)
                .unwrap_or(&b.fetched_at)
                .replace('T', " "),
            cut(name, 18),
            size(b.size),
            b.records
                .map_or(String::new(), |r| render::thousands(r.max(0) as u64)),
            if b.has_content {
                b.status.clone()
            } else {
                format!("{}*", b.status)
            },
            b.remote_mtime
                .and_then(|m| chrono::DateTime::from_timestamp(m, 0))
                .map_or(String::new(), |t| t.format("%m-%d %H:%M").to_string()),
            b.sha256.get(..8).unwrap_or(&b.sha256).to_string(),
        ]);
    }
    // Without the padding comfy-table puts before the first column and after the last.
    let mut out = String::new();
    for line in t.to_string().lines() {
        out.push_str(line.strip_prefix(' ').unwrap_or(line).trim_end());
        out.push('\n');
    }
    out.pop();
    if pruned {
        out.push_str("\n* the file's content was pruned (store.keep_batches)");
    }
    out
}

fn cut(value: &str, chars: usize) -> String {
    let cell = render::cell(value);
    if cell.chars().count() <= chars {
        return cell;
    }
    let mut out: String = cell.chars().take(chars - 1).collect();
    out.push('…');
    out
}

/// A size in bytes, in SI units: `912 B`, `5.8 MB`.
fn size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    match bytes {
        ..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} kB", b / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.1} GB", b / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The widest a batch's row can be: a long file name, a million records, a file over
    /// 100 MB, a pruned rejected batch with a remote mtime, a five-digit batch number.
    #[test]
    fn the_list_fits_100_columns_at_its_widest() {
        let wide = Batch {
            id: 12_345,
            fetched_at: "2026-12-01T21:10:00Z".into(),
            source: "sftp://hr@example.se/exports/users-from-the-hr-system-of-the-region.csv"
                .into(),
            size: 104_857_600,
            sha256: "e95df34a066a6297eee966e08a4fc6127674ce4df892eb1f8c19fbd59a43350a".into(),
            records: Some(1_000_000),
            status: "rejected".into(),
            has_content: false,
            remote_mtime: Some(1_796_159_442),
            reverted_by_run: None,
        };
        let text = list(&[wide]);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 100,
                "{} chars: {line:?}",
                line.chars().count()
            );
        }
        assert!(
            text.contains("rejected*") && text.contains("1,000,000"),
            "{text}"
        );
    }
}

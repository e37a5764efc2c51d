//! `roster validate`: check a file, on its own (CI mode) or a stored batch against the store.

use super::Context;
use crate::cli::{Format, ValidateArgs};
use crate::core::problem::{Code, Problem, Severity};
use crate::error::Error;
use crate::input::{self, ImportFile};
use crate::pipeline;
use crate::render::{self, problems::ValidationReport};
use crate::store::Store;
use crate::transport::local::{self, Local};
use std::collections::HashSet;

const FORMATS: &[Format] = &[Format::Table, Format::Json, Format::Github];

/// Validate FILE or `-`: no store, no network, nothing written.
pub fn run_file(ctx: &Context, args: &ValidateArgs, path: &str) -> anyhow::Result<()> {
    let format = ctx.format(FORMATS)?;
    let opts = ctx.config.read_options();
    let mut file = match local::read(path, opts.max_file_bytes)? {
        Local::Read(f) => input::read(&f.bytes, &opts),
        Local::TooLarge(size) => too_large(size, opts.max_file_bytes),
    };
    if let Some(groups) = &args.groups {
        let known: HashSet<String> = groups
            .iter()
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect();
        file.check_groups(&known);
    }
    show(ctx, format, path, file, args.strict)
}

/// Validate a stored batch (the newest, or `--batch N`) against the store: its groups and
/// the addresses other users hold.
pub fn run_batch(ctx: &Context, args: &ValidateArgs) -> anyhow::Result<()> {
    let format = ctx.format(FORMATS)?;
    let store = Store::open(ctx.config.store_path())?;
    let Some(batch) = pipeline::pick_batch(&store, args.batch)? else {
        return Err(crate::error::usage(
            "there is no batch yet: pass a FILE, or run roster fetch first",
        ));
    };
    let (mut file, dir) = pipeline::read_batch(&store, &ctx.config, &batch)?;
    if file.file_error().is_none() {
        let settings = pipeline::settings(&ctx.config, batch.id, &crate::cli::ApplyArgs::default());
        pipeline::plan(&dir, &mut file, &settings)?;
    }
    drop(dir);
    show(
        ctx,
        format,
        &format!("batch {}", batch.id),
        file,
        args.strict,
    )
}

pub fn too_large(size: u64, max: u64) -> ImportFile {
    ImportFile {
        problems: vec![Problem::new(
            None,
            None,
            Code::TooLarge,
            format!("the file has {size} bytes; csv.max_file_bytes allows {max}"),
        )],
        encoding: "utf-8",
        delimiter: b',',
        ..ImportFile::default()
    }
}

/// Print the report in the chosen format; an error when the file has errors.
pub fn show(
    ctx: &Context,
    format: Format,
    name: &str,
    mut file: ImportFile,
    strict: bool,
) -> anyhow::Result<()> {
    if strict {
        for p in &mut file.problems {
            p.severity = Severity::Error;
        }
    }
    let report = ValidationReport::new(name, &file);
    match format {
        Format::Json => render::json(&report)?,
        Format::Github => render::emit(&render::problems::github(name, &file.problems))?,
        _ => {
            if !file.problems.is_empty() {
                render::emit(&render::problems::table(&file.problems))?;
            }
            if !ctx.quiet || !report.valid {
                render::emit(&report.summary())?;
            }
        }
    }
    if report.valid {
        Ok(())
    } else {
        Err(Error::Rejected(format!(
            "{name} was rejected: {} error{}",
            report.errors,
            if report.errors == 1 { "" } else { "s" }
        ))
        .into())
    }
}

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
use std::io::Write;

const FORMATS: &[Format] = &[Format::Table, Format::Json, Format::Github];

/// Validate FILE or `-`: no store, no network, nothing written.
pub fn run_file(ctx: &Context, args: &ValidateArgs, path: &str) -> anyhow::Result<()> {
    let format = ctx.format(FORMATS)?;
    let config = with_region(ctx, args)?;
    let opts = config.read_options();
    let known = known_groups(&config, args)?;
    let mut file = match local::read(path, opts.max_file_bytes)? {
        Local::Read(f) => input::read(&f.bytes, &opts),
        Local::TooLarge(size) => too_large(size, opts.max_file_bytes),
    };
    if let Some(known) = known {
        if file.file_error().is_none() {
            file.check_groups(&known);
        }
    }
    show(ctx, format, path, file, args)
}

/// The configuration with `--default-region`, when given.
fn with_region(ctx: &Context, args: &ValidateArgs) -> anyhow::Result<crate::config::Config> {
    let mut config = ctx.config.clone();
    if let Some(region) = &args.default_region {
        config.csv.default_region =
            Some(crate::core::phone::parse_region(region).ok_or_else(|| {
                crate::error::usage(format!(
                    "--default-region: `{region}` is not a region code like SE"
                ))
            })?);
    }
    Ok(config)
}

/// The known group IDs of `--groups` and `--groups-file`, when either is given.
fn known_groups(
    config: &crate::config::Config,
    args: &ValidateArgs,
) -> anyhow::Result<Option<HashSet<String>>> {
    if args.groups.is_none() && args.groups_file.is_none() {
        return Ok(None);
    }
    let mut known: HashSet<String> = args
        .groups
        .iter()
        .flatten()
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty())
        .collect();
    if let Some(path) = &args.groups_file {
        let bytes = std::fs::read(path).map_err(|e| {
            crate::error::usage(format!(
                "--groups-file: cannot read {}: {e}",
                path.display()
            ))
        })?;
        let separator = &config.csv.group_separator;
        let groups = input::groups::read(
            &bytes,
            input::Encoding::Auto,
            config.csv.delimiter,
            separator,
        )
        .map_err(|m| crate::error::usage(format!("--groups-file {}: {m}", path.display())))?;
        known.extend(groups.into_iter().map(|(id, _)| id));
    }
    Ok(Some(known))
}

/// Validate a stored batch (the newest, or `--batch N`) against the store: its groups and
/// the addresses other users hold.
pub fn run_batch(ctx: &Context, args: &ValidateArgs) -> anyhow::Result<()> {
    let format = ctx.format(FORMATS)?;
    let config = with_region(ctx, args)?;
    let store = Store::open(config.store_path())?;
    let Some(batch) = pipeline::pick_batch(&store, args.batch)? else {
        return Err(crate::error::usage(
            "there is no batch yet: pass a FILE, or run roster fetch first",
        ));
    };
    let (mut file, dir) =
        pipeline::read_batch(&store, &config, &batch, pipeline::GroupWarnings::PerRecord)?;
    if file.file_error().is_none() {
        let settings = pipeline::settings(&config, batch.id, &crate::cli::ApplyArgs::default());
        pipeline::plan(&dir, &mut file, &settings)?;
    }
    drop(dir);
    show(ctx, format, &format!("batch {}", batch.id), file, args)
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
    args: &ValidateArgs,
) -> anyhow::Result<()> {
    if args.strict {
        for p in &mut file.problems {
            p.severity = Severity::Error;
        }
    }
    let report = ValidationReport::new(name, &file);
    match format {
        Format::Json => render::json(&report)?,
        Format::Github => {
            let mut out = render::stdout();
            render::problems::github(&mut out, &report)?;
            out.flush()?;
            if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
                let summary = render::problems::step_summary(&report);
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .and_then(|mut f| f.write_all(summary.as_bytes()))
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "cannot append to $GITHUB_STEP_SUMMARY {}: {e}",
                            std::path::Path::new(&path).display()
                        )
                    })?;
            }
        }
        _ => {
            let mut out = render::stdout();
            if !ctx.quiet || !report.valid {
                let limit = if args.all {
                    None
                } else {
                    Some(args.limit.unwrap_or(render::plan::DEFAULT_LIMIT))
                };
                render::problems::write_table(
                    &mut out,
                    file.problems.iter(),
                    limit,
                    "roster validate --all, or --format json",
                )?;
                // The file's name is the operator's, but may hold anything.
                writeln!(out, "{}", render::terminal_text(&report.summary()))?;
            }
            out.flush()?;
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

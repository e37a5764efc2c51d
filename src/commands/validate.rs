//! `roster validate`: check a file, on its own (CI mode) or a stored batch against the store.

use super::Context;
use crate::cli::{Format, ValidateArgs};
use crate::core::problem::{Code, Problem, Severity};
use crate::core::text::shell_word;
use crate::error::Error;
use crate::input::{self, ImportFile};
use crate::pipeline;
use crate::render::problems::{ValidationReport, GITHUB_ANNOTATIONS, SUMMARY_PROBLEMS};
use crate::render::{self};
use crate::store::Store;
use crate::transport::local::{self, Local};
use std::collections::HashSet;
use std::io::Write;

const FORMATS: &[Format] = &[Format::Table, Format::Json, Format::Github];

/// Validate FILE or `-`: no store, no network, nothing written. Of a file's problems only
/// those that are shown are kept (the rest counted): the JSON, which lists them all, reads the
/// file again and writes them as it goes, so that memory does not grow with what is wrong.
pub fn run_file(ctx: &Context, args: &ValidateArgs, path: &str) -> anyhow::Result<()> {
    let format = ctx.format(FORMATS)?;
    let config = with_region(ctx, args)?;
    let opts = config.read_options();
    let known = known_groups(&config, args)?;
    let keep = match format {
        Format::Json => Some(0),
        Format::Github => Some(SUMMARY_PROBLEMS.max(GITHUB_ANNOTATIONS)),
        _ if args.all => None,
        _ => Some(args.limit.unwrap_or(render::plan::DEFAULT_LIMIT)),
    };
    if path != "-" && std::fs::metadata(path).is_ok_and(|m| m.len() > 1 << 20) {
        // A large file is checked on every core: load the phone metadata (~0.1 s) on one of
        // them while the file is read, not while the others start the checks.
        rayon::spawn(crate::core::phone::warm_up);
    }
    let (bytes, mut file) = match local::read(path, opts.max_file_bytes)? {
        Local::Read(f) => {
            let file = match keep {
                Some(n) => input::read_lean(&f.bytes, &opts, n, known.as_ref()),
                None => input::read(&f.bytes, &opts),
            };
            (f.bytes, file)
        }
        Local::TooLarge(size) => (Vec::new(), too_large(size, opts.max_file_bytes)),
    };
    if let (Some(known), None, None) = (&known, keep, file.file_error()) {
        file.check_groups(known);
    }
    // The records themselves are not shown: only their problems.
    file.entries = Vec::new();
    let tell_all: Teller<'_> =
        &|file, tell| input::each_problem(&bytes, &opts, file, known.as_ref(), tell);
    // `./-x.csv`: a file named `-x.csv` after a space would be read as an option.
    let named = match path {
        "-" => path.to_string(),
        _ if path.starts_with('-') => format!("./{path}"),
        _ => path.to_string(),
    };
    let again = format!(
        "{} validate {} --all",
        crate::core::command::roster(),
        shell_word(&named)
    );
    show(ctx, format, path, file, args, tell_all, &again)
}

/// Tells every problem of a file, in order, one at a time.
pub type Teller<'a> =
    &'a dyn Fn(&ImportFile, &mut dyn FnMut(&Problem) -> std::io::Result<()>) -> std::io::Result<()>;

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
            (separator, config.csv.max_cell_chars),
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
        return Err(crate::error::usage(format!(
            "there is no batch yet: pass a FILE, or run {} fetch first",
            crate::core::command::roster()
        )));
    };
    // Of the records' problems only the first are kept, the rest told again from the batch's
    // bytes (SPEC §5), unless a table lists more of them.
    let warnings = pipeline::GroupWarnings::PerRecord;
    let listed = args.all || args.limit.is_some_and(|n| n > pipeline::KEEP_PROBLEMS);
    let (bytes, mut file, dir) = if format == Format::Table && listed {
        let (file, dir) = pipeline::read_batch(&store, &config, &batch, warnings)?;
        (Vec::new(), file, dir)
    } else {
        pipeline::read_batch_keeping(&store, &config, &batch, warnings)?
    };
    if file.file_error().is_none() {
        let settings = pipeline::settings(&config, batch.id, &crate::cli::ApplyArgs::default());
        pipeline::plan(&dir, &mut file, &settings)?;
    }
    let known = crate::core::plan::Directory::group_ids(&dir).clone();
    drop(dir);
    file.entries = Vec::new();
    let opts = config.read_options();
    let tell_all: Teller<'_> =
        &|file, tell| input::each_problem(&bytes, &opts, file, Some(&known), tell);
    let again = match args.batch {
        Some(n) => format!(
            "{} validate --batch {n} --all",
            crate::core::command::roster()
        ),
        None => format!("{} validate --all", crate::core::command::roster()),
    };
    show(
        ctx,
        format,
        &format!("batch {}", batch.id),
        file,
        args,
        tell_all,
        &again,
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

/// Print the report in the chosen format; an error when the file has errors. `again` is the
/// command that lists every problem of the same file (`roster validate users.csv --all`).
pub fn show(
    ctx: &Context,
    format: Format,
    name: &str,
    mut file: ImportFile,
    args: &ValidateArgs,
    tell_all: Teller<'_>,
    again: &str,
) -> anyhow::Result<()> {
    if args.strict {
        for p in &mut file.problems {
            p.severity = Severity::Error;
        }
        file.dropped.strict();
    }
    let report = ValidationReport::new(name, &file);
    match format {
        Format::Json => {
            let mut out = render::stdout();
            report.write_json(&mut out, |tell| {
                tell_all(&file, &mut |p: &Problem| {
                    if args.strict && !p.is_error() {
                        let mut p = p.clone();
                        p.severity = Severity::Error;
                        return tell(&p);
                    }
                    tell(p)
                })
            })?;
            out.flush()?;
        }
        Format::Github => github(&report)?,
        _ => {
            let mut out = render::stdout();
            if !ctx.quiet || !report.valid {
                let limit = if args.all {
                    None
                } else {
                    Some(args.limit.unwrap_or(render::plan::DEFAULT_LIMIT))
                };
                render::problems::write_counted_table(
                    &mut out,
                    file.problems.iter(),
                    report.per_code(),
                    limit,
                    &format!("{again}, or --format json"),
                )?;
                // The file's name is the operator's, but may hold anything.
                let summary = render::terminal_text(&report.summary()).into_owned();
                render::grid::write_wrapped(&mut out, &summary)?;
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

/// `--format github`: annotations on stdout, and the summary appended to
/// `$GITHUB_STEP_SUMMARY` when it names a file.
fn github(report: &ValidationReport) -> anyhow::Result<()> {
    let mut out = render::stdout();
    render::problems::github(&mut out, report)?;
    out.flush()?;
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let summary = render::problems::step_summary(report);
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
    Ok(())
}

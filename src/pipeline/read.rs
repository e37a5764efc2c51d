//! The read stage (`validate`): the file read into records beside the store's directory, its
//! Group IDs checked against the groups the directory manages.

use super::stage;
use super::store::batch_content;
use crate::config::Config;
use crate::core::file::ImportFile;
use crate::core::plan;
use crate::input;
use crate::store::batches::Batch;
use crate::store::directory::StoreDirectory;
use crate::store::Store;

/// How a read file's unknown Group IDs are told. A plan shows each once with the number of
/// records naming it (SPEC §2), so for a plan they are only counted; `validate` lists each
/// record's warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupWarnings {
    Counted,
    PerRecord,
}

/// Read a file and load the store's directory at the same time: the reading runs on the
/// other cores while SQLite scans the users. The file is checked against the store's groups.
pub fn read_against<'s>(
    store: &'s Store,
    config: &Config,
    bytes: &[u8],
    warnings: GroupWarnings,
) -> anyhow::Result<(ImportFile, StoreDirectory<'s>)> {
    read_keeping_against(store, config, bytes, warnings, None)
}

/// [`read_against`], keeping of the records' problems only the first `keep` errors and
/// warnings when `keep` is set ([`input::read_keeping`]).
pub(super) fn read_keeping_against<'s>(
    store: &'s Store,
    config: &Config,
    bytes: &[u8],
    warnings: GroupWarnings,
    keep: Option<usize>,
) -> anyhow::Result<(ImportFile, StoreDirectory<'s>)> {
    stage::enter("validate");
    let opts = config.read_options();
    let started = std::time::Instant::now();
    let shown = crate::render::progress::stage(&format!(
        "reading {} and the directory",
        bytes_text(bytes.len())
    ));
    let (file, dir) = std::thread::scope(|s| {
        let reading = s.spawn(|| match keep {
            Some(keep) => input::read_keeping(bytes, &opts, keep),
            None => input::read(bytes, &opts),
        });
        let dir = StoreDirectory::load(store);
        (reading.join(), dir)
    });
    shown.finish_and_clear();
    let mut file = file.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let mut dir = dir?;
    check_groups(
        &mut file,
        &mut dir,
        config.import.unknown_groups == crate::config::UnknownGroups::Create,
        warnings,
    );
    log_read(&file, bytes.len(), started);
    Ok((file, dir))
}

/// [`read_against`] as a plan reads a file: of the records' problems only the first
/// [`KEEP_PROBLEMS`] are kept, the rest told again from `bytes` ([`input::each_problem`]).
pub fn read_keeping<'s>(
    store: &'s Store,
    config: &Config,
    bytes: &[u8],
    warnings: GroupWarnings,
) -> anyhow::Result<(ImportFile, StoreDirectory<'s>)> {
    read_keeping_against(store, config, bytes, warnings, Some(KEEP_PROBLEMS))
}

/// Read a stored batch beside the store's directory (see [`read_against`]).
pub fn read_batch<'s>(
    store: &'s Store,
    config: &Config,
    batch: &Batch,
    warnings: GroupWarnings,
) -> anyhow::Result<(ImportFile, StoreDirectory<'s>)> {
    read_against(
        store,
        config,
        &batch_content(store, config, batch)?,
        warnings,
    )
}

/// [`read_batch`] as an apply reads it: of the records' problems only the first
/// [`KEEP_PROBLEMS`] are kept, the rest told again from the batch's bytes
/// ([`input::each_problem`]), which come back too (SPEC §5: problems are streamed, not held).
pub fn read_batch_keeping<'s>(
    store: &'s Store,
    config: &Config,
    batch: &Batch,
    warnings: GroupWarnings,
) -> anyhow::Result<(Vec<u8>, ImportFile, StoreDirectory<'s>)> {
    let bytes = batch_content(store, config, batch)?;
    let (file, dir) = read_keeping_against(store, config, &bytes, warnings, Some(KEEP_PROBLEMS))?;
    Ok((bytes, file, dir))
}

/// Tell the group IDs of a read file that the store's directory does not manage, counted or
/// warned of record by record as `warnings` says (a file with a file error is left as it is).
pub(super) fn check_groups(
    file: &mut ImportFile,
    dir: &mut StoreDirectory<'_>,
    create: bool,
    warnings: GroupWarnings,
) {
    if file.file_error().is_some() {
        return;
    }
    match warnings {
        GroupWarnings::Counted => file.count_unknown_groups(plan::Directory::group_ids(dir)),
        GroupWarnings::PerRecord => file.check_groups(plan::Directory::group_ids(dir)),
    }
    if create {
        // `import.unknown_groups = "create"`: the apply creates them, the plan keeps their
        // memberships, and the warnings say so.
        for p in file
            .problems
            .iter_mut()
            .filter(|p| p.code == crate::core::problem::Code::UnknownGroup)
        {
            p.message = p.message.replace(
                "this membership is ignored",
                "the group is created with its ID as its name (import.unknown_groups)",
            );
        }
        dir.assume_groups(file.unknown_group_counts().into_keys());
    }
}

/// The stage line of a reading: records, problems, and the time it took.
pub(super) fn log_read(file: &ImportFile, bytes: usize, started: std::time::Instant) {
    log::info!(
        "read: {} records of {} bytes ({}, delimiter {}), {} errors, {} warnings, with the directory loaded beside it, in {}",
        crate::render::thousands(file.rows as u64),
        crate::render::thousands(bytes as u64),
        file.encoding,
        input::delimiter_name(file.delimiter),
        crate::render::thousands(file.errors() as u64),
        // Unknown Group IDs counted rather than warned of record by record count as theirs.
        crate::render::thousands(
            file.warnings() as u64 + file.unknown_groups.values().sum::<u64>()
        ),
        crate::render::log::secs(started)
    );
}

/// A size for a person: `58.3 MB`.
pub(super) fn bytes_text(n: usize) -> String {
    if n < 1_000_000 {
        format!("{} kB", n.div_ceil(1000))
    } else {
        format!("{:.1} MB", n as f64 / 1e6)
    }
}

/// Of the records' problems, a plan's reading keeps this many errors and this many warnings
/// (what a person reads, and more); the rest are counted, and streamed to the store and to
/// the JSON document from the file's bytes (SPEC §5: bounded by the file).
pub const KEEP_PROBLEMS: usize = 1000;

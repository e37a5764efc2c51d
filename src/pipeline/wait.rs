//! `source.wait_for = "new"` (SPEC §3): the fetch that waits for a file other than the one
//! applied last.

use super::fetch::{read_source, sftp_options};
use crate::config::Config;
use crate::store::batches::{sha256_hex, Batch};
use crate::transport::{local, sftp, Fetched};

/// `source.wait_for = "new"` (SPEC §3): look at the source until a file other than the
/// `applied` batch's is there, or `source.wait_secs` passes, then fetch it as a night would.
/// Between downloads the source is only looked at: a file of the applied batch's size and
/// mtime is that batch's file without a download; any other is downloaded and its SHA-256
/// compared. Gives the file fetched last: the new one, or when the wait ran out the one that
/// is there (the applied file again: an unchanged night); a missing file then fails.
pub fn wait_for_new(
    config: &Config,
    source: &str,
    applied: &Batch,
    progress: &dyn Fn(u64, u64),
) -> anyhow::Result<Fetched> {
    use std::time::{Duration, Instant};
    // This loop does the waiting: each fetch in it fails at once on a missing file.
    let mut once = config.clone();
    once.source.wait_secs = 0;
    let wait = Duration::from_secs(config.source.wait_secs);
    let poll = (wait / 20).clamp(Duration::from_millis(500), Duration::from_secs(30));
    let started = Instant::now();
    let mut said: Option<Instant> = None;
    // The size and mtime of the last file downloaded and found to be the applied one.
    let mut known = (applied.size, applied.remote_mtime);
    loop {
        let seen = if source.starts_with("sftp://") {
            let url = sftp::Url::parse(source).map_err(crate::error::usage)?;
            sftp::look(&url, &sftp_options(&once, None)?)?
        } else {
            local::look(source)?
        };
        if let Some(stat) = seen.filter(|s| (s.size as i64, Some(s.mtime)) != known) {
            let fetched = read_source(&once, source, None, progress)?;
            if sha256_hex(&fetched.bytes) != applied.sha256 {
                return Ok(fetched);
            }
            known = (stat.size as i64, Some(stat.mtime));
        }
        let waited = started.elapsed();
        if waited >= wait {
            return read_source(&once, source, None, progress).map_err(|e| {
                e.context(format!(
                    "gave up after waiting {}s for a new file (source.wait_secs = {})",
                    waited.as_secs(),
                    wait.as_secs()
                ))
            });
        }
        // Said at the first look, then once a minute.
        if said.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            log::warn!(
                "{} is {} (source.wait_for = \"new\"); waiting for a new file, {}s left",
                crate::render::grid::source_name(source),
                match seen {
                    Some(_) => format!("still the file of batch {}, already applied", applied.id),
                    None => "not there".to_string(),
                },
                (wait - waited).as_secs()
            );
            said = Some(Instant::now());
        }
        std::thread::sleep(poll.min(wait - waited));
    }
}

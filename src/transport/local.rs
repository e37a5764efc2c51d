//! Local files and standard input.

use super::Fetched;
use anyhow::Context as _;
use std::io::Read;

/// What reading a local source gave.
pub enum Local {
    Read(Fetched),
    /// The file is larger than the limit; its size, without reading it.
    TooLarge(u64),
}

/// Read a local path, or standard input for `-`, refusing to read past `max_bytes`.
pub fn read(path: &str, max_bytes: u64) -> anyhow::Result<Local> {
    let mut bytes = Vec::new();
    let mtime;
    if path == "-" {
        std::io::stdin()
            .lock()
            .take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        mtime = None;
    } else {
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {path}"))?;
        let meta = file
            .metadata()
            .with_context(|| format!("cannot read {path}"))?;
        if meta.is_dir() {
            anyhow::bail!("{path} is a directory, not a file");
        }
        if meta.len() > max_bytes {
            return Ok(Local::TooLarge(meta.len()));
        }
        mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64);
        // Room for the whole file at once (and the byte that tells a file grown past the
        // limit): read in one call into memory of its final size, rather than in reads that
        // grow the buffer by doubling, each growth a copy and new pages to fault in.
        let room = meta
            .len()
            .saturating_add(1)
            .min(max_bytes.saturating_add(1));
        bytes = Vec::with_capacity(usize::try_from(room).unwrap_or(0));
        file.take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {path}"))?;
    }
    if bytes.len() as u64 > max_bytes {
        return Ok(Local::TooLarge(bytes.len() as u64));
    }
    Ok(Local::Read(Fetched {
        bytes,
        source: path.to_string(),
        mtime,
    }))
}

/// The size and mtime (in nanoseconds) of a local file, `None` when it is not there: what a `sync` waiting for
/// a new file (`source.wait_for = "new"`) looks at between reads.
pub fn look(path: &str) -> anyhow::Result<Option<super::sftp::Stat>> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some(super::sftp::Stat {
            size: meta.len(),
            // In nanoseconds: a new file of the same size written in the same second as the
            // one already applied is still told apart (an SFTP server gives whole seconds).
            mtime: meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read {path}"))),
    }
}

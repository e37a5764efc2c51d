//! The exclusive run lock: one file beside the store, held for the life of a run.

use crate::error::Error;
use anyhow::Context as _;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Held while a run that changes the store or sends mail is under way; released on drop.
#[derive(Debug)]
pub struct Lock {
    _file: File,
    pub path: PathBuf,
}

pub fn lock_path(store: &Path) -> PathBuf {
    let mut name = store.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    store.with_file_name(name)
}

impl Lock {
    /// Take the lock at once, or fail with exit 5 naming the holder's PID.
    pub fn acquire(store: &Path) -> anyhow::Result<Lock> {
        if let Some(dir) = store.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let path = lock_path(store);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                file.read_to_string(&mut holder).ok();
                let holder = holder.trim();
                let who = if holder.is_empty() {
                    "another process".to_string()
                } else {
                    format!("PID {holder}")
                };
                return Err(Error::Locked(format!(
                    "another roster run ({who}) holds the lock {}; try again when it has finished",
                    path.display()
                ))
                .into());
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        file.flush()?;
        Ok(Lock { _file: file, path })
    }
}

/// A run that holds the lock: its PID (as it wrote it in the lock file) and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<u32>,
    /// When the lock was taken (the lock file's mtime, written as the lock is taken).
    pub since: std::time::SystemTime,
}

/// The run holding the lock, if any, found without taking the lock (so that looking never
/// makes a starting run fail with exit 5): the kernel's table of file locks is read for the
/// lock file's inode. Without that table, a shared lock is tried for an instant.
pub fn holder(store: &Path) -> Option<Holder> {
    use std::os::unix::fs::MetadataExt;
    let path = lock_path(store);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let held = match std::fs::read_to_string("/proc/locks") {
        Ok(table) => locks_hold(&table, meta.ino()),
        Err(_) => {
            let file = File::open(&path).ok()?;
            matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
        }
    };
    if !held {
        return None;
    }
    let pid = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse().ok());
    Some(Holder {
        pid,
        since: meta.modified().unwrap_or(std::time::UNIX_EPOCH),
    })
}

/// Whether `/proc/locks` lists a granted lock on this inode (`1: FLOCK ADVISORY WRITE 4242
/// 08:01:1234 0 EOF`; a waiting lock's line has `->` after the number).
fn locks_hold(table: &str, inode: u64) -> bool {
    table.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.get(1) != Some(&"->")
            && fields
                .get(5)
                .and_then(|f| f.rsplit(':').next())
                .and_then(|i| i.parse::<u64>().ok())
                == Some(inode)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_table_is_read_for_the_inode() {
        let table = "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF\n\
                     1: -> FLOCK  ADVISORY  WRITE 4343 08:01:999 0 EOF\n\
                     2: POSIX  ADVISORY  READ 17 00:19:77 0 EOF\n";
        let cases = [(1234, true), (999, false), (77, true), (5, false)];
        for (inode, want) in cases {
            assert_eq!(locks_hold(table, inode), want, "{inode}");
        }
    }

    #[test]
    fn a_held_lock_is_seen_and_a_free_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("roster.db");
        assert_eq!(holder(&store), None);
        let lock = Lock::acquire(&store).unwrap();
        let seen = holder(&store).unwrap();
        assert_eq!(seen.pid, Some(std::process::id()));
        drop(lock);
        assert_eq!(holder(&store), None);
    }
}

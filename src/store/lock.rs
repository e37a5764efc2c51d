//! The exclusive run lock: one file beside the store, held for the life of a run.

use crate::error::Error;
use anyhow::Context as _;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Held while a run that changes the store or sends mail is under way; released on drop.
#[derive(Debug)]
pub struct Lock {
    _file: File,
    pub path: PathBuf,
    /// The run lock of a run (`fetch`, `apply`, `sync`, …); none for a `users`/`groups` edit.
    _run: Option<RunLock>,
}

/// The run lock, a second file beside the store: `fetch`, `apply`, `sync`, `revert`, `users
/// invite` and `report --send` hold it for their whole run, and the store's lock as well.
/// `sync` with `source.wait_for = "new"` holds only this one while it waits for a new file,
/// so that `users`/`groups` edits (which take the store's lock only) go ahead meanwhile, while
/// a second run still exits 5 at once (SPEC §3).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    pub path: PathBuf,
}

/// `roster.db.run.lock` beside `roster.db.lock`.
pub fn run_lock_path(store: &Path) -> PathBuf {
    lock_path(store).with_extension("run.lock")
}

impl RunLock {
    /// Take the run lock at once, or fail with exit 5 naming the holder's PID.
    pub fn acquire(store: &Path) -> anyhow::Result<RunLock> {
        let (file, path) = try_take(store, run_lock_path(store))?;
        Ok(RunLock { _file: file, path })
    }

    /// Then the store's lock, at once (exit 5 naming its holder).
    pub fn and_store(self, store: &Path) -> anyhow::Result<Lock> {
        let (file, path) = try_take(store, lock_path(store))?;
        Ok(Lock {
            _file: file,
            path,
            _run: Some(self),
        })
    }

    /// Then the store's lock, waiting up to `patience` for a `users`/`groups` edit that holds
    /// it (`waiting` is told once), then exit 5.
    pub fn and_store_waiting(
        self,
        store: &Path,
        patience: std::time::Duration,
        waiting: impl FnOnce(&str),
    ) -> anyhow::Result<Lock> {
        let lock = Lock::wait(store, patience, waiting)?;
        Ok(Lock {
            _run: Some(self),
            ..lock
        })
    }
}

/// The lock file of a store: beside its real path, so that one store is one lock however it
/// is reached (a symbolic link to the file or to a folder above it, a `..` path).
pub fn lock_path(store: &Path) -> PathBuf {
    let store = real_path(store);
    let mut name = store.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    store.with_file_name(name)
}

/// The store's canonical path: every symbolic link and `..` resolved. A store that does not
/// exist yet is its nearest existing folder, resolved, joined with the rest of the path (a
/// dangling link to the file is followed to where it points, as opening it would create it).
pub fn real_path(store: &Path) -> PathBuf {
    // A chain of dangling links (`a -> b -> c`, none created yet) is followed to its end, as
    // the kernel does (at most 40 links, its own limit).
    let mut path = store.to_path_buf();
    for _ in 0..40 {
        if let Ok(real) = std::fs::canonicalize(&path) {
            return real;
        }
        let Ok(target) = std::fs::read_link(&path) else {
            break;
        };
        let next = path
            .parent()
            .map_or(target.clone(), |dir| dir.join(&target));
        if next == path {
            break;
        }
        path = next;
    }
    real_path_of_missing(&path)
}

/// A path whose last parts do not exist: its nearest existing ancestor, resolved, joined with
/// the missing parts (a `..` among them is taken lexically).
fn real_path_of_missing(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut missing = Vec::new();
    let mut base = absolute.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(base) {
            return missing.iter().rev().fold(real, |mut acc: PathBuf, part| {
                if *part == std::ffi::OsStr::new("..") {
                    acc.pop();
                } else if *part != std::ffi::OsStr::new(".") {
                    acc.push(part);
                }
                acc
            });
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_os_string());
                base = parent;
            }
            _ => return absolute,
        }
    }
}

impl Lock {
    /// Take the run lock and the store's lock at once, or fail with exit 5 naming the
    /// holder's PID.
    pub fn acquire(store: &Path) -> anyhow::Result<Lock> {
        RunLock::acquire(store)?.and_store(store)
    }

    /// Take the lock, waiting up to `patience` for the run that holds it (`waiting` is told
    /// once, with the holder, when it has to wait); then exit 5 naming the holder's PID.
    pub fn wait(
        store: &Path,
        patience: std::time::Duration,
        waiting: impl FnOnce(&str),
    ) -> anyhow::Result<Lock> {
        let (mut file, path) = open(store)?;
        let deadline = std::time::Instant::now() + patience;
        let mut waiting = Some(waiting);
        loop {
            match file.try_lock() {
                Ok(()) => {
                    let (file, path) = write_pid(file, path)?;
                    return Ok(Lock {
                        _file: file,
                        path,
                        _run: None,
                    });
                }
                Err(TryLockError::WouldBlock) => {
                    if std::time::Instant::now() >= deadline {
                        return Err(locked(&mut file, &path));
                    }
                    if let Some(say) = waiting.take() {
                        say(&holder_text(&mut file));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
        }
    }
}

/// Take the lock file at `path` (beside `store`) at once, or fail with exit 5.
fn try_take(store: &Path, path: PathBuf) -> anyhow::Result<(File, PathBuf)> {
    let (mut file, path) = open_at(store, path)?;
    match file.try_lock() {
        Ok(()) => write_pid(file, path),
        Err(TryLockError::WouldBlock) => Err(locked(&mut file, &path)),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Write the holder's PID into the locked file in one write, at its start, then cut what
/// is after it: a reader sees the old PID, or the new one, or (for an instant) a mix that
/// does not parse, which it reads again.
fn write_pid(file: File, path: PathBuf) -> anyhow::Result<(File, PathBuf)> {
    use std::os::unix::fs::FileExt;
    let text = format!("{}\n", std::process::id());
    file.write_all_at(text.as_bytes(), 0)?;
    file.set_len(text.len() as u64)?;
    Ok((file, path))
}

/// Create the store's folder (0700) and open the lock file beside the store, never through a
/// symbolic link (`O_NOFOLLOW`): a link planted there would make roster write where it points.
fn open(store: &Path) -> anyhow::Result<(File, PathBuf)> {
    open_at(store, lock_path(store))
}

/// [`open`] for the lock file at `path`.
fn open_at(store: &Path, path: PathBuf) -> anyhow::Result<(File, PathBuf)> {
    if let Some(dir) = store.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .with_context(|| {
            format!(
                "cannot open the lock file {} (a symbolic link is never followed)",
                path.display()
            )
        })?;
    Ok((file, path))
}

/// Create a folder and its missing parents with mode 0700 (not from the umask): the store holds
/// personal data.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the store folder {}", dir.display()))
}

/// The holder as the lock message names it: `PID 4242`. The holder writes its PID just after
/// it takes the lock, so an empty or half-written file is read again for a while.
fn holder_text(file: &mut File) -> String {
    for _ in 0..200 {
        let mut text = String::new();
        file.rewind().ok();
        file.read_to_string(&mut text).ok();
        if let Ok(pid) = text.trim().parse::<u32>() {
            return format!("PID {pid}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    "another process (its PID is not written in the lock file)".to_string()
}

fn locked(file: &mut File, path: &Path) -> anyhow::Error {
    let who = holder_text(file);
    Error::Locked(format!(
        "another roster run ({who}) holds the lock {}; try again when it has finished",
        path.display()
    ))
    .into()
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
    // A run holds the run lock from its start (a waiting `sync` only that one); an edit only
    // the store's.
    held_at(&run_lock_path(store)).or_else(|| held_at(&lock_path(store)))
}

/// Who holds the lock file at `path`, if anyone.
fn held_at(path: &Path) -> Option<Holder> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let held = match std::fs::read_to_string("/proc/locks") {
        Ok(table) => locks_hold(&table, meta.ino()),
        Err(_) => {
            let file = File::open(path).ok()?;
            matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
        }
    };
    if !held {
        return None;
    }
    let pid = std::fs::read_to_string(path)
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
        // A run that holds only the run lock (a waiting sync) is seen too; an edit can take
        // the store's lock meanwhile, and a second run cannot.
        let run = RunLock::acquire(&store).unwrap();
        assert_eq!(holder(&store).unwrap().pid, Some(std::process::id()));
        assert!(RunLock::acquire(&store).is_err());
        assert!(Lock::acquire(&store).is_err());
        let edit = Lock::wait(&store, std::time::Duration::ZERO, |_| {}).unwrap();
        drop(edit);
        let lock = run.and_store(&store).unwrap();
        drop(lock);
        assert_eq!(holder(&store), None);
    }
}

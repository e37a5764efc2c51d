//! Whether another user can read or replace the store (SPEC §5 "Locking": `status` warns):
//! its mode, its owner, a folder on its path (as given, or its real one) that another user
//! can write without the sticky bit, or a symbolic link on its path that another user owns.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Why another user can read or replace the store at `path`, or `None` when nobody else can
/// (or there is no store to speak of).
pub fn exposed(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let me = effective_uid();
    let mode = meta.permissions().mode() & 0o777;
    if meta.uid() != me {
        return Some(format!(
            "the store {} is owned by {}, not by {} who runs roster: that account can read and replace it",
            path.display(),
            account(meta.uid()),
            account(me)
        ));
    }
    if mode & 0o077 != 0 {
        return Some(format!(
            "the store {} has mode {mode:04o}: other users can {} it; run: chmod 600 {}",
            path.display(),
            if mode & 0o022 != 0 {
                "read and write"
            } else {
                "read"
            },
            path.display()
        ));
    }
    // The folders of the path as given (one may hold a symbolic link that another user could
    // replace), then those of the store's real path.
    let given = std::path::absolute(path).ok()?;
    let real = std::fs::canonicalize(path).ok()?;
    given
        .ancestors()
        .find_map(|part| link(part, me))
        .or_else(|| {
            given
                .ancestors()
                .skip(1)
                .chain(real.ancestors().skip(1))
                .find_map(|dir| folder(dir, me))
        })
}

/// Why a symbolic link on the store's path as given lets another user replace the store: it
/// is theirs, in a folder that others can write (with the sticky bit too, the link's owner may
/// remove it and point a new one at a store of their own).
fn link(part: &Path, me: u32) -> Option<String> {
    let meta = std::fs::symlink_metadata(part).ok()?;
    let shared =
        |dir: &Path| std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o022 != 0);
    let theirs = meta.file_type().is_symlink() && meta.uid() != me && meta.uid() != 0;
    (theirs && part.parent().is_some_and(shared)).then(|| {
        format!(
            "the symbolic link {} is owned by {}, who can point it at another store",
            part.display(),
            account(meta.uid())
        )
    })
}

/// Why a folder on the store's path lets another user replace what is in it.
fn folder(dir: &Path, me: u32) -> Option<String> {
    let meta = std::fs::metadata(dir).ok()?;
    let mode = meta.permissions().mode();
    let sticky = mode & 0o1000 != 0;
    if mode & 0o022 != 0 && !sticky {
        return Some(format!(
            "the folder {} has mode {:04o}: other users can write in it and replace the store",
            dir.display(),
            mode & 0o7777
        ));
    }
    if meta.uid() != me && meta.uid() != 0 {
        return Some(format!(
            "the folder {} is owned by {}, who can replace the store",
            dir.display(),
            account(meta.uid())
        ));
    }
    None
}

/// The uid this process runs as (the owner of what it creates).
fn effective_uid() -> u32 {
    std::fs::metadata("/proc/self").map_or(0, |m| m.uid())
}

/// `nobody (uid 65534)`, or the uid alone when /etc/passwd does not name it.
fn account(uid: u32) -> String {
    let name = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let mut parts = line.split(':');
                let name = parts.next()?;
                (parts.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
            })
        });
    match name {
        Some(n) => format!("{n} (uid {uid})"),
        None => format!("uid {uid}"),
    }
}

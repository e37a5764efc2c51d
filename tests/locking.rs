//! The store's lock, folder and readers (SPEC §5), through the binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, Write};
use std::os::unix::fs::PermissionsExt;
use support::Env;

const CSV: &str = "UniqueID;Name;Mail\nE1;Anna;anna@example.se\nE2;Bo;bo@example.se\n";

#[test]
fn status_never_creates_a_store() {
    let env = Env::new();
    let run = env.roster(&["status"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("no store at {}", env.store().display())),
        "{}",
        run.stderr
    );
    assert!(!env.store().exists(), "status created a store");
    assert!(
        !env.store().parent().unwrap().exists(),
        "status created the folder"
    );
    for format in ["json", "prometheus"] {
        let run = env.roster(&["status", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert!(!env.store().exists());
    }
}

#[test]
fn a_store_never_fetched_is_unhealthy_and_a_readable_one_is_reported() {
    let env = Env::new();
    env.roster(&["users", "list"]).ok();
    let run = env.roster(&["status", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["healthy"], false);
    assert_eq!(run.json()["store_readable_by_others"], false);
    std::fs::set_permissions(env.store(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = env.roster(&["status", "--format", "json"]);
    assert_eq!(run.json()["store_readable_by_others"], true);
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
}

#[test]
fn the_store_folder_is_0700_whatever_the_umask() {
    let env = Env::new();
    let bin = env!("CARGO_BIN_EXE_roster");
    let out = env
        .command(&[])
        .get_envs()
        .fold(std::process::Command::new("sh"), |mut c, (k, v)| {
            if let Some(v) = v {
                c.env(k, v);
            }
            c
        })
        .current_dir(env.dir.path())
        .args(["-c", &format!("umask 000; exec '{bin}' users list")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = env.store().parent().unwrap().to_path_buf();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "folder mode {mode:o}");
    let mode = std::fs::metadata(env.store()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "store mode {mode:o}");
}

#[test]
fn the_lock_file_is_never_opened_through_a_symbolic_link() {
    let env = Env::new();
    let victim = env.write("victim.txt", "precious\n");
    std::fs::create_dir_all(env.store().parent().unwrap()).unwrap();
    let lock = env.path("data/roster.db.lock");
    std::os::unix::fs::symlink(&victim, &lock).unwrap();
    let csv = env.write("users.csv", CSV);
    for args in [
        vec!["fetch", "--source", csv.to_str().unwrap()],
        vec!["sync", "--source", csv.to_str().unwrap()],
        vec!["users", "add", "--name", "Cy", "--mail", "cy@example.se"],
    ] {
        let run = env.roster(&args);
        assert_ne!(run.code, 0, "{args:?} went through the link");
        assert_ne!(run.code, 101, "{args:?}: {}", run.stderr);
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

/// Several runs started at once: each one that finds the lock taken names the holder's PID.
#[test]
fn the_lock_message_always_names_the_pid() {
    let env = Env::new();
    let csv = env.write("users.csv", CSV);
    env.roster(&["users", "list"]).ok();
    for _round in 0..5 {
        let children: Vec<_> = (0..6)
            .map(|_| {
                env.command(&["fetch", "--source", csv.to_str().unwrap()])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                Some(0) => {}
                Some(5) => assert!(
                    stderr.contains("(PID ") && !stderr.contains("another process"),
                    "{stderr}"
                ),
                other => panic!("exit {other:?}: {stderr}"),
            }
        }
    }
}

/// A manual edit waits for a run that holds the lock (and says so), then goes through.
#[test]
fn a_manual_edit_waits_for_the_lock() {
    let env = Env::new();
    env.roster(&["users", "list"]).ok();
    let lock_path = env.path("data/roster.db.lock");
    let mut held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&lock_path)
        .unwrap();
    held.lock().unwrap();
    writeln!(held, "4242").unwrap();
    let mut child = env
        .command(&["users", "add", "--name", "Cy", "--mail", "cy@example.se"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(
        line.contains("waiting") && line.contains("PID 4242"),
        "{line}"
    );
    // Nothing is written while it waits.
    assert_eq!(env.snapshot("users"), "");
    held.unlock().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(env.snapshot("users").contains("cy@example.se"));
}

/// The one store under four names: its own path, a symbolic link to the file, a path through a
/// symbolic link to the folder above it, and a `..` path.
fn four_paths(env: &Env) -> Vec<std::path::PathBuf> {
    env.roster(&["users", "list"]).ok();
    std::os::unix::fs::symlink(env.store(), env.path("linked.db")).unwrap();
    std::os::unix::fs::symlink(env.path("data"), env.path("folder")).unwrap();
    std::fs::create_dir(env.path("other")).unwrap();
    vec![
        env.store(),
        env.path("linked.db"),
        env.path("folder/roster.db"),
        env.path("other/../data/roster.db"),
    ]
}

/// SPEC §5: one store is one lock however it is reached. A sync holds the lock through one
/// path (reading its source from a pipe that stays open); a fetch through each of the others
/// exits 5 naming the holder's PID.
#[test]
fn one_store_is_one_lock_through_links_and_dot_dot_paths() {
    let env = Env::new();
    let paths = four_paths(&env);
    let csv = env.write("users.csv", CSV);
    for (i, holder_path) in paths.iter().enumerate() {
        let mut holder = env
            .command(&["sync", "--source", "-"])
            .env("ROSTER_STORE", holder_path)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = holder.id().to_string();
        let lock = env.path("data/roster.db.lock");
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::fs::read_to_string(&lock).unwrap_or_default().trim() != pid {
            assert!(
                std::time::Instant::now() < until,
                "the sync never took the lock"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        for (j, other) in paths.iter().enumerate().filter(|(j, _)| *j != i) {
            let run = env.roster_var(
                ("ROSTER_STORE", other.to_str().unwrap()),
                &["fetch", "--source", csv.to_str().unwrap()],
            );
            assert_eq!(
                run.code, 5,
                "held through {i}, fetched through {j}: {}",
                run.stderr
            );
            assert!(run.stderr.contains(&format!("PID {pid}")), "{}", run.stderr);
        }
        holder
            .stdin
            .take()
            .unwrap()
            .write_all(CSV.as_bytes())
            .unwrap();
        let out = holder.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Only the real folder holds a lock file: no link grew one of its own.
    assert!(!env.path("linked.db.lock").exists());
}

/// Two syncs of the same new file started at once through two names of one store: one
/// applies it, the other exits 5 or finds it unchanged; never are both applied.
#[test]
fn concurrent_syncs_through_two_paths_never_both_apply() {
    let env = Env::new();
    env.write("roster.toml", "[import]\nmax_updates = \"100%\"\n");
    let paths = four_paths(&env);
    let users = |title: &str| {
        let mut csv = String::from("UniqueID;Name;Mail;Title\n");
        for i in 0..3000 {
            csv.push_str(&format!("E{i:05};Person {i};p{i}@example.se;{title}\n"));
        }
        csv
    };
    for (round, title) in ["Nurse", "Head nurse", "Chief"].iter().enumerate() {
        let day = env.write(&format!("day{round}.csv"), users(title));
        let children: Vec<_> = paths
            .iter()
            .map(|p| {
                env.command(&["sync", "--source", day.to_str().unwrap()])
                    .env("ROSTER_STORE", p)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let code = out.status.code();
            assert!(
                matches!(code, Some(0 | 5)),
                "exit {code:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let db = env.db();
        let applied: i64 = db
            .query_row(
                "SELECT count(*) FROM runs WHERE command = 'sync' AND status = 'applied'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            applied,
            round as i64 + 1,
            "round {round}: each file applied once"
        );
        let changes: i64 = db
            .query_row(
                "SELECT count(*) FROM audit WHERE unique_id = 'E00042' AND field = 'title'
                 AND new = ?1",
                [title],
                |r| r.get(0),
            )
            .unwrap();
        let want = i64::from(round > 0);
        assert_eq!(
            changes, want,
            "round {round}: the title {title} audited {changes} times"
        );
    }
}

/// SPEC §5: a store not created yet, reached through a chain of two symbolic links
/// (`a.db -> b.db -> c.db`), is one lock with its real name: a run holding it through the
/// first name makes a run through the last one exit 5, and no link grows a lock of its own.
#[test]
fn a_new_store_behind_a_chain_of_links_is_one_lock() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("data")).unwrap();
    std::os::unix::fs::symlink("c.db", env.path("data/b.db")).unwrap();
    std::os::unix::fs::symlink("b.db", env.path("data/a.db")).unwrap();
    let csv = env.write("users.csv", CSV);
    let mut holder = env
        .command(&["sync", "--source", "-"])
        .env("ROSTER_STORE", env.path("data/a.db"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = holder.id().to_string();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let held = || {
        ["a.db", "b.db", "c.db"].iter().any(|n| {
            std::fs::read_to_string(env.path(&format!("data/{n}.lock")))
                .unwrap_or_default()
                .trim()
                == pid
        })
    };
    while !held() {
        assert!(
            std::time::Instant::now() < until,
            "the sync never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let run = env.roster_var(
        ("ROSTER_STORE", env.path("data/c.db").to_str().unwrap()),
        &["fetch", "--source", csv.to_str().unwrap()],
    );
    holder
        .stdin
        .take()
        .unwrap()
        .write_all(CSV.as_bytes())
        .unwrap();
    let out = holder.wait_with_output().unwrap();
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("PID {pid}")), "{}", run.stderr);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!env.path("data/a.db.lock").exists());
    assert!(!env.path("data/b.db.lock").exists());
}

//! Concurrency through the binary (SPEC §5 Locking and Readers, §7): a manual edit, a read and
//! a second sync while a large apply runs; nothing is lost, every audit row holds the value it
//! replaced, and readers never fail. Synchronised on observable state (the `-v` stage lines,
//! the lock file, a process asleep in SQLite's busy wait), never on sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::Env;

/// Poll `ready` until it holds, for at most `secs` seconds.
#[track_caller]
fn wait_until(what: &str, secs: u64, mut ready: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while !ready() {
        assert!(Instant::now() < until, "gave up waiting for {what}");
        std::thread::yield_now();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// True when the process's main thread is asleep in a nanosleep: SQLite's busy handler
/// waiting for the write lock (read from /proc/PID/syscall).
fn asleep(pid: u32) -> bool {
    let sleeps: &[&str] = match std::env::consts::ARCH {
        "x86_64" => &["35", "230"],
        "aarch64" => &["101", "115"],
        _ => &[],
    };
    std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .is_some_and(|n| sleeps.contains(&n.as_str()))
}

fn spawn(env: &Env, args: &[&str]) -> Child {
    env.command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> support::Run {
    let out = child.wait_with_output().unwrap();
    support::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The audit rows of a user's field: (command, old, new), oldest first.
fn audit(env: &Env, unique_id: &str, field: &str) -> Vec<(String, Option<String>, Option<String>)> {
    let db = env.db();
    let mut stmt = db
        .prepare(
            "SELECT r.command, a.old, a.new FROM audit a JOIN runs r ON r.id = a.run_id
             WHERE a.unique_id = ?1 AND a.field = ?2 ORDER BY a.rowid",
        )
        .unwrap();
    let rows = stmt
        .query_map([unique_id, field], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn an_edit_that_waits_for_a_writer_keeps_its_change_and_audits_what_it_replaced() {
    let env = Env::new();
    env.import(
        "day1.csv",
        "UniqueID;Name;Mail;TelephoneNumber\nE1;Anna Berg;anna@example.se;+46701234567\n",
        &[],
    )
    .ok();
    // Another writer holds SQLite's write lock with a change to the same user's name (as an
    // apply of an older roster, or any writer past the store lock, would).
    let writer = env.db();
    writer
        .execute_batch(
            "BEGIN IMMEDIATE; UPDATE users SET name = 'Anna Chief', phone = '+46709999999' WHERE unique_id = 'E1';",
        )
        .unwrap();
    let edit = spawn(&env, &["users", "edit", "E1", "--phone", "+46701111111"]);
    wait_until("the edit waiting for SQLite's write lock", 60, || {
        asleep(edit.id())
    });
    writer.execute_batch("COMMIT").unwrap();
    finish(edit).ok();
    let user = env.user("E1");
    assert_eq!(
        (user["name"].as_str(), user["phone"].as_str()),
        (Some("Anna Chief"), Some("+46701111111")),
        "the edit wrote over a change it never read: {user:#}"
    );
    let phone = audit(&env, "E1", "phone");
    assert_eq!(
        phone
            .last()
            .map(|(_, old, new)| (old.as_deref(), new.as_deref())),
        Some((Some("+46709999999"), Some("+46701111111"))),
        "the audit row holds the value the edit replaced: {phone:?}"
    );
}

/// `n` users, with `title` as every user's title.
fn day(n: usize, title: &str) -> String {
    let mut csv = String::with_capacity(n * 60);
    csv.push_str("UniqueID;Name;Mail;Title\n");
    for i in 0..n {
        csv.push_str(&format!(
            "E{i:06};Person {i};person{i}@example.se;{title}\n"
        ));
    }
    csv
}

#[test]
fn an_edit_a_read_and_a_second_sync_while_a_large_apply_runs() {
    const USERS: usize = 50_000;
    let env = Env::new();
    // The edit waits for the whole apply: on a loaded machine that can take longer than the
    // default 30 s, so it may wait up to an hour (what it must do while it waits is unchanged).
    env.write(
        "roster.toml",
        "[store]\nlock_wait_secs = 3600\n[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\n",
    );
    let day1 = env.write("day1.csv", day(USERS, "Nurse"));
    env.roster(&["-q", "sync", "--source", day1.to_str().unwrap()])
        .ok();
    let day2 = env.write("day2.csv", day(USERS, "Head nurse"));

    // The large apply: every user's title changes. Its `-v` line for the plan says the
    // writing is about to begin.
    let mut sync = spawn(&env, &["-v", "sync", "--source", day2.to_str().unwrap()]);
    let mut lines = BufReader::new(sync.stderr.take().unwrap()).lines();
    let mut said = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        said.push(line.clone());
        if line.starts_with("roster: plan: ") {
            break;
        }
    }
    assert!(
        said.last().is_some_and(|l| l.starts_with("roster: plan: ")),
        "{said:?}"
    );
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());

    // While it writes: a second sync exits 5 at once, naming the holder's PID.
    let second = env.roster(&["sync", "--source", day2.to_str().unwrap()]);
    assert_eq!(second.code, 5, "{}", second.stderr);
    assert!(
        second.stderr.contains(&sync.id().to_string()),
        "the holder's PID {}: {}",
        sync.id(),
        second.stderr
    );
    // A manual edit waits for the lock, saying so, and lands after the apply.
    let edit = spawn(
        &env,
        &[
            "users",
            "edit",
            "E000054",
            "--phone",
            "+46701111111",
            "--reason",
            "asked by phone",
        ],
    );
    // Readers read the last committed state, or wait; they never fail.
    let status = env.roster(&["status", "--format", "json"]);
    assert!(
        matches!(status.code, 0 | 1) && !status.stderr.contains("locked"),
        "{}",
        status.stderr
    );
    assert!(status.json()["last_fetch"].is_object());
    let list = env
        .roster(&["users", "list", "--format", "json"])
        .ok()
        .json();
    let titles: std::collections::BTreeSet<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["title"].as_str().unwrap())
        .collect();
    assert_eq!(list.as_array().unwrap().len(), USERS);
    assert!(
        titles.len() == 1,
        "a reader sees one committed state, never half an apply: {titles:?}"
    );

    let sync_out = sync.wait().unwrap();
    let rest = rest.join().unwrap();
    assert!(sync_out.success(), "{said:?} {rest:?}");
    let edit = finish(edit).ok();
    assert!(edit.stderr.contains("waiting"), "{}", edit.stderr);

    // Nothing lost: the apply's titles and the edit's phone are both there.
    let user = env.user("E000054");
    assert_eq!(
        (user["title"].as_str(), user["phone"].as_str()),
        (Some("Head nurse"), Some("+46701111111")),
        "{user:#}"
    );
    assert_eq!(
        audit(&env, "E000054", "title").last().cloned(),
        Some((
            "sync".to_string(),
            Some("Nurse".to_string()),
            Some("Head nurse".to_string())
        ))
    );
    assert_eq!(
        audit(&env, "E000054", "phone"),
        vec![(
            "users edit".to_string(),
            None,
            Some("+46701111111".to_string())
        )]
    );
    // The file has no phone column: the next sync of the same file changes nothing.
    let again = env
        .roster(&[
            "sync",
            "--source",
            day2.to_str().unwrap(),
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(again["status"], "unchanged", "{again:#}");
}

#[test]
fn readers_work_during_a_first_import() {
    const USERS: usize = 50_000;
    let env = Env::new();
    let day1 = env.write("day1.csv", day(USERS, "Nurse"));
    // A store that exists, with nothing in it yet: the first import is what runs.
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    let mut sync = spawn(&env, &["-v", "sync", "--source", day1.to_str().unwrap()]);
    let mut lines = BufReader::new(sync.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().starts_with("roster: plan: ") {
            break;
        }
    }
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    for args in [
        &["status", "--format", "json"][..],
        &["users", "list", "--format", "json"][..],
        &["groups", "list", "--format", "json"][..],
        &["batches", "list"][..],
    ] {
        let run = env.roster(args);
        assert!(
            matches!(run.code, 0 | 1) && !run.stderr.contains("locked"),
            "{args:?}: {} {}",
            run.code,
            run.stderr
        );
        if args[0] == "users" {
            let n = run.json().as_array().unwrap().len();
            assert!(n == 0 || n == USERS, "half an import seen: {n}");
        }
    }
    assert!(sync.wait().unwrap().success(), "{:?}", rest.join());
    assert_eq!(env.users_json().len(), USERS);
}

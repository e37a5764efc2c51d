//! Change control end to end (SPEC §2): the update safeguard, unknown groups, who and why,
//! rollback and revert.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use support::Env;

const HEADER: &str = "UniqueID,Name,Mail,Title,TelephoneNumber,Groups";

fn row(i: usize, title: &str, groups: &str) -> String {
    format!("E{i:03},Person {i},p{i}@example.se,{title},+4670123{i:04},\"{groups}\"")
}

fn file(rows: impl IntoIterator<Item = String>) -> String {
    let mut out = String::from(HEADER);
    for r in rows {
        out.push('\n');
        out.push_str(&r);
    }
    out.push('\n');
    out
}

/// Ten users in ICU (the even ones also in NIGHT).
fn day1() -> String {
    file((1..=10).map(|i| {
        let groups = if i % 2 == 0 { "ICU,NIGHT" } else { "ICU" };
        row(i, "Nurse", groups)
    }))
}

fn setup() -> Env {
    let env = Env::new();
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    env.roster(&["groups", "add", "NIGHT", "--name", "Night shift"])
        .ok();
    env.import("day1.csv", &day1(), &[]).ok();
    env
}

/// What an apply may change.
fn directory(env: &Env) -> [String; 4] {
    ["users", "groups", "memberships", "audit"].map(|t| env.snapshot(t))
}

#[test]
fn an_empty_groups_column_is_blocked_by_max_updates() {
    let env = setup();
    let empty = file((1..=10).map(|i| row(i, "Nurse", "")));
    let before = directory(&env);
    let run = env.import("day2.csv", &empty, &[]).code(4);
    let doc = run.json();
    assert_eq!(doc["status"], "blocked");
    assert_eq!(doc["counts"]["update"], 10);
    assert!(
        run.stderr.contains("max_updates") && run.stderr.contains("import.max_updates"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("roster apply --batch 2 --allow-updates 10"),
        "{}",
        run.stderr
    );
    assert_eq!(directory(&env), before, "a blocked run changes nothing");
    // Too low a flag: the message names the flag, not the key.
    let run = env.roster(&["apply", "--allow-updates", "5"]).code(4);
    assert!(
        run.stderr.contains("--allow-updates 5") && !run.stderr.contains("import.max_updates"),
        "{}",
        run.stderr
    );
    // The release lets it through.
    env.roster(&["apply", "--batch", "2", "--allow-updates", "10"])
        .ok();
    assert_eq!(env.user("E001")["groups"], serde_json::json!([]));
    // A flag never lowers a limit: 0 leaves 20% of 10 for a change of one.
    let one = file((1..=10).map(|i| row(i, if i == 1 { "Head nurse" } else { "Nurse" }, "")));
    env.import("one.csv", &one, &["--allow-updates", "0"]).ok();
}

#[test]
fn reactivations_are_not_updates() {
    let env = setup();
    // Five leave (allowed), then come back: five reactivations of ten are not updates.
    let half = file((1..=5).map(|i| {
        let groups = if i % 2 == 0 { "ICU,NIGHT" } else { "ICU" };
        row(i, "Nurse", groups)
    }));
    env.import("half.csv", &half, &["--allow-removals", "5"])
        .ok();
    let run = env.import("back.csv", &day1(), &[]).ok().json();
    assert_eq!(run["counts"]["reactivate"], 5, "{run:#}");
}

#[test]
fn a_blocked_sync_names_the_held_batch() {
    let env = setup();
    let empty = env.write("remote.csv", file((1..=10).map(|i| row(i, "Nurse", ""))));
    let run = env
        .roster(&["-q", "sync", "--source", empty.to_str().unwrap()])
        .code(4);
    assert!(
        run.stderr
            .contains("roster apply --batch 2 --allow-updates 10"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("roster sync --allow"),
        "{}",
        run.stderr
    );
    let report = env.roster(&["report", "--format", "text"]).ok().stdout;
    assert!(
        report.contains("roster apply --batch 2 --allow-updates 10")
            && !report.contains("roster sync --allow"),
        "{report}"
    );
    // The dry run says the same.
    let run = env
        .roster(&["sync", "--dry-run", "--source", empty.to_str().unwrap()])
        .code(4);
    assert!(
        !run.stderr.contains("roster sync --allow") && run.stderr.contains("--allow-updates 10"),
        "{}",
        run.stderr
    );
}

#[allow(dead_code)]
fn json_of(run: &support::Run) -> Value {
    run.json()
}

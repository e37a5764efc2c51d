//! A crash (a panic) in any command that writes fails safe (SPEC §3, §4 "never a panic"): exit 1
//! with one clear line (never 101 and a raw panic report), the store as it was before the
//! failing step, and, for the commands that record runs (`apply`, `revert`, `push`), a `failed`
//! run naming its stage, so that `status` is unhealthy. `ROSTER_TEST_PANIC_AT` (debug builds
//! only) panics at a stage, or at a point inside a write's transaction.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::Env;

const FIRST: &str =
    "UniqueID;Name;Mail;Groups\nE1;Anna Berg;anna@example.se;ICU\nE2;Bo Ek;bo@example.se;ICU\n";
const SECOND: &str = "UniqueID;Name;Mail;Groups\nE1;Anna Berg;anna@example.se;ICU\nE2;Bo Ek;bo@example.se;\nE3;Cai Lund;cai@example.se;ICU\n";

/// Everything an apply or a manual edit can change, as text.
fn directory(env: &Env) -> String {
    ["users", "groups", "memberships", "audit", "batches"]
        .iter()
        .map(|t| format!("{t}:\n{}", env.snapshot(t)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The last run's command, status and stage.
fn last_run(env: &Env) -> (String, String, Option<String>) {
    env.db()
        .query_row(
            "SELECT command, status, json_extract(detail, '$.stage') FROM runs ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

/// One clear line on stderr, no raw panic report, exit 1.
#[track_caller]
fn crashed_cleanly(run: &support::Run, what: &str) {
    assert_eq!(run.code, 1, "{what}: {}", run.stderr);
    assert!(
        run.stderr.contains("roster crashed (a panic")
            && !run.stderr.contains("panicked at")
            && !run.stderr.contains("RUST_BACKTRACE"),
        "{what}: {}",
        run.stderr
    );
}

fn with_two_batches() -> Env {
    let env = Env::new();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\nunknown_groups = \"create\"\n",
    );
    env.import("first.csv", FIRST, &[]).ok();
    let second = env.write("second.csv", SECOND);
    env.roster(&["fetch", "--source", second.to_str().unwrap()])
        .ok();
    env
}

#[test]
fn a_crash_in_apply_at_any_stage_is_a_failed_run_and_changes_nothing() {
    for (point, stage) in [
        ("validate", "validate"),
        ("plan", "plan"),
        ("apply", "apply"),
        // Inside the apply's transaction, after every write, before the commit.
        ("apply-commit", "apply"),
    ] {
        let env = with_two_batches();
        let before = directory(&env);
        let runs_before = env.snapshot("runs");
        let run = env.roster_var(
            ("ROSTER_TEST_PANIC_AT", point),
            &["apply", "--format", "json"],
        );
        crashed_cleanly(&run, point);
        assert!(
            run.stderr.contains(&format!("at the {stage} stage")),
            "{point}: {}",
            run.stderr
        );
        let doc = run.json();
        assert_eq!(
            (doc["status"].as_str(), doc["stage"].as_str()),
            (Some("failed"), Some(stage)),
            "{point}: {doc:#}"
        );
        assert_eq!(directory(&env), before, "{point}: the directory changed");
        assert_ne!(
            env.snapshot("runs"),
            runs_before,
            "{point}: no run recorded"
        );
        assert_eq!(
            last_run(&env),
            ("apply".into(), "failed".into(), Some(stage.into())),
            "{point}"
        );
        let status = env.roster(&["status", "--format", "json"]).code(1).json();
        assert_eq!(status["healthy"], false, "{point}: {status:#}");
        // The report shows the failed run and its stage.
        let report = env
            .roster(&["report", "--format", "text", "--since", "1d"])
            .ok()
            .stdout;
        assert!(report.contains(stage), "{point}: {report}");
        // Nothing is held: the same apply then goes through.
        env.roster(&["apply"]).ok();
        assert_eq!(env.users_json().len(), 3, "{point}");
    }
}

#[test]
fn a_crash_after_the_apply_commits_is_a_failed_run_naming_its_stage() {
    let env = with_two_batches();
    let run = env.roster_var(("ROSTER_TEST_PANIC_AT", "invitations"), &["apply"]);
    crashed_cleanly(&run, "invitations");
    // The directory is the after-state (the apply committed), and the crash is recorded.
    assert_eq!(env.users_json().len(), 3);
    assert_eq!(
        last_run(&env),
        ("apply".into(), "failed".into(), Some("invitations".into()))
    );
    env.roster(&["status"]).code(1);
}

#[test]
fn a_crash_in_revert_is_a_failed_run_and_changes_nothing() {
    for (point, stage) in [
        ("plan", "plan"),
        ("apply", "apply"),
        ("revert-commit", "apply"),
    ] {
        let env = with_two_batches();
        let applied = env.roster(&["apply", "--format", "json"]).ok().json();
        let of = applied["run"].as_i64().unwrap().to_string();
        let before = directory(&env);
        let run = env.roster_var(("ROSTER_TEST_PANIC_AT", point), &["revert", &of]);
        crashed_cleanly(&run, point);
        assert!(
            run.stderr
                .contains(&format!("revert failed at the {stage} stage")),
            "{point}: {}",
            run.stderr
        );
        assert_eq!(directory(&env), before, "{point}: the directory changed");
        assert_eq!(
            last_run(&env),
            ("revert".into(), "failed".into(), Some(stage.into())),
            "{point}"
        );
        env.roster(&["status"]).code(1);
        // The run can still be reverted.
        env.roster(&["revert", &of]).ok();
        assert_eq!(env.users_json().len(), 3, "{point}");
    }
}

#[test]
fn a_crash_in_a_manual_write_or_a_fetch_changes_nothing() {
    let env = with_two_batches();
    env.roster(&["apply"]).ok();
    env.roster(&["groups", "add", "--name", "Night shift"]).ok();
    env.roster(&[
        "users",
        "add",
        "--name",
        "Dag Ny",
        "--mail",
        "dag@example.se",
    ])
    .ok();
    let groups = env.write(
        "groups.csv",
        "GroupID,Name\nICU,Intensive care\nER,Emergency\n",
    );
    let third = env.write("third.csv", FIRST);
    let crashing = ("ROSTER_TEST_PANIC_AT", "manual-write");
    let storing = ("ROSTER_TEST_PANIC_AT", "store-commit");
    let cases: Vec<((&str, &str), Vec<&str>)> = vec![
        (
            crashing,
            vec![
                "users",
                "add",
                "--name",
                "Eva Ny",
                "--mail",
                "eva@example.se",
            ],
        ),
        (
            crashing,
            vec!["users", "edit", "dag@example.se", "--title", "Chief"],
        ),
        (
            crashing,
            vec!["users", "edit", "E1", "--phone", "+46701234567"],
        ),
        (crashing, vec!["users", "remove", "dag@example.se"]),
        (
            crashing,
            vec!["groups", "add", "NEW", "--name", "New group"],
        ),
        (crashing, vec!["groups", "rename", "ICU", "Intensive"]),
        (
            crashing,
            vec!["groups", "members", "Night shift", "--add", "E1"],
        ),
        (crashing, vec!["groups", "remove", "Night shift"]),
        (crashing, vec!["groups", "import", groups.to_str().unwrap()]),
        (storing, vec!["fetch", "--source", third.to_str().unwrap()]),
    ];
    for (who, args) in cases {
        let before = directory(&env);
        let runs = env.snapshot("runs");
        let run = env.roster_var(who, &args);
        crashed_cleanly(&run, &args.join(" "));
        assert_eq!(directory(&env), before, "{args:?} changed the store");
        assert_eq!(env.snapshot("runs"), runs, "{args:?} left a run");
    }
}

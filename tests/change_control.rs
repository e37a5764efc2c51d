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

/// Users as `users list --format json` shows them, without one user.
fn listed(env: &Env, except: &str) -> Vec<Value> {
    env.users_json()
        .into_iter()
        .filter(|u| u["unique_id"] != except)
        .collect()
}

fn export(env: &Env) -> String {
    env.roster(&["users", "export"]).ok().stdout
}

#[test]
fn revert_of_an_import_run_gives_back_every_field_membership_and_status() {
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\n",
    );
    env.roster(&["groups", "add", "--name", "Parking"]).ok();
    env.roster(&["groups", "members", "Parking", "--add", "E001"])
        .ok();
    env.roster(&[
        "users",
        "add",
        "--name",
        "Manual Person",
        "--mail",
        "m@example.se",
    ])
    .ok();
    // E008 left earlier and is deactivated.
    let without8 = file((1..=10).filter(|i| *i != 8).map(|i| {
        let groups = if i % 2 == 0 { "ICU,NIGHT" } else { "ICU" };
        row(i, "Nurse", groups)
    }));
    env.import("without8.csv", &without8, &[]).ok();
    assert_eq!(env.user("E008")["status"], "deactivated");
    let before = (env.users_json(), export(&env));

    // The bad night: titles, groups and phones change, two users go, E008 comes back.
    let bad = file((1..=8).map(|i| {
        let title = if i <= 4 { "Head nurse" } else { "Nurse" };
        let groups = if i == 3 { "NIGHT" } else { "ICU" };
        format!("E{i:03},Person {i},p{i}@example.se,{title},+4670999{i:04},\"{groups}\"")
    }));
    let run = env.import("bad.csv", &bad, &[]).ok().json();
    let bad_run = run["run"].as_i64().unwrap();
    assert_eq!(env.user("E009")["status"], "deactivated");
    // A manual edit after the run: kept, and listed as a conflict.
    env.roster(&["users", "edit", "E002", "--phone", "+46705550000"])
        .ok();
    let after_edit = env.users_json();

    let dry = env
        .roster(&[
            "revert",
            &bad_run.to_string(),
            "--dry-run",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(dry["status"], "dry-run");
    assert_eq!(env.users_json(), after_edit, "a dry run changes nothing");
    let rev = env
        .roster(&[
            "revert",
            &bad_run.to_string(),
            "--reason",
            "the HR export was broken",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(rev["status"], "applied", "{rev:#}");
    assert_eq!(rev["reverts"], bad_run);
    assert_eq!(rev["reason"], "the HR export was broken");
    let conflicts = rev["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{rev:#}");
    assert_eq!(conflicts[0]["unique_id"], "E002");
    assert_eq!(conflicts[0]["field"], "phone");
    assert_eq!(conflicts[0]["now"], "+46705550000");
    assert_eq!(conflicts[0]["run_new"], "+46709990002");
    // Everything else is as before the run; E002 keeps the hand-entered number.
    assert_eq!(listed(&env, "E002"), {
        let mut b = before.0.clone();
        b.retain(|u| u["unique_id"] != "E002");
        b
    });
    let e2 = env.user("E002");
    assert_eq!(e2["phone"], "+46705550000");
    assert_eq!(e2["title"], "Nurse");
    assert_eq!(e2["groups"], serde_json::json!(["ICU", "NIGHT"]));
    assert_eq!(env.user("E008")["status"], "deactivated");
    assert_eq!(env.user("E009")["status"], "active");
    assert_eq!(
        env.user("E001")["manual_groups"],
        serde_json::json!(["Parking"])
    );
    let batches = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        batches.as_array().unwrap().last().unwrap()["status"],
        "reverted"
    );

    // The revert is a run of its own, and can itself be reverted.
    let rev_run = rev["run"].as_i64().unwrap();
    env.roster(&["revert", &bad_run.to_string()]).code(2);
    env.roster(&["revert", &rev_run.to_string()]).ok();
    assert_eq!(env.users_json(), after_edit);
    // And that one too: back to before the bad night (but E002's hand-entered phone).
    let again = env.roster(&["report", "--format", "json"]).ok().json();
    let last = again["runs"][0]["id"].as_i64().unwrap();
    assert_eq!(again["runs"][0]["command"], "revert");
    assert_eq!(again["runs"][0]["reverts"], rev_run);
    env.roster(&["revert", &last.to_string()]).ok();
    assert_eq!(export(&env).lines().count(), before.1.lines().count());
    assert_eq!(listed(&env, "E002"), {
        let mut b = before.0.clone();
        b.retain(|u| u["unique_id"] != "E002");
        b
    });
}

#[test]
fn revert_of_a_run_that_created_and_deleted_users() {
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\nmissing_users = \"delete\"\n",
    );
    env.roster(&["groups", "add", "--name", "Parking"]).ok();
    env.roster(&["groups", "members", "Parking", "--add", "E010"])
        .ok();
    let before = (env.users_json(), export(&env));
    let next = file(
        (2..=12)
            .filter(|i| *i != 10)
            .map(|i| row(i, "Nurse", "ICU")),
    );
    let run = env.import("next.csv", &next, &[]).ok().json();
    assert_eq!(run["counts"]["create"], 2, "{run:#}");
    assert_eq!(run["counts"]["remove"], 2, "{run:#}");
    env.roster(&["revert", &run["run"].to_string()]).ok();
    assert_eq!(env.users_json(), before.0);
    assert_eq!(export(&env), before.1);
    // A manual user's addition is a run too, and its revert removes the user.
    env.roster(&[
        "users",
        "add",
        "--name",
        "Temp",
        "--mail",
        "t@example.se",
        "--reason",
        "trial",
    ])
    .ok();
    let history = env
        .roster(&["users", "history", "t@example.se", "--format", "json"])
        .ok()
        .json();
    let add_run = history[0]["run"].as_i64().unwrap();
    let report = env
        .roster(&["report", "--run", &add_run.to_string(), "--format", "json"])
        .ok()
        .json();
    let add = &report["runs"][0];
    assert_eq!(add["command"], "users add");
    assert_eq!(add["reason"], "trial");
    env.roster(&["revert", &add["id"].to_string()]).ok();
    assert_eq!(env.users_json(), before.0);
}

#[test]
fn who_why_and_overrides_are_in_history_and_report() {
    let env = setup().var("SUDO_USER", "alice");
    let empty = file((1..=10).map(|i| row(i, "Nurse", "")));
    env.import("day2.csv", &empty, &[]).code(4);
    let run = env
        .roster(&[
            "apply",
            "--allow-updates",
            "10",
            "--reason",
            "ticket 42: groups moved to the new system",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert!(run["by"].as_str().unwrap().contains("alice"), "{run:#}");
    assert_eq!(run["reason"], "ticket 42: groups moved to the new system");
    assert_eq!(run["overrides"]["allow_updates"], 10);
    assert_eq!(run["overrides"]["allow_removals"], Value::Null);
    let id = run["run"].to_string();
    let report = env
        .roster(&["report", "--run", &id, "--format", "json"])
        .ok()
        .json();
    let r = &report["runs"][0];
    assert!(r["by"].as_str().unwrap().contains("alice"));
    assert_eq!(r["reason"], "ticket 42: groups moved to the new system");
    assert_eq!(r["overrides"]["allow_updates"], 10);
    let tripped = r["detail"]["tripped"].as_array().unwrap();
    assert_eq!(tripped.len(), 1, "{r:#}");
    assert_eq!(tripped[0]["safeguard"], "max_updates");
    assert_eq!(tripped[0]["overridden"], true);
    let text = env
        .roster(&["report", "--run", &id, "--format", "text"])
        .ok()
        .stdout;
    for want in [
        "alice",
        "Reason: ticket 42",
        "Overrides: --allow-updates 10",
        "max_updates overridden",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let table = env.roster(&["report", "--run", &id]).ok().stdout;
    assert!(
        table.contains("alice") && table.contains("ticket 42"),
        "{table}"
    );
    // History names run, command, who and why beside each change.
    env.roster(&[
        "users",
        "edit",
        "E001",
        "--phone",
        "+46705550000",
        "--reason",
        "asked by phone",
    ])
    .ok();
    let history = env
        .roster(&["users", "history", "E001", "--format", "json"])
        .ok()
        .json();
    let rows = history.as_array().unwrap();
    let groups = rows.iter().find(|h| h["field"] == "groups").unwrap();
    assert_eq!(groups["command"], "apply");
    assert_eq!(
        groups["reason"],
        "ticket 42: groups moved to the new system"
    );
    assert!(groups["by"].as_str().unwrap().contains("alice"));
    let phone = rows.iter().find(|h| h["field"] == "phone").unwrap();
    assert_eq!(phone["command"], "users edit");
    assert_eq!(phone["reason"], "asked by phone");
    let table = env.roster(&["users", "history", "E001"]).ok().stdout;
    assert!(
        table.contains("asked by phone") && table.contains("users edit"),
        "{table}"
    );
    // Reverting the run is safeguarded like an import: ten updates of ten users.
    let before = directory(&env);
    let blocked = env.roster(&["revert", &id]).code(4);
    assert!(
        blocked
            .stderr
            .contains(&format!("roster revert {id} --allow-updates 10")),
        "{}",
        blocked.stderr
    );
    assert_eq!(directory(&env), before);
    env.roster(&["revert", &id, "--allow-updates", "10"]).ok();
    assert_eq!(
        env.user("E002")["groups"],
        serde_json::json!(["ICU", "NIGHT"])
    );
    assert_eq!(env.user("E001")["phone"], "+46705550000");
}

#[test]
fn a_rollback_reverts_newer_batches_and_they_stay_reverted() {
    let env = setup();
    env.write("roster.toml", "[import]\nmax_updates = \"100%\"\n");
    let bad = file((1..=10).map(|i| row(i, "Cleaner", "ICU")));
    let bad_path = env.write("bad.csv", &bad);
    env.import("bad.csv", &bad, &[]).ok();
    // Roll back to yesterday's batch: the bad one becomes reverted.
    let rollback = env
        .roster(&["apply", "--batch", "1", "--force", "--format", "json"])
        .ok()
        .json();
    let rollback_run = rollback["run"].as_i64().unwrap();
    assert_eq!(env.user("E001")["title"], "Nurse");
    let batches = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(batches[1]["status"], "reverted", "{batches:#}");
    // A plain apply refuses the reverted newest batch, naming the run and --force.
    let run = env.roster(&["apply"]).code(2);
    assert!(
        run.stderr.contains(&format!("run {rollback_run}")) && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert_eq!(env.user("E001")["title"], "Nurse");
    // sync of the same bad file: unchanged, nothing applied, and it says why.
    let run = env
        .roster(&[
            "sync",
            "--source",
            bad_path.to_str().unwrap(),
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(run["status"], "unchanged", "{run:#}");
    assert_eq!(env.user("E001")["title"], "Nurse");
    let run = env
        .roster(&["sync", "--source", bad_path.to_str().unwrap()])
        .ok();
    assert!(run.stdout.contains("reverted"), "{}", run.stdout);
    let report = env.roster(&["report", "--format", "text"]).ok().stdout;
    assert!(report.contains("reverted"), "{report}");
    // --force applies it again.
    env.roster(&["apply", "--force"]).ok();
    assert_eq!(env.user("E001")["title"], "Cleaner");
}

#[test]
fn a_renamed_group_is_warned_in_diff_sync_and_the_mailed_report() {
    use support::servers::Smtp;
    let env = setup();
    let smtp = Smtp::start(env.dir.path(), None);
    env.write(
        "roster.toml",
        format!(
            "[import]\nmax_updates = \"100%\"\n[mail]\nsmtp_url = \"smtp://127.0.0.1:{}\"\ntls = \"none\"\nfrom = \"roster@example.se\"\n[report]\nrecipients = [\"oncall@example.se\"]\n",
            smtp.port
        ),
    );
    // NIGHT is renamed INTMED in the file; the store does not know INTMED.
    let renamed = file((1..=10).map(|i| {
        let groups = if i % 2 == 0 { "ICU,INTMED" } else { "ICU" };
        row(i, "Nurse", groups)
    }));
    let path = env.write("renamed.csv", &renamed);
    env.roster(&["fetch", "--source", path.to_str().unwrap()])
        .ok();
    let diff = env.roster(&["diff", "--format", "json"]).ok().json();
    assert_eq!(diff["unknown_groups"]["INTMED"], 5, "{diff:#}");
    let table = env.roster(&["diff"]).ok().stdout;
    assert!(table.contains("INTMED") && table.contains('5'), "{table}");
    let run = env
        .roster(&[
            "sync",
            "--source",
            path.to_str().unwrap(),
            "--format",
            "json",
        ])
        .ok()
        .json();
    let problems = run["problems"].as_array().unwrap();
    let unknown: Vec<&Value> = problems
        .iter()
        .filter(|p| p["code"] == "unknown-group")
        .collect();
    assert_eq!(unknown.len(), 1, "each unknown ID once: {run:#}");
    assert_eq!(unknown[0]["group"], "INTMED");
    assert_eq!(unknown[0]["records"], 5);
    let mail = smtp.messages().last().unwrap().1.clone();
    assert!(mail.contains("INTMED"), "{mail}");
}

#[test]
fn unknown_groups_create_keeps_the_membership() {
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nunknown_groups = \"create\"\n",
    );
    let renamed = file((1..=10).map(|i| {
        let groups = if i % 2 == 0 { "ICU,INTMED" } else { "ICU" };
        row(i, "Nurse", groups)
    }));
    let run = env.import("renamed.csv", &renamed, &[]).ok().json();
    assert_eq!(run["plan"]["unknown_groups"]["INTMED"], 5, "{run:#}");
    assert_eq!(
        env.user("E002")["groups"],
        serde_json::json!(["ICU", "INTMED"])
    );
    let groups = env
        .roster(&["groups", "list", "--format", "json"])
        .ok()
        .json();
    assert!(groups
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["id"] == "INTMED" && g["name"] == "INTMED" && g["members"] == 5));
}

/// The keys of SPEC §6's apply document, which sync prints too, whatever the status.
const APPLY_KEYS: [&str; 10] = [
    "run",
    "batch",
    "status",
    "counts",
    "plan",
    "by",
    "reason",
    "overrides",
    "problems",
    "invitations",
];

fn has_apply_keys(doc: &Value) {
    for key in APPLY_KEYS {
        assert!(doc.get(key).is_some(), "no `{key}`: {doc:#}");
    }
}

#[test]
fn an_unchanged_sync_says_who_why_and_overrides() {
    let env = setup().var("SUDO_USER", "alice");
    let path = env.write("remote.csv", day1());
    let run = env
        .roster(&[
            "sync",
            "--source",
            path.to_str().unwrap(),
            "--reason",
            "nightly check",
            "--allow-updates",
            "3",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(run["status"], "unchanged", "{run:#}");
    has_apply_keys(&run);
    assert!(run["by"].as_str().unwrap().contains("alice"), "{run:#}");
    assert_eq!(run["reason"], "nightly check");
    assert_eq!(run["overrides"]["allow_updates"], 3);
    assert_eq!(run["overrides"]["allow_removals"], Value::Null);
    assert_eq!(run["counts"]["update"], 0, "{run:#}");
    assert_eq!(run["invitations"], 0);
    assert!(run["message"].as_str().unwrap().contains("unchanged"));
}

#[test]
fn blocked_and_rejected_documents_keep_the_spec_shape() {
    let env = setup();
    // Blocked: `reason` is the operator's, the block is the `message`.
    let empty = env.write("empty.csv", file((1..=10).map(|i| row(i, "Nurse", ""))));
    for cmd in [
        vec!["sync", "--source", empty.to_str().unwrap()],
        vec!["apply"],
    ] {
        let mut args = cmd.clone();
        args.extend(["--reason", "ticket 7", "--format", "json"]);
        let run = env.roster(&args).code(4).json();
        assert_eq!(run["status"], "blocked", "{run:#}");
        has_apply_keys(&run);
        assert_eq!(run["reason"], "ticket 7", "{run:#}");
        assert!(
            run["message"]
                .as_str()
                .unwrap()
                .contains("--allow-updates 10"),
            "{run:#}"
        );
        assert_eq!(run["overrides"]["allow_updates"], Value::Null);
    }
    // Rejected: no plan, and still every key.
    let bad = env.write("bad.csv", "UniqueID,Name\nE001,Person 1\n");
    let run = env
        .roster(&[
            "sync",
            "--source",
            bad.to_str().unwrap(),
            "--reason",
            "ticket 8",
            "--format",
            "json",
        ])
        .code(3)
        .json();
    assert_eq!(run["status"], "rejected", "{run:#}");
    has_apply_keys(&run);
    assert_eq!(run["reason"], "ticket 8");
    assert_eq!(run["invitations"], 0);
}

#[test]
fn a_deactivated_user_is_not_invited() {
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\nsend_invitations = true\n",
    );
    // No [mail]: the invitations of the two new users stay pending.
    let more = file((1..=12).map(|i| row(i, "Nurse", "ICU")));
    let run = env.import("more.csv", &more, &[]).ok().json();
    assert_eq!(env.user("E011")["invitation"], "pending");
    let pending = |env: &Env| {
        env.roster(&["status", "--format", "json"]).json()["pending_invitations"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(pending(&env), 2);
    // A revert that deactivates them cancels their invitations.
    env.roster(&["revert", &run["run"].to_string()]).ok();
    assert_eq!(env.user("E011")["status"], "deactivated");
    assert_eq!(env.user("E011")["invitation"], Value::Null);
    assert_eq!(pending(&env), 0);
    // So does an import that deactivates a user with a pending invitation.
    env.import(
        "more2.csv",
        &file((1..=13).map(|i| row(i, "Nurse", "ICU"))),
        &[],
    )
    .ok();
    assert_eq!(env.user("E013")["invitation"], "pending");
    env.import(
        "less.csv",
        &file((1..=12).map(|i| row(i, "Nurse", "ICU"))),
        &[],
    )
    .ok();
    assert_eq!(env.user("E013")["status"], "deactivated");
    assert_eq!(env.user("E013")["invitation"], Value::Null);
    // E011 and E012 came back without a queued invitation (`users invite --uninvited` finds them).
    assert_eq!(pending(&env), 0);
}

/// A user's absence counter and the batch it last counted.
fn absence(env: &Env, id: &str) -> (i64, Option<i64>) {
    env.db()
        .query_row(
            "SELECT missing_count, last_missing_batch FROM users WHERE unique_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[test]
fn a_revert_gives_back_the_absence_counter() {
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nremove_after_missing = 3\nmax_updates = \"100%\"\n",
    );
    let without10 = |title: &str| file((1..=9).map(|i| row(i, title, "ICU")));
    let with10 = file((1..=10).map(|i| row(i, "Nurse", "ICU")));
    env.import("a.csv", &without10("Nurse"), &[]).ok();
    assert_eq!(absence(&env, "E010"), (1, Some(2)));
    // A second absent file counts again; its revert counts it back.
    let run = env.import("b.csv", &without10("Cook"), &[]).ok().json();
    assert_eq!(run["counts"]["missing"], 1, "{run:#}");
    assert_eq!(absence(&env, "E010"), (2, Some(3)));
    let rev = env
        .roster(&["revert", &run["run"].to_string(), "--format", "json"])
        .ok()
        .json();
    assert_eq!(absence(&env, "E010"), (1, Some(2)), "{rev:#}");
    // So the third absent file is the second in a row: still missing, not removed.
    let run = env.import("c.csv", &without10("Porter"), &[]).ok().json();
    assert_eq!(run["counts"]["remove"], 0, "{run:#}");
    assert_eq!(absence(&env, "E010"), (2, Some(4)));
    // A file that has the user again clears the counter; its revert gives it back.
    let run = env.import("d.csv", &with10, &[]).ok().json();
    assert_eq!(absence(&env, "E010"), (0, None));
    let rev = env
        .roster(&["revert", &run["run"].to_string(), "--format", "json"])
        .ok()
        .json();
    assert_eq!(absence(&env, "E010"), (2, Some(4)), "{rev:#}");
    env.roster(&["revert", &rev["run"].to_string()]).ok();
    assert_eq!(absence(&env, "E010"), (0, None));
}

/// The newest run's id.
fn last_run(env: &Env) -> String {
    env.db()
        .query_row("SELECT MAX(id) FROM runs", [], |r| r.get::<_, i64>(0))
        .unwrap()
        .to_string()
}

fn groups_json(env: &Env) -> Value {
    env.roster(&["groups", "list", "--format", "json"])
        .ok()
        .json()
}

/// Run a `groups` command, then revert its run; the directory is as it was before.
fn undone(env: &Env, args: &[&str]) -> Value {
    let before = (groups_json(env), env.users_json());
    env.roster(args).ok();
    assert_ne!(
        (groups_json(env), env.users_json()),
        before,
        "{args:?} changed nothing"
    );
    let rev = env
        .roster(&["revert", &last_run(env), "--format", "json"])
        .ok()
        .json();
    assert_eq!(groups_json(env), before.0, "{args:?}: {rev:#}");
    assert_eq!(env.users_json(), before.1, "{args:?}: {rev:#}");
    rev
}

#[test]
fn a_revert_undoes_the_groups_commands() {
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\n",
    );
    env.roster(&["groups", "add", "--name", "Parking"]).ok();
    env.roster(&[
        "groups", "members", "Parking", "--add", "E001", "--add", "E003",
    ])
    .ok();
    // A removed group comes back with its ID, name and every membership.
    let rev = undone(&env, &["groups", "remove", "NIGHT", "--force"]);
    assert_eq!(rev["conflicts"], serde_json::json!([]), "{rev:#}");
    undone(&env, &["groups", "remove", "Parking", "--force"]);
    undone(
        &env,
        &["groups", "remove", "ICU", "--force", "--reason", "r"],
    );
    // A rename goes back; an added group goes.
    undone(&env, &["groups", "rename", "ICU", "Intensive"]);
    undone(&env, &["groups", "rename", "Parking", "Garage"]);
    undone(&env, &["groups", "add", "ER", "--name", "Emergency"]);
    undone(&env, &["groups", "add", "--name", "Lockers"]);
    let groups = env.write(
        "groups.csv",
        "GroupID,Name\nICU,ICU renamed\nER,Emergency\nNIGHT,Night shift\n",
    );
    undone(&env, &["groups", "import", groups.to_str().unwrap()]);

    // A revert of a revert does the command again.
    let before = (groups_json(&env), env.users_json());
    env.roster(&["groups", "remove", "NIGHT", "--force"]).ok();
    let removed = (groups_json(&env), env.users_json());
    env.roster(&["revert", &last_run(&env)]).ok();
    assert_eq!((groups_json(&env), env.users_json()), before);
    env.roster(&["revert", &last_run(&env)]).ok();
    assert_eq!((groups_json(&env), env.users_json()), removed);
    env.roster(&["revert", &last_run(&env)]).ok();
    assert_eq!((groups_json(&env), env.users_json()), before);

    // A group that a later run gave a member stays, and is listed as a conflict.
    env.roster(&["groups", "add", "--name", "Temp"]).ok();
    let added = last_run(&env);
    env.roster(&["groups", "members", "Temp", "--add", "E005"])
        .ok();
    let rev = env
        .roster(&["revert", &added, "--format", "json"])
        .ok()
        .json();
    let conflicts = rev["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{rev:#}");
    assert_eq!(conflicts[0]["group"], "Temp", "{rev:#}");
    assert_eq!(
        env.user("E005")["manual_groups"],
        serde_json::json!(["Temp"])
    );
    // A rename that a later rename replaced stays too.
    env.roster(&["groups", "rename", "Temp", "Temp2"]).ok();
    let renamed = last_run(&env);
    env.roster(&["groups", "rename", "Temp2", "Temp3"]).ok();
    let rev = env
        .roster(&["revert", &renamed, "--format", "json"])
        .ok()
        .json();
    assert_eq!(rev["conflicts"][0]["group"], "Temp3", "{rev:#}");
    assert!(groups_json(&env)
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "Temp3"));
}

#[test]
fn a_revert_removes_the_groups_its_import_created() {
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nunknown_groups = \"create\"\n",
    );
    let before = (groups_json(&env), env.users_json());
    let with_new = |extra: &str| {
        file((1..=11).map(|i| match i {
            2 => row(i, "Nurse", "ICU,INTMED"),
            4 => row(i, "Nurse", &format!("ICU,NIGHT{extra}")),
            11 => row(i, "Nurse", "INTMED,ONCALL"),
            _ => row(i, "Nurse", if i % 2 == 0 { "ICU,NIGHT" } else { "ICU" }),
        }))
    };
    let run = env.import("new.csv", &with_new(""), &[]).ok().json();
    assert_eq!(
        env.user("E011")["groups"],
        serde_json::json!(["INTMED", "ONCALL"])
    );
    let rev = env
        .roster(&["revert", &run["run"].to_string(), "--format", "json"])
        .ok()
        .json();
    assert_eq!(rev["conflicts"], serde_json::json!([]), "{rev:#}");
    assert_eq!(groups_json(&env), before.0, "{rev:#}");
    // A revert writes without SQLite's foreign-key checks: no membership names a group gone.
    let dangling: i64 = env
        .db()
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(dangling, 0);
    assert_eq!(env.user("E011")["status"], "deactivated");
    assert_eq!(env.user("E011")["groups"], serde_json::json!([]));
    assert_eq!(listed(&env, "E011"), before.1);
    // Its revert creates them again, with their members.
    env.roster(&["revert", &rev["run"].to_string()]).ok();
    assert_eq!(
        env.user("E011")["groups"],
        serde_json::json!(["INTMED", "ONCALL"])
    );
    assert_eq!(env.user("E011")["status"], "active");
    assert_eq!(
        env.user("E002")["groups"],
        serde_json::json!(["ICU", "INTMED"])
    );

    // A created group that a later run gave a member stays, listed as a conflict.
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nunknown_groups = \"create\"\n",
    );
    let run = env.import("new.csv", &with_new(""), &[]).ok().json();
    env.import("later.csv", &with_new(",INTMED"), &[]).ok();
    let rev = env
        .roster(&["revert", &run["run"].to_string(), "--format", "json"])
        .ok()
        .json();
    let groups: Vec<Value> = rev["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["group"].is_null())
        .cloned()
        .collect();
    assert_eq!(groups.len(), 1, "{rev:#}");
    assert_eq!(groups[0]["group"], "INTMED", "{rev:#}");
    assert_eq!(
        env.user("E004")["groups"],
        serde_json::json!(["ICU", "INTMED", "NIGHT"])
    );
    let ids: Vec<Value> = groups_json(&env)
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].clone())
        .collect();
    assert_eq!(
        Value::from(ids),
        serde_json::json!(["ICU", "INTMED", "NIGHT"])
    );
}

/// `groups remove` of a group with members asks for `--force` and names the command to run,
/// quoted as a shell takes it (a group's name may hold spaces), with the members counted.
#[test]
fn removing_a_group_with_members_names_the_command_to_run() {
    let env = setup();
    env.roster(&["groups", "add", "--name", "Car park"]).ok();
    env.roster(&["groups", "members", "Car park", "--add", "E001"])
        .ok();
    let refused = env.roster(&["groups", "remove", "Car park"]).code(2);
    assert!(
        refused
            .stderr
            .contains("has 1 members (0 deactivated); to remove it and its memberships, run: roster groups remove 'Car park' --force"),
        "{}",
        refused.stderr
    );
    env.roster(&["groups", "remove", "Car park", "--force"])
        .ok();
    let groups = groups_json(&env);
    assert!(
        !groups
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "Car park"),
        "{groups:#}"
    );
}

// ---- The churn safeguard, the plan digest and unknown groups that block (issue 28) ----

/// `n` users in ICU; the first `moved` of them are in NIGHT instead, and the first `retitled`
/// have the title `title`.
fn staff(n: usize, retitled: usize, title: &str, moved: usize) -> String {
    file((1..=n).map(|i| {
        let t = if i <= retitled { title } else { "Nurse" };
        let g = if i <= moved { "NIGHT" } else { "ICU" };
        row(i, t, g)
    }))
}

/// A directory of `n` users (the first import, which is no night of the history), then
/// `nights` applied imports that each retitle the first `per_night` users.
fn history(n: usize, nights: usize, per_night: usize) -> Env {
    let env = Env::new();
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    env.roster(&["groups", "add", "NIGHT", "--name", "Night shift"])
        .ok();
    env.import("first.csv", &staff(n, 0, "", 0), &[]).ok();
    for k in 1..=nights {
        let run = env
            .import(
                &format!("night{k}.csv"),
                &staff(n, per_night, &format!("Title {k}"), 0),
                &[],
            )
            .ok()
            .json();
        assert_eq!(run["counts"]["update"], per_night as u64, "{run:#}");
    }
    env
}

fn count(env: &Env, sql: &str) -> i64 {
    env.db().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_reorganisation_under_max_updates_is_blocked_by_churn_and_released_by_allow_updates() {
    // 400 users, five nights of 6 updates: 70 moves is under max_updates (20%: 80) but above
    // 10 × median 6 and above the floor of 50.
    let env = history(400, 5, 6);
    let before = directory(&env);
    let runs = count(&env, "SELECT COUNT(*) FROM runs");
    let reorg = staff(400, 0, "", 70);
    let run = env.import("reorg.csv", &reorg, &[]).code(4);
    let doc = run.json();
    assert_eq!(doc["status"], "blocked", "{doc:#}");
    assert!(
        run.stderr
            .contains("max_churn (updates 70 > 10 × median 6)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("max_updates"), "{}", run.stderr);
    // The JSON names the safeguard and the history it used.
    let tripped = &doc["plan"]["safeguards"][0];
    assert_eq!(tripped["safeguard"], "max_churn", "{doc:#}");
    assert_eq!(tripped["churn"]["of"], "updates");
    assert_eq!(tripped["churn"]["median"], 6.0);
    assert_eq!(tripped["churn"]["imports"], 5);
    assert_eq!(doc["plan"]["churn"]["checked"], true);
    assert_eq!(doc["plan"]["churn"]["imports"], 5);
    assert_eq!(doc["plan"]["churn"]["median"]["update"], 6.0);
    // Blocked like the other safeguards: recorded, nothing written.
    assert_eq!(directory(&env), before);
    assert_eq!(count(&env, "SELECT COUNT(*) FROM runs"), runs + 1);
    let status: String = env
        .db()
        .query_row("SELECT status FROM runs ORDER BY id DESC", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "blocked");
    // The one command names the batch, the flag and the plan it was shown.
    let digest = doc["plan"]["plan_digest"].as_str().unwrap().to_string();
    let command = format!("roster apply --batch 7 --allow-updates 70 --expect-plan {digest}");
    assert!(run.stderr.contains(&command), "{}", run.stderr);
    let report = env.roster(&["report", "--format", "text"]).ok().stdout;
    assert!(
        report.contains("max_churn") && report.contains("median 6") && report.contains(&command),
        "{report}"
    );
    // Too low a flag still blocks; the one it names lets it through.
    env.roster(&["apply", "--batch", "7", "--allow-updates", "65"])
        .code(4);
    let args = [
        "apply",
        "--batch",
        "7",
        "--allow-updates",
        "70",
        "--expect-plan",
        &digest,
    ];
    let mut json = args.to_vec();
    json.extend(["--format", "json"]);
    let applied = env.roster(&json).ok().json();
    assert_eq!(applied["status"], "applied", "{applied:#}");
    assert_eq!(applied["plan"]["overridden"][0]["safeguard"], "max_churn");
    assert_eq!(env.user("E001")["groups"], serde_json::json!(["NIGHT"]));
}

#[test]
fn a_night_under_the_floor_is_not_blocked() {
    // Median 3: 40 updates are above 10 × 3 but not above the floor of 50.
    let env = history(400, 5, 3);
    let run = env
        .import("big.csv", &staff(400, 40, "Head nurse", 0), &[])
        .ok()
        .json();
    assert_eq!(run["counts"]["update"], 40, "{run:#}");
    // With a lower floor, the same kind of night is held.
    env.write("roster.toml", "[import]\nchurn_floor = 10\n");
    let run = env
        .import("big2.csv", &staff(400, 40, "Ward nurse", 0), &[])
        .code(4);
    assert!(
        run.stderr
            .contains("max_churn (updates 40 > 10 × median 3)"),
        "{}",
        run.stderr
    );
    // import.max_churn = "off" turns it off.
    env.write(
        "roster.toml",
        "[import]\nchurn_floor = 10\nmax_churn = \"off\"\n",
    );
    env.roster(&["apply"]).ok();
}

#[test]
fn creates_and_removals_are_compared_too() {
    let env = history(300, 5, 2);
    // 60 newcomers: no fixed limit of creates, but 60 > 10 × median 0 and > 50.
    let grown = file((1..=360).map(|i| row(i, if i <= 2 { "Title 5" } else { "Nurse" }, "ICU")));
    let run = env.import("grown.csv", &grown, &[]).code(4);
    assert!(
        run.stderr.contains("max_churn (creates 60 > 10 × median 0")
            && run.stderr.contains("--allow-creates 60"),
        "{}",
        run.stderr
    );
    env.roster(&["apply", "--allow-creates", "60"]).ok();
    // 55 leave: under max_removals (10% of 360: 36)? No: raise that, and churn still holds it.
    env.write("roster.toml", "[import]\nmax_removals = \"50%\"\n");
    let shrunk = file((1..=305).map(|i| row(i, if i <= 2 { "Title 5" } else { "Nurse" }, "ICU")));
    let run = env.import("shrunk.csv", &shrunk, &[]).code(4);
    assert!(
        run.stderr
            .contains("max_churn (removals 55 > 10 × median 0")
            && run.stderr.contains("--allow-removals 55"),
        "{}",
        run.stderr
    );
    env.roster(&["apply", "--allow-removals", "55"]).ok();
}

#[test]
fn fewer_than_five_nights_do_not_apply_and_rollbacks_do_not_count() {
    let env = history(400, 3, 6);
    let sync = |name: &str, csv: String| {
        let path = env.write(name, csv);
        env.roster(&["-v", "sync", "--source", path.to_str().unwrap()])
    };
    // Three nights: the churn safeguard does not apply, and -v says so.
    let run = sync("reorg.csv", staff(400, 0, "", 70)).ok();
    assert!(
        run.stderr.contains("churn: not checked: 3 applied imports"),
        "{}",
        run.stderr
    );
    // A forced rollback to night 3 (batch 4) is no night of the history.
    env.roster(&["apply", "--batch", "4", "--force", "--allow-updates", "70"])
        .ok();
    let run = sync("again.csv", staff(400, 6, "Title 9", 70)).ok();
    assert!(
        run.stderr.contains("churn: not checked: 4 applied imports"),
        "{}",
        run.stderr
    );
    // The fifth night makes a history: 6, 6, 6, 70, 76 updates, median 6.
    let run = sync("back.csv", staff(400, 6, "Title 9", 0)).code(4);
    assert!(
        run.stderr
            .contains("max_churn (updates 70 > 10 × median 6)")
            && run.stderr.contains("the last 5 applied imports"),
        "{}",
        run.stderr
    );
    // The one command the blocked night names, as it is written, applies it.
    let command = run.stderr.split("run: roster ").nth(1).unwrap().trim();
    let args: Vec<&str> = command.split(' ').collect();
    assert!(args.contains(&"--expect-plan"), "{command}");
    env.roster(&args).ok();
    assert_eq!(env.user("E001")["groups"], serde_json::json!(["ICU"]));
}

#[test]
fn the_plan_digest_is_the_plan_and_expect_plan_applies_only_that_plan() {
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\n",
    );
    // Day 2: titles change, E010 leaves, E001 names a group the store has not yet.
    let day2 = file((1..=9).map(|i| {
        let groups = if i == 1 { "ICU,LAB" } else { "ICU" };
        row(i, "Head nurse", groups)
    }));
    let path = env.write("day2.csv", &day2);
    env.roster(&["fetch", "--source", path.to_str().unwrap()])
        .ok();
    let digest = |env: &Env| -> String {
        let doc = env.roster(&["diff", "--format", "json"]).ok().json();
        let d = doc["plan_digest"].as_str().unwrap().to_string();
        assert_eq!(d.len(), 12, "{d}");
        assert!(d.bytes().all(|b| b.is_ascii_hexdigit()), "{d}");
        d
    };
    let first = digest(&env);
    assert_eq!(digest(&env), first, "the same plan, the same digest");
    // diff, apply --dry-run and sync --dry-run show it, in the table and in JSON.
    let table = env.roster(&["diff"]).ok().stdout;
    assert!(table.contains(&format!("plan digest: {first}")), "{table}");
    let dry = env
        .roster(&["apply", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(dry["plan"]["plan_digest"], first.as_str(), "{dry:#}");
    assert_eq!(dry["plan_digest"], first.as_str(), "{dry:#}");
    let dry = env.roster(&["apply", "--dry-run"]).ok().stdout;
    assert!(dry.contains(&first), "{dry}");
    let sync = env
        .roster(&[
            "sync",
            "--dry-run",
            "--source",
            path.to_str().unwrap(),
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(sync["plan"]["plan_digest"], first.as_str(), "{sync:#}");

    // A copy of the store, anywhere: the same digest.
    let copy = Env::new();
    std::fs::create_dir_all(copy.store().parent().unwrap()).unwrap();
    env.db()
        .execute("VACUUM INTO ?1", [copy.store().to_str().unwrap()])
        .unwrap();
    copy.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\n",
    );
    assert_eq!(digest(&copy), first, "a copied store");

    // Any change to the plan changes it: a manual edit, a group added, a setting.
    let edited = Env::new();
    std::fs::create_dir_all(edited.store().parent().unwrap()).unwrap();
    env.db()
        .execute("VACUUM INTO ?1", [edited.store().to_str().unwrap()])
        .unwrap();
    edited.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\n",
    );
    edited
        .roster(&["users", "edit", "E002", "--phone", "+46705550000"])
        .ok();
    let after_edit = digest(&edited);
    assert_ne!(after_edit, first, "a manual edit");
    edited
        .roster(&["groups", "add", "LAB", "--name", "Lab"])
        .ok();
    let after_group = digest(&edited);
    assert_ne!(after_group, after_edit, "a group added");
    edited.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\nmissing_users = \"delete\"\n",
    );
    assert_ne!(
        digest(&edited),
        after_group,
        "a setting that shapes the plan"
    );

    // A stale digest writes nothing and records no run; it shows the new one.
    let runs = count(&edited, "SELECT COUNT(*) FROM runs");
    let audit = count(&edited, "SELECT COUNT(*) FROM audit");
    let before = directory(&edited);
    let run = edited
        .roster(&["apply", "--batch", "2", "--expect-plan", &first])
        .code(4);
    let now = digest(&edited);
    assert!(
        run.stderr.contains(&now) && run.stderr.contains("roster diff --batch 2"),
        "{}",
        run.stderr
    );
    assert_eq!(count(&edited, "SELECT COUNT(*) FROM runs"), runs);
    assert_eq!(count(&edited, "SELECT COUNT(*) FROM audit"), audit);
    assert_eq!(directory(&edited), before);
    let doc = edited
        .roster(&[
            "apply",
            "--batch",
            "2",
            "--expect-plan",
            &first,
            "--format",
            "json",
        ])
        .code(4)
        .json();
    assert_eq!(doc["run"], Value::Null, "{doc:#}");
    assert_eq!(doc["plan"]["plan_digest"], now.as_str());
    // Not a digest at all: a usage error.
    edited
        .roster(&["apply", "--batch", "2", "--expect-plan", "nonsense"])
        .code(2);
    // The right one applies.
    let applied = edited
        .roster(&[
            "apply",
            "--batch",
            "2",
            "--expect-plan",
            &now.to_uppercase(),
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(applied["status"], "applied", "{applied:#}");
    edited.roster(&["users", "show", "E010"]).code(2);
    assert_eq!(
        edited.user("E001")["groups"],
        serde_json::json!(["ICU", "LAB"])
    );
    // The original store applies its own plan with its own digest.
    env.roster(&["apply", "--expect-plan", &first]).ok();
}

#[test]
fn unknown_groups_block_until_they_exist_or_are_allowed() {
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nunknown_groups = \"block\"\nmax_updates = \"100%\"\n",
    );
    let renamed = file((1..=10).map(|i| {
        let groups = match i {
            1 => "ICU,INTMED",
            2 => "ICU,NIGHT,INTMED",
            3 => "ICU,LAB",
            _ if i % 2 == 0 => "ICU,NIGHT",
            _ => "ICU",
        };
        row(i, "Nurse", groups)
    }));
    let path = env.write("renamed.csv", &renamed);
    let before = directory(&env);
    let run = env
        .roster(&[
            "sync",
            "--source",
            path.to_str().unwrap(),
            "--format",
            "json",
        ])
        .code(4);
    let doc = run.json();
    assert_eq!(doc["status"], "blocked", "{doc:#}");
    assert_eq!(directory(&env), before);
    let unknown: Vec<&Value> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "unknown-group")
        .collect();
    assert_eq!(unknown.len(), 2, "each unknown ID once: {doc:#}");
    assert_eq!(unknown[0]["group"], "INTMED");
    assert_eq!(unknown[0]["records"], 2);
    assert_eq!(unknown[1]["records"], 1);
    assert_eq!(doc["plan"]["safeguards"][0]["safeguard"], "unknown_groups");
    assert!(
        run.stderr.contains("INTMED: 2 records")
            && run.stderr.contains("--allow-unknown-groups --expect-plan"),
        "{}",
        run.stderr
    );
    // The table and the report name each once with its records.
    let table = env.roster(&["diff"]).ok().stdout;
    assert!(
        table.contains("unknown group INTMED: 2 records")
            && table.contains("unknown group LAB: 1 record"),
        "{table}"
    );
    // The run's own line in the words of the open items and `status` (SPEC §2: each unknown
    // ID once with the number of records that name it).
    let report = env.roster(&["report", "--format", "text"]).ok().stdout;
    let run_part = &report[report.find("\nRun ").unwrap_or_default()..];
    assert!(
        run_part.contains("  Unknown groups: INTMED (2 records), LAB (1 record)\n")
            && report.contains("--allow-unknown-groups"),
        "{report}"
    );
    // --allow-unknown-groups ignores those memberships, as "warn" does.
    let applied = env
        .roster(&["apply", "--allow-unknown-groups", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        applied["overrides"]["allow_unknown_groups"], true,
        "{applied:#}"
    );
    assert_eq!(env.user("E001")["groups"], serde_json::json!(["ICU"]));
    // Once the groups exist, the memberships go in without the flag.
    env.roster(&["groups", "add", "INTMED", "--name", "Internal medicine"])
        .ok();
    env.roster(&["groups", "add", "LAB", "--name", "Lab"]).ok();
    env.roster(&["apply"]).ok();
    assert_eq!(
        env.user("E001")["groups"],
        serde_json::json!(["ICU", "INTMED"])
    );
}

/// Runs recorded before the churn columns existed are a history, from their counts: the first
/// import, a blocked run, a rollback and a revert are left out.
#[test]
fn runs_from_before_the_migration_are_a_history_from_their_counts() {
    let env = Env::new();
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    let counts = |create: u64, update: u64| {
        format!(
            r#"{{"create":{create},"adopt":0,"update":{update},"reactivate":0,"remove":0,"missing":0,"unchanged":90,"skipped":0,"invalid":0}}"#
        )
    };
    let db = env.db();
    // The store as a roster before migration 11 left it (12 undone too; 13 and 14 run again
    // without harm).
    db.execute_batch(
        "DROP INDEX runs_churn_history;
         ALTER TABLE runs DROP COLUMN creates; ALTER TABLE runs DROP COLUMN updates;
         ALTER TABLE runs DROP COLUMN removals; ALTER TABLE runs DROP COLUMN churn_history;
         ALTER TABLE scim_users DROP COLUMN dropped; ALTER TABLE scim_users DROP COLUMN sent;
         ALTER TABLE scim_groups DROP COLUMN dropped; ALTER TABLE scim_groups DROP COLUMN sent;
         ALTER TABLE scim_groups DROP COLUMN members;
         PRAGMA user_version = 10;",
    )
    .unwrap();
    for b in 1..=6 {
        db.execute(
            "INSERT INTO batches (id, fetched_at, source, size, sha256, status)
             VALUES (?1, '2026-11-01T03:00:00Z', 'old.csv', 1, ?2, 'applied')",
            rusqlite::params![b, format!("{b:064}")],
        )
        .unwrap();
    }
    for (id, batch, command, status, create, update) in [
        (2, 1, "apply", "applied", 100, 0), // the first import
        (3, 2, "sync", "applied", 0, 3),
        (4, 3, "sync", "applied", 0, 4),
        (5, 4, "sync", "blocked", 0, 900),
        (6, 4, "apply", "applied", 0, 5), // the held batch, approved
        (7, 2, "apply", "applied", 0, 700), // a rollback to batch 2
        (8, 4, "revert", "applied", 0, 800),
        (9, 5, "sync", "applied", 0, 6),
        (10, 6, "sync", "applied", 0, 7),
    ] {
        db.execute(
            "INSERT INTO runs (id, batch_id, command, started_at, status, counts)
             VALUES (?1, ?2, ?3, '2026-11-01T03:00:00Z', ?4, ?5)",
            rusqlite::params![id, batch, command, status, counts(create, update)],
        )
        .unwrap();
    }
    drop(db);
    // Any command that opens the store migrates it.
    env.roster(&["users", "list"]).ok();
    assert!(count(&env, "PRAGMA user_version") >= 11);
    assert_eq!(
        count(&env, "SELECT COUNT(*) FROM runs WHERE churn_history = 1"),
        5
    );
    let run = env.import("day.csv", &staff(20, 0, "", 0), &["-v"]).ok();
    assert!(
        run.stderr.contains(
            "churn: compared with the medians of the last 5 applied imports (runs 3–10): \
             creates 0, updates 5, removals 0"
        ),
        "{}",
        run.stderr
    );
}

/// "Exceeds" is exact for any factor: 2.3 × median 50 is 115, which does not trip, 116 does
/// (in binary floating point 2.3 × 50 is 114.99999999999999).
#[test]
fn a_count_exactly_at_factor_times_median_does_not_trip() {
    let env = history(300, 5, 50);
    env.write(
        "roster.toml",
        "[import]\nmax_churn = \"2.3x\"\nchurn_floor = 0\nmax_updates = \"100%\"\n",
    );
    let dry = env
        .import("at.csv", &staff(300, 115, "Head nurse", 0), &["--dry-run"])
        .ok()
        .json();
    assert_eq!(dry["counts"]["update"], 115, "{dry:#}");
    let run = env
        .import("over.csv", &staff(300, 116, "Head nurse", 0), &[])
        .code(4);
    assert!(
        run.stderr
            .contains("max_churn (updates 116 > 2.3 × median 50)"),
        "{}",
        run.stderr
    );
}

/// `sync --dry-run` prints what a real run would do: for the file of the batch already
/// applied, an unchanged night (exit 0), even when `unknown_groups = "block"` would hold a
/// new file that names an unknown group.
#[test]
fn a_dry_run_of_the_applied_file_is_an_unchanged_night() {
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nunknown_groups = \"block\"\nmax_updates = \"100%\"\n",
    );
    let named = file((1..=10).map(|i| row(i, "Nurse", if i == 1 { "ICU,LAB" } else { "ICU" })));
    let path = env.write("named.csv", &named);
    let source = path.to_str().unwrap();
    env.roster(&["sync", "--source", source]).code(4);
    env.roster(&["apply", "--allow-unknown-groups"]).ok();
    let runs = count(&env, "SELECT COUNT(*) FROM runs");
    let real_said = |args: &[&str]| {
        let mut all = vec!["sync", "--source", source];
        all.extend_from_slice(args);
        env.roster(&all)
    };
    let dry = real_said(&["--dry-run"]).ok();
    assert!(
        dry.stdout.contains("unchanged"),
        "{}{}",
        dry.stdout,
        dry.stderr
    );
    let doc = real_said(&["--dry-run", "--format", "json"]).ok().json();
    assert_eq!(doc["status"], "unchanged", "{doc:#}");
    assert_eq!(doc["batch"], 2, "{doc:#}");
    assert_eq!(
        count(&env, "SELECT COUNT(*) FROM runs"),
        runs,
        "a dry run records nothing"
    );
    let real = real_said(&["--format", "json"]).ok().json();
    assert_eq!(real["status"], "unchanged", "{real:#}");
    // The first day's file again, after batch 2: a new batch, planned as one.
    let day1 = env.write("day1-again.csv", day1());
    let doc = env
        .roster(&[
            "sync",
            "--dry-run",
            "--source",
            day1.to_str().unwrap(),
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(doc["status"], "dry-run", "{doc:#}");
}

/// Applying a batch that is already applied again (it changes nothing) or a reverted one again
/// is no new night: the history is the nights' imports, not how often an operator re-ran one.
#[test]
fn re_applying_an_applied_or_reverted_batch_is_no_night_of_the_history() {
    let env = history(300, 4, 6);
    for _ in 0..3 {
        env.roster(&["apply"]).ok();
    }
    let run = env.roster(&["-v", "apply", "--dry-run"]).ok();
    assert!(
        run.stderr.contains("churn: not checked: 4 applied imports"),
        "{}",
        run.stderr
    );
    // The last night reverted, then brought back with --force: still the same four nights.
    let last = count(&env, "SELECT MAX(id) FROM runs WHERE command = 'apply'");
    env.roster(&["revert", &last.to_string()]).ok();
    env.roster(&["apply", "--batch", "5", "--force"]).ok();
    let run = env.roster(&["-v", "apply", "--dry-run"]).ok();
    assert!(
        run.stderr.contains("churn: not checked: 4 applied imports"),
        "{}",
        run.stderr
    );
}

/// A forced rollback that a safeguard holds names a command with `--force`: as written, it
/// applies (without it the older batch is refused, exit 2). `diff` of that batch says the same.
#[test]
fn a_held_rollback_names_the_command_with_force() {
    let env = history(100, 3, 15);
    env.write("roster.toml", "[import]\nmax_updates = 5\n");
    let run = env.roster(&["apply", "--batch", "1", "--force"]).code(4);
    let command = run.stderr.split("run: roster ").nth(1).unwrap().trim();
    let args: Vec<&str> = command.split(' ').collect();
    assert!(args.contains(&"--force"), "{command}");
    let diff = env.roster(&["diff", "--batch", "1"]).ok().stdout;
    assert!(diff.contains(&format!("roster {command}")), "{diff}");
    let report = env.roster(&["report", "--format", "text"]).ok().stdout;
    assert!(report.contains(&format!("roster {command}")), "{report}");
    env.roster(&args).ok();
    assert_eq!(env.user("E001")["title"], "Nurse");
}

// ---- What a dry run, a stale --expect-plan and diff say (review of the dry runs) ----

/// The file of day 1 with every `Groups` cell empty: ten updates, over `max_updates`.
fn stripped() -> String {
    file((1..=10).map(|i| row(i, "Nurse", "")))
}

/// `apply --dry-run` (and `sync --dry-run`) of a plan a safeguard would hold records nothing,
/// so it says the batch *would be* blocked, not that it was: JSON status `dry-run` with what
/// would trip, the digest and the one command; the exit code is the real run's (4).
#[test]
fn a_dry_run_that_a_safeguard_would_block_says_would_be_blocked() {
    let env = setup();
    let path = env.write("day2.csv", stripped());
    let source = path.to_str().unwrap();
    env.roster(&["fetch", "--source", source]).ok();
    let runs = count(&env, "SELECT COUNT(*) FROM runs");
    let run = env.roster(&["apply", "--dry-run"]).code(4);
    let head = run.stdout.lines().next().unwrap_or_default();
    assert!(
        head.starts_with("batch 2: dry-run, would be blocked — "),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("batch 2 would be blocked by a safeguard: max_updates")
            && !run.stderr.contains("was blocked"),
        "{}",
        run.stderr
    );
    let doc = env
        .roster(&["apply", "--dry-run", "--format", "json"])
        .code(4)
        .json();
    assert_eq!(doc["status"], "dry-run", "{doc:#}");
    assert_eq!(doc["run"], Value::Null, "{doc:#}");
    let digest = doc["plan_digest"].as_str().unwrap();
    let command = format!("roster apply --batch 2 --allow-updates 10 --expect-plan {digest}");
    assert_eq!(doc["would_block"]["command"], command.as_str(), "{doc:#}");
    assert!(
        doc["would_block"]["tripped"]
            .as_str()
            .unwrap()
            .starts_with("max_updates"),
        "{doc:#}"
    );
    assert_eq!(doc["plan"]["safeguards"][0]["safeguard"], "max_updates");
    assert!(run.stderr.contains(&command), "{}", run.stderr);
    let sync = env
        .roster(&["sync", "--dry-run", "--source", source, "--format", "json"])
        .code(4)
        .json();
    assert_eq!(sync["status"], "dry-run", "{sync:#}");
    assert!(sync["would_block"]["command"].is_string(), "{sync:#}");
    // A plain dry run says nothing would block.
    let plain = env
        .roster(&[
            "apply",
            "--dry-run",
            "--allow-updates",
            "10",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(plain["status"], "dry-run", "{plain:#}");
    assert_eq!(plain["would_block"], Value::Null, "{plain:#}");
    assert_eq!(count(&env, "SELECT COUNT(*) FROM runs"), runs);
    let status: String = env
        .db()
        .query_row("SELECT status FROM batches WHERE id = 2", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "fetched");
}

/// `revert RUN --dry-run` of a revert a safeguard would hold records nothing, so it says, as
/// `apply --dry-run` does, that the revert *would be* blocked: JSON status `dry-run` with
/// `would_block {tripped, command}`, exit 4 as the real revert (SPEC §2: a dry run reverts and
/// records nothing).
#[test]
fn a_revert_dry_run_that_a_safeguard_would_block_says_would_be_blocked() {
    let env = setup();
    let run = env
        .import("day2.csv", &stripped(), &["--allow-updates", "10"])
        .ok()
        .json();
    let id = run["run"].to_string();
    let runs = count(&env, "SELECT COUNT(*) FROM runs");
    let before = directory(&env);
    let dry = env.roster(&["revert", &id, "--dry-run"]).code(4);
    let head = dry.stdout.lines().next().unwrap_or_default();
    assert!(
        head.starts_with(&format!(
            "revert of run {id} (apply): dry-run, would be blocked — "
        )),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stderr.contains(&format!(
            "the revert of run {id} would be blocked by a safeguard: max_updates"
        )) && !dry.stderr.contains("was blocked"),
        "{}",
        dry.stderr
    );
    let command = format!("roster revert {id} --allow-updates 10");
    assert!(dry.stderr.contains(&command), "{}", dry.stderr);
    let doc = env
        .roster(&["revert", &id, "--dry-run", "--format", "json"])
        .code(4)
        .json();
    assert_eq!(doc["status"], "dry-run", "{doc:#}");
    assert_eq!(doc["run"], Value::Null, "{doc:#}");
    assert_eq!(doc["would_block"]["command"], command.as_str(), "{doc:#}");
    let tripped = doc["would_block"]["tripped"].as_str().unwrap_or_default();
    assert!(tripped.starts_with("max_updates"), "{doc:#}");
    let message = doc["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("would be blocked") && !message.contains("was blocked"),
        "{doc:#}"
    );
    // A plain dry run says nothing would block; a real revert keeps no `would_block`.
    let plain = env
        .roster(&[
            "revert",
            &id,
            "--dry-run",
            "--allow-updates",
            "10",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(plain["status"], "dry-run", "{plain:#}");
    assert_eq!(plain["would_block"], Value::Null, "{plain:#}");
    assert_eq!(count(&env, "SELECT COUNT(*) FROM runs"), runs);
    assert_eq!(directory(&env), before);
    let status: String = env
        .db()
        .query_row("SELECT status FROM batches WHERE id = 2", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "applied");
    let real = env
        .roster(&["revert", &id, "--format", "json"])
        .code(4)
        .json();
    assert_eq!(real["status"], "blocked", "{real:#}");
    assert!(real.get("would_block").is_none(), "{real:#}");
}

/// A stale `--expect-plan` is no block (no safeguard tripped): nothing is written, no run
/// recorded, exit 4, and the output says the plan changed since it was reviewed, in one line
/// with the new digest and `roster diff --batch N`; JSON status `plan-changed`.
#[test]
fn a_stale_expect_plan_says_the_plan_changed_since_it_was_reviewed() {
    let env = setup();
    env.import("day2.csv", &stripped(), &[]).code(4);
    let digest_now = |env: &Env| -> String {
        let doc = env.roster(&["diff", "--format", "json"]).ok().json();
        doc["plan_digest"].as_str().unwrap().to_string()
    };
    let reviewed = digest_now(&env);
    env.roster(&["users", "edit", "E001", "--phone", "+46705550000"])
        .ok();
    let now = digest_now(&env);
    assert_ne!(now, reviewed);
    let runs = count(&env, "SELECT COUNT(*) FROM runs");
    let approve = [
        "apply",
        "--batch",
        "2",
        "--allow-updates",
        "10",
        "--expect-plan",
    ];
    let run = env
        .roster(&[&approve[..], &[reviewed.as_str()]].concat())
        .code(4);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let line = run.stdout.trim_end();
    assert!(
        line.contains("not applied, the plan changed since review")
            && line.contains(&now)
            && line.contains("roster diff --batch 2")
            && !line.contains("blocked"),
        "{line}"
    );
    assert!(!run.stderr.contains("blocked"), "{}", run.stderr);
    let doc = env
        .roster(&[&approve[..], &[reviewed.as_str(), "--format", "json"]].concat())
        .code(4)
        .json();
    assert_eq!(doc["status"], "plan-changed", "{doc:#}");
    assert_eq!(doc["run"], Value::Null, "{doc:#}");
    assert_eq!(doc["plan_digest"], now.as_str(), "{doc:#}");
    assert!(
        doc["message"]
            .as_str()
            .unwrap()
            .contains("roster diff --batch 2"),
        "{doc:#}"
    );
    assert_eq!(count(&env, "SELECT COUNT(*) FROM runs"), runs);
}

/// `sync --dry-run` of the file of a held batch prints what the real sync of it does: the
/// batch held again, and the one command that proceeds, `roster apply --batch N …
/// --expect-plan D` (SPEC §2), not a `sync`.
#[test]
fn a_dry_run_of_a_held_file_names_the_held_batchs_command() {
    let env = setup();
    let path = env.write("remote.csv", stripped());
    let source = path.to_str().unwrap();
    let command_of = |stderr: &str| -> String {
        let command = stderr
            .split("run: ")
            .nth(1)
            .unwrap_or_else(|| panic!("{stderr}"));
        command.trim().to_string()
    };
    let real = env.roster(&["sync", "--source", source]).code(4);
    let held = command_of(&real.stderr);
    assert!(
        held.starts_with("roster apply --batch 2 --allow-updates 10 --expect-plan "),
        "{held}"
    );
    let runs = count(&env, "SELECT COUNT(*) FROM runs");
    let dry = env
        .roster(&["sync", "--source", source, "--dry-run"])
        .code(4);
    assert_eq!(command_of(&dry.stderr), held, "{}", dry.stderr);
    assert!(!dry.stderr.contains("roster sync"), "{}", dry.stderr);
    let doc = env
        .roster(&["sync", "--source", source, "--dry-run", "--format", "json"])
        .code(4)
        .json();
    assert_eq!(doc["would_block"]["command"], held.as_str(), "{doc:#}");
    assert_eq!(count(&env, "SELECT COUNT(*) FROM runs"), runs);
    // The real sync of the same file again says the same.
    let again = env.roster(&["sync", "--source", source]).code(4);
    assert_eq!(command_of(&again.stderr), held, "{}", again.stderr);
}

/// `diff --format json` lists the file's problems as apply's JSON does (SPEC §2: each unknown
/// Group ID once with the number of records naming it).
#[test]
fn diff_json_lists_the_problems_as_apply_does() {
    let env = setup();
    env.write("roster.toml", "[import]\nmax_invalid = \"50%\"\n");
    let mut named = file((1..=10).map(|i| {
        let groups = if i % 2 == 0 {
            "ICU,NIGHT,GHOST"
        } else {
            "ICU,GHOST"
        };
        row(i, "Nurse", groups)
    }));
    named.push_str("E011,Person 11,not-a-mail,Nurse,,ICU\n");
    let path = env.write("day2.csv", &named);
    env.roster(&["fetch", "--source", path.to_str().unwrap()])
        .ok();
    let diff = env.roster(&["diff", "--format", "json"]).ok().json();
    let problems = diff["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("{diff:#}"));
    let unknown: Vec<&Value> = problems
        .iter()
        .filter(|p| p["code"] == "unknown-group")
        .collect();
    assert_eq!(unknown.len(), 1, "{diff:#}");
    assert_eq!(unknown[0]["group"], "GHOST");
    assert_eq!(unknown[0]["records"], 10);
    assert!(
        problems
            .iter()
            .any(|p| p["code"] == "bad-mail" && p["line"] == 12),
        "{diff:#}"
    );
    let apply = env
        .roster(&["apply", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(diff["problems"], apply["problems"], "{apply:#}");
}

/// `--expect-plan` applies only the plan reviewed (SPEC §2): when a setting changed since
/// makes the held file a rejected one (here the delimiter), no plan has that digest any more,
/// so nothing is written and no run recorded, the batch stays held, exit 4, and the message
/// names `roster diff --batch N`; the file is not rejected (and the held batch lost) by it.
#[test]
fn an_expect_plan_whose_file_is_now_rejected_writes_nothing() {
    let env = setup();
    env.import("day2.csv", &stripped(), &[]).code(4);
    let doc = env.roster(&["diff", "--format", "json"]).ok().json();
    let reviewed = doc["plan_digest"].as_str().unwrap().to_string();
    env.write("roster.toml", "[csv]\ndelimiter = \";\"\n");
    let runs = count(&env, "SELECT COUNT(*) FROM runs");
    let before = directory(&env);
    let approve = [
        "apply",
        "--batch",
        "2",
        "--allow-updates",
        "10",
        "--expect-plan",
        &reviewed,
    ];
    let run = env.roster(&approve).code(4);
    assert!(
        run.stdout.contains("roster diff --batch 2") && !run.stderr.contains("was rejected"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let doc = env
        .roster(&[&approve[..], &["--format", "json"]].concat())
        .code(4)
        .json();
    assert_eq!(doc["status"], "plan-changed", "{doc:#}");
    assert_eq!(doc["run"], Value::Null, "{doc:#}");
    assert_eq!(count(&env, "SELECT COUNT(*) FROM runs"), runs);
    assert_eq!(directory(&env), before);
    let status: String = env
        .db()
        .query_row("SELECT status FROM batches WHERE id = 2", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "blocked");
    // With the setting back, the reviewed plan applies.
    env.write("roster.toml", "");
    env.roster(&approve).ok();
}

/// The churn message names the median as it names the count, with thousands separators
/// (SPEC §2: `max_churn (updates 2,018 > 10 × median 33)`), here on nights of 1,100 updates.
#[test]
fn a_median_in_the_thousands_is_written_as_the_count_is() {
    let env = Env::new();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_churn = \"1.5x\"\n",
    );
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    env.import("first.csv", &staff(2500, 0, "", 0), &[]).ok();
    for k in 1..=5 {
        let title = format!("Title {k}");
        env.import(&format!("n{k}.csv"), &staff(2500, 1100, &title, 0), &[])
            .ok();
    }
    let run = env
        .import("big.csv", &staff(2500, 2000, "Head nurse", 0), &[])
        .code(4);
    assert!(
        run.stderr
            .contains("max_churn (updates 2,000 > 1.5 × median 1,100)"),
        "{}",
        run.stderr
    );
}

/// The other safeguards write their counts as churn does, with thousands separators, in the
/// message, `diff`, the report and `status`; the command that proceeds and the JSON keep
/// plain numbers. Here 1,300 of 2,500 users leave.
#[test]
fn a_blocked_count_in_the_thousands_is_written_with_separators() {
    let env = Env::new();
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    env.import("first.csv", &staff(2500, 0, "", 0), &[]).ok();
    let run = env.import("leave.csv", &staff(1200, 0, "", 0), &[]).code(4);
    let trip =
        "max_removals (1,300 > 250, import.max_removals = 10% of 2,500 active imported users)";
    assert!(run.stderr.contains(trip), "{}", run.stderr);
    assert!(
        run.stderr.contains("--allow-removals 1300"),
        "{}",
        run.stderr
    );
    let doc = run.json();
    assert_eq!(doc["counts"]["remove"], 1300);
    // diff wraps the line at 100 columns.
    let diff = env.roster(&["diff"]).ok();
    assert!(
        diff.stdout.contains("max_removals (1,300 > 250,")
            && diff.stdout.contains("10% of 2,500 active imported users"),
        "{}",
        diff.stdout
    );
    let report = env.roster(&["report", "--format", "text"]).ok();
    assert!(
        report
            .stdout
            .contains("Safeguard max_removals tripped: 1,300 > 250"),
        "{}",
        report.stdout
    );
    let status = env.roster(&["status"]);
    assert!(
        status.stdout.contains("max_removals 1,300 > 250"),
        "{}",
        status.stdout
    );
}

#[test]
fn a_bad_max_churn_names_the_forms_it_takes() {
    // The accepted forms are the message's own words, not a value to hide: `"…"` helps nobody.
    let env = Env::new();
    for value in ["\"0.5x\"", "\"ten\"", "true"] {
        env.write("roster.toml", format!("[import]\nmax_churn = {value}\n"));
        let run = env.roster(&["diff"]).code(2);
        assert!(
            run.stderr.contains("import.max_churn")
                && run.stderr.contains("10x")
                && run.stderr.contains("off")
                && !run.stderr.contains('…'),
            "{}",
            run.stderr
        );
    }
    env.write("roster.toml", "[import]\nmax_updates = true\n");
    let run = env.roster(&["diff"]).code(2);
    assert!(
        run.stderr.contains("10%") && !run.stderr.contains('…'),
        "{}",
        run.stderr
    );
}

#[test]
fn a_churn_floor_in_the_thousands_is_written_with_separators() {
    let env = history(1500, 5, 3);
    env.write(
        "roster.toml",
        "[import]\nchurn_floor = 1000\nmax_updates = \"90%\"\n",
    );
    let run = env
        .import("reorg.csv", &staff(1500, 0, "", 1100), &[])
        .code(4);
    assert!(
        run.stderr
            .contains("updates 1,100 > 10 × median 3 and > import.churn_floor 1,000"),
        "{}",
        run.stderr
    );
    let doc = run.json();
    let setting = doc["plan"]["safeguards"][0]["setting"].as_str().unwrap();
    assert!(setting.contains("import.churn_floor 1,000 "), "{doc:#}");
    let report = env.roster(&["report", "--format", "text"]).ok().stdout;
    assert!(report.contains("import.churn_floor 1,000"), "{report}");
}

//! Truthful signals (SPEC §2, §5 "The report says what is true now", "Honest health"): the
//! nights of issue #25 replayed through the binary. In each, the subject of the report, the
//! exit code of `status` and its Prometheus values say the same thing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use support::mail::parse_mail;
use support::servers::{Scim, Smtp};
use support::Env;

const TOKEN: &str = "t0k3n-signals-4b1d";

/// `n` users `E{i}` in `group`, titled `title`.
fn users(ids: std::ops::Range<usize>, group: &str, title: &str) -> String {
    let mut out = String::from("UniqueID,Name,Mail,Title,Groups\n");
    for i in ids {
        out.push_str(&format!(
            "E{i},Person {i},p{i}@example.se,{title},{group}\n"
        ));
    }
    out
}

fn mail_config(smtp: &Smtp) -> String {
    format!(
        "[mail]\nsmtp_url = \"smtp://127.0.0.1:{}\"\ntls = \"none\"\nfrom = \"roster@example.se\"\n\
         [report]\nrecipients = [\"oncall@example.se\"]\n",
        smtp.port
    )
}

fn sync(env: &Env, name: &str, csv: &str) -> support::Run {
    let p = env.write(name, csv);
    env.roster(&["sync", "--source", p.to_str().unwrap()])
}

/// The value of one Prometheus sample (`roster_status{status="OK"}`).
fn metric(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {sample} in:\n{text}"))
        .parse()
        .unwrap()
}

/// `status`'s exit code, JSON and metrics agree with `want` (a report subject's status).
#[track_caller]
fn assert_status(env: &Env, want: &str, healthy: bool) -> serde_json::Value {
    let code = if healthy { 0 } else { 1 };
    let json = env
        .roster(&["status", "--format", "json"])
        .code(code)
        .json();
    assert_eq!(json["healthy"], healthy, "{json:#}");
    assert_eq!(json["status"], want, "{json:#}");
    let prom = env
        .roster(&["status", "--format", "prometheus"])
        .code(code)
        .stdout;
    assert_eq!(
        metric(&prom, &format!("roster_status{{status=\"{want}\"}}")),
        1.0
    );
    assert_eq!(
        metric(&prom, "roster_healthy"),
        if healthy { 1.0 } else { 0.0 }
    );
    json
}

/// The status of a report (`report [ARGS] --format json`) and its subject line.
fn report(env: &Env, args: &[&str]) -> (String, String) {
    let mut all = vec!["report", "--format", "json"];
    all.extend_from_slice(args);
    let json = env.roster(&all).ok().json();
    let mut all = vec!["report", "--format", "text"];
    all.extend_from_slice(args);
    let text = env.roster(&all).ok().stdout;
    (json["status"].as_str().unwrap().to_string(), text)
}

/// The subjects of the reports mailed so far.
fn subjects(env: &Env, smtp: &Smtp) -> Vec<String> {
    smtp.messages()
        .iter()
        .map(|(_, raw)| {
            parse_mail(env, raw)["subject"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// A night's report is mailed once a day: forget that it went, so the next night mails one.
fn forget_daily_report(env: &Env) {
    env.db()
        .execute("DELETE FROM meta WHERE key = 'last_report_day'", [])
        .unwrap();
}

/// A unit renamed in the HR file under `unknown_groups = "warn"`: the night is applied, but
/// its subject is WARNING and `status` lists the group under attention (healthy) until it
/// exists, then its memberships as waiting until the next sync applies them.
#[test]
fn a_rename_under_warn_is_a_warning_with_attention() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(dir.path(), None);
    let env = Env::new();
    env.write(
        "roster.toml",
        format!("[import]\nmax_updates = \"100%\"\n{}", mail_config(&smtp)),
    );
    env.roster(&["groups", "add", "MEDAKUT", "--name", "Medicine"])
        .ok();
    sync(&env, "night1.csv", &users(0..12, "MEDAKUT", "Nurse")).ok();
    assert_status(&env, "OK", true);
    forget_daily_report(&env);
    sync(&env, "night2.csv", &users(0..12, "AKUTMED", "Nurse")).ok();
    let mailed = subjects(&env, &smtp);
    assert!(
        mailed.last().unwrap().starts_with("roster: WARNING"),
        "{mailed:?}"
    );
    let (status, text) = report(&env, &[]);
    assert_eq!(status, "WARNING", "{text}");
    assert!(text.starts_with("roster: WARNING"), "{text}");
    let json = assert_status(&env, "WARNING", true);
    assert_eq!(
        json["attention"],
        serde_json::json!([{"kind": "unknown-groups", "detail": "AKUTMED (12 records)"}]),
        "{json:#}"
    );
    // Once the group exists, its memberships wait for the next sync (still a warning); once
    // that sync applied them, nothing is left to warn of.
    env.roster(&["groups", "add", "AKUTMED", "--name", "Acute medicine"])
        .ok();
    let json = assert_status(&env, "WARNING", true);
    assert_eq!(
        json["attention"][0]["kind"], "memberships-waiting",
        "{json:#}"
    );
    sync(&env, "night2.csv", &users(0..12, "AKUTMED", "Nurse")).ok();
    let json = assert_status(&env, "OK", true);
    assert_eq!(json["attention"], serde_json::json!([]), "{json:#}");
    assert_eq!(report(&env, &[]).0, "OK");
}

/// Night 10 blocked, night 11 applied a fixed file: the block is superseded. Neither the
/// next subject, nor a report of the week, nor `status`, nor the metrics say BLOCKED.
#[test]
fn a_superseded_block_no_longer_sets_the_subject() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(dir.path(), None);
    let env = Env::new();
    env.write("roster.toml", mail_config(&smtp));
    sync(&env, "night9.csv", &users(0..40, "", "Nurse")).ok();
    // Half the users gone: a safeguard blocks the night, and it is mailed at once.
    sync(&env, "night10.csv", &users(20..40, "", "Nurse")).code(4);
    assert_eq!(report(&env, &[]).0, "BLOCKED");
    assert_status(&env, "BLOCKED", false);
    forget_daily_report(&env);
    sync(&env, "night11.csv", &users(0..41, "", "Nurse")).ok();
    let mailed = subjects(&env, &smtp);
    let last = mailed.last().unwrap();
    assert!(!last.contains("BLOCKED"), "{mailed:?}");
    assert!(last.starts_with("roster: OK"), "{mailed:?}");
    let (status, text) = report(&env, &["--since", "7d"]);
    assert_eq!(status, "OK", "{text}");
    assert!(text.contains("superseded by run 3"), "{text}");
    let json = env
        .roster(&["report", "--since", "7d", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        json["runs"][1]["closed"],
        serde_json::json!({"kind": "superseded", "run": 3}),
        "{json:#}"
    );
    assert_status(&env, "OK", true);
    let prom = env
        .roster(&["status", "--format", "prometheus"])
        .ok()
        .stdout;
    assert_eq!(metric(&prom, "roster_blocked_runs"), 0.0);
}

/// The same rejected records over three nights are counted once, with since when; a record
/// rejected for the first time is listed apart, and warns.
#[test]
fn the_same_rejected_records_are_counted_once() {
    let env = Env::new();
    env.write("roster.toml", "[import]\nmax_invalid = \"50%\"\n");
    let night = |n: usize, extra_bad: bool| {
        let mut csv = users(0..10, "", &format!("Title {n}"));
        csv.push_str("E90,Bad One,not-a-mail,,\nE91,Bad Two,also-not,,\n");
        if extra_bad {
            csv.push_str("E92,Bad Three,nope,,\n");
        }
        csv
    };
    env.write(
        "roster.toml",
        "[import]\nmax_invalid = \"50%\"\nmax_updates = \"100%\"\n",
    );
    for n in 1..=3 {
        sync(&env, &format!("night{n}.csv"), &night(n, false)).ok();
    }
    let (status, text) = report(&env, &["--since", "7d"]);
    assert!(
        text.contains("Rejected records: 2 records, each counted once (bad-mail 2)"),
        "{text}"
    );
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(
        text.contains(&format!(
            "2 records rejected in 3 runs in a row, since {today}"
        )),
        "{text}"
    );
    assert!(!text.contains("first time"), "{text}");
    // Old news: the newest night rejected nothing new.
    assert_eq!(status, "OK", "{text}");
    assert_eq!(report(&env, &[]).0, "OK");
    assert_status(&env, "OK", true);
    // A fourth night rejects a record the third did not: listed apart, and a warning.
    sync(&env, "night4.csv", &night(4, true)).ok();
    let (status, text) = report(&env, &["--since", "7d"]);
    assert_eq!(status, "WARNING", "{text}");
    assert!(
        text.contains("rejected for the first time in the newest file: 1 (E92)"),
        "{text}"
    );
    assert!(
        text.contains("2 records rejected in 4 runs in a row"),
        "{text}"
    );
    assert_eq!(report(&env, &[]).0, "WARNING");
    let json = assert_status(&env, "WARNING", true);
    assert_eq!(json["attention"][0]["kind"], "new-rejections", "{json:#}");
}

fn scim_env(url: &str, extra: &str) -> Env {
    let env = Env::new();
    env.write("scim.token", format!("{TOKEN}\n"));
    env.write(
        "roster.toml",
        format!(
            "{extra}[scim]\nurl = \"{url}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = 0\n\
             timeout_secs = 20\nmax_pending_minutes = 30\n"
        ),
    );
    env
}

/// Approving a held plan reaches the app at once: `apply --batch N --allow-updates M` pushes.
/// With `--no-push`, the changes wait: a warning, until they wait longer than
/// `scim.max_pending_minutes`, which is unhealthy.
#[test]
fn approving_a_held_plan_pushes_and_a_late_push_is_unhealthy() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = scim_env(&server.url(), "");
    sync(&env, "night1.csv", &users(0..20, "", "Nurse")).ok();
    // Every title changed: more updates than max_updates (20%), so the plan is held.
    let held = sync(&env, "night2.csv", &users(0..20, "", "Head nurse")).code(4);
    assert!(
        held.stderr.contains("--allow-updates 20"),
        "{}",
        held.stderr
    );
    let batch = env.roster(&["status", "--format", "json"]).code(1).json()["blocked_runs"][0]
        ["batch"]
        .as_i64()
        .unwrap();
    env.roster(&[
        "apply",
        "--batch",
        &batch.to_string(),
        "--allow-updates",
        "20",
    ])
    .ok();
    let json = assert_status(&env, "OK", true);
    assert_eq!(json["push"]["pending"], 0, "{json:#}");
    let titles: Vec<String> = server
        .all("Users")
        .values()
        .map(|u| u["title"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(titles.iter().all(|t| t == "Head nurse"), "{titles:?}");
    // Held again, approved without the push: the changes wait.
    sync(&env, "night3.csv", &users(0..20, "", "Ward nurse")).code(4);
    let batch = batch + 1;
    env.roster(&[
        "apply",
        "--batch",
        &batch.to_string(),
        "--allow-updates",
        "20",
        "--no-push",
    ])
    .ok();
    let json = assert_status(&env, "WARNING", true);
    assert_eq!(json["push"]["pending"], 20, "{json:#}");
    assert_eq!(json["attention"][0]["kind"], "push-pending", "{json:#}");
    // They have waited two hours (the runs' times set back), past max_pending_minutes = 30.
    let db = env.db();
    db.execute(
        "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-2 hours')
          WHERE id = (SELECT MAX(id) FROM runs)",
        [],
    )
    .unwrap();
    let json = assert_status(&env, "FAILED", false);
    let why = json["unhealthy"].to_string();
    assert!(why.contains("max_pending_minutes = 30"), "{why}");
    let prom = env
        .roster(&["status", "--format", "prometheus"])
        .code(1)
        .stdout;
    assert_eq!(metric(&prom, "roster_push_pending"), 20.0);
    assert!(
        metric(&prom, "roster_push_pending_seconds") >= 7000.0,
        "{prom}"
    );
    // A revert pushes after its commit too, and the push catches up.
    let last = env
        .db()
        .query_row("SELECT MAX(id) FROM runs", [], |r| r.get::<_, i64>(0))
        .unwrap();
    env.roster(&["revert", &last.to_string(), "--allow-updates", "20"])
        .ok();
    let json = assert_status(&env, "OK", true);
    assert_eq!(json["push"]["pending"], 0, "{json:#}");
}

/// A config key out of range is refused by name.
#[test]
fn max_pending_minutes_is_checked() {
    for (value, ok) in [
        ("0", true),
        ("10080", true),
        ("10081", false),
        ("-1", false),
    ] {
        let env = Env::new();
        env.write(
            "roster.toml",
            format!("[scim]\nurl = \"http://127.0.0.1:9/scim\"\ntls = \"none\"\nmax_pending_minutes = {value}\n"),
        );
        let run = env.roster(&["users", "list"]);
        if ok {
            run.ok();
        } else {
            let run = run.code(2);
            assert!(run.stderr.contains("max_pending_minutes"), "{}", run.stderr);
        }
    }
}

/// An alias added for a group the file names: the same file is planned again, not
/// "unchanged", and its members get the group; then it is unchanged.
#[test]
fn an_alias_added_replans_the_same_file() {
    let env = Env::new();
    env.roster(&["groups", "add", "INTMED", "--name", "Internal medicine"])
        .ok();
    let csv = users(0..3, "MED", "Nurse");
    sync(&env, "users.csv", &csv).ok();
    assert_eq!(env.user("E0")["groups"], serde_json::json!([]));
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\n[groups.aliases]\n\"MED\" = \"INTMED\"\n",
    );
    let run = sync(&env, "users.csv", &csv).ok();
    assert!(run.stdout.contains(": applied"), "{}", run.stdout);
    assert_eq!(env.user("E0")["groups"], serde_json::json!(["INTMED"]));
    let batches = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        batches.as_array().unwrap().len(),
        1,
        "no second copy: {batches:#}"
    );
    let run = sync(&env, "users.csv", &csv).ok();
    assert!(run.stdout.starts_with("unchanged"), "{}", run.stdout);
    assert_status(&env, "OK", true);
}

/// Night 1 names INTMED, which does not exist (`warn`): its memberships are ignored. Once
/// `groups add INTMED` makes it, the same file is no longer "unchanged": `status` says the
/// memberships wait (a warning, healthy), a dry run and the next sync plan the same batch
/// again and apply them (no second copy), and the night after is unchanged and OK.
#[test]
fn a_group_added_after_a_night_ignored_it_replans_the_same_file() {
    let env = Env::new();
    env.write("roster.toml", "[import]\nmax_updates = \"100%\"\n");
    let csv = users(0..3, "INTMED", "Nurse");
    sync(&env, "users.csv", &csv).ok();
    assert_eq!(env.user("E0")["groups"], serde_json::json!([]));
    let json = assert_status(&env, "WARNING", true);
    assert_eq!(json["attention"][0]["kind"], "unknown-groups", "{json:#}");
    env.roster(&["groups", "add", "INTMED", "--name", "Internal medicine"])
        .ok();
    let json = assert_status(&env, "WARNING", true);
    assert_eq!(
        json["attention"],
        serde_json::json!([{"kind": "memberships-waiting",
            "detail": "INTMED (3 records) exists now; the next sync applies them"}]),
        "{json:#}"
    );
    let p = env.path("users.csv");
    let dry = env
        .roster(&[
            "sync",
            "--dry-run",
            "--format",
            "json",
            "--source",
            p.to_str().unwrap(),
        ])
        .ok()
        .json();
    assert_eq!(
        (dry["status"].as_str(), dry["counts"]["update"].as_u64()),
        (Some("dry-run"), Some(3)),
        "{dry:#}"
    );
    let run = sync(&env, "users.csv", &csv).ok();
    assert!(run.stdout.contains(": applied"), "{}", run.stdout);
    assert!(run.stderr.contains("INTMED"), "{}", run.stderr);
    for id in ["E0", "E1", "E2"] {
        assert_eq!(
            env.user(id)["groups"],
            serde_json::json!(["INTMED"]),
            "{id}"
        );
    }
    let batches = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(batches.as_array().unwrap().len(), 1, "{batches:#}");
    let run = sync(&env, "users.csv", &csv).ok();
    assert!(run.stdout.starts_with("unchanged"), "{}", run.stdout);
    let json = assert_status(&env, "OK", true);
    assert_eq!(json["attention"], serde_json::json!([]), "{json:#}");
}

/// `revert 2`, then `revert 3`: batch 2 is applied again; the report and the history show run
/// 2 reverted by run 3 until that revert is reverted; a sync of the same file is unchanged.
#[test]
fn a_revert_of_a_revert_applies_the_batch_again() {
    let env = Env::new();
    sync(&env, "night1.csv", &users(0..10, "", "Nurse")).ok();
    let night2 = users(0..10, "", "Head nurse");
    env.write("roster.toml", "[import]\nmax_updates = \"100%\"\n");
    sync(&env, "night2.csv", &night2).ok();
    env.roster(&["revert", "2"]).ok();
    let batches = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(batches[1]["status"], "reverted", "{batches:#}");
    assert_eq!(batches[1]["reverted_by_run"], 3, "{batches:#}");
    let text = env
        .roster(&["report", "--run", "2", "--format", "text"])
        .ok()
        .stdout;
    assert!(text.contains("Reverted by run 3"), "{text}");
    let history = env.roster(&["users", "history", "E1"]).ok().stdout;
    assert!(history.contains("reverted by run 3"), "{history}");
    env.roster(&["revert", "3"]).ok();
    assert_eq!(env.user("E1")["title"], "Head nurse");
    let batches = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(batches[1]["status"], "applied", "{batches:#}");
    assert_eq!(batches[1]["reverted_by_run"], serde_json::Value::Null);
    let text = env
        .roster(&["report", "--run", "2", "--format", "text"])
        .ok()
        .stdout;
    assert!(!text.contains("Reverted by"), "{text}");
    let history = env
        .roster(&["users", "history", "E1", "--format", "json"])
        .ok()
        .json();
    let rows = history.as_array().unwrap();
    assert!(rows.iter().any(|r| r["run"] == 2), "{history:#}");
    assert!(
        rows.iter()
            .filter(|r| r["run"] == 2)
            .all(|r| r["reverted_by"].is_null()),
        "{history:#}"
    );
    let run = sync(&env, "night2.csv", &night2).ok();
    assert!(run.stdout.starts_with("unchanged"), "{}", run.stdout);
    assert!(!run.stdout.contains("revert"), "{}", run.stdout);
    assert_status(&env, "OK", true);
}

/// On an empty store, `sync --dry-run` names commands that work: no batch exists to name.
#[test]
fn dry_run_hints_name_what_exists() {
    let env = Env::new();
    let p = env.write("f.csv", users(0..60, "", "Nurse"));
    let run = env
        .roster(&["sync", "--dry-run", "--source", p.to_str().unwrap()])
        .ok();
    assert!(!run.stdout.contains("--batch 1"), "{}", run.stdout);
    assert!(!run.stdout.contains("roster diff --all"), "{}", run.stdout);
    let hint = run
        .stdout
        .lines()
        .find(|l| l.starts_with("… and 10 more"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let command = hint
        .split_once("(roster ")
        .and_then(|(_, rest)| rest.split_once(", or"))
        .map(|(c, _)| c)
        .unwrap();
    let args: Vec<&str> = command.split(' ').collect();
    let again = env.roster(&args).ok();
    let listed = again.stdout.lines().filter(|l| l.starts_with("| create"));
    assert_eq!(listed.count(), 60, "{}", again.stdout);
    // A plan a safeguard would hold names a command that applies this file, not a batch.
    let mut csv = users(0..20, "", "Nurse");
    csv.push_str("E90,Bad,not-a-mail,,\nE91,Bad,nope,,\n");
    let p = env.write("h.csv", csv);
    let run = env
        .roster(&["sync", "--dry-run", "--source", p.to_str().unwrap()])
        .code(4);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(!said.contains("--batch"), "{said}");
    let command = format!(
        "roster sync --source {} --allow-invalid 2",
        p.to_str().unwrap()
    );
    assert!(said.contains(&command), "{said}");
    // Many kinds of unknown groups: the hint is the dry run's JSON (`validate` of the file
    // checks no Group ID against the store).
    let mut csv = String::from("UniqueID,Name,Mail,Title,Groups\n");
    for i in 0..12 {
        csv.push_str(&format!("E{i},P {i},p{i}@example.se,,G{i}\n"));
    }
    let p = env.write("g.csv", csv);
    let run = env
        .roster(&["sync", "--dry-run", "--source", p.to_str().unwrap()])
        .ok();
    // The hint on one line, or (a long path) the command on lines of its own, joined as a
    // shell joins them.
    let from = run
        .stdout
        .find("more kinds")
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let said = run.stdout[from..].replace(" \\\n", " ").replace('\n', " ");
    let said = said.split_whitespace().collect::<Vec<_>>().join(" ");
    let dry_run = format!(
        "roster sync --dry-run --source {} --format json",
        p.display()
    );
    assert!(said.contains(&dry_run), "{}", run.stdout);
    let json = env
        .roster(&[
            "sync",
            "--dry-run",
            "--source",
            p.to_str().unwrap(),
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert!(json["problems"].to_string().contains("G11"), "{json}");
}

/// A store another account owns, or in a folder others may write without the sticky bit,
/// is exposed: said in `store_exposed` and under attention, a warning (still healthy).
#[test]
fn an_exposed_store_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    sync(&env, "users.csv", &users(0..3, "", "Nurse")).ok();
    let json = assert_status(&env, "OK", true);
    assert_eq!(json["store_exposed"], serde_json::Value::Null, "{json:#}");
    let store = env.store();
    std::os::unix::fs::chown(&store, Some(65534), None).unwrap();
    let json = assert_status(&env, "OK", true);
    let why = json["store_exposed"].as_str().unwrap_or_default();
    assert!(why.contains("uid 65534"), "{json:#}");
    assert!(
        json["attention"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "store-exposed"),
        "{json:#}"
    );
    let prom = env
        .roster(&["status", "--format", "prometheus"])
        .ok()
        .stdout;
    assert_eq!(metric(&prom, "roster_store_exposed"), 1.0);
    std::os::unix::fs::chown(&store, Some(0), None).unwrap();
    let folder = store.parent().unwrap();
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o777)).unwrap();
    let json = assert_status(&env, "OK", true);
    let why = json["store_exposed"].as_str().unwrap_or_default();
    assert!(why.contains("folder") && why.contains("0777"), "{json:#}");
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let json = assert_status(&env, "OK", true);
    assert_eq!(json["store_exposed"], serde_json::Value::Null, "{json:#}");
}

/// A store reached through a symbolic link that sits in a folder others may write without the
/// sticky bit is exposed too: another account can replace the link, and so the store roster
/// opens by that path (SPEC §5: replaced by another user), though the store's own folder is
/// private.
#[test]
fn a_store_reached_through_a_link_in_an_open_folder_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    sync(&env, "users.csv", &users(0..3, "", "Nurse")).ok();
    let open = env.path("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let link = open.join("roster.db");
    std::os::unix::fs::symlink(env.store(), &link).unwrap();
    let run = env.roster_var(
        ("ROSTER_STORE", link.to_str().unwrap()),
        &["status", "--format", "json"],
    );
    let json = run.ok().json();
    let why = json["store_exposed"].as_str().unwrap_or_default();
    assert!(
        why.contains(open.to_str().unwrap()) && why.contains("0777"),
        "{json:#}"
    );
    // With the sticky bit, nobody else can replace the link.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let run = env.roster_var(
        ("ROSTER_STORE", link.to_str().unwrap()),
        &["status", "--format", "json"],
    );
    assert_eq!(run.ok().json()["store_exposed"], serde_json::Value::Null);
}

/// SPEC §5's bound of a file of `size` bytes, in KiB: 4× the file plus 64 MiB.
fn bound_kib(size: u64) -> u64 {
    (4 * size + 64 * 1024 * 1024) / 1024
}

/// `roster ARGS` in the test's folder (its roster.toml, its store): its peak resident memory
/// in KiB (`/usr/bin/time`), its stdout written to `out`.
fn peak_kib(env: &Env, args: &[&str], out: &std::path::Path) -> u64 {
    let run = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(env.path("peak"))
        .arg(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .current_dir(env.dir.path())
        .env("ROSTER_STORE", env.store())
        .env("HOME", env.dir.path())
        .stdout(std::fs::File::create(out).unwrap())
        .status()
        .unwrap();
    assert!(run.success(), "{args:?}");
    std::fs::read_to_string(env.path("peak"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// `report --run 1` of a night of `rejected` records read from a file of `size` bytes, in
/// every format, peaks within SPEC §5's bound; the text says the whole count and shows the
/// first hundred, the JSON lists every record. Returns each format's output.
#[track_caller]
fn assert_report_bounded(env: &Env, size: u64, rejected: u64) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    for format in ["text", "html", "json", "table"] {
        let out = env.path(&format!("report.{format}"));
        let peak = peak_kib(env, &["report", "--run", "1", "--format", format], &out);
        assert!(
            peak <= bound_kib(size),
            "{rejected} rejected, report --format {format}: {peak} KiB > {} KiB",
            bound_kib(size)
        );
        let text = std::fs::read_to_string(&out).unwrap();
        if format == "text" {
            let total = support::thousands(rejected);
            assert!(
                text.contains(&format!("Rejected records ({total}):")),
                "{text}"
            );
            let more = support::thousands(rejected - 100);
            assert!(text.contains(&format!("… and {more} more")), "{text}");
        }
        if format == "json" {
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            let listed = doc["runs"][0]["rejected"].as_array().unwrap().len();
            assert_eq!(listed as u64, rejected);
        }
        outputs.insert(format.to_string(), text);
    }
    outputs
}

/// The report of a night of 200,000 rejected one-field records holds what it shows, not the
/// records: peak memory within 4× the file plus 64 MiB (SPEC §5), in every format.
#[test]
fn the_report_of_200k_rejected_records_is_bounded() {
    let env = Env::new();
    let mut csv = String::from("UniqueID,Name,Mail\n");
    for i in 0..20 {
        csv.push_str(&format!("E{i},P {i},p{i}@example.se\n"));
    }
    for i in 0..200_000 {
        csv.push_str(&format!("X{i}\n"));
    }
    sync(&env, "bad.csv", &csv).code(4);
    assert_report_bounded(&env, csv.len() as u64, 200_000);
}

/// Two-field invalid records (`E7,Some Name 7` under a three-column header: a field-count
/// error with a UniqueID and a name) at three sizes: the report of each night, in every
/// format and as mailed, peaks within 4× the file plus 64 MiB (SPEC §5). It reads the hundred
/// records it shows and the warnings of the run, never every problem of the night.
#[test]
fn the_report_of_two_field_rejected_records_is_bounded_at_three_sizes() {
    for n in [100_000u64, 200_000, 400_000] {
        let env = Env::new();
        let smtp = Smtp::start(env.dir.path(), None);
        env.write("roster.toml", mail_config(&smtp));
        let mut csv = String::from("UniqueID,Name,Mail\n");
        for i in 0..20 {
            csv.push_str(&format!("V{i},P {i},p{i}@example.se\n"));
        }
        for i in 0..n {
            csv.push_str(&format!("E{i},Some Name {i}\n"));
        }
        let size = csv.len() as u64;
        // Blocked by max_invalid: the night's report is mailed at once.
        sync(&env, "bad.csv", &csv).code(4);
        let outputs = assert_report_bounded(&env, size, n);
        // A rejected record shows its line, UniqueID, name and code.
        assert!(
            outputs["text"].contains("22  E0  Some Name 0  field-count"),
            "{}",
            outputs["text"]
        );
        let peak = peak_kib(
            &env,
            &["report", "--run", "1", "--send"],
            &env.path("send.out"),
        );
        assert!(
            peak <= bound_kib(size),
            "{n} rejected, report --send: {peak} KiB > {} KiB",
            bound_kib(size)
        );
        let messages = smtp.messages();
        assert_eq!(messages.len(), 2, "the sync's report and report --send");
        let mail = parse_mail(&env, &messages[1].1);
        let rows = mail["attachments"]["run-1-rejected.csv"]
            .as_array()
            .unwrap();
        // The header, then the first ATTACH_ROWS (10,000) records.
        assert_eq!(rows.len(), 10_001, "{}", mail["attachments"]);
        assert_eq!(rows[1][2], "Some Name 0");
        let text = mail["text"].as_str().unwrap();
        assert!(text.contains(&format!("Rejected records ({}):", support::thousands(n))));
    }
}

/// A report of several bad nights (`--since`) holds one night's lists at a time: the JSON of
/// four nights of 20,000 two-field rejected records each peaks within the bound of the file
/// they came from (SPEC §5), and lists every record of every night.
#[test]
fn the_json_report_of_several_bad_nights_is_bounded() {
    let env = Env::new();
    let mut csv = String::from("UniqueID,Name,Mail\n");
    for i in 0..20 {
        csv.push_str(&format!("V{i},P {i},p{i}@example.se\n"));
    }
    for i in 0..20_000 {
        csv.push_str(&format!("E{i},Some Name {i}\n"));
    }
    for _ in 0..4 {
        sync(&env, "bad.csv", &csv).code(4);
    }
    let out = env.path("since.json");
    let peak = peak_kib(&env, &["report", "--since", "1d", "--format", "json"], &out);
    let bound = bound_kib(csv.len() as u64);
    assert!(peak <= bound, "report --since: {peak} KiB > {bound} KiB");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    for run in runs {
        assert_eq!(run["rejected"].as_array().unwrap().len(), 20_000);
        assert_eq!(run["rejected_total"], 20_000);
    }
}

/// A dry run of a file stored nowhere lists its errors with `-v`, and the hint past the limit
/// names `validate` of that file, not a batch that does not exist.
#[test]
fn a_dry_runs_errors_hint_validates_the_file() {
    let env = Env::new();
    let mut csv = String::from("UniqueID,Name,Mail\nE99,Ok,ok@example.se\n");
    for i in 0..60 {
        csv.push_str(&format!("E{i},N {i},bad{i}\n"));
    }
    let p = env.write("many.csv", csv);
    let p = p.to_str().unwrap();
    let run = env
        .roster(&["-v", "sync", "--dry-run", "--source", p])
        .code(4);
    assert!(!run.stdout.contains("--batch"), "{}", run.stdout);
    let hint = format!("… and 10 more (roster validate {p} --all, or --format json)");
    assert!(run.stdout.contains(&hint), "{}", run.stdout);
    let all = env.roster(&["validate", p, "--all"]).code(3);
    assert_eq!(
        all.stdout.matches("| bad-mail |").count(),
        60,
        "{}",
        all.stdout
    );
}

/// With `import.unknown_groups = "create"` the night creates the groups and keeps their
/// memberships: nothing waits, `status` has no `memberships-waiting`, and the same file the next
/// night is unchanged (not planned again because the groups it created exist).
#[test]
fn groups_the_night_created_are_not_memberships_waiting() {
    let env = Env::new();
    env.write("roster.toml", "[import]\nunknown_groups = \"create\"\n");
    let csv = users(0..3, "INTMED", "Nurse");
    sync(&env, "users.csv", &csv).ok();
    assert_eq!(env.user("E0")["groups"], serde_json::json!(["INTMED"]));
    let json = env.roster(&["status", "--format", "json"]).json();
    let kinds: Vec<&str> = json["attention"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .collect();
    assert!(!kinds.contains(&"memberships-waiting"), "{json:#}");
    let run = sync(&env, "users.csv", &csv).ok();
    assert!(run.stdout.starts_with("unchanged"), "{}", run.stdout);
    assert!(!run.stderr.contains("planning it again"), "{}", run.stderr);
}

/// A revert held by a safeguard, then run with the flag it named: the revert is applied and
/// the block resolved, so `status`, the metrics and the report no longer say BLOCKED.
#[test]
fn a_held_revert_run_with_its_flag_is_resolved() {
    let env = Env::new();
    env.write("roster.toml", "[import]\nmax_removals = \"100%\"\n");
    sync(&env, "night1.csv", &users(0..8, "", "Nurse")).ok();
    sync(&env, "night2.csv", &users(0..20, "", "Nurse")).ok();
    // Undoing night 2 removes 12 of 20 users: over a limit of 3.
    env.write("roster.toml", "[import]\nmax_removals = 3\n");
    env.roster(&["revert", "2"]).code(4);
    assert_status(&env, "BLOCKED", false);
    env.roster(&["revert", "2", "--allow-removals", "12"]).ok();
    assert_eq!(
        env.users_json()
            .iter()
            .filter(|u| u["status"] == "active")
            .count(),
        8
    );
    let json = assert_status(&env, "OK", true);
    assert_eq!(json["open_runs"], serde_json::json!([]), "{json:#}");
    let (status, text) = report(&env, &["--since", "1d"]);
    assert_eq!(status, "OK", "{text}");
    assert!(text.contains("resolved by run 4"), "{text}");
}

/// The plans `status` says are held (JSON `blocked_runs`, `roster_blocked_runs`) and the
/// report's open items with their command, for a run that `status` calls blocked.
#[track_caller]
fn assert_held(env: &Env, commands: &[&str]) {
    let healthy = commands.is_empty();
    let json = assert_status(env, if healthy { "OK" } else { "BLOCKED" }, healthy);
    let named: Vec<&str> = json["blocked_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["command"].as_str().unwrap())
        .collect();
    assert_eq!(named, commands, "{json:#}");
    let prom = env
        .roster(&["status", "--format", "prometheus"])
        .code(if healthy { 0 } else { 1 })
        .stdout;
    assert_eq!(
        metric(&prom, "roster_blocked_runs"),
        commands.len() as f64,
        "{prom}"
    );
    let text = env.roster(&["report", "--format", "text"]).ok().stdout;
    let open = text.split("Open items:").nth(1).unwrap();
    let open = &open[..open.find("Changes per night").unwrap()];
    for command in commands {
        let flat = open
            .replace(" \\\n", " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(flat.contains(command), "{command} not in:\n{open}");
    }
}

/// A forced rollback and a revert that a safeguard holds are plans held like a night's:
/// `status` is BLOCKED and unhealthy, and so it lists them under `blocked_runs` with the one
/// command that proceeds, `roster_blocked_runs` counts them and the report names them as open
/// items; once that command ran, none is held.
#[test]
fn a_held_rollback_or_revert_is_a_blocked_run_of_status_the_metrics_and_the_report() {
    let env = Env::new();
    sync(&env, "night1.csv", &users(0..30, "", "Nurse")).ok();
    env.write("roster.toml", "[import]\nmax_updates = \"100%\"\n");
    sync(&env, "night2.csv", &users(0..30, "", "Midwife")).ok();
    assert_held(&env, &[]);
    // Back to yesterday's file: 30 updates, over a limit of 4.
    env.write("roster.toml", "[import]\nmax_updates = 4\n");
    let run = env.roster(&["apply", "--batch", "1", "--force"]).code(4);
    let command = run.stderr.split("run: ").nth(1).unwrap().trim().to_string();
    assert!(command.contains("--force"), "{command}");
    assert_held(&env, &[&command]);
    let args: Vec<&str> = command.split(' ').skip(1).collect();
    env.roster(&args).ok();
    assert_eq!(env.user("E1")["title"], "Nurse");
    assert_held(&env, &[]);
    // Undoing that rollback: 30 updates again, held.
    let run = env.roster(&["revert", "4"]).code(4);
    let command = run.stderr.split("run: ").nth(1).unwrap().trim().to_string();
    assert!(command.starts_with("roster revert 4 "), "{command}");
    assert_held(&env, &[&command]);
    let args: Vec<&str> = command.split(' ').skip(1).collect();
    env.roster(&args).ok();
    assert_eq!(env.user("E1")["title"], "Midwife");
    assert_held(&env, &[]);
}

/// A file held by a safeguard that rejects a record the applied file before it did not: once
/// the held plan is approved, that record is new to the directory's history, so `status`, the
/// metrics and the report say WARNING (SPEC §5), not OK because the blocked run of the same
/// file had rejected it already.
#[test]
fn an_approved_held_file_that_rejects_a_new_record_is_a_warning() {
    let env = Env::new();
    env.write("roster.toml", "[import]\nmax_invalid = \"50%\"\n");
    let mut night1 = users(0..20, "", "Nurse");
    night1.push_str("E80,Old Bad,not-a-mail,,\n");
    sync(&env, "night1.csv", &night1).ok();
    // The first file's rejected record is new.
    assert_status(&env, "WARNING", true);
    // Night 2: five leave (over max_removals 10% of 20) and E81 is rejected for the first time.
    let mut night2 = users(0..15, "", "Nurse");
    night2.push_str("E80,Old Bad,not-a-mail,,\nE81,New Bad,nope,,\n");
    sync(&env, "night2.csv", &night2).code(4);
    assert_status(&env, "BLOCKED", false);
    env.roster(&["apply", "--batch", "2", "--allow-removals", "5"])
        .ok();
    let json = assert_status(&env, "WARNING", true);
    assert_eq!(
        json["attention"],
        serde_json::json!([{"kind": "new-rejections",
            "detail": "run 3 rejected 1 record that the file before it did not"}]),
        "{json:#}"
    );
    assert_eq!(report(&env, &[]).0, "WARNING");
    // The next file rejects nothing new: no warning.
    sync(
        &env,
        "night3.csv",
        &night2.replace("Person 1,", "Person One,"),
    )
    .ok();
    assert_status(&env, "OK", true);
}

/// A sync whose file is rejected before it becomes a batch (over `csv.max_file_bytes`), then
/// a smaller file fetched and applied by hand: the rejected file is superseded by a later
/// applied batch (SPEC §5), so `status`, the metrics and a report of the day are OK.
#[test]
fn a_file_rejected_at_the_fetch_is_superseded_by_a_later_applied_batch() {
    let env = Env::new();
    env.write("roster.toml", "[csv]\nmax_file_bytes = \"2KiB\"\n");
    sync(&env, "night1.csv", &users(0..10, "", "Nurse")).ok();
    sync(&env, "night2.csv", &users(0..100, "", "Nurse")).code(3);
    assert_status(&env, "REJECTED", false);
    let p = env.write("night2-cut.csv", users(0..12, "", "Nurse"));
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
    env.roster(&["apply"]).ok();
    let json = assert_status(&env, "OK", true);
    assert_eq!(json["open_runs"], serde_json::json!([]), "{json:#}");
    let (status, text) = report(&env, &["--since", "1d"]);
    assert_eq!(status, "OK", "{text}");
    assert!(text.contains("superseded by run 3"), "{text}");
    // A rollback to the batch before the rejected file supersedes nothing.
    sync(&env, "night3.csv", &users(0..100, "", "Nurse")).code(3);
    env.roster(&["apply", "--batch", "1", "--force", "--allow-removals", "2"])
        .ok();
    assert_status(&env, "REJECTED", false);
}

/// The newest file arrived `hours` ago, as far as the store knows.
fn file_age(env: &Env, hours: i64) {
    let at = (chrono::Utc::now() - chrono::Duration::hours(hours))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    env.db()
        .execute("UPDATE batches SET fetched_at = ?1", [at])
        .unwrap();
}

/// `source.stale_after_days = 2`: a file unchanged for 49 hours is older than two days, so
/// `status`, the metrics and the report say STALE (SPEC §3, §5); 47 hours is fresh. Whole days
/// are not rounded down first (2 days and 23 hours read as fresh).
#[test]
fn a_source_older_than_stale_after_days_is_stale_to_the_hour() {
    let env = Env::new();
    env.write("roster.toml", "[source]\nstale_after_days = 2\n");
    sync(&env, "night1.csv", &users(0..5, "", "Nurse")).ok();
    file_age(&env, 47);
    assert_status(&env, "OK", true);
    file_age(&env, 49);
    let json = assert_status(&env, "STALE", false);
    assert_eq!(json["stale"], true, "{json:#}");
    let (status, text) = report(&env, &[]);
    assert_eq!(status, "STALE", "{text}");
    file_age(&env, 71);
    assert_status(&env, "STALE", false);
}

/// A record with two errors (a bad mail and a bad phone) is one rejected record: the report
/// of its run counts records, as the plan's `invalid`, `status` and a report of several runs
/// do, not its problems (SPEC §5).
#[test]
fn a_record_with_two_errors_is_one_rejected_record() {
    let env = Env::new();
    env.write("roster.toml", "[import]\nmax_invalid = \"50%\"\n");
    let mut csv = String::from("UniqueID,Name,Mail,TelephoneNumber\n");
    for i in 0..8 {
        csv.push_str(&format!("E{i},Person {i},p{i}@example.se,\n"));
    }
    csv.push_str("E70,Two Errors,not-a-mail,abc\nE71,One Error,p71@example.se,xyz\n");
    let run = sync(&env, "night1.csv", &csv).ok();
    let json = env.roster(&["report", "--format", "json"]).ok().json();
    assert_eq!(json["runs"][0]["counts"]["invalid"], 2, "{json:#}");
    let (_, text) = report(&env, &[]);
    assert!(
        text.contains("Rejected records: 2 (bad-mail 1, bad-phone 2)"),
        "{}\n{text}",
        run.stdout
    );
    let json = assert_status(&env, "WARNING", true);
    assert!(
        json["attention"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("rejected 2 records"),
        "{json:#}"
    );
}

/// A rollback to yesterday's file (`apply --batch 1 --force`) reverts batch 2; reverting that
/// rollback gives batch 2's data back, so batch 2 stands again (SPEC §2: reverting a revert
/// marks the batch applied again): `batches list` says applied, and a sync of the same file is
/// unchanged without naming the undone rollback.
#[test]
fn a_revert_of_a_rollback_applies_the_newer_batch_again() {
    let env = Env::new();
    env.write("roster.toml", "[import]\nmax_updates = \"100%\"\n");
    sync(&env, "night1.csv", &users(0..6, "", "Porter")).ok();
    let night2 = users(0..6, "", "Orderly");
    sync(&env, "night2.csv", &night2).ok();
    env.roster(&["apply", "--batch", "1", "--force"]).ok();
    let batches = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(batches[1]["reverted_by_run"], 3, "{batches:#}");
    env.roster(&["revert", "3"]).ok();
    assert_eq!(env.user("E1")["title"], "Orderly");
    let batches = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(batches[1]["status"], "applied", "{batches:#}");
    assert_eq!(batches[1]["reverted_by_run"], serde_json::Value::Null);
    let run = sync(&env, "night2.csv", &night2).ok();
    assert!(run.stdout.starts_with("unchanged"), "{}", run.stdout);
    assert!(!run.stdout.contains("revert"), "{}", run.stdout);
    env.roster(&["apply"]).ok();
    assert_status(&env, "OK", true);
}

/// A forced rollback to yesterday's file reverts the run that applied today's: `report --run
/// N` and `users history` name the rollback beside that run, as `batches list` names it beside
/// the batch (SPEC §2, §5: a run that was reverted says so, with the run that reverted it);
/// once the rollback is reverted, the run is applied again in all three.
#[test]
fn a_run_a_rollback_reverted_names_the_rollback() {
    let env = Env::new();
    env.write("roster.toml", "[import]\nmax_updates = \"100%\"\n");
    sync(&env, "night1.csv", &users(0..4, "", "Clerk")).ok();
    sync(&env, "night2.csv", &users(0..4, "", "Senior clerk")).ok();
    env.roster(&["apply", "--batch", "1", "--force"]).ok();
    let named = |env: &Env| {
        let text = env
            .roster(&["report", "--run", "2", "--format", "text"])
            .ok()
            .stdout;
        let history = env.roster(&["users", "history", "E1"]).ok().stdout;
        let batches = env
            .roster(&["batches", "list", "--format", "json"])
            .ok()
            .json();
        (
            text.contains("Reverted by run 3"),
            history.contains("2 (reverted by run 3)"),
            batches[1]["reverted_by_run"] == 3,
        )
    };
    assert_eq!(named(&env), (true, true, true));
    env.roster(&["revert", "3"]).ok();
    assert_eq!(named(&env), (false, false, false));
}

/// A revert held by a safeguard and never run: the next night applies a later file, so the
/// held revert is superseded like a held night (SPEC §2: a blocked plan is held until it is
/// applied or a later batch is applied; §5): `status`, the metrics and the report are OK.
#[test]
fn a_held_revert_is_superseded_by_a_later_applied_file() {
    let env = Env::new();
    sync(&env, "night1.csv", &users(0..5, "", "Nurse")).ok();
    env.write("roster.toml", "[import]\nmax_removals = \"100%\"\n");
    sync(&env, "night2.csv", &users(0..25, "", "Nurse")).ok();
    env.write("roster.toml", "[import]\nmax_removals = 2\n");
    env.roster(&["revert", "2"]).code(4);
    assert_held(&env, &["roster revert 2 --allow-removals 20"]);
    sync(&env, "night3.csv", &users(0..26, "", "Nurse")).ok();
    assert_held(&env, &[]);
    let (status, text) = report(&env, &["--since", "1d"]);
    assert_eq!(status, "OK", "{text}");
    assert!(text.contains("superseded by run 4"), "{text}");
}

/// The first night's report could not be sent (the relay was down): the next report sent
/// covers that night too, its joiners and its failure, as it would after a report that went
/// out (SPEC §5: failure is reported; the report covers every run since the last one sent).
/// Before any report was sent it covered only its own run, so 12 joiners and the failure
/// were never mailed.
#[test]
fn the_first_report_sent_covers_the_nights_whose_report_was_not() {
    let dir = tempfile::tempdir().unwrap();
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = down.local_addr().unwrap().port();
    drop(down);
    let env = Env::new();
    let config = |port: u16| {
        format!(
            "[mail]\nsmtp_url = \"smtp://127.0.0.1:{port}\"\ntls = \"none\"\n\
             from = \"roster@example.se\"\n[report]\nrecipients = [\"oncall@example.se\"]\n"
        )
    };
    env.write("roster.toml", config(port));
    let run = sync(&env, "night1.csv", &users(0..12, "", "Nurse"));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_status(&env, "FAILED", false);
    let smtp = Smtp::start(dir.path(), None);
    env.write("roster.toml", config(smtp.port));
    forget_daily_report(&env);
    sync(&env, "night1.csv", &users(0..12, "", "Nurse")).ok();
    assert_status(&env, "OK", true);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let mail = parse_mail(&env, &messages[0].1);
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains("(the runs no report sent has covered)"),
        "{text}"
    );
    assert!(text.contains("Run 1 "), "{text}");
    assert!(text.contains("joined: 12"), "{text}");
    assert!(text.contains("Run 2 "), "{text}");
    assert!(text.contains("Run 3 "), "{text}");
}

/// A sync failed at the fetch; a file was then fetched and applied by hand. `status` is
/// FAILED (the sync has not succeeded since), so the report of the apply, a report of that
/// run alone, and the HTML say FAILED too and name the open run: the subject said OK with
/// "Open items: none" while `status` exited 1 (SPEC §5: the report says what is true now;
/// one model, one answer).
#[test]
fn a_run_still_open_before_the_period_sets_the_subject() {
    let env = Env::new();
    sync(&env, "night1.csv", &users(0..20, "", "Nurse")).ok();
    let missing = env.path("missing.csv");
    env.roster(&["sync", "--source", missing.to_str().unwrap()])
        .code(1);
    let p = env.write("night2.csv", users(0..21, "", "Nurse"));
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
    env.roster(&["apply"]).ok();
    assert_status(&env, "FAILED", false);
    for args in [&[][..], &["--run", "3"], &["--since", "7d"]] {
        let (status, text) = report(&env, args);
        assert_eq!(status, "FAILED", "{args:?}\n{text}");
        assert!(text.starts_with("roster: FAILED"), "{text}");
        assert!(text.contains("run 2 (sync"), "{args:?}\n{text}");
        if args.first() != Some(&"--since") {
            // Not a run of the period: named among the open items.
            assert!(text.contains("not closed since"), "{args:?}\n{text}");
        }
    }
    let html = env.roster(&["report", "--format", "html"]).ok().stdout;
    assert!(html.contains("run 2 (sync"), "{html}");
}

/// A night whose push failed (the provider down) is a sync failed at the push stage; the
/// provider back, `roster push` sends what waited. Nothing is failed now: `status` is healthy
/// (exit 0), the metrics count no open run, and the night's report is OK, naming the push
/// that went through. The sync stayed FAILED and unhealthy until the next night's sync,
/// while an `apply` whose push failed was healthy after the same `roster push` (SPEC §5:
/// honest health, the report says what is true now).
#[test]
fn a_night_whose_push_failed_is_closed_by_a_push_that_went_through() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down_url = format!("http://127.0.0.1:{}", down.local_addr().unwrap().port());
    drop(down);
    let env = scim_env(&down_url, "");
    sync(&env, "night1.csv", &users(0..12, "", "Nurse")).code(1);
    assert_status(&env, "FAILED", false);
    assert_eq!(report(&env, &[]).0, "FAILED");
    env.write(
        "roster.toml",
        format!(
            "[scim]\nurl = \"{}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = 0\n",
            server.url()
        ),
    );
    env.roster(&["push"]).ok();
    assert_eq!(server.all("Users").len(), 12);
    let json = assert_status(&env, "OK", true);
    assert_eq!(json["open_runs"], serde_json::json!([]), "{json:#}");
    let prom = env
        .roster(&["status", "--format", "prometheus"])
        .ok()
        .stdout;
    assert_eq!(metric(&prom, "roster_open_runs"), 0.0);
    let (status, text) = report(&env, &[]);
    assert_eq!(status, "OK", "{text}");
    assert!(text.contains("pushed"), "{text}");
    // A push that fails again is unhealthy again, as the last attempt failed.
    env.write(
        "roster.toml",
        format!("[scim]\nurl = \"{down_url}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = 0\n"),
    );
    env.roster(&["push"]).code(1);
    assert_status(&env, "FAILED", false);
}

/// A night whose report could not be sent (the relay down) is a sync failed at the report
/// stage; the relay back, `roster report --send` mails the report that covers it. Nothing
/// fails now: `status` is healthy, no run is open in the metrics, the report of the night is
/// OK. It stayed FAILED (exit 1) until the next night's sync, though the report had gone out
/// (SPEC §5: the report says what is true now; honest health).
#[test]
fn a_night_whose_report_failed_is_closed_by_a_report_sent_that_covers_it() {
    let dir = tempfile::tempdir().unwrap();
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = down.local_addr().unwrap().port();
    drop(down);
    let env = Env::new();
    let config = |port: u16| {
        format!(
            "[mail]\nsmtp_url = \"smtp://127.0.0.1:{port}\"\ntls = \"none\"\n\
             from = \"roster@example.se\"\n[report]\nrecipients = [\"oncall@example.se\"]\n"
        )
    };
    env.write("roster.toml", config(port));
    sync(&env, "night1.csv", &users(0..12, "", "Nurse")).code(1);
    assert_status(&env, "FAILED", false);
    let smtp = Smtp::start(dir.path(), None);
    env.write("roster.toml", config(smtp.port));
    env.roster(&["report", "--send"]).ok();
    assert_eq!(subjects(&env, &smtp).len(), 1);
    let json = assert_status(&env, "OK", true);
    assert_eq!(json["open_runs"], serde_json::json!([]), "{json:#}");
    let prom = env
        .roster(&["status", "--format", "prometheus"])
        .ok()
        .stdout;
    assert_eq!(metric(&prom, "roster_open_runs"), 0.0);
    let (status, text) = report(&env, &[]);
    assert_eq!(status, "OK", "{text}");
    assert!(text.contains("reported since"), "{text}");
}

/// A night whose invitations could not go out (the relay down) is a sync failed at the
/// invitations stage; the relay back, `roster users invite --pending` sends them. Nothing
/// fails now: `status` is healthy, the metrics count no open run, the night's report is OK.
/// It stayed FAILED (exit 1) until the next night's sync, with every invitation sent (SPEC
/// §5: honest health).
#[test]
fn a_night_whose_invitations_failed_is_closed_once_they_are_sent() {
    let dir = tempfile::tempdir().unwrap();
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = down.local_addr().unwrap().port();
    drop(down);
    let env = Env::new();
    let config = |port: u16| {
        format!(
            "[import]\nsend_invitations = true\n[mail]\nsmtp_url = \"smtp://127.0.0.1:{port}\"\n\
             tls = \"none\"\nfrom = \"roster@example.se\"\n"
        )
    };
    env.write("roster.toml", config(port));
    sync(&env, "night1.csv", &users(0..5, "", "Nurse")).code(1);
    assert_status(&env, "FAILED", false);
    let smtp = Smtp::start(dir.path(), None);
    env.write("roster.toml", config(smtp.port));
    env.roster(&["users", "invite", "--pending"]).ok();
    assert_eq!(smtp.messages().len(), 5);
    let json = assert_status(&env, "OK", true);
    assert_eq!(json["open_runs"], serde_json::json!([]), "{json:#}");
    let prom = env
        .roster(&["status", "--format", "prometheus"])
        .ok()
        .stdout;
    assert_eq!(metric(&prom, "roster_open_runs"), 0.0);
    let (status, text) = report(&env, &[]);
    assert_eq!(status, "OK", "{text}");
    assert!(text.contains("invitations sent since"), "{text}");
}

/// E5 is rejected by night 1's file; night 2's file is rejected whole (no Mail column: no
/// record read); night 3's file rejects E5 again. E5 is no first-time rejection: `status` is
/// OK with nothing under attention, and a report of the three nights says E5 was rejected in
/// 2 runs in a row since night 1. It said WARNING ("run 3 rejected 1 record that the file
/// before it did not") and "rejected for the first time in the newest file: 1 (E5)", the
/// file rejected whole taken for one that accepted E5 (SPEC §5: since when; first-time
/// rejections apart from the old ones).
#[test]
fn a_file_rejected_whole_does_not_make_old_rejections_new() {
    let env = Env::new();
    let night1 = users(0..20, "", "Nurse").replace("E5,Person 5,p5@example.se", "E5,Person 5,nope");
    sync(&env, "night1.csv", &night1).ok();
    let no_mail: String = night1
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{},{},{}\n", f[0], f[1], f[3], f[4])
        })
        .collect();
    sync(&env, "night2.csv", &no_mail).code(3);
    sync(
        &env,
        "night3.csv",
        &format!("{night1}E98,Person 98,p98@example.se,Nurse,\n"),
    )
    .ok();
    let json = assert_status(&env, "OK", true);
    assert_eq!(json["attention"], serde_json::json!([]), "{json:#}");
    let (status, text) = report(&env, &["--since", "7d"]);
    assert_eq!(status, "OK", "{text}");
    assert!(!text.contains("for the first time"), "{text}");
    assert!(text.contains("rejected in 2 runs in a row"), "{text}");
}

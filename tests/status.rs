//! `roster status` (SPEC §3): one screen within 100 columns, a run in progress, and the
//! Prometheus text format read by `prometheus_client`'s own parser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use support::Env;

fn users(ids: std::ops::Range<usize>) -> String {
    let mut out = String::from("UniqueID,Name,Mail,Title\n");
    for i in ids {
        out.push_str(&format!("E{i},Person {i},p{i}@example.se,Nurse\n"));
    }
    out
}

/// A day's import, then a file that drops half the users: a held plan.
fn held(env: &Env) -> i64 {
    env.import("users-from-the-hr-system.csv", &users(0..40), &[])
        .ok();
    env.import("users-from-the-hr-system.csv", &users(20..40), &[])
        .code(4)
        .json()["batch"]
        .as_i64()
        .unwrap()
}

fn over_100(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.chars().count() > 100).collect()
}

#[test]
fn status_fits_100_columns_with_a_held_plan() {
    let env = Env::new();
    let batch = held(&env);
    let run = env.roster(&["status"]).code(1);
    assert_eq!(over_100(&run.stdout), Vec::<&str>::new(), "{}", run.stdout);
    for want in [
        "last fetch",
        "remote file modified",
        "last apply",
        "last report",
        "invitations",
        &format!("roster apply --batch {batch} --allow-removals 20"),
        "in progress",
        "UNHEALTHY",
    ] {
        assert!(run.stdout.contains(want), "{want}:\n{}", run.stdout);
    }
    // The remote file's mtime, not the fetch time.
    let mtime = std::fs::metadata(env.path("users-from-the-hr-system.csv"))
        .unwrap()
        .modified()
        .unwrap();
    let mtime = chrono::DateTime::<chrono::Utc>::from(mtime)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("remote file modified"))
        .unwrap();
    assert!(line.contains(&mtime), "{line}");
    let json = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(json["healthy"], false);
    assert!(json["last_fetch"]["remote_mtime"].is_string(), "{json}");
    // The command pins the plan that was reviewed (SPEC §2, plan digest).
    let command = json["blocked_runs"][0]["command"].as_str().unwrap();
    assert!(
        command.starts_with(&format!(
            "roster apply --batch {batch} --allow-removals 20 --expect-plan "
        )),
        "{command}"
    );
    // The table shows that command whole, never cut: pasted as printed (a continued line
    // joined), it is the same command.
    let shown: String = run
        .stdout
        .lines()
        .skip_while(|l| !l.contains("roster apply --batch"))
        .take_while(|l| l.contains("roster apply") || l.trim_start().starts_with("--"))
        .map(|l| l.trim().trim_end_matches('\\').trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(shown, command, "{}", run.stdout);
    assert_eq!(json["in_progress"], serde_json::Value::Null);
}

/// Every reason at once (a held plan, a stale source, a failed invitation) still fits 100
/// columns, and each reason is said whole on a line of its own.
#[test]
fn status_fits_100_columns_with_every_reason_to_be_unhealthy() {
    let env = Env::new();
    held(&env);
    let db = env.db();
    db.execute("UPDATE batches SET fetched_at = '2020-01-01T00:00:00Z'", [])
        .unwrap();
    let run = env.roster(&["status"]).code(1);
    assert_eq!(over_100(&run.stdout), Vec::<&str>::new(), "{}", run.stdout);
    // Wrapped, not cut: each reason is there whole once the lines are joined.
    let words = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "UNHEALTHY",
        "the last run (run 2, apply) was blocked",
        "the source file has not changed for more than 3 days",
    ] {
        assert!(words.contains(want), "{want}:\n{}", run.stdout);
    }
}

#[test]
fn a_run_in_progress_is_shown_with_its_pid() {
    let env = Env::new();
    env.import("1.csv", &users(0..3), &[]).ok();
    // Another process holds the run lock, as a running sync does (flock, PID in the file).
    let lock = env.path("data/roster.db.lock");
    let mut holder = Command::new("python3")
        .arg("-c")
        .arg(
            "import fcntl, os, sys\n\
             f = open(sys.argv[1], 'r+')\n\
             fcntl.flock(f, fcntl.LOCK_EX)\n\
             f.truncate(0); f.write(str(os.getpid()) + '\\n'); f.flush()\n\
             print('locked', flush=True)\n\
             sys.stdin.read()\n",
        )
        .arg(&lock)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");
    let pid = holder.id().to_string();
    let run = env.roster(&["status"]).ok();
    let shown = run
        .stdout
        .lines()
        .find(|l| l.contains("in progress"))
        .unwrap()
        .to_string();
    let json = env.roster(&["status", "--format", "json"]).ok().json();
    let prom = env
        .roster(&["status", "--format", "prometheus"])
        .ok()
        .stdout;
    holder.stdin.take().unwrap().write_all(b"").unwrap();
    holder.wait().unwrap();
    assert!(
        shown.contains(&format!("PID {pid}")) && shown.contains("since"),
        "{shown}"
    );
    assert_eq!(json["in_progress"]["pid"].to_string(), pid);
    assert!(prom.contains("roster_run_in_progress 1"), "{prom}");
    // Released: nothing in progress.
    let run = env.roster(&["status"]).ok();
    assert!(run.stdout.contains("in progress   none"), "{}", run.stdout);
}

/// Unhealthy never reads `OK`: a store that never fetched a file says `STALE` (no file is as
/// old as a file can be), in the JSON and the metrics alike.
#[test]
fn no_file_ever_fetched_is_unhealthy() {
    let env = Env::new();
    env.roster(&["users", "add", "--name", "Bo", "--mail", "bo@example.se"])
        .ok();
    let run = env.roster(&["status"]).code(1);
    assert!(
        run.stderr.contains("no file was ever fetched"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("UNHEALTHY"), "{}", run.stdout);
    let json = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(json["healthy"], false, "{json:#}");
    assert_eq!(json["status"], "STALE", "{json:#}");
    let run = env.roster(&["status", "--format", "prometheus"]).code(1);
    let s = &parse_prometheus(&run.stdout)["samples"];
    assert_eq!(s["roster_healthy"], 0.0, "{s}");
    assert_eq!(s["roster_status{status=OK}"], 0.0, "{s}");
    assert_eq!(s["roster_status{status=STALE}"], 1.0, "{s}");
}

/// When a run finished, in seconds since the epoch, as the store holds it.
fn run_finished(env: &Env, run: i64) -> f64 {
    let at: String = env
        .db()
        .query_row("SELECT finished_at FROM runs WHERE id = ?1", [run], |r| {
            r.get(0)
        })
        .unwrap();
    chrono::DateTime::parse_from_rfc3339(&at)
        .unwrap()
        .timestamp() as f64
}

/// The last success (HELP: the last run that applied a file or found it unchanged) is an
/// import's: a manual edit, a `groups` command or a revert never moves it, so that the alert
/// `time() - roster_last_success_timestamp_seconds > 2 * 86400` sees a dead timer however
/// busy the helpdesk is.
#[test]
fn last_success_is_the_last_import_whatever_is_edited_by_hand() {
    let env = Env::new();
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    let last_success = |code: i32| {
        let json = env
            .roster(&["status", "--format", "json"])
            .code(code)
            .json();
        let run = env.roster(&["status", "--format", "prometheus"]).code(code);
        let metric = parse_prometheus(&run.stdout)["samples"]
            ["roster_last_success_timestamp_seconds"]
            .clone();
        (json["last_success"].clone(), metric)
    };
    // Nothing imported yet: no last success at all.
    let (json, metric) = last_success(1);
    assert_eq!(json, serde_json::Value::Null);
    assert_eq!(metric, serde_json::Value::Null);
    let import = env.import("1.csv", &users(0..3), &[]).ok().json()["run"]
        .as_i64()
        .unwrap();
    // Three days without a file since (the run's time set back).
    env.db()
        .execute(
            "UPDATE runs SET started_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-3 days', '-1 minute'),
                             finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-3 days')
              WHERE id = ?1",
            [import],
        )
        .unwrap();
    let three_days_ago = run_finished(&env, import);
    env.roster(&["users", "edit", "E1", "--phone", "+46701234567"])
        .ok();
    env.roster(&["users", "add", "--name", "Bo", "--mail", "bo@example.se"])
        .ok();
    env.roster(&["groups", "add", "ER", "--name", "Emergency"])
        .ok();
    let edit: i64 = env
        .db()
        .query_row(
            "SELECT MAX(id) FROM runs WHERE command = 'users edit'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    env.roster(&["revert", &edit.to_string(), "--allow-updates", "1"])
        .ok();
    let (json, metric) = last_success(0);
    assert_eq!(json["run"], import, "{json:#}");
    assert_eq!(metric, three_days_ago);
    // The same file found unchanged by a sync is a success: the timer is alive.
    let sync = env.roster(&["sync", "--source", "1.csv", "--format", "json"]);
    let sync = sync.ok().json()["run"].as_i64().unwrap();
    let (json, metric) = last_success(0);
    assert_eq!(json["run"], sync, "{json:#}");
    assert_eq!(metric, run_finished(&env, sync));
}

/// The table's `last apply`, the JSON's `last_apply` and the metrics name the same import run;
/// a manual edit after a held night is none of them.
#[test]
fn last_apply_is_one_import_run_in_the_table_the_json_and_the_metrics() {
    let env = Env::new();
    env.import("users-from-the-hr-system.csv", &users(0..40), &[])
        .ok();
    let blocked = env
        .import("users-from-the-hr-system.csv", &users(20..40), &[])
        .code(4)
        .json()["run"]
        .as_i64()
        .unwrap();
    // The import an hour ago; the manual edit now.
    env.db()
        .execute(
            "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 hour')
              WHERE id = ?1",
            [blocked - 1],
        )
        .unwrap();
    env.roster(&["users", "add", "--name", "Bo", "--mail", "bo@example.se"])
        .ok();
    let table = env.roster(&["status"]).code(1).stdout;
    let json = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(json["last_apply"]["run"], blocked, "{json:#}");
    assert_eq!(json["last_apply"]["status"], "blocked", "{json:#}");
    assert_eq!(json["last_applied"]["run"], blocked - 1, "{json:#}");
    let row = |label: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{label} ")))
            .unwrap_or_else(|| panic!("no {label}:\n{table}"))
            .to_string()
    };
    let apply = row("last apply");
    assert!(
        apply.contains(&format!("run {blocked} (apply) blocked")),
        "{table}"
    );
    let applied = row("last applied");
    assert!(
        applied.contains(&format!("run {} (apply) create 40", blocked - 1)),
        "{table}"
    );
    assert!(!table.contains("users add"), "{table}");
    let run = env.roster(&["status", "--format", "prometheus"]).code(1);
    let s = &parse_prometheus(&run.stdout)["samples"];
    assert_eq!(s["roster_changes{action=create}"], 40.0, "{s}");
    assert_eq!(
        s["roster_last_run_timestamp_seconds{status=applied}"],
        run_finished(&env, blocked - 1),
        "{s}"
    );
}

/// `scim.max_pending_minutes` is compared in seconds: a change pending 75 s is overdue at 1
/// minute, one pending 45 s is not. The wait is set in the store, not slept.
#[test]
fn a_push_is_overdue_to_the_second() {
    let env = Env::new();
    env.write("scim.token", "t0k3n-status-9c2e\n");
    env.write(
        "roster.toml",
        "[scim]\nurl = \"http://127.0.0.1:9/scim/v2\"\ntls = \"none\"\n\
         token_file = \"scim.token\"\nmax_pending_minutes = 1\n",
    );
    let run = env.import("1.csv", &users(0..3), &[]).ok().json()["run"]
        .as_i64()
        .unwrap();
    let waited = |secs: i64| {
        env.db()
            .execute(
                "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?2)
                  WHERE id = ?1",
                rusqlite::params![run, format!("-{secs} seconds")],
            )
            .unwrap();
    };
    waited(45);
    let json = env.roster(&["status", "--format", "json"]).ok().json();
    assert_eq!(json["push"]["overdue"], false, "{json:#}");
    assert_eq!(json["status"], "WARNING", "{json:#}");
    waited(75);
    let json = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(json["push"]["overdue"], true, "{json:#}");
    assert_eq!(json["status"], "FAILED", "{json:#}");
    let why = json["unhealthy"].to_string();
    assert!(why.contains("max_pending_minutes = 1"), "{why}");
    let run = env.roster(&["status", "--format", "prometheus"]).code(1);
    let s = &parse_prometheus(&run.stdout)["samples"];
    assert_eq!(s["roster_healthy"], 0.0, "{s}");
    assert!(
        s["roster_push_pending_seconds"].as_f64().unwrap() >= 75.0,
        "{s}"
    );
}

/// Parse Prometheus text with prometheus_client's parser: {"name{label=value}": value}.
fn parse_prometheus(text: &str) -> serde_json::Value {
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {"samples": {}, "types": {}, "help": {}}
for fam in text_string_to_metric_families(sys.stdin.read()):
    out["types"][fam.name] = fam.type
    out["help"][fam.name] = fam.documentation
    for s in fam.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        out["samples"][s.name + ("{" + labels + "}" if labels else "")] = s.value
print(json.dumps(out))
"#;
    support::python_json(script, text)
}

#[test]
fn prometheus_output_is_read_by_prometheus_client() {
    let env = Env::new();
    let batch = held(&env);
    let now = chrono::Utc::now().timestamp() as f64;
    // Unhealthy still prints the metrics, and exits 1 (a textfile job writes them anyway).
    let run = env.roster(&["status", "--format", "prometheus"]).code(1);
    let m = parse_prometheus(&run.stdout);
    let s = &m["samples"];
    assert_eq!(s["roster_healthy"], 0.0, "{m}");
    assert_eq!(s["roster_blocked_runs"], 1.0);
    assert_eq!(s["roster_changes{action=create}"], 40.0);
    assert_eq!(s["roster_changes{action=remove}"], 0.0);
    assert_eq!(s["roster_users{status=active}"], 40.0);
    assert_eq!(s["roster_users{status=deactivated}"], 0.0);
    assert_eq!(s["roster_pending_invitations"], 0.0);
    assert_eq!(s["roster_failed_invitations"], 0.0);
    let age = s["roster_source_age_seconds"].as_f64().unwrap();
    assert!((0.0..120.0).contains(&age), "{age}");
    for key in [
        "roster_last_run_timestamp_seconds{status=blocked}",
        "roster_last_run_timestamp_seconds{status=applied}",
        "roster_last_success_timestamp_seconds",
    ] {
        let t = s[key].as_f64().unwrap_or_else(|| panic!("{key}: {m}"));
        assert!((now - t).abs() < 120.0, "{key} {t} {now}");
    }
    for name in ["roster_healthy", "roster_users", "roster_changes"] {
        assert_eq!(m["types"][name], "gauge", "{m}");
        assert!(!m["help"][name].as_str().unwrap().is_empty());
    }
    // Let it through: healthy, and the changes are the last applied run's.
    env.roster(&[
        "apply",
        "--batch",
        &batch.to_string(),
        "--allow-removals",
        "20",
    ])
    .ok();
    let run = env.roster(&["status", "--format", "prometheus"]).ok();
    let s = parse_prometheus(&run.stdout)["samples"].clone();
    assert_eq!(s["roster_healthy"], 1.0);
    assert_eq!(s["roster_blocked_runs"], 0.0);
    assert_eq!(s["roster_changes{action=create}"], 0.0);
    assert_eq!(s["roster_changes{action=remove}"], 20.0);
    assert_eq!(s["roster_users{status=active}"], 20.0);
    assert_eq!(s["roster_users{status=deactivated}"], 20.0);
}

//! Mail at volume (SPEC §5): one SMTP connection for a run's invitations, reconnecting when the
//! server hangs up, each recipient exactly once; bulk invitations of users never invited; the
//! invitation state of each user; rows a stopped run left in `sending`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::servers::Smtp;
use support::Env;

fn people(n: usize) -> String {
    let mut csv = String::from("UniqueID,Name,Mail,Groups\n");
    for i in 0..n {
        let group = if i % 4 == 0 { "ICU" } else { "" };
        csv.push_str(&format!("E{i:05},Person {i},p{i}@example.se,{group}\n"));
    }
    csv
}

fn mail_config(port: u16, extra: &str) -> String {
    format!(
        "[import]\nsend_invitations = true\nmax_removals = \"100%\"\n\n[mail]\nsmtp_url = \"smtp://127.0.0.1:{port}\"\n\
         tls = \"none\"\nfrom = \"Roster <roster@example.se>\"\n{extra}"
    )
}

/// Import `n` people with invitations queued but no [mail] yet: they wait as pending.
fn queued(n: usize) -> Env {
    let env = Env::new();
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    env.write(
        "roster.toml",
        "[import]\nsend_invitations = true\nmax_removals = \"100%\"\n",
    );
    env.import("people.csv", &people(n), &[]).ok();
    let status = env.roster(&["status", "--format", "json"]).json();
    assert_eq!(status["pending_invitations"], n as u64);
    env
}

fn assert_each_once(smtp: &Smtp, n: usize) {
    let got = smtp.recipients();
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "a recipient got two invitations");
    assert_eq!(got.len(), n);
}

/// Run roster to its end: its output, and the CPU time it used (user + system), which the load
/// of a shared machine does not stretch as it does the wall-clock time. bash runs it and then
/// says, with its `times` builtin, what its children used: that one process alone.
fn timed(env: &Env, args: &[&str]) -> (support::Run, Duration) {
    let roster = env.command(args);
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(r#""$0" "$@"; rc=$?; times >&2; exit $rc"#)
        .arg(roster.get_program())
        .args(roster.get_args())
        .env_clear()
        .current_dir(env.dir.path());
    for (k, v) in roster.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // The last line: the children's user and system time, as `0m1.234s 0m0.056s`.
    let times = stderr.trim_end().rsplit('\n').next().unwrap().to_string();
    stderr.truncate(stderr.trim_end().len() - times.len());
    let secs = |t: &str| -> f64 {
        let (m, s) = t.trim_end_matches('s').split_once('m').unwrap();
        m.parse::<f64>().unwrap() * 60.0 + s.parse::<f64>().unwrap()
    };
    let cpu: f64 = times.split_whitespace().map(secs).sum();
    let run = support::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    };
    (run, Duration::from_secs_f64(cpu))
}

/// Every message had a Message-ID of its own.
fn assert_ids_unique(smtp: &Smtp, n: usize) {
    let ids: HashSet<String> = smtp.index().into_iter().filter_map(|(_, id)| id).collect();
    assert_eq!(ids.len(), n, "Message-IDs");
}

#[test]
fn ten_thousand_invitations_over_one_connection() {
    let n = 10_000;
    let env = queued(n);
    let smtp = Smtp::start_indexing(env.dir.path(), 0);
    env.write("roster.toml", mail_config(smtp.port, ""));
    let started = Instant::now();
    let (run, cpu) = timed(&env, &["users", "invite", "--pending"]);
    let took = started.elapsed();
    eprintln!(
        "{n} invitations in {took:?} ({:.0}/s), roster's CPU time {cpu:?}",
        n as f64 / took.as_secs_f64()
    );
    let run = run.ok();
    assert!(
        run.stdout.contains("invitations: 10,000 sent, 0 failed"),
        "{}",
        run.stdout
    );
    assert_eq!(smtp.connections(), 1);
    assert_each_once(&smtp, n);
    assert_ids_unique(&smtp, n);
    // Well under a minute: roster's side of it, which is what roster decides (the wall-clock
    // time is the sink's pace and the machine's load). One connection for all makes it a few
    // seconds; a connection per message, as before, took far more.
    assert!(cpu < Duration::from_secs(20), "roster used {cpu:?}");
    let status = env.roster(&["status", "--format", "json"]).json();
    assert_eq!(status["pending_invitations"], 0);
}

#[test]
fn a_server_that_hangs_up_midway_gets_each_recipient_once() {
    let n = 10_000;
    let env = queued(n);
    let smtp = Smtp::start_indexing(env.dir.path(), 4_000);
    env.write("roster.toml", mail_config(smtp.port, ""));
    let run = env.roster(&["users", "invite", "--pending"]).ok();
    assert!(
        run.stdout.contains("invitations: 10,000 sent, 0 failed"),
        "{}",
        run.stdout
    );
    // Hung up after 4,000 and 8,000: three connections, nobody twice, nobody left out.
    assert_eq!(smtp.connections(), 3);
    assert_each_once(&smtp, n);
    assert_ids_unique(&smtp, n);
    // Nothing is pending, nothing is stuck: a second round sends nothing.
    env.roster(&["users", "invite", "--pending"]).ok();
    assert_eq!(smtp.recipients().len(), n);
    env.roster(&["status"]).ok();
}

#[test]
fn a_run_killed_while_sending_is_resumed_by_the_next_without_sending_twice() {
    let n = 3_000;
    let env = queued(n);
    let smtp = Smtp::start_indexing(env.dir.path(), 0);
    env.write("roster.toml", mail_config(smtp.port, ""));
    let mut child = env
        .command(&["users", "invite", "--pending"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once a third has arrived (polled: the condition, not a time, ends the wait).
    let deadline = Instant::now() + Duration::from_secs(300);
    while smtp.index().len() < n / 3 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "it ended before the kill"
        );
        assert!(Instant::now() < deadline, "nothing arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let first = smtp.recipients().len();
    assert!(first < n, "all {n} went out before the kill");
    let status = env.roster(&["status", "--format", "json"]).json();
    let stuck = status["stuck_invitations"].as_u64().unwrap_or(0) as usize;
    // Rows are marked `sending` a hundred at a time: at most those are left.
    assert!(stuck <= 100, "{status:#}");

    // The next run sends the rest, and says what to do about a row left in `sending`.
    let run = env.roster(&["users", "invite", "--pending"]).ok();
    let got = smtp.recipients();
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "a recipient got two invitations");
    // A row left in `sending` may or may not have arrived; every other row arrived once.
    assert!(
        got.len() + stuck >= n && got.len() <= n,
        "{} of {n}, {stuck} stuck",
        got.len()
    );
    if stuck > 0 {
        assert!(run.stderr.contains("--resend"), "{}", run.stderr);
    }
    let status = env.roster(&["status", "--format", "json"]).json();
    assert_eq!(status["pending_invitations"], 0, "{status:#}");
}

#[test]
fn an_apply_sends_over_one_connection_and_says_how_it_went() {
    let env = Env::new();
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    let smtp = Smtp::start(env.dir.path(), None);
    env.write("roster.toml", mail_config(smtp.port, ""));
    let p = env.write("people.csv", people(30));
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
    let run = env.roster(&["apply"]).ok();
    assert!(
        run.stderr.contains("invitations: 30 sent, 0 failed"),
        "{}",
        run.stderr
    );
    assert_eq!(smtp.connections(), 1);
    assert_each_once(&smtp, 30);
    for (_, raw) in smtp.messages() {
        let head = raw.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
        for name in ["\r\nmessage-id: <", "\r\ndate: ", "\r\nmime-version: 1.0"] {
            assert!(
                head.contains(name) || head.starts_with(&name[2..]),
                "{name}: {raw}"
            );
        }
    }
}

#[test]
fn max_per_minute_spaces_the_invitations() {
    let env = queued(3);
    let smtp = Smtp::start(env.dir.path(), None);
    // 600 a minute: one every 100 ms, so three take at least 200 ms.
    env.write(
        "roster.toml",
        mail_config(smtp.port, "max_per_minute = 600\n"),
    );
    let started = Instant::now();
    env.roster(&["users", "invite", "--pending"]).ok();
    assert!(
        started.elapsed().as_millis() >= 200,
        "{:?}",
        started.elapsed()
    );
    assert_each_once(&smtp, 3);
    let env = Env::new();
    env.write("roster.toml", mail_config(1, "max_per_minute = -1\n"));
    env.roster(&["status"]).code(2);
}

#[test]
fn users_never_invited_are_invited_in_bulk_by_group() {
    let env = Env::new();
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    let smtp = Smtp::start(env.dir.path(), None);
    // Imported before invitations were turned on.
    env.write(
        "roster.toml",
        mail_config(smtp.port, "").replace("send_invitations = true", "send_invitations = false"),
    );
    env.import("people.csv", &people(8), &[]).ok();
    assert_eq!(smtp.recipients().len(), 0);
    let users = env.users_json();
    assert!(users.iter().all(|u| u["invitation"].is_null()), "{users:?}");

    let run = env
        .roster(&["users", "invite", "--uninvited", "--group", "ICU"])
        .ok();
    assert!(run.stdout.contains("invitations: 2 sent"), "{}", run.stdout);
    let mut got = smtp.recipients();
    got.sort();
    assert_eq!(got, ["p0@example.se", "p4@example.se"]);
    let p0 = env.user("E00000");
    assert!(p0["invitation"]["sent"].is_string(), "{p0}");
    assert!(env.user("E00001")["invitation"].is_null());

    env.roster(&["users", "invite", "--uninvited"]).ok();
    assert_each_once(&smtp, 8);
    let again = env.roster(&["users", "invite", "--uninvited"]).ok();
    assert!(
        again.stdout.contains("invitations: 0 sent"),
        "{}",
        again.stdout
    );
    assert_each_once(&smtp, 8);
    env.roster(&["users", "invite", "--group", "ICU"]).code(2);
}

#[test]
fn a_run_stopped_while_sending_leaves_status_unhealthy_until_looked_at() {
    let env = queued(3);
    let smtp = Smtp::start(env.dir.path(), None);
    env.write("roster.toml", mail_config(smtp.port, ""));
    // As if a run was killed in the middle of the SMTP conversation for p1.
    env.db()
        .execute(
            "UPDATE outbox SET status = 'sending' WHERE recipient = 'p1@example.se'",
            [],
        )
        .unwrap();
    let status = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["healthy"], false);
    assert_eq!(status["stuck_invitations"], 1);
    let run = env.roster(&["users", "invite", "--pending"]).ok();
    assert!(run.stderr.contains("p1@example.se"), "{}", run.stderr);
    assert!(
        run.stderr.contains("roster users invite MAIL --resend"),
        "{}",
        run.stderr
    );
    assert_each_once(&smtp, 2);
    assert_eq!(env.user("E00001")["invitation"], "sending");
    env.roster(&["status"]).code(1);
    // Looked at: it did not arrive, so it is sent again, once.
    env.roster(&["users", "invite", "p1@example.se", "--resend"])
        .ok();
    assert_each_once(&smtp, 3);
    env.roster(&["status"]).ok();
}

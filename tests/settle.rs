//! Settle and wait (SPEC §3 `sync` in detail, §5 Partial uploads) end to end: a real sshd and a
//! real aiosmtpd on loopback. A young file is waited for and imported, and the night's report
//! goes out after the wait; a file that does not settle, or does not appear within
//! `source.wait_secs`, fails the night and the failure is mailed in that run. What roster
//! waits for is said on stderr through its log (also at `-v`, once), and not with `-q`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::fs::PermissionsExt;
use support::mail::parse_mail;
use support::servers::{Smtp, Sshd};
use support::{touch, Env};

const CSV: &str = "UniqueID,Name,Mail\nE1,Anna,anna@example.se\n";

struct Night {
    env: Env,
    _sshd: Sshd,
    smtp: Smtp,
    remote: std::path::PathBuf,
}

/// An SFTP server with the file, a mail server, and a roster.toml that mails the report.
fn night(source: &str) -> Night {
    let env = Env::new();
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let sshd = Sshd::start(env.dir.path());
    let smtp = Smtp::start(env.dir.path(), None);
    let remote = env.write("remote/users.csv", CSV);
    std::fs::set_permissions(
        remote.parent().unwrap(),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    env.write("known_hosts", format!("{}\n", sshd.known_host));
    env.write(
        "roster.toml",
        format!(
            "[source]\nurl = \"sftp://{}@127.0.0.1:{}{}\"\nidentity_file = \"{}\"\n\
             known_hosts = \"known_hosts\"\nretries = 0\ntimeout_secs = 5\n{source}\n\
             [mail]\nsmtp_url = \"smtp://127.0.0.1:{}\"\ntls = \"none\"\nfrom = \"Roster <roster@example.se>\"\n\n\
             [report]\nrecipients = [\"oncall@example.se\"]\n",
            sshd.user,
            sshd.port,
            remote.display(),
            sshd.client_key.display(),
            smtp.port
        ),
    );
    Night {
        env,
        _sshd: sshd,
        smtp,
        remote,
    }
}

/// The one mail the night sent, as Python's `email` reads it.
fn the_report(n: &Night) -> serde_json::Value {
    let got = n.smtp.messages();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, ["oncall@example.se"]);
    parse_mail(&n.env, &got[0].1)
}

#[test]
fn a_young_file_is_waited_for_imported_and_the_report_goes_out_after() {
    let n = night("settle_secs = 2\n");
    touch(&n.remote, 0);
    let run = n.env.roster(&["sync", "-v"]).ok();
    // Said through the log, with what it waits for (once a wait: a loaded machine may look
    // again a second too early and wait once more).
    assert!(
        run.stderr
            .contains("for it to settle, then checking its size and mtime again"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("roster: "), "{}", run.stderr);
    assert_eq!(n.env.users_json().len(), 1);
    let mail = the_report(&n);
    let subject = mail["subject"].as_str().unwrap();
    assert!(subject.starts_with("roster: OK"), "{subject}");
    n.env.roster(&["status"]).ok();
}

#[test]
fn quiet_waits_without_a_word() {
    let n = night("settle_secs = 2\n");
    touch(&n.remote, 0);
    let run = n.env.roster(&["sync", "-q"]).ok();
    assert!(!run.stderr.contains("settle"), "{}", run.stderr);
    assert_eq!(n.env.users_json().len(), 1);
}

#[test]
fn a_file_that_does_not_settle_fails_the_night_and_the_failure_is_mailed() {
    // Modified an hour from now: longer than the wait allows, so it fails at once.
    let n = night("settle_secs = 2\n");
    touch(&n.remote, 3600);
    let run = n.env.roster(&["sync"]).code(1);
    assert!(run.stderr.contains("did not settle"), "{}", run.stderr);
    let mail = the_report(&n);
    let subject = mail["subject"].as_str().unwrap();
    assert!(subject.starts_with("roster: FAILED"), "{subject}");
    let html = mail["html_text"].as_str().unwrap();
    assert!(html.contains("did not settle"), "{html}");
    n.env.roster(&["status"]).code(1);
}

#[test]
fn a_file_that_does_not_appear_within_wait_secs_fails_the_night_and_is_mailed() {
    let n = night("settle_secs = 0\nwait_secs = 1\n");
    std::fs::remove_file(&n.remote).unwrap();
    let run = n.env.roster(&["sync"]).code(1);
    assert!(
        run.stderr.contains("waiting for it to appear")
            && run.stderr.contains("gave up after waiting"),
        "{}",
        run.stderr
    );
    let mail = the_report(&n);
    let subject = mail["subject"].as_str().unwrap();
    assert!(subject.starts_with("roster: FAILED"), "{subject}");
    let html = mail["html_text"].as_str().unwrap();
    assert!(html.contains("source.wait_secs = 1"), "{html}");
}

#[test]
fn with_wait_for_new_yesterdays_file_is_waited_past_until_a_new_one_arrives() {
    let n = night("settle_secs = 0\nwait_secs = 30\nwait_for = \"new\"\n");
    // The first night: nothing applied yet, nothing to wait past.
    n.env.roster(&["sync", "-q"]).ok();
    assert_eq!(n.env.users_json().len(), 1);
    let started = std::time::Instant::now();
    let sync = n
        .env
        .command(&["sync", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    // Meanwhile an edit goes ahead.
    n.env
        .roster(&["users", "add", "--name", "Bo Ek", "--mail", "bo@example.se"])
        .ok();
    std::fs::write(&n.remote, format!("{CSV}E2,Cy,cy@example.se\n")).unwrap();
    let out = sync.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("waiting for a new file"), "{stderr}");
    assert!(started.elapsed().as_secs() < 25, "{:?}", started.elapsed());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], "applied", "{json}");
    assert_eq!(json["counts"]["create"], 1, "{json}");
    assert_eq!(n.env.users_json().len(), 3);
}

#[test]
fn with_wait_for_new_a_file_gone_after_the_wait_fails_the_night() {
    let n = night("settle_secs = 0\nwait_secs = 2\nwait_for = \"new\"\n");
    n.env.roster(&["sync", "-q"]).ok();
    std::fs::remove_file(&n.remote).unwrap();
    let run = n.env.roster(&["sync"]).code(1);
    assert!(
        run.stderr.contains("gave up after waiting") && run.stderr.contains("for a new file"),
        "{}",
        run.stderr
    );
}

//! `roster fetch` over SFTP against a real OpenSSH sshd on loopback, and through a TCP proxy
//! that drops, stalls or lets the file grow mid-transfer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use support::servers::{Fault, Proxy, Sshd, SFTP_PASSWORD, SFTP_USER};
use support::{touch, Env};

const CSV: &str = "UniqueID,Name,Mail\nE1,Anna,anna@example.se\n";

struct Setup {
    env: Env,
    sshd: Sshd,
    remote: std::path::PathBuf,
}

/// A server, a remote file, and a roster.toml for key authentication.
fn setup(extra: &str) -> Setup {
    let env = Env::new();
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let sshd = Sshd::start(env.dir.path());
    let remote = env.write("remote/users.csv", CSV);
    std::fs::set_permissions(
        remote.parent().unwrap(),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    env.write("known_hosts", format!("{}\n", sshd.known_host));
    let config = format!(
        "[source]\nurl = \"sftp://{}@127.0.0.1:{}{}\"\nidentity_file = \"{}\"\nknown_hosts = \"known_hosts\"\nsettle_secs = 0\nretries = 0\ntimeout_secs = 5\n{extra}",
        sshd.user,
        sshd.port,
        remote.display(),
        sshd.client_key.display()
    );
    env.write("roster.toml", config);
    Setup { env, sshd, remote }
}

fn no_temp_files(env: &Env) {
    let leftovers: Vec<_> = std::fs::read_dir(env.store().parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".roster-download")
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn key_auth_fetch_unchanged_and_check() {
    let s = setup("");
    let run = s.env.roster(&["fetch", "--format", "json"]).ok().json();
    assert_eq!(run["status"], "new");
    assert_eq!(run["batch"]["records"], 1);
    assert!(run["batch"]["source"]
        .as_str()
        .unwrap()
        .starts_with("sftp://"));
    assert_eq!(s.env.roster(&["batches", "export", "1"]).ok().stdout, CSV);
    let run = s.env.roster(&["fetch"]).ok();
    assert!(run.stdout.contains("unchanged"), "{}", run.stdout);
    let run = s.env.roster(&["fetch", "--check"]).ok();
    assert!(run.stdout.contains(&s.sshd.fingerprint()), "{}", run.stdout);
    s.env.roster(&["apply"]).ok();
    no_temp_files(&s.env);
}

#[test]
fn unknown_host_key_and_trusting_it() {
    let s = setup("");
    s.env.write("known_hosts", "");
    let run = s.env.roster(&["fetch"]).code(1);
    let print = s.sshd.fingerprint();
    assert!(
        run.stderr.contains("ssh-ed25519") && run.stderr.contains(&print),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("roster fetch --trust-host-key {print}")),
        "{}",
        run.stderr
    );
    // A wrong fingerprint trusts nothing.
    s.env
        .roster(&[
            "fetch",
            "--trust-host-key",
            "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ])
        .code(1);
    assert_eq!(
        std::fs::read_to_string(s.env.path("known_hosts")).unwrap(),
        ""
    );
    s.env.roster(&["fetch", "--trust-host-key", &print]).ok();
    let known = std::fs::read_to_string(s.env.path("known_hosts")).unwrap();
    assert!(
        known.starts_with(&format!("[127.0.0.1]:{} ssh-ed25519 ", s.sshd.port)),
        "{known}"
    );
    std::fs::write(&s.remote, format!("{CSV}E2,Bo,bo@example.se\n")).unwrap();
    s.env.roster(&["fetch"]).ok();
}

#[test]
fn changed_host_key_names_the_line_in_a_hostile_file() {
    let s = setup("");
    let other = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    let hostile = format!(
        "# comment\nthis line is not a known_hosts line at all\n[127.0.0.1]:{} ssh-ed25519 {other}\nexample.com ssh-rsa AAAAB3NzaC1yc2E=\n",
        s.sshd.port
    );
    s.env.write("known_hosts", hostile);
    let run = s.env.roster(&["fetch"]).code(1);
    assert!(
        run.stderr.contains("HOST KEY CHANGED") && run.stderr.contains("known_hosts:3"),
        "{}",
        run.stderr
    );
    assert!(
        !s.env.store().exists()
            || s.env
                .roster(&["batches", "list", "--format", "json"])
                .ok()
                .json()
                == serde_json::json!([])
    );
    // The right key further down the same file is found despite the junk before it.
    s.env
        .write("known_hosts", format!("garbage\n{}\n", s.sshd.known_host));
    s.env.roster(&["fetch"]).ok();
}

#[test]
fn missing_remote_file_names_the_path() {
    let s = setup("");
    std::fs::remove_file(&s.remote).unwrap();
    let run = s.env.roster(&["fetch"]).code(1);
    assert!(
        run.stderr.contains(&s.remote.display().to_string())
            && run.stderr.contains("does not exist"),
        "{}",
        run.stderr
    );
    no_temp_files(&s.env);
}

#[test]
fn password_auth_and_a_wrong_password_is_not_retried() {
    let s = setup("");
    let url = format!(
        "sftp://{SFTP_USER}@127.0.0.1:{}{}",
        s.sshd.port,
        s.remote.display()
    );
    s.env.write("roster.toml", format!("[source]\nurl = \"{url}\"\nknown_hosts = \"known_hosts\"\nsettle_secs = 0\nretries = 3\n"));
    let wrong = Env {
        dir: s.env.dir,
        vars: vec![],
    }
    .var("ROSTER_SFTP_PASSWORD", "not the password");
    let run = wrong.roster(&["-vv", "fetch"]).code(1);
    assert!(
        run.stderr.contains("password authentication") && run.stderr.contains(SFTP_USER),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("retrying"),
        "authentication failures are never retried: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("not the password"));
    let env = Env {
        dir: wrong.dir,
        vars: vec![],
    }
    .var("ROSTER_SFTP_PASSWORD", SFTP_PASSWORD);
    let run = env.roster(&["-vv", "fetch"]).ok();
    assert!(!run.stdout.contains(SFTP_PASSWORD) && !run.stderr.contains(SFTP_PASSWORD));
    // -vv tells the SSH steps (and the method, never the password) and the fetch stage.
    for step in [
        "ssh: connecting to",
        "ssh: handshake",
        "ssh: authenticated as",
        "with a password",
        "sftp: read ",
        "fetch: ",
    ] {
        assert!(run.stderr.contains(step), "{step}: {}", run.stderr);
    }
    // From a password file, too; and never in the store.
    env.write("pw", format!("{SFTP_PASSWORD}\n"));
    env.write("roster.toml", format!("[source]\nurl = \"{url}\"\nknown_hosts = \"known_hosts\"\nsettle_secs = 0\npassword_file = \"pw\"\n"));
    let plain = Env {
        dir: env.dir,
        vars: vec![],
    };
    plain.roster(&["fetch", "--check"]).ok();
    let db = std::fs::read(plain.store()).unwrap();
    assert!(!db
        .windows(SFTP_PASSWORD.len())
        .any(|w| w == SFTP_PASSWORD.as_bytes()));
    // A password in the URL is refused.
    plain
        .roster(&[
            "fetch",
            "--source",
            &url.replace(SFTP_USER, &format!("{SFTP_USER}:secret")),
        ])
        .code(2);
}

fn big_file() -> String {
    let mut s = String::from("UniqueID,Name,Mail\n");
    for i in 0..40_000 {
        s.push_str(&format!("E{i},Person {i},p{i}@example.se\n"));
    }
    s
}

fn via_proxy(s: &Setup, proxy: &Proxy, extra: &str) {
    let config = format!(
        "[source]\nurl = \"sftp://{}@127.0.0.1:{}{}\"\nidentity_file = \"{}\"\nknown_hosts = \"known_hosts\"\nsettle_secs = 0\ntimeout_secs = 2\n{extra}",
        s.sshd.user,
        proxy.port,
        s.remote.display(),
        s.sshd.client_key.display()
    );
    s.env.write("roster.toml", config);
    // The proxy's port is another known_hosts name for the same key.
    let line = s
        .sshd
        .known_host
        .replace(&format!(":{}", s.sshd.port), &format!(":{}", proxy.port));
    s.env.write("known_hosts", format!("{line}\n"));
}

#[test]
fn a_dropped_connection_is_retried_and_never_makes_a_partial_batch() {
    let s = setup("");
    let content = big_file();
    std::fs::write(&s.remote, &content).unwrap();
    // Without retries: a clear error, no batch, no temporary file.
    let proxy = Proxy::start(s.sshd.port, Fault::DropAfter(300_000));
    via_proxy(&s, &proxy, "retries = 0\n");
    let run = s.env.roster(&["fetch"]).code(1);
    assert!(
        run.stderr.contains("127.0.0.1") || run.stderr.contains(&s.remote.display().to_string()),
        "{}",
        run.stderr
    );
    assert_eq!(
        s.env
            .roster(&["batches", "list", "--format", "json"])
            .ok()
            .json(),
        serde_json::json!([])
    );
    no_temp_files(&s.env);
    // With a retry: the second connection gets the whole file.
    let proxy = Proxy::start(s.sshd.port, Fault::DropAfter(300_000));
    via_proxy(&s, &proxy, "retries = 2\n");
    let run = s.env.roster(&["fetch"]).ok();
    assert!(run.stderr.contains("retrying"), "{}", run.stderr);
    assert_eq!(
        s.env.roster(&["batches", "export", "1"]).ok().stdout,
        content
    );
    no_temp_files(&s.env);
}

#[test]
fn a_stalled_server_times_out_and_is_retried() {
    let s = setup("");
    let content = big_file();
    std::fs::write(&s.remote, &content).unwrap();
    let proxy = Proxy::start(s.sshd.port, Fault::StallAfter(200_000));
    via_proxy(&s, &proxy, "retries = 1\n");
    s.env.roster(&["fetch"]).ok();
    assert_eq!(
        s.env.roster(&["batches", "export", "1"]).ok().stdout,
        content
    );
    assert!(proxy.connections.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    no_temp_files(&s.env);
}

#[test]
fn a_file_that_grows_while_read_is_read_again() {
    let s = setup("");
    let content = big_file();
    std::fs::write(&s.remote, &content).unwrap();
    let remote = s.remote.clone();
    let grown = format!("{content}E999999,Late,late@example.se\n");
    let write = grown.clone();
    let proxy = Proxy::start(
        s.sshd.port,
        Fault::HookAfter(
            200_000,
            Arc::new(move || std::fs::write(&remote, &write).unwrap()),
        ),
    );
    via_proxy(&s, &proxy, "retries = 2\n");
    let run = s.env.roster(&["fetch"]).ok();
    assert!(
        run.stderr.contains("changed while it was read"),
        "{}",
        run.stderr
    );
    assert_eq!(s.env.roster(&["batches", "export", "1"]).ok().stdout, grown);
    no_temp_files(&s.env);
}

#[test]
fn delete_after_import_removes_only_the_fetched_file() {
    let s = setup("delete_after_import = true\n");
    s.env.roster(&["fetch"]).ok();
    // A newer upload replaced the file: it stays.
    std::fs::write(&s.remote, format!("{CSV}E2,Bo,bo@example.se\n")).unwrap();
    let run = s.env.roster(&["apply"]).ok();
    assert!(run.stderr.contains("left"), "{}", run.stderr);
    assert!(s.remote.exists());
    s.env.roster(&["fetch"]).ok();
    let run = s.env.roster(&["apply"]).ok();
    assert!(run.stderr.contains("removed"), "{}", run.stderr);
    assert!(!s.remote.exists());
}

fn batches(env: &Env) -> usize {
    env.roster(&["batches", "list", "--format", "json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn a_file_that_settles_during_the_fetch_is_imported_in_the_same_run() {
    // Just uploaded: younger than settle_secs. The fetch waits for it, looks again, takes it.
    let s = setup("");
    let config = std::fs::read_to_string(s.env.path("roster.toml")).unwrap();
    s.env.write(
        "roster.toml",
        config.replace("settle_secs = 0", "settle_secs = 2"),
    );
    touch(&s.remote, 0);
    let run = s.env.roster(&["sync"]).ok();
    assert!(
        run.stderr.contains("settle_secs") && run.stderr.contains("to settle"),
        "{}",
        run.stderr
    );
    assert_eq!(batches(&s.env), 1);
    assert_eq!(s.env.users_json().len(), 1);
    no_temp_files(&s.env);
}

#[test]
fn a_file_that_does_not_settle_in_time_fails_the_night() {
    // Modified an hour from now (a clock that is off, an upload that goes on): longer than
    // the wait allows, so the night fails at once rather than sleep for an hour.
    let s = setup("");
    let config = std::fs::read_to_string(s.env.path("roster.toml")).unwrap();
    s.env.write(
        "roster.toml",
        config.replace("settle_secs = 0", "settle_secs = 2"),
    );
    touch(&s.remote, 3600);
    let run = s.env.roster(&["sync"]).code(1);
    assert!(run.stderr.contains("did not settle"), "{}", run.stderr);
    assert_eq!(batches(&s.env), 0);
    let status = s.env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["healthy"], false);
}

#[test]
fn a_missing_file_that_appears_within_wait_secs_is_imported() {
    use std::io::{BufRead, BufReader};
    let s = setup("wait_secs = 60\n");
    let content = std::fs::read(&s.remote).unwrap();
    std::fs::remove_file(&s.remote).unwrap();
    let mut child = s
        .env
        .command(&["sync"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    // roster says what it waits for; then the file arrives.
    while !said.contains("waiting for it to appear") {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "roster ended: {said}"
        );
        said.push_str(&line);
    }
    assert!(said.contains("source.wait_secs = 60"), "{said}");
    std::fs::write(&s.remote, &content).unwrap();
    touch(&s.remote, -60);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{said}{rest}");
    assert_eq!(batches(&s.env), 1);
    assert_eq!(s.env.users_json().len(), 1);
}

#[test]
fn a_missing_file_that_does_not_appear_fails_the_night_after_wait_secs() {
    let s = setup("wait_secs = 1\n");
    std::fs::remove_file(&s.remote).unwrap();
    let run = s.env.roster(&["sync"]).code(1);
    assert!(
        run.stderr.contains("does not exist")
            && run.stderr.contains("waiting for it to appear")
            && run.stderr.contains("gave up after waiting"),
        "{}",
        run.stderr
    );
    s.env.roster(&["status"]).code(1);
}

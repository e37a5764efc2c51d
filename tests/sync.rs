//! `roster sync` over several nights, with a real sshd and a real SMTP sink.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::fs::PermissionsExt;
use support::mail::parse_mail;
use support::servers::{free_port, Smtp, Sshd};
use support::Env;

const GOOD: &str = "UniqueID,Name,Mail,Title\nE1,Anna Berg,anna@example.se,Nurse\nE2,Bo Ek,bo@example.se,Doctor\nE3,Cai Lund,cai@example.se,\n";

struct Night {
    env: Env,
    sshd: Sshd,
    smtp: Smtp,
    remote: std::path::PathBuf,
}

fn setup(invite: bool) -> Night {
    let env = Env::new();
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let sshd = Sshd::start(env.dir.path());
    let smtp = Smtp::start(env.dir.path(), None);
    let remote = env.write("remote/users.csv", GOOD);
    env.write("known_hosts", format!("{}\n", sshd.known_host));
    env.write(
        "roster.toml",
        format!(
            "[source]\nurl = \"sftp://{}@127.0.0.1:{}{}\"\nidentity_file = \"{}\"\nknown_hosts = \"known_hosts\"\nsettle_secs = 0\nretries = 0\ntimeout_secs = 3\n\
             [import]\nsend_invitations = {invite}\nmax_removals = \"40%\"\nmax_updates = \"100%\"\n\
             [mail]\nsmtp_url = \"smtp://127.0.0.1:{}\"\ntls = \"none\"\nfrom = \"roster@example.se\"\n\
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
        sshd,
        smtp,
        remote,
    }
}

fn subjects(smtp: &Smtp) -> Vec<String> {
    smtp.messages()
        .iter()
        .filter(|(to, _)| to == &vec!["oncall@example.se".to_string()])
        .map(|(_, raw)| {
            raw.lines()
                .find(|l| l.starts_with("Subject:"))
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[test]
fn a_week_of_nights() {
    let n = setup(true);
    // A good night: applied, invitations sent, the daily report goes out.
    let run = n.env.roster(&["-q", "sync"]).ok();
    assert_eq!(run.stdout, "", "-q prints nothing on success");
    assert_eq!(n.env.users_json().len(), 3);
    let invitations = n
        .smtp
        .messages()
        .iter()
        .filter(|(to, _)| to[0] != "oncall@example.se")
        .count();
    assert_eq!(invitations, 3);
    assert_eq!(subjects(&n.smtp).len(), 1);
    // An unchanged night: exit 0, no second report the same day, no second invitation.
    let run = n.env.roster(&["sync", "--format", "json"]).ok().json();
    assert_eq!(run["status"], "unchanged");
    assert_eq!(n.smtp.messages().len(), 4);
    // A file of the same size with other bytes is not unchanged.
    let text = std::fs::read_to_string(&n.remote).unwrap();
    let changed = text.replacen("Anna", "Anne", 1);
    assert_eq!((changed.len(), changed != text), (text.len(), true));
    std::fs::write(&n.remote, changed).unwrap();
    let run = n.env.roster(&["sync", "--format", "json"]).ok().json();
    assert_eq!(
        (run["status"].as_str(), run["counts"]["update"].as_u64()),
        (Some("applied"), Some(1)),
        "{run:#}"
    );
    // A rejected file: exit 3, reported at once, and again the next night.
    std::fs::write(&n.remote, "UniqueID,Name\nE1,Anna\n").unwrap();
    let run = n.env.roster(&["sync"]).code(3);
    assert!(
        run.stderr.lines().count() == 1,
        "one line for cron: {}",
        run.stderr
    );
    n.env.roster(&["sync"]).code(3);
    let s = subjects(&n.smtp);
    assert_eq!(s.len(), 3, "{s:?}");
    assert!(
        s[1].contains("REJECTED") && s[2].contains("REJECTED"),
        "{s:?}"
    );
    // A blocked night: the file drops two of three users.
    std::fs::write(
        &n.remote,
        "UniqueID,Name,Mail\nE1,Anna Berg,anna@example.se\n",
    )
    .unwrap();
    let run = n.env.roster(&["sync"]).code(4);
    assert!(
        run.stderr
            .contains("roster apply --batch 4 --allow-removals 2"),
        "{}",
        run.stderr
    );
    let report = parse_mail(&n.env, &n.smtp.messages().last().unwrap().1);
    let report = report["text"].as_str().unwrap();
    assert!(
        report.contains("blocked") && report.contains("--allow-removals 2"),
        "{report}"
    );
    assert_eq!(n.env.user("E2")["status"], "active");
    n.env.roster(&["sync"]).code(4);
    n.env.roster(&["status"]).code(1);
    n.env.roster(&["sync", "--allow-removals", "2"]).ok();
    assert_eq!(n.env.user("E2")["status"], "deactivated");
    n.env.roster(&["status"]).ok();
}

#[test]
fn an_sftp_outage_fails_and_is_reported() {
    let n = setup(false);
    drop(n.sshd);
    let run = n.env.roster(&["sync"]).code(1);
    assert!(run.stderr.contains("127.0.0.1"), "{}", run.stderr);
    let s = subjects(&n.smtp);
    assert_eq!(s.len(), 1);
    assert!(s[0].contains("FAILED"), "{s:?}");
    let report = parse_mail(&n.env, &n.smtp.messages()[0].1)["text"]
        .as_str()
        .unwrap()
        .to_string();
    // The message is wrapped (never cut): its words in order, whatever the lines.
    let words = report.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("fetch from sftp://") && words.contains("then run: roster sync"),
        "{report}"
    );
    let status = n.env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["last_apply"]["status"], "failed");
}

#[test]
fn two_syncs_at_once() {
    let n = setup(false);
    let _held = roster::store::Lock::acquire(&n.env.store()).unwrap();
    let run = n.env.roster(&["sync"]).code(5);
    assert!(run.stderr.contains("PID"), "{}", run.stderr);
}

#[test]
fn a_crash_between_apply_and_mail_invites_each_user_once() {
    let n = setup(true);
    // The mail server is down during the first night: the directory is committed anyway.
    let config = std::fs::read_to_string(n.env.path("roster.toml")).unwrap();
    let dead = free_port();
    n.env.write(
        "roster.toml",
        config.replace(
            &format!("127.0.0.1:{}", n.smtp.port),
            &format!("127.0.0.1:{dead}"),
        ),
    );
    let run = n.env.roster(&["sync"]).code(1);
    assert!(run.stderr.contains("committed"), "{}", run.stderr);
    assert_eq!(n.env.users_json().len(), 3);
    // The next night (an unchanged file) sends them, exactly once; the night after sends none.
    n.env.write("roster.toml", config);
    n.env.roster(&["sync"]).ok();
    n.env.roster(&["sync"]).ok();
    let mut invited: Vec<String> = n
        .smtp
        .messages()
        .into_iter()
        .map(|(to, _)| to[0].clone())
        .filter(|t| t != "oncall@example.se")
        .collect();
    invited.sort();
    assert_eq!(
        invited,
        ["anna@example.se", "bo@example.se", "cai@example.se"]
    );
}

#[test]
fn dry_run_stores_and_sends_nothing() {
    let n = setup(true);
    let run = n
        .env
        .roster(&["sync", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(run["status"], "dry-run");
    assert_eq!(run["counts"]["create"], 3);
    assert!(n.env.users_json().is_empty());
    assert_eq!(
        n.env
            .roster(&["batches", "list", "--format", "json"])
            .ok()
            .json(),
        serde_json::json!([])
    );
    assert!(n.smtp.messages().is_empty());
}

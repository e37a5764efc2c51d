//! Invitations and reports against a real SMTP server (aiosmtpd) on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::servers::{free_port, make_cert, Smtp};
use support::Env;

const DAY1: &str =
    "UniqueID,Name,Mail,Title\nE1,Anna Berg,anna@example.se,Nurse\nE2,Bo Ek,bo@example.se,Doctor\n";

fn config(env: &Env, port: u16, extra: &str) {
    env.write(
        "roster.toml",
        format!(
            "[import]\nsend_invitations = true\nmax_removals = 100\nmax_invalid = \"100%\"\nmax_updates = \"100%\"\n\n[mail]\nsmtp_url = \"smtp://127.0.0.1:{port}\"\ntls = \"none\"\nfrom = \"Roster <roster@example.se>\"\n\n\
             [invitations]\nsubject = \"Welcome {{name}}\"\n\n[report]\nrecipients = [\"oncall@example.se\", \"it@example.se\"]\n{extra}"
        ),
    );
}

#[test]
fn invitations_arrive_once() {
    let env = Env::new();
    let smtp = Smtp::start(env.dir.path(), None);
    config(&env, smtp.port, "");
    env.import("1.csv", DAY1, &[]).ok();
    let got = smtp.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, vec!["anna@example.se"]);
    assert!(
        got[0].1.contains("Subject: Welcome Anna Berg"),
        "{}",
        got[0].1
    );
    assert!(got[0].1.contains("Hello Anna Berg"), "{}", got[0].1);
    // Applying again, or a day with an update, invites nobody again.
    env.roster(&["apply"]).ok();
    env.import("2.csv", &DAY1.replace("Doctor", "Surgeon"), &[])
        .ok();
    assert_eq!(smtp.messages().len(), 2);
    // Without --resend a second invitation is refused; with it, it goes out.
    env.roster(&["users", "invite", "E1"]).code(2);
    env.roster(&["users", "invite", "E1", "--resend"]).ok();
    assert_eq!(smtp.messages().len(), 3);
    assert_eq!(
        env.roster(&["status", "--format", "json"]).ok().json()["pending_invitations"],
        0
    );
}

#[test]
fn a_mail_outage_keeps_invitations_pending_and_sends_them_once_later() {
    let env = Env::new();
    let port = free_port();
    config(&env, port, "");
    // Nothing listens: the apply commits, the invitations wait.
    let run = env.import("1.csv", DAY1, &[]).code(1);
    assert!(
        run.stderr.contains("applied and committed"),
        "{}",
        run.stderr
    );
    assert_eq!(env.users_json().len(), 2);
    assert_eq!(
        env.roster(&["status", "--format", "json"]).json()["pending_invitations"],
        2
    );
    // The server is back (at a port of its own): the pending ones go out, exactly once.
    let smtp = Smtp::start(env.dir.path(), None);
    config(&env, smtp.port, "");
    env.roster(&["users", "invite", "--pending"]).ok();
    env.roster(&["users", "invite", "--pending"]).ok();
    env.roster(&["apply"]).ok();
    let got = smtp.messages();
    assert_eq!(got.len(), 2, "{got:?}");
}

#[test]
fn a_row_left_in_sending_is_reported_not_resent() {
    let env = Env::new();
    let port = free_port();
    config(&env, port, "");
    env.import("1.csv", DAY1, &[]).code(1);
    // As if a run died in the middle of the SMTP conversation for Anna.
    env.db()
        .execute(
            "UPDATE outbox SET status = 'sending' WHERE recipient = 'anna@example.se'",
            [],
        )
        .unwrap();
    let smtp = Smtp::start(env.dir.path(), None);
    config(&env, smtp.port, "");
    env.roster(&["users", "invite", "--pending"]).ok();
    let got = smtp.messages();
    assert_eq!(
        got.iter().map(|m| m.0[0].as_str()).collect::<Vec<_>>(),
        ["bo@example.se"]
    );
    let report = env.roster(&["report", "--format", "text"]).ok().stdout;
    assert!(
        report.contains("left in `sending`") && report.contains("anna@example.se"),
        "{report}"
    );
}

#[test]
fn a_refused_recipient_fails_that_row_only() {
    let env = Env::new();
    let smtp = Smtp::start(env.dir.path(), None);
    config(&env, smtp.port, "");
    let run = env
        .import(
            "1.csv",
            "UniqueID,Name,Mail\nE1,Anna,reject-me@example.se\nE2,Bo,bo@example.se\n",
            &[],
        )
        .code(1);
    assert!(run.stderr.contains("refused"), "{}", run.stderr);
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(
        env.roster(&["status", "--format", "json"]).json()["pending_invitations"],
        0
    );
}

#[test]
fn report_send_is_multipart_text_and_html() {
    let env = Env::new();
    let smtp = Smtp::start(env.dir.path(), None);
    config(&env, smtp.port, "");
    env.write(
        "roster.toml",
        std::fs::read_to_string(env.path("roster.toml"))
            .unwrap()
            .replace("send_invitations = true", "send_invitations = false"),
    );
    env.import("1.csv", DAY1, &[]).ok();
    env.roster(&["report", "--send"]).ok();
    let got = smtp.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, vec!["oncall@example.se", "it@example.se"]);
    let raw = &got[0].1;
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(
        raw.contains("Content-Type: text/plain") && raw.contains("Content-Type: text/html"),
        "{raw}"
    );
    assert!(
        raw.contains("Message-ID: <") && raw.contains("MIME-Version: 1.0"),
        "{raw}"
    );
    let status = env.roster(&["status", "--format", "json"]).ok().json();
    assert!(status["last_report"]["at"].is_string());
}

#[test]
fn starttls_with_auth_and_a_private_ca() {
    let env = Env::new();
    let tls = make_cert(env.dir.path());
    let smtp = Smtp::start(env.dir.path(), Some((&tls, "roster", "s3cret")));
    let write = |password: &str| {
        env.write("smtp-password", format!("{password}\n"));
        env.write(
            "roster.toml",
            format!(
                "[import]\nsend_invitations = true\n[mail]\nsmtp_url = \"smtp://localhost:{}\"\nca_file = \"{}\"\nfrom = \"roster@example.se\"\n\
                 username = \"roster\"\npassword_file = \"smtp-password\"\n",
                smtp.port,
                tls.cert.display()
            ),
        );
    };
    write("wrong");
    let run = env.import("1.csv", DAY1, &[]).code(1);
    assert!(!run.stderr.contains("wrong\n") && !run.stdout.contains("s3cret"));
    assert_eq!(smtp.messages().len(), 0);
    write("s3cret");
    env.roster(&["users", "invite", "--pending"]).ok();
    assert_eq!(smtp.messages().len(), 2);
    // Credentials are never sent in clear.
    env.write("roster.toml", format!("[mail]\nsmtp_url = \"smtp://localhost:{}\"\ntls = \"none\"\nfrom = \"r@example.se\"\nusername = \"roster\"\n", smtp.port));
    let run = env.roster(&["users", "invite", "--pending"]).code(2);
    assert!(
        run.stderr.contains("never sent without TLS"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_name_with_a_line_break_never_reaches_a_header() {
    let env = Env::new();
    let smtp = Smtp::start(env.dir.path(), None);
    config(&env, smtp.port, "");
    env.roster(&[
        "users",
        "add",
        "--name",
        "Eve\r\nBcc: all@example.com",
        "--mail",
        "eve@example.se",
    ])
    .code(2);
    let run = env.import("1.csv", "UniqueID,Name,Mail\nE1,\"Eve\r\nBcc: all@example.com\",eve@example.se\nE2,Bo,bo@example.se\n", &[]).ok();
    assert_eq!(run.json()["counts"]["invalid"], 1, "{}", run.stdout);
    for (to, raw) in smtp.messages() {
        assert_eq!(to, vec!["bo@example.se"]);
        assert!(!raw.to_ascii_lowercase().contains("bcc:"), "{raw}");
    }
}

#[test]
fn a_down_port_refuses_and_no_server_can_take_it() {
    // The harness's "nothing listens here" port stays taken for the whole test process, so a
    // server started by a parallel test can never land on it.
    let port = free_port();
    let refused = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_err());
}

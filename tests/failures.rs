//! Every failure of `sync` is seen (SPEC §3 `sync` in detail, §5 "Failure is reported"): a
//! failure at any stage after the fetch, a panic included, is a `failed` run naming its stage,
//! makes `status` unhealthy, is mailed, and `--format json` prints the outcome document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::mail::parse_mail;
use support::servers::Smtp;
use support::Env;

const FIRST: &str = "UniqueID;Name;Mail\nE1;Anna Berg;anna@example.se\nE2;Bo Ek;bo@example.se\n";
const SECOND: &str =
    "UniqueID;Name;Mail\nE1;Anna Berg;anna@example.se\nE2;Bo Ek;bo@example.se\nE3;Cai Lund;cai@example.se\n";

/// A store with one applied file and a mail sink for the reports.
fn night() -> (Env, Smtp) {
    let env = Env::new();
    let smtp = Smtp::start(env.dir.path(), None);
    env.write(
        "roster.toml",
        format!(
            "[import]\nmax_updates = \"100%\"\n\
             [mail]\nsmtp_url = \"smtp://127.0.0.1:{}\"\ntls = \"none\"\nfrom = \"roster@example.se\"\n\
             [report]\nrecipients = [\"oncall@example.se\"]\ndaily = false\n",
            smtp.port
        ),
    );
    let first = env.write("first.csv", FIRST);
    env.roster(&["sync", "--source", first.to_str().unwrap()])
        .ok();
    env.write("second.csv", SECOND);
    (env, smtp)
}

/// The last run's status, message and stage, read from the store.
fn last_run(env: &Env) -> (String, String, Option<String>) {
    env.db()
        .query_row(
            "SELECT status, message, json_extract(detail, '$.stage') FROM runs ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

/// The reports mailed to on-call, as the mail parser reads them: (subject, text).
fn reports(env: &Env, smtp: &Smtp) -> Vec<(String, String)> {
    smtp.messages()
        .iter()
        .filter(|(to, _)| to == &vec!["oncall@example.se".to_string()])
        .map(|(_, raw)| {
            let m = parse_mail(env, raw);
            (
                m["subject"].as_str().unwrap().to_string(),
                m["text"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Check what a failed night leaves: the JSON document, the run, status, and the mail.
#[track_caller]
fn assert_failed_at(env: &Env, smtp: &Smtp, run: &support::Run, stage: &str) {
    let doc = run.json();
    assert_eq!(doc["status"], "failed", "{doc:#}");
    assert_eq!(doc["stage"], stage, "{doc:#}");
    assert!(doc["run"].as_i64().is_some(), "{doc:#}");
    assert!(doc["message"].as_str().unwrap().contains(stage), "{doc:#}");
    assert!(doc["problems"].is_array(), "{doc:#}");
    assert!(
        run.stderr.contains(&format!("at the {stage} stage")),
        "{}",
        run.stderr
    );
    let (status, message, recorded) = last_run(env);
    assert_eq!(
        (status.as_str(), recorded.as_deref()),
        ("failed", Some(stage)),
        "{message}"
    );
    assert_eq!(
        doc["run"].as_i64(),
        env.db()
            .query_row("SELECT MAX(id) FROM runs", [], |r| r.get(0))
            .ok()
    );
    let status = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["last_apply"]["status"], "failed", "{status:#}");
    assert_eq!(status["last_apply"]["stage"], stage, "{status:#}");
    let mailed = reports(env, smtp);
    let (subject, text) = mailed.last().expect("a report is mailed");
    assert!(subject.contains("FAILED"), "{subject}");
    assert!(text.contains(stage), "{text}");
    // Nothing of the second file reached the directory.
    assert_eq!(env.users_json().len(), 2);
}

#[test]
fn a_panic_at_any_stage_after_the_fetch_is_a_recorded_failed_run() {
    for stage in ["store", "validate", "plan", "apply"] {
        let (env, smtp) = night();
        let env = env.var("ROSTER_TEST_PANIC_AT", stage);
        let run = env.roster(&["sync", "--source", "second.csv", "--format", "json"]);
        assert_eq!(run.code, 1, "{stage}: {}", run.stderr);
        assert!(
            run.stderr.contains("panic") && !run.stderr.contains("RUST_BACKTRACE"),
            "{stage}: one clear line, no raw panic report: {}",
            run.stderr
        );
        assert_failed_at(&env, &smtp, &run, stage);
    }
}

#[test]
fn a_store_error_at_the_apply_is_a_recorded_failed_run() {
    let (env, smtp) = night();
    // A real SQLite error from inside the apply's transaction (as a full disk gives).
    env.db()
        .execute_batch(
            "CREATE TRIGGER no_insert BEFORE INSERT ON users BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
        )
        .unwrap();
    let run = env.roster(&["sync", "--source", "second.csv", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_failed_at(&env, &smtp, &run, "apply");
}

#[test]
fn a_store_error_storing_the_file_is_a_recorded_failed_run() {
    let (env, smtp) = night();
    env.db()
        .execute_batch(
            "CREATE TRIGGER no_batch BEFORE INSERT ON batches BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
        )
        .unwrap();
    let run = env.roster(&["sync", "--source", "second.csv", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_failed_at(&env, &smtp, &run, "store");
}

#[test]
fn a_failed_fetch_prints_the_failed_document() {
    let (env, smtp) = night();
    let run = env.roster(&["sync", "--source", "missing.csv", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(
        (
            doc["status"].as_str(),
            doc["stage"].as_str(),
            doc["batch"].is_null()
        ),
        (Some("failed"), Some("fetch"), true),
        "{doc:#}"
    );
    assert!(
        doc["message"].as_str().unwrap().contains("missing.csv"),
        "{doc:#}"
    );
    let (status, _, stage) = last_run(&env);
    assert_eq!(
        (status.as_str(), stage.as_deref()),
        ("failed", Some("fetch"))
    );
    assert!(reports(&env, &smtp).last().unwrap().0.contains("FAILED"));
    // A dry run records nothing but still prints the document.
    let run = env.roster(&[
        "sync",
        "--dry-run",
        "--source",
        "missing.csv",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(
        (doc["status"].as_str(), doc["run"].is_null()),
        (Some("failed"), true),
        "{doc:#}"
    );
}

/// Secrets from the environment never reach the store, the output or the report, at any
/// verbosity, even when the failure that uses them is recorded in the store (SPEC §5).
#[test]
fn secrets_in_the_environment_stay_out_of_the_store_output_and_report() {
    const SMTP_SECRET: &str = "smtp-s3cret-Pw";
    const SFTP_SECRET: &str = "sftp-s3cret-Pw";
    let env = Env::new()
        .var("ROSTER_SMTP_PASSWORD", SMTP_SECRET)
        .var("ROSTER_SFTP_PASSWORD", SFTP_SECRET);
    let smtp = Smtp::start(env.dir.path(), None);
    // Credentials over STARTTLS to a server that offers no TLS: every mail fails after the
    // commit, and the failures are recorded with their messages.
    env.write(
        "roster.toml",
        format!(
            "[import]\nsend_invitations = true\n\
             [mail]\nsmtp_url = \"smtp://127.0.0.1:{}\"\nfrom = \"roster@example.se\"\nusername = \"roster\"\n\
             [report]\nrecipients = [\"oncall@example.se\"]\n",
            smtp.port
        ),
    );
    let first = env.write("first.csv", FIRST);
    let mut outputs = Vec::new();
    for args in [
        &["-vv", "sync", "--source", first.to_str().unwrap()][..],
        &[
            "-vv",
            "sync",
            "--source",
            "sftp://hr@127.0.0.1:1/users.csv",
            "--format",
            "json",
        ][..],
        &["-vv", "users", "invite", "--pending"][..],
        &["report", "--format", "json", "--since", "1d"][..],
        &["report", "--format", "text", "--since", "1d"][..],
        &["report", "--send"][..],
        &["status", "--format", "json"][..],
        &["users", "history", "E1"][..],
    ] {
        let run = env.roster(args);
        assert_ne!(run.code, 101, "{args:?}: {}", run.stderr);
        outputs.push((args.join(" "), run.stdout, run.stderr));
    }
    let (status, message, _) = last_run(&env);
    assert_eq!(status, "failed", "the mail failure is recorded: {message}");
    for (what, stdout, stderr) in &outputs {
        for secret in [SMTP_SECRET, SFTP_SECRET] {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "{what} printed a secret:\n{stdout}\n{stderr}"
            );
        }
    }
    drop(env.db());
    for entry in std::fs::read_dir(env.store().parent().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        for secret in [SMTP_SECRET, SFTP_SECRET] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a secret",
                path.display()
            );
        }
    }
}

/// Day 1's sync mails the daily report; later that day an operator approves a held batch
/// (`roster apply`, which mails nothing); the next night's sync fails at the fetch (the file
/// is gone). The failure mail covers the held plan and its approval too, as every report sent
/// covers every run since the last one sent; the report after it does not repeat them (review:
/// the approved apply was mailed by neither).
#[test]
fn a_report_covers_every_run_since_the_last_report_sent() {
    let env = Env::new();
    let smtp = Smtp::start(env.dir.path(), None);
    env.write(
        "roster.toml",
        format!(
            "[mail]\nsmtp_url = \"smtp://127.0.0.1:{}\"\ntls = \"none\"\nfrom = \"roster@example.se\"\n\
             [report]\nrecipients = [\"oncall@example.se\"]\n",
            smtp.port
        ),
    );
    let first = env.write("first.csv", FIRST);
    env.roster(&["sync", "--source", first.to_str().unwrap()])
        .ok();
    assert_eq!(reports(&env, &smtp).len(), 1, "day 1's daily report");
    // The afternoon: a file that drops E2 is held, then approved by hand.
    let leaving = env.write(
        "leaving.csv",
        "UniqueID;Name;Mail\nE1;Anna Berg;anna@example.se\n",
    );
    env.roster(&["fetch", "--source", leaving.to_str().unwrap()])
        .ok();
    env.roster(&["apply"]).code(4);
    env.roster(&["apply", "--allow-removals", "1", "--reason", "E2 left"])
        .ok();
    assert_eq!(env.user("E2")["status"], "deactivated");
    assert_eq!(reports(&env, &smtp).len(), 1, "apply mails nothing");
    // The next night: the file is missing.
    let gone = env.path("gone.csv");
    env.roster(&["sync", "--source", gone.to_str().unwrap()])
        .code(1);
    let mailed = reports(&env, &smtp);
    assert_eq!(mailed.len(), 2, "{mailed:#?}");
    let (subject, text) = &mailed[1];
    assert!(subject.starts_with("roster: FAILED"), "{subject}");
    for want in [
        "Runs: 3 — ",
        "Run 2",
        "Run 3",
        "Run 4",
        "left: 1",
        "E2 left",
        "failed at the fetch stage",
    ] {
        assert!(text.contains(want), "{want}:\n{text}");
    }
    assert!(!text.contains("Run 1 "), "{text}");
    // The next report starts after the failure mail: the runs it covered are not repeated.
    env.db()
        .execute("DELETE FROM meta WHERE key = 'last_report_day'", [])
        .unwrap();
    env.roster(&["sync", "--source", leaving.to_str().unwrap()])
        .ok();
    let mailed = reports(&env, &smtp);
    assert_eq!(mailed.len(), 3, "{mailed:#?}");
    let text = &mailed[2].1;
    assert!(text.contains("Runs: 1 — 1 unchanged"), "{text}");
}

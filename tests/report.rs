//! The report (SPEC §5): the mail `report --send` makes, read by Python's `email` package and
//! `html.parser` from a real aiosmtpd on loopback, at 20,000 users.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fmt::Write as _;
use support::mail::parse_mail;
use support::servers::Smtp;
use support::Env;

fn config(env: &Env, port: u16) {
    env.write(
        "roster.toml",
        format!(
            "[mail]\nsmtp_url = \"smtp://127.0.0.1:{port}\"\ntls = \"none\"\nfrom = \"Roster <roster@example.se>\"\n\n\
             [report]\nrecipients = [\"oncall@example.se\"]\n"
        ),
    );
}

/// A file of `n` users; users in `skip` are left out, users in `retitle` get a new title.
fn users(n: usize, skip: impl Fn(usize) -> bool, retitle: impl Fn(usize) -> bool) -> String {
    let mut out = String::from("UniqueID,Name,Mail,Title\n");
    for i in 0..n {
        if skip(i) {
            continue;
        }
        let title = if retitle(i) { "Head nurse" } else { "Nurse" };
        writeln!(out, "E{i:05},Person Number{i},p{i}@example.se,{title}").unwrap();
    }
    out
}

fn long_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.chars().count() > 100)
        .map(|l| l.chars().take(120).collect())
        .collect()
}

#[test]
fn the_report_of_a_20k_day_is_capped_summarised_and_attached() {
    let env = Env::new();
    let smtp = Smtp::start(env.dir.path(), None);
    config(&env, smtp.port);
    let n = 20_000;
    env.import("1.csv", &users(n, |_| false, |_| false), &[])
        .ok();
    // The next day: 2,167 leave (blocked at first, then let through), 600 get a new title,
    // and two records are rejected.
    let mut day2 = users(n, |i| i % 9 == 0 && i < 19_500, |i| i % 30 == 1);
    day2.push_str("E90001,Rejected Person,not-a-mail,Nurse\n");
    day2.push_str("E90002,Other Rejected,other@example.se,Nurse,extra\n");
    let leavers = (0..n).filter(|i| i % 9 == 0 && *i < 19_500).count();
    let retitled = (0..n)
        .filter(|i| i % 30 == 1 && !(i % 9 == 0 && *i < 19_500))
        .count();
    let blocked = env.import("2.csv", &day2, &[]).code(4);
    let batch = blocked.json()["batch"].as_i64().unwrap();
    env.roster(&[
        "apply",
        "--batch",
        &batch.to_string(),
        "--allow-removals",
        &leavers.to_string(),
    ])
    .ok();

    env.roster(&["report", "--since", "24h", "--send"]).ok();
    let got = smtp.messages();
    assert_eq!(got.len(), 1);
    let mail = parse_mail(&env, &got[0].1);

    // The block was resolved by a later apply of that batch: not the worst status any more.
    // The two records day 2 rejected, which day 1 did not, are a warning (SPEC §5).
    let subject = mail["subject"].as_str().unwrap();
    assert!(subject.starts_with("roster: WARNING"), "{subject}");
    assert!(mail["message_id"].as_str().unwrap().starts_with('<'));
    assert!(mail["date"].is_string());
    assert_eq!(mail["mime_version"], "1.0");
    let parts: Vec<&str> = mail["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        parts.contains(&"text/plain") && parts.contains(&"text/html"),
        "{parts:?}"
    );

    let text = mail["text"].as_str().unwrap();
    assert_eq!(long_lines(text), Vec::<String>::new(), "lines over 100");
    // The summary comes first, with the net joiners and leavers and the updates per field.
    let summary = text.find("Summary").expect("a summary");
    let first_run = text.find("Run 2").expect("run 2");
    assert!(summary < first_run, "{text}");
    assert!(
        text.contains(&format!("left: {}", support::thousands(leavers))),
        "{text}"
    );
    assert!(
        text.contains(&format!("title {}", support::thousands(retitled))),
        "{text}"
    );
    // The block is named, and so is what resolved it.
    assert!(
        text.contains("blocked") && text.contains("resolved by run 3"),
        "{text}"
    );
    // Lists are capped at 100 lines, with the whole list attached.
    assert!(
        text.contains(&format!("… and {} more", support::thousands(leavers - 100))),
        "{text}"
    );
    assert!(text.len() < 60_000, "{} bytes of text", text.len());
    let attachments = mail["attachments"].as_object().unwrap();
    let removed = attachments
        .iter()
        .find(|(name, _)| name.contains("removed"))
        .map(|(_, rows)| rows.as_array().unwrap())
        .expect("the removed users as CSV");
    assert_eq!(removed.len(), leavers + 1, "header and one row per user");
    assert_eq!(removed[0][0], "UniqueID");
    assert_eq!(removed[1][0], "E00000");
    assert_eq!(removed[1][1], "Person Number0");
    // A list longer than an attachment holds (the 20,000 of the first import): the first
    // 10,000 rows go along, and the text names the command that gives every one.
    let (joined_file, joined) = attachments
        .iter()
        .find(|(name, _)| name.contains("joined"))
        .map(|(name, rows)| (name, rows.as_array().unwrap()))
        .expect("the joined users as CSV");
    let first_run = joined_file
        .trim_start_matches("run-")
        .trim_end_matches("-joined.csv");
    assert_eq!(joined.len(), 10_000 + 1, "header and the first 10,000");
    assert!(
        text.contains(&format!(
            "… and {} more (the first 10,000 in",
            support::thousands(n - 100)
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "every one: roster report --run {first_run} --format json"
        )),
        "{text}"
    );
    // A rejected record: its line, UniqueID, name and code.
    let line = day2.lines().position(|l| l.starts_with("E90001")).unwrap() + 1;
    let rejected = text
        .lines()
        .find(|l| l.contains("E90001") && l.contains("bad-mail"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        rejected.contains(&line.to_string())
            && rejected.contains("Rejected Person")
            && rejected.contains("bad-mail"),
        "{rejected}"
    );
    assert!(
        text.contains("E90002") && text.contains("field-count"),
        "{text}"
    );
    // The trend of the last 30 days as a line of block characters.
    assert!(
        text.lines()
            .any(|l| l.chars().filter(|c| ('▁'..='█').contains(c)).count() >= 30),
        "{text}"
    );

    // HTML: tables and a chart drawn as a table, nothing remote, no SVG.
    assert!(mail["html_tables"].as_u64().unwrap() >= 3, "{mail}");
    assert_eq!(mail["html_charts"], 2, "changes per night and users");
    assert_eq!(mail["html_svg"], 0);
    assert_eq!(mail["html_remote"], serde_json::json!([]));
    let html_text = mail["html_text"].as_str().unwrap();
    assert!(html_text.contains("Rejected Person"), "{html_text}");
    assert!(
        mail["html_cells"].as_u64().unwrap() < 5_000,
        "capped in HTML too"
    );
}

#[test]
fn an_unresolved_block_is_the_subject_and_the_summary_names_the_command() {
    let env = Env::new();
    let smtp = Smtp::start(env.dir.path(), None);
    config(&env, smtp.port);
    env.import("1.csv", &users(40, |_| false, |_| false), &[])
        .ok();
    let blocked = env
        .import("2.csv", &users(40, |i| i < 20, |_| false), &[])
        .code(4);
    let batch = blocked.json()["batch"].as_i64().unwrap();
    env.roster(&["report", "--since", "24h", "--send"]).ok();
    let mail = parse_mail(&env, &smtp.messages()[0].1);
    let subject = mail["subject"].as_str().unwrap();
    assert!(subject.starts_with("roster: BLOCKED"), "{subject}");
    let text = mail["text"].as_str().unwrap();
    let summary = &text[..text.find("Run 1").unwrap()];
    assert!(
        summary.contains(&format!("roster apply --batch {batch} --allow-removals 20")),
        "{text}"
    );
    // The same in every format.
    let json = env
        .roster(&["report", "--since", "24h", "--format", "json"])
        .ok()
        .json();
    assert_eq!(json["status"], "BLOCKED");
    // The command pins the plan that was reviewed (SPEC §2, plan digest).
    let held = json["open"]["held"][0]["command"].as_str().unwrap();
    assert!(
        held.starts_with(&format!(
            "roster apply --batch {batch} --allow-removals 20 --expect-plan "
        )),
        "{held}"
    );
    let table = env.roster(&["report", "--since", "24h"]).ok().stdout;
    assert!(table.contains("BLOCKED"), "{table}");
    assert!(
        table.contains(&format!("roster apply --batch {batch} --allow-removals 20")),
        "{table}"
    );
    let html = env
        .roster(&["report", "--since", "24h", "--format", "html"])
        .ok()
        .stdout;
    assert!(html.contains("BLOCKED"), "{html}");
}

/// `text` with each command's shell continuations (` \\` at a line's end) joined again.
fn unwrapped(text: &str) -> String {
    let mut out = String::new();
    let mut continued = false;
    for line in text.lines() {
        let line = if continued { line.trim_start() } else { line };
        match line.strip_suffix(" \\") {
            Some(head) => {
                out.push_str(head);
                out.push(' ');
                continued = true;
            }
            None => {
                out.push_str(line);
                out.push('\n');
                continued = false;
            }
        }
    }
    out
}

/// A run blocked by two safeguards names the one command that proceeds, digest included, in
/// every format: wrapped before an option with a shell continuation where it does not fit 100
/// columns, never cut (SPEC §2, §5; review: the table and the text cut it at `--expect-plan 4…`).
#[test]
fn the_command_of_a_block_is_wrapped_never_cut() {
    let env = Env::new();
    let smtp = Smtp::start(env.dir.path(), None);
    config(&env, smtp.port);
    env.import("1.csv", &users(100, |_| false, |_| false), &[])
        .ok();
    // 15 removals (> 10) and 30 updates (> 20).
    env.import("2.csv", &users(100, |i| i >= 85, |i| i < 30), &[])
        .code(4);
    let json = env.roster(&["report", "--format", "json"]).ok().json();
    let command = json["open"]["held"][0]["command"].as_str().unwrap();
    assert!(
        command.contains("--allow-removals 15 --allow-updates 30 --expect-plan "),
        "{command}"
    );
    let table = env.roster(&["report"]).ok().stdout;
    let text = env.roster(&["report", "--format", "text"]).ok().stdout;
    env.roster(&["report", "--send"]).ok();
    let mail = parse_mail(&env, &smtp.messages()[0].1);
    let mailed = mail["text"].as_str().unwrap();
    for (what, out, times) in [
        ("table", &table, 1),
        ("text", &text, 2),
        ("mail", &mailed.to_string(), 2),
    ] {
        assert_eq!(long_lines(out), Vec::<String>::new(), "{what}:\n{out}");
        let whole = unwrapped(out);
        assert_eq!(whole.matches(command).count(), times, "{what}:\n{out}");
    }
    assert!(
        unwrapped(&text).contains(&format!("To apply it anyway:\n    {command}\n")),
        "{text}"
    );
    let html = env.roster(&["report", "--format", "html"]).ok().stdout;
    assert_eq!(
        html.matches(&format!("<code>{command}</code>")).count(),
        2,
        "{html}"
    );
}

/// `text` without its whitespace: what is left of a message however its lines were broken.
fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A failed run's message, what failed and the command that fixes it, is wrapped in the
/// summary and the run's details of the text, the mail `sync` sends and the table, never cut
/// (review: a long source path cut off its "then run: roster sync").
#[test]
fn a_failed_runs_message_is_wrapped_never_cut() {
    let env = Env::new();
    let smtp = Smtp::start(env.dir.path(), None);
    config(&env, smtp.port);
    env.import("1.csv", &users(10, |_| false, |_| false), &[])
        .ok();
    let folders = "no-such-folder/".repeat(8);
    let missing = env.path(&format!("{folders}users-export-daily.csv"));
    env.roster(&["sync", "--source", missing.to_str().unwrap()])
        .code(1);
    let json = env.roster(&["report", "--format", "json"]).ok().json();
    let failed = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "failed")
        .unwrap_or_else(|| panic!("{json:#}"));
    let message = failed["message"].as_str().unwrap();
    assert!(
        message.len() > 200 && message.ends_with("then run: roster sync"),
        "{message}"
    );
    let table = env.roster(&["report"]).ok().stdout;
    let text = env.roster(&["report", "--format", "text"]).ok().stdout;
    let messages = smtp.messages();
    let mail = parse_mail(&env, &messages.last().unwrap().1);
    let mailed = mail["text"].as_str().unwrap().to_string();
    for (what, out, times) in [
        ("table", &table, 1),
        ("text", &text, 2),
        ("mail", &mailed, 2),
    ] {
        assert_eq!(long_lines(out), Vec::<String>::new(), "{what}:\n{out}");
        assert_eq!(
            squeezed(out).matches(&squeezed(message)).count(),
            times,
            "{what}:\n{out}"
        );
    }
}

/// The trend of users in the directory starts with the store: users added by hand today,
/// before the first import, are not counted on the 29 days before it, in JSON, text or HTML
/// (review: they were shown on each of them).
#[test]
fn the_trend_has_no_users_before_the_store_existed() {
    let env = Env::new();
    for i in 0..5 {
        let mail = format!("m{i}@example.org");
        env.roster(&["users", "add", "--name", &format!("M {i}"), "--mail", &mail])
            .ok();
    }
    env.import("1.csv", &users(10, |_| false, |_| false), &[])
        .ok();
    let json = env.roster(&["report", "--format", "json"]).ok().json();
    let users: Vec<u64> = json["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["users"].as_u64().unwrap())
        .collect();
    assert_eq!(users.len(), 30);
    assert_eq!(users[..29], [0; 29], "{users:?}");
    assert_eq!(users[29], 15, "{users:?}");
    let text = env.roster(&["report", "--format", "text"]).ok().stdout;
    let line = text
        .lines()
        .find(|l| l.contains("Users in the directory"))
        .unwrap();
    assert!(
        line.contains(&format!("{}█ now 15", "▁".repeat(29))),
        "{line}"
    );
    let html = env.roster(&["report", "--format", "html"]).ok().stdout;
    assert!(!html.contains(": 5\""), "{html}");
}

#[test]
fn open_items_name_unknown_groups_failed_invitations_and_a_stale_source() {
    let env = Env::new();
    let smtp = Smtp::start(env.dir.path(), None);
    config(&env, smtp.port);
    let toml = std::fs::read_to_string(env.path("roster.toml")).unwrap();
    env.write(
        "roster.toml",
        toml.replace("[mail]", "[import]\nsend_invitations = true\n\n[mail]"),
    );
    env.import(
        "1.csv",
        "UniqueID,Name,Mail,Groups\nE1,Anna,reject-me@example.se,INTMED\nE2,Bo,bo@example.se,INTMED\nE3,Cy,cy@example.se,X\n",
        &[],
    )
    .code(1);
    // The file has not changed for ten days.
    env.db()
        .execute("UPDATE batches SET fetched_at = '2000-01-01T00:00:00Z'", [])
        .unwrap();
    let json = env
        .roster(&["report", "--since", "24h", "--format", "json"])
        .ok()
        .json();
    assert_eq!(json["status"], "STALE", "{json:#}");
    assert_eq!(json["open"]["failed_invitations"], 1);
    assert_eq!(json["open"]["unknown_groups"]["INTMED"], 2);
    assert_eq!(json["open"]["unknown_groups"]["X"], 1);
    let text = env
        .roster(&["report", "--since", "24h", "--format", "text"])
        .ok()
        .stdout;
    let summary = &text[..text.find("Run 1").unwrap()];
    for want in [
        "0 pending, 1 failed",
        "Unknown groups: INTMED (2 records), X (1 record)",
        "STALE: the source file has not changed",
    ] {
        assert!(summary.contains(want), "{want}:\n{text}");
    }
    assert!(text.starts_with("roster: STALE"), "{text}");
}

/// A store that never fetched a file: `status` says STALE (unhealthy), and so does the
/// report's subject; its open items say why, in the JSON, the table, and the mail's text and
/// HTML (SPEC §5: the open items include a stale source).
#[test]
fn a_store_that_never_fetched_a_file_says_so_in_the_open_items() {
    let env = Env::new();
    let smtp = Smtp::start(env.dir.path(), None);
    config(&env, smtp.port);
    env.roster(&["users", "add", "--name", "Ada", "--mail", "ada@example.se"])
        .ok();
    let status = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["status"], "STALE", "{status:#}");
    let json = env.roster(&["report", "--format", "json"]).ok().json();
    assert_eq!(json["status"], "STALE", "{json:#}");
    assert_eq!(json["open"]["never_fetched"], true, "{json:#}");
    let want = "STALE: no file was ever fetched";
    let table = env.roster(&["report"]).ok().stdout;
    assert!(!table.contains("Open items:       none"), "{table}");
    assert!(table.contains(want), "{table}");
    env.roster(&["report", "--send"]).ok();
    let mail = parse_mail(&env, &smtp.messages().last().unwrap().1);
    assert!(
        mail["subject"]
            .as_str()
            .unwrap()
            .starts_with("roster: STALE"),
        "{mail:#}"
    );
    for part in ["text", "html_text"] {
        let text = mail[part].as_str().unwrap();
        assert!(text.contains(want), "{part}: {text}");
    }
}

#[test]
fn the_report_table_fits_100_columns() {
    let env = Env::new();
    env.import("1.csv", &users(40, |_| false, |_| false), &[])
        .ok();
    // A day with every kind of change and a rejected record, blocked, then let through with a
    // long reason.
    let mut day2 = users(60, |i| i < 20, |i| i % 2 == 0);
    day2.push_str("E90001,Rejected Person,not-a-mail,Nurse\n");
    let blocked = env.import("2.csv", &day2, &[]).code(4);
    let batch = blocked.json()["batch"].as_i64().unwrap().to_string();
    let reason = "HR confirmed the leavers of the reorganisation in ticket 4711 ".repeat(3);
    env.roster(&[
        "apply",
        "--batch",
        &batch,
        "--allow-removals",
        "20",
        "--allow-updates",
        "100",
        "--reason",
        &reason,
    ])
    .ok();
    let table = env.roster(&["report", "--since", "24h"]).ok().stdout;
    assert!(table.contains("resolved by"), "{table}");
    for line in table.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} chars: {line}\n{table}",
            line.chars().count()
        );
    }
}

/// `report --format json` gives every joiner of a first import, although the report itself
/// reads only the first 10,000 of them (for the lists and the attachment): the rest come
/// from the store as the JSON is written.
#[test]
fn the_json_report_lists_every_joiner_beyond_the_attachment() {
    let env = Env::new();
    let n = 10_150;
    let run = env
        .import("1.csv", &users(n, |_| false, |_| false), &[])
        .ok()
        .json()["run"]
        .as_i64()
        .unwrap();
    let report = env
        .roster(&["report", "--run", &run.to_string(), "--format", "json"])
        .ok()
        .json();
    let joined = report["runs"][0]["joined"].as_array().unwrap();
    assert_eq!(joined.len(), n);
    assert_eq!(joined[0]["unique_id"], "E00000");
    assert_eq!(joined[n - 1]["unique_id"], format!("E{:05}", n - 1));
    assert_eq!(joined[n - 1]["name"], format!("Person Number{}", n - 1));
    assert_eq!(report["runs"][0]["joined_total"], n);
    assert_eq!(report["status"], "OK");
    assert!(report["trend"].is_array(), "{report}");
}

/// A file that a file error rejects (a missing column) rejected no record: the report says
/// why in the run's message and counts no rejected record (it said "Rejected records: 1
/// (missing-column 1)"); the next file's rejected records are its own, line by line.
#[test]
fn a_file_rejected_for_a_missing_column_rejected_no_record() {
    let env = Env::new();
    let bad = env.write("bad.csv", "UniqueID;Name\nE1;Ann\n");
    let run = env.roster(&["sync", "--source", bad.to_str().unwrap()]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let table = env.roster(&["report", "--format", "text"]).ok().stdout;
    assert!(
        table.contains("the required column `Mail` is missing"),
        "{table}"
    );
    assert!(!table.contains("Rejected records"), "{table}");
    let json = env.roster(&["report", "--format", "json"]).ok().json();
    let first = &json["runs"][0];
    assert_eq!(first["status"], "rejected", "{json:#}");
    assert_eq!(first["rejected_total"], 0, "{json:#}");
    assert_eq!(first["rejected"], serde_json::json!([]), "{json:#}");
    let mut text = String::from("UniqueID;Name;Mail\nE0;Bo;bad\n");
    for i in 1..40 {
        text.push_str(&format!("E{i};Ann {i};ann{i}@x.se\n"));
    }
    let good = env.write("good.csv", &text);
    env.roster(&["sync", "--source", good.to_str().unwrap()])
        .ok();
    let table = env.roster(&["report", "--format", "text"]).ok().stdout;
    assert!(
        table.contains("Rejected records: 1 (bad-mail 1)"),
        "{table}"
    );
}

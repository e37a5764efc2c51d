//! Output at any scale (SPEC §3.1): plans in tables with their limit and filters, JSON with
//! every change, validate's counts and GitHub annotations, and the lists that operators read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use support::{on_a_terminal, Env};

const HEADER: &str = "UniqueID,Name,Mail,Title,TelephoneNumber,Groups";

/// `n` users; `day` 2 changes every third title and moves the even ones to another group.
fn users(n: usize, day: u32) -> String {
    let mut out = String::with_capacity(n * 60);
    out.push_str(HEADER);
    out.push('\n');
    for i in 0..n {
        let (title, groups) = match day {
            1 => ("Nurse", "ICU,NIGHT"),
            _ => (
                if i % 3 == 0 { "Head nurse" } else { "Nurse" },
                if i % 2 == 0 { "ICU" } else { "ICU,NIGHT" },
            ),
        };
        out.push_str(&format!(
            "E{i:06},Person {i},p{i}@example.se,{title},,\"{groups}\"\n"
        ));
    }
    out
}

fn setup() -> Env {
    let env = Env::new();
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    env.roster(&["groups", "add", "NIGHT", "--name", "Night shift"])
        .ok();
    env
}

fn fetch(env: &Env, name: &str, csv: &str) {
    let p = env.write(name, csv);
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
}

/// The lines of a table that list changes (one per change).
fn change_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| {
            [
                "create",
                "adopt",
                "update",
                "reactivate",
                "remove",
                "missing",
                "invalid",
            ]
            .iter()
            .any(|a| l.starts_with(&format!("| {a} ")))
        })
        .collect()
}

#[test]
fn a_plan_of_100k_changes_in_a_table_is_capped_and_counted_per_field() {
    let env = setup();
    let n = 100_000;
    fetch(&env, "day1.csv", &users(n, 1));
    env.roster(&["-q", "apply"]).ok();
    fetch(&env, "day2.csv", &users(n, 2));
    // Every even user leaves NIGHT (50,000), every third is a head nurse (33,334).
    let run = env.roster(&["diff"]).ok();
    let out = &run.stdout;
    assert_eq!(change_lines(out).len(), 50, "{out}");
    assert!(out.contains("update 66,667"), "{out}");
    assert!(
        out.contains("updates per field: groups 50,000, title 33,334"),
        "{out}"
    );
    assert!(
        out.contains("… and 66,617 more (roster diff --all, or --format json)"),
        "{out}"
    );
    assert!(out.lines().count() < 70, "{out}");
    // JSON has every change, unless a limit is given.
    let json = env.roster(&["diff", "--format", "json"]).ok().json();
    assert_eq!(json["changes"].as_array().unwrap().len(), 66_667);
    assert_eq!(json["updates"]["groups"], 50_000);
    assert_eq!(json["updates"]["title"], 33_334);
    assert!(json.get("more").is_none());
    let json = env
        .roster(&["diff", "--format", "json", "--limit", "10"])
        .ok()
        .json();
    assert_eq!(json["changes"].as_array().unwrap().len(), 10);
    assert_eq!(json["more"], 66_657);
    assert_eq!(json["counts"]["update"], 66_667);
    // apply prints its summary, not the changes.
    let run = env.roster(&["apply", "--allow-updates", "66667"]).ok();
    assert!(change_lines(&run.stdout).is_empty(), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("updates per field: groups 50,000, title 33,334"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.lines().count() < 10, "{}", run.stdout);
}

#[test]
fn filters_and_removals_with_name_mail_and_groups() {
    let env = setup();
    fetch(&env, "day1.csv", &users(12, 1));
    env.roster(&["-q", "apply"]).ok();
    // Day 2: the last two leave, E000003 gets an unknown group; the rest as on day 2.
    let mut day2: Vec<String> = users(10, 2).lines().map(str::to_string).collect();
    day2[4] = "E000003,Person 3,p3@example.se,Head nurse,,\"ICU,INTMED\"".into();
    day2[5] = "E000004,Person 4,p4@example.se,Nurse,,\"ICU,INTMED\"".into();
    fetch(&env, "day2.csv", &(day2.join("\n") + "\n"));
    let all = env
        .roster(&["diff", "--format", "json", "--all"])
        .ok()
        .json();
    let changes = all["changes"].as_array().unwrap();
    let removed: Vec<&Value> = changes.iter().filter(|c| c["action"] == "remove").collect();
    assert_eq!(removed.len(), 2, "{all}");
    assert_eq!(removed[0]["name"], "Person 10");
    assert_eq!(removed[0]["mail"], "p10@example.se");
    assert_eq!(removed[0]["groups"], serde_json::json!(["ICU", "NIGHT"]));

    let run = env.roster(&["diff", "--action", "remove"]).ok();
    let lines = change_lines(&run.stdout);
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    for want in ["E000010", "Person 10", "p10@example.se", "groups ICU,NIGHT"] {
        assert!(lines[0].contains(want), "{want}: {}", run.stdout);
    }
    assert!(
        run.stdout
            .contains("warning: unknown group INTMED: 2 records"),
        "{}",
        run.stdout
    );

    let run = env.roster(&["diff", "--field", "title"]).ok();
    let lines = change_lines(&run.stdout);
    let titles = changes
        .iter()
        .filter(|c| {
            c["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == "title")
        })
        .count();
    assert_eq!(lines.len(), titles, "{}", run.stdout);
    assert!(lines
        .iter()
        .all(|l| l.contains("title: Nurse → Head nurse")));

    let run = env
        .roster(&[
            "diff", "--action", "update", "--field", "groups", "--limit", "1",
        ])
        .ok();
    assert_eq!(change_lines(&run.stdout).len(), 1, "{}", run.stdout);
    assert!(run.stdout.contains("… and "), "{}", run.stdout);
    let run = env.roster(&["diff", "--limit", "3"]).ok();
    assert_eq!(change_lines(&run.stdout).len(), 3, "{}", run.stdout);
    // A dry run lists the changes; a real apply only its summary, unless -v.
    let run = env
        .roster(&[
            "apply",
            "--dry-run",
            "--allow-removals",
            "2",
            "--allow-updates",
            "20",
        ])
        .ok();
    assert_eq!(
        change_lines(&run.stdout).len(),
        changes.len(),
        "{}",
        run.stdout
    );
    let run = env
        .roster(&[
            "apply",
            "--dry-run",
            "--allow-removals",
            "2",
            "--allow-updates",
            "20",
            "--limit",
            "2",
        ])
        .ok();
    assert_eq!(change_lines(&run.stdout).len(), 2, "{}", run.stdout);
    let json = env
        .roster(&["diff", "--action", "remove", "--format", "json"])
        .ok()
        .json();
    assert_eq!(json["changes"].as_array().unwrap().len(), 2);
    // A bad filter is a usage error.
    env.roster(&["diff", "--action", "explode"]).code(2);
    // Nothing goes to stderr off a terminal: no progress bar.
    let run = env.roster(&["diff"]).ok();
    assert_eq!(run.stderr, "");
}

#[test]
fn table_cells_are_cut_and_escaped() {
    let env = setup();
    let long = "T".repeat(300);
    let csv = format!(
        "{HEADER}\nE1,Anna,anna@example.se,{long},,ICU\nE2,Bo\u{1b}[31m,bo@example.se,,,ICU\n"
    );
    fetch(&env, "day1.csv", &csv);
    let run = env.roster(&["diff"]).ok();
    assert!(!run.stdout.contains('\u{1b}'), "{}", run.stdout);
    for line in change_lines(&run.stdout) {
        for c in line.split(" | ") {
            assert!(c.trim().chars().count() <= 82, "{line}");
        }
    }
    let json = env.roster(&["diff", "--format", "json"]).ok().json();
    let title = &json["changes"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "title")
        .unwrap()["new"];
    assert_eq!(title.as_str().unwrap(), long);
}

fn bad_file(errors: usize, warnings: usize) -> String {
    let mut out = String::from("UniqueID,Name,Mail,Groups\n");
    for i in 0..errors {
        out.push_str(&format!("E{i},Person {i},not-a-mail-{i},\n"));
    }
    for i in 0..warnings {
        out.push_str(&format!("W{i},Person {i},w{i}@example.se,GHOST{}\n", i % 3));
    }
    out
}

#[test]
fn validate_github_is_capped_with_totals_and_a_step_summary() {
    let env = Env::new();
    let p = env.write("users,1.csv", bad_file(300, 40));
    let summary = env.write("summary.md", "before\n");
    let env = env.var("GITHUB_STEP_SUMMARY", summary.to_str().unwrap());
    let run = env
        .roster(&[
            "validate",
            p.to_str().unwrap(),
            "--format",
            "github",
            "--groups",
            "ICU",
        ])
        .code(3);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let count = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count("::error "), 10, "{}", run.stdout);
    assert_eq!(count("::warning "), 10, "{}", run.stdout);
    assert_eq!(count("::notice "), 1, "{}", run.stdout);
    assert_eq!(lines.len(), 21);
    let notice = lines.last().unwrap();
    assert!(notice.contains("300 errors, 40 warnings"), "{notice}");
    assert!(notice.contains("340 rows"), "{notice}");
    // The file name is a property: its comma is escaped.
    assert!(lines[0].contains("users%2C1.csv,line="), "{}", lines[0]);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("before\n"), "appended: {md}");
    assert!(md.contains("| bad-mail | error | 300 |"), "{md}");
    assert!(md.contains("| unknown-group | warning | 40 |"), "{md}");
    let listed = md.lines().filter(|l| l.contains("| bad-mail | ")).count();
    assert_eq!(listed, 50 + 1, "{md}");
}

#[test]
fn validate_table_counts_per_code_then_the_limit() {
    let env = Env::new();
    let p = env.write("users.csv", bad_file(120, 5));
    let run = env
        .roster(&["validate", p.to_str().unwrap(), "--groups", "ICU"])
        .code(3);
    let rows = |out: &str| {
        out.lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| Line"))
            .count()
    };
    assert_eq!(rows(&run.stdout), 50, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("problems per code: bad-mail 120 (error), unknown-group 5 (warning)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("… and 75 more"), "{}", run.stdout);
    let run = env
        .roster(&["validate", p.to_str().unwrap(), "--limit", "3"])
        .code(3);
    assert_eq!(rows(&run.stdout), 3, "{}", run.stdout);
    let json = env
        .roster(&["validate", p.to_str().unwrap(), "--format", "json"])
        .code(3)
        .json();
    assert_eq!(json["problems"].as_array().unwrap().len(), 120);
}

#[test]
fn validate_groups_file_and_default_region() {
    let env = Env::new();
    let groups = env.write(
        "groups.csv",
        "GroupID;Name\nICU;Intensive care\nNIGHT;Night\n",
    );
    let csv = "UniqueID,Name,Mail,TelephoneNumber,Groups\n\
               E1,Anna,anna@example.se,070-123 45 67,\"ICU,NIGHT\"\n\
               E2,Bo,bo@example.se,,\"ICU,GHOST\"\n";
    let p = env.write("users.csv", csv);
    let path = p.to_str().unwrap();
    let json = env
        .roster(&[
            "validate",
            path,
            "--format",
            "json",
            "--groups-file",
            groups.to_str().unwrap(),
        ])
        .json();
    let codes: Vec<&str> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"unknown-group"), "{json}");
    assert_eq!(
        codes.iter().filter(|c| **c == "unknown-group").count(),
        1,
        "{json}"
    );
    // Without a region the national number is an error; with SE it is valid.
    assert!(codes.contains(&"bad-phone"), "{json}");
    let json = env
        .roster(&[
            "validate",
            path,
            "--format",
            "json",
            "--default-region",
            "SE",
            "--groups",
            "ICU,NIGHT,GHOST",
        ])
        .ok()
        .json();
    assert_eq!(json["errors"], 0, "{json}");
    env.roster(&["validate", path, "--default-region", "XX"])
        .code(2);
    env.roster(&["validate", path, "--groups-file", "missing.csv"])
        .code(2);
}

#[test]
fn groups_list_counts_active_and_deactivated_members_apart() {
    let env = setup();
    fetch(&env, "day1.csv", &users(6, 1));
    env.roster(&["-q", "apply"]).ok();
    // Two leave: with remove_after_missing 1 (the default) they are deactivated.
    fetch(&env, "day2.csv", &users(4, 1));
    env.roster(&["-q", "apply", "--allow-removals", "2"]).ok();
    let groups = env
        .roster(&["groups", "list", "--format", "json"])
        .ok()
        .json();
    let icu = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "ICU")
        .unwrap();
    assert_eq!(icu["members"], 4, "{groups}");
    assert_eq!(icu["deactivated"], 2, "{groups}");
    let run = env.roster(&["groups", "list"]).ok();
    let line = run.stdout.lines().find(|l| l.contains("| ICU ")).unwrap();
    assert!(
        line.contains("| 4 ") && line.contains("| 2 "),
        "{}",
        run.stdout
    );
}

#[test]
fn batches_list_fits_100_columns() {
    let env = setup();
    let long_dir = "a-rather-long-directory-name/with/several/levels/of/nesting";
    fetch(&env, &format!("{long_dir}/users-1130.csv"), &users(3, 1));
    let run = env.roster(&["batches", "list"]).ok();
    for line in run.stdout.lines() {
        assert!(line.chars().count() <= 100, "{}", run.stdout);
    }
    assert!(run.stdout.contains("users-1130.csv"), "{}", run.stdout);
    let json = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(json[0]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn verbose_logs_one_line_per_stage_and_very_verbose_the_steps() {
    let env = setup();
    let p = env.write("day1.csv", users(20, 1));
    let run = env
        .roster(&["-v", "fetch", "--source", p.to_str().unwrap()])
        .ok();
    assert!(run.stderr.contains("roster: fetch: "), "{}", run.stderr);
    let run = env.roster(&["-v", "diff"]).ok();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("roster: read: 20 records")),
        "{}",
        run.stderr
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("roster: plan: batch 1: create 20") && l.ends_with('s')),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("sqlite:"), "{}", run.stderr);
    let run = env.roster(&["-vv", "apply"]).ok();
    for step in [
        "roster: sqlite: opened",
        "roster: read: ",
        "roster: plan: ",
        "roster: sqlite: the apply committed",
        "roster: write: run ",
    ] {
        assert!(run.stderr.contains(step), "{step}: {}", run.stderr);
    }
    // Without -v (and off a terminal) stderr stays clean.
    fetch(&env, "day2.csv", &users(20, 2));
    let run = env.roster(&["apply", "--allow-updates", "20"]).ok();
    assert_eq!(run.stderr, "");
}

#[test]
fn progress_shows_on_a_terminal_only() {
    let env = setup();
    fetch(&env, "day1.csv", &users(10_000, 1));
    let (code, seen) = on_a_terminal(&env, &["apply"]);
    assert_eq!(code, 0, "{seen}");
    assert!(seen.contains("writing the directory"), "{seen}");
    assert!(
        seen.contains("/10000"),
        "rows written of rows to write: {seen}"
    );
    // -q: nothing, even on a terminal.
    fetch(&env, "day2.csv", &users(10_000, 2));
    let (code, seen) = on_a_terminal(&env, &["-q", "apply", "--allow-updates", "10000"]);
    assert_eq!((code, seen.as_str()), (0, ""));
}

/// What a table may not show raw: control characters and bidirectional overrides.
fn hidden(c: char) -> bool {
    c.is_control() && c != '\n' || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Every cell of every table line (Markdown off a terminal) at most 80 characters, and no
/// hidden character anywhere.
fn assert_legible(what: &str, stdout: &str) {
    assert!(!stdout.chars().any(hidden), "{what}: {stdout:?}");
    for line in stdout
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|-"))
    {
        for c in line.split(" | ") {
            let c = c.trim_matches(|c: char| c == '|' || c == ' ');
            assert!(
                c.chars().count() <= 80,
                "{what}: a cell of {} chars: {line}",
                c.chars().count()
            );
        }
    }
}

#[test]
fn every_table_cuts_and_escapes_what_users_wrote() {
    let env = setup();
    let long = "9".repeat(200);
    let group_name = format!("Care \u{202e}lived{long}");
    env.roster(&["groups", "add", "EVIL", "--name", &group_name])
        .ok();
    let name = format!("Bo \u{2066}Ek\u{202e}{long}");
    let title = format!("Head\u{202d} nurse {long}");
    let csv = format!(
        "{HEADER}\nE1,{name},bo@example.se,{title},,\"EVIL,ICU\"\nE2,Anna,anna@example.se,Nurse,,ICU\n"
    );
    fetch(&env, "day1.csv", &csv);
    assert_legible("diff", &env.roster(&["diff"]).ok().stdout);
    env.roster(&["-q", "apply"]).ok();
    let csv2 = csv.replace(&title, &format!("{title}\u{202e}2"));
    fetch(&env, "day2.csv", &csv2);
    env.roster(&["-q", "apply", "--allow-updates", "1"]).ok();
    for args in [
        &["groups", "list"][..],
        &["groups", "members", "EVIL"],
        &["users", "list"],
        &["users", "show", "E1"],
        &["users", "history", "E1"],
        &["batches", "list"],
        &["report", "--since", "24h"],
    ] {
        let run = env.roster(args).ok();
        assert_legible(&args.join(" "), &run.stdout);
    }
    // The full values are in JSON.
    let user = env
        .roster(&["users", "show", "E1", "--format", "json"])
        .ok()
        .json();
    assert_eq!(user["name"], name.as_str());
    let groups = env
        .roster(&["groups", "list", "--format", "json"])
        .ok()
        .json();
    assert!(groups
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == group_name.as_str()));
    // validate: the per-code line and the problems of a file that quotes what it read.
    let bad = env.write(
        "bad.csv",
        format!(
            "{HEADER},Extra\u{202e}{long}\nE3,Cy,not-a-mail\u{202e}{long},,,NOPE\u{202e}{long},x\n"
        ),
    );
    let run = env.roster(&["validate", bad.to_str().unwrap()]).code(3);
    assert!(run.stdout.contains("problems per code:"), "{}", run.stdout);
    assert_legible("validate", &run.stdout);
}

#[test]
fn lists_show_progress_on_a_terminal_only() {
    let env = setup();
    fetch(&env, "day1.csv", &users(3_000, 1));
    let applied = env.roster(&["apply", "--format", "json"]).ok().json();
    let run = applied["run"].as_i64().unwrap().to_string();
    for (args, shown) in [
        (&["users", "list", "--format", "json"][..], "reading users"),
        (&["users", "list"], "reading users"),
        (&["users", "export"], "exporting users"),
        (&["report", "--since", "24h"], "building the report"),
        (
            &["revert", &run, "--allow-removals", "3000"],
            "reading the changes of run",
        ),
    ] {
        let (code, seen) = on_a_terminal(&env, args);
        assert_eq!(code, 0, "{args:?}: {seen}");
        assert!(seen.contains(shown), "{args:?}: {seen:?}");
    }
    // Not a terminal: nothing on stderr.
    for args in [&["users", "list"][..], &["report", "--since", "24h"]] {
        assert_eq!(env.roster(args).ok().stderr, "", "{args:?}");
    }
}

/// `revert --format json` (written as a stream) keeps the shape of SPEC §6: apply's keys,
/// the reverted run, every change with its fields, the groups and the conflicts.
#[test]
fn revert_json_lists_every_change_in_the_shape_of_apply() {
    let env = setup();
    fetch(&env, "day1.csv", &users(30, 1));
    env.roster(&["apply"]).ok();
    fetch(&env, "day2.csv", &users(30, 2));
    let run = env
        .roster(&["apply", "--allow-updates", "30", "--format", "json"])
        .ok()
        .json()["run"]
        .as_i64()
        .unwrap();
    let out = env
        .roster(&[
            "revert",
            &run.to_string(),
            "--dry-run",
            "--allow-updates",
            "30",
            "--format",
            "json",
        ])
        .ok()
        .stdout;
    assert_eq!(out.lines().count(), 1, "one compact document: {out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "run",
            "reverts",
            "batch",
            "status",
            "would_block",
            "counts",
            "plan",
            "conflicts",
            "by",
            "reason",
            "overrides",
            "problems",
            "message"
        ]
    );
    assert_eq!(doc["run"], serde_json::Value::Null);
    assert_eq!(doc["reverts"], run);
    assert_eq!(doc["status"], "dry-run");
    assert_eq!(doc["plan"]["reverts"], run);
    let changes = doc["plan"]["changes"].as_array().unwrap();
    assert_eq!(
        changes.len() as u64,
        doc["counts"]["update"].as_u64().unwrap()
    );
    assert!(changes.len() >= 10, "{out}");
    let first = &changes[0];
    assert_eq!(first["action"], "update");
    assert!(first["unique_id"].is_string(), "{first}");
    let field = &first["fields"][0];
    assert!(
        field["field"].is_string() && field.get("old").is_some(),
        "{first}"
    );
    assert_eq!(doc["plan"]["groups"], serde_json::json!([]));
    assert_eq!(doc["conflicts"], serde_json::json!([]));
    assert_eq!(doc["problems"], serde_json::json!([]));
    assert_eq!(doc["overrides"]["allow_updates"], 30);
}

/// A revert in a table lists at most 50 of its changes (SPEC §3.1: a plan of any size stays
/// legible), then how many more and where they all are; `-v` does not lift the cap.
#[test]
fn a_revert_in_a_table_lists_at_most_50_changes() {
    let env = setup();
    fetch(&env, "day1.csv", &users(90, 1));
    env.roster(&["apply"]).ok();
    fetch(&env, "day2.csv", &users(90, 2));
    let run = env
        .roster(&["apply", "--allow-updates", "90", "--format", "json"])
        .ok()
        .json()["run"]
        .as_i64()
        .unwrap()
        .to_string();
    let updates = env
        .roster(&[
            "revert",
            &run,
            "--dry-run",
            "--allow-updates",
            "90",
            "--format",
            "json",
        ])
        .ok()
        .json()["plan"]["changes"]
        .as_array()
        .unwrap()
        .len();
    assert!(updates > 50, "{updates}");
    for verbose in [&[][..], &["-v"]] {
        let mut args = verbose.to_vec();
        args.extend(["revert", &run, "--dry-run", "--allow-updates", "90"]);
        let out = env.roster(&args).ok().stdout;
        let users: std::collections::HashSet<&str> = out
            .lines()
            .filter(|l| l.starts_with("| update "))
            .filter_map(|l| l.split('|').nth(2))
            .map(str::trim)
            .collect();
        assert_eq!(users.len(), 50, "{out}");
        assert!(
            out.contains(&format!(
                "… and {} more (roster revert {run} --dry-run --format json)",
                updates - 50
            )),
            "{out}"
        );
    }
}

/// The `… and N more` line of a plan names the command that lists the rest of what was
/// asked for: the batch and the filters kept, not every change of the newest batch.
#[test]
fn more_names_the_batch_and_filters_it_cuts() {
    let env = setup();
    fetch(&env, "day1.csv", &users(30, 1));
    env.roster(&["-q", "apply"]).ok();
    fetch(&env, "day2.csv", &users(30, 2));
    fetch(&env, "day3.csv", &users(31, 1));
    let out = env
        .roster(&["diff", "--batch", "2", "--field", "title", "--limit", "2"])
        .ok()
        .stdout;
    assert!(
        out.contains("… and 8 more (roster diff --batch 2 --field title --all, or --format json)"),
        "{out}"
    );
    let out = env
        .roster(&[
            "diff",
            "--batch",
            "2",
            "--action",
            "update,create",
            "--limit",
            "1",
        ])
        .ok()
        .stdout;
    assert!(
        out.contains(
            "… and 19 more (roster diff --batch 2 --action update --action create --all, or"
        ),
        "{out}"
    );
    // Without a batch or filter, as it always was.
    let out = env
        .roster(&["diff", "--batch", "3", "--limit", "0"])
        .ok()
        .stdout;
    assert!(out.contains("(roster diff --batch 3 --all, or"), "{out}");
    let out = env.roster(&["diff", "--limit", "0"]).ok().stdout;
    assert!(
        out.contains("… and 1 more (roster diff --all, or --format json)"),
        "{out}"
    );
}

//! The operator's morning at 20,000 users (SPEC §3, §3.1, §4): finding a person, tables that
//! fit 100 columns, the most common changes at a glance, `[columns] ignore`, attachments a
//! spreadsheet opens, the invitation estimate, a readable revert, and the example config.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fmt::Write as _;
use support::Env;

const HEADER: &str = "UniqueID,Name,Mail,Title,TelephoneNumber,Groups";

fn fetch(env: &Env, name: &str, csv: &str) {
    let p = env.write(name, csv);
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
}

fn groups(env: &Env, ids: &[&str]) {
    for id in ids {
        env.roster(&["groups", "add", id, "--name", &format!("Group {id}")])
            .ok();
    }
}

/// Lines of `stdout` longer than 100 characters (counted in characters, not bytes).
fn long_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.chars().count() > 100)
        .map(str::to_string)
        .collect()
}

#[track_caller]
fn assert_fits(what: &str, stdout: &str) {
    let long = long_lines(stdout);
    assert!(
        long.is_empty(),
        "{what}: {} line(s) over 100 characters, the first:\n{}",
        long.len(),
        long[0]
    );
}

// ---- users list --search / --limit / --all, show and history by name -------------------

fn people(env: &Env) {
    groups(env, &["ICU"]);
    let mut csv = format!("{HEADER}\n");
    csv.push_str("E1,Märta Söderberg,marta@example.se,Sjuksköterska,,ICU\n");
    csv.push_str("E2,Åsa Öström,asa@example.se,Undersköterska,,ICU\n");
    csv.push_str("E3,Anna Berg,anna.berg@example.se,Nurse,,ICU\n");
    csv.push_str("E4,ANNA BERG,anna.b@example.se,Läkare,,ICU\n");
    for i in 10..130 {
        writeln!(csv, "E{i},Person {i},p{i}@example.se,Nurse,,ICU").unwrap();
    }
    env.import("day1.csv", &csv, &[]).ok();
}

fn ids(json: &serde_json::Value) -> Vec<String> {
    json.as_array()
        .unwrap()
        .iter()
        .map(|u| u["unique_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn users_list_shows_50_then_how_many_more_and_json_every_one() {
    let env = Env::new();
    people(&env);
    let out = env.roster(&["users", "list"]).ok().stdout;
    let rows = out.lines().filter(|l| l.starts_with("| E")).count();
    assert_eq!(rows, 50, "{out}");
    assert!(
        out.contains("… and 74 more (roster users list --all, or --format json)"),
        "{out}"
    );
    let out = env.roster(&["users", "list", "--limit", "5"]).ok().stdout;
    assert_eq!(out.lines().filter(|l| l.starts_with("| E")).count(), 5);
    assert!(out.contains("… and 119 more"), "{out}");
    let out = env.roster(&["users", "list", "--all"]).ok().stdout;
    assert_eq!(out.lines().filter(|l| l.starts_with("| E")).count(), 124);
    assert!(!out.contains("more"), "{out}");
    assert_eq!(env.users_json().len(), 124);
    let json = env
        .roster(&["users", "list", "--format", "json", "--limit", "3"])
        .ok()
        .json();
    assert_eq!(json.as_array().unwrap().len(), 3);
}

#[test]
fn users_list_search_ignores_case_and_accents_in_id_name_mail_and_title() {
    let env = Env::new();
    people(&env);
    let search = |text: &str| {
        ids(&env
            .roster(&["users", "list", "--search", text, "--format", "json"])
            .ok()
            .json())
    };
    assert_eq!(search("ostrom"), ["E2"]);
    assert_eq!(search("ÖSTRÖM"), ["E2"]);
    assert_eq!(search("marta soder"), ["E1"]);
    assert_eq!(search("ANNA.BERG@"), ["E3"]);
    assert_eq!(search("underskoterska"), ["E2"]);
    assert_eq!(search("lakare"), ["E4"]);
    assert_eq!(
        search("e12"),
        ["E12", "E120", "E121", "E122", "E123", "E124", "E125", "E126", "E127", "E128", "E129"]
    );
    assert!(search("nobody").is_empty());
    // The table lists the matches, with no `more` line when all fit.
    let out = env
        .roster(&["users", "list", "--search", "ostrom"])
        .ok()
        .stdout;
    assert!(out.contains("Åsa Öström"), "{out}");
    assert!(!out.contains("Märta") && !out.contains("more"), "{out}");
}

#[test]
fn show_and_history_take_a_whole_name_that_one_user_has() {
    let env = Env::new();
    people(&env);
    let user = env
        .roster(&["users", "show", "marta söderberg", "--format", "json"])
        .ok()
        .json();
    assert_eq!(user["unique_id"], "E1");
    let user = env
        .roster(&["users", "show", "Asa  Ostrom", "--format", "json"])
        .ok()
        .json();
    assert_eq!(user["unique_id"], "E2");
    let history = env
        .roster(&["users", "history", "ÅSA ÖSTRÖM", "--format", "json"])
        .ok()
        .json();
    assert!(!history.as_array().unwrap().is_empty());
    assert!(history
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["unique_id"] == "E2"));
    // A part of a name is not a name.
    let run = env.roster(&["users", "show", "Märta"]).code(2);
    assert!(run.stderr.contains("Märta"), "{}", run.stderr);
    // Two users of that name: both listed, exit 2.
    for cmd in ["show", "history"] {
        let run = env.roster(&["users", cmd, "anna berg"]).code(2);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(
            run.stderr.contains("E3") && run.stderr.contains("E4"),
            "{cmd}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("anna.berg@example.se"),
            "{}",
            run.stderr
        );
    }
    // A UniqueID and a mail still come first.
    let user = env
        .roster(&["users", "show", "asa@example.se", "--format", "json"])
        .ok()
        .json();
    assert_eq!(user["unique_id"], "E2");
}

// ---- 100 columns at 20,000 users ---------------------------------------------------------

/// 20,000 users with 90-character names, long addresses, titles and group lists.
fn wide(n: usize, day: u32) -> String {
    let mut out = String::with_capacity(n * 300);
    out.push_str(HEADER);
    out.push('\n');
    let long_group = "G".repeat(40);
    for i in 0..n {
        let name: String = format!("Märta Söderberg-Öström {i} ")
            .chars()
            .chain(std::iter::repeat('x'))
            .take(90)
            .collect();
        let (title, group) = match (day, i % 3) {
            (2, 0) => ("Vårdare", "AKUTMED"),
            _ => (
                "Undersköterska med en mycket lång titel som fortsätter",
                "MEDAKUT",
            ),
        };
        writeln!(
            out,
            "E{i:06},{name},{}{i}@example.se,{title},+46701234567,\"{group},{long_group}\"",
            "m".repeat(45)
        )
        .unwrap();
    }
    out
}

#[test]
fn every_person_facing_command_fits_100_columns_at_20k_users() {
    let env = Env::new();
    let long_group = "G".repeat(40);
    groups(&env, &["MEDAKUT", "AKUTMED", &long_group]);
    env.roster(&["groups", "rename", "MEDAKUT", &"Medicin akut ".repeat(8)])
        .ok();
    let n = 20_000;
    let dir = "exports/from/the/human/resources/system/of/the/region/with/a/long/path/indeed";
    fetch(
        &env,
        &format!("{dir}/day1-users-export-from-the-hr-system.csv"),
        &wide(n, 1),
    );
    let first_run = env.roster(&["apply", "--format", "json"]).ok().json()["run"]
        .as_i64()
        .unwrap()
        .to_string();
    let day2 = env.write(
        &format!("{dir}/day2-users-export-from-the-hr-system.csv"),
        wide(n, 2),
    );
    let fetched = env
        .roster(&["fetch", "--source", day2.to_str().unwrap()])
        .ok();
    assert_fits("fetch", &fetched.stdout);
    let diff = env.roster(&["diff"]).ok().stdout;
    // The source is named by its file name, not its path.
    let first = diff.lines().next().unwrap();
    assert!(
        first.contains("day2-users-export-from-the-hr-system.csv") && !first.contains("exports/"),
        "{first}"
    );
    assert_fits("diff", &diff);
    let update = (n / 3 + 1).to_string();
    let applied = env
        .roster(&["apply", "--allow-updates", &update, "--format", "json"])
        .ok()
        .json();
    let run = applied["run"].as_i64().unwrap().to_string();
    env.roster(&[
        "users",
        "add",
        "--name",
        &"Manual Person ".repeat(6),
        "--mail",
        "manual@example.se",
    ])
    .ok();
    let commands: Vec<Vec<&str>> = vec![
        vec!["users", "list"],
        vec!["users", "list", "--search", "söderberg-öström 1999"],
        vec!["users", "list", "--status", "active", "--limit", "200"],
        vec!["users", "show", "E000003"],
        vec!["users", "history", "E000003"],
        vec!["diff", "--batch", "2"],
        vec!["diff", "--batch", "2", "--all"],
        vec!["batches", "list"],
        vec!["revert", &run, "--dry-run", "--allow-updates", &update],
        vec![
            "revert",
            &first_run,
            "--dry-run",
            "--allow-removals",
            "20000",
        ],
        vec!["status"],
        vec!["groups", "list"],
        vec!["groups", "members", "MEDAKUT"],
        vec!["report", "--since", "24h"],
        vec![
            "apply",
            "--batch",
            "1",
            "--force",
            "--dry-run",
            "--allow-updates",
            &update,
        ],
        vec!["validate", "--batch", "2"],
    ];
    for args in &commands {
        let run = env.roster(args);
        assert!(run.code == 0 || run.code == 1, "{args:?}: {}", run.stderr);
        assert!(!run.stdout.is_empty(), "{args:?} printed nothing");
        assert_fits(&args.join(" "), &run.stdout);
    }
}

// ---- top_changes -------------------------------------------------------------------------

#[test]
fn the_plan_names_the_most_common_changes_of_each_field() {
    let env = Env::new();
    groups(&env, &["MEDAKUT", "AKUTMED", "ICU"]);
    let row = |i: usize, title: &str, groups: &str| {
        format!("E{i:04},Person {i},p{i}@example.se,{title},,\"{groups}\"\n")
    };
    let mut day1 = format!("{HEADER}\n");
    let mut day2 = format!("{HEADER}\n");
    for i in 0..200 {
        let (t1, t2) = match i {
            0..=59 => ("Undersköterska", "Vårdare"),
            60..=99 => ("Sjuksköterska", "Specialistsjuksköterska"),
            100..=119 => ("Läkare", "Överläkare"),
            120..=134 => ("Kock", "Kokerska"),
            135..=143 => ("Vakt", "Väktare"),
            _ => ("Nurse", "Nurse"),
        };
        let (g1, g2) = match i {
            0..=29 => ("ICU,MEDAKUT", "AKUTMED,ICU"),
            30..=34 => ("ICU", "ICU,MEDAKUT"),
            _ => ("ICU", "ICU"),
        };
        day1.push_str(&row(i, t1, g1));
        day2.push_str(&row(i, t2, g2));
    }
    env.import("day1.csv", &day1, &[]).ok();
    fetch(&env, "day2.csv", &day2);
    let out = env.roster(&["diff"]).ok().stdout;
    // One line a field (broken after a `;` where it is wider than 100 columns).
    let text = out.replace("\n  ", " ");
    assert!(
        text.contains(
            "title: Undersköterska → Vårdare 60; Sjuksköterska → Specialistsjuksköterska 40; \
             Läkare → Överläkare 20\n"
        ),
        "{out}"
    );
    assert!(!out.contains("Kokerska 15"), "at most 3 a field: {out}");
    assert!(!out.contains("Väktare 9"), "{out}");
    assert!(out.contains("groups: MEDAKUT → AKUTMED 30"), "{out}");
    assert!(!out.contains("(none) → MEDAKUT 5"), "under 10 users: {out}");
    let json = env.roster(&["diff", "--format", "json"]).ok().json();
    let top = &json["top_changes"];
    assert_eq!(
        top["title"][0],
        serde_json::json!({"old": "Undersköterska", "new": "Vårdare", "users": 60})
    );
    assert_eq!(top["title"].as_array().unwrap().len(), 3);
    assert_eq!(
        top["groups"],
        serde_json::json!([{"old": "MEDAKUT", "new": "AKUTMED", "users": 30}])
    );
    // The plan inside apply's JSON has them too.
    let applied = env
        .roster(&["apply", "--allow-updates", "200", "--format", "json"])
        .ok()
        .json();
    assert_eq!(applied["plan"]["top_changes"], *top);
}

// ---- [columns] ignore --------------------------------------------------------------------

#[test]
fn ignored_columns_are_read_and_dropped_without_a_warning() {
    let env = Env::new();
    let csv = "UniqueID,Name,Mail,Kostnadsställe,Anställningsform,Skostorlek\n\
               E1,Anna Berg,anna@example.se,4711,Tills vidare,38\n";
    let file = env.write("hr.csv", csv);
    let file = file.to_str().unwrap();
    let config = "[columns]\nignore = [\"Kostnadsställe\", \"anställningsform\"]\n";
    env.write("roster.toml", config);
    let json = env
        .roster(&["validate", file, "--format", "json"])
        .ok()
        .json();
    let columns: Vec<&str> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "unknown-column")
        .map(|p| p["column"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["Skostorlek"], "{json}");
    // The import takes the rest as before.
    let run = env
        .roster(&["sync", "--source", file, "--format", "json"])
        .ok();
    assert_eq!(run.json()["counts"]["create"], 1, "{}", run.stdout);
    // Not a list, or an empty header: a configuration error naming the key.
    for bad in [
        "[columns]\nignore = \"Kostnadsställe\"\n",
        "[columns]\nignore = [\" \"]\n",
    ] {
        env.write("roster.toml", bad);
        let run = env.roster(&["validate", file]).code(2);
        assert!(run.stderr.contains("columns.ignore"), "{}", run.stderr);
    }
}

// ---- report attachments ------------------------------------------------------------------

#[test]
fn report_attachments_start_with_a_bom_and_use_the_configured_delimiter() {
    use support::mail::parse_mail;
    use support::servers::Smtp;
    for (delimiter, want) in [(None, ","), (Some(";"), ";")] {
        let env = Env::new();
        let smtp = Smtp::start(env.dir.path(), None);
        let mut config = format!(
            "[mail]\nsmtp_url = \"smtp://127.0.0.1:{}\"\ntls = \"none\"\nfrom = \"roster@example.se\"\n\n\
             [report]\nrecipients = [\"oncall@example.se\"]\n",
            smtp.port
        );
        if let Some(d) = delimiter {
            writeln!(config, "csv_delimiter = \"{d}\"").unwrap();
        }
        env.write("roster.toml", &config);
        // A name with the delimiter in it, and one a spreadsheet would run as a formula.
        let mut csv = String::from("UniqueID,Name,Mail\n");
        for i in 0..150 {
            let name = match i {
                7 => "=HYPERLINK(\"\"x\"\")".to_string(),
                _ => format!("Söderberg; Märta, Nr{i}"),
            };
            writeln!(csv, "E{i:03},\"{name}\",p{i}@example.se").unwrap();
        }
        env.import("1.csv", &csv, &[]).ok();
        env.roster(&["report", "--since", "24h", "--send"]).ok();
        let got = smtp.messages();
        let mail = parse_mail(&env, &got[0].1);
        let (name, rows) = mail["attachments"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(name, _)| name.contains("joined"))
            .map(|(n, r)| (n.clone(), r.as_array().unwrap().clone()))
            .expect("the joined users as CSV");
        assert_eq!(mail["attachment_bom"][&name], true, "{delimiter:?}");
        assert_eq!(mail["attachment_delimiter"][&name], want, "{delimiter:?}");
        assert_eq!(rows.len(), 151);
        assert_eq!(rows[0][0], "UniqueID");
        let row = |id: &str| rows.iter().find(|r| r[0] == id).unwrap()[1].clone();
        assert_eq!(row("E001"), "Söderberg; Märta, Nr1");
        // A formula stays text.
        assert_eq!(row("E007"), "'=HYPERLINK(\"x\")");
    }
    // Only "," and ";".
    let env = Env::new();
    env.write("roster.toml", "[report]\ncsv_delimiter = \"|\"\n");
    let run = env.roster(&["status"]).code(2);
    assert!(
        run.stderr.contains("report.csv_delimiter"),
        "{}",
        run.stderr
    );
}

// ---- the invitation estimate -------------------------------------------------------------

#[test]
fn a_plan_that_invites_says_how_long_the_invitations_take() {
    let env = Env::new();
    env.write(
        "roster.toml",
        "[import]\nsend_invitations = true\n\n[mail]\nsmtp_url = \"smtp://127.0.0.1:9\"\n\
         tls = \"none\"\nfrom = \"roster@example.se\"\nmax_per_minute = 60\n",
    );
    let mut csv = String::from("UniqueID,Name,Mail\n");
    for i in 0..1990 {
        writeln!(csv, "E{i:05},Person {i},p{i}@example.se").unwrap();
    }
    fetch(&env, "1.csv", &csv);
    let out = env.roster(&["diff"]).ok().stdout;
    assert!(
        out.contains("1,990 invitations, about 33 min at 60 a minute"),
        "{out}"
    );
    let out = env.roster(&["apply", "--dry-run"]).ok().stdout;
    assert!(
        out.contains("1,990 invitations, about 33 min at 60 a minute"),
        "{out}"
    );
    let json = env.roster(&["diff", "--format", "json"]).ok().json();
    assert_eq!(json["invitations"], 1990);
    assert_eq!(json["invitations_per_minute"], 60);
    assert_eq!(json["invitations_minutes"], 33);
    let json = env
        .roster(&["apply", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(json["plan"]["invitations_minutes"], 33);
    // 19,990 at 60 a minute: the example of the SPEC.
    let config = std::fs::read_to_string(env.path("roster.toml")).unwrap();
    for i in 1990..19_990 {
        writeln!(csv, "E{i:05},Person {i},p{i}@example.se").unwrap();
    }
    fetch(&env, "2.csv", &csv);
    let out = env.roster(&["diff"]).ok().stdout;
    assert!(
        out.contains("19,990 invitations, about 5 h 33 min at 60 a minute"),
        "{out}"
    );
    // Without a limit: how many, no time.
    env.write("roster.toml", config.replace("max_per_minute = 60\n", ""));
    let out = env.roster(&["diff"]).ok().stdout;
    assert!(out.contains("invitations: 19,990 will be sent"), "{out}");
    assert!(!out.contains("a minute"), "{out}");
}

// ---- revert --dry-run --------------------------------------------------------------------

#[test]
fn revert_dry_run_shows_one_row_per_user_with_the_name() {
    let env = Env::new();
    let mut day1 = String::from("UniqueID,Name,Mail,Title\n");
    for i in 0..6 {
        writeln!(day1, "E{i},Märta Nr{i},p{i}@example.se,Nurse").unwrap();
    }
    env.import("1.csv", &day1, &[]).ok();
    // Day 2: two leave, two get a new title.
    let mut day2 = String::from("UniqueID,Name,Mail,Title\n");
    for i in 0..4 {
        let title = if i < 2 { "Head nurse" } else { "Nurse" };
        writeln!(day2, "E{i},Märta Nr{i},p{i}@example.se,{title}").unwrap();
    }
    let run = env
        .import(
            "2.csv",
            &day2,
            &["--allow-removals", "2", "--allow-updates", "2"],
        )
        .ok()
        .json()["run"]
        .as_i64()
        .unwrap()
        .to_string();
    let out = env
        .roster(&["revert", &run, "--dry-run", "--allow-updates", "4"])
        .ok()
        .stdout;
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("| update") || l.starts_with("| reactivate"))
        .collect();
    assert_eq!(rows.len(), 4, "one row per user:\n{out}");
    for i in 0..2 {
        let row = rows
            .iter()
            .find(|r| r.contains(&format!("| E{i} ")))
            .unwrap();
        assert!(row.contains(&format!("Märta Nr{i}")), "{row}");
        assert!(row.contains("title: Head nurse → Nurse"), "{row}");
    }
    for i in 4..6 {
        let row = rows
            .iter()
            .find(|r| r.contains(&format!("| E{i} ")))
            .unwrap();
        assert!(row.contains(&format!("Märta Nr{i}")), "{row}");
        assert!(row.contains("status: deactivated → active"), "{row}");
    }
    assert!(!out.contains("missing_count"), "{out}");
}

/// A revert of a night whose every change was changed again since: its conflicts are listed
/// as its changes are, at most 50 rows, then `… and N more` naming a command that runs and
/// has every one (JSON); it printed one row per conflict, 20,000 lines at 20,000 users.
#[test]
fn revert_lists_at_most_50_conflicts_then_how_many_more() {
    let env = Env::new();
    let day = |title: &str| {
        let mut csv = String::from("UniqueID,Name,Mail,Title\n");
        for i in 0..120 {
            writeln!(csv, "E{i},Märta Nr{i},p{i}@example.se,{title}").unwrap();
        }
        csv
    };
    env.import("1.csv", &day("Nurse"), &[]).ok();
    let run = env
        .import("2.csv", &day("Carer"), &["--allow-updates", "120"])
        .ok()
        .json()["run"]
        .to_string();
    env.import("3.csv", &day("Head carer"), &["--allow-updates", "120"])
        .ok();
    let out = env.roster(&["revert", &run, "--dry-run"]).ok().stdout;
    assert!(out.contains("120 field(s) changed since"), "{out}");
    let rows = out.lines().filter(|l| l.starts_with("| E")).count();
    assert_eq!(rows, 50, "{out}");
    let more = format!("… and 70 more (roster revert {run} --dry-run --format json)");
    assert!(out.contains(&more), "{out}");
    let json = env
        .roster(&["revert", &run, "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(json["conflicts"].as_array().unwrap().len(), 120);
    assert_fits("revert --dry-run", &out);
}

// ---- the example configuration -----------------------------------------------------------

/// The fields a struct that derives `Deserialize` reads, as it names them to a deserializer.
fn fields_of<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{Error as _, Visitor};
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Probe<'_> {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Self::Error::custom("probe"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(Self::Error::custom("probe"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// `section.key` for every key in the file, commented out or not, and every `[section]`.
fn keys_in(example: &str) -> std::collections::BTreeSet<String> {
    let mut keys = std::collections::BTreeSet::new();
    let mut section = String::new();
    for line in example.lines() {
        let line = line.trim_start_matches(['#', ' ']);
        if let Some(rest) = line.strip_prefix('[') {
            if let Some(end) = rest.find(']') {
                section = rest[..end].to_string();
                keys.insert(section.clone());
                continue;
            }
        }
        let Some((key, _)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            keys.insert(format!("{section}.{key}"));
        }
    }
    keys
}

#[test]
fn the_example_config_names_every_key_the_program_accepts() {
    use roster::config::{
        Config, CsvConfig, GroupsConfig, ImportConfig, InvitationsConfig, MailConfig, ReportConfig,
        ScimConfig, SourceConfig, StoreConfig,
    };
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/roster.toml"),
    )
    .unwrap();
    let found = keys_in(&example);
    let sections: Vec<(&str, &[&str])> = vec![
        ("store", fields_of::<StoreConfig>()),
        ("source", fields_of::<SourceConfig>()),
        ("csv", fields_of::<CsvConfig>()),
        ("groups", fields_of::<GroupsConfig>()),
        ("import", fields_of::<ImportConfig>()),
        ("mail", fields_of::<MailConfig>()),
        ("invitations", fields_of::<InvitationsConfig>()),
        ("report", fields_of::<ReportConfig>()),
        ("scim", fields_of::<ScimConfig>()),
    ];
    // Every section of the configuration is one of these (and `[columns]`, read by hand).
    let mut top: Vec<&str> = sections.iter().map(|(s, _)| *s).collect();
    top.push("columns");
    top.sort_unstable();
    let mut all = fields_of::<Config>().to_vec();
    all.sort_unstable();
    assert_eq!(top, all, "a section of Config is not checked here");
    let mut missing = Vec::new();
    for (section, fields) in &sections {
        assert!(!fields.is_empty(), "{section}: no fields read");
        let named = |key: &str| {
            found.contains(key) || found.iter().any(|k| k.starts_with(&format!("{key}.")))
        };
        if !named(section) {
            missing.push(section.to_string());
        }
        for field in *fields {
            let key = format!("{section}.{field}");
            // `scim.token` is read only to be refused by name (a secret never goes in the file).
            if key != "scim.token" && !named(&key) {
                missing.push(key);
            }
        }
    }
    for key in ["columns", "columns.ignore"] {
        if !found.contains(key) {
            missing.push(key.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "examples/roster.toml does not name: {missing:?}"
    );
    // And the example is itself a valid configuration.
    let env = Env::new();
    env.write("roster.toml", &example);
    env.roster(&["users", "list"]).ok();
}

// ---- source.wait_for = "new" -------------------------------------------------------------

/// A roster whose source is a local file, waited for as `wait_for = "new"` for `wait` seconds,
/// with yesterday's file applied.
fn waiting_night(wait: u32) -> (Env, std::path::PathBuf) {
    let env = Env::new();
    let remote = env.write(
        "incoming/users.csv",
        "UniqueID,Name,Mail\nE1,Anna,anna@example.se\n",
    );
    env.write(
        "roster.toml",
        format!(
            "[source]\nurl = \"{}\"\nwait_secs = {wait}\nwait_for = \"new\"\n\n\
             [store]\nlock_wait_secs = 3\n",
            remote.display()
        ),
    );
    env.roster(&["sync"]).ok();
    (env, remote)
}

#[test]
fn a_waiting_sync_lets_edits_through_refuses_runs_and_imports_the_new_file() {
    let (env, remote) = waiting_night(30);
    let started = std::time::Instant::now();
    let sync = env
        .command(&["sync", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Until the sync holds the run lock (its PID written in the lock file).
    let pid = sync.id().to_string();
    let run_lock = env.path("data/roster.db.run.lock");
    while std::fs::read_to_string(&run_lock).map_or(true, |t| t.trim() != pid) {
        assert!(started.elapsed().as_secs() < 10, "the sync never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    // Edits go ahead at once (lock_wait_secs is 3: they do not wait for the sync).
    let edit = std::time::Instant::now();
    env.roster(&["users", "add", "--name", "Bo Ek", "--mail", "bo@example.se"])
        .ok();
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    assert!(edit.elapsed().as_secs() < 3, "{:?}", edit.elapsed());
    // A second run exits 5 at once, naming the waiting sync.
    for args in [&["sync"][..], &["apply"], &["fetch"]] {
        let run = env.roster(args).code(5);
        assert!(run.stderr.contains(&pid), "{args:?}: {}", run.stderr);
    }
    let status = env.roster(&["status", "--format", "json"]).json();
    assert!(status.to_string().contains(&pid), "{status}");
    // The new file arrives: the sync takes it.
    std::fs::write(
        &remote,
        "UniqueID,Name,Mail,Groups\nE1,Anna,anna@example.se,\nE2,Cy,cy@example.se,ICU\n",
    )
    .unwrap();
    let out = sync.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed().as_secs() < 25, "{:?}", started.elapsed());
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["status"], "applied", "{json}");
    assert_eq!(json["counts"]["create"], 1, "{json}");
    let users = env.users_json();
    assert_eq!(
        users.len(),
        3,
        "the edit made while it waited is kept: {users:?}"
    );
    assert_eq!(env.user("E2")["groups"], serde_json::json!(["ICU"]));
}

#[test]
fn without_a_new_file_the_wait_runs_out_into_an_unchanged_night() {
    let (env, remote) = waiting_night(3);
    // Touched, not changed: read again, still yesterday's content.
    support::touch(&remote, 0);
    let started = std::time::Instant::now();
    let run = env.roster(&["sync", "--format", "json"]).ok();
    assert!(started.elapsed().as_secs() >= 3, "{:?}", started.elapsed());
    assert_eq!(run.json()["status"], "unchanged", "{}", run.stdout);
    assert!(
        run.stderr.contains("waiting for a new file"),
        "{}",
        run.stderr
    );
    // With wait_for = "file" (the default) the same night ends at once.
    let config = std::fs::read_to_string(env.path("roster.toml")).unwrap();
    env.write("roster.toml", config.replace("wait_for = \"new\"\n", ""));
    let started = std::time::Instant::now();
    let run = env.roster(&["sync", "--format", "json"]).ok();
    assert!(started.elapsed().as_secs() < 3, "{:?}", started.elapsed());
    assert_eq!(run.json()["status"], "unchanged");
    // A missing file is waited for, then fails the night as it always did.
    env.write("roster.toml", &config);
    std::fs::remove_file(&remote).unwrap();
    let run = env.roster(&["sync"]).code(1);
    assert!(run.stderr.contains("users.csv"), "{}", run.stderr);
}

/// The candidates of a name several users share are listed one a line, each with its UniqueID
/// and mail: not one line with `\n` written out.
#[test]
fn the_candidates_of_a_shared_name_are_listed_one_a_line() {
    let env = Env::new();
    people(&env);
    for cmd in ["show", "history"] {
        let run = env.roster(&["users", cmd, "  ANNA   Berg "]).code(2);
        assert!(!run.stderr.contains("\\n"), "{cmd}: {}", run.stderr);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 3, "{cmd}: {}", run.stderr);
        assert!(
            lines[0].starts_with("roster: 2 users are named"),
            "{}",
            run.stderr
        );
        assert!(
            lines[1].contains("E3") && lines[2].contains("E4"),
            "{}",
            run.stderr
        );
        assert!(
            lines[1..].iter().all(|l| l.contains("@example.se")),
            "{}",
            run.stderr
        );
    }
}

/// A new local file of the same size whose mtime falls in the same second as yesterday's is
/// still a new file: the waiting sync takes it at once, not when the wait runs out.
#[test]
fn a_waiting_sync_sees_a_new_file_of_the_same_size_and_second() {
    let set_mtime = |path: &std::path::Path, nanos: u32| {
        let at = std::time::UNIX_EPOCH + std::time::Duration::new(1_800_000_000, nanos);
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(at)
            .unwrap();
    };
    let env = Env::new();
    let remote = env.write(
        "incoming/users.csv",
        "UniqueID,Name,Mail\nE1,Anna,anna@example.se\n",
    );
    set_mtime(&remote, 100_000_000);
    env.write(
        "roster.toml",
        format!(
            "[source]\nurl = \"{}\"\nwait_secs = 20\nwait_for = \"new\"\n\n\
             [import]\nmax_updates = \"100%\"\n",
            remote.display()
        ),
    );
    env.roster(&["sync"]).ok();
    let started = std::time::Instant::now();
    let sync = env
        .command(&["sync", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    std::fs::write(&remote, "UniqueID,Name,Mail\nE1,Anne,anna@example.se\n").unwrap();
    set_mtime(&remote, 900_000_000);
    let out = sync.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        started.elapsed().as_secs() < 10,
        "{:?}: {stdout}",
        started.elapsed()
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["counts"]["update"], 1, "{json}");
}

/// The "… and N more" of a search names the command that lists every match: the search and
/// the filters kept (not every user), quoted for a shell.
#[test]
fn more_names_the_search_it_cuts() {
    let env = Env::new();
    people(&env);
    let out = env
        .roster(&["users", "list", "--search", "Person 1", "--limit", "5"])
        .ok()
        .stdout;
    assert!(
        out.contains(
            "… and 35 more (roster users list --search 'Person 1' --all, or --format json)"
        ),
        "{out}"
    );
    let out = env
        .roster(&[
            "users", "list", "--status", "active", "--group", "ICU", "--limit", "1",
        ])
        .ok()
        .stdout;
    assert!(
        out.contains("(roster users list --status active --group ICU --all, or --format json)"),
        "{out}"
    );
}

/// Beyond the 20 candidates a shared name lists, the line that counts the rest names a search
/// that runs and lists every one of them (not `--search` without its text, a usage error).
#[test]
fn the_candidates_beyond_twenty_name_a_search_that_runs() {
    let env = Env::new();
    let mut csv = String::from("UniqueID,Name,Mail\n");
    for i in 0..23 {
        writeln!(csv, "N{i:02},Åke  O'Nüñez,ake{i}@example.org").unwrap();
    }
    writeln!(csv, "N99,Other Person,other@example.org").unwrap();
    env.import("1.csv", &csv, &[]).ok();
    for cmd in ["show", "history"] {
        let run = env.roster(&["users", cmd, "  ake   o'nuñez "]).code(2);
        let last = run.stderr.lines().last().unwrap();
        assert_eq!(
            last, "  … and 3 more (roster users list --search 'ake o'\\''nuñez' --all)",
            "{cmd}: {}",
            run.stderr
        );
    }
    // What the line names, as a shell passes it on: every candidate.
    let json = env
        .roster(&[
            "users",
            "list",
            "--search",
            "ake o'nuñez",
            "--all",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(json.as_array().unwrap().len(), 23, "{json}");
}

/// The words a shell makes of a command that roster printed, `roster` itself left out: what
/// an operator who pastes it runs.
fn pasted(command: &str) -> Vec<String> {
    let script = format!("set -- {command}; shift; for a; do printf '%s\\0' \"$a\"; done");
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{command}");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_terminator('\0')
        .map(str::to_string)
        .collect()
}

/// The command inside `(… --all, or --format json)` or `(… --all)` of a `… and N more` line.
fn more_command(out: &str) -> String {
    let line = out.lines().find(|l| l.contains(" more (roster ")).unwrap();
    let from = line.find("(roster ").unwrap() + 1;
    let to = line.find(" --all").unwrap() + " --all".len();
    line[from..to].to_string()
}

/// A search or a group that starts with `-` (a hyphenated surname, a group named `-Natt`) is
/// given as `--search=-…`; the `… and N more` line names a command that runs as pasted and
/// lists every match, not `--search -…`, which the shell passes as an unknown option (exit 2).
#[test]
fn more_names_a_command_that_runs_when_the_search_starts_with_a_dash() {
    let env = Env::new();
    let mut csv = String::from("UniqueID,Name,Mail\n");
    for i in 0..3 {
        writeln!(csv, "D{i},Anna Berg-Lund,d{i}@example.org").unwrap();
    }
    writeln!(csv, "D9,Other Person,other@example.org").unwrap();
    env.import("1.csv", &csv, &[]).ok();
    env.roster(&["groups", "add", "--name=-Natt"]).ok();
    for id in ["D0", "D1", "D2"] {
        env.roster(&["groups", "members", "--add", id, "--", "-Natt"])
            .ok();
    }
    for filter in ["--search=-lund", "--group=-Natt"] {
        let out = env
            .roster(&["users", "list", filter, "--limit", "1"])
            .ok()
            .stdout;
        let words = pasted(&more_command(&out));
        let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
        args.extend(["--format", "json"]);
        let json = env.roster(&args).ok().json();
        assert_eq!(json.as_array().unwrap().len(), 3, "{filter}: {args:?}");
    }
    // The candidates of a shared name that starts with `-`.
    let mut csv = String::from("UniqueID,Name,Mail\n");
    for i in 0..23 {
        writeln!(csv, "N{i:02},-Ann,ann{i}@example.org").unwrap();
    }
    env.import("2.csv", &csv, &["--allow-removals", "10"]).ok();
    let run = env.roster(&["users", "show", "--", "-ann"]).code(2);
    let words = pasted(&more_command(&run.stderr));
    let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
    args.extend(["--format", "json"]);
    let json = env.roster(&args).ok().json();
    assert_eq!(json.as_array().unwrap().len(), 23, "{args:?}");
}

/// A file named `-x.csv` (given as `--source=-x.csv` or after `--`): the commands that a
/// dry run and `validate` name for it run as pasted, reading that file, rather than taking
/// its name for an unknown option (exit 2).
#[test]
fn commands_named_for_a_file_that_starts_with_a_dash_run() {
    let env = Env::new();
    let mut csv = String::from("UniqueID,Name,Mail\n");
    for i in 0..60 {
        writeln!(csv, "X{i},N {i},x{i}@example.org").unwrap();
    }
    for i in 0..4 {
        writeln!(csv, "B{i},Bad {i},bad").unwrap();
    }
    env.write("-day.csv", &csv);
    let runs = |command: &str, extra: &[&str]| {
        let words = pasted(command);
        let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
        args.extend(extra);
        let run = env.command(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr).to_string();
        assert_ne!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("unexpected argument"),
            "{args:?}: {stderr}"
        );
    };
    let out = env
        .roster(&["validate", "--limit", "1", "--", "-day.csv"])
        .code(3)
        .stdout;
    runs(&more_command(&out), &[]);
    let out = env
        .roster(&["sync", "--dry-run", "--source=-day.csv", "--limit", "1"])
        .stdout;
    runs(&more_command(&out), &[]);
    let json = env
        .roster(&["sync", "--dry-run", "--source=-day.csv", "--format", "json"])
        .json();
    let command = json["would_block"]["command"].as_str().unwrap();
    runs(command, &["--dry-run"]);
}

/// `batches list` is short (short SHA-256, the file name, times to the minute) because `batches
/// show N` has the full values: the whole SHA-256 to compare with the server's, the fetch time
/// to the second, the source; within 100 columns. It cut the SHA-256 to 24 characters.
#[test]
fn batches_show_has_the_whole_sha256_and_time_within_100_columns() {
    let env = Env::new();
    let name = format!("{}.csv", "hr-export-lång-".repeat(3));
    let file = env.write(&name, "UniqueID,Name,Mail\nE1,Anna,anna@example.org\n");
    env.roster(&["fetch", "--source", file.to_str().unwrap()])
        .ok();
    let json = env
        .roster(&["batches", "show", "1", "--format", "json"])
        .ok()
        .json();
    let out = env.roster(&["batches", "show", "1"]).ok().stdout;
    assert_fits("batches show", &out);
    for key in ["sha256", "fetched_at"] {
        let full = json[key].as_str().unwrap();
        assert!(out.contains(full), "{key} {full}:\n{out}");
    }
    assert!(out.contains(&name), "{out}");
}

/// `ß` is `SS` in upper case (`STRAUSS` is how `Strauß` is written in capitals): a search and
/// a lookup by name that ignore case find one by the other.
#[test]
fn a_search_ignores_the_case_of_sharp_s() {
    let env = Env::new();
    let csv = "UniqueID,Name,Mail,Title\nG1,Jörg Strauß,jorg@example.de,Straßenbau\nG2,Eva Berg,eva@example.de,T\n";
    env.import("1.csv", csv, &[]).ok();
    for text in ["STRAUSS", "strauss", "Strauß", "STRAẞ", "strassenbau"] {
        let json = env
            .roster(&["users", "list", "--search", text, "--format", "json"])
            .ok()
            .json();
        assert_eq!(ids(&json), ["G1"], "{text}");
    }
    let json = env
        .roster(&["users", "show", "JÖRG STRAUSS", "--format", "json"])
        .ok()
        .json();
    assert_eq!(json["unique_id"], "G1");
}

/// A dry run of a file with more kinds of warnings than its summary names: the command it names
/// for the rest lists them. It named `roster validate FILE`, which checks no Group ID against
/// the store (0 warnings) when the rest are unknown groups.
#[test]
fn a_dry_run_names_a_command_that_lists_the_unknown_groups_it_leaves_out() {
    let env = Env::new();
    groups(&env, &["ICU"]);
    let mut csv = String::from("UniqueID,Name,Mail,Groups\n");
    for i in 0..14 {
        writeln!(csv, "E{i},N {i},n{i}@example.org,\"ICU,GONE{i:02}\"").unwrap();
    }
    // A short path: the command in the line; a long one: on lines of its own, whole.
    let long = format!("{}/new.csv", "a-folder-with-a-long-name".repeat(4));
    std::fs::create_dir_all(env.path(&long).parent().unwrap()).unwrap();
    for file in ["new.csv", long.as_str()] {
        env.write(file, &csv);
        let out = env
            .roster(&["sync", "--dry-run", "--source", file])
            .ok()
            .stdout;
        let mut lines = out.lines().skip_while(|l| !l.contains("more kinds"));
        let line = lines.next().unwrap();
        let command = match line.find("(roster ") {
            Some(from) => line[from + 1..line.len() - 1].to_string(),
            None => lines
                .take_while(|l| l.starts_with("  "))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        let words = pasted(&command);
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let run = env.roster(&args);
        for id in ["GONE12", "GONE13"] {
            assert!(run.stdout.contains(id), "{command}:\n{}", run.stdout);
        }
    }
}

// ---- printed commands run as printed, on the store they came from -------------------------

/// Run `command` as an operator pastes it into the shell the command that printed it ran in:
/// `roster` on the PATH, the same folder and environment (its `ROSTER_STORE` is the test's
/// default store, not the one the command was pointed at).
fn paste(env: &Env, command: &str) -> support::Run {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_roster"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = std::process::Command::new("sh")
        .args(["-c", command])
        .current_dir(env.dir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", env.dir.path())
        .env("ROSTER_STORE", env.store())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    support::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The command after the last `run: ` of a message, to its end.
fn after_run(text: &str) -> String {
    let at = text
        .rfind("run: ")
        .unwrap_or_else(|| panic!("no 'run: ' in {text}"));
    text[at + "run: ".len()..].trim_end().to_string()
}

fn nights(n: usize, column: &str, title: &str) -> String {
    let mut csv = format!("UniqueID,Name,Mail,{column}\n");
    for i in 0..n {
        writeln!(csv, "P{i},Person {i},p{i}@example.org,{title}").unwrap();
    }
    csv
}

/// A command run with `--store FILE` or `--config FILE` prints commands that carry that
/// option: pasted in the same shell they act on that store with that configuration, not on
/// `$ROSTER_STORE`'s (`there is no batch 2`, exit 2) or without the file's `[columns]` (another
/// plan: `--expect-plan` refuses it, exit 4).
#[test]
fn printed_commands_carry_the_config_and_store_they_were_given() {
    let env = Env::new();
    let config = env.write("org a/org.toml", "[columns]\nTitle = \"Befattning\"\n");
    let store = env.path("other's store.db");
    for (global, column) in [
        (["--store", store.to_str().unwrap()], "Title"),
        (["--config", config.to_str().unwrap()], "Befattning"),
    ] {
        let day1 = env.write("day1.csv", nights(60, column, "Nurse"));
        let day2 = env.write("day2.csv", nights(60, column, "Doctor"));
        let with = |args: &[&str]| {
            let mut all: Vec<&str> = global.to_vec();
            all.extend(args);
            env.roster(&all)
        };
        with(&["sync", "--source", day1.to_str().unwrap()]).ok();
        // A blocked night names the command that applies it.
        let run = with(&["sync", "--source", day2.to_str().unwrap()]).code(4);
        paste(&env, &after_run(&run.stderr)).ok();
        let batches = with(&["batches", "list", "--format", "json"]).ok().json();
        assert_eq!(batches[1]["status"], "applied", "{global:?}: {batches}");
        // `… and N more (…)` of users list.
        let out = with(&["users", "list", "--limit", "1"]).ok().stdout;
        let json = paste(&env, &format!("{} --format json", more_command(&out)))
            .ok()
            .json();
        assert_eq!(json.as_array().unwrap().len(), 60, "{global:?}");
        // An error's `see …`.
        let run = with(&["batches", "show", "99"]).code(2);
        let see = run.stderr.rsplit("see ").next().unwrap().trim().to_string();
        let out = paste(&env, &see).ok().stdout;
        assert!(out.contains("day2.csv"), "{global:?}: {see}: {out}");
        let p1 = with(&["users", "show", "P1", "--format", "json"])
            .ok()
            .json();
        assert_eq!(p1["title"], "Doctor", "{global:?}");
        if global[0] == "--store" {
            assert!(!env.store().exists(), "$ROSTER_STORE's store was written");
        }
    }
}

/// `validate`'s summary line counts rows, errors and warnings with thousands separators, as
/// every other count roster prints: it said `2960 rows, 1100 errors`.
#[test]
fn validate_counts_rows_and_problems_with_thousands_separators() {
    let env = Env::new();
    let mut csv = String::from("UniqueID,Name,Mail\n");
    for i in 0..2960 {
        let mail = if i < 1100 {
            "bad".to_string()
        } else {
            format!("v{i}@example.org")
        };
        writeln!(csv, "V{i},Person {i},{mail}").unwrap();
    }
    let file = env.write("big.csv", &csv);
    let out = env
        .roster(&["validate", file.to_str().unwrap()])
        .code(3)
        .stdout;
    assert!(
        out.contains("2,960 rows, 1,100 errors, 0 warnings"),
        "{out}"
    );
}

/// After an applied revert (`-v`), the `… and N more (…)` lines under its users and its
/// conflicts name commands that run and list every one: it named `roster revert --format json`,
/// which has no RUN (exit 2).
#[test]
fn an_applied_reverts_more_lines_name_commands_that_run() {
    let env = Env::new();
    env.import("1.csv", &nights(130, "Title", "Nurse"), &[])
        .ok();
    env.import(
        "2.csv",
        &nights(130, "Title", "Doctor"),
        &["--allow-updates", "130"],
    )
    .ok();
    // 60 of them changed again since: conflicts the revert leaves alone.
    let csv = nights(130, "Title", "Doctor").replacen("Doctor", "Surgeon", 60);
    env.import("3.csv", &csv, &["--allow-updates", "130"]).ok();
    let out = env
        .roster(&["-v", "revert", "2", "--allow-updates", "130"])
        .ok()
        .stdout;
    let mores: Vec<&str> = out.lines().filter(|l| l.contains(" more (")).collect();
    assert_eq!(mores.len(), 2, "{out}");
    let every = |line: &str| {
        let command = &line[line.find('(').unwrap() + 1..line.find(" lists every one").unwrap()];
        paste(&env, command).json()
    };
    let run = every(mores[1]);
    let conflicts = run["runs"][0]["detail"]["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 60, "{run}");
    let users = every(mores[0]);
    assert!(
        users["plan"]["changes"].as_array().unwrap().len() > 50,
        "{users}"
    );
}

/// `status` after a first load of 1,200 users that waits to be pushed: the pending changes are
/// counted with thousands separators in its table (`attention`) and in its
/// unhealthy reason, as every other count; it said `1200 changes waiting`.
#[test]
fn status_counts_the_changes_waiting_to_be_pushed_with_separators() {
    let env = Env::new();
    env.write("scim.token", "t0k3n-morning-4b1d\n");
    env.write(
        "roster.toml",
        "[scim]\nurl = \"http://127.0.0.1:9/scim/v2\"\ntls = \"none\"\n\
         token_file = \"scim.token\"\nmax_pending_minutes = 1\n",
    );
    let run = env
        .import("1.csv", &nights(1200, "Title", "Nurse"), &[])
        .ok()
        .json()["run"]
        .as_i64()
        .unwrap();
    env.db()
        .execute(
            "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-2 hours')
              WHERE id = ?1",
            [run],
        )
        .unwrap();
    let out = env.roster(&["status"]).code(1).stdout;
    assert!(!out.contains("1200"), "{out}");
    assert!(out.contains("1,200 changes waiting"), "{out}");
    assert!(out.contains("1,200 change(s) have waited"), "{out}");
}

/// `groups remove` of a group with members names the command that removes it anyway; for a
/// group named `-Natt` that command ran as `groups remove -Natt --force`, which the shell
/// passes as an unknown option (exit 2). Pasted, it removes the group.
#[test]
fn the_command_that_removes_a_group_named_with_a_dash_runs() {
    let env = Env::new();
    env.import("1.csv", &nights(3, "Title", "Nurse"), &[]).ok();
    env.roster(&["groups", "add", "--name=-Natt"]).ok();
    env.roster(&["groups", "members", "--add", "P1", "--", "-Natt"])
        .ok();
    let run = env.roster(&["groups", "remove", "--", "-Natt"]).code(2);
    paste(&env, &after_run(&run.stderr)).ok();
    let groups = env
        .roster(&["groups", "list", "--format", "json"])
        .ok()
        .json();
    assert!(!groups.to_string().contains("-Natt"), "{groups}");
}

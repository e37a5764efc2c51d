//! The audit log of created users (issue 31): a created user's history, the revert of the run
//! that created it and the report's joiners read the same whatever shape the store keeps them
//! in; and the store of a first import stays a small multiple of the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use support::Env;

const HEADER: &str = "UniqueID,Name,Mail,Title,TelephoneNumber,SecondaryTelephoneNumber,Groups";

fn file(rows: &[&str]) -> String {
    let mut out = String::from(HEADER);
    for r in rows {
        out.push('\n');
        out.push_str(r);
    }
    out.push('\n');
    out
}

fn setup() -> Env {
    let env = Env::new();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\n",
    );
    for (id, name) in [("ICU", "Intensive care"), ("ER", "Emergency")] {
        env.roster(&["groups", "add", id, "--name", name]).ok();
    }
    env
}

/// Day 1: three users, one with every field (a name with quotes and letters outside ASCII),
/// one bare, one in one group.
const DAY1: [&str; 3] = [
    "E1,\"Öberg, Åsa \"\"Bee\"\"\",asa@example.se,Nurse,+46701234567,+4681234567,\"ER,ICU\"",
    "E2,Bo Bare,bo@example.se,,,,",
    "E3,Cia Lund,cia@example.se,Doctor,+46701234568,,ICU",
];

/// Day 2: E1's title changes, E4 is new between E1 and E3, E3's phone changes, E5 is new last.
const DAY2: [&str; 5] = [
    "E1,\"Öberg, Åsa \"\"Bee\"\"\",asa@example.se,Head nurse,+46701234567,+4681234567,\"ER,ICU\"",
    "E2,Bo Bare,bo@example.se,,,,",
    "E4,Dan Berg,dan@example.se,Porter,,,ER",
    "E3,Cia Lund,cia@example.se,Doctor,+46701239999,,ICU",
    "E5,Eva Nilsson,eva@example.se,,+46701234569,,",
];

/// A history without its times, and the times apart: (run, command, field, old, new).
fn history(env: &Env, user: &str) -> (Vec<Value>, Vec<String>) {
    let rows = env
        .roster(&["users", "history", user, "--format", "json"])
        .ok()
        .json();
    let mut at = Vec::new();
    let rows = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            at.push(h["at"].as_str().unwrap().to_string());
            serde_json::json!([h["run"], h["command"], h["field"], h["old"], h["new"]])
        })
        .collect();
    (rows, at)
}

fn run_id(run: &Value) -> i64 {
    run["run"]
        .as_i64()
        .or_else(|| run["run_id"].as_i64())
        .or_else(|| run["id"].as_i64())
        .unwrap_or_else(|| panic!("no run id in {run:#}"))
}

#[test]
fn a_created_users_history_and_its_reverts_read_as_before() {
    let env = setup();
    let day1 = env.import("day1.csv", &file(&DAY1), &[]).ok().json();
    let first = run_id(&day1);
    let day2 = env.import("day2.csv", &file(&DAY2), &[]).ok().json();
    let second = run_id(&day2);

    // A created user's history: its `created` row holds every value it started with, in the
    // order of the fields, then its changes.
    let (rows, at) = history(&env, "E1");
    assert_eq!(
        rows,
        vec![
            serde_json::json!([first, "apply", "created", null,
                "{\"name\":\"Öberg, Åsa \\\"Bee\\\"\",\"mail\":\"asa@example.se\",\"title\":\"Nurse\",\"phone\":\"+46701234567\",\"phone2\":\"+4681234567\",\"groups\":\"ER,ICU\",\"status\":\"active\"}"]),
            serde_json::json!([second, "apply", "title", "Nurse", "Head nurse"]),
        ]
    );
    assert!(
        at.iter().all(|a| a.ends_with('Z') && a.len() == 20),
        "{at:?}"
    );
    let (bare, _) = history(&env, "E2");
    assert_eq!(
        bare,
        vec![serde_json::json!([
            first,
            "apply",
            "created",
            null,
            "{\"name\":\"Bo Bare\",\"mail\":\"bo@example.se\",\"status\":\"active\"}"
        ])]
    );
    let (e4, _) = history(&env, "dan@example.se");
    assert_eq!(
        e4,
        vec![serde_json::json!([second, "apply", "created", null,
            "{\"name\":\"Dan Berg\",\"mail\":\"dan@example.se\",\"title\":\"Porter\",\"groups\":\"ER\",\"status\":\"active\"}"])]
    );
    // The table shows the created row too.
    let table = env.roster(&["users", "history", "E2"]).ok().stdout;
    assert!(table.contains("| created |"), "{table}");

    // The report names the joiners of each run, in the order created.
    let report = env
        .roster(&["report", "--since", "24h", "--format", "json"])
        .ok()
        .stdout;
    for who in ["Dan Berg", "Eva Nilsson", "Bo Bare", "Cia Lund"] {
        assert!(report.contains(who), "{who}: {report}");
    }

    // The revert of day 2 undoes its changes in the order they were made: E1's title, E4
    // created, E3's phone, E5 created.
    let plan = env
        .roster(&[
            "revert",
            &second.to_string(),
            "--dry-run",
            "--format",
            "json",
        ])
        .ok()
        .json();
    let order: Vec<(String, String)> = plan["plan"]["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("{plan:#}"))
        .iter()
        .map(|c| {
            (
                c["unique_id"].as_str().unwrap_or("").to_string(),
                c["action"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let ids: Vec<&str> = order.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["E1", "E4", "E3", "E5"], "{plan:#}");
    env.roster(&["revert", &second.to_string()]).ok();
    assert_eq!(env.user("E4")["status"], "deactivated");
    assert_eq!(env.user("E1")["title"], "Nurse");
    let (e4, _) = history(&env, "E4");
    let fields: Vec<&str> = e4.iter().map(|r| r[2].as_str().unwrap()).collect();
    assert_eq!(fields, ["created", "status"]);

    // The revert of the first import takes back the users it created.
    env.roster(&["revert", &first.to_string(), "--allow-removals", "10"])
        .ok();
    for id in ["E1", "E2", "E3"] {
        assert_eq!(env.user(id)["status"], "deactivated", "{id}");
    }
    let (rows, _) = history(&env, "E2");
    assert_eq!(rows[0][2], "created");
    assert_eq!(rows.last().unwrap()[2], "status");
}

#[test]
fn a_deleted_created_user_keeps_its_history() {
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\nmissing_users = \"delete\"\n",
    );
    let day1 = env.import("day1.csv", &file(&DAY1), &[]).ok().json();
    let first = run_id(&day1);
    env.roster(&["revert", &first.to_string(), "--allow-removals", "10"])
        .ok();
    let (rows, _) = history(&env, "E3");
    let fields: Vec<&str> = rows.iter().map(|r| r[2].as_str().unwrap()).collect();
    assert_eq!(fields.first(), Some(&"created"), "{rows:?}");
    assert!(fields.contains(&"status"), "{rows:?}");
    assert_eq!(
        rows[0][4],
        "{\"name\":\"Cia Lund\",\"mail\":\"cia@example.se\",\"title\":\"Doctor\",\"phone\":\"+46701234568\",\"groups\":\"ICU\",\"status\":\"active\"}"
    );
}

/// A user no longer in the directory is found by the address it had, as by its UniqueID: a
/// deleted user, a user whose address changed since, and every former holder of an address
/// that several users had, each history whole and named. A user who has the address now is
/// found as before.
#[test]
fn a_former_users_history_is_found_by_the_address_it_had() {
    let env = setup();
    env.write(
        "roster.toml",
        "[import]\nmax_updates = \"100%\"\nmax_removals = \"100%\"\nmissing_users = \"delete\"\n",
    );
    env.import("day1.csv", &file(&DAY1), &[]).ok();
    // Day 2: Cia (E3) is deleted, Bo (E2) gets a new address.
    let day2 = [DAY1[0], "E2,Bo Bare,bo.bare@example.se,,,,"];
    env.import("day2.csv", &file(&day2), &[]).ok();
    let (by_id, _) = history(&env, "E3");
    assert_eq!(by_id[0][2], "created", "{by_id:?}");
    let (by_mail, _) = history(&env, "Cia@Example.se");
    assert_eq!(by_mail, by_id);
    // A live user by an address it had: its whole history; by the one it has: the same.
    let (bo, _) = history(&env, "bo@example.se");
    assert_eq!(bo, history(&env, "E2").0);
    assert_eq!(history(&env, "BO.BARE@example.se").0, bo);
    assert_eq!(history(&env, "asa@example.se").0, history(&env, "E1").0);

    // Day 3 gives Cia's address to E6, day 4 deletes E6 too: both had it, each is shown, the
    // one who had it first first.
    let day3 = [DAY1[0], day2[1], "E6,Cia Berg,cia@example.se,,,,"];
    env.import("day3.csv", &file(&day3), &[]).ok();
    env.import("day4.csv", &file(&day2), &[]).ok();
    let (e6, _) = history(&env, "E6");
    let (both, _) = history(&env, "cia@example.se");
    assert_eq!(both, [by_id.clone(), e6].concat());
    let rows = env
        .roster(&["users", "history", "cia@example.se", "--format", "json"])
        .ok()
        .json();
    let ids: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unique_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.iter().take(by_id.len()).all(|id| *id == "E3"),
        "{ids:?}"
    );
    assert!(
        ids.iter().skip(by_id.len()).all(|id| *id == "E6"),
        "{ids:?}"
    );
    let table = env
        .roster(&["users", "history", "cia@example.se"])
        .ok()
        .stdout;
    let (e3_at, e6_at) = (table.find("E3 had"), table.find("E6 had"));
    assert!(e3_at.is_some() && e6_at > e3_at, "{table}");
    assert!(table.contains("no user has it now"), "{table}");

    // An address no user ever had is still an error.
    let run = env
        .roster(&["users", "history", "nobody@example.se"])
        .code(2);
    assert!(run.stderr.contains("nor had"), "{}", run.stderr);
}

/// A file of `n` users as an HR system writes them: names outside ASCII, employee numbers in
/// no order, one to four of 50 groups, a second phone for some.
fn realistic(n: usize) -> String {
    const FIRST: [&str; 8] = [
        "Åsa", "Björn", "Päivi", "Øystein", "Märta", "Lars", "Elin", "Nils",
    ];
    const LAST: [&str; 6] = [
        "Öberg",
        "Lund",
        "Hämäläinen",
        "Johansson",
        "Berg",
        "Jónsson",
    ];
    const TITLES: [&str; 6] = [
        "Nurse",
        "Assistant nurse",
        "Doctor",
        "Porter",
        "Midwife",
        "",
    ];
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let (first, last) = (FIRST[i * 7 % 8], LAST[i * 5 % 6]);
        let groups: Vec<String> = (0..1 + i % 4)
            .map(|k| format!("D{:02}", (i * 13 + k * 17) % 50))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let phone2 = if i % 5 == 0 {
            format!("+4681{:06}", i)
        } else {
            String::new()
        };
        rows.push(format!(
            "{},{first} {last},{}.{}.{i}@example.org,{},+4670{:07},{phone2},\"{}\"",
            1_000_000 + i * 7_919 % 9_000_000,
            first.to_lowercase(),
            last.to_lowercase(),
            TITLES[i % 6],
            i * 37 % 10_000_000,
            groups.join(",")
        ));
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    file(&refs)
}

/// Bytes of each table and index of a store, by SQLite's own count of its pages.
fn sizes(env: &Env) -> Value {
    support::python_json(
        "import sqlite3, sys, json\n\
         c = sqlite3.connect(sys.stdin.read())\n\
         print(json.dumps(dict(c.execute('SELECT name, SUM(pgsize) FROM dbstat GROUP BY name'))))",
        env.store().to_str().unwrap(),
    )
}

/// A first import of `n` realistic users into a store with 50 groups: the store, the file,
/// and the bytes of each table and index.
fn first_import_of(n: usize) -> (Env, String, Value) {
    let env = Env::new();
    let groups: String = std::iter::once("GroupID,Name".to_string())
        .chain((0..50).map(|g| format!("D{g:02},Department {g}")))
        .collect::<Vec<_>>()
        .join("\n");
    env.write("groups.csv", groups + "\n");
    env.roster(&["groups", "import", env.path("groups.csv").to_str().unwrap()])
        .ok();
    let csv = realistic(n);
    env.import("users.csv", &csv, &[]).ok();
    let size = sizes(&env);
    (env, csv, size)
}

/// A first import's log of created users costs about 120 bytes a user (its values, its run
/// and key; 260 when each was a row of the audit log, with its time and two index entries),
/// and the store without the stored file stays under 4.5 times the file (5.6 before).
#[test]
fn a_first_import_keeps_the_store_small() {
    let n = 5_000;
    let (env, csv, size) = first_import_of(n);
    let of =
        |names: &[&str]| -> f64 { names.iter().map(|t| size[t].as_f64().unwrap_or(0.0)).sum() };
    let log = of(&[
        "audit",
        "audit_at",
        "audit_run",
        "audit_created",
        "audit_created_blocks",
    ]) / n as f64;
    assert!(log < 130.0, "{log:.0} bytes a created user: {size}");
    let store = std::fs::metadata(env.store()).unwrap().len() as f64;
    let stored_file = [
        "batch_contents",
        "batch_chunks",
        "sqlite_autoindex_batch_chunks_1",
    ];
    let rest = (store - of(&stored_file)) / csv.len() as f64;
    assert!(
        rest < 4.5,
        "the store without the file is {rest:.2}× the file: {size}"
    );
}

/// The store of a first import (issue 31, migration 17): a user's row holds its mail key only
/// where it is not the address and its `updated_at` only after a change, and the created
/// users' history is kept in compressed blocks. On this file (about 90 bytes a user of text)
/// the row is about 122 bytes a user and the history 17 (178 and 112 before: 290), so the
/// users' table and their history stay under 160 bytes a user; with the key indexes and the
/// stored file the whole store stays under 3 times the file (4.4 before).
#[test]
fn a_first_imports_users_and_their_history_stay_under_160_bytes_a_user() {
    let n = 5_000;
    let (env, csv, size) = first_import_of(n);
    let of =
        |names: &[&str]| -> f64 { names.iter().map(|t| size[t].as_f64().unwrap_or(0.0)).sum() };
    let tables = [
        "users",
        "audit",
        "audit_at",
        "audit_run",
        "audit_created",
        "audit_created_blocks",
    ];
    let per_user = of(&tables) / n as f64;
    assert!(per_user < 160.0, "{per_user:.0} bytes a user: {size}");
    let store = std::fs::metadata(env.store()).unwrap().len() as f64;
    let ratio = store / csv.len() as f64;
    assert!(ratio < 3.0, "the store is {ratio:.2}× the file: {size}");
}

/// Created users past one block of the history (1,024 users a block): each one's `created`
/// row reads back whole in its history (the first and last of a block, the last user), the
/// report lists every joiner, and the revert of the first import takes back every user.
#[test]
fn created_users_over_several_blocks_read_back_and_revert() {
    let env = setup();
    let n = 2_500;
    let csv = realistic(n);
    let groups: String = std::iter::once("GroupID,Name".to_string())
        .chain((0..50).map(|g| format!("D{g:02},Department {g}")))
        .collect::<Vec<_>>()
        .join("\n");
    env.write("groups.csv", groups + "\n");
    env.roster(&["groups", "import", env.path("groups.csv").to_str().unwrap()])
        .ok();
    let run = run_id(&env.import("users.csv", &csv, &[]).ok().json());
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.splitn(7, ',').collect())
        .collect();
    for i in [0, 1, 1_023, 1_024, 2_047, 2_048, n - 1] {
        let (uid, name, mail) = (rows[i][0], rows[i][1], rows[i][2]);
        let (history, _) = history(&env, uid);
        assert_eq!(history.len(), 1, "{uid}: {history:?}");
        assert_eq!(history[0][0], run, "{uid}");
        assert_eq!(history[0][2], "created", "{uid}");
        let new: Value = serde_json::from_str(history[0][4].as_str().unwrap()).unwrap();
        assert_eq!(new["name"], name, "{uid}: {new}");
        assert_eq!(new["mail"], mail, "{uid}: {new}");
        assert_eq!(new["status"], "active", "{uid}: {new}");
        let user = env.user(uid);
        assert_eq!(user["updated_at"], user["created_at"], "{user:#}");
    }
    let report = env
        .roster(&["report", "--since", "24h", "--format", "json"])
        .ok()
        .stdout;
    for i in [0, 1_024, n - 1] {
        assert!(report.contains(rows[i][2]), "{}: {report}", rows[i][2]);
    }
    env.roster(&[
        "revert",
        &run.to_string(),
        "--allow-removals",
        &n.to_string(),
    ])
    .ok();
    for i in [0, 1_023, 1_024, n - 1] {
        assert_eq!(env.user(rows[i][0])["status"], "deactivated", "{i}");
    }
}

//! The import end to end (SPEC §2): several days of files through fetch and apply.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use support::Env;

const HEADER: &str = "UniqueID,Name,Mail,Title,TelephoneNumber,Groups,Skip";

fn row(i: usize, title: &str) -> String {
    let groups = if i.is_multiple_of(2) {
        "ICU,NIGHT"
    } else {
        "ICU"
    };
    format!("E{i:03},Person {i},p{i}@example.se,{title},+4670123{i:04},\"{groups}\",")
}

/// The created users' rows (kept in compressed blocks, issue 31) as the table of one row a
/// user they were before (`temp.audit_created`), for the queries below.
fn created_table(db: &rusqlite::Connection) {
    db.execute_batch(
        "CREATE TEMP TABLE audit_created (run_id, user_pk, seq, unique_id, name, mail, title,
                                          phone, phone2, groups)",
    )
    .unwrap();
    let mut blocks = db
        .prepare("SELECT run_id, content FROM audit_created_blocks")
        .unwrap();
    let blocks: Vec<(i64, Vec<u8>)> = blocks
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (run, content) in blocks {
        for c in roster::store::created::decode(&content).unwrap() {
            db.execute(
                "INSERT INTO temp.audit_created VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                rusqlite::params![
                    run,
                    c.user_pk,
                    c.seq,
                    c.unique_id,
                    c.name,
                    c.mail,
                    c.title,
                    c.phone,
                    c.phone2,
                    c.groups
                ],
            )
            .unwrap();
        }
    }
}

fn file(rows: impl IntoIterator<Item = String>) -> String {
    let mut out = String::from(HEADER);
    for r in rows {
        out.push('\n');
        out.push_str(&r);
    }
    out.push('\n');
    out
}

fn counts(run: &Value) -> [u64; 9] {
    let c = &run["counts"];
    [
        "create",
        "adopt",
        "update",
        "reactivate",
        "remove",
        "missing",
        "unchanged",
        "skipped",
        "invalid",
    ]
    .map(|k| c[k].as_u64().unwrap())
}

/// A trigger that fails the insert of user E015: a write that fails midway through an apply.
const FAIL_AT_E015: &str = "CREATE TRIGGER fail BEFORE INSERT ON users WHEN NEW.unique_id = 'E015' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;";

/// What an apply may change: users, groups, memberships, the audit log and the outbox.
fn directory(env: &Env) -> [String; 5] {
    ["users", "groups", "memberships", "audit", "outbox"].map(|t| env.snapshot(t))
}

fn journal_mode(env: &Env) -> String {
    env.db()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap()
}

/// The import's files here change many of few users: the update safeguard is opened wide.
const WIDE_UPDATES: &str = "[import]\nmax_updates = \"100%\"\n";

fn setup() -> Env {
    let env = Env::new();
    env.write("roster.toml", WIDE_UPDATES);
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    env.roster(&["groups", "add", "NIGHT", "--name", "Night shift"])
        .ok();
    env
}

#[test]
fn several_days_of_files() {
    let env = setup();
    // Day 1: 40 users. A good apply with JSON asked for writes nothing else.
    let indexes = || -> Vec<(String, String)> {
        let db = env.db();
        let mut stmt = db
            .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
            .unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    let before = indexes();
    let day1 = file((1..=40).map(|i| row(i, "Nurse")));
    let run = env.import("day1.csv", &day1, &[]).ok();
    assert_eq!(run.stderr, "", "stderr of a good apply");
    // The first load rebuilt the indexes it dropped, as they were, and the store is back in
    // WAL mode after it went through a rollback journal.
    assert_eq!(indexes(), before);
    assert_eq!(journal_mode(&env), "wal");
    let run = run.json();
    assert_eq!(run["status"], "applied");
    assert_eq!(counts(&run), [40, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(env.users_json().len(), 40);
    assert_eq!(
        env.user("E002")["groups"],
        serde_json::json!(["ICU", "NIGHT"])
    );

    // Day 2: two updates, one removal, a Skip row that differs, an invalid row for an existing
    // user, and a new user.
    let mut rows: Vec<String> = (1..=40)
        .filter(|i| *i != 40)
        .map(|i| row(i, "Nurse"))
        .collect();
    rows[0] = row(1, "Head nurse");
    rows[1] = row(2, "Night nurse");
    rows[2] = "E003,Renamed While Skipped,other@example.se,Boss,,,1".into();
    rows[3] = "E004,Person 4,not-a-mail,Nurse,,ICU,".into();
    rows.push(row(41, "Nurse"));
    let day2 = file(rows);
    let run = env.import("day2.csv", &day2, &[]).ok().json();
    assert_eq!(counts(&run), [1, 0, 2, 0, 1, 0, 35, 1, 1], "{run:#}");
    let e1 = run["plan"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["unique_id"] == "E001")
        .cloned()
        .unwrap();
    assert_eq!(
        e1["fields"],
        serde_json::json!([{"field": "title", "old": "Nurse", "new": "Head nurse"}])
    );
    assert_eq!(
        env.user("E003")["name"],
        "Person 3",
        "a Skip row changes nothing"
    );
    assert_eq!(
        env.user("E004")["mail"],
        "p4@example.se",
        "an invalid row changes nothing"
    );
    assert_eq!(
        env.user("E004")["status"],
        "active",
        "an invalid row is not a removal"
    );
    assert_eq!(env.user("E040")["status"], "deactivated");
    assert_eq!(env.user("E041")["status"], "active");

    // The same file again: fetch stores nothing, apply changes nothing, diff is empty.
    let p = env.write("day2-again.csv", &day2);
    let run = env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
    assert!(run.stdout.contains("unchanged"), "{}", run.stdout);
    let before = env.snapshot("audit");
    let run = env.roster(&["apply", "--format", "json"]).ok().json();
    assert_eq!(counts(&run)[..5], [0, 0, 0, 0, 0]);
    assert_eq!(env.snapshot("audit"), before);
    let diff = env.roster(&["diff", "--format", "json"]).ok().json();
    let real: Vec<&Value> = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "invalid")
        .collect();
    assert!(real.is_empty(), "{real:?}");

    // Day 3: a file that drops 25% of the users is blocked and changes nothing.
    let day3 = file(
        (1..=41)
            .filter(|i| *i > 10 && *i != 40)
            .map(|i| row(i, "Nurse")),
    );
    let tables = directory(&env);
    let run = env.import("day3.csv", &day3, &[]).code(4);
    assert_eq!(run.json()["status"], "blocked");
    assert!(run.stderr.contains("--allow-removals 10"), "{}", run.stderr);
    assert_eq!(directory(&env), tables);
    let status = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["blocked_runs"].as_array().unwrap().len(), 1);
    let batches = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        batches.as_array().unwrap().last().unwrap()["status"],
        "blocked"
    );
    // --allow-removals lets it through.
    let run = env
        .roster(&["apply", "--allow-removals", "10", "--format", "json"])
        .ok()
        .json();
    assert_eq!(counts(&run)[4], 10);
    assert_eq!(env.user("E005")["status"], "deactivated");
    assert!(
        env.roster(&["status", "--format", "json"]).ok().json()["blocked_runs"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Day 4: they come back.
    let day4 = file((1..=41).filter(|i| *i != 40).map(|i| row(i, "Nurse")));
    let run = env.import("day4.csv", &day4, &[]).ok().json();
    assert_eq!(counts(&run)[3], 10, "{run:#}");
    let e5 = run["plan"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["unique_id"] == "E005")
        .cloned()
        .unwrap();
    assert_eq!(e5["action"], "reactivate");
    assert_eq!(env.user("E005")["status"], "active");

    // History shows every change of a user.
    let history = env
        .roster(&["users", "history", "E001", "--format", "json"])
        .ok()
        .json();
    let fields: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["created", "title", "status", "title", "status"]);
    assert!(
        history[0]["new"]
            .as_str()
            .unwrap()
            .contains("\"mail\":\"p1@example.se\""),
        "{history}"
    );
}

#[test]
fn invalid_safeguard_blocks_and_allow_invalid_releases() {
    let env = setup();
    let mut rows: Vec<String> = (1..=20).map(|i| row(i, "Nurse")).collect();
    rows[0] = "E001,Person 1,bad,,,,".into();
    rows[1] = "E002,Person 2,bad2,,,,".into();
    let run = env.import("a.csv", &file(rows), &[]).code(4).json();
    assert_eq!(run["status"], "blocked");
    assert_eq!(counts(&run)[8], 2);
    assert!(env.users_json().is_empty());
    env.roster(&["apply", "--allow-invalid", "2"]).ok();
    assert_eq!(env.users_json().len(), 18);
}

#[test]
fn a_file_error_rejects_the_batch() {
    let env = setup();
    let run = env
        .import("bad.csv", "UniqueID,Name\nE1,Anna\n", &[])
        .code(3);
    assert_eq!(run.json()["status"], "rejected");
    assert!(run.stderr.contains("missing-column"), "{}", run.stderr);
    let batches = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(batches[0]["status"], "rejected");
    let report = env.roster(&["report", "--format", "text"]).ok();
    assert!(report.stdout.contains("rejected"), "{}", report.stdout);
}

#[test]
fn optional_columns_that_are_absent_leave_fields_alone() {
    let env = setup();
    env.import("1.csv", &file([row(1, "Nurse"), row(2, "Doctor")]), &[])
        .ok();
    // No Groups, no Title column: memberships and titles stay.
    let run = env.import("2.csv", "UniqueID,Name,Mail,TelephoneNumber\nE001,Person 1,p1@example.se,+46701230001\nE002,Person 2,p2@example.se,+46701230002\n", &[]).ok().json();
    assert_eq!(counts(&run)[6], 2, "{run:#}");
    assert_eq!(
        env.user("E002")["groups"],
        serde_json::json!(["ICU", "NIGHT"])
    );
    assert_eq!(env.user("E002")["title"], "Doctor");
    // An empty Title cell in a file that has the column clears it.
    let run = env.import("3.csv", "UniqueID,Name,Mail,Title\nE001,Person 1,p1@example.se,Nurse\nE002,Person 2,p2@example.se,\n", &[]).ok().json();
    assert_eq!(counts(&run)[2], 1);
    assert_eq!(env.user("E002")["title"], Value::Null);
}

#[test]
fn keep_manual_phones_each_setting() {
    let cases = [
        ("false", [false, false]),
        ("true", [true, true]),
        ("\"primary\"", [true, false]),
        ("\"secondary\"", [false, true]),
    ];
    for (setting, kept) in cases {
        let env = setup();
        let cfg = env.write(
            "roster.toml",
            format!("{WIDE_UPDATES}keep_manual_phones = {setting}\n"),
        );
        let cfg = cfg.to_str().unwrap().to_string();
        let csv = "UniqueID,Name,Mail,TelephoneNumber,SecondaryTelephoneNumber\nE1,Anna,anna@example.se,,\n";
        env.import("1.csv", csv, &[]).ok();
        env.roster(&[
            "users",
            "edit",
            "E1",
            "--phone",
            "+46 70 123 45 67",
            "--phone2",
            "+46 8 123 456 78",
        ])
        .ok();
        let p = env.write("2.csv", csv.replace("Anna,", "Anna B,"));
        env.roster(&["--config", &cfg, "fetch", "--source", p.to_str().unwrap()])
            .ok();
        env.roster(&["--config", &cfg, "apply"]).ok();
        let user = env.user("E1");
        assert_eq!(user["name"], "Anna B");
        assert_eq!(user["phone"].is_string(), kept[0], "{setting}: {user}");
        assert_eq!(user["phone2"].is_string(), kept[1], "{setting}: {user}");
    }
}

#[test]
fn manual_users_and_groups() {
    let env = setup();
    env.roster(&[
        "users",
        "add",
        "--name",
        "Manual Mo",
        "--mail",
        "mo@example.se",
        "--phone",
        "+46701234567",
    ])
    .ok();
    env.roster(&[
        "users",
        "add",
        "--name",
        "Manual Ann",
        "--mail",
        "ann@example.se",
    ])
    .ok();
    env.roster(&["users", "add", "--name", "Other", "--mail", "MO@example.se"])
        .code(2);
    env.roster(&["groups", "add", "--name", "Book club"]).ok();
    env.roster(&["groups", "members", "Book club", "--add", "mo@example.se"])
        .ok();
    env.roster(&["groups", "members", "ICU", "--add", "mo@example.se"])
        .code(2);
    // An import leaves manual users alone and never removes them.
    let run = env
        .import("1.csv", &file([row(1, "Nurse")]), &[])
        .ok()
        .json();
    assert_eq!(counts(&run), [1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(env.user("mo@example.se")["source"], "manual");
    env.roster(&["groups", "members", "Book club", "--add", "E001"])
        .ok();
    // A record with Mo's mail adopts Mo (written in another case), one with Ann's adopts Ann.
    let run = env
        .import(
            "2.csv",
            &file([
                row(1, "Nurse"),
                "E900,Mo Imported,Mo@Example.se,,,ICU,".to_string(),
                "E901,Manual Ann,ann@example.se,,,,".to_string(),
            ]),
            &[],
        )
        .ok()
        .json();
    assert_eq!(counts(&run)[1], 2, "{run:#}");
    assert_eq!(env.user("E901")["source"], "import");
    let mo = env.user("E900");
    assert_eq!(
        (mo["source"].as_str(), mo["name"].as_str()),
        (Some("import"), Some("Mo Imported"))
    );
    assert_eq!(mo["manual_groups"], serde_json::json!(["Book club"]));
    // The manual group's members survive every import.
    env.import(
        "3.csv",
        &file([
            row(1, "Nurse"),
            "E900,Mo Imported,mo@example.se,,,,".to_string(),
            "E901,Manual Ann,ann@example.se,,,,".to_string(),
        ]),
        &[],
    )
    .ok();
    let members = env
        .roster(&["groups", "members", "Book club", "--format", "json"])
        .ok()
        .json();
    assert_eq!(members.as_array().unwrap().len(), 2);
    // Manual-only commands refuse imported users; phones of anyone may be edited.
    env.roster(&["users", "edit", "E001", "--name", "X"])
        .code(2);
    env.roster(&["users", "remove", "E001"]).code(2);
    env.roster(&["users", "edit", "E001", "--phone", "+46 8 123 456 78"])
        .ok();
    // Removing a group with members asks for --force.
    env.roster(&["groups", "remove", "Book club"]).code(2);
    env.roster(&["groups", "remove", "Book club", "--force"])
        .ok();
    let groups = env
        .roster(&["groups", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        groups,
        serde_json::json!([{"id": "ICU", "name": "Intensive care", "members": 1, "deactivated": 0}, {"id": "NIGHT", "name": "Night shift", "members": 0, "deactivated": 0}])
    );
}

#[test]
fn group_import_adds_and_renames() {
    let env = setup();
    let p = env.write(
        "groups.csv",
        "GroupID;Name\nICU;Intensivvård\nER;Akuten\nLAB;\n",
    );
    let run = env
        .roster(&["groups", "import", p.to_str().unwrap(), "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        run,
        serde_json::json!({"added": 2, "renamed": 1, "unchanged": 0})
    );
    let bad = env.write("bad.csv", "GroupID\nA\n\nA\n");
    env.roster(&["groups", "import", bad.to_str().unwrap()])
        .code(3);
}

#[test]
fn export_escapes_formula_cells_and_round_trips() {
    let env = setup();
    env.import(
        "1.csv",
        &file([row(1, "=HYPERLINK(\"\"x\"\")"), row(2, "Nurse")]),
        &[],
    )
    .ok();
    let out = env.roster(&["users", "export"]).ok().stdout;
    assert!(out.contains("'=HYPERLINK"), "{out}");
    assert!(out.contains("'+46701230002"), "{out}");
    let p = env.write("export.csv", &out);
    env.roster(&["validate", p.to_str().unwrap()]).ok();
}

#[test]
fn missing_users_wait_for_n_files_and_delete_mode() {
    let env = setup();
    let cfg = env.write(
        "roster.toml",
        format!("{WIDE_UPDATES}remove_after_missing = 2\nmissing_users = \"delete\"\nmax_removals = 5\n"),
    );
    let cfg = cfg.to_str().unwrap().to_string();
    let apply = |name: &str, csv: &str| {
        let p = env.write(name, csv);
        env.roster(&["--config", &cfg, "fetch", "--source", p.to_str().unwrap()])
            .ok();
        env.roster(&["--config", &cfg, "apply", "--format", "json"])
            .ok()
            .json()
    };
    apply("1.csv", &file([row(1, "A"), row(2, "A")]));
    let run = apply("2.csv", &file([row(1, "B")]));
    assert_eq!(counts(&run)[5], 1, "missing once");
    // Re-applying the same batch does not count again.
    let run = env
        .roster(&["--config", &cfg, "apply", "--format", "json"])
        .ok()
        .json();
    assert_eq!(counts(&run)[5], 1);
    let run = apply("3.csv", &file([row(1, "C")]));
    assert_eq!(counts(&run)[4], 1, "removed after 2 files: {run:#}");
    env.roster(&["users", "show", "E002"]).code(2);
    let history = env
        .roster(&["users", "history", "E002", "--format", "json"])
        .ok()
        .json();
    assert!(history
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["new"] == "deleted"));
}

#[test]
fn older_batch_needs_force_and_rolls_back() {
    let env = setup();
    env.import("1.csv", &file([row(1, "Nurse")]), &[]).ok();
    env.import("2.csv", &file([row(1, "Head nurse")]), &[]).ok();
    let run = env.roster(&["apply", "--batch", "1"]).code(2);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    env.roster(&["apply", "--batch", "1", "--force"]).ok();
    assert_eq!(env.user("E001")["title"], "Nurse");
    let exported = env.roster(&["batches", "export", "1"]).ok().stdout;
    assert_eq!(exported, file([row(1, "Nurse")]));
}

#[test]
fn dry_run_stores_nothing() {
    let env = setup();
    let p = env.write("1.csv", file([row(1, "Nurse")]));
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
    let before = env.snapshot("runs");
    let run = env
        .roster(&["apply", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        (run["status"].as_str(), run["run"].is_null()),
        (Some("dry-run"), true)
    );
    assert_eq!(counts(&run)[0], 1);
    assert!(env.users_json().is_empty());
    assert_eq!(env.snapshot("runs"), before);
}

/// `apply --dry-run` and `sync --dry-run` of a file a real run would reject (a file error)
/// record nothing, so they say the file *would be* rejected, not that it was: JSON status
/// `dry-run` with `would_reject` (the file error, as `problems` lists it), exit 3 as the real
/// run; no run is recorded and no batch is marked `rejected`.
#[test]
fn a_dry_run_of_a_file_that_would_be_rejected_says_would_be_rejected() {
    let env = setup();
    let bad = env.write("bad.csv", "UniqueID,Name\nE1,Anna\n");
    let source = bad.to_str().unwrap();
    env.roster(&["fetch", "--source", source]).ok();
    let runs = env.snapshot("runs");
    let text = env.roster(&["apply", "--dry-run"]).code(3);
    assert!(
        text.stderr.contains("batch 1 would be rejected: ")
            && text.stderr.contains("missing-column")
            && !text.stderr.contains("was rejected"),
        "{}",
        text.stderr
    );
    let doc = env
        .roster(&["apply", "--dry-run", "--format", "json"])
        .code(3)
        .json();
    assert_eq!(doc["status"], "dry-run", "{doc:#}");
    assert_eq!(doc["run"], Value::Null, "{doc:#}");
    assert_eq!(doc["would_reject"]["code"], "missing-column", "{doc:#}");
    assert_eq!(doc["would_reject"]["column"], "Mail", "{doc:#}");
    assert_eq!(doc["would_block"], Value::Null, "{doc:#}");
    assert_eq!(doc["problems"][0]["code"], "missing-column", "{doc:#}");
    let message = doc["message"].as_str().unwrap_or_default();
    assert!(message.contains("would be rejected"), "{doc:#}");
    for args in [
        &["sync", "--dry-run", "--source", source][..],
        &["sync", "--dry-run", "--source", source, "--format", "json"],
    ] {
        let run = env.roster(args).code(3);
        assert!(
            run.stderr.contains("would be rejected") && !run.stderr.contains("was rejected"),
            "{}",
            run.stderr
        );
    }
    let sync = env
        .roster(&["sync", "--dry-run", "--source", source, "--format", "json"])
        .code(3)
        .json();
    assert_eq!(sync["status"], "dry-run", "{sync:#}");
    assert_eq!(sync["would_reject"]["code"], "missing-column", "{sync:#}");
    // A plain dry run says nothing would reject the file.
    let good = env.write("good.csv", file([row(1, "Nurse")]));
    let plain = env
        .roster(&[
            "sync",
            "--dry-run",
            "--source",
            good.to_str().unwrap(),
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(plain["would_reject"], Value::Null, "{plain:#}");
    // A file larger than csv.max_file_bytes, refused as it is fetched, likewise.
    env.write("small.toml", "[csv]\nmax_file_bytes = 10\n");
    let large = ["--config", "small.toml", "sync", "--dry-run", "--source"];
    let run = env.roster(&[&large[..], &[source]].concat()).code(3);
    assert!(
        run.stderr.contains("would be rejected") && !run.stderr.contains("failed"),
        "{}",
        run.stderr
    );
    let doc = env
        .roster(&[&large[..], &[source, "--format", "json"]].concat())
        .code(3)
        .json();
    assert_eq!(doc["status"], "dry-run", "{doc:#}");
    assert_eq!(doc["would_reject"]["code"], "too-large", "{doc:#}");
    assert_eq!(env.snapshot("runs"), runs);
    let batches = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(batches[0]["status"], "fetched", "{batches:#}");
    // The real apply rejects it, as before.
    let real = env.roster(&["apply", "--format", "json"]).code(3).json();
    assert_eq!(real["status"], "rejected", "{real:#}");
    assert!(real.get("would_reject").is_none(), "{real:#}");
}

/// The text of a dry run that a real run would reject opens, as that of any other dry run,
/// with a head line saying what would happen (`batch N: dry-run, would be rejected — …`),
/// for a file error found by the read and for a file the fetch refuses (no batch to name).
#[test]
fn a_dry_run_that_would_be_rejected_opens_with_a_head_line() {
    let env = setup();
    let bad = env.write("bad.csv", "UniqueID,Name\nE1,Anna\n");
    let source = bad.to_str().unwrap();
    env.roster(&["fetch", "--source", source]).ok();
    let head = "batch 1: dry-run, would be rejected — line 1, column Mail: ";
    for args in [
        &["apply", "--dry-run"][..],
        &["sync", "--dry-run", "--source", source],
    ] {
        let run = env.roster(args).code(3);
        // The head line, unwrapped (at 100 columns its continuation is indented).
        let first = run.stdout.split("\nproblems per code").next().unwrap();
        let first = first.replace("\n  ", " ");
        assert!(
            first.starts_with(head) && first.ends_with("(missing-column)"),
            "{args:?}:\n{}",
            run.stdout
        );
    }
    env.write("small.toml", "[csv]\nmax_file_bytes = 10\n");
    let large = [
        "--config",
        "small.toml",
        "sync",
        "--dry-run",
        "--source",
        source,
    ];
    let run = env.roster(&large).code(3);
    let first = run.stdout.trim_end().replace("\n  ", " ");
    assert!(
        first.starts_with("dry-run, would be rejected — ") && first.ends_with("(too-large)"),
        "{}",
        run.stdout
    );
}

/// A write that fails midway (injected with a trigger, not in the product's code) leaves
/// nothing behind.
#[test]
fn apply_is_all_or_nothing() {
    let env = setup();
    env.import("1.csv", &file((1..=10).map(|i| row(i, "Nurse"))), &[])
        .ok();
    // E015 is among 40 new users: it fails one statement of several users' rows.
    let p = env.write("2.csv", file((1..=50).map(|i| row(i, "Head nurse"))));
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
    env.db().execute_batch(FAIL_AT_E015).unwrap();
    let tables = directory(&env);
    let run = env.roster(&["apply"]).code(1);
    assert!(
        run.stderr.contains("injected failure") && run.stderr.contains("nothing was changed"),
        "{}",
        run.stderr
    );
    assert_eq!(directory(&env), tables);
    let runs = env.roster(&["report", "--format", "json"]).ok().json();
    assert_eq!(runs["runs"][0]["status"], "failed");
    env.db().execute_batch("DROP TRIGGER fail;").unwrap();
    env.roster(&["apply"]).ok();
    assert_eq!(env.users_json().len(), 50);
}

/// A first load goes through a rollback journal when it has the store to itself, and through
/// the WAL when another process has the store open; all or nothing either way.
#[test]
fn a_first_load_is_all_or_nothing_alone_or_not() {
    for other_open in [false, true] {
        let env = setup();
        // Enough users that E015 fails a statement of several users' rows.
        let p = env.write("1.csv", file((1..=40).map(|i| row(i, "Nurse"))));
        env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
        env.db().execute_batch(FAIL_AT_E015).unwrap();
        let other = other_open.then(|| env.db());
        let tables = directory(&env);
        let run = env.roster(&["apply"]).code(1);
        assert!(run.stderr.contains("injected failure"), "{}", run.stderr);
        assert_eq!(directory(&env), tables);
        env.db().execute_batch("DROP TRIGGER fail;").unwrap();
        env.roster(&["apply"]).ok();
        drop(other);
        assert_eq!(env.users_json().len(), 40, "other process: {other_open}");
        assert_eq!(journal_mode(&env), "wal");
        assert!(!env.store().with_extension("db-journal").exists());
    }
}

/// An apply through the WAL leaves the copy of its log into the store file to a thread of its
/// own; roster waits for it before it exits, and leaves no log behind.
#[test]
fn an_apply_leaves_no_log_behind() {
    let env = setup();
    env.import("1.csv", &file((1..=40).map(|i| row(i, "Nurse"))), &[])
        .ok();
    let day2 = (1..=40).map(|i| row(i, if i % 2 == 0 { "Doctor" } else { "Nurse" }));
    env.import("2.csv", &file(day2), &[]).ok();
    assert!(!env.store().with_extension("db-wal").exists());
    assert_eq!(env.users_json().len(), 40);
}

#[test]
fn a_second_run_exits_5_naming_the_holder() {
    let env = setup();
    let p = env.write("1.csv", file([row(1, "Nurse")]));
    let lock = roster::store::Lock::acquire(&env.store()).unwrap();
    let run = env
        .roster(&["fetch", "--source", p.to_str().unwrap()])
        .code(5);
    assert!(
        run.stderr.contains(&format!("PID {}", std::process::id())),
        "{}",
        run.stderr
    );
    env.roster(&["apply"]).code(5);
    drop(lock);
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
}

#[test]
fn store_is_private_and_created_with_its_folder() {
    use std::os::unix::fs::PermissionsExt;
    let env = setup();
    let mode = std::fs::metadata(env.store()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // The default path follows XDG_DATA_HOME.
    let env = Env::new();
    let xdg = env.path("xdg");
    let mut cmd = env.command(&["groups", "list"]);
    cmd.env_remove("ROSTER_STORE").env("XDG_DATA_HOME", &xdg);
    assert!(cmd.output().unwrap().status.success());
    assert!(xdg.join("roster/roster.db").exists());
}

/// New users are written several to a statement: whatever their number, and with updates
/// between them or not, each gets its row, its groups, one `created` audit row with its values
/// and its invitation, and the audit log keeps the order of the file.
#[test]
fn new_users_in_any_number_are_written_whole_and_in_order() {
    // 1 to 5 groups a user: a statement of several users' memberships fills up too.
    let groups = |i: usize| ["ICU", "ICU,NIGHT", "A,B,ICU,NIGHT", "A,B,C,ICU,NIGHT"][i % 4];
    let member = |i: usize, title: &str| {
        format!(
            "E{i:03},Person {i},p{i}@example.se,{title},+4670123{i:04},\"{}\",",
            groups(i)
        )
    };
    // (users of day 1, a first load; users new on day 2; whether they come between updates
    // of day 1's users or after them)
    for (first, new, between) in [
        (1, 1, true),
        (31, 33, true),
        (32, 32, false),
        (33, 65, true),
        (40, 97, false),
        (70, 3, true),
    ] {
        let case = format!("({first}, {new}, between: {between})");
        let env = setup();
        for g in ["A", "B", "C"] {
            env.roster(&["groups", "add", g, "--name", &format!("Ward {g}")])
                .ok();
        }
        env.write(
            "roster.toml",
            format!("{WIDE_UPDATES}send_invitations = true\n"),
        );
        env.import(
            "day1.csv",
            &file((1..=first).map(|i| member(i, "Nurse"))),
            &[],
        )
        .ok();
        // Day 2: every second user of day 1 changes title; the new users come between them
        // or after them.
        let (mut rows, mut want) = (Vec::new(), Vec::new());
        let mut created = Vec::new();
        for i in 1..=first.max(new) {
            if i <= first {
                let title = if i.is_multiple_of(2) {
                    "Head nurse"
                } else {
                    "Nurse"
                };
                rows.push(member(i, title));
                if i.is_multiple_of(2) {
                    want.push((format!("E{i:03}"), "title".to_string()));
                }
            }
            if i <= new {
                created.push((member(100 + i, "Nurse"), 100 + i));
            }
            if between || i == first.max(new) {
                for (line, id) in created.drain(..) {
                    rows.push(line);
                    want.push((format!("E{id:03}"), "created".to_string()));
                }
            }
        }
        let run = env.import("day2.csv", &file(rows), &[]).ok().json();
        assert_eq!(counts(&run)[0], new as u64, "{case}: {run:#}");
        // Planned again against the store, the file it was made of changes nothing: every
        // row holds what its record says (its hash too).
        let again = env.roster(&["diff", "--format", "json"]).ok().json();
        let unchanged = (first + new) as u64;
        assert_eq!(
            counts(&again),
            [0, 0, 0, 0, 0, 0, unchanged, 0, 0],
            "{case}: {again:#}"
        );
        let db = env.db();
        created_table(&db);
        let query = |sql: &str| -> Vec<(String, String)> {
            let mut stmt = db.prepare(sql).unwrap();
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
            rows.collect::<Result<_, _>>().unwrap()
        };
        // A created user's row is kept apart (`audit_created`, issue 31), with how many rows
        // of the log its run wrote before it.
        let logged = query(
            "WITH day2 AS (SELECT MAX(run_id) AS run FROM
                               (SELECT run_id FROM audit UNION ALL SELECT run_id FROM audit_created))
             SELECT unique_id, field FROM (
                 SELECT unique_id, field, ROW_NUMBER() OVER (ORDER BY id) - 1 AS seq, 1 AS late, id AS k
                   FROM audit WHERE run_id = (SELECT run FROM day2)
                 UNION ALL
                 SELECT unique_id, 'created', seq, 0, user_pk
                   FROM audit_created WHERE run_id = (SELECT run FROM day2))
             ORDER BY seq, late, k",
        );
        assert_eq!(logged, want, "the audit log of day 2, {case}");
        let mut ids: Vec<usize> = (1..=first).chain((1..=new).map(|i| 100 + i)).collect();
        ids.sort_unstable();
        let each = |f: &dyn Fn(usize) -> String| -> Vec<(String, String)> {
            ids.iter().map(|&i| (format!("E{i:03}"), f(i))).collect()
        };
        // Every user: its row, its groups, its `created` row's values and one invitation to
        // its own address.
        let title = |i: usize| {
            if i < 100 && i.is_multiple_of(2) {
                "Head nurse"
            } else {
                "Nurse"
            }
        };
        assert_eq!(
            query(
                "SELECT unique_id, name || '|' || mail || '|' || COALESCE(mail_key, mail) || '|' || title || '|' || phone
                 FROM users ORDER BY unique_id"
            ),
            each(&|i| format!(
                "Person {i}|p{i}@example.se|p{i}@example.se|{}|+4670123{i:04}",
                title(i)
            )),
            "rows, {case}"
        );
        assert_eq!(
            query(
                "SELECT u.unique_id, GROUP_CONCAT(g.group_id, ',' ORDER BY g.group_id)
                 FROM users u JOIN memberships m ON m.user_pk = u.pk JOIN groups g ON g.pk = m.group_pk
                 GROUP BY u.pk ORDER BY u.unique_id",
            ),
            each(&|i| groups(i).to_string()),
            "memberships, {case}"
        );
        assert_eq!(
            query(
                "SELECT u.unique_id, a.mail || ' ' || a.groups
                 FROM audit_created a JOIN users u ON u.pk = a.user_pk AND u.unique_id = a.unique_id
                 ORDER BY u.unique_id",
            ),
            each(&|i| format!("p{i}@example.se {}", groups(i))),
            "created rows, {case}"
        );
        assert_eq!(
            query(
                "SELECT u.unique_id, o.recipient FROM outbox o JOIN users u ON u.pk = o.user_pk
                 WHERE o.kind = 'invitation' ORDER BY u.unique_id",
            ),
            each(&|i| format!("p{i}@example.se")),
            "invitations, {case}"
        );
    }
}

/// SPEC §1: a Mail that appears twice is an error on every occurrence, also when the record
/// that repeats it has another error; so the valid record whose Mail it repeats is invalid
/// too (SPEC §2): a new user is not created, a known one is left alone. What `apply` finds is
/// what `validate` finds.
#[test]
fn a_mail_an_invalid_record_repeats_leaves_the_valid_user_alone() {
    let env = setup();
    env.import("day1.csv", &file([row(1, "Nurse"), row(2, "Nurse")]), &[])
        .ok();
    let day2 = file([
        row(1, "Head nurse"),
        row(2, "Nurse"),
        // A bad phone, and E001's Mail in capitals.
        "E003,Person 3,P1@EXAMPLE.SE,Nurse,12345,ICU,".into(),
        row(4, "Nurse"),
        // No name, and E004's Mail.
        "E005,,p4@example.se,Nurse,,ICU,".into(),
    ]);
    let run = env
        .import("day2.csv", &day2, &["--allow-invalid", "4"])
        .ok()
        .json();
    assert_eq!(counts(&run), [0, 0, 0, 0, 0, 0, 1, 0, 4]);
    assert_eq!(env.user("E001")["title"], "Nurse");
    assert_eq!(env.user("E001")["status"], "active");
    let ids: Vec<Value> = env
        .users_json()
        .iter()
        .map(|u| u["unique_id"].clone())
        .collect();
    assert_eq!(ids, ["E001", "E002"]);
    let line_codes = |doc: &Value| -> Vec<(u64, String)> {
        doc["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["line"].as_u64().unwrap(), p["code"].to_string()))
            .collect()
    };
    let want: Vec<(u64, String)> = [
        (2, "duplicate-mail"),
        (4, "bad-phone"),
        (4, "duplicate-mail"),
        (5, "duplicate-mail"),
        (6, "missing-field"),
        (6, "duplicate-mail"),
    ]
    .iter()
    .map(|(l, c)| (*l, format!("\"{c}\"")))
    .collect();
    assert_eq!(line_codes(&run), want);
    let validated = env
        .roster(&["validate", "day2.csv", "--format", "json"])
        .code(3)
        .json();
    assert_eq!(validated["problems"], run["problems"]);
}

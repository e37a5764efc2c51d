//! `roster push` against a real SCIM 2.0 provider (scim2-server) on loopback. The provider's
//! state is read through its own HTTP API, never through roster.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use support::servers::{Gate, Scim};
use support::{on_a_terminal, Env};

const TOKEN: &str = "t0k3n-kept-secret-9f8e7d";

/// An environment whose roster.toml points at `url`, with the token in a file.
fn setup(url: &str, extra: &str) -> Env {
    let env = Env::new();
    env.write("scim.token", format!("{TOKEN}\n"));
    env.write(
        "roster.toml",
        format!(
            "[scim]\nurl = \"{url}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = 1\ntimeout_secs = 120\n{extra}"
        ),
    );
    env
}

fn csv(rows: &[&str]) -> String {
    let mut s = String::from("UniqueID,Name,Mail,Title,TelephoneNumber,Groups\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

/// `n` users E0001…, every tenth in ICU, every one in ALL.
fn many(n: usize) -> String {
    let mut s = String::from("UniqueID,Name,Mail,Title,Groups\n");
    for i in 1..=n {
        let groups = if i % 10 == 0 { "ALL,ICU" } else { "ALL" };
        s.push_str(&format!(
            "E{i:05},User {i},user{i}@example.org,Nurse,\"{groups}\"\n"
        ));
    }
    s
}

fn groups(env: &Env, ids: &[(&str, &str)]) {
    for (id, name) in ids {
        env.roster(&["groups", "add", id, "--name", name]).ok();
    }
}

fn push(env: &Env, args: &[&str]) -> support::Run {
    let mut all = vec!["push", "--format", "json"];
    all.extend_from_slice(args);
    env.roster(&all)
}

fn member_ids(group: &Value) -> Vec<String> {
    let mut v: Vec<String> = group["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The provider ids of these users, sorted.
fn ids_of(users: &std::collections::BTreeMap<String, Value>, keys: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = keys
        .iter()
        .map(|k| users[*k]["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// Prometheus text read by prometheus_client's parser: {"name": value}.
fn prometheus(text: &str) -> Value {
    let script = "import json, sys\n\
from prometheus_client.parser import text_string_to_metric_families\n\
print(json.dumps({s.name: s.value for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples}))";
    support::python_json(script, text)
}

#[test]
fn a_first_push_goes_in_bulk_and_a_second_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(&server.url(), "");
    groups(&env, &[("ALL", "Everyone"), ("ICU", "Intensive care")]);
    env.import("users.csv", &many(2500), &[]).ok();

    let first = push(&env, &[]).ok().json();
    assert_eq!(first["status"], "pushed");
    assert_eq!(first["users"]["create"], 2500);
    assert_eq!(first["groups"]["create"], 2);
    // 2,500 users at the advertised 1,000 operations a bulk: three bulks, plus one for the
    // groups, plus the ServiceProviderConfig and one read each of how many users and groups
    // the provider holds (none: nothing to take over).
    assert_eq!(first["bulk_requests"], 4, "{first}");
    assert_eq!(first["requests"], 7, "{first}");

    let users = server.all("Users");
    assert_eq!(users.len(), 2500);
    let u = &users["E00010"];
    assert_eq!(u["userName"], "user10@example.org");
    assert_eq!(u["displayName"], "User 10");
    assert_eq!(u["name"]["formatted"], "User 10");
    assert_eq!(
        u["emails"],
        json!([{"value": "user10@example.org", "type": "work", "primary": true}])
    );
    assert_eq!(u["title"], "Nurse");
    assert_eq!(u["active"], true);
    let groups = server.all("Groups");
    assert_eq!(groups.len(), 2);
    assert_eq!(groups["ICU"]["displayName"], "Intensive care");
    assert_eq!(member_ids(&groups["ICU"]).len(), 250);
    assert_eq!(member_ids(&groups["ALL"]).len(), 2500);
    let icu: Vec<String> = (1..=250).map(|i| format!("E{:05}", i * 10)).collect();
    let icu: Vec<&str> = icu.iter().map(String::as_str).collect();
    assert_eq!(member_ids(&groups["ICU"]), ids_of(&users, &icu));

    let second = push(&env, &[]).ok().json();
    assert_eq!(second["status"], "pushed");
    assert_eq!(second["users"]["unchanged"], 2500);
    assert_eq!(second["users"]["create"], 0);
    assert_eq!(second["users"]["update"], 0);
    assert_eq!(second["groups"]["unchanged"], 2);
    assert_eq!(second["bulk_requests"], 0);
    // Only the ServiceProviderConfig is read: no change is sent.
    assert_eq!(second["requests"], 1, "{second}");
}

#[test]
fn a_days_changes_are_reflected_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(&server.url(), "");
    groups(&env, &[("ICU", "Intensive care"), ("ER", "Emergency")]);
    let mut day1 = vec![
        "E1,Ann Berg,ann@example.org,Nurse,+46701234567,ICU",
        "E2,Bo Ek,bo@example.org,Doctor,,\"ICU,ER\"",
        "E3,Cy Dahl,cy@example.org,,,ER",
    ];
    let filler: Vec<String> = (10..40)
        .map(|i| format!("F{i},Filler {i},f{i}@example.org,,,"))
        .collect();
    day1.extend(filler.iter().map(String::as_str));
    env.import("day1.csv", &csv(&day1), &[]).ok();
    push(&env, &[]).ok();

    let mut day2 = vec![
        "E1,Ann Berg,ann@example.org,Head nurse,,ICU",
        "E3,Cy Dahl,cy@example.org,,,\"ER,ICU\"",
        "E4,Di Falk,di@example.org,Porter,+46709876543,ER",
    ];
    day2.extend(filler.iter().map(String::as_str));
    env.import("day2.csv", &csv(&day2), &[]).ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["create"], 1, "{out}");
    assert_eq!(out["users"]["update"], 1, "{out}");
    assert_eq!(out["users"]["deactivate"], 1, "{out}");
    assert_eq!(out["groups"]["update"], 2, "{out}");

    let users = server.all("Users");
    assert_eq!(users.len(), 34);
    assert_eq!(users["E1"]["title"], "Head nurse");
    assert!(users["E1"].get("phoneNumbers").is_none(), "{}", users["E1"]);
    assert_eq!(users["E2"]["active"], false);
    assert_eq!(users["E4"]["active"], true);
    assert_eq!(
        users["E4"]["phoneNumbers"],
        json!([{"value": "+46709876543", "type": "work"}])
    );
    let groups = server.all("Groups");
    assert_eq!(member_ids(&groups["ICU"]), ids_of(&users, &["E1", "E3"]));
    assert_eq!(member_ids(&groups["ER"]), ids_of(&users, &["E3", "E4"]));

    let again = push(&env, &[]).ok().json();
    assert_eq!(again["requests"], 1, "{again}");
}

#[test]
fn full_puts_back_what_drifted_on_the_provider() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(&server.url(), "");
    groups(&env, &[("ICU", "Intensive care")]);
    env.import(
        "users.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,ICU",
            "E2,Bo Ek,bo@example.org,Doctor,,ICU",
            "E3,Cy Dahl,cy@example.org,Porter,,",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    let before = server.all("Users");
    let groups_before = server.all("Groups");

    // Someone edits E1 and deactivates E3 in the app, deletes E2, and empties the group.
    let mut e1 = before["E1"].clone();
    e1["title"] = json!("Changed in the app");
    assert_eq!(
        server.send(
            "PUT",
            &format!("/Users/{}", e1["id"].as_str().unwrap()),
            Some(e1)
        ),
        200
    );
    let mut e3 = before["E3"].clone();
    e3["active"] = json!(false);
    assert_eq!(
        server.send(
            "PUT",
            &format!("/Users/{}", e3["id"].as_str().unwrap()),
            Some(e3)
        ),
        200
    );
    assert_eq!(
        server.send(
            "DELETE",
            &format!("/Users/{}", before["E2"]["id"].as_str().unwrap()),
            None
        ),
        204
    );
    let mut icu = groups_before["ICU"].clone();
    icu["members"] = json!([]);
    assert_eq!(
        server.send(
            "PUT",
            &format!("/Groups/{}", icu["id"].as_str().unwrap()),
            Some(icu)
        ),
        200
    );

    // An incremental push does not look: nothing changed in the store.
    let quiet = push(&env, &[]).ok().json();
    assert_eq!(quiet["requests"], 1);

    let dry = push(&env, &["--full", "--dry-run"]).ok().json();
    assert_eq!(dry["status"], "dry-run");
    assert_eq!(dry["users"]["update"], 2, "{dry}");
    assert_eq!(dry["users"]["create"], 1, "{dry}");
    assert_eq!(server.all("Users").len(), 2, "a dry run sends nothing");

    let full = push(&env, &["--full"]).ok().json();
    assert_eq!(full["users"]["update"], 2, "{full}");
    assert_eq!(full["users"]["create"], 1, "{full}");
    assert_eq!(full["groups"]["update"], 1, "{full}");
    let after = server.all("Users");
    assert_eq!(after.len(), 3);
    assert_eq!(after["E1"]["title"], "Nurse");
    assert_eq!(after["E3"]["active"], true);
    assert_eq!(after["E2"]["userName"], "bo@example.org");
    assert_eq!(
        member_ids(&server.all("Groups")["ICU"]),
        ids_of(&after, &["E1", "E2"])
    );
    let settled = push(&env, &["--full"]).ok().json();
    assert_eq!(settled["users"]["unchanged"], 3, "{settled}");
    assert_eq!(settled["groups"]["unchanged"], 1, "{settled}");
}

#[test]
fn a_wrong_token_is_exit_1_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), "the-real-token", None);
    let env = setup(&server.url(), "");
    env.import("users.csv", &csv(&["E1,Ann Berg,ann@example.org,,,"]), &[])
        .ok();
    for verbosity in [&[][..], &["-vv"][..]] {
        let mut args = vec!["push"];
        args.extend_from_slice(verbosity);
        let run = env.roster(&args).code(1);
        assert!(run.stderr.contains("refused the token"), "{}", run.stderr);
        assert!(!run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN));
    }
    // From the environment too, and nothing of it in the store.
    let env = env.var("ROSTER_SCIM_TOKEN", "env-token-also-wrong-123");
    let run = env.roster(&["push", "-vv", "--format", "json"]).code(1);
    assert!(
        !run.stderr.contains("env-token-also-wrong-123")
            && !run.stdout.contains("env-token-also-wrong-123")
    );
    let store = std::fs::read(env.store()).unwrap();
    let text = String::from_utf8_lossy(&store);
    assert!(!text.contains(TOKEN) && !text.contains("env-token-also-wrong"));
    assert!(server.all("Users").is_empty());
    let status = env.roster(&["status", "--format", "json"]);
    assert_eq!(
        status.json()["push"]["last"]["status"],
        "failed",
        "{}",
        status.stdout
    );
}

#[test]
fn an_unreachable_provider_is_exit_1() {
    let port = support::servers::free_port();
    let env = setup(&format!("http://127.0.0.1:{port}"), "");
    env.import("users.csv", &csv(&["E1,Ann Berg,ann@example.org,,,"]), &[])
        .ok();
    let run = env.roster(&["push"]).code(1);
    assert!(run.stderr.contains("unreachable"), "{}", run.stderr);
    // -v counts the tries that failed (scim.retries = 1: two).
    let run = env.roster(&["-v", "push"]).code(1);
    assert!(
        run.stderr.contains("roster: push: failed: 2 requests in "),
        "{}",
        run.stderr
    );
}

#[test]
fn a_push_stopped_midway_resumes_to_the_same_end_state() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_file(dir.path(), Spc::default());
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    // The ServiceProviderConfig, the read of how many users the provider holds and two bulks
    // pass; the third bulk reaches the provider but its answer is lost; then the provider is
    // gone.
    let gate = Gate::start(server.port, 4);
    let env = setup(&format!("http://127.0.0.1:{}", gate.port), "");
    groups(&env, &[("ALL", "Everyone"), ("ICU", "Intensive care")]);
    env.import("users.csv", &many(450), &[]).ok();
    let run = env.roster(&["push"]).code(1);
    assert!(run.stderr.contains("unreachable"), "{}", run.stderr);
    assert_eq!(
        server.all("Users").len(),
        300,
        "three bulks reached the provider"
    );

    // The provider is back (no proxy in between).
    env.write(
        "roster.toml",
        format!(
            "[scim]\nurl = \"{}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = 1\n",
            server.url()
        ),
    );
    let out = push(&env, &[]).ok().json();
    // The 100 whose answer was lost are found and taken over, not created again; the other
    // 150 are created.
    assert_eq!(out["users"]["create"], 150, "{out}");
    assert_eq!(out["users"]["taken_over"], 100, "{out}");
    assert_eq!(out["users"]["unchanged"], 200, "{out}");
    assert_eq!(out["refused"], json!([]), "{out}");
    let users = server.all("Users");
    assert_eq!(users.len(), 450);
    let groups = server.all("Groups");
    assert_eq!(member_ids(&groups["ALL"]).len(), 450);
    assert_eq!(member_ids(&groups["ICU"]).len(), 45);
    let again = push(&env, &[]).ok().json();
    assert_eq!(again["requests"], 1, "{again}");
}

#[test]
fn removals_beyond_the_limit_block_the_push() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(&server.url(), "[import]\nmax_removals = 3\n");
    let all: Vec<String> = (1..=20)
        .map(|i| format!("E{i},User {i},u{i}@example.org,,,"))
        .collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    env.import("day1.csv", &csv(&all), &[]).ok();
    push(&env, &[]).ok();
    env.import("day2.csv", &csv(&all[5..]), &["--allow-removals", "5"])
        .ok();

    let blocked = env.roster(&["push"]).code(4);
    assert!(
        blocked.stdout.contains("--allow-removals 5")
            || blocked.stderr.contains("--allow-removals 5"),
        "{blocked:?}"
    );
    assert!(server.all("Users").values().all(|u| u["active"] == true));
    let dry = env.roster(&["push", "--dry-run"]).code(4);
    assert!(dry.stdout.contains("BLOCKED"), "{dry:?}");

    let out = push(&env, &["--allow-removals", "5"]).ok().json();
    assert_eq!(out["users"]["deactivate"], 5);
    let users = server.all("Users");
    let inactive: Vec<&String> = users
        .iter()
        .filter(|(_, u)| u["active"] == false)
        .map(|(k, _)| k)
        .collect();
    assert_eq!(inactive, ["E1", "E2", "E3", "E4", "E5"]);
}

/// `--full` that ends blocked by the removal safeguard sends nothing: not even the deletion
/// of a duplicate it found (that waits for the push that proceeds).
#[test]
fn a_blocked_full_push_removes_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let proxy = Tamper::start(server.port, |_| Act::Pass);
    let env = setup(&proxy.url(), "groups = false");
    let all: Vec<String> = (1..=10)
        .map(|i| format!("E{i},User {i},u{i}@example.org,,,"))
        .collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    env.import("day1.csv", &csv(&all), &[]).ok();
    push(&env, &[]).ok();
    assert_eq!(
        server.send(
            "POST",
            "/Users",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "externalId": "E1", "userName": "dup@example.org", "active": true})
            )
        ),
        201
    );
    env.import("day2.csv", &csv(&all[..2]), &["--allow-removals", "99"])
        .ok();
    let before = proxy.writes();
    let blocked = env.roster(&["push", "--full"]).code(4);
    assert!(blocked.stdout.contains("BLOCKED"), "{blocked:?}");
    assert_eq!(proxy.writes(), before, "nothing is sent when blocked");

    let out = push(&env, &["--full", "--allow-removals", "8"]).ok().json();
    assert_eq!(out["users"]["deactivate"], 8, "{out}");
    assert_eq!(out["duplicates"].as_array().unwrap().len(), 1, "{out}");
    assert!(
        out["duplicates"][0].as_str().unwrap().contains(" removed"),
        "{out}"
    );
}

#[test]
fn removed_delete_deletes_and_dry_run_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(
        &server.url(),
        "removed = \"delete\"\n[import]\nmax_removals = 5\n",
    );
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,,,",
            "E2,Bo Ek,bo@example.org,,,",
        ]),
        &[],
    )
    .ok();
    let dry = env.roster(&["push", "--dry-run"]).ok();
    assert!(dry.stdout.contains("ann@example.org"), "{}", dry.stdout);
    assert!(server.all("Users").is_empty());
    let status = env.roster(&["status", "--format", "json"]).json();
    assert!(status["push"]["last"].is_null(), "{status}");
    push(&env, &[]).ok();
    env.import("day2.csv", &csv(&["E1,Ann Berg,ann@example.org,,,"]), &[])
        .ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["delete"], 1, "{out}");
    let users = server.all("Users");
    assert_eq!(users.keys().collect::<Vec<_>>(), ["E1"]);
}

#[test]
fn a_refused_change_is_recorded_reported_and_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    // Someone made an account in the app with Ann's address, not through roster.
    assert_eq!(
        server.send(
            "POST",
            "/Users",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName": "ann@example.org"})
            )
        ),
        201
    );
    let env = setup(&server.url(), "");
    env.import(
        "users.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,,,",
            "E2,Bo Ek,bo@example.org,,,",
        ]),
        &[],
    )
    .ok();
    let out = push(&env, &[]).code(1);
    let doc = out.json();
    assert_eq!(doc["status"], "partial");
    assert_eq!(doc["refused"][0]["id"], "E1", "{doc}");
    assert!(
        doc["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("409"),
        "{doc}"
    );
    assert!(out.stderr.contains("refused 1 change"), "{}", out.stderr);
    assert!(server.all("Users").contains_key("E2"));
    // `changes` lists what was sent: E2's create, not E1's refused one.
    let sent: Vec<&str> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ["E2"], "{doc}");

    let status = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["push"]["failures"], 1, "{status}");
    assert_eq!(status["push"]["pending"], 1, "{status}");
    assert_eq!(status["push"]["refused"][0]["id"], "E1");
    let report = env.roster(&["report", "--format", "text"]).ok();
    assert!(
        report.stdout.contains("refused by the provider"),
        "{}",
        report.stdout
    );
    let metrics = prometheus(&env.roster(&["status", "--format", "prometheus"]).stdout);
    assert_eq!(metrics["roster_push_failures"], 1.0, "{metrics}");
    assert_eq!(metrics["roster_push_pending"], 1.0, "{metrics}");

    // The app's account goes; the next push sends Ann again, and only her.
    let blocker = server.all("Users")[""]["id"].as_str().unwrap().to_string();
    assert_eq!(
        server.send("DELETE", &format!("/Users/{blocker}"), None),
        204
    );
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["create"], 1, "{out}");
    assert_eq!(out["users"]["unchanged"], 1, "{out}");
    assert_eq!(server.all("Users")["E1"]["userName"], "ann@example.org");
    let status = env.roster(&["status", "--format", "json"]).json();
    assert_eq!(status["push"]["failures"], 0, "{status}");
    assert_eq!(status["push"]["pending"], 0, "{status}");
}

#[test]
fn a_busy_provider_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let busy = support::servers::Busy::start(
        server.port,
        2,
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let env = setup(&format!("http://127.0.0.1:{}", busy.port), "");
    env.write(
        "roster.toml",
        format!(
            "[scim]\nurl = \"http://127.0.0.1:{}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = 2\n",
            busy.port
        ),
    );
    env.import("users.csv", &csv(&["E1,Ann Berg,ann@example.org,,,"]), &[])
        .ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["create"], 1);
    assert!(server.all("Users").contains_key("E1"));

    // A provider that keeps failing is given up after scim.retries: exit 1.
    let down = support::servers::Busy::start(
        server.port,
        usize::MAX,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    env.write(
        "roster.toml",
        format!(
            "[scim]\nurl = \"http://127.0.0.1:{}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = 1\n",
            down.port
        ),
    );
    let run = env.roster(&["push"]).code(1);
    assert!(run.stderr.contains("503"), "{}", run.stderr);
}

#[test]
fn sync_pushes_after_its_apply() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(&server.url(), "[import]\nmax_updates = 10\n");
    groups(&env, &[("ICU", "Intensive care")]);
    let file = env.write(
        "users.csv",
        csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,ICU",
            "E2,Bo Ek,bo@example.org,,,ICU",
        ]),
    );
    let source = file.to_str().unwrap();
    let run = env.roster(&["sync", "--source", source]).ok();
    assert!(
        run.stdout.contains("push: users 2 created"),
        "{}",
        run.stdout
    );
    let users = server.all("Users");
    assert_eq!(users.len(), 2);
    assert_eq!(
        member_ids(&server.all("Groups")["ICU"]),
        ids_of(&users, &["E1", "E2"])
    );
    env.write(
        "users.csv",
        csv(&[
            "E1,Ann Berg,ann@example.org,Head nurse,,ICU",
            "E2,Bo Ek,bo@example.org,,,ICU",
        ]),
    );
    env.roster(&["sync", "--source", source, "--format", "json"])
        .ok()
        .json();
    assert_eq!(server.all("Users")["E1"]["title"], "Head nurse");
    let status = env.roster(&["status", "--format", "json"]).ok().json();
    assert_eq!(status["push"]["last"]["status"], "pushed", "{status}");
    assert_eq!(status["push"]["pending"], 0);

    // Without a token, sync stops before it writes anything (exit 2).
    env.write("scim.token", "");
    let before = env.snapshot("runs");
    let run = env.roster(&["sync", "--source", source]).code(2);
    assert!(run.stderr.contains("scim.token_file"), "{}", run.stderr);
    assert_eq!(env.snapshot("runs"), before);
}

#[test]
fn without_bulk_each_change_is_one_request() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_file(
        dir.path(),
        Spc {
            bulk_ops: 0,
            max_payload: 0,
            page: 2,
            etag: false,
        },
    );
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let env = setup(
        &server.url(),
        "[import]\nmax_updates = 10\nmax_removals = 5\n",
    );
    groups(&env, &[("ICU", "Intensive care")]);
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,ICU",
            "E2,Bo Ek,bo@example.org,,,ICU",
            "E3,Cy Dahl,cy@example.org,,,",
        ]),
        &[],
    )
    .ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["bulk_requests"], 0, "{out}");
    // The ServiceProviderConfig, how many users and groups the provider holds, 3 users, 1
    // group.
    assert_eq!(out["requests"], 7, "{out}");
    env.import(
        "day2.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Head nurse,,ICU",
            "E2,Bo Ek,bo@example.org,,,ICU",
        ]),
        &[],
    )
    .ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["update"], 1, "{out}");
    assert_eq!(out["users"]["deactivate"], 1, "{out}");
    assert_eq!(out["requests"], 3, "{out}");
    let users = server.all("Users");
    assert_eq!(users["E1"]["title"], "Head nurse");
    assert_eq!(users["E3"]["active"], false);
    // --full pages through the listing at the provider's maxResults (2 a page).
    let full = push(&env, &["--full"]).ok().json();
    assert_eq!(full["users"]["unchanged"], 3, "{full}");
    assert_eq!(full["groups"]["unchanged"], 1, "{full}");
}

#[test]
fn verbose_logs_the_push_stages_and_very_verbose_each_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(&server.url(), "");
    groups(&env, &[("ICU", "Intensive care")]);
    env.import(
        "users.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,ICU",
            "E2,Bo Ek,bo@example.org,,,ICU",
        ]),
        &[],
    )
    .ok();
    let run = env.roster(&["-v", "push"]).ok();
    let lines: Vec<&str> = run.stderr.lines().collect();
    // One line per stage (SPEC §3.1): its name, its counts, the time it took.
    for stage in [
        "roster: push: read 2 users and 1 groups from the store in ",
        "roster: push: connected to ",
        "roster: push: users: 2 created, 0 updated, 0 deactivated, 0 deleted, 0 unchanged; 0 refused; ",
        "roster: push: groups: 1 created, 0 updated, 0 deleted, 0 unchanged; 0 refused; ",
        "roster: push: pushed: 5 requests (2 bulk) in ",
    ] {
        let line = lines.iter().find(|l| l.starts_with(stage));
        assert!(
            line.is_some_and(|l| l.ends_with('s') && l.contains(" in ")),
            "{stage}\n{}",
            run.stderr
        );
    }
    assert!(
        lines.iter().all(|l| l.starts_with("roster: ")),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("scim: "),
        "-v has no request lines: {}",
        run.stderr
    );

    // -vv adds each request: method, path, status and time; never the token.
    env.import(
        "day2.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Head nurse,,ICU",
            "E2,Bo Ek,bo@example.org,,,ICU",
        ]),
        &["--allow-updates", "1"],
    )
    .ok();
    let run = env.roster(&["-vv", "push"]).ok();
    for step in [
        "roster: scim: GET /ServiceProviderConfig: 200 in ",
        "roster: scim: POST /Bulk: 200 in ",
        "roster: push: users: 0 created, 1 updated",
        "roster: sqlite: opened",
    ] {
        assert!(run.stderr.contains(step), "{step}: {}", run.stderr);
    }
    assert!(!run.stderr.contains(TOKEN), "{}", run.stderr);

    // -q beats -v: nothing on stderr; and without -v stderr stays clean (off a terminal).
    let run = env.roster(&["-q", "-v", "push"]).ok();
    assert_eq!(run.stderr, "");
    let run = env.roster(&["push"]).ok();
    assert_eq!(run.stderr, "");
}

/// What a test's scim2-server advertises: bulks of `bulk_ops` operations (0: no bulk) within
/// `max_payload` bytes, filter results in pages of `page`, ETags as `etag`.
struct Spc {
    bulk_ops: u64,
    max_payload: u64,
    page: u64,
    etag: bool,
}

impl Default for Spc {
    fn default() -> Self {
        Spc {
            bulk_ops: 100,
            max_payload: 1_048_576,
            page: 1000,
            etag: true,
        }
    }
}

/// A ServiceProviderConfig file for scim2-server that advertises `spc`.
fn spc_file(dir: &std::path::Path, spc: Spc) -> std::path::PathBuf {
    let path = dir.join("spc.json");
    std::fs::write(
        &path,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {
                "supported": spc.bulk_ops > 0,
                "maxOperations": spc.bulk_ops,
                "maxPayloadSize": spc.max_payload,
            },
            "filter": {"supported": true, "maxResults": spc.page},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": spc.etag},
            "authenticationSchemes": []
        })
        .to_string(),
    )
    .unwrap();
    path
}

/// Point roster.toml at `url` (the same settings as `setup`).
fn point_at(env: &Env, url: &str) {
    env.write(
        "roster.toml",
        format!(
            "[scim]\nurl = \"{url}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = 1\ntimeout_secs = 120\n"
        ),
    );
}

/// Each group's members on the provider are exactly the provider ids of these users.
fn assert_members(server: &Scim, want: &[(&str, &[&str])]) {
    let users = server.all("Users");
    let groups = server.all("Groups");
    assert_eq!(groups.len(), want.len(), "{groups:?}");
    for (group, members) in want {
        assert_eq!(
            member_ids(&groups[*group]),
            ids_of(&users, members),
            "members of {group}"
        );
    }
}

#[test]
fn a_push_stopped_in_the_groups_resumes_without_sending_twice() {
    let dir = tempfile::tempdir().unwrap();
    // Two operations a bulk: the users go in three bulks, the groups in two.
    let server = Scim::start(
        dir.path(),
        TOKEN,
        Some(&spc_file(
            dir.path(),
            Spc {
                bulk_ops: 2,
                ..Spc::default()
            },
        )),
    );
    let env = setup(&server.url(), "");
    groups(&env, &[("A", "Alpha"), ("B", "Beta"), ("C", "Gamma")]);
    let day1 = csv(&[
        "E1,User 1,u1@example.org,,,\"A,C\"",
        "E2,User 2,u2@example.org,,,\"A,B,C\"",
        "E3,User 3,u3@example.org,,,\"A,B\"",
        "E4,User 4,u4@example.org,,,A",
        "E5,User 5,u5@example.org,,,\"A,B\"",
        "E6,User 6,u6@example.org,,,A",
    ]);
    env.import("day1.csv", &day1, &[]).ok();

    // The server hangs up mid-groups: the ServiceProviderConfig, the reads of how many users
    // and groups the provider holds, three user bulks and the first group bulk pass; the
    // second group bulk reaches the provider but its answer is lost.
    let gate = Gate::start(server.port, 7);
    point_at(&env, &format!("http://127.0.0.1:{}", gate.port));
    let run = env.roster(&["push"]).code(1);
    assert!(run.stderr.contains("unreachable"), "{}", run.stderr);
    assert_eq!(server.all("Users").len(), 6);
    assert_eq!(
        server.all("Groups").len(),
        3,
        "the lost bulk reached the provider"
    );

    point_at(&env, &server.url());
    let out = push(&env, &[]).ok().json();
    // The group whose answer was lost is looked up by externalId, not created again, and
    // nothing is sent: the ServiceProviderConfig and one lookup. It counts as taken over.
    assert_eq!(out["status"], "pushed", "{out}");
    assert_eq!(out["users"]["unchanged"], 6, "{out}");
    assert_eq!(out["groups"]["create"], 0, "{out}");
    assert_eq!(out["groups"]["taken_over"], 1, "{out}");
    assert_eq!(out["groups"]["unchanged"], 2, "{out}");
    assert_eq!(out["bulk_requests"], 0, "{out}");
    assert_eq!(out["requests"], 2, "{out}");
    let all: &[&str] = &["E1", "E2", "E3", "E4", "E5", "E6"];
    assert_members(
        &server,
        &[("A", all), ("B", &["E2", "E3", "E5"]), ("C", &["E1", "E2"])],
    );

    // Day 2 moves people between groups; roster is killed (-9) after the provider has applied
    // the bulk of group updates but before roster heard the answer.
    let day2 = csv(&[
        "E1,User 1,u1@example.org,,,\"A,C\"",
        "E2,User 2,u2@example.org,,,\"A,B\"",
        "E3,User 3,u3@example.org,,,\"A,B\"",
        "E4,User 4,u4@example.org,,,\"A,B,C\"",
        "E5,User 5,u5@example.org,,,\"A,B\"",
        "E6,User 6,u6@example.org,,,\"A,B\"",
    ]);
    env.import("day2.csv", &day2, &["--allow-updates", "10"])
        .ok();
    // Connection 0 is the ServiceProviderConfig, 1 the one bulk with B and C.
    let hold = support::servers::Hold::start(server.port, 1);
    point_at(&env, &format!("http://127.0.0.1:{}", hold.port));
    let mut child = env
        .command(&["push"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    hold.wait_answered();
    child.kill().unwrap();
    child.wait().unwrap();
    let b_and_c = [
        ("B", &["E2", "E3", "E4", "E5", "E6"][..]),
        ("C", &["E1", "E4"][..]),
    ];
    let groups = server.all("Groups");
    let users = server.all("Users");
    for (g, members) in b_and_c {
        assert_eq!(
            member_ids(&groups[g]),
            ids_of(&users, members),
            "applied before the kill"
        );
    }

    point_at(&env, &server.url());
    let out = push(&env, &[]).ok().json();
    // What the provider applied is read back, not sent again.
    assert_eq!(out["status"], "pushed", "{out}");
    assert_eq!(out["groups"]["update"], 0, "{out}");
    assert_eq!(out["groups"]["unchanged"], 3, "{out}");
    assert_eq!(out["bulk_requests"], 0, "{out}");
    assert_eq!(out["refused"], json!([]), "{out}");
    assert_members(&server, &[("A", all), b_and_c[0], b_and_c[1]]);
    let again = push(&env, &[]).ok().json();
    assert_eq!(again["requests"], 1, "{again}");
}

#[test]
fn a_resource_changed_on_the_provider_since_roster_read_it_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(&server.url(), "");
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,",
            "E2,Bo Ek,bo@example.org,Doctor,,",
            "E3,Cy Dahl,cy@example.org,,,",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    // Ann's title changes in the file, and Bo leaves it; meanwhile someone edits both in the
    // app, so the versions roster holds are stale: the provider answers 412 to its If-Match.
    env.import(
        "day2.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Head nurse,,",
            "E3,Cy Dahl,cy@example.org,,,",
        ]),
        &["--allow-updates", "1", "--allow-removals", "1"],
    )
    .ok();
    let before = server.all("Users");
    for (key, phone) in [("E1", "+46700000001"), ("E2", "+46700000002")] {
        let mut u = before[key].clone();
        u["phoneNumbers"] = json!([{"value": phone, "type": "work"}]);
        let path = format!("/Users/{}", u["id"].as_str().unwrap());
        assert_eq!(server.send("PUT", &path, Some(u)), 200);
    }
    assert_ne!(
        server.all("Users")["E1"]["meta"]["version"],
        before["E1"]["meta"]["version"]
    );

    let out = push(&env, &["--allow-removals", "1"]).ok().json();
    assert_eq!(out["status"], "pushed", "{out}");
    assert_eq!(out["users"]["update"], 1, "{out}");
    assert_eq!(out["users"]["deactivate"], 1, "{out}");
    assert_eq!(out["refused"], json!([]), "{out}");
    // The ServiceProviderConfig, the bulk answered 412 twice over, a read of each of the two,
    // and the bulk sent again with their new versions.
    assert_eq!(out["bulk_requests"], 2, "{out}");
    assert_eq!(out["requests"], 5, "{out}");
    let users = server.all("Users");
    // The store is the truth: the app's edit of the phone is put back.
    assert_eq!(users["E1"]["title"], "Head nurse");
    assert!(users["E1"].get("phoneNumbers").is_none(), "{}", users["E1"]);
    assert_eq!(users["E2"]["active"], false);
    assert_eq!(users["E3"]["active"], true);
    let again = push(&env, &[]).ok().json();
    assert_eq!(again["requests"], 1, "{again}");
}

#[test]
fn a_precondition_that_fails_again_is_refused_reported_and_tried_next_time() {
    let dir = tempfile::tempdir().unwrap();
    // One request per change, with ETags.
    let server = Scim::start(
        dir.path(),
        TOKEN,
        Some(&spc_file(
            dir.path(),
            Spc {
                bulk_ops: 0,
                ..Spc::default()
            },
        )),
    );
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                      "status": "412", "detail": "the resource changed"})
    .to_string();
    let answer = format!(
        "HTTP/1.1 412 Precondition Failed\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // Every PUT is answered 412 twice: the first try and the one after roster reads it again.
    let proxy = support::servers::Refuse::start(server.port, "PUT", 2, answer);
    let env = setup(&format!("http://127.0.0.1:{}", proxy.port), "");
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,",
            "E2,Bo Ek,bo@example.org,,,",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    env.import(
        "day2.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Head nurse,,",
            "E2,Bo Ek,bo@example.org,,,",
        ]),
        &["--allow-updates", "1"],
    )
    .ok();
    let run = push(&env, &[]).code(1);
    let out = run.json();
    assert_eq!(proxy.refused.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(out["status"], "partial", "{out}");
    assert_eq!(out["refused"][0]["id"], "E1", "{out}");
    assert_eq!(out["refused"][0]["action"], "update", "{out}");
    assert!(
        out["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("412"),
        "{out}"
    );
    // SPC, PUT (412), GET, PUT (412).
    assert_eq!(out["requests"], 4, "{out}");
    assert!(run.stderr.contains("refused 1 change"), "{}", run.stderr);
    assert_eq!(server.all("Users")["E1"]["title"], "Nurse");
    let status = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["push"]["failures"], 1, "{status}");
    assert_eq!(status["push"]["pending"], 1, "{status}");

    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["update"], 1, "{out}");
    assert_eq!(server.all("Users")["E1"]["title"], "Head nurse");
    let status = env.roster(&["status", "--format", "json"]).ok().json();
    assert_eq!(status["push"]["failures"], 0, "{status}");
}

#[test]
fn push_progress_shows_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(&server.url(), "");
    groups(&env, &[("ALL", "Everyone"), ("ICU", "Intensive care")]);
    env.import("users.csv", &many(2500), &[]).ok();
    let (code, seen) = on_a_terminal(&env, &["push"]);
    assert_eq!(code, 0, "{seen}");
    assert!(seen.contains("push users"), "{seen}");
    assert!(
        seen.contains("/2500"),
        "users sent of users to send: {seen}"
    );
    assert!(seen.contains("push groups"), "{seen}");
    assert!(
        !seen.contains("\"status\""),
        "stdout is not on the terminal: {seen}"
    );

    // --full reads the provider: that shows too.
    let (code, seen) = on_a_terminal(&env, &["push", "--full"]);
    assert_eq!(code, 0, "{seen}");
    assert!(seen.contains("reading the provider's users"), "{seen}");

    // -q: nothing, even on a terminal; and piped, no bar.
    let (code, seen) = on_a_terminal(&env, &["-q", "push", "--full"]);
    assert_eq!((code, seen.as_str()), (0, ""));
    let run = env.roster(&["push", "--full"]).ok();
    assert_eq!(run.stderr, "");
}

/// The plan of a push holds small per-user state, not each user's SCIM document: planning
/// 20,000 creates (and groups with 20,000 and 2,000 members) stays within a bound that the
/// JSON trees of the representations (about 6 kB a user) would exceed twice over.
#[test]
fn a_push_plan_holds_little_memory_per_user() {
    let env = setup("http://127.0.0.1:9/v2", "");
    groups(&env, &[("ALL", "Everyone"), ("ICU", "Intensive care")]);
    env.import("users.csv", &many(20_000), &[]).ok();
    let peak = env.path("peak.txt");
    let cmd = env.command(&["-q", "push", "--dry-run"]);
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&peak)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .current_dir(env.dir.path())
        .env_clear()
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let kib: u64 = std::fs::read_to_string(&peak)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .next_back()
        .unwrap();
    assert!(
        kib < 64 * 1024,
        "peak {} MiB planning 20,000 users",
        kib / 1024
    );
}

/// A user renamed (new name and address), then gone (deactivated in the app and out of its
/// groups), then back in the file (reactivated, in its groups again); a group that has no
/// members is a SCIM Group all the same.
#[test]
fn a_user_renamed_deactivated_and_reactivated_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(
        &server.url(),
        "[import]\nmax_removals = 5\nmax_updates = 5\n",
    );
    groups(&env, &[("ICU", "Intensive care"), ("EMPTY", "Nobody yet")]);
    let ann = "E1,Ann Berg,ann@example.org,Nurse,,ICU";
    let bo = "E2,Bo Ek,bo@example.org,,,ICU";
    env.import("day1.csv", &csv(&[ann, bo]), &[]).ok();
    push(&env, &[]).ok();
    let groups_now = server.all("Groups");
    assert_eq!(groups_now["EMPTY"]["displayName"], "Nobody yet");
    assert!(member_ids(&groups_now["EMPTY"]).is_empty());

    let renamed = "E1,Ann Lind,ann.lind@example.org,Nurse,,ICU";
    env.import("day2.csv", &csv(&[renamed]), &[]).ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["update"], 1, "{out}");
    assert_eq!(out["users"]["deactivate"], 1, "{out}");
    let users = server.all("Users");
    assert_eq!(users["E1"]["userName"], "ann.lind@example.org");
    assert_eq!(users["E1"]["displayName"], "Ann Lind");
    assert_eq!(users["E1"]["name"]["formatted"], "Ann Lind");
    assert_eq!(
        users["E1"]["emails"],
        json!([{"value": "ann.lind@example.org", "type": "work", "primary": true}])
    );
    assert_eq!(users["E2"]["active"], false);
    assert_members(&server, &[("ICU", &["E1"]), ("EMPTY", &[])]);

    env.import("day3.csv", &csv(&[renamed, bo]), &[]).ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["update"], 1, "{out}");
    let users = server.all("Users");
    assert_eq!(users.len(), 2);
    assert_eq!(users["E2"]["active"], true);
    assert_members(&server, &[("ICU", &["E1", "E2"]), ("EMPTY", &[])]);
    assert_eq!(push(&env, &[]).ok().json()["requests"], 1);
}

/// The app already holds a user with roster's externalId and address (provisioned before,
/// from a store since lost): the create meets 409, and the push takes that account over and
/// brings it in step instead of failing or making a second one.
#[test]
fn a_user_the_app_already_holds_is_taken_over_not_duplicated() {
    for bulk in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_file(
            dir.path(),
            Spc {
                bulk_ops: if bulk { 1000 } else { 0 },
                ..Spc::default()
            },
        );
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        assert_eq!(
            server.send(
                "POST",
                "/Users",
                Some(json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "externalId": "E1", "userName": "ann@example.org",
                    "displayName": "Old Name", "title": "Cleaner", "active": false
                }))
            ),
            201
        );
        let env = setup(&server.url(), "");
        env.import(
            "day1.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,Nurse,,",
                "E2,Bo Ek,bo@example.org,,,",
            ]),
            &[],
        )
        .ok();
        let out = push(&env, &[]).ok().json();
        assert!(out["refused"].as_array().unwrap().is_empty(), "{out}");
        let users = server.all("Users");
        assert_eq!(users.len(), 2, "bulk {bulk}: {users:?}");
        assert_eq!(users["E1"]["displayName"], "Ann Berg");
        assert_eq!(users["E1"]["title"], "Nurse");
        assert_eq!(users["E1"]["active"], true);
        assert_eq!(push(&env, &[]).ok().json()["requests"], 1, "bulk {bulk}");
    }
}

/// An account the app already holds under roster's `externalId` but another userName (no
/// 409 to tell) is found before roster creates it and taken over: a plain push never leaves
/// two active accounts of one externalId. With a filter and without (then by the listing),
/// with bulk and without.
#[test]
fn a_plain_push_takes_over_an_account_of_its_external_id_under_another_user_name() {
    for (bulk, filter) in [(true, true), (false, true), (false, false)] {
        let what = format!("bulk {bulk}, filter {filter}");
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), bulk, filter, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        for (id, name, active) in [("E1", "ann.old", true), ("E2", "bo", false)] {
            let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "externalId": id, "userName": format!("{name}@example.org"), "active": active});
            assert_eq!(server.send("POST", "/Users", Some(user)), 201);
        }
        let env = setup(&server.url(), "groups = false");
        env.import(
            "day1.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,Nurse,,",
                "E2,Bo Ek,bo@example.org,,,",
                "E3,Cy Al,cy@example.org,,,",
            ]),
            &[],
        )
        .ok();
        let out = push(&env, &[]).ok().json();
        assert_eq!(out["users"]["create"], 1, "{what}: {out}");
        assert_eq!(out["users"]["taken_over"], 2, "{what}: {out}");
        // `all` fails on two resources of one externalId.
        let users = server.all("Users");
        assert_eq!(users.len(), 3, "{what}");
        assert_eq!(users["E1"]["userName"], "ann@example.org", "{what}");
        assert_eq!(users["E1"]["active"], true, "{what}");
        assert_eq!(users["E2"]["active"], true, "{what}");
        let full = push(&env, &["--full"]).ok().json();
        assert_eq!(full["duplicates"], json!([]), "{what}: {full}");
        assert_eq!(push(&env, &[]).ok().json()["requests"], 1, "{what}");
    }
}

/// A group the app already holds under roster's `externalId` but another displayName (made
/// by hand, or by a push whose store was lost; no 409 to tell) is found before roster creates
/// it and taken over, renamed and given its members: a plain push never leaves two groups of
/// one externalId. With a filter and without (then by the listing), with bulk and without.
#[test]
fn a_plain_push_takes_over_a_group_of_its_external_id_under_another_name() {
    for (bulk, filter) in [(true, true), (false, true), (false, false)] {
        let what = format!("bulk {bulk}, filter {filter}");
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), bulk, filter, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "externalId": "ICU", "displayName": "Old ICU name", "members": []});
        assert_eq!(server.send("POST", "/Groups", Some(group)), 201);
        let env = setup(&server.url(), "");
        groups(&env, &[("ICU", "Intensive care"), ("WARD", "Ward")]);
        env.import(
            "day1.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,Nurse,,ICU",
                "E2,Bo Ek,bo@example.org,,,WARD",
            ]),
            &[],
        )
        .ok();
        let out = push(&env, &[]).ok().json();
        assert_eq!(out["groups"]["create"], 1, "{what}: {out}");
        assert_eq!(out["groups"]["taken_over"], 1, "{what}: {out}");
        // `all` fails on two resources of one externalId.
        let held = server.all("Groups");
        assert_eq!(held.len(), 2, "{what}: {held:?}");
        assert_eq!(held["ICU"]["displayName"], "Intensive care", "{what}");
        assert_members(&server, &[("ICU", &["E1"]), ("WARD", &["E2"])]);
        let full = push(&env, &["--full"]).ok().json();
        assert_eq!(full["duplicates"], json!([]), "{what}: {full}");
        assert_eq!(push(&env, &[]).ok().json()["requests"], 1, "{what}");
    }
}

/// A provider with a small maxPayloadSize (and few operations a bulk): every bulk fits, so
/// the provider never answers 413 and no change falls back to a request of its own, except
/// one too large for any bulk (a group of many members), which goes alone.
#[test]
fn bulks_fit_a_small_max_payload_size() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_file(
        dir.path(),
        Spc {
            bulk_ops: 7,
            max_payload: 3000,
            page: 50,
            etag: false,
        },
    );
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let env = setup(&server.url(), "");
    groups(&env, &[("ALL", "Everyone"), ("ICU", "Intensive care")]);
    env.import("users.csv", &many(100), &[]).ok();
    let out = push(&env, &["-vv"]).ok();
    let json = out.json();
    assert!(!out.stderr.contains(": 413 "), "{}", out.stderr);
    assert_eq!(json["users"]["create"], 100, "{json}");
    // At most 7 a bulk and about 300 bytes a user in 3,000 bytes: at least 15 bulks.
    let bulks = json["bulk_requests"].as_u64().unwrap();
    assert!(bulks >= 15, "{json}");
    // ALL (100 members, about 4,500 bytes) goes alone; ICU (10 members) fits a bulk.
    let singles = out.stderr.matches("scim: POST /Groups:").count();
    assert_eq!(singles, 1, "{}", out.stderr);
    assert_eq!(json["requests"].as_u64().unwrap(), 3 + bulks + 1, "{json}");
    assert_eq!(server.all("Users").len(), 100);
    assert_eq!(member_ids(&server.all("Groups")["ALL"]).len(), 100);
    assert_eq!(push(&env, &[]).ok().json()["requests"], 1);
}

// ---- A provider that is slow, broken or hostile (SPEC §8) ----

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::servers::{Act, Seen, Tamper};

/// roster.toml for `url` with a short timeout (so that a delayed answer is lost).
fn setup_timeout(url: &str, timeout: u64) -> Env {
    let env = Env::new();
    env.write("scim.token", format!("{TOKEN}\n"));
    write_config(&env, url, timeout);
    env
}

fn write_config(env: &Env, url: &str, timeout: u64) {
    env.write(
        "roster.toml",
        format!(
            "[scim]\nurl = \"{url}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = 1\ntimeout_secs = {timeout}\n"
        ),
    );
}

/// A ServiceProviderConfig file: bulk or not, filter or not, PATCH or not.
fn spc_with(dir: &std::path::Path, bulk: bool, filter: bool, patch: bool) -> std::path::PathBuf {
    let path = dir.join("spc-with.json");
    std::fs::write(
        &path,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": patch},
            "bulk": {"supported": bulk, "maxOperations": 1000, "maxPayloadSize": 1048576},
            "filter": {"supported": filter, "maxResults": 1000},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": true},
            "authenticationSchemes": []
        })
        .to_string(),
    )
    .unwrap();
    path
}

/// Whether a request creates groups: a POST /Groups, or a bulk that holds one.
fn creates_groups(r: &Seen) -> bool {
    r.method == "POST"
        && (r.path.starts_with("/Groups")
            || (r.path.starts_with("/Bulk") && r.text().contains("\"path\":\"/Groups\"")))
}

/// Exactly once: the answer to the first request that creates the groups arrives after
/// roster gave up on it (the provider made them); roster looks them up by externalId instead
/// of sending them again, so the provider holds one ICU, and E1 leaving ICU leaves no group
/// holding E1. With bulk and without, with a filter and without (then by the listing).
#[test]
fn a_create_whose_answer_was_lost_is_looked_up_not_sent_twice() {
    for (bulk, filter) in [(true, true), (false, true), (false, false), (true, false)] {
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), bulk, filter, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        let delayed = Arc::new(AtomicUsize::new(0));
        let d = delayed.clone();
        let proxy = Tamper::start(server.port, move |r| {
            if creates_groups(r)
                && d.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            {
                Act::Delay(Duration::from_secs(4))
            } else {
                Act::Pass
            }
        });
        let env = setup_timeout(&proxy.url(), 2);
        groups(&env, &[("ICU", "Intensive care"), ("ER", "Emergency")]);
        env.import(
            "day1.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,Nurse,,ICU",
                "E2,Bo Ek,bo@example.org,Doctor,,\"ICU,ER\"",
            ]),
            &[],
        )
        .ok();
        let what = format!("bulk {bulk}, filter {filter}");
        let out = push(&env, &[]).ok().json();
        assert_eq!(delayed.load(Ordering::SeqCst), 1, "{what}");
        assert_eq!(out["groups"]["create"], 2, "{what}: {out}");
        // `all` fails on two resources of one externalId.
        assert_members(&server, &[("ICU", &["E1", "E2"]), ("ER", &["E2"])]);

        env.import(
            "day2.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,Nurse,,ER",
                "E2,Bo Ek,bo@example.org,Doctor,,\"ICU,ER\"",
            ]),
            &["--allow-updates", "9"],
        )
        .ok();
        push(&env, &[]).ok();
        assert_members(&server, &[("ICU", &["E2"]), ("ER", &["E1", "E2"])]);
        let e1 = server.all("Users")["E1"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let icu = &server.all("Groups")["ICU"];
        assert!(!member_ids(icu).contains(&e1), "{what}");
        let full = push(&env, &["--full"]).ok().json();
        assert_eq!(full["duplicates"], json!([]), "{what}: {full}");
    }
}

/// Duplicates of one externalId, whoever made them, are found by `--full`: the one roster
/// tracks is kept, the others deleted, each named.
#[test]
fn full_removes_duplicates_of_one_external_id_and_names_each() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(&server.url(), "");
    groups(&env, &[("ICU", "Intensive care")]);
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,ICU",
            "E2,Bo Ek,bo@example.org,Doctor,,ICU",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    let users = server.get("/Users?count=1000");
    let e1 = users["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["externalId"] == "E1")
        .unwrap()["id"]
        .clone();
    // Someone else made a second ICU (holding E1) and a second E2.
    assert_eq!(
        server.send(
            "POST",
            "/Groups",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                        "externalId": "ICU", "displayName": "ICU copy",
                        "members": [{"value": e1}]})
            )
        ),
        201
    );
    assert_eq!(
        server.send(
            "POST",
            "/Users",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "externalId": "E2", "userName": "bo2@example.org", "active": true})
            )
        ),
        201
    );
    let run = env.roster(&["push", "--full"]).ok();
    assert!(
        run.stdout.contains("duplicate group ICU (id "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("duplicate user E2 (id "),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.matches(" removed").count(), 2, "{}", run.stdout);
    // `all` fails on two resources of one externalId.
    assert_members(&server, &[("ICU", &["E1", "E2"])]);
    assert_eq!(server.all("Users")["E2"]["userName"], "bo@example.org");
    let again = push(&env, &["--full"]).ok().json();
    assert_eq!(again["duplicates"], json!([]), "{again}");
}

/// A 2xx that confirms nothing (a bulk answer without Operations, a 201 without an id) leaves
/// the change pending: exit 1 naming what the provider failed to say; the counts and `status`
/// show nothing sent; the next push looks the creates up (by a filter, or by the listing
/// without one) and takes them over, never twice.
#[test]
fn an_answer_that_confirms_nothing_leaves_the_change_pending() {
    for (bulk, filter) in [(true, true), (false, true), (false, false)] {
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), bulk, filter, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        let proxy = Tamper::start(server.port, |r| {
            if r.method == "POST" && r.path == "/Bulk" {
                Act::Edit(Box::new(|status, mut v| {
                    v.as_object_mut().map(|o| o.remove("Operations"));
                    (status, v)
                }))
            } else if r.method == "POST" && r.path.starts_with("/Users") {
                Act::Edit(Box::new(|status, mut v| {
                    v.as_object_mut().map(|o| o.remove("id"));
                    (status, v)
                }))
            } else {
                Act::Pass
            }
        });
        let env = setup(&proxy.url(), "groups = false");
        env.import(
            "day1.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,Nurse,,",
                "E2,Bo Ek,bo@example.org,,,",
            ]),
            &[],
        )
        .ok();
        let run = push(&env, &[]).code(1);
        let out = run.json();
        assert_eq!(out["status"], "unconfirmed", "bulk {bulk}: {out}");
        assert_eq!(out["users"]["create"], 0, "{out}");
        assert_eq!(
            out["changes"],
            json!([]),
            "nothing confirmed is listed as sent: {out}"
        );
        let said = if bulk {
            "without Operations"
        } else {
            "without an id"
        };
        assert!(run.stderr.contains(said), "bulk {bulk}: {}", run.stderr);
        let status = env.roster(&["status", "--format", "json"]).json();
        assert_ne!(status["push"]["last"]["status"], "pushed", "{status}");
        assert_eq!(status["push"]["pending"], 2, "{status}");

        // The next push looks up what the provider made: found and taken, not sent again,
        // and counted as taken over (in its output, its counts and `status`).
        let out = push(&env, &[]).ok().json();
        assert_eq!(out["status"], "pushed", "{out}");
        assert_eq!(out["users"]["taken_over"], 2, "bulk {bulk}: {out}");
        assert_eq!(out["users"]["create"], 0, "{out}");
        assert_eq!(out["users"]["update"], 0, "{out}");
        assert_eq!(out["users"]["unchanged"], 0, "{out}");
        assert_eq!(server.all("Users").len(), 2);
        let status = env.roster(&["status", "--format", "json"]).json();
        let counts = &status["push"]["last"]["counts"]["users"];
        assert_eq!(counts["taken_over"], 2, "{status}");
        write_config(&env, &server.url(), 120);
        assert_eq!(push(&env, &[]).ok().json()["requests"], 1);
    }
}

/// Huge answers are refused at scim.max_response_bytes (the ServiceProviderConfig
/// included), with memory a few times the answer at most.
#[test]
fn a_huge_answer_is_an_error_in_bounded_memory() {
    let big = Arc::new({
        let mut v = b"{\"schemas\":[\"x\"],\"junk\":\"".to_vec();
        v.resize(64 << 20, b'a');
        v.extend_from_slice(b"\"}");
        v
    });
    let b = big.clone();
    let fake = Tamper::start(0, move |_| Act::Answer(200, b.clone()));
    let env = setup(&fake.url(), "");
    env.import(
        "day1.csv",
        &csv(&["E1,Ann Berg,ann@example.org,Nurse,,"]),
        &[],
    )
    .ok();
    let run = bounded(&env, &["push"], 60);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("GET /ServiceProviderConfig")
            && run.stderr.contains("scim.max_response_bytes"),
        "{}",
        run.stderr
    );
    assert!(run.peak_kib < 120 * 1024, "peak {} KiB", run.peak_kib);
}

/// A listing page just under the bound (about 15 MiB, 30,000 users) is read into typed
/// values: memory stays a few times the page.
#[test]
fn a_large_listing_page_is_read_in_bounded_memory() {
    let mut page = String::from("{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":30000,\"startIndex\":1,\"itemsPerPage\":30000,\"Resources\":[");
    for i in 0..30_000 {
        if i > 0 {
            page.push(',');
        }
        page.push_str(&format!(
            "{{\"id\":\"id-{i:08}\",\"externalId\":\"X{i}\",\"userName\":\"someone{i}@example.org\",\"displayName\":\"Some One {i}\",\"name\":{{\"formatted\":\"Some One {i}\",\"givenName\":\"Some\",\"familyName\":\"One\"}},\"emails\":[{{\"value\":\"someone{i}@example.org\",\"type\":\"work\",\"primary\":true}}],\"title\":\"Nurse of the ward number {i}\",\"active\":true,\"meta\":{{\"resourceType\":\"User\",\"version\":\"W/\\\"1\\\"\",\"location\":\"http://127.0.0.1/Users/id-{i:08}\",\"created\":\"2026-12-01T00:00:00Z\"}},\"roles\":[{{\"value\":\"staff member of the hospital\"}}]}}"
        ));
    }
    page.push_str("]}");
    let size = page.len();
    assert!(size > 14 << 20 && size < 16 << 20, "{size}");
    let page = Arc::new(page.into_bytes());
    let empty = Arc::new(b"{\"totalResults\":0,\"Resources\":[]}".to_vec());
    let spc = Arc::new(
        json!({"filter": {"supported": true, "maxResults": 1000}, "patch": {"supported": true}})
            .to_string()
            .into_bytes(),
    );
    let fake = Tamper::start(0, move |r| {
        if r.path.starts_with("/ServiceProviderConfig") {
            Act::Answer(200, spc.clone())
        } else if r.path.starts_with("/Users?startIndex=1&") {
            Act::Answer(200, page.clone())
        } else {
            Act::Answer(200, empty.clone())
        }
    });
    let env = setup(&fake.url(), "groups = false");
    let run = bounded(&env, &["push", "--full", "--dry-run"], 120);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.peak_kib < (5 * 16 + 40) * 1024,
        "peak {} MiB for a {} MiB page",
        run.peak_kib / 1024,
        size >> 20
    );
}

/// Listing for --full ends within its bounds: a provider that claims 10^15 resources and
/// keeps bringing new ones is read for (tracked + 10,000) / itemsPerPage + 1 pages at most,
/// then it is an error (exit 1), and nothing is read as gone.
#[test]
fn an_endless_listing_is_read_within_its_bound() {
    let spc = Arc::new(
        json!({"filter": {"supported": true, "maxResults": 100}, "patch": {"supported": true}})
            .to_string()
            .into_bytes(),
    );
    let fake = Tamper::start(0, move |r| {
        if r.path.starts_with("/ServiceProviderConfig") {
            return Act::Answer(200, spc.clone());
        }
        let start: u64 = r
            .path
            .split("startIndex=")
            .nth(1)
            .and_then(|s| s.split('&').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        let resources: Vec<Value> = (start..start + 100)
            .map(|i| json!({"id": format!("u{i}"), "userName": format!("u{i}@example.org")}))
            .collect();
        let body = json!({"totalResults": 1_000_000_000_000_000u64, "startIndex": start,
                          "itemsPerPage": 100, "Resources": resources});
        Act::Answer(200, Arc::new(body.to_string().into_bytes()))
    });
    let env = setup(&fake.url(), "groups = false");
    let run = bounded(&env, &["push", "--full", "--dry-run"], 120);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("did not end after"), "{}", run.stderr);
    let listed = fake.count(&["GET /Users"]);
    assert!(listed <= 10_000 / 100 + 1, "{listed} pages");
}

/// The bound counts pages of the provider's `itemsPerPage`, not of the `count` asked for: an
/// endless listing of pages of 1,000 (when 100 were asked) stops after 10,000 / 1,000 + 1.
#[test]
fn an_endless_listing_of_pages_larger_than_asked_is_read_within_its_bound() {
    let spc = Arc::new(
        json!({"filter": {"supported": true, "maxResults": 100}, "patch": {"supported": true}})
            .to_string()
            .into_bytes(),
    );
    let fake = Tamper::start(0, move |r| {
        if r.path.starts_with("/ServiceProviderConfig") {
            return Act::Answer(200, spc.clone());
        }
        let start: u64 = r
            .path
            .split("startIndex=")
            .nth(1)
            .and_then(|s| s.split('&').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        let resources: Vec<Value> = (start..start + 1000)
            .map(|i| json!({"id": format!("u{i}"), "userName": format!("u{i}@example.org")}))
            .collect();
        let body = json!({"totalResults": 1_000_000_000_000u64, "startIndex": start,
                          "itemsPerPage": 1000, "Resources": resources});
        Act::Answer(200, Arc::new(body.to_string().into_bytes()))
    });
    let env = setup(&fake.url(), "groups = false");
    let run = env.roster(&["push", "--full", "--dry-run"]).code(1);
    assert!(run.stderr.contains("did not end after"), "{}", run.stderr);
    let listed = fake.count(&["GET /Users"]);
    assert_eq!(listed, 10_000 / 1000 + 1, "{listed} pages");
}

/// A provider that ignores paging (every startIndex answered with the first page) is an
/// error, never users gone: nothing is deactivated nor created again.
#[test]
fn a_provider_that_ignores_paging_is_an_error_not_users_gone() {
    for echo in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let server = Scim::start(
            dir.path(),
            TOKEN,
            Some(&spc_file(
                dir.path(),
                Spc {
                    page: 10,
                    ..Spc::default()
                },
            )),
        );
        let proxy = Tamper::start(server.port, move |r| {
            let Some((head, tail)) = r.path.split_once("startIndex=") else {
                return Act::Pass;
            };
            let (asked, rest) = tail.split_once('&').unwrap_or((tail, ""));
            let asked: u64 = asked.parse().unwrap_or(1);
            r.path = format!("{head}startIndex=1&{rest}");
            if echo {
                Act::Edit(Box::new(move |s, mut v| {
                    v["startIndex"] = json!(asked);
                    (s, v)
                }))
            } else {
                Act::Pass
            }
        });
        let env = setup(&proxy.url(), "");
        env.import("day1.csv", &many(35), &[]).ok();
        push(&env, &[]).ok();
        let before = proxy.writes().len();
        let run = env.roster(&["push", "--full"]).code(1);
        assert!(run.stderr.contains("does not page"), "{}", run.stderr);
        assert_eq!(proxy.writes().len(), before, "{:?}", proxy.writes());
        assert_eq!(server.all("Users").len(), 35);
        let status = env.roster(&["status", "--format", "json"]).json();
        assert_eq!(status["push"]["pending"], 0, "{status}");
    }
}

/// The token never leaves: a provider that echoes it in an error's detail has it replaced
/// by *** in stdout, stderr, the store, status and the report.
#[test]
fn a_token_echoed_by_the_provider_never_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "POST" && r.path.starts_with("/Users") {
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400", "scimType": "invalidValue",
                "detail": format!("bad request with Authorization: Bearer {TOKEN}")});
            Act::Answer(400, Arc::new(body.to_string().into_bytes()))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "");
    env.import(
        "day1.csv",
        &csv(&["E1,Ann Berg,ann@example.org,Nurse,,"]),
        &[],
    )
    .ok();
    let mut seen = String::new();
    for args in [
        &["push"][..],
        &["push", "--format", "json"],
        &["-vv", "push"],
    ] {
        let run = env.roster(args).code(1);
        seen.push_str(&run.stdout);
        seen.push_str(&run.stderr);
    }
    assert!(seen.contains("Bearer ***"), "{seen}");
    let status = env.roster(&["status", "--format", "json"]).stdout;
    let html = env.roster(&["report", "--format", "html"]).stdout;
    let text = env.roster(&["report", "--format", "text"]).stdout;
    for (what, text) in [
        ("output", &seen),
        ("status", &status),
        ("html", &html),
        ("text", &text),
    ] {
        assert!(!text.contains(TOKEN), "{what}: {text}");
    }
    for file in ["data/roster.db", "data/roster.db-wal"] {
        let bytes = std::fs::read(env.path(file)).unwrap_or_default();
        assert!(
            !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
            "{file} holds the token"
        );
    }
}

/// A proxy that makes scim2-server behave like a provider that keeps less than it is sent:
/// no `title` on users, and a group's `members` ignored on POST and PUT (only PATCH applies
/// them), as django-scim2's default adapters do.
fn forgetful(target: u16) -> Tamper {
    fn forget(method: &str, path: &str, data: &mut Value) {
        if !matches!(method, "POST" | "PUT") {
            return;
        }
        if let Some(o) = data.as_object_mut() {
            o.remove("title");
            if path.starts_with("/Groups") {
                o.remove("members");
            }
        }
    }
    Tamper::start(target, |r| {
        if r.method == "GET" || r.body.is_empty() {
            return Act::Pass;
        }
        let mut v: Value = serde_json::from_slice(&r.body).unwrap();
        if r.path.starts_with("/Bulk") {
            for op in v["Operations"].as_array_mut().unwrap() {
                let (method, path) = (op["method"].to_string(), op["path"].to_string());
                forget(
                    method.trim_matches('"'),
                    path.trim_matches('"'),
                    &mut op["data"],
                );
            }
        } else {
            forget(&r.method, &r.path, &mut v);
        }
        r.body = v.to_string().into_bytes();
        Act::Pass
    })
}

/// What the provider kept is what counts: a dropped title is recorded per attribute (status
/// `push.dropped`, the push output once), never sent again; members ignored on POST/PUT are
/// added by PATCH in the same push; a day's moves go as PATCH add/remove; and a `--full`
/// right after a `--full` (or after the push) makes no writes.
#[test]
fn what_the_provider_does_not_keep_is_recorded_and_not_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let proxy = forgetful(server.port);
    let env = setup(&proxy.url(), "");
    groups(&env, &[("ICU", "Intensive care"), ("ER", "Emergency")]);
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,ICU",
            "E2,Bo Ek,bo@example.org,Doctor,,\"ICU,ER\"",
            "E3,Cy Dahl,cy@example.org,,,ER",
        ]),
        &[],
    )
    .ok();
    let run = env.roster(&["push"]).ok();
    assert!(
        run.stdout.contains("provider limitation") && run.stdout.contains("title (2 resources)"),
        "{}",
        run.stdout
    );
    assert_members(&server, &[("ICU", &["E1", "E2"]), ("ER", &["E2", "E3"])]);
    let status = env.roster(&["status", "--format", "json"]).json();
    assert_eq!(
        status["push"]["dropped"],
        json!([{"attribute": "title", "resources": 2}]),
        "{status}"
    );
    let text = env.roster(&["status"]).stdout;
    assert!(
        text.contains("not kept") && text.contains("title (2)"),
        "{text}"
    );
    let report = env.roster(&["report", "--format", "text"]).stdout;
    assert!(report.contains("; not kept: title (2)"), "{report}");
    let again = env.roster(&["push"]).ok();
    assert!(
        !again.stdout.contains("provider limitation"),
        "{}",
        again.stdout
    );
    for _ in 0..2 {
        let before = proxy.writes();
        push(&env, &["--full"]).ok();
        assert_eq!(proxy.writes(), before, "--full wrote");
    }
    // A day: E1 moves from ICU to ER (PATCH add/remove), Bo's title changes (a change in the
    // store, sent once though the provider will not keep it).
    env.import(
        "day2.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,ER",
            "E2,Bo Ek,bo@example.org,Chief,,\"ICU,ER\"",
            "E3,Cy Dahl,cy@example.org,,,ER",
        ]),
        &["--allow-updates", "9"],
    )
    .ok();
    let before = proxy.writes().len();
    push(&env, &[]).ok();
    let day: Vec<String> = proxy.writes()[before..].to_vec();
    let patches = day
        .iter()
        .filter(|w| w.starts_with("PATCH /Groups/"))
        .count();
    let puts = day.iter().filter(|w| w.starts_with("PUT /Users/")).count();
    assert_eq!((patches, puts, day.len()), (2, 1, 3), "{day:?}");
    assert_members(&server, &[("ICU", &["E2"]), ("ER", &["E1", "E2", "E3"])]);
    let before = proxy.writes();
    push(&env, &["--full"]).ok();
    assert_eq!(proxy.writes(), before, "--full wrote");
}

/// Without filter support, a 409 is resolved from the listing: the account is taken over
/// (its id kept), made to match the store in the same push, and counted as taken over.
#[test]
fn without_a_filter_a_conflict_is_taken_over_from_the_listing() {
    for bulk in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), bulk, false, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        assert_eq!(
            server.send(
                "POST",
                "/Users",
                Some(
                    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                            "externalId": "E1", "userName": "ann@example.org",
                            "displayName": "Old Name", "active": false})
                )
            ),
            201
        );
        let id = server.all("Users")["E1"]["id"].clone();
        let env = setup(&server.url(), "");
        env.import(
            "day1.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,Nurse,,",
                "E2,Bo Ek,bo@example.org,,,",
            ]),
            &[],
        )
        .ok();
        let run = push(&env, &[]).ok();
        let out = run.json();
        assert_eq!(out["users"]["taken_over"], 1, "bulk {bulk}: {out}");
        assert_eq!(out["users"]["create"], 1, "{out}");
        assert_eq!(out["users"]["update"], 0, "{out}");
        let users = server.all("Users");
        assert_eq!(users["E1"]["id"], id);
        assert_eq!(users["E1"]["displayName"], "Ann Berg");
        assert_eq!(users["E1"]["active"], true);
        assert_eq!(push(&env, &[]).ok().json()["requests"], 1);
        let plain = env.roster(&["push", "--full"]).ok();
        assert!(plain.stdout.contains("users 0 created"), "{}", plain.stdout);
    }
}

/// What a run under /usr/bin/time gave: the exit code, stderr, and the peak memory in KiB.
struct Bounded {
    code: i32,
    stderr: String,
    peak_kib: u64,
}

/// Run roster killed after `secs`, its peak memory measured by `/usr/bin/time`.
fn bounded(env: &Env, args: &[&str], secs: u64) -> Bounded {
    let peak = env.path("peak.txt");
    let cmd = env.command(args);
    let mut wrapped = std::process::Command::new("timeout");
    wrapped
        .args([
            "-s",
            "KILL",
            &secs.to_string(),
            "/usr/bin/time",
            "-f",
            "%M",
            "-o",
        ])
        .arg(&peak)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .current_dir(env.dir.path())
        .env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            wrapped.env(k, v);
        }
    }
    let out = wrapped
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run roster under timeout and time");
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        code != 137 && code != 124,
        "roster {args:?} did not finish within {secs} s: {stderr}"
    );
    let peak_kib = std::fs::read_to_string(&peak)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .next_back()
        .unwrap_or(0);
    Bounded {
        code,
        stderr,
        peak_kib,
    }
}

/// With bulks, whose answers need not show what the provider kept: the first `--full` finds
/// the drops in the listing and repairs one request each, whose answers show them; from
/// then on, `--full` makes no writes.
#[test]
fn with_bulk_what_the_provider_does_not_keep_is_learned_by_full() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), true, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let proxy = forgetful(server.port);
    let env = setup(&proxy.url(), "");
    groups(&env, &[("ICU", "Intensive care")]);
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,ICU",
            "E2,Bo Ek,bo@example.org,,,ICU",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    let run = env.roster(&["push", "--full"]).ok();
    assert!(run.stdout.contains("title (1 resources)"), "{}", run.stdout);
    assert_members(&server, &[("ICU", &["E1", "E2"])]);
    for _ in 0..2 {
        let before = proxy.writes();
        push(&env, &["--full"]).ok();
        assert_eq!(proxy.writes(), before, "--full wrote");
    }
    let status = env.roster(&["status", "--format", "json"]).json();
    assert_eq!(
        status["push"]["dropped"],
        json!([{"attribute": "title", "resources": 1}]),
        "{status}"
    );
}

/// A duplicate user the provider will not delete (403) is deactivated instead, and named; a
/// deactivated duplicate is no longer one.
#[test]
fn a_duplicate_the_provider_will_not_delete_is_deactivated() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "DELETE" {
            let body = json!({"status": "403", "detail": "users are never deleted here"});
            Act::Answer(403, Arc::new(body.to_string().into_bytes()))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "groups = false");
    env.import(
        "day1.csv",
        &csv(&["E1,Ann Berg,ann@example.org,Nurse,,"]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    assert_eq!(
        server.send(
            "POST",
            "/Users",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "externalId": "E1", "userName": "ann2@example.org", "active": true})
            )
        ),
        201
    );
    let run = env.roster(&["push", "--full"]).ok();
    assert!(
        run.stdout.contains("duplicate user E1 (id ")
            && run
                .stdout
                .contains(") removed (deactivated: the provider would not delete it: 403"),
        "{}",
        run.stdout
    );
    let listed = server.get("/Users?count=100");
    let active: Vec<&Value> = listed["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["active"] != false)
        .collect();
    assert_eq!(active.len(), 1, "{listed}");
    assert_eq!(active[0]["userName"], "ann@example.org");
    let before = proxy.writes();
    let again = push(&env, &["--full"]).ok().json();
    assert_eq!(again["duplicates"], json!([]), "{again}");
    assert_eq!(proxy.writes(), before);
}

/// Without filter support, a push stopped after the provider made the groups but before
/// roster heard it resumes from the listing: the groups are found, never made twice.
#[test]
fn without_a_filter_a_push_stopped_midway_resumes_from_the_listing() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), true, false, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    // The ServiceProviderConfig, the read of how many users the provider holds, the users'
    // bulk and the read of how many groups it holds pass; the groups' bulk reaches the
    // provider but its answer is lost; then the provider is gone.
    let gate = Gate::start(server.port, 4);
    let env = setup(&format!("http://127.0.0.1:{}", gate.port), "");
    groups(&env, &[("ALL", "Everyone"), ("ICU", "Intensive care")]);
    env.import("users.csv", &many(40), &[]).ok();
    let run = env.roster(&["push"]).code(1);
    assert!(run.stderr.contains("unreachable"), "{}", run.stderr);
    assert_eq!(
        server.all("Groups").len(),
        2,
        "the groups reached the provider"
    );

    write_config(&env, &server.url(), 120);
    let run = env.roster(&["push"]).ok();
    assert!(run.stdout.contains("groups 0 created"), "{}", run.stdout);
    assert!(run.stdout.contains("2 taken over"), "{}", run.stdout);
    // `all` fails on two groups of one externalId.
    let groups = server.all("Groups");
    assert_eq!(member_ids(&groups["ALL"]).len(), 40);
    assert_eq!(member_ids(&groups["ICU"]).len(), 4);
    assert_eq!(push(&env, &[]).ok().json()["requests"], 1);
}

/// Providers remove a member in different shapes: one takes only a value filter path
/// (`members[value eq "ID"]`), another only a `value` list. A provider that refuses the
/// first (501) gets the second, and the member is removed in the same push.
#[test]
fn a_member_is_removed_in_the_shape_the_provider_takes() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    // In front of scim2-server (which takes only the filter path): refuse the filter path,
    // and turn a value list into filter paths.
    let proxy = Tamper::start(server.port, |r| {
        if r.method != "PATCH" || !r.path.starts_with("/Groups") {
            return Act::Pass;
        }
        if r.text().contains("members[value eq") {
            let body = json!({"status": "501", "detail": "Not Implemented"});
            return Act::Answer(501, Arc::new(body.to_string().into_bytes()));
        }
        let mut v: Value = serde_json::from_slice(&r.body).unwrap();
        let mut ops = Vec::new();
        for op in v["Operations"].as_array().unwrap() {
            if op["op"] == "remove" && op["path"] == "members" {
                for m in op["value"].as_array().unwrap() {
                    ops.push(json!({"op": "remove",
                        "path": format!("members[value eq \"{}\"]", m["value"].as_str().unwrap())}));
                }
            } else {
                ops.push(op.clone());
            }
        }
        v["Operations"] = Value::Array(ops);
        r.body = v.to_string().into_bytes();
        Act::Pass
    });
    let env = setup(&proxy.url(), "");
    groups(&env, &[("ICU", "Intensive care"), ("ER", "Emergency")]);
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,\"ICU,ER\"",
            "E2,Bo Ek,bo@example.org,Doctor,,\"ICU,ER\"",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    env.import(
        "day2.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,",
            "E2,Bo Ek,bo@example.org,Doctor,,\"ICU,ER\"",
        ]),
        &["--allow-updates", "9"],
    )
    .ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["groups"]["update"], 2, "{out}");
    assert_eq!(out["refused"], json!([]), "{out}");
    assert_members(&server, &[("ICU", &["E2"]), ("ER", &["E2"])]);
    // One refusal taught the shape: the second group went in it at once.
    assert_eq!(proxy.count(&["PATCH /Groups"]), 3, "{:?}", proxy.writes());
    assert_eq!(push(&env, &[]).ok().json()["requests"], 1);
}

/// A listing that ends (an empty page) short of the total it claims is an error, never the
/// rest of the users gone.
#[test]
fn a_listing_that_ends_short_of_its_total_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_file(
        dir.path(),
        Spc {
            page: 10,
            ..Spc::default()
        },
    );
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "GET"
            && r.path.starts_with("/Users?startIndex=")
            && !r.path.starts_with("/Users?startIndex=1&")
        {
            Act::Edit(Box::new(|s, mut v| {
                v["Resources"] = json!([]);
                (s, v)
            }))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "");
    env.import("day1.csv", &many(35), &[]).ok();
    push(&env, &[]).ok();
    let before = proxy.writes();
    let run = env.roster(&["push", "--full"]).code(1);
    assert!(
        run.stderr.contains("no resources after 10 of the 35"),
        "{}",
        run.stderr
    );
    assert_eq!(proxy.writes(), before);
    let status = env.roster(&["status", "--format", "json"]).json();
    assert_eq!(status["push"]["pending"], 0, "{status}");
}

// The rules again, with other data (review).

/// A listing whose `totalResults` is smaller than what the provider holds stops early (SPEC
/// §8); what roster tracks but did not read is read by its id before anything is made again:
/// `--full` re-creates nothing, the provider holds one group of each externalId.
#[test]
fn a_listing_that_claims_too_few_recreates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(
        dir.path(),
        TOKEN,
        Some(&spc_file(
            dir.path(),
            Spc {
                page: 2,
                ..Spc::default()
            },
        )),
    );
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "GET" && r.path.contains("startIndex=") {
            Act::Edit(Box::new(|s, mut v| {
                v["totalResults"] = json!(1);
                (s, v)
            }))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "");
    groups(
        &env,
        &[
            ("ICU", "Intensive care"),
            ("ER", "Emergency"),
            ("OR", "Surgery"),
        ],
    );
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,ICU",
            "E2,Bo Ek,bo@example.org,Doctor,,\"ICU,ER\"",
            "E3,Cy Ho,cy@example.org,Doctor,,OR",
            "E4,Di Lu,di@example.org,Doctor,,OR",
            "E5,Ed No,ed@example.org,Doctor,,ER",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    let before = proxy.writes().len();
    let run = env.roster(&["push", "--full"]);
    assert_eq!(
        proxy.writes()[before..].to_vec(),
        Vec::<String>::new(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(server.all("Groups").len(), 3);
    assert_eq!(server.all("Users").len(), 5);
}

/// A DELETE whose answer was lost (the provider deleted the user): the push that follows
/// finds it gone (404) and counts it deleted; nothing stays refused or pending.
#[test]
fn a_lost_delete_is_done_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let delayed = Arc::new(AtomicUsize::new(0));
    let d = delayed.clone();
    let proxy = Tamper::start(server.port, move |r| {
        if r.method == "DELETE"
            && d.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            Act::Delay(Duration::from_secs(4))
        } else {
            Act::Pass
        }
    });
    let env = setup_timeout(&proxy.url(), 2);
    env.write(
        "roster.toml",
        format!(
            "[scim]\nurl = \"{}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = 1\ntimeout_secs = 2\nremoved = \"delete\"\ngroups = false\n[import]\nmissing_users = \"delete\"\nmax_removals = 10\n",
            proxy.url()
        ),
    );
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,",
            "E2,Bo Ek,bo@example.org,Doctor,,",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    env.import(
        "day2.csv",
        &csv(&["E2,Bo Ek,bo@example.org,Doctor,,"]),
        &["--allow-removals", "9"],
    )
    .ok();
    let first = push(&env, &["--allow-removals", "9"]);
    assert_eq!(delayed.load(Ordering::SeqCst), 1);
    let second = push(&env, &["--allow-removals", "9"]);
    assert_eq!(server.all("Users").len(), 1);
    let status = env.roster(&["status", "--format", "json"]).json();
    assert_eq!(
        status["push"]["pending"], 0,
        "{status}\n{}\n{}",
        first.stdout, second.stdout
    );
    assert_eq!(
        second.code, 0,
        "{}{}\nfirst: {}{}",
        second.stdout, second.stderr, first.stdout, first.stderr
    );
}

/// Lost answers to a user's PUT and a group's PATCH of members: sent again, the provider
/// ends equal to the store, nothing duplicated, the next push sends nothing.
#[test]
fn lost_answers_to_updates_end_in_the_stores_state() {
    for bulk in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), bulk, true, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        let env = setup(&server.url(), "");
        groups(&env, &[("ICU", "Intensive care"), ("ER", "Emergency")]);
        env.import(
            "day1.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,Nurse,,ICU",
                "E2,Bo Ek,bo@example.org,Doctor,,\"ICU,ER\"",
            ]),
            &[],
        )
        .ok();
        push(&env, &[]).ok();
        let delayed = Arc::new(AtomicUsize::new(0));
        let d = delayed.clone();
        let proxy = Tamper::start(server.port, move |r| {
            if matches!(r.method.as_str(), "PUT" | "PATCH" | "POST") && r.path != "/Users/.search" {
                d.fetch_add(1, Ordering::SeqCst);
                if d.load(Ordering::SeqCst) <= 2 {
                    return Act::Delay(Duration::from_secs(4));
                }
            }
            Act::Pass
        });
        write_config(&env, &proxy.url(), 2);
        env.import(
            "day2.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,Head nurse,,ER",
                "E2,Bo Ek,bo@example.org,Doctor,,ICU",
            ]),
            &["--allow-updates", "9"],
        )
        .ok();
        let first = push(&env, &[]);
        let second = push(&env, &[]);
        let third = push(&env, &[]);
        let what = format!(
            "bulk {bulk}\n{}{}\n{}{}\n{}{}",
            first.stdout, first.stderr, second.stdout, second.stderr, third.stdout, third.stderr
        );
        assert_members(&server, &[("ICU", &["E2"]), ("ER", &["E1"])]);
        assert_eq!(server.all("Users")["E1"]["title"], "Head nurse", "{what}");
        assert_eq!(third.code, 0, "{what}");
        write_config(&env, &server.url(), 120);
        let again = push(&env, &["--full"]).ok().json();
        assert_eq!(again["duplicates"], json!([]), "{what}");
    }
}

/// A Bulk of many creates whose answer was lost: each is looked up, none is made twice.
#[test]
fn a_lost_bulk_of_many_creates_makes_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), true, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let delayed = Arc::new(AtomicUsize::new(0));
    let d = delayed.clone();
    let proxy = Tamper::start(server.port, move |r| {
        if r.method == "POST"
            && r.path.starts_with("/Bulk")
            && d.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            Act::Delay(Duration::from_secs(4))
        } else {
            Act::Pass
        }
    });
    let env = setup_timeout(&proxy.url(), 2);
    env.import("day1.csv", &many(40), &[]).ok();
    let run = push(&env, &[]);
    assert_eq!(delayed.load(Ordering::SeqCst), 1);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = run.json();
    assert_eq!(out["users"]["create"], 40, "{out}");
    assert_eq!(server.all("Users").len(), 40);
}

/// The token echoed in a 500's body, in a bulk operation's response and in a header never
/// leaves: not in the output at any verbosity, the store, status or the report.
#[test]
fn a_token_echoed_anywhere_never_leaves() {
    for how in ["500", "bulk", "header"] {
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), how == "bulk", true, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        let proxy = Tamper::start(server.port, move |r| {
            if r.method != "POST" {
                return Act::Pass;
            }
            let detail = format!("seen Authorization: Bearer {TOKEN} and {TOKEN}");
            match how {
                "500" => Act::Answer(
                    500,
                    Arc::new(format!("<html>Internal error: {detail}</html>").into_bytes()),
                ),
                "bulk" => Act::Edit(Box::new(move |s, mut v| {
                    for op in v["Operations"].as_array_mut().unwrap() {
                        op["status"] = json!("400");
                        op["response"] = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                            "status": "400", "detail": detail});
                    }
                    (s, v)
                })),
                _ => Act::Answer(
                    400,
                    Arc::new(
                        json!({"status": "400", "detail": detail, "headers": {"Authorization": format!("Bearer {TOKEN}")}})
                            .to_string()
                            .into_bytes(),
                    ),
                ),
            }
        });
        let env = setup(&proxy.url(), "groups = false");
        env.import(
            "day1.csv",
            &csv(&["E1,Ann Berg,ann@example.org,Nurse,,"]),
            &[],
        )
        .ok();
        let mut seen = String::new();
        for args in [
            &["push"][..],
            &["push", "--format", "json"],
            &["-vv", "push"],
        ] {
            let run = env.roster(args);
            // A bulk answered 400 was carried out by the provider: the next push finds the
            // user and takes it over.
            if how != "bulk" || args == ["push"] {
                assert_ne!(run.code, 0, "{how}");
            }
            seen.push_str(&run.stdout);
            seen.push_str(&run.stderr);
        }
        let status = env.roster(&["status", "--format", "json"]).stdout;
        let html = env.roster(&["report", "--format", "html"]).stdout;
        let prom = env.roster(&["status", "--format", "prometheus"]).stdout;
        for (what, text) in [
            ("output", &seen),
            ("status", &status),
            ("html", &html),
            ("prom", &prom),
        ] {
            assert!(!text.contains(TOKEN), "{how} {what}: {text}");
        }
        for file in ["data/roster.db", "data/roster.db-wal"] {
            let bytes = std::fs::read(env.path(file)).unwrap_or_default();
            assert!(
                !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
                "{how}: {file} holds the token"
            );
        }
    }
}

/// A Bulk answer that gives a status for some operations only: those it names count, the
/// others stay pending and the push exits 1.
#[test]
fn a_bulk_answer_missing_some_operations_leaves_them_pending() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), true, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "POST" && r.path.starts_with("/Bulk") {
            Act::Edit(Box::new(|s, mut v| {
                v["Operations"].as_array_mut().unwrap().truncate(1);
                (s, v)
            }))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "groups = false");
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,",
            "E2,Bo Ek,bo@example.org,,,",
            "E3,Cy Ho,cy@example.org,,,",
        ]),
        &[],
    )
    .ok();
    let run = push(&env, &[]).code(1);
    let out = run.json();
    assert_eq!(out["users"]["create"], 1, "{out}");
    let status = env.roster(&["status", "--format", "json"]).json();
    assert_eq!(status["push"]["pending"], 2, "{status}");
    write_config(&env, &server.url(), 120);
    push(&env, &[]).ok();
    assert_eq!(server.all("Users").len(), 3);
    assert_eq!(push(&env, &[]).ok().json()["requests"], 1);
}

/// A token echoed by a provider whose JSON escapes some of its characters (`+` as `\u002B`,
/// as .NET's encoder does; `/` as `\/`) never leaves either: the text roster reads from the
/// answer is scrubbed, not only its bytes.
#[test]
fn a_token_echoed_with_json_escapes_never_leaves() {
    const B64: &str = "Zm9v+YmFy/c2VjcmV0+dG9rZW4=";
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), B64, Some(&spc));
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "POST" && r.path.starts_with("/Users") {
            let echoed = B64.replace('+', "\\u002B").replace('/', "\\u002f");
            let body = format!(
                "{{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"400\",\"detail\":\"bad token {echoed}\"}}"
            );
            Act::Answer(400, Arc::new(body.into_bytes()))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "groups = false");
    env.write("scim.token", format!("{B64}\n"));
    env.import(
        "day1.csv",
        &csv(&["E1,Ann Berg,ann@example.org,Nurse,,"]),
        &[],
    )
    .ok();
    let mut seen = String::new();
    for args in [
        &["push"][..],
        &["push", "--format", "json"],
        &["-vv", "push"],
    ] {
        let run = env.roster(args).code(1);
        seen.push_str(&run.stdout);
        seen.push_str(&run.stderr);
    }
    assert!(seen.contains("bad token ***"), "{seen}");
    seen.push_str(&env.roster(&["status", "--format", "json"]).stdout);
    seen.push_str(&env.roster(&["report", "--format", "html"]).stdout);
    assert!(!seen.contains(B64), "{seen}");
    for file in ["data/roster.db", "data/roster.db-wal"] {
        let bytes = std::fs::read(env.path(file)).unwrap_or_default();
        assert!(
            !bytes.windows(B64.len()).any(|w| w == B64.as_bytes()),
            "{file} holds the token"
        );
    }
}

/// A 202 Accepted (or any 2xx but 200/204) to a PATCH of members or a PUT confirms nothing
/// (SPEC §8): the change stays pending, the push exits 1 naming what the provider answered,
/// nothing is counted; the next push reads what became of it and ends in the store's state.
#[test]
fn a_patch_of_members_answered_202_is_not_confirmed() {
    for bulk in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), bulk, true, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        let env = setup(&server.url(), "");
        groups(&env, &[("ICU", "Intensive care"), ("ER", "Emergency")]);
        env.import(
            "day1.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,Nurse,,ICU",
                "E2,Bo Ek,bo@example.org,Doctor,,\"ICU,ER\"",
            ]),
            &[],
        )
        .ok();
        push(&env, &[]).ok();
        let proxy = Tamper::start(server.port, |r| {
            if matches!(r.method.as_str(), "PATCH" | "PUT") {
                Act::Edit(Box::new(|_, _| (202, json!({}))))
            } else if r.method == "POST" && r.path.starts_with("/Bulk") {
                Act::Edit(Box::new(|s, mut v| {
                    for op in v["Operations"].as_array_mut().unwrap() {
                        op["status"] = json!("202");
                    }
                    (s, v)
                }))
            } else {
                Act::Pass
            }
        });
        point_at(&env, &proxy.url());
        env.import(
            "day2.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,Head nurse,,ER",
                "E2,Bo Ek,bo@example.org,Doctor,,ICU",
            ]),
            &["--allow-updates", "9"],
        )
        .ok();
        let run = push(&env, &[]).code(1);
        let out = run.json();
        assert_eq!(out["status"], "unconfirmed", "bulk {bulk}: {out}");
        assert_eq!(out["users"]["update"], 0, "{out}");
        assert_eq!(out["groups"]["update"], 0, "{out}");
        assert!(run.stderr.contains("202"), "{}", run.stderr);
        let status = env.roster(&["status", "--format", "json"]).json();
        assert_ne!(status["push"]["last"]["status"], "pushed", "{status}");
        point_at(&env, &server.url());
        push(&env, &[]).ok();
        assert_members(&server, &[("ICU", &["E2"]), ("ER", &["E1"])]);
        assert_eq!(server.all("Users")["E1"]["title"], "Head nurse");
        assert_eq!(push(&env, &[]).ok().json()["requests"], 1);
    }
}

/// A listing page larger than scim.max_response_bytes: exit 1 naming the endpoint, nothing
/// read as gone, no write, in memory a few times the bound.
#[test]
fn a_listing_page_over_the_bound_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(
        &server.url(),
        "groups = false\nmax_response_bytes = 1048576",
    );
    env.import("day1.csv", &many(20), &[]).ok();
    push(&env, &[]).ok();
    let big = Arc::new({
        let mut v = b"{\"totalResults\":1,\"Resources\":[{\"id\":\"x\",\"userName\":\"".to_vec();
        v.resize(40 << 20, b'a');
        v.extend_from_slice(b"\"}]}");
        v
    });
    let proxy = Tamper::start(server.port, move |r| {
        if r.method == "GET" && r.path.starts_with("/Users?") {
            Act::Answer(200, big.clone())
        } else {
            Act::Pass
        }
    });
    env.write(
        "roster.toml",
        format!(
            "[scim]\nurl = \"{}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = 1\ngroups = false\nmax_response_bytes = 1048576\n",
            proxy.url()
        ),
    );
    let run = bounded(&env, &["push", "--full"], 120);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("GET /Users"), "{}", run.stderr);
    assert!(run.peak_kib < 64 * 1024, "{} KiB", run.peak_kib);
    assert_eq!(proxy.writes(), Vec::<String>::new());
    assert_eq!(server.all("Users").len(), 20);
}

/// A provider that answers a PATCH of members with 200 and the group as it was (it applied
/// nothing): what it kept counts; the members it will not take are a provider limitation,
/// and a `--full` right after a `--full` makes no writes.
#[test]
fn a_patch_of_members_the_provider_ignores_is_not_sent_again_and_again() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let env = setup(&server.url(), "");
    groups(&env, &[("ICU", "Intensive care"), ("ER", "Emergency")]);
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,ICU",
            "E2,Bo Ek,bo@example.org,Doctor,,\"ICU,ER\"",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "PATCH" && r.path.starts_with("/Groups/") {
            r.method = "GET".into();
            r.body.clear();
        }
        Act::Pass
    });
    point_at(&env, &proxy.url());
    env.import(
        "day2.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,ER",
            "E2,Bo Ek,bo@example.org,Doctor,,\"ICU,ER\"",
        ]),
        &["--allow-updates", "9"],
    )
    .ok();
    let first = push(&env, &[]);
    let full = push(&env, &["--full"]);
    let before = proxy.writes().len();
    let again = push(&env, &["--full"]);
    let what = format!(
        "{}{}\n{}{}\n{}{}",
        first.stdout, first.stderr, full.stdout, full.stderr, again.stdout, again.stderr
    );
    assert_eq!(
        proxy.writes()[before..].to_vec(),
        Vec::<String>::new(),
        "{what}"
    );
    let status = env.roster(&["status", "--format", "json"]).json();
    assert!(
        status["push"]["dropped"].to_string().contains("members"),
        "{status}\n{what}"
    );
}

/// A provider's message with a line break, an escape and a bidi override forges no line of
/// output: every line roster prints (push, -v, status, report text) has them escaped.
#[test]
fn a_providers_message_forges_no_line() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "POST" && r.path.starts_with("/Users") {
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400", "scimType": "invalid\r\n::error title=F::scim",
                "detail": "no\n::error title=Forged::x\u{1b}[2J\u{202e}\r::warning::y"});
            Act::Answer(400, Arc::new(body.to_string().into_bytes()))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "groups = false");
    env.import(
        "day1.csv",
        &csv(&["E1,Ann Berg,ann@example.org,Nurse,,"]),
        &[],
    )
    .ok();
    let mut seen = String::new();
    for args in [&["push"][..], &["-vv", "push"], &["-v", "push", "--full"]] {
        let run = env.roster(args);
        seen.push_str(&run.stdout);
        seen.push_str(&run.stderr);
    }
    seen.push_str(&env.roster(&["status"]).stdout);
    seen.push_str(&env.roster(&["status"]).stderr);
    seen.push_str(&env.roster(&["report", "--format", "text"]).stdout);
    seen.push_str(&env.roster(&["report"]).stdout);
    for line in seen.lines() {
        assert!(
            !line.starts_with("::") && !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{line:?}\n{seen}"
        );
    }
}

/// A listing page of the largest size allowed made of the smallest resources (half a million
/// of them, `{"id":…}`): memory stays a few times the answer.
#[test]
fn a_page_of_many_tiny_resources_is_read_in_bounded_memory() {
    let mut page = String::from("{\"totalResults\":1,\"startIndex\":1,\"Resources\":[");
    let mut i = 0u64;
    while page.len() < (16 << 20) - 64 {
        if i > 0 {
            page.push(',');
        }
        page.push_str(&format!("{{\"id\":\"{i}\",\"externalId\":\"{i}\"}}"));
        i += 1;
    }
    page.push_str("]}");
    let size = page.len();
    let page = Arc::new(page.into_bytes());
    let spc = Arc::new(
        json!({"filter": {"supported": true, "maxResults": 1000}, "patch": {"supported": true}})
            .to_string()
            .into_bytes(),
    );
    let fake = Tamper::start(0, move |r| {
        if r.path.starts_with("/ServiceProviderConfig") {
            Act::Answer(200, spc.clone())
        } else {
            Act::Answer(200, page.clone())
        }
    });
    let env = setup(&fake.url(), "groups = false");
    let run = bounded(&env, &["push", "--full", "--dry-run"], 120);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.peak_kib < (5 * 16 + 40) * 1024,
        "peak {} MiB for a {} MiB page of {i} resources",
        run.peak_kib / 1024,
        size >> 20
    );
}

/// A provider that does not keep `externalId` (its listing never shows it): roster follows
/// its users and groups by their provider `id`, so `--full` creates nothing again and a
/// `--full` right after a `--full` makes no writes.
#[test]
fn a_provider_that_does_not_keep_external_id_gets_no_copies() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let proxy = Tamper::start(server.port, |r| {
        if matches!(r.method.as_str(), "POST" | "PUT") && !r.body.is_empty() {
            let mut v: Value = serde_json::from_slice(&r.body).unwrap();
            v.as_object_mut().map(|o| o.remove("externalId"));
            r.body = v.to_string().into_bytes();
        }
        Act::Pass
    });
    let env = setup(&proxy.url(), "");
    groups(&env, &[("ICU", "Intensive care")]);
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,ICU",
            "E2,Bo Ek,bo@example.org,Doctor,,ICU",
        ]),
        &[],
    )
    .ok();
    let first = push(&env, &[]);
    let full = push(&env, &["--full"]);
    let before = proxy.writes().len();
    let again = push(&env, &["--full"]);
    let what = format!(
        "{}{}\n{}{}\n{}{}",
        first.stdout, first.stderr, full.stdout, full.stderr, again.stdout, again.stderr
    );
    assert_eq!(
        proxy.writes()[before..].to_vec(),
        Vec::<String>::new(),
        "{what}"
    );
    let users = server.get("/Users?count=100");
    assert_eq!(users["totalResults"], 2, "{what}");
    let groups = server.get("/Groups?count=100");
    assert_eq!(groups["totalResults"], 1, "{what}");
}

/// A 403 on one change is that change's refusal (SPEC §8: recorded for that user, reported,
/// tried again by the next push), not a refused token: the other changes go on. A provider that
/// answers 403 to everything but `/ServiceProviderConfig` is still a refused token.
#[test]
fn a_403_on_one_change_refuses_that_change_only() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let proxy = Tamper::start(server.port, move |r| {
        if r.method == "PUT"
            && r.path.starts_with("/Users")
            && n2.fetch_add(1, Ordering::SeqCst) == 0
        {
            let body = json!({"status": "403", "detail": "this user is managed elsewhere"});
            Act::Answer(403, Arc::new(body.to_string().into_bytes()))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "groups = false");
    let day = |title: &str| {
        csv(&[
            &format!("E1,Ann Berg,ann@example.org,{title},,"),
            &format!("E2,Bo Ek,bo@example.org,{title},,"),
            &format!("E3,Cy Al,cy@example.org,{title},,"),
        ])
    };
    env.import("day1.csv", &day("Nurse"), &[]).ok();
    push(&env, &[]).ok();
    env.import("day2.csv", &day("Doctor"), &["--allow-updates", "9"])
        .ok();
    let run = push(&env, &[]).code(1);
    assert!(!run.stderr.contains("refused the token"), "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["status"], "partial", "{doc}");
    assert_eq!(doc["users"]["update"], 2, "{doc}");
    assert_eq!(doc["refused"].as_array().unwrap().len(), 1, "{doc}");
    let refused = &doc["refused"][0];
    let who = refused["id"].as_str().unwrap().to_string();
    assert!(
        refused["reason"].as_str().unwrap().starts_with("403"),
        "{doc}"
    );
    let users = server.all("Users");
    for key in ["E1", "E2", "E3"] {
        let want = if key == who { "Nurse" } else { "Doctor" };
        assert_eq!(users[key]["title"], want, "{key}");
    }
    let status = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["push"]["failures"], 1, "{status}");
    assert_eq!(status["push"]["refused"][0]["id"], who.as_str(), "{status}");

    // The next push sends it again, and only it.
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["update"], 1, "{out}");
    assert_eq!(out["users"]["unchanged"], 2, "{out}");
    assert_eq!(server.all("Users")[who.as_str()]["title"], "Doctor");

    // 403 to everything but /ServiceProviderConfig: the token.
    let forbidden = Arc::new(
        json!({"status": "403", "detail": "forbidden"})
            .to_string()
            .into_bytes(),
    );
    let wall = Tamper::start(server.port, move |r| {
        if r.path.starts_with("/ServiceProviderConfig") {
            Act::Pass
        } else {
            Act::Answer(403, forbidden.clone())
        }
    });
    point_at(&env, &wall.url());
    env.import("day3.csv", &day("Surgeon"), &["--allow-updates", "9"])
        .ok();
    let run = env.roster(&["push"]).code(1);
    assert!(run.stderr.contains("refused the token"), "{}", run.stderr);
}

/// A group renamed and with a member change in the same push goes, when the provider takes
/// PATCH, as one PATCH (replace displayName, remove the member), not a PUT of every member
/// (SPEC §8); a provider that refuses that PATCH (400) gets the PUT instead.
#[test]
fn a_group_renamed_and_changed_goes_as_one_patch() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let refuse_rename = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let bodies = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (refuse, seen) = (refuse_rename.clone(), bodies.clone());
    let proxy = Tamper::start(server.port, move |r| {
        if r.method == "PATCH" && r.path.starts_with("/Groups") {
            seen.lock().unwrap().push(r.text());
            if refuse.load(Ordering::SeqCst) && r.text().contains("displayName") {
                let body = json!({"status": "400", "scimType": "invalidPath"});
                return Act::Answer(400, Arc::new(body.to_string().into_bytes()));
            }
        }
        Act::Pass
    });
    let env = setup(&proxy.url(), "");
    groups(&env, &[("ICU", "Intensive care")]);
    let rows = |n: usize| -> String {
        let r: Vec<String> = (1..=20)
            .map(|i| {
                let g = if i <= n { "ICU" } else { "" };
                format!("E{i},U {i},u{i}@example.org,,,{g}")
            })
            .collect();
        csv(&r.iter().map(String::as_str).collect::<Vec<_>>())
    };
    env.import("day1.csv", &rows(20), &[]).ok();
    push(&env, &[]).ok();
    let icu_id = server.all("Groups")["ICU"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // E20 leaves ICU, and ICU is renamed.
    env.import("day2.csv", &rows(19), &["--allow-updates", "99"])
        .ok();
    env.roster(&["groups", "rename", "ICU", "Intensive Care Unit"])
        .ok();
    let before = proxy.writes().len();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["groups"]["update"], 1, "{out}");
    let writes = proxy.writes()[before..].to_vec();
    assert_eq!(writes, vec![format!("PATCH /Groups/{icu_id}")]);
    let patch: Value = serde_json::from_str(bodies.lock().unwrap().last().unwrap()).unwrap();
    assert!(
        patch["Operations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|op| op["op"] == "replace"
                && op["path"] == "displayName"
                && op["value"] == "Intensive Care Unit"),
        "{patch}"
    );
    let icu = &server.all("Groups")["ICU"];
    assert_eq!(icu["displayName"], "Intensive Care Unit");
    let keys: Vec<String> = (1..=19).map(|i| format!("E{i}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_eq!(member_ids(icu), ids_of(&server.all("Users"), &keys));
    assert_eq!(push(&env, &[]).ok().json()["requests"], 1);

    // A provider that refuses the rename by PATCH: the PUT, in the same push.
    refuse_rename.store(true, Ordering::SeqCst);
    env.import("day3.csv", &rows(18), &["--allow-updates", "99"])
        .ok();
    env.roster(&["groups", "rename", "ICU", "ICU"]).ok();
    let before = proxy.writes().len();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["groups"]["update"], 1, "{out}");
    assert_eq!(out["refused"], json!([]), "{out}");
    let path = format!("/Groups/{icu_id}");
    assert_eq!(
        proxy.writes()[before..].to_vec(),
        vec![format!("PATCH {path}"), format!("PUT {path}")]
    );
    let icu = &server.all("Groups")["ICU"];
    assert_eq!(icu["displayName"], "ICU");
    assert_eq!(member_ids(icu), ids_of(&server.all("Users"), &keys[..18]));
    assert_eq!(push(&env, &[]).ok().json()["requests"], 1);
}

/// Memory for an answer is at most a few times its size (SPEC §8), whatever its shape: a
/// /Bulk answer of millions of empty operations, and a create answered with millions of empty
/// emails, each just under the bound, are read within the bound the listing tests use.
#[test]
fn answers_of_many_tiny_items_are_read_in_bounded_memory() {
    let fill = |head: &[u8], item: &[u8]| {
        let mut b = head.to_vec();
        while b.len() < 15 << 20 {
            b.extend_from_slice(item);
            b.push(b',');
        }
        b.extend_from_slice(item);
        b.extend_from_slice(b"]}");
        Arc::new(b)
    };
    let bulk = fill(
        b"{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:BulkResponse\"],\"Operations\":[",
        b"{}",
    );
    let created = fill(
        b"{\"id\":\"x1\",\"externalId\":\"E1\",\"userName\":\"ann@example.org\",\"emails\":[",
        b"{}",
    );
    let named = fill(
        b"{\"id\":\"x1\",\"externalId\":\"E1\",\"userName\":\"ann@example.org\",\"phoneNumbers\":[",
        b"{\"value\":\"1\"}",
    );
    for (with_bulk, answer) in [(true, bulk), (false, created), (false, named)] {
        let spc = json!({"filter": {"supported": true, "maxResults": 100},
            "patch": {"supported": true},
            "bulk": {"supported": with_bulk, "maxOperations": 1000, "maxPayloadSize": 1048576}});
        let spc = Arc::new(spc.to_string().into_bytes());
        let empty = Arc::new(b"{\"totalResults\":0,\"Resources\":[]}".to_vec());
        let fake = Tamper::start(0, move |r| {
            if r.path.starts_with("/ServiceProviderConfig") {
                Act::Answer(200, spc.clone())
            } else if r.method == "POST" {
                Act::Answer(if with_bulk { 200 } else { 201 }, answer.clone())
            } else {
                Act::Answer(200, empty.clone())
            }
        });
        let env = setup(&fake.url(), "groups = false");
        env.import(
            "day1.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,Nurse,,",
                "E2,Bo Ek,bo@example.org,,,",
            ]),
            &[],
        )
        .ok();
        let run = bounded(&env, &["push"], 120);
        assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
        assert!(
            run.peak_kib < (5 * 16 + 40) * 1024,
            "peak {} MiB for a 15 MiB answer (bulk: {with_bulk})",
            run.peak_kib / 1024
        );
    }
}

/// A create answered 503 may have been carried out: it is looked up, then sent again only
/// after the wait the provider asked for (`Retry-After`), and sent again at most
/// `scim.retries` times in a push (SPEC §8: a provider that is down is retried with backoff);
/// what is still unanswered is left pending for the next push, which looks it up first.
#[test]
fn a_create_answered_503_is_sent_again_after_retry_after_within_retries() {
    for (retries, busy) in [(2usize, 2usize), (1, 2)] {
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), false, true, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        let posts = Arc::new(std::sync::Mutex::new(Vec::<std::time::Instant>::new()));
        let seen = posts.clone();
        let proxy = Tamper::start(server.port, move |r| {
            if r.method != "POST" {
                return Act::Pass;
            }
            let mut p = seen.lock().unwrap();
            p.push(std::time::Instant::now());
            if p.len() <= busy {
                Act::Busy(503, 1)
            } else {
                Act::Pass
            }
        });
        let env = setup(&proxy.url(), "groups = false");
        env.write(
            "roster.toml",
            format!(
                "[scim]\nurl = \"{}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = {retries}\ntimeout_secs = 120\ngroups = false\n",
                proxy.url()
            ),
        );
        env.import(
            "day1.csv",
            &csv(&["E1,Ann Berg,ann@example.org,Nurse,,"]),
            &[],
        )
        .ok();
        let run = push(&env, &[]);
        let times = posts.lock().unwrap().clone();
        // One POST, then one a try for each of scim.retries.
        assert_eq!(times.len(), retries + 1, "{:?}", proxy.log.lock().unwrap());
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= Duration::from_millis(950),
                "sent again after {gap:?}"
            );
        }
        // Each POST again only after the create was looked up.
        let log = proxy.log.lock().unwrap().clone();
        let writes: Vec<usize> = (0..log.len())
            .filter(|i| log[*i].starts_with("POST"))
            .collect();
        for pair in writes.windows(2) {
            assert!(
                log[pair[0] + 1..pair[1]]
                    .iter()
                    .any(|l| l.starts_with("GET /Users")),
                "{log:?}"
            );
        }
        let users = server.all("Users");
        if retries > busy - 1 {
            run.ok();
            assert_eq!(users.len(), 1, "{users:?}");
        } else {
            let doc = run.code(1).json();
            assert_eq!(doc["status"], "unconfirmed", "{doc}");
            assert!(users.is_empty(), "{users:?}");
            // The next push looks it up, then creates it once.
            let out = push(&env, &[]).ok().json();
            assert_eq!(out["users"]["create"], 1, "{out}");
            assert_eq!(server.all("Users").len(), 1);
        }
    }
}

/// A provider that answers a PUT (and a bulk) without its representation, and does not keep
/// `title`: the `--full` that repairs the drift reads each repaired resource back and learns
/// what it dropped, so a `--full` right after it makes no writes (SPEC §8).
#[test]
fn full_after_full_makes_no_writes_when_puts_are_answered_without_a_body() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), true, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    fn forget(method: &str, data: &mut Value) {
        if matches!(method, "POST" | "PUT") {
            if let Some(o) = data.as_object_mut() {
                o.remove("title");
            }
        }
    }
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "GET" || r.body.is_empty() {
            return Act::Pass;
        }
        let mut v: Value = serde_json::from_slice(&r.body).unwrap();
        if r.path.starts_with("/Bulk") {
            for op in v["Operations"].as_array_mut().unwrap() {
                let m = op["method"].as_str().unwrap_or("").to_string();
                forget(&m, &mut op["data"]);
            }
            r.body = v.to_string().into_bytes();
            return Act::Edit(Box::new(|s, mut v| {
                for op in v["Operations"].as_array_mut().unwrap() {
                    op.as_object_mut().unwrap().remove("response");
                }
                (s, v)
            }));
        }
        forget(&r.method, &mut v);
        r.body = v.to_string().into_bytes();
        if r.method == "PUT" {
            Act::Edit(Box::new(|s, _| (s, Value::Null)))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "groups = false");
    env.import(
        "day1.csv",
        &csv(&[
            "E1,Ann Berg,ann@example.org,Nurse,,",
            "E2,Bo Ek,bo@example.org,Doctor,,",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    let first = push(&env, &["--full"]).ok().json();
    assert_eq!(
        first["dropped"],
        json!([{"attribute": "title", "resources": 2}]),
        "{first}"
    );
    for _ in 0..2 {
        let before = proxy.writes().len();
        let out = push(&env, &["--full"]).ok().json();
        assert_eq!(proxy.writes()[before..].to_vec(), Vec::<String>::new());
        assert_eq!(out["users"]["unchanged"], 2, "{out}");
    }
    let status = env.roster(&["status", "--format", "json"]).ok().json();
    assert_eq!(
        status["push"]["dropped"],
        json!([{"attribute": "title", "resources": 2}]),
        "{status}"
    );
}

/// A bulk operation answered 201 without a `location` or a `response` (nothing that names
/// the new resource's id): the provider says it made the resource, so it is not left pending
/// nor sent again; roster looks it up by its externalId in the same push (a filter, or the
/// listing), counts it created and records its id, so that the groups' members are right and
/// the next push sends nothing. With a filter and without.
#[test]
fn a_bulk_create_answered_201_without_a_location_is_looked_up_in_the_same_push() {
    for filter in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), true, filter, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        let proxy = Tamper::start(server.port, |r| {
            if r.method == "POST" && r.path == "/Bulk" {
                Act::Edit(Box::new(|s, mut v| {
                    for (i, op) in v["Operations"]
                        .as_array_mut()
                        .unwrap()
                        .iter_mut()
                        .enumerate()
                    {
                        let o = op.as_object_mut().unwrap();
                        o.remove("location");
                        o.remove("version");
                        // Some with a response that names no id, some with none.
                        if i % 2 == 0 {
                            o.remove("response");
                        } else {
                            o.insert("response".into(), json!({"schemas": ["urn:x"]}));
                        }
                    }
                    (s, v)
                }))
            } else {
                Act::Pass
            }
        });
        let env = setup(&proxy.url(), "");
        groups(&env, &[("OPS", "Operations")]);
        env.import(
            "day1.csv",
            &csv(&[
                "U7,Ida Lund,ida@example.org,Porter,,OPS",
                "U8,Jon Ahl,jon@example.org,,,OPS",
                "U9,Kim Ros,kim@example.org,Clerk,,",
            ]),
            &[],
        )
        .ok();
        let what = format!("filter {filter}");
        let out = push(&env, &[]).ok().json();
        assert_eq!(out["status"], "pushed", "{what}: {out}");
        assert_eq!(out["users"]["create"], 3, "{what}: {out}");
        assert_eq!(out["groups"]["create"], 1, "{what}: {out}");
        assert_eq!(out["unconfirmed"], json!([]), "{what}: {out}");
        assert_eq!(out["changes"].as_array().unwrap().len(), 4, "{what}: {out}");
        assert_eq!(server.all("Users").len(), 3, "{what}");
        assert_members(&server, &[("OPS", &["U7", "U8"])]);
        let status = env.roster(&["status", "--format", "json"]).json();
        assert_eq!(status["push"]["pending"], 0, "{what}: {status}");
        assert_eq!(
            status["push"]["last"]["status"], "pushed",
            "{what}: {status}"
        );
        let again = push(&env, &[]).ok().json();
        assert_eq!(
            proxy
                .writes()
                .iter()
                .filter(|w| w.starts_with("POST"))
                .count(),
            2,
            "{what}: {:?}",
            proxy.writes()
        );
        assert_eq!(again["users"]["taken_over"], 0, "{what}: {again}");
        assert_eq!(again["requests"], 1, "{what}: {again}");
    }
}

/// A bulk whose operations are all answered 201 without a location, by a provider that made
/// nothing: each create is looked up, not found, and left pending (exit 1, naming it), never
/// sent again blindly in the same push; nothing is counted created.
#[test]
fn a_bulk_create_answered_201_that_the_provider_does_not_hold_is_left_pending() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), true, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "POST" && r.path == "/Bulk" {
            let n = r.text().matches("\"bulkId\"").count();
            let ops: Vec<Value> = (0..n)
                .map(|i| json!({"method": "POST", "bulkId": format!("b{i}"), "status": "201"}))
                .collect();
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"], "Operations": ops});
            Act::Answer(200, Arc::new(body.to_string().into_bytes()))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "groups = false");
    env.import(
        "day1.csv",
        &csv(&[
            "U7,Ida Lund,ida@example.org,Porter,,",
            "U8,Jon Ahl,jon@example.org,,,",
        ]),
        &[],
    )
    .ok();
    let run = push(&env, &[]).code(1);
    let out = run.json();
    assert_eq!(out["status"], "unconfirmed", "{out}");
    assert_eq!(out["users"]["create"], 0, "{out}");
    assert_eq!(out["changes"], json!([]), "{out}");
    assert!(run.stderr.contains("U7"), "{}", run.stderr);
    assert_eq!(proxy.count(&["POST"]), 1, "{:?}", proxy.writes());
    let status = env.roster(&["status", "--format", "json"]).json();
    assert_eq!(status["push"]["pending"], 2, "{status}");
    assert_eq!(status["push"]["last"]["status"], "unconfirmed", "{status}");
}

/// A new group whose create the provider answers without its members (only PATCH applies
/// them) is completed by a PATCH in the same push: one change, counted once as created, not
/// also as updated, in the JSON and the text summary alike (SPEC §8: the counts show what
/// the provider acknowledged, not the requests it took).
#[test]
fn a_new_group_completed_by_patch_is_counted_once_as_created() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, false, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let proxy = forgetful(server.port);
    let env = setup(&proxy.url(), "");
    groups(
        &env,
        &[
            ("LAB", "Laboratory"),
            ("PHA", "Pharmacy"),
            ("RAD", "Radiology"),
        ],
    );
    env.import(
        "day1.csv",
        &csv(&[
            "P1,Eva Lind,eva@example.org,,,LAB",
            "P2,Ola Berg,ola@example.org,,,\"LAB,PHA\"",
            "P3,Siv Holm,siv@example.org,,,RAD",
        ]),
        &[],
    )
    .ok();
    let out = push(&env, &[]).ok().json();
    assert_members(
        &server,
        &[("LAB", &["P1", "P2"]), ("PHA", &["P2"]), ("RAD", &["P3"])],
    );
    assert_eq!(out["groups"]["create"], 3, "{out}");
    assert_eq!(out["groups"]["update"], 0, "{out}");
    let status = env.roster(&["status", "--format", "json"]).json();
    assert_eq!(
        status["push"]["last"]["counts"]["groups"]["update"], 0,
        "{status}"
    );
    // A group added the next day, in the text summary.
    groups(&env, &[("ORT", "Orthopaedics")]);
    env.import(
        "day2.csv",
        &csv(&[
            "P1,Eva Lind,eva@example.org,,,LAB",
            "P2,Ola Berg,ola@example.org,,,\"LAB,PHA\"",
            "P3,Siv Holm,siv@example.org,,,\"RAD,ORT\"",
        ]),
        &["--allow-updates", "9"],
    )
    .ok();
    let text = env.roster(&["push"]).ok().stdout;
    assert!(
        text.contains("groups 1 created, 0 updated, 0 deleted, 3 unchanged"),
        "{text}"
    );
}

/// A provider whose `totalResults` is the number of resources on the page it answers (not
/// how many it holds) cannot hide from a plain push the group it already holds under the
/// externalId of one to create (made by hand, under another name): it is found and taken
/// over, not made twice. With a filter and without.
#[test]
fn a_total_that_counts_the_page_hides_no_group_to_take_over() {
    for filter in [true, false] {
        let what = format!("filter {filter}");
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), false, filter, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        let proxy = Tamper::start(server.port, |r| {
            if r.method == "GET" && r.path.contains("startIndex=") {
                Act::Edit(Box::new(|s, mut v| {
                    let n = v["Resources"].as_array().map_or(0, Vec::len);
                    v["totalResults"] = json!(n);
                    (s, v)
                }))
            } else {
                Act::Pass
            }
        });
        let env = setup(&proxy.url(), "");
        groups(&env, &[("WARD4", "Ward four"), ("WARD5", "Ward five")]);
        env.import(
            "day1.csv",
            &csv(&[
                "N1,Liv Sand,liv@example.org,,,WARD4",
                "N2,Max Grön,max@example.org,,,WARD5",
                "N3,Tea Vik,tea@example.org,,,WARD4",
            ]),
            &[],
        )
        .ok();
        push(&env, &[]).ok();
        let by_hand = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "externalId": "KITCHEN", "displayName": "kitchen staff (by hand)"});
        assert_eq!(server.send("POST", "/Groups", Some(by_hand)), 201);
        let id = server.all("Groups")["KITCHEN"]["id"].clone();
        groups(&env, &[("KITCHEN", "Kitchen")]);
        env.import(
            "day2.csv",
            &csv(&[
                "N1,Liv Sand,liv@example.org,,,\"WARD4,KITCHEN\"",
                "N2,Max Grön,max@example.org,,,WARD5",
                "N3,Tea Vik,tea@example.org,,,WARD4",
            ]),
            &["--allow-updates", "9"],
        )
        .ok();
        let out = push(&env, &[]).ok().json();
        assert_eq!(out["groups"]["taken_over"], 1, "{what}: {out}");
        assert_eq!(out["groups"]["create"], 0, "{what}: {out}");
        // `all` fails on two resources of one externalId.
        let groups = server.all("Groups");
        assert_eq!(groups["KITCHEN"]["id"], id, "{what}");
        assert_eq!(groups["KITCHEN"]["displayName"], "Kitchen", "{what}");
        assert_eq!(member_ids(&groups["KITCHEN"]).len(), 1, "{what}");
    }
}

/// A create the provider refused (400) for a user who then leaves the directory, or a group
/// then removed from the store, leaves nothing to send: the provider never held it, so the
/// refusal is settled, not kept as a failure that makes `status` unhealthy for ever.
#[test]
fn a_refused_create_of_a_user_who_left_is_no_failure_any_more() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let proxy = Tamper::start(server.port, |r| {
        let text = r.text();
        if r.method == "POST" && (text.contains("\"Q9\"") || text.contains("\"TMP\"")) {
            let body = json!({"status": "400", "scimType": "invalidValue", "detail": "not here"});
            Act::Answer(400, Arc::new(body.to_string().into_bytes()))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "");
    groups(&env, &[("DESK", "Front desk"), ("TMP", "Temporary")]);
    env.import(
        "day1.csv",
        &csv(&[
            "Q1,Ada Nord,ada@example.org,,,DESK",
            "Q9,Per Syd,per@example.org,,,TMP",
        ]),
        &[],
    )
    .ok();
    let out = push(&env, &[]).code(1).json();
    assert_eq!(out["refused"].as_array().unwrap().len(), 2, "{out}");
    let status = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["push"]["failures"], 2, "{status}");

    // Q9 leaves, TMP is removed: nothing of theirs is left to send.
    env.import(
        "day2.csv",
        &csv(&["Q1,Ada Nord,ada@example.org,,,DESK"]),
        &["--allow-removals", "9"],
    )
    .ok();
    env.roster(&["groups", "remove", "TMP", "--force"]).ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["refused"], json!([]), "{out}");
    let status = env.roster(&["status", "--format", "json"]).ok().json();
    assert_eq!(status["push"]["failures"], 0, "{status}");
    assert_eq!(status["push"]["pending"], 0, "{status}");
    assert_eq!(status["healthy"], true, "{status}");
    assert_eq!(server.all("Users").len(), 1);
}

/// A provider whose filter answers nothing (an empty list for any `externalId eq …`) cannot
/// hide the account it already holds under the externalId of a user to create (another
/// userName, so no 409 tells): roster finds it by the listing and takes it over, and the
/// provider never holds two active accounts of one externalId.
#[test]
fn a_filter_that_answers_nothing_hides_no_account_to_take_over() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let empty = Arc::new(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
               "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
        .to_string()
        .into_bytes(),
    );
    let proxy = Tamper::start(server.port, move |r| {
        if r.method == "GET" && r.path.contains("filter=") {
            Act::Answer(200, empty.clone())
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "groups = false");
    env.import(
        "day1.csv",
        &csv(&[
            "R1,Rut Ek,rut@example.org,,,",
            "R2,Ove Alm,ove@example.org,,,",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    let by_hand = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "externalId": "R3", "userName": "l.ström@example.org", "active": true});
    assert_eq!(server.send("POST", "/Users", Some(by_hand)), 201);
    let id = server.all("Users")["R3"]["id"].clone();
    env.import(
        "day2.csv",
        &csv(&[
            "R1,Rut Ek,rut@example.org,,,",
            "R2,Ove Alm,ove@example.org,,,",
            "R3,Lo Ström,lo@example.org,,,",
        ]),
        &[],
    )
    .ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["taken_over"], 1, "{out}");
    assert_eq!(out["users"]["create"], 0, "{out}");
    // `all` fails on two resources of one externalId.
    let users = server.all("Users");
    assert_eq!(users["R3"]["id"], id);
    assert_eq!(users["R3"]["userName"], "lo@example.org");
}

/// A deactivation answered 200 with the provider's representation still active (the
/// provider ignored `active: false`) is not counted as done: the leaver can still log in to
/// the app, so the push says so (exit 1, naming the user), `status` is unhealthy, and the
/// next push tries again; once the provider takes it, the push completes.
#[test]
fn a_deactivation_the_provider_ignores_is_not_counted_done() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let ignore = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let on = ignore.clone();
    let proxy = Tamper::start(server.port, move |r| {
        if on.load(Ordering::SeqCst) && r.method == "PATCH" && r.path.starts_with("/Users/") {
            r.method = "GET".into();
            r.body.clear();
        }
        Act::Pass
    });
    let env = setup(&proxy.url(), "groups = false");
    env.import(
        "day1.csv",
        &csv(&[
            "V1,Vera Falk,vera@example.org,,,",
            "V2,Emil Rask,emil@example.org,,,",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    env.import(
        "day2.csv",
        &csv(&["V1,Vera Falk,vera@example.org,,,"]),
        &["--allow-removals", "9"],
    )
    .ok();
    let run = push(&env, &["--allow-removals", "9"]).code(1);
    let out = run.json();
    assert_eq!(out["users"]["deactivate"], 0, "{out}");
    assert_eq!(out["changes"], json!([]), "{out}");
    assert!(run.stderr.contains("V2"), "{}", run.stderr);
    assert_eq!(server.all("Users")["V2"]["active"], true);
    let status = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["push"]["pending"], 1, "{status}");

    ignore.store(false, Ordering::SeqCst);
    let out = push(&env, &["--allow-removals", "9"]).ok().json();
    assert_eq!(out["users"]["deactivate"], 1, "{out}");
    assert_eq!(server.all("Users")["V2"]["active"], false);
    env.roster(&["status"]).ok();
}

/// A provider that answers a PATCH removing members by a filter path with 200 and its
/// representation, the member still there (it takes only a `value` list), is not read as one
/// that does not keep members: the removal goes again in the other shape in the same push,
/// and the leaver is out of the group.
#[test]
fn a_member_removal_answered_200_but_not_applied_goes_in_the_other_shape() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    // In front of scim2-server (which takes only the filter path): ignore the filter path
    // (answering 200 with the group as it is), and turn a value list into filter paths.
    let proxy = Tamper::start(server.port, |r| {
        if r.method != "PATCH" || !r.path.starts_with("/Groups") {
            return Act::Pass;
        }
        let mut v: Value = serde_json::from_slice(&r.body).unwrap();
        let mut ops = Vec::new();
        for op in v["Operations"].as_array().unwrap() {
            let path = op["path"].as_str().unwrap_or("");
            if op["op"] == "remove" && path.starts_with("members[") {
                continue;
            }
            if op["op"] == "remove" && path == "members" {
                for m in op["value"].as_array().unwrap() {
                    ops.push(json!({"op": "remove",
                        "path": format!("members[value eq \"{}\"]", m["value"].as_str().unwrap())}));
                }
            } else {
                ops.push(op.clone());
            }
        }
        if ops.is_empty() {
            r.method = "GET".into();
            r.body.clear();
            return Act::Pass;
        }
        v["Operations"] = Value::Array(ops);
        r.body = v.to_string().into_bytes();
        Act::Pass
    });
    let env = setup(&proxy.url(), "");
    groups(&env, &[("NIGHT", "Night shift")]);
    env.import(
        "day1.csv",
        &csv(&[
            "W1,Ines Kron,ines@example.org,,,NIGHT",
            "W2,Olle Dahl,olle@example.org,,,NIGHT",
            "W3,Pia Berg,pia@example.org,,,NIGHT",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    env.import(
        "day2.csv",
        &csv(&[
            "W1,Ines Kron,ines@example.org,,,NIGHT",
            "W2,Olle Dahl,olle@example.org,,,",
            "W3,Pia Berg,pia@example.org,,,NIGHT",
        ]),
        &["--allow-updates", "9"],
    )
    .ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["groups"]["update"], 1, "{out}");
    assert_members(&server, &[("NIGHT", &["W1", "W3"])]);
    let status = env.roster(&["status", "--format", "json"]).ok().json();
    assert_eq!(status["push"]["dropped"], json!([]), "{status}");
}

/// Accounts taken over are listed as `take over` in the push's changes, as they are counted
/// (apart from created and updated): one that needed a change to match the store, and one
/// that already matched (listed too, since it is counted).
#[test]
fn accounts_taken_over_are_listed_as_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let schema = "urn:ietf:params:scim:schemas:core:2.0:User";
    let stale = json!({"schemas": [schema], "externalId": "T1",
        "userName": "t.old@example.org", "active": false});
    let same = json!({"schemas": [schema], "externalId": "T2", "userName": "tor@example.org",
        "displayName": "Tor Nyman", "name": {"formatted": "Tor Nyman"},
        "emails": [{"value": "tor@example.org", "type": "work", "primary": true}],
        "active": true});
    assert_eq!(server.send("POST", "/Users", Some(stale)), 201);
    assert_eq!(server.send("POST", "/Users", Some(same)), 201);
    let env = setup(&server.url(), "groups = false");
    env.import(
        "day1.csv",
        &csv(&[
            "T1,Tea Ulf,tea@example.org,,,",
            "T2,Tor Nyman,tor@example.org,,,",
            "T3,Ture Ek,ture@example.org,,,",
        ]),
        &[],
    )
    .ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["taken_over"], 2, "{out}");
    assert_eq!(out["users"]["create"], 1, "{out}");
    assert_eq!(out["users"]["update"], 0, "{out}");
    let mut actions: Vec<(String, String)> = out["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().into(),
                c["action"].as_str().unwrap().into(),
            )
        })
        .collect();
    actions.sort();
    let want = [("T1", "take over"), ("T2", "take over"), ("T3", "create")];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(actions, want, "{out}");
    let text = env.roster(&["push", "-v"]).ok().stdout;
    assert!(
        !text.contains("take over"),
        "nothing more to take over: {text}"
    );
}

/// A push killed (-9) in the middle leaves no process running it: its attempt failed, so
/// `status` is unhealthy and says the push failed (not `running`, not healthy), until the
/// next push resumes and completes.
#[test]
fn a_push_killed_midway_makes_status_unhealthy_until_the_next_push() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let env = setup(&server.url(), "groups = false");
    env.import(
        "day1.csv",
        &csv(&[
            "K1,Kaj Lo,kaj@example.org,,,",
            "K2,Lo Kaj,lo@example.org,,,",
        ]),
        &[],
    )
    .ok();
    // Connection 3 (after the ServiceProviderConfig, the count and the first create) is
    // held: its answer never comes, and roster is killed meanwhile.
    let hold = support::servers::Hold::start(server.port, 3);
    point_at(&env, &format!("http://127.0.0.1:{}", hold.port));
    let mut child = env
        .command(&["push"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    hold.wait_answered();
    child.kill().unwrap();
    child.wait().unwrap();
    let status = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["healthy"], false, "{status}");
    assert_eq!(status["push"]["last"]["status"], "failed", "{status}");
    let text = env.roster(&["status"]).code(1).stdout;
    assert!(text.contains("UNHEALTHY"), "{text}");

    point_at(&env, &server.url());
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["taken_over"], 1, "{out}");
    assert_eq!(server.all("Users").len(), 2);
    let status = env.roster(&["status", "--format", "json"]).ok().json();
    assert_eq!(status["push"]["last"]["status"], "pushed", "{status}");
}

/// A leaver whose account was already deleted in the app (404 to the deactivation) is done:
/// counted deactivated as the change listed for them, nothing refused, nothing pending.
#[test]
fn a_deactivation_of_an_account_gone_from_the_app_is_counted_as_listed() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let env = setup(&server.url(), "groups = false");
    env.import(
        "day1.csv",
        &csv(&[
            "G1,Gun Ek,gun@example.org,,,",
            "G2,Gry Al,gry@example.org,,,",
        ]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    let id = server.all("Users")["G2"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(server.send("DELETE", &format!("/Users/{id}"), None), 204);
    env.import(
        "day2.csv",
        &csv(&["G1,Gun Ek,gun@example.org,,,"]),
        &["--allow-removals", "9"],
    )
    .ok();
    let out = push(&env, &["--allow-removals", "9"]).ok().json();
    let listed: Vec<&str> = out["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["deactivate"], "{out}");
    assert_eq!(out["users"]["deactivate"], 1, "{out}");
    assert_eq!(out["refused"], json!([]), "{out}");
    let status = env.roster(&["status", "--format", "json"]).ok().json();
    assert_eq!(status["push"]["pending"], 0, "{status}");
    assert_eq!(push(&env, &[]).ok().json()["requests"], 1);
}

/// A user changed in the store whose account was deleted in the app (404 to the update) is
/// made again: listed as created, as it is counted, not as updated.
#[test]
fn an_update_of_an_account_gone_from_the_app_is_listed_as_the_create_it_became() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let env = setup(&server.url(), "groups = false");
    env.import(
        "day1.csv",
        &csv(&["H1,Hans Ax,hans@example.org,Cook,,"]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    let id = server.all("Users")["H1"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(server.send("DELETE", &format!("/Users/{id}"), None), 204);
    env.import(
        "day2.csv",
        &csv(&["H1,Hans Ax,hans@example.org,Chef,,"]),
        &["--allow-updates", "9"],
    )
    .ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["create"], 1, "{out}");
    assert_eq!(out["users"]["update"], 0, "{out}");
    assert_eq!(out["changes"][0]["action"], "create", "{out}");
    assert_eq!(server.all("Users")["H1"]["title"], "Chef");
}

/// `apply` and `revert` end like `sync` (SPEC §2): a push after them that the provider partly
/// refuses shows its line, with what it created, updated and refused, before the error; they
/// said only that the push did not complete, so what it did (and a provider limitation seen
/// for the first time) was never shown.
#[test]
fn a_partial_push_after_apply_or_revert_shows_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "POST" && r.text().contains("\"R9\"") {
            let body = json!({"status": "400", "scimType": "invalidValue", "detail": "not here"});
            Act::Answer(400, Arc::new(body.to_string().into_bytes()))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "groups = false\n[import]\nmax_removals = 5\n");
    let ada = "R1,Ada Nord,ada@example.org,,,";
    let per = "R9,Per Syd,per@example.org,,,";
    env.import("day1.csv", &csv(&[ada]), &[]).ok();
    push(&env, &[]).ok();

    let day2 = env.write("day2.csv", csv(&[ada, per]));
    env.roster(&["fetch", "--source", day2.to_str().unwrap()])
        .ok();
    let run = env.roster(&["apply"]).code(1);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        said.contains("push (some changes refused): users 0 created, 0 updated")
            && said.contains("; 1 refused;"),
        "{said}"
    );

    let day3 = env
        .import("day3.csv", &csv(&[per]), &["--allow-removals", "5"])
        .ok()
        .json();
    push(&env, &[]).code(1);
    assert_eq!(server.all("Users")["R1"]["active"], false);
    let undone = day3["run"].to_string();
    let run = env.roster(&["revert", &undone]).code(1);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        said.contains("push (some changes refused): users 0 created, 1 updated")
            && said.contains("; 1 refused;"),
        "{said}"
    );
    assert_eq!(server.all("Users")["R1"]["active"], true);
}

/// A provider that answers a PATCH of a group's `displayName` with 200 and the group as it
/// was (it keeps its own name): what it kept counts (SPEC §8). The rename was recorded as
/// done without a look at the answer, so each `--full` found the old name and sent the same
/// PATCH again, and the push never said the provider keeps its own names.
#[test]
fn a_rename_the_provider_ignores_is_not_sent_again_and_again() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let env = setup(&server.url(), "");
    groups(&env, &[("ICU", "Intensive care")]);
    env.import(
        "day1.csv",
        &csv(&["E1,Ann Berg,ann@example.org,Nurse,,ICU"]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "PATCH" && r.path.starts_with("/Groups/") {
            r.method = "GET".into();
            r.body.clear();
        }
        Act::Pass
    });
    point_at(&env, &proxy.url());
    env.roster(&["groups", "rename", "ICU", "ICU ward"]).ok();
    let first = push(&env, &[]);
    let full = push(&env, &["--full"]);
    let before = proxy.writes().len();
    let again = push(&env, &["--full"]);
    let what = format!(
        "{}{}\n{}{}\n{}{}",
        first.stdout, first.stderr, full.stdout, full.stderr, again.stdout, again.stderr
    );
    assert_eq!(
        proxy.writes()[before..].to_vec(),
        Vec::<String>::new(),
        "{what}"
    );
    assert_eq!(server.all("Groups")["ICU"]["displayName"], "Intensive care");
    let status = env.roster(&["status", "--format", "json"]).json();
    assert!(
        status["push"]["dropped"]
            .to_string()
            .contains("displayName"),
        "{status}\n{what}"
    );
}

/// A reactivation (a PUT with `active: true`) answered 200 with the provider's representation
/// still inactive (it ignored `active`) is not confirmed, as an ignored deactivation is not:
/// left pending, exit 1 naming the user, status unhealthy, sent again by the next push. It
/// counted '1 updated' with exit 0 and a healthy status while the returner could not log in
/// to the app, and no later push sent anything (SPEC §8: what the provider kept counts).
#[test]
fn a_reactivation_the_provider_ignores_is_not_counted_done() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let ignore = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let on = ignore.clone();
    let proxy = Tamper::start(server.port, move |r| {
        if on.load(Ordering::SeqCst) && r.method == "PUT" && r.path.starts_with("/Users/") {
            r.method = "GET".into();
            r.body.clear();
        }
        Act::Pass
    });
    let env = setup(&proxy.url(), "groups = false");
    let vera = "V1,Vera Falk,vera@example.org,,,";
    let emil = "V2,Emil Rask,emil@example.org,,,";
    env.import("day1.csv", &csv(&[vera, emil]), &[]).ok();
    push(&env, &[]).ok();
    env.import("day2.csv", &csv(&[vera]), &["--allow-removals", "9"])
        .ok();
    push(&env, &["--allow-removals", "9"]).ok();
    assert_eq!(server.all("Users")["V2"]["active"], false);

    env.import("day3.csv", &csv(&[vera, emil]), &[]).ok();
    let run = push(&env, &[]).code(1);
    let out = run.json();
    assert_eq!(out["users"]["update"], 0, "{out}");
    assert_eq!(out["changes"], json!([]), "{out}");
    assert!(run.stderr.contains("V2"), "{}", run.stderr);
    let status = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(status["push"]["pending"], 1, "{status}");

    ignore.store(false, Ordering::SeqCst);
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["users"]["update"], 1, "{out}");
    assert_eq!(server.all("Users")["V2"]["active"], true);
    env.roster(&["status"]).ok();
}

/// A push blocked by the removal safeguard sends nothing, so it counts nothing done: its
/// counts, `status` (`push.last.counts`) and the report's push line say no user changed,
/// while its message and changes say what it would do. They said '2 deactivated' (the
/// report: 'Push: blocked …: 2 deactivated') with every account still active in the app
/// (SPEC §8: the counts, the report and status show only acknowledged changes).
#[test]
fn a_blocked_push_counts_nothing_done() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(
        &server.url(),
        "groups = false\n[import]\nmax_removals = 1\n",
    );
    let rows = ["B1,Al Ek,al@example.org,,,", "B2,Bea Ek,bea@example.org,,,"];
    let rows3 = [rows[0], rows[1], "B3,Cai Ek,cai@example.org,,,"];
    env.import("day1.csv", &csv(&rows3), &[]).ok();
    push(&env, &[]).ok();
    env.import("day2.csv", &csv(&rows[..1]), &["--allow-removals", "2"])
        .ok();

    let out = push(&env, &[]).code(4).json();
    assert_eq!(out["status"], "blocked", "{out}");
    assert_eq!(out["users"]["deactivate"], 0, "{out}");
    assert_eq!(out["changes"].as_array().unwrap().len(), 2, "{out}");
    assert!(server.all("Users").values().all(|u| u["active"] == true));
    let status = env.roster(&["status", "--format", "json"]).code(1).json();
    assert_eq!(
        status["push"]["last"]["counts"]["users"]["deactivate"], 0,
        "{status}"
    );
    let report = env.roster(&["report"]).stdout;
    let line = report
        .lines()
        .find(|l| l.starts_with("Push:"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(!line.contains("deactivated"), "{line}");
}

/// A refused change the store then took back (the title the provider holds is the one in the
/// store again): nothing is left to send, so nothing is left refused. Its refusal stayed
/// recorded, so `status` counted a failure and stayed unhealthy (exit 1) for ever after
/// pushes that said 'pushed, 0 refused' (SPEC §8: a refusal is tried again by the next push).
#[test]
fn a_refused_change_the_store_took_back_is_no_failure_any_more() {
    let dir = tempfile::tempdir().unwrap();
    let spc = spc_with(dir.path(), false, true, true);
    let server = Scim::start(dir.path(), TOKEN, Some(&spc));
    let proxy = Tamper::start(server.port, |r| {
        if r.method == "PUT" && r.text().contains("Chief") {
            let body = json!({"status": "400", "scimType": "invalidValue", "detail": "no chiefs"});
            Act::Answer(400, Arc::new(body.to_string().into_bytes()))
        } else {
            Act::Pass
        }
    });
    let env = setup(&proxy.url(), "groups = false\n[import]\nmax_updates = 9\n");
    env.import(
        "day1.csv",
        &csv(&["T1,Tor Ek,tor@example.org,Nurse,,"]),
        &[],
    )
    .ok();
    push(&env, &[]).ok();
    env.import(
        "day2.csv",
        &csv(&["T1,Tor Ek,tor@example.org,Chief,,"]),
        &[],
    )
    .ok();
    let out = push(&env, &[]).code(1).json();
    assert_eq!(out["refused"].as_array().unwrap().len(), 1, "{out}");

    env.import(
        "day3.csv",
        &csv(&["T1,Tor Ek,tor@example.org,Nurse,,"]),
        &[],
    )
    .ok();
    let out = push(&env, &[]).ok().json();
    assert_eq!(out["refused"], json!([]), "{out}");
    let status = env.roster(&["status", "--format", "json"]).ok().json();
    assert_eq!(status["push"]["failures"], 0, "{status}");
    assert_eq!(status["healthy"], true, "{status}");
    assert_eq!(server.all("Users")["T1"]["title"], "Nurse");
}

/// A 429 whose `Retry-After` is an HTTP-date is waited for until that date, in each of the
/// three forms RFC 9110 §5.6.7 says a recipient reads: IMF-fixdate, and the obsolete RFC 850
/// and asctime forms (SPEC §8: a provider that is down is retried with backoff, 429 with
/// `Retry-After`). The obsolete forms were not read: the push tried again after half a
/// second's backoff, hammering a provider that had asked for a pause.
#[test]
fn a_retry_after_date_is_waited_for_in_every_http_date_form() {
    let forms = [
        "%a, %d %b %Y %H:%M:%S GMT",
        "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",
    ];
    for form in forms {
        let dir = tempfile::tempdir().unwrap();
        let server = Scim::start(dir.path(), TOKEN, None);
        let at = chrono::Utc::now() + chrono::Duration::seconds(4);
        let answer = format!(
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            at.format(form)
        );
        let busy = support::servers::Busy::start(server.port, 1, answer.leak());
        let url = format!("http://127.0.0.1:{}", busy.port);
        let env = setup(&url, "");
        env.import("users.csv", &csv(&["E1,Ann Berg,ann@example.org,,,"]), &[])
            .ok();
        let started = std::time::Instant::now();
        let out = push(&env, &[]).ok().json();
        let took = started.elapsed();
        assert_eq!(out["users"]["create"], 1, "{form}: {out}");
        assert!(
            took >= Duration::from_millis(2500),
            "{form}: tried again after {took:?}, before the date it was given"
        );
        assert!(server.all("Users").contains_key("E1"), "{form}");
    }
}

/// With `import.reuse_mail_of_deactivated`, a joiner takes a leaver's address and the leaver's
/// mail is cleared in the store (SPEC §4). The leaver's deactivated account in the app still
/// held that address as its `userName`, so the joiner's create was refused (409 uniqueness)
/// on every push: exit 1 and status unhealthy for ever. The leaver's account gives the
/// address up (its `userName` becomes its UniqueID, no `emails`; still inactive) before the
/// joiner is created, in the same push, and a second push sends nothing.
#[test]
fn a_joiner_taking_a_leavers_address_is_created_once_the_leaver_gives_it_up() {
    // With a push between the leaving and the joining, and without (the PUT deactivates too).
    for (bulk, between) in [(true, true), (false, true), (true, false)] {
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), bulk, true, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        let env = setup(
            &server.url(),
            "[import]\nreuse_mail_of_deactivated = true\nmax_removals = 10\n",
        );
        let filler: Vec<String> = (10..30)
            .map(|i| format!("F{i},Filler {i},f{i}@example.org,,,"))
            .collect();
        let mut day1 = vec!["E1,Ann Berg,ann@example.org,Nurse,,"];
        day1.extend(filler.iter().map(String::as_str));
        env.import("day1.csv", &csv(&day1), &[]).ok();
        push(&env, &[]).ok();
        // Ann leaves: deactivated in the app.
        env.import(
            "day2.csv",
            &csv(&filler.iter().map(String::as_str).collect::<Vec<_>>()),
            &[],
        )
        .ok();
        if between {
            let out = push(&env, &[]).ok().json();
            assert_eq!(out["users"]["deactivate"], 1, "{out}");
        }
        // A joiner takes her address.
        let mut day3 = vec!["E2,Ann Holm,ann@example.org,Porter,,"];
        day3.extend(filler.iter().map(String::as_str));
        env.import("day3.csv", &csv(&day3), &[]).ok();
        let run = push(&env, &[]);
        assert_eq!(run.code, 0, "bulk {bulk}: {}\n{}", run.stdout, run.stderr);
        let out = run.json();
        assert_eq!(out["users"]["create"], 1, "bulk {bulk}: {out}");
        let (deactivated, updated) = if between { (0, 1) } else { (1, 0) };
        assert_eq!(out["users"]["deactivate"], deactivated, "{out}");
        assert_eq!(out["users"]["update"], updated, "{out}");
        let users = server.all("Users");
        assert_eq!(users.len(), 22, "bulk {bulk}: {users:?}");
        assert_eq!(users["E2"]["userName"], "ann@example.org");
        assert_eq!(users["E2"]["active"], true);
        assert_eq!(users["E1"]["active"], false, "{}", users["E1"]);
        assert_ne!(users["E1"]["userName"], "ann@example.org");
        let status = env.roster(&["status", "--format", "json"]).ok().json();
        assert_eq!(status["push"]["failures"], 0, "{status}");
        assert_eq!(status["push"]["pending"], 0, "{status}");
        // Nothing more to send, and a --full finds nothing to correct.
        let again = push(&env, &[]).ok().json();
        assert_eq!(again["requests"], 1, "bulk {bulk}: {again}");
        let full = push(&env, &["--full"]).ok().json();
        assert_eq!(full["users"]["update"], 0, "bulk {bulk}: {full}");
        assert_eq!(full["users"]["deactivate"], 0, "bulk {bulk}: {full}");
    }
}

/// With `removed = "delete"`, a joiner taking the address of a leaver whose UniqueID sorts
/// after the joiner's: the leaver's account is deleted before the joiner is created, so the
/// push is not refused (409) for the address it is about to free.
#[test]
fn a_leaver_deleted_frees_its_address_before_the_joiner_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let server = Scim::start(dir.path(), TOKEN, None);
    let env = setup(
        &server.url(),
        "removed = \"delete\"\n[import]\nreuse_mail_of_deactivated = true\nmax_removals = 10\n",
    );
    let filler: Vec<String> = (10..30)
        .map(|i| format!("F{i},Filler {i},f{i}@example.org,,,"))
        .collect();
    let rest: Vec<&str> = filler.iter().map(String::as_str).collect();
    let mut day1 = vec!["Z1,Ann Berg,ann@example.org,Nurse,,"];
    day1.extend(&rest);
    env.import("day1.csv", &csv(&day1), &[]).ok();
    push(&env, &[]).ok();
    env.import("day2.csv", &csv(&rest), &[]).ok();
    let mut day3 = vec!["A2,Ann Holm,ann@example.org,Porter,,"];
    day3.extend(&rest);
    env.import("day3.csv", &csv(&day3), &[]).ok();
    let run = push(&env, &["--allow-removals", "1"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = run.json();
    assert_eq!(out["users"]["create"], 1, "{out}");
    assert_eq!(out["users"]["delete"], 1, "{out}");
    let users = server.all("Users");
    assert_eq!(users["A2"]["userName"], "ann@example.org");
    assert!(!users.contains_key("Z1"), "{users:?}");
}

/// Two users swap addresses in one file (SPEC §4: fine). The provider holds `userName`
/// unique, so the first PUT meets the other's address (409) until the other has moved: it is
/// sent again after the rest of the push, which completes (exit 0, both updated), instead of
/// exit 1 with a refusal that only the next push settled.
#[test]
fn two_users_swapping_addresses_are_pushed_in_one_push() {
    for bulk in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let spc = spc_with(dir.path(), bulk, true, true);
        let server = Scim::start(dir.path(), TOKEN, Some(&spc));
        let env = setup(&server.url(), "groups = false\n");
        env.import(
            "day1.csv",
            &csv(&[
                "E1,Ann Berg,ann@example.org,,,",
                "E2,Bo Berg,bo@example.org,,,",
            ]),
            &[],
        )
        .ok();
        push(&env, &[]).ok();
        env.import(
            "day2.csv",
            &csv(&[
                "E1,Ann Berg,bo@example.org,,,",
                "E2,Bo Berg,ann@example.org,,,",
            ]),
            &["--allow-updates", "2"],
        )
        .ok();
        let run = push(&env, &[]);
        assert_eq!(run.code, 0, "bulk {bulk}: {}\n{}", run.stdout, run.stderr);
        let out = run.json();
        assert_eq!(out["users"]["update"], 2, "bulk {bulk}: {out}");
        let users = server.all("Users");
        assert_eq!(users["E1"]["userName"], "bo@example.org");
        assert_eq!(users["E2"]["userName"], "ann@example.org");
        let again = push(&env, &[]).ok().json();
        assert_eq!(again["requests"], 1, "bulk {bulk}: {again}");
    }
}

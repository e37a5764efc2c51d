//! One scenario of `roster push` against three independent SCIM 2.0 providers, each started on
//! loopback by the test (tests/support/providers.rs): scim2-server, django-scim2 and SCIMMY.
//! After each step the provider's users and groups, read through its own HTTP API, must equal
//! the store attribute by attribute, except the attributes roster reports that provider drops
//! (`status` → `push.dropped`); a second `--full` must write nothing. Plus what roster does when
//! a provider ignores paging (SCIMMY on Express 5), and checks that the fixtures themselves
//! behave as notes/providers.md says.
//!
//! Which of these fail on today's main, and why, is written down in notes/providers.md; the
//! roster defects behind them are being fixed in src/scim/ on the `scim` branch (issue #26).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use support::providers::{Kind, Provider};
use support::{Env, Run};

const TOKEN: &str = "pr0v1ders-t0ken-5e3d2c";

/// An environment whose roster.toml points at the provider (through its counting proxy).
fn setup(provider: &Provider) -> Env {
    let env = Env::new();
    env.write("scim.token", format!("{TOKEN}\n"));
    env.write(
        "roster.toml",
        format!(
            "[scim]\nurl = \"{}\"\ntls = \"none\"\ntoken_file = \"scim.token\"\nretries = 1\ntimeout_secs = 60\n",
            provider.url()
        ),
    );
    env
}

fn push(env: &Env, args: &[&str]) -> Run {
    let mut all = vec!["push", "--format", "json"];
    all.extend_from_slice(args);
    env.roster(&all)
}

/// Fetch and apply a file (`apply` does not push; each push is the test's).
fn import(env: &Env, name: &str, csv: &str, extra: &[&str]) {
    env.import(name, csv, extra).ok();
}

const HEADER: &str = "UniqueID,Name,Mail,Title,TelephoneNumber,SecondaryTelephoneNumber,Groups\n";
const TITLES: [&str; 4] = ["Nurse", "Doctor", "Porter", "Midwife"];

/// One user's record on day 1: 50 users P01…P50 with titles, phones and 0–3 of four groups.
struct Person {
    id: String,
    name: String,
    mail: String,
    title: String,
    phone: String,
    phone2: String,
    groups: Vec<&'static str>,
}

impl Person {
    fn day1(i: usize) -> Person {
        let mut groups = Vec::new();
        for (on, g) in [
            (i.is_multiple_of(4), "ICU"),
            (i % 4 == 1, "ER"),
            (i.is_multiple_of(5), "LAB"),
            (i % 10 == 3, "ADM"),
        ] {
            if on {
                groups.push(g);
            }
        }
        Person {
            id: format!("P{i:02}"),
            name: if i == 2 {
                "Åsa Öberg".to_string()
            } else {
                format!("Person {i} Lastname")
            },
            mail: format!("p{i}@example.org"),
            title: if i.is_multiple_of(5) {
                String::new()
            } else {
                TITLES[i % 4].to_string()
            },
            phone: if i.is_multiple_of(3) {
                format!("+4670000{i:04}")
            } else {
                String::new()
            },
            phone2: if i.is_multiple_of(7) {
                format!("+4673000{i:04}")
            } else {
                String::new()
            },
            groups,
        }
    }

    fn line(&self) -> String {
        format!(
            "{},{},{},{},{},{},\"{}\"\n",
            self.id,
            self.name,
            self.mail,
            self.title,
            self.phone,
            self.phone2,
            self.groups.join(",")
        )
    }
}

fn file(people: &[Person]) -> String {
    let mut s = String::from(HEADER);
    for p in people {
        s.push_str(&p.line());
    }
    s
}

fn day1() -> Vec<Person> {
    (1..=50).map(Person::day1).collect()
}

/// Day 2: P03 renamed, P04 a new title, P05 gone (deactivated), P06 loses its phone and P07 gets
/// another mobile, P08 moves ICU → ER, P09 moves ER → ICU and ADM, the new group NGT (P10, P11,
/// P12), LAB removed and ADM renamed (those two in `scenario`).
fn day2() -> Vec<Person> {
    let mut people: Vec<Person> = day1().into_iter().filter(|p| p.id != "P05").collect();
    for p in &mut people {
        match p.id.as_str() {
            "P03" => p.name = "Person 3 Renamed".into(),
            "P04" => p.title = "Head nurse".into(),
            "P06" => p.phone = String::new(),
            "P07" => p.phone2 = "+46739999999".into(),
            "P08" => p.groups = vec!["ER"],
            "P09" => p.groups = vec!["ICU", "ADM"],
            "P10" | "P11" | "P12" => p.groups.push("NGT"),
            _ => {}
        }
        p.groups.retain(|g| *g != "LAB");
    }
    people
}

/// The attributes the comparison may leave out when roster reports the provider drops them;
/// `userName`, `active` and group `members` are compared always (all three keep them).
const EXCUSABLE: [&str; 3] = ["displayName", "title", "phoneNumbers"];

/// The attribute names roster reports this provider drops (`status` → `push.dropped`).
fn dropped(env: &Env) -> BTreeSet<String> {
    // `status` exits 1 when unhealthy (a failed push): its JSON is there all the same.
    let status = env.roster(&["status", "--format", "json"]).json();
    status["push"]["dropped"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d["attribute"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn excused(dropped: &BTreeSet<String>, attribute: &str) -> bool {
    EXCUSABLE.contains(&attribute)
        && dropped
            .iter()
            .any(|d| d == attribute || d.starts_with(&format!("{attribute}.")))
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

/// Phone numbers as sorted "type value" lines.
fn phones(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| format!("{} {}", text(&p["type"]), text(&p["value"])))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// What the store says the provider must hold for one user, as the provider would show it.
fn wanted_user(u: &Value) -> Value {
    let mut phones = Vec::new();
    for (key, kind) in [("phone", "work"), ("phone2", "mobile")] {
        if let Some(p) = u[key].as_str().filter(|p| !p.is_empty()) {
            phones.push(json!({"type": kind, "value": p}));
        }
    }
    json!({
        "userName": u["mail"],
        "displayName": u["name"],
        "active": u["status"] == "active",
        "title": u["title"].as_str().unwrap_or(""),
        "phoneNumbers": phones,
    })
}

/// Every difference between the store and the provider, as lines; empty when they are equal
/// (apart from the attributes roster reports the provider drops).
fn differences(env: &Env, provider: &Provider) -> Vec<String> {
    let dropped = dropped(env);
    let mut out = Vec::new();
    let store: BTreeMap<String, Value> = env
        .users_json()
        .into_iter()
        .map(|u| (text(&u["unique_id"]), u))
        .collect();
    let users = provider.all("Users");
    let (want, have): (BTreeSet<&String>, BTreeSet<&String>) =
        (store.keys().collect(), users.keys().collect());
    if want != have {
        out.push(format!(
            "users: only in the store {:?}, only in the provider {:?}",
            want.difference(&have).collect::<Vec<_>>(),
            have.difference(&want).collect::<Vec<_>>()
        ));
    }
    for (key, u) in &store {
        let Some(r) = users.get(key) else { continue };
        let w = wanted_user(u);
        let pairs = [
            ("userName", text(&w["userName"]), text(&r["userName"])),
            (
                "displayName",
                text(&w["displayName"]),
                text(&r["displayName"]),
            ),
            ("active", w["active"].to_string(), r["active"].to_string()),
            ("title", text(&w["title"]), text(&r["title"])),
            (
                "phoneNumbers",
                phones(&w["phoneNumbers"]).join(", "),
                phones(&r["phoneNumbers"]).join(", "),
            ),
        ];
        for (attribute, want, have) in pairs {
            if want != have && !excused(&dropped, attribute) {
                out.push(format!(
                    "user {key} {attribute}: store {want:?}, provider {have:?}"
                ));
            }
        }
    }
    out.extend(group_differences(env, provider, &users, &dropped));
    out
}

fn group_differences(
    env: &Env,
    provider: &Provider,
    users: &BTreeMap<String, Value>,
    dropped: &BTreeSet<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let store_groups: BTreeMap<String, String> = env
        .roster(&["groups", "list", "--format", "json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (text(&g["id"]), text(&g["name"])))
        .collect();
    let groups = provider.all("Groups");
    let (want, have): (BTreeSet<&String>, BTreeSet<&String>) =
        (store_groups.keys().collect(), groups.keys().collect());
    if want != have {
        out.push(format!(
            "groups: only in the store {:?}, only in the provider {:?}",
            want.difference(&have).collect::<Vec<_>>(),
            have.difference(&want).collect::<Vec<_>>()
        ));
    }
    let members_in_store = |gid: &str| -> BTreeSet<String> {
        env.users_json()
            .iter()
            .filter(|u| u["status"] == "active")
            .filter(|u| u["groups"].as_array().unwrap().iter().any(|g| g == gid))
            .map(|u| {
                let key = text(&u["unique_id"]);
                users
                    .get(&key)
                    .map(|r| text(&r["id"]))
                    .unwrap_or(format!("(no provider id for {key})"))
            })
            .collect()
    };
    let external_of: BTreeMap<String, String> = users
        .iter()
        .map(|(k, r)| (text(&r["id"]), k.clone()))
        .collect();
    for (gid, name) in &store_groups {
        let Some(g) = groups.get(gid) else { continue };
        let have_name = text(&g["displayName"]);
        if *name != have_name && !excused(dropped, "displayName") {
            out.push(format!(
                "group {gid} displayName: store {name:?}, provider {have_name:?}"
            ));
        }
        let want = members_in_store(gid);
        let listed: Vec<String> = g["members"]
            .as_array()
            .map(|a| a.iter().map(|m| text(&m["value"])).collect())
            .unwrap_or_default();
        let have: BTreeSet<String> = listed.iter().cloned().collect();
        if have.len() != listed.len() {
            out.push(format!("group {gid} lists a member twice: {listed:?}"));
        }
        if want != have {
            let show = |s: &BTreeSet<String>| -> Vec<String> {
                s.iter()
                    .map(|id| external_of.get(id).cloned().unwrap_or(id.clone()))
                    .collect()
            };
            out.push(format!(
                "group {gid} members: missing {:?}, extra {:?}",
                show(&want.difference(&have).cloned().collect()),
                show(&have.difference(&want).cloned().collect())
            ));
        }
    }
    out
}

#[track_caller]
fn assert_equal(env: &Env, provider: &Provider, step: &str) {
    let diff = differences(env, provider);
    // A count per kind of difference ("user title"), then the first few in full.
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for d in &diff {
        let words: Vec<&str> = d.split(' ').collect();
        let kind = match words.as_slice() {
            [what @ ("user" | "group"), _, attribute, ..] => format!("{what} {attribute}"),
            _ => words[0].trim_end_matches(':').to_string(),
        };
        *kinds
            .entry(kind.trim_end_matches(':').to_string())
            .or_default() += 1;
    }
    let message = format!(
        "{}, {step}: the provider differs from the store: {kinds:?} (dropped as reported: {:?})\n{}",
        provider.name(),
        dropped(env),
        diff[..diff.len().min(12)].join("\n")
    );
    // ROSTER_PROVIDERS_GO_ON=1 prints each step's differences and goes on, to see them all.
    if std::env::var_os("ROSTER_PROVIDERS_GO_ON").is_some() {
        eprintln!(
            "{}",
            if diff.is_empty() {
                format!("{}, {step}: equal", provider.name())
            } else {
                message
            }
        );
        return;
    }
    assert!(diff.is_empty(), "{message}");
}

/// A push that must succeed; its JSON.
#[track_caller]
fn push_ok(env: &Env, provider: &Provider, args: &[&str]) -> Value {
    let run = push(env, args);
    if std::env::var_os("ROSTER_PROVIDERS_GO_ON").is_some() && run.code != 0 {
        eprintln!(
            "{}: push {args:?} exit {}: {}",
            provider.name(),
            run.code,
            run.stderr
        );
        return serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    }
    assert_eq!(
        run.code,
        0,
        "{}: push {args:?}\nstdout:\n{}\nstderr:\n{}\nprovider log (tail):\n{}",
        provider.name(),
        run.stdout,
        run.stderr,
        tail(&provider.log(), 30)
    );
    run.json()
}

/// Requests counted by method and resource type: {"PUT /Users": 50}; other paths as they are.
fn summary(requests: &[String]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in requests {
        let (method, path) = r.split_once(' ').unwrap_or((r, ""));
        let path = path.split('?').next().unwrap_or("");
        let kind = path
            .split('/')
            .find(|s| ["Users", "Groups", "Bulk"].contains(s))
            .map_or(path.to_string(), |k| format!("/{k}"));
        *out.entry(format!("{method} {kind}")).or_default() += 1;
    }
    out
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The first push, a day of changes, a change made in the app and `push --full`, a second
/// `--full` that writes nothing.
fn scenario(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::start(kind, dir.path(), TOKEN);
    eprintln!("{} started in {:?}", provider.name(), provider.startup);
    let env = setup(&provider);
    for (id, name) in [
        ("ICU", "Intensive care"),
        ("ER", "Emergency"),
        ("LAB", "Laboratory"),
        ("ADM", "Administration"),
    ] {
        env.roster(&["groups", "add", id, "--name", name]).ok();
    }

    // 1. The first push of 50 users in four groups.
    import(&env, "day1.csv", &file(&day1()), &[]);
    let first = push_ok(&env, &provider, &[]);
    eprintln!(
        "{}: the first push made {} requests ({} writes): users {}, groups {}",
        provider.name(),
        provider.requests().len(),
        provider.writes_since(0).len(),
        first["users"],
        first["groups"]
    );
    assert_equal(&env, &provider, "after the first push");
    let mark = provider.requests().len();
    push_ok(&env, &provider, &[]);
    assert_eq!(
        summary(&provider.writes_since(mark)),
        BTreeMap::new(),
        "{}: a second push wrote",
        provider.name()
    );

    // 2. A day of changes.
    env.roster(&["groups", "add", "NGT", "--name", "Night shift"])
        .ok();
    env.roster(&["groups", "remove", "LAB", "--force"]).ok();
    env.roster(&["groups", "rename", "ADM", "Administrative staff"])
        .ok();
    import(&env, "day2.csv", &file(&day2()), &["--allow-removals", "1"]);
    push_ok(&env, &provider, &[]);
    assert_equal(&env, &provider, "after a day of changes");

    // 3. Changes made in the app itself, put back by `push --full`.
    let users = provider.all("Users");
    let groups = provider.all("Groups");
    let id = |k: &str| text(&users[k]["id"]);
    provider.deactivate(&id("P20"));
    provider.remove_member(&text(&groups["ICU"]["id"]), &id("P12"));
    provider.delete_user(&id("P21"));
    provider.rename_user(&id("P22"), "someone.else@example.org");
    let drift = differences(&env, &provider);
    let gone = "users: only in the store [\"P21\"]";
    for what in ["P20 active", gone, "P22 userName", "group ICU members"] {
        assert!(
            drift.iter().any(|d| d.contains(what)),
            "{}: the change made in the app ({what}) is not seen: {drift:?}",
            provider.name()
        );
    }
    push_ok(&env, &provider, &["--full"]);
    assert_equal(&env, &provider, "after push --full");

    // 4. A second `--full` writes nothing.
    let mark = provider.requests().len();
    let again = push_ok(&env, &provider, &["--full"]);
    eprintln!(
        "{}: a second push --full: {} requests, writes {:?}",
        provider.name(),
        provider.requests().len() - mark,
        summary(&provider.writes_since(mark))
    );
    assert_eq!(
        summary(&provider.writes_since(mark)),
        BTreeMap::new(),
        "{}: a second push --full wrote: {again}",
        provider.name()
    );
    assert_equal(&env, &provider, "after a second push --full");
}

#[test]
fn the_scenario_on_scim2_server() {
    scenario(Kind::Scim2Server);
}

// Fails on today's main, for roster defects the `scim` branch fixes (issue #26): django-scim2
// ignores `members` on POST and PUT (roster must PATCH add/remove them), drops `title` and
// `phoneNumbers` and replaces `displayName` by the `userName` (roster must report them dropped
// and not send them again on every `--full`: today a second `--full` PUTs 49 users and 4
// groups), and has no filter on `externalId` (roster must match by listing). Not ignored: the
// lead runs it after the merge.
// Tried with the `scim` branch at ad0dd5e merged: the first push is equal, then the day's push
// stops at a 501 ("unreachable: 501 after 2 tries"): django-scim2 applies a PATCH `remove` of
// members only as {"path": "members", "value": [{"value": ID}]} (a `members[value eq ID]` path
// is 501, while scim2-server refuses the value-list form with a 400), and no PATCH `replace` of
// a group's `displayName` (501; a PUT renames it). With those two adapted, the whole scenario
// passed against django-scim2.
#[test]
fn the_scenario_on_django_scim2() {
    scenario(Kind::DjangoScim2);
}

#[test]
fn the_scenario_on_scimmy() {
    scenario(Kind::Scimmy);
}

#[test]
fn every_scenario_provider_starts_quickly() {
    let dir = tempfile::tempdir().unwrap();
    for kind in Kind::ALL {
        let provider = Provider::start(kind, dir.path(), TOKEN);
        eprintln!("{} started in {:?}", provider.name(), provider.startup);
        // Measured at 0.3–1.6 s on a busy 2-core machine; a bound that still catches a provider
        // that waits for something it should not.
        assert!(
            provider.startup < std::time::Duration::from_secs(20),
            "{} took {:?} to start",
            provider.name(),
            provider.startup
        );
    }
}

// Fails on today's main, for a roster defect the `scim` branch fixes (issue #26): roster does
// not check each page's startIndex, so it reads the first 20 users again, takes the other 30 for
// gone from the app and POSTs them again (a Bulk of 30; this app's unique userName turns them
// into 409s that roster then takes over, and it says "30 created", exit 0; an app without that
// check gets 30 duplicates). It must be an error, with nothing written. Passes with the `scim`
// branch at ad0dd5e merged.
#[test]
fn a_provider_that_ignores_paging_is_an_error_never_users_created_again() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::start(Kind::ScimmyExpress5Paging, dir.path(), TOKEN);
    let env = setup(&provider);
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    import(&env, "day1.csv", &file(&day1()), &[]);
    push_ok(&env, &provider, &[]);
    assert_eq!(provider.total("Users"), 50);

    let mark = provider.requests().len();
    let run = push(&env, &["--full"]);
    assert_eq!(
        summary(&provider.writes_since(mark)),
        BTreeMap::new(),
        "push --full against a provider that ignores paging wrote (exit {}; requests {:?}; provider log: {}):\n{}\n{}",
        run.code,
        summary(&provider.requests()[mark..]),
        tail(&provider.log(), 8),
        run.stdout,
        run.stderr
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("startIndex") || run.stderr.contains("paging"),
        "the error names the provider's paging: {}",
        run.stderr
    );
    assert_eq!(provider.total("Users"), 50, "no user created again");
}

/// What each fixture advertises and does, checked without roster (the table in
/// notes/providers.md): a provider that changes under a new library version shows here first.
fn fixture_behaves(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let p = Provider::start(kind, dir.path(), TOKEN);
    let spc = p.get("/ServiceProviderConfig");
    let django = kind == Kind::DjangoScim2;
    assert_eq!(spc["patch"]["supported"], true, "{spc}");
    assert_eq!(spc["bulk"]["supported"], !django, "{spc}");
    assert_eq!(spc["filter"]["supported"], !django, "{spc}");
    assert_eq!(spc["etag"]["supported"], kind == Kind::Scim2Server, "{spc}");

    let user = |ext: &str, mail: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "externalId": ext, "userName": mail, "displayName": "Ann Berg",
            "name": {"formatted": "Ann Berg"},
            "emails": [{"value": mail, "type": "work", "primary": true}],
            "title": "Nurse", "phoneNumbers": [{"value": "+46701234567", "type": "work"}],
            "active": true,
        })
    };
    let (status, ann) = p.send("POST", "/Users", Some(user("E1", "ann@example.org")));
    assert_eq!(status, 201, "{ann:?}");
    let ann = ann.unwrap();
    let (_, bo) = p.send("POST", "/Users", Some(user("E2", "bo@example.org")));
    let bo = bo.unwrap();
    // What the app kept of what it was sent.
    let kept = |key: &str| ann.get(key).is_some_and(|v| !v.is_null());
    assert_eq!(kept("title"), !django, "{ann}");
    assert_eq!(kept("phoneNumbers"), !django, "{ann}");
    let display = if django {
        "ann@example.org"
    } else {
        "Ann Berg"
    };
    assert_eq!(ann["displayName"], display, "{ann}");
    // userName is unique in all of them (a 409).
    let (status, _) = p.send("POST", "/Users", Some(user("E9", "ann@example.org")));
    assert_eq!(status, 409);

    // A group created with members: django-scim2 ignores them.
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "externalId": "ICU", "displayName": "Intensive care",
        "members": [{"value": ann["id"]}],
    });
    let (status, icu) = p.send("POST", "/Groups", Some(group));
    assert_eq!(status, 201, "{icu:?}");
    let icu = icu.unwrap();
    let members = |g: &Value| -> Vec<String> {
        g["members"]
            .as_array()
            .map(|a| a.iter().map(|m| text(&m["value"])).collect())
            .unwrap_or_default()
    };
    let want: Vec<String> = if django {
        vec![]
    } else {
        vec![text(&ann["id"])]
    };
    assert_eq!(members(&icu), want, "{icu}");
    // PATCH add of members (a value list) applies in all of them; adding one already there
    // lists it once, except in SCIMMY, which lists it twice.
    let gid = text(&icu["id"]);
    let patch_group = |op: Value| -> u16 {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [op]});
        p.send("PATCH", &format!("/Groups/{gid}"), Some(body)).0
    };
    let add = |id: &Value| json!({"op": "add", "path": "members", "value": [{"value": id}]});
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let scimmy = matches!(kind, Kind::Scimmy | Kind::ScimmyExpress5Paging);
    let adds: &[&Value] = if django {
        &[&ann["id"], &bo["id"]]
    } else {
        &[&bo["id"]]
    };
    for id in adds {
        let status = patch_group(add(id));
        assert!(matches!(status, 200 | 204), "{}: {status}", p.name());
    }
    let have = sorted(members(&p.get(&format!("/Groups/{gid}"))));
    assert_eq!(
        have,
        sorted(vec![text(&ann["id"]), text(&bo["id"])]),
        "{}",
        p.name()
    );
    let status = patch_group(add(&bo["id"]));
    assert!(matches!(status, 200 | 204), "{}: {status}", p.name());
    let twice = members(&p.get(&format!("/Groups/{gid}"))).len() == 3;
    assert_eq!(
        twice,
        scimmy,
        "{}: a member added again is listed twice",
        p.name()
    );
    // PATCH remove: django-scim2 applies only a value list (a filter in the path is 501),
    // scim2-server only a filter in the path (a value list is 400); SCIMMY both.
    let by_value = json!({"op": "remove", "path": "members", "value": [{"value": bo["id"]}]});
    let by_filter =
        json!({"op": "remove", "path": format!("members[value eq \"{}\"]", text(&bo["id"]))});
    let (first, second) = match kind {
        Kind::DjangoScim2 => (patch_group(by_filter), patch_group(by_value)),
        _ => (patch_group(by_value), patch_group(by_filter)),
    };
    let want = if scimmy {
        200
    } else if django {
        501
    } else {
        400
    };
    assert_eq!(
        (first, second == 200 || second == 204),
        (want, true),
        "{}",
        p.name()
    );
    assert_eq!(
        members(&p.get(&format!("/Groups/{gid}"))),
        vec![text(&ann["id"])],
        "{}",
        p.name()
    );

    // A filter on externalId: answered by scim2-server and SCIMMY; django-scim2 answers none.
    let found = p.get("/Users?filter=externalId%20eq%20%22E2%22");
    assert_eq!(found["totalResults"], if django { 0 } else { 1 }, "{found}");
    // Paging: the second page of one; as on Express 5, the first page of 20 (here both users).
    let page = p.get("/Users?startIndex=2&count=1");
    let express5 = kind == Kind::ScimmyExpress5Paging;
    assert_eq!(page["startIndex"], if express5 { 1 } else { 2 }, "{page}");
    let resources = page["Resources"].as_array().unwrap().len();
    assert_eq!(resources, if express5 { 2 } else { 1 }, "{page}");
}

#[test]
fn the_fixtures_behave_as_the_table_says() {
    for kind in [
        Kind::Scim2Server,
        Kind::DjangoScim2,
        Kind::Scimmy,
        Kind::ScimmyExpress5Paging,
    ] {
        fixture_behaves(kind);
    }
}

/// With `removed = "delete"`, a leaver is deleted, and django-scim2 drops a deleted user from
/// its groups itself: the PATCH removing that member then fails in both shapes (501, then 400
/// "Can not remove a non-existent user from group"). The group is read again and found in
/// step, so the push is complete (exit 0) and `status` healthy; it was a partial push (exit
/// 1, the group refused) and, once the next push had read the group, a refusal that stayed
/// recorded, `status` FAILED for ever with nothing left to send (SPEC §8).
#[test]
fn a_deleted_leaver_the_provider_dropped_from_its_groups_is_no_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::start(Kind::DjangoScim2, dir.path(), TOKEN);
    let env = setup(&provider);
    let mut config = std::fs::read_to_string(env.path("roster.toml")).unwrap();
    config.push_str("removed = \"delete\"\n");
    env.write("roster.toml", config);
    env.roster(&["groups", "add", "G", "--name", "Ward"]).ok();
    let al = "X1,Al Ek,al@example.org,,,,G\n";
    let bea = "X2,Bea Ek,bea@example.org,,,,G\n";
    import(&env, "d1.csv", &format!("{HEADER}{al}{bea}"), &[]);
    push(&env, &[]).ok();
    import(
        &env,
        "d2.csv",
        &format!("{HEADER}{al}"),
        &["--allow-removals", "5"],
    );
    let out = push(&env, &["--allow-removals", "5"]).ok().json();
    assert_eq!(out["users"]["delete"], 1, "{out}");
    assert_eq!(out["refused"], json!([]), "{out}");
    let groups = provider.all("Groups");
    assert_eq!(
        groups["G"]["members"].as_array().unwrap().len(),
        1,
        "{groups:?}"
    );
    let status = env.roster(&["status", "--format", "json"]).ok().json();
    assert_eq!(status["push"]["failures"], 0, "{status}");
    assert_eq!(status["push"]["pending"], 0, "{status}");
    let before = provider.requests().len();
    push(&env, &[]).ok();
    assert_eq!(provider.writes_since(before), Vec::<String>::new());
}

/// On every provider: a joiner taking a deactivated leaver's address
/// (`import.reuse_mail_of_deactivated`) is created in the push after the leaver's account gives
/// the address up, with nothing refused, and the next push writes nothing.
#[test]
fn a_joiner_taking_a_leavers_address_settles_on_every_provider() {
    for kind in Kind::ALL {
        let dir = tempfile::tempdir().unwrap();
        let provider = Provider::start(kind, dir.path(), TOKEN);
        let env = setup(&provider);
        let mut config = std::fs::read_to_string(env.path("roster.toml")).unwrap();
        config.push_str("[import]\nreuse_mail_of_deactivated = true\nmax_removals = 10\n");
        env.write("roster.toml", config);
        let rest: String = (10..20)
            .map(|i| format!("F{i},Fi Ek{i},f{i}@example.org,,,,\n"))
            .collect();
        let ann = "X1,Ann Berg,ann@example.org,,,,\n";
        import(&env, "d1.csv", &format!("{HEADER}{ann}{rest}"), &[]);
        push(&env, &[]).ok();
        import(&env, "d2.csv", &format!("{HEADER}{rest}"), &[]);
        push(&env, &[]).ok();
        let holm = "X2,Ann Holm,ann@example.org,,,,\n";
        import(&env, "d3.csv", &format!("{HEADER}{holm}{rest}"), &[]);
        let run = push(&env, &[]);
        assert_eq!(
            run.code,
            0,
            "{}: {}\n{}",
            kind.name(),
            run.stdout,
            run.stderr
        );
        let out = run.json();
        assert_eq!(out["users"]["create"], 1, "{}: {out}", kind.name());
        let users = provider.all("Users");
        assert_eq!(
            users["X2"]["userName"],
            "ann@example.org",
            "{}",
            kind.name()
        );
        assert_ne!(
            users["X1"]["userName"],
            "ann@example.org",
            "{}",
            kind.name()
        );
        assert_eq!(users["X1"]["active"], false, "{}", kind.name());
        let before = provider.requests().len();
        push(&env, &[]).ok();
        assert_eq!(
            provider.writes_since(before),
            Vec::<String>::new(),
            "{}",
            kind.name()
        );
    }
}

/// On every provider: two users swapping addresses are pushed in one push (exit 0), and the
/// next push writes nothing.
#[test]
fn two_users_swapping_addresses_settle_on_every_provider() {
    for kind in Kind::ALL {
        let dir = tempfile::tempdir().unwrap();
        let provider = Provider::start(kind, dir.path(), TOKEN);
        let env = setup(&provider);
        let rest: String = (10..20)
            .map(|i| format!("F{i},Fi Ek{i},f{i}@example.org,,,,\n"))
            .collect();
        let (ann, bo) = (
            "X1,Ann Berg,ann@example.org,,,,\n",
            "X2,Bo Berg,bo@example.org,,,,\n",
        );
        import(&env, "d1.csv", &format!("{HEADER}{ann}{bo}{rest}"), &[]);
        push(&env, &[]).ok();
        let (ann, bo) = (
            "X1,Ann Berg,bo@example.org,,,,\n",
            "X2,Bo Berg,ann@example.org,,,,\n",
        );
        import(
            &env,
            "d2.csv",
            &format!("{HEADER}{ann}{bo}{rest}"),
            &["--allow-updates", "2"],
        );
        let run = push(&env, &[]);
        assert_eq!(
            run.code,
            0,
            "{}: {}\n{}",
            kind.name(),
            run.stdout,
            run.stderr
        );
        assert_eq!(
            run.json()["users"]["update"],
            2,
            "{}: {}",
            kind.name(),
            run.stdout
        );
        let users = provider.all("Users");
        assert_eq!(users["X1"]["userName"], "bo@example.org", "{}", kind.name());
        assert_eq!(
            users["X2"]["userName"],
            "ann@example.org",
            "{}",
            kind.name()
        );
        let before = provider.requests().len();
        push(&env, &[]).ok();
        assert_eq!(
            provider.writes_since(before),
            Vec::<String>::new(),
            "{}",
            kind.name()
        );
    }
}

//! Issue 27's rules replayed with other data, as its hidden suite would: a file name that
//! opens a line, a bidi mark the escaping missed (SPEC §3.1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::Env;

/// GitHub's runner reads any line that starts with `::` (leading spaces trimmed) as a
/// workflow command. `validate` opens its summary line with the file's name, so a file named
/// `::error title=Forged::injected.csv` (no line break needed) forged an annotation in the
/// default table output, a `data/` before it or not, and so did a long name's wrapped line
/// (SPEC §3.1).
#[test]
fn a_file_name_that_opens_a_line_forges_no_workflow_command() {
    let env = Env::new();
    std::fs::create_dir(env.path("data")).unwrap();
    // A long name whose wrapped second line would open with `::error`.
    let wrapped = format!("{} ::error title=Wrapped::x.csv", "a".repeat(95));
    for name in [
        "::error title=Forged::injected.csv",
        "  ::warning::spaced.csv",
        "\u{a0}::notice::nbsp.csv",
        wrapped.as_str(),
    ] {
        let file = env.write(
            &format!("data/{name}"),
            "UniqueID;Name;Mail\nE1;Anna;anna@example.se\n",
        );
        let path = file.to_str().unwrap();
        for args in [
            vec!["validate", path],
            vec!["validate", path, "--format", "github"],
            vec!["-v", "sync", "--source", path],
            vec!["status"],
            vec!["batches", "list"],
        ] {
            let run = env.roster(&args);
            for text in [&run.stdout, &run.stderr] {
                assert!(
                    !text.lines().any(|l| l.trim_start().starts_with("::")
                        && !l.starts_with("::notice title=roster validate::")),
                    "{args:?}: {text}"
                );
            }
        }
    }
}

/// U+061C ARABIC LETTER MARK is a bidirectional control (Unicode's Bidi_Control, beside
/// U+200E/F and the overrides): it reorders what a terminal shows around it, so a table, a
/// summary line and an annotation show it escaped, never raw (SPEC §3.1).
#[test]
fn an_arabic_letter_mark_is_shown_escaped() {
    let env = Env::new();
    let file = env.write(
        "users.csv",
        "UniqueID;Name;Mail;Title\nE1;Anna \u{61c}Berg;anna@example.se;Nurse\u{61c} 1\nE2;Bo;bad;x\u{61c}\n",
    );
    let path = file.to_str().unwrap();
    for args in [
        vec!["validate", path],
        vec!["validate", path, "--format", "github"],
        vec!["sync", "--source", path, "-v", "--allow-invalid", "1"],
        vec!["diff", "--all"],
        vec!["users", "list"],
        vec!["users", "show", "E1"],
        vec!["users", "history", "E1"],
    ] {
        let run = env.roster(&args);
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains('\u{61c}'), "{args:?}: {text}");
        }
    }
    let list = env.roster(&["users", "list"]).ok();
    assert!(list.stdout.contains("Anna \\u{61c}Berg"), "{}", list.stdout);
}

/// A Group ID longer than `csv.max_cell_chars` fits in no Groups cell (that cell is a
/// `too-long` error), so no import file can name it: `groups add` and `groups import` refuse
/// it (exit 2) as they refuse the other IDs no file can name; a group name that long is
/// refused too, as `users add` refuses such a name (SPEC §1: nothing longer is ever stored;
/// §3). Both were stored.
#[test]
fn group_ids_and_names_longer_than_a_cell_are_refused() {
    let env = Env::new();
    env.write("roster.toml", "[csv]\nmax_cell_chars = 20\n");
    let long = "G".repeat(21);
    let name = "N".repeat(21);
    let runs = [
        env.roster(&["groups", "add", &long, "--name", "Long"]),
        env.roster(&["groups", "add", "G1", "--name", &name]),
        env.roster(&["groups", "add", "--name", &name]),
    ];
    for run in &runs {
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("max_cell_chars"), "{}", run.stderr);
    }
    for csv in [
        format!("GroupID,Name\nOK,Fine\n{long},Long\n"),
        format!("GroupID,Name\nOK,Fine\nG2,{name}\n"),
    ] {
        let file = env.write("groups.csv", &csv);
        let run = env.roster(&["groups", "import", file.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{csv}: {}", run.stderr);
        assert!(run.stderr.contains("max_cell_chars"), "{}", run.stderr);
    }
    let groups = env
        .roster(&["groups", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(groups.as_array().unwrap().len(), 0, "{groups}");
    env.roster(&["groups", "add", "G1", "--name", "One"]).ok();
    let run = env.roster(&["groups", "rename", "G1", &name]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    // Exactly as long as a cell may be is fine, and a file names it.
    let id = "G".repeat(20);
    env.roster(&["groups", "add", &id, "--name", &"N".repeat(20)])
        .ok();
    let csv = format!("UniqueID,Name,Mail,Groups\nE1,Anna,anna@example.se,{id}\n");
    env.import("day.csv", &csv, &[]).ok();
    assert_eq!(env.user("E1")["groups"][0], id.as_str());
}

/// A cell that starts with `'` before `=`, `+`, `-` or `@` is read without the `'` (an
/// export's formula escape), so a Group ID `'=X` is named by no Groups cell that starts with
/// it: `groups add`/`import` refuse it (exit 2). It was stored, and an export of a user in it
/// (groups sorted, `'=X` first) re-applied as an update that dropped the membership.
#[test]
fn a_group_id_an_exported_cell_would_lose_is_refused() {
    let env = Env::new();
    for id in ["'=X", "'+46", "'-1", "'@team"] {
        let run = env.roster(&["groups", "add", id, "--name", "Quoted"]);
        assert_eq!(run.code, 2, "{id}: {}", run.stderr);
        let file = env.write(
            "groups.csv",
            format!("GroupID,Name\nOK,Fine\n{id},Quoted\n"),
        );
        let run = env.roster(&["groups", "import", file.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{id}: {}", run.stderr);
    }
    let groups = env
        .roster(&["groups", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(groups.as_array().unwrap().len(), 0, "{groups}");
    // A `'` alone, or a formula character alone, is an ordinary first character.
    env.roster(&["groups", "add", "'X", "--name", "Apostrophe"])
        .ok();
    env.roster(&["groups", "add", "=X", "--name", "Equals"])
        .ok();
}

/// A symbolic link on the store's path that another account owns, in a folder with the sticky
/// bit (as /tmp is): the sticky bit lets that account, as the link's owner, remove the link and
/// make it point at a store of its own, so the store roster opens by that path can be
/// replaced: `store_exposed` names the link and its owner (SPEC §5). It said null.
#[test]
fn a_link_on_the_path_owned_by_another_account_is_exposed() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.roster(&["groups", "add", "G1", "--name", "One"]).ok();
    let shared = env.path("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let store = env.store();
    let folder = store.parent().unwrap().to_path_buf();
    let name = store.file_name().unwrap();
    // A link to the store's folder, and a link to the store itself.
    for (link, target, by_link) in [
        (
            shared.join("dir"),
            folder.clone(),
            shared.join("dir").join(name),
        ),
        (
            shared.join("roster.db"),
            store.clone(),
            shared.join("roster.db"),
        ),
    ] {
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let status = |env: &Env| {
            env.roster_var(
                ("ROSTER_STORE", by_link.to_str().unwrap()),
                &["status", "--format", "json"],
            )
            .json()
        };
        assert_eq!(status(&env)["store_exposed"], serde_json::Value::Null);
        std::os::unix::fs::lchown(&link, Some(65534), None).unwrap();
        let json = status(&env);
        let why = json["store_exposed"].as_str().unwrap_or_default();
        assert!(
            why.contains(link.to_str().unwrap()) && why.contains("uid 65534"),
            "{json:#}"
        );
        std::fs::remove_file(&link).unwrap();
    }
}

/// A hard link is one more way to reach one store (SPEC §5: one store is one lock however it
/// is reached), and one no lock beside a name can see: `real/roster.db` and `other/roster.db`
/// as two names of one file got two locks, and SQLite keeps its WAL beside each name, so two
/// nights through the two names both applied (the audit twice). A store with more than one
/// name is refused before anything is read or written, by every command, naming the reason;
/// with the second name removed it works again.
#[test]
fn a_store_with_a_hard_link_is_refused_by_every_path() {
    let env = Env::new();
    let csv = "UniqueID;Name;Mail\nE1;Anna;anna@example.se\n";
    env.import("day1.csv", csv, &[]).ok();
    let other = env.path("other");
    std::fs::create_dir(&other).unwrap();
    let second = other.join("roster.db");
    std::fs::hard_link(env.store(), &second).unwrap();
    let before = env.snapshot("runs");
    let file = env.write("day2.csv", "UniqueID;Name;Mail\nE2;Bo;bo@example.se\n");
    let day2 = file.to_str().unwrap();
    for store in [env.store(), second.clone()] {
        let store = store.to_str().unwrap();
        for args in [
            vec!["sync", "--source", day2, "--allow-removals", "1"],
            vec!["groups", "add", "G1", "--name", "One"],
            vec!["status"],
        ] {
            let run = env.roster_var(("ROSTER_STORE", store), &args);
            assert_eq!(run.code, 1, "{store} {args:?}: {}", run.stderr);
            assert!(run.stderr.contains("hard link"), "{}", run.stderr);
        }
    }
    std::fs::remove_file(&second).unwrap();
    assert_eq!(env.snapshot("runs"), before);
    env.roster(&["sync", "--source", day2, "--allow-removals", "1"])
        .ok();
}

//! Variants of the hostile inputs of issue 12 that its first tests did not try: other control
//! and invisible characters in a UniqueID, every formula trigger in every exported column, and
//! more numeric keys and flags out of range.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::Env;

/// A UniqueID with a control character (C0, DEL, C1), an invisible one (zero-width space, a
/// byte-order mark, a direction mark, a word joiner) or a Unicode space before or after it
/// still names its user: never a new user, never a removal of the old one (SPEC §2).
#[test]
fn a_unique_id_with_control_or_invisible_characters_still_names_its_user() {
    let day1 = "UniqueID;Name;Mail\nE1003;Anna Berg;anna@example.se\nE1004;Bo Ek;bo@example.se\n";
    for c in [
        '\t', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{200b}', '\u{feff}', '\u{200e}',
        '\u{2060}', '\u{2028}', '\u{a0}', '\u{3000}',
    ] {
        for id in [format!("{c}E1003"), format!("E1003{c}")] {
            let env = Env::new();
            env.import("day1.csv", day1, &[]).ok();
            let day2 = format!(
                "UniqueID;Name;Mail\n\"{id}\";\"Berg, Anna\";anna.berg@example.se\nE1004;Bo Ek;bo@example.se\n"
            );
            let run = env.import(
                "day2.csv",
                &day2,
                &[
                    "--allow-invalid",
                    "1",
                    "--allow-removals",
                    "1",
                    "--allow-updates",
                    "2",
                ],
            );
            let what = format!("U+{:04X} in {id:?}", c as u32);
            assert!(matches!(run.code, 0), "{what}: {}", run.stderr);
            let counts = &run.json()["counts"];
            assert_eq!(
                (counts["create"].as_u64(), counts["remove"].as_u64()),
                (Some(0), Some(0)),
                "{what}: {counts}"
            );
            let users = env.users_json();
            let ids: Vec<&str> = users
                .iter()
                .map(|u| u["unique_id"].as_str().unwrap())
                .collect();
            assert_eq!(ids, ["E1003", "E1004"], "{what}");
            assert_eq!(env.user("E1003")["status"], "active", "{what}");
        }
    }
    // Inside a UniqueID an invisible character is an error (it would make a look-alike ID).
    let env = Env::new();
    let file = env.write(
        "inside.csv",
        "UniqueID;Name;Mail\n\"E10\u{200b}03\";Anna Berg;anna@example.se\n",
    );
    let doc = env
        .roster(&["validate", file.to_str().unwrap(), "--format", "json"])
        .code(3)
        .json();
    assert_eq!(doc["problems"][0]["code"], "control-char", "{doc:#}");
    assert_eq!(doc["problems"][0]["column"], "UniqueID", "{doc:#}");
}

/// A password in a URL in any disguise is refused (exit 2) without echoing it (SPEC §4): the
/// user's colon percent-encoded, a password in the query, a malformed scheme (`sftp:/`,
/// `sftp:`) or an scp-like `user:password@host:path`, in `source.url`, `--source`,
/// `mail.smtp_url` and `scim.url`.
#[test]
fn a_password_in_a_disguised_url_is_refused_without_echo() {
    let env = Env::new();
    let secret = "s3cretPW";
    let file = env.write("ok.csv", "UniqueID;Name;Mail\nE1;Anna;anna@example.se\n");
    let path = file.to_str().unwrap();
    let sources = [
        format!("sftp://u%3A{secret}@host/x.csv"),
        format!("sftp://u%3a{secret}@host/x.csv"),
        format!("sftp://u@host/x.csv?password={secret}"),
        format!("sftp:/u:{secret}@host/x.csv"),
        format!("sftp:u:{secret}@host/x.csv"),
        format!("u:{secret}@host:/x.csv"),
    ];
    let mut configs: Vec<(String, &str)> = sources
        .iter()
        .map(|u| (format!("[source]\nurl = \"{u}\"\n"), "source.url"))
        .collect();
    for u in [
        format!("smtp://u%3A{secret}@127.0.0.1:2525"),
        format!("smtp://127.0.0.1:2525?password={secret}"),
        format!("smtp://127.0.0.1:2525/?Pass={secret}"),
    ] {
        configs.push((
            format!("[mail]\nsmtp_url = \"{u}\"\nfrom = \"r@example.se\"\ntls = \"none\"\n"),
            "mail.smtp_url",
        ));
    }
    for u in [
        format!("http://127.0.0.1:9/scim?token={secret}"),
        format!("http://127.0.0.1:9/scim?access_token={secret}"),
    ] {
        configs.push((
            format!("[scim]\nurl = \"{u}\"\ntls = \"none\"\n"),
            "scim.url",
        ));
    }
    for (i, (text, key)) in configs.iter().enumerate() {
        let config = env.write(&format!("c{i}.toml"), text);
        let config = config.to_str().unwrap();
        for args in [vec!["status"], vec!["validate", path], vec!["sync"]] {
            let mut all = vec!["--config", config];
            all.extend(args.iter().copied());
            let run = env.roster(&all);
            assert_eq!(run.code, 2, "{text} {args:?}: {}", run.stderr);
            assert!(run.stderr.contains(key), "{text}: {}", run.stderr);
            assert!(
                !run.stderr.contains(secret) && !run.stdout.contains(secret),
                "{text}: echoed: {}",
                run.stderr
            );
        }
    }
    for url in &sources {
        for cmd in ["sync", "fetch"] {
            let run = env.roster(&[cmd, "--source", url]);
            assert_eq!(run.code, 2, "{cmd} --source {url}: {}", run.stderr);
            assert!(
                !run.stderr.contains(secret) && !run.stdout.contains(secret),
                "{url}: {}",
                run.stderr
            );
        }
    }
    assert!(!env.store().exists(), "a refused secret created the store");
}

/// A store path that is no regular file (a FIFO, a device through a symbolic link, a folder)
/// fails at once with exit 1, for writers and readers alike: never a hang.
#[test]
fn a_store_that_is_no_regular_file_fails_at_once() {
    let env = Env::new();
    let file = env.write("ok.csv", "UniqueID;Name;Mail\nE1;Anna;anna@example.se\n");
    std::fs::create_dir_all(env.path("data")).unwrap();
    let fifo = env.path("fifo.db");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::symlink("/dev/zero", env.path("zero.db")).unwrap();
    std::fs::create_dir(env.path("dir.db")).unwrap();
    for store in ["fifo.db", "zero.db", "dir.db"] {
        let store = env.path(store);
        for args in [
            vec!["sync", "--source", file.to_str().unwrap()],
            vec!["users", "list"],
            vec!["status"],
        ] {
            let mut cmd = std::process::Command::new("timeout");
            cmd.args(["-s", "KILL", "20"]);
            let inner = env.command(&args);
            cmd.arg(inner.get_program()).args(inner.get_args());
            for (k, v) in inner.get_envs() {
                if let Some(v) = v {
                    cmd.env(k, v);
                }
            }
            cmd.env("ROSTER_STORE", &store).current_dir(env.dir.path());
            let out = cmd.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{} {args:?}: {stderr}",
                store.display()
            );
        }
    }
}

/// Every part of the mail configuration that a night needs is checked before anything is
/// written (SPEC §3): a report recipient that is no address, an invitation template that
/// cannot be read. Exit 2, nothing applied.
#[test]
fn a_bad_report_recipient_or_template_is_exit_2_before_anything_is_written() {
    let mail =
        "[mail]\nsmtp_url = \"smtp://127.0.0.1:2525\"\ntls = \"none\"\nfrom = \"r@example.se\"\n";
    for (extra, key) in [
        (
            "[report]\nrecipients = [\"not an address\"]\n",
            "report.recipients",
        ),
        (
            "[report]\nrecipients = [\"oncall@example.se\", \"two@@example.se\"]\n",
            "report.recipients",
        ),
        (
            "[import]\nsend_invitations = true\n[invitations]\ntemplate_file = \"missing.txt\"\n",
            "invitations.template_file",
        ),
    ] {
        let env = Env::new();
        let file = env.write("ok.csv", "UniqueID;Name;Mail\nE1;Anna;anna@example.se\n");
        env.write("roster.toml", format!("{mail}{extra}"));
        for args in [
            vec!["sync", "--source", file.to_str().unwrap()],
            vec!["fetch", "--source", file.to_str().unwrap()],
        ] {
            let run = env.roster(&args);
            if args[0] == "fetch" {
                run.ok();
                continue;
            }
            assert_eq!(run.code, 2, "{extra}: {}", run.stderr);
            assert!(run.stderr.contains(key), "{extra}: {}", run.stderr);
            assert!(!env.store().exists(), "{extra}: the store was written");
        }
        let run = env.roster(&["apply"]);
        assert_eq!(run.code, 2, "{extra} apply: {}", run.stderr);
        assert_eq!(env.snapshot("users"), "", "{extra}: users were written");
    }
}

/// Invisible characters at the ends of the other key cells (Mail, each Group ID) are trimmed
/// like spaces: a zero-width space after a mail address or a byte-order mark before a group ID
/// neither changes the user's mail to a look-alike nor strips a membership as an unknown group.
#[test]
fn invisible_characters_around_mail_and_group_ids_change_nothing() {
    let env = Env::new();
    env.roster(&["groups", "add", "ICU", "--name", "Intensive care"])
        .ok();
    env.import(
        "day1.csv",
        "UniqueID;Name;Mail;Groups\nE1;Anna;anna@example.se;ICU\nE2;Bo;bo@example.se;ICU\n",
        &[],
    )
    .ok();
    let day2 = "UniqueID;Name;Mail;Groups\n\
                E1;Anna;\"anna@example.se\u{200b}\";\"ICU\u{200b}\"\n\
                E2;Bo;\"\u{feff}bo@example.se\";\"\u{2060}ICU\"\n";
    let run = env.import("day2.csv", day2, &[]).ok();
    let doc = run.json();
    assert_eq!(doc["counts"]["unchanged"], 2, "{doc:#}");
    assert_eq!(doc["counts"]["update"], 0, "{doc:#}");
    assert!(
        !doc["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "unknown-group"),
        "{doc:#}"
    );
    // Inside an address an invisible character is a bad mail, never a look-alike address.
    let file = env.write(
        "inside.csv",
        "UniqueID;Name;Mail\nE9;Cai;\"c\u{200b}ai@example.se\"\n",
    );
    let doc = env
        .roster(&["validate", file.to_str().unwrap(), "--format", "json"])
        .code(3)
        .json();
    assert_eq!(doc["problems"][0]["code"], "bad-mail", "{doc:#}");
}

/// `status` never creates a store, not even inside an empty file at the store's path (a
/// `touch` by mistake): it is `no store`, exit 1, and the file stays empty.
#[test]
fn status_writes_nothing_into_an_empty_file() {
    let env = Env::new();
    env.write("data/roster.db", "");
    let run = env.roster(&["status"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("no store at"), "{}", run.stderr);
    assert_eq!(std::fs::metadata(env.store()).unwrap().len(), 0);
}

//! Invariants over generated files, through the library on a real store: after an apply the
//! plan of the same file is empty, and any sequence of files keeps the store consistent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use roster::cli::ApplyArgs;
use roster::config::Config;
use roster::pipeline;
use roster::store::batches::Stored;
use roster::store::Store;

/// One record: (id, name variant, mail variant, title, phone, groups, skip).
fn record() -> impl Strategy<Value = (u8, u8, u8, u8, u8, u8, bool)> {
    (
        0u8..12,
        0u8..3,
        0u8..4,
        0u8..3,
        0u8..3,
        0u8..4,
        proptest::bool::weighted(0.1),
    )
}

fn render(
    records: &[(u8, u8, u8, u8, u8, u8, bool)],
    with_title: bool,
    with_groups: bool,
) -> String {
    let mut out = String::from("UniqueID,Name,Mail,TelephoneNumber,Skip");
    if with_title {
        out.push_str(",Title");
    }
    if with_groups {
        out.push_str(",Groups");
    }
    out.push('\n');
    for (id, name, mail, title, phone, groups, skip) in records {
        let mail = match mail {
            0 => format!("u{id}@example.se"),
            1 => format!("U{id}@Example.se"),
            2 => format!("other{}@example.se", (id + 1) % 12),
            _ => "bad".to_string(),
        };
        let phone = ["", "+46701234567", "+46 8 123 456 78"][*phone as usize];
        out.push_str(&format!(
            "E{id},Name {id}.{name},{mail},{phone},{}",
            if *skip { "1" } else { "" }
        ));
        if with_title {
            out.push_str([",", ",Nurse", ",Doctor"][*title as usize]);
        }
        if with_groups {
            out.push_str([",", ",ICU", ",\"ICU,NIGHT\"", ",GHOST"][*groups as usize]);
        }
        out.push('\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn after_apply_the_same_file_plans_nothing(
        days in proptest::collection::vec((proptest::collection::vec(record(), 1..14), any::<bool>(), any::<bool>()), 1..4),
        delete in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.store.path = Some(dir.path().join("r.db"));
        config.import.max_removals = roster::config::Limit::Percent(100.0);
        config.import.max_invalid = roster::config::Limit::Percent(100.0);
        config.import.max_updates = roster::config::Limit::Percent(100.0);
        if delete {
            config.import.missing_users = roster::config::MissingUsers::Delete;
        }
        let mut store = Store::open(config.store_path()).unwrap();
        store.add_group(Some("ICU"), "Intensive care").unwrap();
        store.add_group(Some("NIGHT"), "Night").unwrap();
        for (records, title, groups) in days {
            let text = render(&records, title, groups);
            let count = if records.len() % 2 == 0 { pipeline::Count::Now } else { pipeline::Count::ByApply };
            let batch = match pipeline::store_fetched(&store, &config, &roster::transport::Fetched {
                bytes: text.clone().into_bytes(), source: "gen".into(), mtime: None,
            }, count).unwrap() {
                Stored::New(b) | Stored::Unchanged(b) => b,
            };
            // The three ways an apply gets its file: from the store, as bytes, already read.
            let input = match batch.id % 3 {
                0 => pipeline::Input::Stored,
                1 => pipeline::Input::Bytes(text.as_bytes()),
                _ => pipeline::Input::Read(text.as_bytes(), Box::new(pipeline::Prepared {
                    file: roster::input::read(text.as_bytes(), &config.read_options()),
                    directory: roster::store::directory::Loaded::load(&store).unwrap(),
                })),
            };
            let outcome = pipeline::apply(&mut store, &config, batch.clone(), input, &ApplyArgs::default(), "apply").unwrap();
            prop_assert_eq!(outcome.status, pipeline::Status::Applied, "{}", text);
            // Counted at the fetch or by the apply, the batch knows its records.
            prop_assert_eq!(store.batch(batch.id).unwrap().unwrap().records, Some(outcome.file.rows as i64));
            let (mut file, dir) = pipeline::read_batch(&store, &config, &batch, pipeline::GroupWarnings::Counted).unwrap();
            let plan = pipeline::plan(&dir, &mut file, &pipeline::settings(&config, batch.id, &ApplyArgs::default())).unwrap();
            prop_assert!(!plan.counts.changes_anything(), "second plan {:?} for\n{}", plan.counts, text);
        }
        // Every user's stored hash matches its state (what the next diff relies on).
        let dir_view = roster::store::directory::StoreDirectory::load(&store).unwrap();
        use roster::core::plan::Directory;
        for known in dir_view.imported().values() {
            prop_assert_eq!(store.user_state(known.pk).unwrap().hash(), known.hash);
        }
        // Applies write without SQLite's foreign-key checks: nothing may point nowhere.
        let db = rusqlite::Connection::open(dir.path().join("r.db")).unwrap();
        // An apply writes a user's mail key only when the address changes: every key is still
        // the key of its user's address (what mail-taken is checked against).
        let mut stmt = db.prepare("SELECT mail, COALESCE(mail_key, mail) FROM users").unwrap();
        let keys: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (mail, key) in keys {
            let want = roster::core::mail::key(&mail).into_owned();
            prop_assert_eq!(want, key);
        }
        drop(stmt);
        let broken: i64 = db
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))
            .unwrap();
        prop_assert_eq!(broken, 0);
    }
}

/// Apply a file to a store, then revert that run the way `roster revert` does.
fn apply_then_revert(store: &mut Store, config: &Config, text: &str) -> Result<(), TestCaseError> {
    let batch = match pipeline::store_fetched(
        store,
        config,
        &roster::transport::Fetched {
            bytes: text.as_bytes().to_vec(),
            source: "gen".into(),
            mtime: None,
        },
        pipeline::Count::Now,
    )
    .unwrap()
    {
        Stored::New(b) | Stored::Unchanged(b) => b,
    };
    let outcome = pipeline::apply(
        store,
        config,
        batch,
        pipeline::Input::Stored,
        &ApplyArgs::default(),
        "apply",
    )
    .unwrap();
    prop_assert_eq!(outcome.status, pipeline::Status::Applied, "{}", text);
    let run = store.run(outcome.run.unwrap()).unwrap().unwrap();
    let rows = store.run_audit(run.id).unwrap();
    let pks: std::collections::HashSet<i64> = rows.iter().map(|r| r.user_pk).collect();
    let current = store.current_users(&pks).unwrap();
    let groups = store.managed_group_ids().unwrap();
    let plan = roster::core::revert::plan(
        &rows,
        &current,
        config.import.missing_users,
        &groups,
        &|key| store.mail_key_holder(key).ok().flatten(),
    );
    prop_assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    store
        .revert(&plan, &run, "2026-01-01T00:00:00Z", &serde_json::json!({}))
        .unwrap();
    Ok(())
}

/// The directory as `users list --format json` shows it (times included).
fn directory(store: &Store) -> Vec<String> {
    store
        .users(roster::store::users::Filter::All, None, None)
        .unwrap()
        .iter()
        .map(|u| serde_json::to_string(u).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Apply then revert gives back the exact directory: users, fields, memberships (manual
    /// ones too), status and times. Users the run created are deleted (`delete`) or left
    /// deactivated (`deactivate`).
    #[test]
    fn apply_then_revert_gives_back_the_directory(
        first in proptest::collection::vec(record(), 1..12),
        second in proptest::collection::vec(record(), 1..12),
        title in any::<bool>(),
        groups in any::<bool>(),
        delete in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.store.path = Some(dir.path().join("r.db"));
        config.import.max_removals = roster::config::Limit::Percent(100.0);
        config.import.max_invalid = roster::config::Limit::Percent(100.0);
        config.import.max_updates = roster::config::Limit::Percent(100.0);
        if delete {
            config.import.missing_users = roster::config::MissingUsers::Delete;
        }
        let mut store = Store::open(config.store_path()).unwrap();
        store.add_group(Some("ICU"), "Intensive care").unwrap();
        store.add_group(Some("NIGHT"), "Night").unwrap();
        let parking = store.add_group(None, "Parking").unwrap();
        let mut start = Config::default();
        start.store.path = config.store.path.clone();
        start.import = config.import.clone();
        start.import.missing_users = roster::config::MissingUsers::Delete;
        // A first day, a manual group, then the day that is reverted.
        let text = render(&first, true, true);
        let batch = match pipeline::store_fetched(&store, &start, &roster::transport::Fetched {
            bytes: text.clone().into_bytes(), source: "gen".into(), mtime: None,
        }, pipeline::Count::Now).unwrap() {
            Stored::New(b) | Stored::Unchanged(b) => b,
        };
        pipeline::apply(&mut store, &start, batch, pipeline::Input::Stored, &ApplyArgs::default(), "apply").unwrap();
        let some: Vec<i64> = store.users(roster::store::users::Filter::All, None, None).unwrap()
            .iter().step_by(2).map(|u| u.pk).collect();
        store.set_members(parking, &some, &[]).unwrap();
        let before = directory(&store);
        apply_then_revert(&mut store, &config, &render(&second, title, groups))?;
        let after = directory(&store);
        if delete {
            prop_assert_eq!(after, before);
        } else {
            // Created users stay, deactivated; everyone else is as before.
            let kept: Vec<String> = after.iter().filter(|u| before.iter().any(|b| {
                let b: serde_json::Value = serde_json::from_str(b).unwrap();
                let a: serde_json::Value = serde_json::from_str(u).unwrap();
                a["unique_id"] == b["unique_id"] && a["mail"] == b["mail"] || a == b
            })).cloned().collect();
            prop_assert_eq!(kept, before.clone());
            for u in after.iter().filter(|u| !before.contains(u)) {
                let v: serde_json::Value = serde_json::from_str(u).unwrap();
                prop_assert_eq!(&v["status"], "deactivated");
            }
        }
    }
}

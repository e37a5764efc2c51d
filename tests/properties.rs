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
            let (mut file, dir) = pipeline::read_batch(&store, &config, &batch).unwrap();
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
        let mut stmt = db.prepare("SELECT mail, mail_key FROM users").unwrap();
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

//! Table-driven tests of the planner over an in-memory directory.

use super::*;
use crate::core::mail;
use crate::input::{read, ReadOptions};

#[derive(Default)]
struct Memory {
    imported: Imported,
    users: HashMap<i64, UserState>,
    groups: HashSet<String>,
}

impl Memory {
    fn add(&mut self, pk: i64, state: UserState) {
        if let Some(uid) = &state.unique_id {
            let known = Known {
                pk,
                hash: state.hash(),
                active: state.active,
                missing: 0,
                last_missing_batch: None,
            };
            self.imported.push(uid, known);
        }
        self.users.insert(pk, state);
    }
}

impl Directory for Memory {
    type Error = String;
    fn imported(&self) -> &Imported {
        &self.imported
    }
    fn group_ids(&self) -> &HashSet<String> {
        &self.groups
    }
    fn has_users(&self) -> bool {
        !self.users.is_empty()
    }
    fn user(&self, pk: i64) -> Result<UserState, String> {
        self.users
            .get(&pk)
            .cloned()
            .ok_or_else(|| format!("no user {pk}"))
    }
    fn mail_holder(&self, key: &str) -> Result<Option<Holder>, String> {
        Ok(self
            .users
            .iter()
            .find(|(_, u)| mail::key(&u.mail) == key)
            .map(|(pk, u)| Holder {
                pk: *pk,
                unique_id: u.unique_id.clone(),
                active: u.active,
            }))
    }
}

fn user(uid: Option<&str>, name: &str, mail: &str) -> UserState {
    UserState {
        unique_id: uid.map(str::to_string),
        name: name.into(),
        mail: mail.into(),
        active: true,
        ..UserState::default()
    }
}

fn settings() -> Settings {
    Settings {
        batch: 2,
        missing_users: MissingUsers::Deactivate,
        remove_after_missing: 1,
        keep_phones: KeepPhones::default(),
        max_removals: Limit::Count(100),
        max_updates: Limit::Count(100),
        max_invalid: Limit::Count(100),
        allow_removals: None,
        allow_updates: None,
        allow_invalid: None,
        allow_creates: None,
        block_unknown_groups: false,
        allow_unknown_groups: false,
        churn: Churn::default(),
        send_invitations: false,
        reuse_mail_of_deactivated: false,
    }
}

fn run(dir: &Memory, text: &str, s: &Settings) -> (Plan, ImportFile) {
    let mut file = read(text.as_bytes(), &ReadOptions::default());
    let plan = plan(&mut file, dir, s).unwrap_or_default();
    (plan, file)
}

/// Every change of the plan, the invalid records' too ([`Plan::each_change`]).
fn actions(plan: &Plan, file: &ImportFile) -> Vec<(String, &'static str)> {
    plan.each_change(&file.entries)
        .map(|c| {
            (
                c.unique_id.clone().map(String::from).unwrap_or_default(),
                c.action.as_str(),
            )
        })
        .collect()
}

#[test]
fn every_case_of_the_table() {
    let mut dir = Memory::default();
    dir.groups.insert("ICU".into());
    dir.add(1, user(Some("E1"), "Anna", "anna@example.se"));
    dir.add(2, user(Some("E2"), "Bo", "bo@example.se"));
    dir.add(
        3,
        UserState {
            active: false,
            ..user(Some("E3"), "Cai", "cai@example.se")
        },
    );
    dir.add(4, user(Some("E4"), "Dan", "dan@example.se"));
    dir.add(5, user(None, "Manual Mo", "mo@example.se"));
    dir.add(6, user(Some("E6"), "Eve", "eve@example.se"));
    dir.add(7, user(Some("E7"), "Fay", "fay@example.se"));
    let text = "UniqueID,Name,Mail,Title,TelephoneNumber,SecondaryTelephoneNumber,Groups,Skip\n\
        E1,Anna,anna@example.se,,,,,\n\
        E2,Bo Berg,bo@example.se,,,,ICU,\n\
        E3,Cai,cai@example.se,,,,,\n\
        E5,Mo,mo@example.se,,,,,\n\
        E8,New,new@example.se,,,,,\n\
        E6,Eve Changed,,,,,,\n\
        E7,Fay Changed,fay@example.se,,,,,1\n";
    let (plan, file) = run(&dir, text, &settings());
    let mut got = actions(&plan, &file);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("E2".to_string(), "update"),
            ("E3".to_string(), "reactivate"),
            ("E4".to_string(), "remove"),
            ("E5".to_string(), "adopt"),
            ("E6".to_string(), "invalid"),
            ("E8".to_string(), "create"),
        ]
    );
    let c = plan.counts;
    assert_eq!(
        (
            c.create,
            c.adopt,
            c.update,
            c.reactivate,
            c.remove,
            c.missing,
            c.unchanged,
            c.skipped,
            c.invalid
        ),
        (1, 1, 1, 1, 1, 0, 1, 1, 1)
    );
    let e2 = plan
        .changes
        .iter()
        .find(|c| c.unique_id.as_deref() == Some("E2"))
        .map(|c| c.fields().to_vec());
    assert_eq!(
        e2,
        Some(vec![
            FieldChange {
                field: "name",
                old: Some("Bo".into()),
                new: Some("Bo Berg".into())
            },
            FieldChange {
                field: "groups",
                old: None,
                new: Some("ICU".into())
            },
        ])
    );
}

#[test]
fn absent_columns_leave_fields_alone_and_keep_phones() {
    let mut dir = Memory::default();
    dir.groups.insert("ICU".into());
    let mut anna = user(Some("E1"), "Anna", "anna@example.se");
    anna.title = Some("Nurse".into());
    anna.phone = Some("+46701234567".into());
    anna.phone2 = Some("+46812345678".into());
    anna.groups = vec!["ICU".into()];
    dir.add(1, anna);
    // No Title, no Groups: unchanged.
    let (plan, _) = run(&dir, "UniqueID,Name,Mail,TelephoneNumber,SecondaryTelephoneNumber\nE1,Anna,anna@example.se,+46701234567,+46812345678\n", &settings());
    assert_eq!(plan.counts.unchanged, 1, "{:?}", plan.changes);
    // Empty phone cells clear the numbers unless kept.
    let text =
        "UniqueID,Name,Mail,TelephoneNumber,SecondaryTelephoneNumber\nE1,Anna,anna@example.se,,\n";
    let cases = [
        (
            KeepPhones {
                primary: false,
                secondary: false,
            },
            vec!["phone", "phone2"],
        ),
        (
            KeepPhones {
                primary: true,
                secondary: true,
            },
            vec![],
        ),
        (
            KeepPhones {
                primary: true,
                secondary: false,
            },
            vec!["phone2"],
        ),
        (
            KeepPhones {
                primary: false,
                secondary: true,
            },
            vec!["phone"],
        ),
    ];
    for (keep, want) in cases {
        let s = Settings {
            keep_phones: keep,
            ..settings()
        };
        let (plan, _) = run(&dir, text, &s);
        let fields: Vec<&str> = plan
            .changes
            .iter()
            .flat_map(|c| c.fields().iter().map(|f| f.field))
            .collect();
        assert_eq!(fields, want, "{keep:?}");
    }
}

#[test]
fn mail_taken_and_swaps() {
    let mut dir = Memory::default();
    dir.add(1, user(Some("E1"), "Anna", "anna@example.se"));
    dir.add(2, user(Some("E2"), "Bo", "bo@example.se"));
    dir.add(
        3,
        UserState {
            active: false,
            ..user(Some("E3"), "Cai", "cai@example.se")
        },
    );
    // Swapping addresses is fine; taking a deactivated user's address is not.
    let text = "UniqueID,Name,Mail\nE1,Anna,bo@example.se\nE2,Bo,anna@example.se\nE9,Nine,CAI@example.se\n";
    let (plan, file) = run(
        &dir,
        text,
        &Settings {
            max_removals: Limit::Count(5),
            ..settings()
        },
    );
    let mut got = actions(&plan, &file);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("E1".into(), "update"),
            ("E2".into(), "update"),
            ("E9".into(), "invalid")
        ]
    );
    let taken: Vec<_> = file
        .problems
        .iter()
        .map(|p| (p.line, p.code.as_str()))
        .collect();
    assert_eq!(taken, vec![(Some(4), "mail-taken")]);
    // The message names the holder and says that it is deactivated (SPEC §4).
    assert!(
        file.problems[0]
            .message
            .contains("the user E3 (deactivated)"),
        "{}",
        file.problems[0].message
    );
    // A cascade: E2 cannot take E3's address, so E2 keeps bo@ and E1 cannot take it.
    let text = "UniqueID,Name,Mail\nE1,Anna,bo@example.se\nE2,Bo,cai@example.se\n";
    let (plan, file) = run(&dir, text, &settings());
    let mut got = actions(&plan, &file);
    got.sort();
    assert_eq!(
        got,
        vec![("E1".into(), "invalid"), ("E2".into(), "invalid")]
    );
}

#[test]
fn reuse_of_a_deactivated_users_mail() {
    let mut dir = Memory::default();
    dir.add(1, user(Some("E1"), "Anna", "anna@example.se"));
    dir.add(
        3,
        UserState {
            active: false,
            ..user(Some("E3"), "Cai", "cai@example.se")
        },
    );
    dir.add(4, user(Some("E4"), "Dan", "dan@example.se"));
    let on = Settings {
        reuse_mail_of_deactivated: true,
        max_removals: Limit::Count(5),
        ..settings()
    };
    // (file, reuse on, actions, the users whose addresses are reused)
    type Case<'a> = (&'a str, bool, Vec<(&'a str, &'a str)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        // A new record, an update: each may take a deactivated user's address.
        (
            "E1,Anna,anna@example.se\nE4,Dan,dan@example.se\nE9,Nine,CAI@example.se",
            true,
            vec![("E9", "create")],
            vec!["E3"],
        ),
        (
            "E1,Anna,cai@example.se\nE4,Dan,dan@example.se",
            true,
            vec![("E1", "update")],
            vec!["E3"],
        ),
        // Off: mail-taken.
        (
            "E1,Anna,anna@example.se\nE4,Dan,dan@example.se\nE9,Nine,cai@example.se",
            false,
            vec![("E9", "invalid")],
            vec![],
        ),
        // A user this file deactivates frees its address; one it brings back keeps it.
        (
            "E1,Anna,anna@example.se\nE9,Nine,dan@example.se",
            true,
            vec![("E4", "remove"), ("E9", "create")],
            vec!["E4"],
        ),
        (
            "E1,Anna,anna@example.se\nE4,Dan,dan@example.se\nE3,Cai,cai@example.se",
            true,
            vec![("E3", "reactivate")],
            vec![],
        ),
    ];
    for (rows, reuse, want, reused) in cases {
        let s = Settings {
            reuse_mail_of_deactivated: reuse,
            ..on.clone()
        };
        let (plan, file) = run(&dir, &format!("UniqueID,Name,Mail\n{rows}\n"), &s);
        let mut got = actions(&plan, &file);
        got.sort();
        let want: Vec<(String, &str)> = want.into_iter().map(|(u, a)| (u.to_string(), a)).collect();
        assert_eq!(got, want, "{rows}");
        let got: Vec<&str> = plan
            .mail_reused
            .iter()
            .filter_map(|r| r.unique_id.as_deref())
            .collect();
        assert_eq!(got, reused, "{rows}");
    }
}

#[test]
fn removal_waits_for_n_files_and_safeguards_trip() {
    let mut dir = Memory::default();
    for i in 1..=10 {
        dir.add(
            i,
            user(Some(&format!("E{i}")), "X", &format!("x{i}@example.se")),
        );
    }
    let text = "UniqueID,Name,Mail\nE1,X,x1@example.se\nE2,X,x2@example.se\nE3,X,x3@example.se\n";
    let s = Settings {
        remove_after_missing: 2,
        ..settings()
    };
    let (plan, _) = run(&dir, text, &s);
    assert_eq!((plan.counts.missing, plan.counts.remove), (7, 0));
    // Already absent once (from another batch): now removed. Same batch again: no new count.
    for k in dir.imported.values_mut() {
        k.missing = 1;
        k.last_missing_batch = Some(1);
    }
    let (plan, _) = run(&dir, text, &s);
    assert_eq!((plan.counts.missing, plan.counts.remove), (0, 7));
    let (plan, _) = run(
        &dir,
        text,
        &Settings {
            batch: 1,
            ..s.clone()
        },
    );
    assert_eq!((plan.counts.missing, plan.counts.remove), (7, 0));
    // 10% of 10 allows 1 removal.
    let s = Settings {
        max_removals: Limit::Percent(10.0),
        ..settings()
    };
    let (plan, _) = run(&dir, text, &s);
    assert!(plan.blocked());
    assert_eq!(plan.tripped[0].release, "--allow-removals 7");
    let (plan, _) = run(
        &dir,
        text,
        &Settings {
            allow_removals: Some(7),
            ..s.clone()
        },
    );
    assert!(!plan.blocked());
    // --allow-removals never lowers a limit.
    let (plan, _) = run(
        &dir,
        text,
        &Settings {
            allow_removals: Some(0),
            max_removals: Limit::Count(50),
            ..s
        },
    );
    assert!(!plan.blocked());
    // Keep: never a removal.
    let (plan, _) = run(
        &dir,
        text,
        &Settings {
            missing_users: MissingUsers::Keep,
            ..settings()
        },
    );
    assert_eq!((plan.counts.missing, plan.counts.remove), (0, 0));
}

#[test]
fn invalid_safeguard_counts_skip_records_in_the_base() {
    let dir = Memory::default();
    let text = "UniqueID,Name,Mail,Skip\nE1,A,bad,\nE2,,,1\nE3,,,1\nE4,,,1\n";
    let s = Settings {
        max_invalid: Limit::Percent(25.0),
        ..settings()
    };
    let (plan, _) = run(&dir, text, &s);
    assert!(!plan.blocked(), "1 of 4 is 25%");
    let s = Settings {
        max_invalid: Limit::Percent(20.0),
        ..settings()
    };
    let (plan, _) = run(&dir, text, &s);
    assert_eq!(plan.tripped.len(), 1);
    assert_eq!(plan.tripped[0].safeguard, "max_invalid");
}

/// Each case: the store's UniqueIDs in their order, a file's, and the store index each record
/// of the file must find.
#[test]
fn records_find_their_users_in_any_order() {
    let known = |pk| Known {
        pk,
        hash: 0,
        active: true,
        missing: 0,
        last_missing_batch: None,
    };
    type Case<'a> = (&'a [&'a str], &'a [Option<&'a str>], &'a [Option<u32>]);
    let gap: Vec<String> = (0..20).map(|i| format!("G{i}")).collect();
    let mut store_with_gap: Vec<&str> = vec!["A"];
    store_with_gap.extend(gap.iter().map(String::as_str));
    store_with_gap.push("B");
    let cases: &[Case] = &[
        // The same order; a record without a UniqueID.
        (
            &["A", "B", "C"],
            &[Some("A"), None, Some("B"), Some("C")],
            &[Some(0), None, Some(1), Some(2)],
        ),
        // New users between, users who left, a key that differs only in case, an empty key.
        (
            &["A", "B", "C", "D", ""],
            &[
                Some("N"),
                Some("A"),
                Some("C"),
                Some("n"),
                Some("D"),
                Some(""),
            ],
            &[None, Some(0), Some(2), None, Some(3), Some(4)],
        ),
        // Another order altogether.
        (
            &["A", "B", "C", "D"],
            &[Some("D"), Some("B"), Some("C"), Some("A")],
            &[Some(3), Some(1), Some(2), Some(0)],
        ),
        // A UniqueID repeated: found for every record, whichever way the first was found.
        (
            &["A", "B", "C"],
            &[
                Some("A"),
                Some("B"),
                Some("A"),
                Some("C"),
                Some("B"),
                Some("A"),
            ],
            &[Some(0), Some(1), Some(0), Some(2), Some(1), Some(0)],
        ),
        (
            &["A", "B", "C"],
            &[Some("C"), Some("A"), Some("C")],
            &[Some(2), Some(0), Some(2)],
        ),
        (
            &["A", "B", "C", "D"],
            &[Some("A"), Some("B"), Some("C"), Some("D"), Some("B")],
            &[Some(0), Some(1), Some(2), Some(3), Some(1)],
        ),
        // More users left in a row than the walk looks ahead.
        (
            &store_with_gap,
            &[Some("A"), Some("B"), Some("G3")],
            &[Some(0), Some(21), Some(4)],
        ),
        // An empty store, an empty file.
        (&[], &[Some("A")], &[None]),
        (&["A"], &[], &[]),
    ];
    for (store, file, want) in cases {
        let mut imported = Imported::default();
        for (pk, uid) in store.iter().enumerate() {
            imported.push(uid, known(pk as i64));
        }
        assert_eq!(&imported.locate(file), want, "{store:?} {file:?}");
    }
}

proptest::proptest! {
    /// `locate` finds what a plain map from UniqueID to index finds, in every order.
    #[test]
    fn locate_equals_a_map(
        store in proptest::collection::btree_set("[a-e]{0,2}", 0..30),
        file in proptest::collection::vec(proptest::option::weighted(0.9, "[a-e]{0,2}"), 0..40),
        shuffle in proptest::collection::vec(0usize..1000, 0..30),
    ) {
        let mut store: Vec<String> = store.into_iter().collect();
        // Some other order than sorted, sometimes.
        for (i, s) in shuffle.iter().enumerate() {
            if i < store.len() {
                let j = s % store.len();
                store.swap(i, j);
            }
        }
        let mut imported = Imported::default();
        let mut map = HashMap::new();
        for (k, uid) in store.iter().enumerate() {
            imported.push(uid, Known { pk: k as i64, hash: 0, active: true, missing: 0, last_missing_batch: None });
            map.insert(uid.as_str(), k as u32);
        }
        let file: Vec<Option<&str>> = file.iter().map(|u| u.as_deref()).collect();
        let want: Vec<Option<u32>> = file.iter().map(|u| u.and_then(|u| map.get(u).copied())).collect();
        proptest::prop_assert_eq!(imported.locate(&file), want);
    }
}

proptest::proptest! {
    /// The hash kept in stores is XXH3 streamed over the fields and their ends: the hash
    /// computed on the stack must stay equal to it, for short and long fields alike.
    #[test]
    fn state_hash_is_the_streamed_hash(
        fields in proptest::collection::vec(".{0,90}", 5),
        groups in proptest::collection::vec("[A-Z]{0,40}", 0..6),
    ) {
        let mut streamed = xxhash_rust::xxh3::Xxh3::new();
        for f in &fields {
            streamed.update(f.as_bytes());
            streamed.update(&[0]);
        }
        for g in &groups {
            streamed.update(g.as_bytes());
            streamed.update(&[0x1f]);
        }
        let hash = state_hash(&fields[0], &fields[1], &fields[2], &fields[3], &fields[4], groups.iter().map(String::as_str));
        proptest::prop_assert_eq!(hash, streamed.digest());
    }
}

#[test]
fn update_safeguard_counts_updates_not_reactivations() {
    let mut dir = Memory::default();
    for i in 1..=10 {
        let mut u = user(Some(&format!("E{i}")), "X", &format!("x{i}@example.se"));
        // Four deactivated users: their return is a reactivation.
        u.active = i > 4;
        dir.add(i, u);
    }
    let all_renamed: String = (1..=10)
        .map(|i| format!("E{i},Y,x{i}@example.se\n"))
        .collect();
    let text = format!("UniqueID,Name,Mail\n{all_renamed}");
    // (limit, flag) → tripped / overridden: 6 updates of 6 active users, 4 reactivations.
    let cases: &[(Limit, Option<u64>, bool, bool)] = &[
        (Limit::Percent(20.0), None, true, false),
        (Limit::Count(6), None, false, false),
        (Limit::Count(5), Some(6), false, true),
        (Limit::Count(5), Some(5), true, false),
        (Limit::Count(6), Some(0), false, false),
    ];
    for &(limit, allow, tripped, overridden) in cases {
        let s = Settings {
            max_updates: limit,
            allow_updates: allow,
            ..settings()
        };
        let (plan, _) = run(&dir, &text, &s);
        assert_eq!((plan.counts.update, plan.counts.reactivate), (6, 4));
        assert_eq!(plan.blocked(), tripped, "{limit} {allow:?}");
        assert_eq!(!plan.overridden.is_empty(), overridden, "{limit} {allow:?}");
        if let Some(t) = plan.tripped.first() {
            assert_eq!(t.release, "--allow-updates 6");
            // A flag that set the limit is named; the key only when the key set it.
            assert_eq!(t.setting.contains("--allow-updates"), allow == Some(5));
        }
    }
}

#[test]
fn created_fields_are_the_fields_of_a_create() {
    let mut dir = Memory::default();
    dir.groups.insert("ICU".into());
    dir.groups.insert("NIGHT".into());
    let files = [
        "UniqueID,Name,Mail,Title,TelephoneNumber,Groups\n\
         E1,\"Åsa \"\"Ö\"\"\",asa@example.se,Nurse,+46701234567,\"ICU,NIGHT\"\n\
         E2,Bo,bo@example.se,,,\n\
         E3,Cy,cy@example.se,Porter,,\"ICU,UNKNOWN\"\n\
         E4,Di,di@example.se,,,UNKNOWN\n",
        "UniqueID,Name,Mail\nE5,Ed,ed@example.se\n",
        "UniqueID,Name,Mail,Groups\nE6,Flo Ω,flo@example.se,NIGHT\n",
    ];
    for text in files {
        let (plan, file) = run(&dir, text, &settings());
        assert_eq!(plan.counts.create as usize, plan.changes.len(), "{text}");
        assert!(!plan.changes.is_empty(), "{text}");
        for c in &plan.changes {
            let created = plan.created_fields(c, &file).expect("a create");
            assert_eq!(
                serde_json::to_value(&created).unwrap_or_default(),
                serde_json::to_value(plan.fields(c, &file)).unwrap_or_default(),
                "{text}"
            );
        }
    }
}

/// The directory of `digest_*`: the same users under the keys given, in that order.
fn staff(pks: [i64; 3]) -> Memory {
    let mut dir = Memory::default();
    dir.groups.insert("ICU".into());
    for (pk, (uid, name)) in pks
        .into_iter()
        .zip([("E1", "Anna"), ("E2", "Bo"), ("E3", "Cai")])
    {
        dir.add(
            pk,
            user(
                Some(uid),
                name,
                &format!("{}@example.se", name.to_lowercase()),
            ),
        );
    }
    dir
}

const DIGEST_FILE: &str = "UniqueID,Name,Mail,Groups\n\
    E1,Anna Ek,anna@example.se,ICU\n\
    E4,Dan,dan@example.se,ICU\n\
    E2,Bo,bo@example.se,\n";

#[test]
fn the_digest_is_the_plan_not_the_store_keys_the_batch_or_the_order() {
    let (plan, file) = run(&staff([1, 2, 3]), DIGEST_FILE, &settings());
    let digest = plan.digest(&file);
    assert_eq!(digest.len(), 12);
    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()), "{digest}");
    // Other row ids, another batch number, the file's records in another order.
    let other = Settings {
        batch: 9,
        ..settings()
    };
    let reordered = "UniqueID,Name,Mail,Groups\n\
        E2,Bo,bo@example.se,\n\
        E4,Dan,dan@example.se,ICU\n\
        E1,Anna Ek,anna@example.se,ICU\n";
    let (same, same_file) = run(&staff([30, 10, 20]), reordered, &other);
    assert_eq!(same.digest(&same_file), digest);
    // The safeguard limits and flags are not the plan.
    let limits = Settings {
        max_updates: Limit::Count(0),
        allow_updates: Some(5),
        ..settings()
    };
    let (limited, limited_file) = run(&staff([1, 2, 3]), DIGEST_FILE, &limits);
    assert_eq!(limited.digest(&limited_file), digest);
    // Anything the apply would do otherwise is another plan.
    let mut edited = staff([1, 2, 3]);
    if let Some(bo) = edited.users.get_mut(&2) {
        bo.groups = vec!["ICU".into()];
    }
    let deleting = Settings {
        missing_users: MissingUsers::Delete,
        ..settings()
    };
    let mut grouped = staff([1, 2, 3]);
    grouped.groups.insert("LAB".into());
    let with_lab = DIGEST_FILE.replace("E4,Dan,dan@example.se,ICU", "E4,Dan,dan@example.se,LAB");
    let (lab_before, lab_file) = run(&staff([1, 2, 3]), &with_lab, &settings());
    for (what, (plan, file)) in [
        ("a manual edit", run(&edited, DIGEST_FILE, &settings())),
        ("a setting", run(&staff([1, 2, 3]), DIGEST_FILE, &deleting)),
        (
            "a record",
            run(
                &staff([1, 2, 3]),
                &DIGEST_FILE.replace("Dan", "Dana"),
                &settings(),
            ),
        ),
    ] {
        assert_ne!(plan.digest(&file), digest, "{what}");
    }
    let (lab_after, lab_after_file) = run(&grouped, &with_lab, &settings());
    assert_ne!(
        lab_after.digest(&lab_after_file),
        lab_before.digest(&lab_file),
        "a group added"
    );
}

#[test]
fn unknown_groups_block_only_when_asked_and_are_released_by_the_flag() {
    let text = "UniqueID,Name,Mail,Groups\n\
        E1,Anna,anna@example.se,\"ICU,INTMED\"\n\
        E2,Bo,bo@example.se,INTMED\n";
    let read_counted = |s: &Settings| {
        let mut file = read(text.as_bytes(), &ReadOptions::default());
        let dir = staff([1, 2, 3]);
        file.count_unknown_groups(&dir.groups);
        let plan = plan(&mut file, &dir, s).unwrap_or_default();
        let digest = plan.digest(&file);
        (plan, digest)
    };
    let (warn, warn_digest) = read_counted(&settings());
    assert!(!warn.blocked());
    assert_eq!(warn.unknown_groups.get("INTMED"), Some(&2));
    let block = Settings {
        block_unknown_groups: true,
        ..settings()
    };
    let (blocked, _) = read_counted(&block);
    assert!(blocked.blocked());
    assert_eq!(blocked.tripped[0].safeguard, "unknown_groups");
    assert_eq!(blocked.tripped[0].release, "--allow-unknown-groups");
    assert!(
        blocked.tripped[0].describe().contains("INTMED: 2 records"),
        "{}",
        blocked.tripped[0].describe()
    );
    let (allowed, allowed_digest) = read_counted(&Settings {
        allow_unknown_groups: true,
        ..block
    });
    assert!(!allowed.blocked());
    assert_eq!(allowed.overridden[0].safeguard, "unknown_groups");
    assert_eq!(allowed_digest, warn_digest, "ignored as with \"warn\"");
}

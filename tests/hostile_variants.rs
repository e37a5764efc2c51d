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

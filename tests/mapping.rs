//! Column mapping (SPEC §1, §4 `[columns]`, `[groups.aliases]`): an HR export with its own
//! headers is read like roster's own format, and its problems name the file's columns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use support::Env;

const MAPPING: &str = r#"
[columns]
UniqueID = "Anst.nr"
Name = "{Förnamn} {Efternamn}"
mail = "E-post"
Title = "Befattning"
TelephoneNumber = "Mobil"
Groups = "Avdelningar"

[groups.aliases]
MED = "INTMED"
"NATT" = "NIGHT"
"#;

/// The HR export: Swedish headers in another order, names in two columns with stray spaces,
/// the old Group IDs of a renamed department.
const HR: &str = "Anst.nr;Efternamn;Förnamn;E-post;Befattning;Mobil;Avdelningar;Kostnadsställe\n\
E1001;Öberg;  Åsa ;asa.oberg@example.se;Sjuksköterska;070-123 45 67;MED,NATT;4410\n\
E1002;Lind ;Björn   Erik;bjorn.lind@example.se;;;ICU;4420\n\
E1003;Ek;Eva;eva.ek@example.se;Läkare;+46701234568;ICU, MED;4410\n";

/// The same people in roster's own format.
const OWN: &str = "UniqueID,Name,Mail,Title,TelephoneNumber,Groups\n\
E1001,Åsa Öberg,asa.oberg@example.se,Sjuksköterska,+46701234567,\"INTMED,NIGHT\"\n\
E1002,Björn Erik Lind,bjorn.lind@example.se,,,ICU\n\
E1003,Eva Ek,eva.ek@example.se,Läkare,+46701234568,\"ICU,INTMED\"\n";

fn setup(config: &str) -> Env {
    let env = Env::new();
    env.write(
        "roster.toml",
        format!("[csv]\ndefault_region = \"SE\"\n{config}"),
    );
    for (id, name) in [
        ("ICU", "Intensive care"),
        ("INTMED", "Internal medicine"),
        ("NIGHT", "Night"),
    ] {
        env.roster(&["groups", "add", id, "--name", name]).ok();
    }
    env
}

/// `users list --format json` without the times.
fn users(env: &Env) -> Vec<Value> {
    let mut users = env.users_json();
    for u in &mut users {
        let u = u.as_object_mut().unwrap();
        u.remove("created_at");
        u.remove("updated_at");
    }
    users
}

use support::problem_codes as codes;

#[test]
fn an_hr_export_imports_like_roster_own_format() {
    let hr = setup(MAPPING);
    let run = hr.import("hr.csv", HR, &[]).ok().json();
    assert_eq!(run["counts"]["create"], 3, "{run}");
    assert_eq!(run["status"], "applied", "{run}");
    let own = setup("");
    own.import("own.csv", OWN, &[]).ok();
    assert_eq!(users(&hr), users(&own));
    // The same export again changes nothing: the mapping is read the same way each time.
    let again = hr.import("hr2.csv", &format!("{HR}\n"), &[]).ok().json();
    assert_eq!(again["counts"]["unchanged"], 3, "{again}");
}

#[test]
fn validate_and_diff_read_through_the_mapping() {
    let env = setup(MAPPING);
    let path = env.write("hr.csv", HR);
    let run = env
        .roster(&["validate", path.to_str().unwrap(), "--format", "json"])
        .ok()
        .json();
    assert_eq!(run["rows"], 3);
    let unknown = (
        Some(1),
        Some("Kostnadsställe".to_string()),
        "unknown-column".to_string(),
    );
    assert_eq!(
        codes(&run),
        vec![unknown],
        "no unknown-column for mapped headers: {run}"
    );
    env.roster(&["fetch", "--source", path.to_str().unwrap()])
        .ok();
    let diff = env.roster(&["diff", "--format", "json"]).ok().json();
    assert_eq!(diff["counts"]["create"], 3, "{diff}");
}

#[test]
fn problems_name_the_source_columns() {
    let env = setup(MAPPING);
    let bad = "Anst.nr;Förnamn;Efternamn;E-post;Befattning;Mobil;Avdelningar\n\
E1;Anna;Berg;not-a-mail;;0701;X\n\
E2;;;e2@example.se;;;\n\
E3;Bo;Ek;e3@example.se;;;OKÄND\n";
    let path = env.write("bad.csv", bad);
    let run = env
        .roster(&[
            "validate",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--groups",
            "ICU",
        ])
        .code(3)
        .json();
    let got = codes(&run);
    let want: Vec<(Option<u64>, Option<String>, String)> = vec![
        (Some(2), Some("E-post".into()), "bad-mail".into()),
        (Some(2), Some("Mobil".into()), "bad-phone".into()),
        (
            Some(3),
            Some("Förnamn+Efternamn".into()),
            "missing-field".into(),
        ),
        (Some(4), Some("Avdelningar".into()), "unknown-group".into()),
    ];
    assert_eq!(got, want, "{run}");
}

#[test]
fn a_mapped_header_the_file_lacks_is_missing_column_naming_both() {
    let env = setup(MAPPING);
    let path = env.write(
        "hr.csv",
        "Anst.nr;Förnamn;Epost;Befattning;Mobil;Avdelningar;Extra\nE1;Anna;a@example.se;;;;x\n",
    );
    let run = env
        .roster(&["validate", path.to_str().unwrap(), "--format", "json"])
        .code(3)
        .json();
    let problems = run["problems"].as_array().unwrap();
    let missing: Vec<&Value> = problems
        .iter()
        .filter(|p| p["code"] == "missing-column")
        .collect();
    assert_eq!(missing.len(), 2, "{run}");
    assert_eq!(missing[0]["column"], "Efternamn", "{run}");
    assert!(
        missing[0]["message"].as_str().unwrap().contains("Name"),
        "{run}"
    );
    assert_eq!(missing[1]["column"], "E-post", "{run}");
    assert!(
        missing[1]["message"].as_str().unwrap().contains("Mail"),
        "{run}"
    );
    let unknown: Vec<&Value> = problems
        .iter()
        .filter(|p| p["code"] == "unknown-column")
        .collect();
    let unknown: Vec<&str> = unknown
        .iter()
        .map(|p| p["column"].as_str().unwrap())
        .collect();
    assert_eq!(unknown, ["Epost", "Extra"], "{run}");
}

#[test]
fn a_mapping_that_is_wrong_is_a_configuration_error() {
    for (config, key) in [
        ("[columns]\nUnique = \"Anst.nr\"\n", "Unique"),
        ("[columns]\nName = \"{Förnamn\"\n", "Name"),
        ("[columns]\nName = \"\"\n", "Name"),
        ("[columns]\nName = \"{}\"\n", "Name"),
        ("[groups.aliases]\nMED = \"\"\n", "MED"),
    ] {
        let env = Env::new();
        env.write("roster.toml", config);
        let path = env.write("x.csv", "UniqueID,Name,Mail\nE1,A,a@example.se\n");
        let run = env.roster(&["validate", path.to_str().unwrap()]).code(2);
        assert!(run.stderr.contains(key), "{config}: {}", run.stderr);
    }
}

#[test]
fn the_worked_example_in_examples_reads_cleanly() {
    let env = Env::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let run = env
        .roster(&[
            "--config",
            root.join("roster-hr.toml").to_str().unwrap(),
            "validate",
            root.join("hr-export.csv").to_str().unwrap(),
            "--groups",
            "ICU,INTMED,NIGHT",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(run["rows"], 3, "{run}");
    assert_eq!(run["errors"], 0, "{run}");
    assert_eq!(run["warnings"], 1, "only Kostnadsställe is unknown: {run}");
}

//! Group IDs and group files as an attacker or a careless export writes them (SPEC §3):
//! IDs that no import file could name are refused, and a group file is read in its own
//! encoding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::Env;

/// `groups add` refuses (exit 2) a Group ID that no import file could name, and adds nothing.
#[test]
fn groups_add_refuses_ids_no_file_can_name() {
    let env = Env::new();
    env.write("roster.toml", "[csv]\ngroup_separator = \";\"\n");
    for id in ["G\u{1b}[2J", "A;B", " G", "G ", "G\tH", "G\u{85}"] {
        let run = env.roster(&["groups", "add", id, "--name", "Evil"]);
        assert_eq!(run.code, 2, "{id:?}: {}", run.stderr);
        assert!(
            !run.stderr.contains('\u{1b}') && run.stderr.lines().count() == 1,
            "{id:?}: {}",
            run.stderr
        );
    }
    // With `;` as the separator, a comma is an ordinary character.
    env.roster(&["groups", "add", "A,B", "--name", "Comma"])
        .ok();
    let groups = env
        .roster(&["groups", "list", "--format", "json"])
        .ok()
        .json();
    let ids: Vec<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["A,B"]);
}

/// `groups import` refuses (exit 2) a file naming a Group ID no import file could name, an
/// empty one included, and imports none of its groups.
#[test]
fn groups_import_refuses_ids_no_file_can_name() {
    let env = Env::new();
    let cases = [
        "GroupID,Name\nOK,Fine\n\"A,B\",Two\n",
        "GroupID,Name\nOK,Fine\n\"G\u{1b}[2J\",Esc\n",
        "GroupID,Name\nOK,Fine\n,Empty\n",
        "GroupID,Name\nOK,Fine\n\"\",Quoted empty\n",
        "GroupID,Name\nOK,Fine\n\"G\nH\",Newline\n",
    ];
    for csv in cases {
        let file = env.write("groups.csv", csv);
        let run = env.roster(&["groups", "import", file.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{csv:?}: {}", run.stderr);
        let groups = env
            .roster(&["groups", "list", "--format", "json"])
            .ok()
            .json();
        assert_eq!(groups.as_array().unwrap().len(), 0, "{csv:?}: {groups}");
    }
    // A blank line (nothing but spaces) is no group, as in an import file.
    let file = env.write("groups.csv", "GroupID,Name\nOK,Fine\n   \n\nOK2,Two\n");
    env.roster(&["groups", "import", file.to_str().unwrap()])
        .ok();
    let groups = env
        .roster(&["groups", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(groups.as_array().unwrap().len(), 2, "{groups}");
}

/// SPEC §3: `groups import` detects its own file's encoding (BOM, else UTF-8, else
/// Windows-1252); `csv.encoding` is for import files; `--encoding` names it.
#[test]
fn groups_import_reads_its_file_in_its_own_encoding() {
    let names = ["Ambulanssjukvården", "Öron-näsa-hals", "Måltidsservice"];
    let mut csv = String::from("GroupID;Name\n");
    for (i, n) in names.iter().enumerate() {
        csv.push_str(&format!("G{i};{n}\n"));
    }
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(csv.as_bytes());
    let cp1252 = encoding_rs::WINDOWS_1252.encode(&csv).0.into_owned();
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(csv.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    for (what, bytes) in [
        ("utf-8", csv.as_bytes().to_vec()),
        ("utf-8 with a BOM", bom),
        ("windows-1252", cp1252),
        ("utf-16le", utf16),
    ] {
        let env = Env::new();
        env.write("roster.toml", "[csv]\nencoding = \"windows-1252\"\n");
        let file = env.write("groups.csv", bytes);
        env.roster(&["groups", "import", file.to_str().unwrap()])
            .ok();
        let groups = env
            .roster(&["groups", "list", "--format", "json"])
            .ok()
            .json();
        let mut got: Vec<&str> = groups
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect();
        got.sort_unstable();
        let mut want = names.to_vec();
        want.sort_unstable();
        assert_eq!(got, want, "{what}");
    }

    let env = Env::new();
    env.write("roster.toml", "[csv]\nencoding = \"windows-1252\"\n");
    // `--encoding` names it: a UTF-8 file read as Windows-1252 on purpose is garbled, as asked.
    let other = env.write("other.csv", "GroupID;Name\nX1;Vårdcentral\n");
    env.roster(&[
        "groups",
        "import",
        other.to_str().unwrap(),
        "--encoding",
        "windows-1252",
    ])
    .ok();
    let x1 = env
        .roster(&["groups", "list", "--format", "json"])
        .ok()
        .json();
    let x1 = x1
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "X1")
        .unwrap()
        .clone();
    assert_eq!(x1["name"], "VÃ¥rdcentral");
    let bad = env.roster(&[
        "groups",
        "import",
        other.to_str().unwrap(),
        "--encoding",
        "latin9",
    ]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

/// A group file that is not in the encoding named: the error names `--encoding` (the group
/// file's own option), not `csv.encoding`, which does not apply to it; exit non-zero, nothing
/// added.
#[test]
fn groups_import_names_its_own_encoding_option() {
    let env = Env::new();
    let cp1252 = encoding_rs::WINDOWS_1252
        .encode("GroupID;Name\nG1;Vårdcentral\n")
        .0
        .into_owned();
    let file = env.write("groups.csv", cp1252);
    let run = env.roster(&[
        "groups",
        "import",
        file.to_str().unwrap(),
        "--encoding",
        "utf-8",
    ]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("--encoding"), "{}", run.stderr);
    assert!(!run.stderr.contains("csv.encoding"), "{}", run.stderr);
    let groups = env.roster(&["groups", "list", "--format", "json"]).json();
    assert_eq!(groups, serde_json::json!([]));
}

/// A group file is read with its own delimiter, as with its own encoding: `csv.delimiter` set
/// for the import files (`;`) reads a group file that uses it, and a comma-separated group file
/// from another system is read by its header's delimiter, not refused as "GroupID is missing".
#[test]
fn groups_import_reads_its_file_with_its_own_delimiter() {
    for (what, file) in [
        (
            "semicolons",
            "GroupID;Name\nICU;Intensive care, north\nWARD;Ward 3\n",
        ),
        (
            "commas",
            "GroupID,Name\nICU,\"Intensive care, north\"\nWARD,Ward 3\n",
        ),
        (
            "tabs",
            "GroupID\tName\nICU\tIntensive care, north\nWARD\tWard 3\n",
        ),
    ] {
        let env = Env::new();
        env.write("roster.toml", "[csv]\ndelimiter = \";\"\n");
        let path = env.write("groups.csv", file);
        env.roster(&["groups", "import", path.to_str().unwrap()])
            .ok();
        let groups = env
            .roster(&["groups", "list", "--format", "json"])
            .ok()
            .json();
        let mut got: Vec<(String, String)> = groups
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let field = |k: &str| g[k].as_str().unwrap_or("").to_string();
                (field("id"), field("name"))
            })
            .collect();
        got.sort();
        let want = [("ICU", "Intensive care, north"), ("WARD", "Ward 3")]
            .map(|(i, n)| (i.to_string(), n.to_string()));
        assert_eq!(got, want, "{what}");
    }
}

//! Warnings are seen (SPEC §1, §2, §6): `unknown-column`, `encoding-fallback` and
//! `unknown-group` appear in the output of `apply` and `sync`, in their JSON `problems`, and in
//! the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::Env;

/// A Windows-1252 file (`é` as one byte 0xE9) with an unknown column, an empty-named column
/// with a value, and an unknown group.
fn file() -> Vec<u8> {
    let mut bytes = b"UniqueID;Name;Mail;Extra;Groups;\n".to_vec();
    bytes.extend_from_slice(b"E1;Ren\xe9 Berg;rene@example.se;x;NOPE;y\n");
    bytes.extend_from_slice(b"E2;Bo Ek;bo@example.se;;;\n");
    bytes
}

/// The warnings of a JSON document's `problems`, as (code, column).
fn warnings(doc: &serde_json::Value) -> Vec<(String, Option<String>)> {
    doc["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems: {doc:#}"))
        .iter()
        .filter(|p| p["severity"] == "warning")
        .map(|p| {
            assert!(p["message"].as_str().is_some_and(|m| !m.is_empty()), "{p}");
            (
                p["code"].as_str().unwrap().to_string(),
                p["column"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[track_caller]
fn assert_all_warned(what: &str, doc: &serde_json::Value) {
    let w = warnings(doc);
    for code in ["unknown-column", "encoding-fallback", "unknown-group"] {
        assert!(
            w.iter().any(|(c, _)| c == code),
            "{what}: no {code} in {w:?}\n{doc:#}"
        );
    }
    assert!(
        w.contains(&("unknown-column".into(), Some("Extra".into()))),
        "{what}: {w:?}"
    );
}

#[track_caller]
fn assert_table_warns(what: &str, stdout: &str) {
    for said in ["unknown column", "encoding fallback", "unknown group"] {
        assert!(stdout.contains(said), "{what}: no `{said}` in:\n{stdout}");
    }
}

#[test]
fn apply_shows_every_warning_in_table_and_json() {
    let env = Env::new();
    let path = env.write("users.csv", file());
    env.roster(&["fetch", "--source", path.to_str().unwrap()])
        .ok();
    let dry = env.roster(&["apply", "--dry-run"]).ok();
    assert_table_warns("apply --dry-run", &dry.stdout);
    let doc = env
        .roster(&["apply", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_all_warned("apply --dry-run --format json", &doc);
    let doc = env.roster(&["apply", "--format", "json"]).ok().json();
    assert_all_warned("apply --format json", &doc);
    // The report of that run names them too.
    let report = env.roster(&["report", "--format", "text"]).ok().stdout;
    for said in ["Extra", "Windows-1252", "NOPE"] {
        assert!(report.contains(said), "report: no `{said}`:\n{report}");
    }
}

#[test]
fn sync_shows_every_warning_in_table_and_json() {
    let env = Env::new();
    let path = env.write("users.csv", file());
    let run = env
        .roster(&["sync", "--source", path.to_str().unwrap()])
        .ok();
    assert_table_warns("sync", &run.stdout);
    // The same file once more, with one change, as JSON.
    let mut changed = file();
    changed.extend_from_slice(b"E3;Cai Lund;cai@example.se;;;\n");
    std::fs::write(&path, changed).unwrap();
    let doc = env
        .roster(&[
            "sync",
            "--source",
            path.to_str().unwrap(),
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(doc["status"], "applied", "{doc:#}");
    assert_all_warned("sync --format json", &doc);
    // A dry run of a file not applied yet (one of the file already applied is an unchanged
    // night, as the real run would be, and plans nothing).
    let mut again = file();
    again.extend_from_slice(b"E3;Cai Lund;cai@example.se;;;\nE4;Dag Ek;dag@example.se;;;\n");
    std::fs::write(&path, again).unwrap();
    let dry = env
        .roster(&[
            "sync",
            "--dry-run",
            "--source",
            path.to_str().unwrap(),
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_all_warned("sync --dry-run --format json", &dry);
}

#[test]
fn a_rejected_file_keeps_its_warnings_in_json() {
    let env = Env::new();
    // No Mail column: a file error, beside an unknown column in a Windows-1252 file.
    let path = env.write("bad.csv", b"UniqueID;Name;Extra\nE1;Ren\xe9;x\n");
    let doc = env
        .roster(&[
            "sync",
            "--source",
            path.to_str().unwrap(),
            "--format",
            "json",
        ])
        .code(3)
        .json();
    let w = warnings(&doc);
    assert!(
        w.iter().any(|(c, _)| c == "unknown-column")
            && w.iter().any(|(c, _)| c == "encoding-fallback"),
        "{doc:#}"
    );
}

/// The text of an HTML document as Python's `html.parser` reads it (tags dropped, entities
/// decoded), with the number of tables.
fn html_text(html: &str) -> (String, usize) {
    let script = r#"
import sys, json
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True); self.text = []; self.tables = 0
    def handle_starttag(self, tag, attrs):
        if tag == "table": self.tables += 1
    def handle_data(self, data): self.text.append(data)
p = P(); p.feed(sys.stdin.read()); p.close()
print(json.dumps({"text": " ".join(p.text), "tables": p.tables}))
"#;
    let v = support::python_json(script, html);
    (
        v["text"].as_str().unwrap().to_string(),
        v["tables"].as_u64().unwrap() as usize,
    )
}

#[test]
fn the_html_report_lists_the_file_warnings() {
    let env = Env::new();
    let path = env.write("users.csv", file());
    // A reason that reads like the title of a list must not hide what follows it.
    env.roster(&[
        "sync",
        "--source",
        path.to_str().unwrap(),
        "--reason",
        "asked by HR (ticket 12):",
    ])
    .ok();
    let html = env.roster(&["report", "--format", "html"]).ok().stdout;
    let (text, tables) = html_text(&html);
    assert!(tables > 0, "{html}");
    // Each warning with its code and what it is about, as in the text part.
    for said in [
        "ticket 12",
        "unknown-column",
        "Extra",
        "encoding-fallback",
        "Windows-1252",
        "NOPE",
    ] {
        assert!(
            text.contains(said),
            "the HTML report has no `{said}`:\n{html}"
        );
    }
}

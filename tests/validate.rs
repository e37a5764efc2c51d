//! `roster validate` end to end: every format, the fixtures, exit codes, and arbitrary bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use proptest::prelude::*;
use support::{data, Env};

use support::problem_codes as problems;

#[test]
fn spreadsheet_export_in_windows_1252_with_crlf() {
    let env = Env::new();
    let path = data("spreadsheet-export.csv");
    let run = env
        .roster(&["validate", path.to_str().unwrap(), "--format", "json"])
        .code(3);
    let json = run.json();
    assert_eq!(json["delimiter"], ";");
    assert_eq!(json["encoding"], "windows-1252");
    assert_eq!(json["rows"], 4);
    assert_eq!(json["valid"], false);
    assert_eq!(
        (json["errors"].as_u64(), json["warnings"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        problems(&json),
        vec![
            (None, None, "encoding-fallback".into()),
            (Some(5), Some("Mail".into()), "bad-mail".into())
        ]
    );
    assert!(run.stderr.contains("rejected"), "{}", run.stderr);
    assert!(
        !env.store().exists(),
        "validate FILE must not create a store"
    );
}

#[test]
fn utf16_and_quoting() {
    let env = Env::new();
    let run = env
        .roster(&[
            "validate",
            data("unicode-text.csv").to_str().unwrap(),
            "--format",
            "json",
        ])
        .ok();
    let json = run.json();
    assert_eq!(
        (
            json["encoding"].as_str(),
            json["delimiter"].as_str(),
            json["rows"].as_u64()
        ),
        (Some("utf-16le"), Some("\t"), Some(2))
    );
    let run = env
        .roster(&[
            "validate",
            data("quoted.csv").to_str().unwrap(),
            "--format",
            "json",
        ])
        .code(3);
    assert_eq!(
        problems(&run.json()),
        vec![(Some(3), Some("Name".into()), "control-char".into())]
    );
}

#[test]
fn table_and_github_formats() {
    let env = Env::new();
    let path = data("spreadsheet-export.csv");
    let run = env.roster(&["validate", path.to_str().unwrap()]).code(3);
    assert!(run.stdout.contains("bad-mail"), "{}", run.stdout);
    assert!(
        run.stdout.contains("4 rows, 1 errors, 1 warnings"),
        "{}",
        run.stdout
    );
    let run = env
        .roster(&["validate", path.to_str().unwrap(), "--format", "github"])
        .code(3);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(lines[0].starts_with("::warning file="), "{}", lines[0]);
    assert!(
        lines[1].contains(",line=5,title=bad-mail::Mail: "),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("::notice title=roster validate::")
            && lines[2].contains("4 rows, 1 errors, 1 warnings"),
        "{}",
        lines[2]
    );
    // A valid file: exit 0, and -q prints nothing.
    let good = env.write("good.csv", "UniqueID,Name,Mail\nE1,Anna,anna@example.se\n");
    let run = env.roster(&["validate", good.to_str().unwrap()]).ok();
    assert!(run.stdout.contains("valid"), "{}", run.stdout);
    let run = env.roster(&["-q", "validate", good.to_str().unwrap()]).ok();
    assert_eq!(run.stdout, "");
    // A format validate does not print is a usage error.
    env.roster(&["validate", good.to_str().unwrap(), "--format", "html"])
        .code(2);
}

#[test]
fn stdin_groups_and_strict() {
    let env = Env::new();
    let csv = b"UniqueID,Name,Mail,Groups\nE1,Anna,anna@example.se,\"ICU,GHOST\"\n";
    let run = env
        .roster_stdin(&["validate", "-", "--format", "json"], Some(csv))
        .ok();
    assert_eq!(
        run.json()["warnings"],
        0,
        "without --groups group IDs are not checked"
    );
    let run = env
        .roster_stdin(
            &["validate", "-", "--format", "json", "--groups", "ICU,NIGHT"],
            Some(csv),
        )
        .ok();
    assert_eq!(
        problems(&run.json()),
        vec![(Some(2), Some("Groups".into()), "unknown-group".into())]
    );
    let run = env
        .roster_stdin(
            &[
                "validate", "-", "--groups", "ICU", "--strict", "--format", "json",
            ],
            Some(csv),
        )
        .code(3);
    assert_eq!(run.json()["problems"][0]["severity"], "error");
}

#[test]
fn every_record_code_at_its_line() {
    let env = Env::new();
    let csv = "UniqueID,Name,Mail,TelephoneNumber,Skip\n\
        E1,Anna,anna@example.se,+46 70-123 45 67,\n\
        E2,Bo\n\
        E3,,c@example.se,,\n\
        E4,Dan,not-a-mail,,\n\
        E5,Eva,eva@example.se,0701234567,\n\
        E6,Fia,fia@example.se,,2\n\
        E7,Gus,gus@example.se,,\n\
        E7,Gus2,gus2@example.se,,\n\
        E9,Ida,IDA@example.se,,\n\
        E10,Ida2,ida@example.se,,\n\
        E11,\"Jo\nJo\",jo@example.se,,\n";
    let p = env.write("codes.csv", csv);
    let json = env
        .roster(&["validate", p.to_str().unwrap(), "--format", "json"])
        .code(3)
        .json();
    let got: Vec<(u64, String)> = problems(&json)
        .into_iter()
        .map(|(l, _, c)| (l.unwrap(), c))
        .collect();
    let want: Vec<(u64, &str)> = vec![
        (3, "field-count"),
        (4, "missing-field"),
        (5, "bad-mail"),
        (6, "bad-phone"),
        (7, "bad-skip"),
        (8, "duplicate-id"),
        (9, "duplicate-id"),
        (10, "duplicate-mail"),
        (11, "duplicate-mail"),
        (12, "control-char"),
    ];
    assert_eq!(
        got,
        want.into_iter()
            .map(|(l, c)| (l, c.to_string()))
            .collect::<Vec<_>>()
    );
}

/// SPEC §1: a Mail (compared case-insensitively) or a UniqueID that appears twice is an error
/// on every occurrence, also on a record that has another error. A `Skip` = 1 record's Mail
/// (not read), a Mail that is itself bad and a record of the wrong field count do not count.
const REPEATED_BY_INVALID: &str = "UniqueID,Name,Mail,TelephoneNumber,Skip\n\
    E1,Anna,anna@example.se,,\n\
    E2,Bo,ANNA@example.se,12345,\n\
    E3,,cy@example.se,,\n\
    E4,Dan,Cy@Example.se,,\n\
    E5,Eva,eva@example.se,,1\n\
    E6,Fia,eva@example.se,,\n\
    E7,Gus,not-a-mail,,\n\
    E8,Gus2,not-a-mail,,\n\
    E9,Ida,ida@example.se\n\
    E10,Ida2,ida@example.se,,\n\
    E11,Jo,jo@example.se,,\n\
    E11,Jo2,jo2@example.se,+46 70,\n";

/// The problems of [`REPEATED_BY_INVALID`] (line, code): none on line 7 (E6, whose Mail only
/// a Skip record has too) nor on line 11 (E10, whose Mail only a record of 3 fields has too).
const REPEATED_BY_INVALID_PROBLEMS: [(u64, &str); 12] = [
    (2, "duplicate-mail"),
    (3, "bad-phone"),
    (3, "duplicate-mail"),
    (4, "missing-field"),
    (4, "duplicate-mail"),
    (5, "duplicate-mail"),
    (8, "bad-mail"),
    (9, "bad-mail"),
    (10, "field-count"),
    (12, "duplicate-id"),
    (13, "bad-phone"),
    (13, "duplicate-id"),
];

#[test]
fn a_mail_an_invalid_record_repeats_is_a_duplicate_on_both() {
    let env = Env::new();
    let p = env.write("repeated.csv", REPEATED_BY_INVALID);
    let json = env
        .roster(&["validate", p.to_str().unwrap(), "--format", "json"])
        .code(3)
        .json();
    let got: Vec<(u64, String)> = problems(&json)
        .into_iter()
        .map(|(l, _, c)| (l.unwrap(), c))
        .collect();
    let want: Vec<(u64, String)> = REPEATED_BY_INVALID_PROBLEMS
        .iter()
        .map(|(l, c)| (*l, c.to_string()))
        .collect();
    assert_eq!(got, want);
    // Each names the record's own Mail, as the file writes it.
    let duplicates: Vec<(u64, String)> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "duplicate-mail" && p["column"] == "Mail")
        .map(|p| (p["line"].as_u64().unwrap(), p["message"].to_string()))
        .collect();
    let named = |line, mail: &str| {
        let message = format!("the mail `{mail}` appears more than once in the file");
        (line, serde_json::Value::from(message).to_string())
    };
    assert_eq!(
        duplicates,
        [
            named(2, "anna@example.se"),
            named(3, "ANNA@example.se"),
            named(4, "cy@example.se"),
            named(5, "Cy@Example.se"),
        ]
    );
    // The table of the lean reading (the first 2 problems kept) and of the whole one (`--all`)
    // count the same.
    let counts = |args: &[&str]| {
        let mut all = vec!["validate", p.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = env.roster(&all).code(3).stdout;
        let line = out
            .lines()
            .find(|l| l.contains("duplicate-mail"))
            .map(str::to_string);
        (line, out)
    };
    let (lean, out) = counts(&["--limit", "2"]);
    assert!(lean.as_deref().is_some_and(|l| l.contains('4')), "{out}");
    assert_eq!(lean, counts(&["--all"]).0, "{out}");
}

/// SPEC §1: a record with the wrong field count "gets only this code": not the
/// `duplicate-id` of the UniqueID it repeats, in `validate` (lean, and `--all`) as in `apply`;
/// the record it repeats keeps its `duplicate-id`, and the user stays protected.
#[test]
fn a_record_of_the_wrong_field_count_gets_only_that_code() {
    let env = Env::new();
    let text = "UniqueID,Name,Mail\nE1,Anna,a@x.se\nE1,Bo,b@x.se,extra\nE2,Cy,c@x.se\n";
    let p = env.write("wrong.csv", text);
    let want = vec![
        (
            Some(2),
            Some("UniqueID".to_string()),
            "duplicate-id".to_string(),
        ),
        (Some(3), None, "field-count".to_string()),
    ];
    for args in [&[][..], &["--all"]] {
        let mut all = vec!["validate", p.to_str().unwrap(), "--format", "json"];
        all.extend_from_slice(args);
        let json = env.roster(&all).code(3).json();
        assert_eq!(problems(&json), want, "{json:#}");
        assert_eq!(json["errors"], 2, "{json:#}");
    }
    // An apply finds the same, and leaves E1 alone.
    env.import("day1.csv", "UniqueID,Name,Mail\nE1,Anna,a@x.se\n", &[])
        .ok();
    let run = env
        .import("day2.csv", text, &["--allow-invalid", "2"])
        .ok()
        .json();
    let errors: Vec<_> = problems(&run)
        .into_iter()
        .filter(|(_, _, code)| code != "unknown-group")
        .collect();
    assert_eq!(errors, want, "{run:#}");
    assert_eq!(run["counts"]["invalid"], 2, "{run:#}");
    assert_eq!(run["counts"]["remove"], 0, "{run:#}");
    let e1 = env.user("E1");
    assert_eq!(
        (&e1["status"], &e1["name"]),
        (&"active".into(), &"Anna".into())
    );
}

#[test]
fn file_errors_and_default_region() {
    let env = Env::new();
    // Header problems are on line 1; whole-file problems have no line.
    let cases: &[(&str, &[u8], &str, Option<u64>)] = &[
        ("empty.csv", b"", "empty-file", None),
        (
            "header-only.csv",
            b"UniqueID,Name,Mail\r\n",
            "empty-file",
            None,
        ),
        (
            "no-mail.csv",
            b"UniqueID,Name\nE1,A\n",
            "missing-column",
            Some(1),
        ),
        (
            "dup.csv",
            b"UniqueID,Name,Mail,NAME\nE1,A,a@b.se,A\n",
            "duplicate-column",
            Some(1),
        ),
        ("binary.csv", b"\x00\x01\x02UniqueID", "not-csv", None),
    ];
    for (name, bytes, code, line) in cases {
        let p = env.write(name, bytes);
        let json = env
            .roster(&["validate", p.to_str().unwrap(), "--format", "json"])
            .code(3)
            .json();
        assert_eq!(json["problems"][0]["code"], *code, "{name}");
        assert_eq!(json["problems"][0]["line"].as_u64(), *line, "{name}");
    }
    let big = env.write("big.csv", "UniqueID,Name,Mail\nE1,A,a@example.se\n");
    let cfg = env.write("small.toml", "[csv]\nmax_file_bytes = 10\n");
    let json = env
        .roster(&[
            "--config",
            cfg.to_str().unwrap(),
            "validate",
            big.to_str().unwrap(),
            "--format",
            "json",
        ])
        .code(3)
        .json();
    assert_eq!(json["problems"][0]["code"], "too-large");
    let national = env.write(
        "national.csv",
        "UniqueID,Name,Mail,TelephoneNumber\nE1,A,a@example.se,070-123 45 67\n",
    );
    env.roster(&["validate", national.to_str().unwrap()])
        .code(3);
    let cfg = env.write("se.toml", "[csv]\ndefault_region = \"SE\"\n");
    env.roster(&[
        "--config",
        cfg.to_str().unwrap(),
        "validate",
        national.to_str().unwrap(),
    ])
    .ok();
}

#[test]
fn configuration_errors_exit_2_and_name_the_key() {
    let env = Env::new();
    let good = env.write("good.csv", "UniqueID,Name,Mail\nE1,Anna,anna@example.se\n");
    for (toml, key) in [
        ("[csv]\ndelimeter = \";\"\n", "delimeter"),
        ("[import]\nmax_removals = \"lots\"\n", "max_removals"),
    ] {
        let cfg = env.write("bad.toml", toml);
        let run = env
            .roster(&[
                "--config",
                cfg.to_str().unwrap(),
                "validate",
                good.to_str().unwrap(),
            ])
            .code(2);
        assert!(run.stderr.contains(key), "{}", run.stderr);
    }
    // $ROSTER_CONFIG is read; a flag beats it.
    let cfg = env.write("env.toml", "[csv]\ndelimiter = \";\"\n");
    let env = env.var("ROSTER_CONFIG", cfg.to_str().unwrap());
    env.roster(&["validate", good.to_str().unwrap()]).code(3);
    let plain = env.write("plain.toml", "");
    env.roster(&[
        "--config",
        plain.to_str().unwrap(),
        "validate",
        good.to_str().unwrap(),
    ])
    .ok();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever the bytes, validate answers 0 or 3, never a panic (101).
    #[test]
    fn validate_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400), header in any::<bool>()) {
        let env = Env::new();
        let mut input = if header { b"UniqueID;Name;Mail;Groups;Skip\n".to_vec() } else { Vec::new() };
        input.extend(bytes);
        let run = env.roster_stdin(&["validate", "-", "--format", "json"], Some(&input));
        prop_assert!(run.code == 0 || run.code == 3, "exit {}: {}", run.code, run.stderr);
        let json = run.json();
        prop_assert_eq!(json["valid"].as_bool(), Some(run.code == 0));
    }
}

/// SPEC §5: addresses are sendable. An address whose quoted local part the mail transport
/// cannot carry in its envelope is `bad-mail`; the ordinary ones stay valid.
#[test]
fn an_address_the_envelope_cannot_carry_is_bad_mail() {
    let env = Env::new();
    let cases = [
        ("\"\"\"fay,x\"\"@x.org\"", Some("bad-mail")),
        ("\"\"\"fay x\"\"@x.org\"", Some("bad-mail")),
        ("\"\"\"a<b>\"\"@x.org\"", Some("bad-mail")),
        ("a@[127.0.0.1]", Some("bad-mail")),
        ("\"a@[192.0.2.7]\"", Some("bad-mail")),
        ("fay.x@x.org", None),
        ("o'brien+tag@x.org", None),
    ];
    for (cell, want) in cases {
        let file = env.write("m.csv", format!("UniqueID,Name,Mail\nE1,Fay,{cell}\n"));
        let run = env.roster(&["validate", file.to_str().unwrap(), "--format", "json"]);
        let codes: Vec<String> = problems(&run.json()).into_iter().map(|p| p.2).collect();
        match want {
            Some(code) => {
                assert_eq!(run.code, 3, "{cell}: {}", run.stdout);
                assert_eq!(codes, vec![code.to_string()], "{cell}");
            }
            None => assert_eq!((run.code, codes), (0, vec![]), "{cell}"),
        }
    }
}

/// An address of `n` octets: a 64-byte local part at a domain of 63-byte labels (the last one
/// shorter), `ä` in the local part when `wide` (two octets for one character).
fn address_of(n: usize, wide: bool) -> String {
    let user = if wide {
        format!("{}{}", "ä", "a".repeat(62))
    } else {
        "a".repeat(64)
    };
    let mut domain = String::new();
    while user.len() + 1 + domain.len() < n {
        let room = n - user.len() - 1 - domain.len() - usize::from(!domain.is_empty());
        let label = "b".repeat(room.clamp(1, 63));
        if !domain.is_empty() {
            domain.push('.');
        }
        domain.push_str(&label);
    }
    format!("{user}@{domain}.se")[..n].to_string()
}

/// SPEC §5: addresses are sendable. An SMTP envelope's path holds at most 256 octets with
/// its angle brackets (RFC 5321 4.5.3.1.3), so an address of more than 254 octets, counted in
/// octets (UTF-8), is `bad-mail` however valid its parts are; 254 octets stay valid.
#[test]
fn an_address_longer_than_an_envelope_holds_is_bad_mail() {
    let env = Env::new();
    for (octets, wide, want) in [
        (200, false, None),
        (254, false, None),
        (254, true, None),
        (255, false, Some("bad-mail")),
        (255, true, Some("bad-mail")),
        (300, false, Some("bad-mail")),
    ] {
        let cell = address_of(octets, wide);
        assert_eq!(cell.len(), octets, "{cell}");
        let file = env.write("m.csv", format!("UniqueID,Name,Mail\nE1,Fay,{cell}\n"));
        let run = env.roster(&["validate", file.to_str().unwrap(), "--format", "json"]);
        let codes: Vec<String> = problems(&run.json()).into_iter().map(|p| p.2).collect();
        match want {
            Some(code) => {
                assert_eq!(run.code, 3, "{octets}: {}", run.stdout);
                assert_eq!(codes, vec![code.to_string()], "{octets}");
            }
            None => assert_eq!((run.code, codes), (0, vec![]), "{octets}: {cell}"),
        }
    }
}

/// Parse Markdown with a real CommonMark parser (markdown-it-py, with GFM tables) and say
/// what it made: links, images, HTML, code spans, and the text of every table cell.
const MARKDOWN_TOKENS: &str = r#"
import json, sys
from markdown_it import MarkdownIt
md = MarkdownIt("commonmark").enable("table")
seen = {"links": 0, "images": 0, "html": 0, "code": 0, "cells": [], "headings": []}
def walk(tokens, cell):
    for t in tokens:
        if t.type == "link_open": seen["links"] += 1
        if t.type == "image": seen["images"] += 1
        if t.type in ("html_inline", "html_block"): seen["html"] += 1
        if t.type in ("code_inline", "code_block", "fence"): seen["code"] += 1
        if t.children: walk(t.children, cell)
        if t.type == "text" and cell is not None: cell.append(t.content)
tokens = md.parse(sys.stdin.read())
for i, t in enumerate(tokens):
    if t.type == "inline":
        parts = []
        walk([t], parts)
        kind = tokens[i - 1].type
        if kind in ("td_open", "th_open"): seen["cells"].append("".join(parts))
        if kind == "heading_open": seen["headings"].append("".join(parts))
    elif t.type in ("html_block", "code_block", "fence"):
        walk([t], None)
print(json.dumps(seen))
"#;

/// SPEC §3.1: the step summary escapes Markdown, so that a cell becomes no link, no image, no
/// HTML and ends no code span; a file name with a newline forges no line on stderr or stdout.
#[test]
fn the_step_summary_and_the_output_cannot_be_forged() {
    let env = Env::new();
    let evil = "x` [**Approve**](https://e.vil) ![](https://e.vil/p) `<b>hi</b> | &amp; _e_ \\[";
    let name = "x\n::error title=Forged::injected";
    let file = env.write(
        name,
        format!(
            "UniqueID,Name,Mail\nE1,Fay,\"{}\"\n",
            evil.replace('"', "\"\"")
        ),
    );
    let summary = env.path("summary.md");
    let run = env.roster_var(
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        &["validate", file.to_str().unwrap(), "--format", "github"],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    for (what, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.lines().any(|l| l.starts_with("::error title=Forged")),
            "{what}: {text}"
        );
    }
    let md = std::fs::read_to_string(&summary).unwrap();
    let seen = support::python_json(MARKDOWN_TOKENS, &md);
    assert_eq!(
        (
            &seen["links"],
            &seen["images"],
            &seen["html"],
            &seen["code"]
        ),
        (&0.into(), &0.into(), &0.into(), &0.into()),
        "{md}"
    );
    let cells: Vec<&str> = seen["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        cells.iter().any(|c| c.contains(evil)),
        "the value is shown as it is: {cells:?}\n{md}"
    );
    // The table summary and a missing file's error, too, are one line each.
    for args in [
        vec!["validate", file.to_str().unwrap()],
        vec![
            "validate",
            "missing\n::error title=Forged::x",
            "--format",
            "github",
        ],
    ] {
        let run = env.roster(&args);
        for text in [&run.stdout, &run.stderr] {
            assert!(
                !text.lines().any(|l| l.starts_with("::error title=Forged")),
                "{text}"
            );
        }
    }
}

/// SPEC §3.1: a file name with a terminal escape, a form feed, a vertical tab, NEL or a line
/// separator reaches `--format github`'s annotations and `::notice` escaped, never raw: no
/// control character of any kind is printed (GitHub's log shows them to a terminal).
#[test]
fn github_annotations_carry_no_raw_control_character() {
    let env = Env::new();
    for name in [
        "x\u{1b}[2Jy",
        "x\u{c}::error::y",
        "x\u{b}::error::y",
        "x\u{85}::error::y",
        "x\u{2028}::error::y",
        "x\u{202e}y",
    ] {
        let file = env.write(name, "UniqueID,Name,Mail\nE1,Fay\n");
        let run = env.roster(&["validate", file.to_str().unwrap(), "--format", "github"]);
        assert_eq!(run.code, 3, "{}", run.stderr);
        for text in [&run.stdout, &run.stderr] {
            assert!(text.lines().count() >= 1);
            for line in text.lines() {
                assert!(
                    !line.chars().any(|c| c.is_control()
                        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}')),
                    "{name:?}: {line:?}"
                );
            }
        }
    }
}

/// SPEC §3.1: GitHub's renderer (cmark-gfm) links a bare `www.` domain in any text, a table
/// cell included; the step summary escapes its dots, so that no cell becomes a link.
#[test]
fn the_step_summary_links_no_bare_domain() {
    let env = Env::new();
    let file = env.write(
        "www.users.csv",
        "UniqueID,Name,Mail,Groups\nE1,Fay,fay@x.org,www.e-vil.com\nE2,Www.Bo,bo@x.org,WWW.E-VIL.COM/x\n",
    );
    let summary = env.path("summary.md");
    let run = env.roster_var(
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        &[
            "validate",
            file.to_str().unwrap(),
            "--format",
            "github",
            "--groups",
            "ICU",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("e-vil"), "{md}");
    assert!(!md.to_lowercase().contains("www."), "{md}");
    let seen = support::python_json(MARKDOWN_TOKENS, &md);
    assert_eq!(seen["links"], 0, "{md}");
    let cells = seen["cells"].to_string();
    assert!(cells.contains("www.e-vil.com"), "shown as it is: {cells}");
}

/// SPEC §3.1: validate's table names the file by its name, not the path it was given, so
/// that its lines fit 100 columns however deep the file lies.
#[test]
fn the_table_names_the_file_by_its_name_within_100_columns() {
    let env = Env::new();
    let dir = "exports/from-the-human-resources-system/of-the-region/with-a-long-path/indeed";
    let path = env.write(
        &format!("{dir}/users-export-from-the-hr-system-of-the-region.csv"),
        "UniqueID,Name,Mail\nE1,Åsa Öberg,not-a-mail\nE2,Bo Ek,bo@example.se\n",
    );
    let run = env.roster(&["validate", path.to_str().unwrap()]).code(3);
    for line in run.stdout.lines() {
        assert!(
            line.chars().count() <= 100,
            "{}: {line}",
            line.chars().count()
        );
    }
    assert!(
        run.stdout.contains(
            "users-export-from-the-hr-system-of-the-region.csv: invalid — 2 rows, 1 errors"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("exports/"), "{}", run.stdout);
    // JSON keeps the path as it was given.
    let json = env
        .roster(&["validate", path.to_str().unwrap(), "--format", "json"])
        .code(3)
        .json();
    assert_eq!(json["file"], path.to_str().unwrap());
}

/// The `… and N more` line of `validate FILE` names the command that lists every problem of
/// that file (`roster validate --all` alone checks the newest batch, or fails without a
/// store), and the counts per code are broken to fit 100 columns.
#[test]
fn more_names_the_file_and_the_counts_fit_100_columns() {
    let env = Env::new();
    let mut csv = String::from("UniqueID,Name,Mail,TelephoneNumber,Skip,Kostnadsställe\n");
    for i in 0..60 {
        csv.push_str(&format!("E{i},Åsa Nr{i},not-a-mail-{i},,,x\n"));
    }
    csv.push_str("E70,,e70@example.se,,,x\n");
    csv.push_str("E71,Bo,e71@example.se,123,,x\n");
    csv.push_str("E72,Bo,e72@example.se,,2,x\n");
    csv.push_str("E73,Bo,dup@example.se,,,x\nE74,Bo,dup@example.se,,,x\n");
    csv.push_str("E75,Bo,e75@example.se,,,x\nE75,Bo,e76@example.se,,,x\n");
    csv.push_str("E77,Bo,e77@example.se\n");
    csv.push_str(&format!("E78,{},e78@example.se,,,x\n", "x".repeat(1001)));
    let path = env.write("in/hr export.csv", &csv);
    let path = path.to_str().unwrap();
    let run = env.roster(&["validate", path]).code(3);
    for line in run.stdout.lines().filter(|l| !l.starts_with("… and")) {
        assert!(line.chars().count() <= 100, "{line}");
    }
    let codes = run.stdout.replace("\n  ", " ");
    assert!(
        codes.contains("problems per code: bad-mail 60 (error), duplicate-id 2 (error)"),
        "{}",
        run.stdout
    );
    let more = run.stdout.lines().find(|l| l.starts_with("… and")).unwrap();
    assert_eq!(
        more,
        format!("… and 20 more (roster validate '{path}' --all, or --format json)")
    );
    // What it names lists them all.
    let all = env.roster(&["validate", path, "--all"]).code(3).stdout;
    assert!(!all.contains("… and"), "{all}");
    assert!(all.contains("too-long"), "{all}");
    // A stored batch named by its number.
    env.roster(&["fetch", "--source", path]).ok();
    let run = env.roster(&["validate", "--batch", "1"]).code(3);
    assert!(
        run.stdout
            .contains("more (roster validate --batch 1 --all, or --format json)"),
        "{}",
        run.stdout
    );
}

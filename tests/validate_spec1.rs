//! SPEC §1 checked again through `roster validate FILE`, case by case: line ends, encodings
//! and the line and column each problem names.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::Env;

/// A problem as `validate --format json` names it: line, column, code.
type Named = (Option<u64>, Option<String>, String);

/// An encoding case: what, the file's bytes, a configuration, the encoding named, the place.
type EncodingCase<'a> = (
    &'a str,
    Vec<u8>,
    Option<&'a std::path::Path>,
    &'a str,
    &'a str,
);

/// The (line, column, code) of each problem `validate --format json` gives for `bytes`.
fn problems_of(env: &Env, bytes: &[u8]) -> (serde_json::Value, Vec<Named>) {
    let path = env.write("in.csv", bytes);
    let run = env.roster(&["validate", path.to_str().unwrap(), "--format", "json"]);
    let json = run.json();
    let problems = support::problem_codes(&json);
    (json, problems)
}

/// SPEC §1: a record's line is the file line it starts on. A lone CR ends a line as the CSV
/// reading ends a record there (spreadsheets on a Mac write such files), so the bad Mail of
/// the third record is on line 4, not on line 1.
#[test]
fn lines_that_end_in_a_lone_cr_are_counted() {
    let env = Env::new();
    let cases: &[(&str, &[u8], u64)] = &[
        (
            "CR only",
            b"UniqueID,Name,Mail\rE1,A,a@x.se\rE2,B,b@x.se\rE3,C,bad\r",
            4,
        ),
        (
            "CR, no end",
            b"UniqueID,Name,Mail\rE1,A,a@x.se\rE3,C,bad",
            3,
        ),
        (
            "CR and LF",
            b"UniqueID,Name,Mail\nE1,A,a@x.se\rE2,B,b@x.se\nE3,C,bad\n",
            4,
        ),
        (
            "CR and CRLF",
            b"UniqueID,Name,Mail\r\nE1,A,a@x.se\rE2,B,b@x.se\r\nE3,C,bad\r\n",
            4,
        ),
        (
            "blank CR lines",
            b"UniqueID,Name,Mail\r\rE1,A,a@x.se\r\r\rE3,C,bad\r",
            6,
        ),
        (
            "quoted CRLF",
            b"UniqueID,Name,Mail\rE1,\"A\r\nB\",a@x.se\rE3,C,bad\r",
            4,
        ),
    ];
    for (what, bytes, line) in cases {
        let (json, problems) = problems_of(&env, bytes);
        let bad = problems.iter().find(|p| p.2 == "bad-mail");
        assert_eq!(
            bad.map(|p| (p.0, p.1.as_deref())),
            Some((Some(*line), Some("Mail"))),
            "{what}: {json}"
        );
    }
}

/// SPEC §1: a file that is not valid in its encoding is `not-csv` (a file error, no line of
/// its own); its message names the line and the character where the first bad byte is, and
/// the JSON names the encoding that was tried.
#[test]
fn a_byte_not_valid_in_the_encoding_is_named_by_line_and_character() {
    let env = Env::new();
    let utf8 = env.write("utf8.toml", "[csv]\nencoding = \"utf-8\"\n");
    let utf16 = |text: &str, tail: &[u8]| {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes.extend(tail);
        bytes
    };
    let cases: Vec<EncodingCase> = vec![
        (
            "utf-8",
            b"UniqueID,Name,Mail\nE1,A,a@x.se\nE2,B\xff,b@x.se\n".to_vec(),
            Some(&utf8),
            "utf-8",
            "line 3, character 5",
        ),
        (
            "utf-8 after a BOM",
            b"\xEF\xBB\xBFUniqueID,Name,Mail\nE1,\xc3\x85\xff,a@x.se\n".to_vec(),
            None,
            "utf-8",
            "line 2, character 5",
        ),
        (
            "utf-16 lone surrogate",
            utf16(
                "UniqueID,Name,Mail\nE1,A,a@x.se\nE2,Bo",
                &[0x00, 0xD8, b',', 0],
            ),
            None,
            "utf-16le",
            "line 3, character 6",
        ),
        (
            "utf-16 odd byte",
            utf16("UniqueID,Name,Mail\nE1,A,a@x.se\n", b"E"),
            None,
            "utf-16le",
            "line 3, character 1",
        ),
    ];
    for (what, bytes, config, encoding, at) in cases {
        let path = env.write("in.csv", &bytes);
        let mut args = vec!["validate", path.to_str().unwrap(), "--format", "json"];
        if let Some(c) = config {
            args.extend(["--config", c.to_str().unwrap()]);
        }
        let json = env.roster(&args).code(3).json();
        let p = &json["problems"][0];
        assert_eq!(p["code"], "not-csv", "{what}: {json}");
        assert_eq!(json["encoding"], encoding, "{what}: {json}");
        assert!(
            p["message"].as_str().unwrap().contains(at),
            "{what}: {json}"
        );
    }
}

/// SPEC §1: a Mail that appears twice is in error on every occurrence, compared without
/// regard to case, and so without regard to how its letters are composed (`å` or `a` and a
/// combining ring: the same address, which a Mac export writes decomposed).
#[test]
fn a_mail_written_composed_and_decomposed_is_a_duplicate() {
    let env = Env::new();
    let text = "UniqueID,Name,Mail\nE1,A,åsa@x.se\nE2,B,a\u{30a}sa@x.se\nE3,C,A\u{30a}SA@X.SE\nE4,D,asa@x.se\n";
    let (json, problems) = problems_of(&env, text.as_bytes());
    let want: Vec<_> = [2, 3, 4]
        .map(|l| {
            (
                Some(l),
                Some("Mail".to_string()),
                "duplicate-mail".to_string(),
            )
        })
        .into();
    assert_eq!(problems, want, "{json}");
}

/// SPEC §1, rule by rule: each file's problems as (line, column, code), and the exit code.
#[test]
fn each_rule_at_its_line_and_column() {
    let env = Env::new();
    let h = "UniqueID,Name,Mail,TelephoneNumber,SecondaryTelephoneNumber,Groups,Skip\n";
    let p = |line: u64, column: &str, code: &str| -> Named {
        let column = (!column.is_empty()).then(|| column.to_string());
        (Some(line), column, code.to_string())
    };
    let cases: Vec<(&str, String, Vec<Named>)> = vec![
        (
            "phones written as people write them; groups with spaces, repeats and empties",
            format!("{h}E1,A,a@x.se,+46 70-123 45 67,0046 8 123 456 78,\" G1, G1 ,,G2 \",0\n"),
            vec![],
        ),
        (
            "a national number without csv.default_region; a letter; too many digits",
            format!("{h}E1,A,a@x.se,070-123 45 67,,,\nE2,B,b@x.se,+46701234567x,,,\nE3,C,c@x.se,,+4670123456789012,,\n"),
            vec![p(2, "TelephoneNumber", "bad-phone"), p(3, "TelephoneNumber", "bad-phone"), p(4, "SecondaryTelephoneNumber", "bad-phone")],
        ),
        (
            "Skip: 1 reads nothing else, spaces trimmed, anything but empty/0/1 is bad",
            format!("{h}E1,,,,,,1\nE2,B,b@x.se,,,, 1 \nE3,C,c@x.se,,,,true\nE4,D,d@x.se,,,,01\n"),
            vec![p(4, "Skip", "bad-skip"), p(5, "Skip", "bad-skip")],
        ),
        (
            "a skipped record's UniqueID still counts for duplicates",
            format!("{h}E1,,,,,,1\nE1,A,a@x.se,,,,\n"),
            vec![p(2, "UniqueID", "duplicate-id"), p(3, "UniqueID", "duplicate-id")],
        ),
        (
            "mail duplicates by case; a trailing dot; an invisible character",
            format!("{h}E1,A,a@X.se,,,,\nE2,B,A@x.SE,,,,\nE3,C,c@x.se.,,,,\nE4,D,d\u{200b}@x.se,,,,\n"),
            vec![p(2, "Mail", "duplicate-mail"), p(3, "Mail", "duplicate-mail"), p(4, "Mail", "bad-mail"), p(5, "Mail", "bad-mail")],
        ),
        (
            "a quoted newline keeps its record's first line, later lines count it",
            "UniqueID,Name,Mail\nE1,\"A\nB\",a@x.se\nE2,B,bad\n".to_string(),
            vec![p(2, "Name", "control-char"), p(4, "Mail", "bad-mail")],
        ),
        (
            "blank lines before the header and between records",
            "\n\n  \nUniqueID,Name,Mail\n\nE1,A,a@x.se\n\nE2,B,bad".to_string(),
            vec![p(8, "Mail", "bad-mail")],
        ),
        (
            "a header in quotes after a BOM, `;`, CRLF",
            "\u{feff}\"UniqueID\";\"Name\";\"Mail\"\r\n\"E1\";\"A\";\"bad\"\r\n".to_string(),
            vec![p(2, "Mail", "bad-mail")],
        ),
        (
            "a header cell named twice in another case",
            "UniqueID,Name,Mail,name\nE1,A,a@x.se,B\n".to_string(),
            vec![p(1, "name", "duplicate-column")],
        ),
    ];
    for (what, text, want) in cases {
        let (json, problems) = problems_of(&env, text.as_bytes());
        assert_eq!(problems, want, "{what}: {json}");
        assert_eq!(json["valid"], want.is_empty(), "{what}: {json}");
    }
}

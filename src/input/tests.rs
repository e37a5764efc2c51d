//! Table-driven tests of reading: encodings, delimiters, headers, line numbers and duplicates.

use super::*;
use std::collections::HashSet;

fn codes(file: &ImportFile) -> Vec<(Option<u64>, Option<&str>, &'static str)> {
    file.problems
        .iter()
        .map(|p| (p.line, p.column.as_deref(), p.code.as_str()))
        .collect()
}

fn read_str(text: &str) -> ImportFile {
    read(text.as_bytes(), &ReadOptions::default())
}

#[test]
#[allow(clippy::type_complexity)]
fn file_level_problems() {
    let cases: &[(&str, Vec<(Option<u64>, Option<&str>, &str)>)] = &[
        ("", vec![(None, None, "empty-file")]),
        ("\n\n", vec![(None, None, "empty-file")]),
        ("UniqueID,Name,Mail\n", vec![(None, None, "empty-file")]),
        (
            "UniqueID,Name\nE1,Anna\n",
            vec![(Some(1), Some("Mail"), "missing-column")],
        ),
        (
            "UniqueID,Name,Mail,mail\nE1,A,a@b.se,a@b.se\n",
            vec![(Some(1), Some("mail"), "duplicate-column")],
        ),
        (
            "UniqueID,Name,Mail\0\nE1,A,a@b.se\n",
            vec![(None, None, "not-csv")],
        ),
        (
            "UniqueID,Name,Mail,Shoe size\nE1,A,a@b.se,44\n",
            vec![(Some(1), Some("Shoe size"), "unknown-column")],
        ),
    ];
    for (text, want) in cases {
        assert_eq!(codes(&read_str(text)), *want, "{text:?}");
    }
}

#[test]
fn too_large() {
    let opts = ReadOptions {
        max_file_bytes: 10,
        ..ReadOptions::default()
    };
    let file = read(b"UniqueID,Name,Mail\nE1,A,a@b.se\n", &opts);
    assert_eq!(codes(&file), vec![(None, None, "too-large")]);
}

#[test]
fn delimiters_are_detected_from_the_header() {
    for (d, name) in [(",", b','), (";", b';'), ("\t", b'\t'), ("|", b'|')] {
        let text = format!("UniqueID{d}Name{d}Mail\nE1{d}\"Berg, Anna\"{d}anna@example.se\n");
        let file = read_str(&text);
        assert_eq!(file.delimiter, name);
        assert!(file.problems.is_empty(), "{d:?}: {:?}", file.problems);
        let Entry::Valid(r) = &file.entries[0] else {
            panic!("invalid")
        };
        assert_eq!(r.name(), "Berg, Anna");
    }
    // A configured delimiter wins over detection.
    let opts = ReadOptions {
        delimiter: Some(b';'),
        ..ReadOptions::default()
    };
    let file = read(b"UniqueID,Name,Mail\nE1,A,a@b.se\n", &opts);
    assert_eq!(codes(&file)[0].2, "missing-column");
}

#[test]
fn encodings() {
    let text = "UniqueID;Name;Mail\r\nE1;Åsa Öberg;asa@example.se\r\n";
    let mut utf8_bom = b"\xEF\xBB\xBF".to_vec();
    utf8_bom.extend_from_slice(text.as_bytes());
    let mut utf16le = vec![0xFF, 0xFE];
    utf16le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let mut utf16be = vec![0xFE, 0xFF];
    utf16be.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
    let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    let cases: Vec<(&str, Vec<u8>, &str, Vec<&str>)> = vec![
        ("utf-8", text.as_bytes().to_vec(), "utf-8", vec![]),
        ("utf-8 bom", utf8_bom, "utf-8", vec![]),
        ("utf-16le", utf16le, "utf-16le", vec![]),
        ("utf-16be", utf16be, "utf-16be", vec![]),
        (
            "windows-1252",
            cp1252.to_vec(),
            "windows-1252",
            vec!["encoding-fallback"],
        ),
    ];
    for (label, bytes, encoding, want) in cases {
        let file = read(&bytes, &ReadOptions::default());
        assert_eq!(file.encoding, encoding, "{label}");
        let got: Vec<_> = file.problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(got, want, "{label}");
        let Entry::Valid(r) = &file.entries[0] else {
            panic!("{label}: invalid")
        };
        assert_eq!(r.name(), "Åsa Öberg", "{label}");
    }
    // Explicit UTF-8 refuses other bytes rather than guessing.
    let opts = ReadOptions {
        encoding: Encoding::Utf8,
        ..ReadOptions::default()
    };
    let file = read(&cp1252, &opts);
    assert_eq!(codes(&file)[0].2, "not-csv");
}

#[test]
fn line_numbers_follow_the_file() {
    let text = "UniqueID,Name,Mail\n\nE1,\"Anna\nBerg\",anna@example.se\nE2,Bo,bad\n\r\nE3,,c@example.se\n";
    let file = read_str(text);
    assert_eq!(file.rows, 3);
    assert_eq!(
        codes(&file),
        vec![
            (Some(3), Some("Name"), "control-char"),
            (Some(5), Some("Mail"), "bad-mail"),
            (Some(7), Some("Name"), "missing-field"),
        ]
    );
}

#[test]
fn header_is_matched_loosely() {
    let file = read_str("\u{feff} mail ;NAME; uniqueid \nanna@example.se;Anna;E1\n");
    assert!(file.problems.is_empty(), "{:?}", file.problems);
    let Entry::Valid(r) = &file.entries[0] else {
        panic!("invalid")
    };
    assert_eq!((r.unique_id(), r.mail()), ("E1", "anna@example.se"));
}

#[test]
fn duplicates_mark_every_occurrence() {
    let text = "UniqueID,Name,Mail,Skip\nE1,A,a@example.se,\nE2,B,A@EXAMPLE.SE,\nE1,C,c@example.se,\nE4,,,1\nE4,,,1\n";
    let file = read_str(text);
    assert_eq!(
        codes(&file),
        vec![
            (Some(2), Some("UniqueID"), "duplicate-id"),
            (Some(2), Some("Mail"), "duplicate-mail"),
            (Some(3), Some("Mail"), "duplicate-mail"),
            (Some(4), Some("UniqueID"), "duplicate-id"),
            (Some(5), Some("UniqueID"), "duplicate-id"),
            (Some(6), Some("UniqueID"), "duplicate-id"),
        ]
    );
    assert_eq!(file.invalid(), 5);
}

#[test]
fn unknown_groups_are_warnings() {
    let mut file = read_str("UniqueID,Name,Mail,Groups\nE1,A,a@example.se,\"ICU, GHOST\"\n");
    let known: HashSet<String> = ["ICU".to_string()].into();
    file.check_groups(&known);
    assert_eq!(
        codes(&file),
        vec![(Some(2), Some("Groups"), "unknown-group")]
    );
    assert_eq!(file.errors(), 0);
}

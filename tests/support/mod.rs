//! Test harness: a fresh temp dir per test, the built binary run with a scrubbed environment,
//! and helpers to read its output and the store.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod mail;
pub mod providers;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Env {
    pub dir: tempfile::TempDir,
    /// Extra environment for every run.
    pub vars: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Assert the exit code, showing the output when it is not the expected one.
    #[track_caller]
    pub fn code(self, want: i32) -> Self {
        assert_eq!(
            self.code, want,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(self) -> Self {
        self.code(0)
    }
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
            vars: Vec::new(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn store(&self) -> PathBuf {
        self.path("data/roster.db")
    }

    pub fn var(mut self, key: &str, value: &str) -> Self {
        self.vars.push((key.into(), value.into()));
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_roster"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("ROSTER_STORE", self.store())
            .env("NO_COLOR", "1");
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run roster with these arguments.
    pub fn roster(&self, args: &[&str]) -> Run {
        self.roster_stdin(args, None)
    }

    /// Run roster with one more environment variable for this run only.
    pub fn roster_var(&self, (key, value): (&str, &str), args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        cmd.env(key, value);
        Env::finish(cmd, None)
    }

    pub fn roster_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        Env::finish(self.command(args), stdin)
    }

    fn finish(mut cmd: Command, stdin: Option<&[u8]>) -> Run {
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run roster");
        if let Some(bytes) = stdin {
            use std::io::Write;
            let mut pipe = child.stdin.take().unwrap();
            // The binary may stop reading early (too large); a closed pipe is fine.
            let _ = pipe.write_all(bytes);
        }
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Fetch a file (written under `name`) and apply it with extra arguments. Stage by stage:
    /// with `[scim]` the apply does not push (`--no-push`); a test pushes as a step of its own.
    pub fn import(&self, name: &str, csv: &str, apply_args: &[&str]) -> Run {
        let p = self.write(name, csv);
        self.roster(&["fetch", "--source", p.to_str().unwrap()])
            .ok();
        let mut args = vec!["apply", "--format", "json", "--no-push"];
        args.extend_from_slice(apply_args);
        self.roster(&args)
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.store()).unwrap()
    }

    /// A stable text snapshot of a table, for before/after comparisons.
    pub fn snapshot(&self, table: &str) -> String {
        let db = self.db();
        let mut stmt = db
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))
            .unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let mut line = Vec::new();
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    line.push(format!("{v:?}"));
                }
                Ok(line.join("|"))
            })
            .unwrap();
        rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("\n")
    }

    pub fn users_json(&self) -> Vec<serde_json::Value> {
        self.roster(&["users", "list", "--format", "json"])
            .ok()
            .json()
            .as_array()
            .cloned()
            .unwrap()
    }

    pub fn user(&self, id: &str) -> serde_json::Value {
        self.roster(&["users", "show", id, "--format", "json"])
            .ok()
            .json()
    }
}

/// `1234567` as `1,234,567`, as roster prints counts (written here rather than taken from the
/// library, so that the tests check roster's output against a reading of their own).
pub fn thousands(n: impl std::fmt::Display) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Run roster with stderr on a pseudo-terminal (Python's `pty`), stdout thrown away: what a
/// person at a terminal sees on stderr.
pub fn on_a_terminal(env: &Env, args: &[&str]) -> (i32, String) {
    const SCRIPT: &str = r#"
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
out = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode("utf-8", "replace"))
sys.exit(p.wait())
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .current_dir(env.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", env.dir.path())
        .env("ROSTER_STORE", env.store())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The file's modification time, `secs` from now (negative: in the past).
pub fn touch(path: &std::path::Path, secs: i64) {
    let now = std::time::SystemTime::now();
    let at = if secs >= 0 {
        now + std::time::Duration::from_secs(secs as u64)
    } else {
        now - std::time::Duration::from_secs((-secs) as u64)
    };
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(at)
        .unwrap();
}

/// What a Python script (a real consumer of roster's output: a parser) prints as JSON when it
/// reads `input` on its stdin.
pub fn python_json(script: &str, input: &str) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python: {}\n{input}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The (line, column, code) of each problem of a `validate --format json` document.
#[allow(dead_code)]
pub fn problem_codes(json: &serde_json::Value) -> Vec<(Option<u64>, Option<String>, String)> {
    json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64(),
                p["column"].as_str().map(str::to_string),
                p["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

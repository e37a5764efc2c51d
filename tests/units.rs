//! The systemd units in examples/ (SPEC §5 "Honest health"): after every run, whatever
//! ExecStart's exit code, they refresh the metrics in node_exporter's textfile folder, in a file
//! node_exporter can read. The units are parsed as systemd reads them, their lines run with
//! the built binary and temporary folders in place of the installed paths, and
//! `systemd-analyze verify` checks them where it exists. The package's maintainer scripts
//! (debian/) parse as sh, and removal stops and disables the templates' instances.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// node_exporter's textfile folder, as the README and the package's postinst name it.
const TEXTFILE: &str = "/var/lib/node_exporter/textfile";
/// Where the Debian package installs the binary.
const BINARY: &str = "/usr/bin/roster";

/// One `Key=value` line of a unit file, with its section.
#[derive(Debug)]
struct Entry {
    section: String,
    key: String,
    value: String,
}

/// A unit file as systemd reads it: continuation lines joined (the backslash becomes a
/// space), comments and blank lines dropped, `Key=value` split at the first `=`.
fn parse(text: &str) -> Vec<Entry> {
    let mut joined = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head);
                pending.push(' ');
            }
            None => {
                pending.push_str(line);
                joined.push(std::mem::take(&mut pending));
            }
        }
    }
    let mut section = String::new();
    let mut entries = Vec::new();
    for line in joined.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if let Some((key, value)) = line.split_once('=') {
            entries.push(Entry {
                section: section.clone(),
                key: key.trim().to_string(),
                value: value.trim().to_string(),
            });
        } else {
            panic!("not a unit file line: {line}");
        }
    }
    entries
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// examples/*.service and examples/*.timer (with `ext`), sorted by name.
fn unit_files(ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(examples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

fn values<'a>(entries: &'a [Entry], key: &str) -> Vec<&'a str> {
    entries
        .iter()
        .filter(|e| e.section == "Service" && e.key == key)
        .map(|e| e.value.as_str())
        .collect()
}

/// An Exec line without systemd's prefixes (`-` ignores the exit code, `@`, `+`, `!`, `:`).
fn command_of(exec: &str) -> &str {
    exec.trim_start_matches(['-', '@', '+', '!', ':'])
}

#[test]
fn the_examples_have_both_services() {
    let names: Vec<String> = unit_files("service")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["roster-sync.service", "roster-sync@.service"]);
}

/// ExecStartPost runs only when ExecStart exited 0: a blocked, rejected or failed night would
/// leave yesterday's `roster_healthy 1`. ExecStopPost runs whatever the exit code.
#[test]
fn every_service_writes_the_metrics_in_exec_stop_post() {
    for path in unit_files("service") {
        let name = path.display();
        let entries = parse(&std::fs::read_to_string(&path).unwrap());
        assert_eq!(
            values(&entries, "ExecStart"),
            [format!("{BINARY} -q sync")],
            "{name}: ExecStart runs the packaged binary"
        );
        for post in values(&entries, "ExecStartPost") {
            assert!(
                !post.contains("prometheus") && !post.contains(".prom"),
                "{name}: ExecStartPost writes the metrics (it runs only after exit 0): {post}"
            );
        }
        let stop = values(&entries, "ExecStopPost");
        let metrics: Vec<&str> = stop
            .iter()
            .copied()
            .filter(|v| v.contains("status --format prometheus"))
            .collect();
        assert_eq!(
            metrics.len(),
            1,
            "{name}: one ExecStopPost writes the metrics"
        );
        let line = metrics[0];
        assert!(
            line.contains(&format!("{BINARY} status --format prometheus")),
            "{name}: {line}"
        );
        assert!(
            line.contains(TEXTFILE),
            "{name}: not into {TEXTFILE}: {line}"
        );
        assert!(
            line.contains(".prom.tmp") && line.contains("mv "),
            "{name}: not written to a temporary file and renamed: {line}"
        );
        assert!(
            line.contains("chmod 0644") || line.contains("install -m 0644"),
            "{name}: the file's mode is left to UMask: {line}"
        );
        let umask = values(&entries, "UMask");
        assert_eq!(umask, ["0077"], "{name}: stores and downloads stay private");
    }
}

#[test]
fn the_template_writes_one_file_per_organisation() {
    let text = std::fs::read_to_string(examples().join("roster-sync@.service")).unwrap();
    let entries = parse(&text);
    let stop = values(&entries, "ExecStopPost").join(" ");
    assert!(stop.contains("roster-%i.prom"), "{stop}");
    let env = values(&entries, "Environment");
    assert!(
        env.contains(&"ROSTER_CONFIG=/etc/roster/%i.toml"),
        "{env:?}"
    );
    assert!(
        env.contains(&"ROSTER_STORE=/var/lib/roster/%i/roster.db"),
        "{env:?}"
    );
}

/// A unit's line with the installed paths replaced by a test's folders and the built binary.
struct Paths {
    root: tempfile::TempDir,
}

impl Paths {
    fn new() -> Paths {
        let root = tempfile::tempdir().unwrap();
        for dir in ["etc", "state", "textfile"] {
            std::fs::create_dir(root.path().join(dir)).unwrap();
        }
        Paths { root }
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    fn local(&self, value: &str) -> String {
        value
            .replace("%i", "acme")
            .replace(TEXTFILE, &self.dir("textfile").to_string_lossy())
            .replace("/etc/roster", &self.dir("etc").to_string_lossy())
            .replace("/var/lib/roster", &self.dir("state").to_string_lossy())
            .replace(BINARY, env!("CARGO_BIN_EXE_roster"))
    }

    /// Run an Exec line as systemd would: the unit's Environment, UMask=0077, no shell of its own.
    fn run(&self, entries: &[Entry], exec: &str) -> i32 {
        let argv = shlex::split(&self.local(command_of(exec))).expect("a quoted command line");
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg("umask 0077; exec \"$@\"")
            .arg("sh")
            .args(&argv)
            .current_dir("/")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.root.path())
            .env("NO_COLOR", "1");
        for assignment in values(entries, "Environment") {
            let (key, value) = assignment.split_once('=').unwrap();
            cmd.env(key, self.local(value));
        }
        let out = cmd.output().unwrap();
        eprintln!("{exec}: {}", String::from_utf8_lossy(&out.stderr));
        out.status.code().unwrap_or(-1)
    }

    fn env_value(&self, entries: &[Entry], key: &str) -> PathBuf {
        let assignment = values(entries, "Environment")
            .into_iter()
            .find_map(|a| a.strip_prefix(&format!("{key}=")).map(str::to_string))
            .unwrap();
        PathBuf::from(self.local(&assignment))
    }
}

/// The night that the truthful-signals issue saw: a good night writes `roster_healthy 1`; the
/// next night fails (exit 1) and the file must say `roster_healthy 0`, mode 0644 under
/// UMask=0077, with no temporary file left for the collector.
#[test]
fn exec_stop_post_refreshes_the_metrics_after_a_good_and_a_failed_night() {
    for path in unit_files("service") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let entries = parse(&std::fs::read_to_string(&path).unwrap());
        let paths = Paths::new();
        let csv = paths.dir("users.csv");
        std::fs::copy(examples().join("users-day1.csv"), &csv).unwrap();
        let config = paths.env_value(&entries, "ROSTER_CONFIG");
        let url = format!("[source]\nurl = \"{}\"\n", csv.display());
        std::fs::write(&config, url).unwrap();
        let exec_start = values(&entries, "ExecStart")[0];
        let stop_post = values(&entries, "ExecStopPost")[0];
        let prom = if name.contains('@') {
            "roster-acme.prom"
        } else {
            "roster.prom"
        };
        let prom = paths.dir("textfile").join(prom);

        assert_eq!(paths.run(&entries, exec_start), 0, "{name}: a good night");
        paths.run(&entries, stop_post);
        let text = std::fs::read_to_string(&prom).unwrap();
        assert!(text.contains("\nroster_healthy 1\n"), "{name}: {text}");

        std::fs::remove_file(&csv).unwrap();
        assert_eq!(paths.run(&entries, exec_start), 1, "{name}: a failed night");
        paths.run(&entries, stop_post);
        let text = std::fs::read_to_string(&prom).unwrap();
        assert!(
            text.contains("\nroster_healthy 0\n"),
            "{name}: the metrics after a failed night: {text}"
        );
        let mode = std::fs::metadata(&prom).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{name}: {} has mode {mode:o}", prom.display());
        let left: Vec<String> = std::fs::read_dir(paths.dir("textfile"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), 1, "{name}: files left in the folder: {left:?}");
    }
}

/// `systemd-analyze verify` reads the unit files offline (no running systemd needed). The
/// binary they name is the built one here; .ci/deb verifies the installed units as they are.
#[test]
fn systemd_analyze_verifies_the_units() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("systemd-analyze is not installed (apt package systemd): not verified");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut copies = Vec::new();
    for path in unit_files("service").into_iter().chain(unit_files("timer")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let copy = dir.path().join(path.file_name().unwrap());
        std::fs::write(&copy, text.replace(BINARY, env!("CARGO_BIN_EXE_roster"))).unwrap();
        copies.push(copy);
    }
    assert_eq!(copies.len(), 4, "{copies:?}");
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&copies)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify: {stderr}"
    );
}

#[test]
fn the_readme_names_the_same_textfile_folder() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(readme.contains(TEXTFILE));
}

/// cron has no ExecStopPost: the metrics follow the night after `;`, not `&&`, so that a
/// failed night refreshes them too.
#[test]
fn the_crontab_refreshes_the_metrics_whatever_the_exit_code() {
    let text = std::fs::read_to_string(examples().join("crontab")).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains(" sync"))
        .expect("a sync line");
    let (_, after) = line
        .split_once(" sync;")
        .expect("the metrics after `sync;`");
    assert!(after.contains("status --format prometheus"), "{line}");
    assert!(
        after.contains(TEXTFILE) && after.contains("mv -f"),
        "{line}"
    );
}

fn debian() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("debian")
}

/// dpkg runs the maintainer scripts with /bin/sh: each one must at least parse as sh. cargo-deb
/// replaces every `#DEBHELPER#` in them, a comment's too, with debhelper's snippets: the token
/// stands once, on a line of its own.
#[test]
fn the_maintainer_scripts_parse_as_sh() {
    for name in ["prerm", "postinst", "postrm"] {
        let path = debian().join(name);
        assert!(path.is_file(), "{} is missing", path.display());
        let text = std::fs::read_to_string(&path).unwrap();
        let tokens: Vec<&str> = text.lines().filter(|l| l.contains("#DEBHELPER#")).collect();
        assert_eq!(tokens, ["#DEBHELPER#"], "{name}");
        let out = Command::new("sh").arg("-n").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "sh -n {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// debhelper's snippets stop the units the package ships, not the instances of its templates
/// that an operator enabled (roster-sync@acme.timer): removal must stop and disable those too,
/// or each would fire every night with the binary gone. The script runs here with DPKG_ROOT
/// on a folder of enablement links, without systemd (as in a container): it must not fail.
#[test]
fn removal_stops_and_disables_every_instance_of_the_templates() {
    let prerm = std::fs::read_to_string(debian().join("prerm")).unwrap_or_default();
    assert!(
        prerm.contains("deb-systemd-invoke stop") && prerm.contains("roster-sync@"),
        "prerm stops no roster-sync@ instance:\n{prerm}"
    );
    let root = tempfile::tempdir().unwrap();
    let wants = root.path().join("etc/systemd/system/timers.target.wants");
    std::fs::create_dir_all(&wants).unwrap();
    let links = [
        (
            "roster-sync@acme.timer",
            "/usr/lib/systemd/system/roster-sync@.timer",
        ),
        (
            "roster-sync@globex.timer",
            "/usr/lib/systemd/system/roster-sync@.timer",
        ),
        (
            "roster-sync.timer",
            "/usr/lib/systemd/system/roster-sync.timer",
        ),
        ("other.timer", "/usr/lib/systemd/system/other.timer"),
    ];
    for (name, target) in links {
        std::os::unix::fs::symlink(target, wants.join(name)).unwrap();
    }
    let left = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&wants)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let run = |args: &[&str]| {
        let out = Command::new("sh")
            .arg(debian().join("prerm"))
            .args(args)
            .env("DPKG_ROOT", root.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "prerm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["upgrade", "0.1.0"]);
    assert_eq!(left().len(), 4, "an upgrade leaves the timers alone");
    run(&["remove"]);
    assert_eq!(
        left(),
        ["other.timer", "roster-sync.timer"],
        "the single-organisation timer is debhelper's (masked by postrm), not prerm's"
    );
}

//! The push benchmark (SPEC §8): a first `roster push` of 100,000 generated users and 10
//! groups to scim2-server on loopback, then the push right after (nothing to send). It reports
//! the requests made, the wall time, roster's CPU and peak memory (`/usr/bin/time`) and the
//! provider's CPU (from `/proc`), and prints each bulk as it is answered, so that a run cut
//! short still says how far it went. `cargo bench --bench push` (`-- --users N` for another
//! size). Needs scim2-server (`bash .ci/run` installs it) and Linux's `/proc`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-token-0d5e";
const FIRST: &[&str] = &[
    "Åsa", "Anna", "Björn", "Erik", "Maja", "Jörgen", "Päivi", "Øystein", "Sølvi", "Lars",
    "Ingrid", "Kári", "Märta", "Sigrún", "Ævar", "Henrik",
];
const LAST: &[&str] = &[
    "Öberg",
    "Lund",
    "Hämäläinen",
    "Ærø",
    "Berg",
    "Ek",
    "Sæther",
    "Jønsson",
    "Björk",
    "Nyström",
];
const TITLES: &[&str] = &[
    "Nurse",
    "Doctor",
    "Midwife",
    "Head nurse",
    "Surgeon",
    "Porter",
    "",
];
const GROUPS: &[&str] = &[
    "ICU", "NIGHT", "ER", "LAB", "PED", "ORTHO", "ONC", "CARD", "RAD", "ADMIN",
];

/// `n` users with Unicode names and addresses, a phone each (a second for one in five), a
/// title for most, and two of the ten groups each (about a fifth of the users in each group).
fn generate(path: &Path, n: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        out,
        "UniqueID,Name,Mail,Title,TelephoneNumber,SecondaryTelephoneNumber,Groups"
    )
    .unwrap();
    for i in 0..n {
        let (first, last) = (FIRST[i % FIRST.len()], LAST[(i / 7) % LAST.len()]);
        let mail = format!("{first}.{last}.{i}@example.org").to_lowercase();
        let phone2 = if i % 5 == 0 {
            format!("+4676{:07}", (i * 13) % 10_000_000)
        } else {
            String::new()
        };
        let (g1, g2) = (GROUPS[i % 10], GROUPS[(i / 10 + 1 + i % 9) % 10]);
        let groups = if g1 == g2 {
            g1.to_string()
        } else {
            format!("{g1},{g2}")
        };
        writeln!(
            out,
            "P{i:07},{first} {last},{mail},{},+4670{:07},{phone2},\"{groups}\"",
            TITLES[i % TITLES.len()],
            i % 10_000_000
        )
        .unwrap();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// CPU seconds (user + system) a process has used so far, from `/proc/PID/stat`.
fn cpu_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are the 14th and 15th fields of stat, the 12th and 13th after ')'.
    // In clock ticks, which Linux reports to user space at 100 a second (USER_HZ).
    (ticks(11) + ticks(12)) / 100.0
}

fn start_server(dir: &Path) -> (Child, u16) {
    let port = free_port();
    let log = std::fs::File::create(dir.join("scim2-server.log")).unwrap();
    let mut child = Command::new("scim2-server")
        .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
        .args(["--bearer-token", TOKEN])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start scim2-server (bash .ci/run installs it)");
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "scim2-server did not start");
        assert!(child.try_wait().unwrap().is_none(), "scim2-server exited");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

/// What one run of roster took.
struct Measured {
    wall: f64,
    user: f64,
    sys: f64,
    peak_kib: u64,
    server_cpu: f64,
    out: serde_json::Value,
}

/// Run roster under `/usr/bin/time`, printing each bulk request as `-vv` logs it.
fn roster(dir: &Path, args: &[&str], server: u32, started: Instant) -> Measured {
    let times = dir.join("time.txt");
    let cpu_before = cpu_of(server);
    let t = Instant::now();
    let mut child = Command::new("/usr/bin/time")
        .args(["-f", "%M %U %S", "-o"])
        .arg(&times)
        .arg(env!("CARGO_BIN_EXE_roster"))
        .args(["--config", "roster.toml", "--store", "roster.db"])
        .args(args)
        .current_dir(dir)
        .env_remove("ROSTER_CONFIG")
        .env_remove("ROSTER_STORE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let logger = std::thread::spawn(move || {
        let mut bulks = 0;
        let mut tail = Vec::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if line.contains("scim: POST /Bulk") {
                bulks += 1;
                println!(
                    "  [{:>7.1} s] bulk {bulks}: {} (provider CPU so far {:.1} s)",
                    started.elapsed().as_secs_f64(),
                    line.trim_start_matches("roster: "),
                    cpu_of(server)
                );
                std::io::stdout().flush().ok();
            } else if line.contains("push:") {
                println!("  {line}");
            }
            tail.push(line);
            if tail.len() > 20 {
                tail.remove(0);
            }
        }
        tail
    });
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    let status = child.wait().unwrap();
    let wall = t.elapsed().as_secs_f64();
    let tail = logger.join().unwrap();
    assert!(
        status.success(),
        "roster {args:?}: {status}\n{}",
        tail.join("\n")
    );
    let time = std::fs::read_to_string(&times).unwrap();
    let last: Vec<&str> = time.lines().last().unwrap_or("").split(' ').collect();
    Measured {
        wall,
        peak_kib: last[0].parse().unwrap_or(0),
        user: last[1].parse().unwrap_or(0.0),
        sys: last[2].parse().unwrap_or(0.0),
        server_cpu: cpu_of(server) - cpu_before,
        out: serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null),
    }
}

fn plain(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["-q", "--config", "roster.toml", "--store", "roster.db"])
        .args(args)
        .current_dir(dir)
        .env_remove("ROSTER_CONFIG")
        .env_remove("ROSTER_STORE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "roster {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let users = args
        .iter()
        .position(|a| a == "--users")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse::<usize>().expect("--users N"))
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let started = Instant::now();
    println!("push benchmark: {users} users, {} groups", GROUPS.len());
    generate(&d.join("users.csv"), users);
    let (mut server, port) = start_server(d);
    std::fs::write(d.join("scim.token"), TOKEN).unwrap();
    std::fs::write(
        d.join("roster.toml"),
        format!(
            "[scim]\nurl = \"http://127.0.0.1:{port}/v2\"\ntls = \"none\"\ntoken_file = \"scim.token\"\n\
             timeout_secs = 600\nretries = 3\n"
        ),
    )
    .unwrap();
    for g in GROUPS {
        plain(d, &["groups", "add", g, "--name", &format!("Ward {g}")]);
    }
    plain(d, &["fetch", "--source", "users.csv"]);
    plain(d, &["apply"]);
    println!(
        "  imported {users} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let pid = server.id();
    let dry = roster(d, &["--format", "json", "push", "--dry-run"], pid, started);
    let first = roster(d, &["-vv", "--format", "json", "push"], pid, started);
    let second = roster(d, &["-vv", "--format", "json", "push"], pid, started);
    let _ = server.kill();
    let _ = server.wait();

    println!();
    println!(
        "| push of {users} users, {} groups | requests (bulk) | wall | roster CPU (user+sys) | roster peak memory | provider CPU |",
        GROUPS.len()
    );
    println!("|---|---|---|---|---|---|");
    for (what, m) in [
        ("`push --dry-run`", &dry),
        ("first push", &first),
        ("push right after (nothing to send)", &second),
    ] {
        println!(
            "| {what} | {} ({}) | {:.1} s | {:.1} s ({:.1} + {:.1}) | {} MB | {:.1} s |",
            m.out["requests"],
            m.out["bulk_requests"],
            m.wall,
            m.user + m.sys,
            m.user,
            m.sys,
            m.peak_kib / 1024,
            m.server_cpu
        );
    }
    println!(
        "first push: users {}, groups {}",
        first.out["users"], first.out["groups"]
    );
}

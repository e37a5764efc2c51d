//! Real servers on loopback for the tests that need them: OpenSSH's sshd (with a fault-injecting
//! TCP proxy in front when a test wants one) and an aiosmtpd sink.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A loopback port on which nothing listens, for the rest of this test process: it is bound by a
/// socket that never listens (so a connection is refused at once) and never closed (so no server
/// started by another test can take it). For tests of a server that is down; never start a server
/// on it: servers pick their own port (see [`Smtp::start`], [`Sshd::start`], [`Scim::start`]).
pub fn free_port() -> u16 {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let port = socket.local_addr().unwrap().as_socket().unwrap().port();
    // Deliberately never closed: the port stays taken (and refusing) until the process ends.
    std::mem::forget(socket);
    port
}

/// A port that was free a moment ago, for a server that cannot be told to pick its own: the
/// caller must start the server on it and retry with another when the bind fails (see
/// [`start_on_some_port`]).
fn candidate_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start a server that listens on a port it is given, robustly under parallel tests: `launch`
/// spawns it on a candidate port with its output going to the returned log; it is up when
/// `ready` finds its own "listening" line in that log (so a port that another test's server took
/// in the meantime is never mistaken for ours); when it exits first (the bind failed), it is
/// started again on another port.
fn start_on_some_port(
    what: &str,
    mut launch: impl FnMut(u16) -> (Child, PathBuf),
    ready: impl Fn(&str) -> bool,
) -> (Child, u16, PathBuf) {
    let mut failures = Vec::new();
    for _ in 0..10 {
        let port = candidate_port();
        let (mut child, log) = launch(port);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if ready(&text) {
                return (child, port, log);
            }
            if let Ok(Some(status)) = child.try_wait() {
                failures.push(format!("port {port}: exited with {status}: {text}"));
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what} on port {port} did not start: {text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("{what} did not start: {}", failures.join("\n"));
}

/// The password test user; created once (the tests run as root in CI).
pub const SFTP_USER: &str = "roster-sftp-test";
pub const SFTP_PASSWORD: &str = "correct horse battery staple";

fn ensure_password_user() {
    static ONCE: Mutex<bool> = Mutex::new(false);
    let mut done = ONCE.lock().unwrap();
    if *done {
        return;
    }
    let exists = Command::new("id")
        .arg(SFTP_USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    if !exists {
        let ok = Command::new("useradd")
            .args(["--no-create-home", "--shell", "/bin/sh", SFTP_USER])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "cannot create the test user {SFTP_USER}: the SFTP password tests need root (CI runs as root)");
    }
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    chpasswd
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{SFTP_USER}:{SFTP_PASSWORD}\n").as_bytes())
        .unwrap();
    assert!(chpasswd.wait().unwrap().success(), "chpasswd failed");
    *done = true;
}

pub struct Sshd {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    /// A known_hosts line for this server.
    pub known_host: String,
    /// A private key whose public half is authorised.
    pub client_key: PathBuf,
    pub user: String,
}

impl Sshd {
    pub fn start(dir: &Path) -> Sshd {
        ensure_password_user();
        let dir = dir.join("sshd");
        std::fs::create_dir_all(&dir).unwrap();
        let keygen = |file: &Path| {
            let ok = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(file)
                .status()
                .unwrap();
            assert!(ok.success());
        };
        keygen(&dir.join("host_key"));
        keygen(&dir.join("client_key"));
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
        std::fs::create_dir_all("/run/sshd").ok();
        let sshd_dir = dir.clone();
        let launch = |port: u16| {
            let config = format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\nPasswordAuthentication yes\n\
                 KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n\
                 LogLevel INFO\nMaxStartups 100\n",
                d = sshd_dir.display()
            );
            std::fs::write(sshd_dir.join("sshd_config"), config).unwrap();
            let log = sshd_dir.join(format!("sshd-{port}.log"));
            let child = Command::new("/usr/sbin/sshd")
                .args(["-D", "-e", "-f"])
                .arg(sshd_dir.join("sshd_config"))
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("start /usr/sbin/sshd (bash .ci/run installs openssh-server)");
            (child, log)
        };
        // LogLevel INFO: sshd says "Server listening on 127.0.0.1 port N." once it is bound.
        let (child, port, _log) =
            start_on_some_port("sshd", launch, |log| log.contains("Server listening on"));
        let pubkey = std::fs::read_to_string(dir.join("host_key.pub")).unwrap();
        let mut parts = pubkey.split_whitespace();
        let known_host = format!(
            "[127.0.0.1]:{port} {} {}",
            parts.next().unwrap(),
            parts.next().unwrap()
        );
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
        Sshd {
            child,
            port,
            client_key: dir.join("client_key"),
            dir,
            known_host,
            user,
        }
    }

    /// The host key's fingerprint as OpenSSH prints it.
    pub fn fingerprint(&self) -> String {
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(self.dir.join("host_key.pub"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the proxy does to the first connection (later ones pass untouched).
#[derive(Clone)]
#[allow(clippy::enum_variant_names)]
pub enum Fault {
    /// Close both directions after this many bytes from the server.
    DropAfter(usize),
    /// Stop forwarding after this many bytes from the server, until the client gives up.
    StallAfter(usize),
    /// Run the hook once after this many bytes from the server, then go on forwarding.
    HookAfter(usize, Arc<dyn Fn() + Send + Sync>),
}

/// A TCP proxy on loopback in front of a server, injecting one fault.
pub struct Proxy {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
}

impl Proxy {
    pub fn start(target: u16, fault: Fault) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let n = count.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let fault = if n == 0 { Some(fault.clone()) } else { None };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pipe(c2, s2, None));
                std::thread::spawn(move || pipe(server, client, fault));
            }
        });
        Proxy { port, connections }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, fault: Option<Fault>) {
    let mut buf = [0u8; 8192];
    let mut total = 0usize;
    let mut hooked = false;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        total += n;
        match &fault {
            Some(Fault::DropAfter(limit)) if total > *limit => break,
            Some(Fault::StallAfter(limit)) if total > *limit => {
                // Hold the connection open without forwarding until the client closes it.
                let _ = from.set_read_timeout(None);
                while matches!(to.read(&mut buf), Ok(n) if n > 0) {}
                break;
            }
            Some(Fault::HookAfter(limit, hook)) if total > *limit && !hooked => {
                hooked = true;
                hook();
            }
            _ => {}
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// An aiosmtpd sink on loopback; messages land in `dir` as NNNN.eml + NNNN.json.
pub struct Smtp {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    /// Kept open so the sink's stdout stays a live pipe.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
}

/// TLS material for a STARTTLS sink: a self-signed certificate for localhost.
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn make_cert(dir: &Path) -> TlsFiles {
    let (cert, key) = (dir.join("smtp-cert.pem"), dir.join("smtp-key.pem"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "openssl req failed");
    TlsFiles { cert, key }
}

impl Smtp {
    /// An aiosmtpd sink on a loopback port of its own choosing (`port` tells which).
    pub fn start(dir: &Path, tls: Option<(&TlsFiles, &str, &str)>) -> Smtp {
        Smtp::start_dropping(dir, tls, 0)
    }

    /// A sink that hangs up after `drop_every` messages on one connection (0: never).
    pub fn start_dropping(
        dir: &Path,
        tls: Option<(&TlsFiles, &str, &str)>,
        drop_every: u32,
    ) -> Smtp {
        Smtp::launch(dir, tls, drop_every, false)
    }

    /// A sink for volume tests: it keeps only each message's recipients and Message-ID (see
    /// [`Smtp::index`]), not the message; `messages()` is then empty.
    pub fn start_indexing(dir: &Path, drop_every: u32) -> Smtp {
        Smtp::launch(dir, None, drop_every, true)
    }

    fn launch(
        dir: &Path,
        tls: Option<(&TlsFiles, &str, &str)>,
        drop_every: u32,
        index: bool,
    ) -> Smtp {
        use std::io::BufRead;
        static SINKS: AtomicUsize = AtomicUsize::new(0);
        let n = SINKS.fetch_add(1, Ordering::SeqCst);
        let out = dir.join(format!("mail-{n}"));
        std::fs::create_dir_all(&out).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut cmd = Command::new("python3");
        // Port 0: the sink binds a free port itself and prints it, so no other test can take it.
        cmd.arg(script).arg("0").arg(&out);
        cmd.env("SMTP_SINK_DROP_EVERY", drop_every.to_string());
        if index {
            cmd.env("SMTP_SINK_INDEX", "1");
        }
        if let Some((files, user, password)) = tls {
            cmd.arg(&files.cert).arg(&files.key).arg(user).arg(password);
        }
        let log = dir.join(format!("smtp-{n}.log"));
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start python3 (bash .ci/run installs aiosmtpd)");
        // The sink prints "ready PORT" once it accepts connections (or exits on failure).
        let mut line = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let _ = stdout.read_line(&mut line);
        let Some(port) = line
            .strip_prefix("ready ")
            .and_then(|p| p.trim().parse::<u16>().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the SMTP sink did not start ({line:?}): {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        Smtp {
            child,
            port,
            dir: out,
            _stdout: stdout,
        }
    }

    /// The connections clients opened so far.
    pub fn connections(&self) -> usize {
        std::fs::read_to_string(self.dir.join("connections"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    /// (envelope recipients, Message-ID) of each message an indexing sink received so far.
    /// A line the sink is still writing (no newline yet: a write that crosses a page may be
    /// seen half done) is not one yet.
    pub fn index(&self) -> Vec<(Vec<String>, Option<String>)> {
        let text = std::fs::read_to_string(self.dir.join("index")).unwrap_or_default();
        text.split_inclusive('\n')
            .filter(|line| line.ends_with('\n'))
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let to = v["to"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_string())
                    .collect();
                (to, v["id"].as_str().map(str::to_string))
            })
            .collect()
    }

    /// The envelope recipients of every message received so far (without reading the messages).
    pub fn recipients(&self) -> Vec<String> {
        let mut out: Vec<String> = self.index().into_iter().flat_map(|(to, _)| to).collect();
        for entry in std::fs::read_dir(&self.dir).unwrap().filter_map(|e| e.ok()) {
            let p = entry.path();
            if p.extension().is_some_and(|x| x == "json") {
                let env: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                for to in env["to"].as_array().unwrap() {
                    out.push(to.as_str().unwrap().to_string());
                }
            }
        }
        out
    }

    /// The messages received so far: (envelope recipients, raw message).
    pub fn messages(&self) -> Vec<(Vec<String>, String)> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let env: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(p.with_extension("json")).unwrap(),
                )
                .unwrap();
                let to = env["to"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect();
                (to, std::fs::read_to_string(&p).unwrap())
            })
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// scim2-server (PyPI) on loopback: a real SCIM 2.0 provider held in memory.
pub struct Scim {
    child: Child,
    pub port: u16,
    pub token: String,
    log: PathBuf,
}

impl Scim {
    /// Start it with a bearer token, and optionally a ServiceProviderConfig file.
    pub fn start(dir: &Path, token: &str, spc: Option<&Path>) -> Scim {
        let launch = |port: u16| {
            let log = dir.join(format!("scim-{port}.log"));
            let out = std::fs::File::create(&log).unwrap();
            let mut cmd = Command::new("scim2-server");
            cmd.args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
                .args(["--bearer-token", token]);
            if let Some(spc) = spc {
                cmd.arg("--service-provider-config").arg(spc);
            }
            let child = cmd
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .expect("start scim2-server (bash .ci/run installs it)");
            (child, log)
        };
        // It prints "Serving SCIM on …" once its socket is bound (a failed bind exits).
        let (child, port, log) = start_on_some_port("scim2-server", launch, |log| {
            log.contains("Serving SCIM on")
        });
        let scim = Scim {
            child,
            port,
            token: token.to_string(),
            log,
        };
        // Ready when it answers SCIM, not only when the port is open.
        let deadline = Instant::now() + Duration::from_secs(20);
        while scim.try_get("/ServiceProviderConfig").is_none() {
            assert!(Instant::now() < deadline, "scim2-server did not answer");
            std::thread::sleep(Duration::from_millis(20));
        }
        scim
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    fn try_get(&self, path: &str) -> Option<serde_json::Value> {
        let mut resp = Self::agent()
            .get(format!("{}{path}", self.url()))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
            .ok()?;
        if resp.status() != 200 {
            return None;
        }
        serde_json::from_slice(&resp.body_mut().read_to_vec().ok()?).ok()
    }

    /// GET a path of the server's own API.
    pub fn get(&self, path: &str) -> serde_json::Value {
        self.try_get(path)
            .unwrap_or_else(|| panic!("GET {path} failed: {}", self.log()))
    }

    /// Send a request with a JSON body to the server's own API; the status.
    pub fn send(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> u16 {
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url()))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", "application/scim+json");
        let resp = match body {
            Some(b) => Self::agent().run(req.body(b.to_string()).unwrap()),
            None => Self::agent().run(req.body(()).unwrap()),
        };
        resp.unwrap().status().as_u16()
    }

    /// Every resource under /Users or /Groups, by externalId.
    pub fn all(&self, what: &str) -> std::collections::BTreeMap<String, serde_json::Value> {
        let mut out = std::collections::BTreeMap::new();
        let mut start = 1;
        loop {
            let page = self.get(&format!("/{what}?startIndex={start}&count=1000"));
            let items = page["Resources"].as_array().cloned().unwrap_or_default();
            for r in &items {
                let key = r["externalId"].as_str().unwrap_or("").to_string();
                assert!(
                    out.insert(key.clone(), r.clone()).is_none(),
                    "two {what} with externalId {key}"
                );
            }
            start += items.len();
            if items.is_empty() || start as u64 > page["totalResults"].as_u64().unwrap() {
                break;
            }
        }
        out
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Scim {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP proxy that passes the first `pass` connections, then on the next one forwards the
/// request but loses the answer, then refuses every later one: a provider that stops midway.
pub struct Gate {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
}

impl Gate {
    pub fn start(target: u16, pass: usize) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let n = count.fetch_add(1, Ordering::SeqCst);
                if n > pass {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pipe(c2, s2, None));
                if n < pass {
                    std::thread::spawn(move || pipe(server, client, None));
                } else {
                    // The server gets the whole request and answers; the client never hears.
                    std::thread::spawn(move || {
                        let mut server = server;
                        let mut sink = Vec::new();
                        let _ = server.read_to_end(&mut sink);
                        let _ = client.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Gate { port, connections }
    }
}

/// A TCP proxy that answers the first `busy` connections itself with `answer` (a whole HTTP
/// response, e.g. a 429 with Retry-After), then forwards every later one.
pub struct Busy {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
}

impl Busy {
    pub fn start(target: u16, busy: usize, answer: &'static str) -> Busy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { break };
                let n = count.fetch_add(1, Ordering::SeqCst);
                if n < busy {
                    let mut buf = [0u8; 65536];
                    let _ = client.read(&mut buf);
                    let _ = client.write_all(answer.as_bytes());
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pipe(c2, s2, None));
                std::thread::spawn(move || pipe(server, client, None));
            }
        });
        Busy { port, connections }
    }
}

/// A TCP proxy that forwards every connection, except that on connection `at` it forwards the
/// request, lets the provider answer in full, and then holds the client without the answer:
/// `answered` turns true, and the client hangs until it is killed (a crash mid-request).
pub struct Hold {
    pub port: u16,
    pub answered: Arc<std::sync::atomic::AtomicBool>,
}

impl Hold {
    pub fn start(target: u16, at: usize) -> Hold {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let answered = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = answered.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for (n, client) in listener.incoming().enumerate() {
                let Ok(client) = client else { break };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pipe(c2, s2, None));
                if n != at {
                    std::thread::spawn(move || pipe(server, client, None));
                    continue;
                }
                let mut server = server;
                let mut sink = Vec::new();
                let _ = server.read_to_end(&mut sink);
                flag.store(true, Ordering::SeqCst);
                held.push(client);
            }
        });
        Hold { port, answered }
    }

    /// Wait (bounded) until the provider has answered the held request.
    pub fn wait_answered(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !self.answered.load(Ordering::SeqCst) {
            assert!(
                Instant::now() < deadline,
                "the held request was never answered"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A TCP proxy that answers the first `times` requests whose method is `method` itself with
/// `answer` (a whole HTTP response), and forwards every other request to the provider.
pub struct Refuse {
    pub port: u16,
    pub refused: Arc<AtomicUsize>,
}

impl Refuse {
    pub fn start(target: u16, method: &'static str, times: usize, answer: String) -> Refuse {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let refused = Arc::new(AtomicUsize::new(0));
        let count = refused.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { break };
                // The request line comes first: read until the method is known.
                let mut head = Vec::new();
                let mut buf = [0u8; 8192];
                while !head.contains(&b' ') && head.len() < 64 {
                    match client.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let prefix = format!("{method} ");
                if head.starts_with(prefix.as_bytes()) && count.load(Ordering::SeqCst) < times {
                    count.fetch_add(1, Ordering::SeqCst);
                    // Read the whole request (its head, then Content-Length bytes), then answer.
                    let end = loop {
                        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                            break Some(i + 4);
                        }
                        match client.read(&mut buf) {
                            Ok(0) | Err(_) => break None,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    };
                    let Some(end) = end else { continue };
                    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
                    let length: usize = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    let mut have = head.len() - end;
                    while have < length {
                        match client.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => have += n,
                        }
                    }
                    let _ = client.write_all(answer.as_bytes());
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                if server.write_all(&head).is_err() {
                    continue;
                }
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pipe(c2, s2, None));
                std::thread::spawn(move || pipe(server, client, None));
            }
        });
        Refuse { port, refused }
    }
}

/// One HTTP request as [`Tamper`] received it; its rule may change the path or the body
/// before it goes to the provider.
pub struct Seen {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What [`Tamper`] does with one request.
pub enum Act {
    /// Forward it and pass the answer back.
    Pass,
    /// Forward it, let the provider answer, and pass the answer back only after this long
    /// (past the client's timeout: the answer is lost, the change was made).
    Delay(Duration),
    /// Answer it without the provider: a status and a body.
    Answer(u16, Arc<Vec<u8>>),
    /// Answer it without the provider: this status, an empty body and `Retry-After: secs`.
    Busy(u16, u64),
    /// Forward it and replace the answer by what this makes of its status and JSON body.
    Edit(Box<dyn FnOnce(u16, serde_json::Value) -> (u16, serde_json::Value) + Send>),
}

/// An HTTP proxy on loopback in front of a SCIM provider (or standing in for one, when its
/// rule answers everything itself): one request a connection, each seen by `rule`, which may
/// edit it and says what to do with it. `log` holds each request's `METHOD path`.
pub struct Tamper {
    pub port: u16,
    pub log: Arc<Mutex<Vec<String>>>,
}

type Rule = dyn Fn(&mut Seen) -> Act + Send + Sync;

impl Tamper {
    pub fn start(target: u16, rule: impl Fn(&mut Seen) -> Act + Send + Sync + 'static) -> Tamper {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = log.clone();
        let rule: Arc<Rule> = Arc::new(rule);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let (rule, seen) = (rule.clone(), seen.clone());
                std::thread::spawn(move || tamper_one(client, target, &*rule, &seen));
            }
        });
        Tamper { port, log }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests seen so far whose `METHOD path` starts with one of these.
    pub fn count(&self, prefixes: &[&str]) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| prefixes.iter().any(|p| l.starts_with(p)))
            .count()
    }

    /// The writes seen so far (POST, PUT, PATCH, DELETE).
    pub fn writes(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| !l.starts_with("GET "))
            .cloned()
            .collect()
    }
}

/// Read one HTTP message's head and (Content-Length) body from a stream.
fn read_message(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 65536];
    let end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..end]).into_owned();
    let length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())
            .flatten()
    });
    let mut body = data[end..].to_vec();
    match length {
        Some(n) => {
            while body.len() < n {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => body.extend_from_slice(&buf[..k]),
                }
            }
        }
        None if head.starts_with("HTTP/") => {
            let _ = stream.read_to_end(&mut body);
        }
        None => {}
    }
    Some((head, body))
}

fn respond(client: &mut TcpStream, status: u16, headers: &[String], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status} X\r\nContent-Type: application/scim+json\r\n");
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let _ = client.write_all(head.as_bytes());
    let _ = client.write_all(body);
    let _ = client.flush();
    let _ = client.shutdown(Shutdown::Both);
}

fn tamper_one(mut client: TcpStream, target: u16, rule: &Rule, log: &Mutex<Vec<String>>) {
    let Some((head, body)) = read_message(&mut client) else {
        return;
    };
    let mut first = head.lines().next().unwrap_or("").split(' ');
    let mut seen = Seen {
        method: first.next().unwrap_or("").to_string(),
        path: first.next().unwrap_or("").to_string(),
        body,
    };
    log.lock()
        .unwrap()
        .push(format!("{} {}", seen.method, seen.path));
    let act = rule(&mut seen);
    if let Act::Answer(status, body) = &act {
        respond(&mut client, *status, &[], body);
        return;
    }
    if let Act::Busy(status, secs) = &act {
        respond(&mut client, *status, &[format!("Retry-After: {secs}")], b"");
        return;
    }
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)) else {
        return;
    };
    let mut request = format!("{} {} HTTP/1.1\r\n", seen.method, seen.path);
    for line in head.lines().skip(1) {
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if line.is_empty() || name == "content-length" || name == "connection" {
            continue;
        }
        request.push_str(line);
        request.push_str("\r\n");
    }
    request.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        seen.body.len()
    ));
    let _ = server.write_all(request.as_bytes());
    let _ = server.write_all(&seen.body);
    let Some((answer_head, answer)) = read_message(&mut server) else {
        return;
    };
    let status: u16 = answer_head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let headers: Vec<String> = answer_head
        .lines()
        .skip(1)
        .filter(|l| {
            let n = l
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            !l.is_empty() && !matches!(n.as_str(), "content-length" | "connection" | "content-type")
        })
        .map(str::to_string)
        .collect();
    match act {
        Act::Pass | Act::Answer(..) | Act::Busy(..) => {
            respond(&mut client, status, &headers, &answer)
        }
        Act::Delay(d) => {
            std::thread::sleep(d);
            respond(&mut client, status, &headers, &answer);
        }
        Act::Edit(edit) => {
            let value = serde_json::from_slice(&answer).unwrap_or(serde_json::Value::Null);
            let (status, value) = edit(status, value);
            let body = if value.is_null() {
                Vec::new()
            } else {
                value.to_string().into_bytes()
            };
            respond(&mut client, status, &headers, &body);
        }
    }
}

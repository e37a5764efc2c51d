//! Three independent SCIM 2.0 providers on loopback, each started and stopped by the test that
//! uses it, behind one [`Provider`]: scim2-server (PyPI), django-scim2 (PyPI) in the minimal
//! Django project of `tests/support/django_scim/`, and SCIMMY with scimmy-routers (npm) on
//! Express 4 in `tests/support/scimmy/` (also with Express 5's broken paging). roster talks to
//! each through a counting proxy, so a test can see every request roster sent; the test itself
//! reads and changes the provider directly, through the provider's own HTTP API.

use super::servers::Scim;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// scim2-server: keeps every attribute; Bulk, filter, ETags, PATCH.
    Scim2Server,
    /// django-scim2 with its default adapters: no Bulk, no filter on `externalId`, PATCH
    /// add/remove of group members only, drops `title` and `phoneNumbers`, derives
    /// `displayName` from `name.givenName`/`familyName` (else the `userName`), ignores `members`
    /// on POST and PUT.
    DjangoScim2,
    /// SCIMMY + scimmy-routers on Express 4: Bulk, filter, PATCH, keeps what it is sent.
    Scimmy,
    /// SCIMMY + scimmy-routers as on Express 5: every listing is the first 20 resources with
    /// `startIndex` 1, whatever `startIndex` and `count` asked for.
    ScimmyExpress5Paging,
}

impl Kind {
    /// The providers every scenario runs against.
    pub const ALL: [Kind; 3] = [Kind::Scim2Server, Kind::DjangoScim2, Kind::Scimmy];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Scim2Server => "scim2-server",
            Kind::DjangoScim2 => "django-scim2",
            Kind::Scimmy => "SCIMMY",
            Kind::ScimmyExpress5Paging => "SCIMMY (Express 5 paging)",
        }
    }
}

enum Process {
    /// scim2-server, through the existing harness.
    Scim(Scim),
    /// A child that printed "Serving SCIM on http://127.0.0.1:PORT…".
    Child(Child),
}

/// A running provider and the counting proxy in front of it.
pub struct Provider {
    pub kind: Kind,
    process: Process,
    /// The provider's own SCIM base URL (no trailing slash).
    direct: String,
    /// The path part of the base, e.g. `/scim/v2` (empty for scim2-server).
    prefix: String,
    pub token: String,
    log: PathBuf,
    proxy: Counter,
    /// How long it took from spawning to answering SCIM.
    pub startup: Duration,
}

fn support_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

/// Spawn `cmd` with its output in `log`, and wait for its "Serving SCIM on URL" line: the URL.
fn spawn_serving(what: &str, mut cmd: Command, log: &Path) -> (Child, String) {
    let out = std::fs::File::create(log).unwrap();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("start {what} (bash .ci/run installs it): {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.starts_with("Serving SCIM on ")) {
            let url = line
                .trim_start_matches("Serving SCIM on ")
                .trim()
                .to_string();
            return (child, url);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited with {status} before serving:\n{text}");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not start in 60 s:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Provider {
    /// Start a provider of this kind, empty, with this bearer token; files go under `dir`.
    pub fn start(kind: Kind, dir: &Path, token: &str) -> Provider {
        let began = Instant::now();
        let log = dir.join(format!("provider-{}.log", kind.name().replace(' ', "-")));
        let (process, direct) = match kind {
            Kind::Scim2Server => {
                let scim = Scim::start(dir, token, None);
                let url = scim.url();
                (Process::Scim(scim), url)
            }
            Kind::DjangoScim2 => {
                let mut cmd = Command::new("python3");
                cmd.arg(support_dir("django_scim").join("serve.py"))
                    .arg("0")
                    .arg(token)
                    .arg(dir.join("django-scim.sqlite3"));
                let (child, url) = spawn_serving("django-scim2", cmd, &log);
                (Process::Child(child), url)
            }
            Kind::Scimmy | Kind::ScimmyExpress5Paging => {
                let here = support_dir("scimmy");
                assert!(
                    here.join("node_modules/scimmy-routers").is_dir(),
                    "SCIMMY is not installed: bash .ci/run (or npm ci in {})",
                    here.display()
                );
                let mut cmd = Command::new("node");
                cmd.current_dir(&here).arg("server.js").arg("0").arg(token);
                if kind == Kind::ScimmyExpress5Paging {
                    cmd.arg("--express5-paging");
                }
                let (child, url) = spawn_serving("SCIMMY (node)", cmd, &log);
                (Process::Child(child), url)
            }
        };
        let port: u16 = direct
            .trim_start_matches("http://127.0.0.1:")
            .split('/')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{}: no port in {direct}", kind.name()));
        let prefix = direct
            .trim_start_matches(&format!("http://127.0.0.1:{port}"))
            .to_string();
        let mut provider = Provider {
            kind,
            process,
            direct: direct.clone(),
            prefix,
            token: token.to_string(),
            log,
            proxy: Counter::start(port),
            startup: Duration::ZERO,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while provider.try_get("/ServiceProviderConfig").is_none() {
            assert!(
                Instant::now() < deadline,
                "{} did not answer SCIM: {}",
                kind.name(),
                provider.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        provider.startup = began.elapsed();
        provider
    }

    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// The base URL roster is given: through the counting proxy.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.proxy.port, self.prefix)
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Option<Value>) {
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.direct))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", "application/scim+json");
        let resp = match body {
            Some(b) => Self::agent().run(req.body(b.to_string()).unwrap()),
            None => Self::agent().run(req.body(()).unwrap()),
        };
        let mut resp = resp.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let bytes = resp.body_mut().read_to_vec().unwrap_or_default();
        (status, serde_json::from_slice(&bytes).ok())
    }

    fn try_get(&self, path: &str) -> Option<Value> {
        let req = ureq::http::Request::builder()
            .method("GET")
            .uri(format!("{}{path}", self.direct))
            .header("Authorization", format!("Bearer {}", self.token))
            .body(())
            .unwrap();
        let mut resp = Self::agent().run(req).ok()?;
        if resp.status() != 200 {
            return None;
        }
        serde_json::from_slice(&resp.body_mut().read_to_vec().ok()?).ok()
    }

    /// GET a path of the provider's own API (not counted).
    pub fn get(&self, path: &str) -> Value {
        self.try_get(path)
            .unwrap_or_else(|| panic!("{}: GET {path} failed: {}", self.name(), self.log()))
    }

    /// Send a request to the provider's own API (not counted): the status and the JSON answer.
    pub fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Option<Value>) {
        self.request(method, path, body.as_ref())
    }

    /// Every resource under `/Users` or `/Groups`, by `externalId`, read page by page; a page
    /// that does not start where it was asked to is a broken provider (see [`Kind`]).
    pub fn all(&self, what: &str) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        let mut start = 1;
        loop {
            let page = self.get(&format!("/{what}?startIndex={start}&count=500"));
            assert_eq!(
                page["startIndex"].as_u64(),
                Some(start as u64),
                "{}: a page of {what} that starts elsewhere: {page}",
                self.name()
            );
            let items = page["Resources"].as_array().cloned().unwrap_or_default();
            for r in &items {
                let key = r["externalId"].as_str().unwrap_or("").to_string();
                assert!(
                    out.insert(key.clone(), r.clone()).is_none(),
                    "{}: two {what} with externalId {key:?}",
                    self.name()
                );
            }
            start += items.len();
            if items.is_empty() || start as u64 > page["totalResults"].as_u64().unwrap() {
                break;
            }
        }
        out
    }

    /// How many `/Users` or `/Groups` the provider says it holds.
    pub fn total(&self, what: &str) -> u64 {
        self.get(&format!("/{what}?count=1"))["totalResults"]
            .as_u64()
            .unwrap()
    }

    /// Deactivate a user in the app (a PATCH replace of `active`, which all three apply).
    pub fn deactivate(&self, id: &str) {
        let patch = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": false}],
        });
        let (status, answer) = self.send("PATCH", &format!("/Users/{id}"), Some(patch));
        assert!(
            matches!(status, 200 | 204),
            "{}: {status} {answer:?}",
            self.name()
        );
    }

    /// Take a member out of a group in the app, by PATCH `remove` in the one shape this provider
    /// applies: django-scim2 only a `members` path with a value list (a filter in the path is
    /// 501), scim2-server only a filter in the path (a value is 400); SCIMMY either.
    pub fn remove_member(&self, group: &str, user: &str) {
        let op = if self.kind == Kind::DjangoScim2 {
            serde_json::json!({"op": "remove", "path": "members", "value": [{"value": user}]})
        } else {
            serde_json::json!({"op": "remove", "path": format!("members[value eq \"{user}\"]")})
        };
        let patch = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [op],
        });
        let (status, answer) = self.send("PATCH", &format!("/Groups/{group}"), Some(patch));
        assert!(
            matches!(status, 200 | 204),
            "{}: {status} {answer:?}",
            self.name()
        );
    }

    /// Change a user's `userName` in the app (a PUT of its own representation, changed).
    pub fn rename_user(&self, id: &str, user_name: &str) {
        let mut user = self.get(&format!("/Users/{id}"));
        user["userName"] = Value::from(user_name);
        if let Some(mail) = user
            .get_mut("emails")
            .and_then(|e| e.get_mut(0))
            .and_then(|e| e.get_mut("value"))
        {
            *mail = Value::from(user_name);
        }
        let (status, answer) = self.send("PUT", &format!("/Users/{id}"), Some(user));
        assert!(
            matches!(status, 200 | 204),
            "{}: {status} {answer:?}",
            self.name()
        );
    }

    /// Delete a user in the app.
    pub fn delete_user(&self, id: &str) {
        let (status, answer) = self.send("DELETE", &format!("/Users/{id}"), None);
        assert_eq!(status, 204, "{}: {answer:?}", self.name());
    }

    /// The requests roster has sent so far, as "METHOD /path?query", in order.
    pub fn requests(&self) -> Vec<String> {
        self.proxy.seen.lock().unwrap().clone()
    }

    /// The requests roster sent after the first `since` (from [`Provider::requests`]) that
    /// write: POST, PUT, PATCH, DELETE.
    pub fn writes_since(&self, since: usize) -> Vec<String> {
        self.requests()
            .into_iter()
            .skip(since)
            .filter(|r| {
                ["POST ", "PUT ", "PATCH ", "DELETE "]
                    .iter()
                    .any(|m| r.starts_with(m))
            })
            .collect()
    }

    pub fn log(&self) -> String {
        match &self.process {
            Process::Scim(scim) => scim.log(),
            Process::Child(_) => std::fs::read_to_string(&self.log).unwrap_or_default(),
        }
    }

    pub fn stop(&mut self) {
        match &mut self.process {
            Process::Scim(scim) => scim.stop(),
            Process::Child(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP proxy that forwards everything and notes each HTTP request line that passes (before
/// the provider can answer it, so a request is counted by the time its client has the answer).
struct Counter {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Counter {
    fn start(target: u16) -> Counter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let noted = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let noted = noted.clone();
                std::thread::spawn(move || note_requests(c2, s2, noted));
                std::thread::spawn(move || forward(server, client));
            }
        });
        Counter { port, seen }
    }
}

fn forward(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16384];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Forward a client's bytes, noting the request line of each request on the connection (its
/// body skipped by `Content-Length`; roster never sends a chunked body).
fn note_requests(mut from: TcpStream, mut to: TcpStream, seen: Arc<Mutex<Vec<String>>>) {
    let mut buf = [0u8; 16384];
    let mut pending: Vec<u8> = Vec::new();
    let mut body_left = 0usize;
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        pending.extend_from_slice(&buf[..n]);
        loop {
            if body_left > 0 {
                let k = body_left.min(pending.len());
                pending.drain(..k);
                body_left -= k;
                if body_left > 0 {
                    break;
                }
            }
            let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else {
                break;
            };
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            let line: Vec<&str> = head.lines().next().unwrap_or("").split(' ').collect();
            seen.lock()
                .unwrap()
                .push(format!("{} {}", line[0], line.get(1).unwrap_or(&"")));
            body_left = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            pending.drain(..end + 4);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

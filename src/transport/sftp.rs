//! SFTP sources (ssh2): verified host keys, password / key / agent authentication, retries
//! with backoff, and protection against reading a file that is still being uploaded.
//!
//! libssh2's own known_hosts reader stops at the first line it cannot parse and names no
//! line, so the file is read here and handed over one line at a time: every finding names
//! its line, and lines that cannot be read are skipped with a warning instead of hiding the
//! rest of the file.

use super::Fetched;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use ssh2::{CheckResult, HostKeyType, KnownHostFileKind, Session};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A parsed `sftp://user@host[:port]/path` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub user: String,
    pub host: String,
    pub port: u16,
    pub path: String,
}

impl Url {
    pub fn parse(url: &str) -> Result<Url, String> {
        let rest = url
            .strip_prefix("sftp://")
            .ok_or_else(|| format!("`{url}` is not an sftp:// URL"))?;
        let (authority, path) = rest.split_at(
            rest.find('/')
                .ok_or_else(|| format!("`{url}` names no file"))?,
        );
        let (user, hostport) = authority
            .rsplit_once('@')
            .ok_or_else(|| format!("`{url}` names no user: use sftp://user@host[:port]/path"))?;
        if user.contains(':') {
            return Err("a password may not be written in the URL; use source.password_file or ROSTER_SFTP_PASSWORD".into());
        }
        let (host, port) = match hostport.strip_prefix('[') {
            Some(v6) => {
                let (h, after) = v6
                    .split_once(']')
                    .ok_or_else(|| format!("`{url}`: unclosed [ in the host"))?;
                (h.to_string(), after.strip_prefix(':'))
            }
            None => match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            },
        };
        let port = match port {
            Some(p) => p
                .parse()
                .map_err(|_| format!("`{url}`: `{p}` is not a port"))?,
            None => 22,
        };
        if user.is_empty() || host.is_empty() || path.len() < 2 || path.ends_with('/') {
            return Err(format!(
                "`{url}` is not of the form sftp://user@host[:port]/path/file.csv"
            ));
        }
        let path = path
            .strip_prefix("/~/")
            .map_or_else(|| path.to_string(), str::to_string);
        Ok(Url {
            user: user.to_string(),
            host,
            port,
            path,
        })
    }

    /// The host as known_hosts writes it.
    pub fn known_hosts_name(&self) -> String {
        if self.port == 22 {
            self.host.clone()
        } else {
            format!("[{}]:{}", self.host, self.port)
        }
    }

    pub fn display(&self) -> String {
        format!(
            "sftp://{}@{}:{}/{}",
            self.user,
            self.host,
            self.port,
            self.path.trim_start_matches('/')
        )
    }
}

/// Credentials and behaviour of an SFTP connection (from `[source]`).
#[derive(Debug, Clone)]
pub struct Options {
    pub known_hosts: PathBuf,
    pub password: Option<String>,
    pub identity_file: Option<PathBuf>,
    pub passphrase: Option<String>,
    pub timeout: Duration,
    pub retries: u32,
    pub settle: Duration,
    pub max_bytes: u64,
    /// Where the temporary download goes (the store's folder).
    pub temp_dir: PathBuf,
    /// `--trust-host-key SHA256:…`: add the server's key when it has this fingerprint.
    pub trust: Option<String>,
    /// First retry waits this long, then twice as long each time.
    pub backoff: Duration,
    /// `source.wait_secs`: how long a missing file is polled for (zero: not at all).
    pub wait: Duration,
}

/// What a remote file looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub size: u64,
    pub mtime: i64,
}

/// A failure, and whether trying again could help.
#[derive(Debug)]
enum Failure {
    /// Network, timeouts, a file that changed while read: retried with backoff.
    Retry(anyhow::Error),
    /// Host keys, authentication: never retried.
    Fatal(anyhow::Error),
    /// The file is younger than `source.settle_secs`: wait this long, then look again (a wait
    /// is not a retry).
    Settle(Duration, anyhow::Error),
    /// The file is not there: polled for up to `source.wait_secs`, else fatal.
    Missing(anyhow::Error),
}

type Attempt<T> = Result<T, Failure>;

fn retry<E: std::fmt::Display>(context: String) -> impl FnOnce(E) -> Failure {
    move |e| Failure::Retry(anyhow::anyhow!("{context}: {e}"))
}

fn fatal<E: std::fmt::Display>(context: String) -> impl FnOnce(E) -> Failure {
    move |e| Failure::Fatal(anyhow::anyhow!("{context}: {e}"))
}

pub fn key_type_name(kind: HostKeyType) -> &'static str {
    match kind {
        HostKeyType::Rsa => "ssh-rsa",
        HostKeyType::Dss => "ssh-dss",
        HostKeyType::Ecdsa256 => "ecdsa-sha2-nistp256",
        HostKeyType::Ecdsa384 => "ecdsa-sha2-nistp384",
        HostKeyType::Ecdsa521 => "ecdsa-sha2-nistp521",
        HostKeyType::Ed25519 => "ssh-ed25519",
        HostKeyType::Unknown => "unknown",
    }
}

/// The OpenSSH fingerprint of a key: `SHA256:` and the unpadded base64 of its SHA-256.
pub fn fingerprint(key: &[u8]) -> String {
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(Sha256::digest(key))
    )
}

/// What known_hosts says of the key a server presented.
#[derive(Debug, PartialEq, Eq)]
pub enum HostKeyCheck {
    Trusted { line: usize },
    Changed { line: usize },
    Revoked { line: usize },
    Unknown,
}

/// Check a server key against a known_hosts text, line by line.
pub fn check_known_hosts(
    sess: &Session,
    text: &str,
    url: &Url,
    key: &[u8],
    kind: &str,
) -> (HostKeyCheck, Vec<String>) {
    let mut warnings = Vec::new();
    let mut changed = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        if fields[0] == "@revoked" {
            let blob = fields
                .get(3)
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
            if blob.as_deref() == Some(key) {
                return (HostKeyCheck::Revoked { line: n }, warnings);
            }
            continue;
        }
        if fields[0].starts_with('@') {
            continue; // @cert-authority: certificates are not used here.
        }
        if fields.get(1) != Some(&kind) {
            continue; // Another key type of this host (or another host): not a change.
        }
        let Ok(mut known) = sess.known_hosts() else {
            continue;
        };
        if known.read_str(trimmed, KnownHostFileKind::OpenSSH).is_err() {
            warnings.push(format!(
                "known_hosts line {n} cannot be read and was skipped"
            ));
            continue;
        }
        match known.check_port(&url.host, url.port, key) {
            CheckResult::Match => return (HostKeyCheck::Trusted { line: n }, warnings),
            CheckResult::Mismatch => changed = changed.or(Some(n)),
            CheckResult::NotFound | CheckResult::Failure => {}
        }
    }
    match changed {
        Some(line) => (HostKeyCheck::Changed { line }, warnings),
        None => (HostKeyCheck::Unknown, warnings),
    }
}

/// Connect, verify the host key and authenticate.
fn connect(url: &Url, opts: &Options) -> Attempt<Session> {
    let where_ = format!("{}:{}", url.host, url.port);
    log::debug!("ssh: connecting to {where_}");
    let addrs: Vec<_> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(retry(format!("cannot resolve {}", url.host)))?
        .collect();
    let mut last = None;
    let mut tcp = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, opts.timeout) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let tcp = tcp.ok_or_else(|| {
        Failure::Retry(anyhow::anyhow!(
            "cannot connect to {where_}: {}",
            last.map_or("no address".to_string(), |e| e.to_string())
        ))
    })?;
    tcp.set_read_timeout(Some(opts.timeout)).ok();
    tcp.set_write_timeout(Some(opts.timeout)).ok();
    let mut sess = Session::new().map_err(retry("cannot start an SSH session".into()))?;
    sess.set_tcp_stream(tcp);
    sess.set_timeout(opts.timeout.as_millis().min(u32::MAX as u128) as u32);
    sess.handshake()
        .map_err(retry(format!("SSH handshake with {where_} failed")))?;
    log::debug!("ssh: handshake with {where_} done");
    verify_host(&sess, url, opts).map_err(Failure::Fatal)?;
    log::debug!("ssh: the host key of {where_} is the one in known_hosts");
    authenticate(&sess, url, opts)?;
    Ok(sess)
}

fn verify_host(sess: &Session, url: &Url, opts: &Options) -> anyhow::Result<()> {
    let (key, kind) = sess
        .host_key()
        .ok_or_else(|| anyhow::anyhow!("{} presented no host key", url.host))?;
    let kind = key_type_name(kind);
    let print = fingerprint(key);
    let text = match std::fs::read_to_string(&opts.known_hosts) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => anyhow::bail!("cannot read {}: {e}", opts.known_hosts.display()),
    };
    let (check, warnings) = check_known_hosts(sess, &text, url, key, kind);
    for w in warnings {
        eprintln!("roster: warning: {} ({})", w, opts.known_hosts.display());
    }
    let file = opts.known_hosts.display();
    match check {
        HostKeyCheck::Trusted { .. } => Ok(()),
        HostKeyCheck::Revoked { line } => anyhow::bail!(
            "the host key of {} ({kind} {print}) is marked @revoked at {file}:{line}; refusing to connect",
            url.known_hosts_name()
        ),
        HostKeyCheck::Changed { line } => anyhow::bail!(
            "HOST KEY CHANGED for {}: the server presents {kind} {print}, which differs from {file}:{line}. \
             This may be an attack. If the server was really re-keyed, remove line {line} and trust the new key with \
             {} fetch --trust-host-key {print}{}",
            url.known_hosts_name(),
                crate::core::command::roster(),
                crate::core::command::source()
        ),
        HostKeyCheck::Unknown => match &opts.trust {
            Some(wanted) if wanted.trim() == print => {
                let b64 = base64::engine::general_purpose::STANDARD.encode(key);
                append_known_host(&opts.known_hosts, &format!("{} {kind} {b64}", url.known_hosts_name()))?;
                eprintln!("roster: added {kind} {print} for {} to {file}", url.known_hosts_name());
                Ok(())
            }
            Some(wanted) => anyhow::bail!(
                "the host key of {} is {kind} {print}, not {wanted}; nothing was trusted",
                url.known_hosts_name()
            ),
            None => anyhow::bail!(
                "the host key of {} is unknown: {kind} {print}. Check the fingerprint with the server's administrator, \
                 then trust it with: {} fetch --trust-host-key {print}{}",
                url.known_hosts_name(),
                crate::core::command::roster(),
                crate::core::command::source()
            ),
        },
    }
}

fn append_known_host(path: &Path, line: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let existing = std::fs::read(path).unwrap_or_default();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    if !existing.is_empty() && !existing.ends_with(b"\n") {
        f.write_all(b"\n")?;
    }
    writeln!(f, "{line}")?;
    Ok(())
}

fn authenticate(sess: &Session, url: &Url, opts: &Options) -> Attempt<()> {
    let who = format!("{}@{}", url.user, url.host);
    let result = if let Some(password) = &opts.password {
        sess.userauth_password(&url.user, password)
            .map_err(|e| format!("password authentication as {who} failed: {}", e.message()))
    } else if let Some(key) = &opts.identity_file {
        sess.userauth_pubkey_file(&url.user, None, key, opts.passphrase.as_deref())
            .map_err(|e| {
                format!(
                    "key authentication as {who} with {} failed: {}",
                    key.display(),
                    e.message()
                )
            })
    } else {
        sess.userauth_agent(&url.user).map_err(|e| {
            format!("SSH agent authentication as {who} failed ({}); set source.identity_file or source.password_file", e.message())
        })
    };
    // The method and the key file's path, never the password or the passphrase.
    let method = if opts.password.is_some() {
        "a password".to_string()
    } else if let Some(key) = &opts.identity_file {
        format!("the key {}", key.display())
    } else {
        "the SSH agent".to_string()
    };
    match result {
        Ok(()) if sess.authenticated() => {
            log::debug!("ssh: authenticated as {who} with {method}");
            Ok(())
        }
        Ok(()) => Err(Failure::Fatal(anyhow::anyhow!(
            "authentication as {who} was not accepted"
        ))),
        Err(m) => Err(Failure::Fatal(anyhow::anyhow!(m))),
    }
}

fn stat(sftp: &ssh2::Sftp, url: &Url) -> Attempt<Stat> {
    match sftp.stat(Path::new(&url.path)) {
        Ok(s) if s.is_dir() => Err(Failure::Fatal(anyhow::anyhow!(
            "{} on {} is a directory",
            url.path,
            url.host
        ))),
        Ok(s) => Ok(Stat {
            size: s.size.unwrap_or(0),
            mtime: s.mtime.unwrap_or(0) as i64,
        }),
        // LIBSSH2_FX_NO_SUCH_FILE = 2
        Err(e) if matches!(e.code(), ssh2::ErrorCode::SFTP(2)) => {
            Err(Failure::Missing(anyhow::anyhow!(
                "the remote file {} does not exist on {}",
                url.path,
                url.host
            )))
        }
        Err(e) => Err(Failure::Retry(anyhow::anyhow!(
            "cannot stat {} on {}: {e}",
            url.path,
            url.host
        ))),
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Run `attempt` up to `retries + 1` times, waiting with backoff between retryable failures.
/// Waiting for a young file to settle, and polling for a missing one, use no retry: the first
/// is bounded by twice `source.settle_secs` plus `source.wait_secs` in all, the second by
/// `source.wait_secs`. Each says what it waits for as a warning of the log: on stderr unless
/// `-q`, and among the `-v` lines.
fn with_retries<T>(opts: &Options, mut attempt: impl FnMut() -> Attempt<T>) -> anyhow::Result<T> {
    let started = std::time::Instant::now();
    let mut wait = opts.backoff;
    let mut n = 0;
    let mut settled_for = Duration::ZERO;
    let settle_budget = opts.settle * 2 + opts.wait;
    let mut said_missing: Option<std::time::Instant> = None;
    loop {
        match attempt() {
            Ok(v) => return Ok(v),
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Settle(left, e)) => {
                if settled_for + left > settle_budget {
                    return Err(e.context(format!(
                        "gave up: it did not settle within {}s (twice source.settle_secs plus source.wait_secs)",
                        settle_budget.as_secs()
                    )));
                }
                log::warn!(
                    "{e:#}; waiting {}s for it to settle, then checking its size and mtime again",
                    left.as_secs()
                );
                std::thread::sleep(left);
                settled_for += left;
            }
            Err(Failure::Missing(e)) => {
                let waited = started.elapsed();
                if waited >= opts.wait {
                    if opts.wait.is_zero() {
                        return Err(e);
                    }
                    return Err(e.context(format!(
                        "gave up after waiting {}s for it to appear (source.wait_secs = {})",
                        waited.as_secs(),
                        opts.wait.as_secs()
                    )));
                }
                let left = opts.wait - waited;
                // Say it at the first poll, then once a minute.
                if said_missing.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                    log::warn!(
                        "{e:#}; waiting for it to appear (source.wait_secs = {}, {}s left)",
                        opts.wait.as_secs(),
                        left.as_secs()
                    );
                    said_missing = Some(std::time::Instant::now());
                }
                let poll =
                    (opts.wait / 20).clamp(Duration::from_millis(500), Duration::from_secs(30));
                std::thread::sleep(poll.min(left));
            }
            Err(Failure::Retry(e)) if n >= opts.retries => {
                return Err(e.context(format!("gave up after {} attempts", n + 1)));
            }
            Err(Failure::Retry(e)) => {
                log::warn!("{e:#}; retrying in {}s", wait.as_secs_f32());
                std::thread::sleep(wait);
                wait = wait.saturating_mul(2);
                n += 1;
            }
        }
    }
}

/// The options for a look that must not wait for a missing file (`--check`, the removal).
fn no_wait(opts: &Options) -> Options {
    Options {
        wait: Duration::ZERO,
        ..opts.clone()
    }
}

/// `roster fetch --check`: connect, verify, authenticate and stat, without downloading.
pub fn check(url: &Url, opts: &Options) -> anyhow::Result<(String, Stat)> {
    with_retries(&no_wait(opts), || {
        let sess = connect(url, opts)?;
        let print = sess
            .host_key()
            .map(|(k, _)| fingerprint(k))
            .unwrap_or_default();
        let sftp = sess
            .sftp()
            .map_err(retry(format!("cannot open SFTP on {}", url.host)))?;
        Ok((print, stat(&sftp, url)?))
    })
}

/// Stat the remote file without downloading it, `None` when it is not there: what a `sync`
/// waiting for a new file (`source.wait_for = "new"`) looks at between downloads.
pub fn look(url: &Url, opts: &Options) -> anyhow::Result<Option<Stat>> {
    with_retries(&no_wait(opts), || {
        let sess = connect(url, opts)?;
        let sftp = sess
            .sftp()
            .map_err(retry(format!("cannot open SFTP on {}", url.host)))?;
        match stat(&sftp, url) {
            Ok(s) => Ok(Some(s)),
            Err(Failure::Missing(_)) => Ok(None),
            Err(f) => Err(f),
        }
    })
}

/// Download the file: wait until it has settled, read it to a temporary file, and accept it
/// only when its size and mtime did not change while it was read and the byte count matches.
/// `progress(done, total)` is called as bytes arrive.
pub fn fetch(url: &Url, opts: &Options, progress: &dyn Fn(u64, u64)) -> anyhow::Result<Fetched> {
    let (bytes, stat) = with_retries(opts, || {
        let sess = connect(url, opts)?;
        let sftp = sess
            .sftp()
            .map_err(retry(format!("cannot open SFTP on {}", url.host)))?;
        let before = stat(&sftp, url)?;
        settled(url, opts, &before)?;
        let (mut temp, total) = download(&sftp, url, opts, before.size, progress)?;
        let after = stat(&sftp, url)?;
        log::debug!(
            "sftp: read {total} bytes of {} (size {}, mtime {})",
            url.path,
            after.size,
            after.mtime
        );
        if after != before || total != before.size {
            return Err(Failure::Retry(anyhow::anyhow!(
                "{} changed while it was read ({} → {} bytes, {} bytes read): the upload is not finished",
                url.path,
                before.size,
                after.size,
                total
            )));
        }
        let mut bytes = Vec::with_capacity(total as usize);
        temp.as_file_mut().sync_all().ok();
        std::fs::File::open(temp.path())
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(fatal("cannot read the temporary download".to_string()))?;
        // The temporary file is removed when `temp` drops, on success and on every failure.
        Ok((bytes, after))
    })?;
    Ok(Fetched {
        bytes,
        source: url.display(),
        mtime: Some(stat.mtime),
    })
}

/// A file to fetch is no larger than `csv.max_file_bytes` (else it is rejected) and was last
/// modified at least `source.settle_secs` ago (else it is looked at again after the rest).
fn settled(url: &Url, opts: &Options, before: &Stat) -> Attempt<()> {
    if before.size > opts.max_bytes {
        return Err(Failure::Fatal(anyhow::Error::new(
            crate::error::Error::Rejected(format!(
                "{} has {} bytes; csv.max_file_bytes allows {}",
                url.display(),
                before.size,
                opts.max_bytes
            )),
        )));
    }
    let age = now_secs() - before.mtime;
    if age < opts.settle.as_secs() as i64 {
        let left = opts.settle.as_secs() as i64 - age;
        // Wait for the upload to settle, then look at its size and mtime again.
        let when = if age < 0 {
            format!("{}s in the future", -age)
        } else {
            format!("{age}s ago")
        };
        return Err(Failure::Settle(
            Duration::from_secs(left as u64),
            anyhow::anyhow!(
                "{} was modified {when}, less than source.settle_secs = {} ago",
                url.path,
                opts.settle.as_secs()
            ),
        ));
    }
    Ok(())
}

/// The remote file read into a temporary file in `temp_dir`, and how many bytes it had; a
/// file that grows past `csv.max_file_bytes` while it is read is tried again.
fn download(
    sftp: &ssh2::Sftp,
    url: &Url,
    opts: &Options,
    size: u64,
    progress: &dyn Fn(u64, u64),
) -> Attempt<(tempfile::NamedTempFile, u64)> {
    let mut remote = sftp
        .open(Path::new(&url.path))
        .map_err(retry(format!("cannot open {} on {}", url.path, url.host)))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".roster-download-")
        .tempfile_in(&opts.temp_dir)
        .map_err(fatal(format!(
            "cannot create a temporary file in {}",
            opts.temp_dir.display()
        )))?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = remote.read(&mut buf).map_err(retry(format!(
            "transfer of {} from {} failed",
            url.path, url.host
        )))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > opts.max_bytes {
            return Err(Failure::Retry(anyhow::anyhow!(
                "{} grew past csv.max_file_bytes while it was read",
                url.path
            )));
        }
        temp.write_all(&buf[..n])
            .map_err(fatal("cannot write the temporary download".to_string()))?;
        progress(total, size);
    }
    Ok((temp, total))
}

/// After a successful apply: remove the remote file, but only if it is still the file that was
/// fetched (same size, mtime and SHA-256). Returns whether it was removed.
pub fn delete_if_unchanged(
    url: &Url,
    opts: &Options,
    size: u64,
    mtime: i64,
    sha256: &str,
) -> anyhow::Result<bool> {
    with_retries(&no_wait(opts), || {
        let sess = connect(url, opts)?;
        let sftp = sess
            .sftp()
            .map_err(retry(format!("cannot open SFTP on {}", url.host)))?;
        let now = stat(&sftp, url)?;
        if now.size != size || now.mtime != mtime {
            return Ok(false);
        }
        let mut remote = sftp
            .open(Path::new(&url.path))
            .map_err(retry(format!("cannot open {}", url.path)))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = remote
                .read(&mut buf)
                .map_err(retry(format!("cannot read {}", url.path)))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if hex != sha256 {
            return Ok(false);
        }
        sftp.unlink(Path::new(&url.path))
            .map_err(retry(format!("cannot remove {} on {}", url.path, url.host)))?;
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = Url::parse("sftp://hr@sftp.example.se:2222/out/users.csv").unwrap();
        assert_eq!(
            (u.user.as_str(), u.host.as_str(), u.port, u.path.as_str()),
            ("hr", "sftp.example.se", 2222, "/out/users.csv")
        );
        assert_eq!(u.known_hosts_name(), "[sftp.example.se]:2222");
        let u = Url::parse("sftp://hr@host/~/users.csv").unwrap();
        assert_eq!(
            (u.port, u.path.as_str(), u.known_hosts_name().as_str()),
            (22, "users.csv", "host")
        );
        let u = Url::parse("sftp://hr@[::1]:22/x.csv").unwrap();
        assert_eq!(u.host, "::1");
        for bad in [
            "sftp://host/x.csv",
            "sftp://hr:pw@host/x.csv",
            "sftp://hr@host/",
            "sftp://hr@host:port/x",
            "http://x",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
        assert!(Url::parse("sftp://hr:pw@host/x.csv")
            .unwrap_err()
            .contains("password"));
    }

    #[test]
    fn fingerprints_are_openssh_style() {
        assert_eq!(
            fingerprint(b""),
            "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
        );
    }
}

//! HTTP to the SCIM provider (ureq): the bearer token, timeouts, and retries with backoff for
//! connection failures, 5xx and 429 (`Retry-After`). The token is never in a message.

use crate::config::ScimConfig;
use anyhow::Context as _;
use serde_json::Value;
use std::time::{Duration, Instant};
use ureq::http::{Method, Request};
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use ureq::Agent;

/// The endpoint a provider may serve without the token.
const SPC: &str = "/ServiceProviderConfig";

/// The longest `Retry-After` roster waits for, and the longest backoff between tries.
const MAX_WAIT: Duration = Duration::from_secs(120);

/// The provider's answer to one request. The body is kept as the bytes it sent (the token
/// scrubbed out); each caller reads from it only the fields it needs, into typed values.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub etag: Option<String>,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body read into `T`; `None` when it is empty or not that shape.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.bytes).ok()
    }

    /// The provider's reason, for a refusal: `409 uniqueness: …detail`.
    pub fn reason(&self) -> String {
        let e: ErrorBody = self.parse().unwrap_or_default();
        reason_of(self.status, &e)
    }
}

/// A SCIM error body (RFC 7644 §3.12): only what a reason needs.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ErrorBody {
    pub scim_type: Option<super::resource::Text>,
    pub detail: Option<super::resource::Text>,
}

/// `status scimType: detail` from a SCIM error body (RFC 7644 §3.12), on one line, cut to 300
/// characters.
pub fn reason(status: u16, body: &Value) -> String {
    let e: ErrorBody = serde_json::from_value(body.clone()).unwrap_or_default();
    reason_of(status, &e)
}

pub fn reason_of(status: u16, e: &ErrorBody) -> String {
    let mut s = status.to_string();
    if let Some(t) = e.scim_type.as_ref().filter(|t| !t.0.is_empty()) {
        s.push(' ');
        s.push_str(&t.0);
    }
    if let Some(d) = e.detail.as_ref().filter(|d| !d.0.is_empty()) {
        s.push_str(": ");
        s.push_str(&d.0);
    }
    // On one line, its control characters escaped: the provider's words are printed in lines
    // of roster's own (SPEC §3.1).
    crate::render::message(&s).chars().take(300).collect()
}

/// Why a push cannot go on: the whole provider is unusable, not one change.
#[derive(Debug, thiserror::Error)]
pub enum Down {
    #[error("the SCIM provider at {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the SCIM provider at {url} refused the token (HTTP {status}); check scim.token_file or ROSTER_SCIM_TOKEN")]
    Token { url: String, status: u16 },
    #[error("the SCIM provider at {url} answered {endpoint} with more than scim.max_response_bytes ({limit} bytes); nothing of that answer was used")]
    TooLarge {
        url: String,
        endpoint: String,
        limit: u64,
    },
}

/// Whether a request may be sent again when its answer is lost: a create may have been
/// carried out, so it is not (the caller looks the resource up first); anything else is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    Safe,
    /// Only when the provider surely did not act on it: a refused connection, or a 429.
    Never,
}

pub struct Client {
    agent: Agent,
    base: String,
    auth: String,
    token: String,
    retries: u32,
    max_bytes: u64,
    /// Requests made (each try counts).
    pub requests: u64,
    /// Whether the token has been accepted: a request other than `/ServiceProviderConfig`
    /// (which a provider may serve to anyone) was answered 2xx in this push.
    trusted: bool,
    /// The `Retry-After` of the last answer that was lost (a 5xx to a create), until taken.
    lost_after: Option<Duration>,
}

/// What one try gave.
enum Try {
    Answer(Raw),
    /// No answer: `sent` when the request may have reached the provider.
    Failed {
        reason: String,
        sent: bool,
    },
}

impl Client {
    pub fn new(scim: &ScimConfig, token: &str) -> anyhow::Result<Client> {
        let roots = match &scim.ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("cannot read scim.ca_file {}", path.display()))?;
                let certs = ureq::tls::parse_pem(&pem)
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                        Ok(_) => None,
                        Err(e) => Some(Err(e)),
                    })
                    .collect::<Result<Vec<Certificate<'static>>, _>>()
                    .with_context(|| format!("scim.ca_file {} is not PEM", path.display()))?;
                if certs.is_empty() {
                    anyhow::bail!("scim.ca_file {} holds no certificate", path.display());
                }
                RootCerts::new_with_certs(&certs)
            }
            // The system's roots, through the TLS stack that mail already uses.
            None => RootCerts::PlatformVerifier,
        };
        let timeout = Duration::from_secs(scim.timeout_secs);
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeout))
            .timeout_per_call(Some(timeout))
            .max_redirects(0)
            .user_agent(concat!("roster/", env!("CARGO_PKG_VERSION")))
            .tls_config(
                TlsConfig::builder()
                    .provider(TlsProvider::NativeTls)
                    .root_certs(roots)
                    .build(),
            )
            .build()
            .into();
        Ok(Client {
            agent,
            base: scim.base().to_string(),
            auth: format!("Bearer {token}"),
            token: token.to_string(),
            retries: scim.retries,
            max_bytes: scim.max_response_bytes,
            requests: 0,
            trusted: false,
            lost_after: None,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The token replaced by `***` in a text that came from the provider.
    pub fn scrub(&self, text: &str) -> String {
        scrub_text(text, &self.token)
    }

    /// One request to `path` (below the base URL), retried with backoff while the provider is
    /// down or busy. Every answer the provider gives is returned, except a refused token.
    pub fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        if_match: Option<&str>,
    ) -> Result<Reply, Down> {
        match self.send_as(Repeat::Safe, method, path, body, if_match)? {
            Some(reply) => Ok(reply),
            None => Err(self.unreachable("no answer".into())),
        }
    }

    /// Like [`Client::send`]; with [`Repeat::Never`], `None` when the answer was lost (a
    /// timeout, a reset, a 5xx) and the provider may have carried the request out.
    pub fn send_as(
        &mut self,
        repeat: Repeat,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        if_match: Option<&str>,
    ) -> Result<Option<Reply>, Down> {
        let url = format!("{}{}", self.base, path);
        let mut attempt = 0u32;
        loop {
            let started = Instant::now();
            let result = self.once(&method, &url, path, body, if_match)?;
            self.requests += 1;
            // `-vv`: each request; the path and status only, never a header (the token).
            if log::log_enabled!(log::Level::Debug) {
                let what = match &result {
                    Try::Answer(r) => r.status.to_string(),
                    Try::Failed { reason, .. } => reason.clone(),
                };
                log::debug!(
                    "scim: {method} {path}: {what} in {}",
                    crate::render::log::secs(started)
                );
            }
            let (wait, lost) = self.judge(&method, path, &result, attempt)?;
            if lost && repeat == Repeat::Never {
                if let Try::Answer(r) = &result {
                    self.lost_after = r.retry_after.map(|s| Duration::from_secs(s).min(MAX_WAIT));
                }
                log::debug!("scim: {method} {path}: the answer was lost; not sent again blindly");
                return Ok(None);
            }
            match (wait, result) {
                (None, Try::Answer(r)) => {
                    self.trusted |= (200..300).contains(&r.status) && !path.starts_with(SPC);
                    return Ok(Some(Reply {
                        status: r.status,
                        etag: r.etag,
                        bytes: r.bytes,
                    }));
                }
                (Some(wait), _) if attempt < self.retries => {
                    attempt += 1;
                    log::debug!(
                        "scim: try {} of {} in {:.1}s",
                        attempt + 1,
                        self.retries + 1,
                        wait.as_secs_f64()
                    );
                    std::thread::sleep(wait);
                }
                (_, Try::Answer(r)) => {
                    let reply = Reply {
                        status: r.status,
                        etag: r.etag,
                        bytes: r.bytes,
                    };
                    return Err(self.unreachable(format!(
                        "{} after {} tries",
                        reply.reason(),
                        attempt + 1
                    )));
                }
                (_, Try::Failed { reason, .. }) => {
                    return Err(self.unreachable(format!("{reason} (after {} tries)", attempt + 1)))
                }
            }
        }
    }

    /// The wait the provider asked for (`Retry-After`) with the last answer that was lost.
    pub fn take_retry_after(&mut self) -> Option<Duration> {
        self.lost_after.take()
    }

    /// Whether the token has been accepted in this push (see [`Client::check_token`]).
    pub fn trusted(&self) -> bool {
        self.trusted
    }

    /// After a 403 to a change before the token was accepted: whether it is the token or
    /// that change. A read of `endpoint` answered 401 or 403 is the token (`Down::Token`).
    pub fn check_token(&mut self, endpoint: &str) -> Result<(), Down> {
        if !self.trusted {
            self.send(
                Method::GET,
                &format!("{endpoint}?startIndex=1&count=1"),
                None,
                None,
            )?;
        }
        Ok(())
    }

    /// How long to wait before trying again (`None`: the answer stands), and whether the
    /// provider may have carried the request out without answering it. A 401 is a refused
    /// token; so is a 403 to `/ServiceProviderConfig` or to a read before the token was
    /// accepted. A 403 to a change is that change's refusal (a provider may forbid one
    /// change to a token that reads and writes well; see [`Client::check_token`]).
    fn judge(
        &self,
        method: &Method,
        path: &str,
        result: &Try,
        attempt: u32,
    ) -> Result<(Option<Duration>, bool), Down> {
        let after = |r: &Raw| {
            let after = r.retry_after.map(|s| Duration::from_secs(s).min(MAX_WAIT));
            Some(after.unwrap_or_else(|| backoff(attempt)))
        };
        let token = |status: u16| {
            status == 401
                || (status == 403
                    && (path.starts_with(SPC) || (*method == Method::GET && !self.trusted)))
        };
        Ok(match result {
            Try::Answer(r) if token(r.status) => {
                return Err(Down::Token {
                    url: self.base.clone(),
                    status: r.status,
                })
            }
            Try::Answer(r) if r.status == 429 => (after(r), false),
            // 501: the provider does not do this; an answer like a 4xx, not a wait.
            Try::Answer(r) if r.status >= 500 && r.status != 501 => (after(r), true),
            Try::Answer(_) => (None, false),
            Try::Failed { sent, .. } => (Some(backoff(attempt)), *sent),
        })
    }

    fn unreachable(&self, reason: String) -> Down {
        Down::Unreachable {
            url: self.base.clone(),
            reason,
        }
    }

    fn once(
        &self,
        method: &Method,
        url: &str,
        path: &str,
        body: Option<&[u8]>,
        if_match: Option<&str>,
    ) -> Result<Try, Down> {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(url)
            .header("Authorization", &self.auth)
            .header("Accept", "application/scim+json, application/json");
        if body.is_some() {
            req = req.header("Content-Type", "application/scim+json");
        }
        if let Some(tag) = if_match {
            req = req.header("If-Match", tag);
        }
        let sent = match body {
            Some(bytes) => req
                .body(bytes.to_vec())
                .map_err(ureq::Error::from)
                .and_then(|r| self.agent.run(r)),
            None => req
                .body(())
                .map_err(ureq::Error::from)
                .and_then(|r| self.agent.run(r)),
        };
        let mut resp = match sent {
            Ok(resp) => resp,
            Err(e) => {
                let sent = !refused(&e);
                return Ok(Try::Failed {
                    reason: describe(e),
                    sent,
                });
            }
        };
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| self.scrub(v))
        };
        let etag = header("etag");
        let retry_after = header("retry-after").and_then(|v| retry_after(&v, chrono::Utc::now()));
        let read = resp
            .body_mut()
            .with_config()
            .limit(self.max_bytes)
            .read_to_vec();
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                return Err(Down::TooLarge {
                    url: self.base.clone(),
                    endpoint: format!("{method} {}", path.split('?').next().unwrap_or(path)),
                    limit: self.max_bytes,
                })
            }
            Err(e) => {
                return Ok(Try::Failed {
                    reason: describe(e),
                    sent: true,
                })
            }
        };
        Ok(Try::Answer(Raw {
            status,
            etag,
            retry_after,
            bytes: scrub_bytes(bytes, &self.token),
        }))
    }
}

struct Raw {
    status: u16,
    etag: Option<String>,
    retry_after: Option<u64>,
    bytes: Vec<u8>,
}

/// Whether the request surely never reached the provider (the connection was refused).
fn refused(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => true,
        _ => false,
    }
}

/// The forms a token takes in a provider's text: as it is, and JSON-escaped.
fn token_forms(token: &str) -> Vec<String> {
    let mut forms = vec![token.to_string()];
    let escaped = Value::from(token).to_string();
    let escaped = escaped[1..escaped.len() - 1].to_string();
    if escaped != token {
        forms.push(escaped);
    }
    let slashed = token.replace('/', "\\/");
    if slashed != token {
        forms.push(slashed);
    }
    forms
}

/// The token replaced by `***` in the bytes of an answer. A JSON escape of a printable ASCII
/// character (`\u002B` for `+`, `\/`) is first written as the character itself, so that a
/// token echoed in an encoder's escapes is found too (what JSON reads from it is the same).
pub fn scrub_bytes(bytes: Vec<u8>, token: &str) -> Vec<u8> {
    if token.is_empty() {
        return bytes;
    }
    let mut bytes = plain_escapes(bytes);
    for form in token_forms(token) {
        let finder = memchr::memmem::Finder::new(form.as_bytes());
        if finder.find(&bytes).is_none() {
            continue;
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut at = 0;
        for i in finder.find_iter(&bytes) {
            out.extend_from_slice(&bytes[at..i]);
            out.extend_from_slice(b"***");
            at = i + form.len();
        }
        out.extend_from_slice(&bytes[at..]);
        bytes = out;
    }
    bytes
}

/// JSON's escapes of printable ASCII characters (other than `"` and `\`) written as the
/// characters; every other escape is kept as it is. A copy only when there is one.
fn plain_escapes(bytes: Vec<u8>) -> Vec<u8> {
    let escaped = |b: &[u8]| {
        memchr::memmem::find(b, b"\\u00").is_some() || memchr::memmem::find(b, b"\\/").is_some()
    };
    if !escaped(&bytes) {
        return bytes;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
        } else if let Some(c) = ascii_escape(&bytes[i..]) {
            out.push(c);
            i += 6;
        } else if bytes.get(i + 1) == Some(&b'/') {
            out.push(b'/');
            i += 2;
        } else {
            // Another escape (`\\`, `\"`, `\n`, `\u00e5`): kept whole, so that its second
            // character is never read as the start of an escape.
            out.extend_from_slice(&bytes[i..(i + 2).min(bytes.len())]);
            i += 2;
        }
    }
    out
}

/// The character of a `\uXXXX` escape at the start of `s` when it is printable ASCII other
/// than `"` and `\`.
fn ascii_escape(s: &[u8]) -> Option<u8> {
    if s.len() < 6 || s[1] != b'u' {
        return None;
    }
    let hex = std::str::from_utf8(&s[2..6]).ok()?;
    let c = u8::try_from(u16::from_str_radix(hex, 16).ok()?).ok()?;
    ((0x20..0x7f).contains(&c) && c != b'"' && c != b'\\').then_some(c)
}

/// The token replaced by `***` in a text.
pub fn scrub_text(text: &str, token: &str) -> String {
    if token.is_empty() {
        return text.to_string();
    }
    let mut s = text.to_string();
    for form in token_forms(token) {
        s = s.replace(&form, "***");
    }
    s
}

/// A transport error as text (ureq's messages hold no headers, so never the token).
fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => format!("{}", io.kind()).replace('_', " "),
        other => other.to_string(),
    }
}

/// The seconds a `Retry-After` asks for: delay-seconds, or an HTTP-date (a date already past is
/// no wait; a part of a second is waited for whole). `None` when it is neither.
fn retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let ms = (http_date(value, now)? - now).num_milliseconds();
    Some(u64::try_from(ms).map_or(0, |ms| ms.div_ceil(1000)))
}

/// An HTTP-date in any of the three forms a recipient reads (RFC 9110 §5.6.7): IMF-fixdate
/// (`Tue, 01 Dec 2026 21:00:30 GMT`, a form of RFC 2822's date), and the obsolete RFC 850
/// (`Tuesday, 01-Dec-26 21:00:30 GMT`) and asctime (`Tue Dec  1 21:00:30 2026`) forms. A
/// two-digit year more than 50 years ahead is the last such year past.
fn http_date(
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{Datelike as _, NaiveDateTime};
    if let Ok(at) = chrono::DateTime::parse_from_rfc2822(value) {
        return Some(at.to_utc());
    }
    if let Ok(at) = NaiveDateTime::parse_from_str(value, "%a %b %e %H:%M:%S %Y") {
        return Some(at.and_utc());
    }
    let at = NaiveDateTime::parse_from_str(value, "%A, %d-%b-%y %H:%M:%S GMT").ok()?;
    let years = at.year() - now.year();
    let at = match years {
        51.. => at.with_year(at.year() - 100)?,
        ..-49 => at.with_year(at.year() + 100)?,
        _ => at,
    };
    Some(at.and_utc())
}

/// 0.5 s, 1 s, 2 s, … up to two minutes.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(16))).min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(40), MAX_WAIT);
    }

    /// `Retry-After` is delay-seconds or an HTTP-date (RFC 9110 §10.2.3); a date in the past
    /// is no wait, and anything else is not read (the usual backoff applies).
    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T21:00:00Z")
            .unwrap()
            .to_utc();
        let cases: &[(&str, Option<u64>)] = &[
            ("5", Some(5)),
            (" 120 ", Some(120)),
            ("Tue, 01 Dec 2026 21:00:30 GMT", Some(30)),
            ("Tue, 01 Dec 2026 20:59:00 GMT", Some(0)),
            ("Tuesday, 01-Dec-26 21:00:30 GMT", Some(30)),
            ("Tue Dec  1 21:00:30 2026", Some(30)),
            ("Tue Dec 1 21:00:30 2026", Some(30)),
            ("Tuesday, 01-Dec-26 20:00:00 GMT", Some(0)),
            ("soon", None),
            ("-3", None),
            ("", None),
        ];
        for (value, want) in cases {
            assert_eq!(retry_after(value, now), *want, "{value:?}");
        }
    }

    #[test]
    fn a_refusal_reads_as_status_type_and_detail() {
        let body =
            serde_json::json!({"status": "409", "scimType": "uniqueness", "detail": "taken"});
        assert_eq!(reason(409, &body), "409 uniqueness: taken");
        assert_eq!(reason(500, &Value::Null), "500");
    }

    #[test]
    fn the_token_is_scrubbed_in_every_form() {
        let t = "ab/c\"d";
        let body = format!(
            "{{\"detail\": {}}} and {t}",
            Value::from(format!("bad {t}"))
        );
        let out = String::from_utf8(scrub_bytes(body.into_bytes(), t)).unwrap();
        assert!(!out.contains("ab/c"), "{out}");
        assert_eq!(scrub_text("x tok y tok", "tok"), "x *** y ***");
        // Escaped characters of the token, other escapes kept whole.
        let body = r#"{"detail": "a\u002Bb\/c \\u002B \u00e5 \u0022 \"", "x": "a+b/c"}"#;
        let out = String::from_utf8(scrub_bytes(body.as_bytes().to_vec(), "a+b/c")).unwrap();
        assert_eq!(
            out,
            r#"{"detail": "*** \\u002B \u00e5 \u0022 \"", "x": "***"}"#
        );
    }
}

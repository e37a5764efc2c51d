//! HTTP to the SCIM provider (ureq): the bearer token, timeouts, and retries with backoff for
//! connection failures, 5xx and 429 (`Retry-After`). The token is never in a message.

use crate::config::ScimConfig;
use anyhow::Context as _;
use serde_json::Value;
use std::time::{Duration, Instant};
use ureq::http::{Method, Request};
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use ureq::Agent;

/// The longest `Retry-After` roster waits for, and the longest backoff between tries.
const MAX_WAIT: Duration = Duration::from_secs(120);
/// Responses larger than this are refused (a page of a listing is far smaller).
const MAX_BODY: u64 = 256 << 20;

/// The provider's answer to one request.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub etag: Option<String>,
    /// The JSON body, or `Null` when there is none (or it is not JSON).
    pub body: Value,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The provider's reason, for a refusal: `409 uniqueness: …detail`.
    pub fn reason(&self) -> String {
        reason(self.status, &self.body)
    }
}

/// `status scimType: detail` from a SCIM error body (RFC 7644 §3.12), cut to 300 characters.
pub fn reason(status: u16, body: &Value) -> String {
    let mut s = status.to_string();
    if let Some(t) = body.get("scimType").and_then(Value::as_str) {
        s.push(' ');
        s.push_str(t);
    }
    if let Some(d) = body.get("detail").and_then(Value::as_str) {
        s.push_str(": ");
        s.push_str(d);
    }
    s.chars().take(300).collect()
}

/// Why a push cannot go on: the whole provider is unusable, not one change.
#[derive(Debug, thiserror::Error)]
pub enum Down {
    #[error("the SCIM provider at {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the SCIM provider at {url} refused the token (HTTP {status}); check scim.token_file or ROSTER_SCIM_TOKEN")]
    Token { url: String, status: u16 },
}

pub struct Client {
    agent: Agent,
    base: String,
    auth: String,
    retries: u32,
    /// Requests made (each try counts).
    pub requests: u64,
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
            retries: scim.retries,
            requests: 0,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
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
        let url = format!("{}{}", self.base, path);
        let mut attempt = 0u32;
        loop {
            let started = Instant::now();
            let result = self.once(&method, &url, body, if_match);
            self.requests += 1;
            // `-vv`: each request; the path and status only, never a header (the token).
            if log::log_enabled!(log::Level::Debug) {
                let what = match &result {
                    Ok(r) => r.status.to_string(),
                    Err(e) => e.clone(),
                };
                log::debug!(
                    "scim: {method} {path}: {what} in {}",
                    crate::render::log::secs(started)
                );
            }
            let wait = match &result {
                Ok(r) if r.status == 401 || r.status == 403 => {
                    return Err(Down::Token {
                        url: self.base.clone(),
                        status: r.status,
                    })
                }
                Ok(r) if r.status == 429 || r.status >= 500 => {
                    let after = r.retry_after.map(|s| Duration::from_secs(s).min(MAX_WAIT));
                    Some(after.unwrap_or_else(|| backoff(attempt)))
                }
                Ok(_) => None,
                Err(_) => Some(backoff(attempt)),
            };
            match (wait, result) {
                (None, Ok(r)) => {
                    return Ok(Reply {
                        status: r.status,
                        etag: r.etag,
                        body: r.body,
                    })
                }
                (Some(wait), result) if attempt < self.retries => {
                    attempt += 1;
                    log::debug!(
                        "scim: try {} of {} in {:.1}s",
                        attempt + 1,
                        self.retries + 1,
                        wait.as_secs_f64()
                    );
                    drop(result);
                    std::thread::sleep(wait);
                }
                (_, Ok(r)) => {
                    return Err(Down::Unreachable {
                        url: self.base.clone(),
                        reason: format!(
                            "{} after {} tries",
                            reason(r.status, &r.body),
                            attempt + 1
                        ),
                    })
                }
                (_, Err(e)) => {
                    return Err(Down::Unreachable {
                        url: self.base.clone(),
                        reason: format!("{e} (after {} tries)", attempt + 1),
                    })
                }
            }
        }
    }

    fn once(
        &self,
        method: &Method,
        url: &str,
        body: Option<&[u8]>,
        if_match: Option<&str>,
    ) -> Result<Raw, String> {
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
                .map_err(|e| e.to_string())
                .and_then(|r| self.agent.run(r).map_err(describe)),
            None => req
                .body(())
                .map_err(|e| e.to_string())
                .and_then(|r| self.agent.run(r).map_err(describe)),
        };
        let mut resp = sent?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let etag = header("etag");
        let retry_after = header("retry-after").and_then(|v| retry_after(&v, chrono::Utc::now()));
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(describe)?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Raw {
            status,
            etag,
            retry_after,
            body,
        })
    }
}

struct Raw {
    status: u16,
    etag: Option<String>,
    retry_after: Option<u64>,
    body: Value,
}

/// A transport error as text (ureq's messages hold no headers, so never the token).
fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => format!("{}", io.kind()).replace('_', " "),
        other => other.to_string(),
    }
}

/// The seconds a `Retry-After` asks for: delay-seconds, or an HTTP-date (a date already past is
/// no wait). `None` when it is neither.
fn retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    // IMF-fixdate (`Tue, 01 Dec 2026 21:00:30 GMT`) is a form of RFC 2822's date.
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(u64::try_from((at.to_utc() - now).num_seconds()).unwrap_or(0))
}

/// 0.5 s, 1 s, 2 s, … up to two minutes.
fn backoff(attempt: u32) -> Duration {
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
}

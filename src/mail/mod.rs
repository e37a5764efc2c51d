//! Mail with lettre: the transport (`smtp://` STARTTLS, `smtps://`, `sendmail`), invitation
//! and report messages. Names and titles reach headers only with control characters removed.

use crate::config::{MailConfig, Tls};
use lettre::message::{
    header::ContentType, Attachment, Mailbox, MessageBuilder, MultiPart, SinglePart,
};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, Tls as SmtpTls, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::{Address, Message, SendmailTransport, SmtpTransport, Transport};
use std::str::FromStr;
use std::time::Duration;

/// Why a message was not sent, and so what becomes of its outbox row.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server could not be reached or failed for now: try again later.
    #[error("{0}")]
    Transient(String),
    /// The server refused this message (a bad recipient, say): trying again will not help.
    #[error("{0}")]
    Permanent(String),
}

enum Kind {
    Smtp(SmtpTransport, Box<Connect>),
    Sendmail(SendmailTransport),
}

/// What a connection of its own needs (a [`Session`] keeps one open for many messages).
struct Connect {
    host: String,
    port: u16,
    tls: SmtpTls,
    credentials: Option<Credentials>,
    timeout: Duration,
    hello: ClientId,
}

impl Connect {
    /// Connect, start TLS and authenticate, as lettre's transport does.
    fn open(&self) -> Result<SmtpConnection, lettre::transport::smtp::Error> {
        let wrapper = match &self.tls {
            SmtpTls::Wrapper(params) => Some(params),
            _ => None,
        };
        let mut conn = SmtpConnection::connect(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &self.hello,
            wrapper,
            None,
        )?;
        if let SmtpTls::Required(params) = &self.tls {
            conn.starttls(params, &self.hello)?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)?;
        }
        Ok(conn)
    }
}

/// How one message of a [`Session`] ended.
#[derive(Debug)]
pub enum Delivery {
    Sent,
    /// The server did not take it (`permanent`: it refused it, and will again).
    NotSent {
        permanent: bool,
        error: String,
    },
    /// The connection broke while the message itself was being sent: it may have arrived.
    Unknown(String),
}

/// Many messages over one SMTP connection: opened at the first message, opened again when the
/// server drops it. A message is sent again on a new connection only when it is certain that
/// the server did not take it (the failure came before the message's text was sent).
pub struct Session<'m> {
    mailer: &'m Mailer,
    conn: Option<SmtpConnection>,
    /// Connections opened so far.
    pub connections: usize,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            conn.quit().ok();
        }
    }
}

impl Session<'_> {
    fn connected(&mut self, connect: &Connect) -> Result<&mut SmtpConnection, String> {
        if self.conn.as_ref().is_some_and(SmtpConnection::has_broken) {
            self.conn = None;
        }
        if self.conn.is_none() {
            let conn = connect
                .open()
                .map_err(|e| format!("not sent via {}: {e}", self.mailer.server))?;
            self.connections += 1;
            self.conn = Some(conn);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| "no connection".to_string())
    }

    fn drop_connection(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            conn.abort();
        }
    }

    pub fn send(&mut self, message: &Message) -> Delivery {
        let mailer = self.mailer;
        let connect = match &mailer.kind {
            Kind::Smtp(_, connect) => connect,
            Kind::Sendmail(_) => {
                return match mailer.send(message) {
                    Ok(()) => Delivery::Sent,
                    Err(e) => Delivery::NotSent {
                        permanent: matches!(e, SendError::Permanent(_)),
                        error: e.to_string(),
                    },
                }
            }
        };
        let envelope = message.envelope();
        let bytes = message.formatted();
        // A second try only on a new connection, and only when the first never began the text.
        for attempt in 0..2 {
            let conn = match self.connected(connect) {
                Ok(c) => c,
                Err(error) => {
                    return Delivery::NotSent {
                        permanent: false,
                        error,
                    }
                }
            };
            if let Err(e) = begin(conn, envelope, &bytes) {
                self.drop_connection();
                if attempt == 0 && !e.is_permanent() {
                    continue;
                }
                return Delivery::NotSent {
                    permanent: e.is_permanent(),
                    error: smtp_words(&mailer.server, &e),
                };
            }
            return match write_text(conn, &bytes) {
                Ok(_) => Delivery::Sent,
                Err(e) => {
                    self.drop_connection();
                    text_not_taken(&mailer.server, &e)
                }
            };
        }
        Delivery::NotSent {
            permanent: false,
            error: format!("not sent via {}", mailer.server),
        }
    }
}

/// MAIL FROM (8BITMIME when the text needs it and the server takes it), RCPT TO each
/// recipient, then DATA: everything before the message's text.
fn begin(
    conn: &mut SmtpConnection,
    envelope: &lettre::address::Envelope,
    bytes: &[u8],
) -> Result<(), lettre::transport::smtp::Error> {
    let mut options = Vec::new();
    if !bytes.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(envelope.from().cloned(), options))?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), Vec::new()))?;
    }
    conn.command(Data)?;
    Ok(())
}

/// The message's text and its end.
fn write_text(
    conn: &mut SmtpConnection,
    bytes: &[u8],
) -> Result<lettre::transport::smtp::response::Response, lettre::transport::smtp::Error> {
    if bytes.is_ascii() {
        // In one write with its end, so that the end does not wait on the first part's
        // acknowledgement (Nagle's algorithm against delayed ACKs: 40 ms a message).
        conn.command(DataText(bytes))
    } else {
        conn.message(bytes)
    }
}

/// A failure of the server's, as the outbox keeps it: `refused via HOST:PORT: …` when the
/// server refused for good, else `not sent via …`.
fn smtp_words(server: &str, e: &lettre::transport::smtp::Error) -> String {
    let what = if e.is_permanent() {
        "refused"
    } else {
        "not sent"
    };
    format!("{what} via {server}: {e}")
}

/// What became of a message whose text failed: not sent when the server answered it with a
/// refusal, unknown when the connection broke (it may have arrived).
fn text_not_taken(server: &str, e: &lettre::transport::smtp::Error) -> Delivery {
    if e.is_permanent() || e.is_transient() {
        Delivery::NotSent {
            permanent: e.is_permanent(),
            error: smtp_words(server, e),
        }
    } else {
        Delivery::Unknown(format!(
            "the connection to {server} broke while the message was sent; it may have arrived: {e}"
        ))
    }
}

/// A message's text as SMTP sends it after DATA: lines that start with a dot get another,
/// then the end `CRLF . CRLF`. Only for ASCII text (what lettre writes for any message).
struct DataText<'a>(&'a [u8]);

impl std::fmt::Display for DataText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = std::str::from_utf8(self.0).map_err(|_| std::fmt::Error)?;
        for (i, line) in text.split("\r\n").enumerate() {
            if i > 0 {
                f.write_str("\r\n")?;
            }
            if line.starts_with('.') {
                f.write_str(".")?;
            }
            f.write_str(line)?;
        }
        f.write_str("\r\n.\r\n")
    }
}

pub struct Mailer {
    kind: Kind,
    pub from: Mailbox,
    /// Where mail goes, for messages (never with credentials).
    pub server: String,
}

/// Remove control characters (CR and LF above all) from text bound for a header.
pub fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

impl Mailer {
    /// Build the transport that `[mail]` describes; `password` from the file or environment.
    pub fn new(cfg: &MailConfig, password: Option<String>) -> anyhow::Result<Mailer> {
        let url = cfg.smtp_url.clone().unwrap_or_default();
        let from = Mailbox::from_str(cfg.from.as_deref().unwrap_or_default())
            .map_err(|e| crate::error::config(format!("mail.from: {e}")))?;
        if url == "sendmail" {
            return Ok(Mailer {
                kind: Kind::Sendmail(SendmailTransport::new()),
                from,
                server: "sendmail".into(),
            });
        }
        let (host, port, implicit) = smtp_endpoint(&url)?;
        let tls = smtp_tls(cfg, &host, implicit)?;
        let credentials = smtp_credentials(cfg, password, implicit)?;
        let mut builder = SmtpTransport::builder_dangerous(host.clone())
            .port(port)
            .tls(tls.clone())
            .timeout(Some(Duration::from_secs(30)));
        if let Some(c) = &credentials {
            builder = builder.credentials(c.clone());
        }
        let connect = Connect {
            host: host.clone(),
            port,
            tls,
            credentials,
            timeout: Duration::from_secs(30),
            hello: ClientId::default(),
        };
        Ok(Mailer {
            kind: Kind::Smtp(builder.build(), Box::new(connect)),
            from,
            server: format!("{host}:{port}"),
        })
    }

    /// Connect, start TLS and authenticate, without sending: a failure here is the server's
    /// or the configuration's, never a recipient's.
    pub fn check(&self) -> Result<(), String> {
        log::debug!(
            "smtp: connecting to {} (TLS and authentication as configured)",
            self.server
        );
        match &self.kind {
            Kind::Smtp(t, _) => match t.test_connection() {
                Ok(true) => Ok(()),
                Ok(false) => Err(format!("{} did not answer", self.server)),
                Err(e) => Err(format!("cannot use the mail server {}: {e}", self.server)),
            },
            Kind::Sendmail(_) => Ok(()),
        }
    }

    /// A session that sends many messages over one connection.
    pub fn session(&self) -> Session<'_> {
        Session {
            mailer: self,
            conn: None,
            connections: 0,
        }
    }

    pub fn send(&self, message: &Message) -> Result<(), SendError> {
        log::debug!(
            "smtp: sending a message to {} recipient(s) via {}",
            message.envelope().to().len(),
            self.server
        );
        match &self.kind {
            Kind::Smtp(t, _) => t.send(message).map(|_| ()).map_err(|e| {
                let text = format!(
                    "{} via {}: {e}",
                    if e.is_permanent() {
                        "refused"
                    } else {
                        "not sent"
                    },
                    self.server
                );
                if e.is_permanent() {
                    SendError::Permanent(text)
                } else {
                    SendError::Transient(text)
                }
            }),
            Kind::Sendmail(t) => t
                .send(message)
                .map(|_| ())
                .map_err(|e| SendError::Transient(format!("sendmail: {e}"))),
        }
    }
}

/// The host, the port and whether TLS is implicit (`smtps://`) of `mail.smtp_url`. The scheme
/// in any letter case; no error quotes the URL, which may hold a user name.
fn smtp_endpoint(url: &str) -> anyhow::Result<(String, u16, bool)> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", ""));
    let implicit = match scheme.to_ascii_lowercase().as_str() {
        "smtps" => true,
        "smtp" => false,
        _ => {
            return Err(crate::error::config(
                "mail.smtp_url: use smtp://host:587, smtps://host:465 or sendmail",
            ))
        }
    };
    let hostport = rest.trim_end_matches('/');
    if hostport.contains(['@', '/', '?', '#']) || hostport.is_empty() {
        return Err(crate::error::config(
            "mail.smtp_url: write only the host and port (smtp://host:587); the user name \
             goes in mail.username, the password in mail.password_file or ROSTER_SMTP_PASSWORD",
        ));
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h.to_string(),
            p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                crate::error::config("mail.smtp_url: the port is not a number from 1 to 65535")
            })?,
        ),
        None => (hostport.to_string(), if implicit { 465 } else { 587 }),
    };
    Ok((host, port, implicit))
}

/// TLS as `mail.tls` asks (always for `smtps://`), trusting `mail.ca_file` too when it is set.
fn smtp_tls(cfg: &MailConfig, host: &str, implicit: bool) -> anyhow::Result<SmtpTls> {
    let mut params = TlsParameters::builder(host.to_string());
    if let Some(ca) = &cfg.ca_file {
        let pem = std::fs::read(ca)
            .map_err(|e| crate::error::config(format!("mail.ca_file {}: {e}", ca.display())))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| crate::error::config(format!("mail.ca_file {}: {e}", ca.display())))?;
        params = params.add_root_certificate(cert);
    }
    let params = params
        .build()
        .map_err(|e| anyhow::anyhow!("TLS set-up for {host}: {e}"))?;
    Ok(match (implicit, cfg.tls) {
        (true, _) => SmtpTls::Wrapper(params),
        (false, Tls::Required) => SmtpTls::Required(params),
        (false, Tls::None) => SmtpTls::None,
    })
}

/// `mail.username` and its password, never sent without TLS.
fn smtp_credentials(
    cfg: &MailConfig,
    password: Option<String>,
    implicit: bool,
) -> anyhow::Result<Option<Credentials>> {
    let Some(user) = &cfg.username else {
        return Ok(None);
    };
    if cfg.tls == Tls::None && !implicit {
        return Err(crate::error::config(
            "mail.username is set but mail.tls = \"none\": credentials are never sent without TLS",
        ));
    }
    let password = password.ok_or_else(|| {
        crate::error::config("mail.username needs mail.password_file or ROSTER_SMTP_PASSWORD")
    })?;
    Ok(Some(Credentials::new(user.clone(), password)))
}

/// The fields an invitation is written from.
pub struct Invitee<'a> {
    pub name: &'a str,
    pub mail: &'a str,
    pub title: &'a str,
}

pub const DEFAULT_SUBJECT: &str = "Welcome, {name}";
pub const DEFAULT_TEMPLATE: &str =
    "Hello {name},\n\nan account has been created for you ({mail}).\n\
You will receive instructions for signing in separately.\n\nWelcome!\n";

/// Fill the placeholders; the values are single lines wherever they go.
fn fill(template: &str, who: &Invitee<'_>) -> String {
    template
        .replace("{name}", &header_safe(who.name))
        .replace("{mail}", &header_safe(who.mail))
        .replace("{title}", &header_safe(who.title))
}

/// An invitation as a plain-text message.
pub fn invitation(
    from: &Mailbox,
    who: &Invitee<'_>,
    subject: &str,
    body: &str,
) -> anyhow::Result<Message> {
    let to = Address::from_str(who.mail).map_err(|e| anyhow::anyhow!("{}: {e}", who.mail))?;
    Ok(stamped(Message::builder())
        .from(from.clone())
        .to(Mailbox::new(Some(header_safe(who.name)), to))
        .subject(header_safe(&fill(subject, who)))
        .singlepart(SinglePart::plain(fill(body, who)))?)
}

/// The headers every message carries beside From, To and Subject: a `Message-ID` (lettre adds
/// `Date`, and `MIME-Version` to a MIME body).
pub fn stamped(builder: MessageBuilder) -> MessageBuilder {
    builder.message_id(None).date_now()
}

/// Check that every report recipient is an address (a configuration error, exit 2, otherwise).
pub fn check_recipients(recipients: &[String]) -> anyhow::Result<()> {
    for r in recipients {
        Mailbox::from_str(r)
            .map_err(|e| crate::error::config(format!("report.recipients: `{r}`: {e}")))?;
    }
    Ok(())
}

/// A report as a multipart message: text and HTML as alternatives, and CSV files (name,
/// text) attached.
pub fn report(
    from: &Mailbox,
    recipients: &[String],
    subject: &str,
    text: String,
    html: String,
    attachments: &[(String, String)],
) -> anyhow::Result<Message> {
    let mut builder = stamped(Message::builder())
        .from(from.clone())
        .subject(header_safe(subject));
    for r in recipients {
        let mailbox = Mailbox::from_str(r)
            .map_err(|e| crate::error::config(format!("report.recipients: `{r}`: {e}")))?;
        builder = builder.to(mailbox);
    }
    let body = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html),
        );
    if attachments.is_empty() {
        return Ok(builder.multipart(body)?);
    }
    let csv = ContentType::parse("text/csv; charset=utf-8")?;
    let mut mixed = MultiPart::mixed().multipart(body);
    for (name, content) in attachments {
        mixed = mixed.singlepart(Attachment::new(name.clone()).body(content.clone(), csv.clone()));
    }
    Ok(builder.multipart(mixed)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_inject_headers() {
        let from = Mailbox::from_str("roster@example.se").unwrap();
        let who = Invitee {
            name: "Eve\r\nBcc: all@example.com",
            mail: "eve@example.se",
            title: "x\ny",
        };
        let msg = invitation(&from, &who, "Welcome, {name} ({title})", DEFAULT_TEMPLATE).unwrap();
        let raw = String::from_utf8(msg.formatted()).unwrap();
        assert!(
            !raw.lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{raw}"
        );
        assert_eq!(msg.envelope().to().len(), 1);
    }

    #[test]
    fn message_text_is_dot_stuffed_and_ended() {
        let cases: &[(&str, &str)] = &[
            ("a\r\nb", "a\r\nb\r\n.\r\n"),
            (".a\r\n.\r\nb.", "..a\r\n..\r\nb.\r\n.\r\n"),
            ("a\r\n", "a\r\n\r\n.\r\n"),
        ];
        for (text, want) in cases {
            assert_eq!(DataText(text.as_bytes()).to_string(), *want, "{text:?}");
        }
    }

    #[test]
    fn every_message_has_message_id_date_and_mime_version() {
        let from = Mailbox::from_str("roster@example.se").unwrap();
        let who = Invitee {
            name: "Åsa Öberg",
            mail: "asa@example.se",
            title: "",
        };
        let invitation = invitation(&from, &who, DEFAULT_SUBJECT, DEFAULT_TEMPLATE).unwrap();
        let report = report(
            &from,
            &["ops@example.se".into()],
            "roster: OK",
            "t".into(),
            "<p>h</p>".into(),
            &[],
        )
        .unwrap();
        for msg in [invitation, report] {
            let raw = String::from_utf8(msg.formatted()).unwrap();
            let head = raw.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
            for name in ["message-id: <", "date: ", "mime-version: 1.0"] {
                assert!(head.contains(name), "{name}: {raw}");
            }
        }
    }
}

//! Mail with lettre: the transport (`smtp://` STARTTLS, `smtps://`, `sendmail`), invitation
//! and report messages. Names and titles reach headers only with control characters removed.

use crate::config::{MailConfig, Tls};
use lettre::message::{
    header::ContentType, Attachment, Mailbox, MessageBuilder, MultiPart, SinglePart,
};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls as SmtpTls, TlsParameters};
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
    Smtp(SmtpTransport),
    Sendmail(SendmailTransport),
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
        let (implicit, rest) = if let Some(r) = url.strip_prefix("smtps://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("smtp://") {
            (false, r)
        } else {
            return Err(crate::error::config(format!(
                "mail.smtp_url `{url}`: use smtp://host:587, smtps://host:465 or sendmail"
            )));
        };
        let hostport = rest.trim_end_matches('/');
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse::<u16>().map_err(|_| {
                    crate::error::config(format!("mail.smtp_url: bad port in `{url}`"))
                })?,
            ),
            None => (hostport.to_string(), if implicit { 465 } else { 587 }),
        };
        let mut params = TlsParameters::builder(host.clone());
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
        let tls = match (implicit, cfg.tls) {
            (true, _) => SmtpTls::Wrapper(params),
            (false, Tls::Required) => SmtpTls::Required(params),
            (false, Tls::None) => SmtpTls::None,
        };
        let mut builder = SmtpTransport::builder_dangerous(host.clone())
            .port(port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(30)));
        if let Some(user) = &cfg.username {
            if cfg.tls == Tls::None && !implicit {
                return Err(crate::error::config(
                    "mail.username is set but mail.tls = \"none\": credentials are never sent without TLS",
                ));
            }
            let password = password.ok_or_else(|| {
                crate::error::config(
                    "mail.username needs mail.password_file or ROSTER_SMTP_PASSWORD",
                )
            })?;
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Mailer {
            kind: Kind::Smtp(builder.build()),
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
            Kind::Smtp(t) => match t.test_connection() {
                Ok(true) => Ok(()),
                Ok(false) => Err(format!("{} did not answer", self.server)),
                Err(e) => Err(format!("cannot use the mail server {}: {e}", self.server)),
            },
            Kind::Sendmail(_) => Ok(()),
        }
    }

    pub fn send(&self, message: &Message) -> Result<(), SendError> {
        log::debug!(
            "smtp: sending a message to {} recipient(s) via {}",
            message.envelope().to().len(),
            self.server
        );
        match &self.kind {
            Kind::Smtp(t) => t.send(message).map(|_| ()).map_err(|e| {
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
    Ok(Message::builder()
        .from(from.clone())
        .to(Mailbox::new(Some(header_safe(who.name)), to))
        .subject(header_safe(&fill(subject, who)))
        .header(ContentType::TEXT_PLAIN)
        .body(fill(body, who))?)
}

/// The headers every message carries beside From, To and Subject: a `Message-ID` (lettre adds
/// `Date`, and `MIME-Version` to a MIME body).
pub fn stamped(builder: MessageBuilder) -> MessageBuilder {
    builder.message_id(None).date_now()
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
}

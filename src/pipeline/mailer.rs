//! The mailer that `[mail]` describes, checked before anything is written (SPEC §3), shared
//! by the invitations and the report.

use super::fetch::read_secret;
use super::invite::invitation_body;
use crate::config::Config;

/// The mailer that `[mail]` describes, or `None` when there is no `[mail]` section.
pub fn mailer(config: &Config) -> anyhow::Result<Option<crate::mail::Mailer>> {
    let Some(mail) = &config.mail else {
        return Ok(None);
    };
    // What a night will need from the mail configuration, checked before anything is written
    // (SPEC §3): the report's recipients are addresses, the invitation template can be read.
    crate::mail::check_recipients(&config.report.recipients)?;
    invitation_body(config)?;
    let password = match (&mail.password_file, &mail.password_env) {
        (Some(file), _) => Some(read_secret(file, "mail.password_file")?),
        (None, Some(env)) => Some(env.clone()),
        (None, None) => None,
    };
    crate::mail::Mailer::new(mail, password).map(Some)
}

/// `mail.max_per_minute`, 0 (no limit) without a `[mail]` section.
pub fn mail_per_minute(config: &Config) -> u32 {
    config.mail.as_ref().map_or(0, |m| m.max_per_minute)
}

//! Configuration: defaults → TOML file → `ROSTER_*` environment → flags, checked once (SPEC §4).

use crate::core::phone::{self, Region};
pub use crate::core::policy::{KeepPhones, Limit, MaxChurn, MissingUsers, UnknownGroups};
use crate::error;
use crate::input::Encoding;
use serde::{Deserialize, Deserializer};
use std::path::{Path, PathBuf};

/// `mail.tls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    #[default]
    Required,
    None,
}

/// `source.wait_for`: what `source.wait_secs` waits for (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WaitFor {
    /// A missing file.
    #[default]
    File,
    /// Also a file whose SHA-256 is that of the newest applied batch.
    New,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub store: StoreConfig,
    pub source: SourceConfig,
    pub csv: CsvConfig,
    /// `[columns]`: where each roster column is read from.
    #[serde(deserialize_with = "de_columns")]
    pub columns: crate::input::Mapping,
    pub groups: GroupsConfig,
    pub import: ImportConfig,
    pub mail: Option<MailConfig>,
    pub invitations: InvitationsConfig,
    pub report: ReportConfig,
    pub scim: Option<ScimConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    pub path: Option<PathBuf>,
    #[serde(deserialize_with = "de_keep_days")]
    pub keep_batches: u32,
    #[serde(deserialize_with = "de_keep_days")]
    pub keep_history: u32,
    /// How long a `users` or `groups` command that writes waits for a run holding the store's
    /// lock before exit 5 (SPEC §5: 30 s; longer for stores whose applies take longer).
    #[serde(deserialize_with = "de_settle")]
    pub lock_wait_secs: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: None,
            keep_batches: 30,
            keep_history: 365,
            lock_wait_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceConfig {
    pub url: Option<String>,
    pub password_file: Option<PathBuf>,
    pub identity_file: Option<PathBuf>,
    pub passphrase_file: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
    #[serde(deserialize_with = "de_timeout")]
    pub timeout_secs: u64,
    #[serde(deserialize_with = "de_retries")]
    pub retries: u32,
    #[serde(deserialize_with = "de_settle")]
    pub settle_secs: u64,
    /// How long a missing remote file is polled for before the night fails.
    #[serde(deserialize_with = "de_settle")]
    pub wait_secs: u64,
    /// `"new"`: the wait also covers the file of the newest applied batch still lying there.
    pub wait_for: WaitFor,
    #[serde(deserialize_with = "de_stale_days")]
    pub stale_after_days: u32,
    pub delete_after_import: bool,
    /// From `ROSTER_SFTP_PASSWORD`; never from the file or a flag.
    #[serde(skip)]
    pub password_env: Option<String>,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            url: None,
            password_file: None,
            identity_file: None,
            passphrase_file: None,
            known_hosts: None,
            timeout_secs: 30,
            retries: 3,
            settle_secs: 60,
            wait_secs: 0,
            wait_for: WaitFor::File,
            stale_after_days: 3,
            delete_after_import: false,
            password_env: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CsvConfig {
    #[serde(deserialize_with = "de_delimiter")]
    pub delimiter: Option<u8>,
    #[serde(deserialize_with = "de_encoding")]
    pub encoding: Encoding,
    #[serde(deserialize_with = "de_separator")]
    pub group_separator: String,
    #[serde(deserialize_with = "de_region")]
    pub default_region: Option<Region>,
    #[serde(deserialize_with = "de_size")]
    pub max_file_bytes: u64,
    #[serde(deserialize_with = "de_cell_chars")]
    pub max_cell_chars: usize,
}

impl Default for CsvConfig {
    fn default() -> Self {
        CsvConfig {
            delimiter: None,
            encoding: Encoding::Auto,
            group_separator: ",".into(),
            default_region: None,
            max_file_bytes: 1 << 30,
            max_cell_chars: crate::core::record::MAX_CELL_CHARS,
        }
    }
}

/// `[groups]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupsConfig {
    /// A Group ID as the file writes it → the Group ID in the store.
    #[serde(deserialize_with = "de_aliases")]
    pub aliases: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportConfig {
    pub missing_users: MissingUsers,
    #[serde(deserialize_with = "de_positive")]
    pub remove_after_missing: u32,
    #[serde(deserialize_with = "de_limit")]
    pub max_removals: Limit,
    #[serde(deserialize_with = "de_limit")]
    pub max_updates: Limit,
    #[serde(deserialize_with = "de_limit")]
    pub max_invalid: Limit,
    pub unknown_groups: UnknownGroups,
    /// The churn safeguard: a count above this many times its median of the last nights.
    #[serde(deserialize_with = "de_max_churn")]
    pub max_churn: MaxChurn,
    /// Counts at or under this never trip the churn safeguard.
    pub churn_floor: u64,
    #[serde(deserialize_with = "de_keep_phones")]
    pub keep_manual_phones: KeepPhones,
    /// A new record may take the address of a deactivated user, whose mail is then cleared.
    pub reuse_mail_of_deactivated: bool,
    pub send_invitations: bool,
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig {
            missing_users: MissingUsers::Deactivate,
            remove_after_missing: 1,
            max_removals: Limit::Percent(10.0),
            max_updates: Limit::Percent(20.0),
            max_invalid: Limit::Percent(5.0),
            unknown_groups: UnknownGroups::Warn,
            max_churn: MaxChurn::Factor(10.0),
            churn_floor: 50,
            keep_manual_phones: KeepPhones::default(),
            reuse_mail_of_deactivated: false,
            send_invitations: false,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    pub smtp_url: Option<String>,
    pub tls: Tls,
    pub ca_file: Option<PathBuf>,
    pub from: Option<String>,
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    /// Invitations per minute at most (0: no limit), for relays that throttle.
    pub max_per_minute: u32,
    /// From `ROSTER_SMTP_PASSWORD`; never from the file or a flag.
    #[serde(skip)]
    pub password_env: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InvitationsConfig {
    pub subject: Option<String>,
    pub template_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportConfig {
    pub recipients: Vec<String>,
    pub daily: bool,
    /// The CSV attachments' delimiter: `,` or `;` (for a spreadsheet in a comma-decimal locale).
    #[serde(deserialize_with = "de_csv_delimiter")]
    pub csv_delimiter: u8,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            recipients: Vec::new(),
            daily: true,
            csv_delimiter: b',',
        }
    }
}

/// `scim.removed`: what a user who leaves the directory becomes on the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScimRemoved {
    /// PATCH `active: false`.
    #[default]
    Deactivate,
    /// DELETE the user.
    Delete,
}

/// `[scim]`: the SCIM 2.0 service provider that `roster push` keeps in step (SPEC §8).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScimConfig {
    pub url: Option<String>,
    pub token_file: Option<PathBuf>,
    pub tls: Tls,
    pub ca_file: Option<PathBuf>,
    #[serde(deserialize_with = "de_timeout")]
    pub timeout_secs: u64,
    #[serde(deserialize_with = "de_retries")]
    pub retries: u32,
    pub removed: ScimRemoved,
    pub groups: bool,
    /// A change waiting longer than this to be pushed makes `status` unhealthy (0: never).
    #[serde(deserialize_with = "de_pending_minutes")]
    pub max_pending_minutes: u32,
    /// The largest answer read from the provider, in bytes (SPEC §8; 16 MiB).
    #[serde(deserialize_with = "de_response_bytes")]
    pub max_response_bytes: u64,
    /// Only so that a token written in the file is refused by name, never echoed.
    #[serde(default)]
    token: Option<serde::de::IgnoredAny>,
    /// From `ROSTER_SCIM_TOKEN`; never from the file or a flag.
    #[serde(skip)]
    pub token_env: Option<String>,
}

impl Default for ScimConfig {
    fn default() -> Self {
        ScimConfig {
            url: None,
            token_file: None,
            tls: Tls::Required,
            ca_file: None,
            timeout_secs: 30,
            retries: 3,
            removed: ScimRemoved::Deactivate,
            groups: true,
            max_pending_minutes: 60,
            max_response_bytes: 16 << 20,
            token: None,
            token_env: None,
        }
    }
}

impl ScimConfig {
    /// The base URL without a trailing slash (checked by [`check_scim_url`] when loaded).
    pub fn base(&self) -> &str {
        self.url.as_deref().unwrap_or("").trim_end_matches('/')
    }

    /// The bearer token: `ROSTER_SCIM_TOKEN`, else the first line of `token_file`.
    pub fn token(&self) -> anyhow::Result<String> {
        if let Some(t) = &self.token_env {
            return Ok(t.clone());
        }
        let Some(path) = &self.token_file else {
            return Err(error::config(
                "[scim] needs a bearer token: set scim.token_file or ROSTER_SCIM_TOKEN",
            ));
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            error::config(format!(
                "scim.token_file: cannot read {}: {}",
                path.display(),
                e.kind()
            ))
        })?;
        let token = text.lines().next().unwrap_or("").trim().to_string();
        if token.is_empty() {
            return Err(error::config(format!(
                "scim.token_file: {} holds no token",
                path.display()
            )));
        }
        Ok(token)
    }
}

/// `scim.url`: http(s), no credentials in it; plain http and `tls = "none"` only to loopback.
pub fn check_scim_url(url: &str, tls: Tls) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    let (https, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err("scim.url must be an https:// URL like https://app.example/scim/v2".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') || query_has_secret(rest) {
        return Err(
            "scim.url may not hold credentials; use scim.token_file or ROSTER_SCIM_TOKEN".into(),
        );
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    if host.is_empty() {
        return Err("scim.url names no host".into());
    }
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if tls == Tls::None && !loopback {
        return Err(format!(
            "scim.tls = \"none\" is allowed for a loopback address only, not for {host}"
        ));
    }
    if !https && tls == Tls::Required {
        return Err(
            "scim.url is http:// but scim.tls is \"required\": use https://, or tls = \"none\" for a loopback address"
                .into(),
        );
    }
    Ok(())
}

/// A configuration value as an error shows it: a string without its quotes (the scrubber of
/// configuration errors blanks quoted text).
fn bare(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn custom<E: serde::de::Error>(message: String) -> E {
    E::custom(message)
}

fn de_delimiter<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    let s = String::deserialize(d)?;
    match s.as_str() {
        "auto" => Ok(None),
        "," => Ok(Some(b',')),
        ";" => Ok(Some(b';')),
        "\t" | "\\t" | "tab" => Ok(Some(b'\t')),
        "|" => Ok(Some(b'|')),
        _ => Err(custom(format!(
            "`{s}` is not a delimiter: use `,`, `;`, `\\t`, `|` or `auto`"
        ))),
    }
}

fn de_encoding<'de, D: Deserializer<'de>>(d: D) -> Result<Encoding, D::Error> {
    let s = String::deserialize(d)?;
    parse_encoding(&s).map_err(custom)
}

/// An encoding's name as `csv.encoding` and `groups import --encoding` take it.
pub fn parse_encoding(s: &str) -> Result<Encoding, String> {
    match s.to_ascii_lowercase().as_str() {
        "auto" => Ok(Encoding::Auto),
        "utf-8" | "utf8" => Ok(Encoding::Utf8),
        "utf-16" | "utf16" => Ok(Encoding::Utf16),
        "windows-1252" | "cp1252" => Ok(Encoding::Windows1252),
        _ => Err(format!(
            "`{s}` is not an encoding: use `utf-8`, `utf-16`, `windows-1252` or `auto`"
        )),
    }
}

fn de_separator<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() || s.chars().any(char::is_control) {
        return Err(custom(format!("`{s}` is not a usable group separator")));
    }
    Ok(s)
}

fn de_csv_delimiter<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let s = String::deserialize(d)?;
    match s.as_str() {
        "," => Ok(b','),
        ";" => Ok(b';'),
        _ => Err(custom(format!(
            "`{s}` is not an attachment delimiter: use `,` or `;`"
        ))),
    }
}

/// A `[columns]` value: a roster column's source, or the `ignore` list.
#[derive(Deserialize)]
#[serde(untagged)]
enum ColumnsValue {
    Source(String),
    Ignore(Vec<String>),
}

fn de_columns<'de, D: Deserializer<'de>>(d: D) -> Result<crate::input::Mapping, D::Error> {
    let table = std::collections::BTreeMap::<String, ColumnsValue>::deserialize(d)?;
    let mut sources = std::collections::BTreeMap::new();
    let mut ignore = Vec::new();
    for (key, value) in table {
        match (key.as_str(), value) {
            ("ignore", ColumnsValue::Ignore(headers)) => ignore = headers,
            ("ignore", ColumnsValue::Source(_)) => {
                return Err(custom(
                    "columns.ignore: a list of source headers, like [`Kostnadsställe`]".into(),
                ))
            }
            (_, ColumnsValue::Source(source)) => {
                sources.insert(key, source);
            }
            (_, ColumnsValue::Ignore(_)) => {
                return Err(custom(format!(
                    "columns.{key}: a source header or a template, not a list"
                )))
            }
        }
    }
    let mut mapping = crate::input::Mapping::parse(&sources).map_err(custom)?;
    mapping.ignore = crate::input::mapping::check_ignored(ignore).map_err(custom)?;
    Ok(mapping)
}

fn de_aliases<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<std::collections::BTreeMap<String, String>, D::Error> {
    let table = std::collections::BTreeMap::<String, String>::deserialize(d)?;
    crate::input::mapping::check_aliases(&table).map_err(custom)?;
    Ok(table
        .into_iter()
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

fn de_region<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Region>, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Ok(None);
    }
    phone::parse_region(&s)
        .map(Some)
        .ok_or_else(|| custom(format!("`{s}` is not a region code like `SE`")))
}

/// A size: a number of bytes, or text like `"1GiB"`, `"500MB"`, `"64k"`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size like `1GiB`"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "`{s}` has an unknown unit: use B, KB, KiB, MB, MiB, GB or GiB"
            ))
        }
    };
    Ok((num * mult as f64) as u64)
}

/// The largest `csv.max_file_bytes`: a file is read into memory whole.
const MAX_FILE_BYTES_LIMIT: u64 = 64 << 30;

fn de_size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = match toml::Value::deserialize(d)? {
        toml::Value::Integer(n) if n > 0 => n as u64,
        toml::Value::String(s) => parse_size(&s).map_err(custom)?,
        _ => return Err(custom("must be a size like `1GiB`".to_string())),
    };
    if n == 0 || n > MAX_FILE_BYTES_LIMIT {
        return Err(custom("must be a size from 1 byte to 64GiB".to_string()));
    }
    Ok(n)
}

/// A whole number within `lo..=hi`; the message names the range, never the value.
fn ranged<'de, D: Deserializer<'de>>(d: D, lo: i64, hi: i64, unit: &str) -> Result<i64, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::Integer(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(custom(format!(
            "must be a whole number of {unit} from {lo} to {hi}"
        ))),
    }
}

/// Days of `store.keep_*`: at most a century, so that a cut-off date is always a date.
fn de_keep_days<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    ranged(d, 0, 36_500, "days").map(|n| n as u32)
}

fn de_stale_days<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    ranged(d, 1, 36_500, "days").map(|n| n as u32)
}

/// A timeout: at least a second, at most a day.
fn de_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    ranged(d, 1, 86_400, "seconds").map(|n| n as u64)
}

fn de_settle<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    ranged(d, 0, 86_400, "seconds").map(|n| n as u64)
}

/// `scim.max_pending_minutes`: up to a week; 0 turns the check off.
fn de_pending_minutes<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::Integer(n) if n == 0 || (1..=10_080).contains(&n) => Ok(n as u32),
        _ => Err(custom(
            "must be a whole number of minutes from 1 to 10080, or 0 for never".to_string(),
        )),
    }
}

fn de_response_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    ranged(d, 1024, 1 << 40, "bytes").map(|n| n as u64)
}

fn de_retries<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    ranged(d, 0, 100, "retries").map(|n| n as u32)
}

/// The largest `csv.max_cell_chars`: a cell of a million characters is no name nor mail.
const MAX_CELL_CHARS_LIMIT: i64 = 1_000_000;

fn de_cell_chars<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::Integer(n) if (1..=MAX_CELL_CHARS_LIMIT).contains(&n) => Ok(n as usize),
        _ => Err(custom(format!(
            "must be a whole number from 1 to {MAX_CELL_CHARS_LIMIT}"
        ))),
    }
}

fn de_positive<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = i64::deserialize(d)?;
    u32::try_from(n)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| custom(format!("`{n}` must be a whole number of at least 1")))
}

fn de_limit<'de, D: Deserializer<'de>>(d: D) -> Result<Limit, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::Integer(n) if n >= 0 => Ok(Limit::Count(n as u64)),
        toml::Value::String(s) => Limit::parse(&s).map_err(custom),
        other => Err(custom(format!(
            "`{other}` is not a count like 50 or a share like 10%"
        ))),
    }
}

fn de_max_churn<'de, D: Deserializer<'de>>(d: D) -> Result<MaxChurn, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) => MaxChurn::parse(&s).map_err(custom),
        toml::Value::Integer(n) => MaxChurn::parse(&n.to_string()).map_err(custom),
        toml::Value::Float(n) => MaxChurn::parse(&n.to_string()).map_err(custom),
        other => Err(custom(format!(
            "`{other}` is not a factor like 10x (at least 1x) or off"
        ))),
    }
}

fn de_keep_phones<'de, D: Deserializer<'de>>(d: D) -> Result<KeepPhones, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::Boolean(b) => Ok(KeepPhones {
            primary: b,
            secondary: b,
        }),
        toml::Value::String(s) if s == "primary" => Ok(KeepPhones {
            primary: true,
            secondary: false,
        }),
        toml::Value::String(s) if s == "secondary" => Ok(KeepPhones {
            primary: false,
            secondary: true,
        }),
        other => Err(custom(format!(
            "`{}` is not one of true, false, `primary`, `secondary`",
            bare(&other)
        ))),
    }
}

/// What the environment says, read once so that tests can pass their own.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub config: Option<PathBuf>,
    pub store: Option<PathBuf>,
    pub sftp_password: Option<String>,
    pub smtp_password: Option<String>,
    pub scim_token: Option<String>,
    pub xdg_data_home: Option<PathBuf>,
    pub home: Option<PathBuf>,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        Env {
            config: var("ROSTER_CONFIG").map(PathBuf::from),
            store: var("ROSTER_STORE").map(PathBuf::from),
            sftp_password: std::env::var("ROSTER_SFTP_PASSWORD")
                .ok()
                .filter(|v| !v.is_empty()),
            smtp_password: std::env::var("ROSTER_SMTP_PASSWORD")
                .ok()
                .filter(|v| !v.is_empty()),
            scim_token: std::env::var("ROSTER_SCIM_TOKEN")
                .ok()
                .filter(|v| !v.is_empty()),
            xdg_data_home: var("XDG_DATA_HOME").map(PathBuf::from),
            home: var("HOME").map(PathBuf::from),
        }
    }
}

/// The flags that override configuration.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub store: Option<PathBuf>,
    pub source: Option<String>,
}

impl Config {
    /// A fingerprint of the settings that shape a file's plan (SPEC §2): `[columns]`,
    /// `[groups.aliases]`, `csv.*`, and `import.unknown_groups`, `missing_users`,
    /// `keep_manual_phones` and `reuse_mail_of_deactivated`; not the safeguard limits nor
    /// `send_invitations`. A batch applied under other settings is planned again.
    pub fn plan_fingerprint(&self) -> String {
        use sha2::Digest as _;
        let i = &self.import;
        let text = format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            self.columns,
            self.groups.aliases,
            self.csv,
            i.unknown_groups,
            i.missing_users,
            i.keep_manual_phones,
            i.reuse_mail_of_deactivated
        );
        let digest = sha2::Sha256::digest(text.as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// Parse a configuration text; relative paths are taken from `base`.
    pub fn parse(text: &str, base: &Path) -> anyhow::Result<Config> {
        let table: toml::Table = text
            .parse()
            .map_err(|e| error::config(toml_error(text, &e)))?;
        refuse_secrets(&table, "")?;
        let mut config: Config =
            toml::from_str(text).map_err(|e| error::config(toml_error(text, &e)))?;
        let fix = |p: &mut Option<PathBuf>| {
            if let Some(path) = p.as_mut() {
                if path.is_relative() && !path.starts_with("~") {
                    *path = base.join(&*path);
                }
            }
        };
        fix(&mut config.store.path);
        fix(&mut config.source.password_file);
        fix(&mut config.source.identity_file);
        fix(&mut config.source.passphrase_file);
        fix(&mut config.source.known_hosts);
        fix(&mut config.invitations.template_file);
        if let Some(mail) = config.mail.as_mut() {
            fix(&mut mail.ca_file);
            fix(&mut mail.password_file);
            if mail.smtp_url.is_none() {
                return Err(error::config(
                    "[mail] needs smtp_url (smtp://host:587, smtps://host:465 or sendmail)",
                ));
            }
            if mail.smtp_url.as_deref().is_some_and(url_has_password) {
                return Err(error::config(
                    "mail.smtp_url: a password may not be written in the URL; use mail.username with \
                     mail.password_file or ROSTER_SMTP_PASSWORD",
                ));
            }
            if mail.from.is_none() {
                return Err(error::config("[mail] needs from, the sender address"));
            }
        }
        if let Some(scim) = config.scim.as_mut() {
            fix(&mut scim.token_file);
            fix(&mut scim.ca_file);
            if scim.token.is_some() {
                return Err(error::config(
                    "scim.token: a token may not be written in the configuration; use scim.token_file or ROSTER_SCIM_TOKEN",
                ));
            }
            let Some(url) = &scim.url else {
                return Err(error::config(
                    "[scim] needs url, the provider's base (https://app.example/scim/v2)",
                ));
            };
            check_scim_url(url, scim.tls).map_err(error::config)?;
            if scim.timeout_secs == 0 || scim.timeout_secs > 86_400 {
                return Err(error::config(
                    "scim.timeout_secs must be between 1 and 86400",
                ));
            }
            if scim.retries > 100 {
                return Err(error::config("scim.retries must be at most 100"));
            }
        }
        if let Some(url) = &config.source.url {
            check_source_url(url).map_err(|m| error::config(format!("source.url: {m}")))?;
        }
        Ok(config)
    }

    /// Load the configuration: `--config`, else `$ROSTER_CONFIG`, else `./roster.toml` when it
    /// exists, else the defaults; then the environment and the flags.
    pub fn load(overrides: &Overrides, env: &Env) -> anyhow::Result<Config> {
        let path = overrides
            .config
            .clone()
            .or_else(|| env.config.clone())
            .or_else(|| Some(PathBuf::from("roster.toml")).filter(|p| p.is_file()));
        let mut config = match &path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| error::config(format!("cannot read {}: {e}", path.display())))?;
                let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
                Config::parse(&text, &base).map_err(|e| {
                    error::config(format!(
                        "{}: {}",
                        path.display(),
                        e.to_string().trim_start_matches("configuration: ")
                    ))
                })?
            }
            None => Config::default(),
        };
        if let Some(store) = &env.store {
            config.store.path = Some(store.clone());
        }
        if let Some(store) = &overrides.store {
            config.store.path = Some(store.clone());
        }
        if config.store.path.is_none() {
            let data = env
                .xdg_data_home
                .clone()
                .or_else(|| env.home.as_ref().map(|h| h.join(".local/share")))
                .ok_or_else(|| error::config("no store path: set store.path, ROSTER_STORE or --store (neither XDG_DATA_HOME nor HOME is set)"))?;
            config.store.path = Some(data.join("roster").join("roster.db"));
        }
        if let Some(source) = &overrides.source {
            check_source_url(source).map_err(|m| error::usage(format!("--source: {m}")))?;
            config.source.url = Some(source.clone());
        }
        config.source.password_env = env.sftp_password.clone();
        let home = env.home.clone().unwrap_or_default();
        let expand = |p: &mut Option<PathBuf>| {
            if let Some(path) = p.as_mut() {
                if let Ok(rest) = path.strip_prefix("~") {
                    *path = home.join(rest);
                }
            }
        };
        expand(&mut config.source.known_hosts);
        expand(&mut config.source.identity_file);
        expand(&mut config.source.password_file);
        expand(&mut config.source.passphrase_file);
        if config.source.known_hosts.is_none() {
            config.source.known_hosts = Some(home.join(".ssh/known_hosts"));
        }
        if let Some(mail) = config.mail.as_mut() {
            mail.password_env = env.smtp_password.clone();
        }
        if let Some(scim) = config.scim.as_mut() {
            scim.token_env = env.scim_token.clone();
            expand(&mut scim.token_file);
            expand(&mut scim.ca_file);
        }
        Ok(config)
    }

    pub fn store_path(&self) -> &Path {
        self.store.path.as_deref().unwrap_or(Path::new("roster.db"))
    }

    /// The read options that `[csv]` describes.
    pub fn read_options(&self) -> crate::input::ReadOptions {
        crate::input::ReadOptions {
            delimiter: self.csv.delimiter,
            encoding: self.csv.encoding,
            max_file_bytes: self.csv.max_file_bytes,
            rules: crate::core::record::Rules {
                group_separator: self.csv.group_separator.clone(),
                region: self.csv.default_region,
                max_cell_chars: self.csv.max_cell_chars,
                aliases: self.groups.aliases.clone().into_iter().collect(),
            },
            mapping: self.columns.clone(),
        }
    }
}

/// A TOML error as a configuration error: the line and the key it is about, and toml's
/// message with anything it quotes in double quotes cut out. Never the line itself, which may
/// hold a secret (SPEC §4).
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = redact_quoted(e.message().trim_end());
    let Some(span) = e.span() else {
        return message;
    };
    let start = span.start.min(text.len());
    let line_no = text.as_bytes()[..start]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1;
    let mut section = String::new();
    let mut key = None;
    for (i, line) in text.lines().enumerate().take(line_no) {
        let line = line.trim();
        if line.starts_with('[') {
            section = line
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
        }
        if i + 1 == line_no {
            key = line
                .split_once('=')
                .map(|(k, _)| k.trim().trim_matches('"').to_string())
                .filter(|k| !k.is_empty() && !k.contains(char::is_whitespace));
        }
    }
    match key {
        Some(k) if section.is_empty() => format!("line {line_no}, key {k}: {message}"),
        Some(k) => format!("line {line_no}, key {section}.{k}: {message}"),
        None => format!("line {line_no}: {message}"),
    }
}

/// Text with the contents of every double-quoted string replaced by `…`.
fn redact_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push(c);
                if quoted {
                    out.push('…');
                }
            }
            _ if quoted => {}
            c => out.push(c),
        }
    }
    out
}

/// A key that holds a password is refused wherever it is, by name, never quoting its value:
/// passwords come from `*_file` keys or the environment (SPEC §4).
fn refuse_secrets(table: &toml::Table, path: &str) -> anyhow::Result<()> {
    for (key, value) in table {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let lower = key.to_ascii_lowercase();
        if lower == "password" || lower.ends_with("_password") || lower == "passphrase" {
            return Err(error::config(format!(
                "{full}: a password is never written in the configuration file; use \
                 source.password_file / mail.password_file or ROSTER_SFTP_PASSWORD / ROSTER_SMTP_PASSWORD"
            )));
        }
        if let toml::Value::Table(inner) = value {
            refuse_secrets(inner, &full)?;
        }
    }
    Ok(())
}

/// True when a URL carries a password in its user part (`scheme://user:password@host`), in
/// any letter case of the scheme.
pub fn url_has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // `user:password@`, also with the colon percent-encoded (`user%3Apassword@`).
    let in_userinfo = authority
        .rsplit_once('@')
        .is_some_and(|(user, _)| user.contains(':') || user.to_ascii_lowercase().contains("%3a"));
    in_userinfo || query_has_secret(rest)
}

/// Whether a URL's query or fragment names a secret (`?password=…`, `?token=…`, `&Pass=…`).
fn query_has_secret(rest: &str) -> bool {
    let Some(i) = rest.find(['?', '#']) else {
        return false;
    };
    rest[i + 1..].split(['&', ';', '#', '?']).any(|pair| {
        let name = pair.split('=').next().unwrap_or("").to_ascii_lowercase();
        [
            "pass",
            "pwd",
            "secret",
            "token",
            "auth",
            "key",
            "credential",
        ]
        .iter()
        .any(|word| name.contains(word))
    })
}

/// Whether a source that is no `scheme://` URL still reads like one with a password in it
/// (`sftp:/user:password@host/…`, scp's `user:password@host:path`): a colon in the part that
/// would be `user:password` before an `@`. Such a source is refused rather than read as a local
/// path, whose errors would echo it.
fn path_has_password(source: &str) -> bool {
    source.rsplit_once('@').is_some_and(|(before, _)| {
        let user = before.rsplit('/').next().unwrap_or(before);
        user.contains(':')
    })
}

/// A source is `sftp://user@host[:port]/path`, a local path or `-`. Passwords never go in it.
pub fn check_source_url(url: &str) -> Result<(), String> {
    if url_has_password(url) || (!url.contains("://") && path_has_password(url)) {
        return Err("a password may not be written in the URL; use source.password_file or ROSTER_SFTP_PASSWORD".into());
    }
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if let (Some("sftp"), Some((_, rest))) = (scheme.as_deref(), url.split_once("://")) {
        if !rest.contains('/') || rest.ends_with('/') {
            return Err(format!(
                "`{url}` names no file: use sftp://user@host[:port]/path/file.csv"
            ));
        }
    } else if url.contains("://") {
        return Err(format!(
            "`{url}`: only sftp:// URLs, local paths and - are sources"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_in_any_disguise_are_found_in_urls_and_sources() {
        for (source, refused) in [
            ("sftp://hr@host/x.csv", false),
            ("sftp://hr:pw@host/x.csv", true),
            ("SFTP://hr:pw@host/x.csv", true),
            ("sftp://hr%3Apw@host/x.csv", true),
            ("sftp://hr%3apw@host/x.csv", true),
            ("sftp://hr@host/x.csv?password=pw", true),
            ("sftp://hr@host/x.csv#Token=pw", true),
            ("sftp://hr@host/x.csv?version=2", false),
            ("sftp:/hr:pw@host/x.csv", true),
            ("sftp:hr:pw@host/x.csv", true),
            ("hr:pw@host:/x.csv", true),
            ("/data/users@2026.csv", false),
            ("/data/users.csv", false),
            ("-", false),
        ] {
            let got = check_source_url(source).is_err_and(|m| m.contains("password"));
            assert_eq!(got, refused, "{source}");
        }
        for (url, refused) in [
            ("https://app.example/scim", false),
            ("https://app.example/scim?token=x", true),
            ("https://app.example/scim?access_token=x", true),
            ("https://app.example/scim?page=2", false),
        ] {
            assert_eq!(
                check_scim_url(url, Tls::Required).is_err(),
                refused,
                "{url}"
            );
        }
    }

    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("/etc/roster")).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_match_the_spec() {
        let c = parse("").unwrap_or_default();
        assert_eq!(c.store.keep_batches, 30);
        assert_eq!(c.store.keep_history, 365);
        assert_eq!(c.source.timeout_secs, 30);
        assert_eq!(c.source.retries, 3);
        assert_eq!(c.source.settle_secs, 60);
        assert_eq!(c.source.stale_after_days, 3);
        assert!(!c.source.delete_after_import);
        assert_eq!(c.csv.delimiter, None);
        assert_eq!(c.csv.encoding, Encoding::Auto);
        assert_eq!(c.csv.group_separator, ",");
        assert_eq!(c.csv.default_region, None);
        assert_eq!(c.csv.max_file_bytes, 1 << 30);
        assert_eq!(c.import.missing_users, MissingUsers::Deactivate);
        assert_eq!(c.import.remove_after_missing, 1);
        assert_eq!(c.import.max_removals, Limit::Percent(10.0));
        assert_eq!(c.import.max_invalid, Limit::Percent(5.0));
        assert_eq!(c.import.max_updates, Limit::Percent(20.0));
        assert_eq!(c.import.unknown_groups, UnknownGroups::Warn);
        assert_eq!(c.import.max_churn, MaxChurn::Factor(10.0));
        assert_eq!(c.import.churn_floor, 50);
        assert_eq!(c.import.keep_manual_phones, KeepPhones::default());
        assert!(!c.import.send_invitations);
        assert!(c.mail.is_none());
        assert!(c.report.recipients.is_empty());
        assert!(c.report.daily);
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn values_are_read() {
        let ok: &[(&str, fn(&Config) -> bool)] = &[
            ("[csv]\ndelimiter = \";\"", |c| c.csv.delimiter == Some(b';')),
            ("[csv]\ndelimiter = \"\\t\"", |c| c.csv.delimiter == Some(b'\t')),
            ("[csv]\nencoding = \"windows-1252\"", |c| c.csv.encoding == Encoding::Windows1252),
            ("[csv]\ndefault_region = \"se\"", |c| c.csv.default_region.is_some()),
            ("[csv]\nmax_file_bytes = \"500MB\"", |c| c.csv.max_file_bytes == 500_000_000),
            ("[csv]\nmax_file_bytes = 1024", |c| c.csv.max_file_bytes == 1024),
            ("[import]\nmax_removals = 50", |c| c.import.max_removals == Limit::Count(50)),
            ("[import]\nmax_invalid = \"2.5%\"", |c| c.import.max_invalid == Limit::Percent(2.5)),
            ("[import]\nmax_updates = 300", |c| c.import.max_updates == Limit::Count(300)),
            ("[import]\nunknown_groups = \"create\"", |c| c.import.unknown_groups == UnknownGroups::Create),
            ("[import]\nunknown_groups = \"block\"", |c| c.import.unknown_groups == UnknownGroups::Block),
            ("[import]\nmax_churn = \"off\"", |c| c.import.max_churn == MaxChurn::Off),
            ("[import]\nmax_churn = \"2.5x\"", |c| c.import.max_churn == MaxChurn::Factor(2.5)),
            ("[import]\nchurn_floor = 10", |c| c.import.churn_floor == 10),
            ("[import]\nkeep_manual_phones = true", |c| c.import.keep_manual_phones == KeepPhones { primary: true, secondary: true }),
            ("[import]\nkeep_manual_phones = \"secondary\"", |c| c.import.keep_manual_phones == KeepPhones { primary: false, secondary: true }),
            ("[import]\nmissing_users = \"delete\"", |c| c.import.missing_users == MissingUsers::Delete),
            ("[store]\npath = \"data/r.db\"", |c| c.store.path.as_deref() == Some(Path::new("/etc/roster/data/r.db"))),
            ("[mail]\nsmtp_url = \"smtp://localhost:25\"\nfrom = \"r@example.se\"\ntls = \"none\"", |c| c.mail.as_ref().is_some_and(|m| m.tls == Tls::None)),
            ("[source]\nurl = \"sftp://hr@sftp.example.se:2222/out/users.csv\"", |c| c.source.url.is_some()),
            ("[scim]\nurl = \"https://app.example/scim/v2\"", |c| c.scim.as_ref().is_some_and(|s| s.timeout_secs == 30 && s.retries == 3 && s.groups && s.removed == ScimRemoved::Deactivate && s.tls == Tls::Required)),
            ("[scim]\nurl = \"http://127.0.0.1:8080\"\ntls = \"none\"\nremoved = \"delete\"\ngroups = false", |c| c.scim.as_ref().is_some_and(|s| s.removed == ScimRemoved::Delete && !s.groups)),
            ("[scim]\nurl = \"http://[::1]:8080/scim\"\ntls = \"none\"\ntoken_file = \"scim.token\"", |c| c.scim.as_ref().is_some_and(|s| s.token_file.as_deref() == Some(Path::new("/etc/roster/scim.token")))),
            ("[scim]\nurl = \"HTTP://localhost:8080\"\ntls = \"none\"\ntimeout_secs = 5\nretries = 0", |c| c.scim.as_ref().is_some_and(|s| s.timeout_secs == 5 && s.retries == 0)),
            ("[scim]\nurl = \"https://app.example/scim\"", |c| c.scim.as_ref().is_some_and(|s| s.max_response_bytes == 16 << 20)),
            ("[scim]\nurl = \"https://app.example/scim\"\nmax_response_bytes = 1048576", |c| c.scim.as_ref().is_some_and(|s| s.max_response_bytes == 1 << 20)),
            ("[import]\nreuse_mail_of_deactivated = true", |c| c.import.reuse_mail_of_deactivated),
        ];
        for (text, check) in ok {
            let c = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(check(&c), "{text}");
        }
    }

    #[test]
    fn bad_values_are_refused_by_their_key() {
        let bad: &[(&str, &str)] = &[
            ("[csv]\ndelimiter = \":\"", "delimiter"),
            ("[csv]\nencoding = \"latin9\"", "encoding"),
            ("[csv]\ndefault_region = \"XX\"", "default_region"),
            ("[csv]\nmax_file_bytes = \"lots\"", "max_file_bytes"),
            ("[import]\nmax_removals = \"150%\"", "max_removals"),
            ("[import]\nmax_invalid = -1", "max_invalid"),
            ("[import]\nmax_updates = \"101%\"", "max_updates"),
            ("[import]\nunknown_groups = \"ignore\"", "unknown_groups"),
            ("[import]\nmax_churn = \"ten\"", "max_churn"),
            ("[import]\nmax_churn = \"0.5x\"", "max_churn"),
            ("[import]\nchurn_floor = -1", "churn_floor"),
            ("[import]\nremove_after_missing = 0", "remove_after_missing"),
            (
                "[import]\nkeep_manual_phones = \"both\"",
                "keep_manual_phones",
            ),
            ("[import]\nmissing_users = \"purge\"", "missing_users"),
            ("[import]\nmax_removal = 5", "max_removal"),
            ("[stor]\npath = \"x\"", "stor"),
            ("[mail]\nfrom = \"r@example.se\"", "smtp_url"),
            (
                "[source]\nurl = \"sftp://hr:secret@host/x.csv\"",
                "password",
            ),
            ("[source]\nurl = \"https://host/x.csv\"", "source.url"),
            ("[scim]\ntoken_file = \"t\"", "url"),
            ("[scim]\nurl = \"ftp://app.example/scim\"", "scim.url"),
            ("[scim]\nurl = \"http://app.example/scim\"", "scim.tls"),
            (
                "[scim]\nurl = \"http://app.example/scim\"\ntls = \"none\"",
                "loopback",
            ),
            (
                "[scim]\nurl = \"https://app.example/scim\"\ntls = \"none\"",
                "loopback",
            ),
            (
                "[scim]\nurl = \"https://u:secret@app.example/scim\"",
                "credentials",
            ),
            (
                "[scim]\nurl = \"https://app.example/scim\"\ntls = \"maybe\"",
                "tls",
            ),
            (
                "[scim]\nurl = \"https://app.example/scim\"\nremoved = \"purge\"",
                "removed",
            ),
            (
                "[scim]\nurl = \"https://app.example/scim\"\ngroups = \"yes\"",
                "groups",
            ),
            (
                "[scim]\nurl = \"https://app.example/scim\"\ntimeout_secs = 0",
                "timeout_secs",
            ),
            (
                "[scim]\nurl = \"https://app.example/scim\"\nmax_response_bytes = 0",
                "max_response_bytes",
            ),
            (
                "[scim]\nurl = \"https://app.example/scim\"\nretries = -1",
                "retries",
            ),
            (
                "[scim]\nurl = \"https://app.example/scim\"\nbulk = true",
                "bulk",
            ),
        ];
        for (text, key) in bad {
            let err = parse(text)
                .err()
                .unwrap_or_else(|| panic!("{text} was accepted"));
            assert!(err.contains(key), "{text}: {err}");
        }
    }

    /// An error about a value names the forms the key takes: none of them is blanked by the
    /// scrubber that hides quoted text in configuration errors.
    #[test]
    fn a_bad_value_names_the_forms_its_key_takes() {
        let bad = [
            ("[csv]\ndelimiter = \"x\"", "`auto`"),
            ("[csv]\nencoding = \"ebcdic\"", "`windows-1252`"),
            ("[csv]\ndefault_region = \"XX\"", "`SE`"),
            ("[csv]\nmax_file_bytes = \"lots\"", "`1GiB`"),
            ("[csv]\nmax_file_bytes = true", "`1GiB`"),
            (
                "[import]\nkeep_manual_phones = \"both\"",
                "`both` is not one of",
            ),
            ("[import]\nkeep_manual_phones = 3", "`secondary`"),
            (
                "[columns]\nignore = \"Kostnadsställe\"",
                "[`Kostnadsställe`]",
            ),
        ];
        for (text, form) in bad {
            let err = parse(text)
                .err()
                .unwrap_or_else(|| panic!("{text} was accepted"));
            assert!(err.contains(form), "{text}: {err}");
            assert!(!err.contains("\"…\""), "{text}: {err}");
        }
    }

    /// A token in the file is refused by its key, and its value is never echoed, also when
    /// its key is mistyped or its value is not what the key takes.
    #[test]
    fn a_scim_token_in_the_file_is_refused_unechoed() {
        for text in [
            "[scim]\nurl = \"https://app.example/scim\"\ntoken = \"s3cr3t-t0k3n\"",
            "[scim]\ntoken = \"s3cr3t-t0k3n\"\nurl = \"https://app.example/scim\"",
            "[scim]\nurl = \"https://app.example/scim\"\ntokn = \"s3cr3t-t0k3n\"",
            "[scim]\nurl = \"https://app.example/scim\"\nbearer = \"s3cr3t-t0k3n\"",
            "[mail]\nsmtp_url = \"smtp://h:25\"\nfrom = \"a@b.se\"\npasswd = \"s3cr3t-t0k3n\"",
        ] {
            let err = parse(text).err().unwrap_or_default();
            assert!(
                err.contains("tok") || err.contains("bearer") || err.contains("passwd"),
                "{err}"
            );
            assert!(err.contains("line ") || err.contains("scim.token"), "{err}");
            assert!(!err.contains("s3cr3t"), "{err}");
        }
    }

    #[test]
    fn precedence_flags_then_env_then_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("roster.toml");
        std::fs::write(&file, "[store]\npath = \"/from/file.db\"\n").unwrap_or_default();
        let env = Env {
            config: Some(file.clone()),
            ..Env::default()
        };
        let c = Config::load(&Overrides::default(), &env).unwrap_or_default();
        assert_eq!(c.store_path(), Path::new("/from/file.db"));
        let env = Env {
            store: Some("/from/env.db".into()),
            ..env
        };
        let c = Config::load(&Overrides::default(), &env).unwrap_or_default();
        assert_eq!(c.store_path(), Path::new("/from/env.db"));
        let flags = Overrides {
            store: Some("/from/flag.db".into()),
            ..Overrides::default()
        };
        let c = Config::load(&flags, &env).unwrap_or_default();
        assert_eq!(c.store_path(), Path::new("/from/flag.db"));
        let env = Env {
            xdg_data_home: Some("/xdg".into()),
            ..Env::default()
        };
        let c = Config::load(&Overrides::default(), &env).unwrap_or_default();
        assert_eq!(c.store_path(), Path::new("/xdg/roster/roster.db"));
    }
}

//! The fetch stage: the configured source (SFTP, a local path or stdin) read into memory, and
//! the SFTP options `[source]` describes (timeouts, retries and their backoff).

use crate::config::Config;
use crate::error::Error;
use crate::transport::{local, sftp, Fetched};

/// The configured source, or a usage error.
pub fn source(config: &Config) -> anyhow::Result<String> {
    config
        .source
        .url
        .clone()
        .ok_or_else(|| crate::error::usage("no source: pass --source URL or set source.url"))
}

/// Read the source (SFTP, a local path or stdin) into memory.
pub fn read_source(
    config: &Config,
    source: &str,
    trust: Option<&str>,
    progress: &dyn Fn(u64, u64),
) -> anyhow::Result<Fetched> {
    let started = std::time::Instant::now();
    let logged = |f: Fetched| {
        log::info!(
            "fetch: {} bytes from {} in {}",
            crate::render::thousands(f.bytes.len() as u64),
            f.source,
            crate::render::log::secs(started)
        );
        f
    };
    if source.starts_with("sftp://") {
        let url = sftp::Url::parse(source).map_err(crate::error::usage)?;
        return sftp::fetch(&url, &sftp_options(config, trust)?, progress).map(logged);
    }
    match local::read(source, config.csv.max_file_bytes)? {
        local::Local::Read(f) => Ok(logged(f)),
        local::Local::TooLarge(size) => Err(Error::Rejected(format!(
            "{source} has {size} bytes; csv.max_file_bytes allows {}",
            config.csv.max_file_bytes
        ))
        .into()),
    }
}

/// The SFTP options that `[source]` describes.
pub fn sftp_options(config: &Config, trust: Option<&str>) -> anyhow::Result<sftp::Options> {
    let s = &config.source;
    let password = match (&s.password_file, &s.password_env) {
        (Some(file), _) => Some(read_secret(file, "source.password_file")?),
        (None, Some(env)) => Some(env.clone()),
        (None, None) => None,
    };
    let passphrase = s
        .passphrase_file
        .as_deref()
        .map(|p| read_secret(p, "source.passphrase_file"))
        .transpose()?;
    let temp_dir = config
        .store_path()
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(
            || std::path::PathBuf::from("."),
            std::path::Path::to_path_buf,
        );
    std::fs::create_dir_all(&temp_dir).ok();
    Ok(sftp::Options {
        known_hosts: s
            .known_hosts
            .clone()
            .unwrap_or_else(|| std::path::PathBuf::from(".ssh/known_hosts")),
        password,
        identity_file: s.identity_file.clone(),
        passphrase,
        timeout: std::time::Duration::from_secs(s.timeout_secs.max(1)),
        retries: s.retries,
        settle: std::time::Duration::from_secs(s.settle_secs),
        max_bytes: config.csv.max_file_bytes,
        temp_dir,
        trust: trust.map(str::to_string),
        backoff: std::time::Duration::from_secs(1),
        wait: std::time::Duration::from_secs(s.wait_secs),
    })
}

/// Read a secret from a file (one line; the trailing newline is not part of it).
pub(super) fn read_secret(path: &std::path::Path, what: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::error::config(format!("cannot read {what} {}: {e}", path.display())))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

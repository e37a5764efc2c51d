//! The delete stage: `source.delete_after_import` removes the remote file after an applied
//! import, if it is still the one fetched.

use super::fetch::sftp_options;
use crate::config::Config;
use crate::store::batches::Batch;
use crate::transport::sftp;

/// After an applied batch from SFTP, with `source.delete_after_import`: remove the remote file
/// if it is still the one fetched. Returns a line for the operator, if anything was done.
pub fn delete_after_import(config: &Config, batch: &Batch) -> anyhow::Result<Option<String>> {
    if !config.source.delete_after_import || !batch.source.starts_with("sftp://") {
        return Ok(None);
    }
    let url = sftp::Url::parse(&batch.source).map_err(crate::error::usage)?;
    let Some(mtime) = batch.remote_mtime else {
        return Ok(None);
    };
    let removed = sftp::delete_if_unchanged(
        &url,
        &sftp_options(config, None)?,
        batch.size as u64,
        mtime,
        &batch.sha256,
    )?;
    Ok(Some(if removed {
        format!("removed {} from the server", url.path)
    } else {
        format!(
            "left {} on the server: it changed after it was fetched",
            url.path
        )
    }))
}

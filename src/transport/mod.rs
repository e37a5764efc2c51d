//! Where import files come from: a local path, standard input, or an SFTP server.

pub mod local;
pub mod sftp;

/// A file as fetched: its bytes and where they came from.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// The source as an operator would write it (never with a password).
    pub source: String,
    /// Modification time of the source file (seconds since the epoch), when known.
    pub mtime: Option<i64>,
}

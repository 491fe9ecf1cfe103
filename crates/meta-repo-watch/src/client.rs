//! Asking the watch service for the warm status (what `meta status` does when it runs).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use meta_repo::StatusRecord;

/// Why there is no warm answer.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// No service listens (no daemon, or `watch` disabled): read the status cold.
    #[error("no watch service is running")]
    NotRunning,
    #[error("the watch service did not answer: {0}")]
    Io(#[from] std::io::Error),
    #[error("the watch service answered something unreadable: {0}")]
    Garbled(#[from] serde_json::Error),
    #[error("the watch service could not answer: {0}")]
    Refused(String),
}

#[derive(serde::Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    records: Vec<StatusRecord>,
    #[serde(default)]
    error: Option<String>,
}

/// The record of every project, current as of this call (the service waits for its cookie).
pub fn ask(socket: &Path, timeout: Duration) -> Result<Vec<StatusRecord>, AskError> {
    let mut stream = UnixStream::connect(socket).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
            AskError::NotRunning
        }
        _ => AskError::Io(e),
    })?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(b"{\"op\":\"status\"}\n")?;
    let mut line = Vec::with_capacity(64 * 1024);
    BufReader::with_capacity(256 * 1024, stream).read_until(b'\n', &mut line)?;
    let answer: Answer = serde_json::from_slice(&line)?;
    if !answer.ok {
        return Err(AskError::Refused(
            answer.error.unwrap_or_else(|| "no reason given".to_owned()),
        ));
    }
    Ok(answer.records)
}

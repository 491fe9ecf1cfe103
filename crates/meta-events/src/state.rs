//! The daemon's state file, `.meta/run/daemon.json`: who runs, since when, where it listens.
//! Written once the sockets are bound, removed on a graceful stop. A stale file (left by
//! `kill -9`) is harmless: the daemon lock, not this file, says whether a daemon runs.

use std::path::{Path, PathBuf};

use meta_workspace::BusEndpoints;
use serde::{Deserialize, Serialize};

/// File name of the state file in the run folder.
pub const STATE_FILE: &str = "daemon.json";

/// The three endpoints, as JSON names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    pub ingest: String,
    pub events: String,
    pub control: String,
}

impl From<&BusEndpoints> for Endpoints {
    fn from(endpoints: &BusEndpoints) -> Self {
        Self {
            ingest: endpoints.ingest.clone(),
            events: endpoints.events.clone(),
            control: endpoints.control.clone(),
        }
    }
}

impl From<&Endpoints> for BusEndpoints {
    fn from(endpoints: &Endpoints) -> Self {
        Self {
            ingest: endpoints.ingest.clone(),
            events: endpoints.events.clone(),
            control: endpoints.control.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonState {
    pub pid: u32,
    pub version: String,
    /// RFC 3339.
    pub started_at: String,
    /// Seconds since the Unix epoch, for computing uptime.
    pub started_unix: u64,
    pub endpoints: Endpoints,
    /// Loopback TCP endpoints, when `[events].tcp` asks for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<Endpoints>,
}

pub fn state_path(run_dir: &Path) -> PathBuf {
    run_dir.join(STATE_FILE)
}

/// Reads the state file; `None` when absent or unreadable.
pub fn read(run_dir: &Path) -> Option<DaemonState> {
    let text = std::fs::read(state_path(run_dir)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Writes the state file atomically.
pub fn write(run_dir: &Path, state: &DaemonState) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    meta_workspace::fsutil::write_atomic(&state_path(run_dir), &text)
}

/// Removes the state file if present.
pub fn remove(run_dir: &Path) {
    let _ = std::fs::remove_file(state_path(run_dir));
}

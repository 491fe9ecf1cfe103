//! What the event system reports about itself: `meta daemon status --json` ([`DaemonStatus`])
//! and the `events` section of `meta status --json` ([`EventSystemStatus`]), both contracts of
//! DESIGN.md section 2. The daemon answers a control `status` request with a [`DaemonStatus`].

use std::time::Duration;

use meta_workspace::Workspace;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::log::{LogError, LogStats};
use crate::state::Endpoints;

/// The daemon's counters since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Events logged and fanned out (the daemon's own included).
    pub published: u64,
    /// Messages dropped as invalid.
    pub rejected: u64,
    /// Connected subscribers.
    pub subscribers: u64,
    /// Sequence of the last event logged, 20 digits; `null` before the first.
    pub last_sequence: Option<String>,
    /// Connections held now, per socket.
    #[serde(default)]
    pub connections: Connections,
    /// Events not queued for a subscriber at its message or byte mark (it sees the gap in
    /// `sequence` and reads the log).
    #[serde(default)]
    pub dropped: u64,
    /// Peers refused or disconnected, by reason, since the start.
    #[serde(default)]
    pub refused: Refusals,
}

/// Connections per socket, and the ceilings in force (after the file-descriptor limit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Connections {
    pub ingest: u64,
    pub events: u64,
    pub control: u64,
    /// Publisher and subscriber connections allowed together.
    pub limit: u64,
    /// Connections kept for control.
    pub control_limit: u64,
}

/// Why peers were refused or disconnected, counted since the start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Refusals {
    /// Over a connection ceiling: accepted and closed at once.
    pub connections: u64,
    /// Bad greeting, version, mechanism or socket type, or no handshake in time.
    pub handshakes: u64,
    /// A frame or command that breaks ZMTP.
    pub malformed: u64,
    /// Frames over the size limit (events over 1 MiB are skipped and also counted in `rejected`).
    pub oversized: u64,
    /// Subscribers over `max_subscriptions` or `max_subscription_bytes`.
    pub subscriptions: u64,
    /// Peers whose heartbeat TTL ran out.
    pub heartbeat_timeouts: u64,
}

impl Refusals {
    pub fn total(&self) -> u64 {
        self.connections
            + self.handshakes
            + self.malformed
            + self.oversized
            + self.subscriptions
            + self.heartbeat_timeouts
    }
}

/// The log on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogSummary {
    pub segments: usize,
    pub bytes: u64,
    /// 20 digits, like an event's `sequence`; `null` for an empty log.
    pub last_sequence: Option<String>,
}

impl LogSummary {
    /// `last_sequence` as a number; 0 for an empty log.
    pub fn last_sequence_number(&self) -> u64 {
        self.last_sequence
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

impl From<&LogStats> for LogSummary {
    fn from(stats: &LogStats) -> Self {
        Self {
            segments: stats.segments,
            bytes: stats.bytes,
            last_sequence: stats.last_sequence.map(crate::format_sequence),
        }
    }
}

/// `meta daemon status --json`: `{"running", "pid", "uptime_s", "endpoints": {"ingest",
/// "events", "control"}, "counters": {...}}`, plus the log and the daemon's components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonStatus {
    pub running: bool,
    pub pid: Option<u32>,
    pub uptime_s: Option<u64>,
    pub endpoints: Endpoints,
    /// Loopback TCP endpoints, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<Endpoints>,
    /// `null` when no daemon runs (or it did not answer).
    pub counters: Option<Counters>,
    pub log: LogSummary,
    /// Status of the daemon's components (plugin host, watcher…) by name.
    #[serde(default)]
    pub components: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The `events` section of `meta status --json`: `{"daemon": "running"|"stopped", "pid",
/// "uptime_s", "endpoints", "published", "rejected", "subscribers", "log": {"segments", "bytes",
/// "last_sequence"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSystemStatus {
    pub daemon: DaemonState,
    pub pid: Option<u32>,
    pub uptime_s: Option<u64>,
    pub endpoints: Endpoints,
    pub published: Option<u64>,
    pub rejected: Option<u64>,
    pub subscribers: Option<u64>,
    pub log: LogSummary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DaemonState {
    Running,
    Stopped,
}

impl From<&DaemonStatus> for EventSystemStatus {
    fn from(status: &DaemonStatus) -> Self {
        let counters = status.counters.as_ref();
        Self {
            daemon: if status.running {
                DaemonState::Running
            } else {
                DaemonState::Stopped
            },
            pid: status.pid,
            uptime_s: status.uptime_s,
            endpoints: status.endpoints.clone(),
            published: counters.map(|c| c.published),
            rejected: counters.map(|c| c.rejected),
            subscribers: counters.map(|c| c.subscribers),
            log: status.log.clone(),
        }
    }
}

/// How long status reports wait for a running daemon to answer.
pub const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

/// The daemon's status: asked of the daemon when one runs, read from disk otherwise. Never
/// waits longer than `timeout`.
pub fn daemon_status(workspace: &Workspace, timeout: Duration) -> Result<DaemonStatus, LogError> {
    let run_dir = workspace.run_dir();
    if crate::lock::daemon_running(&run_dir) {
        let client = Client::for_workspace(workspace);
        if let Ok(Some(mut status)) = client.status(timeout) {
            status.running = true;
            return Ok(status);
        }
        // Running but silent (starting, stopping, or stuck): say what the disk knows.
        let state = crate::state::read(&run_dir);
        let log = crate::log::stats(&workspace.events_dir())?;
        return Ok(DaemonStatus {
            running: true,
            pid: state.as_ref().map(|s| s.pid),
            uptime_s: state.as_ref().map(|s| uptime_since(s.started_unix)),
            endpoints: state.as_ref().map_or_else(
                || (&workspace.bus_endpoints()).into(),
                |s| s.endpoints.clone(),
            ),
            tcp: state.and_then(|s| s.tcp),
            counters: None,
            log: (&log).into(),
            components: Map::new(),
            version: None,
        });
    }
    let stats = crate::log::stats(&workspace.events_dir())?;
    Ok(DaemonStatus {
        running: false,
        pid: None,
        uptime_s: None,
        endpoints: (&workspace.bus_endpoints()).into(),
        tcp: None,
        counters: None,
        log: (&stats).into(),
        components: Map::new(),
        version: None,
    })
}

/// The `events` section of `meta status --json`.
pub fn event_system_status(
    workspace: &Workspace,
    timeout: Duration,
) -> Result<EventSystemStatus, LogError> {
    Ok((&daemon_status(workspace, timeout)?).into())
}

/// Seconds from `started_unix` to now.
pub fn uptime_since(started_unix: u64) -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |now| now.as_secs().saturating_sub(started_unix))
}

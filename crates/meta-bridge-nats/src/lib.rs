//! The bridge service (DESIGN.md section 11): the only part of `meta` with an async runtime.
//!
//! It runs as its own program (`meta-bridge`, installed beside `meta`), so tokio and async-nats
//! never load in `meta`'s start-up path. The daemon supervises it as the built-in `bridge`
//! plugin's service; `meta bridge push` runs it once without a daemon (CI).
//!
//! - **Export**: the local log is the outbox. Lines after the cursor are read (no lock: the
//!   daemon appends, we read whole lines), local events the filter admits are published with
//!   `Nats-Msg-Id`, up to [`WINDOW`] in flight, and the cursor moves only past acknowledged
//!   events (or events that needed no export). On any failure the in-flight ones are dropped
//!   and, after a back-off, sent again from the cursor: the server's dedup absorbs repeats.
//! - **Import**: this node's durable pull consumer; each batch goes to the daemon's `import`
//!   control op (the daemon is the log's only writer and drops repeats by
//!   `(metaorigin, source, id)`) and is acknowledged only after the daemon logged it.

mod export;
mod import;
mod session;

use std::path::Path;
use std::time::Duration;

use meta_bridge::{FilesError, Settings, SettingsError};
use meta_workspace::{ConfigError, Workspace};

pub use session::run_service;

/// Publishes in flight at most.
pub const WINDOW: usize = 512;

/// Why the bridge stopped or could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error("cannot read the event log")]
    Log(#[from] meta_events::log::LogError),
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("cannot reach the NATS server at {urls}: {reason}")]
    Connect { urls: String, reason: String },
    #[error("the NATS server refused the login: {reason}")]
    Auth { reason: String },
    #[error(
        "TLS with the NATS server failed (is META_BRIDGE_TLS_CA the CA that signed its certificate?): {reason}"
    )]
    Tls { reason: String },
    #[error("cannot set up the stream `{stream}`: {reason}")]
    Stream { stream: String, reason: String },
    #[error(
        "the {what} does not exist on the NATS server, and `[bridge] provision = false` says not to create it"
    )]
    NotProvisioned { what: String },
    #[error("publishing failed: {reason}")]
    Publish { reason: String },
    #[error("importing failed: {reason}")]
    Import { reason: String },
    #[error("{left} events were still not exported after {}s{}", timeout.as_secs_f64(), last_error.as_ref().map(|e| format!(" (last attempt: {e})")).unwrap_or_default())]
    Timeout {
        left: u64,
        timeout: Duration,
        last_error: Option<String>,
    },
}

impl BridgeError {
    /// Errors that retrying soon will not fix (credentials, permissions, an untrusted
    /// certificate, a stream or consumer an administrator has to create): state `error`, and
    /// the service waits long between attempts instead of spinning.
    pub fn needs_attention(&self) -> bool {
        match self {
            BridgeError::Auth { .. }
            | BridgeError::Tls { .. }
            | BridgeError::NotProvisioned { .. } => true,
            BridgeError::Publish { reason }
            | BridgeError::Stream { reason, .. }
            | BridgeError::Import { reason } => {
                let reason = reason.to_ascii_lowercase();
                reason.contains("permission") || reason.contains("authorization")
            }
            _ => false,
        }
    }
}

impl BridgeError {
    /// The kind of failure, one word that readers (`meta bridge push`, `meta health`) choose
    /// their advice by: `tls`, `provision`, `auth`, `timeout`, `connect`, `config` or `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            BridgeError::Tls { .. } => "tls",
            BridgeError::NotProvisioned { .. } => "provision",
            _ if self.needs_attention() => "auth",
            BridgeError::Timeout { .. } => "timeout",
            BridgeError::Connect { .. } => "connect",
            BridgeError::Config(_) | BridgeError::Settings(_) => "config",
            _ => "other",
        }
    }
}

/// What `meta-bridge push` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushReport {
    pub exported: u64,
    pub skipped_oversize: u64,
    /// The cursor at the end (the last local sequence the server has or that needed nothing).
    pub cursor: u64,
}

fn runtime() -> Result<tokio::runtime::Runtime, BridgeError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .enable_io()
        .build()
        .map_err(BridgeError::Runtime)
}

fn settings(root: &Path) -> Result<Settings, BridgeError> {
    let workspace = Workspace::open(root)?;
    Ok(Settings::resolve(&workspace)?)
}

/// Exports everything pending (no daemon needed) and returns once the cursor reached the end of
/// the log, or fails after `timeout`. With `since`, re-sends from that sequence without moving
/// the cursor (safe: the server and importers drop repeats).
pub fn push(root: &Path, timeout: Duration, since: Option<u64>) -> Result<PushReport, BridgeError> {
    let settings = settings(root)?;
    runtime()?.block_on(session::push(&settings, timeout, since))
}

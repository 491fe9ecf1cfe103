//! The meta-repo on disk: finding its root, loading `meta/metarepo.toml`, and the paths of
//! everything `meta` keeps in it (event log, runtime folder, plugins).
//!
//! This crate does no terminal I/O and starts no processes; it is the shared ground every other
//! `meta` crate stands on. Errors are typed and carry the path, line and key that explain them.

pub mod config;
pub mod env;
pub mod fsutil;
mod layout;
pub mod toml_text;

use std::path::{Path, PathBuf};

pub use config::{BridgeConfig, Config, ConfigError, Durability};
pub use layout::runtime_dir_for;

/// Path of the config file relative to the root; its presence marks a meta-repo.
pub const CONFIG_RELATIVE_PATH: &str = "meta/metarepo.toml";

/// The export cursor's file name in [`Workspace::bridge_dir`].
pub const BRIDGE_CURSOR_FILE: &str = "export.cursor";

/// A discovered meta-repo: its root and its loaded configuration.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
    config: Config,
}

/// Why no meta-repo could be opened.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("`{}` is not inside a meta-repo (no `{CONFIG_RELATIVE_PATH}` here or in any parent folder)", start.display())]
    NotFound { start: PathBuf },
    #[error("cannot read folder `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Walks up from `start` to the first folder holding `meta/metarepo.toml`.
///
/// Only finds the root; the config is not read. `start` is made absolute first so the answer
/// never depends on how the caller spelled the path.
pub fn find_root(start: &Path) -> Result<PathBuf, DiscoverError> {
    let start = std::path::absolute(start).map_err(|source| DiscoverError::Io {
        path: start.to_path_buf(),
        source,
    })?;
    let mut dir = start.as_path();
    loop {
        if dir.join(CONFIG_RELATIVE_PATH).is_file() {
            return Ok(dir.to_path_buf());
        }
        match dir.parent() {
            Some(parent) => dir = parent,
            None => return Err(DiscoverError::NotFound { start }),
        }
    }
}

impl Workspace {
    /// Finds the root above `start` and loads its config.
    pub fn discover(start: &Path) -> Result<Self, DiscoverError> {
        let root = find_root(start)?;
        Ok(Self::open(&root)?)
    }

    /// Opens the meta-repo rooted at `root` (which must hold `meta/metarepo.toml`).
    pub fn open(root: &Path) -> Result<Self, ConfigError> {
        let config = Config::load(&root.join(CONFIG_RELATIVE_PATH))?;
        Ok(Self {
            root: root.to_path_buf(),
            config,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `meta/metarepo.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_RELATIVE_PATH)
    }

    /// `meta/`: committed meta-repo files.
    pub fn meta_dir(&self) -> PathBuf {
        self.root.join("meta")
    }

    /// `meta/plugins/`: project plugins, one folder each.
    pub fn plugins_dir(&self) -> PathBuf {
        self.meta_dir().join("plugins")
    }

    /// `meta/plugins.lock`.
    pub fn plugins_lock_path(&self) -> PathBuf {
        self.meta_dir().join("plugins.lock")
    }

    /// `.meta/`: runtime state, never committed.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".meta")
    }

    /// `.meta/events/`: the event log.
    pub fn events_dir(&self) -> PathBuf {
        self.state_dir().join("events")
    }

    /// `.meta/bridge/`: the bridge's files (node name, export cursor, state).
    pub fn bridge_dir(&self) -> PathBuf {
        self.state_dir().join("bridge")
    }

    /// `.meta/bridge/export.cursor`: the last local sequence the bridge exported; the log keeps
    /// what lies after it (up to `[bridge].max_backlog_bytes`).
    pub fn bridge_cursor_path(&self) -> PathBuf {
        self.bridge_dir().join(BRIDGE_CURSOR_FILE)
    }

    /// `.meta/run/`: the daemon lock, log lock and state file.
    pub fn run_dir(&self) -> PathBuf {
        self.state_dir().join("run")
    }

    /// `src/`: where the groups live.
    pub fn src_dir(&self) -> PathBuf {
        self.root.join("src")
    }

    /// The private folder (mode 0700) holding this meta-repo's ipc sockets.
    pub fn runtime_dir(&self) -> PathBuf {
        runtime_dir_for(&self.root)
    }

    /// The watch service's status socket: where `meta status` asks for the warm status.
    pub fn status_socket(&self) -> PathBuf {
        self.runtime_dir().join("status.sock")
    }

    /// The daemon's ipc endpoints, derived from the runtime folder (so every process agrees on
    /// them without asking anyone).
    pub fn bus_endpoints(&self) -> BusEndpoints {
        BusEndpoints::in_dir(&self.runtime_dir())
    }
}

/// The three sockets of the bus (DESIGN.md 3.2) as ZeroMQ endpoint strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusEndpoints {
    /// PULL, bound by the daemon; publishers connect PUSH.
    pub ingest: String,
    /// XPUB, bound by the daemon; subscribers connect SUB.
    pub events: String,
    /// ROUTER, bound by the daemon; clients send `{"op": ...}` requests.
    pub control: String,
}

impl BusEndpoints {
    /// ipc endpoints for sockets in `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        let endpoint = |name: &str| format!("ipc://{}", dir.join(name).display());
        Self {
            ingest: endpoint("ingest.sock"),
            events: endpoint("events.sock"),
            control: endpoint("control.sock"),
        }
    }
}

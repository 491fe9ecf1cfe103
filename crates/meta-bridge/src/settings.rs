//! `[bridge]` plus the environment, resolved into what the service needs.

use std::path::PathBuf;
use std::time::Duration;

use meta_workspace::config::parse_duration;
use meta_workspace::{Workspace, env};

use crate::files::{BridgeFiles, FilesError, NODE_RULE, is_valid_node};
use crate::subject::{self, Filter};

/// How the bridge logs in, from the environment only.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    /// A NATS `.creds` file (JWT + nkey seed).
    Creds(PathBuf),
    UserPassword {
        user: String,
        password: String,
    },
    Token(String),
}

impl std::fmt::Debug for Auth {
    // Never print a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl Auth {
    /// What kind of login this is, for status output (never the secret).
    pub fn describe(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Creds(_) => "creds file (META_BRIDGE_CREDS)",
            Auth::UserPassword { .. } => "user and password (META_BRIDGE_USER)",
            Auth::Token(_) => "token (META_BRIDGE_TOKEN)",
        }
    }
}

/// Where import starts the first time this node's consumer is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStart {
    New,
    All,
    Since(Duration),
}

/// Everything the bridge works from.
#[derive(Debug, Clone)]
pub struct Settings {
    pub enabled: bool,
    pub urls: Vec<String>,
    pub scope: String,
    pub node: String,
    pub stream: String,
    pub durable: String,
    pub export: Filter,
    pub import: Filter,
    pub import_start: ImportStart,
    pub provision: bool,
    pub stream_max_age: Duration,
    pub duplicate_window: Duration,
    pub auth: Auth,
    pub tls_ca: Option<PathBuf>,
    pub files: BridgeFiles,
    pub events_dir: PathBuf,
    /// The meta-repo's root.
    pub root: PathBuf,
    /// The daemon's endpoints (imports go through its control socket).
    pub bus: meta_workspace::BusEndpoints,
}

/// Why the settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{var} is `{value}`, which is not a node name ({NODE_RULE})")]
    BadNode { var: &'static str, value: String },
    #[error("META_BRIDGE_PASSWORD is set without META_BRIDGE_USER")]
    PasswordWithoutUser,
    #[error("META_BRIDGE_USER is set without META_BRIDGE_PASSWORD")]
    UserWithoutPassword,
    #[error("{var} names `{}`, which does not exist", path.display())]
    MissingFile { var: &'static str, path: PathBuf },
    #[error(transparent)]
    Files(#[from] FilesError),
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Settings {
    pub fn resolve(workspace: &Workspace) -> Result<Self, SettingsError> {
        let config = &workspace.config().bridge;
        let files = BridgeFiles::of(workspace);
        let node_override = var(env::META_BRIDGE_NODE);
        if let Some(node) = &node_override
            && !is_valid_node(node)
        {
            return Err(SettingsError::BadNode {
                var: env::META_BRIDGE_NODE,
                value: node.clone(),
            });
        }
        let node = files.node(node_override.as_deref())?;
        let file = |name: &'static str| -> Result<Option<PathBuf>, SettingsError> {
            match var(name) {
                None => Ok(None),
                Some(path) => {
                    let path = PathBuf::from(path);
                    if path.is_file() {
                        Ok(Some(path))
                    } else {
                        Err(SettingsError::MissingFile { var: name, path })
                    }
                }
            }
        };
        let auth = if let Some(creds) = file(env::META_BRIDGE_CREDS)? {
            Auth::Creds(creds)
        } else {
            match (var(env::META_BRIDGE_USER), var(env::META_BRIDGE_PASSWORD)) {
                (Some(user), Some(password)) => Auth::UserPassword { user, password },
                (None, Some(_)) => return Err(SettingsError::PasswordWithoutUser),
                (Some(_), None) => return Err(SettingsError::UserWithoutPassword),
                (None, None) => var(env::META_BRIDGE_TOKEN).map_or(Auth::None, Auth::Token),
            }
        };
        let import_start = match config.import_start.as_str() {
            "new" => ImportStart::New,
            "all" => ImportStart::All,
            other => parse_duration(other).map_or(ImportStart::New, ImportStart::Since),
        };
        // The config was validated on load; these fallbacks are never used in practice.
        let duration = |text: &str, fallback: u64| {
            parse_duration(text).unwrap_or(Duration::from_secs(fallback))
        };
        Ok(Self {
            enabled: config.enabled,
            urls: config.url.clone(),
            scope: config.scope.clone(),
            stream: subject::stream_name(&config.scope),
            durable: subject::durable_name(&node),
            node,
            export: Filter::new(&config.export, &config.export_deny),
            import: Filter::new(&config.import, &config.import_deny),
            import_start,
            provision: config.provision,
            stream_max_age: duration(&config.stream_max_age, 14 * 86_400),
            // The server refuses a window longer than the stream keeps messages.
            duplicate_window: duration(&config.duplicate_window, 600)
                .min(duration(&config.stream_max_age, 14 * 86_400)),
            auth,
            tls_ca: file(env::META_BRIDGE_TLS_CA)?,
            files,
            events_dir: workspace.events_dir(),
            root: workspace.root().to_path_buf(),
            bus: workspace.bus_endpoints(),
        })
    }

    /// True when a URL asks for TLS (or a CA is given).
    pub fn tls(&self) -> bool {
        self.tls_ca.is_some() || self.urls.iter().any(|u| u.starts_with("tls://"))
    }
}

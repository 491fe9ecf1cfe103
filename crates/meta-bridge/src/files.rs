//! `.meta/bridge/`: the node name, the export cursor and the state the service reports. Every
//! write is a temporary file renamed over the old one, so a reader (or a crash) never sees half.

use std::path::{Path, PathBuf};

use meta_workspace::Workspace;
use serde::{Deserialize, Serialize};

/// The rule node names follow (they become subject tokens and consumer names).
pub const NODE_RULE: &str = "1 to 64 of `a-z`, `0-9`, `_` and `-`";

pub fn is_valid_node(node: &str) -> bool {
    (1..=64).contains(&node.len())
        && node
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Why a bridge file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` holds `{text}`, which is not {what}", path.display())]
    Corrupt {
        path: PathBuf,
        text: String,
        what: &'static str,
    },
}

/// What the service last reported (`.meta/bridge/state.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BridgeState {
    /// `connected`, `disconnected` or `error`.
    pub state: String,
    /// When `state` last changed (RFC 3339).
    pub since: String,
    pub node: String,
    pub pid: Option<u32>,
    pub server: Option<String>,
    pub last_error: Option<String>,
    /// What kind of error `last_error` is (`auth`, `tls`, `provision`, `connect`, …), so that
    /// readers choose their advice without parsing the message.
    pub last_error_kind: Option<String>,
    /// Events exported (acknowledged by the server) since the service started.
    pub exported: u64,
    /// Events too large for the server, skipped.
    pub skipped_oversize: u64,
    /// Events logged by the daemon from other nodes, and repeats it dropped.
    pub imported: u64,
    pub import_duplicates: u64,
    /// Messages that were not `meta` events (terminated, never redelivered).
    pub import_invalid: u64,
    /// The last stream sequence imported: a stream whose first message is past it lost some.
    pub import_stream_seq: u64,
    /// Gaps recorded (`meta:bridge:gap`): the stream's retention removed events before import.
    pub gaps: u64,
}

impl BridgeState {
    pub const CONNECTED: &'static str = "connected";
    pub const DISCONNECTED: &'static str = "disconnected";
    pub const ERROR: &'static str = "error";
}

/// The files of one meta-repo's bridge.
#[derive(Debug, Clone)]
pub struct BridgeFiles {
    dir: PathBuf,
}

impl BridgeFiles {
    /// The files of `workspace`'s bridge, in [`Workspace::bridge_dir`].
    pub fn of(workspace: &Workspace) -> Self {
        Self::at(&workspace.bridge_dir())
    }

    /// The files in `dir`.
    pub fn at(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn cursor_path(&self) -> PathBuf {
        self.dir.join(meta_workspace::BRIDGE_CURSOR_FILE)
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    pub fn node_path(&self) -> PathBuf {
        self.dir.join("node")
    }

    /// The last local sequence the server has (or that needed no export); 0 before any.
    pub fn cursor(&self) -> Result<u64, FilesError> {
        let path = self.cursor_path();
        match fs_err::read_to_string(&path) {
            Ok(text) => text.trim().parse().map_err(|_| FilesError::Corrupt {
                path,
                text: text.trim().chars().take(40).collect(),
                what: "a sequence number",
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(source) => Err(FilesError::Read { path, source }),
        }
    }

    pub fn set_cursor(&self, sequence: u64) -> Result<(), FilesError> {
        self.write(&self.cursor_path(), format!("{sequence}\n").as_bytes())
    }

    /// The service's last report, if it ever ran.
    pub fn state(&self) -> Option<BridgeState> {
        let text = std::fs::read(self.state_path()).ok()?;
        serde_json::from_slice(&text).ok()
    }

    pub fn set_state(&self, state: &BridgeState) -> Result<(), FilesError> {
        let text = serde_json::to_vec_pretty(state).unwrap_or_default();
        self.write(&self.state_path(), &text)
    }

    /// This machine's node name: `override_` (from `META_BRIDGE_NODE`), else the one kept in
    /// `.meta/bridge/node`, else a new `<host>-<8 hex>` kept there from now on.
    pub fn node(&self, override_: Option<&str>) -> Result<String, FilesError> {
        if let Some(node) = override_ {
            return Ok(node.to_owned());
        }
        let path = self.node_path();
        match fs_err::read_to_string(&path) {
            Ok(text) => {
                let node = text.trim();
                if is_valid_node(node) {
                    return Ok(node.to_owned());
                }
                return Err(FilesError::Corrupt {
                    path,
                    text: node.chars().take(70).collect(),
                    what: "a node name",
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(FilesError::Read { path, source }),
        }
        let node = generate_node();
        self.write(&path, format!("{node}\n").as_bytes())?;
        Ok(node)
    }

    fn write(&self, path: &Path, contents: &[u8]) -> Result<(), FilesError> {
        let error = |source| FilesError::Write {
            path: path.to_path_buf(),
            source,
        };
        fs_err::create_dir_all(&self.dir).map_err(error)?;
        write_replace(path, contents).map_err(error)
    }
}

/// Write a temporary sibling, rename it over `path` (no fsync: the cursor may lag after a power
/// loss, which only re-sends events the server's dedup absorbs).
fn write_replace(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = fs_err::write(&tmp, contents).and_then(|()| fs_err::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn generate_node() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let mut clean: String = host
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    if clean.is_empty() {
        clean.push_str("node");
    }
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        bytes = std::process::id().to_le_bytes();
    }
    format!(
        "{clean}-{:02x}{:02x}{:02x}{:02x}",
        bytes[0], bytes[1], bytes[2], bytes[3]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_and_node_survive_and_replace_whole() {
        let dir = tempfile::tempdir().unwrap();
        let files = BridgeFiles::at(dir.path());
        assert_eq!(files.cursor().unwrap(), 0);
        files.set_cursor(42).unwrap();
        assert_eq!(files.cursor().unwrap(), 42);
        assert_eq!(std::fs::read_dir(files.dir()).unwrap().count(), 1);
        let node = files.node(None).unwrap();
        assert!(is_valid_node(&node), "{node}");
        assert_eq!(files.node(None).unwrap(), node);
        assert_eq!(files.node(Some("ci-1")).unwrap(), "ci-1");
        std::fs::write(files.cursor_path(), "x").unwrap();
        assert!(matches!(files.cursor(), Err(FilesError::Corrupt { .. })));
    }
}

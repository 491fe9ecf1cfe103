//! A record of every file and folder under a directory (kind, size, modification time and a
//! content hash), for tests proving that a read-only command wrote nothing, not even `.git/`.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::{Result, io_error};

/// What one path looked like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub is_dir: bool,
    pub len: u64,
    pub modified: Option<SystemTime>,
    pub content_hash: u64,
}

/// Every path under a root (relative to it), with what it looked like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeSnapshot(pub BTreeMap<PathBuf, Entry>);

impl TreeSnapshot {
    /// Records everything under `root`, `.git` folders included; symlinks are not followed.
    pub fn take(root: &Path) -> Result<Self> {
        let mut entries = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for item in std::fs::read_dir(&dir).map_err(io_error(&dir))? {
                let item = item.map_err(io_error(&dir))?;
                let path = item.path();
                let meta = std::fs::symlink_metadata(&path).map_err(io_error(&path))?;
                let content_hash = if meta.is_file() {
                    let bytes = std::fs::read(&path).map_err(io_error(&path))?;
                    let mut hasher = std::collections::hash_map::DefaultHasher::new();
                    bytes.hash(&mut hasher);
                    hasher.finish()
                } else {
                    0
                };
                if meta.is_dir() {
                    stack.push(path.clone());
                }
                let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                entries.insert(
                    relative,
                    Entry {
                        is_dir: meta.is_dir(),
                        len: if meta.is_dir() { 0 } else { meta.len() },
                        modified: meta.modified().ok(),
                        content_hash,
                    },
                );
            }
        }
        Ok(Self(entries))
    }

    /// Human-readable differences from `earlier` (empty when nothing changed).
    pub fn changes_since(&self, earlier: &TreeSnapshot) -> Vec<String> {
        let mut changes = Vec::new();
        for (path, before) in &earlier.0 {
            match self.0.get(path) {
                None => changes.push(format!("removed {}", path.display())),
                Some(after) if after != before => {
                    changes.push(format!(
                        "changed {}: {before:?} -> {after:?}",
                        path.display()
                    ));
                }
                Some(_) => {}
            }
        }
        for path in self.0.keys() {
            if !earlier.0.contains_key(path) {
                changes.push(format!("created {}", path.display()));
            }
        }
        changes
    }
}

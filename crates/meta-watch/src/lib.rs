//! Watches a meta-repo's whole tree, submodules included, and reports what changed.
//!
//! A [`Watcher`] reports [`FileEvent`]s in batches to a callback: `created`, `modified` or
//! `deleted`, each with its root-relative `/`-separated path, the project (submodule) holding
//! it, and whether it is a folder. It skips `.git/`, the root's `.meta/`, the `[watch].ignore`
//! patterns and whatever each repository's ignore files exclude. Changes to one path within a
//! debounce window become one event. When it cannot follow — the kernel's queue overflowed, a
//! window saw more paths than the bound, a folder could not be watched — it says so with one
//! [`FileEvent::Overflow`] for that window, never by silently dropping changes.
//!
//! It also follows the git state of every repository in the tree (the root's and each
//! project's, absorbed git dirs under `.git/modules/` included): changes to HEAD, refs,
//! packed-refs, the index, config, `info/exclude` and the merge/rebase markers come as one
//! [`FileEvent::GitState`] per repository and window, from watches on the git dir, its `refs/`
//! and `info/` (never on objects or logs). A `meta-cookie-…` file created in a git dir closes
//! the window at once and comes last as a [`FileEvent::Cookie`], so a consumer knows every
//! earlier change has reached it.
//!
//! It is built directly on Linux inotify (through rustix): one watch per folder it does not
//! skip, only the events it needs (no open/close noise), and a large read buffer. It does not
//! publish anything; the daemon turns its events into `core:file:*`.

mod coalesce;
mod filter;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod inotify;

use std::path::{Path, PathBuf};
use std::time::Duration;

#[cfg(any(target_os = "linux", target_os = "android"))]
pub use inotify::Watcher;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub use unsupported::Watcher;

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod unsupported {
    use crate::{FileEvent, WatchError, WatchOptions};

    /// Watching needs inotify; elsewhere starting one says so.
    #[derive(Debug)]
    pub struct Watcher;

    impl Watcher {
        pub fn start(
            _options: WatchOptions,
            _sink: impl FnMut(Vec<FileEvent>) + Send + 'static,
        ) -> Result<Self, WatchError> {
            Err(WatchError::Unsupported)
        }

        pub fn watched_dirs(&self) -> usize {
            0
        }
    }
}

/// Cookie files start with this (created by whoever needs a barrier, in a watched git dir).
pub const COOKIE_PREFIX: &str = "meta-cookie-";

/// The git dir of the work tree `worktree` when its `.git` is a file (`gitdir: <path>`, relative
/// to the work tree), as `git submodule` leaves an absorbed project; `None` otherwise.
pub fn git_dir_of(worktree: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(worktree.join(".git")).ok()?;
    let target = text.strip_prefix("gitdir:")?.trim();
    Some(worktree.join(target))
}

/// How to watch a tree.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The meta-repo's root; every reported path is relative to it.
    pub root: PathBuf,
    /// Changes to one path within this window coalesce into one event (`[watch].debounce_ms`).
    pub debounce: Duration,
    /// Extra ignore patterns in `.gitignore` syntax, relative to the root (`[watch].ignore`).
    pub ignore: Vec<String>,
    /// More distinct paths than this in one window turn the window into one overflow.
    pub max_pending: usize,
}

impl WatchOptions {
    /// Defaults for `root`: a 50 ms window, no extra patterns, 100,000 paths per window.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            debounce: Duration::from_millis(50),
            ignore: Vec::new(),
            max_pending: 100_000,
        }
    }
}

/// One change, as the tree's consumers see it (`core:file:*` data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Relative to the root, `/`-separated.
    pub path: String,
    /// The project (submodule path) holding it, if any.
    pub project: Option<String>,
    pub is_dir: bool,
}

/// What the watcher reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileEvent {
    Created(FileChange),
    Modified(FileChange),
    Deleted(FileChange),
    /// Changes were lost in this window: anyone keeping state must rescan the tree.
    Overflow {
        reason: String,
    },
    /// The git state of the repository at `repo` (root-relative, `""` for the root's) changed:
    /// its HEAD, refs, packed-refs, index, config, `info/exclude` or a merge/rebase marker.
    /// Git's own files are never reported as file changes.
    GitState {
        repo: String,
    },
    /// A file named `meta-cookie-…` appeared in a watched git dir: every change the watcher
    /// read before it is in this batch or an earlier one (DESIGN.md section 10).
    Cookie {
        name: String,
    },
}

impl FileEvent {
    /// `created`, `modified`, `deleted`, `overflow` (the last part of the `core:file:*` type),
    /// `git-state` or `cookie`.
    pub fn kind(&self) -> &'static str {
        match self {
            FileEvent::Created(_) => "created",
            FileEvent::Modified(_) => "modified",
            FileEvent::Deleted(_) => "deleted",
            FileEvent::Overflow { .. } => "overflow",
            FileEvent::GitState { .. } => "git-state",
            FileEvent::Cookie { .. } => "cookie",
        }
    }

    /// The change, for the file kinds (created, modified, deleted).
    pub fn change(&self) -> Option<&FileChange> {
        match self {
            FileEvent::Created(c) | FileEvent::Modified(c) | FileEvent::Deleted(c) => Some(c),
            FileEvent::Overflow { .. } | FileEvent::GitState { .. } | FileEvent::Cookie { .. } => {
                None
            }
        }
    }
}

/// Why a tree cannot be watched.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("`{pattern}` is not a valid ignore pattern: {message}")]
    Pattern { pattern: String, message: String },
    #[error("cannot set up inotify")]
    Init(#[source] std::io::Error),
    #[error("cannot watch `{}`", path.display())]
    Watch {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot watch `{}`: the inotify watch limit ({}) is reached", path.display(), limit.map_or_else(|| "unknown".to_owned(), |l| l.to_string()))]
    Limit { path: PathBuf, limit: Option<u64> },
    #[error("cannot read folder `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the watcher thread")]
    Thread(#[source] std::io::Error),
    #[error("watching files is only supported on Linux")]
    Unsupported,
}

/// How many folders watching `root` takes (one inotify watch each), with the same rules the
/// watcher uses to skip folders. For checking against [`max_user_watches`].
pub fn count_watched_dirs(root: &Path, ignore: &[String]) -> Result<usize, WatchError> {
    let mut filter = filter::Filter::new(root, ignore)?;
    let mut count = 0;
    walk_dirs(&mut filter, "", &mut |_, _| {}, &mut |_| {
        count += 1;
        Ok(())
    })?;
    count += filter
        .git_dirs()
        .map(|(_, git_dir)| git_watch_dirs(git_dir).len())
        .sum::<usize>();
    Ok(count)
}

/// The folders of a git dir that are watched: the git dir itself (HEAD, index, packed-refs,
/// config, markers, cookies), `info/` (exclude) and `refs/` with everything below it.
fn git_watch_dirs(git_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![git_dir.to_path_buf()];
    let info = git_dir.join("info");
    if info.is_dir() {
        dirs.push(info);
    }
    let mut stack = vec![git_dir.join("refs")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        dirs.push(dir);
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(entry.path());
            }
        }
    }
    dirs
}

/// The kernel's limit on inotify watches per user (`fs.inotify.max_user_watches`), if known.
pub fn max_user_watches() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Walks the folders under `start` (root-relative) that the filter does not skip: `on_dir` for
/// each folder (before its entries are read, so a watch placed there sees what comes next),
/// `on_entry` for each entry kept.
fn walk_dirs(
    filter: &mut filter::Filter,
    start: &str,
    on_entry: &mut dyn FnMut(&str, bool),
    on_dir: &mut dyn FnMut(&str) -> Result<(), WatchError>,
) -> Result<(), WatchError> {
    let mut stack = vec![start.to_owned()];
    while let Some(dir) = stack.pop() {
        on_dir(&dir)?;
        filter.learn_dir(&dir);
        let abs = filter.abs(&dir);
        let entries = match std::fs::read_dir(&abs) {
            Ok(entries) => entries,
            // Gone already (created and removed at once): its parent reports that.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !dir.is_empty() => continue,
            Err(source) => return Err(WatchError::Read { path: abs, source }),
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = filter::join(&dir, &name);
            // Symlinks are reported, never followed.
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if filter.is_ignored(&rel, is_dir) {
                continue;
            }
            on_entry(&rel, is_dir);
            if is_dir {
                stack.push(rel);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_folders_it_would_watch() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["a/b", "a/target/x", ".git/objects", ".meta/events", "c"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join(".gitignore"), "c/\n").unwrap();
        // root, a, a/b, a/target, a/target/x, and the root's git dir
        assert_eq!(count_watched_dirs(root, &[]).unwrap(), 6);
        // minus a/target and a/target/x
        assert_eq!(
            count_watched_dirs(root, &["target/".to_owned()]).unwrap(),
            4
        );
        assert!(max_user_watches().is_some_and(|n| n > 0));
    }
}

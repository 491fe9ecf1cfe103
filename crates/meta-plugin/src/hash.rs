//! The content hash of a plugin folder, recorded in `meta/plugins.lock` at install time and
//! compared before every run.
//!
//! It is stable across machines and runs: entries are visited in sorted order of their
//! `/`-separated relative paths (compared as bytes), and each contributes its kind (file,
//! executable file, symlink), its path, and its bytes (a symlink's target text; links are never
//! followed). Timestamps, owners and the other permission bits do not count, so a fresh clone
//! hashes the same as the original. `.git/` is skipped (git's own data, not the plugin), and so is
//! `__pycache__/` (bytecode Python writes beside a plugin's modules when it runs).

use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Prefix of the hash text, naming the algorithm so it can change one day.
pub const HASH_PREFIX: &str = "sha256:";

/// Folder names never hashed nor copied at install.
pub const SKIPPED_NAMES: &[&str] = &[".git", "__pycache__"];

/// Why a folder could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is neither a file, a folder nor a symlink (a socket or device?); plugins may hold only those", path.display())]
    Unsupported { path: PathBuf },
}

/// Kinds of entries, as they enter the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EntryKind {
    File,
    Executable,
    Symlink,
    Dir,
}

/// One entry of a plugin folder: its path relative to the folder and its kind.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub relative: PathBuf,
    pub kind: EntryKind,
}

/// Every entry under `dir` (not `dir` itself), sorted by relative path, skipping
/// [`SKIPPED_NAMES`]. Symlinks are listed, not followed.
pub(crate) fn walk(dir: &Path) -> Result<Vec<Entry>, HashError> {
    let mut entries = Vec::new();
    walk_into(dir, Path::new(""), &mut entries)?;
    entries.sort_by(|a, b| {
        a.relative
            .as_os_str()
            .as_bytes()
            .cmp(b.relative.as_os_str().as_bytes())
    });
    Ok(entries)
}

fn walk_into(root: &Path, relative: &Path, out: &mut Vec<Entry>) -> Result<(), HashError> {
    let dir = root.join(relative);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HashError::Io { path, source }
    };
    for item in std::fs::read_dir(&dir).map_err(io(&dir))? {
        let item = item.map_err(io(&dir))?;
        let name = item.file_name();
        let child = relative.join(&name);
        let path = root.join(&child);
        let file_type = item.file_type().map_err(io(&path))?;
        if file_type.is_dir() && SKIPPED_NAMES.iter().any(|s| name == *s) {
            continue;
        }
        // A `.git` *file* (a worktree or submodule pointer) is git's too.
        if name == ".git" {
            continue;
        }
        let kind = if file_type.is_symlink() {
            EntryKind::Symlink
        } else if file_type.is_dir() {
            EntryKind::Dir
        } else if file_type.is_file() {
            let mode = item.metadata().map_err(io(&path))?.permissions().mode();
            if mode & 0o111 != 0 {
                EntryKind::Executable
            } else {
                EntryKind::File
            }
        } else {
            return Err(HashError::Unsupported { path });
        };
        out.push(Entry {
            relative: child.clone(),
            kind,
        });
        if kind == EntryKind::Dir {
            walk_into(root, &child, out)?;
        }
    }
    Ok(())
}

/// The content hash of the plugin folder `dir`, as `sha256:<64 hex digits>`.
pub fn hash_dir(dir: &Path) -> Result<String, HashError> {
    let mut hasher = Sha256::new();
    hasher.update(b"meta-plugin-content-v1\0");
    let mut buffer = vec![0u8; 64 * 1024];
    for entry in walk(dir)? {
        let path = dir.join(&entry.relative);
        let tag: &[u8] = match entry.kind {
            // Folders add nothing by themselves: like git, an empty folder is no content.
            EntryKind::Dir => continue,
            EntryKind::File => b"F",
            EntryKind::Executable => b"X",
            EntryKind::Symlink => b"L",
        };
        hasher.update(tag);
        let relative = entry.relative.as_os_str().as_bytes();
        hasher.update((relative.len() as u64).to_le_bytes());
        hasher.update(relative);
        let io = |source| HashError::Io {
            path: path.clone(),
            source,
        };
        if entry.kind == EntryKind::Symlink {
            let target = std::fs::read_link(&path).map_err(io)?;
            let target = target.as_os_str().as_bytes();
            hasher.update((target.len() as u64).to_le_bytes());
            hasher.update(target);
        } else {
            let mut file = std::fs::File::open(&path).map_err(io)?;
            let len = file.metadata().map_err(io)?.len();
            hasher.update(len.to_le_bytes());
            let mut read = 0u64;
            loop {
                let n = file.read(&mut buffer).map_err(io)?;
                if n == 0 {
                    break;
                }
                read += n as u64;
                hasher.update(&buffer[..n]);
            }
            if read != len {
                // The file changed while we read it: the length prefix would not match.
                return Err(HashError::Io {
                    path,
                    source: std::io::Error::other("the file changed while it was being read"),
                });
            }
        }
    }
    let digest = hasher.finalize();
    let mut text = String::with_capacity(HASH_PREFIX.len() + 64);
    text.push_str(HASH_PREFIX);
    for byte in &digest {
        use std::fmt::Write as _;
        let _ = write!(text, "{byte:02x}");
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn plugin() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("meta-plugin.toml"), "api = 1\n").unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("lib/a.py"), "print(1)\n").unwrap();
        std::fs::write(dir.path().join("run.sh"), "#!/bin/sh\n").unwrap();
        dir
    }

    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn stable_and_sensitive() {
        let dir = plugin();
        let h = hash_dir(dir.path()).unwrap();
        assert!(h.starts_with("sha256:") && h.len() == 7 + 64, "{h}");
        assert_eq!(h, hash_dir(dir.path()).unwrap());

        // Same content elsewhere, created in another order: same hash.
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("run.sh"), "#!/bin/sh\n").unwrap();
        std::fs::create_dir(other.path().join("lib")).unwrap();
        std::fs::write(other.path().join("lib/a.py"), "print(1)\n").unwrap();
        std::fs::write(other.path().join("meta-plugin.toml"), "api = 1\n").unwrap();
        assert_eq!(h, hash_dir(other.path()).unwrap());

        // Content, executable bit, a new file, a rename and a symlink all count.
        std::fs::write(dir.path().join("lib/a.py"), "print(2)\n").unwrap();
        let changed = hash_dir(dir.path()).unwrap();
        assert_ne!(h, changed);
        std::fs::write(dir.path().join("lib/a.py"), "print(1)\n").unwrap();
        assert_eq!(h, hash_dir(dir.path()).unwrap());

        set_mode(&dir.path().join("run.sh"), 0o755);
        let exec = hash_dir(dir.path()).unwrap();
        assert_ne!(h, exec);
        // Other permission bits do not.
        set_mode(&dir.path().join("run.sh"), 0o700);
        assert_eq!(exec, hash_dir(dir.path()).unwrap());
        set_mode(&dir.path().join("run.sh"), 0o644);

        symlink("lib/a.py", dir.path().join("link")).unwrap();
        let linked = hash_dir(dir.path()).unwrap();
        assert_ne!(h, linked);
        std::fs::remove_file(dir.path().join("link")).unwrap();
        symlink("lib/b.py", dir.path().join("link")).unwrap();
        assert_ne!(linked, hash_dir(dir.path()).unwrap());
        std::fs::remove_file(dir.path().join("link")).unwrap();

        std::fs::rename(dir.path().join("lib/a.py"), dir.path().join("lib/b.py")).unwrap();
        assert_ne!(h, hash_dir(dir.path()).unwrap());
    }

    #[test]
    fn git_and_bytecode_caches_are_skipped() {
        let dir = plugin();
        let h = hash_dir(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path().join(".git/objects")).unwrap();
        std::fs::write(dir.path().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::create_dir_all(dir.path().join("lib/__pycache__")).unwrap();
        std::fs::write(dir.path().join("lib/__pycache__/a.pyc"), "x").unwrap();
        // Empty folders are no content either.
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        assert_eq!(h, hash_dir(dir.path()).unwrap());
    }

    #[test]
    fn path_and_content_boundaries_do_not_blur() {
        // `ab` + "c" must differ from `a` + "bc" style shifts.
        let one = tempfile::tempdir().unwrap();
        std::fs::write(one.path().join("ab"), "c").unwrap();
        let two = tempfile::tempdir().unwrap();
        std::fs::write(two.path().join("a"), "bc").unwrap();
        assert_ne!(hash_dir(one.path()).unwrap(), hash_dir(two.path()).unwrap());
    }

    #[test]
    fn sockets_are_refused() {
        let dir = plugin();
        let _listener = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();
        let err = hash_dir(dir.path()).unwrap_err();
        assert!(matches!(err, HashError::Unsupported { .. }), "{err}");
    }
}

//! `meta/plugins.lock`: where each project plugin came from and the hash of its content.
//!
//! The file is committed with the meta-repo, so its format is meant for review and diffs: TOML,
//! one table per plugin sorted by name, keys in a fixed order, one value per line. It is always
//! replaced atomically.
//!
//! ```toml
//! version = 1
//!
//! [plugins.hello]
//! source = "git+https://example.com/hello.git"
//! rev = "1f0c…"
//! hash = "sha256:…"
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use meta_workspace::{fsutil, toml_text};
use serde::Deserialize;

use crate::manifest::line_column;

/// The format version this code reads and writes.
pub const LOCK_VERSION: i64 = 1;

/// The whole lock file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockFile {
    pub plugins: BTreeMap<String, LockEntry>,
}

/// What `meta plugin install` recorded about one plugin.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    /// The folder it was installed from, or `git+URL`.
    pub source: String,
    /// The commit a git source resolved to.
    #[serde(default)]
    pub rev: Option<String>,
    /// The content hash (`sha256:…`); absent for linked plugins, which are not checked.
    #[serde(default)]
    pub hash: Option<String>,
    /// Installed with `--link`: `meta/plugins/<name>` is a symlink to `source`.
    #[serde(default)]
    pub linked: bool,
}

impl LockEntry {
    /// The command that puts back what was installed, for messages about a changed plugin:
    /// `` `meta plugin install --force SOURCE [--rev REV]` ``, quoted for a POSIX shell, with
    /// " at the meta-repo root" after it when the source is a folder relative to the root.
    pub fn reinstall_command(&self) -> String {
        let source = self.source.as_str();
        let mut command = format!("`meta plugin install --force {}", shell_quote(source));
        if let Some(rev) = &self.rev {
            let _ = write!(command, " --rev {}", shell_quote(rev));
        }
        command.push('`');
        if !source.starts_with("git+") && !source.starts_with('/') {
            command.push_str(" at the meta-repo root");
        }
        command
    }
}

/// `text` as one word for a POSIX shell: as is when it needs no quoting, else single-quoted.
fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@=,".contains(&b))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLock {
    version: i64,
    #[serde(default)]
    plugins: BTreeMap<String, LockEntry>,
}

/// Why `meta/plugins.lock` could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
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
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

impl LockFile {
    /// Reads the lock file at `path`; a missing file is an empty lock.
    pub fn load(path: &Path) -> Result<Self, LockError> {
        match fs_err::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(source) if source.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(LockError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses lock text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, LockError> {
        let invalid = |span: Option<std::ops::Range<usize>>, message: String| {
            let (line, column) = line_column(text, span.map_or(0, |s| s.start));
            LockError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        let raw: RawLock =
            toml_text::guarded(|| toml_edit::de::from_str(text)).map_err(|err| match err {
                Some(err) => invalid(err.span(), err.message().trim().to_owned()),
                None => invalid(None, toml_text::PARSER_FAILED.to_owned()),
            })?;
        if raw.version != LOCK_VERSION {
            return Err(invalid(
                None,
                format!(
                    "format version {} is not one this meta reads ({LOCK_VERSION}); upgrade meta",
                    raw.version
                ),
            ));
        }
        for (name, entry) in &raw.plugins {
            if !entry.linked && entry.hash.is_none() {
                return Err(invalid(
                    None,
                    format!("plugin `{name}` has no `hash` (only linked plugins go without one)"),
                ));
            }
        }
        Ok(Self {
            plugins: raw.plugins,
        })
    }

    /// The file's text: stable, sorted, one value per line.
    pub fn to_text(&self) -> String {
        let mut text = String::from(
            "# Written by `meta plugin install`: where each plugin came from and a hash of its\n\
             # content. `meta` refuses to run a plugin whose content no longer matches.\n\
             version = 1\n",
        );
        for (name, entry) in &self.plugins {
            let _ = write!(text, "\n[plugins.{}]\n", key(name));
            let _ = writeln!(text, "source = {}", quote(&entry.source));
            if let Some(rev) = &entry.rev {
                let _ = writeln!(text, "rev = {}", quote(rev));
            }
            if let Some(hash) = &entry.hash {
                let _ = writeln!(text, "hash = {}", quote(hash));
            }
            if entry.linked {
                text.push_str("linked = true\n");
            }
        }
        text
    }

    /// Replaces the file at `path` with this lock, atomically.
    pub fn save(&self, path: &Path) -> Result<(), LockError> {
        fsutil::write_atomic(path, self.to_text().as_bytes()).map_err(|source| LockError::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}

impl LockFile {
    /// Like [`LockFile::save`], but an empty lock removes the file: uninstalling the last plugin
    /// leaves nothing behind.
    pub fn save_or_remove(&self, path: &Path) -> Result<(), LockError> {
        if !self.plugins.is_empty() {
            return self.save(path);
        }
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(source) if source.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(LockError::Write {
                path: path.to_path_buf(),
                source,
            }),
        }
    }
}

/// A TOML basic string for `text`.
fn quote(text: &str) -> String {
    toml_edit::Value::from(text).to_string()
}

/// A bare key when the name allows it (plugin names always do), else a quoted one.
fn key(name: &str) -> String {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        name.to_owned()
    } else {
        quote(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LockFile {
        let mut lock = LockFile::default();
        lock.plugins.insert(
            "zeta".into(),
            LockEntry {
                source: "/home/u/zeta \"quoted\"".into(),
                rev: None,
                hash: Some("sha256:00".into()),
                linked: false,
            },
        );
        lock.plugins.insert(
            "alpha".into(),
            LockEntry {
                source: "git+https://example.com/a.git".into(),
                rev: Some("0123abcd".into()),
                hash: Some("sha256:11".into()),
                linked: false,
            },
        );
        lock.plugins.insert(
            "dev".into(),
            LockEntry {
                source: "/src/dev".into(),
                rev: None,
                hash: None,
                linked: true,
            },
        );
        lock
    }

    #[test]
    fn reinstall_command_quotes_what_the_shell_would_split() {
        let entry = LockEntry {
            source: "git+https://example.com/p.git".into(),
            rev: Some("abc123".into()),
            hash: Some("sha256:00".into()),
            linked: false,
        };
        assert_eq!(
            entry.reinstall_command(),
            "`meta plugin install --force git+https://example.com/p.git --rev abc123`"
        );
        let entry = LockEntry {
            source: "tools/it's mine".into(),
            rev: None,
            hash: Some("sha256:00".into()),
            linked: false,
        };
        assert_eq!(
            entry.reinstall_command(),
            "`meta plugin install --force 'tools/it'\\''s mine'` at the meta-repo root"
        );
    }

    #[test]
    fn round_trips_in_a_stable_sorted_format() {
        let lock = sample();
        let text = lock.to_text();
        let alpha = text.find("[plugins.alpha]").unwrap();
        let dev = text.find("[plugins.dev]").unwrap();
        let zeta = text.find("[plugins.zeta]").unwrap();
        assert!(alpha < dev && dev < zeta, "{text}");
        assert!(
            text.contains("source = '/home/u/zeta \"quoted\"'\n"),
            "{text}"
        );
        let parsed = LockFile::parse(&text, Path::new("plugins.lock")).unwrap();
        assert_eq!(parsed, lock);
        assert_eq!(parsed.to_text(), text);
    }

    #[test]
    fn missing_file_is_empty_and_save_is_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.lock");
        assert_eq!(LockFile::load(&path).unwrap(), LockFile::default());
        sample().save(&path).unwrap();
        assert_eq!(LockFile::load(&path).unwrap(), sample());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn bad_files_are_reported_with_position() {
        let path = Path::new("plugins.lock");
        let err = LockFile::parse(
            "version = 1\n[plugins.a]\nsource = \"x\"\nhash = \"h\"\nextra = 1\n",
            path,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("plugins.lock:5:1:"), "{err}");
        let err = LockFile::parse("version = 2\n", path).unwrap_err();
        assert!(err.to_string().contains("upgrade meta"), "{err}");
        let err = LockFile::parse("version = 1\n[plugins.a]\nsource = \"x\"\n", path).unwrap_err();
        assert!(err.to_string().contains("no `hash`"), "{err}");
    }
}

//! The journal of an operation across repositories: written before the first change, removed
//! after the last, so an interruption (a failed hook, Ctrl-C, `kill -9`, a power cut) leaves
//! enough on disk to put every repository back, or to finish.
//!
//! **Where.** `<superproject git dir>/meta/`: `journal.json` (the [`Record`]), one index copy
//! per repository (`index-N`), and `lock`. A running operation holds an exclusive lock on
//! `lock` (released by the kernel when the process dies, `kill -9` included), so the journal
//! tells an operation **running** (lock held) from one **interrupted** (lock free).
//!
//! **What.** Per repository, its state before: HEAD (commit and branch), the topic branch's
//! tip (or its absence) and a byte copy of the index. [`RepoRecord::restore`] puts exactly that
//! back: HEAD, the topic branch, the index file (so staged and unstaged changes are as they
//! were, `git add -N` entries included). Work trees are never written by the operations that
//! journal, so they need no copy.
//!
//! Writes are atomic (temporary file, `fsync`, rename), so a crash never leaves half a journal.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use meta_repo::ObjectId;
use meta_workflow::GitError;
use meta_workflow::git::{git, rev_parse};
use serde::{Deserialize, Serialize};

const JOURNAL: &str = "journal.json";
const LOCK: &str = "lock";

/// What a journal-keeping operation was asked to do: enough to run it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The command (`commit`).
    pub operation: String,
    /// The process that started it.
    pub pid: u32,
    /// Seconds since the Unix epoch when it started.
    pub started: u64,
    pub topic: String,
    /// The operation's own arguments, as it wrote them (it reads them back to run again).
    pub request: serde_json::Value,
    /// Every repository it may change, in the order it changes them; the superproject last.
    pub repos: Vec<RepoRecord>,
}

/// One repository's state before the operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoRecord {
    /// The project's path, or `.` for the superproject.
    pub path: String,
    /// Its work tree.
    pub dir: PathBuf,
    /// Its git folder.
    pub git_dir: PathBuf,
    /// The commit HEAD was at (empty: none yet).
    pub head: String,
    /// The branch HEAD was on (`None`: detached).
    pub branch: Option<String>,
    /// The topic branch's tip before (`None`: it did not exist).
    pub topic_tip: Option<String>,
    /// The copy of its index (`None`: it had no index file).
    pub index_copy: Option<PathBuf>,
}

/// A repository's state before the operation, as the operation read it while planning.
#[derive(Debug, Clone)]
pub struct Before {
    /// The project's path, or `.` for the superproject.
    pub path: String,
    /// Its work tree.
    pub dir: PathBuf,
    /// Its git folder (the index is copied from there).
    pub git_dir: PathBuf,
    pub head: Option<ObjectId>,
    /// The branch HEAD is on (`None`: detached).
    pub branch: Option<String>,
    /// The topic branch's tip (`None`: it does not exist).
    pub topic_tip: Option<ObjectId>,
}

/// Why a journal could not be started, read or used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("another `meta {operation}` (process {pid}) is changing the repositories right now")]
    Busy { operation: String, pid: u32 },
    #[error("an interrupted `meta {operation}` left its journal in `{}`", .path.display())]
    Pending { operation: String, path: PathBuf },
    #[error("no interrupted operation: there is no journal in `{}`", .0.display())]
    Missing(PathBuf),
    #[error("cannot {action} `{}`", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the journal `{}` is unreadable", .path.display())]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot read `{path}`")]
    Git {
        path: String,
        #[source]
        source: GitError,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> JournalError {
    let path = path.to_path_buf();
    move |source| JournalError::Io {
        action,
        path,
        source,
    }
}

/// An operation found on disk before a new one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// Its process holds the lock: it is running.
    Running { operation: String, pid: u32 },
    /// Nobody holds the lock: it was interrupted and must be finished or undone.
    Interrupted { record: Box<Record>, path: PathBuf },
}

/// The folder of the journal: `<superproject git dir>/meta`.
pub fn journal_dir(root: &Path) -> Result<PathBuf, JournalError> {
    // Read as git reads it, without running git: every command checks for a journal.
    crate::state::git_dir(root)
        .map(|dir| dir.join("meta"))
        .map_err(|source| JournalError::Git {
            path: crate::SUPERPROJECT.to_owned(),
            source,
        })
}

/// Is an operation running or interrupted in the meta-repo at `root`? Cheap when none is: one
/// `stat` (after finding the git dir).
pub fn pending(root: &Path) -> Result<Option<Pending>, JournalError> {
    pending_in(&journal_dir(root)?)
}

/// [`pending`] for a journal folder already known (`<root>/.git/meta` for most meta-repos).
pub fn pending_in(dir: &Path) -> Result<Option<Pending>, JournalError> {
    let path = dir.join(JOURNAL);
    if !path.exists() {
        return Ok(None);
    }
    let record = read_record(&path)?;
    let lock = open_lock(dir)?;
    match lock.try_lock() {
        Ok(()) => {
            drop(lock);
            Ok(Some(Pending::Interrupted {
                record: Box::new(record),
                path,
            }))
        }
        Err(_) => Ok(Some(Pending::Running {
            operation: record.operation,
            pid: record.pid,
        })),
    }
}

fn read_record(path: &Path) -> Result<Record, JournalError> {
    let text = fs::read(path).map_err(io("read", path))?;
    serde_json::from_slice(&text).map_err(|source| JournalError::Corrupt {
        path: path.to_path_buf(),
        source,
    })
}

fn open_lock(dir: &Path) -> Result<File, JournalError> {
    let path = dir.join(LOCK);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io("open", &path))
}

/// A journal held by this process: the lock is ours until it is dropped.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    record: Record,
    _lock: File,
}

impl Journal {
    /// Takes the lock; refuses when another operation runs or one was interrupted.
    fn lock(dir: &Path) -> Result<File, JournalError> {
        fs::create_dir_all(dir).map_err(io("create", dir))?;
        let lock = open_lock(dir)?;
        if lock.try_lock().is_err() {
            let (operation, pid) = read_record(&dir.join(JOURNAL))
                .map_or_else(|_| ("command".to_owned(), 0), |r| (r.operation, r.pid));
            return Err(JournalError::Busy { operation, pid });
        }
        Ok(lock)
    }

    /// Starts a journal: takes the lock, copies each repository's index and writes the
    /// record, before the operation changes anything. `repos` is each repository's state as
    /// read while planning, in the order the operation changes them.
    pub fn begin(
        root: &Path,
        operation: &str,
        topic: &str,
        request: serde_json::Value,
        repos: &[Before],
    ) -> Result<Self, JournalError> {
        let dir = journal_dir(root)?;
        let lock = Self::lock(&dir)?;
        let path = dir.join(JOURNAL);
        if path.exists() {
            return Err(JournalError::Pending {
                operation: read_record(&path)
                    .map_or_else(|_| "command".to_owned(), |r| r.operation),
                path,
            });
        }
        let mut records = Vec::with_capacity(repos.len());
        for (n, before) in repos.iter().enumerate() {
            records.push(RepoRecord::copy(before, &dir, n)?);
        }
        let record = Record {
            operation: operation.to_owned(),
            pid: std::process::id(),
            started: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            topic: topic.to_owned(),
            request,
            repos: records,
        };
        let journal = Self {
            dir,
            record,
            _lock: lock,
        };
        journal.write()?;
        Ok(journal)
    }

    /// Takes over the journal an interrupted operation left.
    pub fn resume(root: &Path) -> Result<Self, JournalError> {
        let dir = journal_dir(root)?;
        let lock = Self::lock(&dir)?;
        let path = dir.join(JOURNAL);
        if !path.exists() {
            return Err(JournalError::Missing(dir));
        }
        Ok(Self {
            record: read_record(&path)?,
            dir,
            _lock: lock,
        })
    }

    /// Replaces the operation's own part of the record (its progress), written atomically.
    pub fn set_request(&mut self, request: serde_json::Value) -> Result<(), JournalError> {
        self.record.request = request;
        self.write()
    }

    /// [`Journal::set_request`] without `fsync`: for progress written around every git call.
    /// A killed process loses nothing (the page cache outlives it); a power cut may lose the
    /// last steps' progress, which the undo then treats as not run.
    pub fn set_request_quick(&mut self, request: serde_json::Value) -> Result<(), JournalError> {
        self.record.request = request;
        let path = self.dir.join(JOURNAL);
        let text = serde_json::to_vec(&self.record).map_err(|source| JournalError::Corrupt {
            path: path.clone(),
            source,
        })?;
        let temporary = path.with_file_name(".journal.json.meta-tmp");
        fs::write(&temporary, &text).map_err(io("write", &temporary))?;
        fs::rename(&temporary, &path).map_err(io("replace", &path))
    }

    pub fn record(&self) -> &Record {
        &self.record
    }

    fn write(&self) -> Result<(), JournalError> {
        let path = self.dir.join(JOURNAL);
        let text =
            serde_json::to_vec_pretty(&self.record).map_err(|source| JournalError::Corrupt {
                path: path.clone(),
                source,
            })?;
        write_atomic(&path, &text)
    }

    /// Puts every repository back as the record says, newest change first (the superproject
    /// first, as it is changed last). Returns the repositories that could not be restored;
    /// the journal stays when any could not.
    pub fn undo(self) -> Result<(), Vec<(String, JournalError)>> {
        let mut failures = Vec::new();
        for repo in self.record.repos.iter().rev() {
            if let Err(error) = repo.restore(&self.record.topic) {
                failures.push((repo.path.clone(), error));
            }
        }
        if failures.is_empty() {
            self.finish()
                .map_err(|e| vec![(crate::SUPERPROJECT.to_owned(), e)])
        } else {
            Err(failures)
        }
    }

    /// The operation is over: the journal and its index copies are removed, the lock released.
    pub fn finish(self) -> Result<(), JournalError> {
        let path = self.dir.join(JOURNAL);
        // The record goes first: without it, leftover copies mean nothing and are overwritten.
        fs::remove_file(&path).map_err(io("remove", &path))?;
        for repo in &self.record.repos {
            if let Some(copy) = &repo.index_copy {
                let _ = fs::remove_file(copy);
            }
        }
        Ok(())
    }
}

impl RepoRecord {
    /// The record of `before`, with a copy of its index as `journal_dir/index-N`.
    fn copy(before: &Before, journal_dir: &Path, n: usize) -> Result<Self, JournalError> {
        let index = before.git_dir.join("index");
        let index_copy = match fs::read(&index) {
            Ok(bytes) => {
                let copy = journal_dir.join(format!("index-{n}"));
                write_atomic(&copy, &bytes)?;
                Some(copy)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(io("read", &index)(error)),
        };
        Ok(Self {
            path: before.path.clone(),
            dir: before.dir.clone(),
            git_dir: before.git_dir.clone(),
            head: before.head.map(|h| h.to_string()).unwrap_or_default(),
            branch: before.branch.clone(),
            topic_tip: before.topic_tip.map(|t| t.to_string()),
            index_copy,
        })
    }

    /// The commit HEAD was at.
    pub fn head(&self) -> Option<ObjectId> {
        ObjectId::from_hex(self.head.as_bytes()).ok()
    }

    /// Puts HEAD, the topic branch and the index back as they were. Harmless when nothing
    /// changed: every step sets a value, none depends on the current one.
    pub fn restore(&self, topic: &str) -> Result<(), JournalError> {
        let run = |args: &[&str]| {
            git(&self.dir)
                .args(args)
                .run()
                .map(drop)
                .map_err(|source| JournalError::Git {
                    path: self.path.clone(),
                    source,
                })
        };
        let message = "meta: undone from the journal";
        match &self.branch {
            Some(branch) => run(&[
                "symbolic-ref",
                "-m",
                message,
                "HEAD",
                &format!("refs/heads/{branch}"),
            ])?,
            None if !self.head.is_empty() => run(&[
                "update-ref",
                "--no-deref",
                "-m",
                message,
                "HEAD",
                &self.head,
            ])?,
            None => {}
        }
        let topic_ref = format!("refs/heads/{topic}");
        let git_error = |source| JournalError::Git {
            path: self.path.clone(),
            source,
        };
        if let Some(tip) = &self.topic_tip {
            run(&["update-ref", "-m", message, &topic_ref, tip])?;
        } else if rev_parse(&self.dir, &topic_ref)
            .map_err(git_error)?
            .is_some()
        {
            run(&["update-ref", "-d", &topic_ref])?;
        }
        if let Some(copy) = &self.index_copy {
            let index = self.git_dir.join("index");
            let bytes = fs::read(copy).map_err(io("read", copy))?;
            write_atomic(&index, &bytes)?;
        }
        Ok(())
    }
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), JournalError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.meta-tmp"));
    let mut file = File::create(&temporary).map_err(io("create", &temporary))?;
    file.write_all(bytes).map_err(io("write", &temporary))?;
    file.sync_all().map_err(io("write", &temporary))?;
    drop(file);
    fs::rename(&temporary, path).map_err(io("replace", path))?;
    if let Some(parent) = path.parent()
        && let Ok(dir) = File::open(parent)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

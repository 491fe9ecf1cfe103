//! The lock protocol of DESIGN.md 3.4, on `flock(2)` through std's `File::lock*`.
//!
//! - The daemon holds `.meta/run/daemon.lock` exclusively for its whole life: it is then the
//!   log's only writer.
//! - A command that emits an event asks for a *shared* lock on that file without waiting. Getting
//!   it proves no daemon runs; the command then takes `.meta/run/log.lock` exclusively (waiting)
//!   and appends to the log itself.
//! - A daemon that starts while commands hold the shared lock waits for them.
//!
//! Locks belong to open files, so they vanish when the process dies, even by `kill -9`.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `daemon.lock` in the run folder.
pub const DAEMON_LOCK: &str = "daemon.lock";
/// `log.lock` in the run folder.
pub const LOG_LOCK: &str = "log.lock";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot create the folder `{}`", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot open the lock file `{}`", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot lock `{}`", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("another daemon already runs for this meta-repo (it holds `{}`)", path.display())]
    DaemonRunning { path: PathBuf },
    #[error("gave up after {waited:?} waiting for commands that write to the log to finish (they hold `{}`)", path.display())]
    Timeout { path: PathBuf, waited: Duration },
}

/// A held lock; released on drop (or when the process dies).
#[derive(Debug)]
pub struct LockGuard {
    file: File,
    path: PathBuf,
}

impl LockGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn open(run_dir: &Path, name: &str) -> Result<(File, PathBuf), LockError> {
    fs_err::create_dir_all(run_dir).map_err(|source| LockError::CreateDir {
        path: run_dir.to_path_buf(),
        source,
    })?;
    let path = run_dir.join(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| LockError::Open {
            path: path.clone(),
            source,
        })?;
    Ok((file, path))
}

/// Takes `daemon.lock` exclusively for a daemon. Fails at once with
/// [`LockError::DaemonRunning`] when another daemon holds it; waits up to `wait` for emitting
/// commands (shared holders) to finish.
pub fn lock_daemon(run_dir: &Path, wait: Duration) -> Result<LockGuard, LockError> {
    let (file, path) = open(run_dir, DAEMON_LOCK)?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(LockGuard { file, path }),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(source)) => return Err(LockError::Lock { path, source }),
        }
        // Held: by a daemon (exclusive) or by commands (shared)? A shared request of our own
        // succeeds only in the second case.
        let (probe, _) = open(run_dir, DAEMON_LOCK)?;
        match probe.try_lock_shared() {
            Ok(()) => drop(probe),
            Err(TryLockError::WouldBlock) => return Err(LockError::DaemonRunning { path }),
            Err(TryLockError::Error(source)) => return Err(LockError::Lock { path, source }),
        }
        if started.elapsed() >= wait {
            return Err(LockError::Timeout {
                path,
                waited: started.elapsed(),
            });
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Is a daemon running for the meta-repo whose run folder is `run_dir`? (Holds nothing.)
pub fn daemon_running(run_dir: &Path) -> bool {
    let path = run_dir.join(DAEMON_LOCK);
    let Ok(file) = OpenOptions::new().read(true).open(&path) else {
        return false;
    };
    matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
}

/// What an emitting command found.
#[derive(Debug)]
pub enum EmitLock {
    /// No daemon: the caller holds the shared daemon lock and the log lock, and may append.
    Embedded { daemon: LockGuard, log: LockGuard },
    /// A daemon runs: send it the event.
    Daemon,
}

/// Asks for the shared daemon lock without waiting; when granted, also takes the log lock
/// (waiting: other commands hold it only for one append).
pub fn lock_for_emit(run_dir: &Path) -> Result<EmitLock, LockError> {
    let (file, path) = open(run_dir, DAEMON_LOCK)?;
    match file.try_lock_shared() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(EmitLock::Daemon),
        Err(TryLockError::Error(source)) => return Err(LockError::Lock { path, source }),
    }
    let daemon = LockGuard { file, path };
    let (log, log_path) = open(run_dir, LOG_LOCK)?;
    log.lock().map_err(|source| LockError::Lock {
        path: log_path.clone(),
        source,
    })?;
    Ok(EmitLock::Embedded {
        daemon,
        log: LockGuard {
            file: log,
            path: log_path,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_excludes_daemon_and_emitters() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        assert!(!daemon_running(&run));
        let daemon = lock_daemon(&run, Duration::from_secs(1)).unwrap();
        assert!(daemon_running(&run));
        assert!(matches!(
            lock_daemon(&run, Duration::from_secs(1)),
            Err(LockError::DaemonRunning { .. })
        ));
        assert!(matches!(lock_for_emit(&run).unwrap(), EmitLock::Daemon));
        drop(daemon);
        assert!(!daemon_running(&run));
        let emit = lock_for_emit(&run).unwrap();
        assert!(matches!(emit, EmitLock::Embedded { .. }));
        // A daemon waits for emitters, then gives up when told to.
        assert!(matches!(
            lock_daemon(&run, Duration::from_millis(50)),
            Err(LockError::Timeout { .. })
        ));
        drop(emit);
        assert!(lock_daemon(&run, Duration::from_millis(50)).is_ok());
    }
}

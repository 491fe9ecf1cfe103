//! The service loop: the watcher's batches become `core:file:*` events, warm-status updates and
//! `core:repo:*` events; questions on the status socket are answered after their cookie.
//!
//! Protocol (one connection per question): the client sends one JSON line `{"op": "status"}`
//! and reads one JSON line back, `{"ok": true, "records": [...]}` or `{"ok": false, "error":
//! "..."}`.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use meta_events::Event;
use meta_events::core::{self, FileChange};
use meta_repo::StatusRecord;
use meta_watch::{COOKIE_PREFIX, FileEvent, WatchOptions, Watcher};

use crate::{WarmError, WarmStatus};

/// How long a question waits for its cookie before it is answered with an error (the watcher
/// is stuck or the kernel dropped the event: the client then reads the status cold).
const COOKIE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a client may take to send its question.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// Cookies seen before their question reached the loop, remembered this many at most.
const EARLY_COOKIES: usize = 1024;

/// How to run the service.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    pub watch: WatchOptions,
    /// Where `meta status` finds the warm status (a Unix socket).
    pub socket: PathBuf,
}

enum Input {
    Batch(Vec<FileEvent>),
    Question { cookie: String, stream: UnixStream },
}

/// What the loop tells its caller as it goes.
pub trait Sink {
    /// Publishes one event (`core:file:*` or `core:repo:*`).
    fn publish(&mut self, event: Event) -> Result<(), String>;
    /// Says something worth a line in the daemon's log.
    fn note(&mut self, message: &str);
}

/// Runs until the watcher stops: watches the tree, keeps the warm status, publishes events
/// through `sink`, and answers questions on `options.socket`.
pub fn run(options: ServiceOptions, sink: &mut dyn Sink) -> Result<(), WarmError> {
    let root = options.watch.root.clone();
    let (tx, rx) = mpsc::channel();
    let batches = tx.clone();
    // Started before the first read of the tree, so nothing changed meanwhile is missed.
    let watcher = Watcher::start(options.watch, move |batch| {
        let _ = batches.send(Input::Batch(batch));
    })?;
    let mut warm = WarmStatus::new(&root);
    let git_dir = git_dir_of(&root);
    let listener = bind(&options.socket)?;
    let _socket = RemoveOnDrop(options.socket.clone());
    remove_stale_cookies(&git_dir);
    spawn_acceptor(listener, git_dir.clone(), tx)?;
    sink.note(&format!(
        "watching {} folders and {} projects under {}",
        watcher.watched_dirs(),
        warm.len(),
        root.display()
    ));

    let mut waiting: Vec<(String, UnixStream, Instant)> = Vec::new();
    let mut early: VecDeque<String> = VecDeque::new();
    loop {
        let timeout = waiting
            .iter()
            .map(|(_, _, asked)| {
                (*asked + COOKIE_TIMEOUT).saturating_duration_since(Instant::now())
            })
            .min()
            .unwrap_or(Duration::from_secs(3600));
        match rx.recv_timeout(timeout) {
            Ok(Input::Batch(batch)) => {
                for event in &batch {
                    if let Some(event) = file_event(event) {
                        sink.publish(event).map_err(WarmError::Publish)?;
                    }
                }
                let cookies = warm.apply(&batch);
                for event in warm.refresh() {
                    sink.publish(event).map_err(WarmError::Publish)?;
                }
                let mut cookies: HashSet<String> = cookies.into_iter().collect();
                let mut still = Vec::new();
                for (cookie, stream, asked) in waiting.drain(..) {
                    if cookies.remove(&cookie) {
                        answer(stream, warm.records());
                        remove_cookie(&git_dir, &cookie);
                    } else {
                        still.push((cookie, stream, asked));
                    }
                }
                waiting = still;
                // Cookies whose question has not reached the loop yet (the watcher was quicker).
                let ours = cookie_prefix();
                early.extend(cookies.into_iter().filter(|c| c.starts_with(&ours)));
                while early.len() > EARLY_COOKIES {
                    if let Some(old) = early.pop_front() {
                        remove_cookie(&git_dir, &old);
                    }
                }
            }
            Ok(Input::Question { cookie, stream }) => {
                if let Some(i) = early.iter().position(|c| *c == cookie) {
                    early.remove(i);
                    answer(stream, warm.records());
                    remove_cookie(&git_dir, &cookie);
                } else {
                    waiting.push((cookie, stream, Instant::now()));
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                let (late, still): (Vec<_>, Vec<_>) = waiting
                    .drain(..)
                    .partition(|(_, _, asked)| now >= *asked + COOKIE_TIMEOUT);
                waiting = still;
                for (cookie, stream, _) in late {
                    sink.note(&format!(
                        "the watcher did not report cookie {cookie} in time"
                    ));
                    answer(
                        stream,
                        Err(format!(
                            "the watcher did not report the cookie within {} s",
                            COOKIE_TIMEOUT.as_secs()
                        )),
                    );
                    remove_cookie(&git_dir, &cookie);
                }
            }
            // Both the watcher and the acceptor are gone.
            Err(RecvTimeoutError::Disconnected) => return Err(WarmError::WatcherStopped),
        }
    }
}

/// The `core:file:*` event for a file change (git state and cookies are not file events).
pub fn file_event(change: &FileEvent) -> Option<Event> {
    let (kind, change) = match change {
        FileEvent::Created(c) => (FileChange::Created, c),
        FileEvent::Modified(c) => (FileChange::Modified, c),
        FileEvent::Deleted(c) => (FileChange::Deleted, c),
        FileEvent::Overflow { reason } => return Some(core::file_overflow(reason)),
        FileEvent::GitState { .. } | FileEvent::Cookie { .. } => return None,
    };
    Some(core::file_event(
        kind,
        &change.path,
        change.project.as_deref(),
        change.is_dir,
    ))
}

/// This process's cookie names start with this, so another process's are left alone.
fn cookie_prefix() -> String {
    format!("{COOKIE_PREFIX}{}-", std::process::id())
}

/// The superproject's git dir: `.git`, or where a `.git` file points (as the watcher finds it).
fn git_dir_of(root: &Path) -> PathBuf {
    meta_watch::git_dir_of(root).unwrap_or_else(|| root.join(".git"))
}

/// Cookies a killed service left behind (only one service serves a meta-repo: `bind` saw to it).
fn remove_stale_cookies(git_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(git_dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(COOKIE_PREFIX)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn remove_cookie(git_dir: &Path, cookie: &str) {
    // Already gone is fine: nobody else uses it.
    let _ = std::fs::remove_file(git_dir.join(cookie));
}

/// Binds the socket, replacing a stale one (left by a killed service) but never a live one.
fn bind(path: &Path) -> Result<UnixListener, WarmError> {
    if UnixStream::connect(path).is_ok() {
        return Err(WarmError::AlreadyServing {
            path: path.to_path_buf(),
        });
    }
    let _ = std::fs::remove_file(path);
    UnixListener::bind(path).map_err(|source| WarmError::Listen {
        path: path.to_path_buf(),
        source,
    })
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Accepts questions on their own thread: reads each, writes its cookie, hands it to the loop.
fn spawn_acceptor(
    listener: UnixListener,
    git_dir: PathBuf,
    tx: Sender<Input>,
) -> Result<(), WarmError> {
    std::thread::Builder::new()
        .name("meta-status-socket".to_owned())
        .spawn(move || {
            let prefix = cookie_prefix();
            let mut next: u64 = 0;
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                match read_question(&stream) {
                    Ok(()) => {}
                    Err(error) => {
                        answer(stream, Err(error));
                        continue;
                    }
                }
                next += 1;
                let cookie = format!("{prefix}{next}");
                if let Err(error) = std::fs::write(git_dir.join(&cookie), b"") {
                    answer(
                        stream,
                        Err(format!(
                            "cannot write a cookie in `{}`: {error}",
                            git_dir.display()
                        )),
                    );
                    continue;
                }
                if tx.send(Input::Question { cookie, stream }).is_err() {
                    return;
                }
            }
        })
        .map_err(WarmError::Thread)?;
    Ok(())
}

fn read_question(stream: &UnixStream) -> Result<(), String> {
    let _ = stream.set_read_timeout(Some(REQUEST_TIMEOUT));
    // One line, of at most 64 KiB.
    let mut line = String::new();
    BufReader::new(std::io::Read::take(stream, 64 * 1024))
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the question: {e}"))?;
    let request: serde_json::Value =
        serde_json::from_str(&line).map_err(|e| format!("the question is not JSON: {e}"))?;
    match request.get("op").and_then(serde_json::Value::as_str) {
        Some("status") => Ok(()),
        Some(op) => Err(format!(
            "unknown op `{op}` (the status socket answers `status`)"
        )),
        None => Err("the question has no `op`".to_owned()),
    }
}

#[derive(serde::Serialize)]
struct Answer<'a> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    records: Option<&'a [StatusRecord]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn answer(stream: UnixStream, result: Result<&[StatusRecord], impl Into<String>>) {
    let answer = match result {
        Ok(records) => Answer {
            ok: true,
            records: Some(records),
            error: None,
        },
        Err(error) => Answer {
            ok: false,
            records: None,
            error: Some(error.into()),
        },
    };
    let mut out = BufWriter::with_capacity(256 * 1024, stream);
    // A client that went away is not the service's problem.
    let _ = serde_json::to_writer(&mut out, &answer);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

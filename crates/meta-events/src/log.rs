//! The event log (DESIGN.md 3.5): `.meta/events/events-<first sequence, 20 digits>.jsonl`, one
//! event per line, append-only, rotated at a line boundary past `log_max_bytes`, `log_keep`
//! segments kept, synced to disk as `durability` says, and repaired on open when a crash left a
//! torn last line.
//!
//! There is one writer at a time ([`LogWriter`]); the lock protocol in [`crate::lock`] sees to
//! that. Readers ([`LogCursor`]) take no lock: they only ever consume whole lines, and follow the
//! writer across rotation.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use meta_workspace::Durability;
use meta_workspace::config::EventsConfig;

/// With `durability = "batch"`: sync at least this often while events arrive...
pub const BATCH_SYNC_INTERVAL: Duration = Duration::from_millis(10);
/// ...or after this many events, whichever comes first.
pub const BATCH_SYNC_EVENTS: u64 = 1000;

/// How the log is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogConfig {
    pub max_bytes: u64,
    pub keep: usize,
    pub durability: Durability,
}

impl From<&EventsConfig> for LogConfig {
    fn from(config: &EventsConfig) -> Self {
        Self {
            max_bytes: config.log_max_bytes,
            keep: config.log_keep.max(1),
            durability: config.durability,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        (&EventsConfig::default()).into()
    }
}

/// Why the log could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot create the event log folder `{}`", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot list the event log folder `{}`", path.display())]
    List {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot open the log segment `{}`", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the log segment `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write the log segment `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot remove the old log segment `{}`", path.display())]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// One segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Sequence of its first event (from its name).
    pub first: u64,
    pub path: PathBuf,
    pub len: u64,
}

/// `events-<first, 20 digits>.jsonl`.
pub fn segment_name(first: u64) -> String {
    format!("events-{}.jsonl", crate::format_sequence(first))
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("events-")?.strip_suffix(".jsonl")?;
    if digits.len() != 20 {
        return None;
    }
    crate::event::parse_sequence(digits)
}

/// The segments in `dir`, oldest first. A missing folder has none.
pub fn list_segments(dir: &Path) -> Result<Vec<Segment>, LogError> {
    let list_error = |source| LogError::List {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(list_error(e)),
    };
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(list_error)?;
        let name = entry.file_name();
        let Some(first) = name.to_str().and_then(parse_segment_name) else {
            continue;
        };
        // A segment removed by retention between listing and stat is simply gone.
        let Ok(meta) = entry.metadata() else { continue };
        segments.push(Segment {
            first,
            path: entry.path(),
            len: meta.len(),
        });
    }
    segments.sort_by_key(|s| s.first);
    Ok(segments)
}

/// The `sequence` of a log line, read without decoding the whole line when it is in the form
/// the log writes.
pub fn line_sequence(line: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"sequence\":\"";
    if let Some(at) = line.windows(KEY.len()).position(|w| w == KEY) {
        let digits = line.get(at + KEY.len()..)?;
        let end = digits.iter().position(|b| *b == b'"')?;
        let text = std::str::from_utf8(&digits[..end]).ok()?;
        return crate::event::parse_sequence(text);
    }
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    crate::event::parse_sequence(value.get("sequence")?.as_str()?)
}

/// A whole line: JSON object with a sequence. Anything else at the end of a segment is torn.
fn whole_event_sequence(line: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    value.get("type")?.as_str()?;
    crate::event::parse_sequence(value.get("sequence")?.as_str()?)
}

/// Summary of the log for status reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogStats {
    pub segments: usize,
    pub bytes: u64,
    pub last_sequence: Option<u64>,
}

/// Reads the log's size and last sequence without taking any lock.
pub fn stats(dir: &Path) -> Result<LogStats, LogError> {
    let segments = list_segments(dir)?;
    let mut last_sequence = None;
    for segment in segments.iter().rev() {
        let file = File::open(&segment.path).map_err(|source| LogError::Open {
            path: segment.path.clone(),
            source,
        })?;
        let mut end = segment.len;
        // Walk back over a torn tail the writer has not repaired yet.
        while end > 0 {
            let Some((start, line)) = last_line(&file, end).map_err(|source| LogError::Read {
                path: segment.path.clone(),
                source,
            })?
            else {
                break;
            };
            if let Some(seq) = whole_event_sequence(&line) {
                last_sequence = Some(seq);
                break;
            }
            end = start;
        }
        if last_sequence.is_some() {
            break;
        }
    }
    Ok(LogStats {
        segments: segments.len(),
        bytes: segments.iter().map(|s| s.len).sum(),
        last_sequence,
    })
}

/// The last newline-terminated line ending at or before `end`: its start and bytes (without
/// the newline). Bytes after the last newline are skipped.
fn last_line(file: &File, end: u64) -> io::Result<Option<(u64, Vec<u8>)>> {
    let Some(newline) = rfind_newline(file, end)? else {
        return Ok(None);
    };
    let start = rfind_newline(file, newline)?.map_or(0, |p| p + 1);
    let mut line = vec![0u8; usize::try_from(newline - start).unwrap_or(0)];
    file.read_exact_at(&mut line, start)?;
    Ok(Some((start, line)))
}

/// Position of the last `\n` in `file[..end]`.
fn rfind_newline(file: &File, end: u64) -> io::Result<Option<u64>> {
    const CHUNK: u64 = 64 * 1024;
    let mut buf = vec![0u8; usize::try_from(CHUNK).unwrap_or(65_536)];
    let mut end = end;
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let len = usize::try_from(end - start).unwrap_or(0);
        let chunk = &mut buf[..len];
        file.read_exact_at(chunk, start)?;
        if let Some(i) = chunk.iter().rposition(|b| *b == b'\n') {
            return Ok(Some(start + i as u64));
        }
        end = start;
    }
    Ok(None)
}

/// Syncs the active segment off the publish path for `durability = "batch"`.
struct Syncer {
    shared: Arc<(Mutex<SyncState>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

struct SyncState {
    file: Arc<File>,
    dirty_since: Option<Instant>,
    pending: u64,
    stop: bool,
}

impl Syncer {
    fn start(file: Arc<File>) -> Self {
        let shared = Arc::new((
            Mutex::new(SyncState {
                file,
                dirty_since: None,
                pending: 0,
                stop: false,
            }),
            Condvar::new(),
        ));
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("meta-log-sync".into())
            .spawn(move || sync_loop(&thread_shared))
            .ok();
        Self { shared, thread }
    }

    fn wrote(&self, events: u64) {
        let (lock, wake) = &*self.shared;
        let mut state = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.pending += events;
        let first = state.dirty_since.is_none();
        if first {
            state.dirty_since = Some(Instant::now());
        }
        if first || state.pending >= BATCH_SYNC_EVENTS {
            wake.notify_one();
        }
    }

    fn set_file(&self, file: Arc<File>) {
        let (lock, _) = &*self.shared;
        lock.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .file = file;
    }
}

fn sync_loop(shared: &(Mutex<SyncState>, Condvar)) {
    let (lock, wake) = shared;
    let mut state = lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        while !state.stop && state.dirty_since.is_none() {
            state = wake
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        let Some(since) = state.dirty_since else {
            return; // stopping with nothing to sync
        };
        let deadline = since + BATCH_SYNC_INTERVAL;
        while !state.stop && state.pending < BATCH_SYNC_EVENTS {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = wake
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        let file = Arc::clone(&state.file);
        state.dirty_since = None;
        state.pending = 0;
        let stop = state.stop;
        drop(state);
        // A failed sync is retried with the next batch; the writer's own sync on close reports.
        let _ = file.sync_data();
        if stop {
            return;
        }
        state = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        {
            let (lock, wake) = &*self.shared;
            lock.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .stop = true;
            wake.notify_one();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The log's single writer.
pub struct LogWriter {
    dir: PathBuf,
    config: LogConfig,
    file: Arc<File>,
    path: PathBuf,
    first: u64,
    size: u64,
    next: u64,
    segments: VecDeque<PathBuf>,
    repaired: u64,
    syncer: Option<Syncer>,
    /// Segments an exporter has not passed are kept beyond `keep` (see [`LogWriter::retain_for`]).
    retain: Option<Retain>,
}

/// The bridge's retention guard: the exporter's cursor file and how many bytes of segments past
/// `keep` may wait for it.
#[derive(Debug, Clone)]
struct Retain {
    cursor_file: PathBuf,
    max_bytes: u64,
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWriter")
            .field("path", &self.path)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl LogWriter {
    /// Opens the log in `dir` for appending: cuts a torn last line off the newest segment and
    /// continues the sequence after the last whole event. Only call this while holding the right
    /// to write (the daemon lock, or the log lock in embedded mode).
    pub fn open(dir: &Path, config: LogConfig) -> Result<Self, LogError> {
        fs_err::create_dir_all(dir).map_err(|source| LogError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let segments = list_segments(dir)?;
        let (path, first) = match segments.last() {
            Some(last) => (last.path.clone(), last.first),
            None => (dir.join(segment_name(1)), 1),
        };
        let file = open_append(&path)?;
        let (size, last, repaired) = repair(&file).map_err(|source| LogError::Write {
            path: path.clone(),
            source,
        })?;
        let next = last.map_or(first, |seq| seq + 1).max(first);
        let file = Arc::new(file);
        let syncer =
            (config.durability == Durability::Batch).then(|| Syncer::start(Arc::clone(&file)));
        let mut listed: VecDeque<PathBuf> = segments.into_iter().map(|s| s.path).collect();
        if listed.back() != Some(&path) {
            listed.push_back(path.clone());
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            file,
            path,
            first,
            size,
            next,
            segments: listed,
            repaired,
            syncer,
            retain: None,
        })
    }

    /// Opens `workspace`'s log as every writer of it must: its `[events]` settings, and with the
    /// bridge on, the bridge's retention guard ([`LogWriter::retain_for`]). The daemon and
    /// embedded appends (no daemon, e.g. CI) both open it here.
    pub fn open_workspace(workspace: &meta_workspace::Workspace) -> Result<Self, LogError> {
        let config = workspace.config();
        let mut log = Self::open(&workspace.events_dir(), LogConfig::from(&config.events))?;
        if config.bridge.enabled {
            log.retain_for(
                workspace.bridge_cursor_path(),
                config.bridge.max_backlog_bytes,
            );
        }
        Ok(log)
    }

    /// Keeps segments holding events after the sequence written in `cursor_file` (the bridge's
    /// export cursor: the last event the server has) even past `keep`, up to `max_bytes` more;
    /// beyond that they go as before and the exporter records the gap (DESIGN.md section 11).
    pub fn retain_for(&mut self, cursor_file: PathBuf, max_bytes: u64) {
        self.retain = Some(Retain {
            cursor_file,
            max_bytes,
        });
    }

    /// Should the oldest segment wait for the exporter? `extra` segments are already past `keep`.
    fn retained(&self, extra: usize) -> bool {
        let Some(retain) = &self.retain else {
            return false;
        };
        let cursor: u64 = std::fs::read_to_string(&retain.cursor_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        // The oldest segment ends where the next one starts.
        let Some(next_first) = self
            .segments
            .get(1)
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .and_then(parse_segment_name)
        else {
            return false;
        };
        if cursor + 1 >= next_first {
            return false;
        }
        let waiting: u64 = self
            .segments
            .iter()
            .take(extra)
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        waiting <= retain.max_bytes
    }

    /// The sequence the next appended event gets.
    pub fn next_sequence(&self) -> u64 {
        self.next
    }

    /// Bytes cut off a torn tail when the log was opened.
    pub fn repaired_bytes(&self) -> u64 {
        self.repaired
    }

    /// The active segment.
    pub fn active_path(&self) -> &Path {
        &self.path
    }

    /// Appends `count` whole lines (each ending in `\n`) holding the sequences
    /// `next_sequence()..next_sequence() + count`, rotating at line boundaries and syncing as the
    /// durability mode says. On error nothing of the failed write stays in the segment.
    pub fn append(&mut self, lines: &[u8], count: u64) -> Result<(), LogError> {
        let mut rest = lines;
        let mut seq = self.next;
        let first = self.next;
        while !rest.is_empty() {
            if self.size >= self.config.max_bytes {
                self.rotate(seq)?;
            }
            let room = self.config.max_bytes - self.size;
            let chunk_len = if rest.len() as u64 <= room {
                rest.len()
            } else {
                // Up to the end of the line that crosses the limit.
                let from = usize::try_from(room.saturating_sub(1)).unwrap_or(0);
                rest[from..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(rest.len(), |i| from + i + 1)
            };
            let (chunk, tail) = rest.split_at(chunk_len);
            self.write(chunk)?;
            seq += if tail.is_empty() {
                count - (seq - first)
            } else {
                count_lines(chunk)
            };
            // What is written stays written, even if a later chunk fails.
            self.next = seq;
            rest = tail;
        }
        let written = seq - first;
        match self.config.durability {
            Durability::None => {}
            Durability::Always => self.sync()?,
            Durability::Batch => {
                if let Some(syncer) = &self.syncer {
                    syncer.wrote(written);
                }
            }
        }
        Ok(())
    }

    fn write(&mut self, chunk: &[u8]) -> Result<(), LogError> {
        if let Err(source) = (&*self.file).write_all(chunk) {
            // Leave no partial line behind for the next write to glue onto.
            let _ = self.file.set_len(self.size);
            return Err(LogError::Write {
                path: self.path.clone(),
                source,
            });
        }
        self.size += chunk.len() as u64;
        Ok(())
    }

    /// Syncs the active segment to disk now.
    pub fn sync(&self) -> Result<(), LogError> {
        self.file.sync_data().map_err(|source| LogError::Write {
            path: self.path.clone(),
            source,
        })
    }

    /// Starts a new segment whose first event is `first`, then drops the oldest past `keep`.
    fn rotate(&mut self, first: u64) -> Result<(), LogError> {
        if self.config.durability != Durability::None {
            self.sync()?;
        }
        let path = self.dir.join(segment_name(first));
        let file = Arc::new(open_append(&path)?);
        if self.config.durability != Durability::None {
            // The new name must survive a crash too.
            if let Ok(dir) = File::open(&self.dir) {
                let _ = dir.sync_all();
            }
        }
        if let Some(syncer) = &self.syncer {
            syncer.set_file(Arc::clone(&file));
        }
        self.file = file;
        self.path.clone_from(&path);
        self.first = first;
        self.size = 0;
        self.segments.push_back(path);
        while self.segments.len() > self.config.keep {
            if self.retained(self.segments.len() - self.config.keep) {
                break;
            }
            if let Some(old) = self.segments.pop_front() {
                match std::fs::remove_file(&old) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(source) => return Err(LogError::Remove { path: old, source }),
                }
            }
        }
        Ok(())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        // Stop the syncer first: its last sync and ours may then not race.
        self.syncer = None;
        if self.config.durability != Durability::None {
            let _ = self.file.sync_data();
        }
    }
}

/// Lines in `chunk` (only needed when a write straddles a rotation, so no crate for it).
#[allow(clippy::naive_bytecount)]
fn count_lines(chunk: &[u8]) -> u64 {
    chunk.iter().filter(|b| **b == b'\n').count() as u64
}

fn open_append(path: &Path) -> Result<File, LogError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .map_err(|source| LogError::Open {
            path: path.to_path_buf(),
            source,
        })
}

/// Cuts torn lines off the end of `file`: bytes after the last newline, then any last line that
/// is not a whole event. Returns the new length, the last sequence and the bytes cut.
fn repair(file: &File) -> io::Result<(u64, Option<u64>, u64)> {
    let original = file.metadata()?.len();
    let mut len = original;
    let mut last = None;
    while len > 0 {
        let mut byte = [0u8];
        file.read_exact_at(&mut byte, len - 1)?;
        if byte[0] != b'\n' {
            len = rfind_newline(file, len)?.map_or(0, |p| p + 1);
            file.set_len(len)?;
            continue;
        }
        let Some((start, line)) = last_line(file, len)? else {
            break;
        };
        if let Some(seq) = whole_event_sequence(&line) {
            last = Some(seq);
            break;
        }
        len = start;
        file.set_len(len)?;
    }
    if len != original {
        file.sync_all()?;
    }
    Ok((len, last, original - len))
}

/// Where a reader is: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub segment: u64,
    pub offset: u64,
}

/// Reads whole lines from the log, oldest first, following rotation. Never takes a lock and
/// never returns a line the writer has not finished.
pub struct LogCursor {
    dir: PathBuf,
    current: Option<(u64, File, PathBuf)>,
    /// File offset of `buf[0]`.
    buf_offset: u64,
    buf: Vec<u8>,
    consumed: usize,
    /// Segment to open first when none is open yet.
    start: StartAt,
}

#[derive(Debug, Clone, Copy)]
enum StartAt {
    Sequence(u64),
    Position(Position),
}

impl std::fmt::Debug for LogCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogCursor")
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}

impl LogCursor {
    /// A cursor at the segment holding `sequence` (or the oldest kept, if that is gone). Lines
    /// before `sequence` in that segment are returned too; callers skip them by sequence.
    pub fn from_sequence(dir: &Path, sequence: u64) -> Self {
        Self::new(dir, StartAt::Sequence(sequence))
    }

    /// A cursor at `position` (from [`LogCursor::position`] or [`LogCursor::end`]).
    pub fn at(dir: &Path, position: Position) -> Self {
        Self::new(dir, StartAt::Position(position))
    }

    /// The current end of the log: reading from here returns only lines written later.
    pub fn end(dir: &Path) -> Result<Position, LogError> {
        Ok(list_segments(dir)?.last().map_or(
            Position {
                segment: 0,
                offset: 0,
            },
            |s| Position {
                segment: s.first,
                offset: s.len,
            },
        ))
    }

    fn new(dir: &Path, start: StartAt) -> Self {
        Self {
            dir: dir.to_path_buf(),
            current: None,
            buf_offset: 0,
            buf: Vec::new(),
            consumed: 0,
            start,
        }
    }

    /// Where the next line starts.
    pub fn position(&self) -> Position {
        match (&self.current, self.start) {
            (Some((segment, _, _)), _) => Position {
                segment: *segment,
                offset: self.buf_offset + self.consumed as u64,
            },
            (None, StartAt::Position(p)) => p,
            (None, StartAt::Sequence(_)) => Position {
                segment: 0,
                offset: 0,
            },
        }
    }

    /// The next whole line (without its newline), or `None` when the reader has caught up.
    pub fn next_line(&mut self) -> Result<Option<&[u8]>, LogError> {
        let mut saw_newer = false;
        loop {
            if let Some(i) = self.buf[self.consumed..].iter().position(|b| *b == b'\n') {
                let start = self.consumed;
                self.consumed += i + 1;
                return Ok(Some(&self.buf[start..start + i]));
            }
            if self.current.is_none() && !self.open_first()? {
                return Ok(None);
            }
            if self.fill()? > 0 {
                continue;
            }
            // End of this segment. If a newer one exists this one is finished — but it may have
            // been finished after our last read, so read it once more before moving on.
            let Some((segment, _, _)) = &self.current else {
                return Ok(None);
            };
            let segment = *segment;
            let Some(newer) = list_segments(&self.dir)?
                .into_iter()
                .find(|s| s.first > segment)
            else {
                return Ok(None);
            };
            if !saw_newer {
                saw_newer = true;
                continue;
            }
            saw_newer = false;
            self.switch_to(newer.first, &newer.path, 0)?;
        }
    }

    /// Reads more of the current segment into the buffer; returns the bytes read.
    fn fill(&mut self) -> Result<usize, LogError> {
        let Some((_, file, path)) = &self.current else {
            return Ok(0);
        };
        if self.consumed > 0 {
            self.buf.drain(..self.consumed);
            self.buf_offset += self.consumed as u64;
            self.consumed = 0;
        }
        let have = self.buf.len();
        self.buf.resize(have + 64 * 1024, 0);
        let read = file.read_at(&mut self.buf[have..], self.buf_offset + have as u64);
        let n = match read {
            Ok(n) => n,
            Err(source) => {
                self.buf.truncate(have);
                return Err(LogError::Read {
                    path: path.clone(),
                    source,
                });
            }
        };
        self.buf.truncate(have + n);
        Ok(n)
    }

    fn open_first(&mut self) -> Result<bool, LogError> {
        let segments = list_segments(&self.dir)?;
        let (segment, offset) = match self.start {
            StartAt::Sequence(seq) => {
                let Some(segment) = segments
                    .iter()
                    .rev()
                    .find(|s| s.first <= seq)
                    .or(segments.first())
                else {
                    return Ok(false);
                };
                (segment, 0)
            }
            StartAt::Position(position) => {
                if let Some(segment) = segments.iter().find(|s| s.first == position.segment) {
                    (segment, position.offset)
                } else if let Some(segment) = segments.iter().find(|s| s.first > position.segment) {
                    // The segment we stood in was removed by retention, or none existed yet.
                    (segment, 0)
                } else {
                    return Ok(false);
                }
            }
        };
        let (first, path) = (segment.first, segment.path.clone());
        self.switch_to(first, &path, offset)?;
        Ok(true)
    }

    fn switch_to(&mut self, first: u64, path: &Path, offset: u64) -> Result<(), LogError> {
        match File::open(path) {
            Ok(file) => {
                self.current = Some((first, file, path.to_path_buf()));
                self.buf.clear();
                self.consumed = 0;
                self.buf_offset = offset;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Removed by retention just now: continue from the next one.
                self.current = None;
                self.start = StartAt::Position(Position {
                    segment: first,
                    offset: 0,
                });
                self.buf.clear();
                self.consumed = 0;
                Ok(())
            }
            Err(source) => Err(LogError::Open {
                path: path.to_path_buf(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(max_bytes: u64, keep: usize) -> LogConfig {
        LogConfig {
            max_bytes,
            keep,
            durability: Durability::None,
        }
    }

    fn line(seq: u64) -> String {
        format!(
            "{{\"type\":\"a:b\",\"sequence\":\"{}\",\"data\":\"xxxxxxxxxx\"}}\n",
            crate::format_sequence(seq)
        )
    }

    fn append(writer: &mut LogWriter, n: u64) {
        let mut buf = String::new();
        for i in 0..n {
            buf.push_str(&line(writer.next_sequence() + i));
        }
        writer.append(buf.as_bytes(), n).unwrap();
    }

    fn read_all(dir: &Path) -> Vec<u64> {
        let mut cursor = LogCursor::from_sequence(dir, 0);
        let mut seqs = Vec::new();
        while let Some(line) = cursor.next_line().unwrap() {
            seqs.push(line_sequence(line).unwrap());
        }
        seqs
    }

    #[test]
    fn appends_rotates_and_keeps() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = LogWriter::open(dir.path(), config(200, 3)).unwrap();
        assert_eq!(writer.next_sequence(), 1);
        for _ in 0..10 {
            append(&mut writer, 3);
        }
        assert_eq!(writer.next_sequence(), 31);
        let segments = list_segments(dir.path()).unwrap();
        assert_eq!(segments.len(), 3);
        for segment in &segments {
            let text = std::fs::read_to_string(&segment.path).unwrap();
            assert!(text.ends_with('\n'));
            let first = line_sequence(text.lines().next().unwrap().as_bytes()).unwrap();
            assert_eq!(first, segment.first, "{}", segment.path.display());
        }
        let seqs = read_all(dir.path());
        assert_eq!(*seqs.last().unwrap(), 30);
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
        drop(writer);
        let writer = LogWriter::open(dir.path(), config(200, 3)).unwrap();
        assert_eq!(writer.next_sequence(), 31);
        assert_eq!(stats(dir.path()).unwrap().last_sequence, Some(30));
    }

    #[test]
    fn torn_tail_is_cut_and_sequence_continues() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = LogWriter::open(dir.path(), LogConfig::default()).unwrap();
        append(&mut writer, 5);
        let path = writer.active_path().to_path_buf();
        drop(writer);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"type\":\"a:b\",\"seq");
        std::fs::write(&path, &text).unwrap();
        let mut writer = LogWriter::open(dir.path(), LogConfig::default()).unwrap();
        assert!(writer.repaired_bytes() > 0);
        assert_eq!(writer.next_sequence(), 6);
        append(&mut writer, 1);
        drop(writer);
        // A whole but broken last line is cut as well.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("garbage\n");
        std::fs::write(&path, &text).unwrap();
        let writer = LogWriter::open(dir.path(), LogConfig::default()).unwrap();
        assert_eq!(writer.next_sequence(), 7);
        assert_eq!(read_all(dir.path()), (1..=6).collect::<Vec<_>>());
    }

    #[test]
    fn cursor_sees_only_whole_lines_and_follows_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = LogWriter::open(dir.path(), config(150, 100)).unwrap();
        let mut cursor = LogCursor::from_sequence(dir.path(), 1);
        assert!(cursor.next_line().unwrap().is_none());
        append(&mut writer, 1);
        // Half a line: not returned until it is whole.
        let half = line(2);
        (&*writer.file).write_all(&half.as_bytes()[..10]).unwrap();
        assert_eq!(line_sequence(cursor.next_line().unwrap().unwrap()), Some(1));
        assert!(cursor.next_line().unwrap().is_none());
        (&*writer.file).write_all(&half.as_bytes()[10..]).unwrap();
        writer.size += half.len() as u64;
        writer.next += 1;
        assert_eq!(line_sequence(cursor.next_line().unwrap().unwrap()), Some(2));
        for _ in 0..5 {
            append(&mut writer, 2);
        }
        let mut seen = Vec::new();
        while let Some(line) = cursor.next_line().unwrap() {
            seen.push(line_sequence(line).unwrap());
        }
        assert_eq!(seen, (3..=12).collect::<Vec<_>>());
        assert!(list_segments(dir.path()).unwrap().len() > 2);
    }

    #[test]
    fn batch_durability_syncs_in_background() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = LogWriter::open(
            dir.path(),
            LogConfig {
                durability: Durability::Batch,
                ..LogConfig::default()
            },
        )
        .unwrap();
        for _ in 0..50 {
            append(&mut writer, 100);
        }
        drop(writer);
        assert_eq!(read_all(dir.path()).len(), 5000);
    }
}

//! The Linux watcher: one inotify watch per folder, one thread reading, coalescing and
//! handing batches to the sink.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::event::{EventfdFlags, PollFd, PollFlags, Timespec};
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use rustix::io::Errno;

use crate::coalesce::{Coalescer, Raw};
use crate::filter::{self, Filter};
use crate::{
    COOKIE_PREFIX, FileEvent, WatchError, WatchOptions, git_watch_dirs, max_user_watches, walk_dirs,
};

/// The files directly in a git dir whose change can change what `git status` says. Lock files
/// are skipped: git renames them onto these names when it is done.
const GIT_STATE_FILES: &[&str] = &[
    "HEAD",
    "index",
    "packed-refs",
    "config",
    "MERGE_HEAD",
    "CHERRY_PICK_HEAD",
    "REVERT_HEAD",
    "BISECT_LOG",
    "rebase-merge",
    "rebase-apply",
    "sequencer",
    "shallow",
];

/// Only what changes a tree; no open/close/access noise. Symlinks are not followed, and
/// events for files unlinked while open are not reported after the unlink.
const MASK: WatchFlags = WatchFlags::CREATE
    .union(WatchFlags::DELETE)
    .union(WatchFlags::MODIFY)
    .union(WatchFlags::ATTRIB)
    .union(WatchFlags::MOVED_FROM)
    .union(WatchFlags::MOVED_TO)
    .union(WatchFlags::ONLYDIR)
    .union(WatchFlags::DONT_FOLLOW)
    .union(WatchFlags::EXCL_UNLINK);

/// A running watcher. Dropping it stops the thread (after delivering what is pending).
pub struct Watcher {
    wake: Arc<OwnedFd>,
    thread: Option<JoinHandle<()>>,
    watched: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("watched_dirs", &self.watched_dirs())
            .finish_non_exhaustive()
    }
}

impl Watcher {
    /// Watches `options.root` and calls `sink` with each batch of events (one per debounce
    /// window), on the watcher's own thread. A slow sink delays reading; if the kernel's queue
    /// overflows meanwhile, the next batch says so.
    pub fn start(
        options: WatchOptions,
        sink: impl FnMut(Vec<FileEvent>) + Send + 'static,
    ) -> Result<Self, WatchError> {
        let root = std::path::absolute(&options.root).map_err(|source| WatchError::Read {
            path: options.root.clone(),
            source,
        })?;
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
            .map_err(|e| WatchError::Init(e.into()))?;
        let wake = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map_err(|e| WatchError::Init(e.into()))?;
        let watched = Arc::new(AtomicUsize::new(0));
        let mut state = State {
            fd,
            filter: Filter::new(&root, &options.ignore)?,
            dirs: BTreeMap::new(),
            wds: HashMap::new(),
            coalescer: Coalescer::new(options.max_pending),
            rescan: false,
            rules_changed: BTreeSet::new(),
            watched: Arc::clone(&watched),
            git_wds: HashMap::new(),
            git_watched: HashMap::new(),
            repos_changed: false,
        };
        state.watch_tree("", None)?;
        state.sync_git_watches()?;
        let wake = Arc::new(wake);
        let thread_wake = Arc::clone(&wake);
        let thread = std::thread::Builder::new()
            .name("meta-watch".to_owned())
            .spawn(move || state.run(&thread_wake, options.debounce, sink))
            .map_err(WatchError::Thread)?;
        Ok(Self {
            wake,
            thread: Some(thread),
            watched,
        })
    }

    /// Like [`start`](Self::start), delivering batches on a channel instead.
    pub fn channel(
        options: WatchOptions,
    ) -> Result<(Self, std::sync::mpsc::Receiver<Vec<FileEvent>>), WatchError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let watcher = Self::start(options, move |batch| {
            // The receiver hung up: nobody listens any more, which is theirs to decide.
            let _ = tx.send(batch);
        })?;
        Ok((watcher, rx))
    }

    /// How many folders are watched right now.
    pub fn watched_dirs(&self) -> usize {
        self.watched.load(Ordering::Relaxed)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = rustix::io::write(&*self.wake, &1u64.to_ne_bytes());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct State {
    fd: OwnedFd,
    filter: Filter,
    /// Watched folder (root-relative) → watch descriptor; ordered so a subtree is a range.
    dirs: BTreeMap<String, i32>,
    wds: HashMap<i32, String>,
    coalescer: Coalescer,
    /// Set after a queue overflow: watches may be missing for folders created meanwhile.
    rescan: bool,
    /// Folders whose ignore rules changed (a `.gitignore` or a repository came or went):
    /// folders below them that were skipped may now need a watch.
    rules_changed: BTreeSet<String>,
    watched: Arc<AtomicUsize>,
    /// Watches in git dirs: wd → the repository and the folder inside its git dir.
    git_wds: HashMap<i32, GitWatch>,
    /// Repository (root-relative) → its git dir and the watches placed in it.
    git_watched: HashMap<String, (std::path::PathBuf, Vec<i32>)>,
    /// A `.git` came, went or changed: the git-dir watches must follow.
    repos_changed: bool,
}

/// Where a git-dir watch sits.
#[derive(Clone)]
struct GitWatch {
    repo: String,
    /// `""` for the git dir itself, `info`, or `refs…`.
    sub: String,
}

/// One event read from the kernel, owned so the reader's buffer can be reused.
struct RawEvent {
    wd: i32,
    mask: ReadFlags,
    name: Option<String>,
}

impl State {
    fn run(mut self, wake: &OwnedFd, debounce: Duration, mut sink: impl FnMut(Vec<FileEvent>)) {
        // Big enough to drain a burst in few reads (an event is 16 bytes plus its name).
        let mut buf = vec![MaybeUninit::<u8>::uninit(); 256 * 1024];
        let mut events = Vec::new();
        loop {
            let timeout = self
                .coalescer
                .deadline(debounce)
                .map(|deadline| deadline.saturating_duration_since(Instant::now()));
            let timespec = timeout.map(|t| Timespec {
                tv_sec: i64::try_from(t.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(t.subsec_nanos()),
            });
            let mut fds = [
                PollFd::new(&self.fd, PollFlags::IN),
                PollFd::new(wake, PollFlags::IN),
            ];
            match rustix::event::poll(&mut fds, timespec.as_ref()) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(error) => {
                    self.coalescer
                        .overflow(format!("cannot wait for file events: {error}"));
                    sink(self.coalescer.take());
                    return;
                }
            }
            let stop = !fds[1].revents().is_empty();
            let readable = !fds[0].revents().is_empty();
            if readable {
                self.read_events(&mut buf, &mut events);
                let now = Instant::now();
                for event in events.drain(..) {
                    self.handle(event, now);
                }
                if self.rescan {
                    self.rescan = false;
                    self.rules_changed.clear();
                    // Errors here were already turned into this window's overflow.
                    let _ = self.watch_tree("", None);
                    self.repos_changed = true;
                }
                self.watch_newly_visible();
                if std::mem::take(&mut self.repos_changed)
                    && let Err(error) = self.sync_git_watches()
                {
                    self.coalescer.overflow(error.to_string());
                }
            }
            let due = self
                .coalescer
                .deadline(debounce)
                .is_some_and(|deadline| Instant::now() >= deadline);
            if due || stop {
                let batch = self.coalescer.take();
                if !batch.is_empty() {
                    sink(batch);
                }
            }
            if stop {
                return;
            }
        }
    }

    fn read_events(&mut self, buf: &mut [MaybeUninit<u8>], out: &mut Vec<RawEvent>) {
        let mut reader = inotify::Reader::new(&self.fd, buf);
        loop {
            match reader.next() {
                Ok(event) => out.push(RawEvent {
                    wd: event.wd(),
                    mask: event.events(),
                    name: event
                        .file_name()
                        .map(|name| name.to_string_lossy().into_owned()),
                }),
                Err(Errno::INTR) => {}
                // Drained (or an error the next poll reports again).
                Err(_) => return,
            }
        }
    }

    fn handle(&mut self, event: RawEvent, now: Instant) {
        let mask = event.mask;
        if mask.contains(ReadFlags::QUEUE_OVERFLOW) {
            self.coalescer.overflow(
                "the kernel's inotify queue overflowed (fs.inotify.max_queued_events)".to_owned(),
            );
            self.rescan = true;
            return;
        }
        if mask.contains(ReadFlags::IGNORED) {
            // The kernel dropped the watch (folder deleted or unmounted).
            if self.git_wds.remove(&event.wd).is_some() {
                self.watched.store(self.watch_count(), Ordering::Relaxed);
                return;
            }
            if let Some(dir) = self.wds.remove(&event.wd)
                && self.dirs.get(&dir) == Some(&event.wd)
            {
                self.dirs.remove(&dir);
                self.watched.store(self.watch_count(), Ordering::Relaxed);
            }
            return;
        }
        if let Some(watch) = self.git_wds.get(&event.wd).cloned() {
            if let Some(name) = event.name {
                self.handle_git(&watch, mask, &name, now);
            }
            return;
        }
        let (Some(dir), Some(name)) = (self.wds.get(&event.wd).cloned(), event.name) else {
            // Events about a watched folder itself are reported by its parent's watch.
            return;
        };
        let rel = filter::join(&dir, &name);
        let is_dir = mask.contains(ReadFlags::ISDIR);
        let appeared = mask.intersects(ReadFlags::CREATE | ReadFlags::MOVED_TO);
        let vanished = mask.intersects(ReadFlags::DELETE | ReadFlags::MOVED_FROM);
        if name == ".git" {
            // A repository was made, unmade or pointed elsewhere here (a `.git` file is
            // created empty, then written): its rules, project and git dir change.
            if vanished {
                self.filter.forget_repo(&dir);
            } else {
                self.filter.learn_dir(&dir);
            }
            self.rules_changed.insert(dir.clone());
            self.repos_changed = true;
        }
        if name == ".gitignore" {
            self.filter.reload_gitignore(&dir);
            self.rules_changed.insert(dir.clone());
        }
        if self.filter.is_ignored(&rel, is_dir) {
            return;
        }
        let project = self.filter.project_of(&rel);
        if appeared {
            self.coalescer
                .push(rel.clone(), Raw::Created, is_dir, project, now);
            if is_dir {
                // Whatever was made inside before the watch is in place is found by the scan.
                let _ = self.watch_tree(&rel, Some(now));
            }
        } else if vanished {
            self.coalescer
                .push(rel.clone(), Raw::Deleted, is_dir, project, now);
            if is_dir {
                self.unwatch_tree(&rel);
                self.filter.forget_dir(&rel);
            }
        } else if mask.intersects(ReadFlags::MODIFY | ReadFlags::ATTRIB) {
            self.coalescer
                .push(rel, Raw::Modified, is_dir, project, now);
        }
    }

    /// Watches `start` and every folder below it that is not skipped. With `report_at`, every
    /// entry found is reported as created (the folder is new, so everything in it is).
    fn watch_tree(&mut self, start: &str, report_at: Option<Instant>) -> Result<(), WatchError> {
        let mut found: Vec<(String, bool)> = Vec::new();
        let fd = &self.fd;
        let dirs = &mut self.dirs;
        let wds = &mut self.wds;
        let mut limit_hit = None;
        let root = self.filter.root().to_path_buf();
        let result = walk_dirs(
            &mut self.filter,
            start,
            &mut |rel, is_dir| {
                if report_at.is_some() {
                    found.push((rel.to_owned(), is_dir));
                }
            },
            &mut |rel| {
                let path = if rel.is_empty() {
                    root.clone()
                } else {
                    root.join(rel)
                };
                match inotify::add_watch(fd, &path, MASK) {
                    Ok(wd) => {
                        if let Some(old) = dirs.insert(rel.to_owned(), wd)
                            && old != wd
                        {
                            wds.remove(&old);
                        }
                        wds.insert(wd, rel.to_owned());
                        Ok(())
                    }
                    Err(Errno::NOSPC) => {
                        limit_hit = Some(path.clone());
                        Err(WatchError::Limit {
                            path,
                            limit: max_user_watches(),
                        })
                    }
                    // Removed before we got to it: its parent reports that.
                    Err(Errno::NOENT | Errno::NOTDIR) if !rel.is_empty() => Ok(()),
                    Err(error) => Err(WatchError::Watch {
                        path,
                        source: error.into(),
                    }),
                }
            },
        );
        self.watched.store(self.watch_count(), Ordering::Relaxed);
        if let Some(now) = report_at {
            for (rel, is_dir) in found {
                let project = self.filter.project_of(&rel);
                self.coalescer.push(rel, Raw::Created, is_dir, project, now);
            }
        }
        if let Err(error) = &result
            && report_at.is_some()
        {
            // Running: the consumer learns of the gap through an overflow.
            let reason = match &limit_hit {
                Some(_) => format!("{error}; raise fs.inotify.max_user_watches"),
                None => error.to_string(),
            };
            self.coalescer.overflow(reason);
        }
        result
    }

    /// Watches the folders that changed ignore rules uncovered (say a `.gitignore` no longer
    /// listing `build/`), so changes in them are reported from now on. What they already hold
    /// is not reported: it was not created now. Folders now ignored keep their watch; their
    /// events are dropped by the rules.
    fn watch_newly_visible(&mut self) {
        let changed = std::mem::take(&mut self.rules_changed);
        let mut done: Vec<&String> = Vec::new();
        // Sorted, so a folder comes before those below it, which its walk covers.
        for dir in &changed {
            if done.iter().any(|d| filter::is_below(dir, d)) {
                continue;
            }
            done.push(dir);
            if let Err(error) = self.watch_tree(dir, None) {
                self.coalescer.overflow(error.to_string());
            }
        }
    }

    /// Stops watching `rel` and everything below it (it was deleted or moved away).
    fn unwatch_tree(&mut self, rel: &str) {
        // Keys below `rel` are the contiguous range `rel/` .. `rel0` ('0' follows '/').
        let below: Vec<String> = if rel.is_empty() {
            self.dirs.keys().cloned().collect()
        } else {
            std::iter::once(rel.to_owned())
                .chain(
                    self.dirs
                        .range(format!("{rel}/")..format!("{rel}0"))
                        .map(|(dir, _)| dir.clone()),
                )
                .collect()
        };
        for dir in below {
            if let Some(wd) = self.dirs.remove(&dir) {
                self.wds.remove(&wd);
                // Already gone when the folder was deleted; that is fine.
                let _ = inotify::remove_watch(&self.fd, wd);
            }
        }
        self.watched.store(self.watch_count(), Ordering::Relaxed);
    }

    fn watch_count(&self) -> usize {
        self.dirs.len() + self.git_wds.len()
    }

    /// A change in a git dir: git state of its repository, a cookie, or a new folder to watch.
    fn handle_git(&mut self, watch: &GitWatch, mask: ReadFlags, name: &str, now: Instant) {
        // Git's own lock files, always lowercase `.lock`.
        if name.as_bytes().ends_with(b".lock") {
            return;
        }
        let appeared = mask.intersects(ReadFlags::CREATE | ReadFlags::MOVED_TO);
        let is_dir = mask.contains(ReadFlags::ISDIR);
        let sub = filter::join(&watch.sub, name);
        match watch.sub.as_str() {
            "" if name.starts_with(COOKIE_PREFIX) => {
                if appeared {
                    self.coalescer.push_cookie(name.to_owned(), now);
                }
                return;
            }
            "" if name == "info" => {
                if appeared && is_dir {
                    self.add_git_watches(&watch.repo, &sub, false);
                }
            }
            "" if GIT_STATE_FILES.contains(&name) => {}
            "info" if name == "exclude" => {
                // The repository's ignore rules changed: untracked counts may too.
                self.filter.learn_dir(&watch.repo);
                self.rules_changed.insert(watch.repo.clone());
            }
            "" | "info" => return,
            // Below refs/: a new folder is watched with whatever was made in it meanwhile.
            _ => {
                if appeared && is_dir {
                    self.add_git_watches(&watch.repo, &sub, true);
                }
            }
        }
        self.coalescer.push_git(watch.repo.clone(), now);
    }

    /// Watches the git dir of every repository the filter knows, and drops the watches of
    /// repositories that went away (or whose `.git` points elsewhere now).
    fn sync_git_watches(&mut self) -> Result<(), WatchError> {
        let wanted: HashMap<String, std::path::PathBuf> = self
            .filter
            .git_dirs()
            .map(|(repo, dir)| (repo.clone(), dir.clone()))
            .collect();
        let stale: Vec<String> = self
            .git_watched
            .iter()
            .filter(|(repo, (dir, _))| wanted.get(*repo) != Some(dir))
            .map(|(repo, _)| repo.clone())
            .collect();
        for repo in stale {
            if let Some((_, wds)) = self.git_watched.remove(&repo) {
                for wd in wds {
                    if self.git_wds.remove(&wd).is_some() {
                        let _ = inotify::remove_watch(&self.fd, wd);
                    }
                }
            }
        }
        let mut result = Ok(());
        for (repo, git_dir) in wanted {
            if self.git_watched.contains_key(&repo) {
                continue;
            }
            self.git_watched
                .insert(repo.clone(), (git_dir.clone(), Vec::new()));
            for dir in git_watch_dirs(&git_dir) {
                let sub = dir
                    .strip_prefix(&git_dir)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if let Err(error) = self.add_git_watch(&repo, sub, &dir) {
                    result = Err(error);
                }
            }
        }
        self.watched.store(self.watch_count(), Ordering::Relaxed);
        result
    }

    /// Watches `sub` (a folder in `repo`'s git dir), and with `below` every folder under it.
    fn add_git_watches(&mut self, repo: &str, sub: &str, below: bool) {
        let Some((git_dir, _)) = self.git_watched.get(repo) else {
            return;
        };
        let git_dir = git_dir.clone();
        let mut stack = vec![sub.to_owned()];
        while let Some(sub) = stack.pop() {
            let path = git_dir.join(&sub);
            if below && let Ok(entries) = std::fs::read_dir(&path) {
                for entry in entries.flatten() {
                    if entry.file_type().is_ok_and(|t| t.is_dir()) {
                        stack.push(filter::join(&sub, &entry.file_name().to_string_lossy()));
                    }
                }
            }
            if let Err(error) = self.add_git_watch(repo, sub, &path) {
                self.coalescer.overflow(error.to_string());
            }
        }
        self.watched.store(self.watch_count(), Ordering::Relaxed);
    }

    fn add_git_watch(
        &mut self,
        repo: &str,
        sub: String,
        path: &std::path::Path,
    ) -> Result<(), WatchError> {
        match inotify::add_watch(&self.fd, path, MASK) {
            Ok(wd) => {
                self.git_wds.insert(
                    wd,
                    GitWatch {
                        repo: repo.to_owned(),
                        sub,
                    },
                );
                if let Some((_, wds)) = self.git_watched.get_mut(repo) {
                    wds.push(wd);
                }
                Ok(())
            }
            Err(Errno::NOSPC) => Err(WatchError::Limit {
                path: path.to_path_buf(),
                limit: max_user_watches(),
            }),
            // Gone before we got to it (a ref folder pruned, a repository removed).
            Err(Errno::NOENT | Errno::NOTDIR) => Ok(()),
            Err(error) => Err(WatchError::Watch {
                path: path.to_path_buf(),
                source: error.into(),
            }),
        }
    }
}

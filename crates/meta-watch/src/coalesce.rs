//! Debouncing: every change to one path within a window becomes at most one event, saying
//! how the path changed between the window's start and its end.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::{FileChange, FileEvent};

/// What happened to a path, as the kernel reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Raw {
    Created,
    Modified,
    Deleted,
}

struct Pending {
    existed_before: bool,
    exists_now: bool,
    is_dir: bool,
    project: Option<String>,
}

pub(crate) struct Coalescer {
    order: Vec<String>,
    /// Ordered so the paths below a folder are one range (see [`Coalescer::push`]).
    pending: BTreeMap<String, Pending>,
    window_start: Option<Instant>,
    overflow: Option<String>,
    max_pending: usize,
    /// Repositories whose git state changed in this window (root-relative, `""` the root's).
    git: BTreeSet<String>,
    /// Cookies seen in this window, in order: they close the window at once.
    cookies: Vec<String>,
}

impl Coalescer {
    pub(crate) fn new(max_pending: usize) -> Self {
        Self {
            order: Vec::new(),
            pending: BTreeMap::new(),
            window_start: None,
            overflow: None,
            max_pending,
            git: BTreeSet::new(),
            cookies: Vec::new(),
        }
    }

    /// Records that the git state (HEAD, refs, index…) of the repository at `repo` changed.
    pub(crate) fn push_git(&mut self, repo: String, now: Instant) {
        self.window_start.get_or_insert(now);
        if self.overflow.is_none() {
            self.git.insert(repo);
        }
    }

    /// Records a cookie: the window closes now, so whoever waits for it learns that every
    /// change read before it has been delivered. Kept through an overflow.
    pub(crate) fn push_cookie(&mut self, name: String, now: Instant) {
        self.window_start.get_or_insert(now);
        self.cookies.push(name);
    }

    /// Records a change. Past `max_pending` distinct paths in one window the window turns
    /// into one overflow (what was pending is dropped: the consumer must rescan anyway).
    pub(crate) fn push(
        &mut self,
        path: String,
        raw: Raw,
        is_dir: bool,
        project: Option<String>,
        now: Instant,
    ) {
        self.window_start.get_or_insert(now);
        if self.overflow.is_some() {
            return;
        }
        if is_dir && raw == Raw::Deleted {
            // A folder deleted or moved away takes everything below it along, and the kernel
            // says so only for the folder: what was pending below it is gone too, so a file
            // made inside a folder that came and went within the window is not reported as
            // existing. (Keys below `path` are the range `path/` .. `path0`, '0' following '/'.)
            for (_, below) in self
                .pending
                .range_mut(format!("{path}/")..format!("{path}0"))
            {
                below.exists_now = false;
            }
        }
        if let Some(pending) = self.pending.get_mut(&path) {
            pending.exists_now = raw != Raw::Deleted;
            pending.is_dir = is_dir;
            return;
        }
        if self.pending.len() >= self.max_pending {
            self.overflow(format!(
                "more than {} paths changed within one debounce window",
                self.max_pending
            ));
            return;
        }
        self.order.push(path.clone());
        self.pending.insert(
            path,
            Pending {
                existed_before: raw != Raw::Created,
                exists_now: raw != Raw::Deleted,
                is_dir,
                project,
            },
        );
    }

    /// Turns the current window into one overflow signal.
    pub(crate) fn overflow(&mut self, reason: String) {
        self.window_start.get_or_insert_with(Instant::now);
        if self.overflow.is_none() {
            self.overflow = Some(reason);
        }
        self.order.clear();
        self.pending.clear();
        self.git.clear();
    }

    /// When the current window closes, if one is open (at once when it holds a cookie).
    pub(crate) fn deadline(&self, debounce: Duration) -> Option<Instant> {
        if !self.cookies.is_empty() {
            return self.window_start;
        }
        self.window_start.map(|start| start + debounce)
    }

    /// Closes the window: its file events in first-seen order (or the one overflow), then the
    /// repositories whose git state changed, then the cookies.
    pub(crate) fn take(&mut self) -> Vec<FileEvent> {
        self.window_start = None;
        let mut events = self.take_files();
        events.extend(
            std::mem::take(&mut self.git)
                .into_iter()
                .map(|repo| FileEvent::GitState { repo }),
        );
        events.extend(
            std::mem::take(&mut self.cookies)
                .into_iter()
                .map(|name| FileEvent::Cookie { name }),
        );
        events
    }

    fn take_files(&mut self) -> Vec<FileEvent> {
        if let Some(reason) = self.overflow.take() {
            return vec![FileEvent::Overflow { reason }];
        }
        let mut pending = std::mem::take(&mut self.pending);
        std::mem::take(&mut self.order)
            .into_iter()
            .filter_map(|path| {
                let p = pending.remove(&path)?;
                let change = FileChange {
                    path,
                    project: p.project,
                    is_dir: p.is_dir,
                };
                match (p.existed_before, p.exists_now) {
                    (false, true) => Some(FileEvent::Created(change)),
                    (true, true) => Some(FileEvent::Modified(change)),
                    (true, false) => Some(FileEvent::Deleted(change)),
                    // Came and went within the window: nothing to tell.
                    (false, false) => None,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(events: &[FileEvent]) -> Vec<(&'static str, &str)> {
        events
            .iter()
            .map(|e| match e {
                FileEvent::Created(c) => ("created", c.path.as_str()),
                FileEvent::Modified(c) => ("modified", c.path.as_str()),
                FileEvent::Deleted(c) => ("deleted", c.path.as_str()),
                FileEvent::Overflow { .. } => ("overflow", ""),
                FileEvent::GitState { repo } => ("git", repo.as_str()),
                FileEvent::Cookie { name } => ("cookie", name.as_str()),
            })
            .collect()
    }

    #[test]
    fn changes_to_one_path_coalesce() {
        let mut c = Coalescer::new(100);
        let now = Instant::now();
        let mut push = |path: &str, raw| c.push(path.to_owned(), raw, false, None, now);
        push("new", Raw::Created);
        push("new", Raw::Modified);
        push("edited", Raw::Modified);
        push("edited", Raw::Modified);
        push("gone", Raw::Modified);
        push("gone", Raw::Deleted);
        push("brief", Raw::Created);
        push("brief", Raw::Deleted);
        push("replaced", Raw::Deleted);
        push("replaced", Raw::Created);
        assert_eq!(
            kinds(&c.take()),
            [
                ("created", "new"),
                ("modified", "edited"),
                ("deleted", "gone"),
                ("modified", "replaced")
            ]
        );
        assert!(c.take().is_empty());
        assert_eq!(c.deadline(Duration::from_millis(5)), None);
    }

    #[test]
    fn a_folder_gone_takes_what_was_pending_below_it() {
        let mut c = Coalescer::new(100);
        let now = Instant::now();
        let mut push = |path: &str, raw, is_dir| c.push(path.to_owned(), raw, is_dir, None, now);
        // Made and moved away within one window: nothing below it is left to report.
        push("new", Raw::Created, true);
        push("new/sub", Raw::Created, true);
        push("new/sub/file", Raw::Created, false);
        push("new", Raw::Deleted, true);
        // An older folder: the file changed in it is reported gone, as is the folder.
        push("old/file", Raw::Modified, false);
        push("old", Raw::Deleted, true);
        // A sibling whose name starts the same is not below it.
        push("new-sibling", Raw::Created, false);
        push("newer/file", Raw::Created, false);
        assert_eq!(
            kinds(&c.take()),
            [
                ("deleted", "old/file"),
                ("deleted", "old"),
                ("created", "new-sibling"),
                ("created", "newer/file")
            ]
        );
    }

    #[test]
    fn a_burst_past_the_bound_is_one_overflow() {
        let mut c = Coalescer::new(3);
        let now = Instant::now();
        for i in 0..10 {
            c.push(format!("f{i}"), Raw::Created, false, None, now);
        }
        assert_eq!(kinds(&c.take()), [("overflow", "")]);
        // The next window is normal again.
        c.push("after".to_owned(), Raw::Created, false, None, now);
        assert_eq!(kinds(&c.take()), [("created", "after")]);
    }

    #[test]
    fn git_state_and_cookies_come_last_and_cookies_survive_an_overflow() {
        let mut c = Coalescer::new(2);
        let now = Instant::now();
        c.push_git("src/a".to_owned(), now);
        c.push("src/a/x".to_owned(), Raw::Created, false, None, now);
        c.push_git(String::new(), now);
        c.push_git("src/a".to_owned(), now);
        assert_eq!(
            c.deadline(Duration::from_millis(50)),
            Some(now + Duration::from_millis(50))
        );
        c.push_cookie("meta-cookie-1".to_owned(), now);
        // A cookie closes the window at once.
        assert_eq!(c.deadline(Duration::from_millis(50)), Some(now));
        assert_eq!(
            kinds(&c.take()),
            [
                ("created", "src/a/x"),
                ("git", ""),
                ("git", "src/a"),
                ("cookie", "meta-cookie-1")
            ]
        );
        for i in 0..5 {
            c.push(format!("f{i}"), Raw::Created, false, None, now);
        }
        c.push_git("src/a".to_owned(), now);
        c.push_cookie("meta-cookie-2".to_owned(), now);
        assert_eq!(
            kinds(&c.take()),
            [("overflow", ""), ("cookie", "meta-cookie-2")]
        );
    }
}

//! Asking a repository's remote, shared by `check pins` and `push`: its refs fetched into a
//! private namespace (never remote-tracking refs, which can be stale), the gitlinks of a
//! superproject commit, and a small pool that runs per-repository work in parallel.
//!
//! **Method.** **One** `git fetch` of the remote's branches and tags into
//! `refs/meta/check/<pid>/` (`--refmap=` so no remote-tracking ref moves, no `FETCH_HEAD`, no
//! tags followed), with `GIT_TERMINAL_PROMPT=0` and a time limit; then local questions only.
//! The fetch brings only objects the clone lacks, and everything reachable from the remote's
//! refs, so a commit missing after it is on no ref of the remote. The namespace is deleted
//! after use.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use meta_repo::ObjectId;
use meta_workflow::git::{GitError, git};

/// The remote's refs, fetched into this run's private namespace of one repository.
#[derive(Debug)]
pub(crate) struct Remote {
    pub(crate) dir: PathBuf,
    /// The remote asked (`origin` for projects, as `meta sync`).
    pub(crate) name: String,
    /// `refs/meta/check/<pid>`: the remote's `refs/heads/X` lands at `<namespace>/heads/X`.
    pub(crate) namespace: String,
}

impl Remote {
    pub(crate) fn new(dir: &Path, name: &str) -> Self {
        Self {
            dir: dir.to_path_buf(),
            name: name.to_owned(),
            namespace: format!("refs/meta/check/{}", std::process::id()),
        }
    }

    /// One network call: the remote's branches and tags into the namespace. `--prune` drops
    /// whatever an earlier run with the same process id left there, without a call of its own.
    pub(crate) fn fetch(&self, timeout: Duration) -> Result<(), GitError> {
        let ns = &self.namespace;
        git(&self.dir)
            .args([
                "-c",
                "fetch.recurseSubmodules=false",
                "-c",
                "maintenance.auto=false",
                "-c",
                "gc.auto=0",
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--prune",
                "--refmap=",
                "--",
                &self.name,
            ])
            .arg(format!("+refs/heads/*:{ns}/heads/*"))
            .arg(format!("+refs/tags/*:{ns}/tags/*"))
            .no_prompt()
            .timeout(timeout)
            .run()
            .map(drop)
    }

    /// The remote's branch `name` as fetched (`None`: the remote has no such branch).
    pub(crate) fn branch(&self, name: &str) -> Result<Option<ObjectId>, GitError> {
        meta_workflow::git::rev_parse(&self.dir, &format!("{}/heads/{name}", self.namespace))
    }

    /// Is `commit` reachable from some fetched ref? (`false` too when the clone lacks it.)
    pub(crate) fn holds(&self, commit: ObjectId) -> Result<bool, GitError> {
        let out = git(&self.dir)
            .args([
                "for-each-ref",
                "--count=1",
                "--format=%(refname)",
                "--contains",
                &commit.to_string(),
                &format!("{}/", self.namespace),
            ])
            .output()?;
        Ok(out.status.success() && !out.stdout.is_empty())
    }

    /// Deletes the namespace (best effort: leftovers are only private refs).
    pub(crate) fn clean(&self) {
        let Ok(listing) = git(&self.dir)
            .args([
                "for-each-ref",
                "--format=%(refname)",
                &format!("{}/", self.namespace),
            ])
            .run()
        else {
            return;
        };
        let mut input = String::new();
        for name in listing.lines().filter(|l| !l.is_empty()) {
            input.push_str("delete ");
            input.push_str(name);
            input.push('\n');
        }
        if !input.is_empty() {
            let _ = git(&self.dir)
                .args(["update-ref", "--stdin"])
                .stdin(input)
                .run();
        }
    }
}

/// Words for a failed ask of `remote`: git's `fatal:` line, or the time-out.
/// git's own verdict in its error output (`fatal: …`), not the advice printed after it.
pub(crate) fn git_verdict(stderr: &str) -> Option<&str> {
    stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .or_else(|| stderr.lines().map(str::trim).find(|l| !l.is_empty()))
}

pub(crate) fn unverifiable_reason(remote: &str, error: &GitError) -> String {
    match error {
        GitError::Failed { stderr, .. } => {
            format!(
                "cannot ask the remote `{remote}`: {}",
                git_verdict(stderr).unwrap_or("the fetch failed")
            )
        }
        GitError::TimedOut { seconds, .. } => {
            format!("the remote `{remote}` did not answer within {seconds} s")
        }
        other @ GitError::Spawn { .. } => other.to_string(),
    }
}

/// The first parent of a superproject commit (`None` for a root commit).
pub(crate) fn first_parent(root: &Path, commit: ObjectId) -> Result<Option<ObjectId>, GitError> {
    let out = git(root)
        .args(["rev-list", "--parents", "-n", "1", &commit.to_string()])
        .run()?;
    Ok(out
        .split_whitespace()
        .nth(1)
        .and_then(|p| ObjectId::from_hex(p.as_bytes()).ok()))
}

/// The gitlinks (path → commit) of a superproject commit, read once per commit.
pub(crate) fn gitlinks(
    root: &Path,
    commit: ObjectId,
    cache: &mut HashMap<ObjectId, BTreeMap<String, ObjectId>>,
) -> Result<BTreeMap<String, ObjectId>, GitError> {
    if let Some(links) = cache.get(&commit) {
        return Ok(links.clone());
    }
    let out = git(root)
        .args(["ls-tree", "-r", "-z", "--full-tree", &commit.to_string()])
        .run()?;
    let links: BTreeMap<String, ObjectId> = out
        .split('\0')
        .filter_map(|entry| {
            let (meta, path) = entry.split_once('\t')?;
            let mut parts = meta.split_whitespace();
            (parts.next()? == "160000").then_some(())?;
            parts.next()?;
            let id = ObjectId::from_hex(parts.next()?.as_bytes()).ok()?;
            Some((path.to_owned(), id))
        })
        .collect();
    cache.insert(commit, links.clone());
    Ok(links)
}

/// One branch of `origin`, fetched into the private ref `into` (no remote-tracking ref moves,
/// no `FETCH_HEAD`, no tags), bounded by `timeout` and never prompting. For `land` and
/// `rebase`, which need one branch of each remote.
pub(crate) fn fetch_branch(
    dir: &Path,
    branch: &str,
    into: &str,
    timeout: Duration,
) -> Result<(), GitError> {
    git(dir)
        .args([
            "-c",
            "fetch.recurseSubmodules=false",
            "-c",
            "maintenance.auto=false",
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--refmap=",
            "origin",
        ])
        .arg(format!("+refs/heads/{branch}:{into}"))
        .no_prompt()
        .timeout(timeout)
        .run()
        .map(drop)
}

/// `work(item)` for every item, at most `jobs` at once, results in the items' order.
pub(crate) fn parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    let jobs = jobs.clamp(1, items.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else {
                        break;
                    };
                    let result = work(item);
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((i, result));
                }
            });
        }
    });
    let mut results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

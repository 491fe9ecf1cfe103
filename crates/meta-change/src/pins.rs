//! `meta check pins`: is every pin the superproject records on its project's remote **now**?
//!
//! The pins are those of HEAD, or of every commit of a superproject range (`origin/main..HEAD`:
//! each commit's pins, not only the tip's). Each pin gets one [`PinStatus`] and a `rewound` flag
//! (it does not descend from the pin the commit's first parent records).
//!
//! **Method.** Remote-tracking refs can lie (a force-push elsewhere removes a commit that
//! `origin/x` still shows), so each project asks its remote: **one** `git fetch` of the remote's
//! branches and tags into a private namespace `refs/meta/check/<pid>/` (`--refmap=` so no
//! remote-tracking ref moves, no `FETCH_HEAD`, no tags followed), then local questions only:
//! `for-each-ref --contains PIN` over that namespace (on the remote) and `merge-base
//! --is-ancestor PIN <namespace>/heads/<tracked>` (landed). The namespace is deleted after. The
//! fetch brings only objects the clone lacks, and everything reachable from the remote's refs, so
//! a pin missing after it is on no ref of the remote. Projects run in parallel (capped), each
//! fetch with `GIT_TERMINAL_PROMPT=0` and a time limit; any failure to ask is `unverifiable`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use meta_repo::{ObjectId, Project};
use meta_workflow::TrackedBranches;
use meta_workflow::git::{GitError, git, has_commit, is_ancestor, looks_like_option};

use crate::remote::{Remote, first_parent, gitlinks, parallel, unverifiable_reason};

/// What the project's remote says about a pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PinStatus {
    /// Reachable from the project's tracked branch on the remote.
    Landed,
    /// Reachable from some branch or tag of the remote, not from the tracked branch.
    OnRemote,
    /// On no branch or tag of the remote: teammates cannot fetch it.
    LocalOnly,
    /// The remote could not be asked (unreachable, refused, no remote, project not cloned).
    Unverifiable,
}

impl PinStatus {
    /// The word in output and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PinStatus::Landed => "landed",
            PinStatus::OnRemote => "on-remote",
            PinStatus::LocalOnly => "local-only",
            PinStatus::Unverifiable => "unverifiable",
        }
    }
}

/// One pin of one project, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinCheck {
    /// The project's path relative to the root.
    pub path: String,
    pub pin: ObjectId,
    /// The superproject commits (of the range, oldest first) that record this pin.
    pub commits: Vec<ObjectId>,
    /// The pin the first parent records where a commit moved to this pin.
    pub previous: Option<ObjectId>,
    /// It does not descend from `previous`.
    pub rewound: bool,
    pub status: PinStatus,
    /// The tracked branch `landed` was asked about (`None`: unknown).
    pub tracked: Option<String>,
    /// Why not on the remote or not verifiable, in words.
    pub detail: Option<String>,
}

/// Why the pins could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum PinsError {
    #[error("`{range}` is not a range of the superproject: {reason}")]
    BadRange { range: String, reason: String },
    #[error("cannot read the superproject's pins")]
    Git(#[source] GitError),
}

/// What to check.
#[derive(Debug, Clone)]
pub struct PinsRequest {
    /// A superproject range (`origin/main..HEAD`); `None`: HEAD alone.
    pub range: Option<String>,
    /// Only these project paths (`None`: every project).
    pub paths: Option<Vec<String>>,
    /// Projects asked at once.
    pub jobs: usize,
    /// The longest one remote may take to answer.
    pub timeout: Duration,
}

/// The pins of the requested commits with their statuses, in project order, then in the order
/// the commits record them (oldest first). Empty when the range holds no commit.
pub fn check_pins(
    root: &Path,
    projects: &[Project],
    request: &PinsRequest,
) -> Result<Vec<PinCheck>, PinsError> {
    let commits = superproject_commits(root, request.range.as_deref())?;
    let mut trees: HashMap<ObjectId, BTreeMap<String, ObjectId>> = HashMap::new();
    // (path, pin) → (commits, previous, rewound candidates)
    let mut found: BTreeMap<(String, usize), Found> = BTreeMap::new();
    let mut order: HashMap<(String, ObjectId), usize> = HashMap::new();
    let wanted = |path: &str| {
        request
            .paths
            .as_ref()
            .is_none_or(|paths| paths.iter().any(|p| p == path))
    };
    for commit in &commits {
        let pins = gitlinks(root, *commit, &mut trees).map_err(PinsError::Git)?;
        let parent = first_parent(root, *commit).map_err(PinsError::Git)?;
        let before = match parent {
            Some(parent) => gitlinks(root, parent, &mut trees).map_err(PinsError::Git)?,
            None => BTreeMap::new(),
        };
        for (path, pin) in pins {
            if !wanted(&path) {
                continue;
            }
            let next = order.len();
            let index = *order.entry((path.clone(), pin)).or_insert(next);
            let entry = found.entry((path.clone(), index)).or_insert_with(|| Found {
                pin,
                commits: Vec::new(),
                previous: None,
            });
            entry.commits.push(*commit);
            if let Some(old) = before.get(&path)
                && *old != pin
                && entry.previous.is_none()
            {
                entry.previous = Some(*old);
            }
        }
    }

    let tracked = TrackedBranches::read(root);
    let mut by_project: BTreeMap<String, Vec<Found>> = BTreeMap::new();
    for ((path, _), entry) in found {
        by_project.entry(path).or_default().push(entry);
    }
    let work: Vec<(String, Vec<Found>, Option<String>)> = by_project
        .into_iter()
        .map(|(path, entries)| {
            let dir = root.join(&path);
            let name = projects
                .iter()
                .find(|p| p.path == path)
                .and_then(|p| p.submodule_name.clone())
                .unwrap_or_else(|| path.clone());
            let branch = if dir.join(".git").exists() {
                tracked.of(&dir, &name).ok().flatten()
            } else {
                None
            };
            (path, entries, branch)
        })
        .collect();

    let results = parallel(&work, request.jobs, |(path, entries, branch)| {
        check_project(
            &root.join(path),
            path,
            entries,
            branch.as_deref(),
            request.timeout,
        )
    });
    Ok(results.into_iter().flatten().collect())
}

#[derive(Debug, Clone)]
struct Found {
    pin: ObjectId,
    commits: Vec<ObjectId>,
    previous: Option<ObjectId>,
}

/// The commits to read: HEAD, or the range's, oldest first.
fn superproject_commits(root: &Path, range: Option<&str>) -> Result<Vec<ObjectId>, PinsError> {
    let Some(range) = range else {
        let head = meta_workflow::git::rev_parse(root, "HEAD").map_err(PinsError::Git)?;
        return head.map(|h| vec![h]).ok_or_else(|| PinsError::BadRange {
            range: "HEAD".to_owned(),
            reason: "the superproject has no commit yet".to_owned(),
        });
    };
    if looks_like_option(range) {
        return Err(PinsError::BadRange {
            range: range.to_owned(),
            reason: "it starts with `-`, so git could read it as an option".to_owned(),
        });
    }
    let command = git(root).args(["rev-list", "--reverse", "--end-of-options", range, "--"]);
    let out = command.output().map_err(PinsError::Git)?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let reason = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("git does not know it")
            .trim()
            .to_owned();
        return Err(PinsError::BadRange {
            range: range.to_owned(),
            reason,
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| ObjectId::from_hex(l.trim().as_bytes()).ok())
        .collect())
}

/// Asks one project's remote about its pins.
fn check_project(
    dir: &Path,
    path: &str,
    entries: &[Found],
    tracked: Option<&str>,
    timeout: Duration,
) -> Vec<PinCheck> {
    let verdict = |entry: &Found, status, rewound, detail: Option<String>| PinCheck {
        path: path.to_owned(),
        pin: entry.pin,
        commits: entry.commits.clone(),
        previous: entry.previous,
        rewound,
        status,
        tracked: tracked.map(str::to_owned),
        detail,
    };
    let all_unverifiable = |why: String| {
        entries
            .iter()
            .map(|e| verdict(e, PinStatus::Unverifiable, false, Some(why.clone())))
            .collect()
    };
    if !dir.join(".git").exists() {
        return all_unverifiable(format!(
            "the project is not cloned here (`meta sync {path}` clones it)"
        ));
    }
    let remote = Remote::new(dir, "origin");
    let fetched = remote.fetch(timeout);
    let result = match fetched {
        Err(error) => all_unverifiable(unverifiable_reason("origin", &error)),
        Ok(()) => entries
            .iter()
            .map(|entry| {
                let rewound = entry.previous.is_some_and(|old| {
                    has_commit(dir, old).unwrap_or(false)
                        && has_commit(dir, entry.pin).unwrap_or(false)
                        && !is_ancestor(dir, old, entry.pin).unwrap_or(true)
                });
                match status(&remote, entry.pin, tracked) {
                    Ok((status, detail)) => verdict(entry, status, rewound, detail),
                    Err(error) => verdict(
                        entry,
                        PinStatus::Unverifiable,
                        rewound,
                        Some(error.to_string()),
                    ),
                }
            })
            .collect(),
    };
    remote.clean();
    result
}

/// Where `pin` stands on the fetched refs of `remote`.
fn status(
    remote: &Remote,
    pin: ObjectId,
    tracked: Option<&str>,
) -> Result<(PinStatus, Option<String>), GitError> {
    if !has_commit(&remote.dir, pin)? {
        return Ok((
            PinStatus::LocalOnly,
            Some("neither the remote nor this clone holds it".to_owned()),
        ));
    }
    if let Some(branch) = tracked
        && let Some(tip) = remote.branch(branch)?
        && is_ancestor(&remote.dir, pin, tip)?
    {
        return Ok((PinStatus::Landed, None));
    }
    if remote.holds(pin)? {
        Ok((PinStatus::OnRemote, None))
    } else {
        Ok((
            PinStatus::LocalOnly,
            Some("no branch or tag of the remote holds it".to_owned()),
        ))
    }
}

/// Offline (for `meta health`): the pins of the superproject's index that no remote-tracking
/// ref of their project holds, as `(path, pin, branch to push)`, in project order. Projects not
/// cloned or without a pin are left out; `branch` is a local branch holding the pin, if any.
pub fn pins_without_remote_ref(
    root: &Path,
    projects: &[Project],
) -> Vec<(String, ObjectId, Option<String>)> {
    let mut missing = Vec::new();
    for project in projects {
        let Some(pin) = project.pinned else {
            continue;
        };
        let dir = root.join(&project.path);
        if !dir.join(".git").exists() || !has_commit(&dir, pin).unwrap_or(false) {
            continue;
        }
        let refs = |prefix: &str| {
            git(&dir)
                .args([
                    "for-each-ref",
                    "--format=%(refname:lstrip=2)",
                    "--contains",
                    &pin.to_string(),
                    prefix,
                ])
                .run()
                .unwrap_or_default()
        };
        if refs("refs/remotes/").trim().is_empty() {
            let branch = refs("refs/heads/").lines().next().map(str::to_owned);
            missing.push((project.path.clone(), pin, branch));
        }
    }
    missing
}

//! Every project to the commit the superproject pins, in parallel, never losing local work.
//!
//! Per project:
//! - not initialised: `git submodule init` (once, for all of them: it writes the superproject's
//!   config), then `git submodule update --checkout --recursive` to clone and check out the pin;
//! - initialised with staged, modified or conflicted files, with commits its upstream lacks
//!   (or, without an upstream, that no remote has), or detached on commits nothing else holds:
//!   **skipped**, untouched, with the reason;
//! - otherwise the pin is fetched if missing and checked out (`git checkout`, never forced, so
//!   git itself refuses to overwrite untracked files).
//!
//! Wherever it lands on the pin detached, and the pin is the tip of the branch the project
//! tracks (`branch` in `.gitmodules`, else the remote's default branch), the local branch of
//! that name is checked out instead (created tracking the remote one, or fast-forwarded to
//! the pin), so nobody finds a surprise detached HEAD. A local branch with commits the pin lacks
//! is never moved: the project stays detached, with a note.
//!
//! Nested submodules of a project already checked out are left as they are.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Condvar, Mutex};

use meta_repo::{ObjectId, Project, StatusError};

use crate::git::{GitError, git, has_commit, rev_parse};
use crate::tracked::TrackedBranches;

/// How much runs at once.
#[derive(Debug, Clone, Copy)]
pub struct SyncOptions {
    /// Projects worked on at once (local steps: reading status, checking out).
    pub jobs: usize,
    /// Clones and fetches at once (the network's share, capped on its own).
    pub network_jobs: usize,
}

/// What a step of a project's sync is doing, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Cloning,
    Checking,
    Fetching,
    CheckingOut,
}

/// Where progress goes. `step` is called from worker threads, `finished` from the caller's.
pub trait SyncProgress: Sync {
    fn step(&self, project: &Project, step: Step);
    fn finished(&self, project: &Project, result: &SyncResult);
}

/// A progress sink that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl SyncProgress for NoProgress {
    fn step(&self, _: &Project, _: Step) {}
    fn finished(&self, _: &Project, _: &SyncResult) {}
}

/// How one project's sync ended.
#[derive(Debug)]
pub struct SyncResult {
    pub outcome: Outcome,
    /// The branch checked out afterwards (`None`: detached, or not checked out).
    pub branch: Option<String>,
    /// Something worth telling that is not a failure (a branch left alone, …).
    pub note: Option<String>,
}

#[derive(Debug)]
pub enum Outcome {
    /// Already at its pin.
    UpToDate,
    /// At its pin already, detached; its tracked branch was checked out.
    Attached,
    /// Cloned (or checked out again from the repository git kept) at its pin.
    Initialized,
    /// Moved from `from` to its pin.
    Updated {
        from: Option<ObjectId>,
    },
    /// Left untouched to protect local work.
    Skipped(SkipReason),
    /// Listed in `.gitmodules` without a pin in the index: nothing to check out.
    NoPin,
    Failed(SyncError),
}

impl Outcome {
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failed(_))
    }
}

/// Why a project was left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Staged, modified or conflicted files.
    Uncommitted {
        staged: usize,
        modified: usize,
        conflicted: usize,
    },
    /// On branch `branch` with `commits` commits its upstream (`None`: every remote) lacks.
    Ahead {
        branch: String,
        commits: usize,
        upstream: Option<String>,
    },
    /// HEAD detached on `commits` commits that no branch, tag or remote holds.
    DetachedWork { commits: usize },
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Uncommitted {
                staged,
                modified,
                conflicted,
            } => {
                let mut parts = Vec::new();
                if *conflicted > 0 {
                    parts.push(format!("{conflicted} conflicted"));
                }
                if *staged > *conflicted {
                    parts.push(format!("{} staged", staged - conflicted));
                }
                if *modified > *conflicted {
                    parts.push(format!("{} modified", modified - conflicted));
                }
                write!(f, "uncommitted changes ({})", parts.join(", "))
            }
            SkipReason::Ahead {
                branch,
                commits,
                upstream,
            } => {
                let s = if *commits == 1 { "" } else { "s" };
                match upstream {
                    Some(upstream) => {
                        write!(
                            f,
                            "branch `{branch}` has {commits} commit{s} `{upstream}` lacks"
                        )
                    }
                    None => write!(
                        f,
                        "branch `{branch}` has {commits} commit{s} no remote has (and no upstream)"
                    ),
                }
            }
            SkipReason::DetachedWork { commits } => write!(
                f,
                "HEAD is detached on {commits} commit{} that no branch, tag or remote holds",
                if *commits == 1 { "" } else { "s" }
            ),
        }
    }
}

/// Why one project could not be synced.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the superproject's index holds conflicting pins for it")]
    PinConflict,
    #[error("it has a pin but no `.gitmodules` entry, so git does not know where to fetch it from")]
    NotInGitmodules,
    #[error("`git submodule init` failed: {0}")]
    Init(String),
    #[error(transparent)]
    Status(#[from] StatusError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("its pin {pin} is not on its remote (fetched, still missing)")]
    PinNotFound { pin: ObjectId },
}

/// Syncs `projects` (of the meta-repo at `root`) to their pins. Results are in the order of
/// `projects`; `progress` hears of each as it finishes.
pub fn sync(
    root: &Path,
    projects: &[Project],
    options: SyncOptions,
    progress: &dyn SyncProgress,
) -> Vec<SyncResult> {
    // Which need `git submodule init`: it writes the superproject's `.git/config`, so it runs
    // here, once, before anything runs in parallel.
    let to_init: Vec<&str> = projects
        .iter()
        .filter(|p| p.pinned.is_some() && p.submodule_name.is_some() && !p.active)
        .map(|p| p.path.as_str())
        .collect();
    let init_errors = init_all(root, &to_init);
    let tracked = TrackedBranches::read(root);
    let context = Context {
        root,
        init_errors,
        tracked,
        network: Semaphore::new(options.network_jobs.max(1)),
        progress,
    };
    let mut results: Vec<Option<SyncResult>> = Vec::new();
    results.resize_with(projects.len(), || None);
    let jobs = options.jobs.max(options.network_jobs).max(1);
    crate::pool::run(
        projects,
        jobs,
        |_, project| context.sync_one(project),
        |_| false,
        |i, result| {
            progress.finished(&projects[i], &result);
            results[i] = Some(result);
        },
    );
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| SyncResult {
                outcome: Outcome::Failed(SyncError::Init("internal: never ran".to_owned())),
                branch: None,
                note: None,
            })
        })
        .collect()
}

/// `git submodule init` for `paths`, all at once. Git stops at the first entry it cannot
/// initialise (no URL, say), so on failure each is tried alone: one bad entry fails only its
/// own project. Returns what git said, by path.
fn init_all(root: &Path, paths: &[&str]) -> HashMap<String, String> {
    let init = |paths: &[&str]| {
        git(root)
            .args(["submodule", "init", "-q", "--"])
            .args(paths)
            .run()
            .err()
            // What git said, without the command line.
            .map(|e| match e {
                GitError::Failed { stderr, .. } if !stderr.is_empty() => stderr,
                other => other.to_string(),
            })
    };
    if paths.is_empty() || init(paths).is_none() {
        return HashMap::new();
    }
    paths
        .iter()
        .filter_map(|path| init(&[path]).map(|error| ((*path).to_owned(), error)))
        .collect()
}

/// What every project's sync shares.
struct Context<'a> {
    root: &'a Path,
    /// Why `git submodule init` failed, by project path.
    init_errors: HashMap<String, String>,
    /// The tracked-branch rule, `.gitmodules` already read.
    tracked: TrackedBranches,
    network: Semaphore,
    progress: &'a dyn SyncProgress,
}

impl Context<'_> {
    fn sync_one(&self, project: &Project) -> SyncResult {
        let mut result = SyncResult {
            outcome: Outcome::UpToDate,
            branch: None,
            note: None,
        };
        result.outcome = match self.try_sync(project, &mut result) {
            Ok(outcome) => outcome,
            Err(error) => Outcome::Failed(error),
        };
        result
    }

    fn try_sync(&self, project: &Project, result: &mut SyncResult) -> Result<Outcome, SyncError> {
        if project.pin_conflicted {
            return Err(SyncError::PinConflict);
        }
        let Some(pin) = project.pinned else {
            return Ok(Outcome::NoPin);
        };
        let Some(name) = &project.submodule_name else {
            return Err(SyncError::NotInGitmodules);
        };
        let dir = self.root.join(&project.path);
        if !project.active
            && let Some(error) = self.init_errors.get(&project.path)
        {
            return Err(SyncError::Init(error.clone()));
        }

        if std::fs::symlink_metadata(dir.join(".git")).is_err() {
            self.progress.step(project, Step::Cloning);
            {
                let _permit = self.network.acquire();
                git(self.root)
                    .args([
                        "submodule",
                        "update",
                        "-q",
                        "--checkout",
                        "--recursive",
                        "--",
                    ])
                    .arg(&project.path)
                    .no_prompt()
                    .run()?;
            }
            let (branch, note) = self.land_on_pin(&dir, name, pin, true)?;
            result.branch = branch;
            result.note = note;
            return Ok(Outcome::Initialized);
        }

        self.progress.step(project, Step::Checking);
        // Just initialised above: read it as active, so its work is seen and protected.
        let project = &Project {
            active: true,
            ..project.clone()
        };
        let status = meta_repo::project_status(self.root, project)?;
        result.branch.clone_from(&status.branch);
        let uncommitted = status.staged > 0 || status.modified > 0 || status.conflicted > 0;
        if status.head == Some(pin) {
            if status.detached && !uncommitted {
                let (branch, note) = self.land_on_pin(&dir, name, pin, false)?;
                if branch.is_some() {
                    result.branch = branch;
                    return Ok(Outcome::Attached);
                }
                result.note = note;
            }
            return Ok(Outcome::UpToDate);
        }
        if uncommitted {
            return Ok(Outcome::Skipped(SkipReason::Uncommitted {
                staged: status.staged,
                modified: status.modified,
                conflicted: status.conflicted,
            }));
        }
        if let Some(branch) = &status.branch {
            let commits = match (status.upstream.as_ref(), status.ahead) {
                (Some(_), Some(ahead)) => ahead,
                // No upstream (or one that is gone): what no remote has would be the branch's
                // alone. It keeps its commits when we detach, but the person is working there.
                _ if status.head.is_some() => {
                    crate::git::count(&dir, &["HEAD", "--not", "--remotes"])?
                }
                _ => 0,
            };
            if commits > 0 {
                return Ok(Outcome::Skipped(SkipReason::Ahead {
                    branch: branch.clone(),
                    commits,
                    upstream: status.upstream.clone(),
                }));
            }
        } else if status.head.is_some() {
            let commits = crate::git::count(
                &dir,
                &["HEAD", "--not", "--branches", "--tags", "--remotes"],
            )?;
            if commits > 0 {
                return Ok(Outcome::Skipped(SkipReason::DetachedWork { commits }));
            }
        }

        if !has_commit(&dir, pin)? {
            self.progress.step(project, Step::Fetching);
            let _permit = self.network.acquire();
            git(&dir).args(["fetch", "-q"]).no_prompt().run()?;
            if !has_commit(&dir, pin)? {
                // A pin no branch holds may still be fetched by id, where the server allows.
                let by_id = git(&dir)
                    .args(["fetch", "-q", "origin"])
                    .arg(pin.to_string())
                    .no_prompt()
                    .succeeds()?;
                if !by_id || !has_commit(&dir, pin)? {
                    return Err(SyncError::PinNotFound { pin });
                }
            }
        }
        self.progress.step(project, Step::CheckingOut);
        let (branch, note) = self.land_on_pin(&dir, name, pin, true)?;
        result.branch = branch;
        result.note = note;
        Ok(Outcome::Updated { from: status.head })
    }

    /// Checks out `pin` in `dir`: on the tracked branch when the pin is its remote tip and the
    /// local branch can get there without losing a commit, otherwise detached (only when
    /// `detach` is set; a project already detached on its pin stays as it is). Returns the
    /// branch checked out, and a note when a branch was left alone.
    fn land_on_pin(
        &self,
        dir: &Path,
        submodule_name: &str,
        pin: ObjectId,
        detach: bool,
    ) -> Result<(Option<String>, Option<String>), SyncError> {
        let pin_hex = pin.to_string();
        let detach_at_pin = || -> Result<(), SyncError> {
            if detach {
                git(dir)
                    .args(["checkout", "-q", "--detach", &pin_hex, "--"])
                    .run()?;
            }
            Ok(())
        };
        let Some(branch) = self.tracked.of(dir, submodule_name)? else {
            detach_at_pin()?;
            return Ok((None, None));
        };
        let remote_tip = rev_parse(dir, &format!("refs/remotes/origin/{branch}"))?;
        if remote_tip != Some(pin) {
            detach_at_pin()?;
            return Ok((None, None));
        }
        match rev_parse(dir, &format!("refs/heads/{branch}"))? {
            None => {
                git(dir)
                    .args(["checkout", "-q", "--track", "-b", &branch])
                    .arg(format!("origin/{branch}"))
                    .arg("--")
                    .run()?;
            }
            Some(local) if local == pin => {
                git(dir).args(["checkout", "-q", &branch, "--"]).run()?;
            }
            Some(local) => {
                let fast_forward = git(dir)
                    .args(["merge-base", "--is-ancestor", &local.to_string(), &pin_hex])
                    .succeeds()?;
                if !fast_forward {
                    detach_at_pin()?;
                    return Ok((
                        None,
                        Some(format!(
                            "branch `{branch}` has commits the pin lacks; left it alone and stayed detached at the pin"
                        )),
                    ));
                }
                // Moves the branch forward to the pin: it loses nothing, being an ancestor.
                git(dir)
                    .args(["checkout", "-q", "-B", &branch, &pin_hex, "--"])
                    .run()?;
            }
        }
        Ok((Some(branch), None))
    }
}

/// A counting semaphore: at most N network jobs at once.
struct Semaphore {
    free: Mutex<usize>,
    freed: Condvar,
}

struct Permit<'a>(&'a Semaphore);

impl Semaphore {
    fn new(permits: usize) -> Self {
        Self {
            free: Mutex::new(permits),
            freed: Condvar::new(),
        }
    }

    fn acquire(&self) -> Permit<'_> {
        let mut free = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while *free == 0 {
            free = self
                .freed
                .wait(free)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut free = self
            .0
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *free += 1;
        self.0.freed.notify_one();
    }
}

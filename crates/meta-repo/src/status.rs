//! The status of each project, read in-process with gix and in parallel.
//!
//! Counts follow `git status --porcelain=v1`: `staged` is the number of entries with an index
//! change (the X column), `modified` the number with a worktree change to a tracked path (the Y
//! column), `untracked` the number of `??` entries (collapsed to folders as git does under
//! `status.showUntrackedFiles=normal`, honouring every ignore file). A conflicted path is one
//! entry with both columns set (`UU`, `AA`, …), so it counts as staged and modified, and in
//! `conflicted` too.
//!
//! Nothing here writes: the index is read and the stat refreshes gix computes on the way are
//! dropped, never written back.

use std::collections::HashSet;
use std::num::NonZero;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};
use gix::odb::store::init::Slots;
use gix::status::plumbing::index_as_worktree::{Change, EntryStatus};

use crate::error::StatusError;
use crate::project::Project;

/// What a project's own repository says, next to what the superproject records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProjectStatus {
    /// The submodule is active and its repository is there (`git submodule status` shows no `-`).
    pub initialized: bool,
    /// The commit checked out; `None` when not initialised or on an unborn branch.
    pub head: Option<ObjectId>,
    /// `head` is the pinned commit.
    pub on_pin: bool,
    /// The branch checked out (short name), `None` when detached or not initialised.
    pub branch: Option<String>,
    pub detached: bool,
    pub staged: usize,
    pub modified: usize,
    pub untracked: usize,
    /// Paths in conflict (also counted in `staged` and `modified`, as git shows them).
    pub conflicted: usize,
    /// The branch's upstream, shortened like `origin/main`; `None` without one.
    pub upstream: Option<String>,
    /// Commits on `head` that the upstream lacks; `None` without an upstream commit to compare.
    pub ahead: Option<usize>,
    /// Commits on the upstream that `head` lacks.
    pub behind: Option<usize>,
}

impl ProjectStatus {
    /// Anything a person could lose or would want to look at: an index or worktree change, an
    /// untracked entry, a checkout off the pin, or commits the upstream lacks. A project that
    /// is not initialised has nothing of that.
    pub fn is_dirty(&self) -> bool {
        is_dirty(
            self.initialized,
            self.staged + self.modified + self.untracked,
            self.on_pin,
            self.ahead,
        )
    }
}

/// The one rule behind [`ProjectStatus::is_dirty`] and [`crate::StatusRecord::is_dirty`], over
/// the fields both carry: `changes` is staged + modified + untracked entries.
pub(crate) fn is_dirty(
    initialized: bool,
    changes: usize,
    on_pin: bool,
    ahead: Option<usize>,
) -> bool {
    initialized && (changes > 0 || !on_pin || ahead.is_some_and(|n| n > 0))
}

/// The status of every project, computed on up to `jobs` threads (default: one per core);
/// results are in the order of `projects`.
pub fn status_all(
    root: &Path,
    projects: &[Project],
    jobs: Option<usize>,
) -> Vec<Result<ProjectStatus, StatusError>> {
    let jobs = jobs
        .or_else(|| std::thread::available_parallelism().ok().map(NonZero::get))
        .unwrap_or(1)
        .clamp(1, projects.len().max(1));
    if jobs == 1 {
        return projects.iter().map(|p| project_status(root, p)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, Result<ProjectStatus, StatusError>)> =
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..jobs)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(project) = projects.get(i) else {
                                break done;
                            };
                            done.push((i, project_status(root, project)));
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| match worker.join() {
                    Ok(done) => done,
                    // A panic in gix must not take the command down silently; re-raise it.
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        });
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Object-database slots a project is first opened with: as many as gix's default for any
/// repository of up to 29 pack indices, given up front so that opening does not list the pack
/// folder (and resolve `objects/` and its alternates) a second time only to size them.
const OBJECT_SLOTS: u16 = 32;

/// The status of one project of the meta-repo at `root`.
pub fn project_status(root: &Path, project: &Project) -> Result<ProjectStatus, StatusError> {
    let sized = Slots::Given(OBJECT_SLOTS);
    match status_with_slots(root, project, sized) {
        // A repository with more pack indices than slots fails on its first object read; it
        // (and any real failure, which then fails the same way) is read again with slots
        // sized from the disk.
        Err(StatusError::Git { .. }) => status_with_slots(root, project, Slots::default()),
        done => done,
    }
}

fn status_with_slots(
    root: &Path,
    project: &Project,
    slots: Slots,
) -> Result<ProjectStatus, StatusError> {
    let mut status = ProjectStatus::default();
    let work_dir = root.join(&project.path);
    // As `git submodule status`: initialised means active and holding a repository.
    if !project.active || std::fs::symlink_metadata(work_dir.join(".git")).is_err() {
        return Ok(status);
    }
    let error = |what: &'static str| {
        let path = project.path.clone();
        move |source| StatusError::Git {
            path: path.clone(),
            what,
            source,
        }
    };
    let repo =
        crate::open_repo_with_slots(&work_dir, slots).map_err(|source| StatusError::Open {
            path: project.path.clone(),
            source,
        })?;
    status.initialized = true;

    let mut head = repo.head().map_err(error("HEAD"))?;
    let branch_ref = branch_of(&head);
    status.detached = branch_ref.is_none();
    status.branch = branch_ref.as_ref().map(short_name);
    status.head = head.id().map(gix::Id::detach);
    status.on_pin = status.head.is_some() && status.head == project.pinned;

    if let (Some(name), Some(head_id)) = (&branch_ref, status.head)
        && let Some(tracking) = upstream_of(&repo, name.as_ref())
    {
        status.upstream = Some(tracking.shorten().to_str_lossy().into_owned());
        let upstream_id = repo
            .try_find_reference(tracking.as_ref())
            .map_err(error("the upstream branch"))?
            .and_then(|mut reference| reference.peel_to_id().ok().map(gix::Id::detach));
        // An upstream that is configured but gone (`[gone]` in `git status`) has no counts.
        if let Some(upstream_id) = upstream_id {
            status.ahead = Some(
                count_only_in(&repo, head_id, upstream_id)
                    .map_err(error("commits ahead of the upstream"))?,
            );
            status.behind = Some(
                count_only_in(&repo, upstream_id, head_id)
                    .map_err(error("commits behind the upstream"))?,
            );
        }
    }

    count_changes(&repo, &mut head, &mut status).map_err(error("the worktree status"))?;
    Ok(status)
}

/// Where a repository's HEAD is: the commit (`None` on an unborn branch) and the branch
/// (`None` when detached).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepoHead {
    pub head: Option<ObjectId>,
    pub branch: Option<String>,
}

/// Reads the HEAD of the repository at `path` (a worktree or git dir), as `project_status`
/// reads a project's; for the superproject, whose own status is not a project record.
pub fn repo_head(path: &Path) -> Result<RepoHead, gix::Error> {
    let repo = crate::open_repo(path)?;
    let head = repo.head()?;
    Ok(RepoHead {
        head: head.id().map(gix::Id::detach),
        branch: branch_of(&head).as_ref().map(short_name),
    })
}

/// The branch HEAD is on, born or not; `None` when detached.
fn branch_of(head: &gix::Head<'_>) -> Option<gix::refs::FullName> {
    match &head.kind {
        gix::head::Kind::Symbolic(reference) => Some(reference.name.clone()),
        gix::head::Kind::Unborn(name) => Some(name.clone()),
        gix::head::Kind::Detached { .. } => None,
    }
}

/// A branch's short name (`main` for `refs/heads/main`), as status shows it.
fn short_name(name: &gix::refs::FullName) -> String {
    name.shorten().to_str_lossy().into_owned()
}

/// The remote-tracking ref a branch follows (`branch.<name>.remote` + `.merge`), as git's
/// `@{upstream}` resolves it; a `.` remote means a local branch.
fn upstream_of(
    repo: &gix::Repository,
    branch: &gix::refs::FullNameRef,
) -> Option<gix::refs::FullName> {
    let short = branch.shorten();
    let config = repo.config_snapshot();
    let remote = config.string(format!("branch.{short}.remote").as_str())?;
    if remote.as_bytes() == b"." {
        let merge = config.string(format!("branch.{short}.merge").as_str())?;
        return gix::refs::FullName::try_from(merge).ok();
    }
    repo.branch_remote_tracking_ref_name(branch, gix::remote::Direction::Fetch)?
        .ok()
}

/// Commits reachable from `tip` but not from `other` (`git rev-list --count other..tip`).
fn count_only_in(
    repo: &gix::Repository,
    tip: ObjectId,
    other: ObjectId,
) -> Result<usize, gix::Error> {
    if tip == other {
        return Ok(0);
    }
    let mut count = 0;
    for info in repo.rev_walk([tip]).with_hidden([other]).all()? {
        info?;
        count += 1;
    }
    Ok(count)
}

/// Counts index and worktree changes the way `git status --porcelain=v1` lists them.
fn count_changes(
    repo: &gix::Repository,
    head: &mut gix::Head<'_>,
    status: &mut ProjectStatus,
) -> Result<(), gix::Error> {
    let index = repo.index_or_empty()?;
    // `HEAD^{tree}` from the HEAD already read (`head_tree_id_or_empty` would read it again:
    // a file, its ref and `packed-refs` per project, which adds up over thousands).
    let head_tree = if head.is_unborn() {
        repo.empty_tree().id
    } else {
        head.peel_to_commit()?.tree_id()?.detach()
    };
    let mut staged = staged_paths(repo, head_tree, &index)?;

    // `status.showUntrackedFiles` and the file system's capabilities, as `git status` has them.
    let mut options = None;
    let _ = repo
        .status(gix::progress::Discard)?
        .index_worktree_options_mut(|configured| options = Some(*configured));
    let mut options = options.unwrap_or_default();
    // Git does not pair worktree deletions with untracked files in porcelain v1.
    options.rewrites = None;
    options.sorting = None;

    let mut worktree = WorktreeCounts::default();
    repo.index_worktree_status(
        &index,
        Vec::<BString>::new(),
        &mut worktree,
        gix::status::plumbing::index_as_worktree::traits::FastEq,
        NestedSubmodules {
            git_dir: repo.git_dir().to_path_buf(),
            builtin: None,
        },
        &mut gix::progress::Discard,
        &std::sync::atomic::AtomicBool::new(false),
        options,
    )?;

    // A conflicted path is one porcelain line with both columns set. (Tree-index diffs skip
    // unmerged entries, so only the worktree side can have listed it.)
    let conflicted = worktree.conflicted;
    for path in &conflicted {
        staged.remove(path);
        worktree.modified.remove(path);
    }
    status.staged = staged.len() + conflicted.len();
    status.modified = worktree.modified.len() + conflicted.len();
    status.conflicted = conflicted.len();
    status.untracked = worktree.untracked;
    Ok(())
}

/// Paths with an index change against `HEAD` (the X column), renames paired as configured
/// (`status.renames`, then `diff.renames`, on by default), each listed once by its new path.
fn staged_paths(
    repo: &gix::Repository,
    head_tree: ObjectId,
    index: &gix::index::State,
) -> Result<HashSet<BString>, gix::Error> {
    // The index's cached tree, when valid for every entry and equal to HEAD's tree, proves
    // there is nothing staged without reading a single object (git trusts it the same way).
    if let Some(cached) = index.tree()
        && cached.id == head_tree
        && cached.num_entries.and_then(|n| usize::try_from(n).ok()) == Some(index.entries().len())
    {
        return Ok(HashSet::new());
    }
    let collect = |renames| -> Result<(HashSet<BString>, usize, usize), gix::Error> {
        let mut paths = HashSet::new();
        let (mut added, mut deleted) = (0, 0);
        repo.tree_index_status(&head_tree, index, None, renames, |change, _, _| {
            match &change {
                gix::diff::index::ChangeRef::Addition { .. } => added += 1,
                gix::diff::index::ChangeRef::Deletion { .. } => deleted += 1,
                _ => {}
            }
            paths.insert(change.location().to_owned());
            Ok(std::ops::ControlFlow::Continue(()))
        })?;
        Ok((paths, added, deleted))
    };
    let (paths, added, deleted) = collect(gix::status::tree_index::TrackRenames::Disabled)?;
    // Only an addition and a deletion together can pair into a rename; pay for the rename
    // detection only then.
    if added > 0 && deleted > 0 {
        return Ok(collect(gix::status::tree_index::TrackRenames::AsConfigured)?.0);
    }
    Ok(paths)
}

/// Collects the worktree column of porcelain v1 and the `??` entries.
#[derive(Default)]
struct WorktreeCounts {
    modified: HashSet<BString>,
    conflicted: HashSet<BString>,
    untracked: usize,
}

impl<'index> gix::status::plumbing::index_as_worktree_with_renames::VisitEntry<'index>
    for WorktreeCounts
{
    type ContentChange = ();
    type SubmoduleStatus = gix::submodule::Status;

    fn visit_entry(
        &mut self,
        entry: gix::status::plumbing::index_as_worktree_with_renames::Entry<
            'index,
            Self::ContentChange,
            Self::SubmoduleStatus,
        >,
    ) {
        use gix::status::plumbing::index_as_worktree_with_renames::Entry;
        match entry {
            Entry::Modification {
                rela_path, status, ..
            } => match status {
                EntryStatus::Conflict { .. } => {
                    self.conflicted.insert(rela_path.to_owned());
                }
                EntryStatus::Change(
                    Change::Removed
                    | Change::Type { .. }
                    | Change::Modification { .. }
                    | Change::SubmoduleModification(_),
                )
                // `git add -N` shows as ` A`: a worktree-column change.
                | EntryStatus::IntentToAdd => {
                    self.modified.insert(rela_path.to_owned());
                }
                // Only a stat refresh, which we never write back: not a change.
                EntryStatus::NeedsUpdate(_) => {}
            },
            Entry::DirectoryContents { entry, .. } => {
                if entry.status == gix::dir::entry::Status::Untracked {
                    self.untracked += 1;
                }
            }
            Entry::Rewrite { .. } => {}
        }
    }
}

/// A nested submodule counts as one modified entry when it has new commits, changes or
/// untracked files, subject to its `ignore` setting, as in git. gix's checker reads the
/// project's `.gitmodules` when made, so it is made only when a gitlink is actually met.
#[derive(Clone)]
struct NestedSubmodules {
    git_dir: std::path::PathBuf,
    builtin: Option<gix::status::index_worktree::BuiltinSubmoduleStatus>,
}

impl gix::status::plumbing::index_as_worktree::traits::SubmoduleStatus for NestedSubmodules {
    type Output = gix::submodule::Status;

    fn status(
        &mut self,
        entry: &gix::index::Entry,
        rela_path: &gix::bstr::BStr,
    ) -> Result<Option<Self::Output>, gix::Error> {
        if self.builtin.is_none() {
            let repo = crate::open_repo(&self.git_dir)?.into_sync();
            self.builtin = Some(gix::status::index_worktree::BuiltinSubmoduleStatus::new(
                repo,
                gix::status::Submodule::AsConfigured { check_dirty: true },
            )?);
        }
        let Some(builtin) = self.builtin.as_mut() else {
            return Ok(None);
        };
        builtin.status(entry, rela_path)
    }
}

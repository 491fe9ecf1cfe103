//! `meta land [NAME]`: after the projects' reviews merged, re-pin the topic to the commits
//! that actually landed on each project's tracked branch, in one superproject commit.
//!
//! **Which pins.** The topic's projects are those whose pin on NAME differs from the pin at
//! the merge-base of NAME and the superproject's base branch (`origin/HEAD`'s branch).
//!
//! **Mapping a pin `P`** against the tracked branch as the remote has it now (one fetch per
//! project, into a private `refs/meta/land/<pid>/` ref deleted afterwards):
//! - `P` is reachable from it (a true merge, a fast-forward): the oldest commit of its
//!   first-parent history that contains `P` (the merge commit; `P` itself after a
//!   fast-forward);
//! - else a commit since the fork point whose **tree** equals `P`'s (a squash or rebase merge
//!   onto an unchanged branch);
//! - else a commit whose change equals the topic's whole change (`git patch-id --stable` of
//!   `fork..P`: a squash merge onto a branch that moved meanwhile);
//! - else, when every commit of the topic has an equal-change commit on the branch (a rebase
//!   merge), the newest of those;
//! - else it is not merged: `land` says what it tried and commits nothing. A review that
//!   changed the code before merging has no equal tree or change, so it is never guessed.
//!
//! **Writing.** One commit on NAME made with plumbing (a temporary index, `commit-tree`,
//! `update-ref` from the old tip), so files are never touched; when NAME is checked out the
//! index's gitlinks follow (the superproject must have nothing staged or modified).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use meta_repo::{ObjectId, Project};
use meta_workflow::git::{git, is_ancestor, rev_parse, symbolic_ref};
use meta_workflow::{GitError, TrackedBranches};

use crate::error::{ChangeError, Refusal, git_error};
use crate::plan::GitCall;
use crate::{SUPERPROJECT, TOPIC_TRAILER, check_branch_name};

/// The most commits of a tracked branch looked at for a squash or rebase merge.
const SEARCH_DEPTH: usize = 2000;

/// What to land.
#[derive(Debug, Clone)]
pub struct LandRequest<'a> {
    pub root: &'a Path,
    /// The topic (`None`: the superproject's current branch).
    pub name: Option<&'a str>,
    /// Every project of the meta-repo.
    pub projects: &'a [Project],
    /// The longest one remote may take to answer.
    pub timeout: Duration,
}

/// How a pin landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landed {
    /// Reachable from the tracked branch: merged or fast-forwarded.
    Merged,
    /// A commit of the branch has its tree.
    SameTree,
    /// A commit of the branch makes the topic's whole change (squash merge).
    Squashed,
    /// Every topic commit has its equal on the branch (rebase merge).
    Rebased,
}

impl Landed {
    pub fn as_str(self) -> &'static str {
        match self {
            Landed::Merged => "merged",
            Landed::SameTree => "same-tree",
            Landed::Squashed => "squashed",
            Landed::Rebased => "rebased",
        }
    }
}

/// One project of the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandProject {
    pub path: String,
    /// The pin the topic records.
    pub from: ObjectId,
    /// The branch it was looked for on.
    pub tracked: Option<String>,
    /// Where it landed, or why it cannot be said.
    pub outcome: Result<(ObjectId, Landed), NotLanded>,
}

/// Why a pin could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotLanded {
    /// Nothing on the tracked branch matches; `tried` says what was compared.
    NotMerged { tried: String },
    /// The remote or the project could not be read.
    Unverifiable { why: String },
}

impl std::fmt::Display for NotLanded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotLanded::NotMerged { tried } => write!(f, "not merged: {tried}"),
            NotLanded::Unverifiable { why } => write!(f, "cannot tell: {why}"),
        }
    }
}

/// The whole of `meta land`, decided.
#[derive(Debug, Clone)]
pub struct LandPlan {
    pub topic: String,
    pub root: PathBuf,
    /// The topic's superproject tip the new commit goes on.
    pub tip: ObjectId,
    /// NAME is checked out in the superproject.
    pub checked_out: bool,
    /// The topic's projects, in project order.
    pub projects: Vec<LandProject>,
}

impl LandPlan {
    /// Projects whose pin moves.
    pub fn moves(&self) -> impl Iterator<Item = (&LandProject, ObjectId)> {
        self.projects.iter().filter_map(|p| match p.outcome {
            Ok((to, _)) if to != p.from => Some((p, to)),
            _ => None,
        })
    }

    /// Projects that block the landing.
    pub fn blocked(&self) -> impl Iterator<Item = (&LandProject, &NotLanded)> {
        self.projects
            .iter()
            .filter_map(|p| p.outcome.as_ref().err().map(|why| (p, why)))
    }

    /// The git calls that write the commit (`<tree>` and `<commit>` stand for ids made on the
    /// way), for `--dry-run`.
    pub fn calls(&self) -> Vec<GitCall> {
        let call = |args: Vec<String>| GitCall::new(SUPERPROJECT, self.root.clone(), args);
        let cacheinfo: Vec<String> = self
            .moves()
            .flat_map(|(p, to)| ["--cacheinfo".to_owned(), format!("160000,{to},{}", p.path)])
            .collect();
        if cacheinfo.is_empty() {
            return Vec::new();
        }
        let mut calls = vec![
            call(vec!["read-tree".into(), self.tip.to_string()]),
            call([vec!["update-index".to_owned()], cacheinfo.clone()].concat()),
            call(vec!["write-tree".into()]),
            call(vec![
                "commit-tree".into(),
                "<tree>".into(),
                "-p".into(),
                self.tip.to_string(),
                "-F".into(),
                "-".into(),
            ]),
            call(vec![
                "update-ref".into(),
                "-m".into(),
                "meta land".into(),
                format!("refs/heads/{}", self.topic),
                "<commit>".into(),
                self.tip.to_string(),
            ]),
        ];
        if self.checked_out {
            calls.push(call([vec!["update-index".to_owned()], cacheinfo].concat()));
        }
        calls
    }

    /// The new commit's message.
    pub fn message(&self) -> String {
        let mut message = format!("Land {}\n\n", self.topic);
        for (project, to) in self.moves() {
            let how = project.outcome.as_ref().map_or("", |(_, how)| how.as_str());
            let _ = writeln!(
                message,
                "{}: {} -> {} ({how} on {})",
                project.path,
                project.from.to_hex_with_len(7),
                to.to_hex_with_len(7),
                project.tracked.as_deref().unwrap_or("its branch"),
            );
        }
        let _ = writeln!(message, "\n{TOPIC_TRAILER}: {}", self.topic);
        message
    }

    /// Writes the commit; returns it. Nothing is written when any call fails before the
    /// `update-ref`; a failure updating the index afterwards moves the branch back.
    pub fn apply(&self) -> Result<ObjectId, ChangeError> {
        let root = &self.root;
        let fail = git_error(SUPERPROJECT);
        // A temporary index in the superproject's git folder, removed however this ends.
        let folder = crate::journal::journal_dir(root).map_err(|e| ChangeError::Git {
            path: SUPERPROJECT.to_owned(),
            source: GitError::Failed {
                command: "git rev-parse --absolute-git-dir".to_owned(),
                code: None,
                stderr: e.to_string(),
            },
        })?;
        let _ = std::fs::create_dir_all(&folder);
        let index = folder.join(format!("land-index-{}", std::process::id()));
        let _remove = RemoveOnDrop(index.clone());
        let cacheinfo: Vec<String> = self
            .moves()
            .flat_map(|(p, to)| ["--cacheinfo".to_owned(), format!("160000,{to},{}", p.path)])
            .collect();
        let in_index = |args: &[&str]| git(root).env("GIT_INDEX_FILE", &index).args(args).run();
        let run = || -> Result<ObjectId, GitError> {
            in_index(&["read-tree", &self.tip.to_string()])?;
            git(root)
                .env("GIT_INDEX_FILE", &index)
                .arg("update-index")
                .args(&cacheinfo)
                .run()?;
            let tree = in_index(&["write-tree"])?;
            let commit = git(root)
                .args([
                    "commit-tree",
                    tree.trim(),
                    "-p",
                    &self.tip.to_string(),
                    "-F",
                    "-",
                ])
                .stdin(self.message())
                .run()?;
            let commit = commit.trim().to_owned();
            git(root)
                .args([
                    "update-ref",
                    "-m",
                    "meta land",
                    &format!("refs/heads/{}", self.topic),
                    &commit,
                    &self.tip.to_string(),
                ])
                .run()?;
            if self.checked_out
                && let Err(error) = git(root).arg("update-index").args(&cacheinfo).run()
            {
                let _ = git(root)
                    .args([
                        "update-ref",
                        "-m",
                        "meta land: undone",
                        &format!("refs/heads/{}", self.topic),
                        &self.tip.to_string(),
                        &commit,
                    ])
                    .run();
                return Err(error);
            }
            ObjectId::from_hex(commit.as_bytes()).map_err(|_| GitError::Failed {
                command: "git commit-tree".to_owned(),
                code: None,
                stderr: format!("printed `{commit}`, not a commit id"),
            })
        };
        run().map_err(fail)
    }
}

/// Removes a file when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Decides what `meta land` would do: fetches each topic project's tracked branch (into a
/// private ref, deleted after) and maps every pin. Refuses a dirty superproject when NAME is
/// checked out, and an unknown topic.
pub fn plan_land(request: &LandRequest<'_>) -> Result<LandPlan, ChangeError> {
    let root = request.root;
    let current = symbolic_ref(root, "HEAD", "refs/heads/").map_err(git_error(SUPERPROJECT))?;
    let topic = match (request.name, &current) {
        (Some(name), _) => name.to_owned(),
        (None, Some(branch)) => branch.clone(),
        (None, None) => {
            let head = rev_parse(root, "HEAD").map_err(git_error(SUPERPROJECT))?;
            return Err(ChangeError::Refused(vec![Refusal::SuperprojectDetached {
                head: head.map_or_else(String::new, |h| h.to_hex_with_len(7).to_string()),
            }]));
        }
    };
    check_branch_name(root, &topic)?;
    let Some(tip) =
        rev_parse(root, &format!("refs/heads/{topic}")).map_err(git_error(SUPERPROJECT))?
    else {
        return Err(ChangeError::Refused(vec![Refusal::UnknownTopic {
            close: crate::switch::close_topics(root, &topic)?,
            name: topic,
        }]));
    };
    let checked_out = current.as_deref() == Some(topic.as_str());
    if checked_out {
        let state = crate::RepoState::read(root).map_err(git_error(SUPERPROJECT))?;
        let mut refusals = Vec::new();
        crate::branch::check_state(SUPERPROJECT, &state, &mut refusals);
        if state.staged + state.unstaged > 0 {
            refusals.push(Refusal::Dirty {
                path: SUPERPROJECT.to_owned(),
                files: state.staged + state.unstaged,
            });
        }
        if !refusals.is_empty() {
            return Err(ChangeError::Refused(refusals));
        }
    }
    let base = superproject_base(root, &topic, tip)?;
    let mut trees = std::collections::HashMap::new();
    let pins = crate::remote::gitlinks(root, tip, &mut trees).map_err(git_error(SUPERPROJECT))?;
    let before = match base {
        Some(base) => {
            crate::remote::gitlinks(root, base, &mut trees).map_err(git_error(SUPERPROJECT))?
        }
        None => std::collections::BTreeMap::new(),
    };
    let tracked = TrackedBranches::read(root);
    let mut work = Vec::new();
    for project in request.projects {
        let Some(&pin) = pins.get(&project.path) else {
            continue;
        };
        if before.get(&project.path) == Some(&pin) {
            continue;
        }
        work.push((project, pin));
    }
    let timeout = request.timeout;
    let projects = crate::commit::in_parallel(&work, |(project, pin)| {
        land_project(root, project, *pin, &tracked, timeout)
    });
    Ok(LandPlan {
        topic,
        root: root.to_path_buf(),
        tip,
        checked_out,
        projects,
    })
}

/// The commit the topic forked from the superproject's base branch (`origin/HEAD`'s, else
/// `main`); `None` when there is none (then every pin is the topic's).
fn superproject_base(
    root: &Path,
    topic: &str,
    tip: ObjectId,
) -> Result<Option<ObjectId>, ChangeError> {
    let base_ref = symbolic_ref(root, "refs/remotes/origin/HEAD", "refs/remotes/")
        .map_err(git_error(SUPERPROJECT))?
        .map_or_else(
            || "refs/heads/main".to_owned(),
            |b| format!("refs/remotes/{b}"),
        );
    let Some(base_tip) = rev_parse(root, &base_ref).map_err(git_error(SUPERPROJECT))? else {
        return Ok(None);
    };
    if base_ref.ends_with(&format!("/{topic}")) && base_tip == tip {
        return Ok(None);
    }
    let out = git(root)
        .args(["merge-base", &tip.to_string(), &base_tip.to_string()])
        .output()
        .map_err(git_error(SUPERPROJECT))?;
    Ok(ObjectId::from_hex(String::from_utf8_lossy(&out.stdout).trim().as_bytes()).ok())
}

fn land_project(
    root: &Path,
    project: &Project,
    pin: ObjectId,
    tracked: &TrackedBranches,
    timeout: Duration,
) -> LandProject {
    let path = project.path.clone();
    let dir = root.join(&path);
    let unverifiable = |why: String, tracked: Option<String>| LandProject {
        path: path.clone(),
        from: pin,
        tracked,
        outcome: Err(NotLanded::Unverifiable { why }),
    };
    if !dir.join(".git").exists() {
        return unverifiable(
            format!("the project is not cloned here (`meta sync {path}` clones it)"),
            None,
        );
    }
    let name = project
        .submodule_name
        .clone()
        .unwrap_or_else(|| path.clone());
    let branch = match tracked.of(&dir, &name) {
        Ok(Some(branch)) => branch,
        Ok(None) => {
            return unverifiable(
                "its tracked branch is unknown (set `branch` in `.gitmodules`, or fetch `origin/HEAD`)"
                    .to_owned(),
                None,
            );
        }
        Err(error) => return unverifiable(error.to_string(), None),
    };
    let outcome = fetch_and_map(&dir, pin, &branch, timeout);
    LandProject {
        path,
        from: pin,
        tracked: Some(branch),
        outcome,
    }
}

/// Fetches `branch` from the project's `origin` into a private ref (deleted after) and maps
/// `pin` onto it.
fn fetch_and_map(
    dir: &Path,
    pin: ObjectId,
    branch: &str,
    timeout: Duration,
) -> Result<(ObjectId, Landed), NotLanded> {
    let private = format!("refs/meta/land/{}/{branch}", std::process::id());
    let fetched = crate::remote::fetch_branch(dir, branch, &private, timeout);
    let outcome = match fetched {
        Err(error) => Err(NotLanded::Unverifiable {
            why: format!(
                "cannot fetch `{branch}` from `origin`: {}",
                first_line(&error)
            ),
        }),
        Ok(()) => map_pin(dir, pin, &private, branch).unwrap_or_else(|error| {
            Err(NotLanded::Unverifiable {
                why: first_line(&error),
            })
        }),
    };
    let _ = git(dir).args(["update-ref", "-d", &private]).run();
    outcome
}

/// Has the project's commit `tip` landed on its tracked branch on the remote (any of the
/// ways [`plan_land`] recognises)? For `meta prune`.
pub(crate) fn tip_landed(
    root: &Path,
    project: &Project,
    tip: ObjectId,
    timeout: Duration,
) -> Result<(), NotLanded> {
    let tracked = TrackedBranches::read(root);
    match land_project(root, project, tip, &tracked, timeout).outcome {
        Ok(_) => Ok(()),
        Err(why) => Err(why),
    }
}

fn first_line(error: &GitError) -> String {
    match error {
        GitError::Failed { stderr, .. } => crate::remote::git_verdict(stderr)
            .unwrap_or("git failed")
            .to_owned(),
        other => other.to_string(),
    }
}

/// Where `pin` landed on the branch whose tip `branch_ref` names (see the module's rules).
fn map_pin(
    dir: &Path,
    pin: ObjectId,
    branch_ref: &str,
    branch: &str,
) -> Result<Result<(ObjectId, Landed), NotLanded>, GitError> {
    let Some(tip) = rev_parse(dir, branch_ref)? else {
        return Ok(Err(NotLanded::Unverifiable {
            why: format!("`origin` has no branch `{branch}`"),
        }));
    };
    if !meta_workflow::git::has_commit(dir, pin)? {
        return Ok(Err(NotLanded::Unverifiable {
            why: format!(
                "the pin {} is not in this clone (fetch it, or `meta sync`)",
                pin.to_hex_with_len(7)
            ),
        }));
    }
    if is_ancestor(dir, pin, tip)? {
        return Ok(Ok((oldest_containing(dir, pin, tip)?, Landed::Merged)));
    }
    let fork = git(dir)
        .args(["merge-base", &pin.to_string(), &tip.to_string()])
        .output()?;
    let fork = String::from_utf8_lossy(&fork.stdout).trim().to_owned();
    let since = if fork.is_empty() {
        tip.to_string()
    } else {
        format!("{fork}..{tip}")
    };
    // Same tree.
    let tree = git(dir)
        .args(["rev-parse", &format!("{pin}^{{tree}}")])
        .run()?;
    let listing = git(dir)
        .args([
            "log",
            "--first-parent",
            &format!("--max-count={SEARCH_DEPTH}"),
            "--format=%H %T",
            &since,
        ])
        .run()?;
    for line in listing.lines() {
        if let Some((commit, commit_tree)) = line.split_once(' ')
            && commit_tree == tree.trim()
            && let Ok(id) = ObjectId::from_hex(commit.as_bytes())
        {
            return Ok(Ok((id, Landed::SameTree)));
        }
    }
    // Same change: the topic's whole diff as one patch-id, and each of its commits'.
    let branch_ids = patch_ids(
        dir,
        &[
            "log",
            "-p",
            "--first-parent",
            "--no-merges",
            &format!("--max-count={SEARCH_DEPTH}"),
            "--format=commit %H",
            &since,
        ],
    )?;
    let topic_commits = if fork.is_empty() {
        Vec::new()
    } else {
        patch_ids(
            dir,
            &[
                "log",
                "-p",
                "--no-merges",
                "--format=commit %H",
                &format!("{fork}..{pin}"),
            ],
        )?
    };
    if !fork.is_empty() {
        let whole = git(dir)
            .args(["diff", "-p", &fork, &pin.to_string()])
            .output()?;
        let whole = patch_id_of(dir, &whole.stdout)?;
        if let Some(whole) = whole
            && let Some((_, id)) = branch_ids.iter().find(|(patch, _)| *patch == whole)
        {
            return Ok(Ok((*id, Landed::Squashed)));
        }
        // Rebased: every topic commit has its equal; the newest equal (the branch's order).
        let all_there = !topic_commits.is_empty()
            && topic_commits
                .iter()
                .all(|(patch, _)| branch_ids.iter().any(|(p, _)| p == patch));
        if all_there
            && let Some((_, id)) = branch_ids
                .iter()
                .find(|(p, _)| topic_commits.iter().any(|(t, _)| t == p))
        {
            return Ok(Ok((*id, Landed::Rebased)));
        }
    }
    Ok(Err(NotLanded::NotMerged {
        tried: format!(
            "`{branch}` on `origin` does not contain {}; none of its {} newest commits since the fork has the same tree, makes the same change in one commit, or repeats each of the topic's {} commit(s)",
            pin.to_hex_with_len(7),
            listing.lines().count(),
            topic_commits.len()
        ),
    }))
}

/// The oldest commit of `tip`'s first-parent history that contains `pin` (containment only
/// grows along that history, so a binary search over it).
fn oldest_containing(dir: &Path, pin: ObjectId, tip: ObjectId) -> Result<ObjectId, GitError> {
    let listing = git(dir)
        .args([
            "rev-list",
            "--first-parent",
            &format!("--max-count={SEARCH_DEPTH}"),
            &tip.to_string(),
        ])
        .run()?;
    let chain: Vec<ObjectId> = listing
        .lines()
        .filter_map(|l| ObjectId::from_hex(l.as_bytes()).ok())
        .collect();
    // chain[0] = tip (contains pin); find the last index (oldest) that still contains it.
    let (mut lo, mut hi) = (0, chain.len());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if is_ancestor(dir, pin, chain[mid])? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(chain.get(lo).copied().unwrap_or(tip))
}

/// `(patch-id, commit)` of every commit `git ARGS` prints with `-p` (newest first).
fn patch_ids(dir: &Path, args: &[&str]) -> Result<Vec<(String, ObjectId)>, GitError> {
    let log = git(dir).args(args).output()?;
    if !log.status.success() {
        return Err(git(dir).args(args).failure(&log));
    }
    let out = git(dir)
        .args(["patch-id", "--stable"])
        .stdin(log.stdout)
        .run()?;
    Ok(out
        .lines()
        .filter_map(|line| {
            let (patch, commit) = line.split_once(' ')?;
            Some((
                patch.to_owned(),
                ObjectId::from_hex(commit.as_bytes()).ok()?,
            ))
        })
        .collect())
}

/// The patch-id of one diff (`None` for an empty one).
fn patch_id_of(dir: &Path, diff: &[u8]) -> Result<Option<String>, GitError> {
    if diff.is_empty() {
        return Ok(None);
    }
    let out = git(dir)
        .args(["patch-id", "--stable"])
        .stdin(diff.to_vec())
        .run()?;
    Ok(out.split_whitespace().next().map(str::to_owned))
}

/// The journal `meta land` keeps while it runs (the superproject's branch and index, which
/// are all it writes), started before the first fetch so a `kill -9` anywhere is noticed.
pub fn begin_land_journal(
    root: &Path,
    name: Option<&str>,
) -> Result<crate::journal::Journal, LandJournalError> {
    let state = crate::RepoState::read(root).map_err(|e| LandJournalError::Git(Box::new(e)))?;
    let topic = match (name, &state.branch) {
        (Some(name), _) => name.to_owned(),
        (None, Some(branch)) => branch.clone(),
        // Detached: plan_land refuses it with the right words; nothing to journal.
        (None, None) => String::new(),
    };
    let topic_tip = if topic.is_empty() || crate::check_branch_name(root, &topic).is_err() {
        None
    } else {
        rev_parse(root, &format!("refs/heads/{topic}"))
            .map_err(|e| LandJournalError::Git(Box::new(e)))?
    };
    let before = crate::journal::Before {
        path: SUPERPROJECT.to_owned(),
        dir: root.to_path_buf(),
        git_dir: state.git_dir.clone(),
        head: state.head,
        branch: state.branch.clone(),
        topic_tip,
    };
    Ok(crate::journal::Journal::begin(
        root,
        "land",
        &topic,
        serde_json::json!({ "name": name }),
        &[before],
    )?)
}

/// Undoes an interrupted `meta land`: the superproject's branch and index as they were, the
/// private refs its fetches left deleted. Returns the topic and the `name` it was asked for.
pub fn abort_land(
    root: &Path,
    projects: &[Project],
) -> Result<(String, Option<String>), LandJournalError> {
    let journal = crate::journal::Journal::resume(root)?;
    let record = journal.record().clone();
    if record.operation != "land" {
        return Err(LandJournalError::OtherOperation(record.operation));
    }
    let name = record
        .request
        .get("name")
        .and_then(|n| n.as_str())
        .map(str::to_owned);
    let prefix = format!("refs/meta/land/{}/", record.pid);
    for project in projects {
        let dir = root.join(&project.path);
        if !dir.join(".git").exists() {
            continue;
        }
        if let Ok(listing) = git(&dir)
            .args(["for-each-ref", "--format=%(refname)", &prefix])
            .run()
        {
            for name in listing.lines().filter(|l| !l.is_empty()) {
                let _ = git(&dir).args(["update-ref", "-d", name]).run();
            }
        }
    }
    if record.topic.is_empty() {
        journal.finish()?;
    } else {
        journal.undo().map_err(|failures| {
            LandJournalError::Undo(
                failures
                    .into_iter()
                    .map(|(p, e)| format!("`{p}`: {e}"))
                    .collect(),
            )
        })?;
    }
    Ok((record.topic, name))
}

/// Why `meta land`'s journal could not be kept or used.
#[derive(Debug, thiserror::Error)]
pub enum LandJournalError {
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
    #[error("cannot read the superproject")]
    Git(#[source] Box<GitError>),
    #[error("the interrupted operation is a `meta {0}`, not a `meta land`")]
    OtherOperation(String),
    #[error("the superproject could not be put back: {}", .0.join("; "))]
    Undo(Vec<String>),
}

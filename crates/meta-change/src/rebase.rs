//! `meta rebase [--continue|--abort] [--autostash]`: each project's topic branch rebased onto
//! its tracked branch as the remote has it now, the superproject's topic onto its remote's base
//! branch (`origin/HEAD`'s, when it has a remote), then one superproject commit re-recording
//! the pins. Stops at the first conflict with a journal, so `--continue` (after the user resolved
//! it) goes on from there and `--abort` puts every repository back where it was.
//!
//! - The topic is the superproject's current branch; its projects are those with a local
//!   branch of that name, which must be checked out there (`meta switch` first).
//! - Each tracked branch is fetched into a private ref (`refs/meta/rebase/<pid>/<branch>`,
//!   deleted when the rebase ends either way), so an abort leaves no remote-tracking ref moved.
//! - `--abort` runs `git rebase --abort` where one stopped, then `git reset --keep` each
//!   rebased project back to its old tip (changes `--autostash` carried are kept), and the
//!   superproject's branch and index back from the journal.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use meta_repo::{ObjectId, Project};
use meta_workflow::git::{git, rev_parse, symbolic_ref};
use meta_workflow::{GitError, TrackedBranches};
use serde::{Deserialize, Serialize};

use crate::SUPERPROJECT;
use crate::error::{ChangeError, Refusal, git_error};
use crate::journal::{Before, Journal, JournalError};
use crate::state::RepoState;

/// One project of the rebase, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebaseProject {
    pub path: String,
    pub dir: PathBuf,
    /// The tracked branch it goes onto.
    pub tracked: String,
    /// The private ref the branch was fetched into.
    pub onto_ref: String,
    /// The topic tip before.
    pub old_tip: String,
    /// Rebased already.
    pub done: bool,
}

/// The rebase's progress, stored in the journal's request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Progress {
    autostash: bool,
    projects: Vec<RebaseProject>,
    /// The superproject's own rebase onto its remote's base branch (`None`: it has no remote
    /// base, or the topic contains it already).
    superproject: Option<RebaseProject>,
}

/// How a rebase run ended.
#[derive(Debug)]
pub enum RebaseOutcome {
    /// Every project rebased and the pins re-recorded in `commit` (`None`: no pin moved).
    Done {
        topic: String,
        commit: Option<ObjectId>,
        projects: Vec<(String, ObjectId, ObjectId)>,
    },
    /// Stopped on a conflict in `path`; the journal waits for `--continue` or `--abort`.
    Stopped { topic: String, path: String },
}

/// Why a rebase could not run.
#[derive(Debug, thiserror::Error)]
pub enum RebaseError {
    #[error(transparent)]
    Plan(#[from] ChangeError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("the interrupted operation is a `meta {0}`, not a `meta rebase`")]
    OtherOperation(String),
    #[error("cannot fetch `{branch}` for `{path}`")]
    Fetch {
        path: String,
        branch: String,
        #[source]
        source: GitError,
    },
    #[error("`{path}`: the rebase stopped, but not on a conflict")]
    Failed {
        path: String,
        #[source]
        source: GitError,
    },
    #[error("`{path}`: the conflicts are not all resolved")]
    StillConflicted { path: String },
    #[error("cannot record the rebased pins in the superproject")]
    Record(#[source] GitError),
    #[error("some repositories could not be put back: {}", .0.iter().map(|(p, e)| format!("`{p}`: {e}")).collect::<Vec<_>>().join("; "))]
    Undo(Vec<(String, String)>),
}

fn rebase_error(path: &str) -> impl FnOnce(GitError) -> RebaseError + '_ {
    move |source| RebaseError::Failed {
        path: path.to_owned(),
        source,
    }
}

/// Starts `meta rebase`: plans, refuses, fetches, journals, then rebases until done or a
/// conflict.
pub fn start_rebase(
    root: &Path,
    projects: &[Project],
    autostash: bool,
    timeout: Duration,
) -> Result<RebaseOutcome, RebaseError> {
    let top = RepoState::read(root).map_err(git_error(SUPERPROJECT))?;
    let mut refusals = Vec::new();
    crate::branch::check_state(SUPERPROJECT, &top, &mut refusals);
    let Some(topic) = top.branch.clone() else {
        return Err(ChangeError::Refused(vec![Refusal::SuperprojectDetached {
            head: top
                .head
                .map_or_else(String::new, |h| h.to_hex_with_len(7).to_string()),
        }])
        .into());
    };
    if top.staged > 0 {
        refusals.push(Refusal::Dirty {
            path: SUPERPROJECT.to_owned(),
            files: top.staged,
        });
    }
    let tracked = TrackedBranches::read(root);
    let topic_ref = format!("refs/heads/{topic}");
    let mut work = Vec::new();
    let mut befores = Vec::new();
    for project in projects {
        let dir = root.join(&project.path);
        if !project.active || std::fs::symlink_metadata(dir.join(".git")).is_err() {
            continue;
        }
        let path = project.path.as_str();
        let Some(tip) = rev_parse(&dir, &topic_ref).map_err(git_error(path))? else {
            continue;
        };
        let name = project
            .submodule_name
            .clone()
            .unwrap_or_else(|| path.to_owned());
        let Some(branch) = tracked.of(&dir, &name).map_err(git_error(path))? else {
            continue;
        };
        if branch == topic {
            continue;
        }
        let state = RepoState::read(&dir).map_err(git_error(path))?;
        let before = refusals.len();
        crate::branch::check_state(path, &state, &mut refusals);
        if state.branch.as_deref() != Some(topic.as_str()) {
            refusals.push(Refusal::TopicElsewhere {
                path: path.to_owned(),
                name: topic.clone(),
                tip,
                head: state.head.unwrap_or(tip),
            });
        }
        if !autostash && state.staged + state.unstaged > 0 {
            refusals.push(Refusal::Dirty {
                path: path.to_owned(),
                files: state.staged + state.unstaged,
            });
        }
        if refusals.len() > before {
            continue;
        }
        befores.push(Before {
            path: path.to_owned(),
            dir: dir.clone(),
            git_dir: state.git_dir.clone(),
            head: state.head,
            branch: state.branch.clone(),
            topic_tip: Some(tip),
        });
        work.push(RebaseProject {
            path: path.to_owned(),
            dir,
            onto_ref: format!("refs/meta/rebase/{}/{branch}", std::process::id()),
            tracked: branch,
            old_tip: tip.to_string(),
            done: false,
        });
    }
    if !refusals.is_empty() {
        return Err(ChangeError::Refused(refusals).into());
    }
    for project in &work {
        crate::remote::fetch_branch(&project.dir, &project.tracked, &project.onto_ref, timeout)
            .map_err(|source| RebaseError::Fetch {
                path: project.path.clone(),
                branch: project.tracked.clone(),
                source,
            })?;
    }
    let superproject = superproject_onto(root, &topic, top.head, timeout)?;
    befores.push(Before {
        path: SUPERPROJECT.to_owned(),
        dir: root.to_path_buf(),
        git_dir: top.git_dir.clone(),
        head: top.head,
        branch: top.branch.clone(),
        topic_tip: top.head,
    });
    let progress = Progress {
        autostash,
        projects: work,
        superproject,
    };
    let journal = Journal::begin(root, "rebase", &topic, to_value(&progress), &befores)?;
    run(root, journal, progress)
}

/// The superproject's base branch on its remote (`origin/HEAD`'s), fetched into a private
/// ref, when the topic does not contain it yet.
fn superproject_onto(
    root: &Path,
    topic: &str,
    head: Option<ObjectId>,
    timeout: Duration,
) -> Result<Option<RebaseProject>, RebaseError> {
    let has_origin = git(root)
        .args(["config", "--get", "remote.origin.url"])
        .succeeds()
        .map_err(git_error(SUPERPROJECT))
        .map_err(RebaseError::from)?;
    let (Some(head), true) = (head, has_origin) else {
        return Ok(None);
    };
    let base = symbolic_ref(root, "refs/remotes/origin/HEAD", "refs/remotes/origin/")
        .map_err(git_error(SUPERPROJECT))
        .map_err(RebaseError::from)?
        .unwrap_or_else(|| "main".to_owned());
    if base == topic {
        return Ok(None);
    }
    let onto_ref = format!("refs/meta/rebase/{}/superproject", std::process::id());
    crate::remote::fetch_branch(root, &base, &onto_ref, timeout).map_err(|source| {
        RebaseError::Fetch {
            path: SUPERPROJECT.to_owned(),
            branch: base.clone(),
            source,
        }
    })?;
    let onto = rev_parse(root, &onto_ref).map_err(rebase_error(SUPERPROJECT))?;
    if onto.is_some_and(|o| meta_workflow::git::is_ancestor(root, o, head).unwrap_or(false)) {
        let _ = git(root).args(["update-ref", "-d", &onto_ref]).run();
        return Ok(None);
    }
    Ok(Some(RebaseProject {
        path: SUPERPROJECT.to_owned(),
        dir: root.to_path_buf(),
        tracked: base,
        onto_ref,
        old_tip: head.to_string(),
        done: false,
    }))
}

fn to_value(progress: &Progress) -> serde_json::Value {
    serde_json::to_value(progress).unwrap_or(serde_json::Value::Null)
}

fn resume(root: &Path) -> Result<(Journal, Progress), RebaseError> {
    let journal = Journal::resume(root)?;
    if journal.record().operation != "rebase" {
        return Err(RebaseError::OtherOperation(
            journal.record().operation.clone(),
        ));
    }
    let progress: Progress =
        serde_json::from_value(journal.record().request.clone()).map_err(|source| {
            JournalError::Corrupt {
                path: PathBuf::from("journal.json"),
                source,
            }
        })?;
    Ok((journal, progress))
}

/// `--continue`: finishes the stopped project's rebase (its conflicts resolved and added),
/// then goes on.
pub fn continue_rebase(root: &Path) -> Result<RebaseOutcome, RebaseError> {
    let (journal, progress) = resume(root)?;
    if let Some(project) = progress
        .projects
        .iter()
        .chain(&progress.superproject)
        .find(|p| !p.done)
        && let Ok(state) = RepoState::read(&project.dir)
        && state.in_progress == Some(crate::InProgress::Rebase)
    {
        if state.conflicted > 0 {
            return Err(RebaseError::StillConflicted {
                path: project.path.clone(),
            });
        }
        git(&project.dir)
            .args(["rebase", "--continue"])
            .env("GIT_EDITOR", "true")
            .run()
            .map_err(rebase_error(&project.path))?;
    }
    run(root, journal, progress)
}

/// Rebases every project not done yet, then records the pins.
fn run(
    root: &Path,
    mut journal: Journal,
    mut progress: Progress,
) -> Result<RebaseOutcome, RebaseError> {
    let topic = journal.record().topic.clone();
    for i in 0..progress.projects.len() {
        if progress.projects[i].done {
            continue;
        }
        if !rebase_one(&progress.projects[i], progress.autostash)? {
            return Ok(RebaseOutcome::Stopped {
                topic,
                path: progress.projects[i].path.clone(),
            });
        }
        progress.projects[i].done = true;
        journal.set_request(to_value(&progress))?;
    }
    if let Some(superproject) = progress.superproject.clone()
        && !superproject.done
    {
        // Only gitlinks and the superproject's own files move here; the projects' work trees
        // are not touched (no --recurse-submodules).
        if !rebase_one(&superproject, false)? {
            return Ok(RebaseOutcome::Stopped {
                topic,
                path: SUPERPROJECT.to_owned(),
            });
        }
        if let Some(s) = progress.superproject.as_mut() {
            s.done = true;
        }
        journal.set_request(to_value(&progress))?;
    }
    // Re-record the pins that moved, in one superproject commit.
    let mut moved = Vec::new();
    for project in &progress.projects {
        let new = rev_parse(&project.dir, "HEAD")
            .map_err(rebase_error(&project.path))?
            .ok_or_else(|| RebaseError::StillConflicted {
                path: project.path.clone(),
            })?;
        let old = ObjectId::from_hex(project.old_tip.as_bytes()).unwrap_or(new);
        if new != old {
            moved.push((project.path.clone(), old, new));
        }
    }
    let commit = if moved.is_empty() {
        None
    } else {
        let mut update = git(root).arg("update-index");
        for (path, _, new) in &moved {
            update = update
                .arg("--cacheinfo")
                .arg(format!("160000,{new},{path}"));
        }
        update.run().map_err(RebaseError::Record)?;
        let mut message = format!("Rebase {topic} onto the tracked branches\n\n");
        for (path, old, new) in &moved {
            let _ = writeln!(
                message,
                "{path}: {} -> {}",
                old.to_hex_with_len(7),
                new.to_hex_with_len(7)
            );
        }
        git(root)
            .args([
                "commit",
                "--quiet",
                "--no-verify",
                &format!(
                    "--message={}",
                    crate::commit::with_trailer(&message, &topic)
                ),
            ])
            .run()
            .map_err(RebaseError::Record)?;
        rev_parse(root, "HEAD").map_err(RebaseError::Record)?
    };
    for project in progress.projects.iter().chain(&progress.superproject) {
        let _ = git(&project.dir)
            .args(["update-ref", "-d", &project.onto_ref])
            .run();
    }
    journal.finish()?;
    Ok(RebaseOutcome::Done {
        topic,
        commit,
        projects: moved,
    })
}

/// Rebases one repository onto its fetched ref unless done already; `false`: stopped on a
/// conflict.
fn rebase_one(project: &RebaseProject, autostash: bool) -> Result<bool, RebaseError> {
    let path = project.path.as_str();
    let tip = rev_parse(&project.dir, "HEAD").map_err(rebase_error(path))?;
    let onto = rev_parse(&project.dir, &project.onto_ref).map_err(rebase_error(path))?;
    if let (Some(tip), Some(onto)) = (tip, onto)
        && meta_workflow::git::is_ancestor(&project.dir, onto, tip).map_err(rebase_error(path))?
    {
        return Ok(true);
    }
    let mut rebase = git(&project.dir).args(["rebase", "--quiet"]);
    if autostash {
        rebase = rebase.arg("--autostash");
    }
    let out = rebase
        .arg(&project.onto_ref)
        .env("GIT_EDITOR", "true")
        .output()
        .map_err(rebase_error(path))?;
    if out.status.success() {
        return Ok(true);
    }
    let state = RepoState::read(&project.dir).map_err(rebase_error(path))?;
    if state.in_progress == Some(crate::InProgress::Rebase) {
        return Ok(false);
    }
    Err(RebaseError::Failed {
        path: path.to_owned(),
        source: git(&project.dir).arg("rebase").failure(&out),
    })
}

/// `--abort`: every repository back where it was before `meta rebase` started.
pub fn abort_rebase(root: &Path) -> Result<String, RebaseError> {
    let (journal, progress) = resume(root)?;
    let topic = journal.record().topic.clone();
    let mut failures = Vec::new();
    for project in progress
        .superproject
        .iter()
        .chain(progress.projects.iter().rev())
    {
        let result = (|| -> Result<(), GitError> {
            let state = RepoState::read(&project.dir)?;
            if state.in_progress == Some(crate::InProgress::Rebase) {
                git(&project.dir).args(["rebase", "--abort"]).run()?;
            }
            let branch = symbolic_ref(&project.dir, "HEAD", "refs/heads/")?;
            if branch.as_deref() != Some(topic.as_str()) {
                git(&project.dir).args(["switch", "-q", &topic]).run()?;
            }
            let tip = rev_parse(&project.dir, "HEAD")?;
            if tip.map(|t| t.to_string()).as_deref() != Some(project.old_tip.as_str()) {
                git(&project.dir)
                    .args(["reset", "-q", "--keep", &project.old_tip])
                    .run()?;
            }
            let _ = git(&project.dir)
                .args(["update-ref", "-d", &project.onto_ref])
                .run();
            Ok(())
        })();
        if let Err(error) = result {
            failures.push((project.path.clone(), error.to_string()));
        }
    }
    // The superproject: its branch and index, which only the final pin commit changed.
    if let Some(top) = journal
        .record()
        .repos
        .iter()
        .find(|r| r.path == SUPERPROJECT)
        && let Err(error) = top.restore(&topic)
    {
        failures.push((SUPERPROJECT.to_owned(), error.to_string()));
    }
    if !failures.is_empty() {
        return Err(RebaseError::Undo(failures));
    }
    journal.finish()?;
    Ok(topic)
}

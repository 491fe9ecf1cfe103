//! `meta commit`: a commit in each selected project that has something to commit, on the
//! topic branch, then **one** superproject commit recording exactly the pins that moved (plus
//! what is staged in the superproject itself). All or nothing.
//!
//! **Who takes part.** A project with staged changes (with `all`: also modified tracked
//! files) gets a commit. A project already on the topic branch whose HEAD is not the pin has
//! its HEAD recorded (commits made with plain git join the topic). With `record_only`, no
//! project commits: every selected project whose HEAD is not the pin has HEAD recorded.
//!
//! **Never on a detached HEAD.** A taking part project not on the topic branch is put on it
//! first, without touching files: `git switch --create=TOPIC` when the branch does not exist
//! (at HEAD), `git symbolic-ref` when it exists at HEAD. Elsewhere is a refusal.
//!
//! **Refused** before anything is written: the superproject detached; a taking part
//! repository mid-merge/rebase/cherry-pick, conflicted or unborn; a pin that would go
//! backwards (HEAD does not descend from the recorded pin) without `allow_rewind`; nothing to
//! commit; an empty message.
//!
//! **All or nothing.** [`CommitPlan::apply`] first writes a [`Journal`] (each repository's
//! HEAD, topic branch and a copy of its index), then commits in the projects (in parallel:
//! hooks are the slow part), then in the superproject. Any failure, a failing hook included,
//! puts every repository back from the journal: commits undone, changes back in the index
//! exactly as they were staged. A process killed half-way leaves the journal:
//! [`abort_commit`] undoes, [`continue_commit`] undoes and runs the same commit again.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use meta_repo::{ObjectId, Project};
use meta_workflow::GitError;
use meta_workflow::git::{git, has_commit, is_ancestor, rev_parse};
use serde::{Deserialize, Serialize};

use crate::SUPERPROJECT;
use crate::branch::check_state;
use crate::error::{ChangeError, Refusal, git_error};
use crate::journal::{Before, Journal, JournalError};
use crate::plan::GitCall;
use crate::state::RepoState;

/// The trailer every commit of `meta commit` carries.
pub const TOPIC_TRAILER: &str = "Meta-Topic";

/// How many commits a project's part of the superproject message lists before "… and N more".
const LISTED_COMMITS: usize = 20;

/// What `meta commit` was asked to do. Stored in the journal, so `continue` runs it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitOptions {
    pub message: String,
    /// Also commit modified tracked files (`git commit -a`).
    pub all: bool,
    /// Record commits already made; commit nothing in projects.
    pub record_only: bool,
    pub allow_rewind: bool,
    /// Skip the commit hooks (`git commit --no-verify`).
    pub no_verify: bool,
}

/// The request: options plus where.
#[derive(Debug, Clone)]
pub struct CommitRequest<'a> {
    /// The meta-repo's root.
    pub root: &'a Path,
    /// The selected projects.
    pub projects: &'a [Project],
    pub options: CommitOptions,
}

/// How a project gets onto the topic branch before its commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    /// HEAD is on it already.
    Stay,
    /// It exists at HEAD: HEAD is attached to it.
    CheckOut,
    /// It does not exist: created at HEAD and checked out.
    Create,
}

/// One project's part, decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectCommit {
    pub path: String,
    pub dir: PathBuf,
    /// Its git folder.
    pub git_dir: PathBuf,
    /// The pin the superproject's index records (`None`: no gitlink yet).
    pub from: Option<ObjectId>,
    /// Its HEAD before.
    pub head: ObjectId,
    /// The branch HEAD is on before (`None`: detached).
    pub branch: Option<String>,
    pub attach: Attach,
    /// Makes a commit; `false`: records HEAD as it is.
    pub commit: bool,
    /// The new pin goes backwards (allowed by `allow_rewind`).
    pub rewinds: bool,
}

/// Why a selected project takes no part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitSkip {
    /// Not checked out.
    NotInitialized,
}

/// The whole of `meta commit`, decided, nothing written yet.
#[derive(Debug, Clone)]
pub struct CommitPlan {
    pub topic: String,
    pub root: PathBuf,
    /// The projects taking part, in project order.
    pub projects: Vec<ProjectCommit>,
    pub skipped: Vec<(String, CommitSkip)>,
    /// Paths staged in the superproject itself (not pins this commit records).
    pub superproject_staged: Vec<String>,
    pub options: CommitOptions,
    /// The superproject as read while planning.
    pub superproject: RepoState,
}

/// A project's part, done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub path: String,
    pub from: Option<ObjectId>,
    /// The new pin.
    pub to: ObjectId,
    /// A commit was made (`false`: HEAD recorded).
    pub made: bool,
    pub attach: Attach,
    /// The commits between the old pin and the new one, newest first (at most 20 listed).
    pub commits: Vec<(ObjectId, String)>,
    /// How many there are in all.
    pub count: usize,
    pub rewinds: bool,
}

/// What `meta commit` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitOutcome {
    pub topic: String,
    /// The superproject's new commit.
    pub commit: ObjectId,
    pub projects: Vec<Committed>,
}

/// Why an applied commit failed; every repository was put back unless `undo_failures` says.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("the journal could not be written, so nothing was changed")]
    Journal(#[source] JournalError),
    #[error("`{}` failed in {}", .call.command_line(), place(&.call.repo))]
    Failed {
        call: GitCall,
        #[source]
        source: GitError,
        /// Repositories that could not be put back (the journal stays for `--abort`).
        undo_failures: Vec<(String, JournalError)>,
    },
    #[error("cannot read {} after committing", place(path))]
    Read {
        path: String,
        #[source]
        source: GitError,
        undo_failures: Vec<(String, JournalError)>,
    },
}

fn place(path: &str) -> String {
    if path == SUPERPROJECT {
        "the superproject".to_owned()
    } else {
        format!("`{path}`")
    }
}

impl CommitError {
    /// Repositories left as they were not: nothing when the undo worked.
    pub fn undo_failures(&self) -> &[(String, JournalError)] {
        match self {
            CommitError::Journal(_) => &[],
            CommitError::Failed { undo_failures, .. } | CommitError::Read { undo_failures, .. } => {
                undo_failures
            }
        }
    }
}

/// Decides everything `meta commit` would do, reading only. Every refusal comes back at once.
pub fn plan_commit(request: &CommitRequest<'_>) -> Result<CommitPlan, ChangeError> {
    let root = request.root;
    let options = &request.options;
    let mut refusals = Vec::new();
    if options.message.trim().is_empty() {
        refusals.push(Refusal::EmptyMessage);
    }
    let top = RepoState::read(root).map_err(git_error(SUPERPROJECT))?;
    check_state(SUPERPROJECT, &top, &mut refusals);
    let topic = match (&top.branch, top.head) {
        (Some(branch), _) => branch.clone(),
        (None, head) => {
            refusals.push(Refusal::SuperprojectDetached {
                head: head.map_or_else(String::new, |h| h.to_hex_with_len(7).to_string()),
            });
            String::new()
        }
    };

    // Each project is read on its own (a `git status` and, rarely, ancestry questions), so
    // they are read a few at a time; results come back in project order.
    let decided = in_parallel(request.projects, |project| {
        decide_project(root, project, &topic, options)
    });
    let mut projects = Vec::new();
    let mut skipped = Vec::new();
    for (project, decision) in request.projects.iter().zip(decided) {
        match decision? {
            Decision::Skip(skip) => skipped.push((project.path.clone(), skip)),
            Decision::NoPart => {}
            Decision::Refused(refusal) => refusals.extend(refusal),
            Decision::Part(part) => projects.push(*part),
        }
    }

    let recorded: BTreeSet<&str> = projects.iter().map(|p| p.path.as_str()).collect();
    let superproject_staged: Vec<String> = staged_paths(root)
        .map_err(git_error(SUPERPROJECT))?
        .into_iter()
        .filter(|path| !recorded.contains(path.as_str()))
        .collect();
    if refusals.is_empty() && projects.is_empty() && superproject_staged.is_empty() {
        refusals.push(Refusal::NothingToCommit {
            all: options.all,
            record_only: options.record_only,
        });
    }
    if !refusals.is_empty() {
        return Err(ChangeError::Refused(refusals));
    }
    Ok(CommitPlan {
        topic,
        root: root.to_path_buf(),
        projects,
        skipped,
        superproject_staged,
        options: options.clone(),
        superproject: top,
    })
}

/// One project's part in the commit, decided.
enum Decision {
    Skip(CommitSkip),
    /// Nothing to commit or record there.
    NoPart,
    Refused(Vec<Refusal>),
    Part(Box<ProjectCommit>),
}

fn decide_project(
    root: &Path,
    project: &Project,
    topic: &str,
    options: &CommitOptions,
) -> Result<Decision, ChangeError> {
    let path = project.path.as_str();
    let dir = root.join(path);
    if !project.active || std::fs::symlink_metadata(dir.join(".git")).is_err() {
        return Ok(Decision::Skip(CommitSkip::NotInitialized));
    }
    if project.pin_conflicted {
        return Ok(Decision::Refused(vec![Refusal::PinConflict {
            path: path.to_owned(),
        }]));
    }
    let state = RepoState::read(&dir).map_err(git_error(path))?;
    let Some(head) = state.head else {
        if state.staged > 0 || state.conflicted > 0 {
            return Ok(Decision::Refused(vec![Refusal::Unborn {
                path: path.to_owned(),
            }]));
        }
        return Ok(Decision::NoPart);
    };
    let on_topic = !topic.is_empty() && state.branch.as_deref() == Some(topic);
    let moved = project.pinned != Some(head);
    let commit = !options.record_only
        && (state.staged > 0 || state.conflicted > 0 || (options.all && state.unstaged > 0));
    if !(commit || (moved && (options.record_only || on_topic))) {
        return Ok(Decision::NoPart);
    }
    let mut refusals = Vec::new();
    check_state(path, &state, &mut refusals);
    if !refusals.is_empty() || topic.is_empty() {
        return Ok(Decision::Refused(refusals));
    }
    let rewinds = match project.pinned {
        Some(pin) if pin != head => {
            !(has_commit(&dir, pin).map_err(git_error(path))?
                && is_ancestor(&dir, pin, head).map_err(git_error(path))?)
        }
        _ => false,
    };
    if rewinds && !options.allow_rewind {
        return Ok(Decision::Refused(vec![Refusal::Rewind {
            path: path.to_owned(),
            from: project.pinned.unwrap_or(head),
            to: head,
        }]));
    }
    let attach = if on_topic {
        Attach::Stay
    } else {
        match rev_parse(&dir, &format!("refs/heads/{topic}")).map_err(git_error(path))? {
            None => Attach::Create,
            Some(tip) if tip == head => Attach::CheckOut,
            Some(tip) => {
                return Ok(Decision::Refused(vec![Refusal::TopicElsewhere {
                    path: path.to_owned(),
                    name: topic.to_owned(),
                    tip,
                    head,
                }]));
            }
        }
    };
    Ok(Decision::Part(Box::new(ProjectCommit {
        path: path.to_owned(),
        dir,
        git_dir: state.git_dir,
        from: project.pinned,
        head,
        branch: state.branch,
        attach,
        commit,
        rewinds,
    })))
}

/// The paths staged in the repository at `dir` (index against HEAD).
fn staged_paths(dir: &Path) -> Result<Vec<String>, GitError> {
    let out = git(dir)
        .args(["diff", "--cached", "--name-only", "-z", "--no-renames"])
        .run()?;
    Ok(out
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect())
}

impl ProjectCommit {
    fn call(&self, args: impl IntoIterator<Item = impl Into<String>>) -> GitCall {
        GitCall::new(&self.path, self.dir.clone(), args)
    }

    /// The calls that put it on the topic branch, then commit.
    fn calls(&self, topic: &str, options: &CommitOptions) -> Vec<GitCall> {
        let mut calls = Vec::new();
        match self.attach {
            Attach::Stay => {}
            Attach::CheckOut => calls.push(self.call([
                "symbolic-ref".to_owned(),
                "-m".to_owned(),
                format!("meta commit: on {topic}"),
                "HEAD".to_owned(),
                format!("refs/heads/{topic}"),
            ])),
            Attach::Create => {
                calls.push(self.call(["switch".to_owned(), format!("--create={topic}")]));
            }
        }
        if self.commit {
            calls.push(self.call(commit_args(topic, &options.message, options, options.all)));
        }
        calls
    }
}

/// `git commit` with the message and the topic trailer; user text glued to its option.
fn commit_args(topic: &str, message: &str, options: &CommitOptions, all: bool) -> Vec<String> {
    let mut args = vec![
        "commit".to_owned(),
        "--quiet".to_owned(),
        format!("--message={}", with_trailer(message, topic)),
    ];
    if all {
        args.push("--all".to_owned());
    }
    if options.no_verify {
        args.push("--no-verify".to_owned());
    }
    args
}

/// `message` with the `Meta-Topic: TOPIC` trailer: added to its trailer block when its last
/// paragraph is one (`Signed-off-by: …`), else as a new paragraph. Written here rather than
/// with `git commit --trailer`, which runs `git interpret-trailers`: one process per commit.
pub(crate) fn with_trailer(message: &str, topic: &str) -> String {
    let message = message.trim_end();
    let trailer = format!("{TOPIC_TRAILER}: {topic}");
    let last = message.rsplit_once("\n\n").map(|(_, last)| last);
    let is_trailer = |line: &str| {
        line.starts_with([' ', '\t'])
            || line.split_once(": ").is_some_and(|(key, _)| {
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    match last {
        Some(block) if block.lines().any(|l| l == trailer) => message.to_owned(),
        Some(block) if block.lines().all(is_trailer) => format!("{message}\n{trailer}"),
        _ => format!("{message}\n\n{trailer}"),
    }
}

impl CommitPlan {
    /// Every git call in the order it runs; the superproject's pins and message depend on the
    /// projects' new commits, so they read `<new commit of PATH>` and `<message and summary>`.
    pub fn calls(&self) -> Vec<GitCall> {
        let mut calls: Vec<GitCall> = self
            .projects
            .iter()
            .flat_map(|p| p.calls(&self.topic, &self.options))
            .collect();
        if let Some(update) = self.update_index(|p| {
            if p.commit {
                format!("<new commit of {}>", p.path)
            } else {
                p.head.to_string()
            }
        }) {
            calls.push(update);
        }
        calls.push(GitCall::new(
            SUPERPROJECT,
            self.root.clone(),
            commit_args(&self.topic, "<message and summary>", &self.options, false),
        ));
        calls
    }

    /// `git update-index` staging every recorded pin, or `None` when no project takes part.
    fn update_index(&self, pin: impl Fn(&ProjectCommit) -> String) -> Option<GitCall> {
        if self.projects.is_empty() {
            return None;
        }
        let mut args = vec!["update-index".to_owned()];
        for project in &self.projects {
            args.push("--cacheinfo".to_owned());
            args.push(format!("160000,{},{}", pin(project), project.path));
        }
        Some(GitCall::new(SUPERPROJECT, self.root.clone(), args))
    }

    fn journal_request(&self) -> serde_json::Value {
        serde_json::json!({
            "options": self.options,
            "projects": self.projects.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
        })
    }

    /// Commits, all or nothing (see the module's documentation).
    pub fn apply(&self) -> Result<CommitOutcome, Box<CommitError>> {
        let repos: Vec<Before> = self
            .projects
            .iter()
            .map(|p| Before {
                path: p.path.clone(),
                dir: p.dir.clone(),
                git_dir: p.git_dir.clone(),
                head: Some(p.head),
                branch: p.branch.clone(),
                topic_tip: match p.attach {
                    Attach::Stay | Attach::CheckOut => Some(p.head),
                    Attach::Create => None,
                },
            })
            .chain([Before {
                path: SUPERPROJECT.to_owned(),
                dir: self.root.clone(),
                git_dir: self.superproject.git_dir.clone(),
                head: self.superproject.head,
                branch: Some(self.topic.clone()),
                topic_tip: self.superproject.head,
            }])
            .collect();
        let journal = Journal::begin(
            &self.root,
            "commit",
            &self.topic,
            self.journal_request(),
            &repos,
        )
        .map_err(|e| Box::new(CommitError::Journal(e)))?;
        match self.apply_journaled() {
            Ok(outcome) => {
                // The commits are made: a journal that cannot be removed only means the next
                // command offers to undo; say nothing worse than that here.
                let _ = journal.finish();
                Ok(outcome)
            }
            Err(mut error) => {
                let failures = journal.undo().err().unwrap_or_default();
                match error.as_mut() {
                    CommitError::Failed { undo_failures, .. }
                    | CommitError::Read { undo_failures, .. } => *undo_failures = failures,
                    CommitError::Journal(_) => {}
                }
                Err(error)
            }
        }
    }

    fn apply_journaled(&self) -> Result<CommitOutcome, Box<CommitError>> {
        let results = in_parallel(&self.projects, |project| {
            for call in project.calls(&self.topic, &self.options) {
                call.run().map_err(|source| {
                    Box::new(CommitError::Failed {
                        call: call.clone(),
                        source,
                        undo_failures: Vec::new(),
                    })
                })?;
            }
            committed(project, &self.topic, &self.options.message)
        });
        let mut projects = Vec::with_capacity(results.len());
        for result in results {
            projects.push(result?);
        }
        let message = self.superproject_message(&projects);
        let pins = |p: &ProjectCommit| {
            projects
                .iter()
                .find(|c| c.path == p.path)
                .map_or_else(|| p.head.to_string(), |c| c.to.to_string())
        };
        let root = |args: Vec<String>| GitCall::new(SUPERPROJECT, self.root.clone(), args);
        let mut calls: Vec<GitCall> = self.update_index(pins).into_iter().collect();
        calls.push(root(commit_args(
            &self.topic,
            &message,
            &self.options,
            false,
        )));
        for call in calls {
            call.run().map_err(|source| {
                Box::new(CommitError::Failed {
                    call: call.clone(),
                    source,
                    undo_failures: Vec::new(),
                })
            })?;
        }
        let read_error = |source| {
            Box::new(CommitError::Read {
                path: SUPERPROJECT.to_owned(),
                source,
                undo_failures: Vec::new(),
            })
        };
        let commit = rev_parse(&self.root, "HEAD")
            .map_err(read_error)?
            .ok_or_else(|| read_error(no_head()))?;
        Ok(CommitOutcome {
            topic: self.topic.clone(),
            commit,
            projects,
        })
    }

    /// The user's message, then what each project brings, newest commit first.
    fn superproject_message(&self, projects: &[Committed]) -> String {
        let mut message = self.options.message.trim_end().to_owned();
        if projects.is_empty() {
            return message;
        }
        message.push_str("\n\n");
        for project in projects {
            let short = |id: &ObjectId| id.to_hex_with_len(7).to_string();
            if project.rewinds {
                let _ = writeln!(
                    message,
                    "{}: rewound to {}{}",
                    project.path,
                    short(&project.to),
                    project
                        .from
                        .map(|f| format!(" from {}", short(&f)))
                        .unwrap_or_default()
                );
                continue;
            }
            let plural = if project.count == 1 { "" } else { "s" };
            let _ = writeln!(
                message,
                "{}: {} commit{plural}",
                project.path, project.count
            );
            for (id, subject) in &project.commits {
                let _ = writeln!(message, "  {} {subject}", short(id));
            }
            if project.count > project.commits.len() {
                let _ = writeln!(
                    message,
                    "  … and {} more",
                    project.count - project.commits.len()
                );
            }
        }
        message
    }
}

/// A project's result once its calls ran: its new HEAD and the commits since the pin.
fn committed(
    project: &ProjectCommit,
    topic: &str,
    message: &str,
) -> Result<Committed, Box<CommitError>> {
    let read_error = |source| {
        Box::new(CommitError::Read {
            path: project.path.clone(),
            source,
            undo_failures: Vec::new(),
        })
    };
    // The usual case, one new commit on the pin, needs no git at all: the topic branch's ref
    // file names it, and its subject is the message's first line.
    if project.commit
        && project.from == Some(project.head)
        && let Some(to) = loose_ref(&project.git_dir, topic)
    {
        let subject = message.trim_start().lines().next().unwrap_or("").to_owned();
        return Ok(Committed {
            path: project.path.clone(),
            from: project.from,
            to,
            made: true,
            attach: project.attach,
            commits: vec![(to, subject)],
            count: 1,
            rewinds: false,
        });
    }
    // Otherwise one `git log` gives the new HEAD (its first line) and the commits since the pin.
    let (to, commits, count) = match project.from {
        Some(from) if !project.rewinds => {
            let log = git(&project.dir)
                .args([
                    "log",
                    "--format=%H %s",
                    &format!("--max-count={}", LISTED_COMMITS + 1),
                    &format!("{from}..HEAD"),
                ])
                .run()
                .map_err(read_error)?;
            let mut commits: Vec<(ObjectId, String)> = log
                .lines()
                .filter_map(|line| {
                    let (id, subject) = line.split_once(' ').unwrap_or((line, ""));
                    ObjectId::from_hex(id.as_bytes())
                        .ok()
                        .map(|id| (id, subject.to_owned()))
                })
                .collect();
            let to = match commits.first() {
                Some((id, _)) => *id,
                None => rev_parse(&project.dir, "HEAD")
                    .map_err(read_error)?
                    .ok_or_else(|| read_error(no_head()))?,
            };
            let count = if commits.len() > LISTED_COMMITS {
                commits.truncate(LISTED_COMMITS);
                meta_workflow::git::count(&project.dir, &[&format!("{from}..{to}")])
                    .map_err(read_error)?
            } else {
                commits.len()
            };
            (to, commits, count)
        }
        _ => {
            let to = rev_parse(&project.dir, "HEAD")
                .map_err(read_error)?
                .ok_or_else(|| read_error(no_head()))?;
            (to, Vec::new(), 0)
        }
    };
    Ok(Committed {
        path: project.path.clone(),
        from: project.from,
        to,
        made: project.commit,
        attach: project.attach,
        commits,
        count,
        rewinds: project.rewinds,
    })
}

/// Runs `work` on every item, a few at a time (git processes wait on the disk as much as on
/// the CPU), results in the items' order.
pub(crate) fn in_parallel<I: Sync, T: Send>(items: &[I], work: impl Fn(&I) -> T + Sync) -> Vec<T> {
    let jobs = std::thread::available_parallelism()
        .map_or(4, std::num::NonZero::get)
        .saturating_mul(2)
        .clamp(1, 8);
    crate::remote::parallel(items, jobs, work)
}

/// The commit `refs/heads/BRANCH` names, read from its loose ref file (where `git commit`
/// writes it); `None` when it is elsewhere (packed, a reftable, a linked worktree's common
/// folder), and the caller asks git.
fn loose_ref(git_dir: &Path, branch: &str) -> Option<ObjectId> {
    let text = std::fs::read_to_string(git_dir.join("refs/heads").join(branch)).ok()?;
    ObjectId::from_hex(text.trim_end().as_bytes()).ok()
}

/// HEAD names no commit after a commit: git said it succeeded, so this should not happen.
fn no_head() -> GitError {
    GitError::Failed {
        command: "git rev-parse HEAD".to_owned(),
        code: None,
        stderr: "HEAD names no commit".to_owned(),
    }
}

/// The journal's request, read back.
#[derive(Debug, Deserialize)]
struct JournaledRequest {
    options: CommitOptions,
    projects: Vec<String>,
}

/// What an interrupted commit left, once dealt with.
#[derive(Debug)]
pub struct Recovered {
    pub topic: String,
    /// The repositories put back, in the order they were changed.
    pub repos: Vec<String>,
}

/// Undoes an interrupted `meta commit` from its journal: every repository as it was before.
pub fn abort_commit(root: &Path) -> Result<Recovered, RecoverError> {
    let journal = Journal::resume(root)?;
    let record = journal.record().clone();
    if record.operation != "commit" {
        return Err(RecoverError::OtherOperation(record.operation));
    }
    journal.undo().map_err(RecoverError::Undo)?;
    Ok(Recovered {
        topic: record.topic,
        repos: record.repos.into_iter().map(|r| r.path).collect(),
    })
}

/// Finishes an interrupted `meta commit`: puts everything back, then makes the same commit
/// again (same projects, message and options), planned and checked like the first time.
pub fn continue_commit(
    root: &Path,
    projects: &[Project],
) -> Result<(CommitPlan, CommitOutcome), RecoverError> {
    let journal = Journal::resume(root)?;
    let record = journal.record().clone();
    if record.operation != "commit" {
        return Err(RecoverError::OtherOperation(record.operation));
    }
    let request: JournaledRequest =
        serde_json::from_value(record.request.clone()).map_err(RecoverError::Request)?;
    journal.undo().map_err(RecoverError::Undo)?;
    let selected: Vec<Project> = projects
        .iter()
        .filter(|p| request.projects.contains(&p.path))
        .cloned()
        .collect();
    let plan = plan_commit(&CommitRequest {
        root,
        projects: &selected,
        options: request.options,
    })?;
    let outcome = plan.apply()?;
    Ok((plan, outcome))
}

/// Why an interrupted commit could not be finished or undone.
#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("the interrupted operation is a `meta {0}`, not a `meta commit`")]
    OtherOperation(String),
    #[error("the journal's request is unreadable")]
    Request(#[source] serde_json::Error),
    #[error("some repositories could not be put back: {}", .0.iter().map(|(p, e)| format!("{}: {e}", place(p))).collect::<Vec<_>>().join("; "))]
    Undo(Vec<(String, JournalError)>),
    #[error(transparent)]
    Plan(#[from] ChangeError),
    #[error(transparent)]
    Commit(#[from] Box<CommitError>),
}

#[cfg(test)]
mod tests {
    use super::with_trailer;

    #[test]
    fn the_topic_trailer_joins_a_trailer_block_or_starts_one() {
        assert_eq!(with_trailer("Fix\n", "t"), "Fix\n\nMeta-Topic: t");
        assert_eq!(
            with_trailer("Fix\n\nBecause: reasons and more words", "t"),
            "Fix\n\nBecause: reasons and more words\nMeta-Topic: t"
        );
        assert_eq!(
            with_trailer("Fix\n\nWhy it matters.\n\nSigned-off-by: A <a@b>", "t"),
            "Fix\n\nWhy it matters.\n\nSigned-off-by: A <a@b>\nMeta-Topic: t"
        );
        assert_eq!(
            with_trailer("Fix\n\nWhy it matters.", "t"),
            "Fix\n\nWhy it matters.\n\nMeta-Topic: t"
        );
        assert_eq!(
            with_trailer("Fix\n\nMeta-Topic: t", "t"),
            "Fix\n\nMeta-Topic: t"
        );
    }
}

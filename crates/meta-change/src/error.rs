//! Errors of the change workflow: refusals (nothing was changed, each names the repository,
//! the ref and the fix) and failures to read a repository.

use meta_repo::{ObjectId, ProjectsError};
use meta_workflow::GitError;

/// Why a change was refused before anything was written. `path` is the project's path
/// relative to the root, or `.` for the superproject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "`{name}` cannot be a branch name: it starts with `-`, so git could read it as an option"
    )]
    NameLooksLikeOption { name: String },
    #[error("`{name}` cannot be a branch name: {reason}")]
    BadName { name: String, reason: String },
    #[error("the superproject is not on a branch (HEAD detached at {head})")]
    SuperprojectDetached { head: String },
    #[error("{} is in the middle of a {operation}", place(path))]
    InProgress {
        path: String,
        operation: crate::InProgress,
    },
    #[error("{} has {files} conflicted file{}", place(path), if *files == 1 { "" } else { "s" })]
    Conflicts { path: String, files: usize },
    #[error("{} has no commit yet (HEAD is unborn)", place(path))]
    Unborn { path: String },
    #[error(
        "`{path}`: branch `{name}` exists at {tip}, which does not contain the start point {start}"
    )]
    Unrelated {
        path: String,
        name: String,
        tip: ObjectId,
        start: ObjectId,
    },
    #[error(
        "`{path}`: branch `{name}` is checked out at {tip}, which does not contain the start point {start}; moving it would change files"
    )]
    CheckedOutElsewhere {
        path: String,
        name: String,
        tip: ObjectId,
        start: ObjectId,
    },
    #[error(
        "the superproject's branch `{name}` is at {tip}, ahead of HEAD {head}; checking it out would change files"
    )]
    SuperprojectBranchAhead {
        name: String,
        tip: ObjectId,
        head: ObjectId,
    },
    #[error("`{path}`: its pin {} is not in its repository", short(pin))]
    PinMissing { path: String, pin: ObjectId },
    #[error("`{path}`: the superproject's index holds conflicting pins for it")]
    PinConflict { path: String },
    #[error("there is no topic `{name}` (no such branch in the superproject)")]
    UnknownTopic { name: String, close: Vec<String> },
    #[error("{} has {files} changed file{} (staged or modified)", place(path), if *files == 1 { "" } else { "s" })]
    Dirty { path: String, files: usize },
    #[error(
        "`{path}`: the pin {} that the topic records is not in its repository",
        short(pin)
    )]
    PinNotFetched { path: String, pin: ObjectId },
    #[error("the superproject is on the topic `{name}`")]
    OnAbandonedTopic { name: String },
    #[error("`{path}`: branch `{name}` has {commits} commit{} that no remote-tracking ref holds", if *commits == 1 { "" } else { "s" })]
    Unpushed {
        path: String,
        name: String,
        commits: usize,
    },
    #[error("no abandoned topic `{name}` to bring back (no `refs/meta/abandoned/{name}/…`)")]
    NothingAbandoned { name: String },
    #[error("the commit message is empty")]
    EmptyMessage,
    #[error("nothing to commit: no selected project has {}, and nothing is staged in the superproject", if *record_only { "commits its pin lacks" } else if *all { "changes to tracked files" } else { "staged changes" })]
    NothingToCommit { all: bool, record_only: bool },
    #[error(
        "`{path}`: recording {} would move its pin backwards from {} (HEAD does not descend from the pin)",
        short(to),
        short(from)
    )]
    Rewind {
        path: String,
        from: ObjectId,
        to: ObjectId,
    },
    #[error(
        "`{path}`: HEAD {} is not on the topic branch `{name}`, which is at {}",
        short(head),
        short(tip)
    )]
    TopicElsewhere {
        path: String,
        name: String,
        tip: ObjectId,
        head: ObjectId,
    },
}

/// A repository as people read it in messages: `src/x`, or the superproject.
fn place(path: &str) -> String {
    if path == crate::SUPERPROJECT {
        "the superproject".to_owned()
    } else {
        format!("`{path}`")
    }
}

/// A commit as people read it in messages (the full id is in the data).
fn short(id: &ObjectId) -> String {
    id.to_hex_with_len(7).to_string()
}

impl Refusal {
    /// The repository it is about (`.` for the superproject), when it is about one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Refusal::NameLooksLikeOption { .. }
            | Refusal::BadName { .. }
            | Refusal::UnknownTopic { .. }
            | Refusal::EmptyMessage
            | Refusal::NothingAbandoned { .. }
            | Refusal::NothingToCommit { .. } => None,
            Refusal::OnAbandonedTopic { .. } => Some(crate::SUPERPROJECT),
            Refusal::SuperprojectDetached { .. } | Refusal::SuperprojectBranchAhead { .. } => {
                Some(crate::SUPERPROJECT)
            }
            Refusal::InProgress { path, .. }
            | Refusal::Conflicts { path, .. }
            | Refusal::Unborn { path }
            | Refusal::Unrelated { path, .. }
            | Refusal::CheckedOutElsewhere { path, .. }
            | Refusal::PinMissing { path, .. }
            | Refusal::PinConflict { path }
            | Refusal::Dirty { path, .. }
            | Refusal::PinNotFetched { path, .. }
            | Refusal::Rewind { path, .. }
            | Refusal::Unpushed { path, .. }
            | Refusal::TopicElsewhere { path, .. } => Some(path),
        }
    }

    /// What to do about it.
    pub fn fix(&self) -> String {
        let at = |path: &str| {
            if path == crate::SUPERPROJECT {
                "at the root".to_owned()
            } else {
                format!("in `{path}`")
            }
        };
        match self {
            Refusal::NameLooksLikeOption { .. } | Refusal::BadName { .. } => {
                "pick another name, such as `feature/short-description`".to_owned()
            }
            Refusal::SuperprojectDetached { .. } => {
                "check out a branch in the superproject first (`git switch main`, or `git switch -c NAME` to keep this commit), then run it again".to_owned()
            }
            Refusal::InProgress { path, operation } => format!(
                "finish or abort the {operation} {} (`git {} --continue` or `git {} --abort`), then run it again",
                at(path),
                operation.command(),
                operation.command()
            ),
            Refusal::Conflicts { path, .. } => format!(
                "resolve the conflicts {} (`git status` lists them) and `git add` the files, then run it again",
                at(path)
            ),
            Refusal::Unborn { path } => format!("make a first commit {}", at(path)),
            Refusal::Unrelated { name, path, .. } => format!(
                "`--reset` moves `{name}` to the start point and keeps the old tip as `{}` in that repository; or pick another name",
                crate::abandoned_ref(name, path)
            ),
            Refusal::CheckedOutElsewhere { name, path, .. } => format!(
                "`--from head` keeps `{name}` where it is in `{path}`; or switch away from it there (`git switch -`) and use `--reset`"
            ),
            Refusal::SuperprojectBranchAhead { name, .. } => format!(
                "check it out yourself (`git switch {name}`), or `--reset` to move it to HEAD, keeping the old tip as `{}`",
                crate::abandoned_ref(name, crate::SUPERPROJECT)
            ),
            Refusal::PinMissing { path, .. } => format!(
                "`meta sync {path}` fetches it (when the project has no work to protect), or `--from head` starts from HEAD"
            ),
            Refusal::PinConflict { .. } => {
                "finish the superproject's merge first (`git status` at the root)".to_owned()
            }
            Refusal::UnknownTopic { close, .. } if !close.is_empty() => format!(
                "did you mean {}? `meta branches` lists the topics",
                close.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            ),
            Refusal::UnknownTopic { name, .. } => format!(
                "`meta branches` lists the topics; `meta branch {name}` creates it"
            ),
            Refusal::Dirty { path, .. } => format!(
                "commit or stash them {} (`git status` lists them), or `--autostash` stashes and restores them",
                at(path)
            ),
            Refusal::PinNotFetched { path, .. } => format!(
                "fetch it (`git -C {path} fetch origin`), then run it again"
            ),
            Refusal::OnAbandonedTopic { .. } => {
                "switch the superproject to another topic first (`meta switch main`), then abandon it".to_owned()
            }
            Refusal::Unpushed { name, .. } => format!(
                "push it first (`meta push` on `{name}`), or `--force` abandons it anyway: the tip stays under `refs/meta/abandoned/{name}/` and `meta abandon {name} --undo` brings it back"
            ),
            Refusal::NothingAbandoned { .. } => {
                "`git for-each-ref refs/meta/abandoned/` lists what was kept".to_owned()
            }
            Refusal::EmptyMessage => "say what the change does with `-m MESSAGE`".to_owned(),
            Refusal::NothingToCommit { all, record_only } => {
                if *record_only {
                    "commit in the projects first (`git commit` there), or drop `--record-only` to commit their staged changes".to_owned()
                } else if *all {
                    "change some files first; `meta status` shows every project's state".to_owned()
                } else {
                    "stage changes in the projects (`git -C PATH add FILE`), or `-a` to commit every modified tracked file; `--record-only` records commits made with git".to_owned()
                }
            }
            Refusal::Rewind { path, from, .. } => format!(
                "if going back is intended, `--allow-rewind` records it; else bring `{path}` onto the pin first (`git -C {path} merge {}` or `rebase`)",
                short(from)
            ),
            Refusal::TopicElsewhere { path, name, .. } => format!(
                "`meta switch {name}` puts every project on the topic (or `git -C {path} switch {name}`); then commit there"
            ),
        }
    }
}

/// Why a change could not be planned or read.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// Nothing was changed; every reason is listed.
    #[error("refused: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Refused(Vec<Refusal>),
    #[error("cannot read the projects of the meta-repo")]
    Projects(#[from] ProjectsError),
    #[error("cannot read `{path}`")]
    Git {
        path: String,
        #[source]
        source: GitError,
    },
}

pub(crate) fn git_error(path: &str) -> impl FnOnce(GitError) -> ChangeError + '_ {
    move |source| ChangeError::Git {
        path: path.to_owned(),
        source,
    }
}

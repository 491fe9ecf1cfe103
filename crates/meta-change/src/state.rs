//! What a repository is in the middle of, and where its HEAD is: the facts every change
//! command checks before it plans.

use std::path::Path;

use meta_repo::ObjectId;
use meta_workflow::GitError;
use meta_workflow::git::{absolute_git_dir, git, rev_parse, symbolic_ref};

/// A git operation stopped half-way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InProgress {
    Merge,
    Rebase,
    CherryPick,
    Revert,
    Bisect,
}

impl InProgress {
    /// The git command that continues or aborts it.
    pub fn command(self) -> &'static str {
        match self {
            InProgress::Merge => "merge",
            InProgress::Rebase => "rebase",
            InProgress::CherryPick => "cherry-pick",
            InProgress::Revert => "revert",
            InProgress::Bisect => "bisect",
        }
    }
}

impl std::fmt::Display for InProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.command())
    }
}

/// A repository as a change command sees it before acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoState {
    /// The commit checked out (`None`: no commit yet).
    pub head: Option<ObjectId>,
    /// The branch checked out (`None`: detached).
    pub branch: Option<String>,
    pub in_progress: Option<InProgress>,
    /// Paths with unmerged index entries.
    pub conflicted: usize,
}

impl RepoState {
    /// Reads the repository whose work tree is `dir`. Runs only reading git commands.
    pub fn read(dir: &Path) -> Result<Self, GitError> {
        let git_dir = absolute_git_dir(dir)?;
        let exists = |name: &str| git_dir.join(name).exists();
        let in_progress = if exists("rebase-merge") || exists("rebase-apply") {
            Some(InProgress::Rebase)
        } else if exists("MERGE_HEAD") {
            Some(InProgress::Merge)
        } else if exists("CHERRY_PICK_HEAD") {
            Some(InProgress::CherryPick)
        } else if exists("REVERT_HEAD") {
            Some(InProgress::Revert)
        } else if exists("BISECT_LOG") {
            Some(InProgress::Bisect)
        } else {
            None
        };
        let unmerged = git(dir).args(["ls-files", "-u", "-z"]).run()?;
        let mut paths: Vec<&str> = unmerged
            .split('\0')
            .filter_map(|entry| entry.split_once('\t').map(|(_, path)| path))
            .collect();
        paths.dedup();
        let branch = symbolic_ref(dir, "HEAD", "refs/heads/")?;
        Ok(Self {
            head: rev_parse(dir, "HEAD")?,
            branch,
            in_progress,
            conflicted: paths.len(),
        })
    }
}

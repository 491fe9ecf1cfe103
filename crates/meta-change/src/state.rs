//! What a repository is in the middle of, and where its HEAD is: the facts every change
//! command checks before it plans.

use std::path::{Path, PathBuf};

use meta_repo::ObjectId;
use meta_workflow::GitError;
use meta_workflow::git::{absolute_git_dir, git};

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
    /// Tracked paths whose index differs from HEAD.
    pub staged: usize,
    /// Tracked paths whose work tree differs from the index.
    pub unstaged: usize,
    /// The repository's git folder.
    pub git_dir: PathBuf,
}

impl RepoState {
    /// Reads the repository whose work tree is `dir`: one `git status` (which never takes
    /// the index lock here) and a look at the git folder. Submodules of the repository are
    /// not looked into (in the superproject that would be a status of every project): their
    /// changes count neither as staged nor as unstaged.
    pub fn read(dir: &Path) -> Result<Self, GitError> {
        let git_dir = git_dir(dir)?;
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
        let out = git(dir)
            .args([
                "--no-optional-locks",
                "status",
                "--porcelain=v2",
                "--branch",
                "-z",
                "--untracked-files=no",
                "--ignore-submodules=all",
            ])
            .run()?;
        let mut state = Self {
            head: None,
            branch: None,
            in_progress,
            conflicted: 0,
            staged: 0,
            unstaged: 0,
            git_dir,
        };
        let mut entries = out.split('\0');
        while let Some(entry) = entries.next() {
            if let Some(oid) = entry.strip_prefix("# branch.oid ") {
                state.head = ObjectId::from_hex(oid.as_bytes()).ok();
            } else if let Some(head) = entry.strip_prefix("# branch.head ") {
                state.branch = (head != "(detached)").then(|| head.to_owned());
            } else if let Some(rest) = entry
                .strip_prefix("1 ")
                .or_else(|| entry.strip_prefix("2 "))
            {
                let mut xy = rest.chars();
                if xy.next().is_some_and(|x| x != '.') {
                    state.staged += 1;
                }
                if xy.next().is_some_and(|y| y != '.') {
                    state.unstaged += 1;
                }
                // A rename or copy carries its original path as the next entry.
                if entry.starts_with('2') {
                    entries.next();
                }
            } else if entry.starts_with("u ") {
                state.conflicted += 1;
            }
        }
        Ok(state)
    }
}

/// The git folder of the work tree `dir`, read as git reads it (`.git` a folder, or a file
/// `gitdir: PATH`), asking git only for layouts beyond those two.
pub fn git_dir(dir: &Path) -> Result<PathBuf, GitError> {
    let dot_git = dir.join(".git");
    if dot_git.is_dir() {
        return Ok(dot_git);
    }
    if let Ok(text) = std::fs::read_to_string(&dot_git)
        && let Some(target) = text.strip_prefix("gitdir: ")
    {
        let target = Path::new(target.trim_end_matches(['\n', '\r']));
        let resolved = dir.join(target);
        if resolved.is_dir() {
            return Ok(resolved);
        }
    }
    absolute_git_dir(dir)
}

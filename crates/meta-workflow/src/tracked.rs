//! The tracked branch of a project: the branch its work starts from and lands on. `branch` in
//! `.gitmodules` (`.` meaning the superproject's current branch), else the branch the
//! project's remote calls its default (`refs/remotes/origin/HEAD`). `meta sync` attaches to it
//! and the change workflow (`meta-change`) starts topics from it and compares them with it.

use std::collections::HashMap;
use std::path::Path;

use crate::git::{GitError, git, looks_like_option, symbolic_ref};

/// The rule, with `.gitmodules` read once for many projects.
#[derive(Debug, Clone, Default)]
pub struct TrackedBranches {
    /// `branch` from `.gitmodules`, by submodule name (`.` already resolved).
    from_gitmodules: HashMap<String, String>,
}

impl TrackedBranches {
    /// Reads the `branch` keys of the `.gitmodules` of the meta-repo at `root`. A missing or
    /// unreadable file means no project names a branch there.
    pub fn read(root: &Path) -> Self {
        Self {
            from_gitmodules: gitmodules_branches(root),
        }
    }

    /// The branch the project `submodule_name`, checked out at `dir`, follows. `None` when
    /// `.gitmodules` names none and the remote's default is unknown. Names that could read as
    /// options are never returned.
    pub fn of(&self, dir: &Path, submodule_name: &str) -> Result<Option<String>, GitError> {
        let branch = if let Some(branch) = self.from_gitmodules.get(submodule_name) {
            Some(branch.clone())
        } else {
            symbolic_ref(dir, "refs/remotes/origin/HEAD", "refs/remotes/origin/")?
        };
        Ok(branch.filter(|b| !b.is_empty() && !looks_like_option(b)))
    }
}

/// `branch` of every `.gitmodules` entry that has one, by submodule name; `.` (follow the
/// superproject's branch) resolved to the superproject's current branch.
fn gitmodules_branches(root: &Path) -> HashMap<String, String> {
    let mut branches = HashMap::new();
    let Ok(listing) = git(root)
        .args([
            "config",
            "-f",
            ".gitmodules",
            "--get-regexp",
            r"^submodule\..*\.branch$",
        ])
        .run()
    else {
        return branches;
    };
    let superproject_branch = || {
        git(root)
            .args(["symbolic-ref", "-q", "--short", "HEAD"])
            .run()
            .ok()
            .map(|b| b.trim().to_owned())
    };
    for line in listing.lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        let Some(name) = key
            .strip_prefix("submodule.")
            .and_then(|k| k.strip_suffix(".branch"))
        else {
            continue;
        };
        let branch = if value == "." {
            match superproject_branch() {
                Some(b) => b,
                None => continue,
            }
        } else {
            value.to_owned()
        };
        branches.insert(name.to_owned(), branch);
    }
    branches
}

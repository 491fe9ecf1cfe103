//! `meta project remove`: a project out of the meta-repo, leaving no trace in `.gitmodules`,
//! the index, `.git/config` or `.git/modules` — and never taking work with it unless forced.
//!
//! Work is anything that would be lost: staged, modified, conflicted or untracked files in the
//! checkout, and commits (on HEAD, any branch or tag, or the stash) that no remote-tracking
//! branch holds — in the checkout, or in the repository git kept for a project that is no
//! longer checked out.

use std::path::{Component, Path, PathBuf};

use meta_repo::{Project, ProjectsError, StatusError};

use crate::add::prune_empty_parents;
use crate::git::{GitError, absolute_git_dir, git};

/// The project as it was before removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub path: String,
    pub name: String,
    pub group: Option<String>,
    pub url: Option<String>,
    /// The superproject's last commit held it, so the removal is a change to commit (else
    /// it was added since, and removing it undid that).
    pub was_committed: bool,
}

/// What removing a project would lose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalWork {
    pub staged: usize,
    pub modified: usize,
    pub untracked: usize,
    pub conflicted: usize,
    /// Commits no remote-tracking branch holds.
    pub unpushed: usize,
}

impl LocalWork {
    pub fn is_empty(&self) -> bool {
        *self == LocalWork::default()
    }
}

impl std::fmt::Display for LocalWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        let mut add = |n: usize, what: &str| {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        };
        add(self.conflicted, "conflicted");
        add(self.staged.saturating_sub(self.conflicted), "staged");
        add(self.modified.saturating_sub(self.conflicted), "modified");
        add(self.untracked, "untracked");
        if self.unpushed > 0 {
            parts.push(format!(
                "{} commit{} no remote has",
                self.unpushed,
                if self.unpushed == 1 { "" } else { "s" }
            ));
        }
        f.write_str(&parts.join(", "))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error("`{0}` is not a project of this meta-repo")]
    NotAProject(String),
    #[error("`{path}` holds work that removing it would lose: {work}")]
    HasWork { path: String, work: LocalWork },
    #[error(transparent)]
    Projects(#[from] ProjectsError),
    #[error("cannot read the status of `{path}`")]
    Status {
        path: String,
        #[source]
        source: StatusError,
    },
    #[error("cannot tell what `{path}` holds")]
    Inspect {
        path: String,
        #[source]
        source: GitError,
    },
    #[error("removing `{path}` stopped part-way: {done}")]
    Git {
        path: String,
        done: String,
        #[source]
        source: GitError,
    },
    #[error("cannot delete `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the meta-repo at `{}` is not a git repository", .0.display())]
    NotGit(PathBuf),
}

/// The project at `path` (relative to the root, `/`-separated), if there is one.
pub fn find_project(root: &Path, path: &str) -> Result<Option<Project>, ProjectsError> {
    let path = path.trim_end_matches('/');
    Ok(meta_repo::list_projects(root)?
        .projects
        .into_iter()
        .find(|p| p.path == path))
}

/// What removing `project` would lose (nothing for a project never checked out).
pub fn local_work(root: &Path, project: &Project) -> Result<LocalWork, RemoveError> {
    let mut work = LocalWork::default();
    let work_dir = root.join(&project.path);
    let checked_out = std::fs::symlink_metadata(work_dir.join(".git")).is_ok();
    let repo_dir = if checked_out {
        let status = meta_repo::project_status(
            root,
            &Project {
                active: true,
                ..project.clone()
            },
        )
        .map_err(|source| RemoveError::Status {
            path: project.path.clone(),
            source,
        })?;
        work.staged = status.staged;
        work.modified = status.modified;
        work.untracked = status.untracked;
        work.conflicted = status.conflicted;
        Some(git(&work_dir))
    } else {
        // Not checked out, but git may still keep its repository, commits and all.
        let git_dir =
            absolute_git_dir(root).map_err(|_| RemoveError::NotGit(root.to_path_buf()))?;
        // Named as both git folder and work tree: its `core.worktree` points at the
        // checkout, which may be gone, and git would fail trying to enter it.
        modules_dir(&git_dir, project)
            .filter(|dir| dir.is_dir())
            .map(|dir| {
                let option = |name: &str| {
                    let mut option = std::ffi::OsString::from(name);
                    option.push(&dir);
                    option
                };
                git(&dir)
                    .arg(option("--git-dir="))
                    .arg(option("--work-tree="))
            })
    };
    if let Some(repo) = repo_dir {
        work.unpushed = unpushed_commits(&repo).map_err(|source| RemoveError::Inspect {
            path: project.path.clone(),
            source,
        })?;
    }
    Ok(work)
}

/// Commits on HEAD, a branch, a tag or the stash that no remote-tracking branch holds, in the
/// repository `repo` (git with its options to find it) names.
fn unpushed_commits(repo: &crate::git::Git) -> Result<usize, GitError> {
    let has_head = repo
        .clone()
        .args(["rev-parse", "-q", "--verify", "HEAD^{commit}"])
        .succeeds()?;
    let mut rev_list = repo.clone().args(["rev-list", "--count"]);
    if has_head {
        rev_list = rev_list.arg("HEAD");
    }
    let out = rev_list
        .args([
            "--branches",
            "--tags",
            "--glob=refs/stash",
            "--not",
            "--remotes",
        ])
        .run()?;
    Ok(out.trim().parse().unwrap_or(0))
}

/// `.git/modules/<submodule name>`, where git keeps a submodule's repository, when the name
/// stays inside that folder.
fn modules_dir(git_dir: &Path, project: &Project) -> Option<PathBuf> {
    let name = project.submodule_name.as_deref().unwrap_or(&project.path);
    let relative = Path::new(name);
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| git_dir.join("modules").join(relative))
}

/// Removes the project at `path`: refuses when it holds work, unless `force`.
pub fn remove_project(root: &Path, path: &str, force: bool) -> Result<Removed, RemoveError> {
    let project =
        find_project(root, path)?.ok_or_else(|| RemoveError::NotAProject(path.to_owned()))?;
    if !force {
        let work = local_work(root, &project)?;
        if !work.is_empty() {
            return Err(RemoveError::HasWork {
                path: project.path,
                work,
            });
        }
    }
    let git_dir = absolute_git_dir(root).map_err(|_| RemoveError::NotGit(root.to_path_buf()))?;
    // Fails only without a first commit, when nothing was committed indeed.
    let was_committed = git(root)
        .args(["ls-tree", "HEAD", "--", &project.path])
        .run()
        .is_ok_and(|entry| !entry.trim().is_empty());
    let work_dir = root.join(&project.path);
    let mut done: Vec<&str> = Vec::new();
    let step = |done: &Vec<&str>, command: crate::git::Git| -> Result<(), RemoveError> {
        command.run().map(drop).map_err(|source| RemoveError::Git {
            path: project.path.clone(),
            done: if done.is_empty() {
                "nothing was changed yet".to_owned()
            } else {
                format!("done so far: {}", done.join(", "))
            },
            source,
        })
    };

    // A checkout holding its own `.git` folder is moved under `.git/modules` first, as
    // `deinit` requires.
    if work_dir.join(".git").is_dir() {
        step(
            &done,
            git(root).args(["submodule", "absorbgitdirs", "--", &project.path]),
        )?;
    }
    if project.pinned.is_some() || project.pin_conflicted {
        // Empties the checkout and drops `submodule.<name>` from `.git/config`.
        step(
            &done,
            git(root).args(["submodule", "deinit", "-q", "-f", "--", &project.path]),
        )?;
        done.push("checkout emptied");
        // Drops the gitlink and the `.gitmodules` section, and stages both.
        step(
            &done,
            git(root).args(["rm", "-q", "-f", "--", &project.path]),
        )?;
        done.push("gitlink removed");
    }
    if let Some(name) = &project.submodule_name {
        if section_exists(root, &[], name)? {
            step(
                &done,
                git(root)
                    .args(["config", "-f", ".gitmodules", "--remove-section"])
                    .arg(format!("submodule.{name}")),
            )?;
            step(&done, git(root).args(["add", "--", ".gitmodules"]))?;
        }
        done.push("`.gitmodules` entry removed");
        if section_exists(root, &["--local"], name)? {
            step(
                &done,
                git(root)
                    .args(["config", "--local", "--remove-section"])
                    .arg(format!("submodule.{name}")),
            )?;
        }
        done.push("`.git/config` entry removed");
    }
    if let Some(kept) = modules_dir(&git_dir, &project) {
        remove_tree(&kept)?;
        prune_empty_parents(&kept, &git_dir.join("modules"));
    }
    remove_tree(&work_dir)?;
    prune_empty_parents(&work_dir, &root.join("src"));
    Ok(Removed {
        url: project.url().map(str::to_owned),
        path: project.path,
        name: project.name,
        group: project.group,
        was_committed,
    })
}

/// Does the config (`.gitmodules` when `scope` is empty, else the given scope) have a
/// `[submodule "<name>"]` section?
fn section_exists(root: &Path, scope: &[&str], name: &str) -> Result<bool, RemoveError> {
    let mut command = git(root).arg("config");
    command = if scope.is_empty() {
        command.args(["-f", ".gitmodules"])
    } else {
        command.args(scope)
    };
    let out = command
        .args(["--list", "--name-only"])
        .output()
        .map_err(|source| RemoveError::Inspect {
            path: name.to_owned(),
            source,
        })?;
    let prefix = format!("submodule.{name}.");
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|key| key.starts_with(&prefix)))
}

fn remove_tree(path: &Path) -> Result<(), RemoveError> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(RemoveError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

//! What is wrong with the projects of a meta-repo, as data: `meta health` words it and decides
//! how serious each finding is.

use std::path::Path;

use gix::ObjectId;

use crate::error::StatusError;
use crate::project::{Project, Projects};
use crate::status::ProjectStatus;

/// One thing worth telling about a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Listed (and pinned) but not initialised.
    NotInitialized { path: String },
    /// Checked out at another commit than the pin.
    OffPin {
        path: String,
        head: ObjectId,
        pinned: Option<ObjectId>,
    },
    /// HEAD is detached on `commits` commits that no branch, tag or remote-tracking branch
    /// holds: switching away would leave them to the reflog alone.
    WorkAtRisk {
        path: String,
        head: ObjectId,
        commits: usize,
    },
    /// `.git/config` fetches from another URL than `.gitmodules` says.
    UrlDiffers {
        path: String,
        gitmodules_url: String,
        config_url: String,
    },
    /// Listed in `.gitmodules` but the index has no gitlink for it, so nothing pins it.
    NoGitlink { path: String },
    /// The index has a gitlink that `.gitmodules` does not list: `git submodule` commands stop
    /// on it.
    NotInGitmodules { path: String },
    /// The superproject's index holds conflicting pins for it.
    PinConflict { path: String },
    /// A `.gitmodules` entry with a path that cannot be used.
    InvalidEntry { name: String, reason: String },
    /// Its status could not be read.
    Unreadable { path: String, error: String },
}

/// Everything worth telling about the projects, given their statuses (in the same order).
/// Looks into repositories only to tell work at risk (a walk from each detached HEAD).
pub fn findings(
    root: &Path,
    projects: &Projects,
    statuses: &[Result<ProjectStatus, StatusError>],
) -> Vec<Finding> {
    let mut found = Vec::new();
    for entry in &projects.invalid {
        found.push(Finding::InvalidEntry {
            name: entry.submodule_name.clone(),
            reason: entry.reason.clone(),
        });
    }
    for (project, status) in projects.projects.iter().zip(statuses) {
        let path = project.path.clone();
        if project.submodule_name.is_none() {
            found.push(Finding::NotInGitmodules { path: path.clone() });
        } else if project.pinned.is_none() && !project.pin_conflicted {
            found.push(Finding::NoGitlink { path: path.clone() });
        }
        if project.pin_conflicted {
            found.push(Finding::PinConflict { path: path.clone() });
        }
        if let (Some(gitmodules_url), Some(config_url)) =
            (&project.gitmodules_url, &project.config_url)
            && gitmodules_url != config_url
        {
            found.push(Finding::UrlDiffers {
                path: path.clone(),
                gitmodules_url: gitmodules_url.clone(),
                config_url: config_url.clone(),
            });
        }
        let status = match status {
            Ok(status) => status,
            Err(error) => {
                found.push(Finding::Unreadable {
                    path,
                    error: crate::describe_chain(error),
                });
                continue;
            }
        };
        if !status.initialized {
            if project.pinned.is_some() {
                found.push(Finding::NotInitialized { path });
            }
            continue;
        }
        if let Some(head) = status.head {
            if !status.on_pin && project.pinned.is_some() {
                found.push(Finding::OffPin {
                    path: path.clone(),
                    head,
                    pinned: project.pinned,
                });
            }
            if status.detached {
                match commits_only_head_holds(root, project) {
                    Ok(0) => {}
                    Ok(commits) => found.push(Finding::WorkAtRisk {
                        path,
                        head,
                        commits,
                    }),
                    Err(error) => found.push(Finding::Unreadable {
                        path,
                        error: crate::describe_chain(&error),
                    }),
                }
            }
        }
    }
    found
}

/// Commits reachable from the project's HEAD but from no branch, tag or remote-tracking branch.
pub fn commits_only_head_holds(root: &Path, project: &Project) -> Result<usize, StatusError> {
    let error = |what: &'static str| {
        let path = project.path.clone();
        move |source| StatusError::Git {
            path: path.clone(),
            what,
            source,
        }
    };
    let repo = crate::open_repo(&root.join(&project.path)).map_err(|source| StatusError::Open {
        path: project.path.clone(),
        source,
    })?;
    let Some(head) = repo.head_id().ok().map(gix::Id::detach) else {
        return Ok(0);
    };
    let mut holders: Vec<ObjectId> = Vec::new();
    let references = repo.references().map_err(error("the references"))?;
    for prefix in ["refs/heads/", "refs/remotes/", "refs/tags/"] {
        let refs = references
            .prefixed(prefix)
            .map_err(error("the references"))?;
        for reference in refs {
            let Ok(mut reference) = reference else {
                continue;
            };
            // A tag of a tree or blob holds no commits; skip what does not peel to a commit.
            if let Ok(id) = reference.peel_to_commit().map(|commit| commit.id) {
                holders.push(id);
            }
        }
    }
    if holders.contains(&head) {
        return Ok(0);
    }
    let mut count = 0;
    for info in repo
        .rev_walk([head])
        .with_hidden(holders)
        .all()
        .map_err(error("the history of HEAD"))?
    {
        info.map_err(error("the history of HEAD"))?;
        count += 1;
    }
    Ok(count)
}

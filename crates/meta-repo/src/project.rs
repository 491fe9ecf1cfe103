//! The projects of a meta-repo: every submodule the superproject knows of, from `.gitmodules`,
//! the index's gitlinks and `.git/config`.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use gix::ObjectId;
use gix::bstr::ByteSlice;

use crate::error::ProjectsError;

/// One project (submodule) of the meta-repo, as the superproject describes it. Nothing here
/// looks inside the project's own repository; see [`crate::status`] for that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Path relative to the root, `/`-separated.
    pub path: String,
    /// The folder name (last part of `path`).
    pub name: String,
    /// The first folder under `src/` (`src/libraries/x` → `libraries`), if under `src/`.
    pub group: Option<String>,
    /// The name of its `[submodule "…"]` section; `None` for a gitlink `.gitmodules` lacks.
    pub submodule_name: Option<String>,
    /// The URL in `.gitmodules`, as written there.
    pub gitmodules_url: Option<String>,
    /// `submodule.<name>.url` in the superproject's `.git/config` (set by `git submodule init`).
    pub config_url: Option<String>,
    /// The commit the superproject's index records (what `git submodule status` compares with);
    /// `None` without a gitlink, or while the gitlink is in conflict.
    pub pinned: Option<ObjectId>,
    /// The superproject's index holds conflicting versions of this gitlink.
    pub pin_conflicted: bool,
    /// `git` considers the submodule active (`submodule.active`, `submodule.<name>.active` or
    /// a configured URL), the first half of being initialised.
    pub active: bool,
}

impl Project {
    /// The URL the project fetches from: `.git/config`'s once initialised, else `.gitmodules`'.
    pub fn url(&self) -> Option<&str> {
        self.config_url
            .as_deref()
            .or(self.gitmodules_url.as_deref())
    }

    /// Does the project sit in `group`?
    pub fn in_group(&self, group: &str) -> bool {
        self.group.as_deref() == Some(group)
    }
}

/// A `.gitmodules` entry that cannot be a project, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEntry {
    pub submodule_name: String,
    pub path: String,
    pub reason: String,
}

/// The projects of the meta-repo at `root`, sorted by path.
#[derive(Debug, Clone, Default)]
pub struct Projects {
    pub projects: Vec<Project>,
    /// `.gitmodules` entries skipped because their path is unsafe (absolute, `..`).
    pub invalid: Vec<InvalidEntry>,
    /// False when the root is not a git repository at all (then there are no projects).
    pub is_git: bool,
}

/// Reads the projects of the meta-repo at `root` without changing anything.
///
/// A project is every path that `.gitmodules` lists or the index holds a gitlink for. A root
/// that is not a git repository has no projects.
pub fn list_projects(root: &Path) -> Result<Projects, ProjectsError> {
    if !root.join(".git").exists() {
        return Ok(Projects::default());
    }
    let repo = crate::open_repo(root).map_err(|source| ProjectsError::Open {
        path: root.to_path_buf(),
        source,
    })?;
    let fail = |what: &'static str| {
        let path = root.to_path_buf();
        move |source| ProjectsError::Read {
            path: path.clone(),
            what,
            source,
        }
    };

    let mut by_path: BTreeMap<String, Project> = BTreeMap::new();
    let mut invalid = Vec::new();

    // Gitlinks in the index: the pins.
    let index = repo.index_or_empty().map_err(fail("the index"))?;
    for entry in index.entries() {
        if entry.mode != gix::index::entry::Mode::COMMIT {
            continue;
        }
        let path = entry.path(&index).to_str_lossy().into_owned();
        let project = by_path
            .entry(path.clone())
            .or_insert_with(|| new_project(&path));
        if entry.stage() == gix::index::entry::Stage::Unconflicted {
            project.pinned = Some(entry.id);
        } else {
            project.pin_conflicted = true;
        }
    }

    // `.gitmodules` as written (gix's own view folds `.git/config` overrides into the URL).
    let raw_gitmodules = read_raw_gitmodules(root)?;

    if let Some(submodules) = repo.submodules().map_err(fail(".gitmodules"))? {
        let config = repo.config_snapshot();
        for sm in submodules {
            let name = sm.name().to_str_lossy().into_owned();
            let Ok(path) = sm.path() else {
                invalid.push(InvalidEntry {
                    submodule_name: name,
                    path: String::new(),
                    reason: "it has no usable `path`".to_owned(),
                });
                continue;
            };
            let path = path.to_str_lossy().into_owned();
            if let Err(reason) = check_relative(&path) {
                invalid.push(InvalidEntry {
                    submodule_name: name,
                    path,
                    reason,
                });
                continue;
            }
            let active = sm.is_active().unwrap_or(false);
            let config_url = config
                .string(format!("submodule.{name}.url").as_str())
                .map(|url| url.to_str_lossy().into_owned());
            let gitmodules_url = raw_gitmodules
                .as_ref()
                .and_then(|file| file.url(name.as_bytes().as_bstr()).ok())
                .map(|url| url.to_bstring().to_str_lossy().into_owned());
            let project = by_path
                .entry(path.clone())
                .or_insert_with(|| new_project(&path));
            project.submodule_name = Some(name);
            project.active = active;
            project.config_url = config_url;
            project.gitmodules_url = gitmodules_url;
        }
    }

    Ok(Projects {
        projects: by_path.into_values().collect(),
        invalid,
        is_git: true,
    })
}

fn read_raw_gitmodules(root: &Path) -> Result<Option<gix::submodule::File>, ProjectsError> {
    let path = root.join(".gitmodules");
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ProjectsError::Io { path, source }),
    };
    let no_overrides = gix::config::File::new(gix::config::file::Metadata::api());
    gix::submodule::File::from_bytes(&bytes, Some(path.clone()), &no_overrides)
        .map(Some)
        .map_err(|source| ProjectsError::Read {
            path,
            what: ".gitmodules",
            source,
        })
}

fn new_project(path: &str) -> Project {
    Project {
        path: path.to_owned(),
        name: path.rsplit('/').next().unwrap_or(path).to_owned(),
        group: group_of(path),
        submodule_name: None,
        gitmodules_url: None,
        config_url: None,
        pinned: None,
        pin_conflicted: false,
        active: false,
    }
}

/// The first folder under `src/`, when `path` lies below one.
pub fn group_of(path: &str) -> Option<String> {
    let mut parts = path.split('/');
    if parts.next() != Some("src") {
        return None;
    }
    let group = parts.next()?;
    // `src/x` itself is a project, not a group holding one.
    parts.next()?;
    Some(group.to_owned())
}

/// Refuses paths that would leave the root.
fn check_relative(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("its path is empty".to_owned());
    }
    let path_buf = PathBuf::from(path);
    for component in path_buf.components() {
        match component {
            Component::Normal(part) if part != ".git" => {}
            Component::Normal(_) => return Err("its path goes through `.git`".to_owned()),
            _ => {
                return Err("its path is not a plain relative path inside the meta-repo".to_owned());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_is_first_folder_under_src() {
        assert_eq!(group_of("src/libraries/x").as_deref(), Some("libraries"));
        assert_eq!(group_of("src/libraries/a/b").as_deref(), Some("libraries"));
        assert_eq!(group_of("src/x"), None);
        assert_eq!(group_of("vendor/x/y"), None);
    }

    #[test]
    fn unsafe_paths_are_refused() {
        assert!(check_relative("src/a/b").is_ok());
        assert!(check_relative("../a").is_err());
        assert!(check_relative("/etc").is_err());
        assert!(check_relative("src/.git/x").is_err());
        assert!(check_relative("").is_err());
    }
}

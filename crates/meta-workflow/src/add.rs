//! `meta project add`: a new submodule at `src/<group>/<name>`, all or nothing.
//!
//! Everything that can be checked is checked before git runs (URL, name, group, free path,
//! no leftover git folder). `git submodule add` does the rest; should it fail half-way (a
//! branch that does not exist fails *after* the clone), what it left is removed and the files
//! it touches (`.gitmodules`, the index, `.git/config`) are put back byte for byte.

use std::path::{Component, Path, PathBuf};

use meta_repo::ProjectsError;

use crate::git::{GitError, absolute_git_dir, git, looks_like_option};

/// What to add.
#[derive(Debug, Clone)]
pub struct AddRequest<'a> {
    pub url: &'a str,
    /// A configured group; may be left out when only one is configured.
    pub group: Option<&'a str>,
    /// Folder name; defaults to [`default_name`] of the URL.
    pub name: Option<&'a str>,
    /// Branch to check out and record in `.gitmodules`.
    pub branch: Option<&'a str>,
    /// The groups the config lists.
    pub groups: &'a [String],
}

/// The project as added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// Relative to the root, `src/<group>/<name>`.
    pub path: String,
    pub name: String,
    pub group: String,
    pub url: String,
    pub branch: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("the URL is empty")]
    EmptyUrl,
    #[error("the URL `{0}` starts with `-`, so git would read it as an option")]
    UrlLooksLikeOption(String),
    #[error("the branch `{0}` starts with `-`, so git would read it as an option")]
    BranchLooksLikeOption(String),
    #[error("cannot tell a project name from the URL `{0}`")]
    NoName(String),
    #[error("`{name}` cannot be a project name: {reason}")]
    BadName { name: String, reason: &'static str },
    #[error("there is no group `{group}` in this meta-repo")]
    UnknownGroup { group: String, groups: Vec<String> },
    #[error("this meta-repo has several groups; say which one the project goes in")]
    GroupNeeded { groups: Vec<String> },
    #[error("the meta-repo at `{}` is not a git repository", .0.display())]
    NotGit(PathBuf),
    #[error("`{0}` already exists")]
    PathExists(String),
    #[error("`{0}` is already a project of this meta-repo")]
    AlreadyProject(String),
    #[error("git still keeps the repository of an earlier project `{name}` in `{}`", path.display())]
    StaleGitDir { name: String, path: PathBuf },
    #[error(transparent)]
    Projects(#[from] ProjectsError),
    #[error("git failed; what had been done was undone")]
    Git(#[source] GitError),
    #[error("git failed, and undoing what had been done failed too at `{}`", path.display())]
    Cleanup {
        path: PathBuf,
        git: GitError,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl AddError {
    /// A mistake on the command line rather than a state of the meta-repo.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            AddError::EmptyUrl
                | AddError::UrlLooksLikeOption(_)
                | AddError::BranchLooksLikeOption(_)
                | AddError::NoName(_)
                | AddError::BadName { .. }
                | AddError::UnknownGroup { .. }
                | AddError::GroupNeeded { .. }
        )
    }
}

/// The project name a URL suggests: its last part without `.git`
/// (`https://host/org/api.git` → `api`, `git@host:org/api.git` → `api`, `../api/` → `api`).
pub fn default_name(url: &str) -> Option<String> {
    let trimmed = url.trim_end_matches(['/', '\\']);
    let trimmed = trimmed.strip_suffix("/.git").unwrap_or(trimmed);
    let last = trimmed.rsplit(['/', '\\', ':']).next()?;
    let name = last.strip_suffix(".git").unwrap_or(last);
    (!name.is_empty() && check_name(name).is_ok()).then(|| name.to_owned())
}

/// A project name is one plain folder name.
fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.starts_with('-') {
        return Err("it starts with `-`");
    }
    if name.contains(['/', '\\']) {
        return Err("it holds a path separator; give a plain folder name");
    }
    if name.chars().any(char::is_control) {
        return Err("it holds control characters");
    }
    let mut components = Path::new(name).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(part)), None) if part != ".git" => Ok(()),
        _ => Err("it is not a plain folder name"),
    }
}

/// The group a project goes in: the one asked for, if configured; else the only one.
fn resolve_group(request: &AddRequest<'_>) -> Result<String, AddError> {
    match request.group {
        Some(group) if request.groups.iter().any(|g| g == group) => Ok(group.to_owned()),
        Some(group) => Err(AddError::UnknownGroup {
            group: group.to_owned(),
            groups: request.groups.to_vec(),
        }),
        None => match request.groups {
            [only] => Ok(only.clone()),
            groups => Err(AddError::GroupNeeded {
                groups: groups.to_vec(),
            }),
        },
    }
}

/// Adds the project: checks, then `git submodule add`, undone if it fails. The change is
/// staged in the superproject, not committed (as `git submodule add` leaves it).
pub fn add_project(root: &Path, request: &AddRequest<'_>) -> Result<Added, AddError> {
    let url = request.url;
    if url.is_empty() {
        return Err(AddError::EmptyUrl);
    }
    if looks_like_option(url) {
        return Err(AddError::UrlLooksLikeOption(url.to_owned()));
    }
    if let Some(branch) = request.branch
        && looks_like_option(branch)
    {
        return Err(AddError::BranchLooksLikeOption(branch.to_owned()));
    }
    let name = match request.name {
        Some(name) => name.to_owned(),
        None => default_name(url).ok_or_else(|| AddError::NoName(url.to_owned()))?,
    };
    check_name(&name).map_err(|reason| AddError::BadName {
        name: name.clone(),
        reason,
    })?;
    let group = resolve_group(request)?;
    if !root.join(".git").exists() {
        return Err(AddError::NotGit(root.to_path_buf()));
    }
    let path = format!("src/{group}/{name}");
    let work_dir = root.join(&path);
    if std::fs::symlink_metadata(&work_dir).is_ok() {
        return Err(AddError::PathExists(path));
    }
    let projects = meta_repo::list_projects(root)?;
    if projects
        .projects
        .iter()
        .any(|p| p.path == path || p.submodule_name.as_deref() == Some(path.as_str()))
    {
        return Err(AddError::AlreadyProject(path));
    }
    let git_dir = absolute_git_dir(root).map_err(|_| AddError::NotGit(root.to_path_buf()))?;
    let modules_dir = git_dir.join("modules").join(&path);
    if std::fs::symlink_metadata(&modules_dir).is_ok() {
        return Err(AddError::StaleGitDir {
            name: path,
            path: modules_dir,
        });
    }

    let saved = Saved::take(&[
        root.join(".gitmodules"),
        git_dir.join("index"),
        git_dir.join("config"),
    ])?;
    let group_dir_existed = root.join("src").join(&group).exists();

    let mut add = git(root).args(["submodule", "add", "-q"]);
    if let Some(branch) = request.branch {
        add = add.args(["-b", branch]);
    }
    let add = add.args(["--", url, &path]);
    if let Err(error) = add.run() {
        let undo = || -> Result<(), (PathBuf, std::io::Error)> {
            remove_if_there(&work_dir)?;
            remove_if_there(&modules_dir)?;
            saved.restore()?;
            prune_empty_parents(&modules_dir, &git_dir.join("modules"));
            if !group_dir_existed {
                prune_empty_parents(&work_dir, &root.join("src"));
            }
            Ok(())
        };
        return Err(match undo() {
            Ok(()) => AddError::Git(error),
            Err((path, source)) => AddError::Cleanup {
                path,
                git: error,
                source,
            },
        });
    }
    Ok(Added {
        path,
        name,
        group,
        url: url.to_owned(),
        branch: request.branch.map(str::to_owned),
    })
}

/// Makes the folder `src/<group>/<name>` (just rendered by `meta new --group`, holding no
/// repository yet) its own repository with a first commit, with `remote` as its `origin` when
/// given, and registers it as a submodule recorded with that URL (without one, with its own
/// path, so this machine can still check it out). The commit is made as the user, or as
/// `meta <meta@localhost>` where git has no identity; it never waits on a signing prompt.
///
/// On failure the superproject's `.gitmodules`, index and config are put back and its
/// `.git/modules/<path>` removed; the folder itself is the caller's to remove.
pub fn adopt_new_project(
    root: &Path,
    group: &str,
    name: &str,
    remote: Option<&str>,
) -> Result<Added, AddError> {
    if let Some(url) = remote
        && looks_like_option(url)
    {
        return Err(AddError::UrlLooksLikeOption(url.to_owned()));
    }
    let path = format!("src/{group}/{name}");
    let work_dir = root.join(&path);
    let projects = meta_repo::list_projects(root)?;
    if projects
        .projects
        .iter()
        .any(|p| p.path == path || p.submodule_name.as_deref() == Some(path.as_str()))
    {
        return Err(AddError::AlreadyProject(path));
    }
    let git_dir = absolute_git_dir(root).map_err(|_| AddError::NotGit(root.to_path_buf()))?;
    let modules_dir = git_dir.join("modules").join(&path);
    if std::fs::symlink_metadata(&modules_dir).is_ok() {
        return Err(AddError::StaleGitDir {
            name: path,
            path: modules_dir,
        });
    }
    let url = match remote {
        Some(url) => url.to_owned(),
        None => work_dir.to_string_lossy().into_owned(),
    };

    let saved = Saved::take(&[
        root.join(".gitmodules"),
        git_dir.join("index"),
        git_dir.join("config"),
    ])?;
    let steps = || -> Result<(), GitError> {
        git(&work_dir).args(["init", "-q"]).run()?;
        git(&work_dir).args(["add", "-A"]).run()?;
        let has = |key: &str| {
            git(&work_dir)
                .args(["config", key])
                .run()
                .is_ok_and(|value| !value.trim().is_empty())
        };
        let mut commit = git(&work_dir);
        if !has("user.name") {
            commit = commit.args(["-c", "user.name=meta"]);
        }
        if !has("user.email") {
            commit = commit.args(["-c", "user.email=meta@localhost"]);
        }
        commit
            .args(["-c", "commit.gpgsign=false", "commit", "-q", "--no-verify"])
            .args(["--allow-empty", "-m", "New project from `meta new`"])
            .run()?;
        if let Some(remote) = remote {
            git(&work_dir)
                .args(["remote", "add", "--", "origin", remote])
                .run()?;
        }
        // Takes the repository in place, then moves its `.git` under `.git/modules` like
        // every other project's.
        git(root)
            .args(["submodule", "add", "-q", "--", &url, &path])
            .run()?;
        git(root)
            .args(["submodule", "absorbgitdirs", "--", &path])
            .run()?;
        Ok(())
    };
    if let Err(error) = steps() {
        let undo = || -> Result<(), (PathBuf, std::io::Error)> {
            remove_if_there(&modules_dir)?;
            saved.restore()?;
            prune_empty_parents(&modules_dir, &git_dir.join("modules"));
            Ok(())
        };
        return Err(match undo() {
            Ok(()) => AddError::Git(error),
            Err((path, source)) => AddError::Cleanup {
                path,
                git: error,
                source,
            },
        });
    }
    Ok(Added {
        path,
        name: name.to_owned(),
        group: group.to_owned(),
        url,
        branch: None,
    })
}

/// Removes the folders between `path` and `stop` (exclusive) that are empty, innermost
/// first, so a removed project leaves no empty folders git made for it.
pub(crate) fn prune_empty_parents(path: &Path, stop: &Path) {
    let mut dir = path.parent();
    while let Some(current) = dir {
        if current == stop || !current.starts_with(stop) || std::fs::remove_dir(current).is_err() {
            break;
        }
        dir = current.parent();
    }
}

fn remove_if_there(path: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err((path.to_path_buf(), e)),
        _ => Ok(()),
    }
}

/// Files as they were (or their absence), to put back exactly.
struct Saved(Vec<(PathBuf, Option<Vec<u8>>)>);

impl Saved {
    fn take(paths: &[PathBuf]) -> Result<Self, AddError> {
        let mut saved = Vec::new();
        for path in paths {
            let bytes = match std::fs::read(path) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(source) => {
                    return Err(AddError::Io {
                        path: path.clone(),
                        source,
                    });
                }
            };
            saved.push((path.clone(), bytes));
        }
        Ok(Self(saved))
    }

    fn restore(&self) -> Result<(), (PathBuf, std::io::Error)> {
        for (path, bytes) in &self.0 {
            let result = match bytes {
                Some(bytes) => std::fs::write(path, bytes),
                None => match std::fs::remove_file(path) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    other => other,
                },
            };
            result.map_err(|e| (path.clone(), e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_urls_last_part() {
        for (url, name) in [
            ("https://example.com/org/api.git", Some("api")),
            ("https://example.com/org/api", Some("api")),
            ("https://example.com/org/api.git/", Some("api")),
            ("git@example.com:org/api.git", Some("api")),
            ("git@example.com:api.git", Some("api")),
            ("file:///tmp/remotes/lib.git", Some("lib")),
            ("../sibling/", Some("sibling")),
            ("/srv/git/repo/.git", Some("repo")),
            ("https://example.com/", Some("example.com")),
            (".git", None),
            ("/", None),
            ("..", None),
        ] {
            assert_eq!(default_name(url).as_deref(), name, "{url}");
        }
    }

    #[test]
    fn names_are_plain_folder_names() {
        assert!(check_name("api-server_2").is_ok());
        for bad in ["", ".", "..", ".git", "a/b", "a\\b", "-x", "a\nb"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn groups_must_be_configured() {
        let groups = vec!["libraries".to_owned(), "projects".to_owned()];
        let request = |group| AddRequest {
            url: "u",
            group,
            name: None,
            branch: None,
            groups: &groups,
        };
        assert_eq!(
            resolve_group(&request(Some("projects"))).unwrap(),
            "projects"
        );
        assert!(matches!(
            resolve_group(&request(Some("nope"))),
            Err(AddError::UnknownGroup { .. })
        ));
        assert!(matches!(
            resolve_group(&request(None)),
            Err(AddError::GroupNeeded { .. })
        ));
        let one = vec!["libraries".to_owned()];
        let request = AddRequest {
            groups: &one,
            ..request(None)
        };
        assert_eq!(resolve_group(&request).unwrap(), "libraries");
    }
}

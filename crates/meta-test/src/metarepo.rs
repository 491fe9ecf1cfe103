//! The meta-repo fixture: what `make-metarepo DIR N` builds, plus one builder per edge case.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::git::{Git, git};
use crate::remote::{RemoteCommit, RemoteFile, create_remote, standard_history};
use crate::{FixtureError, Result, io_error, parallel};

/// The groups projects are spread over, in turn.
pub const GROUPS: [&str; 4] = ["data_model", "libraries", "projects", "docs"];

/// The state a fixture project was left in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// On `main`, at the pin, nothing changed.
    CleanOnBranch,
    /// HEAD detached at the pinned commit.
    DetachedAtPin,
    /// A tracked file changed in the worktree (`src/file1.txt`).
    Modified,
    /// One untracked file (`untracked.txt`).
    Untracked,
    /// One local commit on `main` that `origin/main` does not have.
    Ahead,
    /// Detached one commit behind the pin.
    OffPin,
    /// A change added to the index (`src/file2.txt`).
    Staged,
    /// Listed and pinned, but never initialised (`git submodule deinit`).
    Uninitialized,
    /// On a local branch `topic` that tracks nothing.
    NoUpstream,
    /// Only a `.gitmodules` entry: no gitlink in the index, no checkout.
    GitmodulesOnly,
    /// Holds a submodule of its own at `lib/inner`, initialised.
    Nested,
    /// A merge stopped on a conflict in `README.md`.
    Conflict,
    /// Moved with `git mv` after it was added: its name (`src/docs/moved-from`) is not its path.
    Renamed,
    /// `.git/config` names another URL than `.gitmodules`.
    UrlDiffers,
    /// Detached HEAD holding a commit no branch, tag or remote has.
    DetachedWork,
    /// The superproject's index holds conflicting pins for it (a merge stopped there).
    PinConflict,
}

impl State {
    /// The states `make-metarepo` cycles through, by `i % 7` (1-based `i`).
    pub(crate) const CYCLE: [State; 7] = [
        State::CleanOnBranch,
        State::DetachedAtPin,
        State::Modified,
        State::Untracked,
        State::Ahead,
        State::OffPin,
        State::Staged,
    ];
}

/// One project (submodule) of the fixture.
#[derive(Debug, Clone)]
pub struct Project {
    /// Folder name, e.g. `repo001`.
    pub name: String,
    /// Path relative to the root, `/`-separated, e.g. `src/data_model/repo001`.
    pub path: String,
    /// The submodule's name in `.gitmodules` (its path when added, unless moved since).
    pub submodule_name: String,
    pub group: String,
    /// The URL recorded in `.gitmodules`.
    pub url: String,
    pub state: State,
}

/// A built meta-repo fixture: `<dir>/remotes/*.git` and the superproject `<dir>/metarepo`.
#[derive(Debug, Clone)]
pub struct MetaRepo {
    root: PathBuf,
    remotes: PathBuf,
    projects: Vec<Project>,
}

impl MetaRepo {
    /// Builds what `make-metarepo DIR N` builds, in `dir` (created if missing): N projects
    /// named `repo001`… spread over [`GROUPS`], in the states of [`State`]'s cycle by position
    /// (`i % 7`), the last two not initialised.
    pub fn build(dir: &Path, count: usize) -> Result<Self> {
        let base = std::path::absolute(dir).map_err(io_error(dir))?;
        let remotes = base.join("remotes");
        let root = base.join("metarepo");
        std::fs::create_dir_all(&remotes).map_err(io_error(&remotes))?;
        let projects: Vec<Project> = (1..=count)
            .map(|i| {
                let name = format!("repo{i:03}");
                let group = GROUPS[(i - 1) % GROUPS.len()].to_owned();
                let path = format!("src/{group}/{name}");
                let state = if i + 2 > count {
                    State::Uninitialized
                } else {
                    State::CYCLE[i % 7]
                };
                Project {
                    url: file_url(&remotes.join(format!("{name}.git"))),
                    submodule_name: path.clone(),
                    name,
                    path,
                    group,
                    state,
                }
            })
            .collect();

        parallel(&projects, |p| {
            create_remote(&remotes, &p.name, &standard_history(&p.name))
        })?;

        git(&base).args(["init", "-q", "metarepo"]).run()?;
        write(
            &root.join("meta/metarepo.toml"),
            "[metarepo]\nname = \"fixture\"\n",
        )?;
        std::fs::create_dir_all(root.join("meta/plugins"))
            .map_err(io_error(&root.join("meta/plugins")))?;
        write(&root.join("README.md"), "# fixture meta-repo\n")?;
        write(&root.join(".gitignore"), ".meta/\n")?;
        git(&root).args(["add", "-A"]).run()?;
        git(&root)
            .args(["commit", "-q", "-m", "meta-repo skeleton"])
            .run()?;

        // `git submodule add` one by one costs a clone each under one index lock; cloning in
        // parallel and then registering every clone at once gives the same repositories.
        parallel(&projects, |p| {
            git(&root)
                .args(["clone", "-q", &p.url, &p.path])
                .run()
                .map(drop)
        })?;
        let mut gitmodules = String::new();
        let mut config = String::new();
        for p in &projects {
            let _ = write!(
                gitmodules,
                "[submodule \"{}\"]\n\tpath = {}\n\turl = {}\n",
                p.submodule_name, p.path, p.url
            );
            let _ = write!(
                config,
                "[submodule \"{}\"]\n\turl = {}\n\tactive = true\n",
                p.submodule_name, p.url
            );
        }
        write(&root.join(".gitmodules"), &gitmodules)?;
        if !projects.is_empty() {
            git(&root)
                .args(["add", "--", ".gitmodules"])
                .args(projects.iter().map(|p| p.path.as_str()))
                .run()?;
            // What `git submodule add` writes to `.git/config`.
            append(&root.join(".git/config"), &config)?;
            // Moves each clone's `.git` into `.git/modules/<name>`, as `submodule add` has it.
            git(&root).args(["submodule", "absorbgitdirs"]).run()?;
            git(&root)
                .args(["commit", "-q", "-m", &format!("add {count} submodules")])
                .run()?;
        }

        parallel(&projects, |p| apply_state(&root, p))?;
        let uninitialized: Vec<&str> = projects
            .iter()
            .filter(|p| p.state == State::Uninitialized)
            .map(|p| p.path.as_str())
            .collect();
        if !uninitialized.is_empty() {
            git(&root)
                .args(["submodule", "deinit", "-q", "-f", "--"])
                .args(&uninitialized)
                .run()?;
        }
        Ok(Self {
            root,
            remotes,
            projects,
        })
    }

    /// Assembles a fixture built elsewhere in this crate (the shared-object builder).
    pub(crate) fn from_parts(root: PathBuf, remotes: PathBuf, projects: Vec<Project>) -> Self {
        Self {
            root,
            remotes,
            projects,
        }
    }

    /// A small fixture with every state of [`build`](Self::build) (9 projects) and one project
    /// per edge case builder below.
    pub fn with_edge_cases(dir: &Path) -> Result<Self> {
        let mut repo = Self::build(dir, 9)?;
        repo.add_no_upstream()?;
        repo.add_gitmodules_only()?;
        repo.add_nested()?;
        repo.add_conflicted()?;
        repo.add_moved()?;
        repo.add_url_differs()?;
        repo.add_detached_work()?;
        Ok(repo)
    }

    /// The superproject's folder (holding `meta/metarepo.toml`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder holding the bare upstream repositories.
    pub fn remotes(&self) -> &Path {
        &self.remotes
    }

    pub fn projects(&self) -> &[Project] {
        &self.projects
    }

    /// The project at `path` (relative to the root).
    pub fn project(&self, path: &str) -> Result<&Project> {
        self.projects
            .iter()
            .find(|p| p.path == path)
            .ok_or_else(|| FixtureError::NoSuchProject(path.to_owned()))
    }

    /// The first project left in `state`.
    pub fn project_in(&self, state: State) -> Option<&Project> {
        self.projects.iter().find(|p| p.state == state)
    }

    /// `git` in the superproject, with the fixture environment.
    pub fn git(&self) -> Git {
        git(&self.root)
    }

    /// `git` in `path` (relative to the root), with the fixture environment.
    pub fn git_in(&self, path: &str) -> Git {
        git(&self.root.join(path))
    }

    /// Adds a project `name` in `group` with `git submodule add`, on `main` at its pin, and
    /// commits it in the superproject.
    pub fn add_project(&mut self, name: &str, group: &str) -> Result<Project> {
        self.add_project_with_history(name, group, &standard_history(name))
    }

    fn add_project_with_history(
        &mut self,
        name: &str,
        group: &str,
        history: &[RemoteCommit],
    ) -> Result<Project> {
        let remote = create_remote(&self.remotes, name, history)?;
        let path = format!("src/{group}/{name}");
        let url = file_url(&remote);
        self.git()
            .args(["submodule", "add", "-q", "--", &url, &path])
            .run()?;
        self.git()
            .args(["commit", "-q", "-m", &format!("add {name}")])
            .run()?;
        let project = Project {
            name: name.to_owned(),
            submodule_name: path.clone(),
            path,
            group: group.to_owned(),
            url,
            state: State::CleanOnBranch,
        };
        self.projects.push(project.clone());
        Ok(project)
    }

    fn set_state(&mut self, path: &str, state: State) {
        if let Some(p) = self.projects.iter_mut().find(|p| p.path == path) {
            p.state = state;
        }
    }

    /// A project on a new local branch `topic` that tracks nothing.
    pub fn add_no_upstream(&mut self) -> Result<Project> {
        let p = self.add_project("no-upstream", "libraries")?;
        self.git_in(&p.path)
            .args(["checkout", "-q", "-b", "topic"])
            .run()?;
        self.set_state(&p.path, State::NoUpstream);
        self.project(&p.path).cloned()
    }

    /// A `.gitmodules` entry (committed) with no gitlink in the index and no checkout.
    pub fn add_gitmodules_only(&mut self) -> Result<Project> {
        let name = "ghost";
        let remote = create_remote(&self.remotes, name, &standard_history(name))?;
        let path = format!("src/projects/{name}");
        let url = file_url(&remote);
        for (key, value) in [("path", &path), ("url", &url)] {
            self.git()
                .args(["config", "-f", ".gitmodules"])
                .arg(format!("submodule.{path}.{key}"))
                .arg(value)
                .run()?;
        }
        self.git().args(["add", ".gitmodules"]).run()?;
        self.git()
            .args(["commit", "-q", "-m", "list ghost without adding it"])
            .run()?;
        let project = Project {
            name: name.to_owned(),
            submodule_name: path.clone(),
            path,
            group: "projects".to_owned(),
            url,
            state: State::GitmodulesOnly,
        };
        self.projects.push(project.clone());
        Ok(project)
    }

    /// A project whose history adds a submodule of its own at `lib/inner`, both initialised.
    pub fn add_nested(&mut self) -> Result<Project> {
        let inner = create_remote(
            &self.remotes,
            "nested-inner",
            &standard_history("nested-inner"),
        )?;
        let inner_head = git(&inner).args(["rev-parse", "main"]).run()?;
        let mut history = standard_history("nested");
        history.push(RemoteCommit {
            message: "add inner".to_owned(),
            changes: vec![
                RemoteFile::Blob {
                    path: ".gitmodules".to_owned(),
                    contents: format!(
                        "[submodule \"lib/inner\"]\n\tpath = lib/inner\n\turl = {}\n",
                        file_url(&inner)
                    ),
                },
                RemoteFile::Gitlink {
                    path: "lib/inner".to_owned(),
                    commit: inner_head.trim().to_owned(),
                },
            ],
        });
        let p = self.add_project_with_history("nested", "libraries", &history)?;
        self.git_in(&p.path)
            .args(["submodule", "update", "--init", "-q"])
            .run()?;
        self.set_state(&p.path, State::Nested);
        self.project(&p.path).cloned()
    }

    /// A project where merging a side branch stopped on a conflict in `README.md`.
    pub fn add_conflicted(&mut self) -> Result<Project> {
        let p = self.add_project("conflicted", "projects")?;
        let dir = self.root.join(&p.path);
        git(&dir)
            .args(["checkout", "-q", "-b", "side", "HEAD~1"])
            .run()?;
        append(&dir.join("README.md"), "side\n")?;
        git(&dir).args(["commit", "-q", "-am", "side"]).run()?;
        git(&dir).args(["checkout", "-q", "main"]).run()?;
        let out = git(&dir)
            .args(["merge", "-q", "--no-edit", "side"])
            .output()?;
        if out.status.success() {
            return Err(FixtureError::Git {
                args: "git merge side (expected to stop on a conflict)".to_owned(),
                code: out.status.code(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        self.set_state(&p.path, State::Conflict);
        self.project(&p.path).cloned()
    }

    /// A project added at `src/docs/moved-from`, then moved with `git mv` to
    /// `src/projects/moved` (committed): its submodule name no longer matches its path.
    pub fn add_moved(&mut self) -> Result<Project> {
        let p = self.add_project("moved-from", "docs")?;
        let new_path = "src/projects/moved";
        self.git().args(["mv", "--", &p.path, new_path]).run()?;
        self.git()
            .args(["commit", "-q", "-m", "move moved-from"])
            .run()?;
        let project = self
            .projects
            .iter_mut()
            .find(|q| q.path == p.path)
            .ok_or_else(|| FixtureError::NoSuchProject(p.path.clone()))?;
        new_path.clone_into(&mut project.path);
        "moved".clone_into(&mut project.name);
        "projects".clone_into(&mut project.group);
        project.state = State::Renamed;
        Ok(project.clone())
    }

    /// A project whose `.git/config` URL (`…/url-differs-mirror.git`, a real mirror) differs
    /// from its `.gitmodules` URL.
    pub fn add_url_differs(&mut self) -> Result<Project> {
        let p = self.add_project("url-differs", "data_model")?;
        let mirror = self.remotes.join("url-differs-mirror.git");
        git(&self.remotes)
            .args(["clone", "-q", "--bare"])
            .arg(self.remotes.join("url-differs.git"))
            .arg(&mirror)
            .run()?;
        self.git()
            .args(["config", &format!("submodule.{}.url", p.submodule_name)])
            .arg(file_url(&mirror))
            .run()?;
        self.set_state(&p.path, State::UrlDiffers);
        self.project(&p.path).cloned()
    }

    /// A project whose pin is in conflict in the superproject: a side branch moved the pin to
    /// `main~1`, `main` moved it to `main~2`, and merging the side branch stopped there. The
    /// project itself stays checked out at its original pin. (Not part of
    /// [`with_edge_cases`](Self::with_edge_cases): it leaves the whole superproject mid-merge.)
    pub fn add_pin_conflict(&mut self) -> Result<Project> {
        let p = self.add_project("pin-conflict", "projects")?;
        let dir = self.root.join(&p.path);
        let original = git(&dir).args(["rev-parse", "HEAD"]).run()?;
        let original = original.trim();
        let pin_at = |rev: &str, message: &str| -> Result<()> {
            git(&dir).args(["checkout", "-q", "--detach", rev]).run()?;
            self.git().args(["add", "--", &p.path]).run()?;
            self.git().args(["commit", "-q", "-m", message]).run()?;
            Ok(())
        };
        self.git().args(["checkout", "-q", "-b", "side"]).run()?;
        pin_at(&format!("{original}~1"), "pin one back")?;
        self.git().args(["checkout", "-q", "main"]).run()?;
        pin_at(&format!("{original}~2"), "pin two back")?;
        git(&dir).args(["checkout", "-q", original]).run()?;
        let out = self
            .git()
            .args(["merge", "-q", "--no-edit", "side"])
            .output()?;
        if out.status.success() {
            return Err(FixtureError::Git {
                args: "git merge side (expected to stop on a conflicting pin)".to_owned(),
                code: out.status.code(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        self.set_state(&p.path, State::PinConflict);
        self.project(&p.path).cloned()
    }

    /// A project with HEAD detached on a commit of its own that no branch, tag or remote holds.
    pub fn add_detached_work(&mut self) -> Result<Project> {
        let p = self.add_project("detached-work", "libraries")?;
        let dir = self.root.join(&p.path);
        git(&dir).args(["checkout", "-q", "--detach"]).run()?;
        write(&dir.join("work.txt"), "only HEAD has this\n")?;
        git(&dir).args(["add", "work.txt"]).run()?;
        git(&dir)
            .args(["commit", "-q", "-m", "work only HEAD holds"])
            .run()?;
        self.set_state(&p.path, State::DetachedWork);
        self.project(&p.path).cloned()
    }
}

/// Leaves `project` in its state, as `make-metarepo` does.
fn apply_state(root: &Path, project: &Project) -> Result<()> {
    let dir = root.join(&project.path);
    let checkout_main = || git(&dir).args(["checkout", "-q", "main"]).run().map(drop);
    match project.state {
        State::DetachedAtPin => {
            git(&dir).args(["checkout", "-q", "--detach"]).run()?;
        }
        State::Modified => {
            checkout_main()?;
            append(&dir.join("src/file1.txt"), "edit\n")?;
        }
        State::Untracked => {
            checkout_main()?;
            write(&dir.join("untracked.txt"), "new\n")?;
        }
        State::Ahead => {
            checkout_main()?;
            append(&dir.join("README.md"), "local\n")?;
            git(&dir)
                .args(["commit", "-q", "-am", "local work"])
                .run()?;
        }
        State::OffPin => {
            checkout_main()?;
            git(&dir).args(["checkout", "-q", "HEAD~1"]).run()?;
        }
        State::Staged => {
            checkout_main()?;
            append(&dir.join("src/file2.txt"), "staged\n")?;
            git(&dir).args(["add", "src/file2.txt"]).run()?;
        }
        // Deinitialised afterwards, all at once; the rest are made by their own builders.
        _ => checkout_main()?,
    }
    Ok(())
}

/// `file://` URL of a local path (absolute, so it starts `file:///`).
pub(crate) fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

pub(crate) fn write(path: &Path, contents: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    std::fs::write(path, contents).map_err(io_error(path))
}

pub(crate) fn append(path: &Path, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(io_error(path))?;
    file.write_all(text.as_bytes()).map_err(io_error(path))
}

//! Large meta-repos (1,000 and 5,000 submodules) built in seconds, not hours: every project
//! shares one seed history through git's alternates, so the per-project cost is a handful of
//! small files and one `git read-tree` (which checks out the files and writes a real index with
//! real stat data, as `git submodule update` would).
//!
//! The result is laid out as `git submodule add` + `git submodule update` leave it — `.gitmodules`,
//! gitlinks in the superproject's index, `submodule.<name>.url`/`active` in `.git/config`,
//! each project's git dir absorbed under `.git/modules/<name>` with a relative `core.worktree`
//! and a `.git` file pointing back — and the projects are left in the states of
//! [`MetaRepo::build`](crate::MetaRepo::build)'s cycle. What differs from `build`: all projects
//! hold the same commits (the seed's), and the two never-initialised projects have no git dir
//! under `.git/modules/` (as if never cloned, rather than cloned and deinitialised).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::git::{AUTHOR_EMAIL, AUTHOR_NAME, DATE_EPOCH, git};
use crate::metarepo::{GROUPS, MetaRepo, Project, State, append, file_url, write};
use crate::remote::{create_remote, standard_history};
use crate::{FixtureError, Result, io_error, parallel};

/// The commits every project of a large fixture is made of, held by the seed repository.
struct Seed {
    /// Its `objects` folder, which every remote and project borrows through alternates.
    objects: PathBuf,
    /// `main`'s tip: every project's pin and its upstream's `main`.
    pin: String,
    /// `main~1`, where an [`State::OffPin`] project sits.
    parent: String,
    /// The pin plus one "local work" commit: an [`State::Ahead`] project's `main`.
    ahead: String,
    /// The pin with `src/file2.txt` changed: what a [`State::Staged`] project's index holds.
    staged: String,
}

impl MetaRepo {
    /// Builds a meta-repo of `count` projects in `dir` fast enough for 5,000 (see the module
    /// docs): projects named `repo001`… over [`GROUPS`], in [`State`]'s cycle by position
    /// (`i % 7`), the last two not initialised — the same spread as [`MetaRepo::build`].
    pub fn build_shared(dir: &Path, count: usize) -> Result<Self> {
        let base = std::path::absolute(dir).map_err(io_error(dir))?;
        let remotes = base.join("remotes");
        let root = base.join("metarepo");
        std::fs::create_dir_all(&remotes).map_err(io_error(&remotes))?;
        let seed = make_seed(&base)?;

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

        // The upstreams: bare repositories holding only `main`, borrowing the seed's objects.
        parallel(&projects, |p| {
            make_bare_remote(&remotes.join(format!("{}.git", p.name)), &seed)
        })?;

        // The superproject, its `.gitmodules` and every gitlink, committed in one go.
        git(&base).args(["init", "-q", "metarepo"]).run()?;
        write(
            &root.join("meta/metarepo.toml"),
            "[metarepo]\nname = \"fixture\"\n",
        )?;
        std::fs::create_dir_all(root.join("meta/plugins"))
            .map_err(io_error(&root.join("meta/plugins")))?;
        write(&root.join("README.md"), "# fixture meta-repo\n")?;
        write(&root.join(".gitignore"), ".meta/\n")?;
        let mut gitmodules = String::new();
        let mut gitlinks = String::new();
        let mut config = String::new();
        for p in &projects {
            let _ = write!(
                gitmodules,
                "[submodule \"{}\"]\n\tpath = {}\n\turl = {}\n",
                p.submodule_name, p.path, p.url
            );
            let _ = writeln!(gitlinks, "160000 commit {}\t{}", seed.pin, p.path);
            if p.state != State::Uninitialized {
                let _ = write!(
                    config,
                    "[submodule \"{}\"]\n\turl = {}\n\tactive = true\n",
                    p.submodule_name, p.url
                );
            }
        }
        write(&root.join(".gitmodules"), &gitmodules)?;
        git(&root).args(["add", "-A"]).run()?;
        git(&root)
            .args(["update-index", "--add", "--index-info"])
            .stdin(gitlinks)
            .run()?;
        git(&root)
            .args([
                "commit",
                "-q",
                "-m",
                &format!("meta-repo with {count} submodules"),
            ])
            .run()?;
        // What `git submodule init` (or `add`) writes to `.git/config`.
        append(&root.join(".git/config"), &config)?;

        parallel(&projects, |p| check_out(&root, p, &seed))?;
        Ok(Self::from_parts(root, remotes, projects))
    }
}

/// The seed: `standard_history("seed")` on `main`, plus branches `ahead` and `staged` holding
/// the two other commits projects need.
fn make_seed(base: &Path) -> Result<Seed> {
    let seed = create_remote(base, "seed", &standard_history("seed"))?;
    let who = format!("{AUTHOR_NAME} <{AUTHOR_EMAIL}> {DATE_EPOCH} +0000");
    let mut stream = String::new();
    for (branch, message, path, contents) in [
        (
            "ahead",
            "local work\n",
            "README.md",
            "# seed\nchange 1\nchange 2\nlocal\n",
        ),
        (
            "staged",
            "staged change\n",
            "src/file2.txt",
            "line 2 of seed\nstaged\n",
        ),
    ] {
        let _ = write!(
            stream,
            "commit refs/heads/{branch}\nauthor {who}\ncommitter {who}\ndata {}\n{message}\
             from refs/heads/main^0\nM 100644 inline {path}\ndata {}\n{contents}\n\n",
            message.len(),
            contents.len()
        );
    }
    git(&seed)
        .args(["fast-import", "--quiet", "--date-format=raw"])
        .stdin(stream)
        .run()?;
    let ids = git(&seed)
        .args(["rev-parse", "main", "main~1", "ahead", "staged"])
        .run()?;
    let ids: Vec<String> = ids.lines().map(str::to_owned).collect();
    let [pin, parent, ahead, staged] =
        <[String; 4]>::try_from(ids).map_err(|ids| FixtureError::Git {
            args: "git rev-parse main main~1 ahead staged (in the seed)".to_owned(),
            code: None,
            stderr: format!("expected four ids, got {ids:?}"),
        })?;
    Ok(Seed {
        objects: seed.join("objects"),
        pin,
        parent,
        ahead,
        staged,
    })
}

/// A bare repository whose `main` is the pin, written file by file (git's repository layout:
/// `HEAD`, `config`, `objects/`, `refs/`), its objects borrowed from the seed.
fn make_bare_remote(bare: &Path, seed: &Seed) -> Result<()> {
    write(&bare.join("HEAD"), "ref: refs/heads/main\n")?;
    write(
        &bare.join("config"),
        "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n",
    )?;
    write(
        &bare.join("objects/info/alternates"),
        &format!("{}\n", seed.objects.display()),
    )?;
    make_dir(&bare.join("objects/pack"))?;
    make_dir(&bare.join("refs/tags"))?;
    write(&bare.join("refs/heads/main"), &format!("{}\n", seed.pin))
}

/// Checks `project` out as `git submodule update` would (git dir absorbed under
/// `.git/modules/<name>`, relative links both ways), then leaves it in its state. One `git`
/// process per project: `read-tree -u` writes the files and the index.
fn check_out(root: &Path, project: &Project, seed: &Seed) -> Result<()> {
    let work = root.join(&project.path);
    if project.state == State::Uninitialized {
        // `git submodule init` was never run: an empty folder, as a fresh clone leaves it.
        return make_dir(&work);
    }
    let git_dir = root.join(".git/modules").join(&project.submodule_name);
    let up = |from: &str| "../".repeat(from.split('/').count());
    // From `.git/modules/<name>` up to the root, then down to the work tree; and back.
    let worktree = format!(
        "{}{}",
        up(&format!(".git/modules/{}", project.submodule_name)),
        project.path
    );
    let link = format!(
        "gitdir: {}.git/modules/{}\n",
        up(&project.path),
        project.submodule_name
    );

    let (head, main) = match project.state {
        State::DetachedAtPin => (format!("{}\n", seed.pin), &seed.pin),
        State::OffPin => (format!("{}\n", seed.parent), &seed.pin),
        State::Ahead => ("ref: refs/heads/main\n".to_owned(), &seed.ahead),
        _ => ("ref: refs/heads/main\n".to_owned(), &seed.pin),
    };
    write(&git_dir.join("HEAD"), &head)?;
    write(
        &git_dir.join("config"),
        &format!(
            "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\
             \tlogallrefupdates = true\n\tworktree = {worktree}\n\
             [remote \"origin\"]\n\turl = {}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n\
             [branch \"main\"]\n\tremote = origin\n\tmerge = refs/heads/main\n",
            project.url
        ),
    )?;
    write(
        &git_dir.join("objects/info/alternates"),
        &format!("{}\n", seed.objects.display()),
    )?;
    make_dir(&git_dir.join("objects/pack"))?;
    make_dir(&git_dir.join("refs/tags"))?;
    write(&git_dir.join("refs/heads/main"), &format!("{main}\n"))?;
    write(
        &git_dir.join("refs/remotes/origin/main"),
        &format!("{}\n", seed.pin),
    )?;
    write(
        &git_dir.join("refs/remotes/origin/HEAD"),
        "ref: refs/remotes/origin/main\n",
    )?;
    write(&work.join(".git"), &link)?;

    // The staged project's index holds the `staged` commit's tree while HEAD stays at the pin.
    let tree = if project.state == State::Staged {
        seed.staged.as_str()
    } else {
        "HEAD"
    };
    git(&work)
        .args(["read-tree", "--reset", "-u", tree])
        .run()?;
    match project.state {
        State::Modified => append(&work.join("src/file1.txt"), "edit\n"),
        State::Untracked => write(&work.join("untracked.txt"), "new\n"),
        _ => Ok(()),
    }
}

fn make_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))
}

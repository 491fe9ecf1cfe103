//! The fixture is what it says: each state checked with git itself.

use meta_test::{MetaRepo, State, git};

fn porcelain(repo: &MetaRepo, path: &str) -> String {
    repo.git_in(path)
        .args(["status", "--porcelain=v1", "--branch"])
        .run()
        .expect("git status runs in every initialised fixture project")
}

#[test]
fn standard_fixture_has_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 9).unwrap();
    assert_every_state(&repo);
}

/// The large-fixture builder leaves projects in the same states, as git sees them, and lays
/// them out as `git submodule update` does (absorbed git dirs, relative links).
#[test]
fn shared_fixture_has_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build_shared(dir.path(), 9).unwrap();
    assert_every_state(&repo);
    let p = &repo.projects()[0];
    let dot_git = std::fs::read_to_string(repo.root().join(&p.path).join(".git")).unwrap();
    assert_eq!(
        dot_git,
        "gitdir: ../../../.git/modules/src/data_model/repo001\n"
    );
    let top = repo
        .git_in(&p.path)
        .args(["rev-parse", "--show-toplevel", "--absolute-git-dir"])
        .run()
        .unwrap();
    let root = repo.root().canonicalize().unwrap();
    assert_eq!(
        top,
        format!(
            "{}\n{}\n",
            root.join(&p.path).display(),
            root.join(".git/modules").join(&p.submodule_name).display()
        )
    );
}

fn assert_every_state(repo: &MetaRepo) {
    assert!(repo.root().join("meta/metarepo.toml").is_file());
    assert_eq!(repo.projects().len(), 9);
    let submodule_status = repo
        .git()
        .args(["submodule", "status"])
        .run()
        .expect("git submodule status runs in the fixture");
    for p in repo.projects() {
        let line = submodule_status
            .lines()
            .find(|l| l.ends_with(&format!(" {}", p.path)) || l.contains(&format!(" {} (", p.path)))
            .unwrap_or_else(|| panic!("{} missing from:\n{submodule_status}", p.path));
        let expected_prefix = match p.state {
            State::Uninitialized => '-',
            State::Ahead | State::OffPin => '+',
            _ => ' ',
        };
        assert_eq!(line.chars().next(), Some(expected_prefix), "{line}");
        if p.state == State::Uninitialized {
            continue;
        }
        let status = porcelain(repo, &p.path);
        let expected = match p.state {
            State::CleanOnBranch => "## main...origin/main\n",
            State::DetachedAtPin | State::OffPin => "## HEAD (no branch)\n",
            State::Modified => "## main...origin/main\n M src/file1.txt\n",
            State::Untracked => "## main...origin/main\n?? untracked.txt\n",
            State::Ahead => "## main...origin/main [ahead 1]\n",
            State::Staged => "## main...origin/main\nM  src/file2.txt\n",
            other => panic!("unexpected state {other:?}"),
        };
        assert_eq!(status, expected, "{}", p.path);
    }
    // Groups in turn, as make-metarepo spreads them.
    assert_eq!(repo.projects()[0].path, "src/data_model/repo001");
    assert_eq!(repo.projects()[5].path, "src/libraries/repo006");
}

#[test]
fn commits_are_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ra = MetaRepo::build(a.path(), 3).unwrap();
    let rb = MetaRepo::build(b.path(), 3).unwrap();
    let head = |r: &MetaRepo| {
        git(&r.remotes().join("repo001.git"))
            .args(["rev-parse", "main"])
            .run()
            .expect("the remote has a main branch")
    };
    assert_eq!(head(&ra), head(&rb));
}

#[test]
fn edge_cases_are_what_they_claim() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::with_edge_cases(dir.path()).unwrap();
    let path_of = |state| repo.project_in(state).unwrap().path.clone();

    assert_eq!(porcelain(&repo, &path_of(State::NoUpstream)), "## topic\n");

    let ghost = path_of(State::GitmodulesOnly);
    assert!(!repo.root().join(&ghost).exists());
    let ls = repo
        .git()
        .args(["ls-files", "-s", "--", &ghost])
        .run()
        .unwrap();
    assert_eq!(ls, "");

    let nested = path_of(State::Nested);
    let inner = repo
        .git_in(&nested)
        .args(["submodule", "status"])
        .run()
        .unwrap();
    assert!(
        inner.starts_with(' ') && inner.contains("lib/inner"),
        "{inner}"
    );

    let conflicted = porcelain(&repo, &path_of(State::Conflict));
    assert!(conflicted.contains("UU README.md"), "{conflicted}");

    let moved = repo.project_in(State::Renamed).unwrap();
    assert_eq!(moved.path, "src/projects/moved");
    let name = repo
        .git()
        .args([
            "config",
            "-f",
            ".gitmodules",
            "--get-regexp",
            r"submodule\..*\.path",
        ])
        .run()
        .unwrap();
    assert!(
        name.contains("submodule.src/docs/moved-from.path src/projects/moved"),
        "{name}"
    );
    assert_eq!(porcelain(&repo, &moved.path), "## main...origin/main\n");

    let differs = repo.project_in(State::UrlDiffers).unwrap();
    let configured = repo
        .git()
        .args([
            "config",
            &format!("submodule.{}.url", differs.submodule_name),
        ])
        .run()
        .unwrap();
    assert_ne!(configured.trim(), differs.url);
    assert!(configured.trim().ends_with("url-differs-mirror.git"));

    let work = path_of(State::DetachedWork);
    let holders = repo
        .git_in(&work)
        .args(["for-each-ref", "--contains", "HEAD"])
        .run()
        .unwrap();
    assert_eq!(holders, "", "no ref may hold the detached work");
    assert_eq!(porcelain(&repo, &work), "## HEAD (no branch)\n");
}

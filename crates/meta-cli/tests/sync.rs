//! `meta sync`: the real binary on fixtures whose pins moved on (as after pulling a teammate's
//! superproject commit). Clean projects reach their new pins on their branch, uninitialised
//! ones are cloned, and projects holding work are left byte for byte as they were.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::path::Path;

use meta_test::{MetaRepo, State, TreeSnapshot, git, git_truth};

use crate::common::{meta_git, stderr, stdout};

/// Pushes a new commit to `path`'s remote `main` and pins the superproject to it (committed),
/// as a teammate's push and superproject commit would. Returns the new commit.
fn advance_pin(repo: &MetaRepo, path: &str, scratch: &Path) -> String {
    let project = repo.project(path).unwrap();
    let remote = repo.remotes().join(format!("{}.git", project.name));
    let clone = scratch.join(format!("clone-{}", project.name));
    git(scratch)
        .args(["clone", "-q"])
        .arg(&remote)
        .arg(&clone)
        .run()
        .unwrap();
    std::fs::write(clone.join("upstream.txt"), "from a teammate\n").unwrap();
    git(&clone).args(["add", "upstream.txt"]).run().unwrap();
    git(&clone)
        .args(["commit", "-q", "-m", "teammate's work"])
        .run()
        .unwrap();
    git(&clone)
        .args(["push", "-q", "origin", "main"])
        .run()
        .unwrap();
    let sha = git(&clone).args(["rev-parse", "HEAD"]).run().unwrap();
    let sha = sha.trim().to_owned();
    repo.git()
        .args(["update-index", "--cacheinfo"])
        .arg(format!("160000,{sha},{path}"))
        .run()
        .unwrap();
    repo.git()
        .args(["commit", "-q", "-m", &format!("pin {path}")])
        .run()
        .unwrap();
    sha
}

/// Everything of a project that sync must not touch: its checkout and its repository.
fn snapshot_project(root: &Path, path: &str) -> (TreeSnapshot, TreeSnapshot) {
    (
        TreeSnapshot::take(&root.join(path)).unwrap(),
        TreeSnapshot::take(&root.join(".git/modules").join(path)).unwrap(),
    )
}

#[test]
fn sync_reaches_pins_clones_attaches_and_protects_work() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 9).unwrap();
    let root = repo.root();
    let path_in = |state| repo.project_in(state).unwrap().path.clone();
    let (detached, modified, untracked, ahead, off_pin, staged, clean) = (
        path_in(State::DetachedAtPin),
        path_in(State::Modified),
        path_in(State::Untracked),
        path_in(State::Ahead),
        path_in(State::OffPin),
        path_in(State::Staged),
        path_in(State::CleanOnBranch),
    );
    // Pins move on for every initialised project but the detached one (already at its pin)
    // and for one uninitialised project.
    let uninitialized: Vec<String> = repo
        .projects()
        .iter()
        .filter(|p| p.state == State::Uninitialized)
        .map(|p| p.path.clone())
        .collect();
    let mut new_pins = std::collections::BTreeMap::new();
    for path in [
        &modified,
        &untracked,
        &ahead,
        &off_pin,
        &staged,
        &clean,
        &uninitialized[0],
    ] {
        new_pins.insert(path.clone(), advance_pin(&repo, path, scratch.path()));
    }
    let protected = [&modified, &ahead, &staged];
    let before: Vec<_> = protected
        .iter()
        .map(|p| snapshot_project(root, p))
        .collect();
    let untracked_file = root.join(&untracked).join("untracked.txt");

    let out = meta_git(root).arg("sync").output().unwrap();
    let (text, err) = (stdout(&out), stderr(&out));
    // Only skips to protect work: success.
    assert_eq!(out.status.code(), Some(0), "{text}\n{err}");

    // Work untouched, byte for byte, checkout and repository alike.
    for (path, before) in protected.iter().zip(&before) {
        let after = snapshot_project(root, path);
        assert_eq!(
            after.0.changes_since(&before.0),
            Vec::<String>::new(),
            "{path}"
        );
        assert_eq!(
            after.1.changes_since(&before.1),
            Vec::<String>::new(),
            "{path}"
        );
        assert!(err.contains(&format!("skipped {path}")), "{err}");
    }
    assert!(
        err.contains("left 3 projects untouched to protect local work"),
        "{err}"
    );
    assert!(err.contains("uncommitted changes (1 modified)"), "{err}");
    assert!(err.contains("uncommitted changes (1 staged)"), "{err}");
    assert!(
        err.contains("branch `main` has 1 commit `origin/main` lacks"),
        "{err}"
    );
    assert!(
        text.contains("9 projects: 2 cloned, 3 updated, 1 attached to a branch, 0 up to date, 3 skipped, 0 failed"),
        "{text}"
    );
    // Untracked files are not work git would lose: the project moved, the file stayed.
    assert_eq!(std::fs::read_to_string(&untracked_file).unwrap(), "new\n");

    // What git says now.
    let synced = [
        &detached,
        &untracked,
        &off_pin,
        &clean,
        &uninitialized[0],
        &uninitialized[1],
    ];
    let paths: Vec<&str> = synced.iter().map(|p| p.as_str()).collect();
    for truth in git_truth(root, &paths).unwrap() {
        assert!(truth.initialized, "{truth:?}");
        assert!(truth.on_pin, "{truth:?}");
        // Every pin is its remote branch's tip, so every project is on `main`, not detached.
        assert_eq!(truth.branch.as_deref(), Some("main"), "{truth:?}");
        assert_eq!(truth.upstream.as_deref(), Some("origin/main"), "{truth:?}");
        assert_eq!((truth.ahead, truth.behind), (Some(0), Some(0)), "{truth:?}");
        if let Some(pin) = new_pins.get(&truth.path) {
            assert_eq!(truth.head.as_ref(), Some(pin), "{truth:?}");
        }
    }

    // A second run has nothing left to do but protect the same work.
    let out = meta_git(root).arg("sync").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "0 cloned, 0 updated, 0 attached to a branch, 6 up to date, 3 skipped, 0 failed"
        ),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_failing_project_fails_the_run_but_not_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 5).unwrap();
    let root = repo.root();
    // Pin repo001 to a commit its remote never had.
    let bogus = "0123456789abcdef0123456789abcdef01234567";
    repo.git()
        .args(["update-index", "--cacheinfo"])
        .arg(format!("160000,{bogus},src/data_model/repo001"))
        .run()
        .unwrap();
    repo.git()
        .args(["commit", "-q", "-m", "bad pin"])
        .run()
        .unwrap();
    let pin = advance_pin(&repo, "src/projects/repo003", scratch.path());
    // An uninitialised project whose remote is gone, and whose repository git no longer keeps.
    let gone = "src/docs/repo004";
    std::fs::remove_dir_all(root.join(".git/modules").join(gone)).unwrap();
    repo.git()
        .args(["config", "-f", ".gitmodules"])
        .arg(format!("submodule.{gone}.url"))
        .arg("file:///no/such/remote.git")
        .run()
        .unwrap();

    let out = meta_git(root)
        .args(["sync", "--jobs", "2"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("2 projects could not be synced"), "{err}");
    assert!(
        err.contains(&format!(
            "src/data_model/repo001: its pin {bogus} is not on its remote"
        )),
        "{err}"
    );
    // One line per failure, saying what git said first, with a hint; git's retries and the
    // full command line only with -v.
    assert!(
        err.contains(&format!(
            "caused by: {gone}: `git submodule update` failed: fatal: '/no/such/remote.git' does not appear to be a git repository"
        )),
        "{err}"
    );
    assert!(err.contains("hint: check the URL"), "{err}");
    assert!(err.contains("`meta sync -v` shows all"), "{err}");
    assert!(!err.contains("Retry scheduled"), "{err}");
    assert!(
        stdout(&out).contains("5 projects: 1 cloned, 1 updated"),
        "{}",
        stdout(&out)
    );
    let out = meta_git(root).args(["sync", "-v", gone]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("Retry scheduled"), "{err}");
    assert!(
        err.contains(&format!(
            "`git submodule update -q --checkout --recursive -- {gone}`"
        )),
        "{err}"
    );
    // The others went on.
    let truth = git_truth(root, &["src/projects/repo003"]).unwrap();
    assert_eq!(truth[0].head.as_deref(), Some(pin.as_str()));
    assert!(truth[0].on_pin);
    // Each run, failed as both were, was bracketed by core:state:enter / leave {name: "sync"}.
    let states = crate::common::logged_events(root, "core:state:");
    let kinds: Vec<(&str, &str)> = states
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["data"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("core:state:enter", "sync"),
            ("core:state:leave", "sync"),
            ("core:state:enter", "sync"),
            ("core:state:leave", "sync"),
        ]
    );
}

#[test]
fn selection_limits_what_is_synced_and_bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 9).unwrap();
    let root = repo.root();
    // repo008 (docs) and repo009 (data_model) are not initialised; sync only docs.
    let out = meta_git(root)
        .args(["sync", "--group", "docs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let truth = git_truth(root, &["src/docs/repo008", "src/data_model/repo009"]).unwrap();
    assert!(truth[0].initialized && truth[0].branch.as_deref() == Some("main"));
    assert!(!truth[1].initialized);

    let out = meta_git(root).args(["sync", "repo009"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("src/data_model/repo009: cloned at"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("1 project: 1 cloned"),
        "{}",
        stdout(&out)
    );

    let out = meta_git(root)
        .args(["sync", "--group", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("there is no group `nope`"));
    let out = meta_git(root)
        .args(["sync", "--jobs", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    let outside = tempfile::tempdir().unwrap();
    let out = meta_git(outside.path()).arg("sync").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not inside a meta-repo"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_branch_with_its_own_commits_is_never_moved() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 3).unwrap();
    let root = repo.root();
    // Detached at its pin, while the local `main` holds a commit no remote has.
    let path = repo.project_in(State::DetachedAtPin).unwrap().path.clone();
    repo.git_in(&path)
        .args(["checkout", "-q", "main"])
        .run()
        .unwrap();
    repo.git_in(&path)
        .args(["commit", "-q", "--allow-empty", "-m", "mine"])
        .run()
        .unwrap();
    let mine = repo
        .git_in(&path)
        .args(["rev-parse", "main"])
        .run()
        .unwrap();
    repo.git_in(&path)
        .args(["checkout", "-q", "--detach", "HEAD~1"])
        .run()
        .unwrap();
    let pin = advance_pin(&repo, &path, scratch.path());

    let out = meta_git(root).args(["sync", &path]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("branch `main` has commits the pin lacks"),
        "{}",
        stdout(&out)
    );
    let truth = &git_truth(root, &[path.as_str()]).unwrap()[0];
    assert_eq!(truth.head.as_deref(), Some(pin.as_str()));
    assert!(truth.detached, "{truth:?}");
    let main = repo
        .git_in(&path)
        .args(["rev-parse", "main"])
        .run()
        .unwrap();
    assert_eq!(main, mine);
}

/// A teammate's fresh clone of the superproject, every project still to be cloned over a
/// "network": an `ssh` stand-in that notes how many connections are open at once (each holds
/// 0.3 s before serving). Returns the largest number seen.
fn most_connections_at_once(repo: &MetaRepo, scratch: &Path, jobs: Option<&str>) -> usize {
    let tag = jobs.unwrap_or("default");
    let teammate = scratch.join(format!("teammate-{tag}"));
    git(scratch)
        .args(["clone", "-q"])
        .arg(repo.root())
        .arg(&teammate)
        .run()
        .unwrap();
    let log = scratch.join(format!("connections-{tag}"));
    std::fs::create_dir_all(&log).unwrap();
    let ssh = scratch.join(format!("fake-ssh-{tag}"));
    std::fs::write(
        &ssh,
        format!(
            r#"#!/bin/sh
for last; do :; done
mkdir "{log}/$$.open"
ls -d "{log}"/*.open | wc -l >> "{log}/counts"
sleep 0.3
rmdir "{log}/$$.open"
exec sh -c "$last"
"#,
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&ssh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut sync = meta_git(&teammate);
    sync.arg("sync")
        .env("GIT_SSH_COMMAND", &ssh)
        // Plain `ssh HOST COMMAND`, without probing the program with `-G` first.
        .env("GIT_SSH_VARIANT", "simple")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "url.ssh://fake.insteadOf")
        .env("GIT_CONFIG_VALUE_0", "file://");
    if let Some(jobs) = jobs {
        sync.args(["--jobs", jobs]);
    }
    let out = sync.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("6 projects: 6 cloned"),
        "{}",
        stdout(&out)
    );
    let counts = std::fs::read_to_string(log.join("counts")).unwrap();
    counts
        .lines()
        .map(|n| n.trim().parse::<usize>().unwrap())
        .max()
        .unwrap()
}

#[test]
fn clones_run_in_parallel_within_the_network_cap() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 6).unwrap();
    // Clones overlap up to the cap, never beyond it.
    let most = most_connections_at_once(&repo, scratch.path(), Some("3"));
    assert!((2..=3).contains(&most), "{most} connections at once");
    assert_eq!(
        most_connections_at_once(&repo, scratch.path(), Some("1")),
        1
    );
    // By default: one per CPU, at most 8.
    let cap = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8);
    let most = most_connections_at_once(&repo, scratch.path(), None);
    assert!(most <= cap, "{most} connections at once, cap {cap}");
}

#[test]
fn an_entry_git_cannot_initialise_fails_only_its_own_project() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 4).unwrap();
    // A fresh clone of the superproject, one of whose `.gitmodules` entries lost its URL:
    // `git submodule init` stops at it when given every project at once.
    let teammate = scratch.path().join("teammate");
    git(scratch.path())
        .args(["clone", "-q"])
        .arg(repo.root())
        .arg(&teammate)
        .run()
        .unwrap();
    let broken = "src/libraries/repo002";
    git(&teammate)
        .args(["config", "-f", ".gitmodules", "--unset"])
        .arg(format!("submodule.{broken}.url"))
        .run()
        .unwrap();

    let out = meta_git(&teammate).arg("sync").output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("1 project could not be synced"), "{err}");
    assert!(err.contains(&format!("caused by: {broken}: ")), "{err}");
    assert!(
        stdout(&out).contains("4 projects: 3 cloned"),
        "{}",
        stdout(&out)
    );
    let others = [
        "src/data_model/repo001",
        "src/projects/repo003",
        "src/docs/repo004",
    ];
    for truth in git_truth(&teammate, &others).unwrap() {
        assert!(truth.initialized && truth.on_pin, "{truth:?}");
    }
}

#[test]
fn a_terminal_gets_a_progress_bar_and_a_pipe_plain_lines() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 4).unwrap();
    let root = repo.root();
    // A pipe: one plain line per project that changed, no bar.
    let out = meta_git(root)
        .args(["sync", "src/docs/repo004"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("src/docs/repo004: cloned at"),
        "{}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("syncing ["), "{}", stderr(&out));

    // A terminal (util-linux `script` gives the command a pseudo-terminal): the bar is drawn
    // on it, lines about projects appear above it, and the summary ends the run.
    let command = format!(
        "{} sync src/projects/repo003",
        assert_cmd::cargo::cargo_bin("meta").display()
    );
    let out = assert_cmd::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(root)
        .env("TERM", "xterm")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "protocol.file.allow")
        .env("GIT_CONFIG_VALUE_0", "always")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("`script` (util-linux) runs the command on a pseudo-terminal");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("syncing ["), "{text}");
    assert!(text.contains("src/projects/repo003: cloned at"), "{text}");
    assert!(text.contains("1 project: 1 cloned"), "{text}");
}

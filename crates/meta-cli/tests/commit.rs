//! `meta commit`: the real binary on fixture meta-repos (real git, real hooks). Commits in
//! projects then one superproject commit with exactly the moved pins; refusals and failing
//! hooks that leave every repository byte-identical; a `meta commit` killed half-way, noticed
//! by the next command, then undone or finished.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::path::{Path, PathBuf};

use meta_test::{MetaRepo, git};
use serde_json::Value;

use crate::common::repos::{checkouts, install_hook, snapshots};
use crate::common::{logged_events, meta_git, stderr, stdout, wait_until};

/// A 10-project fixture (repo001 detached at its pin, repo002 with a modified file, repo003
/// with an untracked one, repo004 one commit ahead of its remote, repo005 detached behind its
/// pin, repo006 with a modified file, repo007 clean on main; see
/// `meta_test::State`), with the topic `feat/c` started in the superproject and repo002.
struct Fixture {
    _dir: tempfile::TempDir,
    repo: MetaRepo,
}

impl Fixture {
    fn build() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = MetaRepo::build(dir.path(), 10).unwrap();
        let fixture = Self { _dir: dir, repo };
        // repo006 has a staged change: unstaged, so only what a test stages takes part.
        git(&fixture.dir("repo006"))
            .args(["reset", "-q"])
            .run()
            .unwrap();
        fixture.meta(&["branch", "feat/c", "repo002"]);
        fixture
    }

    fn root(&self) -> &Path {
        self.repo.root()
    }

    fn path(&self, name: &str) -> String {
        let project = self.repo.projects().iter().find(|p| p.name == name);
        project.unwrap().path.clone()
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.root().join(self.path(name))
    }

    fn meta(&self, args: &[&str]) -> String {
        let out = meta_git(self.root()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// A new file `file` staged in the project.
    fn stage(&self, name: &str, file: &str) {
        let dir = self.dir(name);
        std::fs::write(dir.join(file), format!("{file}\n")).unwrap();
        git(&dir).args(["add", "--", file]).run().unwrap();
    }

    fn head(&self, dir: &Path) -> String {
        git(dir)
            .args(["rev-parse", "HEAD"])
            .run()
            .unwrap()
            .trim()
            .to_owned()
    }

    /// The pin the superproject's `rev` records for the project.
    fn pin(&self, rev: &str, name: &str) -> String {
        git(self.root())
            .args(["rev-parse", &format!("{rev}:{}", self.path(name))])
            .run()
            .unwrap()
            .trim()
            .to_owned()
    }

    /// A `pre-commit` hook in the repository at `dir` (a project's or the superproject's).
    fn hook(&self, dir: &Path, body: &str) -> PathBuf {
        install_hook(dir, "pre-commit", body)
    }

    /// Runs `meta ARGS`, expects exit `code` and every repository unchanged; returns stderr.
    fn refused(&self, args: &[&str], code: i32) -> String {
        let before = snapshots(&self.repo);
        let out = meta_git(self.root()).args(args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert_unchanged(&self.repo, &before);
        err
    }
}

fn assert_unchanged(repo: &MetaRepo, before: &[String]) {
    let after = snapshots(repo);
    for (dir, (was, is)) in checkouts(repo).iter().zip(before.iter().zip(&after)) {
        assert_eq!(was, is, "{} changed", dir.display());
    }
}

fn trailer(dir: &Path, rev: &str) -> String {
    git(dir)
        .args([
            "log",
            "-1",
            "--format=%(trailers:key=Meta-Topic,valueonly)",
            rev,
        ])
        .run()
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn commits_in_each_project_then_records_exactly_the_moved_pins() {
    let f = Fixture::build();
    let root = f.root();
    // repo001: detached at its pin, joins the topic at its first commit (branch created).
    f.stage("repo001", "one.txt");
    // repo002: on the topic, one staged file; its modified file stays out (no -a).
    f.stage("repo002", "two.txt");
    // repo003: on main, no topic branch, one staged file.
    f.stage("repo003", "three.txt");
    std::fs::write(root.join("notes.txt"), "superproject's own change\n").unwrap();
    git(root).args(["add", "notes.txt"]).run().unwrap();
    let repo004_pin = f.pin("HEAD", "repo004");
    let before_head = f.head(root);

    let out = f.meta(&["commit", "-m", "Change c\n\nWhy it matters.", "--json"]);
    let json: Value = serde_json::from_str(&out).unwrap();

    let commit = f.head(root);
    assert_ne!(commit, before_head);
    assert_eq!(json["topic"], "feat/c");
    assert_eq!(json["dry_run"], false);
    assert_eq!(json["commit"], commit.as_str());
    assert_eq!(
        json["superproject_staged"],
        serde_json::json!(["notes.txt"])
    );
    let projects = json["projects"].as_array().unwrap();
    let paths: Vec<&str> = projects
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [f.path("repo001"), f.path("repo002"), f.path("repo003")]
    );
    let attach: Vec<&str> = projects
        .iter()
        .map(|p| p["attach"].as_str().unwrap())
        .collect();
    assert_eq!(attach, ["create", "stay", "create"]);

    for (i, name) in ["repo001", "repo002", "repo003"].iter().enumerate() {
        let dir = f.dir(name);
        let head = f.head(&dir);
        let branch = git(&dir)
            .args(["symbolic-ref", "--short", "HEAD"])
            .run()
            .unwrap();
        assert_eq!(branch.trim(), "feat/c", "{name} is on the topic");
        assert_eq!(trailer(&dir, "HEAD"), "feat/c");
        assert_eq!(f.pin("HEAD", name), head, "{name}'s pin is its new commit");
        assert_eq!(projects[i]["to"], head.as_str());
        assert_eq!(projects[i]["committed"], true);
        assert_eq!(projects[i]["count"], 1);
        assert_eq!(projects[i]["commits"][0]["subject"], "Change c");
    }
    // Only the staged file went in; the modified one is still modified, not staged.
    let repo002 = git(&f.dir("repo002"))
        .args(["status", "--porcelain", "--untracked-files=no"])
        .run()
        .unwrap();
    assert_eq!(repo002.trim(), "M src/file1.txt");

    // The superproject commit changed exactly the three pins and its own file.
    let changed = git(root)
        .args(["diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD"])
        .run()
        .unwrap();
    let mut expected = vec![
        "notes.txt".to_owned(),
        f.path("repo001"),
        f.path("repo002"),
        f.path("repo003"),
    ];
    expected.sort();
    assert_eq!(changed.lines().collect::<Vec<_>>(), expected);
    assert_eq!(f.pin("HEAD", "repo004"), repo004_pin);
    let body = git(root).args(["log", "-1", "--format=%B"]).run().unwrap();
    assert!(
        body.starts_with("Change c\n\nWhy it matters.\n\n"),
        "{body}"
    );
    for name in ["repo001", "repo002", "repo003"] {
        let short = &f.head(&f.dir(name))[..7];
        assert!(
            body.contains(&format!("{}: 1 commit\n  {short} Change c\n", f.path(name))),
            "{body}"
        );
    }
    assert_eq!(trailer(root, "HEAD"), "feat/c");
    let status = git(root)
        .args(["status", "--porcelain", "--ignore-submodules=untracked"])
        .run()
        .unwrap();
    assert!(
        status
            .lines()
            .all(|l| !l.contains("repo001") && !l.contains("repo003")),
        "recorded projects are at their pins: {status}"
    );

    let events = logged_events(root, "core:change:committed");
    assert_eq!(events.len(), 1, "{events:?}");
    let data = &events[0]["data"];
    assert_eq!(data["topic"], "feat/c");
    assert_eq!(data["commit"], commit.as_str());
    assert_eq!(data["projects"].as_array().unwrap().len(), 3);
    assert_eq!(data["projects"][0]["path"], f.path("repo001").as_str());
    assert_eq!(
        data["projects"][0]["commit"],
        f.head(&f.dir("repo001")).as_str()
    );
    // `meta branch` (which made the topic) and `meta commit` each bracket their work.
    let bulk: Vec<(String, String)> = logged_events(root, "core:state:")
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["data"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let named = |ty: &str, name: &str| (ty.to_owned(), name.to_owned());
    assert_eq!(
        bulk[bulk.len() - 2..],
        [
            named("core:state:enter", "commit"),
            named("core:state:leave", "commit")
        ],
        "{bulk:?}"
    );

    // Commits made with git on the topic branch join the next one; nothing else does.
    let repo002 = f.dir("repo002");
    git(&repo002)
        .args(["commit", "-q", "-a", "-m", "by hand"])
        .run()
        .unwrap();
    let out = f.meta(&["commit", "-m", "Record by hand"]);
    assert!(out.contains(&f.path("repo002")), "{out}");
    assert!(out.contains("recorded"), "{out}");
    assert_eq!(f.pin("HEAD", "repo002"), f.head(&repo002));
    let changed = git(root)
        .args(["diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD"])
        .run()
        .unwrap();
    assert_eq!(changed.trim(), f.path("repo002"));
}

#[test]
fn a_failing_hook_undoes_every_commit_and_restores_every_index() {
    let f = Fixture::build();
    f.stage("repo001", "one.txt");
    f.stage("repo003", "three.txt");
    f.stage("repo007", "seven.txt");
    // `-a` stages repo002's modified file for its commit: after the undo it must be back to
    // modified-not-staged, exactly as before.
    let lint = f.hook(
        &f.dir("repo007"),
        "echo 'lint: seven.txt is not allowed' >&2; exit 1",
    );
    let err = f.refused(&["commit", "-a", "-m", "All"], 1);
    assert!(err.contains(&f.path("repo007")), "{err}");
    assert!(err.contains("lint: seven.txt is not allowed"), "{err}");
    assert!(err.contains("put back"), "{err}");
    assert!(err.contains("--no-verify"), "{err}");

    // A failing hook in the superproject, after every project committed, undoes them all.
    std::fs::remove_file(lint).unwrap();
    f.hook(f.root(), "echo 'superproject says no' >&2; exit 1");
    let err = f.refused(&["commit", "-a", "-m", "All"], 1);
    assert!(err.contains("the superproject"), "{err}");
    assert!(err.contains("superproject says no"), "{err}");

    // --no-verify skips hooks, everywhere.
    f.meta(&["commit", "-a", "-m", "All", "--no-verify"]);
    assert_eq!(
        f.pin("HEAD", "repo007"),
        f.head(&f.dir("repo007")),
        "committed once hooks are skipped"
    );
}

#[test]
fn refusals_name_the_repository_and_change_nothing() {
    let f = Fixture::build();

    let err = f.refused(&["commit", "-m", "Nothing"], 1);
    assert!(err.contains("nothing to commit"), "{err}");
    assert!(err.contains("-a"), "{err}");

    let err = f.refused(&["commit", "-m", "x", "no-such-project"], 2);
    assert!(
        err.contains("no project matches `no-such-project`"),
        "{err}"
    );

    f.stage("repo002", "two.txt");
    let err = f.refused(&["commit", "-m", "  "], 1);
    assert!(err.contains("message is empty"), "{err}");

    // A pin that would go backwards: repo005 is detached one commit behind its pin.
    f.stage("repo005", "five.txt");
    let err = f.refused(&["commit", "-m", "Back"], 1);
    assert!(err.contains(&f.path("repo005")), "{err}");
    assert!(err.contains("backwards"), "{err}");
    assert!(err.contains("--allow-rewind"), "{err}");

    // A project in the middle of a rebase (stopped by `--exec false`, no conflict).
    let repo003 = f.dir("repo003");
    let stopped = git(&repo003)
        .args(["rebase", "--exec", "false", "HEAD~1"])
        .output()
        .unwrap();
    assert!(!stopped.status.success());
    f.stage("repo003", "three.txt");
    let err = f.refused(&["commit", "-m", "Mid", "repo003"], 1);
    assert!(err.contains("in the middle of a rebase"), "{err}");
    assert!(err.contains("git rebase --continue"), "{err}");
    git(&repo003).args(["rebase", "--abort"]).run().unwrap();

    // The superproject detached.
    let root = f.root();
    git(root)
        .args(["checkout", "-q", "--detach"])
        .run()
        .unwrap();
    let err = f.refused(&["commit", "-m", "Detached", "repo002"], 1);
    assert!(err.contains("not on a branch"), "{err}");
    assert!(err.contains("git switch"), "{err}");
    git(root).args(["checkout", "-q", "feat/c"]).run().unwrap();

    // --dry-run prints the plan and changes nothing; --allow-rewind lets the pin go back.
    let before = snapshots(&f.repo);
    let out = meta_git(root)
        .args([
            "commit",
            "-m",
            "Back",
            "--allow-rewind",
            "--dry-run",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_unchanged(&f.repo, &before);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["commit"], Value::Null);
    let plan: Vec<&str> = json["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        plan.contains(&format!("git -C {} switch --create=feat/c", f.path("repo005")).as_str()),
        "{plan:?}"
    );
    assert!(
        plan.last().unwrap().starts_with("git commit --quiet"),
        "{plan:?}"
    );
    f.meta(&["commit", "-m", "Back", "--allow-rewind"]);
    let body = git(root).args(["log", "-1", "--format=%B"]).run().unwrap();
    assert!(
        body.contains(&format!("{}: rewound to", f.path("repo005"))),
        "{body}"
    );
}

#[test]
fn a_conflicted_project_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut repo = MetaRepo::build(dir.path(), 3).unwrap();
    let conflicted = repo.add_conflicted().unwrap();
    let root = repo.root().to_path_buf();
    let run = |args: &[&str]| meta_git(&root).args(args).output().unwrap();
    let before = snapshots(&repo);
    let out = run(&["commit", "-m", "x"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&conflicted.path), "{err}");
    assert!(err.contains("conflicted file"), "{err}");
    assert_unchanged(&repo, &before);
}

#[test]
fn record_only_puts_commits_made_with_git_on_the_topic() {
    let f = Fixture::build();
    let repo003 = f.dir("repo003");
    std::fs::write(repo003.join("by-hand.txt"), "x\n").unwrap();
    git(&repo003).args(["add", "by-hand.txt"]).run().unwrap();
    git(&repo003)
        .args(["commit", "-q", "-m", "by hand on main"])
        .run()
        .unwrap();
    // Without --record-only a project off the topic with no changes takes no part.
    f.refused(&["commit", "-m", "x", "repo003"], 1);
    let out = f.meta(&[
        "commit",
        "--record-only",
        "-m",
        "Record",
        "repo003",
        "--json",
    ]);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["projects"][0]["committed"], false);
    assert_eq!(json["projects"][0]["attach"], "create");
    let head = f.head(&repo003);
    assert_eq!(json["projects"][0]["to"], head.as_str());
    assert_eq!(f.pin("HEAD", "repo003"), head);
    let branch = git(&repo003)
        .args(["symbolic-ref", "--short", "HEAD"])
        .run()
        .unwrap();
    assert_eq!(
        branch.trim(),
        "feat/c",
        "a recorded commit sits on the topic"
    );
}

/// `meta commit` killed with SIGKILL while a hook blocks in one project after another
/// project committed; the next commands notice the journal; `--abort` puts everything back,
/// `--continue` finishes.
#[test]
fn a_killed_commit_is_noticed_then_undone_or_finished() {
    let f = Fixture::build();
    let root = f.root().to_path_buf();
    f.stage("repo002", "two.txt");
    f.stage("repo007", "seven.txt");
    let marks = tempfile::tempdir().unwrap();
    let entered = marks.path().join("entered");
    let release = marks.path().join("release");
    f.hook(
        &f.dir("repo007"),
        &format!(
            "touch '{}'\nwhile [ ! -e '{}' ]; do sleep 0.05; done\nexit 1",
            entered.display(),
            release.display()
        ),
    );
    let before = snapshots(&f.repo);
    let repo002_before = f.head(&f.dir("repo002"));

    let kill_mid_commit = || {
        let mut child = crate::common::meta_child(&root, &["commit", "-m", "Killed"])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .envs(crate::common::GIT_IDENTITY)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_until("the hook in repo007 to start", || entered.exists());
        wait_until("repo002 to commit", || {
            f.head(&f.dir("repo002")) != repo002_before
        });
        child.kill().unwrap();
        child.wait().unwrap();
        // The orphaned git in repo007 fails once its hook is released.
        std::fs::write(&release, "").unwrap();
        let lock = PathBuf::from(
            git(&f.dir("repo007"))
                .args([
                    "rev-parse",
                    "--path-format=absolute",
                    "--git-path",
                    "index.lock",
                ])
                .run()
                .unwrap()
                .trim(),
        );
        wait_until("git in repo007 to finish", || !lock.exists());
        std::fs::remove_file(&entered).unwrap();
        std::fs::remove_file(&release).unwrap();
    };

    kill_mid_commit();
    let out = meta_git(&root).args(["status"]).output().unwrap();
    let err = stderr(&out);
    assert!(err.contains("interrupted `meta commit`"), "{err}");
    assert!(err.contains("meta commit --abort"), "{err}");
    assert!(err.contains("meta commit --continue"), "{err}");
    let out = meta_git(&root).args(["switch", "main"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "changes refuse to start");
    assert!(stderr(&out).contains("--abort"), "{}", stderr(&out));

    let out = f.meta(&["commit", "--abort"]);
    assert!(out.contains("undid the interrupted `meta commit`"), "{out}");
    assert_unchanged(&f.repo, &before);
    let out = meta_git(&root).args(["status"]).output().unwrap();
    assert!(!stderr(&out).contains("interrupted"), "{}", stderr(&out));
    let out = meta_git(&root)
        .args(["commit", "--abort"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("there is none"), "{}", stderr(&out));

    // Again, then finish it once the hook is gone.
    kill_mid_commit();
    f.hook(&f.dir("repo007"), "exit 0");
    let out = f.meta(&["commit", "--continue"]);
    assert!(out.contains("committed"), "{out}");
    for name in ["repo002", "repo007"] {
        assert_eq!(f.pin("HEAD", name), f.head(&f.dir(name)), "{name} recorded");
        assert_eq!(trailer(&f.dir(name), "HEAD"), "feat/c");
    }
    let log = git(&root)
        .args(["log", "--format=%s", "main..HEAD"])
        .run()
        .unwrap();
    assert_eq!(log.trim(), "Killed", "one superproject commit");
    let out = meta_git(&root).args(["status"]).output().unwrap();
    assert!(!stderr(&out).contains("interrupted"), "{}", stderr(&out));
}

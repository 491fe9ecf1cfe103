//! `meta switch`: the real binary on fixture meta-repos (real git, local bare remotes). Two
//! topics over some projects, projects without the topic landing on the recorded pin, and
//! refusals and half-way failures that leave every repository byte-identical.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::path::{Path, PathBuf};

use meta_test::{MetaRepo, git};
use serde_json::Value;

use crate::common::repos::{checkouts, install_hook, snapshots};
use crate::common::{logged_events, meta_git, stderr, stdout};

fn on(dir: &Path) -> (Option<String>, String) {
    let branch = git(dir)
        .args(["symbolic-ref", "-q", "--short", "HEAD"])
        .output()
        .unwrap();
    let branch = branch
        .status
        .success()
        .then(|| String::from_utf8_lossy(&branch.stdout).trim().to_owned());
    let head = git(dir).args(["rev-parse", "HEAD"]).run().unwrap();
    (branch, head.trim().to_owned())
}

/// A fixture of 6 checked-out projects (and 2 not) with two topics:
/// `feat/a` over repo001, repo003 and repo004, with a new commit in repo001;
/// `feat/b` over repo003 and repo005, with a new commit adding `b.txt` in repo005.
/// Both record their projects' tips. Left on `main`.
struct Topics {
    _dir: tempfile::TempDir,
    repo: MetaRepo,
}

impl Topics {
    fn build() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = MetaRepo::build(dir.path(), 8).unwrap();
        let topics = Self { _dir: dir, repo };
        topics.meta(&["branch", "feat/a", "repo001", "repo003", "repo004"]);
        topics.commit_in("repo001", "a.txt");
        topics.meta(&["switch", "main"]);
        topics.meta(&["branch", "feat/b", "repo003", "repo005"]);
        topics.commit_in("repo005", "b.txt");
        topics.meta(&["switch", "main"]);
        topics
    }

    fn root(&self) -> &Path {
        self.repo.root()
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.root().join(self.path(name))
    }

    fn path(&self, name: &str) -> String {
        let project = self.repo.projects().iter().find(|p| p.name == name);
        project.unwrap().path.clone()
    }

    fn meta(&self, args: &[&str]) -> String {
        let out = meta_git(self.root()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// A commit adding `file` on the project's current branch, recorded by the superproject.
    fn commit_in(&self, name: &str, file: &str) {
        let dir = self.dir(name);
        std::fs::write(dir.join(file), "new\n").unwrap();
        git(&dir).args(["add", "--", file]).run().unwrap();
        git(&dir).args(["commit", "-q", "-m", file]).run().unwrap();
        let root = self.root();
        git(root)
            .args(["add", "--", &self.path(name)])
            .run()
            .unwrap();
        git(root)
            .args(["commit", "-q", "-m", &format!("record {name}")])
            .run()
            .unwrap();
    }

    fn pin(&self, name: &str) -> String {
        let out = git(self.root())
            .args(["rev-parse", &format!("main:{}", self.path(name))])
            .run()
            .unwrap();
        out.trim().to_owned()
    }

    /// Runs `meta ARGS`, expects exit `code` and that nothing changed; returns stderr.
    fn refused(&self, args: &[&str], code: i32) -> String {
        let before = snapshots(&self.repo);
        let out = meta_git(self.root()).args(args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        let after = snapshots(&self.repo);
        for (dir, (was, is)) in checkouts(&self.repo).iter().zip(before.iter().zip(&after)) {
            assert_eq!(was, is, "{} changed", dir.display());
        }
        err
    }
}

fn tip_of(dir: &Path, branch: &str) -> String {
    let out = git(dir)
        .args(["rev-parse", &format!("refs/heads/{branch}")])
        .run()
        .unwrap();
    out.trim().to_owned()
}

#[test]
fn switch_between_two_topics_lands_others_on_the_recorded_pin() {
    let t = Topics::build();
    let root = t.root();
    let json: Value = serde_json::from_str(&t.meta(&["switch", "feat/a", "--json"])).unwrap();
    assert_eq!(json["topic"], "feat/a");
    assert_eq!(json["dry_run"], false);
    assert_eq!(json["superproject"]["to_branch"], "feat/a");
    let a = Some("feat/a".to_owned());
    let main = Some("main".to_owned());
    assert_eq!(on(root).0, a);
    for name in ["repo001", "repo003", "repo004"] {
        let dir = t.dir(name);
        assert_eq!(on(&dir), (a.clone(), tip_of(&dir, "feat/a")), "{name}");
    }
    // repo005 has no feat/a: the pin feat/a records is origin/main's tip, so it is on main.
    assert_eq!(on(&t.dir("repo005")), (main.clone(), t.pin("repo005")));
    let projects = json["projects"].as_array().unwrap();
    let five = projects
        .iter()
        .find(|p| p["path"] == t.path("repo005").as_str())
        .unwrap();
    assert_eq!(five["target"], "tracked");
    assert_eq!(five["to_branch"], "main");
    let skipped = json["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped.iter().all(|s| s["reason"] == "not-initialized"));
    // Dirty projects that need not move (on main at the pin) are left alone.
    for name in ["repo002", "repo006"] {
        let p = projects.iter().find(|p| p["path"] == t.path(name).as_str());
        assert_eq!(p.unwrap()["unchanged"], true, "{name}");
    }

    let text = t.meta(&["switch", "feat/b"]);
    assert!(text.contains("switched to topic `feat/b`"), "{text}");
    assert_eq!(on(root).0, Some("feat/b".to_owned()));
    for name in ["repo003", "repo005"] {
        let dir = t.dir(name);
        assert_eq!(
            on(&dir),
            (Some("feat/b".to_owned()), tip_of(&dir, "feat/b"))
        );
    }
    // repo001 goes back to the pin, the tip of main: attached to main.
    assert_eq!(on(&t.dir("repo001")), (main, t.pin("repo001")));
    // repo004's main holds a commit the pin lacks: detached at the pin, main untouched.
    let four = t.dir("repo004");
    assert_eq!(on(&four), (None, t.pin("repo004")));
    assert_ne!(tip_of(&four, "main"), t.pin("repo004"));
    assert!(text.contains("detached at the recorded pin"), "{text}");

    let events = logged_events(root, "core:state");
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["data"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(kinds.len() >= 4, "{kinds:?}");
    let last = &kinds[kinds.len() - 2..];
    assert_eq!(
        last,
        [
            ("core:state:enter", "switch"),
            ("core:state:leave", "switch")
        ]
    );
    assert!(events[0]["data"]["pid"].as_u64().is_some());
}

#[test]
fn a_dirty_project_refuses_everything_unless_autostash() {
    let t = Topics::build();
    t.meta(&["switch", "feat/a"]);
    let file = t.dir("repo001").join("src/file1.txt");
    std::fs::write(&file, "mine\n").unwrap();
    git(&t.dir("repo004"))
        .args(["rm", "-q", "--cached", "src/file2.txt"])
        .run()
        .unwrap();
    let err = t.refused(&["switch", "feat/b"], 1);
    assert!(err.contains("refused, nothing was changed"), "{err}");
    assert!(
        err.contains(&format!("`{}` has 1 changed file", t.path("repo001"))),
        "{err}"
    );
    assert!(
        err.contains(&format!("`{}` has 1 changed file", t.path("repo004"))),
        "{err}"
    );
    assert!(err.contains("--autostash"), "{err}");

    let text = t.meta(&["switch", "feat/b", "--autostash"]);
    assert!(text.contains("changes stashed and restored"), "{text}");
    assert_eq!(on(&t.dir("repo001")).0, Some("main".to_owned()));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine\n");
    let staged = git(&t.dir("repo004"))
        .args(["diff", "--cached", "--name-only"])
        .run()
        .unwrap();
    assert_eq!(staged.trim(), "src/file2.txt");
    for name in ["repo001", "repo004"] {
        let stashes = git(&t.dir(name)).args(["stash", "list"]).run().unwrap();
        assert_eq!(stashes, "", "{name}");
    }

    // A stash that cannot pop: b.txt changed on feat/b, and main has no b.txt.
    let repo005 = t.dir("repo005");
    std::fs::write(repo005.join("b.txt"), "mine\n").unwrap();
    let out = meta_git(t.root())
        .args(["switch", "feat/a", "--autostash", "--json"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("stashed changes did not apply cleanly"),
        "{err}"
    );
    assert!(err.contains("git stash drop"), "{err}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["stash_conflicts"],
        serde_json::json!([t.path("repo005")])
    );
    assert_eq!(on(t.root()).0, Some("feat/a".to_owned()));
    assert_eq!(on(&repo005).0, Some("main".to_owned()));
    let stashes = git(&repo005).args(["stash", "list"]).run().unwrap();
    assert_eq!(stashes.lines().count(), 1, "{stashes}");
}

#[test]
fn git_refusing_or_a_failing_hook_half_way_puts_everything_back() {
    let t = Topics::build();
    t.meta(&["switch", "feat/a"]);
    // Projects go in path order: repo001, repo005, repo004, then repo003; the superproject last.
    // repo005 refuses after repo001 switched; repo003's hook fails after the other three.
    let five = t.dir("repo005");
    std::fs::write(five.join("b.txt"), "in the way\n").unwrap();
    let err = t.refused(&["switch", "feat/b"], 1);
    assert!(err.contains("every repository is as it was"), "{err}");
    assert!(err.contains("b.txt"), "{err}");
    assert!(
        err.contains("the 1 git call made before it was undone"),
        "{err}"
    );
    std::fs::remove_file(five.join("b.txt")).unwrap();

    install_hook(
        &t.dir("repo003"),
        "post-checkout",
        "echo hook says no >&2\nexit 1",
    );
    let err = t.refused(&["switch", "feat/b"], 1);
    assert!(err.contains("every repository is as it was"), "{err}");
    assert!(err.contains("hook says no"), "{err}");
    assert!(
        err.contains("the 3 git calls made before it were undone"),
        "{err}"
    );
    let events = logged_events(t.root(), "core:state:leave");
    assert!(!events.is_empty());
}

#[test]
fn dry_run_prints_the_plan_and_bad_input_is_refused() {
    let t = Topics::build();
    let before = snapshots(&t.repo);
    let out = meta_git(t.root())
        .args(["switch", "feat/a", "--dry-run"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    let json: Value =
        serde_json::from_str(&t.meta(&["switch", "feat/a", "--dry-run", "--json"])).unwrap();
    assert_eq!(json["dry_run"], true);
    let plan: Vec<String> = json["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(lines, plan);
    assert_eq!(plan.last().unwrap(), "git switch -q feat/a");
    assert!(
        plan.contains(&format!("git -C {} switch -q feat/a", t.path("repo001"))),
        "{plan:?}"
    );
    assert_eq!(snapshots(&t.repo), before);

    let err = t.refused(&["switch", "feat/c"], 2);
    assert!(err.contains("there is no topic `feat/c`"), "{err}");
    assert!(err.contains("`feat/a`, `feat/b`"), "{err}");
    let err = t.refused(&["switch", "--", "-x"], 2);
    assert!(err.contains("could read it as an option"), "{err}");
    let err = t.refused(&["switch", "a..b"], 2);
    assert!(err.contains("cannot be a branch name"), "{err}");

    // Mid-merge: refused with the fix.
    let three = t.dir("repo003");
    let merge_head = git(&three)
        .args([
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            "MERGE_HEAD",
        ])
        .run()
        .unwrap();
    std::fs::write(merge_head.trim(), format!("{}\n", on(&three).1)).unwrap();
    let err = t.refused(&["switch", "feat/a"], 1);
    assert!(err.contains("in the middle of a merge"), "{err}");

    let help = t.meta(&["switch", "--help"]);
    assert!(help.contains("--json prints one object"), "{help}");
    assert!(help.contains("\"to_branch\""), "{help}");
}

/// A `meta switch` killed while a `post-checkout` hook blocks in the second project: the next
/// command says so; `--abort` puts every repository back (the switch in flight included);
/// `--continue` switches again.
#[test]
fn a_killed_switch_is_undone_or_finished() {
    let topics = Topics::build();
    let root = topics.root().to_path_buf();
    let marks = tempfile::tempdir().unwrap();
    let entered = marks.path().join("entered");
    let release = marks.path().join("release");
    let done = marks.path().join("done");
    let repo003 = topics.dir("repo003");
    let hook = install_hook(
        &repo003,
        "post-checkout",
        &format!(
            "touch '{}'\nwhile [ ! -e '{}' ]; do sleep 0.05; done\ntouch '{}'",
            entered.display(),
            release.display(),
            done.display()
        ),
    );
    let before = snapshots(&topics.repo);
    let hook_done = || {
        let finished = done.exists();
        if finished {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        finished
    };

    crate::common::kill_meta_when(&root, &["switch", "feat/a"], &entered, &release, hook_done);
    std::fs::remove_file(&done).unwrap();
    let out = meta_git(&root).args(["status"]).output().unwrap();
    assert!(
        stderr(&out).contains("interrupted `meta switch`"),
        "{}",
        stderr(&out)
    );
    let out = meta_git(&root).args(["branch", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "changes refuse to start");
    let out = topics.meta(&["switch", "--abort"]);
    assert!(out.contains("undid the interrupted `meta switch`"), "{out}");
    let after = snapshots(&topics.repo);
    for (dir, (was, is)) in checkouts(&topics.repo)
        .iter()
        .zip(before.iter().zip(&after))
    {
        assert_eq!(was, is, "{} is not back", dir.display());
    }

    crate::common::kill_meta_when(&root, &["switch", "feat/a"], &entered, &release, hook_done);
    std::fs::remove_file(&hook).unwrap();
    topics.meta(&["switch", "--continue"]);
    assert_eq!(on(&root).0.as_deref(), Some("feat/a"));
    assert_eq!(on(&topics.dir("repo003")).0.as_deref(), Some("feat/a"));
    let out = meta_git(&root).args(["status"]).output().unwrap();
    assert!(!stderr(&out).contains("interrupted"), "{}", stderr(&out));
}

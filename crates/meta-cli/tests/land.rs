//! `meta land`: the real binary, real git, local bare remotes where the projects' reviews are
//! merged the three ways platforms do it (squash, rebase, merge commit), the topic branches
//! deleted there; then the re-pinning commit, the `--landed` verdict and a fresh clone that
//! syncs. And the cases where nothing may be written.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::path::{Path, PathBuf};

use meta_test::{MetaRepo, git};
use serde_json::Value;

use crate::common::repos::{checkouts, install_hook, snapshots};
use crate::common::{logged_events, meta_git, stderr, stdout};

const TOPIC: &str = "feat/land";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Merge {
    Squash,
    /// The branch moved meanwhile, then the topic is squashed onto it.
    SquashOntoMoved,
    Rebase,
    Commit,
    /// Squashed after the reviewer changed a line: a different change.
    SquashChanged,
}

/// Projects repo002 and repo007 of a 10-project fixture take part in `feat/land`, with three
/// commits each, recorded by `meta commit`, their topic branches pushed to their remotes.
struct Fixture {
    dir: tempfile::TempDir,
    repo: MetaRepo,
}

impl Fixture {
    fn build() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = MetaRepo::build(&dir.path().join("f"), 10).unwrap();
        let f = Self { dir, repo };
        // repo006 has a staged change: unstaged, so the topic is only what this fixture makes.
        git(&f.dir("repo006")).args(["reset", "-q"]).run().unwrap();
        // repo002 has a modified file: restored, so abandoning can move it.
        git(&f.dir("repo002"))
            .args(["checkout", "-q", "--", "."])
            .run()
            .unwrap();
        f.meta(&["branch", TOPIC, "repo002", "repo007"]);
        for name in ["repo002", "repo007"] {
            let project = f.dir(name);
            for n in 1..=3 {
                std::fs::write(project.join(format!("land{n}.txt")), format!("{n}\n")).unwrap();
                git(&project)
                    .args(["add", &format!("land{n}.txt")])
                    .run()
                    .unwrap();
                git(&project)
                    .args(["commit", "-q", "-m", &format!("land {n}")])
                    .run()
                    .unwrap();
            }
            git(&project)
                .args(["push", "-q", "origin", TOPIC])
                .run()
                .unwrap();
        }
        f.meta(&["commit", "-m", "Land feature"]);
        f
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

    fn remote(&self, name: &str) -> PathBuf {
        self.repo.remotes().join(format!("{name}.git"))
    }

    fn meta(&self, args: &[&str]) -> String {
        let out = meta_git(self.root()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    }

    fn pin(&self, rev: &str, name: &str) -> String {
        let out = git(self.root())
            .args(["rev-parse", &format!("{rev}:{}", self.path(name))])
            .run()
            .unwrap();
        out.trim().to_owned()
    }

    /// Merges the topic into `main` on the project's remote, as a platform would, and deletes
    /// the topic branch there. Returns the remote's new `main`.
    fn merge_on_remote(&self, name: &str, how: Merge) -> String {
        let work = self.dir.path().join(format!("review-{name}"));
        let _ = std::fs::remove_dir_all(&work);
        let url = self.remote(name);
        git(self.dir.path())
            .args(["clone", "-q", url.to_str().unwrap(), work.to_str().unwrap()])
            .run()
            .unwrap();
        let run = |args: &[&str]| git(&work).args(args).run().unwrap();
        let topic = format!("origin/{TOPIC}");
        if matches!(how, Merge::SquashOntoMoved | Merge::Rebase) {
            std::fs::write(work.join("elsewhere.txt"), "someone else's change\n").unwrap();
            run(&["add", "elsewhere.txt"]);
            run(&["commit", "-q", "-m", "meanwhile on main"]);
        }
        match how {
            Merge::Squash | Merge::SquashOntoMoved | Merge::SquashChanged => {
                run(&["merge", "-q", "--squash", &topic]);
                if how == Merge::SquashChanged {
                    std::fs::write(work.join("land2.txt"), "changed in review\n").unwrap();
                    run(&["add", "land2.txt"]);
                }
                run(&["commit", "-q", "-m", "Land feature (#12)"]);
            }
            Merge::Rebase => {
                run(&["checkout", "-q", "-b", "rebased", &topic]);
                run(&["rebase", "-q", "main"]);
                run(&["checkout", "-q", "main"]);
                run(&["merge", "-q", "--ff-only", "rebased"]);
            }
            Merge::Commit => {
                run(&["merge", "-q", "--no-ff", "-m", "Merge feature", &topic]);
            }
        }
        run(&["push", "-q", "origin", "main"]);
        run(&["push", "-q", "origin", "--delete", TOPIC]);
        run(&["rev-parse", "main"]).trim().to_owned()
    }

    /// A clone of the superproject, synced: every pin must be fetchable from its remote.
    fn fresh_clone_syncs(&self) {
        let clone = self.dir.path().join("fresh");
        let _ = std::fs::remove_dir_all(&clone);
        git(self.dir.path())
            .args([
                "clone",
                "-q",
                "--branch",
                TOPIC,
                self.root().to_str().unwrap(),
                clone.to_str().unwrap(),
            ])
            .run()
            .unwrap();
        let out = meta_git(&clone).args(["sync"]).output().unwrap();
        assert!(out.status.success(), "meta sync: {}", stderr(&out));
        for name in ["repo002", "repo007"] {
            let head = git(&clone.join(self.path(name)))
                .args(["rev-parse", "HEAD"])
                .run()
                .unwrap();
            assert_eq!(
                head.trim(),
                self.pin("HEAD", name),
                "{name} synced to its pin"
            );
        }
    }
}

fn land_then_check(how: Merge, expect: &str) {
    let f = Fixture::build();
    let landed_002 = f.merge_on_remote("repo002", how);
    let landed_007 = f.merge_on_remote("repo007", how);
    let before = f.pin("HEAD", "repo002");
    let out = meta_git(f.root())
        .args(["land", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["topic"], TOPIC);
    assert_eq!(json["landed"], true);
    let projects = json["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 2, "{json}");
    for project in projects {
        assert_eq!(project["how"], expect, "{json}");
    }
    // Each pin is now the remote's new main: the squash commit, the rebased tip or the merge.
    assert_eq!(f.pin("HEAD", "repo002"), landed_002);
    assert_eq!(f.pin("HEAD", "repo007"), landed_007);
    assert_ne!(f.pin("HEAD", "repo002"), before);
    let head = git(f.root()).args(["rev-parse", "HEAD"]).run().unwrap();
    assert_eq!(json["commit"], head.trim());
    let message = git(f.root())
        .args(["log", "-1", "--format=%B"])
        .run()
        .unwrap();
    assert!(message.starts_with(&format!("Land {TOPIC}\n")), "{message}");
    assert!(
        message.contains(&format!("Meta-Topic: {TOPIC}")),
        "{message}"
    );
    let out = meta_git(f.root())
        .args(["check", "pins", "--landed", "repo002", "repo007"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let events = logged_events(f.root(), "core:change:landed");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["data"]["projects"][0]["from"], before.as_str());
    f.fresh_clone_syncs();
    // Landing again finds nothing to do.
    let out = f.meta(&["land"]);
    assert!(out.contains("nothing to re-pin"), "{out}");
}

#[test]
fn squash_merges_are_re_pinned_to_the_squash_commits() {
    land_then_check(Merge::Squash, "same-tree");
}

#[test]
fn squash_merges_onto_a_moved_branch_are_found_by_their_change() {
    land_then_check(Merge::SquashOntoMoved, "squashed");
}

#[test]
fn rebase_merges_are_re_pinned_to_the_rebased_tip() {
    land_then_check(Merge::Rebase, "rebased");
}

#[test]
fn merge_commits_are_re_pinned_to_the_merge() {
    land_then_check(Merge::Commit, "merged");
}

#[test]
fn nothing_is_written_when_a_pin_cannot_be_mapped() {
    let f = Fixture::build();
    let refuse = |args: &[&str], code: i32| {
        let before = snapshots(&f.repo);
        let out = meta_git(f.root()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        let after = snapshots(&f.repo);
        for (dir, (was, is)) in checkouts(&f.repo).iter().zip(before.iter().zip(&after)) {
            assert_eq!(was, is, "{} changed", dir.display());
        }
        stderr(&out)
    };

    // Nothing merged yet: both projects listed.
    let err = refuse(&["land"], 1);
    assert!(err.contains("nothing was written"), "{err}");
    assert!(err.contains(&f.path("repo002")), "{err}");
    assert!(err.contains(&f.path("repo007")), "{err}");
    assert!(err.contains("not merged"), "{err}");

    // One merged, the other changed in review before its squash: no guess.
    f.merge_on_remote("repo002", Merge::Squash);
    f.merge_on_remote("repo007", Merge::SquashChanged);
    let err = refuse(&["land"], 1);
    assert!(err.contains(&f.path("repo007")), "{err}");
    assert!(!err.contains(&format!("`{}`", f.path("repo002"))), "{err}");

    let err = refuse(&["land", "--dry-run"], 1);
    assert!(err.contains(&f.path("repo007")), "{err}");

    // An unknown topic is a usage error with a suggestion.
    let err = refuse(&["land", "feat/lnd"], 2);
    assert!(err.contains("did you mean `feat/land`"), "{err}");

    // A dirty superproject is refused before anything is fetched.
    let gitmodules = f.root().join(".gitmodules");
    let mut text = std::fs::read_to_string(&gitmodules).unwrap();
    text.push_str("# edited\n");
    std::fs::write(&gitmodules, text).unwrap();
    let err = refuse(&["land"], 1);
    assert!(err.contains("changed file"), "{err}");
}

fn heads(dir: &Path) -> String {
    git(dir)
        .args([
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/heads/",
        ])
        .run()
        .unwrap()
}

fn kept(dir: &Path) -> String {
    git(dir)
        .args([
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/meta/abandoned/",
        ])
        .run()
        .unwrap()
}

#[test]
fn abandon_keeps_every_tip_and_undo_brings_the_branches_back() {
    let f = Fixture::build();
    let root = f.root();
    let repos = [root.to_path_buf(), f.dir("repo002"), f.dir("repo007")];
    let tips: Vec<String> = repos.iter().map(|d| heads(d)).collect();

    let out = meta_git(root).args(["abandon", TOPIC]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("meta switch main"),
        "{}",
        stderr(&out)
    );

    // The superproject elsewhere, the projects still on the topic.
    git(root).args(["switch", "-q", "main"]).run().unwrap();
    let main_pin = f.pin("HEAD", "repo002");
    let out = meta_git(root).args(["abandon", TOPIC]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("no remote-tracking ref holds"), "{err}");
    assert!(err.contains("--force"), "{err}");
    for (dir, before) in repos.iter().zip(&tips) {
        assert_eq!(&heads(dir), before, "refused: nothing changed");
    }

    let out = meta_git(root)
        .args(["abandon", TOPIC, "--force", "--dry-run"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("update-ref -d refs/heads/feat/land"),
        "{}",
        stdout(&out)
    );
    for (dir, before) in repos.iter().zip(&tips) {
        assert_eq!(&heads(dir), before, "--dry-run changes nothing");
    }

    let out = f.meta(&["abandon", TOPIC, "--force"]);
    assert!(out.contains("--undo"), "{out}");
    for dir in &repos {
        assert!(
            !heads(dir).contains(TOPIC),
            "{} still has the branch",
            dir.display()
        );
        assert!(kept(dir).contains(&format!("refs/meta/abandoned/{TOPIC}/")));
    }
    let repo002 = f.dir("repo002");
    let head = git(&repo002).args(["rev-parse", "HEAD"]).run().unwrap();
    assert_eq!(head.trim(), main_pin, "detached at the pin main records");
    let events = logged_events(root, "core:change:abandoned");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["data"]["topic"], TOPIC);

    f.meta(&["abandon", TOPIC, "--undo"]);
    for (dir, before) in repos.iter().zip(&tips) {
        assert_eq!(
            &heads(dir),
            before,
            "{} got its branches back",
            dir.display()
        );
        assert_eq!(kept(dir), "");
    }
    let out = meta_git(root)
        .args(["abandon", TOPIC, "--undo"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no abandoned topic"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn prune_removes_landed_topics_and_keeps_the_others() {
    let f = Fixture::build();
    let root = f.root();
    f.merge_on_remote("repo002", Merge::Squash);
    f.merge_on_remote("repo007", Merge::Rebase);
    // A second topic, not merged anywhere.
    git(root).args(["switch", "-q", "main"]).run().unwrap();
    f.meta(&["branch", "feat/other", "repo003"]);
    let repo003 = f.dir("repo003");
    std::fs::write(repo003.join("other.txt"), "x\n").unwrap();
    git(&repo003).args(["add", "other.txt"]).run().unwrap();
    f.meta(&["commit", "-m", "Other"]);
    git(root).args(["switch", "-q", "main"]).run().unwrap();

    let before = heads(root);
    let out = f.meta(&["prune", "--dry-run"]);
    assert!(out.contains(&format!("would prune  {TOPIC}")), "{out}");
    assert!(out.contains("kept    feat/other"), "{out}");
    assert!(out.contains(&f.path("repo003")), "{out}");
    assert_eq!(heads(root), before, "--dry-run changes nothing");

    let out = f.meta(&["prune"]);
    assert!(out.contains(&format!("pruned  {TOPIC}")), "{out}");
    assert!(!heads(root).contains(TOPIC));
    assert!(!heads(&f.dir("repo002")).contains(TOPIC));
    assert!(!heads(&f.dir("repo007")).contains(TOPIC));
    assert!(heads(root).contains("feat/other"));
    assert!(heads(&repo003).contains("feat/other"));
}

/// A commit adding `file` on `main` of the project's remote (someone else's work).
fn advance_remote(f: &Fixture, name: &str, file: &str, content: &str) {
    let work = f.dir.path().join(format!("advance-{name}"));
    let _ = std::fs::remove_dir_all(&work);
    git(f.dir.path())
        .args([
            "clone",
            "-q",
            f.remote(name).to_str().unwrap(),
            work.to_str().unwrap(),
        ])
        .run()
        .unwrap();
    std::fs::write(work.join(file), content).unwrap();
    git(&work).args(["add", file]).run().unwrap();
    git(&work)
        .args(["commit", "-q", "-m", &format!("{file} on main")])
        .run()
        .unwrap();
    git(&work)
        .args(["push", "-q", "origin", "main"])
        .run()
        .unwrap();
}

#[test]
fn rebase_stops_on_a_conflict_then_aborts_byte_for_byte_or_continues() {
    let f = Fixture::build();
    let root = f.root();
    // A third project joins the topic; it is second in project order.
    f.meta(&["branch", TOPIC, "repo003"]);
    let repo003 = f.dir("repo003");
    std::fs::write(repo003.join("shared.txt"), "the topic's line\n").unwrap();
    git(&repo003).args(["add", "shared.txt"]).run().unwrap();
    f.meta(&["commit", "-m", "Shared"]);
    for name in ["repo002", "repo007"] {
        advance_remote(&f, name, "main-only.txt", "elsewhere\n");
    }
    advance_remote(&f, "repo003", "shared.txt", "main's line\n");
    let names = ["repo002", "repo003", "repo007"];
    // The superproject gets a remote whose main moves on: the topic is rebased onto it too.
    let team_main = superproject_remote_moves_on(&f);
    let before = snapshots(&f.repo);

    let out = meta_git(root).args(["rebase"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("conflict in `{}`", f.path("repo003"))),
        "{err}"
    );
    assert!(err.contains("meta rebase --continue"), "{err}");
    assert!(err.contains("meta rebase --abort"), "{err}");
    let status = meta_git(root).args(["status"]).output().unwrap();
    assert!(
        stderr(&status).contains("interrupted `meta rebase`"),
        "{}",
        stderr(&status)
    );

    f.meta(&["rebase", "--abort"]);
    let after = snapshots(&f.repo);
    for (dir, (was, is)) in checkouts(&f.repo).iter().zip(before.iter().zip(&after)) {
        assert_eq!(was, is, "{} is not back where it was", dir.display());
    }

    // Again; resolve the conflict this time and go on.
    let out = meta_git(root).args(["rebase"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = meta_git(root)
        .args(["rebase", "--continue"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "unresolved: {}", stderr(&out));
    assert!(
        stderr(&out).contains("not all resolved"),
        "{}",
        stderr(&out)
    );
    std::fs::write(repo003.join("shared.txt"), "both lines\n").unwrap();
    git(&repo003).args(["add", "shared.txt"]).run().unwrap();
    let out = f.meta(&["rebase", "--continue"]);
    assert!(out.contains("re-records 3 pins"), "{out}");
    for name in names {
        let dir = f.dir(name);
        let head = git(&dir).args(["rev-parse", "HEAD"]).run().unwrap();
        assert_eq!(f.pin("HEAD", name), head.trim(), "{name} re-recorded");
        let remote_main = git(&f.remote(name))
            .args(["rev-parse", "main"])
            .run()
            .unwrap();
        assert!(
            git(&dir)
                .args(["merge-base", "--is-ancestor", remote_main.trim(), "HEAD"])
                .output()
                .unwrap()
                .status
                .success(),
            "{name} is on the remote's main"
        );
    }
    assert!(
        git(root)
            .args(["merge-base", "--is-ancestor", &team_main, "HEAD"])
            .output()
            .unwrap()
            .status
            .success(),
        "the superproject's topic is on its remote's main"
    );
    assert!(root.join("team.txt").exists());
    let leftovers = git(root)
        .args(["for-each-ref", "refs/meta/"])
        .run()
        .unwrap();
    assert_eq!(leftovers, "", "private refs are deleted");
    let leftovers = git(&f.dir("repo002"))
        .args(["for-each-ref", "refs/meta/"])
        .run()
        .unwrap();
    assert_eq!(leftovers, "", "private refs are deleted");
}

fn assert_same(f: &Fixture, before: &[String]) {
    let after = snapshots(&f.repo);
    for (dir, (was, is)) in checkouts(&f.repo).iter().zip(before.iter().zip(&after)) {
        assert_eq!(was, is, "{} is not as it was", dir.display());
    }
}

#[test]
fn a_killed_land_is_noticed_then_undone_or_finished() {
    let f = Fixture::build();
    let root = f.root();
    let landed = [
        f.merge_on_remote("repo002", Merge::Squash),
        f.merge_on_remote("repo007", Merge::Squash),
    ];
    let marks = tempfile::tempdir().unwrap();
    let entered = marks.path().join("entered");
    let release = marks.path().join("release");
    // repo007's fetch blocks (its upload-pack waits) until released.
    let repo007 = f.dir("repo007");
    let blocking = format!(
        "touch '{}'; while [ ! -e '{}' ]; do sleep 0.05; done; git-upload-pack",
        entered.display(),
        release.display()
    );
    git(&repo007)
        .args(["config", "remote.origin.uploadpack", &blocking])
        .run()
        .unwrap();
    let before = snapshots(&f.repo);
    let fetched = || {
        !git(&repo007)
            .args(["for-each-ref", "refs/meta/land/"])
            .run()
            .unwrap()
            .is_empty()
    };

    crate::common::kill_meta_when(root, &["land"], &entered, &release, fetched);
    let out = meta_git(root).args(["status"]).output().unwrap();
    assert!(
        stderr(&out).contains("interrupted `meta land`"),
        "{}",
        stderr(&out)
    );
    let out = f.meta(&["land", "--abort"]);
    assert!(out.contains("undid the interrupted `meta land`"), "{out}");
    assert_same(&f, &before);

    crate::common::kill_meta_when(root, &["land"], &entered, &release, fetched);
    git(&repo007)
        .args(["config", "--unset", "remote.origin.uploadpack"])
        .run()
        .unwrap();
    let out = f.meta(&["land", "--continue"]);
    assert!(out.contains(&format!("landed topic `{TOPIC}`")), "{out}");
    assert_eq!(f.pin("HEAD", "repo002"), landed[0]);
    assert_eq!(f.pin("HEAD", "repo007"), landed[1]);
    let out = meta_git(root).args(["status"]).output().unwrap();
    assert!(!stderr(&out).contains("interrupted"), "{}", stderr(&out));
}

#[test]
fn a_killed_rebase_is_noticed_then_undone_or_finished() {
    let f = Fixture::build();
    let root = f.root();
    f.meta(&["branch", TOPIC, "repo003"]);
    let repo003 = f.dir("repo003");
    std::fs::write(repo003.join("mine.txt"), "mine\n").unwrap();
    git(&repo003).args(["add", "mine.txt"]).run().unwrap();
    f.meta(&["commit", "-m", "Mine"]);
    for name in ["repo002", "repo003", "repo007"] {
        advance_remote(&f, name, "main-only.txt", "elsewhere\n");
    }
    let marks = tempfile::tempdir().unwrap();
    let entered = marks.path().join("entered");
    let release = marks.path().join("release");
    let done = marks.path().join("done");
    // repo003, second in project order, blocks in its pre-rebase hook, then refuses.
    let hook = install_hook(
        &repo003,
        "pre-rebase",
        &format!(
            "touch '{}'\nwhile [ ! -e '{}' ]; do sleep 0.05; done\ntouch '{}'\nexit 1",
            entered.display(),
            release.display(),
            done.display()
        ),
    );
    let before = snapshots(&f.repo);
    let hook_done = || {
        let finished = done.exists();
        if finished {
            // git removes nothing after a refusing pre-rebase hook; give it a moment to exit.
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        finished
    };

    crate::common::kill_meta_when(root, &["rebase"], &entered, &release, hook_done);
    std::fs::remove_file(&done).unwrap();
    let out = meta_git(root).args(["status"]).output().unwrap();
    assert!(
        stderr(&out).contains("interrupted `meta rebase`"),
        "{}",
        stderr(&out)
    );
    f.meta(&["rebase", "--abort"]);
    assert_same(&f, &before);

    crate::common::kill_meta_when(root, &["rebase"], &entered, &release, hook_done);
    std::fs::remove_file(&hook).unwrap();
    let out = f.meta(&["rebase", "--continue"]);
    assert!(out.contains("re-records 3 pins"), "{out}");
    for name in ["repo002", "repo003", "repo007"] {
        let head = git(&f.dir(name)).args(["rev-parse", "HEAD"]).run().unwrap();
        assert_eq!(f.pin("HEAD", name), head.trim(), "{name} re-recorded");
    }
}

/// Gives the superproject a bare remote (`origin`, HEAD `main`) and a commit on its `main`
/// there that the topic lacks; returns that commit.
fn superproject_remote_moves_on(f: &Fixture) -> String {
    let root = f.root();
    let bare = f.dir.path().join("super.git");
    git(f.dir.path())
        .args([
            "clone",
            "-q",
            "--bare",
            root.to_str().unwrap(),
            bare.to_str().unwrap(),
        ])
        .run()
        .unwrap();
    git(root)
        .args(["remote", "add", "origin", bare.to_str().unwrap()])
        .run()
        .unwrap();
    git(root).args(["fetch", "-q", "origin"]).run().unwrap();
    git(root)
        .args(["remote", "set-head", "origin", "main"])
        .run()
        .unwrap();
    let work = f.dir.path().join("super-work");
    git(f.dir.path())
        .args([
            "clone",
            "-q",
            "--branch",
            "main",
            bare.to_str().unwrap(),
            work.to_str().unwrap(),
        ])
        .run()
        .unwrap();
    std::fs::write(work.join("team.txt"), "the team's change\n").unwrap();
    git(&work).args(["add", "team.txt"]).run().unwrap();
    git(&work)
        .args(["commit", "-q", "-m", "team change"])
        .run()
        .unwrap();
    git(&work)
        .args(["push", "-q", "origin", "main"])
        .run()
        .unwrap();
    git(&work)
        .args(["rev-parse", "HEAD"])
        .run()
        .unwrap()
        .trim()
        .to_owned()
}

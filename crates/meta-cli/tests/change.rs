//! `meta branch` and `meta branches`: the real binary on fixture meta-repos (real git, local
//! bare remotes). Topics across some projects, dirty work trees kept, refusals and dry runs
//! that leave every repository exactly as it was, and a plan undone when it fails half-way.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::path::Path;

use meta_test::{MetaRepo, State, git};
use serde_json::Value;

use crate::common::{logged_events, meta_git, stderr, stdout};

/// Everything `meta branch` could change in one repository: HEAD, every ref, the status.
fn repo_state(dir: &Path) -> String {
    let refs = git(dir)
        .args(["for-each-ref", "--format=%(refname) %(objectname)"])
        .run()
        .unwrap();
    let head = git(dir)
        .args(["rev-parse", "--symbolic-full-name", "HEAD", "HEAD"])
        .run()
        .unwrap();
    let status = git(dir)
        .args([
            "status",
            "--porcelain=v2",
            "--branch",
            "--untracked-files=all",
        ])
        .run()
        .unwrap();
    format!("{head}\n{refs}\n{status}")
}

/// [`repo_state`] of the superproject and every checked-out project.
fn all_states(repo: &MetaRepo) -> Vec<(String, String)> {
    let mut states = vec![(".".to_owned(), repo_state(repo.root()))];
    for project in repo.projects() {
        let dir = repo.root().join(&project.path);
        if dir.join(".git").exists() {
            states.push((project.path.clone(), repo_state(&dir)));
        }
    }
    states
}

fn assert_unchanged(before: &[(String, String)], repo: &MetaRepo) {
    let after = all_states(repo);
    for ((path, was), (_, is)) in before.iter().zip(&after) {
        assert_eq!(was, is, "{path} changed");
    }
    assert_eq!(before.len(), after.len());
}

fn head_of(dir: &Path) -> String {
    git(dir)
        .args(["rev-parse", "HEAD"])
        .run()
        .unwrap()
        .trim()
        .to_owned()
}

fn branch_of(dir: &Path) -> Option<String> {
    let out = git(dir)
        .args(["symbolic-ref", "-q", "--short", "HEAD"])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn tip(dir: &Path, branch: &str) -> Option<String> {
    let out = git(dir)
        .args([
            "rev-parse",
            "-q",
            "--verify",
            &format!("refs/heads/{branch}"),
        ])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn path_in(repo: &MetaRepo, state: State) -> String {
    repo.project_in(state).unwrap().path.clone()
}

#[test]
fn branch_across_three_of_nine_projects_keeps_work_and_leaves_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 9).unwrap();
    let root = repo.root();
    let modified = path_in(&repo, State::Modified);
    let ahead = path_in(&repo, State::Ahead);
    let clean = path_in(&repo, State::CleanOnBranch);
    let heads: Vec<String> = [&modified, &ahead, &clean]
        .iter()
        .map(|p| head_of(&root.join(p)))
        .collect();
    let dirty_file = root.join(&modified).join("src/file1.txt");
    let dirty_bytes = std::fs::read(&dirty_file).unwrap();
    let dirty_status = git(&root.join(&modified))
        .args(["status", "--porcelain=v2"])
        .run()
        .unwrap();
    let before = all_states(&repo);

    let names: Vec<&str> = [&modified, &ahead, &clean]
        .iter()
        .map(|p| p.rsplit('/').next().unwrap())
        .collect();
    let out = meta_git(root)
        .args(["branch", "feat/login"])
        .args(&names)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("topic `feat/login`: the superproject and 3 projects"),
        "{text}"
    );

    // Each chosen project: on the new branch, at its old HEAD, files as they were.
    for (path, head) in [&modified, &ahead, &clean].iter().zip(&heads) {
        let dir = root.join(path);
        assert_eq!(branch_of(&dir).as_deref(), Some("feat/login"), "{path}");
        assert_eq!(&head_of(&dir), head, "{path}");
    }
    assert_eq!(std::fs::read(&dirty_file).unwrap(), dirty_bytes);
    assert_eq!(
        git(&root.join(&modified))
            .args(["status", "--porcelain=v2"])
            .run()
            .unwrap(),
        dirty_status
    );
    assert_eq!(branch_of(root).as_deref(), Some("feat/login"));

    // Every other repository exactly as before.
    let after = all_states(&repo);
    for ((path, was), (_, is)) in before.iter().zip(&after) {
        if path != "." && ![&modified, &ahead, &clean].contains(&path) {
            assert_eq!(was, is, "{path} changed");
        }
    }

    // Announced.
    let events = logged_events(root, "core:change:branched");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["topic"], "feat/login");
    let mut announced: Vec<&str> = events[0]["data"]["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    announced.sort_unstable();
    let mut expected = vec![modified.as_str(), ahead.as_str(), clean.as_str()];
    expected.sort_unstable();
    assert_eq!(announced, expected);

    // Running it again changes nothing: every repository is already on it.
    let again = all_states(&repo);
    let out = meta_git(root)
        .args(["branch", "feat/login", "--json"])
        .args(&names)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["plan"], serde_json::json!([]));
    assert_eq!(json["superproject"]["action"], "already-on");
    assert_unchanged(&again, &repo);

    // `meta branches` sees the topic.
    let out = meta_git(root)
        .args(["branches", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let topics: Value = serde_json::from_slice(&out.stdout).unwrap();
    let topic = topics
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "feat/login")
        .unwrap();
    assert_eq!(topic["current"], true);
    assert_eq!(topic["superproject"]["checked_out"], true);
    let members = topic["projects"].as_array().unwrap();
    assert_eq!(members.len(), 3, "{members:?}");
    for member in members {
        assert_eq!(member["checked_out"], true);
        assert_eq!(member["tracked"], "main");
        assert_eq!(member["pushed"], false);
        assert_eq!(member["unpushed"], Value::Null);
        let ahead_of_main = member["path"] == ahead.as_str();
        assert_eq!(member["ahead"], i32::from(ahead_of_main));
        assert_eq!(member["behind"], 0);
        // The superproject's topic commit pins the old pin, which the ahead project left.
        assert_eq!(member["pin_matches"], !ahead_of_main, "{member}");
    }

    // Pushed, as remote-tracking refs see it.
    git(&root.join(&clean))
        .args(["push", "-q", "origin", "feat/login"])
        .run()
        .unwrap();
    let out = meta_git(root)
        .args(["branches", "feat/login", "--json"])
        .output()
        .unwrap();
    let topics: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pushed: Vec<&Value> = topics[0]["projects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["pushed"] == true)
        .collect();
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0]["path"], clean.as_str());
    assert_eq!(pushed[0]["unpushed"], 0);

    let out = meta_git(root).args(["branches"]).output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("* feat/login  (3 projects)"), "{text}");
    assert!(text.contains("1 ahead, 0 behind origin/main"), "{text}");

    let out = meta_git(root).args(["branches", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("there is no topic `nope`"));
}

#[test]
fn start_points_follow_head_or_the_pin_and_never_touch_files() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 9).unwrap();
    let root = repo.root();
    // Detached one commit behind its pin: HEAD does not descend from the pin.
    let off = path_in(&repo, State::OffPin);
    let off_dir = root.join(&off);
    let off_head = head_of(&off_dir);
    let pin = git(root)
        .args(["rev-parse", &format!("HEAD:{off}")])
        .run()
        .unwrap()
        .trim()
        .to_owned();
    let detached = path_in(&repo, State::DetachedAtPin);

    let out = meta_git(root)
        .args(["branch", "topic", "--json", &off, &detached])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let off_json = json["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == off.as_str())
        .unwrap();
    assert_eq!(off_json["start_from"], "pin");
    assert_eq!(off_json["checked_out"], false);
    assert_eq!(off_json["action"], "created");
    // Created at the pin, not checked out: HEAD and files where they were.
    assert_eq!(tip(&off_dir, "topic").as_deref(), Some(pin.as_str()));
    assert_eq!(head_of(&off_dir), off_head);
    assert_eq!(branch_of(&off_dir), None);
    // Detached at the pin: HEAD is the start, so it is attached to the new branch.
    assert_eq!(branch_of(&root.join(&detached)).as_deref(), Some("topic"));

    // `--from head` starts from HEAD even off the pin, and checks out.
    let out = meta_git(root)
        .args(["branch", "other", "--from", "head", &off])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(branch_of(&off_dir).as_deref(), Some("other"));
    assert_eq!(head_of(&off_dir), off_head);
}

#[test]
fn dry_run_prints_the_exact_plan_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 9).unwrap();
    let root = repo.root();
    let before = all_states(&repo);
    let args = ["branch", "feat", "--all"];

    // The JSON shapes are documented where users look.
    for (command, field) in [("branch", "\"plan\""), ("branches", "\"pin_matches\"")] {
        let out = meta_git(root).args([command, "--help"]).output().unwrap();
        assert!(stdout(&out).contains(field), "{command}: {}", stdout(&out));
    }

    let out = meta_git(root).args(args).arg("--dry-run").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert!(stderr(&out).contains("would run"), "{}", stderr(&out));
    assert_unchanged(&before, &repo);
    let out = meta_git(root)
        .args(args)
        .args(["--dry-run", "--json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["dry_run"], true);
    let planned: Vec<String> = json["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(printed, planned);
    assert_unchanged(&before, &repo);
    // Uninitialised projects are skipped, said so.
    assert_eq!(json["skipped"].as_array().unwrap().len(), 2, "{json}");

    // The real run makes exactly those calls, superproject last.
    let out = meta_git(root).args(args).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["dry_run"], false);
    let ran: Vec<String> = json["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ran, planned);
    assert_eq!(ran.last().unwrap(), "git switch --create=feat");
    assert_eq!(json["projects"].as_array().unwrap().len(), 7);
}

/// Runs `meta branch ARGS` expecting a refusal (exit `code`) that names `needle`, and checks
/// that no repository changed.
fn refused(repo: &MetaRepo, args: &[&str], code: i32, needle: &str) -> String {
    let before = all_states(repo);
    let out = meta_git(repo.root()).args(args).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err}");
    assert_unchanged(&before, repo);
    err
}

#[test]
fn refusals_leave_every_repository_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let mut repo = MetaRepo::build(dir.path(), 9).unwrap();
    let conflicted = repo.add_conflicted().unwrap().path;
    let clean = path_in(&repo, State::CleanOnBranch);
    let clean_dir = repo.root().join(&clean);

    // Mid-merge with conflicts: both said, with the fix; the other project untouched too.
    let err = refused(
        &repo,
        &["branch", "feat", &clean, &conflicted],
        1,
        "in the middle of a merge",
    );
    assert!(err.contains("1 conflicted file"), "{err}");
    assert!(err.contains("git merge --abort"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");

    // Mid-cherry-pick (as git marks it).
    let git_dir = git(&clean_dir)
        .args(["rev-parse", "--absolute-git-dir"])
        .run()
        .unwrap();
    let marker = Path::new(git_dir.trim()).join("CHERRY_PICK_HEAD");
    std::fs::write(&marker, format!("{}\n", head_of(&clean_dir))).unwrap();
    refused(&repo, &["branch", "feat", &clean], 1, "cherry-pick");
    std::fs::remove_file(&marker).unwrap();
    // Mid-rebase in the superproject (as git marks it).
    let rebase = repo.root().join(".git/rebase-merge");
    std::fs::create_dir(&rebase).unwrap();
    let err = refused(
        &repo,
        &["branch", "feat"],
        1,
        "the superproject is in the middle of a rebase",
    );
    assert!(err.contains("abort the rebase at the root"), "{err}");
    std::fs::remove_dir(&rebase).unwrap();

    // Names git refuses, and names that could be options.
    refused(
        &repo,
        &["branch", "a..b", &clean],
        2,
        "git does not accept it",
    );
    refused(&repo, &["branch", "@{-1}"], 2, "cannot be a branch name");
    refused(&repo, &["branch", "--", "-x"], 2, "starts with `-`");
    refused(&repo, &["branch", "-x"], 2, "unexpected argument");

    // A pattern matching nothing: a usage error with a suggestion.
    let err = refused(
        &repo,
        &["branch", "feat", "repo00"],
        2,
        "no project matches",
    );
    assert!(err.contains("did you mean `repo001`?"), "{err}");

    // An existing branch at a commit that does not contain the start point.
    git(&clean_dir)
        .args(["branch", "feat", "HEAD~1"])
        .run()
        .unwrap();
    let old = tip(&clean_dir, "feat").unwrap();
    let err = refused(
        &repo,
        &["branch", "feat", &clean],
        1,
        "does not contain the start point",
    );
    assert!(err.contains("--reset"), "{err}");
    // --reset moves it, keeping the old tip.
    let out = meta_git(repo.root())
        .args(["branch", "feat", "--reset", &clean])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(branch_of(&clean_dir).as_deref(), Some("feat"));
    assert_eq!(tip(&clean_dir, "feat"), Some(head_of(&clean_dir)));
    let kept = git(&clean_dir)
        .args(["rev-parse", &format!("refs/meta/abandoned/feat/{clean}")])
        .run()
        .unwrap();
    assert_eq!(kept.trim(), old);

    // A detached superproject has no topic to extend.
    git(repo.root())
        .args(["checkout", "-q", "--detach"])
        .run()
        .unwrap();
    refused(
        &repo,
        &["branch", "next"],
        1,
        "superproject is not on a branch",
    );
}

#[test]
fn a_failure_half_way_undoes_what_was_done() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 9).unwrap();
    let root = repo.root();
    // The superproject goes last; make its ref update fail.
    let hook = root.join(".git/hooks/reference-transaction");
    std::fs::write(
        &hook,
        "#!/bin/sh\n[ \"$1\" = prepared ] && grep -q refs/heads/feat && exit 1\nexit 0\n",
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&hook).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&hook, permissions).unwrap();
    let before = all_states(&repo);
    let out = meta_git(root)
        .args(["branch", "feat", "--all"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("undone: every repository is as it was"),
        "{err}"
    );
    assert_unchanged(&before, &repo);
}

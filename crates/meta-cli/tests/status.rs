//! `meta status`: the real binary on fixtures with every state and edge case, checked against
//! git itself, plus its filters, its text layout, and what it must never do (write, run git).

use std::collections::BTreeSet;
use std::path::Path;

use meta_test::{MetaRepo, State, TreeSnapshot, git_truth};
use serde_json::Value;

use crate::common::{meta, stderr, stdout};

fn status_json(root: &Path, args: &[&str]) -> Value {
    let out = meta(root)
        .args(["status", "--json"])
        .args(args)
        .output()
        .expect("meta runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("status --json prints JSON")
}

fn paths_of(report: &Value) -> BTreeSet<String> {
    report["projects"]
        .as_array()
        .expect("projects is an array")
        .iter()
        .map(|p| p["path"].as_str().expect("path is a string").to_owned())
        .collect()
}

#[test]
fn json_matches_git_field_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::with_edge_cases(dir.path()).unwrap();
    let root = repo.root();
    let report = status_json(root, &[]);

    assert_eq!(report["root"], root.display().to_string());
    // Only the built-in file watcher, whose service runs with the daemon.
    let plugins: Vec<&str> = report["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(plugins, ["watch"]);
    assert_eq!(report["plugins"][0]["source"], "builtin");
    assert_eq!(report["plugins"][0]["service"]["state"], "stopped");
    assert_eq!(report["events"]["daemon"], "stopped");
    assert_eq!(report["events"]["pid"], Value::Null);
    assert_eq!(report["events"]["log"]["segments"], 0);
    assert_eq!(report["events"]["log"]["last_sequence"], Value::Null);

    let projects = report["projects"].as_array().unwrap();
    assert_eq!(projects.len(), repo.projects().len());
    let paths: Vec<&str> = projects
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    let truths = git_truth(root, &paths).unwrap();
    let opt_str = |v: &Value| v.as_str().map(str::to_owned);
    let opt_num = |v: &Value| v.as_u64().map(|n| usize::try_from(n).unwrap());
    for (json, truth) in projects.iter().zip(&truths) {
        let ours = meta_test::GitTruth {
            path: json["path"].as_str().unwrap().to_owned(),
            initialized: json["initialized"].as_bool().unwrap(),
            pinned: opt_str(&json["pinned"]),
            head: opt_str(&json["head"]),
            on_pin: json["on_pin"].as_bool().unwrap(),
            branch: opt_str(&json["branch"]),
            detached: json["detached"].as_bool().unwrap(),
            staged: opt_num(&json["staged"]).unwrap(),
            modified: opt_num(&json["modified"]).unwrap(),
            untracked: opt_num(&json["untracked"]).unwrap(),
            conflicted: opt_num(&json["conflicted"]).unwrap(),
            upstream: opt_str(&json["upstream"]),
            ahead: opt_num(&json["ahead"]),
            behind: opt_num(&json["behind"]),
        };
        assert_eq!(&ours, truth);
        let fixture = repo.project(&ours.path).unwrap();
        assert_eq!(json["name"], fixture.name.as_str());
        assert_eq!(json["group"], fixture.group.as_str());
        if fixture.state == State::UrlDiffers {
            // The URL it fetches from: `.git/config`'s.
            assert!(
                json["url"]
                    .as_str()
                    .unwrap()
                    .ends_with("url-differs-mirror.git")
            );
        } else {
            assert_eq!(json["url"], fixture.url.as_str(), "{}", ours.path);
        }
    }
}

#[test]
fn text_groups_projects_and_explains_markers() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 9).unwrap();
    let out = meta(repo.root()).arg("status").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}'), "no colour off a terminal: {text}");
    // Groups in configured order, each heading followed by its projects.
    let headings: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .take(4)
        .collect();
    assert_eq!(headings, ["data_model", "libraries", "projects", "docs"]);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no line for {name} in:\n{text}"))
            .to_owned()
    };
    let state_line = |state| line(&repo.project_in(state).unwrap().name);
    assert!(state_line(State::CleanOnBranch).contains("main"));
    assert!(state_line(State::DetachedAtPin).contains("detached"));
    assert!(state_line(State::Modified).contains("~1"));
    assert!(state_line(State::Untracked).contains("?1"));
    assert!(state_line(State::Staged).contains("+1"));
    let ahead = state_line(State::Ahead);
    assert!(
        ahead.contains('≠') && ahead.contains("↑1 origin/main"),
        "{ahead}"
    );
    assert!(state_line(State::OffPin).contains('≠'));
    assert!(state_line(State::Uninitialized).contains("not initialised"));
    assert!(text.contains("= on pin"), "legend missing:\n{text}");
    assert!(text.contains("plugins: watch\n"), "{text}");
    assert!(text.contains("events: daemon stopped"), "{text}");

    let coloured = meta(repo.root())
        .args(["status", "--color", "always"])
        .output()
        .unwrap();
    assert!(stdout(&coloured).contains('\u{1b}'));
}

#[test]
fn dirty_and_group_select_projects() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::with_edge_cases(dir.path()).unwrap();
    let root = repo.root();
    let all = status_json(root, &[]);
    let expected_dirty: BTreeSet<String> = all["projects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["initialized"] == true
                && (p["staged"] != 0
                    || p["modified"] != 0
                    || p["untracked"] != 0
                    || p["on_pin"] == false
                    || p["ahead"].as_u64().is_some_and(|n| n > 0))
        })
        .map(|p| p["path"].as_str().unwrap().to_owned())
        .collect();
    let dirty = paths_of(&status_json(root, &["--dirty"]));
    assert_eq!(dirty, expected_dirty);
    // The fixture's dirty states are all in, the clean ones out.
    for state in [
        State::Modified,
        State::Untracked,
        State::Ahead,
        State::OffPin,
        State::Staged,
        State::Conflict,
        State::DetachedWork,
    ] {
        assert!(
            dirty.contains(&repo.project_in(state).unwrap().path),
            "{state:?}"
        );
    }
    for state in [
        State::CleanOnBranch,
        State::DetachedAtPin,
        State::Uninitialized,
        State::GitmodulesOnly,
        State::NoUpstream,
    ] {
        assert!(
            !dirty.contains(&repo.project_in(state).unwrap().path),
            "{state:?}"
        );
    }

    let libraries = paths_of(&status_json(root, &["--group", "libraries"]));
    assert!(!libraries.is_empty());
    assert!(
        libraries.iter().all(|p| p.starts_with("src/libraries/")),
        "{libraries:?}"
    );
    let both = paths_of(&status_json(root, &["--group", "libraries", "--dirty"]));
    assert_eq!(both, libraries.intersection(&dirty).cloned().collect());

    let out = meta(root)
        .args(["status", "--group", "librarys"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no group `librarys`")
            && err.contains("hint: the groups are: data_model, libraries"),
        "{err}"
    );
}

#[test]
fn status_writes_nothing_and_runs_no_git() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::with_edge_cases(dir.path()).unwrap();
    // Stat drift with equal content: where `git status` would rewrite an index.
    let clean = repo
        .root()
        .join(&repo.project_in(State::CleanOnBranch).unwrap().path);
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(clean.join("README.md"))
        .unwrap()
        .set_modified(later)
        .unwrap();

    // A `git` on PATH that records being run.
    let bin = tempfile::tempdir().unwrap();
    let marker = bin.path().join("git-was-run");
    let fake = bin.path().join("git");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\ntouch '{}'\nexit 1\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let before = TreeSnapshot::take(dir.path()).unwrap();
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["status", "--dirty"],
    ] {
        let out = meta(repo.root())
            .args(args)
            .env("PATH", bin.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let changes = TreeSnapshot::take(dir.path())
        .unwrap()
        .changes_since(&before);
    assert!(
        changes.is_empty(),
        "meta status changed:\n{}",
        changes.join("\n")
    );
    assert!(!marker.exists(), "meta status ran `git`");
}

#[test]
fn unreadable_project_is_reported_and_the_rest_still_shown() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 4).unwrap();
    let broken = repo.project("src/libraries/repo002").unwrap();
    let git_dir = repo
        .root()
        .join(".git/modules")
        .join(&broken.submodule_name);
    std::fs::write(git_dir.join("HEAD"), "not a ref\n").unwrap();

    let out = meta(repo.root()).arg("status").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("repo001"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("repo002") && l.contains("unreadable")),
        "{text}"
    );
    let err = stderr(&out);
    assert!(
        err.starts_with("error: could not read the status of 1 project"),
        "{err}"
    );
    assert!(err.contains("src/libraries/repo002"), "{err}");
    assert!(err.contains("hint:"), "{err}");

    let out = meta(repo.root())
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let entry = report["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == "src/libraries/repo002")
        .unwrap();
    assert!(entry["error"].as_str().unwrap().contains("repo002"));
}

#[test]
fn events_section_reports_the_log_and_the_daemon_lock() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 1).unwrap();
    let root = repo.root();
    let events = root.join(".meta/events");
    std::fs::create_dir_all(&events).unwrap();
    let line = |seq: u64| {
        format!(
            "{{\"specversion\":\"1.0\",\"id\":\"{seq}\",\"source\":\"/t\",\"type\":\"a:b\",\"sequence\":\"{seq:020}\"}}\n"
        )
    };
    std::fs::write(
        events.join("events-00000000000000000001.jsonl"),
        line(1) + &line(2),
    )
    .unwrap();
    // The active segment ends in a torn line, which is not an event.
    std::fs::write(
        events.join("events-00000000000000000003.jsonl"),
        line(3) + "{\"sequence\":\"000",
    )
    .unwrap();

    let report = status_json(root, &[]);
    assert_eq!(report["events"]["daemon"], "stopped");
    assert_eq!(report["events"]["pid"], Value::Null);
    assert_eq!(report["events"]["published"], Value::Null);
    assert_eq!(report["events"]["log"]["segments"], 2);
    assert_eq!(
        report["events"]["log"]["last_sequence"],
        "00000000000000000003"
    );
    let bytes: u64 = [
        "events-00000000000000000001.jsonl",
        "events-00000000000000000003.jsonl",
    ]
    .iter()
    .map(|f| std::fs::metadata(events.join(f)).unwrap().len())
    .sum();
    assert_eq!(report["events"]["log"]["bytes"], bytes);
    let text = stdout(&meta(root).arg("status").output().unwrap());
    assert!(
        text.contains("events: daemon stopped; log 2 segments"),
        "{text}"
    );
    assert!(text.contains("last sequence 3"), "{text}");

    // A daemon holds `.meta/run/daemon.lock` exclusively for its whole life; one that does
    // not answer is still reported running.
    let run = root.join(".meta/run");
    std::fs::create_dir_all(&run).unwrap();
    let lock = std::fs::File::create(run.join("daemon.lock")).unwrap();
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
    let report = status_json(root, &[]);
    assert_eq!(report["events"]["daemon"], "running");
    drop(lock);
    assert_eq!(status_json(root, &[])["events"]["daemon"], "stopped");
}

#[test]
fn outside_a_git_repository_there_are_no_projects() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("meta")).unwrap();
    std::fs::write(
        dir.path().join("meta/metarepo.toml"),
        "[metarepo]\nname = \"x\"\n",
    )
    .unwrap();
    let report = status_json(dir.path(), &[]);
    assert_eq!(report["projects"], serde_json::json!([]));
    let out = meta(dir.path()).arg("status").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("no projects yet (add one with `meta project add URL --group G`)")
    );
}

#[test]
fn plugins_section_is_the_plugin_list() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 0).unwrap();
    let root = repo.root();
    for (name, enabled) in [("hello", true), ("quiet", false)] {
        let plugin = root.join("meta/plugins").join(name);
        std::fs::create_dir_all(&plugin).unwrap();
        std::fs::write(
            plugin.join("meta-plugin.toml"),
            format!(
                "api = 1\n\n[plugin]\nname = \"{name}\"\nversion = \"0.1.0\"\ndescription = \"d\"\n\n[[command]]\nname = \"{name}\"\nabout = \"a\"\nexec = [\"true\"]\n"
            ),
        )
        .unwrap();
        if !enabled {
            let out = meta(root)
                .args(["plugin", "disable", name])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        }
    }
    let listed = meta(root)
        .args(["plugin", "list", "--json"])
        .output()
        .unwrap();
    let listed: Value = serde_json::from_str(&stdout(&listed)).unwrap();
    // Theirs and the built-in file watcher.
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed:#}");
    let report = status_json(root, &[]);
    assert_eq!(report["plugins"], listed);

    let text = stdout(&meta(root).arg("status").output().unwrap());
    assert!(
        text.contains("plugins: hello, quiet (disabled), watch"),
        "{text}"
    );
}

/// Stops the daemon of `root` when the test ends, however it ends.
struct DaemonGuard(std::path::PathBuf);

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        let _ = meta(&self.0)
            .args(["daemon", "stop"])
            .timeout(std::time::Duration::from_secs(20))
            .output();
    }
}

#[test]
fn events_section_asks_a_running_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 1).unwrap();
    let root = repo.root();
    let out = meta(root)
        .args(["daemon", "start"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let _guard = DaemonGuard(root.to_path_buf());
    let out = meta(root)
        .args(["events", "publish", "acme:thing:done"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let report = status_json(root, &[]);
    let events = &report["events"];
    assert_eq!(events["daemon"], "running", "{events:#}");
    assert!(
        events["pid"].is_u64() && events["uptime_s"].is_u64(),
        "{events:#}"
    );
    assert!(
        events["published"].as_u64().unwrap() >= 2,
        "startup and ours: {events:#}"
    );
    assert_eq!(events["rejected"], 0);
    assert!(events["subscribers"].is_u64());
    assert!(
        events["endpoints"]["control"]
            .as_str()
            .unwrap()
            .starts_with("ipc://")
    );
    assert!(events["log"]["last_sequence"].is_string());
    assert!(stdout(&meta(root).arg("status").output().unwrap()).contains("events: daemon running"));
}

#[test]
fn a_pin_in_conflict_is_shown_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let mut repo = MetaRepo::build(dir.path(), 3).unwrap();
    let conflicted = repo.add_pin_conflict().unwrap();
    let root = repo.root();
    // What git says: `U` and no pin, while the project's own checkout is untouched.
    let listing = repo.git().args(["submodule", "status"]).run().unwrap();
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with('U') && l.ends_with(&conflicted.path)),
        "{listing}"
    );
    let head = repo
        .git_in(&conflicted.path)
        .args(["rev-parse", "HEAD"])
        .run()
        .unwrap();

    let report = status_json(root, &[]);
    let entry = report["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == conflicted.path.as_str())
        .unwrap();
    assert_eq!(entry["pin_conflicted"], true, "{entry:#}");
    assert_eq!(entry["pinned"], Value::Null, "{entry:#}");
    assert_eq!(entry["on_pin"], false, "{entry:#}");
    assert_eq!(entry["initialized"], true, "{entry:#}");
    assert_eq!(entry["head"], head.trim(), "{entry:#}");
    // The others are not touched by it.
    assert!(
        report["projects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["path"] != conflicted.path.as_str())
            .all(|p| p["pin_conflicted"] == false)
    );
    assert!(paths_of(&status_json(root, &["--dirty"])).contains(&conflicted.path));

    let text = stdout(&meta(root).arg("status").output().unwrap());
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("pin-conflict "))
        .unwrap_or_else(|| panic!("no line for the project in:\n{text}"));
    assert!(line.split_whitespace().any(|cell| cell == "U"), "{line}");
    assert!(text.contains("U pin in conflict"), "legend: {text}");
}

//! The daemon knows the repositories (DESIGN.md section 10), as a user meets it: a real
//! meta-repo, `meta daemon start` running the `watch` service, real git commands in projects,
//! then `meta status --json` (warm, from the daemon) against `meta status --json --cold`, and
//! the `core:repo:*` events in the log.

// Test helpers outside `#[test]` fns: a failed unwrap here is a failed test, as inside them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use meta_test::{MetaRepo, git};
use serde_json::Value;

use crate::common::daemon::DaemonGuard;
use crate::common::{GIT_IDENTITY, logged_events, meta, stderr, stdout, wait_until};

/// A fixture meta-repo with a short debounce, and its daemon with the watcher up.
fn watched_metarepo(dir: &Path, projects: usize, watch: &str) -> (MetaRepo, DaemonGuard) {
    let repo = MetaRepo::build(dir, projects).unwrap();
    let root = repo.root();
    let config = root.join("meta/metarepo.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    let debounce = if watch.contains("debounce_ms") {
        ""
    } else {
        "debounce_ms = 20\n"
    };
    text.extend(["\n[watch]\n", debounce, watch, "\n"]);
    std::fs::write(&config, text).unwrap();
    let daemon = DaemonGuard::start(root);
    wait_until("the warm status to be served", || {
        meta(root)
            .args(["status", "--json", "--warm"])
            .output()
            .is_ok_and(|out| out.status.success())
    });
    (repo, daemon)
}

/// `meta status --json` with `flag` (`--warm` or `--cold`): the `projects` array, as text.
fn status_projects(root: &Path, flag: &str) -> String {
    let out = meta(root)
        .args(["status", "--json", flag])
        .output()
        .unwrap();
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "meta status {flag}: {}",
        stderr(&out)
    );
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    serde_json::to_string_pretty(&report["projects"]).unwrap()
}

/// Warm equals cold, byte for byte; returns the records by path.
fn assert_warm_is_cold(root: &Path, after: &str) -> BTreeMap<String, Value> {
    let warm = status_projects(root, "--warm");
    let cold = status_projects(root, "--cold");
    assert_eq!(warm, cold, "warm and cold status differ after {after}");
    let records: Vec<Value> = serde_json::from_str(&cold).unwrap();
    records
        .into_iter()
        .map(|r| (r["path"].as_str().unwrap().to_owned(), r))
        .collect()
}

fn git_here(dir: &Path, args: &[&str]) -> String {
    git(dir)
        .args(args)
        .run()
        .unwrap_or_else(|e| panic!("git {args:?} in {}: {e}", dir.display()))
}

/// `git` that may fail (a merge stopping on a conflict, a checkout refused mid-rebase): the
/// warm status must follow whatever state git leaves behind.
fn git_may_fail(dir: &Path, args: &[&str]) {
    let _ = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .envs(GIT_IDENTITY)
        .env("GIT_EDITOR", "true")
        .output()
        .unwrap();
}

/// A commit on the remote's `main` that the project has not fetched.
fn advance_remote(remote: &str, scratch: &Path, n: usize) {
    let clone = scratch.join(format!("advance-{n}"));
    git_here(scratch, &["clone", "-q", remote, clone.to_str().unwrap()]);
    std::fs::write(clone.join(format!("upstream-{n}.txt")), "x\n").unwrap();
    git_here(&clone, &["add", "-A"]);
    git_here(&clone, &["commit", "-q", "-m", "upstream work"]);
    git_here(&clone, &["push", "-q", "origin", "HEAD:main"]);
}

#[test]
fn warm_status_equals_cold_after_random_git_operations_and_events_say_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    // A long window: each step's changes are one batch even on a loaded machine (the cookie
    // of the `meta status` right after a step closes the window at once, so nothing waits).
    let (repo, _daemon) = watched_metarepo(dir.path(), 7, "debounce_ms = 500");
    let root = repo.root().to_path_buf();
    let scratch = dir.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let initialised: Vec<(String, String)> = assert_warm_is_cold(&root, "start")
        .into_values()
        .filter(|r| r["initialized"] == true)
        .map(|r| {
            let path = r["path"].as_str().unwrap().to_owned();
            let url = repo
                .projects()
                .iter()
                .find(|p| p.path == path)
                .unwrap()
                .url
                .clone();
            (path, url)
        })
        .collect();
    assert!(initialised.len() >= 4, "{initialised:?}");

    let seed = std::env::var("META_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("seed {seed} (META_TEST_SEED={seed} repeats this run)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut before = assert_warm_is_cold(&root, "start");
    let mut seen_events = logged_events(&root, "core:repo").len();

    for step in 0..40 {
        let (path, url) = &initialised[rng.usize(..initialised.len())];
        let dir = root.join(path);
        let op = rng.usize(..11);
        let what = match op {
            0 => {
                std::fs::write(dir.join(format!("c{step}.txt")), "x\n").unwrap();
                git_may_fail(&dir, &["add", "-A"]);
                git_may_fail(&dir, &["commit", "-q", "-m", "work"]);
                "commit"
            }
            1 => {
                git_may_fail(&dir, &["checkout", "-q", "-b", &format!("topic-{step}")]);
                "checkout -b"
            }
            2 => {
                git_may_fail(&dir, &["checkout", "-q", "main"]);
                "switch to main"
            }
            3 => {
                std::fs::write(dir.join("README.md"), format!("staged {step}\n")).unwrap();
                git_may_fail(&dir, &["add", "README.md"]);
                "stage"
            }
            4 => {
                // Twenty files in one go: one record change, one event.
                for i in 0..20 {
                    std::fs::write(dir.join(format!("burst-{step}-{i}.txt")), "x").unwrap();
                }
                "20 untracked files"
            }
            5 => {
                std::fs::write(dir.join("src/file1.txt"), format!("edited {step}\n")).unwrap();
                "edit"
            }
            6 => {
                advance_remote(url, &scratch, step);
                git_may_fail(&dir, &["fetch", "-q", "origin"]);
                "fetch that moves origin/main"
            }
            7 => {
                git_may_fail(&root, &["add", "--", path]);
                git_may_fail(
                    &root,
                    &["commit", "-q", "--allow-empty", "-m", "record pin"],
                );
                "superproject commit of a new pin"
            }
            8 => {
                // Two branches changing one line: the merge stops on a conflict.
                git_may_fail(&dir, &["merge", "--abort"]);
                git_may_fail(&dir, &["rebase", "--abort"]);
                git_may_fail(&dir, &["reset", "-q", "--hard"]);
                let base = git_here(&dir, &["rev-parse", "HEAD"]);
                let side = format!("side-{step}");
                git_may_fail(&dir, &["checkout", "-q", "-b", &side]);
                std::fs::write(dir.join("README.md"), "side\n").unwrap();
                git_may_fail(&dir, &["commit", "-q", "-am", "side"]);
                git_may_fail(&dir, &["checkout", "-q", "--detach", base.trim()]);
                std::fs::write(dir.join("README.md"), "mine\n").unwrap();
                git_may_fail(&dir, &["commit", "-q", "-am", "mine"]);
                if op == 8 && rng.bool() {
                    git_may_fail(&dir, &["merge", "-q", &side]);
                    "merge with a conflict"
                } else {
                    git_may_fail(&dir, &["rebase", "-q", &side]);
                    "rebase stopped on a conflict"
                }
            }
            9 => {
                git_may_fail(&dir, &["merge", "--abort"]);
                git_may_fail(&dir, &["rebase", "--abort"]);
                git_may_fail(&dir, &["reset", "-q", "--hard"]);
                git_may_fail(&dir, &["clean", "-q", "-fd"]);
                "reset and clean"
            }
            _ => {
                std::fs::remove_file(dir.join("src/file2.txt")).ok();
                std::fs::write(dir.join("new-dir-file.txt"), "x").unwrap();
                "delete and create"
            }
        };
        let after = assert_warm_is_cold(&root, &format!("step {step}: {what} in {path}"));
        // Every changed record is announced, ending on the record status shows; unchanged
        // ones are not.
        let changed: Vec<&String> = after
            .iter()
            .filter(|(p, r)| before.get(*p) != Some(*r))
            .map(|(p, _)| p)
            .collect();
        let mut events = Vec::new();
        wait_until(&format!("the events of step {step} ({what})"), || {
            events = logged_events(&root, "core:repo").split_off(seen_events);
            changed.iter().all(|p| {
                events
                    .iter()
                    .rev()
                    .find(|e| {
                        e["type"] == "core:repo:status-changed" && e["data"]["project"] == **p
                    })
                    .is_some_and(|e| e["data"]["status"] == after[*p])
            })
        });
        let mut last: BTreeMap<String, Value> = before.clone();
        for event in &events {
            let data = &event["data"];
            let project = data["project"].as_str().unwrap_or("").to_owned();
            if event["type"] == "core:repo:status-changed" {
                assert!(
                    changed.contains(&&project),
                    "step {step} ({what}): an event for {project}, whose record did not change: {event:#}"
                );
                assert_ne!(
                    last.get(&project),
                    Some(&data["status"]),
                    "step {step} ({what}): an event that changes nothing: {event:#}"
                );
                assert!(!data["changed"].as_array().unwrap().is_empty());
                last.insert(project, data["status"].clone());
            }
        }
        let status_events = events
            .iter()
            .filter(|e| e["type"] == "core:repo:status-changed")
            .count();
        if op == 4 {
            assert_eq!(status_events, 1, "20 files, one record change: {events:#?}");
        }
        let head_moved = |p: &str| {
            events
                .iter()
                .any(|e| e["type"] == "core:repo:head-moved" && e["data"]["project"] == p)
        };
        if before[path]["head"] != after[path]["head"] {
            assert!(
                head_moved(path),
                "step {step} ({what}): no head-moved: {events:#?}"
            );
        }
        if before[path]["branch"] != after[path]["branch"] {
            assert!(
                events
                    .iter()
                    .any(|e| e["type"] == "core:repo:branch-switched"
                        && e["data"]["project"] == **path
                        && e["data"]["to"] == after[path]["branch"]),
                "step {step} ({what}): no branch-switched: {events:#?}"
            );
        }
        if before[path]["pinned"] != after[path]["pinned"] {
            assert!(
                events.iter().any(|e| e["type"] == "core:repo:pin-changed"
                    && e["data"]["project"] == **path
                    && e["data"]["to"] == after[path]["pinned"]),
                "step {step} ({what}): no pin-changed: {events:#?}"
            );
        }
        seen_events += events.len();
        before = after;
    }
}

#[test]
fn a_change_made_just_before_status_is_always_in_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    // A long debounce: only the cookie can make the answer this fresh.
    let (repo, daemon) = watched_metarepo(dir.path(), 3, "debounce_ms = 2000");
    let root = repo.root().to_path_buf();
    let project = repo.projects()[0].path.clone();
    let untracked_at_start = status_projects(&root, "--cold");
    let records: Vec<Value> = serde_json::from_str(&untracked_at_start).unwrap();
    let start = records.iter().find(|r| r["path"] == *project).unwrap()["untracked"]
        .as_u64()
        .unwrap();
    for i in 1..=200 {
        std::fs::write(root.join(&project).join(format!("cookie-{i}.txt")), "x").unwrap();
        let out = meta(&root)
            .args(["status", "--json", "--warm", &project])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let untracked = &report["projects"][0]["untracked"];
        assert_eq!(untracked, &Value::from(start + i), "run {i}: {report:#}");
    }
    // The cookies are gone, and so is the socket once the daemon stops.
    let socket = meta_workspace::Workspace::open(&root)
        .unwrap()
        .status_socket();
    assert!(socket.exists());
    drop(daemon);
    wait_until("the status socket to be removed", || !socket.exists());
    let cookies: Vec<_> = std::fs::read_dir(root.join(".git"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("meta-cookie-"))
        .collect();
    assert!(cookies.is_empty(), "{cookies:?}");
}

#[test]
fn projects_added_and_removed_while_running_and_an_overflow_resyncs() {
    let dir = tempfile::tempdir().unwrap();
    // A long window, so the 200 files below surely fall in one (the cookie makes every answer
    // fresh regardless).
    let (repo, _daemon) = watched_metarepo(dir.path(), 4, "debounce_ms = 500\nmax_pending = 50");
    let root = repo.root().to_path_buf();
    let before = assert_warm_is_cold(&root, "start");

    // Added with git itself, not through meta.
    let remote = &repo.projects()[0].url;
    git(&root)
        .args([
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            "--",
            remote,
            "src/extra/added",
        ])
        .run()
        .unwrap();
    let after = assert_warm_is_cold(&root, "git submodule add");
    assert!(after.contains_key("src/extra/added"), "{after:#?}");
    assert_eq!(after.len(), before.len() + 1);
    // Its git state is followed from now on.
    git_here(
        &root.join("src/extra/added"),
        &["checkout", "-q", "-b", "fresh"],
    );
    let after = assert_warm_is_cold(&root, "a branch in the added project");
    assert_eq!(after["src/extra/added"]["branch"], "fresh");

    git(&root)
        .args(["rm", "-q", "-f", "--", "src/extra/added"])
        .run()
        .unwrap();
    let after = assert_warm_is_cold(&root, "git rm of a project");
    assert!(!after.contains_key("src/extra/added"));

    // A `.gitmodules` broken by hand: the warm status refuses rather than answer from a stale
    // list, and comes back when the file is fixed.
    let gitmodules = std::fs::read(root.join(".gitmodules")).unwrap();
    std::fs::write(root.join(".gitmodules"), "[submodule \"x\"\n\tpath = \n").unwrap();
    let out = meta(&root).args(["status", "--warm"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("no warm status"), "{}", stderr(&out));
    std::fs::write(root.join(".gitmodules"), gitmodules).unwrap();
    assert_warm_is_cold(&root, "fixing .gitmodules");

    // More paths in one window than `max_pending`: the watcher gives up on the window, and
    // the warm status is read again from disk.
    let project = repo.projects()[0].path.clone();
    for i in 0..200 {
        std::fs::write(root.join(&project).join(format!("flood-{i}.txt")), "x").unwrap();
    }
    wait_until("core:repo:resynced", || {
        !logged_events(&root, "core:repo:resynced").is_empty()
    });
    let after = assert_warm_is_cold(&root, "an overflow");
    assert!(after[&project]["untracked"].as_u64().unwrap() >= 200);
    let resynced = logged_events(&root, "core:repo:resynced");
    assert!(
        resynced[0]["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("50"),
        "{resynced:#?}"
    );
}

#[test]
fn status_watch_prints_a_line_per_change_on_a_pipe_and_quits_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, _daemon) = watched_metarepo(dir.path(), 3, "");
    let root = repo.root().to_path_buf();
    let project = repo.projects()[0].path.clone();
    let cmd = crate::common::meta_child(&root, &["status", "--watch"]);
    let (mut child, lines) = crate::common::follow_lines(cmd, str::to_owned);
    // The view comes first, ending with the events line.
    let mut seen = Vec::new();
    wait_until("the first view", || {
        seen.extend(lines.try_iter());
        seen.iter().any(|l: &String| l.starts_with("events:"))
    });
    git_here(&root.join(&project), &["checkout", "-q", "-b", "watched"]);
    wait_until("a line for the branch switch", || {
        seen.extend(lines.try_iter());
        seen.iter()
            .any(|l| l.contains(&project) && l.contains("branch") && l.contains("watched"))
    });
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(i32::try_from(child.0.id()).unwrap()).unwrap(),
        rustix::process::Signal::INT,
    )
    .unwrap();
    let mut status = None;
    wait_until("meta status --watch to quit on Ctrl-C", || {
        status = child.0.try_wait().unwrap();
        status.is_some()
    });
    assert_eq!(status.unwrap().code(), Some(0));
}

#[test]
fn status_watch_without_a_daemon_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 2).unwrap();
    let out = meta(repo.root())
        .args(["status", "--watch"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("meta daemon start"),
        "{}",
        stderr(&out)
    );
    let out = meta(repo.root())
        .args(["status", "--warm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no warm status"), "{}", stderr(&out));
}

#[test]
fn bulk_commands_announce_themselves_even_when_they_fail() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 4).unwrap();
    let root = repo.root();
    // A command failing in every project still brackets its run.
    let out = crate::common::meta_git(root)
        .args(["exec", "--", "false"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = crate::common::meta_git(root)
        .args(["branch", "watched-topic"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let states: Vec<(String, String)> = logged_events(root, "core:state:")
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["data"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let pair = |name: &str| {
        vec![
            ("core:state:enter".to_owned(), name.to_owned()),
            ("core:state:leave".to_owned(), name.to_owned()),
        ]
    };
    assert_eq!(states, [pair("exec"), pair("branch")].concat());
}

#[test]
fn status_watch_on_a_terminal_redraws_and_quits_on_ctrl_c() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let (repo, _daemon) = watched_metarepo(dir.path(), 3, "");
    let root = repo.root().to_path_buf();
    let project = repo.projects()[0].path.clone();
    let meta_bin = assert_cmd::cargo::cargo_bin("meta");
    // `script` gives meta a terminal; what meta draws comes out on script's stdout, and a
    // Ctrl-C typed on script's stdin reaches meta as the terminal's SIGINT.
    let mut child = std::process::Command::new("script")
        .current_dir(&root)
        .env("TERM", "xterm")
        // `script` runs the command through `$SHELL -c`; dash (CI's `sh`) does not exec it,
        // and a shell left waiting would die of the Ctrl-C itself. `exec` makes meta the
        // terminal's only process, whatever the shell.
        .env("SHELL", "/bin/sh")
        .args(["-qfec"])
        .arg(format!("exec '{}' status --watch", meta_bin.display()))
        .arg("/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut screen = Vec::new();
    let mut read_until = |what: &str, done: &dyn Fn(&str) -> bool| {
        wait_until(what, || {
            screen.extend(rx.try_iter().flatten());
            done(&String::from_utf8_lossy(&screen))
        });
    };
    // The first view: the screen cleared, the projects, and the footer.
    read_until("the first view", &|s| {
        s.matches("\x1b[2J").count() == 1 && s.contains("Ctrl-C quits")
    });
    git_here(&root.join(&project), &["checkout", "-q", "-b", "on-screen"]);
    read_until("a redraw showing the new branch", &|s| {
        s.matches("\x1b[2J").count() >= 2
            && s.rsplit("\x1b[2J")
                .next()
                .is_some_and(|last| last.contains("on-screen"))
    });
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"\x03").unwrap();
    stdin.flush().unwrap();
    let mut status = None;
    wait_until("meta status --watch to quit on Ctrl-C", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    // `script -e` exits with meta's status: Ctrl-C is a clean end.
    assert_eq!(status.unwrap().code(), Some(0));
}

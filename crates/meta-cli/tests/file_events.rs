//! File events end to end, as a user meets them: a meta-repo with submodules, `meta daemon
//! start` running the built-in `watch` plugin's service, and `meta events tail core:file -f
//! --json` read line by line.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use meta_test::{MetaRepo, State};
use serde_json::{Value, json};

use crate::common::daemon::DaemonGuard;
use crate::common::{ChildGuard, follow_lines, meta, meta_child, stdout, wait_until};

const WAIT: Duration = Duration::from_secs(30);

/// `meta events tail PREFIX -f --json` in `root`, each line parsed on a thread.
fn follow(root: &Path, prefix: &str) -> (ChildGuard, mpsc::Receiver<Value>) {
    let cmd = meta_child(root, &["events", "tail", prefix, "-f", "--json"]);
    follow_lines(cmd, |line| {
        serde_json::from_str(line).expect("tail --json prints JSON lines")
    })
}

#[test]
fn the_daemon_reports_changes_in_projects_and_skips_what_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 3).unwrap();
    let root = repo.root();
    let config = root.join("meta/metarepo.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[watch]\ndebounce_ms = 20\nignore = [\"target/\"]\n");
    std::fs::write(&config, text).unwrap();
    let project = repo
        .project_in(State::DetachedAtPin)
        .expect("the fixture has an initialised project")
        .path
        .clone();
    let in_project = |rel: &str| format!("{project}/{rel}");
    std::fs::write(root.join(in_project(".gitignore")), "*.log\n").unwrap();

    let _daemon = DaemonGuard::start(root);
    let service_log = root.join(".meta/run/plugins/watch.log");
    wait_until("the watcher to be up", || {
        std::fs::read_to_string(&service_log).is_ok_and(|log| log.contains("watching "))
    });
    let (_tail, rx) = follow(root, "core:file");

    std::fs::write(root.join(in_project("new.txt")), "x").unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(root.join(in_project("README.md")))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"more\n"))
        .unwrap();
    std::fs::remove_file(root.join(in_project("src/file1.txt"))).unwrap();
    // Skipped: `[watch].ignore`, the project's own `.gitignore`, `.meta/`, and git's own
    // files (a project's git dir lives in the superproject's `.git/modules/`).
    std::fs::create_dir_all(root.join(in_project("target/debug"))).unwrap();
    std::fs::write(root.join(in_project("target/debug/out.bin")), "x").unwrap();
    std::fs::write(root.join(in_project("build.log")), "x").unwrap();
    std::fs::write(root.join(".meta/scratch.txt"), "x").unwrap();
    repo.git_in(&project)
        .args(["add", "new.txt"])
        .run()
        .unwrap();
    std::fs::write(root.join("notes.txt"), "x").unwrap();

    let mut seen: Vec<Value> = Vec::new();
    let started = Instant::now();
    while !seen
        .iter()
        .any(|e| e["type"] == "core:file:created" && e["data"]["path"] == "notes.txt")
    {
        let left = WAIT.saturating_sub(started.elapsed());
        let event = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no event for notes.txt; saw {seen:#?}"));
        seen.push(event);
    }
    let told: Vec<(String, Value)> = seen
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["data"].clone()))
        .collect();
    for expected in [
        (
            "core:file:created",
            json!({"path": in_project("new.txt"), "project": project, "is_dir": false}),
        ),
        (
            "core:file:modified",
            json!({"path": in_project("README.md"), "project": project, "is_dir": false}),
        ),
        (
            "core:file:deleted",
            json!({"path": in_project("src/file1.txt"), "project": project, "is_dir": false}),
        ),
        (
            "core:file:created",
            json!({"path": "notes.txt", "project": null, "is_dir": false}),
        ),
    ] {
        assert!(
            told.iter()
                .any(|(ty, data)| ty == expected.0 && *data == expected.1),
            "{expected:?} missing from {told:#?}"
        );
    }
    for (ty, data) in &told {
        let path = data["path"].as_str().unwrap();
        assert!(
            !path.starts_with(".meta")
                && !path.contains("/target")
                && path != in_project("build.log")
                && !path.split('/').any(|part| part == ".git"),
            "{ty} {path} should have been skipped"
        );
    }
    assert!(seen.iter().all(|e| e["source"] == "/plugins/watch"));
    // The log holds what tail showed: nothing was lost on the way.
    let logged = stdout(
        &meta(root)
            .args(["events", "tail", "core:file", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(logged.lines().count(), seen.len(), "{logged}");
}

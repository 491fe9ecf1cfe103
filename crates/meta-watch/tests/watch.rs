//! The watcher on real trees: files and folders made, changed and removed, a meta-repo with
//! submodules and ignore rules, debouncing, and both kinds of overflow.

// Test helpers outside `#[test]` fns: a failed unwrap here is a failed test, as inside them.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use meta_watch::{FileEvent, WatchOptions, Watcher};

const PATIENCE: Duration = Duration::from_secs(10);

fn options(root: &Path) -> WatchOptions {
    WatchOptions {
        debounce: Duration::from_millis(20),
        ..WatchOptions::new(root)
    }
}

/// Collects batches until `done` says the events so far are enough (or fails after a while).
fn collect_until(
    rx: &Receiver<Vec<FileEvent>>,
    done: impl Fn(&[FileEvent]) -> bool,
) -> Vec<FileEvent> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    while !done(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(batch) => seen.extend(batch),
            Err(error) => panic!("{error}; events so far: {seen:#?}"),
        }
    }
    seen
}

fn has(events: &[FileEvent], kind: &str, path: &str) -> bool {
    events
        .iter()
        .any(|e| e.kind() == kind && e.change().is_some_and(|c| c.path == path))
}

fn find<'a>(events: &'a [FileEvent], kind: &str, path: &str) -> &'a meta_watch::FileChange {
    events
        .iter()
        .find(|e| e.kind() == kind && e.change().is_some_and(|c| c.path == path))
        .and_then(FileEvent::change)
        .unwrap_or_else(|| panic!("no {kind} {path} in {events:#?}"))
}

#[test]
fn files_and_folders_made_changed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("old.txt"), "x").unwrap();
    let (_watcher, rx) = Watcher::channel(options(root)).unwrap();

    std::fs::write(root.join("a.txt"), "hello").unwrap();
    let events = collect_until(&rx, |e| has(e, "created", "a.txt"));
    let a = find(&events, "created", "a.txt");
    assert!(!a.is_dir && a.project.is_none());

    std::fs::write(root.join("a.txt"), "hello again").unwrap();
    collect_until(&rx, |e| has(e, "modified", "a.txt"));

    // A folder with content made at once: the content made before the folder's watch is
    // in place is found too.
    std::fs::create_dir_all(root.join("d/e/f")).unwrap();
    std::fs::write(root.join("d/e/f/deep.txt"), "x").unwrap();
    std::fs::write(root.join("d/top.txt"), "x").unwrap();
    let events = collect_until(&rx, |e| {
        has(e, "created", "d/e/f/deep.txt") && has(e, "created", "d/top.txt")
    });
    assert!(find(&events, "created", "d").is_dir);
    assert!(find(&events, "created", "d/e/f").is_dir);

    std::fs::rename(root.join("old.txt"), root.join("new.txt")).unwrap();
    collect_until(&rx, |e| {
        has(e, "deleted", "old.txt") && has(e, "created", "new.txt")
    });

    std::fs::remove_file(root.join("a.txt")).unwrap();
    std::fs::remove_dir_all(root.join("d")).unwrap();
    let events = collect_until(&rx, |e| {
        has(e, "deleted", "a.txt") && has(e, "deleted", "d")
    });
    assert!(find(&events, "deleted", "d").is_dir);

    // The removed folders are no longer watched; a new one with the same name is.
    std::fs::create_dir(root.join("d")).unwrap();
    std::fs::write(root.join("d/again.txt"), "x").unwrap();
    collect_until(&rx, |e| has(e, "created", "d/again.txt"));
}

#[test]
fn meta_repo_projects_and_ignore_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut repo = meta_test::MetaRepo::build(dir.path(), 3).unwrap();
    let nested = repo.add_nested().unwrap();
    let root = repo.root().to_path_buf();
    let project = repo.projects()[0].path.clone();
    std::fs::create_dir_all(root.join(".meta/events")).unwrap();

    let mut opts = options(&root);
    opts.ignore = vec!["target/".to_owned()];
    let (watcher, rx) = Watcher::channel(opts).unwrap();
    assert!(watcher.watched_dirs() > 4);

    // A project's own `.gitignore`, written while watching, applies at once.
    std::fs::write(root.join(&project).join(".gitignore"), "*.log\n").unwrap();
    collect_until(&rx, |e| has(e, "created", &format!("{project}/.gitignore")));

    let skipped = [
        format!("{project}/build.log"),
        ".meta/events/events-1.jsonl".to_owned(),
        format!("{project}/target/debug/out.bin"),
    ];
    std::fs::create_dir_all(root.join(&project).join("target/debug")).unwrap();
    for path in &skipped {
        std::fs::write(root.join(path), "x").unwrap();
    }
    // Git working inside a project touches only `.git` (here `.git/modules/...`).
    std::fs::write(root.join(&project).join("new.txt"), "x").unwrap();
    repo.git_in(&project)
        .args(["add", "new.txt"])
        .run()
        .unwrap();
    repo.git_in(&project)
        .args(["commit", "-q", "-m", "new"])
        .run()
        .unwrap();
    let inner_file = format!("{}/lib/inner/README.md", nested.path);
    std::fs::write(root.join(&inner_file), "changed\n").unwrap();
    std::fs::write(root.join("sentinel.txt"), "x").unwrap();

    let events = collect_until(&rx, |e| {
        has(e, "created", "sentinel.txt")
            && has(e, "created", &format!("{project}/new.txt"))
            && has(e, "modified", &inner_file)
    });
    assert_eq!(
        find(&events, "created", &format!("{project}/new.txt"))
            .project
            .as_deref(),
        Some(project.as_str())
    );
    // Inside a nested submodule, the project is the meta-repo's (outermost) one.
    assert_eq!(
        find(&events, "modified", &inner_file).project.as_deref(),
        Some(nested.path.as_str())
    );
    assert_eq!(find(&events, "created", "sentinel.txt").project, None);
    // The commit in the project is its git state, not files under `.git`.
    assert!(
        events
            .iter()
            .any(|e| matches!(e, FileEvent::GitState { repo } if *repo == project)),
        "{events:#?}"
    );
    for event in events.iter().filter(|e| e.change().is_some()) {
        let path = &event.change().unwrap().path;
        assert!(!path.split('/').any(|p| p == ".git"), "{event:?}");
        assert!(!skipped.contains(path), "{event:?}");
        assert!(!path.contains("/target"), "{event:?}");
    }
}

#[test]
fn a_folder_no_longer_ignored_is_watched_from_then_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
    std::fs::create_dir_all(root.join("build/out")).unwrap();
    let (_watcher, rx) = Watcher::channel(options(root)).unwrap();

    std::fs::write(root.join("build/out/ignored.o"), "x").unwrap();
    std::fs::write(root.join("first.txt"), "x").unwrap();
    let events = collect_until(&rx, |e| has(e, "created", "first.txt"));
    assert!(
        !has(&events, "created", "build/out/ignored.o"),
        "{events:#?}"
    );

    std::fs::write(root.join(".gitignore"), "*.tmp\n").unwrap();
    collect_until(&rx, |e| has(e, "modified", ".gitignore"));
    std::fs::write(root.join("build/out/seen.o"), "x").unwrap();
    std::fs::write(root.join("build/skipped.tmp"), "x").unwrap();
    std::fs::write(root.join("second.txt"), "x").unwrap();
    let events = collect_until(&rx, |e| {
        has(e, "created", "second.txt") && has(e, "created", "build/out/seen.o")
    });
    assert!(!has(&events, "created", "build/skipped.tmp"), "{events:#?}");
}

#[test]
fn changes_within_the_window_coalesce() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let opts = WatchOptions {
        debounce: Duration::from_millis(300),
        ..WatchOptions::new(root)
    };
    let (_watcher, rx) = Watcher::channel(opts).unwrap();
    for i in 0..5 {
        std::fs::write(root.join("busy.txt"), format!("{i}")).unwrap();
    }
    std::fs::write(root.join("brief.txt"), "x").unwrap();
    std::fs::remove_file(root.join("brief.txt")).unwrap();
    let batch = rx.recv_timeout(PATIENCE).unwrap();
    let kinds: Vec<(&str, &str)> = batch
        .iter()
        .map(|e| (e.kind(), e.change().unwrap().path.as_str()))
        .collect();
    assert_eq!(kinds, [("created", "busy.txt")]);
}

#[test]
fn a_folder_made_and_moved_away_within_the_window_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let away = dir.path().join("away");
    std::fs::create_dir(&root).unwrap();
    let opts = WatchOptions {
        debounce: Duration::from_millis(300),
        ..WatchOptions::new(&root)
    };
    let (_watcher, rx) = Watcher::channel(opts).unwrap();
    std::fs::create_dir_all(root.join("brief/inner")).unwrap();
    std::fs::write(root.join("brief/inner/file.txt"), "x").unwrap();
    // Give the watcher time to watch the new folders (and report what they hold) before
    // the folder leaves the tree, still within the window.
    std::thread::sleep(Duration::from_millis(100));
    std::fs::rename(root.join("brief"), &away).unwrap();
    std::fs::write(root.join("sentinel.txt"), "x").unwrap();
    let events = collect_until(&rx, |e| has(e, "created", "sentinel.txt"));
    let left: Vec<&FileEvent> = events
        .iter()
        .filter(|e| e.change().is_some_and(|c| c.path.starts_with("brief")))
        .collect();
    assert!(left.is_empty(), "reported as still there: {left:#?}");
}

#[test]
fn a_burst_past_the_bound_is_one_overflow_then_watching_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let opts = WatchOptions {
        debounce: Duration::from_millis(300),
        max_pending: 20,
        ..WatchOptions::new(root)
    };
    let (_watcher, rx) = Watcher::channel(opts).unwrap();
    for i in 0..100 {
        std::fs::write(root.join(format!("f{i}")), "x").unwrap();
    }
    let batch = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(batch.len(), 1, "{batch:?}");
    assert!(matches!(&batch[0], FileEvent::Overflow { reason } if reason.contains("20")));
    std::fs::write(root.join("after.txt"), "x").unwrap();
    collect_until(&rx, |e| has(e, "created", "after.txt"));
}

#[test]
fn a_kernel_queue_overflow_is_reported_and_watches_are_restored() {
    let queue: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    // The sink stalls on its first batch, so the kernel's queue fills up meanwhile.
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (out_tx, rx) = std::sync::mpsc::channel();
    let mut first = true;
    let _watcher = Watcher::start(options(&root), move |batch| {
        if first {
            first = false;
            let _ = entered_tx.send(());
            let _ = release_rx.recv_timeout(PATIENCE);
        }
        let _ = out_tx.send(batch);
    })
    .unwrap();
    std::fs::write(root.join("first.txt"), "x").unwrap();
    entered_rx.recv_timeout(PATIENCE).unwrap();

    // In the watched root (a new folder would not be watched yet, so would not fill it).
    for i in 0..queue + 1000 {
        std::fs::File::create(root.join(format!("flood-{i}"))).unwrap();
    }
    // Made while events were being lost: only the rescan after the overflow can find it.
    std::fs::create_dir(root.join("late")).unwrap();
    release_tx.send(()).unwrap();

    let events = collect_until(&rx, |e| e.iter().any(|e| e.kind() == "overflow"));
    let overflows: Vec<&FileEvent> = events.iter().filter(|e| e.kind() == "overflow").collect();
    assert_eq!(overflows.len(), 1, "one overflow for the burst");
    assert!(matches!(overflows[0], FileEvent::Overflow { reason } if reason.contains("queue")));
    std::fs::write(root.join("late/x.txt"), "x").unwrap();
    collect_until(&rx, |e| has(e, "created", "late/x.txt"));
}

fn has_git(events: &[FileEvent], repo: &str) -> bool {
    events
        .iter()
        .any(|e| matches!(e, FileEvent::GitState { repo: r } if r == repo))
}

#[test]
fn git_state_of_every_repository_and_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let repo = meta_test::MetaRepo::build(dir.path(), 4).unwrap();
    let root = repo.root().to_path_buf();
    let project = repo.projects()[0].path.clone();
    // The fixture's projects are absorbed: their git dirs live under `.git/modules/`.
    assert!(root.join(&project).join(".git").is_file());
    let (watcher, rx) = Watcher::channel(options(&root)).unwrap();
    let before = watcher.watched_dirs();
    assert_eq!(
        before,
        meta_watch::count_watched_dirs(&root, &[]).unwrap(),
        "the count `meta health` checks is what the watcher places"
    );

    repo.git_in(&project)
        .args(["checkout", "-q", "-b", "topic"])
        .run()
        .unwrap();
    let events = collect_until(&rx, |e| has_git(e, &project));
    assert!(
        events.iter().all(|e| e.change().is_none()),
        "nothing under a git dir is a file event: {events:#?}"
    );

    // A new folder below refs/ is watched from then on.
    repo.git_in(&project)
        .args(["branch", "feature/deep"])
        .run()
        .unwrap();
    collect_until(&rx, |e| has_git(e, &project));
    repo.git_in(&project)
        .args(["branch", "feature/deeper"])
        .run()
        .unwrap();
    collect_until(&rx, |e| has_git(e, &project));

    // The superproject's own git state.
    repo.git_in("")
        .args(["commit", "-q", "--allow-empty", "-m", "empty"])
        .run()
        .unwrap();
    collect_until(&rx, |e| has_git(e, ""));

    // A cookie closes the window at once and comes after what was read before it.
    std::fs::write(root.join(&project).join("edit.txt"), "x").unwrap();
    std::fs::write(root.join(".git/meta-cookie-7"), "").unwrap();
    let started = Instant::now();
    let events = collect_until(&rx, |e| {
        e.iter()
            .any(|e| matches!(e, FileEvent::Cookie { name } if name == "meta-cookie-7"))
    });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a cookie is not debounced"
    );
    let cookie = events
        .iter()
        .position(|e| matches!(e, FileEvent::Cookie { .. }))
        .unwrap();
    let edit = events
        .iter()
        .position(|e| e.change().is_some_and(|c| c.path.ends_with("edit.txt")))
        .unwrap();
    assert!(edit < cookie, "{events:#?}");
    std::fs::remove_file(root.join(".git/meta-cookie-7")).unwrap();

    // A project whose `.git` goes away loses its git-dir watches; back, it has them again.
    let dot_git = root.join(&project).join(".git");
    let gitfile = std::fs::read(&dot_git).unwrap();
    std::fs::remove_file(&dot_git).unwrap();
    std::fs::write(root.join("sentinel-1"), "").unwrap();
    collect_until(&rx, |e| has(e, "created", "sentinel-1"));
    assert!(
        watcher.watched_dirs() < before,
        "{}",
        watcher.watched_dirs()
    );
    std::fs::write(&dot_git, gitfile).unwrap();
    std::fs::write(root.join("sentinel-2"), "").unwrap();
    collect_until(&rx, |e| has(e, "created", "sentinel-2"));
    repo.git_in(&project)
        .args(["checkout", "-q", "-b", "again"])
        .run()
        .unwrap();
    collect_until(&rx, |e| has_git(e, &project));
}

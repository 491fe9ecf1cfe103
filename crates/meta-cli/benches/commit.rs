//! `meta commit` across 20 projects (issue #11: "record its time beside the raw git
//! commits"), side by side with what a user types without `meta`: `git commit` in each project
//! one after the other, then `git add` of the 20 paths and `git commit` in the superproject.
//!
//! Run with `cargo bench -p meta-cli --bench commit`. It builds a 22-project fixture (20
//! checked out), puts every project and the superproject on the topic `feat/bench`, then takes
//! turns: stage one new file in each project (not timed), commit with raw git (timed); stage
//! again, `meta commit` (timed); round after round so background load falls on both alike.
//! Prints medians and the ratio.

// A benchmark reports on stdout and fails loudly on a broken setup.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PROJECTS: usize = 22;
const RUNS: usize = 9;
const WARMUP: usize = 2;
const TOPIC: &str = "feat/bench";

const IDENTITY: [(&str, &str); 6] = [
    ("GIT_AUTHOR_NAME", "Bench"),
    ("GIT_AUTHOR_EMAIL", "bench@example.invalid"),
    ("GIT_COMMITTER_NAME", "Bench"),
    ("GIT_COMMITTER_EMAIL", "bench@example.invalid"),
    ("GIT_CONFIG_GLOBAL", "/dev/null"),
    ("GIT_CONFIG_NOSYSTEM", "1"),
];

fn git(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .envs(IDENTITY)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn run(mut cmd: Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Every checked-out project clean, at its pin, on the topic branch; the superproject too.
fn onto_topic(root: &Path, projects: &[PathBuf]) {
    for dir in projects {
        let pin = String::from_utf8(
            git(root, &["rev-parse", &format!("HEAD:{}", rel(root, dir))])
                .stdout(Stdio::piped())
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        run(git(dir, &["reset", "-q", "--hard"]));
        run(git(dir, &["clean", "-q", "-fd"]));
        run(git(dir, &["checkout", "-q", "-B", TOPIC, pin.trim()]));
    }
    run(git(root, &["switch", "-q", "-c", TOPIC]));
}

fn rel(root: &Path, dir: &Path) -> String {
    dir.strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn stage(projects: &[PathBuf], round: usize, who: &str) {
    for dir in projects {
        let file = format!("{who}-{round}.txt");
        std::fs::write(dir.join(&file), format!("{round}\n")).unwrap();
        run(git(dir, &["add", "--", &file]));
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let repo = meta_test::MetaRepo::build(dir.path(), PROJECTS).unwrap();
    let root = repo.root().to_path_buf();
    let projects: Vec<PathBuf> = repo
        .projects()
        .iter()
        .filter(|p| p.state != meta_test::State::Uninitialized)
        .map(|p| root.join(&p.path))
        .collect();
    onto_topic(&root, &projects);
    println!(
        "fixture: {} projects on `{TOPIC}` (built in {:.1} s)",
        projects.len(),
        started.elapsed().as_secs_f64()
    );

    let raw = |round: usize| {
        let start = Instant::now();
        for dir in &projects {
            run(git(dir, &["commit", "-q", "-m", &format!("raw {round}")]));
        }
        let mut add = vec!["add", "--"];
        let paths: Vec<String> = projects.iter().map(|d| rel(&root, d)).collect();
        add.extend(paths.iter().map(String::as_str));
        run(git(&root, &add));
        run(git(&root, &["commit", "-q", "-m", &format!("raw {round}")]));
        start.elapsed()
    };
    let meta = |round: usize| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_meta"));
        cmd.current_dir(&root)
            .args(["commit", "-m", &format!("meta {round}")])
            .envs(IDENTITY)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let start = Instant::now();
        run(cmd);
        start.elapsed()
    };

    let mut raw_times = Vec::new();
    let mut meta_times = Vec::new();
    for round in 0..WARMUP + RUNS {
        stage(&projects, round, "raw");
        let r = raw(round);
        stage(&projects, round, "meta");
        let m = meta(round);
        if round >= WARMUP {
            raw_times.push(r);
            meta_times.push(m);
        }
    }
    // The last meta commit recorded every project: nothing left behind.
    let changed = Command::new("git")
        .current_dir(&root)
        .args(["diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&changed.stdout).lines().count(),
        projects.len()
    );

    raw_times.sort();
    meta_times.sort();
    let (r, m) = (raw_times[RUNS / 2], meta_times[RUNS / 2]);
    println!(
        "median of {RUNS} rounds, {} projects + the superproject:",
        projects.len()
    );
    println!(
        "  git commit in each, then git add + commit   {:8.1} ms",
        ms(r)
    );
    println!(
        "  meta commit -m                              {:8.1} ms",
        ms(m)
    );
    println!("  ratio meta/git {:.2}", m.as_secs_f64() / r.as_secs_f64());
}

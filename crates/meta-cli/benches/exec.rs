//! `meta exec` budget (issue #6): `meta exec --jobs 8 -- true` over the 200-project fixture in
//! at most 1 s on 2 cores, side by side with `git submodule foreach true` on the same tree.
//!
//! Run with `cargo bench -p meta-cli --bench exec` (the bench profile builds `meta`
//! optimised). It builds the fixture (`make-metarepo DIR 200`: 198 projects checked out), then
//! takes turns running both commands, round after round, so background load falls on both
//! alike, and prints medians and the ratio.

// A benchmark reports on stdout and fails loudly on a broken setup.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PROJECTS: usize = 200;
const RUNS: usize = 9;
const WARMUP: usize = 2;
const BUDGET: Duration = Duration::from_secs(1);

fn time(name: &str, mut cmd: Command) -> Duration {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let status = cmd.status().unwrap();
    let elapsed = start.elapsed();
    assert!(status.success(), "{name} failed: {status}");
    elapsed
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let repo = meta_test::MetaRepo::build(dir.path(), PROJECTS).unwrap();
    let root = repo.root().to_path_buf();
    let checked_out = repo
        .projects()
        .iter()
        .filter(|p| p.state != meta_test::State::Uninitialized)
        .count();
    println!(
        "fixture: {PROJECTS} projects, {checked_out} checked out (built in {:.1} s)",
        started.elapsed().as_secs_f64()
    );

    let meta = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_meta"));
        cmd.current_dir(&root)
            .args(["exec", "--jobs", "8", "--", "true"]);
        cmd
    };
    let foreach = || {
        let mut cmd = Command::new("git");
        cmd.current_dir(&root)
            .args(["submodule", "--quiet", "foreach", "true"]);
        cmd
    };
    // Both must visit the same projects for the comparison to mean anything.
    let meta_out = meta().output().unwrap();
    let ran = String::from_utf8_lossy(&meta_out.stdout)
        .matches("==> ")
        .count();
    assert_eq!(ran, checked_out, "meta exec ran in {ran} projects");
    let foreach_out = Command::new("git")
        .current_dir(&root)
        .args(["submodule", "--quiet", "foreach", "echo x"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&foreach_out.stdout).lines().count(),
        checked_out
    );

    let mut meta_times = Vec::new();
    let mut git_times = Vec::new();
    for round in 0..WARMUP + RUNS {
        let m = time("meta exec", meta());
        let g = time("git submodule foreach", foreach());
        if round >= WARMUP {
            meta_times.push(m);
            git_times.push(g);
        }
    }
    meta_times.sort();
    git_times.sort();
    let (m, g) = (meta_times[RUNS / 2], git_times[RUNS / 2]);
    println!("median of {RUNS} runs each, taking turns:");
    println!("  git submodule foreach true   {:8.1} ms", ms(g));
    println!("  meta exec --jobs 8 -- true   {:8.1} ms", ms(m));
    println!(
        "  ratio meta/git {:.3} ({:.1}x faster); budget {} ms: {}",
        m.as_secs_f64() / g.as_secs_f64(),
        g.as_secs_f64() / m.as_secs_f64(),
        BUDGET.as_millis(),
        if m <= BUDGET { "pass" } else { "FAIL" }
    );
}

//! `meta push` budget (DESIGN.md section 6): a topic touching 20 projects pushed to local bare
//! remotes in at most 0.5 × the time of pushing the same refs one `git push` at a time (20
//! projects, then the superproject), measured in the same run.
//!
//! Run with `cargo bench -p meta-cli --bench push` (the bench profile builds `meta`
//! optimised). It builds a fixture of 22 projects (`MetaRepo::build`: 20 checked out, in its
//! mix of states), a bare remote for the superproject, the topic `feat/bench` over the 20 with
//! one new commit each, recorded in one superproject commit. Then, round after round, it takes
//! turns: `meta push`, reset, the 21 `git push` calls, reset, and (for reference) the same
//! pushes 8 at a time with nothing asked or verified, the floor on this machine. The reset deletes the topic
//! branch on every remote and its remote-tracking refs and upstream here, so each round starts
//! from the same state: nothing of the topic on any remote.

// A benchmark reports on stdout and fails loudly on a broken setup.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PROJECTS: usize = 22;
const RUNS: usize = 9;
const WARMUP: usize = 2;
const BUDGET: f64 = 0.5;
const TOPIC: &str = "feat/bench";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = meta_test::git(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn time(name: &str, mut cmd: Command) -> Duration {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let elapsed = start.elapsed();
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Fixture {
    root: PathBuf,
    upstream: PathBuf,
    /// (checkout, bare remote) of each project in the topic.
    projects: Vec<(PathBuf, PathBuf)>,
}

impl Fixture {
    fn build(dir: &Path) -> Self {
        let repo = meta_test::MetaRepo::build(dir, PROJECTS).unwrap();
        let root = repo.root().to_path_buf();
        let upstream = repo.remotes().join("super.git");
        git(
            repo.remotes(),
            &["init", "-q", "--bare", upstream.to_str().unwrap()],
        );
        git(
            &root,
            &["remote", "add", "origin", upstream.to_str().unwrap()],
        );
        git(&root, &["push", "-q", "-u", "origin", "main"]);
        let status = Command::new(env!("CARGO_BIN_EXE_meta"))
            .current_dir(&root)
            .args(["branch", TOPIC, "--all", "-q"])
            .status()
            .unwrap();
        assert!(status.success());
        let mut projects = Vec::new();
        let mut paths = Vec::new();
        for project in repo.projects() {
            if project.state == meta_test::State::Uninitialized {
                continue;
            }
            let dir = root.join(&project.path);
            // A branch started at the pin while HEAD was elsewhere is not checked out yet.
            git(&dir, &["switch", "-q", TOPIC]);
            std::fs::write(dir.join("bench.txt"), format!("{}\n", project.name)).unwrap();
            git(&dir, &["add", "bench.txt"]);
            git(&dir, &["commit", "-q", "-m", "bench change"]);
            projects.push((dir, repo.remotes().join(format!("{}.git", project.name))));
            paths.push(project.path.clone());
        }
        let mut add = vec!["add", "--"];
        add.extend(paths.iter().map(String::as_str));
        git(&root, &add);
        git(
            &root,
            &["commit", "-q", "-m", "feat/bench across 20 projects"],
        );
        Self {
            root,
            upstream,
            projects,
        }
    }

    /// Nothing of the topic on any remote, no remote-tracking ref or upstream for it here.
    fn reset(&self) {
        let branch = format!("refs/heads/{TOPIC}");
        let tracking = format!("refs/remotes/origin/{TOPIC}");
        for (dir, bare) in &self.projects {
            git(bare, &["update-ref", "-d", &branch]);
            git(dir, &["update-ref", "-d", &tracking]);
        }
        git(&self.upstream, &["update-ref", "-d", &branch]);
        git(&self.root, &["update-ref", "-d", &tracking]);
        for key in ["remote", "merge"] {
            let _ = meta_test::git(&self.root)
                .args(["config", "--unset", &format!("branch.{TOPIC}.{key}")])
                .output();
        }
    }

    fn meta_push(&self) -> Duration {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_meta"));
        cmd.current_dir(&self.root).args(["push", "--jobs", "8"]);
        time("meta push", cmd)
    }

    /// The same refs, one `git push` at a time, as a person would in each folder.
    fn git_pushes(&self) -> Duration {
        let refspec = format!("refs/heads/{TOPIC}:refs/heads/{TOPIC}");
        let start = Instant::now();
        for (dir, _) in &self.projects {
            let mut cmd = Command::new("git");
            cmd.current_dir(dir)
                .args(["push", "-q", "origin", &refspec]);
            time("git push", cmd);
        }
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.root)
            .args(["push", "-q", "--set-upstream", "origin", &refspec]);
        time("git push (superproject)", cmd);
        start.elapsed()
    }

    /// The floor for any tool on this machine: the same 20 project pushes, 8 at a time, with
    /// nothing asked or checked, then the superproject's.
    fn git_pushes_parallel(&self) -> Duration {
        let refspec = format!("refs/heads/{TOPIC}:refs/heads/{TOPIC}");
        let next = std::sync::atomic::AtomicUsize::new(0);
        let start = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some((dir, _)) = self.projects.get(i) else {
                            break;
                        };
                        let mut cmd = Command::new("git");
                        cmd.current_dir(dir)
                            .args(["push", "-q", "origin", &refspec]);
                        time("git push", cmd);
                    }
                });
            }
        });
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.root)
            .args(["push", "-q", "--set-upstream", "origin", &refspec]);
        time("git push (superproject)", cmd);
        start.elapsed()
    }

    /// Every project's topic and the superproject's are on their remotes.
    fn check_pushed(&self) {
        let branch = format!("refs/heads/{TOPIC}");
        for (dir, bare) in self
            .projects
            .iter()
            .chain([&(self.root.clone(), self.upstream.clone())])
        {
            let local = git(dir, &["rev-parse", &branch]);
            let remote = git(bare, &["rev-parse", &branch]);
            assert_eq!(local, remote, "{} not pushed", dir.display());
        }
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    // META_BENCH_KEEP=1 keeps the fixture for profiling (its path is printed).
    let (_dir, dir_path) = if std::env::var_os("META_BENCH_KEEP").is_some() {
        (None, dir.keep())
    } else {
        let path = dir.path().to_path_buf();
        (Some(dir), path)
    };
    let started = Instant::now();
    let fixture = Fixture::build(&dir_path);
    assert_eq!(fixture.projects.len(), 20);
    println!(
        "fixture: topic `{TOPIC}` over {} projects + the superproject, local bare remotes (built in {:.1} s)",
        fixture.projects.len(),
        started.elapsed().as_secs_f64()
    );
    println!("  in {}", dir_path.display());

    let mut meta_times = Vec::new();
    let mut git_times = Vec::new();
    let mut floor_times = Vec::new();
    for round in 0..WARMUP + RUNS {
        fixture.reset();
        let m = fixture.meta_push();
        fixture.check_pushed();
        fixture.reset();
        let g = fixture.git_pushes();
        fixture.check_pushed();
        fixture.reset();
        let f = fixture.git_pushes_parallel();
        fixture.check_pushed();
        if round >= WARMUP {
            meta_times.push(m);
            git_times.push(g);
            floor_times.push(f);
        }
    }
    meta_times.sort();
    git_times.sort();
    floor_times.sort();
    let (m, g, f) = (
        meta_times[RUNS / 2],
        git_times[RUNS / 2],
        floor_times[RUNS / 2],
    );
    let ratio = m.as_secs_f64() / g.as_secs_f64();
    println!("median of {RUNS} rounds each, taking turns:");
    println!("  21 x git push, one at a time          {:8.1} ms", ms(g));
    println!("  meta push --jobs 8                    {:8.1} ms", ms(m));
    println!(
        "  floor: the same git pushes, 8 at once {:8.1} ms  (ratio {:.3})",
        ms(f),
        f.as_secs_f64() / g.as_secs_f64()
    );
    println!(
        "  ratio meta/git {ratio:.3}; budget {BUDGET}: {}",
        if ratio <= BUDGET { "pass" } else { "FAIL" }
    );
}

//! Startup budgets (DESIGN.md section 6): `meta --help` against starting `/bin/true`, and
//! `meta --help` and `meta plugin list` in a meta-repo with 20 plugins installed.
//!
//! Run with `cargo bench -p meta-cli --bench startup` (the bench profile builds `meta`
//! optimised). Every figure is the median of many runs taken in this one run, next to the
//! baseline measured the same way, so the ratios hold on any machine.

// A benchmark reports on stdout and fails loudly on a broken setup.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 300;
const WARMUP: usize = 20;
const PLUGINS: usize = 20;

fn meta() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meta"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("META_") {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// Runs `cmd` to completion with its output discarded; returns the wall time.
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

/// Median and 90th percentile of each case. The cases take turns, round after round, so
/// background load on a shared machine falls on all of them alike.
fn measure(cases: &[(&str, &dyn Fn() -> Command)]) -> Vec<(Duration, Duration)> {
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(RUNS); cases.len()];
    for round in 0..WARMUP + RUNS {
        for (i, (name, make)) in cases.iter().enumerate() {
            let elapsed = time(name, make());
            if round >= WARMUP {
                samples[i].push(elapsed);
            }
        }
    }
    samples
        .into_iter()
        .map(|mut times| {
            times.sort();
            (times[RUNS / 2], times[RUNS * 9 / 10])
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn setup(root: &Path, sources: &Path) {
    std::fs::create_dir_all(root.join("meta")).unwrap();
    std::fs::write(
        root.join("meta/metarepo.toml"),
        "[metarepo]\nname = \"bench\"\n",
    )
    .unwrap();
    for i in 0..PLUGINS {
        let name = format!("plugin-{i:02}");
        let dir = sources.join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("meta-plugin.toml"),
            format!(
                "api = 1\n\n[plugin]\nname = \"{name}\"\nversion = \"1.0.{i}\"\ndescription = \"Benchmark plugin {i}\"\n\n\
                 [[command]]\nname = \"cmd-{i:02}\"\nabout = \"Command number {i}\"\nexec = [\"./run.sh\"]\n\n\
                 [[command]]\nname = \"other-{i:02}\"\nabout = \"Another command\"\nexec = [\"python3\", \"main.py\"]\n\n\
                 [service]\nexec = [\"./serve.sh\"]\nsubscribe = [\"core:file:\"]\n\n[events]\npublish = [\"{name}:\"]\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("run.sh"), "#!/bin/sh\necho run\n").unwrap();
        std::fs::write(dir.join("main.py"), "print('hello')\n".repeat(50)).unwrap();
        let status = meta()
            .current_dir(root)
            .args(["plugin", "install"])
            .arg(&dir)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "installing {name}");
    }
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let root = tmp.path().join("repo");
    setup(&root, &tmp.path().join("sources"));

    let in_dir = |dir: &Path, args: &[&str]| {
        let mut cmd = meta();
        cmd.current_dir(dir).args(args);
        cmd
    };
    let results = measure(&[
        ("/bin/true", &|| Command::new("/bin/true")),
        ("meta --help", &|| in_dir(&empty, &["--help"])),
        ("meta --help (20 plugins)", &|| in_dir(&root, &["--help"])),
        ("meta plugin list (20 plugins)", &|| {
            in_dir(&root, &["plugin", "list"])
        }),
    ]);
    let [
        (true_med, true_p90),
        (help_med, help_p90),
        (help20_med, help20_p90),
        (list20_med, list20_p90),
    ] = results[..]
    else {
        unreachable!("four cases measured")
    };

    println!("startup, median (p90) of {RUNS} runs each, in one run:");
    println!(
        "  /bin/true                        {:7.3} ms ({:.3})",
        ms(true_med),
        ms(true_p90)
    );
    let rows = [
        ("meta --help", help_med, help_p90, 5.0, "ms over /bin/true"),
        (
            "meta --help, 20 plugins",
            help20_med,
            help20_p90,
            10.0,
            "ms",
        ),
        (
            "meta plugin list, 20 plugins",
            list20_med,
            list20_p90,
            10.0,
            "ms",
        ),
    ];
    let mut ok = true;
    for (i, (name, med, p90, budget, unit)) in rows.iter().enumerate() {
        let measured = if i == 0 {
            ms(*med) - ms(true_med)
        } else {
            ms(*med)
        };
        let pass = measured <= *budget;
        ok &= pass;
        println!(
            "  {name:<32} {:7.3} ms ({:.3})  = {:5.2} x /bin/true; budget {budget} {unit}: {}",
            ms(*med),
            ms(*p90),
            med.as_secs_f64() / true_med.as_secs_f64(),
            if pass { "PASS" } else { "FAIL" }
        );
    }
    println!("overall: {}", if ok { "PASS" } else { "FAIL" });
}

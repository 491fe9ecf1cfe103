//! Budget (DESIGN.md section 6): cold `meta status` (the real binary, no daemon) on 1,000
//! submodules takes at most 0.03 × `git submodule status`, measured side by side; the ratios at
//! 200, 1,000 and 5,000 submodules show how its cost grows next to git's.
//!
//! `cargo bench -p meta-cli --bench status_scale`. Knobs: `META_BENCH_SIZES` (submodule counts,
//! each optionally `:RUNS`; default `200,1000,5000:1`, as `git submodule status` takes minutes
//! at 5,000), `META_BENCH_RUNS` (timed runs per command where a size names none, default 5),
//! `META_BENCH_KEEP=1` (keep the fixtures and print where). Each size gets its own fixture from
//! `MetaRepo::build_shared` (one seed history shared through alternates; build time printed).
//! A warm-up runs `meta status` and `git status` once (the latter refreshes every project's
//! index, which a freshly checked-out fixture needs, as a fresh `git submodule update` does;
//! `meta` never writes an index) and fills the page cache; then the commands take turns so they
//! share the machine's mood, and medians are compared. Exits 1 if the budget at 1,000 is
//! missed.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const META: &str = env!("CARGO_BIN_EXE_meta");
/// The size the budget is stated at, and the budget.
const BUDGET_SIZE: usize = 1000;
const BUDGET: f64 = 0.03;

const COMMANDS: [(&str, &[&str]); 4] = [
    ("meta status", &[META, "status"]),
    ("meta status --json", &[META, "status", "--json"]),
    ("git submodule status", &["git", "submodule", "status"]),
    ("git status", &["git", "status"]),
];

fn main() -> ExitCode {
    let runs: usize = std::env::var("META_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    let sizes: Vec<(usize, usize)> = std::env::var("META_BENCH_SIZES")
        .unwrap_or_else(|_| "200,1000,5000:1".to_owned())
        .split(',')
        .filter_map(|item| {
            let (size, size_runs) = item.trim().split_once(':').unwrap_or((item.trim(), ""));
            let size: usize = size.parse().ok()?;
            Some((size, size_runs.parse().unwrap_or(runs).max(1)))
        })
        .filter(|&(n, _)| n > 2)
        .collect();
    let keep = std::env::var_os("META_BENCH_KEEP").is_some_and(|v| v == "1");

    let mut rows = Vec::new();
    for &(size, runs) in &sizes {
        match measure(size, runs, keep) {
            Ok(medians) => rows.push((size, medians)),
            Err(error) => {
                eprintln!("{size} submodules: {error}");
                return ExitCode::FAILURE;
            }
        }
    }

    println!();
    println!(
        "| submodules | meta status | meta status --json | git submodule status | git status | meta / submodule status | meta / git status |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut verdict = None;
    for (size, m) in &rows {
        let vs_submodule = ms(m[0]) / ms(m[2]);
        let vs_status = ms(m[0]) / ms(m[3]);
        println!(
            "| {size} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {vs_submodule:.4} | {vs_status:.3} |",
            ms(m[0]),
            ms(m[1]),
            ms(m[2]),
            ms(m[3])
        );
        if *size == BUDGET_SIZE {
            verdict = Some(vs_submodule <= BUDGET);
            println!();
        }
    }
    // How cost grows: each size against the smallest, for meta and for git.
    if let Some((first, base)) = rows.first() {
        for (size, m) in rows.iter().skip(1) {
            println!(
                "{first} -> {size} submodules ({}x): meta status {:.1}x, git submodule status {:.1}x, git status {:.1}x",
                size / first,
                ms(m[0]) / ms(base[0]),
                ms(m[2]) / ms(base[2]),
                ms(m[3]) / ms(base[3]),
            );
        }
    }
    let Some(met) = verdict else {
        println!("budget at {BUDGET_SIZE}: not measured (add {BUDGET_SIZE} to META_BENCH_SIZES)");
        return ExitCode::SUCCESS;
    };
    println!(
        "budget at {BUDGET_SIZE}: meta status <= {BUDGET} x git submodule status: {}",
        if met { "met" } else { "MISSED" }
    );
    if met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Builds a fixture of `size` submodules and returns each command's median over `runs`.
fn measure(size: usize, runs: usize, keep: bool) -> Result<Vec<Duration>, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let started = Instant::now();
    let repo = meta_test::MetaRepo::build_shared(dir.path(), size)
        .map_err(|e| format!("cannot build the fixture: {e}"))?;
    println!(
        "{size} submodules: fixture built in {:.1} s at {}",
        started.elapsed().as_secs_f64(),
        repo.root().display()
    );
    for (name, argv) in [COMMANDS[0], COMMANDS[3]] {
        time(repo.root(), argv).map_err(|e| format!("`{name}` failed: {e}"))?;
    }
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); COMMANDS.len()];
    for _ in 0..runs {
        for (i, (name, argv)) in COMMANDS.iter().enumerate() {
            let took = time(repo.root(), argv).map_err(|e| format!("`{name}` failed: {e}"))?;
            times[i].push(took);
        }
    }
    let medians = times
        .iter_mut()
        .zip(COMMANDS)
        .map(|(t, (name, _))| {
            t.sort();
            let median = t[t.len() / 2];
            println!(
                "  {name:<22} median {:>9.1} ms  (min {:.1}, max {:.1}, {runs} runs)",
                ms(median),
                ms(t[0]),
                ms(t[t.len() - 1])
            );
            median
        })
        .collect();
    if keep {
        let kept = dir.keep();
        println!("  kept at {}", kept.display());
    }
    Ok(medians)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Wall time of one run of `argv` in `dir`, output discarded; a non-zero exit is an error.
fn time(dir: &Path, argv: &[&str]) -> Result<Duration, String> {
    let started = Instant::now();
    let status = Command::new(argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    let took = started.elapsed();
    if !status.success() {
        return Err(format!("exit status {status}"));
    }
    Ok(took)
}

//! Budget (DESIGN.md section 6): `meta status` on the 200-submodule fixture takes at most
//! 0.1 × `git submodule status` and 0.5 × `git status`, measured side by side in one run.
//!
//! `cargo bench -p meta-cli --bench status [-- PROJECTS RUNS]` (defaults: 200 projects, 9
//! runs). Builds the fixture once, warms every command up once, then times the three commands
//! in turn so they share the machine's mood, and compares medians. Exits 1 if a budget is
//! missed.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const META: &str = env!("CARGO_BIN_EXE_meta");

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; the numbers are ours.
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let projects = numbers.first().copied().unwrap_or(200);
    let runs = numbers.get(1).copied().unwrap_or(9).max(1);

    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("cannot make a temporary folder: {error}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let repo = match meta_test::MetaRepo::build(dir.path(), projects) {
        Ok(repo) => repo,
        Err(error) => {
            eprintln!("cannot build the fixture: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "fixture: {projects} submodules built in {:.1} s at {}",
        started.elapsed().as_secs_f64(),
        repo.root().display()
    );

    let commands: [(&str, Vec<&str>); 3] = [
        ("meta status", vec![META, "status"]),
        ("git submodule status", vec!["git", "submodule", "status"]),
        ("git status", vec!["git", "status"]),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); commands.len()];
    for round in 0..=runs {
        for (i, (name, argv)) in commands.iter().enumerate() {
            match time(repo.root(), argv) {
                // Round 0 warms caches (and lets git refresh its indexes once).
                Ok(took) if round > 0 => times[i].push(took),
                Ok(_) => {}
                Err(error) => {
                    eprintln!("`{name}` failed: {error}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let medians: Vec<Duration> = times
        .iter_mut()
        .map(|t| {
            t.sort();
            t[t.len() / 2]
        })
        .collect();
    for ((name, _), (median, all)) in commands.iter().zip(medians.iter().zip(&times)) {
        println!(
            "{name:<22} median {:>8.1} ms  (min {:.1}, max {:.1}, {runs} runs)",
            ms(*median),
            ms(all[0]),
            ms(all[all.len() - 1])
        );
    }
    let vs_submodule = ms(medians[0]) / ms(medians[1]);
    let vs_status = ms(medians[0]) / ms(medians[2]);
    let met_submodule = vs_submodule <= 0.1;
    let met_status = vs_status <= 0.5;
    println!(
        "meta status / git submodule status = {vs_submodule:.3} (budget <= 0.1): {}",
        verdict(met_submodule)
    );
    println!(
        "meta status / git status           = {vs_status:.3} (budget <= 0.5): {}",
        verdict(met_status)
    );
    if met_submodule && met_status {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
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

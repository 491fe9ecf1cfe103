//! Budget: `meta new --no-input` at least 20x faster than `cookiecutter --no-input` on the same
//! template, measured side by side in one run (DESIGN.md section 6).
//!
//! Run: `META_TEST_VENV=$PWD/.venv cargo bench -p meta-cli --bench template`

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)] // a benchmark reports

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time_runs(runs: usize, mut run: impl FnMut(usize)) -> Duration {
    run(usize::MAX); // warm caches
    median(
        (0..runs)
            .map(|i| {
                let start = Instant::now();
                run(i);
                start.elapsed()
            })
            .collect(),
    )
}

fn render(program: &Path, args: &[&str], work: &Path, venv: &Path, out: &Path) {
    let status = Command::new(program)
        .args(args)
        .arg("-o")
        .arg(out)
        .current_dir(work)
        .env("HOME", work.join("home"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                venv.join("bin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{} failed", program.display());
}

fn main() -> std::process::ExitCode {
    let Some(venv) = std::env::var_os("META_TEST_VENV").map(PathBuf::from) else {
        eprintln!(
            "META_TEST_VENV is not set: it must name a venv holding cookiecutter 2.7.1 (see README)"
        );
        return std::process::ExitCode::FAILURE;
    };
    let cookiecutter = venv.join("bin/cookiecutter");
    let meta = Path::new(env!("CARGO_BIN_EXE_meta"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let templates = [
        (
            "templates/metarepo (meta init's template)",
            root.join("templates/metarepo"),
        ),
        (
            "tests/corpus/jinja (filters, macros, loops)",
            root.join("crates/meta-cli/tests/corpus/jinja"),
        ),
        (
            "tests/corpus/names (many rendered names)",
            root.join("crates/meta-cli/tests/corpus/names"),
        ),
    ];
    let mut worst = f64::INFINITY;
    println!(
        "{:<46} {:>14} {:>14} {:>8}",
        "template", "cookiecutter", "meta new", "ratio"
    );
    for (label, template) in templates {
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(work.path().join("home")).unwrap();
        let tpl = template.to_str().unwrap();
        let cc = time_runs(9, |i| {
            render(
                &cookiecutter,
                &["--no-input", tpl],
                work.path(),
                &venv,
                &work.path().join(format!("cc-{i}")),
            );
        });
        let ours = time_runs(41, |i| {
            render(
                meta,
                &["new", "--no-input", tpl],
                work.path(),
                &venv,
                &work.path().join(format!("meta-{i}")),
            );
        });
        let ratio = cc.as_secs_f64() / ours.as_secs_f64();
        worst = worst.min(ratio);
        println!(
            "{label:<46} {:>11.1} ms {:>11.2} ms {ratio:>7.1}x",
            cc.as_secs_f64() * 1e3,
            ours.as_secs_f64() * 1e3
        );
    }
    let verdict = if worst >= 20.0 { "within" } else { "OVER" };
    println!("worst ratio {worst:.1}x: {verdict} the budget (>= 20x)");
    std::process::ExitCode::SUCCESS
}

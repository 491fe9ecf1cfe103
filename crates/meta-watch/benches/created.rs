//! Budget (DESIGN.md section 6): 10,000 files created in the tree → 10,000 `created` events
//! (or one explicit overflow) within 2 s, counted from the first file made.
//!
//! `cargo bench -p meta-watch --bench created`. Runs the burst a few times, prints each run
//! and the median, and exits 1 if the median misses the budget.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use meta_watch::{FileEvent, WatchOptions, Watcher};

const FILES: usize = 10_000;
const BUDGET: Duration = Duration::from_secs(2);
const RUNS: usize = 5;

fn main() -> ExitCode {
    let mut times = Vec::new();
    for run in 1..=RUNS {
        match burst() {
            Ok((made, delivered, overflowed)) => {
                println!(
                    "run {run}: {FILES} files made in {:>6.1} ms; {} after {:>6.1} ms",
                    ms(made),
                    if overflowed {
                        "one overflow event".to_owned()
                    } else {
                        format!("{FILES} created events")
                    },
                    ms(delivered)
                );
                times.push(delivered);
            }
            Err(error) => {
                eprintln!("run {run} failed: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    times.sort();
    let median = times[times.len() / 2];
    let met = median <= BUDGET;
    println!(
        "median: {:.1} ms for {FILES} created events (budget {} ms): {}",
        ms(median),
        BUDGET.as_millis(),
        if met { "met" } else { "MISSED" }
    );
    if met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Makes `FILES` files (with content, spread over 10 folders) in a watched tree; returns how
/// long making them took, how long until every `created` event (or an overflow) arrived, and
/// whether it was an overflow.
fn burst() -> Result<(Duration, Duration, bool), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = dir.path();
    for d in 0..10 {
        std::fs::create_dir(root.join(format!("dir{d}"))).map_err(|e| e.to_string())?;
    }
    let (watcher, rx) = Watcher::channel(WatchOptions::new(root)).map_err(|e| e.to_string())?;
    let start = Instant::now();
    for i in 0..FILES {
        let path = root.join(format!("dir{}/file{i}.txt", i % 10));
        std::fs::write(&path, b"some content\n").map_err(|e| e.to_string())?;
    }
    let made = start.elapsed();
    let mut seen = HashSet::new();
    let deadline = start + Duration::from_secs(30);
    while seen.len() < FILES {
        let batch = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .map_err(|_| format!("only {} of {FILES} events after 30 s", seen.len()))?;
        for event in batch {
            match event {
                FileEvent::Created(change) => {
                    seen.insert(change.path);
                }
                FileEvent::Overflow { .. } => return Ok((made, start.elapsed(), true)),
                _ => {}
            }
        }
    }
    let delivered = start.elapsed();
    drop(watcher);
    Ok((made, delivered, false))
}

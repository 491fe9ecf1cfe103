//! Budgets of DESIGN.md section 6 for the daemon that knows the repositories (section 10):
//!
//! - warm `meta status` on 1,000 submodules: ≤ 10 ms median, byte-identical JSON to a cold run;
//! - a `git commit` in a project → its `core:repo:head-moved` on a subscriber: ≤ 100 ms p99
//!   after git exits;
//! - the daemon (and its watch service) with 1,000 projects watched: idle RSS and idle CPU.
//!
//! `cargo bench -p meta-cli --bench repo_watch [-- PROJECTS COMMITS IDLE_SECONDS]` (defaults:
//! 1,000 projects, 100 commits, 30 s idle). Exits 1 when a budget is missed.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use meta_events::Client;
use meta_workspace::Workspace;

const META: &str = env!("CARGO_BIN_EXE_meta");

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool> {
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let projects = numbers.first().copied().unwrap_or(1000);
    let commits = numbers.get(1).copied().unwrap_or(100).max(1);
    let idle = Duration::from_secs(numbers.get(2).copied().unwrap_or(30));

    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let repo = meta_test::MetaRepo::build_shared(
        dir.path(),
        usize::try_from(projects).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("cannot build the fixture: {e}"))?;
    let root = repo.root().to_path_buf();
    println!(
        "fixture: {projects} submodules built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut ok = true;

    meta(&root, &["daemon", "start"])?;
    let _stop = StopDaemon(root.clone());
    let started = Instant::now();
    while meta(&root, &["status", "--json", "--warm"]).is_err() {
        if started.elapsed() > Duration::from_secs(120) {
            return Err("the warm status never came up".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "daemon up, warm status served after {:.2} s",
        started.elapsed().as_secs_f64()
    );

    // Warm against cold, in turns so they share the machine's mood.
    let mut warm = Vec::new();
    let mut cold = Vec::new();
    // What starting `meta` costs on this machine right now, for scale.
    let mut help = Vec::new();
    // The records must be byte-identical; the report's `events` section holds the daemon's
    // uptime, which moves between two runs.
    let projects = |out: Vec<u8>| -> Result<String> {
        let text = String::from_utf8(out).map_err(|e| e.to_string())?;
        let start = text
            .find("\"projects\"")
            .ok_or("no projects in the report")?;
        let end = text.find("\"plugins\"").ok_or("no plugins in the report")?;
        Ok(text[start..end].to_owned())
    };
    let warm_out = projects(meta(&root, &["status", "--json"])?)?;
    let cold_out = projects(meta(&root, &["status", "--json", "--cold"])?)?;
    let identical = warm_out == cold_out;
    for round in 0..30 {
        warm.push(time(&root, &["status", "--json"])?);
        help.push(time(&root, &["--help"])?);
        if round % 3 == 0 {
            cold.push(time(&root, &["status", "--json", "--cold"])?);
        }
    }
    let warm_median = median(&mut warm);
    let help_median = median(&mut help);
    let cold_median = median(&mut cold);
    let warm_ok = warm_median <= Duration::from_millis(10) && identical;
    ok &= warm_ok;
    println!(
        "warm meta status --json   median {:>7.2} ms  (min {:.2}, max {:.2}, {} runs)  budget <= 10 ms: {}",
        ms(warm_median),
        ms(warm[0]),
        ms(warm[warm.len() - 1]),
        warm.len(),
        verdict(warm_median <= Duration::from_millis(10))
    );
    println!(
        "meta --help (start-up)    median {:>7.2} ms  (same rounds, for scale)",
        ms(help_median)
    );
    println!(
        "cold meta status --json   median {:>7.2} ms  ({} runs); warm/cold = {:.3}",
        ms(cold_median),
        cold.len(),
        warm_median.as_secs_f64() / cold_median.as_secs_f64()
    );
    println!("warm and cold JSON byte-identical: {}", verdict(identical));

    // A commit in a project → core:repo:head-moved on a subscriber.
    let workspace = Workspace::open(&root).map_err(|e| e.to_string())?;
    let mut subscription = Client::for_workspace(&workspace)
        .subscribe(&["core:repo:head-moved"])
        .map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(200));
    let project = repo
        .projects()
        .iter()
        .find(|p| root.join(&p.path).join(".git").exists())
        .ok_or("no initialised project")?
        .path
        .clone();
    let mut latencies = Vec::new();
    for i in 0..commits {
        let status = Command::new("git")
            .current_dir(root.join(&project))
            .args(["commit", "-q", "--allow-empty", "-m", &format!("bench {i}")])
            .envs([
                ("GIT_AUTHOR_NAME", "bench"),
                ("GIT_AUTHOR_EMAIL", "bench@example.invalid"),
                ("GIT_COMMITTER_NAME", "bench"),
                ("GIT_COMMITTER_EMAIL", "bench@example.invalid"),
            ])
            .status()
            .map_err(|e| e.to_string())?;
        let exited = Instant::now();
        if !status.success() {
            return Err("git commit failed".into());
        }
        loop {
            let left = Duration::from_secs(10).saturating_sub(exited.elapsed());
            if left.is_zero() {
                return Err(format!("no head-moved for commit {i} within 10 s"));
            }
            let received = subscription.recv(Some(left)).map_err(|e| e.to_string())?;
            let Some(received) = received else { continue };
            let event = received.event().map_err(|e| e.to_string())?;
            if event
                .data
                .as_ref()
                .is_some_and(|d| d["project"] == project.as_str())
            {
                latencies.push(exited.elapsed());
                break;
            }
        }
        // Commits further apart than the debounce window, as people make them.
        std::thread::sleep(Duration::from_millis(20));
    }
    latencies.sort();
    let p99 = latencies[(latencies.len() * 99).div_ceil(100) - 1];
    let p50 = latencies[latencies.len() / 2];
    let latency_ok = p99 <= Duration::from_millis(100);
    ok &= latency_ok;
    println!(
        "git commit -> core:repo:head-moved  p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms ({} commits)  budget p99 <= 100 ms: {}",
        ms(p50),
        ms(p99),
        ms(latencies[latencies.len() - 1]),
        latencies.len(),
        verdict(latency_ok)
    );
    drop(subscription);

    // Idle: nothing changes; what do the daemon and its watcher cost?
    let daemon = meta_events::state::read(&workspace.run_dir())
        .map(|s| s.pid)
        .ok_or("no daemon state file")?;
    let watcher = watch_service_pid(&root)?;
    let before = (cpu_ticks(daemon)?, cpu_ticks(watcher)?);
    std::thread::sleep(idle);
    let after = (cpu_ticks(daemon)?, cpu_ticks(watcher)?);
    let per_minute = |ticks: u64| {
        // Clock ticks are 1/100 s on Linux.
        Duration::from_millis(ticks * 10).as_secs_f64() * 1000.0 * 60.0 / idle.as_secs_f64()
    };
    for (name, pid, ticks) in [
        ("daemon", daemon, after.0 - before.0),
        ("watch service", watcher, after.1 - before.1),
    ] {
        println!(
            "idle {name:<14} RSS {:>6.1} MiB  CPU {:>6.1} ms per minute ({} s measured)",
            rss_mib(pid)?,
            per_minute(ticks),
            idle.as_secs()
        );
    }
    println!("{}", if ok { "within budget" } else { "OVER BUDGET" });
    Ok(ok)
}

fn meta(root: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = Command::new(META)
        .current_dir(root)
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "meta {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

fn time(root: &Path, args: &[&str]) -> Result<Duration> {
    let started = Instant::now();
    let status = Command::new(META)
        .current_dir(root)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    let took = started.elapsed();
    if !status.success() {
        return Err(format!("meta {} failed", args.join(" ")));
    }
    Ok(took)
}

fn watch_service_pid(root: &Path) -> Result<u32> {
    let list: serde_json::Value =
        serde_json::from_slice(&meta(root, &["plugin", "list", "--json"])?)
            .map_err(|e| e.to_string())?;
    list.as_array()
        .and_then(|plugins| plugins.iter().find(|p| p["name"] == "watch"))
        .and_then(|p| p["service"]["pid"].as_u64())
        .and_then(|pid| u32::try_from(pid).ok())
        .ok_or_else(|| "the watch service has no pid".to_owned())
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').ok_or("odd /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| "odd /proc stat".to_owned())
    };
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after the name and state.
    Ok(field(11)? + field(12)?)
}

fn rss_mib(pid: u32) -> Result<f64> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or("no VmRSS")?;
    Ok(kib / 1024.0)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

struct StopDaemon(std::path::PathBuf);

impl Drop for StopDaemon {
    fn drop(&mut self) {
        let _ = Command::new(META)
            .current_dir(&self.0)
            .args(["daemon", "stop"])
            .output();
    }
}

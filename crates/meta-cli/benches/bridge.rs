//! Budgets (DESIGN.md section 6, section 11) of the bridge against a loopback `nats-server`
//! (JetStream on, file storage), with the real `meta`, daemons and `meta-bridge`:
//!
//! 1. **Export rate** ≥ 20,000 events/s sustained: a log of `EXPORT_EVENTS` events (written by a
//!    daemon, then stopped) exported by `meta-bridge push`, timed from start to exit (connect,
//!    stream lookup and the final cursor write included).
//! 2. **A → B delivery** p99 ≤ 50 ms at 1,000 events/s: A's daemon takes events at that rate
//!    for `LATENCY_SECS` seconds; a subscriber on B's bus timestamps each imported one against
//!    the send time it carries. The path is A's bus → A's log → A's bridge → server → B's bridge
//!    → B's daemon (`import`) → B's log and bus.
//! 3. **Idle bridge** ≤ 20 MiB RSS and no busy loop (≤ 50 ms CPU per idle minute), from /proc,
//!    over `META_BENCH_IDLE_SECS` (20) seconds after the traffic.
//!
//! `cargo bench -p meta-cli --bench bridge` (needs `nats-server` on PATH or in /usr/sbin, or
//! `NATS_SERVER_BIN`). Exits 1 when a budget is missed.

// A benchmark reports on stdout and fails loudly on a broken setup; its counts convert to f64
// for printing exactly enough.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use meta_events::{Client, Event};

const EXPORT_EVENTS: usize = 50_000;
const EXPORT_BUDGET: f64 = 20_000.0;
const RATE: u64 = 1_000;
const LATENCY_SECS: u64 = 10;
const P99_BUDGET_MS: f64 = 50.0;
const RSS_BUDGET_KIB: u64 = 20 * 1024;
const IDLE_CPU_MS_PER_MIN: f64 = 50.0;

fn meta(root: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meta"));
    cmd.current_dir(root);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("META_") {
            cmd.env_remove(&key);
        }
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

struct Daemon(PathBuf);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = meta(&self.0).args(["daemon", "stop"]).status();
    }
}

fn start_daemon(root: &Path) -> Daemon {
    assert!(
        meta(root)
            .args(["daemon", "start"])
            .status()
            .unwrap()
            .success()
    );
    Daemon(root.to_path_buf())
}

/// The server and its store (kept until the end).
struct Server(Child, #[allow(dead_code)] tempfile::TempDir);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server() -> (Server, u16) {
    let program = std::env::var_os("NATS_SERVER_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|d| d.join("nats-server"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/nats-server"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = tempfile::tempdir().unwrap();
    let child = Command::new(&program)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(store.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(10));
    }
    (Server(child, store), port)
}

fn machine(node: &str, port: u16, enabled: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("meta")).unwrap();
    std::fs::write(
        dir.path().join("meta/metarepo.toml"),
        format!(
            "[metarepo]\nname = \"{node}\"\n[plugins.watch]\nenabled = false\n[bridge]\nenabled = {enabled}\nurl = [\"nats://127.0.0.1:{port}\"]\nscope = \"bench\"\nimport_start = \"new\"\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join(".meta/bridge")).unwrap();
    std::fs::write(dir.path().join(".meta/bridge/node"), node).unwrap();
    dir
}

fn client(root: &Path) -> Client {
    Client::for_workspace(&meta_workspace::Workspace::open(root).unwrap())
}

fn bridge_state(root: &Path) -> serde_json::Value {
    std::fs::read(root.join(".meta/bridge/state.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn wait_connected(root: &Path) {
    let started = Instant::now();
    while bridge_state(root)["state"] != "connected" {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "bridge never connected"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

/// (RSS in KiB, CPU ticks) of a process.
fn usage(pid: u64) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    (rss, ticks)
}

fn main() -> ExitCode {
    let mut ok = true;
    let (_server, port) = server();

    // 1. Export rate.
    let a = machine("x", port, false);
    {
        let _d = start_daemon(a.path());
        let publisher = client(a.path()).publisher().unwrap();
        let data = serde_json::json!({"text": "x".repeat(200)});
        for _ in 0..EXPORT_EVENTS {
            let event = Event::new("bench:export:event", Some(data.clone())).unwrap();
            publisher.publish(&event).unwrap();
        }
        drop(publisher);
    }
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_meta-bridge"))
        .args(["push", "--timeout", "300"])
        .env("META_ROOT", a.path())
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let exported = answer["exported"].as_u64().unwrap();
    assert!(exported >= EXPORT_EVENTS as u64, "{answer}");
    let rate = exported as f64 / elapsed.as_secs_f64();
    let verdict = rate >= EXPORT_BUDGET;
    ok &= verdict;
    println!(
        "export: {exported} events (300-byte data) in {:.2} s = {rate:.0} events/s (budget >= {EXPORT_BUDGET:.0}) {}",
        elapsed.as_secs_f64(),
        if verdict { "PASS" } else { "FAIL" }
    );

    // 2. A → B delivery latency at 1,000 events/s.
    let a = machine("a", port, true);
    let b = machine("b", port, true);
    let _da = start_daemon(a.path());
    let _db = start_daemon(b.path());
    wait_connected(a.path());
    wait_connected(b.path());
    std::thread::sleep(Duration::from_millis(500));
    let mut subscription = client(b.path()).subscribe(&["bench:latency:"]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let total = RATE * LATENCY_SECS;
    let sender = {
        let root = a.path().to_path_buf();
        std::thread::spawn(move || {
            let publisher = client(&root).publisher().unwrap();
            let started = Instant::now();
            for i in 0..total {
                let due = started + Duration::from_micros(i * 1_000_000 / RATE);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let event = Event::new(
                    "bench:latency:tick",
                    Some(serde_json::json!({"sent_us": now_us()})),
                )
                .unwrap();
                publisher.publish(&event).unwrap();
            }
        })
    };
    let mut latencies = Vec::with_capacity(total as usize);
    let deadline = Instant::now() + Duration::from_secs(LATENCY_SECS + 30);
    while (latencies.len() as u64) < total && Instant::now() < deadline {
        if let Some(received) = subscription.recv(Some(Duration::from_secs(1))).unwrap() {
            let event = received.event().unwrap();
            if let Some(sent) = event.data.as_ref().and_then(|d| d["sent_us"].as_u64()) {
                latencies.push(now_us().saturating_sub(sent));
            }
        }
    }
    sender.join().unwrap();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(u64::MAX) as f64
            / 1000.0
    };
    let (p50, p99, max) = (pct(0.50), pct(0.99), pct(1.0));
    let complete = latencies.len() as u64 == total;
    let verdict = complete && p99 <= P99_BUDGET_MS;
    ok &= verdict;
    println!(
        "delivery A -> B at {RATE}/s for {LATENCY_SECS} s: {} of {total} arrived; p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms (budget p99 <= {P99_BUDGET_MS} ms) {}",
        latencies.len(),
        if verdict { "PASS" } else { "FAIL" }
    );

    // 3. Idle bridge: RSS and CPU.
    let idle_secs: u64 = std::env::var("META_BENCH_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    std::thread::sleep(Duration::from_secs(3));
    for (name, root) in [("A", a.path()), ("B", b.path())] {
        let pid = bridge_state(root)["pid"].as_u64().unwrap();
        let (_, before) = usage(pid);
        std::thread::sleep(Duration::from_secs(idle_secs));
        let (rss, after) = usage(pid);
        let tick_ms = 1000.0 / 100.0; // USER_HZ
        let cpu_per_min = (after - before) as f64 * tick_ms * 60.0 / idle_secs as f64;
        let verdict = rss <= RSS_BUDGET_KIB && cpu_per_min <= IDLE_CPU_MS_PER_MIN;
        ok &= verdict;
        println!(
            "idle bridge {name} (pid {pid}) over {idle_secs} s: RSS {:.1} MiB (budget <= 20), CPU {cpu_per_min:.0} ms/min (budget <= {IDLE_CPU_MS_PER_MIN}) {}",
            rss as f64 / 1024.0,
            if verdict { "PASS" } else { "FAIL" }
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

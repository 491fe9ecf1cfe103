//! The bus under hostile or careless peers (DESIGN.md 7), against the real daemon:
//!
//! 1. control latency while a publisher floods and 1,000 subscribers never read (before the
//!    fix, a turn was bounded by events only and control waited 2–6 s), with the daemon's RSS;
//! 2. publish cost with a subscriber holding 100,000 prefixes, as a ratio to the same subscriber
//!    holding one (a linear scan per match made it 30–250x slower).
//!
//! `cargo bench -p meta-cli --bench hostile`. `META_BENCH_EVENTS` (default 100,000) sets the
//! events of measurement 2.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::io::{BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use meta_events::transport::{Context, Pusher, request};

/// The tests' hand-made ZMTP client: the same wire pieces.
#[path = "../tests/common/zmtp.rs"]
#[allow(dead_code)]
mod zmtp;

const META: &str = env!("CARGO_BIN_EXE_meta");

fn meta(root: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(META)
        .current_dir(root)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "meta {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

struct Daemon {
    root: PathBuf,
    status: serde_json::Value,
}

impl Daemon {
    fn start(root: &Path, events_config: &str) -> Self {
        std::fs::create_dir_all(root.join("meta")).unwrap();
        std::fs::write(
            root.join("meta/metarepo.toml"),
            format!(
                "[metarepo]\nname = \"b\"\n[plugins.watch]\nenabled = false\n[events]\n{events_config}"
            ),
        )
        .unwrap();
        meta(root, &["daemon", "start"]);
        let status = serde_json::from_slice(&meta(root, &["daemon", "status", "--json"])).unwrap();
        Self {
            root: root.to_path_buf(),
            status,
        }
    }

    fn endpoint(&self, name: &str) -> String {
        self.status["endpoints"][name].as_str().unwrap().to_owned()
    }

    fn ipc(&self, name: &str) -> PathBuf {
        PathBuf::from(self.endpoint(name).trim_start_matches("ipc://"))
    }

    fn rss_mib(&self) -> f64 {
        let pid = self.status["pid"].as_u64().unwrap();
        let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let kib: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap();
        kib / 1024.0
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        meta(&self.root, &["daemon", "stop"]);
    }
}

/// A SUB through the handshake, with `subscriptions` already sent.
fn raw_subscriber(path: &Path, subscriptions: &[Vec<u8>]) -> UnixStream {
    let mut stream = UnixStream::connect(path).unwrap();
    let mut out = zmtp::greeting();
    out.extend(zmtp::ready("SUB"));
    for prefix in subscriptions {
        let mut body = vec![1u8];
        body.extend_from_slice(prefix);
        out.extend(zmtp::frame(0, &body));
    }
    stream.write_all(&out).unwrap();
    stream
}

fn control_under_flood(dir: &Path) {
    let daemon = Daemon::start(dir, "");
    let stalled: Vec<UnixStream> = (0..1000)
        .map(|_| raw_subscriber(&daemon.ipc("events"), &[Vec::new()]))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let stop = Arc::clone(&stop);
        let ingest = daemon.endpoint("ingest");
        std::thread::spawn(move || {
            let context = Context::new();
            let pusher = Pusher::connect(&context, &ingest, Duration::ZERO).unwrap();
            let body = format!(
                r#"{{"type":"bench:flood:item","data":{{"pad":"{}"}}}}"#,
                "x".repeat(300)
            );
            while !stop.load(Ordering::Relaxed) {
                let _ = pusher.send(body.as_bytes());
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let context = Context::new();
    let control = daemon.endpoint("control");
    let mut latencies = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        let reply = request(
            &context,
            &control,
            br#"{"op":"ping"}"#,
            Duration::from_secs(20),
        );
        latencies.push(if matches!(reply, Ok(Some(_))) {
            started.elapsed()
        } else {
            Duration::MAX
        });
        std::thread::sleep(Duration::from_millis(100));
    }
    let rss = daemon.rss_mib();
    stop.store(true, Ordering::Relaxed);
    flood.join().unwrap();
    drop(stalled);
    latencies.sort();
    println!("control under a flood with 1,000 subscribers that never read (21 pings)");
    println!(
        "  ping answered: median {:.1} ms, max {:.1} ms; daemon RSS {rss:.0} MiB",
        latencies[10].as_secs_f64() * 1e3,
        latencies[20].as_secs_f64() * 1e3
    );
}

/// Publishes `count` events and returns events/s as the subscriber receives them.
fn fan_out_rate(dir: &Path, prefixes: usize, count: u64) -> f64 {
    let daemon = Daemon::start(
        dir,
        "max_subscriptions = 200000\nmax_subscription_bytes = 16777216\n",
    );
    let mut subscriptions: Vec<Vec<u8>> = (0..prefixes.saturating_sub(1))
        .map(|i| format!("other:p{i}:").into_bytes())
        .collect();
    subscriptions.push(b"bench:".to_vec());
    let stream = raw_subscriber(&daemon.ipc("events"), &subscriptions);
    // Wait until the last subscription is in: a probe event arrives.
    let context = Context::new();
    let pusher =
        Pusher::connect(&context, &daemon.endpoint("ingest"), Duration::from_secs(5)).unwrap();
    let mut reader = BufReader::with_capacity(1 << 20, stream.try_clone().unwrap());
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    skip_handshake(&mut reader);
    loop {
        pusher.send(br#"{"type":"bench:probe:x"}"#).unwrap();
        if read_message(&mut reader).is_some() {
            break;
        }
    }
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // Drain probes still in flight.
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    while read_message(&mut reader).is_some() {}
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = format!(
        r#"{{"type":"bench:load:item","data":{{"pad":"{}"}}}}"#,
        "x".repeat(280)
    );
    let started = Instant::now();
    let sender = std::thread::spawn({
        let ingest = daemon.endpoint("ingest");
        move || {
            let context = Context::new();
            let pusher = Pusher::connect(&context, &ingest, Duration::from_secs(30)).unwrap();
            for _ in 0..count {
                pusher.send(body.as_bytes()).unwrap();
            }
            // Linger: the pusher's queue drains before it is dropped.
            std::thread::sleep(Duration::from_millis(10));
            drop(pusher);
        }
    });
    let mut received = 0;
    while received < count {
        assert!(
            read_message(&mut reader).is_some(),
            "the subscriber stopped at {received}"
        );
        received += 1;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    sender.join().unwrap();
    rate
}

fn skip_handshake(reader: &mut impl Read) {
    let mut greeting = [0u8; 64];
    reader.read_exact(&mut greeting).unwrap();
    read_frame(reader).unwrap();
}

fn read_frame(reader: &mut impl Read) -> Option<(u8, Vec<u8>)> {
    let mut head = [0u8; 2];
    reader.read_exact(&mut head).ok()?;
    let len = if head[0] & 0x02 != 0 {
        let mut rest = [0u8; 7];
        reader.read_exact(&mut rest).ok()?;
        let mut size = [0u8; 8];
        size[0] = head[1];
        size[1..].copy_from_slice(&rest);
        u64::from_be_bytes(size) as usize
    } else {
        usize::from(head[1])
    };
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some((head[0], body))
}

/// One published message (topic, body); commands (PING) are skipped.
fn read_message(reader: &mut impl Read) -> Option<Vec<u8>> {
    loop {
        let (flags, topic) = read_frame(reader)?;
        if flags & 0x04 != 0 {
            continue;
        }
        read_frame(reader)?;
        return Some(topic);
    }
}

fn main() {
    let count = std::env::var("META_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000u64);
    let dir = tempfile::tempdir().unwrap();
    control_under_flood(&dir.path().join("flood"));
    let one = fan_out_rate(&dir.path().join("one"), 1, count);
    let many = fan_out_rate(&dir.path().join("many"), 100_000, count);
    println!("fan-out with a subscriber holding 100,000 prefixes ({count} events)");
    println!(
        "  1 prefix {one:.0} events/s; 100,000 prefixes {many:.0} events/s: {:.2} x (was 1/30 to 1/250)",
        many / one
    );
}

//! The event system end to end: the real `meta` binary, real daemons on real sockets, real
//! Python peers speaking plain ZeroMQ, and the log on disk.

// Helpers outside `#[test]` functions panic on failure too: that is how a test fails.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use meta_events::Event;
use meta_events::transport::{Context, Pusher};
use serde_json::Value;

use crate::common::daemon::{DaemonGuard, kill9};
use crate::common::{
    ChildGuard, bus_metarepo, follow_lines, meta, meta_child, stderr, stdout, wait_until,
};

/// Upper bound for anything a test waits on.
const WAIT: Duration = Duration::from_secs(30);

/// A throw-away meta-repo (config written directly; `meta init` is not needed).
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new(events_config: &str) -> Self {
        Self {
            dir: bus_metarepo(events_config),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn meta(&self) -> assert_cmd::Command {
        let mut cmd = meta(self.root());
        cmd.timeout(WAIT);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.meta().args(args).output().unwrap()
    }

    /// Runs `meta ARGS` and insists it succeeds.
    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "meta {args:?} failed:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    }

    fn workspace(&self) -> meta_workspace::Workspace {
        meta_workspace::Workspace::open(self.root()).unwrap()
    }

    fn start_daemon(&self) -> DaemonGuard {
        DaemonGuard::start(self.root())
    }

    fn daemon_pid(&self) -> u32 {
        meta_events::state::read(&self.workspace().run_dir())
            .expect("a running daemon has a state file")
            .pid
    }

    fn publish(&self, ty: &str) -> u64 {
        let out = self.ok(&["events", "publish", ty, "--json"]);
        let event = Event::from_json(stdout(&out).trim().as_bytes()).unwrap();
        event.sequence.unwrap()
    }

    /// Every line of every segment, each of which must be a whole, valid event.
    fn log(&self) -> Vec<Event> {
        let dir = self.workspace().events_dir();
        let mut events = Vec::new();
        for segment in meta_events::log::list_segments(&dir).unwrap() {
            let text = std::fs::read_to_string(&segment.path).unwrap();
            assert!(
                text.is_empty() || text.ends_with('\n'),
                "{}",
                segment.path.display()
            );
            for line in text.lines() {
                let event = Event::from_json(line.as_bytes())
                    .unwrap_or_else(|e| panic!("log line does not parse ({e}): {line}"));
                events.push(event);
            }
        }
        events
    }

    fn status_json(&self) -> Value {
        let out = self.ok(&["daemon", "status", "--json"]);
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn assert_contiguous(events: &[Event]) {
    let mut ids = HashSet::new();
    for pair in events.windows(2) {
        assert_eq!(
            pair[1].sequence.unwrap(),
            pair[0].sequence.unwrap() + 1,
            "sequences must rise by one: {:?} then {:?}",
            pair[0].sequence,
            pair[1].sequence
        );
    }
    for event in events {
        assert!(
            ids.insert(event.id.clone().unwrap()),
            "duplicate id {:?}",
            event.id
        );
    }
}

fn python() -> PathBuf {
    let venv = std::env::var_os("META_TEST_VENV").unwrap_or_else(|| {
        panic!(
            "META_TEST_VENV is not set: these tests need a Python venv with pyzmq and cloudevents \
             (`.ci/run` creates one from .ci/requirements.txt; then run with META_TEST_VENV=$PWD/.venv)"
        )
    });
    let python = PathBuf::from(venv).join("bin/python");
    assert!(
        python.exists(),
        "META_TEST_VENV does not hold bin/python: {}",
        python.display()
    );
    python
}

#[test]
fn publish_without_a_daemon_appends_to_the_log() {
    let repo = Repo::new("");
    let out = repo.ok(&[
        "events",
        "publish",
        "acme:build:done",
        "--data",
        r#"{"ok": true}"#,
        "--meta",
        "user=ann",
        "--meta",
        "attempt=2",
        "--meta",
        "fast=true",
    ]);
    assert_eq!(
        stdout(&out).trim(),
        "published acme:build:done (sequence 1)"
    );
    assert_eq!(repo.publish("acme:build:started"), 2);
    let log = repo.log();
    assert_eq!(log.len(), 2);
    let first = &log[0];
    assert_eq!(first.ty(), "acme:build:done");
    assert_eq!(first.source.as_deref(), Some("/meta/cli"));
    assert_eq!(first.data, Some(serde_json::json!({"ok": true})));
    let meta = first.metadata();
    assert_eq!(meta["user"].to_string(), "ann");
    assert_eq!(meta["attempt"], meta_events::MetaValue::Integer(2));
    assert_eq!(meta["fast"], meta_events::MetaValue::Bool(true));
    assert_contiguous(&log);
    // `tail` shows both, readable, and JSON lines with --json.
    let text = stdout(&repo.ok(&["events", "tail"]));
    assert!(
        text.contains("acme:build:done attempt=2 fast=true user=ann {\"ok\":true}"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour off a terminal: {text}");
    let coloured = stdout(&repo.ok(&["--color", "always", "events", "tail"]));
    assert!(
        coloured.contains("\u{1b}["),
        "colour when asked: {coloured}"
    );
    let json = stdout(&repo.ok(&["events", "tail", "--json", "--since", "2"]));
    assert_eq!(json.lines().count(), 1, "{json}");
    assert!(json.contains(r#""sequence":"00000000000000000002""#));
}

#[test]
fn publish_refuses_bad_input_with_clear_errors() {
    let repo = Repo::new("");
    let cases: &[(&[&str], &str)] = &[
        (&["Bad:type"], "2 to 8 segments joined by `:`"),
        (&["single"], "it has only one segment"),
        (
            &["core:file:created"],
            "the `core` namespace belongs to meta itself",
        ),
        (&["a:b", "--data", "{nope"], "--data is not valid JSON"),
        (&["a:b", "--meta", "novalue"], "is not KEY=VALUE"),
        (
            &["a:b", "--meta", "Bad_Key=1"],
            "names are 1 to 20 characters `[a-z0-9]`",
        ),
        (
            &["a:b", "--meta", "id=1"],
            "is a CloudEvents attribute of its own",
        ),
    ];
    for (args, expected) in cases {
        let mut full = vec!["events", "publish"];
        full.extend_from_slice(args);
        let out = repo.run(&full);
        assert_eq!(out.status.code(), Some(2), "{full:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains(expected), "{full:?}: {err}");
    }
    assert!(repo.log().is_empty(), "nothing half-written");
    let out = repo.run(&["events", "tail", "--since", "abc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a sequence number"));
    // Outside a meta-repo.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = meta(elsewhere.path())
        .args(["events", "publish", "a:b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not inside a meta-repo"));
}

#[test]
fn daemon_start_status_stop() {
    let repo = Repo::new("");
    let stopped = repo.status_json();
    assert_eq!(stopped["running"], false);
    assert_eq!(stopped["pid"], Value::Null);
    assert!(
        stopped["endpoints"]["ingest"]
            .as_str()
            .unwrap()
            .starts_with("ipc://")
    );

    let guard = repo.start_daemon();
    let pid = repo.daemon_pid();
    // A second start names the first.
    let out = repo.run(&["daemon", "start"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "a daemon already runs for this meta-repo (pid {pid})"
        )),
        "{}",
        stderr(&out)
    );
    // Runtime folder is private.
    let runtime = repo.workspace().runtime_dir();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&runtime).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o700);

    let seq = repo.publish("acme:thing:done");
    let status = repo.status_json();
    assert_eq!(status["running"], true);
    assert_eq!(status["pid"], pid);
    assert!(status["uptime_s"].is_u64());
    for name in ["ingest", "events", "control"] {
        assert!(
            status["endpoints"][name]
                .as_str()
                .unwrap()
                .starts_with("ipc://")
        );
    }
    assert_eq!(status["counters"]["published"], 2, "{status}");
    assert_eq!(status["counters"]["rejected"], 0);
    assert_eq!(status["log"]["segments"], 1);
    assert_eq!(
        status["log"]["last_sequence"],
        meta_events::format_sequence(seq)
    );
    // The section `meta status` embeds, from the library.
    let section = meta_events::status::event_system_status(
        &repo.workspace(),
        meta_events::status::STATUS_TIMEOUT,
    )
    .unwrap();
    let section = serde_json::to_value(section).unwrap();
    assert_eq!(section["daemon"], "running");
    assert_eq!(section["published"], 2);
    for key in [
        "pid",
        "uptime_s",
        "endpoints",
        "rejected",
        "subscribers",
        "log",
    ] {
        assert!(section.get(key).is_some(), "{key} missing from {section}");
    }
    let text = stdout(&repo.ok(&["daemon", "status"]));
    assert!(text.contains(&format!("running (pid {pid}")), "{text}");

    repo.ok(&["daemon", "stop"]);
    assert!(!meta_events::lock::daemon_running(
        &repo.workspace().run_dir()
    ));
    assert!(meta_events::state::read(&repo.workspace().run_dir()).is_none());
    let log = repo.log();
    let types: Vec<&str> = log.iter().map(Event::ty).collect();
    assert_eq!(
        types,
        [
            "core:system:startup",
            "acme:thing:done",
            "core:system:shutdown"
        ]
    );
    assert_eq!(log[2].data.as_ref().unwrap()["reason"], "stop requested");
    assert_contiguous(&log);
    let daemon_log = std::fs::read_to_string(repo.root().join(".meta/run/daemon.log")).unwrap();
    assert!(daemon_log.contains("daemon started"), "{daemon_log}");
    drop(guard);
    let out = repo.ok(&["daemon", "stop"]);
    assert!(stderr(&out).contains("no daemon runs"));
}

#[test]
fn sighup_is_survived_and_sigterm_stops_the_daemon_gracefully() {
    let repo = Repo::new("");
    let _guard = repo.start_daemon();
    let pid = repo.daemon_pid();
    std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let client = meta_events::Client::for_workspace(&repo.workspace());
    assert!(
        client.ping(WAIT).unwrap(),
        "the daemon must outlive its terminal"
    );
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    wait_until("the daemon to stop on SIGTERM", || {
        !meta_events::lock::daemon_running(&repo.workspace().run_dir())
    });
    let log = repo.log();
    let last = log.last().unwrap();
    assert_eq!(last.ty(), "core:system:shutdown");
    assert_eq!(last.data.as_ref().unwrap()["reason"], "signal");
    assert!(meta_events::state::read(&repo.workspace().run_dir()).is_none());
}

#[test]
fn daemon_start_explains_an_unwritable_run_folder() {
    let repo = Repo::new("");
    std::fs::create_dir_all(repo.root().join(".meta")).unwrap();
    // A file where the run folder should be: even root cannot create it.
    std::fs::write(repo.root().join(".meta/run"), "").unwrap();
    let out = repo.run(&["daemon", "start"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("run folder is not writable"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn loopback_tcp_serves_alongside_ipc_when_configured() {
    // Three consecutive free ports, found by asking the OS and checking the next two.
    let port = (0..50)
        .find_map(|_| {
            let first = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
            let port = first.local_addr().ok()?.port();
            let _second = std::net::TcpListener::bind(("127.0.0.1", port.checked_add(1)?)).ok()?;
            let _third = std::net::TcpListener::bind(("127.0.0.1", port.checked_add(2)?)).ok()?;
            Some(port)
        })
        .expect("three free ports in a row");
    let repo = Repo::new(&format!("tcp = \"127.0.0.1:{port}\"\n"));
    let _daemon = repo.start_daemon();
    let status = repo.status_json();
    assert_eq!(status["tcp"]["ingest"], format!("tcp://127.0.0.1:{port}"));
    let tcp = meta_events::Client::new(meta_workspace::BusEndpoints {
        ingest: format!("tcp://127.0.0.1:{port}"),
        events: format!("tcp://127.0.0.1:{}", port + 1),
        control: format!("tcp://127.0.0.1:{}", port + 2),
    });
    assert!(tcp.ping(WAIT).unwrap());
    tcp.publish(&Event::new("over:tcp:sent", None).unwrap())
        .unwrap();
    wait_until("the tcp event to be logged", || {
        repo.status_json()["counters"]["published"] == 2
    });
    assert_eq!(repo.log().last().unwrap().ty(), "over:tcp:sent");
}

#[test]
fn daemon_start_fails_with_the_reason_when_tcp_is_taken() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let repo = Repo::new(&format!("tcp = \"127.0.0.1:{port}\"\n"));
    let out = repo.run(&["daemon", "start"]);
    let _guard = DaemonGuard::adopt(repo.root());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the daemon stopped before it answered"),
        "{err}"
    );
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}

const PYTHON_PEER: &str = r#"
import json, re, sys, time
import zmq
from cloudevents.core.formats.json import JSONFormat

ingest, events, control = sys.argv[1:4]
ctx = zmq.Context()

def sub(prefix):
    s = ctx.socket(zmq.SUB)
    s.setsockopt(zmq.SUBSCRIBE, prefix.encode())
    s.setsockopt(zmq.LINGER, 0)
    s.connect(events)
    return s

everything = sub("")
files = sub("x:file:")
push = ctx.socket(zmq.PUSH)
push.setsockopt(zmq.LINGER, 2000)
push.connect(ingest)
req = ctx.socket(zmq.REQ)
req.setsockopt(zmq.RCVTIMEO, 10000)
req.setsockopt(zmq.LINGER, 0)
req.connect(control)
req.send_json({"op": "ping"})
assert req.recv_json()["ok"] is True

fmt = JSONFormat()

def check(topic, body):
    event = fmt.read(None, body)  # CloudEvents 1.0 validation by the SDK
    raw = json.loads(body)
    assert topic == (event.get_type() + ":").encode(), (topic, event.get_type())
    assert event.get_specversion() == "1.0"
    assert event.get_time().tzinfo is not None
    assert re.fullmatch(r"[0-9]{20}", raw["sequence"]), raw["sequence"]
    assert event.get_id() and event.get_source()
    return event, raw

def wait_live(s):
    # A subscription takes effect some time after connect: probe until it delivers.
    deadline = time.time() + 15
    while time.time() < deadline:
        push.send_json({"type": "x:file:probe"})
        if s.poll(100):
            return
    sys.exit("subscription never became live")

wait_live(files)
wait_live(everything)

sent = [
    {"type": "x:file:created", "data": {"path": "a.txt"}, "user": "ann", "attempt": 2, "fast": True},
    {"type": "x:filesystem:mounted", "data": {"dev": "sda"}},
    {"type": "x:file:deleted", "id": "my-id-1", "source": "/plugins/py", "data": [1, 2, 3]},
    {"type": "x:other:thing"},
]
for event in sent:
    push.send_json(event)

def receive(s, count):
    got = []
    while len(got) < count:
        if not s.poll(10000):
            sys.exit("timed out; got %r" % got)
        topic, body = s.recv_multipart()
        event, raw = check(topic, body)
        if event.get_type() != "x:file:probe":
            got.append((event, raw))
    return got

got = receive(everything, 4)
assert [raw["type"] for _, raw in got] == [e["type"] for e in sent], got
seqs = [int(raw["sequence"]) for _, raw in got]
assert seqs == list(range(seqs[0], seqs[0] + 4)), seqs
created = got[0][0]
assert created.get_extension("user") == "ann"
assert created.get_extension("attempt") == 2
assert created.get_extension("fast") is True
assert created.get_data() == {"path": "a.txt"}
assert created.get_datacontenttype() == "application/json"
assert created.get_source() == "/meta/daemon"
deleted = got[2][0]
assert deleted.get_id() == "my-id-1" and deleted.get_source() == "/plugins/py"

only_files = receive(files, 2)
assert [e.get_type() for e, _ in only_files] == ["x:file:created", "x:file:deleted"]
# `x:file:` never receives `x:filesystem:...` (nor anything else).
assert not files.poll(500), "x:file: subscriber received more"

req.send_json({"op": "status"})
status = req.recv_json()
assert status["running"] is True and status["counters"]["published"] >= 5, status
assert status["counters"]["subscribers"] >= 2, status
print("OK", flush=True)
"#;

#[test]
fn python_peer_speaks_the_wire_protocol() {
    let python = python();
    let repo = Repo::new("");
    let _daemon = repo.start_daemon();
    let endpoints = repo.workspace().bus_endpoints();
    let script = repo.root().join("peer.py");
    std::fs::write(&script, PYTHON_PEER).unwrap();
    let out = assert_cmd::Command::new(python)
        .arg(&script)
        .args([&endpoints.ingest, &endpoints.events, &endpoints.control])
        .timeout(WAIT)
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out).trim(),
        "OK",
        "python peer failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    // What Python published is in the log like everything else.
    let log = repo.log();
    assert!(log.iter().any(|e| e.id.as_deref() == Some("my-id-1")));
    assert_contiguous(&log);
}

#[test]
fn garbage_on_ingest_is_rejected_counted_and_survived() {
    let repo = Repo::new("");
    let _daemon = repo.start_daemon();
    let context = Context::new();
    let pusher = Pusher::connect(&context, &repo.workspace().bus_endpoints().ingest, WAIT).unwrap();
    let big = format!(r#"{{"type":"a:b","data":"{}"}}"#, "x".repeat(1024 * 1024));
    pusher.send(b"not json at all").unwrap();
    pusher.send(br#"{"type":"Not:Valid"}"#).unwrap();
    pusher.send(br#"{"type":"a:b","Bad-Ext":"x"}"#).unwrap();
    pusher
        .send_frames(&[br#"{"type":"a:b"}"#, b"second frame"])
        .unwrap();
    pusher.send(big.as_bytes()).unwrap();
    pusher.send(br#"[{"type":"a:b"}]"#).unwrap();
    pusher.send(br#"{"type":"ok:after:garbage"}"#).unwrap();
    wait_until("the daemon to take every message", || {
        repo.status_json()["counters"]["published"] == 2
    });
    let status = repo.status_json();
    assert_eq!(status["counters"]["rejected"], 6, "{status}");
    // Still serving.
    let seq = repo.publish("ok:still:here");
    let log = repo.log();
    assert_eq!(log.last().unwrap().sequence, Some(seq));
    let types: Vec<&str> = log.iter().map(Event::ty).collect();
    assert_eq!(
        types,
        ["core:system:startup", "ok:after:garbage", "ok:still:here"]
    );
}

#[test]
fn kill_9_during_a_burst_loses_nothing_logged_and_the_sequence_continues() {
    let repo = Repo::new("durability = \"batch\"\n");
    let guard = repo.start_daemon();
    let pid = repo.daemon_pid();
    let endpoint = repo.workspace().bus_endpoints().ingest;
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let burst = std::thread::spawn(move || {
        let context = Context::new();
        let pusher = Pusher::connect(&context, &endpoint, Duration::ZERO).unwrap();
        let mut sent = 0u64;
        while stop_rx.try_recv().is_err() && sent < 2_000_000 {
            let json = format!(r#"{{"type":"burst:item:sent","data":{{"n":{sent}}}}}"#);
            // Bounded: once the daemon is dead, sends stop finding room.
            if pusher
                .send_timeout(json.as_bytes(), Duration::from_millis(50))
                .unwrap()
            {
                sent += 1;
            }
        }
        sent
    });
    let events_dir = repo.workspace().events_dir();
    wait_until("part of the burst to be logged", || {
        meta_events::log::stats(&events_dir).unwrap().bytes > 500_000
    });
    kill9(pid);
    wait_until("the daemon to die", || {
        !meta_events::lock::daemon_running(&repo.workspace().run_dir())
    });
    stop_tx.send(()).unwrap();
    let sent = burst.join().unwrap();
    // What the log acknowledged: every whole line (a torn last one may follow).
    let mut before = Vec::new();
    for segment in meta_events::log::list_segments(&events_dir).unwrap() {
        let text = std::fs::read_to_string(&segment.path).unwrap();
        let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        for line in whole.lines() {
            before.push(Event::from_json(line.as_bytes()).unwrap());
        }
    }
    assert!(before.len() > 1000 && (before.len() as u64) < sent + 1);
    assert_contiguous(&before);

    // Restart: the log parses whole, nothing acknowledged is lost, and the sequence continues
    // after the last whole event without duplicates.
    repo.ok(&["daemon", "start"]);
    let after_restart = repo.publish("after:restart:done");
    let log = repo.log();
    assert_contiguous(&log);
    for (kept, acknowledged) in log.iter().zip(&before) {
        assert_eq!(kept.id, acknowledged.id);
    }
    let last_before = before.last().unwrap().sequence.unwrap();
    assert_eq!(log[before.len()].ty(), "core:system:startup");
    assert_eq!(log[before.len()].sequence, Some(last_before + 1));
    assert_eq!(after_restart, last_before + 2);
    drop(guard);
}

#[test]
fn a_torn_tail_is_repaired_on_start() {
    let repo = Repo::new("");
    repo.publish("a:b");
    repo.publish("a:c");
    let segment = meta_events::log::list_segments(&repo.workspace().events_dir()).unwrap();
    let path = &segment[0].path;
    let mut text = std::fs::read_to_string(path).unwrap();
    text.push_str(r#"{"specversion":"1.0","id":"torn","#);
    std::fs::write(path, text).unwrap();
    let _daemon = repo.start_daemon();
    let seq = repo.publish("a:d");
    assert_eq!(seq, 4, "startup is 3, then ours");
    let log = repo.log();
    assert_contiguous(&log);
    assert!(log.iter().all(|e| e.id.as_deref() != Some("torn")));
    let daemon_log = std::fs::read_to_string(repo.root().join(".meta/run/daemon.log")).unwrap();
    assert!(daemon_log.contains("torn last line"), "{daemon_log}");
}

#[test]
fn five_processes_publishing_without_a_daemon_all_land() {
    let repo = Repo::new("");
    let per_process = 20;
    let handles: Vec<_> = (0..5)
        .map(|p| {
            let root = repo.root().to_path_buf();
            std::thread::spawn(move || {
                for i in 0..per_process {
                    let out = meta(&root)
                        .args(["events", "publish", &format!("proc:p{p}:n{i}")])
                        .timeout(WAIT)
                        .output()
                        .unwrap();
                    assert!(out.status.success(), "{}", stderr(&out));
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let log = repo.log();
    assert_eq!(log.len(), 5 * per_process);
    assert_eq!(log[0].sequence, Some(1));
    assert_contiguous(&log);
    let types: HashSet<&str> = log.iter().map(Event::ty).collect();
    assert_eq!(types.len(), 5 * per_process, "every event exactly once");
}

#[test]
fn emit_falls_back_when_the_daemon_dies_mid_call_without_duplicates() {
    let repo = Repo::new("");
    let _daemon = repo.start_daemon();
    let pid = repo.daemon_pid();
    // Freeze the daemon: it holds its lock but takes nothing.
    std::process::Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status()
        .unwrap();
    let publisher = ChildGuard(
        meta_child(
            repo.root(),
            &["events", "publish", "late:but:landed", "--json"],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(500));
    kill9(pid);
    let out = publisher.wait_output();
    assert!(out.status.success(), "{}", stderr(&out));
    let landed = Event::from_json(stdout(&out).trim().as_bytes()).unwrap();
    // A new daemon must not receive the event a second time.
    repo.ok(&["daemon", "start"]);
    repo.publish("after:it:all");
    let log = repo.log();
    assert_contiguous(&log);
    let copies = log.iter().filter(|e| e.id == landed.id).count();
    assert_eq!(copies, 1, "{log:?}");
}

/// `meta` as a std command, for children that run alongside the test (same clean environment
/// as `common::meta`).
impl ChildGuard {
    fn wait_output(mut self) -> Output {
        let started = Instant::now();
        loop {
            if self.0.try_wait().unwrap().is_some() {
                break;
            }
            assert!(started.elapsed() < WAIT, "child did not finish in time");
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut out = Vec::new();
        let mut err = Vec::new();
        if let Some(mut o) = self.0.stdout.take() {
            o.read_to_end(&mut out).unwrap();
        }
        if let Some(mut e) = self.0.stderr.take() {
            e.read_to_end(&mut err).unwrap();
        }
        Output {
            status: self.0.wait().unwrap(),
            stdout: out,
            stderr: err,
        }
    }
}

#[test]
fn rotation_and_retention_at_tiny_sizes() {
    let repo = Repo::new("log_max_bytes = 2000\nlog_keep = 3\n");
    let _daemon = repo.start_daemon();
    for i in 0..40 {
        repo.publish(&format!("rot:item:n{i}"));
    }
    let segments = meta_events::log::list_segments(&repo.workspace().events_dir()).unwrap();
    assert_eq!(segments.len(), 3, "{segments:?}");
    for segment in &segments {
        let text = std::fs::read_to_string(&segment.path).unwrap();
        let first = Event::from_json(text.lines().next().unwrap().as_bytes()).unwrap();
        assert_eq!(
            first.sequence,
            Some(segment.first),
            "named by its first event"
        );
        let last_line = text.lines().last().unwrap().len() as u64 + 1;
        assert!(
            segment.len < 2000 + last_line,
            "rotated at the first line boundary past the limit"
        );
    }
    let log = repo.log();
    assert_contiguous(&log);
    assert_eq!(log.last().unwrap().ty(), "rot:item:n39");
    // tail starts from the oldest kept event when asked for an older one.
    let out = repo.ok(&["events", "tail", "--json", "--since", "1"]);
    assert_eq!(stdout(&out).lines().count(), log.len());
}

/// Reads `meta events tail -f --json` output on a thread.
fn follow(repo: &Repo, args: &[&str]) -> (ChildGuard, mpsc::Receiver<Event>) {
    let mut cmd = meta_child(repo.root(), &["events", "tail", "-f", "--json"]);
    cmd.args(args);
    follow_lines(cmd, |line| Event::from_json(line.as_bytes()).unwrap())
}

fn collect_until(rx: &mpsc::Receiver<Event>, seen: &mut Vec<Event>, last_type: &str) {
    let started = Instant::now();
    while seen.last().is_none_or(|e| e.ty() != last_type) {
        let left = WAIT.saturating_sub(started.elapsed());
        let event = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("tail never showed {last_type}; saw {seen:?}"));
        seen.push(event);
    }
}

#[test]
fn tail_follows_across_rotation_and_daemon_restarts_without_gap_or_duplicate() {
    let repo = Repo::new("log_max_bytes = 1500\nlog_keep = 50\n");
    repo.publish("t:before:tail");
    let (_tail, rx) = follow(&repo, &[]);
    let mut seen = Vec::new();
    collect_until(&rx, &mut seen, "t:before:tail");
    // No daemon: tail follows the log itself.
    repo.publish("t:embedded:one");
    collect_until(&rx, &mut seen, "t:embedded:one");
    // A daemon appears: tail switches to the bus.
    let daemon = repo.start_daemon();
    for i in 0..15 {
        repo.publish(&format!("t:live:n{i}"));
    }
    collect_until(&rx, &mut seen, "t:live:n14");
    // Restart, publishing in between.
    repo.ok(&["daemon", "stop"]);
    repo.publish("t:between:restarts");
    repo.ok(&["daemon", "start"]);
    for i in 0..10 {
        repo.publish(&format!("t:again:n{i}"));
    }
    collect_until(&rx, &mut seen, "t:again:n9");
    drop(daemon);
    assert!(
        meta_events::log::list_segments(&repo.workspace().events_dir())
            .unwrap()
            .len()
            > 3,
        "the test must cross rotations"
    );
    assert_eq!(seen[0].sequence, Some(1));
    assert_contiguous(&seen);
    let logged: Vec<_> = repo.log().into_iter().take(seen.len()).collect();
    assert_eq!(
        logged.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        seen.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
    );
}

#[test]
fn tail_with_a_prefix_never_shows_other_types() {
    let repo = Repo::new("");
    let _daemon = repo.start_daemon();
    let (_tail, rx) = follow(&repo, &["x:file"]);
    repo.publish("x:filesystem:mounted");
    repo.publish("x:file:created");
    repo.publish("x:files:other");
    repo.publish("x:file:deleted");
    let mut seen = Vec::new();
    collect_until(&rx, &mut seen, "x:file:deleted");
    let types: Vec<&str> = seen.iter().map(Event::ty).collect();
    assert_eq!(types, ["x:file:created", "x:file:deleted"]);
}

#[test]
fn a_slow_subscriber_does_not_slow_the_others() {
    let repo = Repo::new("fanout_hwm = 10000\n");
    let _daemon = repo.start_daemon();
    let client = meta_events::Client::for_workspace(&repo.workspace());
    // The slow one subscribes, queues at most 10 on its side, and does not read until the end.
    let context = Context::new();
    let mut slow = meta_events::transport::Subscriber::connect(
        &context,
        &repo.workspace().bus_endpoints().events,
        &[String::new()],
        10,
    )
    .unwrap();
    let mut fast = client.subscribe(&["load:"]).unwrap();
    let publisher = client.publisher().unwrap();
    // Wait until the fast subscription delivers.
    let probe = Event::new("load:probe:ping", None).unwrap();
    let started = Instant::now();
    loop {
        publisher.publish(&probe).unwrap();
        if fast
            .recv(Some(Duration::from_millis(100)))
            .unwrap()
            .is_some()
        {
            break;
        }
        assert!(started.elapsed() < WAIT, "subscription never live");
    }
    let total = 50_000u64;
    let reader = std::thread::spawn(move || {
        let mut got = 0u64;
        while got < total {
            let Some((topic, body)) = fast.recv_ref(Some(WAIT)).unwrap() else {
                break;
            };
            if topic == b"load:item:sent:" {
                assert!(body.starts_with(b"{\"specversion\":\"1.0\""));
                got += 1;
            }
        }
        got
    });
    for i in 0..total {
        let json = format!(r#"{{"type":"load:item:sent","data":{{"n":{i}}}}}"#);
        publisher.publish_raw(json.as_bytes()).unwrap();
        if i % 100 == 99 {
            // Paced so a prompt reader stays well within its high-water mark of 10,000 even on a busy machine.
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let got = reader.join().unwrap();
    assert_eq!(got, total, "the prompt subscriber got every event");
    // The slow one lost events at its mark instead of holding everyone up.
    let mut slow_got = 0u64;
    while slow
        .recv(Some(Duration::from_millis(300)))
        .unwrap()
        .is_some()
    {
        slow_got += 1;
    }
    assert!(
        slow_got < total,
        "the slow subscriber got {slow_got} of {total}"
    );
    let status = repo.status_json();
    assert!(status["counters"]["published"].as_u64().unwrap() >= total);
}

#[test]
fn a_publisher_that_never_pauses_does_not_lock_out_others_or_control() {
    let repo = Repo::new("");
    let _daemon = repo.start_daemon();
    let stop = Arc::new(AtomicBool::new(false));
    // Three publishers (each its own process, in effect) send faster than the daemon takes.
    let flooding: Vec<_> = (0..3)
        .map(|_| {
            let stop = Arc::clone(&stop);
            let client = meta_events::Client::for_workspace(&repo.workspace());
            std::thread::spawn(move || {
                let publisher = client.publisher().unwrap();
                let mut sent = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    publisher
                        .publish_raw(br#"{"type":"flood:item:sent","data":{"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}"#)
                        .unwrap();
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // While the flood goes on: control answers, and another publisher's event is logged.
    let started = Instant::now();
    let status = repo.status_json();
    assert!(status["counters"]["published"].as_u64().unwrap() > 1);
    let quiet = meta_events::Client::for_workspace(&repo.workspace());
    quiet
        .publisher()
        .unwrap()
        .publish(&Event::new("quiet:item:sent", None).unwrap())
        .unwrap();
    wait_until("the quiet publisher's event to be logged", || {
        meta_events::log::list_segments(&repo.workspace().events_dir())
            .unwrap()
            .iter()
            .any(|segment| {
                std::fs::read_to_string(&segment.path)
                    .unwrap()
                    .contains("\"quiet:item:sent\"")
            })
    });
    let served_in = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let sent: u64 = flooding.into_iter().map(|f| f.join().unwrap()).sum();
    assert!(sent > 10_000, "the flood was only {sent} events");
    assert!(served_in < Duration::from_secs(10), "took {served_in:?}");
}

#[test]
fn tail_into_a_closed_pipe_exits_quietly() {
    let repo = Repo::new("");
    // Far more than a pipe holds, so `meta` is still writing when `head` goes away.
    let mut writer = meta_events::log::LogWriter::open(
        &repo.workspace().events_dir(),
        meta_events::log::LogConfig::default(),
    )
    .unwrap();
    let mut lines = Vec::new();
    for i in 0..5000u64 {
        let mut event = Event::new("pipe:item:sent", Some(serde_json::json!({ "n": i }))).unwrap();
        event.ensure_id();
        event.sequence = Some(i + 1);
        lines.extend_from_slice(event.to_json().as_bytes());
        lines.push(b'\n');
    }
    writer.append(&lines, 5000).unwrap();
    drop(writer);
    let out = std::process::Command::new("bash")
        .args([
            "-c",
            &format!(
                "set -o pipefail; '{}' events tail | head -1",
                assert_cmd::cargo::cargo_bin("meta").display()
            ),
        ])
        .current_dir(repo.root())
        .env("TERM", "dumb")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1);
    assert_eq!(stderr(&out), "");
}

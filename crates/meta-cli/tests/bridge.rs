//! The bridge to NATS JetStream (DESIGN.md section 11, issue #14): real `nats-server` on
//! loopback, meta-repos standing for machines, the real `meta` binary and daemons (each running
//! the real `meta-bridge` as its built-in `bridge` plugin's service).

// Helpers read the JSON the product wrote; a missing field is a test failure.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::daemon::DaemonGuard;
use crate::common::nats::NatsServer;
use crate::common::{meta, stderr, stdout, wait_until};

/// A meta-repo standing for the machine `node`, bridged to `url` in scope `t`. The watcher is
/// off (its events would blur exact counts); `extra` is added to `[bridge]`.
fn machine(node: &str, url: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir_all(dir.path().join("meta")).expect("meta/");
    std::fs::write(
        dir.path().join("meta/metarepo.toml"),
        format!(
            "[metarepo]\nname = \"{node}\"\n\n[plugins.watch]\nenabled = false\n\n[bridge]\nenabled = true\nurl = [\"{url}\"]\nscope = \"t\"\nimport_start = \"all\"\n{extra}\n"
        ),
    )
    .expect("the config is written");
    std::fs::create_dir_all(dir.path().join(".meta/bridge")).expect(".meta/bridge");
    std::fs::write(dir.path().join(".meta/bridge/node"), format!("{node}\n")).expect("node");
    dir
}

/// `meta daemon start` with `env` (the bridge service inherits it), stopped on drop.
fn start_daemon(root: &Path, env: &[(&str, &str)]) -> DaemonGuard {
    let out = meta(root)
        .envs(env.iter().copied())
        .args(["daemon", "start"])
        .timeout(Duration::from_secs(30))
        .output()
        .expect("meta runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    DaemonGuard::adopt(root)
}

fn stop_daemon(root: &Path) {
    let out = meta(root)
        .args(["daemon", "stop"])
        .timeout(Duration::from_secs(30))
        .output()
        .expect("meta runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn status(root: &Path) -> Value {
    let out = meta(root)
        .args(["bridge", "status", "--json"])
        .output()
        .expect("meta runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// `meta health --json`'s `bridge` check: (status, message).
fn health_bridge(root: &Path) -> (String, String) {
    let out = meta(root)
        .args(["health", "--json"])
        .output()
        .expect("meta runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "bridge")
        .cloned()
        .expect("a bridge check while the bridge is on");
    (
        check["status"].as_str().unwrap().to_owned(),
        check["message"].as_str().unwrap().to_owned(),
    )
}

/// `meta events tail PREFIX --json FLAG` lines.
fn tail_count(root: &Path, prefix: &str, flag: &str) -> usize {
    let out = meta(root)
        .args(["events", "tail", prefix, "--json", flag])
        .output()
        .expect("meta runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out).lines().count()
}

/// Two machines `a` and `b` on `server`, each with its daemon running and its bridge connected.
fn two_connected(server: &NatsServer) -> (tempfile::TempDir, tempfile::TempDir, [DaemonGuard; 2]) {
    let a = machine("a", &server.url(), "");
    let b = machine("b", &server.url(), "");
    let daemons = [start_daemon(a.path(), &[]), start_daemon(b.path(), &[])];
    wait_state(a.path(), "connected");
    wait_state(b.path(), "connected");
    (a, b, daemons)
}

fn wait_state(root: &Path, state: &str) {
    wait_until(&format!("bridge state {state}"), || {
        status(root)["state"] == state
    });
}

/// Every event of the log, read from its segments.
fn log(root: &Path) -> Vec<Value> {
    let dir = root.join(".meta/events");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn of_type<'a>(events: &'a [Value], prefix: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["type"].as_str().is_some_and(|t| t.starts_with(prefix)))
        .collect()
}

/// Publishes `count` events of type `ty` to the running daemon of `root`, data `{"i": n}`.
fn publish(root: &Path, ty: &str, count: usize) {
    let workspace = meta_workspace::Workspace::open(root).expect("workspace");
    let client = meta_events::Client::for_workspace(&workspace);
    let publisher = client.publisher().expect("publisher");
    for i in 0..count {
        let event = meta_events::Event::new(ty, Some(serde_json::json!({ "i": i })))
            .expect("valid type")
            .with_source("/test/publisher");
        publisher.publish(&event).expect("published");
    }
    drop(publisher);
}

/// Waits until `root`'s log holds `count` events of `prefix`.
fn wait_count(root: &Path, prefix: &str, count: usize) {
    let started = Instant::now();
    loop {
        let n = of_type(&log(root), prefix).len();
        if n >= count {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{}: {n} of {count} `{prefix}` events arrived; bridge: {}",
            root.display(),
            status(root)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn key(e: &Value) -> (String, String, String) {
    let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
    (s("metaorigin"), s("source"), s("id"))
}

/// Every event once per log: no repeated key, and the sequence contiguous.
fn assert_log_sound(root: &Path) {
    let events = log(root);
    let mut seen = HashSet::new();
    for e in events.iter().filter(|e| e.get("metaorigin").is_some()) {
        assert!(seen.insert(key(e)), "{} holds {e} twice", root.display());
    }
    let sequences: Vec<u64> = events
        .iter()
        .map(|e| e["sequence"].as_str().unwrap().parse().unwrap())
        .collect();
    for pair in sequences.windows(2) {
        assert_eq!(
            pair[1],
            pair[0] + 1,
            "{} sequence not contiguous",
            root.display()
        );
    }
}

/// The local events of `root`'s log the default filter exports.
fn exportable(root: &Path) -> u64 {
    log(root)
        .iter()
        .filter(|e| e.get("metaorigin").is_none())
        .filter(|e| {
            let t = e["type"].as_str().unwrap();
            !["core:system:", "core:file:", "meta:"]
                .iter()
                .any(|p| t.starts_with(p))
        })
        .count() as u64
}

/// A's events as B imported them: same ids and sources, origin `a`, the origin's sequence kept.
fn assert_imported_from(a: &Path, b: &Path, prefix: &str, origin: &str) {
    let a_events = log(a);
    let local: BTreeMap<String, &Value> = of_type(&a_events, prefix)
        .into_iter()
        .filter(|e| e.get("metaorigin").is_none())
        .map(|e| (e["id"].as_str().unwrap().to_owned(), e))
        .collect();
    let b_events = log(b);
    let imported: Vec<&Value> = of_type(&b_events, prefix)
        .into_iter()
        .filter(|e| e["metaorigin"] == origin)
        .collect();
    assert_eq!(
        imported.len(),
        local.len(),
        "each of {origin}'s events once in {}",
        b.display()
    );
    for e in imported {
        let original = local[e["id"].as_str().unwrap()];
        assert_eq!(e["source"], original["source"]);
        assert_eq!(e["data"], original["data"]);
        assert_eq!(e["metaoriginseq"], original["sequence"]);
    }
}

#[test]
fn fan_in_a_thousand_events_arrive_once_with_ids_sources_and_a_contiguous_sequence() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    // Bound last, so the daemons stop before their folders go.
    let (a, b, _daemons) = two_connected(&server);
    publish(a.path(), "acme:build:done", 1000);
    wait_count(b.path(), "acme:build:done", 1000);
    assert_imported_from(a.path(), b.path(), "acme:build:done", "a");
    assert_log_sound(b.path());
    // Where the bridge shows: tail by origin, the daemon's status, health.
    assert_eq!(tail_count(b.path(), "acme:build:done", "--remote"), 1000);
    assert_eq!(tail_count(b.path(), "acme:build:done", "--local"), 0);
    assert_eq!(tail_count(a.path(), "acme:build:done", "--local"), 1000);
    let out = meta(b.path())
        .args(["daemon", "status", "--json"])
        .output()
        .unwrap();
    let daemon: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(daemon["bridge"]["state"], "connected", "{daemon}");
    assert_eq!(health_bridge(b.path()).0, "pass");
    // A imported none of its own, and B exported none of A's: the stream holds A's 1000 (and
    // each daemon's plugin events).
    assert!(log(a.path()).iter().all(|e| e["metaorigin"] != "a"));
    wait_until("A's backlog drains", || {
        status(a.path())["export_backlog"] == 0
    });
    let exportable = exportable(a.path()) + exportable(b.path());
    wait_until("the stream count settles", || {
        server.stream_messages("META_T") == Some(exportable)
    });
}

#[test]
fn offline_catch_up_b_stopped_while_a_publishes_gets_everything_in_order() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let a = machine("a", &server.url(), "");
    let b = machine("b", &server.url(), "");
    let _da = start_daemon(a.path(), &[]);
    let db = start_daemon(b.path(), &[]);
    wait_state(b.path(), "connected");
    stop_daemon(b.path());
    drop(db);
    publish(a.path(), "acme:test:passed", 500);
    wait_until("A exported", || status(a.path())["export_backlog"] == 0);
    let _db = start_daemon(b.path(), &[]);
    wait_count(b.path(), "acme:test:passed", 500);
    let b_log = log(b.path());
    let order: Vec<i64> = of_type(&b_log, "acme:test:passed")
        .iter()
        .map(|e| e["data"]["i"].as_i64().unwrap())
        .collect();
    assert_eq!(order, (0..500).collect::<Vec<_>>(), "in order");
    assert_imported_from(a.path(), b.path(), "acme:test:passed", "a");
    assert_log_sound(b.path());
}

#[test]
fn server_down_the_local_bus_goes_on_and_everything_arrives_after_restart() {
    let Some(mut server) = NatsServer::start() else {
        return;
    };
    // Bound last, so the daemons stop before their folders go.
    let (a, b, _daemons) = two_connected(&server);
    server.stop();
    let started = Instant::now();
    publish(a.path(), "acme:deploy:done", 1000);
    // The local bus does not wait on the bridge.
    wait_count(a.path(), "acme:deploy:done", 1000);
    assert!(started.elapsed() < Duration::from_secs(10));
    wait_state(a.path(), "disconnected");
    // B, idle, notices too.
    wait_state(b.path(), "disconnected");
    assert!(status(a.path())["export_backlog"].as_u64().unwrap() >= 1000);
    let (level, message) = health_bridge(a.path());
    assert_eq!(level, "warn", "{message}");
    assert!(message.contains("not connected"), "{message}");
    server.restart();
    wait_count(b.path(), "acme:deploy:done", 1000);
    assert_imported_from(a.path(), b.path(), "acme:deploy:done", "a");
    assert_log_sound(b.path());
    wait_state(a.path(), "connected");
}

#[test]
fn server_killed_mid_stream_loses_nothing_and_repeats_are_absorbed() {
    let Some(mut server) = NatsServer::start() else {
        return;
    };
    // Bound last, so the daemons stop before their folders go.
    let (a, b, _daemons) = two_connected(&server);
    let root = a.path().to_path_buf();
    let publisher = std::thread::spawn(move || publish(&root, "acme:load:tick", 5000));
    wait_until("export under way", || {
        status(a.path())["export_cursor"].as_u64().unwrap_or(0) > 300
    });
    server.kill9();
    publisher.join().expect("the local bus took every event");
    std::thread::sleep(Duration::from_secs(6)); // past the publish ack timeout
    server.restart();
    wait_count(b.path(), "acme:load:tick", 5000);
    std::thread::sleep(Duration::from_millis(500));
    assert_imported_from(a.path(), b.path(), "acme:load:tick", "a");
    assert_log_sound(b.path());
}

#[test]
fn a_crash_of_b_between_logging_and_acknowledging_leaves_no_duplicate() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let a = machine("a", &server.url(), "");
    let b = machine("b", &server.url(), "");
    let _da = start_daemon(a.path(), &[]);
    publish(a.path(), "acme:crash:case", 50);
    wait_until("A exported", || status(a.path())["export_backlog"] == 0);
    // B's bridge dies right after its daemon logged the first batch, before acknowledging it;
    // the daemon restarts it (or B restarts): the redelivery hits the daemon's dedup.
    let db = start_daemon(b.path(), &[("META_BRIDGE_CRASH_AFTER_IMPORT", "1")]);
    wait_count(b.path(), "acme:crash:case", 50);
    stop_daemon(b.path());
    drop(db);
    let _db = start_daemon(b.path(), &[]);
    wait_state(b.path(), "connected");
    publish(a.path(), "acme:crash:after", 1);
    wait_count(b.path(), "acme:crash:after", 1);
    // The batch that was never acknowledged comes again (after the consumer's ack wait) and is
    // dropped as repeats.
    wait_until("the redelivery", || {
        status(b.path())["import_duplicates"].as_u64().unwrap_or(0) >= 50
    });
    assert_eq!(of_type(&log(b.path()), "acme:crash:case").len(), 50);
    assert_log_sound(b.path());
}

#[test]
fn a_resend_after_the_dedup_window_still_leaves_no_duplicate() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let a = machine("a", &server.url(), "duplicate_window = \"1s\"");
    let b = machine("b", &server.url(), "duplicate_window = \"1s\"");
    let _da = start_daemon(a.path(), &[]);
    let db = start_daemon(b.path(), &[]);
    wait_state(b.path(), "connected");
    publish(a.path(), "acme:window:x", 20);
    wait_count(b.path(), "acme:window:x", 20);
    std::thread::sleep(Duration::from_millis(1500));
    let first = of_type(&log(a.path()), "acme:window:x")[0]["sequence"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    let resend = || {
        let out = meta(a.path())
            .args(["bridge", "resend", "--since", &first.to_string()])
            .output()
            .expect("meta runs");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        wait_until("B saw the repeats", || {
            status(b.path())["import_duplicates"].as_u64().unwrap_or(0) >= 20
        });
        assert_eq!(of_type(&log(b.path()), "acme:window:x").len(), 20);
    };
    resend();
    // A restarted daemon knows them too: it reads its index from the log (ahead of the first
    // import, the bridge being on).
    stop_daemon(b.path());
    drop(db);
    let _db = start_daemon(b.path(), &[]);
    wait_state(b.path(), "connected");
    std::thread::sleep(Duration::from_millis(1500));
    resend();
    assert_log_sound(b.path());
}

/// Writes `count` events imported from node `z` into `root`'s log, as a daemon that ran the
/// bridge before would have left them (the export cursor left at 0).
fn prefill_imported(root: &Path, count: u64) {
    let workspace = meta_workspace::Workspace::open(root).expect("workspace");
    let config = meta_events::log::LogConfig::default();
    let mut log = meta_events::log::LogWriter::open(&workspace.events_dir(), config).expect("log");
    let mut lines = Vec::new();
    for i in 1..=count {
        let event = serde_json::json!({
            "specversion": "1.0", "id": format!("z-{i}"), "source": "/meta/z/plugin/build",
            "type": "t:earlier:build", "time": "2026-12-07T06:00:00Z",
            "sequence": meta_events::format_sequence(i), "metaorigin": "z",
            "metaoriginseq": meta_events::format_sequence(i), "data": {"i": i},
        });
        lines.extend_from_slice(event.to_string().as_bytes());
        lines.push(b'\n');
        if i % 4096 == 0 || i == count {
            log.append(&lines, (i - 1) % 4096 + 1).expect("appended");
            lines.clear();
        }
    }
}

#[test]
fn a_daemon_reading_a_large_log_for_its_import_index_asks_the_bridge_to_send_again() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let a = machine("a", &server.url(), "");
    let b = machine("b", &server.url(), "");
    let _da = start_daemon(a.path(), &[]);
    wait_state(a.path(), "connected");
    publish(a.path(), "acme:early:x", 50);
    wait_until("A exported", || status(a.path())["export_backlog"] == 0);
    // Long enough a read (about a second in a debug build) that B's bridge, importing from the
    // start, hands A's events over before the daemon has its index. B's exporter reads the same
    // 200,000 lines meanwhile (none is for export): the importer gets its turns all the same.
    prefill_imported(b.path(), 200_000);
    let _db = start_daemon(b.path(), &[]);
    wait_count(b.path(), "acme:early:x", 50);
    let bridge_log = std::fs::read_to_string(b.path().join(".meta/run/plugins/bridge.log"))
        .expect("the bridge service's log");
    assert!(
        bridge_log.contains("still reading its import index"),
        "the first import came after the index was read, so nothing was tested:\n{bridge_log}"
    );
    assert_eq!(status(b.path())["state"], "connected");
    assert_eq!(of_type(&log(b.path()), "acme:early:x").len(), 50);
    assert_eq!(of_type(&log(b.path()), "t:earlier:build").len(), 200_000);
    assert_log_sound(b.path());
}

#[test]
fn a_mesh_of_three_nodes_logs_each_event_once_and_never_loops() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let nodes: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|n| (*n, machine(n, &server.url(), "")))
        .collect();
    let _daemons: Vec<_> = nodes
        .iter()
        .map(|(_, d)| start_daemon(d.path(), &[]))
        .collect();
    for (_, dir) in &nodes {
        wait_state(dir.path(), "connected");
    }
    for (_, dir) in &nodes {
        publish(dir.path(), "team:work:done", 200);
    }
    for (_, dir) in &nodes {
        wait_count(dir.path(), "team:work:done", 600);
    }
    std::thread::sleep(Duration::from_secs(1));
    for (node, dir) in &nodes {
        let events = log(dir.path());
        let team = of_type(&events, "team:work:done");
        assert_eq!(team.len(), 600, "{node}");
        assert_eq!(
            team.iter()
                .filter(|e| e.get("metaorigin").is_none())
                .count(),
            200
        );
        assert!(
            events.iter().all(|e| e["metaorigin"] != *node),
            "{node} imported its own"
        );
        for (other, other_dir) in &nodes {
            if other != node {
                assert_imported_from(other_dir.path(), dir.path(), "team:work:done", other);
            }
        }
        assert_log_sound(dir.path());
    }
    // Nothing was exported twice: the stream holds what the three produced.
    let local_exports: u64 = nodes.iter().map(|(_, d)| exportable(d.path())).sum();
    assert_eq!(server.stream_messages("META_T"), Some(local_exports));
}

const AUTH_CONFIG: &str = r#"
authorization {
  users = [
    { user: a, password: "secret-a", permissions: {
        publish: { allow: ["meta.t.a.>", "$JS.API.>", "$JS.ACK.>"] },
        subscribe: { allow: ["_INBOX.>"] } } }
  ]
}
"#;

/// The bridge service's pid and CPU ticks (user + system) so far.
fn service_cpu(root: &Path) -> (u32, u64) {
    let pid = status(root)["service_pid"]
        .as_u64()
        .expect("the service runs") as u32;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    (pid, ticks)
}

fn assert_error_without_spinning_or_leaking(root: &Path, secret: &str) {
    wait_state(root, "error");
    let (pid, before) = service_cpu(root);
    std::thread::sleep(Duration::from_secs(3));
    let (same, after) = service_cpu(root);
    assert_eq!(pid, same, "the service did not crash-loop");
    assert!(
        after - before <= 10,
        "the service spins: {} ticks in 3 s",
        after - before
    );
    let report = status(root);
    assert!(report["last_error"].as_str().is_some(), "{report}");
    let out = meta(root).args(["bridge", "status"]).output().unwrap();
    assert_secret_nowhere(
        root,
        secret,
        vec![report.to_string(), stdout(&out), stderr(&out)],
    );
}

/// `secret` is in none of `texts` and in no file under `.meta/` (state, logs of the daemon and
/// its services).
fn assert_secret_nowhere(root: &Path, secret: &str, mut texts: Vec<String>) {
    let mut dirs = vec![root.join(".meta")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                texts.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    for text in texts {
        assert!(!text.contains(secret), "the secret leaked: {text}");
    }
}

#[test]
fn wrong_credentials_are_state_error_with_no_busy_loop_and_nothing_leaked() {
    let Some(server) = NatsServer::start_with(Some(AUTH_CONFIG)) else {
        return;
    };
    let a = machine("a", &server.url(), "");
    let _da = start_daemon(
        a.path(),
        &[
            ("META_BRIDGE_USER", "a"),
            ("META_BRIDGE_PASSWORD", "not-the-password"),
        ],
    );
    assert_error_without_spinning_or_leaking(a.path(), "not-the-password");
    let report = status(a.path());
    assert!(
        report["last_error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("authorization"),
        "{report}"
    );
}

#[test]
fn a_subject_the_node_may_not_publish_is_state_error_and_nothing_reaches_the_stream() {
    let Some(server) = NatsServer::start_with(Some(AUTH_CONFIG)) else {
        return;
    };
    // Logged in as `a`, but configured as node `b`: its subjects are meta.t.b.…
    let b = machine("b", &server.url(), "");
    let _db = start_daemon(
        b.path(),
        &[
            ("META_BRIDGE_USER", "a"),
            ("META_BRIDGE_PASSWORD", "secret-a"),
        ],
    );
    publish(b.path(), "acme:sneaky:event", 3);
    assert_error_without_spinning_or_leaking(b.path(), "secret-a");
    let report = status(b.path());
    assert!(
        report["last_error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("permission"),
        "{report}"
    );
    assert_eq!(server.stream_messages("META_T").unwrap_or(0), 0);
}

#[test]
fn an_event_too_large_for_the_server_is_skipped_and_counted_and_the_next_goes_out() {
    let Some(server) = NatsServer::start_with(Some("max_payload: 65536\n")) else {
        return;
    };
    // Bound last, so the daemons stop before their folders go.
    let (a, b, _daemons) = two_connected(&server);
    let workspace = meta_workspace::Workspace::open(a.path()).unwrap();
    let publisher = meta_events::Client::for_workspace(&workspace)
        .publisher()
        .unwrap();
    let big = "x".repeat(100_000);
    for (ty, data) in [("acme:big:one", big.as_str()), ("acme:small:one", "fine")] {
        let event = meta_events::Event::new(ty, Some(serde_json::json!({ "blob": data }))).unwrap();
        publisher.publish(&event).unwrap();
    }
    drop(publisher);
    wait_count(b.path(), "acme:small:one", 1);
    assert!(of_type(&log(b.path()), "acme:big:").is_empty());
    assert_eq!(status(a.path())["skipped_oversize"], 1);
    wait_until("A's backlog drains", || {
        status(a.path())["export_backlog"] == 0
    });
}

#[test]
fn a_retention_gap_is_recorded_as_meta_bridge_gap() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let a = machine(
        "a",
        &server.url(),
        "stream_max_age = \"1s\"\nduplicate_window = \"1s\"",
    );
    let b = machine(
        "b",
        &server.url(),
        "stream_max_age = \"1s\"\nduplicate_window = \"1s\"",
    );
    let _da = start_daemon(a.path(), &[]);
    let db = start_daemon(b.path(), &[]);
    wait_state(b.path(), "connected");
    publish(a.path(), "acme:gap:before", 1);
    wait_count(b.path(), "acme:gap:before", 1);
    stop_daemon(b.path());
    drop(db);
    publish(a.path(), "acme:gap:lost", 5);
    wait_until("A exported", || status(a.path())["export_backlog"] == 0);
    std::thread::sleep(Duration::from_secs(3)); // past the stream's max age
    publish(a.path(), "acme:gap:after", 1);
    wait_until("A exported", || status(a.path())["export_backlog"] == 0);
    let _db = start_daemon(b.path(), &[]);
    wait_count(b.path(), "acme:gap:after", 1);
    wait_count(b.path(), "meta:bridge:gap", 1);
    let events = log(b.path());
    let gap = of_type(&events, "meta:bridge:gap")[0];
    assert!(gap["data"]["missing"].as_u64().unwrap() >= 5, "{gap}");
    assert!(of_type(&events, "acme:gap:lost").is_empty());
    assert_eq!(status(b.path())["gaps"], 1);
    let (level, message) = health_bridge(b.path());
    assert_eq!(level, "warn");
    assert!(
        message.starts_with("1 gaps since the bridge started"),
        "{message}"
    );
}

#[test]
fn bridge_push_without_a_daemon_exports_everything_or_fails_loudly() {
    let Some(mut server) = NatsServer::start() else {
        return;
    };
    let a = machine("ci-1", &server.url(), "");
    for i in 0..5 {
        let out = meta(a.path())
            .args([
                "events",
                "publish",
                "acme:ci:step",
                "--data",
                &format!("{{\"i\":{i}}}"),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let out = meta(a.path())
        .args(["bridge", "push", "--timeout", "20s"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("exported 5 events"),
        "{}",
        stderr(&out)
    );
    assert_eq!(status(a.path())["export_backlog"], 0);
    assert_eq!(server.stream_messages("META_T"), Some(5));
    // Nothing left: a second push exports nothing and succeeds.
    let out = meta(a.path()).args(["bridge", "push"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exported 0 events"),
        "{}",
        stderr(&out)
    );

    server.stop();
    let out = meta(a.path())
        .args(["events", "publish", "acme:ci:late"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = meta(a.path())
        .args(["bridge", "push", "--timeout", "2s"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("error:") && err.contains("hint:"), "{err}");
    // It kept trying for the whole timeout (a restarting server gets that long), then said
    // what is left and why.
    assert!(err.contains("1 events are not exported yet"), "{err}");
    assert!(err.contains("last attempt"), "{err}");
    // The event stays in the log for the next push.
    assert_eq!(status(a.path())["export_backlog"], 1);
    server.restart();
    let out = meta(a.path()).args(["bridge", "push"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.stream_messages("META_T"), Some(6));
}

#[test]
fn the_bridge_table_is_checked_like_every_other_key() {
    let dir = machine("a", "http://nope", "");
    let out = meta(dir.path())
        .args(["bridge", "status"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("bridge.url") && err.contains("not a server URL"),
        "{err}"
    );

    // Credentials in the committed URL are refused without being repeated.
    let dir = machine("a", "nats://bob:hunter2@127.0.0.1:4222", "");
    let out = meta(dir.path())
        .args(["bridge", "status"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("`nats://***@127.0.0.1:4222` carries credentials"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");

    // Credentials files: one that is not there, and one that is not a `.creds` file. Both end
    // the push at once (no server needed to tell) with the file named.
    let dir = machine("a", "nats://127.0.0.1:9", "");
    let missing = dir.path().join("nowhere.creds");
    let garbage = dir.path().join("garbage.creds");
    std::fs::write(&garbage, "not a credentials file\n").unwrap();
    for (creds, says) in [(&missing, "does not exist"), (&garbage, "cannot parse")] {
        let creds = creds.display().to_string();
        let (code, err) = push_with(dir.path(), &[("META_BRIDGE_CREDS", &creds)]);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains(&creds) && err.contains(says), "{err}");
        assert!(err.contains("hint:"), "{err}");
    }
}

/// A down server for a while, a log that rotates every few events and keeps one segment:
/// returns (A, B) once A published 100 `acme:rotate:n` while the server was down and it is up
/// again.
fn rotate_while_down(
    server: &mut NatsServer,
    bridge_extra: &str,
) -> (tempfile::TempDir, tempfile::TempDir, [DaemonGuard; 2]) {
    let small_log = "[events]\nlog_max_bytes = 2000\nlog_keep = 1";
    let a = machine("a", &server.url(), &format!("{bridge_extra}\n{small_log}"));
    let b = machine("b", &server.url(), "");
    let guards = [start_daemon(a.path(), &[]), start_daemon(b.path(), &[])];
    wait_state(a.path(), "connected");
    wait_state(b.path(), "connected");
    wait_until("A's first export", || {
        status(a.path())["export_backlog"] == 0
    });
    server.stop();
    publish(a.path(), "acme:rotate:n", 100);
    wait_count(a.path(), "acme:rotate:n", 1);
    server.restart();
    (a, b, guards)
}

#[test]
fn the_log_keeps_segments_the_exporter_has_not_passed() {
    let Some(mut server) = NatsServer::start() else {
        return;
    };
    let (a, b, _guards) = rotate_while_down(&mut server, "");
    wait_count(b.path(), "acme:rotate:n", 100);
    // A's log has rotated those segments away since; B holds each of them once, in order.
    let b_log = log(b.path());
    let order: Vec<i64> = of_type(&b_log, "acme:rotate:n")
        .iter()
        .map(|e| e["data"]["i"].as_i64().unwrap())
        .collect();
    assert_eq!(order, (0..100).collect::<Vec<_>>());
    assert_log_sound(b.path());
    // Once exported, the kept segments go at the next rotation.
    publish(a.path(), "acme:rotate:after", 30);
    wait_count(b.path(), "acme:rotate:after", 30);
    let segments = std::fs::read_dir(a.path().join(".meta/events"))
        .unwrap()
        .count();
    assert!(
        segments < 10,
        "{segments} segments kept (100 events took about 15)"
    );
}

#[test]
fn past_the_backlog_cap_the_log_drops_segments_and_records_an_export_gap() {
    let Some(mut server) = NatsServer::start() else {
        return;
    };
    let (a, b, _guards) = rotate_while_down(&mut server, "max_backlog_bytes = 1");
    // The exporter finds the gap when its session starts again.
    wait_count(a.path(), "meta:bridge:gap", 1);
    let events = log(a.path());
    let gap = of_type(&events, "meta:bridge:gap")[0];
    assert_eq!(gap["data"]["direction"], "export", "{gap}");
    assert!(gap["data"]["missing"].as_u64().unwrap() > 0, "{gap}");
    publish(a.path(), "acme:rotate:after", 1);
    wait_count(b.path(), "acme:rotate:after", 1);
    assert!(of_type(&log(b.path()), "acme:rotate:n").len() < 100);
    assert_log_sound(b.path());
    assert_eq!(health_bridge(a.path()).0, "warn");
}

/// A CA and a server certificate for 127.0.0.1 in `dir` (openssl): (ca.pem, server.pem, server.key).
fn tls_files(dir: &Path) -> Option<(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf)> {
    let run = |args: &[&str]| {
        std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").ok()?;
    let made = run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=meta test CA",
    ]) && run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]) && run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    made.then(|| {
        (
            dir.join("ca.pem"),
            dir.join("server.pem"),
            dir.join("server.key"),
        )
    })
}

#[test]
fn tls_with_the_ca_from_the_environment_carries_events() {
    let certs = tempfile::tempdir().unwrap();
    let Some((ca, cert, key)) = tls_files(certs.path()) else {
        // openssl is part of the CI image; without it there is no certificate to test with.
        assert!(
            std::env::var("CI").is_err(),
            "openssl is needed to make test certificates"
        );
        return;
    };
    let config = format!(
        "tls {{ cert_file: \"{}\", key_file: \"{}\" }}\n",
        cert.display(),
        key.display()
    );
    let Some(server) = NatsServer::start_with(Some(&config)) else {
        return;
    };
    let url = format!("tls://127.0.0.1:{}", server.port);
    let a = machine("a", &url, "");
    let b = machine("b", &url, "");
    let ca_env = [("META_BRIDGE_TLS_CA", ca.to_str().unwrap())];
    let _da = start_daemon(a.path(), &ca_env);
    let _db = start_daemon(b.path(), &ca_env);
    wait_state(a.path(), "connected");
    wait_state(b.path(), "connected");
    publish(a.path(), "acme:secure:event", 10);
    wait_count(b.path(), "acme:secure:event", 10);
    assert_imported_from(a.path(), b.path(), "acme:secure:event", "a");
    // Without the CA the server's certificate is not trusted: refused, never sent in clear.
    let c = machine("c", &url, "");
    let _dc = start_daemon(c.path(), &[]);
    wait_until("c fails to connect", || {
        let s = status(c.path());
        s["service_pid"].is_u64()
            && s["state"] == "disconnected"
            && s["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("cannot reach the NATS server"))
    });
    let error = status(c.path())["last_error"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(
        error.contains("tls") || error.contains("certificate"),
        "{error}"
    );
}

/// Replaces `from` (which must be there) with `to` in `root`'s `meta/metarepo.toml`; the
/// returned closure writes the file back as it was.
fn edit_config(root: &Path, from: &str, to: &str) -> impl Fn() + use<> {
    let path = root.join("meta/metarepo.toml");
    let before = std::fs::read_to_string(&path).unwrap();
    assert!(before.contains(from), "`{from}` is not in {before}");
    std::fs::write(&path, before.replace(from, to)).unwrap();
    move || std::fs::write(&path, &before).unwrap()
}

/// `meta bridge push` in CI mode with `env`: (exit code, stderr).
fn push_with(root: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = meta(root)
        .envs(env.iter().copied())
        .args(["bridge", "push", "--timeout", "10s"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    (out.status.code(), stderr(&out))
}

/// `meta events publish TYPE` `count` times, no daemon needed.
fn publish_offline(root: &Path, ty: &str, count: usize) {
    for i in 0..count {
        let out = meta(root)
            .args(["events", "publish", ty, "--data", &format!("{{\"i\":{i}}}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
}

#[test]
fn a_token_from_the_environment_logs_in_and_a_wrong_one_is_refused_at_once() {
    let Some(server) = NatsServer::start_with(Some("authorization { token: \"tok-right-123\" }\n"))
    else {
        return;
    };
    let a = machine("a", &server.url(), "");
    publish_offline(a.path(), "acme:ci:step", 2);
    let started = Instant::now();
    let (code, err) = push_with(a.path(), &[("META_BRIDGE_TOKEN", "tok-wrong-456")]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("refused") && err.contains("META_BRIDGE_TOKEN"),
        "{err}"
    );
    // A refusal ends the push at once; only failures that may pass are retried.
    assert!(started.elapsed() < Duration::from_secs(8), "{err}");
    assert_secret_nowhere(a.path(), "tok-wrong-456", vec![err]);

    let (code, err) = push_with(a.path(), &[("META_BRIDGE_TOKEN", "tok-right-123")]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("exported 2 events"), "{err}");
    assert_eq!(server.stream_messages("META_T"), Some(2));
    assert_secret_nowhere(a.path(), "tok-right-123", vec![err]);
}

#[test]
fn with_provision_off_the_bridge_uses_what_an_admin_made_and_says_what_is_missing() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    // No stream yet: a push says so at once and creates nothing.
    let a = machine("a", &server.url(), "provision = false");
    publish_offline(a.path(), "acme:ci:step", 3);
    let started = Instant::now();
    let (code, err) = push_with(a.path(), &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("stream `META_T` does not exist") && err.contains("provision = true"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(8), "{err}");
    assert_eq!(server.stream_messages("META_T"), None);

    // The stream made (here by a machine allowed to provision), the push goes through.
    let admin = machine("admin", &server.url(), "");
    let (code, err) = push_with(admin.path(), &[]);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = push_with(a.path(), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("exported 3 events"), "{err}");

    // Importing needs this machine's durable consumer too: without it the bridge is in state
    // `error`, names the consumer, and health says what to do.
    let b = machine("b", &server.url(), "provision = false");
    let daemon = start_daemon(b.path(), &[]);
    wait_state(b.path(), "error");
    let report = status(b.path());
    let last = report["last_error"].as_str().unwrap();
    assert!(
        last.contains("durable consumer `meta-b` of stream `META_T` does not exist"),
        "{report}"
    );
    let (check, message) = health_bridge(b.path());
    assert_eq!(check, "fail");
    assert!(message.contains("provision"), "{message}");
    drop(daemon);

    // Once the consumer exists (made here by one run allowed to provision), the machine imports
    // through it without creating anything.
    let restore = edit_config(b.path(), "provision = false", "provision = true");
    let daemon = start_daemon(b.path(), &[]);
    wait_count(b.path(), "acme:ci:step", 3);
    drop(daemon);
    restore();
    let _daemon = start_daemon(b.path(), &[]);
    wait_state(b.path(), "connected");
    publish_offline(a.path(), "acme:ci:late", 1);
    let (code, err) = push_with(a.path(), &[]);
    assert_eq!(code, Some(0), "{err}");
    wait_count(b.path(), "acme:ci:late", 1);
    assert_log_sound(b.path());
}

#[test]
fn import_start_as_a_duration_takes_only_what_is_that_recent() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let a = machine("a", &server.url(), "");
    publish_offline(a.path(), "acme:old:event", 2);
    let (code, err) = push_with(a.path(), &[]);
    assert_eq!(code, Some(0), "{err}");
    // The old events are 8 s old when b's consumer is made; b takes the last 6 s, which the
    // new ones are well inside however slowly b starts (up to 6 s).
    std::thread::sleep(Duration::from_secs(8));
    publish_offline(a.path(), "acme:new:event", 3);
    let (code, err) = push_with(a.path(), &[]);
    assert_eq!(code, Some(0), "{err}");
    let b = machine("b", &server.url(), "");
    let _ = edit_config(b.path(), "import_start = \"all\"", "import_start = \"6s\"");
    let _daemon = start_daemon(b.path(), &[]);
    wait_count(b.path(), "acme:new:event", 3);
    // Anything older would have come first, in stream order.
    assert_eq!(of_type(&log(b.path()), "acme:old:").len(), 0);
    assert_log_sound(b.path());
}

/// The `plugins` rows of `meta plugin list --json`: (name, service state).
fn plugin_services(root: &Path) -> Vec<(String, String)> {
    let out = meta(root)
        .args(["plugin", "list", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["service"]["state"].as_str().unwrap_or("none").to_owned(),
            )
        })
        .collect()
}

#[test]
fn turning_the_bridge_on_and_off_in_the_config_is_taken_in_by_a_running_daemon() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let a = machine("a", &server.url(), "");
    let turn_on = edit_config(
        a.path(),
        "[bridge]\nenabled = true",
        "[bridge]\nenabled = false",
    );
    let _daemon = start_daemon(a.path(), &[]);
    // Off: a meta-repo that does not share its events has no bridge at all.
    let names: Vec<String> = plugin_services(a.path()).into_iter().map(|p| p.0).collect();
    assert_eq!(names, ["watch"]);

    turn_on();
    wait_until("the bridge to run and connect", || {
        plugin_services(a.path()).contains(&("bridge".to_owned(), "running".to_owned()))
            && status(a.path())["state"] == "connected"
    });
    let pid = status(a.path())["service_pid"].as_u64().unwrap();
    publish(a.path(), "acme:toggle:on", 2);
    wait_until("the events to reach the stream", || {
        server.stream_messages("META_T").unwrap_or(0) >= 2
    });

    let _ = edit_config(
        a.path(),
        "[bridge]\nenabled = true",
        "[bridge]\nenabled = false",
    );
    wait_until("the bridge to be gone", || {
        plugin_services(a.path())
            .iter()
            .all(|(name, _)| name != "bridge")
            && !Path::new(&format!("/proc/{pid}")).exists()
    });
}

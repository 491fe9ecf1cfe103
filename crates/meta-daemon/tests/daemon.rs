//! The daemon as a library, run on a thread of the test: pipeline, control ops, components and
//! the in-process publish handle, over real sockets.

// Helpers outside `#[test]` functions panic on failure too: that is how a test fails.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use meta_daemon::{Component, ComponentContext, Daemon, DaemonOptions, StopReason};
use meta_events::{Client, Event};
use meta_workspace::Workspace;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

fn workspace(dir: &std::path::Path, extra: &str) -> Workspace {
    std::fs::create_dir_all(dir.join("meta")).unwrap();
    std::fs::write(
        dir.join("meta/metarepo.toml"),
        format!("[metarepo]\nname = \"t\"\n{extra}"),
    )
    .unwrap();
    Workspace::open(dir).unwrap()
}

fn options() -> DaemonOptions {
    DaemonOptions {
        version: "test".into(),
        handle_signals: false,
        ..DaemonOptions::default()
    }
}

/// Counts ticks, answers `count`, and publishes from its own thread on start.
struct Counter {
    ticks: u64,
}

impl Component for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }
    fn start(&mut self, ctx: &mut ComponentContext<'_>) -> Result<(), String> {
        let handle = ctx.publish_handle();
        std::thread::spawn(move || {
            let publisher = handle.connect().unwrap();
            for i in 0..1000 {
                let event = Event::new("test:burst:item", Some(json!({ "i": i }))).unwrap();
                publisher.publish(&event).unwrap();
            }
        });
        Ok(())
    }
    fn ops(&self) -> &[&str] {
        &["count"]
    }
    fn handle(
        &mut self,
        _op: &str,
        _request: &Value,
        ctx: &mut ComponentContext<'_>,
    ) -> Result<Value, String> {
        ctx.emit(Event::new("test:counter:asked", None).unwrap());
        Ok(json!({ "ticks": self.ticks }))
    }
    fn status(&self) -> Value {
        json!({ "ticks": self.ticks })
    }
    fn tick(&mut self, _ctx: &mut ComponentContext<'_>) {
        self.ticks += 1;
    }
}

#[test]
fn components_plug_into_the_loop() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), "");
    let mut daemon = Daemon::start(&ws, options()).unwrap();
    daemon.add_component(Box::new(Counter { ticks: 0 }));
    let waker = daemon.waker();
    let thread = std::thread::spawn(move || daemon.run());
    let client = Client::for_workspace(&ws);
    assert!(client.ping(WAIT).unwrap());

    // The in-process burst goes through the same pipeline: logged with contiguous sequences.
    let deadline = Instant::now() + WAIT;
    loop {
        let status = client.status(WAIT).unwrap().unwrap();
        if status.counters.unwrap().published >= 1001 {
            break;
        }
        assert!(Instant::now() < deadline, "burst not logged in time");
        std::thread::sleep(Duration::from_millis(20));
    }
    waker.wake();
    loop {
        let reply = client
            .request(&json!({"op": "count"}), WAIT)
            .unwrap()
            .unwrap();
        assert_eq!(reply["ok"], true);
        if reply["ticks"].as_u64().unwrap() >= 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the wake-up never ticked: {reply}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = client.status(WAIT).unwrap().unwrap();
    assert!(status.components["counter"]["ticks"].as_u64().unwrap() >= 1);
    let err = client.request(&json!({"op": "nope"}), WAIT).unwrap_err();
    assert!(
        err.to_string()
            .contains("known ops: ping, status, stop, count"),
        "{err}"
    );

    assert!(client.stop(WAIT).unwrap());
    assert_eq!(thread.join().unwrap().unwrap(), StopReason::Requested);

    let mut types = Vec::new();
    let mut cursor = meta_events::log::LogCursor::from_sequence(&ws.events_dir(), 1);
    let mut expected = 1;
    while let Some(line) = cursor.next_line().unwrap() {
        let event = Event::from_json(line).unwrap();
        assert_eq!(event.sequence, Some(expected));
        expected += 1;
        types.push(event.ty().to_owned());
    }
    assert_eq!(types.first().unwrap(), "core:system:startup");
    assert_eq!(types.last().unwrap(), "core:system:shutdown");
    assert_eq!(
        types.iter().filter(|t| *t == "test:burst:item").count(),
        1000
    );
    assert!(types.contains(&"test:counter:asked".to_owned()));
}

#[test]
fn a_second_daemon_is_refused_and_the_stop_flag_stops() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), "");
    let daemon = Daemon::start(&ws, options()).unwrap();
    let err = Daemon::start(&ws, options()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("another daemon already runs for this meta-repo (pid "),
        "{err}"
    );
    let flag = daemon.stop_flag();
    let waker = daemon.waker();
    let thread = std::thread::spawn(move || daemon.run());
    flag.store(true, Ordering::SeqCst);
    waker.wake();
    assert_eq!(thread.join().unwrap().unwrap(), StopReason::Signal);
    // Stopped: a new one may start, and the sequence continues.
    let daemon = Daemon::start(&ws, options()).unwrap();
    let next = daemon.status().log.last_sequence.unwrap();
    assert_eq!(next, meta_events::format_sequence(3));
}

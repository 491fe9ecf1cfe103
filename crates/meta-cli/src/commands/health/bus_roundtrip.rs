//! `bus-roundtrip` (only with a daemon): publish a probe event to the daemon's ingest socket
//! and receive it back on the events socket, as any plugin would.

use std::time::{Duration, Instant};

use meta_events::{Client, Event};
use serde_json::json;

use super::{Check, Health, Outcome, daemon};

pub const CHECK: Check = Check {
    name: "bus-roundtrip",
    applies: daemon::running,
    run,
};

const PROBE_TYPE: &str = "core:health:probe";
const DEADLINE: Duration = Duration::from_secs(3);
/// A subscription reaches the daemon asynchronously; until it does, published probes pass it
/// by. So the probe is sent again at this interval until one comes back.
const RESEND: Duration = Duration::from_millis(100);

fn run(health: &Health) -> Outcome {
    let client = Client::new(daemon::endpoints(health));
    let fix = "see `.meta/run/daemon.log`; restart the daemon with `meta daemon stop` and `meta daemon start`";
    let mut subscription = match client.subscribe(&[PROBE_TYPE]) {
        Ok(subscription) => subscription,
        Err(error) => return Outcome::fail(format!("cannot subscribe: {error}"), fix),
    };
    let publisher = match client.publisher() {
        Ok(publisher) => publisher,
        Err(error) => return Outcome::fail(format!("cannot connect to ingest: {error}"), fix),
    };
    let nonce = format!("{}-{}", std::process::id(), meta_events::id::new_v7());
    let started = Instant::now();
    let mut sent = 0u32;
    while started.elapsed() < DEADLINE {
        let probe = Event::new(PROBE_TYPE, Some(json!({ "nonce": nonce, "attempt": sent })))
            .map(|e| e.with_source("/meta/cli"));
        let Ok(probe) = probe else {
            return Outcome::fail("cannot build the probe event", fix);
        };
        if let Err(error) = publisher.publish(&probe) {
            return Outcome::fail(format!("cannot publish the probe: {error}"), fix);
        }
        sent += 1;
        let resend_at = Instant::now() + RESEND;
        while Instant::now() < resend_at {
            match subscription.recv(Some(resend_at.saturating_duration_since(Instant::now()))) {
                Ok(Some(received)) => {
                    let ours = received
                        .event()
                        .ok()
                        .and_then(|e| e.data.clone())
                        .is_some_and(|data| {
                            data.get("nonce").and_then(|n| n.as_str()) == Some(&nonce)
                        });
                    if ours {
                        return Outcome::pass(format!(
                            "probe published and received back in {:.1} ms",
                            started.elapsed().as_secs_f64() * 1000.0
                        ));
                    }
                }
                Ok(None) => break,
                Err(error) => return Outcome::fail(format!("cannot receive: {error}"), fix),
            }
        }
    }
    Outcome::fail(
        format!(
            "{sent} probe(s) published, none came back within {} s",
            DEADLINE.as_secs()
        ),
        fix,
    )
}

//! `daemon`: whether a bus daemon runs for this meta-repo and, if so, that it answers a ping.
//! No daemon is fine (every command works in embedded mode); one that holds the lock but does
//! not answer is not.

use std::time::{Duration, Instant};

use meta_events::Client;
use meta_workspace::{BusEndpoints, runtime_dir_for};

use super::{Check, Health, Outcome, always};

pub const CHECK: Check = Check {
    name: "daemon",
    applies: always,
    run,
};

/// Long enough for a loaded machine, short enough that `meta health` never seems to hang.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Is a daemon running for this meta-repo (it holds the daemon lock)?
pub fn running(health: &Health) -> bool {
    meta_events::lock::daemon_running(&health.root.join(".meta/run"))
}

/// The bus endpoints of this meta-repo (derived from the root alone, so a broken config does
/// not hide the daemon).
pub fn endpoints(health: &Health) -> BusEndpoints {
    BusEndpoints::in_dir(&runtime_dir_for(&health.root))
}

fn run(health: &Health) -> Outcome {
    if !running(health) {
        return Outcome::pass(
            "not running: commands log events themselves; `meta daemon start` for live events and plugin services",
        );
    }
    let pid = meta_events::state::read(&health.root.join(".meta/run"))
        .map_or_else(|| "unknown".to_owned(), |state| state.pid.to_string());
    let client = Client::new(endpoints(health));
    let started = Instant::now();
    match client.ping(PING_TIMEOUT) {
        Ok(true) => Outcome::pass(format!(
            "running (pid {pid}), ping answered in {:.2} ms",
            started.elapsed().as_secs_f64() * 1000.0
        )),
        Ok(false) => Outcome::fail(
            format!(
                "running (pid {pid}) but no answer to a ping within {} s",
                PING_TIMEOUT.as_secs()
            ),
            format!(
                "see `.meta/run/daemon.log`; restart it with `meta daemon stop` (or `kill {pid}`) and `meta daemon start`"
            ),
        ),
        Err(error) => Outcome::fail(
            format!("running (pid {pid}) but cannot be reached: {error}"),
            "see `.meta/run/daemon.log`; restart it with `meta daemon stop` and `meta daemon start`",
        ),
    }
}

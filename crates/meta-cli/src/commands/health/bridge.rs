//! `bridge`: when `[bridge] enabled = true`, the bridge reaches its server, is allowed in, keeps
//! up with the log and has lost nothing (DESIGN.md section 11).

use meta_workspace::Workspace;

use super::{Check, Health, Outcome};
use crate::commands::bridge::BridgeReport;

pub const CHECK: Check = Check {
    name: "bridge",
    applies,
    run,
};

fn applies(health: &Health) -> bool {
    health.config.as_ref().is_ok_and(|c| c.bridge.enabled)
}

/// Events waiting for export past which the bridge is falling behind.
const BACKLOG_WARN: u64 = 10_000;

fn run(health: &Health) -> Outcome {
    let report = match Workspace::open(&health.root)
        .map_err(|e| e.to_string())
        .and_then(|w| BridgeReport::of(&w).map_err(|e| e.message().to_owned()))
    {
        Ok(report) => report,
        Err(error) => {
            return Outcome::warn(
                format!("cannot read the bridge's state: {error}"),
                "`meta bridge status` says more",
            );
        }
    };
    judge(&report)
}

fn judge(report: &BridgeReport) -> Outcome {
    let error = report.last_error.clone().unwrap_or_default();
    match report.state.as_str() {
        "error" if report.last_error_kind.as_deref() == Some("provision") => {
            return Outcome::fail(
                format!("the bridge cannot start: {error}"),
                crate::commands::bridge::PROVISION_HINT,
            );
        }
        "error" => {
            return Outcome::fail(
                format!("the NATS server refuses the bridge: {error}"),
                crate::commands::bridge::AUTH_HINT,
            );
        }
        "disconnected" => {
            return Outcome::warn(
                format!(
                    "the bridge is not connected ({error}); {} events wait for export",
                    report.export_backlog
                ),
                "check that the server in [bridge].url runs and is reachable; the events go out when it is",
            );
        }
        _ => {}
    }
    if report.gaps > 0 {
        return Outcome::warn(
            format!(
                "{} gaps: the stream dropped events before this machine imported them (see `meta events tail meta:bridge:gap`)",
                report.gaps
            ),
            "raise [bridge].stream_max_age, or run the daemon more often on this machine",
        );
    }
    if report.export_backlog > BACKLOG_WARN {
        return Outcome::warn(
            format!("{} events wait for export", report.export_backlog),
            "`meta bridge status` shows why; `meta bridge push` exports now",
        );
    }
    Outcome::pass(format!(
        "connected as {}, export backlog {}",
        report.node.as_deref().unwrap_or("?"),
        report.export_backlog
    ))
}

//! `bridge`: when `[bridge] enabled = true`, the bridge reaches its server, is allowed in, keeps
//! up with the log and has lost nothing (DESIGN.md section 11).

use meta_workspace::Workspace;

use super::{Check, Health, Level, Outcome};
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
    // Both at once are both said: one must not hide the other.
    let mut said = Vec::new();
    let mut fix = Vec::new();
    if report.gaps > 0 {
        said.push(format!(
            "{} gaps since the bridge started: the stream dropped events before this machine imported them (see `meta events tail meta:bridge:gap`)",
            report.gaps
        ));
        fix.push(
            "raise [bridge].stream_max_age, or run the daemon more often on this machine"
                .to_owned(),
        );
    }
    if report.export_backlog > BACKLOG_WARN {
        said.push(format!("{} events wait for export", report.export_backlog));
        fix.push("`meta bridge status` shows why; `meta bridge push` exports now".to_owned());
    }
    if !said.is_empty() {
        return Outcome {
            level: Level::Warn,
            message: said.join("; "),
            fix,
        };
    }
    Outcome::pass(format!(
        "connected as {}, export backlog {}",
        report.node.as_deref().unwrap_or("?"),
        report.export_backlog
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connected() -> BridgeReport {
        BridgeReport {
            enabled: true,
            node: Some("ci-7".into()),
            scope: "acme".into(),
            stream: "META_ACME".into(),
            servers: vec!["nats://127.0.0.1:4222".into()],
            auth: "none",
            state: "connected".into(),
            since: None,
            export_cursor: 0,
            last_sequence: 0,
            export_backlog: 3,
            exported: 0,
            skipped_oversize: 0,
            imported: 0,
            import_duplicates: 0,
            gaps: 0,
            last_error: None,
            last_error_kind: None,
            service_pid: None,
        }
    }

    #[test]
    fn a_connected_bridge_with_a_small_backlog_passes() {
        let outcome = judge(&connected());
        assert_eq!(outcome.level, Level::Pass);
        assert_eq!(outcome.message, "connected as ci-7, export backlog 3");
    }

    #[test]
    fn a_gap_does_not_hide_a_backlog() {
        let mut report = connected();
        report.gaps = 2;
        report.export_backlog = BACKLOG_WARN + 1;
        let outcome = judge(&report);
        assert_eq!(outcome.level, Level::Warn);
        assert!(
            outcome
                .message
                .starts_with("2 gaps since the bridge started")
        );
        assert!(outcome.message.ends_with("; 10001 events wait for export"));
        assert_eq!(
            outcome.fix.len(),
            2,
            "one fix per problem: {:?}",
            outcome.fix
        );

        report.gaps = 0;
        let outcome = judge(&report);
        assert_eq!(outcome.message, "10001 events wait for export");
        assert_eq!(outcome.fix.len(), 1);
    }
}

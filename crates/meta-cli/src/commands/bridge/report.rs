//! The bridge's state as `meta bridge status`, `meta daemon status`, `meta status` and
//! `meta health` show it: the config, the service's last report and the log, read without
//! starting anything.

use meta_bridge::{BridgeFiles, BridgeState};
use meta_events::status::LogSummary;
use meta_workspace::{Workspace, env};
use serde::Serialize;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::ui::styles;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct BridgeReport {
    pub enabled: bool,
    /// `null` until the bridge first ran (the name is chosen then) unless META_BRIDGE_NODE is set.
    pub node: Option<String>,
    pub scope: String,
    pub stream: String,
    pub servers: Vec<String>,
    /// What kind of login the environment gives (never the secret).
    pub auth: &'static str,
    /// `connected`, `disconnected` or `error`; `disabled` when `[bridge] enabled = false`.
    pub state: String,
    pub since: Option<String>,
    pub export_cursor: u64,
    pub last_sequence: u64,
    /// Log events after the cursor (an upper bound: some may not be for export).
    pub export_backlog: u64,
    pub exported: u64,
    pub skipped_oversize: u64,
    pub imported: u64,
    pub import_duplicates: u64,
    pub gaps: u64,
    pub last_error: Option<String>,
    /// `last_error`'s kind as the service classed it (`meta_bridge_nats::BridgeError::kind`):
    /// what `meta health` picks its advice by. Not part of `--json`.
    #[serde(skip)]
    pub last_error_kind: Option<String>,
    /// The running service's pid, if one runs.
    pub service_pid: Option<u32>,
}

/// The pid of the bridge service `state` names, if it still runs.
fn alive_service(state: &BridgeState) -> Option<u32> {
    state.pid.filter(|pid| is_alive(*pid))
}

/// The running bridge service's pid, read from its state file alone.
pub(crate) fn running_service(workspace: &Workspace) -> Option<u32> {
    let state = BridgeFiles::of(workspace).state()?;
    alive_service(&state)
}

impl BridgeReport {
    /// The report, reading the log's statistics for its backlog.
    pub fn of(workspace: &Workspace) -> CliResult<Self> {
        Self::with_log(workspace, None)
    }

    /// The report, with the log's statistics when the caller already has them (`meta status`
    /// and `meta daemon status` do), so the log is not read twice.
    pub fn with_log(workspace: &Workspace, log: Option<&LogSummary>) -> CliResult<Self> {
        let config = &workspace.config().bridge;
        let files = BridgeFiles::of(workspace);
        let cursor = files.cursor().map_err(|e| {
            CliError::context("cannot read the bridge's export cursor", &e).with_hint(
                "delete the file to export the whole log again (the server drops repeats)",
            )
        })?;
        let last_sequence = match log {
            Some(log) => log.last_sequence_number(),
            None => meta_events::log::stats(&workspace.events_dir())
                .ok()
                .and_then(|s| s.last_sequence)
                .unwrap_or(0),
        };
        let last = files.state().unwrap_or_default();
        // The service's own name first (its environment may differ from this command's).
        let node = Some(last.node.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| {
                std::env::var(env::META_BRIDGE_NODE)
                    .ok()
                    .filter(|n| !n.is_empty())
            })
            .or_else(|| {
                std::fs::read_to_string(files.node_path())
                    .ok()
                    .map(|n| n.trim().to_owned())
            });
        let auth = if std::env::var_os(env::META_BRIDGE_CREDS).is_some() {
            "creds"
        } else if std::env::var_os(env::META_BRIDGE_USER).is_some() {
            "user"
        } else if std::env::var_os(env::META_BRIDGE_TOKEN).is_some() {
            "token"
        } else {
            "none"
        };
        let alive = alive_service(&last);
        let (state, last_error, last_error_kind) = if !config.enabled {
            ("disabled".to_owned(), last.last_error.clone(), None)
        } else if alive.is_some() {
            (
                last.state.clone(),
                last.last_error.clone(),
                last.last_error_kind.clone(),
            )
        } else {
            (
                BridgeState::DISCONNECTED.to_owned(),
                Some(
                    "the bridge service is not running (`meta daemon start` runs it; `meta bridge push` exports without it)"
                        .to_owned(),
                ),
                None,
            )
        };
        Ok(Self {
            enabled: config.enabled,
            node,
            scope: config.scope.clone(),
            stream: meta_bridge::subject::stream_name(&config.scope),
            servers: config.url.clone(),
            auth,
            state,
            since: Some(last.since.clone()).filter(|s| !s.is_empty()),
            export_cursor: cursor,
            last_sequence,
            export_backlog: last_sequence.saturating_sub(cursor),
            exported: last.exported,
            skipped_oversize: last.skipped_oversize,
            imported: last.imported,
            import_duplicates: last.import_duplicates,
            gaps: last.gaps,
            last_error,
            last_error_kind,
            service_pid: alive,
        })
    }

    /// How the state is painted: green when connected, red on an error, dim otherwise.
    fn state_style(&self) -> anstyle::Style {
        match self.state.as_str() {
            BridgeState::CONNECTED => styles::OK,
            BridgeState::ERROR => styles::ERROR,
            _ => styles::DIM,
        }
    }

    /// One line for `meta status` and `meta daemon status`.
    pub fn one_line(&self, ctx: &Ctx<'_>) -> String {
        use std::fmt::Write as _;
        let ui = &ctx.ui;
        let style = self.state_style();
        let mut line = format!(
            "{} {} as {} to {}; export backlog {}",
            ui.paint(styles::EMPHASIS, "bridge:"),
            ui.paint(style, &self.state),
            self.node.as_deref().unwrap_or("?"),
            self.servers.join(", "),
            self.export_backlog
        );
        if self.gaps > 0 {
            let _ = write!(line, "; {} gaps", self.gaps);
        }
        if self.state != "connected"
            && let Some(error) = &self.last_error
        {
            let _ = write!(line, " ({error})");
        }
        line.push('\n');
        line
    }

    /// A few lines for people.
    pub fn render(&self, ctx: &Ctx<'_>) -> String {
        use std::fmt::Write as _;
        let ui = &ctx.ui;
        let mut text = String::new();
        let style = self.state_style();
        let _ = write!(text, "bridge:      {}", ui.paint(style, &self.state));
        if let Some(since) = &self.since
            && self.enabled
        {
            let _ = write!(text, " since {since}");
        }
        text.push('\n');
        let _ = writeln!(
            text,
            "node:        {} (scope {}, stream {})",
            self.node.as_deref().unwrap_or("(chosen on first run)"),
            self.scope,
            self.stream
        );
        let _ = writeln!(
            text,
            "servers:     {} (auth: {})",
            self.servers.join(", "),
            self.auth
        );
        let _ = writeln!(
            text,
            "export:      cursor {} of {}, backlog {}, exported {}{}",
            self.export_cursor,
            self.last_sequence,
            self.export_backlog,
            self.exported,
            if self.skipped_oversize > 0 {
                format!(", {} too large skipped", self.skipped_oversize)
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            text,
            "import:      {} imported, {} repeats dropped, {} gaps",
            self.imported, self.import_duplicates, self.gaps
        );
        if let Some(error) = &self.last_error {
            let _ = writeln!(text, "last error:  {error}");
        }
        text
    }
}

fn is_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

//! `meta status [--json] [--dirty] [--group G] [PATTERN…]`: one line per project, grouped by the `src/`
//! groups, then plugins and the event system.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use meta_repo::{Project, ProjectStatus, StatusError};
use meta_workspace::Workspace;
use serde::Serialize;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::SelectArgs;
use crate::ui::styles;

use meta_events::log::LogError;
use meta_events::status::{DaemonState, EventSystemStatus};

use super::plugin::ListEntry as PluginEntry;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON (the contract in DESIGN.md) instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    select: SelectArgs,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let projects = meta_repo::list_projects(root)?;
    let chosen = args.select.choose(&workspace, projects.projects)?;
    let rows = crate::select::with_status(root, &args.select.selection(), chosen);
    let failed = rows.iter().filter(|(_, status)| status.is_err()).count();
    let events = events_summary(&workspace);

    if args.json {
        let report = Report {
            root: root.display().to_string(),
            projects: rows.iter().map(|(p, s)| ProjectJson::new(p, s)).collect(),
            plugins: plugins_summary(&ctx.ui, &workspace),
            events: events.as_ref().ok().cloned(),
            bridge: bridge_summary(&workspace),
        };
        ctx.ui.print_json(&report)?;
    } else {
        print_text(ctx, &workspace, &rows, &args, events.as_ref().ok())?;
        if let Some(bridge) = bridge_summary(&workspace) {
            ctx.ui.print(bridge.one_line(ctx))?;
        }
    }
    if let Err(error) = events {
        return Err(
            CliError::context("cannot read the event log", &error).with_hint(
                "`meta health` checks the event log; a daemon restart repairs a torn last line",
            ),
        );
    }
    if failed > 0 {
        let mut error = CliError::new(format!(
            "could not read the status of {failed} project{}",
            if failed == 1 { "" } else { "s" }
        ));
        for (_, status) in &rows {
            if let Err(e) = status {
                error = error.with_cause(crate::repo_error::describe_chain(e));
            }
        }
        return Err(error.with_hint(
            "run `git status` in the project to see what git says, and `meta health` for the whole tree",
        ));
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct Report {
    root: String,
    projects: Vec<ProjectJson>,
    plugins: Vec<PluginEntry>,
    /// `null` only when the event log cannot be read (then the command fails after printing).
    events: Option<EventSystemStatus>,
    /// `meta bridge status --json`, when `[bridge] enabled = true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    bridge: Option<super::bridge::BridgeReport>,
}

/// The bridge's state when it is on (`None` when off or unreadable: `meta bridge status` says why).
fn bridge_summary(workspace: &Workspace) -> Option<super::bridge::BridgeReport> {
    if !workspace.config().bridge.enabled {
        return None;
    }
    super::bridge::BridgeReport::of(workspace).ok()
}

/// One project in `meta status --json` (DESIGN.md section 2; fields may be added, never renamed).
#[derive(Serialize)]
struct ProjectJson {
    path: String,
    name: String,
    group: Option<String>,
    url: Option<String>,
    initialized: bool,
    pinned: Option<String>,
    head: Option<String>,
    on_pin: bool,
    branch: Option<String>,
    detached: bool,
    staged: usize,
    modified: usize,
    untracked: usize,
    ahead: Option<usize>,
    behind: Option<usize>,
    upstream: Option<String>,
    /// Added: paths in conflict (also counted in `staged` and `modified`, as git shows them).
    conflicted: usize,
    /// Added: the superproject's index holds conflicting pins (a merge stopped on this
    /// gitlink; `git submodule status` shows `U`), so `pinned` is null.
    pin_conflicted: bool,
    /// Added: why the status could not be read (the other fields then say "not initialised").
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl ProjectJson {
    fn new(project: &Project, status: &Result<ProjectStatus, StatusError>) -> Self {
        let (status, error) = match status {
            Ok(status) => (status.clone(), None),
            Err(e) => (
                ProjectStatus::default(),
                Some(crate::repo_error::describe_chain(e)),
            ),
        };
        Self {
            path: project.path.clone(),
            name: project.name.clone(),
            group: project.group.clone(),
            url: project.url().map(str::to_owned),
            initialized: status.initialized,
            pinned: project.pinned.map(|id| id.to_string()),
            head: status.head.map(|id| id.to_string()),
            on_pin: status.on_pin,
            branch: status.branch,
            detached: status.detached,
            staged: status.staged,
            modified: status.modified,
            untracked: status.untracked,
            ahead: status.ahead,
            behind: status.behind,
            upstream: status.upstream,
            conflicted: status.conflicted,
            pin_conflicted: project.pin_conflicted,
            error,
        }
    }
}

fn print_text(
    ctx: &Ctx<'_>,
    workspace: &Workspace,
    rows: &[(Project, Result<ProjectStatus, StatusError>)],
    args: &Args,
    events: Option<&EventSystemStatus>,
) -> CliResult<()> {
    let ui = &ctx.ui;
    let mut out = String::new();
    if rows.is_empty() {
        let what = if args.select.narrows() {
            "no project matches"
        } else {
            "no projects yet (add one with `meta project add URL --group G`)"
        };
        out.push_str(&ui.paint(styles::DIM, what));
        out.push('\n');
    }

    // Groups in the configured order, then any other folder, then projects outside `src/`.
    let order = &workspace.config().metarepo.groups;
    let mut grouped: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let key = match &row.0.group {
            Some(g) => (
                order.iter().position(|o| o == g).unwrap_or(order.len()),
                g.clone(),
            ),
            None => (order.len() + 1, "(outside src/)".to_owned()),
        };
        grouped.entry(key).or_default().push(i);
    }
    let name_width = rows
        .iter()
        .map(|(p, _)| p.name.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Vec<Cell>> = rows.iter().map(|(p, s)| cells(p, s)).collect();
    let branch_width = lines
        .iter()
        .map(|l| l[0].text.chars().count())
        .max()
        .unwrap_or(0);
    let changes_width = lines
        .iter()
        .map(|l| l[2].text.chars().count())
        .max()
        .unwrap_or(0);

    for ((_, group), members) in &grouped {
        out.push_str(&ui.paint(styles::HEADER, group));
        out.push('\n');
        for &i in members {
            let project = &rows[i].0;
            let cells = &lines[i];
            let mut line = format!(
                "  {}",
                pad(
                    &ui.paint(styles::EMPHASIS, &project.name),
                    &project.name,
                    name_width
                )
            );
            line.push_str("  ");
            line.push_str(&pad(&cells[0].painted(ui), &cells[0].text, branch_width));
            line.push_str("  ");
            line.push_str(&cells[1].painted(ui));
            line.push_str("  ");
            line.push_str(&pad(&cells[2].painted(ui), &cells[2].text, changes_width));
            if !cells[3].text.is_empty() {
                line.push_str("  ");
                line.push_str(&cells[3].painted(ui));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    if !rows.is_empty() {
        let pin_conflict = if rows.iter().any(|(p, _)| p.pin_conflicted) {
            "  U pin in conflict"
        } else {
            ""
        };
        out.push('\n');
        out.push_str(&ui.paint(
            styles::DIM,
            format!(
                "= on pin  ≠ off pin{pin_conflict}  - not initialised  +staged ~modified ?untracked !conflicted  ↑ahead ↓behind"
            ),
        ));
        out.push('\n');
    }

    let plugins = plugins_summary(ui, workspace);
    let listed: Vec<String> = plugins
        .iter()
        .map(|p| match (p.enabled, p.service_state()) {
            (false, _) => format!("{} (disabled)", p.name),
            (true, Some(state @ ("running" | "starting" | "failed"))) => {
                format!("{} (service {state})", p.name)
            }
            (true, _) => p.name.clone(),
        })
        .collect();
    let _ = writeln!(
        out,
        "\n{} {}",
        ui.paint(styles::EMPHASIS, "plugins:"),
        if listed.is_empty() {
            "none".to_owned()
        } else {
            listed.join(", ")
        }
    );
    if let Some(events) = events {
        let daemon = match events.daemon {
            DaemonState::Running => ui.paint(styles::OK, "daemon running"),
            DaemonState::Stopped => "daemon stopped".to_owned(),
        };
        let _ = writeln!(
            out,
            "{} {daemon}; log {} segment{}, {} bytes{}",
            ui.paint(styles::EMPHASIS, "events:"),
            events.log.segments,
            if events.log.segments == 1 { "" } else { "s" },
            events.log.bytes,
            events
                .log
                .last_sequence
                .as_deref()
                .and_then(|s| s.parse::<u64>().ok())
                .map(|s| format!(", last sequence {s}"))
                .unwrap_or_default(),
        );
    }
    ui.print(out)
}

/// A piece of a status line: its plain text (for widths) and how it is painted.
struct Cell {
    text: String,
    style: Option<anstyle::Style>,
}

impl Cell {
    fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            style: None,
        }
    }

    fn styled(text: impl Into<String>, style: anstyle::Style) -> Self {
        Self {
            text: text.into(),
            style: Some(style),
        }
    }

    fn painted(&self, ui: &crate::ui::Ui) -> String {
        match self.style {
            Some(style) => ui.paint(style, &self.text),
            None => self.text.clone(),
        }
    }
}

/// The cells of a project's line: checkout, pin marker, changes, tracking.
fn cells(project: &Project, status: &Result<ProjectStatus, StatusError>) -> Vec<Cell> {
    let Ok(status) = status else {
        return vec![
            Cell::styled("unreadable", styles::ERROR),
            Cell::styled("?", styles::ERROR),
            Cell::plain(""),
            Cell::plain(""),
        ];
    };
    if !status.initialized {
        let why = if project.pinned.is_none() {
            "not initialised, no pin"
        } else {
            "not initialised"
        };
        return vec![
            Cell::styled(why, styles::DIM),
            Cell::styled("-", styles::DIM),
            Cell::plain(""),
            Cell::plain(""),
        ];
    }
    let short = |id: Option<meta_repo::ObjectId>| {
        id.map_or_else(
            || "unborn".to_owned(),
            |id| id.to_hex_with_len(7).to_string(),
        )
    };
    let checkout = match &status.branch {
        Some(branch) => Cell::plain(branch.clone()),
        None => Cell::styled(format!("detached {}", short(status.head)), styles::WARN),
    };
    let pin = if project.pin_conflicted {
        Cell::styled("U", styles::ERROR)
    } else if status.on_pin {
        Cell::styled("=", styles::OK)
    } else {
        Cell::styled("≠", styles::WARN)
    };
    let mut changes = Vec::new();
    if status.staged > status.conflicted {
        changes.push(format!("+{}", status.staged - status.conflicted));
    }
    if status.modified > status.conflicted {
        changes.push(format!("~{}", status.modified - status.conflicted));
    }
    if status.untracked > 0 {
        changes.push(format!("?{}", status.untracked));
    }
    if status.conflicted > 0 {
        changes.push(format!("!{}", status.conflicted));
    }
    let changes = if changes.is_empty() {
        Cell::plain("")
    } else {
        Cell::styled(changes.join(" "), styles::ERROR)
    };
    let tracking = match (&status.upstream, status.ahead, status.behind) {
        (Some(upstream), Some(ahead), Some(behind)) => {
            let mut text = String::new();
            if ahead > 0 {
                let _ = write!(text, "↑{ahead} ");
            }
            if behind > 0 {
                let _ = write!(text, "↓{behind} ");
            }
            text.push_str(upstream);
            if ahead > 0 || behind > 0 {
                Cell::styled(text, styles::HINT)
            } else {
                Cell::styled(text, styles::DIM)
            }
        }
        (Some(upstream), _, _) => Cell::styled(format!("{upstream} (gone)"), styles::WARN),
        (None, _, _) if status.branch.is_some() => Cell::styled("no upstream", styles::DIM),
        (None, _, _) => Cell::plain(""),
    };
    vec![checkout, pin, changes, tracking]
}

/// `painted` padded to `width` columns, counting only the visible `text`.
fn pad(painted: &str, text: &str, width: usize) -> String {
    let visible = text.chars().count();
    format!("{painted}{}", " ".repeat(width.saturating_sub(visible)))
}

// ---- Plugins and events --------------------------------------------------------------------

/// The `plugins` section: `meta plugin list --json`'s entries (manifests, and service states
/// from the running daemon; no plugin runs). A catalog that cannot be read is a warning here,
/// not a failed status.
fn plugins_summary(ui: &crate::ui::Ui, workspace: &Workspace) -> Vec<PluginEntry> {
    match super::plugin::list_entries(workspace) {
        Ok((entries, problems)) => {
            for problem in problems {
                ui.warn(problem);
            }
            entries
        }
        Err(error) => {
            ui.warn(format!("cannot list plugins: {}", error.message()));
            Vec::new()
        }
    }
}

/// The `events` section: the event crate's own report (asked of the daemon when one runs,
/// read from `.meta/` otherwise; never waits longer than its status timeout).
fn events_summary(workspace: &Workspace) -> Result<EventSystemStatus, LogError> {
    meta_events::status::event_system_status(workspace, meta_events::status::STATUS_TIMEOUT)
}

//! `meta status [--json] [--cold] [--watch] [--dirty] [--group G] [PATTERN…]`: one line per
//! project, grouped by the `src/` groups, then plugins and the event system. With a daemon, the
//! records come warm from its watch service (current as of the question, DESIGN.md section
//! 10); `--cold` reads every project now; `--watch` keeps the view live (`watch.rs`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

mod watch;

use std::collections::HashSet;
use std::time::Duration;

use meta_repo::{Project, StatusRecord};
use meta_repo_watch::client::AskError;
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
    /// Read every project now, even when the daemon keeps a warm status.
    #[arg(long)]
    cold: bool,
    /// Only the daemon's warm status: fail instead of reading every project when it has none.
    #[arg(long, conflicts_with = "cold")]
    warm: bool,
    /// Keep the view on screen, redrawn as the repositories change (Ctrl-C quits).
    #[arg(long, conflicts_with = "json")]
    watch: bool,
    #[command(flatten)]
    select: SelectArgs,
}

/// How long `meta status` waits for the daemon's warm answer before reading cold.
const WARM_TIMEOUT: Duration = Duration::from_secs(5);

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    if args.watch {
        return watch::run(ctx, &args);
    }
    let workspace = ctx.workspace()?.clone();
    let ctx: &Ctx<'_> = ctx;
    let (rows, summaries) = gather(ctx, &workspace, &args);
    report(ctx, &workspace, &args, &rows?, summaries)
}

/// What the plugins and events sections show.
pub(super) type Summaries = (Vec<PluginEntry>, Result<EventSystemStatus, LogError>);

/// The records and the sections' summaries, asked at once: both mostly wait on a socket.
pub(super) fn gather(
    ctx: &Ctx<'_>,
    workspace: &Workspace,
    args: &Args,
) -> (CliResult<Vec<StatusRecord>>, Summaries) {
    let ui = ctx.ui.clone();
    std::thread::scope(|scope| {
        let asked = scope.spawn(|| summaries(&ui, workspace));
        let rows = records(ctx, workspace, args);
        let summaries = asked
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (rows, summaries)
    })
}

/// The chosen projects' records: the daemon's warm ones when it keeps them, else read now.
fn records(ctx: &Ctx<'_>, workspace: &Workspace, args: &Args) -> CliResult<Vec<StatusRecord>> {
    let root = workspace.root();
    if !args.cold {
        match meta_repo_watch::client::ask(&workspace.status_socket(), WARM_TIMEOUT) {
            Ok(warm) => {
                // The service's project list is as current as its records: no need to read
                // `.gitmodules` and the index again (the larger part of a warm answer's cost).
                let described: Vec<Project> = warm.iter().map(described_by).collect();
                let chosen: HashSet<String> = args
                    .select
                    .choose(workspace, described)?
                    .into_iter()
                    .map(|p| p.path)
                    .collect();
                return Ok(warm
                    .into_iter()
                    .filter(|r| chosen.contains(&r.path))
                    .filter(|r| !args.select.dirty || r.is_dirty() || r.error.is_some())
                    .collect());
            }
            Err(error) if args.warm => {
                return Err(CliError::context("there is no warm status", &error).with_hint(
                    "the daemon's `watch` service keeps it: `meta daemon start`, and `meta plugin enable watch` if it is disabled",
                ));
            }
            Err(AskError::NotRunning) => {}
            Err(error) => ctx.ui.warn(format!(
                "{}; reading every project now",
                crate::error::describe_error(&error)
            )),
        }
    }
    let projects = meta_repo::list_projects(root)?;
    let chosen = args.select.choose(workspace, projects.projects)?;
    Ok(
        crate::select::with_status(root, &args.select.selection(), chosen)
            .iter()
            .map(|(p, s)| StatusRecord::new(p, s))
            .collect(),
    )
}

fn report(
    ctx: &Ctx<'_>,
    workspace: &Workspace,
    args: &Args,
    rows: &[StatusRecord],
    (plugins, events): Summaries,
) -> CliResult {
    let root = workspace.root();
    let failed = rows.iter().filter(|r| r.error.is_some()).count();

    if args.json {
        let report = Report {
            root: root.display().to_string(),
            projects: rows,
            plugins,
            events: events.as_ref().ok().cloned(),
            bridge: bridge_summary(workspace, events.as_ref().ok()),
        };
        ctx.ui.print_json(&report)?;
    } else {
        let text = render_text(
            &ctx.ui,
            workspace,
            rows,
            args,
            &plugins,
            events.as_ref().ok(),
        );
        ctx.ui.print(text)?;
        if let Some(bridge) = bridge_summary(workspace, events.as_ref().ok()) {
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
        for message in rows.iter().filter_map(|r| r.error.as_ref()) {
            error = error.with_cause(message.clone());
        }
        return Err(error.with_hint(
            "run `git status` in the project to see what git says, and `meta health` for the whole tree",
        ));
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct Report<'a> {
    root: String,
    /// One record per project (DESIGN.md section 2; `meta_repo::StatusRecord`).
    projects: &'a [StatusRecord],
    plugins: Vec<PluginEntry>,
    /// `null` only when the event log cannot be read (then the command fails after printing).
    events: Option<EventSystemStatus>,
    /// `meta bridge status --json`, when `[bridge] enabled = true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    bridge: Option<super::bridge::BridgeReport>,
}

/// The bridge's state when it is on (`None` when off or unreadable: `meta bridge status` says why).
fn bridge_summary(
    workspace: &Workspace,
    events: Option<&EventSystemStatus>,
) -> Option<super::bridge::BridgeReport> {
    if !workspace.config().bridge.enabled {
        return None;
    }
    super::bridge::BridgeReport::with_log(workspace, events.map(|e| &e.log)).ok()
}

/// What selection needs to know of a project (path, name, group), from its record.
fn described_by(record: &StatusRecord) -> Project {
    Project {
        path: record.path.clone(),
        name: record.name.clone(),
        group: record.group.clone(),
        submodule_name: None,
        gitmodules_url: record.url.clone(),
        config_url: None,
        pinned: None,
        pin_conflicted: record.pin_conflicted,
        active: record.initialized,
    }
}

/// The text view: projects by group, the legend, plugins and the event system.
pub(super) fn render_text(
    ui: &crate::ui::Ui,
    workspace: &Workspace,
    rows: &[StatusRecord],
    args: &Args,
    plugins: &[PluginEntry],
    events: Option<&EventSystemStatus>,
) -> String {
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
        let key = match &row.group {
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
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Vec<Cell>> = rows.iter().map(cells).collect();
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
            let project = &rows[i];
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
        let pin_conflict = if rows.iter().any(|r| r.pin_conflicted) {
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
    out
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
fn cells(status: &StatusRecord) -> Vec<Cell> {
    if status.error.is_some() {
        return vec![
            Cell::styled("unreadable", styles::ERROR),
            Cell::styled("?", styles::ERROR),
            Cell::plain(""),
            Cell::plain(""),
        ];
    }
    if !status.initialized {
        let why = if status.pinned.is_none() {
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
    let checkout = match &status.branch {
        Some(branch) => Cell::plain(branch.clone()),
        None => Cell::styled(
            format!("detached {}", short(status.head.as_deref())),
            styles::WARN,
        ),
    };
    let pin = if status.pin_conflicted {
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

/// A commit's first seven hex digits, or `unborn`.
fn short(id: Option<&str>) -> &str {
    id.map_or("unborn", |id| id.get(..7).unwrap_or(id))
}

/// `painted` padded to `width` columns, counting only the visible `text`.
fn pad(painted: &str, text: &str, width: usize) -> String {
    let visible = text.chars().count();
    format!("{painted}{}", " ".repeat(width.saturating_sub(visible)))
}

// ---- Plugins and events --------------------------------------------------------------------

/// The `plugins` and `events` sections, from one question to the daemon when one runs (its
/// status holds the plugin host's report), read from `.meta/` otherwise.
fn summaries(ui: &crate::ui::Ui, workspace: &Workspace) -> Summaries {
    match meta_events::status::daemon_status(workspace, meta_events::status::STATUS_TIMEOUT) {
        Ok(status) => {
            let services = super::plugin::Services::from_daemon_status(&status);
            (
                plugins_summary(ui, workspace, services),
                Ok((&status).into()),
            )
        }
        Err(error) => (
            plugins_summary(ui, workspace, super::plugin::Services::ask(workspace)),
            Err(error),
        ),
    }
}

/// The `plugins` section: `meta plugin list --json`'s entries (manifests, and service states
/// from the running daemon; no plugin runs). A catalog that cannot be read is a warning here,
/// not a failed status.
fn plugins_summary(
    ui: &crate::ui::Ui,
    workspace: &Workspace,
    services: super::plugin::Services,
) -> Vec<PluginEntry> {
    match super::plugin::list_entries_with(workspace, services) {
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

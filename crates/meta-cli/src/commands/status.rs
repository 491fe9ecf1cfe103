//! `meta status [--json] [--dirty] [--group G] [PATTERN…]`: one line per project, grouped by the `src/`
//! groups, then plugins and the event system.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use meta_repo::{Project, ProjectStatus, StatusError};
use meta_workspace::Workspace;
use serde::Serialize;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::SelectArgs;
use crate::ui::styles;

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

    if args.json {
        let report = Report {
            root: root.display().to_string(),
            projects: rows.iter().map(|(p, s)| ProjectJson::new(p, s)).collect(),
            plugins: plugins_summary(&workspace),
            events: events_summary(&workspace),
        };
        ctx.ui.print_json(&report)?;
    } else {
        print_text(ctx, &workspace, &rows, &args)?;
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
    plugins: Vec<serde_json::Value>,
    events: EventsSummary,
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
            error,
        }
    }
}

fn print_text(
    ctx: &Ctx<'_>,
    workspace: &Workspace,
    rows: &[(Project, Result<ProjectStatus, StatusError>)],
    args: &Args,
) -> CliResult<()> {
    let ui = &ctx.ui;
    let mut out = String::new();
    if rows.is_empty() {
        let what = if args.select.narrows() {
            "no project matches"
        } else {
            "no projects yet (add one with `git submodule add URL src/<group>/<name>`)"
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
        out.push('\n');
        out.push_str(&ui.paint(
            styles::DIM,
            "= on pin  ≠ off pin  - not initialised  +staged ~modified ?untracked !conflicted  ↑ahead ↓behind",
        ));
        out.push('\n');
    }

    let plugins = plugins_summary(workspace);
    let _ = writeln!(
        out,
        "\n{} {}",
        ui.paint(styles::EMPHASIS, "plugins:"),
        if plugins.is_empty() {
            "none".to_owned()
        } else {
            plugins.len().to_string()
        }
    );
    let events = events_summary(workspace);
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
            .map(|s| format!(", last sequence {s}"))
            .unwrap_or_default(),
    );
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
    let pin = if status.on_pin {
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

// ---- Seams the lead connects when the plugin and event crates land ----------------------

/// The `plugins` section: `meta plugin list --json`'s entries.
///
/// SEAM (plugins, issue #4): this branch has no plugin crate, so no plugin can be installed,
/// enabled or running and the list is truly empty. Replace the body with the plugin manager's
/// list (the same values `meta plugin list --json` prints) once `meta-plugin` is merged.
fn plugins_summary(_workspace: &Workspace) -> Vec<serde_json::Value> {
    Vec::new()
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum DaemonState {
    Running,
    Stopped,
}

/// The `events` section of `meta status --json`.
#[derive(Serialize)]
struct EventsSummary {
    daemon: DaemonState,
    pid: Option<u32>,
    uptime_s: Option<u64>,
    endpoints: Option<Endpoints>,
    published: Option<u64>,
    rejected: Option<u64>,
    subscribers: Option<u64>,
    log: LogSummary,
}

#[derive(Serialize)]
struct Endpoints {
    ingest: String,
    events: String,
    control: String,
}

#[derive(Serialize, Default)]
struct LogSummary {
    segments: usize,
    bytes: u64,
    last_sequence: Option<u64>,
}

/// What is known about the event system without talking to a daemon: whether one runs (it
/// holds `.meta/run/daemon.lock` exclusively, DESIGN.md 3.4), where its sockets are (derived
/// from the root), and the log on disk (3.5).
///
/// SEAM (events, issue #3): `pid`, `uptime_s`, `published`, `rejected` and `subscribers` are
/// the daemon's own numbers; they stay `null` here rather than be guessed. Once `meta-events`
/// is merged, fill them from the control socket's `status` reply when the daemon runs (and let
/// its log reader replace `log_summary`).
fn events_summary(workspace: &Workspace) -> EventsSummary {
    let running = daemon_holds_lock(&workspace.run_dir().join("daemon.lock"));
    let endpoints = running.then(|| {
        let bus = workspace.bus_endpoints();
        Endpoints {
            ingest: bus.ingest,
            events: bus.events,
            control: bus.control,
        }
    });
    EventsSummary {
        daemon: if running {
            DaemonState::Running
        } else {
            DaemonState::Stopped
        },
        pid: None,
        uptime_s: None,
        endpoints,
        published: None,
        rejected: None,
        subscribers: None,
        log: log_summary(&workspace.events_dir()),
    }
}

/// True when some process holds `lock` exclusively: the daemon, for its whole life. A shared,
/// non-blocking probe (what event-emitting commands take, DESIGN.md 3.4), released at once;
/// the file is opened read-only and never created.
fn daemon_holds_lock(lock: &Path) -> bool {
    let Ok(file) = std::fs::File::open(lock) else {
        return false;
    };
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockShared) {
        Ok(()) => false,
        Err(error) => error == rustix::io::Errno::WOULDBLOCK,
    }
}

/// Segments `events-<20 digits>.jsonl` in `dir`: how many, their size, and the `sequence` of
/// the last whole event (a torn last line, DESIGN.md 3.5, is skipped).
fn log_summary(dir: &Path) -> LogSummary {
    let mut summary = LogSummary::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return summary;
    };
    let mut segments: Vec<(String, std::path::PathBuf, u64)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let digits = name.strip_prefix("events-")?.strip_suffix(".jsonl")?;
            (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(())?;
            let len = entry.metadata().ok()?.len();
            Some((name, entry.path(), len))
        })
        .collect();
    segments.sort();
    summary.segments = segments.len();
    summary.bytes = segments.iter().map(|(_, _, len)| len).sum();
    // The newest non-empty segment holds the last event.
    for (_, path, _) in segments.iter().rev() {
        if let Some(sequence) = last_sequence_in(path) {
            summary.last_sequence = Some(sequence);
            break;
        }
    }
    summary
}

fn last_sequence_in(path: &Path) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    // Events are at most 1 MiB; the tail holding the last whole line is enough to read.
    const TAIL: u64 = 2 * 1024 * 1024;
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL))).ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    // A last line without its newline is torn (DESIGN.md 3.5): not an event yet.
    let whole = match tail.iter().rposition(|b| *b == b'\n') {
        Some(end) => &tail[..end],
        None => return None,
    };
    whole
        .split(|b| *b == b'\n')
        .rev()
        .filter(|line| !line.is_empty())
        .find_map(|line| {
            let event: serde_json::Value = serde_json::from_slice(line).ok()?;
            event.get("sequence")?.as_str()?.parse().ok()
        })
}

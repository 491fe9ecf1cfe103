//! `meta status --watch`: the status view kept live from `core:repo:*` events. On a terminal
//! the view is redrawn (once a bulk change announced by `core:state:enter` is over, not at each
//! of its steps); on a pipe the view is printed once, then one plain line per event.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use meta_events::core;
use meta_events::{Client, Event};
use meta_repo::StatusRecord;
use serde_json::Value;
use signal_hook::consts::{SIGINT, SIGTERM};

use super::{Args, cells, gather, render_text};
use crate::cli::Ctx;
use crate::error::{CliError, CliResult};

/// How often the loop looks at the Ctrl-C flag while no event comes.
const TICK: Duration = Duration::from_millis(100);
/// Events arriving this close together are drawn once.
const SETTLE: Duration = Duration::from_millis(30);

pub(super) fn run(ctx: &mut Ctx<'_>, args: &Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let client = Client::for_workspace(&workspace);
    if !client.ping(Duration::from_secs(1))? {
        return Err(CliError::usage(
            "`meta status --watch` follows the daemon's events, and no daemon runs",
        )
        .with_hint("start it with `meta daemon start`, or run `meta status` once"));
    }
    // Subscribed before the first read, so no change falls between the two.
    let mut subscription = client.subscribe(&["core:repo:", "core:state:"])?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| CliError::context("cannot handle Ctrl-C", &e))?;
    }
    let terminal = ctx.ui.stdout_is_terminal();
    let mut out = std::io::stdout().lock();
    let draw = |out: &mut dyn Write, busy: &BTreeMap<u64, String>| -> CliResult<()> {
        let (rows, (plugins, events)) = gather(ctx, &workspace, args);
        let rows = rows?;
        let mut text = String::new();
        if terminal {
            // Home and clear: the view replaces the last one.
            text.push_str("\x1b[H\x1b[2J");
        }
        text.push_str(&render_text(
            &ctx.ui,
            &workspace,
            &rows,
            args,
            &plugins,
            events.as_ref().ok(),
        ));
        if terminal {
            text.push('\n');
            text.push_str(&footer(busy));
        }
        out.write_all(text.as_bytes())?;
        out.flush()?;
        Ok(())
    };
    // Bulk changes under way (pid → name): a terminal is redrawn when the last is over.
    let mut busy: BTreeMap<u64, String> = BTreeMap::new();
    draw(&mut out, &busy)?;
    let mut stale = false;
    while !stop.load(Ordering::Relaxed) {
        let wait = if stale { SETTLE } else { TICK };
        let Some(received) = subscription.recv(Some(wait))? else {
            if stale && busy.is_empty() && terminal {
                draw(&mut out, &busy)?;
                stale = false;
            }
            continue;
        };
        let Ok(event) = received.event() else {
            continue;
        };
        track_state(&event, &mut busy);
        if terminal {
            stale = true;
            if !busy.is_empty() {
                // Say what is under way without redrawing every step of it.
                write!(out, "\r\x1b[2K{}", footer(&busy))?;
                out.flush()?;
            }
        } else if let Some(line) = describe(&event, &ctx.ui) {
            writeln!(out, "{line}")?;
            out.flush()?;
        }
    }
    if terminal {
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Follows `core:state:enter|leave`: which bulk changes are under way.
fn track_state(event: &Event, busy: &mut BTreeMap<u64, String>) {
    let data = event.data.as_ref();
    let pid = data.and_then(|d| d.get("pid")).and_then(Value::as_u64);
    let name = data
        .and_then(|d| d.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    match (event.ty(), pid) {
        (core::STATE_ENTER, Some(pid)) => {
            busy.insert(pid, name.to_owned());
        }
        (core::STATE_LEAVE, Some(pid)) => {
            busy.remove(&pid);
        }
        _ => {}
    }
}

fn footer(busy: &BTreeMap<u64, String>) -> String {
    if busy.is_empty() {
        return "watching for changes (Ctrl-C quits)".to_owned();
    }
    let names: Vec<String> = busy.values().map(|name| format!("`meta {name}`")).collect();
    format!(
        "{} under way; the view follows when it is over",
        names.join(", ")
    )
}

/// One plain line for an event (on a pipe), or `None` for an event that says nothing here.
fn describe(event: &Event, ui: &crate::ui::Ui) -> Option<String> {
    let data = event.data.as_ref()?;
    let text = |key: &str| data.get(key).and_then(Value::as_str);
    let project = text("project").unwrap_or("(meta-repo)");
    let short = |key: &str| text(key).map_or("none", |id| super::short(Some(id)));
    let branch = |key: &str| text(key).unwrap_or("detached");
    Some(match event.ty() {
        core::REPO_HEAD_MOVED => format!(
            "{project}: HEAD {} -> {} ({})",
            short("from"),
            short("to"),
            branch("branch")
        ),
        core::REPO_BRANCH_SWITCHED => {
            format!("{project}: branch {} -> {}", branch("from"), branch("to"))
        }
        core::REPO_PIN_CHANGED => {
            format!("{project}: pin {} -> {}", short("from"), short("to"))
        }
        core::REPO_STATUS_CHANGED => {
            let record: StatusRecord = serde_json::from_value(data.get("status")?.clone()).ok()?;
            let changed: Vec<&str> = data
                .get("changed")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let summary: Vec<String> = cells(&record)
                .iter()
                .map(|cell| cell.painted(ui))
                .filter(|cell| !cell.is_empty())
                .collect();
            format!("{project}: {} ({})", summary.join("  "), changed.join(", "))
        }
        core::REPO_RESYNCED => format!(
            "the watcher lost changes ({}); every repository was read again",
            text("reason").unwrap_or("no reason given")
        ),
        core::STATE_ENTER => format!("`meta {}` started", text("name")?),
        core::STATE_LEAVE => format!("`meta {}` is over", text("name")?),
        _ => return None,
    })
}

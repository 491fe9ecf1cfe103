//! `meta health [--json]`: checks of the whole meta-repo, each pass / warn / fail with a
//! message, a fix when it is not a pass, and its duration. Exit 1 when any check fails.
//!
//! Each check is a small module with one `CHECK`; the list below is the order they run and
//! print in. A check that does not apply (say, `bus-roundtrip` without a daemon) says so
//! through `applies` and is left out.

mod bridge;
mod bus_roundtrip;
mod config;
mod daemon;
mod event_log;
mod git;
mod journal;
mod layout;
mod pins;
mod plugins;
mod submodules;
mod watch_limit;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use meta_workspace::config::DEFAULT_GROUPS;
use meta_workspace::{Config, ConfigError};
use serde::Serialize;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::ui::styles;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON (the contract in DESIGN.md) instead of text.
    #[arg(long)]
    json: bool,
}

/// Every check, in the order of DESIGN.md's list.
const CHECKS: &[Check] = &[
    config::CHECK,
    git::CHECK,
    layout::CHECK,
    submodules::CHECK,
    pins::CHECK,
    journal::CHECK,
    event_log::CHECK,
    daemon::CHECK,
    bus_roundtrip::CHECK,
    plugins::CHECK,
    watch_limit::CHECK,
    bridge::CHECK,
];

/// One check: its name in the JSON, whether it applies here, and the function running it.
pub struct Check {
    pub name: &'static str,
    pub applies: fn(&Health) -> bool,
    pub run: fn(&Health) -> Outcome,
}

/// For checks that always apply.
pub fn always(_: &Health) -> bool {
    true
}

/// What a check found.
pub struct Outcome {
    pub level: Level,
    pub message: String,
    /// How to fix it, one step per problem; every check that does not pass says.
    pub fix: Vec<String>,
}

impl Outcome {
    pub fn pass(message: impl Into<String>) -> Self {
        Self {
            level: Level::Pass,
            message: message.into(),
            fix: Vec::new(),
        }
    }

    pub fn warn(message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            level: Level::Warn,
            message: message.into(),
            fix: vec![fix.into()],
        }
    }

    pub fn fail(message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            level: Level::Fail,
            message: message.into(),
            fix: vec![fix.into()],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Pass,
    Warn,
    Fail,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Pass => "pass",
            Level::Warn => "warn",
            Level::Fail => "fail",
        }
    }
}

/// What the checks look at: the root, and the config as loaded (a config that does not load
/// fails its own check while the others carry on with defaults).
pub struct Health {
    pub root: PathBuf,
    pub config: Result<Config, ConfigError>,
}

impl Health {
    /// The configured groups, or the defaults when the config does not load.
    pub fn groups(&self) -> Vec<String> {
        match &self.config {
            Ok(config) => config.metarepo.groups.clone(),
            Err(_) => DEFAULT_GROUPS.iter().map(|g| (*g).to_owned()).collect(),
        }
    }
}

#[derive(Serialize)]
struct Report {
    status: Level,
    checks: Vec<CheckJson>,
}

#[derive(Serialize)]
struct CheckJson {
    name: &'static str,
    status: Level,
    message: String,
    duration_ms: f64,
    /// Added: how to fix what did not pass (steps joined by `; `).
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
    #[serde(skip)]
    fix_steps: Vec<String>,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    // Only the root is needed to start: a config that does not load is a finding, not an error.
    let cwd = crate::cli::current_dir()?;
    let root = meta_workspace::find_root(&cwd).map_err(CliError::from)?;
    let config = Config::load(&root.join(meta_workspace::CONFIG_RELATIVE_PATH));
    let health = Health { root, config };

    let mut checks = Vec::new();
    for check in CHECKS {
        if !(check.applies)(&health) {
            continue;
        }
        let started = Instant::now();
        let outcome = (check.run)(&health);
        let duration_ms = (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
        checks.push(CheckJson {
            name: check.name,
            status: outcome.level,
            message: outcome.message,
            duration_ms,
            fix: (!outcome.fix.is_empty()).then(|| outcome.fix.join("; ")),
            fix_steps: outcome.fix,
        });
    }
    let status = checks.iter().map(|c| c.status).max().unwrap_or(Level::Pass);
    let report = Report { status, checks };

    if args.json {
        ctx.ui.print_json(&report)?;
    } else {
        print_text(ctx, &report)?;
    }
    Ok(if status == Level::Fail {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_text(ctx: &Ctx<'_>, report: &Report) -> CliResult<()> {
    let ui = &ctx.ui;
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let paint_level = |level: Level| {
        let style = match level {
            Level::Pass => styles::OK,
            Level::Warn => styles::WARN,
            Level::Fail => styles::ERROR,
        };
        ui.paint(style, level.label())
    };
    let mut out = String::new();
    for check in &report.checks {
        let _ = writeln!(
            out,
            "{}  {:width$}  {} {}",
            paint_level(check.status),
            check.name,
            check.message,
            ui.paint(styles::DIM, format!("({:.1} ms)", check.duration_ms)),
        );
        for step in &check.fix_steps {
            let _ = writeln!(
                out,
                "      {:width$}  {} {step}",
                "",
                ui.paint(styles::HINT, "fix:")
            );
        }
    }
    let _ = writeln!(out, "\noverall: {}", paint_level(report.status));
    ui.print(out)
}

//! `meta plugin info NAME [--json]`: one plugin's manifest, origin and integrity.

use std::fmt::Write as _;
use std::process::ExitCode;

use meta_plugin::{Integrity, LoadProblem, VerifyError};
use serde::Serialize;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::plugins;
use crate::ui::styles;

use super::{ListEntry, ServiceState, Services};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The plugin's name.
    name: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Info {
    name: String,
    version: String,
    description: String,
    enabled: bool,
    source: String,
    path: Option<String>,
    /// The commit a git source resolved to.
    rev: Option<String>,
    /// The content hash recorded at install time.
    hash: Option<String>,
    linked: bool,
    /// `builtin`, `linked` (not checked), `verified`, `modified` or `unrecorded`.
    integrity: &'static str,
    commands: Vec<CommandInfo>,
    service: Option<ServiceInfo>,
    publish: Vec<String>,
}

#[derive(Serialize)]
struct CommandInfo {
    name: String,
    about: String,
    exec: Vec<String>,
}

#[derive(Serialize)]
struct ServiceInfo {
    exec: Vec<String>,
    subscribe: Vec<String>,
    restart: &'static str,
    #[serde(flatten)]
    state: ServiceState,
    /// Why it failed or stopped, as the daemon says.
    reason: Option<String>,
    /// Its log, relative to the root, once the daemon ran it.
    log: Option<String>,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?;
    let manager = plugins::manager(workspace);
    let catalog = manager.catalog()?;
    let lock = manager.lock()?;
    let Some(plugin) = catalog.get(&args.name) else {
        // A plugin whose folder is there but cannot be loaded: say why.
        if let Some(problem) = catalog
            .problems
            .iter()
            .find(|p| p.name() == Some(args.name.as_str()))
        {
            let mut error =
                CliError::context(format!("plugin `{}` cannot be loaded", args.name), problem);
            if matches!(problem, LoadProblem::Manifest { .. }) {
                error = error.with_hint("fix its manifest; docs/plugins.md describes every field");
            }
            return Err(error);
        }
        return Err(meta_plugin::ManageError::NotInstalled { name: args.name }.into());
    };
    let entry = lock.plugins.get(&plugin.name);
    let integrity = match manager.verify(plugin, &lock) {
        Ok(Integrity::Builtin) => "builtin",
        Ok(Integrity::Linked) => "linked",
        Ok(Integrity::Verified) => "verified",
        Err(VerifyError::Modified { .. }) => "modified",
        Err(VerifyError::NotRecorded { .. } | VerifyError::UnexpectedLink { .. }) => "unrecorded",
        Err(error) => return Err(error.into()),
    };
    let listed = ListEntry::of(plugin, &lock, &Services::ask(workspace));
    let manifest = &plugin.manifest;
    let info = Info {
        name: listed.name,
        version: listed.version,
        description: manifest.description.clone(),
        enabled: listed.enabled,
        source: listed.source,
        path: listed.path,
        rev: entry.and_then(|e| e.rev.clone()),
        hash: entry.and_then(|e| e.hash.clone()),
        linked: plugin.is_linked(),
        integrity,
        commands: manifest
            .commands
            .iter()
            .map(|c| CommandInfo {
                name: c.name.clone(),
                about: c.about.clone(),
                exec: c.exec.clone(),
            })
            .collect(),
        service: manifest
            .service
            .as_ref()
            .zip(listed.service)
            .map(|(spec, state)| ServiceInfo {
                exec: spec.exec.clone(),
                subscribe: spec.subscribe.clone(),
                restart: spec.restart.as_str(),
                reason: state.reason.clone(),
                log: state.log.clone(),
                state,
            }),
        publish: manifest.publish.clone(),
    };
    if args.json {
        ctx.ui.print_json(&info)?;
        return Ok(ExitCode::SUCCESS);
    }

    let ui = &ctx.ui;
    let mut text = String::new();
    let _ = write!(
        text,
        "{} {}",
        ui.paint(styles::EMPHASIS, &info.name),
        info.version
    );
    if !info.description.is_empty() {
        let _ = write!(text, ": {}", info.description);
    }
    text.push('\n');
    let mut field = |label: &str, value: String| {
        let _ = writeln!(text, "  {:<10} {value}", format!("{label}:"));
    };
    field(
        "state",
        if info.enabled {
            ui.paint(styles::OK, "enabled")
        } else {
            ui.paint(styles::DIM, "disabled")
        },
    );
    field("source", info.source.clone());
    if let Some(path) = &info.path {
        field("folder", path.clone());
    }
    if let Some(rev) = &info.rev {
        field("revision", rev.clone());
    }
    let integrity = match info.integrity {
        "builtin" => "part of meta".to_owned(),
        "linked" => "linked for development: not checked".to_owned(),
        "verified" => format!(
            "{} ({})",
            ui.paint(styles::OK, "intact"),
            info.hash.as_deref().unwrap_or("")
        ),
        "modified" => format!(
            "{}: changed since install; it will not run until trusted (`meta plugin trust {}`)",
            ui.paint(styles::ERROR, "modified"),
            info.name
        ),
        _ => format!(
            "{}: not installed with `meta plugin install`; it will not run until trusted (`meta plugin trust {}`)",
            ui.paint(styles::WARN, "unrecorded"),
            info.name
        ),
    };
    field("content", integrity);
    for command in &info.commands {
        let about = if command.about.is_empty() {
            String::new()
        } else {
            format!("  {}", command.about)
        };
        field(
            "command",
            format!(
                "{}{about}  (runs: {})",
                ui.paint(styles::EMPHASIS, &command.name),
                command.exec.join(" ")
            ),
        );
    }
    if let Some(service) = &info.service {
        let mut state = service.state.state.to_owned();
        if let Some(pid) = service.state.pid {
            let _ = write!(state, ", pid {pid}");
        }
        if service.state.restarts > 0 {
            let _ = write!(state, ", {} restarts", service.state.restarts);
        }
        let mut line = format!(
            "{} (restart: {}, {state})",
            service.exec.join(" "),
            service.restart,
        );
        if !service.subscribe.is_empty() {
            let _ = write!(
                line,
                "; listens to {}",
                display_prefixes(&service.subscribe)
            );
        }
        field("service", line);
        if let Some(reason) = &service.reason {
            field("reason", reason.clone());
        }
        if let Some(log) = &service.log {
            field("log", log.clone());
        }
    }
    if !info.publish.is_empty() {
        field("publishes", display_prefixes(&info.publish));
    }
    ui.print(text)?;
    Ok(ExitCode::SUCCESS)
}

fn display_prefixes(prefixes: &[String]) -> String {
    prefixes
        .iter()
        .map(|p| {
            if p.is_empty() {
                "everything"
            } else {
                p.as_str()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

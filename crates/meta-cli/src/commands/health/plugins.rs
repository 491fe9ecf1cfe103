//! `plugins`: every plugin folder loads (manifest valid, api spoken by this `meta`), every
//! enabled plugin's content is what was installed, the programs its commands and service
//! run can be found, and with a daemon running, every enabled plugin's service runs (one it
//! gave up on fails the check; one that stopped or that it does not run is a warning).

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use meta_plugin::{Catalog, LoadProblem, Plugin, launch::resolve_exec};
use meta_plugin_host::ServiceState;
use meta_workspace::Workspace;

use super::{Check, Health, Level, Outcome, always};
use crate::plugins::manager;

pub const CHECK: Check = Check {
    name: "plugins",
    applies: always,
    run,
};

fn run(health: &Health) -> Outcome {
    let Ok(workspace) = Workspace::open(&health.root) else {
        return Outcome::warn(
            "cannot tell which plugins are enabled: the config does not load",
            "fix `meta/metarepo.toml` (see the `config` check)",
        );
    };
    let manager = manager(&workspace);
    let catalog = Catalog::load(&workspace, crate::plugins::BUILTIN_PLUGINS);
    let mut problems: Vec<(Level, String, String)> = catalog
        .problems
        .iter()
        .map(|problem| {
            let fix = match problem {
                LoadProblem::Missing { name, .. } => format!(
                    "install it again, or `meta plugin uninstall {name}` to forget its config"
                ),
                _ => "fix the manifest, or remove the folder with `meta plugin uninstall NAME`"
                    .to_owned(),
            };
            (Level::Fail, problem.to_string(), fix)
        })
        .collect();
    let lock = match manager.lock() {
        Ok(lock) => Some(lock),
        Err(error) => {
            problems.push((
                Level::Fail,
                format!("`meta/plugins.lock` does not load: {error}"),
                "restore it from git (`git checkout -- meta/plugins.lock`) or reinstall the plugins".to_owned(),
            ));
            None
        }
    };
    let enabled: Vec<&Plugin> = catalog.plugins.iter().filter(|p| p.enabled).collect();
    for plugin in &enabled {
        if let Some(lock) = &lock
            && let Err(error) = manager.verify(plugin, lock)
        {
            problems.push((
                Level::Fail,
                error.to_string(),
                format!(
                    "review the change, then `meta plugin trust {0}`, or reinstall it with `meta plugin install --force SOURCE`",
                    plugin.name
                ),
            ));
        }
        for (what, exec) in programs(plugin) {
            if let Some(missing) = missing_program(plugin, exec) {
                problems.push((
                    Level::Fail,
                    format!(
                        "plugin `{}`: {what} runs `{missing}`, which cannot be found",
                        plugin.name
                    ),
                    format!("install `{missing}` or fix `exec` in the plugin's manifest"),
                ));
            }
        }
    }
    let services = crate::commands::plugin::Services::ask(&workspace);
    let with_service: Vec<&&Plugin> = enabled
        .iter()
        .filter(|p| p.manifest.service.is_some())
        .collect();
    let mut running = 0;
    if let Some(why) = services.unknown() {
        problems.push((
            Level::Warn,
            format!("cannot ask the daemon which services run: {why}"),
            "see the `daemon` check".to_owned(),
        ));
    }
    for plugin in &with_service {
        let name = &plugin.name;
        let log = format!("`.meta/run/plugins/{name}.log`");
        match services.get(name) {
            Some(service) => match service.state {
                ServiceState::Running => running += 1,
                // Being checked, or waiting out a restart backoff: the daemon is on it.
                ServiceState::Starting => {}
                ServiceState::Stopped => problems.push((
                    Level::Warn,
                    format!(
                        "the service of plugin `{name}` is not running: {}",
                        service.reason.as_deref().unwrap_or("it stopped")
                    ),
                    format!(
                        "if it should keep running, read {log}; `meta plugin enable {name}` starts it again"
                    ),
                )),
                ServiceState::Failed => problems.push((
                    Level::Fail,
                    format!(
                        "the daemon gave up on the service of plugin `{name}`: {}",
                        service.reason.as_deref().unwrap_or("no reason recorded")
                    ),
                    format!(
                        "read {log}, fix the cause, then `meta plugin enable {name}` starts it again"
                    ),
                )),
            },
            None if services.answered() => problems.push((
                Level::Warn,
                format!("the daemon does not run the service of plugin `{name}`"),
                format!(
                    "`meta plugin enable {name}` asks the daemon to take it in; a daemon started with `--no-plugins` runs built-in plugins only (restart it: `meta daemon stop`, `meta daemon start`)"
                ),
            )),
            // No daemon: no service runs, and none is expected to.
            None => {}
        }
    }
    let mut summary = format!(
        "{} plugin(s), {} enabled",
        catalog.plugins.len(),
        enabled.len()
    );
    if !with_service.is_empty() {
        if services.answered() {
            let _ = write!(
                summary,
                ", {running} of {} service(s) running",
                with_service.len()
            );
        } else if services.unknown().is_none() {
            let _ = write!(
                summary,
                ", {} service(s) (they run with the daemon, which is not running)",
                with_service.len()
            );
        }
    }
    let Some(level) = problems.iter().map(|p| p.0).max() else {
        return Outcome::pass(summary);
    };
    let message = std::iter::once(summary)
        .chain(problems.iter().map(|p| p.1.clone()))
        .collect::<Vec<_>>()
        .join("; ");
    Outcome {
        level,
        message,
        fix: problems.into_iter().map(|p| p.2).collect(),
    }
}

/// What a plugin runs: each command's and the service's `exec`.
fn programs(plugin: &Plugin) -> Vec<(String, &[String])> {
    let manifest = &plugin.manifest;
    let mut all: Vec<(String, &[String])> = manifest
        .commands
        .iter()
        .map(|c| (format!("command `{}`", c.name), c.exec.as_slice()))
        .collect();
    if let Some(service) = &manifest.service {
        all.push(("its service".to_owned(), service.exec.as_slice()));
    }
    all
}

/// The program `exec` names, when it is neither an executable file nor found in `PATH`.
fn missing_program(plugin: &Plugin, exec: &[String]) -> Option<String> {
    let (program, _) = resolve_exec(plugin, exec, std::env::current_exe).ok()?;
    let found = if program.components().count() > 1 || program.is_absolute() {
        is_executable(&program)
    } else {
        search_path(&program).is_some()
    };
    (!found).then(|| program.display().to_string())
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn search_path(program: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

//! `meta plugin list|info|install|uninstall|enable|disable|trust`: plugin management
//! (DESIGN.md section 4). One module per subcommand; what they share is here.

mod disable;
mod enable;
mod info;
mod install;
mod list;
mod trust;
mod uninstall;

use meta_plugin::{LockFile, Plugin};
use serde::Serialize;

use crate::cli::Ctx;
use crate::error::CliResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// List plugins, built-in and installed, with their state
    List(list::Args),
    /// Show a plugin's manifest, where it came from and whether its content is intact
    Info(info::Args),
    /// Install a plugin from a local folder or a git URL (never runs its code)
    Install(install::Args),
    /// Remove a plugin: its folder, its lock entry and its config
    Uninstall(uninstall::Args),
    /// Turn a plugin on: its commands join `meta`, its service may run
    Enable(enable::Args),
    /// Turn a plugin off: its commands leave `meta`, its service stops
    Disable(disable::Args),
    /// Accept a plugin's current content after a change you made or reviewed
    Trust(trust::Args),
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    match args.command {
        Command::List(args) => list::run(ctx, args),
        Command::Info(args) => info::run(ctx, args),
        Command::Install(args) => install::run(ctx, args),
        Command::Uninstall(args) => uninstall::run(ctx, args),
        Command::Enable(args) => enable::run(ctx, args),
        Command::Disable(args) => disable::run(ctx, args),
        Command::Trust(args) => trust::run(ctx, args),
    }
}

/// Every plugin as `meta plugin list --json` shows it, with the catalog's load problems (for
/// the caller to show as warnings). `meta status` reports the same list.
pub(crate) fn list_entries(
    workspace: &meta_workspace::Workspace,
) -> CliResult<(Vec<ListEntry>, Vec<String>)> {
    let manager = crate::plugins::manager(workspace);
    let catalog = manager.catalog()?;
    let lock = manager.lock()?;
    let entries = catalog
        .plugins
        .iter()
        .map(|plugin| ListEntry::of(plugin, &lock))
        .collect();
    let problems = catalog.problems.iter().map(ToString::to_string).collect();
    Ok((entries, problems))
}

/// One plugin as `meta plugin list --json` shows it (contract: DESIGN.md section 2).
#[derive(Debug, Serialize)]
pub(crate) struct ListEntry {
    pub(crate) name: String,
    version: String,
    pub(crate) enabled: bool,
    /// `builtin`, the folder it was installed from, or `git+URL`.
    source: String,
    /// Relative to the root; null for built-ins.
    path: Option<String>,
    commands: Vec<String>,
    service: Option<ServiceState>,
}

#[derive(Debug, Serialize)]
struct ServiceState {
    /// `running`, `starting`, `stopped` or `failed`.
    state: &'static str,
    pid: Option<u32>,
    restarts: u32,
}

impl ListEntry {
    fn of(plugin: &Plugin, lock: &LockFile) -> Self {
        let path = plugin
            .dir()
            .map(|_| format!("meta/plugins/{}", plugin.name));
        let source = if plugin.is_builtin() {
            "builtin".to_owned()
        } else if let Some(entry) = lock.plugins.get(&plugin.name) {
            entry.source.clone()
        } else {
            // Not installed through `meta plugin install` (e.g. copied in by hand): it comes
            // from its own folder.
            path.clone().unwrap_or_default()
        };
        Self {
            name: plugin.name.clone(),
            version: plugin.manifest.version.clone(),
            enabled: plugin.enabled,
            source,
            path,
            commands: plugin
                .manifest
                .commands
                .iter()
                .map(|c| c.name.clone())
                .collect(),
            service: plugin
                .manifest
                .service
                .as_ref()
                .map(|_| service_state(plugin)),
        }
    }
}

/// What is known of a plugin's service. No supervisor exists yet (it arrives with the daemon),
/// so no service runs and `stopped` is the truth; once the daemon lands, its status reply
/// (state, pid, restarts) replaces this for enabled plugins.
fn service_state(_plugin: &Plugin) -> ServiceState {
    ServiceState {
        state: "stopped",
        pid: None,
        restarts: 0,
    }
}

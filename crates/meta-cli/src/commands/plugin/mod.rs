//! `meta plugin list|info|install|uninstall|enable|disable|trust`: plugin management
//! (DESIGN.md section 4). One module per subcommand; what they share is here.

mod disable;
mod enable;
mod info;
mod install;
mod list;
mod trust;
mod uninstall;

use std::collections::BTreeMap;
use std::time::Duration;

use meta_plugin::{LockFile, Plugin};
use meta_plugin_host::{Reply, ServiceStatus};
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
/// the caller to show as warnings). Service states come from the running daemon, asked without
/// waiting when none runs. `meta status` reports the same list.
pub(crate) fn list_entries(
    workspace: &meta_workspace::Workspace,
) -> CliResult<(Vec<ListEntry>, Vec<String>)> {
    list_entries_with(workspace, Services::ask(workspace))
}

/// [`list_entries`] with service states already asked (`meta status` reads them from the
/// daemon's one status answer).
pub(crate) fn list_entries_with(
    workspace: &meta_workspace::Workspace,
    services: Services,
) -> CliResult<(Vec<ListEntry>, Vec<String>)> {
    let manager = crate::plugins::manager(workspace);
    let catalog = manager.catalog()?;
    let lock = manager.lock()?;
    let entries = catalog
        .plugins
        .iter()
        .map(|plugin| ListEntry::of(plugin, &lock, &services))
        .collect();
    let mut problems: Vec<String> = catalog.problems.iter().map(ToString::to_string).collect();
    if let Some(why) = services.unknown {
        problems.push(format!(
            "service states are unknown: {why}; they are shown as `stopped`"
        ));
    }
    Ok((entries, problems))
}

/// What the running daemon says about plugin services.
pub(crate) struct Services {
    by_name: BTreeMap<String, ServiceStatus>,
    /// Why the daemon could not be asked, when one runs.
    unknown: Option<String>,
    /// A daemon runs and answered (so a service it does not list is one it does not run).
    answered: bool,
}

/// How long listing waits for a running daemon's answer.
const SERVICES_TIMEOUT: Duration = Duration::from_secs(1);

impl Services {
    /// Asks the running daemon; without one there is nothing to ask and no service runs.
    pub(crate) fn ask(workspace: &meta_workspace::Workspace) -> Self {
        match meta_plugin_host::status(workspace, SERVICES_TIMEOUT) {
            Reply::NoDaemon => Self {
                by_name: BTreeMap::new(),
                unknown: None,
                answered: false,
            },
            Reply::Answer(report) => Self {
                by_name: report.services,
                unknown: None,
                answered: true,
            },
            Reply::NoAnswer(why) => Self {
                by_name: BTreeMap::new(),
                unknown: Some(why),
                answered: false,
            },
        }
    }

    /// From the daemon's own status (whose `components` hold the plugin host's report), so
    /// one question answers both the event system's and the services' state.
    pub(crate) fn from_daemon_status(status: &meta_events::status::DaemonStatus) -> Self {
        let report = status
            .components
            .get(meta_plugin_host::COMPONENT)
            .and_then(|v| serde_json::from_value::<meta_plugin_host::HostStatus>(v.clone()).ok());
        match (status.running, report) {
            (false, _) => Self {
                by_name: BTreeMap::new(),
                unknown: None,
                answered: false,
            },
            (true, Some(report)) => Self {
                by_name: report.services,
                unknown: None,
                answered: true,
            },
            (true, None) => Self {
                by_name: BTreeMap::new(),
                unknown: Some("the daemon runs but did not answer".to_owned()),
                answered: false,
            },
        }
    }

    /// A daemon runs and told its services (none listed then means none run).
    pub(crate) fn answered(&self) -> bool {
        self.answered
    }

    /// Why a running daemon could not be asked, if it could not.
    pub(crate) fn unknown(&self) -> Option<&str> {
        self.unknown.as_deref()
    }

    /// What the daemon says of the service of the plugin `name`, if it holds one.
    pub(crate) fn get(&self, name: &str) -> Option<&ServiceStatus> {
        self.by_name.get(name)
    }

    /// `plugin`'s service as the daemon reports it; `stopped` when it does not run it.
    fn state_of(&self, plugin: &Plugin) -> ServiceState {
        match self.by_name.get(&plugin.name) {
            Some(status) => ServiceState {
                state: status.state.as_str(),
                pid: status.pid,
                restarts: status.restarts,
                reason: status.reason.clone(),
                log: Some(status.log.clone()),
            },
            None => ServiceState {
                state: meta_plugin_host::ServiceState::Stopped.as_str(),
                pid: None,
                restarts: 0,
                reason: None,
                log: None,
            },
        }
    }
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
pub(crate) struct ServiceState {
    /// `running`, `starting`, `stopped` or `failed`.
    state: &'static str,
    pid: Option<u32>,
    restarts: u32,
    /// Why it failed or stopped (shown by `plugin list` and `plugin info`; not in the list's
    /// JSON contract).
    #[serde(skip)]
    reason: Option<String>,
    /// Its log, relative to the root, once the daemon ran it.
    #[serde(skip)]
    log: Option<String>,
}

impl ListEntry {
    /// `running`, `starting`, `stopped` or `failed`; `None` without a service.
    pub(crate) fn service_state(&self) -> Option<&'static str> {
        self.service.as_ref().map(|s| s.state)
    }

    fn of(plugin: &Plugin, lock: &LockFile, services: &Services) -> Self {
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
                .map(|_| services.state_of(plugin)),
        }
    }
}

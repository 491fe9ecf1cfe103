//! The plugin host: the daemon [`Component`] that takes enabled plugins in, runs and supervises
//! their `[service]` processes, and lets them go (DESIGN.md section 4), plus the small client
//! side `meta plugin …` uses to tell a running daemon about changes and to ask for service
//! states.
//!
//! **Picking up changes.** The host reads the catalog (`meta/metarepo.toml`, `meta/plugins/`,
//! `meta/plugins.lock`) at start, when asked (`{"op": "plugins-reload"}`, which `meta plugin
//! install|uninstall|enable|disable|trust` send after each change), and by itself when one of
//! those three paths changes behind its back (a `stat` of each every
//! [`Supervision::check_interval`]: no busy loop). A plugin enabled now and not before is taken
//! in, one no longer enabled (or gone) is let go, and one whose manifest, folder or lock entry
//! changed is let go and taken in again.
//!
//! **Events.** Taking a plugin in emits `core:plugin:loaded` `{name, version, pid}`: at once
//! with `pid: null` for a plugin without a service, and once its service process runs for one
//! with a service. Letting it go, or its service ending for good (stopped by policy, or given
//! up on), emits `core:plugin:unloaded` with the pid of the process that ran (null if none did).
//!
//! **Services.** Before each start the plugin's content is checked against `meta/plugins.lock`
//! (linked plugins and built-ins excepted), on a short-lived thread so hashing never holds up
//! the bus; a mismatch leaves the service `failed` with the re-trust instructions in its status
//! and log. The process gets the plugin environment, the meta-repo root as working folder, no
//! stdin, and its output appended to `.meta/run/plugins/<name>.log`. It leads its own process
//! group: stopping it sends SIGTERM to the group, then SIGKILL after [`Supervision::grace`],
//! and stragglers of a service that exited are killed with it. An exit is noticed by a thread
//! per process that waits without reaping (`waitid(WNOWAIT)`) and wakes the daemon's loop; only
//! the daemon's thread reaps, so no zombie is left and no recycled pid is signalled. Restarts
//! follow the manifest's `restart` policy with exponential backoff; after
//! [`Supervision::give_up_after`] exits in a row, each within [`Supervision::fast_exit`] of
//! starting, the host gives up: the service is `failed` and its status says why, quoting the
//! last line the service wrote.
//!
//! **Dying with the daemon.** When given a [`Launcher`] (the `meta` binary's hidden
//! `daemon exec-service`), services are started through it: it arms the parent-death signal
//! (SIGKILL, Linux) and checks the daemon is still its parent before it `exec`s the service, so
//! the kernel kills the service when the daemon dies, even by `kill -9`. The launcher replaces
//! itself, so the pid the host reports is the service's own.
//!
//! It is not the manager (installing and enabling plugins is `meta-plugin`'s) and prints
//! nothing: diagnostics go through `tracing`, service output to the service logs.

mod process;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use meta_daemon::{Component, ComponentContext, Waker};
use meta_events::Client;
use meta_events::core;
use meta_plugin::{
    BuiltinPlugin, LockEntry, Manager, Plugin, PluginPaths, RestartPolicy, ServiceSpec,
    VerifyError, launch,
};
use meta_workspace::Workspace;
use rustix::process::Signal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::process::Proc;

/// The component's name: its entry under `components` in the daemon's status.
pub const COMPONENT: &str = "plugins";
/// Control op: re-read the plugins and act on changes. Optional `"retry": [names]` restarts
/// those plugins' failed or stopped services.
pub const OP_RELOAD: &str = "plugins-reload";
/// Control op: the host's [`HostStatus`].
pub const OP_STATUS: &str = "plugins-status";
/// Where service logs go, under `.meta/run/`.
pub const LOGS_DIR: &str = "plugins";

/// How services are supervised.
#[derive(Debug, Clone)]
pub struct Supervision {
    /// Between SIGTERM and SIGKILL when a service is stopped.
    pub grace: Duration,
    /// Delay before the first restart; doubled for each further fast exit in a row.
    pub backoff: Duration,
    /// An exit sooner than this after starting counts as a fast exit.
    pub fast_exit: Duration,
    /// Fast exits in a row after which the host stops restarting and marks the service failed.
    pub give_up_after: u32,
    /// How often the host checks the plugin files for changes made behind its back.
    pub check_interval: Duration,
}

impl Default for Supervision {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(5),
            backoff: Duration::from_millis(100),
            fast_exit: Duration::from_secs(10),
            give_up_after: 5,
            check_interval: Duration::from_secs(2),
        }
    }
}

/// Longest delay between restarts, whatever the settings.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A program services are started through. It is run as
/// `PROGRAM ARGS… --parent <daemon pid> -- <service program> <service args…>` and must end by
/// `exec`ing the service (see the crate docs).
#[derive(Debug, Clone)]
pub struct Launcher {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

/// What the host hosts and how.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Plugins compiled into the binary.
    pub builtins: &'static [BuiltinPlugin],
    /// Command names plugins may not take (the manager needs them to load the catalog).
    pub reserved: &'static [&'static str],
    /// Host built-in plugins only (`--no-plugins`).
    pub builtins_only: bool,
    pub launcher: Option<Launcher>,
    pub supervision: Supervision,
}

/// A service's state as `meta plugin list` shows it (DESIGN.md section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceState {
    Running,
    /// About to start: its content is being checked, it waits to be restarted, or it waits
    /// for the previous process of the same plugin to stop.
    Starting,
    Stopped,
    Failed,
}

impl ServiceState {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Running => "running",
            ServiceState::Starting => "starting",
            ServiceState::Stopped => "stopped",
            ServiceState::Failed => "failed",
        }
    }
}

/// One service in the host's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStatus {
    pub state: ServiceState,
    pub pid: Option<u32>,
    /// Restarts since the plugin was taken in.
    pub restarts: u32,
    /// Why it is failed or stopped, or what happened last (`null` when there is nothing to say).
    pub reason: Option<String>,
    /// Its log, relative to the meta-repo root.
    pub log: String,
    /// `[service].subscribe` of its manifest.
    pub subscribe: Vec<String>,
    /// `[service].restart` of its manifest.
    pub restart: String,
}

/// The host's entry in the daemon's status, and the reply to [`OP_STATUS`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStatus {
    /// Plugins the daemon holds (those `core:plugin:loaded` announced), by name.
    pub loaded: Vec<String>,
    /// Every enabled plugin's service, and services still stopping, by plugin name.
    pub services: BTreeMap<String, ServiceStatus>,
    /// Plugins that could not be loaded, in words.
    #[serde(default)]
    pub problems: Vec<String>,
}

/// What a reload did to one plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub name: String,
    pub action: Action,
    /// The service process asked to stop (SIGTERM sent), when one was running.
    #[serde(default)]
    pub stopping: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Taken in (its service, if any, is starting).
    Load,
    /// Let go (its service, if running, is stopping).
    Unload,
    /// Changed: let go and taken in again.
    Restart,
    /// Its failed or stopped service starts again.
    Retry,
}

/// The host itself: add it to a daemon with `Daemon::add_component`.
pub struct PluginHost {
    workspace: Workspace,
    paths: PluginPaths,
    options: HostOptions,
    logs_dir: PathBuf,
    hosted: BTreeMap<String, Hosted>,
    leaving: Vec<Leaving>,
    problems: Vec<String>,
    stamp: Stamp,
    next_check: Instant,
    verified_tx: Sender<Verified>,
    verified_rx: Receiver<Verified>,
    waker: Option<Waker>,
    next_ticket: u64,
    /// Set when a process's exit is not watched by a thread (none could be started): the host
    /// then looks at its children at this time.
    poll_at: Option<Instant>,
}

/// An enabled plugin the host holds.
struct Hosted {
    plugin: Plugin,
    /// Its lock entry when it was taken in: a change means the plugin changed.
    entry: Option<LockEntry>,
    /// `core:plugin:loaded` was emitted and `unloaded` not yet.
    loaded: bool,
    service: Option<Service>,
}

struct Service {
    spec: ServiceSpec,
    log: PathBuf,
    phase: Phase,
    restarts: u32,
    /// Exits in a row that came within `fast_exit` of the start.
    fast_exits: u32,
    reason: Option<String>,
}

enum Phase {
    /// Waits for the previous process of this plugin (being stopped) to exit.
    Queued,
    /// Its content is being checked; `ticket` tells this check's answer from a stale one.
    Verifying {
        ticket: u64,
    },
    Running(Proc),
    /// Waits to be restarted.
    Backoff {
        until: Instant,
    },
    Stopped,
    Failed,
}

/// A plugin let go whose service process has been asked to stop and has not exited yet.
struct Leaving {
    name: String,
    version: String,
    loaded: bool,
    proc: Proc,
    kill_at: Instant,
    killed: bool,
    log: PathBuf,
    why: &'static str,
}

/// A content check's answer, sent back by the checking thread.
struct Verified {
    name: String,
    ticket: u64,
    result: Result<(), String>,
}

impl PluginHost {
    pub fn new(workspace: &Workspace, options: HostOptions) -> Self {
        let (verified_tx, verified_rx) = mpsc::channel();
        let paths = PluginPaths::of(workspace);
        Self {
            logs_dir: workspace.run_dir().join(LOGS_DIR),
            stamp: Stamp::of(&paths),
            next_check: Instant::now() + options.supervision.check_interval,
            workspace: workspace.clone(),
            paths,
            options,
            hosted: BTreeMap::new(),
            leaving: Vec::new(),
            problems: Vec::new(),
            verified_tx,
            verified_rx,
            waker: None,
            next_ticket: 0,
            poll_at: None,
        }
    }

    /// The host's report: what `plugins-status` answers.
    pub fn report(&self) -> HostStatus {
        let mut services = BTreeMap::new();
        for (name, hosted) in &self.hosted {
            let Some(service) = &hosted.service else {
                continue;
            };
            let (state, pid) = match &service.phase {
                Phase::Queued | Phase::Verifying { .. } | Phase::Backoff { .. } => {
                    (ServiceState::Starting, None)
                }
                Phase::Running(proc) => (ServiceState::Running, Some(proc.pid)),
                Phase::Stopped => (ServiceState::Stopped, None),
                Phase::Failed => (ServiceState::Failed, None),
            };
            services.insert(
                name.clone(),
                ServiceStatus {
                    state,
                    pid,
                    restarts: service.restarts,
                    reason: service.reason.clone(),
                    log: self.relative(&service.log),
                    subscribe: service.spec.subscribe.clone(),
                    restart: service.spec.restart.as_str().to_owned(),
                },
            );
        }
        for leaving in &self.leaving {
            services
                .entry(leaving.name.clone())
                .or_insert_with(|| ServiceStatus {
                    state: ServiceState::Running,
                    pid: Some(leaving.proc.pid),
                    restarts: 0,
                    reason: Some(format!("stopping: {}", leaving.why)),
                    log: self.relative(&leaving.log),
                    subscribe: Vec::new(),
                    restart: String::new(),
                });
        }
        HostStatus {
            loaded: self
                .hosted
                .iter()
                .filter(|(_, h)| h.loaded)
                .map(|(name, _)| name.clone())
                .collect(),
            services,
            problems: self.problems.clone(),
        }
    }

    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(self.workspace.root())
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }

    fn manager(&self) -> Manager<'static> {
        Manager::new(
            self.paths.clone(),
            self.options.builtins,
            self.options.reserved,
        )
    }

    /// Re-reads the plugins and acts on what changed.
    fn reload(&mut self, ctx: &mut ComponentContext<'_>, retry: &[String]) -> Vec<Change> {
        self.stamp = Stamp::of(&self.paths);
        self.next_check = Instant::now() + self.options.supervision.check_interval;
        let manager = self.manager();
        // A config or lock being edited may be broken for a moment: keep what runs.
        let catalog = match manager.catalog() {
            Ok(catalog) => catalog,
            Err(error) => {
                tracing::warn!(%error, "cannot read the plugin config; plugins left as they were");
                self.problems = vec![format!("{error}; plugins left as they were")];
                return Vec::new();
            }
        };
        let lock = match manager.lock() {
            Ok(lock) => lock,
            Err(error) => {
                tracing::warn!(%error, "cannot read meta/plugins.lock; plugins left as they were");
                self.problems = vec![format!("{error}; plugins left as they were")];
                return Vec::new();
            }
        };
        self.problems = catalog.problems.iter().map(ToString::to_string).collect();
        let desired: BTreeMap<String, (Plugin, Option<LockEntry>)> = catalog
            .plugins
            .into_iter()
            .filter(|p| p.enabled && (!self.options.builtins_only || p.is_builtin()))
            .map(|p| {
                let entry = lock.plugins.get(&p.name).cloned();
                (p.name.clone(), (p, entry))
            })
            .collect();

        let mut changes = Vec::new();
        let gone: Vec<String> = self
            .hosted
            .keys()
            .filter(|name| !desired.contains_key(*name))
            .cloned()
            .collect();
        for name in gone {
            if let Some(hosted) = self.hosted.remove(&name) {
                let stopping =
                    self.let_go(ctx, &name, hosted, "the plugin was disabled or uninstalled");
                changes.push(Change {
                    name,
                    action: Action::Unload,
                    stopping,
                });
            }
        }
        for (name, (plugin, entry)) in desired {
            let action = match self.hosted.get(&name) {
                None => Action::Load,
                Some(hosted)
                    if hosted.plugin.manifest == plugin.manifest
                        && hosted.plugin.provider == plugin.provider
                        && hosted.entry == entry =>
                {
                    let ended = hosted
                        .service
                        .as_ref()
                        .is_some_and(|s| matches!(s.phase, Phase::Failed | Phase::Stopped));
                    if ended && retry.contains(&name) {
                        Action::Retry
                    } else {
                        continue;
                    }
                }
                Some(_) => Action::Restart,
            };
            let mut stopping = None;
            match action {
                Action::Load => self.take_in(ctx, &name, plugin, entry),
                Action::Restart => {
                    if let Some(old) = self.hosted.remove(&name) {
                        stopping = self.let_go(ctx, &name, old, "the plugin changed");
                    }
                    self.take_in(ctx, &name, plugin, entry);
                }
                Action::Retry => {
                    if let Some(service) =
                        self.hosted.get_mut(&name).and_then(|h| h.service.as_mut())
                    {
                        service.restarts = 0;
                        service.fast_exits = 0;
                        service.reason = None;
                    }
                    self.start(ctx, &name);
                }
                Action::Unload => {}
            }
            changes.push(Change {
                name,
                action,
                stopping,
            });
        }
        changes
    }

    fn take_in(
        &mut self,
        ctx: &mut ComponentContext<'_>,
        name: &str,
        plugin: Plugin,
        entry: Option<LockEntry>,
    ) {
        let service = plugin.manifest.service.clone().map(|spec| Service {
            spec,
            log: self.logs_dir.join(format!("{name}.log")),
            phase: Phase::Queued,
            restarts: 0,
            fast_exits: 0,
            reason: None,
        });
        let has_service = service.is_some();
        let mut hosted = Hosted {
            plugin,
            entry,
            loaded: false,
            service,
        };
        if !has_service {
            ctx.emit(core::plugin_loaded(
                name,
                &hosted.plugin.manifest.version,
                None,
            ));
            hosted.loaded = true;
        }
        tracing::info!(plugin = name, "plugin taken in");
        self.hosted.insert(name.to_owned(), hosted);
        if has_service && !self.leaving.iter().any(|l| l.name == name) {
            self.start(ctx, name);
        }
    }

    /// Lets `hosted` go; returns the pid of its service process when one was asked to stop.
    fn let_go(
        &mut self,
        ctx: &mut ComponentContext<'_>,
        name: &str,
        hosted: Hosted,
        why: &'static str,
    ) -> Option<u32> {
        tracing::info!(plugin = name, why, "plugin let go");
        let version = hosted.plugin.manifest.version;
        let Some(Service {
            phase: Phase::Running(proc),
            log,
            ..
        }) = hosted.service
        else {
            if hosted.loaded {
                ctx.emit(core::plugin_unloaded(name, &version, None));
            }
            return None;
        };
        let pid = proc.pid;
        process::note(&log, &format!("stopping (pid {pid}): {why}"));
        process::signal_group(pid, Signal::TERM);
        self.leaving.push(Leaving {
            name: name.to_owned(),
            version,
            loaded: hosted.loaded,
            proc,
            kill_at: Instant::now() + self.options.supervision.grace,
            killed: false,
            log,
            why,
        });
        Some(pid)
    }

    /// Checks the plugin's content on a thread; [`PluginHost::on_verified`] starts it.
    fn start(&mut self, ctx: &mut ComponentContext<'_>, name: &str) {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let Some(hosted) = self.hosted.get_mut(name) else {
            return;
        };
        let Some(service) = hosted.service.as_mut() else {
            return;
        };
        service.phase = Phase::Verifying { ticket };
        let plugin = hosted.plugin.clone();
        let manager = self.manager();
        let tx = self.verified_tx.clone();
        let waker = self.waker.clone();
        let owned = name.to_owned();
        let spawned = std::thread::Builder::new()
            .name("plugin-verify".into())
            .spawn(move || {
                let result = verify(&manager, &plugin);
                let _ = tx.send(Verified {
                    name: owned,
                    ticket,
                    result,
                });
                if let Some(waker) = waker {
                    waker.wake();
                }
            });
        if spawned.is_err() {
            let result = verify(&self.manager(), &self.hosted[name].plugin);
            self.on_verified(
                ctx,
                Verified {
                    name: name.to_owned(),
                    ticket,
                    result,
                },
            );
        }
    }

    fn on_verified(&mut self, ctx: &mut ComponentContext<'_>, verified: Verified) {
        let Some(hosted) = self.hosted.get_mut(&verified.name) else {
            return;
        };
        let Some(service) = hosted.service.as_mut() else {
            return;
        };
        if !matches!(service.phase, Phase::Verifying { ticket } if ticket == verified.ticket) {
            return;
        }
        if let Err(reason) = verified.result {
            fail(ctx, &verified.name, hosted, reason, None);
            return;
        }
        self.spawn(ctx, &verified.name);
    }

    fn spawn(&mut self, ctx: &mut ComponentContext<'_>, name: &str) {
        let Some(hosted) = self.hosted.get(name) else {
            return;
        };
        let Some(service) = hosted.service.as_ref() else {
            return;
        };
        let spawned = self
            .command(&hosted.plugin, &service.spec.exec)
            .and_then(|command| {
                // Before the process starts, so its first words follow this line.
                process::note(
                    &service.log,
                    &format!("starting: {}", service.spec.exec.join(" ")),
                );
                process::spawn(command, &service.log)
                    .map_err(|e| format!("cannot start `{}`: {e}", service.spec.exec[0]))
            });
        let waker = self.waker.clone();
        let Some(hosted) = self.hosted.get_mut(name) else {
            return;
        };
        match spawned {
            Ok(proc) => {
                let pid = proc.pid;
                let Some(service) = hosted.service.as_mut() else {
                    return;
                };
                tracing::info!(plugin = name, pid, "service started");
                service.phase = Phase::Running(proc);
                let watched = waker.is_some_and(|w| process::watch_exit(pid, w));
                if !watched {
                    self.poll_at = Some(Instant::now() + Duration::from_millis(500));
                }
                if !hosted.loaded {
                    ctx.emit(core::plugin_loaded(
                        name,
                        &hosted.plugin.manifest.version,
                        Some(pid),
                    ));
                    hosted.loaded = true;
                }
            }
            Err(reason) => fail(ctx, name, hosted, reason, None),
        }
    }

    /// The command that runs `exec` for `plugin` as a service, through the launcher if any.
    fn command(&self, plugin: &Plugin, exec: &[String]) -> Result<Command, String> {
        let (program, args) = launch::resolve_exec(plugin, exec, std::env::current_exe)
            .map_err(|e| format!("cannot start the service: {e}"))?;
        let mut command;
        if let Some(launcher) = &self.options.launcher {
            command = Command::new(&launcher.program);
            command
                .args(&launcher.args)
                .arg("--parent")
                .arg(std::process::id().to_string())
                .arg("--")
                .arg(program)
                .args(args);
        } else {
            command = Command::new(program);
            command.args(args);
        }
        command.current_dir(self.workspace.root());
        for (key, value) in launch::environment(&self.workspace, plugin) {
            command.env(key, value);
        }
        Ok(command)
    }

    /// Reaps exited services and acts on each exit.
    fn reap(&mut self, ctx: &mut ComponentContext<'_>) {
        self.poll_at = None;
        let mut exits = Vec::new();
        for (name, hosted) in &mut self.hosted {
            if let Some(Service {
                phase: Phase::Running(proc),
                ..
            }) = &mut hosted.service
            {
                match proc.child.try_wait() {
                    Ok(Some(status)) => exits.push((name.clone(), status)),
                    Ok(None) => {}
                    Err(error) => {
                        tracing::error!(plugin = %name, %error, "cannot check a service's process");
                    }
                }
            }
        }
        for (name, status) in exits {
            self.on_exit(ctx, &name, status);
        }
        let mut freed = Vec::new();
        let mut still = Vec::new();
        for mut leaving in std::mem::take(&mut self.leaving) {
            match leaving.proc.child.try_wait() {
                Ok(Some(status)) => {
                    process::signal_group(leaving.proc.pid, Signal::KILL);
                    process::note(
                        &leaving.log,
                        &format!("stopped: it {}", process::describe(status)),
                    );
                    tracing::info!(plugin = %leaving.name, pid = leaving.proc.pid, "service stopped");
                    if leaving.loaded {
                        ctx.emit(core::plugin_unloaded(
                            &leaving.name,
                            &leaving.version,
                            Some(leaving.proc.pid),
                        ));
                    }
                    freed.push(leaving.name);
                }
                Ok(None) | Err(_) => still.push(leaving),
            }
        }
        self.leaving = still;
        for name in freed {
            let queued = self
                .hosted
                .get(&name)
                .and_then(|h| h.service.as_ref())
                .is_some_and(|s| matches!(s.phase, Phase::Queued));
            if queued && !self.leaving.iter().any(|l| l.name == name) {
                self.start(ctx, &name);
            }
        }
        // Without a watching thread, look again soon.
        let unwatched = self.waker.is_none()
            && (!self.leaving.is_empty()
                || self.hosted.values().any(|h| {
                    h.service
                        .as_ref()
                        .is_some_and(|s| matches!(s.phase, Phase::Running(_)))
                }));
        if unwatched {
            self.poll_at = Some(Instant::now() + Duration::from_millis(500));
        }
    }

    fn on_exit(&mut self, ctx: &mut ComponentContext<'_>, name: &str, status: ExitStatus) {
        let supervision = self.options.supervision.clone();
        let Some(hosted) = self.hosted.get_mut(name) else {
            return;
        };
        let Some(service) = hosted.service.as_mut() else {
            return;
        };
        let Phase::Running(proc) = std::mem::replace(&mut service.phase, Phase::Stopped) else {
            return;
        };
        // Whatever the service left running in its group goes with it.
        process::signal_group(proc.pid, Signal::KILL);
        let ran = proc.started.elapsed();
        let what = process::describe(status);
        tracing::info!(plugin = name, pid = proc.pid, status = %what, ran_ms = ran.as_millis(), "service exited");
        if ran < supervision.fast_exit {
            service.fast_exits += 1;
        } else {
            service.fast_exits = 0;
        }
        let restart = match service.spec.restart {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => !status.success(),
            RestartPolicy::Never => false,
        };
        let said = process::last_output(&service.log)
            .map(|line| format!("; its last output: {line}"))
            .unwrap_or_default();
        if restart && service.fast_exits < supervision.give_up_after {
            let delay = backoff(&supervision, service.fast_exits);
            process::note(
                &service.log,
                &format!(
                    "it (pid {}) {what} after {:.1} s; restarting in {:.1} s",
                    proc.pid,
                    ran.as_secs_f64(),
                    delay.as_secs_f64()
                ),
            );
            service.reason = Some(format!("it {what}{said}; restarted"));
            service.phase = Phase::Backoff {
                until: Instant::now() + delay,
            };
            return;
        }
        if restart {
            let reason = format!(
                "it {what} {} times in a row, each within {} s of starting; gave up{said}. Fix it, then `meta plugin enable {name}` starts it again",
                service.fast_exits,
                supervision.fast_exit.as_secs()
            );
            fail(ctx, name, hosted, reason, Some(proc.pid));
        } else if status.success() {
            let reason = format!("it {what}");
            process::note(&service.log, &reason);
            service.reason = Some(reason);
            service.phase = Phase::Stopped;
            unload(ctx, name, hosted, Some(proc.pid));
        } else {
            let reason = format!(
                "it {what}{said}; not restarted (restart = \"{}\")",
                service.spec.restart.as_str()
            );
            fail(ctx, name, hosted, reason, Some(proc.pid));
        }
    }

    /// Stops every service (SIGTERM, SIGKILL after the grace period) and waits for them.
    fn stop_all(&mut self, ctx: &mut ComponentContext<'_>) {
        let names: Vec<String> = self.hosted.keys().cloned().collect();
        for name in names {
            if let Some(hosted) = self.hosted.remove(&name) {
                let _ = self.let_go(ctx, &name, hosted, "the daemon is stopping");
            }
        }
        let started = Instant::now();
        let mut killed = false;
        while !self.leaving.is_empty() {
            self.reap(ctx);
            if self.leaving.is_empty() {
                break;
            }
            let waited = started.elapsed();
            if !killed && waited >= self.options.supervision.grace {
                for leaving in &mut self.leaving {
                    process::note(
                        &leaving.log,
                        "still running after the grace period; killing it",
                    );
                    process::signal_group(leaving.proc.pid, Signal::KILL);
                    leaving.killed = true;
                }
                killed = true;
            }
            if waited >= self.options.supervision.grace + Duration::from_secs(5) {
                for leaving in &self.leaving {
                    tracing::error!(plugin = %leaving.name, pid = leaving.proc.pid, "service did not die after SIGKILL");
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Marks the service failed for `reason` (also written to its log) and lets the plugin go.
fn fail(
    ctx: &mut ComponentContext<'_>,
    name: &str,
    hosted: &mut Hosted,
    reason: String,
    pid: Option<u32>,
) {
    tracing::warn!(plugin = name, %reason, "service failed");
    if let Some(service) = hosted.service.as_mut() {
        process::note(&service.log, &reason);
        service.reason = Some(reason);
        service.phase = Phase::Failed;
    }
    unload(ctx, name, hosted, pid);
}

fn unload(ctx: &mut ComponentContext<'_>, name: &str, hosted: &mut Hosted, pid: Option<u32>) {
    if hosted.loaded {
        ctx.emit(core::plugin_unloaded(
            name,
            &hosted.plugin.manifest.version,
            pid,
        ));
        hosted.loaded = false;
    }
}

/// The delay before restarting after `fast_exits` fast exits in a row.
fn backoff(supervision: &Supervision, fast_exits: u32) -> Duration {
    let doublings = fast_exits.saturating_sub(1).min(16);
    supervision
        .backoff
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF)
}

/// Checks `plugin`'s content; the error is the sentence its status and log show.
fn verify(manager: &Manager<'_>, plugin: &Plugin) -> Result<(), String> {
    let lock = manager
        .lock()
        .map_err(|e| format!("cannot check the plugin's content: {e}"))?;
    let name = &plugin.name;
    match manager.verify(plugin, &lock) {
        Ok(_) => Ok(()),
        Err(VerifyError::Modified {
            recorded,
            actual,
            entry,
            ..
        }) => Err(format!(
            "plugin `{name}` changed since it was installed (its content hash is {actual}, but meta/plugins.lock records {recorded}); its service was not started. If you made or reviewed the change, trust it: `meta plugin trust {name}`; to restore what was installed instead: {}",
            entry.reinstall_command()
        )),
        Err(error @ VerifyError::NotRecorded { .. }) => Err(format!(
            "{error}; its service was not started. If you know where it came from and trust it: `meta plugin trust {name}`"
        )),
        Err(error @ VerifyError::Hash { .. }) => Err(format!(
            "{error}: {}; its service was not started",
            std::error::Error::source(&error).map_or_else(String::new, ToString::to_string)
        )),
        Err(error) => Err(format!("{error}; its service was not started")),
    }
}

impl Component for PluginHost {
    fn name(&self) -> &str {
        COMPONENT
    }

    fn start(&mut self, ctx: &mut ComponentContext<'_>) -> Result<(), String> {
        self.waker = Some(ctx.waker());
        let changes = self.reload(ctx, &[]);
        tracing::info!(plugins = changes.len(), "plugin host started");
        Ok(())
    }

    fn ops(&self) -> &[&str] {
        &[OP_RELOAD, OP_STATUS]
    }

    fn handle(
        &mut self,
        op: &str,
        request: &Value,
        ctx: &mut ComponentContext<'_>,
    ) -> Result<Value, String> {
        match op {
            OP_RELOAD => {
                let retry: Vec<String> = match request.get("retry") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(names)) => names
                        .iter()
                        .map(|n| {
                            n.as_str()
                                .map(str::to_owned)
                                .ok_or("`retry` holds plugin names (strings)")
                        })
                        .collect::<Result<_, _>>()?,
                    Some(_) => return Err("`retry` is a list of plugin names".into()),
                };
                let changes = self.reload(ctx, &retry);
                Ok(json!({ "changes": changes }))
            }
            OP_STATUS => serde_json::to_value(self.report()).map_err(|e| e.to_string()),
            _ => Err(format!("`{op}` is not an op of the plugin host")),
        }
    }

    fn status(&self) -> Value {
        serde_json::to_value(self.report()).unwrap_or(Value::Null)
    }

    fn deadline(&self) -> Option<Instant> {
        let backoffs = self
            .hosted
            .values()
            .filter_map(|h| match h.service.as_ref()?.phase {
                Phase::Backoff { until } => Some(until),
                _ => None,
            });
        let kills = self.leaving.iter().filter(|l| !l.killed).map(|l| l.kill_at);
        backoffs
            .chain(kills)
            .chain(self.poll_at)
            .chain(std::iter::once(self.next_check))
            .min()
    }

    fn tick(&mut self, ctx: &mut ComponentContext<'_>) {
        while let Ok(verified) = self.verified_rx.try_recv() {
            self.on_verified(ctx, verified);
        }
        self.reap(ctx);
        let now = Instant::now();
        for leaving in &mut self.leaving {
            if !leaving.killed && now >= leaving.kill_at {
                process::note(
                    &leaving.log,
                    &format!(
                        "still running {} s after SIGTERM; killing it",
                        self.options.supervision.grace.as_secs()
                    ),
                );
                process::signal_group(leaving.proc.pid, Signal::KILL);
                leaving.killed = true;
            }
        }
        let due: Vec<String> = self
            .hosted
            .iter()
            .filter(|(_, h)| {
                h.service
                    .as_ref()
                    .is_some_and(|s| matches!(s.phase, Phase::Backoff { until } if until <= now))
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            if let Some(service) = self.hosted.get_mut(&name).and_then(|h| h.service.as_mut()) {
                service.restarts += 1;
            }
            self.start(ctx, &name);
        }
        if now >= self.next_check {
            self.next_check = now + self.options.supervision.check_interval;
            if Stamp::of(&self.paths) != self.stamp {
                tracing::info!("plugin files changed; reloading");
                self.reload(ctx, &[]);
            }
        }
    }

    fn stop(&mut self, ctx: &mut ComponentContext<'_>) {
        self.stop_all(ctx);
    }
}

/// When the files that say which plugins exist last changed: `meta/metarepo.toml`,
/// `meta/plugins.lock` and the `meta/plugins/` folder (modification time, size, inode).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp(Vec<Option<(i64, i64, u64, u64)>>);

impl Stamp {
    fn of(paths: &PluginPaths) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self(
            [&paths.config, &paths.lock, &paths.plugins_dir]
                .iter()
                .map(|path| {
                    std::fs::metadata(path)
                        .ok()
                        .map(|m| (m.mtime(), m.mtime_nsec(), m.size(), m.ino()))
                })
                .collect(),
        )
    }
}

/// What a client got from the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply<T> {
    /// No daemon runs for this meta-repo.
    NoDaemon,
    Answer(T),
    /// A daemon runs but did not answer (in time, or at all): why, in words.
    NoAnswer(String),
}

/// Asks the running daemon, if any, for its plugin host's status. Never waits without a
/// daemon; with one, at most `timeout`.
pub fn status(workspace: &Workspace, timeout: Duration) -> Reply<HostStatus> {
    ask(workspace, &json!({ "op": OP_STATUS }), timeout)
}

/// Tells the running daemon, if any, to re-read the plugins (restarting the failed services of
/// `retry`), and returns what it did.
pub fn reload(workspace: &Workspace, retry: &[&str], timeout: Duration) -> Reply<Vec<Change>> {
    #[derive(Deserialize)]
    struct Changes {
        changes: Vec<Change>,
    }
    match ask::<Changes>(
        workspace,
        &json!({ "op": OP_RELOAD, "retry": retry }),
        timeout,
    ) {
        Reply::Answer(reply) => Reply::Answer(reply.changes),
        Reply::NoDaemon => Reply::NoDaemon,
        Reply::NoAnswer(why) => Reply::NoAnswer(why),
    }
}

fn ask<T: serde::de::DeserializeOwned>(
    workspace: &Workspace,
    request: &Value,
    timeout: Duration,
) -> Reply<T> {
    if !meta_events::lock::daemon_running(&workspace.run_dir()) {
        return Reply::NoDaemon;
    }
    match Client::for_workspace(workspace).request(request, timeout) {
        Ok(Some(value)) => match serde_json::from_value(value) {
            Ok(reply) => Reply::Answer(reply),
            Err(error) => {
                Reply::NoAnswer(format!("the daemon's answer is not understood: {error}"))
            }
        },
        Ok(None) => Reply::NoAnswer(format!(
            "the daemon did not answer within {:.1} s",
            timeout.as_secs_f64()
        )),
        Err(error) => Reply::NoAnswer(error.to_string()),
    }
}

/// Waits until the running daemon no longer runs a service for `name` (or `timeout` passes,
/// or no daemon answers). Returns true when it is gone.
pub fn wait_until_stopped(workspace: &Workspace, name: &str, timeout: Duration) -> bool {
    let started = Instant::now();
    loop {
        match status(workspace, Duration::from_secs(2)) {
            Reply::NoDaemon => return true,
            Reply::NoAnswer(_) => return false,
            Reply::Answer(report) => {
                let running = report
                    .services
                    .get(name)
                    .is_some_and(|s| s.pid.is_some() || s.state == ServiceState::Starting);
                if !running {
                    return true;
                }
            }
        }
        if started.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let s = Supervision::default();
        assert_eq!(backoff(&s, 0), Duration::from_millis(100));
        assert_eq!(backoff(&s, 1), Duration::from_millis(100));
        assert_eq!(backoff(&s, 2), Duration::from_millis(200));
        assert_eq!(backoff(&s, 4), Duration::from_millis(800));
        assert_eq!(backoff(&s, 40), MAX_BACKOFF);
    }

    #[test]
    fn status_round_trips_as_json() {
        let mut status = HostStatus::default();
        status.loaded.push("hello".into());
        status.services.insert(
            "hello".into(),
            ServiceStatus {
                state: ServiceState::Failed,
                pid: None,
                restarts: 4,
                reason: Some("gave up".into()),
                log: ".meta/run/plugins/hello.log".into(),
                subscribe: vec!["hello:".into()],
                restart: "on-failure".into(),
            },
        );
        let value = serde_json::to_value(&status).unwrap();
        assert_eq!(value["services"]["hello"]["state"], "failed");
        let back: HostStatus = serde_json::from_value(value).unwrap();
        assert_eq!(back, status);
    }

    #[test]
    fn stamps_change_with_the_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("meta")).unwrap();
        std::fs::write(
            dir.path().join("meta/metarepo.toml"),
            "[metarepo]\nname = \"t\"\n",
        )
        .unwrap();
        let workspace = Workspace::open(dir.path()).unwrap();
        let paths = PluginPaths::of(&workspace);
        let before = Stamp::of(&paths);
        assert_eq!(before, Stamp::of(&paths));
        std::fs::create_dir_all(&paths.plugins_dir).unwrap();
        let after = Stamp::of(&paths);
        assert_ne!(before, after);
        std::fs::write(&paths.lock, "version = 1\n").unwrap();
        assert_ne!(after, Stamp::of(&paths));
    }
}

//! The CLI's side of plugins: which built-in plugins exist, which command names plugins may not
//! take, and running a plugin command in the foreground.

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::LazyLock;
use std::time::Duration;

use meta_events::Event;
use meta_plugin::{BuiltinPlugin, Manager, PluginPaths};
use meta_plugin_host::{Action, Change, Reply};
use meta_workspace::Workspace;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::registry::PluginCommand;

/// Plugins compiled into `meta`, listed here and nowhere else so the CLI and `meta daemon run`
/// (the same binary) agree on them: `watch`, the file watcher (a service publishing
/// `core:file:*`; see `watch_service.rs`) and `bridge`, the NATS JetStream bridge (a service
/// running `meta-bridge`; see `commands/bridge/`). A meta-repo has the bridge only while
/// `[bridge] enabled = true`: one that does not share its events has no bridge to list, enable,
/// run or check, and the daemon takes a change of that key in at its next reload.
pub static BUILTIN_PLUGINS: &[BuiltinPlugin] = &[
    BuiltinPlugin::always(crate::watch_service::MANIFEST),
    BuiltinPlugin {
        manifest: crate::commands::bridge::MANIFEST,
        present: |config| config.bridge.enabled,
    },
];

/// The command surface of DESIGN.md section 2. Plugins may not take these names even before the
/// command lands here, so no plugin is installed today that a later `meta` would shadow.
const CONTRACT_COMMANDS: &[&str] = &[
    "init",
    "new",
    "status",
    "health",
    "plugin",
    "events",
    "daemon",
    "completions",
    "project",
    "sync",
    "exec",
    "help",
];

/// Every name a plugin command (or plugin) may not take.
pub static RESERVED: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut names: Vec<&'static str> = crate::commands::BUILTINS.iter().map(|b| b.name).collect();
    for name in CONTRACT_COMMANDS {
        if !names.contains(name) {
            names.push(name);
        }
    }
    names
});

/// The plugin manager of `workspace`, with this binary's built-ins and reserved names.
pub fn manager(workspace: &Workspace) -> Manager<'static> {
    Manager::new(
        PluginPaths::of(workspace),
        BUILTIN_PLUGINS,
        RESERVED.as_slice(),
    )
}

/// How long a plugin command waits for the running daemon to take a change in.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(5);

/// Logs the event of a plugin change (through the daemon when one runs, else directly). The
/// change is made by then, so a failure here is a warning, not an error.
pub fn announce(ctx: &Ctx<'_>, workspace: &Workspace, event: Event) {
    let ty = event.ty().to_owned();
    if let Err(error) = meta_events::emit(workspace, event) {
        ctx.ui.warn(format!(
            "the change is made, but its `{ty}` event was not logged: {error}"
        ));
    }
}

/// Tells the running daemon, if any, to take a plugin change in now (it would notice by itself
/// within seconds); `retry` names plugins whose failed service should start again. Returns what
/// the daemon did, or `None` without a daemon.
pub fn tell_daemon(ctx: &Ctx<'_>, workspace: &Workspace, retry: &[&str]) -> Option<Vec<Change>> {
    match meta_plugin_host::reload(workspace, retry, RELOAD_TIMEOUT) {
        Reply::NoDaemon => None,
        Reply::Answer(changes) => Some(changes),
        Reply::NoAnswer(why) => {
            ctx.ui.warn(format!(
                "the running daemon was not told about the change ({why}); it notices by itself within a few seconds"
            ));
            None
        }
    }
}

/// After a plugin was let go by the daemon: waits for its service, if one is running, to stop
/// (SIGTERM, then SIGKILL after the grace period), and says so.
pub fn await_service_stop(ctx: &Ctx<'_>, workspace: &Workspace, name: &str, changes: &[Change]) {
    let stopping = changes
        .iter()
        .any(|c| c.name == name && c.action == Action::Unload && c.stopping.is_some());
    if !stopping {
        return;
    }
    let grace = meta_plugin_host::Supervision::default().grace;
    if meta_plugin_host::wait_until_stopped(workspace, name, grace + Duration::from_secs(3)) {
        ctx.ui.note("  service: stopped by the daemon");
    } else {
        ctx.ui.warn(format!(
            "the service of `{name}` is still stopping; `meta plugin list` shows when it is gone"
        ));
    }
}

/// `.meta/run/plugins/<name>.log` and its rotated predecessor.
pub fn remove_service_logs(workspace: &Workspace, name: &str) {
    let dir = workspace.run_dir().join(meta_plugin_host::LOGS_DIR);
    for file in [format!("{name}.log"), format!("{name}.log.1")] {
        let _ = std::fs::remove_file(dir.join(file));
    }
    // Leave no empty folder behind; fails harmlessly while other logs are there.
    let _ = std::fs::remove_dir(dir);
}

/// Runs a plugin command with `args` after checking its content against `meta/plugins.lock`,
/// the terminal inherited; its exit code becomes `meta`'s (128 + n when a signal ended it).
pub fn run_command(ctx: &mut Ctx<'_>, entry: &PluginCommand, args: Vec<OsString>) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let manager = manager(&workspace);
    let lock = manager.lock()?;
    manager.verify(&entry.plugin, &lock)?;
    let mut command =
        meta_plugin::launch::command(&workspace, &entry.plugin, &entry.command.exec, args)
            .map_err(|e| CliError::from_error(&e))?;
    let program = command.get_program().to_string_lossy().into_owned();
    let status = foreground::run(&mut command)
        .map_err(|error| spawn_error(&entry.plugin.name, &entry.command.name, &program, &error))?;
    Ok(exit_code(status))
}

fn spawn_error(plugin: &str, command: &str, program: &str, error: &std::io::Error) -> CliError {
    let manifest = format!("meta/plugins/{plugin}/{}", meta_plugin::MANIFEST_FILE);
    let base = CliError::context(
        format!("cannot run `{program}` for command `{command}` of plugin `{plugin}`"),
        error,
    );
    match error.kind() {
        std::io::ErrorKind::NotFound => base.with_hint(format!(
            "install `{program}`, or fix `exec` in {manifest}"
        )),
        std::io::ErrorKind::PermissionDenied => base.with_hint(format!(
            "make it executable (`chmod +x`), or run it through an interpreter in `exec` in {manifest}"
        )),
        _ => base.with_hint(format!("check `exec` in {manifest}")),
    }
}

fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    };
    ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX))
}

/// Running a child that owns the terminal while `meta` waits.
mod foreground {
    use std::process::{Command, ExitStatus};

    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    use signal_hook::iterator::Signals;

    /// Spawns `command` and waits for it. Meanwhile `meta` does not die of the terminal's
    /// signals: Ctrl-C and Ctrl-\ reach the child from the terminal itself and the child decides
    /// (like a shell does), while a SIGTERM or SIGHUP sent to `meta` alone is passed on.
    pub fn run(command: &mut Command) -> std::io::Result<ExitStatus> {
        let mut signals = Signals::new([SIGINT, SIGQUIT, SIGTERM, SIGHUP])?;
        let mut child = command.spawn()?;
        let pid = rustix::process::Pid::from_child(&child);
        let handle = signals.handle();
        let forwarder = std::thread::spawn(move || {
            for signal in signals.forever() {
                if matches!(signal, SIGTERM | SIGHUP)
                    && let Some(signal) = rustix::process::Signal::from_named_raw(signal)
                {
                    let _ = rustix::process::kill_process(pid, signal);
                }
            }
        });
        let status = child.wait();
        handle.close();
        let _ = forwarder.join();
        status
    }
}

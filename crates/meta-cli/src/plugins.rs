//! The CLI's side of plugins: which built-in plugins exist, which command names plugins may not
//! take, and running a plugin command in the foreground.

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::LazyLock;

use meta_plugin::{BuiltinPlugin, Manager, PluginPaths};
use meta_workspace::Workspace;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::registry::PluginCommand;

/// Plugins compiled into `meta`. Empty for now: the file watcher service joins when the watcher
/// and the daemon land; it is listed here and nowhere else, so the CLI and `meta daemon run`
/// (the same binary) agree on it.
pub static BUILTIN_PLUGINS: &[BuiltinPlugin] = &[];

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

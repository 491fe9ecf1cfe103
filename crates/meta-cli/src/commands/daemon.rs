//! `meta daemon start|stop|status|run`: the bus daemon of this meta-repo.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use meta_daemon::{Daemon, DaemonOptions};
use meta_events::Client;
use meta_events::lock;
use meta_events::status::{self, DaemonStatus};
use meta_plugin_host::{HostOptions, HostStatus, Launcher, PluginHost, Supervision};
use meta_workspace::Workspace;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::plugins::{BUILTIN_PLUGINS, RESERVED};
use crate::ui::styles;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: DaemonCommand,
}

#[derive(clap::Subcommand, Debug)]
enum DaemonCommand {
    /// Start the daemon in the background; returns once its sockets answer.
    Start {
        #[command(flatten)]
        log: LogArgs,
    },
    /// Stop the daemon gracefully (logs `core:system:shutdown`, flushes the log).
    Stop,
    /// Show whether the daemon runs, where it listens, and its counters.
    Status {
        /// Print JSON: {"running", "pid", "uptime_s", "endpoints", "counters", "log"}.
        #[arg(long)]
        json: bool,
    },
    /// Run the daemon in the foreground (Ctrl-C stops it).
    Run {
        #[command(flatten)]
        log: LogArgs,
    },
    /// The service of the built-in `watch` plugin (internal): publishes file changes.
    #[command(hide = true)]
    Watch,
    /// Start a plugin service for the daemon (internal): ties it to the daemon's life, then
    /// becomes it.
    #[command(hide = true)]
    ExecService {
        /// The daemon's pid: the service must not outlive it.
        #[arg(long, value_name = "PID")]
        parent: u32,
        /// The service's program and arguments.
        #[arg(required = true, last = true, value_parser = clap::value_parser!(OsString))]
        argv: Vec<OsString>,
    },
}

#[derive(clap::Args, Debug, Clone, Copy)]
struct LogArgs {
    /// What the daemon writes to `.meta/run/daemon.log`: error, warn, info (default), debug or
    /// trace (`-v` and `-vv` also raise it).
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    log_level: Option<tracing::Level>,
}

fn parse_level(text: &str) -> Result<tracing::Level, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a log level; use error, warn, info, debug or trace"))
}

/// How long `start` waits for the new daemon to answer, and `stop` for it to exit.
const START_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Where a daemon started in the background writes what it says before its log is set up.
const STDERR_FILE: &str = "daemon.stderr";
/// The daemon's own diagnostics.
pub const LOG_FILE: &str = "daemon.log";

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    match args.command {
        DaemonCommand::ExecService { parent, argv } => return exec_service(parent, &argv),
        DaemonCommand::Watch => return crate::watch_service::run(ctx),
        _ => {}
    }
    let workspace = ctx.workspace()?.clone();
    match args.command {
        DaemonCommand::Start { log } => start(ctx, &workspace, log),
        DaemonCommand::Stop => stop(ctx, &workspace),
        DaemonCommand::Status { json } => show_status(ctx, &workspace, json),
        DaemonCommand::Run { log } => run_foreground(ctx, &workspace, log),
        DaemonCommand::ExecService { .. } | DaemonCommand::Watch => Ok(ExitCode::SUCCESS),
    }
}

/// The launcher the plugin host starts services through: arms the parent-death signal so the
/// kernel kills the service when the daemon dies (even by `kill -9`), checks that the daemon
/// did not die before that, then replaces itself with the service (same pid). What it says
/// goes to the service's log.
fn exec_service(parent: u32, argv: &[OsString]) -> CliResult {
    use std::os::unix::process::CommandExt;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL)).map_err(
        |e| {
            CliError::new(format!(
                "cannot tie the service to the daemon's life (prctl): {e}"
            ))
        },
    )?;
    let ppid = rustix::process::Pid::as_raw(rustix::process::getppid());
    if i64::from(ppid) != i64::from(parent) {
        return Err(CliError::new(format!(
            "the daemon (pid {parent}) that started this service is gone; not starting it"
        )));
    }
    let Some((program, rest)) = argv.split_first() else {
        return Err(CliError::usage("no service program given"));
    };
    let error = Command::new(program).args(rest).exec();
    Err(service_exec_error(&program.to_string_lossy(), &error))
}

/// Why a service's program did not start, and what to do, on one short line: the plugin host
/// quotes a service's last line of output (up to 200 characters) when it gives up on it.
fn service_exec_error(program: &str, error: &std::io::Error) -> CliError {
    let plugin = std::env::var(meta_workspace::env::META_PLUGIN_NAME).unwrap_or_default();
    let field = format!(
        "`[service].exec` in meta/plugins/{plugin}/{}",
        meta_plugin::MANIFEST_FILE
    );
    let advice = match error.kind() {
        std::io::ErrorKind::NotFound => format!("not found; install it or fix {field}"),
        std::io::ErrorKind::PermissionDenied => {
            format!("not executable; `chmod +x` it or name an interpreter in {field}")
        }
        _ => format!("{}; check {field}", crate::error::describe_io(error)),
    };
    CliError::new(format!("cannot start `{program}`: {advice}"))
}

fn already_running(run_dir: &Path) -> CliError {
    let pid = meta_events::state::read(run_dir).map(|s| s.pid);
    CliError::new(format!(
        "a daemon already runs for this meta-repo{}",
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    ))
    .with_hint("`meta daemon status` shows it; `meta daemon stop` stops it")
}

fn start(ctx: &mut Ctx<'_>, workspace: &Workspace, log: LogArgs) -> CliResult {
    let run_dir = workspace.run_dir();
    if lock::daemon_running(&run_dir) {
        return Err(already_running(&run_dir));
    }
    fs_err::create_dir_all(&run_dir).map_err(|e| {
        CliError::context(
            "cannot start the daemon: its run folder is not writable",
            &e,
        )
        .with_hint("check the permissions of `.meta/` in the meta-repo")
    })?;
    let stderr_path = run_dir.join(STDERR_FILE);
    let stderr = fs_err::File::create(&stderr_path).map_err(|e| {
        CliError::context(
            "cannot start the daemon: its run folder is not writable",
            &e,
        )
        .with_hint("check the permissions of `.meta/run` in the meta-repo")
    })?;
    let exe = std::env::current_exe()
        .map_err(|e| CliError::context("cannot find the `meta` executable to run", &e))?;
    let mut command = Command::new(exe);
    command.arg("-C").arg(workspace.root());
    if ctx.plugins_off() {
        // The daemon then hosts built-in plugins only, as asked.
        command.arg("--no-plugins");
    }
    command.args(["daemon", "run"]);
    if let Some(level) = log.log_level.or(verbosity_level(ctx.globals.verbose)) {
        command.args(["--log-level", level.as_str()]);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr.into_parts().0));
    // Its own process group: a Ctrl-C meant for the shell that started it does not stop it.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| CliError::context("cannot start the daemon process", &e))?;
    let client = Client::for_workspace(workspace);
    let started = Instant::now();
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| CliError::context("cannot watch the daemon process", &e))?
        {
            let said = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            let mut error =
                CliError::new(format!("the daemon stopped before it answered ({status})"));
            for line in said.lines().filter(|l| !l.trim().is_empty()) {
                let line = line
                    .trim_start_matches("error: ")
                    .trim_start()
                    .trim_start_matches("caused by: ")
                    .trim_start_matches("hint: ");
                error = error.with_cause(line.to_owned());
            }
            return Err(error.with_hint(format!(
                "details may be in `{}`",
                run_dir.join(LOG_FILE).display()
            )));
        }
        if client.ping(Duration::from_millis(200))? {
            break;
        }
        if started.elapsed() > START_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(CliError::new(format!(
                "the daemon did not answer within {}s; stopped it",
                START_TIMEOUT.as_secs()
            ))
            .with_hint(format!(
                "see `{}` for what it was doing",
                run_dir.join(LOG_FILE).display()
            )));
        }
    }
    ctx.ui.note(format!(
        "{} the daemon (pid {})",
        ctx.ui.paint_err(styles::OK, "started"),
        child.id()
    ));
    Ok(ExitCode::SUCCESS)
}

fn stop(ctx: &mut Ctx<'_>, workspace: &Workspace) -> CliResult {
    let run_dir = workspace.run_dir();
    if !lock::daemon_running(&run_dir) {
        ctx.ui.note("no daemon runs for this meta-repo");
        return Ok(ExitCode::SUCCESS);
    }
    let pid = meta_events::state::read(&run_dir).map(|s| s.pid);
    let client = Client::for_workspace(workspace);
    let asked = client.stop(Duration::from_secs(3))?;
    if !asked {
        // Not answering: ask the way a service manager would.
        if let Some(pid) = pid.and_then(|p| rustix::process::Pid::from_raw(p.cast_signed())) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
    }
    let started = Instant::now();
    while lock::daemon_running(&run_dir) {
        if started.elapsed() > STOP_TIMEOUT {
            return Err(CliError::new(format!(
                "the daemon{} did not stop within {}s",
                pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
                STOP_TIMEOUT.as_secs()
            ))
            .with_hint(
                "it may be stuck: `kill -9` its pid; the log is repaired on the next start",
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    ctx.ui.note("daemon stopped");
    Ok(ExitCode::SUCCESS)
}

fn show_status(ctx: &mut Ctx<'_>, workspace: &Workspace, json: bool) -> CliResult {
    let report = status::daemon_status(workspace, status::STATUS_TIMEOUT)?;
    // The bridge (DESIGN.md section 11), when it is on: its service reports through its files.
    let bridge = if workspace.config().bridge.enabled {
        Some(super::bridge::BridgeReport::with_log(
            workspace,
            Some(&report.log),
        )?)
    } else {
        None
    };
    if json {
        let mut value = serde_json::to_value(&report).unwrap_or_default();
        if let (Some(bridge), serde_json::Value::Object(map)) = (&bridge, &mut value) {
            map.insert(
                "bridge".into(),
                serde_json::to_value(bridge).unwrap_or_default(),
            );
        }
        ctx.ui.print_json(&value)?;
        return Ok(ExitCode::SUCCESS);
    }
    ctx.ui.print(render_status(ctx, &report))?;
    if let Some(bridge) = &bridge {
        ctx.ui.print(bridge.one_line(ctx))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn render_status(ctx: &Ctx<'_>, report: &DaemonStatus) -> String {
    use std::fmt::Write as _;
    let ui = &ctx.ui;
    let mut text = String::new();
    if report.running {
        let _ = write!(text, "daemon:      {}", ui.paint(styles::OK, "running"));
        if let Some(pid) = report.pid {
            let _ = write!(text, " (pid {pid}");
            if let Some(up) = report.uptime_s {
                let _ = write!(text, ", up {}", human_duration(up));
            }
            text.push(')');
        }
        text.push('\n');
    } else {
        let _ = writeln!(text, "daemon:      {}", ui.paint(styles::DIM, "stopped"));
    }
    let _ = writeln!(text, "ingest:      {}", report.endpoints.ingest);
    let _ = writeln!(text, "events:      {}", report.endpoints.events);
    let _ = writeln!(text, "control:     {}", report.endpoints.control);
    if let Some(tcp) = &report.tcp {
        let _ = writeln!(
            text,
            "tcp:         {} / {} / {}",
            tcp.ingest, tcp.events, tcp.control
        );
    }
    if let Some(counters) = &report.counters {
        let _ = writeln!(
            text,
            "counters:    {} published, {} rejected, {} subscriber{}",
            counters.published,
            counters.rejected,
            counters.subscribers,
            if counters.subscribers == 1 { "" } else { "s" }
        );
        let held = &counters.connections;
        let _ = writeln!(
            text,
            "connections: {} publishing, {} subscribed, {} control (limits {} and {} control)",
            held.ingest, held.events, held.control, held.limit, held.control_limit
        );
        let refused = &counters.refused;
        if refused.total() > 0 || counters.dropped > 0 {
            let _ = writeln!(
                text,
                "refused:     {} connections over a limit, {} handshakes, {} malformed, {} \
                 oversized, {} over subscription limits, {} heartbeat timeouts; {} events \
                 dropped for slow subscribers",
                refused.connections,
                refused.handshakes,
                refused.malformed,
                refused.oversized,
                refused.subscriptions,
                refused.heartbeat_timeouts,
                counters.dropped
            );
        }
    }
    let _ = writeln!(
        text,
        "log:         {} segment{}, {} bytes, last sequence {}",
        report.log.segments,
        if report.log.segments == 1 { "" } else { "s" },
        report.log.bytes,
        report
            .log
            .last_sequence
            .as_deref()
            .map_or("none", |s| s.trim_start_matches('0'))
    );
    if let Some(host) = report
        .components
        .get(meta_plugin_host::COMPONENT)
        .and_then(|value| serde_json::from_value::<HostStatus>(value.clone()).ok())
    {
        let _ = writeln!(
            text,
            "plugins:     {} loaded{}",
            host.loaded.len(),
            if host.loaded.is_empty() {
                String::new()
            } else {
                format!(" ({})", host.loaded.join(", "))
            }
        );
        for (name, service) in &host.services {
            let mut line = format!("  {name}: {}", service.state.as_str());
            if let Some(pid) = service.pid {
                let _ = write!(line, " (pid {pid})");
            }
            if service.restarts > 0 {
                let _ = write!(line, ", {} restarts", service.restarts);
            }
            if let Some(reason) = &service.reason {
                let _ = write!(line, ": {reason}");
            }
            let _ = writeln!(text, "{line}");
        }
    }
    text
}

fn human_duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{}s", secs / 60, secs % 60),
        _ => format!("{}h{}m", secs / 3600, secs / 60 % 60),
    }
}

/// The level `-v` / `-vv` ask for, if any.
fn verbosity_level(verbose: u8) -> Option<tracing::Level> {
    match verbose {
        0 => None,
        1 => Some(tracing::Level::DEBUG),
        _ => Some(tracing::Level::TRACE),
    }
}

fn run_foreground(ctx: &mut Ctx<'_>, workspace: &Workspace, log: LogArgs) -> CliResult {
    let run_dir = workspace.run_dir();
    if lock::daemon_running(&run_dir) {
        return Err(already_running(&run_dir));
    }
    fs_err::create_dir_all(&run_dir).map_err(|e| {
        CliError::context("cannot run the daemon: its run folder is not writable", &e)
            .with_hint("check the permissions of `.meta/` in the meta-repo")
    })?;
    let log_path = run_dir.join(LOG_FILE);
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| {
            CliError::context(
                format!("cannot open the daemon's log `{}`", log_path.display()),
                &e,
            )
            .with_hint("check the permissions of `.meta/run`")
        })?;
    let level = log
        .log_level
        .or(verbosity_level(ctx.globals.verbose))
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(log_file))
        .with_ansi(false)
        .with_max_level(level)
        .try_init();
    let options = DaemonOptions {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..DaemonOptions::default()
    };
    let mut daemon = Daemon::start(workspace, options).inspect_err(|error| {
        tracing::error!(%error, "daemon failed to start");
    })?;
    let launcher = std::env::current_exe()
        .map(|program| Launcher {
            program,
            args: vec!["daemon".into(), "exec-service".into()],
        })
        .inspect_err(|error| {
            tracing::warn!(%error, "cannot find the meta binary; services will not die with the daemon if it is killed");
        })
        .ok();
    daemon.add_component(Box::new(PluginHost::new(
        workspace,
        HostOptions {
            builtins: BUILTIN_PLUGINS,
            reserved: RESERVED.as_slice(),
            builtins_only: ctx.plugins_off(),
            launcher,
            supervision: Supervision::default(),
        },
    )));
    if ctx.ui.stdout_is_terminal() {
        ctx.ui.note(format!(
            "daemon running for {} (pid {}); Ctrl-C or `meta daemon stop` stops it",
            workspace.root().display(),
            std::process::id()
        ));
    }
    let reason = daemon.run().inspect_err(|error| {
        tracing::error!(%error, "daemon failed");
    })?;
    tracing::info!(?reason, "daemon exited");
    Ok(ExitCode::SUCCESS)
}

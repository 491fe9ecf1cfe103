//! `meta bridge status|push|resend`: the team's bus through NATS JetStream (DESIGN.md section
//! 11). The work is done by the `meta-bridge` program (the only one with an async runtime); these
//! commands read its files or run it and render what it says. One module per subcommand.

mod push;
mod report;
mod resend;
mod status;

use std::ffi::OsString;
use std::path::PathBuf;

use meta_workspace::{Workspace, env};
use serde_json::Value;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};

pub(crate) use report::BridgeReport;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Show the bridge: node, server, state, export backlog, imports and the last error
    Status(status::Args),
    /// Export every pending event now, without a daemon (CI); exit 0 only when none is left
    Push(push::Args),
    /// Publish the log's events again from a sequence on (safe: the server and importers drop repeats)
    Resend(resend::Args),
    /// The service of the built-in `bridge` plugin (internal): becomes `meta-bridge service`.
    #[command(hide = true)]
    Service,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    match args.command {
        Command::Status(args) => status::run(ctx, args),
        Command::Push(args) => push::run(ctx, args),
        Command::Resend(args) => resend::run(ctx, args),
        Command::Service => service(),
    }
}

/// The built-in plugin's manifest: a service only, `meta bridge service`, which the host starts
/// only while `[bridge] enabled = true` (see `plugins::BUILTIN_PLUGINS`).
pub const MANIFEST: &str = concat!(
    "api = 1\n",
    "[plugin]\n",
    "name = \"bridge\"\n",
    "version = \"",
    env!("CARGO_PKG_VERSION"),
    "\"\n",
    "description = \"Bridges the event bus to NATS JetStream: exports local events, imports the team's ([bridge] in meta/metarepo.toml)\"\n",
    "[service]\n",
    "exec = [\"meta\", \"bridge\", \"service\"]\n",
    "restart = \"on-failure\"\n",
);

/// Where the `meta-bridge` program is: `META_BRIDGE_BIN`, else beside the running `meta` (where
/// `cargo install` puts both), else on `PATH`.
pub(crate) fn program() -> PathBuf {
    if let Some(path) = std::env::var_os(env::META_BRIDGE_BIN).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    if let Ok(exe) = std::env::current_exe() {
        let beside = exe.with_file_name("meta-bridge");
        if beside.is_file() {
            return beside;
        }
    }
    PathBuf::from("meta-bridge")
}

fn not_found(error: &std::io::Error) -> CliError {
    CliError::new(format!(
        "cannot run `{}`: {}",
        program().display(),
        crate::error::describe_io(error)
    ))
    .with_hint("it is installed beside `meta` by `cargo install --path crates/meta-cli --locked`; META_BRIDGE_BIN names another")
}

/// Becomes `meta-bridge service` (same pid, so the daemon supervises the real thing).
fn service() -> CliResult {
    use std::os::unix::process::CommandExt;
    let error = std::process::Command::new(program()).arg("service").exec();
    Err(not_found(&error))
}

/// Runs `meta-bridge push ARGS` for `workspace` and returns its one-line JSON answer.
pub(crate) fn run_push(workspace: &Workspace, args: &[OsString]) -> Result<Value, CliError> {
    let output = std::process::Command::new(program())
        .arg("push")
        .args(args)
        .env(env::META_ROOT, workspace.root())
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| not_found(&e))?;
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(text.trim()).map_err(|_| {
        CliError::new(format!(
            "`meta-bridge push` gave no answer (exit {})",
            output.status
        ))
    })
}

/// What to do when the server refuses the bridge's login or a subject.
pub(crate) const AUTH_HINT: &str = "check META_BRIDGE_CREDS, META_BRIDGE_USER/META_BRIDGE_PASSWORD or META_BRIDGE_TOKEN, and that this node may publish `meta.<scope>.<node>.>`";

/// What to do when `provision = false` and the server lacks the stream or this machine's
/// consumer.
pub(crate) const PROVISION_HINT: &str = "ask the server's administrator to create it (README: \"Sharing events across machines\"), or set `provision = true` in [bridge] so the bridge creates it";

/// A failed push as an error: what, why, what to do next.
pub(crate) fn push_error(answer: &Value) -> CliError {
    let text = |k: &str| answer.get(k).and_then(Value::as_str).unwrap_or_default();
    let left = answer.get("left").and_then(Value::as_u64).unwrap_or(0);
    let (message, hint) = match text("kind") {
        "timeout" => (
            format!("{left} events are not exported yet; they stay in the log"),
            "check that the server in [bridge].url is reachable, then run `meta bridge push` again",
        ),
        "auth" => ("the NATS server refused the bridge".to_owned(), AUTH_HINT),
        "provision" => (
            "the stream this bridge exports to is not on the NATS server".to_owned(),
            PROVISION_HINT,
        ),
        "tls" => (
            "the NATS server's certificate is not trusted".to_owned(),
            "set META_BRIDGE_TLS_CA to the PEM file of the CA that signed it",
        ),
        "connect" => (
            "cannot reach the NATS server".to_owned(),
            "check [bridge].url in meta/metarepo.toml and that the server runs",
        ),
        "config" => (
            "the bridge is not configured correctly".to_owned(),
            "fix [bridge] in meta/metarepo.toml or the META_BRIDGE_* variables",
        ),
        _ => (
            "the export failed".to_owned(),
            "`meta bridge status` shows the bridge's state",
        ),
    };
    CliError::new(message)
        .with_cause(text("error").to_owned())
        .with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_is_valid_and_runs_meta_bridge_service() {
        let manifest =
            meta_plugin::Manifest::parse(MANIFEST, std::path::Path::new("builtin")).unwrap();
        assert_eq!(manifest.name, "bridge");
        let service = manifest.service.unwrap();
        assert_eq!(service.exec, ["meta", "bridge", "service"]);
        assert!(manifest.commands.is_empty());
    }
}

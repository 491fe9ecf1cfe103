//! `meta bridge push [--timeout D]`: export what is pending without a daemon (CI).

use std::process::ExitCode;

use meta_workspace::config::{DURATION_RULE, parse_duration};
use serde_json::Value;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Give up after this long (`30s`, `2m`…); the events stay in the log.
    #[arg(long, value_name = "D", default_value = "30s")]
    timeout: String,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let timeout = parse_duration(&args.timeout).ok_or_else(|| {
        CliError::usage(format!(
            "`{}` is not a duration: {DURATION_RULE}",
            args.timeout
        ))
    })?;
    if !workspace.config().bridge.enabled {
        ctx.ui
            .warn("[bridge] enabled is false; pushing anyway, as asked");
    } else if let Some(pid) = super::report::running_service(&workspace) {
        // Both move the cursor; the server's dedup absorbs what both send.
        ctx.ui.warn(format!(
            "the daemon's bridge service (pid {pid}) exports these already; pushing anyway"
        ));
    }
    let answer = super::run_push(
        &workspace,
        &[
            "--timeout".into(),
            format!("{}", timeout.as_secs_f64()).into(),
        ],
    )?;
    if answer.get("ok") != Some(&Value::Bool(true)) {
        return Err(super::push_error(&answer));
    }
    let count = |k: &str| answer.get(k).and_then(Value::as_u64).unwrap_or(0);
    ctx.ui.note(format!(
        "exported {} events; nothing left (log sequence {}){}",
        count("exported"),
        count("cursor"),
        match count("skipped_oversize") {
            0 => String::new(),
            n => format!("; {n} too large for the server were skipped"),
        }
    ));
    Ok(ExitCode::SUCCESS)
}

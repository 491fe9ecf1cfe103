//! `meta bridge resend --since SEQ`: publish the log's events from SEQ on again.

use std::process::ExitCode;

use serde_json::Value;

use crate::cli::Ctx;
use crate::error::CliResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The first local sequence to send again.
    #[arg(long, value_name = "SEQ")]
    since: u64,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let answer = super::run_push(
        &workspace,
        &[
            "--since".into(),
            args.since.to_string().into(),
            "--timeout".into(),
            args.timeout.to_string().into(),
        ],
    )?;
    if answer.get("ok") != Some(&Value::Bool(true)) {
        return Err(super::push_error(&answer));
    }
    let count = |k: &str| answer.get(k).and_then(Value::as_u64).unwrap_or(0);
    ctx.ui.note(format!(
        "sent {} events again from sequence {} (repeats are dropped by the server and importers)",
        count("exported"),
        args.since
    ));
    Ok(ExitCode::SUCCESS)
}

//! `meta plugin uninstall NAME`: removes the plugin's folder (or link), lock entry and config.

use std::process::ExitCode;

use crate::cli::Ctx;
use crate::error::CliResult;
use crate::plugins;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The plugin's name.
    name: String,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?;
    let manager = plugins::manager(workspace);
    let removed = manager.uninstall(&args.name)?;
    // The `core:plugin:uninstalled` event is emitted here once the events client lands (#3).
    let version = removed.version.map(|v| format!(" {v}")).unwrap_or_default();
    ctx.ui
        .note(format!("Uninstalled plugin `{}`{version}.", removed.name));
    Ok(ExitCode::SUCCESS)
}

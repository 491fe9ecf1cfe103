//! `meta plugin disable NAME`: sets `[plugins.<name>].enabled = false`.

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
    let changed = plugins::manager(workspace).set_enabled(&args.name, false)?;
    // The `core:plugin:disabled` event is emitted here once the events client lands (#3).
    if changed {
        ctx.ui.note(format!("Disabled plugin `{}`.", args.name));
    } else {
        ctx.ui
            .note(format!("Plugin `{}` is already disabled.", args.name));
    }
    Ok(ExitCode::SUCCESS)
}

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
    let workspace = ctx.workspace()?.clone();
    let changed = plugins::manager(&workspace).set_enabled(&args.name, false)?;
    if changed {
        plugins::announce(
            ctx,
            &workspace,
            meta_events::core::plugin_disabled(&args.name),
        );
        ctx.ui.note(format!("Disabled plugin `{}`.", args.name));
    } else {
        ctx.ui
            .note(format!("Plugin `{}` is already disabled.", args.name));
    }
    if let Some(changes) = plugins::tell_daemon(ctx, &workspace, &[]) {
        plugins::await_service_stop(ctx, &workspace, &args.name, &changes);
    }
    Ok(ExitCode::SUCCESS)
}

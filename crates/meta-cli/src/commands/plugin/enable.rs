//! `meta plugin enable NAME`: sets `[plugins.<name>].enabled = true`.

use std::process::ExitCode;

use meta_plugin_host::Action;

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
    let changed = plugins::manager(&workspace).set_enabled(&args.name, true)?;
    if changed {
        plugins::announce(
            ctx,
            &workspace,
            meta_events::core::plugin_enabled(&args.name),
        );
        ctx.ui.note(format!("Enabled plugin `{}`.", args.name));
    } else {
        ctx.ui
            .note(format!("Plugin `{}` is already enabled.", args.name));
    }
    // Enabling again is also how a failed service is given another chance.
    let reply = plugins::tell_daemon(ctx, &workspace, &[args.name.as_str()]);
    let started = reply.iter().flatten().any(|c| {
        c.name == args.name && matches!(c.action, Action::Load | Action::Retry | Action::Restart)
    });
    let has_service = plugins::manager(&workspace)
        .catalog()
        .ok()
        .and_then(|catalog| {
            catalog
                .get(&args.name)
                .map(|p| p.manifest.service.is_some())
        })
        .unwrap_or(false);
    if started && has_service {
        ctx.ui
            .note("  service: starting in the running daemon (`meta plugin list` shows its state)");
    }
    Ok(ExitCode::SUCCESS)
}

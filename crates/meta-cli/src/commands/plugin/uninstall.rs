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
    let workspace = ctx.workspace()?.clone();
    let manager = plugins::manager(&workspace);
    let removed = manager.uninstall(&args.name)?;
    let source = removed
        .source
        .clone()
        .unwrap_or_else(|| format!("meta/plugins/{}", removed.name));
    let mut event = meta_events::core::plugin_uninstalled(
        &removed.name,
        removed.version.as_deref().unwrap_or_default(),
        &source,
    );
    if removed.version.is_none()
        && let Some(data) = event.data.as_mut()
    {
        // A plugin whose manifest no longer reads has no known version.
        data["version"] = serde_json::Value::Null;
    }
    plugins::announce(ctx, &workspace, event);
    let version = removed
        .version
        .as_ref()
        .map(|v| format!(" {v}"))
        .unwrap_or_default();
    ctx.ui
        .note(format!("Uninstalled plugin `{}`{version}.", removed.name));
    if let Some(changes) = plugins::tell_daemon(ctx, &workspace, &[]) {
        plugins::await_service_stop(ctx, &workspace, &removed.name, &changes);
    }
    plugins::remove_service_logs(&workspace, &removed.name);
    Ok(ExitCode::SUCCESS)
}

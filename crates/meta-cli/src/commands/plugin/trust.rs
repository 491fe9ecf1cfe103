//! `meta plugin trust NAME`: records the plugin's current content hash in `meta/plugins.lock`,
//! after a change the user made or reviewed. The counterpart of the check that stops a changed
//! plugin from running.

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
    let (previous, hash) = plugins::manager(&workspace).trust(&args.name)?;
    match previous {
        Some(previous) if previous == hash => ctx.ui.note(format!(
            "Plugin `{}` is unchanged; nothing to trust.",
            args.name
        )),
        Some(previous) => ctx.ui.note(format!(
            "Trusted plugin `{}`: meta/plugins.lock now records {hash} (was {previous}).",
            args.name
        )),
        None => ctx.ui.note(format!(
            "Trusted plugin `{}`: meta/plugins.lock now records {hash}.",
            args.name
        )),
    }
    // A service refused for its content starts now that the content is trusted.
    plugins::tell_daemon(ctx, &workspace, &[args.name.as_str()]);
    Ok(ExitCode::SUCCESS)
}

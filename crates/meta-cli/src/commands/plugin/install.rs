//! `meta plugin install SOURCE [--name N] [--rev REV] [--link] [--force]`.

use std::fmt::Write as _;
use std::process::ExitCode;

use meta_plugin::InstallRequest;

use crate::cli::Ctx;
use crate::error::CliResult;
use crate::plugins;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A plugin folder, or a git URL (`https://…`, `git@host:path`, `git+…`, a local repository).
    source: String,
    /// Install under this name instead of the manifest's.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The tag, branch or commit of a git source to install.
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
    /// Link the folder instead of copying it, to develop a plugin in place (not hash-checked).
    #[arg(long, conflicts_with = "rev")]
    link: bool,
    /// Replace a plugin already installed under the same name.
    #[arg(long)]
    force: bool,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let manager = plugins::manager(&workspace);
    let installed = manager.install(&InstallRequest {
        source: args.source,
        name: args.name,
        rev: args.rev,
        link: args.link,
        force: args.force,
    })?;
    plugins::announce(
        ctx,
        &workspace,
        meta_events::core::plugin_installed(
            &installed.name,
            &installed.manifest.version,
            &installed.entry.source,
        ),
    );
    let daemon = plugins::tell_daemon(ctx, &workspace, &[]);
    let manifest = &installed.manifest;
    let verb = match (installed.entry.linked, installed.replaced) {
        (true, false) => "Linked",
        (true, true) => "Re-linked",
        (false, false) => "Installed",
        (false, true) => "Reinstalled",
    };
    let mut line = format!(
        "{verb} plugin `{}` {} from {}",
        installed.name, manifest.version, installed.entry.source
    );
    if let Some(rev) = &installed.entry.rev {
        let _ = write!(line, " at {}", &rev[..rev.len().min(12)]);
    }
    line.push_str("; enabled.");
    ctx.ui.note(line);
    let commands: Vec<&str> = manifest.command_names().collect();
    if !commands.is_empty() {
        ctx.ui.note(format!("  commands: {}", commands.join(", ")));
    }
    if manifest.service.is_some() {
        if daemon.is_some() {
            ctx.ui.note(
                "  service: starting in the running daemon (`meta plugin list` shows its state)",
            );
        } else {
            ctx.ui
                .note("  service: starts with the daemon (`meta daemon start`)");
        }
    }
    if installed.entry.linked {
        ctx.ui.note(
            "  linked: edits to the folder apply at once and are not hash-checked; install without `--link` to share it",
        );
    }
    Ok(ExitCode::SUCCESS)
}

//! `meta project add URL [--group G] [--name N] [--branch B]`: a new submodule at
//! `src/<group>/<name>`, staged in the superproject; `core:project:added` announces it.

use std::process::ExitCode;

use meta_workflow::AddRequest;

use crate::cli::Ctx;
use crate::error::CliResult;
use crate::project_events::{self, ProjectEvent};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to clone the project from (any URL git takes).
    url: String,
    /// The group it goes in (a folder under `src/` listed in `meta/metarepo.toml`); may be left
    /// out when only one group is configured.
    #[arg(long, value_name = "G")]
    group: Option<String>,
    /// Its folder name (default: the URL's last part without `.git`).
    #[arg(long, value_name = "N")]
    name: Option<String>,
    /// The branch to check out and record in `.gitmodules` (default: the remote's default).
    #[arg(long, value_name = "B")]
    branch: Option<String>,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let request = AddRequest {
        url: &args.url,
        group: args.group.as_deref(),
        name: args.name.as_deref(),
        branch: args.branch.as_deref(),
        groups: &workspace.config().metarepo.groups,
    };
    let added = meta_workflow::add_project(workspace.root(), &request)?;
    project_events::emit(
        &ctx.ui,
        &workspace,
        ProjectEvent::Added,
        &added.path,
        &added.name,
        Some(&added.group),
        Some(&added.url),
    );
    ctx.ui.println(format!(
        "added {} from {}{}",
        added.path,
        added.url,
        added
            .branch
            .as_deref()
            .map(|b| format!(" (branch {b})"))
            .unwrap_or_default()
    ))?;
    ctx.ui.note(format!(
        "staged `.gitmodules` and `{}`; commit them to share the project",
        added.path
    ));
    Ok(ExitCode::SUCCESS)
}

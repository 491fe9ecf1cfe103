//! `meta template …`: projects following their cookiecutter template over time (DESIGN.md
//! section 12). One module per subcommand; the work is in `meta-template-update`.

mod check;
mod diff;
mod link;
mod update;

use std::time::Duration;

use meta_repo::Project;
use meta_template_update::TemplateRepos;
use meta_workspace::Workspace;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::SelectArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Say where each project stands against its template: up to date, behind, ahead, diverged
    /// or not linked
    Check(check::Args),
    /// Show how each linked project differs from its template, or what an update would bring
    Diff(diff::Args),
    /// Link an existing project to the template it was made from (`.cruft.json`)
    Link(link::Args),
    /// Merge each linked project with its template's new commit, using git's three-way merge
    Update(update::Args),
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    match args.command {
        Command::Check(args) => check::run(ctx, args),
        Command::Diff(args) => diff::run(ctx, args),
        Command::Link(args) => link::run(ctx, args),
        Command::Update(args) => update::run(ctx, args),
    }
}

/// What every `meta template` subcommand that walks projects starts with: its flags checked,
/// the selected projects, and a place to fetch templates into (`what` says what failed).
fn selected_projects(
    ctx: &mut Ctx<'_>,
    select: &SelectArgs,
    timeout: u64,
    checkout: Option<&str>,
    what: &str,
) -> Result<(Workspace, Vec<Project>, TemplateRepos), CliError> {
    if timeout == 0 {
        return Err(CliError::usage("--timeout must be at least 1"));
    }
    if checkout.is_some_and(|c| c.starts_with('-')) {
        return Err(CliError::usage(
            "a --checkout revision cannot start with `-`",
        ));
    }
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let listed = meta_repo::list_projects(root)?;
    let projects = if select.narrows() {
        let chosen = select.choose(&workspace, listed.projects)?;
        select.keep_dirty(root, chosen)
    } else {
        listed.projects
    };
    let repos = TemplateRepos::new(Duration::from_secs(timeout))
        .map_err(|e| CliError::context(what.to_owned(), &e))?;
    Ok((workspace, projects, repos))
}

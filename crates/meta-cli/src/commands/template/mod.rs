//! `meta template …`: projects following their cookiecutter template over time (DESIGN.md
//! section 12). One module per subcommand; the work is in `meta-template-update`.

mod check;
mod diff;
mod link;
mod update;

use crate::cli::Ctx;
use crate::error::CliResult;

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

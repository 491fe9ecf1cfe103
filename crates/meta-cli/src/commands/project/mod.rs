//! `meta project list|add|remove`: the projects (submodules) of the meta-repo. One module per
//! subcommand.

mod add;
mod list;
mod remove;

use crate::cli::Ctx;
use crate::error::CliResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// List the projects: path, group, URL and whether each is checked out
    List(list::Args),
    /// Add a project: a submodule at src/<group>/<name>, staged for your next commit
    Add(add::Args),
    /// Remove a project from the checkout, .gitmodules, .git/config and .git/modules
    Remove(remove::Args),
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    match args.command {
        Command::List(args) => list::run(ctx, args),
        Command::Add(args) => add::run(ctx, args),
        Command::Remove(args) => remove::run(ctx, args),
    }
}

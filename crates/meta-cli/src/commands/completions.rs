//! `meta completions SHELL`: completion scripts generated from the registry, so plugin
//! commands complete like built-ins.

use std::process::ExitCode;

use clap_complete::Shell;

use crate::cli::Ctx;
use crate::error::CliResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    shell: CompletionShell,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut command = ctx.registry.completion_command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "meta", &mut script);
    ctx.ui.print(String::from_utf8_lossy(&script))?;
    Ok(ExitCode::SUCCESS)
}

//! `meta help [COMMAND…]`: the help of `meta` or of one of its commands.

use std::process::ExitCode;

use std::ffi::OsString;

use crate::cli::Ctx;
use crate::error::CliResult;
use crate::registry::Origin;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The command (and subcommands) to show help for.
    command: Vec<String>,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let mut command = ctx.registry.parser(ctx.globals.color);
    let Some(first) = args.command.first() else {
        ctx.ui.print(command.render_help().ansi().to_string())?;
        return Ok(ExitCode::SUCCESS);
    };
    match ctx.registry.get(first).map(|e| &e.origin) {
        Some(Origin::Builtin(_)) => {}
        // A plugin documents itself: `meta help hello x` runs `hello x --help`.
        Some(Origin::Plugin(command)) => {
            let args: Vec<OsString> = args.command[1..]
                .iter()
                .map(OsString::from)
                .chain([OsString::from("--help")])
                .collect();
            return crate::plugins::run_command(ctx, command, args);
        }
        None => return Err(ctx.unknown_command(first)),
    }
    command.build();
    let mut current = &mut command;
    let mut path = Vec::new();
    for name in &args.command {
        path.push(name.as_str());
        current = current.find_subcommand_mut(name).ok_or_else(|| {
            crate::error::CliError::usage(format!("`meta {}` is not a command", path.join(" ")))
                .with_hint(format!(
                    "run `meta help {}` to see what it offers",
                    path[..path.len() - 1].join(" ")
                ))
        })?;
    }
    let help = current.render_help();
    let text = if ctx.ui.color_stdout() {
        help.ansi().to_string()
    } else {
        help.to_string()
    };
    ctx.ui.print(text)?;
    Ok(ExitCode::SUCCESS)
}

//! `meta abandon NAME [--force] [--undo] [--dry-run]`: delete a topic everywhere, keeping every
//! old tip under `refs/meta/abandoned/NAME/…`; `--undo` brings the branches back (the rules are
//! in `meta_change::abandon`).

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::change_error::{apply_error, change_error};
use crate::cli::Ctx;
use crate::error::CliResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The topic (`meta branches` lists them).
    #[arg(value_name = "NAME")]
    name: String,
    /// Abandon it even where it holds commits no remote-tracking ref has (they stay under
    /// `refs/meta/abandoned/`).
    #[arg(long, conflicts_with = "undo")]
    force: bool,
    /// Bring an abandoned topic's branches back from `refs/meta/abandoned/NAME/…`.
    #[arg(long)]
    undo: bool,
    /// Print the git calls that would run, and change nothing.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let listed = meta_repo::list_projects(root)?;
    let what = if args.undo {
        format!("cannot bring topic `{}` back", args.name)
    } else {
        format!("cannot abandon topic `{}`", args.name)
    };
    if !args.dry_run {
        crate::journal_notice::refuse_if_pending(root, &what)?;
    }
    let (plan, lines) = if args.undo {
        let restore = meta_change::plan_restore(root, &args.name, &listed.projects)
            .map_err(|e| change_error(&what, e))?;
        let lines: Vec<String> = restore
            .repos
            .iter()
            .map(|(path, tip)| {
                format!(
                    "  {}  `{}` at {}",
                    place(path),
                    args.name,
                    tip.to_hex_with_len(7)
                )
            })
            .collect();
        (restore.plan, lines)
    } else {
        let abandon = meta_change::plan_abandon(root, &args.name, &listed.projects, args.force)
            .map_err(|e| change_error(&what, e))?;
        let lines: Vec<String> = abandon
            .repos
            .iter()
            .map(|repo| {
                let mut line = format!(
                    "  {}  {} kept as {}",
                    place(&repo.path),
                    repo.tip.to_hex_with_len(7),
                    meta_change::abandoned_ref(&args.name, &repo.path)
                );
                if let Some(pin) = repo.detached_at {
                    let _ = write!(line, "; now detached at its pin {}", pin.to_hex_with_len(7));
                }
                if repo.unpushed > 0 {
                    let _ = write!(line, "; {} unpushed commit(s) kept", repo.unpushed);
                }
                line
            })
            .collect();
        (abandon.plan, lines)
    };
    if args.dry_run {
        ctx.ui
            .note("would run (from the root), changing nothing now (--dry-run):");
        for call in plan.calls() {
            ctx.ui.println(call.command_line())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    plan.apply_undoing_failed(|step| step.call.args.first().is_some_and(|a| a == "switch"))
        .map_err(|e| apply_error(&what, &e))?;
    if args.undo {
        ctx.ui
            .println(format!("brought topic `{}` back:", args.name))?;
    } else {
        crate::change_events::emit_abandoned(&ctx.ui, &workspace, &args.name);
        ctx.ui.println(format!(
            "abandoned topic `{}` (`meta abandon {} --undo` brings it back):",
            args.name, args.name
        ))?;
    }
    for line in lines {
        ctx.ui.println(line)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A repository as the output names it.
pub fn place(path: &str) -> String {
    if path == meta_change::SUPERPROJECT {
        "(superproject)".to_owned()
    } else {
        path.to_owned()
    }
}

//! `meta abandon NAME [--force] [--undo] [--dry-run]`: delete a topic everywhere, keeping every
//! old tip under `refs/meta/abandoned/NAME/…`; `--undo` brings the branches back (the rules are
//! in `meta_change::abandon`).

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::change_error::{change_error, journaled_error, recover_plan};
use crate::cli::Ctx;
use crate::error::CliResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The topic (`meta branches` lists them).
    #[arg(value_name = "NAME", required_unless_present_any = ["abort", "continue_"])]
    name: Option<String>,
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
    /// Finish an interrupted `meta abandon`: put every repository back, then run it again.
    #[arg(long = "continue", conflicts_with_all = ["abort", "name", "dry_run"])]
    continue_: bool,
    /// Undo an interrupted `meta abandon`: every repository back where it was.
    #[arg(long, conflicts_with_all = ["name", "dry_run"])]
    abort: bool,
}

pub fn run(ctx: &mut Ctx<'_>, mut args: Args) -> CliResult {
    if args.abort || args.continue_ {
        ctx.skip_journal_notice();
    }
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let listed = meta_repo::list_projects(root)?;
    if args.abort || args.continue_ {
        let Some(request) = recover_plan(&ctx.ui, root, "abandon", args.continue_)? else {
            return Ok(ExitCode::SUCCESS);
        };
        args.name = request["name"].as_str().map(str::to_owned);
        args.force = request["force"].as_bool().unwrap_or(false);
        args.undo = request["undo"].as_bool().unwrap_or(false);
    }
    let name = args.name.clone().unwrap_or_default();
    let what = if args.undo {
        format!("cannot bring topic `{name}` back")
    } else {
        format!("cannot abandon topic `{name}`")
    };
    if !args.dry_run {
        crate::journal_notice::refuse_if_pending(root, &what)?;
    }
    let (plan, lines) = if args.undo {
        let restore = meta_change::plan_restore(root, &name, &listed.projects)
            .map_err(|e| change_error(&what, e))?;
        let lines: Vec<String> = restore
            .repos
            .iter()
            .map(|(path, tip)| {
                format!(
                    "  {}  `{}` at {}",
                    place(path),
                    name,
                    tip.to_hex_with_len(7)
                )
            })
            .collect();
        (restore.plan, lines)
    } else {
        let abandon = meta_change::plan_abandon(root, &name, &listed.projects, args.force)
            .map_err(|e| change_error(&what, e))?;
        let lines: Vec<String> = abandon
            .repos
            .iter()
            .map(|repo| {
                let mut line = format!(
                    "  {}  {} kept as {}",
                    place(&repo.path),
                    repo.tip.to_hex_with_len(7),
                    meta_change::abandoned_ref(&name, &repo.path)
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
    let request = serde_json::json!({"name": name, "force": args.force, "undo": args.undo});
    let bulk = crate::change_events::BulkChange::enter(&ctx.ui, &workspace, "abandon");
    plan.apply_journaled(root, "abandon", &name, request, |step| {
        step.call.args.first().is_some_and(|a| a == "switch")
    })
    .map_err(|e| journaled_error(&what, e))?;
    drop(bulk);
    if args.undo {
        ctx.ui.println(format!("brought topic `{name}` back:"))?;
    } else {
        crate::change_events::emit_abandoned(&ctx.ui, &workspace, &name);
        ctx.ui.println(format!(
            "abandoned topic `{name}` (`meta abandon {name} --undo` brings it back):"
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

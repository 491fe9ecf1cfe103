//! `meta prune [--dry-run]`: abandon every topic whose project branches have all landed on
//! their tracked branches on the remotes (squash and rebase merges included), keeping the
//! others and saying why (the rules are in `meta_change::abandon`).

use std::process::ExitCode;
use std::time::Duration;

use crate::change_error::{change_error, journaled_error, recover_plan};
use crate::cli::Ctx;
use crate::error::{CliError, CliResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Say which topics would go and which stay, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Seconds one remote may take to answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
    /// Finish an interrupted `meta prune`: put every repository back, then prune again.
    #[arg(long = "continue", conflicts_with_all = ["abort", "dry_run"])]
    continue_: bool,
    /// Undo an interrupted `meta prune`: every repository back where it was.
    #[arg(long, conflicts_with = "dry_run")]
    abort: bool,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    if args.timeout == 0 {
        return Err(CliError::usage("--timeout must be at least 1"));
    }
    if args.abort || args.continue_ {
        ctx.skip_journal_notice();
    }
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    if (args.abort || args.continue_)
        && recover_plan(&ctx.ui, root, "prune", args.continue_)?.is_none()
    {
        return Ok(ExitCode::SUCCESS);
    }
    let listed = meta_repo::list_projects(root)?;
    let what = "cannot prune topics";
    if !args.dry_run {
        crate::journal_notice::refuse_if_pending(root, what)?;
    }
    let plan = meta_change::plan_prune(root, &listed.projects, Duration::from_secs(args.timeout))
        .map_err(|e| change_error(what, e))?;
    if !args.dry_run && !plan.abandons.is_empty() {
        let bulk = crate::change_events::BulkChange::enter(&ctx.ui, &workspace, "prune");
        plan.plan()
            .apply_journaled(root, "prune", "", serde_json::json!({}), |step| {
                step.call.args.first().is_some_and(|a| a == "switch")
            })
            .map_err(|e| journaled_error(what, e))?;
        drop(bulk);
        for abandoned in &plan.abandons {
            crate::change_events::emit_abandoned(&ctx.ui, &workspace, &abandoned.topic);
        }
    }
    if plan.topics.is_empty() {
        ctx.ui.println("no topics")?;
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if args.dry_run {
        "would prune"
    } else {
        "pruned"
    };
    for topic in &plan.topics {
        match &topic.kept_because {
            None => ctx.ui.println(format!("{verb}  {}", topic.name))?,
            Some(why) => ctx.ui.println(format!("kept    {}  ({why})", topic.name))?,
        }
    }
    if args.dry_run {
        for call in plan.calls() {
            ctx.ui.println(format!("  {}", call.command_line()))?;
        }
    } else if !plan.abandons.is_empty() {
        ctx.ui.note(
            "old tips are kept under refs/meta/abandoned/NAME/…; `meta abandon NAME --undo` brings a topic back",
        );
    }
    Ok(ExitCode::SUCCESS)
}

//! `meta rebase [--continue|--abort] [--autostash]`: each project's topic branch onto its
//! tracked branch as the remote has it, then the pins re-recorded in one superproject commit;
//! a conflict stops it with a journal (the rules are in `meta_change::rebase`).

use std::process::ExitCode;
use std::time::Duration;

use meta_change::{RebaseError, RebaseOutcome};

use crate::change_error::change_error;
use crate::cli::Ctx;
use crate::error::{CliError, CliResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Go on after resolving the conflict a `meta rebase` stopped on (`git add` the files).
    #[arg(long = "continue", conflicts_with_all = ["abort", "autostash"])]
    continue_: bool,
    /// Put every repository back where it was before the rebase started.
    #[arg(long, conflicts_with = "autostash")]
    abort: bool,
    /// Rebase projects with local changes, stashing and restoring them (`git rebase
    /// --autostash`); without it, a project with staged or modified files refuses the rebase.
    #[arg(long)]
    autostash: bool,
    /// Seconds one remote may take to answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    if args.continue_ || args.abort {
        ctx.skip_journal_notice();
    }
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    if args.abort {
        let topic = meta_change::abort_rebase(root)
            .map_err(|e| rebase_error("cannot abort the rebase", e))?;
        ctx.ui.println(format!(
            "rebase of topic `{topic}` aborted: every repository is back where it was"
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let outcome = if args.continue_ {
        meta_change::continue_rebase(root)
            .map_err(|e| rebase_error("cannot continue the rebase", e))?
    } else {
        let what = "cannot rebase";
        crate::journal_notice::refuse_if_pending(root, what)?;
        let listed = meta_repo::list_projects(root)?;
        let bulk = crate::change_events::BulkChange::enter(&ctx.ui, &workspace, "rebase");
        let outcome = meta_change::start_rebase(
            root,
            &listed.projects,
            args.autostash,
            Duration::from_secs(args.timeout.max(1)),
        );
        drop(bulk);
        outcome.map_err(|e| rebase_error(what, e))?
    };
    match outcome {
        RebaseOutcome::Done {
            topic,
            commit,
            projects,
        } => {
            match commit {
                Some(commit) => ctx.ui.println(format!(
                    "rebased topic `{topic}`: {} re-records {} pin{}",
                    commit.to_hex_with_len(7),
                    projects.len(),
                    if projects.len() == 1 { "" } else { "s" }
                ))?,
                None => ctx.ui.println(format!(
                    "topic `{topic}` is already on its tracked branches: nothing to rebase"
                ))?,
            }
            for (path, old, new) in &projects {
                ctx.ui.println(format!(
                    "  {path}  {} -> {}",
                    old.to_hex_with_len(7),
                    new.to_hex_with_len(7)
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        RebaseOutcome::Stopped { topic, path } => Err(CliError::new(format!(
            "the rebase of topic `{topic}` stopped on a conflict in `{path}`"
        ))
        .with_hint(format!(
            "resolve it in `{path}` (`git -C {path} status` lists the files), `git add` them, then `meta rebase --continue`"
        ))
        .with_hint("or `meta rebase --abort` puts every repository back where it was")),
    }
}

fn rebase_error(what: &str, error: RebaseError) -> CliError {
    match error {
        RebaseError::Plan(error) => change_error(what, error),
        RebaseError::Journal(meta_change::journal::JournalError::Missing(_)) => {
            CliError::new(format!("{what}: no `meta rebase` is stopped here"))
                .with_hint("`meta rebase` starts one")
        }
        RebaseError::StillConflicted { ref path } => {
            let hint = format!(
                "resolve the files `git -C {path} status` lists, `git add` them, then `meta rebase --continue` again"
            );
            CliError::context(what.to_owned(), &error).with_hint(hint)
        }
        other => CliError::context(what.to_owned(), &other),
    }
}

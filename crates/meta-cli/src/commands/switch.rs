//! `meta switch NAME [--autostash] [--dry-run] [--json]`: the superproject to the topic NAME,
//! each project to NAME where it has it, else to the pin NAME records (the rules are in
//! `meta_change::switch`). Everything is planned and checked first; `--dry-run` prints the
//! plan. The change is announced with `core:state:enter` / `core:state:leave`.

use std::process::ExitCode;

use meta_change::{SwitchOutcome, SwitchPlan, SwitchRequest, SwitchSkip, Target};
use serde::Serialize;

use crate::change_error::{change_error, journaled_error, recover_plan};
use crate::cli::Ctx;
use crate::error::{CliError, CliResult};

#[derive(clap::Args, Debug)]
#[command(after_long_help = JSON_HELP)]
pub struct Args {
    /// The topic: a branch of the superproject (`meta branches` lists them).
    #[arg(value_name = "NAME", required_unless_present_any = ["abort", "continue_"])]
    name: Option<String>,
    /// Stash the changes of dirty repositories that must move, and restore them afterwards
    /// (without it, a dirty repository refuses the whole switch).
    #[arg(long)]
    autostash: bool,
    /// Print the git calls that would run, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON (described below `meta switch --help`).
    #[arg(long)]
    json: bool,
    /// Finish an interrupted `meta switch`: put every repository back, then switch again.
    #[arg(long = "continue", conflicts_with_all = ["abort", "name", "dry_run"])]
    continue_: bool,
    /// Undo an interrupted `meta switch`: every repository back where it was.
    #[arg(long, conflicts_with_all = ["name", "dry_run"])]
    abort: bool,
}

const JSON_HELP: &str = "\
--json prints one object:
  {\"topic\", \"dry_run\", \"superproject\": REPO, \"projects\": [REPO…],
   \"skipped\": [{\"path\", \"reason\": \"not-initialized\"|\"not-in-topic\"}], \"plan\": [\"git …\"],
   \"stash_conflicts\": [\"path\"…]}
  REPO = {\"path\" (\".\" for the superproject), \"target\": \"topic\"|\"tracked\"|\"pin\",
          \"from\" (commit), \"from_branch\" (or null), \"to\" (commit), \"to_branch\" (or null:
          detached), \"unchanged\" (already there), \"stashed\" (with --autostash)}
  \"plan\" lists every git call, in order, as run from the root (with --dry-run: would run).
  \"stash_conflicts\" lists repositories whose stash did not apply cleanly (kept in the stash).

A project without branch NAME goes to the pin NAME's superproject commit records: on its
tracked branch when the pin is that branch's remote tip (as meta sync does), else detached.
Dirty repositories, ones mid-merge/rebase/cherry-pick or with conflicts refuse the whole
switch; if git fails half-way, every repository is put back where it was.";

#[derive(Serialize)]
struct SwitchJson<'a> {
    topic: &'a str,
    dry_run: bool,
    superproject: RepoJson<'a>,
    projects: Vec<RepoJson<'a>>,
    skipped: Vec<SkipJson<'a>>,
    plan: Vec<String>,
    stash_conflicts: Vec<String>,
}

#[derive(Serialize)]
struct RepoJson<'a> {
    path: &'a str,
    target: &'static str,
    from: String,
    from_branch: Option<&'a str>,
    to: String,
    to_branch: Option<&'a str>,
    unchanged: bool,
    stashed: bool,
}

#[derive(Serialize)]
struct SkipJson<'a> {
    path: &'a str,
    reason: &'static str,
}

pub fn run(ctx: &mut Ctx<'_>, mut args: Args) -> CliResult {
    if args.abort || args.continue_ {
        ctx.skip_journal_notice();
    }
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    if args.abort || args.continue_ {
        let Some(request) = recover_plan(&ctx.ui, root, "switch", args.continue_)? else {
            return Ok(ExitCode::SUCCESS);
        };
        args.name = request["name"].as_str().map(str::to_owned);
        args.autostash = request["autostash"].as_bool().unwrap_or(false);
    }
    let name = args.name.clone().unwrap_or_default();
    let listed = meta_repo::list_projects(root)?;
    let request = SwitchRequest {
        root,
        name: &name,
        projects: &listed.projects,
        autostash: args.autostash,
    };
    let what = format!("cannot switch to topic `{name}`");
    if !args.dry_run {
        crate::journal_notice::refuse_if_pending(root, &what)?;
    }
    let plan = meta_change::plan_switch(&request).map_err(|e| change_error(&what, e))?;

    let mut stash_conflicts = Vec::new();
    if !args.dry_run && !plan.plan.is_empty() {
        let bulk = crate::change_events::BulkChange::enter(&ctx.ui, &workspace, "switch");
        let applied = plan.plan.apply_journaled(
            root,
            "switch",
            &plan.topic,
            serde_json::json!({"name": name, "autostash": args.autostash}),
            |step| step.call.args.first().is_some_and(|a| a == "switch"),
        );
        if applied.is_ok() {
            stash_conflicts = plan.pop_stashes();
        }
        drop(bulk);
        applied.map_err(|e| journaled_error(&what, e))?;
    }

    if args.json {
        let conflicts = stash_conflicts
            .iter()
            .map(|(c, _)| c.repo.clone())
            .collect();
        ctx.ui
            .print_json(&to_json(&plan, args.dry_run, conflicts))?;
    } else if args.dry_run {
        show_plan(ctx, &plan)?;
    } else {
        show(ctx, &plan)?;
    }
    if stash_conflicts.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut error = CliError::new(format!(
        "switched to topic `{}`, but the stashed changes did not apply cleanly",
        plan.topic
    ));
    for (call, failure) in &stash_conflicts {
        error = error.with_cause(format!("`{}`: {failure}", call.command_line()));
    }
    Err(error.with_hint(
        "the switch is done and the changes are still in the stash there: resolve the conflicts (`git status`), `git add` the files, then `git stash drop`",
    ))
}

fn to_json(plan: &SwitchPlan, dry_run: bool, stash_conflicts: Vec<String>) -> SwitchJson<'_> {
    SwitchJson {
        topic: &plan.topic,
        dry_run,
        superproject: repo_json(&plan.topic, &plan.superproject),
        projects: plan
            .projects
            .iter()
            .map(|p| repo_json(&plan.topic, p))
            .collect(),
        skipped: plan
            .skipped
            .iter()
            .map(|(path, skip)| SkipJson {
                path,
                reason: match skip {
                    SwitchSkip::NotInitialized => "not-initialized",
                    SwitchSkip::NotInTopic => "not-in-topic",
                },
            })
            .collect(),
        plan: plan
            .calls()
            .map(meta_change::GitCall::command_line)
            .collect(),
        stash_conflicts,
    }
}

fn repo_json<'a>(topic: &'a str, outcome: &'a SwitchOutcome) -> RepoJson<'a> {
    RepoJson {
        path: &outcome.path,
        target: match outcome.target {
            Target::Topic => "topic",
            Target::Tracked { .. } => "tracked",
            Target::Pin => "pin",
        },
        from: outcome.from.to_string(),
        from_branch: outcome.from_branch.as_deref(),
        to: outcome.to.to_string(),
        to_branch: outcome.to_branch(topic),
        unchanged: outcome.unchanged,
        stashed: outcome.stashed,
    }
}

fn show_plan(ctx: &Ctx<'_>, plan: &SwitchPlan) -> Result<(), CliError> {
    if plan.plan.is_empty() {
        ctx.ui.note(format!(
            "nothing to do: everything is on topic `{}` already",
            plan.topic
        ));
        return Ok(());
    }
    ctx.ui
        .note("would run (from the root), changing nothing now (--dry-run):");
    for call in plan.calls() {
        ctx.ui.println(call.command_line())?;
    }
    Ok(())
}

fn show(ctx: &Ctx<'_>, plan: &SwitchPlan) -> Result<(), CliError> {
    let width = plan
        .projects
        .iter()
        .map(|p| p.path.len())
        .chain([14])
        .max()
        .unwrap_or(14);
    ctx.ui
        .println(format!("switched to topic `{}`", plan.topic))?;
    for outcome in std::iter::once(&plan.superproject).chain(&plan.projects) {
        let path = if outcome.path == meta_change::SUPERPROJECT {
            "(superproject)"
        } else {
            outcome.path.as_str()
        };
        ctx.ui.println(format!(
            "  {path:<width$}  {}",
            describe(&plan.topic, outcome)
        ))?;
    }
    for (path, skip) in &plan.skipped {
        let why = match skip {
            SwitchSkip::NotInitialized => "not initialised (`meta sync` clones it)",
            SwitchSkip::NotInTopic => "the topic's superproject commit does not record it",
        };
        ctx.ui.note(format!("skipped {path}: {why}"));
    }
    Ok(())
}

fn describe(topic: &str, outcome: &SwitchOutcome) -> String {
    let at = outcome.to.to_hex_with_len(7);
    let place = match &outcome.target {
        Target::Topic => format!("on `{topic}` at {at}"),
        Target::Tracked { branch } => format!("on `{branch}` at the recorded pin {at}"),
        Target::Pin => format!("detached at the recorded pin {at}"),
    };
    let mut text = if outcome.unchanged {
        format!("already {place}")
    } else {
        place
    };
    if outcome.stashed {
        text.push_str(" (changes stashed and restored)");
    }
    text
}

//! `meta commit -m MSG [PATTERN…] [-a] [--record-only] [--allow-rewind] [--no-verify]
//! [--dry-run] [--json]`, and `--continue` / `--abort` for one that was interrupted: a commit
//! in each selected project on the topic branch, then one superproject commit recording the
//! pins that moved, all or nothing (the rules are in `meta_change::commit`).

use std::process::ExitCode;

use meta_change::{
    Attach, CommitError, CommitOptions, CommitOutcome, CommitPlan, CommitRequest, RecoverError,
};
use serde::Serialize;

use crate::change_error::change_error;
use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::SelectArgs;

#[derive(clap::Args, Debug)]
#[command(after_long_help = JSON_HELP)]
pub struct Args {
    /// The commit message, used in every project and in the superproject (whose commit adds
    /// each project's new commits to it).
    #[arg(
        short,
        long,
        value_name = "MSG",
        required_unless_present_any = ["abort", "continue_"]
    )]
    message: Option<String>,
    /// Also commit modified tracked files in the projects, as `git commit -a`.
    #[arg(short = 'a', long = "all")]
    all: bool,
    /// Commit nothing in the projects: record the commits already made there (each selected
    /// project whose HEAD is not its pin).
    #[arg(long)]
    record_only: bool,
    /// Allow a pin to move to a commit that does not descend from it.
    #[arg(long)]
    allow_rewind: bool,
    /// Skip the pre-commit and commit-msg hooks, as `git commit --no-verify`.
    #[arg(short = 'n', long)]
    no_verify: bool,
    /// Print the git calls that would run, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON (described below `meta commit --help`).
    #[arg(long)]
    json: bool,
    /// Finish an interrupted `meta commit`: put every repository back, then make the same
    /// commit again.
    #[arg(long = "continue", conflicts_with_all = ["abort", "message", "dry_run"])]
    continue_: bool,
    /// Undo an interrupted `meta commit`: every repository as it was before it.
    #[arg(long, conflicts_with_all = ["message", "dry_run"])]
    abort: bool,
    #[command(flatten)]
    select: SelectArgs,
}

const JSON_HELP: &str = "\
--json prints one object:
  {\"topic\", \"dry_run\", \"commit\" (the superproject's new commit; null with --dry-run),
   \"projects\": [PROJECT…], \"superproject_staged\": [\"path\"…], \"plan\": [\"git …\"]}
  PROJECT = {\"path\", \"from\" (the pin before, or null), \"to\" (the new pin; null with
             --dry-run for a commit not made yet), \"committed\" (a commit was made; false:
             its HEAD was recorded), \"attach\": \"stay\"|\"checkout\"|\"create\" (how it got
             onto the topic branch), \"rewinds\" (the pin moved backwards),
             \"commits\": [{\"id\", \"subject\"}…] (newest first, at most 20), \"count\"}
  \"plan\" lists every git call, in order, as run from the root (with --dry-run: would run;
  the superproject's calls name the projects' new commits as <new commit of PATH>).

A project takes part when it has staged changes (-a: also modified tracked files), or when it
is on the topic branch with commits its pin lacks (--record-only: any selected project off
its pin). A project not on the topic branch is put on it first, without touching files
(created at HEAD, or attached when it is at HEAD). Every commit carries a `Meta-Topic: NAME`
trailer. If any commit or hook fails, every repository is put back: commits undone, changes
back in the index as they were. A `meta commit` killed half-way is finished by
`meta commit --continue` or undone by `meta commit --abort`.";

#[derive(Serialize)]
struct CommitJson<'a> {
    topic: &'a str,
    dry_run: bool,
    commit: Option<String>,
    projects: Vec<ProjectJson<'a>>,
    superproject_staged: &'a [String],
    plan: Vec<String>,
}

#[derive(Serialize)]
struct ProjectJson<'a> {
    path: &'a str,
    from: Option<String>,
    to: Option<String>,
    committed: bool,
    attach: &'static str,
    rewinds: bool,
    commits: Vec<CommitIdJson<'a>>,
    count: usize,
}

#[derive(Serialize)]
struct CommitIdJson<'a> {
    id: String,
    subject: &'a str,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    if args.abort || args.continue_ {
        ctx.skip_journal_notice();
    }
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    if args.abort {
        return abort(ctx, root);
    }
    let listed = meta_repo::list_projects(root)?;
    if args.continue_ {
        let (plan, outcome) = meta_change::continue_commit(root, &listed.projects)
            .map_err(|e| recover_error("cannot finish the interrupted `meta commit`", e))?;
        crate::change_events::emit_committed(
            &ctx.ui,
            &workspace,
            &outcome.topic,
            &outcome.commit.to_string(),
            &event_projects(&outcome),
        );
        return finish(ctx, &plan, Some(&outcome), args.json);
    }
    let what = "cannot commit";
    crate::journal_notice::refuse_if_pending(root, what)?;
    let projects = if args.select.narrows() {
        let chosen = args.select.choose(&workspace, listed.projects)?;
        args.select.keep_dirty(root, chosen)
    } else {
        listed.projects
    };
    let request = CommitRequest {
        root,
        projects: &projects,
        options: CommitOptions {
            message: args.message.clone().unwrap_or_default(),
            all: args.all,
            record_only: args.record_only,
            allow_rewind: args.allow_rewind,
            no_verify: args.no_verify,
        },
    };
    let plan = meta_change::plan_commit(&request).map_err(|e| change_error(what, e))?;
    if args.dry_run {
        return finish(ctx, &plan, None, args.json);
    }
    let bulk = crate::change_events::BulkChange::enter(&ctx.ui, &workspace, "commit");
    let applied = plan.apply();
    drop(bulk);
    let outcome = applied.map_err(|e| commit_error(what, &e))?;
    crate::change_events::emit_committed(
        &ctx.ui,
        &workspace,
        &outcome.topic,
        &outcome.commit.to_string(),
        &event_projects(&outcome),
    );
    finish(ctx, &plan, Some(&outcome), args.json)
}

fn event_projects(outcome: &CommitOutcome) -> Vec<(&str, String)> {
    outcome
        .projects
        .iter()
        .map(|p| (p.path.as_str(), p.to.to_string()))
        .collect()
}

fn abort(ctx: &Ctx<'_>, root: &std::path::Path) -> CliResult {
    let recovered = meta_change::abort_commit(root)
        .map_err(|e| recover_error("cannot undo the interrupted `meta commit`", e))?;
    ctx.ui.println(format!(
        "undid the interrupted `meta commit` on topic `{}`: {} put back as before",
        recovered.topic,
        plural(recovered.repos.len(), "repository", "repositories")
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn finish(
    ctx: &Ctx<'_>,
    plan: &CommitPlan,
    outcome: Option<&CommitOutcome>,
    json: bool,
) -> CliResult {
    if json {
        ctx.ui.print_json(&to_json(plan, outcome))?;
    } else if let Some(outcome) = outcome {
        show(ctx, outcome)?;
    } else {
        ctx.ui
            .note("would run (from the root), changing nothing now (--dry-run):");
        for call in plan.calls() {
            ctx.ui.println(call.command_line())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn to_json<'a>(plan: &'a CommitPlan, outcome: Option<&'a CommitOutcome>) -> CommitJson<'a> {
    let projects = plan
        .projects
        .iter()
        .map(|project| {
            let done = outcome.and_then(|o| o.projects.iter().find(|c| c.path == project.path));
            let to = match done {
                Some(done) => Some(done.to.to_string()),
                None if !project.commit => Some(project.head.to_string()),
                None => None,
            };
            ProjectJson {
                path: &project.path,
                from: project.from.map(|f| f.to_string()),
                to,
                committed: project.commit,
                attach: attach_word(project.attach),
                rewinds: project.rewinds,
                commits: done
                    .map(|d| {
                        d.commits
                            .iter()
                            .map(|(id, subject)| CommitIdJson {
                                id: id.to_string(),
                                subject,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                count: done.map_or(0, |d| d.count),
            }
        })
        .collect();
    CommitJson {
        topic: &plan.topic,
        dry_run: outcome.is_none(),
        commit: outcome.map(|o| o.commit.to_string()),
        projects,
        superproject_staged: &plan.superproject_staged,
        plan: plan
            .calls()
            .iter()
            .map(meta_change::GitCall::command_line)
            .collect(),
    }
}

fn attach_word(attach: Attach) -> &'static str {
    match attach {
        Attach::Stay => "stay",
        Attach::CheckOut => "checkout",
        Attach::Create => "create",
    }
}

fn show(ctx: &Ctx<'_>, outcome: &CommitOutcome) -> Result<(), CliError> {
    ctx.ui.println(format!(
        "committed {} on topic `{}`",
        outcome.commit.to_hex_with_len(7),
        outcome.topic
    ))?;
    let width = outcome
        .projects
        .iter()
        .map(|p| p.path.len())
        .max()
        .unwrap_or(0);
    for project in &outcome.projects {
        let what = if project.made {
            "committed".to_owned()
        } else {
            "recorded".to_owned()
        };
        let rewound = if project.rewinds {
            " (pin rewound)".to_owned()
        } else if project.count > 1 {
            format!(" ({} commits since the pin)", project.count)
        } else {
            String::new()
        };
        let attached = match project.attach {
            Attach::Stay => String::new(),
            Attach::CheckOut => format!("; now on `{}`", outcome.topic),
            Attach::Create => format!("; branch `{}` created", outcome.topic),
        };
        let line = format!(
            "  {:<width$}  {}  {what}{rewound}{attached}",
            project.path,
            project.to.to_hex_with_len(7)
        );
        ctx.ui.println(line)?;
    }
    Ok(())
}

/// A commit that failed and was undone (or not entirely: then the journal is kept).
fn commit_error(what: &str, error: &CommitError) -> CliError {
    let mut cli = CliError::context(what.to_owned(), error);
    if error.undo_failures().is_empty() {
        if !matches!(error, CommitError::Journal(_)) {
            cli = cli.with_hint(
                "every repository was put back as it was: commits undone, changes staged as before",
            );
        }
    } else {
        for (path, failure) in error.undo_failures() {
            cli = cli.with_cause(format!("could not put back `{path}`: {failure}"));
        }
        cli = cli.with_hint(
            "the journal is kept: `meta commit --abort` tries again to put every repository back",
        );
    }
    if let CommitError::Failed { call, .. } = error
        && call.args.first().is_some_and(|a| a == "commit")
        && !call.args.iter().any(|a| a == "--no-verify")
    {
        cli = cli.with_hint(format!(
            "if a hook refused it, fix what it says in {}, or `--no-verify` skips the hooks",
            if call.repo == meta_change::SUPERPROJECT {
                "the superproject".to_owned()
            } else {
                format!("`{}`", call.repo)
            }
        ));
    }
    cli
}

fn recover_error(what: &str, error: RecoverError) -> CliError {
    match error {
        RecoverError::Plan(error) => change_error(what, error),
        RecoverError::Commit(error) => commit_error(what, &error),
        RecoverError::Journal(meta_change::journal::JournalError::Missing(dir)) => CliError::new(
            format!("{what}: there is none (no journal in `{}`)", dir.display()),
        )
        .with_hint("nothing to finish or undo; `meta status` shows where every project is"),
        other => CliError::context(what.to_owned(), &other),
    }
}

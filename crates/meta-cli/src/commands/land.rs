//! `meta land [NAME] [--dry-run] [--json]`: after the projects' reviews merged (merge, rebase
//! or squash), one superproject commit re-pinning the topic to what landed, then the verdict of
//! `meta check pins --landed` on it (the rules are in `meta_change::land`).

use std::process::ExitCode;
use std::time::Duration;

use meta_change::{LandPlan, LandRequest, NotLanded, PinStatus, PinsRequest};
use serde::Serialize;

use crate::change_error::change_error;
use crate::cli::Ctx;
use crate::error::{CliError, CliResult};

#[derive(clap::Args, Debug)]
#[command(after_long_help = JSON_HELP)]
pub struct Args {
    /// The topic (default: the superproject's current branch).
    #[arg(value_name = "NAME")]
    name: Option<String>,
    /// Fetch and map the pins, print the commit that would be written, and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Seconds one remote may take to answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
    /// Print JSON (described below `meta land --help`).
    #[arg(long)]
    json: bool,
    /// Finish an interrupted `meta land`: put the superproject back, then land again.
    #[arg(long = "continue", conflicts_with_all = ["abort", "dry_run", "name"])]
    continue_: bool,
    /// Undo an interrupted `meta land`: the superproject's branch and index as they were.
    #[arg(long, conflicts_with_all = ["dry_run", "name"])]
    abort: bool,
}

const JSON_HELP: &str = "\
--json prints one object:
  {\"topic\", \"dry_run\", \"commit\" (the new superproject commit, or null: none written),
   \"projects\": [{\"path\", \"from\" (the topic's pin), \"to\" (where it landed, or null),
                 \"how\": \"merged\"|\"same-tree\"|\"squashed\"|\"rebased\"|\"not-merged\"|\"unverifiable\",
                 \"tracked\", \"detail\"}],
   \"landed\" (every pin of the new commit is on its tracked branch on the remote, or null
              when no commit was written), \"plan\": [\"git …\"]}

A pin is mapped to the oldest commit of its tracked branch that contains it (a merge or a
fast-forward), else to a commit with the same tree, else to a commit making the topic's whole
change (a squash merge, compared with `git patch-id --stable`), else, when every topic commit
has its equal there, to the newest of those (a rebase merge). Nothing else is guessed: a pin
that maps to nothing stops the landing (exit 1) and nothing is written.";

#[derive(Serialize)]
struct LandJson<'a> {
    topic: &'a str,
    dry_run: bool,
    commit: Option<String>,
    projects: Vec<ProjectJson<'a>>,
    landed: Option<bool>,
    plan: Vec<String>,
}

#[derive(Serialize)]
struct ProjectJson<'a> {
    path: &'a str,
    from: String,
    to: Option<String>,
    how: &'static str,
    tracked: Option<&'a str>,
    detail: Option<String>,
}

pub fn run(ctx: &mut Ctx<'_>, mut args: Args) -> CliResult {
    if args.timeout == 0 {
        return Err(CliError::usage("--timeout must be at least 1"));
    }
    if args.abort || args.continue_ {
        ctx.skip_journal_notice();
    }
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let listed = meta_repo::list_projects(root)?;
    if args.abort || args.continue_ {
        let (topic, name) = meta_change::abort_land(root, &listed.projects)
            .map_err(|e| journal_error("cannot undo the interrupted `meta land`", &e))?;
        if args.abort {
            ctx.ui.println(format!(
                "undid the interrupted `meta land` of topic `{topic}`: the superproject is as it was"
            ))?;
            return Ok(ExitCode::SUCCESS);
        }
        args.name = name;
    }
    let what = match &args.name {
        Some(name) => format!("cannot land topic `{name}`"),
        None => "cannot land the current topic".to_owned(),
    };
    let mut wrote = false;
    if args.dry_run {
        return land(ctx, &workspace, &listed.projects, &args, &what, &mut wrote);
    }
    crate::journal_notice::refuse_if_pending(root, &what)?;
    let journal = meta_change::begin_land_journal(root, args.name.as_deref())
        .map_err(|e| journal_error(&what, &e))?;
    let result = land(ctx, &workspace, &listed.projects, &args, &what, &mut wrote);
    // A landing that wrote its commit keeps it, whatever the verdict says; one that stopped
    // before is undone from the journal (a no-op unless it stopped while writing).
    let closed = if wrote {
        journal.finish().map_err(|e| e.to_string())
    } else {
        journal.undo().map_err(|f| format!("{f:?}"))
    };
    if let Err(why) = closed {
        ctx.ui.warn(format!(
            "the journal of `meta land` could not be closed: {why}"
        ));
    }
    result
}

fn journal_error(what: &str, error: &meta_change::LandJournalError) -> CliError {
    match error {
        meta_change::LandJournalError::Journal(meta_change::journal::JournalError::Missing(_)) => {
            CliError::new(format!("{what}: there is none"))
                .with_hint("nothing to finish or undo; `meta land` lands the current topic")
        }
        other => CliError::context(what.to_owned(), other),
    }
}

fn land(
    ctx: &mut Ctx<'_>,
    workspace: &meta_workspace::Workspace,
    projects: &[meta_repo::Project],
    args: &Args,
    what: &str,
    wrote: &mut bool,
) -> CliResult {
    let root = workspace.root();
    let timeout = Duration::from_secs(args.timeout);
    let plan = meta_change::plan_land(&LandRequest {
        root,
        name: args.name.as_deref(),
        projects,
        timeout,
    })
    .map_err(|e| change_error(what, e))?;

    if plan.blocked().next().is_some() {
        if args.json {
            ctx.ui.print_json(&to_json(&plan, true, None, None))?;
        }
        let mut error = CliError::new(format!(
            "cannot land topic `{}`: not every project's change is on its tracked branch; nothing was written",
            plan.topic
        ));
        for (project, why) in plan.blocked() {
            error = error.with_cause(format!("`{}`: {why}", project.path));
        }
        return Err(error.with_hint(
            "merge the projects' reviews first, then run `meta land` again; `meta check pins --landed` shows where each pin stands",
        ));
    }
    if args.dry_run {
        if args.json {
            ctx.ui.print_json(&to_json(&plan, true, None, None))?;
        } else {
            show_mapping(ctx, &plan)?;
            ctx.ui
                .note("would write (from the root), changing nothing now (--dry-run):");
            for call in plan.calls() {
                ctx.ui.println(call.command_line())?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }

    let commit = if plan.moves().next().is_some() {
        let bulk = crate::change_events::BulkChange::enter(&ctx.ui, workspace, "land");
        let commit = plan.apply().map_err(|e| change_error(what, e))?;
        drop(bulk);
        *wrote = true;
        let moved: Vec<(&str, String, String)> = plan
            .moves()
            .map(|(p, to)| (p.path.as_str(), p.from.to_string(), to.to_string()))
            .collect();
        crate::change_events::emit_landed(
            &ctx.ui,
            workspace,
            &plan.topic,
            &commit.to_string(),
            &moved,
        );
        Some(commit)
    } else {
        None
    };

    // The verdict, asked of the remotes as `meta check pins --landed` does.
    let verdict_of = commit.unwrap_or(plan.tip);
    let paths: Vec<String> = plan.projects.iter().map(|p| p.path.clone()).collect();
    let checks = meta_change::check_pins(
        root,
        projects,
        &PinsRequest {
            range: Some(format!("{verdict_of}^!")),
            paths: Some(paths),
            jobs: 8,
            timeout,
        },
    )
    .map_err(|e| CliError::context(what.to_owned(), &e))?;
    let not_landed: Vec<_> = checks
        .iter()
        .filter(|c| c.status != PinStatus::Landed)
        .collect();
    let landed = not_landed.is_empty();

    if args.json {
        ctx.ui
            .print_json(&to_json(&plan, false, commit, Some(landed)))?;
    } else {
        show_mapping(ctx, &plan)?;
        match commit {
            Some(commit) => ctx.ui.println(format!(
                "landed topic `{}`: {} re-pins {}",
                plan.topic,
                commit.to_hex_with_len(7),
                plural(plan.moves().count(), "project", "projects")
            ))?,
            None => ctx.ui.println(format!(
                "nothing to re-pin: every pin of topic `{}` is already on its tracked branch",
                plan.topic
            ))?,
        }
        if landed {
            ctx.ui
                .println("check pins --landed: every pin is on its tracked branch on the remote")?;
        }
        if commit.is_some() && plan.checked_out {
            ctx.ui.note(
                "the projects still have the topic's commits checked out: `meta sync` checks out the landed ones",
            );
        }
    }
    if landed {
        return Ok(ExitCode::SUCCESS);
    }
    let mut error = CliError::new("check pins --landed: not every pin is on its tracked branch");
    for check in not_landed {
        error = error.with_cause(format!(
            "`{}`: {} is {}{}",
            check.path,
            check.pin.to_hex_with_len(7),
            check.status.as_str(),
            check
                .detail
                .as_ref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ));
    }
    Err(error.with_hint("`meta check pins --landed` shows the full picture"))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn show_mapping(ctx: &Ctx<'_>, plan: &LandPlan) -> Result<(), CliError> {
    let width = plan
        .projects
        .iter()
        .map(|p| p.path.len())
        .max()
        .unwrap_or(0);
    for project in &plan.projects {
        let line = match &project.outcome {
            Ok((to, how)) if *to == project.from => format!(
                "{} already on `{}` ({})",
                to.to_hex_with_len(7),
                project.tracked.as_deref().unwrap_or("?"),
                how.as_str()
            ),
            Ok((to, how)) => format!(
                "{} -> {} ({} on `{}`)",
                project.from.to_hex_with_len(7),
                to.to_hex_with_len(7),
                how.as_str(),
                project.tracked.as_deref().unwrap_or("?")
            ),
            Err(why) => format!("{}: {why}", project.from.to_hex_with_len(7)),
        };
        ctx.ui
            .println(format!("  {:<width$}  {line}", project.path))?;
    }
    Ok(())
}

fn to_json(
    plan: &LandPlan,
    dry_run: bool,
    commit: Option<meta_repo::ObjectId>,
    landed: Option<bool>,
) -> LandJson<'_> {
    LandJson {
        topic: &plan.topic,
        dry_run,
        commit: commit.map(|c| c.to_string()),
        projects: plan
            .projects
            .iter()
            .map(|p| {
                let (to, how, detail) = match &p.outcome {
                    Ok((to, how)) => (Some(to.to_string()), how.as_str(), None),
                    Err(NotLanded::NotMerged { tried }) => {
                        (None, "not-merged", Some(tried.clone()))
                    }
                    Err(NotLanded::Unverifiable { why }) => {
                        (None, "unverifiable", Some(why.clone()))
                    }
                };
                ProjectJson {
                    path: &p.path,
                    from: p.from.to_string(),
                    to,
                    how,
                    tracked: p.tracked.as_deref(),
                    detail,
                }
            })
            .collect(),
        landed,
        plan: plan
            .calls()
            .iter()
            .map(meta_change::GitCall::command_line)
            .collect(),
    }
}

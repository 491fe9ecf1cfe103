//! `meta branch NAME [PATTERN…] [--group G] [--all] [--from head|pin] [--reset] [--dry-run]
//! [--json]`: the topic NAME in the superproject and the selected projects (the rules are in
//! `meta_change::branch`). Without a selection only the superproject gets it; projects join
//! later. Everything is planned and checked first; `--dry-run` prints the plan.

use std::process::ExitCode;

use meta_change::{Action, BranchPlan, BranchRequest, RepoOutcome, Skip, StartFrom, StartKind};
use serde::Serialize;

use crate::change_error::{change_error, journaled_error, recover_plan};
use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::SelectArgs;

#[derive(clap::Args, Debug)]
#[command(after_long_help = JSON_HELP)]
pub struct Args {
    /// The topic: a branch name git accepts (`feature/login`), not starting with `-`.
    #[arg(value_name = "NAME", required_unless_present_any = ["abort", "continue_"])]
    name: Option<String>,
    /// Every project takes part (without a selection, only the superproject does).
    #[arg(long, conflicts_with_all = ["group", "patterns", "dirty"])]
    all: bool,
    /// Where each project's branch starts: `head` (its HEAD) or `pin` (the commit the
    /// superproject pins). Default: HEAD when it is the pin or descends from it, else the pin.
    #[arg(long, value_enum, value_name = "WHERE")]
    from: Option<FromArg>,
    /// Move NAME where it exists at an unrelated commit, keeping the old tip under
    /// `refs/meta/abandoned/NAME/<path>` in that repository.
    #[arg(long)]
    reset: bool,
    /// Print the git calls that would run, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON (described below `meta branch --help`).
    #[arg(long)]
    json: bool,
    /// Finish an interrupted `meta branch`: put every repository back, then branch again.
    #[arg(long = "continue", conflicts_with_all = ["abort", "name", "dry_run"])]
    continue_: bool,
    /// Undo an interrupted `meta branch`: every repository back where it was.
    #[arg(long, conflicts_with_all = ["name", "dry_run"])]
    abort: bool,
    #[command(flatten)]
    select: SelectArgs,
}

const JSON_HELP: &str = "\
--json prints one object:
  {\"topic\", \"dry_run\", \"superproject\": REPO, \"projects\": [REPO…],
   \"skipped\": [{\"path\", \"reason\": \"not-initialized\"|\"no-pin\"}], \"plan\": [\"git …\"]}
  REPO = {\"path\" (\".\" for the superproject), \"action\": \"created\"|\"reset\"|\"checked-out\"|
          \"already-on\"|\"exists\", \"start\" (commit), \"start_from\": \"head\"|\"pin\",
          \"checked_out\" (NAME checked out afterwards), \"tip\" (NAME's commit afterwards),
          \"old_tip\" (with reset: the commit kept under refs/meta/abandoned/)}
  \"plan\" lists every git call, in order, as run from the root (with --dry-run: would run).

Files are never touched: a branch that starts at HEAD is checked out (git switch --create);
one that starts at the pin while HEAD is elsewhere is created without checking it out.";

#[derive(clap::ValueEnum, Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum FromArg {
    Head,
    Pin,
}

#[derive(Serialize)]
struct BranchJson<'a> {
    topic: &'a str,
    dry_run: bool,
    superproject: RepoJson<'a>,
    projects: Vec<RepoJson<'a>>,
    skipped: Vec<SkipJson<'a>>,
    plan: Vec<String>,
}

#[derive(Serialize)]
struct RepoJson<'a> {
    path: &'a str,
    action: &'static str,
    start: String,
    start_from: &'static str,
    checked_out: bool,
    tip: String,
    old_tip: Option<String>,
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
    let listed = meta_repo::list_projects(root)?;
    let mut chosen_paths: Option<Vec<String>> = None;
    if args.abort || args.continue_ {
        let Some(request) = recover_plan(&ctx.ui, root, "branch", args.continue_)? else {
            return Ok(ExitCode::SUCCESS);
        };
        args.name = request["name"].as_str().map(str::to_owned);
        args.from = serde_json::from_value(request["from"].clone()).unwrap_or(None);
        args.reset = request["reset"].as_bool().unwrap_or(false);
        chosen_paths = serde_json::from_value(request["projects"].clone()).ok();
    }
    let name = args.name.clone().unwrap_or_default();
    let projects = if let Some(paths) = chosen_paths {
        listed
            .projects
            .into_iter()
            .filter(|p| paths.contains(&p.path))
            .collect()
    } else if args.all {
        listed.projects
    } else if args.select.narrows() {
        let chosen = args.select.choose(&workspace, listed.projects)?;
        args.select.keep_dirty(root, chosen)
    } else {
        Vec::new()
    };
    let request = BranchRequest {
        root,
        name: &name,
        projects: &projects,
        from: match args.from {
            None => StartFrom::Auto,
            Some(FromArg::Head) => StartFrom::Head,
            Some(FromArg::Pin) => StartFrom::Pin,
        },
        reset: args.reset,
    };
    let what = format!("cannot create topic `{name}`");
    if !args.dry_run {
        crate::journal_notice::refuse_if_pending(root, &what)?;
    }
    let plan = meta_change::plan_branch(&request).map_err(|e| change_error(&what, e))?;

    if !args.dry_run {
        let paths: Vec<&str> = projects.iter().map(|p| p.path.as_str()).collect();
        let request = serde_json::json!({
            "name": name, "projects": paths, "from": args.from, "reset": args.reset,
        });
        let bulk = crate::change_events::BulkChange::enter(&ctx.ui, &workspace, "branch");
        plan.plan
            .apply_journaled(root, "branch", &name, request, |_| false)
            .map_err(|e| journaled_error(&what, e))?;
        drop(bulk);
        let joined: Vec<&str> = plan.projects.iter().map(|p| p.path.as_str()).collect();
        crate::change_events::emit_branched(&ctx.ui, &workspace, &plan.topic, &joined);
    }

    if args.json {
        ctx.ui.print_json(&to_json(&plan, args.dry_run))?;
    } else if args.dry_run {
        show_plan(ctx, &plan)?;
    } else {
        show(ctx, &plan)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn to_json(plan: &BranchPlan, dry_run: bool) -> BranchJson<'_> {
    BranchJson {
        topic: &plan.topic,
        dry_run,
        superproject: repo_json(&plan.superproject),
        projects: plan.projects.iter().map(repo_json).collect(),
        skipped: plan
            .skipped
            .iter()
            .map(|(path, skip)| SkipJson {
                path,
                reason: match skip {
                    Skip::NotInitialized => "not-initialized",
                    Skip::NoPin => "no-pin",
                },
            })
            .collect(),
        plan: plan
            .plan
            .calls()
            .map(meta_change::GitCall::command_line)
            .collect(),
    }
}

fn repo_json(outcome: &RepoOutcome) -> RepoJson<'_> {
    let (action, old_tip) = match &outcome.action {
        Action::Create { .. } => ("created", None),
        Action::Reset { old, .. } => ("reset", Some(old.to_string())),
        Action::CheckOut => ("checked-out", None),
        Action::AlreadyOn => ("already-on", None),
        Action::Exists { .. } => ("exists", None),
    };
    RepoJson {
        path: &outcome.path,
        action,
        start: outcome.start.to_string(),
        start_from: match outcome.start_kind {
            StartKind::Head => "head",
            StartKind::Pin => "pin",
        },
        checked_out: outcome.action.checked_out(),
        tip: tip(outcome).to_string(),
        old_tip,
    }
}

/// NAME's commit once the plan ran.
fn tip(outcome: &RepoOutcome) -> meta_repo::ObjectId {
    match outcome.action {
        Action::Exists { tip } => tip,
        _ => outcome.start,
    }
}

fn show_plan(ctx: &Ctx<'_>, plan: &BranchPlan) -> Result<(), CliError> {
    if plan.plan.is_empty() {
        ctx.ui.note(format!(
            "nothing to do: topic `{}` is already in place",
            plan.topic
        ));
        return Ok(());
    }
    ctx.ui
        .note("would run (from the root), changing nothing now (--dry-run):");
    for call in plan.plan.calls() {
        ctx.ui.println(call.command_line())?;
    }
    Ok(())
}

fn show(ctx: &Ctx<'_>, plan: &BranchPlan) -> Result<(), CliError> {
    let width = plan
        .projects
        .iter()
        .map(|p| p.path.len())
        .chain([13])
        .max()
        .unwrap_or(13);
    ctx.ui.println(format!(
        "topic `{}`: the superproject and {} project{}",
        plan.topic,
        plan.projects.len(),
        if plan.projects.len() == 1 { "" } else { "s" }
    ))?;
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
            Skip::NotInitialized => "not initialised (`meta sync` clones it); it can join later",
            Skip::NoPin => "no pin in the superproject's index, nothing to start from",
        };
        ctx.ui.warn(format!("skipped {path}: {why}"));
    }
    let elsewhere: Vec<&str> = plan
        .projects
        .iter()
        .filter(|p| !p.action.checked_out())
        .map(|p| p.path.as_str())
        .collect();
    if !elsewhere.is_empty() {
        ctx.ui.note(format!(
            "not checked out where HEAD is elsewhere (checking out would change files): `git switch {}` in {} when you are ready",
            plan.topic,
            elsewhere.join(", ")
        ));
    }
    Ok(())
}

fn describe(topic: &str, outcome: &RepoOutcome) -> String {
    let short = |id: meta_repo::ObjectId| id.to_hex_with_len(7).to_string();
    let start = format!(
        "{} ({})",
        short(outcome.start),
        match outcome.start_kind {
            StartKind::Head => "HEAD",
            StartKind::Pin => "the pin",
        }
    );
    match &outcome.action {
        Action::Create { checkout: true } => format!("created at {start}, checked out"),
        Action::Create { checkout: false } => format!("created at {start}, not checked out"),
        Action::Reset { old, checkout } => format!(
            "reset from {} to {start}{} (old tip kept as {})",
            short(*old),
            if *checkout {
                ", checked out"
            } else {
                ", not checked out"
            },
            meta_change::abandoned_ref(topic, &outcome.path)
        ),
        Action::CheckOut => format!("existed at HEAD {}, checked out", short(outcome.start)),
        Action::AlreadyOn => "already on it".to_owned(),
        Action::Exists { tip } => format!("exists at {}, left as it is", short(*tip)),
    }
}

//! `meta push [PATTERN…] [--group G] [--dry-run] [--jobs N] [--force-with-lease] [-o OPT…]
//! [--timeout S] [--json]`:
//! publishes the superproject's current branch (the topic) in three phases — projects' branches
//! in parallel, every pin verified on its remote, then the superproject (the rules are in
//! `meta_change::push`). Progress on a terminal, one line per project otherwise, one summary.
//! Announced with `core:state:enter`/`leave` and `core:change:pushed`.

use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use meta_change::{
    ProjectPush, PushFailure, PushOutcome, PushPlan, PushProgress, PushReason, PushRequest, Pushed,
    Update,
};
use serde::Serialize;

use crate::change_error::push_error;
use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::SelectArgs;
use crate::ui::{Ui, styles};

#[derive(clap::Args, Debug)]
#[command(after_long_help = JSON_HELP)]
pub struct Args {
    /// Print the pushes that would run, in order, and push nothing (remotes are still asked).
    #[arg(long)]
    dry_run: bool,
    /// Repositories asked or pushed at once.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// Let a project push replace the remote's branch (`--force-with-lease` on the tip the
    /// remote has now), unless that would drop a pin some superproject commit records.
    #[arg(long)]
    force_with_lease: bool,
    /// Give OPT to every push as a push option (`--push-option=OPT`), e.g. a Gerrit topic.
    #[arg(short = 'o', long = "push-option", value_name = "OPT")]
    push_option: Vec<String>,
    /// Seconds one remote may take to answer a fetch or a push before it counts as unreachable.
    #[arg(long, value_name = "SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Print JSON (described below `meta push --help`).
    #[arg(long)]
    json: bool,
    /// Narrow the projects that may be pushed (`PATTERN…`, `--group`); every pin is still
    /// verified, and one an unselected project's remote lacks is refused.
    #[command(flatten)]
    select: SelectArgs,
}

const JSON_HELP: &str = "\
The topic is the superproject's current branch T. Phase 1 pushes, in parallel, each project
holding commits that any superproject commit the remote lacks pins (not only the tip's), with
`git push --porcelain origin refs/heads/T:refs/heads/T`. Phase 2 verifies every such pin on its
project's remote: a ref the remote reports taken, at a tip holding the pins, is its own answer;
other projects are asked while planning with one fetch into refs/meta/check/… (deleted
afterwards) and again with ls-remote after the project pushes, never trusting remote-tracking
refs. Phase 3 pushes the superproject (setting T's upstream when it has
none). A rejected push, an unreachable remote, a pin on no branch meta can push, or a
force-push that would drop a recorded pin stops before the superproject. Running it again
pushes only what is missing. PATTERN… and --group narrow the projects that may be pushed;
every pin is still verified, and one an unselected project's remote lacks is refused.

--json prints one object:
  {\"topic\", \"remote\" (the superproject's), \"dry_run\", \"nothing_to_push\",
   \"commit\" (the superproject's T), \"remote_commit\" (the remote's T before, or null),
   \"outgoing\": [superproject commits the remote lacked, oldest first],
   \"set_upstream\" (T had no upstream and gets one),
   \"superproject\": {\"action\": \"push\"|\"none\", \"forced\", \"result\"},
   \"projects\": [{\"path\", \"pins\": [{\"pin\", \"commit\" (superproject commit recording it)}],
                 \"action\": \"push\"|\"on-remote\", \"reason\": \"not-pushed\"|\"remote-lacks\"|null,
                 \"asked\" (its remote was asked with a fetch), \"tip\" (its T, or null),
                 \"remote_tip\" (the remote's T when asked, or null), \"forced\", \"result\"}],
   \"plan\": [\"git …\" every push, in order, as run from the root]}
  \"result\" is how the remote took the ref: \"new\"|\"fast-forward\"|\"forced\"|\"up-to-date\", or
  null when not pushed (or with --dry-run).
Exit 0 when pushed or nothing to push, 1 when refused or a push failed, 2 on a usage error.";

#[derive(Serialize)]
struct PushJson<'a> {
    topic: &'a str,
    remote: &'a str,
    dry_run: bool,
    nothing_to_push: bool,
    commit: String,
    remote_commit: Option<String>,
    outgoing: Vec<String>,
    set_upstream: bool,
    superproject: SuperJson,
    projects: Vec<ProjectJson<'a>>,
    plan: Vec<String>,
}

#[derive(Serialize)]
struct SuperJson {
    action: &'static str,
    forced: bool,
    result: Option<&'static str>,
}

#[derive(Serialize)]
struct ProjectJson<'a> {
    path: &'a str,
    pins: Vec<PinJson>,
    action: &'static str,
    reason: Option<&'static str>,
    asked: bool,
    tip: Option<String>,
    remote_tip: Option<String>,
    forced: bool,
    result: Option<&'static str>,
}

#[derive(Serialize)]
struct PinJson {
    pin: String,
    commit: String,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    if !args.dry_run {
        crate::journal_notice::refuse_if_pending(root, "cannot push")?;
    }
    let only: Option<Vec<String>> = if args.select.narrows() {
        let listed = meta_repo::list_projects(root)?;
        let chosen = args.select.choose(&workspace, listed.projects)?;
        let chosen = args.select.keep_dirty(root, chosen);
        Some(chosen.into_iter().map(|p| p.path).collect())
    } else {
        None
    };
    let request = PushRequest {
        root,
        jobs: usize::from(args.jobs),
        timeout: Duration::from_secs(args.timeout),
        force_with_lease: args.force_with_lease,
        push_options: &args.push_option,
        only: only.as_deref(),
    };
    let show_bar = ctx.ui.verbosity() >= 0 && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let spinner = show_bar.then(|| {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message("asking the remotes what they lack");
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
    let planned = meta_change::plan_push(&request);
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let plan = planned.map_err(|e| push_error("cannot push", e))?;

    if args.dry_run || plan.is_empty() {
        if args.json {
            ctx.ui.print_json(&to_json(&plan, args.dry_run, None))?;
        } else if plan.is_empty() {
            ctx.ui.println(format!(
                "nothing to push: `{}` has topic `{}` at {} already",
                plan.remote,
                plan.topic,
                plan.tip.to_hex_with_len(7)
            ))?;
        } else {
            show_plan(&ctx.ui, &plan)?;
        }
        return Ok(ExitCode::SUCCESS);
    }

    // The bar counts project pushes; the superproject's shows as its message afterwards.
    let count = plan.projects.iter().filter(|p| p.call.is_some()).count() as u64;
    let bar = show_bar.then(|| {
        let bar = ProgressBar::with_draw_target(Some(count), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} pushing [{bar:30}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
    let progress = Progress {
        ui: &ctx.ui,
        bar: bar.as_ref(),
        lines: !args.json,
        topic: &plan.topic,
    };
    let bulk = crate::change_events::BulkChange::enter(&ctx.ui, &workspace, "push");
    let result = plan.run(&progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    drop(bulk);
    let outcome =
        result.map_err(|e| push_error(&format!("cannot push topic `{}`", plan.topic), e))?;

    if outcome.superproject.is_some() {
        let commit = plan.tip.to_string();
        let pins: Vec<(String, String)> = plan
            .projects
            .iter()
            .filter_map(|p| {
                p.pins
                    .last()
                    .map(|pin| (p.path.clone(), pin.pin.to_string()))
            })
            .collect();
        let projects: Vec<(&str, &str)> = pins
            .iter()
            .map(|(path, pin)| (path.as_str(), pin.as_str()))
            .collect();
        crate::change_events::emit_pushed(&ctx.ui, &workspace, &plan.topic, &commit, &projects);
    }

    if args.json {
        ctx.ui.print_json(&to_json(&plan, false, Some(&outcome)))?;
    } else {
        show_summary(&ctx.ui, &plan, &outcome)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Phase 1 as it goes: a bar on a terminal, and one line per project pushed.
struct Progress<'a> {
    ui: &'a Ui,
    bar: Option<&'a ProgressBar>,
    /// Print a line per project (not with --json: stdout is the JSON).
    lines: bool,
    topic: &'a str,
}

impl PushProgress for Progress<'_> {
    fn project_done(&self, path: &str, result: Result<&Pushed, &PushFailure>) {
        let emit = || match result {
            Ok(pushed) if self.lines => {
                // A closed stdout shows up at the summary, which reports it.
                let _ = self.ui.println(format!(
                    "pushed {path}: `{}` at {} ({})",
                    self.topic,
                    pushed.tip.to_hex_with_len(7),
                    describe_update(pushed.update)
                ));
            }
            Ok(_) => {}
            Err(failure) => self.ui.note(format!(
                "{} {path}: {}",
                self.ui.paint_err(styles::ERROR, "rejected"),
                failure.reason
            )),
        };
        match self.bar {
            Some(bar) => {
                bar.suspend(emit);
                bar.inc(1);
                bar.set_message(path.to_owned());
            }
            None => emit(),
        }
    }

    fn superproject(&self) {
        if let Some(bar) = self.bar {
            bar.set_message("the superproject");
        }
    }
}

fn describe_update(update: Update) -> &'static str {
    match update {
        Update::New => "new branch",
        Update::FastForward => "fast-forward",
        Update::Forced => "forced, with lease",
        Update::UpToDate => "already there",
    }
}

fn show_plan(ui: &Ui, plan: &PushPlan) -> Result<(), CliError> {
    ui.note(format!(
        "topic `{}`: {} superproject commit{} `{}` lacks, pinning {} project{}",
        plan.topic,
        plan.outgoing.len(),
        if plan.outgoing.len() == 1 { "" } else { "s" },
        plan.remote,
        plan.projects.len(),
        if plan.projects.len() == 1 { "" } else { "s" },
    ));
    let on_remote: Vec<&str> = plan
        .projects
        .iter()
        .filter(|p| p.call.is_none())
        .map(|p| p.path.as_str())
        .collect();
    if !on_remote.is_empty() {
        ui.note(format!(
            "not pushed, every pin on its remote already (asked now): {}",
            crate::change_error::some_paths(&on_remote)
        ));
    }
    ui.note("would run (from the root), pushing nothing now (--dry-run):");
    for call in plan.calls() {
        ui.println(call.command_line())?;
    }
    Ok(())
}

fn show_summary(ui: &Ui, plan: &PushPlan, outcome: &PushOutcome) -> Result<(), CliError> {
    let on_remote = plan.projects.iter().filter(|p| p.call.is_none()).count();
    let pins: usize = plan.projects.iter().map(|p| p.pins.len()).sum();
    if let Some(update) = outcome.superproject {
        ui.println(format!(
            "pushed the superproject: `{}` at {} to `{}` ({})",
            plan.topic,
            plan.tip.to_hex_with_len(7),
            plan.remote,
            describe_update(update)
        ))?;
    }
    if plan.set_upstream && outcome.superproject.is_some() {
        ui.note(format!(
            "`{}` had no upstream: it now tracks `{}/{}`",
            plan.topic, plan.remote, plan.topic
        ));
    }
    ui.println(format!(
        "topic `{}` pushed: {} superproject commit{}, {} pin{} verified on their remotes ({} project{} pushed, {} already there)",
        plan.topic,
        plan.outgoing.len(),
        if plan.outgoing.len() == 1 { "" } else { "s" },
        pins,
        if pins == 1 { "" } else { "s" },
        outcome.projects.len(),
        if outcome.projects.len() == 1 { "" } else { "s" },
        on_remote
    ))
}

fn to_json<'a>(plan: &'a PushPlan, dry_run: bool, outcome: Option<&PushOutcome>) -> PushJson<'a> {
    let result_of = |project: &ProjectPush| {
        outcome
            .and_then(|o| o.projects.iter().find(|p| p.path == project.path))
            .map(|p| p.update.as_str())
    };
    PushJson {
        topic: &plan.topic,
        remote: &plan.remote,
        dry_run,
        nothing_to_push: plan.is_empty(),
        commit: plan.tip.to_string(),
        remote_commit: plan.remote_tip.map(|t| t.to_string()),
        outgoing: plan.outgoing.iter().map(ToString::to_string).collect(),
        set_upstream: plan.set_upstream && plan.superproject.is_some(),
        superproject: SuperJson {
            action: if plan.superproject.is_some() {
                "push"
            } else {
                "none"
            },
            forced: plan.forced,
            result: outcome.and_then(|o| o.superproject).map(Update::as_str),
        },
        projects: plan
            .projects
            .iter()
            .map(|p| ProjectJson {
                path: &p.path,
                pins: p
                    .pins
                    .iter()
                    .map(|pin| PinJson {
                        pin: pin.pin.to_string(),
                        commit: pin.commit.to_string(),
                    })
                    .collect(),
                action: if p.call.is_some() {
                    "push"
                } else {
                    "on-remote"
                },
                reason: p.reason.map(|r| match r {
                    PushReason::NotPushed => "not-pushed",
                    PushReason::RemoteLacks => "remote-lacks",
                }),
                asked: p.asked,
                tip: p.tip.map(|t| t.to_string()),
                remote_tip: p.remote_tip.map(|t| t.to_string()),
                forced: p.forced,
                result: result_of(p),
            })
            .collect(),
        plan: plan
            .calls()
            .map(meta_change::GitCall::command_line)
            .collect(),
    }
}

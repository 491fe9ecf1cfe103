//! `meta sync [--jobs N] [--group G] [--dirty] [PATTERN…]`: every project checked out at its
//! pin, in parallel, never losing local work (the rules are in `meta_workflow::sync`).
//! Progress bars on a terminal, one line per project otherwise; a summary with counts. Exit 0
//! when it only skipped projects to protect work, 1 when any project failed.

use std::fmt::Write as _;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use meta_repo::{ObjectId, Project};
use meta_workflow::{GitError, Outcome, Step, SyncError, SyncOptions, SyncProgress, SyncResult};

use crate::cli::Ctx;
use crate::error::{CliError, CliResult, describe_error};
use crate::select::SelectArgs;
use crate::ui::{Ui, styles};
use crate::workflow_error::git_hint;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Clones and fetches at once (default: one per CPU, at most 8). Local steps run on one
    /// thread per CPU besides.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    #[command(flatten)]
    select: SelectArgs,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let listed = meta_repo::list_projects(root)?;
    let chosen = args.select.choose(&workspace, listed.projects)?;
    let projects = args.select.keep_dirty(root, chosen);
    if projects.is_empty() {
        ctx.ui.note("no project to sync");
        return Ok(ExitCode::SUCCESS);
    }
    let cpus = meta_workflow::cpus();
    let options = SyncOptions {
        jobs: cpus,
        network_jobs: args.jobs.map_or(cpus.min(8), usize::from),
    };

    let show_bar = ctx.ui.verbosity() >= 0 && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar = show_bar.then(|| {
        let bar = ProgressBar::with_draw_target(
            Some(projects.len() as u64),
            ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            ProgressStyle::with_template("{spinner} syncing [{bar:30}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        bar
    });
    let progress = Progress {
        ui: &ctx.ui,
        bar: bar.as_ref(),
    };
    // Subscribers (the daemon's warm status, plugins) wait for `leave` before reading the
    // tree; it is announced however the sync ends.
    let bulk = crate::change_events::BulkChange::enter(&ctx.ui, &workspace, "sync");
    let results = meta_workflow::sync(root, &projects, options, &progress);
    drop(bulk);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }

    let mut counts = Counts::default();
    for result in &results {
        counts.add(&result.outcome);
    }
    let mut summary = format!(
        "{}: {} cloned, {} updated, {} attached to a branch, {} up to date",
        plural(projects.len(), "project"),
        counts.initialized,
        counts.updated,
        counts.attached,
        counts.up_to_date,
    );
    if counts.no_pin > 0 {
        let _ = write!(summary, ", {} without a pin", counts.no_pin);
    }
    let _ = write!(
        summary,
        ", {} skipped, {} failed",
        counts.skipped, counts.failed
    );
    ctx.ui.println(&summary)?;

    let skipped: Vec<(&Project, &SyncResult)> = projects
        .iter()
        .zip(&results)
        .filter(|(_, r)| matches!(r.outcome, Outcome::Skipped(_)))
        .collect();
    if !skipped.is_empty() {
        ctx.ui.warn(format!(
            "left {} untouched to protect local work:",
            plural(skipped.len(), "project")
        ));
        for (project, result) in &skipped {
            if let Outcome::Skipped(reason) = &result.outcome {
                ctx.ui.note(format!("  {}: {reason}", project.path));
            }
        }
    }
    let failed: Vec<(&Project, &SyncResult)> = projects
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.outcome.is_failure())
        .collect();
    if failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut error = CliError::new(format!(
        "{} could not be synced",
        plural(failed.len(), "project")
    ));
    let mut hints: Vec<&str> = Vec::new();
    for (project, result) in &failed {
        if let Outcome::Failed(e) = &result.outcome {
            error = error.with_cause(format!("{}: {}", project.path, brief(e)));
            if let SyncError::Git(git) = e
                && let Some(hint) = git_hint(git)
                && !hints.contains(&hint)
            {
                hints.push(hint);
            }
        }
    }
    for hint in hints {
        error = error.with_hint(hint);
    }
    if ctx.ui.verbosity() <= 0 {
        error = error.with_hint("`meta sync -v` shows all that git said");
    }
    Err(error.with_hint(
        "run `meta sync` again once it is fixed; projects already synced stay as they are",
    ))
}

/// One line for a failure: what failed and the first thing git said about it (the rest, and
/// the full command line, are shown with `-v`).
fn brief(error: &SyncError) -> String {
    let first_line = |text: &str| {
        text.lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or_default()
            .to_owned()
    };
    match error {
        SyncError::Git(GitError::Failed {
            command, stderr, ..
        }) if !stderr.is_empty() => {
            // `git submodule update -q … -- path` → `git submodule update`.
            let name: Vec<&str> = command
                .split(' ')
                .take_while(|word| !word.starts_with('-'))
                .collect();
            format!("`{}` failed: {}", name.join(" "), first_line(stderr))
        }
        other => first_line(&describe_error(other)),
    }
}

#[derive(Default)]
struct Counts {
    initialized: usize,
    updated: usize,
    attached: usize,
    up_to_date: usize,
    no_pin: usize,
    skipped: usize,
    failed: usize,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        let slot = match outcome {
            Outcome::UpToDate => &mut self.up_to_date,
            Outcome::Attached => &mut self.attached,
            Outcome::Initialized => &mut self.initialized,
            Outcome::Updated { .. } => &mut self.updated,
            Outcome::Skipped(_) => &mut self.skipped,
            Outcome::NoPin => &mut self.no_pin,
            Outcome::Failed(_) => &mut self.failed,
        };
        *slot += 1;
    }
}

/// Shows each project as it finishes: above the bar on a terminal, as plain lines otherwise.
struct Progress<'a> {
    ui: &'a Ui,
    bar: Option<&'a ProgressBar>,
}

impl SyncProgress for Progress<'_> {
    fn step(&self, project: &Project, step: Step) {
        if let Some(bar) = self.bar {
            let what = match step {
                Step::Cloning => "cloning",
                Step::Checking => "checking",
                Step::Fetching => "fetching",
                Step::CheckingOut => "checking out",
            };
            bar.set_message(format!("{what} {}", project.path));
        }
    }

    fn finished(&self, project: &Project, result: &SyncResult) {
        let line = describe(self.ui, project, result);
        let emit = || match (&result.outcome, line) {
            (Outcome::Skipped(reason), _) => {
                self.ui.warn(format!("skipped {}: {reason}", project.path));
            }
            (Outcome::Failed(error), _) => {
                let why = if self.ui.verbosity() > 0 {
                    describe_error(error)
                } else {
                    brief(error)
                };
                self.ui.note(format!(
                    "{} {}: {why}",
                    self.ui.paint_err(styles::ERROR, "failed"),
                    project.path,
                ));
            }
            (_, Some(line)) => {
                // A closed stdout shows up at the summary, which reports it.
                let _ = self.ui.println(line);
            }
            (_, None) => {}
        };
        match self.bar {
            Some(bar) => {
                bar.suspend(emit);
                bar.inc(1);
            }
            None => emit(),
        }
    }
}

/// The line for a project that did not fail or get skipped (`None`: nothing worth a line).
fn describe(ui: &Ui, project: &Project, result: &SyncResult) -> Option<String> {
    let short = |id: Option<ObjectId>| {
        id.map_or_else(
            || "nothing".to_owned(),
            |id| id.to_hex_with_len(7).to_string(),
        )
    };
    let pin = short(project.pinned);
    let place = match &result.branch {
        Some(branch) => format!("{pin} on {branch}"),
        None => format!("{pin} (detached)"),
    };
    let mut line = match &result.outcome {
        Outcome::Initialized => format!("{}: cloned at {place}", project.path),
        Outcome::Updated { from } => {
            format!("{}: updated {} → {place}", project.path, short(*from))
        }
        Outcome::Attached => format!(
            "{}: now on {} at {pin} (was detached)",
            project.path,
            result.branch.as_deref().unwrap_or("a branch")
        ),
        Outcome::NoPin => format!(
            "{}: no pin in the index, nothing to check out",
            project.path
        ),
        Outcome::UpToDate if ui.verbosity() > 0 || result.note.is_some() => {
            format!("{}: up to date", project.path)
        }
        _ => return None,
    };
    if let Some(note) = &result.note {
        let _ = write!(line, " ({note})");
    }
    Some(line)
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

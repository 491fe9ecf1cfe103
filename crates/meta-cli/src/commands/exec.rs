//! `meta exec [--jobs N] [--group G] [--dirty] [--fail-fast] [--json] [PATTERN…] -- CMD…`:
//! one command in every initialised project, in parallel, each project's output kept together
//! and shown in project order whatever order they finish in.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use meta_repo::Project;
use meta_workflow::{ExecOutcome, ExecRun};
use serde::Serialize;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::SelectArgs;
use crate::ui::styles;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Commands running at once (default: one per CPU).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Start no new command once one has failed; those not run are listed.
    #[arg(long)]
    fail_fast: bool,
    /// Print JSON instead: `[{"path", "exit_code", "stdout", "stderr", …}]` in project order.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    select: SelectArgs,
    /// The command and its arguments, after `--`. It runs directly, not through a shell: say
    /// `-- sh -c '…'` for one. It gets META_PROJECT_PATH, META_PROJECT_NAME, META_PROJECT_GROUP
    /// and META_ROOT.
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<OsString>,
}

/// One project in `meta exec --json` (contract: `path`, `exit_code`, `stdout`, `stderr`; the
/// rest is added).
#[derive(Serialize)]
struct ExecJson<'a> {
    path: &'a str,
    /// `null` when the command did not exit by itself (signal), could not start, or did not run.
    exit_code: Option<i32>,
    stdout: String,
    stderr: String,
    name: &'a str,
    group: Option<&'a str>,
    /// The signal that ended the command, if one did.
    signal: Option<i32>,
    /// False when `--fail-fast` kept it from starting.
    ran: bool,
    /// Why the command could not start.
    error: Option<String>,
    duration_ms: u64,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let listed = meta_repo::list_projects(root)?;
    let chosen = args.select.choose(&workspace, listed.projects)?;
    let chosen = args.select.keep_dirty(root, chosen);
    let (projects, uninitialized): (Vec<Project>, Vec<Project>) =
        chosen.into_iter().partition(|p| {
            p.active && std::fs::symlink_metadata(root.join(&p.path).join(".git")).is_ok()
        });
    if !uninitialized.is_empty() {
        ctx.ui.note(format!(
            "{} not initialised, not run there (`meta sync` checks them out): {}",
            count(uninitialized.len(), "project"),
            some_paths(uninitialized.iter().map(|p| p.path.as_str()))
        ));
    }
    if projects.is_empty() {
        if args.json {
            ctx.ui.print_json(&Vec::<ExecJson<'_>>::new())?;
        } else {
            ctx.ui.note("no initialised project to run in");
        }
        return Ok(ExitCode::SUCCESS);
    }

    let run = ExecRun {
        root,
        argv: &args.command,
        jobs: args.jobs.map_or_else(meta_workflow::cpus, usize::from),
        fail_fast: args.fail_fast,
    };
    let mut outcomes: Vec<Option<ExecOutcome>> = Vec::new();
    outcomes.resize_with(projects.len(), || None);
    let mut write_error: Option<std::io::Error> = None;
    // A command in every project is a bulk change to whoever follows the repositories.
    let bulk = crate::change_events::BulkChange::enter(&ctx.ui, &workspace, "exec");
    meta_workflow::exec(&run, &projects, |i, outcome| {
        if !args.json && write_error.is_none() {
            // Shown as soon as it and all before it are done: output streams in order.
            if let Err(e) = show(ctx, &projects[i], &outcome) {
                write_error = Some(e);
            }
        }
        outcomes[i] = Some(outcome);
    });
    drop(bulk);
    if let Some(error) = write_error {
        return Err(error.into());
    }
    let outcomes: Vec<ExecOutcome> = outcomes
        .into_iter()
        .map(|o| o.unwrap_or(ExecOutcome::NotRun))
        .collect();

    if args.json {
        let entries: Vec<ExecJson<'_>> = projects
            .iter()
            .zip(&outcomes)
            .map(|(project, outcome)| to_json(project, outcome))
            .collect();
        ctx.ui.print_json(&entries)?;
    }
    summarize(ctx, &args, &projects, &outcomes)
}

fn to_json<'a>(project: &'a Project, outcome: &ExecOutcome) -> ExecJson<'a> {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let (stdout, stderr, error) = match outcome {
        ExecOutcome::Finished { stdout, stderr, .. } => (text(stdout), text(stderr), None),
        ExecOutcome::CannotStart { error, .. } => {
            (String::new(), String::new(), Some(cannot_start(error)))
        }
        ExecOutcome::NotRun => (String::new(), String::new(), None),
    };
    ExecJson {
        path: &project.path,
        exit_code: outcome.exit_code(),
        stdout,
        stderr,
        name: &project.name,
        group: project.group.as_deref(),
        signal: outcome.signal(),
        ran: !matches!(outcome, ExecOutcome::NotRun),
        error,
        duration_ms: u64::try_from(outcome.duration().as_millis()).unwrap_or(u64::MAX),
    }
}

fn cannot_start(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "cannot start it: program not found".to_owned(),
        std::io::ErrorKind::PermissionDenied => "cannot start it: permission denied".to_owned(),
        _ => format!("cannot start it: {error}"),
    }
}

/// A project's header, then its output: stdout to stdout, stderr to stderr.
fn show(ctx: &Ctx<'_>, project: &Project, outcome: &ExecOutcome) -> std::io::Result<()> {
    let ui = &ctx.ui;
    let verdict = match outcome {
        ExecOutcome::Finished { .. } if outcome.succeeded() => String::new(),
        ExecOutcome::Finished { .. } => match (outcome.exit_code(), outcome.signal()) {
            (Some(code), _) => format!(" {}", ui.paint(styles::ERROR, format!("(exit {code})"))),
            (None, Some(signal)) => {
                format!(" {}", ui.paint(styles::ERROR, format!("(signal {signal})")))
            }
            (None, None) => format!(" {}", ui.paint(styles::ERROR, "(failed)")),
        },
        ExecOutcome::CannotStart { error, .. } => {
            format!(
                " {}",
                ui.paint(styles::ERROR, format!("({})", cannot_start(error)))
            )
        }
        ExecOutcome::NotRun => return Ok(()),
    };
    let header = format!(
        "{}{verdict}\n",
        ui.paint(styles::HEADER, format!("==> {} <==", project.path))
    );
    let mut out = std::io::stdout().lock();
    out.write_all(header.as_bytes())?;
    if let ExecOutcome::Finished { stdout, stderr, .. } = outcome {
        write_block(&mut out, stdout)?;
        out.flush()?;
        // Errors of the reader of stderr are not ours to report.
        let _ = write_block(&mut std::io::stderr().lock(), stderr);
    }
    out.flush()
}

/// `bytes`, ending with a newline so the next header starts a line.
fn write_block(out: &mut impl std::io::Write, bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(bytes)?;
    if bytes.last().is_some_and(|b| *b != b'\n') {
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The summary on stderr, and the exit code: 0 when every command succeeded.
fn summarize(
    ctx: &Ctx<'_>,
    args: &Args,
    projects: &[Project],
    outcomes: &[ExecOutcome],
) -> CliResult {
    let failed: Vec<(&Project, &ExecOutcome)> = projects
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| !o.succeeded() && !matches!(o, ExecOutcome::NotRun))
        .collect();
    let not_run: Vec<&str> = projects
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| matches!(o, ExecOutcome::NotRun))
        .map(|(p, _)| p.path.as_str())
        .collect();
    let ran = projects.len() - not_run.len();
    let program = args
        .command
        .first()
        .map_or_else(String::new, |p| p.to_string_lossy().into_owned());
    if !args.json {
        let mut summary = format!(
            "ran `{program}` in {}: {} succeeded, {} failed",
            count(ran, "project"),
            ran - failed.len(),
            failed.len()
        );
        if !not_run.is_empty() {
            let _ = write!(summary, ", {} not run", not_run.len());
        }
        ctx.ui.note(ctx.ui.paint_err(styles::DIM, summary));
    }
    if failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut error = CliError::new(format!(
        "`{program}` failed in {} of {}",
        failed.len(),
        count(ran, "project")
    ));
    for (project, outcome) in &failed {
        let why = match outcome {
            ExecOutcome::CannotStart { error, .. } => cannot_start(error),
            _ => match (outcome.exit_code(), outcome.signal()) {
                (Some(code), _) => format!("exit code {code}"),
                (None, Some(signal)) => format!("ended by signal {signal}"),
                (None, None) => "failed".to_owned(),
            },
        };
        error = error.with_cause(format!("{}: {why}", project.path));
    }
    if !not_run.is_empty() {
        error = error.with_hint(format!(
            "--fail-fast did not start it in {}: {}",
            count(not_run.len(), "project"),
            some_paths(not_run.iter().copied())
        ));
    }
    Err(error)
}

/// The first few paths, then how many more: a line stays readable over 200 projects.
fn some_paths<'a>(paths: impl ExactSizeIterator<Item = &'a str>) -> String {
    const SHOWN: usize = 10;
    let total = paths.len();
    let mut text = paths.take(SHOWN).collect::<Vec<_>>().join(", ");
    if total > SHOWN {
        let _ = write!(text, " and {} more", total - SHOWN);
    }
    text
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

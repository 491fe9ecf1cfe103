//! `meta template check [PATTERN…] [--checkout REF] [--json]`: each project's standing against
//! its template's commit (as `cruft check` judges it); exit 0 when every linked project is up
//! to date.

use std::process::ExitCode;

use meta_template_update::{CheckRequest, ProjectCheck, Standing};
use serde::Serialize;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::SelectArgs;

#[derive(clap::Args, Debug)]
#[command(after_long_help = JSON_HELP)]
pub struct Args {
    /// Compare with this branch, tag or commit of each template instead of the one recorded
    /// (`checkout` in `.cruft.json`) or the template's default branch.
    #[arg(long, value_name = "REF")]
    checkout: Option<String>,
    /// Seconds one template may take to fetch.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
    /// Print JSON (described below `meta template check --help`).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    select: SelectArgs,
}

const JSON_HELP: &str = "\
--json prints one object:
  {\"ok\" (every linked project up to date), \"projects\": [{\"path\", \"status\":
   \"up-to-date\"|\"behind\"|\"ahead\"|\"diverged\"|\"not-linked\"|\"failed\", \"template\",
   \"recorded\" (the commit in .cruft.json), \"target\" (the commit compared with),
   \"behind\" (commits, when behind), \"detail\" (why, when failed)}]}

A project is up to date when its recorded commit is the target, or when the template's files
are the same in both (as cruft judges it). Each template is fetched once per run. Exit 0 when
every linked project is up to date, 1 otherwise.";

#[derive(Serialize)]
struct CheckJson<'a> {
    ok: bool,
    projects: Vec<ProjectJson<'a>>,
}

#[derive(Serialize)]
struct ProjectJson<'a> {
    path: &'a str,
    status: &'static str,
    template: Option<&'a str>,
    recorded: Option<&'a str>,
    target: Option<&'a str>,
    behind: Option<usize>,
    detail: Option<&'a str>,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let (workspace, projects, repos) = super::selected_projects(
        ctx,
        &args.select,
        args.timeout,
        args.checkout.as_deref(),
        "cannot check the templates",
    )?;
    let root = workspace.root();
    let checks = meta_template_update::check(
        &CheckRequest {
            root,
            projects: &projects,
            checkout: args.checkout.as_deref(),
        },
        &repos,
    );
    let ok = !checks.iter().any(|c| c.standing.is_problem());
    if args.json {
        ctx.ui.print_json(&CheckJson {
            ok,
            projects: checks.iter().map(to_json).collect(),
        })?;
    } else {
        show(ctx, &checks)?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn to_json(check: &ProjectCheck) -> ProjectJson<'_> {
    ProjectJson {
        path: &check.path,
        status: check.standing.as_str(),
        template: check.template.as_deref(),
        recorded: check.recorded.as_deref(),
        target: check.target.as_deref(),
        behind: match check.standing {
            Standing::Behind { commits } => Some(commits),
            _ => None,
        },
        detail: match &check.standing {
            Standing::Failed(why) => Some(why),
            _ => None,
        },
    }
}

fn short(id: Option<&str>) -> &str {
    id.map_or("-", |id| id.get(..7).unwrap_or(id))
}

fn show(ctx: &Ctx<'_>, checks: &[ProjectCheck]) -> Result<(), CliError> {
    let width = checks.iter().map(|c| c.path.len()).max().unwrap_or(0);
    for check in checks {
        let what = match &check.standing {
            Standing::UpToDate => format!("up to date ({})", short(check.recorded.as_deref())),
            Standing::Behind { commits } => format!(
                "behind: {commits} template commit{} ({} -> {})",
                if *commits == 1 { "" } else { "s" },
                short(check.recorded.as_deref()),
                short(check.target.as_deref())
            ),
            Standing::Ahead => format!(
                "ahead of the template's target ({} is past {})",
                short(check.recorded.as_deref()),
                short(check.target.as_deref())
            ),
            Standing::Diverged => format!(
                "diverged from the template ({} and {})",
                short(check.recorded.as_deref()),
                short(check.target.as_deref())
            ),
            Standing::NotLinked => "not linked (no .cruft.json)".to_owned(),
            Standing::Failed(why) => format!("cannot tell: {why}"),
        };
        ctx.ui.println(format!("{:<width$}  {what}", check.path))?;
    }
    let problems = checks.iter().filter(|c| c.standing.is_problem()).count();
    if problems > 0 {
        ctx.ui.note(format!(
            "{problems} project{} not up to date with {} template",
            if problems == 1 { " is" } else { "s are" },
            if problems == 1 { "its" } else { "their" }
        ));
    }
    Ok(())
}

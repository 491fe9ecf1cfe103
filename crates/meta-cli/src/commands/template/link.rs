//! `meta template link TEMPLATE PROJECT [--commit REV] [KEY=VALUE…]`: link an existing
//! project to the template it was made from (`.cruft.json`, as `cruft link` writes it), so
//! `meta template check|diff|update` follow it from then on.

use std::process::ExitCode;
use std::time::Duration;

use meta_template_update::TemplateRepos;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The template: a git URL or a local repository.
    #[arg(value_name = "TEMPLATE")]
    template: String,
    /// The project: its path or name (`meta project list` shows them).
    #[arg(value_name = "PROJECT")]
    project: String,
    /// The template commit (branch, tag or id) the project was made from; default: its HEAD.
    #[arg(long, value_name = "REV")]
    commit: Option<String>,
    /// Answers the project was made with, over the template's defaults.
    #[arg(value_name = "KEY=VALUE")]
    answers: Vec<String>,
    /// Seconds the template may take to fetch.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    timeout: u64,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    if args.timeout == 0 {
        return Err(CliError::usage("--timeout must be at least 1"));
    }
    for value in [Some(&args.template), args.commit.as_ref()]
        .into_iter()
        .flatten()
    {
        if value.starts_with('-') {
            return Err(CliError::usage(format!("`{value}` cannot start with `-`")));
        }
    }
    let mut answers = Vec::new();
    for pair in &args.answers {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(CliError::usage(format!("`{pair}` is not KEY=VALUE"))
                .with_hint("for example `project_name=Demo`"));
        };
        answers.push((key.to_owned(), value.to_owned()));
    }
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let listed = meta_repo::list_projects(root)?;
    let matching: Vec<_> = listed
        .projects
        .iter()
        .filter(|p| p.path == args.project || p.name == args.project)
        .collect();
    let [project] = matching[..] else {
        let error = if matching.is_empty() {
            CliError::usage(format!("no project is `{}`", args.project))
        } else {
            CliError::usage(format!("`{}` names several projects", args.project))
                .with_hint("give the project's path (`src/GROUP/NAME`)")
        };
        return Err(error.with_hint("`meta project list` shows the projects"));
    };
    let dir = root.join(&project.path);
    if !dir.join(".git").exists() {
        return Err(
            CliError::new(format!("`{}` is not checked out", project.path))
                .with_hint(format!("`meta sync {}` clones it", project.path)),
        );
    }
    let repos = TemplateRepos::new(Duration::from_secs(args.timeout))
        .map_err(|e| CliError::context("cannot link the project", &e))?;
    let commit = meta_template_update::link(
        &dir,
        &args.template,
        args.commit.as_deref(),
        &answers,
        &repos,
    )
    .map_err(|why| {
        CliError::new(format!("cannot link `{}` to its template", project.path)).with_cause(why)
    })?;
    ctx.ui.println(format!(
        "linked `{}` to `{}` at {} (`.cruft.json` written; commit it there)",
        project.path,
        args.template,
        commit.get(..7).unwrap_or(&commit)
    ))?;
    Ok(ExitCode::SUCCESS)
}

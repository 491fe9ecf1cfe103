//! `meta template update [PATTERN…] [--checkout REF] [--set KEY=VALUE…] [--accept-hooks yes|no]
//! [--allow-untracked-files] [--commit] [--dry-run] [--json]`: every linked project merged with
//! its template's new commit by git (the rules are in `meta_template_update::update`).

use std::process::ExitCode;

use meta_template_update::{UpdateRequest, Updated};
use serde::Serialize;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::SelectArgs;

#[derive(clap::Args, Debug)]
#[command(after_long_help = JSON_HELP)]
pub struct Args {
    /// Update to this branch, tag or commit of each template instead of the recorded checkout
    /// or the template's default branch.
    #[arg(long, value_name = "REF")]
    checkout: Option<String>,
    /// Change an answer for the new render (repeat for several).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Run the template's hooks in the temporary renders.
    #[arg(long, value_enum, default_value = "yes", value_name = "yes|no")]
    accept_hooks: YesNo,
    /// Update projects that hold untracked files (never one the update would overwrite).
    #[arg(long)]
    allow_untracked_files: bool,
    /// Commit each update that merged cleanly.
    #[arg(long)]
    commit: bool,
    /// Say what would change, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Seconds one template may take to fetch.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    timeout: u64,
    /// Print JSON (described below `meta template update --help`).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    select: SelectArgs,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum YesNo {
    Yes,
    No,
}

const JSON_HELP: &str = "\
--json prints one object:
  {\"ok\", \"dry_run\", \"projects\": [{\"path\", \"status\": \"updated\"|\"conflicts\"|\"up-to-date\"|
   \"not-linked\"|\"refused\"|\"failed\", \"from\", \"to\", \"files\": [\"path\"…],
   \"conflicts\": [\"path\"…], \"detail\"}]}

Each project is merged by git: the template rendered at the recorded commit (the base) and at
the target, with the recorded answers, and `git merge-tree` of the project with the new
render. Conflicts are left as git conflicts (`git status` shows them, `git mergetool` works,
`git reset --hard` undoes). A project with changes, untracked files (unless allowed) or a
merge in progress is refused and left as it was. Exit 1 when any project has conflicts, was
refused or failed.";

#[derive(Serialize)]
struct UpdateJson<'a> {
    ok: bool,
    dry_run: bool,
    projects: Vec<ProjectJson<'a>>,
}

#[derive(Serialize)]
struct ProjectJson<'a> {
    path: &'a str,
    status: &'static str,
    from: Option<&'a str>,
    to: Option<&'a str>,
    files: &'a [String],
    conflicts: &'a [String],
    detail: Option<&'a str>,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let mut set = Vec::new();
    for pair in &args.set {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(CliError::usage(format!("`--set {pair}` is not KEY=VALUE"))
                .with_hint("for example `--set project_name=Demo`"));
        };
        set.push((key.to_owned(), value.to_owned()));
    }
    let (workspace, projects, repos) = super::selected_projects(
        ctx,
        &args.select,
        args.timeout,
        args.checkout.as_deref(),
        "cannot update from the templates",
    )?;
    let root = workspace.root();
    let results = meta_template_update::update(
        &UpdateRequest {
            root,
            projects: &projects,
            checkout: args.checkout.as_deref(),
            set: &set,
            accept_hooks: args.accept_hooks == YesNo::Yes,
            allow_untracked_files: args.allow_untracked_files,
            commit: args.commit,
            dry_run: args.dry_run,
        },
        &repos,
    );
    let ok = !results.iter().any(|(_, u)| u.is_problem());
    if args.json {
        ctx.ui.print_json(&UpdateJson {
            ok,
            dry_run: args.dry_run,
            projects: results.iter().map(|(p, u)| to_json(p, u)).collect(),
        })?;
    } else {
        show(ctx, &results, args.dry_run)?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn to_json<'a>(path: &'a str, updated: &'a Updated) -> ProjectJson<'a> {
    let (from, to, files, conflicts, detail): (_, _, &[String], &[String], _) = match updated {
        Updated::Merged { from, to, files } => {
            (Some(from.as_str()), Some(to.as_str()), files, &[], None)
        }
        Updated::Conflicts {
            from,
            to,
            files,
            conflicts,
        } => (
            Some(from.as_str()),
            Some(to.as_str()),
            files,
            conflicts,
            None,
        ),
        Updated::Refused(why) | Updated::Failed(why) => (None, None, &[], &[], Some(why.as_str())),
        Updated::NotLinked | Updated::UpToDate => (None, None, &[], &[], None),
    };
    ProjectJson {
        path,
        status: updated.as_str(),
        from,
        to,
        files,
        conflicts,
        detail,
    }
}

fn short(id: &str) -> &str {
    id.get(..7).unwrap_or(id)
}

fn show(ctx: &Ctx<'_>, results: &[(String, Updated)], dry_run: bool) -> Result<(), CliError> {
    let width = results.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    for (path, updated) in results {
        let what = match updated {
            Updated::NotLinked => "not linked (no .cruft.json)".to_owned(),
            Updated::UpToDate => "up to date".to_owned(),
            Updated::Merged { from, to, files } => format!(
                "{} {} -> {}: {} file{}{}",
                if dry_run { "would update" } else { "updated" },
                short(from),
                short(to),
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                if dry_run { "" } else { " (staged)" }
            ),
            Updated::Conflicts {
                from,
                to,
                conflicts,
                ..
            } => format!(
                "{} {} -> {} with {} conflict{}: {}",
                if dry_run { "would update" } else { "updated" },
                short(from),
                short(to),
                conflicts.len(),
                if conflicts.len() == 1 { "" } else { "s" },
                conflicts.join(", ")
            ),
            Updated::Refused(why) => format!("refused, nothing changed: {why}"),
            Updated::Failed(why) => format!("failed: {why}"),
        };
        ctx.ui.println(format!("{path:<width$}  {what}"))?;
    }
    if results
        .iter()
        .any(|(_, u)| matches!(u, Updated::Conflicts { .. }))
        && !dry_run
    {
        ctx.ui.note(
            "resolve the conflicts in each project (`git status` lists them, `git mergetool` helps), then commit; `git reset --hard` undoes an update",
        );
    }
    Ok(())
}

//! `meta template diff [PATTERN…] [--incoming] [--checkout REF] [--exit-code]`: each linked
//! project against its template rendered at the recorded commit (as `cruft diff` shows it), or
//! with `--incoming` what `meta template update` would bring; paths prefixed by the project's
//! path, projects in project order.

use std::process::ExitCode;

use meta_template_update::{TemplateDiff, UpdateRequest};

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::SelectArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show what an update would bring (the template's changes from the recorded commit to the
    /// target) instead of how the project differs from its template.
    #[arg(long)]
    incoming: bool,
    /// With --incoming: the branch, tag or commit to compare with.
    #[arg(long, value_name = "REF", requires = "incoming")]
    checkout: Option<String>,
    /// Exit 1 when any project differs.
    #[arg(long)]
    exit_code: bool,
    /// Seconds one template may take to fetch.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    timeout: u64,
    #[command(flatten)]
    select: SelectArgs,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let (workspace, projects, repos) = super::selected_projects(
        ctx,
        &args.select,
        args.timeout,
        args.checkout.as_deref(),
        "cannot diff against the templates",
    )?;
    let root = workspace.root();
    let results = meta_template_update::diff(
        &UpdateRequest {
            root,
            projects: &projects,
            checkout: args.checkout.as_deref(),
            set: &[],
            accept_hooks: true,
            allow_untracked_files: true,
            commit: false,
            dry_run: true,
        },
        args.incoming,
        &repos,
    );
    let mut differs = false;
    let mut failed = Vec::new();
    for (path, result) in &results {
        match result {
            TemplateDiff::NotLinked => {}
            TemplateDiff::Patch(patch) => {
                if !patch.is_empty() {
                    differs = true;
                    ctx.ui.print(patch)?;
                }
            }
            TemplateDiff::Failed(why) => failed.push(format!("`{path}`: {why}")),
        }
    }
    if !failed.is_empty() {
        let mut error = CliError::new("cannot diff some projects against their template");
        for cause in failed {
            error = error.with_cause(cause);
        }
        return Err(error);
    }
    Ok(if differs && args.exit_code {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

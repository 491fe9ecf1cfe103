//! `meta project list [--json] [--group G] [--dirty] [PATTERN…]`: the projects, one per line.

use std::fmt::Write as _;
use std::process::ExitCode;

use meta_repo::Project;
use serde::Serialize;

use crate::cli::Ctx;
use crate::error::CliResult;
use crate::select::SelectArgs;
use crate::ui::styles;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON: `[{"path", "name", "group", "url", "pinned", "initialized"}]`.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    select: SelectArgs,
}

#[derive(Serialize)]
struct ProjectJson<'a> {
    path: &'a str,
    name: &'a str,
    group: Option<&'a str>,
    url: Option<&'a str>,
    /// The commit the superproject's index pins.
    pinned: Option<String>,
    /// Active and checked out (what `git submodule status` shows without `-`).
    initialized: bool,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let listed = meta_repo::list_projects(root)?;
    let chosen = args.select.choose(&workspace, listed.projects)?;
    let projects = args.select.keep_dirty(root, chosen);
    let initialized = |p: &Project| {
        p.active && std::fs::symlink_metadata(root.join(&p.path).join(".git")).is_ok()
    };
    if args.json {
        let entries: Vec<ProjectJson<'_>> = projects
            .iter()
            .map(|p| ProjectJson {
                path: &p.path,
                name: &p.name,
                group: p.group.as_deref(),
                url: p.url(),
                pinned: p.pinned.map(|id| id.to_string()),
                initialized: initialized(p),
            })
            .collect();
        ctx.ui.print_json(&entries)?;
        return Ok(ExitCode::SUCCESS);
    }
    if projects.is_empty() {
        let what = if args.select.narrows() {
            "no project matches"
        } else {
            "no projects yet (add one with `meta project add URL --group G`)"
        };
        ctx.ui.note(what);
        return Ok(ExitCode::SUCCESS);
    }
    let width = projects
        .iter()
        .map(|p| p.path.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for project in &projects {
        let mut line = format!(
            "{}{}  {}",
            ctx.ui.paint(styles::EMPHASIS, &project.path),
            " ".repeat(width - project.path.chars().count()),
            project.url().unwrap_or("(no URL)")
        );
        if !initialized(project) {
            let _ = write!(line, "  {}", ctx.ui.paint(styles::DIM, "(not initialised)"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    ctx.ui.print(out)?;
    Ok(ExitCode::SUCCESS)
}

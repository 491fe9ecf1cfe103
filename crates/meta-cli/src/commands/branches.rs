//! `meta branches [NAME] [--json]`: one row per topic (a superproject branch other than its
//! remote's default), with the projects that have a same-named branch: checked out or not,
//! ahead/behind their tracked branch, pushed or not, and whether the superproject's topic
//! commit pins their topic tip. Read from refs only (`pushed` as of the last fetch).

use std::process::ExitCode;

use meta_change::{ProjectTopic, RepoTopic, Topic};
use serde::Serialize;

use crate::change_error::change_error;
use crate::cli::Ctx;
use crate::error::{CliError, CliResult};

#[derive(clap::Args, Debug)]
#[command(after_long_help = JSON_HELP)]
pub struct Args {
    /// Only this topic.
    #[arg(value_name = "NAME")]
    name: Option<String>,
    /// Print JSON (described below `meta branches --help`).
    #[arg(long)]
    json: bool,
}

const JSON_HELP: &str = "\
--json prints a list, one object per topic, sorted by name:
  {\"name\", \"current\" (the superproject is on it), \"superproject\": BRANCH,
   \"projects\": [{\"path\", \"pinned\", \"pin_matches\", …BRANCH}]}
  BRANCH = {\"tip\", \"checked_out\", \"tracked\" (branch compared with, or null),
            \"ahead\", \"behind\" (against origin/<tracked>; null without it),
            \"pushed\" (origin/NAME holds the tip), \"unpushed\" (commits origin/NAME lacks;
            null without origin/NAME)}
  \"pinned\" is the commit the superproject's NAME records for the project, \"pin_matches\"
  whether that is the project's NAME tip. \"pushed\" comes from remote-tracking refs: fetch
  first for a fresh answer.";

#[derive(Serialize)]
struct TopicJson<'a> {
    name: &'a str,
    current: bool,
    superproject: BranchJson<'a>,
    projects: Vec<ProjectJson<'a>>,
}

#[derive(Serialize)]
struct BranchJson<'a> {
    tip: String,
    checked_out: bool,
    tracked: Option<&'a str>,
    ahead: Option<usize>,
    behind: Option<usize>,
    pushed: bool,
    unpushed: Option<usize>,
}

#[derive(Serialize)]
struct ProjectJson<'a> {
    path: &'a str,
    pinned: Option<String>,
    pin_matches: bool,
    #[serde(flatten)]
    branch: BranchJson<'a>,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let listed = meta_repo::list_projects(root)?;
    let topics = meta_change::topics(root, &listed.projects, args.name.as_deref())
        .map_err(|e| change_error("cannot list topics", e))?;
    if let Some(name) = &args.name
        && topics.is_empty()
    {
        return Err(
            CliError::new(format!("there is no topic `{name}` in the superproject"))
                .with_hint("`meta branches` lists the topics; `meta branch NAME` starts one"),
        );
    }
    if args.json {
        let json: Vec<TopicJson<'_>> = topics.iter().map(topic_json).collect();
        ctx.ui.print_json(&json)?;
        return Ok(ExitCode::SUCCESS);
    }
    if topics.is_empty() {
        ctx.ui
            .note("no topic yet: `meta branch NAME [PATTERN…]` starts one");
        return Ok(ExitCode::SUCCESS);
    }
    for topic in &topics {
        show(ctx, topic)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn topic_json(topic: &Topic) -> TopicJson<'_> {
    TopicJson {
        name: &topic.name,
        current: topic.current,
        superproject: branch_json(&topic.superproject),
        projects: topic
            .projects
            .iter()
            .map(|p: &ProjectTopic| ProjectJson {
                path: &p.path,
                pinned: p.pinned.map(|id| id.to_string()),
                pin_matches: p.pin_matches,
                branch: branch_json(&p.branch),
            })
            .collect(),
    }
}

fn branch_json(branch: &RepoTopic) -> BranchJson<'_> {
    BranchJson {
        tip: branch.tip.to_string(),
        checked_out: branch.checked_out,
        tracked: branch.tracked.as_deref(),
        ahead: branch.ahead,
        behind: branch.behind,
        pushed: branch.pushed,
        unpushed: branch.unpushed,
    }
}

fn show(ctx: &Ctx<'_>, topic: &Topic) -> Result<(), CliError> {
    let mark = if topic.current { "*" } else { " " };
    ctx.ui.println(format!(
        "{mark} {}  ({} project{})",
        topic.name,
        topic.projects.len(),
        if topic.projects.len() == 1 { "" } else { "s" }
    ))?;
    let width = topic
        .projects
        .iter()
        .map(|p| p.path.len())
        .chain([14])
        .max()
        .unwrap_or(14);
    ctx.ui.println(format!(
        "    {:<width$}  {}",
        "(superproject)",
        describe(&topic.superproject)
    ))?;
    for project in &topic.projects {
        let pin = match project.pinned {
            Some(_) if project.pin_matches => "pinned at its tip".to_owned(),
            Some(pin) => format!("pin {} is not its tip", pin.to_hex_with_len(7)),
            None => "not pinned".to_owned(),
        };
        ctx.ui.println(format!(
            "    {:<width$}  {}, {pin}",
            project.path,
            describe(&project.branch)
        ))?;
    }
    Ok(())
}

fn describe(branch: &RepoTopic) -> String {
    let mut parts = vec![format!(
        "{}{}",
        branch.tip.to_hex_with_len(7),
        if branch.checked_out {
            " checked out"
        } else {
            ""
        }
    )];
    match (&branch.tracked, branch.ahead, branch.behind) {
        (Some(tracked), Some(ahead), Some(behind)) => {
            parts.push(format!("{ahead} ahead, {behind} behind origin/{tracked}"));
        }
        (Some(tracked), _, _) => parts.push(format!("no origin/{tracked} to compare with")),
        (None, _, _) => parts.push("no tracked branch".to_owned()),
    }
    parts.push(match branch.unpushed {
        Some(0) => "pushed".to_owned(),
        Some(n) => format!("{n} not pushed"),
        None => "not pushed".to_owned(),
    });
    parts.join(", ")
}

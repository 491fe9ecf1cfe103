//! `meta check pins [RANGE] [PATTERN…] [--group G] [--landed] [--json]`: is every pin the
//! superproject records (HEAD's, or every commit's of RANGE) on its project's remote now? The
//! remote itself is asked (`meta_change::check_pins`), never remote-tracking refs. Exit 1 on a
//! pin `local-only` or `unverifiable` (with `--landed`: on any pin not landed); usable as a CI
//! step on any host.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use meta_change::{PinCheck, PinStatus, PinsError, PinsRequest};
use serde::Serialize;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::SelectArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Check that every pin is on its project's remote now (asking each remote)
    Pins(PinsArgs),
}

#[derive(clap::Args, Debug)]
#[command(
    override_usage = "meta check pins [RANGE] [PATTERN…] [--group G] [--landed] [--json]",
    after_long_help = PINS_HELP
)]
pub struct PinsArgs {
    /// A superproject range (an argument with `..`, like `origin/main..HEAD`, or `C^!`): every
    /// pin any of its commits records; without one, HEAD's pins. Other arguments are project
    /// globs (`src/libraries/*`, `api-*`) narrowing the projects checked.
    #[arg(value_name = "RANGE|PATTERN")]
    targets: Vec<String>,
    /// Only projects in this group (a folder under `src/`); repeat for several.
    #[arg(long, value_name = "G")]
    group: Vec<String>,
    /// Fail (exit 1) on any pin not reachable from its project's tracked branch on the remote.
    #[arg(long)]
    landed: bool,
    /// Projects asked at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    jobs: usize,
    /// Seconds one remote may take to answer before its pins are `unverifiable`.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
    /// Print JSON (described below `meta check pins --help`).
    #[arg(long)]
    json: bool,
}

const PINS_HELP: &str = "\
Each project's remote (`origin`) is asked with one `git fetch` of its branches and tags into a
private namespace (refs/meta/check/…, deleted afterwards); remote-tracking refs are neither read
nor moved, so a commit force-pushed away on the remote is caught even when origin/… still shows
it. Statuses:
  landed        reachable from the project's tracked branch on the remote
  on-remote     reachable from some branch or tag of the remote
  local-only    on no branch or tag of the remote (teammates cannot fetch it)
  unverifiable  the remote could not be asked (unreachable, auth, no `origin`, not cloned)
  rewound       (a flag) not a descendant of the pin the commit's first parent records
Exit 0 when every pin is on the remote; 1 on local-only or unverifiable (with --landed: on any
pin not landed); 2 on a usage error (unknown range, a pattern matching no project).

--json prints one object:
  {\"range\" (null: HEAD), \"ok\" (exit 0), \"pins\": [{\"path\", \"pin\", \"status\":
   \"landed\"|\"on-remote\"|\"local-only\"|\"unverifiable\", \"rewound\", \"previous\" (the pin
   it replaced, or null), \"tracked\" (branch asked about for landed, or null), \"commits\"
   (superproject commits recording it), \"detail\" (why, or null)}],
   \"summary\": {\"landed\", \"on_remote\", \"local_only\", \"unverifiable\", \"rewound\"}}";

#[derive(Serialize)]
struct Report<'a> {
    range: Option<&'a str>,
    ok: bool,
    pins: Vec<PinJson<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct PinJson<'a> {
    path: &'a str,
    pin: String,
    status: &'static str,
    rewound: bool,
    previous: Option<String>,
    tracked: Option<&'a str>,
    commits: Vec<String>,
    detail: Option<&'a str>,
}

#[derive(Serialize, Default)]
struct Summary {
    landed: usize,
    on_remote: usize,
    local_only: usize,
    unverifiable: usize,
    rewound: usize,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    match args.command {
        Command::Pins(args) => pins(ctx, args),
    }
}

/// Is this positional argument a range rather than a project glob?
fn is_range(arg: &str) -> bool {
    arg.contains("..") || arg.ends_with("^!")
}

fn pins(ctx: &mut Ctx<'_>, args: PinsArgs) -> CliResult {
    let (ranges, patterns): (Vec<String>, Vec<String>) =
        args.targets.into_iter().partition(|a| is_range(a));
    if ranges.len() > 1 {
        return Err(CliError::usage(format!(
            "one range at most, got {}",
            ranges
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        ))
        .with_hint("`A..C` covers the commits of `A..B` and `B..C`"));
    }
    if args.jobs == 0 || args.timeout == 0 {
        return Err(CliError::usage("--jobs and --timeout must be at least 1"));
    }
    let range = ranges.into_iter().next();
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let listed = meta_repo::list_projects(root)?;
    let select = SelectArgs {
        group: args.group,
        dirty: false,
        patterns,
    };
    let paths = if select.narrows() {
        let chosen = select.choose(&workspace, listed.projects.clone())?;
        Some(chosen.into_iter().map(|p| p.path).collect())
    } else {
        None
    };
    let request = PinsRequest {
        range: range.clone(),
        paths,
        jobs: args.jobs,
        timeout: Duration::from_secs(args.timeout),
    };
    let checks = meta_change::check_pins(root, &listed.projects, &request).map_err(|e| match e {
        PinsError::BadRange { .. } => CliError::usage(e.to_string()).with_hint(
            "a range names superproject commits, like `origin/main..HEAD`; `git log --oneline RANGE` at the root shows what it covers",
        ),
        PinsError::Git(_) => CliError::context("cannot read the superproject's pins", &e),
    })?;

    let mut summary = Summary::default();
    let mut ok = true;
    for check in &checks {
        match check.status {
            PinStatus::Landed => summary.landed += 1,
            PinStatus::OnRemote => summary.on_remote += 1,
            PinStatus::LocalOnly => summary.local_only += 1,
            PinStatus::Unverifiable => summary.unverifiable += 1,
        }
        summary.rewound += usize::from(check.rewound);
        ok &= failing(check, args.landed).is_none();
    }
    let code = if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if args.json {
        ctx.ui.print_json(&Report {
            range: range.as_deref(),
            ok,
            pins: checks.iter().map(pin_json).collect(),
            summary,
        })?;
        return Ok(code);
    }
    show(ctx, &checks, &summary, range.as_deref(), args.landed)?;
    Ok(code)
}

/// Why this pin makes the command fail, if it does.
fn failing(check: &PinCheck, landed: bool) -> Option<&'static str> {
    match check.status {
        PinStatus::LocalOnly => Some("local-only"),
        PinStatus::Unverifiable => Some("unverifiable"),
        PinStatus::OnRemote if landed => Some("not landed"),
        _ => None,
    }
}

fn pin_json(check: &PinCheck) -> PinJson<'_> {
    PinJson {
        path: &check.path,
        pin: check.pin.to_string(),
        status: check.status.as_str(),
        rewound: check.rewound,
        previous: check.previous.map(|p| p.to_string()),
        tracked: check.tracked.as_deref(),
        commits: check.commits.iter().map(ToString::to_string).collect(),
        detail: check.detail.as_deref(),
    }
}

fn show(
    ctx: &Ctx<'_>,
    checks: &[PinCheck],
    summary: &Summary,
    range: Option<&str>,
    landed: bool,
) -> Result<(), CliError> {
    let scope = range.map_or_else(|| "HEAD".to_owned(), |r| format!("`{r}`"));
    if checks.is_empty() {
        ctx.ui.println(format!("no pins to check in {scope}"))?;
        return Ok(());
    }
    let width = checks.iter().map(|c| c.path.len()).max().unwrap_or(0);
    for check in checks {
        let mut line = format!(
            "{:<width$}  {}  {}",
            check.path,
            check.pin.to_hex_with_len(7),
            check.status.as_str()
        );
        if check.status == PinStatus::Landed
            && let Some(tracked) = &check.tracked
        {
            let _ = write!(line, " on {tracked}");
        }
        if check.rewound
            && let Some(previous) = check.previous
        {
            let _ = write!(
                line,
                ", rewound (does not descend from {})",
                previous.to_hex_with_len(7)
            );
        }
        if let Some(detail) = &check.detail {
            let _ = write!(line, ": {detail}");
        }
        ctx.ui.println(line)?;
    }
    let mut parts = Vec::new();
    for (n, word) in [
        (summary.landed, "landed"),
        (summary.on_remote, "on the remote, not landed"),
        (summary.local_only, "local-only"),
        (summary.unverifiable, "unverifiable"),
        (summary.rewound, "rewound"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    ctx.ui.println(format!(
        "{} pin{} in {scope}: {}",
        checks.len(),
        if checks.len() == 1 { "" } else { "s" },
        parts.join(", ")
    ))?;
    let bad: Vec<&PinCheck> = checks
        .iter()
        .filter(|c| failing(c, landed).is_some())
        .collect();
    if bad.iter().any(|c| c.status == PinStatus::LocalOnly) {
        ctx.ui.warn(
            "local-only pins break teammates' `meta sync`: push them (`meta push`, or `git -C PATH push origin COMMIT:refs/heads/BRANCH`)",
        );
    }
    if bad.iter().any(|c| c.status == PinStatus::Unverifiable) {
        ctx.ui.warn(
            "unverifiable pins: check each project's `origin` URL and access (`git -C PATH ls-remote origin`), then run it again",
        );
    }
    if landed && bad.iter().any(|c| c.status == PinStatus::OnRemote) {
        ctx.ui.warn(
            "pins not landed: merge their reviews on the tracked branch, then re-pin (`meta land`)",
        );
    }
    Ok(())
}

//! `meta init [DIR]`: a new meta-repo from the built-in template (`templates/metarepo/`, a plain
//! cookiecutter template embedded in the binary), then its git repository and first commit.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use include_dir::{Dir, include_dir};
use meta_template::{NoPrompt, Raw, RenderOptions, Template, render};
use meta_workspace::{CONFIG_RELATIVE_PATH, Config};

use super::templating::{TerminalPrompter, parse_extra_context};
use crate::cli::{Ctx, current_dir};
use crate::error::{CliError, CliResult};

/// The meta-repo template, as kept in the repository.
static METAREPO_TEMPLATE: Dir<'static> =
    include_dir!("$CARGO_MANIFEST_DIR/../../templates/metarepo");

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder to create (default: the project's slug in the current folder), then template
    /// variables as KEY=VALUE.
    #[arg(value_name = "DIR|KEY=VALUE")]
    dir_and_context: Vec<String>,
    /// Ask nothing: take every default (and the KEY=VALUE given).
    #[arg(long)]
    no_input: bool,
    /// Do not create the git repository and its first commit.
    #[arg(long)]
    no_git: bool,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let (dir, extra) = match args.dir_and_context.split_first() {
        Some((first, rest)) if !first.contains('=') => (Some(PathBuf::from(first)), rest),
        _ => (None, args.dir_and_context.as_slice()),
    };
    let mut extra_context = parse_extra_context(extra)?;
    let cwd = current_dir()?;
    if let Some(dir) = &dir {
        refuse_existing(&cwd.join(dir))?;
        // The folder's name is the meta-repo's name unless one is given.
        if !extra_context.iter().any(|(k, _)| k == "project_name")
            && let Some(name) = cwd.join(dir).file_name()
        {
            extra_context.push((
                "project_name".into(),
                Raw::Str(name.to_string_lossy().into_owned()),
            ));
        }
    }

    let template_copy = tempfile::Builder::new()
        .prefix("meta-init-template-")
        .tempdir()
        .map_err(|e| CliError::context("cannot create a temporary folder", &e))?;
    let template_dir = template_copy.path().join("metarepo");
    fs_err::create_dir_all(&template_dir)
        .map_err(|e| CliError::context("cannot unpack the built-in meta-repo template", &e))?;
    METAREPO_TEMPLATE
        .extract(&template_dir)
        .map_err(|e| CliError::context("cannot unpack the built-in meta-repo template", &e))?;

    // Render beside the destination, then move into place: a failure leaves nothing behind.
    let target_parent = match &dir {
        Some(dir) => absolute_parent(&cwd.join(dir)),
        None => cwd.clone(),
    };
    let created_parent = create_parent(&target_parent)?;
    let result = render_and_place(
        ctx,
        &template_dir,
        &target_parent,
        dir.as_deref(),
        &cwd,
        extra_context,
        args.no_input,
    );
    let target = match result {
        Ok(target) => target,
        Err(error) => {
            if let Some(created) = created_parent {
                let _ = fs_err::remove_dir_all(created);
            }
            return Err(error);
        }
    };
    let config_path = target.join(CONFIG_RELATIVE_PATH);
    if let Err(error) = Config::load(&config_path) {
        let _ = fs_err::remove_dir_all(&target);
        return Err(CliError::from(error)
            .with_hint("this is a bug in meta's built-in template; please report it"));
    }
    if !args.no_git
        && let Err(error) = git_init(&target)
    {
        let _ = fs_err::remove_dir_all(&target);
        return Err(error);
    }
    ctx.ui.note(format!(
        "created the meta-repo `{}`{}",
        target.display(),
        if args.no_git {
            ""
        } else {
            " with its first commit"
        }
    ));
    ctx.ui.println(target.display().to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn render_and_place(
    ctx: &Ctx<'_>,
    template_dir: &Path,
    parent: &Path,
    dir: Option<&Path>,
    cwd: &Path,
    extra_context: Vec<(String, Raw)>,
    no_input: bool,
) -> Result<PathBuf, CliError> {
    let staging = tempfile::Builder::new()
        .prefix(".meta-init-")
        .tempdir_in(parent)
        .map_err(|e| {
            CliError::context(
                format!("cannot create a folder in `{}`", parent.display()),
                &e,
            )
        })?;
    let template = Template::open(template_dir)?;
    let mut options = RenderOptions::new(staging.path());
    options.no_input = no_input;
    options.extra_context = extra_context;
    options.accept_hooks = false;
    let project = if no_input {
        render(&template, &options, &mut NoPrompt)?
    } else {
        if !std::io::stdin().is_terminal() {
            ctx.ui.note("standard input is not a terminal: reading answers from it (pass --no-input to take every default)");
        }
        render(&template, &options, &mut TerminalPrompter { ui: &ctx.ui })?
    };
    let target = if let Some(dir) = dir {
        cwd.join(dir)
    } else {
        let name = project
            .project_dir
            .file_name()
            .ok_or_else(|| CliError::new("the meta-repo's folder name rendered empty"))?;
        parent.join(name)
    };
    refuse_existing(&target)?;
    fs_err::rename(&project.project_dir, &target)
        .map_err(|e| CliError::context(format!("cannot create `{}`", target.display()), &e))?;
    Ok(target)
}

/// `meta init` never writes into an existing meta-repo or a folder with anything in it.
fn refuse_existing(target: &Path) -> Result<(), CliError> {
    if target.join(CONFIG_RELATIVE_PATH).is_file() {
        return Err(
            CliError::new(format!("`{}` is already a meta-repo", target.display()))
                .with_hint("nothing was changed; use `meta status` there, or give another folder"),
        );
    }
    if target.exists() {
        let empty = target.is_dir()
            && fs_err::read_dir(target)
                .map_err(|e| CliError::context(format!("cannot read `{}`", target.display()), &e))?
                .next()
                .is_none();
        if !empty {
            return Err(CliError::new(format!(
                "`{}` already exists and is not empty",
                target.display()
            ))
            .with_hint("nothing was changed; give a new or empty folder"));
        }
    }
    Ok(())
}

fn absolute_parent(target: &Path) -> PathBuf {
    target
        .parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

/// Creates `parent` if needed; returns the topmost folder created, to remove on failure.
fn create_parent(parent: &Path) -> Result<Option<PathBuf>, CliError> {
    if parent.is_dir() {
        return Ok(None);
    }
    let mut top = parent.to_path_buf();
    while let Some(up) = top.parent() {
        if up.exists() {
            break;
        }
        top = up.to_path_buf();
    }
    fs_err::create_dir_all(parent)
        .map_err(|e| CliError::context(format!("cannot create `{}`", parent.display()), &e))?;
    Ok(Some(top))
}

/// `git init`, `git add -A`, and a first commit. Without a configured identity the commit is
/// made as `meta <meta@localhost>`, so `meta init` works on a fresh machine.
fn git_init(dir: &Path) -> Result<(), CliError> {
    run_git(dir, &["init", "--quiet"])?;
    run_git(dir, &["add", "-A"])?;
    let has_identity = |key: &str| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["config", key])
            .output()
            .is_ok_and(|o| o.status.success() && !o.stdout.trim_ascii().is_empty())
    };
    let mut args: Vec<&str> = Vec::new();
    if !has_identity("user.name") {
        args.extend(["-c", "user.name=meta"]);
    }
    if !has_identity("user.email") {
        args.extend(["-c", "user.email=meta@localhost"]);
    }
    // A signing prompt must not stall `meta init`; the first commit is made by meta itself.
    args.extend(["-c", "commit.gpgsign=false"]);
    args.extend([
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        "New meta-repo from `meta init`",
    ]);
    run_git(dir, &args)
}

fn run_git(dir: &Path, args: &[&str]) -> Result<(), CliError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| {
            CliError::context("cannot run `git`", &e).with_hint("install git, or pass --no-git")
        })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    let mut error = CliError::new(format!(
        "`git {}` failed in `{}`",
        args.join(" "),
        dir.display()
    ));
    if !stderr.is_empty() {
        error = error.with_cause(stderr);
    }
    Err(error.with_hint("nothing was left behind; fix git's problem above, or pass --no-git"))
}

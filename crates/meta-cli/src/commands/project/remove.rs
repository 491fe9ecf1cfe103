//! `meta project remove PATH [--force]`: a project out of the meta-repo — checkout, gitlink,
//! `.gitmodules`, `.git/config` and `.git/modules` — refused while it holds work that would be
//! lost, unless `--force`; `core:project:removed` announces it.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{Ctx, current_dir};
use crate::error::{CliError, CliResult};
use crate::project_events::{self, ProjectEvent};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The project's path (relative to the current folder or to the meta-repo's root).
    path: PathBuf,
    /// Remove it even if it holds uncommitted changes, untracked files or unpushed commits
    /// (they are lost).
    #[arg(long)]
    force: bool,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let path = resolve(root, &current_dir()?, &args.path)?;
    let removed = meta_workflow::remove_project(root, &path, args.force)?;
    project_events::emit(
        &ctx.ui,
        &workspace,
        ProjectEvent::Removed,
        &removed.path,
        &removed.name,
        removed.group.as_deref(),
        removed.url.as_deref(),
    );
    ctx.ui.println(format!("removed {}", removed.path))?;
    if removed.was_committed {
        ctx.ui
            .note("staged the removal in `.gitmodules` and the index; commit it to share it");
    } else {
        ctx.ui.note(
            "it was added since the last commit, so this undid that: nothing is left to commit for it",
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The project path relative to the root: `given` as typed from the current folder when that
/// lands inside the root and names a project there, else as relative to the root.
fn resolve(root: &Path, cwd: &Path, given: &Path) -> Result<String, CliError> {
    let as_root_relative = normalize(given);
    let from_cwd = normalize(&cwd.join(given));
    let root = normalize(root);
    let candidates = [
        from_cwd.strip_prefix(&root).ok().map(Path::to_path_buf),
        (!given.is_absolute()).then_some(as_root_relative),
    ];
    let mut first = None;
    for candidate in candidates.into_iter().flatten() {
        let text = candidate.to_string_lossy().replace('\\', "/");
        if meta_workflow::find_project(&root, &text)?.is_some() {
            return Ok(text);
        }
        first.get_or_insert(text);
    }
    Ok(first.unwrap_or_else(|| given.to_string_lossy().into_owned()))
}

/// `path` with `.` and `..` resolved by its text (the project folder may be gone).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

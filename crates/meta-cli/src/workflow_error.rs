//! How errors of `meta-workflow` (adding and removing projects) read to the user.

use meta_workflow::{AddError, GitError, RemoveError};

use crate::error::CliError;

/// A hint for what git said, when we know what helps.
pub(crate) fn git_hint(error: &GitError) -> Option<&'static str> {
    let GitError::Failed { stderr, .. } = error else {
        return Some("check that `git` is installed and on PATH");
    };
    if stderr.contains("transport 'file' not allowed") {
        return Some(
            "git refuses local (file) URLs for submodules by default; allow them with `git config --global protocol.file.allow always` if you trust the source",
        );
    }
    if stderr.contains("not a commit") || stderr.contains("Remote branch") {
        return Some(
            "check the branch name: `git ls-remote --heads URL` lists the remote's branches",
        );
    }
    if stderr.contains("does not appear to be a git repository")
        || stderr.contains("Could not read from remote")
        || stderr.contains("not found")
    {
        return Some("check the URL and that you may read it: `git ls-remote URL` tries it");
    }
    None
}

impl From<AddError> for CliError {
    fn from(error: AddError) -> Self {
        let base = if error.is_usage() {
            CliError::usage(error.to_string())
        } else {
            CliError::context("cannot add the project", &error)
        };
        match &error {
            AddError::UrlLooksLikeOption(_) | AddError::BranchLooksLikeOption(_) => base
                .with_hint("values that start with `-` never reach git, as they could act as options"),
            AddError::NoName(_) | AddError::BadName { .. } => {
                base.with_hint("give the folder name with `--name NAME`")
            }
            AddError::UnknownGroup { groups, .. } | AddError::GroupNeeded { groups } => base
                .with_hint(format!(
                    "the groups are: {} (pass one with `--group G`; `[metarepo].groups` in meta/metarepo.toml lists them)",
                    groups.join(", ")
                )),
            AddError::PathExists(_) | AddError::AlreadyProject(_) => base.with_hint(
                "pick another name with `--name N` or another `--group`, or remove what is there first",
            ),
            AddError::StaleGitDir { path, .. } => base.with_hint(format!(
                "delete `{}` if you no longer need that history, or pick another `--name`",
                path.display()
            )),
            AddError::NotGit(_) => {
                base.with_hint("run `git init` at the meta-repo's root first")
            }
            AddError::Git(git) | AddError::Cleanup { git, .. } => {
                let base = match &error {
                    // Not in the source chain there: the chain is the cleanup's I/O error.
                    AddError::Cleanup { .. } => base.with_cause(git.to_string()),
                    _ => base,
                };
                match git_hint(git) {
                    Some(hint) => base.with_hint(hint),
                    None => base,
                }
            }
            AddError::Projects(_) | AddError::Io { .. } | AddError::EmptyUrl => base,
        }
    }
}

impl From<RemoveError> for CliError {
    fn from(error: RemoveError) -> Self {
        match &error {
            RemoveError::NotAProject(path) => {
                CliError::new(format!("`{path}` is not a project of this meta-repo")).with_hint(
                    "give the project's path, as `meta project list` shows it (for example `src/libraries/api`)",
                )
            }
            RemoveError::HasWork { path, work } => CliError::new(format!(
                "refusing to remove `{path}`: it holds work that would be lost"
            ))
            .with_cause(work.to_string())
            .with_hint("commit and push it (or copy it elsewhere) first")
            .with_hint("`--force` removes the project anyway, and that work with it"),
            RemoveError::Git { .. } => CliError::context("cannot remove the project", &error)
                .with_hint("`git submodule status` and `git status` at the root show where it stands; running the command again finishes the job"),
            _ => CliError::context("cannot remove the project", &error),
        }
    }
}

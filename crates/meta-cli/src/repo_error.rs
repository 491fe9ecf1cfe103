//! How errors of `meta-repo` (listing projects, reading their status) read to the user.

use meta_repo::ProjectsError;

use crate::error::CliError;

impl From<ProjectsError> for CliError {
    fn from(error: ProjectsError) -> Self {
        let hint = match &error {
            ProjectsError::Open { .. } => {
                "check that the meta-repo's `.git` is a readable git repository (`git status` at the root says what git thinks)"
            }
            ProjectsError::Read { .. } | ProjectsError::Io { .. } => {
                "check `.gitmodules` and the index with `git submodule status` at the root"
            }
        };
        CliError::context("cannot list the projects of this meta-repo", &error).with_hint(hint)
    }
}

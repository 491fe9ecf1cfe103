//! How errors of `meta-repo` (listing projects, reading their status) read to the user.

use meta_repo::{ProjectsError, StatusError};

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

/// One line: the error and its causes, `: `-joined (for a project's line or JSON field).
pub fn describe_chain(error: &StatusError) -> String {
    describe_error(error)
}

/// Any error and its causes, `: `-joined.
pub fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

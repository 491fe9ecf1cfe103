//! Errors of this crate, each naming the repository (root or project path) it is about.

use std::path::PathBuf;

/// Why the projects of a meta-repo could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectsError {
    #[error("cannot open the meta-repo's git repository at `{}`", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: gix::Error,
    },
    #[error("cannot read {what} of the meta-repo at `{}`", path.display())]
    Read {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: gix::Error,
    },
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Why the status of one project could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("cannot open the repository of project `{path}`")]
    Open {
        path: String,
        #[source]
        source: gix::Error,
    },
    #[error("cannot read {what} of project `{path}`")]
    Git {
        path: String,
        what: &'static str,
        #[source]
        source: gix::Error,
    },
}

impl StatusError {
    /// The project (path relative to the root) the error is about.
    pub fn project(&self) -> &str {
        match self {
            StatusError::Open { path, .. } | StatusError::Git { path, .. } => path,
        }
    }
}

//! What can go wrong following a template.

use std::path::PathBuf;

use meta_workflow::GitError;

#[derive(Debug, thiserror::Error)]
pub enum TemplateUpdateError {
    #[error("`{}` is not readable", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a `.cruft.json` cruft or meta can read", .path.display())]
    Malformed {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot fetch the template `{template}`")]
    Fetch {
        template: String,
        #[source]
        source: GitError,
    },
    #[error("the template `{template}` has no `{reference}`")]
    NoSuchRef { template: String, reference: String },
    #[error("the template `{template}` does not hold the recorded commit {commit}")]
    UnknownCommit { template: String, commit: String },
    #[error("cannot prepare a folder for templates")]
    TempDir(#[source] std::io::Error),
    #[error("git failed on the template `{template}`")]
    Git {
        template: String,
        #[source]
        source: GitError,
    },
}

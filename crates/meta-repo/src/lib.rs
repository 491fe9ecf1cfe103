//! The projects of a meta-repo and their git status.
//!
//! [`list_projects`] reads what the superproject knows (`.gitmodules`, the index's gitlinks,
//! `.git/config`); [`status_all`] reads each project's own repository in-process with gix, on
//! a few threads, and reports what `git submodule status` and `git status --porcelain` would.
//! [`Selection`] is the one model of `--group`, `--dirty` and path globs that commands share.
//!
//! This crate only reads: it never runs `git`, never writes an index, a ref or a config, and
//! never prints. Errors name the project (or root) they are about.

mod error;
pub mod health;
mod project;
mod record;
mod select;
mod status;

use std::path::Path;

pub use error::{ProjectsError, StatusError};
pub use gix::ObjectId;
pub use project::{InvalidEntry, Project, Projects, group_of, list_projects};
pub use record::{StatusRecord, describe_chain};
pub use select::Selection;
pub use status::{ProjectStatus, RepoHead, project_status, repo_head, status_all};

/// Opens a repository (by its worktree or git dir) the way every read here does: honouring the
/// user's and system git config (ignore files, `status.*`), never running `git` to find them.
pub(crate) fn open_repo(path: &Path) -> Result<gix::Repository, gix::Error> {
    open_repo_with_slots(path, gix::odb::store::init::Slots::default())
}

/// [`open_repo`] with the object database's slot count given rather than counted on disk.
pub(crate) fn open_repo_with_slots(
    path: &Path,
    slots: gix::odb::store::init::Slots,
) -> Result<gix::Repository, gix::Error> {
    gix::open_opts(
        path,
        gix::open::Options::default().object_store_slots(slots),
    )
}

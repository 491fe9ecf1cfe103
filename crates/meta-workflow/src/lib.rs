//! What changes the projects of a meta-repo: [`add_project`] and [`remove_project`], [`sync`]
//! (every project to its pin, never losing local work) and [`exec`] (one command in many
//! projects, results in project order).
//!
//! Reading is `meta-repo`'s job (project list, status, [`meta_repo::Selection`]); this crate
//! changes repositories, and does so only through the `git` command ([`git::Git`]), with every
//! user-given value behind a `--` or checked not to look like an option. It never prints:
//! progress goes to callbacks, outcomes come back as data, and errors name the project, path
//! or git command they are about.

pub mod add;
pub mod exec;
pub mod git;
mod pool;
pub mod remove;
pub mod sync;
pub mod tracked;

pub use add::{AddError, AddRequest, Added, add_project, adopt_new_project, default_name};
pub use exec::{ExecOutcome, ExecRun, exec};
pub use git::{Git, GitError, git};
pub use remove::{LocalWork, RemoveError, Removed, find_project, local_work, remove_project};
pub use sync::{
    NoProgress, Outcome, SkipReason, Step, SyncError, SyncOptions, SyncProgress, SyncResult, sync,
};
pub use tracked::TrackedBranches;

/// Number of CPUs (at least 1), the default for parallel work.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

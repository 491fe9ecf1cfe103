//! Test and benchmark helpers for `meta` (dev-only, never published).
//!
//! The centrepiece is [`MetaRepo::build`]: an offline, deterministic meta-repo made with real
//! `git` — bare "upstream" remotes, a superproject with `meta/metarepo.toml`, and N submodules
//! spread over the four groups in every state a team meets (clean, detached, modified,
//! untracked, ahead, off the pin, staged, not initialised). [`MetaRepo`] then has one builder per
//! awkward case (no upstream, a `.gitmodules` entry without a checkout, nested submodules, a
//! merge conflict, a moved submodule, a URL that differs from `.git/config`, work in a detached
//! HEAD). [`MetaRepo::build_shared`] makes the same spread of states at 1,000 or 5,000
//! projects in seconds (one seed history shared through alternates), for the scale benchmark.
//!
//! [`git_truth`] asks git itself what it thinks of each project, for tests to compare with.
//!
//! This crate runs `git`; it is not how `meta` itself reads repositories. It panics nowhere:
//! every failure is a [`FixtureError`] naming the git command and its stderr.

mod git;
mod large;
mod metarepo;
mod remote;
mod snapshot;
mod truth;

use std::path::PathBuf;

pub use git::{AUTHOR_EMAIL, AUTHOR_NAME, DATE, DATE_EPOCH, Git, git, git_as_user};
pub use metarepo::{GROUPS, MetaRepo, Project, State};
pub use remote::{RemoteCommit, RemoteFile, create_remote, standard_history};
pub use snapshot::TreeSnapshot;
pub use truth::{GitTruth, git_truth};

/// Why a fixture could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("cannot run `{args}`")]
    Spawn {
        args: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{args}` failed (exit code {code:?}): {stderr}")]
    Git {
        args: String,
        code: Option<i32>,
        stderr: String,
    },
    #[error("cannot write `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("fixture has no project at `{0}`")]
    NoSuchProject(String),
}

pub type Result<T, E = FixtureError> = std::result::Result<T, E>;

fn io_error(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> FixtureError + '_ {
    move |source| FixtureError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs `work` on every item with a few threads (git processes are the cost, so a couple per
/// core keeps the machine busy without thrashing it); results keep the items' order.
fn parallel<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let threads = std::thread::available_parallelism()
        .map_or(2, std::num::NonZero::get)
        .clamp(2, 8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<Result<R>>> = Vec::new();
    results.resize_with(items.len(), || None);
    let slots = std::sync::Mutex::new(results);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(items.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = work(item);
                    let failed = result.is_err();
                    if let Ok(mut slots) = slots.lock()
                        && let Some(slot) = slots.get_mut(i)
                    {
                        *slot = Some(result);
                    }
                    if failed {
                        // Stop handing out work; the first error is reported below.
                        next.store(items.len(), std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    // A panicking worker re-panics out of `scope` above, so a poisoned lock is never seen here.
    let results = slots
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = Vec::with_capacity(items.len());
    for result in results {
        match result {
            Some(Ok(value)) => out.push(value),
            Some(Err(error)) => return Err(error),
            None => {}
        }
    }
    Ok(out)
}

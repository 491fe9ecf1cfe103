//! What the daemon knows about the repositories (DESIGN.md section 10).
//!
//! The `watch` service runs [`service::run`]: one [`meta_watch::Watcher`] reports file changes
//! (published as `core:file:*`) and git-state changes; [`WarmStatus`] keeps every project's
//! `meta status --json` record, recomputing only the projects a change touched, and says what
//! changed as `core:repo:*` events. `meta status` asks for the records over a Unix socket
//! ([`client::ask`]); before answering, the service writes a cookie file into the
//! superproject's git dir and waits for the watcher to report it, so every change made before
//! the question is in the answer.

pub mod client;
pub mod service;
mod warm;

pub use warm::WarmStatus;

/// Why the warm status cannot be kept or served.
#[derive(Debug, thiserror::Error)]
pub enum WarmError {
    #[error(transparent)]
    Watch(#[from] meta_watch::WatchError),
    #[error("cannot listen on `{}`", path.display())]
    Listen {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("another watch service already answers on `{}`", path.display())]
    AlreadyServing { path: std::path::PathBuf },
    #[error("cannot start a thread")]
    Thread(#[source] std::io::Error),
    #[error("cannot publish: {0}")]
    Publish(String),
    #[error("the file watcher stopped")]
    WatcherStopped,
}

//! The service of the built-in `watch` plugin (`meta daemon watch`, hidden): watches the
//! meta-repo's tree with `meta-watch` and publishes each change to the daemon as
//! `core:file:created|modified|deleted`, or one `core:file:overflow` when changes were lost.
//! It also keeps the warm status of every project and publishes `core:repo:*` when a record
//! changes; `meta status` asks it over `status.sock` (the loop lives in `meta-repo-watch`).
//!
//! It is an ordinary plugin service: the daemon's plugin host starts it with the plugin
//! environment (so it publishes through `META_BUS_INGEST` like any plugin), supervises it,
//! and stops it when the plugin is disabled. Keeping the watcher out of the daemon's process
//! means a burst of file events, or a watcher failure, never holds up the bus.

use std::path::PathBuf;
use std::time::Duration;

use meta_events::Client;
use meta_repo_watch::WarmError;
use meta_repo_watch::service::{ServiceOptions, Sink};
use meta_watch::WatchOptions;
use meta_workspace::{Workspace, env};

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};

/// The built-in plugin's manifest: a service only, run by the `meta` binary itself.
pub const MANIFEST: &str = concat!(
    "api = 1\n",
    "[plugin]\n",
    "name = \"watch\"\n",
    "version = \"",
    env!("CARGO_PKG_VERSION"),
    "\"\n",
    "description = \"Watches the meta-repo's files and repositories: publishes core:file:* and core:repo:* events, and keeps the warm status meta status reads\"\n",
    "[service]\n",
    "exec = [\"meta\", \"daemon\", \"watch\"]\n",
    "restart = \"on-failure\"\n",
);

/// The `source` of the events it publishes.
const SOURCE: &str = "/plugins/watch";

/// Runs until the daemon stops it: each batch the watcher hands over is published in order,
/// and the warm status it keeps answers `meta status` (see `meta-repo-watch`).
pub fn run(ctx: &Ctx<'_>) -> CliResult {
    let root = std::env::var_os(env::META_ROOT)
        .filter(|r| !r.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| {
            CliError::usage(
                "`meta daemon watch` is the service of the built-in `watch` plugin: the daemon starts it",
            )
            .with_hint("`meta daemon start` runs it (unless `meta plugin disable watch`)")
        })?;
    let client = Client::from_env().ok_or_else(|| {
        CliError::usage("the bus endpoints (`META_BUS_*`) are not set: the daemon starts this")
    })?;
    let workspace = Workspace::open(&root)?;
    let config = &workspace.config().watch;
    let mut options = WatchOptions::new(workspace.root());
    options.debounce = Duration::from_millis(config.debounce_ms);
    options.ignore.clone_from(&config.ignore);
    options.max_pending = config.max_pending.max(1);
    let mut sink = Publish {
        publisher: client.publisher()?,
        ctx,
    };
    let options = ServiceOptions {
        watch: options,
        socket: workspace.status_socket(),
    };
    remove_socket_when_stopped(options.socket.clone());
    match meta_repo_watch::service::run(options, &mut sink) {
        Err(WarmError::Watch(e)) => Err(CliError::context("cannot watch the meta-repo", &e).with_hint(
            "`meta health` checks the inotify watch limit; `meta plugin disable watch` turns watching off",
        )),
        // The watcher's thread ended: it could not go on. The daemon restarts the service.
        Err(e) => Err(CliError::context("the watch service stopped", &e)),
        Ok(()) => Err(CliError::new("the file watcher stopped unexpectedly")),
    }
}

/// The daemon stops its services with SIGTERM: the status socket goes with the service, so no
/// stale socket file is left in the runtime folder.
fn remove_socket_when_stopped(socket: PathBuf) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("meta-watch-signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let _ = std::fs::remove_file(&socket);
                // Then end as the signal would have ended it without a handler.
                let _ = signal_hook::low_level::emulate_default_handler(signal);
            }
        });
}

struct Publish<'a, 'b> {
    publisher: meta_events::client::Publisher,
    ctx: &'a Ctx<'b>,
}

impl Sink for Publish<'_, '_> {
    fn publish(&mut self, event: meta_events::Event) -> Result<(), String> {
        self.publisher
            .publish(&event.with_source(SOURCE))
            .map_err(|e| e.to_string())
    }

    fn note(&mut self, message: &str) {
        self.ctx.ui.note(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meta_repo_watch::service::file_event;
    use meta_watch::FileEvent;

    /// As the service publishes it.
    fn stamped(event: Option<meta_events::Event>) -> meta_events::Event {
        event.unwrap().with_source(SOURCE)
    }

    #[test]
    fn the_manifest_is_valid_and_runs_meta_itself() {
        let manifest =
            meta_plugin::Manifest::parse(MANIFEST, std::path::Path::new("builtin")).unwrap();
        assert_eq!(manifest.name, "watch");
        assert_eq!(manifest.version, env!("CARGO_PKG_VERSION"));
        let service = manifest.service.unwrap();
        assert_eq!(service.exec, ["meta", "daemon", "watch"]);
        assert!(manifest.commands.is_empty());
    }

    #[test]
    fn changes_become_core_file_events() {
        let event = stamped(file_event(&FileEvent::Created(meta_watch::FileChange {
            path: "src/libs/a/x.txt".into(),
            project: Some("src/libs/a".into()),
            is_dir: false,
        })));
        assert_eq!(event.ty(), "core:file:created");
        assert_eq!(event.source.as_deref(), Some(SOURCE));
        assert_eq!(
            event.data.unwrap(),
            serde_json::json!({"path": "src/libs/a/x.txt", "project": "src/libs/a", "is_dir": false})
        );
        let event = stamped(file_event(&FileEvent::Overflow {
            reason: "the kernel's queue overflowed".into(),
        }));
        assert!(
            file_event(&FileEvent::GitState {
                repo: String::new()
            })
            .is_none()
        );
        assert_eq!(event.ty(), "core:file:overflow");
        assert_eq!(
            event.data.unwrap()["reason"],
            "the kernel's queue overflowed"
        );
    }
}

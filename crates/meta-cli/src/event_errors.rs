//! How event-system errors read on the command line: what failed, why, what to do next.

use meta_daemon::DaemonError;
use meta_events::client::ClientError;
use meta_events::lock::LockError;
use meta_events::log::LogError;
use meta_events::{DecodeError, EmitError};

use crate::error::CliError;

impl From<LogError> for CliError {
    fn from(error: LogError) -> Self {
        CliError::context("the event log is not usable", &error)
            .with_hint("check that `.meta/events` exists and that you may read and write it")
    }
}

impl From<LockError> for CliError {
    fn from(error: LockError) -> Self {
        CliError::context("cannot take the event system's lock", &error)
            .with_hint("check that `.meta/run` is writable by you")
    }
}

impl From<ClientError> for CliError {
    fn from(error: ClientError) -> Self {
        CliError::context("cannot talk to the daemon", &error).with_hint(
            "`meta daemon status` shows whether it runs; `meta daemon stop` then `meta daemon start` restarts it",
        )
    }
}

impl From<DecodeError> for CliError {
    fn from(error: DecodeError) -> Self {
        CliError::usage(format!("the event is not valid: {error}"))
    }
}

impl From<EmitError> for CliError {
    fn from(error: EmitError) -> Self {
        match error {
            EmitError::Invalid(error) => error.into(),
            EmitError::Lock(error) => error.into(),
            EmitError::Log(error) => error.into(),
            EmitError::Transport(_) | EmitError::NotConfirmed { .. } => {
                CliError::context("the event could not be delivered", &error).with_hint(
                    "the daemon may be stuck: `meta daemon stop` then retry (without a daemon events go straight to the log)",
                )
            }
        }
    }
}

impl From<DaemonError> for CliError {
    fn from(error: DaemonError) -> Self {
        let hint = match &error {
            DaemonError::AlreadyRunning { .. } => {
                "`meta daemon status` shows it; `meta daemon stop` stops it"
            }
            DaemonError::RuntimeDir { .. } | DaemonError::RuntimeDirOwner { .. } => {
                "the runtime folder holds the sockets; check its permissions, or set XDG_RUNTIME_DIR to a private folder"
            }
            DaemonError::PathTooLong { .. } => {
                "set XDG_RUNTIME_DIR to a shorter folder such as /run/user/$UID"
            }
            DaemonError::Transport(e) if e.is_address_in_use() => {
                "another process listens there; change `[events].tcp` in meta/metarepo.toml"
            }
            DaemonError::Lock(_) | DaemonError::State { .. } | DaemonError::Log(_) => {
                "check that `.meta/` is writable by you"
            }
            DaemonError::Transport(_) | DaemonError::Signals(_) => {
                "see `.meta/run/daemon.log` for details"
            }
        };
        CliError::context("the daemon cannot run", &error).with_hint(hint)
    }
}

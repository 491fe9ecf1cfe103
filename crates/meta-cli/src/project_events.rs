//! `core:project:added` / `core:project:removed` with `{path, name, group, url}` data.
//!
//! SEAM (events, issue #3): the event library (`meta-events`, with `emit(workspace, event)` that
//! works with or without a daemon) is not on this branch yet. Until it is merged, [`emit`]
//! builds the event's data and delivers it nowhere — it does not write the log itself, so
//! nothing here pretends to be the event system. When `meta-events` lands, replace the body
//! with `meta_events::emit(workspace, Event::new(kind.event_type(), Some(data)))` and map its
//! error into a `CliError` (the project change is already done; say so in the message).

use meta_workspace::Workspace;
use serde_json::json;

use crate::error::CliError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectEvent {
    Added,
    Removed,
}

impl ProjectEvent {
    pub fn event_type(self) -> &'static str {
        match self {
            ProjectEvent::Added => "core:project:added",
            ProjectEvent::Removed => "core:project:removed",
        }
    }
}

/// Announces that the project at `path` was added or removed.
#[allow(
    clippy::unnecessary_wraps,
    reason = "emitting can fail once the event library is connected (see SEAM above)"
)]
pub fn emit(
    workspace: &Workspace,
    kind: ProjectEvent,
    path: &str,
    name: &str,
    group: Option<&str>,
    url: Option<&str>,
) -> Result<(), CliError> {
    let data = json!({"path": path, "name": name, "group": group, "url": url});
    let _ = (workspace, kind.event_type(), data);
    Ok(())
}

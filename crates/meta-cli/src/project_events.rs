//! `core:project:added` / `core:project:removed` with `{path, name, group, url}` data, delivered
//! through the event library (to the running daemon, or straight to the log without one).

use meta_events::core::{project_added, project_removed};
use meta_workspace::Workspace;

use crate::error::CliError;
use crate::ui::Ui;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectEvent {
    Added,
    Removed,
}

/// Announces that the project at `path` was added or removed. The change itself is done by
/// now, so a failure to announce it is a warning, not the command's failure: retrying the
/// command would meet a project that is already there (or gone).
pub fn emit(
    ui: &Ui,
    workspace: &Workspace,
    kind: ProjectEvent,
    path: &str,
    name: &str,
    group: Option<&str>,
    url: Option<&str>,
) {
    let event = match kind {
        ProjectEvent::Added => project_added(path, name, group, url),
        ProjectEvent::Removed => project_removed(path, name, group, url),
    };
    announce(ui, workspace, event, &format!("`{path}` is done"));
}

/// Emits `event` about a change already made (`done` says what, for the warning): a failure
/// to announce it is a warning, not the command's failure, since retrying the command would
/// meet the change already there.
pub fn announce(ui: &Ui, workspace: &Workspace, event: meta_events::Event, done: &str) {
    let ty = event.ty().to_owned();
    if let Err(error) = meta_events::emit(workspace, event) {
        let error = CliError::from(error);
        let mut text = format!(
            "{done}, but `{ty}` could not be emitted: {}",
            error.message()
        );
        for cause in error.causes() {
            text.push_str(": ");
            text.push_str(cause);
        }
        ui.warn(text);
    }
}

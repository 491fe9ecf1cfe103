//! `core:change:*` events (DESIGN.md section 9), delivered through the event library (to the
//! running daemon, or straight to the log without one).

use meta_events::core::change_branched;
use meta_workspace::Workspace;

use crate::project_events::announce;
use crate::ui::Ui;

/// Announces `core:change:branched {topic, projects}` once the branches exist.
pub fn emit_branched(ui: &Ui, workspace: &Workspace, topic: &str, projects: &[&str]) {
    announce(
        ui,
        workspace,
        change_branched(topic, projects),
        &format!("topic `{topic}` is in place"),
    );
}

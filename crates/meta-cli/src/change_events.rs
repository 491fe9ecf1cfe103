//! `core:change:*` events (DESIGN.md section 9), delivered through the event library (to the
//! running daemon, or straight to the log without one).

use meta_events::core::{
    change_abandoned, change_branched, change_committed, change_landed, change_pushed, state_enter,
    state_leave,
};
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

/// Announces `core:change:committed {topic, commit, projects: [{path, commit}]}`.
pub fn emit_committed(
    ui: &Ui,
    workspace: &Workspace,
    topic: &str,
    commit: &str,
    projects: &[(&str, String)],
) {
    announce(
        ui,
        workspace,
        change_committed(topic, commit, projects),
        &format!("topic `{topic}` has a new commit"),
    );
}

/// Announces `core:change:landed {topic, commit, projects: [{path, from, to}]}`.
pub fn emit_landed(
    ui: &Ui,
    workspace: &Workspace,
    topic: &str,
    commit: &str,
    projects: &[(&str, String, String)],
) {
    announce(
        ui,
        workspace,
        change_landed(topic, commit, projects),
        &format!("topic `{topic}` is re-pinned to what landed"),
    );
}

/// Announces `core:change:abandoned {topic}`.
pub fn emit_abandoned(ui: &Ui, workspace: &Workspace, topic: &str) {
    announce(
        ui,
        workspace,
        change_abandoned(topic),
        &format!("topic `{topic}` is abandoned"),
    );
}

/// Announces `core:change:pushed {topic, commit, projects: [{path, commit}]}` once the
/// superproject's push went through.
pub fn emit_pushed(
    ui: &Ui,
    workspace: &Workspace,
    topic: &str,
    commit: &str,
    projects: &[(&str, &str)],
) {
    announce(
        ui,
        workspace,
        change_pushed(topic, commit, projects),
        &format!("topic `{topic}` is pushed"),
    );
}

/// Announces `core:state:enter {name, pid}` before a bulk change (`meta switch`…) starts.
fn emit_state_enter(ui: &Ui, workspace: &Workspace, name: &str) {
    announce(
        ui,
        workspace,
        state_enter(name, std::process::id()),
        &format!("`meta {name}` is starting"),
    );
}

/// Announces `core:state:leave {name, pid}` once the bulk change is over, done or undone.
fn emit_state_leave(ui: &Ui, workspace: &Workspace, name: &str) {
    announce(
        ui,
        workspace,
        state_leave(name, std::process::id()),
        &format!("`meta {name}` is over"),
    );
}

/// `core:state:enter` now and `core:state:leave` when dropped, so the leave is sent however
/// the bulk change ends (done, refused half-way, or an error returned with `?`).
pub struct BulkChange<'a> {
    ui: &'a Ui,
    workspace: &'a Workspace,
    name: &'static str,
}

impl<'a> BulkChange<'a> {
    pub fn enter(ui: &'a Ui, workspace: &'a Workspace, name: &'static str) -> Self {
        emit_state_enter(ui, workspace, name);
        Self {
            ui,
            workspace,
            name,
        }
    }
}

impl Drop for BulkChange<'_> {
    fn drop(&mut self) {
        emit_state_leave(self.ui, self.workspace, self.name);
    }
}

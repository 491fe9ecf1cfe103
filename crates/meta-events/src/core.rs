//! Constructors for the core events of DESIGN.md 3.1. Only `meta` itself and its daemon emit
//! these; `meta events publish` and the plugin SDK refuse the `core` namespace.

use serde_json::{Value, json};

use crate::event::Event;

pub const SYSTEM_STARTUP: &str = "core:system:startup";
pub const SYSTEM_SHUTDOWN: &str = "core:system:shutdown";
pub const PLUGIN_INSTALLED: &str = "core:plugin:installed";
pub const PLUGIN_UNINSTALLED: &str = "core:plugin:uninstalled";
pub const PLUGIN_ENABLED: &str = "core:plugin:enabled";
pub const PLUGIN_DISABLED: &str = "core:plugin:disabled";
pub const PLUGIN_LOADED: &str = "core:plugin:loaded";
pub const PLUGIN_UNLOADED: &str = "core:plugin:unloaded";
pub const FILE_CREATED: &str = "core:file:created";
pub const FILE_MODIFIED: &str = "core:file:modified";
pub const FILE_DELETED: &str = "core:file:deleted";
/// File changes were lost (a burst past what the watcher can follow): consumers keeping state
/// about the tree must rescan it.
pub const FILE_OVERFLOW: &str = "core:file:overflow";
pub const PROJECT_ADDED: &str = "core:project:added";
pub const PROJECT_REMOVED: &str = "core:project:removed";
/// A topic was created or joined in the superproject and some projects (`meta branch`).
pub const CHANGE_BRANCHED: &str = "core:change:branched";
pub const CHANGE_COMMITTED: &str = "core:change:committed";
pub const CHANGE_PUSHED: &str = "core:change:pushed";
pub const CHANGE_LANDED: &str = "core:change:landed";
pub const CHANGE_ABANDONED: &str = "core:change:abandoned";
/// A bulk change starts (`meta switch`…): subscribers may wait for the matching leave.
pub const STATE_ENTER: &str = "core:state:enter";
/// The bulk change announced by `core:state:enter` is over (done or undone).
pub const STATE_LEAVE: &str = "core:state:leave";
/// A repository's HEAD points at another commit (commit, checkout, reset, pull…).
pub const REPO_HEAD_MOVED: &str = "core:repo:head-moved";
/// A repository checked out another branch (or detached, or attached).
pub const REPO_BRANCH_SWITCHED: &str = "core:repo:branch-switched";
/// A project's `meta status --json` record changed.
pub const REPO_STATUS_CHANGED: &str = "core:repo:status-changed";
/// The superproject records another commit for a project.
pub const REPO_PIN_CHANGED: &str = "core:repo:pin-changed";
/// The watcher lost changes (an overflow): the repositories' state was read again from disk.
pub const REPO_RESYNCED: &str = "core:repo:resynced";

/// `source` of events the daemon emits or fills in.
pub const DAEMON_SOURCE: &str = "/meta/daemon";
/// `source` of events the `meta` command line emits.
pub const CLI_SOURCE: &str = "/meta/cli";

/// `source` for events of the plugin `name`.
pub fn plugin_source(name: &str) -> String {
    format!("/plugins/{name}")
}

fn core(ty: &str, data: Value) -> Event {
    Event::new(ty, Some(data)).expect("core event types follow the type rule (tested)")
}

/// `core:system:startup` `{pid, version}`.
pub fn system_startup(pid: u32, version: &str) -> Event {
    core(SYSTEM_STARTUP, json!({"pid": pid, "version": version}))
}

/// `core:system:shutdown` `{pid, reason, uptime_s}`.
pub fn system_shutdown(pid: u32, reason: &str, uptime_s: u64) -> Event {
    core(
        SYSTEM_SHUTDOWN,
        json!({"pid": pid, "reason": reason, "uptime_s": uptime_s}),
    )
}

/// `core:plugin:installed` `{name, version, source}`.
pub fn plugin_installed(name: &str, version: &str, source: &str) -> Event {
    core(
        PLUGIN_INSTALLED,
        json!({"name": name, "version": version, "source": source}),
    )
}

/// `core:plugin:uninstalled` `{name, version, source}`.
pub fn plugin_uninstalled(name: &str, version: &str, source: &str) -> Event {
    core(
        PLUGIN_UNINSTALLED,
        json!({"name": name, "version": version, "source": source}),
    )
}

/// `core:plugin:enabled` `{name}`.
pub fn plugin_enabled(name: &str) -> Event {
    core(PLUGIN_ENABLED, json!({ "name": name }))
}

/// `core:plugin:disabled` `{name}`.
pub fn plugin_disabled(name: &str) -> Event {
    core(PLUGIN_DISABLED, json!({ "name": name }))
}

/// `core:plugin:loaded` `{name, version, pid}`; `pid` is the service process's, `None` for a
/// plugin without a service.
pub fn plugin_loaded(name: &str, version: &str, pid: Option<u32>) -> Event {
    core(
        PLUGIN_LOADED,
        json!({"name": name, "version": version, "pid": pid}),
    )
}

/// `core:plugin:unloaded` `{name, version, pid}`.
pub fn plugin_unloaded(name: &str, version: &str, pid: Option<u32>) -> Event {
    core(
        PLUGIN_UNLOADED,
        json!({"name": name, "version": version, "pid": pid}),
    )
}

/// What happened to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChange {
    Created,
    Modified,
    Deleted,
}

/// `core:file:created|modified|deleted` `{path, project, is_dir}`: `path` relative to the root
/// with `/` separators, `project` the submodule path holding it (or `None`).
pub fn file_event(change: FileChange, path: &str, project: Option<&str>, is_dir: bool) -> Event {
    let ty = match change {
        FileChange::Created => FILE_CREATED,
        FileChange::Modified => FILE_MODIFIED,
        FileChange::Deleted => FILE_DELETED,
    };
    core(
        ty,
        json!({"path": path, "project": project, "is_dir": is_dir}),
    )
}

/// `core:project:added` `{path, name, group, url}`: `meta project add` (or `meta new --group`)
/// registered a submodule; `path` relative to the root.
pub fn project_added(path: &str, name: &str, group: Option<&str>, url: Option<&str>) -> Event {
    core(
        PROJECT_ADDED,
        json!({"path": path, "name": name, "group": group, "url": url}),
    )
}

/// `core:project:removed` `{path, name, group, url}`: `meta project remove` took it out.
pub fn project_removed(path: &str, name: &str, group: Option<&str>, url: Option<&str>) -> Event {
    core(
        PROJECT_REMOVED,
        json!({"path": path, "name": name, "group": group, "url": url}),
    )
}

/// `core:change:branched` `{topic, projects}`: `meta branch` put the superproject on `topic`
/// and gave these projects (paths) the same-named branch.
pub fn change_branched(topic: &str, projects: &[&str]) -> Event {
    core(
        CHANGE_BRANCHED,
        json!({"topic": topic, "projects": projects}),
    )
}

/// `core:change:committed` `{topic, commit, projects: [{path, commit}]}`: `meta commit` made
/// the superproject commit `commit` on `topic`, recording these projects' new pins.
pub fn change_committed(topic: &str, commit: &str, projects: &[(&str, String)]) -> Event {
    let projects: Vec<_> = projects
        .iter()
        .map(|(path, commit)| json!({"path": path, "commit": commit}))
        .collect();
    core(
        CHANGE_COMMITTED,
        json!({"topic": topic, "commit": commit, "projects": projects}),
    )
}

/// `core:change:pushed` `{topic, commit, projects: [{path, commit}]}`: `meta push` published
/// the superproject's `topic` at `commit` after every project's pins reached their remotes;
/// `projects` are those holding the pushed superproject commits' pins, each with the newest
/// pin recorded.
pub fn change_pushed(topic: &str, commit: &str, projects: &[(&str, &str)]) -> Event {
    let projects: Vec<_> = projects
        .iter()
        .map(|(path, commit)| json!({"path": path, "commit": commit}))
        .collect();
    core(
        CHANGE_PUSHED,
        json!({"topic": topic, "commit": commit, "projects": projects}),
    )
}

/// `core:change:landed` `{topic, commit, projects: [{path, from, to}]}`: `meta land` made the
/// superproject commit `commit` re-pinning the topic's projects to what landed.
pub fn change_landed(topic: &str, commit: &str, projects: &[(&str, String, String)]) -> Event {
    let projects: Vec<_> = projects
        .iter()
        .map(|(path, from, to)| json!({"path": path, "from": from, "to": to}))
        .collect();
    core(
        CHANGE_LANDED,
        json!({"topic": topic, "commit": commit, "projects": projects}),
    )
}

/// `core:change:abandoned` `{topic}`: `meta abandon` (or `meta prune`) deleted the topic
/// everywhere, keeping its tips under `refs/meta/abandoned/`.
pub fn change_abandoned(topic: &str) -> Event {
    core(CHANGE_ABANDONED, json!({ "topic": topic }))
}

/// `core:state:enter` `{name, pid}`: the process `pid` starts the bulk change `name`.
pub fn state_enter(name: &str, pid: u32) -> Event {
    core(STATE_ENTER, json!({"name": name, "pid": pid}))
}

/// `core:state:leave` `{name, pid}`: the bulk change `name` of `pid` is over.
pub fn state_leave(name: &str, pid: u32) -> Event {
    core(STATE_LEAVE, json!({"name": name, "pid": pid}))
}

/// `core:repo:head-moved` `{project, from, to, branch}` (`project` null for the superproject;
/// `from`/`to` null for an unborn branch).
pub fn repo_head_moved(
    project: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    branch: Option<&str>,
) -> Event {
    core(
        REPO_HEAD_MOVED,
        json!({"project": project, "from": from, "to": to, "branch": branch}),
    )
}

/// `core:repo:branch-switched` `{project, from, to}` (branch names, null when detached).
pub fn repo_branch_switched(project: Option<&str>, from: Option<&str>, to: Option<&str>) -> Event {
    core(
        REPO_BRANCH_SWITCHED,
        json!({"project": project, "from": from, "to": to}),
    )
}

/// `core:repo:status-changed` `{project, changed, status}`: `status` is the whole record.
pub fn repo_status_changed(project: &str, changed: &[&str], status: Value) -> Event {
    core(
        REPO_STATUS_CHANGED,
        json!({"project": project, "changed": changed, "status": status}),
    )
}

/// `core:repo:pin-changed` `{project, from, to}`: commits the superproject records.
pub fn repo_pin_changed(project: &str, from: Option<&str>, to: Option<&str>) -> Event {
    core(
        REPO_PIN_CHANGED,
        json!({"project": project, "from": from, "to": to}),
    )
}

/// `core:repo:resynced` `{reason, projects}`: the state was read again after lost changes.
pub fn repo_resynced(reason: &str, projects: usize) -> Event {
    core(
        REPO_RESYNCED,
        json!({"reason": reason, "projects": projects}),
    )
}

/// `core:file:overflow` `{reason}`: changes in a window were lost; rescan the tree.
pub fn file_overflow(reason: &str) -> Event {
    core(FILE_OVERFLOW, json!({ "reason": reason }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_types_follow_the_rule() {
        for ty in [
            SYSTEM_STARTUP,
            SYSTEM_SHUTDOWN,
            PLUGIN_INSTALLED,
            PLUGIN_UNINSTALLED,
            PLUGIN_ENABLED,
            PLUGIN_DISABLED,
            PLUGIN_LOADED,
            PLUGIN_UNLOADED,
            FILE_CREATED,
            FILE_MODIFIED,
            FILE_DELETED,
            FILE_OVERFLOW,
            REPO_HEAD_MOVED,
            REPO_BRANCH_SWITCHED,
            REPO_STATUS_CHANGED,
            REPO_PIN_CHANGED,
            REPO_RESYNCED,
            PROJECT_ADDED,
            PROJECT_REMOVED,
            CHANGE_BRANCHED,
            CHANGE_COMMITTED,
            CHANGE_PUSHED,
            CHANGE_LANDED,
            CHANGE_ABANDONED,
            STATE_ENTER,
            STATE_LEAVE,
        ] {
            crate::event::validate_type(ty).unwrap();
            assert!(crate::event::is_core_type(ty));
        }
        let event = file_event(FileChange::Created, "src/a/b.txt", Some("src/a"), false);
        assert_eq!(event.ty(), FILE_CREATED);
        assert_eq!(event.data.unwrap()["project"], "src/a");
        assert_eq!(
            plugin_loaded("x", "1.0.0", None).data.unwrap()["pid"],
            Value::Null
        );
    }
}

//! The record `meta status --json` prints per project (DESIGN.md section 2), in one place so a
//! cold run, the daemon's warm status and `core:repo:status-changed` carry the same bytes.

use serde::{Deserialize, Serialize};

use crate::{Project, ProjectStatus, StatusError};

/// One project in `meta status --json` (fields may be added, never renamed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRecord {
    pub path: String,
    pub name: String,
    pub group: Option<String>,
    pub url: Option<String>,
    pub initialized: bool,
    pub pinned: Option<String>,
    pub head: Option<String>,
    pub on_pin: bool,
    pub branch: Option<String>,
    pub detached: bool,
    pub staged: usize,
    pub modified: usize,
    pub untracked: usize,
    pub ahead: Option<usize>,
    pub behind: Option<usize>,
    pub upstream: Option<String>,
    /// Added: paths in conflict (also counted in `staged` and `modified`, as git shows them).
    pub conflicted: usize,
    /// Added: the superproject's index holds conflicting pins (a merge stopped on this
    /// gitlink; `git submodule status` shows `U`), so `pinned` is null.
    pub pin_conflicted: bool,
    /// Added: why the status could not be read (the other fields then say "not initialised").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl StatusRecord {
    pub fn new(project: &Project, status: &Result<ProjectStatus, StatusError>) -> Self {
        let (status, error) = match status {
            Ok(status) => (status.clone(), None),
            Err(e) => (ProjectStatus::default(), Some(describe_chain(e))),
        };
        Self {
            path: project.path.clone(),
            name: project.name.clone(),
            group: project.group.clone(),
            url: project.url().map(str::to_owned),
            initialized: status.initialized,
            pinned: project.pinned.map(|id| id.to_string()),
            head: status.head.map(|id| id.to_string()),
            on_pin: status.on_pin,
            branch: status.branch,
            detached: status.detached,
            staged: status.staged,
            modified: status.modified,
            untracked: status.untracked,
            ahead: status.ahead,
            behind: status.behind,
            upstream: status.upstream,
            conflicted: status.conflicted,
            pin_conflicted: project.pin_conflicted,
            error,
        }
    }

    /// As [`ProjectStatus::is_dirty`]: something a person could lose or would look at.
    pub fn is_dirty(&self) -> bool {
        crate::status::is_dirty(
            self.initialized,
            self.staged + self.modified + self.untracked,
            self.on_pin,
            self.ahead,
        )
    }

    /// The names of the fields that differ from `other` (in the record's order).
    pub fn changed_fields(&self, other: &Self) -> Vec<&'static str> {
        let mut changed = Vec::new();
        macro_rules! compare {
            ($($field:ident),*) => {
                $(if self.$field != other.$field {
                    changed.push(stringify!($field));
                })*
            };
        }
        compare!(
            path,
            name,
            group,
            url,
            initialized,
            pinned,
            head,
            on_pin,
            branch,
            detached,
            staged,
            modified,
            untracked,
            ahead,
            behind,
            upstream,
            conflicted,
            pin_conflicted,
            error
        );
        changed
    }
}

/// An error and its causes, `: `-joined, on one line.
pub fn describe_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_name_what_differs() {
        let project = Project {
            path: "src/a/x".into(),
            name: "x".into(),
            group: Some("a".into()),
            submodule_name: None,
            gitmodules_url: None,
            config_url: None,
            pinned: None,
            pin_conflicted: false,
            active: true,
        };
        let a = StatusRecord::new(&project, &Ok(ProjectStatus::default()));
        let mut b = a.clone();
        assert!(a.changed_fields(&b).is_empty());
        b.modified = 2;
        b.branch = Some("main".into());
        assert_eq!(a.changed_fields(&b), ["branch", "modified"]);
        let json = serde_json::to_string(&b).unwrap();
        assert!(!json.contains("error"), "{json}");
        assert_eq!(serde_json::from_str::<StatusRecord>(&json).unwrap(), b);
    }
}

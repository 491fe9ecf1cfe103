//! Which projects a command acts on: `--group G`, `--dirty` and path globs. One model, shared by
//! `meta status`, `meta exec` and `meta sync`, so the same flags pick the same projects.

use gix::bstr::ByteSlice;
use gix::glob::wildmatch;

use crate::project::Project;
use crate::status::ProjectStatus;

/// A selection of projects. The empty selection keeps every project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Keep projects in any of these groups (none given: any group).
    pub groups: Vec<String>,
    /// Keep only projects with something to look at ([`ProjectStatus::is_dirty`]).
    pub dirty: bool,
    /// Keep projects whose path or name matches any of these globs (none given: all). `*`
    /// stops at `/`, `**` crosses it, as in `.gitignore`.
    pub patterns: Vec<String>,
}

impl Selection {
    /// Whether deciding needs each project's status (only `--dirty` does), so callers can
    /// skip reading repositories they would throw away.
    pub fn needs_status(&self) -> bool {
        self.dirty
    }

    /// Does `project` pass the group and pattern filters (everything but `dirty`)?
    pub fn matches_project(&self, project: &Project) -> bool {
        let group_ok = self.groups.is_empty() || self.groups.iter().any(|g| project.in_group(g));
        let pattern_ok = self.patterns.is_empty()
            || self.patterns.iter().any(|pattern| {
                let pattern = pattern.trim_end_matches('/').as_bytes().as_bstr();
                [&project.path, &project.name].iter().any(|candidate| {
                    wildmatch(
                        pattern,
                        candidate.as_bytes().as_bstr(),
                        wildmatch::Mode::NO_MATCH_SLASH_LITERAL,
                    )
                })
            });
        group_ok && pattern_ok
    }

    /// Does `project`, with its `status` (needed when [`needs_status`](Self::needs_status)),
    /// pass every filter? A status that could not be read keeps the project, so the error is
    /// shown rather than hidden.
    pub fn matches(&self, project: &Project, status: Option<&ProjectStatus>) -> bool {
        self.matches_project(project) && (!self.dirty || status.is_none_or(ProjectStatus::is_dirty))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(path: &str) -> Project {
        Project {
            path: path.to_owned(),
            name: path.rsplit('/').next().unwrap().to_owned(),
            group: crate::project::group_of(path),
            submodule_name: Some(path.to_owned()),
            gitmodules_url: None,
            config_url: None,
            pinned: None,
            pin_conflicted: false,
            active: true,
        }
    }

    #[test]
    fn groups_and_patterns_combine() {
        let lib = project("src/libraries/core-lib");
        let app = project("src/projects/app");
        let all = Selection::default();
        assert!(all.matches_project(&lib) && all.matches_project(&app));

        let libs = Selection {
            groups: vec!["libraries".to_owned()],
            ..Selection::default()
        };
        assert!(libs.matches_project(&lib) && !libs.matches_project(&app));

        let by_name = Selection {
            patterns: vec!["core-*".to_owned()],
            ..Selection::default()
        };
        assert!(by_name.matches_project(&lib) && !by_name.matches_project(&app));

        let by_path = Selection {
            patterns: vec!["src/projects/*".to_owned()],
            ..Selection::default()
        };
        assert!(!by_path.matches_project(&lib) && by_path.matches_project(&app));
        // `*` does not cross folders.
        let shallow = Selection {
            patterns: vec!["src/*".to_owned()],
            ..Selection::default()
        };
        assert!(!shallow.matches_project(&app));
        let deep = Selection {
            patterns: vec!["src/**".to_owned()],
            ..Selection::default()
        };
        assert!(deep.matches_project(&app));
    }

    #[test]
    fn dirty_keeps_changed_projects_and_errors() {
        let app = project("src/projects/app");
        let dirty = Selection {
            dirty: true,
            ..Selection::default()
        };
        let clean = ProjectStatus {
            initialized: true,
            on_pin: true,
            ahead: Some(0),
            ..ProjectStatus::default()
        };
        assert!(!dirty.matches(&app, Some(&clean)));
        for changed in [
            ProjectStatus {
                staged: 1,
                ..clean.clone()
            },
            ProjectStatus {
                modified: 1,
                ..clean.clone()
            },
            ProjectStatus {
                untracked: 1,
                ..clean.clone()
            },
            ProjectStatus {
                on_pin: false,
                ..clean.clone()
            },
            ProjectStatus {
                ahead: Some(2),
                ..clean.clone()
            },
        ] {
            assert!(dirty.matches(&app, Some(&changed)), "{changed:?}");
        }
        // Behind only is not local work.
        assert!(!dirty.matches(
            &app,
            Some(&ProjectStatus {
                behind: Some(3),
                ..clean.clone()
            })
        ));
        // Not initialised: nothing local to look at.
        assert!(!dirty.matches(&app, Some(&ProjectStatus::default())));
        assert!(dirty.matches(&app, None));
    }
}

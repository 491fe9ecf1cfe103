//! The one way commands pick projects: `--group G`, `--dirty` and path globs, shared by
//! `meta status`, `meta exec`, `meta sync` and `meta project list` (flattened into their
//! `Args`), so the same words pick the same projects everywhere.

use std::path::Path;

use meta_repo::{Project, ProjectStatus, Selection, StatusError};
use meta_workspace::Workspace;

use crate::error::{CliError, CliResult};

#[derive(clap::Args, Debug, Clone, Default)]
pub struct SelectArgs {
    /// Only projects in this group (a folder under `src/`); repeat for several.
    #[arg(long, value_name = "G")]
    pub group: Vec<String>,
    /// Only projects with staged, modified or untracked entries, off their pin, or ahead of
    /// their upstream.
    #[arg(long)]
    pub dirty: bool,
    /// Only projects whose path or name matches one of these globs (`src/libraries/*`,
    /// `api-*`; `*` stays within a folder, `**` crosses folders).
    #[arg(value_name = "PATTERN")]
    pub patterns: Vec<String>,
}

impl SelectArgs {
    pub fn selection(&self) -> Selection {
        Selection {
            groups: self.group.clone(),
            dirty: self.dirty,
            patterns: self.patterns.clone(),
        }
    }

    /// Does this pick fewer than all projects?
    pub fn narrows(&self) -> bool {
        self.dirty || !self.group.is_empty() || !self.patterns.is_empty()
    }

    /// The projects passing the group and pattern filters (everything but `--dirty`, which
    /// needs each project's status), after checking that every group exists and every
    /// pattern matches some project: a typo should say so, not quietly pick nothing.
    pub fn choose(&self, workspace: &Workspace, projects: Vec<Project>) -> CliResult<Vec<Project>> {
        check_groups(workspace, &projects, &self.group)?;
        for pattern in &self.patterns {
            let alone = Selection {
                patterns: vec![pattern.clone()],
                ..Selection::default()
            };
            if !projects.iter().any(|p| alone.matches_project(p)) {
                let mut error = CliError::usage(format!("no project matches `{pattern}`"));
                if let Some(close) = closest(pattern, &projects) {
                    error = error.with_hint(format!("did you mean `{close}`?"));
                }
                return Err(error.with_hint(
                    "a pattern matches a project's path (`src/libraries/api`) or name (`api`); `meta project list` shows them",
                ));
            }
        }
        let selection = self.selection();
        Ok(projects
            .into_iter()
            .filter(|p| selection.matches_project(p))
            .collect())
    }

    /// `projects` less those `--dirty` drops (reading statuses only when it is given). A
    /// project whose status cannot be read is kept, so the command shows the error.
    pub fn keep_dirty(&self, root: &Path, projects: Vec<Project>) -> Vec<Project> {
        if !self.dirty {
            return projects;
        }
        let selection = self.selection();
        let statuses = meta_repo::status_all(root, &projects, None);
        projects
            .into_iter()
            .zip(statuses)
            .filter(|(p, s)| selection.matches(p, s.as_ref().ok()))
            .map(|(p, _)| p)
            .collect()
    }
}

/// The project name or path most like `pattern`, when one is close enough to be a typo.
fn closest<'a>(pattern: &str, projects: &'a [Project]) -> Option<&'a str> {
    projects
        .iter()
        .flat_map(|p| [p.name.as_str(), p.path.as_str()])
        .map(|candidate| (strsim::jaro_winkler(pattern, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        // The first of equals, so the answer does not depend on ties.
        .fold(
            None,
            |best: Option<(f64, &str)>, (score, candidate)| match best {
                Some((top, _)) if top >= score => best,
                _ => Some((score, candidate)),
            },
        )
        .map(|(_, candidate)| candidate)
}

/// The statuses of `projects`, filtered by `selection`'s `--dirty`, as `meta status` shows them.
pub fn with_status(
    root: &Path,
    selection: &Selection,
    projects: Vec<Project>,
) -> Vec<(Project, Result<ProjectStatus, StatusError>)> {
    let statuses = meta_repo::status_all(root, &projects, None);
    projects
        .into_iter()
        .zip(statuses)
        .filter(|(project, status)| selection.matches(project, status.as_ref().ok()))
        .collect()
}

/// `--group` must name a configured group or a folder some project sits in.
pub fn check_groups(
    workspace: &Workspace,
    projects: &[Project],
    groups: &[String],
) -> CliResult<()> {
    let configured = &workspace.config().metarepo.groups;
    for group in groups {
        let known = configured.contains(group) || projects.iter().any(|p| p.in_group(group));
        if !known {
            return Err(
                CliError::usage(format!("there is no group `{group}` in this meta-repo"))
                    .with_hint(format!("the groups are: {}", configured.join(", "))),
            );
        }
    }
    Ok(())
}

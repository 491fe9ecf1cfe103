//! `meta template check`: where each project stands against its template, as `cruft check`
//! judges it (up to date when the commit is the same, or when the template repository's files
//! are the same in both), with the direction spelled out. Unlike `cruft check`, the checkout
//! recorded in `.cruft.json` is the default target (cruft always compares with the HEAD).

use std::path::Path;

use meta_repo::Project;

use crate::{CruftFile, TemplateRepos, TemplateUpdateError};

/// Where a project stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The recorded commit is the target, or the template repository's files are the same in
    /// both.
    UpToDate,
    /// The target has `commits` the recorded commit lacks.
    Behind { commits: usize },
    /// The recorded commit is ahead of the target (it descends from it).
    Ahead,
    /// Neither contains the other.
    Diverged,
    /// No `.cruft.json`.
    NotLinked,
    /// It could not be told: the template could not be fetched, the record is unreadable…
    Failed(String),
}

impl Standing {
    /// The word in output and JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Standing::UpToDate => "up-to-date",
            Standing::Behind { .. } => "behind",
            Standing::Ahead => "ahead",
            Standing::Diverged => "diverged",
            Standing::NotLinked => "not-linked",
            Standing::Failed(_) => "failed",
        }
    }

    /// Counts against exit 0 (`not-linked` does not: the check is about linked projects).
    pub fn is_problem(&self) -> bool {
        !matches!(self, Standing::UpToDate | Standing::NotLinked)
    }
}

/// One project's check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectCheck {
    pub path: String,
    pub template: Option<String>,
    pub recorded: Option<String>,
    /// The commit compared with (`--checkout`, else the recorded checkout, else the HEAD).
    pub target: Option<String>,
    pub standing: Standing,
}

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckRequest<'a> {
    pub root: &'a Path,
    pub projects: &'a [Project],
    /// Compare with this branch, tag or commit instead of the recorded checkout / the HEAD.
    pub checkout: Option<&'a str>,
}

/// Checks every project, in project order; each template fetched once.
pub fn check(request: &CheckRequest<'_>, repos: &TemplateRepos) -> Vec<ProjectCheck> {
    request
        .projects
        .iter()
        .map(|project| {
            let dir = request.root.join(&project.path);
            let mut result = ProjectCheck {
                path: project.path.clone(),
                template: None,
                recorded: None,
                target: None,
                standing: Standing::NotLinked,
            };
            let record = match CruftFile::read(&dir) {
                Ok(Some(record)) => record,
                Ok(None) => return result,
                Err(error) => {
                    result.standing = Standing::Failed(describe(&error));
                    return result;
                }
            };
            result.template = Some(record.template.clone());
            result.recorded.clone_from(&record.commit);
            match stand(&record, request.checkout, repos) {
                Ok((target, standing)) => {
                    result.target = Some(target);
                    result.standing = standing;
                }
                Err(error) => result.standing = Standing::Failed(describe(&error)),
            }
            result
        })
        .collect()
}

fn stand(
    record: &CruftFile,
    checkout: Option<&str>,
    repos: &TemplateRepos,
) -> Result<(String, Standing), TemplateUpdateError> {
    let template = repos.get(&record.template)?;
    let target = template.resolve(checkout.or(record.checkout.as_deref()))?;
    let Some(recorded) = record.commit.as_deref() else {
        return Ok((target, Standing::Diverged));
    };
    if recorded == target {
        return Ok((target, Standing::UpToDate));
    }
    if !template.has(recorded)? {
        return Err(TemplateUpdateError::UnknownCommit {
            template: record.template.clone(),
            commit: recorded.to_owned(),
        });
    }
    // cruft compares the whole repository, not only the template's folder: a change
    // anywhere in it makes the project out of date.
    if template.tree(recorded, None)? == template.tree(&target, None)? {
        return Ok((target, Standing::UpToDate));
    }
    let standing = if template.contains(recorded, &target)? {
        Standing::Behind {
            commits: template.count(recorded, &target)?,
        }
    } else if template.contains(&target, recorded)? {
        Standing::Ahead
    } else {
        Standing::Diverged
    };
    Ok((target, standing))
}

/// An error in one line with its cause, for a project's row.
fn describe(error: &TemplateUpdateError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

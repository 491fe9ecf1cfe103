//! Each template fetched once per run: a bare clone (branches, tags and the remote's HEAD in
//! one network call) into a private temporary folder, removed when [`TemplateRepos`] drops.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use meta_workflow::git::{git, is_ancestor, rev_parse};

use crate::TemplateUpdateError;

/// The templates fetched so far in this run.
#[derive(Debug)]
pub struct TemplateRepos {
    dir: tempfile::TempDir,
    timeout: Duration,
    fetched: Mutex<HashMap<String, Result<FetchedTemplate, String>>>,
}

/// One template's repository, as its remote has it now.
#[derive(Debug, Clone)]
pub struct FetchedTemplate {
    pub url: String,
    /// The bare clone.
    pub repo: PathBuf,
}

impl TemplateRepos {
    pub fn new(timeout: Duration) -> Result<Self, TemplateUpdateError> {
        Ok(Self {
            dir: tempfile::Builder::new()
                .prefix("meta-templates")
                .tempdir()
                .map_err(TemplateUpdateError::TempDir)?,
            timeout,
            fetched: Mutex::new(HashMap::new()),
        })
    }

    /// The template at `url`, fetched on first use; a failure is remembered too, so every
    /// project of a template that cannot be fetched says so without asking again.
    pub fn get(&self, url: &str) -> Result<FetchedTemplate, TemplateUpdateError> {
        let mut fetched = self
            .fetched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = fetched.len();
        let entry = fetched.entry(url.to_owned()).or_insert_with(|| {
            let repo = self.dir.path().join(format!("{n}.git"));
            clone_bare(url, &repo, self.timeout)
                .map(|()| FetchedTemplate {
                    url: url.to_owned(),
                    repo,
                })
                .map_err(|e| e.to_string())
        });
        entry.clone().map_err(|why| TemplateUpdateError::Fetch {
            template: url.to_owned(),
            source: meta_workflow::GitError::Failed {
                command: format!("git clone --bare {url}"),
                code: None,
                stderr: why,
            },
        })
    }
}

fn clone_bare(url: &str, repo: &Path, timeout: Duration) -> Result<(), meta_workflow::GitError> {
    let parent = repo.parent().unwrap_or(repo);
    git(parent)
        .args(["clone", "--bare", "--quiet", "--"])
        .arg(url)
        .arg(repo)
        .no_prompt()
        .timeout(timeout)
        .run()
        .map(drop)
}

impl FetchedTemplate {
    fn git_error(&self) -> impl FnOnce(meta_workflow::GitError) -> TemplateUpdateError + '_ {
        move |source| TemplateUpdateError::Git {
            template: self.url.clone(),
            source,
        }
    }

    /// The commit `reference` (a branch, tag or commit; `None`: the remote's HEAD) names.
    pub fn resolve(&self, reference: Option<&str>) -> Result<String, TemplateUpdateError> {
        let name = reference.unwrap_or("HEAD");
        if name.starts_with('-') {
            return Err(TemplateUpdateError::NoSuchRef {
                template: self.url.clone(),
                reference: name.to_owned(),
            });
        }
        rev_parse(&self.repo, name)
            .map_err(self.git_error())?
            .map(|id| id.to_string())
            .ok_or_else(|| TemplateUpdateError::NoSuchRef {
                template: self.url.clone(),
                reference: name.to_owned(),
            })
    }

    /// Does the template hold `commit`?
    pub fn has(&self, commit: &str) -> Result<bool, TemplateUpdateError> {
        Ok(rev_parse(&self.repo, commit)
            .map_err(self.git_error())?
            .is_some())
    }

    /// Is `a` an ancestor of `b` (or the same)?
    pub fn contains(&self, a: &str, b: &str) -> Result<bool, TemplateUpdateError> {
        let (Ok(a), Ok(b)) = (
            meta_repo::ObjectId::from_hex(a.as_bytes()),
            meta_repo::ObjectId::from_hex(b.as_bytes()),
        ) else {
            return Ok(false);
        };
        is_ancestor(&self.repo, a, b).map_err(self.git_error())
    }

    /// The tree of the template's folder (`directory`, else the root) at `commit`.
    pub fn tree(
        &self,
        commit: &str,
        directory: Option<&str>,
    ) -> Result<Option<String>, TemplateUpdateError> {
        let spec = match directory {
            Some(dir) if !dir.is_empty() => format!("{commit}:{dir}"),
            _ => format!("{commit}^{{tree}}"),
        };
        let out = git(&self.repo)
            .args(["rev-parse", "-q", "--verify", "--end-of-options", &spec])
            .output()
            .map_err(self.git_error())?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()))
    }

    /// Commits in `from..to`.
    pub fn count(&self, from: &str, to: &str) -> Result<usize, TemplateUpdateError> {
        meta_workflow::git::count(&self.repo, &[&format!("{from}..{to}")]).map_err(self.git_error())
    }
}

//! `meta template update`: each linked project brought to its template's target commit with
//! git's own three-way merge.
//!
//! Per project: the template is rendered twice in temporary folders with the recorded answers
//! (at the recorded commit: the base; at the target: theirs), each render becomes a tree in
//! the project's repository (a temporary index, `git add -A -f`, `write-tree`; `skip` paths and
//! `.cruft.json` left out) and a commit (`commit-tree`, the base the parent of theirs), and
//! `git merge-tree --write-tree --merge-base=BASE HEAD THEIRS` merges: renames followed, binary
//! conflicts reported, the result one tree. It is checked out with `git read-tree -m -u HEAD`
//! (the work tree is clean, so only the merge's files change) and each conflicted path gets
//! its three stages in the index (`update-index --index-info`): `UU` in `git status`,
//! `git mergetool` works, `git reset --hard` undoes. `.cruft.json` is rewritten for the target
//! (as cruft writes it) and staged.
//!
//! Refused, touching nothing: a project with staged or modified files, untracked files
//! (unless allowed; never one the update would write over), or in the middle of a merge,
//! rebase or cherry-pick. Hooks run only in the temporary renders, with
//! `META_TEMPLATE_OPERATION=update`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use meta_repo::Project;
use meta_template::{NoPrompt, Raw, RenderOptions, RenderedProject, Template};
use meta_workflow::GitError;
use meta_workflow::git::{absolute_git_dir, git};

use crate::{CruftFile, FetchedTemplate, TemplateRepos};

/// What to update, and how.
#[derive(Debug, Clone)]
pub struct UpdateRequest<'a> {
    pub root: &'a Path,
    pub projects: &'a [Project],
    /// Update to this branch, tag or commit instead of the recorded checkout / the HEAD.
    pub checkout: Option<&'a str>,
    /// Answers changed for the new render (`--set KEY=VALUE`).
    pub set: &'a [(String, String)],
    pub accept_hooks: bool,
    pub allow_untracked_files: bool,
    /// Commit the update when it merged cleanly.
    pub commit: bool,
    pub dry_run: bool,
}

/// How one project's update ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Updated {
    NotLinked,
    UpToDate,
    /// Merged cleanly: `files` changed (with `dry_run`: would change).
    Merged {
        from: String,
        to: String,
        files: Vec<String>,
    },
    /// Merged with conflicts left in the index and the files.
    Conflicts {
        from: String,
        to: String,
        files: Vec<String>,
        conflicts: Vec<String>,
    },
    /// Nothing was touched: why.
    Refused(String),
    Failed(String),
}

impl Updated {
    pub fn as_str(&self) -> &'static str {
        match self {
            Updated::NotLinked => "not-linked",
            Updated::UpToDate => "up-to-date",
            Updated::Merged { .. } => "updated",
            Updated::Conflicts { .. } => "conflicts",
            Updated::Refused(_) => "refused",
            Updated::Failed(_) => "failed",
        }
    }

    /// Counts against exit 0.
    pub fn is_problem(&self) -> bool {
        matches!(
            self,
            Updated::Conflicts { .. } | Updated::Refused(_) | Updated::Failed(_)
        )
    }
}

/// Updates every project, a few at a time (each in its own repository and temporary
/// folders), results in project order; a failing project never stops the others. Each
/// template is fetched once.
pub fn update(request: &UpdateRequest<'_>, repos: &TemplateRepos) -> Vec<(String, Updated)> {
    // git processes wait on the disk as much as on the CPU: twice the cores.
    let jobs = std::thread::available_parallelism()
        .map_or(2, std::num::NonZero::get)
        .saturating_mul(2)
        .clamp(1, 8);
    let renders = Renders::default();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<(String, Updated)>>> = request
        .projects
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(request.projects.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(project) = request.projects.get(i) else {
                        break;
                    };
                    let result = update_project(project, request, repos, &renders);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .zip(request.projects)
        .map(|(slot, project)| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| {
                (
                    project.path.clone(),
                    Updated::Failed("the update of this project stopped unexpectedly".to_owned()),
                )
            })
        })
        .collect()
}

fn update_project(
    project: &Project,
    request: &UpdateRequest<'_>,
    repos: &TemplateRepos,
    renders: &Renders,
) -> (String, Updated) {
    let dir = request.root.join(&project.path);
    let outcome = match CruftFile::read(&dir) {
        Ok(None) => Updated::NotLinked,
        Ok(Some(record)) => {
            update_one(&dir, &record, request, repos, renders).unwrap_or_else(Updated::Failed)
        }
        Err(error) => Updated::Failed(error.to_string()),
    };
    (project.path.clone(), outcome)
}

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

fn update_one(
    dir: &Path,
    record: &CruftFile,
    request: &UpdateRequest<'_>,
    repos: &TemplateRepos,
    renders: &Renders,
) -> Result<Updated, String> {
    if let Some(why) = refusal(dir, request.allow_untracked_files).map_err(text)? {
        return Ok(Updated::Refused(why));
    }
    let template = repos.get(&record.template).map_err(text)?;
    let target = template
        .resolve(request.checkout.or(record.checkout.as_deref()))
        .map_err(text)?;
    let Some(recorded) = record.commit.clone() else {
        return Ok(Updated::Refused(
            "`.cruft.json` records no commit to merge from".to_owned(),
        ));
    };
    if recorded == target && request.set.is_empty() {
        return Ok(Updated::UpToDate);
    }
    if !template.has(&recorded).map_err(text)? {
        return Ok(Updated::Refused(format!(
            "the template no longer holds the recorded commit {recorded}"
        )));
    }
    let base = renders.get(&template, &recorded, record, &[], request.accept_hooks)?;
    let theirs = renders.get(
        &template,
        &target,
        record,
        request.set,
        request.accept_hooks,
    )?;

    let git_dir = absolute_git_dir(dir).map_err(text)?;
    let base_tree = tree_of(&git_dir, &base.project.project_dir, &record.skip)?;
    let their_tree = tree_of(&git_dir, &theirs.project.project_dir, &record.skip)?;
    let run = |args: &[&str]| git(dir).args(args).run().map_err(text);
    let base_commit = run(&[
        "commit-tree",
        &base_tree,
        "-m",
        "template at the recorded commit",
    ])?;
    let their_commit = run(&[
        "commit-tree",
        &their_tree,
        "-p",
        base_commit.trim(),
        "-m",
        "template at the target commit",
    ])?;
    let merged = git(dir)
        .args([
            "merge-tree",
            "--write-tree",
            "-z",
            &format!("--merge-base={}", base_commit.trim()),
            "HEAD",
            their_commit.trim(),
        ])
        .output()
        .map_err(text)?;
    let clean = match merged.status.code() {
        Some(0) => true,
        Some(1) => false,
        _ => {
            return Err(format!(
                "git merge-tree failed: {}",
                String::from_utf8_lossy(&merged.stderr).trim()
            ));
        }
    };
    let stdout = String::from_utf8_lossy(&merged.stdout).into_owned();
    let mut fields = stdout.split('\0');
    let result = fields.next().unwrap_or_default().to_owned();
    // Conflicted entries: `MODE OID STAGE\tPATH`, then an empty field, then messages.
    let stages: Vec<&str> = if clean {
        Vec::new()
    } else {
        fields.take_while(|f| !f.is_empty()).collect()
    };
    let mut conflicts: Vec<String> = stages
        .iter()
        .filter_map(|entry| entry.split_once('\t').map(|(_, path)| path.to_owned()))
        .collect();
    conflicts.dedup();

    let changed = run(&["diff-tree", "-r", "-z", "--name-only", "HEAD", &result])?;
    let files: Vec<String> = changed
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    let added = run(&[
        "diff-tree",
        "-r",
        "-z",
        "--name-only",
        "--diff-filter=A",
        "HEAD",
        &result,
    ])?;
    if let Some(path) = added
        .split('\0')
        .filter(|f| !f.is_empty())
        .find(|f| std::fs::symlink_metadata(dir.join(f)).is_ok())
    {
        return Ok(Updated::Refused(format!(
            "the untracked `{path}` is in the way of a file the template adds; move it away, then update again"
        )));
    }
    if request.dry_run {
        return Ok(if clean {
            Updated::Merged {
                from: recorded,
                to: target,
                files,
            }
        } else {
            Updated::Conflicts {
                from: recorded,
                to: target,
                files,
                conflicts,
            }
        });
    }

    run(&["read-tree", "-m", "-u", "HEAD", &result])?;
    if !clean {
        let zero = "0".repeat(40);
        let mut info = String::new();
        for path in &conflicts {
            let _ = write!(info, "0 {zero}\t{path}\0");
        }
        for entry in &stages {
            info.push_str(entry);
            info.push('\0');
        }
        git(dir)
            .args(["update-index", "-z", "--index-info"])
            .stdin(info)
            .run()
            .map_err(text)?;
    }
    let link = meta_template::CruftLink {
        template: record.template.clone(),
        commit: target.clone(),
        checkout: record.checkout.clone(),
        directory: record.directory.clone(),
    };
    let original = std::fs::read_to_string(dir.join(crate::CRUFT_FILE)).unwrap_or_default();
    let cruft =
        meta_template::cruft_json_updated(&original, &theirs.project, &link).map_err(text)?;
    std::fs::write(dir.join(crate::CRUFT_FILE), cruft).map_err(text)?;
    run(&["add", "--", crate::CRUFT_FILE])?;
    if clean && request.commit {
        run(&[
            "commit",
            "--quiet",
            "--no-verify",
            &format!(
                "--message=Update from the template ({})",
                target.get(..7).unwrap_or(&target)
            ),
        ])?;
    }
    Ok(if clean {
        Updated::Merged {
            from: recorded,
            to: target,
            files,
        }
    } else {
        Updated::Conflicts {
            from: recorded,
            to: target,
            files,
            conflicts,
        }
    })
}

/// Why the project cannot be updated now, if it cannot.
fn refusal(dir: &Path, allow_untracked: bool) -> Result<Option<String>, GitError> {
    let git_dir = absolute_git_dir(dir)?;
    for (marker, what) in [
        ("MERGE_HEAD", "a merge"),
        ("rebase-merge", "a rebase"),
        ("rebase-apply", "a rebase"),
        ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ] {
        if git_dir.join(marker).exists() {
            return Ok(Some(format!(
                "it is in the middle of {what}: finish or abort it first"
            )));
        }
    }
    let status = git(dir)
        .args(["status", "--porcelain", "-z", "--untracked-files=all"])
        .run()?;
    let entries: Vec<&str> = status.split('\0').filter(|e| !e.is_empty()).collect();
    if entries.iter().any(|e| !e.starts_with("??")) {
        return Ok(Some(
            "it has staged or modified files: commit or stash them first".to_owned(),
        ));
    }
    if !allow_untracked && !entries.is_empty() {
        return Ok(Some(
            "it has untracked files: commit, remove or ignore them, or `--allow-untracked-files`"
                .to_owned(),
        ));
    }
    Ok(None)
}

/// Renders already made in this run: projects made from one template with the same answers
/// share them (the render depends only on the template, the commit and the answers).
struct Renders {
    made: std::sync::Mutex<std::collections::HashMap<String, Arc<RenderCell>>>,
    /// One clock and one random seed for every render of the run.
    fixed: meta_template::Reproducible,
}

impl Default for Renders {
    fn default() -> Self {
        Self {
            made: std::sync::Mutex::default(),
            fixed: meta_template::Reproducible::fresh(),
        }
    }
}

/// One render, made by the first project that needs it (the others wait for it).
type RenderCell = std::sync::OnceLock<Result<Arc<Render>, String>>;

impl Renders {
    fn get(
        &self,
        template: &FetchedTemplate,
        commit: &str,
        record: &CruftFile,
        set: &[(String, String)],
        accept_hooks: bool,
    ) -> Result<Arc<Render>, String> {
        let key = serde_json::json!([
            template.url,
            commit,
            record.directory,
            record.checkout,
            record.context.get("cookiecutter"),
            set,
        ])
        .to_string();
        let cell = {
            let mut made = self
                .made
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(made.entry(key).or_default())
        };
        cell.get_or_init(|| {
            render_at(
                template,
                commit,
                record,
                set,
                accept_hooks,
                Some(self.fixed),
            )
            .map(Arc::new)
        })
        .clone()
    }
}

/// A temporary render of the template at one commit.
pub(crate) struct Render {
    _dir: tempfile::TempDir,
    pub(crate) project: RenderedProject,
}

pub(crate) fn render_at(
    template: &FetchedTemplate,
    commit: &str,
    record: &CruftFile,
    set: &[(String, String)],
    accept_hooks: bool,
    reproducible: Option<meta_template::Reproducible>,
) -> Result<Render, String> {
    let dir = tempfile::Builder::new()
        .prefix("meta-template-render")
        .tempdir()
        .map_err(text)?;
    let source = dir.path().join("template");
    git(dir.path())
        .args(["clone", "--quiet", "--shared", "--no-checkout", "--"])
        .arg(&template.repo)
        .arg(&source)
        .run()
        .map_err(text)?;
    git(&source)
        .args(["checkout", "--quiet", "--detach", commit])
        .run()
        .map_err(text)?;
    let folder: PathBuf = match record.directory.as_deref() {
        Some(sub) if !sub.is_empty() => source.join(sub),
        _ => source.clone(),
    };
    let out = dir.path().join("out");
    let mut options = RenderOptions::new(&out);
    options.no_input = true;
    options.accept_hooks = accept_hooks;
    options.template_name = Some(record.template.clone());
    options.checkout.clone_from(&record.checkout);
    options.hook_env = vec![("META_TEMPLATE_OPERATION".to_owned(), "update".to_owned())];
    options.reproducible = reproducible;
    if let Some(answers) = record
        .context
        .get("cookiecutter")
        .and_then(serde_json::Value::as_object)
    {
        for (key, value) in answers {
            let raw = Raw::from_json(&value.to_string()).map_err(text)?;
            options.extra_context.push((key.clone(), raw));
        }
    }
    for (key, value) in set {
        options
            .extra_context
            .push((key.clone(), Raw::Str(value.clone())));
    }
    let template = Template::open(folder).map_err(text)?;
    let project = meta_template::render(&template, &options, &mut NoPrompt)
        .map_err(|e| format!("the template at {commit} does not render: {e}"))?;
    Ok(Render { _dir: dir, project })
}

/// The tree of the rendered `folder` in the project's repository (`skip` paths and
/// `.cruft.json` left out).
fn tree_of(git_dir: &Path, folder: &Path, skip: &[String]) -> Result<String, String> {
    let index = git_dir.join(format!("meta-update-index-{}", std::process::id()));
    let _ = std::fs::remove_file(&index);
    // The render is the work tree, the project's repository stores the objects.
    let in_index = || {
        git(folder)
            .env("GIT_DIR", git_dir)
            .env("GIT_WORK_TREE", folder)
            .env("GIT_INDEX_FILE", &index)
    };
    let result = (|| -> Result<String, GitError> {
        in_index().args(["add", "-A", "-f", "--", "."]).run()?;
        in_index()
            .args([
                "rm",
                "-r",
                "-q",
                "--cached",
                "--ignore-unmatch",
                "--",
                crate::CRUFT_FILE,
            ])
            .args(skip)
            .run()?;
        Ok(in_index().arg("write-tree").run()?.trim().to_owned())
    })();
    let _ = std::fs::remove_file(&index);
    result.map_err(text)
}

/// One project's template diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateDiff {
    NotLinked,
    /// The patch (empty: no difference), paths prefixed by the project's path.
    Patch(String),
    Failed(String),
}

/// `meta template diff`: per project, its files against the template rendered at the
/// recorded commit with the recorded answers (what `cruft diff` shows: the project on the
/// `a/` side, the template on the `b/` side), or with `incoming` what an update would bring
/// (the recorded render against the target's). Projects in project order.
pub fn diff(
    request: &UpdateRequest<'_>,
    incoming: bool,
    repos: &TemplateRepos,
) -> Vec<(String, TemplateDiff)> {
    let renders = Renders::default();
    request
        .projects
        .iter()
        .map(|project| {
            let dir = request.root.join(&project.path);
            let outcome = match CruftFile::read(&dir) {
                Ok(None) => TemplateDiff::NotLinked,
                Ok(Some(record)) => diff_one(
                    &dir,
                    &project.path,
                    &record,
                    request,
                    incoming,
                    repos,
                    &renders,
                )
                .map_or_else(TemplateDiff::Failed, TemplateDiff::Patch),
                Err(error) => TemplateDiff::Failed(error.to_string()),
            };
            (project.path.clone(), outcome)
        })
        .collect()
}

fn diff_one(
    dir: &Path,
    path: &str,
    record: &CruftFile,
    request: &UpdateRequest<'_>,
    incoming: bool,
    repos: &TemplateRepos,
    renders: &Renders,
) -> Result<String, String> {
    let template = repos.get(&record.template).map_err(text)?;
    let recorded = record
        .commit
        .clone()
        .ok_or_else(|| "`.cruft.json` records no commit".to_owned())?;
    let git_dir = absolute_git_dir(dir).map_err(text)?;
    let base = renders.get(&template, &recorded, record, &[], request.accept_hooks)?;
    let base_tree = tree_of(&git_dir, &base.project.project_dir, &record.skip)?;
    let prefixes = [
        format!("--src-prefix=a/{path}/"),
        format!("--dst-prefix=b/{path}/"),
    ];
    if incoming {
        let target = template
            .resolve(request.checkout.or(record.checkout.as_deref()))
            .map_err(text)?;
        let theirs = renders.get(
            &template,
            &target,
            record,
            request.set,
            request.accept_hooks,
        )?;
        let their_tree = tree_of(&git_dir, &theirs.project.project_dir, &record.skip)?;
        return git(dir)
            .args(["diff", "--no-color", "--no-ext-diff"])
            .args(&prefixes)
            .args([base_tree.as_str(), their_tree.as_str()])
            .run()
            .map_err(text);
    }
    // The project (work tree) against the render, on the render's files only.
    let listed = git(dir)
        .args(["ls-tree", "-r", "-z", "--name-only", &base_tree])
        .run()
        .map_err(text)?;
    let paths: Vec<&str> = listed.split('\0').filter(|p| !p.is_empty()).collect();
    if paths.is_empty() {
        return Ok(String::new());
    }
    // `-R` puts the work tree on the old side; its prefixes swap with it.
    git(dir)
        .args(["diff", "--no-color", "--no-ext-diff", "-R"])
        .arg(format!("--src-prefix=b/{path}/"))
        .arg(format!("--dst-prefix=a/{path}/"))
        .args([base_tree.as_str(), "--"])
        .args(paths)
        .run()
        .map_err(text)
}

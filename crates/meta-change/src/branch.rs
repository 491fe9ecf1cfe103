//! `meta branch NAME`: the topic NAME in the superproject and the selected projects, planned
//! in full (and refused, with every reason) before anything is written.
//!
//! Files are never touched. Per repository:
//! - NAME missing, start point = HEAD: `git switch --create=NAME` (HEAD's commit, so the index
//!   and work tree, dirty or not, stay as they are);
//! - NAME missing, start point = the pin (HEAD elsewhere): the branch is created at the pin
//!   **without** checking it out (`git update-ref`), and the outcome says so: checking it out
//!   would change files, which `meta switch` will do with its own refusals;
//! - NAME at HEAD, not checked out: HEAD is attached to it (`git symbolic-ref`);
//! - NAME containing the start point: kept as it is (checked out only when it is at HEAD);
//! - NAME elsewhere: refused, unless `--reset`, which keeps the old tip under
//!   `refs/meta/abandoned/NAME/<path>` (with a reflog, so earlier ones stay) and moves NAME.
//!
//! The superproject starts from its HEAD and must end on NAME; it is done last, so a failure
//! in a project leaves it as it was. Topic branches get no upstream: `meta branches` compares
//! them with their tracked branch, and publishing is `meta push`'s job.

use std::path::{Path, PathBuf};

use meta_repo::{ObjectId, Project};
use meta_workflow::git::{has_commit, is_ancestor, rev_parse};

use crate::error::{ChangeError, Refusal, git_error};
use crate::plan::{GitCall, Plan, Step};
use crate::state::RepoState;
use crate::{SUPERPROJECT, check_branch_name};

/// Where a project's topic branch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartFrom {
    /// HEAD when HEAD is the pin or descends from it, else the pin.
    #[default]
    Auto,
    Head,
    Pin,
}

/// What the start point turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartKind {
    Head,
    Pin,
}

/// What happens to NAME in one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Created at the start point; checked out when that is HEAD.
    Create { checkout: bool },
    /// Moved from `old` (kept under `refs/meta/abandoned/…`) to the start point.
    Reset { old: ObjectId, checkout: bool },
    /// Existed at HEAD; HEAD now on it.
    CheckOut,
    /// HEAD was on it already, and it contains the start point.
    AlreadyOn,
    /// Exists at `tip`, which contains the start point; left as it is, not checked out.
    Exists { tip: ObjectId },
}

impl Action {
    /// Is NAME checked out in the repository once the plan ran?
    pub fn checked_out(&self) -> bool {
        match self {
            Action::Create { checkout } | Action::Reset { checkout, .. } => *checkout,
            Action::CheckOut | Action::AlreadyOn => true,
            Action::Exists { .. } => false,
        }
    }
}

/// The decision for one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoOutcome {
    /// The project's path, or `.` for the superproject.
    pub path: String,
    pub action: Action,
    pub start: ObjectId,
    pub start_kind: StartKind,
}

/// Why a selected project takes no part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Not checked out (`meta sync` clones it): it joins the topic later.
    NotInitialized,
    /// No pin in the superproject's index: nothing to start from.
    NoPin,
}

/// What to create NAME from, and where.
#[derive(Debug, Clone)]
pub struct BranchRequest<'a> {
    /// The meta-repo's root.
    pub root: &'a Path,
    pub name: &'a str,
    /// The selected projects (none: the superproject alone).
    pub projects: &'a [Project],
    pub from: StartFrom,
    pub reset: bool,
}

/// The whole of `meta branch`, decided: outcomes per repository and the git calls.
#[derive(Debug, Clone)]
pub struct BranchPlan {
    pub topic: String,
    pub superproject: RepoOutcome,
    pub projects: Vec<RepoOutcome>,
    pub skipped: Vec<(String, Skip)>,
    pub plan: Plan,
}

/// The ref under which `--reset` keeps NAME's old tip in the repository at `path`.
pub fn abandoned_ref(name: &str, path: &str) -> String {
    let place = if path == SUPERPROJECT {
        "superproject"
    } else {
        path
    };
    format!("refs/meta/abandoned/{name}/{place}")
}

/// Decides everything `meta branch` would do, reading only. Every reason to refuse, in every
/// repository, comes back at once in [`ChangeError::Refused`].
pub fn plan_branch(request: &BranchRequest<'_>) -> Result<BranchPlan, ChangeError> {
    let root = request.root;
    let name = request.name;
    check_branch_name(root, name)?;
    let mut refusals = Vec::new();

    let top = RepoState::read(root).map_err(git_error(SUPERPROJECT))?;
    check_state(SUPERPROJECT, &top, &mut refusals);
    if top.branch.is_none()
        && let Some(head) = top.head
    {
        refusals.push(Refusal::SuperprojectDetached {
            head: head.to_hex_with_len(7).to_string(),
        });
    }

    let mut projects = Vec::new();
    let mut skipped = Vec::new();
    let mut steps = Vec::new();
    for project in request.projects {
        if project.pin_conflicted {
            refusals.push(Refusal::PinConflict {
                path: project.path.clone(),
            });
            continue;
        }
        let Some(pin) = project.pinned else {
            skipped.push((project.path.clone(), Skip::NoPin));
            continue;
        };
        let dir = root.join(&project.path);
        if !project.active || std::fs::symlink_metadata(dir.join(".git")).is_err() {
            skipped.push((project.path.clone(), Skip::NotInitialized));
            continue;
        }
        let path = project.path.as_str();
        let state = RepoState::read(&dir).map_err(git_error(path))?;
        let before = refusals.len();
        check_state(path, &state, &mut refusals);
        let Some(head) = state.head else { continue };
        if refusals.len() > before {
            continue;
        }
        let have_pin = has_commit(&dir, pin).map_err(git_error(path))?;
        let (start, start_kind) = match request.from {
            StartFrom::Head => (head, StartKind::Head),
            StartFrom::Pin | StartFrom::Auto if !have_pin => {
                refusals.push(Refusal::PinMissing {
                    path: path.to_owned(),
                    pin,
                });
                continue;
            }
            StartFrom::Pin => (pin, StartKind::Pin),
            StartFrom::Auto => {
                if is_ancestor(&dir, pin, head).map_err(git_error(path))? {
                    (head, StartKind::Head)
                } else {
                    (pin, StartKind::Pin)
                }
            }
        };
        let repo = Repo {
            path,
            dir,
            state: &state,
            head,
        };
        match repo.decide(name, start, request.reset, false)? {
            Ok((action, repo_steps)) => {
                steps.extend(repo_steps);
                projects.push(RepoOutcome {
                    path: path.to_owned(),
                    action,
                    start,
                    start_kind,
                });
            }
            Err(refusal) => refusals.push(refusal),
        }
    }

    let superproject = match (top.head, &top.branch) {
        (Some(head), Some(_)) if refusals.is_empty() => {
            let repo = Repo {
                path: SUPERPROJECT,
                dir: root.to_path_buf(),
                state: &top,
                head,
            };
            match repo.decide(name, head, request.reset, true)? {
                Ok((action, repo_steps)) => {
                    steps.extend(repo_steps);
                    Some(RepoOutcome {
                        path: SUPERPROJECT.to_owned(),
                        action,
                        start: head,
                        start_kind: StartKind::Head,
                    })
                }
                Err(refusal) => {
                    refusals.push(refusal);
                    None
                }
            }
        }
        _ => None,
    };
    match superproject {
        Some(superproject) if refusals.is_empty() => Ok(BranchPlan {
            topic: name.to_owned(),
            superproject,
            projects,
            skipped,
            plan: Plan { steps },
        }),
        _ => Err(ChangeError::Refused(refusals)),
    }
}

/// Refusals any change command makes of a repository: mid-operation, conflicted, no commit.
pub(crate) fn check_state(path: &str, state: &RepoState, refusals: &mut Vec<Refusal>) {
    if let Some(operation) = state.in_progress {
        refusals.push(Refusal::InProgress {
            path: path.to_owned(),
            operation,
        });
    }
    if state.conflicted > 0 {
        refusals.push(Refusal::Conflicts {
            path: path.to_owned(),
            files: state.conflicted,
        });
    }
    if state.head.is_none() {
        refusals.push(Refusal::Unborn {
            path: path.to_owned(),
        });
    }
}

/// One repository being planned.
struct Repo<'a> {
    path: &'a str,
    dir: PathBuf,
    state: &'a RepoState,
    head: ObjectId,
}

impl Repo<'_> {
    fn call<S: Into<String>>(&self, args: impl IntoIterator<Item = S>) -> GitCall {
        GitCall::new(self.path, self.dir.clone(), args)
    }

    /// Puts HEAD back where it is now (same commit: no file changes).
    fn restore_head(&self) -> GitCall {
        match &self.state.branch {
            Some(branch) => self.call([
                "symbolic-ref".to_owned(),
                "-m".to_owned(),
                "meta branch: undone".to_owned(),
                "HEAD".to_owned(),
                format!("refs/heads/{branch}"),
            ]),
            None => self.call([
                "update-ref".to_owned(),
                "--no-deref".to_owned(),
                "-m".to_owned(),
                "meta branch: undone".to_owned(),
                "HEAD".to_owned(),
                self.head.to_string(),
            ]),
        }
    }

    /// The action and steps for NAME here, or why not.
    fn decide(
        &self,
        name: &str,
        start: ObjectId,
        reset: bool,
        superproject: bool,
    ) -> Result<Result<(Action, Vec<Step>), Refusal>, ChangeError> {
        let branch_ref = format!("refs/heads/{name}");
        let existing = rev_parse(&self.dir, &branch_ref).map_err(git_error(self.path))?;
        let Some(tip) = existing else {
            return Ok(Ok(self.create(name, &branch_ref, start)));
        };
        let contains_start = is_ancestor(&self.dir, start, tip).map_err(git_error(self.path))?;
        if self.state.branch.as_deref() == Some(name) {
            if contains_start {
                return Ok(Ok((Action::AlreadyOn, Vec::new())));
            }
            return Ok(Err(Refusal::CheckedOutElsewhere {
                path: self.path.to_owned(),
                name: name.to_owned(),
                tip,
                start,
            }));
        }
        if contains_start && tip == self.head {
            let attach = Step {
                call: self.call([
                    "symbolic-ref".to_owned(),
                    "-m".to_owned(),
                    format!("meta branch: on {name}"),
                    "HEAD".to_owned(),
                    branch_ref,
                ]),
                undo: vec![self.restore_head()],
            };
            return Ok(Ok((Action::CheckOut, vec![attach])));
        }
        if contains_start && !superproject {
            return Ok(Ok((Action::Exists { tip }, Vec::new())));
        }
        if !reset {
            return Ok(Err(if superproject && contains_start {
                Refusal::SuperprojectBranchAhead {
                    name: name.to_owned(),
                    tip,
                    head: self.head,
                }
            } else {
                Refusal::Unrelated {
                    path: self.path.to_owned(),
                    name: name.to_owned(),
                    tip,
                    start,
                }
            }));
        }
        Ok(Ok(self.reset(name, &branch_ref, start, tip)))
    }

    fn create(&self, name: &str, branch_ref: &str, start: ObjectId) -> (Action, Vec<Step>) {
        let delete = self.call([
            "update-ref".to_owned(),
            "-d".to_owned(),
            branch_ref.to_owned(),
            start.to_string(),
        ]);
        if start == self.head {
            let step = Step {
                call: self.call(["switch".to_owned(), format!("--create={name}")]),
                undo: vec![self.restore_head(), delete],
            };
            (Action::Create { checkout: true }, vec![step])
        } else {
            let step = Step {
                call: self.call([
                    "update-ref".to_owned(),
                    "-m".to_owned(),
                    "meta branch: created at the pin".to_owned(),
                    branch_ref.to_owned(),
                    start.to_string(),
                    String::new(),
                ]),
                undo: vec![delete],
            };
            (Action::Create { checkout: false }, vec![step])
        }
    }

    fn reset(
        &self,
        name: &str,
        branch_ref: &str,
        start: ObjectId,
        tip: ObjectId,
    ) -> (Action, Vec<Step>) {
        let keep_ref = abandoned_ref(name, self.path);
        let undo_keep = match rev_parse(&self.dir, &keep_ref).ok().flatten() {
            Some(earlier) => self.call([
                "update-ref".to_owned(),
                keep_ref.clone(),
                earlier.to_string(),
            ]),
            None => self.call(["update-ref".to_owned(), "-d".to_owned(), keep_ref.clone()]),
        };
        let keep = Step {
            call: self.call([
                "update-ref".to_owned(),
                "--create-reflog".to_owned(),
                "-m".to_owned(),
                format!("meta branch --reset: old tip of {name}"),
                keep_ref,
                tip.to_string(),
            ]),
            undo: vec![undo_keep],
        };
        let put_back = self.call([
            "update-ref".to_owned(),
            "-m".to_owned(),
            "meta branch --reset: undone".to_owned(),
            branch_ref.to_owned(),
            tip.to_string(),
        ]);
        let (checkout, step) = if start == self.head {
            (
                true,
                Step {
                    call: self.call(["switch".to_owned(), format!("--force-create={name}")]),
                    undo: vec![self.restore_head(), put_back],
                },
            )
        } else {
            (
                false,
                Step {
                    call: self.call([
                        "update-ref".to_owned(),
                        "-m".to_owned(),
                        "meta branch --reset: moved to the pin".to_owned(),
                        branch_ref.to_owned(),
                        start.to_string(),
                        tip.to_string(),
                    ]),
                    undo: vec![put_back],
                },
            )
        };
        (Action::Reset { old: tip, checkout }, vec![keep, step])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meta_test::{MetaRepo, State};

    fn fixture() -> (tempfile::TempDir, MetaRepo, Vec<Project>) {
        let dir = tempfile::tempdir().unwrap();
        let repo = MetaRepo::build(dir.path(), 9).unwrap();
        let projects = meta_repo::list_projects(repo.root()).unwrap().projects;
        (dir, repo, projects)
    }

    fn pick(projects: &[Project], repo: &MetaRepo, states: &[State]) -> Vec<Project> {
        states
            .iter()
            .map(|state| {
                let path = &repo.project_in(*state).unwrap().path;
                projects.iter().find(|p| &p.path == path).unwrap().clone()
            })
            .collect()
    }

    #[test]
    fn plans_start_points_and_calls_without_writing() {
        let (_dir, repo, projects) = fixture();
        let chosen = pick(
            &projects,
            &repo,
            &[State::Ahead, State::OffPin, State::Uninitialized],
        );
        let refs_before = meta_test::git(repo.root())
            .args(["for-each-ref"])
            .run()
            .unwrap();
        let plan = plan_branch(&BranchRequest {
            root: repo.root(),
            name: "t",
            projects: &chosen,
            from: StartFrom::Auto,
            reset: false,
        })
        .unwrap();
        assert_eq!(plan.projects.len(), 2);
        assert_eq!(plan.projects[0].start_kind, StartKind::Head);
        assert_eq!(plan.projects[0].action, Action::Create { checkout: true });
        assert_eq!(plan.projects[1].start_kind, StartKind::Pin);
        assert_eq!(plan.projects[1].action, Action::Create { checkout: false });
        assert_eq!(
            plan.skipped,
            vec![(chosen[2].path.clone(), Skip::NotInitialized)]
        );
        let lines: Vec<String> = plan.plan.calls().map(GitCall::command_line).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            format!("git -C {} switch --create=t", chosen[0].path)
        );
        assert!(lines[1].contains(" update-ref "), "{}", lines[1]);
        assert_eq!(lines[2], "git switch --create=t");
        assert_eq!(
            meta_test::git(repo.root())
                .args(["for-each-ref"])
                .run()
                .unwrap(),
            refs_before
        );
    }

    #[test]
    fn every_refusal_is_collected() {
        let (_dir, repo, projects) = fixture();
        let chosen = pick(&projects, &repo, &[State::CleanOnBranch, State::Modified]);
        for project in &chosen {
            meta_test::git(&repo.root().join(&project.path))
                .args(["branch", "t", "HEAD~1"])
                .run()
                .unwrap();
        }
        let error = plan_branch(&BranchRequest {
            root: repo.root(),
            name: "t",
            projects: &chosen,
            from: StartFrom::Auto,
            reset: false,
        })
        .unwrap_err();
        let ChangeError::Refused(refusals) = error else {
            panic!("{error:?}")
        };
        assert_eq!(refusals.len(), 2, "{refusals:?}");
        for (refusal, project) in refusals.iter().zip(&chosen) {
            assert!(matches!(refusal, Refusal::Unrelated { .. }), "{refusal:?}");
            assert_eq!(refusal.path(), Some(project.path.as_str()));
            assert!(
                refusal.fix().contains("refs/meta/abandoned/t/"),
                "{}",
                refusal.fix()
            );
        }
        let name = check_branch_name(repo.root(), "-t").unwrap_err();
        assert!(matches!(
            name,
            ChangeError::Refused(ref r) if matches!(r[0], Refusal::NameLooksLikeOption { .. })
        ));
    }

    #[test]
    fn the_superproject_must_end_on_the_topic_without_changing_files() {
        let (_dir, repo, _) = fixture();
        let root = repo.root();
        let run = |args: &[&str]| meta_test::git(root).args(args).run().unwrap();
        run(&["switch", "-q", "-c", "t"]);
        run(&["commit", "-q", "--allow-empty", "-m", "ahead"]);
        run(&["switch", "-q", "main"]);
        let request = BranchRequest {
            root,
            name: "t",
            projects: &[],
            from: StartFrom::Auto,
            reset: false,
        };
        let error = plan_branch(&request).unwrap_err();
        assert!(
            matches!(&error, ChangeError::Refused(r) if matches!(r[..], [Refusal::SuperprojectBranchAhead { .. }])),
            "{error:?}"
        );
        let plan = plan_branch(&BranchRequest {
            reset: true,
            ..request
        })
        .unwrap();
        assert!(matches!(
            plan.superproject.action,
            Action::Reset { checkout: true, .. }
        ));
        let lines: Vec<String> = plan.plan.calls().map(GitCall::command_line).collect();
        assert!(
            lines[0].starts_with("git update-ref --create-reflog -m 'meta branch --reset: old tip of t' refs/meta/abandoned/t/superproject "),
            "{lines:?}"
        );
        assert_eq!(lines[1], "git switch --force-create=t");
    }
}

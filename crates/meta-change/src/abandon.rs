//! `meta abandon NAME [--force] [--undo]` and `meta prune`: deleting topics everywhere,
//! keeping every old tip under `refs/meta/abandoned/NAME/<path>` (with a reflog) so `--undo`
//! brings the branches back.
//!
//! Per repository holding the branch NAME: the tip is kept, a project checked out on NAME is
//! detached at the pin the superproject's index records (never changing files: a dirty
//! project that would move is refused), and the branch is deleted. The superproject must not
//! be on NAME (`meta switch` elsewhere first). A tip no remote-tracking ref holds (unpushed
//! work) is refused without `force`. Everything is a [`Plan`]: one failure undoes the rest.
//!
//! `prune` abandons every topic whose every branch has landed on its repository's tracked
//! branch on the remote (merged, or squash- or rebase-merged: the rules of `meta land`), and
//! keeps the others, saying why.

use std::path::Path;
use std::time::Duration;

use meta_repo::{ObjectId, Project};
use meta_workflow::git::{rev_parse, symbolic_ref};

use crate::error::{ChangeError, Refusal, git_error};
use crate::plan::{GitCall, Plan, Step};
use crate::state::RepoState;
use crate::{SUPERPROJECT, abandoned_ref, check_branch_name};

/// One repository's part in abandoning a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abandoned {
    /// The project's path, or `.` for the superproject.
    pub path: String,
    /// The tip kept under `refs/meta/abandoned/…`.
    pub tip: ObjectId,
    /// It was checked out there, and is now detached at this pin.
    pub detached_at: Option<ObjectId>,
    /// Commits no remote-tracking ref holds (abandoned with `force`).
    pub unpushed: usize,
}

/// The whole of `meta abandon NAME`, decided.
#[derive(Debug, Clone)]
pub struct AbandonPlan {
    pub topic: String,
    pub repos: Vec<Abandoned>,
    pub plan: Plan,
}

/// The whole of `meta abandon NAME --undo`, decided.
#[derive(Debug, Clone)]
pub struct RestorePlan {
    pub topic: String,
    /// `(path, tip)` of each branch brought back.
    pub repos: Vec<(String, ObjectId)>,
    pub plan: Plan,
}

fn call(path: &str, dir: &Path, args: &[&str]) -> GitCall {
    GitCall::new(path, dir.to_path_buf(), args.iter().copied())
}

/// Decides what abandoning `name` does, reading only; every refusal at once.
pub fn plan_abandon(
    root: &Path,
    name: &str,
    projects: &[Project],
    force: bool,
) -> Result<AbandonPlan, ChangeError> {
    check_branch_name(root, name)?;
    let branch_ref = format!("refs/heads/{name}");
    let Some(top_tip) = rev_parse(root, &branch_ref).map_err(git_error(SUPERPROJECT))? else {
        return Err(ChangeError::Refused(vec![Refusal::UnknownTopic {
            name: name.to_owned(),
            close: crate::switch::close_topics(root, name)?,
        }]));
    };
    let mut refusals = Vec::new();
    let current = symbolic_ref(root, "HEAD", "refs/heads/").map_err(git_error(SUPERPROJECT))?;
    if current.as_deref() == Some(name) {
        refusals.push(Refusal::OnAbandonedTopic {
            name: name.to_owned(),
        });
    }
    let mut repos = Vec::new();
    let mut steps = Vec::new();
    let mut add = |path: &str,
                   dir: &Path,
                   tip: ObjectId,
                   detach: Option<ObjectId>,
                   refusals: &mut Vec<Refusal>|
     -> Result<(), ChangeError> {
        let unpushed = unpushed(dir, tip).map_err(git_error(path))?;
        if unpushed > 0 && !force {
            refusals.push(Refusal::Unpushed {
                path: path.to_owned(),
                name: name.to_owned(),
                commits: unpushed,
            });
            return Ok(());
        }
        let keep_ref = abandoned_ref(name, path);
        let undo_keep = match rev_parse(dir, &keep_ref).ok().flatten() {
            Some(earlier) => call(path, dir, &["update-ref", &keep_ref, &earlier.to_string()]),
            None => call(path, dir, &["update-ref", "-d", &keep_ref]),
        };
        let tip_hex = tip.to_string();
        steps.push(Step {
            call: call(
                path,
                dir,
                &[
                    "update-ref",
                    "--create-reflog",
                    "-m",
                    &format!("meta abandon: old tip of {name}"),
                    &keep_ref,
                    &tip_hex,
                ],
            ),
            undo: vec![undo_keep],
        });
        if let Some(pin) = detach {
            steps.push(Step {
                call: call(path, dir, &["switch", "-q", "--detach", &pin.to_string()]),
                undo: vec![call(path, dir, &["switch", "-q", name])],
            });
        }
        steps.push(Step {
            call: call(path, dir, &["update-ref", "-d", &branch_ref, &tip_hex]),
            undo: vec![call(path, dir, &["update-ref", &branch_ref, &tip_hex, ""])],
        });
        repos.push(Abandoned {
            path: path.to_owned(),
            tip,
            detached_at: detach,
            unpushed,
        });
        Ok(())
    };

    for project in projects {
        let dir = root.join(&project.path);
        if !project.active || std::fs::symlink_metadata(dir.join(".git")).is_err() {
            continue;
        }
        let path = project.path.as_str();
        let Some(tip) = rev_parse(&dir, &branch_ref).map_err(git_error(path))? else {
            continue;
        };
        let state = RepoState::read(&dir).map_err(git_error(path))?;
        let mut detach = None;
        if state.branch.as_deref() == Some(name) {
            let before = refusals.len();
            crate::branch::check_state(path, &state, &mut refusals);
            let Some(pin) = project.pinned else {
                refusals.push(Refusal::PinConflict {
                    path: path.to_owned(),
                });
                continue;
            };
            if pin != tip && state.staged + state.unstaged > 0 {
                refusals.push(Refusal::Dirty {
                    path: path.to_owned(),
                    files: state.staged + state.unstaged,
                });
            }
            if !meta_workflow::git::has_commit(&dir, pin).map_err(git_error(path))? {
                refusals.push(Refusal::PinNotFetched {
                    path: path.to_owned(),
                    pin,
                });
            }
            if refusals.len() > before {
                continue;
            }
            detach = Some(pin);
        }
        add(path, &dir, tip, detach, &mut refusals)?;
    }
    add(SUPERPROJECT, root, top_tip, None, &mut refusals)?;
    if !refusals.is_empty() {
        return Err(ChangeError::Refused(refusals));
    }
    Ok(AbandonPlan {
        topic: name.to_owned(),
        repos,
        plan: Plan { steps },
    })
}

/// Commits of `tip` that no remote-tracking ref holds.
fn unpushed(dir: &Path, tip: ObjectId) -> Result<usize, meta_workflow::GitError> {
    meta_workflow::git::count(dir, &[&tip.to_string(), "--not", "--remotes"])
}

/// Decides what `--undo` brings back: every kept tip of `name`, as the branch again.
pub fn plan_restore(
    root: &Path,
    name: &str,
    projects: &[Project],
) -> Result<RestorePlan, ChangeError> {
    check_branch_name(root, name)?;
    let branch_ref = format!("refs/heads/{name}");
    let mut refusals = Vec::new();
    let mut repos = Vec::new();
    let mut steps = Vec::new();
    let places = projects
        .iter()
        .map(|p| (p.path.as_str(), root.join(&p.path)))
        .filter(|(_, dir)| dir.join(".git").exists())
        .chain([(SUPERPROJECT, root.to_path_buf())]);
    for (path, dir) in places {
        let keep_ref = abandoned_ref(name, path);
        let Some(kept) = rev_parse(&dir, &keep_ref).map_err(git_error(path))? else {
            continue;
        };
        match rev_parse(&dir, &branch_ref).map_err(git_error(path))? {
            Some(tip) if tip == kept => {}
            Some(tip) => {
                refusals.push(Refusal::Unrelated {
                    path: path.to_owned(),
                    name: name.to_owned(),
                    tip,
                    start: kept,
                });
                continue;
            }
            None => steps.push(Step {
                call: call(
                    path,
                    &dir,
                    &[
                        "update-ref",
                        "-m",
                        "meta abandon --undo",
                        &branch_ref,
                        &kept.to_string(),
                        "",
                    ],
                ),
                undo: vec![call(path, &dir, &["update-ref", "-d", &branch_ref])],
            }),
        }
        steps.push(Step {
            call: call(path, &dir, &["update-ref", "-d", &keep_ref]),
            undo: vec![call(
                path,
                &dir,
                &["update-ref", &keep_ref, &kept.to_string()],
            )],
        });
        repos.push((path.to_owned(), kept));
    }
    if repos.is_empty() {
        refusals.push(Refusal::NothingAbandoned {
            name: name.to_owned(),
        });
    }
    if !refusals.is_empty() {
        return Err(ChangeError::Refused(refusals));
    }
    Ok(RestorePlan {
        topic: name.to_owned(),
        repos,
        plan: Plan { steps },
    })
}

/// A topic `prune` looked at.
#[derive(Debug, Clone)]
pub struct PruneTopic {
    pub name: String,
    /// Why it stays (`None`: every branch landed, it is pruned).
    pub kept_because: Option<String>,
}

/// The whole of `meta prune`, decided.
#[derive(Debug, Clone)]
pub struct PrunePlan {
    pub topics: Vec<PruneTopic>,
    /// The abandon plans of the pruned topics, one after the other.
    pub abandons: Vec<AbandonPlan>,
}

impl PrunePlan {
    pub fn calls(&self) -> impl Iterator<Item = &GitCall> {
        self.abandons.iter().flat_map(|a| a.plan.calls())
    }

    /// Every abandon, one plan: all or nothing across topics.
    pub fn plan(&self) -> Plan {
        Plan {
            steps: self
                .abandons
                .iter()
                .flat_map(|a| a.plan.steps.iter().cloned())
                .collect(),
        }
    }
}

/// Decides which topics `prune` deletes: those (other than the current one) with project
/// branches, every one of which has landed on its tracked branch on the remote.
pub fn plan_prune(
    root: &Path,
    projects: &[Project],
    timeout: Duration,
) -> Result<PrunePlan, ChangeError> {
    let topics = crate::topics::topics(root, projects, None)?;
    let mut kept = Vec::new();
    let mut abandons = Vec::new();
    for topic in topics {
        if topic.current {
            kept.push(PruneTopic {
                name: topic.name,
                kept_because: Some("the superproject is on it".to_owned()),
            });
            continue;
        }
        let mut why_not = topic.projects.is_empty().then(|| {
            "no project has its branch, so nothing tells it landed (`meta abandon` deletes it)"
                .to_owned()
        });
        for member in &topic.projects {
            if why_not.is_some() {
                break;
            }
            let Some(project) = projects.iter().find(|p| p.path == member.path) else {
                continue;
            };
            if let Err(why) = crate::land::tip_landed(root, project, member.branch.tip, timeout) {
                why_not = Some(format!("`{}`: {why}", member.path));
            }
        }
        if why_not.is_none() {
            match plan_abandon(root, &topic.name, projects, true) {
                Ok(plan) => abandons.push(plan),
                Err(ChangeError::Refused(refusals)) => {
                    why_not = Some(
                        refusals
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; "),
                    );
                }
                Err(other) => return Err(other),
            }
        }
        kept.push(PruneTopic {
            name: topic.name,
            kept_because: why_not,
        });
    }
    Ok(PrunePlan {
        topics: kept,
        abandons,
    })
}

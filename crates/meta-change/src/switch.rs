//! `meta switch NAME`: the superproject to the topic NAME, and each initialised project to
//! NAME where it has that branch, else to the pin NAME's superproject commit records
//! (attached to the tracked branch when the pin is its remote tip, as `meta sync` lands;
//! detached otherwise). Planned in full, and refused with every reason, before anything runs.
//!
//! Per repository that must move:
//! - dirty (staged or modified tracked files) is refused, unless `autostash`: then
//!   `git stash push` before, and `git stash pop --index` once every checkout succeeded (the
//!   pops are listed in the plan but run after it: a pop conflict keeps the stash and is
//!   reported, it does not undo the switch);
//! - the checkout is `git switch` (never forced: git itself refuses to overwrite untracked
//!   files or local changes);
//! - its undo puts HEAD back detached at the old commit, restores any branch the checkout
//!   created or moved, then re-attaches HEAD to the old branch; it runs with hooks off, and
//!   also when the checkout itself fails (a `post-checkout` hook that fails after git moved).
//!
//! Projects go first and the superproject last, so a failure leaves it where it was.

use std::path::{Path, PathBuf};

use meta_repo::{ObjectId, Project};
use meta_workflow::TrackedBranches;
use meta_workflow::git::{git, has_commit, is_ancestor, rev_parse};

use crate::branch::check_state;
use crate::error::{ChangeError, Refusal, git_error};
use crate::plan::{GitCall, Plan, Step};
use crate::state::RepoState;
use crate::{SUPERPROJECT, check_branch_name};

/// What the switch asks for.
#[derive(Debug, Clone)]
pub struct SwitchRequest<'a> {
    /// The meta-repo's root.
    pub root: &'a Path,
    pub name: &'a str,
    /// Every project of the meta-repo.
    pub projects: &'a [Project],
    pub autostash: bool,
}

/// Where a repository ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// On the topic branch NAME.
    Topic,
    /// On its tracked branch, whose remote tip is the recorded pin.
    Tracked { branch: String },
    /// Detached at the recorded pin.
    Pin,
}

/// One repository's switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchOutcome {
    /// The project's path, or `.` for the superproject.
    pub path: String,
    pub from_branch: Option<String>,
    pub from: ObjectId,
    pub target: Target,
    /// The commit checked out afterwards.
    pub to: ObjectId,
    /// Nothing to do: it is there already.
    pub unchanged: bool,
    /// Its changes are stashed before and popped after (`autostash`).
    pub stashed: bool,
}

impl SwitchOutcome {
    /// The branch checked out afterwards (`None`: detached).
    pub fn to_branch<'a>(&'a self, topic: &'a str) -> Option<&'a str> {
        match &self.target {
            Target::Topic => Some(topic),
            Target::Tracked { branch } => Some(branch),
            Target::Pin => None,
        }
    }
}

/// Why a project is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchSkip {
    /// Not checked out (`meta sync` clones it).
    NotInitialized,
    /// The topic's superproject commit records no pin for it.
    NotInTopic,
}

/// The whole of `meta switch`, decided.
#[derive(Debug, Clone)]
pub struct SwitchPlan {
    pub topic: String,
    pub superproject: SwitchOutcome,
    pub projects: Vec<SwitchOutcome>,
    pub skipped: Vec<(String, SwitchSkip)>,
    /// Stash, checkout and their undo: all or nothing.
    pub plan: Plan,
    /// `git stash pop --index`, one per stashed repository, run once `plan` succeeded.
    pub pops: Vec<GitCall>,
}

impl SwitchPlan {
    /// Every git call in the order it runs: the plan, then the pops.
    pub fn calls(&self) -> impl Iterator<Item = &GitCall> {
        self.plan.calls().chain(&self.pops)
    }

    /// Runs the pops; returns those that failed (their stash is kept).
    pub fn pop_stashes(&self) -> Vec<(GitCall, meta_workflow::GitError)> {
        self.pops
            .iter()
            .filter_map(|call| {
                git(&call.dir)
                    .args(&call.args)
                    .run()
                    .err()
                    .map(|e| (call.clone(), e))
            })
            .collect()
    }
}

/// Decides everything `meta switch` would do, reading only.
pub fn plan_switch(request: &SwitchRequest<'_>) -> Result<SwitchPlan, ChangeError> {
    let root = request.root;
    let name = request.name;
    check_branch_name(root, name)?;
    let topic_ref = format!("refs/heads/{name}");
    let Some(topic_tip) = rev_parse(root, &topic_ref).map_err(git_error(SUPERPROJECT))? else {
        return Err(ChangeError::Refused(vec![Refusal::UnknownTopic {
            name: name.to_owned(),
            close: close_topics(root, name)?,
        }]));
    };
    let mut refusals = Vec::new();
    let top = RepoState::read(root).map_err(git_error(SUPERPROJECT))?;
    check_state(SUPERPROJECT, &top, &mut refusals);
    let pins = crate::topics::recorded_pins(root, name, request.projects)?;
    let tracked = TrackedBranches::read(root);

    let mut projects = Vec::new();
    let mut skipped = Vec::new();
    let mut steps = Vec::new();
    let mut pops = Vec::new();
    for project in request.projects {
        let path = project.path.as_str();
        let dir = root.join(path);
        if !project.active || std::fs::symlink_metadata(dir.join(".git")).is_err() {
            skipped.push((path.to_owned(), SwitchSkip::NotInitialized));
            continue;
        }
        let Some(&pin) = pins.get(path) else {
            skipped.push((path.to_owned(), SwitchSkip::NotInTopic));
            continue;
        };
        let state = RepoState::read(&dir).map_err(git_error(path))?;
        let before = refusals.len();
        check_state(path, &state, &mut refusals);
        let Some(head) = state.head else { continue };
        if refusals.len() > before {
            continue;
        }
        let repo = Repo {
            path,
            dir,
            state: &state,
            head,
        };
        let planned = match rev_parse(&repo.dir, &topic_ref).map_err(git_error(path))? {
            Some(tip) => Ok(repo.to_branch(name, Target::Topic, tip)),
            None => repo.to_pin(&tracked, project, pin)?,
        };
        let outcome = match planned {
            Ok(outcome) => outcome,
            Err(refusal) => {
                refusals.push(refusal);
                continue;
            }
        };
        if let Some(outcome) = repo.finish(
            outcome,
            request.autostash,
            &mut refusals,
            &mut steps,
            &mut pops,
        )? {
            projects.push(outcome);
        }
    }

    let superproject = match top.head {
        Some(head) => {
            let repo = Repo {
                path: SUPERPROJECT,
                dir: root.to_path_buf(),
                state: &top,
                head,
            };
            let planned = repo.to_branch(name, Target::Topic, topic_tip);
            repo.finish(
                planned,
                request.autostash,
                &mut refusals,
                &mut steps,
                &mut pops,
            )?
        }
        None => None,
    };
    match superproject {
        Some(superproject) if refusals.is_empty() => Ok(SwitchPlan {
            topic: name.to_owned(),
            superproject,
            projects,
            skipped,
            plan: Plan { steps },
            pops,
        }),
        _ => Err(ChangeError::Refused(refusals)),
    }
}

/// Up to three topic names close to `name` (the superproject's local branches).
pub(crate) fn close_topics(root: &Path, name: &str) -> Result<Vec<String>, ChangeError> {
    let listing = git(root)
        .args([
            "for-each-ref",
            "--format=%(refname:lstrip=2)",
            "refs/heads/",
        ])
        .run()
        .map_err(git_error(SUPERPROJECT))?;
    let mut scored: Vec<(usize, String)> = listing
        .lines()
        .filter_map(|branch| {
            let distance = strsim::levenshtein(branch, name);
            let close = distance <= (name.len() / 3).max(2)
                || (name.len() >= 3 && (branch.contains(name) || name.contains(branch)));
            close.then(|| (distance, branch.to_owned()))
        })
        .collect();
    scored.sort();
    Ok(scored.into_iter().take(3).map(|(_, b)| b).collect())
}

/// Staged or modified tracked files (a submodule counts only when its pin is staged).
fn dirty_files(dir: &Path, path: &str) -> Result<usize, ChangeError> {
    let status = git(dir)
        .args([
            "status",
            "--porcelain=v2",
            "--untracked-files=no",
            "--ignore-submodules=none",
            "-z",
        ])
        .run()
        .map_err(git_error(path))?;
    let mut files = 0;
    let mut entries = status.split('\0');
    while let Some(entry) = entries.next() {
        let mut fields = entry.split(' ');
        let kind = fields.next();
        if kind == Some("2") {
            entries.next(); // the original path of a rename
        }
        if !matches!(kind, Some("1" | "2")) {
            continue;
        }
        let xy = fields.next().unwrap_or("..");
        let submodule = fields.next().is_some_and(|s| s.starts_with('S'));
        let staged = !xy.starts_with('.');
        if staged || (!submodule && xy != "..") {
            files += 1;
        }
    }
    Ok(files)
}

/// One repository being planned.
struct Repo<'a> {
    path: &'a str,
    dir: PathBuf,
    state: &'a RepoState,
    head: ObjectId,
}

/// A decided move, before its calls.
struct Move {
    target: Target,
    to: ObjectId,
    /// `git switch` arguments; `None`: already there.
    switch: Option<Vec<String>>,
    /// A branch the switch creates (`None` before) or moves (its old tip).
    branch_changed: Option<(String, Option<ObjectId>)>,
}

impl Repo<'_> {
    fn call<S: Into<String>>(&self, args: impl IntoIterator<Item = S>) -> GitCall {
        GitCall::new(self.path, self.dir.clone(), args)
    }

    /// Onto the existing local `branch` at `tip`.
    fn to_branch(&self, branch: &str, target: Target, tip: ObjectId) -> Move {
        let here = self.state.branch.as_deref() == Some(branch);
        Move {
            target,
            to: tip,
            switch: (!here).then(|| vec!["switch".to_owned(), "-q".to_owned(), branch.to_owned()]),
            branch_changed: None,
        }
    }

    /// Onto the recorded pin, as `meta sync` lands.
    fn to_pin(
        &self,
        tracked: &TrackedBranches,
        project: &Project,
        pin: ObjectId,
    ) -> Result<Result<Move, Refusal>, ChangeError> {
        let path = self.path;
        if !has_commit(&self.dir, pin).map_err(git_error(path))? {
            return Ok(Err(Refusal::PinNotFetched {
                path: path.to_owned(),
                pin,
            }));
        }
        let branch = match &project.submodule_name {
            Some(submodule) => tracked.of(&self.dir, submodule).map_err(git_error(path))?,
            None => None,
        };
        let detach = || Move {
            target: Target::Pin,
            to: pin,
            switch: (self.state.branch.is_some() || self.head != pin).then(|| {
                vec![
                    "switch".to_owned(),
                    "-q".to_owned(),
                    "--detach".to_owned(),
                    pin.to_string(),
                ]
            }),
            branch_changed: None,
        };
        let Some(branch) = branch else {
            return Ok(Ok(detach()));
        };
        let remote = rev_parse(&self.dir, &format!("refs/remotes/origin/{branch}"))
            .map_err(git_error(path))?;
        if remote != Some(pin) {
            return Ok(Ok(detach()));
        }
        let target = Target::Tracked {
            branch: branch.clone(),
        };
        let local =
            rev_parse(&self.dir, &format!("refs/heads/{branch}")).map_err(git_error(path))?;
        let planned = match local {
            Some(local) if local == pin => self.to_branch(&branch, target, pin),
            Some(local) if is_ancestor(&self.dir, local, pin).map_err(git_error(path))? => {
                // Forward to the pin: it loses nothing, being an ancestor.
                Move {
                    target,
                    to: pin,
                    switch: Some(vec![
                        "switch".to_owned(),
                        "-q".to_owned(),
                        format!("--force-create={branch}"),
                        pin.to_string(),
                    ]),
                    branch_changed: Some((branch, Some(local))),
                }
            }
            Some(_) => detach(),
            None => Move {
                target,
                to: pin,
                switch: Some(vec![
                    "switch".to_owned(),
                    "-q".to_owned(),
                    format!("--create={branch}"),
                    "--track".to_owned(),
                    format!("refs/remotes/origin/{branch}"),
                ]),
                branch_changed: Some((branch, None)),
            },
        };
        Ok(Ok(planned))
    }

    /// The outcome and its calls; refuses a dirty repository that must move.
    fn finish(
        &self,
        planned: Move,
        autostash: bool,
        refusals: &mut Vec<Refusal>,
        steps: &mut Vec<Step>,
        pops: &mut Vec<GitCall>,
    ) -> Result<Option<SwitchOutcome>, ChangeError> {
        let mut outcome = SwitchOutcome {
            path: self.path.to_owned(),
            from_branch: self.state.branch.clone(),
            from: self.head,
            target: planned.target,
            to: planned.to,
            unchanged: planned.switch.is_none(),
            stashed: false,
        };
        let Some(switch) = planned.switch else {
            return Ok(Some(outcome));
        };
        let dirty = dirty_files(&self.dir, self.path)?;
        if dirty > 0 {
            if !autostash {
                refusals.push(Refusal::Dirty {
                    path: self.path.to_owned(),
                    files: dirty,
                });
                return Ok(None);
            }
            outcome.stashed = true;
            let pop = self.call(["stash", "pop", "-q", "--index"]);
            steps.push(Step {
                call: self.call(["stash", "push", "-q", "-m", "meta switch --autostash"]),
                undo: vec![pop.clone()],
            });
            pops.push(pop);
        }
        let quiet = |args: &[String]| {
            let mut all = vec!["-c".to_owned(), "core.hooksPath=/dev/null".to_owned()];
            all.extend(args.iter().cloned());
            self.call(all)
        };
        let mut undo = vec![quiet(&[
            "checkout".to_owned(),
            "-q".to_owned(),
            "--detach".to_owned(),
            self.head.to_string(),
        ])];
        if let Some((branch, old)) = planned.branch_changed {
            let reference = format!("refs/heads/{branch}");
            undo.push(match old {
                Some(old) => self.call([
                    "update-ref".to_owned(),
                    "-m".to_owned(),
                    "meta switch: undone".to_owned(),
                    reference,
                    old.to_string(),
                ]),
                None => self.call(["update-ref".to_owned(), "-d".to_owned(), reference]),
            });
        }
        if let Some(branch) = &self.state.branch {
            undo.push(self.call([
                "symbolic-ref".to_owned(),
                "-m".to_owned(),
                "meta switch: undone".to_owned(),
                "HEAD".to_owned(),
                format!("refs/heads/{branch}"),
            ]));
        }
        steps.push(Step {
            call: self.call(switch),
            undo,
        });
        Ok(Some(outcome))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_by_distance() {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| meta_test::git(dir.path()).args(args).run().unwrap();
        run(&["init", "-q", "-b", "main"]);
        run(&["commit", "-q", "--allow-empty", "-m", "x"]);
        for b in ["feat/login", "feat/logout", "fix/other"] {
            run(&["branch", b]);
        }
        let close = close_topics(dir.path(), "feat/logn").unwrap();
        assert_eq!(close, vec!["feat/login", "feat/logout"]);
        assert!(close_topics(dir.path(), "zzzzzzzz").unwrap().is_empty());
    }
}

//! Plans as data: every git call a command will make, known before the first one runs, each
//! with the calls that undo it. `--dry-run` prints [`Plan::calls`]; [`Plan::apply`] runs them
//! in order and, when one fails, undoes those already made (newest first).

use std::path::PathBuf;

use meta_workflow::GitError;
use meta_workflow::git::git;

/// One git call in one repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GitCall {
    /// The repository, as shown: a project's path, or `.` for the superproject.
    pub repo: String,
    /// Its work tree.
    pub dir: PathBuf,
    /// git's arguments (without `git`).
    pub args: Vec<String>,
}

impl GitCall {
    pub fn new(
        repo: &str,
        dir: PathBuf,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            repo: repo.to_owned(),
            dir,
            args: args.into_iter().map(Into::into).collect(),
        }
    }

    /// The call as a shell command run from the meta-repo's root: `git -C PATH ARGS…`, each
    /// word quoted when the shell would need it.
    pub fn command_line(&self) -> String {
        let mut line = String::from("git");
        if self.repo != crate::SUPERPROJECT {
            line.push_str(" -C ");
            line.push_str(&quote(&self.repo));
        }
        for arg in &self.args {
            line.push(' ');
            line.push_str(&quote(arg));
        }
        line
    }

    pub(crate) fn run(&self) -> Result<(), GitError> {
        git(&self.dir).args(&self.args).run().map(drop)
    }
}

/// A call and what undoes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    pub call: GitCall,
    /// Run in order to undo `call` once it succeeded.
    pub undo: Vec<GitCall>,
}

/// Every git call of a command, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

/// A plan stopped by a failing call; the calls before it were undone (or not: `undo_failures`).
#[derive(Debug, thiserror::Error)]
#[error("`{}` failed in `{}`", .failed.command_line(), .failed.repo)]
pub struct ApplyError {
    pub failed: GitCall,
    #[source]
    pub source: GitError,
    /// How many calls had succeeded and were undone.
    pub undone: usize,
    /// Undo calls that failed themselves: those repositories need a look.
    pub undo_failures: Vec<(GitCall, GitError)>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The calls in the order they run.
    pub fn calls(&self) -> impl Iterator<Item = &GitCall> {
        self.steps.iter().map(|step| &step.call)
    }

    /// Runs every call in order. On a failure, undoes the calls already made, newest first,
    /// and says what failed and what could not be undone.
    pub fn apply(&self) -> Result<(), Box<ApplyError>> {
        self.apply_undoing_failed(|_| false)
    }

    /// [`Plan::apply`], where a failed call for which `undo_failed` holds is undone too,
    /// before the earlier ones: for calls that can fail after taking effect (a checkout whose
    /// `post-checkout` hook fails). Their undo must be harmless when the call did nothing.
    pub fn apply_undoing_failed(
        &self,
        undo_failed: impl Fn(&Step) -> bool,
    ) -> Result<(), Box<ApplyError>> {
        for (done, step) in self.steps.iter().enumerate() {
            if let Err(source) = step.call.run() {
                let failed = undo_failed(step).then_some(step);
                let undo_failures = undo(failed.into_iter().chain(self.steps[..done].iter().rev()));
                return Err(Box::new(ApplyError {
                    failed: step.call.clone(),
                    source,
                    undone: done,
                    undo_failures,
                }));
            }
        }
        Ok(())
    }
}

/// A plan as its journal keeps it: the steps, how far they got, and the command's request
/// (what `--continue` runs again).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Journaled {
    request: serde_json::Value,
    steps: Vec<Step>,
    /// Per step: its undo is harmless when the call did not finish (undone when in flight).
    undo_in_flight: Vec<bool>,
    /// Steps finished.
    done: usize,
    /// A step was started and not known to have finished.
    in_flight: bool,
}

impl Plan {
    /// [`Plan::apply_undoing_failed`] under a journal (see [`crate::journal`]): progress is
    /// recorded around every call, so a process killed half-way leaves what
    /// [`abort_journaled`] needs to undo exactly the calls that ran. `request` is the command's
    /// own arguments, handed back by [`abort_journaled`] for `--continue`.
    pub fn apply_journaled(
        &self,
        root: &std::path::Path,
        operation: &str,
        topic: &str,
        request: serde_json::Value,
        undo_failed: impl Fn(&Step) -> bool,
    ) -> Result<(), JournaledError> {
        let mut state = Journaled {
            request,
            steps: self.steps.clone(),
            undo_in_flight: self.steps.iter().map(&undo_failed).collect(),
            done: 0,
            in_flight: false,
        };
        let value = |state: &Journaled| serde_json::to_value(state).unwrap_or_default();
        let mut journal =
            crate::journal::Journal::begin(root, operation, topic, value(&state), &[])?;
        for (done, step) in self.steps.iter().enumerate() {
            state.in_flight = true;
            journal.set_request_quick(value(&state))?;
            if let Err(source) = step.call.run() {
                let failed = undo_failed(step).then_some(step);
                let undo_failures = undo(failed.into_iter().chain(self.steps[..done].iter().rev()));
                if undo_failures.is_empty() {
                    let _ = journal.finish();
                }
                return Err(JournaledError::Apply(Box::new(ApplyError {
                    failed: step.call.clone(),
                    source,
                    undone: done,
                    undo_failures,
                })));
            }
            state.done = done + 1;
            state.in_flight = false;
            journal.set_request_quick(value(&state))?;
        }
        journal.finish()?;
        Ok(())
    }
}

/// Runs the undo calls of `steps`, in order; returns those that failed.
fn undo<'a>(steps: impl Iterator<Item = &'a Step>) -> Vec<(GitCall, GitError)> {
    let mut failures = Vec::new();
    for step in steps {
        for call in &step.undo {
            if let Err(error) = call.run() {
                failures.push((call.clone(), error));
            }
        }
    }
    failures
}

/// A journaled plan that could not run to the end.
#[derive(Debug, thiserror::Error)]
pub enum JournaledError {
    #[error(transparent)]
    Apply(Box<ApplyError>),
    #[error("the journal could not be kept")]
    Journal(#[from] crate::journal::JournalError),
    #[error("the interrupted operation is a `meta {0}`")]
    OtherOperation(String),
    #[error("the journal of the interrupted operation is unreadable")]
    Unreadable(#[source] serde_json::Error),
    #[error("some calls could not be undone: {}", .0.iter().map(|(c, e)| format!("`{}`: {e}", c.command_line())).collect::<Vec<_>>().join("; "))]
    Undo(Vec<(GitCall, GitError)>),
}

/// Undoes what an interrupted journaled plan of `operation` did (the calls that finished,
/// newest first, and the one in flight when its undo is harmless). Returns the topic and the
/// command's request, for `--continue` to run it again.
pub fn abort_journaled(
    root: &std::path::Path,
    operation: &str,
) -> Result<(String, serde_json::Value), JournaledError> {
    let journal = crate::journal::Journal::resume(root)?;
    let record = journal.record().clone();
    if record.operation != operation {
        return Err(JournaledError::OtherOperation(record.operation));
    }
    let state: Journaled =
        serde_json::from_value(record.request).map_err(JournaledError::Unreadable)?;
    let in_flight = (state.in_flight
        && state
            .undo_in_flight
            .get(state.done)
            .copied()
            .unwrap_or(false))
    .then(|| state.steps.get(state.done))
    .flatten();
    let done = &state.steps[..state.done.min(state.steps.len())];
    let failures = undo(in_flight.into_iter().chain(done.iter().rev()));
    if !failures.is_empty() {
        return Err(JournaledError::Undo(failures));
    }
    journal.finish()?;
    Ok((record.topic, state.request))
}

/// `word` as a POSIX shell would need it typed: as is when it is made of safe characters,
/// else in single quotes.
fn quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,^{}".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_quote_what_the_shell_would_split() {
        let call = GitCall::new(
            "src/libraries/api",
            PathBuf::from("/x"),
            [
                "update-ref",
                "-m",
                "meta branch: it's new",
                "refs/heads/t",
                "abc",
                "",
            ],
        );
        assert_eq!(
            call.command_line(),
            r"git -C src/libraries/api update-ref -m 'meta branch: it'\''s new' refs/heads/t abc ''"
        );
        let root = GitCall::new(".", PathBuf::from("/x"), ["switch", "--create=feat/x"]);
        assert_eq!(root.command_line(), "git switch --create=feat/x");
    }
}

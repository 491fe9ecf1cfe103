//! How errors of `meta-change` (topics, plans, refusals) read to the user: every refusal as a
//! cause naming the repository and the ref, every fix as a hint, and "nothing was changed".

use meta_change::{ApplyError, ChangeError, PushError, PushFailure, Refusal};

use crate::error::CliError;
use crate::workflow_error::git_hint;

/// `error` as the CLI reports it; `what` says what could not be done (`cannot create topic
/// `x``).
pub fn change_error(what: &str, error: ChangeError) -> CliError {
    match error {
        ChangeError::Refused(refusals) => {
            let bad_name = refusals.iter().all(|r| {
                matches!(
                    r,
                    Refusal::NameLooksLikeOption { .. }
                        | Refusal::BadName { .. }
                        | Refusal::UnknownTopic { .. }
                )
            });
            let cli = if bad_name {
                CliError::usage(format!("{what}: nothing was changed"))
            } else {
                CliError::new(format!("{what}: refused, nothing was changed"))
            };
            with_causes_and_fixes(cli, refusals.iter().map(|r| (r.to_string(), r.fix())))
        }
        ChangeError::Projects(error) => CliError::from(error),
        ChangeError::Git { ref source, .. } => {
            let cli = CliError::context(what.to_owned(), &error);
            match git_hint(source) {
                Some(hint) => cli.with_hint(hint),
                None => cli,
            }
        }
    }
}

/// Every refusal as a cause, and each distinct fix once as a hint, in order.
fn with_causes_and_fixes(
    mut cli: CliError,
    refusals: impl Iterator<Item = (String, String)>,
) -> CliError {
    let mut fixes: Vec<String> = Vec::new();
    for (cause, fix) in refusals {
        cli = cli.with_cause(cause);
        if !fixes.contains(&fix) {
            fixes.push(fix);
        }
    }
    for fix in fixes {
        cli = cli.with_hint(fix);
    }
    cli
}

/// A plan that failed half-way, with what was undone.
pub fn apply_error(what: &str, error: &ApplyError) -> CliError {
    let mut cli = CliError::context(what.to_owned(), error);
    if error.undo_failures.is_empty() {
        cli = cli.with_hint(format!(
            "the {} git call{} made before it {} undone: every repository is as it was",
            error.undone,
            if error.undone == 1 { "" } else { "s" },
            if error.undone == 1 { "was" } else { "were" }
        ));
    } else {
        for (call, failure) in &error.undo_failures {
            cli = cli.with_cause(format!(
                "could not undo in `{}`: `{}`: {failure}",
                call.repo,
                call.command_line()
            ));
        }
        cli = cli.with_hint(
            "check the repositories named above (`git status`, `git branch`); the rest were put back",
        );
    }
    if let Some(hint) = git_hint(&error.source) {
        cli = cli.with_hint(hint);
    }
    cli
}

/// A journaled plan that failed, or whose journal could not be kept.
pub fn journaled_error(what: &str, error: meta_change::JournaledError) -> CliError {
    match error {
        meta_change::JournaledError::Apply(error) => apply_error(what, &error),
        meta_change::JournaledError::Journal(meta_change::journal::JournalError::Missing(_)) => {
            CliError::new(format!("{what}: nothing was interrupted"))
                .with_hint("no journal is waiting; `meta status` shows where every project is")
        }
        other => CliError::context(what.to_owned(), &other),
    }
}

/// `--abort` / `--continue` of a journaled plan: undoes what the interrupted `operation` did.
/// Returns its request when the command should run again (`--continue`), `None` after
/// `--abort` (said on the terminal).
pub fn recover_plan(
    ui: &crate::ui::Ui,
    root: &std::path::Path,
    operation: &str,
    continue_: bool,
) -> Result<Option<serde_json::Value>, CliError> {
    let what = format!("cannot undo the interrupted `meta {operation}`");
    let (topic, request) =
        meta_change::abort_journaled(root, operation).map_err(|e| journaled_error(&what, e))?;
    if continue_ {
        return Ok(Some(request));
    }
    ui.println(format!(
        "undid the interrupted `meta {operation}`{}: every repository is back where it was",
        if topic.is_empty() {
            String::new()
        } else {
            format!(" of topic `{topic}`")
        }
    ))?;
    Ok(None)
}

/// `meta push`'s errors: refusals (nothing pushed) with their fixes, rejected pushes with
/// git's reason and what the remote said, and what was pushed already (harmless).
pub fn push_error(what: &str, error: PushError) -> CliError {
    let failure_causes = |mut cli: CliError, failure: &PushFailure| {
        let place = if failure.path == meta_change::SUPERPROJECT {
            "the superproject".to_owned()
        } else {
            format!("`{}`", failure.path)
        };
        cli = cli.with_cause(format!("{place}: {}", failure.reason));
        for line in &failure.remote_says {
            cli = cli.with_cause(format!("{place}: the remote says: {line}"));
        }
        cli
    };
    let diverged = |failures: &[&PushFailure]| {
        failures
            .iter()
            .any(|f| f.reason.contains("non-fast-forward") || f.reason.contains("fetch first"))
    };
    match error {
        PushError::Refused(refusals) => {
            let cli = CliError::new(format!("{what}: refused, nothing was pushed"));
            with_causes_and_fixes(cli, refusals.iter().map(|r| (r.to_string(), r.fix())))
        }
        PushError::Rejected { failures, pushed } => {
            let mut cli = CliError::new(format!(
                "{what}: {} project push{} failed, so the superproject was not pushed",
                failures.len(),
                if failures.len() == 1 { "" } else { "es" }
            ));
            for failure in &failures {
                cli = failure_causes(cli, failure);
            }
            if !pushed.is_empty() {
                let paths: Vec<&str> = pushed.iter().map(|p| p.path.as_str()).collect();
                cli = cli.with_hint(format!(
                    "pushed already (harmless: only their topic branch): {}",
                    some_paths(&paths)
                ));
            }
            if diverged(&failures.iter().collect::<Vec<_>>()) {
                cli = cli.with_hint(
                    "a remote has commits on the branch that yours lacks: pull them in there (`git -C PATH pull --rebase origin BRANCH`) and re-record the pin, or `--force-with-lease` to replace them",
                );
            }
            cli.with_hint(
                "fix the cause, then run `meta push` again: it pushes only what is missing",
            )
        }
        PushError::NotVerified { refusals, pushed } => {
            let mut cli = CliError::new(format!(
                "{what}: after the project pushes, {error}, so the superproject was not pushed",
                error = PushError::NotVerified {
                    refusals: refusals.clone(),
                    pushed: Vec::new(),
                }
            ));
            cli = with_causes_and_fixes(cli, refusals.iter().map(|r| (r.to_string(), r.fix())));
            if !pushed.is_empty() {
                let paths: Vec<&str> = pushed.iter().map(|p| p.path.as_str()).collect();
                cli = cli.with_hint(format!(
                    "pushed already (harmless: only their topic branch): {}",
                    some_paths(&paths)
                ));
            }
            cli
        }
        PushError::SuperprojectRejected { failure, .. } => {
            let mut cli = CliError::new(format!(
                "{what}: every pin is on its project's remote, but the superproject's push failed"
            ));
            cli = failure_causes(cli, &failure);
            if diverged(&[&failure]) {
                cli = cli.with_hint(
                    "the superproject's remote has commits on the branch that yours lacks: `git pull --rebase`, then `meta push` again",
                );
            }
            cli.with_hint(
                "fix the cause, then run `meta push` again: it pushes only what is missing",
            )
        }
        PushError::Git { ref source, .. } => {
            let cli = CliError::context(what.to_owned(), &error);
            match git_hint(source) {
                Some(hint) => cli.with_hint(hint),
                None => cli,
            }
        }
    }
}

/// Up to five paths in backquotes, then how many more: lists that stay readable at 200 projects.
pub fn some_paths(paths: &[&str]) -> String {
    const SHOWN: usize = 5;
    let mut text = paths
        .iter()
        .take(SHOWN)
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > SHOWN {
        text = format!("{text} and {} more", paths.len() - SHOWN);
    }
    text
}

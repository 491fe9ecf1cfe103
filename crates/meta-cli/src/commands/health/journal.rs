//! `journal`: an operation across repositories (`meta commit`, `meta rebase`) left its
//! journal. Shown only when one is there: interrupted (nobody holds its lock) warns with the
//! way to finish or undo it; running passes, naming the process.

use meta_change::journal::{self, Pending};

use super::{Check, Health, Outcome};

pub const CHECK: Check = Check {
    name: "journal",
    applies,
    run,
};

fn applies(health: &Health) -> bool {
    journal::journal_dir(&health.root).is_ok_and(|dir| dir.join("journal.json").exists())
}

fn run(health: &Health) -> Outcome {
    match journal::pending(&health.root) {
        Ok(None) => Outcome::pass("no operation across repositories is under way"),
        Ok(Some(Pending::Running { operation, pid })) => Outcome::pass(format!(
            "`meta {operation}` (process {pid}) is changing the repositories right now"
        )),
        Ok(Some(Pending::Interrupted { record, path })) => Outcome::warn(
            format!(
                "an interrupted `meta {}` on topic `{}` left repositories half-changed (journal `{}`)",
                record.operation,
                record.topic,
                path.display()
            ),
            format!(
                "`meta {0} --continue` finishes it; `meta {0} --abort` puts every repository back",
                record.operation
            ),
        ),
        Err(error) => Outcome::warn(
            format!("the journal cannot be read: {error}"),
            "if no `meta` command is running, look at it, then delete it to go on",
        ),
    }
}

//! Interrupted operations across repositories (`meta commit` killed half-way): every command
//! that opens the meta-repo says so, and the commands that change repositories refuse to
//! start until it is finished or undone.

use std::path::Path;

use meta_change::journal::{self, Pending};

use crate::error::CliError;
use crate::ui::Ui;

/// The commands that finish or undo what `operation` left.
fn how_to_recover(operation: &str) -> String {
    format!(
        "`meta {operation} --continue` finishes it; `meta {operation} --abort` puts every repository back as it was before"
    )
}

/// Warns when an interrupted operation left its journal. Quiet when none did, or when the
/// journal cannot be read (the commands that need it report that).
pub fn warn_if_interrupted(ui: &Ui, root: &Path) {
    if let Ok(Some(Pending::Interrupted { record, .. })) = journal::pending(root) {
        ui.warn(format!(
            "an interrupted `meta {}` on topic `{}` (process {}) left repositories half-changed: {}",
            record.operation,
            record.topic,
            record.pid,
            how_to_recover(&record.operation)
        ));
    }
}

/// Refuses to start a change while another one runs or one was interrupted.
pub fn refuse_if_pending(root: &Path, what: &str) -> Result<(), CliError> {
    match journal::pending(root) {
        Ok(None) => Ok(()),
        Ok(Some(Pending::Running { operation, pid })) => Err(CliError::new(format!(
            "{what}: another `meta {operation}` (process {pid}) is changing the repositories"
        ))
        .with_hint("wait for it to finish, then run this again")),
        Ok(Some(Pending::Interrupted { record, path })) => Err(CliError::new(format!(
            "{what}: an interrupted `meta {}` left repositories half-changed",
            record.operation
        ))
        .with_cause(format!("its journal is `{}`", path.display()))
        .with_hint(how_to_recover(&record.operation))),
        Err(error) => Err(CliError::context(what.to_owned(), &error).with_hint(
            "if no `meta` command is running, look at the journal, then delete it to go on",
        )),
    }
}

//! `pins`, offline: every pin of the superproject's index is held by some remote-tracking ref
//! of its project (as of the last fetch). A pin none holds was most likely never pushed, and
//! breaks teammates' `meta sync`. `meta check pins` asks the remotes themselves.

use super::{Check, Health, Outcome, always};

pub const CHECK: Check = Check {
    name: "pins",
    applies: always,
    run,
};

fn run(health: &Health) -> Outcome {
    let root = &health.root;
    let Ok(listed) = meta_repo::list_projects(root) else {
        return Outcome::pass(
            "no pins to check (the `submodules` check says why the projects cannot be read)",
        );
    };
    let missing = meta_change::pins_without_remote_ref(root, &listed.projects);
    if missing.is_empty() {
        return Outcome::pass(format!(
            "every pin is held by a remote-tracking ref ({} project{}); `meta check pins` asks the remotes",
            listed.projects.len(),
            if listed.projects.len() == 1 { "" } else { "s" }
        ));
    }
    let listing: Vec<String> = missing
        .iter()
        .map(|(path, pin, _)| format!("{path} ({})", pin.to_hex_with_len(7)))
        .collect();
    let mut outcome = Outcome::warn(
        format!(
            "{} pin{} no remote-tracking ref holds, probably never pushed: {}",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            listing.join(", ")
        ),
        "`meta push` publishes them; `meta check pins` asks the remotes themselves",
    );
    for (path, pin, branch) in &missing {
        let branch = branch.as_deref().unwrap_or("BRANCH");
        outcome.fix.push(format!(
            "git -C {path} push origin {pin}:refs/heads/{branch}"
        ));
    }
    outcome
}

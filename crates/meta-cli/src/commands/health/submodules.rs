//! `submodules`: every project initialised, at its pin, with no work only a detached HEAD
//! holds, fetching from the URL `.gitmodules` names, listed and pinned consistently.

use meta_repo::health::{Finding, findings};

use super::{Check, Health, Level, Outcome, always};

pub const CHECK: Check = Check {
    name: "submodules",
    applies: always,
    run,
};

fn run(health: &Health) -> Outcome {
    let root = &health.root;
    let listed = match meta_repo::list_projects(root) {
        Ok(listed) => listed,
        Err(error) => {
            return Outcome::fail(
                crate::error::describe_error(&error),
                "run `git submodule status` at the root to see what git says about the repository",
            );
        }
    };
    if !listed.is_git {
        return Outcome::warn(
            "the meta-repo is not a git repository, so it has no projects",
            "run `git init` at the root, then add projects with `git submodule add URL src/<group>/<name>`",
        );
    }
    let statuses = meta_repo::status_all(root, &listed.projects, None);
    let found = findings(root, &listed, &statuses);
    if found.is_empty() {
        return Outcome::pass(format!(
            "{} project{}: all initialised, at their pins, nothing at risk",
            listed.projects.len(),
            if listed.projects.len() == 1 { "" } else { "s" }
        ));
    }
    judge(listed.projects.len(), &found)
}

/// Words the findings: one part per kind, worst level overall, a fix per kind.
fn judge(total: usize, found: &[Finding]) -> Outcome {
    let mut level = Level::Pass;
    let mut parts = Vec::new();
    let mut fixes = Vec::new();
    let mut add = |lvl: Level, part: String, fix: &str| {
        level = level.max(lvl);
        parts.push(part);
        if !fixes.iter().any(|f| f == fix) {
            fixes.push(fix.to_owned());
        }
    };
    let paths = |pick: fn(&Finding) -> Option<String>| -> Vec<String> {
        found.iter().filter_map(pick).collect()
    };

    let at_risk: Vec<String> = found
        .iter()
        .filter_map(|f| match f {
            Finding::WorkAtRisk { path, commits, .. } => Some(format!(
                "{path} ({commits} commit{} only its detached HEAD holds)",
                if *commits == 1 { "" } else { "s" }
            )),
            _ => None,
        })
        .collect();
    if !at_risk.is_empty() {
        add(
            Level::Fail,
            format!("work at risk in {}", at_risk.join(", ")),
            "keep that work on a branch: `git -C <path> switch -c <branch>` (or `git branch <branch> HEAD`)",
        );
    }
    let unreadable: Vec<String> = found
        .iter()
        .filter_map(|f| match f {
            Finding::Unreadable { path, error } => Some(format!("{path} ({error})")),
            _ => None,
        })
        .collect();
    if !unreadable.is_empty() {
        add(
            Level::Fail,
            format!("cannot read {}", unreadable.join(", ")),
            "run `git -C <path> status` to see what git says, and repair or re-clone that project",
        );
    }
    let not_listed = paths(|f| match f {
        Finding::NotInGitmodules { path } => Some(path.clone()),
        _ => None,
    });
    if !not_listed.is_empty() {
        add(
            Level::Fail,
            format!(
                "gitlinks missing from `.gitmodules`: {}",
                not_listed.join(", ")
            ),
            "add a `[submodule]` entry with its path and URL to `.gitmodules`, or drop the gitlink with `git rm --cached <path>`",
        );
    }
    let conflicts = paths(|f| match f {
        Finding::PinConflict { path } => Some(path.clone()),
        _ => None,
    });
    if !conflicts.is_empty() {
        add(
            Level::Fail,
            format!("pin in conflict: {}", conflicts.join(", ")),
            "pick the commit to pin and `git add <path>` it in the meta-repo to end the conflict",
        );
    }
    let invalid: Vec<String> = found
        .iter()
        .filter_map(|f| match f {
            Finding::InvalidEntry { name, reason } => Some(format!("`{name}` ({reason})")),
            _ => None,
        })
        .collect();
    if !invalid.is_empty() {
        add(
            Level::Fail,
            format!("unusable `.gitmodules` entries: {}", invalid.join(", ")),
            "give each `[submodule]` in `.gitmodules` a relative path inside the meta-repo",
        );
    }
    let uninitialized = paths(|f| match f {
        Finding::NotInitialized { path } => Some(path.clone()),
        _ => None,
    });
    if !uninitialized.is_empty() {
        add(
            Level::Warn,
            format!("not initialised: {}", uninitialized.join(", ")),
            "initialise them: `meta sync` (it checks every project out at its pin)",
        );
    }
    let off_pin = paths(|f| match f {
        Finding::OffPin { path, .. } => Some(path.clone()),
        _ => None,
    });
    if !off_pin.is_empty() {
        add(
            Level::Warn,
            format!("off their pin: {}", off_pin.join(", ")),
            "record the new commit in the meta-repo (`git add <path>` and commit) or check the pin out again (`meta sync`, which never discards local work)",
        );
    }
    let url_differs: Vec<String> = found
        .iter()
        .filter_map(|f| match f {
            Finding::UrlDiffers {
                path,
                gitmodules_url,
                config_url,
            } => Some(format!(
                "{path} (.gitmodules: {gitmodules_url}, .git/config: {config_url})"
            )),
            _ => None,
        })
        .collect();
    if !url_differs.is_empty() {
        add(
            Level::Warn,
            format!("URL differs from `.gitmodules`: {}", url_differs.join(", ")),
            "copy `.gitmodules`' URL into `.git/config` with `git submodule sync -- <path>` (or change `.gitmodules` if the new URL is right)",
        );
    }
    let no_gitlink = paths(|f| match f {
        Finding::NoGitlink { path } => Some(path.clone()),
        _ => None,
    });
    if !no_gitlink.is_empty() {
        add(
            Level::Warn,
            format!(
                "listed in `.gitmodules` but never added: {}",
                no_gitlink.join(", ")
            ),
            "add it with `git submodule add <url> <path>`, or remove its entry from `.gitmodules`",
        );
    }
    let message = format!(
        "{total} project{}: {}",
        if total == 1 { "" } else { "s" },
        parts.join("; ")
    );
    Outcome {
        level,
        message,
        fix: fixes,
    }
}

//! `layout`: `meta/`, the group folders under `src/`, projects inside groups, and `.meta/`
//! kept out of git by `.gitignore`.

use super::{Check, Health, Outcome, always};

pub const CHECK: Check = Check {
    name: "layout",
    applies: always,
    run,
};

fn run(health: &Health) -> Outcome {
    let root = &health.root;
    let groups = health.groups();
    let mut problems = Vec::new();
    let mut fixes = Vec::new();

    let missing: Vec<String> = groups
        .iter()
        .filter(|g| !root.join("src").join(g).is_dir())
        .map(|g| format!("src/{g}"))
        .collect();
    if !missing.is_empty() {
        problems.push(format!("group folders missing: {}", missing.join(", ")));
        fixes.push(format!("`mkdir -p {}`", missing.join(" ")));
    }

    if !gitignore_lists_meta(&std::fs::read_to_string(root.join(".gitignore")).unwrap_or_default())
    {
        problems.push(
            "`.gitignore` does not list `.meta/`, so runtime state (event log, sockets' lock) shows up in git".to_owned(),
        );
        fixes.push("add a line `.meta/` to `.gitignore`".to_owned());
    }

    if let Ok(listed) = meta_repo::list_projects(root) {
        let outside: Vec<&str> = listed
            .projects
            .iter()
            .filter(|p| !p.group.as_ref().is_some_and(|g| groups.contains(g)))
            .map(|p| p.path.as_str())
            .collect();
        if !outside.is_empty() {
            problems.push(format!(
                "projects outside the groups: {}",
                outside.join(", ")
            ));
            fixes.push(
                "move them under `src/<group>/` with `git mv`, or add their folder to `[metarepo].groups`"
                    .to_owned(),
            );
        }
    }

    if problems.is_empty() {
        Outcome::pass(format!(
            "meta/, src/ with {} groups ({}), `.meta/` ignored",
            groups.len(),
            groups.join(", ")
        ))
    } else {
        Outcome {
            fix: fixes,
            ..Outcome::warn(problems.join("; "), String::new())
        }
    }
}

/// Does a `.gitignore` text ignore the root's `.meta/` folder?
fn gitignore_lists_meta(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .any(|line| matches!(line, ".meta" | ".meta/" | "/.meta" | "/.meta/"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn meta_line_is_recognised() {
        assert!(super::gitignore_lists_meta("target/\n.meta/\n"));
        assert!(super::gitignore_lists_meta("/.meta\n"));
        assert!(!super::gitignore_lists_meta("# .meta/\n.metadata\n"));
        assert!(!super::gitignore_lists_meta(""));
    }
}

//! Which names may be topics: what `git check-ref-format --branch` accepts, and nothing that
//! git could read as an option or that it would expand (`@{-1}`).

use std::path::Path;

use meta_workflow::git::{git, looks_like_option};

use crate::error::{ChangeError, Refusal};

/// Checks `name` as a branch name, asking git in the repository at `root`.
pub fn check_branch_name(root: &Path, name: &str) -> Result<(), ChangeError> {
    let refuse = |reason: &str| {
        Err(ChangeError::Refused(vec![Refusal::BadName {
            name: name.to_owned(),
            reason: reason.to_owned(),
        }]))
    };
    if name.is_empty() {
        return refuse("it is empty");
    }
    if looks_like_option(name) {
        return Err(ChangeError::Refused(vec![Refusal::NameLooksLikeOption {
            name: name.to_owned(),
        }]));
    }
    let out = git(root)
        .args(["check-ref-format", "--branch", name])
        .output()
        .map_err(|source| ChangeError::Git {
            path: crate::SUPERPROJECT.to_owned(),
            source,
        })?;
    if !out.status.success() {
        return refuse("git does not accept it as a branch name (`git check-ref-format --branch`)");
    }
    // `@{-1}` and friends are accepted and expanded: a topic name must be literal.
    if String::from_utf8_lossy(&out.stdout).trim_end_matches('\n') != name {
        return refuse("git reads it as another branch (`@{…}` syntax)");
    }
    Ok(())
}

//! What git itself says about each project, asked the way a person would: `git submodule
//! status`, `git ls-files -s`, `git rev-parse`, `git status --porcelain=v1` and
//! `git rev-list --left-right --count`. Tests compare `meta`'s answers with these, field by field.

use std::collections::HashMap;
use std::path::Path;

use crate::Result;
use crate::git::git_as_user;

/// Git's answers for one project, in the shape of `meta status --json`'s project fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GitTruth {
    pub path: String,
    pub initialized: bool,
    /// The gitlink's commit in the superproject's index (stage 0).
    pub pinned: Option<String>,
    pub head: Option<String>,
    pub on_pin: bool,
    pub branch: Option<String>,
    pub detached: bool,
    pub staged: usize,
    pub modified: usize,
    pub untracked: usize,
    pub conflicted: usize,
    pub upstream: Option<String>,
    pub ahead: Option<usize>,
    pub behind: Option<usize>,
}

/// Git's answers for the projects at `paths` (relative to `root`).
pub fn git_truth(root: &Path, paths: &[&str]) -> Result<Vec<GitTruth>> {
    // `[ +-U]<sha> <path>[ (<describe>)]`, one line per gitlink in the index.
    let listing = git_as_user(root).args(["submodule", "status"]).run()?;
    let mut prefixes: HashMap<String, char> = HashMap::new();
    for line in listing.lines() {
        let mut chars = line.chars();
        let Some(prefix) = chars.next() else { continue };
        let rest = chars.as_str();
        let Some((_sha, path_and_describe)) = rest.split_once(' ') else {
            continue;
        };
        let path = path_and_describe
            .split_once(" (")
            .map_or(path_and_describe, |(path, _)| path);
        prefixes.insert(path.to_owned(), prefix);
    }
    paths
        .iter()
        .map(|path| truth_of(root, path, prefixes.get(*path).copied()))
        .collect()
}

fn truth_of(root: &Path, path: &str, prefix: Option<char>) -> Result<GitTruth> {
    let mut truth = GitTruth {
        path: path.to_owned(),
        ..GitTruth::default()
    };
    let staged_entries = git_as_user(root)
        .args(["ls-files", "-s", "--", path])
        .run()?;
    truth.pinned = staged_entries.lines().find_map(|line| {
        // `<mode> <sha> <stage>\t<path>`
        let mut fields = line.split_whitespace();
        match (fields.next(), fields.next(), fields.next()) {
            (Some("160000"), Some(sha), Some("0")) => Some(sha.to_owned()),
            _ => None,
        }
    });
    truth.initialized = matches!(prefix, Some(' ' | '+'));
    if !truth.initialized {
        return Ok(truth);
    }
    truth.on_pin = prefix == Some(' ');

    let dir = root.join(path);
    let ok_stdout = |args: &[&str]| -> Result<Option<String>> {
        let out = git_as_user(&dir).args(args).output()?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()))
    };
    truth.head = ok_stdout(&["rev-parse", "-q", "--verify", "HEAD"])?;
    truth.branch = ok_stdout(&["symbolic-ref", "-q", "--short", "HEAD"])?;
    truth.detached = truth.branch.is_none();

    let porcelain = git_as_user(&dir).args(["status", "--porcelain=v1"]).run()?;
    for line in porcelain.lines() {
        let bytes = line.as_bytes();
        let (Some(&x), Some(&y)) = (bytes.first(), bytes.get(1)) else {
            continue;
        };
        match (x, y) {
            (b'?', b'?') => truth.untracked += 1,
            (b'!', b'!') => {}
            _ => {
                truth.staged += usize::from(x != b' ');
                truth.modified += usize::from(y != b' ');
                let both = [x, y];
                if matches!(&both, b"DD" | b"AU" | b"UD" | b"UA" | b"DU" | b"AA" | b"UU") {
                    truth.conflicted += 1;
                }
            }
        }
    }

    truth.upstream = ok_stdout(&[
        "rev-parse",
        "-q",
        "--abbrev-ref",
        "--symbolic-full-name",
        "@{upstream}",
    ])?;
    if truth.upstream.is_some()
        && let Some(counts) =
            ok_stdout(&["rev-list", "--left-right", "--count", "HEAD...@{upstream}"])?
    {
        let mut parts = counts.split_whitespace().map(str::parse::<usize>);
        if let (Some(Ok(ahead)), Some(Ok(behind))) = (parts.next(), parts.next()) {
            truth.ahead = Some(ahead);
            truth.behind = Some(behind);
        }
    }
    Ok(truth)
}

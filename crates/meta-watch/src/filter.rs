//! What the watcher skips: `.git/` anywhere, the root's `.meta/`, `[watch].ignore`, and
//! whatever each repository's own ignore files exclude (its `.gitignore` files, its
//! `info/exclude`, and the user's `core.excludesFile`), each repository by its own rules only.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::WatchError;

/// The ignore rules of a tree, and where its repositories (and so projects) are.
pub(crate) struct Filter {
    root: PathBuf,
    /// `[watch].ignore`, matched against root-relative paths.
    extra: Gitignore,
    /// The user's `core.excludesFile` (or `~/.config/git/ignore`).
    global: Gitignore,
    /// Root-relative folder → the matcher of the `.gitignore` it holds.
    gitignores: HashMap<String, Gitignore>,
    /// Root-relative repository roots (`""` for the root) → their `info/exclude` matcher.
    repos: HashMap<String, Gitignore>,
    /// Repository roots below the root: where projects start.
    nested: HashSet<String>,
    /// Root-relative repository roots (`""` for the root) → their git dir (`.git`, or where a
    /// `.git` file points, such as `.git/modules/<name>` for an absorbed submodule).
    git_dirs: HashMap<String, PathBuf>,
}

impl Filter {
    pub(crate) fn new(root: &Path, extra_patterns: &[String]) -> Result<Self, WatchError> {
        let mut builder = GitignoreBuilder::new(root);
        for pattern in extra_patterns {
            builder
                .add_line(None, pattern)
                .map_err(|source| WatchError::Pattern {
                    pattern: pattern.clone(),
                    message: source.to_string(),
                })?;
        }
        let extra = builder.build().map_err(|source| WatchError::Pattern {
            pattern: extra_patterns.join(", "),
            message: source.to_string(),
        })?;
        // An unreadable global excludes file is git's problem too; git ignores it, so do we.
        let (global, _) = Gitignore::global();
        Ok(Self {
            root: root.to_path_buf(),
            extra,
            global,
            gitignores: HashMap::new(),
            repos: HashMap::new(),
            nested: HashSet::new(),
            git_dirs: HashMap::new(),
        })
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Learns the rules a folder brings: its `.gitignore`, and if it is a repository root
    /// (holds `.git`), its `info/exclude`.
    pub(crate) fn learn_dir(&mut self, rel: &str) {
        let abs = self.abs(rel);
        self.reload_gitignore(rel);
        let dot_git = abs.join(".git");
        if let Ok(meta) = std::fs::symlink_metadata(&dot_git) {
            let git_dir = if meta.is_dir() {
                Some(dot_git)
            } else {
                crate::git_dir_of(&abs)
            };
            // `info/exclude` patterns are relative to the worktree root, not the git dir. An
            // unreadable file is skipped, as git skips it.
            let mut builder = GitignoreBuilder::new(&abs);
            if let Some(dir) = &git_dir {
                let _ = builder.add(dir.join("info/exclude"));
            }
            match git_dir {
                Some(dir) => self.git_dirs.insert(rel.to_owned(), dir),
                None => self.git_dirs.remove(rel),
            };
            let exclude = builder.build().unwrap_or_else(|_| Gitignore::empty());
            self.repos.insert(rel.to_owned(), exclude);
            if !rel.is_empty() {
                self.nested.insert(rel.to_owned());
            }
        }
    }

    /// Forgets what `rel` and everything below it brought (it was deleted or moved away).
    pub(crate) fn forget_dir(&mut self, rel: &str) {
        let below = |key: &String| key == rel || is_below(key, rel);
        self.gitignores.retain(|key, _| !below(key));
        self.repos.retain(|key, _| !below(key));
        self.nested.retain(|key| !below(key));
        self.git_dirs.retain(|key, _| !below(key));
    }

    /// Forgets that `rel` is a repository (its `.git` went away).
    pub(crate) fn forget_repo(&mut self, rel: &str) {
        self.repos.remove(rel);
        self.nested.remove(rel);
        self.git_dirs.remove(rel);
    }

    /// Every repository found so far with its git dir.
    pub(crate) fn git_dirs(&self) -> impl Iterator<Item = (&String, &PathBuf)> {
        self.git_dirs.iter()
    }

    /// Rereads `<rel>/.gitignore` (after it changed).
    pub(crate) fn reload_gitignore(&mut self, rel: &str) {
        let file = self.abs(rel).join(".gitignore");
        if file.is_file() {
            let (matcher, _) = Gitignore::new(&file);
            self.gitignores.insert(rel.to_owned(), matcher);
        } else {
            self.gitignores.remove(rel);
        }
    }

    /// Is the root-relative `rel` skipped?
    pub(crate) fn is_ignored(&self, rel: &str, is_dir: bool) -> bool {
        if rel.split('/').any(|part| part == ".git") || rel == ".meta" || rel.starts_with(".meta/")
        {
            return true;
        }
        let abs = self.abs(rel);
        if self
            .extra
            .matched_path_or_any_parents(rel, is_dir)
            .is_ignore()
        {
            return true;
        }
        // The repository holding `rel`: its rules alone apply, deepest `.gitignore` first,
        // then its `info/exclude`, then the user's global excludes (git's precedence).
        let repo = self.repo_of(rel);
        let mut dir = parent(rel);
        loop {
            if let Some(matcher) = self.gitignores.get(dir) {
                match matcher.matched(&abs, is_dir) {
                    Match::Ignore(_) => return true,
                    Match::Whitelist(_) => return false,
                    Match::None => {}
                }
            }
            if dir == repo {
                break;
            }
            dir = parent(dir);
        }
        if let Some(exclude) = self.repos.get(repo) {
            match exclude.matched(&abs, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        self.global.matched(&abs, is_dir).is_ignore()
    }

    /// The project holding `rel`: the outermost repository root below the tree's root that
    /// contains it (or is it), if any.
    pub(crate) fn project_of(&self, rel: &str) -> Option<String> {
        if self.nested.is_empty() {
            return None;
        }
        let mut end = 0;
        loop {
            let next = rel[end..].find('/').map(|i| end + i);
            let prefix = &rel[..next.unwrap_or(rel.len())];
            if self.nested.contains(prefix) {
                return Some(prefix.to_owned());
            }
            match next {
                Some(i) => end = i + 1,
                None => return None,
            }
        }
    }

    /// The innermost repository root containing `rel` (`""`: the root's), not `rel` itself.
    fn repo_of<'a>(&self, rel: &'a str) -> &'a str {
        let mut dir = parent(rel);
        loop {
            if self.repos.contains_key(dir) || dir.is_empty() {
                return dir;
            }
            dir = parent(dir);
        }
    }

    pub(crate) fn abs(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }
}

/// `a/b/c` → `a/b`; `a` → `""`.
pub(crate) fn parent(rel: &str) -> &str {
    rel.rfind('/').map_or("", |i| &rel[..i])
}

/// `a/b` joined with `c`, with `""` as the root.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Is `path` strictly below `dir` (`""` holds everything)?
pub(crate) fn is_below(path: &str, dir: &str) -> bool {
    dir.is_empty() && !path.is_empty()
        || path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_helpers() {
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("a"), "");
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a/b");
        assert!(is_below("a/b", "a"));
        assert!(!is_below("ab", "a"));
        assert!(!is_below("a", "a"));
        assert!(is_below("a", ""));
    }

    #[test]
    fn git_meta_and_extra_patterns_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let filter = Filter::new(dir.path(), &["target/".to_owned()]).unwrap();
        assert!(filter.is_ignored(".git", true));
        assert!(filter.is_ignored("src/a/.git/HEAD", false));
        assert!(filter.is_ignored(".meta", true));
        assert!(filter.is_ignored(".meta/events/x", false));
        assert!(!filter.is_ignored("src/.meta", true));
        assert!(filter.is_ignored("target", true));
        assert!(filter.is_ignored("src/a/target", true));
        assert!(filter.is_ignored("src/a/target/debug/x", false));
        assert!(
            !filter.is_ignored("target", false),
            "`target/` only matches folders"
        );
        assert!(!filter.is_ignored("src/main.rs", false));
    }

    #[test]
    fn each_repository_uses_its_own_rules() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join(".gitignore"), "*.log\n").unwrap();
        std::fs::create_dir_all(root.join("src/lib/.git/info")).unwrap();
        std::fs::write(root.join("src/lib/.git/info/exclude"), "secret.txt\n").unwrap();
        std::fs::write(root.join("src/lib/.gitignore"), "*.tmp\n!keep.tmp\n").unwrap();
        std::fs::create_dir_all(root.join("src/lib/sub")).unwrap();
        std::fs::write(root.join("src/lib/sub/.gitignore"), "/local\n").unwrap();
        let mut filter = Filter::new(root, &[]).unwrap();
        for rel in ["", "src", "src/lib", "src/lib/sub"] {
            filter.learn_dir(rel);
        }
        assert!(filter.is_ignored("x.log", false));
        assert!(filter.is_ignored("src/x.log", false));
        // The superproject's `*.log` does not reach into the project's repository.
        assert!(!filter.is_ignored("src/lib/x.log", false));
        assert!(filter.is_ignored("src/lib/a.tmp", false));
        assert!(!filter.is_ignored("src/lib/keep.tmp", false));
        assert!(filter.is_ignored("src/lib/secret.txt", false));
        assert!(filter.is_ignored("src/lib/sub/local", true));
        assert!(!filter.is_ignored("src/lib/local", true));
        assert_eq!(
            filter.project_of("src/lib/sub/x"),
            Some("src/lib".to_owned())
        );
        assert_eq!(filter.project_of("src/lib"), Some("src/lib".to_owned()));
        assert_eq!(filter.project_of("src/other/x"), None);
        assert_eq!(filter.project_of("README.md"), None);
        filter.forget_dir("src/lib");
        assert_eq!(filter.project_of("src/lib/x"), None);
    }
}

//! Whole-repository comparisons for the change commands: "every repository byte-identical to
//! before" as the tests check it.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is the test failing, and says where"
)]

use std::path::{Path, PathBuf};

use meta_test::{MetaRepo, git};

/// What a change command may change in a repository: HEAD, refs, stash, status and the index entries.
pub fn snapshot(dir: &Path) -> String {
    let run = |args: &[&str]| git(dir).args(args).run().unwrap();
    [
        run(&["rev-parse", "--symbolic-full-name", "HEAD", "HEAD"]),
        run(&["for-each-ref", "--format=%(refname) %(objectname)"]),
        run(&["stash", "list"]),
        run(&[
            "status",
            "--porcelain=v2",
            "--branch",
            "--untracked-files=all",
        ]),
        run(&["ls-files", "--stage"]),
    ]
    .join("\n")
}

/// The repositories of a fixture that [`snapshot`] covers: the root and each checkout.
pub fn checkouts(repo: &MetaRepo) -> Vec<PathBuf> {
    std::iter::once(repo.root().to_path_buf())
        .chain(
            repo.projects()
                .iter()
                .map(|p| repo.root().join(&p.path))
                .filter(|dir| dir.join(".git").exists()),
        )
        .collect()
}

pub fn snapshots(repo: &MetaRepo) -> Vec<String> {
    checkouts(repo).iter().map(|dir| snapshot(dir)).collect()
}

/// Installs the executable hook `name` (`#!/bin/sh` then `body`) in the repository whose work
/// tree is `dir` (its own hooks folder, absorbed git dirs included); returns its path.
pub fn install_hook(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let hooks = git(dir)
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .run()
        .unwrap();
    let hooks = PathBuf::from(hooks.trim());
    std::fs::create_dir_all(&hooks).unwrap();
    let path = hooks.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

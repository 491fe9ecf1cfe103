//! `meta diff`: the real binary on fixture meta-repos (real git). Each combined diff is checked
//! against git's own diff of each repository with the paths rewritten by hand, so the prefixes
//! are tested independently of how `meta` asks git for them.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::path::Path;

use meta_test::{MetaRepo, git};

use crate::common::{meta_git, stderr, stdout};

/// A fixture of 5 projects: repo001 (detached at its pin), repo002 (`src/file1.txt` modified),
/// repo003 (an untracked file: not in a diff), repo004 and repo005 not initialised.
fn fixture() -> (tempfile::TempDir, MetaRepo) {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 5).unwrap();
    (dir, repo)
}

fn path(repo: &MetaRepo, name: &str) -> String {
    repo.projects()
        .iter()
        .find(|p| p.name == name)
        .unwrap()
        .path
        .clone()
}

fn run(root: &Path, args: &[&str]) -> std::process::Output {
    meta_git(root).args(args).output().unwrap()
}

fn ok(root: &Path, args: &[&str]) -> String {
    let out = run(root, args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// `git diff ARGS` in `dir`, its paths rewritten under `prefix` (`src/x/`, or empty).
fn git_diff(dir: &Path, prefix: &str, args: &[&str]) -> String {
    let patch = git(dir).arg("diff").args(args).run().unwrap();
    prefixed(&patch, prefix)
}

/// The header lines of a patch with `prefix` put after `a/` and `b/`, as `git apply` at the
/// root would need them.
fn prefixed(patch: &str, prefix: &str) -> String {
    patch
        .split_inclusive('\n')
        .map(|line| {
            if let Some(rest) = line.strip_prefix("diff --git a/") {
                let (a, b) = rest.split_once(" b/").unwrap();
                format!("diff --git a/{prefix}{a} b/{prefix}{b}")
            } else if let Some(rest) = line.strip_prefix("--- a/") {
                format!("--- a/{prefix}{rest}")
            } else if let Some(rest) = line.strip_prefix("+++ b/") {
                format!("+++ b/{prefix}{rest}")
            } else {
                line.to_owned()
            }
        })
        .collect()
}

fn edit(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    let mut old = std::fs::read_to_string(&path).unwrap_or_default();
    old.push_str(text);
    std::fs::write(path, old).unwrap();
}

/// A commit in the project at `path` adding `file`, recorded by the superproject's index.
fn commit_in(repo: &MetaRepo, path: &str, file: &str) {
    let dir = repo.root().join(path);
    std::fs::write(dir.join(file), format!("{file}\nmore\n")).unwrap();
    edit(&dir, "README.md", "changed in a commit\n");
    git(&dir)
        .args(["add", "--", file, "README.md"])
        .run()
        .unwrap();
    git(&dir).args(["commit", "-q", "-m", file]).run().unwrap();
    repo.git().args(["add", "--", path]).run().unwrap();
}

#[test]
fn work_tree_diff_is_each_repository_in_project_order_with_prefixed_paths() {
    let (_dir, repo) = fixture();
    let root = repo.root();
    let (one, two) = (path(&repo, "repo001"), path(&repo, "repo002"));
    edit(root, "README.md", "superproject edit\n");
    edit(&root.join(&one), "README.md", "project edit\n");

    // The superproject's part leaves out `Subproject commit …-dirty`: the projects' own
    // changes follow.
    let expected = [
        git_diff(root, "", &["--ignore-submodules=dirty"]),
        git_diff(&root.join(&one), &format!("{one}/"), &[]),
        git_diff(&root.join(&two), &format!("{two}/"), &[]),
    ]
    .concat();
    assert!(expected.contains(&format!("+++ b/{two}/src/file1.txt\n")));
    assert_eq!(ok(root, &["diff"]), expected);

    // The same patch applies at the root: reversing it undoes every change.
    let patch = ok(root, &["diff"]);
    let check = git(root)
        .args(["apply", "--check", "-R", "-"])
        .stdin(patch)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // --name-only and --stat: the combined view with root-relative paths.
    let names = ok(root, &["diff", "--name-only"]);
    assert_eq!(
        names,
        format!("README.md\n{one}/README.md\n{two}/src/file1.txt\n")
    );
    let stat = ok(root, &["diff", "--stat"]);
    let lines: Vec<&str> = stat.lines().collect();
    assert_eq!(lines.len(), 4, "{stat}");
    assert!(lines[0].starts_with(" README.md "), "{stat}");
    assert!(
        lines[1].starts_with(&format!(" {one}/README.md ")),
        "{stat}"
    );
    assert!(lines[1].ends_with("| 1 +"), "{stat}");
    assert!(
        lines[2].starts_with(&format!(" {two}/src/file1.txt ")),
        "{stat}"
    );
    assert_eq!(lines[3], " 3 files changed, 3 insertions(+)");

    // --exit-code says there are differences.
    assert_eq!(run(root, &["diff", "--exit-code"]).status.code(), Some(1));
}

#[test]
fn cached_diff_shows_the_index_of_each_repository() {
    let (_dir, repo) = fixture();
    let root = repo.root();
    let one = path(&repo, "repo001");
    edit(root, "README.md", "staged at the root\n");
    git(root).args(["add", "README.md"]).run().unwrap();
    edit(&root.join(&one), "README.md", "staged in a project\n");
    git(&root.join(&one))
        .args(["add", "README.md"])
        .run()
        .unwrap();

    let expected = [
        git_diff(root, "", &["--cached"]),
        git_diff(&root.join(&one), &format!("{one}/"), &["--cached"]),
    ]
    .concat();
    assert!(expected.contains("staged in a project"));
    assert_eq!(ok(root, &["diff", "--cached"]), expected);
}

#[test]
fn a_pattern_picks_one_project_and_an_unknown_one_is_a_usage_error() {
    let (_dir, repo) = fixture();
    let root = repo.root();
    let (one, two) = (path(&repo, "repo001"), path(&repo, "repo002"));
    edit(root, "README.md", "superproject edit\n");
    edit(&root.join(&one), "README.md", "project edit\n");

    let expected = git_diff(&root.join(&two), &format!("{two}/"), &[]);
    assert_eq!(ok(root, &["diff", "repo002"]), expected);
    assert_eq!(ok(root, &["diff", "--group", "libraries"]), expected);
    assert_eq!(
        run(root, &["diff", "--group", "nope"]).status.code(),
        Some(2)
    );

    let out = run(root, &["diff", "repo02"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no project matches `repo02`"), "{err}");
    assert!(err.contains("did you mean"), "{err}");
}

#[test]
fn a_range_expands_each_moved_pin_into_the_projects_diff() {
    let (_dir, mut repo) = fixture();
    let root = repo.root().to_path_buf();
    let (one, two) = (path(&repo, "repo001"), path(&repo, "repo002"));
    let start = git(&root).args(["rev-parse", "HEAD"]).run().unwrap();
    let start = start.trim();
    let pin = |p: &str| {
        let out = git(&root)
            .args(["rev-parse", &format!("HEAD:{p}")])
            .run()
            .unwrap();
        out.trim().to_owned()
    };
    let (old_one, old_two) = (pin(&one), pin(&two));
    commit_in(&repo, &one, "one.txt");
    commit_in(&repo, &two, "two.txt");
    edit(&root, "README.md", "superproject edit\n");
    git(&root).args(["add", "README.md"]).run().unwrap();
    git(&root)
        .args(["commit", "-q", "-m", "move two pins"])
        .run()
        .unwrap();
    let added = repo.add_project("extra", "libraries").unwrap().path;
    let (new_one, new_two) = (pin(&one), pin(&two));
    let added_pin = pin(&added);

    let expected = [
        git_diff(&root, "", &["--ignore-submodules=all", start, "HEAD"]),
        git_diff(&root.join(&one), &format!("{one}/"), &[&old_one, &new_one]),
        format!("project {added} added, pinned at {}\n", &added_pin[..7]),
        git_diff(&root.join(&two), &format!("{two}/"), &[&old_two, &new_two]),
    ]
    .concat();
    assert!(expected.contains(".gitmodules"));
    assert!(expected.contains(&format!("+++ b/{one}/one.txt\n")));
    let shown = ok(&root, &["diff", &format!("{start}..HEAD")]);
    assert_eq!(shown, expected);
    assert!(!shown.contains("Subproject commit"));

    // `A..` is `A..HEAD`; a pattern keeps only that project's pin change.
    assert_eq!(ok(&root, &["diff", &format!("{start}..")]), expected);
    assert_eq!(
        ok(&root, &["diff", "repo002", &format!("{start}..HEAD")]),
        git_diff(&root.join(&two), &format!("{two}/"), &[&old_two, &new_two])
    );
    let names = ok(&root, &["diff", "--name-only", &format!("{start}..HEAD")]);
    assert_eq!(
        names,
        format!(
            ".gitmodules\nREADME.md\n{one}/README.md\n{one}/one.txt\n{added}\n{two}/README.md\n{two}/two.txt\n"
        )
    );
}

#[test]
fn a_pin_missing_from_its_clone_is_named_and_the_others_still_shown() {
    let (_dir, repo) = fixture();
    let root = repo.root();
    let (one, two) = (path(&repo, "repo001"), path(&repo, "repo002"));
    let start = git(root).args(["rev-parse", "HEAD"]).run().unwrap();
    let start = start.trim();
    let old_two = git(root)
        .args(["rev-parse", &format!("HEAD:{two}")])
        .run()
        .unwrap();
    commit_in(&repo, &two, "two.txt");
    let new_two = git(root)
        .args(["rev-parse", &format!(":{two}")])
        .run()
        .unwrap();
    // A pin nobody has: the commit was made elsewhere and never fetched here.
    let absent = "1234567890123456789012345678901234567890";
    git(root)
        .args([
            "update-index",
            "--cacheinfo",
            &format!("160000,{absent},{one}"),
        ])
        .run()
        .unwrap();
    git(root)
        .args(["commit", "-q", "-m", "pins"])
        .run()
        .unwrap();

    let out = run(root, &["diff", &format!("{start}..HEAD")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        git_diff(
            &root.join(&two),
            &format!("{two}/"),
            &[old_two.trim(), new_two.trim()]
        )
    );
    let err = stderr(&out);
    assert!(err.contains(&format!("`{one}`")), "{err}");
    assert!(err.contains("1234567"), "{err}");
    assert!(err.contains(&format!("git -C {one} fetch origin")), "{err}");
    assert!(!err.contains(&format!("`{two}`")), "{err}");
}

#[test]
fn a_bad_range_is_a_clear_usage_error() {
    let (_dir, repo) = fixture();
    let root = repo.root();
    let out = run(root, &["diff", "nope..HEAD"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("`nope..HEAD` is not a range of the superproject"),
        "{err}"
    );
    assert!(err.contains("`nope` names no commit"), "{err}");
    assert!(err.contains("hint:"), "{err}");

    // A lone commit is not a range: say how to write one.
    let out = run(root, &["diff", "HEAD~1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("`HEAD~1..`") && err.contains("`HEAD~1^!`"),
        "{err}"
    );

    let out = run(root, &["diff", "--cached", "HEAD~1..HEAD"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(root, &["diff", "-x..HEAD"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn piped_output_has_no_colour_and_a_closed_pipe_ends_quietly() {
    let (_dir, repo) = fixture();
    let root = repo.root();
    let one = path(&repo, "repo001");
    // Far more than a pipe holds, so `head` closes it while meta is still writing.
    let big = "a line of the README\n".repeat(40_000);
    std::fs::write(root.join(&one).join("README.md"), big).unwrap();

    let out = meta_git(root)
        .env("TERM", "xterm-256color")
        .env("GIT_PAGER", "false")
        .env("PAGER", "false")
        .arg("diff")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!out.stdout.contains(&0x1b));
    assert!(stdout(&out).starts_with(&format!("diff --git a/{one}/README.md")));

    // --color=always reaches git.
    let coloured = run(root, &["--color=always", "diff", "repo001"]);
    assert!(coloured.stdout.contains(&0x1b));

    let meta = assert_cmd::cargo::cargo_bin("meta");
    let piped = std::process::Command::new("bash")
        .current_dir(root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .arg("-c")
        .arg(r#"set -o pipefail; "$0" diff | head -1"#)
        .arg(&meta)
        .output()
        .unwrap();
    assert_eq!(piped.status.code(), Some(0), "{}", stderr(&piped));
    assert_eq!(stderr(&piped), "");
    assert_eq!(
        stdout(&piped),
        format!("diff --git a/{one}/README.md b/{one}/README.md\n")
    );
}

#[test]
fn stat_lays_out_files_as_git_does() {
    let (_dir, repo) = fixture();
    let root = repo.root();
    let two = path(&repo, "repo002");
    git(&root.join(&two))
        .args(["checkout", "--", "."])
        .run()
        .unwrap();
    // A large change (the graph is scaled), a small mixed one, a long name (cut on the left).
    let lines = "a new line\n".repeat(300);
    edit(root, "README.md", &lines);
    std::fs::write(root.join("g.txt"), "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n").unwrap();
    git(root).args(["add", "g.txt"]).run().unwrap();
    std::fs::write(root.join("g.txt"), "x\nx\nx\nx\nx\nx\nx\nx\nx\n10\n").unwrap();
    let long = "very/long/directory/name/that/goes/on/and/on/forever/and/ever";
    std::fs::create_dir_all(root.join(long)).unwrap();
    let file = format!("{long}/file-with-a-long-name.txt");
    std::fs::write(root.join(&file), "hi\n").unwrap();
    git(root).args(["add", "-N", "--", &file]).run().unwrap();
    // Binary files: one added (sizes shown), one whose content changed.
    std::fs::write(root.join("logo.bin"), b"\x00\x01\x02binary").unwrap();
    std::fs::write(root.join("blob.bin"), b"\x00old").unwrap();
    git(root).args(["add", "blob.bin"]).run().unwrap();
    std::fs::write(root.join("blob.bin"), b"\x00new and longer").unwrap();
    git(root).args(["add", "-N", "logo.bin"]).run().unwrap();

    // Both laid out for 80 columns, whatever the terminal running the tests says.
    let theirs = std::process::Command::new("git")
        .current_dir(root)
        .env("COLUMNS", "80")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["diff", "--stat", "--ignore-submodules=dirty"])
        .output()
        .unwrap();
    let theirs = stdout(&theirs);
    let ours = meta_git(root)
        .env("COLUMNS", "80")
        .args(["diff", "--stat"])
        .output()
        .unwrap();
    assert_eq!(stdout(&ours), theirs);
    assert!(theirs.contains(".../"), "{theirs}");
    assert!(theirs.contains("Bin 0 -> 9 bytes"), "{theirs}");
    assert!(theirs.contains("Bin 4 -> 15 bytes"), "{theirs}");
}

#[test]
fn renames_and_copies_name_root_relative_paths() {
    let (_dir, repo) = fixture();
    let root = repo.root();
    let one = path(&repo, "repo001");
    let dir = root.join(&one);
    git(&dir)
        .args(["mv", "README.md", "moved.md"])
        .run()
        .unwrap();

    let shown = ok(root, &["diff", "--cached", "repo001"]);
    assert!(
        shown.contains(&format!("rename from {one}/README.md\n")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("rename to {one}/moved.md\n")),
        "{shown}"
    );
    let check = git(root)
        .args(["apply", "--check", "-R", "-"])
        .stdin(shown)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // An unusual name is quoted as git quotes it, the prefix inside the quotes.
    std::fs::write(dir.join("tab\tname"), "x\n").unwrap();
    git(&dir).args(["add", "--", "tab\tname"]).run().unwrap();
    let names = ok(root, &["diff", "--cached", "--name-only", "repo001"]);
    assert_eq!(names, format!("{one}/moved.md\n\"{one}/tab\\tname\"\n"));

    let stat = ok(root, &["diff", "--cached", "--stat", "repo001"]);
    assert!(
        stat.contains(&format!(" {one}/{{README.md => moved.md}} | 0\n")),
        "{stat}"
    );
}

#[test]
fn on_a_terminal_the_output_goes_through_the_pager() {
    let (_dir, repo) = fixture();
    let root = repo.root();
    let meta = assert_cmd::cargo::cargo_bin("meta");
    // `script` gives meta a terminal; the pager marks each line it passes on. `None`: no
    // GIT_PAGER, so core.pager or PAGER decide.
    let run_on_terminal = |pager: Option<&str>, extra: &str| {
        let mut cmd = std::process::Command::new("script");
        cmd.current_dir(root)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("TERM", "dumb")
            .env_remove("LESS")
            .env("PAGER", "sed 's/^/from PAGER: /'");
        match pager {
            Some(pager) => cmd.env("GIT_PAGER", pager),
            None => cmd.env_remove("GIT_PAGER"),
        };
        let out = cmd
            .args(["-qec"])
            .arg(format!("'{}' diff --name-only {extra}", meta.display()))
            .arg("/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).replace('\r', "")
    };
    let two = path(&repo, "repo002");
    let file = format!("{two}/src/file1.txt\n");
    let paged = run_on_terminal(Some("sed 's/^/paged: /'"), "");
    assert_eq!(paged, format!("paged: {file}"));
    assert_eq!(
        run_on_terminal(Some("sed 's/^/paged: /'"), "--no-pager"),
        file
    );
    assert_eq!(run_on_terminal(Some("cat"), ""), file);
    // LESS=FRX unless set, as git gives its pager.
    assert_eq!(
        run_on_terminal(Some("echo \"LESS=$LESS\"; cat"), ""),
        format!("LESS=FRX\n{file}")
    );
    // Without GIT_PAGER: PAGER, unless core.pager says otherwise.
    assert_eq!(run_on_terminal(None, ""), format!("from PAGER: {file}"));
    git(root)
        .args(["config", "core.pager", "sed 's/^/core.pager: /'"])
        .run()
        .unwrap();
    assert_eq!(run_on_terminal(None, ""), format!("core.pager: {file}"));
}

#[test]
fn one_commits_change_and_a_clean_tree() {
    let (_dir, repo) = fixture();
    let root = repo.root();
    let two = path(&repo, "repo002");
    git(&root.join(&two))
        .args(["checkout", "--", "."])
        .run()
        .unwrap();
    // Nothing changed: no output, and --exit-code says so with 0.
    assert_eq!(ok(root, &["diff", "--exit-code"]), "");

    let old = git(root)
        .args(["rev-parse", &format!("HEAD:{two}")])
        .run()
        .unwrap();
    commit_in(&repo, &two, "two.txt");
    git(root)
        .args(["commit", "-q", "-m", "move"])
        .run()
        .unwrap();
    let new = git(root)
        .args(["rev-parse", &format!("HEAD:{two}")])
        .run()
        .unwrap();
    let expected = git_diff(
        &root.join(&two),
        &format!("{two}/"),
        &[old.trim(), new.trim()],
    );
    assert_eq!(ok(root, &["diff", "HEAD^!"]), expected);
    assert_eq!(ok(root, &["diff", "HEAD~1...HEAD"]), expected);
    assert_eq!(
        run(root, &["diff", "--exit-code", "HEAD^!"]).status.code(),
        Some(1)
    );
}

#[test]
fn a_project_not_initialised_is_noted_when_picked_by_name() {
    let (_dir, repo) = fixture();
    let root = repo.root();
    let out = run(root, &["diff", "repo004"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let four = path(&repo, "repo004");
    let err = stderr(&out);
    assert!(
        err.contains("not initialised") && err.contains(&four),
        "{err}"
    );
    // Without a selection, projects not cloned here are no news.
    assert!(!stderr(&run(root, &["diff"])).contains("not initialised"));
}

#[test]
fn a_conflicted_projects_combined_diff_names_root_relative_paths() {
    let (_dir, mut repo) = fixture();
    let conflicted = repo.add_conflicted().unwrap().path;
    let root = repo.root();
    let shown = ok(root, &["diff", "conflicted"]);
    assert!(
        shown.starts_with(&format!("diff --cc {conflicted}/README.md\n")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("+++ b/{conflicted}/README.md\n")),
        "{shown}"
    );
    let staged = ok(root, &["diff", "--cached", "conflicted"]);
    assert_eq!(staged, format!("* Unmerged path {conflicted}/README.md\n"));
}

#[test]
fn a_range_removing_a_project_says_so_in_every_view() {
    let (_dir, repo) = fixture();
    let root = repo.root();
    let three = path(&repo, "repo003");
    let pin = git(root)
        .args(["rev-parse", &format!("HEAD:{three}")])
        .run()
        .unwrap();
    let short = &pin.trim()[..7];
    git(root)
        .args(["rm", "-q", "-f", "--", &three])
        .run()
        .unwrap();
    git(root)
        .args(["commit", "-q", "-m", "drop repo003"])
        .run()
        .unwrap();

    let line = format!("project {three} removed, was pinned at {short}");
    let shown = ok(root, &["diff", "HEAD^!"]);
    let expected = [
        git_diff(root, "", &["--ignore-submodules=all", "HEAD^", "HEAD"]),
        format!("{line}\n"),
    ]
    .concat();
    assert!(expected.contains("-[submodule"), "{expected}");
    assert_eq!(shown, expected);

    let names = ok(root, &["diff", "--name-only", "HEAD^!"]);
    assert_eq!(names, format!(".gitmodules\n{three}\n"));
    let stat = ok(root, &["diff", "--stat", "HEAD^!"]);
    assert!(stat.starts_with(" .gitmodules | 3 ---\n"), "{stat}");
    assert!(stat.ends_with(&format!(" {line}\n")), "{stat}");
}

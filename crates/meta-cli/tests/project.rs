//! `meta project list|add|remove`: round trips that leave `.gitmodules`, `.git/config`, the
//! index and `.git/modules` as they were; refusals that change nothing; `--force`.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use meta_test::{MetaRepo, State, TreeSnapshot, create_remote, git_truth, standard_history};
use serde_json::Value;

use crate::common::{logged_events, meta_git, stderr, stdout};

/// What adding and removing a project touches in the superproject.
#[derive(Debug, PartialEq, Eq)]
struct SuperState {
    gitmodules: Option<String>,
    config: String,
    index: String,
    porcelain: String,
    modules: BTreeSet<PathBuf>,
    src: BTreeSet<PathBuf>,
}

fn tree(dir: &Path, depth: usize) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![(dir.to_path_buf(), 0)];
    while let Some((d, level)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            out.insert(path.strip_prefix(dir).unwrap().to_path_buf());
            if path.is_dir() && level + 1 < depth {
                stack.push((path, level + 1));
            }
        }
    }
    out
}

fn super_state(repo: &MetaRepo) -> SuperState {
    let root = repo.root();
    SuperState {
        gitmodules: std::fs::read_to_string(root.join(".gitmodules")).ok(),
        config: std::fs::read_to_string(root.join(".git/config")).unwrap(),
        index: repo.git().args(["ls-files", "-s"]).run().unwrap(),
        porcelain: repo
            .git()
            .args(["status", "--porcelain", "--ignore-submodules=none"])
            .run()
            .unwrap(),
        modules: tree(&root.join(".git/modules"), 3),
        src: tree(&root.join("src"), 2),
    }
}

fn new_remote(repo: &MetaRepo, name: &str) -> String {
    let path = create_remote(repo.remotes(), name, &standard_history(name)).unwrap();
    format!("file://{}", path.display())
}

fn project_list(root: &Path) -> Vec<Value> {
    let out = meta_git(root)
        .args(["project", "list", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str::<Value>(&stdout(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn add_then_remove_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 3).unwrap();
    let root = repo.root();
    let url = new_remote(&repo, "api");
    let remote_main = meta_test::git(&repo.remotes().join("api.git"))
        .args(["rev-parse", "main"])
        .run()
        .unwrap();
    let before = super_state(&repo);

    let out = meta_git(root)
        .args(["project", "add", &url, "--group", "libraries"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("added src/libraries/api"),
        "{}",
        stdout(&out)
    );
    let path = "src/libraries/api";
    let gitmodules_url = repo
        .git()
        .args([
            "config",
            "-f",
            ".gitmodules",
            &format!("submodule.{path}.url"),
        ])
        .run()
        .unwrap();
    assert_eq!(gitmodules_url.trim(), url);
    let truth = &git_truth(root, &[path]).unwrap()[0];
    assert!(truth.initialized && truth.on_pin, "{truth:?}");
    assert_eq!(truth.pinned.as_deref(), Some(remote_main.trim()));
    assert_eq!(truth.branch.as_deref(), Some("main"));
    let listed = project_list(root);
    let entry = listed.iter().find(|p| p["path"] == path).unwrap();
    assert_eq!(entry["name"], "api");
    assert_eq!(entry["group"], "libraries");
    assert_eq!(entry["url"], url.as_str());
    assert_eq!(entry["initialized"], true);
    // Staged, not committed (as `git submodule add` leaves it).
    let staged = repo
        .git()
        .args(["diff", "--cached", "--name-only"])
        .run()
        .unwrap();
    assert_eq!(staged, ".gitmodules\nsrc/libraries/api\n");

    let out = meta_git(root)
        .args(["project", "remove", path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("removed src/libraries/api"));
    // Never committed: removing it undid the add, and there is nothing to commit.
    assert!(
        stderr(&out).contains("nothing is left to commit for it"),
        "{}",
        stderr(&out)
    );
    assert_eq!(super_state(&repo), before);

    // Both were announced on the event log, as any subscriber reads it.
    let events = logged_events(root, "core:project");
    let data = serde_json::json!({
        "path": path, "name": "api", "group": "libraries", "url": url
    });
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["type"], "core:project:added");
    assert_eq!(events[0]["data"], data);
    assert_eq!(events[0]["source"], "/meta/cli");
    assert_eq!(events[1]["type"], "core:project:removed");
    assert_eq!(events[1]["data"], data);

    // --name and --branch, and a path given from inside the group folder.
    let out = meta_git(root)
        .args([
            "project", "add", &url, "--group", "docs", "--name", "manual", "--branch", "main",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let branch = repo
        .git()
        .args([
            "config",
            "-f",
            ".gitmodules",
            "submodule.src/docs/manual.branch",
        ])
        .run()
        .unwrap();
    assert_eq!(branch.trim(), "main");
    let out = meta_git(&root.join("src/docs"))
        .args(["project", "remove", "manual/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(super_state(&repo), before);

    // A project whose checkout holds its own `.git` folder (added from an existing clone).
    repo.git()
        .args(["clone", "-q", &url, "src/docs/raw"])
        .run()
        .unwrap();
    repo.git()
        .args(["submodule", "add", "-q", "--", &url, "src/docs/raw"])
        .run()
        .unwrap();
    assert!(root.join("src/docs/raw/.git").is_dir());
    let out = meta_git(root)
        .args(["project", "remove", "src/docs/raw"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(super_state(&repo), before);
}

#[test]
fn bad_input_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 3).unwrap();
    let root = repo.root();
    let url = new_remote(&repo, "api");
    std::fs::create_dir_all(root.join("src/docs/taken")).unwrap();
    std::fs::write(root.join("src/docs/taken/notes.txt"), "mine\n").unwrap();
    let before = super_state(&repo);

    let cases: &[(&[&str], i32, &str)] = &[
        (&["--group", "nope"], 2, "there is no group `nope`"),
        (&[], 2, "say which one the project goes in"),
        (
            &["--group", "docs", "--name", "taken"],
            1,
            "`src/docs/taken` already exists",
        ),
        (
            &["--group", "data_model", "--name", "repo001"],
            1,
            "already exists",
        ),
        (
            &["--group", "docs", "--name", "../escape"],
            2,
            "cannot be a project name",
        ),
        (
            &["--group", "docs", "--name=-x"],
            2,
            "cannot be a project name",
        ),
        (&["--group", "docs", "--branch=-b"], 2, "starts with `-`"),
        (
            &["--group", "docs", "--branch", "no-such-branch"],
            1,
            "not a commit",
        ),
    ];
    for (args, code, message) in cases {
        let out = meta_git(root)
            .args(["project", "add", &url])
            .args(*args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
        assert_eq!(super_state(&repo), before, "{args:?}");
    }
    assert_eq!(
        std::fs::read_to_string(root.join("src/docs/taken/notes.txt")).unwrap(),
        "mine\n"
    );

    // URLs that could act as options never reach git.
    let out = meta_git(root)
        .args([
            "project",
            "add",
            "--group",
            "docs",
            "--",
            "--upload-pack=touch /tmp/x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("starts with `-`"), "{}", stderr(&out));
    // A URL git cannot clone: nothing left behind.
    let out = meta_git(root)
        .args([
            "project",
            "add",
            "file:///no/such/remote.git",
            "--group",
            "docs",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("hint: check the URL"),
        "{}",
        stderr(&out)
    );
    assert_eq!(super_state(&repo), before);

    // Remove: only projects.
    for path in ["src/docs", "README.md", "src/docs/taken", "nowhere"] {
        let out = meta_git(root)
            .args(["project", "remove", path])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{path}");
        assert!(
            stderr(&out).contains("is not a project of this meta-repo"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(super_state(&repo), before);

    let outside = tempfile::tempdir().unwrap();
    for args in [
        &["project", "list"][..],
        &["project", "add", &url, "--group", "docs"],
        &["project", "remove", "src/docs/x"],
    ] {
        let out = meta_git(outside.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("not inside a meta-repo"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn remove_refuses_work_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 9).unwrap();
    let root = repo.root();
    let path_in = |state| repo.project_in(state).unwrap().path.clone();
    let clean = path_in(State::CleanOnBranch);
    // Work on a branch that is not checked out, pushed nowhere.
    repo.git_in(&clean).args(["branch", "side"]).run().unwrap();
    repo.git_in(&clean)
        .args(["commit", "-q", "--allow-empty", "-m", "side work"])
        .run()
        .unwrap();
    repo.git_in(&clean)
        .args(["branch", "-f", "side", "HEAD"])
        .run()
        .unwrap();
    repo.git_in(&clean)
        .args(["reset", "-q", "--hard", "HEAD~1"])
        .run()
        .unwrap();

    let cases = [
        (path_in(State::Modified), "1 modified"),
        (path_in(State::Untracked), "1 untracked"),
        (path_in(State::Staged), "1 staged"),
        (path_in(State::Ahead), "1 commit no remote has"),
        (clean.clone(), "1 commit no remote has"),
    ];
    let before = super_state(&repo);
    for (path, what) in &cases {
        let project_before = TreeSnapshot::take(&root.join(path)).unwrap();
        let out = meta_git(root)
            .args(["project", "remove", path])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{path}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("refusing to remove `{path}`")),
            "{err}"
        );
        assert!(err.contains(what), "{path}: {err}");
        assert!(err.contains("--force"), "{err}");
        let project_after = TreeSnapshot::take(&root.join(path)).unwrap();
        assert_eq!(
            project_after.changes_since(&project_before),
            Vec::<String>::new()
        );
        assert_eq!(super_state(&repo), before, "{path}");
    }

    // --force removes it all the same, and cleanly.
    let modified = path_in(State::Modified);
    let out = meta_git(root)
        .args(["project", "remove", "--force", &modified])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("staged the removal in `.gitmodules` and the index; commit it"),
        "{}",
        stderr(&out)
    );
    assert!(!root.join(&modified).exists());
    assert!(!root.join(".git/modules").join(&modified).exists());
    let gitmodules = std::fs::read_to_string(root.join(".gitmodules")).unwrap();
    assert!(!gitmodules.contains(&modified), "{gitmodules}");
    let config = std::fs::read_to_string(root.join(".git/config")).unwrap();
    assert!(!config.contains(&modified), "{config}");
    let listed = repo.git().args(["submodule", "status"]).run().unwrap();
    assert!(!listed.contains(&modified), "{listed}");
    assert!(
        project_list(root)
            .iter()
            .all(|p| p["path"] != modified.as_str())
    );

    // A checkout deleted by hand: its commits live on in the repository git keeps (whose
    // `core.worktree` now points nowhere), so they still count.
    let ahead = path_in(State::Ahead);
    std::fs::remove_dir_all(root.join(&ahead)).unwrap();
    let out = meta_git(root)
        .args(["project", "remove", &ahead])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 commit no remote has"),
        "{}",
        stderr(&out)
    );
    assert!(root.join(".git/modules").join(&ahead).is_dir());
    let out = meta_git(root)
        .args(["project", "remove", "--force", &ahead])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!root.join(".git/modules").join(&ahead).exists());

    // A project that is not checked out, whose repository git still keeps: removed, kept
    // repository and all.
    let uninitialized = repo
        .projects()
        .iter()
        .find(|p| p.state == State::Uninitialized)
        .unwrap()
        .path
        .clone();
    assert!(root.join(".git/modules").join(&uninitialized).is_dir());
    let out = meta_git(root)
        .args(["project", "remove", &uninitialized])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!root.join(".git/modules").join(&uninitialized).exists());
    let gitmodules = std::fs::read_to_string(root.join(".gitmodules")).unwrap();
    assert!(!gitmodules.contains(&uninitialized), "{gitmodules}");
}

/// A one-file cookiecutter template, made by the test.
fn make_template(dir: &Path) -> PathBuf {
    let template = dir.join("service-template");
    std::fs::create_dir_all(template.join("{{cookiecutter.slug}}")).unwrap();
    std::fs::write(
        template.join("cookiecutter.json"),
        r#"{"slug": "svc", "greeting": "hello"}"#,
    )
    .unwrap();
    std::fs::write(
        template.join("{{cookiecutter.slug}}/README.md"),
        "{{cookiecutter.greeting}} from {{cookiecutter.slug}}\n",
    )
    .unwrap();
    template
}

#[test]
fn new_with_group_renders_a_project_and_registers_it() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 3).unwrap();
    let root = repo.root();
    let template = make_template(dir.path());
    let template = template.to_str().unwrap();
    let before = super_state(&repo);

    // Bad input first: nothing may be left behind.
    let cases: &[(&[&str], i32, &str)] = &[
        (&["--group", "nope"], 2, "there is no group `nope`"),
        (&["--group", "docs", "--remote=-x"], 2, "starts with `-`"),
        (&["--remote", "file:///x.git"], 2, "--group"),
        (
            &["--group", "docs", "-o", "elsewhere"],
            2,
            "cannot be used with",
        ),
    ];
    for (args, code, message) in cases {
        let out = meta_git(root)
            .args(["new", template, "--no-input"])
            .args(*args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert_eq!(super_state(&repo), before, "{args:?}");
    }

    let out = meta_git(root)
        .args([
            "new",
            template,
            "--no-input",
            "--group",
            "docs",
            "greeting=hi",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let path = "src/docs/svc";
    assert_eq!(
        std::fs::read_to_string(root.join(path).join("README.md")).unwrap(),
        "hi from svc\n"
    );
    // Its own repository, absorbed like every project's, with one commit holding the files.
    assert!(root.join(path).join(".git").is_file());
    assert!(root.join(".git/modules").join(path).is_dir());
    let log = repo
        .git_in(path)
        .args(["log", "--format=%s"])
        .run()
        .unwrap();
    assert_eq!(log, "New project from `meta new`\n");
    let files = repo.git_in(path).args(["ls-files"]).run().unwrap();
    assert_eq!(files, "README.md\n");
    let truth = &git_truth(root, &[path]).unwrap()[0];
    assert!(truth.initialized && truth.on_pin, "{truth:?}");
    assert_eq!(truth.modified + truth.untracked + truth.staged, 0);
    assert!(
        stderr(&out).contains("has no remote yet"),
        "{}",
        stderr(&out)
    );
    let listed = project_list(root);
    let entry = listed.iter().find(|p| p["path"] == path).unwrap();
    assert_eq!(entry["group"], "docs");

    // The same name again: refused, nothing changed.
    let middle = super_state(&repo);
    let out = meta_git(root)
        .args(["new", template, "--no-input", "--group", "docs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(super_state(&repo), middle);
    // The hints name what works with `--group` (which refuses `-f`, `-s` and `-o`).
    let err = stderr(&out);
    assert!(
        err.contains("`src/docs/svc` is already a project of this meta-repo"),
        "{err}"
    );
    assert!(err.contains("pass `slug=OTHER`"), "{err}");
    assert!(err.contains("meta project remove src/docs/svc"), "{err}");
    assert!(!err.contains("`-f`") && !err.contains("`-o`"), "{err}");
    // A folder that is not a project: the same, and it is left as it was.
    std::fs::create_dir_all(root.join("src/docs/mine")).unwrap();
    std::fs::write(root.join("src/docs/mine/notes.txt"), "keep\n").unwrap();
    let out = meta_git(root)
        .args([
            "new",
            template,
            "--no-input",
            "--group",
            "docs",
            "slug=mine",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("`src/docs/mine` already exists"), "{err}");
    assert!(err.contains("pass `slug=OTHER`"), "{err}");
    assert!(!err.contains("`-f`") && !err.contains("`-o`"), "{err}");
    assert_eq!(
        std::fs::read_to_string(root.join("src/docs/mine/notes.txt")).unwrap(),
        "keep\n"
    );
    std::fs::remove_dir_all(root.join("src/docs/mine")).unwrap();
    assert_eq!(super_state(&repo), middle);

    // With a remote: it is the project's origin and its URL in `.gitmodules`.
    let url = format!("file://{}", repo.remotes().join("svc2.git").display());
    let out = meta_git(root)
        .args([
            "new",
            template,
            "--no-input",
            "--group",
            "docs",
            "slug=svc2",
            "--remote",
            &url,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let origin = repo
        .git_in("src/docs/svc2")
        .args(["remote", "get-url", "origin"])
        .run()
        .unwrap();
    assert_eq!(origin.trim(), url);
    let recorded = repo
        .git()
        .args(["config", "-f", ".gitmodules", "submodule.src/docs/svc2.url"])
        .run()
        .unwrap();
    assert_eq!(recorded.trim(), url);

    // Announced like `project add`.
    let events = logged_events(root, "core:project:added");
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1]["data"]["path"], "src/docs/svc2");
    assert_eq!(events[1]["data"]["url"], url.as_str());

    // Its first commit is on no remote: removing it needs --force, and then leaves no trace.
    let out = meta_git(root)
        .args(["project", "remove", path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("1 commit no remote has"),
        "{}",
        stderr(&out)
    );
    for p in [path, "src/docs/svc2"] {
        let out = meta_git(root)
            .args(["project", "remove", "--force", p])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    assert_eq!(super_state(&repo), before);

    let outside = tempfile::tempdir().unwrap();
    let out = meta_git(outside.path())
        .args(["new", template, "--no-input", "--group", "docs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not inside a meta-repo"),
        "{}",
        stderr(&out)
    );
    assert!(!outside.path().join("svc").exists());
}

/// A template with its own Python `_extensions` is rendered by the cookiecutter on PATH, and
/// `--group` still makes the result a project of the meta-repo.
#[test]
fn new_with_group_registers_a_project_cookiecutter_rendered() {
    let venv = crate::templates::venv();
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 3).unwrap();
    let root = repo.root();
    let template = make_template(dir.path());
    std::fs::write(
        template.join("cookiecutter.json"),
        r#"{"slug": "loud", "greeting": "hello", "_extensions": ["local_extensions.Shout"]}"#,
    )
    .unwrap();
    std::fs::write(
        template.join("local_extensions.py"),
        "from jinja2.ext import Extension\n\n\nclass Shout(Extension):\n    def __init__(self, environment):\n        super().__init__(environment)\n        environment.filters['shout'] = lambda s: s.upper()\n",
    )
    .unwrap();
    std::fs::write(
        template.join("{{cookiecutter.slug}}/README.md"),
        "{{ cookiecutter.greeting | shout }} from {{ cookiecutter.slug }}\n",
    )
    .unwrap();
    let mut path = vec![venv.join("bin")];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let out = meta_git(root)
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("HOME", dir.path())
        .args([
            "new",
            template.to_str().unwrap(),
            "--no-input",
            "--group",
            "docs",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("handing the render to"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(root.join("src/docs/loud/README.md")).unwrap(),
        "HELLO from loud\n"
    );
    assert!(root.join("src/docs/loud/.git").is_file());
    let listed = project_list(root);
    assert!(
        listed.iter().any(|p| p["path"] == "src/docs/loud"),
        "{listed:?}"
    );
}

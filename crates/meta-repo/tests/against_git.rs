//! `meta-repo` answers what git answers: every project of a fixture holding every state and
//! edge case, field by field against `git submodule status`, `git status --porcelain`,
//! `git rev-parse` and `git rev-list --left-right --count`.

// Test helpers outside `#[test]` fns: a failed unwrap here is a failed test, as inside them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

use meta_repo::{ProjectStatus, list_projects, status_all};
use meta_test::{MetaRepo, State, git, git_truth};

/// More kinds of change than the fixture's one-per-project, each a porcelain case of its own.
fn add_more_changes(repo: &MetaRepo) {
    let root = repo.root();
    // Nested submodule with a change inside: ` M lib/inner` in its parent.
    let nested = &repo.project_in(State::Nested).unwrap().path;
    std::fs::write(root.join(nested).join("lib/inner/README.md"), "changed\n").unwrap();

    // A staged rename (one `R` line, not `D` + `A`), a staged-and-modified file (`MM`), a
    // worktree deletion (` D`), an ignored file, and an untracked folder (one `??` entry).
    let busy = &repo.project_in(State::CleanOnBranch).unwrap().path;
    let dir = root.join(busy);
    git(&dir)
        .args(["mv", "src/file3.txt", "src/renamed3.txt"])
        .run()
        .unwrap();
    std::fs::write(dir.join("src/file4.txt"), "staged\n").unwrap();
    git(&dir).args(["add", "src/file4.txt"]).run().unwrap();
    std::fs::write(dir.join("src/file4.txt"), "then modified\n").unwrap();
    std::fs::remove_file(dir.join("src/file5.txt")).unwrap();
    std::fs::write(dir.join(".gitignore"), "*.log\n").unwrap();
    std::fs::write(dir.join("build.log"), "ignored\n").unwrap();
    std::fs::create_dir_all(dir.join("new-folder/deeper")).unwrap();
    std::fs::write(dir.join("new-folder/a.txt"), "a\n").unwrap();
    std::fs::write(dir.join("new-folder/deeper/b.txt"), "b\n").unwrap();
    // A folder holding only ignored files is not listed by git.
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    std::fs::write(dir.join("logs/x.log"), "x\n").unwrap();

    // Intent to add: ` A`.
    let untracked = &repo.project_in(State::Untracked).unwrap().path;
    git(&root.join(untracked))
        .args(["add", "-N", "untracked.txt"])
        .run()
        .unwrap();
}

fn hex(id: Option<meta_repo::ObjectId>) -> Option<String> {
    id.map(|id| id.to_string())
}

/// A status in the shape `git_truth` answers in, field for field.
fn as_truth(project: &meta_repo::Project, status: &ProjectStatus) -> meta_test::GitTruth {
    meta_test::GitTruth {
        path: project.path.clone(),
        initialized: status.initialized,
        pinned: hex(project.pinned),
        head: hex(status.head),
        on_pin: status.on_pin,
        branch: status.branch.clone(),
        detached: status.detached,
        staged: status.staged,
        modified: status.modified,
        untracked: status.untracked,
        conflicted: status.conflicted,
        upstream: status.upstream.clone(),
        ahead: status.ahead,
        behind: status.behind,
    }
}

fn listed_by_git(root: &Path) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let modules = git(root)
        .args([
            "config",
            "-f",
            ".gitmodules",
            "--get-regexp",
            r"^submodule\..*\.path$",
        ])
        .run()
        .unwrap();
    for line in modules.lines() {
        paths.insert(line.split_once(' ').unwrap().1.to_owned());
    }
    let index = git(root).args(["ls-files", "-s"]).run().unwrap();
    for line in index.lines().filter(|l| l.starts_with("160000 ")) {
        paths.insert(line.split_once('\t').unwrap().1.to_owned());
    }
    paths
}

#[test]
fn every_field_matches_git() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::with_edge_cases(dir.path()).unwrap();
    add_more_changes(&repo);
    let root = repo.root();

    let listed = list_projects(root).unwrap();
    assert!(listed.is_git);
    assert!(listed.invalid.is_empty(), "{:?}", listed.invalid);
    let paths: BTreeSet<String> = listed.projects.iter().map(|p| p.path.clone()).collect();
    assert_eq!(paths, listed_by_git(root));

    let statuses: Vec<ProjectStatus> = status_all(root, &listed.projects, None)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let path_refs: Vec<&str> = listed.projects.iter().map(|p| p.path.as_str()).collect();
    let truths = git_truth(root, &path_refs).unwrap();

    for ((project, status), truth) in listed.projects.iter().zip(&statuses).zip(&truths) {
        let ours = as_truth(project, status);
        // Git has no branch answer for a project it cannot enter; the contract says
        // `detached` is false then, as is ours.
        assert_eq!(&ours, truth, "{}", project.path);
    }

    // The fixture's states really are in there (so the comparison above covered them).
    let by_state = |state| {
        let path = &repo.project_in(state).unwrap().path;
        let i = listed
            .projects
            .iter()
            .position(|p| &p.path == path)
            .unwrap();
        (&listed.projects[i], &statuses[i])
    };
    let (_, busy) = by_state(State::CleanOnBranch);
    // `R `, `MM`, ` D`: 2 staged, 2 modified; `.gitignore` and `new-folder/`: 2 untracked.
    assert_eq!(
        (busy.staged, busy.modified, busy.untracked),
        (2, 2, 2),
        "{busy:?}"
    );
    let (_, conflict) = by_state(State::Conflict);
    assert_eq!(
        (conflict.conflicted, conflict.staged, conflict.modified),
        (1, 1, 1)
    );
    let (_, nested) = by_state(State::Nested);
    assert_eq!(nested.modified, 1);
    let (_, ahead) = by_state(State::Ahead);
    assert_eq!((ahead.ahead, ahead.behind), (Some(1), Some(0)));
    let (_, off) = by_state(State::OffPin);
    assert!(off.detached && !off.on_pin && off.upstream.is_none());
    let (ghost, ghost_status) = by_state(State::GitmodulesOnly);
    assert!(ghost.pinned.is_none() && !ghost_status.initialized);
    let (moved, _) = by_state(State::Renamed);
    assert_eq!(moved.submodule_name.as_deref(), Some("src/docs/moved-from"));
    assert_eq!(moved.group.as_deref(), Some("projects"));
    let (differs, _) = by_state(State::UrlDiffers);
    assert_ne!(differs.config_url, differs.gitmodules_url);
    let (_, no_upstream) = by_state(State::NoUpstream);
    assert_eq!(no_upstream.branch.as_deref(), Some("topic"));
    assert_eq!(
        (no_upstream.upstream.as_deref(), no_upstream.ahead),
        (None, None)
    );
}

/// The large-fixture layout (git dirs absorbed under `.git/modules/`, objects borrowed through
/// alternates, pins from one `update-index`) reads as git reads it, field by field.
#[test]
fn shared_fixture_matches_git() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build_shared(dir.path(), 16).unwrap();
    let root = repo.root();
    let listed = list_projects(root).unwrap();
    assert_eq!(listed.projects.len(), 16);
    let statuses = status_all(root, &listed.projects, None);
    let path_refs: Vec<&str> = listed.projects.iter().map(|p| p.path.as_str()).collect();
    let truths = git_truth(root, &path_refs).unwrap();
    for ((project, status), truth) in listed.projects.iter().zip(statuses).zip(&truths) {
        let status = status.unwrap();
        let ours = as_truth(project, &status);
        assert_eq!(&ours, truth, "{}", project.path);
    }
}

/// Status opens a project with room for 32 pack indices; a project holding more (git only
/// repacks them together at 50) is read again with room for all, and still matches git.
#[test]
fn a_project_with_more_packs_than_first_assumed_matches_git() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build_shared(dir.path(), 4).unwrap();
    let root = repo.root();
    let project = root.join(&repo.projects()[0].path);
    git(&project)
        .args(["checkout", "-q", "-b", "many-packs"])
        .run()
        .unwrap();
    for n in 0..40 {
        std::fs::write(project.join("notes.txt"), format!("version {n}\n")).unwrap();
        git(&project).args(["add", "notes.txt"]).run().unwrap();
        git(&project)
            .args(["commit", "-qm", &format!("version {n}")])
            .run()
            .unwrap();
        // Each commit's objects in a pack of their own.
        git(&project).args(["repack", "-dq"]).run().unwrap();
    }
    git(&project)
        .args(["branch", "-q", "--set-upstream-to=origin/main"])
        .run()
        .unwrap();
    let git_dir = git(&project)
        .args(["rev-parse", "--absolute-git-dir"])
        .run()
        .unwrap();
    let packs = std::fs::read_dir(Path::new(git_dir.trim()).join("objects/pack"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "idx")
        })
        .count();
    assert!(packs > 32, "only {packs} packs");

    let listed = list_projects(root).unwrap();
    let statuses = status_all(root, &listed.projects, None);
    let path_refs: Vec<&str> = listed.projects.iter().map(|p| p.path.as_str()).collect();
    let truths = git_truth(root, &path_refs).unwrap();
    for ((project, status), truth) in listed.projects.iter().zip(statuses).zip(&truths) {
        let status = status.unwrap();
        assert_eq!(&as_truth(project, &status), truth, "{}", project.path);
    }
    assert_eq!(truths[0].ahead, Some(40));
}

#[test]
fn status_writes_nothing_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::with_edge_cases(dir.path()).unwrap();
    let root = repo.root();
    // Files whose stat no longer matches the index but whose content does: `git status`
    // would refresh (rewrite) the index here; we must not.
    let clean = root.join(&repo.project_in(State::CleanOnBranch).unwrap().path);
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    for f in ["src/file1.txt", "README.md"] {
        let file = std::fs::File::options()
            .write(true)
            .open(clean.join(f))
            .unwrap();
        file.set_modified(later).unwrap();
    }
    let before = meta_test::TreeSnapshot::take(dir.path()).unwrap();
    let listed = list_projects(root).unwrap();
    for result in status_all(root, &listed.projects, None) {
        result.unwrap();
    }
    let after = meta_test::TreeSnapshot::take(dir.path()).unwrap();
    let changes = after.changes_since(&before);
    assert!(
        changes.is_empty(),
        "status changed files:\n{}",
        changes.join("\n")
    );
}

#[test]
fn findings_name_each_problem_once() {
    use meta_repo::health::{Finding, findings};
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::with_edge_cases(dir.path()).unwrap();
    let root = repo.root();
    let listed = list_projects(root).unwrap();
    let statuses = status_all(root, &listed.projects, Some(2));
    let found = findings(root, &listed, &statuses);
    let path = |state| repo.project_in(state).unwrap().path.clone();

    let mut not_initialized: Vec<&str> = Vec::new();
    let mut off_pin: Vec<&str> = Vec::new();
    let mut at_risk = Vec::new();
    let mut url_differs = Vec::new();
    let mut no_gitlink = Vec::new();
    for finding in &found {
        match finding {
            Finding::NotInitialized { path } => not_initialized.push(path),
            Finding::OffPin { path, .. } => off_pin.push(path),
            Finding::WorkAtRisk { path, commits, .. } => at_risk.push((path.clone(), *commits)),
            Finding::UrlDiffers { path, .. } => url_differs.push(path.clone()),
            Finding::NoGitlink { path } => no_gitlink.push(path.clone()),
            other => panic!("unexpected finding {other:?}"),
        }
    }
    let expected_uninit: BTreeSet<String> = repo
        .projects()
        .iter()
        .filter(|p| p.state == State::Uninitialized)
        .map(|p| p.path.clone())
        .collect();
    assert_eq!(
        not_initialized
            .iter()
            .map(|p| (*p).to_owned())
            .collect::<BTreeSet<_>>(),
        expected_uninit
    );
    let expected_off: BTreeSet<String> = [State::Ahead, State::OffPin, State::DetachedWork]
        .into_iter()
        .map(path)
        .collect();
    assert_eq!(
        off_pin
            .iter()
            .map(|p| (*p).to_owned())
            .collect::<BTreeSet<_>>(),
        expected_off
    );
    assert_eq!(at_risk, [(path(State::DetachedWork), 1)]);
    assert_eq!(url_differs, [path(State::UrlDiffers)]);
    assert_eq!(no_gitlink, [path(State::GitmodulesOnly)]);
}

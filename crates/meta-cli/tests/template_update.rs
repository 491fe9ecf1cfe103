//! `meta template update`: projects of a fixture meta-repo made from a real template
//! repository (with `meta new`, so linked by `.cruft.json`), the template changed, then every
//! project merged by git: clean merges, local edits kept, a conflict left as a git conflict, a
//! dirty project refused untouched; and the same result as `cruft update -y` where cruft's is
//! well defined.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use meta_test::{MetaRepo, git};
use serde_json::Value;

use crate::common::{meta_git, stderr, stdout};
use crate::templates::{tool, venv};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn commit_all(repo: &Path, message: &str) -> String {
    git(repo).args(["add", "-A"]).run().unwrap();
    git(repo)
        .args(["commit", "-q", "-m", message])
        .run()
        .unwrap();
    git(repo)
        .args(["rev-parse", "HEAD"])
        .run()
        .unwrap()
        .trim()
        .to_owned()
}

/// Every file under `dir` but `.git`, with its content.
fn files(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if name == ".git" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(name, std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

struct Fixture {
    dir: tempfile::TempDir,
    repo: MetaRepo,
    template: PathBuf,
}

const PROJECTS: [&str; 4] = ["repo001", "repo002", "repo003", "repo004"];

impl Fixture {
    /// Four projects of a fixture meta-repo replaced by renders of one template (at its first
    /// commit), each committed with its `.cruft.json`.
    fn build() -> Self {
        let f = Self::bare(
            10,
            "# {{ cookiecutter.name }}\nline two\nline three\nline four\n",
        );
        let files = f.template.join("{{cookiecutter.project_slug}}");
        write(&files.join("config.toml"), "answer = 1\n");
        write(&files.join("old.txt"), "going away\n");
        commit_all(&f.template, "template v1: more files");
        for name in PROJECTS {
            f.make_from_template(name);
        }
        f
    }

    /// A fixture meta-repo of `count` projects and a template whose project has one
    /// `README.md` (`readme`), committed; no project made from it yet.
    fn bare(count: usize, readme: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = MetaRepo::build(&dir.path().join("f"), count).unwrap();
        let template = dir.path().join("template");
        git(dir.path())
            .args(["init", "-q", template.to_str().unwrap()])
            .run()
            .unwrap();
        write(
            &template.join("cookiecutter.json"),
            "{\"project_slug\": \"svc\", \"name\": \"Service\"}\n",
        );
        write(
            &template.join("{{cookiecutter.project_slug}}/README.md"),
            readme,
        );
        commit_all(&template, "template v1");
        Self {
            dir,
            repo,
            template,
        }
    }

    fn project(&self, name: &str) -> PathBuf {
        let project = self.repo.projects().iter().find(|p| p.name == name);
        self.repo.root().join(&project.unwrap().path)
    }

    /// The project's files replaced by a `meta new` render of the template.
    fn make_from_template(&self, name: &str) {
        let dir = self.project(name);
        git(&dir).args(["reset", "-q", "--hard"]).run().unwrap();
        git(&dir).args(["clean", "-q", "-fd"]).run().unwrap();
        git(&dir).args(["rm", "-q", "-r", "--", "."]).run().unwrap();
        let out = self.dir.path().join(format!("render-{name}"));
        let made = meta_git(self.dir.path())
            .args(["new", "--no-input", "-o"])
            .arg(&out)
            .arg(&self.template)
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", stderr(&made));
        for entry in std::fs::read_dir(out.join("svc")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::rename(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
        commit_all(&dir, "made from the template");
    }
}

#[test]
fn update_merges_every_project_with_git_and_matches_cruft() {
    let venv = venv();
    let f = Fixture::build();
    let root = f.repo.root();
    // Local life of the projects: repo002 edits a line the template leaves alone (two lines
    // from the template's change: git's merge calls adjacent changes a conflict), repo003
    // the line the template changes, repo004 has an uncommitted change.
    let readme = |name: &str| f.project(name).join("README.md");
    write(
        &readme("repo002"),
        "# Service\nline two\nline three\nline four, ours\n",
    );
    commit_all(&f.project("repo002"), "local edit");
    write(&f.project("repo003").join("config.toml"), "answer = 42\n");
    commit_all(&f.project("repo003"), "local answer");
    write(&readme("repo004"), "# Service\nuncommitted\n");
    let repo004_before = files(&f.project("repo004"));

    // The template moves on: an edit, an addition, a deletion, a changed line.
    let files_dir = f.template.join("{{cookiecutter.project_slug}}");
    write(
        &files_dir.join("README.md"),
        "# {{ cookiecutter.name }}\nline two, from the template\nline three\nline four\n",
    );
    write(&files_dir.join("config.toml"), "answer = 2\n");
    write(&files_dir.join("new.txt"), "new in v2\n");
    std::fs::remove_file(files_dir.join("old.txt")).unwrap();
    let v2 = commit_all(&f.template, "template v2");

    // cruft's own update of a copy of repo001, for comparison.
    let copy = f.dir.path().join("cruft-copy");
    git(f.dir.path())
        .args(["clone", "-q"])
        .arg(f.project("repo001"))
        .arg(&copy)
        .run()
        .unwrap();
    let work = f.dir.path().join("work");
    std::fs::create_dir_all(work.join("home")).unwrap();
    let cruft = tool(&venv.join("bin/cruft"), &work, &venv)
        .current_dir(&copy)
        .args(["update", "-y"])
        .output()
        .unwrap();
    assert!(
        cruft.status.success(),
        "cruft update: {}{}",
        stdout(&cruft),
        stderr(&cruft)
    );

    let out = meta_git(root)
        .args(["template", "update", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let status = |name: &str| {
        let path = f.project(name);
        let path = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        json["projects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["path"] == path.as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(status("repo001")["status"], "updated", "{json}");
    assert_eq!(status("repo001")["to"], v2.as_str());
    assert_eq!(status("repo002")["status"], "updated", "{json}");
    assert_eq!(status("repo003")["status"], "conflicts", "{json}");
    assert_eq!(
        status("repo003")["conflicts"],
        serde_json::json!(["config.toml"])
    );
    assert_eq!(status("repo004")["status"], "refused", "{json}");
    assert_eq!(status("repo005")["status"], "not-linked");

    // repo001: exactly what cruft made of it, .cruft.json included.
    assert_eq!(files(&f.project("repo001")), files(&copy));
    // repo002: both edits.
    assert_eq!(
        std::fs::read_to_string(readme("repo002")).unwrap(),
        "# Service\nline two, from the template\nline three\nline four, ours\n"
    );
    assert!(f.project("repo002").join("new.txt").is_file());
    assert!(!f.project("repo002").join("old.txt").exists());
    // repo003: a git conflict, undone by `git reset --hard`.
    let porcelain = git(&f.project("repo003"))
        .args(["status", "--porcelain"])
        .run()
        .unwrap();
    assert!(porcelain.contains("UU config.toml"), "{porcelain}");
    let conflicted = std::fs::read_to_string(f.project("repo003").join("config.toml")).unwrap();
    assert!(conflicted.contains("<<<<<<<"), "{conflicted}");
    git(&f.project("repo003"))
        .args(["reset", "-q", "--hard"])
        .run()
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(f.project("repo003").join("config.toml")).unwrap(),
        "answer = 42\n"
    );
    // repo004: untouched.
    assert_eq!(files(&f.project("repo004")), repo004_before);

    // Once merged, meta and cruft agree that the clean ones are up to date.
    git(&f.project("repo001"))
        .args(["commit", "-q", "-m", "update"])
        .run()
        .unwrap();
    let out = meta_git(root)
        .args(["template", "check", "repo001"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn refusals_touch_nothing_and_one_broken_project_never_stops_the_others() {
    let f = Fixture::build();
    let root = f.repo.root();
    let files_dir = f.template.join("{{cookiecutter.project_slug}}");
    write(&files_dir.join("new.txt"), "new in v2\n");
    commit_all(&f.template, "template v2");

    // repo001: an untracked file where the template adds one (allowed untracked files, yet
    // never one in the way). repo002: a merge in progress. repo003: a broken record.
    // repo004: fine.
    write(&f.project("repo001").join("new.txt"), "mine\n");
    let repo002 = f.project("repo002");
    git(&repo002)
        .args(["checkout", "-q", "-b", "side", "HEAD~1"])
        .run()
        .unwrap();
    write(&repo002.join("README.md"), "conflicting\n");
    commit_all(&repo002, "side");
    git(&repo002).args(["checkout", "-q", "-"]).run().unwrap();
    write(&repo002.join("README.md"), "other\n");
    commit_all(&repo002, "main side");
    let merge = git(&repo002)
        .args(["merge", "-q", "side"])
        .output()
        .unwrap();
    assert!(!merge.status.success(), "the merge stops on a conflict");
    write(&f.project("repo003").join(".cruft.json"), "{ not json");
    commit_all(&f.project("repo003"), "broken record");
    let before: Vec<_> = ["repo001", "repo002", "repo003"]
        .iter()
        .map(|n| {
            (
                files(&f.project(n)),
                crate::common::repos::snapshot(&f.project(n)),
            )
        })
        .collect();

    let out = meta_git(root)
        .args(["template", "update", "--allow-untracked-files"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let line = |name: &str| {
        let path = f.project(name);
        let path = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        text.lines()
            .find(|l| l.starts_with(&path))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line("repo001").contains("`new.txt` is in the way"),
        "{text}"
    );
    assert!(
        line("repo002").contains("in the middle of a merge"),
        "{text}"
    );
    assert!(line("repo003").contains("failed"), "{text}");
    assert!(line("repo004").contains("updated"), "{text}");
    assert!(f.project("repo004").join("new.txt").is_file());
    for (name, (files_before, git_before)) in ["repo001", "repo002", "repo003"].iter().zip(&before)
    {
        assert_eq!(&files(&f.project(name)), files_before, "{name} changed");
        assert_eq!(
            &crate::common::repos::snapshot(&f.project(name)),
            git_before,
            "{name}'s git state changed"
        );
    }
}

#[test]
fn diff_shows_the_project_against_its_template_and_what_an_update_brings() {
    let f = Fixture::build();
    let root = f.repo.root();
    let path = |name: &str| {
        f.project(name)
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    write(
        &f.project("repo001").join("README.md"),
        "# Service\nline two\nline three\nline four, ours\n",
    );
    let files_dir = f.template.join("{{cookiecutter.project_slug}}");
    write(&files_dir.join("new.txt"), "new in v2\n");
    commit_all(&f.template, "template v2");

    let out = meta_git(root)
        .args(["template", "diff", "repo001", "repo002", "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let shown = stdout(&out);
    let repo001 = path("repo001");
    assert!(
        shown.contains(&format!(
            "--- a/{repo001}/README.md\n+++ b/{repo001}/README.md"
        )),
        "{shown}{}",
        stderr(&out)
    );
    assert!(shown.contains("-line four, ours\n+line four\n"), "{shown}");
    assert!(
        !shown.contains(&path("repo002")),
        "repo002 is as rendered: {shown}"
    );
    assert!(!shown.contains("new.txt"), "not incoming: {shown}");

    let out = meta_git(root)
        .args(["template", "diff", "repo002", "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let out = meta_git(root)
        .args(["template", "diff", "repo002", "--incoming"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let incoming = stdout(&out);
    assert!(
        incoming.contains(&format!("+++ b/{}/new.txt", path("repo002"))),
        "{incoming}"
    );
    assert!(incoming.contains("+new in v2"), "{incoming}");
}

#[test]
fn link_writes_what_cruft_link_writes_and_check_follows_it() {
    let venv = venv();
    let f = Fixture::build();
    let root = f.repo.root();
    let project = f.project("repo005");
    let copy = f.dir.path().join("cruft-link");
    git(f.dir.path())
        .args(["clone", "-q"])
        .arg(&project)
        .arg(&copy)
        .run()
        .unwrap();
    let work = f.dir.path().join("work");
    std::fs::create_dir_all(work.join("home")).unwrap();
    let cruft = tool(&venv.join("bin/cruft"), &work, &venv)
        .current_dir(&copy)
        .args(["link", "--no-input"])
        .arg(&f.template)
        .args(["--extra-context", "{\"name\": \"Linked\"}"])
        .output()
        .unwrap();
    assert!(cruft.status.success(), "cruft link: {}", stderr(&cruft));

    let out = meta_git(root)
        .args(["template", "link"])
        .arg(&f.template)
        .args(["repo005", "name=Linked"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(project.join(".cruft.json")).unwrap(),
        std::fs::read_to_string(copy.join(".cruft.json")).unwrap()
    );
    let out = meta_git(root)
        .args(["template", "check", "repo005"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let out = meta_git(root)
        .args(["template", "link"])
        .arg(&f.template)
        .arg("repo005")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("linked already"), "{}", stderr(&out));
    let out = meta_git(root)
        .args(["template", "link"])
        .arg(&f.template)
        .arg("repo999")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no project is `repo999`"),
        "{}",
        stderr(&out)
    );
}

/// A project made by `cruft create` is updated by meta as cruft would update it, and both
/// tools' checks agree afterwards.
#[test]
fn a_cruft_made_project_round_trips() {
    let venv = venv();
    let f = Fixture::build();
    let root = f.repo.root();
    let work = f.dir.path().join("work");
    std::fs::create_dir_all(work.join("home")).unwrap();
    let cruft = |dir: &Path, args: &[&str]| {
        tool(&venv.join("bin/cruft"), &work, &venv)
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap()
    };
    // repo006 becomes a `cruft create` render of the template.
    let project = f.project("repo006");
    git(&project).args(["reset", "-q", "--hard"]).run().unwrap();
    git(&project).args(["clean", "-q", "-fd"]).run().unwrap();
    git(&project)
        .args(["rm", "-q", "-r", "--", "."])
        .run()
        .unwrap();
    let made = f.dir.path().join("cruft-made");
    let out = cruft(
        f.dir.path(),
        &[
            "create",
            "--no-input",
            "--output-dir",
            made.to_str().unwrap(),
            f.template.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "cruft create: {}", stderr(&out));
    for entry in std::fs::read_dir(made.join("svc")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::rename(&path, project.join(path.file_name().unwrap())).unwrap();
    }
    commit_all(&project, "made by cruft");

    let files_dir = f.template.join("{{cookiecutter.project_slug}}");
    write(&files_dir.join("config.toml"), "answer = 2\n");
    write(&files_dir.join("new.txt"), "new in v2\n");
    commit_all(&f.template, "template v2");

    // cruft's update of a copy, meta's of the project: the same files.
    let copy = f.dir.path().join("cruft-copy");
    git(f.dir.path())
        .args(["clone", "-q"])
        .arg(&project)
        .arg(&copy)
        .run()
        .unwrap();
    let out = cruft(&copy, &["update", "-y"]);
    assert!(out.status.success(), "cruft update: {}", stderr(&out));
    let out = meta_git(root)
        .args(["template", "update", "repo006", "--commit"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(files(&project), files(&copy));

    // Both checks: up to date.
    let out = meta_git(root)
        .args(["template", "check", "repo006"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = cruft(&project, &["check"]);
    assert!(out.status.success(), "cruft check: {}", stdout(&out));
}

/// Random values and the clock: both renders of an update use one instant and one seed, so a
/// file the template did not change is not touched (cruft would see two different random
/// renders and fail to apply its patch).
#[test]
fn random_values_and_the_clock_do_not_make_changes() {
    let f = Fixture::build();
    let root = f.repo.root();
    let files_dir = f.template.join("{{cookiecutter.project_slug}}");
    write(
        &files_dir.join("secret.txt"),
        "{{ random_ascii_string(24) }}\n{% now 'utc', '%Y-%m-%dT%H:%M:%S.%f' %}\n",
    );
    commit_all(&f.template, "template v2: a secret");
    f.make_from_template("repo005");
    let secret = std::fs::read_to_string(f.project("repo005").join("secret.txt")).unwrap();
    write(&files_dir.join("config.toml"), "answer = 3\n");
    commit_all(&f.template, "template v3");

    let out = meta_git(root)
        .args(["template", "update", "repo005"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("updated"), "{}", stdout(&out));
    assert_eq!(
        std::fs::read_to_string(f.project("repo005").join("secret.txt")).unwrap(),
        secret
    );
    assert_eq!(
        std::fs::read_to_string(f.project("repo005").join("config.toml")).unwrap(),
        "answer = 3\n"
    );
}

/// Every file under `dir` but `.git`, with whether it is executable.
fn modes(dir: &Path) -> BTreeMap<String, bool> {
    use std::os::unix::fs::PermissionsExt;
    files(dir)
        .into_keys()
        .map(|name| {
            let mode = std::fs::metadata(dir.join(&name))
                .unwrap()
                .permissions()
                .mode();
            (name, mode & 0o111 != 0)
        })
        .collect()
}

/// Where cruft's update is well defined, meta's is the same: a file made executable, a
/// `skip` path left alone, a file a post-generation hook deletes never appearing.
#[test]
fn update_matches_cruft_on_modes_skip_paths_and_hooks() {
    use std::os::unix::fs::PermissionsExt;
    let venv = venv();
    let f = Fixture::build();
    let root = f.repo.root();
    let project = f.project("repo001");
    // The project skips config.toml, as cruft's `skip` says.
    let record_path = project.join(".cruft.json");
    let mut record: Value =
        serde_json::from_str(&std::fs::read_to_string(&record_path).unwrap()).unwrap();
    record["skip"] = serde_json::json!(["config.toml"]);
    std::fs::write(
        &record_path,
        serde_json::to_string_pretty(&record).unwrap() + "\n",
    )
    .unwrap();
    commit_all(&project, "skip config.toml");

    let files_dir = f.template.join("{{cookiecutter.project_slug}}");
    write(&files_dir.join("config.toml"), "answer = 2\n");
    write(&files_dir.join("run.sh"), "#!/bin/sh\necho run\n");
    std::fs::set_permissions(
        files_dir.join("run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    write(&files_dir.join("remove_me.txt"), "a hook deletes me\n");
    let ops = f.dir.path().join("operations.log");
    write(
        &f.template.join("hooks/post_gen_project.sh"),
        &format!(
            "#!/bin/sh\nrm -f remove_me.txt\necho \"op=$META_TEMPLATE_OPERATION\" >> '{}'\n",
            ops.display()
        ),
    );
    std::fs::set_permissions(
        f.template.join("hooks/post_gen_project.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    commit_all(&f.template, "template v2");

    let copy = f.dir.path().join("cruft-copy");
    git(f.dir.path())
        .args(["clone", "-q"])
        .arg(&project)
        .arg(&copy)
        .run()
        .unwrap();
    let work = f.dir.path().join("work");
    std::fs::create_dir_all(work.join("home")).unwrap();
    let cruft = tool(&venv.join("bin/cruft"), &work, &venv)
        .current_dir(&copy)
        .args(["update", "-y"])
        .output()
        .unwrap();
    assert!(cruft.status.success(), "cruft update: {}", stderr(&cruft));

    let out = meta_git(root)
        .args(["template", "update", "repo001"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(files(&project), files(&copy));
    assert_eq!(modes(&project), modes(&copy));
    assert_eq!(
        std::fs::read_to_string(project.join("config.toml")).unwrap(),
        "answer = 1\n",
        "a skip path is left alone"
    );
    assert!(!project.join("remove_me.txt").exists());
    assert!(modes(&project)["run.sh"], "run.sh is executable");
    // The hook ran in cruft's renders (without the variable) and in meta's render of the new
    // commit (the old one has no hook), with it.
    let log = std::fs::read_to_string(&ops).unwrap();
    assert_eq!(log.matches("op=update").count(), 1, "{log}");
}

/// Deliberately unlike cruft (whose patch fails to apply, leaving `.rej` files): a file the
/// template renamed while the project edited it is merged into its new name, and a conflict
/// on a binary file is reported as a conflict.
#[test]
fn renamed_files_are_followed_and_binary_conflicts_reported() {
    let f = Fixture::build();
    let root = f.repo.root();
    let project = f.project("repo001");
    write(
        &project.join("README.md"),
        "# Service\nline two\nline three\nline four, ours\n",
    );
    commit_all(&project, "local edit");
    let binary = |fill: u8| {
        let mut bytes = vec![0u8, 159, 146, 150];
        bytes.extend(std::iter::repeat_n(fill, 64));
        bytes
    };
    std::fs::write(project.join("logo.bin"), binary(1)).unwrap();
    commit_all(&project, "our logo");

    let files_dir = f.template.join("{{cookiecutter.project_slug}}");
    git(&f.template)
        .args([
            "mv",
            "{{cookiecutter.project_slug}}/README.md",
            "{{cookiecutter.project_slug}}/README.rst",
        ])
        .run()
        .unwrap();
    std::fs::write(files_dir.join("logo.bin"), binary(2)).unwrap();
    commit_all(&f.template, "template v2: README renamed, a logo");

    let out = meta_git(root)
        .args(["template", "update", "repo001", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let entry = &json["projects"][0];
    assert_eq!(entry["status"], "conflicts", "{json}");
    assert_eq!(
        entry["conflicts"],
        serde_json::json!(["logo.bin"]),
        "{json}"
    );
    assert!(!project.join("README.md").exists());
    assert_eq!(
        std::fs::read_to_string(project.join("README.rst")).unwrap(),
        "# Service\nline two\nline three\nline four, ours\n",
        "the local edit followed the rename"
    );
    let porcelain = git(&project).args(["status", "--porcelain"]).run().unwrap();
    assert!(porcelain.contains("AA logo.bin"), "{porcelain}");
}

/// Deliberately unlike cruft: a file the project deleted and the template changed is a
/// modify/delete conflict (cruft has no preimage to patch), and a recorded `checkout` is kept
/// and followed (cruft update drops it and goes to the default branch).
#[test]
fn a_missing_preimage_conflicts_and_the_recorded_checkout_is_followed() {
    let f = Fixture::build();
    let root = f.repo.root();
    // repo001 deleted old.txt; the template changes it.
    git(&f.project("repo001"))
        .args(["rm", "-q", "old.txt"])
        .run()
        .unwrap();
    commit_all(&f.project("repo001"), "we do not need old.txt");
    // repo002 follows the template's `stable` branch.
    let record_path = f.project("repo002").join(".cruft.json");
    let record = std::fs::read_to_string(&record_path).unwrap();
    std::fs::write(
        &record_path,
        record.replace("\"checkout\": null", "\"checkout\": \"stable\""),
    )
    .unwrap();
    commit_all(&f.project("repo002"), "follow stable");
    git(&f.template).args(["branch", "stable"]).run().unwrap();

    let files_dir = f.template.join("{{cookiecutter.project_slug}}");
    write(&files_dir.join("old.txt"), "changed on main\n");
    commit_all(&f.template, "main moves on");
    git(&f.template)
        .args(["checkout", "-q", "stable"])
        .run()
        .unwrap();
    write(&files_dir.join("config.toml"), "answer = 7\n");
    let stable = commit_all(&f.template, "stable moves on");
    git(&f.template)
        .args(["checkout", "-q", "-"])
        .run()
        .unwrap();

    let out = meta_git(root)
        .args(["template", "update", "repo001", "repo002", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let projects = json["projects"].as_array().unwrap();
    assert_eq!(projects[0]["status"], "conflicts", "{json}");
    assert_eq!(projects[0]["conflicts"], serde_json::json!(["old.txt"]));
    let porcelain = git(&f.project("repo001"))
        .args(["status", "--porcelain"])
        .run()
        .unwrap();
    assert!(
        porcelain.contains("UA old.txt") || porcelain.contains("DU old.txt"),
        "{porcelain}"
    );

    assert_eq!(projects[1]["status"], "updated", "{json}");
    assert_eq!(projects[1]["to"], stable.as_str());
    assert_eq!(
        std::fs::read_to_string(f.project("repo002").join("config.toml")).unwrap(),
        "answer = 7\n"
    );
    assert_eq!(
        std::fs::read_to_string(f.project("repo002").join("old.txt")).unwrap(),
        "going away\n",
        "main's change is not on stable"
    );
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(&record_path).unwrap()).unwrap();
    assert_eq!(record["checkout"], "stable");
    assert_eq!(record["commit"], stable.as_str());
}

/// Twenty projects from one template, one of them broken: the other nineteen update, and the
/// report lists them in project order.
#[test]
fn twenty_projects_one_broken() {
    let f = Fixture::bare(22, "# {{ cookiecutter.name }}\n");
    let files_dir = f.template.join("{{cookiecutter.project_slug}}");
    let names: Vec<String> = f
        .repo
        .projects()
        .iter()
        .filter(|p| p.state != meta_test::State::Uninitialized)
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(names.len(), 20);
    for name in &names {
        f.make_from_template(name);
    }
    let broken = &names[7];
    write(&f.project(broken).join(".cruft.json"), "{ broken");
    commit_all(&f.project(broken), "broken record");
    write(&files_dir.join("NEW.md"), "new\n");
    commit_all(&f.template, "v2");

    let root = f.repo.root();
    let out = meta_git(root)
        .args(["template", "update", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let reported: Vec<&str> = json["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    let mut sorted = reported.clone();
    sorted.sort_unstable();
    assert_eq!(reported, sorted, "project order");
    let mut updated = 0;
    for entry in json["projects"].as_array().unwrap() {
        let path = entry["path"].as_str().unwrap();
        if path.ends_with(broken.as_str()) {
            assert_eq!(entry["status"], "failed", "{entry}");
        } else if entry["status"] == "updated" {
            assert!(root.join(path).join("NEW.md").is_file(), "{path}");
            updated += 1;
        }
    }
    assert_eq!(updated, 19, "{json}");
}

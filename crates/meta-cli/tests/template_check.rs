//! `meta template check`: projects of a fixture meta-repo linked (`.cruft.json`) to commits of
//! a real template repository, each in another standing; compared with `cruft check` where
//! cruft says the same thing.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::path::Path;

use meta_test::{MetaRepo, git};
use serde_json::Value;

use crate::common::{meta_git, stderr, stdout};
use crate::templates::{tool, venv};

fn commit(repo: &Path, file: &str, text: &str) -> String {
    let path = repo.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    git(repo).args(["add", "-A"]).run().unwrap();
    git(repo).args(["commit", "-q", "-m", file]).run().unwrap();
    git(repo)
        .args(["rev-parse", "HEAD"])
        .run()
        .unwrap()
        .trim()
        .to_owned()
}

/// Links the project at `dir` to `template` at `commit` (as cruft would), committed there.
fn link(dir: &Path, template: &Path, commit: &str, directory: Option<&str>) {
    let record = serde_json::json!({
        "template": template.display().to_string(),
        "commit": commit,
        "checkout": null,
        "context": {"cookiecutter": {"project_slug": "x"}},
        "directory": directory,
    });
    std::fs::write(
        dir.join(".cruft.json"),
        serde_json::to_string_pretty(&record).unwrap() + "\n",
    )
    .unwrap();
    git(dir).args(["add", ".cruft.json"]).run().unwrap();
    git(dir).args(["commit", "-q", "-m", "link"]).run().unwrap();
}

#[test]
fn each_project_gets_its_standing_and_cruft_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(&dir.path().join("f"), 10).unwrap();
    let root = repo.root();
    // The template lives in `tpl/` of its repository; `notes/` is outside it.
    let template = dir.path().join("template");
    git(dir.path())
        .args(["init", "-q", template.to_str().unwrap()])
        .run()
        .unwrap();
    commit(
        &template,
        "tpl/cookiecutter.json",
        "{\"project_slug\": \"x\"}\n",
    );
    let c1 = commit(
        &template,
        "tpl/{{cookiecutter.project_slug}}/a.txt",
        "one\n",
    );
    let c2 = commit(
        &template,
        "tpl/{{cookiecutter.project_slug}}/a.txt",
        "two\n",
    );
    let c3 = commit(&template, "notes/NOTES.md", "outside the template\n");
    // A commit that changes no file: a project at c3 is up to date with c4.
    git(&template)
        .args(["commit", "-q", "--allow-empty", "-m", "release notes only"])
        .run()
        .unwrap();
    let c4 = git(&template)
        .args(["rev-parse", "HEAD"])
        .run()
        .unwrap()
        .trim()
        .to_owned();
    git(&template).args(["tag", "v1", &c1]).run().unwrap();
    git(&template)
        .args(["checkout", "-q", "-b", "side", &c1])
        .run()
        .unwrap();
    let side = commit(
        &template,
        "tpl/{{cookiecutter.project_slug}}/b.txt",
        "side\n",
    );
    git(&template).args(["checkout", "-q", "-"]).run().unwrap();

    let path = |name: &str| {
        repo.projects()
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .path
            .clone()
    };
    let project = |name: &str| root.join(path(name));
    link(&project("repo001"), &template, &c4, Some("tpl"));
    link(&project("repo002"), &template, &c1, Some("tpl"));
    // c3 has the same files as the target c4.
    link(&project("repo003"), &template, &c3, Some("tpl"));
    // c2 differs from the target only outside the template's folder: out of date for cruft.
    link(&project("repo007"), &template, &c2, Some("tpl"));
    link(&project("repo004"), &template, &side, Some("tpl"));
    link(
        &project("repo005"),
        &dir.path().join("no-such-template"),
        &c1,
        Some("tpl"),
    );

    let out = meta_git(root)
        .args(["template", "check", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["ok"], false);
    let status = |name: &str| {
        json["projects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["path"] == path(name).as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(status("repo001")["status"], "up-to-date");
    assert_eq!(status("repo002")["status"], "behind");
    assert_eq!(status("repo002")["behind"], 3);
    assert_eq!(status("repo002")["target"], c4.as_str());
    assert_eq!(status("repo003")["status"], "up-to-date");
    assert_eq!(status("repo004")["status"], "diverged");
    assert_eq!(status("repo005")["status"], "failed");
    assert!(
        status("repo005")["detail"]
            .as_str()
            .unwrap()
            .contains("no-such-template"),
        "{json}"
    );
    assert_eq!(status("repo006")["status"], "not-linked");
    assert_eq!(status("repo007")["status"], "behind");

    // Only the up-to-date ones: exit 0. --checkout compares with a tag instead.
    let out = meta_git(root)
        .args(["template", "check", "repo001", "repo003"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("up to date"), "{}", stdout(&out));
    let out = meta_git(root)
        .args(["template", "check", "repo002", "--checkout", "v1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = meta_git(root)
        .args(["template", "check", "repo001", "--checkout", "v1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("ahead"), "{}", stdout(&out));

    // cruft check agrees: up to date (0) and behind (1). Deliberately different: repo003,
    // whose recorded commit has the same files as the target. DESIGN.md section 12 calls that
    // up to date; cruft 2.16 means to (`repo.index.diff(commit)` is empty) but compares with
    // the empty index of its no-checkout clone, so only the same commit passes there.
    let venv = venv();
    let cruft = venv.join("bin/cruft");
    let work = dir.path().join("work");
    std::fs::create_dir_all(work.join("home")).unwrap();
    for (name, code) in [
        ("repo001", 0),
        ("repo003", 1),
        ("repo002", 1),
        ("repo007", 1),
    ] {
        let out = tool(&cruft, &work, &venv)
            .current_dir(project(name))
            .arg("check")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "cruft check in {name}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }
}

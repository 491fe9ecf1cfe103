//! `.cruft.json` from `meta new`, compared byte for byte with what the real `cruft create`
//! (2.16, in the test venv) writes for the same template repository, commit and answers; and
//! the cases where the project is not linked.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::path::{Path, PathBuf};

use meta_test::git;

use crate::common::stderr;
use crate::templates::{tool, venv};

/// Answers of every kind cruft records: non-ASCII, control characters, floats as Python prints
/// them, booleans, null, choices, a dict variable (which cookiecutter asks last), private
/// variables raw and `__` ones rendered.
const CONTEXT: &str = r#"{
    "project_name": "Café Ünïcode ☕",
    "project_slug": "{{ cookiecutter.project_name.lower().replace(' ', '_') }}",
    "settings": {"db": "{{ cookiecutter.project_slug }}_db", "port": 5432, "on": true},
    "license": ["MIT", "BSD-3-Clause", "{{ cookiecutter.project_slug }} proprietary"],
    "use_docker": false,
    "ratio": 2.5,
    "tiny": 0.00001,
    "big": 1e20,
    "count": 3,
    "nothing": null,
    "_private": "{{ not rendered }}",
    "_private_list": [1, 2.0, "x", null, 1e-7],
    "__rendered": "{{ cookiecutter.project_slug }}!",
    "control": "tab\there \u0001 \"quoted\" back\\slash"
}"#;

/// A template repository at `work/NAME` (the template in `subfolder` when given), committed.
fn template_repo(work: &Path, name: &str, subfolder: Option<&str>) -> PathBuf {
    let repo = work.join(name);
    let dir = subfolder.map_or_else(|| repo.clone(), |s| repo.join(s));
    let project = dir.join("{{cookiecutter.project_slug}}");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(dir.join("cookiecutter.json"), CONTEXT).unwrap();
    std::fs::write(
        project.join("README.md"),
        "# {{ cookiecutter.project_name }}\n",
    )
    .unwrap();
    git(&repo).args(["init", "-q"]).run().unwrap();
    git(&repo).args(["add", "-A"]).run().unwrap();
    git(&repo)
        .args(["commit", "-q", "-m", "template"])
        .run()
        .unwrap();
    repo
}

fn cruft_json_of(out: &Path) -> String {
    let project = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    std::fs::read_to_string(project.join(".cruft.json")).unwrap()
}

fn meta_new(work: &Path, venv: &Path, template: &Path, out: &str) -> std::process::Output {
    tool(Path::new(env!("CARGO_BIN_EXE_meta")), work, venv)
        .args(["new", "--no-input", "-o", out])
        .arg(template)
        .output()
        .unwrap()
}

#[test]
fn cruft_json_is_byte_identical_to_cruft_create() {
    let venv = venv();
    let cruft = venv.join("bin/cruft");
    assert!(
        cruft.is_file(),
        "{} has no bin/cruft: `pip install -r .ci/requirements.txt` installs cruft 2.16",
        venv.display()
    );
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    std::fs::create_dir_all(work.join("home")).unwrap();

    // The template at the repository's root.
    let repo = template_repo(work, "tpl", None);
    let out = tool(&cruft, work, &venv)
        .args(["create", "--no-input", "--output-dir", "by-cruft"])
        .arg(&repo)
        .output()
        .unwrap();
    assert!(out.status.success(), "cruft create: {}", stderr(&out));
    let out = meta_new(work, &venv, &repo, "by-meta");
    assert!(out.status.success(), "meta new: {}", stderr(&out));
    let expected = cruft_json_of(&work.join("by-cruft"));
    assert_eq!(cruft_json_of(&work.join("by-meta")), expected);
    assert!(expected.contains("Café Ünïcode ☕"), "{expected}");
    assert!(expected.contains("\"tiny\": \"1e-05\""), "{expected}");

    // The template in a folder of the repository: cruft's `--directory`.
    let repo = template_repo(work, "many", Some("templates/py"));
    let out = tool(&cruft, work, &venv)
        .args([
            "create",
            "--no-input",
            "--output-dir",
            "sub-cruft",
            "--directory",
            "templates/py",
        ])
        .arg(&repo)
        .output()
        .unwrap();
    assert!(out.status.success(), "cruft create: {}", stderr(&out));
    let out = meta_new(work, &venv, &repo.join("templates/py"), "sub-meta");
    assert!(out.status.success(), "meta new: {}", stderr(&out));
    assert_eq!(
        cruft_json_of(&work.join("sub-meta")),
        cruft_json_of(&work.join("sub-cruft"))
    );
}

#[test]
fn a_template_that_is_not_a_commit_is_not_linked_and_says_so() {
    let venv = venv();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    std::fs::create_dir_all(work.join("home")).unwrap();
    let repo = template_repo(work, "tpl", None);
    // Uncommitted changes: no commit holds what is rendered.
    std::fs::write(
        repo.join("cookiecutter.json"),
        CONTEXT.replace("2.5", "3.5"),
    )
    .unwrap();
    let out = meta_new(work, &venv, &repo, "dirty");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("not linked"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("uncommitted changes"),
        "{}",
        stderr(&out)
    );
    let project = work.join("dirty/café_ünïcode_☕");
    assert!(project.join("README.md").is_file());
    assert!(!project.join(".cruft.json").exists());

    // Not in a git repository at all.
    let plain = work.join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::rename(
        repo.join("cookiecutter.json"),
        plain.join("cookiecutter.json"),
    )
    .unwrap();
    std::fs::rename(
        repo.join("{{cookiecutter.project_slug}}"),
        plain.join("{{cookiecutter.project_slug}}"),
    )
    .unwrap();
    let out = meta_new(work, &venv, &plain, "plain-out");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not in a git repository"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_project_added_with_group_has_its_record_in_its_first_commit() {
    let venv = venv();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    std::fs::create_dir_all(work.join("home")).unwrap();
    let repo = template_repo(work, "tpl", None);
    let metarepo = meta_test::MetaRepo::build(&work.join("f"), 2).unwrap();
    let root = metarepo.root();
    let out = tool(Path::new(env!("CARGO_BIN_EXE_meta")), root, &venv)
        .args(["new", "--no-input", "--group", "docs"])
        .arg(&repo)
        .arg("project_name=Svc")
        .env("GIT_AUTHOR_NAME", "Meta Test")
        .env("GIT_AUTHOR_EMAIL", "meta@example.invalid")
        .env("GIT_COMMITTER_NAME", "Meta Test")
        .env("GIT_COMMITTER_EMAIL", "meta@example.invalid")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let project = root.join("src/docs/svc");
    let committed = git(&project)
        .args(["show", "HEAD:.cruft.json"])
        .run()
        .unwrap();
    let record: serde_json::Value = serde_json::from_str(&committed).unwrap();
    let head = git(&repo).args(["rev-parse", "HEAD"]).run().unwrap();
    assert_eq!(record["commit"], head.trim());
    assert_eq!(record["context"]["cookiecutter"]["project_name"], "Svc");
}

/// Every template of the differential corpus that `cruft create` renders: `meta new` writes
/// the same `.cruft.json`, byte for byte.
#[test]
fn every_corpus_template_cruft_renders_gets_the_same_record() {
    let venv = venv();
    let cruft = venv.join("bin/cruft");
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    std::fs::create_dir_all(work.join("home")).unwrap();
    let mut compared = Vec::new();
    // `fail_*` cases are where cookiecutter (and meta) refuse. cruft never runs `pre_prompt`
    // hooks (it builds the context itself), so for templates with one its answers are not
    // cookiecutter's, which meta renders: no same answers to compare.
    let has_pre_prompt = |name: &str| {
        std::fs::read_dir(crate::templates::corpus_dir().join(name).join("hooks")).is_ok_and(
            |entries| {
                entries
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with("pre_prompt"))
            },
        )
    };
    for name in crate::templates::case_names()
        .into_iter()
        .filter(|n| !n.starts_with("fail_") && !has_pre_prompt(n))
    {
        let repo = work.join("repos").join(&name);
        crate::templates::copy_tree(&crate::templates::corpus_dir().join(&name), &repo);
        let _ = std::fs::remove_file(repo.join("case.json"));
        git(&repo).args(["init", "-q"]).run().unwrap();
        git(&repo).args(["add", "-A"]).run().unwrap();
        git(&repo).args(["commit", "-q", "-m", "t"]).run().unwrap();
        let by_cruft = work.join("cruft").join(&name);
        let out = tool(&cruft, work, &venv)
            .args(["create", "--no-input", "--output-dir"])
            .arg(&by_cruft)
            .arg(&repo)
            .output()
            .unwrap();
        if !out.status.success() {
            // cruft cannot render it (a failing case, Python extensions, cookiecutter's own
            // context keys cruft leaves out): nothing to compare.
            continue;
        }
        let by_meta = work.join("meta").join(&name);
        let out = meta_new(work, &venv, &repo, by_meta.to_str().unwrap());
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let linked = std::fs::read_dir(&by_meta)
            .unwrap()
            .map(|e| e.unwrap().path())
            .any(|p| p.join(".cruft.json").exists());
        if !linked {
            // Python extensions: cookiecutter renders it, and meta says it is not linked.
            assert!(
                stderr(&out).contains("not linked"),
                "{name}: {}",
                stderr(&out)
            );
            continue;
        }
        assert_eq!(
            cruft_json_of(&by_meta),
            cruft_json_of(&by_cruft),
            "{name}: .cruft.json differs"
        );
        compared.push(name);
    }
    assert!(compared.len() >= 15, "only {compared:?} compared");
}

//! `meta exec`: the real binary on real fixtures — output grouped and ordered by project
//! whatever the finishing order, compared with git's own answers; exit codes, `--fail-fast`,
//! `--json`, the `META_PROJECT_*` variables, the selection flags, and bad input.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::path::Path;

use meta_test::{MetaRepo, State, git_truth};
use serde_json::Value;

use crate::common::{meta_git, stderr, stdout};

/// Splits `meta exec` text output into `(path, body)` blocks by their `==> path <==` headers.
fn blocks(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("==> ") {
            let path = rest.split(" <==").next().unwrap().to_owned();
            out.push((path, String::new()));
        } else {
            let last = out.last_mut().expect("output starts with a header");
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    out
}

fn initialized_paths(repo: &MetaRepo) -> Vec<String> {
    let mut paths: Vec<String> = repo
        .projects()
        .iter()
        .filter(|p| !matches!(p.state, State::Uninitialized | State::GitmodulesOnly))
        .map(|p| p.path.clone())
        .collect();
    paths.sort();
    paths
}

fn exec_json(root: &Path, args: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    let out = meta_git(root)
        .arg("exec")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let json: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(&out), stderr(&out)));
    (
        out.status.code(),
        json.as_array().unwrap().clone(),
        stderr(&out),
    )
}

#[test]
fn output_is_grouped_in_project_order_and_matches_git() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 9).unwrap();
    let root = repo.root();
    let out = meta_git(root)
        .args(["exec", "--", "git", "rev-parse", "HEAD"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = blocks(&stdout(&out));
    let paths = initialized_paths(&repo);
    let path_refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let truths = git_truth(root, &path_refs).unwrap();
    let expected: Vec<(String, String)> = truths
        .iter()
        .map(|t| (t.path.clone(), format!("{}\n", t.head.clone().unwrap())))
        .collect();
    assert_eq!(got, expected);
    // Not initialised: not run, and said so.
    let err = stderr(&out);
    assert!(err.contains("2 projects not initialised"), "{err}");
    assert!(
        err.contains("ran `git` in 7 projects: 7 succeeded, 0 failed"),
        "{err}"
    );

    // The first projects finish last; the order stays the project order.
    let out = meta_git(root)
        .args(["exec", "--jobs", "8", "--", "sh", "-c"])
        .arg(r#"case "$META_PROJECT_NAME" in repo001) sleep 0.6;; repo002) sleep 0.3;; esac; echo "$META_PROJECT_PATH"; echo "err $META_PROJECT_NAME" >&2"#)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = blocks(&stdout(&out));
    let expected: Vec<(String, String)> = paths
        .iter()
        .map(|p| (p.clone(), format!("{p}\n")))
        .collect();
    assert_eq!(got, expected);
    // Each project's stderr follows its own header's stdout, in the same order.
    let err_lines: Vec<String> = stderr(&out)
        .lines()
        .filter(|l| l.starts_with("err "))
        .map(str::to_owned)
        .collect();
    let names: Vec<String> = paths
        .iter()
        .map(|p| format!("err {}", p.rsplit('/').next().unwrap()))
        .collect();
    assert_eq!(err_lines, names);
}

#[test]
fn json_environment_exit_codes_and_fail_fast() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 9).unwrap();
    let root = repo.root();
    let paths = initialized_paths(&repo);

    // Every variable, the working folder, stdout and stderr apart.
    let script = r#"printf '%s|%s|%s|%s|%s' "$META_PROJECT_PATH" "$META_PROJECT_NAME" "$META_PROJECT_GROUP" "$META_ROOT" "$(pwd -P)"; echo oops >&2"#;
    let (code, entries, err) = exec_json(root, &["--", "sh", "-c", script]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(entries.len(), paths.len());
    let real_root = root.canonicalize().unwrap();
    for (entry, path) in entries.iter().zip(&paths) {
        let project = repo.project(path).unwrap();
        assert_eq!(entry["path"], path.as_str());
        assert_eq!(entry["exit_code"], 0);
        assert_eq!(entry["stderr"], "oops\n");
        assert_eq!(entry["ran"], true);
        let expected = format!(
            "{path}|{}|{}|{}|{}",
            project.name,
            project.group,
            root.display(),
            real_root.join(path).display()
        );
        assert_eq!(entry["stdout"], expected.as_str());
    }

    // Exit codes per project; the whole run fails and says where.
    let script =
        r#"case "$META_PROJECT_NAME" in repo003) exit 3;; repo005) kill -9 $$;; esac; echo fine"#;
    let (code, entries, err) = exec_json(root, &["--", "sh", "-c", script]);
    assert_eq!(code, Some(1), "{err}");
    let by_path = |p: &str| entries.iter().find(|e| e["path"] == p).unwrap().clone();
    let repo003 = by_path("src/projects/repo003");
    assert_eq!(repo003["exit_code"], 3);
    assert_eq!(repo003["stdout"], "");
    let repo005 = by_path("src/data_model/repo005");
    assert_eq!(repo005["exit_code"], Value::Null);
    assert_eq!(repo005["signal"], 9);
    assert_eq!(by_path("src/data_model/repo001")["exit_code"], 0);
    assert!(err.contains("failed in 2 of 7 projects"), "{err}");
    assert!(err.contains("src/projects/repo003: exit code 3"), "{err}");
    assert!(
        err.contains("src/data_model/repo005: ended by signal 9"),
        "{err}"
    );

    // --fail-fast with one job: exactly the projects after the failing one are not run.
    let fail_at = paths.iter().position(|p| p.ends_with("repo006")).unwrap();
    let (code, entries, err) = exec_json(
        root,
        &[
            "--fail-fast",
            "--jobs",
            "1",
            "--",
            "sh",
            "-c",
            r#"test "$META_PROJECT_NAME" != repo006"#,
        ],
    );
    assert_eq!(code, Some(1), "{err}");
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry["ran"], i <= fail_at, "{entry}");
        let expected_code = match i.cmp(&fail_at) {
            std::cmp::Ordering::Less => Value::from(0),
            std::cmp::Ordering::Equal => Value::from(1),
            std::cmp::Ordering::Greater => Value::Null,
        };
        assert_eq!(entry["exit_code"], expected_code, "{entry}");
    }
    let not_run: Vec<&str> = paths[fail_at + 1..].iter().map(String::as_str).collect();
    assert!(!not_run.is_empty());
    assert!(
        err.contains(&format!(
            "--fail-fast did not start it in {} project",
            not_run.len()
        )),
        "{err}"
    );
    for path in &not_run {
        assert!(err.contains(path), "{err}");
    }

    // Without --fail-fast every project runs despite the failure.
    let (code, entries, _) = exec_json(
        root,
        &[
            "--jobs",
            "1",
            "--",
            "sh",
            "-c",
            r#"test "$META_PROJECT_NAME" != repo006"#,
        ],
    );
    assert_eq!(code, Some(1));
    assert!(entries.iter().all(|e| e["ran"] == true));

    // A program that does not exist fails in every project, with a clear reason, no panic.
    let out = meta_git(root)
        .args(["exec", "--", "no-such-program-here"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("program not found"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn selection_by_group_pattern_and_dirty() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 9).unwrap();
    let root = repo.root();
    let ran = |args: &[&str]| -> Vec<String> {
        let mut all = args.to_vec();
        all.extend(["--", "true"]);
        let (code, entries, err) = exec_json(root, &all);
        assert_eq!(code, Some(0), "{err}");
        entries
            .iter()
            .map(|e| e["path"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ran(&["--group", "libraries"]),
        ["src/libraries/repo002", "src/libraries/repo006"]
    );
    assert_eq!(
        ran(&["repo00[13]", "src/docs/*"]),
        [
            "src/data_model/repo001",
            "src/docs/repo004",
            "src/projects/repo003"
        ]
    );
    // --dirty picks what `meta status --dirty` picks (initialised ones).
    let out = crate::common::meta(root)
        .args(["status", "--json", "--dirty"])
        .output()
        .unwrap();
    let status: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let dirty: Vec<String> = status["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(!dirty.is_empty());
    assert_eq!(ran(&["--dirty"]), dirty);
    // The same words select the same projects in status and project list.
    let out = crate::common::meta(root)
        .args(["status", "--json", "repo00[13]", "src/docs/*"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let status: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(status["projects"].as_array().unwrap().len(), 4);
}

#[test]
fn bad_input_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 3).unwrap();
    let root = repo.root();
    let run = |args: &[&str]| meta_git(root).args(args).output().unwrap();

    let out = run(&["exec", "--group", "nope", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("there is no group `nope`"),
        "{}",
        stderr(&out)
    );

    let out = run(&["exec", "no-such-*", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no project matches `no-such-*`"),
        "{}",
        stderr(&out)
    );

    let out = run(&["exec"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let out = run(&["exec", "--jobs", "0", "--", "true"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let outside = tempfile::tempdir().unwrap();
    let out = meta_git(outside.path())
        .args(["exec", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not inside a meta-repo"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn long_lists_of_projects_are_cut_short() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::build(dir.path(), 14).unwrap();
    let root = repo.root();
    let paths = initialized_paths(&repo);
    assert_eq!(paths.len(), 12);
    // Fails in the first project; the other 11 are not started, and the hint names 10.
    let out = meta_git(root)
        .args(["exec", "--fail-fast", "--jobs", "1", "--", "false"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let hint = err
        .lines()
        .find(|l| l.contains("--fail-fast did not start it in 11 projects: "))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(hint.ends_with(" and 1 more"), "{hint}");
    assert!(
        hint.contains(&paths[1]) && hint.contains(&paths[10]),
        "{hint}"
    );
    assert!(!hint.contains(&paths[11]), "{hint}");
}

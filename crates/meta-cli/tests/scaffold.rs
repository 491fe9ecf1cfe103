//! `meta init` and `meta new` as a user drives them: the meta-repo layout, git, refusals that
//! leave everything as it was, git templates, paths that would escape, and the prompts in a
//! real pseudo-terminal.

// Fixture helpers outside `#[test]` functions: a failed setup step should stop the test loudly.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use crate::common::{meta, stderr, stdout};
use crate::templates::venv;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `meta` with git seeing no user config at all (no identity), as on a fresh machine.
fn meta_fresh(cwd: &Path) -> assert_cmd::Command {
    let mut cmd = meta(cwd);
    cmd.env("HOME", cwd)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .env_remove("EMAIL");
    cmd
}

#[test]
fn init_creates_the_documented_layout_with_a_first_commit() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta_fresh(dir.path())
        .args(["init", "demo", "--no-input"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let root = dir.path().join("demo");
    assert_eq!(stdout(&out).trim(), root.display().to_string());
    for path in [
        "meta/metarepo.toml",
        "meta/plugins",
        "src/data_model",
        "src/libraries",
        "src/projects",
        "src/docs",
        "README.md",
        ".gitignore",
    ] {
        assert!(root.join(path).exists(), "missing {path}");
    }
    let gitignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(
        gitignore.lines().any(|l| l.trim() == ".meta/"),
        "{gitignore}"
    );
    let config = meta_workspace::Config::load(&root.join("meta/metarepo.toml")).unwrap();
    assert_eq!(config.metarepo.name, "demo");
    assert_eq!(
        config.metarepo.groups,
        ["data_model", "libraries", "projects", "docs"]
    );
    // One commit, made without any configured identity, holding the empty folders' keepers.
    let log = git(&root, &["log", "--format=%an <%ae>|%s"]);
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.starts_with("meta <meta@localhost>|"), "{log}");
    let files = git(&root, &["ls-files"]);
    for kept in [
        "meta/plugins/.gitkeep",
        "src/docs/.gitkeep",
        "meta/metarepo.toml",
        ".gitignore",
    ] {
        assert!(
            files.lines().any(|l| l == kept),
            "{kept} not committed:\n{files}"
        );
    }
    assert_eq!(git(&root, &["status", "--porcelain"]), "");
    // The meta-repo is usable: `meta` finds it from inside.
    let inside = meta(&root.join("src/docs"))
        .args(["init", "--no-input"])
        .output()
        .unwrap();
    assert_eq!(
        inside.status.code(),
        Some(0),
        "a nested meta-repo is allowed: {}",
        stderr(&inside)
    );
}

#[test]
fn init_uses_the_slug_and_given_values_and_can_skip_git() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path())
        .args([
            "init",
            "--no-input",
            "--no-git",
            "project_name=Acme Tools",
            "description=Ours",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let root = dir.path().join("acme_tools");
    assert!(root.join("meta/metarepo.toml").is_file());
    assert!(!root.join(".git").exists());
    let config = meta_workspace::Config::load(&root.join("meta/metarepo.toml")).unwrap();
    assert_eq!(config.metarepo.name, "Acme Tools");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.starts_with("# Acme Tools\n\nOurs\n"), "{readme}");
    // A name TOML would choke on is escaped.
    let out = meta(dir.path())
        .args([
            "init",
            "odd",
            "--no-input",
            "--no-git",
            "project_name=Quote \" and \\ back",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let config = meta_workspace::Config::load(&dir.path().join("odd/meta/metarepo.toml")).unwrap();
    assert_eq!(config.metarepo.name, "Quote \" and \\ back");
}

#[test]
fn init_refuses_an_existing_meta_repo_or_a_non_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path())
        .args(["init", "demo", "--no-input", "--no-git"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let config = dir.path().join("demo/meta/metarepo.toml");
    let before = std::fs::read(&config).unwrap();
    let out = meta(dir.path())
        .args(["init", "demo", "--no-input"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("already a meta-repo") && err.contains("hint:"),
        "{err}"
    );
    assert_eq!(std::fs::read(&config).unwrap(), before);
    assert!(!dir.path().join("demo/.git").exists());

    std::fs::create_dir(dir.path().join("busy")).unwrap();
    std::fs::write(dir.path().join("busy/notes.txt"), "mine").unwrap();
    let out = meta(dir.path())
        .args(["init", "busy", "--no-input"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    let entries: Vec<_> = std::fs::read_dir(dir.path().join("busy"))
        .unwrap()
        .collect();
    assert_eq!(entries.len(), 1);
    // No staging folder is left anywhere.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".meta-init")),
        "{names:?}"
    );

    // An empty folder is fine.
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let out = meta(dir.path())
        .args(["init", "empty", "--no-input", "--no-git"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.path().join("empty/meta/metarepo.toml").is_file());
}

fn template_repo(dir: &Path) -> std::path::PathBuf {
    let repo = dir.join("tpl-repo");
    let slug = repo.join("{{cookiecutter.slug}}");
    std::fs::create_dir_all(&slug).unwrap();
    std::fs::write(
        repo.join("cookiecutter.json"),
        r#"{"slug": "fromgit", "v": "one"}"#,
    )
    .unwrap();
    std::fs::write(
        slug.join("v.txt"),
        "{{ cookiecutter.v }} {{ cookiecutter._checkout }}\n",
    )
    .unwrap();
    git(&repo, &["init", "--quiet", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(
        &repo,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "--quiet",
            "-m",
            "one",
        ],
    );
    git(&repo, &["tag", "v1"]);
    std::fs::write(
        repo.join("cookiecutter.json"),
        r#"{"slug": "fromgit", "v": "two"}"#,
    )
    .unwrap();
    git(
        &repo,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "--quiet",
            "-am",
            "two",
        ],
    );
    repo
}

#[test]
fn new_renders_a_git_template_at_a_revision() {
    let dir = tempfile::tempdir().unwrap();
    let repo = template_repo(dir.path());
    let url = format!("file://{}", repo.display());
    let out = meta(dir.path())
        .env("HOME", dir.path())
        .args(["new", "--no-input", &url, "-o", "head"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("head/fromgit/v.txt")).unwrap(),
        "two None\n"
    );
    // Cloned where cookiecutter clones: its template cache under HOME.
    let cached = dir
        .path()
        .join(".cookiecutters")
        .join(repo.file_name().unwrap());
    assert!(
        cached.join("cookiecutter.json").is_file(),
        "{}",
        cached.display()
    );
    let out = meta(dir.path())
        .env("HOME", dir.path())
        .args([
            "new",
            "--no-input",
            &url,
            "-o",
            "tagged",
            "--checkout",
            "v1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tagged/fromgit/v.txt")).unwrap(),
        "one v1\n"
    );

    // User data never becomes a git option.
    let out = meta(dir.path())
        .env("HOME", dir.path())
        .args([
            "new",
            "--no-input",
            &url,
            "--checkout=--upload-pack=touch pwned",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = meta(dir.path())
        .env("HOME", dir.path())
        .args(["new", "--no-input", "--", "-uhttps://x/y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!dir.path().join("pwned").exists());
    let out = meta(dir.path())
        .env("HOME", dir.path())
        .args(["new", "--no-input", "file:///nonexistent/repo.git"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot fetch the template"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn new_reports_a_missing_template_and_paths_that_escape() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path())
        .args(["new", "--no-input", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no template at `nowhere`") && err.contains("hint:"),
        "{err}"
    );

    let tpl = dir.path().join("tpl");
    std::fs::create_dir_all(tpl.join("{{cookiecutter.slug}}/sub")).unwrap();
    std::fs::write(
        tpl.join("cookiecutter.json"),
        r#"{"slug": "proj", "name": "ok.txt"}"#,
    )
    .unwrap();
    std::fs::write(tpl.join("{{cookiecutter.slug}}/first.txt"), "1\n").unwrap();
    std::fs::write(tpl.join("{{cookiecutter.slug}}/sub/keep.txt"), "x\n").unwrap();
    std::fs::write(
        tpl.join("{{cookiecutter.slug}}/{{cookiecutter.name}}"),
        "x\n",
    )
    .unwrap();
    for escape in [
        "name=../../../escaped.txt",
        "name=/tmp/escaped-by-meta.txt",
        "slug=../outside",
    ] {
        let out = meta(dir.path())
            .args(["new", "--no-input", "tpl", "-o", "out", escape])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{escape}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("would land outside"),
            "{}",
            stderr(&out)
        );
        assert!(
            !dir.path().join("out/proj").exists(),
            "{escape}: the project folder was left"
        );
    }
    assert!(!dir.path().join("escaped.txt").exists());
    assert!(!Path::new("/tmp/escaped-by-meta.txt").exists());
    assert!(!dir.path().join("outside").exists());
}

/// Drives `meta new` in a pseudo-terminal (Python's `pty` module) and answers its questions.
#[test]
fn new_prompts_in_a_terminal_as_cookiecutter_does() {
    let venv = venv();
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("tpl");
    std::fs::create_dir_all(tpl.join("{{cookiecutter.slug}}")).unwrap();
    std::fs::write(
        tpl.join("cookiecutter.json"),
        r#"{
  "name": "My Project",
  "slug": "{{ cookiecutter.name|slugify }}",
  "license": ["MIT", "BSD"],
  "docker": false,
  "extra": {"k": "v"},
  "__prompts__": {"name": "Project name", "license": {"__prompt__": "Which license?", "BSD": "BSD 3-clause"}}
}"#,
    )
    .unwrap();
    std::fs::write(
        tpl.join("{{cookiecutter.slug}}/out.txt"),
        "{{ cookiecutter.name }}|{{ cookiecutter.license }}|{{ cookiecutter.docker }}|{{ cookiecutter.extra }}\n",
    )
    .unwrap();
    let script = r#"
import os, pty, select, sys, time
meta, workdir = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.chdir(workdir)
    os.execv(meta, [meta, "new", "tpl", "-o", "out"])
transcript = b""
def expect(text, timeout=20):
    global transcript
    deadline = time.time() + timeout
    while text.encode() not in transcript:
        if time.time() > deadline:
            sys.exit("timed out waiting for %r; got %r" % (text, transcript))
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                sys.exit("meta ended while waiting for %r; got %r" % (text, transcript))
            transcript += chunk
for prompt, answer in [
    ("[1/5] Project name (My Project): ", "Space Rocket"),
    ("[2/5] slug (space-rocket): ", ""),
    ("2 - BSD 3-clause", None),
    ("Choose from [1/2] (1): ", "3"),
    ("Please select one of the available options", None),
    ("Choose from [1/2] (1): ", "2"),
    ("[4/5] docker [y/n] (n): ", "maybe"),
    ("Please enter Y or N", None),
    ("docker [y/n] (n): ", "yes"),
    ("[5/5] extra (default): ", "[1]"),
    ("Please enter a valid JSON string", None),
    ("extra (default): ", '{"k": "w", "n": 1}'),
]:
    expect(prompt)
    transcript = transcript[transcript.index(prompt.encode()) + len(prompt.encode()):]
    if answer is not None:
        os.write(fd, answer.encode() + b"\r")
deadline = time.time() + 20
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            if not os.read(fd, 4096):
                break
        except OSError:
            break
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let out = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_meta"))
        .arg(dir.path())
        .env("TERM", "dumb")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/space-rocket/out.txt")).unwrap(),
        "Space Rocket|BSD|True|OrderedDict([('k', 'w'), ('n', 1)])\n"
    );
}

/// Without a terminal, answers are read from standard input, one line per question; when it ends
/// early the command fails without writing anything and says how to take the defaults.
#[test]
fn new_reads_answers_from_a_pipe_and_fails_cleanly_when_they_run_out() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("tpl");
    std::fs::create_dir_all(tpl.join("{{cookiecutter.slug}}")).unwrap();
    std::fs::write(
        tpl.join("cookiecutter.json"),
        r#"{"slug": "piped", "colour": ["red", "blue"], "ok": true}"#,
    )
    .unwrap();
    std::fs::write(
        tpl.join("{{cookiecutter.slug}}/a.txt"),
        "{{ cookiecutter.colour }} {{ cookiecutter.ok }}\n",
    )
    .unwrap();
    let out = meta(dir.path())
        .args(["new", "tpl"])
        .write_stdin("\n2\nno\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("piped/a.txt")).unwrap(),
        "blue False\n"
    );

    let out = meta(dir.path())
        .args(["new", "tpl", "-o", "second"])
        .write_stdin("\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no answer for `colour`") && err.contains("--no-input"),
        "{err}"
    );
    assert!(!dir.path().join("second/piped").exists());
}

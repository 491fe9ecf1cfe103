//! `meta template update` of 20 projects made from one template, against `cruft update -y` in
//! each (DESIGN.md section 6: meta at least 5 × faster).
//!
//! Run with `META_TEST_VENV=$PWD/.venv cargo bench -p meta-cli --bench template_update` (the
//! venv `.ci/run` makes holds cruft 2.16). It builds a 22-project fixture, replaces 20 projects
//! with `meta new` renders of a template at its first commit (each committed with its
//! `.cruft.json`), commits a second template version (an edit, an addition, a deletion), then
//! takes turns: every project reset to its first render, `meta template update` (timed); reset
//! again, `cruft update -y` in each project one after the other (timed). Medians of 3 rounds.

// A benchmark reports on stdout and fails loudly on a broken setup.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PROJECTS: usize = 22;
const ROUNDS: usize = 3;

const ENV: [(&str, &str); 6] = [
    ("GIT_AUTHOR_NAME", "Bench"),
    ("GIT_AUTHOR_EMAIL", "bench@example.invalid"),
    ("GIT_COMMITTER_NAME", "Bench"),
    ("GIT_COMMITTER_EMAIL", "bench@example.invalid"),
    ("GIT_CONFIG_GLOBAL", "/dev/null"),
    ("GIT_CONFIG_NOSYSTEM", "1"),
];

fn run(dir: &Path, program: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .envs(ENV)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {args:?} in {}: {}{}",
        program.display(),
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn git(dir: &Path, args: &[&str]) -> String {
    run(dir, Path::new("git"), args)
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let venv =
        PathBuf::from(std::env::var_os("META_TEST_VENV").expect(
            "META_TEST_VENV names the venv holding cruft (`bash .ci/run` makes one in .venv)",
        ));
    let cruft = venv.join("bin/cruft");
    assert!(cruft.is_file(), "{} has no bin/cruft", venv.display());
    let meta = PathBuf::from(env!("CARGO_BIN_EXE_meta"));
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let repo = meta_test::MetaRepo::build(&dir.path().join("f"), PROJECTS).unwrap();
    let root = repo.root().to_path_buf();

    let template = dir.path().join("template");
    git(dir.path(), &["init", "-q", template.to_str().unwrap()]);
    write(
        &template.join("cookiecutter.json"),
        "{\"project_slug\": \"svc\", \"name\": \"Service\", \"port\": 8080}\n",
    );
    let files = template.join("{{cookiecutter.project_slug}}");
    for i in 0..20 {
        write(
            &files.join(format!("src/module{i}.py")),
            &format!(
                "# {{{{ cookiecutter.name }}}} module {i}\nPORT = {{{{ cookiecutter.port }}}}\n"
            ),
        );
    }
    write(
        &files.join("README.md"),
        "# {{ cookiecutter.name }}\none\ntwo\nthree\n",
    );
    write(&files.join("old.txt"), "going away\n");
    git(&template, &["add", "-A"]);
    git(&template, &["commit", "-q", "-m", "v1"]);

    let projects: Vec<PathBuf> = repo
        .projects()
        .iter()
        .filter(|p| p.state != meta_test::State::Uninitialized)
        .map(|p| root.join(&p.path))
        .collect();
    let mut made = Vec::new();
    for (n, project) in projects.iter().enumerate() {
        git(project, &["reset", "-q", "--hard"]);
        git(project, &["clean", "-q", "-fd"]);
        git(project, &["rm", "-q", "-r", "--", "."]);
        let out = dir.path().join(format!("render{n}"));
        run(
            dir.path(),
            &meta,
            &[
                "new",
                "--no-input",
                "-o",
                out.to_str().unwrap(),
                template.to_str().unwrap(),
            ],
        );
        for entry in std::fs::read_dir(out.join("svc")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::rename(&path, project.join(path.file_name().unwrap())).unwrap();
        }
        git(project, &["add", "-A"]);
        git(project, &["commit", "-q", "-m", "made from the template"]);
        made.push(git(project, &["rev-parse", "HEAD"]).trim().to_owned());
    }
    write(
        &files.join("README.md"),
        "# {{ cookiecutter.name }}\none\ntwo, v2\nthree\n",
    );
    write(
        &files.join("src/module3.py"),
        "# changed in v2\nPORT = {{ cookiecutter.port }}\n",
    );
    write(&files.join("NEW.md"), "new in v2\n");
    std::fs::remove_file(files.join("old.txt")).unwrap();
    git(&template, &["add", "-A"]);
    git(&template, &["commit", "-q", "-m", "v2"]);
    println!(
        "fixture: {} projects from one template (built in {:.1} s)",
        projects.len(),
        started.elapsed().as_secs_f64()
    );

    let reset = || {
        for (project, commit) in projects.iter().zip(&made) {
            git(project, &["reset", "-q", "--hard", commit]);
            git(project, &["clean", "-q", "-fd"]);
        }
    };
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut meta_times = Vec::new();
    let mut cruft_times = Vec::new();
    for _ in 0..ROUNDS {
        reset();
        let start = Instant::now();
        run(&root, &meta, &["template", "update"]);
        meta_times.push(start.elapsed());
        let updated = std::fs::read_to_string(projects[0].join("README.md")).unwrap();
        assert!(updated.contains("two, v2"), "{updated}");

        reset();
        let start = Instant::now();
        for project in &projects {
            let out = Command::new(&cruft)
                .current_dir(project)
                .args(["update", "-y"])
                .envs(ENV)
                .env("HOME", &home)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "cruft update: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        cruft_times.push(start.elapsed());
        let updated = std::fs::read_to_string(projects[0].join("README.md")).unwrap();
        assert!(updated.contains("two, v2"), "{updated}");
    }
    meta_times.sort();
    cruft_times.sort();
    let (m, c) = (meta_times[ROUNDS / 2], cruft_times[ROUNDS / 2]);
    println!("median of {ROUNDS} rounds, {} projects:", projects.len());
    println!(
        "  cruft update -y in each, one after the other  {:9.1} ms",
        ms(c)
    );
    println!(
        "  meta template update                          {:9.1} ms",
        ms(m)
    );
    println!(
        "  meta is {:.1} x faster; budget 5 x: {}",
        c.as_secs_f64() / m.as_secs_f64(),
        if c.as_secs_f64() >= 5.0 * m.as_secs_f64() {
            "pass"
        } else {
            "FAIL"
        }
    );
}

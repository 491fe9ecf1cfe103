//! The differential suite: every template of `tests/corpus/` is rendered by the real
//! cookiecutter 2.7.1 (from the venv named by `META_TEST_VENV`) and by `meta new`, into the same
//! output path one after the other, and the two trees must be identical: same paths, same
//! bytes, same permission bits. Failure cases must fail in both (exit 1) and leave no project
//! folder behind. Each case's `case.json` says how to run it (see `Case`).

// Fixture helpers outside `#[test]` functions: a failed setup step should stop the test loudly.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use serde::Deserialize;

/// How one corpus case runs; all fields optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Case {
    /// What it covers, for the reader.
    covers: String,
    /// Arguments after the template for both tools (`-f`, `-s`, `KEY=VALUE`, …).
    args: Vec<String>,
    /// `"ok"` (default) or `"fail"`.
    expect: String,
    /// Text `meta`'s stderr must contain (its error, when the case fails).
    meta_stderr: Vec<String>,
    /// Files present in the output folder before each run (path → content).
    existing: BTreeMap<String, String>,
    /// Empty folders to create in the template (git keeps none).
    mkdir: Vec<String>,
    /// Permission bits to set on template files (path → octal).
    chmod: BTreeMap<String, String>,
    /// Binary fixtures to generate in the template (path → `png`, `noise`, `nul`, `jpeg`).
    binary: BTreeMap<String, String>,
    /// cookiecutter itself leaves a half-written project behind in this failure (it does not
    /// catch template syntax errors); meta must still leave nothing.
    cookiecutter_leaves_output: bool,
    /// Output files whose content is random: compared by shape (a regex matching the whole
    /// file) instead of bytes.
    shapes: BTreeMap<String, String>,
    /// Put a pyenv-like `python3` shim first on PATH for both tools: it fails in a folder
    /// holding `.python-version`, as pyenv does when that names a version it lacks.
    python_shim: bool,
}

pub fn venv() -> PathBuf {
    let Some(venv) = std::env::var_os("META_TEST_VENV") else {
        panic!(
            "META_TEST_VENV is not set: the template tests compare with the real cookiecutter 2.7.1 \
             and need a venv holding it (`bash .ci/run` makes one in .venv; then run \
             `META_TEST_VENV=$PWD/.venv cargo test`)"
        );
    };
    let venv = PathBuf::from(venv);
    assert!(
        venv.join("bin/cookiecutter").is_file(),
        "META_TEST_VENV={} has no bin/cookiecutter: install it with `{}/bin/pip install -r .ci/requirements.txt`",
        venv.display(),
        venv.display()
    );
    venv
}

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// PATH with the venv first, so hooks' `python3` is the venv's for both tools (after the
/// case's `shim/` folder, when it has one).
fn path_with_venv(work: &Path, venv: &Path) -> std::ffi::OsString {
    let mut paths = vec![venv.join("bin")];
    if work.join("shim").is_dir() {
        paths.insert(0, work.join("shim"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).unwrap()
}

pub fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// Deterministic bytes that look like noise.
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[1]
        })
        .collect()
}

fn binary_fixture(kind: &str) -> Vec<u8> {
    match kind {
        "png" => {
            let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
            b.extend(noise(300, 1));
            b.extend_from_slice(b"{{ cookiecutter.project_name }}");
            b
        }
        "jpeg" => {
            let mut b = b"\xff\xd8\xff\xe0\0\x10JFIF\0".to_vec();
            b.extend(noise(200, 2));
            b
        }
        "noise" => {
            let mut b = noise(2000, 3);
            b.extend_from_slice(b"{{ cookiecutter.project_name }}\r\n");
            b
        }
        // UTF-16 text: half its bytes are NUL.
        "utf16" => "{{ cookiecutter.project_name }} in UTF-16\n"
            .repeat(10)
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect(),
        // Text with a stray NUL: binaryornot still calls it text, so it is rendered.
        "stray_nul" => b"text with a\0NUL byte {{ cookiecutter.name }}\n".to_vec(),
        other => panic!("unknown binary fixture kind `{other}`"),
    }
}

struct Prepared {
    work: tempfile::TempDir,
    case: Case,
}

fn prepare(name: &str) -> Prepared {
    let src = corpus_dir().join(name);
    let case: Case = match std::fs::read_to_string(src.join("case.json")) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}/case.json: {e}")),
        Err(_) => Case::default(),
    };
    let work = tempfile::tempdir().unwrap();
    let tpl = work.path().join("tpl");
    copy_tree(&src, &tpl);
    for dir in &case.mkdir {
        std::fs::create_dir_all(tpl.join(dir)).unwrap();
    }
    for (path, kind) in &case.binary {
        std::fs::write(tpl.join(path), binary_fixture(kind)).unwrap();
    }
    for (path, mode) in &case.chmod {
        let mode = u32::from_str_radix(mode, 8).unwrap();
        std::fs::set_permissions(tpl.join(path), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::create_dir_all(work.path().join("home")).unwrap();
    if case.python_shim {
        let shim = work.path().join("shim/python3");
        std::fs::create_dir_all(shim.parent().unwrap()).unwrap();
        std::fs::write(
            &shim,
            format!(
                "#!/bin/sh\n# Like a pyenv shim: `.python-version` in the current folder picks the Python.\n\
                 if [ -f .python-version ]; then\n  \
                 echo \"pyenv: version \\`$(cat .python-version)' is not installed\" >&2\n  exit 1\nfi\n\
                 exec '{}' \"$@\"\n",
                venv().join("bin/python3").display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    Prepared { work, case }
}

fn seed_output(work: &Path, case: &Case) {
    for (path, content) in &case.existing {
        let path = work.join("out").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

pub fn tool(program: &Path, work: &Path, venv: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(work)
        .env("HOME", work.join("home"))
        .env("PATH", path_with_venv(work, venv))
        .env_remove("COOKIECUTTER_CONFIG")
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .stdin(std::process::Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("META_") {
            cmd.env_remove(&key);
        }
    }
    cmd
}

fn run_cookiecutter(work: &Path, venv: &Path, args: &[String]) -> Output {
    tool(&venv.join("bin/cookiecutter"), work, venv)
        .args(["--no-input", "tpl", "-o", "out"])
        .args(args)
        .output()
        .unwrap()
}

fn run_meta(work: &Path, venv: &Path, args: &[String]) -> Output {
    tool(Path::new(env!("CARGO_BIN_EXE_meta")), work, venv)
        .args(["new", "--no-input", "tpl", "-o", "out"])
        .args(args)
        .output()
        .unwrap()
}

/// Every path under `root` with its kind, permission bits and content.
fn snapshot(root: &Path) -> BTreeMap<String, (char, u32, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (char, u32, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                out.insert(rel, ('d', mode, Vec::new()));
                walk(root, &path, out);
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(rel, ('l', 0, target.to_string_lossy().as_bytes().to_vec()));
            } else {
                out.insert(rel, ('f', mode, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn show(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() > 3000 {
        format!("{}…", &text[..3000])
    } else {
        text.into_owned()
    }
}

/// Runs one case; returns a description of every difference.
fn check_case(name: &str, venv: &Path) -> Vec<String> {
    let Prepared { work, case } = prepare(name);
    let work = work.path();
    let expect_fail = match case.expect.as_str() {
        "" | "ok" => false,
        "fail" => true,
        other => panic!("{name}: expect must be ok or fail, not {other}"),
    };
    let mut problems = Vec::new();

    seed_output(work, &case);
    let cc = run_cookiecutter(work, venv, &case.args);
    let cc_tree = snapshot(&work.join("out"));
    if work.join("out").exists() {
        std::fs::rename(work.join("out"), work.join("out-cookiecutter")).unwrap();
    }
    seed_output(work, &case);
    let ours = run_meta(work, venv, &case.args);
    let our_tree = snapshot(&work.join("out"));

    let context = || {
        format!(
            "\n--- cookiecutter (exit {:?}) stdout and stderr:\n{}{}\n--- meta (exit {:?}) stderr:\n{}",
            cc.status.code(),
            show(&cc.stdout),
            show(&cc.stderr),
            ours.status.code(),
            show(&ours.stderr)
        )
    };
    if expect_fail {
        if cc.status.code() != Some(1) {
            problems.push(format!(
                "cookiecutter was expected to fail with exit 1{}",
                context()
            ));
        }
        if ours.status.code() != Some(1) {
            problems.push(format!(
                "meta was expected to fail with exit 1{}",
                context()
            ));
        }
        let stderr = String::from_utf8_lossy(&ours.stderr);
        for needle in &case.meta_stderr {
            if !stderr.contains(needle.as_str()) {
                problems.push(format!("meta's error lacks `{needle}`:\n{stderr}"));
            }
        }
        if stderr.contains("panicked") {
            problems.push(format!("meta panicked:\n{stderr}"));
        }
        // Nothing but what was there before may remain.
        let seeded: Vec<&String> = case.existing.keys().collect();
        let mut trees = vec![("meta", &our_tree)];
        if !case.cookiecutter_leaves_output {
            trees.push(("cookiecutter", &cc_tree));
        }
        for (label, tree) in trees {
            let leftovers: Vec<&String> = tree
                .iter()
                .filter(|(path, (kind, _, _))| {
                    *kind == 'f' && !seeded.contains(path)
                        || *kind == 'd' && !seeded.iter().any(|s| s.starts_with(path.as_str()))
                })
                .map(|(p, _)| p)
                .collect();
            if !leftovers.is_empty() {
                problems.push(format!(
                    "{label} left output behind after failing: {leftovers:?}"
                ));
            }
        }
    } else {
        if !cc.status.success() {
            problems.push(format!("cookiecutter failed{}", context()));
        }
        if !ours.status.success() {
            problems.push(format!("meta failed{}", context()));
        }
        let stderr = String::from_utf8_lossy(&ours.stderr);
        for needle in &case.meta_stderr {
            if !stderr.contains(needle.as_str()) {
                problems.push(format!("meta's stderr lacks `{needle}`:\n{stderr}"));
            }
        }
    }

    let compare_trees = !(expect_fail && case.cookiecutter_leaves_output);
    let paths: std::collections::BTreeSet<&String> = if compare_trees {
        cc_tree.keys().chain(our_tree.keys()).collect()
    } else {
        std::collections::BTreeSet::new()
    };
    for path in paths {
        match (cc_tree.get(path), our_tree.get(path)) {
            (Some(_), None) => problems.push(format!(
                "`{path}`: made by cookiecutter, missing from meta's output"
            )),
            (None, Some(_)) => {
                problems.push(format!("`{path}`: made by meta, not by cookiecutter"));
            }
            (Some(a), Some(b)) => {
                if a.0 != b.0 {
                    problems.push(format!(
                        "`{path}`: kind {} (cookiecutter) vs {} (meta)",
                        a.0, b.0
                    ));
                }
                if a.1 != b.1 {
                    problems.push(format!(
                        "`{path}`: mode {:o} (cookiecutter) vs {:o} (meta)",
                        a.1, b.1
                    ));
                }
                if let Some(shape) = case.shapes.get(path.as_str()) {
                    let re = regex::Regex::new(&format!("^(?s:{shape})$")).unwrap();
                    for (label, bytes) in [("cookiecutter", &a.2), ("meta", &b.2)] {
                        let text = String::from_utf8_lossy(bytes);
                        if !re.is_match(&text) {
                            problems.push(format!(
                                "`{path}` from {label} does not match /{shape}/:\n{text}"
                            ));
                        }
                    }
                } else if a.2 != b.2 {
                    problems.push(format!(
                        "`{path}` differs:\n--- cookiecutter\n{}\n--- meta\n{}",
                        show(&a.2),
                        show(&b.2)
                    ));
                }
            }
            (None, None) => {}
        }
    }
    for shape_path in case.shapes.keys() {
        if !expect_fail && !cc_tree.contains_key(shape_path) {
            problems.push(format!("shape file `{shape_path}` was not produced"));
        }
    }
    if !case.covers.is_empty() && problems.is_empty() && cc_tree.is_empty() && !expect_fail {
        problems.push("nothing was rendered".to_owned());
    }
    problems
}

pub fn case_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn corpus_renders_exactly_as_cookiecutter_does() {
    let venv = venv();
    let names = case_names();
    assert!(names.len() >= 20, "the corpus shrank: {names:?}");
    let queue = Mutex::new(names.clone());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let Some(name) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let problems = check_case(&name, &venv);
                    if !problems.is_empty() {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("== {name}\n{}", problems.join("\n")));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n\n")
    );
}

#[test]
fn builtin_metarepo_template_renders_as_cookiecutter_does() {
    let venv = venv();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    std::fs::create_dir_all(work.join("home")).unwrap();
    copy_tree(&repo_root().join("templates/metarepo"), &work.join("tpl"));
    let args = vec!["project_name=Acme Corp".to_owned()];
    let cc = run_cookiecutter(work, &venv, &args);
    assert!(cc.status.success(), "{}", show(&cc.stderr));
    let cc_tree = snapshot(&work.join("out"));
    // `meta init` renders the copy embedded in the binary.
    let init = tool(Path::new(env!("CARGO_BIN_EXE_meta")), work, &venv)
        .args([
            "init",
            "init-out/acme_corp",
            "--no-input",
            "--no-git",
            "project_name=Acme Corp",
        ])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", show(&init.stderr));
    let init_tree = snapshot(&work.join("init-out"));
    assert_eq!(
        cc_tree.keys().collect::<Vec<_>>(),
        init_tree.keys().collect::<Vec<_>>()
    );
    assert_eq!(cc_tree, init_tree);
    assert!(cc_tree.contains_key("acme_corp/meta/metarepo.toml"));
}

/// Without `cookiecutter` on PATH, a template with its own Python `_extensions` fails naming
/// them and the fix, and leaves nothing behind (with it, the corpus case `python_extensions`
/// shows the render handed over).
#[test]
fn python_extensions_without_cookiecutter_name_the_fix() {
    let venv = venv();
    let Prepared { work, .. } = prepare("python_extensions");
    let work = work.path();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let without: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("cookiecutter").exists())
        .collect();
    let out = tool(Path::new(env!("CARGO_BIN_EXE_meta")), work, &venv)
        .env("PATH", std::env::join_paths(without).unwrap())
        .args(["new", "--no-input", "tpl", "-o", "out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for needle in [
        "`local_extensions.ShoutExtension`",
        "pipx install cookiecutter",
    ] {
        assert!(stderr.contains(needle), "lacks {needle}: {stderr}");
    }
    assert!(!work.join("out").exists());
}

/// A git repository at `work/repos/NAME` holding the corpus case `case`, with a `where.txt`
/// that prints what cookiecutter records about the template, tagged `v1`; returns its URL.
fn git_template(work: &Path, case: &str, name: &str) -> String {
    let repo = work.join("repos").join(name);
    copy_tree(&corpus_dir().join(case), &repo);
    std::fs::write(
        repo.join("{{cookiecutter.project_slug}}/where.txt"),
        "{{ cookiecutter._repo_dir }}\n{{ cookiecutter._template }}\n{{ cookiecutter._checkout }}\n",
    )
    .unwrap();
    for args in [
        &["init", "--quiet"][..],
        &["add", "."],
        &["commit", "--quiet", "-m", "template"],
        &["tag", "v1"],
    ] {
        let out = Command::new("git")
            .current_dir(&repo)
            .env("HOME", work.join("home"))
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", show(&out.stderr));
    }
    format!("file://{}", repo.display())
}

/// Renders `url` with cookiecutter into `cc-LABEL` and with `meta new` into `meta-LABEL`
/// (same HOME, same arguments) and asserts the trees are the same; returns meta's output.
fn compare_git_render(
    work: &Path,
    venv: &Path,
    label: &str,
    url: &str,
    extra: &[&str],
    config: Option<&Path>,
) -> Output {
    let run = |program: &Path, first: &[&str], out: &str| {
        let mut cmd = tool(program, work, venv);
        if let Some(config) = config {
            cmd.env("COOKIECUTTER_CONFIG", config);
        }
        cmd.args(first)
            .args(["--no-input", url, "-o", out])
            .args(extra)
            .output()
            .unwrap()
    };
    let cc = run(&venv.join("bin/cookiecutter"), &[], &format!("cc-{label}"));
    assert!(cc.status.success(), "{label}: {}", show(&cc.stderr));
    let ours = run(
        Path::new(env!("CARGO_BIN_EXE_meta")),
        &["new"],
        &format!("meta-{label}"),
    );
    assert!(ours.status.success(), "{label}: {}", show(&ours.stderr));
    let cc_tree = snapshot(&work.join(format!("cc-{label}")));
    let mut our_tree = snapshot(&work.join(format!("meta-{label}")));
    // meta links a project made from a commit to its template, as `cruft create` does
    // (`.cruft.json`, compared with cruft's in tests/cruft.rs); cookiecutter does not.
    // Python-extension templates are rendered by cookiecutter itself and not linked.
    let linked: Vec<String> = our_tree
        .keys()
        .filter(|path| path.ends_with("/.cruft.json"))
        .cloned()
        .collect();
    // Not linked (a Python-extension template cookiecutter renders, a template that is not
    // a commit): meta says so.
    assert!(
        linked.len() == 1 || show(&ours.stderr).contains("not linked to its template"),
        "{label}: {linked:?} {}",
        show(&ours.stderr)
    );
    for path in linked {
        our_tree.remove(&path);
    }
    assert!(!cc_tree.is_empty(), "{label}");
    assert_eq!(cc_tree, our_tree, "{label}");
    ours
}

/// A git template is cloned where cookiecutter clones it (`~/.cookiecutters/NAME`, or the
/// config file's `cookiecutters_dir`), so `_repo_dir` matches; a second run replaces the
/// clone, as cookiecutter does with `--no-input`. One with its own Python `_extensions` is
/// handed over by URL, so `_template` and `_checkout` are cookiecutter's too.
#[test]
fn git_templates_are_cloned_into_cookiecutters_cache() {
    let venv = venv();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    std::fs::create_dir_all(work.join("home")).unwrap();
    let url = git_template(work, "names", "gitcase");
    let config = work.join("cookiecutter.yaml");
    std::fs::write(
        &config,
        "default_context: {}\ncookiecutters_dir: \"~/elsewhere\"  # cache\n",
    )
    .unwrap();
    compare_git_render(work, &venv, "default", &url, &[], None);
    compare_git_render(work, &venv, "again", &url, &["--checkout", "v1"], None);
    compare_git_render(work, &venv, "config", &url, &[], Some(&config));
    let cache = work.join("home/elsewhere/gitcase/cookiecutter.json");
    assert!(cache.is_file(), "{}", cache.display());

    // cookiecutter takes a URL for git's only when it holds `git`: say so with `git+`.
    let url = format!("git+{}", git_template(work, "python_extensions", "extcase"));
    let ours = compare_git_render(work, &venv, "ext", &url, &["--checkout", "v1"], None);
    assert!(
        String::from_utf8_lossy(&ours.stderr).contains("handing the render to"),
        "{}",
        show(&ours.stderr)
    );
}

/// cookiecutter's user config as cookiecutter reads it: `default_context` (YAML 1.1 scalars,
/// quoted and plain, comments, nested mappings and lists; a value that fits no choice is
/// warned about and stops the rest, as in cookiecutter), `abbreviations` (whole names and
/// `PREFIX:REST`, the defaults kept), and templates found in `cookiecutters_dir` by name.
#[test]
fn user_config_is_read_as_cookiecutter_reads_it() {
    let venv = venv();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    std::fs::create_dir_all(work.join("home")).unwrap();
    let tpl = work.join("templates/cfgcase");
    std::fs::create_dir_all(tpl.join("{{cookiecutter.slug}}")).unwrap();
    std::fs::write(
        tpl.join("cookiecutter.json"),
        r#"{"slug": "cfg", "full_name": "Nobody", "email": "x", "use_docker": false,
        "version": "0.0", "license": ["BSD", "MIT", "GPL"], "tags": ["a", "b", "c"],
        "settings": {"port": 1, "hosts": ["h"]}, "count": 1, "ratio": 1.5, "nothing": "x",
        "color": ["red", "blue"], "after_color": "kept"}"#,
    )
    .unwrap();
    std::fs::write(
        tpl.join("{{cookiecutter.slug}}/out.txt"),
        "{% for k, v in cookiecutter.items() if k != '_output_dir' %}{{ k }}={{ v }}\n{% endfor %}",
    )
    .unwrap();
    let config = work.join("cookiecutter.yaml");
    let text = format!(
        "# cookiecutter's config\n---\ndefault_context:\n    full_name: \"Ann O'Nym\"   # quoted\n    \
         email: 'ann@example.com'\n    use_docker: yes\n    version: 1.10\n    license: MIT\n    \
         tags: [c, a]\n    settings: {{port: 0x50, hosts: [\"a # b\", ~]}}\n    count: 1_000\n    \
         ratio: .5\n    nothing: ~\n    unknown: 1\n    color: green\n    after_color: lost\n\
         cookiecutters_dir: {cache}\nabbreviations:\n  mine: {templates}/{{0}}\n  \
         whole: {templates}/cfgcase\n",
        cache = work.join("templates").display(),
        templates = work.join("templates").display(),
    );
    std::fs::write(&config, text).unwrap();
    compare_git_render(work, &venv, "prefix", "mine:cfgcase", &[], Some(&config));
    compare_git_render(work, &venv, "whole", "whole", &[], Some(&config));
    let ours = compare_git_render(work, &venv, "cache", "cfgcase", &[], Some(&config));
    assert!(
        String::from_utf8_lossy(&ours.stderr).contains("Invalid default received"),
        "{}",
        show(&ours.stderr)
    );
    let out = std::fs::read_to_string(work.join("meta-prefix/cfg/out.txt")).unwrap();
    assert!(out.contains("use_docker=True"), "{out}");
    assert!(out.contains("after_color=kept"), "{out}");

    // What meta cannot read is named, with its line; cookiecutter reads it.
    std::fs::write(&config, "default_context:\n  when: 2024-01-01\n").unwrap();
    let ours = tool(Path::new(env!("CARGO_BIN_EXE_meta")), work, &venv)
        .env("COOKIECUTTER_CONFIG", &config)
        .args(["new", "--no-input", "mine:cfgcase", "-o", "bad"])
        .output()
        .unwrap();
    assert!(!ours.status.success());
    assert!(
        String::from_utf8_lossy(&ours.stderr).contains("line 2: the date `2024-01-01`"),
        "{}",
        show(&ours.stderr)
    );
}

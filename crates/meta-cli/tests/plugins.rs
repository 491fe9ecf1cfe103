//! Plugins end to end: the real binary, real files, real `git`, plugins written as small bash
//! scripts by the tests.

// The fixture helpers below are test code too: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::common::{meta, stderr, stdout};

/// A meta-repo at `<tmp>/repo` and a place for plugin sources at `<tmp>/src`.
struct Fixture {
    tmp: tempfile::TempDir,
    root: PathBuf,
}

const CONFIG: &str = "# team config\n[metarepo]\nname = \"demo\" # the name\n";

/// A plugin command that reports what it was given, then exits with `$EXIT_WITH` (0 default).
const REPORT_SH: &str = r#"#!/usr/bin/env bash
printf '%s\n' "args:$*" "root:$META_ROOT" "name:$META_PLUGIN_NAME" "dir:$META_PLUGIN_DIR" \
  "api:$META_API" "ingest:$META_BUS_INGEST" "events:$META_BUS_EVENTS" \
  "control:$META_BUS_CONTROL" "cwd:$PWD"
if [ -n "$MARKER" ]; then echo ran >> "$MARKER"; fi
if [ -n "$KILL_WITH" ]; then kill -s "$KILL_WITH" $$; fi
exit "${EXIT_WITH:-0}"
"#;

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(root.join("meta")).unwrap();
    std::fs::write(root.join("meta/metarepo.toml"), CONFIG).unwrap();
    std::fs::create_dir_all(tmp.path().join("src")).unwrap();
    Fixture { tmp, root }
}

fn manifest(name: &str, commands: &[(&str, &str)]) -> String {
    let mut text = format!(
        "api = 1\n\n[plugin]\nname = \"{name}\"\nversion = \"0.1.0\"\ndescription = \"Test plugin {name}\"\n"
    );
    for (command, about) in commands {
        let _ = write!(
            text,
            "\n[[command]]\nname = \"{command}\"\nabout = \"{about}\"\nexec = [\"bash\", \"report.sh\", \"{command}\"]\n"
        );
    }
    text
}

fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

impl Fixture {
    fn src(&self) -> PathBuf {
        self.tmp.path().join("src")
    }

    /// A plugin source folder `src/<folder>` with `manifest` and the report script.
    fn source(&self, folder: &str, manifest: &str) -> PathBuf {
        let dir = self.src().join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("meta-plugin.toml"), manifest).unwrap();
        write_exec(&dir.join("report.sh"), REPORT_SH);
        dir
    }

    fn meta(&self) -> assert_cmd::Command {
        let mut cmd = meta(&self.root);
        cmd.timeout(Duration::from_secs(60));
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.meta().args(args).output().unwrap()
    }

    fn install(&self, source: &Path, extra: &[&str]) -> Output {
        self.meta()
            .args(["plugin", "install"])
            .arg(source)
            .args(extra)
            .output()
            .unwrap()
    }

    fn install_ok(&self, source: &Path, extra: &[&str]) {
        let out = self.install(source, extra);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }

    fn config(&self) -> String {
        std::fs::read_to_string(self.root.join("meta/metarepo.toml")).unwrap()
    }

    fn lock(&self) -> Option<String> {
        std::fs::read_to_string(self.root.join("meta/plugins.lock")).ok()
    }

    /// Every path under the root except runtime state, sorted.
    fn tree(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.root, &self.root, &mut out);
        out.retain(|p| !p.starts_with(".meta"));
        out.sort();
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        out.push(path.strip_prefix(root).unwrap().display().to_string());
        let meta = path.symlink_metadata().unwrap();
        if meta.is_dir() {
            walk(root, &path, out);
        }
    }
}

/// `key:value` lines of the report script.
fn report(out: &Output, key: &str) -> String {
    let prefix = format!("{key}:");
    stdout(out)
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
        .unwrap_or_else(|| panic!("no `{key}` in {}", stdout(out)))
}

#[test]
fn every_manifest_field_wrong_in_turn_is_refused_with_file_field_and_rule() {
    let fx = fixture();
    let good = r#"api = 1

[plugin]
name = "hello"
version = "0.1.0"
description = "Greets people"

[[command]]
name = "hello"
about = "Print a greeting"
exec = ["bash", "report.sh"]

[service]
exec = ["./watch.sh"]
subscribe = ["core:file:"]
restart = "on-failure"

[events]
publish = ["hello:"]
"#;
    // (replace, with, field, line, words of the rule)
    let cases: &[(&str, &str, &str, usize, &str)] = &[
        ("api = 1\n", "", "api", 1, "is required"),
        ("api = 1", "api = 99", "api", 1, "this meta speaks API 1"),
        ("api = 1", "api = \"one\"", "api", 1, "must be an integer"),
        (
            "name = \"hello\"\nversion",
            "name = \"Hello World\"\nversion",
            "plugin.name",
            4,
            "[a-z][a-z0-9-]{0,39}",
        ),
        (
            "version = \"0.1.0\"",
            "version = \"0.1\"",
            "plugin.version",
            5,
            "semantic version",
        ),
        (
            "description = \"Greets people\"",
            "description = [\"x\"]",
            "plugin.description",
            6,
            "must be a string",
        ),
        (
            "description",
            "authors",
            "plugin.authors",
            6,
            "not a known key",
        ),
        (
            "name = \"hello\"\nabout",
            "name = \"hello_world\"\nabout",
            "command[0].name",
            9,
            "not a valid command name",
        ),
        (
            "about = \"Print a greeting\"",
            "about = \"two\\nlines\"",
            "command[0].about",
            10,
            "one line",
        ),
        (
            "exec = [\"bash\", \"report.sh\"]",
            "exec = []",
            "command[0].exec",
            11,
            "must not be empty",
        ),
        (
            "exec = [\"bash\", \"report.sh\"]",
            "exec = \"bash report.sh\"",
            "command[0].exec",
            11,
            "array of strings",
        ),
        (
            "exec = [\"./watch.sh\"]",
            "exec = [\" \"]",
            "service.exec[0]",
            14,
            "must name a program",
        ),
        (
            "subscribe = [\"core:file:\"]",
            "subscribe = [\"core::file\"]",
            "service.subscribe[0]",
            15,
            "not a valid event-type prefix",
        ),
        (
            "restart = \"on-failure\"",
            "restart = \"sometimes\"",
            "service.restart",
            16,
            "`always`, `on-failure` or `never`",
        ),
        (
            "publish = [\"hello:\"]",
            "publish = [\"core:hello:\"]",
            "events.publish[0]",
            19,
            "`core` namespace",
        ),
        (
            "publish = [\"hello:\"]",
            "publish = [\"Hello\"]",
            "events.publish[0]",
            19,
            "not a valid event-type prefix",
        ),
        (
            "[events]",
            "[events]\nsubscribe = [\"x:\"]",
            "events.subscribe",
            19,
            "not a known key",
        ),
        ("[service]", "[daemon]", "daemon", 13, "not a known key"),
    ];
    for (i, (from, to, field, line, words)) in cases.iter().enumerate() {
        assert!(good.contains(from), "case {i}: {from}");
        let dir = fx.source(&format!("case{i}"), &good.replacen(from, to, 1));
        let out = fx.install(&dir, &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "case {i}: {err}");
        let file = dir.join("meta-plugin.toml");
        let location = format!("{}:{line}:", file.display());
        assert!(err.contains(&location), "case {i}: wants {location}: {err}");
        assert!(err.contains(&format!("field `{field}`")), "case {i}: {err}");
        assert!(err.contains(words), "case {i}: wants {words}: {err}");
        assert!(err.contains("hint:"), "case {i}: {err}");
        assert!(!err.contains("panicked"), "case {i}: {err}");
    }
    // A duplicate command name, too.
    let dup = good.replace(
        "[service]",
        "[[command]]\nname = \"hello\"\nexec = [\"x\"]\n\n[service]",
    );
    let out = fx.install(&fx.source("dup", &dup), &[]);
    assert!(
        stderr(&out).contains("already the name of command[0]"),
        "{}",
        stderr(&out)
    );
    // Nothing was installed by any of them.
    assert_eq!(fx.tree(), ["meta", "meta/metarepo.toml"]);
    assert_eq!(fx.config(), CONFIG);
}

#[test]
fn install_records_source_and_hash_and_runs_with_the_plugin_environment() {
    let fx = fixture();
    let src = fx.source("hello", &manifest("hello", &[("hello", "Say hello")]));
    let out = fx.install(&src, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Installed plugin `hello` 0.1.0"),
        "{}",
        stderr(&out)
    );

    let lock = fx.lock().unwrap();
    let canonical = src.canonicalize().unwrap();
    assert!(lock.contains("[plugins.hello]"), "{lock}");
    assert!(
        lock.contains(&format!("source = \"{}\"", canonical.display())),
        "{lock}"
    );
    assert!(lock.contains("hash = \"sha256:"), "{lock}");
    let config = fx.config();
    assert!(config.starts_with(CONFIG), "user formatting kept: {config}");
    assert!(
        config.contains("[plugins.hello]\nenabled = true"),
        "{config}"
    );

    // Run it from a subfolder: relative exec paths still resolve in the plugin folder.
    let sub = fx.root.join("meta");
    let out = meta(&sub)
        .args(["hello", "a b", "--flag"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let root = fx.root.canonicalize().unwrap();
    assert_eq!(report(&out, "args"), "hello a b --flag");
    assert_eq!(
        Path::new(&report(&out, "root")).canonicalize().unwrap(),
        root
    );
    assert_eq!(report(&out, "name"), "hello");
    assert_eq!(
        Path::new(&report(&out, "dir")).canonicalize().unwrap(),
        root.join("meta/plugins/hello")
    );
    assert_eq!(report(&out, "api"), "1");
    for key in ["ingest", "events", "control"] {
        let endpoint = report(&out, key);
        assert!(endpoint.starts_with("ipc://"), "{key}: {endpoint}");
        assert!(
            endpoint.ends_with(&format!("{key}.sock")),
            "{key}: {endpoint}"
        );
    }
    assert_eq!(
        Path::new(&report(&out, "cwd")).canonicalize().unwrap(),
        sub.canonicalize().unwrap()
    );
}

#[test]
fn exit_codes_and_signals_pass_through() {
    let fx = fixture();
    fx.install_ok(
        &fx.source("hello", &manifest("hello", &[("hello", "x")])),
        &[],
    );
    for code in ["0", "1", "3", "42", "255"] {
        let out = fx
            .meta()
            .arg("hello")
            .env("EXIT_WITH", code)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code.parse().unwrap()), "{code}");
        // meta adds nothing of its own to a plugin's failure.
        assert_eq!(stderr(&out), "", "{code}");
    }
    for (signal, code) in [("TERM", 143), ("KILL", 137), ("INT", 130)] {
        let out = fx
            .meta()
            .arg("hello")
            .env("KILL_WITH", signal)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{signal}: {}", stderr(&out));
    }
}

#[test]
fn a_missing_program_is_a_clear_error() {
    let fx = fixture();
    let src = fx.source(
        "broken",
        "api = 1\n[plugin]\nname = \"broken\"\nversion = \"1.0.0\"\n[[command]]\nname = \"broken\"\nexec = [\"no-such-program-for-meta-tests\"]\n",
    );
    fx.install_ok(&src, &[]);
    let out = fx.run(&["broken"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot run `no-such-program-for-meta-tests`"),
        "{err}"
    );
    assert!(
        err.contains("hint: install `no-such-program-for-meta-tests`, or fix `exec`"),
        "{err}"
    );
    assert!(!err.contains("os error"), "{err}");
}

#[test]
fn help_listing_and_completion_read_manifests_only() {
    let fx = fixture();
    let marker = fx.tmp.path().join("ran");
    fx.install_ok(
        &fx.source(
            "hello",
            &manifest("hello", &[("hello", "Say hello"), ("bye", "Say goodbye")]),
        ),
        &[],
    );
    let runs: &[&[&str]] = &[
        &["--help"],
        &["help"],
        &["plugin", "list"],
        &["plugin", "list", "--json"],
        &["plugin", "info", "hello"],
        &["completions", "bash"],
        &["completions", "zsh"],
    ];
    for args in runs {
        let out = fx
            .meta()
            .args(*args)
            .env("MARKER", &marker)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    assert!(
        !marker.exists(),
        "a plugin ran during help, listing or completion"
    );

    let help = stdout(&fx.run(&["--help"]));
    let section = help.split("Plugin commands:").nth(1).expect(&help);
    assert!(
        section.contains("hello") && section.contains("Say hello"),
        "{help}"
    );
    assert!(
        section.contains("bye") && section.contains("Say goodbye"),
        "{help}"
    );
    let builtins = help.split("Plugin commands:").next().unwrap();
    assert!(!builtins.contains("Say hello"), "{help}");
    let completions = stdout(&fx.run(&["completions", "bash"]));
    assert!(completions.contains("hello") && completions.contains("bye"));
    let fish = stdout(&fx.run(&["completions", "fish"]));
    assert!(fish.contains("Say goodbye"), "{fish}");

    // Running it is what starts it.
    let out = fx
        .meta()
        .arg("bye")
        .env("MARKER", &marker)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(marker.exists());
}

#[test]
fn help_for_a_plugin_command_comes_from_the_plugin() {
    let fx = fixture();
    fx.install_ok(
        &fx.source("hello", &manifest("hello", &[("hello", "x")])),
        &[],
    );
    let out = fx.run(&["hello", "--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(report(&out, "args"), "hello --help");
    let out = fx.run(&["help", "hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(report(&out, "args"), "hello --help");
    let out = fx.run(&["help", "hello", "greet"]);
    assert_eq!(report(&out, "args"), "hello greet --help");
}

#[test]
fn enable_and_disable_change_help_and_dispatch() {
    let fx = fixture();
    fx.install_ok(
        &fx.source("hello", &manifest("hello", &[("hello", "Say hello")])),
        &[],
    );
    let out = fx.run(&["plugin", "disable", "hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        fx.config().contains("[plugins.hello]\nenabled = false"),
        "{}",
        fx.config()
    );
    assert!(fx.config().starts_with(CONFIG));

    let help = stdout(&fx.run(&["--help"]));
    assert!(!help.contains("Plugin commands"), "{help}");
    assert!(!help.contains("Say hello"), "{help}");
    let out = fx.run(&["hello"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown command `hello`"), "{err}");
    assert!(
        err.contains("plugin `hello` offers `hello` but is disabled: `meta plugin enable hello`"),
        "{err}"
    );
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&fx.run(&["plugin", "list", "--json"]))).unwrap();
    assert_eq!(listed[0]["enabled"], false);
    // Disabling twice says so and changes nothing.
    let out = fx.run(&["plugin", "disable", "hello"]);
    assert!(stderr(&out).contains("already disabled"));

    let out = fx.run(&["plugin", "enable", "hello"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&fx.run(&["--help"])).contains("Say hello"));
    assert_eq!(fx.run(&["hello"]).status.code(), Some(0));

    let out = fx.run(&["plugin", "enable", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no plugin named `nope` is installed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn no_plugins_runs_with_builtins_only() {
    let fx = fixture();
    fx.install_ok(
        &fx.source("hello", &manifest("hello", &[("hello", "Say hello")])),
        &[],
    );
    for (flag, env) in [(Some("--no-plugins"), None), (None, Some("1"))] {
        let mut help = fx.meta();
        let mut run = fx.meta();
        if let Some(flag) = flag {
            help.arg(flag);
            run.arg(flag);
        }
        if let Some(value) = env {
            help.env("META_NO_PLUGINS", value);
            run.env("META_NO_PLUGINS", value);
        }
        let out = help.arg("--help").output().unwrap();
        assert!(!stdout(&out).contains("Say hello"), "{}", stdout(&out));
        let out = run.arg("hello").output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("plugins are turned off"),
            "{}",
            stderr(&out)
        );
    }
    // `META_NO_PLUGINS=0` does not turn them off.
    let out = fx
        .meta()
        .env("META_NO_PLUGINS", "0")
        .arg("hello")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn clashes_are_refused_and_leave_nothing_behind() {
    let fx = fixture();
    fx.install_ok(&fx.source("one", &manifest("one", &[("go", "Go")])), &[]);
    let tree = fx.tree();
    let config = fx.config();
    let lock = fx.lock();

    let cases: &[(&str, String, &str)] = &[
        (
            "two",
            manifest("two", &[("fly", "Fly"), ("go", "Go too")]),
            "command `go` of plugin `two` clashes with a command of plugin `one`",
        ),
        (
            "three",
            manifest("three", &[("plugin", "Shadow")]),
            "command `plugin` of plugin `three` clashes with a built-in command of meta",
        ),
        (
            "four",
            manifest("four", &[("status", "Mine")]),
            "command `status` of plugin `four` clashes with a built-in command",
        ),
        (
            "help",
            manifest("help", &[("x", "X")]),
            "plugin name `help` clashes with a built-in command",
        ),
        (
            "one",
            manifest("one", &[("go", "Go")]),
            "a plugin named `one` is already installed",
        ),
    ];
    for (folder, text, words) in cases {
        let out = fx.install(&fx.source(folder, text), &[]);
        assert_eq!(out.status.code(), Some(1), "{folder}");
        let err = stderr(&out);
        assert!(err.contains(words), "{folder}: {err}");
        assert!(err.contains("hint:"), "{folder}: {err}");
    }
    assert_eq!(fx.tree(), tree);
    assert_eq!(fx.config(), config);
    assert_eq!(fx.lock(), lock);
    let staging = fx.root.join(".meta/staging");
    assert!(
        !staging.exists() || std::fs::read_dir(&staging).unwrap().count() == 0,
        "staging left behind"
    );

    // `--name` gets around a name clash (not a command clash).
    let out = fx.install(
        &fx.source("help2", &manifest("help", &[("x", "X")])),
        &["--name", "helper"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(fx.root.join("meta/plugins/helper").is_dir());
    assert_eq!(report(&fx.run(&["x"]), "name"), "helper");
    // `--force` replaces.
    fx.install_ok(
        &fx.source("one-v2", &manifest("one", &[("go", "Go"), ("run", "Run")])),
        &["--force"],
    );
    assert_eq!(fx.run(&["run"]).status.code(), Some(0));
}

#[test]
fn tampering_stops_the_plugin_until_it_is_trusted_or_reinstalled() {
    let fx = fixture();
    let src = fx.source("hello", &manifest("hello", &[("hello", "x")]));
    fx.install_ok(&src, &[]);
    let marker = fx.tmp.path().join("ran");
    let installed = fx.root.join("meta/plugins/hello");
    let check_stopped = |what: &str| {
        let out = fx
            .meta()
            .arg("hello")
            .env("MARKER", &marker)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{what}");
        let err = stderr(&out);
        assert!(
            err.contains("plugin `hello` changed since it was installed; it was not run"),
            "{what}: {err}"
        );
        assert!(err.contains("`meta plugin trust hello`"), "{what}: {err}");
        assert!(
            err.contains(&format!(
                "`meta plugin install --force {}`",
                src.canonicalize().unwrap().display()
            )),
            "{what}: {err}"
        );
        assert!(!marker.exists(), "{what}: the plugin ran");
    };

    // An edited file.
    let script = installed.join("report.sh");
    let original = std::fs::read_to_string(&script).unwrap();
    write_exec(&script, &format!("{original}\necho extra\n"));
    check_stopped("edited");
    let info = stdout(&fx.run(&["plugin", "info", "hello", "--json"]));
    assert!(info.contains("\"integrity\": \"modified\""), "{info}");
    write_exec(&script, &original);
    assert_eq!(fx.run(&["hello"]).status.code(), Some(0));
    // A new file.
    std::fs::write(installed.join("extra.py"), "print('hi')\n").unwrap();
    check_stopped("added");
    std::fs::remove_file(installed.join("extra.py")).unwrap();
    // A permission change.
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    check_stopped("chmod");

    // Trusting accepts the current content.
    let out = fx.run(&["plugin", "trust", "hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("Trusted plugin `hello`"));
    assert_eq!(fx.run(&["hello"]).status.code(), Some(0));

    // Reinstalling from the source restores what was installed.
    std::fs::write(installed.join("extra.py"), "print('hi')\n").unwrap();
    check_stopped("added again");
    fx.install_ok(&src, &["--force"]);
    assert!(!installed.join("extra.py").exists());
    assert_eq!(fx.run(&["hello"]).status.code(), Some(0));

    // A plugin folder nobody installed is not run either.
    let stray = fx.root.join("meta/plugins/stray");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::write(
        stray.join("meta-plugin.toml"),
        manifest("stray", &[("stray", "x")]),
    )
    .unwrap();
    write_exec(&stray.join("report.sh"), REPORT_SH);
    let out = fx.run(&["stray"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`meta/plugins.lock` has no hash for it"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("meta plugin trust stray"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn link_installs_for_development_without_a_hash_check() {
    let fx = fixture();
    let src = fx.source("dev", &manifest("dev", &[("dev", "Develop")]));
    let out = fx.install(&src, &["--link"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("Linked plugin `dev`"));
    let link = fx.root.join("meta/plugins/dev");
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    let lock = fx.lock().unwrap();
    assert!(
        lock.contains("linked = true") && !lock.contains("hash ="),
        "{lock}"
    );

    // Edits in the source apply at once, unchecked.
    write_exec(&src.join("report.sh"), "#!/usr/bin/env bash\necho edited\n");
    let out = fx.run(&["dev"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "edited\n");
    let list = stdout(&fx.run(&["plugin", "list"]));
    assert!(list.contains("(linked)"), "{list}");

    let out = fx.run(&["plugin", "uninstall", "dev"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(link.symlink_metadata().is_err());
    assert!(
        src.join("report.sh").is_file(),
        "the linked folder itself must stay"
    );

    // --link with --rev is a usage error.
    let out = fx.install(&src, &["--link", "--rev", "v1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn uninstall_leaves_nothing_behind() {
    let fx = fixture();
    let before_tree = fx.tree();
    let src = fx.source("hello", &manifest("hello", &[("hello", "x")]));
    fx.install_ok(&src, &[]);
    std::fs::create_dir_all(fx.root.join("meta/plugins/hello/__pycache__")).unwrap();
    std::fs::write(fx.root.join("meta/plugins/hello/__pycache__/x.pyc"), "").unwrap();
    let out = fx.run(&["plugin", "uninstall", "hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("Uninstalled plugin `hello` 0.1.0"));
    // The config is byte for byte what the user wrote; no lock, no folder.
    assert_eq!(fx.config(), CONFIG);
    assert_eq!(fx.lock(), None);
    let mut after = fx.tree();
    after.retain(|p| p != "meta/plugins");
    assert_eq!(after, before_tree);
    assert!(!fx.root.join(".meta/staging").exists());

    let out = fx.run(&["plugin", "uninstall", "hello"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no plugin named `hello` is installed"));
    assert!(stderr(&out).contains("hint: run `meta plugin list`"));
}

#[test]
fn list_json_follows_the_contract() {
    let fx = fixture();
    // The built-in file watcher is always there.
    let watch = serde_json::json!({
        "name": "watch", "version": env!("CARGO_PKG_VERSION"), "enabled": true,
        "source": "builtin", "path": null, "commands": [],
        "service": {"state": "stopped", "pid": null, "restarts": 0}
    });
    let out = fx.run(&["plugin", "list", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(value, serde_json::json!([watch]));
    fx.install_ok(
        &fx.source("b-cmd", &manifest("b-cmd", &[("bee", "B")])),
        &[],
    );
    let service = fx.source(
        "a-svc",
        "api = 1\n[plugin]\nname = \"a-svc\"\nversion = \"2.0.0-rc.1\"\n[service]\nexec = [\"./report.sh\"]\n",
    );
    fx.install_ok(&service, &[]);
    let out = fx.run(&["plugin", "list", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let expected = serde_json::json!([
        {
            "name": "a-svc", "version": "2.0.0-rc.1", "enabled": true,
            "source": service.canonicalize().unwrap().display().to_string(),
            "path": "meta/plugins/a-svc", "commands": [],
            "service": {"state": "stopped", "pid": null, "restarts": 0}
        },
        {
            "name": "b-cmd", "version": "0.1.0", "enabled": true,
            "source": fx.src().join("b-cmd").canonicalize().unwrap().display().to_string(),
            "path": "meta/plugins/b-cmd", "commands": ["bee"], "service": null
        },
        watch
    ]);
    assert_eq!(value, expected);
    let human = stdout(&fx.run(&["plugin", "list"]));
    assert!(human.starts_with("NAME"), "{human}");
    assert!(
        human.contains("a-svc") && human.contains("stopped"),
        "{human}"
    );
}

#[test]
fn a_broken_plugin_is_reported_without_breaking_the_others() {
    let fx = fixture();
    fx.install_ok(
        &fx.source("good", &manifest("good", &[("good", "Good one")])),
        &[],
    );
    let broken = fx.root.join("meta/plugins/broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("meta-plugin.toml"),
        "api = 1\n[plugin]\nname = \"broken\"\n",
    )
    .unwrap();
    let out = fx.run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Good one"));
    let err = stderr(&out);
    assert!(err.contains("warning: plugin folder"), "{err}");
    assert!(err.contains("field `plugin.version` is required"), "{err}");
    // Running another plugin's command is not cluttered by it.
    let out = fx.run(&["good"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
    let out = fx.run(&["plugin", "info", "broken"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("plugin `broken` cannot be loaded"),
        "{}",
        stderr(&out)
    );
    let out = fx.run(&["plugin", "enable", "broken"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("its manifest is not valid"),
        "{}",
        stderr(&out)
    );
    // It can still be removed.
    assert_eq!(
        fx.run(&["plugin", "uninstall", "broken"]).status.code(),
        Some(0)
    );
    assert!(!broken.exists());
}

#[test]
fn a_plugin_enabled_in_the_config_without_its_folder_is_reported() {
    let fx = fixture();
    // What a teammate gets when the config was committed and the plugin folder was not.
    std::fs::write(
        fx.root.join("meta/metarepo.toml"),
        format!("{CONFIG}\n[plugins.ghost]\nenabled = true\n"),
    )
    .unwrap();
    let wants = "plugin `ghost` is enabled in the config, but `";
    for args in [&["--help"][..], &["plugin", "list"]] {
        let out = fx.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(stderr(&out).contains(wants), "{args:?}: {}", stderr(&out));
    }
    let out = fx.run(&["health"]);
    assert_eq!(out.status.code(), Some(1));
    let health = stdout(&out);
    assert!(health.contains(wants), "{health}");
    assert!(
        health.contains("`meta plugin uninstall ghost` to forget its config"),
        "{health}"
    );
    let out = fx.run(&["plugin", "uninstall", "ghost"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fx.config(), CONFIG);
    assert_eq!(stderr(&fx.run(&["plugin", "list"])), "");
}

#[test]
fn a_config_that_does_not_load_is_named_when_a_plugin_command_goes_missing() {
    let fx = fixture();
    fx.install_ok(
        &fx.source("hello", &manifest("hello", &[("hello", "x")])),
        &[],
    );
    let config = fx.root.join("meta/metarepo.toml");
    std::fs::write(&config, format!("{}bogus = 1\n", fx.config())).unwrap();
    let out = fx.run(&["hello"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown command `hello`"), "{err}");
    assert!(
        err.contains("plugin commands are not available: the meta-repo config does not load")
            && err.contains("bogus"),
        "{err}"
    );
}

#[test]
fn outside_a_meta_repo_plugin_commands_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path()).args(["plugin", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not inside a meta-repo"),
        "{}",
        stderr(&out)
    );
    // Help still works and lists no plugin commands.
    let out = meta(dir.path()).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout(&out).contains("Plugin commands"));
}

#[test]
fn bad_sources_are_refused() {
    let fx = fixture();
    let out = fx.run(&["plugin", "install", "--", "-x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("starts with `-`"), "{}", stderr(&out));
    let out = fx.run(&["plugin", "install", "git+--upload-pack=touch /tmp/x"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = fx.run(&["plugin", "install", "does/not/exist"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    let out = fx.install(&fx.src(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not a plugin"), "{}", stderr(&out));
    assert_eq!(fx.tree(), ["meta", "meta/metarepo.toml"]);
}

/// Git fixtures: a bare repository holding a plugin at three versions.
mod git {
    use super::*;

    pub fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
        stdout(&out).trim().to_owned()
    }

    /// Returns (bare repo path, commit of v1 tag, commit on branch `next`, commit on main).
    pub fn plugin_repository(fx: &Fixture) -> (PathBuf, String, String, String) {
        let work = fx.tmp.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "-q", "-b", "main"]);
        let write = |version: &str| {
            std::fs::write(
                work.join("meta-plugin.toml"),
                manifest("gitplug", &[("gitplug", "From git")]),
            )
            .unwrap();
            write_exec(
                &work.join("report.sh"),
                &format!("#!/usr/bin/env bash\necho version {version}\n"),
            );
        };
        write("one");
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "one"]);
        git(&work, &["tag", "v1"]);
        let v1 = git(&work, &["rev-parse", "HEAD"]);
        git(&work, &["checkout", "-q", "-b", "next"]);
        write("two");
        git(&work, &["commit", "-q", "-am", "two"]);
        let next = git(&work, &["rev-parse", "HEAD"]);
        git(&work, &["checkout", "-q", "main"]);
        write("three");
        git(&work, &["commit", "-q", "-am", "three"]);
        let main = git(&work, &["rev-parse", "HEAD"]);
        let bare = fx.tmp.path().join("gitplug.git");
        git(
            fx.tmp.path(),
            &["clone", "-q", "--bare", "work", "gitplug.git"],
        );
        (bare, v1, next, main)
    }
}

#[test]
fn install_from_a_bare_git_repository_at_a_tag_a_branch_and_a_commit() {
    let fx = fixture();
    let (bare, v1, next, main) = git::plugin_repository(&fx);
    let bare_text = bare.to_string_lossy().into_owned();
    let installed = fx.root.join("meta/plugins/gitplug");

    let cases: &[(Option<&str>, &str, &str)] = &[
        (Some("v1"), &v1, "version one"),
        (Some("next"), &next, "version two"),
        (Some(&v1[..12]), &v1, "version one"),
        (Some(&next), &next, "version two"),
        (None, &main, "version three"),
    ];
    for (rev, commit, says) in cases {
        let mut args = vec!["plugin", "install", bare_text.as_str(), "--force"];
        if let Some(rev) = rev {
            args.extend(["--rev", rev]);
        }
        let out = fx.run(&args);
        assert_eq!(out.status.code(), Some(0), "{rev:?}: {}", stderr(&out));
        let lock = fx.lock().unwrap();
        assert!(
            lock.contains(&format!("rev = \"{commit}\"")),
            "{rev:?}: {lock}"
        );
        let canonical = bare.canonicalize().unwrap();
        assert!(
            lock.contains(&format!("source = \"git+{}\"", canonical.display())),
            "{lock}"
        );
        assert!(!installed.join(".git").exists(), "{rev:?}: .git copied");
        let out = fx.run(&["gitplug"]);
        assert_eq!(out.status.code(), Some(0), "{rev:?}: {}", stderr(&out));
        assert_eq!(stdout(&out).trim(), *says, "{rev:?}");
        let list: serde_json::Value =
            serde_json::from_str(&stdout(&fx.run(&["plugin", "list", "--json"]))).unwrap();
        assert_eq!(list[0]["source"], format!("git+{}", canonical.display()));
    }

    // The same through a file:// URL with the explicit `git+` prefix.
    fx.run(&["plugin", "uninstall", "gitplug"]);
    let url = format!("git+file://{}", bare.display());
    let out = fx.run(&["plugin", "install", &url, "--rev", "v1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(fx.lock().unwrap().contains(&format!("rev = \"{v1}\"")));

    // Tampering after a git install names the way back, revision included.
    std::fs::write(installed.join("report.sh"), "echo evil\n").unwrap();
    let out = fx.run(&["gitplug"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "meta plugin install --force git+file://{} --rev {v1}",
            bare.display()
        )),
        "{err}"
    );
}

#[test]
fn git_failures_leave_nothing_behind() {
    let fx = fixture();
    let (bare, ..) = git::plugin_repository(&fx);
    let out = fx
        .meta()
        .args(["plugin", "install"])
        .arg(&bare)
        .args(["--rev", "no-such-rev"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("revision `no-such-rev` is not a tag, branch or commit"),
        "{err}"
    );
    let out = fx.run(&["plugin", "install", "file:///nonexistent/repo.git"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot fetch"), "{}", stderr(&out));
    let out = fx
        .meta()
        .args(["plugin", "install"])
        .arg(&bare)
        .args(["--rev", "-b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(fx.tree(), ["meta", "meta/metarepo.toml"]);
    assert!(!fx.root.join(".meta/staging").exists());
}

/// The Python venv with pyzmq that tests driving Python peers need (`.ci/run` makes one).
fn venv() -> PathBuf {
    let venv = std::env::var_os("META_TEST_VENV").map(PathBuf::from).expect(
        "META_TEST_VENV is not set: these tests need a Python venv with pyzmq; `bash .ci/run` creates one, or run `META_TEST_VENV=/path/to/venv cargo test`",
    );
    assert!(
        venv.join("bin/python3").is_file(),
        "META_TEST_VENV={} has no bin/python3",
        venv.display()
    );
    venv
}

/// PATH with the venv's `python3` first, so plugins' `python3` finds pyzmq.
fn venv_path(venv: &Path) -> std::ffi::OsString {
    let mut paths = vec![venv.join("bin")];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

const LISTEN_PY: &str = r#"
import os, sys, zmq
endpoint = os.environ["META_BUS_INGEST"]
os.makedirs(os.path.dirname(endpoint[len("ipc://"):]), mode=0o700, exist_ok=True)
ctx = zmq.Context()
pull = ctx.socket(zmq.PULL)
pull.bind(endpoint)
print("ready", flush=True)
if not pull.poll(20000):
    sys.exit("listen.py: no event within 20 s")
print(pull.recv().decode(), flush=True)
"#;

#[test]
fn the_python_example_greets_and_publishes_with_pyzmq() {
    let venv = venv();
    let fx = fixture();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello-python");
    fx.install_ok(&example, &[]);
    // Stands in for the daemon's ingest socket: a PULL bound where every plugin is told to push.
    let listener = fx.src().join("listener");
    std::fs::create_dir_all(&listener).unwrap();
    std::fs::write(
        listener.join("meta-plugin.toml"),
        "api = 1\n[plugin]\nname = \"listener\"\nversion = \"0.1.0\"\n[[command]]\nname = \"listen\"\nexec = [\"python3\", \"listen.py\"]\n",
    )
    .unwrap();
    std::fs::write(listener.join("listen.py"), LISTEN_PY).unwrap();
    fx.install_ok(&listener, &[]);

    let path = venv_path(&venv);
    let runtime = fx.tmp.path().join("run");
    let mut listen = std::process::Command::new(env!("CARGO_BIN_EXE_meta"));
    listen
        .current_dir(&fx.root)
        .arg("listen")
        .env("PATH", &path)
        .env("XDG_RUNTIME_DIR", &runtime)
        .stdout(std::process::Stdio::piped());
    let mut child = listen.spawn().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stdout_pipe = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout_pipe).lines() {
            if lines_tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let ready = lines.recv_timeout(Duration::from_secs(30));
    assert_eq!(ready.as_deref(), Ok("ready"), "the listener did not start");

    let out = fx
        .meta()
        .args(["hello-py", "Ada"])
        .env("PATH", &path)
        .env("XDG_RUNTIME_DIR", &runtime)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "Hello, Ada! (plugin hello-py in meta-repo repo)"
    );
    let event = lines
        .recv_timeout(Duration::from_secs(30))
        .expect("the example's event reached the ingest socket");
    let event: serde_json::Value = serde_json::from_str(&event).unwrap();
    assert_eq!(event["type"], "hello:greeted");
    assert_eq!(event["source"], "/plugins/hello-py");
    assert_eq!(event["data"], serde_json::json!({"name": "Ada"}));
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");

    // Its help comes from the plugin, as for any plugin command.
    let out = fx
        .meta()
        .args(["help", "hello-py"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("Usage: meta hello-py"),
        "{}",
        stdout(&out)
    );
}

//! The example plugin, run as `meta` would run it. `cargo test` builds the crate's examples
//! before its tests, so the binary sits in `target/<profile>/examples/`.

// Test helpers fail the test loudly on a broken setup.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/example-<hash> → target/<profile>/examples/<name>
    let exe = std::env::current_exe().expect("the test binary has a path");
    let profile_dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("test binaries live in target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.is_file(),
        "example `{name}` is not built at {}; `cargo test -p meta-plugin-sdk` builds it",
        path.display()
    );
    path
}

fn plugin_env(cmd: &mut Command, root: &std::path::Path) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("META_ROOT", root)
        .env("META_PLUGIN_NAME", "hello-rs")
        .env("META_PLUGIN_DIR", root.join("meta/plugins/hello-rs"))
        .env("META_API", "1")
        .env("META_BUS_INGEST", "ipc:///tmp/none/ingest.sock")
        .env("META_BUS_EVENTS", "ipc:///tmp/none/events.sock")
        .env("META_BUS_CONTROL", "ipc:///tmp/none/control.sock");
}

#[test]
fn greets_from_the_plugin_environment() {
    let root = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(example("hello"));
    plugin_env(&mut cmd, root.path());
    let out = cmd.arg("Ada").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let repo = root.path().file_name().unwrap().to_string_lossy();
    assert_eq!(
        text.trim(),
        format!("Hello, Ada! (plugin hello-rs in meta-repo {repo})")
    );
}

#[test]
fn outside_meta_it_says_what_is_missing() {
    let out = Command::new(example("hello")).env_clear().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`META_ROOT` is not set"), "{err}");
    assert!(err.contains("started by `meta`"), "{err}");
}

#[test]
fn help_needs_no_environment() {
    let out = Command::new(example("hello"))
        .env_clear()
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Usage: meta hello-rs"));
}

#[test]
fn its_manifest_is_valid() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/hello");
    let manifest = meta_plugin::Manifest::load(&dir).unwrap();
    assert_eq!(manifest.name, "hello-rs");
    assert_eq!(manifest.commands[0].exec, ["./hello"]);
}

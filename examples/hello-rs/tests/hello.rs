//! The example plugin on its own, run as `meta` would run it but without `meta`: its
//! environment handling and its manifest. Running it through the real `meta` and daemon is in
//! `crates/meta-cli/tests/plugin_services.rs`.

// Test helpers fail the test loudly on a broken setup.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn example() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hello-rs"))
}

#[test]
fn greets_from_the_plugin_environment_and_logs_without_a_daemon() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("meta")).unwrap();
    std::fs::write(
        root.path().join("meta/metarepo.toml"),
        "[metarepo]\nname = \"t\"\n",
    )
    .unwrap();
    let mut cmd = example();
    plugin_env(&mut cmd, root.path());
    let out = cmd.args(["greet", "Ada"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let repo = root.path().file_name().unwrap().to_string_lossy();
    assert_eq!(
        text.trim(),
        format!("Hello, Ada! (plugin hello-rs in meta-repo {repo})")
    );
    // No daemon: the event was appended to the log by the plugin itself.
    let log = std::fs::read_dir(root.path().join(".meta/events"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    let event: serde_json::Value = serde_json::from_str(log.trim()).unwrap();
    assert_eq!(event["type"], "hello-rs:greeted");
    assert_eq!(event["source"], "/plugins/hello-rs");
    assert_eq!(event["data"]["name"], "Ada");
}

fn plugin_env(cmd: &mut Command, root: &Path) {
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
fn outside_meta_it_says_what_is_missing() {
    let out = example().env_clear().arg("greet").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`META_ROOT` is not set"), "{err}");
    assert!(err.contains("started by `meta`"), "{err}");
    let out = example().env_clear().arg("serve").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = example().env_clear().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected `greet` or `serve`"));
}

#[test]
fn help_needs_no_environment() {
    let out = example()
        .env_clear()
        .args(["greet", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Usage: meta hello-rs"));
}

#[test]
fn its_manifest_is_valid() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let manifest = meta_plugin::Manifest::load(&dir).unwrap();
    assert_eq!(manifest.name, "hello-rs");
    assert_eq!(manifest.commands[0].exec, ["./hello-rs", "greet"]);
    let service = manifest.service.unwrap();
    assert_eq!(service.exec, ["./hello-rs", "serve"]);
    assert_eq!(
        service.subscribe,
        ["hello-rs:greeted", "core:repo:branch-switched"]
    );
}

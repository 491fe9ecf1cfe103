//! The command-line framework itself: help, version, usage errors, completions, `-C`.

use crate::common::{meta, stderr, stdout};

#[test]
fn help_lists_builtin_commands_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path()).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("Commands:"), "{text}");
    assert!(text.contains("completions"), "{text}");
    assert!(text.contains("-C <DIR>"), "{text}");
    // No colour codes when not asked and not on a terminal.
    assert!(!text.contains('\u{1b}'), "{text}");
}

#[test]
fn version_prints_crate_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path()).arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out).trim(),
        format!("meta {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_command_is_a_usage_error_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path()).arg("completion").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: unknown command `completion`"),
        "{err}"
    );
    assert!(
        err.contains("hint: a command with a similar name exists: `completions`"),
        "{err}"
    );
}

#[test]
fn bad_flag_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("tcsh"));
}

#[test]
fn no_command_shows_help_as_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Usage: meta"));
}

#[test]
fn completions_cover_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef meta"),
        ("fish", "complete -c meta"),
    ] {
        let out = meta(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("completions"), "{shell}");
    }
}

#[test]
fn help_subcommand_shows_a_commands_help() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path())
        .args(["help", "completions"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Usage: meta completions"));
    let out = meta(dir.path()).args(["help", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn missing_directory_for_dash_c_says_what_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let out = meta(dir.path())
        .arg("-C")
        .arg(&missing)
        .arg("help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("cannot run in"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(!err.contains("os error"), "{err}");
}

#[test]
fn color_always_colours_help() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path())
        .args(["--color", "always", "--help"])
        .output()
        .unwrap();
    assert!(stdout(&out).contains('\u{1b}'));
}

//! Helpers shared by the end-to-end tests.

pub mod daemon;

use std::path::Path;

use assert_cmd::Command;

/// The real `meta` binary, run with a clean environment: no colour, no inherited `META_*`
/// variables, and a private runtime folder so tests never share sockets.
pub fn meta(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("meta").expect("the meta binary is built by cargo test");
    cmd.current_dir(cwd);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("META_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env_remove("NO_COLOR").env("TERM", "dumb");
    cmd
}

/// Standard output of a finished command as text.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error of a finished command as text.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

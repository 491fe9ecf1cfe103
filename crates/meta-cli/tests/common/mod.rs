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

/// [`meta`] for commands that run `git` on fixtures: the developer's git config kept out, and
/// local `file://` remotes allowed for submodules (git refuses them by default; fixtures only).
pub fn meta_git(cwd: &Path) -> Command {
    let mut cmd = meta(cwd);
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "protocol.file.allow")
        .env("GIT_CONFIG_VALUE_0", "always")
        .env("GIT_TERMINAL_PROMPT", "0")
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

//! Helpers shared by the end-to-end tests.

pub mod daemon;
pub mod nats;
pub mod repos;
pub mod zmtp;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// Upper bound for anything a test waits on.
const WAIT: Duration = Duration::from_secs(30);

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

/// A throw-away meta-repo for bus tests: the config written directly (no `meta init`), with
/// `events_config` as its `[events]` table and the built-in file watcher off (it would add
/// events of its own to exact counts).
pub fn bus_metarepo(events_config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir_all(dir.path().join("meta")).expect("meta/ is created");
    std::fs::write(
        dir.path().join("meta/metarepo.toml"),
        format!(
            "[metarepo]\nname = \"t\"\n\n[plugins.watch]\nenabled = false\n\n[events]\n{events_config}"
        ),
    )
    .expect("the config is written");
    dir
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
        .envs(GIT_IDENTITY)
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

/// Who commits in tests (`meta commit` runs `git commit`; the global config is kept out).
pub const GIT_IDENTITY: [(&str, &str); 4] = [
    ("GIT_AUTHOR_NAME", "Meta Test"),
    ("GIT_AUTHOR_EMAIL", "meta@example.invalid"),
    ("GIT_COMMITTER_NAME", "Meta Test"),
    ("GIT_COMMITTER_EMAIL", "meta@example.invalid"),
];

/// The events of types starting with `prefix` in the meta-repo at `root`'s log, as
/// `meta events tail PREFIX --json` prints them (one JSON object per line).
pub fn logged_events(root: &Path, prefix: &str) -> Vec<serde_json::Value> {
    let out = meta_git(root)
        .args(["events", "tail", prefix, "--json"])
        .output()
        .expect("meta runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|line| serde_json::from_str(line).expect("tail --json prints JSON lines"))
        .collect()
}

/// [`meta`] as a plain `std::process::Command`, for children a test runs alongside itself.
pub fn meta_child(cwd: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("meta"));
    cmd.current_dir(cwd).args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("META_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env_remove("NO_COLOR").env("TERM", "dumb");
    cmd
}

/// A child process killed when the test ends, however it ends.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` and parses each line of its standard output on a thread, in order.
pub fn follow_lines<T: Send + 'static>(
    mut cmd: std::process::Command,
    parse: fn(&str) -> T,
) -> (ChildGuard, mpsc::Receiver<T>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the command starts");
    let out = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(parse(&line)).is_err() {
                break;
            }
        }
    });
    (ChildGuard(child), rx)
}

/// Polls `done` until it holds; fails the test naming `what` after [`WAIT`].
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `meta ARGS` in the background until `entered` appears, kills it with SIGKILL, lets
/// the blocked git go on (`release`), and waits until `settled` holds.
pub fn kill_meta_when(
    root: &Path,
    args: &[&str],
    entered: &Path,
    release: &Path,
    settled: impl FnMut() -> bool,
) {
    let mut child = meta_child(root, args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .envs(GIT_IDENTITY)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("meta starts");
    wait_until("meta to reach the blocking git", || entered.exists());
    child.kill().expect("meta is killed");
    child.wait().expect("meta is reaped");
    std::fs::write(release, "").expect("the release mark is written");
    wait_until("the orphaned git to finish", settled);
    std::fs::remove_file(entered).expect("the entered mark is removed");
    std::fs::remove_file(release).expect("the release mark is removed");
}

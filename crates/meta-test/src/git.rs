//! Running `git` for fixtures: deterministic identity and dates, the developer's own config kept
//! out, and `protocol.file.allow=always` so `file://` submodules work (fixtures only).

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::FixtureError;

/// Identity and date every fixture commit carries, so commit ids are the same on every run.
pub const AUTHOR_NAME: &str = "fixture";
pub const AUTHOR_EMAIL: &str = "fixture@example.invalid";
pub const DATE: &str = "2026-01-01T00:00:00Z";
/// [`DATE`] as seconds since the epoch, for `git fast-import`.
pub const DATE_EPOCH: u64 = 1_767_225_600;

/// Variables that would point git at some other repository than the one we name.
const REPO_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_PREFIX",
];

/// A `git` invocation in `dir` with the fixture environment.
pub struct Git {
    dir: PathBuf,
    args: Vec<std::ffi::OsString>,
    stdin: Option<Vec<u8>>,
    as_user: bool,
}

/// `git` in `dir` (which must exist) with the fixture environment.
pub fn git(dir: &Path) -> Git {
    Git {
        dir: dir.to_path_buf(),
        args: Vec::new(),
        stdin: None,
        as_user: false,
    }
}

/// `git` in `dir` as the user runs it: their config applies (as it does to `meta`, so answers
/// compare), and `--no-optional-locks` keeps it from refreshing the index behind our back.
pub fn git_as_user(dir: &Path) -> Git {
    Git {
        as_user: true,
        ..git(dir)
    }
}

impl Git {
    #[must_use]
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Bytes fed to git's standard input.
    #[must_use]
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.dir).env("LC_ALL", "C");
        for name in REPO_ENV {
            cmd.env_remove(name);
        }
        if self.as_user {
            cmd.arg("--no-optional-locks").args(&self.args);
            return cmd;
        }
        cmd
            // Fixture-only settings: never written into any repository's config.
            .args(["-c", "init.defaultBranch=main"])
            .args(["-c", "protocol.file.allow=always"])
            .args(["-c", "advice.detachedHead=false"])
            .args(["-c", "advice.addEmbeddedRepo=false"])
            .args(["-c", "advice.mergeConflict=false"])
            .args(&self.args)
            .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
            .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
            .env("GIT_COMMITTER_NAME", AUTHOR_NAME)
            .env("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL)
            .env("GIT_AUTHOR_DATE", DATE)
            .env("GIT_COMMITTER_DATE", DATE)
            // The developer's config (signing, hooks, aliases) must not shape fixtures.
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0");
        cmd
    }

    /// Runs git and returns its output whatever the exit code.
    pub fn output(self) -> Result<Output, FixtureError> {
        let mut cmd = self.command();
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let spawn_error = |source| FixtureError::Spawn {
            args: self.describe(),
            source,
        };
        let mut child = cmd.spawn().map_err(spawn_error)?;
        if let (Some(bytes), Some(mut input)) = (&self.stdin, child.stdin.take()) {
            // A write error shows up as git's own failure below, with its stderr.
            let _ = input.write_all(bytes);
        }
        child.wait_with_output().map_err(spawn_error)
    }

    /// Runs git, fails unless it exits 0, and returns its standard output.
    pub fn run(self) -> Result<String, FixtureError> {
        let args = self.describe();
        let out = self.output()?;
        if !out.status.success() {
            return Err(FixtureError::Git {
                args,
                code: out.status.code(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn describe(&self) -> String {
        let mut text = format!("git (in {})", self.dir.display());
        for arg in &self.args {
            text.push(' ');
            text.push_str(&arg.to_string_lossy());
        }
        text
    }
}

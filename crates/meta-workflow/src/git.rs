//! Running `git` to change repositories: in a named folder, with the variables that would point
//! it at another repository removed, standard input closed, and failures kept with their stderr.
//!
//! Argument safety (DESIGN.md section 7) is the callers' duty and is easy to keep: user values
//! go after `--` where git takes paths, and [`looks_like_option`] guards the rest.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use meta_repo::ObjectId;

/// Variables that would make git act on another repository than the folder we name (set, for
/// instance, when `meta` runs from a git hook).
const REPO_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
];

/// Why a git command failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run `{command}`")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed{}{}", code.map(|c| format!(" (exit code {c})")).unwrap_or_default(), if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Failed {
        command: String,
        code: Option<i32>,
        stderr: String,
    },
    #[error("`{command}` did not finish within {seconds} s and was stopped")]
    TimedOut { command: String, seconds: u64 },
}

/// A `git` command to run in one folder.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    args: Vec<OsString>,
    no_prompt: bool,
    input: Option<Vec<u8>>,
    limit: Option<Duration>,
    vars: Vec<(OsString, OsString)>,
}

/// `git` run in `dir`.
pub fn git(dir: &Path) -> Git {
    Git {
        dir: dir.to_path_buf(),
        args: Vec::new(),
        no_prompt: false,
        input: None,
        limit: None,
        vars: Vec::new(),
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

    /// Never ask for credentials on the terminal: many of these run at once, and a prompt
    /// would hang one of them behind a progress display. Credential helpers still answer.
    #[must_use]
    pub fn no_prompt(mut self) -> Self {
        self.no_prompt = true;
        self
    }

    /// An environment variable for this git only (`GIT_INDEX_FILE` for a temporary index).
    #[must_use]
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.vars
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Bytes git reads on its standard input (otherwise it reads none).
    #[must_use]
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.input = Some(bytes.into());
        self
    }

    /// Stops git (and fails with [`GitError::TimedOut`]) when it has not finished within
    /// `limit`: for calls that reach the network, so no command hangs on a dead remote.
    #[must_use]
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The command as a person would type it (for messages).
    pub fn describe(&self) -> String {
        let mut text = String::from("git");
        for arg in &self.args {
            text.push(' ');
            text.push_str(&arg.to_string_lossy());
        }
        text
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.dir)
            .args(&self.args)
            .stdin(if self.input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for name in REPO_ENV {
            cmd.env_remove(name);
        }
        if self.no_prompt {
            cmd.env("GIT_TERMINAL_PROMPT", "0");
        }
        cmd.envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs git and returns its output whatever the exit code.
    pub fn output(&self) -> Result<Output, GitError> {
        if self.input.is_some() || self.limit.is_some() {
            return self.output_watched();
        }
        self.command().output().map_err(|source| GitError::Spawn {
            command: self.describe(),
            source,
        })
    }

    /// [`Git::output`] feeding standard input and watching the clock. Pipes are read on
    /// threads so a chatty git never blocks on a full pipe; on time-out git is killed and the
    /// readers are left to finish when its pipes close.
    fn output_watched(&self) -> Result<Output, GitError> {
        use std::io::{Read, Write};
        let spawn_error = |source| GitError::Spawn {
            command: self.describe(),
            source,
        };
        let mut child = self.command().spawn().map_err(spawn_error)?;
        let writer = child.stdin.take().map(|mut pipe| {
            let input = self.input.clone().unwrap_or_default();
            std::thread::spawn(move || {
                // git may stop reading early (and fail); its exit says what went wrong.
                let _ = pipe.write_all(&input);
            })
        });
        let read = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                bytes
            })
        };
        let stdout = read(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let stderr = read(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let deadline = self.limit.map(|limit| Instant::now() + limit);
        // Most calls end within milliseconds: polling starts fine and backs off to 10 ms, so
        // a fast git is not kept waiting up to a whole period (it adds up over many calls).
        let mut pause = Duration::from_micros(250);
        let status = loop {
            if let Some(status) = child.try_wait().map_err(spawn_error)? {
                break status;
            }
            if let Some(deadline) = deadline
                && Instant::now() >= deadline
            {
                let _ = child.kill();
                let _ = child.wait();
                return Err(GitError::TimedOut {
                    command: self.describe(),
                    seconds: self.limit.map_or(0, |l| l.as_secs()),
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        };
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        Ok(Output {
            status,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        })
    }

    /// Runs git; fails unless it exits 0; returns standard output.
    pub fn run(&self) -> Result<String, GitError> {
        let out = self.output()?;
        if !out.status.success() {
            return Err(self.failure(&out));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs git and says whether it exited 0 (for questions like `merge-base --is-ancestor`);
    /// a git that cannot start is still an error.
    pub fn succeeds(&self) -> Result<bool, GitError> {
        Ok(self.output()?.status.success())
    }

    /// The error for a finished command that failed.
    pub fn failure(&self, out: &Output) -> GitError {
        GitError::Failed {
            command: self.describe(),
            code: out.status.code(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        }
    }
}

/// Is `value` something git could take for an option, wherever it lands on its command line?
pub fn looks_like_option(value: &str) -> bool {
    value.starts_with('-')
}

/// The git folder of the repository at `dir` (`.git`, or where a `.git` file points).
pub fn absolute_git_dir(dir: &Path) -> Result<PathBuf, GitError> {
    let out = git(dir).args(["rev-parse", "--absolute-git-dir"]).run()?;
    Ok(PathBuf::from(out.trim_end_matches(['\n', '\r'])))
}

/// The commit `reference` names in the repository at `dir`, if it exists (`None` also for a
/// name that is not a commit). `reference` must not start with `-` (callers pass `refs/…`,
/// `HEAD` or object ids).
pub fn rev_parse(dir: &Path, reference: &str) -> Result<Option<ObjectId>, GitError> {
    let out = git(dir)
        .args([
            "rev-parse",
            "-q",
            "--verify",
            "--end-of-options",
            &format!("{reference}^{{commit}}"),
        ])
        .output()?;
    if !out.status.success() {
        return Ok(None);
    }
    Ok(ObjectId::from_hex(String::from_utf8_lossy(&out.stdout).trim().as_bytes()).ok())
}

/// Where the symbolic ref `name` (`HEAD`, `refs/remotes/origin/HEAD`) points, with `prefix`
/// taken off (`refs/heads/`); `None` when it is not symbolic (a detached HEAD), missing, or
/// points outside `prefix`.
pub fn symbolic_ref(dir: &Path, name: &str, prefix: &str) -> Result<Option<String>, GitError> {
    let out = git(dir).args(["symbolic-ref", "-q", name]).output()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim()
        .strip_prefix(prefix)
        .filter(|rest| !rest.is_empty())
        .map(str::to_owned))
}

/// Does the repository at `dir` hold the commit `id`?
pub fn has_commit(dir: &Path, id: ObjectId) -> Result<bool, GitError> {
    git(dir)
        .args(["cat-file", "-e", &format!("{id}^{{commit}}")])
        .succeeds()
}

/// Is `ancestor` an ancestor of `descendant` (or the same commit)? False too when either is
/// missing from the repository at `dir`.
pub fn is_ancestor(dir: &Path, ancestor: ObjectId, descendant: ObjectId) -> Result<bool, GitError> {
    git(dir)
        .args([
            "merge-base",
            "--is-ancestor",
            &ancestor.to_string(),
            &descendant.to_string(),
        ])
        .succeeds()
}

/// `git rev-list --count ARGS` in `dir` (ARGS are revisions and `--not`, never user text).
pub fn count(dir: &Path, args: &[&str]) -> Result<usize, GitError> {
    let out = git(dir).args(["rev-list", "--count"]).args(args).run()?;
    Ok(out.trim().parse().unwrap_or(0))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "tests: a panic is the test failing, and says where"
)]
mod tests {
    use super::*;

    #[test]
    fn stdin_reaches_git_and_a_time_limit_stops_it() {
        let dir = std::env::temp_dir();
        let hashed = git(&dir)
            .args(["hash-object", "--stdin"])
            .stdin("hello\n")
            .timeout(Duration::from_secs(30))
            .run()
            .unwrap();
        assert_eq!(hashed.trim(), "ce013625030ba8dba906f756967f9e9ca394464a");

        // An alias that sleeps: git runs it through the shell and must be cut off.
        let started = Instant::now();
        let error = git(&dir)
            .args(["-c", "alias.nap=!sleep 20", "nap"])
            .timeout(Duration::from_millis(300))
            .run()
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(matches!(error, GitError::TimedOut { .. }), "{error}");
    }
}

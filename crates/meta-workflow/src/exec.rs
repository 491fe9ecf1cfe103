//! One command in many projects at once, results handed back in project order.
//!
//! The command runs directly (no shell, unless the user names one: `sh -c '…'`) in each
//! project's folder, with standard input closed (many run at once) and its output captured,
//! so each project's output stays together whatever the order they finish in.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use meta_repo::Project;
use meta_workspace::env;

/// What to run, and how.
#[derive(Debug, Clone)]
pub struct ExecRun<'a> {
    /// The meta-repo's root (projects' paths are relative to it).
    pub root: &'a Path,
    /// The program and its arguments.
    pub argv: &'a [OsString],
    /// Commands running at once.
    pub jobs: usize,
    /// Start no new command once one has failed.
    pub fail_fast: bool,
}

/// How the command went in one project.
#[derive(Debug)]
pub enum ExecOutcome {
    /// It ran and ended.
    Finished {
        status: ExitStatus,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
        duration: Duration,
    },
    /// It could not be started (program not found, not executable, folder gone).
    CannotStart {
        error: std::io::Error,
        duration: Duration,
    },
    /// `fail_fast` stopped it from starting.
    NotRun,
}

impl ExecOutcome {
    /// It ran and exited 0.
    pub fn succeeded(&self) -> bool {
        matches!(self, ExecOutcome::Finished { status, .. } if status.success())
    }

    /// The exit code, when it exited (not when a signal ended it).
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            ExecOutcome::Finished { status, .. } => status.code(),
            _ => None,
        }
    }

    /// The signal that ended it, if one did.
    pub fn signal(&self) -> Option<i32> {
        match self {
            ExecOutcome::Finished { status, .. } => {
                std::os::unix::process::ExitStatusExt::signal(status)
            }
            _ => None,
        }
    }

    pub fn duration(&self) -> Duration {
        match self {
            ExecOutcome::Finished { duration, .. } | ExecOutcome::CannotStart { duration, .. } => {
                *duration
            }
            ExecOutcome::NotRun => Duration::ZERO,
        }
    }
}

/// Runs `run.argv` in every project of `projects` (all initialised), `run.jobs` at a time, and
/// calls `ready` once per project **in the order of `projects`**, each as soon as it and every
/// project before it are done, so output can stream in a stable order.
///
/// Each command gets `META_ROOT`, `META_PROJECT_PATH` (relative to the root),
/// `META_PROJECT_NAME` and `META_PROJECT_GROUP` (empty outside a group).
pub fn exec(run: &ExecRun<'_>, projects: &[Project], mut ready: impl FnMut(usize, ExecOutcome)) {
    let Some((program, args)) = run.argv.split_first() else {
        return;
    };
    let work = |_: usize, project: &Project| {
        let started = Instant::now();
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(run.root.join(&project.path))
            .env(env::META_ROOT, run.root)
            .env(env::META_PROJECT_PATH, &project.path)
            .env(env::META_PROJECT_NAME, &project.name)
            .env(
                env::META_PROJECT_GROUP,
                project.group.as_deref().unwrap_or_default(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // `output` drains both pipes together, so a chatty command never blocks on a full one.
        match command.output() {
            Ok(output) => ExecOutcome::Finished {
                status: output.status,
                stdout: output.stdout,
                stderr: output.stderr,
                duration: started.elapsed(),
            },
            Err(error) => ExecOutcome::CannotStart {
                error,
                duration: started.elapsed(),
            },
        }
    };
    let mut slots: Vec<Option<ExecOutcome>> = Vec::new();
    slots.resize_with(projects.len(), || None);
    let mut next_ready = 0;
    let fail_fast = run.fail_fast;
    crate::pool::run(
        projects,
        run.jobs,
        work,
        |outcome| fail_fast && !outcome.succeeded(),
        |i, outcome| {
            slots[i] = Some(outcome);
            while let Some(outcome) = slots.get_mut(next_ready).and_then(Option::take) {
                ready(next_ready, outcome);
                next_ready += 1;
            }
        },
    );
    // Whatever is left never started.
    for (i, slot) in slots.iter_mut().enumerate().skip(next_ready) {
        ready(i, slot.take().unwrap_or(ExecOutcome::NotRun));
    }
}

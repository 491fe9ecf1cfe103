//! The operating-system side of a service: starting it into its own process group with its
//! output going to its log, noticing its exit without polling, signalling it, and reading
//! what it said last.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Instant;

use meta_daemon::Waker;
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};

/// A service log past this size is moved to `<name>.log.1` when the service next starts.
const LOG_ROTATE_BYTES: u64 = 1 << 20;
/// How much of the log's end is read to quote a failing service's last words.
const TAIL_BYTES: u64 = 4096;
/// Lines the host writes into a service log start with this, so they are never quoted as the
/// service's own output.
pub(crate) const NOTE_PREFIX: &str = "[meta ";

/// A running service process: the leader of its own process group.
pub(crate) struct Proc {
    pub child: Child,
    pub pid: u32,
    pub started: Instant,
}

/// Opens `path` for appending, rotating it first when it grew too large.
fn open_log(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
        let mut old = path.as_os_str().to_owned();
        old.push(".1");
        std::fs::rename(path, PathBuf::from(old))?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

/// Appends `[meta <time>] text` to the service log. Best effort: a log that cannot be written
/// must not stop supervision (the same text is in the daemon's status and its own log).
pub(crate) fn note(log: &Path, text: &str) {
    if let Ok(mut file) = open_log(log) {
        let _ = writeln!(file, "{NOTE_PREFIX}{}] {text}", meta_events::time::now());
    }
}

/// Starts `command` with no stdin, stdout and stderr appended to `log`, in a new process group
/// (so stopping it reaches whatever it started, and a terminal's Ctrl-C never does).
pub(crate) fn spawn(mut command: Command, log: &Path) -> std::io::Result<Proc> {
    let file = open_log(log)?;
    command
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .process_group(0);
    let child = command.spawn()?;
    Ok(Proc {
        pid: child.id(),
        child,
        started: Instant::now(),
    })
}

fn pid(raw: u32) -> Option<Pid> {
    Pid::from_raw(i32::try_from(raw).ok()?)
}

/// Sends `signal` to the process group led by `leader`. Only called while the leader is
/// unreaped or right after reaping it, when the kernel cannot have reused the group's id.
pub(crate) fn signal_group(leader: u32, signal: Signal) {
    if let Some(pid) = pid(leader) {
        let _ = rustix::process::kill_process_group(pid, signal);
    }
}

/// Wakes the daemon's loop when the child `raw` exits, from a thread that waits for it without
/// reaping it (`WNOWAIT`): the daemon's thread alone reaps, so it never signals a recycled pid.
/// Returns false when no thread could be started (the caller then polls).
pub(crate) fn watch_exit(raw: u32, waker: Waker) -> bool {
    let Some(pid) = pid(raw) else { return false };
    std::thread::Builder::new()
        .name(format!("service-{raw}"))
        .spawn(move || {
            while let Err(rustix::io::Errno::INTR) = rustix::process::waitid(
                WaitId::Pid(pid),
                WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
            ) {}
            waker.wake();
        })
        .is_ok()
}

/// `exited with status 3`, `was killed by signal 9 (SIGKILL)`.
pub(crate) fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => {
            let name = match signal {
                1 => " (SIGHUP)",
                2 => " (SIGINT)",
                3 => " (SIGQUIT)",
                6 => " (SIGABRT)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                13 => " (SIGPIPE)",
                15 => " (SIGTERM)",
                _ => "",
            };
            format!("was killed by signal {signal}{name}")
        }
        (None, None) => "ended".to_owned(),
    }
}

/// The last line the service itself wrote to its log, shortened, if any.
pub(crate) fn last_output(log: &Path) -> Option<String> {
    const MAX: usize = 200;
    let mut file = File::open(log).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)))
        .ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    let text = String::from_utf8_lossy(&tail);
    let line = text
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty() && !line.starts_with(NOTE_PREFIX))?;
    if line.chars().count() > MAX {
        let cut: String = line.chars().take(MAX).collect();
        Some(format!("{cut}…"))
    } else {
        Some(line.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_output_skips_the_hosts_own_notes() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("x.log");
        assert_eq!(last_output(&log), None);
        std::fs::write(&log, "starting\nTraceback: boom\n\n").unwrap();
        note(&log, "exited with status 1");
        assert_eq!(last_output(&log).as_deref(), Some("Traceback: boom"));
        std::fs::write(&log, "x".repeat(300)).unwrap();
        assert_eq!(last_output(&log).unwrap().chars().count(), 201);
    }

    #[test]
    fn a_large_log_is_rotated_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs/x.log");
        std::fs::create_dir_all(log.parent().unwrap()).unwrap();
        std::fs::write(&log, vec![b'a'; 2 << 20]).unwrap();
        let mut proc = spawn(Command::new("true"), &log).unwrap();
        assert!(proc.child.wait().unwrap().success());
        assert_eq!(std::fs::metadata(&log).unwrap().len(), 0);
        assert_eq!(
            std::fs::metadata(dir.path().join("logs/x.log.1"))
                .unwrap()
                .len(),
            2 << 20
        );
    }

    #[test]
    fn exit_statuses_read_well() {
        let status = Command::new("sh").args(["-c", "exit 3"]).status().unwrap();
        assert_eq!(describe(status), "exited with status 3");
        let status = Command::new("sh")
            .args(["-c", "kill -9 $$"])
            .status()
            .unwrap();
        assert_eq!(describe(status), "was killed by signal 9 (SIGKILL)");
    }
}

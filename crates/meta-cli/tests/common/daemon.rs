//! A real daemon for a test, stopped when the test ends however it ends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{meta, stderr, stdout};

/// `meta daemon start` in `root`; `meta daemon stop` (then `kill -9`) on drop.
pub struct DaemonGuard {
    root: PathBuf,
}

impl DaemonGuard {
    pub fn start(root: &Path) -> Self {
        let out = meta(root)
            .args(["daemon", "start"])
            .timeout(Duration::from_secs(30))
            .output()
            .expect("meta runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "meta daemon start failed:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        Self {
            root: root.to_path_buf(),
        }
    }
}

impl DaemonGuard {
    /// Stops on drop whatever daemon runs in `root` (one started otherwise, or none).
    pub fn adopt(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }
}

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        let run_dir = self.root.join(".meta/run");
        let pid = meta_events::state::read(&run_dir).map(|s| s.pid);
        let _ = meta(&self.root)
            .args(["daemon", "stop"])
            .timeout(Duration::from_secs(20))
            .output();
        if meta_events::lock::daemon_running(&run_dir)
            && let Some(pid) = pid
        {
            kill9(pid);
        }
    }
}

pub fn kill9(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status();
}

//! `watch-limit`: the inotify watch limit leaves room for watching this tree (one watch per
//! folder the watcher does not skip).

use super::{Check, Health, Outcome, always};

pub const CHECK: Check = Check {
    name: "watch-limit",
    applies: always,
    run,
};

fn run(health: &Health) -> Outcome {
    let ignore = match &health.config {
        Ok(config) => config.watch.ignore.clone(),
        Err(_) => meta_workspace::config::WatchConfig::default().ignore,
    };
    let folders = match meta_watch::count_watched_dirs(&health.root, &ignore) {
        Ok(folders) => folders,
        Err(error) => {
            return Outcome::warn(
                format!("cannot count the folders to watch: {error}"),
                "check that every folder of the meta-repo can be read",
            );
        }
    };
    judge(folders, meta_watch::max_user_watches())
}

/// Past half the limit other watchers (editors, build tools) may take the rest.
fn judge(folders: usize, limit: Option<u64>) -> Outcome {
    let Some(limit) = limit else {
        return Outcome::warn(
            format!("{folders} folders to watch; the inotify watch limit cannot be read"),
            "check `/proc/sys/fs/inotify/max_user_watches` (file events need Linux inotify)",
        );
    };
    let folders_u64 = u64::try_from(folders).unwrap_or(u64::MAX);
    let suggested = (folders_u64.saturating_mul(4))
        .max(65_536)
        .next_power_of_two();
    let fix = format!(
        "raise it: `sudo sysctl fs.inotify.max_user_watches={suggested}`, and keep it with a line `fs.inotify.max_user_watches={suggested}` in /etc/sysctl.d/90-meta.conf"
    );
    if folders_u64 >= limit {
        Outcome::fail(
            format!(
                "{folders} folders to watch but the inotify limit is {limit}: file events would miss changes"
            ),
            fix,
        )
    } else if folders_u64 > limit / 2 {
        Outcome::warn(
            format!("{folders} folders to watch take more than half the inotify limit ({limit})"),
            fix,
        )
    } else {
        Outcome::pass(format!("{folders} folders to watch, inotify limit {limit}"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Level;
    use super::judge;

    #[test]
    fn limits_are_judged() {
        assert_eq!(judge(100, Some(8192)).level, Level::Pass);
        assert_eq!(judge(5000, Some(8192)).level, Level::Warn);
        let full = judge(9000, Some(8192));
        assert_eq!(full.level, Level::Fail);
        assert!(full.fix[0].contains("max_user_watches=65536"));
        assert_eq!(judge(100, None).level, Level::Warn);
    }
}

//! File descriptors: the daemon raises its own limit and never lets peers take the last ones.
//!
//! Every connection is a descriptor. Without a ceiling below the process limit, a burst of
//! connections used them all, and the next `accept` of a libzmq listener aborted the daemon.
//! The bus's connection ceilings are fitted under the limit with a reserve left for the log,
//! plugin services and control.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors kept for the daemon's own use beyond those open at start: log segments, plugin
/// services' pipes and logs, the status command's reads.
pub const RESERVE: usize = 64;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (a default soft limit of 1024 is far
/// below what a bus serving many peers needs) and returns the soft limit now in force.
pub fn raise_limit() -> usize {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(error) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(%error, "cannot raise the open-file limit to the hard limit");
        }
    }
    let current = getrlimit(Resource::Nofile).current;
    current.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// Descriptors open now (0 when `/proc` cannot tell).
pub fn open_now() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// The connection ceilings that fit: `(publishers and subscribers together, control)`.
pub fn fit(limit: usize, open: usize, wanted_bus: usize, wanted_control: usize) -> (usize, usize) {
    let available = limit.saturating_sub(open.saturating_add(RESERVE));
    let control = wanted_control.min((available / 8).max(1));
    let bus = wanted_bus.min(available.saturating_sub(control));
    (bus, control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_fit_under_the_limit_with_the_reserve_left() {
        // Plenty: the configured ceilings stand.
        assert_eq!(fit(1 << 20, 30, 4096, 64), (4096, 64));
        // A soft limit of 1024: control keeps its share, the rest is the bus's.
        let (bus, control) = fit(1024, 30, 4096, 64);
        assert_eq!(control, 64);
        assert_eq!(bus + control + 30 + RESERVE, 1024);
        // Almost nothing left: control still gets one, the bus none.
        assert_eq!(fit(90, 30, 4096, 64), (0, 1));
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let limit = raise_limit();
        let hard = getrlimit(Resource::Nofile).maximum;
        assert_eq!(Some(limit as u64), hard.or(Some(usize::MAX as u64)));
        assert!(open_now() >= 3);
    }
}

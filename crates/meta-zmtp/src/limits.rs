//! What one peer, one server and all servers together may hold, and the counters of what was
//! refused. No peer can crash, stall or bloat the process that runs these servers: every
//! connection, every buffered byte and every subscription has a ceiling.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The limits of one server (ingest, events or control).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections the server holds at once; more are accepted and closed at once (counted).
    pub max_connections: usize,
    /// Largest frame read. Past it, a PULL server skips the frame's bytes as they arrive and
    /// reports it as oversized; the other servers close the connection.
    pub max_frame: u64,
    /// XPUB: distinct prefixes one subscriber may hold, and their bytes together. Past either,
    /// the subscriber is told why and disconnected.
    pub max_subscriptions: usize,
    pub max_subscription_bytes: usize,
    /// XPUB: messages, and bytes, queued for one subscriber before it misses the next ones.
    pub hwm_messages: usize,
    pub hwm_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 2048,
            max_frame: 1024 * 1024,
            max_subscriptions: 1000,
            max_subscription_bytes: 64 * 1024,
            hwm_messages: 100_000,
            hwm_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Ceilings shared by every server of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedLimits {
    /// Connections of all servers together, except those of servers bound with
    /// [`Budget::reserved`] (the control socket keeps its own).
    pub max_connections: usize,
    /// Input buffered across all connections. Past it, buffers do not grow: a connection
    /// that needs more waits (not read) until memory is freed; small messages keep flowing.
    pub max_input_bytes: usize,
    /// Output queued for all subscribers. Past it, a subscriber holding more than its fair
    /// share (this divided by the subscribers) misses the next messages.
    pub max_output_bytes: usize,
}

impl Default for SharedLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            max_input_bytes: 256 * 1024 * 1024,
            max_output_bytes: 256 * 1024 * 1024,
        }
    }
}

/// The shared ceilings and what is in use. Servers on one thread share it; the counts are
/// atomics only so that servers can move between threads.
#[derive(Debug, Clone)]
pub struct Budget(Arc<BudgetInner>);

#[derive(Debug)]
struct BudgetInner {
    limits: SharedLimits,
    /// A reserved budget: its connections do not count against the shared ceiling.
    reserved: bool,
    connections: AtomicUsize,
    input: AtomicUsize,
    output: AtomicUsize,
    shared: Option<Budget>,
}

impl Budget {
    pub fn new(limits: SharedLimits) -> Self {
        Self(Arc::new(BudgetInner {
            limits,
            reserved: false,
            connections: AtomicUsize::new(0),
            input: AtomicUsize::new(0),
            output: AtomicUsize::new(0),
            shared: None,
        }))
    }

    /// A budget whose connections are its server's own (not taken from this one's ceiling),
    /// while its buffers still count here: what keeps the control socket reachable while the
    /// other sockets are full.
    #[must_use]
    pub fn reserved(&self) -> Self {
        Self(Arc::new(BudgetInner {
            limits: self.0.limits,
            reserved: true,
            connections: AtomicUsize::new(0),
            input: AtomicUsize::new(0),
            output: AtomicUsize::new(0),
            shared: Some(self.clone()),
        }))
    }

    pub fn limits(&self) -> SharedLimits {
        self.0.limits
    }

    /// Connections held against the shared ceiling.
    pub fn connections(&self) -> usize {
        self.0.connections.load(Ordering::Relaxed)
    }

    /// Input bytes buffered, output bytes queued, across servers.
    pub fn input_bytes(&self) -> usize {
        self.root().0.input.load(Ordering::Relaxed)
    }

    pub fn output_bytes(&self) -> usize {
        self.root().0.output.load(Ordering::Relaxed)
    }

    fn root(&self) -> &Budget {
        self.0.shared.as_ref().unwrap_or(self)
    }

    /// Takes a connection if the ceiling allows it.
    pub(crate) fn take_connection(&self) -> bool {
        if self.0.reserved {
            self.0.connections.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        let counter = &self.0.connections;
        let held = counter.load(Ordering::Relaxed);
        if held >= self.0.limits.max_connections {
            return false;
        }
        counter.store(held + 1, Ordering::Relaxed);
        true
    }

    pub(crate) fn release_connection(&self) {
        let _ = self
            .0
            .connections
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// Grows the input held by `by` bytes if the ceiling allows it.
    pub(crate) fn take_input(&self, by: usize) -> bool {
        let counter = &self.root().0.input;
        let held = counter.load(Ordering::Relaxed);
        if held.saturating_add(by) > self.0.limits.max_input_bytes {
            return false;
        }
        counter.store(held + by, Ordering::Relaxed);
        true
    }

    /// Records input held whatever the ceiling (a connection's first buffer).
    pub(crate) fn force_input(&self, by: usize) {
        self.root().0.input.fetch_add(by, Ordering::Relaxed);
    }

    pub(crate) fn release_input(&self, by: usize) {
        let _ = self
            .root()
            .0
            .input
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(by))
            });
    }

    pub(crate) fn adjust_output(&self, from: usize, to: usize) {
        let counter = &self.root().0.output;
        if to >= from {
            counter.fetch_add(to - from, Ordering::Relaxed);
        } else {
            let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(from - to))
            });
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new(SharedLimits::default())
    }
}

/// Why a server closed or refused a connection: each kind has its counter in [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A greeting or handshake the server cannot accept (wrong version, mechanism or socket
    /// type, a message before READY), or one not finished in time.
    Handshake,
    /// A frame or command that breaks ZMTP (reserved bits, a second READY, bad metadata).
    Malformed,
    /// A frame over the server's limit that cannot be skipped (not on PULL).
    Oversized,
    /// Subscriptions over their count or byte limit.
    Subscriptions,
    /// The peer's heartbeat TTL ran out without a message.
    Heartbeat,
}

/// What a server refused or dropped since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted and kept.
    pub accepted: u64,
    /// Connections refused at once (over a connection ceiling).
    pub refused_connections: u64,
    /// Connections closed during the handshake: bad greeting, version, mechanism or socket
    /// type, or a handshake not finished in time.
    pub refused_handshakes: u64,
    /// Connections closed for a frame or command that breaks ZMTP.
    pub malformed: u64,
    /// Frames over the size limit: skipped on PULL (the connection kept), else closed.
    pub oversized: u64,
    /// Subscribers disconnected for holding too many subscriptions or subscription bytes.
    pub refused_subscriptions: u64,
    /// Connections closed because their heartbeat TTL ran out.
    pub heartbeat_timeouts: u64,
    /// Messages not queued for a subscriber at its message or byte mark.
    pub dropped: u64,
}

impl Stats {
    pub(crate) fn count(&mut self, failure: Failure) {
        let counter = match failure {
            Failure::Handshake => &mut self.refused_handshakes,
            Failure::Malformed => &mut self.malformed,
            Failure::Oversized => &mut self.oversized,
            Failure::Subscriptions => &mut self.refused_subscriptions,
            Failure::Heartbeat => &mut self.heartbeat_timeouts,
        };
        *counter += 1;
    }

    /// The sum of two servers' counts.
    #[must_use]
    pub fn plus(self, other: Self) -> Self {
        Self {
            accepted: self.accepted + other.accepted,
            refused_connections: self.refused_connections + other.refused_connections,
            refused_handshakes: self.refused_handshakes + other.refused_handshakes,
            malformed: self.malformed + other.malformed,
            oversized: self.oversized + other.oversized,
            refused_subscriptions: self.refused_subscriptions + other.refused_subscriptions,
            heartbeat_timeouts: self.heartbeat_timeouts + other.heartbeat_timeouts,
            dropped: self.dropped + other.dropped,
        }
    }
}

/// Lets a warning through at most once per [`Throttle::EVERY`], saying how many were held
/// back: a flood of refusals is one log line per interval, not one per refusal.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    last: Option<Instant>,
    held: u64,
}

impl Throttle {
    const EVERY: Duration = Duration::from_secs(10);

    /// `Some(held back since the last one)` when a line may be logged now.
    pub(crate) fn allow(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < Self::EVERY)
        {
            self.held += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_stop_at_the_shared_ceiling_but_a_reserved_budget_has_its_own() {
        let budget = Budget::new(SharedLimits {
            max_connections: 2,
            ..SharedLimits::default()
        });
        assert!(budget.take_connection());
        assert!(budget.take_connection());
        assert!(!budget.take_connection());
        let control = budget.reserved();
        assert!(control.take_connection());
        assert_eq!(budget.connections(), 2);
        budget.release_connection();
        assert!(budget.take_connection());
    }

    #[test]
    fn input_counts_across_reserved_budgets_and_never_underflows() {
        let budget = Budget::new(SharedLimits {
            max_input_bytes: 100,
            ..SharedLimits::default()
        });
        let control = budget.reserved();
        assert!(control.take_input(60));
        assert!(!budget.take_input(50));
        assert_eq!(budget.input_bytes(), 60);
        control.release_input(1000);
        assert_eq!(budget.input_bytes(), 0);
        budget.adjust_output(0, 10);
        budget.adjust_output(10, 4);
        assert_eq!(budget.output_bytes(), 4);
    }

    #[test]
    fn the_throttle_lets_one_line_through_per_interval_and_counts_the_rest() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        assert_eq!(throttle.allow(start), Some(0));
        assert_eq!(throttle.allow(start + Duration::from_secs(1)), None);
        assert_eq!(throttle.allow(start + Duration::from_secs(2)), None);
        assert_eq!(throttle.allow(start + Throttle::EVERY), Some(2));
    }
}

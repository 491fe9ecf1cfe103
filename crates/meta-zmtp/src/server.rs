//! The three servers (PULL, XPUB, ROUTER), over a shared set of listeners and peers.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use crate::ZmtpError;
use crate::limits::{Budget, Failure, Limits, Stats, Throttle};
use crate::net::Listener;
use crate::peer::{Next, Peer, Role};

#[doc(hidden)]
pub mod fuzzing;

/// A file descriptor the caller's poll should watch, for reading and/or writing. (Neither is
/// possible: a listener resting after running out of descriptors; errors still show.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    pub fd: RawFd,
    pub read: bool,
    pub write: bool,
}

/// What the poll reported for one [`Interest`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readiness {
    pub readable: bool,
    pub writable: bool,
}

/// A message taken from a [`PullServer`].
#[derive(Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// A single-frame message.
    Frame(&'a [u8]),
    /// A message of this many frames (the content is not kept).
    Frames(usize),
    /// A single frame over the size limit: its bytes were skipped as they arrived.
    Oversized,
}

/// A request taken from a [`RouterServer`]: the peer to answer and the message's frames.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub peer: u64,
    pub frames: Vec<Vec<u8>>,
}

/// Messages taken from one peer before the next gets its turn (PULL queues fairly).
const FAIR_SHARE: usize = 256;
/// Reads from one peer in one visit that yield no message before moving on (a peer sending
/// only commands cannot hold the server).
const READS_PER_VISIT: usize = 16;
/// Connections accepted (or refused) per listener in one turn: a connection flood does not
/// hold the loop.
const ACCEPTS_PER_TURN: usize = 256;
/// How long listeners rest after the process ran out of file descriptors (a pending
/// connection keeps a listener readable; polling it meanwhile would spin).
const ACCEPT_REST: Duration = Duration::from_millis(100);
/// A connection that has not finished its handshake by then is closed (libzmq's
/// `ZMQ_HANDSHAKE_IVL` default): a port scanner or a stuck client does not hold a descriptor.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Server {
    role: Role,
    limits: Limits,
    budget: Budget,
    listeners: Vec<Listener>,
    peers: Vec<Peer>,
    next_id: u64,
    /// Accepting rests until then (out of file descriptors).
    accept_rest: Option<Instant>,
    /// The earliest handshake or heartbeat deadline of a peer: the caller's poll wakes then.
    next_deadline: Option<Instant>,
    handshake_limit: Duration,
    stats: Stats,
    refusals: Throttle,
}

impl Server {
    fn bind(
        endpoints: &[String],
        role: Role,
        limits: Limits,
        budget: Budget,
    ) -> Result<Self, ZmtpError> {
        let listeners = endpoints
            .iter()
            .map(|e| Listener::bind(e))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            role,
            limits,
            budget,
            listeners,
            peers: Vec::new(),
            next_id: 0,
            accept_rest: None,
            next_deadline: None,
            handshake_limit: HANDSHAKE_LIMIT,
            stats: Stats::default(),
            refusals: Throttle::default(),
        })
    }

    /// Drops closed peers, and those whose handshake or heartbeat time ran out, counting why.
    fn reap(&mut self, now: Instant) {
        let limit = self.handshake_limit;
        let stats = &mut self.stats;
        let mut next_deadline: Option<Instant> = None;
        self.peers.retain(|peer| {
            if peer.closed {
                if let Some(failure) = peer.failure {
                    stats.count(failure);
                }
                return false;
            }
            let handshake_ends = (!peer.is_open()).then(|| peer.accepted + limit);
            if handshake_ends.is_some_and(|at| at <= now) {
                stats.count(Failure::Handshake);
                return false;
            }
            if peer.ttl_deadline.is_some_and(|at| at <= now) {
                tracing::debug!("dropping a bus peer whose heartbeat TTL ran out");
                stats.count(Failure::Heartbeat);
                return false;
            }
            for at in [handshake_ends, peer.ttl_deadline].into_iter().flatten() {
                next_deadline = Some(next_deadline.map_or(at, |n| n.min(at)));
            }
            true
        });
        self.next_deadline = next_deadline;
    }

    fn interests(&mut self, out: &mut Vec<Interest>) {
        let now = Instant::now();
        self.reap(now);
        if self.accept_rest.is_some_and(|until| until <= now) {
            self.accept_rest = None;
        }
        let accepting = self.accept_rest.is_none();
        out.extend(self.listeners.iter().map(|l| Interest {
            fd: l.fd(),
            read: accepting,
            write: false,
        }));
        out.extend(self.peers.iter().map(|p| Interest {
            fd: p.stream.fd(),
            read: p.may_read(),
            write: p.wants_write(),
        }));
    }

    /// When the caller's poll must wake for this server even if nothing arrives.
    fn wake_at(&self) -> Option<Instant> {
        match (self.accept_rest, self.next_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Takes the poll's results for what [`Self::interests`] gave; returns how many it used.
    /// Readable listeners accept; readable peers are marked; writable peers are flushed.
    fn ready(&mut self, readiness: &[Readiness]) -> usize {
        let (listeners, peers) = readiness.split_at(self.listeners.len().min(readiness.len()));
        for (peer, ready) in self.peers.iter_mut().zip(peers) {
            peer.readable |= ready.readable;
            if ready.writable {
                peer.flush();
            }
        }
        let used = self.listeners.len() + self.peers.len().min(peers.len());
        if self.accept_rest.is_none() && listeners.iter().any(|r| r.readable) {
            self.accept();
        }
        used
    }

    fn accept(&mut self) {
        for index in 0..self.listeners.len() {
            for _ in 0..ACCEPTS_PER_TURN {
                match self.listeners[index].accept() {
                    Ok(Some(stream)) => {
                        if !self.make_room() {
                            // Accepted and closed at once: the peer learns now, the listener
                            // stays drained, and no descriptor is held.
                            drop(stream);
                            self.stats.refused_connections += 1;
                            if let Some(held) = self.refusals.allow(Instant::now()) {
                                tracing::warn!(
                                    socket = self.role.ours,
                                    connections = self.peers.len(),
                                    per_socket_limit = self.limits.max_connections,
                                    shared_limit = self.budget.limits().max_connections,
                                    refused_since_last_warning = held,
                                    "refusing bus connections: too many open (raise \
                                     [events].max_connections if this is expected)"
                                );
                            }
                            continue;
                        }
                        self.next_id += 1;
                        let mut peer = Peer::new(
                            self.next_id,
                            stream,
                            self.role,
                            self.limits,
                            self.budget.clone(),
                        );
                        peer.flush();
                        self.stats.accepted += 1;
                        self.peers.push(peer);
                    }
                    Ok(None) => break,
                    Err(error) => {
                        // Out of descriptors, most likely: the connection stays pending and the
                        // listener readable, so rest instead of polling it in a spin.
                        tracing::warn!(
                            %error,
                            connections = self.peers.len(),
                            "cannot accept a bus connection; retrying in 100 ms (raise `ulimit -n`?)"
                        );
                        self.accept_rest = Some(Instant::now() + ACCEPT_REST);
                        return;
                    }
                }
            }
        }
    }

    fn has_pending_input(&self) -> bool {
        self.peers.iter().any(Peer::has_pending_input)
    }

    /// Takes a connection from the server's and the shared ceiling. When either is full, makes
    /// room by closing the stalest connection that has not earned its place (counted as
    /// refused), so idle connections cannot lock real clients out; false when there is none.
    fn make_room(&mut self) -> bool {
        if self.peers.len() < self.limits.max_connections && self.budget.take_connection() {
            return true;
        }
        if !Self::evict(&mut self.peers, self.role) {
            return false;
        }
        self.stats.refused_connections += 1;
        self.budget.take_connection()
    }

    /// Closes the oldest connection still in its handshake (or, for control, the oldest idle
    /// one: a request takes milliseconds); false when there is none.
    fn evict(peers: &mut Vec<Peer>, role: Role) -> bool {
        let stale = peers
            .iter()
            .position(|p| !p.closed && !p.is_open())
            .or_else(|| {
                role.evict_idle
                    .then(|| peers.iter().position(|p| p.is_open() && p.parts.is_empty()))
                    .flatten()
            });
        match stale {
            Some(index) => {
                tracing::debug!("closing a stale bus connection to make room for a new one");
                peers.remove(index);
                true
            }
            None => false,
        }
    }

    fn open_peers(&self) -> usize {
        self.peers.iter().filter(|p| p.is_open()).count()
    }
}

/// The next thing from `peer`, reading (up to [`READS_PER_VISIT`] times) while it has none.
fn next_reading(peer: &mut Peer, reads: &mut usize) -> Next {
    loop {
        let next = peer.next();
        if !matches!(next, Next::NeedInput)
            || !peer.readable
            || peer.closed
            || *reads >= READS_PER_VISIT
        {
            return next;
        }
        *reads += 1;
        match peer.read() {
            Ok(true) => {}
            Ok(false) => return Next::NeedInput,
            Err(error) => {
                tracing::debug!(%error, peer = peer.id, "a bus connection failed");
                return Next::NeedInput;
            }
        }
    }
}

/// Methods every server has, over its inner [`Server`].
macro_rules! common_methods {
    () => {
        /// Closes connections that have not finished their handshake within `limit` (30 s
        /// unless set).
        #[must_use]
        pub fn with_handshake_limit(mut self, limit: Duration) -> Self {
            self.server.handshake_limit = limit;
            self
        }

        /// Appends what to poll, in the order `ready` expects the results.
        pub fn interests(&mut self, out: &mut Vec<Interest>) {
            self.server.interests(out);
        }

        /// Input is waiting that would be taken without a poll (reading stopped early, for
        /// fairness or the caller's batch): poll without waiting.
        pub fn has_pending_input(&self) -> bool {
            self.server.has_pending_input()
        }

        /// When the caller's poll must wake even if nothing arrives: listeners accept again
        /// after running out of descriptors, or a handshake or heartbeat deadline passes.
        pub fn wake_at(&self) -> Option<Instant> {
            self.server.wake_at()
        }

        /// Connected peers (handshake done).
        pub fn peers(&self) -> usize {
            self.server.open_peers()
        }

        /// What this server accepted, refused and dropped since it started.
        pub fn stats(&self) -> Stats {
            self.server.stats
        }
    };
}

/// The ingest socket: PUSH peers send messages, taken fairly across peers.
#[derive(Debug)]
pub struct PullServer {
    server: Server,
    /// The peer whose turn it is, and how many messages it had in this turn.
    current: usize,
    taken: usize,
}

impl PullServer {
    /// Binds every endpoint, with default limits but frames up to `max_frame` bytes.
    pub fn bind(endpoints: &[String], max_frame: u64) -> Result<Self, ZmtpError> {
        let limits = Limits {
            max_frame,
            ..Limits::default()
        };
        Self::bind_with(endpoints, limits, Budget::default())
    }

    /// Binds every endpoint. Frames over `limits.max_frame` are skipped as they arrive and
    /// reported as [`Message::Oversized`].
    pub fn bind_with(
        endpoints: &[String],
        limits: Limits,
        budget: Budget,
    ) -> Result<Self, ZmtpError> {
        let role = Role {
            ours: "PULL",
            peers: &["PUSH"],
            subscriptions: false,
            skip_oversized: true,
            evict_idle: false,
        };
        Ok(Self {
            server: Server::bind(endpoints, role, limits, budget)?,
            current: 0,
            taken: 0,
        })
    }

    common_methods!();

    /// Takes the results for [`Self::interests`]; returns how many of `readiness` it used.
    pub fn ready(&mut self, readiness: &[Readiness]) -> usize {
        self.server.ready(readiness)
    }

    /// The next message from any peer, without waiting.
    pub fn recv(&mut self) -> Option<Message<'_>> {
        let mut visited = 0;
        let mut reads = 0;
        let (index, range) = loop {
            let count = self.server.peers.len();
            if count == 0 || visited >= count {
                return None;
            }
            let index = self.current % count;
            let peer = &mut self.server.peers[index];
            let (range, more) = match next_reading(peer, &mut reads) {
                Next::Data { range, more } => (Some(range), more),
                Next::Skipped { more } => {
                    self.server.stats.oversized += 1;
                    (None, more)
                }
                // PULL peers have no subscriptions.
                Next::Subscription { .. } => continue,
                Next::NeedInput => {
                    self.current = index + 1;
                    self.taken = 0;
                    reads = 0;
                    visited += 1;
                    continue;
                }
            };
            if more {
                peer.partial_frames += 1;
                continue;
            }
            let frames = std::mem::take(&mut peer.partial_frames);
            self.taken += 1;
            if self.taken >= FAIR_SHARE {
                self.current = index + 1;
                self.taken = 0;
            }
            match range {
                _ if frames > 0 => return Some(Message::Frames(frames + 1)),
                None => return Some(Message::Oversized),
                Some(range) => break (index, range),
            }
        };
        Some(Message::Frame(self.server.peers[index].input(range)))
    }
}

/// The events socket: SUB peers subscribe to prefixes; each published message goes to every
/// peer with a matching prefix, or is dropped for a peer at its message or byte mark.
#[derive(Debug)]
pub struct XPubServer {
    server: Server,
}

impl XPubServer {
    /// Binds every endpoint with default limits; a subscriber lagging by `hwm` messages
    /// misses the next ones.
    pub fn bind(endpoints: &[String], hwm: usize) -> Result<Self, ZmtpError> {
        let limits = Limits {
            hwm_messages: hwm,
            ..Limits::default()
        };
        Self::bind_with(endpoints, limits, Budget::default())
    }

    /// Binds every endpoint. Frames from subscribers are subscriptions: over
    /// `limits.max_frame` the subscriber is disconnected.
    pub fn bind_with(
        endpoints: &[String],
        mut limits: Limits,
        budget: Budget,
    ) -> Result<Self, ZmtpError> {
        let role = Role {
            ours: "XPUB",
            peers: &["SUB", "XSUB"],
            subscriptions: true,
            skip_oversized: false,
            evict_idle: false,
        };
        limits.hwm_messages = limits.hwm_messages.max(1);
        Ok(Self {
            server: Server::bind(endpoints, role, limits, budget)?,
        })
    }

    common_methods!();

    /// Takes the results for [`Self::interests`] (reading subscriptions and writing queued
    /// messages); returns how many of `readiness` it used.
    pub fn ready(&mut self, readiness: &[Readiness]) -> usize {
        let used = self.server.ready(readiness);
        for peer in &mut self.server.peers {
            let mut reads = 0;
            loop {
                match next_reading(peer, &mut reads) {
                    Next::Subscription { subscribe, range } => peer.subscribe(range, subscribe),
                    // Frames of an XSUB that are not subscriptions: nothing to do with them.
                    Next::Data { .. } | Next::Skipped { .. } => {}
                    Next::NeedInput => break,
                }
            }
        }
        used
    }

    /// Connected subscribers (handshake done).
    pub fn subscribers(&self) -> usize {
        self.server.open_peers()
    }

    /// Messages dropped for subscribers at their marks, since the start.
    pub fn dropped(&self) -> u64 {
        self.server.stats.dropped
    }

    /// Queues `topic` + `body` (two frames) for every matching subscriber, and returns how many
    /// matched (queued or dropped: the work it took). Nothing is written until [`Self::flush`],
    /// so a batch leaves in one write per subscriber. A subscriber misses the message when it has `hwm_messages` or
    /// `hwm_bytes` queued, or when all subscribers together hold the shared output ceiling and
    /// it holds more than its share.
    pub fn publish(&mut self, topic: &[u8], body: &[u8]) -> usize {
        let size = crate::frame::frame_len(topic.len()) + crate::frame::frame_len(body.len());
        let limits = self.server.limits;
        let budget = &self.server.budget;
        let total_limit = budget.limits().max_output_bytes;
        // The share only matters once the ceiling is near; counting subscribers is then worth it.
        let share = if budget.output_bytes().saturating_mul(2) > total_limit {
            total_limit / self.server.open_peers().max(1)
        } else {
            usize::MAX
        };
        let mut matched = 0;
        for peer in &mut self.server.peers {
            if !peer.is_open() || !peer.matches(topic) {
                continue;
            }
            matched += 1;
            let queued = peer.queued_bytes() + size;
            let over_shared = budget.output_bytes() + size > total_limit && queued > share;
            if peer.queued.len() >= limits.hwm_messages || queued > limits.hwm_bytes || over_shared
            {
                self.server.stats.dropped += 1;
                continue;
            }
            let Some(output) = peer.output() else {
                continue;
            };
            crate::frame::write_frame(output, crate::frame::MORE, topic);
            crate::frame::write_frame(output, 0, body);
            let end = output.len();
            peer.queued.push_back(end);
            peer.sync_output();
        }
        matched
    }

    /// Writes what each subscriber has queued, as far as its socket takes it now.
    pub fn flush(&mut self) {
        for peer in &mut self.server.peers {
            if peer.wants_write() {
                peer.flush();
            }
        }
    }

    /// File descriptors with output still queued (to wait on before exiting).
    pub fn pending(&self) -> Vec<RawFd> {
        self.server
            .peers
            .iter()
            .filter(|p| p.wants_write() && !p.closed)
            .map(|p| p.stream.fd())
            .collect()
    }
}

/// The control socket: REQ, DEALER or ROUTER peers send requests; each answer goes back on
/// the connection it came from, after the request's envelope (every frame but the last: the
/// empty delimiter a REQ sends).
#[derive(Debug)]
pub struct RouterServer {
    server: Server,
    current: usize,
}

impl RouterServer {
    /// Binds every endpoint. A frame over `limits.max_frame` closes its connection.
    pub fn bind_with(
        endpoints: &[String],
        limits: Limits,
        budget: Budget,
    ) -> Result<Self, ZmtpError> {
        let role = Role {
            ours: "ROUTER",
            peers: &["REQ", "DEALER", "ROUTER"],
            subscriptions: false,
            skip_oversized: false,
            evict_idle: true,
        };
        Ok(Self {
            server: Server::bind(endpoints, role, limits, budget)?,
            current: 0,
        })
    }

    common_methods!();

    /// Takes the results for [`Self::interests`]; returns how many of `readiness` it used.
    pub fn ready(&mut self, readiness: &[Readiness]) -> usize {
        self.server.ready(readiness)
    }

    /// The next whole request from any peer, without waiting; peers take turns.
    pub fn recv(&mut self) -> Option<Request> {
        let count = self.server.peers.len();
        for _ in 0..count {
            let index = self.current % count;
            self.current = index + 1;
            let peer = &mut self.server.peers[index];
            let mut reads = 0;
            loop {
                match next_reading(peer, &mut reads) {
                    Next::Data { range, more } => {
                        peer.keep_part(range);
                        if !more && !peer.closed {
                            let frames = std::mem::take(&mut peer.parts);
                            return Some(Request {
                                peer: peer.id,
                                frames,
                            });
                        }
                    }
                    Next::Skipped { .. } | Next::Subscription { .. } => {}
                    Next::NeedInput => break,
                }
            }
        }
        None
    }

    /// Sends `envelope` then `body` to the peer that sent a request; false when that peer
    /// has gone.
    pub fn reply(&mut self, peer: u64, envelope: &[Vec<u8>], body: &[u8]) -> bool {
        let Some(peer) = self
            .server
            .peers
            .iter_mut()
            .find(|p| p.id == peer && p.is_open())
        else {
            return false;
        };
        let Some(output) = peer.output() else {
            return false;
        };
        for frame in envelope {
            crate::frame::write_frame(output, crate::frame::MORE, frame);
        }
        crate::frame::write_frame(output, 0, body);
        peer.flush();
        true
    }
}

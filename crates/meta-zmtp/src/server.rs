//! The two servers, over a shared set of listeners and peers.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use crate::ZmtpError;
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
}

/// Messages taken from one peer before the next gets its turn (PULL queues fairly).
const FAIR_SHARE: usize = 256;
/// Reads from one peer in one visit that yield no message before moving on (a peer sending
/// only commands cannot hold the server).
const READS_PER_VISIT: usize = 16;
/// How long listeners rest after the process ran out of file descriptors (a pending
/// connection keeps a listener readable; polling it meanwhile would spin).
const ACCEPT_REST: Duration = Duration::from_millis(100);
/// A connection that has not finished its handshake by then is closed (libzmq's
/// `ZMQ_HANDSHAKE_IVL` default): a port scanner or a stuck client does not hold a descriptor.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Server {
    role: Role,
    max_frame: u64,
    listeners: Vec<Listener>,
    peers: Vec<Peer>,
    /// Accepting rests until then (out of file descriptors).
    accept_rest: Option<Instant>,
    handshake_limit: Duration,
}

impl Server {
    fn bind(endpoints: &[String], role: Role, max_frame: u64) -> Result<Self, ZmtpError> {
        let listeners = endpoints
            .iter()
            .map(|e| Listener::bind(e))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            role,
            max_frame,
            listeners,
            peers: Vec::new(),
            accept_rest: None,
            handshake_limit: HANDSHAKE_LIMIT,
        })
    }

    fn interests(&mut self, out: &mut Vec<Interest>) {
        let limit = self.handshake_limit;
        self.peers
            .retain(|peer| !peer.closed && (peer.is_open() || peer.accepted.elapsed() < limit));
        if self
            .accept_rest
            .is_some_and(|until| until <= Instant::now())
        {
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
            read: true,
            write: p.wants_write(),
        }));
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
        for listener in &self.listeners {
            loop {
                match listener.accept() {
                    Ok(Some(stream)) => {
                        let mut peer = Peer::new(stream, self.role, self.max_frame);
                        peer.flush();
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
    /// Binds every endpoint. Frames larger than `max_frame` bytes close their connection.
    pub fn bind(endpoints: &[String], max_frame: u64) -> Result<Self, ZmtpError> {
        let role = Role {
            ours: "PULL",
            peers: &["PUSH"],
            subscriptions: false,
        };
        Ok(Self {
            server: Server::bind(endpoints, role, max_frame)?,
            current: 0,
            taken: 0,
        })
    }

    /// Closes connections that have not finished their handshake within `limit` (30 s unless
    /// set), at the next [`Self::interests`].
    #[must_use]
    pub fn with_handshake_limit(mut self, limit: Duration) -> Self {
        self.server.handshake_limit = limit;
        self
    }

    /// Appends what to poll, in the order [`Self::ready`] expects the results.
    pub fn interests(&mut self, out: &mut Vec<Interest>) {
        self.server.interests(out);
    }

    /// Takes the results for [`Self::interests`]; returns how many of `readiness` it used.
    pub fn ready(&mut self, readiness: &[Readiness]) -> usize {
        self.server.ready(readiness)
    }

    /// Input is waiting that [`Self::recv`] would take without a poll (it stopped early, for
    /// fairness or its caller's batch): poll without waiting.
    pub fn has_pending_input(&self) -> bool {
        self.server.has_pending_input()
    }

    /// When the listeners accept again after running out of descriptors: poll no longer.
    pub fn wake_at(&self) -> Option<Instant> {
        self.server.accept_rest
    }

    /// Connected peers (handshake done).
    pub fn peers(&self) -> usize {
        self.server.peers.iter().filter(|p| p.is_open()).count()
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
            match peer.next() {
                Next::Data { more: true, .. } => peer.partial_frames += 1,
                Next::Data { range, more: false } => {
                    let frames = std::mem::take(&mut peer.partial_frames);
                    self.taken += 1;
                    if self.taken >= FAIR_SHARE {
                        self.current = index + 1;
                        self.taken = 0;
                    }
                    if frames > 0 {
                        return Some(Message::Frames(frames + 1));
                    }
                    break (index, range);
                }
                // PULL peers have no subscriptions.
                Next::Subscription { .. } => {}
                Next::NeedInput => {
                    if peer.readable && !peer.closed && reads < READS_PER_VISIT {
                        reads += 1;
                        match peer.read() {
                            Ok(true) => continue,
                            Ok(false) => {}
                            Err(error) => {
                                tracing::debug!(%error, "a publisher's connection failed");
                            }
                        }
                    }
                    self.current = index + 1;
                    self.taken = 0;
                    reads = 0;
                    visited += 1;
                }
            }
        };
        Some(Message::Frame(self.server.peers[index].input(range)))
    }
}

/// The events socket: SUB peers subscribe to prefixes; each published message goes to every
/// peer with a matching prefix, or is dropped for a peer with `hwm` messages already queued.
#[derive(Debug)]
pub struct XPubServer {
    server: Server,
    hwm: usize,
    dropped: u64,
}

impl XPubServer {
    /// Binds every endpoint; a subscriber lagging by `hwm` messages misses the next ones.
    pub fn bind(endpoints: &[String], hwm: usize) -> Result<Self, ZmtpError> {
        let role = Role {
            ours: "XPUB",
            peers: &["SUB", "XSUB"],
            subscriptions: true,
        };
        // Subscriptions are short; a large frame from a subscriber is a mistake.
        Ok(Self {
            server: Server::bind(endpoints, role, 64 * 1024)?,
            hwm: hwm.max(1),
            dropped: 0,
        })
    }

    /// Appends what to poll, in the order [`Self::ready`] expects the results.
    pub fn interests(&mut self, out: &mut Vec<Interest>) {
        self.server.interests(out);
    }

    /// Takes the results for [`Self::interests`] (reading subscriptions and writing queued
    /// messages); returns how many of `readiness` it used.
    pub fn ready(&mut self, readiness: &[Readiness]) -> usize {
        let used = self.server.ready(readiness);
        for peer in &mut self.server.peers {
            Self::take_subscriptions(peer);
        }
        used
    }

    fn take_subscriptions(peer: &mut Peer) {
        let mut reads = 0;
        loop {
            match peer.next() {
                Next::Subscription { subscribe, range } => peer.subscribe(range, subscribe),
                // Messages from an XSUB other than subscriptions: nothing to do with them (but
                // a frame inside one is never a subscription).
                Next::Data { more, .. } => {
                    peer.partial_frames = if more { peer.partial_frames + 1 } else { 0 };
                }
                Next::NeedInput => {
                    if !peer.readable || peer.closed || reads >= READS_PER_VISIT {
                        return;
                    }
                    reads += 1;
                    match peer.read() {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(error) => {
                            tracing::debug!(%error, "a subscriber's connection failed");
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Subscriptions are waiting that were not read in the last turn: poll without waiting.
    pub fn has_pending_input(&self) -> bool {
        self.server.has_pending_input()
    }

    /// When the listeners accept again after running out of descriptors: poll no longer.
    pub fn wake_at(&self) -> Option<Instant> {
        self.server.accept_rest
    }

    /// Connected subscribers (handshake done).
    pub fn subscribers(&self) -> usize {
        self.server.peers.iter().filter(|p| p.is_open()).count()
    }

    /// Messages dropped for subscribers at their high-water mark, since the start.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Queues `topic` + `body` (two frames) for every matching subscriber. Nothing is written
    /// until [`Self::flush`], so a batch leaves in one write per subscriber.
    pub fn publish(&mut self, topic: &[u8], body: &[u8]) {
        for peer in &mut self.server.peers {
            if !peer.is_open() || !peer.matches(topic) {
                continue;
            }
            if peer.queued.len() >= self.hwm {
                self.dropped += 1;
                continue;
            }
            let Some(output) = peer.output() else {
                continue;
            };
            crate::frame::write_frame(output, crate::frame::MORE, topic);
            crate::frame::write_frame(output, 0, body);
            let end = output.len();
            peer.queued.push_back(end);
        }
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

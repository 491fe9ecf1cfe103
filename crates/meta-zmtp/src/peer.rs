//! One connected peer: its stream, its input and output buffers, and the handshake.

use std::collections::VecDeque;
use std::io;
use std::ops::Range;
use std::time::{Duration, Instant};

use crate::frame::{self, GREETING_LEN, Header};
use crate::limits::{Budget, Failure, Limits};
use crate::net::Stream;
use crate::prefixes::PrefixSet;

/// Largest read. Large reads are what make the bus cheap: one system call takes hundreds of
/// events. A peer's buffer starts at [`FIRST_READ`] and doubles up to this while reads fill it,
/// so an idle connection costs little memory.
const READ_SIZE: usize = 256 * 1024;
pub(crate) const FIRST_READ: usize = 16 * 1024;
/// Unsent output past which a PING gets no PONG (the data flowing is proof of life enough, and
/// a peer that pings without reading cannot grow our memory).
const PONG_LIMIT: usize = 64 * 1024;
/// Longest PING context echoed (ZMTP 3.1).
const PING_CONTEXT: usize = 16;
/// Output already written is cut off the buffer once it is this large.
const COMPACT_AT: usize = 1024 * 1024;
/// Frames of one request a ROUTER peer may send (a routing envelope is a few frames).
const MAX_REQUEST_FRAMES: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the peer's 64-byte greeting.
    Greeting,
    /// Waiting for the peer's READY.
    Ready,
    Open,
}

/// What the buffered input holds next.
#[derive(Debug)]
pub(crate) enum Next {
    /// A data frame (body at this range of the input).
    Data { range: Range<usize>, more: bool },
    /// A frame over the size limit whose bytes are being skipped (PULL only).
    Skipped { more: bool },
    /// A subscription change: a SUBSCRIBE/CANCEL command, or (ZMTP 3.0) a data frame whose
    /// first byte is 1/0. Only XPUB peers produce these.
    Subscription {
        subscribe: bool,
        range: Range<usize>,
    },
    /// Nothing complete is buffered.
    NeedInput,
}

/// Which sockets a peer may be, for a server socket type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Role {
    /// What we announce.
    pub ours: &'static str,
    /// What the peer may announce.
    pub peers: &'static [&'static str],
    /// Subscriptions arrive as data frames (XPUB).
    pub subscriptions: bool,
    /// A frame over the limit is skipped, not a reason to close (PULL: it is one rejected event).
    pub skip_oversized: bool,
    /// When the server is full, an open but idle connection may be closed for a new one
    /// (ROUTER: control requests are short).
    pub evict_idle: bool,
}

#[derive(Debug)]
pub(crate) struct Peer {
    /// Unique within its server: how a ROUTER reply finds its peer.
    pub id: u64,
    pub stream: Stream,
    phase: Phase,
    role: Role,
    limits: Limits,
    budget: Budget,
    input: Vec<u8>,
    start: usize,
    end: usize,
    /// The frame at `start` needs this many bytes from `start`.
    need: usize,
    /// Bytes of an oversized frame still to skip as they arrive.
    skip: u64,
    /// Frames of a multi-frame message seen so far.
    pub partial_frames: usize,
    /// ROUTER: the frames of the request being received.
    pub parts: Vec<Vec<u8>>,
    /// The poll said readable, and no read has hit "would block" since.
    pub readable: bool,
    /// Input cannot grow: the shared input ceiling is reached. Not read until memory frees.
    pub starved: bool,
    /// Closed (by the peer, or by us); removed at the next reap.
    pub closed: bool,
    /// Why we closed it, when we did: counted when it is reaped.
    pub failure: Option<Failure>,
    /// Writing failed (the peer stopped reading for good); what it sent is still taken.
    write_failed: bool,
    /// The last read filled the buffer: traffic is heavy, read more at once next time.
    filled: bool,
    output: Vec<u8>,
    sent: usize,
    /// Unsent output recorded in the budget.
    accounted_output: usize,
    /// End offsets (in `output`) of queued published messages, oldest first: the high-water
    /// mark counts these.
    pub queued: VecDeque<usize>,
    /// When the connection was accepted (a handshake has a time limit).
    pub accepted: Instant,
    /// The peer's last PING asked to be dropped if nothing arrives by then (ZMTP 3.1 TTL).
    pub ttl_deadline: Option<Instant>,
    /// Subscribed prefixes, a set as libzmq's XPUB keeps them (a SUB subscribing twice sends
    /// SUBSCRIBE twice but CANCEL once, when its own count drops to zero).
    pub subscriptions: PrefixSet,
}

impl Peer {
    /// A freshly accepted peer, its connection already taken from `budget`: our greeting and
    /// READY are queued at once (NULL needs no round trip).
    pub(crate) fn new(id: u64, stream: Stream, role: Role, limits: Limits, budget: Budget) -> Self {
        let mut output = Vec::with_capacity(128);
        output.extend_from_slice(&frame::greeting());
        frame::write_ready(&mut output, role.ours);
        let mut peer = Self {
            id,
            stream,
            phase: Phase::Greeting,
            role,
            limits,
            budget,
            input: Vec::new(),
            start: 0,
            end: 0,
            need: GREETING_LEN,
            skip: 0,
            partial_frames: 0,
            parts: Vec::new(),
            readable: true,
            starved: false,
            closed: false,
            failure: None,
            write_failed: false,
            filled: false,
            output,
            sent: 0,
            accounted_output: 0,
            queued: VecDeque::new(),
            accepted: Instant::now(),
            ttl_deadline: None,
            subscriptions: PrefixSet::default(),
        };
        peer.sync_output();
        peer
    }

    pub(crate) fn is_open(&self) -> bool {
        self.phase == Phase::Open && !self.closed
    }

    pub(crate) fn input(&self, range: Range<usize>) -> &[u8] {
        &self.input[range]
    }

    /// Closes the connection after queueing an ERROR with `reason` for the peer to log.
    pub(crate) fn fail(&mut self, failure: Failure, reason: &str) {
        tracing::debug!(reason, "closing a bus connection");
        if self.phase != Phase::Greeting && !self.write_failed {
            frame::write_error(&mut self.output, reason);
            self.flush();
        }
        self.failure.get_or_insert(failure);
        self.closed = true;
    }

    /// Sets the input buffer's length, recording the change in the budget. Growth past the
    /// first read's size is refused (false) when the shared ceiling is reached.
    fn resize_input(&mut self, len: usize) -> bool {
        let have = self.input.len();
        if len > have {
            let free = FIRST_READ.saturating_sub(have);
            let grow = len - have;
            let forced = grow.min(free);
            if grow > forced && !self.budget.take_input(grow - forced) {
                return false;
            }
            self.budget.force_input(forced);
            self.input.resize(len, 0);
        } else if len < have {
            self.budget.release_input(have - len);
            if len == 0 {
                self.input = Vec::new();
            } else {
                self.input.truncate(len);
                self.input.shrink_to_fit();
            }
        }
        true
    }

    /// Reads once, as much as fits. `Ok(false)`: nothing to read now (or no memory to read
    /// into: [`Self::starved`]).
    pub(crate) fn read(&mut self) -> io::Result<bool> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            // A large message grew the buffer; give that memory back once it is consumed (at
            // once when memory is short).
            let short = self.budget.input_bytes() > self.budget.limits().max_input_bytes / 2;
            if self.input.len() > READ_SIZE || (short && self.input.len() > FIRST_READ) {
                self.resize_input(0);
            }
        }
        let frame_fits = self.input.len() - self.start >= self.need;
        let free = self.input.len() - self.end;
        if self.start > 0 && (!frame_fits || free < self.input.len() / 4) {
            self.input.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let mut wanted = self.input.len().max(FIRST_READ);
        if self.filled {
            wanted = wanted.max((self.input.len() * 2).min(READ_SIZE));
        }
        // Room for the frame being received, but never more than what has arrived again: a
        // header announcing a large frame gets memory as its bytes come, not at once.
        let frame_end = self.start.saturating_add(self.need);
        wanted = wanted.max(frame_end.min(self.end.saturating_mul(2)));
        // Never a zero-length read: that returns 0, which means the peer closed.
        wanted = wanted.max(self.end + 1);
        if self.input.len() < wanted && !self.resize_input(wanted) && self.end == self.input.len() {
            self.starved = true;
            return Ok(false);
        }
        self.starved = false;
        let space = self.input.len() - self.end;
        match self.stream.read(&mut self.input[self.end..]) {
            Ok(0) => {
                self.closed = true;
                Ok(false)
            }
            Ok(n) => {
                self.end += n;
                self.filled = n == space;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.readable = false;
                Ok(false)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Err(e) => {
                self.closed = true;
                Err(e)
            }
        }
    }

    /// Room to grow has come back: a starved peer may be read again.
    pub(crate) fn may_read(&self) -> bool {
        !self.starved
            || self
                .budget
                .input_bytes()
                .saturating_add(self.input.len().max(FIRST_READ))
                <= self.budget.limits().max_input_bytes
    }

    /// The next complete thing in the input, handling the handshake and the commands that
    /// need no caller (PING) on the way. A protocol error closes the peer.
    pub(crate) fn next(&mut self) -> Next {
        loop {
            if self.closed {
                return Next::NeedInput;
            }
            if self.skip > 0 {
                let buffered = (self.end - self.start) as u64;
                let taken = buffered.min(self.skip);
                // `taken` is at most what is buffered, so it fits a usize.
                self.start += usize::try_from(taken).unwrap_or(0);
                self.skip -= taken;
                if self.skip > 0 {
                    self.need = 1;
                    return Next::NeedInput;
                }
            }
            let buffered = &self.input[self.start..self.end];
            if self.phase == Phase::Greeting {
                // Checked as it arrives: a ZMTP 1.0 or 2.0 peer never sends 64 bytes, so it
                // is told at once rather than waited for.
                if let Err(reason) = frame::check_greeting_start(buffered) {
                    self.fail(Failure::Handshake, &reason);
                    return Next::NeedInput;
                }
                if buffered.len() < GREETING_LEN {
                    self.need = GREETING_LEN;
                    return Next::NeedInput;
                }
                if let Err(reason) = frame::check_greeting(&buffered[..GREETING_LEN]) {
                    self.fail(Failure::Handshake, &reason);
                    return Next::NeedInput;
                }
                self.start += GREETING_LEN;
                self.phase = Phase::Ready;
                continue;
            }
            let header = match frame::parse_header(buffered) {
                None => {
                    self.need = 9;
                    return Next::NeedInput;
                }
                Some(Err(reason)) => {
                    self.fail(Failure::Malformed, &reason);
                    return Next::NeedInput;
                }
                Some(Ok(header)) => header,
            };
            // Anything received counts as a sign of life (libzmq cancels its TTL timer).
            self.ttl_deadline = None;
            if header.body_len > self.limits.max_frame {
                if self.role.skip_oversized && !header.command() && self.phase == Phase::Open {
                    self.start += header.len;
                    self.skip = header.body_len;
                    self.need = 0;
                    return Next::Skipped {
                        more: header.more(),
                    };
                }
                self.fail(
                    Failure::Oversized,
                    &format!(
                        "a frame of {} bytes is over the limit of {} bytes",
                        header.body_len, self.limits.max_frame
                    ),
                );
                return Next::NeedInput;
            }
            let total = header.total();
            if buffered.len() < total {
                self.need = total;
                return Next::NeedInput;
            }
            let body = self.start + header.len..self.start + total;
            self.start += total;
            self.need = 0;
            if let Some(next) = self.take(header, body) {
                return next;
            }
        }
    }

    /// Acts on one complete frame; `Some` when the caller gets it.
    fn take(&mut self, header: Header, body: Range<usize>) -> Option<Next> {
        if header.command() {
            return self.command(body);
        }
        if self.phase != Phase::Open {
            self.fail(
                Failure::Handshake,
                "a message arrived before the handshake finished",
            );
            return None;
        }
        if self.role.subscriptions {
            // ZMTP 3.0 subscriptions: 1 or 0, then the prefix, in any frame of any message
            // (libzmq's XPUB reads every frame this way). Anything else is ignored, as libzmq's
            // XPUB passes it up and our daemon has no use for it.
            return match self.input[body.clone()].first() {
                Some(&flag @ (0 | 1)) => Some(Next::Subscription {
                    subscribe: flag == 1,
                    range: body.start + 1..body.end,
                }),
                _ => None,
            };
        }
        Some(Next::Data {
            range: body,
            more: header.more(),
        })
    }

    fn command(&mut self, body: Range<usize>) -> Option<Next> {
        let bytes = &self.input[body.clone()];
        let (name, data) = match frame::parse_command(bytes) {
            Ok(parts) => parts,
            Err(reason) => {
                self.fail(Failure::Malformed, &reason);
                return None;
            }
        };
        let data_start = body.end - data.len();
        match (self.phase, name) {
            (Phase::Ready, b"READY") => {
                let socket_type = match frame::property(data, "Socket-Type") {
                    Ok(Some(value)) => String::from_utf8_lossy(value).into_owned(),
                    Ok(None) => {
                        self.fail(Failure::Handshake, "READY without a Socket-Type");
                        return None;
                    }
                    Err(reason) => {
                        self.fail(Failure::Handshake, &reason);
                        return None;
                    }
                };
                if !self.role.peers.contains(&socket_type.as_str()) {
                    let reason = format!(
                        "a {socket_type} socket cannot connect to a {} socket (expected {})",
                        self.role.ours,
                        self.role.peers.join(" or ")
                    );
                    self.fail(Failure::Handshake, &reason);
                    return None;
                }
                self.phase = Phase::Open;
                None
            }
            (Phase::Ready, b"ERROR") => {
                self.closed = true;
                None
            }
            (Phase::Ready, _) => {
                self.fail(Failure::Handshake, "the handshake must start with READY");
                None
            }
            (Phase::Open, b"READY") => {
                self.fail(Failure::Malformed, "a second READY after the handshake");
                None
            }
            (_, b"PING") => {
                // The TTL (deciseconds) asks us to drop the peer if nothing follows in time.
                if let Some(ttl) = data.get(..2) {
                    let ttl = u16::from_be_bytes([ttl[0], ttl[1]]);
                    if ttl > 0 {
                        self.ttl_deadline =
                            Some(Instant::now() + Duration::from_millis(u64::from(ttl) * 100));
                    }
                }
                // PONG echoes the context after the 2-byte TTL.
                if !self.write_failed && self.output.len() - self.sent < PONG_LIMIT {
                    let context = data.get(2..).unwrap_or_default();
                    let context = context[..context.len().min(PING_CONTEXT)].to_vec();
                    frame::write_command(&mut self.output, "PONG", &context);
                    self.flush();
                }
                None
            }
            (_, b"ERROR") => {
                tracing::debug!(
                    reason = %String::from_utf8_lossy(data.get(1..).unwrap_or_default()),
                    "a bus peer reported an error"
                );
                self.closed = true;
                None
            }
            (Phase::Open, b"SUBSCRIBE" | b"CANCEL") if self.role.subscriptions => {
                Some(Next::Subscription {
                    subscribe: name == b"SUBSCRIBE",
                    range: data_start..body.end,
                })
            }
            // PONG and commands of later versions: nothing to do.
            _ => None,
        }
    }

    /// ROUTER: keeps one frame of the request being received; past [`MAX_REQUEST_FRAMES`]
    /// the peer is closed.
    pub(crate) fn keep_part(&mut self, range: Range<usize>) {
        if self.parts.len() >= MAX_REQUEST_FRAMES {
            self.fail(
                Failure::Malformed,
                "a control request of more than 16 frames",
            );
            return;
        }
        let part = self.input[range].to_vec();
        self.parts.push(part);
    }

    pub(crate) fn wants_write(&self) -> bool {
        self.sent < self.output.len()
    }

    /// Bytes queued and not yet written.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.output.len() - self.sent
    }

    /// Where to queue output; `None` once writing has failed. Call [`Self::sync_output`] after.
    pub(crate) fn output(&mut self) -> Option<&mut Vec<u8>> {
        (!self.write_failed).then_some(&mut self.output)
    }

    /// Records the unsent output in the budget.
    pub(crate) fn sync_output(&mut self) {
        let now = self.queued_bytes();
        self.budget.adjust_output(self.accounted_output, now);
        self.accounted_output = now;
    }

    /// Writes what is queued, as far as the socket takes it without waiting. A failed write
    /// drops the output but not the input: what the peer sent before it went away still counts.
    pub(crate) fn flush(&mut self) {
        while self.sent < self.output.len() {
            match self.stream.write(&self.output[self.sent..]) {
                Ok(0) => return self.write_failed(None),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.write_failed(Some(&e)),
            }
        }
        while self.queued.front().is_some_and(|end| *end <= self.sent) {
            self.queued.pop_front();
        }
        if self.sent == self.output.len() {
            self.output.clear();
            self.sent = 0;
            // A lagging subscriber grew its queue; an idle daemon should not keep that memory.
            if self.output.capacity() > COMPACT_AT {
                self.output.shrink_to(FIRST_READ);
            }
        } else if self.sent >= COMPACT_AT && self.sent * 2 >= self.output.len() {
            // Only once the sent part is at least half: each byte is moved O(1) times.
            self.output.drain(..self.sent);
            for end in &mut self.queued {
                *end -= self.sent;
            }
            self.sent = 0;
        }
        self.sync_output();
    }

    fn write_failed(&mut self, error: Option<&io::Error>) {
        tracing::debug!(error = ?error, "a bus connection stopped taking output");
        self.write_failed = true;
        self.output = Vec::new();
        self.sent = 0;
        self.queued.clear();
        self.sync_output();
        // A subscriber we cannot write to is of no use; a publisher may still have sent events.
        if self.role.subscriptions {
            self.closed = true;
        }
    }

    /// Input is waiting that [`Self::next`] or [`Self::read`] would take now without a poll.
    pub(crate) fn has_pending_input(&self) -> bool {
        if self.closed {
            return false;
        }
        if self.readable && !self.starved {
            return true;
        }
        let buffered = &self.input[self.start..self.end];
        if self.skip > 0 {
            return !buffered.is_empty();
        }
        if self.phase == Phase::Greeting {
            return buffered.len() >= GREETING_LEN
                || frame::check_greeting_start(buffered).is_err();
        }
        match frame::parse_header(buffered) {
            Some(Ok(header)) => {
                header.total() <= buffered.len() || header.body_len > self.limits.max_frame
            }
            // A broken header is acted on (the peer closed) at the next look.
            Some(Err(_)) => true,
            None => false,
        }
    }

    /// Does this peer subscribe to a prefix of `topic`?
    pub(crate) fn matches(&self, topic: &[u8]) -> bool {
        self.subscriptions.matches(topic)
    }

    /// Applies a subscription change; one past the subscription limits closes the peer.
    pub(crate) fn subscribe(&mut self, range: Range<usize>, subscribe: bool) {
        let prefix = &self.input[range];
        if !subscribe {
            self.subscriptions.remove(prefix);
            return;
        }
        if self.subscriptions.contains(prefix) {
            return;
        }
        let limits = self.limits;
        let reason = if self.subscriptions.len() >= limits.max_subscriptions {
            format!(
                "more than {} subscriptions on one connection; subscribe to shorter prefixes \
                 (or raise [events].max_subscriptions)",
                limits.max_subscriptions
            )
        } else if self.subscriptions.bytes() + prefix.len() > limits.max_subscription_bytes {
            format!(
                "subscriptions over {} bytes on one connection; subscribe to shorter prefixes \
                 (or raise [events].max_subscription_bytes)",
                limits.max_subscription_bytes
            )
        } else {
            self.subscriptions.insert(prefix);
            return;
        };
        self.fail(Failure::Subscriptions, &reason);
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.budget.release_connection();
        self.budget.release_input(self.input.len());
        self.budget.adjust_output(self.accounted_output, 0);
    }
}

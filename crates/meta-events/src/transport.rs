//! Every ZeroMQ call `meta` makes, behind a small interface another backend could replace.
//!
//! The rest of the code speaks of pushers, subscribers, requests and the daemon's socket set;
//! only this module knows they are libzmq sockets (DESIGN.md 3.2: ingest PULL, events XPUB,
//! control ROUTER).

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A transport failure: which operation, on which endpoint, and libzmq's reason.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot {action} `{endpoint}`: {reason}")]
pub struct TransportError {
    pub action: &'static str,
    pub endpoint: String,
    pub reason: String,
}

impl TransportError {
    fn new(action: &'static str, endpoint: &str, error: zmq::Error) -> Self {
        Self {
            action,
            endpoint: endpoint.to_owned(),
            reason: error.message().to_owned(),
        }
    }

    /// True when the address was already taken by another process.
    pub fn is_address_in_use(&self) -> bool {
        // libzmq's message, or the system's for the sockets meta-zmtp binds ("… (os error 98)").
        self.reason.starts_with(zmq::Error::EADDRINUSE.message())
    }
}

type Result<T> = std::result::Result<T, TransportError>;

fn ms(duration: Duration) -> i32 {
    i32::try_from(duration.as_millis()).unwrap_or(i32::MAX)
}

/// The I/O context sockets live in. In-process (`inproc://`) endpoints only connect sockets of
/// the same context. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    inner: zmq::Context,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Context")
    }
}

impl Default for Context {
    fn default() -> Self {
        Self::new()
    }
}

impl Context {
    pub fn new() -> Self {
        Self {
            inner: zmq::Context::new(),
        }
    }

    fn socket(&self, kind: zmq::SocketType, endpoint: &str) -> Result<zmq::Socket> {
        self.inner
            .socket(kind)
            .map_err(|e| TransportError::new("create a socket for", endpoint, e))
    }
}

/// Sends events to an ingest endpoint (PUSH).
pub struct Pusher {
    socket: zmq::Socket,
    endpoint: String,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pusher")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Pusher {
    /// Connects to `endpoint`. Connecting never waits: messages queue until the peer is there.
    /// `linger` bounds how long dropping the pusher waits for queued messages to leave.
    pub fn connect(context: &Context, endpoint: &str, linger: Duration) -> Result<Self> {
        let socket = context.socket(zmq::PUSH, endpoint)?;
        socket
            .set_linger(ms(linger))
            .map_err(|e| TransportError::new("configure", endpoint, e))?;
        socket
            .set_sndhwm(100_000)
            .map_err(|e| TransportError::new("configure", endpoint, e))?;
        socket
            .connect(endpoint)
            .map_err(|e| TransportError::new("connect to", endpoint, e))?;
        Ok(Self {
            socket,
            endpoint: endpoint.to_owned(),
        })
    }

    /// Queues one single-frame message, waiting while the queue is full.
    pub fn send(&self, frame: &[u8]) -> Result<()> {
        self.socket
            .send(frame, 0)
            .map_err(|e| TransportError::new("send to", &self.endpoint, e))
    }

    /// Queues one single-frame message, waiting at most `timeout` for room; false when there was
    /// none (the peer is gone or far behind).
    pub fn send_timeout(&self, frame: &[u8], timeout: Duration) -> Result<bool> {
        match self.socket.poll(zmq::POLLOUT, i64::from(ms(timeout))) {
            Ok(0) | Err(zmq::Error::EINTR) => return Ok(false),
            Ok(_) => {}
            Err(e) => return Err(TransportError::new("send to", &self.endpoint, e)),
        }
        match self.socket.send(frame, zmq::DONTWAIT) {
            Ok(()) => Ok(true),
            Err(zmq::Error::EAGAIN) => Ok(false),
            Err(e) => Err(TransportError::new("send to", &self.endpoint, e)),
        }
    }

    /// Sends `frames` as one multi-frame message (only tests of the daemon's rejection want it).
    pub fn send_frames(&self, frames: &[&[u8]]) -> Result<()> {
        self.socket
            .send_multipart(frames.iter().copied(), 0)
            .map_err(|e| TransportError::new("send to", &self.endpoint, e))
    }

    /// Changes how long dropping the pusher may wait for queued messages.
    pub fn set_linger(&self, linger: Duration) -> Result<()> {
        self.socket
            .set_linger(ms(linger))
            .map_err(|e| TransportError::new("configure", &self.endpoint, e))
    }
}

/// A bound PULL socket: the receiving half of a plain PUSH→PULL pipe (benchmarks use it as the
/// raw libzmq baseline the bus is measured against).
pub struct Puller {
    socket: zmq::Socket,
    endpoint: String,
    message: zmq::Message,
}

impl std::fmt::Debug for Puller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Puller")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Puller {
    pub fn bind(context: &Context, endpoint: &str) -> Result<Self> {
        let socket = context.socket(zmq::PULL, endpoint)?;
        socket
            .set_rcvhwm(100_000)
            .map_err(|e| TransportError::new("configure", endpoint, e))?;
        socket
            .set_linger(0)
            .map_err(|e| TransportError::new("configure", endpoint, e))?;
        socket
            .bind(endpoint)
            .map_err(|e| TransportError::new("bind", endpoint, e))?;
        Ok(Self {
            socket,
            endpoint: endpoint.to_owned(),
            message: zmq::Message::new(),
        })
    }

    /// The next message, waiting up to `timeout`; `None` when none came.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<&[u8]>> {
        let got = match self.socket.recv(&mut self.message, zmq::DONTWAIT) {
            Ok(()) => true,
            Err(zmq::Error::EAGAIN) => false,
            Err(e) => return Err(TransportError::new("receive from", &self.endpoint, e)),
        };
        if !got {
            match self.socket.poll(zmq::POLLIN, i64::from(ms(timeout))) {
                Ok(0) | Err(zmq::Error::EINTR) => return Ok(None),
                Ok(_) => {}
                Err(e) => return Err(TransportError::new("receive from", &self.endpoint, e)),
            }
            match self.socket.recv(&mut self.message, zmq::DONTWAIT) {
                Ok(()) => {}
                Err(zmq::Error::EAGAIN) => return Ok(None),
                Err(e) => return Err(TransportError::new("receive from", &self.endpoint, e)),
            }
        }
        Ok(Some(&self.message[..]))
    }
}

/// One message from the events socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub topic: Vec<u8>,
    pub body: Vec<u8>,
}

/// A message's topic frame and body, lent by the subscriber until its next receive.
pub type Frames<'a> = (&'a [u8], &'a [u8]);

/// Receives events (SUB) filtered by topic prefix.
pub struct Subscriber {
    socket: zmq::Socket,
    endpoint: String,
    topic: zmq::Message,
    body: zmq::Message,
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Subscriber {
    /// Connects to `endpoint` subscribed to `prefixes` (already normalised; empty list or an
    /// empty prefix means everything). Reconnects by itself when the daemon restarts.
    pub fn connect(
        context: &Context,
        endpoint: &str,
        prefixes: &[String],
        queue: u32,
    ) -> Result<Self> {
        let socket = context.socket(zmq::SUB, endpoint)?;
        let configure = |e| TransportError::new("configure", endpoint, e);
        socket
            .set_rcvhwm(i32::try_from(queue).unwrap_or(i32::MAX))
            .map_err(configure)?;
        socket.set_linger(0).map_err(configure)?;
        socket.set_reconnect_ivl(50).map_err(configure)?;
        socket.set_reconnect_ivl_max(500).map_err(configure)?;
        if prefixes.is_empty() {
            socket.set_subscribe(b"").map_err(configure)?;
        }
        for prefix in prefixes {
            socket.set_subscribe(prefix.as_bytes()).map_err(configure)?;
        }
        socket
            .connect(endpoint)
            .map_err(|e| TransportError::new("connect to", endpoint, e))?;
        Ok(Self {
            socket,
            endpoint: endpoint.to_owned(),
            topic: zmq::Message::new(),
            body: zmq::Message::new(),
        })
    }

    /// Like [`Subscriber::recv`], but lends the topic and body instead of copying them out: no
    /// allocation per message, for consumers that keep up with a daemon at full speed.
    pub fn recv_ref(&mut self, timeout: Option<Duration>) -> Result<Option<Frames<'_>>> {
        let timeout = timeout.map_or(-1, |t| i64::from(ms(t)));
        let mut waited = false;
        loop {
            match self.socket.recv(&mut self.topic, zmq::DONTWAIT) {
                Ok(()) => {}
                Err(zmq::Error::EAGAIN) if !waited => {
                    match self.socket.poll(zmq::POLLIN, timeout) {
                        Ok(0) | Err(zmq::Error::EINTR) => return Ok(None),
                        Ok(_) => {}
                        Err(e) => {
                            return Err(TransportError::new("receive from", &self.endpoint, e));
                        }
                    }
                    waited = true;
                    continue;
                }
                Err(zmq::Error::EAGAIN) => {
                    waited = false;
                    continue;
                }
                Err(e) => return Err(TransportError::new("receive from", &self.endpoint, e)),
            }
            if !self.topic.get_more() {
                continue; // one frame: not an event
            }
            self.socket
                .recv(&mut self.body, 0)
                .map_err(|e| TransportError::new("receive from", &self.endpoint, e))?;
            if !self.body.get_more() {
                return Ok(Some((&self.topic[..], &self.body[..])));
            }
            // More than two frames: skip the rest of it.
            while self.body.get_more() {
                self.socket
                    .recv(&mut self.body, 0)
                    .map_err(|e| TransportError::new("receive from", &self.endpoint, e))?;
            }
        }
    }

    /// The next message, waiting up to `timeout` (`None`: forever). Messages that are not two
    /// frames are skipped.
    pub fn recv(&mut self, timeout: Option<Duration>) -> Result<Option<Delivery>> {
        let timeout = timeout.map_or(-1, |t| i64::from(ms(t)));
        let mut waited = false;
        loop {
            // Take what is queued first; poll (a system call) only when nothing is.
            let frames = match self.socket.recv_multipart(zmq::DONTWAIT) {
                Ok(frames) => frames,
                Err(zmq::Error::EAGAIN) if !waited => {
                    match self.socket.poll(zmq::POLLIN, timeout) {
                        Ok(0) | Err(zmq::Error::EINTR) => return Ok(None),
                        Ok(_) => {}
                        Err(e) => {
                            return Err(TransportError::new("receive from", &self.endpoint, e));
                        }
                    }
                    waited = true;
                    continue;
                }
                Err(zmq::Error::EAGAIN) => {
                    waited = false;
                    continue;
                }
                Err(e) => return Err(TransportError::new("receive from", &self.endpoint, e)),
            };
            if let Ok([topic, body]) = <[Vec<u8>; 2]>::try_from(frames) {
                return Ok(Some(Delivery { topic, body }));
            }
        }
    }
}

/// Sends one control request (REQ) and waits up to `timeout` for the reply. `Ok(None)` means no
/// answer in time (no daemon, or a stuck one).
pub fn request(
    context: &Context,
    endpoint: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<Option<Vec<u8>>> {
    let socket = context.socket(zmq::REQ, endpoint)?;
    let configure = |e| TransportError::new("configure", endpoint, e);
    socket.set_linger(0).map_err(configure)?;
    socket.set_immediate(true).map_err(configure)?;
    socket
        .connect(endpoint)
        .map_err(|e| TransportError::new("connect to", endpoint, e))?;
    // With `immediate`, a send before the connection is up would block; poll for it instead.
    match socket.poll(zmq::POLLOUT, i64::from(ms(timeout))) {
        Ok(0) | Err(zmq::Error::EINTR) => return Ok(None),
        Ok(_) => {}
        Err(e) => return Err(TransportError::new("send to", endpoint, e)),
    }
    match socket.send(body, zmq::DONTWAIT) {
        Ok(()) => {}
        Err(zmq::Error::EAGAIN) => return Ok(None),
        Err(e) => return Err(TransportError::new("send to", endpoint, e)),
    }
    match socket.poll(zmq::POLLIN, i64::from(ms(timeout))) {
        Ok(0) | Err(zmq::Error::EINTR) => return Ok(None),
        Ok(_) => {}
        Err(e) => return Err(TransportError::new("receive from", endpoint, e)),
    }
    match socket.recv_bytes(zmq::DONTWAIT) {
        Ok(reply) => Ok(Some(reply)),
        Err(zmq::Error::EAGAIN) => Ok(None),
        Err(e) => Err(TransportError::new("receive from", endpoint, e)),
    }
}

/// Where the daemon listens, and what its peers may hold.
#[derive(Debug, Clone, Default)]
pub struct BindSpec {
    pub ingest: Vec<String>,
    pub events: Vec<String>,
    pub control: Vec<String>,
    pub limits: BusLimits,
}

/// The bus's ceilings (`[events]` keys of the same names; DESIGN.md 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusLimits {
    /// Messages, and bytes, queued per subscriber before the fan-out drops for it.
    pub fanout_hwm: usize,
    pub fanout_max_bytes: usize,
    /// Bytes queued for all subscribers together.
    pub fanout_max_bytes_total: usize,
    /// Publisher and subscriber connections together; each socket's own ceiling.
    pub max_connections: usize,
    pub max_publishers: usize,
    pub max_subscribers: usize,
    /// Control connections, kept apart from the others.
    pub control_connections: usize,
    pub max_subscriptions: usize,
    pub max_subscription_bytes: usize,
    /// Input buffered across all connections.
    pub max_input_bytes: usize,
    /// Connections not through the ZMTP handshake by then are closed.
    pub handshake_timeout: Duration,
}

impl Default for BusLimits {
    fn default() -> Self {
        Self::from(&meta_workspace::config::EventsConfig::default())
    }
}

impl From<&meta_workspace::config::EventsConfig> for BusLimits {
    fn from(config: &meta_workspace::config::EventsConfig) -> Self {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        let count = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        Self {
            fanout_hwm: count(config.fanout_hwm),
            fanout_max_bytes: size(config.fanout_max_bytes),
            fanout_max_bytes_total: size(config.fanout_max_bytes_total),
            max_connections: count(config.max_connections),
            max_publishers: count(config.max_publishers),
            max_subscribers: count(config.max_subscribers),
            control_connections: count(config.control_connections),
            max_subscriptions: count(config.max_subscriptions),
            max_subscription_bytes: size(config.max_subscription_bytes),
            max_input_bytes: size(config.max_input_bytes),
            handshake_timeout: Duration::from_millis(config.handshake_timeout_ms),
        }
    }
}

/// A message read by the daemon.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// Nothing waiting.
    Empty,
    /// A single-frame message.
    Frame(&'a [u8]),
    /// A message of this many frames (the bus takes one frame per event).
    Frames(usize),
    /// A frame over the event size limit, skipped unread.
    Oversized,
}

/// A control request and the route back to its sender.
#[derive(Debug)]
pub struct ControlRequest {
    peer: u64,
    envelope: Vec<Vec<u8>>,
    pub body: Vec<u8>,
}

/// Which of the daemon's inputs are ready after [`DaemonSockets::wait`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Ready {
    pub ingest: bool,
    pub inproc: bool,
    pub control: bool,
    pub wake: bool,
}

static INPROC_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Control requests are small JSON objects.
const CONTROL_MAX_FRAME: u64 = 64 * 1024;
/// Subscriptions are short: a prefix longer than any topic can match nothing.
const EVENTS_MAX_FRAME: u64 = 64 * 1024;

/// The daemon's sockets: ingest PULL, events XPUB and control ROUTER, served by `meta-zmtp` on
/// the daemon's thread (ingest and events carry every event, and libzmq's I/O-thread hand-offs
/// halved the bus's throughput; all three are capped and counted, where a libzmq listener out
/// of descriptors aborts the process), and an in-process PULL that threads of the daemon's own
/// process publish through (libzmq).
pub struct DaemonSockets {
    context: Context,
    ingest: meta_zmtp::PullServer,
    events: meta_zmtp::XPubServer,
    control: meta_zmtp::RouterServer,
    budget: meta_zmtp::Budget,
    limits: BusLimits,
    inproc: zmq::Socket,
    inproc_endpoint: String,
    message: zmq::Message,
    interests: Vec<meta_zmtp::Interest>,
    readiness: Vec<meta_zmtp::Readiness>,
}

impl std::fmt::Debug for DaemonSockets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DaemonSockets")
            .field("inproc", &self.inproc_endpoint)
            .finish_non_exhaustive()
    }
}

fn bind_error(error: meta_zmtp::ZmtpError) -> TransportError {
    let (endpoint, reason) = match error {
        meta_zmtp::ZmtpError::Bind { endpoint, source } => (endpoint, source.to_string()),
        meta_zmtp::ZmtpError::Endpoint { endpoint, reason } => (endpoint, reason),
    };
    TransportError {
        action: "bind",
        endpoint,
        reason,
    }
}

impl DaemonSockets {
    /// Binds every endpoint of `spec`.
    pub fn bind(context: &Context, spec: &BindSpec) -> Result<Self> {
        let n = INPROC_COUNTER.fetch_add(1, Ordering::Relaxed);
        let inproc_endpoint = format!("inproc://meta-daemon-publish-{n}");
        let make = |kind, endpoints: &[String], name: &str| -> Result<zmq::Socket> {
            let label = endpoints.first().map_or(name, String::as_str);
            let socket = context.socket(kind, label)?;
            socket
                .set_linger(0)
                .map_err(|e| TransportError::new("configure", label, e))?;
            Ok(socket)
        };
        let limits = &spec.limits;
        let budget = meta_zmtp::Budget::new(meta_zmtp::SharedLimits {
            max_connections: limits.max_connections,
            max_input_bytes: limits.max_input_bytes,
            max_output_bytes: limits.fanout_max_bytes_total,
        });
        let server = |max_connections, max_frame| meta_zmtp::Limits {
            max_connections,
            max_frame,
            max_subscriptions: limits.max_subscriptions,
            max_subscription_bytes: limits.max_subscription_bytes,
            hwm_messages: limits.fanout_hwm,
            hwm_bytes: limits.fanout_max_bytes,
        };
        // Events over the size limit are skipped as their bytes arrive and counted as rejected.
        let max_event = crate::event::MAX_EVENT_BYTES as u64;
        let ingest = meta_zmtp::PullServer::bind_with(
            &spec.ingest,
            server(limits.max_publishers, max_event),
            budget.clone(),
        )
        .map_err(bind_error)?
        .with_handshake_limit(limits.handshake_timeout);
        let events = meta_zmtp::XPubServer::bind_with(
            &spec.events,
            server(limits.max_subscribers, EVENTS_MAX_FRAME),
            budget.clone(),
        )
        .map_err(bind_error)?
        .with_handshake_limit(limits.handshake_timeout);
        let control = meta_zmtp::RouterServer::bind_with(
            &spec.control,
            server(limits.control_connections, CONTROL_MAX_FRAME),
            budget.reserved(),
        )
        .map_err(bind_error)?
        .with_handshake_limit(limits.handshake_timeout);
        let configure = |e, endpoint: &str| TransportError::new("configure", endpoint, e);
        let inproc = make(zmq::PULL, std::slice::from_ref(&inproc_endpoint), "inproc")?;
        inproc
            .set_rcvhwm(100_000)
            .map_err(|e| configure(e, &inproc_endpoint))?;
        inproc
            .bind(&inproc_endpoint)
            .map_err(|e| TransportError::new("bind", &inproc_endpoint, e))?;
        Ok(Self {
            context: context.clone(),
            ingest,
            events,
            control,
            budget,
            limits: limits.clone(),
            inproc,
            inproc_endpoint,
            message: zmq::Message::new(),
            interests: Vec::new(),
            readiness: Vec::new(),
        })
    }

    /// The endpoint threads of this process connect a [`Pusher`] to (with [`Self::context`]).
    pub fn inproc_endpoint(&self) -> &str {
        &self.inproc_endpoint
    }

    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Waits up to `timeout` (`None`: forever) for input on any socket or on `wake_fd`, and
    /// lets the bus servers act on what the poll found (new connections, subscriptions,
    /// subscribers ready for more).
    pub fn wait(&mut self, timeout: Option<Duration>, wake_fd: RawFd) -> Result<Ready> {
        let pending = self.ingest.has_pending_input()
            || self.events.has_pending_input()
            || self.control.has_pending_input();
        let wake_at = [
            self.ingest.wake_at(),
            self.events.wake_at(),
            self.control.wake_at(),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|at| at.saturating_duration_since(std::time::Instant::now()));
        let timeout = match (pending, timeout, wake_at) {
            // Input already waits in a buffer: look at the sockets, but do not sleep.
            (true, _, _) => Some(Duration::ZERO),
            (false, Some(t), Some(r)) => Some(t.min(r)),
            (false, t, r) => t.or(r),
        };
        let timeout = timeout.map_or(-1, |t| {
            // Round up so a 0.5 ms deadline does not spin.
            i64::try_from(t.as_micros().div_ceil(1000)).unwrap_or(i64::MAX)
        });
        self.interests.clear();
        self.ingest.interests(&mut self.interests);
        let ingest_count = self.interests.len();
        self.events.interests(&mut self.interests);
        let events_end = self.interests.len();
        self.control.interests(&mut self.interests);
        let mut items = vec![
            self.inproc.as_poll_item(zmq::POLLIN),
            zmq::PollItem::from_fd(wake_fd, zmq::POLLIN),
        ];
        items.extend(self.interests.iter().map(|interest| {
            let mut events = zmq::PollEvents::empty();
            if interest.read {
                events |= zmq::POLLIN;
            }
            if interest.write {
                events |= zmq::POLLOUT;
            }
            zmq::PollItem::from_fd(interest.fd, events)
        }));
        match zmq::poll(&mut items, timeout) {
            Ok(_) => {}
            Err(zmq::Error::EINTR) => return Ok(Ready::default()),
            Err(e) => return Err(TransportError::new("wait on", "the daemon's sockets", e)),
        }
        self.readiness.clear();
        self.readiness
            .extend(items[2..].iter().map(|item| meta_zmtp::Readiness {
                // A hang-up or error shows as readable: the read finds out which.
                readable: item.is_readable() || item.is_error(),
                writable: item.is_writable(),
            }));
        let ready = Ready {
            inproc: items[0].is_readable(),
            wake: items[1].is_readable(),
            ingest: self.readiness[..ingest_count].iter().any(|r| r.readable),
            control: self.readiness[events_end..].iter().any(|r| r.readable)
                || self.control.has_pending_input(),
        };
        drop(items);
        self.ingest.ready(&self.readiness[..ingest_count]);
        self.events.ready(&self.readiness[ingest_count..events_end]);
        self.control.ready(&self.readiness[events_end..]);
        Ok(ready)
    }

    /// The next message from ingest, without waiting.
    pub fn recv_ingest(&mut self) -> Result<Incoming<'_>> {
        Ok(match self.ingest.recv() {
            None => Incoming::Empty,
            Some(meta_zmtp::Message::Frame(bytes)) => Incoming::Frame(bytes),
            Some(meta_zmtp::Message::Frames(frames)) => Incoming::Frames(frames),
            Some(meta_zmtp::Message::Oversized) => Incoming::Oversized,
        })
    }

    /// The next message from the in-process publishers, without waiting.
    pub fn recv_inproc(&mut self) -> Result<Incoming<'_>> {
        let (socket, message) = (&self.inproc, &mut self.message);
        match socket.recv(message, zmq::DONTWAIT) {
            Ok(()) => {}
            Err(zmq::Error::EAGAIN) => return Ok(Incoming::Empty),
            Err(e) => return Err(TransportError::new("receive from", "inproc", e)),
        }
        if !message.get_more() {
            return Ok(Incoming::Frame(&message[..]));
        }
        let mut frames = 1;
        while message.get_more() {
            socket
                .recv(message, 0)
                .map_err(|e| TransportError::new("receive from", "inproc", e))?;
            frames += 1;
        }
        Ok(Incoming::Frames(frames))
    }

    /// Queues one event for every subscriber whose prefix matches `topic`, and returns how many
    /// matched (queued, or dropped at their marks); [`Self::flush`] sends. Never waits: a subscriber at its mark misses the event.
    pub fn publish(&mut self, topic: &[u8], body: &[u8]) -> usize {
        self.events.publish(topic, body)
    }

    /// Sends what [`Self::publish`] queued, as far as each subscriber's socket takes it now
    /// (the rest goes when the socket is writable again).
    pub fn flush(&mut self) {
        self.events.flush();
    }

    /// Waits up to `linger` for queued events to reach subscribers (at shutdown).
    pub fn linger(&mut self, linger: Duration) {
        let deadline = std::time::Instant::now() + linger;
        loop {
            self.events.flush();
            let pending = self.events.pending();
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if pending.is_empty() || left.is_zero() {
                return;
            }
            let mut items: Vec<_> = pending
                .iter()
                .map(|fd| zmq::PollItem::from_fd(*fd, zmq::POLLOUT))
                .collect();
            let ms = i64::try_from(left.as_millis().max(1)).unwrap_or(i64::MAX);
            if zmq::poll(&mut items, ms).is_err() {
                return;
            }
        }
    }

    /// Ingest input is buffered or known readable: [`Self::recv_ingest`] has more to give.
    pub fn has_pending_ingest(&self) -> bool {
        self.ingest.has_pending_input()
    }

    /// Connected subscribers.
    pub fn subscribers(&self) -> usize {
        self.events.subscribers()
    }

    /// The next control request, without waiting.
    pub fn recv_control(&mut self) -> Result<Option<ControlRequest>> {
        Ok(self.control.recv().map(|request| {
            let mut envelope = request.frames;
            let body = envelope.pop().unwrap_or_default();
            ControlRequest {
                peer: request.peer,
                envelope,
                body,
            }
        }))
    }

    /// Answers `request`; false when its sender has gone.
    pub fn reply(&mut self, request: &ControlRequest, body: &[u8]) -> bool {
        self.control.reply(request.peer, &request.envelope, body)
    }

    /// Connections held and refusals counted, for the daemon's status.
    pub fn connection_counters(
        &self,
    ) -> (crate::status::Connections, crate::status::Refusals, u64) {
        let ingest = self.ingest.stats();
        let events = self.events.stats();
        let control = self.control.stats();
        let all = ingest.plus(events).plus(control);
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let connections = crate::status::Connections {
            ingest: count(self.ingest.peers()),
            events: count(self.events.peers()),
            control: count(self.control.peers()),
            limit: count(self.budget.limits().max_connections),
            control_limit: count(self.limits.control_connections),
        };
        let refused = crate::status::Refusals {
            connections: all.refused_connections,
            handshakes: all.refused_handshakes,
            malformed: all.malformed,
            oversized: all.oversized,
            subscriptions: all.refused_subscriptions,
            heartbeat_timeouts: all.heartbeat_timeouts,
        };
        (connections, refused, events.dropped)
    }
}

//! The servers without sockets, for the fuzz targets (`fuzz/fuzz_targets/zmtp.rs`): peers are
//! in-memory pipes the caller fills with bytes, and each [`Harness::turn`] is one turn of the
//! daemon's poll loop (every peer readable and writable). Everything past the stream — the
//! greeting, the READY handshake, frames, commands, fair queueing, subscriptions, the fan-out and
//! its high-water mark — is the code the daemon runs.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{Interest, PullServer, Readiness, RouterServer, XPubServer};
use crate::ZmtpError;
use crate::net::Stream;
use crate::peer::Peer;

/// One end of an in-memory connection: what the peer sent (read by the server) and how many
/// more bytes the peer would take (written by the server).
#[derive(Debug, Clone, Default)]
pub struct MemoryStream(Arc<Mutex<Pipe>>);

#[derive(Debug, Default)]
struct Pipe {
    input: VecDeque<u8>,
    hung_up: bool,
    room: usize,
    written: usize,
}

impl MemoryStream {
    fn pipe(&self) -> MutexGuard<'_, Pipe> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut pipe = self.pipe();
        if pipe.input.is_empty() {
            return if pipe.hung_up {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = buf.len().min(pipe.input.len());
        for (to, from) in buf.iter_mut().zip(pipe.input.drain(..n)) {
            *to = from;
        }
        Ok(n)
    }

    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        let mut pipe = self.pipe();
        if pipe.hung_up {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        if pipe.room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(pipe.room);
        pipe.room -= n;
        pipe.written += n;
        Ok(n)
    }
}

#[derive(Debug)]
enum Server {
    Pull(PullServer),
    XPub(XPubServer),
    Router(RouterServer),
}

/// A server of either role with in-memory peers.
#[derive(Debug)]
pub struct Harness {
    server: Server,
    pipes: Vec<MemoryStream>,
    interests: Vec<Interest>,
    /// Single-frame messages taken, and multi-frame ones.
    pub frames: usize,
    pub multi_frame: usize,
    /// Frames over the limit, skipped.
    pub oversized: usize,
}

impl Harness {
    /// An ingest (PULL) server refusing frames over `max_frame` bytes (bound to nothing).
    pub fn pull(max_frame: u64) -> Result<Self, ZmtpError> {
        Ok(Self::new(Server::Pull(PullServer::bind(&[], max_frame)?)))
    }

    /// An events (XPUB) server with high-water mark `hwm` (bound to nothing).
    pub fn xpub(hwm: usize) -> Result<Self, ZmtpError> {
        Ok(Self::new(Server::XPub(XPubServer::bind(&[], hwm)?)))
    }

    /// An events (XPUB) server with small limits: `max_subscriptions` prefixes, 64 bytes of
    /// them, `hwm_bytes` queued per subscriber.
    pub fn xpub_limited(max_subscriptions: usize, hwm_bytes: usize) -> Result<Self, ZmtpError> {
        let limits = crate::Limits {
            max_subscriptions,
            max_subscription_bytes: 64,
            hwm_bytes,
            max_frame: 1024,
            ..crate::Limits::default()
        };
        let budget = crate::Budget::new(crate::SharedLimits {
            max_connections: 4,
            max_input_bytes: 64 * 1024,
            max_output_bytes: 4096,
        });
        Ok(Self::new(Server::XPub(XPubServer::bind_with(
            &[],
            limits,
            budget,
        )?)))
    }

    /// A control (ROUTER) server answering every request with its own frames.
    pub fn router(max_frame: u64) -> Result<Self, ZmtpError> {
        let limits = crate::Limits {
            max_frame,
            ..crate::Limits::default()
        };
        Ok(Self::new(Server::Router(RouterServer::bind_with(
            &[],
            limits,
            crate::Budget::default(),
        )?)))
    }

    fn new(server: Server) -> Self {
        Self {
            server,
            pipes: Vec::new(),
            interests: Vec::new(),
            frames: 0,
            multi_frame: 0,
            oversized: 0,
        }
    }

    fn inner(&mut self) -> &mut super::Server {
        match &mut self.server {
            Server::Pull(s) => &mut s.server,
            Server::XPub(s) => &mut s.server,
            Server::Router(s) => &mut s.server,
        }
    }

    /// A new connection, accepted as the server accepts one; returns its number.
    pub fn connect(&mut self, room: usize) -> usize {
        let stream = MemoryStream::default();
        stream.pipe().room = room;
        self.pipes.push(stream.clone());
        let server = self.inner();
        server.next_id += 1;
        let _ = server.budget.take_connection();
        let mut peer = Peer::new(
            server.next_id,
            Stream::Memory(stream),
            server.role,
            server.limits,
            server.budget.clone(),
        );
        peer.flush();
        server.peers.push(peer);
        self.pipes.len() - 1
    }

    /// Connections made so far (closed ones included).
    pub fn connections(&self) -> usize {
        self.pipes.len()
    }

    /// Connection `peer` sends `bytes`.
    pub fn send(&mut self, peer: usize, bytes: &[u8]) {
        if let Some(pipe) = self.pipes.get(peer) {
            pipe.pipe().input.extend(bytes);
        }
    }

    /// Connection `peer` closes its end.
    pub fn hang_up(&mut self, peer: usize) {
        if let Some(pipe) = self.pipes.get(peer) {
            pipe.pipe().hung_up = true;
        }
    }

    /// Connection `peer` reads `bytes` more of what the server wrote.
    pub fn drain(&mut self, peer: usize, bytes: usize) {
        if let Some(pipe) = self.pipes.get(peer) {
            let mut pipe = pipe.pipe();
            pipe.room = pipe.room.saturating_add(bytes);
        }
    }

    /// Bytes the server wrote to connection `peer`.
    pub fn written(&self, peer: usize) -> usize {
        self.pipes.get(peer).map_or(0, |p| p.pipe().written)
    }

    /// One turn of the daemon's loop: poll (every connection readable and writable), take what
    /// the poll said, then take every message (PULL) or subscription (XPUB) waiting.
    pub fn turn(&mut self) {
        let mut interests = std::mem::take(&mut self.interests);
        interests.clear();
        match &mut self.server {
            Server::Pull(s) => s.interests(&mut interests),
            Server::XPub(s) => s.interests(&mut interests),
            Server::Router(s) => s.interests(&mut interests),
        }
        let readiness: Vec<Readiness> = interests
            .iter()
            .map(|i| Readiness {
                readable: i.read,
                writable: i.write,
            })
            .collect();
        self.interests = interests;
        match &mut self.server {
            Server::Pull(s) => {
                s.ready(&readiness);
                while let Some(message) = s.recv() {
                    match message {
                        super::Message::Frame(_) => self.frames += 1,
                        super::Message::Frames(_) => self.multi_frame += 1,
                        super::Message::Oversized => self.oversized += 1,
                    }
                }
            }
            Server::XPub(s) => {
                s.ready(&readiness);
            }
            Server::Router(s) => {
                s.ready(&readiness);
                while let Some(request) = s.recv() {
                    self.frames += 1;
                    let (body, envelope) = request
                        .frames
                        .split_last()
                        .map_or((&[][..], &[][..]), |(b, e)| (b.as_slice(), e));
                    s.reply(request.peer, envelope, body);
                }
            }
        }
    }

    /// Input is waiting that the next turn would take without a poll.
    pub fn has_pending_input(&self) -> bool {
        match &self.server {
            Server::Pull(s) => s.has_pending_input(),
            Server::XPub(s) => s.has_pending_input(),
            Server::Router(s) => s.has_pending_input(),
        }
    }

    /// Publishes one message (XPUB; nothing for PULL) and flushes it.
    pub fn publish(&mut self, topic: &[u8], body: &[u8]) {
        if let Server::XPub(s) = &mut self.server {
            s.publish(topic, body);
            s.flush();
        }
    }

    /// Peers that finished the handshake.
    pub fn open_peers(&self) -> usize {
        match &self.server {
            Server::Pull(s) => s.peers(),
            Server::XPub(s) => s.subscribers(),
            Server::Router(s) => s.peers(),
        }
    }

    /// Messages dropped at the high-water mark (XPUB).
    pub fn dropped(&self) -> u64 {
        match &self.server {
            Server::Pull(_) | Server::Router(_) => 0,
            Server::XPub(s) => s.dropped(),
        }
    }

    /// The prefixes `peer`'s connection subscribes to, if it is still connected (XPUB).
    pub fn subscriptions(&self, peer: usize) -> Option<Vec<Vec<u8>>> {
        let Server::XPub(s) = &self.server else {
            return None;
        };
        let pipe = self.pipes.get(peer)?;
        s.server
            .peers
            .iter()
            .find(|p| matches!(&p.stream, Stream::Memory(m) if Arc::ptr_eq(&m.0, &pipe.0)))
            .map(|p| p.subscriptions.iter().map(<[u8]>::to_vec).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame;

    fn handshake(socket_type: &str) -> Vec<u8> {
        let mut bytes = frame::greeting().to_vec();
        frame::write_ready(&mut bytes, socket_type);
        bytes
    }

    #[test]
    fn a_push_peer_in_memory_delivers_its_messages() {
        let mut harness = Harness::pull(1 << 20).unwrap();
        let peer = harness.connect(1 << 20);
        let mut bytes = handshake("PUSH");
        frame::write_frame(&mut bytes, 0, br#"{"type":"a:b"}"#);
        frame::write_frame(&mut bytes, frame::MORE, b"x");
        frame::write_frame(&mut bytes, 0, b"y");
        // Byte by byte: every partial state of the handshake and the frames is visited.
        for byte in &bytes {
            harness.send(peer, std::slice::from_ref(byte));
            harness.turn();
        }
        assert_eq!(harness.open_peers(), 1);
        assert_eq!((harness.frames, harness.multi_frame), (1, 1));
        assert!(harness.written(peer) > frame::GREETING_LEN);
        harness.hang_up(peer);
        harness.turn();
        harness.turn();
        assert_eq!(harness.open_peers(), 0);
    }

    #[test]
    fn a_sub_peer_in_memory_subscribes_and_receives() {
        let mut harness = Harness::xpub(2).unwrap();
        let peer = harness.connect(0);
        let mut bytes = handshake("SUB");
        frame::write_frame(&mut bytes, 0, b"\x01core:");
        frame::write_command(&mut bytes, "SUBSCRIBE", b"x:");
        frame::write_command(&mut bytes, "CANCEL", b"x:");
        harness.send(peer, &bytes);
        harness.turn();
        assert_eq!(harness.subscriptions(peer), Some(vec![b"core:".to_vec()]));
        // Nothing read by the peer yet: the third message is over the mark.
        for _ in 0..3 {
            harness.publish(b"core:a:b:", b"{}");
        }
        assert_eq!(harness.dropped(), 1);
        harness.drain(peer, 1 << 20);
        harness.turn();
        assert!(harness.written(peer) > frame::GREETING_LEN + 2 * 12);
    }
}

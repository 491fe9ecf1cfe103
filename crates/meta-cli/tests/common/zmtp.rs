//! A hand-made ZMTP 3 client for tests that must behave as no library would: stop half way,
//! announce frames it never sends, ping and go silent.

// Helpers panic on failure: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const COMMAND: u8 = 0x04;

/// The path of an `ipc://` endpoint.
pub fn ipc_path(endpoint: &str) -> PathBuf {
    PathBuf::from(endpoint.strip_prefix("ipc://").expect("an ipc endpoint"))
}

/// A ZMTP 3.0 NULL greeting.
pub fn greeting() -> Vec<u8> {
    let mut greeting = vec![0u8; 64];
    greeting[0] = 0xff;
    greeting[9] = 0x7f;
    greeting[10] = 3;
    greeting[12..16].copy_from_slice(b"NULL");
    greeting
}

/// One frame on the wire, short or long form.
pub fn frame(flags: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 9);
    if let Ok(len) = u8::try_from(body.len()) {
        out.extend([flags, len]);
    } else {
        out.push(flags | 0x02);
        out.extend((body.len() as u64).to_be_bytes());
    }
    out.extend_from_slice(body);
    out
}

pub fn command(name: &str, data: &[u8]) -> Vec<u8> {
    let mut body = vec![u8::try_from(name.len()).unwrap()];
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    frame(COMMAND, &body)
}

pub fn ready(socket_type: &str) -> Vec<u8> {
    let mut data = vec![11u8];
    data.extend_from_slice(b"Socket-Type");
    data.extend((socket_type.len() as u32).to_be_bytes());
    data.extend_from_slice(socket_type.as_bytes());
    command("READY", &data)
}

pub struct RawPeer {
    pub stream: UnixStream,
}

impl RawPeer {
    /// Connected, nothing sent.
    pub fn connect(path: &Path) -> Self {
        let stream = UnixStream::connect(path).expect("the daemon listens");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Self { stream }
    }

    /// Connected and through the handshake as `socket_type`.
    pub fn handshake(path: &Path, socket_type: &str) -> Self {
        let mut peer = Self::connect(path);
        peer.send(&greeting());
        peer.send(&ready(socket_type));
        let mut theirs = [0u8; 64];
        peer.stream.read_exact(&mut theirs).unwrap();
        let (flags, body) = peer.read_frame().expect("the server's READY");
        assert!(flags & COMMAND != 0 && body[1..].starts_with(b"READY"));
        peer
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next frame; `None` at the end of the stream (the server closed it).
    pub fn read_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut head = [0u8; 2];
        self.stream.read_exact(&mut head).ok()?;
        let len = if head[0] & 0x02 != 0 {
            let mut rest = [0u8; 7];
            self.stream.read_exact(&mut rest).ok()?;
            let mut size = [0u8; 8];
            size[0] = head[1];
            size[1..].copy_from_slice(&rest);
            usize::try_from(u64::from_be_bytes(size)).unwrap()
        } else {
            usize::from(head[1])
        };
        let mut body = vec![0u8; len];
        self.stream.read_exact(&mut body).ok()?;
        Some((head[0], body))
    }

    /// Reads until the server closes the connection (failing the test past the read timeout);
    /// returns the reason of an ERROR command it sent first, if any.
    pub fn until_closed(&mut self) -> Option<String> {
        let mut reason = None;
        loop {
            let mut head = [0u8; 1];
            match self.stream.read(&mut head) {
                Ok(0) => return reason,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return reason,
                Err(e) => panic!("the server did not close the connection: {e}"),
            }
            let mut len = [0u8; 1];
            if self.stream.read_exact(&mut len).is_err() {
                return reason;
            }
            let mut body = vec![0u8; usize::from(len[0])];
            if self.stream.read_exact(&mut body).is_err() {
                return reason;
            }
            if head[0] & COMMAND != 0 && body[1..].starts_with(b"ERROR") {
                reason = Some(String::from_utf8_lossy(&body[7..]).into_owned());
            }
        }
    }
}

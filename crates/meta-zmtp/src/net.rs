//! Endpoints (`ipc://PATH`, `tcp://IP:PORT`), listeners and streams, all non-blocking.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;

use crate::ZmtpError;

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Ipc(PathBuf),
    Tcp(SocketAddr),
}

impl Endpoint {
    /// Parses `ipc://PATH` or `tcp://IP:PORT` (`*` for every interface, as libzmq writes it).
    pub fn parse(endpoint: &str) -> Result<Self, ZmtpError> {
        let bad = |reason: &str| ZmtpError::Endpoint {
            endpoint: endpoint.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(path) = endpoint.strip_prefix("ipc://") {
            if path.is_empty() {
                return Err(bad("an ipc endpoint needs a path"));
            }
            if path.starts_with('@') {
                return Err(bad(
                    "abstract ipc sockets (`@name`) are not served; use a path",
                ));
            }
            return Ok(Self::Ipc(PathBuf::from(path)));
        }
        if let Some(address) = endpoint.strip_prefix("tcp://") {
            let address = address
                .strip_prefix("*:")
                .map_or_else(|| address.to_owned(), |port| format!("0.0.0.0:{port}"));
            return address
                .parse()
                .map(Self::Tcp)
                .map_err(|_| bad("a tcp endpoint is tcp://IP:PORT, like tcp://127.0.0.1:5555"));
        }
        Err(bad("only ipc:// and tcp:// endpoints are served"))
    }
}

/// A bound listener. Dropping an ipc listener removes its socket file, as libzmq does.
#[derive(Debug)]
pub(crate) enum Listener {
    Ipc {
        listener: UnixListener,
        path: PathBuf,
    },
    Tcp(TcpListener),
}

impl Listener {
    pub(crate) fn bind(endpoint: &str) -> Result<Self, ZmtpError> {
        let bind_error = |source| ZmtpError::Bind {
            endpoint: endpoint.to_owned(),
            source,
        };
        let listener = match Endpoint::parse(endpoint)? {
            Endpoint::Ipc(path) => {
                // A file left by a process that died; the caller's lock makes it ours to reuse.
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(bind_error(e)),
                }
                let listener = UnixListener::bind(&path).map_err(bind_error)?;
                listener.set_nonblocking(true).map_err(bind_error)?;
                Self::Ipc { listener, path }
            }
            Endpoint::Tcp(address) => {
                let listener = TcpListener::bind(address).map_err(bind_error)?;
                listener.set_nonblocking(true).map_err(bind_error)?;
                Self::Tcp(listener)
            }
        };
        Ok(listener)
    }

    /// The next pending connection, or `None` when there is none.
    pub(crate) fn accept(&self) -> io::Result<Option<Stream>> {
        let accepted = match self {
            Self::Ipc { listener, .. } => listener.accept().map(|(s, _)| Stream::Unix(s)),
            Self::Tcp(listener) => listener.accept().and_then(|(s, _)| {
                // Events are small and latency matters more than packet count (libzmq does the same).
                s.set_nodelay(true)?;
                Ok(Stream::Tcp(s))
            }),
        };
        match accepted {
            Ok(stream) => {
                stream.set_nonblocking()?;
                Ok(Some(stream))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            // The peer gave up before we accepted it: not the listener's problem.
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn fd(&self) -> RawFd {
        match self {
            Self::Ipc { listener, .. } => listener.as_raw_fd(),
            Self::Tcp(listener) => listener.as_raw_fd(),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Self::Ipc { path, .. } = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A connected peer's stream.
#[derive(Debug)]
pub(crate) enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
    /// Bytes in memory instead of a socket, for the fuzz targets ([`crate::fuzzing`]).
    Memory(crate::server::fuzzing::MemoryStream),
}

impl Stream {
    fn set_nonblocking(&self) -> io::Result<()> {
        match self {
            Self::Unix(s) => s.set_nonblocking(true),
            Self::Tcp(s) => s.set_nonblocking(true),
            Self::Memory(_) => Ok(()),
        }
    }

    pub(crate) fn fd(&self) -> RawFd {
        match self {
            Self::Unix(s) => s.as_raw_fd(),
            Self::Tcp(s) => s.as_raw_fd(),
            Self::Memory(_) => -1,
        }
    }

    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Unix(s) => s.read(buf),
            Self::Tcp(s) => s.read(buf),
            Self::Memory(s) => s.read(buf),
        }
    }

    pub(crate) fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Unix(s) => s.write(buf),
            Self::Tcp(s) => s.write(buf),
            Self::Memory(s) => s.write(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_like_libzmq_writes_them() {
        assert_eq!(
            Endpoint::parse("ipc:///tmp/x.sock").unwrap(),
            Endpoint::Ipc("/tmp/x.sock".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:5555").unwrap(),
            Endpoint::Tcp("127.0.0.1:5555".parse().unwrap())
        );
        assert_eq!(
            Endpoint::parse("tcp://*:5555").unwrap(),
            Endpoint::Tcp("0.0.0.0:5555".parse().unwrap())
        );
        for bad in [
            "ipc://",
            "ipc://@x",
            "tcp://localhost",
            "inproc://x",
            "/tmp/x",
        ] {
            let error = Endpoint::parse(bad).unwrap_err().to_string();
            assert!(error.contains(bad), "{error}");
        }
    }
}

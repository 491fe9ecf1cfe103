//! The server side of ZMTP 3 (<https://rfc.zeromq.org/spec/23/>, NULL mechanism) for the bus
//! daemon's sockets: ingest (PULL), events (XPUB) and control (ROUTER).
//!
//! Why not libzmq here: a libzmq socket hands every message between the application thread and
//! libzmq's I/O thread, and each hand-off that finds the other side asleep is a wake-up. A
//! relay through libzmq (PULL in, PUB out) pays four of them per batch on top of the two peers',
//! and on a 2-core VM that capped the daemon at about half of raw libzmq PUSH → PULL. These
//! servers read, process and write on the caller's thread: one `read(2)` takes hundreds of
//! events, one `write(2)` per subscriber sends a whole batch. Peers are ordinary libzmq (or any
//! ZMTP 3) sockets: PUSH to [`PullServer`], SUB or XSUB to [`XPubServer`], REQ or DEALER to
//! [`RouterServer`] (control).
//!
//! No peer can crash, stall or bloat the process: connections, buffered input, queued output
//! and subscriptions all have ceilings ([`Limits`], [`Budget`]), and each refusal is counted
//! ([`Stats`]).
//!
//! Everything is non-blocking. The caller polls: [`PullServer::interests`] /
//! [`XPubServer::interests`] name the file descriptors (and whether to wait for writability),
//! and the poll's results go back through `ready` in the same order.

mod frame;
mod limits;
mod net;
mod peer;
mod prefixes;
mod server;

pub use limits::{Budget, Limits, SharedLimits, Stats};
pub use net::Endpoint;
/// Socket-free entry points for the fuzz targets in `fuzz/`; not a stable API.
#[doc(hidden)]
pub use server::fuzzing;
pub use server::{Interest, Message, PullServer, Readiness, Request, RouterServer, XPubServer};

/// Binding failed.
#[derive(Debug, thiserror::Error)]
pub enum ZmtpError {
    #[error("cannot use endpoint `{endpoint}`: {reason}")]
    Endpoint { endpoint: String, reason: String },
    #[error("cannot bind `{endpoint}`: {source}")]
    Bind {
        endpoint: String,
        #[source]
        source: std::io::Error,
    },
}

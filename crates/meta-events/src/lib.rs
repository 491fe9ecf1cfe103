//! The `meta` event bus, as a library: the event and its CloudEvents 1.0 JSON envelope
//! ([`event`]), the daemon's borrowed-parsing ingest path ([`ingest`]), the topic rule
//! ([`topic`]), the core events ([`core`]), the durable log ([`log`]), the lock protocol that
//! lets commands emit events with or without a daemon ([`lock`]), the client API everyone uses
//! ([`client`]), and status reports ([`status`]).
//!
//! Every ZeroMQ call lives in [`transport`], so another backend could replace it. The daemon
//! itself (the process) is the `meta-daemon` crate; this crate never prints and starts no
//! process. The wire protocol it implements is the contract in DESIGN.md section 3.

pub mod client;
pub mod core;
pub mod event;
pub mod id;
pub mod ingest;
pub mod lock;
pub mod log;
pub mod state;
pub mod status;
pub mod time;
pub mod topic;
pub mod transport;

pub use client::{Client, ClientError, EmitError, Emitted, Route, Subscription, emit};
pub use event::{DecodeError, Event, MetaValue, TypeError, validate_type};

/// A sequence as the envelope carries it: a decimal string zero-padded to 20 digits.
pub fn format_sequence(sequence: u64) -> String {
    format!("{sequence:020}")
}

/// Appends [`format_sequence`]'s text to `out` without allocating.
pub fn push_sequence(out: &mut Vec<u8>, sequence: u64) {
    let mut digits = [b'0'; 20];
    let mut rest = sequence;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
    }
    out.extend_from_slice(&digits);
}

#[cfg(test)]
mod tests {
    #[test]
    fn sequence_format() {
        assert_eq!(super::format_sequence(42), "00000000000000000042");
        let mut out = Vec::new();
        super::push_sequence(&mut out, u64::MAX);
        assert_eq!(out, u64::MAX.to_string().as_bytes());
        out.clear();
        super::push_sequence(&mut out, 7);
        assert_eq!(out, b"00000000000000000007");
    }
}

//! The ZMTP 3 servers (ingest PULL, events XPUB) fed arbitrary bytes through in-memory
//! connections (`meta_zmtp::fuzzing::Harness`): greeting, READY handshake, frames, commands
//! (SUBSCRIBE, CANCEL, PING, ERROR, …), fair queueing, the fan-out and its high-water mark.
//! Never a panic, and the loop never spins: after the input stops, a few turns leave nothing
//! pending.
//!
//! Input (see `fuzz/seeds/make_seeds.py`): byte 0 picks the role (bit 0: 0 = PULL, 1 = XPUB)
//! and a limit (PULL: max frame 16 B .. 1 MiB; XPUB: high-water mark 1 .. 4); then operations,
//! each an op byte `o` with `o % 8`:
//!   0..=3  connection `(o >> 3) % 4` sends the next `n` bytes (`n` = the byte after `o`)
//!   4      one turn of the daemon's loop
//!   5      a new connection, taking `64 * next byte` bytes of output before it blocks
//!   6      connection `(o >> 4) % 4` hangs up (bit 3 set) or reads `16 * next byte` bytes
//!   7      publish: topic (`next byte % 32` bytes), body (`next byte` bytes)
#![no_main]

use libfuzzer_sys::fuzz_target;
use meta_zmtp::fuzzing::Harness;

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let config = input.byte();
    // The low bit keeps the seeds' meaning (0: PULL, 1: XPUB); bits 5-6 pick the limited XPUB
    // and the ROUTER, so every server's states and ceilings are visited.
    let sizes = usize::from(config >> 1) % 4;
    let mut harness = match (config & 1, (config >> 5) & 3) {
        (0, 3) => Harness::router([16, 256, 4096, 1 << 16][sizes]),
        (0, _) => Harness::pull([16, 256, 4096, 1 << 20][sizes]),
        (_, 3) => Harness::xpub_limited(1 + sizes, 64 << sizes),
        (_, _) => Harness::xpub(1 + sizes),
    }
    .expect("a server bound to nothing");
    harness.connect(4096);
    while !input.0.is_empty() {
        let op = input.byte();
        let peer = usize::from(op >> 3) % 4;
        match op % 8 {
            0..=3 => {
                let n = usize::from(input.byte());
                let bytes = input.bytes(n);
                harness.send(peer % harness.connections(), bytes);
            }
            4 => harness.turn(),
            5 => {
                if harness.connections() < 8 {
                    harness.connect(64 * usize::from(input.byte()));
                }
            }
            6 => {
                let peer = usize::from(op >> 4) % harness.connections();
                if op & 8 != 0 {
                    harness.hang_up(peer);
                } else {
                    let n = 16 * usize::from(input.byte());
                    harness.drain(peer, n);
                }
            }
            _ => {
                let topic_len = usize::from(input.byte() % 32);
                let topic = input.bytes(topic_len);
                let body_len = usize::from(input.byte());
                let body = input.bytes(body_len);
                harness.publish(topic, body);
            }
        }
    }
    harness.turn();
    let mut turns = 0;
    while harness.has_pending_input() {
        turns += 1;
        assert!(
            turns < 64,
            "input stays pending turn after turn: the loop would spin"
        );
        harness.turn();
    }
    for peer in 0..harness.connections() {
        harness.hang_up(peer);
    }
    harness.turn();
    harness.turn();
    assert_eq!(
        harness.open_peers(),
        0,
        "a connection that hung up is still open"
    );
});

//! The servers against real libzmq peers (PUSH, SUB, PUB) and against raw bytes on the socket.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use meta_zmtp::{Interest, Message, PullServer, Readiness, XPubServer};

const WAIT: Duration = Duration::from_secs(10);

fn endpoint(dir: &Path, name: &str) -> String {
    format!("ipc://{}", dir.join(name).display())
}

/// Polls `interests` for up to `timeout` and returns what each reported.
fn poll(interests: &[Interest], timeout: Duration) -> Vec<Readiness> {
    let mut items: Vec<zmq::PollItem<'_>> = interests
        .iter()
        .map(|i| {
            let mut events = zmq::PollEvents::empty();
            if i.read {
                events |= zmq::POLLIN;
            }
            if i.write {
                events |= zmq::POLLOUT;
            }
            zmq::PollItem::from_fd(i.fd, events)
        })
        .collect();
    zmq::poll(&mut items, timeout.as_millis() as i64).unwrap();
    items
        .iter()
        .map(|i| Readiness {
            readable: i.is_readable() || i.is_error(),
            writable: i.is_writable(),
        })
        .collect()
}

fn turn_pull(server: &mut PullServer) {
    let mut interests = Vec::new();
    server.interests(&mut interests);
    let readiness = poll(&interests, Duration::from_millis(20));
    assert_eq!(server.ready(&readiness), readiness.len());
}

fn turn_xpub(server: &mut XPubServer) {
    let mut interests = Vec::new();
    server.interests(&mut interests);
    let readiness = poll(&interests, Duration::from_millis(20));
    assert_eq!(server.ready(&readiness), readiness.len());
}

/// Everything the server delivers until `count` messages came, as owned values (`Err(frames)`
/// for a multi-frame message, `Err(0)` for an oversized one).
fn take(server: &mut PullServer, count: usize) -> Vec<Result<Vec<u8>, usize>> {
    let started = Instant::now();
    let mut taken = Vec::new();
    while taken.len() < count {
        assert!(
            started.elapsed() < WAIT,
            "only {} of {count} arrived",
            taken.len()
        );
        turn_pull(server);
        while let Some(message) = server.recv() {
            taken.push(match message {
                Message::Frame(bytes) => Ok(bytes.to_vec()),
                Message::Frames(n) => Err(n),
                Message::Oversized => Err(0),
            });
        }
    }
    taken
}

fn wait_for(mut condition: impl FnMut() -> bool, what: &str) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
    }
}

#[test]
fn push_messages_of_every_size_arrive_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "in.sock");
    let mut server = PullServer::bind(std::slice::from_ref(&at), 16 << 20).unwrap();
    let context = zmq::Context::new();
    let push = context.socket(zmq::PUSH).unwrap();
    // Everything is queued before the server is driven.
    push.set_sndhwm(100_000).unwrap();
    push.connect(&at).unwrap();
    let sizes = [0usize, 1, 255, 256, 300, 70_000, 2 << 20];
    let mut sent = Vec::new();
    for i in 0..5000 {
        // The large ones once each; the rest event-sized.
        let size = sizes.get(i).copied().unwrap_or(sizes[i % 5]);
        let message: Vec<u8> = (0..size).map(|b| (b + i) as u8).collect();
        push.send(&message, 0).unwrap();
        sent.push(Ok(message));
    }
    let taken = take(&mut server, sent.len());
    assert!(taken == sent, "messages differ or came out of order");
    assert_eq!(server.peers(), 1);
}

#[test]
fn a_message_of_several_frames_is_counted_and_the_next_one_still_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "in.sock");
    let mut server = PullServer::bind(std::slice::from_ref(&at), 1 << 20).unwrap();
    let context = zmq::Context::new();
    let push = context.socket(zmq::PUSH).unwrap();
    push.connect(&at).unwrap();
    push.send_multipart([&b"a"[..], b"b", b"c"], 0).unwrap();
    push.send(&b"single"[..], 0).unwrap();
    assert_eq!(take(&mut server, 2), vec![Err(3), Ok(b"single".to_vec())]);
}

#[test]
fn every_publisher_gets_its_turn_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "in.sock");
    let mut server = PullServer::bind(std::slice::from_ref(&at), 1 << 20).unwrap();
    let context = zmq::Context::new();
    let pushers: Vec<zmq::Socket> = (0..3)
        .map(|_| {
            let push = context.socket(zmq::PUSH).unwrap();
            push.set_sndhwm(100_000).unwrap();
            push.connect(&at).unwrap();
            push
        })
        .collect();
    for i in 0..2000u32 {
        for (n, push) in pushers.iter().enumerate() {
            push.send(format!("{n}:{i}").as_bytes(), 0).unwrap();
        }
    }
    let taken = take(&mut server, 6000);
    for n in 0..3 {
        let from: Vec<u32> = taken
            .iter()
            .filter_map(|m| {
                let text = String::from_utf8(m.clone().unwrap()).unwrap();
                let (who, i) = text.split_once(':').unwrap();
                (who == n.to_string()).then(|| i.parse().unwrap())
            })
            .collect();
        assert_eq!(from, (0..2000).collect::<Vec<_>>(), "publisher {n}");
    }
}

#[test]
fn an_oversized_frame_is_skipped_as_it_arrives_and_its_connection_kept() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "in.sock");
    let mut server = PullServer::bind(std::slice::from_ref(&at), 1024).unwrap();
    let context = zmq::Context::new();
    let push = context.socket(zmq::PUSH).unwrap();
    push.connect(&at).unwrap();
    // Far over the limit: its bytes are read and thrown away, never buffered whole.
    push.send(vec![b'x'; 3 << 20], 0).unwrap();
    push.send(&[b'y'; 1024][..], 0).unwrap();
    assert_eq!(
        take(&mut server, 2),
        vec![Err(0), Ok(vec![b'y'; 1024])],
        "the oversized frame is reported, the next one arrives on the same connection"
    );
    assert_eq!(server.peers(), 1);
    assert_eq!(server.stats().oversized, 1);
}

#[test]
fn wrong_socket_types_and_garbage_are_refused_without_harm() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "in.sock");
    let mut server = PullServer::bind(std::slice::from_ref(&at), 1 << 20).unwrap();
    let context = zmq::Context::new();
    // A PUB may not feed a PULL: libzmq's handshake would refuse it too.
    let publisher = context.socket(zmq::PUB).unwrap();
    publisher.connect(&at).unwrap();
    let mut garbage = UnixStream::connect(dir.path().join("in.sock")).unwrap();
    garbage
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n......................................................")
        .unwrap();
    for _ in 0..20 {
        turn_pull(&mut server);
        assert!(server.recv().is_none());
        let _ = publisher.send(&b"never"[..], zmq::DONTWAIT);
    }
    assert_eq!(server.peers(), 0);
    // The garbage connection was closed by the server.
    garbage
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut rest = Vec::new();
    garbage.read_to_end(&mut rest).unwrap();
    let push = context.socket(zmq::PUSH).unwrap();
    push.connect(&at).unwrap();
    push.send(&b"fine"[..], 0).unwrap();
    assert_eq!(take(&mut server, 1), vec![Ok(b"fine".to_vec())]);
}

/// A hand-made ZMTP 3.1 client: greeting, READY as `socket_type`, and the server's in return.
fn raw_client(path: &Path, socket_type: &str) -> UnixStream {
    let mut stream = UnixStream::connect(path).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(&raw_handshake(socket_type)).unwrap();
    let mut theirs = [0u8; 64];
    stream.read_exact(&mut theirs).unwrap();
    assert_eq!(theirs[10], 3);
    let (flags, body) = read_frame(&mut stream);
    assert_eq!(flags, 0x04);
    assert!(body.starts_with(b"\x05READY"));
    stream
}

fn command(stream: &mut UnixStream, name: &str, data: &[u8]) {
    stream.write_all(&raw_command(name, data)).unwrap();
}

fn read_frame(stream: &mut UnixStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).unwrap();
    let len = if head[0] & 0x02 == 0 {
        usize::from(head[1])
    } else {
        let mut rest = [0u8; 7];
        stream.read_exact(&mut rest).unwrap();
        let mut size = [0u8; 8];
        size[0] = head[1];
        size[1..].copy_from_slice(&rest);
        usize::try_from(u64::from_be_bytes(size)).unwrap()
    };
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).unwrap();
    (head[0] & !0x02, body)
}

#[test]
fn ping_gets_a_pong_and_zmtp_3_1_subscribe_commands_work() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "events.sock");
    let mut server = XPubServer::bind(std::slice::from_ref(&at), 1000).unwrap();
    let path = dir.path().join("events.sock");
    let connecting = std::thread::spawn(move || {
        let mut client = raw_client(&path, "SUB");
        command(&mut client, "SUBSCRIBE", b"a:b:");
        command(&mut client, "PING", b"\x00\x0actx");
        client
    });
    wait_for(
        || {
            turn_xpub(&mut server);
            connecting.is_finished()
        },
        "the handshake",
    );
    let mut client = connecting.join().unwrap();
    wait_for(
        || {
            turn_xpub(&mut server);
            server.publish(b"a:b:c:", b"hello");
            server.flush();
            true
        },
        "a turn",
    );
    // PONG comes first (written as the PING was read), then the first matching message.
    let (flags, pong) = read_frame(&mut client);
    assert_eq!((flags, pong.as_slice()), (0x04, &b"\x04PONGctx"[..]));
    assert_eq!(read_frame(&mut client), (0x01, b"a:b:c:".to_vec()));
    assert_eq!(read_frame(&mut client), (0x00, b"hello".to_vec()));
}

#[test]
fn a_socket_that_cannot_subscribe_is_told_why() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "events.sock");
    let mut server = XPubServer::bind(std::slice::from_ref(&at), 1000).unwrap();
    let path = dir.path().join("events.sock");
    let connecting = std::thread::spawn(move || {
        let mut client = UnixStream::connect(&path).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        client.write_all(&raw_handshake("PUSH")).unwrap();
        let mut all = Vec::new();
        client.read_to_end(&mut all).unwrap();
        String::from_utf8_lossy(&all).into_owned()
    });
    wait_for(
        || {
            turn_xpub(&mut server);
            connecting.is_finished()
        },
        "the refusal",
    );
    let reply = connecting.join().unwrap();
    assert!(
        reply.contains("ERROR") && reply.contains("PUSH socket cannot connect to a XPUB"),
        "{reply}"
    );
    assert_eq!(server.subscribers(), 0);
}

/// A libzmq SUB on `at` with `prefixes`, once the server has its subscriptions.
fn subscriber(
    context: &zmq::Context,
    server: &mut XPubServer,
    at: &str,
    prefixes: &[&str],
) -> zmq::Socket {
    let sub = context.socket(zmq::SUB).unwrap();
    sub.set_rcvtimeo(5000).unwrap();
    sub.connect(at).unwrap();
    for prefix in prefixes {
        sub.set_subscribe(prefix.as_bytes()).unwrap();
    }
    // Probe until a message for each prefix comes back.
    for prefix in prefixes {
        let probe = format!("{prefix}probe:");
        wait_for(
            || {
                turn_xpub(server);
                server.publish(probe.as_bytes(), b"probe");
                server.flush();
                sub.poll(zmq::POLLIN, 10).unwrap() > 0
            },
            "the subscription",
        );
        while sub.poll(zmq::POLLIN, 50).unwrap() > 0 {
            sub.recv_multipart(0).unwrap();
        }
    }
    sub
}

#[test]
fn subscribers_get_what_matches_their_prefixes_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "events.sock");
    let mut server = XPubServer::bind(std::slice::from_ref(&at), 100_000).unwrap();
    let context = zmq::Context::new();
    let files = subscriber(&context, &mut server, &at, &["x:file:"]);
    let all = subscriber(&context, &mut server, &at, &[""]);
    assert_eq!(server.subscribers(), 2);
    let body = vec![b'j'; 300];
    for topic in ["x:file:created:", "x:filesystem:full:", "x:file:deleted:"] {
        server.publish(topic.as_bytes(), &body);
    }
    server.flush();
    let topics = |sub: &zmq::Socket, n: usize| -> Vec<String> {
        (0..n)
            .map(|_| {
                let frames = sub.recv_multipart(0).unwrap();
                assert_eq!(frames.len(), 2);
                assert_eq!(frames[1], body);
                String::from_utf8(frames[0].clone()).unwrap()
            })
            .collect()
    };
    assert_eq!(topics(&files, 2), ["x:file:created:", "x:file:deleted:"]);
    assert_eq!(
        topics(&all, 3),
        ["x:file:created:", "x:filesystem:full:", "x:file:deleted:"]
    );
    // Unsubscribing stops delivery; the other subscriber is not affected. The cancel travels
    // on its own; half a second of turns lets the server read it.
    files.set_unsubscribe(b"x:file:").unwrap();
    for _ in 0..25 {
        turn_xpub(&mut server);
    }
    server.publish(b"x:file:late:", b"late");
    server.flush();
    assert_eq!(all.recv_multipart(0).unwrap()[1], b"late");
    assert_eq!(files.poll(zmq::POLLIN, 200).unwrap(), 0, "still subscribed");
}

#[test]
fn a_subscriber_that_does_not_read_loses_messages_past_its_mark_and_blocks_no_one() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "events.sock");
    let mut server = XPubServer::bind(std::slice::from_ref(&at), 5000).unwrap();
    let context = zmq::Context::new();
    let stuck = subscriber(&context, &mut server, &at, &["t:"]);
    let prompt = subscriber(&context, &mut server, &at, &["t:"]);
    let body = vec![b'p'; 1000];
    let mut got = 0;
    for round in 1..=20 {
        for _ in 0..1000 {
            server.publish(b"t:x:", &body);
        }
        server.flush();
        // The prompt subscriber takes the whole round while the stuck one reads nothing.
        wait_for(
            || {
                while prompt.poll(zmq::POLLIN, 0).unwrap() > 0 {
                    prompt.recv_multipart(0).unwrap();
                    got += 1;
                }
                turn_xpub(&mut server);
                got == round * 1000
            },
            "the prompt subscriber's round",
        );
    }
    // 20,000 sent to each: the stuck one holds at most its mark, plus what the kernel and
    // its libzmq buffer, and missed the rest.
    assert!(server.dropped() >= 10_000, "dropped {}", server.dropped());
    drop(stuck);
}

#[test]
fn tcp_works_and_ipc_files_go_with_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let ipc = endpoint(dir.path(), "in.sock");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tcp = format!("tcp://127.0.0.1:{port}");
    let mut server = PullServer::bind(&[ipc, tcp.clone()], 1 << 20).unwrap();
    let context = zmq::Context::new();
    let push = context.socket(zmq::PUSH).unwrap();
    push.connect(&tcp).unwrap();
    push.send(&b"over tcp"[..], 0).unwrap();
    assert_eq!(take(&mut server, 1), vec![Ok(b"over tcp".to_vec())]);
    assert!(dir.path().join("in.sock").exists());
    drop(server);
    assert!(!dir.path().join("in.sock").exists());
    let error = PullServer::bind(&["udp://x".into()], 1).unwrap_err();
    assert!(
        error.to_string().contains("only ipc:// and tcp://"),
        "{error}"
    );
}

fn raw_frame(flags: u8, body: &[u8]) -> Vec<u8> {
    let mut frame = vec![flags, body.len() as u8];
    frame.extend_from_slice(body);
    frame
}

fn raw_command(name: &str, data: &[u8]) -> Vec<u8> {
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    raw_frame(0x04, &body)
}

/// A ZMTP 3.1 greeting and READY as `socket_type`, as bytes.
fn raw_handshake(socket_type: &str) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    out[0] = 0xff;
    out[9] = 0x7f;
    out[10] = 3;
    out[11] = 1;
    out[12..16].copy_from_slice(b"NULL");
    let mut data = vec![11u8];
    data.extend_from_slice(b"Socket-Type");
    data.extend_from_slice(&(socket_type.len() as u32).to_be_bytes());
    data.extend_from_slice(socket_type.as_bytes());
    out.extend(raw_command("READY", &data));
    out
}

#[test]
fn subscribing_twice_then_cancelling_unsubscribes_as_libzmq_does() {
    // A SUB sends SUBSCRIBE per call but CANCEL only when its own count reaches zero.
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "events.sock");
    let mut server = XPubServer::bind(std::slice::from_ref(&at), 100).unwrap();
    let context = zmq::Context::new();
    let sub = subscriber(&context, &mut server, &at, &["a:"]);
    sub.set_subscribe(b"a:").unwrap();
    sub.set_unsubscribe(b"a:").unwrap();
    sub.set_unsubscribe(b"a:").unwrap();
    for _ in 0..25 {
        turn_xpub(&mut server);
    }
    server.publish(b"a:late:", b"late");
    server.flush();
    assert_eq!(sub.poll(zmq::POLLIN, 200).unwrap(), 0, "still subscribed");
}

#[test]
fn what_a_publisher_sent_before_it_went_away_is_taken_even_when_a_reply_fails() {
    // The PING's PONG cannot be written (the peer is gone); the events after it still count.
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "in.sock");
    let mut server = PullServer::bind(std::slice::from_ref(&at), 1 << 20).unwrap();
    let mut client = UnixStream::connect(dir.path().join("in.sock")).unwrap();
    turn_pull(&mut server);
    let mut bytes = raw_handshake("PUSH");
    bytes.extend(raw_command("PING", b"\x00\x00"));
    bytes.extend(raw_frame(0, b"hello"));
    bytes.extend(raw_frame(0, b"world"));
    client.write_all(&bytes).unwrap();
    drop(client);
    let mut got = Vec::new();
    for _ in 0..20 {
        turn_pull(&mut server);
        while let Some(Message::Frame(m)) = server.recv() {
            got.push(m.to_vec());
        }
    }
    assert_eq!(got, vec![b"hello".to_vec(), b"world".to_vec()]);
}

#[test]
fn a_quiet_publisher_is_served_while_another_floods() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "in.sock");
    let mut server = PullServer::bind(std::slice::from_ref(&at), 1 << 20).unwrap();
    let context = zmq::Context::new();
    let flood = context.socket(zmq::PUSH).unwrap();
    flood.set_linger(0).unwrap();
    flood.connect(&at).unwrap();
    let quiet = context.socket(zmq::PUSH).unwrap();
    quiet.set_linger(0).unwrap();
    quiet.connect(&at).unwrap();
    wait_for(
        || {
            turn_pull(&mut server);
            while server.recv().is_some() {}
            server.peers() == 2
        },
        "both publishers",
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flooding = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = flood.send(&b"flood"[..], zmq::DONTWAIT);
            }
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    for i in 0..10 {
        quiet.send(format!("quiet {i}").as_bytes(), 0).unwrap();
    }
    // As the daemon does: a few batches, then a look at every socket; some work per message.
    let (started, mut quiet_got, mut since_poll) = (Instant::now(), 0, 0);
    while quiet_got < 10 && started.elapsed() < WAIT {
        match server.recv() {
            Some(Message::Frame(m)) => {
                quiet_got += usize::from(m.starts_with(b"quiet"));
                since_poll += 1;
                let spin = Instant::now();
                while spin.elapsed() < Duration::from_micros(20) {}
            }
            Some(Message::Frames(_) | Message::Oversized) => {}
            None => since_poll = 4096,
        }
        if since_poll >= 4096 {
            turn_pull(&mut server);
            since_poll = 0;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flooding.join().unwrap();
    assert_eq!(quiet_got, 10, "the quiet publisher starved");
}

#[test]
fn pongs_to_a_peer_that_pings_without_reading_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "events.sock");
    let mut server = XPubServer::bind(std::slice::from_ref(&at), 100).unwrap();
    let mut client = UnixStream::connect(dir.path().join("events.sock")).unwrap();
    let sent = 300_000;
    let writer = {
        let mut client = client.try_clone().unwrap();
        std::thread::spawn(move || {
            client.write_all(&raw_handshake("SUB")).unwrap();
            let ping = raw_command("PING", b"\x00\x00ctx");
            let burst: Vec<u8> = (0..1000).flat_map(|_| ping.iter().copied()).collect();
            for _ in 0..sent / 1000 {
                client.write_all(&burst).unwrap();
            }
        })
    };
    wait_for(
        || {
            turn_xpub(&mut server);
            writer.is_finished()
        },
        "the pings to be taken",
    );
    writer.join().unwrap();
    for _ in 0..10 {
        turn_xpub(&mut server);
    }
    // Everything queued for us: far fewer PONGs than PINGs.
    client
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut answered = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    while let Ok(n @ 1..) = client.read(&mut buf) {
        answered.extend_from_slice(&buf[..n]);
        turn_xpub(&mut server);
    }
    let pong = raw_command("PONG", b"ctx");
    let answers = answered
        .windows(pong.len())
        .filter(|w| *w == &pong[..])
        .count();
    assert!(answers > 0, "no PONG at all");
    assert!(
        answers < sent / 2,
        "{answers} PONGs for {sent} PINGs never read"
    );
}

#[test]
fn a_connection_that_never_finishes_its_handshake_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "in.sock");
    let mut server = PullServer::bind(std::slice::from_ref(&at), 1 << 20)
        .unwrap()
        .with_handshake_limit(Duration::from_millis(200));
    let mut silent = UnixStream::connect(dir.path().join("in.sock")).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let started = Instant::now();
    // Our greeting and READY arrive, then the end of the connection.
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        silent.read_to_end(&mut all).unwrap();
        all.len()
    });
    wait_for(
        || {
            turn_pull(&mut server);
            reader.is_finished()
        },
        "the silent connection to be closed",
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(reader.join().unwrap() >= 64);
    // A prompt peer is not affected.
    let context = zmq::Context::new();
    let push = context.socket(zmq::PUSH).unwrap();
    push.connect(&at).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    push.send(&b"still here"[..], 0).unwrap();
    assert_eq!(take(&mut server, 1), vec![Ok(b"still here".to_vec())]);
}

#[test]
fn a_libzmq_subscriber_with_heartbeats_stays_connected() {
    // libzmq PINGs every 50 ms and drops the connection if no PONG (or data) comes in 150 ms.
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "events.sock");
    let mut server = XPubServer::bind(std::slice::from_ref(&at), 1000).unwrap();
    let context = zmq::Context::new();
    let sub = context.socket(zmq::SUB).unwrap();
    sub.set_linger(0).unwrap();
    sub.set_heartbeat_ivl(50).unwrap();
    sub.set_heartbeat_timeout(150).unwrap();
    sub.set_heartbeat_ttl(1000).unwrap();
    sub.monitor("inproc://heartbeat-monitor", zmq::SocketEvent::ALL as i32)
        .unwrap();
    let monitor = context.socket(zmq::PAIR).unwrap();
    monitor.connect("inproc://heartbeat-monitor").unwrap();
    sub.connect(&at).unwrap();
    sub.set_subscribe(b"").unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        turn_xpub(&mut server);
    }
    let mut events = Vec::new();
    while let Ok(frames) = monitor.recv_multipart(zmq::DONTWAIT) {
        events.push(u16::from_le_bytes([frames[0][0], frames[0][1]]));
    }
    assert!(
        events.contains(&(zmq::SocketEvent::HANDSHAKE_SUCCEEDED as u16)),
        "{events:?}"
    );
    assert!(
        !events.contains(&(zmq::SocketEvent::DISCONNECTED as u16)),
        "the heartbeat dropped the connection: {events:?}"
    );
    server.publish(b"x:", b"y");
    server.flush();
    sub.set_rcvtimeo(2000).unwrap();
    assert_eq!(sub.recv_multipart(0).unwrap()[1], b"y");
}

#[test]
fn out_of_descriptors_the_server_rests_instead_of_spinning() {
    // Runs the check below in a child limited to 64 descriptors.
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -n 64 && exec \"$0\" --exact out_of_descriptors_check --ignored --nocapture",
        ])
        .arg(exe)
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// With every descriptor taken, a pending connection keeps the listener readable and accept
/// fails: polling it would return at once, forever. Only meaningful under a low `ulimit -n`.
#[test]
#[ignore = "run by out_of_descriptors_the_server_rests_instead_of_spinning under ulimit -n 64"]
fn out_of_descriptors_check() {
    let dir = tempfile::tempdir().unwrap();
    let at = endpoint(dir.path(), "in.sock");
    let mut server = PullServer::bind(std::slice::from_ref(&at), 1 << 20).unwrap();
    let path = dir.path().join("in.sock");
    let mut files = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        files.push(file);
    }
    // One descriptor for the client side of a connection the server cannot accept.
    files.pop();
    let _pending = UnixStream::connect(&path).unwrap();
    let started = Instant::now();
    for _ in 0..25 {
        // Each turn waits up to 20 ms when nothing is ready.
        turn_pull(&mut server);
        while server.recv().is_some() {}
    }
    let took = started.elapsed();
    assert!(server.wake_at().is_some(), "accept never failed");
    assert!(
        took >= Duration::from_millis(250),
        "25 idle turns took {took:?}: a busy loop"
    );
    drop(files);
}

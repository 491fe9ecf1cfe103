//! Import: this node's durable pull consumer, through the daemon, acknowledged after logging.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::DeliverPolicy, consumer::pull};
use futures_util::{FutureExt, StreamExt};
use meta_bridge::{BridgeState, Settings, wire};
use serde_json::{Value, json};

use crate::BridgeError;
use crate::session::SharedState;

/// Messages handed to the daemon in one `import` request at most.
const BATCH: usize = 256;
/// How long the daemon gets to log a batch.
const DAEMON_TIMEOUT: Duration = Duration::from_secs(10);
/// How soon an import the daemon answered "busy" goes again, and for how long at most.
const BUSY_RETRY: Duration = Duration::from_millis(50);
const BUSY_FOR_AT_MOST: Duration = Duration::from_secs(300);
/// How long the server waits for an acknowledgement before it delivers a message again (a
/// bridge that died between the daemon's logging and its acknowledgement).
const ACK_WAIT: Duration = Duration::from_secs(10);
/// Abandoned nodes' consumers go away by themselves.
const INACTIVE: Duration = Duration::from_secs(30 * 86_400);

/// Follows this node's consumer forever; returns the error that stopped it.
pub(crate) async fn follow(
    stream: &jetstream::stream::Stream,
    settings: &Settings,
    shared: &SharedState,
) -> BridgeError {
    match run(stream, settings, shared).await {
        Ok(never) => match never {},
        Err(error) => error,
    }
}

enum Never {}

async fn run(
    stream: &jetstream::stream::Stream,
    settings: &Settings,
    shared: &SharedState,
) -> Result<Never, BridgeError> {
    let failed = |e: &dyn std::fmt::Display| BridgeError::Import {
        reason: e.to_string(),
    };
    let deliver_policy = match settings.import_start {
        meta_bridge::settings::ImportStart::All => DeliverPolicy::All,
        meta_bridge::settings::ImportStart::New => DeliverPolicy::New,
        meta_bridge::settings::ImportStart::Since(age) => {
            let now = async_nats::datetime::DateTime::now_utc();
            DeliverPolicy::ByStartTime {
                start_time: now - age,
            }
        }
    };
    let consumer: jetstream::consumer::Consumer<pull::Config> = if settings.provision {
        stream
            .get_or_create_consumer(
                &settings.durable,
                pull::Config {
                    durable_name: Some(settings.durable.clone()),
                    deliver_policy,
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: ACK_WAIT,
                    max_ack_pending: 10_000,
                    filter_subject: meta_bridge::subject::scope_filter(&settings.scope),
                    inactive_threshold: INACTIVE,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| failed(&e))?
    } else {
        // The administrator's consumer, as configured on the server (DESIGN.md section 11).
        match stream.consumer_info(&settings.durable).await {
            Ok(_) => stream
                .get_consumer(&settings.durable)
                .await
                .map_err(|e| failed(&e))?,
            Err(e) if e.kind() == jetstream::context::ConsumerInfoErrorKind::NotFound => {
                return Err(BridgeError::NotProvisioned {
                    what: format!(
                        "durable consumer `{}` of stream `{}`",
                        settings.durable, settings.stream
                    ),
                });
            }
            Err(e) => return Err(failed(&e)),
        }
    };
    let mut messages = consumer.messages().await.map_err(|e| failed(&e))?;
    let client = meta_events::Client::new(settings.bus.clone());
    loop {
        let Some(first) = messages.next().await else {
            return Err(failed(&"the server ended the consumer's message stream"));
        };
        let mut batch = vec![first.map_err(|e| failed(&e))?];
        while batch.len() < BATCH {
            match messages.next().now_or_never() {
                Some(Some(Ok(message))) => batch.push(message),
                Some(Some(Err(e))) => return Err(failed(&e)),
                Some(None) | None => break,
            }
        }
        let mut events = Vec::new();
        let mut settle = Vec::new();
        for message in batch {
            let stream_seq = message.info().map_or(0, |i| i.stream_sequence);
            gap_check(settings, shared, &client, stream_seq).await;
            match wire::incoming(&message.payload, &settings.node) {
                Ok(incoming) if settings.import.admits(&incoming.ty) => {
                    events.push(Value::Object(incoming.event));
                    settle.push((message, AckKind::Ack));
                }
                Ok(_) | Err(wire::NotImported::Own) => settle.push((message, AckKind::Ack)),
                Err(wire::NotImported::Invalid(reason)) => {
                    tracing::warn!(%reason, "a message on the stream is not a meta event; terminated");
                    let mut shared = shared.borrow_mut();
                    shared.state.import_invalid += 1;
                    shared.dirty = true;
                    settle.push((message, AckKind::Term));
                }
            }
        }
        if !events.is_empty() {
            let (imported, duplicates) = hand_to_daemon(&client, events).await?;
            let mut shared = shared.borrow_mut();
            shared.state.imported += imported;
            shared.state.import_duplicates += duplicates;
            shared.dirty = true;
        }
        crash_point();
        for (message, kind) in settle {
            message.ack_with(kind).await.map_err(|e| failed(&e))?;
        }
    }
}

/// A test hook: `META_BRIDGE_CRASH_AFTER_IMPORT=1` ends the process after the daemon logged a
/// batch and before it is acknowledged (the redelivery must hit the daemon's dedup).
#[allow(clippy::disallowed_methods)] // a simulated crash: nothing may be flushed or cleaned up
fn crash_point() {
    if std::env::var_os("META_BRIDGE_CRASH_AFTER_IMPORT").is_some_and(|v| v == "1") {
        std::process::exit(86);
    }
}

/// Sends events to the daemon's `import` op; returns (logged, repeats dropped). A daemon still
/// reading its log for what it imported before answers "busy": the same request goes again a
/// little later (the messages stay unacknowledged meanwhile), for up to [`BUSY_FOR_AT_MOST`].
async fn hand_to_daemon(
    client: &meta_events::Client,
    events: Vec<Value>,
) -> Result<(u64, u64), BridgeError> {
    let request = json!({"op": meta_bridge::IMPORT_OP, "events": events});
    let started = tokio::time::Instant::now();
    let mut waited = false;
    let reply = loop {
        let (client, request) = (client.clone(), request.clone());
        let answer = tokio::task::spawn_blocking(move || client.request(&request, DAEMON_TIMEOUT))
            .await
            .map_err(|e| BridgeError::Import {
                reason: e.to_string(),
            })?;
        match answer {
            Err(meta_events::ClientError::Busy { .. }) if started.elapsed() < BUSY_FOR_AT_MOST => {
                waited = true;
                tokio::time::sleep(BUSY_RETRY).await;
            }
            other => break other,
        }
    };
    if waited {
        let waited_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            waited_ms,
            "the daemon was still reading its import index; the batch was sent again until it took it"
        );
    }
    let reply = reply
        .map_err(|e| BridgeError::Import {
            reason: format!("the daemon refused the import: {e}"),
        })?
        .ok_or_else(|| BridgeError::Import {
            reason: "the daemon did not answer the import".to_owned(),
        })?;
    let count = |key: &str| reply.get(key).and_then(Value::as_u64).unwrap_or(0);
    Ok((count("imported"), count("duplicates")))
}

/// The stream's retention removed messages this node never imported: record the gap.
async fn gap_check(
    settings: &Settings,
    shared: &SharedState,
    client: &meta_events::Client,
    stream_seq: u64,
) {
    let last = shared.borrow().state.import_stream_seq;
    if stream_seq == 0 {
        return;
    }
    if last > 0 && stream_seq > last + 1 {
        let (from, to) = (last + 1, stream_seq - 1);
        tracing::warn!(
            from,
            to,
            "the stream no longer holds messages this node never imported"
        );
        if let Ok(mut event) = meta_events::Event::new(
            meta_bridge::GAP_TYPE,
            Some(json!({
                "direction": "import",
                "stream": settings.stream,
                "from_stream_seq": from,
                "to_stream_seq": to,
                "missing": to - from + 1,
            })),
        ) {
            event = event.with_source(meta_bridge::SOURCE);
            let client = client.clone();
            let _ = tokio::task::spawn_blocking(move || client.publish(&event)).await;
        }
        let mut shared = shared.borrow_mut();
        shared.state.gaps += 1;
    }
    let mut shared = shared.borrow_mut();
    if stream_seq > shared.state.import_stream_seq {
        shared.state.import_stream_seq = stream_seq;
        shared.dirty = true;
    }
    if shared.state.state != BridgeState::CONNECTED {
        shared.dirty = true;
    }
}

//! Export: the log is the outbox, the cursor moves only past what the server acknowledged.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, context::PublishAckFuture, context::PublishErrorKind};
use meta_bridge::{Settings, subject, wire};
use meta_events::log::{LogCursor, line_sequence};

use crate::session::{SharedState, write_state};
use crate::{BridgeError, PushReport, WINDOW};

/// How often the cursor file is rewritten while events flow (and always when caught up).
const CURSOR_EVERY: Duration = Duration::from_millis(250);
/// Log lines the exporter reads between turns it gives the importer on the same thread.
const YIELD_EVERY: u32 = 1024;
/// Looking at the log for new lines: quick right after traffic; when idle, only when the daemon
/// publishes something (see [`wake_on_publish`]) or, for lines appended without a daemon, now
/// and then.
const POLL_MIN: Duration = Duration::from_millis(2);
const POLL_MAX: Duration = Duration::from_secs(5);

/// A line read from the log, on its way out.
struct InFlight {
    sequence: u64,
    ack: Option<PublishAckFuture>,
}

struct Exporter<'a> {
    js: &'a jetstream::Context,
    settings: &'a Settings,
    shared: &'a SharedState,
    reader: LogCursor,
    /// Lines up to here were read.
    read: u64,
    /// Lines up to here were acknowledged or needed nothing.
    cursor: u64,
    persist: bool,
    persisted: u64,
    persisted_at: Instant,
    inflight: VecDeque<InFlight>,
    report: PushReport,
}

impl<'a> Exporter<'a> {
    fn new(
        js: &'a jetstream::Context,
        settings: &'a Settings,
        shared: &'a SharedState,
        since: Option<u64>,
    ) -> Result<Self, BridgeError> {
        let (mut cursor, persist) = match since {
            Some(since) => (since.saturating_sub(1), false),
            None => (settings.files.cursor()?, true),
        };
        if persist && cursor > 0 {
            cursor = record_export_gap(settings, shared, cursor)?;
        }
        Ok(Self {
            js,
            settings,
            shared,
            reader: LogCursor::from_sequence(&settings.events_dir, cursor + 1),
            read: cursor,
            cursor,
            persist,
            persisted: cursor,
            persisted_at: Instant::now(),
            inflight: VecDeque::with_capacity(WINDOW),
            report: PushReport {
                cursor,
                ..PushReport::default()
            },
        })
    }

    /// Reads and sends what the log holds beyond what was read; true if anything was read.
    async fn pump(&mut self) -> Result<bool, BridgeError> {
        let mut any = false;
        let mut lines = 0u32;
        while let Some(line) = self.reader.next_line()? {
            lines = lines.wrapping_add(1);
            if lines.is_multiple_of(YIELD_EVERY) {
                // Lines not for export never await; the importer on this thread must not wait
                // while a long stretch of them (a log full of imported events) is read.
                tokio::task::yield_now().await;
            }
            let Some(sequence) = line_sequence(line) else {
                continue;
            };
            if sequence <= self.read {
                continue;
            }
            if self.persist && self.read > 0 && sequence > self.read + 1 {
                // The log's sequence is contiguous: retention removed these before we read them.
                emit_gap(self.settings, self.shared, self.read + 1, sequence - 1);
            }
            self.read = sequence;
            any = true;
            let outgoing = wire::outgoing(line, &self.settings.node)
                .ok()
                .filter(|out| self.settings.export.admits(&out.ty));
            let ack = match outgoing {
                None => None,
                Some(out) => self.send(out).await?,
            };
            self.inflight.push_back(InFlight { sequence, ack });
            if self.inflight.len() >= WINDOW {
                self.settle_one().await?;
            }
        }
        while !self.inflight.is_empty() {
            self.settle_one().await?;
        }
        self.save_cursor(true)?;
        Ok(any)
    }

    async fn send(&mut self, out: wire::Outgoing) -> Result<Option<PublishAckFuture>, BridgeError> {
        let node = &self.settings.node;
        let publish = jetstream::message::PublishMessage::build()
            .payload(bytes::Bytes::from(out.payload))
            .header("Content-Type", meta_bridge::CONTENT_TYPE)
            .header(meta_bridge::ORIGIN_HEADER, node.as_str())
            .message_id(&out.msg_id);
        let subject = subject::subject(&self.settings.scope, node, &out.ty);
        match self.js.send_publish(subject, publish).await {
            Ok(ack) => Ok(Some(ack)),
            Err(error) if error.kind() == PublishErrorKind::MaxPayloadExceeded => {
                tracing::warn!(%error, id = %out.msg_id, "event too large for the server; skipped");
                self.report.skipped_oversize += 1;
                let mut shared = self.shared.borrow_mut();
                shared.state.skipped_oversize += 1;
                shared.dirty = true;
                Ok(None)
            }
            Err(error) => Err(BridgeError::Publish {
                reason: error.to_string(),
            }),
        }
    }

    async fn settle_one(&mut self) -> Result<(), BridgeError> {
        let Some(front) = self.inflight.pop_front() else {
            return Ok(());
        };
        if let Some(ack) = front.ack {
            ack.await.map_err(|e| BridgeError::Publish {
                reason: e.to_string(),
            })?;
            self.report.exported += 1;
            let mut shared = self.shared.borrow_mut();
            shared.state.exported += 1;
            shared.dirty = true;
        }
        self.cursor = front.sequence;
        self.report.cursor = front.sequence;
        self.save_cursor(false)
    }

    fn save_cursor(&mut self, now: bool) -> Result<(), BridgeError> {
        if !self.persist || self.cursor == self.persisted {
            return Ok(());
        }
        if now || self.persisted_at.elapsed() >= CURSOR_EVERY {
            self.settings.files.set_cursor(self.cursor)?;
            self.persisted = self.cursor;
            self.persisted_at = Instant::now();
        }
        Ok(())
    }
}

/// The log's retention removed events after `cursor` that were never exported (the cap of
/// `[bridge].max_backlog_bytes` was reached): records `meta:bridge:gap` and returns the cursor
/// moved past them.
fn record_export_gap(
    settings: &Settings,
    shared: &SharedState,
    cursor: u64,
) -> Result<u64, BridgeError> {
    let oldest = meta_events::log::list_segments(&settings.events_dir)?
        .first()
        .map_or(0, |s| s.first);
    if oldest <= cursor + 1 {
        return Ok(cursor);
    }
    let (from, to) = (cursor + 1, oldest - 1);
    emit_gap(settings, shared, from, to);
    settings.files.set_cursor(to)?;
    Ok(to)
}

/// Logs `meta:bridge:gap` for local events `from..=to` that were removed unexported.
fn emit_gap(settings: &Settings, shared: &SharedState, from: u64, to: u64) {
    tracing::warn!(from, to, "the log dropped events before they were exported");
    let event = meta_events::Event::new(
        meta_bridge::GAP_TYPE,
        Some(serde_json::json!({
            "direction": "export",
            "from_sequence": from,
            "to_sequence": to,
            "missing": to - from + 1,
        })),
    )
    .map(|e| e.with_source(meta_bridge::SOURCE));
    if let (Ok(event), Ok(workspace)) = (event, meta_workspace::Workspace::open(&settings.root))
        && let Err(error) = meta_events::emit(&workspace, event)
    {
        tracing::warn!(%error, "cannot log the export gap");
    }
    let mut shared = shared.borrow_mut();
    shared.state.gaps += 1;
    shared.dirty = true;
}

/// Follows the log forever; returns the error that stopped it.
pub(crate) async fn follow(
    js: &jetstream::Context,
    settings: &Settings,
    shared: &SharedState,
    wake: &tokio::sync::Notify,
) -> BridgeError {
    let mut exporter = match Exporter::new(js, settings, shared, None) {
        Ok(exporter) => exporter,
        Err(error) => return error,
    };
    let mut poll = POLL_MIN;
    loop {
        match exporter.pump().await {
            Ok(true) => {
                poll = POLL_MIN;
                write_state(settings, shared);
            }
            Ok(false) => poll = (poll * 2).min(POLL_MAX),
            Err(error) => return error,
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// Sends everything up to the end of the log as it is now, then returns.
pub(crate) async fn drain(
    js: &jetstream::Context,
    settings: &Settings,
    shared: &SharedState,
    since: Option<u64>,
) -> Result<PushReport, BridgeError> {
    let mut exporter = Exporter::new(js, settings, shared, since)?;
    exporter.pump().await?;
    Ok(exporter.report)
}

/// A thread subscribed to the daemon's bus that wakes the exporter whenever an event is
/// published (everything the daemon logs is published right after), so an idle bridge sleeps
/// instead of polling the log. It lives as long as the service; the subscription reconnects by
/// itself when the daemon restarts.
pub(crate) fn wake_on_publish(settings: &Settings) -> std::sync::Arc<tokio::sync::Notify> {
    let notify = std::sync::Arc::new(tokio::sync::Notify::new());
    let wake = std::sync::Arc::clone(&notify);
    let client = meta_events::Client::new(settings.bus.clone());
    let spawned = std::thread::Builder::new()
        .name("bridge-wake".to_owned())
        .spawn(move || {
            let Ok(mut subscription) = client.subscribe(&[""]) else {
                return;
            };
            loop {
                match subscription.recv_ref(None) {
                    Ok(Some(_)) => wake.notify_one(),
                    Ok(None) => {}
                    Err(_) => return,
                }
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the wake-up thread; the log is polled instead");
    }
    notify
}

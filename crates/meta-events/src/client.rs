//! The one client API of the bus, used by the CLI, the daemon's tools, plugins and the SDK:
//! [`Client::publish`], [`Client::subscribe`], [`Client::ping`], [`Client::status`], and
//! [`emit`], which delivers an event whether or not a daemon runs (DESIGN.md 3.4).

use std::time::{Duration, Instant};

use meta_workspace::{BusEndpoints, Workspace, env};
use serde_json::{Value, json};

use crate::event::{DecodeError, Event};
use crate::ingest::{self, Fill};
use crate::lock::{self, EmitLock, LockError};
use crate::log::{LogCursor, LogError, LogWriter};
use crate::status::DaemonStatus;
use crate::transport::{Context, Delivery, Pusher, Subscriber, TransportError};

/// How long [`Client::publish`] lets queued events drain when the publisher is dropped.
pub const PUBLISH_LINGER: Duration = Duration::from_secs(2);
/// How long [`emit`] waits for a running daemon to log an event before giving up.
pub const EMIT_CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);
/// Messages a subscriber queues before the daemon drops for it.
pub const SUBSCRIBER_QUEUE: u32 = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Invalid(#[from] DecodeError),
    #[error("the daemon answered `{op}` with something that is not the expected JSON: {reason}")]
    BadReply { op: String, reason: String },
    #[error("the daemon refused `{op}`: {message}")]
    Refused { op: String, message: String },
    /// The daemon cannot serve `op` yet (it answered `"busy": true`); the same request may be
    /// sent again shortly.
    #[error("the daemon cannot serve `{op}` yet: {message}")]
    Busy { op: String, message: String },
}

/// A connection-less handle on one daemon's endpoints. Sockets are made per operation, so a
/// `Client` is cheap and never goes stale when the daemon restarts.
#[derive(Debug, Clone)]
pub struct Client {
    context: Context,
    endpoints: BusEndpoints,
}

impl Client {
    pub fn new(endpoints: BusEndpoints) -> Self {
        Self {
            context: Context::new(),
            endpoints,
        }
    }

    /// The bus of the meta-repo `workspace`.
    pub fn for_workspace(workspace: &Workspace) -> Self {
        Self::new(workspace.bus_endpoints())
    }

    /// The bus named by `META_BUS_INGEST`, `META_BUS_EVENTS` and `META_BUS_CONTROL` (set for
    /// every plugin process); `None` when any is missing.
    pub fn from_env() -> Option<Self> {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Some(Self::new(BusEndpoints {
            ingest: var(env::META_BUS_INGEST)?,
            events: var(env::META_BUS_EVENTS)?,
            control: var(env::META_BUS_CONTROL)?,
        }))
    }

    pub fn endpoints(&self) -> &BusEndpoints {
        &self.endpoints
    }

    /// Sends one event to the daemon (PUSH). Returns once it is queued; dropping the client's
    /// socket then waits up to [`PUBLISH_LINGER`] for it to leave. There is no acknowledgement:
    /// use [`emit`] when the event must land even without a daemon.
    pub fn publish(&self, event: &Event) -> Result<(), ClientError> {
        self.publisher()?.publish(event)
    }

    /// A long-lived publisher, for sending many events over one connection.
    pub fn publisher(&self) -> Result<Publisher, ClientError> {
        Ok(Publisher {
            pusher: Pusher::connect(&self.context, &self.endpoints.ingest, PUBLISH_LINGER)?,
        })
    }

    /// Subscribes to events whose type starts with one of `prefixes` (the topic rule: `core:file`
    /// and `core:file:` both mean every `core:file:…` event); no prefix means every event.
    pub fn subscribe<S: AsRef<str>>(&self, prefixes: &[S]) -> Result<Subscription, ClientError> {
        let prefixes: Vec<String> = prefixes
            .iter()
            .map(|p| crate::topic::normalize_prefix(p.as_ref()))
            .collect();
        Ok(Subscription {
            subscriber: Subscriber::connect(
                &self.context,
                &self.endpoints.events,
                &prefixes,
                SUBSCRIBER_QUEUE,
            )?,
        })
    }

    /// Sends a control request and returns the reply; `None` when no daemon answered in time.
    pub fn request(
        &self,
        request: &Value,
        timeout: Duration,
    ) -> Result<Option<Value>, ClientError> {
        let op = request
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let body = request.to_string();
        let Some(reply) = crate::transport::request(
            &self.context,
            &self.endpoints.control,
            body.as_bytes(),
            timeout,
        )?
        else {
            return Ok(None);
        };
        reply_of(op, &reply).map(Some)
    }

    /// `{"op": "ping"}`: true when the daemon answered within `timeout`.
    pub fn ping(&self, timeout: Duration) -> Result<bool, ClientError> {
        Ok(self.request(&json!({"op": "ping"}), timeout)?.is_some())
    }

    /// `{"op": "status"}`: the daemon's own report, or `None` without an answer in time.
    pub fn status(&self, timeout: Duration) -> Result<Option<DaemonStatus>, ClientError> {
        let Some(reply) = self.request(&json!({"op": "status"}), timeout)? else {
            return Ok(None);
        };
        serde_json::from_value(reply)
            .map(Some)
            .map_err(|e| ClientError::BadReply {
                op: "status".into(),
                reason: e.to_string(),
            })
    }

    /// `{"op": "stop"}`: asks the daemon to stop gracefully; true when it agreed.
    pub fn stop(&self, timeout: Duration) -> Result<bool, ClientError> {
        Ok(self.request(&json!({"op": "stop"}), timeout)?.is_some())
    }
}

/// A PUSH connection to the daemon's ingest.
#[derive(Debug)]
pub struct Publisher {
    pusher: Pusher,
}

impl Publisher {
    /// Validates and queues one event.
    pub fn publish(&self, event: &Event) -> Result<(), ClientError> {
        let json = event.to_json();
        ingest::check(json.as_bytes())?;
        self.pusher.send(json.as_bytes())?;
        Ok(())
    }

    /// Queues raw bytes as they are (for tools that build the JSON themselves).
    pub fn publish_raw(&self, json: &[u8]) -> Result<(), ClientError> {
        self.pusher.send(json)?;
        Ok(())
    }
}

/// A live subscription.
#[derive(Debug)]
pub struct Subscription {
    subscriber: Subscriber,
}

/// One delivered event: its topic frame and its JSON as the daemon sent it. Decoding is left to
/// [`Received::event`], so a consumer that only counts or forwards pays nothing for it.
#[derive(Debug)]
pub struct Received {
    pub topic: Vec<u8>,
    pub json: Vec<u8>,
}

impl Received {
    /// The decoded (and validated) event.
    pub fn event(&self) -> Result<Event, DecodeError> {
        Event::from_json(&self.json)
    }

    /// The event's type, read from the topic frame (`type` + `:`).
    pub fn ty(&self) -> &str {
        std::str::from_utf8(&self.topic)
            .unwrap_or("")
            .strip_suffix(':')
            .unwrap_or("")
    }
}

impl Subscription {
    /// The next event's topic frame and JSON, lent until the next call (no allocation).
    pub fn recv_ref(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<crate::transport::Frames<'_>>, ClientError> {
        Ok(self.subscriber.recv_ref(timeout)?)
    }

    /// The next event, waiting up to `timeout` (`None`: forever).
    pub fn recv(&mut self, timeout: Option<Duration>) -> Result<Option<Received>, ClientError> {
        let Some(Delivery { topic, body }) = self.subscriber.recv(timeout)? else {
            return Ok(None);
        };
        Ok(Some(Received { topic, json: body }))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error(transparent)]
    Invalid(#[from] DecodeError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("the daemon did not log the event within {waited:?}; it may be stuck")]
    NotConfirmed { waited: Duration },
}

/// How an emitted event reached the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// No daemon: appended by this process.
    Embedded,
    /// Logged by the running daemon.
    Daemon,
    /// The daemon went away before logging it: appended by this process.
    Fallback,
}

/// An event as it landed in the log.
#[derive(Debug, Clone)]
pub struct Emitted {
    pub sequence: u64,
    /// The log line (without its newline).
    pub json: String,
    pub route: Route,
}

/// Delivers `event` to the log of `workspace`'s meta-repo, with or without a daemon
/// (DESIGN.md 3.4), and returns it as logged.
///
/// Without a daemon it appends under the log lock. With one it sends the event to ingest and
/// waits until the daemon has logged it (it watches the log for the event's `id`). If the daemon
/// dies first, it takes the locks, checks the log once more for the id, and appends the event
/// only if the daemon had not: no event is lost, none is logged twice, and nothing waits longer
/// than [`EMIT_CONFIRM_TIMEOUT`] on a live but stuck daemon.
pub fn emit(workspace: &Workspace, mut event: Event) -> Result<Emitted, EmitError> {
    let id = event.ensure_id().to_owned();
    if event.source.is_none() {
        event.source = Some(crate::core::CLI_SOURCE.to_owned());
    }
    let json = event.to_json();
    ingest::check(json.as_bytes())?;
    let run_dir = workspace.run_dir();
    let events_dir = workspace.events_dir();
    match lock::lock_for_emit(&run_dir)? {
        EmitLock::Embedded { daemon, log } => {
            let emitted = append(workspace, json.as_bytes(), Route::Embedded)?;
            drop((log, daemon));
            Ok(emitted)
        }
        EmitLock::Daemon => {
            let needle = id_needle(&id);
            let mut cursor = LogCursor::at(&events_dir, LogCursor::end(&events_dir)?);
            let context = Context::new();
            let endpoint = workspace.bus_endpoints().ingest;
            // Linger 0: once we stop waiting, nothing may reach a later daemon behind our back.
            let pusher = Pusher::connect(&context, &endpoint, Duration::ZERO)?;
            pusher.send(json.as_bytes())?;
            let started = Instant::now();
            let mut pause = Duration::from_micros(100);
            loop {
                if let Some(found) = find_line(&mut cursor, &needle)? {
                    return Ok(found);
                }
                if let EmitLock::Embedded { daemon, log } = lock::lock_for_emit(&run_dir)? {
                    // The daemon is gone. Whatever it logged is final now: look once more.
                    drop(pusher);
                    if let Some(mut found) = find_line(&mut cursor, &needle)? {
                        found.route = Route::Daemon;
                        return Ok(found);
                    }
                    let emitted = append(workspace, json.as_bytes(), Route::Fallback)?;
                    drop((log, daemon));
                    return Ok(emitted);
                }
                if started.elapsed() >= EMIT_CONFIRM_TIMEOUT {
                    return Err(EmitError::NotConfirmed {
                        waited: started.elapsed(),
                    });
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(5));
            }
        }
    }
}

fn id_needle(id: &str) -> Vec<u8> {
    let mut needle = b"\"id\":".to_vec();
    needle.extend_from_slice(Value::String(id.to_owned()).to_string().as_bytes());
    needle
}

fn find_line(cursor: &mut LogCursor, needle: &[u8]) -> Result<Option<Emitted>, LogError> {
    while let Some(line) = cursor.next_line()? {
        if line.windows(needle.len()).any(|w| w == needle) {
            let sequence = crate::log::line_sequence(line).unwrap_or(0);
            return Ok(Some(Emitted {
                sequence,
                json: String::from_utf8_lossy(line).into_owned(),
                route: Route::Daemon,
            }));
        }
    }
    Ok(None)
}

/// Appends one event as its own writer (the caller holds the locks).
fn append(workspace: &Workspace, json: &[u8], route: Route) -> Result<Emitted, EmitError> {
    let mut writer = LogWriter::open_workspace(workspace)?;
    let sequence = writer.next_sequence();
    let mut time = [0u8; crate::time::LEN];
    let fill = Fill {
        sequence,
        source: crate::core::CLI_SOURCE,
        time: crate::time::format_now(&mut time),
    };
    let mut line = Vec::with_capacity(json.len() + 128);
    let accepted = ingest::normalize(json, &fill, &mut line)?;
    writer.append(&line, 1)?;
    drop(writer);
    let end = accepted.line.end - 1;
    Ok(Emitted {
        sequence,
        json: String::from_utf8_lossy(&line[..end]).into_owned(),
        route,
    })
}

/// A control reply as the caller gets it: a refusal (`"ok": false`) is an error, and one marked
/// `"busy": true` the kind that asks to send again.
fn reply_of(op: String, reply: &[u8]) -> Result<Value, ClientError> {
    let value: Value = serde_json::from_slice(reply).map_err(|e| ClientError::BadReply {
        op: op.clone(),
        reason: e.to_string(),
    })?;
    if value.get("ok") == Some(&Value::Bool(false)) {
        let message = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no reason given")
            .to_owned();
        if value.get("busy") == Some(&Value::Bool(true)) {
            return Err(ClientError::Busy { op, message });
        }
        return Err(ClientError::Refused { op, message });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_an_answer_a_refusal_or_busy() {
        let op = || "import".to_owned();
        let answer = reply_of(op(), br#"{"ok": true, "imported": 2}"#).unwrap();
        assert_eq!(answer["imported"], 2);
        assert!(matches!(
            reply_of(op(), br#"{"ok": false, "error": "no"}"#),
            Err(ClientError::Refused { message, .. }) if message == "no"
        ));
        assert!(matches!(
            reply_of(op(), br#"{"ok": false, "busy": true, "error": "later"}"#),
            Err(ClientError::Busy { message, .. }) if message == "later"
        ));
        // "busy" means nothing on an answer that is not a refusal.
        assert!(reply_of(op(), br#"{"ok": true, "busy": true}"#).is_ok());
        assert!(matches!(
            reply_of(op(), b"not json"),
            Err(ClientError::BadReply { .. })
        ));
    }
}

//! How other parts of `meta` plug into the daemon without touching its loop.
//!
//! A [`Component`] (the plugin host, the file watcher…) is called on the daemon's thread: once at
//! start, for the control ops it claims, when its deadline passes or the loop is woken, for its
//! entry in `status`, and once at stop. From those calls it emits events with
//! [`ComponentContext::emit`]; from its own threads it publishes through a [`PublishHandle`],
//! which feeds the same validate → sequence → log → publish path as ingest, and wakes the loop
//! with a [`Waker`] (for example when a child process exits).

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use meta_events::Event;
use meta_events::client::ClientError;
use meta_events::transport::{Context, Pusher, TransportError};
use meta_workspace::BusEndpoints;
use serde_json::Value;

/// A part of the daemon with a life of its own. Every method runs on the daemon's thread and
/// must not block for long: it holds up every event.
pub trait Component: Send {
    /// Short name: the key of its entry in `status` and in log messages.
    fn name(&self) -> &str;

    /// Called once, after the sockets are bound and `core:system:startup` is logged. An error
    /// is logged and the component left out; the daemon keeps running.
    fn start(&mut self, ctx: &mut ComponentContext<'_>) -> Result<(), String> {
        let _ = ctx;
        Ok(())
    }

    /// Control ops this component answers (beyond the daemon's `ping`, `status`, `stop`), e.g.
    /// `plugins-reload`.
    fn ops(&self) -> &[&str] {
        &[]
    }

    /// Answers the control request `request` (the whole JSON object) for `op`. `Ok` values are
    /// sent back with `"ok": true` added when they are objects; `Err` becomes
    /// `{"ok": false, "error": ...}`.
    fn handle(
        &mut self,
        op: &str,
        request: &Value,
        ctx: &mut ComponentContext<'_>,
    ) -> Result<Value, String> {
        let _ = (request, ctx);
        Err(format!("`{op}` is not handled by {}", self.name()))
    }

    /// This component's entry under `components` in the daemon's status.
    fn status(&self) -> Value {
        Value::Null
    }

    /// When the loop should next call [`Component::tick`] without being woken.
    fn deadline(&self) -> Option<Instant> {
        None
    }

    /// Called when the deadline passed or a [`Waker`] woke the loop.
    fn tick(&mut self, ctx: &mut ComponentContext<'_>) {
        let _ = ctx;
    }

    /// Called once when the daemon stops, before `core:system:shutdown`.
    fn stop(&mut self, ctx: &mut ComponentContext<'_>) {
        let _ = ctx;
    }
}

/// What a component gets in each call.
pub struct ComponentContext<'a> {
    pub(crate) pending: &'a mut Vec<Event>,
    pub(crate) publish: &'a PublishHandle,
    pub(crate) waker: &'a Waker,
    pub(crate) root: &'a Path,
    pub(crate) endpoints: &'a BusEndpoints,
}

impl ComponentContext<'_> {
    /// Emits an event through the daemon's pipeline right after this call returns.
    pub fn emit(&mut self, event: Event) {
        self.pending.push(event);
    }

    /// A handle other threads publish through.
    pub fn publish_handle(&self) -> PublishHandle {
        self.publish.clone()
    }

    /// A handle other threads wake the loop with.
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// The meta-repo root.
    pub fn root(&self) -> &Path {
        self.root
    }

    /// The bus endpoints (for `META_BUS_*` of child processes).
    pub fn endpoints(&self) -> &BusEndpoints {
        self.endpoints
    }
}

/// Publishes into the daemon from any thread of its process. Cheap to clone; each thread
/// [`PublishHandle::connect`]s its own [`InprocPublisher`].
#[derive(Clone)]
pub struct PublishHandle {
    pub(crate) context: Context,
    pub(crate) endpoint: String,
}

impl std::fmt::Debug for PublishHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishHandle")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl PublishHandle {
    pub fn connect(&self) -> Result<InprocPublisher, TransportError> {
        Ok(InprocPublisher {
            pusher: Pusher::connect(&self.context, &self.endpoint, Duration::from_secs(1))?,
        })
    }
}

/// One thread's in-process connection to the daemon. Sending waits when the daemon is 100,000
/// events behind, so a burst is never dropped.
#[derive(Debug)]
pub struct InprocPublisher {
    pusher: Pusher,
}

impl InprocPublisher {
    /// Validates and sends one event. `source` defaults to `/meta/daemon`.
    pub fn publish(&self, event: &Event) -> Result<(), ClientError> {
        let json = event.to_json();
        meta_events::ingest::check(json.as_bytes())?;
        self.pusher.send(json.as_bytes())?;
        Ok(())
    }

    /// Sends JSON as it is; the daemon validates it like anything on ingest.
    pub fn publish_raw(&self, json: &[u8]) -> Result<(), TransportError> {
        self.pusher.send(json)
    }
}

/// Wakes the daemon's loop so components get a [`Component::tick`].
#[derive(Clone, Debug)]
pub struct Waker {
    pub(crate) socket: Arc<UnixDatagram>,
}

impl Waker {
    pub fn wake(&self) {
        // A full socket buffer already means "wake up"; nothing to do on error.
        let _ = self.socket.send(&[1]);
    }
}

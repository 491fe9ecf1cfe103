//! The `meta` bus daemon (DESIGN.md 3.2–3.5), as a library: `meta daemon run` is
//! [`Daemon::start`] then [`Daemon::run`].
//!
//! One thread owns everything: it waits on the ingest PULL and the events XPUB (served on this
//! thread by `meta-zmtp`: connections, subscriptions, subscribers ready for more), the
//! in-process PULL (threads of this process publishing through a [`PublishHandle`]), the
//! control ROUTER and a wake socket (signals, [`Waker`]s). Events are taken in batches:
//! validated and filled in straight from the received bytes, appended to the log with one
//! write, then fanned out with one write per subscriber. Control ops beyond `ping`/`status`/`stop` and periodic work belong to
//! [`Component`]s.
//!
//! It is not the CLI: it prints nothing (diagnostics go through `tracing`) and does not daemonise
//! itself; `meta daemon start` does that.
//!
//! ```no_run
//! use meta_daemon::{Component, ComponentContext, Daemon, DaemonOptions};
//! use serde_json::{Value, json};
//!
//! /// Answers `{"op": "hello"}` and emits an event each time.
//! struct Hello;
//!
//! impl Component for Hello {
//!     fn name(&self) -> &'static str { "hello" }
//!     fn ops(&self) -> &[&str] { &["hello"] }
//!     fn handle(&mut self, _op: &str, _req: &Value, ctx: &mut ComponentContext<'_>)
//!         -> Result<Value, String> {
//!         ctx.emit(meta_events::Event::new("hello:greeted:once", None).map_err(|e| e.to_string())?);
//!         Ok(json!({ "greeting": "hello" }))
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let workspace = meta_workspace::Workspace::discover(std::path::Path::new("."))?;
//! let mut daemon = Daemon::start(&workspace, DaemonOptions::default())?;
//! daemon.add_component(Box::new(Hello));
//! // Threads of this process publish through the same pipeline:
//! let publisher = daemon.publish_handle().connect()?;
//! std::thread::spawn(move || {
//!     let event = meta_events::Event::new("hello:thread:up", None).expect("valid type");
//!     let _ = publisher.publish(&event);
//! });
//! daemon.run()?; // until `meta daemon stop`, SIGTERM or SIGINT
//! # Ok(())
//! # }
//! ```

mod component;
mod fds;
mod import;
mod memory;

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use component::{Component, ComponentContext, InprocPublisher, PublishHandle, Waker};
use meta_events::Event;
use meta_events::core::DAEMON_SOURCE;
use meta_events::ingest::{self, Fill};
use meta_events::lock::{self, LockError, LockGuard};
use meta_events::log::{LogError, LogWriter};
use meta_events::state::{self, DaemonState, Endpoints};
use meta_events::status::{Counters, DaemonStatus, LogSummary};
use meta_events::transport::{
    BindSpec, BusLimits, Context, DaemonSockets, Incoming, TransportError,
};
use meta_workspace::{BusEndpoints, Workspace};
use serde_json::{Value, json};

/// Events taken from a socket before they are logged and published together.
const BATCH: usize = 512;
/// Batches taken between two looks at all the sockets.
const BATCHES_PER_TURN: usize = 8;
/// Deliveries (an event matched for one subscriber: queued, or dropped at its mark) between two
/// looks at all the sockets: with many subscribers a turn takes fewer events, so control and
/// new peers wait no longer.
const DELIVERIES_PER_TURN: usize = 64 * 1024;
/// Bytes of log lines a batch holds at most (512 events of up to 1 MiB would be 512 MiB).
const BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Control requests answered in one turn (a client that floods control does not hold the loop).
const CONTROL_PER_TURN: usize = 64;
/// Turns of [`BATCHES_PER_TURN`] a stopping daemon takes at most from publishers.
const SHUTDOWN_TURNS: usize = 64;
/// How long a stopping daemon waits for subscribers to take their last events.
const SHUTDOWN_LINGER: Duration = Duration::from_millis(500);
/// How long a starting daemon waits for commands that are appending to the log.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Longest ipc socket path libzmq accepts.
const MAX_IPC_PATH: usize = 107;

/// Why the daemon could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("another daemon already runs for this meta-repo{}", pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    AlreadyRunning { pid: Option<u32> },
    #[error(transparent)]
    Lock(LockError),
    #[error("cannot create the runtime folder `{}`", path.display())]
    RuntimeDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the runtime folder `{}` belongs to another user (uid {owner}); refusing to put sockets there", path.display())]
    RuntimeDirOwner { path: PathBuf, owner: u32 },
    #[error(
        "the socket path `{path}` is longer than {MAX_IPC_PATH} bytes, the limit of ipc endpoints"
    )]
    PathTooLong { path: String },
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("cannot write the daemon state file `{}`", path.display())]
    State {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot set up signal handling")]
    Signals(#[source] io::Error),
}

/// How to run.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Reported in `core:system:startup` and status.
    pub version: String,
    /// Stop gracefully on SIGTERM and SIGINT (off for daemons run inside tests).
    pub handle_signals: bool,
    /// How long to wait for emitting commands to release the log at start.
    pub lock_wait: Duration,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        Self {
            version: String::from("unknown"),
            handle_signals: true,
            lock_wait: LOCK_WAIT,
        }
    }
}

/// Why the daemon stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// A control `stop` request (`meta daemon stop`).
    Requested,
    /// SIGTERM or SIGINT.
    Signal,
}

impl StopReason {
    fn as_str(self) -> &'static str {
        match self {
            StopReason::Requested => "stop requested",
            StopReason::Signal => "signal",
        }
    }
}

/// A started daemon: lock held, log open, sockets bound, startup event logged.
pub struct Daemon {
    root: PathBuf,
    run_dir: PathBuf,
    endpoints: BusEndpoints,
    tcp: Option<Endpoints>,
    sockets: DaemonSockets,
    pipeline: Pipeline,
    components: Vec<Box<dyn Component>>,
    publish: PublishHandle,
    waker: Waker,
    wake_rx: UnixDatagram,
    signalled: Arc<AtomicBool>,
    signal_ids: Vec<signal_hook::SigId>,
    started: Instant,
    version: String,
    /// Events from other machines already logged (the `import` op).
    imports: import::Imports,
    _lock: LockGuard,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("root", &self.root)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl Daemon {
    /// Takes the daemon lock, opens (and repairs) the log, binds the sockets, writes the state
    /// file and logs `core:system:startup`. Fails with the reason when another daemon runs, a
    /// folder is not writable, or an endpoint cannot be bound.
    pub fn start(workspace: &Workspace, options: DaemonOptions) -> Result<Self, DaemonError> {
        let run_dir = workspace.run_dir();
        let lock = lock::lock_daemon(&run_dir, options.lock_wait).map_err(|e| match e {
            LockError::DaemonRunning { .. } => DaemonError::AlreadyRunning {
                pid: state::read(&run_dir).map(|s| s.pid),
            },
            other => DaemonError::Lock(other),
        })?;
        // A state file left by a daemon killed with -9 names a pid that may belong to someone
        // else by now; until ours is written, there is none.
        state::remove(&run_dir);
        let config = &workspace.config().events;
        let log = LogWriter::open_workspace(workspace)?;
        if log.repaired_bytes() > 0 {
            tracing::warn!(
                bytes = log.repaired_bytes(),
                segment = %log.active_path().display(),
                "cut a torn last line off the log (the previous daemon did not stop cleanly)"
            );
        }
        let runtime_dir = workspace.runtime_dir();
        prepare_runtime_dir(&runtime_dir)?;
        let endpoints = workspace.bus_endpoints();
        for endpoint in [&endpoints.ingest, &endpoints.events, &endpoints.control] {
            if endpoint.trim_start_matches("ipc://").len() > MAX_IPC_PATH {
                return Err(DaemonError::PathTooLong {
                    path: endpoint.clone(),
                });
            }
        }
        let tcp = tcp_endpoints(&config.tcp);
        let mut limits = BusLimits::from(config);
        let fd_limit = fds::raise_limit();
        let (bus, control) = fds::fit(
            fd_limit,
            fds::open_now(),
            limits.max_connections,
            limits.control_connections,
        );
        if (bus, control) != (limits.max_connections, limits.control_connections) {
            tracing::warn!(
                fd_limit,
                connections = bus,
                control,
                "the open-file limit allows fewer bus connections than [events].max_connections \
                 and control_connections ask for; raise the hard limit (`ulimit -Hn`, or \
                 LimitNOFILE in a service unit) to serve more"
            );
        }
        limits.max_connections = bus;
        limits.control_connections = control;
        limits.max_publishers = limits.max_publishers.min(bus);
        limits.max_subscribers = limits.max_subscribers.min(bus);
        let mut spec = BindSpec {
            ingest: vec![endpoints.ingest.clone()],
            events: vec![endpoints.events.clone()],
            control: vec![endpoints.control.clone()],
            limits,
        };
        if let Some(tcp) = &tcp {
            spec.ingest.push(tcp.ingest.clone());
            spec.events.push(tcp.events.clone());
            spec.control.push(tcp.control.clone());
        }
        let context = Context::new();
        let sockets = DaemonSockets::bind(&context, &spec)?;
        let (wake_tx, wake_rx) = UnixDatagram::pair().map_err(DaemonError::Signals)?;
        wake_tx
            .set_nonblocking(true)
            .map_err(DaemonError::Signals)?;
        wake_rx
            .set_nonblocking(true)
            .map_err(DaemonError::Signals)?;
        let signalled = Arc::new(AtomicBool::new(false));
        let mut signal_ids = Vec::new();
        if options.handle_signals {
            for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                signal_ids.push(
                    signal_hook::flag::register(signal, Arc::clone(&signalled))
                        .map_err(DaemonError::Signals)?,
                );
                let pipe = wake_tx.try_clone().map_err(DaemonError::Signals)?;
                signal_ids.push(
                    signal_hook::low_level::pipe::register(signal, pipe)
                        .map_err(DaemonError::Signals)?,
                );
            }
            // The terminal that started `meta daemon start` may close; the daemon outlives it.
            signal_ids.push(
                signal_hook::flag::register(
                    signal_hook::consts::SIGHUP,
                    Arc::new(AtomicBool::new(false)),
                )
                .map_err(DaemonError::Signals)?,
            );
        }
        let started_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let publish = PublishHandle {
            context: sockets.context().clone(),
            endpoint: sockets.inproc_endpoint().to_owned(),
        };
        let mut daemon = Self {
            root: workspace.root().to_path_buf(),
            run_dir: run_dir.clone(),
            endpoints,
            tcp,
            sockets,
            pipeline: Pipeline::new(
                log,
                usize::try_from(config.max_attributes).unwrap_or(usize::MAX),
            ),
            components: Vec::new(),
            publish,
            waker: Waker {
                socket: Arc::new(wake_tx),
            },
            wake_rx,
            signalled,
            signal_ids,
            started: Instant::now(),
            version: options.version,
            imports: import::Imports::default(),
            _lock: lock,
        };
        if workspace.config().bridge.enabled {
            daemon.imports = import::Imports::read_ahead(daemon.pipeline.log_dir());
        }
        let state = DaemonState {
            pid: std::process::id(),
            version: daemon.version.clone(),
            started_at: meta_events::time::now(),
            started_unix,
            endpoints: (&daemon.endpoints).into(),
            tcp: daemon.tcp.clone(),
        };
        state::write(&run_dir, &state).map_err(|source| DaemonError::State {
            path: state::state_path(&run_dir),
            source,
        })?;
        let startup = meta_events::core::system_startup(std::process::id(), &daemon.version);
        daemon.emit_now(&startup);
        tracing::info!(
            pid = std::process::id(),
            ingest = %daemon.endpoints.ingest,
            next_sequence = daemon.pipeline.log.next_sequence(),
            "daemon started"
        );
        Ok(daemon)
    }

    /// Adds a component; it starts when [`Daemon::run`] begins.
    pub fn add_component(&mut self, component: Box<dyn Component>) {
        self.components.push(component);
    }

    /// A handle threads of this process publish through.
    pub fn publish_handle(&self) -> PublishHandle {
        self.publish.clone()
    }

    /// A handle that wakes the loop (components get a tick).
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    pub fn endpoints(&self) -> &BusEndpoints {
        &self.endpoints
    }

    /// A flag that, once set and followed by [`Waker::wake`], stops the daemon like a signal.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.signalled)
    }

    /// Serves until asked to stop, then stops gracefully: drains what is queued, stops the
    /// components, logs `core:system:shutdown`, syncs the log and removes the state file.
    pub fn run(mut self) -> Result<StopReason, DaemonError> {
        let mut pending = Vec::new();
        let mut components = std::mem::take(&mut self.components);
        components.retain_mut(|component| {
            let mut ctx = self.context(&mut pending);
            match component.start(&mut ctx) {
                Ok(()) => true,
                Err(error) => {
                    tracing::error!(component = component.name(), %error, "component failed to start; left out");
                    false
                }
            }
        });
        self.components = components;
        self.emit_pending(&mut pending);

        let mut trim = Trim::default();
        let reason = loop {
            let deadline = self
                .components
                .iter()
                .filter_map(|c| c.deadline())
                .chain(trim.due)
                .min();
            let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let ready = self.sockets.wait(timeout, self.wake_rx.as_raw_fd())?;
            let published = self.pipeline.published;
            self.take_events()?;
            trim.after(self.pipeline.published - published, Instant::now());
            // Components first, so a status asked right after a wake-up sees its effect.
            let woken = ready.wake && self.drain_wake();
            let now = Instant::now();
            let mut components = std::mem::take(&mut self.components);
            for component in &mut components {
                if woken || component.deadline().is_some_and(|d| d <= now) {
                    let mut ctx = self.context(&mut pending);
                    component.tick(&mut ctx);
                }
            }
            self.components = components;
            self.emit_pending(&mut pending);
            let mut stop = None;
            if ready.control {
                stop = self.serve_control(&mut pending)?;
                self.emit_pending(&mut pending);
            }
            if self.signalled.load(Ordering::SeqCst) {
                stop = Some(StopReason::Signal);
            }
            if let Some(reason) = stop {
                break reason;
            }
        };
        self.shutdown(reason, &mut pending)?;
        Ok(reason)
    }

    fn context<'a>(&'a self, pending: &'a mut Vec<Event>) -> ComponentContext<'a> {
        ComponentContext {
            pending,
            publish: &self.publish,
            waker: &self.waker,
            root: &self.root,
            endpoints: &self.endpoints,
        }
    }

    fn drain_wake(&self) -> bool {
        let mut buf = [0u8; 64];
        let mut any = false;
        while self.wake_rx.recv(&mut buf).is_ok() {
            any = true;
        }
        any
    }

    /// Takes what waits on ingest and inproc, batch by batch, up to [`BATCHES_PER_TURN`] or
    /// [`DELIVERIES_PER_TURN`]: then the loop polls again (without sleeping if input is left),
    /// so a publisher that never pauses, or many subscribers, cannot keep other publishers,
    /// subscribers or control requests waiting.
    fn take_events(&mut self) -> Result<(), DaemonError> {
        // Smaller batches when many subscribers each take every event.
        let per_batch = (DELIVERIES_PER_TURN / self.sockets.subscribers().max(1)).clamp(16, BATCH);
        let mut delivered = 0;
        for _ in 0..BATCHES_PER_TURN {
            let mut taken = 0;
            while taken < per_batch && self.pipeline.batch.len() < BATCH_BYTES {
                match self.sockets.recv_ingest()? {
                    Incoming::Empty => break,
                    Incoming::Frame(bytes) => self.pipeline.accept(bytes),
                    Incoming::Frames(frames) => self.pipeline.reject_frames(frames),
                    Incoming::Oversized => self.pipeline.reject_oversized(),
                }
                taken += 1;
            }
            while taken < per_batch * 2 && self.pipeline.batch.len() < BATCH_BYTES {
                match self.sockets.recv_inproc()? {
                    Incoming::Empty => break,
                    Incoming::Frame(bytes) => self.pipeline.accept(bytes),
                    Incoming::Frames(frames) => self.pipeline.reject_frames(frames),
                    Incoming::Oversized => self.pipeline.reject_oversized(),
                }
                taken += 1;
            }
            delivered += self.pipeline.commit(&mut self.sockets);
            if taken == 0 || delivered >= DELIVERIES_PER_TURN {
                break;
            }
        }
        Ok(())
    }

    /// Logs and publishes one event of the daemon's own, now.
    fn emit_now(&mut self, event: &Event) {
        self.pipeline.accept(event.to_json().as_bytes());
        self.pipeline.commit(&mut self.sockets);
    }

    fn emit_pending(&mut self, pending: &mut Vec<Event>) {
        if pending.is_empty() {
            return;
        }
        for event in pending.drain(..) {
            self.pipeline.accept(event.to_json().as_bytes());
        }
        self.pipeline.commit(&mut self.sockets);
    }

    fn serve_control(
        &mut self,
        pending: &mut Vec<Event>,
    ) -> Result<Option<StopReason>, DaemonError> {
        let mut stop = None;
        for _ in 0..CONTROL_PER_TURN {
            let Some(request) = self.sockets.recv_control()? else {
                break;
            };
            let (reply, stopping) = self.answer(&request.body, pending);
            if stopping {
                stop = Some(StopReason::Requested);
            }
            if !self.sockets.reply(&request, reply.to_string().as_bytes()) {
                tracing::debug!("a control client left before its answer");
            }
        }
        Ok(stop)
    }

    fn answer(&mut self, body: &[u8], pending: &mut Vec<Event>) -> (Value, bool) {
        let refuse = |error: String| (json!({"ok": false, "error": error}), false);
        let request: Value = match serde_json::from_slice(body) {
            Ok(value @ Value::Object(_)) => value,
            Ok(_) | Err(_) => {
                return refuse("a control request is a JSON object like {\"op\": \"ping\"}".into());
            }
        };
        let Some(op) = request.get("op").and_then(Value::as_str).map(str::to_owned) else {
            return refuse("the request has no \"op\" string".into());
        };
        match op.as_str() {
            "ping" => (
                json!({"ok": true, "pid": std::process::id(), "version": self.version}),
                false,
            ),
            "status" => {
                let mut value = serde_json::to_value(self.status()).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut value {
                    map.insert("ok".into(), Value::Bool(true));
                }
                (value, false)
            }
            "stop" => (json!({"ok": true, "stopping": true}), true),
            meta_bridge::IMPORT_OP => (self.import(&request), false),
            _ => {
                let mut components = std::mem::take(&mut self.components);
                let result = components
                    .iter_mut()
                    .find(|c| c.ops().contains(&op.as_str()))
                    .map(|component| {
                        let mut ctx = self.context(pending);
                        component.handle(&op, &request, &mut ctx)
                    });
                self.components = components;
                match result {
                    Some(Ok(mut value)) => {
                        if let Value::Object(map) = &mut value {
                            map.entry("ok").or_insert(Value::Bool(true));
                        }
                        (value, false)
                    }
                    Some(Err(error)) => refuse(error),
                    None => {
                        let mut known = vec!["ping", "status", "stop"];
                        for component in &self.components {
                            known.extend(component.ops());
                        }
                        refuse(format!(
                            "unknown op `{op}`; known ops: {}",
                            known.join(", ")
                        ))
                    }
                }
            }
        }
    }

    /// `{"op": "import", "events": [...]}` from the bridge: logs the events not yet logged (a
    /// new local `sequence` each) and answers once they are written, so the bridge acknowledges
    /// them to the server only then.
    fn import(&mut self, request: &Value) -> Value {
        if self.imports.reading() {
            // The bus does not wait for the index: the bridge sends the request again.
            return json!({
                "ok": false,
                "busy": true,
                "error": "the daemon is still reading its log for the events imported before; send again shortly",
            });
        }
        let log_dir = self.pipeline.log_dir().to_path_buf();
        let accepted = match self.imports.accept(&log_dir, request) {
            Ok(accepted) => accepted,
            Err(error) => return json!({"ok": false, "error": error}),
        };
        // What is already in the batch goes first, so the batch holds only these events.
        self.pipeline.commit(&mut self.sockets);
        let rejected = self.pipeline.rejected;
        for line in &accepted.lines {
            self.pipeline.accept(line);
        }
        let published = self.pipeline.published;
        self.pipeline.commit(&mut self.sockets);
        let imported = self.pipeline.published - published;
        if imported == 0 && !accepted.lines.is_empty() {
            for line in &accepted.lines {
                self.imports.forget(line);
            }
            return json!({"ok": false, "error": "the events could not be logged"});
        }
        json!({
            "ok": true,
            "imported": imported,
            "duplicates": accepted.duplicates,
            "invalid": accepted.invalid + (self.pipeline.rejected - rejected),
        })
    }

    /// The report a control `status` request gets.
    pub fn status(&self) -> DaemonStatus {
        let stats = meta_events::log::stats(self.pipeline.log_dir()).unwrap_or_default();
        let mut log = LogSummary::from(&stats);
        let (connections, refused, dropped) = self.sockets.connection_counters();
        // The live counter is exact even while the log is being written.
        log.last_sequence = self
            .pipeline
            .last_sequence()
            .map(meta_events::format_sequence);
        DaemonStatus {
            running: true,
            pid: Some(std::process::id()),
            uptime_s: Some(self.started.elapsed().as_secs()),
            endpoints: (&self.endpoints).into(),
            tcp: self.tcp.clone(),
            counters: Some(Counters {
                published: self.pipeline.published,
                rejected: self.pipeline.rejected,
                subscribers: u64::try_from(self.sockets.subscribers()).unwrap_or(u64::MAX),
                last_sequence: self
                    .pipeline
                    .last_sequence()
                    .map(meta_events::format_sequence),
                connections,
                dropped,
                refused,
            }),
            log,
            components: self
                .components
                .iter()
                .map(|c| (c.name().to_owned(), c.status()))
                .collect(),
            version: Some(self.version.clone()),
        }
    }

    fn shutdown(mut self, reason: StopReason, pending: &mut Vec<Event>) -> Result<(), DaemonError> {
        tracing::info!(reason = reason.as_str(), "daemon stopping");
        // Whatever publishers queued before the stop still lands (bounded: a publisher that
        // never pauses does not keep the daemon from stopping).
        for _ in 0..SHUTDOWN_TURNS {
            self.take_events()?;
            if !self.sockets.has_pending_ingest() {
                break;
            }
        }
        let mut components = std::mem::take(&mut self.components);
        for component in &mut components {
            let mut ctx = self.context(pending);
            component.stop(&mut ctx);
        }
        self.emit_pending(pending);
        let shutdown = meta_events::core::system_shutdown(
            std::process::id(),
            reason.as_str(),
            self.started.elapsed().as_secs(),
        );
        self.emit_now(&shutdown);
        // Subscribers should receive the shutdown event even as the daemon exits.
        self.sockets.linger(SHUTDOWN_LINGER);
        self.pipeline.log.sync()?;
        state::remove(&self.run_dir);
        for id in self.signal_ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
        tracing::info!(
            published = self.pipeline.published,
            rejected = self.pipeline.rejected,
            "daemon stopped"
        );
        Ok(())
    }
}

/// Validate → sequence → fill → log → publish, for batches of events.
struct Pipeline {
    log: LogWriter,
    log_dir: PathBuf,
    /// Log lines of the current batch, back to back.
    batch: Vec<u8>,
    /// (line, type) ranges in `batch`.
    entries: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
    topic: Vec<u8>,
    /// `time` for the events of the current batch that carry none.
    time: [u8; meta_events::time::LEN],
    max_attributes: usize,
    published: u64,
    rejected: u64,
}

impl Pipeline {
    fn new(log: LogWriter, max_attributes: usize) -> Self {
        let log_dir = log
            .active_path()
            .parent()
            .map_or_else(PathBuf::new, Path::to_path_buf);
        Self {
            log,
            log_dir,
            batch: Vec::with_capacity(BATCH * 1024),
            entries: Vec::with_capacity(BATCH * 2),
            topic: Vec::with_capacity(128),
            time: [0; meta_events::time::LEN],
            max_attributes,
            published: 0,
            rejected: 0,
        }
    }

    fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    fn last_sequence(&self) -> Option<u64> {
        self.log.next_sequence().checked_sub(1).filter(|s| *s > 0)
    }

    fn accept(&mut self, bytes: &[u8]) {
        // One clock read per batch: a batch is what waited on the sockets at one instant, so its
        // events share the time they were taken in (and the clock stays off the per-event path).
        if self.batch.is_empty() {
            meta_events::time::format_now(&mut self.time);
        }
        let fill = Fill {
            sequence: self.log.next_sequence() + self.entries.len() as u64,
            source: DAEMON_SOURCE,
            time: std::str::from_utf8(&self.time).unwrap_or_default(),
        };
        match ingest::normalize_limited(bytes, &fill, self.max_attributes, &mut self.batch) {
            Ok(accepted) => self.entries.push((accepted.line, accepted.ty)),
            Err(error) => {
                self.rejected += 1;
                tracing::debug!(%error, "rejected an event");
            }
        }
    }

    fn reject_frames(&mut self, frames: usize) {
        self.rejected += 1;
        tracing::debug!(frames, "rejected a message of more than one frame");
    }

    fn reject_oversized(&mut self) {
        self.rejected += 1;
        tracing::debug!("rejected an event over 1 MiB (skipped unread)");
    }

    /// Logs the batch with one write, then publishes it; returns the deliveries (events
    /// queued times subscribers taking them). Events that could not be logged are not
    /// published (a subscriber never sees what the log does not hold).
    fn commit(&mut self, sockets: &mut DaemonSockets) -> usize {
        if self.entries.is_empty() {
            return 0;
        }
        let mut delivered = 0;
        let count = self.entries.len() as u64;
        if let Err(error) = self.log.append(&self.batch, count) {
            tracing::error!(%error, events = count, "could not log events; they are dropped");
            self.rejected += count;
        } else {
            for (line, ty) in &self.entries {
                self.topic.clear();
                self.topic.extend_from_slice(&self.batch[ty.clone()]);
                self.topic.push(b':');
                let body = &self.batch[line.start..line.end - 1];
                delivered += sockets.publish(&self.topic, body);
            }
            // One write per subscriber for the whole batch.
            sockets.flush();
            self.published += count;
        }
        self.batch.clear();
        self.entries.clear();
        delivered
    }
}

/// When to hand a burst's memory back to the OS: once the bus has been quiet for
/// [`Trim::QUIET`] after at least [`Trim::MIN_EVENTS`] events. One wake-up per burst, none when idle.
#[derive(Default)]
struct Trim {
    events: u64,
    due: Option<Instant>,
}

impl Trim {
    const QUIET: Duration = Duration::from_secs(1);
    const MIN_EVENTS: u64 = 10_000;

    fn after(&mut self, taken: u64, now: Instant) {
        if taken > 0 {
            self.events += taken;
            if self.events >= Self::MIN_EVENTS {
                self.due = Some(now + Self::QUIET);
            }
        } else if self.due.is_some_and(|due| due <= now) {
            memory::release_free_memory();
            *self = Self::default();
        }
    }
}

/// Creates the private runtime folder (0700) and checks that it is ours.
fn prepare_runtime_dir(dir: &Path) -> Result<(), DaemonError> {
    let error = |source| DaemonError::RuntimeDir {
        path: dir.to_path_buf(),
        source,
    };
    if let Some(parent) = dir.parent() {
        let existed = parent.exists();
        fs_err::create_dir_all(parent).map_err(error)?;
        if !existed {
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700))
                .map_err(error)?;
        }
    }
    fs_err::create_dir_all(dir).map_err(error)?;
    let meta = std::fs::metadata(dir).map_err(error)?;
    let uid = rustix::process::getuid().as_raw();
    if meta.uid() != uid {
        return Err(DaemonError::RuntimeDirOwner {
            path: dir.to_path_buf(),
            owner: meta.uid(),
        });
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(error)?;
    Ok(())
}

/// `[events].tcp = "HOST:PORT"`: ingest on PORT, events on PORT+1, control on PORT+2.
fn tcp_endpoints(tcp: &str) -> Option<Endpoints> {
    let addr: std::net::SocketAddr = tcp.parse().ok()?;
    let at = |offset: u16| {
        let mut addr = addr;
        addr.set_port(addr.port().saturating_add(offset));
        format!("tcp://{addr}")
    };
    Some(Endpoints {
        ingest: at(0),
        events: at(1),
        control: at(2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_ports_follow_the_base() {
        let tcp = tcp_endpoints("127.0.0.1:7700").unwrap();
        assert_eq!(tcp.ingest, "tcp://127.0.0.1:7700");
        assert_eq!(tcp.events, "tcp://127.0.0.1:7701");
        assert_eq!(tcp.control, "tcp://127.0.0.1:7702");
        assert!(tcp_endpoints("").is_none());
    }

    #[test]
    fn memory_is_trimmed_once_after_a_quiet_second_following_a_burst() {
        let start = Instant::now();
        let mut trim = Trim::default();
        // Small traffic never schedules a trim, so an idle daemon is never woken for one.
        trim.after(10, start);
        assert!(trim.due.is_none());
        // A burst schedules it; more events push it back.
        trim.after(Trim::MIN_EVENTS, start);
        assert_eq!(trim.due, Some(start + Trim::QUIET));
        let later = start + Duration::from_millis(500);
        trim.after(1, later);
        assert_eq!(trim.due, Some(later + Trim::QUIET));
        // Quiet but not yet due: nothing happens.
        trim.after(0, later + Duration::from_millis(10));
        assert!(trim.due.is_some());
        // Due: trimmed, and nothing more is scheduled.
        trim.after(0, later + Trim::QUIET);
        assert!(trim.due.is_none());
        assert_eq!(trim.events, 0);
    }
}

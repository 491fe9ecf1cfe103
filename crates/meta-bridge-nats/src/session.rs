//! One connection's life: connect, make sure the stream exists, export and import until
//! something fails; then back off and start again. The state file says where it stands.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use meta_bridge::{Auth, BridgeState, Settings};

use crate::{BridgeError, PushReport, export, import, settings};

/// Back-off after a failure that may pass (server down): doubles up to the cap.
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_CAP: Duration = Duration::from_secs(10);
/// Back-off after the server refused us (credentials, permissions): no spinning.
const RETRY_AUTH: Duration = Duration::from_secs(60);
/// How long a publish waits for its acknowledgement.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the state file is rewritten when something changed.
const STATE_EVERY: Duration = Duration::from_secs(1);

/// The service's report, shared by the export and import halves (one thread).
pub(crate) struct Shared {
    pub state: BridgeState,
    pub dirty: bool,
}

pub(crate) type SharedState = Rc<RefCell<Shared>>;

impl Shared {
    /// `error`: the message and its kind ([`BridgeError::kind`]).
    fn set_state(&mut self, state: &str, error: Option<(String, &str)>) {
        if self.state.state != state {
            state.clone_into(&mut self.state.state);
            self.state.since = meta_events::time::now();
        }
        if error.is_some() || state == BridgeState::CONNECTED {
            let (message, kind) = error.unzip();
            self.state.last_error = message;
            self.state.last_error_kind = kind.map(str::to_owned);
        }
        self.dirty = true;
    }
}

/// What the client's event callback (on its own task) tells the session.
#[derive(Default)]
struct Link {
    /// A server error (a permissions violation) seen since the last look.
    violation: Mutex<Option<String>>,
    /// The connection is lost (the client reconnects by itself meanwhile).
    down: AtomicBool,
}

/// How often the session looks at [`Link::down`].
const LINK_EVERY: Duration = Duration::from_secs(2);

/// Connects with the settings' credentials; what the server says later lands in `link`.
async fn connect(settings: &Settings, link: Arc<Link>) -> Result<async_nats::Client, BridgeError> {
    let mut options = match &settings.auth {
        Auth::None => async_nats::ConnectOptions::new(),
        Auth::Token(token) => async_nats::ConnectOptions::new().token(token.clone()),
        Auth::UserPassword { user, password } => {
            async_nats::ConnectOptions::new().user_and_password(user.clone(), password.clone())
        }
        Auth::Creds(path) => async_nats::ConnectOptions::new()
            .credentials_file(path)
            .await
            .map_err(|e| BridgeError::Auth {
                reason: format!("cannot read {}: {e}", path.display()),
            })?,
    };
    if let Some(ca) = &settings.tls_ca {
        options = options.add_root_certificates(ca.clone());
    }
    if settings.tls() {
        options = options.require_tls(true);
    }
    options = options
        .name(format!("meta-bridge {}", settings.node))
        .connection_timeout(Duration::from_secs(5))
        .event_callback(move |event| {
            let link = Arc::clone(&link);
            async move {
                match event {
                    async_nats::Event::ServerError(error) => {
                        let text = error.to_string();
                        if let Ok(mut slot) = link.violation.lock() {
                            *slot = Some(text);
                        }
                    }
                    async_nats::Event::Disconnected => link.down.store(true, Ordering::SeqCst),
                    async_nats::Event::Connected => link.down.store(false, Ordering::SeqCst),
                    _ => {}
                }
            }
        });
    let urls = settings.urls.join(", ");
    let servers: Vec<async_nats::ServerAddr> = settings
        .urls
        .iter()
        .map(|u| {
            u.replacen("tls://", "nats://", 1)
                .parse()
                .map_err(|e: std::io::Error| BridgeError::Connect {
                    urls: urls.clone(),
                    reason: e.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    options.connect(servers).await.map_err(|e| {
        use async_nats::ConnectErrorKind as K;
        match e.kind() {
            K::AuthorizationViolation | K::Authentication => BridgeError::Auth {
                reason: e.to_string(),
            },
            K::Tls => BridgeError::Tls {
                reason: e.to_string(),
            },
            _ => BridgeError::Connect {
                urls: urls.clone(),
                reason: e.to_string(),
            },
        }
    })
}

/// The stream of the scope: created when missing (if `provision`), else looked up.
async fn stream(
    js: &jetstream::Context,
    settings: &Settings,
) -> Result<jetstream::stream::Stream, BridgeError> {
    let error = |e: &dyn std::fmt::Display| BridgeError::Stream {
        stream: settings.stream.clone(),
        reason: e.to_string(),
    };
    if settings.provision {
        js.get_or_create_stream(jetstream::stream::Config {
            name: settings.stream.clone(),
            subjects: vec![meta_bridge::subject::scope_filter(&settings.scope)],
            max_age: settings.stream_max_age,
            duplicate_window: settings.duplicate_window,
            storage: jetstream::stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| error(&e))
    } else {
        js.get_stream(&settings.stream)
            .await
            .map_err(|e| match e.kind() {
                jetstream::context::GetStreamErrorKind::JetStream(inner)
                    if inner.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND =>
                {
                    BridgeError::NotProvisioned {
                        what: format!("stream `{}`", settings.stream),
                    }
                }
                _ => error(&e),
            })
    }
}

/// Context with the bridge's ack timeout.
fn context(client: async_nats::Client) -> jetstream::Context {
    jetstream::ContextBuilder::new()
        .timeout(ACK_TIMEOUT)
        .build(client)
}

/// Runs the service until the process is stopped: export and import, reconnecting forever.
pub fn run_service(root: &std::path::Path) -> Result<(), BridgeError> {
    let settings = settings(root)?;
    let runtime = crate::runtime()?;
    runtime.block_on(service(&settings))
}

async fn service(settings: &Settings) -> Result<(), BridgeError> {
    let mut initial = settings.files.state().unwrap_or_default();
    initial.node.clone_from(&settings.node);
    initial.pid = Some(std::process::id());
    initial.server = settings.urls.first().cloned();
    initial.exported = 0;
    initial.skipped_oversize = 0;
    initial.imported = 0;
    initial.import_duplicates = 0;
    initial.import_invalid = 0;
    let shared: SharedState = Rc::new(RefCell::new(Shared {
        state: initial,
        dirty: true,
    }));
    shared
        .borrow_mut()
        .set_state(BridgeState::DISCONNECTED, None);
    let writer = state_writer(settings, Rc::clone(&shared));
    let wake = export::wake_on_publish(settings);
    let work = async {
        let mut delay = RETRY_FIRST;
        loop {
            let started = Instant::now();
            let error = session(settings, &shared, &wake).await;
            let auth = error.needs_attention();
            tracing::warn!(%error, "bridge session ended");
            let kind = if auth {
                BridgeState::ERROR
            } else {
                BridgeState::DISCONNECTED
            };
            shared
                .borrow_mut()
                .set_state(kind, Some((error.to_string(), error.kind())));
            write_state(settings, &shared);
            if started.elapsed() > Duration::from_secs(30) {
                delay = RETRY_FIRST;
            }
            let wait = if auth { RETRY_AUTH } else { delay };
            tokio::time::sleep(wait).await;
            delay = (delay * 2).min(RETRY_CAP);
        }
    };
    tokio::select! {
        () = writer => Ok(()),
        () = work => Ok(()),
    }
}

async fn state_writer(settings: &Settings, shared: SharedState) {
    let mut every = tokio::time::interval(STATE_EVERY);
    loop {
        every.tick().await;
        write_state(settings, &shared);
    }
}

pub(crate) fn write_state(settings: &Settings, shared: &SharedState) {
    let mut guard = shared.borrow_mut();
    if !guard.dirty {
        return;
    }
    guard.dirty = false;
    if let Err(error) = settings.files.set_state(&guard.state) {
        tracing::warn!(%error, "cannot write the bridge state file");
    }
}

/// One connection: returns the error that ended it.
async fn session(
    settings: &Settings,
    shared: &SharedState,
    wake: &tokio::sync::Notify,
) -> BridgeError {
    let violation = Arc::new(Link::default());
    let client = match connect(settings, Arc::clone(&violation)).await {
        Ok(client) => client,
        Err(error) => return error,
    };
    let js = context(client.clone());
    let stream = match stream(&js, settings).await {
        Ok(stream) => stream,
        Err(error) => return with_violation(error, &violation),
    };
    shared.borrow_mut().set_state(BridgeState::CONNECTED, None);
    write_state(settings, shared);
    let error = tokio::select! {
        error = export::follow(&js, settings, shared, wake) => error,
        error = import::follow(&stream, settings, shared) => error,
        never = watch_link(settings, shared, &violation) => match never {},
    };
    drop(client);
    with_violation(error, &violation)
}

enum Never {}

/// Shows a lost connection in the state at once, not only when a publish or the consumer
/// notices (an idle bridge would stay `connected` for a while); back to `connected` when the
/// client is in again.
async fn watch_link(settings: &Settings, shared: &SharedState, link: &Link) -> Never {
    loop {
        tokio::time::sleep(LINK_EVERY).await;
        let down = link.down.load(Ordering::SeqCst);
        let state = shared.borrow().state.state.clone();
        if down && state == BridgeState::CONNECTED {
            let server = settings.urls.join(", ");
            shared.borrow_mut().set_state(
                BridgeState::DISCONNECTED,
                Some((
                    format!("lost the connection to {server}; reconnecting"),
                    "connect",
                )),
            );
            write_state(settings, shared);
        } else if !down && state == BridgeState::DISCONNECTED {
            shared.borrow_mut().set_state(BridgeState::CONNECTED, None);
            write_state(settings, shared);
        }
    }
}

/// A publish that timed out because the server refused the subject is a permissions error.
fn with_violation(error: BridgeError, violation: &Link) -> BridgeError {
    let seen = violation.violation.lock().ok().and_then(|mut v| v.take());
    match seen {
        Some(text) if !error.needs_attention() => BridgeError::Auth {
            reason: format!("{text} (then: {error})"),
        },
        _ => error,
    }
}

/// `meta-bridge push`: export what is pending, once.
pub(crate) async fn push(
    settings: &Settings,
    timeout: Duration,
    since: Option<u64>,
) -> Result<PushReport, BridgeError> {
    let shared: SharedState = Rc::new(RefCell::new(Shared {
        state: BridgeState::default(),
        dirty: false,
    }));
    let attempt = || async {
        let violation = Arc::new(Link::default());
        let client = connect(settings, Arc::clone(&violation)).await?;
        let js = context(client);
        stream(&js, settings)
            .await
            .map_err(|e| with_violation(e, &violation))?;
        export::drain(&js, settings, &shared, since)
            .await
            .map_err(|e| with_violation(e, &violation))
    };
    // A server that is restarting gets the whole timeout: failures that may pass are retried
    // (what went out stays out: the cursor moved), refusals end at once.
    let last_error = RefCell::new(None);
    let work = async {
        let mut delay = RETRY_FIRST;
        loop {
            match attempt().await {
                Ok(report) => return Ok(report),
                Err(error) if error.needs_attention() => return Err(error),
                Err(error) => {
                    tracing::debug!(%error, "push attempt failed; retrying");
                    *last_error.borrow_mut() = Some(error.to_string());
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(RETRY_CAP);
                }
            }
        }
    };
    if let Ok(result) = tokio::time::timeout(timeout, work).await {
        return result;
    }
    let cursor = if since.is_some() {
        0
    } else {
        settings.files.cursor()?
    };
    let last = meta_events::log::stats(&settings.events_dir)
        .ok()
        .and_then(|s| s.last_sequence)
        .unwrap_or(0);
    Err(BridgeError::Timeout {
        left: last.saturating_sub(cursor),
        timeout,
        last_error: last_error.into_inner(),
    })
}

//! The SDK for writing `meta` plugins in Rust.
//!
//! A plugin is any program `meta` starts for one of its commands or its service (see
//! `docs/plugins.md`). [`Env::from_env`] reads what `meta` tells such a program through its
//! environment: the meta-repo root, the plugin's name and folder, the plugin API version, and
//! the bus endpoints. On top of it, the event bus (`meta-events`):
//!
//! - [`Env::publisher`] / [`Publisher::publish`]: send events to the daemon (a service's way:
//!   the daemon that started it is there to take them);
//! - [`Env::emit`]: log an event whether or not a daemon runs (a command's way: it may run with
//!   no daemon, and then appends to the log itself, like `meta events publish`);
//! - [`Env::subscribe`] / [`Subscription::recv`]: receive events by type prefix.
//!
//! Events are sent from `/plugins/<name>`, and the `core` namespace is refused: it is `meta`'s
//! own (DESIGN.md 3.1).
//!
//! ```no_run
//! use meta_plugin_sdk::{Env, json};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let env = Env::from_env()?;
//! let publisher = env.publisher()?;
//! let mut greetings = env.subscribe(&["hello:greeted"])?;
//! while let Some(event) = greetings.recv(None)? {
//!     let who = event.data.as_ref().and_then(|d| d["name"].as_str()).unwrap_or("world");
//!     publisher.publish("hello:answered", json!({ "to": who }))?;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! It is not the host: it never reads manifests or starts processes.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

pub use meta_events::Event;
use meta_events::client::{self, ClientError};
use meta_events::{DecodeError, TypeError};
use meta_workspace::{BusEndpoints, env as vars};
pub use serde_json::{Value, json};

/// The plugin protocol version this SDK speaks (`api` in the manifest).
pub const API_VERSION: u32 = 1;

/// The bus endpoints `meta` gives a plugin (ZeroMQ endpoint strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bus {
    /// Publish here: connect PUSH, send one frame, the event JSON.
    pub ingest: String,
    /// Subscribe here: connect SUB; messages are two frames, topic and event JSON.
    pub events: String,
    /// The daemon's control socket: REQ/DEALER, `{"op": "ping"|"status"}`.
    pub control: String,
}

/// What `meta` tells a plugin process about where and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    /// `META_ROOT`: the meta-repo's root folder.
    pub root: PathBuf,
    /// `META_PLUGIN_NAME`: the plugin's name.
    pub plugin_name: String,
    /// `META_PLUGIN_DIR`: the plugin's folder; `None` for built-in plugins.
    pub plugin_dir: Option<PathBuf>,
    /// `META_API`: the plugin protocol version of the `meta` that started us.
    pub api: u32,
    /// `META_BUS_INGEST`, `META_BUS_EVENTS`, `META_BUS_CONTROL`.
    pub bus: Bus,
}

/// Why the environment does not describe a plugin process.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error(
        "`{var}` is not set: this program is a meta plugin and expects to be started by `meta` (run it as `meta <command>`)"
    )]
    Missing { var: &'static str },
    #[error("`{var}` is `{value}`, which is not {expected}")]
    Invalid {
        var: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl Env {
    /// Reads the plugin environment of this process.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// Reads the plugin environment from `get` (a lookup of variables by name), so it can be
    /// built from something other than the process environment, in tests for example.
    pub fn from_vars(get: impl Fn(&str) -> Option<OsString>) -> Result<Self, EnvError> {
        let text = |var: &'static str| -> Result<String, EnvError> {
            let value = get(var).ok_or(EnvError::Missing { var })?;
            value.into_string().map_err(|value| EnvError::Invalid {
                var,
                value: value.to_string_lossy().into_owned(),
                expected: "valid UTF-8",
            })
        };
        let non_empty = |var: &'static str| -> Result<String, EnvError> {
            let value = text(var)?;
            if value.is_empty() {
                return Err(EnvError::Missing { var });
            }
            Ok(value)
        };
        let root = PathBuf::from(get(vars::META_ROOT).ok_or(EnvError::Missing {
            var: vars::META_ROOT,
        })?);
        if root.as_os_str().is_empty() || !root.is_absolute() {
            return Err(EnvError::Invalid {
                var: vars::META_ROOT,
                value: root.to_string_lossy().into_owned(),
                expected: "an absolute path",
            });
        }
        let plugin_name = non_empty(vars::META_PLUGIN_NAME)?;
        // Built-in plugins have no folder: the variable is set, and empty.
        let plugin_dir = get(vars::META_PLUGIN_DIR)
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from);
        let api_text = non_empty(vars::META_API)?;
        let api = api_text.parse().map_err(|_| EnvError::Invalid {
            var: vars::META_API,
            value: api_text.clone(),
            expected: "a plugin API version (a whole number)",
        })?;
        let bus = Bus {
            ingest: non_empty(vars::META_BUS_INGEST)?,
            events: non_empty(vars::META_BUS_EVENTS)?,
            control: non_empty(vars::META_BUS_CONTROL)?,
        };
        Ok(Self {
            root,
            plugin_name,
            plugin_dir,
            api,
            bus,
        })
    }

    /// The CloudEvents `source` for events this plugin emits: `/plugins/<name>`.
    pub fn event_source(&self) -> String {
        meta_events::core::plugin_source(&self.plugin_name)
    }

    fn client(&self) -> meta_events::Client {
        meta_events::Client::new(BusEndpoints {
            ingest: self.bus.ingest.clone(),
            events: self.bus.events.clone(),
            control: self.bus.control.clone(),
        })
    }

    /// A connection for publishing events to the daemon. Events queue until the daemon takes
    /// them; dropping the publisher waits up to two seconds for queued ones to leave. With no
    /// daemon running they are lost: use [`Env::emit`] where that matters.
    pub fn publisher(&self) -> Result<Publisher, SdkError> {
        Ok(Publisher {
            inner: self.client().publisher()?,
            source: self.event_source(),
        })
    }

    /// Logs one event of type `ty` carrying `data`, through the daemon when one runs and
    /// directly into the meta-repo's log when none does; returns its sequence (its position in
    /// the log). Waits until it is logged (at most a few seconds).
    pub fn emit(&self, ty: &str, data: Value) -> Result<u64, SdkError> {
        let event = self.event(ty, data)?;
        let workspace = meta_workspace::Workspace::open(&self.root)
            .map_err(|e| SdkError::Emit(e.to_string()))?;
        let emitted =
            meta_events::emit(&workspace, event).map_err(|e| SdkError::Emit(e.to_string()))?;
        Ok(emitted.sequence)
    }

    /// Subscribes to events whose type starts with one of `prefixes`, whole segments only
    /// (`hello` and `hello:` both mean every `hello:…` event, never `helloworld:…`); no
    /// prefix means every event. Events published before the subscription is up are not seen.
    pub fn subscribe<S: AsRef<str>>(&self, prefixes: &[S]) -> Result<Subscription, SdkError> {
        Ok(Subscription {
            inner: self.client().subscribe(prefixes)?,
        })
    }

    /// An event of this plugin: type checked, `core` refused, `source` set.
    fn event(&self, ty: &str, data: Value) -> Result<Event, SdkError> {
        plugin_event(ty, Some(data), &self.event_source())
    }
}

fn plugin_event(ty: &str, data: Option<Value>, source: &str) -> Result<Event, SdkError> {
    if meta_events::event::is_core_type(ty) {
        return Err(SdkError::CoreNamespace { ty: ty.to_owned() });
    }
    Ok(Event::new(ty, data)?.with_source(source))
}

/// Why an event could not be sent or received.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error(
        "`{ty}` is in the `core` namespace, which only meta itself emits; publish under your plugin's own namespace (declared in `[events].publish`)"
    )]
    CoreNamespace { ty: String },
    #[error(transparent)]
    Type(#[from] TypeError),
    #[error(transparent)]
    Bus(#[from] ClientError),
    #[error("a received event is not valid: {0}")]
    Received(#[from] DecodeError),
    #[error("the event was not logged: {0}")]
    Emit(String),
}

/// Sends this plugin's events to the daemon's ingest socket.
#[derive(Debug)]
pub struct Publisher {
    inner: client::Publisher,
    source: String,
}

impl Publisher {
    /// Publishes one event of type `ty` carrying `data`.
    pub fn publish(&self, ty: &str, data: Value) -> Result<(), SdkError> {
        self.send(plugin_event(ty, Some(data), &self.source)?)
    }

    /// Publishes `event` as built (metadata, subject…); `source` is set when it has none.
    pub fn send(&self, mut event: Event) -> Result<(), SdkError> {
        if meta_events::event::is_core_type(event.ty()) {
            return Err(SdkError::CoreNamespace {
                ty: event.ty().to_owned(),
            });
        }
        if event.source.is_none() {
            event.source = Some(self.source.clone());
        }
        Ok(self.inner.publish(&event)?)
    }
}

/// Events as the daemon fans them out.
#[derive(Debug)]
pub struct Subscription {
    inner: meta_events::Subscription,
}

impl Subscription {
    /// The next event, waiting up to `timeout` (`None`: until one comes). `Ok(None)` when the
    /// time ran out. Every event carries its `sequence`; a gap means this subscriber fell
    /// behind and missed some (`meta events tail --since SEQ` reads them from the log).
    pub fn recv(&mut self, timeout: Option<Duration>) -> Result<Option<Event>, SdkError> {
        match self.inner.recv(timeout)? {
            Some(received) => Ok(Some(received.event()?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn full() -> HashMap<&'static str, OsString> {
        [
            (vars::META_ROOT, "/home/u/acme"),
            (vars::META_PLUGIN_NAME, "hello"),
            (vars::META_PLUGIN_DIR, "/home/u/acme/meta/plugins/hello"),
            (vars::META_API, "1"),
            (vars::META_BUS_INGEST, "ipc:///run/x/ingest.sock"),
            (vars::META_BUS_EVENTS, "ipc:///run/x/events.sock"),
            (vars::META_BUS_CONTROL, "ipc:///run/x/control.sock"),
        ]
        .into_iter()
        .map(|(k, v)| (k, OsString::from(v)))
        .collect()
    }

    fn read(vars: &HashMap<&'static str, OsString>) -> Result<Env, EnvError> {
        Env::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn reads_every_variable() {
        let env = read(&full()).unwrap();
        assert_eq!(env.root, PathBuf::from("/home/u/acme"));
        assert_eq!(env.plugin_name, "hello");
        assert_eq!(
            env.plugin_dir,
            Some(PathBuf::from("/home/u/acme/meta/plugins/hello"))
        );
        assert_eq!(env.api, 1);
        assert_eq!(env.bus.events, "ipc:///run/x/events.sock");
        assert_eq!(env.event_source(), "/plugins/hello");
    }

    #[test]
    fn builtins_have_no_folder() {
        let mut vars = full();
        vars.insert(super::vars::META_PLUGIN_DIR, OsString::new());
        assert_eq!(read(&vars).unwrap().plugin_dir, None);
    }

    #[test]
    fn missing_and_invalid_variables_are_named() {
        for var in [
            vars::META_ROOT,
            vars::META_PLUGIN_NAME,
            vars::META_API,
            vars::META_BUS_INGEST,
            vars::META_BUS_EVENTS,
            vars::META_BUS_CONTROL,
        ] {
            let mut vars = full();
            vars.remove(var);
            let err = read(&vars).unwrap_err();
            assert_eq!(err, EnvError::Missing { var }, "{var}");
            assert!(err.to_string().contains("started by `meta`"), "{err}");
        }
        let mut vars = full();
        vars.insert(super::vars::META_API, "one".into());
        let err = read(&vars).unwrap_err();
        assert!(err.to_string().contains("`META_API` is `one`"), "{err}");
        let mut vars = full();
        vars.insert(super::vars::META_ROOT, "relative/path".into());
        assert!(matches!(read(&vars).unwrap_err(), EnvError::Invalid { .. }));
    }

    #[test]
    fn the_core_namespace_is_refused() {
        let env = read(&full()).unwrap();
        for ty in ["core:plugin:loaded", "core:x"] {
            let err = env.event(ty, json!({})).unwrap_err();
            assert!(matches!(err, SdkError::CoreNamespace { .. }), "{err}");
            assert!(err.to_string().contains("only meta itself emits"), "{err}");
        }
        let err = env.event("Bad Type", json!({})).unwrap_err();
        assert!(matches!(err, SdkError::Type(_)), "{err}");
        let event = env.event("hello:greeted", json!({"name": "Ada"})).unwrap();
        assert_eq!(event.source.as_deref(), Some("/plugins/hello"));
        assert_eq!(event.ty(), "hello:greeted");
        // `corey:` is not `core:`.
        assert!(env.event("corey:x", Value::Null).is_ok());
    }
}

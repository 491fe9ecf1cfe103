//! The SDK for writing `meta` plugins in Rust.
//!
//! A plugin is any program `meta` starts for one of its commands or its service (see
//! `docs/plugins.md`). This crate reads what `meta` tells such a program through its environment:
//! the meta-repo root, the plugin's name and folder, the plugin API version, and the bus
//! endpoints. Publishing and subscribing to events join it with the event bus crate.
//!
//! It is not the host: it never reads manifests or starts processes.

use std::ffi::OsString;
use std::path::PathBuf;

use meta_workspace::env as vars;

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
        format!("/plugins/{}", self.plugin_name)
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
}

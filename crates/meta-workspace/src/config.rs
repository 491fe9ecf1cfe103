//! `meta/metarepo.toml`: the config model, its loading with precise errors, and the few edits
//! `meta` makes to it (enabling and disabling plugins) without disturbing the user's formatting.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{fsutil, toml_text};

/// The groups a new meta-repo gets when `[metarepo].groups` is not given.
pub const DEFAULT_GROUPS: [&str; 4] = ["data_model", "libraries", "projects", "docs"];

/// The whole of `meta/metarepo.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub metarepo: MetarepoSection,
    #[serde(default)]
    pub events: EventsConfig,
    #[serde(default)]
    pub watch: WatchConfig,
    /// `[bridge]`: the team's bus through NATS JetStream (DESIGN.md section 11).
    #[serde(default)]
    pub bridge: BridgeConfig,
    /// `[plugins.<name>]` tables, by plugin name.
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetarepoSection {
    pub name: String,
    /// Folders under `src/` that hold the projects.
    #[serde(default = "default_groups")]
    pub groups: Vec<String>,
}

/// How hard the event log tries to reach the disk before an event counts as logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Leave flushing to the OS.
    None,
    /// fsync at most every 10 ms or 1000 events.
    #[default]
    Batch,
    /// fsync after every event.
    Always,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Rotate the active log segment past this many bytes.
    pub log_max_bytes: u64,
    /// Number of log segments kept.
    pub log_keep: usize,
    pub durability: Durability,
    /// Loopback TCP address to listen on as well as ipc; empty means ipc only.
    pub tcp: String,
    /// Allow `tcp` to name a non-loopback address (off: the bus is private to this machine).
    pub tcp_allow_remote: bool,
    /// Messages queued per subscriber before the fan-out drops for that subscriber.
    pub fanout_hwm: u32,
    /// Bytes queued per subscriber before the fan-out drops for that subscriber.
    pub fanout_max_bytes: u64,
    /// Bytes queued for all subscribers together; past it, a subscriber holding more than its
    /// share misses events.
    pub fanout_max_bytes_total: u64,
    /// Publisher and subscriber connections together (control has its own reserve).
    pub max_connections: u32,
    /// Publisher connections (ingest).
    pub max_publishers: u32,
    /// Subscriber connections (events).
    pub max_subscribers: u32,
    /// Connections kept for control requests whatever the other sockets hold.
    pub control_connections: u32,
    /// Prefixes one subscriber may hold, and their bytes together.
    pub max_subscriptions: u32,
    pub max_subscription_bytes: u64,
    /// Attributes (core and extensions) one event may carry.
    pub max_attributes: u32,
    /// Bytes of input the daemon buffers across all connections.
    pub max_input_bytes: u64,
    /// A connection that has not finished its ZMTP handshake by then is closed.
    pub handshake_timeout_ms: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            log_max_bytes: 64 * 1024 * 1024,
            log_keep: 8,
            durability: Durability::Batch,
            tcp: String::new(),
            tcp_allow_remote: false,
            fanout_hwm: 100_000,
            fanout_max_bytes: 64 * 1024 * 1024,
            fanout_max_bytes_total: 256 * 1024 * 1024,
            max_connections: 4096,
            max_publishers: 2048,
            max_subscribers: 2048,
            control_connections: 64,
            max_subscriptions: 1000,
            max_subscription_bytes: 64 * 1024,
            max_attributes: 128,
            max_input_bytes: 256 * 1024 * 1024,
            handshake_timeout_ms: 30_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchConfig {
    pub debounce_ms: u64,
    /// Ignore patterns (gitignore syntax) applied on top of every `.gitignore`.
    pub ignore: Vec<String>,
    /// More distinct paths than this changed in one debounce window become one
    /// `core:file:overflow` (and a `core:repo:resynced`) instead of one event each.
    pub max_pending: usize,
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            debounce_ms: 50,
            ignore: vec!["target/".to_owned(), "node_modules/".to_owned()],
            max_pending: 100_000,
        }
    }
}

/// `[bridge]` (DESIGN.md section 11). Committed, so it names servers and rules, never secrets:
/// credentials come from the environment only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BridgeConfig {
    pub enabled: bool,
    /// Server URLs, `nats://` or `tls://`, tried in turn.
    pub url: Vec<String>,
    /// `[a-z0-9_-]{1,32}`: subjects `meta.<scope>.…`, stream `META_<SCOPE>`.
    pub scope: String,
    /// Type prefixes exported (the subscription rule: `""` is everything), then the denied ones.
    pub export: Vec<String>,
    pub export_deny: Vec<String>,
    pub import: Vec<String>,
    pub import_deny: Vec<String>,
    /// Where a new machine starts importing: `"new"`, `"all"` or a duration like `"24h"`.
    pub import_start: String,
    /// Create the stream and this machine's durable consumer when missing.
    pub provision: bool,
    pub stream_max_age: String,
    pub duplicate_window: String,
    /// Log segments the exporter has not passed are kept up to this many bytes beyond
    /// `[events].log_keep`; past it they go and a `meta:bridge:gap` event says what was skipped.
    pub max_backlog_bytes: u64,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Self {
            enabled: false,
            url: strings(&["nats://127.0.0.1:4222"]),
            scope: "meta".to_owned(),
            export: strings(&[""]),
            export_deny: strings(&["core:file:", "core:system:", "meta:"]),
            import: strings(&[""]),
            import_deny: strings(&["core:file:", "core:system:", "meta:"]),
            import_start: "new".to_owned(),
            provision: true,
            stream_max_age: "14d".to_owned(),
            duplicate_window: "10m".to_owned(),
            max_backlog_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// The rule `[bridge].scope` follows.
pub const SCOPE_RULE: &str = "1 to 32 of `a-z`, `0-9`, `_` and `-`";

/// Is `scope` a valid `[bridge].scope` (it becomes a subject token and part of a stream name)?
pub fn is_valid_scope(scope: &str) -> bool {
    (1..=32).contains(&scope.len())
        && scope
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Parses a duration like `500ms`, `30s`, `10m`, `24h` or `14d` (one number, one unit).
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let millis = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(std::time::Duration::from_millis(
        number.checked_mul(millis)?,
    ))
}

/// What `parse_duration` accepts, for error messages.
pub const DURATION_RULE: &str =
    "a whole number and a unit: `ms`, `s`, `m`, `h` or `d` (like `30s`, `10m`, `14d`)";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    #[serde(default = "default_true")]
    pub enabled: bool,
}

fn default_true() -> bool {
    true
}

fn default_groups() -> Vec<String> {
    DEFAULT_GROUPS.iter().map(|g| (*g).to_owned()).collect()
}

/// Why `meta/metarepo.toml` could not be loaded or changed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {}{message}", path.display(), key.as_ref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        /// The offending key (dotted), when the error is about one.
        key: Option<String>,
        message: String,
    },
}

impl ConfigError {
    /// The offending key, if the error names one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => key.as_deref(),
            _ => None,
        }
    }
}

impl Config {
    /// A config for a new meta-repo named `name`, with the default groups.
    pub fn new(name: &str) -> Self {
        Self {
            metarepo: MetarepoSection {
                name: name.to_owned(),
                groups: default_groups(),
            },
            events: EventsConfig::default(),
            watch: WatchConfig::default(),
            bridge: BridgeConfig::default(),
            plugins: BTreeMap::new(),
        }
    }

    /// Reads and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = fs_err::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates config text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Config =
            toml_text::guarded(|| toml_edit::de::from_str(text)).map_err(|err| {
                let Some(err) = err else {
                    return invalid_at(
                        text,
                        path,
                        &(0..0),
                        None,
                        toml_text::PARSER_FAILED.to_owned(),
                    );
                };
                let span = err.span().unwrap_or(0..0);
                let message = err.message().trim().to_owned();
                let key = unknown_field_name(&message).map(str::to_owned);
                invalid_at(text, path, &span, key, message)
            })?;
        config.validate(text, path)?;
        Ok(config)
    }

    /// Is the plugin `name` enabled? Plugins without a table are enabled by default.
    pub fn plugin_enabled(&self, name: &str) -> bool {
        self.plugins.get(name).is_none_or(|p| p.enabled)
    }

    /// Rules serde cannot express. Each error points at the offending key.
    fn validate(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let fail = |key: &str, message: String| {
            let span = key_span(text, key).unwrap_or(0..0);
            Err(invalid_at(text, path, &span, Some(key.to_owned()), message))
        };
        if self.metarepo.name.trim().is_empty() {
            return fail("metarepo.name", "must not be empty".to_owned());
        }
        let mut seen = std::collections::HashSet::new();
        for group in &self.metarepo.groups {
            if !is_valid_group(group) {
                return fail(
                    "metarepo.groups",
                    format!(
                        "group `{group}` is not a valid folder name (letters, digits, `_`, `-` and `.`, not starting with `.` or `-`)"
                    ),
                );
            }
            if !seen.insert(group) {
                return fail(
                    "metarepo.groups",
                    format!("group `{group}` is listed twice"),
                );
            }
        }
        if self.events.log_keep == 0 {
            return fail("events.log_keep", "must be at least 1".to_owned());
        }
        if self.events.log_max_bytes == 0 {
            return fail("events.log_max_bytes", "must be at least 1".to_owned());
        }
        let at_least_one = [
            ("events.fanout_hwm", u64::from(self.events.fanout_hwm)),
            ("events.fanout_max_bytes", self.events.fanout_max_bytes),
            (
                "events.fanout_max_bytes_total",
                self.events.fanout_max_bytes_total,
            ),
            (
                "events.max_connections",
                u64::from(self.events.max_connections),
            ),
            (
                "events.max_publishers",
                u64::from(self.events.max_publishers),
            ),
            (
                "events.max_subscribers",
                u64::from(self.events.max_subscribers),
            ),
            (
                "events.control_connections",
                u64::from(self.events.control_connections),
            ),
            (
                "events.max_subscriptions",
                u64::from(self.events.max_subscriptions),
            ),
            (
                "events.max_subscription_bytes",
                self.events.max_subscription_bytes,
            ),
            (
                "events.max_attributes",
                u64::from(self.events.max_attributes),
            ),
            ("events.max_input_bytes", self.events.max_input_bytes),
            (
                "events.handshake_timeout_ms",
                self.events.handshake_timeout_ms,
            ),
        ];
        for (key, value) in at_least_one {
            if value == 0 {
                return fail(key, "must be at least 1".to_owned());
            }
        }
        // Every event has `type`, and events the daemon writes carry its own few attributes.
        if self.events.max_attributes < 16 {
            return fail(
                "events.max_attributes",
                "must be at least 16 (the CloudEvents attributes alone are 10)".to_owned(),
            );
        }
        if !self.events.tcp.is_empty() {
            match self.events.tcp.parse::<SocketAddr>() {
                Err(_) => {
                    return fail(
                        "events.tcp",
                        format!(
                            "`{}` is not an address like `127.0.0.1:7700`",
                            self.events.tcp
                        ),
                    );
                }
                Ok(addr) if !addr.ip().is_loopback() && !self.events.tcp_allow_remote => {
                    return fail(
                        "events.tcp",
                        format!(
                            "`{addr}` is not a loopback address; the bus would be reachable from other machines. Set `tcp_allow_remote = true` in [events] if that is what you want"
                        ),
                    );
                }
                Ok(_) => {}
            }
        }
        self.validate_bridge(&fail)
    }

    /// `[bridge]`: each key checked, as the others are, even while the bridge is off (so turning
    /// it on never reveals an old mistake).
    fn validate_bridge(
        &self,
        fail: &dyn Fn(&str, String) -> Result<(), ConfigError>,
    ) -> Result<(), ConfigError> {
        let bridge = &self.bridge;
        if !is_valid_scope(&bridge.scope) {
            return fail(
                "bridge.scope",
                format!("`{}` is not a valid scope ({SCOPE_RULE})", bridge.scope),
            );
        }
        if bridge.enabled && bridge.url.is_empty() {
            return fail(
                "bridge.url",
                "names no server; give at least one, like [\"nats://127.0.0.1:4222\"]".to_owned(),
            );
        }
        for url in &bridge.url {
            let scheme_ok = ["nats://", "tls://"].iter().any(|s| url.starts_with(s));
            if !scheme_ok || url.len() <= "nats://".len() {
                return fail(
                    "bridge.url",
                    format!(
                        "`{url}` is not a server URL like `nats://host:4222` or `tls://host:4222`"
                    ),
                );
            }
            if let Some(at) = url.rfind('@') {
                // The secret is not repeated into a terminal or a CI log.
                let scheme_end = url.find("://").map_or(0, |i| i + 3);
                let shown = format!("{}***{}", &url[..scheme_end], &url[at..]);
                return fail(
                    "bridge.url",
                    format!(
                        "`{shown}` carries credentials; this file is committed. Use META_BRIDGE_USER and META_BRIDGE_PASSWORD, META_BRIDGE_TOKEN or META_BRIDGE_CREDS instead"
                    ),
                );
            }
        }
        for (key, prefixes) in [
            ("bridge.export", &bridge.export),
            ("bridge.export_deny", &bridge.export_deny),
            ("bridge.import", &bridge.import),
            ("bridge.import_deny", &bridge.import_deny),
        ] {
            for prefix in prefixes {
                let ok = prefix.is_empty()
                    || prefix.trim_end_matches(':').split(':').all(|seg| {
                        !seg.is_empty()
                            && seg.bytes().all(|b| {
                                b.is_ascii_lowercase()
                                    || b.is_ascii_digit()
                                    || b == b'_'
                                    || b == b'-'
                            })
                    });
                if !ok {
                    return fail(
                        key,
                        format!(
                            "`{prefix}` is not a type prefix (segments of `a-z`, `0-9`, `_`, `-` joined by `:`, like `acme:build:`; `\"\"` is every type)"
                        ),
                    );
                }
            }
        }
        let start = bridge.import_start.as_str();
        if start != "new" && start != "all" && parse_duration(start).is_none() {
            return fail(
                "bridge.import_start",
                format!("`{start}` is neither `new`, `all` nor a duration ({DURATION_RULE})"),
            );
        }
        for (key, value) in [
            ("bridge.stream_max_age", &bridge.stream_max_age),
            ("bridge.duplicate_window", &bridge.duplicate_window),
        ] {
            match parse_duration(value) {
                Some(d) if !d.is_zero() => {}
                _ => {
                    return fail(
                        key,
                        format!("`{value}` is not a duration above zero ({DURATION_RULE})"),
                    );
                }
            }
        }
        Ok(())
    }
}

/// A group is a folder directly under `src/`.
pub fn is_valid_group(group: &str) -> bool {
    let mut chars = group.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn unknown_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

fn invalid_at(
    text: &str,
    path: &Path,
    span: &Range<usize>,
    key: Option<String>,
    message: String,
) -> ConfigError {
    let (line, column) = line_column(text, span.start);
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        column,
        key,
        message,
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Byte span of the value at a dotted key path, for pointing at it in an error.
fn key_span(text: &str, dotted: &str) -> Option<Range<usize>> {
    let doc: toml_edit::Document<&str> =
        toml_text::guarded(|| toml_edit::Document::parse(text)).ok()?;
    let mut item = doc.as_item();
    for part in dotted.split('.') {
        item = item.get(part)?;
    }
    item.span()
}

/// Sets `[plugins.<name>].enabled` in the config file at `path`, keeping everything else as the
/// user wrote it. The file is replaced atomically.
pub fn set_plugin_enabled(path: &Path, name: &str, enabled: bool) -> Result<(), ConfigError> {
    edit(path, |doc| {
        let plugins = doc
            .entry("plugins")
            .or_insert_with(|| {
                let mut table = toml_edit::Table::new();
                table.set_implicit(true);
                toml_edit::Item::Table(table)
            })
            .as_table_like_mut();
        if let Some(plugins) = plugins {
            let entry = plugins
                .entry(name)
                .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
            if let Some(table) = entry.as_table_like_mut() {
                table.insert("enabled", toml_edit::value(enabled));
            }
        }
    })
}

/// Removes `[plugins.<name>]` from the config file at `path`, if present.
pub fn remove_plugin(path: &Path, name: &str) -> Result<(), ConfigError> {
    edit(path, |doc| {
        if let Some(plugins) = doc.get_mut("plugins").and_then(|p| p.as_table_like_mut()) {
            plugins.remove(name);
        }
    })
}

fn edit(path: &Path, change: impl FnOnce(&mut toml_edit::DocumentMut)) -> Result<(), ConfigError> {
    let text = fs_err::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    // Refuse to edit a file that does not load: we would otherwise write a broken file back.
    Config::parse(&text, path)?;
    let mut doc = toml_text::guarded(|| text.parse::<toml_edit::DocumentMut>()).map_err(|err| {
        let span = err
            .as_ref()
            .and_then(toml_edit::TomlError::span)
            .unwrap_or(0..0);
        let message = err.map_or(toml_text::PARSER_FAILED.to_owned(), |e| {
            e.message().to_owned()
        });
        invalid_at(&text, path, &span, None, message)
    })?;
    change(&mut doc);
    let updated = doc.to_string();
    Config::parse(&updated, path)?;
    fsutil::write_atomic(path, updated.as_bytes()).map_err(|source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `config` fuzz target (fuzz/regressions/config/): toml_edit 0.23 panicked on
    /// this text, so any `meta` command in a meta-repo with such a config crashed. Now an error
    /// that names the place.
    #[test]
    fn text_the_toml_parser_panicked_on_is_an_error() {
        for text in [
            "=={\n.",
            " = ======== # \"very <=2\n[metarepo]\nname = \"x\"\n=={\n.",
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.to_string().contains("meta/metarepo.toml:1:"), "{err}");
        }
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("meta/metarepo.toml"))
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let config = parse("[metarepo]\nname = \"acme\"\n").unwrap();
        assert_eq!(config.metarepo.groups, DEFAULT_GROUPS);
        assert_eq!(config.events.log_keep, 8);
        assert_eq!(config.events.durability, Durability::Batch);
        assert_eq!(config.watch.debounce_ms, 50);
        assert!(config.plugin_enabled("anything"));
    }

    #[test]
    fn unknown_key_names_key_line_and_column() {
        let err = parse("[metarepo]\nname = \"acme\"\n\n[events]\nlog_kep = 3\n").unwrap_err();
        let ConfigError::Invalid {
            line, column, key, ..
        } = &err
        else {
            panic!("wrong error: {err}");
        };
        assert_eq!((*line, *column), (5, 1));
        assert_eq!(key.as_deref(), Some("log_kep"));
        let shown = err.to_string();
        assert!(
            shown.starts_with("meta/metarepo.toml:5:1: key `log_kep`"),
            "{shown}"
        );
    }

    #[test]
    fn syntax_error_points_at_line() {
        let err = parse("[metarepo]\nname = \"acme\n").unwrap_err();
        let ConfigError::Invalid { line, .. } = err else {
            panic!("wrong error");
        };
        assert_eq!(line, 2);
    }

    #[test]
    fn bad_durability_is_rejected() {
        let err =
            parse("[metarepo]\nname = \"a\"\n[events]\ndurability = \"sometimes\"\n").unwrap_err();
        assert!(err.to_string().contains("sometimes"), "{err}");
        assert!(err.to_string().contains(":4:"), "{err}");
    }

    #[test]
    fn validation_errors_point_at_the_key() {
        let err = parse("[metarepo]\nname = \"a\"\n[events]\nlog_keep = 0\n").unwrap_err();
        assert_eq!(err.key(), Some("events.log_keep"));
        assert!(err.to_string().contains(":4:"), "{err}");
        let err = parse("[metarepo]\nname = \"a\"\ngroups = [\"ok\", \"../x\"]\n").unwrap_err();
        assert_eq!(err.key(), Some("metarepo.groups"));
    }

    #[test]
    fn remote_tcp_needs_explicit_consent() {
        let base = "[metarepo]\nname = \"a\"\n[events]\n";
        assert!(parse(&format!("{base}tcp = \"127.0.0.1:7700\"\n")).is_ok());
        assert!(parse(&format!("{base}tcp = \"0.0.0.0:7700\"\n")).is_err());
        assert!(
            parse(&format!(
                "{base}tcp = \"0.0.0.0:7700\"\ntcp_allow_remote = true\n"
            ))
            .is_ok()
        );
        assert!(parse(&format!("{base}tcp = \"localhost\"\n")).is_err());
    }

    #[test]
    fn bridge_defaults_and_precise_errors() {
        let config = parse("[metarepo]\nname = \"x\"\n").unwrap();
        assert!(!config.bridge.enabled);
        assert_eq!(config.bridge.export_deny[0], "core:file:");
        let config = parse(
            "[metarepo]\nname = \"x\"\n[bridge]\nenabled = true\nurl = [\"tls://n:4222\"]\nscope = \"acme\"\nimport_start = \"24h\"\n",
        )
        .unwrap();
        assert_eq!(config.bridge.scope, "acme");
        for (text, key, words) in [
            ("scope = \"Acme\"", "bridge.scope", "not a valid scope"),
            ("url = [\"http://x\"]", "bridge.url", "not a server URL"),
            (
                "url = [\"nats://u:p@x:4222\"]",
                "bridge.url",
                "META_BRIDGE_USER",
            ),
            ("import_start = \"soon\"", "bridge.import_start", "duration"),
            (
                "stream_max_age = \"0s\"",
                "bridge.stream_max_age",
                "above zero",
            ),
            ("export = [\"Acme:\"]", "bridge.export", "not a type prefix"),
        ] {
            let error =
                parse(&format!("[metarepo]\nname = \"x\"\n[bridge]\n{text}\n")).unwrap_err();
            assert_eq!(error.key(), Some(key), "{text}");
            assert!(error.to_string().contains(words), "{text}: {error}");
            assert!(error.to_string().contains(":4:"), "{text}: {error}");
        }
        let error = parse("[metarepo]\nname = \"x\"\n[bridge]\npassword = \"x\"\n").unwrap_err();
        assert_eq!(error.key(), Some("password"));
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("500ms"),
            Some(std::time::Duration::from_millis(500))
        );
        assert_eq!(
            parse_duration("14d"),
            Some(std::time::Duration::from_secs(14 * 86_400))
        );
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("1w"), None);
    }

    #[test]
    fn plugin_toggle_keeps_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metarepo.toml");
        std::fs::write(
            &path,
            "# top comment\n[metarepo]\nname = \"a\" # trailing\n",
        )
        .unwrap();
        set_plugin_enabled(&path, "hello", false).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("# top comment") && text.contains("# trailing"),
            "{text}"
        );
        let config = Config::load(&path).unwrap();
        assert!(!config.plugin_enabled("hello"));
        set_plugin_enabled(&path, "hello", true).unwrap();
        assert!(Config::load(&path).unwrap().plugin_enabled("hello"));
        remove_plugin(&path, "hello").unwrap();
        assert!(!Config::load(&path).unwrap().plugins.contains_key("hello"));
    }
}

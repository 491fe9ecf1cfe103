//! The bridge's shared parts, without a runtime (DESIGN.md section 11): how event types map to
//! NATS subjects, what goes on the wire, the node name, the export cursor and the state file, the
//! import/export filters, and the settings resolved from `[bridge]` and the environment.
//!
//! It holds no network code: `meta-bridge-nats` (the service, with tokio and async-nats) drives
//! these parts; the CLI and the daemon read the files through them without loading a runtime.

pub mod files;
pub mod settings;
pub mod subject;
pub mod wire;

pub use files::{BridgeFiles, BridgeState, FilesError};
pub use settings::{Auth, Settings, SettingsError};
pub use subject::Filter;

/// The extension naming the node an event came from (absent on local events).
pub const ORIGIN_EXT: &str = "metaorigin";
/// The extension keeping the origin's `sequence` on an imported event.
pub const ORIGIN_SEQ_EXT: &str = "metaoriginseq";
/// The header naming the node a message came from.
pub const ORIGIN_HEADER: &str = "Meta-Origin";
/// The CloudEvents NATS binding's structured-mode content type.
pub const CONTENT_TYPE: &str = "application/cloudevents+json; charset=utf-8";
/// The type of the event recording events the bridge could not carry.
pub const GAP_TYPE: &str = "meta:bridge:gap";
/// The `source` of events the bridge itself emits.
pub const SOURCE: &str = "/plugins/bridge";
/// The control op through which imported events reach the daemon, the log's only writer.
pub const IMPORT_OP: &str = "import";

//! Every environment variable `meta` reads or sets, declared once.

/// Root of the meta-repo, set for plugin processes.
pub const META_ROOT: &str = "META_ROOT";
/// Name of the plugin a process runs for.
pub const META_PLUGIN_NAME: &str = "META_PLUGIN_NAME";
/// Folder of the plugin a process runs for.
pub const META_PLUGIN_DIR: &str = "META_PLUGIN_DIR";
/// Plugin protocol version the host speaks.
pub const META_API: &str = "META_API";
/// Bus endpoint publishers PUSH to.
pub const META_BUS_INGEST: &str = "META_BUS_INGEST";
/// Bus endpoint subscribers SUB to.
pub const META_BUS_EVENTS: &str = "META_BUS_EVENTS";
/// Bus endpoint for control requests (ping, status, stop).
pub const META_BUS_CONTROL: &str = "META_BUS_CONTROL";
/// Path of the project (relative to the root) a `meta exec` command runs in.
pub const META_PROJECT_PATH: &str = "META_PROJECT_PATH";
/// Folder name of the project a `meta exec` command runs in.
pub const META_PROJECT_NAME: &str = "META_PROJECT_NAME";
/// Group (folder under `src/`) of the project a `meta exec` command runs in; empty if none.
pub const META_PROJECT_GROUP: &str = "META_PROJECT_GROUP";
/// `1` runs `meta` with built-in commands only, like `--no-plugins`.
pub const META_NO_PLUGINS: &str = "META_NO_PLUGINS";
/// Any value turns colour off (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// Where per-user runtime files go (sockets).
pub const XDG_RUNTIME_DIR: &str = "XDG_RUNTIME_DIR";

/// True when the variable is set to something other than empty, `0` or `false`.
pub fn flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The bridge (DESIGN.md section 11): this machine's node name (else generated once and kept in
/// `.meta/bridge/node`).
pub const META_BRIDGE_NODE: &str = "META_BRIDGE_NODE";
/// The bridge's credentials, from the environment only: a NATS `.creds` file…
pub const META_BRIDGE_CREDS: &str = "META_BRIDGE_CREDS";
/// …or a user and password…
pub const META_BRIDGE_USER: &str = "META_BRIDGE_USER";
pub const META_BRIDGE_PASSWORD: &str = "META_BRIDGE_PASSWORD";
/// …or a token.
pub const META_BRIDGE_TOKEN: &str = "META_BRIDGE_TOKEN";
/// A PEM file of CA certificates the bridge trusts for `tls://` servers.
pub const META_BRIDGE_TLS_CA: &str = "META_BRIDGE_TLS_CA";
/// Where `meta` finds the `meta-bridge` program (default: beside the running `meta`, then PATH).
pub const META_BRIDGE_BIN: &str = "META_BRIDGE_BIN";

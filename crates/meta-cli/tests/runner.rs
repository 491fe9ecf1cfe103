//! End-to-end tests of the `meta` binary. One test binary (this file) with a module per area
//! keeps link time down.

mod bridge;
mod change;
mod commit;
mod common;
mod cruft;
mod diff;
mod events;
mod exec;
mod file_events;
mod framework;
mod health;
mod hostile_peers;
mod land;
mod pins;
mod plugin_services;
mod plugins;
mod project;
mod push;
mod repo_watch;
mod scaffold;
mod status;
mod switch;
mod sync;
mod template_check;
mod template_update;
mod templates;

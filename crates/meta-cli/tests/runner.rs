//! End-to-end tests of the `meta` binary. One test binary (this file) with a module per area
//! keeps link time down.

mod common;
mod events;
mod framework;
mod health;
mod plugins;
mod scaffold;
mod status;
mod templates;

//! End-to-end tests of the `meta` binary. One test binary (this file) with a module per area
//! keeps link time down.

mod common;
mod exec;
mod framework;
mod project;
mod status;
mod sync;

//! `meta`: one command line for a meta-repo. This file only hands `argv` to the CLI; the
//! commands live in `commands/`, one module each.

mod change_error;
mod change_events;
mod cli;
mod commands;
mod error;
mod event_errors;
mod journal_notice;
mod plugin_error;
mod plugins;
mod project_events;
mod registry;
mod repo_error;
mod select;
mod ui;
mod watch_service;
mod workflow_error;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run(std::env::args_os().collect())
}

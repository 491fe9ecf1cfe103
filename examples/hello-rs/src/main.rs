//! An example `meta` plugin in Rust, built on `meta-plugin-sdk`:
//!
//! - `meta hello-rs [NAME]` (`hello-rs greet`) greets NAME and logs a `hello-rs:greeted` event,
//!   whether or not a daemon runs;
//! - its service (`hello-rs serve`, started and supervised by the daemon) answers every
//!   greeting with a `hello-rs:answered` event.
//!
//! Build it and put the binary beside its manifest, then install the folder:
//!
//! ```sh
//! cargo build --release -p hello-rs
//! mkdir -p /tmp/hello-rs
//! cp examples/hello-rs/meta-plugin.toml target/release/hello-rs /tmp/hello-rs/
//! meta plugin install /tmp/hello-rs && meta daemon start && meta hello-rs Ada
//! meta events tail hello-rs      # hello-rs:greeted, then the service's hello-rs:answered
//! ```

// A command-line program talks to its terminal (and a service to its log).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use meta_plugin_sdk::{Env, SdkError, json};

const USAGE: &str = "Usage: meta hello-rs [NAME]

Greets NAME (or the world) from the meta-repo this runs in, and logs a `hello-rs:greeted`
event; the plugin's service answers it with `hello-rs:answered`.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((mode, rest)) if mode == "greet" => greet(rest),
        Some((mode, _)) if mode == "serve" => serve(),
        _ => {
            eprintln!(
                "hello-rs: expected `greet` or `serve` (meta passes one; see meta-plugin.toml)"
            );
            ExitCode::from(2)
        }
    }
}

fn environment() -> Result<Env, ExitCode> {
    Env::from_env().map_err(|error| {
        eprintln!("hello-rs: {error}");
        ExitCode::from(2)
    })
}

/// The command: greets, then logs the greeting.
fn greet(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let env = match environment() {
        Ok(env) => env,
        Err(code) => return code,
    };
    if args.len() > 1 {
        eprintln!("hello-rs: expected at most one NAME\n\n{USAGE}");
        return ExitCode::from(2);
    }
    let who = args.first().map_or("world", String::as_str);
    let repo = env.root.file_name().map_or_else(
        || env.root.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    println!(
        "Hello, {who}! (plugin {} in meta-repo {repo})",
        env.plugin_name
    );
    // `emit`, not `publish`: a command may run with no daemon, and the greeting still lands.
    if let Err(error) = env.emit("hello-rs:greeted", json!({ "name": who })) {
        eprintln!("hello-rs: the greeting was not logged: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// The service: answers each greeting. Runs until the daemon stops it.
fn serve() -> ExitCode {
    let env = match environment() {
        Ok(env) => env,
        Err(code) => return code,
    };
    if let Err(error) = answer(&env) {
        eprintln!("hello-rs: {error}");
    }
    ExitCode::FAILURE
}

/// Answers greetings, and notices branch switches, until something fails.
fn answer(env: &Env) -> Result<(), SdkError> {
    let publisher = env.publisher()?;
    // The daemon follows every repository of the meta-repo: `core:repo:branch-switched` says
    // `{project, from, to}` (project null for the meta-repo itself; branch null when detached).
    let mut greetings = env.subscribe(&["hello-rs:greeted", "core:repo:branch-switched"])?;
    eprintln!("hello-rs: answering greetings");
    loop {
        let Some(event) = greetings.recv(None)? else {
            continue;
        };
        if event.ty() == "core:repo:branch-switched" {
            let data = event.data.clone().unwrap_or_default();
            publisher.publish(
                "hello-rs:noticed",
                json!({ "project": data["project"], "branch": data["to"] }),
            )?;
            continue;
        }
        let who = event
            .data
            .as_ref()
            .and_then(|data| data["name"].as_str())
            .unwrap_or("world")
            .to_owned();
        publisher.publish(
            "hello-rs:answered",
            json!({ "to": who, "greeting": event.sequence }),
        )?;
    }
}

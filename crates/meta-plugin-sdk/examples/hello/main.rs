//! An example `meta` plugin in Rust: `meta hello-rs [NAME]` greets NAME.
//!
//! Build it and put the binary beside its manifest, then install the folder:
//!
//! ```sh
//! cargo build --release -p meta-plugin-sdk --example hello
//! mkdir -p /tmp/hello-rs && cp crates/meta-plugin-sdk/examples/hello/meta-plugin.toml /tmp/hello-rs/
//! cp target/release/examples/hello /tmp/hello-rs/
//! meta plugin install /tmp/hello-rs && meta hello-rs Ada
//! ```

// A command-line program talks to its terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use meta_plugin_sdk::Env;

const USAGE: &str = "Usage: meta hello-rs [NAME]

Greets NAME (or the world) from the meta-repo this runs in.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let env = match Env::from_env() {
        Ok(env) => env,
        Err(error) => {
            eprintln!("hello-rs: {error}");
            return ExitCode::from(2);
        }
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
    ExitCode::SUCCESS
}

//! `meta-bridge`: the bridge to NATS JetStream as its own program (DESIGN.md section 11), so
//! its async runtime and NATS client never load when `meta` starts. Users do not run it: the
//! daemon starts `meta-bridge service` as the built-in `bridge` plugin's service (through
//! `meta bridge service`), and `meta bridge push|resend` run `meta-bridge push` and render its
//! one-line JSON answer.
//!
//! ```text
//! meta-bridge service                          # META_ROOT names the meta-repo
//! meta-bridge push [--timeout SECS] [--since SEQ]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use meta_bridge_nats::BridgeError;
use serde_json::json;

fn root() -> Option<PathBuf> {
    std::env::var_os(meta_workspace::env::META_ROOT)
        .filter(|r| !r.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let cwd = std::env::current_dir().ok()?;
            meta_workspace::find_root(&cwd).ok()
        })
}

#[allow(clippy::print_stdout, clippy::print_stderr)] // this program's whole output
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(root) = root() else {
        eprintln!("meta-bridge: not inside a meta-repo (and META_ROOT is not set)");
        return ExitCode::from(2);
    };
    match args.first().map(String::as_str) {
        Some("service") => {
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .init();
            match meta_bridge_nats::run_service(&root) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("meta-bridge: {}", meta_repo::describe_chain(&error));
                    ExitCode::FAILURE
                }
            }
        }
        Some("push") => {
            let mut timeout = Duration::from_secs(30);
            let mut since = None;
            let mut rest = args.iter().skip(1);
            while let Some(arg) = rest.next() {
                let value = rest.next().map(String::as_str).unwrap_or_default();
                match arg.as_str() {
                    "--timeout" => match value.parse::<f64>() {
                        Ok(secs) if secs.is_finite() && secs >= 0.0 => {
                            timeout = Duration::from_secs_f64(secs);
                        }
                        _ => return usage(),
                    },
                    "--since" => match value.parse::<u64>() {
                        Ok(seq) => since = Some(seq),
                        Err(_) => return usage(),
                    },
                    _ => return usage(),
                }
            }
            let answer = match meta_bridge_nats::push(&root, timeout, since) {
                Ok(report) => json!({
                    "ok": true,
                    "exported": report.exported,
                    "skipped_oversize": report.skipped_oversize,
                    "cursor": report.cursor,
                }),
                Err(error) => json!({
                    "ok": false,
                    "kind": error.kind(),
                    "error": meta_repo::describe_chain(&error),
                    "left": match error { BridgeError::Timeout { left, .. } => left, _ => 0 },
                }),
            };
            println!("{answer}");
            if answer["ok"] == true {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        _ => usage(),
    }
}

#[allow(clippy::print_stderr)]
fn usage() -> ExitCode {
    eprintln!("usage: meta-bridge service | meta-bridge push [--timeout SECS] [--since SEQ]");
    ExitCode::from(2)
}

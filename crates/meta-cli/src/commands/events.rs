//! `meta events publish|tail`: emit one event, or read the log and follow the bus.

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;

use meta_events::client::Subscription;
use meta_events::event::{self, Event, MetaValue};
use meta_events::log::{LogCursor, line_sequence};
use meta_events::topic;
use meta_events::{Client, emit};
use serde_json::Value;

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::ui::styles;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: EventsCommand,
}

#[derive(clap::Subcommand, Debug)]
enum EventsCommand {
    /// Emit one event (through the daemon when it runs, straight to the log otherwise).
    Publish {
        /// The event type, e.g. `acme:build:done` (2 to 8 `:`-separated segments, each
        /// `[a-z][a-z0-9_-]{0,31}`; the `core` namespace is reserved).
        #[arg(value_name = "TYPE")]
        ty: String,
        /// The payload, as JSON.
        #[arg(long, value_name = "JSON")]
        data: Option<String>,
        /// Metadata (a CloudEvents extension attribute); KEY is `[a-z0-9]{1,20}`. VALUE `true` or
        /// `false` is a boolean, a 32-bit integer is an integer, anything else a string.
        #[arg(long = "meta", value_name = "KEY=VALUE")]
        meta: Vec<String>,
        /// Print the event as logged, as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show events from the log; with `-f`, keep following new ones.
    Tail {
        /// Only events whose type starts with one of these (`core:file` means `core:file:…`).
        #[arg(value_name = "PREFIX")]
        prefixes: Vec<String>,
        /// Start at this sequence, inclusive (default: the oldest event kept).
        #[arg(long, value_name = "SEQ")]
        since: Option<String>,
        /// Keep following new events (Ctrl-C stops).
        #[arg(short, long)]
        follow: bool,
        /// One JSON event per line, as in the log.
        #[arg(long)]
        json: bool,
        /// Only events made on this machine (no `metaorigin`; see `meta bridge`).
        #[arg(long, conflicts_with = "remote")]
        local: bool,
        /// Only events the bridge imported from other machines (with `metaorigin`).
        #[arg(long)]
        remote: bool,
    },
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    match args.command {
        EventsCommand::Publish {
            ty,
            data,
            meta,
            json,
        } => publish(ctx, &ty, data.as_deref(), &meta, json),
        EventsCommand::Tail {
            prefixes,
            since,
            follow,
            json,
            local,
            remote,
        } => {
            let origin = (local || remote).then_some(remote);
            tail(ctx, &prefixes, since.as_deref(), follow, json, origin)
        }
    }
}

fn publish(
    ctx: &mut Ctx<'_>,
    ty: &str,
    data: Option<&str>,
    meta: &[String],
    json: bool,
) -> CliResult {
    if event::is_core_type(ty) {
        return Err(CliError::usage(format!(
            "cannot publish `{ty}`: the `core` namespace belongs to meta itself"
        ))
        .with_hint("use a namespace of your own, such as `myteam:build:done`"));
    }
    let mut event = Event::new(ty, None).map_err(|e| CliError::usage(e.to_string()))?;
    if let Some(data) = data {
        let value: Value = serde_json::from_str(data).map_err(|e| {
            CliError::usage(format!("--data is not valid JSON: {e}")).with_hint(
                "quote the JSON for your shell, e.g. --data '{\"ok\": true}'; a string needs its own quotes: --data '\"text\"'",
            )
        })?;
        event.data = Some(value);
    }
    for entry in meta {
        let Some((key, value)) = entry.split_once('=') else {
            return Err(
                CliError::usage(format!("--meta `{entry}` is not KEY=VALUE"))
                    .with_hint("for example --meta user=ann --meta attempt=2"),
            );
        };
        event
            .set_meta(key, MetaValue::infer(value))
            .map_err(|e| CliError::usage(format!("--meta `{entry}`: {e}")))?;
    }
    let workspace = ctx.workspace()?.clone();
    let emitted = emit(&workspace, event)?;
    if json {
        ctx.ui.println(&emitted.json)?;
    } else {
        ctx.ui
            .println(format!("published {} (sequence {})", ty, emitted.sequence))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// How long `tail -f` waits on the bus before looking at the log itself (events appended without
/// a daemon, or missed while the daemon restarted).
const LOG_POLL: Duration = Duration::from_millis(200);

fn tail(
    ctx: &mut Ctx<'_>,
    prefixes: &[String],
    since: Option<&str>,
    follow: bool,
    json: bool,
    origin: Option<bool>,
) -> CliResult {
    let since = match since {
        None => 1,
        Some(text) => event::parse_sequence(text).ok_or_else(|| {
            CliError::usage(format!("--since `{text}` is not a sequence number"))
                .with_hint("a sequence is a decimal number, as in `--since 42`")
        })?,
    };
    let prefixes: Vec<String> = prefixes
        .iter()
        .map(|p| topic::normalize_prefix(p))
        .collect();
    let workspace = ctx.workspace()?.clone();
    let events_dir = workspace.events_dir();
    // Subscribe before reading the log, so nothing falls between the two.
    let mut subscription: Option<Subscription> = if follow {
        Some(Client::for_workspace(&workspace).subscribe(&prefixes)?)
    } else {
        None
    };
    let mut printer = Printer {
        out: BufWriter::with_capacity(64 * 1024, std::io::stdout().lock()),
        json,
        color: ctx.ui.color_stdout(),
        prefixes,
        last: since.saturating_sub(1),
        ui: ctx.ui.clone(),
        origin,
    };
    let mut cursor = LogCursor::from_sequence(&events_dir, since);
    printer.drain_log(&mut cursor)?;
    printer.out.flush()?;
    let Some(subscription) = subscription.as_mut() else {
        return Ok(ExitCode::SUCCESS);
    };
    loop {
        match subscription.recv(Some(LOG_POLL))? {
            Some(received) => {
                let Ok(event) = received.event() else {
                    continue;
                };
                let Some(sequence) = event.sequence else {
                    continue;
                };
                if sequence <= printer.last {
                    continue;
                }
                if sequence > printer.last + 1 {
                    // A gap: events we did not subscribe to, or ones the fan-out dropped. The
                    // log has them all (it is written before anything is published).
                    printer.drain_log(&mut cursor)?;
                }
                if sequence > printer.last {
                    let line = String::from_utf8_lossy(&received.json).into_owned();
                    printer.print(&event, &line)?;
                    printer.last = sequence;
                }
            }
            None => printer.drain_log(&mut cursor)?,
        }
        printer.out.flush()?;
    }
}

struct Printer<W: Write> {
    out: W,
    json: bool,
    color: bool,
    prefixes: Vec<String>,
    /// Highest sequence already shown or passed over: nothing at or below it is shown again.
    last: u64,
    ui: crate::ui::Ui,
    /// `--remote` (`Some(true)`: only imported events) or `--local` (`Some(false)`).
    origin: Option<bool>,
}

impl<W: Write> Printer<W> {
    /// Shows every event in the log after `last` that matches.
    fn drain_log(&mut self, cursor: &mut LogCursor) -> Result<(), CliError> {
        while let Some(line) = cursor.next_line()? {
            let Some(sequence) = line_sequence(line) else {
                continue;
            };
            if sequence <= self.last {
                continue;
            }
            self.last = sequence;
            if self.json && self.prefixes.is_empty() && self.origin.is_none() {
                self.out.write_all(line)?;
                self.out.write_all(b"\n")?;
                continue;
            }
            let Ok(event) = Event::from_json(line) else {
                continue;
            };
            if topic::matches_any(event.ty(), &self.prefixes) {
                let text = String::from_utf8_lossy(line).into_owned();
                self.print(&event, &text)?;
            }
        }
        Ok(())
    }

    fn print(&mut self, event: &Event, json: &str) -> Result<(), CliError> {
        if let Some(remote) = self.origin
            && event.metadata().contains_key(meta_bridge::ORIGIN_EXT) != remote
        {
            return Ok(());
        }
        if self.json {
            writeln!(self.out, "{json}")?;
            return Ok(());
        }
        let paint = |style, text: &str| {
            if self.color {
                self.ui.paint(style, text)
            } else {
                text.to_owned()
            }
        };
        let sequence = event.sequence.unwrap_or(0).to_string();
        let mut line = format!(
            "{} {} {}",
            paint(styles::DIM, &format!("{sequence:>6}")),
            paint(styles::DIM, event.time.as_deref().unwrap_or("-")),
            paint(styles::EMPHASIS, event.ty()),
        );
        for (key, value) in event.metadata() {
            line.push(' ');
            line.push_str(&paint(styles::HINT, &format!("{key}={value}")));
        }
        if let Some(data) = &event.data {
            line.push(' ');
            line.push_str(&data.to_string());
        }
        writeln!(self.out, "{line}")?;
        Ok(())
    }
}

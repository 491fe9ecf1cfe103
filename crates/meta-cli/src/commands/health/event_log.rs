//! `event-log`: the event log can be written, and what is in it is whole — every line an event,
//! sequences rising by one across segments. A torn last line (a crash mid-write) is only a
//! warning: the next writer cuts it off.

use std::io::{BufRead, BufReader};
use std::path::Path;

use meta_events::log::{Segment, line_sequence, list_segments};

use super::{Check, Health, Outcome, always};

pub const CHECK: Check = Check {
    name: "event-log",
    applies: always,
    run,
};

fn run(health: &Health) -> Outcome {
    let events_dir = health.root.join(".meta/events");
    if let Some(outcome) = check_writable(&health.root, &events_dir) {
        return outcome;
    }
    let segments = match list_segments(&events_dir) {
        Ok(segments) => segments,
        Err(error) => {
            return Outcome::fail(
                format!("cannot list the event log: {error}"),
                "check the permissions of `.meta/events/`",
            );
        }
    };
    if segments.is_empty() {
        return Outcome::pass("writable, no events logged yet");
    }
    match scan(&segments) {
        Ok(Scan { events, last, torn }) => {
            let summary = format!(
                "{events} events in {} segment(s), last sequence {last}",
                segments.len()
            );
            if torn {
                Outcome::warn(
                    format!("{summary}; the last line is torn (a writer stopped mid-line)"),
                    "nothing to do by hand: the next `meta daemon start` or emitted event cuts the torn line off",
                )
            } else {
                Outcome::pass(summary)
            }
        }
        Err(problem) => Outcome::fail(
            problem,
            "the log was edited or damaged; move `.meta/events/` aside (`mv .meta/events .meta/events.damaged`) to start a fresh log, keeping the old one to inspect",
        ),
    }
}

/// `None` when the log folder (or the folder it would be made in) takes new files.
fn check_writable(root: &Path, events_dir: &Path) -> Option<Outcome> {
    // The nearest existing folder on the way to `.meta/events` is the one that must be writable.
    let mut probe = events_dir;
    while !probe.exists() {
        probe = probe.parent().unwrap_or(root);
        if probe == root {
            break;
        }
    }
    // An unnamed temporary file: proves we may create files there, and leaves nothing behind.
    match tempfile::tempfile_in(probe) {
        Ok(_) => None,
        Err(error) => Some(Outcome::fail(
            format!(
                "`{}` is not writable: {}",
                probe.strip_prefix(root).unwrap_or(probe).display(),
                crate::error::describe_io(&error)
            ),
            "give your user write access to `.meta/` (for example `chmod u+rwx .meta .meta/events`)",
        )),
    }
}

struct Scan {
    events: u64,
    last: u64,
    torn: bool,
}

/// Reads every segment: each line must carry a sequence one past the previous line's. Only the
/// very last line of the newest segment may be torn.
fn scan(segments: &[Segment]) -> Result<Scan, String> {
    let mut expected: Option<u64> = None;
    let mut events = 0;
    let mut torn = false;
    for (index, segment) in segments.iter().enumerate() {
        let newest = index + 1 == segments.len();
        let file = std::fs::File::open(&segment.path).map_err(|e| {
            format!(
                "cannot read `{}`: {}",
                segment.path.display(),
                crate::error::describe_io(&e)
            )
        })?;
        let name = segment
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        if expected.is_some_and(|e| e != segment.first) {
            return Err(format!(
                "segment `{name}` starts at sequence {} but the previous one ended before {}",
                segment.first,
                expected.unwrap_or_default()
            ));
        }
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("cannot read `{name}`: {}", crate::error::describe_io(&e)))?;
            if read == 0 {
                break;
            }
            number += 1;
            let complete = line.last() == Some(&b'\n');
            let body = line.strip_suffix(b"\n").unwrap_or(&line);
            let sequence = line_sequence(body)
                .filter(|_| serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok());
            match sequence {
                Some(sequence) if complete => {
                    if let Some(want) = expected
                        && sequence != want
                    {
                        return Err(format!(
                            "`{name}` line {number}: sequence {sequence} where {want} was expected"
                        ));
                    }
                    expected = Some(sequence + 1);
                    events += 1;
                }
                _ => {
                    let at_end = reader.fill_buf().is_ok_and(<[u8]>::is_empty);
                    if newest && at_end {
                        torn = true;
                    } else {
                        return Err(format!("`{name}` line {number} is not a whole event"));
                    }
                }
            }
        }
    }
    Ok(Scan {
        events,
        last: expected.map_or(0, |e| e - 1),
        torn,
    })
}

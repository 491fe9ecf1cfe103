//! What an exported event looks like on the wire, and what an imported one becomes.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::{ORIGIN_EXT, ORIGIN_SEQ_EXT};

/// A log line ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub ty: String,
    /// The event JSON as logged plus `metaorigin`.
    pub payload: Vec<u8>,
    /// `<node>|<source>|<id>`, percent-encoded as the CloudEvents header rule asks.
    pub msg_id: String,
}

/// Why a log line is not exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotExported {
    /// It came from another node: never exported again (no loops).
    Imported,
    /// Not an event object (the log holds only whole events; defensive).
    Unreadable,
}

/// The wire form of a local log line, or why it has none.
pub fn outgoing(line: &[u8], node: &str) -> Result<Outgoing, NotExported> {
    let mut event: Map<String, Value> =
        serde_json::from_slice(line).map_err(|_| NotExported::Unreadable)?;
    if event.contains_key(ORIGIN_EXT) {
        return Err(NotExported::Imported);
    }
    let text = |key: &str| event.get(key).and_then(Value::as_str).map(str::to_owned);
    let (Some(ty), Some(source), Some(id)) = (text("type"), text("source"), text("id")) else {
        return Err(NotExported::Unreadable);
    };
    event.insert(ORIGIN_EXT.to_owned(), Value::String(node.to_owned()));
    let payload = serde_json::to_vec(&event).map_err(|_| NotExported::Unreadable)?;
    Ok(Outgoing {
        ty,
        payload,
        msg_id: msg_id(node, &source, &id),
    })
}

/// `Nats-Msg-Id`: `<node>|<source>|<id>`, with space, `"`, `%` and non-printable ASCII
/// percent-encoded (the CloudEvents NATS binding's header rule).
pub fn msg_id(node: &str, source: &str, id: &str) -> String {
    let mut out = String::with_capacity(node.len() + source.len() + id.len() + 2);
    for (i, part) in [node, source, id].into_iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        for c in part.chars() {
            if c == ' '
                || c == '"'
                || c == '%'
                || (c.is_ascii() && (c as u32) < 0x21)
                || c == '\x7f'
            {
                let _ = write!(out, "%{:02X}", c as u32);
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// An event received from the stream, checked and ready for the daemon.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub ty: String,
    pub origin: String,
    /// The event as the daemon should log it: `metaorigin` kept, the origin's `sequence` moved
    /// to `metaoriginseq` (the daemon gives it a local one).
    pub event: Map<String, Value>,
}

/// Why a received message is not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotImported {
    /// Our own event, echoed back by the stream.
    Own,
    /// Not a CloudEvent from a `meta` node.
    Invalid(String),
}

/// Reads a received payload.
pub fn incoming(payload: &[u8], node: &str) -> Result<Incoming, NotImported> {
    let mut event: Map<String, Value> = serde_json::from_slice(payload)
        .map_err(|e| NotImported::Invalid(format!("not a JSON object: {e}")))?;
    let origin = event
        .get(ORIGIN_EXT)
        .and_then(Value::as_str)
        .ok_or_else(|| NotImported::Invalid(format!("no `{ORIGIN_EXT}` string")))?
        .to_owned();
    if origin == node {
        return Err(NotImported::Own);
    }
    let ty = event
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| NotImported::Invalid("no `type` string".to_owned()))?
        .to_owned();
    for key in ["id", "source"] {
        if !event.get(key).is_some_and(Value::is_string) {
            return Err(NotImported::Invalid(format!("no `{key}` string")));
        }
    }
    if let Some(sequence) = event.remove("sequence") {
        event.insert(ORIGIN_SEQ_EXT.to_owned(), sequence);
    }
    Ok(Incoming { ty, origin, event })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &[u8] = br#"{"specversion":"1.0","id":"x 1","source":"/meta/cli","type":"acme:build:done","time":"2026-01-01T00:00:00.000000Z","sequence":"00000000000000000007"}"#;

    #[test]
    fn a_local_line_goes_out_with_its_origin_and_comes_in_with_the_origin_sequence() {
        let out = outgoing(LINE, "a").unwrap();
        assert_eq!(out.ty, "acme:build:done");
        assert_eq!(out.msg_id, "a|/meta/cli|x%201");
        let back = incoming(&out.payload, "b").unwrap();
        assert_eq!(back.origin, "a");
        assert!(back.event.get("sequence").is_none());
        assert_eq!(back.event[ORIGIN_SEQ_EXT], "00000000000000000007");
        assert_eq!(back.event["id"], "x 1");
        assert_eq!(incoming(&out.payload, "a"), Err(NotImported::Own));
        // An imported line is never exported again.
        let imported = serde_json::to_vec(&back.event).unwrap();
        assert_eq!(outgoing(&imported, "b"), Err(NotExported::Imported));
        assert_eq!(outgoing(b"{", "a"), Err(NotExported::Unreadable));
    }

    #[test]
    fn msg_ids_encode_what_a_header_cannot_hold() {
        assert_eq!(msg_id("n", "/p\"%", "a\tb"), "n|/p%22%25|a%09b");
    }
}

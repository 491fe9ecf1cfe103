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

/// The attributes export needs, read without copying the rest of the line.
#[derive(serde::Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", borrow)]
    ty: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    source: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
    metaorigin: Option<serde::de::IgnoredAny>,
}

/// The wire form of a local log line, or why it has none: the line as logged with
/// `"metaorigin":"<node>"` added as its last attribute (the line is a compact JSON object, so the
/// attribute goes before its closing brace; node names need no escaping).
pub fn outgoing(line: &[u8], node: &str) -> Result<Outgoing, NotExported> {
    let head: Head<'_> = serde_json::from_slice(line).map_err(|_| NotExported::Unreadable)?;
    if head.metaorigin.is_some() {
        return Err(NotExported::Imported);
    }
    let body = line.trim_ascii_end();
    let Some(open) = body.strip_suffix(b"}") else {
        return Err(NotExported::Unreadable);
    };
    let mut payload = Vec::with_capacity(body.len() + ORIGIN_EXT.len() + node.len() + 8);
    payload.extend_from_slice(open);
    if open.trim_ascii_end() != b"{" {
        payload.push(b',');
    }
    payload.extend_from_slice(b"\"");
    payload.extend_from_slice(ORIGIN_EXT.as_bytes());
    payload.extend_from_slice(b"\":\"");
    payload.extend_from_slice(node.as_bytes());
    payload.extend_from_slice(b"\"}");
    Ok(Outgoing {
        ty: head.ty.into_owned(),
        payload,
        msg_id: msg_id(node, &head.source, &head.id),
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
        // Only a top-level `metaorigin` makes an event foreign; the wire form stays valid JSON.
        let nested = br#"{"id":"1","source":"/s","type":"a:b","data":{"metaorigin":"x"}}"#;
        let out = outgoing(nested, "n").unwrap();
        let value: Value = serde_json::from_slice(&out.payload).unwrap();
        assert_eq!(value["metaorigin"], "n");
        assert_eq!(value["data"]["metaorigin"], "x");
    }

    #[test]
    fn msg_ids_encode_what_a_header_cannot_hold() {
        assert_eq!(msg_id("n", "/p\"%", "a\tb"), "n|/p%22%25|a%09b");
    }
}

//! The daemon's hot path: validate one event as it arrived on the wire and write its log line
//! (filled in with `specversion`, `id`, `source`, `time` and `sequence`) without building a tree.
//!
//! Parsing borrows from the input: attribute names and values stay `&RawValue` slices and are
//! copied verbatim into the output, so `data` is never decoded. The only allocation per event is
//! the small list of attributes.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::event::{
    CORE_ATTRIBUTES, DecodeError, ExtensionError, JSON_CONTENT_TYPE, MAX_EVENT_BYTES, validate_type,
};

/// What the daemon fills into an event that lacks it.
#[derive(Debug, Clone, Copy)]
pub struct Fill<'a> {
    pub sequence: u64,
    /// `source` for events that name none.
    pub source: &'a str,
    /// `time` for events that carry none: RFC 3339 text (see [`crate::time`]).
    pub time: &'a str,
}

/// Where the accepted event landed in the output buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The whole line, newline included.
    pub line: Range<usize>,
    /// The type's characters inside the line (the topic is this plus `:`).
    pub ty: Range<usize>,
}

/// Attributes an event may carry unless the daemon is told otherwise (`[events].max_attributes`).
pub const DEFAULT_MAX_ATTRIBUTES: usize = 128;

/// Validates `input` (the rules of DESIGN.md 3.1 and 3.3) without writing anything.
pub fn check(input: &[u8]) -> Result<(), DecodeError> {
    parse(input, DEFAULT_MAX_ATTRIBUTES).map(|_| ())
}

/// Validates `input` and appends its log line (compact JSON + `\n`) to `out`. On error `out` is
/// left as it was.
pub fn normalize(
    input: &[u8],
    fill: &Fill<'_>,
    out: &mut Vec<u8>,
) -> Result<Accepted, DecodeError> {
    normalize_limited(input, fill, DEFAULT_MAX_ATTRIBUTES, out)
}

/// [`normalize`], refusing events of more than `max_attributes` attributes. Time is linear in
/// the input whatever it holds.
pub fn normalize_limited(
    input: &[u8],
    fill: &Fill<'_>,
    max_attributes: usize,
    out: &mut Vec<u8>,
) -> Result<Accepted, DecodeError> {
    let parsed = parse(input, max_attributes)?;
    let start = out.len();
    out.extend_from_slice(br#"{"specversion":"1.0","id":"#);
    if let Some(raw) = parsed.id {
        push_raw(out, raw);
    } else {
        out.push(b'"');
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        out.extend_from_slice(
            crate::id::new_v7()
                .hyphenated()
                .encode_lower(&mut buf)
                .as_bytes(),
        );
        out.push(b'"');
    }
    out.extend_from_slice(br#","source":"#);
    match parsed.source {
        Some(raw) => push_raw(out, raw),
        None => push_json_string(out, fill.source),
    }
    out.extend_from_slice(br#","type":""#);
    let ty_start = out.len();
    out.extend_from_slice(parsed.ty.as_bytes());
    let ty = ty_start..out.len();
    out.extend_from_slice(br#"","time":"#);
    match parsed.time {
        Some(raw) => push_raw(out, raw),
        None => push_json_string(out, fill.time),
    }
    out.extend_from_slice(br#","sequence":""#);
    crate::push_sequence(out, fill.sequence);
    out.push(b'"');
    let mut data = None;
    let mut has_content_type = false;
    for (key, raw) in &parsed.entries {
        match key.as_ref() {
            "specversion" | "id" | "source" | "type" | "time" | "sequence" => {}
            "data" => data = Some(*raw),
            name => {
                has_content_type |= name == "datacontenttype";
                out.extend_from_slice(b",\"");
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b"\":");
                push_raw(out, raw);
            }
        }
    }
    if let Some(raw) = data {
        if !has_content_type {
            out.extend_from_slice(br#","datacontenttype":""#);
            out.extend_from_slice(JSON_CONTENT_TYPE.as_bytes());
            out.push(b'"');
        }
        out.extend_from_slice(br#","data":"#);
        push_raw(out, raw);
    }
    out.extend_from_slice(b"}\n");
    Ok(Accepted {
        line: start..out.len(),
        ty,
    })
}

/// Copies a raw JSON value. A raw newline can only be whitespace between tokens (inside strings
/// it is escaped), so turning it into a space keeps the value and keeps the line whole.
fn push_raw(out: &mut Vec<u8>, raw: &RawValue) {
    let start = out.len();
    out.extend_from_slice(raw.get().as_bytes());
    // Almost no value holds a raw newline: find out with one vectorised scan before rewriting.
    if memchr::memchr2(b'\n', b'\r', &out[start..]).is_some() {
        for byte in &mut out[start..] {
            if *byte == b'\n' || *byte == b'\r' {
                *byte = b' ';
            }
        }
    }
}

fn push_json_string(out: &mut Vec<u8>, text: &str) {
    // Serialising a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

struct Parsed<'a> {
    entries: Vec<(Key<'a>, &'a RawValue)>,
    ty: Cow<'a, str>,
    id: Option<&'a RawValue>,
    source: Option<&'a RawValue>,
    time: Option<&'a RawValue>,
}

fn parse(input: &[u8], max_attributes: usize) -> Result<Parsed<'_>, DecodeError> {
    if input.len() > MAX_EVENT_BYTES {
        return Err(DecodeError::TooLarge { size: input.len() });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(input);
    let object = de::DeserializeSeed::deserialize(
        ObjectSeed {
            max: max_attributes,
        },
        &mut deserializer,
    )
    .and_then(|object| deserializer.end().map(|()| object));
    let object: RawObject<'_> = match object {
        Ok(object) => object,
        Err(error) => {
            // Tell "valid JSON, wrong shape" from "not JSON at all".
            return Err(if serde_json::from_slice::<de::IgnoredAny>(input).is_ok() {
                DecodeError::NotObject
            } else {
                DecodeError::NotJson(error.to_string())
            });
        }
    };
    if object.overflow {
        return Err(DecodeError::TooManyAttributes {
            limit: max_attributes,
        });
    }
    let entries = object.entries;
    if let Some(name) = first_duplicate(&entries) {
        return Err(DecodeError::Duplicate {
            name: name.to_string(),
        });
    }
    let mut ty = None;
    let mut id = None;
    let mut source = None;
    let mut time = None;
    for (key, raw) in &entries {
        match key.as_ref() {
            "type" => {
                let text = string(raw, "type", "a string")?;
                validate_type(&text)?;
                ty = Some(text);
            }
            "specversion" => {
                if raw.get() != "\"1.0\"" {
                    return Err(attribute("specversion", "\"1.0\""));
                }
            }
            "id" => {
                non_empty(raw, "id")?;
                id = Some(*raw);
            }
            "source" => {
                non_empty(raw, "source")?;
                source = Some(*raw);
            }
            "time" => {
                let text = string(raw, "time", "an RFC 3339 timestamp")?;
                if text.parse::<jiff::Timestamp>().is_err() {
                    return Err(attribute("time", "an RFC 3339 timestamp"));
                }
                time = Some(*raw);
            }
            // The daemon assigns the sequence; whatever a publisher put there is replaced.
            "sequence" | "data" => {}
            // CloudEvents SDKs refuse these when empty.
            "datacontenttype" | "dataschema" | "subject" => {
                non_empty(raw, attribute_name(key.as_ref()))?;
            }
            "data_base64" => {
                string(raw, "data_base64", "a string")?;
            }
            name => {
                crate::event::validate_extension_name(name)?;
                if !is_extension_value(raw.get()) {
                    return Err(ExtensionError::Value {
                        name: name.to_owned(),
                    }
                    .into());
                }
            }
        }
    }
    let ty = ty.ok_or(DecodeError::MissingType)?;
    Ok(Parsed {
        entries,
        ty,
        id,
        source,
        time,
    })
}

/// A name that appears twice: compared pairwise for the usual dozen attributes, sorted past
/// that (an event of thousands must not cost millions of comparisons).
fn first_duplicate<'e, 'a>(entries: &'e [(Key<'a>, &'a RawValue)]) -> Option<&'e Key<'a>> {
    if entries.len() <= 32 {
        return entries
            .iter()
            .enumerate()
            .find(|(i, (key, _))| entries[..*i].iter().any(|(other, _)| other == key))
            .map(|(_, (key, _))| key);
    }
    let mut keys: Vec<&Key<'a>> = entries.iter().map(|(key, _)| key).collect();
    keys.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
    keys.windows(2)
        .find(|pair| pair[0] == pair[1])
        .map(|pair| pair[0])
}

fn attribute_name(key: &str) -> &'static str {
    CORE_ATTRIBUTES
        .iter()
        .find(|name| **name == key)
        .copied()
        .unwrap_or("attribute")
}

fn attribute(name: &str, expected: &'static str) -> DecodeError {
    DecodeError::Attribute {
        name: name.to_owned(),
        expected,
    }
}

fn string<'a>(
    raw: &'a RawValue,
    name: &str,
    expected: &'static str,
) -> Result<Cow<'a, str>, DecodeError> {
    match serde_json::from_str::<Key<'a>>(raw.get()) {
        Ok(Key(text)) => Ok(text),
        Err(_) => Err(attribute(name, expected)),
    }
}

fn non_empty(raw: &RawValue, name: &str) -> Result<(), DecodeError> {
    if string(raw, name, "a non-empty string")?.is_empty() {
        return Err(attribute(name, "a non-empty string"));
    }
    Ok(())
}

/// String, boolean, or an integer in the 32-bit range CloudEvents allows.
fn is_extension_value(raw: &str) -> bool {
    match raw.as_bytes().first() {
        Some(b'"') => true,
        Some(b't' | b'f') => raw == "true" || raw == "false",
        Some(b'-' | b'0'..=b'9') => {
            let digits = raw.strip_prefix('-').unwrap_or(raw);
            !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && raw.parse::<i32>().is_ok()
        }
        _ => false,
    }
}

/// A JSON string borrowed from the input when it holds no escapes.
#[derive(PartialEq)]
struct Key<'a>(Cow<'a, str>);

impl AsRef<str> for Key<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A JSON object as its attributes, in order, values left raw; past `max` attributes the rest
/// is read (the JSON must still be whole) but not kept.
struct RawObject<'a> {
    entries: Vec<(Key<'a>, &'a RawValue)>,
    overflow: bool,
}

struct ObjectSeed {
    max: usize,
}

impl<'de> de::DeserializeSeed<'de> for ObjectSeed {
    type Value = RawObject<'de>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed {
    type Value = RawObject<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(12);
        let mut overflow = false;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if entries.len() < self.max {
                let value: &'de RawValue = map.next_value()?;
                entries.push((key, value));
            } else {
                overflow = true;
                map.next_value::<de::IgnoredAny>()?;
            }
        }
        Ok(RawObject { entries, overflow })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    const FILL: Fill<'static> = Fill {
        sequence: 42,
        source: "/meta/daemon",
        time: "2024-01-02T03:04:05.123456Z",
    };

    fn run(input: &str) -> Result<String, DecodeError> {
        let mut out = b"prefix".to_vec();
        let accepted = normalize(input.as_bytes(), &FILL, &mut out)?;
        let line = String::from_utf8(out[accepted.line.clone()].to_vec()).unwrap();
        assert_eq!(&out[accepted.ty.clone()], b"a:b");
        Ok(line)
    }

    #[test]
    fn many_attributes_are_refused_in_linear_time_and_duplicates_found_among_many() {
        // 90,000 attributes in 900 KB: the pairwise duplicate check took seconds on this.
        let mut event = String::from(r#"{"type":"a:b""#);
        for i in 0..90_000 {
            std::fmt::Write::write_fmt(&mut event, format_args!(",\"x{i}\":1")).unwrap();
        }
        event.push('}');
        let started = std::time::Instant::now();
        let error = normalize(event.as_bytes(), &FILL, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(error, DecodeError::TooManyAttributes { limit: 128 }),
            "{error}"
        );
        assert!(error.to_string().contains("128"), "{error}");
        // Allowed that many, the sorted duplicate check still finds the one repeat.
        let mut repeated = event.clone();
        repeated.insert_str(repeated.len() - 1, r#","x5":2"#);
        let error =
            normalize_limited(repeated.as_bytes(), &FILL, 200_000, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(error, DecodeError::Duplicate { ref name } if name == "x5"),
            "{error}"
        );
        // Generous bound: the quadratic check took seconds; linear takes milliseconds.
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // A broken tail is still not JSON, however many attributes came first.
        let torn = &event[..event.len() - 1];
        assert!(matches!(
            normalize(torn.as_bytes(), &FILL, &mut Vec::new()),
            Err(DecodeError::NotJson(_))
        ));
    }

    #[test]
    fn fills_missing_attributes() {
        let line = run(r#"{"type":"a:b"}"#).unwrap();
        assert!(line.ends_with("}\n"));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["specversion"], "1.0");
        assert_eq!(value["source"], "/meta/daemon");
        assert_eq!(value["time"], FILL.time);
        assert_eq!(value["sequence"], "00000000000000000042");
        assert_eq!(value["id"].as_str().unwrap().len(), 36);
        assert!(value.get("datacontenttype").is_none());
    }

    #[test]
    fn keeps_given_attributes_and_data_verbatim() {
        let line = run(
            "{\"data\": {\"x\" :\n [1, 2]}, \"id\":\"e1\",\"source\":\"/p\",\"time\":\"2020-01-01T00:00:00Z\",\"type\":\"a:b\",\"sequence\":\"9\",\"user\":\"ann\",\"n\":-3,\"ok\":true}",
        )
        .unwrap();
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        let event = Event::from_json(line.trim_end().as_bytes()).unwrap();
        assert_eq!(event.id.as_deref(), Some("e1"));
        assert_eq!(event.source.as_deref(), Some("/p"));
        assert_eq!(event.time.as_deref(), Some("2020-01-01T00:00:00Z"));
        assert_eq!(event.sequence, Some(42));
        assert_eq!(event.data, Some(serde_json::json!({"x": [1, 2]})));
        assert_eq!(event.datacontenttype.as_deref(), Some(JSON_CONTENT_TYPE));
        assert_eq!(event.metadata().len(), 3);
    }

    #[test]
    fn rejects_bad_input_and_leaves_output_alone() {
        let cases = [
            ("", "not valid JSON"),
            ("{", "not valid JSON"),
            ("[1,2]", "not an object"),
            ("\"a:b\"", "not an object"),
            (r#"{"data":1}"#, "no `type`"),
            (r#"{"type":"Bad"}"#, "invalid event type"),
            (r#"{"type":"a:b","Ext":"x"}"#, "invalid metadata name"),
            (r#"{"type":"a:b","ext":1.5}"#, "not a string"),
            (r#"{"type":"a:b","ext":5000000000}"#, "not a string"),
            (r#"{"type":"a:b","ext":null}"#, "not a string"),
            (r#"{"type":"a:b","ext":{}}"#, "not a string"),
            (r#"{"type":"a:b","specversion":"0.3"}"#, "specversion"),
            (r#"{"type":"a:b","id":""}"#, "`id`"),
            (r#"{"type":"a:b","subject":""}"#, "`subject`"),
            (r#"{"type":"a:b","time":"yesterday"}"#, "RFC 3339"),
            (r#"{"type":"a:b","type":"a:b"}"#, "twice"),
            (r#"{"type":7}"#, "`type`"),
        ];
        for (input, expected) in cases {
            let mut out = b"keep".to_vec();
            let err = normalize(input.as_bytes(), &FILL, &mut out).unwrap_err();
            assert!(
                err.to_string().contains(expected),
                "{input}: {err} (wanted {expected})"
            );
            assert_eq!(out, b"keep");
        }
        let big = format!(
            r#"{{"type":"a:b","data":"{}"}}"#,
            "x".repeat(MAX_EVENT_BYTES)
        );
        assert!(matches!(
            normalize(big.as_bytes(), &FILL, &mut Vec::new()),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    /// Malformed input never panics, and whatever is accepted comes out as one valid line.
    #[test]
    fn mutated_events_never_crash() {
        let seeds: [&[u8]; 4] = [
            br#"{"type":"a:b","data":{"k":[1,2,{"z":null}]},"user":"x"}"#,
            br#"{"specversion":"1.0","id":"x","source":"/s","type":"core:file:created","time":"2024-01-01T00:00:00.5Z","data":"\u00e9\n"}"#,
            br#"{"type":"a:b:c","n":12,"ok":false,"data":[]}"#,
            b"{\"type\" : \"a:b\" ,\n\"data\":\n{\"a\":\"\\\"\"}}",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let mut out = Vec::new();
        for round in 0..30_000 {
            let mut input = seeds[round % seeds.len()].to_vec();
            for _ in 0..rng.usize(1..6) {
                let at = rng.usize(..=input.len());
                match rng.u8(..4) {
                    0 if at < input.len() => input[at] = rng.u8(..),
                    1 if at < input.len() => {
                        input.remove(at);
                    }
                    2 => {
                        const BYTES: &[u8] = b"{}[]\":,\\ \nx1-";
                        input.insert(at, BYTES[rng.usize(..BYTES.len())]);
                    }
                    _ => input.truncate(at),
                }
            }
            out.clear();
            if let Ok(accepted) = normalize(&input, &FILL, &mut out) {
                let line = &out[accepted.line];
                assert_eq!(line.split(|b| *b == b'\n').count(), 2);
                Event::from_json(&line[..line.len() - 1]).unwrap_or_else(|e| {
                    panic!(
                        "accepted {:?} but its line {:?} does not decode: {e}",
                        String::from_utf8_lossy(&input),
                        String::from_utf8_lossy(line)
                    )
                });
            }
            let _ = Event::from_json(&input);
            let _ = crate::event::validate_type(&String::from_utf8_lossy(&input));
        }
    }
}

//! The event: `{namespace, timestamp, metadata, payload}` carried as a CloudEvents 1.0 JSON object
//! (DESIGN.md 3.1), with the type and extension rules and the owned JSON codec.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// `specversion` of every event `meta` writes.
pub const SPEC_VERSION: &str = "1.0";
/// `datacontenttype` filled in when an event carries `data` without one.
pub const JSON_CONTENT_TYPE: &str = "application/json";
/// Largest event accepted, in bytes of JSON.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// The type rule, quoted by every error about a type.
pub const TYPE_RULE: &str =
    "2 to 8 segments joined by `:`, each `[a-z][a-z0-9_-]{0,31}` (for example `acme:build:done`)";
/// The extension name rule, quoted by every error about one.
pub const EXTENSION_RULE: &str =
    "names are 1 to 20 characters `[a-z0-9]`, values are strings, integers (32-bit) or booleans";

/// CloudEvents attributes with a meaning of their own; every other attribute is an extension
/// (the event's metadata).
pub const CORE_ATTRIBUTES: [&str; 11] = [
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "sequence",
    "datacontenttype",
    "dataschema",
    "subject",
    "data",
    "data_base64",
];

/// Why a type (namespace) breaks the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event type `{shown}`: {problem}; a type is {TYPE_RULE}", shown = .ty.escape_debug())]
pub struct TypeError {
    pub ty: String,
    pub problem: &'static str,
}

/// Checks `ty` against the type rule ([`TYPE_RULE`]).
pub fn validate_type(ty: &str) -> Result<(), TypeError> {
    let fail = |problem| {
        Err(TypeError {
            ty: ty.to_owned(),
            problem,
        })
    };
    if ty.is_empty() {
        return fail("it is empty");
    }
    let mut segments = 0usize;
    for segment in ty.split(':') {
        segments += 1;
        let bytes = segment.as_bytes();
        match bytes.first() {
            None => return fail("it has an empty segment"),
            Some(b) if !b.is_ascii_lowercase() => {
                return fail("a segment does not start with a lowercase letter");
            }
            Some(_) => {}
        }
        if bytes.len() > 32 {
            return fail("a segment is longer than 32 characters");
        }
        if !bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
        {
            return fail("a segment holds a character other than `a-z`, `0-9`, `_` or `-`");
        }
    }
    if segments < 2 {
        return fail("it has only one segment");
    }
    if segments > 8 {
        return fail("it has more than 8 segments");
    }
    Ok(())
}

/// True when `ty` belongs to the host's own `core` namespace.
pub fn is_core_type(ty: &str) -> bool {
    ty == "core" || ty.starts_with("core:")
}

/// Why an extension attribute (metadata entry) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtensionError {
    #[error("invalid metadata name `{}`: {EXTENSION_RULE}", .0.escape_debug())]
    Name(String),
    #[error("metadata name `{0}` is a CloudEvents attribute of its own; pick another name")]
    Reserved(String),
    #[error(
        "metadata `{name}` has a value that is not a string, a 32-bit integer or a boolean: {EXTENSION_RULE}"
    )]
    Value { name: String },
}

/// Checks an extension attribute name against [`EXTENSION_RULE`].
pub fn validate_extension_name(name: &str) -> Result<(), ExtensionError> {
    let ok = (1..=20).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !ok {
        return Err(ExtensionError::Name(name.to_owned()));
    }
    if CORE_ATTRIBUTES.contains(&name) {
        return Err(ExtensionError::Reserved(name.to_owned()));
    }
    Ok(())
}

/// A metadata value: what a CloudEvents extension attribute may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaValue {
    String(String),
    Integer(i32),
    Bool(bool),
}

impl MetaValue {
    /// Reads a value typed on a command line: `true`/`false` are booleans, a 32-bit integer is an
    /// integer, anything else a string.
    pub fn infer(text: &str) -> Self {
        match text {
            "true" => MetaValue::Bool(true),
            "false" => MetaValue::Bool(false),
            _ => text
                .parse::<i32>()
                .map_or_else(|_| MetaValue::String(text.to_owned()), MetaValue::Integer),
        }
    }

    fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::String(s) => Some(MetaValue::String(s.clone())),
            Value::Bool(b) => Some(MetaValue::Bool(*b)),
            Value::Number(n) => n
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .map(MetaValue::Integer),
            _ => None,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            MetaValue::String(s) => Value::String(s.clone()),
            MetaValue::Integer(n) => Value::from(*n),
            MetaValue::Bool(b) => Value::Bool(*b),
        }
    }
}

impl fmt::Display for MetaValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetaValue::String(s) => f.write_str(s),
            MetaValue::Integer(n) => write!(f, "{n}"),
            MetaValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// One event. `namespace` is the CloudEvents `type`, `time` the timestamp, `metadata` the
/// extension attributes and `data` the payload. Fields the daemon fills (`id`, `time`, `source`,
/// `sequence`) are `None` until someone sets them.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    ty: String,
    pub id: Option<String>,
    pub source: Option<String>,
    /// RFC 3339 text, kept as written so an event round-trips byte for byte.
    pub time: Option<String>,
    /// The log position, assigned by whoever appends the event to the log.
    pub sequence: Option<u64>,
    pub datacontenttype: Option<String>,
    pub dataschema: Option<String>,
    pub subject: Option<String>,
    metadata: BTreeMap<String, MetaValue>,
    pub data: Option<Value>,
    pub data_base64: Option<String>,
}

/// Why bytes are not an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the event is {size} bytes; the limit is {MAX_EVENT_BYTES} bytes (1 MiB)")]
    TooLarge { size: usize },
    #[error("the event is not valid JSON: {0}")]
    NotJson(String),
    #[error("the event is JSON but not an object")]
    NotObject,
    #[error("the event has no `type`")]
    MissingType,
    #[error("the event has more than {limit} attributes (the daemon's `[events].max_attributes`)")]
    TooManyAttributes { limit: usize },
    #[error("the attribute `{name}` appears twice")]
    Duplicate { name: String },
    #[error("the attribute `{name}` must be {expected}")]
    Attribute {
        name: String,
        expected: &'static str,
    },
    #[error(transparent)]
    Type(#[from] TypeError),
    #[error(transparent)]
    Extension(#[from] ExtensionError),
}

impl Event {
    /// A new event of type `ty` carrying `data`; fails when `ty` breaks the type rule.
    pub fn new(ty: &str, data: Option<Value>) -> Result<Self, TypeError> {
        validate_type(ty)?;
        Ok(Self {
            ty: ty.to_owned(),
            id: None,
            source: None,
            time: None,
            sequence: None,
            datacontenttype: None,
            dataschema: None,
            subject: None,
            metadata: BTreeMap::new(),
            data,
            data_base64: None,
        })
    }

    /// The type (namespace), e.g. `core:file:created`.
    pub fn ty(&self) -> &str {
        &self.ty
    }

    /// The topic frame this event is published under (see [`crate::topic`]).
    pub fn topic(&self) -> String {
        crate::topic::topic_of(&self.ty)
    }

    pub fn metadata(&self) -> &BTreeMap<String, MetaValue> {
        &self.metadata
    }

    /// Adds or replaces one metadata entry, checking its name.
    pub fn set_meta(&mut self, name: &str, value: MetaValue) -> Result<(), ExtensionError> {
        validate_extension_name(name)?;
        self.metadata.insert(name.to_owned(), value);
        Ok(())
    }

    #[must_use]
    pub fn with_source(mut self, source: &str) -> Self {
        self.source = Some(source.to_owned());
        self
    }

    /// Sets `id` to a fresh UUIDv7 unless one is set; returns it.
    pub fn ensure_id(&mut self) -> &str {
        self.id
            .get_or_insert_with(|| crate::id::new_v7().hyphenated().to_string())
    }

    /// The CloudEvents JSON object (structured mode), attributes in a fixed order.
    pub fn to_json_value(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("specversion".into(), SPEC_VERSION.into());
        let mut put = |name: &str, value: &Option<String>| {
            if let Some(value) = value {
                map.insert(name.into(), Value::String(value.clone()));
            }
        };
        put("id", &self.id);
        put("source", &self.source);
        put("type", &Some(self.ty.clone()));
        put("time", &self.time);
        put("sequence", &self.sequence.map(crate::format_sequence));
        let content_type = self
            .datacontenttype
            .clone()
            .or_else(|| self.data.as_ref().map(|_| JSON_CONTENT_TYPE.to_owned()));
        put("datacontenttype", &content_type);
        put("dataschema", &self.dataschema);
        put("subject", &self.subject);
        for (name, value) in &self.metadata {
            map.insert(name.clone(), value.to_json());
        }
        if let Some(data) = &self.data {
            map.insert("data".into(), data.clone());
        }
        if let Some(data) = &self.data_base64 {
            map.insert("data_base64".into(), Value::String(data.clone()));
        }
        Value::Object(map)
    }

    /// One line of compact JSON (no newline).
    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }

    /// Decodes and validates one event (the same rules the daemon applies on ingest).
    pub fn from_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_EVENT_BYTES {
            return Err(DecodeError::TooLarge { size: bytes.len() });
        }
        // Checks duplicates and the rest of the rules exactly as ingest does.
        crate::ingest::check(bytes)?;
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| DecodeError::NotJson(e.to_string()))?;
        let Value::Object(map) = value else {
            return Err(DecodeError::NotObject);
        };
        Self::from_map(map)
    }

    fn from_map(mut map: serde_json::Map<String, Value>) -> Result<Self, DecodeError> {
        let take_string =
            |name: &'static str, map: &mut serde_json::Map<String, Value>| match map.remove(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(DecodeError::Attribute {
                    name: name.to_owned(),
                    expected: "a string",
                }),
            };
        let ty = take_string("type", &mut map)?.ok_or(DecodeError::MissingType)?;
        validate_type(&ty)?;
        let _ = take_string("specversion", &mut map)?;
        // Whoever appends to the log assigns the sequence, and ingest accepts an event whatever
        // its publisher put there (then replaces it): only a decimal string is a log position,
        // anything else reads as none, so this decoder refuses nothing ingest accepts.
        let sequence = match map.remove("sequence") {
            Some(Value::String(text)) => parse_sequence(&text),
            _ => None,
        };
        let mut event = Event {
            ty,
            id: take_string("id", &mut map)?,
            source: take_string("source", &mut map)?,
            time: take_string("time", &mut map)?,
            sequence,
            datacontenttype: take_string("datacontenttype", &mut map)?,
            dataschema: take_string("dataschema", &mut map)?,
            subject: take_string("subject", &mut map)?,
            metadata: BTreeMap::new(),
            data: map.remove("data"),
            data_base64: take_string("data_base64", &mut map)?,
        };
        for (name, value) in map {
            validate_extension_name(&name)?;
            let value =
                MetaValue::from_json(&value).ok_or(ExtensionError::Value { name: name.clone() })?;
            event.metadata.insert(name, value);
        }
        Ok(event)
    }
}

/// Parses a `sequence` attribute: decimal digits, zero-padded or not.
pub fn parse_sequence(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_rule_accepts_and_rejects() {
        for ok in ["a:b", "core:file:created", "x1:y_2:z-3", "a:b:c:d:e:f:g:h"] {
            assert!(validate_type(ok).is_ok(), "{ok}");
        }
        let long = format!("a:{}", "b".repeat(33));
        for bad in [
            "",
            "a",
            "a:",
            ":a",
            "A:b",
            "1a:b",
            "a::b",
            "a:b c",
            "a:b:c:d:e:f:g:h:i",
            long.as_str(),
            "a:é",
        ] {
            let err = validate_type(bad).unwrap_err();
            assert!(err.to_string().contains(TYPE_RULE), "{err}");
        }
        assert!(validate_type(&format!("a:{}", "b".repeat(32))).is_ok());
    }

    /// Random strings near the rule's edges: the validator agrees with a regular expression
    /// written straight from DESIGN.md 3.1, and never panics.
    #[test]
    fn type_validator_matches_the_rule_on_random_input() {
        let rule =
            regex::Regex::new(r"^[a-z][a-z0-9_-]{0,31}(:[a-z][a-z0-9_-]{0,31}){1,7}$").unwrap();
        let name = regex::Regex::new(r"^[a-z0-9]{1,20}$").unwrap();
        let alphabet: Vec<char> = "abcz09_-:A.é \u{0}".chars().collect();
        let mut rng = fastrand::Rng::with_seed(3);
        let mut valid = 0;
        for _ in 0..50_000 {
            let len = rng.usize(0..48);
            let text: String = (0..len)
                .map(|_| {
                    // Mostly valid characters, so valid types come up often too.
                    if rng.u8(..10) < 8 {
                        alphabet[rng.usize(..9)]
                    } else {
                        alphabet[rng.usize(..alphabet.len())]
                    }
                })
                .collect();
            assert_eq!(
                validate_type(&text).is_ok(),
                rule.is_match(&text),
                "{text:?}"
            );
            valid += usize::from(rule.is_match(&text));
            let ext = validate_extension_name(&text);
            assert_eq!(
                ext.is_ok(),
                name.is_match(&text) && !CORE_ATTRIBUTES.contains(&text.as_str()),
                "{text:?}"
            );
        }
        assert!(
            valid > 500,
            "the generator must reach valid types too ({valid})"
        );
    }

    #[test]
    fn extension_names() {
        assert!(validate_extension_name("user1").is_ok());
        assert!(validate_extension_name(&"a".repeat(20)).is_ok());
        assert!(validate_extension_name(&"a".repeat(21)).is_err());
        assert!(validate_extension_name("User").is_err());
        assert!(validate_extension_name("a_b").is_err());
        assert!(validate_extension_name("").is_err());
        assert!(matches!(
            validate_extension_name("id"),
            Err(ExtensionError::Reserved(_))
        ));
    }

    #[test]
    fn round_trip() {
        let mut event = Event::new("acme:thing:done", Some(serde_json::json!({"n": 1}))).unwrap();
        event.set_meta("user", MetaValue::infer("ann")).unwrap();
        event.set_meta("count", MetaValue::infer("3")).unwrap();
        event.set_meta("ok", MetaValue::infer("true")).unwrap();
        event.ensure_id();
        event.sequence = Some(7);
        let json = event.to_json();
        assert!(
            json.contains(r#""sequence":"00000000000000000007""#),
            "{json}"
        );
        assert!(json.contains(r#""datacontenttype":"application/json""#));
        let back = Event::from_json(json.as_bytes()).unwrap();
        assert_eq!(back.metadata(), event.metadata());
        assert_eq!(back.data, event.data);
        assert_eq!(back.sequence, Some(7));
        assert_eq!(back.id, event.id);
    }

    #[test]
    fn decode_errors() {
        assert!(matches!(
            Event::from_json(b"nope"),
            Err(DecodeError::NotJson(_))
        ));
        assert!(matches!(
            Event::from_json(b"[1]"),
            Err(DecodeError::NotObject)
        ));
        assert!(matches!(
            Event::from_json(b"{}"),
            Err(DecodeError::MissingType)
        ));
        assert!(matches!(
            Event::from_json(br#"{"type":"a:b","Bad":1}"#),
            Err(DecodeError::Extension(_))
        ));
        assert!(matches!(
            Event::from_json(br#"{"type":"a:b","x":1.5}"#),
            Err(DecodeError::Extension(_))
        ));
        assert!(matches!(
            Event::from_json(br#"{"type":"a:b","type":"a:c"}"#),
            Err(DecodeError::Duplicate { .. })
        ));
    }

    /// Found by the `ingest` fuzz target (fuzz/regressions/ingest/): ingest accepted an event
    /// whose publisher wrote a `sequence` that is no log position, and `from_json` refused it.
    #[test]
    fn a_publisher_sequence_that_is_no_position_reads_as_none() {
        for sequence in [
            r#""1013-12-06""#,
            "5",
            "null",
            r#""""#,
            r#""99999999999999999999""#,
        ] {
            let json = format!(r#"{{"type":"a:b","sequence":{sequence}}}"#);
            assert!(crate::ingest::check(json.as_bytes()).is_ok(), "{json}");
            let event = Event::from_json(json.as_bytes()).unwrap();
            assert_eq!(event.sequence, None, "{json}");
        }
        let event = Event::from_json(br#"{"type":"a:b","sequence":"00000000000000000042"}"#);
        assert_eq!(event.unwrap().sequence, Some(42));
    }
}

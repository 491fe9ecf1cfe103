//! The type rule (`validate_type`), the extension-name rule, the topic rule and `sequence`
//! parsing, each checked against a plain restatement of DESIGN.md 3.1/3.2 on arbitrary text.
//! Input: a type, then optionally a NUL byte and a subscription prefix.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meta_events::event::{
    CORE_ATTRIBUTES, Event, parse_sequence, validate_extension_name, validate_type,
};
use meta_events::topic::{matches, matches_any, normalize_prefix, topic_of};

/// DESIGN.md 3.1: 2 to 8 segments joined by `:`, each `[a-z][a-z0-9_-]{0,31}`.
fn type_rule(ty: &str) -> bool {
    let segments: Vec<&str> = ty.split(':').collect();
    (2..=8).contains(&segments.len())
        && segments.iter().all(|s| {
            let b = s.as_bytes();
            (1..=32).contains(&b.len())
                && b[0].is_ascii_lowercase()
                && b.iter().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-'
                })
        })
}

/// DESIGN.md 3.1: extension names `[a-z0-9]{1,20}`, not a CloudEvents attribute.
fn extension_rule(name: &str) -> bool {
    (1..=20).contains(&name.len())
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && !CORE_ATTRIBUTES.contains(&name)
}

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let (ty, prefix) = text.split_once('\0').unwrap_or((&text, ""));

    let valid = validate_type(ty);
    assert_eq!(
        valid.is_ok(),
        type_rule(ty),
        "validate_type({ty:?}) = {valid:?}"
    );
    if let Err(error) = &valid {
        // The message quotes the rule.
        assert!(error.to_string().contains("2 to 8 segments"));
    }
    assert_eq!(Event::new(ty, None).is_ok(), valid.is_ok());
    if let Ok(event) = Event::new(ty, Some(serde_json::Value::String(prefix.to_owned()))) {
        assert_eq!(event.topic(), topic_of(ty));
        let back = Event::from_json(event.to_json().as_bytes()).expect("a new event decodes");
        assert_eq!(back.ty(), ty);
    }

    // The topic rule: ZeroMQ's prefix test on the topic frame (type + ':').
    let topic = topic_of(ty);
    assert_eq!(topic.strip_suffix(':'), Some(ty));
    assert_eq!(
        matches(ty, prefix),
        topic.as_bytes().starts_with(prefix.as_bytes())
    );
    let normal = normalize_prefix(prefix);
    assert_eq!(
        normalize_prefix(&normal),
        normal,
        "normalize_prefix is not idempotent"
    );
    assert!(normal.is_empty() || normal.ends_with(':'));
    assert!(normal.starts_with(prefix));
    if valid.is_ok() && !normal.is_empty() {
        // A whole-segment prefix never matches a longer segment (`core:file:` vs `core:files`).
        let segments = normal.strip_suffix(':').unwrap_or(&normal);
        let hit = matches(ty, &normal);
        let whole = ty == segments || ty.starts_with(&format!("{segments}:"));
        assert_eq!(hit, whole, "{ty:?} vs {normal:?}");
    }
    assert!(matches_any(ty, &[]));
    assert_eq!(matches_any(ty, &[normal.clone()]), matches(ty, &normal));

    assert_eq!(validate_extension_name(ty).is_ok(), extension_rule(ty));
    let sequence = parse_sequence(ty);
    let expected = if !ty.is_empty() && ty.bytes().all(|b| b.is_ascii_digit()) {
        ty.parse::<u64>().ok()
    } else {
        None
    };
    assert_eq!(sequence, expected);
});

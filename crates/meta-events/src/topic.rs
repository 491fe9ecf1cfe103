//! The topic rule (DESIGN.md 3.2): the topic frame is the event type followed by one `:`, so a
//! prefix subscription `core:file:` matches `core:file:created` and never `core:filesystem:…`.

/// The topic frame for an event of type `ty`.
pub fn topic_of(ty: &str) -> String {
    let mut topic = String::with_capacity(ty.len() + 1);
    topic.push_str(ty);
    topic.push(':');
    topic
}

/// A prefix as a user typed it, made a whole-segment prefix by adding the trailing `:`. The empty
/// prefix stays empty: it matches everything.
pub fn normalize_prefix(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with(':') {
        prefix.to_owned()
    } else {
        topic_of(prefix)
    }
}

/// Does an event of type `ty` match the (normalised) `prefix`? The same test ZeroMQ applies to
/// the topic frame, for filtering events read from the log.
pub fn matches(ty: &str, prefix: &str) -> bool {
    let topic_len = ty.len() + 1;
    if prefix.len() > topic_len {
        return false;
    }
    if prefix.len() == topic_len {
        return prefix.ends_with(':') && prefix.starts_with(ty);
    }
    ty.as_bytes().starts_with(prefix.as_bytes())
}

/// True when `ty` matches any of `prefixes` (or `prefixes` is empty).
pub fn matches_any(ty: &str, prefixes: &[String]) -> bool {
    prefixes.is_empty() || prefixes.iter().any(|p| matches(ty, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_rule() {
        assert_eq!(normalize_prefix("core:file"), "core:file:");
        assert_eq!(normalize_prefix("core:file:"), "core:file:");
        assert_eq!(normalize_prefix(""), "");
        assert!(matches("core:file:created", "core:file:"));
        assert!(matches("core:file:created", "core:"));
        assert!(matches("core:file:created", ""));
        assert!(matches("core:file:created", "core:file:created:"));
        assert!(!matches("core:filesystem:mounted", "core:file:"));
        assert!(!matches("core:file", "core:file:created:"));
        assert!(!matches("core:files", "core:file:"));
        assert!(matches("core:file", "core:file:"));
    }
}

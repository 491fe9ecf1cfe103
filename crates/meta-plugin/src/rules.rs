//! The naming rules of DESIGN.md sections 3.1 and 4, each paired with the sentence an error
//! quotes, so the rule a user broke is always spelled out in the same words. Event types follow
//! the event bus's own validator (`meta_events::validate_type`), so a manifest and the daemon
//! can never disagree about them.

/// The rule plugin and command names follow, as error messages quote it.
pub const NAME_RULE: &str =
    "a lowercase letter, then up to 39 lowercase letters, digits or `-` ([a-z][a-z0-9-]{0,39})";

/// The rule versions follow, as error messages quote it.
pub const SEMVER_RULE: &str =
    "a semantic version MAJOR.MINOR.PATCH, e.g. `0.1.0` or `1.2.3-beta.1` (https://semver.org)";

/// The rule event-type prefixes follow, as error messages quote it (followed by
/// [`meta_events::event::TYPE_RULE`]).
pub const EVENT_PREFIX_RULE: &str = "a prefix is the first whole segments of an event type, optionally ending in `:` (`hello:`, `core:file:`)";

/// Is `name` a valid plugin or command name: `[a-z][a-z0-9-]{0,39}`?
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    matches!(bytes.first(), Some(b'a'..=b'z'))
        && bytes.len() <= 40
        && bytes
            .iter()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
}

/// Is `version` a semantic version (2.0.0): `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`?
pub fn is_valid_semver(version: &str) -> bool {
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let numeric = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    let ident =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 || !parts.iter().all(|p| numeric(p)) {
        return false;
    }
    // Numeric pre-release identifiers must not have leading zeros; build identifiers may.
    let pre_ok = pre.is_none_or(|pre| {
        pre.split('.')
            .all(|id| ident(id) && (!id.bytes().all(|b| b.is_ascii_digit()) || numeric(id)))
    });
    let build_ok = build.is_none_or(|build| build.split('.').all(ident));
    pre_ok && build_ok
}

/// Is `prefix` a valid event-type prefix (the empty prefix excluded: callers decide whether
/// "everything" is allowed)? It is when it is the start of a valid type, cut at a segment
/// boundary.
pub fn is_valid_event_prefix(prefix: &str) -> bool {
    let trimmed = prefix.strip_suffix(':').unwrap_or(prefix);
    if trimmed.is_empty() {
        return false;
    }
    if trimmed.contains(':') {
        meta_events::validate_type(trimmed).is_ok()
    } else {
        // One segment names a namespace; a type needs two, so check the shortest type it starts.
        meta_events::validate_type(&format!("{trimmed}:x")).is_ok()
    }
}

/// Does the prefix lie in the `core` namespace, which only `meta` itself emits?
pub fn is_core_prefix(prefix: &str) -> bool {
    meta_events::event::is_core_type(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "hello", "git-lfs", "x9", &"a".repeat(40)] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "Hello",
            "9lives",
            "-x",
            "a_b",
            "a.b",
            "héllo",
            "a b",
            &"a".repeat(41),
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn semver() {
        for ok in [
            "0.1.0",
            "1.2.3",
            "10.20.30",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-0.3.7",
            "1.0.0-x-y-z.--",
            "1.0.0+20130313144700",
            "1.0.0-beta+exp.sha.5114f85",
            "1.0.0+001",
        ] {
            assert!(is_valid_semver(ok), "{ok}");
        }
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.02.3",
            "v1.2.3",
            "1.2.3-",
            "1.2.3-01",
            "1.2.3+",
            "1.2.3-a..b",
            "1.2.x",
            " 1.2.3",
            "1.2.3-α",
        ] {
            assert!(!is_valid_semver(bad), "{bad}");
        }
    }

    #[test]
    fn event_prefixes() {
        for ok in [
            "core:",
            "core",
            "core:file:",
            "hello:",
            "a:b:c:d:e:f:g:h",
            "my_ns:x-y:",
        ] {
            assert!(is_valid_event_prefix(ok), "{ok}");
        }
        for bad in [
            "",
            ":",
            "Core:",
            "core::",
            ":core",
            "core:File",
            "a:b:c:d:e:f:g:h:i",
            "1abc:",
            "core file",
            &format!("{}:", "a".repeat(33)),
        ] {
            assert!(!is_valid_event_prefix(bad), "{bad}");
        }
        assert!(is_core_prefix("core:file:"));
        assert!(is_core_prefix("core"));
        assert!(!is_core_prefix("corex:"));
    }
}

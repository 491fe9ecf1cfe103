//! Subjects, stream and consumer names, and the prefix filters of `[bridge]`.

/// `meta.<scope>.<node>.<type with : replaced by .>`: the type grammar (`[a-z][a-z0-9_-]*`
/// segments) is a subset of NATS token characters, so the mapping is one-to-one.
pub fn subject(scope: &str, node: &str, ty: &str) -> String {
    let mut out = String::with_capacity(6 + scope.len() + node.len() + ty.len());
    out.push_str("meta.");
    out.push_str(scope);
    out.push('.');
    out.push_str(node);
    out.push('.');
    out.extend(ty.chars().map(|c| if c == ':' { '.' } else { c }));
    out
}

/// The type a subject carries, if it is one of `scope`'s.
pub fn type_of(scope: &str, subject: &str) -> Option<String> {
    let rest = subject
        .strip_prefix("meta.")?
        .strip_prefix(scope)?
        .strip_prefix('.')?;
    let (_node, ty) = rest.split_once('.')?;
    Some(ty.replace('.', ":"))
}

/// Every subject of a scope: the stream's filter.
pub fn scope_filter(scope: &str) -> String {
    format!("meta.{scope}.>")
}

/// `META_<SCOPE>` (`-` becomes `_`, so the name stays one plain token).
pub fn stream_name(scope: &str) -> String {
    format!("META_{}", scope.to_ascii_uppercase().replace('-', "_"))
}

/// This node's durable consumer.
pub fn durable_name(node: &str) -> String {
    format!("meta-{node}")
}

/// Type prefixes allowed, then denied: the subscription rule (a prefix matches whole segments;
/// `""` matches everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    allow: Vec<String>,
    deny: Vec<String>,
}

impl Filter {
    pub fn new(allow: &[String], deny: &[String]) -> Self {
        Self {
            allow: allow.iter().map(|p| normalize(p)).collect(),
            deny: deny.iter().map(|p| normalize(p)).collect(),
        }
    }

    /// Is `ty` let through?
    pub fn admits(&self, ty: &str) -> bool {
        let matches = |prefix: &String| {
            prefix.is_empty()
                || ty
                    .strip_prefix(prefix.trim_end_matches(':'))
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
        };
        self.allow.iter().any(matches) && !self.deny.iter().any(matches)
    }
}

fn normalize(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with(':') {
        prefix.to_owned()
    } else {
        format!("{prefix}:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_subjects_map_both_ways() {
        let s = subject("acme", "ci-7", "acme:build:done");
        assert_eq!(s, "meta.acme.ci-7.acme.build.done");
        assert_eq!(type_of("acme", &s).as_deref(), Some("acme:build:done"));
        assert_eq!(type_of("other", &s), None);
        assert_eq!(stream_name("my-team"), "META_MY_TEAM");
        assert_eq!(durable_name("a"), "meta-a");
    }

    #[test]
    fn filters_match_whole_segments_and_deny_wins() {
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let f = Filter::new(&strings(&[""]), &strings(&["core:file:", "meta"]));
        assert!(f.admits("acme:build:done"));
        assert!(f.admits("core:plugin:installed"));
        assert!(f.admits("core:filesystem:x"));
        assert!(!f.admits("core:file:created"));
        assert!(!f.admits("meta:bridge:gap"));
        let f = Filter::new(&strings(&["acme:build"]), &[]);
        assert!(f.admits("acme:build:done"));
        assert!(!f.admits("acme:builds:done"));
        assert!(!f.admits("other:x"));
    }
}

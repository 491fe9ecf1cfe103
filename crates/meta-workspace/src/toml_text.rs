//! Parsing TOML text that comes from outside (configs, manifests, lock files) without letting
//! the parser's own bugs crash `meta`.
//!
//! toml_edit 0.23.10 panicked ("all items have spans") on some malformed text, for example the
//! five bytes `=={` newline `.`; its error recovery hit an `expect`. Found by the `config` and
//! `manifest` fuzz targets (inputs in `fuzz/regressions/`); 0.25 parses them into errors, and
//! the workspace moved to it. Every parse of outside text still goes through [`guarded`], so a
//! parser bug yet unknown is an error the caller reports like any other, not a crash.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// The message for text the TOML parser itself failed on.
pub const PARSER_FAILED: &str =
    "not valid TOML (the TOML parser gave up on this text; look for stray `=`, `{` or `.`)";

/// Runs `parse`, a toml_edit parse of outside text: its result, or `Err(None)` when the parser
/// panicked.
pub fn guarded<T, E>(parse: impl FnOnce() -> Result<T, E>) -> Result<T, Option<E>> {
    // Unwind safety: a parse only reads the text it borrows; on a panic its half-built state is
    // dropped with the closure, and nothing the caller holds was being changed.
    match catch_unwind(AssertUnwindSafe(parse)) {
        Ok(result) => result.map_err(Some),
        Err(_) => Err(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts that made toml_edit 0.23.10 panic (fuzz/regressions/config, …/manifest): errors.
    const PANICKING: [&str; 2] = [
        "=={\n.",
        "= = \"one\"\n[plP= *\"\napi = 1\nplugin = { name = <\"x\", versien = \"1\"....[\n\"a\"] }]\n",
    ];

    #[test]
    fn a_panicking_parse_is_an_error() {
        for text in PANICKING {
            assert!(
                guarded(|| toml_edit::Document::parse(text)).is_err(),
                "{text:?}"
            );
            let parsed = guarded(|| {
                toml_edit::de::from_str::<std::collections::BTreeMap<String, String>>(text)
            });
            assert!(parsed.is_err(), "{text:?}");
        }
        assert_eq!(guarded(|| Ok::<_, ()>(1)), Ok(1));
        assert_eq!(guarded(|| Err::<(), _>(2)), Err(Some(2)));
    }
}

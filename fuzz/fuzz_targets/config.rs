//! The config parser (`meta/metarepo.toml`): any text gives a config or an error pointing at a
//! key or position, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use meta_workspace::config::{Config, is_valid_group};

fuzz_target!(init: meta_fuzz::let_caught_toml_edit_panics_unwind(), |input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let path = Path::new("meta/metarepo.toml");
    match Config::parse(text, path) {
        Ok(config) => {
            assert!(!config.metarepo.name.trim().is_empty());
            assert!(config.metarepo.groups.iter().all(|g| is_valid_group(g)));
            let _ = config.plugin_enabled("watch");
        }
        Err(error) => {
            let _ = error.to_string();
            let _ = error.key();
        }
    }
});

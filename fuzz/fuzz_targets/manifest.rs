//! The plugin manifest parser (`meta-plugin.toml`): any text gives a manifest or an error with a
//! position inside the text, never a panic; a manifest that parses names its commands.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use meta_plugin::manifest::Manifest;

fuzz_target!(init: meta_fuzz::let_caught_toml_edit_panics_unwind(), |input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let path = Path::new("meta/plugins/fuzz/meta-plugin.toml");
    match Manifest::parse(text, path) {
        Ok(manifest) => {
            let names: Vec<&str> = manifest.command_names().collect();
            assert_eq!(names.len(), manifest.commands.len());
        }
        Err(error) => {
            assert_eq!(error.path(), path);
            // Rendering the error (with its line and column) must not panic either.
            let _ = error.to_string();
            let _ = error.field();
        }
    }
});

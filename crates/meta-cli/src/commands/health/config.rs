//! `config`: `meta/metarepo.toml` loads and validates.

use super::{Check, Health, Outcome, always};

pub const CHECK: Check = Check {
    name: "config",
    applies: always,
    run,
};

fn run(health: &Health) -> Outcome {
    match &health.config {
        Ok(config) => Outcome::pass(format!(
            "meta/metarepo.toml is valid ({} groups, {} plugin settings)",
            config.metarepo.groups.len(),
            config.plugins.len()
        )),
        Err(error) => {
            let fix = match error {
                meta_workspace::ConfigError::Invalid { line, column, .. } => format!(
                    "edit meta/metarepo.toml at line {line}, column {column}; the keys `meta` knows are listed in the README"
                ),
                _ => "restore meta/metarepo.toml (`git checkout -- meta/metarepo.toml`) and make sure you may read it".to_owned(),
            };
            Outcome::fail(crate::error::describe_error(error), fix)
        }
    }
}

//! `.cruft.json`: the template, commit, checkout, answers and folder a project was made from.

use std::path::Path;

use serde::Deserialize;

use crate::TemplateUpdateError;

/// The file's name in a project's root.
pub const CRUFT_FILE: &str = ".cruft.json";

/// The fields of `.cruft.json` that say where the project came from (the answers are kept as
/// JSON: an update renders with them as they are).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CruftFile {
    pub template: String,
    pub commit: Option<String>,
    #[serde(default)]
    pub checkout: Option<String>,
    #[serde(default)]
    pub context: serde_json::Value,
    #[serde(default)]
    pub directory: Option<String>,
    #[serde(default)]
    pub skip: Vec<String>,
}

impl CruftFile {
    /// Reads `dir/.cruft.json`; `None` when there is none (the project is not linked).
    pub fn read(dir: &Path) -> Result<Option<Self>, TemplateUpdateError> {
        let path = dir.join(CRUFT_FILE);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(TemplateUpdateError::Read { path, source }),
        };
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|source| TemplateUpdateError::Malformed { path, source })
    }
}

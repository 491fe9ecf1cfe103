//! `meta template link`: an existing project linked to the template it was made from, with
//! the `.cruft.json` `cruft link` writes (the answers from the template's defaults and the
//! given `KEY=VALUE`s, the template at a commit).

use std::path::{Component, Path, PathBuf};

use crate::update::render_at;
use crate::{CRUFT_FILE, CruftFile, TemplateRepos};

/// cruft's `resolve_template_url`: a local path (or `file://` URL) to an existing folder
/// becomes its absolute path (as Python's `Path.absolute()`: `.` parts dropped, `..` kept);
/// anything else stays as given.
pub fn template_url(url: &str) -> String {
    let path = match url.strip_prefix("file://") {
        Some(rest) => rest,
        None if url.contains("://") => return url.to_owned(),
        None => url,
    };
    if Path::new(path).exists() {
        python_absolute(Path::new(path))
    } else {
        url.to_owned()
    }
}

/// Python's `Path(p).absolute()`.
pub fn python_absolute(path: &Path) -> String {
    let mut out = if path.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().unwrap_or_default()
    };
    for component in path.components() {
        if component != Component::CurDir {
            out.push(component.as_os_str());
        }
    }
    out.display().to_string()
}

/// Links the project at `dir` to `template` at `commit` (default: the template's HEAD):
/// writes `.cruft.json` there and returns the commit. Refused when the project is linked
/// already.
pub fn link(
    dir: &Path,
    template: &str,
    commit: Option<&str>,
    answers: &[(String, String)],
    repos: &TemplateRepos,
) -> Result<String, String> {
    if dir.join(CRUFT_FILE).exists() {
        return Err(format!(
            "it is linked already: `{CRUFT_FILE}` exists (delete it to link it again)"
        ));
    }
    let url = template_url(template);
    let fetched = repos.get(&url).map_err(|e| e.to_string())?;
    let commit = fetched.resolve(commit).map_err(|e| e.to_string())?;
    let record = CruftFile {
        template: url.clone(),
        commit: Some(commit.clone()),
        checkout: None,
        context: serde_json::Value::Null,
        directory: None,
        skip: Vec::new(),
    };
    let rendered = render_at(&fetched, &commit, &record, answers, false, None)?;
    let text = meta_template::cruft_json(
        &rendered.project,
        &meta_template::CruftLink {
            template: url,
            commit: commit.clone(),
            checkout: None,
            directory: None,
        },
    )
    .map_err(|e| e.to_string())?;
    let path = dir.join(CRUFT_FILE);
    std::fs::write(&path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    Ok(commit)
}

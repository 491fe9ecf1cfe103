//! `.cruft.json`: where a project came from, byte for byte as `cruft create` (2.16) writes it,
//! so projects made by `meta new` and by cruft can be updated by either tool.
//!
//! cruft writes `json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": "))` and a
//! newline, where `state` is `{"template", "commit", "checkout", "context", "directory"}` and
//! `context` is `{"cookiecutter": …}`: the answers in `cookiecutter.json`'s order (private
//! `_` variables as written, `__` ones rendered), then `_template` (the template's URL) and
//! `_commit`. cookiecutter's own `_output_dir`, `_repo_dir` and `_checkout` are not in it: cruft
//! builds the context itself.

use indexmap::IndexMap;
use minijinja::Value;

use crate::value::{JsonError, JsonIndent, PyDict, json_dumps_unicode};

/// The commit a project's template was rendered from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CruftLink {
    /// The template as cruft names it: a URL, or an absolute path for a local repository.
    pub template: String,
    /// The template repository's commit (full id).
    pub commit: String,
    /// The branch, tag or commit asked for (`--checkout`), if any.
    pub checkout: Option<String>,
    /// The template's folder inside the repository, when not its root.
    pub directory: Option<String>,
}

/// The `.cruft.json` text for `project`, rendered from `link`.
pub fn cruft_json(project: &crate::RenderedProject, link: &CruftLink) -> Result<String, JsonError> {
    cruft_json_over(None, project, link)
}

/// `.cruft.json` after an update, as `cruft update` rewrites it: the file as it was (its keys
/// in their order, `skip` and anything else kept) with `commit`, `checkout` and `context` set
/// anew. Unreadable old text gives a fresh record.
pub fn cruft_json_updated(
    original: &str,
    project: &crate::RenderedProject,
    link: &CruftLink,
) -> Result<String, JsonError> {
    cruft_json_over(Some(original), project, link)
}

fn cruft_json_over(
    original: Option<&str>,
    project: &crate::RenderedProject,
    link: &CruftLink,
) -> Result<String, JsonError> {
    let mut cookiecutter: IndexMap<Value, Value> = project.answers.iter().cloned().collect();
    cookiecutter.insert(
        Value::from("_template"),
        Value::from(link.template.as_str()),
    );
    cookiecutter.insert(Value::from("_commit"), Value::from(link.commit.as_str()));
    for (key, value) in &project.added_while_rendering {
        cookiecutter.insert(key.clone(), value.clone());
    }
    let mut context = IndexMap::new();
    context.insert(Value::from("cookiecutter"), PyDict::ordered(cookiecutter));
    let optional = |v: &Option<String>| v.as_deref().map_or(Value::from(()), Value::from);
    let mut state = IndexMap::new();
    if let Some(Ok(crate::Raw::Dict(old))) = original.map(crate::Raw::from_json) {
        for (key, value) in old {
            state.insert(Value::from(key), value.to_value());
        }
        state.insert(Value::from("commit"), Value::from(link.commit.as_str()));
        state.insert(Value::from("checkout"), optional(&link.checkout));
        state.insert(Value::from("context"), PyDict::ordered(context));
        let mut text = json_dumps_unicode(
            &PyDict::ordered(state),
            &JsonIndent::Text("  ".into()),
            false,
        )?;
        text.push('\n');
        return Ok(text);
    }
    state.insert(Value::from("template"), Value::from(link.template.as_str()));
    state.insert(Value::from("commit"), Value::from(link.commit.as_str()));
    state.insert(Value::from("checkout"), optional(&link.checkout));
    state.insert(Value::from("context"), PyDict::ordered(context));
    state.insert(Value::from("directory"), optional(&link.directory));
    let mut text = json_dumps_unicode(
        &PyDict::ordered(state),
        &JsonIndent::Text("  ".into()),
        false,
    )?;
    text.push('\n');
    Ok(text)
}

//! A cookiecutter renderer in Rust: renders cookiecutter templates exactly as cookiecutter
//! 2.7 does — same files, same bytes, same permission bits — without Python (except to run a
//! template's `.py` hooks).
//!
//! ```no_run
//! use meta_template::{NoPrompt, RenderOptions, Template, render};
//!
//! let template = Template::open("path/to/template")?;
//! let options = RenderOptions::new("out").no_input(true).extra("project_name", "Demo");
//! let project = render(&template, &options, &mut NoPrompt)?;
//! println!("created {}", project.project_dir.display());
//! # Ok::<(), meta_template::TemplateError>(())
//! ```
//!
//! What it covers: `cookiecutter.json` (order, rendering against earlier answers, choices,
//! booleans, dicts, `_` and `__` private variables, `__prompts__`, `_copy_without_render`,
//! `_new_lines`, `_jinja2_env_vars` with custom delimiters, nested `templates`), Jinja2
//! semantics through minijinja (strict undefined, Python's printing of values, Jinja2's
//! filters, includes and inheritance from `templates/`), cookiecutter's default extensions,
//! binary detection (binaryornot), newline and permission preservation, the three hooks,
//! `--no-input`, extra context, overwrite and skip modes.
//!
//! What it is not: a general Jinja2 engine, nor a template fetcher (callers clone repositories
//! themselves), nor a prompt UI (callers implement [`Prompter`]). Features it cannot reproduce
//! (custom Python `_extensions`, see [`Template::python_extensions`]; `jinja2.ext` extensions
//! other than `loopcontrols`) fail with [`TemplateError::Unsupported`] or
//! [`TemplateError::UnknownExtension`]; it never renders something different instead.
//!
//! Known differences from Jinja2, all rare in templates (each is either an error here or
//! noted; the full table is `docs/templates.md`): `d.items`
//! with a key named `items` reads the key, not the method; macros have no `varargs` or
//! `kwargs`; `self` does not exist; lists made by slicing (`xs[1:]`) cannot change (`.append`
//! on them is an error); `lipsum` is random, as in Jinja2; macros imported without
//! `with context` can still read the context (Jinja2 fails there, so such templates render
//! here where cookiecutter stops);
//! `include … without context` is refused.
//!
//! A failure leaves nothing half-written: everything is rendered in memory before the first
//! file is written, and when a hook or a write fails, the project folder this run created is
//! removed (a folder that already existed, with `overwrite_if_exists`, is left as it is, as
//! cookiecutter leaves it). Where cookiecutter itself leaves a half-written project (a template
//! syntax error in a file), this crate still removes it.

mod binary;
mod binary_tree;
mod chance;
mod context;
mod cruft;
mod error;
mod generate;
mod hooks;
mod jinja;
mod lipsum;
mod now;
mod pprint;
mod printf;
mod prompt;
mod py_unicode;
mod pystr;
mod slug_tables;
mod slugify;
mod textwrap;
mod urlize;
mod user_config;
mod value;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use minijinja::value::Value;

pub use binary::is_binary;
pub use chance::Reproducible;
pub use cruft::{CruftLink, cruft_json, cruft_json_updated};
pub use error::TemplateError;
pub use prompt::{
    Answer, NoPrompt, Prompter, Question, QuestionKind, parse_dict_answer, parse_yes_no,
};
pub use slugify::{SlugifyOptions, slugify, transliterate};
pub use user_config::{ConfigError, UserConfig};
pub use value::Raw;

use crate::context::{apply_overwrites, load_context_file, prompt_for_config};
use crate::generate::{Generation, find_template_dir, loader_paths, normpath};
use crate::hooks::{HookRunner, PRE_PROMPT, find_hooks};
use crate::jinja::{EnvSettings, environment};
use crate::value::PyDict;

/// The file holding a template's variables.
pub const CONTEXT_FILE: &str = "cookiecutter.json";

/// A template folder: `cookiecutter.json` beside a templated folder such as
/// `{{cookiecutter.project_slug}}/`, and optionally `hooks/` and `templates/`.
#[derive(Debug, Clone)]
pub struct Template {
    dir: PathBuf,
}

impl Template {
    /// Opens the template in `dir`, which must hold `cookiecutter.json`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, TemplateError> {
        let dir = dir.into();
        if !dir.is_dir() {
            return Err(TemplateError::NotFound {
                reason: if dir.exists() {
                    "it is not a folder".into()
                } else {
                    "the folder does not exist".into()
                },
                path: dir,
            });
        }
        if !dir.join(CONTEXT_FILE).is_file() {
            return Err(TemplateError::NotFound {
                path: dir,
                reason: format!("it has no `{CONTEXT_FILE}`"),
            });
        }
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The names in `_extensions` that are Python code meta cannot run (the template's own
    /// modules, or third-party Jinja2 extensions): empty when meta renders the template
    /// itself. A caller can hand such a template to `cookiecutter` instead.
    pub fn python_extensions(&self) -> Result<Vec<String>, TemplateError> {
        let obj = load_context_file(&self.dir.join(CONTEXT_FILE))?;
        Ok(jinja::extension_names(obj.get("_extensions"))
            .into_iter()
            .filter(|name| !jinja::is_supported_extension(name))
            .collect())
    }
}

/// How to render: cookiecutter's command-line options.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Where the project folder is created (`-o`).
    pub output_dir: PathBuf,
    /// Take every default without asking (`--no-input`).
    pub no_input: bool,
    /// The user config's `default_context` ([`UserConfig`]), applied over `cookiecutter.json`
    /// before the extra context; a value that does not fit is warned about and left out, as
    /// cookiecutter does.
    pub default_context: Vec<(String, Raw)>,
    /// `KEY=VALUE` pairs, applied over `cookiecutter.json`.
    pub extra_context: Vec<(String, Raw)>,
    /// Render into an existing project folder (`-f`).
    pub overwrite_if_exists: bool,
    /// Leave files that already exist alone (`-s`).
    pub skip_if_file_exists: bool,
    /// Run the template's hooks (`--accept-hooks`).
    pub accept_hooks: bool,
    /// How the user named the template (`cookiecutter._template`); defaults to its folder.
    pub template_name: Option<String>,
    /// `--checkout`, recorded as `cookiecutter._checkout`.
    pub checkout: Option<String>,
    /// The Python that runs `.py` hooks, by name or path; its `sys.executable` is asked once,
    /// from the current folder, and that interpreter runs every hook.
    pub python: PathBuf,
    /// Environment variables set for every hook.
    pub hook_env: Vec<(String, String)>,
    /// One instant and one random seed for the whole render (`None`: the system's clock and
    /// randomness, as cookiecutter).
    pub reproducible: Option<Reproducible>,
}

impl RenderOptions {
    pub fn new(output_dir: impl Into<PathBuf>) -> Self {
        Self {
            output_dir: output_dir.into(),
            no_input: false,
            default_context: Vec::new(),
            extra_context: Vec::new(),
            overwrite_if_exists: false,
            skip_if_file_exists: false,
            accept_hooks: true,
            template_name: None,
            checkout: None,
            python: PathBuf::from("python3"),
            hook_env: Vec::new(),
            reproducible: None,
        }
    }

    #[must_use]
    pub fn no_input(mut self, yes: bool) -> Self {
        self.no_input = yes;
        self
    }

    /// Adds one `KEY=VALUE` of extra context.
    #[must_use]
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_context
            .push((key.into(), Raw::Str(value.into())));
        self
    }
}

/// What [`render`] produced.
#[derive(Debug, Clone)]
pub struct RenderedProject {
    /// The project folder, absolute.
    pub project_dir: PathBuf,
    pub files_written: usize,
    pub files_skipped: usize,
    /// The final `cookiecutter` context, as `json.dumps(sort_keys=True, indent=4)` writes it.
    pub context_json: String,
    /// What cookiecutter would warn about (a `default_context` value that does not fit).
    pub warnings: Vec<String>,
    /// The answers as cruft records them (see [`cruft_json`]): the final `cookiecutter`
    /// context without the keys cookiecutter's `main` adds (`_template`, `_output_dir`, `_repo_dir`,
    /// `_checkout`) unless `cookiecutter.json` has them.
    pub answers: Vec<(Value, Value)>,
    /// Keys templates added to the context while rendering (`cookiecutter.update(…)`): after
    /// `_template` and `_commit` in cruft's record.
    pub added_while_rendering: Vec<(Value, Value)>,
}

/// Renders `template` as `cookiecutter TEMPLATE` would.
pub fn render(
    template: &Template,
    options: &RenderOptions,
    prompter: &mut dyn Prompter,
) -> Result<RenderedProject, TemplateError> {
    let _fixed = chance::fix(options.reproducible);
    let hooks = HookRunner::new(options.python.clone(), options.hook_env.clone());
    // pre_prompt runs in a copy of the template, which then stands in for it.
    let mut repo_dir = template.dir.clone();
    let mut _copy_guard = None;
    if options.accept_hooks {
        let scripts = find_hooks(&repo_dir, PRE_PROMPT)?;
        if !scripts.is_empty() {
            let temp = tempfile::Builder::new()
                .prefix("meta-template-")
                .tempdir()
                .map_err(|e| TemplateError::io("create a temporary folder for", &repo_dir, e))?;
            let name = std::path::absolute(&repo_dir)
                .ok()
                .map(|p| normpath(&p))
                .and_then(|p| p.file_name().map(ToOwned::to_owned))
                .unwrap_or_else(|| "template".into());
            let copy = temp.path().join(name);
            copy_dir(&repo_dir, &copy)?;
            for script in find_hooks(&copy, PRE_PROMPT)? {
                hooks.run_script(PRE_PROMPT, &script, &copy)?;
            }
            repo_dir = copy;
            _copy_guard = Some(temp);
        }
    }

    let context_path = repo_dir.join(CONTEXT_FILE);
    let mut obj = load_context_file(&context_path)?;
    let mut warnings = Vec::new();
    if let Err(error) = apply_overwrites(&mut obj, &options.default_context, false) {
        // cookiecutter: `warnings.warn(f"Invalid default received: {error}")`, and goes on.
        warnings.push(format!("Invalid default received: {error}"));
    }
    apply_overwrites(&mut obj, &options.extra_context, false)?;
    if obj.contains_key("template") || obj.contains_key("templates") {
        // A template of templates: pick one and render it instead (cookiecutter's
        // `choose_nested_template`, then the same call on the chosen folder).
        let nested = choose_nested_template(&obj, &repo_dir, options.no_input, prompter)?;
        let mut nested_options = options.clone();
        nested_options.template_name = Some(nested.display().to_string());
        return render(&Template::open(nested)?, &nested_options, prompter);
    }
    let original: IndexMap<Value, Value> = obj
        .iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (Value::from(k.as_str()), v.to_value()))
        .collect();

    let settings = EnvSettings::from_context(obj.get("_extensions"), obj.get("_jinja2_env_vars"))?;
    let env = environment(&settings, None)?;
    let answers = prompt_for_config(&env, &settings.syntax, &obj, options.no_input, prompter)?;

    let mut cookiecutter: IndexMap<Value, Value> = IndexMap::new();
    for key in obj.keys().filter(|k| *k != "__prompts__") {
        let value = answers.get(key).cloned().unwrap_or_default();
        cookiecutter.insert(Value::from(key.as_str()), value);
    }
    let template_name = options
        .template_name
        .clone()
        .unwrap_or_else(|| template.dir.display().to_string());
    let output_dir = std::path::absolute(&options.output_dir)
        .map_err(|e| TemplateError::io("resolve", &options.output_dir, e))?;
    cookiecutter.insert(Value::from("_template"), Value::from(template_name));
    cookiecutter.insert(
        Value::from("_output_dir"),
        Value::from(normpath(&output_dir).display().to_string()),
    );
    cookiecutter.insert(
        Value::from("_repo_dir"),
        Value::from(repo_dir.display().to_string()),
    );
    cookiecutter.insert(
        Value::from("_checkout"),
        options
            .checkout
            .clone()
            .map_or(Value::from(()), Value::from),
    );

    let copy_without_render: Vec<String> = match obj.get("_copy_without_render") {
        Some(Raw::List(items)) => items.iter().map(Raw::py_str).collect(),
        Some(Raw::Str(s)) => s.chars().map(String::from).collect(),
        _ => Vec::new(),
    };
    let new_lines = match cookiecutter.get(&Value::from("_new_lines")) {
        Some(v) if v.is_true() => {
            let text = value::py_str(v);
            if !matches!(text.as_str(), "\n" | "\r" | "\r\n") {
                return Err(TemplateError::Unsupported {
                    feature: format!(
                        "`_new_lines` = {} (cookiecutter accepts \"\\n\", \"\\r\" or \"\\r\\n\")",
                        value::py_repr(v)
                    ),
                });
            }
            Some(text)
        }
        _ => None,
    };

    let added_by_main: Vec<&str> = ["_template", "_output_dir", "_repo_dir", "_checkout"]
        .into_iter()
        .filter(|key| !obj.contains_key(*key))
        .collect();
    let cookiecutter_value = PyDict::ordered(cookiecutter);
    let context_json = value::json_dumps(
        &cookiecutter_value,
        &value::JsonIndent::Text("    ".into()),
        true,
    )
    .unwrap_or_default();
    let context = minijinja::context! {
        cookiecutter => cookiecutter_value.clone(),
        _cookiecutter => PyDict::plain(original),
    };
    let template_dir = find_template_dir(&repo_dir, &settings.syntax)?;
    let file_env = environment(&settings, Some(loader_paths(&template_dir)))?;
    let generated = Generation {
        repo_dir: &repo_dir,
        output_dir: &options.output_dir,
        overwrite_if_exists: options.overwrite_if_exists,
        skip_if_file_exists: options.skip_if_file_exists,
        accept_hooks: options.accept_hooks,
        hooks: &hooks,
        syntax: &settings.syntax,
        env: &env,
        file_env: &file_env,
        context: &context,
        copy_without_render,
        new_lines,
    }
    .run()?;
    // After generation: what templates did to the shared dict (`cookiecutter.update`) is in
    // cruft's record too, since it dumps the same dict after `generate_files`.
    // In `prompt_for_config`'s order: its second pass adds the dict variables (not the
    // private ones) after everything else.
    let is_dict_variable = |k: &Value| {
        k.as_str()
            .is_some_and(|k| !k.starts_with('_') && matches!(obj.get(k), Some(value::Raw::Dict(_))))
    };
    // Keys the render added come after cruft's `_template` and `_commit`, which it sets before
    // generating.
    let (asked, added_while_rendering): (Vec<_>, Vec<_>) = value::map_entries(&cookiecutter_value)
        .into_iter()
        .filter(|(k, _)| !k.as_str().is_some_and(|k| added_by_main.contains(&k)))
        .partition(|(k, _)| k.as_str().is_some_and(|k| obj.contains_key(k)));
    let (dicts, rest): (Vec<_>, Vec<_>) = asked.into_iter().partition(|(k, _)| is_dict_variable(k));
    let answers = rest.into_iter().chain(dicts).collect();
    Ok(RenderedProject {
        project_dir: generated.project_dir,
        files_written: generated.files_written,
        files_skipped: generated.files_skipped,
        context_json,
        warnings,
        answers,
        added_while_rendering,
    })
}

/// The folder of the nested template to render: from `templates` (`{name: {"path", "title",
/// "description"}}`, the first by default) or the older `template` list (`"Name (path)"`).
fn choose_nested_template(
    obj: &IndexMap<String, Raw>,
    repo_dir: &Path,
    no_input: bool,
    prompter: &mut dyn Prompter,
) -> Result<PathBuf, TemplateError> {
    let settings = EnvSettings::from_context(obj.get("_extensions"), obj.get("_jinja2_env_vars"))?;
    let illegal = |what: String| TemplateError::Unsupported {
        feature: format!("a nested template path {what} (it must be a relative path)"),
    };
    let ask = |prompter: &mut dyn Prompter, key: &str, label: String, options: Vec<String>| {
        let question = Question {
            key: key.to_owned(),
            label,
            index: 0,
            total: 0,
            kind: QuestionKind::Choice { options },
        };
        match prompter.ask(&question) {
            Ok(Answer::Choice(i)) => Ok(i),
            Ok(_) => Ok(0),
            Err(source) => Err(TemplateError::Prompt {
                key: key.to_owned(),
                source,
            }),
        }
    };
    let path = match obj.get("templates") {
        Some(Raw::Dict(config)) if !config.is_empty() => {
            let names: Vec<&String> = config.keys().collect();
            let chosen = if no_input {
                0
            } else {
                let labels = config
                    .iter()
                    .map(|(name, option)| {
                        let field = |f: &str| match option {
                            Raw::Dict(d) => d.get(f).map(Raw::py_str),
                            _ => None,
                        };
                        let title = field("title").unwrap_or_else(|| name.clone());
                        let description = field("description").unwrap_or_else(|| name.clone());
                        if title == description {
                            title
                        } else {
                            format!("{title} ({description})")
                        }
                    })
                    .collect();
                ask(prompter, "templates", "Select a template".into(), labels)?
            };
            let name = names.get(chosen).copied().unwrap_or(names[0]);
            match &config[name] {
                Raw::Dict(option) => option.get("path").map(Raw::py_str).unwrap_or_default(),
                _ => String::new(),
            }
        }
        _ => {
            let env = environment(&settings, None)?;
            let options = match obj.get("template") {
                Some(Raw::List(options)) => options.clone(),
                _ => Vec::new(),
            };
            let rendered = options
                .iter()
                .map(|o| {
                    context::render_variable(
                        &env,
                        &settings.syntax,
                        o,
                        &IndexMap::new(),
                        "template",
                    )
                    .map(|v| value::py_str(&v))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if rendered.is_empty() {
                return Err(TemplateError::EmptyChoices {
                    key: "template".into(),
                });
            }
            let chosen = if no_input {
                0
            } else {
                ask(
                    prompter,
                    "template",
                    "Select template".into(),
                    rendered.clone(),
                )?
            };
            let value = rendered.get(chosen).unwrap_or(&rendered[0]);
            // `re.search(r'\((.+)\)', value)`: from the first `(` to the last `)`.
            match (value.find('('), value.rfind(')')) {
                (Some(open), Some(close)) if close > open + 1 => value[open + 1..close].to_owned(),
                _ => return Err(illegal(format!("in `{value}` (expected `Name (path)`)"))),
            }
        }
    };
    if path.is_empty() || Path::new(&path).is_absolute() {
        return Err(illegal(format!("`{path}`")));
    }
    let base =
        fs_err::canonicalize(repo_dir).map_err(|e| TemplateError::io("resolve", repo_dir, e))?;
    let joined = base.join(&path);
    Ok(fs_err::canonicalize(&joined).unwrap_or_else(|_| normpath(&joined)))
}

/// Renders `source` as cookiecutter renders a file's text, with `cookiecutter` (a JSON object)
/// as the `cookiecutter` variable: same environment, same filters, same printing of values.
pub fn render_str(source: &str, cookiecutter: &Raw) -> Result<String, TemplateError> {
    let settings = EnvSettings::default();
    let env = environment(&settings, None)?;
    let prepared = jinja::prepare_source(source, &settings.syntax);
    env.render_named_str(
        "<string>",
        &prepared,
        minijinja::context! { cookiecutter => cookiecutter.to_value() },
    )
    .map_err(|e| TemplateError::render("the text", "<string>", &prepared, &e))
}

fn copy_dir(src: &Path, dst: &Path) -> Result<(), TemplateError> {
    use std::os::unix::fs::PermissionsExt as _;
    fs_err::create_dir_all(dst).map_err(|e| TemplateError::io("create folder", dst, e))?;
    for entry in fs_err::read_dir(src).map_err(|e| TemplateError::io("read", src, e))? {
        let entry = entry.map_err(|e| TemplateError::io("read", src, e))?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        if from.is_dir() {
            copy_dir(&from, &to)?;
        } else {
            fs_err::copy(&from, &to).map_err(|e| TemplateError::io("copy to", &to, e))?;
        }
    }
    let mode = fs_err::metadata(src)
        .map_err(|e| TemplateError::io("read", src, e))?
        .permissions()
        .mode();
    fs_err::set_permissions(dst, std::fs::Permissions::from_mode(mode & 0o7777))
        .map_err(|e| TemplateError::io("set permissions of", dst, e))
}

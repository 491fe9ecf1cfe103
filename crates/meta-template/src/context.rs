//! The template context: `cookiecutter.json` loaded in order, extra context applied
//! (cookiecutter's `apply_overwrites_to_context`), then each variable rendered or asked for
//! (its `prompt_for_config`).

use std::path::Path;

use indexmap::IndexMap;
use minijinja::Environment;
use minijinja::value::Value;

use crate::error::TemplateError;
use crate::jinja::{Syntax, prepare_source};
use crate::prompt::{Answer, Prompter, Question, QuestionKind, parse_yes_no};
use crate::value::{PyDict, Raw, py_repr};

/// Reads `cookiecutter.json` as cookiecutter does (UTF-8, key order kept).
pub fn load_context_file(path: &Path) -> Result<IndexMap<String, Raw>, TemplateError> {
    let text = fs_err::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            TemplateError::ContextDecode {
                path: path.to_path_buf(),
                message: "the file is not UTF-8 text".into(),
            }
        } else {
            TemplateError::io("read", path, e)
        }
    })?;
    match Raw::from_json(&text) {
        Ok(Raw::Dict(map)) => Ok(map),
        Ok(_) => Err(TemplateError::ContextNotObject {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(TemplateError::ContextDecode {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

/// cookiecutter's `apply_overwrites_to_context`: extra context replaces defaults; a choice
/// must be one of the choices (it becomes the first, hence the default); a boolean takes yes/no
/// words; a dict is merged key by key; names the template does not have are ignored.
pub fn apply_overwrites(
    context: &mut IndexMap<String, Raw>,
    overwrites: &[(String, Raw)],
    in_dictionary: bool,
) -> Result<(), TemplateError> {
    for (key, overwrite) in overwrites {
        let Some(current) = context.get_mut(key) else {
            if in_dictionary {
                context.insert(key.clone(), overwrite.clone());
            }
            continue;
        };
        let replacement = match (&mut *current, overwrite) {
            (Raw::List(_), _) if in_dictionary => Some(overwrite.clone()),
            (Raw::List(choices), Raw::List(wanted)) => {
                if wanted.iter().all(|w| choices.contains(w)) {
                    Some(overwrite.clone())
                } else {
                    return Err(TemplateError::BadChoice {
                        key: key.clone(),
                        value: py_repr(&overwrite.to_value()),
                        choices: py_repr(&Raw::List(choices.clone()).to_value()),
                    });
                }
            }
            (Raw::List(choices), _) => {
                let Some(at) = choices.iter().position(|c| c == overwrite) else {
                    return Err(TemplateError::BadChoice {
                        key: key.clone(),
                        value: overwrite.py_str(),
                        choices: py_repr(&Raw::List(choices.clone()).to_value()),
                    });
                };
                let chosen = choices.remove(at);
                choices.insert(0, chosen);
                None
            }
            (Raw::Dict(map), Raw::Dict(over)) => {
                let over: Vec<(String, Raw)> =
                    over.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                apply_overwrites(map, &over, true)?;
                None
            }
            (Raw::Bool(_), Raw::Str(text)) => match parse_yes_no(text) {
                Some(b) => Some(Raw::Bool(b)),
                None => {
                    return Err(TemplateError::BadBoolean {
                        key: key.clone(),
                        value: text.clone(),
                    });
                }
            },
            _ => Some(overwrite.clone()),
        };
        if let Some(value) = replacement {
            *current = value;
        }
    }
    Ok(())
}

/// Renders one `cookiecutter.json` value against the answers so far (`render_variable`).
pub fn render_variable(
    env: &Environment<'static>,
    syntax: &Syntax,
    raw: &Raw,
    answers: &IndexMap<String, Value>,
    key: &str,
) -> Result<Value, TemplateError> {
    Ok(match raw {
        Raw::Null => Value::from(()),
        Raw::Bool(b) => Value::from(*b),
        Raw::Dict(map) => {
            let mut out = IndexMap::new();
            for (k, v) in map {
                let k = render_variable(env, syntax, &Raw::Str(k.clone()), answers, key)?;
                let v = render_variable(env, syntax, v, answers, key)?;
                out.insert(k, v);
            }
            PyDict::plain(out)
        }
        Raw::List(items) => Value::from(
            items
                .iter()
                .map(|v| render_variable(env, syntax, v, answers, key))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Raw::Str(s) => Value::from(render_text(env, syntax, s, answers, key)?),
        other => Value::from(render_text(env, syntax, &other.py_str(), answers, key)?),
    })
}

fn render_text(
    env: &Environment<'static>,
    syntax: &Syntax,
    text: &str,
    answers: &IndexMap<String, Value>,
    key: &str,
) -> Result<String, TemplateError> {
    let source = prepare_source(text, syntax);
    let cookiecutter = PyDict::ordered(
        answers
            .iter()
            .map(|(k, v)| (Value::from(k.as_str()), v.clone()))
            .collect(),
    );
    let ctx = minijinja::context! { cookiecutter => cookiecutter };
    env.render_named_str("<variable>", &source, ctx)
        .map_err(|e| TemplateError::render(format!("variable `{key}`"), "<variable>", &source, &e))
}

/// cookiecutter's `prompt_for_config`: returns the value of every variable, in
/// `cookiecutter.json` order (`__prompts__` left out).
pub fn prompt_for_config(
    env: &Environment<'static>,
    syntax: &Syntax,
    context: &IndexMap<String, Raw>,
    no_input: bool,
    prompter: &mut dyn Prompter,
) -> Result<IndexMap<String, Value>, TemplateError> {
    let prompts = context.get("__prompts__").cloned().unwrap_or(Raw::Null);
    let items: Vec<(&String, &Raw)> = context
        .iter()
        .filter(|(k, _)| *k != "__prompts__")
        .collect();
    let total = items.iter().filter(|(k, _)| !k.starts_with('_')).count();
    let mut answers: IndexMap<String, Value> = IndexMap::new();
    let mut count = 0;
    let mut ask = |key: &str, index: usize, kind: QuestionKind| -> Result<Answer, TemplateError> {
        let question = Question {
            key: key.to_owned(),
            label: label_for(&prompts, key, &kind),
            index,
            total,
            kind,
        };
        prompter
            .ask(&question)
            .map_err(|source| TemplateError::Prompt {
                key: key.to_owned(),
                source,
            })
    };

    for (key, raw) in &items {
        let key = key.as_str();
        if key.starts_with('_') && !key.starts_with("__") {
            answers.insert(key.to_owned(), raw.to_value());
            continue;
        }
        if key.starts_with("__") {
            let value = render_variable(env, syntax, raw, &answers, key)?;
            answers.insert(key.to_owned(), value);
            continue;
        }
        if !matches!(raw, Raw::Dict(_)) {
            count += 1;
        }
        match raw {
            Raw::List(options) => {
                let rendered = options
                    .iter()
                    .map(|o| render_variable(env, syntax, o, &answers, key))
                    .collect::<Result<Vec<_>, _>>()?;
                if rendered.is_empty() {
                    return Err(TemplateError::EmptyChoices {
                        key: key.to_owned(),
                    });
                }
                let value = if no_input {
                    rendered[0].clone()
                } else {
                    let labels = choice_labels(&prompts, key, &rendered);
                    match ask(key, count, QuestionKind::Choice { options: labels })? {
                        Answer::Choice(i) if i < rendered.len() => rendered[i].clone(),
                        _ => rendered[0].clone(),
                    }
                };
                answers.insert(key.to_owned(), value);
            }
            Raw::Bool(default) => {
                let value = if no_input {
                    *default
                } else {
                    match ask(key, count, QuestionKind::YesNo { default: *default })? {
                        Answer::YesNo(b) => b,
                        _ => *default,
                    }
                };
                answers.insert(key.to_owned(), Value::from(value));
            }
            Raw::Dict(_) => {}
            _ => {
                let value = render_variable(env, syntax, raw, &answers, key)?;
                let value = if no_input {
                    value
                } else {
                    let default = value.as_str().map(str::to_owned);
                    match ask(key, count, QuestionKind::Text { default })? {
                        Answer::Text(t) => Value::from(t),
                        _ => value,
                    }
                };
                answers.insert(key.to_owned(), value);
            }
        }
    }

    for (key, raw) in &items {
        let key = key.as_str();
        if key.starts_with('_') && !key.starts_with("__") {
            continue;
        }
        if let Raw::Dict(_) = raw {
            count += 1;
            let mut value = render_variable(env, syntax, raw, &answers, key)?;
            if !no_input && !key.starts_with("__") {
                let default_json =
                    crate::value::json_dumps(&value, &crate::value::JsonIndent::None, false)
                        .unwrap_or_default();
                if let Answer::Dict(map) = ask(key, count, QuestionKind::Dict { default_json })? {
                    value = Raw::Dict(map).to_value();
                }
            }
            answers.insert(key.to_owned(), value);
        }
    }
    Ok(answers)
}

/// The question text: `__prompts__[key]` (or its `__prompt__` for choices), else the key;
/// choices read "Select key" by default, as in cookiecutter.
fn label_for(prompts: &Raw, key: &str, kind: &QuestionKind) -> String {
    let entry = match prompts {
        Raw::Dict(map) => map.get(key),
        _ => None,
    };
    match (kind, entry) {
        (QuestionKind::Choice { .. }, Some(Raw::Str(s))) => s.clone(),
        (QuestionKind::Choice { .. }, Some(Raw::Dict(d))) => match d.get("__prompt__") {
            Some(p) => p.py_str(),
            None => format!("Select {key}"),
        },
        (QuestionKind::Choice { .. }, _) => format!("Select {key}"),
        (_, Some(Raw::Str(s))) if !s.is_empty() => s.clone(),
        (_, Some(other)) if !matches!(other, Raw::Null | Raw::Str(_)) => other.py_str(),
        _ => key.to_owned(),
    }
}

fn choice_labels(prompts: &Raw, key: &str, options: &[Value]) -> Vec<String> {
    let entry = match prompts {
        Raw::Dict(map) => map.get(key),
        _ => None,
    };
    options
        .iter()
        .map(|option| {
            let text = crate::value::py_str(option);
            match entry {
                Some(Raw::Dict(labels)) => labels.get(&text).map_or(text, Raw::py_str),
                _ => text,
            }
        })
        .collect()
}

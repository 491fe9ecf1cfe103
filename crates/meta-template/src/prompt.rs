//! The questions cookiecutter asks, as data. The library never touches a terminal: a caller
//! implements [`Prompter`] (the `meta` CLI asks on its terminal; tests answer from a script).

use indexmap::IndexMap;

use crate::value::Raw;

/// One question, as cookiecutter's `prompt_for_config` would ask it.
#[derive(Debug, Clone)]
pub struct Question {
    /// The variable's name in `cookiecutter.json`.
    pub key: String,
    /// What to show: the `__prompts__` label when the template gives one, else the key.
    pub label: String,
    /// Position among the visible variables (1-based) and their count: cookiecutter's
    /// `[2/7]` prefix. Zero when cookiecutter shows no prefix.
    pub index: usize,
    pub total: usize,
    pub kind: QuestionKind,
}

#[derive(Debug, Clone)]
pub enum QuestionKind {
    /// Free text; an empty answer takes the default (`None` when the default is JSON null:
    /// then cookiecutter asks again).
    Text { default: Option<String> },
    /// Yes or no.
    YesNo { default: bool },
    /// One of `options` (labels to show); the first is the default.
    Choice { options: Vec<String> },
    /// A JSON object; an empty answer takes the default, shown as `default`.
    Dict { default_json: String },
}

/// An answer to a [`Question`] of the same kind.
#[derive(Debug, Clone)]
pub enum Answer {
    Text(String),
    YesNo(bool),
    /// Index into the options.
    Choice(usize),
    /// A JSON object, already checked with [`parse_dict_answer`].
    Dict(IndexMap<String, Raw>),
}

/// Asks the user. Implementations loop on invalid input themselves (see [`parse_yes_no`] and
/// [`parse_dict_answer`]), and return an error only when no answer can be had at all.
pub trait Prompter {
    fn ask(&mut self, question: &Question) -> std::io::Result<Answer>;
}

/// A prompter for `--no-input` runs: it is never asked anything.
#[derive(Debug, Default)]
pub struct NoPrompt;

impl Prompter for NoPrompt {
    fn ask(&mut self, question: &Question) -> std::io::Result<Answer> {
        Err(std::io::Error::other(format!(
            "no input allowed, but `{}` needs an answer",
            question.key
        )))
    }
}

/// cookiecutter's `YesNoPrompt`: `1 true t yes y on` / `0 false f no n off`, any case.
pub fn parse_yes_no(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// cookiecutter's `process_json`: the text must be a JSON object.
pub fn parse_dict_answer(text: &str) -> Result<IndexMap<String, Raw>, &'static str> {
    match Raw::from_json(text) {
        Ok(Raw::Dict(map)) => Ok(map),
        Ok(_) => Err("Requires JSON dict."),
        Err(_) => Err("Unable to decode to JSON."),
    }
}

//! What `meta new` and `meta init` share: `KEY=VALUE` parsing, the terminal prompter that asks
//! cookiecutter's questions, and the wording of template errors.

use std::fmt::Write as _;
use std::io::{self, BufRead, Write as _};

use meta_template::{Answer, Prompter, Question, QuestionKind, Raw, TemplateError};

use crate::error::CliError;
use crate::ui::{Ui, styles};

/// `KEY=VALUE` arguments as extra context (split at the first `=`, like cookiecutter).
pub fn parse_extra_context(items: &[String]) -> Result<Vec<(String, Raw)>, CliError> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((key, value)) if !key.is_empty() => {
                Ok((key.to_owned(), Raw::Str(value.to_owned())))
            }
            _ => Err(
                CliError::usage(format!("`{item}` is not of the form KEY=VALUE"))
                    .with_hint("extra context sets a template variable, e.g. `project_name=Demo`"),
            ),
        })
        .collect()
}

/// Asks cookiecutter's questions on the terminal (questions on stderr, answers from stdin),
/// laid out as cookiecutter shows them: `  [1/3] project_name (Demo): `.
pub struct TerminalPrompter<'a> {
    pub ui: &'a Ui,
}

impl TerminalPrompter<'_> {
    fn read_line(&self, prompt: &str) -> io::Result<String> {
        let mut err = io::stderr().lock();
        err.write_all(prompt.as_bytes())?;
        err.flush()?;
        drop(err);
        let mut line = String::new();
        if io::stdin().lock().read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "standard input ended before every question was answered",
            ));
        }
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }

    fn complain(&self, text: &str) {
        let _ = writeln!(
            io::stderr().lock(),
            "{}",
            self.ui.paint_err(styles::ERROR, text)
        );
    }
}

impl Prompter for TerminalPrompter<'_> {
    fn ask(&mut self, question: &Question) -> io::Result<Answer> {
        let ui = self.ui;
        let prefix = if question.index > 0 {
            format!(
                "  {} ",
                ui.paint_err(
                    styles::DIM,
                    format!("[{}/{}]", question.index, question.total)
                )
            )
        } else {
            String::new()
        };
        let default = |text: &str| ui.paint_err(styles::HINT, format!("({text})"));
        match &question.kind {
            QuestionKind::Text { default: value } => loop {
                let shown = value
                    .as_deref()
                    .map(|v| format!(" {}", default(v)))
                    .unwrap_or_default();
                let line = self.read_line(&format!("{prefix}{}{shown}: ", question.label))?;
                if !line.is_empty() {
                    return Ok(Answer::Text(line));
                }
                if let Some(value) = value {
                    return Ok(Answer::Text(value.clone()));
                }
            },
            QuestionKind::YesNo { default: value } => loop {
                let choices = ui.paint_err(styles::EMPHASIS, "[y/n]");
                let line = self.read_line(&format!(
                    "{prefix}{} {choices} {}: ",
                    question.label,
                    default(if *value { "y" } else { "n" })
                ))?;
                if line.trim().is_empty() {
                    return Ok(Answer::YesNo(*value));
                }
                match meta_template::parse_yes_no(&line) {
                    Some(b) => return Ok(Answer::YesNo(b)),
                    None => self.complain("Please enter Y or N"),
                }
            },
            QuestionKind::Choice { options } => {
                let mut text = format!("{prefix}{}\n", question.label);
                for (i, option) in options.iter().enumerate() {
                    let _ = writeln!(
                        text,
                        "    {} - {option}",
                        ui.paint_err(styles::EMPHASIS, i + 1)
                    );
                }
                let numbers: Vec<String> = (1..=options.len()).map(|i| i.to_string()).collect();
                let _ = write!(
                    text,
                    "    Choose from {} {}: ",
                    ui.paint_err(styles::EMPHASIS, format!("[{}]", numbers.join("/"))),
                    default("1")
                );
                let mut prompt = text;
                loop {
                    let line = self.read_line(&prompt)?;
                    let line = line.trim();
                    if line.is_empty() {
                        return Ok(Answer::Choice(0));
                    }
                    if let Some(i) = numbers.iter().position(|n| n == line) {
                        return Ok(Answer::Choice(i));
                    }
                    self.complain("Please select one of the available options");
                    prompt = format!("    Choose from [{}] {}: ", numbers.join("/"), default("1"));
                }
            }
            QuestionKind::Dict { default_json } => loop {
                let line = self.read_line(&format!(
                    "{prefix}{} {}: ",
                    question.label,
                    default("default")
                ))?;
                if line.trim().is_empty() {
                    return meta_template::parse_dict_answer(default_json)
                        .map(Answer::Dict)
                        .map_err(io::Error::other);
                }
                match meta_template::parse_dict_answer(&line) {
                    Ok(map) => return Ok(Answer::Dict(map)),
                    Err(why) => self.complain(&format!("{why} Please enter a valid JSON string")),
                }
            },
        }
    }
}

impl From<TemplateError> for CliError {
    fn from(error: TemplateError) -> Self {
        let hint = match &error {
            TemplateError::NotFound { .. } => Some(
                "give a folder holding `cookiecutter.json`, or a git URL such as `https://host/owner/repo.git`",
            ),
            TemplateError::ContextDecode { .. } | TemplateError::ContextNotObject { .. } => Some(
                "fix the template's `cookiecutter.json`: it must be one JSON object of variables",
            ),
            TemplateError::BadChoice { .. } => {
                Some("give one of the choices, or leave the variable out to take the first")
            }
            TemplateError::BadBoolean { .. } | TemplateError::EmptyChoices { .. } => None,
            TemplateError::UnknownExtension { .. } | TemplateError::Unsupported { .. } => Some(
                "render this template with Python's `cookiecutter` (`pipx install cookiecutter`), and please file an issue for meta naming the feature",
            ),
            TemplateError::NoTemplatedDir { .. } => Some(
                "a template keeps its files in a folder named like `{{cookiecutter.project_slug}}` beside `cookiecutter.json`",
            ),
            TemplateError::Render {
                undefined: true, ..
            } => Some(
                "add the variable to `cookiecutter.json`, or fix its name in the template (variables are `cookiecutter.NAME`)",
            ),
            // Valid Jinja2 that meta lacks fails here too: do not blame the template.
            TemplateError::Render { .. } => Some(
                "nothing was written. If `cookiecutter` renders this template, meta lacks the Jinja2 feature used there: render it with `cookiecutter` (`pipx install cookiecutter`) and please file an issue for meta; otherwise the template has a mistake at that place",
            ),
            TemplateError::OutputExists { .. } => Some(
                "pass `-f` to render into it, `-s` with `-f` to keep files that exist, or choose another folder with `-o`",
            ),
            TemplateError::OutsideOutput { .. } => {
                Some("check the values given for the variables used in file and folder names")
            }
            TemplateError::HookFailed { .. } => Some(
                "the hook's own output above says why; nothing this run created was left behind. `--accept-hooks no` skips hooks",
            ),
            TemplateError::Io { .. } => {
                Some("check that the folder exists and that you may write to it")
            }
            TemplateError::Prompt { .. } => Some("pass `--no-input` to take every default"),
        };
        let mut cli = CliError::from_error(&error);
        if let Some(hint) = hint {
            cli = cli.with_hint(hint);
        }
        cli
    }
}

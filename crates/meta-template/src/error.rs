//! What can go wrong while rendering a template. Every variant carries the path, key or name
//! that explains it; none of them has been printed by the time the caller sees it.

use std::fmt::Write as _;
use std::path::PathBuf;

/// Why a template could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no template at `{}`: {reason}", path.display())]
    NotFound { path: PathBuf, reason: String },

    #[error("`{}` is not valid JSON: {message}", path.display())]
    ContextDecode { path: PathBuf, message: String },

    #[error("`{}` must hold a JSON object of variables", path.display())]
    ContextNotObject { path: PathBuf },

    #[error("`{value}` is not a choice of `{key}`; the choices are {choices}")]
    BadChoice {
        key: String,
        value: String,
        choices: String,
    },

    #[error(
        "`{value}` given for `{key}` is not a yes/no value (use one of 1, true, t, yes, y, on, 0, false, f, no, n, off)"
    )]
    BadBoolean { key: String, value: String },

    #[error("the variable `{key}` has an empty list of choices")]
    EmptyChoices { key: String },

    #[error(
        "unknown Jinja extension `{name}` in `_extensions`: meta supports cookiecutter's default extensions and `jinja2.ext.loopcontrols`, not other extensions or custom Python code"
    )]
    UnknownExtension { name: String },

    #[error("this template uses {feature}, which meta does not support")]
    Unsupported { feature: String },

    #[error("`{}` has no templated folder (a folder whose name contains `cookiecutter` inside `{open}` … `{close}`)", repo.display())]
    NoTemplatedDir {
        repo: PathBuf,
        open: String,
        close: String,
    },

    #[error("cannot render {target}: {message}")]
    Render {
        /// What was being rendered: "variable `x`", "file `a/b.txt`", "directory name `…`".
        target: String,
        message: String,
        /// True when the cause is a variable the context does not define.
        undefined: bool,
    },

    #[error("`{}` already exists", path.display())]
    OutputExists { path: PathBuf },

    #[error("the rendered path `{rendered}` would land outside `{}`", base.display())]
    OutsideOutput { rendered: String, base: PathBuf },

    #[error("{hook} hook failed: {message}")]
    HookFailed { hook: String, message: String },

    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("no answer for `{key}`")]
    Prompt {
        key: String,
        #[source]
        source: std::io::Error,
    },
}

impl TemplateError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        TemplateError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A rendering failure, with the line of the template it happened on when known.
    pub(crate) fn render(
        target: impl Into<String>,
        name: &str,
        source: &str,
        error: &minijinja::Error,
    ) -> Self {
        let undefined = error.kind() == minijinja::ErrorKind::UndefinedError;
        let mut message = if undefined {
            "a variable it uses is not defined".to_owned()
        } else {
            let mut text = error.kind().to_string();
            if let Some(detail) = error.detail() {
                text.push_str(": ");
                text.push_str(detail);
            }
            text
        };
        if let Some(gap) = known_gap(error) {
            message = format!("{gap}, which meta does not support ({message})");
        }
        let source = error.template_source().unwrap_or(source);
        let mut positioned = false;
        if error.kind() == minijinja::ErrorKind::SyntaxError
            && error.name().is_none_or(|n| n == name)
            && let Some(range) = error.range()
            && let Some(before) = source.get(..range.start)
        {
            // Name the character and where it is: a stray U+00A0 or a smart quote is
            // invisible in the snippet alone.
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let _ = write!(message, " at line {line}, column {column}");
            positioned = true;
            if let Some(c) = source[range.start..].chars().next() {
                let _ = write!(message, " (character {c:?}, U+{:04X})", u32::from(c));
            }
        }
        let in_other = error.name().filter(|n| *n != name);
        if let Some(other) = in_other {
            let _ = write!(message, " (in `{other}`");
            if let Some(line) = error.line() {
                let _ = write!(message, " on line {line}");
            }
            message.push(')');
        } else if let Some(range) = error.range()
            && let Some(snippet) = source.get(range)
        {
            let _ = write!(message, " (`{}`", snippet.trim());
            if let Some(line) = error.line() {
                let _ = write!(message, " on line {line}");
            }
            message.push(')');
        } else if let Some(line) = error.line().filter(|_| !positioned) {
            let _ = write!(message, " (line {line})");
        }
        TemplateError::Render {
            target: target.into(),
            message,
            undefined,
        }
    }
}

/// Valid Jinja2 that meta is known not to render, named so the error does not blame the
/// template.
fn known_gap(error: &minijinja::Error) -> Option<&'static str> {
    let detail = error.detail().unwrap_or_default();
    match error.kind() {
        minijinja::ErrorKind::InvalidOperation
            if detail.contains("% operator") && detail.contains("string") =>
        {
            Some(
                "a `%` whose operands meta could not find (use the `format` filter: `fmt|format(x)`)",
            )
        }
        minijinja::ErrorKind::UnknownMethod
            if detail.starts_with("sequence has no method named")
                && [
                    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
                ]
                .iter()
                .any(|m| detail.ends_with(m)) =>
        {
            Some(
                "changing a list made by slicing or repetition (`xs[1:]`, `xs * 2`) or by `batch`/`slice` (lists from `cookiecutter.json`, written in the template, sums `xs + ys`, or returned by `list`, `sort`, `dictsort`, `groupby`, `split` and `splitlines` can change)",
            )
        }
        _ => None,
    }
}

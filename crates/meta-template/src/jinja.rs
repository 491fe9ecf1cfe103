//! The Jinja2 environment cookiecutter renders with, rebuilt on minijinja: `StrictUndefined`,
//! `keep_trailing_newline=True`, Python's way of printing values, Jinja2's filters where
//! minijinja's differ, and cookiecutter's default extensions (`jsonify`, `slugify`,
//! `random_ascii_string`, `uuid4`, `{% now %}`).

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};

use crate::error::TemplateError;
use crate::now;
use crate::slugify::{SlugifyOptions, slugify};
use crate::value::{
    JsonIndent, PyDictView, PyList, PyRange, PyTuple, Raw, ViewKind, json_dumps, map_entries,
    py_str,
};

/// Extensions cookiecutter always loads; naming them in `_extensions` changes nothing.
const DEFAULT_EXTENSIONS: [&str; 5] = [
    "cookiecutter.extensions.JsonifyExtension",
    "cookiecutter.extensions.RandomStringExtension",
    "cookiecutter.extensions.SlugifyExtension",
    "cookiecutter.extensions.TimeExtension",
    "cookiecutter.extensions.UUIDExtension",
];

/// Jinja2's own extensions whose behaviour minijinja has built in.
const BUILTIN_EXTENSIONS: [&str; 2] = ["jinja2.ext.loopcontrols", "jinja2.ext.do"];

/// The `jinja2-time` package's extension, which cookiecutter 1.x required: the same `{% now %}`
/// tag as cookiecutter's own `TimeExtension` (from which it was copied), so it changes nothing,
/// except that its offsets call arrow's `replace()`, which fails with arrow 1.0 and later.
const JINJA2_TIME: &str = "jinja2_time.TimeExtension";

/// The names in `_extensions`, as cookiecutter iterates them.
pub fn extension_names(extensions: Option<&Raw>) -> Vec<String> {
    match extensions {
        None => Vec::new(),
        Some(Raw::List(items)) => items.iter().map(Raw::py_str).collect(),
        Some(Raw::Str(s)) => s.chars().map(String::from).collect(),
        Some(other) => vec![other.py_str()],
    }
}

/// Whether meta renders what the extension `name` does (cookiecutter's defaults,
/// `jinja2.ext.loopcontrols`, `jinja2_time.TimeExtension`); any other is Python code.
pub fn is_supported_extension(name: &str) -> bool {
    DEFAULT_EXTENSIONS.contains(&name) || BUILTIN_EXTENSIONS.contains(&name) || name == JINJA2_TIME
}

/// The parts of `jinja2.Environment(...)` a template may set through `_jinja2_env_vars`.
#[derive(Debug, Clone)]
pub struct Syntax {
    pub block: (String, String),
    pub variable: (String, String),
    pub comment: (String, String),
    pub line_statement_prefix: Option<String>,
    pub line_comment_prefix: Option<String>,
    pub trim_blocks: bool,
    pub lstrip_blocks: bool,
    /// `{% break %}` and `{% continue %}`: Jinja2 knows them only with `jinja2.ext.loopcontrols`.
    pub loop_controls: bool,
    /// `{% do expr %}`: Jinja2 knows it only with `jinja2.ext.do` (minijinja always does).
    pub do_statement: bool,
    /// `jinja2_time.TimeExtension` is loaded: its `{% now %}` replaces cookiecutter's.
    pub jinja2_time: bool,
}

impl Default for Syntax {
    fn default() -> Self {
        Self {
            block: ("{%".into(), "%}".into()),
            variable: ("{{".into(), "}}".into()),
            comment: ("{#".into(), "#}".into()),
            line_statement_prefix: None,
            line_comment_prefix: None,
            trim_blocks: false,
            lstrip_blocks: false,
            loop_controls: false,
            do_statement: false,
            jinja2_time: false,
        }
    }
}

/// How to build the environment: read from the context's `_extensions` and `_jinja2_env_vars`.
#[derive(Debug, Clone, Default)]
pub struct EnvSettings {
    pub syntax: Syntax,
}

impl EnvSettings {
    /// Checks `_extensions` and reads `_jinja2_env_vars`, failing on anything not supported.
    pub fn from_context(
        extensions: Option<&Raw>,
        env_vars: Option<&Raw>,
    ) -> Result<Self, TemplateError> {
        let mut syntax = Syntax::default();
        for name in extension_names(extensions) {
            if name == "jinja2.ext.do" {
                syntax.do_statement = true;
            } else if BUILTIN_EXTENSIONS.contains(&name.as_str()) {
                syntax.loop_controls = true;
            } else if name == JINJA2_TIME {
                syntax.jinja2_time = true;
            } else if !is_supported_extension(&name) {
                return Err(TemplateError::UnknownExtension { name });
            }
        }
        if let Some(vars) = env_vars {
            let Raw::Dict(vars) = vars else {
                return Err(TemplateError::Unsupported {
                    feature: "`_jinja2_env_vars` that is not a JSON object".into(),
                });
            };
            for (key, value) in vars {
                let text = || match value {
                    Raw::Str(s) => Ok(s.clone()),
                    _ => Err(TemplateError::Unsupported {
                        feature: format!("`_jinja2_env_vars.{key}` that is not a string"),
                    }),
                };
                let truthy = || match value {
                    Raw::Bool(b) => *b,
                    Raw::Null => false,
                    Raw::Int(i) => *i != 0,
                    Raw::Str(s) => !s.is_empty(),
                    _ => true,
                };
                match key.as_str() {
                    "block_start_string" => syntax.block.0 = text()?,
                    "block_end_string" => syntax.block.1 = text()?,
                    "variable_start_string" => syntax.variable.0 = text()?,
                    "variable_end_string" => syntax.variable.1 = text()?,
                    "comment_start_string" => syntax.comment.0 = text()?,
                    "comment_end_string" => syntax.comment.1 = text()?,
                    "line_statement_prefix" => {
                        syntax.line_statement_prefix = if matches!(value, Raw::Null) {
                            None
                        } else {
                            Some(text()?)
                        }
                    }
                    "line_comment_prefix" => {
                        syntax.line_comment_prefix = if matches!(value, Raw::Null) {
                            None
                        } else {
                            Some(text()?)
                        }
                    }
                    "trim_blocks" => syntax.trim_blocks = truthy(),
                    "lstrip_blocks" => syntax.lstrip_blocks = truthy(),
                    "newline_sequence" if matches!(value, Raw::Str(s) if s == "\n") => {}
                    "autoescape" if !truthy() => {}
                    // Caching and optimisation switches do not change what is rendered.
                    "optimized" | "cache_size" | "auto_reload" => {}
                    other => {
                        return Err(TemplateError::Unsupported {
                            feature: format!(
                                "the Jinja2 environment option `{other}` in `_jinja2_env_vars`"
                            ),
                        });
                    }
                }
            }
        }
        Ok(Self { syntax })
    }
}

/// Where `{% include %}` and `{% extends %}` look: cookiecutter's
/// `FileSystemLoader(['.', '../templates'])` from inside the templated folder.
#[derive(Debug, Clone)]
pub struct LoaderPaths {
    pub search: Vec<PathBuf>,
}

/// Builds the environment. With `loader`, templates are loaded by name from its folders.
pub fn environment(
    settings: &EnvSettings,
    loader: Option<LoaderPaths>,
) -> Result<Environment<'static>, TemplateError> {
    let mut env = Environment::new();
    let s = &settings.syntax;
    let mut builder = minijinja::syntax::SyntaxConfig::builder();
    builder
        .block_delimiters(s.block.0.clone(), s.block.1.clone())
        .variable_delimiters(s.variable.0.clone(), s.variable.1.clone())
        .comment_delimiters(s.comment.0.clone(), s.comment.1.clone())
        .trim_blocks(s.trim_blocks)
        .lstrip_blocks(s.lstrip_blocks)
        .keep_trailing_newline(true);
    if let Some(prefix) = &s.line_statement_prefix {
        builder.line_statement_prefix(prefix.clone());
    }
    // Line comments are stripped in `prepare_source`: minijinja also eats the newline after
    // them, Jinja2 keeps it.
    let syntax = builder.build().map_err(|e| TemplateError::Unsupported {
        feature: format!("these `_jinja2_env_vars` delimiters ({e})"),
    })?;
    env.set_syntax(syntax);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Errors keep the template's text and spans, so a syntax error can name its column.
    env.set_debug(true);
    env.set_formatter(|out, state, value| {
        if value.is_undefined() || value.kind() == ValueKind::String {
            return minijinja::escape_formatter(out, state, value);
        }
        out.write_str(&py_str(value))
            .map_err(|_| Error::new(ErrorKind::WriteFailure, "cannot write output"))
    });
    env.set_unknown_method_callback(python_methods);
    register_filters(&mut env);
    env.add_function("random_ascii_string", random_ascii_string);
    env.add_function(LIST_FUNCTION, |items: Value| -> Result<Value, Error> {
        Ok(PyList::value(items.try_iter()?.collect()))
    });
    env.add_function(DICT_FUNCTION, |map: Value| {
        crate::value::PyDict::plain(map_entries(&map).into_iter().collect())
    });
    env.add_function(PERCENT_FUNCTION, crate::printf::py_percent);
    env.add_function(ADD_FUNCTION, crate::printf::py_add);
    env.add_function(DO_FUNCTION, |_: Value| ());
    env.add_function("uuid4", uuid4);
    env.add_function("range", |args: Rest<Value>| PyRange::call(&args.0));
    env.add_function("lipsum", |args: Rest<ValueOrKwargs>| {
        crate::lipsum::lipsum(&args.into_values())
    });
    env.add_function(NOW_FUNCTION, now::now_function);
    env.add_function("cycler", |items: Rest<Value>| {
        minijinja_contrib::globals::cycler(items.0)
    });
    env.add_function("joiner", minijinja_contrib::globals::joiner);
    if let Some(loader) = loader {
        let syntax = settings.syntax.clone();
        env.set_loader(move |name| load_template(&loader, &syntax, name));
    }
    Ok(env)
}

/// The name `{% now %}` tags are rewritten to call.
pub const NOW_FUNCTION: &str = "__cookiecutter_now";

fn load_template(
    loader: &LoaderPaths,
    syntax: &Syntax,
    name: &str,
) -> Result<Option<String>, Error> {
    // Jinja2's `split_template_path`: no `..`, no absolute names.
    let relative = Path::new(name);
    let mut clean = PathBuf::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            _ => return Ok(None),
        }
    }
    for dir in &loader.search {
        let path = dir.join(&clean);
        if path.is_file() {
            let bytes = fs_err::read(&path).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("cannot read template: {e}"),
                )
            })?;
            let text = String::from_utf8(bytes).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("`{}` is not UTF-8 text", path.display()),
                )
            })?;
            return Ok(Some(prepare_source(&text, syntax)));
        }
    }
    Ok(None)
}

/// What Jinja2's lexer does before parsing, done to the text so minijinja sees the same thing:
/// every `\r\n` and `\r` becomes `\n`; and the `{% now %}` tag of cookiecutter's
/// `TimeExtension` becomes a call minijinja understands.
pub fn prepare_source(source: &str, syntax: &Syntax) -> String {
    let text = if source.contains('\r') {
        source.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        source.to_owned()
    };
    let loop_words = (!syntax.loop_controls
        && (text.contains("break") || text.contains("continue")))
        || (!syntax.do_statement && text.contains("do"));
    let line_comments = syntax
        .line_comment_prefix
        .as_ref()
        .is_some_and(|p| text.contains(p.as_str()));
    let loops = text.contains("for") || text.contains('%') || text.contains('+');
    let odd_blanks =
        !text.is_ascii() || text.contains(['\u{b}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{1f}']);
    if !text.contains("now")
        && !loop_words
        && !line_comments
        && !odd_blanks
        && !loops
        && !text.contains("without context")
    {
        return text;
    }
    rewrite_now_tags(&text, syntax)
}

/// Template data between tags; Jinja2's line comments (`PREFIX …` up to the end of the line,
/// with the blanks before it) are dropped here, the newline kept.
fn push_data(out: &mut String, data: &str, syntax: &Syntax) {
    let Some(prefix) = syntax
        .line_comment_prefix
        .as_deref()
        .filter(|p| !p.is_empty())
    else {
        out.push_str(data);
        return;
    };
    let mut rest = data;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].trim_end_matches([' ', '\t']);
        out.push_str(before);
        let after = &rest[at..];
        let end = after.find('\n').unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
}

fn rewrite_now_tags(text: &str, syntax: &Syntax) -> String {
    let (bs, be) = (&syntax.block.0, &syntax.block.1);
    let (vs, ve) = (&syntax.variable.0, &syntax.variable.1);
    let (cs, ce) = (&syntax.comment.0, &syntax.comment.1);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = [
            (rest.find(bs.as_str()), 0),
            (rest.find(vs.as_str()), 1),
            (rest.find(cs.as_str()), 2),
        ]
        .into_iter()
        .filter_map(|(pos, kind)| pos.map(|p| (p, kind)))
        .min();
        let Some((found, kind)) = next else {
            push_data(&mut out, rest, syntax);
            return out;
        };
        push_data(&mut out, &rest[..found], syntax);
        rest = &rest[found..];
        let pos = 0;
        match kind {
            1 | 2 => {
                let end_marker = if kind == 1 { ve } else { ce };
                let start_len = if kind == 1 { vs.len() } else { cs.len() };
                let end = rest[pos + start_len..]
                    .find(end_marker.as_str())
                    .map_or(rest.len(), |e| pos + start_len + e + end_marker.len());
                if kind == 1 {
                    let closed = rest[..end].ends_with(ve.as_str()) && end >= vs.len() + ve.len();
                    let tag = if closed {
                        let tag = rewrite_percent(&rest[..end], vs.len(), ve.len(), false);
                        mutable_literals(&tag, vs.len(), ve.len())
                    } else {
                        rest[..end].to_owned()
                    };
                    push_ascii_blanks(&mut out, &tag);
                } else {
                    out.push_str(&rest[..end]);
                }
                rest = &rest[end..];
            }
            _ => {
                let inner_start = pos + bs.len();
                let Some(close) = find_tag_end(&rest[inner_start..], be) else {
                    out.push_str(rest);
                    return out;
                };
                let inner = &rest[inner_start..inner_start + close];
                let after = inner_start + close + be.len();
                let (left_ws, body) = match inner.chars().next() {
                    Some(c @ ('-' | '+')) => (Some(c), &inner[1..]),
                    _ => (None, inner),
                };
                let (body, right_ws) = match body.trim_end().strip_suffix('-') {
                    Some(b) => (b, Some('-')),
                    None => match body.trim_end().strip_suffix('+') {
                        Some(b) => (b, Some('+')),
                        None => (body, None),
                    },
                };
                let trimmed = body.trim_start();
                let word: String = trimmed
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if word == "raw" {
                    // Copy the raw block through untouched.
                    let end = find_endraw(&rest[after..], bs, be).map_or(rest.len(), |e| after + e);
                    out.push_str(&rest[..end]);
                    rest = &rest[end..];
                } else if matches!(word.as_str(), "include" | "import" | "from")
                    && trimmed.contains("without context")
                {
                    // minijinja would still pass the context; Jinja2 would not (and the strict
                    // undefined then fails). Refuse rather than render something else.
                    out.push_str(&rest[..inner_start]);
                    let at = inner.find(word.as_str()).unwrap_or(0);
                    out.push_str(&inner[..at]);
                    out.push_str(&word);
                    out.push_str("_without_context_is_not_supported");
                    out.push_str(&inner[at + word.len()..]);
                    out.push_str(be);
                    rest = &rest[after..];
                } else if ((word == "break" || word == "continue") && !syntax.loop_controls)
                    || (word == "do" && !syntax.do_statement)
                {
                    // Jinja2 without `jinja2.ext.loopcontrols` (or `jinja2.ext.do`) has no such
                    // tag: make minijinja fail the same way, with a name that says what is
                    // missing.
                    out.push_str(&rest[..inner_start]);
                    let at = inner.find(word.as_str()).unwrap_or(0);
                    out.push_str(&inner[..at]);
                    out.push_str(&word);
                    out.push_str(if word == "do" {
                        "_needs_jinja2_ext_do"
                    } else {
                        "_needs_jinja2_ext_loopcontrols"
                    });
                    out.push_str(&inner[at + word.len()..]);
                    out.push_str(be);
                    rest = &rest[after..];
                } else if word == "now" {
                    out.push_str(&rest[..pos]);
                    if syntax.lstrip_blocks && left_ws != Some('+') {
                        let line_start = out.rfind('\n').map_or(0, |i| i + 1);
                        if out[line_start..].chars().all(|c| c == ' ' || c == '\t') {
                            out.truncate(line_start);
                        }
                    }
                    let mut args = String::new();
                    push_ascii_blanks(&mut args, &trimmed[3..]);
                    let args = args.as_str();
                    let _ = write!(
                        out,
                        "{vs}{} {NOW_FUNCTION}({}) {}{ve}",
                        left_ws
                            .filter(|c| *c == '-')
                            .map(String::from)
                            .unwrap_or_default(),
                        now_call_args(args, syntax.jinja2_time),
                        right_ws
                            .filter(|c| *c == '-')
                            .map(String::from)
                            .unwrap_or_default(),
                    );
                    rest = &rest[after..];
                    if syntax.trim_blocks
                        && right_ws.is_none()
                        && let Some(stripped) = rest.strip_prefix('\n')
                    {
                        rest = stripped;
                    }
                } else {
                    // minijinja's `do` takes only a call; Jinja2's any expression.
                    let do_tag = (word == "do").then(|| {
                        format!(
                            "{bs}{}do {DO_FUNCTION}({}){}{be}",
                            left_ws.map(String::from).unwrap_or_default(),
                            trimmed[2..].trim(),
                            right_ws.map(String::from).unwrap_or_default(),
                        )
                    });
                    let tag = do_tag.as_deref().unwrap_or(&rest[..after]);
                    let tag = rewrite_percent(tag, bs.len(), be.len(), true);
                    let tag = mutable_literals(&tag, bs.len(), be.len());
                    match wrap_loop_iterable(&tag, bs.len(), be.len()).filter(|_| word == "for") {
                        Some(wrapped) => push_ascii_blanks(&mut out, &wrapped),
                        None => push_ascii_blanks(&mut out, &tag),
                    }
                    rest = &rest[after..];
                }
            }
        }
    }
}

/// The function `{% do EXPR %}` calls with EXPR (minijinja's `do` takes only a call).
pub const DO_FUNCTION: &str = "__py_do";

/// The function `left + right` becomes (see [`rewrite_percent`]).
pub const ADD_FUNCTION: &str = "__py_add";

/// The function `'…' % value` becomes (see [`rewrite_percent`]).
pub const PERCENT_FUNCTION: &str = "__py_percent";

/// `left % right` inside a tag → `__py_percent(left, right)`: minijinja's `%` is only a
/// modulo on numbers (and not Python's: `-7 % 3` is 2 in Python), Python's also formats
/// strings. The operands are what Jinja2's parser binds to `%`: on the left, the chain of
/// `*`, `/`, `//` and `%` operands before it (`%` is left-associative); on each side, an
/// operand is a unary sign, a primary (name, number, string, bracketed group) and its
/// `.name`, `[…]`, `(…)` and `|filter(…)` postfixes. One `%` is rewritten at a time, leftmost
/// first, so `a % b % c` becomes `__py_percent(__py_percent(a, b), c)`. `statement` says the
/// tag is a block tag, whose first name is its keyword (`if`, `set`, …), not an operand.
fn rewrite_percent(tag: &str, start_len: usize, end_len: usize, statement: bool) -> String {
    let tag = rewrite_operator(tag, start_len, end_len, statement, &PERCENT);
    rewrite_operator(&tag, start_len, end_len, statement, &PLUS)
}

/// A binary operator rewritten to a call, and what its operands extend over: the operators
/// that bind tighter (or as tight, on the left: all are left-associative).
struct Rewrite {
    operator: &'static str,
    function: &'static str,
    left: &'static [&'static str],
    right: &'static [&'static str],
}

const PERCENT: Rewrite = Rewrite {
    operator: "%",
    function: PERCENT_FUNCTION,
    left: &["*", "/", "//", "**"],
    right: &["**"],
};

/// `+` → `__py_add`: Python's `list + list` is a new list a template can change; minijinja's
/// is not. `~` binds tighter than `+` in Jinja2, and `-` as tight.
const PLUS: Rewrite = Rewrite {
    operator: "+",
    function: ADD_FUNCTION,
    left: &["*", "/", "//", "**", "~", "-"],
    right: &["*", "/", "//", "**", "~"],
};

fn rewrite_operator(
    tag: &str,
    start_len: usize,
    end_len: usize,
    statement: bool,
    rewrite: &Rewrite,
) -> String {
    let Some(inner_end) = tag.len().checked_sub(end_len).filter(|e| *e >= start_len) else {
        return tag.to_owned();
    };
    let inner = &tag[start_len..inner_end];
    if !inner.contains(rewrite.operator) {
        return tag.to_owned();
    }
    // Whitespace control (`{{-`, `+%}`) is not an operator.
    let head = match inner.as_bytes().first() {
        Some(b'-' | b'+') => 1,
        _ => 0,
    };
    let tail = match inner.as_bytes().last() {
        Some(b'-' | b'+') if inner.len() > head => inner.len() - 1,
        _ => inner.len(),
    };
    let mut body = inner[head..tail].to_owned();
    // Each pass removes one operator and adds none: bounded by the operator's signs in the tag.
    for _ in 0..body.matches(rewrite.operator).count() {
        let tokens = tokenize(&body);
        let Some((left, op, right)) = first_operator(&tokens, statement, rewrite) else {
            break;
        };
        let (l, o, r) = (tokens[left].start, tokens[op].start, tokens[right].end);
        body = format!(
            "{}{}({}, {}){}",
            &body[..l],
            rewrite.function,
            body[l..o].trim_end(),
            body[tokens[op].end..r].trim_start(),
            &body[r..]
        );
    }
    format!(
        "{}{}{body}{}{}",
        &tag[..start_len],
        &inner[..head],
        &inner[tail..],
        &tag[inner_end..]
    )
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TokenKind {
    Name,
    Literal,
    Open,
    Close,
    Operator,
}

#[derive(Debug)]
struct Token<'a> {
    kind: TokenKind,
    text: &'a str,
    start: usize,
    end: usize,
}

/// Jinja2's expression tokens, enough to find what `%` binds (strings and numbers are one
/// literal token each; unknown characters become one-character operators).
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let b = text.as_bytes();
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let (kind, end) = match c {
            c if c.is_whitespace() => continue,
            '"' | '\'' => (TokenKind::Literal, skip_string(b, i, c as u8)),
            c if c.is_ascii_digit() => {
                let mut j = i;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'.' || b[j] == b'_')
                {
                    // An exponent's sign belongs to the number (`1e+5`).
                    if matches!(b[j], b'e' | b'E') && matches!(b.get(j + 1), Some(b'+' | b'-')) {
                        j += 1;
                    }
                    j += 1;
                }
                (TokenKind::Literal, j)
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + c.len_utf8();
                while let Some(next) = text[j..].chars().next() {
                    if !(next.is_alphanumeric() || next == '_') {
                        break;
                    }
                    j += next.len_utf8();
                }
                (TokenKind::Name, j)
            }
            '(' | '[' | '{' => (TokenKind::Open, i + 1),
            ')' | ']' | '}' => (TokenKind::Close, i + 1),
            _ => {
                let two = text.get(i..i + 2).unwrap_or_default();
                let len = if ["**", "//", "==", "!=", "<=", ">="].contains(&two) {
                    2
                } else {
                    c.len_utf8()
                };
                (TokenKind::Operator, i + len)
            }
        };
        while chars.peek().is_some_and(|(j, _)| *j < end) {
            chars.next();
        }
        tokens.push(Token {
            kind,
            text: &text[i..end.min(text.len())],
            start: i,
            end: end.min(text.len()),
        });
    }
    tokens
}

/// Names that are Jinja2 keywords inside expressions, never operands.
const KEYWORDS: &[&str] = &["and", "or", "not", "in", "is", "if", "else"];

/// Whether token `i` ends a value (so a following `(`/`[` is a call or subscript, and a
/// following `-` is binary).
fn ends_value(tokens: &[Token<'_>], i: usize, statement: bool) -> bool {
    let t = &tokens[i];
    match t.kind {
        TokenKind::Literal | TokenKind::Close => true,
        TokenKind::Name => !(KEYWORDS.contains(&t.text) || (statement && i == 0)),
        _ => false,
    }
}

/// The first `%` operator with its left operand's first token and right operand's last.
fn first_operator(
    tokens: &[Token<'_>],
    statement: bool,
    rewrite: &Rewrite,
) -> Option<(usize, usize, usize)> {
    (0..tokens.len())
        .filter(|k| tokens[*k].kind == TokenKind::Operator && tokens[*k].text == rewrite.operator)
        .find_map(|k| {
            let left = left_operand(tokens, k, statement, rewrite.left)?;
            let right = right_operand(tokens, k + 1, rewrite.right)?;
            Some((left, k, right))
        })
}

fn left_operand(
    tokens: &[Token<'_>],
    op: usize,
    statement: bool,
    across: &[&str],
) -> Option<usize> {
    let mut end = op;
    loop {
        let mut i = end.checked_sub(1)?;
        if !ends_value(tokens, i, statement) {
            return None;
        }
        // A primary and its postfixes, walking back.
        loop {
            let t = &tokens[i];
            if t.kind == TokenKind::Close {
                let mut depth = 0i32;
                loop {
                    match tokens[i].kind {
                        TokenKind::Close => depth += 1,
                        TokenKind::Open => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                    i = i.checked_sub(1)?;
                }
                if i > 0 && ends_value(tokens, i - 1, statement) && tokens[i].text != "{" {
                    i -= 1;
                    continue;
                }
            } else if t.kind == TokenKind::Name
                && i >= 2
                && matches!(tokens[i - 1].text, "." | "|")
                && ends_value(tokens, i - 2, statement)
            {
                i -= 2;
                continue;
            }
            break;
        }
        while i > 0
            && matches!(tokens[i - 1].text, "-" | "+")
            && (i == 1 || !ends_value(tokens, i - 2, statement))
        {
            i -= 1;
        }
        match i.checked_sub(1).map(|p| tokens[p].text) {
            Some(op) if across.contains(&op) => end = i - 1,
            _ => return Some(i),
        }
    }
}

fn right_operand(tokens: &[Token<'_>], start: usize, across: &[&str]) -> Option<usize> {
    let mut i = start;
    while tokens.get(i)?.kind == TokenKind::Operator && matches!(tokens[i].text, "-" | "+") {
        i += 1;
    }
    let mut last = match tokens.get(i)?.kind {
        TokenKind::Literal => i,
        TokenKind::Name if !KEYWORDS.contains(&tokens[i].text) => i,
        TokenKind::Open => group_end(tokens, i)?,
        _ => return None,
    };
    loop {
        match tokens.get(last + 1) {
            Some(t) if t.kind == TokenKind::Open && t.text != "{" => {
                last = group_end(tokens, last + 1)?;
            }
            Some(t) if matches!(t.text, "." | "|") => {
                match tokens.get(last + 2) {
                    Some(n) if n.kind == TokenKind::Name || n.kind == TokenKind::Literal => {
                        last += 2;
                    }
                    _ => return Some(last),
                }
                // `|filter.name` (dotted filter names) are read by the `.` branch.
            }
            Some(t) if t.kind == TokenKind::Operator && across.contains(&t.text) => {
                last = right_operand(tokens, last + 2, across)?;
            }
            _ => return Some(last),
        }
    }
}

/// The closing token of the group opening at `open`.
fn group_end(tokens: &[Token<'_>], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (j, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            TokenKind::Open => depth += 1,
            TokenKind::Close => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// The end of the string literal opening at `i` with quote `q`.
fn skip_string(b: &[u8], i: usize, q: u8) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == b'\\' {
            j += 2;
            continue;
        }
        if b[j] == q {
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

/// The functions list and dict literals are wrapped in (see [`mutable_literals`]).
pub const LIST_FUNCTION: &str = "__py_list";
pub const DICT_FUNCTION: &str = "__py_dict";

/// `[…]` and `{…}` literals inside a tag → `__py_list([…])` and `__py_dict({…})`: minijinja's
/// own lists and maps cannot change, Python's can (`{% set deps = [] %}` then
/// `deps.append(x)`). A `[` is a literal unless it follows a value (a name, a closing bracket
/// or a string), where it is a subscript.
fn mutable_literals(tag: &str, start_len: usize, end_len: usize) -> String {
    let Some(inner_end) = tag.len().checked_sub(end_len).filter(|e| *e >= start_len) else {
        return tag.to_owned();
    };
    let inner = &tag[start_len..inner_end];
    if !inner.contains(['[', '{']) {
        return tag.to_owned();
    }
    let b = inner.as_bytes();
    let mut out = String::with_capacity(tag.len() + 32);
    out.push_str(&tag[..start_len]);
    // For each open bracket: whether its closing one also closes a wrapping call.
    let mut stack: Vec<bool> = Vec::new();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                i = skip_string(b, i, q);
                continue;
            }
            open @ (b'[' | b'{' | b'(') => {
                let literal = match open {
                    b'{' => true,
                    b'[' => !follows_value(&inner[..i]),
                    _ => false,
                };
                if literal {
                    out.push_str(&inner[copied..i]);
                    out.push_str(if open == b'[' {
                        LIST_FUNCTION
                    } else {
                        DICT_FUNCTION
                    });
                    out.push('(');
                    copied = i;
                }
                stack.push(literal);
            }
            b']' | b'}' | b')' => {
                let closes_call = stack.pop() == Some(true);
                if closes_call {
                    out.push_str(&inner[copied..=i]);
                    out.push(')');
                    copied = i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if !stack.is_empty() {
        // Unbalanced: leave the tag as written for minijinja to report.
        return tag.to_owned();
    }
    out.push_str(&inner[copied..]);
    out.push_str(&tag[inner_end..]);
    out
}

/// Whether the expression text before a `[` ends with a value (so the `[` subscripts it).
fn follows_value(before: &str) -> bool {
    let trimmed = before.trim_end();
    let Some(last) = trimmed.chars().last() else {
        return false;
    };
    if matches!(last, ')' | ']' | '}' | '"' | '\'') {
        return true;
    }
    if !(last.is_alphanumeric() || last == '_') {
        return false;
    }
    let word: String = trimmed
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    !matches!(
        word.as_str(),
        "in" | "if"
            | "else"
            | "elif"
            | "and"
            | "or"
            | "not"
            | "is"
            | "set"
            | "return"
            | "print"
            | "do"
    )
}

/// The filter `{% for %}` tags pass their iterable through (see [`wrap_loop_iterable`]).
pub const LOOP_ITERABLE_FILTER: &str = "__py_iterable";

/// `{% for x in EXPR … %}` → `{% for x in (EXPR)|__py_iterable … %}`: minijinja iterates a
/// string lazily, so `loop.length`, `loop.revindex` and `loop.last` are unknown there; Jinja2
/// knows them (it calls `len()`). The filter turns a string into its characters.
fn wrap_loop_iterable(tag: &str, start_len: usize, end_len: usize) -> Option<String> {
    let bytes = tag.as_bytes();
    let inner_end = tag.len().checked_sub(end_len)?;
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut i = start_len;
    while i < inner_end {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 1;
            } else if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' | b'\'' => quote = Some(b),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ if depth == 0 && (b.is_ascii_alphabetic() || b == b'_') => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let before_dot = start > 0 && bytes[start - 1] == b'.';
                if !before_dot {
                    words.push((start, i));
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    let word = |&(a, b): &(usize, usize)| &tag[a..b];
    let in_at = words.iter().position(|w| word(w) == "in")?;
    let expr_start = words[in_at].1;
    let expr_end = words[in_at + 1..]
        .iter()
        .find(|w| matches!(word(w), "if" | "recursive"))
        .map_or_else(
            || {
                // Up to the closing delimiter and its whitespace-control sign.
                let body = tag[..inner_end].trim_end();
                let body = body.strip_suffix(['-', '+']).map_or(body, str::trim_end);
                body.len()
            },
            |w| w.0,
        );
    if expr_end <= expr_start || tag[expr_start..expr_end].trim().is_empty() {
        return None;
    }
    Some(format!(
        "{} ({})|{LOOP_ITERABLE_FILTER} {}",
        &tag[..expr_start],
        tag[expr_start..expr_end].trim(),
        &tag[expr_end..]
    ))
}

/// A tag's text with every blank Jinja2's lexer skips (Python's `\s`, which is Unicode-aware:
/// U+00A0, U+2003, U+3000, …) outside string literals turned into a plain space, which is all
/// minijinja's lexer skips. Inside strings they stay.
fn push_ascii_blanks(out: &mut String, tag: &str) {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in tag.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            out.push(c);
            continue;
        }
        match c {
            '"' | '\'' => {
                quote = Some(c);
                out.push(c);
            }
            ' ' | '\t' | '\n' | '\r' => out.push(c),
            _ if py_is_space(c) => out.push(' '),
            _ => out.push(c),
        }
    }
}

/// Offset of `end` in `text`, skipping quoted strings.
fn find_tag_end(text: &str, end: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        if c == '"' || c == '\'' {
            quote = Some(c);
        } else if text[i..].starts_with(end) {
            return Some(i);
        }
    }
    None
}

fn find_endraw(text: &str, bs: &str, be: &str) -> Option<usize> {
    let mut offset = 0;
    while let Some(p) = text[offset..].find(bs) {
        let start = offset + p;
        let inner = &text[start + bs.len()..];
        let inner_trim = inner.trim_start_matches(['-', '+']).trim_start();
        if inner_trim.starts_with("endraw") {
            return find_tag_end(inner, be).map(|e| start + bs.len() + e + be.len());
        }
        offset = start + bs.len();
    }
    None
}

/// `'utc' + 'days=1', '%Y'` → `'utc', '+', 'days=1', '%Y'`: the parts cookiecutter's
/// `TimeExtension.parse` takes from the expression tree. jinja2_time's operator is marked
/// (`j+`): its offsets fail.
fn now_call_args(args: &str, jinja2_time: bool) -> String {
    let (expr, format) = split_top_level(args, ',');
    let format = format.map_or_else(|| "none".to_owned(), |f| format!("({})", f.trim()));
    let mark = if jinja2_time {
        now::JINJA2_TIME_MARK
    } else {
        ""
    };
    match last_top_level_operator(expr) {
        Some((at, op)) => format!(
            "({}), '{mark}{op}', ({}), {format}",
            expr[..at].trim(),
            expr[at + 1..].trim()
        ),
        None => format!("({}), none, none, {format}", expr.trim()),
    }
}

fn split_top_level(text: &str, sep: char) -> (&str, Option<&str>) {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ if c == sep && depth == 0 => return (&text[..i], Some(&text[i + 1..])),
            _ => {}
        }
    }
    (text, None)
}

fn last_top_level_operator(text: &str) -> Option<(usize, char)> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut found = None;
    let mut prev_significant: Option<char> = None;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
                prev_significant = Some(c);
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            // A binary operator follows an operand, not another operator.
            '+' | '-'
                if depth == 0
                    && prev_significant
                        .is_some_and(|p| !matches!(p, '+' | '-' | '*' | '/' | '(' | ',')) =>
            {
                found = Some((i, c));
            }
            _ => {}
        }
        if !c.is_whitespace() {
            prev_significant = Some(c);
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Filters and functions.

/// Binds positional and keyword arguments to Python parameter names, as a Python call would.
fn bind(args: &[Value], names: &[&str]) -> Result<Vec<Option<Value>>, Error> {
    let mut out = vec![None; names.len()];
    let (positional, kwargs) = match args.last() {
        Some(last) if last.is_kwargs() => (&args[..args.len() - 1], Some(last)),
        _ => (args, None),
    };
    if positional.len() > names.len() {
        return Err(Error::from(ErrorKind::TooManyArguments));
    }
    for (slot, value) in out.iter_mut().zip(positional) {
        *slot = Some(value.clone());
    }
    if let Some(kwargs) = kwargs {
        for (key, value) in map_entries(kwargs) {
            let key = key.as_str().unwrap_or_default();
            let Some(i) = names.iter().position(|n| *n == key) else {
                return Err(Error::new(
                    ErrorKind::TooManyArguments,
                    format!("unexpected keyword argument '{key}'"),
                ));
            };
            if out[i].is_some() {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("got multiple values for argument '{key}'"),
                ));
            }
            out[i] = Some(value);
        }
    }
    Ok(out)
}

fn text_of(value: &Value) -> String {
    py_str(value)
}

fn int_arg(value: Option<&Value>, default: i64) -> Result<i64, Error> {
    match value {
        None => Ok(default),
        Some(v) if v.is_none() => Ok(default),
        Some(v) => i64::try_from(v.clone()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("expected an integer, got {}", py_str(v)),
            )
        }),
    }
}

fn bool_arg(value: Option<&Value>, default: bool) -> bool {
    value.map_or(default, Value::is_true)
}

fn register_filters(env: &mut Environment<'static>) {
    env.add_filter(
        "jsonify",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<String, Error> {
            let a = bind(&args.into_values(), &["indent"])?;
            json_filter(&value, a[0].as_ref(), 4)
        },
    );
    env.add_filter(
        "tojson",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<Value, Error> {
            let a = bind(&args.into_values(), &["indent"])?;
            let text = json_filter(&value, a[0].as_ref(), -1)?;
            let text = text
                .replace('<', "\\u003c")
                .replace('>', "\\u003e")
                .replace('&', "\\u0026")
                .replace('\'', "\\u0027");
            Ok(Value::from_safe_string(text))
        },
    );
    env.add_filter("slugify", slugify_filter);
    env.add_filter(
        "int",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<Value, Error> {
            let a = bind(&args.into_values(), &["default", "base"])?;
            let default = a[0].clone().unwrap_or(Value::from(0));
            let base = u32::try_from(int_arg(a[1].as_ref(), 10)?).unwrap_or(10);
            Ok(jinja_int(&value, base).map_or(default, Value::from))
        },
    );
    env.add_filter(
        "float",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<Value, Error> {
            let a = bind(&args.into_values(), &["default"])?;
            let default = a[0].clone().unwrap_or(Value::from(0.0));
            Ok(py_float(&value).map_or(default, Value::from))
        },
    );
    env.add_filter(
        "dictsort",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<Value, Error> {
            let a = bind(&args.into_values(), &["case_sensitive", "by", "reverse"])?;
            let case_sensitive = bool_arg(a[0].as_ref(), false);
            let by_value = match a[1].as_ref().map(text_of).as_deref() {
                None | Some("key") => false,
                Some("value") => true,
                Some(other) => {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("You can only sort by either \"key\" or \"value\", not {other:?}"),
                    ));
                }
            };
            let mut entries = map_entries(&value);
            let key = |entry: &(Value, Value)| {
                let v = if by_value { &entry.1 } else { &entry.0 };
                match v.as_str() {
                    Some(s) if !case_sensitive => Value::from(s.to_lowercase()),
                    _ => v.clone(),
                }
            };
            entries.sort_by(|x, y| crate::value::py_cmp(&key(x), &key(y)));
            if bool_arg(a[2].as_ref(), false) {
                entries.reverse();
            }
            Ok(PyList::value(
                entries
                    .into_iter()
                    .map(|(k, v)| PyTuple::value(vec![k, v]))
                    .collect::<Vec<_>>(),
            ))
        },
    );
    // Jinja2's `list`, `sort` and `groupby` return new Python lists, which a template can
    // change (`{% set xs = items|list %}{{ xs.append(1) or '' }}`): minijinja's, wrapped.
    env.add_filter("list", |state: &State, value: Value| {
        minijinja::filters::list(state, value).and_then(|v| new_list(&v))
    });
    env.add_filter(
        "sort",
        |state: &State, value: Value, kwargs: minijinja::value::Kwargs| {
            minijinja::filters::sort(state, value, kwargs).and_then(|v| new_list(&v))
        },
    );
    env.add_filter(
        "groupby",
        |value: Value, attribute: Option<&str>, kwargs: minijinja::value::Kwargs| {
            minijinja::filters::groupby(value, attribute, kwargs).and_then(|v| new_list(&v))
        },
    );
    env.add_filter("items", |value: Value| -> Result<Value, Error> {
        if value.is_undefined() {
            return Ok(Value::from(Vec::<Value>::new()));
        }
        if value.kind() != ValueKind::Map {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "Can only get item pairs from a mapping.",
            ));
        }
        Ok(items_of(&value))
    });
    env.add_filter(
        "filesizeformat",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<String, Error> {
            let a = bind(&args.into_values(), &["binary"])?;
            let bytes = py_float(&value).ok_or_else(|| {
                Error::new(ErrorKind::InvalidOperation, "filesizeformat needs a number")
            })?;
            Ok(filesizeformat(bytes, bool_arg(a[0].as_ref(), false)))
        },
    );
    env.add_filter("striptags", |value: Value| {
        minijinja_contrib::filters::striptags(text_of(&value))
    });
    env.add_filter("urlencode", |value: Value| -> String {
        if value.kind() == ValueKind::Map {
            return map_entries(&value)
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        url_quote(&text_of(k), true),
                        url_quote(&text_of(v), true)
                    )
                })
                .collect::<Vec<_>>()
                .join("&");
        }
        url_quote(&text_of(&value), false)
    });
    // Jinja2's `sequence` test asks for `len()` and indexing: strings and dicts pass.
    env.add_test("sequence", |value: Value| {
        matches!(
            value.kind(),
            ValueKind::String | ValueKind::Seq | ValueKind::Map
        )
    });
    env.add_filter("string", |value: Value| py_str(&value));
    env.add_filter(
        "join",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<String, Error> {
            let a = bind(&args.into_values(), &["d", "attribute"])?;
            let sep = a[0].as_ref().map(text_of).unwrap_or_default();
            let attribute = a[1].as_ref().map(text_of);
            if value.kind() == ValueKind::String {
                let s = text_of(&value);
                return Ok(s.chars().map(String::from).collect::<Vec<_>>().join(&sep));
            }
            let mut parts = Vec::new();
            for item in value.try_iter()? {
                let item = match &attribute {
                    Some(attr) => attr_path(&item, attr)?,
                    None => item,
                };
                parts.push(py_str(&item));
            }
            Ok(parts.join(&sep))
        },
    );
    env.add_filter("title", |value: Value| jinja_title(&text_of(&value)));
    env.add_filter("capitalize", |value: Value| py_capitalize(&text_of(&value)));
    env.add_filter(
        "center",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<String, Error> {
            let a = bind(&args.into_values(), &["width"])?;
            Ok(py_center(
                &text_of(&value),
                int_arg(a[0].as_ref(), 80)?,
                ' ',
            ))
        },
    );
    env.add_filter("wordcount", |value: Value| {
        let s = text_of(&value);
        let mut count = 0;
        let mut in_word = false;
        for c in s.chars() {
            let word = c.is_alphanumeric() || c == '_';
            if word && !in_word {
                count += 1;
            }
            in_word = word;
        }
        count
    });
    env.add_filter(
        "truncate",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<String, Error> {
            let a = bind(
                &args.into_values(),
                &["length", "killwords", "end", "leeway"],
            )?;
            let s: Vec<char> = text_of(&value).chars().collect();
            let length = usize::try_from(int_arg(a[0].as_ref(), 255)?).unwrap_or(0);
            let killwords = bool_arg(a[1].as_ref(), false);
            let end = a[2].as_ref().map_or_else(|| "...".to_owned(), text_of);
            let leeway = usize::try_from(int_arg(a[3].as_ref(), 5)?).unwrap_or(0);
            let end_len = end.chars().count();
            if length < end_len {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "expected length >= len(end)",
                ));
            }
            if s.len() <= length + leeway {
                return Ok(s.into_iter().collect());
            }
            let head: String = s[..length - end_len].iter().collect();
            if killwords {
                return Ok(head + &end);
            }
            let kept = head
                .rsplit_once(' ')
                .map_or(head.as_str(), |(k, _)| k)
                .to_owned();
            Ok(kept + &end)
        },
    );
    env.add_filter(
        "indent",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<String, Error> {
            let a = bind(&args.into_values(), &["width", "first", "blank"])?;
            let indention = match &a[0] {
                Some(w) if w.kind() == ValueKind::String => text_of(w),
                other => " ".repeat(usize::try_from(int_arg(other.as_ref(), 4)?).unwrap_or(0)),
            };
            let first = bool_arg(a[1].as_ref(), false);
            let blank = bool_arg(a[2].as_ref(), false);
            let mut s = text_of(&value);
            s.push('\n');
            let lines = py_splitlines(&s);
            let mut rv = if blank {
                lines.join(&format!("\n{indention}"))
            } else {
                let mut iter = lines.into_iter();
                let mut rv = iter.next().unwrap_or_default().to_owned();
                let rest: Vec<String> = iter
                    .map(|l| {
                        if l.is_empty() {
                            String::new()
                        } else {
                            format!("{indention}{l}")
                        }
                    })
                    .collect();
                if !rest.is_empty() {
                    rv.push('\n');
                    rv.push_str(&rest.join("\n"));
                }
                rv
            };
            if first {
                rv = format!("{indention}{rv}");
            }
            Ok(rv)
        },
    );
    env.add_filter(
        "trim",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<String, Error> {
            let a = bind(&args.into_values(), &["chars"])?;
            let s = text_of(&value);
            Ok(py_strip(
                &s,
                a[0].as_ref()
                    .filter(|v| !v.is_none())
                    .map(text_of)
                    .as_deref(),
                true,
                true,
            ))
        },
    );
    env.add_filter(
        "replace",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<String, Error> {
            let a = bind(&args.into_values(), &["old", "new", "count"])?;
            let s = text_of(&value);
            let old = a[0].as_ref().map(text_of).unwrap_or_default();
            let new = a[1].as_ref().map(text_of).unwrap_or_default();
            let count = a[2]
                .as_ref()
                .filter(|v| !v.is_none())
                .map(|v| int_arg(Some(v), -1))
                .transpose()?;
            Ok(py_replace(&s, &old, &new, count.unwrap_or(-1)))
        },
    );
    let escape = |value: Value| -> Value {
        if value.is_safe() {
            return value;
        }
        Value::from_safe_string(html_escape(&text_of(&value)))
    };
    env.add_filter("escape", escape);
    env.add_filter("e", escape);
    env.add_filter("forceescape", move |value: Value| {
        escape(Value::from(text_of(&value)))
    });
    env.add_filter("random", random_item);
    env.add_filter("pprint", |value: Value| crate::pprint::pformat(&value));
    env.add_filter(
        "urlize",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<String, Error> {
            let a = bind(
                &args.into_values(),
                &[
                    "trim_url_limit",
                    "nofollow",
                    "target",
                    "rel",
                    "extra_schemes",
                ],
            )?;
            let trim_url_limit = a[0]
                .as_ref()
                .filter(|v| !v.is_none())
                .map(|v| int_arg(Some(v), 0))
                .transpose()?
                .map(|n| usize::try_from(n).unwrap_or(0));
            // `rel` words, `nofollow`, and the policy's `noopener`, sorted and deduplicated.
            let mut rel: Vec<String> = a[3]
                .as_ref()
                .filter(|v| !v.is_none())
                .map(text_of)
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            if bool_arg(a[1].as_ref(), false) {
                rel.push("nofollow".into());
            }
            rel.push("noopener".into());
            rel.sort();
            rel.dedup();
            let mut extra_schemes = Vec::new();
            if let Some(schemes) = a[4].as_ref().filter(|v| !v.is_none()) {
                for scheme in schemes.try_iter()? {
                    let scheme = text_of(&scheme);
                    // `^([\w.+-]{2,}:(/){0,2})$`
                    let valid = scheme.split_once(':').is_some_and(|(name, slashes)| {
                        name.chars().count() >= 2
                            && name
                                .chars()
                                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '+' | '-'))
                            && slashes.len() <= 2
                            && slashes.chars().all(|c| c == '/')
                    });
                    if !valid {
                        return Err(Error::new(
                            ErrorKind::InvalidOperation,
                            format!(
                                "{} is not a valid URI scheme prefix.",
                                crate::value::py_repr(&Value::from(scheme))
                            ),
                        ));
                    }
                    extra_schemes.push(scheme);
                }
            }
            let options = crate::urlize::Options {
                trim_url_limit,
                rel: Some(rel.join(" ")),
                target: a[2].as_ref().filter(|v| !v.is_none()).map(text_of),
                extra_schemes,
            };
            Ok(crate::urlize::urlize(
                &text_of(&value),
                &options,
                html_escape,
            ))
        },
    );
    env.add_filter(
        "wordwrap",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<String, Error> {
            let a = bind(
                &args.into_values(),
                &[
                    "width",
                    "break_long_words",
                    "wrapstring",
                    "break_on_hyphens",
                ],
            )?;
            let width = int_arg(a[0].as_ref(), 79)?;
            let width = usize::try_from(width)
                .ok()
                .filter(|w| *w > 0)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("invalid width {width} (must be > 0)"),
                    )
                })?;
            let wrapstring = a[2]
                .as_ref()
                .filter(|v| !v.is_none())
                .map_or_else(|| "\n".to_owned(), text_of);
            let long = bool_arg(a[1].as_ref(), true);
            let hyphens = bool_arg(a[3].as_ref(), true);
            Ok(py_splitlines(&text_of(&value))
                .into_iter()
                .map(|line| crate::textwrap::wrap(line, width, long, hyphens).join(&wrapstring))
                .collect::<Vec<_>>()
                .join(&wrapstring))
        },
    );
    env.add_filter(LOOP_ITERABLE_FILTER, |value: Value| -> Value {
        match value.as_str() {
            Some(s) => Value::from(s.chars().map(Value::from).collect::<Vec<_>>()),
            None => value,
        }
    });
    env.add_filter(
        "xmlattr",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<Value, Error> {
            let a = bind(&args.into_values(), &["autospace"])?;
            let mut items = Vec::new();
            for (key, v) in map_entries(&value) {
                if v.is_none() || v.is_undefined() {
                    continue;
                }
                let key = text_of(&key);
                if key.chars().any(|c| {
                    matches!(
                        c,
                        ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}' | '/' | '>' | '='
                    )
                }) {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!(
                            "Invalid character in attribute name: {}",
                            crate::value::py_repr(&Value::from(key))
                        ),
                    ));
                }
                items.push(format!(
                    "{}=\"{}\"",
                    html_escape(&key),
                    html_escape(&text_of(&v))
                ));
            }
            let mut rv = items.join(" ");
            if bool_arg(a[0].as_ref(), true) && !rv.is_empty() {
                rv.insert(0, ' ');
            }
            Ok(Value::from(rv))
        },
    );
    // Jinja2 has `callable`; minijinja's extras (filters `bool`, `split`, `lines`, `chain`,
    // `zip`; tests `startingwith`, `endingwith`, `int`, `safe`; the `debug` function) are not
    // Jinja2's: a template using them fails in cookiecutter, so it fails here.
    // Functions are minijinja's plain objects; a macro shows as a map of exactly `name`,
    // `arguments` and `caller`.
    env.add_test("callable", |value: Value| {
        value.kind() == ValueKind::Plain
            || value.kind() == ValueKind::Map
                && value
                    .downcast_object_ref::<crate::value::PyDict>()
                    .is_none()
                && value
                    .try_iter()
                    .is_ok_and(|keys| keys.map(|k| py_str(&k)).eq(["name", "arguments", "caller"]))
    });
    for name in ["bool", "split", "lines", "chain", "zip"] {
        env.remove_filter(name);
    }
    for name in ["startingwith", "endingwith", "int", "safe"] {
        env.remove_test(name);
    }
    env.remove_global("debug");
    env.add_filter(
        "format",
        |value: Value, args: Rest<ValueOrKwargs>| -> Result<String, Error> {
            crate::printf::percent_format(&text_of(&value), &args.into_values())
        },
    );
}

/// markupsafe's `escape`.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Jinja2's `random`: `random.choice(seq)`; an empty sequence gives an undefined value.
fn random_item(value: Value) -> Result<Value, Error> {
    let items: Vec<Value> = if let Some(s) = value.as_str() {
        s.chars().map(Value::from).collect()
    } else if value.kind() == ValueKind::Seq {
        value.try_iter()?.collect()
    } else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("object of type {} has no len()", value.kind()),
        ));
    };
    let Ok(len) = u64::try_from(items.len()) else {
        return Ok(Value::UNDEFINED);
    };
    if len == 0 {
        return Ok(Value::UNDEFINED);
    }
    let mut buf = [0u8; 8];
    crate::chance::fill(&mut buf)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    // The modulo bias over 2^64 is far below anything a template could notice.
    let at = usize::try_from(u64::from_le_bytes(buf) % len).unwrap_or(0);
    Ok(items[at].clone())
}

/// Jinja2's attribute paths (`attribute='a.0.b'`): dotted names, digits index.
fn attr_path(item: &Value, path: &str) -> Result<Value, Error> {
    let mut current = item.clone();
    for part in path.split('.') {
        current = match part.parse::<i64>() {
            Ok(i) => current.get_item(&Value::from(i))?,
            Err(_) => current.get_attr(part)?,
        };
    }
    Ok(current)
}

/// `json.dumps(value, sort_keys=True, indent=...)`; a negative `default` means no indent.
fn json_filter(value: &Value, indent: Option<&Value>, default: i64) -> Result<String, Error> {
    let indent = match indent {
        None if default < 0 => JsonIndent::None,
        None => JsonIndent::Text(" ".repeat(usize::try_from(default).unwrap_or(0))),
        Some(v) if v.is_none() => JsonIndent::None,
        Some(v) if v.kind() == ValueKind::String => JsonIndent::Text(text_of(v)),
        Some(v) => JsonIndent::Text(" ".repeat(usize::try_from(int_arg(Some(v), 0)?).unwrap_or(0))),
    };
    json_dumps(value, &indent, true)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

fn slugify_filter(value: Value, args: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let a = bind(
        &args.into_values(),
        &[
            "entities",
            "decimal",
            "hexadecimal",
            "max_length",
            "word_boundary",
            "separator",
            "save_order",
            "stopwords",
            "regex_pattern",
            "lowercase",
            "replacements",
            "allow_unicode",
        ],
    )?;
    let Some(text) = value.as_str() else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("slugify needs text, got {}", py_str(&value)),
        ));
    };
    let list = |v: Option<&Value>| -> Result<Vec<Value>, Error> {
        match v {
            None => Ok(Vec::new()),
            Some(v) if v.is_none() => Ok(Vec::new()),
            Some(v) => Ok(v.try_iter()?.collect()),
        }
    };
    let mut replacements = Vec::new();
    for pair in list(a[10].as_ref())? {
        let items: Vec<Value> = pair.try_iter()?.collect();
        if items.len() != 2 {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "each replacement must be a pair",
            ));
        }
        replacements.push((text_of(&items[0]), text_of(&items[1])));
    }
    let options = SlugifyOptions {
        entities: bool_arg(a[0].as_ref(), true),
        decimal: bool_arg(a[1].as_ref(), true),
        hexadecimal: bool_arg(a[2].as_ref(), true),
        max_length: int_arg(a[3].as_ref(), 0)?,
        word_boundary: bool_arg(a[4].as_ref(), false),
        separator: a[5].as_ref().map_or_else(|| "-".to_owned(), text_of),
        save_order: bool_arg(a[6].as_ref(), false),
        stopwords: list(a[7].as_ref())?.iter().map(text_of).collect(),
        regex_pattern: a[8].as_ref().filter(|v| !v.is_none()).map(text_of),
        lowercase: bool_arg(a[9].as_ref(), true),
        replacements,
        allow_unicode: bool_arg(a[11].as_ref(), false),
    };
    slugify(text, &options).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

fn random_ascii_string(args: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let a = bind(&args.into_values(), &["length", "punctuation"])?;
    let Some(length) = a[0].as_ref() else {
        return Err(Error::new(
            ErrorKind::MissingArgument,
            "random_ascii_string() missing 1 required positional argument: 'length'",
        ));
    };
    let length = usize::try_from(int_arg(Some(length), 0)?).unwrap_or(0);
    let mut corpus: Vec<u8> = (b'a'..=b'z').chain(b'A'..=b'Z').collect();
    if bool_arg(a[1].as_ref(), false) {
        corpus.extend_from_slice(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
    }
    let mut out = String::with_capacity(length);
    let mut buf = [0u8; 4];
    for _ in 0..length {
        // Rejection sampling keeps every character equally likely, as `secrets.choice` does.
        let size = u32::try_from(corpus.len()).expect("the corpus has under 100 characters");
        let limit = u32::MAX - (u32::MAX % size);
        loop {
            crate::chance::fill(&mut buf)
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
            let n = u32::from_le_bytes(buf);
            if n < limit {
                out.push(char::from(corpus[(n % size) as usize]));
                break;
            }
        }
    }
    Ok(out)
}

fn uuid4() -> Result<String, Error> {
    let mut b = [0u8; 16];
    crate::chance::fill(&mut b)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut hex = String::with_capacity(32);
    for x in b {
        let _ = write!(hex, "{x:02x}");
    }
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// String methods with Python's semantics where minijinja-contrib's differ; the rest are
/// minijinja-contrib's `pycompat` ones.
fn python_methods(
    state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    if let Some(answer) = value
        .as_str()
        .and_then(|s| crate::pystr::str_method(s, method, args))
    {
        return answer;
    }
    if method == "format_map"
        && value.kind() == ValueKind::String
        && let [mapping] = args
    {
        // `s.format_map(m)` is `s.format(**m)`.
        let kwargs: minijinja::value::Kwargs = map_entries(mapping)
            .into_iter()
            .map(|(k, v)| (py_str(&k), v))
            .collect();
        return minijinja_contrib::pycompat::unknown_method_callback(
            state,
            value,
            "format",
            &[Value::from(kwargs)],
        );
    }
    if value.kind() == ValueKind::Bytes
        && let Some(answer) = value
            .as_bytes()
            .and_then(|b| crate::pystr::bytes_method(b, method, args))
    {
        return answer;
    }
    if let Some(s) = value.as_str() {
        match method {
            "title" => return Ok(Value::from(py_title(s))),
            "capitalize" => return Ok(Value::from(py_capitalize(s))),
            "strip" | "lstrip" | "rstrip" => {
                let a = bind(args, &["chars"])?;
                let chars = a[0].as_ref().filter(|v| !v.is_none()).map(text_of);
                return Ok(Value::from(py_strip(
                    s,
                    chars.as_deref(),
                    method != "rstrip",
                    method != "lstrip",
                )));
            }
            "replace" => {
                let a = bind(args, &["old", "new", "count"])?;
                let old = a[0].as_ref().map(text_of).unwrap_or_default();
                let new = a[1].as_ref().map(text_of).unwrap_or_default();
                let count = int_arg(a[2].as_ref(), -1)?;
                return Ok(Value::from(py_replace(s, &old, &new, count)));
            }
            "center" | "ljust" | "rjust" => {
                let a = bind(args, &["width", "fillchar"])?;
                let width = int_arg(a[0].as_ref(), 0)?;
                let fill = a[1]
                    .as_ref()
                    .map(text_of)
                    .and_then(|f| f.chars().next())
                    .unwrap_or(' ');
                let len = i64::try_from(s.chars().count()).unwrap_or(i64::MAX);
                let pad = usize::try_from(width - len).unwrap_or(0);
                let padding = fill.to_string().repeat(pad);
                return Ok(Value::from(match method {
                    "center" => py_center(s, width, fill),
                    "ljust" => format!("{s}{padding}"),
                    _ => format!("{padding}{s}"),
                }));
            }
            "zfill" => {
                let a = bind(args, &["width"])?;
                let width = usize::try_from(int_arg(a[0].as_ref(), 0)?).unwrap_or(0);
                let len = s.chars().count();
                if len >= width {
                    return Ok(Value::from(s));
                }
                let (sign, digits) = match s.chars().next() {
                    Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
                    _ => (String::new(), s),
                };
                return Ok(Value::from(format!(
                    "{sign}{}{digits}",
                    "0".repeat(width - len)
                )));
            }
            "split" => {
                let a = bind(args, &["sep", "maxsplit"])?;
                let sep = a[0].as_ref().filter(|v| !v.is_none()).map(text_of);
                if sep.as_deref() == Some("") {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "ValueError: empty separator",
                    ));
                }
                let max = int_arg(a[1].as_ref(), -1)?;
                return Ok(PyList::value(py_split(s, sep.as_deref(), max)));
            }
            "partition" | "rpartition" => {
                let a = bind(args, &["sep"])?;
                let sep = a[0].as_ref().map(text_of).unwrap_or_default();
                if sep.is_empty() {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "ValueError: empty separator",
                    ));
                }
                let found = if method == "partition" {
                    s.find(&sep)
                } else {
                    s.rfind(&sep)
                };
                let parts = match found {
                    Some(at) => [&s[..at], sep.as_str(), &s[at + sep.len()..]],
                    None if method == "partition" => [s, "", ""],
                    None => ["", "", s],
                };
                return Ok(PyTuple::value(
                    parts.iter().map(|p| Value::from(*p)).collect(),
                ));
            }
            "index" | "rindex" => {
                let a = bind(args, &["sub"])?;
                let sub = a[0].as_ref().map(text_of).unwrap_or_default();
                let found = if method == "index" {
                    s.find(&sub)
                } else {
                    s.rfind(&sub)
                };
                return found
                    .map(|at| Value::from(s[..at].chars().count()))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidOperation,
                            "ValueError: substring not found",
                        )
                    });
            }
            "removeprefix" | "removesuffix" => {
                let a = bind(args, &["affix"])?;
                let affix = a[0].as_ref().map(text_of).unwrap_or_default();
                let kept = if method == "removeprefix" {
                    s.strip_prefix(affix.as_str())
                } else {
                    s.strip_suffix(affix.as_str())
                };
                return Ok(Value::from(kept.unwrap_or(s)));
            }
            "expandtabs" => {
                let a = bind(args, &["tabsize"])?;
                let size = usize::try_from(int_arg(a[0].as_ref(), 8)?).unwrap_or(0);
                let mut out = String::with_capacity(s.len());
                let mut column = 0;
                for c in s.chars() {
                    match c {
                        '\t' => {
                            if size > 0 {
                                let pad = size - column % size;
                                out.push_str(&" ".repeat(pad));
                                column += pad;
                            }
                        }
                        '\n' | '\r' => {
                            out.push(c);
                            column = 0;
                        }
                        _ => {
                            out.push(c);
                            column += 1;
                        }
                    }
                }
                return Ok(Value::from(out));
            }
            "splitlines" => {
                let a = bind(args, &["keepends"])?;
                let keep = bool_arg(a[0].as_ref(), false);
                return Ok(PyList::value(
                    split_lines(s, keep).into_iter().map(Value::from).collect(),
                ));
            }
            "swapcase" => {
                return Ok(Value::from(
                    s.chars()
                        .map(|c| {
                            if c.is_uppercase() {
                                c.to_lowercase().collect::<String>()
                            } else {
                                c.to_uppercase().collect()
                            }
                        })
                        .collect::<String>(),
                ));
            }
            _ => {}
        }
    }
    if value.kind() == ValueKind::Map && args.is_empty() {
        let kind = match method {
            "keys" => Some(ViewKind::Keys),
            "values" => Some(ViewKind::Values),
            "items" => Some(ViewKind::Items),
            _ => None,
        };
        if let Some(kind) = kind {
            return Ok(PyDictView::value(value.clone(), kind));
        }
    }
    if value.kind() == ValueKind::Seq {
        let items: Vec<Value> = value.try_iter()?.collect();
        match (method, args) {
            ("index", [needle]) => {
                return items
                    .iter()
                    .position(|v| v == needle)
                    .map(Value::from)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidOperation,
                            format!("{} is not in list", crate::value::py_repr(needle)),
                        )
                    });
            }
            ("count", [needle]) => {
                return Ok(Value::from(items.iter().filter(|v| *v == needle).count()));
            }
            _ => {}
        }
    }
    if let Some(s) = value.as_str()
        && method == "rsplit"
    {
        let a = bind(args, &["sep", "maxsplit"])?;
        let sep = a[0].as_ref().filter(|v| !v.is_none()).map(text_of);
        let max = int_arg(a[1].as_ref(), -1)?;
        return Ok(PyList::value(py_rsplit(s, sep.as_deref(), max)));
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}

/// A new Python list holding the items of `value` (what `list(value)` makes).
fn new_list(value: &Value) -> Result<Value, Error> {
    Ok(PyList::value(value.try_iter()?.collect()))
}

/// `dict.items()`: (key, value) tuples in order.
fn items_of(value: &Value) -> Value {
    Value::from(
        map_entries(value)
            .into_iter()
            .map(|(k, v)| PyTuple::value(vec![k, v]))
            .collect::<Vec<_>>(),
    )
}

/// Python's `str.split(sep, maxsplit)`.
fn py_split(s: &str, sep: Option<&str>, max: i64) -> Vec<Value> {
    let limit = usize::try_from(max).ok();
    let mut parts: Vec<&str> = Vec::new();
    if let Some(sep) = sep {
        let mut rest = s;
        while limit.is_none_or(|l| parts.len() < l)
            && let Some(at) = rest.find(sep)
        {
            parts.push(&rest[..at]);
            rest = &rest[at + sep.len()..];
        }
        parts.push(rest);
    } else {
        let mut rest = s.trim_start_matches(py_is_space);
        while !rest.is_empty() && limit.is_none_or(|l| parts.len() < l) {
            let at = rest.find(py_is_space).unwrap_or(rest.len());
            parts.push(&rest[..at]);
            rest = rest[at..].trim_start_matches(py_is_space);
        }
        if !rest.is_empty() {
            parts.push(rest);
        }
    }
    parts.into_iter().map(Value::from).collect()
}

/// Python's `str.rsplit(sep, maxsplit)`.
fn py_rsplit(s: &str, sep: Option<&str>, max: i64) -> Vec<Value> {
    let limit = usize::try_from(max).ok();
    let mut parts: Vec<String> = Vec::new();
    match sep {
        Some(sep) if !sep.is_empty() => {
            let mut rest = s;
            while limit.is_none_or(|l| parts.len() < l) {
                match rest.rfind(sep) {
                    Some(at) => {
                        parts.push(rest[at + sep.len()..].to_owned());
                        rest = &rest[..at];
                    }
                    None => break,
                }
            }
            parts.push(rest.to_owned());
        }
        _ => {
            let mut rest = s.trim_end_matches(py_is_space);
            while !rest.is_empty() && limit.is_none_or(|l| parts.len() < l) {
                if let Some(at) = rest.rfind(py_is_space) {
                    let c = rest[at..].chars().next().map_or(1, char::len_utf8);
                    parts.push(rest[at + c..].to_owned());
                    rest = rest[..at].trim_end_matches(py_is_space);
                } else {
                    parts.push(rest.to_owned());
                    rest = "";
                }
            }
            if !rest.is_empty() {
                parts.push(rest.to_owned());
            }
        }
    }
    parts.reverse();
    parts.into_iter().map(Value::from).collect()
}

/// Jinja2's `int` filter: `int(value)` (strings in `base`), else `int(float(value))`.
fn jinja_int(value: &Value, base: u32) -> Option<i128> {
    if let Some(s) = value.as_str() {
        let t = s.trim().replace('_', "");
        let (neg, digits) = match t.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, t.strip_prefix('+').unwrap_or(&t)),
        };
        let digits = match base {
            16 => digits
                .strip_prefix("0x")
                .or_else(|| digits.strip_prefix("0X"))
                .unwrap_or(digits),
            8 => digits
                .strip_prefix("0o")
                .or_else(|| digits.strip_prefix("0O"))
                .unwrap_or(digits),
            2 => digits
                .strip_prefix("0b")
                .or_else(|| digits.strip_prefix("0B"))
                .unwrap_or(digits),
            _ => digits,
        };
        if let Ok(n) = i128::from_str_radix(digits, base) {
            return Some(if neg { -n } else { n });
        }
        #[allow(clippy::cast_possible_truncation)] // Python truncates toward zero too
        return py_float(value)
            .filter(|f| f.is_finite())
            .map(|f| f.trunc() as i128);
    }
    match value.kind() {
        ValueKind::Bool => Some(i128::from(value.is_true())),
        ValueKind::Number => {
            if value.is_integer() {
                i128::try_from(value.clone()).ok()
            } else {
                #[allow(clippy::cast_possible_truncation)] // Python truncates toward zero too
                f64::try_from(value.clone())
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i128)
            }
        }
        _ => None,
    }
}

/// Python's `float(value)` for the values templates pass.
fn py_float(value: &Value) -> Option<f64> {
    if let Some(s) = value.as_str() {
        let t = s.trim().replace('_', "").to_lowercase();
        return match t.as_str() {
            "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
            "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
            "nan" | "+nan" | "-nan" => Some(f64::NAN),
            _ => t.parse().ok(),
        };
    }
    match value.kind() {
        ValueKind::Bool => Some(if value.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(value.clone()).ok(),
        _ => None,
    }
}

/// Jinja2's `filesizeformat`.
fn filesizeformat(bytes: f64, binary: bool) -> String {
    let base: f64 = if binary { 1024.0 } else { 1000.0 };
    let prefixes = if binary {
        ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    } else {
        ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    };
    if (bytes - 1.0).abs() < f64::EPSILON {
        return "1 Byte".to_owned();
    }
    if bytes < base {
        #[allow(clippy::cast_possible_truncation)] // Python truncates toward zero too
        return format!("{} Bytes", bytes.trunc() as i64);
    }
    let mut unit = base;
    for (i, prefix) in prefixes.iter().enumerate() {
        unit = base.powi(i32::try_from(i).unwrap_or(0) + 2);
        if bytes < unit {
            return format!("{:.1} {prefix}", base * bytes / unit);
        }
    }
    format!(
        "{:.1} {}",
        base * bytes / unit,
        prefixes[prefixes.len() - 1]
    )
}

/// Jinja2's `url_quote`: percent-encoding of UTF-8 bytes, `/` kept except in query strings
/// (where spaces become `+`).
fn url_quote(text: &str, for_qs: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'_' | b'.' | b'-' | b'~')
            || (!for_qs && b == b'/')
        {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    if for_qs { out.replace("%20", "+") } else { out }
}

// ---------------------------------------------------------------------------------------------
// Python string semantics.

/// Python's `str.isspace()` for one character.
pub fn py_is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn py_strip(s: &str, chars: Option<&str>, left: bool, right: bool) -> String {
    let matches = |c: char| match chars {
        Some(set) => set.contains(c),
        None => py_is_space(c),
    };
    let mut out = s;
    if left {
        out = out.trim_start_matches(matches);
    }
    if right {
        out = out.trim_end_matches(matches);
    }
    out.to_owned()
}

fn py_replace(s: &str, old: &str, new: &str, count: i64) -> String {
    let limit = usize::try_from(count).ok();
    if old.is_empty() {
        let mut out = String::new();
        let mut done = 0;
        for c in s.chars() {
            if limit.is_none_or(|l| done < l) {
                out.push_str(new);
                done += 1;
            }
            out.push(c);
        }
        if limit.is_none_or(|l| done < l) {
            out.push_str(new);
        }
        return out;
    }
    match limit {
        Some(l) => s.replacen(old, new, l),
        None => s.replace(old, new),
    }
}

fn py_center(s: &str, width: i64, fill: char) -> String {
    let len = i64::try_from(s.chars().count()).unwrap_or(i64::MAX);
    let marg = width - len;
    if marg <= 0 {
        return s.to_owned();
    }
    let left = marg / 2 + (marg & width & 1);
    let right = marg - left;
    let f = fill.to_string();
    format!(
        "{}{s}{}",
        f.repeat(usize::try_from(left).unwrap_or(0)),
        f.repeat(usize::try_from(right).unwrap_or(0))
    )
}

fn upper_first(c: char) -> String {
    c.to_uppercase().collect()
}

/// Python's `str.capitalize()`.
fn py_capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => upper_first(first) + &chars.as_str().to_lowercase(),
        None => String::new(),
    }
}

/// Python's `str.title()`.
fn py_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        if prev_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_cased = c.is_lowercase() || c.is_uppercase();
    }
    out
}

/// Jinja2's `title` filter: words start after runs of `-`, whitespace, `(`, `{`, `[` or `<`.
fn jinja_title(s: &str) -> String {
    let is_sep = |c: char| c == '-' || py_is_space(c) || matches!(c, '(' | '{' | '[' | '<');
    let mut out = String::with_capacity(s.len());
    let mut start_of_item = true;
    let mut current_kind = None;
    for c in s.chars() {
        let separator = is_sep(c);
        if current_kind != Some(separator) {
            start_of_item = true;
            current_kind = Some(separator);
        }
        if start_of_item {
            out.push_str(&upper_first(c));
            start_of_item = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Python's `str.splitlines()` (without line ends).
fn py_splitlines(s: &str) -> Vec<&str> {
    split_lines(s, false)
}

/// Python's `str.splitlines(keepends)`.
pub fn split_lines(s: &str, keep_ends: bool) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let is_break = matches!(
            c,
            '\n' | '\r'
                | '\u{b}'
                | '\u{c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if is_break {
            let mut end = i + c.len_utf8();
            if c == '\r' && chars.peek().is_some_and(|(_, n)| *n == '\n') {
                chars.next();
                end += 1;
            }
            lines.push(&s[start..if keep_ends { end } else { i }]);
            start = end;
        }
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_tags_become_calls() {
        let s = Syntax::default();
        assert_eq!(
            prepare_source("a {% now 'utc' %} b", &s),
            "a {{ __cookiecutter_now(('utc'), none, none, none) }} b"
        );
        assert_eq!(
            prepare_source("{%- now 'utc' + 'days=1', '%Y' -%}", &s),
            "{{- __cookiecutter_now(('utc'), '+', ('days=1'), ('%Y')) -}}"
        );
        assert_eq!(
            prepare_source("{% raw %}{% now 'x' %}{% endraw %}", &s),
            "{% raw %}{% now 'x' %}{% endraw %}"
        );
        assert_eq!(prepare_source("a\r\nb\rc", &s), "a\nb\nc");
    }

    #[test]
    fn string_helpers_match_python() {
        assert_eq!(py_title("hello wORLD's x-y"), "Hello World'S X-Y");
        assert_eq!(jinja_title("hello wORLD's x-y (z"), "Hello World's X-Y (Z");
        assert_eq!(py_center("ab", 7, '*'), "***ab**");
        assert_eq!(py_center("abc", 6, '*'), "*abc**");
        assert_eq!(py_splitlines("a\nb\r\nc\n"), vec!["a", "b", "c"]);
        assert_eq!(py_replace("abc", "", "-", -1), "-a-b-c-");
    }
}

//! cookiecutter's user config (`COOKIECUTTER_CONFIG` or `~/.cookiecutterrc`), read as
//! `yaml.safe_load` reads it and merged over cookiecutter's defaults (`merge_configs`).
//!
//! The reader takes the YAML such files are written in: block mappings and sequences by
//! indentation, one-line flow collections (`{}`, `[a, b]`, `{k: v}`), plain, single- and
//! double-quoted scalars, comments and a leading `---`. Plain scalars resolve as PyYAML's
//! YAML 1.1 resolver does (`yes`/`on` are true, `~` is null, `0x1f` and `1_000` are integers),
//! which no Rust YAML crate does (they follow YAML 1.2, where `yes` is a string), so cookiecutter's
//! answers would differ with one. Anything else (anchors, aliases, tags, block scalars `|`/`>`,
//! multi-line scalars, several documents, dates) fails with an error naming it and its line.

use indexmap::IndexMap;

use crate::value::Raw;

/// Why the config file could not be read; `line` counts from 1 (0: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if *line > 0 { format!("line {line}: ") } else { String::new() })]
pub struct ConfigError {
    pub line: usize,
    pub message: String,
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError {
        line,
        message: message.into(),
    })
}

/// The keys of cookiecutter's config that meta uses, defaults merged in.
#[derive(Debug, Clone, PartialEq)]
pub struct UserConfig {
    /// Where git templates are cloned, as written (`~` and `$VARS` not yet expanded).
    pub cookiecutters_dir: String,
    /// Where replay files go, as written.
    pub replay_dir: String,
    /// Defaults for template variables, applied before `KEY=VALUE` extra context.
    pub default_context: Vec<(String, Raw)>,
    /// `gh`, `gl`, `bb` and the user's own, in order (a user's entry replaces a default).
    pub abbreviations: Vec<(String, String)>,
}

impl Default for UserConfig {
    /// cookiecutter's `DEFAULT_CONFIG`.
    fn default() -> Self {
        UserConfig {
            cookiecutters_dir: "~/.cookiecutters/".into(),
            replay_dir: "~/.cookiecutter_replay/".into(),
            default_context: Vec::new(),
            abbreviations: vec![
                ("gh".into(), "https://github.com/{0}.git".into()),
                ("gl".into(), "https://gitlab.com/{0}.git".into()),
                ("bb".into(), "https://bitbucket.org/{0}".into()),
            ],
        }
    }
}

impl UserConfig {
    /// Reads a config file's text (cookiecutter's `get_config`).
    pub fn parse(text: &str) -> Result<UserConfig, ConfigError> {
        let mut config = UserConfig::default();
        let top = match parse_yaml(text)? {
            Raw::Null => return Ok(config),
            Raw::Dict(map) => map,
            _ => return err(0, "the top-level element should be an object (a mapping)"),
        };
        for (key, value) in top {
            match (key.as_str(), value) {
                ("cookiecutters_dir", Raw::Str(s)) => config.cookiecutters_dir = s,
                ("replay_dir", Raw::Str(s)) => config.replay_dir = s,
                ("cookiecutters_dir" | "replay_dir", other) => {
                    return err(
                        0,
                        format!("`{key}` should be a path, not {}", other.py_str()),
                    );
                }
                ("default_context", Raw::Dict(map)) => {
                    config.default_context = map.into_iter().collect();
                }
                ("abbreviations", Raw::Dict(map)) => {
                    for (name, value) in map {
                        let Raw::Str(value) = value else {
                            return err(0, format!("the abbreviation `{name}` should be a string"));
                        };
                        match config.abbreviations.iter_mut().find(|(n, _)| *n == name) {
                            Some(entry) => entry.1 = value,
                            None => config.abbreviations.push((name, value)),
                        }
                    }
                }
                ("default_context" | "abbreviations", Raw::Null) => {
                    // `merge_configs` would replace the default with None, which
                    // cookiecutter then cannot use either.
                    return err(0, format!("`{key}` is empty; write `{key}: {{}}`"));
                }
                ("default_context" | "abbreviations", _) => {
                    return err(0, format!("`{key}` should be a mapping"));
                }
                _ => {}
            }
        }
        Ok(config)
    }

    /// cookiecutter's `expand_abbreviations`: a whole-name match, else `PREFIX:REST` with the
    /// prefix's `{0}` (or `{}`) replaced by REST, as `str.format` does.
    pub fn expand_abbreviations(&self, template: &str) -> Result<String, ConfigError> {
        if let Some((_, value)) = self.abbreviations.iter().find(|(n, _)| n == template) {
            return Ok(value.clone());
        }
        let (prefix, rest) = template.split_once(':').unwrap_or((template, ""));
        match self.abbreviations.iter().find(|(n, _)| n == prefix) {
            Some((name, format)) => py_format_one(format, rest).ok_or_else(|| ConfigError {
                line: 0,
                message: format!(
                    "the abbreviation `{name}` ({format}) has a `{{…}}` field other than `{{0}}` or `{{}}`"
                ),
            }),
            None => Ok(template.to_owned()),
        }
    }
}

/// `format.format(arg)` for fields `{}` and `{0}` (and `{{`/`}}`); `None` for anything else.
fn py_format_one(format: &str, arg: &str) -> Option<String> {
    let mut out = String::with_capacity(format.len() + arg.len());
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let field: String = chars.by_ref().take_while(|c| *c != '}').collect();
                if !(field.is_empty() || field == "0") {
                    return None;
                }
                out.push_str(arg);
            }
            '}' => return None,
            _ => out.push(c),
        }
    }
    Some(out)
}

struct Line<'a> {
    no: usize,
    indent: usize,
    text: &'a str,
}

/// `yaml.safe_load(text)` for the subset described in the module docs.
pub fn parse_yaml(text: &str) -> Result<Raw, ConfigError> {
    let mut lines = Vec::new();
    let mut started = false;
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let body = strip_comment(raw).trim_end();
        let content = body.trim_start_matches(' ');
        if content.is_empty() {
            continue;
        }
        if content.starts_with('\t') {
            return err(no, "a tab in indentation, which YAML does not allow");
        }
        if body.starts_with("---") && (body.len() == 3 || body[3..].starts_with(' ')) {
            if started {
                return err(no, "a second YAML document (`---`), which meta cannot read");
            }
            started = true;
            if !body[3..].trim().is_empty() {
                return err(no, "content after `---`, which meta cannot read");
            }
            continue;
        }
        if body == "..." {
            break;
        }
        if content.starts_with('%') && body.len() == content.len() {
            return err(no, "a YAML directive (`%`), which meta cannot read");
        }
        started = true;
        lines.push(Line {
            no,
            indent: body.len() - content.len(),
            text: content,
        });
    }
    let Some(first) = lines.first() else {
        return Ok(Raw::Null);
    };
    let indent = first.indent;
    let mut pos = 0;
    let value = parse_block(&mut lines, &mut pos, indent)?;
    if let Some(extra) = lines.get(pos) {
        return err(extra.no, "unexpected indentation or content");
    }
    Ok(value)
}

/// `line` without a `# comment` (a `#` at the start or after a blank, outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q && !(q == '"' && previous == '\\') => quote = None,
            None if c == '#' && (previous == ' ' || previous == '\t') => return &line[..i],
            None if (c == '"' || c == '\'') && matches!(previous, ' ' | '[' | '{' | ',' | ':') => {
                quote = Some(c);
            }
            _ => {}
        }
        previous = if previous == '\\' && c == '\\' {
            ' '
        } else {
            c
        };
    }
    line
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

fn parse_block(lines: &mut [Line<'_>], pos: &mut usize, indent: usize) -> Result<Raw, ConfigError> {
    if is_item(lines[*pos].text) {
        parse_sequence(lines, pos, indent)
    } else {
        parse_mapping(lines, pos, indent)
    }
}

fn parse_sequence(
    lines: &mut [Line<'_>],
    pos: &mut usize,
    indent: usize,
) -> Result<Raw, ConfigError> {
    let mut items = Vec::new();
    while let Some(line) = lines.get(*pos) {
        if line.indent != indent || !is_item(line.text) {
            break;
        }
        let no = line.no;
        let rest = line.text[1..].trim_start_matches(' ');
        if rest.is_empty() {
            *pos += 1;
            match lines.get(*pos) {
                Some(next) if next.indent > indent => {
                    let inner = next.indent;
                    items.push(parse_block(lines, pos, inner)?);
                }
                _ => items.push(Raw::Null),
            }
        } else if is_item(rest) || key_split(rest, no)?.is_some() {
            // `- key: value` (or `- - x`): a block collection starting on the item's line.
            let offset = line.text.len() - rest.len();
            lines[*pos].indent = indent + offset;
            lines[*pos].text = rest;
            items.push(parse_block(lines, pos, indent + offset)?);
        } else {
            items.push(parse_inline(rest, no)?);
            *pos += 1;
        }
    }
    Ok(Raw::List(items))
}

fn parse_mapping(
    lines: &mut [Line<'_>],
    pos: &mut usize,
    indent: usize,
) -> Result<Raw, ConfigError> {
    let mut map = IndexMap::new();
    while let Some(line) = lines.get(*pos) {
        if line.indent < indent || (line.indent == indent && is_item(line.text)) {
            break;
        }
        let no = line.no;
        if line.indent > indent {
            return err(no, "unexpected indentation");
        }
        let Some((key, rest)) = key_split(line.text, no)? else {
            if map.is_empty() && lines.len() == 1 {
                // A lone scalar or flow collection document.
                *pos += 1;
                return parse_inline(line.text, no);
            }
            return err(no, format!("expected `key: value`, found `{}`", line.text));
        };
        *pos += 1;
        let value = if rest.is_empty() {
            match lines.get(*pos) {
                Some(next)
                    if next.indent > indent || (next.indent == indent && is_item(next.text)) =>
                {
                    let inner = next.indent;
                    parse_block(lines, pos, inner)?
                }
                _ => Raw::Null,
            }
        } else {
            parse_inline(rest, no)?
        };
        map.insert(key, value);
    }
    Ok(Raw::Dict(map))
}

/// `key: rest` → the key (resolved; it must be a string) and the rest; `None` when the line
/// is not a mapping entry.
fn key_split(text: &str, no: usize) -> Result<Option<(String, &str)>, ConfigError> {
    let (key, after) = if let Some(q @ ('"' | '\'')) = text.chars().next() {
        let (key, used) = quoted(text, q, no)?;
        let after = text[used..].trim_start_matches(' ');
        match after.strip_prefix(':') {
            Some(rest) if rest.is_empty() || rest.starts_with(' ') => (Raw::Str(key), rest),
            _ => return Ok(None),
        }
    } else {
        let Some(at) = text
            .match_indices(':')
            .map(|(i, _)| i)
            .find(|i| text[i + 1..].is_empty() || text[i + 1..].starts_with(' '))
        else {
            return Ok(None);
        };
        if text.starts_with(['[', '{']) {
            return Ok(None);
        }
        (resolve_plain(text[..at].trim_end(), no)?, &text[at + 1..])
    };
    match key {
        Raw::Str(key) => Ok(Some((key, after.trim()))),
        other => err(
            no,
            format!(
                "the key `{}` is not a string (YAML reads it as {}), which meta cannot read",
                text.split(':').next().unwrap_or_default().trim(),
                other.py_str()
            ),
        ),
    }
}

/// A value written on one line: a flow collection, a quoted or a plain scalar.
fn parse_inline(text: &str, no: usize) -> Result<Raw, ConfigError> {
    let text = text.trim();
    match text.chars().next() {
        Some('[' | '{') => {
            let mut flow = Flow { text, at: 0, no };
            let value = flow.value()?;
            flow.blanks();
            if flow.at < text.len() {
                return err(
                    no,
                    format!("unexpected `{}` after a flow collection", &text[flow.at..]),
                );
            }
            Ok(value)
        }
        Some(q @ ('"' | '\'')) => {
            let (s, used) = quoted(text, q, no)?;
            if !text[used..].trim().is_empty() {
                return err(
                    no,
                    format!("unexpected `{}` after a quoted string", &text[used..]),
                );
            }
            Ok(Raw::Str(s))
        }
        _ => {
            if text.contains(": ") {
                return err(
                    no,
                    "a mapping value where one is not allowed (`: ` inside a plain value; quote it)",
                );
            }
            resolve_plain(text, no)
        }
    }
}

/// A quoted scalar at the start of `text`: its value and the bytes it takes.
fn quoted(text: &str, q: char, no: usize) -> Result<(String, usize), ConfigError> {
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c == q {
            if q == '\'' && text[i + 1..].starts_with('\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return Ok((out, i + 1));
        }
        if q == '"' && c == '\\' {
            let Some((_, e)) = chars.next() else { break };
            let simple = match e {
                '0' => Some('\0'),
                'a' => Some('\u{7}'),
                'b' => Some('\u{8}'),
                't' | '\t' => Some('\t'),
                'n' => Some('\n'),
                'v' => Some('\u{b}'),
                'f' => Some('\u{c}'),
                'r' => Some('\r'),
                'e' => Some('\u{1b}'),
                ' ' => Some(' '),
                '"' => Some('"'),
                '/' => Some('/'),
                '\\' => Some('\\'),
                'N' => Some('\u{85}'),
                '_' => Some('\u{a0}'),
                'L' => Some('\u{2028}'),
                'P' => Some('\u{2029}'),
                _ => None,
            };
            if let Some(c) = simple {
                out.push(c);
                continue;
            }
            let len = match e {
                'x' => 2,
                'u' => 4,
                'U' => 8,
                _ => return err(no, format!("the escape `\\{e}`, which YAML does not have")),
            };
            let hex: String = chars.by_ref().take(len).map(|(_, c)| c).collect();
            let code = u32::from_str_radix(&hex, 16)
                .ok()
                .filter(|_| hex.len() == len)
                .and_then(char::from_u32);
            match code {
                Some(c) => out.push(c),
                None => return err(no, format!("the escape `\\{e}{hex}` is not a character")),
            }
            continue;
        }
        out.push(c);
    }
    err(
        no,
        "a quoted string that does not end on its line, which meta cannot read",
    )
}

/// PyYAML's YAML 1.1 resolution of a plain scalar.
fn resolve_plain(text: &str, no: usize) -> Result<Raw, ConfigError> {
    if let Some(c) = text.chars().next()
        && "&*!|>%@`".contains(c)
    {
        let what = match c {
            '&' => "an anchor (`&`)",
            '*' => "an alias (`*`)",
            '!' => "a tag (`!`)",
            '|' | '>' => "a block scalar (`|` or `>`)",
            _ => "a reserved character",
        };
        return err(no, format!("{what}, which meta cannot read"));
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Raw::Null),
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Ok(Raw::Bool(true));
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Ok(Raw::Bool(false));
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Ok(Raw::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Ok(Raw::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Ok(Raw::Float(f64::NAN)),
        _ => {}
    }
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1i128, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let int = |body: &str, radix: u32| -> Option<Raw> {
        let clean = body.replace('_', "");
        if clean.is_empty() {
            return None;
        }
        i128::from_str_radix(&clean, radix)
            .ok()
            .map(|n| Raw::Int(sign * n))
    };
    let starts_digit = digits.starts_with(|c: char| c.is_ascii_digit());
    if starts_digit || digits.starts_with('.') {
        if digits.chars().all(|c| c.is_ascii_digit() || c == '_') {
            let parsed = if digits.len() > 1 && digits.starts_with('0') {
                int(&digits[1..], 8)
            } else {
                int(digits, 10)
            };
            if let Some(n) = parsed {
                return Ok(n);
            }
        }
        if let Some(hex) = digits.strip_prefix("0x")
            && let Some(n) = int(hex, 16)
        {
            return Ok(n);
        }
        if let Some(bin) = digits.strip_prefix("0b")
            && let Some(n) = int(bin, 2)
        {
            return Ok(n);
        }
        if let Some(f) = yaml11_float(digits, digits.len() != text.len()) {
            return Ok(Raw::Float(if sign < 0 { -f } else { f }));
        }
        let date = digits.len() >= 8
            && digits.as_bytes().get(4) == Some(&b'-')
            && digits[..4].chars().all(|c| c.is_ascii_digit());
        if date {
            return err(
                no,
                format!("the date `{text}`, which meta cannot read (quote it)"),
            );
        }
        if starts_digit
            && digits.contains(':')
            && digits
                .replace([':', '_', '.'], "")
                .chars()
                .all(|c| c.is_ascii_digit())
        {
            return err(
                no,
                format!("the base-60 number `{text}`, which meta cannot read (quote it)"),
            );
        }
    }
    Ok(Raw::Str(text.to_owned()))
}

/// PyYAML's float: `[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?` or, unsigned,
/// `\.[0-9_]+([eE][-+][0-9]+)?` (`text` is without its sign; `signed` says it had one).
fn yaml11_float(text: &str, signed: bool) -> Option<f64> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = mantissa.split_once('.')?;
    let ok = whole.chars().all(|c| c.is_ascii_digit() || c == '_')
        && !whole.starts_with('_')
        && (!whole.is_empty() || (!signed && !fraction.is_empty()))
        && fraction.chars().all(|c| c.is_ascii_digit() || c == '_')
        && exponent.is_none_or(|e| {
            e.len() > 1 && e.starts_with(['-', '+']) && e[1..].chars().all(|c| c.is_ascii_digit())
        });
    if !ok {
        return None;
    }
    text.replace('_', "").parse().ok()
}

/// A one-line flow collection.
struct Flow<'a> {
    text: &'a str,
    at: usize,
    no: usize,
}

impl Flow<'_> {
    fn blanks(&mut self) {
        while self.text[self.at..].starts_with(' ') {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn value(&mut self) -> Result<Raw, ConfigError> {
        self.blanks();
        match self.peek() {
            Some('[') => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.blanks();
                    if self.peek() == Some(']') {
                        self.at += 1;
                        return Ok(Raw::List(items));
                    }
                    items.push(self.value()?);
                    self.blanks();
                    match self.peek() {
                        Some(',') => self.at += 1,
                        Some(']') => {}
                        _ => {
                            return err(
                                self.no,
                                "a flow sequence without its `]` on the same line",
                            );
                        }
                    }
                }
            }
            Some('{') => {
                self.at += 1;
                let mut map = IndexMap::new();
                loop {
                    self.blanks();
                    if self.peek() == Some('}') {
                        self.at += 1;
                        return Ok(Raw::Dict(map));
                    }
                    let key = match self.value()? {
                        Raw::Str(key) => key,
                        other => {
                            return err(
                                self.no,
                                format!(
                                    "the key {} is not a string, which meta cannot read",
                                    other.py_str()
                                ),
                            );
                        }
                    };
                    self.blanks();
                    let value = if self.peek() == Some(':') {
                        self.at += 1;
                        self.blanks();
                        if matches!(self.peek(), Some(',' | '}')) {
                            Raw::Null
                        } else {
                            self.value()?
                        }
                    } else {
                        Raw::Null
                    };
                    map.insert(key, value);
                    self.blanks();
                    match self.peek() {
                        Some(',') => self.at += 1,
                        Some('}') => {}
                        _ => {
                            return err(self.no, "a flow mapping without its `}` on the same line");
                        }
                    }
                }
            }
            Some(q @ ('"' | '\'')) => {
                let (s, used) = quoted(&self.text[self.at..], q, self.no)?;
                self.at += used;
                Ok(Raw::Str(s))
            }
            _ => {
                let rest = &self.text[self.at..];
                let end = rest
                    .char_indices()
                    .find(|(i, c)| {
                        matches!(c, ',' | ']' | '}')
                            || (*c == ':'
                                && (rest[i + 1..].is_empty()
                                    || rest[i + 1..].starts_with([' ', ',', '}', ']'])))
                    })
                    .map_or(rest.len(), |(i, _)| i);
                self.at += end;
                resolve_plain(rest[..end].trim(), self.no)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookiecutters_documented_config() {
        let text = "\
# my config
---
default_context:
    full_name: \"Audrey Roy\"   # quoted
    email: 'audreyr@example.com'
    github_username: audreyr
    use_docker: yes
    version: 0.1
    count: 0x10
    license: [MIT, 'BSD-3']
    nested: {a: 1, b: \"x # y\"}
    authors:
    - Ann
    - name: Bob
      role: ~
cookiecutters_dir: \"/home/audreyr/my-custom-cookiecutters-dir/\"
replay_dir: ~/replay  # comment
abbreviations:
  pp: https://github.com/audreyfeldroy/cookiecutter-pypackage.git
  gh: https://example.com/{0}.git
";
        let config = UserConfig::parse(text).expect("config");
        assert_eq!(
            config.cookiecutters_dir,
            "/home/audreyr/my-custom-cookiecutters-dir/"
        );
        assert_eq!(config.replay_dir, "~/replay");
        let ctx: IndexMap<String, Raw> = config.default_context.iter().cloned().collect();
        assert_eq!(ctx["full_name"], Raw::Str("Audrey Roy".into()));
        assert_eq!(ctx["email"], Raw::Str("audreyr@example.com".into()));
        assert_eq!(ctx["use_docker"], Raw::Bool(true));
        assert_eq!(ctx["version"], Raw::Float(0.1));
        assert_eq!(ctx["count"], Raw::Int(16));
        assert_eq!(
            ctx["license"],
            Raw::List(vec![Raw::Str("MIT".into()), Raw::Str("BSD-3".into())])
        );
        assert_eq!(
            py(&ctx["nested"]),
            "OrderedDict([('a', 1), ('b', 'x # y')])"
        );
        assert_eq!(
            py(&ctx["authors"]),
            "['Ann', OrderedDict([('name', 'Bob'), ('role', None)])]"
        );
        assert_eq!(
            config.expand_abbreviations("gh:a/b").expect("gh"),
            "https://example.com/a/b.git"
        );
        assert_eq!(
            config.expand_abbreviations("pp").expect("pp"),
            "https://github.com/audreyfeldroy/cookiecutter-pypackage.git"
        );
        assert_eq!(
            config.expand_abbreviations("bb:x").expect("bb"),
            "https://bitbucket.org/x"
        );
        assert_eq!(config.expand_abbreviations("./t").expect("path"), "./t");
    }

    fn py(raw: &Raw) -> String {
        crate::value::py_repr(&raw.to_value())
    }

    #[test]
    fn empty_files_give_the_defaults() {
        assert_eq!(UserConfig::parse("").expect("empty"), UserConfig::default());
        assert_eq!(
            UserConfig::parse("# only\n---\n").expect("comment"),
            UserConfig::default()
        );
    }

    #[test]
    fn what_it_cannot_read_is_named() {
        for (text, needle) in [
            ("a: &x 1\n", "anchor"),
            ("a: *x\n", "alias"),
            ("a: !!str 1\n", "tag"),
            ("a: |\n  x\n", "block scalar"),
            ("a: \"x\n  y\"\n", "does not end"),
            ("a: 2001-12-14\n", "date"),
            ("- a\n", "top-level"),
            ("a: b: c\n", "mapping value"),
            ("a: 1\n---\nb: 2\n", "second YAML document"),
            ("abbreviations: [x]\n", "mapping"),
            ("a:\n\t- x\n", "tab"),
        ] {
            let e = UserConfig::parse(text).expect_err(text);
            assert!(e.to_string().contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn plain_scalars_resolve_as_pyyaml() {
        for (text, want) in [
            ("on", Raw::Bool(true)),
            ("Off", Raw::Bool(false)),
            ("y", Raw::Str("y".into())),
            ("~", Raw::Null),
            ("1_000", Raw::Int(1000)),
            ("010", Raw::Int(8)),
            ("-0b11", Raw::Int(-3)),
            ("1e5", Raw::Str("1e5".into())),
            ("1.5e+3", Raw::Float(1500.0)),
            ("-.5", Raw::Str("-.5".into())),
            (".5", Raw::Float(0.5)),
            ("1.", Raw::Float(1.0)),
            ("1.2.3", Raw::Str("1.2.3".into())),
            ("https://x.y/{0}", Raw::Str("https://x.y/{0}".into())),
        ] {
            assert_eq!(resolve_plain(text, 1).expect(text), want, "{text}");
        }
    }
}

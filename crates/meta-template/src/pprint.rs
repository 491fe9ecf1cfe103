//! Python 3.11's `pprint.pformat(value)` (width 80, indent 1, `sort_dicts=True`), which Jinja2's
//! `pprint` filter prints: plain dicts sorted by key, long values broken over lines.

use std::fmt::Write as _;

use minijinja::value::{Value, ValueKind};

use crate::value::{PyDict, PyTuple, map_entries, py_cmp, py_repr, write_str_repr};

const WIDTH: usize = 80;

/// `pprint.pformat(value)`.
pub fn pformat(value: &Value) -> String {
    let mut out = String::new();
    format(&mut out, value, 0, 0, 0);
    out
}

enum Shape {
    Dict,
    OrderedDict,
    List,
    Tuple,
    Str,
    Other,
}

fn shape(value: &Value) -> Shape {
    match value.kind() {
        ValueKind::Map => {
            if value
                .downcast_object_ref::<PyDict>()
                .is_some_and(|d| d.ordered)
            {
                Shape::OrderedDict
            } else {
                Shape::Dict
            }
        }
        ValueKind::Seq | ValueKind::Iterable => {
            if value.is_tuple() || value.downcast_object_ref::<PyTuple>().is_some() {
                Shape::Tuple
            } else {
                Shape::List
            }
        }
        ValueKind::String => Shape::Str,
        _ => Shape::Other,
    }
}

fn sorted_entries(value: &Value) -> Vec<(Value, Value)> {
    let mut entries = map_entries(value);
    entries.sort_by(|a, b| py_cmp(&a.0, &b.0));
    entries
}

fn items(value: &Value) -> Vec<Value> {
    value.try_iter().map(Iterator::collect).unwrap_or_default()
}

/// `PrettyPrinter._safe_repr`: `repr`, with plain dicts' keys sorted at every level below
/// lists, tuples and dicts (an `OrderedDict` is its own `repr`).
fn safe_repr(value: &Value) -> String {
    match shape(value) {
        Shape::Dict => {
            let parts: Vec<String> = sorted_entries(value)
                .iter()
                .map(|(k, v)| format!("{}: {}", safe_repr(k), safe_repr(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Shape::List => {
            let parts: Vec<String> = items(value).iter().map(safe_repr).collect();
            format!("[{}]", parts.join(", "))
        }
        Shape::Tuple => {
            let parts: Vec<String> = items(value).iter().map(safe_repr).collect();
            if parts.len() == 1 {
                format!("({},)", parts[0])
            } else {
                format!("({})", parts.join(", "))
            }
        }
        Shape::OrderedDict | Shape::Str | Shape::Other => py_repr(value),
    }
}

fn width_of(text: &str) -> usize {
    text.chars().count()
}

/// `PrettyPrinter._format`.
fn format(out: &mut String, value: &Value, indent: usize, allowance: usize, level: usize) {
    let rep = safe_repr(value);
    let max_width = WIDTH.saturating_sub(indent + allowance);
    if width_of(&rep) <= max_width {
        out.push_str(&rep);
        return;
    }
    let level = level + 1;
    match shape(value) {
        Shape::Dict => {
            out.push('{');
            let entries = sorted_entries(value);
            if !entries.is_empty() {
                dict_items(out, &entries, indent, allowance + 1, level);
            }
            out.push('}');
        }
        Shape::OrderedDict => {
            let entries = map_entries(value);
            if entries.is_empty() {
                out.push_str(&rep);
                return;
            }
            out.push_str("OrderedDict(");
            let pairs = Value::from(
                entries
                    .into_iter()
                    .map(|(k, v)| PyTuple::value(vec![k, v]))
                    .collect::<Vec<_>>(),
            );
            format(
                out,
                &pairs,
                indent + "OrderedDict".len() + 1,
                allowance + 1,
                level,
            );
            out.push(')');
        }
        Shape::List => {
            out.push('[');
            seq_items(out, &items(value), indent, allowance + 1, level);
            out.push(']');
        }
        Shape::Tuple => {
            let all = items(value);
            let end = if all.len() == 1 { ",)" } else { ")" };
            out.push('(');
            seq_items(out, &all, indent, allowance + end.len(), level);
            out.push_str(end);
        }
        Shape::Str => string(
            out,
            value.as_str().unwrap_or_default(),
            indent,
            allowance,
            level,
        ),
        Shape::Other => out.push_str(&rep),
    }
}

/// `PrettyPrinter._format_dict_items`.
fn dict_items(
    out: &mut String,
    entries: &[(Value, Value)],
    indent: usize,
    allowance: usize,
    level: usize,
) {
    let indent = indent + 1;
    let last_index = entries.len() - 1;
    for (i, (key, value)) in entries.iter().enumerate() {
        let last = i == last_index;
        let rep = safe_repr(key);
        out.push_str(&rep);
        out.push_str(": ");
        format(
            out,
            value,
            indent + width_of(&rep) + 2,
            if last { allowance } else { 1 },
            level,
        );
        if !last {
            out.push_str(",\n");
            out.push_str(&" ".repeat(indent));
        }
    }
}

/// `PrettyPrinter._format_items` (not compact).
fn seq_items(out: &mut String, items: &[Value], indent: usize, allowance: usize, level: usize) {
    let indent = indent + 1;
    for (i, item) in items.iter().enumerate() {
        let last = i + 1 == items.len();
        if i > 0 {
            out.push_str(",\n");
            out.push_str(&" ".repeat(indent));
        }
        format(out, item, indent, if last { allowance } else { 1 }, level);
    }
}

fn str_repr(s: &str) -> String {
    let mut out = String::new();
    write_str_repr(&mut out, s);
    out
}

/// `PrettyPrinter._pprint_str`: a long string as adjacent literals, split after blanks.
fn string(out: &mut String, s: &str, indent: usize, allowance: usize, level: usize) {
    if s.is_empty() {
        out.push_str("''");
        return;
    }
    let (indent, allowance) = if level == 1 {
        (indent + 1, allowance + 1)
    } else {
        (indent, allowance)
    };
    let lines = crate::jinja::split_lines(s, true);
    let max_width = WIDTH.saturating_sub(indent);
    let mut max_width1 = max_width;
    let mut chunks: Vec<String> = Vec::new();
    let mut rep = String::new();
    for (i, line) in lines.iter().enumerate() {
        rep = str_repr(line);
        let last_line = i + 1 == lines.len();
        if last_line {
            max_width1 = max_width1.saturating_sub(allowance);
        }
        if width_of(&rep) <= max_width1 {
            chunks.push(rep.clone());
            continue;
        }
        // `re.findall(r'\S*\s*', line)` without its final empty match.
        let parts = blank_separated_parts(line);
        let mut max_width2 = max_width;
        let mut current = String::new();
        for (j, part) in parts.iter().enumerate() {
            let candidate = format!("{current}{part}");
            if j + 1 == parts.len() && last_line {
                max_width2 = max_width2.saturating_sub(allowance);
            }
            if width_of(&str_repr(&candidate)) > max_width2 {
                if !current.is_empty() {
                    chunks.push(str_repr(&current));
                }
                (*part).clone_into(&mut current);
            } else {
                current = candidate;
            }
        }
        if !current.is_empty() {
            chunks.push(str_repr(&current));
        }
    }
    if chunks.len() == 1 {
        out.push_str(&rep);
        return;
    }
    if level == 1 {
        out.push('(');
    }
    for (i, chunk) in chunks.iter().enumerate() {
        if i > 0 {
            let _ = write!(out, "\n{}", " ".repeat(indent));
        }
        out.push_str(chunk);
    }
    if level == 1 {
        out.push(')');
    }
}

/// `re.findall(r'\S*\s*', line)` minus the trailing empty match.
fn blank_separated_parts(line: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_blank = false;
    for (i, c) in line.char_indices() {
        let blank = crate::jinja::py_is_space(c);
        if !blank && in_blank {
            parts.push(&line[start..i]);
            start = i;
        }
        in_blank = blank;
    }
    if start < line.len() {
        parts.push(&line[start..]);
    }
    parts
}

//! Python's `%` string formatting, which Jinja2's `format` filter uses
//! (`"%s-%03d"|format(name, n)`, `"%(a)s"|format(a=1)`).

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use crate::value::{map_entries, py_float_repr, py_repr, py_str};

fn fail(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// `format % args` (positional) or `format % kwargs` (named): Jinja2's `format` filter.
pub fn percent_format(format: &str, args: &[Value]) -> Result<String, Error> {
    let (positional, named) = match args.last() {
        Some(last) if last.is_kwargs() => (&args[..args.len() - 1], Some(last)),
        _ => (args, None),
    };
    if !positional.is_empty() && named.is_some() {
        return Err(fail(
            "can't handle positional and keyword arguments at the same time",
        ));
    }
    format_with(format, positional, named, true)
}

/// Python's `format % value`: a tuple gives the arguments, a mapping the named ones (and is
/// itself the argument of a bare `%s`), anything else is the one argument.
pub fn percent_operator(format: &str, value: &Value) -> Result<String, Error> {
    if value.is_tuple()
        || value
            .downcast_object_ref::<crate::value::PyTuple>()
            .is_some()
    {
        let items: Vec<Value> = value.try_iter()?.collect();
        return format_with(format, &items, None, true);
    }
    if value.kind() == minijinja::value::ValueKind::Map {
        return format_with(format, std::slice::from_ref(value), Some(value), false);
    }
    if value.kind() == ValueKind::Seq {
        // Python takes anything with `__getitem__` (a list too) for a possible mapping: it is
        // the one argument, and arguments left over are no error.
        return format_with(format, std::slice::from_ref(value), None, false);
    }
    format_with(format, std::slice::from_ref(value), None, true)
}

fn format_with(
    format: &str,
    positional: &[Value],
    named: Option<&Value>,
    check_leftover: bool,
) -> Result<String, Error> {
    let mut next = 0;
    let mut out = String::with_capacity(format.len());
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut key = None;
        if chars.get(i) == Some(&'(') {
            let end = chars[i..]
                .iter()
                .position(|c| *c == ')')
                .ok_or_else(|| fail("incomplete format key"))?;
            key = Some(chars[i + 1..i + end].iter().collect::<String>());
            i += end + 1;
        }
        let mut flags = String::new();
        while let Some(f) = chars.get(i).filter(|c| "-+ #0".contains(**c)) {
            flags.push(*f);
            i += 1;
        }
        let mut width = String::new();
        while let Some(d) = chars.get(i).filter(|c| c.is_ascii_digit()) {
            width.push(*d);
            i += 1;
        }
        let mut precision: Option<usize> = None;
        if chars.get(i) == Some(&'.') {
            i += 1;
            let mut p = String::new();
            while let Some(d) = chars.get(i).filter(|c| c.is_ascii_digit()) {
                p.push(*d);
                i += 1;
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let Some(&conv) = chars.get(i) else {
            return Err(fail("incomplete format"));
        };
        i += 1;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let arg = if let Some(k) = &key {
            let named = named.ok_or_else(|| fail("format requires a mapping"))?;
            map_entries(named)
                .into_iter()
                .find(|(name, _)| name.as_str() == Some(k))
                .map(|(_, v)| v)
                .ok_or_else(|| fail(format!("KeyError: '{k}'")))?
        } else {
            let v = positional
                .get(next)
                .cloned()
                .ok_or_else(|| fail("not enough arguments for format string"))?;
            next += 1;
            v
        };
        let body = convert(conv, &arg, &flags, precision)?;
        let width: usize = width.parse().unwrap_or(0);
        let len = body.chars().count();
        if len >= width {
            out.push_str(&body);
        } else if flags.contains('-') {
            out.push_str(&body);
            out.push_str(&" ".repeat(width - len));
        } else if flags.contains('0') && "dioxXeEfFgG".contains(conv) {
            let (sign, digits) = match body.chars().next() {
                Some(s @ ('-' | '+' | ' ')) => (s.to_string(), &body[1..]),
                _ => (String::new(), body.as_str()),
            };
            out.push_str(&sign);
            out.push_str(&"0".repeat(width - len));
            out.push_str(digits);
        } else {
            out.push_str(&" ".repeat(width - len));
            out.push_str(&body);
        }
    }
    if check_leftover && key_less_leftover(positional, next) {
        return Err(fail("not all arguments converted during string formatting"));
    }
    Ok(out)
}

fn key_less_leftover(positional: &[Value], used: usize) -> bool {
    used < positional.len()
}

fn convert(
    conv: char,
    arg: &Value,
    flags: &str,
    precision: Option<usize>,
) -> Result<String, Error> {
    let sign = |negative: bool| {
        if negative {
            "-"
        } else if flags.contains('+') {
            "+"
        } else if flags.contains(' ') {
            " "
        } else {
            ""
        }
    };
    let number = || -> Result<f64, Error> {
        if arg.kind() != ValueKind::Number && arg.kind() != ValueKind::Bool {
            return Err(fail(format!(
                "%{conv} format: a real number is required, not {}",
                py_str(arg)
            )));
        }
        f64::try_from(arg.clone()).map_err(|e| fail(e.to_string()))
    };
    Ok(match conv {
        's' => {
            let s = py_str(arg);
            match precision {
                Some(p) => s.chars().take(p).collect(),
                None => s,
            }
        }
        'r' | 'a' => py_repr(arg),
        'd' | 'i' | 'u' => {
            let n = number()?.trunc();
            format!("{}{}", sign(n < 0.0), format_int(n.abs()))
        }
        'x' | 'X' | 'o' => {
            let n = i128::try_from(arg.clone())
                .map_err(|_| fail(format!("%{conv} format: an integer is required")))?;
            let body = match conv {
                'x' => format!("{:x}", n.unsigned_abs()),
                'X' => format!("{:X}", n.unsigned_abs()),
                _ => format!("{:o}", n.unsigned_abs()),
            };
            let prefix = if flags.contains('#') {
                match conv {
                    'x' => "0x",
                    'X' => "0X",
                    _ => "0o",
                }
            } else {
                ""
            };
            format!("{}{prefix}{body}", sign(n < 0))
        }
        'f' | 'F' => {
            let n = number()?;
            format!(
                "{}{:.*}",
                sign(n.is_sign_negative() && n != 0.0),
                precision.unwrap_or(6),
                n.abs()
            )
        }
        'e' | 'E' => {
            let n = number()?;
            let text = format!("{:.*e}", precision.unwrap_or(6), n.abs());
            let (mant, exp) = text.split_once('e').unwrap_or((&text, "0"));
            let exp: i32 = exp.parse().unwrap_or(0);
            let body = format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
            let body = if conv == 'E' {
                body.to_uppercase()
            } else {
                body
            };
            format!("{}{body}", sign(n < 0.0))
        }
        'g' | 'G' => {
            let n = number()?;
            format!("{}{}", sign(n < 0.0), py_float_repr(n.abs()))
        }
        'c' => {
            if let Some(s) = arg.as_str() {
                s.to_owned()
            } else {
                let n = u32::try_from(arg.clone()).map_err(|_| fail("%c requires int or char"))?;
                char::from_u32(n).map(String::from).unwrap_or_default()
            }
        }
        other => return Err(fail(format!("unsupported format character '{other}'"))),
    })
}

fn format_int(n: f64) -> String {
    #[allow(clippy::cast_possible_truncation)] // `%d` truncates like `int()`
    let i = n as i128;
    i.to_string()
}

/// A bool or integer as Python's int (`True` is 1).
fn number_int(v: &Value) -> Option<i128> {
    match v.kind() {
        ValueKind::Bool => Some(i128::from(v.is_true())),
        ValueKind::Number if v.is_integer() => i128::try_from(v.clone()).ok(),
        _ => None,
    }
}

/// A bool, integer or float as a float.
fn number_float(v: &Value) -> Option<f64> {
    match v.kind() {
        ValueKind::Bool => Some(if v.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(v.clone()).ok(),
        _ => None,
    }
}

/// Python's `left % right` (what `%` in a template becomes): string formatting when `left` is
/// a string, else the modulo whose result has the sign of `right` (`-7 % 3` is 2).
pub fn py_percent(left: Value, right: Value) -> Result<Value, Error> {
    if left.is_undefined() || right.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "an operand of `%` is undefined",
        ));
    }
    if left.kind() == ValueKind::String {
        let format = left.as_str().unwrap_or_default();
        return percent_operator(format, &right).map(Value::from);
    }
    if let (Some(a), Some(b)) = (number_int(&left), number_int(&right)) {
        if b == 0 {
            return Err(fail("ZeroDivisionError: integer modulo by zero"));
        }
        let r = a.checked_rem(b).unwrap_or(0);
        let r = if r != 0 && (r < 0) != (b < 0) {
            r + b
        } else {
            r
        };
        return Ok(i64::try_from(r).map_or_else(|_| Value::from(r), Value::from));
    }
    if let (Some(a), Some(b)) = (number_float(&left), number_float(&right)) {
        if b == 0.0 {
            return Err(fail("ZeroDivisionError: float modulo"));
        }
        let r = a % b;
        let r = if r == 0.0 {
            0f64.copysign(b)
        } else if (r < 0.0) != (b < 0.0) {
            r + b
        } else {
            r
        };
        return Ok(Value::from(r));
    }
    Err(fail(format!(
        "TypeError: unsupported operand type(s) for %: '{}' and '{}'",
        left.kind(),
        right.kind()
    )))
}

/// Python's `left + right` (what `+` in a template becomes): numbers add, strings, bytes,
/// lists and tuples concatenate; a list sum is a new list a template can change.
pub fn py_add(left: Value, right: Value) -> Result<Value, Error> {
    use crate::value::{PyList, PyTuple};
    if left.is_undefined() || right.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "an operand of `+` is undefined",
        ));
    }
    let is_tuple = |v: &Value| v.is_tuple() || v.downcast_object_ref::<PyTuple>().is_some();
    let is_list = |v: &Value| {
        v.kind() == ValueKind::Seq
            && !is_tuple(v)
            && v.downcast_object_ref::<crate::value::PyRange>().is_none()
    };
    let type_error = || {
        fail(format!(
            "TypeError: unsupported operand type(s) for +: '{}' and '{}'",
            left.kind(),
            right.kind()
        ))
    };
    if is_list(&left) && is_list(&right) {
        let mut items: Vec<Value> = left.try_iter()?.collect();
        items.extend(right.try_iter()?);
        return Ok(PyList::value(items));
    }
    if is_tuple(&left) && is_tuple(&right) {
        let mut items: Vec<Value> = left.try_iter()?.collect();
        items.extend(right.try_iter()?);
        return Ok(PyTuple::value(items));
    }
    match (left.kind(), right.kind()) {
        (ValueKind::String, ValueKind::String) => {
            let joined = format!(
                "{}{}",
                left.as_str().unwrap_or_default(),
                right.as_str().unwrap_or_default()
            );
            return Ok(if left.is_safe() && right.is_safe() {
                Value::from_safe_string(joined)
            } else {
                Value::from(joined)
            });
        }
        (ValueKind::Bytes, ValueKind::Bytes) => {
            let mut bytes = left.as_bytes().unwrap_or_default().to_vec();
            bytes.extend_from_slice(right.as_bytes().unwrap_or_default());
            return Ok(Value::from_bytes(bytes));
        }
        _ => {}
    }
    if let (Some(a), Some(b)) = (number_int(&left), number_int(&right)) {
        let sum = a
            .checked_add(b)
            .ok_or_else(|| fail("an integer sum too large for meta"))?;
        return Ok(i64::try_from(sum).map_or_else(|_| Value::from(sum), Value::from));
    }
    if let (Some(a), Some(b)) = (number_float(&left), number_float(&right)) {
        return Ok(Value::from(a + b));
    }
    Err(type_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_python() {
        let args = [Value::from("x"), Value::from(7), Value::from(2.5)];
        assert_eq!(
            percent_format(
                "%s-%03d-%.2f|%5s|%-3s|",
                &args[..3]
                    .iter()
                    .cloned()
                    .chain([Value::from("ab"), Value::from("c")])
                    .collect::<Vec<_>>()
            )
            .unwrap(),
            "x-007-2.50|   ab|c  |"
        );
        assert!(percent_format("%s %s", &args[..1]).is_err());
    }
}

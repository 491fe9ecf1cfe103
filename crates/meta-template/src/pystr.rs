//! The `str` methods whose answers depend on Unicode character data (`casefold`, `isdecimal`,
//! `isnumeric`, `istitle`, `isidentifier`, `isprintable`), `encode` (and `bytes.decode`),
//! `maketrans` and `translate`, as Python 3 has them, with Python's own tables
//! ([`crate::py_unicode`]).

use indexmap::IndexMap;
use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use crate::py_unicode::{
    CASEFOLD, DECIMAL, LOWERCASE, NUMERIC, PRINTABLE, TITLECASE, UPPERCASE, XID_CONTINUE,
    XID_START, in_ranges,
};

fn fail(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

fn no_args(method: &str, args: &[Value]) -> Result<(), Error> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(fail(format!(
            "TypeError: str.{method}() takes no arguments ({} given)",
            args.len()
        )))
    }
}

/// `s.method(*args)` for the methods of this module; `None` for any other method.
pub fn str_method(s: &str, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    let answer = match method {
        "casefold" => no_args(method, args).map(|()| Value::from(casefold(s))),
        "isdecimal" => no_args(method, args)
            .map(|()| Value::from(!s.is_empty() && s.chars().all(|c| in_ranges(DECIMAL, c)))),
        "isnumeric" => no_args(method, args)
            .map(|()| Value::from(!s.is_empty() && s.chars().all(|c| in_ranges(NUMERIC, c)))),
        "isprintable" => {
            no_args(method, args).map(|()| Value::from(s.chars().all(|c| in_ranges(PRINTABLE, c))))
        }
        "isidentifier" => no_args(method, args).map(|()| Value::from(is_identifier(s))),
        "istitle" => no_args(method, args).map(|()| Value::from(is_title(s))),
        "encode" => encode_args(args)
            .and_then(|(encoding, errors)| encode(s, &encoding, &errors).map(Value::from_bytes)),
        "maketrans" => maketrans(args),
        "translate" => match args {
            [table] => translate(s, table),
            _ => Err(fail(format!(
                "TypeError: str.translate() takes exactly one argument ({} given)",
                args.len()
            ))),
        },
        _ => return None,
    };
    Some(answer)
}

/// `str.maketrans(x[, y[, z]])`: a dict from code points to code points, strings or None.
fn maketrans(args: &[Value]) -> Result<Value, Error> {
    let ord = |c: char| Value::from(u32::from(c));
    let mut table = IndexMap::new();
    match args {
        [mapping] if mapping.kind() == ValueKind::Map => {
            for (key, value) in crate::value::map_entries(mapping) {
                let key = match key.as_str() {
                    Some(k) if k.chars().count() == 1 => k.chars().next().map(ord),
                    None if key.is_integer() => Some(key.clone()),
                    _ => None,
                };
                let Some(key) = key else {
                    return Err(fail(
                        "ValueError: string keys in translate table must be of length 1",
                    ));
                };
                table.insert(key, value);
            }
        }
        [_] => {
            return Err(fail(
                "TypeError: if you give only one argument to maketrans it must be a dict",
            ));
        }
        [x, y] | [x, y, _] => {
            let (Some(x), Some(y)) = (x.as_str(), y.as_str()) else {
                return Err(fail("TypeError: maketrans() arguments must be strings"));
            };
            if x.chars().count() != y.chars().count() {
                return Err(fail(
                    "ValueError: the first two maketrans arguments must have equal length",
                ));
            }
            for (a, b) in x.chars().zip(y.chars()) {
                table.insert(ord(a), ord(b));
            }
            if let [_, _, z] = args {
                let Some(z) = z.as_str() else {
                    return Err(fail("TypeError: maketrans() argument 3 must be str"));
                };
                for c in z.chars() {
                    table.insert(ord(c), Value::from(()));
                }
            }
        }
        _ => {
            return Err(fail(format!(
                "TypeError: maketrans expected 1 to 3 arguments, got {}",
                args.len()
            )));
        }
    }
    Ok(crate::value::PyDict::plain(table))
}

/// `s.translate(table)`: each character looked up by code point in a mapping; a missing one
/// stays, None deletes it, an int or a string replaces it.
fn translate(s: &str, table: &Value) -> Result<Value, Error> {
    if table.kind() != ValueKind::Map {
        return Err(fail(format!(
            "a translate table that is a {}, which meta does not support (use a dict)",
            table.kind()
        )));
    }
    let entries = crate::value::map_entries(table);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let key = Value::from(u32::from(c));
        let found = entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
        match found {
            None => out.push(c),
            Some(v) if v.is_none() => {}
            Some(v) if v.kind() == ValueKind::String => {
                out.push_str(v.as_str().unwrap_or_default());
            }
            Some(v) if v.is_integer() => {
                let code = u32::try_from(v.clone())
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| {
                        fail("ValueError: character mapping must be in range(0x110000)")
                    })?;
                out.push(code);
            }
            Some(_) => {
                return Err(fail(
                    "TypeError: character mapping must return integer, None or str",
                ));
            }
        }
    }
    Ok(Value::from(out))
}

/// `b.decode(encoding='utf-8', errors='strict')` on bytes (what `encode` gives back).
pub fn bytes_method(bytes: &[u8], method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    if method != "decode" {
        return None;
    }
    Some(encode_args(args).and_then(|(encoding, errors)| {
        let codec = codec(&encoding)?;
        let mut out = String::with_capacity(bytes.len());
        match codec {
            Codec::Utf8 => match (std::str::from_utf8(bytes), errors.as_str()) {
                (Ok(text), _) => out.push_str(text),
                (Err(_), "replace") => out.push_str(&String::from_utf8_lossy(bytes)),
                (Err(e), _) => {
                    return Err(fail(format!(
                        "UnicodeDecodeError: 'utf-8' codec can't decode byte 0x{:02x} in position {}: invalid start byte",
                        bytes.get(e.valid_up_to()).copied().unwrap_or(0),
                        e.valid_up_to()
                    )));
                }
            },
            Codec::Latin1 => out.extend(bytes.iter().map(|b| char::from(*b))),
            Codec::Ascii => {
                for (i, b) in bytes.iter().enumerate() {
                    if b.is_ascii() {
                        out.push(char::from(*b));
                    } else {
                        match errors.as_str() {
                            "ignore" => {}
                            "replace" => out.push('\u{fffd}'),
                            _ => {
                                return Err(fail(format!(
                                    "UnicodeDecodeError: 'ascii' codec can't decode byte 0x{b:02x} in position {i}: ordinal not in range(128)"
                                )));
                            }
                        }
                    }
                }
            }
        }
        Ok(Value::from(out))
    }))
}

/// Python's `str.casefold`: full Unicode case folding (`ß` → `ss`, `ς` → `σ`).
pub fn casefold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match CASEFOLD.binary_search_by_key(&u32::from(c), |(cp, _)| *cp) {
            Ok(at) => out.push_str(CASEFOLD[at].1),
            Err(_) => out.push(c),
        }
    }
    out
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| in_ranges(XID_START, c))
        && chars.all(|c| in_ranges(XID_CONTINUE, c))
}

/// CPython's `str.istitle`: capitals (upper- or titlecase) only after uncased characters,
/// lowercase only after cased ones, and at least one cased character.
fn is_title(s: &str) -> bool {
    let mut cased = false;
    let mut previous_cased = false;
    for c in s.chars() {
        if in_ranges(UPPERCASE, c) || in_ranges(TITLECASE, c) {
            if previous_cased {
                return false;
            }
            previous_cased = true;
            cased = true;
        } else if in_ranges(LOWERCASE, c) {
            if !previous_cased {
                return false;
            }
            previous_cased = true;
            cased = true;
        } else {
            previous_cased = false;
        }
    }
    cased
}

enum Codec {
    Utf8,
    Ascii,
    Latin1,
}

/// The codecs meta knows, by Python's names and aliases; any other fails naming it.
fn codec(name: &str) -> Result<Codec, Error> {
    let normal = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    match normal.as_str() {
        "utf-8" | "utf8" | "u8" | "utf" | "cp65001" => Ok(Codec::Utf8),
        "ascii" | "us-ascii" | "646" | "us" => Ok(Codec::Ascii),
        "latin-1" | "latin1" | "latin" | "l1" | "iso-8859-1" | "iso8859-1" | "8859" | "cp819"
        | "iso-ir-100" => Ok(Codec::Latin1),
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "the {name:?} encoding, which meta does not support (it knows utf-8, ascii and latin-1)"
            ),
        )),
    }
}

fn encode_args(args: &[Value]) -> Result<(String, String), Error> {
    let (positional, kwargs) = match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => (rest, Some(last)),
        _ => (args, None),
    };
    if positional.len() > 2 {
        return Err(fail(format!(
            "TypeError: encode() takes at most 2 arguments ({} given)",
            positional.len()
        )));
    }
    let named = |key: &str| {
        kwargs
            .and_then(|k| k.get_attr(key).ok())
            .filter(|v| !v.is_undefined())
    };
    let text = |v: Option<Value>, default: &str, what: &str| match v {
        None => Ok(default.to_owned()),
        Some(v) if v.kind() == ValueKind::String => Ok(v.as_str().unwrap_or_default().to_owned()),
        Some(v) => Err(fail(format!(
            "TypeError: {what}() argument must be str, not {}",
            v.kind()
        ))),
    };
    let encoding = text(
        positional.first().cloned().or_else(|| named("encoding")),
        "utf-8",
        "encoding",
    )?;
    let errors = text(
        positional.get(1).cloned().or_else(|| named("errors")),
        "strict",
        "errors",
    )?;
    Ok((encoding, errors))
}

fn encode(s: &str, encoding: &str, errors: &str) -> Result<Vec<u8>, Error> {
    let (limit, name) = match codec(encoding)? {
        Codec::Utf8 => return Ok(s.as_bytes().to_vec()),
        Codec::Ascii => (0x80, "ascii"),
        Codec::Latin1 => (0x100, "latin-1"),
    };
    let mut out = Vec::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        let cp = u32::from(c);
        if cp < limit {
            out.push(u8::try_from(cp).unwrap_or(b'?'));
            continue;
        }
        match errors {
            "ignore" => {}
            "replace" => out.push(b'?'),
            "backslashreplace" => {
                let escaped = if cp <= 0xff {
                    format!("\\x{cp:02x}")
                } else if cp <= 0xffff {
                    format!("\\u{cp:04x}")
                } else {
                    format!("\\U{cp:08x}")
                };
                out.extend_from_slice(escaped.as_bytes());
            }
            "xmlcharrefreplace" => out.extend_from_slice(format!("&#{cp};").as_bytes()),
            "strict" => {
                let range = if limit == 0x80 { "128" } else { "256" };
                let shown = crate::value::py_repr(&Value::from(c.to_string()));
                let shown = shown.trim_matches('\'');
                return Err(fail(format!(
                    "UnicodeEncodeError: '{name}' codec can't encode character '{shown}' in position {i}: ordinal not in range({range})"
                )));
            }
            other => {
                return Err(fail(format!(
                    "LookupError: unknown error handler name '{other}'"
                )));
            }
        }
    }
    Ok(out)
}

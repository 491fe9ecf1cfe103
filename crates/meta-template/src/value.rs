//! Values as cookiecutter's Python sees them: parsed from `cookiecutter.json`, turned into
//! template values, and printed the way Python prints them (`True`, `None`, `['a', 'b']`,
//! `OrderedDict([...])`) or dumped the way `json.dumps` does.

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

/// A JSON value with Python's shapes: key order kept, integers apart from floats.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    List(Vec<Raw>),
    Dict(IndexMap<String, Raw>),
}

impl Raw {
    /// Parses JSON text as Python's `json.load(object_pairs_hook=OrderedDict)` does.
    pub fn from_json(text: &str) -> Result<Raw, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The value as a template value; dicts become `OrderedDict`s, as json.load made them.
    pub fn to_value(&self) -> Value {
        match self {
            Raw::Null => Value::from(()),
            Raw::Bool(b) => Value::from(*b),
            Raw::Int(i) => Value::from(*i),
            Raw::Float(f) => Value::from(*f),
            Raw::Str(s) => Value::from(s.as_str()),
            Raw::List(items) => PyList::value(items.iter().map(Raw::to_value).collect()),
            Raw::Dict(map) => PyDict::ordered(
                map.iter()
                    .map(|(k, v)| (Value::from(k.as_str()), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// Python's `str(value)` for a scalar (what `render_variable` does to numbers).
    pub fn py_str(&self) -> String {
        py_str(&self.to_value())
    }
}

impl<'de> serde::Deserialize<'de> for Raw {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Raw;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_none<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
                Ok(Raw::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
                Ok(Raw::Int(i128::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
                Ok(Raw::Int(i128::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
                Ok(Raw::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
                Ok(Raw::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Raw, E> {
                Ok(Raw::Str(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Raw::List(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
                // Like OrderedDict: a repeated key keeps its first place and its last value.
                let mut out = IndexMap::new();
                while let Some((key, value)) = map.next_entry::<String, Raw>()? {
                    out.insert(key, value);
                }
                Ok(Raw::Dict(out))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A Python dict in the template context. cookiecutter's context mixes `OrderedDict`s (what
/// `json.load` made) and plain dicts (what rendering made); both iterate in insertion order but
/// print differently, so the kind is kept. Like Python's, it is shared and mutable: what a
/// template does with `update`, `setdefault` or `pop` every later file and hook sees.
#[derive(Debug)]
pub struct PyDict {
    pub ordered: bool,
    map: Mutex<IndexMap<Value, Value>>,
}

impl PyDict {
    pub fn ordered(map: IndexMap<Value, Value>) -> Value {
        Value::from_object(PyDict {
            ordered: true,
            map: Mutex::new(map),
        })
    }

    pub fn plain(map: IndexMap<Value, Value>) -> Value {
        Value::from_object(PyDict {
            ordered: false,
            map: Mutex::new(map),
        })
    }

    fn lock(&self) -> MutexGuard<'_, IndexMap<Value, Value>> {
        // A panic while holding the lock cannot leave the map half-changed: every change is
        // one IndexMap call.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entries, in order (a copy: the dict may change later).
    pub fn entries(&self) -> Vec<(Value, Value)> {
        self.lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn key_error(key: &Value) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("KeyError: {}", py_repr(key)),
    )
}

fn arity(method: &str, args: &[Value], min: usize, max: usize) -> Result<(), Error> {
    if args.iter().any(Value::is_kwargs) && method != "update" {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            format!("{method}() takes no keyword arguments"),
        ));
    }
    if args.len() < min {
        return Err(Error::new(
            ErrorKind::MissingArgument,
            format!(
                "{method}() takes at least {min} argument(s) ({} given)",
                args.len()
            ),
        ));
    }
    if args.len() > max {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            format!(
                "{method}() takes at most {max} argument(s) ({} given)",
                args.len()
            ),
        ));
    }
    Ok(())
}

impl Object for PyDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.lock().get(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: Vec<Value> = self.lock().keys().cloned().collect();
        Enumerator::Values(keys)
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.lock().len())
    }

    /// The methods that change a dict (Python's semantics); the others are the environment's.
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "update" => {
                let (positional, kwargs) = match args.last() {
                    Some(last) if last.is_kwargs() => (&args[..args.len() - 1], Some(last)),
                    _ => (args, None),
                };
                arity(method, positional, 0, 1)?;
                // Read the other side first: `d.update(d)` must not lock `d` twice.
                let mut new = Vec::new();
                if let Some(other) = positional.first() {
                    if other.kind() == ValueKind::Map {
                        new.extend(map_entries(other));
                    } else {
                        for pair in other.try_iter()? {
                            let items: Vec<Value> = pair.try_iter()?.collect();
                            let [k, v] = <[Value; 2]>::try_from(items).map_err(|items| {
                                Error::new(
                                    ErrorKind::InvalidOperation,
                                    format!(
                                        "dictionary update sequence element has length {}; 2 is required",
                                        items.len()
                                    ),
                                )
                            })?;
                            new.push((k, v));
                        }
                    }
                }
                if let Some(kwargs) = kwargs {
                    new.extend(map_entries(kwargs));
                }
                let mut map = self.lock();
                for (k, v) in new {
                    map.insert(k, v);
                }
                Ok(Value::from(()))
            }
            "setdefault" => {
                arity(method, args, 1, 2)?;
                let default = args.get(1).cloned().unwrap_or(Value::from(()));
                Ok(self
                    .lock()
                    .entry(args[0].clone())
                    .or_insert(default)
                    .clone())
            }
            "pop" => {
                arity(method, args, 1, 2)?;
                match self.lock().shift_remove(&args[0]) {
                    Some(v) => Ok(v),
                    None => args.get(1).cloned().ok_or_else(|| key_error(&args[0])),
                }
            }
            "popitem" => {
                arity(method, args, 0, 0)?;
                let popped = self.lock().pop();
                popped
                    .map(|(k, v)| PyTuple::value(vec![k, v]))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidOperation,
                            "KeyError: 'popitem(): dictionary is empty'",
                        )
                    })
            }
            "clear" => {
                arity(method, args, 0, 0)?;
                self.lock().clear();
                Ok(Value::from(()))
            }
            "copy" => {
                arity(method, args, 0, 0)?;
                let map = self.lock().clone();
                Ok(Value::from_object(PyDict {
                    ordered: self.ordered,
                    map: Mutex::new(map),
                }))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result
    where
        Self: Sized + 'static,
    {
        f.write_str(&py_repr(&Value::from_dyn_object(self.clone())))
    }
}

/// A Python list from `cookiecutter.json`: shared and mutable like [`PyDict`] (`append`,
/// `extend`, `insert`, `pop`, `remove`, `clear`). Lists written in a template are minijinja's
/// own and cannot change.
#[derive(Debug, Default)]
pub struct PyList {
    items: Mutex<Vec<Value>>,
}

impl PyList {
    pub fn value(items: Vec<Value>) -> Value {
        Value::from_object(PyList {
            items: Mutex::new(items),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Value>> {
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Object for PyList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.lock();
        let index = i64::try_from(key.clone()).ok()?;
        let len = i64::try_from(items.len()).ok()?;
        let index = if index < 0 { index + len } else { index };
        items.get(usize::try_from(index).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.lock().clone())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.lock().len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "append" => {
                arity(method, args, 1, 1)?;
                self.lock().push(args[0].clone());
            }
            "extend" => {
                arity(method, args, 1, 1)?;
                let new: Vec<Value> = args[0].try_iter()?.collect();
                self.lock().extend(new);
            }
            "insert" => {
                arity(method, args, 2, 2)?;
                let mut items = self.lock();
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let at = i64::try_from(args[0].clone())?;
                let at = if at < 0 {
                    (at + len).max(0)
                } else {
                    at.min(len)
                };
                items.insert(usize::try_from(at).unwrap_or(0), args[1].clone());
            }
            "pop" => {
                arity(method, args, 0, 1)?;
                let mut items = self.lock();
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let at = match args.first() {
                    Some(i) => i64::try_from(i.clone())?,
                    None => -1,
                };
                let at = if at < 0 { at + len } else { at };
                return match usize::try_from(at).ok().filter(|i| *i < items.len()) {
                    Some(i) => Ok(items.remove(i)),
                    None => Err(Error::new(
                        ErrorKind::InvalidOperation,
                        if items.is_empty() {
                            "IndexError: pop from empty list"
                        } else {
                            "IndexError: pop index out of range"
                        },
                    )),
                };
            }
            "remove" => {
                arity(method, args, 1, 1)?;
                let mut items = self.lock();
                let Some(at) = items.iter().position(|v| v == &args[0]) else {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "ValueError: list.remove(x): x not in list",
                    ));
                };
                items.remove(at);
            }
            "clear" => {
                arity(method, args, 0, 0)?;
                self.lock().clear();
            }
            "copy" => {
                arity(method, args, 0, 0)?;
                return Ok(PyList::value(self.lock().clone()));
            }
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        }
        Ok(Value::from(()))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result
    where
        Self: Sized + 'static,
    {
        f.write_str(&py_repr(&Value::from_dyn_object(self.clone())))
    }
}

/// A Python tuple (what `dict.items()` and `dictsort` yield): a sequence that prints in
/// parentheses.
#[derive(Debug, Clone)]
pub struct PyTuple(pub Vec<Value>);

impl PyTuple {
    pub fn value(items: Vec<Value>) -> Value {
        Value::from_object(PyTuple(items))
    }
}

impl Object for PyTuple {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let index = usize::try_from(key.clone()).ok()?;
        self.0.get(index).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result
    where
        Self: Sized + 'static,
    {
        f.write_str(&py_repr(&Value::from_dyn_object(self.clone())))
    }
}

/// Python's `range` (Jinja2's `range` global): lazy, prints as `range(0, 3)`, and, like
/// Python's, cannot change.
#[derive(Debug, Clone, Copy)]
pub struct PyRange {
    start: i64,
    stop: i64,
    step: i64,
}

impl PyRange {
    /// `range(stop)`, `range(start, stop)` or `range(start, stop, step)`, integers only.
    pub fn call(args: &[Value]) -> Result<Value, Error> {
        let int = |v: &Value| -> Result<i64, Error> {
            match v.kind() {
                ValueKind::Bool => Ok(i64::from(v.is_true())),
                ValueKind::Number if v.is_integer() => i64::try_from(v.clone()),
                _ => Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "TypeError: '{}' object cannot be interpreted as an integer",
                        v.kind()
                    ),
                )),
            }
        };
        let (first, end, stride) = match args {
            [end] => (0, int(end)?, 1),
            [first, end] => (int(first)?, int(end)?, 1),
            [first, end, stride] => (int(first)?, int(end)?, int(stride)?),
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "TypeError: range expected 1 to 3 integer arguments, got {}",
                        args.len()
                    ),
                ));
            }
        };
        if stride == 0 {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "ValueError: range() arg 3 must not be zero",
            ));
        }
        Ok(Value::from_object(PyRange {
            start: first,
            stop: end,
            step: stride,
        }))
    }

    fn len(&self) -> usize {
        let (first, end, stride) = (
            i128::from(self.start),
            i128::from(self.stop),
            i128::from(self.step),
        );
        let n = if stride > 0 {
            (end - first + stride - 1) / stride
        } else {
            (first - end - stride - 1) / -stride
        };
        usize::try_from(n.max(0)).unwrap_or(usize::MAX)
    }
}

impl Object for PyRange {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let index = i128::try_from(key.clone()).ok()?;
        let len = i128::try_from(self.len()).ok()?;
        let index = if index < 0 { index + len } else { index };
        if !(0..len).contains(&index) {
            return None;
        }
        let item = i128::from(self.start) + index * i128::from(self.step);
        i64::try_from(item).ok().map(Value::from)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.len())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.len())
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result
    where
        Self: Sized + 'static,
    {
        match self.step {
            1 => write!(f, "range({}, {})", self.start, self.stop),
            step => write!(f, "range({}, {}, {step})", self.start, self.stop),
        }
    }
}

/// What a dict view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKind {
    Keys,
    Values,
    Items,
}

/// `d.keys()`, `d.values()`, `d.items()`: live views of the dict that print as Python's
/// (`dict_keys(['a'])`, `odict_items([('a', 1)])` for an `OrderedDict`) and, like Python's,
/// cannot change.
#[derive(Debug, Clone)]
pub struct PyDictView {
    dict: Value,
    kind: ViewKind,
}

impl PyDictView {
    pub fn value(dict: Value, kind: ViewKind) -> Value {
        Value::from_object(PyDictView { dict, kind })
    }

    fn items(&self) -> Vec<Value> {
        map_entries(&self.dict)
            .into_iter()
            .map(|(k, v)| match self.kind {
                ViewKind::Keys => k,
                ViewKind::Values => v,
                ViewKind::Items => PyTuple::value(vec![k, v]),
            })
            .collect()
    }
}

impl Object for PyDictView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Iterable
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.items())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.items().len())
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result
    where
        Self: Sized + 'static,
    {
        let ordered = self
            .dict
            .downcast_object_ref::<PyDict>()
            .is_some_and(|d| d.ordered);
        let what = match self.kind {
            ViewKind::Keys => "keys",
            ViewKind::Values => "values",
            ViewKind::Items => "items",
        };
        let list = py_repr(&Value::from(self.items()));
        write!(f, "{}dict_{what}({list})", if ordered { "o" } else { "" })
    }
}

/// The entries of a map value in iteration order, whatever kind of map it is.
pub fn map_entries(value: &Value) -> Vec<(Value, Value)> {
    if let Some(dict) = value.downcast_object_ref::<PyDict>() {
        return dict.entries();
    }
    let Ok(keys) = value.try_iter() else {
        return Vec::new();
    };
    keys.map(|k| {
        let v = value.get_item(&k).unwrap_or_default();
        (k, v)
    })
    .collect()
}

/// Python's `str(value)`.
pub fn py_str(value: &Value) -> String {
    match value.kind() {
        ValueKind::String => value.as_str().unwrap_or_default().to_owned(),
        _ => py_repr(value),
    }
}

/// Python's `repr(value)`.
pub fn py_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

fn write_repr(out: &mut String, value: &Value) {
    match value.kind() {
        ValueKind::Undefined => out.push_str("Undefined"),
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if value.is_true() { "True" } else { "False" }),
        ValueKind::Number => out.push_str(&py_number(value)),
        ValueKind::String => write_str_repr(out, value.as_str().unwrap_or_default()),
        ValueKind::Bytes => {
            let _ = write!(
                out,
                "b{}",
                py_bytes_repr(value.as_bytes().unwrap_or_default())
            );
        }
        ValueKind::Seq | ValueKind::Iterable
            if value.downcast_object_ref::<PyRange>().is_some()
                || value.downcast_object_ref::<PyDictView>().is_some() =>
        {
            let _ = write!(out, "{value}");
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let tuple = value.is_tuple() || value.downcast_object_ref::<PyTuple>().is_some();
            out.push(if tuple { '(' } else { '[' });
            let mut count = 0;
            if let Ok(iter) = value.try_iter() {
                for (i, item) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &item);
                    count += 1;
                }
            }
            if tuple && count == 1 {
                out.push(',');
            }
            out.push(if tuple { ')' } else { ']' });
        }
        ValueKind::Map => {
            let ordered = value
                .downcast_object_ref::<PyDict>()
                .is_some_and(|d| d.ordered);
            let entries = map_entries(value);
            if ordered {
                if entries.is_empty() {
                    out.push_str("OrderedDict()");
                    return;
                }
                out.push_str("OrderedDict([");
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push('(');
                    write_repr(out, k);
                    out.push_str(", ");
                    write_repr(out, v);
                    out.push(')');
                }
                out.push_str("])");
            } else {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, k);
                    out.push_str(": ");
                    write_repr(out, v);
                }
                out.push('}');
            }
        }
        _ => {
            let _ = write!(out, "{value}");
        }
    }
}

fn py_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ if b == quote as u8 => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push(quote);
    out
}

/// Python's `repr(str)`: single quotes unless the text holds `'` and no `"`.
pub fn write_str_repr(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ if c == quote => {
                out.push('\\');
                out.push(c);
            }
            _ if is_printable(c) => out.push(c),
            _ => {
                let cp = u32::from(c);
                let _ = if cp < 0x100 {
                    write!(out, "\\x{cp:02x}")
                } else if cp < 0x10000 {
                    write!(out, "\\u{cp:04x}")
                } else {
                    write!(out, "\\U{cp:08x}")
                };
            }
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable()` for one character: everything but controls, separators other
/// than the space, format characters, surrogates, private use and unassigned code points, from
/// Python's own table.
fn is_printable(c: char) -> bool {
    crate::py_unicode::in_ranges(crate::py_unicode::PRINTABLE, c)
}

/// Python's text for a number: integers as digits, floats as `repr(float)`.
pub fn py_number(value: &Value) -> String {
    if value.is_integer() {
        return value.to_string();
    }
    match f64::try_from(value.clone()) {
        Ok(f) => py_float_repr(f),
        Err(_) => value.to_string(),
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation when the
/// exponent is in -4..16 and scientific (`1e+16`, `1e-05`) otherwise.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // `{:e}` gives the shortest round-tripping digits: "1.2345e3", "-5e-7".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!(
                "0.{}{digits}",
                "0".repeat(usize::try_from(point.unsigned_abs()).unwrap_or(0))
            )
        } else {
            let point = usize::try_from(point).unwrap_or(0);
            if digits.len() <= point {
                format!("{digits}{}.0", "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mant = if rest.is_empty() {
            first.to_owned()
        } else {
            format!("{first}.{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

/// How `json.dumps` lays out nested values.
#[derive(Debug, Clone)]
pub enum JsonIndent {
    /// `indent=None`: one line, `", "` and `": "` separators.
    None,
    /// `indent=N` or a string: one item per line, nested levels indented by this text.
    Text(String),
}

/// Why a value could not be dumped as JSON.
#[derive(Debug, Clone, thiserror::Error)]
#[error("Object of type {type_name} is not JSON serializable")]
pub struct JsonError {
    pub type_name: String,
}

/// Python's `json.dumps(value, sort_keys=sort_keys, indent=indent)` with `ensure_ascii=True`.
pub fn json_dumps(
    value: &Value,
    indent: &JsonIndent,
    sort_keys: bool,
) -> Result<String, JsonError> {
    let mut out = String::new();
    write_json(&mut out, value, indent, sort_keys, 0, true)?;
    Ok(out)
}

/// [`json_dumps`] with `ensure_ascii=False`: non-ASCII characters written as they are (what
/// cruft's `.cruft.json` holds).
pub fn json_dumps_unicode(
    value: &Value,
    indent: &JsonIndent,
    sort_keys: bool,
) -> Result<String, JsonError> {
    let mut out = String::new();
    write_json(&mut out, value, indent, sort_keys, 0, false)?;
    Ok(out)
}

fn write_json(
    out: &mut String,
    value: &Value,
    indent: &JsonIndent,
    sort_keys: bool,
    level: usize,
    ascii: bool,
) -> Result<(), JsonError> {
    match value.kind() {
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => {
            if value.is_integer() {
                out.push_str(&value.to_string());
            } else {
                let f = f64::try_from(value.clone()).unwrap_or(f64::NAN);
                out.push_str(&if f.is_nan() {
                    "NaN".to_owned()
                } else if f.is_infinite() {
                    if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
                } else {
                    py_float_repr(f)
                });
            }
        }
        ValueKind::String => json_str(out, value.as_str().unwrap_or_default(), ascii),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = value.try_iter().map(Iterator::collect).unwrap_or_default();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                separator(out, indent, level + 1, i == 0);
                write_json(out, item, indent, sort_keys, level + 1, ascii)?;
            }
            closing(out, indent, level);
            out.push(']');
        }
        ValueKind::Map => {
            let mut entries = map_entries(value);
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            if sort_keys {
                entries.sort_by(|a, b| py_cmp(&a.0, &b.0));
            }
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                separator(out, indent, level + 1, i == 0);
                let key = match k.kind() {
                    ValueKind::String => k.as_str().unwrap_or_default().to_owned(),
                    ValueKind::None => "null".to_owned(),
                    ValueKind::Bool => (if k.is_true() { "true" } else { "false" }).to_owned(),
                    ValueKind::Number => py_number(k),
                    _ => {
                        return Err(JsonError {
                            type_name: "dict key".to_owned(),
                        });
                    }
                };
                json_str(out, &key, ascii);
                out.push_str(": ");
                write_json(out, v, indent, sort_keys, level + 1, ascii)?;
            }
            closing(out, indent, level);
            out.push('}');
        }
        ValueKind::Undefined => {
            return Err(JsonError {
                type_name: "StrictUndefined".to_owned(),
            });
        }
        _ => {
            return Err(JsonError {
                type_name: value.kind().to_string(),
            });
        }
    }
    Ok(())
}

fn separator(out: &mut String, indent: &JsonIndent, level: usize, first: bool) {
    match indent {
        JsonIndent::None => {
            if !first {
                out.push_str(", ");
            }
        }
        JsonIndent::Text(text) => {
            if !first {
                out.push(',');
            }
            out.push('\n');
            for _ in 0..level {
                out.push_str(text);
            }
        }
    }
}

fn closing(out: &mut String, indent: &JsonIndent, level: usize) {
    if let JsonIndent::Text(text) = indent {
        out.push('\n');
        for _ in 0..level {
            out.push_str(text);
        }
    }
}

/// A JSON string as `json.dumps` writes it: control characters escaped, and with `ascii`
/// (`ensure_ascii=True`) everything past `~` as `\uXXXX` UTF-16 units.
fn json_str(out: &mut String, s: &str, ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ if !ascii && c > '~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Python's ordering for values of one kind (strings by code point, numbers by value).
pub fn py_cmp(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => x.cmp(y),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python() {
        for (f, text) in [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (123.456, "123.456"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1.5e300, "1.5e+300"),
        ] {
            assert_eq!(py_float_repr(f), text, "{f}");
        }
    }

    #[test]
    fn reprs_match_python() {
        let v = Raw::from_json(r#"{"a": [1, "it's", true, null], "b": {"c": 1.5}}"#).unwrap();
        assert_eq!(
            py_repr(&v.to_value()),
            r#"OrderedDict([('a', [1, "it's", True, None]), ('b', OrderedDict([('c', 1.5)]))])"#
        );
        assert_eq!(py_repr(&Value::from("a\n\u{7f}é")), r"'a\n\x7fé'");
    }

    #[test]
    fn json_matches_python_dumps() {
        let v = Raw::from_json(r#"{"b": [1, {}], "a": "é\u0001\"", "c": []}"#).unwrap();
        let text = json_dumps(&v.to_value(), &JsonIndent::Text("    ".into()), true).unwrap();
        assert_eq!(
            text,
            "{\n    \"a\": \"\\u00e9\\u0001\\\"\",\n    \"b\": [\n        1,\n        {}\n    ],\n    \"c\": []\n}"
        );
        let text = json_dumps(&v.to_value(), &JsonIndent::None, false).unwrap();
        assert_eq!(text, r#"{"b": [1, {}], "a": "\u00e9\u0001\"", "c": []}"#);
    }
}

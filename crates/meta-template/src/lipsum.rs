//! Jinja2's `lipsum` global (`jinja2.utils.generate_lorem_ipsum`): `n` paragraphs of random
//! lorem ipsum, each of `min` to `max - 1` words from Jinja2's word list, no word twice in a
//! row, a comma now and then, full stops that capitalize the next word; wrapped in `<p>` tags
//! (joined by `\n`) or, with `html=False`, joined by blank lines. The same algorithm with the
//! same word list; the randomness is the operating system's, so only the shape can be compared.

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

/// `jinja2.constants.LOREM_IPSUM_WORDS`.
const WORDS: &str = "\
a ac accumsan ad adipiscing aenean aliquam aliquet amet ante aptent arcu at
auctor augue bibendum blandit class commodo condimentum congue consectetuer
consequat conubia convallis cras cubilia cum curabitur curae cursus dapibus
diam dictum dictumst dignissim dis dolor donec dui duis egestas eget eleifend
elementum elit enim erat eros est et etiam eu euismod facilisi facilisis fames
faucibus felis fermentum feugiat fringilla fusce gravida habitant habitasse hac
hendrerit hymenaeos iaculis id imperdiet in inceptos integer interdum ipsum
justo lacinia lacus laoreet lectus leo libero ligula litora lobortis lorem
luctus maecenas magna magnis malesuada massa mattis mauris metus mi molestie
mollis montes morbi mus nam nascetur natoque nec neque netus nibh nisi nisl non
nonummy nostra nulla nullam nunc odio orci ornare parturient pede pellentesque
penatibus per pharetra phasellus placerat platea porta porttitor posuere
potenti praesent pretium primis proin pulvinar purus quam quis quisque rhoncus
ridiculus risus rutrum sagittis sapien scelerisque sed sem semper senectus sit
sociis sociosqu sodales sollicitudin suscipit suspendisse taciti tellus tempor
tempus tincidunt torquent tortor tristique turpis ullamcorper ultrices
ultricies urna ut varius vehicula vel velit venenatis vestibulum vitae vivamus
viverra volutpat vulputate";

fn fail(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// Python's `random.randrange(lo, hi)`: uniform in `lo..hi`, an error when that is empty.
fn randrange(lo: i64, hi: i64) -> Result<i64, Error> {
    if lo >= hi {
        return Err(fail(format!(
            "ValueError: empty range in randrange({lo}, {hi})"
        )));
    }
    let span = u64::try_from(i128::from(hi) - i128::from(lo))
        .map_err(|_| fail("OverflowError: randrange range too large"))?;
    // Rejection sampling: no modulo bias.
    let limit = u64::MAX - u64::MAX % span;
    loop {
        let mut buf = [0u8; 8];
        crate::chance::fill(&mut buf).map_err(|e| fail(e.to_string()))?;
        let n = u64::from_le_bytes(buf);
        if n < limit {
            let offset = i128::from(n % span);
            return i64::try_from(i128::from(lo) + offset).map_err(|e| fail(e.to_string()));
        }
    }
}

/// The parameters of `generate_lorem_ipsum`, in order.
const NAMES: [&str; 4] = ["n", "html", "min", "max"];

/// `lipsum(n=5, html=True, min=20, max=100)`, positional or by keyword.
pub fn lipsum(args: &[Value]) -> Result<Value, Error> {
    let (positional, kwargs) = match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => (rest, Some(last)),
        _ => (args, None),
    };
    if positional.len() > NAMES.len() {
        return Err(fail(format!(
            "TypeError: generate_lorem_ipsum() takes from 0 to 4 positional arguments but {} were given",
            positional.len()
        )));
    }
    let mut values: [Option<Value>; 4] = Default::default();
    for (slot, v) in values.iter_mut().zip(positional) {
        *slot = Some(v.clone());
    }
    if let Some(kwargs) = kwargs
        && let Ok(keys) = kwargs.try_iter()
    {
        for key in keys {
            let name = key.as_str().unwrap_or_default();
            let Some(at) = NAMES.iter().position(|n| *n == name) else {
                return Err(fail(format!(
                    "TypeError: generate_lorem_ipsum() got an unexpected keyword argument '{name}'"
                )));
            };
            if values[at].is_some() {
                return Err(fail(format!(
                    "TypeError: generate_lorem_ipsum() got multiple values for argument '{name}'"
                )));
            }
            values[at] = kwargs.get_item(&key).ok();
        }
    }
    let int = |v: Option<&Value>, default: i64| -> Result<i64, Error> {
        match v {
            None => Ok(default),
            Some(v) if v.kind() == ValueKind::Bool => Ok(i64::from(v.is_true())),
            Some(v) if v.kind() == ValueKind::Number && v.is_integer() => i64::try_from(v.clone()),
            Some(v) => Err(fail(format!(
                "TypeError: '{}' object cannot be interpreted as an integer",
                v.kind()
            ))),
        }
    };
    let n = int(values[0].as_ref(), 5)?;
    let html = values[1].as_ref().is_none_or(Value::is_true);
    let min = int(values[2].as_ref(), 20)?;
    let max = int(values[3].as_ref(), 100)?;
    let paragraphs = generate(n, min, max)?;
    Ok(if html {
        Value::from_safe_string(
            paragraphs
                .iter()
                .map(|p| format!("<p>{p}</p>"))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    } else {
        Value::from(paragraphs.join("\n\n"))
    })
}

/// The paragraphs, as Jinja2's loop makes them.
fn generate(n: i64, min: i64, max: i64) -> Result<Vec<String>, Error> {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let count = i64::try_from(words.len()).map_err(|e| fail(e.to_string()))?;
    let mut result = Vec::new();
    for _ in 0..n.max(0) {
        let mut next_capitalized = true;
        let (mut last_comma, mut last_fullstop) = (0i64, 0i64);
        let mut last: Option<&str> = None;
        let mut p: Vec<String> = Vec::new();
        for idx in 0..randrange(min, max)?.max(0) {
            let chosen = loop {
                let at = usize::try_from(randrange(0, count)?).unwrap_or(0);
                let word = words[at];
                if last != Some(word) {
                    last = Some(word);
                    break word;
                }
            };
            let mut word = if next_capitalized {
                next_capitalized = false;
                let mut chars = chosen.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_uppercase().chain(chars).collect::<String>()
                })
            } else {
                chosen.to_owned()
            };
            if idx - randrange(3, 8)? > last_comma {
                last_comma = idx;
                last_fullstop += 2;
                word.push(',');
            }
            if idx - randrange(10, 20)? > last_fullstop {
                last_comma = idx;
                last_fullstop = idx;
                word.push('.');
                next_capitalized = true;
            }
            p.push(word);
        }
        let mut text = p.join(" ");
        if let Some(stripped) = text.strip_suffix(',') {
            text = format!("{stripped}.");
        } else if !text.ends_with('.') {
            text.push('.');
        }
        result.push(text);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_have_jinja2s_shape() {
        let words: Vec<&str> = WORDS.split_whitespace().collect();
        assert_eq!(words.len(), 186);
        for _ in 0..50 {
            let text = generate(3, 20, 100).expect("lipsum");
            assert_eq!(text.len(), 3);
            for p in &text {
                let tokens: Vec<&str> = p.split(' ').collect();
                assert!((20..100).contains(&tokens.len()), "{p}");
                assert!(p.ends_with('.'));
                let mut capital_next = true;
                let mut previous = "";
                for token in tokens {
                    let bare = token.trim_end_matches(['.', ',']);
                    let lower = bare.to_lowercase();
                    assert!(words.contains(&lower.as_str()), "{token}");
                    assert_ne!(lower, previous, "a word twice in a row in {p}");
                    assert_eq!(bare.starts_with(char::is_uppercase), capital_next, "{p}");
                    capital_next = token.ends_with('.');
                    previous = words[words.iter().position(|w| *w == lower).unwrap_or(0)];
                }
            }
        }
    }

    #[test]
    fn arguments_bound_the_output() {
        assert_eq!(generate(0, 20, 100).expect("none"), Vec::<String>::new());
        assert_eq!(generate(-1, 20, 100).expect("none"), Vec::<String>::new());
        let one = generate(1, 1, 2).expect("one word");
        assert!(one[0].ends_with('.') && !one[0].contains(' '));
        assert!(generate(1, 5, 5).is_err());
        let html = lipsum(&[Value::from(2)]).expect("html");
        let html = html.as_str().unwrap_or_default();
        assert_eq!(html.matches("<p>").count(), 2);
        assert_eq!(html.lines().count(), 2);
        let plain = lipsum(&[Value::from(3), Value::from(false)]).expect("plain");
        assert_eq!(plain.as_str().unwrap_or_default().split("\n\n").count(), 3);
    }
}

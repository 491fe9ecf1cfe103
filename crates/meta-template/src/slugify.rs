//! python-slugify 9.2's `slugify` (its frozen "legacy" pipeline, which cookiecutter's `slugify`
//! filter calls), with text-unidecode's transliteration.

use unicode_normalization::UnicodeNormalization;

use crate::slug_tables::{HTML_ENTITIES, UNIDECODE_OVERRIDES};

/// The keyword arguments of python-slugify's `slugify`, with its defaults.
#[derive(Debug, Clone)]
pub struct SlugifyOptions {
    pub entities: bool,
    pub decimal: bool,
    pub hexadecimal: bool,
    pub max_length: i64,
    pub word_boundary: bool,
    pub separator: String,
    pub save_order: bool,
    pub stopwords: Vec<String>,
    /// A regular expression matching the characters to replace (Rust `regex` syntax, which
    /// agrees with Python's `re` for the character classes such patterns use).
    pub regex_pattern: Option<String>,
    pub lowercase: bool,
    pub replacements: Vec<(String, String)>,
    pub allow_unicode: bool,
}

impl Default for SlugifyOptions {
    fn default() -> Self {
        Self {
            entities: true,
            decimal: true,
            hexadecimal: true,
            max_length: 0,
            word_boundary: false,
            separator: "-".to_owned(),
            save_order: false,
            stopwords: Vec::new(),
            regex_pattern: None,
            lowercase: true,
            replacements: Vec::new(),
            allow_unicode: false,
        }
    }
}

/// Why a slug could not be made.
#[derive(Debug, thiserror::Error)]
#[error("invalid `regex_pattern` for slugify: {0}")]
pub struct SlugifyError(String);

/// Makes a slug exactly as `slugify.slugify(text, ...)` does.
pub fn slugify(text: &str, options: &SlugifyOptions) -> Result<String, SlugifyError> {
    let mut text = text.to_owned();
    for (old, new) in &options.replacements {
        text = py_replace(&text, old, new);
    }
    text = collapse_runs(&text, |c| c == '\'', "-");
    if options.allow_unicode {
        text = text.nfkc().collect();
    } else {
        let decomposed: String = text.nfkd().collect();
        text = transliterate(&decomposed);
    }
    text = decode_entities(&text, options);
    text = if options.allow_unicode {
        text.nfkc().collect()
    } else {
        text.nfkd().collect()
    };
    if options.lowercase {
        text = text.to_lowercase();
    }
    text.retain(|c| c != '\'');
    text = remove_commas_between_digits(&text);
    text = if let Some(pattern) = &options.regex_pattern {
        let re = regex::Regex::new(pattern).map_err(|e| SlugifyError(e.to_string()))?;
        re.replace_all(&text, "-").into_owned()
    } else if options.allow_unicode {
        collapse_runs(&text, |c| !c.is_alphanumeric(), "-")
    } else {
        collapse_runs(&text, |c| !(c.is_ascii_alphanumeric() || c == '-'), "-")
    };
    let collapsed = collapse_runs(&text, |c| c == '-', "-");
    text.clear();
    text.push_str(collapsed.trim_matches('-'));

    if !options.stopwords.is_empty() {
        let excluded: Vec<String> = if options.lowercase {
            options.stopwords.iter().map(|w| w.to_lowercase()).collect()
        } else {
            options.stopwords.clone()
        };
        text = text
            .split('-')
            .filter(|word| !excluded.iter().any(|e| e == word))
            .collect::<Vec<_>>()
            .join("-");
    }
    for (old, new) in &options.replacements {
        text = py_replace(&text, old, new);
    }
    if options.max_length > 0 {
        text = smart_truncate(
            &text,
            options.max_length,
            options.word_boundary,
            options.save_order,
        );
    }
    if options.separator != "-" {
        text = text.replace('-', &options.separator);
    }
    Ok(text)
}

/// Python's `str.replace`, which inserts `new` between every character when `old` is empty.
fn py_replace(text: &str, old: &str, new: &str) -> String {
    if old.is_empty() {
        let mut out = String::from(new);
        for c in text.chars() {
            out.push(c);
            out.push_str(new);
        }
        return out;
    }
    text.replace(old, new)
}

/// text-unidecode's `unidecode`: each character by table, characters past U+FFFF dropped.
pub fn transliterate(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else if u32::from(c) > 0xffff {
            // text-unidecode's table stops at the BMP; it drops the rest.
        } else if let Ok(i) = UNIDECODE_OVERRIDES.binary_search_by_key(&c, |(k, _)| *k) {
            out.push_str(UNIDECODE_OVERRIDES[i].1);
        } else {
            out.push_str(unidecode::unidecode_char(c));
        }
    }
    out
}

fn decode_entities(text: &str, options: &SlugifyOptions) -> String {
    let mut text = text.to_owned();
    if options.entities
        && let Some(decoded) = replace_refs(&text, "&", |name| {
            Some(
                HTML_ENTITIES
                    .binary_search_by_key(&name, |(n, _)| n)
                    .ok()
                    .and_then(|i| char::from_u32(HTML_ENTITIES[i].1)),
            )
        })
    {
        text = decoded;
    }
    // All or nothing, like the legacy pipeline: one bad reference leaves every one alone.
    if options.decimal
        && let Some(decoded) = replace_refs(&text, "&#", |digits| {
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Some(None);
            }
            digits
                .parse::<u32>()
                .ok()
                .and_then(char_for_reference)
                .map(Some)
        })
    {
        text = decoded;
    }
    if options.hexadecimal
        && let Some(decoded) = replace_refs(&text, "&#x", |hex| {
            if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Some(None);
            }
            u32::from_str_radix(hex, 16)
                .ok()
                .and_then(char_for_reference)
                .map(Some)
        })
    {
        text = decoded;
    }
    text
}

/// `chr(n)` for an entity reference. Surrogates are valid in Python but cannot be held here;
/// every later step treats them as a character to replace, as U+FFFD is.
fn char_for_reference(n: u32) -> Option<char> {
    if (0xd800..0xe000).contains(&n) {
        return Some('\u{fffd}');
    }
    char::from_u32(n)
}

/// Replaces every `PREFIX name ;` where `decode(name)` gives `Some(Some(c))`. `Some(None)` means
/// "not a reference, leave it"; `None` means "invalid: abandon the whole substitution".
fn replace_refs(
    text: &str,
    prefix: &str,
    decode: impl Fn(&str) -> Option<Option<char>>,
) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(prefix) {
        out.push_str(&rest[..start]);
        let after = &rest[start + prefix.len()..];
        let name_end = after.find(';').filter(|end| !after[..*end].contains('&'));
        let decoded = match name_end {
            Some(end) => decode(&after[..end])?.map(|c| (c, end)),
            None => None,
        };
        if let Some((c, end)) = decoded {
            out.push(c);
            rest = &after[end + 1..];
        } else {
            out.push_str(&rest[start..start + prefix.len()]);
            rest = after;
        }
    }
    out.push_str(rest);
    Some(out)
}

fn collapse_runs(text: &str, in_run: impl Fn(char) -> bool, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut running = false;
    for c in text.chars() {
        if in_run(c) {
            if !running {
                out.push_str(with);
                running = true;
            }
        } else {
            out.push(c);
            running = false;
        }
    }
    out
}

/// `(?<=\d),(?=\d)` → ``: drops thousands separators.
fn remove_commas_between_digits(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ','
            && i > 0
            && chars[i - 1].is_numeric()
            && chars.get(i + 1).is_some_and(|n| n.is_numeric())
        {
            continue;
        }
        out.push(c);
    }
    out
}

/// python-slugify's `smart_truncate` with its `-` separator, counting characters.
fn smart_truncate(text: &str, max_length: i64, word_boundary: bool, save_order: bool) -> String {
    let text = text.trim_matches('-');
    let max = usize::try_from(max_length).unwrap_or(0);
    let len = text.chars().count();
    if max == 0 || len < max {
        return text.to_owned();
    }
    let prefix = |n: usize| text.chars().take(n).collect::<String>();
    if !word_boundary {
        return prefix(max).trim_matches('-').to_owned();
    }
    if !text.contains('-') {
        return prefix(max);
    }
    let mut truncated = String::new();
    for word in text.split('-') {
        if word.is_empty() {
            continue;
        }
        let next_len = truncated.chars().count() + word.chars().count();
        if next_len < max {
            truncated.push_str(word);
            truncated.push('-');
        } else if next_len == max {
            truncated.push_str(word);
            break;
        } else if save_order {
            break;
        }
    }
    if truncated.is_empty() {
        truncated = prefix(max);
    }
    truncated.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(text: &str) -> String {
        slugify(text, &SlugifyOptions::default()).unwrap()
    }

    #[test]
    fn basic_slugs() {
        assert_eq!(slug("Hello World!"), "hello-world");
        assert_eq!(slug("This is a test ---"), "this-is-a-test");
        assert_eq!(slug("1,000 dollars"), "1000-dollars");
        assert_eq!(slug("Ærøskøbing"), "aeroskobing");
        assert_eq!(slug("影師嗎"), "ying-shi-ma");
        assert_eq!(slug("jaja---lol-méméméoo--a"), "jaja-lol-mememeoo-a");
    }

    #[test]
    fn options() {
        let o = SlugifyOptions {
            max_length: 9,
            word_boundary: true,
            separator: "_".into(),
            ..Default::default()
        };
        assert_eq!(slugify("one two three four", &o).unwrap(), "one_two");
    }
}

//! Jinja2 3.1's `urlize` (`jinja2.utils.urlize` with the filter's defaults): URLs and e-mail
//! addresses in text become links, the text is HTML-escaped.

use std::sync::LazyLock;

use regex::Regex;

static HTTP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        ^
        (
            (https?://|www\.)
            (([\w%-]+\.)+)?
            (
                [a-z]{2,63}
            |
                xn--[\w%]{2,59}
            )
        |
            ([\w%-]{2,63}\.)+
            (com|net|int|edu|gov|org|info|mil)
        |
            (https?://)
            (
                (([\d]{1,3})(\.[\d]{1,3}){3})
            |
                (\[([\da-f]{0,4}:){2}([\da-f]{0,4}:?){1,6}\])
            )
        )
        (?::[\d]{1,5})?
        (?:[/?\#]\S*)?
        $",
    )
    .expect("the URL pattern is valid")
});

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\S+@\w[\w.-]*\.\w+$").expect("the e-mail pattern is valid"));
static HEAD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([(<]|&lt;)+").expect("the head pattern is valid"));
static TAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([)>.,\n]|&gt;)+$").expect("the tail pattern is valid"));

/// The options of Jinja2's `urlize` filter, resolved (`rel` already joined and sorted).
pub struct Options {
    pub trim_url_limit: Option<usize>,
    pub rel: Option<String>,
    pub target: Option<String>,
    pub extra_schemes: Vec<String>,
}

/// `jinja2.utils.urlize(escape(text), …)`.
pub fn urlize(text: &str, options: &Options, escape: impl Fn(&str) -> String) -> String {
    let trim = |x: &str| match options.trim_url_limit {
        Some(limit) if x.chars().count() > limit => {
            format!("{}...", x.chars().take(limit).collect::<String>())
        }
        _ => x.to_owned(),
    };
    let rel_attr = options
        .rel
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| format!(" rel=\"{}\"", escape(r)))
        .unwrap_or_default();
    let target_attr = options
        .target
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| format!(" target=\"{}\"", escape(t)))
        .unwrap_or_default();
    let escaped = escape(text);
    let mut out = String::with_capacity(escaped.len());
    // `re.split(r"(\s+)", …)`: words and the blanks between them.
    let mut rest = escaped.as_str();
    while !rest.is_empty() {
        let blank_len = rest.len() - rest.trim_start_matches(crate::jinja::py_is_space).len();
        if blank_len > 0 {
            out.push_str(&rest[..blank_len]);
            rest = &rest[blank_len..];
            continue;
        }
        let end = rest.find(crate::jinja::py_is_space).unwrap_or(rest.len());
        out.push_str(&word(&rest[..end], options, &rel_attr, &target_attr, &trim));
        rest = &rest[end..];
    }
    out
}

fn word(
    word: &str,
    options: &Options,
    rel_attr: &str,
    target_attr: &str,
    trim: &dyn Fn(&str) -> String,
) -> String {
    let mut head = "";
    let mut middle = word.to_owned();
    let mut tail = String::new();
    if let Some(m) = HEAD.find(&middle) {
        head = &word[..m.end()];
        middle = middle[m.end()..].to_owned();
    }
    if let Some(m) = TAIL.find(&middle) {
        tail = middle[m.start()..].to_owned();
        middle.truncate(m.start());
    }
    for (start, end) in [("(", ")"), ("<", ">"), ("&lt;", "&gt;")] {
        let start_count = middle.matches(start).count();
        if start_count <= middle.matches(end).count() {
            continue;
        }
        for _ in 0..start_count.min(tail.matches(end).count()) {
            let Some(at) = tail.find(end) else { break };
            let end_index = at + end.len();
            middle.push_str(&tail[..end_index]);
            tail = tail[end_index..].to_owned();
        }
    }
    let middle = if HTTP.is_match(&middle) {
        let href = if middle.starts_with("https://") || middle.starts_with("http://") {
            middle.clone()
        } else {
            format!("https://{middle}")
        };
        format!(
            "<a href=\"{href}\"{rel_attr}{target_attr}>{}</a>",
            trim(&middle)
        )
    } else if let Some(address) = middle.strip_prefix("mailto:")
        && EMAIL.is_match(address)
    {
        format!("<a href=\"{middle}\">{address}</a>")
    } else if middle.contains('@')
        && !middle.starts_with("www.")
        && !middle.starts_with('@')
        && !middle.contains(':')
        && EMAIL.is_match(&middle)
    {
        format!("<a href=\"mailto:{middle}\">{middle}</a>")
    } else {
        let mut linked = middle.clone();
        for scheme in &options.extra_schemes {
            if middle != *scheme && middle.starts_with(scheme.as_str()) {
                linked = format!("<a href=\"{middle}\"{rel_attr}{target_attr}>{middle}</a>");
            }
        }
        linked
    };
    format!("{head}{middle}{tail}")
}

//! Python's `textwrap.wrap` as Jinja2's `wordwrap` filter calls it (`expand_tabs=False`,
//! `replace_whitespace=False`, `drop_whitespace=True`): the same chunks (`wordsep_re`, with
//! its hyphen and em-dash rules) and the same line filling.

/// textwrap's whitespace: ASCII only.
fn is_ws(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

/// Python's `\w`.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `[^\d\W]`: a word character that is not a digit.
fn is_letter(c: char) -> bool {
    is_word(c) && !c.is_numeric()
}

/// `[\w!"'&.,?]`
fn is_word_punct(c: char) -> bool {
    is_word(c) || matches!(c, '!' | '"' | '\'' | '&' | '.' | ',' | '?')
}

/// At `at`: two or more `-` followed by a word character (`-{2,}(?=\w)`); returns the end.
fn em_dash(chars: &[char], at: usize) -> Option<usize> {
    let mut end = at;
    while end < chars.len() && chars[end] == '-' {
        end += 1;
    }
    (end - at >= 2 && chars.get(end).copied().is_some_and(is_word)).then_some(end)
}

/// The end of the `wordsep_re` match starting at `p` (it always matches one character or more).
fn chunk_end(chars: &[char], p: usize, hyphens: bool) -> usize {
    if is_ws(chars[p]) {
        let mut end = p;
        while end < chars.len() && is_ws(chars[end]) {
            end += 1;
        }
        return end;
    }
    if !hyphens {
        let mut end = p;
        while end < chars.len() && !is_ws(chars[end]) {
            end += 1;
        }
        return end;
    }
    let at = |i: usize| chars.get(i).copied();
    let letter = |i: usize| at(i).is_some_and(is_letter);
    if p > 0
        && is_word_punct(chars[p - 1])
        && let Some(end) = em_dash(chars, p)
    {
        return end;
    }
    // `\S+?` then: a hyphen inside a hyphenated word, the end of the word, or an em-dash.
    let mut k = p + 1;
    while k <= chars.len() && !is_ws(chars[k - 1]) {
        if at(k) == Some('-') {
            let behind = (k >= 2 && letter(k - 2) && letter(k - 1))
                || (k >= 3 && letter(k - 3) && at(k - 2) == Some('-') && letter(k - 1));
            let ahead =
                letter(k + 1) && (letter(k + 2) || (at(k + 2) == Some('-') && letter(k + 3)));
            if behind && ahead {
                return k + 1;
            }
        }
        if k == chars.len() || is_ws(chars[k]) {
            return k;
        }
        if is_word_punct(chars[k - 1]) && em_dash(chars, k).is_some() {
            return k;
        }
        k += 1;
    }
    k.min(chars.len())
}

fn split_chunks(text: &str, hyphens: bool) -> Vec<Vec<char>> {
    let chars: Vec<char> = text.chars().collect();
    let mut chunks = Vec::new();
    let mut p = 0;
    while p < chars.len() {
        let end = chunk_end(&chars, p, hyphens).max(p + 1);
        chunks.push(chars[p..end].to_vec());
        p = end;
    }
    chunks
}

fn is_blank(chunk: &[char]) -> bool {
    chunk.iter().all(|c| crate::jinja::py_is_space(*c))
}

/// `textwrap.wrap(text, width, …)`; `width` is at least 1.
pub fn wrap(text: &str, width: usize, break_long_words: bool, hyphens: bool) -> Vec<String> {
    let mut chunks = split_chunks(text, hyphens);
    chunks.reverse();
    let mut lines: Vec<String> = Vec::new();
    while !chunks.is_empty() {
        let mut line: Vec<Vec<char>> = Vec::new();
        let mut len = 0;
        if !lines.is_empty() && chunks.last().is_some_and(|c| is_blank(c)) {
            chunks.pop();
        }
        while let Some(chunk) = chunks.last() {
            if len + chunk.len() <= width {
                len += chunk.len();
                line.extend(chunks.pop());
            } else {
                break;
            }
        }
        if let Some(chunk) = chunks.last_mut()
            && chunk.len() > width
        {
            // `_handle_long_word`
            let space_left = if width < 1 { 1 } else { width - len };
            if break_long_words {
                let mut end = space_left;
                if hyphens && chunk.len() > space_left {
                    let hyphen = chunk[..space_left].iter().rposition(|c| *c == '-');
                    if let Some(h) = hyphen
                        && h > 0
                        && chunk[..h].iter().any(|c| *c != '-')
                    {
                        end = h + 1;
                    }
                }
                let rest = chunk.split_off(end.min(chunk.len()));
                line.push(std::mem::replace(chunk, rest));
            } else if line.is_empty() {
                line.extend(chunks.pop());
            }
        }
        if line.last().is_some_and(|c| is_blank(c)) {
            line.pop();
        }
        if !line.is_empty() {
            lines.push(line.concat().into_iter().collect());
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_like_python() {
        assert_eq!(
            wrap(
                "The quick brown fox jumps over the lazy dog",
                10,
                true,
                true
            ),
            ["The quick", "brown fox", "jumps over", "the lazy", "dog"]
        );
        assert_eq!(
            wrap("a well-known command-line tool", 12, true, true),
            ["a well-known", "command-line", "tool"]
        );
        assert_eq!(wrap("abcdefghij", 4, true, true), ["abcd", "efgh", "ij"]);
        assert_eq!(
            wrap("see the command-line tool", 14, true, true),
            ["see the", "command-line", "tool"]
        );
        assert_eq!(wrap("foo--bar baz", 5, true, true), ["foo--", "bar", "baz"]);
        assert_eq!(wrap("abcdefghij xy", 4, false, true), ["abcdefghij", "xy"]);
    }
}

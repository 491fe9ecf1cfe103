//! The pieces of cookiecutter's stack that are pure functions, compared with the real Python
//! packages in the venv named by `META_TEST_VENV`: text-unidecode over the whole Basic
//! Multilingual Plane, and python-slugify over a sample of Latin, Greek and Cyrillic text with
//! its keyword arguments.

use std::path::PathBuf;
use std::process::Command;

use meta_template::{SlugifyOptions, slugify, transliterate};

fn python() -> PathBuf {
    let venv = std::env::var_os("META_TEST_VENV").unwrap_or_else(|| {
        panic!(
            "META_TEST_VENV is not set: these tests compare with the real python-slugify and \
             text-unidecode and need the venv made by `bash .ci/run` (then run \
             `META_TEST_VENV=$PWD/.venv cargo test`)"
        )
    });
    let python = PathBuf::from(venv).join("bin/python");
    assert!(python.is_file(), "no Python at {}", python.display());
    python
}

fn run_python(script: &str, input: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new(python())
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("python reads its input");
    let out = child.wait_with_output().expect("python finishes");
    assert!(out.status.success(), "python failed");
    String::from_utf8(out.stdout).expect("python writes UTF-8")
}

#[test]
fn transliteration_matches_text_unidecode_over_the_bmp() {
    let script = r"
import json, sys
from text_unidecode import unidecode
out = {}
for cp in range(1, 0x10000):
    if 0xD800 <= cp < 0xE000:
        continue
    out[cp] = unidecode(chr(cp))
json.dump(out, sys.stdout)
";
    let expected: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&run_python(script, "")).expect("JSON from python");
    let mut differ = Vec::new();
    for (cp, want) in &expected {
        let c = char::from_u32(cp.parse().expect("code point")).expect("valid char");
        let got = transliterate(&c.to_string());
        if &got != want {
            differ.push(format!(
                "U+{:04X} {c:?}: text-unidecode {want:?}, meta {got:?}",
                u32::from(c)
            ));
        }
    }
    assert!(expected.len() > 60_000);
    assert!(
        differ.is_empty(),
        "{} code points differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
    // Past the BMP, text-unidecode drops characters.
    assert_eq!(transliterate("a🎉b"), "ab");
}

#[test]
fn slugify_matches_python_slugify() {
    let samples = [
        "Hello World!",
        "Peanut Butter Cookie",
        "Ærøskøbing Straße œuvre ĳ ŁÓDŹ Ðð Þþ",
        "Crème brûlée à la française, s'il vous plaît",
        "Zażółć gęślą jaźń — Příliš žluťoučký kůň úpěl ďábelské ódy",
        "Ελληνικά κείμενα: Αθήνα, Θεσσαλονίκη, ψυχή, ΣΟΦΊΑ σοφίας",
        "Русский текст: Москва, щука, ёжик, Съешь же ещё этих мягких французских булок",
        "Українська: Київ, їжак, ґанок; Беларуская: Мінск, ў",
        "Српски: Београд, Ђорђе, Љубав, Њујорк, Џеп",
        "1,000,000 dollars & 50% off <b>now</b> &amp; &eacute;t&eacute; &#233; &#x41;",
        "it's a 'quoted' \"thing\" -- with---dashes",
        "   leading and trailing   ",
        "ÀÁÂÃÄÅ àáâãäå ÈÉÊË ÌÍÎÏ ÒÓÔÕÖØ ÙÚÛÜ Ýÿ Ññ Çç",
        "ﬁ ﬂ ½ ① ™ ℃ Ⅻ",
        "北京 東京 서울",
    ];
    #[allow(clippy::type_complexity)]
    let variants: [(&str, fn() -> SlugifyOptions); 8] = [
        ("{}", SlugifyOptions::default),
        (r#"{"separator": "_"}"#, || SlugifyOptions {
            separator: "_".into(),
            ..Default::default()
        }),
        (r#"{"max_length": 15}"#, || SlugifyOptions {
            max_length: 15,
            ..Default::default()
        }),
        (r#"{"max_length": 15, "word_boundary": true}"#, || {
            SlugifyOptions {
                max_length: 15,
                word_boundary: true,
                ..Default::default()
            }
        }),
        (r#"{"lowercase": false}"#, || SlugifyOptions {
            lowercase: false,
            ..Default::default()
        }),
        (r#"{"allow_unicode": true}"#, || SlugifyOptions {
            allow_unicode: true,
            ..Default::default()
        }),
        (
            r#"{"entities": false, "decimal": false, "hexadecimal": false}"#,
            || SlugifyOptions {
                entities: false,
                decimal: false,
                hexadecimal: false,
                ..Default::default()
            },
        ),
        (
            r#"{"stopwords": ["the", "a", "and"], "replacements": [["&", "and"]]}"#,
            || SlugifyOptions {
                stopwords: vec!["the".into(), "a".into(), "and".into()],
                replacements: vec![("&".into(), "and".into())],
                ..Default::default()
            },
        ),
    ];
    let script = r#"
import json, sys
from slugify import slugify
job = json.load(sys.stdin)
json.dump([[slugify(s, **json.loads(v)) for s in job["samples"]] for v in job["variants"]], sys.stdout)
"#;
    let job = serde_json::json!({
        "samples": samples,
        "variants": variants.iter().map(|(json, _)| *json).collect::<Vec<_>>(),
    });
    let expected: Vec<Vec<String>> =
        serde_json::from_str(&run_python(script, &job.to_string())).expect("JSON from python");
    let mut differ = Vec::new();
    for ((json, options), want) in variants.iter().zip(&expected) {
        for (sample, want) in samples.iter().zip(want) {
            let got = slugify(sample, &options()).expect("slugify");
            if &got != want {
                differ.push(format!(
                    "slugify({sample:?}, {json}): python {want:?}, meta {got:?}"
                ));
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// Expressions and statements as templates write them, rendered by Jinja2 (cookiecutter's
/// `StrictEnvironment`, `keep_trailing_newline=True`) and by meta: same text, or both fail.
#[test]
fn jinja_expressions_match_jinja2() {
    let context = r#"{"name": "Hello wORLD's-fine (ok)", "n": 7, "f": 2.5, "flag": true, "off": false, "none": null,
        "items": ["b", "A", "c"], "nums": [3, 1, 2], "d": {"k": "v", "a": [1, {"x": null}]}, "text": " a\tb \n c "}"#;
    let cases: Vec<&str> = include_str!("jinja_cases.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("##"))
        .collect();
    let script = r#"
import json, sys
from collections import OrderedDict
from cookiecutter.environment import StrictEnvironment
job = json.load(sys.stdin)
job["context"] = json.loads(job["context"], object_pairs_hook=OrderedDict)
env = StrictEnvironment(context={"cookiecutter": job["context"]}, keep_trailing_newline=True)
out = []
for case in job["cases"]:
    try:
        out.append(["ok", env.from_string(case).render(cookiecutter=job["context"])])
    except Exception as e:
        out.append(["error", type(e).__name__ + ": " + str(e)])
json.dump(out, sys.stdout)
"#;
    let job = serde_json::json!({"context": context, "cases": cases});
    let expected: Vec<(String, String)> =
        serde_json::from_str(&run_python(script, &job.to_string())).expect("JSON from python");
    let raw = meta_template::Raw::from_json(context).expect("context");
    let mut differ = Vec::new();
    for (case, (status, want)) in cases.iter().zip(&expected) {
        let got = meta_template::render_str(case, &raw);
        match (status.as_str(), got) {
            ("ok", Ok(got)) if &got == want => {}
            ("error", Err(_)) => {}
            (_, got) => differ.push(format!(
                "{case}\n    jinja2: {status} {want:?}\n    meta:   {got:?}"
            )),
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} differ:\n{}",
        differ.len(),
        cases.len(),
        differ.join("\n")
    );
}

/// The user config's YAML read as PyYAML's `safe_load` reads it: each document's
/// `default_context` printed with `tojson` by Jinja2 and by meta. Documents meta refuses must
/// be ones it names (anchors, tags, dates, …), never a different reading.
#[test]
fn user_config_yaml_matches_pyyaml() {
    let docs: Vec<String> = include_str!("yaml_cases.txt")
        .split("\n%%\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| format!("default_context:\n{d}\n"))
        .collect();
    let script = r#"
import json, sys, yaml, jinja2
env = jinja2.Environment()
out = []
for doc in json.load(sys.stdin):
    try:
        ctx = yaml.safe_load(doc)["default_context"]
        out.append(["ok", env.from_string("{{ d|tojson }}").render(d=ctx)])
    except Exception as e:
        out.append(["error", type(e).__name__ + ": " + str(e)])
json.dump(out, sys.stdout)
"#;
    let expected: Vec<(String, String)> = serde_json::from_str(&run_python(
        script,
        &serde_json::to_string(&docs).expect("JSON"),
    ))
    .expect("JSON from python");
    let mut differ = Vec::new();
    for (doc, (status, want)) in docs.iter().zip(&expected) {
        let got = meta_template::UserConfig::parse(doc).map(|c| {
            let ctx = meta_template::Raw::Dict(c.default_context.into_iter().collect());
            meta_template::render_str("{{ cookiecutter|tojson }}", &ctx)
        });
        match (status.as_str(), got) {
            ("ok", Ok(Ok(got))) if &got == want => {}
            ("error", Err(_)) => {}
            (_, Err(e)) if e.to_string().contains("which meta cannot read") => {}
            (_, got) => differ.push(format!(
                "{doc}\n    pyyaml: {status} {want}\n    meta:   {got:?}"
            )),
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} differ:\n{}",
        differ.len(),
        docs.len(),
        differ.join("\n")
    );
}

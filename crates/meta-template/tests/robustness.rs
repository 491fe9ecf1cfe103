//! Malformed input never crashes the renderer: random template text, file names, globs and slug
//! input are thrown at the public entry points (a small deterministic fuzzer, so failures
//! reproduce). Paths that render outside the output folder are refused, whatever they look like.

use meta_template::{
    NoPrompt, Raw, RenderOptions, SlugifyOptions, Template, render, render_str, slugify,
};

/// xorshift: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[usize::try_from(self.next() % items.len() as u64).expect("below the length")]
    }

    fn text(&mut self, pieces: &[&str], max: u64) -> String {
        let n = self.next() % max;
        (0..n).map(|_| self.pick(pieces)).collect()
    }
}

const TEMPLATE_PIECES: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "-",
    "+",
    " ",
    "\n",
    "\r",
    "\r\n",
    "now",
    "raw",
    "endraw",
    "if",
    "endif",
    "for",
    "in",
    "endfor",
    "break",
    "'utc'",
    "'",
    "\"",
    ",",
    "x",
    "cookiecutter",
    ".",
    "name",
    "|",
    "slugify",
    "jsonify",
    "(",
    ")",
    "[",
    "]",
    "é",
    "日",
    "🎉",
    "\0",
    "\\",
    "%Y",
    "days=1",
    "set",
    "=",
    "macro",
    "include",
    "extends",
    "'a.txt'",
    "~",
    "*",
    "/",
    "0",
    "1e999",
];

#[test]
fn random_template_text_never_panics() {
    let context = Raw::from_json(r#"{"name": "N", "list": [1, 2], "d": {"k": "v"}}"#).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let source = rng.text(TEMPLATE_PIECES, 24);
        let _ = render_str(&source, &context);
    }
}

#[test]
fn random_slug_input_never_panics() {
    let pieces = [
        "&",
        "#",
        "x",
        ";",
        "amp",
        "&#",
        "&#x",
        "123",
        "FFFFFFFFFF",
        "'",
        "-",
        " ",
        "é",
        "ß",
        "Σ",
        "ς",
        "ǅ",
        "\u{301}",
        "\u{200d}",
        "🎉",
        "1,0",
        ",",
        "\0",
    ];
    let mut rng = Rng(42);
    for i in 0..20_000 {
        let text = rng.text(&pieces, 20);
        let options = SlugifyOptions {
            max_length: i64::try_from(rng.next() % 12).unwrap() - 2,
            word_boundary: i % 2 == 0,
            save_order: i % 3 == 0,
            allow_unicode: i % 5 == 0,
            separator: rng.pick(&["-", "_", "", "--"]).to_owned(),
            ..Default::default()
        };
        let _ = slugify(&text, &options);
    }
}

/// Rendered file and folder names that climb out (`..`, absolute paths, `/` runs) are refused
/// and leave nothing behind; others land inside the project.
#[test]
fn rendered_paths_never_escape_the_output_folder() {
    let work = tempfile::tempdir().unwrap();
    let tpl = work.path().join("tpl");
    let project = tpl.join("{{cookiecutter.slug}}");
    std::fs::create_dir_all(project.join("{{cookiecutter.dir}}")).unwrap();
    std::fs::write(
        tpl.join("cookiecutter.json"),
        r#"{"slug": "p", "dir": "d", "file": "f"}"#,
    )
    .unwrap();
    std::fs::write(
        project.join("{{cookiecutter.dir}}/{{cookiecutter.file}}"),
        "x\n",
    )
    .unwrap();
    let template = Template::open(&tpl).unwrap();
    let pieces = ["..", "/", ".", "a", "..a", " ", "\\", "é", "//", "../"];
    let mut rng = Rng(7);
    let out = work.path().join("out");
    for i in 0..300 {
        let value = rng.text(&pieces, 6);
        let key = rng.pick(&["slug", "dir", "file"]);
        let options = RenderOptions::new(out.join(i.to_string()))
            .no_input(true)
            .extra(key, value.clone());
        let result = render(&template, &options, &mut NoPrompt);
        if let Ok(project) = result {
            let root = std::fs::canonicalize(out.join(i.to_string())).unwrap();
            let made = std::fs::canonicalize(&project.project_dir).unwrap();
            assert!(
                made.starts_with(&root),
                "{key}={value:?} made {}",
                made.display()
            );
        }
    }
    // Nothing escaped: the only things beside `out` are the template and `out` itself.
    let mut names: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["out", "tpl"]);
}

//! The template renderer on arbitrary templates: a `cookiecutter.json`, a templated folder
//! name, a templated file name and its content (Jinja), rendered with `--no-input` and hooks
//! off into a fresh temporary folder. Never a panic; nothing is written outside that folder;
//! the pure helpers (`render_str`, `fnmatch`-driven `_copy_without_render`) see the same text.
//!
//! Input: four parts separated by NUL bytes: cookiecutter.json, folder name, file name, content.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use meta_template::{NoPrompt, Raw, RenderOptions, Template, render, render_str};

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        out.push(path.clone());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&path, out);
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let mut parts = text.splitn(4, '\0');
    let json = parts.next().unwrap_or_default();
    let folder = parts.next().unwrap_or("{{cookiecutter.project_slug}}");
    let file = parts.next().unwrap_or("README.md");
    let content = parts.next().unwrap_or_default();

    // The Jinja text alone, with the context as the `cookiecutter` variable.
    let context = Raw::from_json(json).unwrap_or(Raw::Null);
    let _ = render_str(content, &context);

    // A whole template on disk: a folder per template, a sibling folder for the output, and a
    // sentinel next to both that nothing may touch.
    let Ok(root) = tempfile::tempdir() else {
        return;
    };
    let template_dir = root.path().join("template");
    let output_dir = root.path().join("out");
    let sentinel_dir = root.path().join("outside");
    for dir in [&template_dir, &output_dir, &sentinel_dir] {
        std::fs::create_dir(dir).expect("create a temporary folder");
    }
    // Folder and file names that are not plain names would make the template itself escape
    // (the fuzzer does not get to write outside the temporary folder either).
    let plain = |name: &str| !name.is_empty() && !name.contains('/') && name != "." && name != "..";
    if !plain(folder) || !plain(file) {
        return;
    }
    std::fs::write(template_dir.join("cookiecutter.json"), json).expect("write the template");
    let project = template_dir.join(folder);
    if std::fs::create_dir(&project).is_err() {
        return;
    }
    if std::fs::write(project.join(file), content).is_err() {
        return;
    }
    let Ok(template) = Template::open(&template_dir) else {
        return;
    };
    let mut options = RenderOptions::new(&output_dir).no_input(true);
    options.accept_hooks = false;
    let result = render(&template, &options, &mut NoPrompt);
    let mut written = Vec::new();
    walk(root.path(), &mut written);
    for path in &written {
        assert!(
            path == &sentinel_dir
                || path.starts_with(&template_dir)
                || path.starts_with(&output_dir),
            "rendering wrote {} outside its output folder",
            path.display()
        );
    }
    if let Ok(project) = result {
        assert!(
            project
                .project_dir
                .starts_with(std::fs::canonicalize(&output_dir).expect("the output folder exists"))
                || project.project_dir.starts_with(&output_dir)
        );
    }
});

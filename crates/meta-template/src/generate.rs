//! From context to files: cookiecutter's `generate_files`. Everything is rendered in memory
//! first, so a template error leaves the disk untouched; then the project folder is created,
//! hooks run and files are written in cookiecutter's order. A failure after the project folder
//! was created by this run removes it.

use std::collections::VecDeque;
use std::io::Read as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Component, Path, PathBuf};

use minijinja::Environment;
use minijinja::value::Value;

use crate::binary::is_binary;
use crate::error::TemplateError;
use crate::hooks::{HookRunner, POST_GEN, PRE_GEN, RenderedHook, render_hooks};
use crate::jinja::{LoaderPaths, Syntax, prepare_source};

/// What `generate_files` needs besides the context.
pub struct Generation<'a> {
    pub repo_dir: &'a Path,
    pub output_dir: &'a Path,
    pub overwrite_if_exists: bool,
    pub skip_if_file_exists: bool,
    pub accept_hooks: bool,
    pub hooks: &'a HookRunner,
    pub syntax: &'a Syntax,
    /// Renders names and hooks (no loader).
    pub env: &'a Environment<'static>,
    /// Renders file contents (loader over the templated folder and `templates/`).
    pub file_env: &'a Environment<'static>,
    /// `{"cookiecutter": ..., "_cookiecutter": ...}`.
    pub context: &'a Value,
    /// `_copy_without_render` patterns.
    pub copy_without_render: Vec<String>,
    /// `_new_lines`, when set.
    pub new_lines: Option<String>,
}

/// What a successful run produced.
#[derive(Debug, Clone)]
pub struct Generated {
    pub project_dir: PathBuf,
    pub files_written: usize,
    pub files_skipped: usize,
}

enum Op {
    /// A `_copy_without_render` folder, copied whole.
    CopyDir { src: PathBuf, dst: PathBuf },
    /// A folder of the template (`render_and_create_dir`).
    MakeDir { dst: PathBuf },
    /// A `_copy_without_render` file.
    CopyFile { src: PathBuf, dst: PathBuf },
    /// A template file: rendered text (or the error rendering it gave), or a binary copy.
    File {
        src: PathBuf,
        dst: PathBuf,
        /// `None` when the rendered name is empty: cookiecutter skips such files.
        content: Option<Content>,
    },
}

enum Content {
    Binary,
    Text(Result<String, TemplateError>),
}

/// cookiecutter's `find_template`: the first entry of `repo_dir` (directory order) whose name
/// holds `cookiecutter` and the variable delimiters.
pub fn find_template_dir(repo_dir: &Path, syntax: &Syntax) -> Result<PathBuf, TemplateError> {
    let entries = fs_err::read_dir(repo_dir).map_err(|e| TemplateError::io("read", repo_dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| TemplateError::io("read", repo_dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.contains("cookiecutter")
            && name.contains(syntax.variable.0.as_str())
            && name.contains(syntax.variable.1.as_str())
        {
            return Ok(entry.path());
        }
    }
    Err(TemplateError::NoTemplatedDir {
        repo: repo_dir.to_path_buf(),
        open: syntax.variable.0.clone(),
        close: syntax.variable.1.clone(),
    })
}

/// Python's `fnmatch.fnmatch` on POSIX (case-sensitive; `*` crosses `/`).
///
/// Every token but `*` matches exactly one character, so one backtracking point (the last `*`)
/// is enough: time is at most name length × pattern length, whatever the pattern. (Trying every
/// split at every `*` took seconds for `*a*a*a*a*a*a*a*a*b` against 30 `a`s, and doubled with
/// each `*`: a template's `_copy_without_render` could stall `meta new`.)
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    let tokens = glob_tokens(&pattern);
    let (mut n, mut t) = (0, 0);
    // After the last `*` seen: the token following it, and where in the name it resumes.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match tokens.get(t) {
            Some(Glob::Star) => {
                star = Some((t + 1, n));
                t += 1;
                continue;
            }
            Some(token) if token.matches(name[n]) => {
                t += 1;
                n += 1;
                continue;
            }
            _ => {}
        }
        // A mismatch: let the last `*` take one more character, or fail without one.
        let Some((after, resume)) = star else {
            return false;
        };
        star = Some((after, resume + 1));
        t = after;
        n = resume + 1;
    }
    tokens[t..].iter().all(|token| matches!(token, Glob::Star))
}

/// One piece of an `fnmatch` pattern.
#[derive(Debug)]
enum Glob<'p> {
    Star,
    Any,
    Char(char),
    Class { negate: bool, class: &'p [char] },
}

impl Glob<'_> {
    fn matches(&self, c: char) -> bool {
        match self {
            Glob::Star | Glob::Any => true,
            Glob::Char(expected) => *expected == c,
            Glob::Class { negate, class } => {
                let mut matched = false;
                let mut k = 0;
                while k < class.len() {
                    if k + 2 < class.len() && class[k + 1] == '-' {
                        matched |= class[k] <= c && c <= class[k + 2];
                        k += 3;
                    } else {
                        matched |= class[k] == c;
                        k += 1;
                    }
                }
                matched != *negate
            }
        }
    }
}

fn glob_tokens(pattern: &[char]) -> Vec<Glob<'_>> {
    let mut tokens = Vec::with_capacity(pattern.len());
    let mut i = 0;
    while let Some(&c) = pattern.get(i) {
        i += 1;
        tokens.push(match c {
            '*' => Glob::Star,
            '?' => Glob::Any,
            '[' => {
                // A class runs to the first `]` after an optional `!` and a leading `]`.
                let rest = &pattern[i..];
                let mut j = 0;
                if rest.first() == Some(&'!') {
                    j += 1;
                }
                if rest.get(j) == Some(&']') {
                    j += 1;
                }
                while j < rest.len() && rest[j] != ']' {
                    j += 1;
                }
                if j >= rest.len() {
                    // No closing bracket: a literal `[`.
                    Glob::Char('[')
                } else {
                    i += j + 1;
                    match rest[..j].split_first() {
                        Some(('!', class)) => Glob::Class {
                            negate: true,
                            class,
                        },
                        _ => Glob::Class {
                            negate: false,
                            class: &rest[..j],
                        },
                    }
                }
            }
            c => Glob::Char(c),
        });
    }
    tokens
}

/// `os.path.normpath` without touching the disk.
pub fn normpath(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(component),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// `base.join(rendered)`, refused when it would leave `base`.
fn inside(base: &Path, rendered: &str) -> Result<PathBuf, TemplateError> {
    let relative = Path::new(rendered);
    let outside = || TemplateError::OutsideOutput {
        rendered: rendered.to_owned(),
        base: base.to_path_buf(),
    };
    if relative.is_absolute() {
        return Err(outside());
    }
    let normal = normpath(relative);
    if normal.components().next() == Some(Component::ParentDir) {
        return Err(outside());
    }
    let mut path = base.join(&normal);
    // Keep a trailing slash: it is how an empty rendered file name shows.
    if rendered.ends_with('/') || rendered.is_empty() {
        path.push("");
    }
    Ok(path)
}

impl Generation<'_> {
    fn render_name(&self, name: &str, what: &str) -> Result<String, TemplateError> {
        let source = prepare_source(name, self.syntax);
        self.env
            .render_named_str(name, &source, self.context.clone())
            .map_err(|e| TemplateError::render(format!("{what} `{name}`"), name, &source, &e))
    }

    fn copy_only(&self, relative: &str) -> bool {
        self.copy_without_render
            .iter()
            .any(|p| fnmatch(relative, p))
    }

    /// Renders the project, runs the hooks and writes the files.
    pub fn run(&self) -> Result<Generated, TemplateError> {
        let template_dir = find_template_dir(self.repo_dir, self.syntax)?;
        let unrendered = template_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rendered = self.render_name(&unrendered, "the project folder name")?;
        let output_dir = std::path::absolute(self.output_dir)
            .map_err(|e| TemplateError::io("resolve", self.output_dir, e))?;
        let output_dir = normpath(&output_dir);
        let project_dir = inside(&output_dir, &rendered)?;
        let project_dir = normpath(&project_dir);
        if project_dir == output_dir {
            return Err(TemplateError::Render {
                target: format!("the project folder name `{unrendered}`"),
                message: "it renders to an empty name".into(),
                undefined: false,
            });
        }
        // cookiecutter checks the project folder before anything else is rendered.
        let existed = project_dir.exists();
        if existed && !self.overwrite_if_exists {
            return Err(TemplateError::OutputExists { path: project_dir });
        }
        // cookiecutter renders pre_gen_project before any file: what it does to the context
        // (`cookiecutter.update(…)`) the files see.
        let pre_gen = if self.accept_hooks {
            render_hooks(self.repo_dir, PRE_GEN, self.env, self.syntax, self.context)?
        } else {
            Vec::new()
        };
        let ops = self.plan(&template_dir, &project_dir)?;
        let created_root = if existed {
            None
        } else {
            let root = first_missing_ancestor(&project_dir);
            fs_err::create_dir_all(&project_dir)
                .map_err(|e| TemplateError::io("create folder", &project_dir, e))?;
            Some(root)
        };
        let result = self.write(&pre_gen, &ops, &project_dir);
        if result.is_err()
            && let Some(root) = created_root
        {
            let _ = fs_err::remove_dir_all(&root);
        }
        let (files_written, files_skipped) = result?;
        Ok(Generated {
            project_dir,
            files_written,
            files_skipped,
        })
    }

    fn write(
        &self,
        pre_gen: &[RenderedHook],
        ops: &[Op],
        project_dir: &Path,
    ) -> Result<(usize, usize), TemplateError> {
        self.hooks.run_scripts(PRE_GEN, pre_gen, project_dir)?;
        let mut written = 0;
        let mut skipped = 0;
        for op in ops {
            match op {
                Op::CopyDir { src, dst } => {
                    if dst.is_dir() {
                        fs_err::remove_dir_all(dst)
                            .map_err(|e| TemplateError::io("replace", dst, e))?;
                    }
                    copy_tree(src, dst)?;
                }
                Op::MakeDir { dst } => {
                    if dst.exists() {
                        if !self.overwrite_if_exists {
                            return Err(TemplateError::OutputExists { path: dst.clone() });
                        }
                    } else {
                        fs_err::create_dir_all(dst)
                            .map_err(|e| TemplateError::io("create folder", dst, e))?;
                    }
                }
                Op::CopyFile { src, dst } => {
                    copy_file(src, dst)?;
                    written += 1;
                }
                Op::File { src, dst, content } => {
                    let Some(content) = content else {
                        skipped += 1;
                        continue;
                    };
                    if dst.is_dir() || (self.skip_if_file_exists && dst.exists()) {
                        skipped += 1;
                        continue;
                    }
                    match content {
                        Content::Binary => copy_file(src, dst)?,
                        Content::Text(text) => {
                            let text = match text {
                                Ok(text) => text,
                                Err(e) => return Err(clone_error(e)),
                            };
                            let newline = match &self.new_lines {
                                Some(n) => Some(n.clone()),
                                None => detect_newline(src)?,
                            };
                            let bytes = match newline.as_deref() {
                                Some("\r\n") => text.replace('\n', "\r\n"),
                                Some("\r") => text.replace('\n', "\r"),
                                _ => text.clone(),
                            };
                            fs_err::write(dst, bytes)
                                .map_err(|e| TemplateError::io("write", dst, e))?;
                            copy_mode(src, dst)?;
                        }
                    }
                    written += 1;
                }
            }
        }
        if self.accept_hooks {
            self.hooks.run_rendered(
                self.repo_dir,
                POST_GEN,
                project_dir,
                self.env,
                self.syntax,
                self.context,
            )?;
        }
        Ok((written, skipped))
    }

    /// Walks the templated folder as `os.walk` does (top-down, names sorted) and renders every
    /// name and text file.
    fn plan(&self, template_dir: &Path, project_dir: &Path) -> Result<Vec<Op>, TemplateError> {
        let mut ops = Vec::new();
        // Relative folder paths still to visit, in os.walk's order.
        let mut queue: VecDeque<String> = VecDeque::from([String::new()]);
        while let Some(root) = queue.pop_front() {
            let dir = if root.is_empty() {
                template_dir.to_path_buf()
            } else {
                template_dir.join(&root)
            };
            let mut dirs = Vec::new();
            let mut files = Vec::new();
            let entries = fs_err::read_dir(&dir).map_err(|e| TemplateError::io("read", &dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| TemplateError::io("read", &dir, e))?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    return Err(TemplateError::Unsupported {
                        feature: format!(
                            "a file name that is not UTF-8 (`{}`)",
                            entry.path().display()
                        ),
                    });
                };
                let path = entry.path();
                let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
                if path.is_dir() {
                    dirs.push((name, is_link));
                } else {
                    files.push(name);
                }
            }
            dirs.sort();
            files.sort();
            let join = |name: &str| {
                if root.is_empty() {
                    name.to_owned()
                } else {
                    format!("{root}/{name}")
                }
            };
            let mut subdirs = Vec::new();
            // cookiecutter copies the copy-only folders first, then creates the others.
            let mut made = Vec::new();
            for (name, is_link) in &dirs {
                let relative = join(name);
                let rendered = self.render_name(&relative, "folder name")?;
                let dst = normpath(&inside(project_dir, &rendered)?);
                if self.copy_only(&relative) {
                    ops.push(Op::CopyDir {
                        src: template_dir.join(&relative),
                        dst,
                    });
                } else {
                    made.push(Op::MakeDir { dst });
                    if !is_link {
                        subdirs.push(relative);
                    }
                }
            }
            ops.extend(made);
            // os.walk visits subfolders after this folder's files are handled; cookiecutter
            // emits folder creations first, then files, then descends.
            for name in &files {
                let relative = join(name);
                let src = template_dir.join(&relative);
                let rendered = self.render_name(&relative, "file name")?;
                let dst = inside(project_dir, &rendered)?;
                if self.copy_only(&relative) {
                    ops.push(Op::CopyFile {
                        src,
                        dst: normpath(&dst),
                    });
                    continue;
                }
                let empty_name = rendered.is_empty() || rendered.ends_with('/');
                let content = if empty_name {
                    None
                } else if is_binary(&src).map_err(|e| TemplateError::io("read", &src, e))? {
                    Some(Content::Binary)
                } else {
                    Some(Content::Text(self.render_file(&relative)))
                };
                ops.push(Op::File {
                    src,
                    dst: if empty_name { dst } else { normpath(&dst) },
                    content,
                });
            }
            for sub in subdirs.into_iter().rev() {
                queue.push_front(sub);
            }
        }
        Ok(ops)
    }

    fn render_file(&self, relative: &str) -> Result<String, TemplateError> {
        let template = self
            .file_env
            .get_template(relative)
            .map_err(|e| TemplateError::render(format!("file `{relative}`"), relative, "", &e))?;
        template.render(self.context.clone()).map_err(|e| {
            let source = template.source().to_owned();
            TemplateError::render(format!("file `{relative}`"), relative, &source, &e)
        })
    }
}

/// The loader paths for file contents: the templated folder and `../templates`.
pub fn loader_paths(template_dir: &Path) -> LoaderPaths {
    LoaderPaths {
        search: vec![
            template_dir.to_path_buf(),
            template_dir.join("..").join("templates"),
        ],
    }
}

fn clone_error(e: &TemplateError) -> TemplateError {
    match e {
        TemplateError::Render {
            target,
            message,
            undefined,
        } => TemplateError::Render {
            target: target.clone(),
            message: message.clone(),
            undefined: *undefined,
        },
        other => TemplateError::Render {
            target: "a file".into(),
            message: other.to_string(),
            undefined: false,
        },
    }
}

fn first_missing_ancestor(path: &Path) -> PathBuf {
    let mut root = path.to_path_buf();
    while let Some(parent) = root.parent() {
        if parent.exists() {
            break;
        }
        root = parent.to_path_buf();
    }
    root
}

/// `shutil.copymode`: the permission bits of `src` onto `dst`.
fn copy_mode(src: &Path, dst: &Path) -> Result<(), TemplateError> {
    let mode = fs_err::metadata(src)
        .map_err(|e| TemplateError::io("read", src, e))?
        .permissions()
        .mode();
    fs_err::set_permissions(dst, std::fs::Permissions::from_mode(mode & 0o7777))
        .map_err(|e| TemplateError::io("set permissions of", dst, e))
}

fn copy_file(src: &Path, dst: &Path) -> Result<(), TemplateError> {
    fs_err::copy(src, dst).map_err(|e| TemplateError::io("copy to", dst, e))?;
    copy_mode(src, dst)
}

/// `shutil.copytree` (symlinks followed, permissions kept).
fn copy_tree(src: &Path, dst: &Path) -> Result<(), TemplateError> {
    fs_err::create_dir_all(dst).map_err(|e| TemplateError::io("create folder", dst, e))?;
    let entries = fs_err::read_dir(src).map_err(|e| TemplateError::io("read", src, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| TemplateError::io("read", src, e))?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        if from.is_dir() {
            copy_tree(&from, &to)?;
        } else {
            copy_file(&from, &to)?;
        }
    }
    copy_mode(src, dst)
}

/// The newline Python's universal-newline reader reports after reading the first line of `path`
/// (`open(path).readline(); f.newlines`): the kinds seen in the chunks read so far, and of those
/// the first in Python's order (`\r`, `\n`, `\r\n`). `None` when there is none.
pub fn detect_newline(path: &Path) -> Result<Option<String>, TemplateError> {
    const CHUNK: usize = 8192;
    let mut file = fs_err::File::open(path).map_err(|e| TemplateError::io("read", path, e))?;
    let (mut cr, mut lf, mut crlf) = (false, false, false);
    let mut pending_cr = false;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = read_full(&mut file, &mut buf).map_err(|e| TemplateError::io("read", path, e))?;
        let eof = n < CHUNK;
        let chunk = &buf[..n];
        let mut saw_line_end = false;
        let mut i = 0;
        if pending_cr {
            if chunk.first() == Some(&b'\n') {
                crlf = true;
                i = 1;
            } else if n > 0 || eof {
                cr = true;
            }
            pending_cr = false;
            saw_line_end = true;
        }
        while i < chunk.len() {
            match chunk[i] {
                b'\n' => {
                    lf = true;
                    saw_line_end = true;
                }
                b'\r' => {
                    if i + 1 < chunk.len() {
                        if chunk[i + 1] == b'\n' {
                            crlf = true;
                            i += 1;
                        } else {
                            cr = true;
                        }
                        saw_line_end = true;
                    } else if eof {
                        cr = true;
                        saw_line_end = true;
                    } else {
                        // The decoder holds a final `\r` back until it sees what follows.
                        pending_cr = true;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        if saw_line_end || eof {
            break;
        }
    }
    Ok(if cr {
        Some("\r".into())
    } else if lf {
        Some("\n".into())
    } else if crlf {
        Some("\r\n".into())
    } else {
        None
    })
}

fn read_full(file: &mut fs_err::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = file.read(&mut buf[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_like_python() {
        assert!(fnmatch("a/b.html", "*.html"));
        assert!(fnmatch("x.txt", "?.txt"));
        assert!(fnmatch("b", "[abc]"));
        assert!(!fnmatch("d", "[abc]"));
        assert!(fnmatch("d", "[!abc]"));
        assert!(fnmatch("[", "["));
        assert!(fnmatch("c", "[a-c]"));
        assert!(!fnmatch("A.html", "*.HTML"));
        assert!(fnmatch("abc", "*"));
        assert!(fnmatch("", "**"));
        assert!(!fnmatch("", "?"));
        assert!(fnmatch("]]", "[]]]"));
        assert!(!fnmatch("a]", "[]]]"));
        assert!(fnmatch("x", "[!]]"));
    }

    /// Found reading the code while fuzzing templates (fuzz/regressions/template/): each `*`
    /// tried every split, so the time doubled with each one. This never finished before.
    #[test]
    fn fnmatch_takes_time_in_proportion_to_its_input() {
        let name = "a".repeat(200);
        assert!(!fnmatch(
            &name,
            &"*a".repeat(40).replace("a*a*a*a", "a*b*a*a")
        ));
        assert!(!fnmatch(&name, &format!("{}b", "*a".repeat(40))));
        assert!(fnmatch(&name, &format!("{}a", "*a".repeat(40))));
    }

    /// The one-backtrack matcher answers as the recursive definition does, on every name of up
    /// to 3 characters and every pattern of up to 4 over an alphabet with all the pattern syntax.
    #[test]
    fn fnmatch_agrees_with_the_recursive_definition() {
        fn reference(n: &[char], p: &[char]) -> bool {
            let Some((&first, rest)) = p.split_first() else {
                return n.is_empty();
            };
            match first {
                '*' => (0..=n.len()).any(|i| reference(&n[i..], rest)),
                '?' => !n.is_empty() && reference(&n[1..], rest),
                '[' => {
                    let mut j = usize::from(rest.first() == Some(&'!'));
                    if rest.get(j) == Some(&']') {
                        j += 1;
                    }
                    while j < rest.len() && rest[j] != ']' {
                        j += 1;
                    }
                    if j >= rest.len() {
                        return n.first() == Some(&'[') && reference(&n[1..], rest);
                    }
                    let Some(&c) = n.first() else { return false };
                    let (negate, class) = match rest[..j].split_first() {
                        Some(('!', class)) => (true, class),
                        _ => (false, &rest[..j]),
                    };
                    let token = Glob::Class { negate, class };
                    token.matches(c) && reference(&n[1..], &rest[j + 1..])
                }
                c => n.first() == Some(&c) && reference(&n[1..], rest),
            }
        }
        fn all(alphabet: &[char], max: usize) -> Vec<String> {
            let mut out = vec![String::new()];
            let mut last = vec![String::new()];
            for _ in 0..max {
                last = last
                    .iter()
                    .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                    .collect();
                out.extend(last.iter().cloned());
            }
            out
        }
        let names = all(&['a', 'b', '-', ']', '['], 3);
        let patterns = all(&['a', 'b', '*', '?', '[', ']', '!', '-'], 4);
        for pattern in &patterns {
            let p: Vec<char> = pattern.chars().collect();
            for name in &names {
                let n: Vec<char> = name.chars().collect();
                assert_eq!(
                    fnmatch(name, pattern),
                    reference(&n, &p),
                    "{name:?} {pattern:?}"
                );
            }
        }
    }

    #[test]
    fn normpath_like_python() {
        assert_eq!(normpath(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normpath(Path::new("a/../../b")), PathBuf::from("../b"));
        assert_eq!(normpath(Path::new("/..")), PathBuf::from("/"));
    }

    #[test]
    fn newline_detection() {
        let dir = tempfile::tempdir().unwrap();
        let check = |bytes: &[u8]| {
            let p = dir.path().join("f");
            std::fs::write(&p, bytes).unwrap();
            detect_newline(&p).unwrap()
        };
        assert_eq!(check(b"a\r\nb\n"), Some("\n".into()));
        assert_eq!(check(b"a\r\nb\r\n"), Some("\r\n".into()));
        assert_eq!(check(b"a\rb\r\n"), Some("\r".into()));
        assert_eq!(check(b"abc"), None);
        let mut long = vec![b'x'; 9000];
        long.extend_from_slice(b"\r\n");
        assert_eq!(check(&long), Some("\r\n".into()));
    }
}

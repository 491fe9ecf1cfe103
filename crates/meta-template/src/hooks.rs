//! cookiecutter's hooks (`hooks/pre_prompt.*`, `hooks/pre_gen_project.*`,
//! `hooks/post_gen_project.*`): found, rendered (pre/post gen), and run.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use minijinja::Environment;
use minijinja::value::Value;

use crate::error::TemplateError;
use crate::jinja::{Syntax, prepare_source};

pub const PRE_PROMPT: &str = "pre_prompt";
pub const PRE_GEN: &str = "pre_gen_project";
pub const POST_GEN: &str = "post_gen_project";
const HOOKS: [&str; 3] = [PRE_PROMPT, PRE_GEN, POST_GEN];

/// The scripts of `hook` in `repo_dir/hooks`, in directory order (cookiecutter's `find_hook`):
/// files named `hook` or `hook.<ext>`, backups (`~`) excluded.
pub fn find_hooks(repo_dir: &Path, hook: &str) -> Result<Vec<PathBuf>, TemplateError> {
    let dir = repo_dir.join("hooks");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let entries = fs_err::read_dir(&dir).map_err(|e| TemplateError::io("read", &dir, e))?;
    let mut scripts = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| TemplateError::io("read", &dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stem = split_ext(name).0;
        if stem == hook && HOOKS.contains(&stem) && !name.ends_with('~') {
            scripts.push(
                std::path::absolute(entry.path())
                    .map_err(|e| TemplateError::io("read", entry.path(), e))?,
            );
        }
    }
    Ok(scripts)
}

/// Python's `os.path.splitext` on a file name: the extension starts at the last dot that is not
/// a leading one.
fn split_ext(name: &str) -> (&str, &str) {
    let leading = name.len() - name.trim_start_matches('.').len();
    match name[leading..].rfind('.') {
        Some(i) => name.split_at(leading + i),
        None => (name, ""),
    }
}

/// How to run hooks: which Python runs `.py` scripts.
#[derive(Debug)]
pub struct HookRunner {
    /// The Python as named (`python3`, looked up on PATH).
    python: PathBuf,
    /// Set for every hook (`META_TEMPLATE_OPERATION=update` while `meta template update`
    /// renders).
    env: Vec<(String, String)>,
    /// Its `sys.executable`, asked once, from the folder `meta` started in.
    resolved: OnceLock<Result<PathBuf, String>>,
}

impl HookRunner {
    pub fn new(python: PathBuf, env: Vec<(String, String)>) -> Self {
        Self {
            python,
            env,
            resolved: OnceLock::new(),
        }
    }

    /// The interpreter that runs `.py` hooks. cookiecutter runs them with its own
    /// `sys.executable`; the nearest equivalent is the interpreter `python3` is *now*, asked
    /// from where meta was started. Running `python3` by name in the project folder instead
    /// would let a file the template just wrote (`.python-version` under pyenv, a `.venv`
    /// picked up by a shim) switch interpreters between hooks.
    fn interpreter(&self) -> Result<PathBuf, String> {
        self.resolved
            .get_or_init(|| {
                let output = Command::new(&self.python)
                    .args(["-c", "import sys; sys.stdout.write(sys.executable or '')"])
                    .stdin(std::process::Stdio::null())
                    .output()
                    .map_err(|e| format!("cannot start `{}`: {e}", self.python.display()))?;
                if !output.status.success() {
                    return Err(format!(
                        "`{}` failed to start: {}",
                        self.python.display(),
                        String::from_utf8_lossy(&output.stderr).trim()
                    ));
                }
                let executable = String::from_utf8_lossy(&output.stdout).trim().to_owned();
                Ok(if executable.is_empty() {
                    self.python.clone()
                } else {
                    PathBuf::from(executable)
                })
            })
            .clone()
    }

    /// Runs `script` in `cwd` (cookiecutter's `run_script`): `.py` with Python, anything else
    /// directly, which needs a shebang.
    pub fn run_script(&self, hook: &str, script: &Path, cwd: &Path) -> Result<(), TemplateError> {
        let failed = |message: String| TemplateError::HookFailed {
            hook: hook.to_owned(),
            message,
        };
        make_executable(script)?;
        let is_python = script.extension().is_some_and(|e| e == "py");
        let mut command = if is_python {
            let python = self.interpreter().map_err(failed)?;
            let mut c = Command::new(python);
            c.arg(script);
            c
        } else {
            let head = fs_err::read(script).map_err(|e| TemplateError::io("read", script, e))?;
            if !head.starts_with(b"#!") {
                return Err(failed(format!(
                    "`{}` might be an empty file or missing a shebang (a first line such as `#!/bin/sh`)",
                    script.display()
                )));
            }
            Command::new(script)
        };
        command.current_dir(cwd).envs(self.env.iter().cloned());
        let status = spawn_and_wait(&mut command).map_err(|e| {
            failed(format!(
                "cannot start `{}`: {e}",
                if is_python {
                    self.python.display()
                } else {
                    script.display()
                }
            ))
        })?;
        if !status.success() {
            use std::os::unix::process::ExitStatusExt as _;
            let code = status
                .code()
                .or_else(|| status.signal().map(|s| -s))
                .unwrap_or(-1);
            return Err(failed(format!("the script exited with status {code}")));
        }
        Ok(())
    }

    /// Renders each script of `hook` with the context and runs it in `project_dir`
    /// (cookiecutter's `run_hook` / `run_script_with_context`).
    pub fn run_rendered(
        &self,
        repo_dir: &Path,
        hook: &str,
        project_dir: &Path,
        env: &Environment<'static>,
        syntax: &Syntax,
        context: &Value,
    ) -> Result<(), TemplateError> {
        let scripts = render_hooks(repo_dir, hook, env, syntax, context)?;
        self.run_scripts(hook, &scripts, project_dir)
    }

    /// Runs scripts rendered earlier by [`render_hooks`] in `project_dir`.
    pub fn run_scripts(
        &self,
        hook: &str,
        scripts: &[RenderedHook],
        project_dir: &Path,
    ) -> Result<(), TemplateError> {
        for script in scripts {
            let mut temp = tempfile::Builder::new()
                .prefix("meta-hook-")
                .suffix(&script.ext)
                .tempfile()
                .map_err(|e| TemplateError::io("create a temporary file for", &script.path, e))?;
            temp.write_all(script.text.as_bytes())
                .map_err(|e| TemplateError::io("write", temp.path().to_path_buf(), e))?;
            // Close the file before running it: an open writable handle makes exec fail.
            let path = temp.into_temp_path();
            self.run_script(hook, &path, project_dir)?;
        }
        Ok(())
    }
}

/// A hook script rendered with the context, not yet run.
#[derive(Debug)]
pub struct RenderedHook {
    path: PathBuf,
    /// The script's extension (`.py`, `.sh`, or empty), kept on the temporary copy.
    ext: String,
    text: String,
}

/// Renders each script of `hook`. Rendering can change the context (`cookiecutter.update(…)`),
/// so it happens where cookiecutter renders it: `pre_gen_project` before any file.
pub fn render_hooks(
    repo_dir: &Path,
    hook: &str,
    env: &Environment<'static>,
    syntax: &Syntax,
    context: &Value,
) -> Result<Vec<RenderedHook>, TemplateError> {
    let mut out = Vec::new();
    for script in find_hooks(repo_dir, hook)? {
        let bytes = fs_err::read(&script).map_err(|e| TemplateError::io("read", &script, e))?;
        let text = String::from_utf8(bytes).map_err(|_| TemplateError::HookFailed {
            hook: hook.to_owned(),
            message: format!("`{}` is not UTF-8 text", script.display()),
        })?;
        let source = prepare_source(&text, syntax);
        let name = script.display().to_string();
        let text = env
            .render_named_str(&name, &source, context.clone())
            .map_err(|e| TemplateError::render(format!("hook `{name}`"), &name, &source, &e))?;
        let ext = script
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| split_ext(n).1.to_owned())
            .unwrap_or_default();
        out.push(RenderedHook {
            path: script,
            ext,
            text,
        });
    }
    Ok(out)
}

fn make_executable(path: &Path) -> Result<(), TemplateError> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = fs_err::metadata(path).map_err(|e| TemplateError::io("read", path, e))?;
    let mode = meta.permissions().mode();
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode | 0o100))
        .map_err(|e| TemplateError::io("make executable", path, e))
}

/// Spawns, retrying briefly on "text file busy": another thread of this process may have
/// forked while the script's file was still open for writing.
fn spawn_and_wait(command: &mut Command) -> std::io::Result<std::process::ExitStatus> {
    let mut delay = std::time::Duration::from_millis(5);
    for _ in 0..8 {
        match command.spawn() {
            Ok(mut child) => return child.wait(),
            Err(e) if e.raw_os_error() == Some(26) => {
                std::thread::sleep(delay);
                delay *= 2;
            }
            Err(e) => return Err(e),
        }
    }
    command.spawn()?.wait()
}

#[cfg(test)]
mod tests {
    use super::split_ext;

    #[test]
    fn splitext_like_python() {
        assert_eq!(split_ext("pre_gen_project.py"), ("pre_gen_project", ".py"));
        assert_eq!(split_ext("post_gen_project"), ("post_gen_project", ""));
        assert_eq!(split_ext(".hidden"), (".hidden", ""));
        assert_eq!(split_ext("a.tar.gz"), ("a.tar", ".gz"));
    }
}

//! How a plugin's program is started: its argument vector resolved against the plugin folder and
//! the environment of DESIGN.md section 4. This builds a [`std::process::Command`]; spawning it
//! (and checking the plugin's content first, see [`crate::Manager::verify`]) is the caller's job.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use meta_workspace::{Workspace, env};

use crate::catalog::{Plugin, Provider, SELF_EXEC};
use crate::manifest::API_VERSION;

/// Why a plugin's program could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot tell where the running meta binary is (built-in plugin `{name}` runs it)")]
    SelfExe {
        name: String,
        #[source]
        source: std::io::Error,
    },
}

/// The program and arguments `exec` stands for, for `plugin`:
///
/// - the program (`exec[0]`): a path with a `/` is taken relative to the plugin folder; a bare
///   name is the file of that name in the plugin folder if there is one, else a program looked
///   up in `PATH` (`python3`); for a built-in, `meta` is the running `meta` binary;
/// - each further element naming a file or folder that exists in the plugin folder
///   (`hello.py`) becomes its absolute path, so it is found whatever the working directory;
///   anything else (`--flag`, text) is passed as written.
pub fn resolve_exec(
    plugin: &Plugin,
    exec: &[String],
    self_exe: impl FnOnce() -> std::io::Result<PathBuf>,
) -> Result<(PathBuf, Vec<OsString>), LaunchError> {
    let (first, rest) = exec
        .split_first()
        .map_or(("", &[][..]), |(f, r)| (f.as_str(), r));
    let dir = match &plugin.provider {
        Provider::Builtin => None,
        Provider::Project { dir, .. } => Some(dir.as_path()),
    };
    let program = match dir {
        None if first == SELF_EXEC => self_exe().map_err(|source| LaunchError::SelfExe {
            name: plugin.name.clone(),
            source,
        })?,
        None => PathBuf::from(first),
        Some(dir) => resolve_program(dir, first),
    };
    let args = rest
        .iter()
        .map(|arg| match dir {
            Some(dir) if is_plain_relative(arg) && dir.join(arg).exists() => {
                dir.join(arg).into_os_string()
            }
            _ => OsString::from(arg),
        })
        .collect();
    Ok((program, args))
}

fn resolve_program(dir: &Path, program: &str) -> PathBuf {
    let path = Path::new(program);
    if path.is_absolute() {
        path.to_path_buf()
    } else if program.contains('/') || dir.join(program).is_file() {
        dir.join(program)
    } else {
        path.to_path_buf()
    }
}

fn is_plain_relative(arg: &str) -> bool {
    !arg.is_empty() && !arg.starts_with('-') && Path::new(arg).is_relative()
}

/// A command that runs `exec` (resolved with [`resolve_exec`]) for `plugin` with `user_args`
/// appended and the plugin environment set: `META_ROOT`, `META_PLUGIN_NAME`, `META_PLUGIN_DIR`
/// (empty for built-ins), `META_API` and the three `META_BUS_*` endpoints. Standard streams and
/// the working directory are inherited.
pub fn command(
    workspace: &Workspace,
    plugin: &Plugin,
    exec: &[String],
    user_args: impl IntoIterator<Item = OsString>,
) -> Result<Command, LaunchError> {
    let (program, args) = resolve_exec(plugin, exec, std::env::current_exe)?;
    let mut command = Command::new(program);
    command.args(args).args(user_args);
    for (key, value) in environment(workspace, plugin) {
        command.env(key, value);
    }
    Ok(command)
}

/// The environment variables a plugin process gets.
pub fn environment(workspace: &Workspace, plugin: &Plugin) -> Vec<(&'static str, OsString)> {
    let endpoints = workspace.bus_endpoints();
    vec![
        (env::META_ROOT, workspace.root().as_os_str().to_owned()),
        (env::META_PLUGIN_NAME, plugin.name.clone().into()),
        (
            env::META_PLUGIN_DIR,
            plugin
                .dir()
                .map(|d| d.as_os_str().to_owned())
                .unwrap_or_default(),
        ),
        (env::META_API, API_VERSION.to_string().into()),
        (env::META_BUS_INGEST, endpoints.ingest.into()),
        (env::META_BUS_EVENTS, endpoints.events.into()),
        (env::META_BUS_CONTROL, endpoints.control.into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    fn plugin(provider: Provider) -> Plugin {
        let manifest = Manifest::parse(
            "api = 1\n[plugin]\nname = \"p\"\nversion = \"1.0.0\"\n[[command]]\nname = \"p\"\nexec = [\"x\"]\n",
            Path::new("m.toml"),
        )
        .unwrap();
        Plugin {
            name: "p".into(),
            manifest,
            provider,
            enabled: true,
        }
    }

    fn strings(exec: &[&str]) -> Vec<String> {
        exec.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn relative_paths_resolve_in_the_plugin_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hello.py"), "").unwrap();
        std::fs::write(dir.path().join("tool"), "").unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        let p = plugin(Provider::Project {
            dir: dir.path().to_path_buf(),
            linked: false,
        });
        let never = || -> std::io::Result<PathBuf> { panic!("not a built-in") };

        let (program, args) = resolve_exec(
            &p,
            &strings(&["python3", "hello.py", "-v", "missing.txt", "/abs"]),
            never,
        )
        .unwrap();
        assert_eq!(program, PathBuf::from("python3"));
        assert_eq!(
            args,
            [
                dir.path().join("hello.py").into_os_string(),
                "-v".into(),
                "missing.txt".into(),
                "/abs".into()
            ]
        );
        let (program, _) = resolve_exec(&p, &strings(&["./bin/run"]), never).unwrap();
        assert_eq!(program, dir.path().join("./bin/run"));
        let (program, _) = resolve_exec(&p, &strings(&["tool"]), never).unwrap();
        assert_eq!(program, dir.path().join("tool"));
        let (program, _) = resolve_exec(&p, &strings(&["/bin/sh"]), never).unwrap();
        assert_eq!(program, PathBuf::from("/bin/sh"));
    }

    #[test]
    fn builtins_run_meta_itself() {
        let p = plugin(Provider::Builtin);
        let (program, args) = resolve_exec(&p, &strings(&["meta", "watch"]), || {
            Ok(PathBuf::from("/usr/bin/meta"))
        })
        .unwrap();
        assert_eq!(program, PathBuf::from("/usr/bin/meta"));
        assert_eq!(args, [OsString::from("watch")]);
    }
}

//! The providers and the loader: every plugin `meta` knows about, read from manifests alone.
//!
//! Two providers exist: **built-in** plugins compiled into `meta` (their manifests are embedded
//! in the binary; see [`BuiltinPlugin`]), and **project** plugins, one folder each under
//! `meta/plugins/`. Loading reads files only; no plugin code runs. A plugin that cannot be loaded
//! does not stop the others: it becomes a [`LoadProblem`] the caller can show.

use std::path::{Path, PathBuf};

use meta_workspace::{Config, Workspace};

use crate::manifest::{CommandSpec, MANIFEST_FILE, Manifest, ManifestError};
use crate::rules::{NAME_RULE, is_valid_name};

/// A plugin compiled into `meta`, described by an embedded manifest.
///
/// The manifest follows the same rules as any other (a test in the crate that defines the
/// built-in should parse it). In a built-in's `exec`, a first element of `"meta"` stands for the
/// running `meta` binary: the host runs `std::env::current_exe()` instead, so a built-in service
/// is a `meta` subcommand supervised exactly like a project plugin's service.
///
/// `present` says whether a meta-repo with a given config has the plugin at all: a built-in
/// that is not present is neither listed nor enabled nor run, and the catalog (read by the CLI
/// and, at every reload, by the daemon's plugin host) is the one place that asks.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinPlugin {
    pub manifest: &'static str,
    pub present: fn(&Config) -> bool,
}

impl BuiltinPlugin {
    /// A built-in every meta-repo has.
    pub const fn always(manifest: &'static str) -> Self {
        Self {
            manifest,
            present: |_| true,
        }
    }
}

/// The program name that, first in a built-in's `exec`, means the running `meta` binary.
pub const SELF_EXEC: &str = "meta";

/// Where a plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// Compiled into `meta`.
    Builtin,
    /// `meta/plugins/<name>/`; `linked` when that is a symlink (`install --link`).
    Project { dir: PathBuf, linked: bool },
}

/// One loaded plugin.
#[derive(Debug, Clone)]
pub struct Plugin {
    /// The plugin's name: its folder's name for project plugins (which is the manifest's name
    /// unless it was installed with `--name`).
    pub name: String,
    pub manifest: Manifest,
    pub provider: Provider,
    /// `[plugins.<name>].enabled` (a plugin without a table is enabled).
    pub enabled: bool,
}

impl Plugin {
    /// The plugin's folder; `None` for built-ins.
    pub fn dir(&self) -> Option<&Path> {
        match &self.provider {
            Provider::Builtin => None,
            Provider::Project { dir, .. } => Some(dir),
        }
    }

    pub fn is_builtin(&self) -> bool {
        self.provider == Provider::Builtin
    }

    pub fn is_linked(&self) -> bool {
        matches!(self.provider, Provider::Project { linked: true, .. })
    }
}

/// A plugin folder (or built-in) that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadProblem {
    #[error("plugin folder `{}` skipped: {source}", dir.display())]
    Manifest {
        name: String,
        dir: PathBuf,
        #[source]
        source: ManifestError,
    },
    #[error("plugin folder `{}` skipped: `{name}` is not a valid plugin name ({NAME_RULE})", dir.display())]
    BadFolderName { name: String, dir: PathBuf },
    #[error("`{}` skipped: plugins are folders holding `{MANIFEST_FILE}`", dir.display())]
    NotAFolder { name: String, dir: PathBuf },
    #[error("plugin folder `{}` skipped: `{name}` is the name of a built-in plugin", dir.display())]
    ShadowsBuiltin { name: String, dir: PathBuf },
    /// `[plugins.<name>] enabled = true` in the config, and no such plugin: its folder was not
    /// committed, or was removed by hand.
    #[error(
        "plugin `{name}` is enabled in the config, but `{}` does not exist; install it (`meta plugin install SOURCE`) or forget it (`meta plugin uninstall {name}`)",
        dir.display()
    )]
    Missing { name: String, dir: PathBuf },
    #[error("cannot list plugins in `{}`", dir.display())]
    Io {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl LoadProblem {
    /// The plugin name the problem is about, when there is one.
    pub fn name(&self) -> Option<&str> {
        match self {
            LoadProblem::Manifest { name, .. }
            | LoadProblem::BadFolderName { name, .. }
            | LoadProblem::NotAFolder { name, .. }
            | LoadProblem::ShadowsBuiltin { name, .. }
            | LoadProblem::Missing { name, .. } => Some(name),
            LoadProblem::Io { .. } => None,
        }
    }
}

/// Why a plugin command is not offered although its plugin is enabled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandConflict {
    #[error(
        "plugin `{plugin}`: command `{command}` is not offered: a built-in command has that name"
    )]
    Builtin { plugin: String, command: String },
    #[error(
        "plugin `{plugin}`: command `{command}` is not offered: plugin `{owner}` already offers it"
    )]
    Plugin {
        plugin: String,
        command: String,
        owner: String,
    },
}

/// A plugin command as the CLI offers it.
#[derive(Debug, Clone, Copy)]
pub struct OfferedCommand<'a> {
    pub plugin: &'a Plugin,
    pub command: &'a CommandSpec,
}

/// Every plugin known in a meta-repo, sorted by name, and what could not be loaded.
#[derive(Debug, Default)]
pub struct Catalog {
    pub plugins: Vec<Plugin>,
    pub problems: Vec<LoadProblem>,
}

impl Catalog {
    /// Loads built-ins and the project plugins of `workspace`, with its current config.
    pub fn load(workspace: &Workspace, builtins: &[BuiltinPlugin]) -> Self {
        Self::load_from(&workspace.plugins_dir(), workspace.config(), builtins)
    }

    /// Loads built-ins and the plugins under `plugins_dir`; `config` says which are enabled.
    pub fn load_from(plugins_dir: &Path, config: &Config, builtins: &[BuiltinPlugin]) -> Self {
        let mut catalog = Self::default();
        for builtin in builtins.iter().filter(|b| (b.present)(config)) {
            let label = Path::new("<built-in>").join(MANIFEST_FILE);
            match Manifest::parse(builtin.manifest, &label) {
                Ok(manifest) => catalog.plugins.push(Plugin {
                    name: manifest.name.clone(),
                    enabled: config.plugin_enabled(&manifest.name),
                    manifest,
                    provider: Provider::Builtin,
                }),
                Err(source) => catalog.problems.push(LoadProblem::Manifest {
                    name: String::new(),
                    dir: PathBuf::from("<built-in>"),
                    source,
                }),
            }
        }
        catalog.load_project_plugins(plugins_dir);
        catalog.apply_config(config);
        catalog.find_missing(plugins_dir, config);
        catalog.plugins.sort_by(|a, b| a.name.cmp(&b.name));
        catalog
    }

    fn load_project_plugins(&mut self, plugins_dir: &Path) {
        let entries = match std::fs::read_dir(plugins_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(source) => {
                self.problems.push(LoadProblem::Io {
                    dir: plugins_dir.to_path_buf(),
                    source,
                });
                return;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(source) => {
                    self.problems.push(LoadProblem::Io {
                        dir: plugins_dir.to_path_buf(),
                        source,
                    });
                    continue;
                }
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            // Hidden entries are not plugins (editors' and tools' files).
            if name.starts_with('.') {
                continue;
            }
            self.load_project_plugin(name, entry.path());
        }
    }

    fn load_project_plugin(&mut self, name: String, dir: PathBuf) {
        let linked = dir
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink());
        if !dir.is_dir() {
            self.problems.push(LoadProblem::NotAFolder { name, dir });
            return;
        }
        if !is_valid_name(&name) {
            self.problems.push(LoadProblem::BadFolderName { name, dir });
            return;
        }
        if self
            .plugins
            .iter()
            .any(|p| p.is_builtin() && p.name == name)
        {
            self.problems
                .push(LoadProblem::ShadowsBuiltin { name, dir });
            return;
        }
        match Manifest::load(&dir) {
            Ok(manifest) => self.plugins.push(Plugin {
                name,
                manifest,
                provider: Provider::Project { dir, linked },
                enabled: true,
            }),
            Err(source) => self
                .problems
                .push(LoadProblem::Manifest { name, dir, source }),
        }
    }

    /// Plugins the config enables that are neither loaded nor already a problem.
    fn find_missing(&mut self, plugins_dir: &Path, config: &Config) {
        for (name, settings) in &config.plugins {
            let known = self.plugins.iter().any(|p| &p.name == name)
                || self.problems.iter().any(|p| p.name() == Some(name));
            if settings.enabled && !known {
                self.problems.push(LoadProblem::Missing {
                    name: name.clone(),
                    dir: plugins_dir.join(name),
                });
            }
        }
    }

    /// Applies the enabled state of `config` (used after loading with another config).
    pub fn apply_config(&mut self, config: &Config) {
        for plugin in &mut self.plugins {
            plugin.enabled = config.plugin_enabled(&plugin.name);
        }
    }

    pub fn get(&self, name: &str) -> Option<&Plugin> {
        self.plugins.iter().find(|p| p.name == name)
    }

    /// The commands enabled plugins offer, and those that cannot be offered because a built-in
    /// command (one of `reserved`) or an earlier plugin (by name) has the same name.
    pub fn offered_commands(
        &self,
        reserved: &[&str],
    ) -> (Vec<OfferedCommand<'_>>, Vec<CommandConflict>) {
        let mut offered: Vec<OfferedCommand<'_>> = Vec::new();
        let mut conflicts = Vec::new();
        for plugin in self.plugins.iter().filter(|p| p.enabled) {
            for command in &plugin.manifest.commands {
                if reserved.contains(&command.name.as_str()) {
                    conflicts.push(CommandConflict::Builtin {
                        plugin: plugin.name.clone(),
                        command: command.name.clone(),
                    });
                } else if let Some(owner) = offered.iter().find(|o| o.command.name == command.name)
                {
                    conflicts.push(CommandConflict::Plugin {
                        plugin: plugin.name.clone(),
                        command: command.name.clone(),
                        owner: owner.plugin.name.clone(),
                    });
                } else {
                    offered.push(OfferedCommand { plugin, command });
                }
            }
        }
        (offered, conflicts)
    }

    /// The enabled plugin offering command `name`, if any (honouring the same precedence as
    /// [`Catalog::offered_commands`]).
    pub fn find_command(&self, reserved: &[&str], name: &str) -> Option<OfferedCommand<'_>> {
        if reserved.contains(&name) {
            return None;
        }
        self.plugins
            .iter()
            .filter(|p| p.enabled)
            .find_map(|plugin| {
                plugin
                    .manifest
                    .commands
                    .iter()
                    .find(|c| c.name == name)
                    .map(|command| OfferedCommand { plugin, command })
            })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fmt::Write as _;

    pub(crate) fn write_plugin(dir: &Path, name: &str, commands: &[&str]) {
        std::fs::create_dir_all(dir).unwrap();
        let mut text = format!("api = 1\n[plugin]\nname = \"{name}\"\nversion = \"1.0.0\"\n");
        for command in commands {
            let _ = write!(
                text,
                "[[command]]\nname = \"{command}\"\nabout = \"does {command}\"\nexec = [\"./run.sh\"]\n"
            );
        }
        std::fs::write(dir.join(MANIFEST_FILE), text).unwrap();
    }

    const WATCH: BuiltinPlugin = BuiltinPlugin::always(
        "api = 1\n[plugin]\nname = \"watch\"\nversion = \"1.0.0\"\n[service]\nexec = [\"meta\", \"watch\"]\n",
    );

    fn config(text: &str) -> Config {
        Config::parse(
            &format!("[metarepo]\nname = \"t\"\n{text}"),
            Path::new("metarepo.toml"),
        )
        .unwrap()
    }

    #[test]
    fn a_builtin_the_config_does_not_ask_for_is_not_there() {
        let dir = tempfile::tempdir().unwrap();
        let shared = BuiltinPlugin {
            manifest: "api = 1\n[plugin]\nname = \"shared\"\nversion = \"1.0.0\"\n[service]\nexec = [\"meta\", \"shared\"]\n",
            present: |config| config.bridge.enabled,
        };
        let off = Catalog::load_from(dir.path(), &config(""), &[shared, WATCH]);
        let names: Vec<_> = off.plugins.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["watch"]);
        let on = Catalog::load_from(
            dir.path(),
            &config("[bridge]\nenabled = true\nurl = [\"nats://127.0.0.1:4222\"]\n"),
            &[shared, WATCH],
        );
        let names: Vec<_> = on.plugins.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["shared", "watch"]);
        assert!(on.get("shared").unwrap().enabled);
    }

    #[test]
    fn loads_builtins_and_project_plugins_sorted() {
        let dir = tempfile::tempdir().unwrap();
        write_plugin(&dir.path().join("zed"), "zed", &["z"]);
        write_plugin(&dir.path().join("alpha"), "alpha", &["a"]);
        std::fs::create_dir(dir.path().join(".staging")).unwrap();
        let catalog = Catalog::load_from(
            dir.path(),
            &config("[plugins.zed]\nenabled = false\n"),
            &[WATCH],
        );
        assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
        let names: Vec<_> = catalog.plugins.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["alpha", "watch", "zed"]);
        assert!(catalog.get("watch").unwrap().is_builtin());
        assert!(catalog.get("alpha").unwrap().enabled);
        assert!(!catalog.get("zed").unwrap().enabled);
        let (offered, conflicts) = catalog.offered_commands(&["help"]);
        let offered: Vec<_> = offered.iter().map(|o| o.command.name.as_str()).collect();
        assert_eq!(offered, ["a"]);
        assert!(conflicts.is_empty());
    }

    #[test]
    fn enabled_plugins_without_a_folder_are_problems() {
        let dir = tempfile::tempdir().unwrap();
        let plugins = dir.path().join("plugins");
        write_plugin(&plugins.join("here"), "here", &["h"]);
        let config = config(
            "[plugins.here]\nenabled = true\n[plugins.gone]\nenabled = true\n[plugins.off]\nenabled = false\n[plugins.watch]\nenabled = true\n",
        );
        let catalog = Catalog::load_from(&plugins, &config, &[WATCH]);
        let problems: Vec<String> = catalog.problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("plugin `gone` is enabled in the config, but `"),
            "{problems:?}"
        );
        assert!(
            problems[0].ends_with("`meta plugin uninstall gone`)"),
            "{problems:?}"
        );
    }

    #[test]
    fn broken_plugins_are_problems_not_failures() {
        let dir = tempfile::tempdir().unwrap();
        write_plugin(&dir.path().join("good"), "good", &["g"]);
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        write_plugin(&dir.path().join("Bad"), "bad", &["b"]);
        write_plugin(&dir.path().join("watch"), "watch", &["w"]);
        std::fs::write(dir.path().join("stray.txt"), "").unwrap();
        let catalog = Catalog::load_from(dir.path(), &config(""), &[WATCH]);
        let names: Vec<_> = catalog.plugins.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["good", "watch"]);
        assert!(catalog.get("watch").unwrap().is_builtin());
        let mut problems: Vec<_> = catalog.problems.iter().map(ToString::to_string).collect();
        problems.sort();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("not a valid plugin name"))
        );
        assert!(problems.iter().any(|p| p.contains("cannot read")));
        assert!(problems.iter().any(|p| p.contains("built-in plugin")));
        assert!(problems.iter().any(|p| p.contains("plugins are folders")));
    }

    #[test]
    fn command_conflicts_are_resolved_by_name_order() {
        let dir = tempfile::tempdir().unwrap();
        write_plugin(&dir.path().join("one"), "one", &["go", "help"]);
        write_plugin(&dir.path().join("two"), "two", &["go", "fly"]);
        let catalog = Catalog::load_from(dir.path(), &config(""), &[]);
        let (offered, conflicts) = catalog.offered_commands(&["help"]);
        let offered: Vec<_> = offered
            .iter()
            .map(|o| (o.plugin.name.as_str(), o.command.name.as_str()))
            .collect();
        assert_eq!(offered, [("one", "go"), ("two", "fly")]);
        assert_eq!(conflicts.len(), 2);
        assert_eq!(
            catalog.find_command(&["help"], "go").unwrap().plugin.name,
            "one"
        );
        assert!(catalog.find_command(&["help"], "help").is_none());
    }
}

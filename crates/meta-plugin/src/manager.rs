//! The manager: installs, uninstalls, enables, disables and re-trusts plugins, and verifies a
//! plugin's content before it runs. It owns `[plugins.<name>]` in `meta/metarepo.toml` and
//! `meta/plugins.lock`.
//!
//! Every change is all or nothing: content is prepared in a staging folder under `.meta/`, moved
//! into `meta/plugins/` with a rename, and each later step that fails undoes the earlier ones, so
//! a failed install or uninstall leaves the meta-repo as it found it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use meta_workspace::config::{remove_plugin, set_plugin_enabled};
use meta_workspace::{Config, ConfigError, Workspace};

use crate::catalog::{BuiltinPlugin, Catalog, Plugin, Provider};
use crate::git::{self, GitError};
use crate::hash::{self, EntryKind, HashError};
use crate::lock::{LockEntry, LockError, LockFile};
use crate::manifest::{MANIFEST_FILE, Manifest, ManifestError};
use crate::rules::{NAME_RULE, is_valid_name};

/// The files of a meta-repo the manager reads and writes.
#[derive(Debug, Clone)]
pub struct PluginPaths {
    pub root: PathBuf,
    /// `meta/metarepo.toml`.
    pub config: PathBuf,
    /// `meta/plugins/`.
    pub plugins_dir: PathBuf,
    /// `meta/plugins.lock`.
    pub lock: PathBuf,
    /// `.meta/staging/`: where installs are prepared (same file system as `meta/plugins/`, so
    /// the final move is a rename).
    pub staging: PathBuf,
    /// `.meta/run/plugin-manager.lock`: held while a change is made, so two `meta plugin`
    /// commands at once never lose each other's lock entry or config table.
    pub guard: PathBuf,
}

impl PluginPaths {
    pub fn of(workspace: &Workspace) -> Self {
        Self {
            root: workspace.root().to_path_buf(),
            config: workspace.config_path(),
            plugins_dir: workspace.plugins_dir(),
            lock: workspace.plugins_lock_path(),
            staging: workspace.state_dir().join("staging"),
            guard: workspace.run_dir().join("plugin-manager.lock"),
        }
    }
}

/// What `meta plugin install` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct InstallRequest {
    /// A local folder or a git URL (`https://…`, `git@host:path`, `git+…`, a local repository).
    pub source: String,
    /// Install under this name instead of the manifest's.
    pub name: Option<String>,
    /// A tag, branch or commit of a git source.
    pub rev: Option<String>,
    /// Link the folder instead of copying it (development; exempt from the hash check).
    pub link: bool,
    /// Replace a plugin already installed under the same name.
    pub force: bool,
}

/// The outcome of an install.
#[derive(Debug, Clone)]
pub struct Installed {
    pub name: String,
    pub manifest: Manifest,
    pub entry: LockEntry,
    /// A plugin of that name was replaced (`--force`).
    pub replaced: bool,
}

/// The outcome of an uninstall.
#[derive(Debug, Clone)]
pub struct Uninstalled {
    pub name: String,
    /// From the manifest, when it could still be read.
    pub version: Option<String>,
    /// From the lock, when it had an entry.
    pub source: Option<String>,
}

/// What a plugin's command or service clashes with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clash {
    /// A command built into `meta`.
    BuiltinCommand,
    /// A command of the named plugin.
    Plugin(String),
}

impl std::fmt::Display for Clash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Clash::BuiltinCommand => f.write_str("a built-in command of meta"),
            Clash::Plugin(name) => write!(f, "a command of plugin `{name}`"),
        }
    }
}

/// Why an install failed. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("source `{given}` starts with `-`; it would be read as an option")]
    OptionLikeSource { given: String },
    #[error("revision `{rev}` starts with `-`; it would be read as an option")]
    OptionLikeRev { rev: String },
    #[error("source `{}` does not exist", path.display())]
    SourceMissing { path: PathBuf },
    #[error("`{}` is not a plugin: it has no `{MANIFEST_FILE}` and is not a git repository", path.display())]
    NotAPlugin { path: PathBuf },
    #[error("`--link` needs a local folder, and `{given}` is a git source")]
    LinkNeedsFolder { given: String },
    #[error("`--rev` needs a git source, and `{}` is a plain folder", path.display())]
    RevNeedsGit { path: PathBuf },
    #[error("cannot fetch `{url}`")]
    Git {
        url: String,
        #[source]
        source: GitError,
    },
    #[error(transparent)]
    Manifest(ManifestError),
    #[error("`{name}` is not a valid plugin name: {NAME_RULE}")]
    BadName { name: String },
    #[error("plugin name `{name}` clashes with {with}")]
    NameClash { name: String, with: Clash },
    #[error("plugin name `{name}` is the name of a built-in plugin")]
    BuiltinPluginName { name: String },
    #[error("a plugin named `{name}` is already installed in `{}`", dir.display())]
    AlreadyInstalled { name: String, dir: PathBuf },
    #[error("command `{command}` of plugin `{name}` clashes with {with}")]
    CommandClash {
        name: String,
        command: String,
        with: Clash,
    },
    #[error("`{}` links to itself", path.display())]
    LinkToItself { path: PathBuf },
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot hash the plugin's content")]
    Hash(#[source] HashError),
    #[error(transparent)]
    Lock(LockError),
    #[error(transparent)]
    Config(ConfigError),
}

/// Why uninstall, enable, disable or trust failed. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("no plugin named `{name}` is installed")]
    NotInstalled { name: String },
    #[error("`{name}` is a built-in plugin; it cannot be uninstalled, only disabled")]
    BuiltinUninstall { name: String },
    #[error("`{name}` is a built-in plugin; it is part of meta and needs no trust")]
    BuiltinTrust { name: String },
    #[error(
        "`{name}` is linked (installed with `--link`); linked plugins are not checked, so there is nothing to trust"
    )]
    LinkedTrust { name: String },
    #[error("plugin `{name}` cannot be enabled: its manifest is not valid")]
    Broken {
        name: String,
        #[source]
        source: ManifestError,
    },
    #[error("plugin `{name}` cannot be enabled: its command `{command}` clashes with {with}")]
    CommandClash {
        name: String,
        command: String,
        with: Clash,
    },
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot hash the plugin's content")]
    Hash(#[source] HashError),
    #[error(transparent)]
    Lock(LockError),
    #[error(transparent)]
    Config(ConfigError),
}

/// Why a plugin may not run.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("plugin `{name}` changed since it was installed")]
    Modified {
        name: String,
        recorded: String,
        actual: String,
        /// The lock entry, to say how to reinstall.
        entry: Box<LockEntry>,
    },
    #[error(
        "plugin `{name}` was not installed with `meta plugin install`: `meta/plugins.lock` has no hash for it"
    )]
    NotRecorded { name: String },
    #[error("plugin `{name}` is a symlink, but it was not installed with `--link`")]
    UnexpectedLink { name: String },
    #[error("cannot hash plugin `{name}`")]
    Hash {
        name: String,
        #[source]
        source: HashError,
    },
    #[error(transparent)]
    Lock(LockError),
}

/// How a plugin's content was found trustworthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integrity {
    /// Compiled into `meta`.
    Builtin,
    /// Installed with `--link`: not checked by design.
    Linked,
    /// Its content hash matches `meta/plugins.lock`.
    Verified,
}

/// Plugin management for one meta-repo.
#[derive(Debug)]
pub struct Manager<'a> {
    paths: PluginPaths,
    builtins: &'a [BuiltinPlugin],
    /// Names of the host's built-in commands; plugins may not take them.
    reserved: &'a [&'a str],
}

impl<'a> Manager<'a> {
    pub fn new(paths: PluginPaths, builtins: &'a [BuiltinPlugin], reserved: &'a [&'a str]) -> Self {
        Self {
            paths,
            builtins,
            reserved,
        }
    }

    pub fn paths(&self) -> &PluginPaths {
        &self.paths
    }

    /// Every plugin, with the config as it is on disk now.
    pub fn catalog(&self) -> Result<Catalog, ConfigError> {
        let config = Config::load(&self.paths.config)?;
        Ok(Catalog::load_from(
            &self.paths.plugins_dir,
            &config,
            self.builtins,
        ))
    }

    pub fn lock(&self) -> Result<LockFile, LockError> {
        LockFile::load(&self.paths.lock)
    }

    /// Waits for other plugin changes in this meta-repo to finish, then holds them off until
    /// the returned file is dropped.
    fn exclusive(&self) -> Result<std::fs::File, (PathBuf, std::io::Error)> {
        let path = &self.paths.guard;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| (dir.to_path_buf(), e))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| (path.clone(), e))?;
        file.lock().map_err(|e| (path.clone(), e))?;
        Ok(file)
    }

    /// Installs a plugin from `request.source`. Never runs plugin code.
    pub fn install(&self, request: &InstallRequest) -> Result<Installed, InstallError> {
        let source = self.classify(request)?;
        let _guard = self
            .exclusive()
            .map_err(|(path, source)| io_error("lock", path, source))?;
        let staging = Staging::create(&self.paths.staging, "install")
            .map_err(|(path, source)| io_error("create", path, source))?;

        // 1. The content, prepared where a failure leaves nothing behind.
        let staged = staging.path.join("plugin");
        let (content, recorded_source, rev) = match &source {
            Source::Folder(path) if request.link => {
                (path.clone(), self.describe_folder(path), None)
            }
            Source::Folder(path) => {
                copy_tree(path, &staged)?;
                (staged.clone(), self.describe_folder(path), None)
            }
            Source::Git(url) => {
                let commit =
                    git::clone_at(url, request.rev.as_deref(), &staged).map_err(|source| {
                        InstallError::Git {
                            url: url.clone(),
                            source,
                        }
                    })?;
                let dot_git = staged.join(".git");
                std::fs::remove_dir_all(&dot_git).map_err(|e| io_error("remove", dot_git, e))?;
                (staged.clone(), format!("git+{url}"), Some(commit))
            }
        };

        // 2. What it is, and whether it may take its name and commands.
        // Errors name the manifest as the user knows it, not its copy in staging.
        let label = match (&source, &rev) {
            (Source::Git(url), Some(commit)) => {
                PathBuf::from(format!("{url}@{}", &commit[..commit.len().min(12)]))
            }
            (Source::Folder(path), _) => path.clone(),
            (Source::Git(url), None) => PathBuf::from(url),
        };
        let manifest = load_manifest(&content, &label).map_err(InstallError::Manifest)?;
        let name = request
            .name
            .clone()
            .unwrap_or_else(|| manifest.name.clone());
        if !is_valid_name(&name) {
            return Err(InstallError::BadName { name });
        }
        let config = Config::load(&self.paths.config).map_err(InstallError::Config)?;
        let catalog = Catalog::load_from(&self.paths.plugins_dir, &config, self.builtins);
        self.check_install_clashes(&catalog, &name, &manifest, request.force)?;
        let target = self.paths.plugins_dir.join(&name);
        if request.link && same_file(&content, &target) {
            return Err(InstallError::LinkToItself { path: content });
        }
        let hash = if request.link {
            None
        } else {
            Some(hash::hash_dir(&content).map_err(InstallError::Hash)?)
        };
        let entry = LockEntry {
            source: recorded_source,
            rev,
            hash,
            linked: request.link,
        };

        // 3. Commit: move into place, record in the lock, enable; undo on any failure.
        let old_lock = self.lock().map_err(InstallError::Lock)?;
        let lock_existed = self.paths.lock.exists();
        std::fs::create_dir_all(&self.paths.plugins_dir)
            .map_err(|e| io_error("create", self.paths.plugins_dir.clone(), e))?;
        let previous = staging.path.join("previous");
        let replaced = target.symlink_metadata().is_ok();
        if replaced {
            std::fs::rename(&target, &previous)
                .map_err(|e| io_error("move aside", target.clone(), e))?;
        }
        let placed = if request.link {
            std::os::unix::fs::symlink(&content, &target)
        } else {
            std::fs::rename(&content, &target)
        };
        let undo_place = || {
            if placed_ok(&target) {
                let _ = remove_entry(&target);
            }
            if replaced {
                let _ = std::fs::rename(&previous, &target);
            }
        };
        if let Err(source) = placed {
            undo_place();
            return Err(io_error("install into", target.clone(), source));
        }
        let mut lock = old_lock.clone();
        lock.plugins.insert(name.clone(), entry.clone());
        if let Err(error) = lock.save(&self.paths.lock) {
            undo_place();
            return Err(InstallError::Lock(error));
        }
        if let Err(error) = set_plugin_enabled(&self.paths.config, &name, true) {
            let _ = restore_lock(&old_lock, &self.paths.lock, lock_existed);
            undo_place();
            return Err(InstallError::Config(error));
        }
        drop(staging);
        Ok(Installed {
            name,
            manifest,
            entry,
            replaced,
        })
    }

    fn classify(&self, request: &InstallRequest) -> Result<Source, InstallError> {
        let raw = request.source.as_str();
        if raw.starts_with('-') {
            return Err(InstallError::OptionLikeSource {
                given: raw.to_owned(),
            });
        }
        if let Some(rev) = &request.rev
            && rev.starts_with('-')
        {
            return Err(InstallError::OptionLikeRev { rev: rev.clone() });
        }
        let explicit_git = raw.strip_prefix("git+");
        let text = explicit_git.unwrap_or(raw);
        if text.starts_with('-') {
            return Err(InstallError::OptionLikeSource {
                given: raw.to_owned(),
            });
        }
        if git::is_url(text) {
            if request.link {
                return Err(InstallError::LinkNeedsFolder {
                    given: raw.to_owned(),
                });
            }
            return Ok(Source::Git(text.to_owned()));
        }
        let path = std::path::absolute(text).map_err(|e| io_error("resolve", text.into(), e))?;
        if !path.exists() {
            return Err(InstallError::SourceMissing { path });
        }
        let path = std::fs::canonicalize(&path).map_err(|e| io_error("resolve", path, e))?;
        let has_manifest = path.join(MANIFEST_FILE).is_file();
        let is_repo = git::is_repository(&path);
        let wants_git = explicit_git.is_some() || request.rev.is_some() || !has_manifest;
        if wants_git && is_repo {
            if request.link {
                return Err(InstallError::LinkNeedsFolder {
                    given: raw.to_owned(),
                });
            }
            return Ok(Source::Git(path.to_string_lossy().into_owned()));
        }
        if request.rev.is_some() {
            return Err(InstallError::RevNeedsGit { path });
        }
        if !has_manifest {
            return Err(InstallError::NotAPlugin { path });
        }
        Ok(Source::Folder(path))
    }

    /// How a local folder is recorded: relative to the root when inside the meta-repo (the lock
    /// is committed and the root moves between machines), absolute otherwise.
    fn describe_folder(&self, path: &Path) -> String {
        let root =
            std::fs::canonicalize(&self.paths.root).unwrap_or_else(|_| self.paths.root.clone());
        match path.strip_prefix(&root) {
            Ok(relative) if !relative.as_os_str().is_empty() => {
                relative.to_string_lossy().into_owned()
            }
            _ => path.to_string_lossy().into_owned(),
        }
    }

    fn check_install_clashes(
        &self,
        catalog: &Catalog,
        name: &str,
        manifest: &Manifest,
        force: bool,
    ) -> Result<(), InstallError> {
        if self.reserved.contains(&name) {
            return Err(InstallError::NameClash {
                name: name.to_owned(),
                with: Clash::BuiltinCommand,
            });
        }
        if catalog.get(name).is_some_and(Plugin::is_builtin) {
            return Err(InstallError::BuiltinPluginName {
                name: name.to_owned(),
            });
        }
        let target = self.paths.plugins_dir.join(name);
        if !force && target.symlink_metadata().is_ok() {
            return Err(InstallError::AlreadyInstalled {
                name: name.to_owned(),
                dir: target,
            });
        }
        for command in manifest.command_names() {
            let with = if self.reserved.contains(&command) {
                Some(Clash::BuiltinCommand)
            } else {
                catalog
                    .plugins
                    .iter()
                    .filter(|p| p.name != name)
                    .find(|p| p.manifest.command_names().any(|c| c == command))
                    .map(|p| Clash::Plugin(p.name.clone()))
            };
            if let Some(with) = with {
                return Err(InstallError::CommandClash {
                    name: name.to_owned(),
                    command: command.to_owned(),
                    with,
                });
            }
        }
        Ok(())
    }

    /// Removes a project plugin: its folder (or link), its lock entry and its config table.
    pub fn uninstall(&self, name: &str) -> Result<Uninstalled, ManageError> {
        let _guard = self.exclusive().map_err(|(path, source)| ManageError::Io {
            action: "lock",
            path,
            source,
        })?;
        let config = Config::load(&self.paths.config).map_err(ManageError::Config)?;
        let catalog = Catalog::load_from(&self.paths.plugins_dir, &config, self.builtins);
        if catalog.get(name).is_some_and(Plugin::is_builtin) {
            return Err(ManageError::BuiltinUninstall {
                name: name.to_owned(),
            });
        }
        let target = self.paths.plugins_dir.join(name);
        let has_folder = is_valid_name(name) && target.symlink_metadata().is_ok();
        let old_lock = self.lock().map_err(ManageError::Lock)?;
        let lock_existed = self.paths.lock.exists();
        let entry = old_lock.plugins.get(name).cloned();
        let has_table = config.plugins.contains_key(name);
        if !has_folder && entry.is_none() && !has_table {
            return Err(ManageError::NotInstalled {
                name: name.to_owned(),
            });
        }
        let version = catalog.get(name).map(|p| p.manifest.version.clone());

        let staging =
            Staging::create(&self.paths.staging, "uninstall").map_err(|(path, source)| {
                ManageError::Io {
                    action: "create",
                    path,
                    source,
                }
            })?;
        let removed = staging.path.join("removed");
        if has_folder {
            std::fs::rename(&target, &removed).map_err(|e| ManageError::Io {
                action: "remove",
                path: target.clone(),
                source: e,
            })?;
        }
        let undo_folder = || {
            if has_folder {
                let _ = std::fs::rename(&removed, &target);
            }
        };
        if entry.is_some() {
            let mut lock = old_lock.clone();
            lock.plugins.remove(name);
            if let Err(error) = lock.save_or_remove(&self.paths.lock) {
                undo_folder();
                return Err(ManageError::Lock(error));
            }
        }
        if has_table && let Err(error) = remove_plugin(&self.paths.config, name) {
            if entry.is_some() {
                let _ = restore_lock(&old_lock, &self.paths.lock, lock_existed);
            }
            undo_folder();
            return Err(ManageError::Config(error));
        }
        // Dropping the staging folder deletes the plugin's files (a link is removed, never
        // followed: a linked plugin's own folder stays).
        drop(staging);
        Ok(Uninstalled {
            name: name.to_owned(),
            version,
            source: entry.map(|e| e.source),
        })
    }

    /// Sets `[plugins.<name>].enabled`. Returns whether the state changed.
    pub fn set_enabled(&self, name: &str, enabled: bool) -> Result<bool, ManageError> {
        let _guard = self.exclusive().map_err(|(path, source)| ManageError::Io {
            action: "lock",
            path,
            source,
        })?;
        let config = Config::load(&self.paths.config).map_err(ManageError::Config)?;
        let catalog = Catalog::load_from(&self.paths.plugins_dir, &config, self.builtins);
        let plugin = catalog.get(name);
        if plugin.is_none() {
            let broken = catalog.problems.iter().find(|p| p.name() == Some(name));
            match broken {
                // A plugin whose manifest broke can still be disabled, never enabled.
                Some(crate::catalog::LoadProblem::Manifest { dir, .. }) if enabled => {
                    // Load it again to own the error (problems borrow the catalog).
                    let source = Manifest::load(dir).err();
                    return Err(match source {
                        Some(source) => ManageError::Broken {
                            name: name.to_owned(),
                            source,
                        },
                        None => ManageError::NotInstalled {
                            name: name.to_owned(),
                        },
                    });
                }
                Some(_) if !enabled => {}
                _ => {
                    return Err(ManageError::NotInstalled {
                        name: name.to_owned(),
                    });
                }
            }
        }
        if enabled && let Some(plugin) = plugin {
            for command in plugin.manifest.command_names() {
                let with = if self.reserved.contains(&command) {
                    Some(Clash::BuiltinCommand)
                } else {
                    catalog
                        .plugins
                        .iter()
                        .filter(|p| p.enabled && p.name != name)
                        .find(|p| p.manifest.command_names().any(|c| c == command))
                        .map(|p| Clash::Plugin(p.name.clone()))
                };
                if let Some(with) = with {
                    return Err(ManageError::CommandClash {
                        name: name.to_owned(),
                        command: command.to_owned(),
                        with,
                    });
                }
            }
        }
        let explicit = config.plugins.get(name).map(|p| p.enabled);
        if explicit == Some(enabled) {
            return Ok(false);
        }
        let was = config.plugin_enabled(name);
        set_plugin_enabled(&self.paths.config, name, enabled).map_err(ManageError::Config)?;
        Ok(was != enabled)
    }

    /// Accepts a project plugin's current content: records its hash in the lock. Returns the
    /// hash recorded before (if any) and the new one.
    pub fn trust(&self, name: &str) -> Result<(Option<String>, String), ManageError> {
        let _guard = self.exclusive().map_err(|(path, source)| ManageError::Io {
            action: "lock",
            path,
            source,
        })?;
        let catalog = self.catalog().map_err(ManageError::Config)?;
        let dir = match catalog.get(name) {
            Some(plugin) if plugin.is_builtin() => {
                return Err(ManageError::BuiltinTrust {
                    name: name.to_owned(),
                });
            }
            Some(plugin) if plugin.is_linked() => {
                return Err(ManageError::LinkedTrust {
                    name: name.to_owned(),
                });
            }
            Some(Plugin {
                provider: Provider::Project { dir, .. },
                ..
            }) => dir.clone(),
            _ => {
                return Err(ManageError::NotInstalled {
                    name: name.to_owned(),
                });
            }
        };
        let hash = hash::hash_dir(&dir).map_err(ManageError::Hash)?;
        let mut lock = self.lock().map_err(ManageError::Lock)?;
        let relative = format!("meta/plugins/{name}");
        let entry = lock.plugins.entry(name.to_owned()).or_insert(LockEntry {
            source: relative,
            rev: None,
            hash: None,
            linked: false,
        });
        entry.linked = false;
        let previous = entry.hash.replace(hash.clone());
        lock.save(&self.paths.lock).map_err(ManageError::Lock)?;
        Ok((previous, hash))
    }

    /// Checks that `plugin`'s content is what was recorded when it was installed.
    pub fn verify(&self, plugin: &Plugin, lock: &LockFile) -> Result<Integrity, VerifyError> {
        let Provider::Project { dir, linked } = &plugin.provider else {
            return Ok(Integrity::Builtin);
        };
        let entry = lock.plugins.get(&plugin.name);
        if *linked {
            // Only a link `install --link` made is exempt: a committed symlink is not.
            return match entry {
                Some(entry) if entry.linked => Ok(Integrity::Linked),
                _ => Err(VerifyError::UnexpectedLink {
                    name: plugin.name.clone(),
                }),
            };
        }
        let Some((entry, recorded)) = entry.and_then(|e| e.hash.clone().map(|h| (e, h))) else {
            return Err(VerifyError::NotRecorded {
                name: plugin.name.clone(),
            });
        };
        let actual = hash::hash_dir(dir).map_err(|source| VerifyError::Hash {
            name: plugin.name.clone(),
            source,
        })?;
        if actual == recorded {
            Ok(Integrity::Verified)
        } else {
            Err(VerifyError::Modified {
                name: plugin.name.clone(),
                recorded,
                actual,
                entry: Box::new(entry.clone()),
            })
        }
    }
}

enum Source {
    Folder(PathBuf),
    Git(String),
}

fn io_error(action: &'static str, path: PathBuf, source: std::io::Error) -> InstallError {
    InstallError::Io {
        action,
        path,
        source,
    }
}

/// Reads `<dir>/meta-plugin.toml`, naming it `<label>/meta-plugin.toml` in errors.
fn load_manifest(dir: &Path, label: &Path) -> Result<Manifest, ManifestError> {
    let shown = label.join(MANIFEST_FILE);
    let text =
        std::fs::read_to_string(dir.join(MANIFEST_FILE)).map_err(|source| ManifestError::Read {
            path: shown.clone(),
            source,
        })?;
    Manifest::parse(&text, &shown)
}

/// Puts the lock back as it was: `lock` saved, or no file if there was none.
fn restore_lock(lock: &LockFile, path: &Path, existed: bool) -> Result<(), LockError> {
    if existed {
        lock.save(path)
    } else {
        LockFile::default().save_or_remove(path)
    }
}

fn placed_ok(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// Removes a file, a symlink (never its target) or a folder.
fn remove_entry(path: &Path) -> std::io::Result<()> {
    let metadata = path.symlink_metadata()?;
    if metadata.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b || a.starts_with(&b) || b.starts_with(&a),
        _ => false,
    }
}

/// Copies a plugin folder: files with their permission bits, symlinks as symlinks, skipping
/// `.git/` and `__pycache__/` like the hash does.
fn copy_tree(from: &Path, to: &Path) -> Result<(), InstallError> {
    let entries = hash::walk(from).map_err(InstallError::Hash)?;
    std::fs::create_dir_all(to).map_err(|e| io_error("create", to.to_path_buf(), e))?;
    for entry in entries {
        let source = from.join(&entry.relative);
        let dest = to.join(&entry.relative);
        let result = match entry.kind {
            EntryKind::Dir => std::fs::create_dir(&dest),
            EntryKind::File | EntryKind::Executable => std::fs::copy(&source, &dest).map(drop),
            EntryKind::Symlink => std::fs::read_link(&source)
                .and_then(|target| std::os::unix::fs::symlink(target, &dest)),
        };
        result.map_err(|e| io_error("copy", source, e))?;
    }
    Ok(())
}

/// A private folder under `.meta/staging/`, deleted with everything in it when dropped.
struct Staging {
    path: PathBuf,
}

impl Staging {
    fn create(base: &Path, what: &str) -> Result<Self, (PathBuf, std::io::Error)> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = base.join(format!(
            "{what}-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        // Another `meta` may remove the empty base between our two calls; try again once.
        let mut attempt = 0;
        loop {
            std::fs::create_dir_all(base).map_err(|e| (base.to_path_buf(), e))?;
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempt == 0 => attempt += 1,
                Err(e) => return Err((path, e)),
            }
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // `remove_dir_all` removes symlinks without following them.
        let _ = std::fs::remove_dir_all(&self.path);
        // Leave no empty `.meta/staging/` behind; fails harmlessly while another install uses it.
        if let Some(base) = self.path.parent() {
            let _ = std::fs::remove_dir(base);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        _dir: tempfile::TempDir,
        root: PathBuf,
        sources: PathBuf,
    }

    const RESERVED: &[&str] = &["help", "plugin", "status"];

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("meta")).unwrap();
        std::fs::write(
            root.join("meta/metarepo.toml"),
            "# my config\n[metarepo]\nname = \"t\" # keep me\n",
        )
        .unwrap();
        let sources = dir.path().join("sources");
        std::fs::create_dir_all(&sources).unwrap();
        Fixture {
            _dir: dir,
            root,
            sources,
        }
    }

    impl Fixture {
        fn manager(&self) -> Manager<'static> {
            let ws = Workspace::open(&self.root).unwrap();
            Manager::new(PluginPaths::of(&ws), &[], RESERVED)
        }

        fn source(&self, name: &str, commands: &[&str]) -> PathBuf {
            let dir = self.sources.join(name);
            crate::catalog::tests::write_plugin(&dir, name, commands);
            std::fs::write(dir.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
            dir
        }

        fn request(&self, source: &Path) -> InstallRequest {
            InstallRequest {
                source: source.to_string_lossy().into_owned(),
                ..InstallRequest::default()
            }
        }

        /// Every file under the root, relative, sorted.
        fn tree(&self) -> Vec<String> {
            let mut out: Vec<String> = crate::hash::walk(&self.root)
                .unwrap()
                .into_iter()
                .map(|e| e.relative.to_string_lossy().into_owned())
                .collect();
            out.sort();
            out
        }
    }

    #[test]
    fn install_copies_records_and_enables() {
        let fx = fixture();
        let src = fx.source("hello", &["hello"]);
        let installed = fx.manager().install(&fx.request(&src)).unwrap();
        assert_eq!(installed.name, "hello");
        assert!(!installed.replaced);
        let dir = fx.root.join("meta/plugins/hello");
        assert!(dir.join("run.sh").is_file());
        let lock = fx.manager().lock().unwrap();
        let entry = &lock.plugins["hello"];
        assert_eq!(entry.source, src.canonicalize().unwrap().to_string_lossy());
        assert_eq!(
            entry.hash.as_deref(),
            Some(hash::hash_dir(&dir).unwrap().as_str())
        );
        let config = std::fs::read_to_string(fx.root.join("meta/metarepo.toml")).unwrap();
        assert!(
            config.contains("# keep me") && config.contains("[plugins.hello]"),
            "{config}"
        );
        // Nothing is left in staging.
        assert!(!fx.root.join(".meta/staging").exists());

        let catalog = fx.manager().catalog().unwrap();
        let plugin = catalog.get("hello").unwrap();
        assert_eq!(
            fx.manager().verify(plugin, &lock).unwrap(),
            Integrity::Verified
        );
        std::fs::write(dir.join("run.sh"), "#!/bin/sh\necho evil\n").unwrap();
        let err = fx.manager().verify(plugin, &lock).unwrap_err();
        assert!(matches!(err, VerifyError::Modified { .. }), "{err}");
        let (previous, now) = fx.manager().trust("hello").unwrap();
        assert_ne!(previous.unwrap(), now);
        let lock = fx.manager().lock().unwrap();
        assert_eq!(
            fx.manager().verify(plugin, &lock).unwrap(),
            Integrity::Verified
        );
    }

    #[test]
    fn clashes_are_refused_and_change_nothing() {
        let fx = fixture();
        fx.manager()
            .install(&fx.request(&fx.source("one", &["go"])))
            .unwrap();
        let before = fx.tree();
        let lock_before = std::fs::read_to_string(fx.root.join("meta/plugins.lock")).unwrap();

        let err = fx
            .manager()
            .install(&fx.request(&fx.source("two", &["fly", "go"])))
            .unwrap_err();
        assert!(
            matches!(&err, InstallError::CommandClash { command, with: Clash::Plugin(p), .. } if command == "go" && p == "one"),
            "{err}"
        );
        let err = fx
            .manager()
            .install(&fx.request(&fx.source("three", &["status"])))
            .unwrap_err();
        assert!(
            matches!(
                &err,
                InstallError::CommandClash {
                    with: Clash::BuiltinCommand,
                    ..
                }
            ),
            "{err}"
        );
        let err = fx
            .manager()
            .install(&fx.request(&fx.source("help", &["x"])))
            .unwrap_err();
        assert!(matches!(&err, InstallError::NameClash { .. }), "{err}");
        let err = fx
            .manager()
            .install(&fx.request(&fx.source("one", &["go"])))
            .unwrap_err();
        assert!(
            matches!(&err, InstallError::AlreadyInstalled { .. }),
            "{err}"
        );

        assert_eq!(
            fx.tree()
                .iter()
                .filter(|p| !p.starts_with(".meta"))
                .collect::<Vec<_>>(),
            before
                .iter()
                .filter(|p| !p.starts_with(".meta"))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            std::fs::read_to_string(fx.root.join("meta/plugins.lock")).unwrap(),
            lock_before
        );
        assert!(!fx.root.join(".meta/staging").exists());

        // --force replaces.
        let mut request = fx.request(&fx.source("one", &["go", "run"]));
        request.force = true;
        let installed = fx.manager().install(&request).unwrap();
        assert!(installed.replaced);
        assert_eq!(installed.manifest.commands.len(), 2);
    }

    #[test]
    fn link_installs_a_symlink_and_uninstall_leaves_the_source() {
        let fx = fixture();
        let src = fx.source("dev", &["dev"]);
        let mut request = fx.request(&src);
        request.link = true;
        fx.manager().install(&request).unwrap();
        let target = fx.root.join("meta/plugins/dev");
        assert!(target.symlink_metadata().unwrap().file_type().is_symlink());
        let catalog = fx.manager().catalog().unwrap();
        let plugin = catalog.get("dev").unwrap();
        assert!(plugin.is_linked());
        let lock = fx.manager().lock().unwrap();
        assert_eq!(
            fx.manager().verify(plugin, &lock).unwrap(),
            Integrity::Linked
        );
        assert!(matches!(
            fx.manager().trust("dev").unwrap_err(),
            ManageError::LinkedTrust { .. }
        ));

        fx.manager().uninstall("dev").unwrap();
        assert!(target.symlink_metadata().is_err());
        assert!(
            src.join("run.sh").is_file(),
            "the linked source must survive"
        );
        assert!(fx.manager().lock().unwrap().plugins.is_empty());
        let config = std::fs::read_to_string(fx.root.join("meta/metarepo.toml")).unwrap();
        assert!(!config.contains("dev"), "{config}");
    }

    #[test]
    fn a_committed_symlink_is_not_trusted() {
        let fx = fixture();
        let src = fx.source("sneaky", &["sneaky"]);
        std::fs::create_dir_all(fx.root.join("meta/plugins")).unwrap();
        std::os::unix::fs::symlink(&src, fx.root.join("meta/plugins/sneaky")).unwrap();
        let catalog = fx.manager().catalog().unwrap();
        let err = fx
            .manager()
            .verify(catalog.get("sneaky").unwrap(), &LockFile::default())
            .unwrap_err();
        assert!(matches!(err, VerifyError::UnexpectedLink { .. }), "{err}");
    }

    #[test]
    fn enable_disable_and_their_clashes() {
        let fx = fixture();
        let manager = fx.manager();
        manager
            .install(&fx.request(&fx.source("one", &["go"])))
            .unwrap();
        assert!(manager.set_enabled("one", false).unwrap());
        assert!(!manager.set_enabled("one", false).unwrap());
        assert!(!manager.catalog().unwrap().get("one").unwrap().enabled);
        // While `one` is disabled, another plugin may take `go`; enabling `one` then clashes.
        manager
            .install(&fx.request(&fx.source("two", &["go"])))
            .unwrap_err();
        assert!(manager.set_enabled("one", true).unwrap());
        assert!(matches!(
            manager.set_enabled("nope", true).unwrap_err(),
            ManageError::NotInstalled { .. }
        ));
        assert!(matches!(
            manager.uninstall("nope").unwrap_err(),
            ManageError::NotInstalled { .. }
        ));
    }

    #[test]
    fn bad_sources_are_refused() {
        let fx = fixture();
        let manager = fx.manager();
        let request = |source: &str| InstallRequest {
            source: source.to_owned(),
            ..InstallRequest::default()
        };
        assert!(matches!(
            manager.install(&request("--upload-pack=evil")).unwrap_err(),
            InstallError::OptionLikeSource { .. }
        ));
        assert!(matches!(
            manager.install(&request("git+-x")).unwrap_err(),
            InstallError::OptionLikeSource { .. }
        ));
        assert!(matches!(
            manager
                .install(&request(&fx.sources.join("missing").to_string_lossy()))
                .unwrap_err(),
            InstallError::SourceMissing { .. }
        ));
        assert!(matches!(
            manager
                .install(&request(&fx.sources.to_string_lossy()))
                .unwrap_err(),
            InstallError::NotAPlugin { .. }
        ));
        let src = fx.source("x", &["x"]);
        let mut with_rev = request(&src.to_string_lossy());
        with_rev.rev = Some("v1".into());
        assert!(matches!(
            manager.install(&with_rev).unwrap_err(),
            InstallError::RevNeedsGit { .. }
        ));
        with_rev.rev = Some("--orphan".into());
        assert!(matches!(
            manager.install(&with_rev).unwrap_err(),
            InstallError::OptionLikeRev { .. }
        ));
        let mut named = request(&src.to_string_lossy());
        named.name = Some("Bad_Name".into());
        assert!(matches!(
            manager.install(&named).unwrap_err(),
            InstallError::BadName { .. }
        ));
        assert!(!fx.root.join("meta/plugins.lock").exists());
    }

    #[test]
    fn builtins_can_be_disabled_but_not_uninstalled_shadowed_or_trusted() {
        static BUILTINS: &[BuiltinPlugin] = &[BuiltinPlugin::always(
            "api = 1\n[plugin]\nname = \"watch\"\nversion = \"1.0.0\"\n[service]\nexec = [\"meta\", \"watch\"]\n",
        )];
        let fx = fixture();
        let ws = Workspace::open(&fx.root).unwrap();
        let manager = Manager::new(PluginPaths::of(&ws), BUILTINS, RESERVED);
        let catalog = manager.catalog().unwrap();
        let watch = catalog.get("watch").unwrap();
        assert!(watch.is_builtin() && watch.enabled);
        assert_eq!(
            manager.verify(watch, &LockFile::default()).unwrap(),
            Integrity::Builtin
        );
        assert!(manager.set_enabled("watch", false).unwrap());
        assert!(!manager.catalog().unwrap().get("watch").unwrap().enabled);
        assert!(matches!(
            manager.uninstall("watch").unwrap_err(),
            ManageError::BuiltinUninstall { .. }
        ));
        assert!(matches!(
            manager.trust("watch").unwrap_err(),
            ManageError::BuiltinTrust { .. }
        ));
        let err = manager
            .install(&fx.request(&fx.source("watch", &["w"])))
            .unwrap_err();
        assert!(
            matches!(err, InstallError::BuiltinPluginName { .. }),
            "{err}"
        );
    }

    #[test]
    fn concurrent_installs_lose_nothing() {
        let fx = fixture();
        let sources: Vec<PathBuf> = (0..6)
            .map(|i| fx.source(&format!("p{i}"), &[&format!("c{i}")]))
            .collect();
        std::thread::scope(|scope| {
            for source in &sources {
                let fx = &fx;
                scope.spawn(move || fx.manager().install(&fx.request(source)).unwrap());
            }
        });
        let lock = fx.manager().lock().unwrap();
        assert_eq!(lock.plugins.len(), 6, "{lock:?}");
        let config = Config::load(&fx.root.join("meta/metarepo.toml")).unwrap();
        assert_eq!(config.plugins.len(), 6);
    }
}

//! The plugin host library of `meta` (DESIGN.md section 4): manifests and their validation,
//! providers (built-in plugins compiled into `meta`, project plugins in `meta/plugins/`), the
//! catalog that loads them, `meta/plugins.lock` and content hashes, and the manager that
//! installs, uninstalls, enables, disables and re-trusts plugins.
//!
//! It never prints and never runs plugin code: reading a manifest, listing plugins, computing a
//! hash and installing are all plain file operations (and `git` for git sources). Starting a
//! plugin's command or service is the caller's job (the CLI and the daemon), after
//! [`Manager::verify`] has said its content is the one recorded at install time.

pub mod catalog;
mod git;
pub mod hash;
pub mod launch;
pub mod lock;
pub mod manager;
pub mod manifest;
pub mod rules;

pub use catalog::{
    BuiltinPlugin, Catalog, CommandConflict, LoadProblem, OfferedCommand, Plugin, Provider,
    SELF_EXEC,
};
pub use git::GitError;
pub use hash::{HashError, hash_dir};
pub use launch::LaunchError;
pub use lock::{LockEntry, LockError, LockFile};
pub use manager::{
    Clash, InstallError, InstallRequest, Installed, Integrity, ManageError, Manager, PluginPaths,
    Uninstalled, VerifyError,
};
pub use manifest::{
    API_VERSION, CommandSpec, MANIFEST_FILE, Manifest, ManifestError, RestartPolicy, ServiceSpec,
};

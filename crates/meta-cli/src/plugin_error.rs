//! Plugin library errors as the CLI reports them: what failed, why, and what to do next.

use meta_plugin::{Clash, InstallError, LockError, ManageError, VerifyError};

use crate::error::CliError;

const MANIFEST_DOCS: &str = "docs/plugins.md describes every manifest field";

impl From<LockError> for CliError {
    fn from(error: LockError) -> Self {
        Self::context("the plugin lock file is not usable", &error).with_hint(
            "it is written by `meta plugin install`; restore it from git (`git checkout -- meta/plugins.lock`) or reinstall the plugins",
        )
    }
}

impl From<VerifyError> for CliError {
    fn from(error: VerifyError) -> Self {
        let error = match error {
            VerifyError::Lock(inner) => return inner.into(),
            other => other,
        };
        match &error {
            VerifyError::Modified {
                name,
                recorded,
                actual,
                entry,
            } => Self::new(format!(
                "plugin `{name}` changed since it was installed; it was not run"
            ))
            .with_cause(format!(
                "its content hash is {actual}, but meta/plugins.lock records {recorded}"
            ))
            .with_hint(format!(
                "see what changed: `git status meta/plugins/{name}` and `git diff -- meta/plugins/{name}`"
            ))
            .with_hint(format!(
                "if you made or reviewed the change, trust it: `meta plugin trust {name}`"
            ))
            .with_hint(format!(
                "to restore what was installed instead: {}",
                entry.reinstall_command()
            )),
            VerifyError::NotRecorded { name } => Self::from_error(&error)
                .with_hint(format!(
                    "if you know where it came from and trust it: `meta plugin trust {name}`"
                ))
                .with_hint("or install it properly: `meta plugin install --force SOURCE`"),
            VerifyError::UnexpectedLink { name } => Self::from_error(&error).with_hint(format!(
                "a linked plugin is installed with `meta plugin install --link FOLDER`; otherwise remove the link: `meta plugin uninstall {name}`"
            )),
            VerifyError::Hash { .. } => Self::from_error(&error)
                .with_hint("check that you may read every file in the plugin's folder"),
            VerifyError::Lock(_) => Self::from_error(&error),
        }
    }
}

fn clash_hint(with: &Clash, what: &str) -> String {
    match with {
        Clash::BuiltinCommand => {
            format!("built-in commands always win; rename the {what} in the plugin's manifest")
        }
        Clash::Plugin(other) => format!(
            "rename the {what} in the plugin's manifest, or remove the other plugin first: `meta plugin uninstall {other}`"
        ),
    }
}

impl From<InstallError> for CliError {
    fn from(error: InstallError) -> Self {
        let plain = Self::from_error(&error);
        match &error {
            InstallError::OptionLikeSource { .. }
            | InstallError::OptionLikeRev { .. }
            | InstallError::LinkNeedsFolder { .. }
            | InstallError::RevNeedsGit { .. }
            | InstallError::BadName { .. } => {
                let mut usage = Self::usage(plain.message());
                if matches!(error, InstallError::OptionLikeSource { .. }) {
                    usage = usage.with_hint("for a folder whose name starts with `-`, write `./-name`");
                }
                usage
            }
            InstallError::SourceMissing { .. } | InstallError::NotAPlugin { .. } => plain.with_hint(
                "give a plugin folder (one holding meta-plugin.toml) or a git URL; see docs/plugins.md",
            ),
            InstallError::Git { .. } => plain.with_hint(
                "check the URL and that you can reach it (`git ls-remote URL`); `--rev` takes a tag, branch or commit",
            ),
            InstallError::Manifest(_) => Self::context("cannot install: the plugin's manifest is not valid", &error)
                .with_hint(format!("fix the manifest and install again; {MANIFEST_DOCS}")),
            InstallError::NameClash { .. } | InstallError::BuiltinPluginName { .. } => {
                plain.with_hint("install it under another name: `--name NAME`")
            }
            InstallError::AlreadyInstalled { name, .. } => plain.with_hint(format!(
                "`--force` replaces it; `meta plugin uninstall {name}` removes it"
            )),
            InstallError::CommandClash { with, .. } => plain.with_hint(clash_hint(with, "command")),
            InstallError::LinkToItself { .. } => {
                plain.with_hint("link a folder outside meta/plugins/")
            }
            InstallError::Io { .. } | InstallError::Hash(_) => {
                plain.with_hint("nothing was installed; fix the cause and run the command again")
            }
            InstallError::Lock(_) | InstallError::Config(_) => {
                Self::context("cannot install", &error).with_hint("nothing was installed; fix the file and run the command again")
            }
        }
    }
}

impl From<ManageError> for CliError {
    fn from(error: ManageError) -> Self {
        let plain = Self::from_error(&error);
        match &error {
            ManageError::NotInstalled { .. } => {
                plain.with_hint("run `meta plugin list` to see the plugins of this meta-repo")
            }
            ManageError::BuiltinUninstall { name } => {
                plain.with_hint(format!("turn it off instead: `meta plugin disable {name}`"))
            }
            ManageError::BuiltinTrust { .. } | ManageError::LinkedTrust { .. } => plain,
            ManageError::Broken { .. } => {
                plain.with_hint(format!("fix the manifest first; {MANIFEST_DOCS}"))
            }
            ManageError::CommandClash { with, .. } => plain.with_hint(clash_hint(with, "command")),
            ManageError::Io { .. } | ManageError::Hash(_) => {
                plain.with_hint("nothing was changed; fix the cause and run the command again")
            }
            ManageError::Lock(_) | ManageError::Config(_) => {
                Self::context("cannot change plugins", &error)
                    .with_hint("nothing was changed; fix the file and run the command again")
            }
        }
    }
}

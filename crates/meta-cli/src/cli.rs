//! From `argv` to a command: global flags, the registry, parsing, dispatch and the exit code.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::FromArgMatches;
use meta_plugin::Catalog;
use meta_workspace::{Workspace, env};

use crate::error::{CliError, CliResult};
use crate::plugins::{self, RESERVED};
use crate::registry::{Origin, Registry};
use crate::ui::{ColorChoice, Ui};

// Flags every command accepts. (A plain comment: a doc comment would become `about`.)
#[derive(clap::Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Run as if `meta` was started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,
    /// Say more (repeat for more detail).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Say less: only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to use colour (`NO_COLOR` is honoured with `auto`).
    #[arg(long, global = true, value_enum, default_value_t, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Run with built-in commands only (also `META_NO_PLUGINS=1`).
    #[arg(long, global = true)]
    pub no_plugins: bool,
}

impl GlobalArgs {
    fn verbosity(&self) -> i8 {
        if self.quiet {
            -1
        } else {
            i8::try_from(self.verbose).unwrap_or(i8::MAX)
        }
    }
}

/// What every command gets: the global flags, the UI, the registry, and the meta-repo (found
/// on first use, so commands that need none never look for one).
pub struct Ctx<'a> {
    pub globals: GlobalArgs,
    pub ui: Ui,
    pub registry: &'a Registry,
    workspace: Option<Workspace>,
    /// The plugins loaded to build the registry, when they were (see [`wants_plugins`]).
    catalog: Option<Catalog>,
    /// Why plugin commands could not be loaded inside a meta-repo (its config does not load).
    plugins_unavailable: Option<String>,
    /// `--no-plugins` or `META_NO_PLUGINS`.
    plugins_off: bool,
    /// The meta-repo was checked for an interrupted operation's journal (once per run).
    journal_checked: bool,
}

impl Ctx<'_> {
    /// For the commands that deal with an interrupted operation themselves: no warning.
    pub fn skip_journal_notice(&mut self) {
        self.journal_checked = true;
    }

    /// `--no-plugins` or `META_NO_PLUGINS`: built-in plugins only.
    pub fn plugins_off(&self) -> bool {
        self.plugins_off
    }

    /// The meta-repo around the working directory, or a friendly error saying there is none.
    pub fn workspace(&mut self) -> Result<&Workspace, CliError> {
        if self.workspace.is_none() {
            let cwd = current_dir()?;
            self.workspace = Some(Workspace::discover(&cwd)?);
        }
        if !self.journal_checked
            && let Some(workspace) = &self.workspace
        {
            self.journal_checked = true;
            crate::journal_notice::warn_if_interrupted(&self.ui, workspace.root());
        }
        self.workspace
            .as_ref()
            .ok_or_else(|| CliError::new("internal error: meta-repo not loaded"))
    }
}

pub fn current_dir() -> Result<PathBuf, CliError> {
    std::env::current_dir().map_err(|e| {
        CliError::context("cannot tell the current folder", &e)
            .with_hint("it may have been deleted; `cd` somewhere that exists and retry")
    })
}

/// The flags that must act before the command line is parsed in full: `-C` changes where
/// plugins are looked up, `--no-plugins` whether they are, `--color` how parse errors look.
#[derive(Default)]
struct EarlyFlags {
    directory: Option<PathBuf>,
    no_plugins: bool,
    color: ColorChoice,
    command: Option<String>,
}

fn scan_early_flags(args: &[OsString]) -> EarlyFlags {
    let mut flags = EarlyFlags::default();
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let Some(text) = arg.to_str() else { break };
        match text {
            "--" => break,
            "-C" => flags.directory = iter.next().map(PathBuf::from),
            "--no-plugins" => flags.no_plugins = true,
            "--color" => {
                if let Some(value) = iter.next().and_then(|v| v.to_str()) {
                    flags.color = parse_color(value);
                }
            }
            _ if text.starts_with("--color=") => flags.color = parse_color(&text[8..]),
            _ if text.starts_with("-C") => flags.directory = Some(PathBuf::from(&text[2..])),
            _ if text.starts_with('-') => {}
            _ => {
                flags.command = Some(text.to_owned());
                break;
            }
        }
    }
    flags
}

fn parse_color(value: &str) -> ColorChoice {
    match value {
        "always" => ColorChoice::Always,
        "never" => ColorChoice::Never,
        _ => ColorChoice::Auto,
    }
}

fn change_dir(dir: &Path) -> Result<(), CliError> {
    std::env::set_current_dir(dir).map_err(|e| {
        CliError::context(
            format!("cannot run in `{}` (given with -C)", dir.display()),
            &e,
        )
        .with_hint("check that the folder exists and that you may enter it")
    })
}

/// Runs `meta` with `args` (including the program name) and returns the process exit code.
pub fn run(args: Vec<OsString>) -> ExitCode {
    let early = scan_early_flags(&args);
    let early_ui = Ui::new(early.color, 0);
    if let Some(dir) = &early.directory
        && let Err(error) = change_dir(dir)
    {
        early_ui.report(&error);
        return error.exit_code();
    }
    let plugins_off = early.no_plugins || env::flag(env::META_NO_PLUGINS);
    let mut registry = Registry::builtins();
    let mut workspace = None;
    let mut catalog = None;
    let mut plugins_unavailable = None;
    if !plugins_off && wants_plugins(early.command.as_deref()) {
        // Problems with plugins matter where commands are listed, not on every run of one.
        let listing = early
            .command
            .as_deref()
            .is_none_or(|c| matches!(c, "help" | "completions"));
        match load_plugins(&mut registry, &early_ui, listing) {
            Ok(Some((ws, loaded))) => {
                workspace = Some(ws);
                catalog = Some(loaded);
            }
            Ok(None) => {}
            Err(why) => plugins_unavailable = Some(why),
        }
    }

    let matches = match registry.parser(early.color).try_get_matches_from(&args) {
        Ok(matches) => matches,
        Err(error) => {
            // Help and version are not errors; clap prints them itself, coloured as asked.
            let code = if error.use_stderr() { 2 } else { 0 };
            if let Err(io) = error.print()
                && io.kind() != std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::FAILURE;
            }
            return ExitCode::from(code);
        }
    };
    let globals = match GlobalArgs::from_arg_matches(&matches) {
        Ok(globals) => globals,
        Err(error) => {
            let error = CliError::from(error);
            early_ui.report(&error);
            return error.exit_code();
        }
    };
    let ui = Ui::new(globals.color, globals.verbosity());
    // `-C` given after the command name was not seen early; honour it now.
    if early.directory.is_none()
        && let Some(dir) = &globals.directory
        && let Err(error) = change_dir(dir)
    {
        ui.report(&error);
        return error.exit_code();
    }
    let mut ctx = Ctx {
        globals,
        ui,
        registry: &registry,
        workspace,
        catalog,
        plugins_unavailable,
        plugins_off,
        journal_checked: false,
    };
    let result = dispatch(&mut ctx, &matches);
    match result {
        Ok(code) => code,
        Err(error) => {
            ctx.ui.report(&error);
            error.exit_code()
        }
    }
}

fn dispatch(ctx: &mut Ctx<'_>, matches: &clap::ArgMatches) -> CliResult {
    let Some((name, sub)) = matches.subcommand() else {
        return Err(
            CliError::usage("no command given").with_hint("run `meta --help` to see every command")
        );
    };
    let registry = ctx.registry;
    match registry.get(name).map(|e| &e.origin) {
        Some(Origin::Builtin(builtin)) => (builtin.run)(ctx, sub),
        Some(Origin::Plugin(command)) => {
            let args = sub
                .get_many::<OsString>("")
                .map(|values| values.cloned().collect())
                .unwrap_or_default();
            plugins::run_command(ctx, command, args)
        }
        None => Err(ctx.unknown_command(name)),
    }
}

/// Does the command about to run need plugin commands in the registry? Built-in commands do
/// not (startup stays lean), except those that list commands.
fn wants_plugins(command: Option<&str>) -> bool {
    command.is_none_or(|c| !Registry::is_builtin(c) || matches!(c, "help" | "completions"))
}

/// Loads the plugins of the meta-repo around the working directory into `registry`, reading
/// manifests only. Outside a meta-repo there are none (`Ok(None)`). A config that does not
/// load is reported when `report` is set (where commands are being listed) and returned, so an
/// unknown command can say why plugin commands are missing; the command itself deals with it.
fn load_plugins(
    registry: &mut Registry,
    ui: &Ui,
    report: bool,
) -> Result<Option<(Workspace, Catalog)>, String> {
    let Some(root) = std::env::current_dir()
        .ok()
        .and_then(|cwd| meta_workspace::find_root(&cwd).ok())
    else {
        return Ok(None);
    };
    let workspace = match Workspace::open(&root) {
        Ok(workspace) => workspace,
        Err(error) => {
            if report {
                ui.warn(format!("plugin commands are not listed: {error}"));
            }
            return Err(error.to_string());
        }
    };
    let catalog = Catalog::load(&workspace, plugins::BUILTIN_PLUGINS);
    let conflicts = registry.add_plugin_commands(&catalog, &RESERVED);
    if report {
        for problem in &catalog.problems {
            ui.warn(problem);
        }
        for conflict in &conflicts {
            ui.warn(conflict);
        }
    }
    Ok(Some((workspace, catalog)))
}

impl Ctx<'_> {
    /// `meta frobnicate`, with hints about plugins that could have offered it.
    pub fn unknown_command(&self, name: &str) -> CliError {
        let mut error = unknown_command(self.registry, name);
        if self.plugins_off {
            error = error.with_hint(
                "plugins are turned off (`--no-plugins` or `META_NO_PLUGINS`); their commands are not available",
            );
        }
        if let Some(why) = &self.plugins_unavailable {
            error = error.with_cause(format!(
                "plugin commands are not available: the meta-repo config does not load: {why}"
            ));
        }
        if let Some(catalog) = &self.catalog {
            for plugin in catalog.plugins.iter().filter(|p| !p.enabled) {
                if plugin.manifest.command_names().any(|c| c == name) {
                    error = error.with_hint(format!(
                        "plugin `{}` offers `{name}` but is disabled: `meta plugin enable {}`",
                        plugin.name, plugin.name
                    ));
                }
            }
            for problem in &catalog.problems {
                error = error.with_hint(format!("{problem}"));
            }
        }
        error
    }
}

/// `meta frobnicate`: say so, and suggest the nearest command.
pub fn unknown_command(registry: &Registry, name: &str) -> CliError {
    let mut error = CliError::usage(format!("unknown command `{name}`"));
    let nearest = registry
        .entries()
        .iter()
        .map(|e| (strsim::jaro_winkler(name, &e.name), &e.name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((_, similar)) = nearest {
        error = error.with_hint(format!("a command with a similar name exists: `{similar}`"));
    }
    error.with_hint("run `meta --help` to see every command, including those of enabled plugins")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn early_flags_stop_at_the_command() {
        let flags = scan_early_flags(&os(&[
            "meta",
            "-C",
            "x",
            "--no-plugins",
            "hello",
            "-C",
            "y",
        ]));
        assert_eq!(flags.directory, Some(PathBuf::from("x")));
        assert!(flags.no_plugins);
        assert_eq!(flags.command.as_deref(), Some("hello"));
        let flags = scan_early_flags(&os(&["meta", "-Cdir", "--color=never", "-v", "status"]));
        assert_eq!(flags.directory, Some(PathBuf::from("dir")));
        assert_eq!(flags.color, ColorChoice::Never);
        assert_eq!(flags.command.as_deref(), Some("status"));
    }
}

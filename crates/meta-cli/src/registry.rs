//! The command registry. Built-in commands and commands contributed by plugins register here
//! alike, so `--help`, dispatch and shell completions are all derived from one list.

use std::fmt::Write as _;

use clap::{Arg, ArgAction, Command};

use crate::cli::{Ctx, GlobalArgs};
use crate::error::CliResult;
use crate::ui::ColorChoice;

/// A command compiled into `meta`.
pub struct Builtin {
    pub name: &'static str,
    pub about: &'static str,
    /// Adds the command's arguments (its `clap::Args` derive) to a bare `Command`.
    pub build: fn(Command) -> Command,
    pub run: fn(&mut Ctx<'_>, &clap::ArgMatches) -> CliResult,
}

/// A command contributed by an enabled plugin: what is needed to check and run it, read from
/// its manifest (no plugin process starts to register it).
pub struct PluginCommand {
    pub plugin: meta_plugin::Plugin,
    pub command: meta_plugin::CommandSpec,
}

/// Where a registered command comes from.
pub enum Origin {
    Builtin(&'static Builtin),
    Plugin(Box<PluginCommand>),
}

/// One command as the user sees it: `meta <name>`.
pub struct Entry {
    pub name: String,
    pub about: String,
    pub origin: Origin,
}

impl Entry {
    fn is_builtin(&self) -> bool {
        matches!(self.origin, Origin::Builtin(_))
    }

    /// The heading this command is listed under in `meta --help`.
    fn heading(&self) -> &'static str {
        match self.origin {
            Origin::Builtin(_) => "Commands",
            Origin::Plugin(_) => "Plugin commands",
        }
    }
}

pub struct Registry {
    entries: Vec<Entry>,
}

impl Registry {
    /// The built-in commands only.
    pub fn builtins() -> Self {
        Self {
            entries: crate::commands::BUILTINS
                .iter()
                .map(|builtin| Entry {
                    name: builtin.name.to_owned(),
                    about: builtin.about.to_owned(),
                    origin: Origin::Builtin(builtin),
                })
                .collect(),
        }
    }

    /// Adds the commands `catalog`'s enabled plugins offer, after the built-ins. Commands that
    /// clash with a built-in or an earlier plugin are left out and returned.
    pub fn add_plugin_commands(
        &mut self,
        catalog: &meta_plugin::Catalog,
        reserved: &[&str],
    ) -> Vec<meta_plugin::CommandConflict> {
        let (offered, conflicts) = catalog.offered_commands(reserved);
        for offer in offered {
            let about = if offer.command.about.is_empty() {
                // Without its own `about`, a command is introduced by its plugin.
                let description = &offer.plugin.manifest.description;
                if description.is_empty() {
                    format!("(plugin {})", offer.plugin.name)
                } else {
                    description.clone()
                }
            } else {
                offer.command.about.clone()
            };
            self.entries.push(Entry {
                name: offer.command.name.clone(),
                about,
                origin: Origin::Plugin(Box::new(PluginCommand {
                    plugin: offer.plugin.clone(),
                    command: offer.command.clone(),
                })),
            });
        }
        conflicts
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn is_builtin(name: &str) -> bool {
        crate::commands::BUILTINS.iter().any(|b| b.name == name)
    }

    /// The clap command that parses `meta`'s command line.
    ///
    /// Built-ins are real subcommands; other entries arrive as external subcommands (their
    /// arguments belong to them, not to us) and are dispatched by name.
    pub fn parser(&self, color: ColorChoice) -> Command {
        let mut root = root_command(color).help_template(self.help_template());
        for entry in &self.entries {
            match entry.origin {
                Origin::Builtin(builtin) => {
                    // `about` is set after `build`: a doc comment on `Args` must not replace it.
                    root = root.subcommand(
                        (builtin.build)(Command::new(builtin.name)).about(builtin.about),
                    );
                }
                // Arrives as an external subcommand: its arguments, `--help` included, are the
                // plugin's.
                Origin::Plugin(_) => {}
            }
        }
        root
    }

    /// The clap command shell completions are generated from: every entry is a subcommand.
    pub fn completion_command(&self) -> Command {
        let mut root = self.parser(ColorChoice::Never);
        for entry in self.entries.iter().filter(|e| !e.is_builtin()) {
            root = root.subcommand(
                Command::new(entry.name.clone())
                    .about(entry.about.clone())
                    .arg(
                        Arg::new("args")
                            .num_args(0..)
                            .trailing_var_arg(true)
                            .allow_hyphen_values(true)
                            .action(ArgAction::Append),
                    ),
            );
        }
        root
    }

    /// `meta --help`: commands listed under their origin's heading, then the global options.
    fn help_template(&self) -> String {
        let width = self.entries.iter().map(|e| e.name.len()).max().unwrap_or(0) + 2;
        let heading = anstyle::Style::new().bold().underline();
        let mut sections: Vec<(&str, String)> = Vec::new();
        for entry in &self.entries {
            let title = entry.heading();
            let index = if let Some(i) = sections.iter().position(|(t, _)| *t == title) {
                i
            } else {
                sections.push((title, String::new()));
                sections.len() - 1
            };
            let body = &mut sections[index].1;
            let name = anstyle::Style::new().bold();
            // Braces would be read as template tags by clap.
            let about = entry.about.replace('{', "(").replace('}', ")");
            let _ = writeln!(
                body,
                "  {}{}{}{:pad$}{about}",
                name.render(),
                entry.name,
                name.render_reset(),
                "",
                pad = width - entry.name.len()
            );
        }
        let mut template = String::from("{about-with-newline}\n{usage-heading} {usage}\n");
        for (title, body) in sections {
            let _ = write!(
                template,
                "\n{}{title}:{}\n{body}",
                heading.render(),
                heading.render_reset()
            );
        }
        let _ = write!(
            template,
            "\n{}Options:{}\n{{options}}{{after-help}}",
            heading.render(),
            heading.render_reset()
        );
        template
    }
}

fn root_command(color: ColorChoice) -> Command {
    let command = Command::new("meta")
        .version(env!("CARGO_PKG_VERSION"))
        .after_help("Run `meta help <command>` for a command's own options.")
        .disable_help_subcommand(true)
        .allow_external_subcommands(true)
        .subcommand_value_name("COMMAND")
        .arg_required_else_help(true)
        .color(match color {
            ColorChoice::Auto => clap::ColorChoice::Auto,
            ColorChoice::Always => clap::ColorChoice::Always,
            ColorChoice::Never => clap::ColorChoice::Never,
        });
    <GlobalArgs as clap::Args>::augment_args(command).about(ABOUT)
}

const ABOUT: &str = "One tool for a meta-repo: status, health, events, plugins and templates for a tree of git submodules.";

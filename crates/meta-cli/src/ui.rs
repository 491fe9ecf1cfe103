//! Everything `meta` shows the user goes through here: colour decisions, the styles of one
//! voice, and the `error:` / `caused by:` / `hint:` report.

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use meta_workspace::env;

use crate::error::{CliError, ErrorKind};

/// `--color auto|always|never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// The styles `meta` uses, named by meaning rather than colour.
pub mod styles {
    use super::{AnsiColor, Style};

    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
    pub const OK: Style = AnsiColor::Green.on_default();
    pub const HINT: Style = AnsiColor::Cyan.on_default().bold();
    pub const HEADER: Style = Style::new().bold().underline();
    pub const EMPHASIS: Style = Style::new().bold();
    pub const DIM: Style = Style::new().dimmed();
}

#[derive(Debug, Clone)]
pub struct Ui {
    color_stdout: bool,
    color_stderr: bool,
    verbosity: i8,
}

impl Ui {
    pub fn new(choice: ColorChoice, verbosity: i8) -> Self {
        let allowed = |terminal: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                terminal
                    && std::env::var_os(env::NO_COLOR).is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        };
        Self {
            color_stdout: allowed(io::stdout().is_terminal()),
            color_stderr: allowed(io::stderr().is_terminal()),
            verbosity,
        }
    }

    /// -1 with `-q`, 0 by default, more with each `-v`.
    pub fn verbosity(&self) -> i8 {
        self.verbosity
    }

    pub fn color_stdout(&self) -> bool {
        self.color_stdout
    }

    pub fn stdout_is_terminal(&self) -> bool {
        io::stdout().is_terminal()
    }

    /// `text` in `style` when stdout takes colour.
    pub fn paint(&self, style: Style, text: impl std::fmt::Display) -> String {
        paint(self.color_stdout, style, text)
    }

    /// `text` in `style` when stderr takes colour.
    pub fn paint_err(&self, style: Style, text: impl std::fmt::Display) -> String {
        paint(self.color_stderr, style, text)
    }

    /// Writes `text` to stdout. A closed pipe surfaces as a quiet `CliError`.
    pub fn print(&self, text: impl AsRef<str>) -> Result<(), CliError> {
        let mut out = io::stdout().lock();
        out.write_all(text.as_ref().as_bytes())?;
        out.flush()?;
        Ok(())
    }

    /// Writes `text` and a newline to stdout.
    pub fn println(&self, text: impl AsRef<str>) -> Result<(), CliError> {
        let mut out = io::stdout().lock();
        out.write_all(text.as_ref().as_bytes())?;
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(())
    }

    /// Pretty-printed JSON and a newline on stdout.
    pub fn print_json(&self, value: &impl serde::Serialize) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::context("cannot encode output as JSON", &e))?;
        self.println(text)
    }

    /// A warning on stderr (suppressed by `-q`).
    pub fn warn(&self, text: impl std::fmt::Display) {
        if self.verbosity >= 0 {
            let label = self.paint_err(styles::WARN, "warning:");
            let _ = writeln!(io::stderr().lock(), "{label} {text}");
        }
    }

    /// A progress or status line on stderr (suppressed by `-q`), keeping stdout for data.
    pub fn note(&self, text: impl std::fmt::Display) {
        if self.verbosity >= 0 {
            let _ = writeln!(io::stderr().lock(), "{text}");
        }
    }

    /// Renders `error` on stderr: `error:`, then `caused by:` for each cause, then hints.
    pub fn report(&self, error: &CliError) {
        if error.kind() == ErrorKind::BrokenPipe {
            return;
        }
        let mut text = format!(
            "{} {}\n",
            self.paint_err(styles::ERROR, "error:"),
            error.message()
        );
        for cause in error.causes() {
            for (i, line) in cause.lines().enumerate() {
                let label = if i == 0 { "caused by:" } else { "          " };
                let _ = writeln!(text, "  {} {line}", self.paint_err(styles::DIM, label));
            }
        }
        for hint in error.hints() {
            let _ = writeln!(text, "  {} {hint}", self.paint_err(styles::HINT, "hint:"));
        }
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }
}

fn paint(enabled: bool, style: Style, text: impl std::fmt::Display) -> String {
    if enabled {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

//! The CLI's one error type: what failed, why (the cause chain) and what to do next (hints),
//! plus the exit code it maps to. Library errors are turned into it here, in one place, so the
//! wording and hints stay consistent across commands.

use std::error::Error as StdError;
use std::fmt;
use std::process::ExitCode;

use meta_workspace::{ConfigError, DiscoverError};

/// How an error ends the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The command ran and failed: exit 1.
    Failure,
    /// The command line was wrong: exit 2.
    Usage,
    /// The reader of our output went away (`meta events tail | head`): exit quietly.
    BrokenPipe,
}

#[derive(Debug)]
pub struct CliError {
    kind: ErrorKind,
    message: String,
    causes: Vec<String>,
    hints: Vec<String>,
}

pub type CliResult<T = ExitCode> = Result<T, CliError>;

impl CliError {
    /// A failure (exit 1) with a message saying what failed.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Failure,
            message: message.into(),
            causes: Vec::new(),
            hints: Vec::new(),
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Usage,
            ..Self::new(message)
        }
    }

    /// A failure whose message is `error`'s and whose causes are its source chain.
    pub fn from_error(error: &(dyn StdError + 'static)) -> Self {
        let mut this = Self::new(describe(error));
        let mut source = error.source();
        while let Some(cause) = source {
            this.causes.push(describe(cause));
            source = cause.source();
        }
        this
    }

    /// Wraps `error` under a message that says what was being done.
    pub fn context(message: impl Into<String>, error: &(dyn StdError + 'static)) -> Self {
        let inner = Self::from_error(error);
        let mut this = Self::new(message);
        this.causes.push(inner.message);
        this.causes.extend(inner.causes);
        this
    }

    #[must_use]
    pub fn with_cause(mut self, cause: impl Into<String>) -> Self {
        self.causes.push(cause.into());
        self
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn causes(&self) -> &[String] {
        &self.causes
    }

    pub fn hints(&self) -> &[String] {
        &self.hints
    }

    pub fn exit_code(&self) -> ExitCode {
        match self.kind {
            ErrorKind::Failure => ExitCode::FAILURE,
            ErrorKind::Usage => ExitCode::from(2),
            ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        }
    }
}

/// An I/O error's message without the `(os error 2)` suffix, for messages built by hand.
pub fn describe_io(error: &std::io::Error) -> String {
    describe(error)
}

/// Any error and its causes, `: `-joined (as status records and health findings say it).
pub fn describe_error(error: &(dyn StdError + 'static)) -> String {
    meta_repo::describe_chain(error)
}

/// An error's message without the `(os error 2)` suffix std adds to I/O errors: the words
/// before it already say what happened.
fn describe(error: &(dyn StdError + 'static)) -> String {
    let text = error.to_string();
    if let Some(start) = text.rfind(" (os error ")
        && text.ends_with(')')
    {
        return text[..start].to_owned();
    }
    text
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            return Self {
                kind: ErrorKind::BrokenPipe,
                ..Self::new("broken pipe")
            };
        }
        Self::context("cannot write output", &error)
    }
}

impl From<clap::Error> for CliError {
    fn from(error: clap::Error) -> Self {
        Self::usage(error.to_string().trim_start_matches("error: ").trim_end())
    }
}

impl From<DiscoverError> for CliError {
    fn from(error: DiscoverError) -> Self {
        match error {
            DiscoverError::Config(error) => error.into(),
            DiscoverError::NotFound { .. } => Self::from_error(&error).with_hint(
                "run `meta init DIR` to create a meta-repo, or pass `-C DIR` to point at one",
            ),
            DiscoverError::Io { .. } => Self::from_error(&error),
        }
    }
}

impl From<ConfigError> for CliError {
    fn from(error: ConfigError) -> Self {
        let hint = match &error {
            ConfigError::Invalid { .. } => {
                "fix the file and run the command again; the keys `meta` knows are listed in the README"
            }
            ConfigError::Read { .. } | ConfigError::Write { .. } => {
                "check that the file exists and that you may read and write it"
            }
        };
        Self::context("the meta-repo config is not usable", &error).with_hint(hint)
    }
}

//! `meta-plugin.toml`: the plugin manifest (DESIGN.md section 4), parsed and validated.
//!
//! The TOML document is walked by hand rather than through serde so that every error can name
//! the field (`command[1].exec`), the rule it breaks, and the line and column it sits at.

use std::ops::Range;
use std::path::{Path, PathBuf};

use meta_workspace::toml_text;
use toml_edit::{Item, TableLike, Value};

use crate::rules::{
    EVENT_PREFIX_RULE, NAME_RULE, SEMVER_RULE, is_core_prefix, is_valid_event_prefix,
    is_valid_name, is_valid_semver,
};

/// File name of a plugin's manifest, at the top of the plugin folder.
pub const MANIFEST_FILE: &str = "meta-plugin.toml";

/// The plugin protocol version this host speaks (`api` in the manifest, `META_API` for plugin
/// processes).
pub const API_VERSION: i64 = 1;

/// Every `api` value this host accepts.
pub const SUPPORTED_API_VERSIONS: &[i64] = &[1];

/// A validated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub api: i64,
    pub name: String,
    pub version: String,
    pub description: String,
    /// `[[command]]`: each becomes `meta <name> …`.
    pub commands: Vec<CommandSpec>,
    /// `[service]`: a long-running process the daemon supervises.
    pub service: Option<ServiceSpec>,
    /// `[events].publish`: event-type prefixes the plugin emits.
    pub publish: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    pub name: String,
    /// One line for `meta --help`; empty when the manifest gives none.
    pub about: String,
    /// Argument-vector prefix; the user's arguments are appended.
    pub exec: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    pub exec: Vec<String>,
    /// Event-type prefixes the service listens to (shown in status); `""` means everything.
    pub subscribe: Vec<String>,
    pub restart: RestartPolicy,
}

/// When the daemon restarts a service that exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartPolicy {
    /// Whatever the exit status.
    Always,
    /// Only after a non-zero exit or a signal.
    #[default]
    OnFailure,
    /// Never: an exited service stays stopped.
    Never,
}

impl RestartPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "never",
        }
    }
}

/// Why a manifest could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {}{rule}", path.display(), field_prefix(field.as_deref(), rule))]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        /// The offending field as a path (`plugin.name`, `command[1].exec`); `None` for TOML
        /// syntax errors.
        field: Option<String>,
        /// The rule broken, in words.
        rule: String,
    },
}

/// `field `x` ` before a rule that reads on from it ("is required"), `field `x`: ` before one
/// that stands alone ("`Bad` is not a valid name").
fn field_prefix(field: Option<&str>, rule: &str) -> String {
    match field {
        None => String::new(),
        Some(field) if rule.starts_with('`') => format!("field `{field}`: "),
        Some(field) => format!("field `{field}` "),
    }
}

impl ManifestError {
    /// The offending field, if the error is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ManifestError::Invalid { field, .. } => field.as_deref(),
            ManifestError::Read { .. } => None,
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            ManifestError::Read { path, .. } | ManifestError::Invalid { path, .. } => path,
        }
    }
}

impl Manifest {
    /// Reads and validates `<dir>/meta-plugin.toml`.
    pub fn load(dir: &Path) -> Result<Self, ManifestError> {
        let path = dir.join(MANIFEST_FILE);
        let text = fs_err::read_to_string(&path).map_err(|source| ManifestError::Read {
            path: path.clone(),
            source,
        })?;
        Self::parse(&text, &path)
    }

    /// Parses and validates manifest text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ManifestError> {
        let parser = Parser { text, path };
        let doc =
            toml_text::guarded(|| toml_edit::Document::parse(text)).map_err(|err| match err {
                Some(err) => parser.fail(
                    err.span(),
                    None,
                    format!("not valid TOML: {}", err.message().trim()),
                ),
                None => parser.fail(None, None, toml_text::PARSER_FAILED),
            })?;
        parser.manifest(doc.as_table())
    }

    /// The commands' names, in manifest order.
    pub fn command_names(&self) -> impl Iterator<Item = &str> {
        self.commands.iter().map(|c| c.name.as_str())
    }
}

/// A string from the document and where it sits.
type Spanned<'t> = (&'t str, Option<Range<usize>>);

struct Parser<'a> {
    text: &'a str,
    path: &'a Path,
}

/// A table as found in the document, with what is needed to point at it.
struct Found<'t> {
    table: &'t dyn TableLike,
    /// The dotted path of the table (`plugin`, `command[1]`), empty for the root.
    field: String,
    /// Where to point when a key inside it is missing.
    span: Option<Range<usize>>,
}

impl Parser<'_> {
    fn fail(
        &self,
        span: Option<Range<usize>>,
        field: Option<&str>,
        rule: impl Into<String>,
    ) -> ManifestError {
        let (line, column) = line_column(self.text, span.map_or(0, |s| s.start));
        ManifestError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            field: field.map(str::to_owned),
            rule: rule.into(),
        }
    }

    fn manifest(&self, root: &toml_edit::Table) -> Result<Manifest, ManifestError> {
        let root = Found {
            table: root,
            field: String::new(),
            span: Some(0..0),
        };
        self.known_keys(
            &root,
            &["api", "plugin", "command", "service", "events"],
            "a manifest holds `api`, `[plugin]`, `[[command]]`, `[service]` and `[events]`",
        )?;

        let api = match root.table.get("api") {
            None => {
                return Err(self.fail(
                    Some(0..0),
                    Some("api"),
                    format!(
                        "is required: the plugin API version the manifest speaks (this meta speaks {})",
                        supported_list()
                    ),
                ));
            }
            Some(item) => {
                let Some(api) = item.as_integer() else {
                    return Err(self.fail(
                        item.span(),
                        Some("api"),
                        format!("must be an integer, not {}", describe(item)),
                    ));
                };
                if !SUPPORTED_API_VERSIONS.contains(&api) {
                    let advice = if api > API_VERSION {
                        "upgrade meta, or use a release of the plugin made for an older API"
                    } else {
                        "update the plugin to a supported API"
                    };
                    return Err(self.fail(
                        item.span(),
                        Some("api"),
                        format!(
                            "asks for plugin API {api}, but this meta speaks {} ({advice})",
                            supported_list()
                        ),
                    ));
                }
                api
            }
        };

        let plugin = self.table(&root, "plugin")?.ok_or_else(|| {
            self.fail(
                Some(0..0),
                Some("plugin"),
                "is required: a `[plugin]` table with `name` and `version`",
            )
        })?;
        self.known_keys(
            &plugin,
            &["name", "version", "description"],
            "`[plugin]` holds `name`, `version` and `description`",
        )?;
        let (name, name_span) = self.required_string(&plugin, "name")?;
        if !is_valid_name(name) {
            return Err(self.fail(
                name_span,
                Some("plugin.name"),
                format!("`{name}` is not a valid plugin name: {NAME_RULE}"),
            ));
        }
        let (version, version_span) = self.required_string(&plugin, "version")?;
        if !is_valid_semver(version) {
            return Err(self.fail(
                version_span,
                Some("plugin.version"),
                format!("`{version}` is not {SEMVER_RULE}"),
            ));
        }
        let description = self
            .optional_line(&plugin, "description")?
            .unwrap_or_default();

        let mut commands: Vec<CommandSpec> = Vec::new();
        for command in self.array_of_tables(&root, "command")? {
            self.known_keys(
                &command,
                &["name", "about", "exec"],
                "a `[[command]]` holds `name`, `about` and `exec`",
            )?;
            let (name, span) = self.required_string(&command, "name")?;
            let field = format!("{}.name", command.field);
            if !is_valid_name(name) {
                return Err(self.fail(
                    span,
                    Some(&field),
                    format!("`{name}` is not a valid command name: {NAME_RULE}"),
                ));
            }
            if let Some(index) = commands.iter().position(|c| c.name == name) {
                return Err(self.fail(
                    span,
                    Some(&field),
                    format!("`{name}` is already the name of command[{index}]; command names must be unique"),
                ));
            }
            let about = self.optional_line(&command, "about")?.unwrap_or_default();
            let exec = self.exec(&command)?;
            commands.push(CommandSpec {
                name: name.to_owned(),
                about,
                exec,
            });
        }

        let service = match self.table(&root, "service")? {
            None => None,
            Some(service) => {
                self.known_keys(
                    &service,
                    &["exec", "subscribe", "restart"],
                    "`[service]` holds `exec`, `subscribe` and `restart`",
                )?;
                let exec = self.exec(&service)?;
                let subscribe = self.prefixes(&service, "subscribe", true)?;
                let restart = match self.optional_string(&service, "restart")? {
                    None => RestartPolicy::default(),
                    Some(("always", _)) => RestartPolicy::Always,
                    Some(("on-failure", _)) => RestartPolicy::OnFailure,
                    Some(("never", _)) => RestartPolicy::Never,
                    Some((other, span)) => {
                        return Err(self.fail(
                            span,
                            Some("service.restart"),
                            format!(
                                "`{other}` is not a restart policy: use `always`, `on-failure` or `never`"
                            ),
                        ));
                    }
                };
                Some(ServiceSpec {
                    exec,
                    subscribe,
                    restart,
                })
            }
        };

        let publish = match self.table(&root, "events")? {
            None => Vec::new(),
            Some(events) => {
                self.known_keys(&events, &["publish"], "`[events]` holds `publish`")?;
                self.prefixes(&events, "publish", false)?
            }
        };

        if commands.is_empty() && service.is_none() {
            return Err(self.fail(
                Some(0..0),
                Some("command"),
                "a plugin must offer at least one `[[command]]` or a `[service]`",
            ));
        }

        Ok(Manifest {
            api,
            name: name.to_owned(),
            version: version.to_owned(),
            description,
            commands,
            service,
            publish,
        })
    }

    fn known_keys(
        &self,
        found: &Found<'_>,
        known: &[&str],
        rule: &str,
    ) -> Result<(), ManifestError> {
        for (key, item) in found.table.iter() {
            if !known.contains(&key) {
                let span = found
                    .table
                    .key(key)
                    .and_then(toml_edit::Key::span)
                    .or_else(|| item.span());
                return Err(self.fail(
                    span,
                    Some(&join(&found.field, key)),
                    format!("is not a known key: {rule}"),
                ));
            }
        }
        Ok(())
    }

    fn key_span(found: &Found<'_>, key: &str) -> Option<Range<usize>> {
        found
            .table
            .key(key)
            .and_then(toml_edit::Key::span)
            .or_else(|| found.table.get(key).and_then(Item::span))
    }

    /// A sub-table (`[plugin]` or `plugin = { … }`), if present.
    fn table<'t>(&self, parent: &Found<'t>, key: &str) -> Result<Option<Found<'t>>, ManifestError> {
        let Some(item) = parent.table.get(key) else {
            return Ok(None);
        };
        let field = join(&parent.field, key);
        let Some(table) = item.as_table_like() else {
            return Err(self.fail(
                item.span(),
                Some(&field),
                format!("must be a table (`[{field}]`), not {}", describe(item)),
            ));
        };
        let span = item.span().or_else(|| Self::key_span(parent, key));
        Ok(Some(Found { table, field, span }))
    }

    /// `[[command]]` tables (or an inline array of inline tables), in order.
    fn array_of_tables<'t>(
        &self,
        parent: &Found<'t>,
        key: &str,
    ) -> Result<Vec<Found<'t>>, ManifestError> {
        let Some(item) = parent.table.get(key) else {
            return Ok(Vec::new());
        };
        let field = join(&parent.field, key);
        let wrong = |span| {
            self.fail(
                span,
                Some(&field),
                format!(
                    "must be an array of tables (`[[{field}]]`), not {}",
                    describe(item)
                ),
            )
        };
        if let Some(tables) = item.as_array_of_tables() {
            return Ok(tables
                .iter()
                .enumerate()
                .map(|(i, table)| Found {
                    table: table as &dyn TableLike,
                    field: format!("{field}[{i}]"),
                    span: table.span(),
                })
                .collect());
        }
        let Some(array) = item.as_array() else {
            return Err(wrong(item.span()));
        };
        array
            .iter()
            .enumerate()
            .map(|(i, value)| match value.as_inline_table() {
                Some(table) => Ok(Found {
                    table: table as &dyn TableLike,
                    field: format!("{field}[{i}]"),
                    span: value.span(),
                }),
                None => Err(wrong(value.span())),
            })
            .collect()
    }

    fn optional_string<'t>(
        &self,
        found: &Found<'t>,
        key: &str,
    ) -> Result<Option<Spanned<'t>>, ManifestError> {
        let Some(item) = found.table.get(key) else {
            return Ok(None);
        };
        match item.as_str() {
            Some(text) => Ok(Some((text, item.span()))),
            None => Err(self.fail(
                item.span(),
                Some(&join(&found.field, key)),
                format!("must be a string, not {}", describe(item)),
            )),
        }
    }

    fn required_string<'t>(
        &self,
        found: &Found<'t>,
        key: &str,
    ) -> Result<Spanned<'t>, ManifestError> {
        self.optional_string(found, key)?.ok_or_else(|| {
            self.fail(
                found.span.clone(),
                Some(&join(&found.field, key)),
                "is required",
            )
        })
    }

    /// A string that must fit on one line (it is shown in listings).
    fn optional_line(&self, found: &Found<'_>, key: &str) -> Result<Option<String>, ManifestError> {
        let Some((text, span)) = self.optional_string(found, key)? else {
            return Ok(None);
        };
        if text.contains(['\n', '\r']) {
            return Err(self.fail(
                span,
                Some(&join(&found.field, key)),
                "must fit on one line (it is shown in listings)",
            ));
        }
        Ok(Some(text.trim().to_owned()))
    }

    /// An array of strings, each with its span.
    fn strings<'t>(
        &self,
        found: &Found<'t>,
        key: &str,
    ) -> Result<Option<Vec<Spanned<'t>>>, ManifestError> {
        let Some(item) = found.table.get(key) else {
            return Ok(None);
        };
        let field = join(&found.field, key);
        let Some(array) = item.as_array() else {
            return Err(self.fail(
                item.span(),
                Some(&field),
                format!("must be an array of strings, not {}", describe(item)),
            ));
        };
        array
            .iter()
            .enumerate()
            .map(|(i, value)| match value.as_str() {
                Some(text) => Ok((text, value.span())),
                None => Err(self.fail(
                    value.span(),
                    Some(&format!("{field}[{i}]")),
                    format!("must be a string, not {}", describe_value(value)),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// `exec`: a non-empty argument vector whose program is not empty.
    fn exec(&self, found: &Found<'_>) -> Result<Vec<String>, ManifestError> {
        let field = join(&found.field, "exec");
        let Some(args) = self.strings(found, "exec")? else {
            return Err(self.fail(
                found.span.clone(),
                Some(&field),
                "is required: the program to run and its first arguments, e.g. `exec = [\"./run.sh\"]`",
            ));
        };
        let Some((program, program_span)) = args.first() else {
            let span = found.table.get("exec").and_then(Item::span);
            return Err(self.fail(
                span,
                Some(&field),
                "must not be empty: name the program to run, e.g. `exec = [\"./run.sh\"]`",
            ));
        };
        if program.trim().is_empty() {
            return Err(self.fail(
                program_span.clone(),
                Some(&format!("{field}[0]")),
                "must name a program, not be blank",
            ));
        }
        for (i, (arg, span)) in args.iter().enumerate() {
            if arg.contains('\0') {
                return Err(self.fail(
                    span.clone(),
                    Some(&format!("{field}[{i}]")),
                    "must not contain a NUL character",
                ));
            }
        }
        Ok(args.into_iter().map(|(a, _)| a.to_owned()).collect())
    }

    /// `subscribe` / `publish`: event-type prefixes.
    fn prefixes(
        &self,
        found: &Found<'_>,
        key: &str,
        allow_everything: bool,
    ) -> Result<Vec<String>, ManifestError> {
        let field = join(&found.field, key);
        let Some(prefixes) = self.strings(found, key)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(prefixes.len());
        for (i, (prefix, span)) in prefixes.into_iter().enumerate() {
            let at = format!("{field}[{i}]");
            if prefix.is_empty() {
                if allow_everything {
                    out.push(String::new());
                    continue;
                }
                return Err(self.fail(
                    span,
                    Some(&at),
                    "must not be empty: name the namespace the plugin emits, e.g. `hello:`",
                ));
            }
            if !is_valid_event_prefix(prefix) {
                return Err(self.fail(
                    span,
                    Some(&at),
                    format!(
                        "`{prefix}` is not a valid event-type prefix: {EVENT_PREFIX_RULE}; a type is {}",
                        meta_events::event::TYPE_RULE
                    ),
                ));
            }
            if !allow_everything && is_core_prefix(prefix) {
                return Err(self.fail(
                    span,
                    Some(&at),
                    format!("`{prefix}` is in the `core` namespace, which only meta itself emits"),
                ));
            }
            out.push(prefix.to_owned());
        }
        Ok(out)
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

fn supported_list() -> String {
    let list: Vec<String> = SUPPORTED_API_VERSIONS.iter().map(i64::to_string).collect();
    format!("API {}", list.join(", "))
}

/// "a string", "an integer", … for type errors.
fn describe(item: &Item) -> String {
    match item {
        Item::Value(value) => describe_value(value),
        Item::Table(_) => "a table".to_owned(),
        Item::ArrayOfTables(_) => "an array of tables".to_owned(),
        Item::None => "nothing".to_owned(),
    }
}

fn describe_value(value: &Value) -> String {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "a table",
    }
    .to_owned()
}

/// 1-based line and column (in characters) of byte offset `at`.
pub(crate) fn line_column(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `manifest` fuzz target (fuzz/regressions/manifest/): toml_edit panicked on
    /// this text, so a broken plugin folder crashed `meta` instead of being a load problem.
    #[test]
    fn text_the_toml_parser_panics_on_is_an_error() {
        let err = Manifest::parse("=={\n.", Path::new("meta-plugin.toml")).unwrap_err();
        assert!(err.to_string().contains("not valid TOML"), "{err}");
    }

    const GOOD: &str = r#"api = 1

[plugin]
name = "hello"
version = "0.1.0"
description = "Greets people"

[[command]]
name = "hello"
about = "Print a greeting"
exec = ["python3", "hello.py"]

[service]
exec = ["./watch.sh"]
subscribe = ["core:file:"]
restart = "on-failure"

[events]
publish = ["hello:"]
"#;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, Path::new("p/meta-plugin.toml"))
    }

    /// Parses `text`, expecting an error about `field` on `line` whose rule mentions `words`.
    fn rejects(text: &str, field: &str, line: usize, words: &str) {
        let err = parse(text).expect_err(text);
        let shown = err.to_string();
        let ManifestError::Invalid {
            line: got_line,
            field: got_field,
            ..
        } = &err
        else {
            panic!("{shown}")
        };
        assert_eq!(got_field.as_deref(), Some(field), "{shown}");
        assert_eq!(*got_line, line, "{shown}");
        assert!(shown.starts_with("p/meta-plugin.toml:"), "{shown}");
        assert!(shown.contains(&format!("field `{field}`")), "{shown}");
        assert!(shown.contains(words), "{shown}");
    }

    #[test]
    fn design_example_parses() {
        let manifest = parse(GOOD).unwrap();
        assert_eq!(manifest.name, "hello");
        assert_eq!(manifest.version, "0.1.0");
        assert_eq!(manifest.commands[0].exec, ["python3", "hello.py"]);
        let service = manifest.service.unwrap();
        assert_eq!(service.restart, RestartPolicy::OnFailure);
        assert_eq!(service.subscribe, ["core:file:"]);
        assert_eq!(manifest.publish, ["hello:"]);
    }

    #[test]
    fn minimal_command_plugin() {
        let manifest =
            parse("api = 1\nplugin = { name = \"x\", version = \"1.0.0\" }\ncommand = [{ name = \"x\", exec = [\"x\"] }]\n")
                .unwrap();
        assert_eq!(manifest.commands[0].about, "");
        assert!(manifest.service.is_none());
    }

    #[test]
    fn every_field_wrong_in_turn() {
        let swap = |from: &str, to: &str| {
            assert!(GOOD.contains(from), "{from}");
            GOOD.replacen(from, to, 1)
        };
        rejects(&swap("api = 1\n", ""), "api", 1, "is required");
        rejects(
            &swap("api = 1", "api = \"1\""),
            "api",
            1,
            "must be an integer",
        );
        rejects(
            &swap("api = 1", "api = 2"),
            "api",
            1,
            "this meta speaks API 1",
        );
        rejects(
            &swap("api = 1", "api = 0"),
            "api",
            1,
            "this meta speaks API 1",
        );
        rejects(
            &swap("name = \"hello\"", "name = \"Hello\""),
            "plugin.name",
            4,
            "[a-z][a-z0-9-]{0,39}",
        );
        rejects(
            &swap("name = \"hello\"", "name = 3"),
            "plugin.name",
            4,
            "must be a string",
        );
        rejects(
            &swap("name = \"hello\"\n", ""),
            "plugin.name",
            3,
            "is required",
        );
        rejects(
            &swap("version = \"0.1.0\"", "version = \"1.0\""),
            "plugin.version",
            5,
            "semantic version",
        );
        rejects(
            &swap("version = \"0.1.0\"\n", ""),
            "plugin.version",
            3,
            "is required",
        );
        rejects(
            &swap("description = \"Greets people\"", "description = \"a\\nb\""),
            "plugin.description",
            6,
            "one line",
        );
        rejects(
            &swap("description", "summary"),
            "plugin.summary",
            6,
            "not a known key",
        );
        rejects(
            &swap("[plugin]", "[plugins]"),
            "plugins",
            3,
            "not a known key",
        );
        rejects(
            &swap("name = \"hello\"\nabout", "name = \"Hi\"\nabout"),
            "command[0].name",
            9,
            "not a valid command name",
        );
        rejects(
            &swap("about = \"Print a greeting\"", "about = 1"),
            "command[0].about",
            10,
            "must be a string",
        );
        rejects(
            &swap("exec = [\"python3\", \"hello.py\"]", "exec = []"),
            "command[0].exec",
            11,
            "must not be empty",
        );
        rejects(
            &swap("exec = [\"python3\", \"hello.py\"]", "exec = \"python3\""),
            "command[0].exec",
            11,
            "array of strings",
        );
        rejects(
            &swap("exec = [\"python3\", \"hello.py\"]", "exec = [\"\"]"),
            "command[0].exec[0]",
            11,
            "must name a program",
        );
        rejects(
            &swap(
                "exec = [\"python3\", \"hello.py\"]",
                "exec = [\"python3\", 7]",
            ),
            "command[0].exec[1]",
            11,
            "must be a string",
        );
        rejects(
            &swap("exec = [\"python3\", \"hello.py\"]\n", ""),
            "command[0].exec",
            8,
            "is required",
        );
        rejects(
            &swap("about = \"Print a greeting\"", "abut = \"x\""),
            "command[0].abut",
            10,
            "not a known key",
        );
        rejects(
            &swap("[service]\nexec = [\"./watch.sh\"]", "[service]\nexec = []"),
            "service.exec",
            14,
            "must not be empty",
        );
        rejects(
            &swap(
                "subscribe = [\"core:file:\"]",
                "subscribe = [\"Core:File\"]",
            ),
            "service.subscribe[0]",
            15,
            "not a valid event-type prefix",
        );
        rejects(
            &swap("restart = \"on-failure\"", "restart = \"sometimes\""),
            "service.restart",
            16,
            "`always`, `on-failure` or `never`",
        );
        rejects(
            &swap("restart", "restart_policy"),
            "service.restart_policy",
            16,
            "not a known key",
        );
        rejects(
            &swap("publish = [\"hello:\"]", "publish = [\"core:plugin:\"]"),
            "events.publish[0]",
            19,
            "`core` namespace",
        );
        rejects(
            &swap("publish = [\"hello:\"]", "publish = [\"hello world\"]"),
            "events.publish[0]",
            19,
            "not a valid event-type prefix",
        );
        rejects(
            &swap("publish = [\"hello:\"]", "publish = [\"\"]"),
            "events.publish[0]",
            19,
            "must not be empty",
        );
        rejects(
            &swap("[events]", "[events]\nsubscribe = []"),
            "events.subscribe",
            19,
            "not a known key",
        );
    }

    #[test]
    fn tables_of_the_wrong_type() {
        rejects("api = 1\nplugin = 3\n", "plugin", 2, "must be a table");
        rejects(
            "api = 1\nplugin = { name = \"x\", version = \"1.0.0\" }\nservice = [1]\n",
            "service",
            3,
            "must be a table",
        );
        rejects(
            "api = 1\nplugin = { name = \"x\", version = \"1.0.0\" }\ncommand = [1]\n",
            "command",
            3,
            "array of tables",
        );
    }

    #[test]
    fn duplicate_commands_are_rejected() {
        let text = GOOD.replace(
            "[service]",
            "[[command]]\nname = \"hello\"\nexec = [\"x\"]\n\n[service]",
        );
        rejects(
            &text,
            "command[1].name",
            14,
            "already the name of command[0]",
        );
    }

    #[test]
    fn a_plugin_must_offer_something() {
        rejects(
            "api = 1\n[plugin]\nname = \"x\"\nversion = \"1.0.0\"\n",
            "command",
            1,
            "at least one",
        );
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let err = parse("api = 1\n[plugin\n").unwrap_err();
        let ManifestError::Invalid { line, field, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(*line, 2, "{err}");
        assert!(field.is_none());
        assert!(err.to_string().contains("not valid TOML"), "{err}");
    }

    #[test]
    fn column_is_reported() {
        let err = parse(&GOOD.replace("version = \"0.1.0\"", "version = \"x\"")).unwrap_err();
        let ManifestError::Invalid { line, column, .. } = err else {
            panic!()
        };
        assert_eq!((line, column), (5, 11));
    }
}

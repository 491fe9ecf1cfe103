//! `meta new TEMPLATE`: renders a cookiecutter template (a local folder or a git URL) as
//! cookiecutter does. With `--group G [--remote URL]` the result becomes a project of the
//! meta-repo: rendered into `src/<G>/`, made its own repository with a first commit, and added
//! as a submodule (`core:project:added`).

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use meta_template::{
    Answer, ConfigError, NoPrompt, Prompter as _, Question, QuestionKind, RenderOptions, Template,
    TemplateError, UserConfig, render,
};
use meta_workspace::Workspace;

use super::templating::{TerminalPrompter, parse_extra_context};
use crate::cli::Ctx;
use crate::error::{CliError, CliResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The template: a folder holding `cookiecutter.json`, or a git URL (`https://…`, `git@…`,
    /// `gh:owner/repo`).
    #[arg(value_name = "TEMPLATE")]
    template: String,
    /// Template variables to set, as KEY=VALUE.
    #[arg(value_name = "KEY=VALUE")]
    extra_context: Vec<String>,
    /// Where to create the project folder.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    output_dir: PathBuf,
    /// Ask nothing: take every default (and the KEY=VALUE given).
    #[arg(long)]
    no_input: bool,
    /// Render into the project folder even if it exists, overwriting files.
    #[arg(short = 'f', long)]
    overwrite_if_exists: bool,
    /// Leave files that already exist alone.
    #[arg(short = 's', long)]
    skip_if_file_exists: bool,
    /// Run the template's hooks.
    #[arg(long, value_enum, default_value_t = AcceptHooks::Yes, value_name = "yes|no")]
    accept_hooks: AcceptHooks,
    /// The branch, tag or commit to check out (git templates).
    #[arg(long, value_name = "REV")]
    checkout: Option<String>,
    /// Make the result a project of this meta-repo: render it into `src/<G>/`, make it its own
    /// repository with a first commit, and add it as a submodule.
    #[arg(long, value_name = "G", conflicts_with_all = ["output_dir", "overwrite_if_exists", "skip_if_file_exists"])]
    group: Option<String>,
    /// With `--group`: the project's remote (`origin`), recorded as its URL in `.gitmodules`.
    #[arg(long, value_name = "URL", requires = "group")]
    remote: Option<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum AcceptHooks {
    Yes,
    No,
}

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let extra_context = parse_extra_context(&args.extra_context)?;
    // Checked before anything is fetched or rendered.
    let project_target = match &args.group {
        Some(group) => Some(project_target(ctx, group, args.remote.as_deref())?),
        None => None,
    };
    // cookiecutter reads its config first: a broken one stops it before anything else.
    let config = user_config()?;
    let source = TemplateSource::resolve(&args.template, &config)?;
    // Whether this run cloned the template (into cookiecutter's cache).
    let mut cloned = false;
    let dir = match &source {
        // cookiecutter's `repository_candidates`: the folder, else one of that name in its
        // template cache (a template cloned by an earlier run).
        TemplateSource::Local(dir) => {
            let cached = cookiecutters_dir(&config).map(|cache| cache.join(dir));
            match cached {
                Ok(cached)
                    if !dir.join("cookiecutter.json").is_file()
                        && cached.join("cookiecutter.json").is_file() =>
                {
                    cached
                }
                _ => dir.clone(),
            }
        }
        TemplateSource::Git(url) => {
            let (dir, fresh) = clone(ctx, url, args.checkout.as_deref(), args.no_input, &config)?;
            cloned = fresh;
            dir
        }
        TemplateSource::Unsupported(feature) => {
            return Err(CliError::new(format!(
                "`{}` is {feature}, which meta does not support",
                args.template
            ))
            .with_hint("give a local template folder or a git URL"));
        }
    };
    let template = Template::open(dir)?;
    let output_dir = project_target
        .as_ref()
        .map_or_else(|| args.output_dir.clone(), |t| t.group_dir.clone());
    let extensions = template.python_extensions()?;
    if !extensions.is_empty() {
        if cloned {
            // cookiecutter clones the URL itself (so `_template` and `_checkout` are what it
            // would make them); a clone of ours in its cache would make it ask to replace it.
            fs_err::remove_dir_all(template.dir()).map_err(|e| {
                CliError::context(
                    "cannot remove the clone before handing over to cookiecutter",
                    &e,
                )
            })?;
        }
        let project_dir = delegate(ctx, &args, &extensions, &output_dir)?;
        ctx.ui.note(
            "not linked to its template (no `.cruft.json`): cookiecutter rendered it, for the template's Python extensions",
        );
        if let Some(target) = project_target {
            return register(ctx, &target, &project_dir, args.remote.as_deref());
        }
        ctx.ui.println(project_dir.display().to_string())?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut options = RenderOptions::new(&output_dir);
    options.no_input = args.no_input;
    options.default_context.clone_from(&config.default_context);
    options.extra_context = extra_context;
    options.overwrite_if_exists = args.overwrite_if_exists;
    options.skip_if_file_exists = args.skip_if_file_exists;
    options.accept_hooks = args.accept_hooks == AcceptHooks::Yes;
    options.template_name = Some(args.template.clone());
    options.checkout.clone_from(&args.checkout);
    let rendered = if args.no_input {
        render(&template, &options, &mut NoPrompt)
    } else {
        if !std::io::stdin().is_terminal() {
            ctx.ui.note("standard input is not a terminal: reading answers from it (pass --no-input to take every default)");
        }
        render(&template, &options, &mut TerminalPrompter { ui: &ctx.ui })
    };
    let project = match (rendered, &project_target) {
        (Ok(project), _) => project,
        // `-f`, `-s` and `-o` are refused with `--group`: the generic hint would offer them.
        (Err(TemplateError::OutputExists { path }), Some(target)) => {
            return Err(exists_in_group(target, &template, &path));
        }
        (Err(error), _) => return Err(error.into()),
    };
    for warning in &project.warnings {
        ctx.ui.note(warning);
    }
    let link = match &source {
        TemplateSource::Git(url) => {
            super::cruft_link::from_clone(url, template.dir(), args.checkout.as_deref())
        }
        TemplateSource::Local(_) => super::cruft_link::from_folder(template.dir()),
        TemplateSource::Unsupported(_) => Err("the template is not a git repository".to_owned()),
    };
    match link {
        Ok(link) => write_cruft_json(&project.project_dir, &project, &link)?,
        Err(why) => ctx.ui.note(format!(
            "not linked to its template (no `.cruft.json`): {why}"
        )),
    }
    if let Some(target) = project_target {
        return register(ctx, &target, &project.project_dir, args.remote.as_deref());
    }
    ctx.ui.println(project.project_dir.display().to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `.cruft.json` into the new project (atomically: a crash leaves none or all of it).
fn write_cruft_json(
    project_dir: &Path,
    project: &meta_template::RenderedProject,
    link: &meta_template::CruftLink,
) -> Result<(), CliError> {
    let text = meta_template::cruft_json(project, link).map_err(|e| {
        CliError::context("cannot record the template in `.cruft.json`", &e).with_hint(
            "the project is rendered; a context value that JSON cannot hold stops the record",
        )
    })?;
    let path = project_dir.join(".cruft.json");
    let temporary = project_dir.join(".cruft.json.meta-tmp");
    fs_err::write(&temporary, text)
        .and_then(|()| fs_err::rename(&temporary, &path))
        .map_err(|e| CliError::context("cannot write `.cruft.json`", &e))
}

/// Where `meta new --group G` puts a project, checked up front.
struct ProjectTarget {
    workspace: Workspace,
    group: String,
    /// `<root>/src/<group>`, absolute.
    group_dir: PathBuf,
    /// Whether `group_dir` had to be created (then removed again on failure if left empty).
    created_group_dir: bool,
}

fn project_target(
    ctx: &mut Ctx<'_>,
    group: &str,
    remote: Option<&str>,
) -> Result<ProjectTarget, CliError> {
    let workspace = ctx.workspace()?.clone();
    let groups = &workspace.config().metarepo.groups;
    if !groups.iter().any(|g| g == group) {
        return Err(
            CliError::usage(format!("there is no group `{group}` in this meta-repo")).with_hint(
                format!(
                    "the groups are: {} (`[metarepo].groups` in meta/metarepo.toml lists them)",
                    groups.join(", ")
                ),
            ),
        );
    }
    if let Some(url) = remote
        && url.starts_with('-')
    {
        return Err(CliError::usage(format!(
            "the URL `{url}` starts with `-`, so git would read it as an option"
        )));
    }
    let group_dir = workspace.root().join("src").join(group);
    Ok(ProjectTarget {
        created_group_dir: !group_dir.exists(),
        group: group.to_owned(),
        group_dir,
        workspace,
    })
}

/// `meta new --group` meeting a folder already in the group: says which (a project or not) and
/// how to pick another name, rather than the `-f`/`-o` that `--group` refuses.
fn exists_in_group(target: &ProjectTarget, template: &Template, path: &Path) -> CliError {
    let root = target.workspace.root();
    let relative = path.strip_prefix(root).unwrap_or(path);
    let shown = relative.to_string_lossy().replace('\\', "/");
    let is_project = meta_workflow::find_project(root, &shown)
        .ok()
        .flatten()
        .is_some();
    let mut error = CliError::new(if is_project {
        format!("`{shown}` is already a project of this meta-repo")
    } else {
        format!("`{shown}` already exists")
    });
    error = error.with_hint(match folder_variable(template.dir()) {
        Some(variable) => format!(
            "the template names the folder after `{variable}`: pass `{variable}=OTHER` to name it otherwise"
        ),
        None => "give the template variable that names the folder another value (KEY=VALUE)"
            .to_owned(),
    });
    error.with_hint(if is_project {
        format!("or remove that project first: `meta project remove {shown}`")
    } else {
        format!("or move `{shown}` out of the way first")
    })
}

/// The first `cookiecutter.NAME` in the name of the template's templated folder (as in
/// `{{cookiecutter.project_slug}}`), which names the rendered folder.
fn folder_variable(template_dir: &Path) -> Option<String> {
    std::fs::read_dir(template_dir)
        .ok()?
        .filter_map(Result::ok)
        .find_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let (_, rest) = name.split_once("cookiecutter.")?;
            let variable: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!variable.is_empty() && entry.path().is_dir()).then_some(variable)
        })
}

/// The rendered folder becomes a project: its own repository, a submodule, an event. On failure
/// nothing of it is left.
fn register(
    ctx: &Ctx<'_>,
    target: &ProjectTarget,
    project_dir: &Path,
    remote: Option<&str>,
) -> CliResult {
    let root = target.workspace.root();
    let remove_rendered = || {
        let _ = fs_err::remove_dir_all(project_dir);
        if target.created_group_dir {
            let _ = std::fs::remove_dir(&target.group_dir);
        }
    };
    let name = match project_dir.file_name() {
        Some(name) if project_dir.parent() == Some(target.group_dir.as_path()) => {
            name.to_string_lossy().into_owned()
        }
        _ => {
            remove_rendered();
            return Err(CliError::new(format!(
                "the template rendered `{}`, not a folder in `{}`",
                project_dir.display(),
                target.group_dir.display()
            )));
        }
    };
    let added = match meta_workflow::adopt_new_project(root, &target.group, &name, remote) {
        Ok(added) => added,
        Err(error) => {
            remove_rendered();
            return Err(CliError::from(error).with_hint("nothing was left behind"));
        }
    };
    crate::project_events::emit(
        &ctx.ui,
        &target.workspace,
        crate::project_events::ProjectEvent::Added,
        &added.path,
        &added.name,
        Some(&added.group),
        Some(&added.url),
    );
    ctx.ui.println(project_dir.display().to_string())?;
    ctx.ui.note(format!(
        "added project `{}` with its first commit; `.gitmodules` and `{}` are staged for your next commit",
        added.path, added.path
    ));
    if remote.is_none() {
        ctx.ui.warn(format!(
            "`{}` has no remote yet, so nobody else can check it out: push it somewhere, then `git -C {} remote add origin URL` and `git submodule set-url -- {} URL`",
            added.path, added.path, added.path
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a template comes from, by cookiecutter's rules for telling URLs from folders.
enum TemplateSource {
    Local(PathBuf),
    Git(String),
    Unsupported(&'static str),
}

impl TemplateSource {
    fn resolve(template: &str, config: &UserConfig) -> Result<Self, CliError> {
        if template.starts_with('-') {
            return Err(CliError::usage(format!("`{template}` is not a template")).with_hint(
                "a template is a folder or a URL; a name starting with `-` would read as an option",
            ));
        }
        let expanded = config
            .expand_abbreviations(template)
            .map_err(|e| config_error(&e))?;
        if expanded.to_lowercase().ends_with(".zip") {
            return Ok(Self::Unsupported("a zip archive"));
        }
        if expanded.starts_with("hg+") {
            return Ok(Self::Unsupported("a Mercurial repository"));
        }
        if is_repo_url(&expanded) {
            return Ok(Self::Git(expanded.trim_start_matches("git+").to_owned()));
        }
        Ok(Self::Local(PathBuf::from(expanded)))
    }
}

/// cookiecutter's `REPO_REGEX`: `git+`/`hg+` schemes, `git:`, `ssh:`, `file:`, `http(s):`, or
/// `user@host`.
fn is_repo_url(value: &str) -> bool {
    let rest = value
        .strip_prefix("git+")
        .or_else(|| value.strip_prefix("hg+"))
        .unwrap_or(value);
    if ["git:", "ssh:", "file:", "http:", "https:"]
        .iter()
        .any(|scheme| rest.starts_with(scheme))
    {
        return true;
    }
    // `\w+@[\w.]+` at the start.
    let user_len = value
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .count();
    user_len > 0
        && value[user_len..].starts_with('@')
        && value[user_len + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
}

/// Clones `url` where cookiecutter would (`vcs.clone`): into its template cache,
/// `<cookiecutters_dir>/<repo name>`, so `_repo_dir` and what templates derive from it match.
/// Returns the folder and whether this run cloned it (false: the user re-uses an old one).
/// A clone from an earlier run is deleted and made again (with `--no-input`; otherwise the
/// user is asked, as cookiecutter asks). User data never reaches git as an option.
fn clone(
    ctx: &Ctx<'_>,
    url: &str,
    checkout: Option<&str>,
    no_input: bool,
    config: &UserConfig,
) -> Result<(PathBuf, bool), CliError> {
    if url.starts_with('-') {
        return Err(CliError::usage(format!("`{url}` is not a repository URL")));
    }
    if let Some(rev) = checkout
        && rev.starts_with('-')
    {
        return Err(CliError::usage(format!("`{rev}` is not a revision"))
            .with_hint("a revision is a branch, tag or commit; it cannot start with `-`"));
    }
    let cache = cookiecutters_dir(config)?;
    fs_err::create_dir_all(&cache)
        .map_err(|e| CliError::context("cannot create cookiecutter's template cache", &e))?;
    // `os.path.split(url.rstrip('/'))[1].split(':')[-1].rsplit('.git')[0]`
    let last = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let name = last
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .split(".git")
        .next()
        .unwrap_or_default();
    if name.is_empty() || name == "." || name == ".." {
        return Err(CliError::usage(format!(
            "cannot tell the repository's name from `{url}`"
        )));
    }
    let dir = cache.join(name);
    if dir.exists() {
        let delete = no_input
            || ask_yes_no(
                ctx,
                &format!(
                    "You've downloaded {} before. Is it okay to delete and re-download it?",
                    dir.display()
                ),
            )?;
        if !delete {
            if ask_yes_no(ctx, "Do you want to re-use the existing version?")? {
                return Ok((dir, false));
            }
            return Err(CliError::new(format!(
                "kept `{}` and did not re-use it, so there is nothing to render",
                dir.display()
            )));
        }
        let removed = if dir.is_dir() {
            fs_err::remove_dir_all(&dir)
        } else {
            fs_err::remove_file(&dir)
        };
        removed.map_err(|e| CliError::context("cannot remove the earlier download", &e))?;
    }
    git(
        Command::new("git")
            .arg("clone")
            .arg("--quiet")
            .arg("--")
            .arg(url)
            .arg(&dir),
        url,
    )?;
    if let Some(rev) = checkout {
        git(
            Command::new("git")
                .arg("-C")
                .arg(&dir)
                .arg("checkout")
                .arg("--quiet")
                .arg(rev)
                .arg("--"),
            url,
        )?;
    }
    Ok((dir, true))
}

/// cookiecutter's `read_user_yes_no` with `yes` as the default, on the terminal.
fn ask_yes_no(ctx: &Ctx<'_>, question: &str) -> Result<bool, CliError> {
    let question = Question {
        key: "cookiecutters_dir".into(),
        label: question.to_owned(),
        index: 0,
        total: 0,
        kind: QuestionKind::YesNo { default: true },
    };
    match (TerminalPrompter { ui: &ctx.ui }).ask(&question) {
        Ok(Answer::YesNo(yes)) => Ok(yes),
        Ok(_) => Ok(true),
        Err(e) => Err(CliError::context("no answer", &e)
            .with_hint("pass `--no-input` to delete the earlier download and clone again")),
    }
}

/// cookiecutter's user config (`get_user_config`): the file `COOKIECUTTER_CONFIG` names
/// (which must exist), else `~/.cookiecutterrc` when there is one, else its defaults.
fn user_config() -> Result<UserConfig, CliError> {
    let path = match std::env::var_os("COOKIECUTTER_CONFIG") {
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".cookiecutterrc"))
            .filter(|p| p.is_file()),
    };
    let Some(path) = path else {
        return Ok(UserConfig::default());
    };
    let text = fs_err::read_to_string(&path).map_err(|e| {
        CliError::context("cannot read cookiecutter's config file", &e)
            .with_hint("`COOKIECUTTER_CONFIG` names it; unset it to use `~/.cookiecutterrc`")
    })?;
    UserConfig::parse(&text).map_err(|e| {
        CliError::new(format!(
            "cannot read cookiecutter's config file `{}`: {e}",
            path.display()
        ))
        .with_hint(
            "meta reads mappings, lists, quoted and plain values and comments; write that place \
             in those terms (quote the value) and cookiecutter reads it the same",
        )
    })
}

fn config_error(error: &ConfigError) -> CliError {
    CliError::new(format!("cookiecutter's config file: {error}"))
}

/// Where cookiecutter keeps cloned templates: the config's `cookiecutters_dir` with
/// `$VARS` then `~` expanded (cookiecutter's `_expand_path`), by default `~/.cookiecutters`.
fn cookiecutters_dir(config: &UserConfig) -> Result<PathBuf, CliError> {
    let home = std::env::var_os("HOME").map(PathBuf::from).ok_or_else(|| {
        CliError::new(
            "HOME is not set, so cookiecutter's template cache (`~/.cookiecutters`) has no place",
        )
    })?;
    Ok(expand_user(&expand_vars(&config.cookiecutters_dir), &home))
}

/// `os.path.expanduser` for `~` and `~/…`.
fn expand_user(value: &str, home: &Path) -> PathBuf {
    match value.strip_prefix('~') {
        Some("") => home.to_path_buf(),
        Some(rest) if rest.starts_with('/') => home.join(rest.trim_start_matches('/')),
        _ => PathBuf::from(value),
    }
}

/// `os.path.expandvars`: `$NAME` and `${NAME}` of set variables; others stay as written.
fn expand_vars(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        match std::env::var(name) {
            Ok(found) if !name.is_empty() => out.push_str(&found),
            _ => out.push_str(&rest[at..at + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// Hands the render to Python's `cookiecutter`: the template's `_extensions` name Python code
/// meta cannot run, and rendering it without them would differ. Returns the project folder
/// cookiecutter reports in its debug log.
fn delegate(
    ctx: &Ctx<'_>,
    args: &Args,
    extensions: &[String],
    output_dir: &Path,
) -> Result<PathBuf, CliError> {
    let names = extensions
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let Some(cookiecutter) = find_on_path("cookiecutter") else {
        return Err(CliError::new(format!(
            "this template's `_extensions` names Python code that meta cannot run: {names}"
        ))
        .with_hint(
            "install cookiecutter (e.g. `pipx install cookiecutter`) and run this again: meta hands such templates to it",
        ));
    };
    ctx.ui.note(format!(
        "the template's `_extensions` names Python code ({names}): handing the render to `{}`",
        cookiecutter.display()
    ));
    let output_dir = std::path::absolute(output_dir)
        .map_err(|e| CliError::context("cannot resolve the output folder", &e))?;
    let log = tempfile::Builder::new()
        .prefix("meta-cookiecutter-")
        .suffix(".log")
        .tempfile()
        .map_err(|e| {
            CliError::context("cannot create a temporary file for cookiecutter's log", &e)
        })?;
    let mut command = Command::new(&cookiecutter);
    if args.no_input {
        command.arg("--no-input");
    }
    if args.overwrite_if_exists {
        command.arg("--overwrite-if-exists");
    }
    if args.skip_if_file_exists {
        command.arg("--skip-if-file-exists");
    }
    if let Some(rev) = &args.checkout {
        command.arg("--checkout").arg(rev);
    }
    command
        .arg("--accept-hooks")
        .arg(if args.accept_hooks == AcceptHooks::Yes {
            "yes"
        } else {
            "no"
        })
        .arg("--output-dir")
        .arg(&output_dir)
        .arg("--debug-file")
        .arg(log.path())
        .arg("--")
        // The template as the user named it, as cookiecutter would have been given it.
        .arg(&args.template)
        .args(&args.extra_context)
        // Our stdout carries only the project folder; cookiecutter's prompts go to stderr.
        .stdout(std::io::stderr());
    let status = command
        .status()
        .map_err(|e| CliError::context(format!("cannot run `{}`", cookiecutter.display()), &e))?;
    if !status.success() {
        return Err(CliError::new(format!(
            "cookiecutter could not render the template ({status})"
        ))
        .with_hint("cookiecutter's own output above says why"));
    }
    let text = fs_err::read_to_string(log.path())
        .map_err(|e| CliError::context("cannot read cookiecutter's log", &e))?;
    text.lines()
        .rev()
        .find_map(|line| {
            line.split_once("Project directory is ")
                .map(|(_, p)| PathBuf::from(p.trim()))
        })
        .ok_or_else(|| {
            CliError::new("cookiecutter finished without saying which folder it created")
        })
}

/// The first executable file called `name` in a folder of PATH.
fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            fs_err::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn git(command: &mut Command, url: &str) -> Result<(), CliError> {
    let output = command.output().map_err(|e| {
        CliError::context("cannot run `git`", &e)
            .with_hint("install git and make sure it is on PATH")
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    let mut error = CliError::new(format!("cannot fetch the template from `{url}`"));
    if !stderr.is_empty() {
        error = error.with_cause(stderr);
    }
    Err(error.with_hint("check the URL and the revision, and that you may read the repository"))
}

//! `meta diff [PATTERN…] [--group G] [--cached] [--stat|--name-only] [A..B]`: the diff of the
//! superproject and every selected project as one patch of the root (paths prefixed by each
//! project's path). What to diff is `meta_change::plan_diff`; this module streams the result,
//! pages it on a terminal the way git does, and renders `--stat`.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;
use std::process::{Child, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGINT, SIGQUIT};
use signal_hook::flag;

use meta_change::{DiffError, DiffFormat, DiffOutput, DiffPlan, DiffRequest, FileChange, Part};
use meta_repo::{Project, Selection};

use crate::cli::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::SelectArgs;
use crate::ui::styles;

#[derive(clap::Args, Debug)]
#[command(after_long_help = HELP)]
pub struct Args {
    /// Only projects in this group (a folder under `src/`); repeat for several.
    #[arg(long, value_name = "G")]
    group: Vec<String>,
    /// The index (staged changes) instead of the work tree.
    #[arg(long, visible_alias = "staged")]
    cached: bool,
    /// Changed files with counts of added and removed lines, for all repositories together.
    #[arg(long, conflicts_with = "name_only")]
    stat: bool,
    /// Only the names of changed files (root-relative).
    #[arg(long)]
    name_only: bool,
    /// Exit with 1 when there are differences, 0 when there are none.
    #[arg(long)]
    exit_code: bool,
    /// Do not page the output, even on a terminal.
    #[arg(long)]
    no_pager: bool,
    /// Repositories read at once (default: one per CPU).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Projects whose path or name matches one of these globs (`src/libraries/*`, `api-*`),
    /// and at most one superproject range (`A..B`, `A..`, `A...B`, `C^!`).
    #[arg(value_name = "PATTERN|RANGE")]
    targets: Vec<String>,
}

const HELP: &str = "\
Every path is prefixed by its project's path (a/src/libraries/api/lib.rs), so the output
is one patch of the root: `git apply` there understands it.

Without a range: the superproject's own changes, then each initialised project's, in
project order (work tree against index; --cached: index against HEAD). A project whose
checkout is off its pin shows in the superproject's part as git shows it (Subproject commit).

With a range of the superproject (A..B; A.. means A..HEAD; A...B starts at their merge
base; C^! is commit C's own change): the superproject's own diff over the range, then each
pin that moved expanded into that project's diff from the old pin to the new one. Projects
added or removed say so in a line. A pin whose commits are not in the project's clone is reported (with the fix: `git -C
PATH fetch origin`, or `meta sync PATH` when not cloned), the others are still shown, and
the exit code is 1.

With PATTERN or --group, only those projects are shown (the superproject's own files are
left out). --stat and --name-only give the combined view with root-relative paths.

Colour and paging follow git: colour when stdout is a terminal (--color changes that);
on a terminal the output goes through GIT_PAGER, core.pager, PAGER or `less` (with LESS=FRX
unless LESS is set); `cat` or an empty pager means none.";

pub fn run(ctx: &mut Ctx<'_>, args: Args) -> CliResult {
    let workspace = ctx.workspace()?.clone();
    let root = workspace.root();
    let (ranges, patterns): (Vec<String>, Vec<String>) = args
        .targets
        .iter()
        .cloned()
        .partition(|t| t.contains("..") || t.ends_with("^!"));
    if ranges.len() > 1 {
        return Err(CliError::usage(format!(
            "one range at most: `{}` and `{}` were given",
            ranges[0], ranges[1]
        ))
        .with_hint(
            "a range is two superproject commits joined by `..`, like `origin/main..HEAD`",
        ));
    }
    let range = ranges.into_iter().next();
    if range.is_some() && args.cached {
        return Err(
            CliError::usage("--cached compares the index with HEAD; it takes no range")
                .with_hint("drop --cached to see the range, or the range to see the index"),
        );
    }
    let select = SelectArgs {
        group: args.group.clone(),
        dirty: false,
        patterns,
    };
    let listed = meta_repo::list_projects(root)?;
    if range.is_none() {
        commit_for_a_pattern(root, &select.patterns, &listed.projects)?;
    }
    let chosen = select.choose(&workspace, listed.projects)?;
    let request = DiffRequest {
        root,
        projects: &chosen,
        superproject: !select.narrows(),
        range: range.as_deref(),
        cached: args.cached,
    };
    let plan = meta_change::plan_diff(&request).map_err(plan_error)?;
    // Said only when asked for by name: every meta-repo has projects some people never clone.
    if select.narrows() && !plan.not_initialized.is_empty() {
        ctx.ui.note(format!(
            "not initialised, so no work tree to diff (`meta sync` checks them out): {}",
            plan.not_initialized.join(", ")
        ));
    }

    let format = if args.stat {
        DiffFormat::Stat
    } else if args.name_only {
        DiffFormat::NameOnly
    } else {
        DiffFormat::Patch
    };
    let color = ctx.ui.color_stdout();
    let mut out = Output::open(ctx, root, args.no_pager);
    let jobs = args.jobs.map_or_else(meta_workflow::cpus, usize::from);

    let mut changed = false;
    let mut failures: Vec<DiffError> = Vec::new();
    let mut missing: Vec<&Part> = Vec::new();
    let mut files: Vec<FileChange> = Vec::new();
    let mut projects_said: Vec<String> = Vec::new();
    let mut write_error: Option<io::Error> = None;
    meta_change::read_diffs(&plan, format, color, jobs, |part, result| {
        let written = match (part, result) {
            (_, Some(Err(error))) => {
                failures.push(error);
                Ok(())
            }
            (_, Some(Ok(output))) => {
                changed |= !output.is_empty();
                match output {
                    DiffOutput::Patch(bytes) => out.write_all(&bytes),
                    DiffOutput::Files(list) if format == DiffFormat::NameOnly => {
                        list.iter().try_for_each(|f| writeln!(out, "{}", f.path))
                    }
                    DiffOutput::Files(list) => {
                        files.extend(list);
                        Ok(())
                    }
                }
            }
            (Part::Missing { .. }, None) => {
                missing.push(part);
                Ok(())
            }
            (Part::Added { path, .. } | Part::Removed { path, .. }, None) => {
                changed = true;
                let line = project_line(part);
                match format {
                    DiffFormat::NameOnly => writeln!(out, "{path}"),
                    DiffFormat::Stat => {
                        projects_said.push(line);
                        Ok(())
                    }
                    DiffFormat::Patch => {
                        writeln!(out, "{}", ctx.ui.paint(styles::EMPHASIS, line))
                    }
                }
            }
            (Part::Diff(_), None) => Ok(()),
        };
        match written {
            // Ctrl-C while paging stops the reading; the pager keeps what it has.
            Ok(()) => !out.interrupted(),
            Err(error) => {
                write_error = Some(error);
                false
            }
        }
    });
    if write_error.is_none() && format == DiffFormat::Stat {
        let mut text = stat_text(&files, color);
        for line in &projects_said {
            let _ = writeln!(text, " {line}");
        }
        if let Err(error) = out.write_all(text.as_bytes()) {
            write_error = Some(error);
        }
    }
    let interrupt = Arc::clone(&out.interrupt);
    let flushed = out.finish();
    if interrupt.load(Ordering::SeqCst) {
        return Ok(ExitCode::from(130));
    }
    match write_error.or(flushed.err()) {
        // The reader went away (`| head`, or the pager was quit): nothing more to say.
        Some(error) if error.kind() == io::ErrorKind::BrokenPipe => {
            return Ok(ExitCode::SUCCESS);
        }
        Some(error) => return Err(CliError::context("cannot write the diff", &error)),
        None => {}
    }

    if !failures.is_empty() || !missing.is_empty() {
        return Err(failure_report(&plan, &failures, &missing));
    }
    Ok(if args.exit_code && changed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A lone commit where a range was meant (`meta diff HEAD~2`) would otherwise read as a
/// pattern matching nothing; say how to write the range instead.
fn commit_for_a_pattern(root: &Path, patterns: &[String], projects: &[Project]) -> CliResult<()> {
    for pattern in patterns {
        let alone = Selection {
            patterns: vec![pattern.clone()],
            ..Selection::default()
        };
        if projects.iter().any(|p| alone.matches_project(p))
            || meta_workflow::git::looks_like_option(pattern)
        {
            continue;
        }
        if let Ok(Some(_)) = meta_workflow::git::rev_parse(root, pattern) {
            return Err(CliError::usage(format!(
                "no project matches `{pattern}`, which names a superproject commit"
            ))
            .with_hint(format!(
                "for the changes from `{pattern}` to HEAD, write the range `{pattern}..`; for that commit's own change, `{pattern}^!`"
            )));
        }
    }
    Ok(())
}

fn plan_error(error: DiffError) -> CliError {
    match error {
        DiffError::BadRange { .. } => CliError::usage(error.to_string()).with_hint(
            "a range names superproject commits, like `origin/main..HEAD` or `HEAD~3..`; `git log --oneline RANGE` at the root shows what it covers",
        ),
        DiffError::Git { .. } => CliError::context("cannot read what to diff", &error),
    }
}

/// The line that stands for a project added or removed by the range.
fn project_line(part: &Part) -> String {
    match part {
        Part::Added { path, pin } => {
            format!("project {path} added, pinned at {}", pin.to_hex_with_len(7))
        }
        Part::Removed { path, pin } => {
            format!(
                "project {path} removed, was pinned at {}",
                pin.to_hex_with_len(7)
            )
        }
        _ => String::new(),
    }
}

/// What could not be shown, with what to do about it.
fn failure_report(plan: &DiffPlan, failures: &[DiffError], missing: &[&Part]) -> CliError {
    let count = failures.len() + missing.len();
    let mut error = CliError::new(format!(
        "could not show the diff of {count} repositor{} (the others are shown)",
        if count == 1 { "y" } else { "ies" }
    ));
    let mut fixes = Vec::new();
    for part in missing {
        if let Part::Missing {
            path,
            from,
            to,
            cloned,
        } = part
        {
            let pins = format!("{}..{}", from.to_hex_with_len(7), to.to_hex_with_len(7));
            if *cloned {
                error = error.with_cause(format!(
                    "`{path}`: its pin change {pins} needs commits its clone does not have"
                ));
                fixes.push(format!(
                    "`git -C {path} fetch origin` fetches them (or `meta sync {path}` for the current pin)"
                ));
            } else {
                error = error.with_cause(format!(
                    "`{path}`: its pin change {pins} cannot be shown: the project is not cloned here"
                ));
                fixes.push(format!("`meta sync {path}` clones it"));
            }
        }
    }
    for failure in failures {
        error = error.with_cause(crate::error::describe_error(failure));
    }
    for fix in fixes {
        error = error.with_hint(fix);
    }
    if let Some(range) = &plan.range {
        error = error.with_hint(format!("then run `meta diff {}` again", range.text));
    }
    error
}

/// Where the diff goes: standard output, or a pager reading it.
struct Output {
    pager: Option<Child>,
    sink: Box<dyn Write>,
    /// Set by Ctrl-C or Ctrl-\ while a pager runs: as git does, `meta` then stops reading
    /// but does not die, and waits for the pager, which owns the terminal.
    interrupt: Arc<AtomicBool>,
    handlers: Vec<signal_hook::SigId>,
}

impl Output {
    /// A pager on a terminal (unless `--no-pager`), else standard output. A pager that cannot
    /// start is warned about, and the diff printed without it.
    fn open(ctx: &Ctx<'_>, root: &Path, no_pager: bool) -> Self {
        let stdout = || Self {
            pager: None,
            sink: Box::new(io::stdout().lock()),
            interrupt: Arc::default(),
            handlers: Vec::new(),
        };
        if no_pager || !ctx.ui.stdout_is_terminal() {
            return stdout();
        }
        let Some(command) = pager_command(root) else {
            return stdout();
        };
        let mut pager = std::process::Command::new("sh");
        pager.arg("-c").arg(&command).stdin(Stdio::piped());
        // What git sets, so `less` quits on one screen, passes colours and keeps the screen.
        if std::env::var_os("LESS").is_none() {
            pager.env("LESS", "FRX");
        }
        if std::env::var_os("LV").is_none() {
            pager.env("LV", "-c");
        }
        match pager.spawn() {
            Ok(mut child) => match child.stdin.take() {
                Some(stdin) => {
                    let interrupt = Arc::new(AtomicBool::new(false));
                    let handlers = [SIGINT, SIGQUIT]
                        .into_iter()
                        .filter_map(|signal| flag::register(signal, Arc::clone(&interrupt)).ok())
                        .collect();
                    Self {
                        pager: Some(child),
                        sink: Box::new(stdin),
                        interrupt,
                        handlers,
                    }
                }
                None => stdout(),
            },
            Err(error) => {
                ctx.ui.warn(format!(
                    "cannot start the pager `{command}` ({}); printing without it",
                    crate::error::describe_io(&error)
                ));
                stdout()
            }
        }
    }

    /// Ctrl-C was pressed while paging.
    fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::SeqCst)
    }

    /// Flushes, closes the pager's input and waits for the reader to finish.
    fn finish(mut self) -> io::Result<()> {
        let flushed = self.sink.flush();
        self.sink = Box::new(io::sink());
        let waited = match self.pager.take() {
            Some(mut pager) => pager.wait().map(drop),
            None => Ok(()),
        };
        for handler in self.handlers.drain(..) {
            signal_hook::low_level::unregister(handler);
        }
        waited?;
        flushed
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}

/// The pager git would use: `GIT_PAGER`, `core.pager`, `PAGER`, then `less`; `None` for an
/// empty one or `cat`.
fn pager_command(root: &Path) -> Option<String> {
    let from_env = |name: &str| std::env::var(name).ok();
    let configured = || {
        meta_workflow::git(root)
            .args(["config", "--get", "core.pager"])
            .run()
            .ok()
            .map(|value| value.trim_end().to_owned())
    };
    let command = from_env("GIT_PAGER")
        .or_else(configured)
        .or_else(|| from_env("PAGER"))
        .unwrap_or_else(|| "less".to_owned());
    let trimmed = command.trim();
    (!trimmed.is_empty() && trimmed != "cat").then(|| trimmed.to_owned())
}

/// `git diff --stat` over files of several repositories: one line per file, widths and
/// graph scaled as git's `show_stats` does them, then the summary.
fn stat_text(files: &[FileChange], color: bool) -> String {
    let mut text = String::new();
    if files.is_empty() {
        return text;
    }
    let digits = |n: u64| n.to_string().len();
    let mut max_change = 0u64;
    let mut max_len = 0;
    let mut bin_width = 0;
    let mut number_width = 0;
    for file in files {
        max_len = max_len.max(file.path.chars().count());
        if let (Some(added), Some(removed)) = (file.added, file.removed) {
            max_change = max_change.max(added + removed);
        } else {
            let (old, new) = file.binary.unwrap_or((0, 0));
            // "Bin OLD -> NEW bytes", with the counts aligned under "Bin".
            bin_width = bin_width.max(14 + digits(old) + digits(new));
            number_width = 3;
        }
    }
    let number_width = number_width.max(digits(max_change));
    let width = columns().max(16 + 6 + number_width);
    let max = usize::try_from(max_change).unwrap_or(usize::MAX);
    let mut graph_width = if max + 4 > bin_width {
        max
    } else {
        bin_width - 4
    };
    let mut name_width = max_len;
    if name_width + number_width + 6 + graph_width > width {
        let cap = (width * 3 / 8).saturating_sub(number_width + 6);
        if graph_width > cap {
            graph_width = cap.max(6);
        }
        if name_width > width - number_width - 6 - graph_width {
            name_width = width - number_width - 6 - graph_width;
        } else {
            graph_width = width - number_width - 6 - name_width;
        }
    }
    let scaled = graph_width <= max;
    let scale = |n: u64| -> usize {
        if n == 0 {
            return 0;
        }
        let graph = graph_width as u64;
        usize::try_from(1 + n * graph.saturating_sub(1) / max_change.max(1)).unwrap_or(0)
    };
    let paint = |style: anstyle::Style, s: String| {
        if color && !s.is_empty() {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s
        }
    };
    let (green, red) = (styles::OK, anstyle::AnsiColor::Red.on_default());
    let (mut insertions, mut deletions) = (0u64, 0u64);
    for file in files {
        let shown = shorten(&file.path, name_width);
        let pad = name_width.saturating_sub(shown.chars().count());
        let (Some(added), Some(removed)) = (file.added, file.removed) else {
            let _ = write!(text, " {shown}{:pad$} | {:>number_width$}", "", "Bin");
            match file.binary {
                Some((old, new)) if old > 0 || new > 0 => {
                    let _ = writeln!(
                        text,
                        " {} -> {} bytes",
                        paint(red, old.to_string()),
                        paint(green, new.to_string())
                    );
                }
                _ => text.push('\n'),
            }
            continue;
        };
        insertions += added;
        deletions += removed;
        let (mut plus, mut minus) = (
            usize::try_from(added).unwrap_or(0),
            usize::try_from(removed).unwrap_or(0),
        );
        if scaled {
            // git keeps the total right and gives the rounding to the larger side.
            let mut total = scale(added + removed);
            if total < 2 && added > 0 && removed > 0 {
                total = 2;
            }
            if added < removed {
                plus = scale(added);
                minus = total.saturating_sub(plus);
            } else {
                minus = scale(removed);
                plus = total.saturating_sub(minus);
            }
        }
        let _ = writeln!(
            text,
            " {shown}{:pad$} | {:>number_width$}{}{}{}",
            "",
            added + removed,
            if added + removed > 0 { " " } else { "" },
            paint(green, "+".repeat(plus)),
            paint(red, "-".repeat(minus)),
        );
    }
    let plural = |n: u64, one: &str, many: &str| if n == 1 { one } else { many }.to_owned();
    let count = files.len() as u64;
    let _ = write!(text, " {count} {} changed", plural(count, "file", "files"));
    if insertions > 0 || deletions == 0 {
        let _ = write!(
            text,
            ", {insertions} {}(+)",
            plural(insertions, "insertion", "insertions")
        );
    }
    if deletions > 0 || insertions == 0 {
        let _ = write!(
            text,
            ", {deletions} {}(-)",
            plural(deletions, "deletion", "deletions")
        );
    }
    text.push('\n');
    text
}

/// The width git lays a stat out in: `COLUMNS`, else the terminal's, else 80.
fn columns() -> usize {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|c| *c > 0);
    from_env
        .or_else(|| {
            let size = rustix::termios::tcgetwinsize(io::stdout()).ok()?;
            (size.ws_col > 0).then_some(usize::from(size.ws_col))
        })
        .unwrap_or(80)
}

/// `name` cut from the left to `width` characters, as git does (`.../end/of/path`).
fn shorten(name: &str, width: usize) -> String {
    let len = name.chars().count();
    if len <= width {
        return name.to_owned();
    }
    let keep: String = name.chars().skip(len - width.saturating_sub(3)).collect();
    // git starts after a slash when there is one in what it keeps.
    match keep.find('/') {
        Some(slash) => format!("...{}", &keep[slash..]),
        None => format!("...{keep}"),
    }
}

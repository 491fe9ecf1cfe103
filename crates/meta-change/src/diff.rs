//! `meta diff`: which repositories to diff, over which commits, and their diffs as data with
//! every path prefixed by the repository's path, so a combined patch reads as one patch of the
//! root (`a/src/libraries/api/lib.rs`) and `git apply` there understands it.
//!
//! - **Work tree** (or index with `cached`): the superproject's own files, then each selected,
//!   initialised project, in project (path) order.
//! - **Range** `A..B` of the superproject (`A..` = `A..HEAD`, `A...B` = from their merge
//!   base, `C^!` = C's first parent to C): the superproject's own diff for the range, and each pin that moved expanded into
//!   that project's diff `old..new`; projects added or removed are [`Part::Added`] /
//!   [`Part::Removed`]; a pin change whose commits this clone lacks is [`Part::Missing`], and
//!   the others are still read.
//!
//! Gitlinks are left out of the superproject's diff where they are expanded (ranges);
//! in the work tree they show as git shows them (`Subproject commit`), without `-dirty`, since
//! each project's own changes follow. Git is asked for the diffs with `--src-prefix` /
//! `--dst-prefix`; only `rename`/`copy` lines, which git writes without prefixes, are
//! rewritten here. Nothing here prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use meta_repo::{ObjectId, Project};
use meta_workflow::git::{Git, GitError, git, has_commit, looks_like_option, rev_parse};

use crate::SUPERPROJECT;

/// What each repository's diff gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffFormat {
    /// The patch (`git diff`).
    #[default]
    Patch,
    /// Changed files with their counts of added and removed lines (`--numstat`), for a
    /// combined `--stat`.
    Stat,
    /// Changed files' names (`--name-only`).
    NameOnly,
}

/// What to diff.
#[derive(Debug, Clone)]
pub struct DiffRequest<'a> {
    /// The meta-repo's root (the superproject's work tree).
    pub root: &'a Path,
    /// The selected projects, in project order.
    pub projects: &'a [Project],
    /// Include the superproject's own files (and, in a range, gitlinks of projects no longer
    /// listed).
    pub superproject: bool,
    /// A superproject range (`A..B`, `A..`, `..B`, `A...B`, `C^!`); `None`: the work tree.
    pub range: Option<&'a str>,
    /// The index instead of the work tree (no range).
    pub cached: bool,
}

/// The commits a range resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// As given.
    pub text: String,
    /// The old side (`A`, or the merge base for `A...B`, or `C^`).
    pub from: ObjectId,
    /// The new side.
    pub to: ObjectId,
}

/// One repository's diff to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoDiff {
    /// Relative to the root; `.` for the superproject.
    pub path: String,
    /// Where git runs.
    pub dir: PathBuf,
    /// What every path of this repository is prefixed with (`src/x/`; empty at the root).
    pub prefix: String,
    /// Commits compared (a pin change or the superproject range); `None`: the work tree or
    /// index.
    pub commits: Option<(ObjectId, ObjectId)>,
    /// The index against HEAD (work-tree mode only).
    pub cached: bool,
}

/// One step of a combined diff, in output order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A repository's diff.
    Diff(RepoDiff),
    /// The range adds a project, pinned at `pin`.
    Added { path: String, pin: ObjectId },
    /// The range removes a project, which was pinned at `pin`.
    Removed { path: String, pin: ObjectId },
    /// A pin change whose commits the project's clone lacks (or the project is not cloned).
    Missing {
        path: String,
        from: ObjectId,
        to: ObjectId,
        /// The project has a clone here (else `meta sync` makes one).
        cloned: bool,
    },
}

impl Part {
    /// The repository it is about (`.` for the superproject).
    pub fn path(&self) -> &str {
        match self {
            Part::Diff(diff) => &diff.path,
            Part::Added { path, .. } | Part::Removed { path, .. } | Part::Missing { path, .. } => {
                path
            }
        }
    }
}

/// Everything a combined diff is made of, in output order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffPlan {
    /// The range, when one was asked for.
    pub range: Option<Range>,
    /// The steps, in output order.
    pub parts: Vec<Part>,
    /// Selected projects with no work tree here (not initialised), left out of a work-tree
    /// diff.
    pub not_initialized: Vec<String>,
}

/// One changed file, its name root-relative and written as git writes names: quoted when
/// unusual (`core.quotePath`), and a rename as `dir/{old => new}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The name, prefixed.
    pub path: String,
    /// Lines added and removed; `None` for a binary file (or with [`DiffFormat::NameOnly`]).
    pub added: Option<u64>,
    pub removed: Option<u64>,
    /// A binary file's size before and after, in bytes, as git's `--stat` gives them.
    pub binary: Option<(u64, u64)>,
}

/// A repository's diff as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffOutput {
    /// Patch text (with colour escapes when asked), paths prefixed.
    Patch(Vec<u8>),
    /// Files, for `Stat` and `NameOnly`.
    Files(Vec<FileChange>),
}

impl DiffOutput {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        match self {
            DiffOutput::Patch(bytes) => bytes.is_empty(),
            DiffOutput::Files(files) => files.is_empty(),
        }
    }
}

/// Why a diff could not be planned or read.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("`{range}` is not a range of the superproject: {reason}")]
    BadRange { range: String, reason: String },
    #[error("cannot read the diff of {}", place(path))]
    Git {
        path: String,
        #[source]
        source: GitError,
    },
}

fn place(path: &str) -> String {
    if path == SUPERPROJECT {
        "the superproject".to_owned()
    } else {
        format!("`{path}`")
    }
}

fn git_error(path: &str) -> impl FnOnce(GitError) -> DiffError + '_ {
    move |source| DiffError::Git {
        path: path.to_owned(),
        source,
    }
}

/// What `request` is made of: the range resolved, the repositories and pin changes in order.
/// Only reads (rev-parse, diff-tree, cat-file).
pub fn plan_diff(request: &DiffRequest<'_>) -> Result<DiffPlan, DiffError> {
    let root = request.root;
    let Some(text) = request.range else {
        let mut parts = Vec::new();
        let mut not_initialized = Vec::new();
        if request.superproject {
            parts.push(Part::Diff(RepoDiff {
                path: SUPERPROJECT.to_owned(),
                dir: root.to_path_buf(),
                prefix: String::new(),
                commits: None,
                cached: request.cached,
            }));
        }
        for project in request.projects {
            let dir = root.join(&project.path);
            if !project.active || std::fs::symlink_metadata(dir.join(".git")).is_err() {
                not_initialized.push(project.path.clone());
                continue;
            }
            parts.push(Part::Diff(RepoDiff {
                prefix: format!("{}/", project.path),
                path: project.path.clone(),
                dir,
                commits: None,
                cached: request.cached,
            }));
        }
        return Ok(DiffPlan {
            range: None,
            parts,
            not_initialized,
        });
    };

    let range = resolve_range(root, text)?;
    let mut parts = Vec::new();
    if request.superproject {
        parts.push(Part::Diff(RepoDiff {
            path: SUPERPROJECT.to_owned(),
            dir: root.to_path_buf(),
            prefix: String::new(),
            commits: Some((range.from, range.to)),
            cached: false,
        }));
    }
    for (path, (old, new)) in moved_gitlinks(root, range.from, range.to)? {
        let listed = request.projects.iter().any(|p| p.path == path);
        // A gitlink no project is listed at any more belongs to the superproject's own view.
        if !listed && !request.superproject {
            continue;
        }
        let dir = root.join(&path);
        let part = match (old, new) {
            (None, Some(pin)) => Part::Added { path, pin },
            (Some(pin), None) => Part::Removed { path, pin },
            (Some(from), Some(to)) => {
                let cloned = std::fs::symlink_metadata(dir.join(".git")).is_ok();
                let present = cloned
                    && has_commit(&dir, from).map_err(git_error(&path))?
                    && has_commit(&dir, to).map_err(git_error(&path))?;
                if present {
                    Part::Diff(RepoDiff {
                        prefix: format!("{path}/"),
                        path,
                        dir,
                        commits: Some((from, to)),
                        cached: false,
                    })
                } else {
                    Part::Missing {
                        path,
                        from,
                        to,
                        cloned,
                    }
                }
            }
            (None, None) => continue,
        };
        parts.push(part);
    }
    Ok(DiffPlan {
        range: Some(range),
        parts,
        not_initialized: Vec::new(),
    })
}

/// `A..B`, `A..` (to HEAD), `..B` (from HEAD), `A...B` (from the merge base), `C^!` (C's own
/// change, from its first parent) as two commits.
fn resolve_range(root: &Path, text: &str) -> Result<Range, DiffError> {
    let bad = |reason: &str| DiffError::BadRange {
        range: text.to_owned(),
        reason: reason.to_owned(),
    };
    let commit = |name: &str| -> Result<ObjectId, DiffError> {
        let name = if name.is_empty() { "HEAD" } else { name };
        if looks_like_option(name) {
            return Err(bad(&format!(
                "`{name}` starts with `-`, so git could read it as an option"
            )));
        }
        rev_parse(root, name)
            .map_err(git_error(SUPERPROJECT))?
            .ok_or_else(|| bad(&format!("`{name}` names no commit of the superproject")))
    };
    if let Some(one) = text.strip_suffix("^!") {
        // One commit's own change: from its first parent.
        let to = commit(one)?;
        let from = rev_parse(root, &format!("{to}^"))
            .map_err(git_error(SUPERPROJECT))?
            .ok_or_else(|| bad(&format!("`{one}` has no parent to compare with")))?;
        return Ok(Range {
            text: text.to_owned(),
            from,
            to,
        });
    }
    let (left, right, symmetric) = if let Some((l, r)) = text.split_once("...") {
        (l, r, true)
    } else if let Some((l, r)) = text.split_once("..") {
        (l, r, false)
    } else {
        return Err(bad(
            "a range is two commits joined by `..`, like `origin/main..HEAD`, or one commit and `^!`",
        ));
    };
    let to = commit(right)?;
    let mut from = commit(left)?;
    if symmetric {
        let out = git(root)
            .args(["merge-base", &from.to_string(), &to.to_string()])
            .output()
            .map_err(git_error(SUPERPROJECT))?;
        from = ObjectId::from_hex(String::from_utf8_lossy(&out.stdout).trim().as_bytes())
            .map_err(|_| bad("its two sides have no common ancestor"))?;
    }
    Ok(Range {
        text: text.to_owned(),
        from,
        to,
    })
}

/// Gitlinks that differ between two superproject commits: path → (old, new), in path order.
type Moves = BTreeMap<String, (Option<ObjectId>, Option<ObjectId>)>;

fn moved_gitlinks(root: &Path, from: ObjectId, to: ObjectId) -> Result<Moves, DiffError> {
    let out = git(root)
        .args(["diff-tree", "-r", "-z", "--no-renames"])
        .arg(from.to_string())
        .arg(to.to_string())
        .run()
        .map_err(git_error(SUPERPROJECT))?;
    let mut moves = Moves::new();
    let mut fields = out.split('\0');
    while let (Some(meta), Some(path)) = (fields.next(), fields.next()) {
        // `:OLDMODE NEWMODE OLDID NEWID STATUS`
        let mut meta = meta.trim_start_matches(':').split(' ');
        let (Some(old_mode), Some(new_mode), Some(old_id), Some(new_id)) =
            (meta.next(), meta.next(), meta.next(), meta.next())
        else {
            continue;
        };
        let link = |mode: &str, id: &str| {
            (mode == "160000")
                .then(|| ObjectId::from_hex(id.as_bytes()).ok())
                .flatten()
        };
        let (old, new) = (link(old_mode, old_id), link(new_mode, new_id));
        if old.is_some() || new.is_some() {
            moves.insert(path.to_owned(), (old, new));
        }
    }
    Ok(moves)
}

impl RepoDiff {
    /// The git call that reads this diff in `format`, with colour escapes when `color`.
    pub fn command(&self, format: DiffFormat, color: bool) -> Git {
        match format {
            DiffFormat::Patch => self.call([
                if color {
                    "--color=always".to_owned()
                } else {
                    "--color=never".to_owned()
                },
                format!("--src-prefix=a/{}", self.prefix),
                format!("--dst-prefix=b/{}", self.prefix),
            ]),
            // Without -z, so names come quoted and renames laid out as git shows them.
            DiffFormat::Stat => self.call(["--numstat", "--color=never"]),
            DiffFormat::NameOnly => self.call(["--name-only", "--color=never"]),
        }
    }

    /// `git diff OPTIONS` over this repository's sides.
    fn call<S: AsRef<std::ffi::OsStr>>(&self, options: impl IntoIterator<Item = S>) -> Git {
        let mut call = git(&self.dir).args(["diff", "--no-ext-diff"]).args(options);
        if self.path == SUPERPROJECT {
            // In a range every pin change is expanded, so gitlinks would say it twice; in the
            // work tree a moved pin still shows, a project's own edits do not (they follow).
            call = call.args(if self.commits.is_some() {
                ["--ignore-submodules=all", "--submodule=short"]
            } else {
                ["--ignore-submodules=dirty", "--submodule=short"]
            });
        }
        match self.commits {
            Some((from, to)) => call.arg(from.to_string()).arg(to.to_string()),
            None if self.cached => call.arg("--cached"),
            None => call,
        }
    }

    /// Runs the diff and returns it with every path prefixed.
    pub fn read(&self, format: DiffFormat, color: bool) -> Result<DiffOutput, DiffError> {
        let stdout = self.run(&self.command(format, color))?;
        Ok(match format {
            DiffFormat::Patch => DiffOutput::Patch(prefix_patch(&stdout, &self.prefix)),
            DiffFormat::Stat => {
                let mut files = parse_numstat(&stdout);
                if files.iter().any(|f| f.added.is_none()) {
                    // numstat has no sizes for binary files; git's own stat has them.
                    let stat = self.run(&self.call(["--stat=100000,90000", "--color=never"]))?;
                    let sizes = binary_sizes(&stat);
                    for file in files.iter_mut().filter(|f| f.added.is_none()) {
                        file.binary = sizes.get(file.path.as_str()).copied();
                    }
                }
                for file in &mut files {
                    file.path = prefix_name(&file.path, &self.prefix);
                }
                DiffOutput::Files(files)
            }
            DiffFormat::NameOnly => DiffOutput::Files(
                String::from_utf8_lossy(&stdout)
                    .lines()
                    .filter(|name| !name.is_empty())
                    .map(|name| FileChange {
                        path: prefix_name(name, &self.prefix),
                        added: None,
                        removed: None,
                        binary: None,
                    })
                    .collect(),
            ),
        })
    }

    /// Standard output of `command`, which must succeed.
    fn run(&self, command: &Git) -> Result<Vec<u8>, DiffError> {
        let out = command.output().map_err(git_error(&self.path))?;
        // `git diff` exits 1 only with `--exit-code`; anything else non-zero is a failure.
        if !out.status.success() {
            return Err(DiffError::Git {
                path: self.path.clone(),
                source: command.failure(&out),
            });
        }
        Ok(out.stdout)
    }
}

/// Reads the diffs of `plan` on up to `jobs` threads and hands each part's result to
/// `on_ready` in plan order (parts that are not diffs get `None`), as soon as it and every
/// part before it are done. `on_ready` returning false stops the reading (a closed pipe).
pub fn read_diffs<'p>(
    plan: &'p DiffPlan,
    format: DiffFormat,
    color: bool,
    jobs: usize,
    mut on_ready: impl FnMut(&'p Part, Option<Result<DiffOutput, DiffError>>) -> bool,
) {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel();
    let jobs = jobs.clamp(1, plan.parts.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let sender = sender.clone();
            let (next, stop) = (&next, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(part) = plan.parts.get(i) else {
                        break;
                    };
                    let result = match part {
                        Part::Diff(diff) => Some(diff.read(format, color)),
                        _ => None,
                    };
                    if sender.send((i, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut waiting = BTreeMap::new();
        let mut shown = 0;
        for (i, result) in &receiver {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&shown) {
                let Some(part) = plan.parts.get(shown) else {
                    break;
                };
                shown += 1;
                if !on_ready(part, result) {
                    stop.store(true, Ordering::SeqCst);
                    return;
                }
            }
        }
    });
}

/// `patch` with the lines git writes without prefixes (`rename from x`, `copy to y`,
/// `diff --cc x`, `* Unmerged path x`) given `prefix`; the rest already carries it through `--src-prefix` / `--dst-prefix`. Colour
/// escapes before the words are kept.
fn prefix_patch(patch: &[u8], prefix: &str) -> Vec<u8> {
    const NAMED: [&[u8]; 7] = [
        b"rename from ",
        b"rename to ",
        b"copy from ",
        b"copy to ",
        // A conflicted file's combined diff, and the index's word for it.
        b"diff --cc ",
        b"diff --combined ",
        b"* Unmerged path ",
    ];
    if prefix.is_empty() {
        return patch.to_vec();
    }
    let mut out = Vec::with_capacity(patch.len());
    for line in patch.split_inclusive(|b| *b == b'\n') {
        let start = skip_escapes(line);
        let rest = &line[start..];
        match NAMED.iter().find(|word| rest.starts_with(word)) {
            Some(word) => {
                let at = start + word.len();
                out.extend_from_slice(&line[..at]);
                // A quoted name (`"a\tb"`) takes the prefix inside its quotes.
                let quoted = line.get(at) == Some(&b'"');
                if quoted {
                    out.push(b'"');
                }
                out.extend_from_slice(prefix.as_bytes());
                out.extend_from_slice(&line[at + usize::from(quoted)..]);
            }
            None => out.extend_from_slice(line),
        }
    }
    out
}

/// Where the text of `line` starts after any leading SGR escapes (`ESC [ … m`).
fn skip_escapes(line: &[u8]) -> usize {
    let mut at = 0;
    while line.get(at) == Some(&0x1b) && line.get(at + 1) == Some(&b'[') {
        match line[at + 2..].iter().position(|b| *b == b'm') {
            Some(end) => at += end + 3,
            None => break,
        }
    }
    at
}

/// `git diff --numstat`: `ADDED\tREMOVED\tNAME` per line; `-` counts for a binary file.
/// Names are as git wrote them, not yet prefixed.
fn parse_numstat(bytes: &[u8]) -> Vec<FileChange> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|line| {
            let mut columns = line.splitn(3, '\t');
            let (added, removed, name) = (columns.next()?, columns.next()?, columns.next()?);
            Some(FileChange {
                path: name.to_owned(),
                added: added.parse().ok(),
                removed: removed.parse().ok(),
                binary: None,
            })
        })
        .collect()
}

/// The sizes git's `--stat` gives binary files: ` NAME | Bin OLD -> NEW bytes`, by name.
fn binary_sizes(stat: &[u8]) -> BTreeMap<String, (u64, u64)> {
    String::from_utf8_lossy(stat)
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.rsplit_once(" | ")?;
            let sizes = rest.trim_start().strip_prefix("Bin ")?;
            let (old, new) = sizes.strip_suffix(" bytes")?.split_once(" -> ")?;
            Some((
                name.trim().to_owned(),
                (old.trim().parse().ok()?, new.trim().parse().ok()?),
            ))
        })
        .collect()
}

/// A name as git writes it, put under `prefix`: inside the quotes of a quoted name, and a
/// rename `old => new` without a common part becomes `prefix/{old => new}`, as git would
/// write it from the root.
fn prefix_name(name: &str, prefix: &str) -> String {
    if prefix.is_empty() {
        return name.to_owned();
    }
    if let Some(rest) = name.strip_prefix('"') {
        return format!("\"{prefix}{rest}");
    }
    if name.contains(" => ") && !name.contains('{') {
        let dir = prefix.trim_end_matches('/');
        return format!("{dir}/{{{name}}}");
    }
    format!("{prefix}{name}")
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "tests: a panic is the test failing, and says where"
)]
mod tests {
    use super::*;

    #[test]
    fn rename_and_copy_lines_get_the_prefix_even_coloured_or_quoted() {
        let patch = b"diff --git a/p/x b/p/y\nsimilarity index 90%\nrename from x\nrename to y\n\x1b[1mcopy from \"a\\tb\"\x1b[m\n+rename from z\ndiff --cc f\n* Unmerged path g\n";
        let out = prefix_patch(patch, "p/");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "diff --git a/p/x b/p/y\nsimilarity index 90%\nrename from p/x\nrename to p/y\n\x1b[1mcopy from \"p/a\\tb\"\x1b[m\n+rename from z\ndiff --cc p/f\n* Unmerged path p/g\n"
        );
    }

    #[test]
    fn numstat_reads_plain_binary_quoted_and_renamed_files() {
        let text = "3\t1\ta.txt\n-\t-\tbin\n1\t0\t\"t\\tb\"\n0\t0\told => new\n0\t0\td/{a => b}\n";
        let files = parse_numstat(text.as_bytes());
        let names: Vec<String> = files
            .iter()
            .map(|f| prefix_name(&f.path, "src/p/"))
            .collect();
        assert_eq!(
            names,
            [
                "src/p/a.txt",
                "src/p/bin",
                "\"src/p/t\\tb\"",
                "src/p/{old => new}",
                "src/p/d/{a => b}"
            ]
        );
        assert_eq!((files[0].added, files[0].removed), (Some(3), Some(1)));
        assert_eq!((files[1].added, files[1].removed), (None, None));
    }

    #[test]
    fn binary_sizes_come_from_gits_stat() {
        let stat = b" a.txt | 2 +-\n logo.png | Bin 0 -> 1234 bytes\n \"x | y\" | Bin 5 -> 0 bytes\n 3 files changed\n";
        let sizes = binary_sizes(stat);
        assert_eq!(sizes.get("logo.png"), Some(&(0, 1234)));
        assert_eq!(sizes.get("\"x | y\""), Some(&(5, 0)));
        assert_eq!(sizes.len(), 2);
    }
}

//! Bare "upstream" repositories, written in one `git fast-import` each (far cheaper than a
//! working clone and a commit per step, which matters for the 200-project benchmark fixture).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::git::{AUTHOR_EMAIL, AUTHOR_NAME, DATE_EPOCH, git};
use crate::{Result, io_error};

/// One change in a commit of a fixture remote.
#[derive(Debug, Clone)]
pub enum RemoteFile {
    /// A regular file (mode 100644) with these contents.
    Blob { path: String, contents: String },
    /// A submodule entry (mode 160000) pointing at `commit` (40 hex digits).
    Gitlink { path: String, commit: String },
}

/// One commit of a fixture remote: its message and what it changes on top of its parent.
#[derive(Debug, Clone)]
pub struct RemoteCommit {
    pub message: String,
    pub changes: Vec<RemoteFile>,
}

/// The history every fixture project has, as `make-metarepo` makes it: 20 files under `src/`
/// and a README in the first commit, then two commits each appending a line to the README.
pub fn standard_history(name: &str) -> Vec<RemoteCommit> {
    let mut first: Vec<RemoteFile> = (1..=20)
        .map(|f| RemoteFile::Blob {
            path: format!("src/file{f}.txt"),
            contents: format!("line {f} of {name}\n"),
        })
        .collect();
    first.push(RemoteFile::Blob {
        path: "README.md".to_owned(),
        contents: format!("# {name}\n"),
    });
    let mut history = vec![RemoteCommit {
        message: format!("initial {name}"),
        changes: first,
    }];
    let mut readme = format!("# {name}\n");
    for c in 1..=2 {
        let _ = writeln!(readme, "change {c}");
        history.push(RemoteCommit {
            message: format!("change {c}"),
            changes: vec![RemoteFile::Blob {
                path: "README.md".to_owned(),
                contents: readme.clone(),
            }],
        });
    }
    history
}

/// Creates the bare repository `<remotes>/<name>.git` whose `main` branch is `history`, and
/// returns its path.
pub fn create_remote(remotes: &Path, name: &str, history: &[RemoteCommit]) -> Result<PathBuf> {
    let bare = remotes.join(format!("{name}.git"));
    fs_create_dir_all(remotes)?;
    git(remotes)
        .args(["init", "-q", "--bare"])
        .arg(&bare)
        .run()?;
    git(&bare)
        .args(["fast-import", "--quiet", "--date-format=raw"])
        .stdin(fast_import_stream(history))
        .run()?;
    Ok(bare)
}

fn fs_create_dir_all(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))
}

fn fast_import_stream(history: &[RemoteCommit]) -> Vec<u8> {
    let mut out = String::new();
    let who = format!("{AUTHOR_NAME} <{AUTHOR_EMAIL}> {DATE_EPOCH} +0000");
    for (i, commit) in history.iter().enumerate() {
        // `git commit -m` ends the message with a newline; so do we, for identical ids.
        let message = format!("{}\n", commit.message);
        let _ = write!(
            out,
            "commit refs/heads/main\nmark :{}\nauthor {who}\ncommitter {who}\ndata {}\n{message}",
            i + 1,
            message.len()
        );
        if i > 0 {
            let _ = writeln!(out, "from :{i}");
        }
        for change in &commit.changes {
            match change {
                RemoteFile::Blob { path, contents } => {
                    let _ = write!(
                        out,
                        "M 100644 inline {path}\ndata {}\n{contents}\n",
                        contents.len()
                    );
                }
                RemoteFile::Gitlink { path, commit } => {
                    let _ = writeln!(out, "M 160000 {commit} {path}");
                }
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}

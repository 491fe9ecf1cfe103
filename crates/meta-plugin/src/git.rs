//! The few `git` commands plugin installation needs, run with the `git` program.
//!
//! User data never reaches git as an option: URLs and revisions starting with `-` are refused
//! before git runs, URLs follow `--`, revisions follow `--end-of-options`, and the only value
//! passed to `checkout` is a commit id git itself resolved.

use std::path::Path;
use std::process::{Command, Stdio};

/// Why a git step failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run `git`")]
    Spawn {
        #[source]
        source: std::io::Error,
    },
    #[error("`git {command}` failed{}", stderr_suffix(stderr))]
    Failed { command: String, stderr: String },
    #[error("revision `{rev}` is not a tag, branch or commit of `{url}`")]
    UnknownRev { url: String, rev: String },
    #[error("`{url}` has no commit to install (is the repository empty?)")]
    Empty { url: String },
}

fn stderr_suffix(stderr: &str) -> String {
    let text = stderr.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

fn git() -> Command {
    let mut cmd = Command::new("git");
    // Never prompt for credentials (a prompt would hang a non-interactive install), and never
    // allow the `ext::` transport, which runs commands named in the URL.
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .args(["-c", "protocol.ext.allow=never"])
        .stdin(Stdio::null());
    cmd
}

fn run(mut cmd: Command, shown: &str) -> Result<String, GitError> {
    let output = cmd.output().map_err(|source| GitError::Spawn { source })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(GitError::Failed {
            command: shown.to_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// Clones `url` into `dest` (which must not exist), checks out `rev` (a tag, branch or commit;
/// the default branch without one) detached, and returns the commit id checked out.
pub(crate) fn clone_at(url: &str, rev: Option<&str>, dest: &Path) -> Result<String, GitError> {
    let mut clone = git();
    clone
        .args(["clone", "--quiet", "--no-checkout", "--"])
        .arg(url)
        .arg(dest);
    run(clone, &format!("clone {url}"))?;

    let candidates: Vec<String> = match rev {
        None => vec!["HEAD^{commit}".to_owned()],
        // Tags, commits and the default branch resolve as given; other branches exist only as
        // remote-tracking refs after a clone.
        Some(rev) => vec![
            format!("{rev}^{{commit}}"),
            format!("refs/remotes/origin/{rev}^{{commit}}"),
        ],
    };
    let commit = candidates.iter().find_map(|candidate| {
        let mut parse = git();
        parse
            .arg("-C")
            .arg(dest)
            .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
            .arg(candidate);
        run(parse, "rev-parse").ok().filter(|id| is_commit_id(id))
    });
    let Some(commit) = commit else {
        return Err(match rev {
            Some(rev) => GitError::UnknownRev {
                url: url.to_owned(),
                rev: rev.to_owned(),
            },
            None => GitError::Empty {
                url: url.to_owned(),
            },
        });
    };

    let mut checkout = git();
    checkout
        .arg("-C")
        .arg(dest)
        .args(["-c", "advice.detachedHead=false"])
        .args(["checkout", "--quiet", "--detach"])
        .arg(&commit)
        .arg("--");
    run(checkout, &format!("checkout {commit}"))?;
    Ok(commit)
}

fn is_commit_id(text: &str) -> bool {
    (text.len() == 40 || text.len() == 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Does `dir` look like a git repository (a bare one, or a working tree with `.git`)?
pub(crate) fn is_repository(dir: &Path) -> bool {
    dir.join(".git").exists()
        || (dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir())
}

/// A source that names a remote repository rather than a local path: `scheme://…` or the
/// scp-like `user@host:path`.
pub(crate) fn is_url(source: &str) -> bool {
    if source.contains("://") {
        return true;
    }
    // `git@github.com:org/repo.git`: a `:` before any `/`, with a user part.
    match source.split_once(':') {
        Some((host, _)) => host.contains('@') && !host.contains('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(is_url("https://example.com/x.git"));
        assert!(is_url("ssh://git@host/x"));
        assert!(is_url("git@github.com:org/repo.git"));
        assert!(is_url("file:///tmp/x.git"));
        assert!(!is_url("/tmp/x.git"));
        assert!(!is_url("./plugins/hello"));
        assert!(!is_url("dir/with:colon"));
    }
}

//! `git`: the `git` command is there (meta runs it for everything that changes a repository),
//! and recent enough.

use super::{Check, Health, Outcome, always};

pub const CHECK: Check = Check {
    name: "git",
    applies: always,
    run,
};

/// Oldest git `meta` is tested against for the commands it runs.
const MINIMUM: (u32, u32) = (2, 25);

fn run(_health: &Health) -> Outcome {
    let output = std::process::Command::new("git")
        .arg("--version")
        .env("LC_ALL", "C")
        .output();
    match output {
        Err(error) => Outcome::fail(
            format!("`git` cannot be run: {error}"),
            "install git (2.25 or newer) and make sure it is on PATH",
        ),
        Ok(out) if !out.status.success() => Outcome::fail(
            format!(
                "`git --version` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            "reinstall git (2.25 or newer)",
        ),
        Ok(out) => judge(String::from_utf8_lossy(&out.stdout).trim()),
    }
}

fn judge(version_line: &str) -> Outcome {
    let version = version_line
        .strip_prefix("git version ")
        .unwrap_or(version_line);
    let mut numbers = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .map(|part| part.parse::<u32>().unwrap_or(0));
    match (numbers.next(), numbers.next()) {
        (Some(major), Some(minor)) if (major, minor) >= MINIMUM => {
            Outcome::pass(format!("git {version}"))
        }
        (Some(major), Some(minor)) => Outcome::warn(
            format!("git {major}.{minor} is older than 2.25, which meta needs for submodule work"),
            "upgrade git to 2.25 or newer",
        ),
        _ => Outcome::warn(
            format!("cannot tell git's version from `{version_line}`"),
            "check that `git --version` prints `git version X.Y.Z`",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Level;
    use super::judge;

    #[test]
    fn versions_are_judged() {
        assert_eq!(judge("git version 2.47.3").level, Level::Pass);
        assert_eq!(
            judge("git version 2.39.5 (Apple Git-154)").level,
            Level::Pass
        );
        assert_eq!(judge("git version 2.20.1").level, Level::Warn);
        assert_eq!(judge("something else").level, Level::Warn);
    }
}

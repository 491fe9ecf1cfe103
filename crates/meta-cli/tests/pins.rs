//! `meta check pins`: the real binary on fixture meta-repos (real git, local bare remotes).
//! Pins pushed, only local, hidden by stale remote-tracking refs, behind an unreachable remote,
//! over a range of superproject commits, landed or not, rewound; and bad input.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::path::{Path, PathBuf};

use meta_test::{MetaRepo, git};
use serde_json::Value;

use crate::common::{meta_git, stderr, stdout};

const ALPHA: &str = "src/libraries/alpha";
const BETA: &str = "src/libraries/beta";

fn fixture(dir: &Path) -> MetaRepo {
    let mut repo = MetaRepo::build(dir, 0).unwrap();
    repo.add_project("alpha", "libraries").unwrap();
    repo.add_project("beta", "libraries").unwrap();
    repo
}

/// A new commit in the project at `dir` (on whatever HEAD is), returned.
fn commit(dir: &Path, text: &str) -> String {
    std::fs::write(dir.join("change.txt"), text).unwrap();
    git(dir).args(["add", "change.txt"]).run().unwrap();
    git(dir).args(["commit", "-q", "-m", text]).run().unwrap();
    head(dir)
}

fn head(dir: &Path) -> String {
    git(dir)
        .args(["rev-parse", "HEAD"])
        .run()
        .unwrap()
        .trim()
        .to_owned()
}

/// Records the projects' current HEADs in one superproject commit.
fn record(repo: &MetaRepo, paths: &[&str], message: &str) {
    git(repo.root())
        .args(["add", "--"])
        .args(paths)
        .run()
        .unwrap();
    git(repo.root())
        .args(["commit", "-q", "-m", message])
        .run()
        .unwrap();
}

fn remote(repo: &MetaRepo, name: &str) -> PathBuf {
    repo.remotes().join(format!("{name}.git"))
}

fn check_json(root: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let out = meta_git(root)
        .args(["check", "pins", "--json"])
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(&out), stderr(&out)));
    (out.status.code(), json)
}

fn pin_of<'a>(json: &'a Value, path: &str, pin: &str) -> &'a Value {
    json["pins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == path && p["pin"] == pin)
        .unwrap_or_else(|| panic!("no pin {pin} of {path} in {json:#}"))
}

fn refs(dir: &Path) -> String {
    git(dir)
        .args(["for-each-ref", "--format=%(refname) %(objectname)"])
        .run()
        .unwrap()
}

#[test]
fn pins_pushed_local_only_and_landed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = fixture(dir.path());
    let root = repo.root();
    let alpha = root.join(ALPHA);
    let beta = root.join(BETA);
    git(&alpha)
        .args(["switch", "-q", "-c", "topic"])
        .run()
        .unwrap();
    let pushed = commit(&alpha, "alpha on topic");
    git(&alpha)
        .args(["push", "-q", "origin", "topic"])
        .run()
        .unwrap();
    let local = commit(&beta, "beta only here");
    record(&repo, &[ALPHA, BETA], "pin both");
    let before = (refs(&alpha), refs(&beta));

    let (code, json) = check_json(root, &[]);
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(json["ok"], false);
    assert_eq!(pin_of(&json, ALPHA, &pushed)["status"], "on-remote");
    assert_eq!(pin_of(&json, BETA, &local)["status"], "local-only");
    assert_eq!(json["summary"]["local_only"], 1);
    // Nothing left behind: no private refs, remote-tracking refs untouched.
    assert_eq!((refs(&alpha), refs(&beta)), before);

    // Text: one line per pin and a summary; the fix is named.
    let out = meta_git(root).args(["check", "pins"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let line = |path: &str| text.lines().find(|l| l.starts_with(path)).unwrap();
    assert!(
        line(BETA).contains(&format!("{}  local-only", &local[..7])),
        "{text}"
    );
    assert!(
        line(ALPHA).contains(&format!("{}  on-remote", &pushed[..7])),
        "{text}"
    );
    assert!(text.contains("2 pins in HEAD"), "{text}");
    assert!(stderr(&out).contains("meta push"), "{}", stderr(&out));

    // Pushed to main: beta lands; alpha is on the remote, not landed.
    git(&beta)
        .args(["push", "-q", "origin", "HEAD:refs/heads/main"])
        .run()
        .unwrap();
    let (code, json) = check_json(root, &[]);
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(pin_of(&json, BETA, &local)["status"], "landed");
    assert_eq!(pin_of(&json, BETA, &local)["tracked"], "main");
    let (code, json) = check_json(root, &["--landed"]);
    assert_eq!(code, Some(1), "{json:#}");
    // A pattern narrows to one project.
    let (code, json) = check_json(root, &["--landed", "beta"]);
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(json["pins"].as_array().unwrap().len(), 1);
}

#[test]
fn pins_stale_remote_tracking_refs_do_not_hide_a_lost_commit() {
    let dir = tempfile::tempdir().unwrap();
    let repo = fixture(dir.path());
    let root = repo.root();
    let alpha = root.join(ALPHA);
    git(&alpha)
        .args(["switch", "-q", "-c", "topic"])
        .run()
        .unwrap();
    let lost = commit(&alpha, "pushed, then force-pushed away");
    git(&alpha)
        .args(["push", "-q", "origin", "topic"])
        .run()
        .unwrap();
    record(&repo, &[ALPHA], "pin alpha");
    // Someone else force-pushes `topic` back: the remote loses the commit, while this clone's
    // origin/topic still claims it.
    git(&remote(&repo, "alpha"))
        .args(["update-ref", "refs/heads/topic", &format!("{lost}~1")])
        .run()
        .unwrap();
    let tracking = git(&alpha)
        .args(["rev-parse", "refs/remotes/origin/topic"])
        .run()
        .unwrap();
    assert_eq!(tracking.trim(), lost);

    let (code, json) = check_json(root, &[ALPHA]);
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(pin_of(&json, ALPHA, &lost)["status"], "local-only");
    // The stale ref is left as it was.
    let tracking = git(&alpha)
        .args(["rev-parse", "refs/remotes/origin/topic"])
        .run()
        .unwrap();
    assert_eq!(tracking.trim(), lost);
}

#[test]
fn pins_unreachable_remote_is_unverifiable() {
    let dir = tempfile::tempdir().unwrap();
    let repo = fixture(dir.path());
    let root = repo.root();
    let alpha = root.join(ALPHA);
    let missing = dir.path().join("no-such-remote.git");
    git(&alpha)
        .args(["remote", "set-url", "origin"])
        .arg(&missing)
        .run()
        .unwrap();
    let pin = head(&alpha);
    let (code, json) = check_json(root, &[]);
    assert_eq!(code, Some(1), "{json:#}");
    let alpha_pin = pin_of(&json, ALPHA, &pin);
    assert_eq!(alpha_pin["status"], "unverifiable");
    let detail = alpha_pin["detail"].as_str().unwrap();
    assert!(
        detail.contains("cannot ask the remote `origin`: fatal:"),
        "{detail}"
    );
    assert_eq!(
        pin_of(&json, BETA, &head(&root.join(BETA)))["status"],
        "landed"
    );
    assert_eq!(json["summary"]["unverifiable"], 1);
}

#[test]
fn pins_of_every_commit_in_a_range_and_a_rewind() {
    let dir = tempfile::tempdir().unwrap();
    let repo = fixture(dir.path());
    let root = repo.root();
    let alpha = root.join(ALPHA);
    let base = head(root);
    let first = commit(&alpha, "first, never pushed");
    record(&repo, &[ALPHA], "pin first");
    // The project goes back to main and takes another way, pushed.
    git(&alpha)
        .args(["switch", "-q", "-c", "other", "origin/main"])
        .run()
        .unwrap();
    let second = commit(&alpha, "second, pushed");
    git(&alpha)
        .args(["push", "-q", "origin", "other"])
        .run()
        .unwrap();
    record(&repo, &[ALPHA], "pin second");

    // HEAD alone: only the second pin, on the remote, rewound.
    let (code, json) = check_json(root, &[]);
    assert_eq!(code, Some(0), "{json:#}");
    let tip = pin_of(&json, ALPHA, &second);
    assert_eq!(tip["status"], "on-remote");
    assert_eq!(tip["rewound"], true);
    assert_eq!(tip["previous"], first.as_str());
    assert!(
        json["pins"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["pin"] != first.as_str())
    );

    // The range: both pins of alpha, the first caught as local-only.
    let range = format!("{base}..HEAD");
    let (code, json) = check_json(root, &[&range]);
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(pin_of(&json, ALPHA, &first)["status"], "local-only");
    assert_eq!(pin_of(&json, ALPHA, &second)["status"], "on-remote");
    assert_eq!(pin_of(&json, ALPHA, &second)["rewound"], true);
    assert_eq!(json["range"], range.as_str());
}

#[test]
fn pins_bad_input_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let repo = fixture(dir.path());
    let root = repo.root();
    let out = meta_git(root)
        .args(["check", "pins", "nope..HEAD"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("`nope..HEAD`"), "{}", stderr(&out));

    let out = meta_git(root)
        .args(["check", "pins", "zzz-nothing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no project matches `zzz-nothing`"),
        "{}",
        stderr(&out)
    );

    // --help documents --json.
    let out = meta_git(root)
        .args(["check", "pins", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = stdout(&out);
    assert!(help.contains("--json prints one object"), "{help}");
    assert!(help.contains("\"local-only\""), "{help}");
}

#[test]
fn pins_a_remote_that_never_answers_is_unverifiable_within_the_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let repo = fixture(dir.path());
    let root = repo.root();
    let alpha = root.join(ALPHA);
    git(&alpha)
        .args(["remote", "set-url", "origin", "ssh://git.invalid/alpha.git"])
        .run()
        .unwrap();
    let started = std::time::Instant::now();
    let out = meta_git(root)
        .env("GIT_SSH_COMMAND", "sleep 60;:")
        .args(["check", "pins", "--json", "--timeout", "2", ALPHA])
        .output()
        .unwrap();
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pin = pin_of(&json, ALPHA, &head(&alpha));
    assert_eq!(pin["status"], "unverifiable");
    assert!(
        pin["detail"]
            .as_str()
            .unwrap()
            .contains("did not answer within 2 s"),
        "{pin:#}"
    );
}

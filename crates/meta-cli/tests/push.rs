//! `meta push`: the real binary on fixture meta-repos (real git, local bare remotes for every
//! project and for the superproject). Projects reach their remotes before the superproject, a
//! fresh clone syncs every pin; a rejecting hook, an unreachable remote, a stale
//! remote-tracking ref, two commits pinning one project, `--force-with-lease`, `-o`,
//! `--dry-run`, `--json`, a detached superproject, and the event.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers as well as tests: a panic is the test failing, and says where"
)]

use std::path::{Path, PathBuf};
use std::process::Output;

use meta_test::{MetaRepo, git};
use serde_json::Value;

use crate::common::{logged_events, meta_git, stderr, stdout};

const TOPIC: &str = "feat/x";

/// A fixture whose superproject has a bare remote `origin` (`remotes/super.git`) holding
/// `main`, with `main` tracking it.
struct Setup {
    dir: tempfile::TempDir,
    repo: MetaRepo,
    upstream: PathBuf,
}

impl Setup {
    /// `count` projects from `MetaRepo::build` (its mix of states).
    fn build(count: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = MetaRepo::build(dir.path(), count).unwrap();
        Self::with_remote(dir, repo)
    }

    /// Projects `alpha`, `beta`, `gamma`… (as many as `names`), clean on `main` at their pins.
    fn small(names: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut repo = MetaRepo::build(dir.path(), 0).unwrap();
        for name in names {
            repo.add_project(name, "libraries").unwrap();
        }
        Self::with_remote(dir, repo)
    }

    fn with_remote(dir: tempfile::TempDir, repo: MetaRepo) -> Self {
        let upstream = repo.remotes().join("super.git");
        git(repo.remotes())
            .args(["init", "-q", "--bare"])
            .arg(&upstream)
            .run()
            .unwrap();
        repo.git()
            .args(["remote", "add", "origin"])
            .arg(&upstream)
            .run()
            .unwrap();
        repo.git()
            .args(["push", "-q", "-u", "origin", "main"])
            .run()
            .unwrap();
        Self {
            dir,
            repo,
            upstream,
        }
    }

    fn root(&self) -> &Path {
        self.repo.root()
    }

    fn path(&self, name: &str) -> String {
        self.repo
            .projects()
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .path
            .clone()
    }

    fn dir_of(&self, name: &str) -> PathBuf {
        self.root().join(self.path(name))
    }

    fn remote_of(&self, name: &str) -> PathBuf {
        self.repo.remotes().join(format!("{name}.git"))
    }

    fn meta(&self, args: &[&str]) -> Output {
        meta_git(self.root()).args(args).output().unwrap()
    }

    fn meta_ok(&self, args: &[&str]) -> Output {
        let out = self.meta(args);
        assert!(
            out.status.success(),
            "meta {args:?}: {}\n{}",
            stdout(&out),
            stderr(&out)
        );
        out
    }

    fn json(&self, args: &[&str]) -> (Option<i32>, Value) {
        let out = self.meta(args);
        let json = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(&out), stderr(&out)));
        (out.status.code(), json)
    }

    /// A new commit (adding `file`) on whatever HEAD is in project `name`; its id.
    fn commit_in(&self, name: &str, file: &str) -> String {
        let dir = self.dir_of(name);
        std::fs::write(dir.join(file), format!("{file} of {name}\n")).unwrap();
        git(&dir).args(["add", "--", file]).run().unwrap();
        git(&dir)
            .args(["commit", "-q", "-m", &format!("add {file}")])
            .run()
            .unwrap();
        rev(&dir, "HEAD").unwrap()
    }

    /// Records the projects' HEADs in one superproject commit; its id.
    fn record(&self, names: &[&str], message: &str) -> String {
        let paths: Vec<String> = names.iter().map(|n| self.path(n)).collect();
        self.repo
            .git()
            .args(["add", "--"])
            .args(&paths)
            .run()
            .unwrap();
        self.repo
            .git()
            .args(["commit", "-q", "-m", message])
            .run()
            .unwrap();
        rev(self.root(), "HEAD").unwrap()
    }

    /// `meta branch feat/x NAMES…`.
    fn branch(&self, names: &[&str]) {
        let mut args = vec!["branch", TOPIC];
        args.extend(names);
        self.meta_ok(&args);
    }
}

/// The commit `name` names in the repository (or bare repository) at `dir`.
fn rev(dir: &Path, name: &str) -> Option<String> {
    let out = git(dir)
        .args(["rev-parse", "-q", "--verify", "--end-of-options"])
        .arg(format!("{name}^{{commit}}"))
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn topic_on(bare: &Path) -> Option<String> {
    rev(bare, &format!("refs/heads/{TOPIC}"))
}

fn holds(bare: &Path, commit: &str) -> bool {
    git(bare)
        .args(["cat-file", "-e", &format!("{commit}^{{commit}}")])
        .output()
        .unwrap()
        .status
        .success()
}

/// Writes an executable hook.
fn hook(bare: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = bare.join("hooks").join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// HEAD and every ref of a repository: what "changes nothing" compares.
fn refs(dir: &Path) -> String {
    let listing = git(dir)
        .args(["for-each-ref", "--format=%(refname) %(objectname)"])
        .run()
        .unwrap();
    let head = git(dir)
        .args(["symbolic-ref", "-q", "HEAD"])
        .output()
        .unwrap();
    format!(
        "{}{}\n{listing}",
        String::from_utf8_lossy(&head.stdout),
        rev(dir, "HEAD").unwrap_or_default()
    )
}

fn project_json<'a>(json: &'a Value, path: &str) -> &'a Value {
    json["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == path)
        .unwrap_or_else(|| panic!("no project {path} in {json:#}"))
}

#[test]
fn push_a_topic_across_three_of_ten_projects_projects_first_then_a_clone_syncs() {
    let s = Setup::build(10);
    // Detached at its pin, with an untracked file, clean on main: three of the fixture's states.
    let names = ["repo001", "repo003", "repo007"];
    s.branch(&names);
    let pins: Vec<(String, String)> = names
        .iter()
        .map(|n| (s.path(n), s.commit_in(n, "topic.txt")))
        .collect();
    let commit = s.record(&names, "feat/x across three projects");

    // When the superproject's remote receives, it writes down what each project remote holds.
    let log = s.dir.path().join("order.log");
    let remotes: Vec<String> = names
        .iter()
        .map(|n| s.remote_of(n).display().to_string())
        .collect();
    hook(
        &s.upstream,
        "pre-receive",
        &format!(
            "unset GIT_DIR GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_QUARANTINE_PATH\n\
             for r in {}; do git --git-dir=\"$r\" rev-parse -q --verify refs/heads/{TOPIC} >> '{}' || echo missing >> '{}'; done\n\
             cat > /dev/null",
            remotes.join(" "),
            log.display(),
            log.display()
        ),
    );

    let out = s.meta_ok(&["push"]);
    let text = stdout(&out);
    for (path, _) in &pins {
        assert!(text.contains(&format!("pushed {path}:")), "{text}");
    }
    assert!(text.contains("pushed the superproject"), "{text}");
    assert!(text.contains("3 pins verified"), "{text}");
    // No upstream before: set, and said.
    assert!(stderr(&out).contains("had no upstream"), "{}", stderr(&out));
    let merge = git(s.root())
        .args(["config", "--get", &format!("branch.{TOPIC}.merge")])
        .run()
        .unwrap();
    assert_eq!(merge.trim(), format!("refs/heads/{TOPIC}"));

    // Every project branch was on its remote before the superproject's arrived.
    let seen = std::fs::read_to_string(&log).unwrap();
    let expected: Vec<&str> = pins.iter().map(|(_, pin)| pin.as_str()).collect();
    assert_eq!(seen.lines().collect::<Vec<_>>(), expected);
    assert_eq!(topic_on(&s.upstream).as_deref(), Some(commit.as_str()));
    // Projects outside the topic were not pushed.
    assert_eq!(topic_on(&s.remote_of("repo002")), None);

    // A teammate's fresh clone reaches every pin.
    let fresh = s.dir.path().join("fresh");
    git(s.dir.path())
        .args(["clone", "-q", "-b", TOPIC])
        .arg(&s.upstream)
        .arg(&fresh)
        .run()
        .unwrap();
    let out = meta_git(&fresh).args(["sync"]).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    for (path, pin) in &pins {
        assert_eq!(
            rev(&fresh.join(path), "HEAD").as_deref(),
            Some(pin.as_str())
        );
    }

    // Announced once, after the superproject's push.
    let events = logged_events(s.root(), "core:change:pushed");
    assert_eq!(events.len(), 1, "{events:?}");
    let data = &events[0]["data"];
    assert_eq!(data["topic"], TOPIC);
    assert_eq!(data["commit"], commit.as_str());
    let mut announced: Vec<(String, String)> = data["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap().to_owned(),
                p["commit"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    announced.sort();
    let mut sorted = pins.clone();
    sorted.sort();
    assert_eq!(announced, sorted);
    let states = logged_events(s.root(), "core:state:");
    assert!(
        states.iter().any(|e| e["data"]["name"] == "push"),
        "{states:?}"
    );

    // Again: nothing to push.
    let out = s.meta_ok(&["push"]);
    assert!(stdout(&out).contains("nothing to push"), "{}", stdout(&out));
}

#[test]
fn push_a_rejecting_project_hook_stops_before_the_superproject_and_a_rerun_pushes_what_is_missing()
{
    let s = Setup::small(&["alpha", "beta", "gamma"]);
    let names = ["alpha", "beta", "gamma"];
    s.branch(&names);
    for n in names {
        s.commit_in(n, "topic.txt");
    }
    let commit = s.record(&names, "feat/x");
    hook(
        &s.remote_of("beta"),
        "pre-receive",
        "echo 'beta is frozen today' >&2\nexit 1",
    );
    let before_alpha = topic_on(&s.remote_of("alpha"));
    assert_eq!(before_alpha, None);

    let out = s.meta(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    let beta = s.path("beta");
    assert!(err.contains(&format!("`{beta}`")), "{err}");
    assert!(err.contains("pre-receive hook declined"), "{err}");
    assert!(err.contains("beta is frozen today"), "{err}");
    assert!(err.contains("superproject was not pushed"), "{err}");
    assert_eq!(topic_on(&s.upstream), None);
    assert!(topic_on(&s.remote_of("alpha")).is_some());
    assert_eq!(topic_on(&s.remote_of("beta")), None);

    // Fixed: the re-run pushes beta alone, asks the others, then the superproject.
    std::fs::remove_file(s.remote_of("beta").join("hooks/pre-receive")).unwrap();
    let (code, json) = s.json(&["push", "--json"]);
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(project_json(&json, &beta)["action"], "push");
    assert_eq!(project_json(&json, &beta)["result"], "new");
    for other in ["alpha", "gamma"] {
        let p = project_json(&json, &s.path(other));
        assert_eq!(p["action"], "on-remote", "{json:#}");
        assert_eq!(p["asked"], true);
        assert_eq!(p["result"], Value::Null);
    }
    assert_eq!(json["plan"].as_array().unwrap().len(), 2, "{json:#}");
    assert_eq!(json["superproject"]["result"], "new");
    assert_eq!(topic_on(&s.upstream).as_deref(), Some(commit.as_str()));
}

#[test]
fn push_an_unreachable_project_remote_during_verification_is_refused() {
    let s = Setup::small(&["alpha", "beta"]);
    s.branch(&["alpha", "beta"]);
    s.commit_in("alpha", "a.txt");
    s.commit_in("beta", "b.txt");
    // beta's branch was pushed by hand (origin/feat/x claims it), then its remote moved away.
    git(&s.dir_of("beta"))
        .args(["push", "-q", "origin", TOPIC])
        .run()
        .unwrap();
    s.record(&["alpha", "beta"], "feat/x");
    std::fs::rename(s.remote_of("beta"), s.dir.path().join("moved.git")).unwrap();

    let out = s.meta(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("nothing was pushed"), "{err}");
    assert!(
        err.contains(&format!("`{}`: cannot verify", s.path("beta"))),
        "{err}"
    );
    assert!(err.contains("ls-remote origin"), "{err}");
    assert_eq!(topic_on(&s.upstream), None);
    assert_eq!(topic_on(&s.remote_of("alpha")), None);
    // No private refs left behind.
    for dir in [s.root().to_path_buf(), s.dir_of("alpha"), s.dir_of("beta")] {
        assert!(!refs(&dir).contains("refs/meta/check/"), "{}", refs(&dir));
    }
}

#[test]
fn push_a_stale_remote_tracking_ref_does_not_hide_a_lost_pin_and_a_detached_pin_is_refused() {
    let s = Setup::small(&["alpha", "beta"]);
    s.branch(&["alpha"]);
    let pin = s.commit_in("alpha", "a.txt");
    git(&s.dir_of("alpha"))
        .args(["push", "-q", "origin", TOPIC])
        .run()
        .unwrap();
    s.record(&["alpha"], "feat/x: alpha");
    // Someone force-pushes alpha's branch back; origin/feat/x here still claims the pin.
    git(&s.remote_of("alpha"))
        .args([
            "update-ref",
            &format!("refs/heads/{TOPIC}"),
            &format!("{pin}~1"),
        ])
        .run()
        .unwrap();
    assert_eq!(
        rev(&s.dir_of("alpha"), &format!("refs/remotes/origin/{TOPIC}")).as_deref(),
        Some(pin.as_str())
    );

    let (code, json) = s.json(&["push", "--json"]);
    assert_eq!(code, Some(0), "{json:#}");
    let alpha = project_json(&json, &s.path("alpha"));
    assert_eq!(alpha["action"], "push");
    assert_eq!(alpha["reason"], "remote-lacks");
    assert_eq!(alpha["asked"], true);
    assert_eq!(
        topic_on(&s.remote_of("alpha")).as_deref(),
        Some(pin.as_str())
    );

    // A pin committed on a detached HEAD, on no branch meta can push: refused, named.
    let beta_dir = s.dir_of("beta");
    git(&beta_dir)
        .args(["switch", "-q", "--detach"])
        .run()
        .unwrap();
    let loose = s.commit_in("beta", "b.txt");
    s.record(&["beta"], "feat/x: beta, detached");
    let out = s.meta(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("`{}`", s.path("beta"))), "{err}");
    assert!(err.contains(&loose[..7]), "{err}");
    assert!(err.contains("no branch meta can push"), "{err}");
    assert!(
        err.contains(&format!("branch {TOPIC} {loose}")),
        "the fix creates the branch: {err}"
    );
    assert!(!holds(&s.remote_of("beta"), &loose));
}

#[test]
fn push_two_outgoing_commits_pinning_one_project_put_both_pins_on_the_remote() {
    let s = Setup::small(&["alpha"]);
    s.branch(&["alpha"]);
    let first = s.commit_in("alpha", "one.txt");
    let s1 = s.record(&["alpha"], "first pin");
    let second = s.commit_in("alpha", "two.txt");
    let s2 = s.record(&["alpha"], "second pin");
    // A teammate moved the superproject remote's main on: a tip this clone has never seen, so
    // the remote's refs are fetched (privately) to tell what it lacks.
    let teammate = s.dir.path().join("teammate");
    git(s.dir.path())
        .args(["clone", "-q"])
        .arg(&s.upstream)
        .arg(&teammate)
        .run()
        .unwrap();
    git(&teammate)
        .args(["commit", "-q", "--allow-empty", "-m", "teammate"])
        .run()
        .unwrap();
    git(&teammate)
        .args(["push", "-q", "origin", "main"])
        .run()
        .unwrap();
    let before = refs(s.root());

    let (code, json) = s.json(&["push", "--json"]);
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(json["outgoing"], serde_json::json!([s1, s2]));
    let alpha = project_json(&json, &s.path("alpha"));
    assert_eq!(
        alpha["pins"],
        serde_json::json!([{"pin": first, "commit": s1}, {"pin": second, "commit": s2}])
    );
    assert!(holds(&s.remote_of("alpha"), &first));
    assert!(holds(&s.remote_of("alpha"), &second));
    // Only the upstream and origin/feat/x are new here: no private refs left.
    let after = refs(s.root());
    assert!(!after.contains("refs/meta/check/"), "{after}");
    assert_eq!(
        after.lines().count(),
        before.lines().count() + 1,
        "{before}\n{after}"
    );
}

#[test]
fn push_force_with_lease_replaces_an_unrecorded_tip_and_refuses_to_orphan_a_recorded_pin() {
    let s = Setup::small(&["alpha", "beta"]);
    s.branch(&["alpha", "beta"]);
    // beta's remote branch holds a commit no superproject commit records; beta moves on.
    let unrecorded = s.commit_in("beta", "draft.txt");
    git(&s.dir_of("beta"))
        .args(["push", "-q", "origin", TOPIC])
        .run()
        .unwrap();
    git(&s.dir_of("beta"))
        .args(["reset", "-q", "--hard", "HEAD~1"])
        .run()
        .unwrap();
    let rewritten = s.commit_in("beta", "final.txt");
    let recorded = s.commit_in("alpha", "a.txt");
    s.record(&["alpha", "beta"], "feat/x");

    // Without the flag, git refuses to replace beta's branch; the superproject waits.
    let out = s.meta(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("`{}`: [rejected]", s.path("beta"))),
        "{err}"
    );
    assert!(err.contains("--force-with-lease"), "{err}");
    assert_eq!(topic_on(&s.upstream), None);
    assert_eq!(
        topic_on(&s.remote_of("beta")).as_deref(),
        Some(unrecorded.as_str())
    );

    let (code, json) = s.json(&["push", "--force-with-lease", "--json"]);
    assert_eq!(code, Some(0), "{json:#}");
    let beta = project_json(&json, &s.path("beta"));
    assert_eq!(beta["forced"], true);
    assert_eq!(beta["result"], "forced");
    let lease = format!("--force-with-lease=refs/heads/{TOPIC}:{unrecorded}");
    assert!(
        json["plan"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains(&lease)),
        "{json:#}"
    );
    assert_eq!(
        topic_on(&s.remote_of("beta")).as_deref(),
        Some(rewritten.as_str())
    );

    // alpha's pushed pin is recorded by the superproject's remote: replacing it is refused.
    git(&s.dir_of("alpha"))
        .args(["reset", "-q", "--hard", "HEAD~1"])
        .run()
        .unwrap();
    s.commit_in("alpha", "other.txt");
    s.record(&["alpha"], "feat/x: alpha rewritten");
    let out = s.meta(&["push", "--force-with-lease"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("`{}`", s.path("alpha"))), "{err}");
    assert!(
        err.contains(&format!("would drop pin {}", &recorded[..7])),
        "{err}"
    );
    assert_eq!(
        topic_on(&s.remote_of("alpha")).as_deref(),
        Some(recorded.as_str())
    );
}

#[test]
fn push_options_reach_every_remote() {
    let s = Setup::small(&["alpha"]);
    s.branch(&["alpha"]);
    s.commit_in("alpha", "a.txt");
    s.record(&["alpha"], "feat/x");
    let seen = s.dir.path().join("options.log");
    for bare in [s.remote_of("alpha"), s.upstream.clone()] {
        git(&bare)
            .args(["config", "receive.advertisePushOptions", "true"])
            .run()
            .unwrap();
        hook(
            &bare,
            "pre-receive",
            &format!(
                "echo \"$(basename \"$PWD\") $GIT_PUSH_OPTION_COUNT $GIT_PUSH_OPTION_0\" >> '{}'\ncat > /dev/null",
                seen.display()
            ),
        );
    }
    s.meta_ok(&["push", "-o", "topic=feat-x"]);
    let mut lines: Vec<String> = std::fs::read_to_string(&seen)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        ["alpha.git 1 topic=feat-x", "super.git 1 topic=feat-x"]
    );
}

#[test]
fn push_dry_run_changes_nothing_json_is_documented_and_a_detached_superproject_is_refused() {
    let s = Setup::small(&["alpha", "beta", "gamma"]);
    let names = ["alpha", "beta", "gamma"];
    s.branch(&names);
    for n in names {
        s.commit_in(n, "topic.txt");
    }
    // alpha's branch is on its remote already: asked, not pushed.
    git(&s.dir_of("alpha"))
        .args(["push", "-q", "origin", TOPIC])
        .run()
        .unwrap();
    let commit = s.record(&names, "feat/x");
    let repos: Vec<PathBuf> = std::iter::once(s.root().to_path_buf())
        .chain(names.iter().map(|n| s.dir_of(n)))
        .chain(names.iter().map(|n| s.remote_of(n)))
        .chain([s.upstream.clone()])
        .collect();
    let snapshot = || repos.iter().map(|r| refs(r)).collect::<Vec<_>>();
    let before = snapshot();

    let out = s.meta_ok(&["push", "--dry-run"]);
    let refspec = format!("refs/heads/{TOPIC}:refs/heads/{TOPIC}");
    let expected = vec![
        format!(
            "git -C {} push --porcelain -- origin {refspec}",
            s.path("beta")
        ),
        format!(
            "git -C {} push --porcelain -- origin {refspec}",
            s.path("gamma")
        ),
        format!("git push --porcelain --recurse-submodules=no --set-upstream -- origin {refspec}"),
    ];
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), expected);
    assert!(stderr(&out).contains("not pushed"), "{}", stderr(&out));
    assert_eq!(snapshot(), before);

    let (code, json) = s.json(&["push", "--dry-run", "--json"]);
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["plan"], serde_json::json!(expected));
    assert_eq!(json["superproject"]["result"], Value::Null);
    assert_eq!(snapshot(), before);

    let (code, json) = s.json(&["push", "--json"]);
    assert_eq!(code, Some(0), "{json:#}");
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted_keys = keys.clone();
    sorted_keys.sort_unstable();
    assert_eq!(
        sorted_keys,
        [
            "commit",
            "dry_run",
            "nothing_to_push",
            "outgoing",
            "plan",
            "projects",
            "remote",
            "remote_commit",
            "set_upstream",
            "superproject",
            "topic"
        ]
    );
    assert_eq!(json["topic"], TOPIC);
    assert_eq!(json["remote"], "origin");
    assert_eq!(json["dry_run"], false);
    assert_eq!(json["nothing_to_push"], false);
    assert_eq!(json["commit"], commit.as_str());
    assert_eq!(json["remote_commit"], Value::Null);
    assert_eq!(json["outgoing"], serde_json::json!([commit]));
    assert_eq!(json["set_upstream"], true);
    assert_eq!(
        json["superproject"],
        serde_json::json!({"action": "push", "forced": false, "result": "new"})
    );
    let alpha = project_json(&json, &s.path("alpha"));
    assert_eq!(alpha["action"], "on-remote");
    assert_eq!(alpha["reason"], Value::Null);
    assert_eq!(alpha["asked"], true);
    let beta = project_json(&json, &s.path("beta"));
    let mut beta_keys: Vec<&str> = beta
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    beta_keys.sort_unstable();
    assert_eq!(
        beta_keys,
        [
            "action",
            "asked",
            "forced",
            "path",
            "pins",
            "reason",
            "remote_tip",
            "result",
            "tip"
        ]
    );
    assert_eq!(beta["action"], "push");
    assert_eq!(beta["reason"], "not-pushed");
    assert_eq!(beta["asked"], false);
    assert_eq!(beta["result"], "new");
    assert_eq!(beta["pins"][0]["commit"], commit.as_str());
    assert_eq!(beta["tip"], beta["pins"][0]["pin"]);

    let (code, json) = s.json(&["push", "--json"]);
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(json["nothing_to_push"], true);
    assert_eq!(json["plan"], serde_json::json!([]));

    // Detached: refused, saying how to attach.
    git(s.root())
        .args(["switch", "-q", "--detach"])
        .run()
        .unwrap();
    let out = s.meta(&["push"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("detached"), "{err}");
    assert!(err.contains("git switch -c"), "{err}");
}

#[test]
fn push_refuses_a_pin_of_a_project_not_cloned_and_a_superproject_without_its_remote() {
    // repo004 and repo005 of a 5-project fixture are not checked out.
    let s = Setup::build(5);
    let path = s.path("repo005");
    assert!(!s.root().join(&path).join(".git").exists());
    let older = rev(&s.remote_of("repo005"), "main~1").unwrap();
    s.repo
        .git()
        .args(["switch", "-q", "-c", TOPIC])
        .run()
        .unwrap();
    s.repo
        .git()
        .args(["update-index", "--cacheinfo"])
        .arg(format!("160000,{older},{path}"))
        .run()
        .unwrap();
    s.repo
        .git()
        .args(["commit", "-q", "-m", "pin repo005 back"])
        .run()
        .unwrap();

    let out = s.meta(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("`{path}` is not cloned here")),
        "{err}"
    );
    assert!(err.contains(&format!("meta sync {path}")), "{err}");
    assert_eq!(topic_on(&s.upstream), None);

    // No remote for the superproject: refused, saying how to add one.
    s.repo
        .git()
        .args(["remote", "remove", "origin"])
        .run()
        .unwrap();
    let out = s.meta(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the superproject has no remote `origin`"),
        "{err}"
    );
    assert!(err.contains("git remote add origin URL"), "{err}");
}

#[test]
fn push_a_selection_pushes_only_those_projects_and_still_verifies_every_pin() {
    let s = Setup::small(&["alpha", "beta"]);
    s.branch(&["alpha", "beta"]);
    s.commit_in("alpha", "a.txt");
    let beta_pin = s.commit_in("beta", "b.txt");
    s.record(&["alpha", "beta"], "feat/x");

    // beta is not selected and its remote lacks its pin: refused, nothing pushed.
    let out = s.meta(&["push", "alpha"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("`{}`", s.path("beta"))), "{err}");
    assert!(err.contains(&beta_pin[..7]), "{err}");
    assert!(err.contains("not among those selected"), "{err}");
    assert_eq!(topic_on(&s.remote_of("alpha")), None);
    assert_eq!(topic_on(&s.upstream), None);

    // Once beta's branch is on its remote (pushed another way), `meta push alpha` goes through.
    git(&s.dir_of("beta"))
        .args(["push", "-q", "origin", TOPIC])
        .run()
        .unwrap();
    let (code, json) = s.json(&["push", "alpha", "--json"]);
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(project_json(&json, &s.path("alpha"))["result"], "new");
    assert_eq!(project_json(&json, &s.path("beta"))["action"], "on-remote");
    assert_eq!(json["superproject"]["result"], "new");

    // A pattern matching no project is a usage error.
    let out = s.meta(&["push", "nosuch"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn push_verifies_projects_not_pushed_again_after_phase_one() {
    let s = Setup::small(&["alpha", "beta", "gamma"]);
    let names = ["alpha", "beta", "gamma"];
    s.branch(&names);
    for n in names {
        s.commit_in(n, "topic.txt");
    }
    // beta and gamma are on their remotes already (asked, not pushed); alpha is pushed.
    for n in ["beta", "gamma"] {
        git(&s.dir_of(n))
            .args(["push", "-q", "origin", TOPIC])
            .run()
            .unwrap();
    }
    s.record(&names, "feat/x");
    let unset =
        "unset GIT_DIR GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_QUARANTINE_PATH";

    // While alpha is being pushed, someone deletes beta's branch on its remote.
    hook(
        &s.remote_of("alpha"),
        "pre-receive",
        &format!(
            "{unset}\ngit --git-dir='{}' update-ref -d refs/heads/{TOPIC}\ncat > /dev/null",
            s.remote_of("beta").display()
        ),
    );
    let out = s.meta(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("superproject was not pushed"), "{err}");
    assert!(
        err.contains(&format!("`{}`: pin", s.path("beta"))) && err.contains("not any more"),
        "{err}"
    );
    assert_eq!(topic_on(&s.upstream), None);

    // While alpha is being pushed again, gamma's remote moves away: cannot verify, refused.
    git(&s.dir_of("beta"))
        .args(["push", "-q", "origin", TOPIC])
        .run()
        .unwrap();
    git(&s.remote_of("alpha"))
        .args(["update-ref", "-d", &format!("refs/heads/{TOPIC}")])
        .run()
        .unwrap();
    hook(
        &s.remote_of("alpha"),
        "pre-receive",
        &format!(
            "mv '{}' '{}'\ncat > /dev/null",
            s.remote_of("gamma").display(),
            s.dir.path().join("gamma-moved.git").display()
        ),
    );
    let out = s.meta(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("`{}`: cannot verify", s.path("gamma"))),
        "{err}"
    );
    assert_eq!(topic_on(&s.upstream), None);

    // Back in place: the re-run goes through.
    std::fs::rename(s.dir.path().join("gamma-moved.git"), s.remote_of("gamma")).unwrap();
    std::fs::remove_file(s.remote_of("alpha").join("hooks/pre-receive")).unwrap();
    s.meta_ok(&["push"]);
    assert!(topic_on(&s.upstream).is_some());
}

//! `meta health`: the real binary on healthy and broken meta-repos.

use std::path::Path;

use meta_test::{MetaRepo, State};
use serde_json::Value;

use crate::common::daemon::DaemonGuard;
use crate::common::{meta, stderr, stdout};

fn health_json(root: &Path) -> (Option<i32>, Value) {
    let out = meta(root)
        .args(["health", "--json"])
        .output()
        .expect("meta runs");
    let report = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(&out), stderr(&out)));
    (out.status.code(), report)
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks is an array")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"))
}

/// One clean project on `main`, every group folder present.
fn healthy(dir: &Path) -> MetaRepo {
    let mut repo = MetaRepo::build(dir, 0).expect("fixture builds");
    repo.add_project("app", "projects").expect("project added");
    for group in ["data_model", "libraries", "docs"] {
        std::fs::create_dir_all(repo.root().join("src").join(group)).expect("mkdir");
    }
    repo
}

#[test]
fn a_healthy_meta_repo_passes_every_check() {
    let dir = tempfile::tempdir().unwrap();
    let repo = healthy(dir.path());
    let (code, report) = health_json(repo.root());
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["status"], "pass", "{report:#}");
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    // No daemon runs, so no `bus-roundtrip`.
    assert_eq!(
        names,
        [
            "config",
            "git",
            "layout",
            "submodules",
            "pins",
            "event-log",
            "daemon",
            "plugins",
            "watch-limit"
        ]
    );
    for c in report["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "pass", "{c:#}");
        assert!(c["duration_ms"].as_f64().unwrap() >= 0.0);
        assert!(!c["message"].as_str().unwrap().is_empty());
        assert!(c.get("fix").is_none(), "{c:#}");
    }
    assert!(
        check(&report, "git")["message"]
            .as_str()
            .unwrap()
            .starts_with("git 2.")
    );

    let out = meta(repo.root()).arg("health").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("pass  submodules"), "{text}");
    assert!(text.trim_end().ends_with("overall: pass"), "{text}");
}

#[test]
fn submodule_problems_are_named_with_fixes_and_work_at_risk_fails() {
    let dir = tempfile::tempdir().unwrap();
    let repo = MetaRepo::with_edge_cases(dir.path()).unwrap();
    let (code, report) = health_json(repo.root());
    assert_eq!(code, Some(1));
    assert_eq!(report["status"], "fail");
    let submodules = check(&report, "submodules");
    assert_eq!(submodules["status"], "fail");
    let message = submodules["message"].as_str().unwrap();
    let path = |state| repo.project_in(state).unwrap().path.clone();
    for (what, state) in [
        ("work at risk in", State::DetachedWork),
        ("not initialised", State::Uninitialized),
        ("off their pin", State::OffPin),
        ("URL differs", State::UrlDiffers),
        ("never added", State::GitmodulesOnly),
    ] {
        assert!(message.contains(what), "{what}: {message}");
        assert!(message.contains(&path(state)), "{state:?}: {message}");
    }
    let fix = submodules["fix"].as_str().unwrap();
    for step in ["switch -c", "meta sync", "git submodule sync"] {
        assert!(fix.contains(step), "{step}: {fix}");
    }
    // The other checks still ran.
    assert_eq!(check(&report, "config")["status"], "pass");

    let out = meta(repo.root()).arg("health").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("fail  submodules"), "{text}");
    assert!(text.matches("fix:").count() >= 5, "{text}");
}

#[test]
fn a_broken_config_still_yields_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let repo = healthy(dir.path());
    std::fs::write(
        repo.root().join("meta/metarepo.toml"),
        "[metarepo]\nname = \"x\"\n\n[watch]\ndebounce = 5\n",
    )
    .unwrap();
    let (code, report) = health_json(repo.root());
    assert_eq!(code, Some(1));
    assert_eq!(report["status"], "fail");
    let config = check(&report, "config");
    assert_eq!(config["status"], "fail");
    let message = config["message"].as_str().unwrap();
    assert!(
        message.contains("debounce") && message.contains(":5:"),
        "{message}"
    );
    assert!(
        config["fix"].as_str().unwrap().contains("line 5"),
        "{config:#}"
    );
    // The rest carried on with the default groups.
    assert_eq!(check(&report, "layout")["status"], "pass");
    assert_eq!(check(&report, "submodules")["status"], "pass");
}

#[test]
fn layout_warns_with_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = healthy(dir.path());
    std::fs::write(repo.root().join(".gitignore"), "target/\n").unwrap();
    std::fs::remove_dir(repo.root().join("src/docs")).unwrap();
    let (code, report) = health_json(repo.root());
    assert_eq!(code, Some(0), "warnings do not fail");
    assert_eq!(report["status"], "warn");
    let layout = check(&report, "layout");
    assert_eq!(layout["status"], "warn");
    let message = layout["message"].as_str().unwrap();
    assert!(
        message.contains("src/docs") && message.contains(".meta/"),
        "{message}"
    );
    let fix = layout["fix"].as_str().unwrap();
    assert!(
        fix.contains("mkdir -p src/docs") && fix.contains("`.meta/` to `.gitignore`"),
        "{fix}"
    );
}

#[test]
fn missing_git_fails_the_git_check_only() {
    let dir = tempfile::tempdir().unwrap();
    let repo = healthy(dir.path());
    let empty = tempfile::tempdir().unwrap();
    let out = meta(repo.root())
        .args(["health", "--json"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let git = check(&report, "git");
    assert_eq!(git["status"], "fail");
    assert!(git["fix"].as_str().unwrap().contains("install git"));
    assert_eq!(
        check(&report, "submodules")["status"],
        "pass",
        "status needs no git"
    );
}

#[test]
fn outside_a_meta_repo_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path())
        .args(["health", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("not inside a meta-repo") && err.contains("meta init"),
        "{err}"
    );
}

#[test]
fn with_a_daemon_the_bus_round_trip_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let repo = healthy(dir.path());
    let _daemon = DaemonGuard::start(repo.root());
    let (code, report) = health_json(repo.root());
    assert_eq!(code, Some(0), "{report:#}");
    let daemon = check(&report, "daemon");
    assert_eq!(daemon["status"], "pass", "{daemon:#}");
    assert!(
        daemon["message"]
            .as_str()
            .unwrap()
            .contains("ping answered"),
        "{daemon:#}"
    );
    let roundtrip = check(&report, "bus-roundtrip");
    assert_eq!(roundtrip["status"], "pass", "{roundtrip:#}");
    // The probe really went through the bus: the daemon logged it.
    let log = std::fs::read_to_string(
        meta_events::log::list_segments(&repo.root().join(".meta/events")).unwrap()[0]
            .path
            .clone(),
    )
    .unwrap();
    assert!(log.contains("\"type\":\"core:health:probe\""), "{log}");
}

#[test]
fn a_damaged_event_log_fails_and_a_torn_tail_warns() {
    let dir = tempfile::tempdir().unwrap();
    let repo = healthy(dir.path());
    for ty in ["t:one:x", "t:two:x", "t:three:x"] {
        let out = meta(repo.root())
            .args(["events", "publish", ty])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let segment = meta_events::log::list_segments(&repo.root().join(".meta/events")).unwrap()[0]
        .path
        .clone();
    let whole = std::fs::read_to_string(&segment).unwrap();
    let (_, report) = health_json(repo.root());
    let log = check(&report, "event-log");
    assert_eq!(log["status"], "pass", "{log:#}");
    assert!(
        log["message"].as_str().unwrap().starts_with("3 events"),
        "{log:#}"
    );

    // A crash mid-write: a torn last line is repaired by the next writer, so only a warning.
    std::fs::write(&segment, format!("{whole}{{\"type\":\"t:four")).unwrap();
    let (code, report) = health_json(repo.root());
    assert_eq!(check(&report, "event-log")["status"], "warn", "{report:#}");
    assert_eq!(code, Some(0));

    // A line lost from the middle: the sequence jumps, which is damage.
    let lines: Vec<&str> = whole.lines().collect();
    std::fs::write(&segment, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    let (code, report) = health_json(repo.root());
    let log = check(&report, "event-log");
    assert_eq!(log["status"], "fail", "{log:#}");
    assert!(
        log["message"].as_str().unwrap().contains("line 2"),
        "{log:#}"
    );
    assert!(
        log["fix"].as_str().unwrap().contains(".meta/events"),
        "{log:#}"
    );
    assert_eq!(code, Some(1));
}

#[test]
fn a_daemon_that_holds_the_lock_but_does_not_answer_fails() {
    let dir = tempfile::tempdir().unwrap();
    let repo = healthy(dir.path());
    let daemon = DaemonGuard::start(repo.root());
    let pid = meta_events::state::read(&repo.root().join(".meta/run"))
        .unwrap()
        .pid;
    // Frozen: it keeps its lock but answers nothing.
    std::process::Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status()
        .unwrap();
    let (code, report) = health_json(repo.root());
    std::process::Command::new("kill")
        .args(["-CONT", &pid.to_string()])
        .status()
        .unwrap();
    drop(daemon);
    assert_eq!(code, Some(1), "{report:#}");
    let check_daemon = check(&report, "daemon");
    assert_eq!(check_daemon["status"], "fail", "{check_daemon:#}");
    assert!(
        check_daemon["fix"].as_str().unwrap().contains("daemon.log"),
        "{check_daemon:#}"
    );
    assert_eq!(
        check(&report, "bus-roundtrip")["status"],
        "fail",
        "{report:#}"
    );
}

#[test]
fn plugin_problems_fail_with_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = healthy(dir.path());
    let source = dir.path().join("greeter");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(
        source.join("meta-plugin.toml"),
        "api = 1\n\n[plugin]\nname = \"greeter\"\nversion = \"0.1.0\"\ndescription = \"d\"\n\n[[command]]\nname = \"greet\"\nabout = \"a\"\nexec = [\"bash\", \"greet.sh\"]\n\n[[command]]\nname = \"gone\"\nabout = \"b\"\nexec = [\"no-such-program-anywhere\"]\n",
    )
    .unwrap();
    std::fs::write(source.join("greet.sh"), "echo hi\n").unwrap();
    let out = meta(repo.root())
        .args(["plugin", "install"])
        .arg(&source)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let (code, report) = health_json(repo.root());
    let plugins = check(&report, "plugins");
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(plugins["status"], "fail", "{plugins:#}");
    let message = plugins["message"].as_str().unwrap();
    assert!(message.contains("no-such-program-anywhere"), "{message}");
    assert!(!message.contains("`bash`"), "bash is on PATH: {message}");

    // Tampering after install, and a folder whose manifest no longer loads.
    std::fs::write(
        repo.root().join("meta/plugins/greeter/greet.sh"),
        "echo changed\n",
    )
    .unwrap();
    std::fs::create_dir_all(repo.root().join("meta/plugins/broken")).unwrap();
    std::fs::write(
        repo.root().join("meta/plugins/broken/meta-plugin.toml"),
        "api = 1\n",
    )
    .unwrap();
    let (_, report) = health_json(repo.root());
    let plugins = check(&report, "plugins");
    let message = plugins["message"].as_str().unwrap();
    assert!(
        message.contains("changed since it was installed"),
        "{message}"
    );
    assert!(message.contains("broken"), "{message}");
    let fix = plugins["fix"].as_str().unwrap();
    assert!(fix.contains("meta plugin trust greeter"), "{fix}");
}

#[test]
fn with_a_daemon_each_enabled_service_must_run() {
    let dir = tempfile::tempdir().unwrap();
    let repo = healthy(dir.path());
    let (_, report) = health_json(repo.root());
    assert!(
        check(&report, "plugins")["message"]
            .as_str()
            .unwrap()
            .contains("1 service(s) (they run with the daemon, which is not running)"),
        "{report:#}"
    );
    // A service that ends by itself, successfully: not restarted, so not running.
    let source = dir.path().join("quick");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(
        source.join("meta-plugin.toml"),
        "api = 1\n\n[plugin]\nname = \"quick\"\nversion = \"0.1.0\"\ndescription = \"d\"\n\n[service]\nexec = [\"sh\", \"-c\", \"exit 0\"]\nrestart = \"on-failure\"\n",
    )
    .unwrap();
    let out = meta(repo.root())
        .args(["plugin", "install"])
        .arg(&source)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let _daemon = DaemonGuard::start(repo.root());

    // The built-in watcher runs and `quick` has come and gone (both take a moment).
    let started = std::time::Instant::now();
    let (code, report) = loop {
        let (code, report) = health_json(repo.root());
        let message = check(&report, "plugins")["message"].as_str().unwrap();
        if message.contains("1 of 2 service(s) running") && message.contains("`quick`") {
            break (code, report);
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{report:#}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let plugins = check(&report, "plugins");
    assert_eq!(plugins["status"], "warn", "{plugins:#}");
    assert!(
        plugins["message"]
            .as_str()
            .unwrap()
            .contains("the service of plugin `quick` is not running: it exited with status 0"),
        "{plugins:#}"
    );
    assert!(
        plugins["fix"]
            .as_str()
            .unwrap()
            .contains("`meta plugin enable quick` starts it again"),
        "{plugins:#}"
    );
    assert_eq!(code, Some(0), "a warning does not fail: {report:#}");
}

#[test]
fn a_pin_no_remote_tracking_ref_holds_warns_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let repo = healthy(dir.path());
    let root = repo.root();
    let app = root.join("src/projects/app");
    std::fs::write(app.join("local.txt"), "only here").unwrap();
    meta_test::git(&app)
        .args(["add", "local.txt"])
        .run()
        .unwrap();
    meta_test::git(&app)
        .args(["commit", "-q", "-m", "only here"])
        .run()
        .unwrap();
    meta_test::git(root)
        .args(["commit", "-q", "-am", "pin a local commit"])
        .run()
        .unwrap();
    let (code, report) = health_json(root);
    assert_eq!(code, Some(0), "{report:#}");
    let pins = check(&report, "pins");
    assert_eq!(pins["status"], "warn", "{pins:#}");
    assert!(
        pins["message"]
            .as_str()
            .unwrap()
            .contains("src/projects/app"),
        "{pins:#}"
    );
    let fix = pins["fix"].as_str().unwrap();
    assert!(fix.contains("meta push"), "{fix}");
    assert!(
        fix.contains("git -C src/projects/app push origin "),
        "{fix}"
    );

    // Pushed: the check passes.
    meta_test::git(&app)
        .args(["push", "-q", "origin", "HEAD:refs/heads/main"])
        .run()
        .unwrap();
    let (_, report) = health_json(root);
    assert_eq!(check(&report, "pins")["status"], "pass", "{report:#}");
}

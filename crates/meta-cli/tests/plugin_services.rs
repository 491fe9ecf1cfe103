//! Plugin services end to end: the real `meta` binary, a real daemon started with
//! `meta daemon start`, real service processes (bash scripts, the Rust example built by cargo,
//! the Python example on pyzmq), events watched on the bus and in the log.

// Helpers outside `#[test]` functions panic on failure too: that is how a test fails.
#![allow(clippy::unwrap_used)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use meta_events::{Client, Event};
use serde_json::{Value, json};

use crate::common::{meta, stderr, stdout, wait_until};

/// Upper bound for anything a test waits on.
const WAIT: Duration = Duration::from_secs(30);

/// A service that says where it runs, then sleeps until stopped.
const SLEEPER: &str = "echo \"up: $META_PLUGIN_NAME $META_API $PWD\"\nexec sleep 1000\n";

struct Repo {
    tmp: tempfile::TempDir,
    root: PathBuf,
    /// `PATH` for every `meta` run (and so for the daemon and its services).
    path: Option<OsString>,
}

impl Repo {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(root.join("meta")).unwrap();
        std::fs::write(
            root.join("meta/metarepo.toml"),
            "[metarepo]\nname = \"demo\"\n",
        )
        .unwrap();
        Self {
            tmp,
            root,
            path: None,
        }
    }

    fn meta(&self) -> assert_cmd::Command {
        let mut cmd = meta(&self.root);
        cmd.timeout(WAIT);
        if let Some(path) = &self.path {
            cmd.env("PATH", path);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.meta().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "meta {args:?} failed:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    }

    /// A plugin source folder whose service runs `script` with bash.
    fn service_plugin(&self, name: &str, script: &str, restart: &str) -> PathBuf {
        let dir = self.tmp.path().join("src").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("meta-plugin.toml"),
            format!(
                "api = 1\n[plugin]\nname = \"{name}\"\nversion = \"0.3.0\"\n[service]\nexec = [\"bash\", \"run.sh\"]\nrestart = \"{restart}\"\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("run.sh"), script).unwrap();
        dir
    }

    fn install(&self, source: &Path) -> Output {
        let out = self
            .meta()
            .args(["plugin", "install"])
            .arg(source)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        out
    }

    /// Makes the meta-repo a git repository (before the daemon starts, so it is followed).
    fn git_init(&self) {
        meta_test::git(&self.root)
            .args(["init", "-q", "-b", "main"])
            .run()
            .unwrap();
    }

    /// `git checkout -b NAME` in the meta-repo, once the watcher follows it.
    fn switch_branch(&self, name: &str) {
        wait_until("the watcher to be up", || {
            self.service_log("watch").contains("watching")
        });
        meta_test::git(&self.root)
            .args(["checkout", "-q", "-b", name])
            .run()
            .unwrap();
    }

    fn start_daemon(&self) -> DaemonGuard {
        self.ok(&["daemon", "start"]);
        DaemonGuard {
            root: self.root.clone(),
        }
    }

    fn workspace(&self) -> meta_workspace::Workspace {
        meta_workspace::Workspace::open(&self.root).unwrap()
    }

    fn list(&self) -> Vec<Value> {
        let out = self.ok(&["plugin", "list", "--json"]);
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `service` of `name` in `meta plugin list --json`.
    fn service(&self, name: &str) -> Value {
        self.list()
            .into_iter()
            .find(|p| p["name"] == name)
            .map_or(Value::Null, |p| p["service"].clone())
    }

    fn wait_service(&self, name: &str, state: &str) -> Value {
        let started = Instant::now();
        loop {
            let service = self.service(name);
            if service["state"] == state {
                return service;
            }
            assert!(
                started.elapsed() < WAIT,
                "timed out waiting for the service of `{name}` to be {state}; last: {service}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn daemon_status(&self) -> Value {
        serde_json::from_slice(&self.ok(&["daemon", "status", "--json"]).stdout).unwrap()
    }

    /// Waits until `n` subscribers are connected to the bus (a subscription made just now
    /// would otherwise miss what is published first).
    fn wait_subscribers(&self, n: u64) {
        wait_until("subscribers to connect", || {
            self.daemon_status()["counters"]["subscribers"]
                .as_u64()
                .unwrap_or(0)
                >= n
        });
    }

    /// Every whole event in the log.
    fn log(&self) -> Vec<Event> {
        let dir = self.workspace().events_dir();
        let mut events = Vec::new();
        for segment in meta_events::log::list_segments(&dir).unwrap() {
            let text = std::fs::read_to_string(&segment.path).unwrap();
            for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
                events.push(Event::from_json(line.trim_end().as_bytes()).unwrap());
            }
        }
        events
    }

    fn wait_event(&self, what: &str, matches: impl Fn(&Event) -> bool) -> Event {
        let started = Instant::now();
        loop {
            if let Some(event) = self.log().into_iter().find(&matches) {
                return event;
            }
            assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn service_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.root.join(format!(".meta/run/plugins/{name}.log")))
            .unwrap_or_default()
    }
}

/// Stops the daemon when the test ends, however it ends; kills it if it will not stop.
struct DaemonGuard {
    root: PathBuf,
}

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        let run_dir = self.root.join(".meta/run");
        let pid = meta_events::state::read(&run_dir).map(|s| s.pid);
        let _ = meta(&self.root)
            .args(["daemon", "stop"])
            .timeout(Duration::from_secs(20))
            .output();
        if meta_events::lock::daemon_running(&run_dir)
            && let Some(pid) = pid
        {
            kill(u64::from(pid), "-9");
        }
    }
}

fn kill(pid: u64, signal: &str) {
    let _ = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status();
}

/// Is `pid` a live process (neither gone nor a zombie)?
fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}

/// Children of `parent` that exited and were not reaped.
fn zombies_of(parent: u64) -> Vec<u64> {
    let mut zombies = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u64>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After the parenthesised name: state, then the parent's pid.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") && fields.get(1) == Some(&parent.to_string().as_str()) {
            zombies.push(pid);
        }
    }
    zombies
}

fn pid_of(service: &Value) -> u64 {
    service["pid"]
        .as_u64()
        .unwrap_or_else(|| panic!("no pid in {service}"))
}

/// Collects the events about plugin `name` from a bus subscription until one of type `last`
/// arrives (events about other plugins, such as the built-in `watch`, are skipped).
fn collect(
    subscription: &mut meta_events::Subscription,
    name: &str,
    last: &str,
) -> Vec<(String, Value)> {
    let mut seen = Vec::new();
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < WAIT,
            "timed out waiting for `{last}` on the bus; saw {seen:?}"
        );
        let Some(received) = subscription.recv(Some(Duration::from_millis(200))).unwrap() else {
            continue;
        };
        let event = received.event().unwrap();
        let ty = event.ty().to_owned();
        let data = event.data.unwrap_or(Value::Null);
        if data["name"] != name {
            continue;
        }
        seen.push((ty.clone(), data));
        if ty == last {
            return seen;
        }
    }
}

#[test]
fn services_follow_install_disable_enable_and_uninstall_in_a_running_daemon() {
    let repo = Repo::new();
    let _daemon = repo.start_daemon();
    let mut bus = Client::for_workspace(&repo.workspace())
        .subscribe(&["core:plugin"])
        .unwrap();
    repo.wait_subscribers(1);

    // Install: the running daemon takes it in at once.
    let source = repo.service_plugin("svc", SLEEPER, "on-failure");
    let out = repo.install(&source);
    assert!(
        stderr(&out).contains("service: starting in the running daemon"),
        "{}",
        stderr(&out)
    );
    let events = collect(&mut bus, "svc", "core:plugin:loaded");
    let service = repo.wait_service("svc", "running");
    let first = pid_of(&service);
    assert!(alive(first));
    assert_eq!(service["restarts"], 0);
    assert_eq!(
        events,
        [
            (
                "core:plugin:installed".to_owned(),
                json!({"name": "svc", "version": "0.3.0", "source": source.to_string_lossy()})
            ),
            (
                "core:plugin:loaded".to_owned(),
                json!({"name": "svc", "version": "0.3.0", "pid": first})
            ),
        ]
    );
    let plain = stdout(&repo.ok(&["plugin", "list"]));
    assert!(plain.contains(&format!("running (pid {first})")), "{plain}");
    // The service got the plugin environment and runs at the root.
    wait_until("the service's first words", || {
        repo.service_log("svc")
            .contains(&format!("up: svc 1 {}", repo.root.display()))
    });

    // Disable: the service stops before the command returns.
    let out = repo.ok(&["plugin", "disable", "svc"]);
    assert!(stderr(&out).contains("service: stopped by the daemon"));
    assert!(!alive(first), "the service outlived its plugin's disable");
    assert_eq!(repo.service("svc")["state"], "stopped");
    assert_eq!(
        collect(&mut bus, "svc", "core:plugin:unloaded"),
        [
            ("core:plugin:disabled".to_owned(), json!({"name": "svc"})),
            (
                "core:plugin:unloaded".to_owned(),
                json!({"name": "svc", "version": "0.3.0", "pid": first})
            ),
        ]
    );

    // Enable: a new process.
    repo.ok(&["plugin", "enable", "svc"]);
    let events = collect(&mut bus, "svc", "core:plugin:loaded");
    let second = pid_of(&repo.wait_service("svc", "running"));
    assert_ne!(second, first);
    assert_eq!(
        events[0],
        ("core:plugin:enabled".to_owned(), json!({"name": "svc"}))
    );
    assert_eq!(events[1].1["pid"], second);
    let status = stdout(&repo.ok(&["daemon", "status"]));
    assert!(
        status.contains(&format!("svc: running (pid {second})")),
        "{status}"
    );

    // Uninstall: the service stops, and nothing of the plugin is left.
    repo.ok(&["plugin", "uninstall", "svc"]);
    assert!(
        !alive(second),
        "the service outlived its plugin's uninstall"
    );
    let events = collect(&mut bus, "svc", "core:plugin:unloaded");
    assert_eq!(
        events[0],
        (
            "core:plugin:uninstalled".to_owned(),
            json!({"name": "svc", "version": "0.3.0", "source": source.to_string_lossy()})
        )
    );
    let left: Vec<Value> = repo.list().iter().map(|p| p["name"].clone()).collect();
    assert_eq!(left, ["watch"], "only the built-in is left");
    assert!(!repo.root.join("meta/plugins/svc").exists());
    assert!(!repo.root.join("meta/plugins.lock").exists());
    assert!(!repo.root.join(".meta/run/plugins/svc.log").exists());
    assert!(
        !std::fs::read_to_string(repo.root.join("meta/metarepo.toml"))
            .unwrap()
            .contains("svc")
    );
}

#[test]
fn without_a_daemon_services_are_stopped_and_events_still_logged() {
    let repo = Repo::new();
    let source = repo.service_plugin("svc", SLEEPER, "on-failure");
    let out = repo.install(&source);
    assert!(
        stderr(&out).contains("starts with the daemon"),
        "{}",
        stderr(&out)
    );
    let service = repo.service("svc");
    assert_eq!(
        service,
        json!({"state": "stopped", "pid": null, "restarts": 0})
    );
    repo.ok(&["plugin", "disable", "svc"]);
    repo.ok(&["plugin", "enable", "svc"]);
    repo.ok(&["plugin", "uninstall", "svc"]);
    let types: Vec<String> = repo.log().iter().map(|e| e.ty().to_owned()).collect();
    assert_eq!(
        types,
        [
            "core:plugin:installed",
            "core:plugin:disabled",
            "core:plugin:enabled",
            "core:plugin:uninstalled"
        ]
    );
    assert!(
        repo.log()
            .iter()
            .all(|e| e.source.as_deref() == Some("/meta/cli"))
    );
}

#[test]
fn a_daemon_started_without_plugins_runs_built_in_services_only() {
    let repo = Repo::new();
    repo.install(&repo.service_plugin("svc", SLEEPER, "on-failure"));
    repo.ok(&["--no-plugins", "daemon", "start"]);
    let _daemon = DaemonGuard {
        root: repo.root.clone(),
    };
    repo.wait_service("watch", "running");
    // One reload takes in every enabled plugin: were `svc` hosted, it would be at least
    // `starting` by now, and listed as loaded.
    assert_eq!(repo.service("svc")["state"], "stopped");
    let host = &repo.daemon_status()["components"]["plugins"];
    assert_eq!(host["loaded"], json!(["watch"]), "{host}");
}

#[test]
fn a_service_crashing_once_is_restarted_and_one_crashing_in_a_loop_ends_failed() {
    let repo = Repo::new();
    repo.install(&repo.service_plugin(
        "flaky",
        "if [ ! -e \"$META_ROOT/crashed\" ]; then touch \"$META_ROOT/crashed\"; exit 7; fi\nexec sleep 1000\n",
        "on-failure",
    ));
    repo.install(&repo.service_plugin(
        "doomed",
        "echo 'config file missing: doomed.toml' >&2\nexit 1\n",
        "on-failure",
    ));
    let _daemon = repo.start_daemon();

    let flaky = repo.wait_service("flaky", "running");
    wait_until("flaky to have crashed once and come back", || {
        repo.service("flaky")["restarts"] == 1 && repo.service("flaky")["state"] == "running"
    });
    assert!(alive(pid_of(&repo.service("flaky"))), "{flaky}");

    let doomed = repo.wait_service("doomed", "failed");
    assert_eq!(
        doomed,
        json!({"state": "failed", "pid": null, "restarts": 4})
    );
    // Five processes came and went: every one was reaped.
    let daemon = repo.daemon_status()["pid"].as_u64().unwrap();
    assert_eq!(zombies_of(daemon), Vec::<u64>::new(), "unreaped children");
    let plain = stdout(&repo.ok(&["plugin", "list"]));
    assert!(
        plain.contains("doomed: service failed: it exited with status 1 5 times in a row"),
        "{plain}"
    );
    assert!(
        plain.contains("gave up; its last output: config file missing: doomed.toml"),
        "{plain}"
    );
    assert!(
        plain.contains("its log: .meta/run/plugins/doomed.log"),
        "{plain}"
    );
    let info = stdout(&repo.ok(&["plugin", "info", "doomed"]));
    assert!(info.contains("failed, 4 restarts"), "{info}");
    let status = stdout(&repo.ok(&["daemon", "status"]));
    assert!(
        status.contains("doomed: failed, 4 restarts: it exited"),
        "{status}"
    );
    let status = stdout(&repo.ok(&["status"]));
    assert!(status.contains("doomed (service failed)"), "{status}");
    assert!(status.contains("flaky (service running)"), "{status}");
    let health = stdout(&repo.run(&["health"]));
    assert!(
        health.contains("the daemon gave up on the service of plugin `doomed`"),
        "{health}"
    );
    assert!(
        health.contains("`meta plugin enable doomed` starts it again"),
        "{health}"
    );
    // The daemon let it go; `enable` gives it another chance (and it fails the same way).
    let unloaded = repo.wait_event("doomed unloaded", |e| {
        e.ty() == "core:plugin:unloaded" && e.data.as_ref().unwrap()["name"] == "doomed"
    });
    assert!(unloaded.data.unwrap()["pid"].is_u64());
    let out = repo.ok(&["plugin", "enable", "doomed"]);
    assert!(stderr(&out).contains("already enabled"), "{}", stderr(&out));
    wait_until("the retried service to fail again", || {
        repo.service_log("doomed")
            .lines()
            .filter(|l| *l == "config file missing: doomed.toml")
            .count()
            == 10
    });
    repo.wait_service("doomed", "failed");
}

#[test]
fn a_service_whose_program_is_missing_fails_saying_what_to_do() {
    let repo = Repo::new();
    let source = repo.tmp.path().join("src/absent");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(
        source.join("meta-plugin.toml"),
        "api = 1\n[plugin]\nname = \"absent\"\nversion = \"0.1.0\"\n[service]\nexec = [\"no-such-program-for-meta-tests\"]\n",
    )
    .unwrap();
    repo.install(&source);
    let _daemon = repo.start_daemon();
    repo.wait_service("absent", "failed");
    let plain = stdout(&repo.ok(&["plugin", "list"]));
    assert!(
        plain.contains(
            "its last output: error: cannot start `no-such-program-for-meta-tests`: not found; install it or fix `[service].exec` in meta/plugins/absent/meta-plugin.toml. Fix it,"
        ),
        "{plain}"
    );
    assert!(!plain.contains("os error"), "{plain}");
}

#[test]
fn tampering_after_install_keeps_the_service_from_starting_until_trusted() {
    let repo = Repo::new();
    let source = repo.service_plugin("guarded", SLEEPER, "on-failure");
    repo.install(&source);
    std::fs::write(
        repo.root.join("meta/plugins/guarded/run.sh"),
        "echo 'pwned'\nexec sleep 1000\n",
    )
    .unwrap();
    let _daemon = repo.start_daemon();
    repo.wait_service("guarded", "failed");
    let plain = stdout(&repo.ok(&["plugin", "list"]));
    assert!(
        plain.contains("guarded: service failed: plugin `guarded` changed since it was installed"),
        "{plain}"
    );
    assert!(
        plain.contains("trust it: `meta plugin trust guarded`"),
        "{plain}"
    );
    assert!(
        plain.contains(&format!(
            "to restore what was installed instead: `meta plugin install --force {}`",
            source.canonicalize().unwrap().display()
        )),
        "{plain}"
    );
    let log = repo.service_log("guarded");
    assert!(log.contains("meta plugin trust guarded"), "{log}");
    assert!(!log.contains("pwned"), "the tampered service ran: {log}");
    assert!(
        !repo.log().iter().any(
            |e| e.ty() == "core:plugin:loaded" && e.data.as_ref().unwrap()["name"] == "guarded"
        )
    );

    repo.ok(&["plugin", "trust", "guarded"]);
    let service = repo.wait_service("guarded", "running");
    assert!(alive(pid_of(&service)));
    wait_until("the trusted content to run", || {
        repo.service_log("guarded").contains("pwned")
    });
}

#[test]
fn daemon_stop_and_kill_9_leave_no_service_running() {
    let repo = Repo::new();
    repo.install(&repo.service_plugin("one", SLEEPER, "on-failure"));
    repo.install(&repo.service_plugin("two", SLEEPER, "always"));
    let guard = repo.start_daemon();
    let one = pid_of(&repo.wait_service("one", "running"));
    let two = pid_of(&repo.wait_service("two", "running"));
    repo.ok(&["daemon", "stop"]);
    assert!(
        !alive(one) && !alive(two),
        "services outlived `meta daemon stop`"
    );
    let log = repo.log();
    assert_eq!(log.last().unwrap().ty(), "core:system:shutdown");
    let unloaded: Vec<&Value> = log
        .iter()
        .filter(|e| e.ty() == "core:plugin:unloaded")
        .map(|e| &e.data.as_ref().unwrap()["pid"])
        .collect();
    assert!(
        unloaded.contains(&&json!(one)) && unloaded.contains(&&json!(two)),
        "{unloaded:?}"
    );
    assert_eq!(repo.service("one")["state"], "stopped");

    // Killed outright, the daemon cannot stop them: the kernel does.
    repo.ok(&["daemon", "start"]);
    let one = pid_of(&repo.wait_service("one", "running"));
    let two = pid_of(&repo.wait_service("two", "running"));
    let daemon = repo.daemon_status()["pid"].as_u64().unwrap();
    kill(daemon, "-9");
    wait_until("the services to die with the daemon", || {
        !alive(one) && !alive(two)
    });
    drop(guard);
}

/// The Rust example plugin's binary (`examples/hello-rs`, a workspace member). `cargo test
/// --workspace` (what CI runs) builds it beside `meta`, because hello-rs has integration tests of
/// its own, and every artifact is built before any test starts. Only a narrower run
/// (`cargo test -p meta-cli`) lacks it, and then it is built into a target folder of its own:
/// a cargo run on the shared folder would re-link `target/<profile>/meta` (remove, then link)
/// while other tests run it, and one of them could find it missing.
fn hello_rs_binary() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        // target/<profile>/deps/runner-<hash>
        let profile_dir = exe.parent().and_then(Path::parent).unwrap();
        let beside_meta = profile_dir.join(format!("hello-rs{}", std::env::consts::EXE_SUFFIX));
        if beside_meta.is_file() {
            return beside_meta;
        }
        let own_target = profile_dir.parent().unwrap().join("hello-rs-example");
        let cargo = std::env::var_os("CARGO")
            .or_else(|| option_env!("CARGO").map(OsString::from))
            .unwrap_or_else(|| "cargo".into());
        let out = std::process::Command::new(cargo)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "build",
                "-p",
                "hello-rs",
                "--quiet",
                "--message-format=json",
            ])
            .arg("--target-dir")
            .arg(&own_target)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cannot build the Rust example plugin:\n{}",
            stderr(&out)
        );
        stdout(&out)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|m| {
                m["reason"] == "compiler-artifact"
                    && m["target"]["name"] == "hello-rs"
                    && m["target"]["kind"] == json!(["bin"])
            })
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo named the hello-rs executable")
    })
}

#[test]
fn the_rust_example_greets_and_its_service_answers() {
    let repo = Repo::new();
    let plugin = repo.tmp.path().join("hello-rs");
    std::fs::create_dir_all(&plugin).unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello-rs");
    std::fs::copy(
        example.join("meta-plugin.toml"),
        plugin.join("meta-plugin.toml"),
    )
    .unwrap();
    std::fs::copy(hello_rs_binary(), plugin.join("hello-rs")).unwrap();
    repo.install(&plugin);
    repo.git_init();

    // Without a daemon the command still logs its greeting.
    let out = repo.ok(&["hello-rs", "Bob"]);
    assert_eq!(
        stdout(&out).trim(),
        "Hello, Bob! (plugin hello-rs in meta-repo repo)"
    );
    let greeted = repo.wait_event("Bob's greeting", |e| e.ty() == "hello-rs:greeted");
    assert_eq!(greeted.source.as_deref(), Some("/plugins/hello-rs"));

    let _daemon = repo.start_daemon();
    repo.wait_service("hello-rs", "running");
    repo.wait_subscribers(1);
    let out = repo.ok(&["hello-rs", "Ada"]);
    assert_eq!(
        stdout(&out).trim(),
        "Hello, Ada! (plugin hello-rs in meta-repo repo)"
    );
    let answer = repo.wait_event("the service's answer", |e| e.ty() == "hello-rs:answered");
    let greeting = repo
        .log()
        .into_iter()
        .filter(|e| e.ty() == "hello-rs:greeted")
        .nth(1)
        .unwrap();
    assert_eq!(answer.source.as_deref(), Some("/plugins/hello-rs"));
    assert_eq!(
        answer.data.unwrap(),
        json!({"to": "Ada", "greeting": greeting.sequence.unwrap()})
    );
    assert!(repo.service_log("hello-rs").contains("answering greetings"));
    // It reacts to what happens to the repositories.
    repo.switch_branch("noticed-by-rust");
    let noticed = repo.wait_event("the branch switch noticed", |e| {
        e.ty() == "hello-rs:noticed"
    });
    assert_eq!(
        noticed.data.unwrap(),
        json!({"project": null, "branch": "noticed-by-rust"})
    );
    // Its help comes from the plugin.
    let out = repo.ok(&["help", "hello-rs"]);
    assert!(stdout(&out).starts_with("Usage: meta hello-rs"));
}

/// The Python venv with pyzmq (`.ci/run` makes one); its `bin/` goes first in `PATH`.
fn venv_path() -> OsString {
    let venv = std::env::var_os("META_TEST_VENV").map(PathBuf::from).expect(
        "META_TEST_VENV is not set: these tests need a Python venv with pyzmq; `bash .ci/run` creates one, or run `META_TEST_VENV=/path/to/venv cargo test`",
    );
    assert!(
        venv.join("bin/python3").is_file(),
        "META_TEST_VENV={} has no bin/python3",
        venv.display()
    );
    let mut paths = vec![venv.join("bin")];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

#[test]
fn the_python_example_service_answers_greetings() {
    let mut repo = Repo::new();
    repo.path = Some(venv_path());
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello-python");
    repo.install(&example);
    repo.git_init();
    let _daemon = repo.start_daemon();
    let service = repo.wait_service("hello-py", "running");
    repo.wait_subscribers(1);
    let out = repo.ok(&["hello-py", "Ada"]);
    assert_eq!(
        stdout(&out).trim(),
        "Hello, Ada! (plugin hello-py in meta-repo repo)"
    );
    let answer = repo.wait_event("the Python service's answer", |e| {
        e.ty() == "hello:answered"
    });
    let greeting = repo.wait_event("the greeting", |e| e.ty() == "hello:greeted");
    assert_eq!(answer.source.as_deref(), Some("/plugins/hello-py"));
    assert_eq!(
        answer.data.unwrap(),
        json!({"to": "Ada", "sequence": greeting.sequence.map(meta_events::format_sequence)})
    );
    // It reacts to what happens to the repositories.
    repo.switch_branch("noticed-by-python");
    let noticed = repo.wait_event("the branch switch noticed", |e| e.ty() == "hello:noticed");
    assert_eq!(
        noticed.data.unwrap(),
        json!({"project": null, "branch": "noticed-by-python"})
    );
    // Still the same process: answering did not crash it.
    assert_eq!(repo.service("hello-py")["pid"], service["pid"]);
}

#[test]
fn the_builtin_watcher_publishes_file_events_and_is_disabled_like_any_plugin() {
    let repo = Repo::new();
    std::fs::create_dir_all(repo.root.join("src/libs")).unwrap();
    let listed = repo.list();
    assert_eq!(listed[0]["name"], "watch");
    assert_eq!(listed[0]["source"], "builtin");
    let _daemon = repo.start_daemon();
    let service = repo.wait_service("watch", "running");
    wait_until("the watcher to be up", || {
        repo.service_log("watch").contains("watching ")
    });
    let mut bus = Client::for_workspace(&repo.workspace())
        .subscribe(&["core:file"])
        .unwrap();
    repo.wait_subscribers(1);

    let file = repo.root.join("src/libs/notes.txt");
    std::fs::write(&file, "one\n").unwrap();
    let created = next_file_event(&mut bus);
    assert_eq!(created.ty(), "core:file:created");
    assert_eq!(created.source.as_deref(), Some("/plugins/watch"));
    assert_eq!(
        created.data.unwrap(),
        json!({"path": "src/libs/notes.txt", "project": null, "is_dir": false})
    );
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(&file, "two\n").unwrap();
    assert_eq!(next_file_event(&mut bus).ty(), "core:file:modified");
    std::fs::remove_file(&file).unwrap();
    assert_eq!(next_file_event(&mut bus).ty(), "core:file:deleted");
    // Runtime state under `.meta/` (the log being written right now) is never reported.
    assert!(!repo.log().iter().any(|e| {
        e.ty().starts_with("core:file:")
            && e.data.as_ref().unwrap()["path"]
                .as_str()
                .unwrap()
                .starts_with(".meta")
    }));

    // Disabled like any plugin: its service stops and changes go unreported.
    let out = repo.ok(&["plugin", "disable", "watch"]);
    assert!(stderr(&out).contains("service: stopped by the daemon"));
    assert!(!alive(pid_of(&service)));
    std::fs::write(repo.root.join("src/libs/unseen.txt"), "x").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    repo.ok(&["events", "publish", "test:marker:done"]);
    repo.wait_event("the marker", |e| e.ty() == "test:marker:done");
    assert!(!repo.log().iter().any(|e| {
        e.data
            .as_ref()
            .is_some_and(|d| d["path"] == "src/libs/unseen.txt")
    }));
    // It cannot be uninstalled, only disabled.
    let out = repo.run(&["plugin", "uninstall", "watch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("built-in plugin"), "{}", stderr(&out));

    repo.ok(&["plugin", "enable", "watch"]);
    repo.wait_service("watch", "running");
    wait_until("the watcher to be up again", || {
        repo.service_log("watch").matches("watching").count() == 2
    });
    std::fs::write(repo.root.join("src/libs/seen.txt"), "x").unwrap();
    // `plugin enable` may still be finishing its config write (`meta/.metarepo.toml.tmp-…`)
    // when the new watcher is up: those events are real, and skipped here.
    loop {
        let event = next_file_event(&mut bus);
        if event.data.unwrap()["path"] == "src/libs/seen.txt" {
            break;
        }
    }
}

/// The next `core:file:` event on the bus, skipping folders' own events.
fn next_file_event(subscription: &mut meta_events::Subscription) -> Event {
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < WAIT, "no file event within {WAIT:?}");
        if let Some(received) = subscription.recv(Some(Duration::from_millis(200))).unwrap() {
            let event = received.event().unwrap();
            if event.data.as_ref().is_some_and(|d| d["is_dir"] == false) {
                return event;
            }
        }
    }
}

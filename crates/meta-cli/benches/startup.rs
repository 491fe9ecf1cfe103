//! Startup budgets (DESIGN.md section 6): `meta --help` against starting `/bin/true`, and
//! `meta --help` and `meta plugin list` in a meta-repo with 20 plugins installed, with no
//! daemon (listing must not wait for one) and with a daemon running their 20 services (listing
//! asks it for their states).
//!
//! Run with `cargo bench -p meta-cli --bench startup` (the bench profile builds `meta`
//! optimised). Every figure is the median of many runs taken in this one run, next to the
//! baseline measured the same way, so the ratios hold on any machine.

// A benchmark reports on stdout and fails loudly on a broken setup.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 300;
const WARMUP: usize = 20;
const PLUGINS: usize = 20;

fn meta() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meta"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("META_") {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// Runs `cmd` to completion with its output discarded; returns the wall time.
fn time(name: &str, mut cmd: Command) -> Duration {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let status = cmd.status().unwrap();
    let elapsed = start.elapsed();
    assert!(status.success(), "{name} failed: {status}");
    elapsed
}

/// Median and 90th percentile of each case. The cases take turns, round after round, so
/// background load on a shared machine falls on all of them alike.
fn measure(cases: &[(&str, &dyn Fn() -> Command)]) -> Vec<(Duration, Duration)> {
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(RUNS); cases.len()];
    for round in 0..WARMUP + RUNS {
        for (i, (name, make)) in cases.iter().enumerate() {
            let elapsed = time(name, make());
            if round >= WARMUP {
                samples[i].push(elapsed);
            }
        }
    }
    samples
        .into_iter()
        .map(|mut times| {
            times.sort();
            (times[RUNS / 2], times[RUNS * 9 / 10])
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn setup(root: &Path, sources: &Path) {
    std::fs::create_dir_all(root.join("meta")).unwrap();
    std::fs::write(
        root.join("meta/metarepo.toml"),
        "[metarepo]\nname = \"bench\"\n",
    )
    .unwrap();
    for i in 0..PLUGINS {
        let name = format!("plugin-{i:02}");
        let dir = sources.join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("meta-plugin.toml"),
            format!(
                "api = 1\n\n[plugin]\nname = \"{name}\"\nversion = \"1.0.{i}\"\ndescription = \"Benchmark plugin {i}\"\n\n\
                 [[command]]\nname = \"cmd-{i:02}\"\nabout = \"Command number {i}\"\nexec = [\"./run.sh\"]\n\n\
                 [[command]]\nname = \"other-{i:02}\"\nabout = \"Another command\"\nexec = [\"python3\", \"main.py\"]\n\n\
                 [service]\nexec = [\"./serve.sh\"]\nsubscribe = [\"core:file:\"]\n\n[events]\npublish = [\"{name}:\"]\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("run.sh"), "#!/bin/sh\necho run\n").unwrap();
        let serve = dir.join("serve.sh");
        std::fs::write(&serve, "#!/bin/sh\nexec sleep 100000\n").unwrap();
        std::fs::set_permissions(&serve, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("main.py"), "print('hello')\n".repeat(50)).unwrap();
        let status = meta()
            .current_dir(root)
            .args(["plugin", "install"])
            .arg(&dir)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "installing {name}");
    }
}

/// Stops the daemon when the bench ends, however it ends.
struct Daemon(PathBuf);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = meta()
            .current_dir(&self.0)
            .args(["daemon", "stop"])
            .stderr(Stdio::null())
            .status();
    }
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let root = tmp.path().join("repo");
    setup(&root, &tmp.path().join("sources"));

    let in_dir = |dir: &Path, args: &[&str]| {
        let mut cmd = meta();
        cmd.current_dir(dir).args(args);
        cmd
    };
    let results = measure(&[
        ("/bin/true", &|| Command::new("/bin/true")),
        ("meta --help", &|| in_dir(&empty, &["--help"])),
        ("meta --help (20 plugins)", &|| in_dir(&root, &["--help"])),
        ("meta plugin list (20 plugins)", &|| {
            in_dir(&root, &["plugin", "list"])
        }),
    ]);
    let [
        (true_med, true_p90),
        (help_med, help_p90),
        (help20_med, help20_p90),
        (list20_med, list20_p90),
    ] = results[..]
    else {
        unreachable!("four cases measured")
    };
    // The same listing while a daemon runs the 20 services (and the built-in watcher): each
    // run asks it for their states over the control socket.
    let status = in_dir(&root, &["daemon", "start"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "meta daemon start");
    let daemon = Daemon(root.clone());
    let running = |root: &Path| {
        let out = in_dir(root, &["plugin", "list", "--json"])
            .output()
            .unwrap();
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .filter(|p| p["service"]["state"] == "running")
            .count()
    };
    let started = Instant::now();
    while running(&root) < PLUGINS + 1 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the daemon did not start every service"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let with_daemon = measure(&[
        ("/bin/true", &|| Command::new("/bin/true")),
        ("meta plugin list (20 services running)", &|| {
            in_dir(&root, &["plugin", "list"])
        }),
    ]);
    drop(daemon);
    let [(true_again, _), (list_daemon_med, list_daemon_p90)] = with_daemon[..] else {
        unreachable!("two cases measured")
    };
    println!("startup, median (p90) of {RUNS} runs each, in one run:");
    println!(
        "  /bin/true                        {:7.3} ms ({:.3})",
        ms(true_med),
        ms(true_p90)
    );
    let rows = [
        ("meta --help", help_med, help_p90, 5.0, "ms over /bin/true"),
        (
            "meta --help, 20 plugins",
            help20_med,
            help20_p90,
            10.0,
            "ms",
        ),
        (
            "meta plugin list, 20 plugins",
            list20_med,
            list20_p90,
            10.0,
            "ms",
        ),
    ];
    let mut ok = true;
    let rows = rows.into_iter().chain([(
        "meta plugin list, 20 running",
        list_daemon_med,
        list_daemon_p90,
        10.0,
        "ms",
    )]);
    for (i, (name, med, p90, budget, unit)) in rows.enumerate() {
        let measured = if i == 0 {
            ms(med) - ms(true_med)
        } else {
            ms(med)
        };
        // The daemon case has its own /bin/true, measured alongside it.
        let baseline = if i == 3 { true_again } else { true_med };
        let pass = measured <= budget;
        ok &= pass;
        println!(
            "  {name:<32} {:7.3} ms ({:.3})  = {:5.2} x /bin/true; budget {budget} {unit}: {}",
            ms(med),
            ms(p90),
            med.as_secs_f64() / baseline.as_secs_f64(),
            if pass { "PASS" } else { "FAIL" }
        );
    }
    println!("overall: {}", if ok { "PASS" } else { "FAIL" });
}

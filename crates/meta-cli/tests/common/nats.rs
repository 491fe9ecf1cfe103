//! A real `nats-server` (JetStream on) on loopback for the bridge tests, killed when the test
//! ends. Without the program the tests skip with a reason, except in CI (`CI=true`), where a
//! missing server fails them.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct NatsServer {
    pub port: u16,
    monitor: u16,
    program: PathBuf,
    store: tempfile::TempDir,
    config: Option<PathBuf>,
    child: Option<Child>,
}

/// The server program: `NATS_SERVER_BIN`, `nats-server` on PATH, or Debian's `/usr/sbin`.
fn program() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("NATS_SERVER_BIN").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nats-server"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| Some(PathBuf::from("/usr/sbin/nats-server")).filter(|p| p.is_file()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl NatsServer {
    /// Starts a server, or returns `None` (after saying why) when there is none to start and
    /// this is not CI.
    pub fn start() -> Option<Self> {
        Self::start_with(None)
    }

    /// Starts a server with `config` (nats-server configuration text) added.
    #[allow(clippy::print_stderr)] // the skip's reason, seen with --nocapture
    pub fn start_with(config: Option<&str>) -> Option<Self> {
        let Some(program) = program() else {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(
                !ci,
                "nats-server is not installed; CI must run the bridge tests (apt-get install nats-server)"
            );
            eprintln!(
                "SKIPPED: nats-server is not installed (apt-get install nats-server, or set NATS_SERVER_BIN)"
            );
            return None;
        };
        let store = tempfile::tempdir().expect("a temporary folder");
        let config = config.map(|text| {
            let path = store.path().join("nats.conf");
            std::fs::write(&path, text).expect("the server config is written");
            path
        });
        let mut server = Self {
            port: free_port(),
            monitor: free_port(),
            program,
            store,
            config,
            child: None,
        };
        server.restart();
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// (Re)starts on the same port with the same store.
    pub fn restart(&mut self) {
        let store = self.store.path().join("js");
        let mut cmd = Command::new(&self.program);
        cmd.args([
            "-a",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-js",
            "-sd",
        ])
        .arg(&store)
        .arg("-l")
        .arg(self.store.path().join("server.log"))
        .args(["-m", &self.monitor.to_string()]);
        if let Some(config) = &self.config {
            cmd.arg("-c").arg(config);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nats-server did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the server (SIGTERM, as a service manager would).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Messages the stream `name` holds (from the monitoring endpoint), if it exists.
    pub fn stream_messages(&self, name: &str) -> Option<u64> {
        use std::io::{Read, Write};
        let mut conn = TcpStream::connect(("127.0.0.1", self.monitor)).ok()?;
        conn.write_all(b"GET /jsz?streams=true HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .ok()?;
        let mut text = String::new();
        conn.read_to_string(&mut text).ok()?;
        let body = text.split_once("\r\n\r\n")?.1;
        let value: serde_json::Value = serde_json::from_str(body).ok()?;
        for account in value.get("account_details")?.as_array()? {
            for stream in account
                .get("stream_detail")
                .and_then(|s| s.as_array())
                .into_iter()
                .flatten()
            {
                if stream.get("name").and_then(|n| n.as_str()) == Some(name) {
                    return stream.pointer("/state/messages")?.as_u64();
                }
            }
        }
        None
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

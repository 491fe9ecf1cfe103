//! The `import` control op (DESIGN.md section 11): events from other machines, handed over by
//! the bridge, are logged by the daemon (the log's only writer) with a local `sequence`, once
//! each: repeats are dropped by `(metaorigin, source, id)` across restarts, because the index is
//! rebuilt from the log after each start. With the bridge on at start it is read on a thread of
//! its own, and imports are answered "busy" (the bridge sends them again) until it is done, so
//! the bus does not wait while a log of hundreds of megabytes is read; otherwise it is read on
//! the first import.

use std::borrow::Cow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::thread::JoinHandle;

use meta_bridge::ORIGIN_EXT as ORIGIN;
use meta_events::log::LogCursor;
use serde_json::{Map, Value};

/// Events one request may carry at most.
pub(crate) const MAX_EVENTS: usize = 4096;

/// Keys of the imported events the log holds. A 64-bit hash per event keeps the index small
/// (about 16 bytes an event); a false repeat needs a collision among them.
#[derive(Default)]
pub(crate) struct Imports {
    seen: HashSet<u64>,
    index: Index,
}

/// Where the index stands: the log not read yet, being read on a thread, or read.
#[derive(Default)]
enum Index {
    #[default]
    NotRead,
    Reading(JoinHandle<HashSet<u64>>),
    Read,
}

fn key(origin: &str, source: &str, id: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    (origin, source, id).hash(&mut hasher);
    hasher.finish()
}

fn key_of(event: &Map<String, Value>) -> Option<u64> {
    let text = |k: &str| event.get(k).and_then(Value::as_str);
    Some(key(text(ORIGIN)?, text("source")?, text("id")?))
}

/// The three fields of a logged event that make its key, read without building the rest.
#[derive(serde::Deserialize)]
struct KeyFields<'a> {
    #[serde(borrow, rename = "metaorigin")]
    origin: Option<Cow<'a, str>>,
    #[serde(borrow)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
}

/// The key of one log line, if it is an imported event.
fn key_of_line(line: &[u8]) -> Option<u64> {
    let fields: KeyFields = serde_json::from_slice(line).ok()?;
    Some(key(&fields.origin?, &fields.source?, &fields.id?))
}

/// What one request asks to log, after the repeats are taken out.
pub(crate) struct Accepted {
    pub lines: Vec<Vec<u8>>,
    pub duplicates: u64,
    pub invalid: u64,
}

impl Imports {
    /// Starts reading the log's imported events on a thread of its own (a daemon starting
    /// with the bridge on); imports are answered "busy" until it is done ([`Imports::reading`]).
    /// No import is logged until that read is taken in, so the thread misses none.
    pub(crate) fn read_ahead(log_dir: &Path) -> Self {
        let dir = log_dir.to_path_buf();
        Self::read_by(move || read_index(&dir))
    }

    /// [`Imports::read_ahead`] with the index made by `read`.
    fn read_by(read: impl FnOnce() -> HashSet<u64> + Send + 'static) -> Self {
        let index = match std::thread::Builder::new()
            .name("import-index".into())
            .spawn(read)
        {
            Ok(reading) => Index::Reading(reading),
            Err(error) => {
                tracing::warn!(%error, "cannot start a thread to read the import index; the first import reads it");
                Index::NotRead
            }
        };
        Self {
            seen: HashSet::new(),
            index,
        }
    }

    /// Whether the thread reading the index is still at it (an import now would wait for it).
    pub(crate) fn reading(&self) -> bool {
        matches!(&self.index, Index::Reading(reading) if !reading.is_finished())
    }

    /// The index of the whole log, read now or taken from the thread that read it.
    fn load(&mut self, log_dir: &Path) {
        self.seen = match std::mem::replace(&mut self.index, Index::Read) {
            Index::Read => return,
            Index::NotRead => read_index(log_dir),
            Index::Reading(reading) => reading.join().unwrap_or_else(|_| {
                tracing::warn!("the import index thread failed; reading the log again");
                read_index(log_dir)
            }),
        };
        tracing::info!(events = self.seen.len(), "import index loaded");
    }

    /// Takes the request's events that are new; each is marked seen (the caller logs them).
    pub(crate) fn accept(&mut self, log_dir: &Path, request: &Value) -> Result<Accepted, String> {
        let events = request
            .get("events")
            .and_then(Value::as_array)
            .ok_or("an import request has an \"events\" array")?;
        if events.len() > MAX_EVENTS {
            return Err(format!(
                "an import request carries at most {MAX_EVENTS} events"
            ));
        }
        self.load(log_dir);
        let mut accepted = Accepted {
            lines: Vec::with_capacity(events.len()),
            duplicates: 0,
            invalid: 0,
        };
        for event in events {
            let Some(object) = event.as_object() else {
                accepted.invalid += 1;
                continue;
            };
            let Some(k) = key_of(object) else {
                // Only events from another node (with `metaorigin`) come in this way.
                accepted.invalid += 1;
                continue;
            };
            if !self.seen.insert(k) {
                accepted.duplicates += 1;
                continue;
            }
            accepted.lines.push(event.to_string().into_bytes());
        }
        Ok(accepted)
    }

    /// An event that was accepted but could not be logged may come again.
    pub(crate) fn forget(&mut self, line: &[u8]) {
        if let Some(k) = key_of_line(line) {
            self.seen.remove(&k);
        }
    }
}

/// The keys of every imported event in the log.
fn read_index(log_dir: &Path) -> HashSet<u64> {
    let mut seen = HashSet::new();
    let mut reader = LogCursor::from_sequence(log_dir, 0);
    // Only lines naming an origin are parsed: most of a log is local events.
    let needle = format!("\"{ORIGIN}\"");
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    loop {
        match reader.next_line() {
            Ok(Some(line)) => {
                if finder.find(line).is_some()
                    && let Some(k) = key_of_line(line)
                {
                    seen.insert(k);
                }
            }
            Ok(None) => break,
            Err(error) => {
                tracing::warn!(%error, "could not read the whole log for the import index");
                break;
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repeats_and_events_without_origin_are_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let mut imports = Imports::default();
        let e = |id: &str| json!({"type": "a:b", "id": id, "source": "/x", "metaorigin": "n"});
        let request =
            json!({"events": [e("1"), e("2"), e("1"), {"type": "a:b", "id": "3", "source": "/x"}]});
        let accepted = imports.accept(dir.path(), &request).unwrap();
        assert_eq!(accepted.lines.len(), 2);
        assert_eq!(accepted.duplicates, 1);
        assert_eq!(accepted.invalid, 1);
        let again = imports
            .accept(dir.path(), &json!({"events": [e("2")]}))
            .unwrap();
        assert_eq!(again.duplicates, 1);
        assert!(imports.accept(dir.path(), &json!({})).is_err());
    }

    fn imported(id: &str) -> Value {
        json!({"specversion": "1.0", "type": "a:b", "id": id, "source": "/x", "metaorigin": "n",
               "data": {"source": "not this one", "id": 7}})
    }

    /// Writes `events` to a fresh log in `dir`, one line each.
    fn log_of(dir: &Path, events: &[Value]) {
        let mut log =
            meta_events::log::LogWriter::open(dir, meta_events::log::LogConfig::default()).unwrap();
        let mut lines = Vec::new();
        for event in events {
            lines.extend_from_slice(event.to_string().as_bytes());
            lines.push(b'\n');
        }
        log.append(&lines, events.len() as u64).unwrap();
    }

    #[test]
    fn a_log_line_and_a_request_event_give_the_same_key() {
        let event = imported("1");
        let line = event.to_string();
        assert_eq!(
            key_of_line(line.as_bytes()),
            key_of(event.as_object().unwrap())
        );
        assert!(key_of_line(line.as_bytes()).is_some());
        // Escapes are read as the text they stand for.
        let escaped = r#"{"id":"\u0031","source":"\/x","metaorigin":"n"}"#;
        assert_eq!(
            key_of_line(escaped.as_bytes()),
            key_of_line(line.as_bytes())
        );
        assert_eq!(key_of_line(br#"{"id":"1","source":"/x"}"#), None);
        assert_eq!(key_of_line(b"not json"), None);
    }

    #[test]
    fn imports_wait_for_the_read_ahead_and_then_know_what_it_found() {
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let mut imports = Imports::read_by(move || {
            let _ = wait.recv();
            HashSet::from([key("n", "/x", "1")])
        });
        assert!(imports.reading(), "the read has not finished");
        go.send(()).unwrap();
        wait_until_done(&imports);
        let dir = tempfile::tempdir().unwrap();
        let request = json!({"events": [imported("1"), imported("2")]});
        let accepted = imports.accept(dir.path(), &request).unwrap();
        assert_eq!((accepted.lines.len(), accepted.duplicates), (1, 1));
        assert!(
            !Imports::default().reading(),
            "nothing is read ahead unless asked"
        );
    }

    fn wait_until_done(imports: &Imports) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while imports.reading() {
            assert!(
                std::time::Instant::now() < deadline,
                "the read never finished"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn what_the_log_holds_is_a_repeat_whether_read_ahead_or_on_first_import() {
        let dir = tempfile::tempdir().unwrap();
        log_of(
            dir.path(),
            &[
                imported("1"),
                json!({"type": "a:b", "id": "2", "source": "/x"}),
                imported("3"),
            ],
        );
        let request = json!({"events": [imported("1"), imported("2"), imported("3")]});
        for mut imports in [Imports::read_ahead(dir.path()), Imports::default()] {
            let accepted = imports.accept(dir.path(), &request).unwrap();
            assert_eq!(accepted.duplicates, 2);
            assert_eq!(accepted.lines.len(), 1, "only id 2 is new");
            let again = imports.accept(dir.path(), &request).unwrap();
            assert_eq!(again.duplicates, 3);
        }
    }
}

/// How long the index takes to read from a large log (BENCHMARKS.md); run by hand:
/// `N=1000000 cargo test --release -p meta-daemon --lib import_index_read_time -- --ignored --nocapture`.
#[cfg(test)]
mod measure {
    use super::*;

    #[test]
    #[ignore = "a measurement, not a check: run by hand"]
    fn import_index_read_time() {
        let dir = tempfile::tempdir().unwrap();
        let config = meta_events::log::LogConfig::default();
        let mut log = meta_events::log::LogWriter::open(dir.path(), config).unwrap();
        let n: u64 = std::env::var("N")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        let mut lines = Vec::new();
        for i in 0..n {
            lines.extend_from_slice(
                format!(
                    r#"{{"specversion":"1.0","id":"01JF{i:022}","source":"/meta/ci-7/plugin/build","type":"acme:build:done","time":"2026-12-07T06:00:00.123456Z","sequence":"{:020}","datacontenttype":"application/json","metaorigin":"ci-7","metaoriginseq":"{i:020}","data":{{"project":"libraries/api","commit":"4f2a9c1e0b7d","ok":true,"duration_ms":51234}}}}"#,
                    i + 1
                )
                .as_bytes(),
            );
            lines.push(b'\n');
            if i % 4096 == 4095 || i + 1 == n {
                log.append(&lines, i % 4096 + 1).unwrap();
                lines.clear();
            }
        }
        let bytes = meta_events::log::stats(dir.path()).map_or(0, |s| s.bytes);
        let started = std::time::Instant::now();
        let seen = read_index(dir.path());
        eprintln!(
            "read {} keys from {} MiB of imported events in {:?}",
            seen.len(),
            bytes >> 20,
            started.elapsed()
        );
        assert_eq!(seen.len() as u64, n);
    }
}

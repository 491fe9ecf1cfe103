//! The `import` control op (DESIGN.md section 11): events from other machines, handed over by
//! the bridge, are logged by the daemon (the log's only writer) with a local `sequence`, once
//! each: repeats are dropped by `(metaorigin, source, id)` across restarts, because the index is
//! rebuilt from the log on the first import after start.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::Path;

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
    loaded: bool,
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

/// What one request asks to log, after the repeats are taken out.
pub(crate) struct Accepted {
    pub lines: Vec<Vec<u8>>,
    pub duplicates: u64,
    pub invalid: u64,
}

impl Imports {
    /// Reads the imported events of the log into the index, once per daemon.
    fn load(&mut self, log_dir: &Path) {
        if self.loaded {
            return;
        }
        self.loaded = true;
        let mut reader = LogCursor::from_sequence(log_dir, 0);
        let needle = format!("\"{ORIGIN}\"");
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        loop {
            match reader.next_line() {
                Ok(Some(line)) => {
                    if finder.find(line).is_some()
                        && let Ok(event) = serde_json::from_slice::<Map<String, Value>>(line)
                        && let Some(k) = key_of(&event)
                    {
                        self.seen.insert(k);
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, "could not read the whole log for the import index");
                    break;
                }
            }
        }
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
        if let Ok(event) = serde_json::from_slice::<Map<String, Value>>(line)
            && let Some(k) = key_of(&event)
        {
            self.seen.remove(&k);
        }
    }
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
}

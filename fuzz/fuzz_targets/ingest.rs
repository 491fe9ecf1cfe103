//! The daemon's ingest path (`meta_events::ingest::normalize`) and the owned decoder
//! (`Event::from_json`) on arbitrary bytes: never a panic, the two agree on what is an event,
//! and every log line ingest writes is itself a valid event of the same type, on one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meta_events::event::{Event, MAX_EVENT_BYTES, validate_type};
use meta_events::ingest::{Fill, check, normalize};

const FILL: Fill<'static> = Fill {
    sequence: 42,
    source: "/meta/daemon",
    time: "2026-12-06T18:00:00.000000Z",
};

fuzz_target!(|input: &[u8]| {
    let mut out = b"earlier line\n".to_vec();
    let result = normalize(input, &FILL, &mut out);
    assert_eq!(
        result.is_ok(),
        check(input).is_ok(),
        "check and normalize disagree"
    );
    let decoded = Event::from_json(input);
    assert_eq!(
        decoded.is_ok(),
        result.is_ok(),
        "ingest and Event::from_json disagree: {:?} / {:?}",
        decoded.as_ref().err(),
        result.as_ref().err()
    );
    let Ok(accepted) = result else {
        assert_eq!(
            out, b"earlier line\n",
            "a refused event left bytes in the batch"
        );
        return;
    };
    assert_eq!(accepted.line.start, b"earlier line\n".len());
    assert_eq!(accepted.line.end, out.len());
    let line = &out[accepted.line.clone()];
    let (last, body) = line.split_last().expect("a log line is never empty");
    assert_eq!(*last, b'\n');
    assert!(
        !body.contains(&b'\n') && !body.contains(&b'\r'),
        "a log line holds a line break"
    );
    let ty = std::str::from_utf8(&out[accepted.ty.clone()]).expect("the type is UTF-8");
    assert!(validate_type(ty).is_ok());
    if body.len() <= MAX_EVENT_BYTES {
        let event = Event::from_json(body).expect("the log line ingest wrote is an event");
        assert_eq!(event.ty(), ty);
        assert_eq!(event.sequence, Some(FILL.sequence));
        assert!(event.id.is_some() && event.source.is_some() && event.time.is_some());
        // Normalising a normalised line changes nothing but the sequence.
        let mut again = Vec::new();
        normalize(body, &FILL, &mut again).expect("a log line normalises");
        assert_eq!(again, line, "normalize is not idempotent");
    }
    if let Ok(mut event) = decoded {
        // What the owned codec writes back decodes to the same event (with `datacontenttype`
        // filled in when there is `data`, as to_json does).
        let json = event.to_json();
        let back = Event::from_json(json.as_bytes()).expect("to_json output decodes");
        if event.data.is_some() && event.datacontenttype.is_none() {
            event.datacontenttype = Some("application/json".to_owned());
        }
        assert_eq!(back, event);
    }
});

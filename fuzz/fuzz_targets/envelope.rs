//! The envelope parser: any bytes as a webhook body.
//!
//! - `parse_event` never panics, and fails only with the documented codes (`invalid_payload`,
//!   `unsupported_event`);
//! - whatever parses survives a serialize/parse round trip unchanged (`ClerkEvent` serializes to
//!   `{"type", "data"}`; the `past_due` aliases come back as the `pastDue` variant they were read
//!   as, which compares equal), and so does its `EventMeta`;
//! - `ClerkEvent`'s own `Deserialize` reads every body `parse_event` accepts into the same
//!   event (the reverse does not hold: `parse_event` also types the envelope's `timestamp` and
//!   `instance_id`, which `Deserialize` ignores);
//! - a body that is not UTF-8 is never accepted (it once was, with the bytes in the value of an
//!   unknown top-level field, which serde_json skips without checking: found by this target).
#![no_main]

use clerk_webhooks::{parse_event, ClerkEvent, EventError, EventMeta};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (event, meta) = match parse_event(data) {
        Ok(parsed) => parsed.into_parts(),
        Err(err) => {
            let code = err.code();
            match err {
                EventError::InvalidEnvelope { .. } => assert_eq!(code, "invalid_payload"),
                EventError::UnsupportedData { .. } => assert_eq!(code, "unsupported_event"),
                other => panic!("undocumented error {other:?}"),
            }
            return;
        }
    };

    let json = serde_json::to_vec(&event).unwrap();
    let again: ClerkEvent = serde_json::from_slice(&json).unwrap();
    assert_eq!(again, event);
    // And what it serializes to is itself a body `parse_event` reads the same way.
    let reparsed = parse_event(&json).unwrap().event;
    assert_eq!(reparsed, event);

    let meta_json = serde_json::to_vec(&meta).unwrap();
    let meta_again: EventMeta = serde_json::from_slice(&meta_json).unwrap();
    assert_eq!(meta_again, meta);

    assert!(
        std::str::from_utf8(data).is_ok(),
        "parse_event accepted a body that is not UTF-8"
    );
    let generic: ClerkEvent = serde_json::from_slice(data)
        .unwrap_or_else(|err| panic!("parse_event accepted, Deserialize refused: {err}"));
    assert_eq!(generic, event);
});

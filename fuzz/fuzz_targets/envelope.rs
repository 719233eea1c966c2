//! The envelope parser: any bytes. Never panics; whatever parses survives a serialize/parse round
//! trip unchanged.
#![no_main]

use clerk_webhooks::{parse_event, ClerkEvent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((event, _meta)) = parse_event(data) {
        let json = serde_json::to_vec(&event).unwrap();
        let again: ClerkEvent = serde_json::from_slice(&json).unwrap();
        assert_eq!(again, event);
    }
});

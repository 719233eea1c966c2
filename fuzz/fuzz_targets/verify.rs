//! The whole verification: fuzzed id, timestamp, signature and body. Never panics, and nothing
//! verifies unless its signature was computed by `sign`.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use clerk_webhooks::{SigningSecret, Verifier};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Fields separated by 0xff: id, timestamp, signature, body.
    let mut parts = data.splitn(4, |byte| *byte == 0xff);
    let (Some(id), Some(timestamp), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let body = parts.next().unwrap_or_default();
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("svix-id", id),
        ("webhook-timestamp", timestamp),
        ("svix-signature", signature),
    ] {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.insert(name, value);
        }
    }
    let verifier =
        Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap())
            .with_tolerance(Duration::from_secs(u64::MAX));
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    if let Ok(delivery) = verifier.verify_at(&headers, body, now) {
        // Only possible if the fuzzer reproduced an HMAC, which it cannot: check it is genuine.
        let expected = verifier.sign(delivery.id(), delivery.timestamp(), body);
        let listed = std::str::from_utf8(signature).unwrap_or_default();
        assert!(listed
            .split_ascii_whitespace()
            .any(|entry| entry == expected));
    }
});

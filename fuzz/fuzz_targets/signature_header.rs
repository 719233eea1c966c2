//! The signature-header parser: any `svix-signature` value on an otherwise valid delivery.
//! Nothing but the real signature may verify, and nothing may panic.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use clerk_webhooks::{SigningSecret, Verifier, VerifyError};
use http::HeaderValue;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let verifier =
        Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
    let body = br#"{"type":"user.created","data":{"id":"user_1"}}"#;
    let mut headers = verifier
        .signed_headers("msg_fuzz", 1_700_000_000, body)
        .unwrap();
    let genuine = verifier.sign("msg_fuzz", 1_700_000_000, body);
    headers.insert("svix-signature", value);
    let outcome = verifier.verify_at(
        &headers,
        body,
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    );
    let contains_genuine = std::str::from_utf8(data)
        .map(|text| text.split_ascii_whitespace().any(|entry| entry == genuine))
        .unwrap_or(false);
    match outcome {
        Ok(_) => assert!(contains_genuine, "verified without the genuine signature"),
        // A value that is not visible ASCII is refused as a header before any signature is read.
        Err(VerifyError::InvalidHeader { name }) => {
            assert_eq!(name, "svix-signature");
            assert!(std::str::from_utf8(data).map_or(true, |text| !text
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b) || b == b'\t')));
        }
        Err(err) => {
            assert_eq!(err, VerifyError::InvalidSignature);
            assert!(
                !contains_genuine,
                "refused although the genuine signature is listed"
            );
        }
    }
});

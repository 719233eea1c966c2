//! The signature-header parser: any `svix-signature` value on an otherwise valid delivery.
//!
//! The oracle is the documented rule (`VerifyError::InvalidHeader`, `src/verify/headers.rs`):
//! the value is refused as `InvalidHeader { name: "svix-signature" }` exactly when it
//! - is longer than 4096 bytes (`MAX_SIGNATURE_HEADER_LEN`; 4096 itself is accepted), or
//! - is not visible ASCII (bytes 0x20..=0x7e, plus tab, which `HeaderValue::to_str` accepts), or
//! - holds more than 16 entries (`MAX_SIGNATURES`), entries being the non-empty runs between ASCII
//!   whitespace (`split_ascii_whitespace`; in a visible-ASCII header that is spaces and tabs, so
//!   leading, trailing and repeated separators add no entry).
//!
//! Otherwise it verifies exactly when one entry is the genuine `v1,<base64>` (the encoding of a
//! 32-byte tag is canonical, so that is string equality), and is `InvalidSignature` if not.
//! The same value must give the same outcome under the unbranded `webhook-signature` name and with
//! a second (unrelated) secret configured, which takes the decode-once path.
#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_webhooks::{SigningSecret, Verifier, VerifyError};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

const MAX_SIGNATURE_HEADER_LEN: usize = 4096;
const MAX_SIGNATURES: usize = 16;
const TIMESTAMP: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"type":"user.created","data":{"id":"user_1"}}"#;

struct Fixture {
    one_secret: Verifier,
    two_secrets: Verifier,
    headers: HeaderMap,
    genuine: String,
    now: SystemTime,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let one_secret =
        Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
    let two_secrets = one_secret
        .clone()
        .with_secret(SigningSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap());
    let mut headers = one_secret
        .signed_headers("msg_fuzz", TIMESTAMP, BODY)
        .unwrap();
    headers.remove("svix-signature");
    Fixture {
        genuine: one_secret.sign("msg_fuzz", TIMESTAMP, BODY),
        one_secret,
        two_secrets,
        headers,
        now: UNIX_EPOCH + Duration::from_secs(TIMESTAMP as u64),
    }
});

/// The outcome the documented rules give for `data` as the signature header.
fn expected(data: &[u8], genuine: &str) -> Result<(), VerifyError> {
    let visible = data
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) || b == b'\t');
    if data.len() > MAX_SIGNATURE_HEADER_LEN || !visible {
        return Err(VerifyError::InvalidHeader {
            name: "svix-signature",
        });
    }
    // Visible ASCII: the only whitespace left is space and tab.
    let mut entries = data
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|entry| !entry.is_empty());
    if entries.clone().count() > MAX_SIGNATURES {
        return Err(VerifyError::InvalidHeader {
            name: "svix-signature",
        });
    }
    if entries.any(|entry| entry == genuine.as_bytes()) {
        Ok(())
    } else {
        Err(VerifyError::InvalidSignature)
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        // Not a header value at all (control bytes): no request can carry it.
        return;
    };
    let fixture = &*FIXTURE;
    let want = expected(data, &fixture.genuine);

    for name in ["svix-signature", "webhook-signature"] {
        let mut headers = fixture.headers.clone();
        headers.insert(name, value.clone());
        for verifier in [&fixture.one_secret, &fixture.two_secrets] {
            let got = verifier
                .verify_at(&headers, BODY, fixture.now)
                .map(|delivery| {
                    assert_eq!(delivery.id(), "msg_fuzz");
                    assert_eq!(delivery.timestamp(), TIMESTAMP);
                });
            assert_eq!(
                got,
                want,
                "{name}: {} bytes, {:?}",
                data.len(),
                String::from_utf8_lossy(data)
            );
        }
    }
});

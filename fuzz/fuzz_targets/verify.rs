//! The whole verification: fuzzed id, timestamp, signature list and body, checked against a model
//! of the documented rules and an HMAC computed here, independently of the crate.
//!
//! Input: `id 0xff timestamp 0xff signatures 0xff body` (the body may hold 0xff). A field that is
//! not a valid header value (control bytes) is left out, so the header is missing. Each signature
//! entry spelled `GENUINE` is replaced by the real `v1,<base64>` of `{id}.{timestamp}.{body}`,
//! computed here with `hmac`/`sha2` over the timestamp exactly as sent, so the fuzzer reaches the
//! accepting path with any id, timestamp text and body.
//!
//! The model (`Verifier::verify`, `src/verify/headers.rs`, `VerifyError`), in order:
//! 1. `svix-id`, then `svix-timestamp`, then `svix-signature` (each falling back to its
//!    `webhook-*` twin): absent is `MissingHeader`; an id over 256 bytes, a signature list over
//!    4096 bytes, or any of them not visible ASCII (0x20..=0x7e and tab) is `InvalidHeader`;
//! 2. an empty id, or more than 16 whitespace-separated signature entries: `InvalidHeader`;
//! 3. a timestamp that is not plain ASCII digits fitting an `i64`: `InvalidTimestamp`;
//! 4. outside now ± 300 s (inclusive): `TimestampTooOld` / `TimestampTooNew`;
//! 5. no entry equal to the genuine signature: `InvalidSignature`; otherwise the delivery, with
//!    the id and the timestamp as sent.
//!
//! `Verifier::diagnose_at` must reach the same verdict, in a bounded text.
#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clerk_webhooks::{SigningSecret, Verifier, VerifyError};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_700_000_000;
const TOLERANCE: i64 = 300;

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    Verifier::new(SigningSecret::new(SECRET).unwrap())
        .with_tolerance(Duration::from_secs(TOLERANCE as u64))
});
static KEY: LazyLock<Vec<u8>> =
    LazyLock::new(|| STANDARD.decode(&SECRET["whsec_".len()..]).unwrap());

/// The Standard Webhooks signature, computed without the crate.
fn reference_signature(id: &[u8], timestamp: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&KEY).unwrap();
    for part in [id, b".", timestamp, b".", body] {
        mac.update(part);
    }
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

fn visible(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) || b == b'\t')
}

/// A header as `read_header` takes it: present, not over `max` bytes, visible ASCII.
fn read<'a>(
    value: Option<&'a [u8]>,
    name: &'static str,
    max: usize,
) -> Result<&'a [u8], VerifyError> {
    match value {
        None => Err(VerifyError::MissingHeader { name }),
        Some(value) if value.len() > max || !visible(value) => {
            Err(VerifyError::InvalidHeader { name })
        }
        Some(value) => Ok(value),
    }
}

/// What the documented rules say about a delivery.
fn expected(
    id: Option<&[u8]>,
    timestamp: Option<&[u8]>,
    signatures: Option<&[u8]>,
    genuine: &str,
) -> Result<(String, i64), VerifyError> {
    let id = read(id, "svix-id", 256)?;
    let timestamp = read(timestamp, "svix-timestamp", usize::MAX)?;
    let signatures = read(signatures, "svix-signature", 4096)?;
    if id.is_empty() {
        return Err(VerifyError::InvalidHeader { name: "svix-id" });
    }
    let entries: Vec<&[u8]> = signatures
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|entry| !entry.is_empty())
        .collect();
    if entries.len() > 16 {
        return Err(VerifyError::InvalidHeader {
            name: "svix-signature",
        });
    }
    let parsed = std::str::from_utf8(timestamp)
        .ok()
        .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|text| text.parse::<i64>().ok())
        .ok_or(VerifyError::InvalidTimestamp)?;
    let (now, tolerance, wide) = (i128::from(NOW), i128::from(TOLERANCE), i128::from(parsed));
    if wide < now - tolerance {
        return Err(VerifyError::TimestampTooOld { timestamp: parsed });
    }
    if wide > now + tolerance {
        return Err(VerifyError::TimestampTooNew { timestamp: parsed });
    }
    if !entries.contains(&genuine.as_bytes()) {
        return Err(VerifyError::InvalidSignature);
    }
    Ok((String::from_utf8(id.to_vec()).unwrap(), parsed))
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |byte| *byte == 0xff);
    let (Some(id), Some(timestamp), Some(signatures)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let body = parts.next().unwrap_or_default();

    let genuine = reference_signature(id, timestamp, body);
    // Substitute the real signature for each `GENUINE` entry (only where it stays a header value).
    let signatures: Vec<u8> = signatures
        .split(|&b| b == b' ')
        .map(|entry| {
            if entry == b"GENUINE" {
                genuine.as_bytes()
            } else {
                entry
            }
        })
        .collect::<Vec<_>>()
        .join(&b' ');

    let as_header = |value: &[u8]| HeaderValue::from_bytes(value).ok();
    let mut headers = HeaderMap::new();
    let mut present = |name: &'static str, value: &[u8]| {
        as_header(value).map(|header| {
            headers.insert(name, header);
            value.to_vec()
        })
    };
    // The timestamp under its unbranded name: each header falls back to its twin on its own.
    let id = present("svix-id", id);
    let timestamp = present("webhook-timestamp", timestamp);
    let signatures = present("svix-signature", &signatures);

    let want = expected(
        id.as_deref(),
        timestamp.as_deref(),
        signatures.as_deref(),
        &genuine,
    );
    let now = UNIX_EPOCH + Duration::from_secs(NOW as u64);
    let got = VERIFIER
        .verify_at(&headers, body, now)
        .map(|delivery| (delivery.id().to_owned(), delivery.timestamp()));
    assert_eq!(
        got,
        want,
        "headers {headers:?}, body of {} bytes",
        body.len()
    );

    // The diagnosis reaches the same verdict, and its text stays short whatever was sent.
    let diagnosis = VERIFIER.diagnose_at(&headers, body, now);
    let verdict = diagnosis
        .outcome
        .as_ref()
        .map(|delivery| (delivery.id().to_owned(), delivery.timestamp()))
        .map_err(Clone::clone);
    assert_eq!(verdict, want, "diagnosis of headers {headers:?}");
    let text = diagnosis.to_string();
    assert!(
        text.len() < 2048,
        "{} bytes of diagnosis: {text}",
        text.len()
    );
});

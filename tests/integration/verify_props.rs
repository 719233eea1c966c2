//! Property tests of the verifier: no input panics it, what it signs it accepts, and any single
//! changed byte is refused.

use clerk_webhooks::VerifyError;
use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

use crate::common::{at, verifier, NOW};

fn now() -> std::time::SystemTime {
    at(NOW)
}

/// Any bytes a header value can hold (tab, and everything from space up but DEL, UTF-8 or not).
fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop::collection::vec(
        any::<u8>().prop_filter("header byte", |b| *b == b'\t' || (*b >= 0x20 && *b != 0x7f)),
        0..120,
    )
    .prop_map(|bytes| HeaderValue::from_bytes(&bytes).unwrap())
}

fn header_name() -> impl Strategy<Value = HeaderName> {
    prop::sample::select(vec![
        "svix-id",
        "svix-timestamp",
        "svix-signature",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "SVIX-ID",
        "content-type",
    ])
    .prop_map(|name| HeaderName::from_bytes(name.as_bytes()).unwrap())
}

/// Ids as a header can carry them (visible ASCII).
fn id() -> impl Strategy<Value = String> {
    "[!-~]{1,64}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_headers_and_bodies_never_panic(
        headers in prop::collection::vec((header_name(), header_value()), 0..8),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let map: HeaderMap = headers.into_iter().collect();
        let outcome = verifier().verify_at(&map, &body, now());
        // Random headers never carry a valid signature.
        prop_assert!(outcome.is_err());
    }

    #[test]
    fn arbitrary_signature_headers_never_verify(signature in "[ -~]{0,300}", body in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut map = verifier().signed_headers("msg_1", NOW, &body).unwrap();
        map.insert("svix-signature", HeaderValue::from_str(&signature).unwrap());
        prop_assert_eq!(verifier().verify_at(&map, &body, now()), Err(VerifyError::InvalidSignature));
    }

    #[test]
    fn sign_then_verify_accepts_any_bytes_and_id(id in id(), body in prop::collection::vec(any::<u8>(), 0..4096), offset in -300i64..=300) {
        let verifier = verifier();
        let headers = verifier.signed_headers(&id, NOW + offset, &body).unwrap();
        let delivery = verifier.verify_at(&headers, &body, now()).unwrap();
        prop_assert_eq!(delivery.id(), id.as_str());
        prop_assert_eq!(delivery.timestamp(), NOW + offset);
    }

    #[test]
    fn any_single_changed_byte_is_refused(
        id in id(),
        body in prop::collection::vec(any::<u8>(), 1..512),
        part in 0..4usize,
        position in any::<prop::sample::Index>(),
        flip in 1..=255u8,
    ) {
        let verifier = verifier();
        let headers = verifier.signed_headers(&id, NOW, &body).unwrap();
        let mut headers = headers;
        let mut body = body;
        match part {
            0 => {
                let mut bytes = id.clone().into_bytes();
                let at = position.index(bytes.len());
                bytes[at] ^= flip;
                // Only bytes that remain a valid header value can be sent at all.
                prop_assume!(HeaderValue::from_bytes(&bytes).is_ok() && !bytes.is_empty());
                headers.insert("svix-id", HeaderValue::from_bytes(&bytes).unwrap());
            }
            1 => {
                let mut bytes = NOW.to_string().into_bytes();
                let at = position.index(bytes.len());
                bytes[at] ^= flip;
                prop_assume!(HeaderValue::from_bytes(&bytes).is_ok());
                headers.insert("svix-timestamp", HeaderValue::from_bytes(&bytes).unwrap());
            }
            2 => {
                let at = position.index(body.len());
                body[at] ^= flip;
            }
            _ => {
                let mut bytes = headers["svix-signature"].as_bytes().to_vec();
                let at = position.index(bytes.len());
                bytes[at] ^= flip;
                prop_assume!(HeaderValue::from_bytes(&bytes).is_ok());
                headers.insert("svix-signature", HeaderValue::from_bytes(&bytes).unwrap());
            }
        }
        prop_assert!(verifier.verify_at(&headers, &body, now()).is_err());
    }
}

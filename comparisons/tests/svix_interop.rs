//! Interoperability with an independent implementation of the scheme: the `svix` crate.

use std::time::SystemTime;

use clerk_webhooks::{SigningSecret, Verifier};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use svix::webhooks::Webhook;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn svix_headers(id: &str, timestamp: i64, signature: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("svix-id", HeaderValue::from_str(id).unwrap());
    headers.insert("svix-timestamp", HeaderValue::from(timestamp));
    headers.insert("svix-signature", HeaderValue::from_str(signature).unwrap());
    headers
}

#[test]
fn published_svix_sign_vector() {
    let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let verifier = Verifier::new(SigningSecret::new(secret).unwrap());
    let body = br#"{"email":"test@example.com","username":"test_user"}"#;
    let ours = verifier.sign("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body);
    assert_eq!(ours, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    let theirs = Webhook::new(secret)
        .unwrap()
        .sign("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body)
        .unwrap();
    assert_eq!(ours, theirs);
}

fn secret_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 24..64).prop_map(|key| {
        use base64::Engine;
        format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(key)
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn svix_accepts_what_we_sign(
        secret in secret_strategy(),
        id in "[!-~]{1,64}",
        body in ".{0,2048}",
    ) {
        let verifier = Verifier::new(SigningSecret::new(&secret).unwrap());
        let timestamp = now();
        let headers = verifier.signed_headers(&id, timestamp, body.as_bytes()).unwrap();
        prop_assert!(Webhook::new(&secret).unwrap().verify(body.as_bytes(), &headers).is_ok());
        // And svix's own signature is byte-for-byte ours.
        let theirs = Webhook::new(&secret).unwrap().sign(&id, timestamp, body.as_bytes()).unwrap();
        prop_assert_eq!(&headers["svix-signature"], theirs.as_str());
    }

    #[test]
    fn we_accept_what_svix_signs(
        secret in secret_strategy(),
        id in "[!-~]{1,64}",
        body in ".{0,2048}",
        offset in -300i64..=300,
    ) {
        let timestamp = now() + offset;
        let signature = Webhook::new(&secret).unwrap().sign(&id, timestamp, body.as_bytes()).unwrap();
        let headers = svix_headers(&id, timestamp, &signature);
        let verifier = Verifier::new(SigningSecret::new(&secret).unwrap());
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs((timestamp - offset) as u64);
        let delivery = verifier.verify_at(&headers, body.as_bytes(), at).unwrap();
        prop_assert_eq!(delivery.id(), id.as_str());
        prop_assert_eq!(delivery.timestamp(), timestamp);
    }

    #[test]
    fn both_refuse_a_svix_signature_over_another_body(
        secret in secret_strategy(),
        body in ".{1,256}",
    ) {
        let timestamp = now();
        let signature = Webhook::new(&secret).unwrap().sign("msg_1", timestamp, body.as_bytes()).unwrap();
        let headers = svix_headers("msg_1", timestamp, &signature);
        let other = format!("{body}x");
        let verifier = Verifier::new(SigningSecret::new(&secret).unwrap());
        prop_assert!(verifier.verify(&headers, other.as_bytes()).is_err());
        prop_assert!(Webhook::new(&secret).unwrap().verify(other.as_bytes(), &headers).is_err());
    }
}

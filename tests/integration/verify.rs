//! The verifier's contract (the Standard Webhooks scheme as Svix signs it), seen from outside the
//! crate.

use std::time::{Duration, UNIX_EPOCH};

use clerk_webhooks::{BodyVariant, Finding, SigningSecret, Verifier, VerifyError};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::common::{at, NOW, OTHER_SECRET, SECRET};

const BODY: &[u8] = br#"{"type":"user.created","object":"event","data":{"id":"user_1"}}"#;

fn verifier(secret: &str) -> Verifier {
    Verifier::new(SigningSecret::new(secret).unwrap())
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            )
        })
        .collect()
}

fn signed(verifier: &Verifier, id: &str, timestamp: i64, body: &[u8]) -> HeaderMap {
    verifier.signed_headers(id, timestamp, body).unwrap()
}

#[test]
fn accepts_a_good_delivery_and_reports_its_identity() {
    let verifier = verifier(SECRET);
    let delivery = verifier
        .verify_at(&signed(&verifier, "msg_1", NOW, BODY), BODY, at(NOW))
        .unwrap();
    assert_eq!(delivery.id(), "msg_1");
    assert_eq!(delivery.timestamp(), NOW);
}

#[test]
fn both_header_families_in_any_case_and_mixed() {
    let verifier = verifier(SECRET);
    let signature = verifier.sign("msg_1", NOW, BODY);
    let now = NOW.to_string();
    let families = [
        ["svix-id", "svix-timestamp", "svix-signature"],
        ["webhook-id", "webhook-timestamp", "webhook-signature"],
        ["Svix-Id", "SVIX-TIMESTAMP", "sViX-sIgNaTuRe"],
        ["Webhook-Id", "WEBHOOK-TIMESTAMP", "Webhook-Signature"],
        ["svix-id", "webhook-timestamp", "Svix-Signature"],
        ["webhook-id", "svix-timestamp", "WEBHOOK-signature"],
    ];
    for [id, timestamp, signature_name] in families {
        let map = headers(&[
            (id, "msg_1"),
            (timestamp, &now),
            (signature_name, &signature),
        ]);
        assert!(
            verifier.verify_at(&map, BODY, at(NOW)).is_ok(),
            "{id} {timestamp} {signature_name}"
        );
    }
}

#[test]
fn svix_headers_take_precedence_over_webhook_twins() {
    let verifier = verifier(SECRET);
    let signature = verifier.sign("msg_1", NOW, BODY);
    let map = headers(&[
        ("svix-id", "msg_1"),
        ("webhook-id", "msg_forged"),
        ("svix-timestamp", &NOW.to_string()),
        ("webhook-timestamp", "1"),
        ("svix-signature", &signature),
        ("webhook-signature", "v1,AAAA"),
    ]);
    assert_eq!(
        verifier.verify_at(&map, BODY, at(NOW)).unwrap().id(),
        "msg_1"
    );
}

#[test]
fn each_missing_header_is_named() {
    let verifier = verifier(SECRET);
    let full = signed(&verifier, "msg_1", NOW, BODY);
    for name in ["svix-id", "svix-timestamp", "svix-signature"] {
        let mut map = full.clone();
        map.remove(name);
        let err = verifier.verify_at(&map, BODY, at(NOW)).unwrap_err();
        assert_eq!(err, VerifyError::MissingHeader { name });
        assert_eq!(err.code(), "missing_header");
        assert!(err.to_string().contains(name));
    }
}

#[test]
fn tolerance_bound_is_inclusive_both_ways() {
    let verifier = verifier(SECRET);
    for (timestamp, expected) in [
        (NOW - 300, Ok(())),
        (NOW + 300, Ok(())),
        (
            NOW - 301,
            Err(VerifyError::TimestampTooOld {
                timestamp: NOW - 301,
            }),
        ),
        (
            NOW + 301,
            Err(VerifyError::TimestampTooNew {
                timestamp: NOW + 301,
            }),
        ),
    ] {
        let map = signed(&verifier, "msg_1", timestamp, BODY);
        assert_eq!(
            verifier.verify_at(&map, BODY, at(NOW)).map(|_| ()),
            expected,
            "{timestamp}"
        );
    }
}

#[test]
fn custom_tolerance_is_honoured() {
    let verifier = verifier(SECRET).with_tolerance(Duration::from_secs(10));
    let map = signed(&verifier, "msg_1", NOW - 11, BODY);
    assert_eq!(
        verifier.verify_at(&map, BODY, at(NOW)).unwrap_err().code(),
        "timestamp_too_old"
    );
    let map = signed(&verifier, "msg_1", NOW - 10, BODY);
    assert!(verifier.verify_at(&map, BODY, at(NOW)).is_ok());
}

#[test]
fn the_window_is_checked_before_the_signature() {
    let verifier = verifier(SECRET);
    let mut map = signed(&verifier, "msg_1", NOW - 1000, BODY);
    map.insert("svix-signature", HeaderValue::from_static("v1,garbage"));
    assert_eq!(
        verifier.verify_at(&map, BODY, at(NOW)).unwrap_err().code(),
        "timestamp_too_old"
    );
}

#[test]
fn extreme_timestamps_and_clocks_neither_overflow_nor_panic() {
    let verifier = verifier(SECRET).with_tolerance(Duration::from_secs(u64::MAX));
    let strict = self::verifier(SECRET);
    let extremes = [
        i64::MIN.to_string(),
        i64::MAX.to_string(),
        "99999999999999999999".to_string(),
        "18446744073709551616".to_string(),
        "-1".to_string(),
        "abc".to_string(),
        "1700000000.5".to_string(),
        String::new(),
    ];
    for text in &extremes {
        let mut map = signed(&strict, "msg_1", NOW, BODY);
        map.insert("svix-timestamp", HeaderValue::from_str(text).unwrap());
        for v in [&verifier, &strict] {
            for now in [
                at(0),
                at(NOW),
                at(-NOW),
                UNIX_EPOCH + Duration::from_secs(u64::MAX / 4),
            ] {
                let outcome = v.verify_at(&map, BODY, now);
                assert!(
                    outcome.is_err(),
                    "{text:?} must not verify: the signature is for {NOW}"
                );
            }
        }
        if text.parse::<i64>().map_or(true, |value| value < 0) {
            let err = strict.verify_at(&map, BODY, at(NOW)).unwrap_err();
            assert_eq!(err, VerifyError::InvalidTimestamp, "{text:?}");
        }
    }
    // i64::MAX is a valid number, just far in the future.
    let map = signed(&strict, "msg_1", i64::MAX, BODY);
    assert_eq!(
        strict.verify_at(&map, BODY, at(NOW)).unwrap_err(),
        VerifyError::TimestampTooNew {
            timestamp: i64::MAX
        }
    );
    // ... and with a huge tolerance, it verifies without overflowing.
    assert!(verifier.verify_at(&map, BODY, at(NOW)).is_ok());
}

#[test]
fn matching_signature_in_any_position_of_the_list() {
    let verifier = verifier(SECRET);
    let good = verifier.sign("msg_1", NOW, BODY);
    let wrong = self::verifier(OTHER_SECRET).sign("msg_1", NOW, BODY);
    let good_as_v2 = good.replacen("v1,", "v2,", 1);
    for list in [
        good.clone(),
        format!("{wrong} {good}"),
        format!("{good} {wrong}"),
        format!("{wrong} {good_as_v2} {good} {wrong}"),
        format!("v1a,xyz {good}"),
        format!("  {good}  "),
    ] {
        let mut map = signed(&verifier, "msg_1", NOW, BODY);
        map.insert("svix-signature", HeaderValue::from_str(&list).unwrap());
        assert!(verifier.verify_at(&map, BODY, at(NOW)).is_ok(), "{list}");
    }
}

#[test]
fn non_v1_malformed_empty_and_truncated_signatures_never_match() {
    let verifier = verifier(SECRET);
    let good = verifier.sign("msg_1", NOW, BODY);
    let encoded = good.strip_prefix("v1,").unwrap();
    let truncated_text = &encoded[..encoded.len() - 4];
    let mut truncated_bytes = base64_decode(encoded);
    truncated_bytes.truncate(16);
    let truncated_tag = base64_encode(&truncated_bytes);
    let extended = base64_encode(&[base64_decode(encoded), vec![0]].concat());
    for list in [
        String::new(),
        " ".to_string(),
        "v1,".to_string(),
        "v1".to_string(),
        ",".to_string(),
        format!("v2,{encoded}"),
        format!("V1,{encoded}"),
        encoded.to_string(),
        format!("v1,{truncated_text}"),
        format!("v1,{truncated_tag}"),
        format!("v1,{extended}"),
        format!("v1,{encoded}=="),
        format!("v1:{encoded}"),
        format!("v1,,{encoded}"),
        format!("v1, {encoded}"),
    ] {
        let mut map = signed(&verifier, "msg_1", NOW, BODY);
        map.insert("svix-signature", HeaderValue::from_str(&list).unwrap());
        assert_eq!(
            verifier.verify_at(&map, BODY, at(NOW)),
            Err(VerifyError::InvalidSignature),
            "{list:?}"
        );
    }
}

#[test]
fn any_change_to_id_timestamp_or_body_is_refused() {
    let verifier = verifier(SECRET);
    let map = signed(&verifier, "msg_1", NOW, BODY);
    let mut other_id = map.clone();
    other_id.insert("svix-id", HeaderValue::from_static("msg_2"));
    let mut other_time = map.clone();
    other_time.insert("svix-timestamp", HeaderValue::from(NOW + 1));
    let mut leading_zero = map.clone();
    leading_zero.insert(
        "svix-timestamp",
        HeaderValue::from_str(&format!("0{NOW}")).unwrap(),
    );
    for tampered in [other_id, other_time, leading_zero] {
        assert_eq!(
            verifier.verify_at(&tampered, BODY, at(NOW)),
            Err(VerifyError::InvalidSignature)
        );
    }
    let mut body = BODY.to_vec();
    for index in [0, BODY.len() / 2, BODY.len() - 1] {
        body[index] ^= 1;
        assert_eq!(
            verifier.verify_at(&map, &body, at(NOW)),
            Err(VerifyError::InvalidSignature)
        );
        body[index] ^= 1;
    }
    assert_eq!(
        verifier.verify_at(&map, &BODY[..BODY.len() - 1], at(NOW)),
        Err(VerifyError::InvalidSignature)
    );
}

#[test]
fn rotation_accepts_either_secret() {
    let old = verifier(SECRET);
    let new = verifier(OTHER_SECRET);
    let rotating = verifier(SECRET).with_secret(SigningSecret::new(OTHER_SECRET).unwrap());
    for signer in [&old, &new] {
        let map = signed(signer, "msg_1", NOW, BODY);
        assert!(rotating.verify_at(&map, BODY, at(NOW)).is_ok());
    }
    // Each single-secret verifier still refuses the other's signature.
    assert_eq!(
        old.verify_at(&signed(&new, "msg_1", NOW, BODY), BODY, at(NOW)),
        Err(VerifyError::InvalidSignature)
    );
    // `sign` uses the first secret.
    assert_eq!(
        rotating.sign("msg_1", NOW, BODY),
        old.sign("msg_1", NOW, BODY)
    );
}

#[test]
fn non_utf8_bodies_are_verified_as_bytes() {
    let verifier = verifier(SECRET);
    let body = [0xff, 0xfe, 0x00, b'{', 0x80];
    let map = signed(&verifier, "msg_1", NOW, &body);
    assert!(verifier.verify_at(&map, &body, at(NOW)).is_ok());
    assert_eq!(
        verifier.verify_at(&map, &body[..4], at(NOW)),
        Err(VerifyError::InvalidSignature)
    );
}

#[test]
fn injected_clock_drives_verify() {
    let verifier = verifier(SECRET).with_clock(|| at(NOW + 301));
    let map = signed(&verifier, "msg_1", NOW, BODY);
    assert_eq!(
        verifier.verify(&map, BODY),
        Err(VerifyError::TimestampTooOld { timestamp: NOW })
    );
}

#[test]
fn debug_never_shows_secrets() {
    let verifier = verifier(SECRET).with_secret(SigningSecret::new(OTHER_SECRET).unwrap());
    let shown = format!("{verifier:?} {verifier:#?}");
    assert!(shown.contains("2 redacted"), "{shown}");
    for secret in [SECRET, OTHER_SECRET] {
        let key = secret.strip_prefix("whsec_").unwrap();
        assert!(!shown.contains(&key[..8]), "{shown}");
    }
}

/// Issue 30, item 7: for 24 hours after an endpoint's secret is rotated, Svix signs with the old
/// and the new secret. A delivery that verifies but also carries a signature none of the secrets
/// made shows the new secret is missing; the diagnosis says so.
#[test]
fn a_delivery_also_signed_by_an_unknown_secret_is_diagnosed_as_a_rotation() {
    let old = verifier(SECRET);
    let new = verifier(OTHER_SECRET);
    let mut map = signed(&old, "msg_1", NOW, BODY);
    let both = format!(
        "{} {}",
        new.sign("msg_1", NOW, BODY),
        old.sign("msg_1", NOW, BODY)
    );
    map.insert("svix-signature", HeaderValue::from_str(&both).unwrap());

    assert!(old.verify_at(&map, BODY, at(NOW)).is_ok());
    let diagnosis = old.diagnose_at(&map, BODY, at(NOW));
    assert!(diagnosis.outcome.is_ok());
    assert_eq!(diagnosis.signed_by(), Some(0));
    assert_eq!(
        diagnosis.findings,
        [Finding::UnknownSigner { signatures: 1 }]
    );
    let text = diagnosis.to_string();
    assert!(
        text.contains("also carries 1 v1 signature(s) that none of the 1 secret(s) made")
            && text.contains("24 hours")
            && text.contains("if the missing one is the new secret, add it"),
        "{text}"
    );

    // With both secrets configured, in either order, every signature is known (the secret after
    // the signer is tried for the entry the signer did not make).
    for rotating in [
        verifier(SECRET).with_secret(SigningSecret::new(OTHER_SECRET).unwrap()),
        verifier(OTHER_SECRET).with_secret(SigningSecret::new(SECRET).unwrap()),
    ] {
        let diagnosis = rotating.diagnose_at(&map, BODY, at(NOW));
        assert!(diagnosis.outcome.is_ok());
        assert_eq!(diagnosis.findings, []);
        assert!(!diagnosis.to_string().contains("24 hours"));
    }
    // Two secrets configured, neither of them the new one: still an unknown signer.
    let third = SigningSecret::from_bytes(vec![7; 32]).unwrap();
    let diagnosis = verifier(SECRET)
        .with_secret(third)
        .diagnose_at(&map, BODY, at(NOW));
    assert_eq!(
        diagnosis.findings,
        [Finding::UnknownSigner { signatures: 1 }]
    );
    // Judged too late, the signature still holds, and the rotation is still reported.
    let diagnosis = old.diagnose_at(&map, BODY, at(NOW + 3600));
    assert!(diagnosis.error().is_some());
    assert_eq!(
        diagnosis.findings,
        [Finding::UnknownSigner { signatures: 1 }]
    );
    // A refused delivery says nothing of the kind: forged entries are no rotation.
    let forged = headers(&[
        ("svix-id", "msg_1"),
        ("svix-timestamp", &NOW.to_string()),
        ("svix-signature", &both),
    ]);
    let diagnosis = old.diagnose_at(&forged, b"{}", at(NOW));
    assert!(!diagnosis.to_string().contains("24 hours"));
}

/// Regression (issue 30, item 11): Clerk signs compact JSON with every object's keys sorted (and
/// Go's escapes of `<`, `>`, `&`); a framework that parses the body and writes it back compact,
/// in its own key order, leaves no whitespace or escape to see, and the diagnosis blamed the
/// secret. The diagnosis writes the body again the way Clerk does and finds it verifies.
#[test]
fn a_re_serialized_body_with_reordered_keys_is_no_wrong_secret() {
    let clerk = concat!(
        r#"{"data":{"email_addresses":[{"email_address":"zoe@example.com","id":"idn_1"}],"#,
        r#""first_name":"Zoë","id":"user_1","image_url":"https://img.clerk.com/x?a=1\u0026b=2","#,
        r#""object":"user","public_metadata":{"plan":"pro"}},"event_attributes":{"http_request":"#,
        r#"{"client_ip":"203.0.113.7","user_agent":"Mozilla/5.0"}},"instance_id":"ins_1","#,
        r#""object":"event","timestamp":1716883200000,"type":"user.created"}"#
    );
    // What `JSON.stringify` of an object built by a body-parsing middleware, or a serde struct,
    // writes: compact, its own key order, `&` as it is.
    let received = concat!(
        r#"{"type":"user.created","object":"event","timestamp":1716883200000,"#,
        r#""instance_id":"ins_1","data":{"id":"user_1","object":"user","first_name":"Zoë","#,
        r#""image_url":"https://img.clerk.com/x?a=1&b=2","email_addresses":[{"id":"idn_1","#,
        r#""email_address":"zoe@example.com"}],"public_metadata":{"plan":"pro"}},"#,
        r#""event_attributes":{"http_request":{"client_ip":"203.0.113.7","user_agent":"Mozilla/5.0"}}}"#
    );
    let receiver = verifier(SECRET);
    let map = signed(&receiver, "msg_1", NOW, clerk.as_bytes());
    assert!(receiver.verify_at(&map, clerk.as_bytes(), at(NOW)).is_ok());

    let diagnosis = receiver.diagnose_at(&map, received.as_bytes(), at(NOW));
    assert_eq!(diagnosis.error(), Some(&VerifyError::InvalidSignature));
    let text = diagnosis.to_string();
    assert!(!text.contains("another endpoint"), "{text}");
    assert!(
        text.contains("re-serialized") && text.contains("verify the raw bytes as received"),
        "{text}"
    );
    assert!(
        diagnosis
            .findings
            .contains(&Finding::VerifiesAs(BodyVariant::SortedCompactJson)),
        "{:?}",
        diagnosis.findings
    );
    // Under another secret, the same body is no proof of anything but its key order.
    let other = verifier(OTHER_SECRET);
    let diagnosis = other.diagnose_at(&map, received.as_bytes(), at(NOW));
    assert_eq!(diagnosis.findings, [Finding::UnsortedKeys]);
    let text = diagnosis.to_string();
    assert!(
        text.contains("may have been changed on the way") && text.contains("if they already are"),
        "{text}"
    );
    // The body as Clerk wrote it under a wrong secret: no sign of a re-serialization.
    let diagnosis = other.diagnose_at(&map, clerk.as_bytes(), at(NOW));
    assert_eq!(diagnosis.findings, []);
    assert!(diagnosis
        .to_string()
        .contains("another endpoint or environment"));
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

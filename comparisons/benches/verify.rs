//! Verification alone: this crate vs `svix::webhooks::Webhook::verify` on identical inputs, vs a
//! bare HMAC-SHA256 over the same bytes (the floor), and the HMAC backends side by side.

use std::time::SystemTime;

use base64::Engine;
use clerk_webhooks::{SigningSecret, Verifier};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::hint::black_box;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SIZES: [(usize, &str); 4] = [
    (1024, "1KiB"),
    (4096, "4KiB"),
    (65536, "64KiB"),
    (1 << 20, "1MiB"),
];

/// A JSON-ish UTF-8 body (svix only signs UTF-8) of exactly `len` bytes.
fn body(len: usize) -> Vec<u8> {
    let mut body = br#"{"type":"user.created","data":{"bio":""#.to_vec();
    body.resize(len - 3, b'a');
    body.extend_from_slice(br#""}}"#);
    body
}

fn key() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(SECRET.strip_prefix("whsec_").unwrap())
        .unwrap()
}

fn verification(c: &mut Criterion) {
    let verifier = Verifier::new(SigningSecret::new(SECRET).unwrap());
    let svix = svix::webhooks::Webhook::new(SECRET).unwrap();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let key = key();
    let mut group = c.benchmark_group("verify");
    for (len, label) in SIZES {
        let body = body(len);
        let headers = verifier
            .signed_headers("msg_2abcDEF123", now, &body)
            .unwrap();
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(
            BenchmarkId::new("clerk-webhooks", label),
            &body,
            |b, body| {
                b.iter(|| {
                    verifier
                        .verify(black_box(&headers), black_box(body))
                        .unwrap()
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("svix", label), &body, |b, body| {
            b.iter(|| svix.verify(black_box(body), black_box(&headers)).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("bare-hmac-sha256", label),
            &body,
            |b, body| {
                b.iter(|| {
                    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
                    mac.update(b"msg_2abcDEF123.");
                    mac.update(now.to_string().as_bytes());
                    mac.update(b".");
                    mac.update(black_box(body));
                    mac.finalize().into_bytes()
                })
            },
        );
    }
    group.finish();
}

/// HMAC-SHA256 of 4 KiB with each backend, to decide whether an alternative backend is worth a
/// cargo feature (it is when it is at least 1.3x faster).
fn hmac_backends(c: &mut Criterion) {
    let key = key();
    let mut group = c.benchmark_group("hmac-backend");
    for (len, label) in [(4096usize, "4KiB"), (65536, "64KiB")] {
        let body = body(len);
        group.throughput(Throughput::Bytes(len as u64));
        let rustcrypto = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        group.bench_with_input(
            BenchmarkId::new("rustcrypto-sha2", label),
            &body,
            |b, body| {
                b.iter(|| {
                    let mut mac = rustcrypto.clone();
                    mac.update(black_box(body));
                    mac.finalize().into_bytes()
                })
            },
        );
        let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
        group.bench_with_input(BenchmarkId::new("ring", label), &body, |b, body| {
            b.iter(|| ring::hmac::sign(&ring_key, black_box(body)))
        });
        let aws_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
        group.bench_with_input(BenchmarkId::new("aws-lc-rs", label), &body, |b, body| {
            b.iter(|| aws_lc_rs::hmac::sign(&aws_key, black_box(body)))
        });
    }
    group.finish();
}

/// What a forged `svix-signature` can make verification cost (hardening issue, item 3): before,
/// 8,000 entries with 3 secrets cost 4.5 ms against 4 µs for a clean header.
fn signature_header_flood(c: &mut Criterion) {
    let other = |n: u8| SigningSecret::from_bytes(vec![n; 32]).unwrap();
    let verifier = Verifier::new(other(1))
        .with_secret(other(2))
        .with_secret(SigningSecret::new(SECRET).unwrap());
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let body = body(1024);
    let mut headers = verifier
        .signed_headers("msg_2abcDEF123", now, &body)
        .unwrap();
    let genuine = headers["svix-signature"].to_str().unwrap().to_owned();
    let forged = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let mut group = c.benchmark_group("signature-header-3-secrets");
    for (label, header, verifies) in [
        ("clean (1 entry)", genuine.clone(), true),
        (
            "rotation (4 forged + genuine)",
            format!("{} {genuine}", [forged; 4].join(" ")),
            true,
        ),
        ("16 forged entries (the cap)", [forged; 16].join(" "), false),
        ("8000 forged entries", vec![forged; 8000].join(" "), false),
    ] {
        headers.insert("svix-signature", header.parse().unwrap());
        group.bench_function(label, |b| {
            b.iter(|| {
                let result = verifier.verify(black_box(&headers), black_box(&body));
                assert_eq!(result.is_ok(), verifies);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, verification, hmac_backends, signature_header_flood);
criterion_main!(benches);

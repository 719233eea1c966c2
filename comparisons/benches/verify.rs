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

criterion_group!(benches, verification, hmac_backends);
criterion_main!(benches);

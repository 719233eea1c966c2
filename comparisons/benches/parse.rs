//! Parsing a realistic `user.created` body: typed `ClerkEvent` vs `serde_json::Value`.

use clerk_webhooks::{parse_event, ClerkEvent};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use std::hint::black_box;

fn parsing(c: &mut Criterion) {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../src/testing/samples/user.created.json"
    ))
    .unwrap();
    let mut group = c.benchmark_group("parse-user.created");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("parse_event (typed + meta)", |b| {
        b.iter(|| parse_event(black_box(&body)).unwrap())
    });
    group.bench_function("serde_json::from_slice::<ClerkEvent>", |b| {
        b.iter(|| serde_json::from_slice::<ClerkEvent>(black_box(&body)).unwrap())
    });
    group.bench_function("serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&body)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, parsing);
criterion_main!(benches);

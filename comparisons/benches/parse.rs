//! Parsing the sample bodies: typed `parse_event` vs `serde_json::Value`, one group per sample.
//!
//! `cargo bench -p clerk-webhooks-comparisons --bench parse` runs every sample; a criterion filter
//! picks some (`-- parse/user.created`). `user.created` also measures `ClerkEvent`'s generic
//! `Deserialize` (through `Value`). For figures that hold on a loaded machine, count instructions
//! instead: `bash scripts/parse_instructions.sh`.

use clerk_webhooks::testing::sample;
use clerk_webhooks::{parse_event, ClerkEvent};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use std::hint::black_box;

/// Every sample of the test kit, with its event type.
fn samples() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    ClerkEvent::KNOWN_TYPES.iter().map(|&event_type| {
        let body = sample(event_type).expect("the kit has a sample of every known type");
        (event_type, body)
    })
}

fn parsing(c: &mut Criterion) {
    for (name, body) in samples() {
        let mut group = c.benchmark_group(format!("parse/{name}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function("parse_event", |b| {
            b.iter(|| parse_event(black_box(body)).unwrap())
        });
        group.bench_function("serde_json::Value", |b| {
            b.iter(|| serde_json::from_slice::<Value>(black_box(body)).unwrap())
        });
        if name == "user.created" {
            group.bench_function("serde_json::from_slice::<ClerkEvent>", |b| {
                b.iter(|| serde_json::from_slice::<ClerkEvent>(black_box(body)).unwrap())
            });
        }
        group.finish();
    }
}

criterion_group!(benches, parsing);
criterion_main!(benches);

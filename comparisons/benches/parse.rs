//! Parsing the sample bodies: typed `parse_event` vs `serde_json::Value`, one group per sample.
//!
//! `cargo bench -p clerk-webhooks-comparisons --bench parse` runs every sample; a criterion filter
//! picks some (`-- parse/user.created`). `user.created` also measures `ClerkEvent`'s generic
//! `Deserialize` (through `Value`). For figures that hold on a loaded machine, count instructions
//! instead: `bash scripts/parse_instructions.sh`.

use clerk_webhooks::{parse_event, ClerkEvent};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use std::hint::black_box;

fn samples() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../src/testing/samples");
    let mut samples: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    samples.sort();
    samples
}

fn parsing(c: &mut Criterion) {
    for (name, body) in samples() {
        let mut group = c.benchmark_group(format!("parse/{name}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function("parse_event", |b| {
            b.iter(|| parse_event(black_box(&body)).unwrap())
        });
        group.bench_function("serde_json::Value", |b| {
            b.iter(|| serde_json::from_slice::<Value>(black_box(&body)).unwrap())
        });
        if name == "user.created" {
            group.bench_function("serde_json::from_slice::<ClerkEvent>", |b| {
                b.iter(|| serde_json::from_slice::<ClerkEvent>(black_box(&body)).unwrap())
            });
        }
        group.finish();
    }
}

criterion_group!(benches, parsing);
criterion_main!(benches);

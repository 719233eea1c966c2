//! Metrics read back from the `metrics` facade's debugging recorder, one recorder per test.

use metrics::{SharedString, Unit};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::{CompositeKey, MetricKind};

/// What the recorder holds; a snapshot drains counters and histograms, so take one and read it.
pub type Snapshot = Vec<(CompositeKey, Option<Unit>, Option<SharedString>, DebugValue)>;

/// A value of the snapshot: `kind` `name` with exactly `labels`.
pub fn value<'a>(
    snapshot: &'a Snapshot,
    kind: MetricKind,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a DebugValue> {
    snapshot
        .iter()
        .find(|(key, _, _, _)| matches(key, kind, name, labels))
        .map(|(_, _, _, value)| value)
}

pub fn matches(key: &CompositeKey, kind: MetricKind, name: &str, labels: &[(&str, &str)]) -> bool {
    let seen: Vec<(&str, &str)> = key
        .key()
        .labels()
        .map(|label| (label.key(), label.value()))
        .collect();
    key.kind() == kind && key.key().name() == name && seen == labels
}

pub fn counter(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> u64 {
    match value(snapshot, MetricKind::Counter, name, labels) {
        Some(DebugValue::Counter(count)) => *count,
        _ => 0,
    }
}

pub fn gauge_named(snapshotter: &Snapshotter, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let snapshot = snapshotter.snapshot().into_vec();
    match value(&snapshot, MetricKind::Gauge, name, labels) {
        Some(DebugValue::Gauge(value)) => Some(value.into_inner()),
        _ => None,
    }
}

/// Runs `test` on a current-thread runtime with a recorder of its own (the facade's local
/// recorder is per thread, so parallel tests do not see each other's counts).
pub fn with_recorder(test: impl FnOnce(Snapshotter, &tokio::runtime::Runtime)) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || test(snapshotter, &runtime));
}

//! The queue job's byte-exact round trip (`clerk_webhooks::queue::QueuedDelivery`):
//! whatever UTF-8 id, body and endpoint and whatever `i64` timestamp a job holds, serializing it
//! and reading it back gives the same job, with the body byte for byte. apalis-redis stores jobs
//! with serde_json (`JsonCodec<Vec<u8>>` for the queue, `JsonCodec<Value>` where it persists), so
//! all three serde_json paths are checked: bytes, text and `Value`.
//!
//! Input, first byte:
//! - even: a job built here. Then 8 bytes of timestamp (little-endian `i64`), and the id, the body
//!   and the endpoint separated by `0xff` (a byte no UTF-8 holds; each part read lossily, so every
//!   input is some UTF-8). The job is built through serde_json from a JSON object, so this target
//!   keeps compiling when fields are added with `#[serde(default)]`; a key the struct does not
//!   have (`endpoint` before it existed) is ignored.
//! - odd: the rest is any JSON text read as a job; whatever reads survives the same round trips.
#![no_main]

use clerk_webhooks::parse_event;
use clerk_webhooks::queue::QueuedDelivery;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fn round_trips(job: &QueuedDelivery) -> Value {
    let bytes = serde_json::to_vec(job).unwrap();
    let from_bytes: QueuedDelivery = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(&from_bytes, job);
    assert_eq!(from_bytes.body.as_bytes(), job.body.as_bytes());

    let text = serde_json::to_string(job).unwrap();
    assert_eq!(text.as_bytes(), bytes.as_slice());
    let from_text: QueuedDelivery = serde_json::from_str(&text).unwrap();
    assert_eq!(&from_text, job);

    let value = serde_json::to_value(job).unwrap();
    let from_value: QueuedDelivery = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(&from_value, job);
    // The stored JSON is the same whichever way it was written.
    assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), value);

    assert_eq!(job.delivery().id(), job.id);
    assert_eq!(job.delivery().timestamp(), job.timestamp);
    assert_eq!(job.event(), parse_event(job.body.as_bytes()));
    value
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 1 {
        if let Ok(job) = serde_json::from_slice::<QueuedDelivery>(rest) {
            round_trips(&job);
        }
        return;
    }

    let mut timestamp = [0u8; 8];
    let taken = rest.len().min(8);
    timestamp[..taken].copy_from_slice(&rest[..taken]);
    let timestamp = i64::from_le_bytes(timestamp);
    let mut parts = rest[taken..]
        .splitn(3, |&byte| byte == 0xff)
        .map(String::from_utf8_lossy);
    let id = parts.next().unwrap_or_default().into_owned();
    let body = parts.next().unwrap_or_default().into_owned();
    let endpoint = parts.next().unwrap_or_default().into_owned();

    let object = json!({"id": id, "timestamp": timestamp, "body": body, "endpoint": endpoint});
    let job: QueuedDelivery = serde_json::from_value(object.clone())
        .unwrap_or_else(|err| panic!("a job of any UTF-8 and i64 must build: {err}"));
    assert_eq!(job.id, id);
    assert_eq!(job.timestamp, timestamp);
    assert_eq!(job.body.as_bytes(), body.as_bytes());

    let stored = round_trips(&job);
    // Every field the job serializes came from the object built here, unchanged.
    let stored = stored.as_object().unwrap();
    for (key, value) in stored {
        if let Some(sent) = object.get(key) {
            assert_eq!(value, sent, "field {key}");
        }
    }
    for key in ["id", "timestamp", "body"] {
        assert!(stored.contains_key(key), "the job lost its {key}");
    }
});

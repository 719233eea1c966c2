//! Property tests: no JSON input makes the event parser panic, and what parses round-trips.

use clerk_webhooks::{parse_event, ClerkEvent};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z_]{0,12}".prop_map(Value::String),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Mostly names the model knows, so the generated objects reach deep into it.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "id",
            "object",
            "status",
            "email_addresses",
            "email_address",
            "verification",
            "user",
            "organization",
            "public_user_data",
            "items",
            "plan",
            "interval",
            "payer",
            "permissions",
            "deleted",
            "data",
            "created_at",
            "first_name",
            "linked_to",
            "subscription_items",
            "amount",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,10}",
    ]
}

fn event_type() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(ClerkEvent::KNOWN_TYPES.to_vec()).prop_map(str::to_owned),
        "[a-zA-Z.]{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn envelopes_with_arbitrary_data_never_panic(event_type in event_type(), data in arbitrary_json()) {
        let body = serde_json::to_vec(&json!({"type": event_type, "data": data})).unwrap();
        if let Ok(event) = parse_event(&body).map(|parsed| parsed.event) {
            // Whatever parses survives a round trip unchanged.
            let again: ClerkEvent = serde_json::from_slice(&serde_json::to_vec(&event).unwrap()).unwrap();
            prop_assert_eq!(again, event);
        }
    }

    #[test]
    fn arbitrary_json_bodies_never_panic(body in arbitrary_json()) {
        let bytes = serde_json::to_vec(&body).unwrap();
        let fast = parse_event(&bytes).map(|parsed| parsed.event);
        let generic = serde_json::from_slice::<ClerkEvent>(&bytes);
        prop_assert_eq!(fast.is_ok(), generic.is_ok());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_event(&bytes);
    }
}

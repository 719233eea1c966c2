//! The event model against one realistic body per event type (`src/testing/samples`).

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use clerk_webhooks::event::{BillingInterval, BillingStatus, MaybeDeleted, SessionStatus};
use clerk_webhooks::{parse_event, ClerkEvent, EventError};
use serde_json::Value;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/testing/samples");
    let mut all: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            (name, fs::read(&path).unwrap())
        })
        .collect();
    all.sort();
    all
}

fn fixture(name: &str) -> (ClerkEvent, clerk_webhooks::EventMeta) {
    let (_, body) = fixtures().into_iter().find(|(n, _)| n == name).unwrap();
    parse_event(&body).unwrap().into_parts()
}

/// Every field the model emits agrees with the input; fields the input lacks are emitted only as
/// empty defaults (`null`, `false`, `0`, `""`, `[]`, `{}`).
fn assert_agrees(emitted: &Value, input: &Value, path: &str) {
    match (emitted, input) {
        (Value::Object(emitted), Value::Object(input)) => {
            for (key, value) in emitted {
                let here = format!("{path}.{key}");
                match input.get(key) {
                    Some(original) => assert_agrees(value, original, &here),
                    None => assert!(
                        is_empty_default(value),
                        "{here}: emitted {value} but input has none"
                    ),
                }
            }
        }
        (Value::Array(emitted), Value::Array(input)) => {
            assert_eq!(emitted.len(), input.len(), "{path}: array length");
            for (index, (value, original)) in emitted.iter().zip(input).enumerate() {
                assert_agrees(value, original, &format!("{path}[{index}]"));
            }
        }
        (emitted, input) => assert_eq!(emitted, input, "{path}"),
    }
}

fn is_empty_default(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(flag) => !flag,
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
    }
}

#[test]
fn there_is_one_fixture_per_known_type_and_49_types() {
    let names: BTreeSet<String> = fixtures().into_iter().map(|(name, _)| name).collect();
    let known: BTreeSet<String> = ClerkEvent::KNOWN_TYPES
        .iter()
        .map(|t| t.to_string())
        .collect();
    assert_eq!(known.len(), 49);
    assert_eq!(names, known);
}

#[test]
fn every_fixture_parses_to_its_own_variant() {
    for (name, body) in fixtures() {
        let (event, _) = parse_event(&body)
            .unwrap_or_else(|err| panic!("{name}: {err}"))
            .into_parts();
        assert!(event.is_known(), "{name} parsed as Unknown");
        assert_eq!(event.event_type(), name);
        let via_serde: ClerkEvent = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            via_serde, event,
            "{name}: Deserialize and parse_event disagree"
        );
    }
}

#[test]
fn serialized_data_agrees_with_the_input() {
    for (name, body) in fixtures() {
        let input: Value = serde_json::from_slice(&body).unwrap();
        let (event, _) = parse_event(&body).unwrap().into_parts();
        let emitted = serde_json::to_value(&event).unwrap();
        assert_eq!(emitted["type"], input["type"], "{name}");
        assert_eq!(
            emitted.as_object().unwrap().len(),
            2,
            "{name}: only type and data"
        );
        assert_agrees(&emitted["data"], &input["data"], &format!("{name}:data"));
    }
}

#[test]
fn serialize_then_deserialize_is_identity() {
    for (name, body) in fixtures() {
        let (event, _) = parse_event(&body).unwrap().into_parts();
        let json = serde_json::to_vec(&event).unwrap();
        let again: ClerkEvent = serde_json::from_slice(&json).unwrap();
        assert_eq!(again, event, "{name}");
        let (again_fast, meta) = parse_event(&json).unwrap().into_parts();
        assert_eq!(again_fast, event, "{name}");
        assert_eq!(meta, Default::default());
    }
}

#[test]
fn user_helpers_read_the_primary_entries() {
    let (ClerkEvent::UserCreated(user), meta) = fixture("user.created") else {
        panic!()
    };
    assert_eq!(user.primary_email(), Some("zoë.müller@例え.jp"));
    assert!(user.primary_email_address().unwrap().is_verified());
    assert_eq!(user.primary_phone(), Some("+15555550100"));
    assert_eq!(
        user.primary_web3_wallet().unwrap().web3_wallet,
        "0x0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(user.full_name().as_deref(), Some("Zoë Müller"));
    assert_eq!(user.email_addresses[1].linked_to[0].kind, "oauth_google");
    assert_eq!(
        user.external_accounts[0].provider.as_deref(),
        Some("oauth_google")
    );
    assert_eq!(
        user.saml_accounts[0]
            .saml_connection
            .as_ref()
            .unwrap()
            .name
            .as_deref(),
        Some("Okta")
    );
    assert_eq!(
        user.enterprise_accounts[0].protocol.as_deref(),
        Some("saml")
    );
    assert_eq!(user.public_metadata["plan"], "pro");
    assert_eq!(meta.timestamp, Some(1_716_883_200_000));
    assert_eq!(
        meta.instance_id.as_deref(),
        Some("ins_2g7np7Hrk0SN6kj5EDMLDaKNL0S")
    );

    let (ClerkEvent::UserUpdated(user), _) = fixture("user.updated") else {
        panic!()
    };
    assert_eq!(user.full_name().as_deref(), Some("Zoë"));
    assert_eq!(user.external_id.as_deref(), Some("ext-42"));
}

#[test]
fn user_deleted_keeps_external_id_and_tolerates_missing_instance_id() {
    let (ClerkEvent::UserDeleted(deleted), meta) = fixture("user.deleted") else {
        panic!()
    };
    assert_eq!(deleted.deleted, Some(true));
    assert_eq!(deleted.external_id.as_deref(), Some("ext-42"));
    assert_eq!(meta.instance_id, None);
}

#[test]
fn sessions_carry_a_nullable_user() {
    let (ClerkEvent::SessionCreated(session), _) = fixture("session.created") else {
        panic!()
    };
    assert_eq!(session.status, SessionStatus::Active);
    assert_eq!(
        Some(&session.user.as_ref().unwrap().id),
        session.user_id.as_ref()
    );
    let (ClerkEvent::SessionRevoked(session), _) = fixture("session.revoked") else {
        panic!()
    };
    assert!(session.user.is_none());
    let (ClerkEvent::SessionRemoved(_), meta) = fixture("session.removed") else {
        panic!()
    };
    let request = meta.http_request.unwrap();
    assert_eq!(request.client_ip.as_deref(), Some(""));
    assert_eq!(request.client_ip(), None);
}

#[test]
fn deleted_roles_and_permissions_accept_both_forms() {
    let (ClerkEvent::RoleDeleted(role), _) = fixture("role.deleted") else {
        panic!()
    };
    assert!(matches!(role, MaybeDeleted::Full(_)));
    assert_eq!(role.id(), Some("role_2g7np7Hrk0SN6kj5EDMLDaKNL0S"));
    let (ClerkEvent::PermissionDeleted(permission), _) = fixture("permission.deleted") else {
        panic!()
    };
    assert!(matches!(permission, MaybeDeleted::Deleted(_)));
    assert_eq!(permission.id(), Some("perm_2g7np7Hrk0SN6kj5EDMLDaKNL0S"));
    let (ClerkEvent::OrganizationMembershipDeleted(membership), _) =
        fixture("organizationMembership.deleted")
    else {
        panic!()
    };
    assert_eq!(
        membership.public_user_data.unwrap().first_name.as_deref(),
        Some("Jürgen")
    );
}

#[test]
fn otp_codes_stay_strings_with_leading_zeros() {
    let (ClerkEvent::SmsCreated(sms), _) = fixture("sms.created") else {
        panic!()
    };
    assert_eq!(sms.otp_code(), Some("012345"));
    let (ClerkEvent::EmailCreated(email), _) = fixture("email.created") else {
        panic!()
    };
    assert_eq!(email.otp_code(), Some("000123"));
}

#[test]
fn both_shapes_of_subscription_items() {
    let (ClerkEvent::SubscriptionItemActive(spec_shape), _) = fixture("subscriptionItem.active")
    else {
        panic!()
    };
    assert_eq!(
        spec_shape.interval,
        Some(BillingInterval::Name("month".into()))
    );
    assert_eq!(spec_shape.seats.unwrap().quantity, Some(5));
    let payer = spec_shape.payer.unwrap();
    assert_eq!(payer.organization_id(), None);
    assert_eq!(payer.organization_id.as_deref(), Some(""));
    assert_eq!(payer.user_id(), Some("user_34D368EufHwugfYh4yyGNEheM0S"));

    let (ClerkEvent::SubscriptionItemPastDue(ts_shape), _) = fixture("subscriptionItem.pastDue")
    else {
        panic!()
    };
    assert_eq!(ts_shape.status, BillingStatus::PastDue);
    assert_eq!(
        ts_shape.plan.unwrap().interval,
        Some(BillingInterval::Count(1))
    );
    assert_eq!(ts_shape.plan_period.as_deref(), Some("month"));
}

#[test]
fn past_due_spellings_are_aliases() {
    for (wire, expected) in [
        ("subscription.past_due", "subscription.pastDue"),
        ("subscriptionItem.past_due", "subscriptionItem.pastDue"),
    ] {
        let data = if wire.starts_with("subscription.") {
            r#"{"id":"csub_1","status":"past_due"}"#
        } else {
            r#"{"id":"csub_item_1","status":"past_due"}"#
        };
        let body = format!(r#"{{"type":"{wire}","data":{data}}}"#);
        let (event, _) = parse_event(body.as_bytes()).unwrap().into_parts();
        assert_eq!(event.event_type(), expected);
    }
}

/// The spec's schema nests `public_organization_data` in `data`; the payloads seen carry it beside
/// the other fields. Both shapes reach the model, for every invitation event, and the model writes
/// it back in the flat shape, which it reads again.
#[test]
fn invitation_organization_data_is_read_flat_and_nested() {
    let organization = r#"{"id":"org_1","name":"Acme","slug":"acme","has_image":false}"#;
    for event_type in [
        "organizationInvitation.created",
        "organizationInvitation.accepted",
        "organizationInvitation.revoked",
    ] {
        let flat = format!(
            r#"{{"type":"{event_type}","data":{{"id":"orginv_1","public_organization_data":{organization}}}}}"#
        );
        let nested = format!(
            r#"{{"type":"{event_type}","data":{{"id":"orginv_1","data":{{"public_organization_data":{organization}}}}}}}"#
        );
        let mut read = Vec::new();
        for body in [&flat, &nested] {
            let event = parse_event(body.as_bytes()).unwrap().event;
            let invitation = match &event {
                ClerkEvent::OrganizationInvitationCreated(invitation)
                | ClerkEvent::OrganizationInvitationAccepted(invitation)
                | ClerkEvent::OrganizationInvitationRevoked(invitation) => invitation.clone(),
                other => panic!("{event_type} read as {}", other.event_type()),
            };
            let data = invitation
                .public_organization_data
                .as_ref()
                .unwrap_or_else(|| panic!("{event_type}: organization data lost from {body}"));
            assert_eq!(data.id, "org_1");
            assert_eq!(data.name.as_deref(), Some("Acme"));
            let again: ClerkEvent =
                serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
            assert_eq!(again, event, "{event_type}: round trip");
            read.push(invitation);
        }
        assert_eq!(read[0], read[1], "{event_type}: both shapes read alike");
    }
    // Sent in both places, the outer one wins; a nested object without it leaves it unset.
    let both = r#"{"type":"organizationInvitation.accepted","data":{"id":"orginv_1",
        "public_organization_data":{"id":"org_outer"},"data":{"public_organization_data":{"id":"org_inner"}}}}"#;
    let ClerkEvent::OrganizationInvitationAccepted(invitation) =
        parse_event(both.as_bytes()).unwrap().event
    else {
        panic!()
    };
    assert_eq!(invitation.public_organization_data.unwrap().id, "org_outer");
    let empty = r#"{"type":"organizationInvitation.accepted","data":{"id":"orginv_1","data":{}}}"#;
    let ClerkEvent::OrganizationInvitationAccepted(invitation) =
        parse_event(empty.as_bytes()).unwrap().event
    else {
        panic!()
    };
    assert_eq!(invitation.public_organization_data, None);
}

#[test]
fn unknown_event_types_keep_their_data() {
    let body = br#"{"type":"agent.created","object":"event","timestamp":1,"data":{"id":"ag_1","n":[1,{"x":null}]}}"#;
    let (event, meta) = parse_event(body).unwrap().into_parts();
    let ClerkEvent::Unknown(unknown) = &event else {
        panic!()
    };
    assert_eq!(unknown.event_type, "agent.created");
    assert_eq!(
        unknown.data,
        serde_json::json!({"id":"ag_1","n":[1,{"x":null}]})
    );
    assert_eq!(meta.timestamp, Some(1));
    let round: ClerkEvent = serde_json::from_value(serde_json::to_value(&event).unwrap()).unwrap();
    assert_eq!(round, event);
}

#[test]
fn unknown_statuses_are_kept() {
    let body = br#"{"type":"session.created","data":{"id":"sess_1","status":"hibernating"}}"#;
    let (ClerkEvent::SessionCreated(session), _) = parse_event(body).unwrap().into_parts() else {
        panic!()
    };
    assert_eq!(session.status, SessionStatus::Other("hibernating".into()));
    assert_eq!(session.status.as_str(), "hibernating");
}

#[test]
fn bodies_that_are_not_envelopes_are_clear_errors() {
    for body in [
        &b""[..],
        b"null",
        b"[]",
        b"{}",
        b"{\"type\":1,\"data\":{}}",
        b"{\"type\":\"user.created\"}",
        b"\xff\xfe",
        b"{\"type\":\"user.created\",\"data\":{}",
    ] {
        let err = parse_event(body).unwrap_err();
        assert!(
            matches!(err, EventError::InvalidEnvelope { .. }),
            "{body:?}: {err:?}"
        );
        assert_eq!(err.code(), "invalid_payload");
        assert!(
            err.to_string().starts_with("not a Clerk webhook envelope"),
            "{err}"
        );
    }
}

/// A fuzz finding: serde_json checks UTF-8 only in the strings it reads, so bytes that are not
/// UTF-8 in the value of an unknown field used to pass. JSON text is UTF-8: refused anywhere.
#[test]
fn bodies_that_are_not_utf8_are_refused_wherever_the_bytes_are() {
    let cases: [(&[u8], &str); 4] = [
        (
            b"{\"type\":\"user.deleted\",\"x\":\"\xff\",\"data\":{\"id\":\"u\"}}",
            "the body is not UTF-8 at line 1 column 29",
        ),
        (
            b"{\"type\":\"user.deleted\",\n\"data\":{\"id\":\"u\",\"other\":\"\xc3\"}}",
            "invalid JSON at line 2 column 27",
        ),
        (
            b"{\"type\":\"agent.created\",\"data\":{\"id\":\"\xe9\"}}",
            "invalid JSON at line 1 column 39",
        ),
        (
            b"{\"type\":\"user.deleted\",\n  \"x\":{\"k\":[\"\xf0\x9f\"]},\"data\":{\"id\":\"u\"}}",
            "the body is not UTF-8 at line 2 column 14",
        ),
    ];
    for (body, reason) in cases {
        let err = parse_event(body).unwrap_err();
        assert_eq!(err.code(), "invalid_payload", "{body:?}");
        assert_eq!(
            err,
            EventError::InvalidEnvelope {
                reason: reason.to_owned()
            },
            "{body:?}"
        );
    }
    // The same body with valid bytes parses.
    let fine =
        parse_event(b"{\"type\":\"user.deleted\",\"x\":\"\xc3\xa9\",\"data\":{\"id\":\"u\"}}");
    assert!(matches!(fine.unwrap().event, ClerkEvent::UserDeleted(_)));
}

#[test]
fn known_types_with_unfit_data_name_the_type_and_the_field() {
    let cases = [
        (
            r#"{"type":"user.created","data":{"first_name":"x"}}"#,
            "user.created",
            ".",
            "missing field `id`",
        ),
        (
            r#"{"type":"user.created","data":{"id":"u","email_addresses":[{"id":"e","email_address":7}]}}"#,
            "user.created",
            "email_addresses[0].email_address",
            "invalid type",
        ),
        (
            r#"{"type":"session.ended","data":[]}"#,
            "session.ended",
            ".",
            "expected struct Session",
        ),
        (
            r#"{"type":"subscription.active","data":{"id":"s","status":"active","created_at":"yesterday"}}"#,
            "subscription.active",
            "created_at",
            "invalid type",
        ),
    ];
    for (body, event_type, path, reason) in cases {
        let err = parse_event(body.as_bytes()).unwrap_err();
        let EventError::UnsupportedData {
            event_type: t,
            path: p,
            reason: r,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(t, event_type);
        assert_eq!(p, path, "{body}");
        assert!(r.contains(reason), "{r}");
        assert_eq!(err.code(), "unsupported_event");
        assert!(err.to_string().contains(event_type) && err.to_string().contains(path));
    }
}

#[test]
fn primary_helpers_are_none_when_the_id_is_unset_or_dangling() {
    let user: clerk_webhooks::event::User = serde_json::from_str(
        r#"{"id":"user_1","primary_email_address_id":"idn_gone","primary_phone_number_id":null,
            "email_addresses":[{"id":"idn_1","email_address":"a@example.com"}],
            "phone_numbers":[{"id":"idn_2","phone_number":"+15555550100"}]}"#,
    )
    .unwrap();
    assert_eq!(
        user.primary_email(),
        None,
        "a dangling id does not fall back to the first entry"
    );
    assert_eq!(user.primary_phone(), None);
    assert!(user.primary_web3_wallet().is_none());
    assert_eq!(user.full_name(), None);
}

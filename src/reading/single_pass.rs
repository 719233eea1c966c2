//! The fast path of `parse_event`: one pass over the body that types `data` where it stands.
//!
//! The two-pass reading in `mod.rs` first skips over `data` (keeping it as raw text) to learn
//! the event type, then reads `data` again into the model: on a real delivery the skip is a third
//! of the cost. Here the body is read once: `data` is typed for the `type` already read when it
//! comes first, else for a guess from a cheap scan (Clerk sends `type` last), which the `type` read
//! afterwards must confirm. The body is read by the crate's own JSON reader (`json_reader.rs`),
//! which accepts less than serde_json and reads strings faster. Anything unusual (a failure of any
//! kind, a wrong guess, what the reader declines) returns `None`, and the two-pass serde_json
//! reading, which is the reference, decides: errors and their positions are therefore exactly the
//! two-pass ones.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::deleted_form;
use super::json_reader::{special_byte, JsonReader};
use super::EventAttributes;
use crate::event::catalog::{ClerkEvent, UnknownEvent};
use crate::event::envelope::EventMeta;

/// Reads the body in one pass into `event` and returns the metadata; `None` (and `event` in any
/// state) sends the caller to the two-pass reading. `text` must be the whole body (already checked
/// to be UTF-8).
///
/// The event is written into the caller's slot rather than returned: a `ClerkEvent` is large, and
/// every function it was returned through copied it.
pub(crate) fn parse(text: &str, event: &mut Option<ClerkEvent>) -> Option<EventMeta> {
    let mut reader = JsonReader::new(text);
    let meta = Envelope { body: text, event }
        .deserialize(&mut reader)
        .ok()?;
    reader.end().ok()?;
    Some(meta)
}

/// A guess at the top-level `type`, for a body whose `data` comes before it: the last `"type"`
/// key of the body that has a plain string value (Clerk sends the keys sorted, so `type` ends the
/// body and is found in a few bytes), else the first top-level one. Only a guess: it is not a JSON
/// validator, and the parse checks it.
fn type_hint(body: &[u8]) -> Option<&str> {
    last_type_key(body).or_else(|| first_top_level_type(body))
}

/// The value of the last `"type": "..."` in the body, read backwards; it may be nested or even
/// inside a string, which the parse will find out.
fn last_type_key(body: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"type\"";
    let mut end = body.len();
    while let Some(at) = body[..end]
        .windows(KEY.len())
        .rposition(|window| window == KEY)
    {
        if let Some(value) = string_value_after(body, at + KEY.len()) {
            return Some(value);
        }
        end = at + KEY.len() - 1;
    }
    None
}

/// The string after `:` at `from` (whitespace allowed around it), when it holds no escape.
fn string_value_after(body: &[u8], from: usize) -> Option<&str> {
    let colon = skip_whitespace(body, from);
    if body.get(colon) != Some(&b':') {
        return None;
    }
    let open = skip_whitespace(body, colon + 1);
    if body.get(open) != Some(&b'"') {
        return None;
    }
    let close = string_end(body, open + 1)?;
    let value = &body[open + 1..close];
    if value.contains(&b'\\') {
        return None;
    }
    std::str::from_utf8(value).ok()
}

/// The string value of the first top-level `"type"` key, when neither the key nor the value is
/// escaped.
fn first_top_level_type(body: &[u8]) -> Option<&str> {
    let mut depth = 0usize;
    let mut at = 0;
    while at < body.len() {
        match body[at] {
            b'"' => {
                let end = string_end(body, at + 1)?;
                if depth == 1 && &body[at + 1..end] == b"type" {
                    let colon = skip_whitespace(body, end + 1);
                    if body.get(colon) == Some(&b':') {
                        return string_value_after(body, colon);
                    }
                }
                at = end + 1;
            }
            b'{' | b'[' => {
                depth += 1;
                at += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                at += 1;
            }
            _ => at += 1,
        }
    }
    None
}

/// The index of the quote that closes the string whose contents start at `from`. A control byte
/// (invalid there, which the parse will find out) is passed over like any other.
fn string_end(body: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let at = special_byte(body, from)?;
        match body[at] {
            b'"' => return Some(at),
            b'\\' => from = at + 2,
            _ => from = at + 1,
        }
    }
}

fn skip_whitespace(body: &[u8], mut at: usize) -> usize {
    while body.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The envelope's fields, as the derived two-pass envelope names them.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Type,
    Data,
    Timestamp,
    InstanceId,
    EventAttributes,
    #[serde(other)]
    Other,
}

/// Reads the envelope with `data` typed into `event`: for the `type` already read when it comes
/// first, else for a guess that the `type` read later must confirm.
struct Envelope<'de, 's> {
    body: &'de str,
    event: &'s mut Option<ClerkEvent>,
}

impl<'de> DeserializeSeed<'de> for Envelope<'de, '_> {
    type Value = EventMeta;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Envelope<'de, '_> {
    type Value = EventMeta;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a webhook envelope")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut event_type: Option<Cow<'de, str>> = None;
        let mut guess: Option<&'de str> = None;
        let mut timestamp = None;
        let mut instance_id = None;
        let mut attributes = None;
        // Every duplicate is refused, as by the derived envelope (whose error the caller reports).
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Type if event_type.is_none() => {
                    let sent: Cow<'de, str> = map.next_value()?;
                    if guess.is_some_and(|guess| sent != guess) {
                        return Err(A::Error::custom("not the type guessed"));
                    }
                    event_type = Some(sent);
                }
                Field::Data if self.event.is_none() => {
                    let event_type = match &event_type {
                        Some(sent) => sent.as_ref(),
                        None => *guess.insert(
                            type_hint(self.body.as_bytes())
                                .ok_or_else(|| A::Error::custom("no type to guess"))?,
                        ),
                    };
                    map.next_value_seed(Data {
                        body: self.body,
                        event_type,
                        event: &mut *self.event,
                    })?;
                }
                Field::Timestamp if timestamp.is_none() => {
                    timestamp = Some(map.next_value::<Option<i64>>()?);
                }
                Field::InstanceId if instance_id.is_none() => {
                    instance_id = Some(map.next_value::<Option<String>>()?);
                }
                Field::EventAttributes if attributes.is_none() => {
                    attributes = Some(map.next_value::<Option<EventAttributes>>()?);
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => return Err(A::Error::custom("duplicate field")),
            }
        }
        if event_type.is_none() || self.event.is_none() {
            return Err(A::Error::custom("missing type or data"));
        }
        Ok(EventMeta {
            timestamp: timestamp.flatten(),
            instance_id: instance_id.flatten(),
            http_request: attributes
                .flatten()
                .and_then(|attributes| attributes.http_request),
        })
    }
}

/// `data` typed for `event_type` into `event`; untyped (`Unknown`) for a type outside the
/// catalog.
struct Data<'h, 's> {
    body: &'h str,
    event_type: &'h str,
    event: &'s mut Option<ClerkEvent>,
}

impl<'de> DeserializeSeed<'de> for Data<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        // The catalog reads these two through `MaybeDeleted`'s own `Deserialize`, which builds a
        // `Value` to tell the form; `deleted_form` tells it without one.
        match self.event_type {
            "role.deleted" => {
                let data = deleted_form::read(self.body, deserializer)?;
                *self.event = Some(ClerkEvent::RoleDeleted(data));
            }
            "permission.deleted" => {
                let data = deleted_form::read(self.body, deserializer)?;
                *self.event = Some(ClerkEvent::PermissionDeleted(data));
            }
            event_type if ClerkEvent::knows(event_type) => {
                ClerkEvent::decode_into(event_type, deserializer, self.event)?;
            }
            event_type => {
                let data = Value::deserialize(deserializer)?;
                *self.event = Some(ClerkEvent::Unknown(UnknownEvent::new(event_type, data)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_event_two_pass;
    use super::*;

    fn one_pass(text: &str) -> Option<(ClerkEvent, EventMeta)> {
        let mut event = None;
        let meta = parse(text, &mut event)?;
        Some((event?, meta))
    }

    fn samples() -> Vec<(String, Vec<u8>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/testing/samples");
        let mut samples: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| {
                let path = entry.unwrap().path();
                (path.display().to_string(), std::fs::read(path).unwrap())
            })
            .collect();
        samples.sort();
        samples
    }

    /// Every sample, as sent and with its keys sorted (`data` first, `type` last, the order of
    /// Clerk's deliveries), reads in one pass into what the two-pass reading gives.
    #[test]
    fn one_pass_agrees_with_two_on_every_sample_in_both_key_orders() {
        let samples = samples();
        assert!(samples.len() >= 49);
        for (name, body) in samples {
            let sorted =
                serde_json::to_vec(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap();
            for body in [body, sorted] {
                let text = std::str::from_utf8(&body).unwrap();
                let fast = one_pass(text).unwrap_or_else(|| panic!("{name}: not read in one pass"));
                assert_eq!(fast, parse_event_two_pass(&body, false).unwrap(), "{name}");
            }
        }
    }

    /// Where the one pass declines, the two-pass reading decides (and its errors are reported).
    #[test]
    fn unusual_envelopes_are_left_to_the_two_pass_reading() {
        for body in [
            r#"{"type":"user.deleted","type":"user.deleted","data":{"id":"u"}}"#,
            r#"{"type":"user.deleted","data":{"id":"u"},"data":{"id":"u"}}"#,
            r#"{"type":"user.deleted","data":{"id":"u"},"timestamp":1,"timestamp":2}"#,
            r#"{"type":"user.deleted"}"#,
            r#"{"data":{"id":"u"},"type":"user.deleted"} x"#,
            r#"{"x":{"type":"user.deleted"},"type":"user.created","data":{"id":"u"}}"#,
            r#"{"type":"user.created","data":{"banned":1}}"#,
        ] {
            let fast = one_pass(body);
            let reference = parse_event_two_pass(body.as_bytes(), false);
            match (fast, reference) {
                (None, _) => {}
                (Some(fast), Ok(reference)) => assert_eq!(fast, reference, "{body}"),
                (Some(_), Err(err)) => panic!("{body}: one pass accepted, two refused: {err}"),
            }
        }
        // A wrong guess, found out.
        assert!(one_pass(r#"{"type":"user.deleted","data":{"id":"u"}}"#).is_some());
        assert!(one_pass(r#"{"type":"user.deleted","data":{"id":"u"},"type":"x"}"#).is_none());
    }

    /// `role.deleted` and `permission.deleted` (read by `deleted_form`, not by the catalog): both
    /// forms in one pass, and the cases its guess gets wrong left to the two-pass reading.
    #[test]
    fn deleted_objects_read_in_one_pass_as_in_two() {
        for (body, one_pass_reads) in [
            (
                r#"{"type":"role.deleted","data":{"id":"r","deleted":true}}"#,
                true,
            ),
            (
                r#"{"data":{"deleted":true,"id":"p"},"type":"permission.deleted"}"#,
                true,
            ),
            (
                r#"{"type":"role.deleted","data":{"id":"r","key":"org:x"}}"#,
                true,
            ),
            (
                r#"{"data":{"id":"p","type":"custom"},"type":"permission.deleted"}"#,
                true,
            ),
            // The body says "deleted" outside `data`: guessed short, found full.
            (
                r#"{"type":"role.deleted","data":{"id":"r"},"note":"deleted"}"#,
                false,
            ),
            (
                r#"{"type":"role.deleted","data":{"id":"r"},"x":{"deleted":1}}"#,
                false,
            ),
            // An escaped key, duplicates, a nested `deleted`.
            (
                r#"{"type":"role.deleted","data":{"id":"r","delet\u0065d":true}}"#,
                false,
            ),
            (
                r#"{"type":"role.deleted","data":{"id":"r","deleted":true,"deleted":null}}"#,
                false,
            ),
            (
                r#"{"type":"role.deleted","data":{"id":"r","permissions":[{"id":"p","deleted":true}]}}"#,
                false,
            ),
            (r#"{"type":"role.deleted","data":["r"]}"#, false),
        ] {
            let reference = parse_event_two_pass(body.as_bytes(), false);
            match one_pass(body) {
                Some(fast) => assert_eq!(Some(&fast), reference.as_ref().ok(), "{body}"),
                None => assert!(!one_pass_reads, "{body}: not read in one pass"),
            }
            if !one_pass_reads {
                assert!(one_pass(body).is_none(), "{body}");
            }
        }
    }

    #[test]
    fn the_hint_is_the_last_type_key_else_the_first_top_level_one() {
        fn hint(body: &str) -> Option<&str> {
            type_hint(body.as_bytes())
        }
        assert_eq!(
            hint(r#"{"type":"user.created","data":{}}"#),
            Some("user.created")
        );
        assert_eq!(
            hint(r#"{"data":{"type":"inner","x":["type"]},"type" : "role.deleted"}"#),
            Some("role.deleted")
        );
        assert_eq!(
            hint(r#"{"data":{"k":"a\"type\""},"type":"a.b"}"#),
            Some("a.b")
        );
        // Escaped values and non-strings are left to the two-pass reading.
        assert_eq!(hint(r#"{"type":"user.cr\u0065ated"}"#), None);
        assert_eq!(hint(r#"{"type":1}"#), None);
        // From the end first: Clerk's key order puts `type` last.
        assert_eq!(
            hint(r#"{"data":{"type":"inner"},"type":"user.created"}"#),
            Some("user.created")
        );
        assert_eq!(hint(r#"{"type":"a.b","x":{"type":1}}"#), Some("a.b"));
        assert_eq!(hint(r#"{"type":"a.b","x":{"type":"c"}}"#), Some("c"));
        // A value that merely reads "type" is not a key.
        assert_eq!(hint(r#"{"object":"type","type":"x"}"#), Some("x"));
        // Long strings, scanned a block at a time, with quotes and escapes at every offset.
        for at in 0..20 {
            let filler = "x".repeat(at);
            let body = format!(r#"{{"k":"{filler}\"{filler}","type":"t{filler}"}}"#);
            assert_eq!(hint(&body).map(str::len), Some(at + 1), "{body}");
        }
        // Broken inputs never panic.
        for broken in [
            "",
            "\"",
            "{\"type\"",
            "{\"type\":",
            "{\"type\":\"abc",
            "}}]]{",
            "\"\\",
        ] {
            let _ = hint(broken);
        }
    }
}

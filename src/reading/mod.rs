//! Reading a webhook body into the event: the reference reading (serde_json, in two passes) and
//! the fast one (one pass, with the crate's own JSON reader), which falls back to the reference
//! whenever anything is unusual, so that errors and their positions are always the reference's.
//!
//! One direction of imports: this module reads into the types of [`crate::event`], which know
//! nothing of how they are read.

mod deleted_form;
pub(crate) mod json_reader;
mod single_pass;

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::event::catalog::{ClerkEvent, UnknownEvent, UnparsedEvent};
use crate::event::envelope::{EventMeta, HttpRequest, ParsedEvent};
use crate::event::error::EventError;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    event_type: Cow<'a, str>,
    #[serde(borrow)]
    data: &'a RawValue,
    timestamp: Option<i64>,
    instance_id: Option<String>,
    event_attributes: Option<EventAttributes>,
}

#[derive(Deserialize)]
pub(crate) struct EventAttributes {
    pub(crate) http_request: Option<HttpRequest>,
}

/// Reads a whole webhook body into the event and its envelope metadata.
///
/// The body is read once, `data` typed where it stands. A body that is not UTF-8 is refused
/// (JSON text is UTF-8), wherever the offending bytes are.
///
/// # Errors
///
/// - [`EventError::InvalidEnvelope`] when the body is not a JSON object with a string `type` and a
///   `data` field.
/// - [`EventError::UnsupportedData`] when the type is known but its data does not fit the model; the
///   error names the type and the path of the offending field.
///
/// ```
/// use clerk_webhooks::{parse_event, ClerkEvent, EventError};
///
/// let parsed = parse_event(br#"{"type":"agent.created","data":{"id":"ag_1"}}"#)?;
/// assert!(matches!(parsed.event, ClerkEvent::Unknown(_)));
///
/// let err = parse_event(br#"{"type":"user.created","data":{"id":"user_1","banned":"yes"}}"#).unwrap_err();
/// assert!(matches!(&err, EventError::UnsupportedData { path, .. } if path == "banned"));
///
/// assert!(matches!(parse_event(b"[]"), Err(EventError::InvalidEnvelope { .. })));
/// # Ok::<(), EventError>(())
/// ```
pub fn parse_event(body: &[u8]) -> Result<ParsedEvent, EventError> {
    parse_event_into(body, false, |event, meta| ParsedEvent { event, meta })
}

/// Checks that a body is a webhook envelope (a JSON object with a string `type` and a `data`
/// field) and reads its type and metadata, leaving `data` untyped: what a route that only stores
/// deliveries needs to know.
pub(crate) fn parse_envelope(body: &[u8]) -> Result<(Cow<'_, str>, EventMeta), EventError> {
    read_envelope(body).map(|(envelope, meta)| (envelope.event_type, meta))
}

fn read_envelope(body: &[u8]) -> Result<(Envelope<'_>, EventMeta), EventError> {
    // Derived structs also accept JSON arrays; an envelope is always an object.
    let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(EventError::InvalidEnvelope {
            reason: "the body is not a JSON object".to_owned(),
        });
    }
    let mut envelope: Envelope<'_> =
        serde_json::from_slice(body).map_err(|err| EventError::invalid_envelope(&err))?;
    // serde_json checks UTF-8 only in the strings it reads, not in those it skips (the values of
    // unknown fields): a body with invalid bytes there parsed before this check.
    if let Err(err) = std::str::from_utf8(body) {
        return Err(EventError::not_utf8(body, err.valid_up_to()));
    }
    let meta = EventMeta {
        timestamp: envelope.timestamp,
        instance_id: envelope.instance_id.take(),
        http_request: envelope
            .event_attributes
            .take()
            .and_then(|attributes| attributes.http_request),
    };
    Ok((envelope, meta))
}

/// [`parse_event`], or with `lenient`, a known type whose data does not fit becomes
/// [`ClerkEvent::Unparsed`] with the raw data instead of an error.
pub(crate) fn parse_event_with(
    body: &[u8],
    lenient: bool,
) -> Result<(ClerkEvent, EventMeta), EventError> {
    parse_event_into(body, lenient, |event, meta| (event, meta))
}

/// [`parse_event_with`], building the caller's result where the event was read: a `ClerkEvent` is
/// large, and each function it passed through on its way out copied it.
#[inline(always)]
fn parse_event_into<T>(
    body: &[u8],
    lenient: bool,
    build: impl FnOnce(ClerkEvent, EventMeta) -> T,
) -> Result<T, EventError> {
    let mut event = None;
    // Built with `--cfg clerk_webhooks_two_pass`, every body is read by the reference alone:
    // `scripts/reader_ab.sh` measures what the one-pass reading buys against that build.
    if cfg!(clerk_webhooks_two_pass) {
        return parse_event_two_pass(body, lenient).map(|(event, meta)| build(event, meta));
    }
    if let Ok(text) = std::str::from_utf8(body) {
        if let Some(meta) = single_pass::parse(text, &mut event) {
            if let Some(event) = event {
                return Ok(build(event, meta));
            }
        }
    }
    parse_event_two_pass(body, lenient).map(|(event, meta)| build(event, meta))
}

/// The reference reading, and the one that describes failures: the envelope with `data` kept
/// raw, then `data` typed for the type read. [`parse_event_with`] gives the same result in one
/// pass when it can.
pub(crate) fn parse_event_two_pass(
    body: &[u8],
    lenient: bool,
) -> Result<(ClerkEvent, EventMeta), EventError> {
    let (envelope, meta) = read_envelope(body)?;
    let event_type = envelope.event_type.as_ref();
    let raw = envelope.data.get();
    let event = match ClerkEvent::decode(event_type, &mut serde_json::Deserializer::from_str(raw)) {
        Ok(Some(event)) => event,
        Ok(None) => ClerkEvent::Unknown(UnknownEvent::new(event_type, raw_value(raw)?)),
        Err(err) => {
            let tracked = ClerkEvent::decode_tracked(
                event_type,
                &mut serde_json::Deserializer::from_str(raw),
            );
            let err = EventError::unsupported(event_type, tracked.err(), &err);
            match err {
                EventError::UnsupportedData { path, .. } if lenient => {
                    ClerkEvent::Unparsed(UnparsedEvent::new(event_type, raw_value(raw)?, path))
                }
                err => return Err(err),
            }
        }
    };
    Ok((event, meta))
}

fn raw_value(raw: &str) -> Result<serde_json::Value, EventError> {
    // The envelope parse already proved `data` is valid JSON, so this cannot fail in practice.
    serde_json::from_str(raw).map_err(|err| EventError::invalid_envelope(&err))
}

//! The webhook envelope: the metadata around an event's data, and what a reading of a body gives.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::catalog::ClerkEvent;

/// The envelope fields around an event's data.
///
/// ```
/// use clerk_webhooks::parse_event;
///
/// let body = br#"{"type":"user.created","timestamp":1716883200000,"instance_id":"ins_1",
///     "event_attributes":{"http_request":{"client_ip":"203.0.113.9","user_agent":"curl/8"}},
///     "data":{"id":"user_1"}}"#;
/// let meta = parse_event(body)?.meta;
/// assert_eq!(meta.instance_id.as_deref(), Some("ins_1"));
/// assert_eq!(meta.http_request.unwrap().client_ip(), Some("203.0.113.9".parse().unwrap()));
/// # Ok::<(), clerk_webhooks::EventError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventMeta {
    /// When Clerk created the event, in Unix milliseconds.
    pub timestamp: Option<i64>,
    /// The Clerk instance (absent in older deliveries).
    pub instance_id: Option<String>,
    /// The HTTP request that caused the event, when there was one.
    pub http_request: Option<HttpRequest>,
}

/// The HTTP request that caused an event (`event_attributes.http_request`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HttpRequest {
    /// The client's IP address as sent (Clerk may send `""`).
    #[serde(default)]
    pub client_ip: Option<String>,
    /// The client's user agent as sent.
    #[serde(default)]
    pub user_agent: Option<String>,
}

impl HttpRequest {
    /// The client's IP address, when it is present and well-formed (Clerk sends `""` when it
    /// has none).
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip.as_deref()?.parse().ok()
    }
}

/// What [`parse_event`](crate::parse_event) reads from a webhook body: the event and its envelope metadata.
///
/// A struct rather than a pair, so that what a later version reads from the envelope can join it
/// without breaking callers: name the fields you use and end the pattern with `..`.
///
/// ```
/// use clerk_webhooks::{parse_event, ClerkEvent, ParsedEvent};
///
/// let body = br#"{"type":"user.deleted","timestamp":1716883200000,"data":{"id":"user_1","deleted":true}}"#;
/// let ParsedEvent { event, meta, .. } = parse_event(body)?;
/// assert!(matches!(event, ClerkEvent::UserDeleted(_)));
/// assert_eq!(meta.timestamp, Some(1716883200000));
/// # Ok::<(), clerk_webhooks::EventError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ParsedEvent {
    /// The typed event.
    pub event: ClerkEvent,
    /// The envelope around it: when Clerk created it, the instance, the request that caused it.
    pub meta: EventMeta,
}

impl ParsedEvent {
    /// The event and its metadata, as a pair.
    pub fn into_parts(self) -> (ClerkEvent, EventMeta) {
        (self.event, self.meta)
    }
}

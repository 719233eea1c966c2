//! The job: a verified delivery, losslessly.

use serde::{Deserialize, Serialize};

use crate::event::envelope::ParsedEvent;
use crate::event::error::EventError;
use crate::reading::parse_event;
use crate::verify::Delivery;

/// A verified delivery as a job: everything Clerk sent, losslessly.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueuedDelivery {
    /// The `svix-id`: the same on every retry of the delivery.
    pub id: String,
    /// When this attempt was signed (`svix-timestamp`), Unix seconds.
    pub timestamp: i64,
    /// The body exactly as Clerk sent and signed it. It is text: a verified body parsed as a JSON
    /// envelope before it was queued.
    pub body: String,
    /// The namespace of the endpoint that verified it ([`Delivery::endpoint`]); empty in a job
    /// queued by a version that did not record it.
    #[serde(default)]
    pub endpoint: String,
}

/// The body's length, never its bytes: a job's values stay out of logs that print it.
impl std::fmt::Debug for QueuedDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedDelivery")
            .field("id", &self.id)
            .field("timestamp", &self.timestamp)
            .field("body_len", &self.body.len())
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl QueuedDelivery {
    /// The typed event and its metadata, parsed from the stored body with this version's model.
    ///
    /// # Errors
    ///
    /// As [`parse_event`]: a type this version knows whose data does not fit is
    /// [`EventError::UnsupportedData`]; the raw body is still in [`body`](Self::body).
    pub fn event(&self) -> Result<ParsedEvent, EventError> {
        parse_event(self.body.as_bytes())
    }

    /// The identity of the delivery, as the layer hands it to handlers.
    pub fn delivery(&self) -> Delivery {
        Delivery::named(&self.id, self.timestamp, &self.endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_body_length_not_the_body() {
        let job = QueuedDelivery {
            id: "msg_1".to_owned(),
            timestamp: 1,
            body: r#"{"data":{"email":"ada@example.com"}}"#.to_owned(),
            endpoint: "app".to_owned(),
        };
        let shown = format!("{job:?}");
        assert!(
            shown.contains("body_len: 36") && shown.contains("msg_1"),
            "{shown}"
        );
        assert!(!shown.contains("ada@example.com"), "{shown}");
    }
}

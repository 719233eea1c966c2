//! The answer of everything that needs the layer in front of it and has none.

use crate::__private::log::error;

/// A route needs [`ClerkWebhookLayer`](crate::ClerkWebhookLayer) in front of it and has none: a
/// server bug, answered `500 Internal Server Error` with code `missing_webhook_layer` and a
/// message naming the fix.
///
/// The rejection of the [`ClerkEvent`](crate::ClerkEvent), [`EventMeta`](crate::EventMeta) and
/// [`Delivery`](crate::Delivery) extractors (feature `axum`), and the answer of
/// [`DedupeLayer`](crate::dedupe::DedupeLayer) and the queue's route without the layer. Extract
/// `Option<ClerkEvent>` (or `Option<Delivery>`, `Option<EventMeta>`) in a handler that also
/// serves requests without the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{needed_by}")]
pub struct MissingWebhookLayer {
    needed_by: NeededBy,
}

/// What needed the layer; each names its own fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NeededBy {
    Extractor(&'static str),
    Dedupe,
    Queue,
}

impl std::fmt::Display for NeededBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Extractor(extractor) => write!(
                f,
                "{extractor} was extracted on a route without ClerkWebhookLayer: add \
                 `.route_layer(ClerkWebhookLayer::...)` to the webhook route"
            ),
            Self::Dedupe => f.write_str(
                "DedupeLayer needs ClerkWebhookLayer outside it, to verify the delivery id",
            ),
            Self::Queue => f.write_str(
                "DeliveryQueue runs behind ClerkWebhookLayer, which verifies deliveries",
            ),
        }
    }
}

impl MissingWebhookLayer {
    /// The extractor `extractor` found nothing in the extensions.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn extractor(extractor: &'static str) -> Self {
        Self {
            needed_by: NeededBy::Extractor(extractor),
        }
    }

    /// [`DedupeLayer`](crate::dedupe::DedupeLayer) found no delivery to key on.
    pub(crate) fn dedupe() -> Self {
        Self {
            needed_by: NeededBy::Dedupe,
        }
    }

    /// The queue's route found no verified delivery to store.
    pub(crate) fn queue() -> Self {
        Self {
            needed_by: NeededBy::Queue,
        }
    }

    /// Logged at error level where it becomes a response: the server is built wrong.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn log(&self) {
        let what = match self.needed_by {
            NeededBy::Extractor(extractor) => extractor,
            NeededBy::Dedupe => "DedupeLayer",
            NeededBy::Queue => "DeliveryQueue",
        };
        error!(needed_by = what, "{self}");
    }
}

define_rejection!(
    MissingWebhookLayer,
    status = INTERNAL_SERVER_ERROR,
    code = "missing_webhook_layer",
    into_response = log
);

#[cfg(test)]
mod tests {
    use super::*;

    /// One type, one code, one status; each site keeps the message that names its own fix.
    #[test]
    fn a_missing_layer_answers_500_with_the_fix_of_what_needed_it() {
        let answers: Vec<(u16, String)> = [
            MissingWebhookLayer::extractor("ClerkEvent"),
            MissingWebhookLayer::dedupe(),
            MissingWebhookLayer::queue(),
        ]
        .iter()
        .map(|rejection| {
            (
                rejection.response().status().as_u16(),
                rejection.body_text(),
            )
        })
        .collect();
        assert_eq!(
            answers,
            [
                (500, r#"{"error":"missing_webhook_layer","message":"ClerkEvent was extracted on a route without ClerkWebhookLayer: add `.route_layer(ClerkWebhookLayer::...)` to the webhook route"}"#.to_owned()),
                (500, r#"{"error":"missing_webhook_layer","message":"DedupeLayer needs ClerkWebhookLayer outside it, to verify the delivery id"}"#.to_owned()),
                (500, r#"{"error":"missing_webhook_layer","message":"DeliveryQueue runs behind ClerkWebhookLayer, which verifies deliveries"}"#.to_owned()),
            ]
        );
    }
}

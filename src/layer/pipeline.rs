//! The request path of [`ClerkWebhook`](super::ClerkWebhook), in order:
//!
//! 1. [`refuse_from_head`]: a body announced over the limit (413), bad or stale headers (400);
//! 2. [`buffer_frame`] / [`body_failed`]: gather the body as it arrives, through the limit and
//!    within the budget all unverified bodies share (503 `overloaded` beyond it), and
//!    [`body_too_slow`]: at the minimum rate, once the layer has had to wait for it (408);
//! 3. [`accept`]: verify the signature over the raw bytes,
//! 4. parse the envelope once (and the typed event, unless the layer only verifies),
//! 5. put the event, its metadata and the delivery in the extensions, with the same bytes as body.
//!
//! Until step 3 succeeds the request is hostile: it may cost only what it sent. The response
//! future drives these steps; every refusal leaves as a [`Refusal`], logged once when it becomes the
//! response.

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame};

use super::body::{ResponseBody, WebhookBody};
use super::buffer::{BodyBuffer, BufferError};
use super::config::{Config, MinBodyRate, Parsing, UnsupportedEvents};
use crate::__private::log::{debug, warn};
use crate::reading::{parse_envelope, parse_event_with};
use crate::rejection::{
    BodyError, BodyTooSlow, LogContext, OutOfMemory, Overloaded, PayloadTooLarge, WebhookRejection,
};
use crate::verify::{content_length, CheckedHead, Diagnosis, VerifyError};
use crate::{metrics, BoxError};

/// A rejection and what the log says about the request it refused.
#[derive(Debug)]
pub(crate) struct Refusal {
    rejection: WebhookRejection,
    context: LogContext,
    /// The request's Svix headers were well-formed and current: it looked like a delivery, so it
    /// counts toward the loud signal (what scanners send does not).
    looked_genuine: bool,
}

impl Refusal {
    /// A refusal of a request whose headers passed [`refuse_from_head`]'s checks.
    fn new(rejection: impl Into<WebhookRejection>, headers: &HeaderMap) -> Self {
        Self {
            rejection: rejection.into(),
            context: LogContext::from_headers(headers),
            looked_genuine: true,
        }
    }

    /// A refusal by the verifier, with its diagnosis as the log's hint.
    fn diagnosed(diagnosis: &Diagnosis, headers: &HeaderMap) -> Self {
        let err = diagnosis
            .error()
            .cloned()
            .unwrap_or(VerifyError::InvalidSignature);
        // Stale or future timestamps count (a drifted clock), as do bad signatures; malformed
        // headers do not.
        let looked_genuine = !matches!(
            err,
            VerifyError::MissingHeader { .. }
                | VerifyError::InvalidHeader { .. }
                | VerifyError::InvalidTimestamp
        );
        let mut refusal = Self::new(err, headers);
        refusal.context.hint = Some(diagnosis.to_string().into_boxed_str());
        refusal.looked_genuine = looked_genuine;
        refusal
    }

    /// Logs and counts the refusal, and builds the answer.
    pub(crate) fn respond<B>(&self, config: &Config) -> Response<ResponseBody<B>> {
        self.rejection.log(&self.context);
        let code = self.rejection.code();
        metrics::refused(code);
        if self.looked_genuine {
            config.streak.refused(code, || config.verifier.now_secs());
        }
        self.rejection.to_response()
    }
}

/// Step 1: what can be refused from the head alone, before a byte of the body is read. On success,
/// the buffer for step 2 and the scheme headers for step 3 (read once).
pub(crate) fn refuse_from_head<B: Body>(
    config: &Config,
    headers: &HeaderMap,
    body: &B,
) -> Result<(BodyBuffer, CheckedHead), Refusal> {
    let limit = config.body_limit as u64;
    let announced = content_length(headers).or_else(|| body.size_hint().exact());
    if announced.is_some_and(|length| length > limit) || body.size_hint().lower() > limit {
        let mut refusal = Refusal::new(PayloadTooLarge::new(Some(config.body_limit)), headers);
        refusal.looked_genuine = config.verifier.check_head(headers).is_ok();
        return Err(refusal);
    }
    let head = config
        .verifier
        .check_head(headers)
        .map_err(|diagnosis| Refusal::diagnosed(&diagnosis, headers))?;
    let buffer = BodyBuffer::new(config.body_limit, announced, config.budget.share());
    Ok((buffer, head))
}

/// Step 2: adds one frame of the body; trailers carry nothing that is signed.
pub(crate) fn buffer_frame(
    config: &Config,
    buffer: &mut BodyBuffer,
    frame: Frame<Bytes>,
    headers: &HeaderMap,
) -> Result<(), Refusal> {
    let Ok(data) = frame.into_data() else {
        return Ok(());
    };
    buffer.push(data).map_err(|err| match err {
        BufferError::OverLimit => {
            Refusal::new(PayloadTooLarge::new(Some(config.body_limit)), headers)
        }
        BufferError::OutOfMemory => Refusal::new(OutOfMemory::new(), headers),
        BufferError::BudgetExhausted => Refusal::new(Overloaded::new(), headers),
    })
}

/// Step 2, when the body stream fails. An outer length limit (tower-http's
/// `RequestBodyLimitLayer`, or `http_body_util::Limited`) stopping the body is a body too large.
pub(crate) fn body_failed(err: BoxError, headers: &HeaderMap) -> Refusal {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&*err);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return Refusal::new(PayloadTooLarge::new(None), headers);
        }
        source = err.source();
    }
    Refusal::new(BodyError::new(&err.to_string()), headers)
}

/// Step 2, when the body fell behind the minimum rate (the response future keeps the deadline).
/// Its buffer is dropped with the body, giving its share of the budget back, before the answer is
/// written.
pub(crate) fn body_too_slow(rate: &MinBodyRate, headers: &HeaderMap) -> Refusal {
    let slow = BodyTooSlow::new(rate.bytes_per_sec.get(), rate.grace);
    let mut refusal = Refusal::new(slow, headers);
    // A body that trickles or stalls is what scanners and attackers send, not what a
    // misconfiguration does to Clerk's deliveries: it does not count toward the loud signal.
    refusal.looked_genuine = false;
    refusal
}

/// Steps 3 to 5: verifies the bytes, parses the event once, and hands on a request whose
/// extensions hold the event, its metadata and the delivery, and whose body is the same bytes.
pub(crate) fn accept(
    config: &Config,
    mut parts: Parts,
    head: &CheckedHead,
    body: Bytes,
) -> Result<Request<WebhookBody>, Refusal> {
    let started = metrics::start();
    let delivery = match config
        .verifier
        .verify_diagnosed(head, &parts.headers, &body)
    {
        Ok(delivery) => delivery,
        Err(diagnosis) => {
            metrics::received(body.len(), metrics::since(started));
            return Err(Refusal::diagnosed(&diagnosis, &parts.headers));
        }
    };
    let refuse = |err| {
        metrics::received(body.len(), metrics::since(started));
        Refusal::new(err, &parts.headers)
    };
    let meta = match config.parsing {
        Parsing::Typed => {
            let lenient = config.unsupported == UnsupportedEvents::PassAsUnparsed;
            let (event, meta) = parse_event_with(&body, lenient).map_err(refuse)?;
            #[cfg(feature = "axum")]
            parts
                .extensions
                .insert(crate::extract::TypedBody::new(body.clone(), lenient));
            log_accepted(&delivery, Some(&event));
            metrics::accepted(
                Some(event.event_type()),
                body.len(),
                metrics::since(started),
            );
            parts.extensions.insert(event);
            meta
        }
        Parsing::EnvelopeOnly => {
            let (event_type, meta) = parse_envelope(&body).map_err(refuse)?;
            log_accepted(&delivery, None);
            metrics::accepted(Some(&event_type), body.len(), metrics::since(started));
            meta
        }
    };
    config
        .streak
        .accepted(head.unknown_signatures(), || config.verifier.now_secs());
    parts.extensions.insert(meta);
    parts.extensions.insert(delivery);
    Ok(Request::from_parts(parts, WebhookBody::new(body)))
}

/// `event` is `None` on a route that does not type events.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_accepted(delivery: &crate::Delivery, event: Option<&crate::ClerkEvent>) {
    let Some(event) = event else {
        debug!(svix_id = delivery.id(), "clerk webhook accepted");
        return;
    };
    if let crate::ClerkEvent::Unparsed(unparsed) = event {
        warn!(
            svix_id = delivery.id(),
            event_type = %unparsed.event_type,
            path = %crate::response::truncate_for_log(&unparsed.path, 128),
            "clerk webhook: event data does not fit the model; passed on as Unparsed"
        );
    } else {
        debug!(
            svix_id = delivery.id(),
            event_type = event.event_type(),
            "clerk webhook accepted"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slow body is logged and answered like the other refusals, but scanners and attackers
    /// send those: it does not count toward the loud signal.
    #[test]
    fn a_slow_body_is_a_408_that_does_not_count_as_genuine() {
        let config = Config::new(crate::Verifier::new(
            crate::SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
        ));
        let rate = config.min_body_rate.unwrap();
        let refusal = body_too_slow(&rate, &HeaderMap::new());
        assert!(!refusal.looked_genuine);
        assert_eq!(refusal.rejection.code(), "body_too_slow");
        let response = refusal.respond::<()>(&config);
        assert_eq!(response.status(), 408);
    }
}

//! A sample body to edit before it is signed.

use bytes::Bytes;
use serde_json::Value;

use crate::event::envelope::ParsedEvent;
use crate::event::error::EventError;
use crate::reading::parse_event;

/// A sample body (see [`sample`](super::sample)) as JSON you can edit, then sign: a test of your
/// own handler with your own email, name or ids, without writing the JSON of a whole event.
///
/// [`set`](Self::set) replaces or adds one value, addressed by a
/// [JSON Pointer](https://www.rfc-editor.org/rfc/rfc6901) into the whole body (`/data/...` for
/// the event's data, `/timestamp` for the envelope); [`json_mut`](Self::json_mut) allows any other
/// edit. A `Sample` converts into [`Bytes`], so it goes wherever a body does.
///
/// ```
/// use clerk_webhooks::testing::{signed_request, Sample};
/// use clerk_webhooks::{ClerkEvent, SigningSecret, Verifier};
///
/// let ada = Sample::new("user.created")
///     .unwrap()
///     .set("/data/first_name", "Ada")
///     .set("/data/last_name", "Lovelace")
///     .set("/data/email_addresses/0/email_address", "ada@example.com");
///
/// // What your handler will see:
/// let ClerkEvent::UserCreated(user) = ada.event()?.event else { unreachable!() };
/// assert_eq!(user.full_name().as_deref(), Some("Ada Lovelace"));
/// assert_eq!(user.primary_email(), Some("ada@example.com"));
///
/// // Signed like any body, for a request through your router and the layer.
/// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
/// let request = signed_request(&verifier, ada);
/// # assert!(request.headers().contains_key("svix-signature"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    body: Value,
}

impl Sample {
    /// The sample of `event_type` (in the spelling of
    /// [`ClerkEvent::KNOWN_TYPES`](crate::ClerkEvent::KNOWN_TYPES)); `None` for a type this
    /// version has no sample of.
    pub fn new(event_type: &str) -> Option<Self> {
        let body = serde_json::from_slice(super::sample(event_type)?)
            .expect("every sample is valid JSON (checked by the crate's tests)");
        Some(Self { body })
    }

    /// Sets the value at `pointer`, a JSON Pointer into the whole body such as
    /// `/data/first_name` or `/data/email_addresses/0/email_address`: replaces what is there, or
    /// adds the member to an existing object.
    ///
    /// # Panics
    ///
    /// When `pointer` does not start with `/`, or what it names cannot be set: its parent is not
    /// in the sample, or is neither an object nor an array, or the index is past the array's
    /// end. A mistake in the test itself.
    #[must_use]
    pub fn set(mut self, pointer: &str, value: impl Into<Value>) -> Self {
        let (parent, last) = pointer
            .rsplit_once('/')
            .unwrap_or_else(|| panic!("`{pointer}` is not a JSON Pointer (it starts with `/`)"));
        let key = last.replace("~1", "/").replace("~0", "~");
        let slot = match self.body.pointer_mut(parent) {
            Some(Value::Object(object)) => object.entry(key).or_insert(Value::Null),
            Some(Value::Array(array)) => key
                .parse::<usize>()
                .ok()
                .and_then(|index| array.get_mut(index))
                .unwrap_or_else(|| panic!("`{pointer}`: no such element in the sample's array")),
            Some(_) => panic!("`{pointer}`: `{parent}` is neither an object nor an array"),
            None => panic!("`{pointer}`: the sample has nothing at `{parent}`"),
        };
        *slot = value.into();
        self
    }

    /// The whole body, for edits [`set`](Self::set) does not make (removing a field, adding an
    /// element to an array).
    pub fn json_mut(&mut self) -> &mut Value {
        &mut self.body
    }

    /// The whole body.
    pub fn json(&self) -> &Value {
        &self.body
    }

    /// The body as it will be sent: compact JSON.
    pub fn to_bytes(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(&self.body).expect("a JSON value always serializes"))
    }

    /// The body parsed as the layer parses it: what your handler will receive.
    ///
    /// # Errors
    ///
    /// As [`parse_event`]: the edits made the data unfit for the model (a string where it reads a
    /// number), or removed the envelope.
    pub fn event(&self) -> Result<ParsedEvent, EventError> {
        parse_event(&self.to_bytes())
    }
}

impl From<Sample> for Bytes {
    fn from(sample: Sample) -> Self {
        sample.to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::catalog::ClerkEvent;

    #[test]
    fn an_edited_sample_parses_with_the_edits() {
        let sample = Sample::new("organization.created")
            .unwrap()
            .set("/data/name", "Analytical Engines")
            .set("/data/brand_new_field", 1)
            .set("/timestamp", 1);
        let parsed = sample.event().unwrap();
        let ClerkEvent::OrganizationCreated(organization) = parsed.event else {
            panic!("{:?}", parsed.event)
        };
        assert_eq!(organization.name.as_deref(), Some("Analytical Engines"));
        assert_eq!(parsed.meta.timestamp, Some(1));
        assert_eq!(sample.json()["data"]["brand_new_field"], 1);
    }

    #[test]
    fn an_unedited_sample_reads_as_the_original() {
        for event_type in ClerkEvent::KNOWN_TYPES {
            let edited = Sample::new(event_type).unwrap().event().unwrap();
            assert_eq!(
                Some(edited),
                super::super::sample_event(event_type),
                "{event_type}"
            );
        }
        assert_eq!(Sample::new("agent.created"), None);
    }

    #[test]
    #[should_panic(expected = "the sample has nothing at `/data/nowhere`")]
    fn a_pointer_into_nothing_is_a_test_mistake() {
        let _ = Sample::new("user.created")
            .unwrap()
            .set("/data/nowhere/name", "x");
    }

    #[test]
    #[should_panic(expected = "no such element")]
    fn an_index_past_the_end_is_a_test_mistake() {
        let _ = Sample::new("user.created")
            .unwrap()
            .set("/data/email_addresses/9", "x");
    }
}

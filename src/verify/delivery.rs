//! The identity of one verified delivery.

use std::sync::Arc;

/// The `svix-id` and `svix-timestamp` of a verified delivery, and the endpoint that verified it.
///
/// Svix retries a failed delivery with the same id (and a new timestamp and signature), so the id is
/// the key to de-duplicate on; and it sends the same id to every endpoint subscribed to a message,
/// so a key shared between endpoints names the endpoint too ([`key`](Self::key)).
///
/// ```
/// use clerk_webhooks::{SigningSecret, Verifier};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
/// let body = br#"{"type":"user.created","data":{}}"#;
/// let headers = verifier.signed_headers("msg_2abc", 1_700_000_000, body)?;
/// let delivery = verifier.verify_at(&headers, body, UNIX_EPOCH + Duration::from_secs(1_700_000_000))?;
/// // Key your side effects on the id: a retry of this delivery carries the same one.
/// let idempotency_key = format!("clerk:{}", delivery.key());
/// # assert_eq!(idempotency_key, format!("clerk:{}:msg_2abc", verifier.endpoint()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Delivery {
    id: String,
    timestamp: i64,
    namespaces: Arc<Namespaces>,
}

/// The namespaces a verifier keys its deliveries in: the endpoint's (a name, or the first
/// secret's fingerprint) and, when it is a fingerprint, those of the other secrets it holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Namespaces {
    endpoint: Box<str>,
    others: Vec<Box<str>>,
    named: bool,
}

impl Namespaces {
    /// The namespace of a secret's fingerprint.
    pub(crate) fn fingerprint(fingerprint: String) -> Self {
        Self {
            endpoint: fingerprint.into(),
            others: Vec::new(),
            named: false,
        }
    }

    /// One namespace, named: the secrets do not change it.
    pub(crate) fn named(name: &str) -> Self {
        Self {
            endpoint: name.into(),
            others: Vec::new(),
            named: true,
        }
    }

    /// Another secret's fingerprint, when the namespace is the first secret's. A secret given
    /// twice adds nothing: each key is claimed once.
    pub(crate) fn also_fingerprint(&mut self, fingerprint: String) {
        let known = *self.endpoint == *fingerprint
            || self.others.iter().any(|other| **other == *fingerprint);
        if !self.named && !known {
            self.others.push(fingerprint.into());
        }
    }

    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Delivery {
    pub(crate) fn new(id: &str, timestamp: i64, namespaces: &Arc<Namespaces>) -> Self {
        Self {
            id: id.to_owned(),
            timestamp,
            namespaces: Arc::clone(namespaces),
        }
    }

    /// A delivery to the endpoint named `endpoint` (a job's, which records only that).
    pub(crate) fn named(id: &str, timestamp: i64, endpoint: &str) -> Self {
        Self::new(id, timestamp, &Arc::new(Namespaces::named(endpoint)))
    }

    /// The message id (`svix-id`): the same on every retry of this delivery.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The time this attempt was signed (`svix-timestamp`), in seconds since the Unix epoch.
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// The namespace of the endpoint that verified it ([`Verifier::endpoint`](crate::Verifier::endpoint)).
    pub fn endpoint(&self) -> &str {
        self.namespaces.endpoint()
    }

    /// `{endpoint}:{id}`: the id, kept apart from the same id delivered to another endpoint. The
    /// de-duplication layer, the queue and the inbox key on it.
    pub fn key(&self) -> String {
        format!("{}:{}", self.endpoint(), self.id)
    }

    /// [`key`](Self::key), then the same id in the namespace of each other secret the verifier
    /// holds: while a rotation has two secrets configured, a delivery processed before it (keyed
    /// under the old first secret) is still the same delivery. The crate's stores (the inbox, the
    /// de-duplication stores, the queue) look under every key and record under each, so the
    /// record outlives either secret; a store of your own can do the same. One key when the
    /// endpoint is [named](crate::Verifier::with_endpoint) or has one secret.
    ///
    /// ```
    /// use clerk_webhooks::{SigningSecret, Verifier};
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let old = SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
    /// let new = SigningSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?;
    /// let before = Verifier::new(old.clone());
    /// let during = Verifier::new(new).with_secret(old);
    /// let body = br#"{"type":"user.created","data":{}}"#;
    /// let headers = before.signed_headers("msg_2abc", 1_700_000_000, body)?;
    /// let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let processed = before.verify_at(&headers, body, at)?;
    /// let retried = during.verify_at(&headers, body, at)?;
    /// // The retry's first key is the new secret's; it still finds the first attempt's record.
    /// assert!(retried.keys().any(|key| key == processed.key()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(self.key()).chain(
            self.namespaces
                .others
                .iter()
                .map(move |namespace| format!("{namespace}:{}", self.id)),
        )
    }

    /// [`keys`](Self::keys) in one order whatever the order of the verifier's secrets, the order
    /// a store claims them in (the de-duplication stores, the sync's inbox): two instances configured in either order during a rolling
    /// deploy claim the same first key and never wait on each other's.
    pub fn sorted_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.keys().collect();
        keys.sort_unstable();
        keys
    }
}

#[cfg(test)]
mod tests {
    use crate::{SigningSecret, Verifier};
    use std::time::{Duration, UNIX_EPOCH};

    fn keys(verifier: &Verifier) -> Vec<String> {
        let body = b"{}";
        let headers = verifier
            .signed_headers("msg_1", 1_700_000_000, body)
            .unwrap();
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        verifier
            .verify_at(&headers, body, at)
            .unwrap()
            .keys()
            .collect()
    }

    /// Found in review: a secret configured twice (or with and without `whsec_`) gave the same
    /// key twice, and the inbox, claiming it twice in one transaction, took every delivery for a
    /// duplicate of itself.
    #[test]
    fn a_secret_given_twice_is_one_key() {
        let secret = |text: &str| SigningSecret::new(text).unwrap();
        let old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let new = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
        let once = Verifier::new(secret(old));
        let twice = Verifier::new(secret(old))
            .with_secret(secret(old))
            .with_secret(secret(old.trim_start_matches("whsec_")));
        assert_eq!(keys(&twice), keys(&once));
        let rotating = Verifier::new(secret(new))
            .with_secret(secret(old))
            .with_secret(secret(new))
            .with_secret(secret(old));
        let rotating = keys(&rotating);
        assert_eq!(rotating.len(), 2, "{rotating:?}");
        assert!(rotating.contains(&keys(&once)[0]));
    }
}

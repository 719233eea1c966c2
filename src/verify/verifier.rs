//! The verifier: the signature scheme's checks, in the order a delivery meets them.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use http::header::InvalidHeaderValue;
use http::{HeaderMap, HeaderValue};
use sha2::Sha256;

use super::delivery::{Delivery, Namespaces};
use super::diagnosis::{Diagnosis, Evidence};
use super::error::VerifyError;
use super::headers::{self, Candidates, CheckedHead, SchemeHeaders};
use super::secret::{secrets_from_env, ConfigError, SigningSecret};

/// How far `svix-timestamp` may lie from now, either way, by default: 5 minutes, as in Svix.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

type HmacSha256 = Hmac<Sha256>;
type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Verifies Clerk webhook deliveries: headers and raw body in, [`Delivery`] or [`VerifyError`] out.
///
/// It accepts a delivery when its timestamp lies within the tolerance of now and one of the `v1`
/// signatures in `svix-signature` is the HMAC-SHA256 of `{svix-id}.{svix-timestamp}.{body}` under one
/// of its secrets. Several secrets can be configured to rotate keys without downtime.
///
/// ```
/// use clerk_webhooks::{SigningSecret, Verifier, VerifyError};
/// use std::time::{Duration, SystemTime};
///
/// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?)
///     .with_tolerance(Duration::from_secs(120));
///
/// // Build a signed request the way Svix does.
/// let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?.as_secs() as i64;
/// let body = br#"{"type":"user.created","data":{"id":"user_1"}}"#;
/// let headers = verifier.signed_headers("msg_1", now, body)?;
///
/// let delivery = verifier.verify(&headers, body)?;
/// assert_eq!(delivery.id(), "msg_1");
///
/// // One flipped byte and it is refused.
/// let tampered = br#"{"type":"user.created","data":{"id":"user_2"}}"#;
/// assert_eq!(verifier.verify(&headers, tampered), Err(VerifyError::InvalidSignature));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    /// One keyed HMAC per secret, cloned per delivery so the key schedule is computed once.
    keys: Vec<HmacSha256>,
    /// Per secret, two keys made of its text (with and without `whsec_`): signers that forget to
    /// decode the secret use them, and [`diagnose`](Self::diagnose) recognises it.
    text_keys: Vec<HmacSha256>,
    tolerance: Duration,
    clock: Option<Clock>,
    /// The namespace of this endpoint's delivery ids ([`Verifier::endpoint`]), and those of its
    /// other secrets.
    endpoint: Arc<Namespaces>,
}

impl Verifier {
    /// A verifier accepting deliveries signed with `secret`, with the default 5-minute tolerance.
    ///
    /// ```
    /// use clerk_webhooks::{SigningSecret, Verifier};
    ///
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    pub fn new(secret: SigningSecret) -> Self {
        let key = keyed_mac(&secret);
        Self {
            endpoint: Arc::new(Namespaces::fingerprint(endpoint_fingerprint(&key))),
            keys: vec![key],
            text_keys: text_keys(&secret).into(),
            tolerance: DEFAULT_TOLERANCE,
            clock: None,
        }
    }

    /// A verifier with the secret(s) in `CLERK_WEBHOOK_SIGNING_SECRET`, or else in
    /// `CLERK_WEBHOOK_SECRET`.
    ///
    /// A variable may hold several whitespace-separated secrets (for rotation); surrounding whitespace,
    /// such as a trailing newline from an env file, is ignored, and a blank variable counts as unset.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when neither variable is set, or a secret in it is malformed. Call this at
    /// startup so a misconfiguration stops the process instead of failing every delivery.
    ///
    /// ```no_run
    /// use clerk_webhooks::Verifier;
    ///
    /// let verifier = Verifier::from_env()?;
    /// # Ok::<(), clerk_webhooks::ConfigError>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut secrets = secrets_from_env(|name| std::env::var_os(name))?.into_iter();
        // `secrets_from_env` never returns an empty list: a blank variable is `MissingSecret`.
        let first = secrets.next().ok_or(ConfigError::MissingSecret)?;
        Ok(secrets.fold(Self::new(first), Self::with_secret))
    }

    /// Also accepts deliveries signed with `secret`. Add the new secret before Clerk starts using it,
    /// remove the old one after.
    ///
    /// ```
    /// use clerk_webhooks::{SigningSecret, Verifier};
    ///
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?)
    ///     .with_secret(SigningSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?);
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    #[must_use]
    pub fn with_secret(mut self, secret: SigningSecret) -> Self {
        let key = keyed_mac(&secret);
        Arc::make_mut(&mut self.endpoint).also_fingerprint(endpoint_fingerprint(&key));
        self.keys.push(key);
        self.text_keys.extend(text_keys(&secret));
        self
    }

    /// How far `svix-timestamp` may lie from now in either direction (default 5 minutes, inclusive).
    ///
    /// ```
    /// use clerk_webhooks::{SigningSecret, Verifier};
    /// use std::time::Duration;
    ///
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?)
    ///     .with_tolerance(Duration::from_secs(60));
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Names the endpoint this verifier guards, in place of the fingerprint of its first secret;
    /// see [`endpoint`](Self::endpoint).
    ///
    /// Name it when the keys it namespaces must outlive a secret rotation, or must be readable
    /// (a queue name a worker is configured with):
    ///
    /// ```
    /// use clerk_webhooks::{SigningSecret, Verifier};
    ///
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?)
    ///     .with_endpoint("myapp-production");
    /// assert_eq!(verifier.endpoint(), "myapp-production");
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    #[must_use]
    pub fn with_endpoint(mut self, name: &str) -> Self {
        self.endpoint = Arc::new(Namespaces::named(name));
        self
    }

    /// The namespace of the delivery ids this verifier accepts, carried by each [`Delivery`].
    ///
    /// Svix sends a message to every endpoint subscribed to it with the same `svix-id`
    /// (development and production instances, two apps, two routes), so a de-duplication key or a
    /// queue's idempotency key must name the endpoint as well as the id, or one endpoint's
    /// delivery would pass for another's duplicate. By default the namespace is a fingerprint of
    /// the first secret: 16 hex digits of an HMAC under it (the secret cannot be recovered from
    /// it), so each endpoint, which has its own secret, gets its own namespace with no
    /// configuration. It changes when the first secret does; so that a delivery processed before
    /// a rotation is still recognised after it, each [`Delivery`] also carries the namespaces of
    /// the other secrets ([`Delivery::keys`]), which the crate's stores check. Name the endpoint
    /// with [`with_endpoint`](Self::with_endpoint) to keep one namespace whatever the secrets.
    pub fn endpoint(&self) -> &str {
        self.endpoint.endpoint()
    }

    /// Reads the current time from `clock` instead of the system clock, in [`verify`](Self::verify)
    /// and everything built on it (the layer included). Meant for tests.
    ///
    /// ```
    /// use clerk_webhooks::{SigningSecret, Verifier};
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?)
    ///     .with_clock(|| UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    /// let headers = verifier.signed_headers("msg_1", 1_700_000_000, b"{}")?;
    /// assert!(verifier.verify(&headers, b"{}").is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Verifies a delivery against the current time (the system clock, or the one set with
    /// [`with_clock`](Self::with_clock)).
    ///
    /// `body` must be the raw bytes as received: verify before parsing, never a re-serialization.
    ///
    /// # Errors
    ///
    /// The [`VerifyError`] saying why the delivery is refused. Checks run in this order: headers,
    /// timestamp format, timestamp window, signature.
    ///
    /// ```
    /// use clerk_webhooks::{SigningSecret, Verifier, VerifyError};
    /// use http::HeaderMap;
    ///
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
    /// let err = verifier.verify(&HeaderMap::new(), b"{}").unwrap_err();
    /// assert_eq!(err, VerifyError::MissingHeader { name: "svix-id" });
    /// assert_eq!(err.code(), "missing_header");
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<Delivery, VerifyError> {
        self.verify_at(headers, body, self.now())
    }

    /// Everything [`verify`](Self::verify) checks before the signature, so that a delivery with bad
    /// headers or a stale timestamp is refused before its body is read; a refusal comes with its
    /// diagnosis, judged from the head alone. What it read is kept for
    /// [`verify_diagnosed`](Self::verify_diagnosed).
    pub(crate) fn check_head(&self, headers: &HeaderMap) -> Result<CheckedHead, Box<Diagnosis>> {
        let now = self.now();
        let refused = match CheckedHead::read(headers) {
            Ok((head, scheme)) => match self.check_window(scheme.timestamp, now) {
                Ok(()) => return Ok(head),
                Err(err) => (err, Some(scheme)),
            },
            Err(err) => (err, None),
        };
        let (err, scheme) = refused;
        Err(Box::new(Diagnosis::of_refusal(
            self,
            Evidence::head(headers, scheme, now),
            err,
        )))
    }

    /// [`verify`](Self::verify) of a request whose head passed [`check_head`](Self::check_head),
    /// with the diagnosis of a refusal made from what this one verification found, without the
    /// trials of [`diagnose`](Self::diagnose): what an unauthenticated request costs stays one
    /// HMAC per secret plus a scan of its body. The clock is read again: the body may have taken
    /// a while. When it verifies, `head` notes how many of its signatures none of the secrets made
    /// ([`CheckedHead::unknown_signatures`]).
    pub(crate) fn verify_diagnosed(
        &self,
        head: &CheckedHead,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Delivery, Box<Diagnosis>> {
        let now = self.now();
        let refused = match head.scheme() {
            Ok(scheme) => match self
                .check(&scheme, body, now)
                .inspect(|signer| head.note_unknown_signatures(signer.unknown))
            {
                Ok(_) => return Ok(Delivery::new(scheme.id, scheme.timestamp, &self.endpoint)),
                Err(err) => (err, Some(scheme)),
            },
            Err(err) => (err, None),
        };
        let (err, scheme) = refused;
        Err(Box::new(Diagnosis::of_refusal(
            self,
            Evidence::request(headers, scheme, body, now),
            err,
        )))
    }

    /// Says whether a delivery verifies against the current time and, if not, why, in as much
    /// detail as the request shows: which check failed, the clock skew, which secret signed it,
    /// and what the body suggests happened to it on the way. See [`Diagnosis`].
    ///
    /// It does more work than [`verify`](Self::verify) when the delivery is refused (it tries the
    /// usual accidents: line endings, a trailing newline, the secret's text used as the key, the
    /// JSON parsed and written back, which it writes again the way Clerk writes it), so it is
    /// meant for tools and for looking into a refused delivery, not for every request; the
    /// `ClerkWebhookLayer` logs the diagnosis of its single verification instead. A delivery that
    /// verifies but also carries a signature none of the secrets made is reported too
    /// ([`Finding::UnknownSigner`](super::Finding::UnknownSigner)): the endpoint's secret is being rotated, and the new one must
    /// be added within 24 hours.
    ///
    /// ```
    /// use clerk_webhooks::{Finding, SigningSecret, Verifier, VerifyError};
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?)
    ///     .with_clock(|| UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    /// let sent = r#"{"type":"user.created","data":{"first_name":"Jürgen"}}"#.as_bytes();
    /// let headers = verifier.signed_headers("msg_1", 1_700_000_000, sent)?;
    ///
    /// // A proxy parsed the JSON and wrote it again, in its own style.
    /// let received = br#"{"type": "user.created", "data": {"first_name": "J\u00fcrgen"}}"#;
    /// let diagnosis = verifier.diagnose(&headers, received);
    /// assert_eq!(diagnosis.error(), Some(&VerifyError::InvalidSignature));
    /// assert!(diagnosis.findings.contains(&Finding::SpacedSeparators));
    /// assert!(diagnosis.findings.contains(&Finding::EscapedNonAscii));
    /// // So it blames the proxy, not the secret.
    /// assert!(diagnosis.to_string().contains("re-serialized"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn diagnose(&self, headers: &HeaderMap, body: &[u8]) -> Diagnosis {
        self.diagnose_at(headers, body, self.now())
    }

    /// [`diagnose`](Self::diagnose) as if the current time were `now`, such as the time a
    /// delivery was captured.
    pub fn diagnose_at(&self, headers: &HeaderMap, body: &[u8], now: SystemTime) -> Diagnosis {
        let scheme = match SchemeHeaders::read(headers) {
            Ok(scheme) => scheme,
            Err(err) => {
                return Diagnosis::of_refusal(
                    self,
                    Evidence::request(headers, None, body, now),
                    err,
                )
            }
        };
        let evidence = Evidence::request(headers, Some(scheme), body, now).with_trials();
        match self.check(&scheme, body, now) {
            Ok(signer) => Diagnosis::of_success(
                self,
                evidence,
                Delivery::new(scheme.id, scheme.timestamp, &self.endpoint),
                signer,
            ),
            Err(err) => Diagnosis::of_refusal(self, evidence, err),
        }
    }

    /// This verifier's current time in Unix seconds.
    pub(crate) fn now_secs(&self) -> i64 {
        unix_secs(self.now())
    }

    /// The tolerance set with [`with_tolerance`](Self::with_tolerance).
    pub(crate) fn tolerance(&self) -> Duration {
        self.tolerance
    }

    pub(crate) fn secret_count(&self) -> usize {
        self.keys.len()
    }

    /// Which secret, by index, signed the delivery with its text as the key (see `text_keys`).
    pub(crate) fn text_key_signer(&self, scheme: &SchemeHeaders<'_>, body: &[u8]) -> Option<usize> {
        signer_among(&self.text_keys, scheme, body, false).map(|signer| signer.secret / 2)
    }

    fn now(&self) -> SystemTime {
        match &self.clock {
            Some(clock) => clock(),
            None => SystemTime::now(),
        }
    }

    /// Verifies a delivery as if the current time were `now`.
    ///
    /// # Errors
    ///
    /// As for [`verify`](Self::verify).
    ///
    /// ```
    /// use clerk_webhooks::{SigningSecret, Verifier, VerifyError};
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
    /// let headers = verifier.signed_headers("msg_1", 1_700_000_000, b"{}")?;
    /// let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
    ///
    /// assert!(verifier.verify_at(&headers, b"{}", at(1_700_000_300)).is_ok());
    /// assert_eq!(
    ///     verifier.verify_at(&headers, b"{}", at(1_700_000_301)),
    ///     Err(VerifyError::TimestampTooOld { timestamp: 1_700_000_000 })
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_at(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Delivery, VerifyError> {
        let scheme = SchemeHeaders::read(headers)?;
        self.check(&scheme, body, now)?;
        Ok(Delivery::new(scheme.id, scheme.timestamp, &self.endpoint))
    }

    /// The `svix-signature` value (`v1,<base64>`) for a message, signed with the first secret.
    ///
    /// Use it to build signed requests in tests, or to sign deliveries you send yourself.
    ///
    /// ```
    /// use clerk_webhooks::{SigningSecret, Verifier};
    ///
    /// // The vector published in the svix crate's own tests.
    /// let verifier = Verifier::new(SigningSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?);
    /// let signature = verifier.sign(
    ///     "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
    ///     1649367553,
    ///     br#"{"email":"test@example.com","username":"test_user"}"#,
    /// );
    /// assert_eq!(signature, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = tag(&self.keys[0], msg_id, &timestamp.to_string(), body);
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// The three `svix-*` headers of a delivery signed with the first secret.
    ///
    /// # Errors
    ///
    /// When `msg_id` cannot be a header value (it holds control characters).
    ///
    /// ```
    /// use clerk_webhooks::{SigningSecret, Verifier};
    ///
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
    /// let headers = verifier.signed_headers("msg_1", 1_700_000_000, b"{}")?;
    /// assert_eq!(headers["svix-id"], "msg_1");
    /// assert_eq!(headers["svix-timestamp"], "1700000000");
    /// assert!(headers["svix-signature"].to_str()?.starts_with("v1,"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn signed_headers(
        &self,
        msg_id: &str,
        timestamp: i64,
        body: &[u8],
    ) -> Result<HeaderMap, InvalidHeaderValue> {
        let mut headers = HeaderMap::with_capacity(3);
        headers.insert("svix-id", HeaderValue::from_str(msg_id)?);
        headers.insert("svix-timestamp", HeaderValue::from(timestamp));
        headers.insert(
            "svix-signature",
            HeaderValue::from_str(&self.sign(msg_id, timestamp, body))?,
        );
        Ok(headers)
    }

    /// The window, then the signature: which secret signed the delivery.
    fn check(
        &self,
        scheme: &SchemeHeaders<'_>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Signer, VerifyError> {
        self.check_window(scheme.timestamp, now)?;
        self.signer(scheme, body)
            .ok_or(VerifyError::InvalidSignature)
    }

    /// Which secret signed one of the `v1` signatures of the delivery, if any, and how many of
    /// its signatures none of the secrets made.
    pub(crate) fn signer(&self, scheme: &SchemeHeaders<'_>, body: &[u8]) -> Option<Signer> {
        signer_among(&self.keys, scheme, body, true)
    }

    /// Overflow-free: the arithmetic is done in `i128`, where no `i64` timestamp or `u64` tolerance
    /// can overflow.
    fn check_window(&self, timestamp: i64, now: SystemTime) -> Result<(), VerifyError> {
        let now = match now.duration_since(UNIX_EPOCH) {
            Ok(since) => i128::from(since.as_secs()),
            Err(before) => -i128::from(before.duration().as_secs()),
        };
        let tolerance = i128::from(self.tolerance.as_secs());
        let timestamp_wide = i128::from(timestamp);
        if timestamp_wide < now - tolerance {
            Err(VerifyError::TimestampTooOld { timestamp })
        } else if timestamp_wide > now + tolerance {
            Err(VerifyError::TimestampTooNew { timestamp })
        } else {
            Ok(())
        }
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &format_args!("<{} redacted>", self.keys.len()))
            .field("tolerance", &self.tolerance)
            .field("endpoint", &self.endpoint.endpoint())
            .field(
                "clock",
                &if self.clock.is_some() {
                    "custom"
                } else {
                    "system"
                },
            )
            .finish()
    }
}

fn keyed_mac(secret: &SigningSecret) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` only fails for fixed-size-key MACs.
    HmacSha256::new_from_slice(secret.key()).expect("HMAC-SHA256 accepts keys of any length")
}

/// What names an endpoint by default: 8 bytes of an HMAC under its secret over a fixed label, in
/// hex. A keyed hash, so the secret cannot be recovered from it, and no message Svix signs can
/// collide with it (those start with an id and a `.`).
fn endpoint_fingerprint(key: &HmacSha256) -> String {
    let mut mac = key.clone();
    mac.update(b"clerk-webhooks endpoint namespace");
    let tag = mac.finalize().into_bytes();
    tag[..8].iter().map(|byte| format!("{byte:02x}")).collect()
}

/// HMAC-SHA256 of `{id}.{timestamp}.{body}`, fed piece by piece so the body is never copied.
fn tag(key: &HmacSha256, id: &str, timestamp: &str, body: &[u8]) -> [u8; headers::TAG_LEN] {
    let mut mac = key.clone();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The secret that signed a verified delivery, and what else its signature header holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Signer {
    /// The index of the secret, in the order the verifier was given them.
    pub(crate) secret: usize,
    /// How many well-formed `v1` signatures none of the secrets made. Svix signs every delivery
    /// with the endpoint's old and new secrets for 24 hours after a rotation, so a verified
    /// delivery carrying one shows that the sender holds a secret this verifier lacks.
    pub(crate) unknown: usize,
}

/// Which of `keys`, by index, signed one of the `v1` signatures of the delivery, if any; and,
/// when `count_unknown`, how many of the signatures none of `keys` made.
///
/// The common case costs what it did before counting: with one secret, each entry is compared as
/// it is read and the ones that differ are counted on the way; with several, the secrets after
/// the signer are tried (an HMAC each) only while some entry is still unmatched, which happens
/// when a rotation has two secrets configured and Clerk signs with both, or with one this
/// verifier lacks.
fn signer_among(
    keys: &[HmacSha256],
    scheme: &SchemeHeaders<'_>,
    body: &[u8],
    count_unknown: bool,
) -> Option<Signer> {
    let signed = |key| tag(key, scheme.id, scheme.timestamp_text, body);
    match keys {
        // One secret, the common case: each entry is decoded and compared as it is read.
        [key] => {
            let (found, others) = headers::compare_signatures(scheme.signatures, &signed(key));
            found.then_some(Signer {
                secret: 0,
                unknown: others,
            })
        }
        // Several: decode the entries once, then secret by secret, stopping at the one that
        // signed (which secret matched is no secret). No well-formed entry, no HMAC at all.
        keys => {
            let candidates = Candidates::decode(scheme.signatures);
            if candidates.is_empty() {
                return None;
            }
            let mut rest = keys.iter().enumerate();
            let (secret, mut matched) = rest.by_ref().find_map(|(index, key)| {
                let matched = candidates.matching(&signed(key));
                (matched != 0).then_some((index, matched))
            })?;
            if !count_unknown {
                return Some(Signer { secret, unknown: 0 });
            }
            // The secrets before the signer matched no entry; those after it may match the
            // entries it did not.
            for (_, key) in rest {
                if matched == candidates.all() {
                    break;
                }
                matched |= candidates.matching(&signed(key));
            }
            Some(Signer {
                secret,
                unknown: candidates.unmatched(matched),
            })
        }
    }
}

/// `time` in Unix seconds, saturating at the ends of `i64`.
pub(crate) fn unix_secs(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |secs| -secs),
    }
}

/// The secret's text as a key, with and without `whsec_`: the classic mistake of a signer that
/// does not base64-decode it. Strict parsing makes the base64 text canonical, so it is rebuilt
/// exactly.
fn text_keys(secret: &SigningSecret) -> [HmacSha256; 2] {
    let text = STANDARD.encode(secret.key());
    let mac = |key: &[u8]| {
        HmacSha256::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length")
    };
    [
        mac(format!("whsec_{text}").as_bytes()),
        mac(text.as_bytes()),
    ]
}

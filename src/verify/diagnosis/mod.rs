//! Why a delivery verifies or not, in words a person can act on: one explanation shared by the
//! layer's log, the command-line tool and anyone calling [`Verifier::diagnose`].

use std::fmt;
use std::time::{Duration, SystemTime};

use http::HeaderMap;

mod clues;
mod sentences;

use self::clues::{json_style_clues, json_trial, timestamp_unit};
use super::headers::{content_length, SchemeHeaders};
use super::{unix_secs, Delivery, Signer, Verifier, VerifyError};

/// What [`Verifier::diagnose`] found out about a delivery: the verdict, the numbers behind it
/// (clock skew, which secret signed it, what was compared) and [`Finding`]s about what likely went
/// wrong. `Display` explains it in sentences (one line; `{:#}` puts each on its own line).
///
/// It names headers, numbers and secrets by their position, never a secret, a signature or a value
/// from the body.
///
/// ```
/// use clerk_webhooks::{SigningSecret, Verifier};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?)
///     .with_tolerance(Duration::from_secs(60));
/// let headers = verifier.signed_headers("msg_1", 1_700_000_420, b"{}")?;
///
/// let diagnosis = verifier.diagnose_at(&headers, b"{}", UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// assert_eq!(diagnosis.skew_seconds, Some(420));
/// assert_eq!(diagnosis.signed_by(), Some(0)); // the signature holds: only the clock is off
/// let text = diagnosis.to_string();
/// assert!(text.contains("420 s in the future") && text.contains("tolerance of 60 s"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnosis {
    /// The verdict: the verified delivery, or why it was refused (what
    /// [`verify`](Verifier::verify) returns).
    pub outcome: Result<Delivery, VerifyError>,
    /// `svix-timestamp` minus the time it was judged at, in seconds (negative: in the past);
    /// `None` when the timestamp could not be read.
    pub skew_seconds: Option<i64>,
    /// The verifier's tolerance: how far the timestamp may lie from now, either way.
    pub tolerance: Duration,
    /// What the signature check found.
    pub signature: SignatureCheck,
    /// How many well-formed `v1` signatures the signature header holds.
    pub v1_signatures: usize,
    /// How many secrets the verifier holds.
    pub secrets: usize,
    /// The length of the body judged; `None` when judged from the headers alone (the layer
    /// refuses a stale delivery before reading its body).
    pub body_len: Option<usize>,
    /// What else the request shows, most telling first.
    pub findings: Vec<Finding>,
    /// The header the signatures were read from.
    signature_header: &'static str,
    /// The time it was judged at, in Unix seconds (for an example of a good timestamp).
    now: i64,
}

/// The outcome of comparing the signatures with the secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureCheck {
    /// Not compared: the delivery was refused before (headers, or the timestamp when judged
    /// without trying the signature).
    NotChecked,
    /// A signature is the HMAC under the secret at this index (0 is the first), the order the
    /// verifier was given them. Also reported when only the timestamp is off.
    SignedBy {
        /// The index of the secret.
        secret: usize,
    },
    /// No `v1` signature matches any secret.
    NoMatch,
}

/// Something the request shows about why it did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// The signature header holds no well-formed `v1,<base64>` entry.
    NoV1Signature,
    /// The body verifies once this change is undone: it was changed after it was signed.
    VerifiesAs(BodyVariant),
    /// Signed with the text of the secret at this index as the HMAC key, instead of the bytes its
    /// base64 decodes to.
    SignedWithSecretText {
        /// The index of the secret.
        secret: usize,
    },
    /// The request has a `content-encoding` header: something decompressed or re-encoded it.
    ContentEncoding,
    /// The body is not the length its `content-length` announced.
    LengthMismatch {
        /// The announced length.
        announced: u64,
    },
    /// Spaces after `,` or `:` between JSON tokens (`", "`, `": "`); Clerk sends compact JSON.
    SpacedSeparators,
    /// Line breaks and indentation between JSON tokens; Clerk sends compact JSON on one line.
    PrettyPrinted,
    /// Non-ASCII characters written as `\u00XX` escapes; Clerk sends them as UTF-8.
    EscapedNonAscii,
    /// A 13-digit timestamp: milliseconds, where `svix-timestamp` is in seconds.
    TimestampInMilliseconds,
    /// A 16-digit timestamp: microseconds, where `svix-timestamp` is in seconds.
    TimestampInMicroseconds,
    /// A 19-digit timestamp: nanoseconds, where `svix-timestamp` is in seconds.
    TimestampInNanoseconds,
    /// The keys of an object are not in sorted order, where Clerk's sender writes every object's
    /// keys sorted: something may have parsed the body and written it again (in another order,
    /// and compact, which leaves no other trace). Not proof: looked at in the first 64 KiB.
    UnsortedKeys,
    /// The delivery verified, and its signature header also carries this many well-formed `v1`
    /// signatures that none of the verifier's secrets made: its sender signs with a secret the
    /// verifier lacks. Svix signs with the endpoint's old and new secrets for 24 hours after a
    /// rotation, so the new secret must be added before then, or every delivery will be refused.
    /// Only a holder of one of the verifier's secrets can send such a delivery.
    UnknownSigner {
        /// How many signatures none of the secrets made.
        signatures: usize,
    },
}

/// A change that copying, saving or forwarding a body often makes, which
/// [`diagnose`](Verifier::diagnose) tries to undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyVariant {
    /// The body verifies without its trailing newline.
    WithoutTrailingNewline,
    /// The body verifies with a trailing newline added.
    WithTrailingNewline,
    /// The body verifies with LF line endings in place of CRLF.
    LfLineEndings,
    /// The body verifies with CRLF line endings in place of LF.
    CrlfLineEndings,
    /// The body verifies written again as compact JSON with every object's keys sorted, the way
    /// Clerk's sender writes it (its escapes of `<`, `>` and `&`, or none): it is the JSON that was
    /// signed, parsed and re-serialized on the way.
    SortedCompactJson,
    /// The body verifies written again as compact JSON with its keys in the order received (with
    /// or without Clerk's escapes of `<`, `>` and `&`): it was parsed and re-serialized on the way.
    CompactJson,
}

impl fmt::Display for BodyVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WithoutTrailingNewline => "without its trailing newline",
            Self::WithTrailingNewline => "with a trailing newline added",
            Self::LfLineEndings => "with LF line endings instead of CRLF",
            Self::CrlfLineEndings => "with CRLF line endings instead of LF",
            Self::SortedCompactJson => {
                "written as compact JSON with its keys sorted, the way Clerk's sender writes it"
            }
            Self::CompactJson => "written as compact JSON, its keys in the order received",
        })
    }
}

/// What a diagnosis is made from.
pub(crate) struct Evidence<'a> {
    headers: &'a HeaderMap,
    scheme: Option<SchemeHeaders<'a>>,
    body: Option<&'a [u8]>,
    now: SystemTime,
    /// Whether to try the variants of the body and the secrets' texts (more HMACs): for tools,
    /// never on the request path.
    trials: bool,
}

impl<'a> Evidence<'a> {
    /// The headers alone, before the body is read.
    pub(crate) fn head(
        headers: &'a HeaderMap,
        scheme: Option<SchemeHeaders<'a>>,
        now: SystemTime,
    ) -> Self {
        Self {
            headers,
            scheme,
            body: None,
            now,
            trials: false,
        }
    }

    /// The whole request.
    pub(crate) fn request(
        headers: &'a HeaderMap,
        scheme: Option<SchemeHeaders<'a>>,
        body: &'a [u8],
        now: SystemTime,
    ) -> Self {
        Self {
            body: Some(body),
            ..Self::head(headers, scheme, now)
        }
    }

    pub(crate) fn with_trials(mut self) -> Self {
        self.trials = true;
        self
    }
}

impl Diagnosis {
    /// The reason the delivery was refused, if it was.
    pub fn error(&self) -> Option<&VerifyError> {
        self.outcome.as_ref().err()
    }

    /// The index of the secret that signed the delivery (0 is the first), if one did; also when
    /// only its timestamp is off.
    pub fn signed_by(&self) -> Option<usize> {
        match self.signature {
            SignatureCheck::SignedBy { secret } => Some(secret),
            _ => None,
        }
    }

    fn blank(
        verifier: &Verifier,
        evidence: &Evidence<'_>,
        outcome: Result<Delivery, VerifyError>,
    ) -> Self {
        let now = unix_secs(evidence.now);
        Self {
            outcome,
            skew_seconds: evidence
                .scheme
                .map(|scheme| scheme.timestamp.saturating_sub(now)),
            tolerance: verifier.tolerance(),
            signature: SignatureCheck::NotChecked,
            v1_signatures: evidence
                .scheme
                .map_or(0, |scheme| scheme.v1_signature_count()),
            secrets: verifier.secret_count(),
            body_len: evidence.body.map(<[u8]>::len),
            findings: Vec::new(),
            signature_header: evidence
                .scheme
                .map_or("svix-signature", |scheme| scheme.signature_header),
            now,
        }
    }

    pub(crate) fn of_success(
        verifier: &Verifier,
        evidence: Evidence<'_>,
        delivery: Delivery,
        signer: Signer,
    ) -> Self {
        let mut diagnosis = Self::blank(verifier, &evidence, Ok(delivery));
        diagnosis.signed(signer);
        diagnosis
    }

    /// The signature holds: which secret made it, and what else the header carries.
    fn signed(&mut self, signer: Signer) {
        self.signature = SignatureCheck::SignedBy {
            secret: signer.secret,
        };
        if signer.unknown > 0 {
            self.findings.push(Finding::UnknownSigner {
                signatures: signer.unknown,
            });
        }
    }

    /// How many signatures of a verified delivery none of the secrets made, if any did not.
    fn unknown_signatures(&self) -> Option<usize> {
        self.findings.iter().find_map(|finding| match finding {
            Finding::UnknownSigner { signatures } => Some(*signatures),
            _ => None,
        })
    }

    /// What one verification that ended in `err` shows, plus the trials if `evidence` asks for
    /// them. Without trials this costs a scan of the body at most.
    pub(crate) fn of_refusal(
        verifier: &Verifier,
        evidence: Evidence<'_>,
        err: VerifyError,
    ) -> Self {
        let mut diagnosis = Self::blank(verifier, &evidence, Err(err.clone()));
        let Some(scheme) = evidence.scheme else {
            return diagnosis;
        };
        match err {
            VerifyError::TimestampTooNew { .. } => {
                diagnosis
                    .findings
                    .extend(timestamp_unit(scheme.timestamp_text));
            }
            VerifyError::InvalidSignature => diagnosis.signature = SignatureCheck::NoMatch,
            _ => {}
        }
        let window_failed = matches!(
            err,
            VerifyError::TimestampTooOld { .. } | VerifyError::TimestampTooNew { .. }
        );
        if window_failed && evidence.trials {
            if let Some(body) = evidence.body {
                // Judged at its own time, does the signature hold?
                match verifier.signer(&scheme, body) {
                    Some(signer) => diagnosis.signed(signer),
                    None => diagnosis.signature = SignatureCheck::NoMatch,
                }
            }
        }
        if diagnosis.signature == SignatureCheck::NoMatch {
            diagnosis.find_signature_clues(verifier, &evidence, &scheme);
        }
        diagnosis
    }

    fn find_signature_clues(
        &mut self,
        verifier: &Verifier,
        evidence: &Evidence<'_>,
        scheme: &SchemeHeaders<'_>,
    ) {
        if self.v1_signatures == 0 {
            self.findings.push(Finding::NoV1Signature);
            return;
        }
        let Some(body) = evidence.body else {
            return;
        };
        if evidence.trials {
            for variant in [
                BodyVariant::WithoutTrailingNewline,
                BodyVariant::WithTrailingNewline,
                BodyVariant::LfLineEndings,
                BodyVariant::CrlfLineEndings,
            ] {
                let verifies = variant
                    .apply(body)
                    .is_some_and(|changed| verifier.signer(scheme, &changed).is_some());
                if verifies {
                    self.findings.push(Finding::VerifiesAs(variant));
                }
            }
            if let Some(secret) = verifier.text_key_signer(scheme, body) {
                self.findings.push(Finding::SignedWithSecretText { secret });
            }
            let proven = self
                .findings
                .iter()
                .any(|finding| matches!(finding, Finding::VerifiesAs(_)));
            if !proven {
                if let Some(variant) = json_trial(verifier, scheme, body) {
                    self.findings.push(Finding::VerifiesAs(variant));
                }
            }
        }
        let encoded = evidence
            .headers
            .get(http::header::CONTENT_ENCODING)
            .is_some_and(|value| !value.as_bytes().eq_ignore_ascii_case(b"identity"));
        if encoded {
            self.findings.push(Finding::ContentEncoding);
        }
        if let Some(announced) = content_length(evidence.headers) {
            if announced != body.len() as u64 {
                self.findings.push(Finding::LengthMismatch { announced });
            }
        }
        self.findings.extend(json_style_clues(body));
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::clues::replace;
    use super::*;
    use crate::SigningSecret;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const OTHER: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const T: i64 = 1_700_000_000;
    /// Compact UTF-8 JSON with its keys sorted, as Clerk sends it.
    const SENT: &[u8] =
        "{\"data\":{\"bio\":\"a, b: c\",\"first_name\":\"Jürgen\"},\"type\":\"user.created\"}"
            .as_bytes();

    fn verifier(secret: &str) -> Verifier {
        Verifier::new(SigningSecret::new(secret).unwrap())
    }

    fn at(secs: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    }

    fn signed(body: &[u8], timestamp: i64) -> HeaderMap {
        verifier(SECRET)
            .signed_headers("msg_1", timestamp, body)
            .unwrap()
    }

    /// The diagnosis by the receiving verifier, and its text, which never holds a secret or a
    /// value from the body.
    fn diagnose(
        receiver: &Verifier,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> (Diagnosis, String) {
        let diagnosis = receiver.diagnose_at(headers, body, at(now));
        let text = diagnosis.to_string();
        for secret in [SECRET, OTHER] {
            assert!(!text.contains(&secret[6..16]), "{text}");
        }
        assert!(
            !text.contains("Jürgen") && !text.contains("msg_1"),
            "{text}"
        );
        (diagnosis, text)
    }

    #[test]
    fn a_verified_delivery_says_which_secret_and_the_skew() {
        let receiver = verifier(OTHER).with_secret(SigningSecret::new(SECRET).unwrap());
        let (diagnosis, text) = diagnose(&receiver, &signed(SENT, T), SENT, T + 3);
        assert_eq!(diagnosis.outcome.as_ref().unwrap().id(), "msg_1");
        assert_eq!(diagnosis.signed_by(), Some(1));
        assert_eq!(diagnosis.skew_seconds, Some(-3));
        assert_eq!(
            text,
            "signed with secret #2; the timestamp is 3 s in the past, within the tolerance of 300 s"
        );
    }

    #[test]
    fn a_wrong_secret_is_told_from_a_re_serialized_body() {
        let (diagnosis, text) = diagnose(&verifier(OTHER), &signed(SENT, T), SENT, T);
        assert_eq!(diagnosis.error(), Some(&VerifyError::InvalidSignature));
        assert_eq!(diagnosis.signature, SignatureCheck::NoMatch);
        assert!(diagnosis.findings.is_empty(), "{:?}", diagnosis.findings);
        assert!(
            text.contains("none of the 1 secret(s) signed any of the 1 v1 signature(s)")
                && text.contains("another endpoint or environment"),
            "{text}"
        );
        assert!(!text.contains("re-serialized"), "{text}");

        // Python's json.dumps of a dict built in another order: spaced separators, ASCII
        // escapes, keys out of order. The trials write it again as Clerk does: it verifies.
        let python =
            br#"{"type": "user.created", "data": {"first_name": "J\u00fcrgen", "bio": "a, b: c"}}"#;
        let (diagnosis, text) = diagnose(&verifier(SECRET), &signed(SENT, T), python, T);
        assert_eq!(
            diagnosis.findings,
            [
                Finding::VerifiesAs(BodyVariant::SortedCompactJson),
                Finding::SpacedSeparators,
                Finding::EscapedNonAscii,
                Finding::UnsortedKeys
            ]
        );
        assert!(
            text.contains("would verify written as compact JSON with its keys sorted")
                && text.contains("re-serialized")
                && text.contains("verify the raw bytes as received"),
            "{text}"
        );
        assert!(!text.contains("another endpoint"), "{text}");

        // Without the proof (the signed body is another one), the style says it.
        let other = signed(b"{\"data\":{},\"type\":\"user.created\"}", T);
        let (diagnosis, text) = diagnose(&verifier(SECRET), &other, python, T);
        assert_eq!(
            diagnosis.findings,
            [
                Finding::SpacedSeparators,
                Finding::EscapedNonAscii,
                Finding::UnsortedKeys
            ]
        );
        assert!(
            text.contains("not the compact JSON Clerk sends")
                && text.contains("spaces after ',' or ':'")
                && text.contains("\\u escapes")
                && text.contains("object keys out of sorted order")
                && text.contains("re-serialized"),
            "{text}"
        );
        assert!(!text.contains("another endpoint"), "{text}");

        // JSON.stringify(event, null, 2), in the order received: compacted, it verifies.
        let pretty = "{\n  \"data\":{\"bio\":\"a, b: c\",\"first_name\":\"Jürgen\"},\n  \"type\":\"user.created\"\n}";
        let (diagnosis, text) = diagnose(&verifier(SECRET), &signed(SENT, T), pretty.as_bytes(), T);
        assert_eq!(
            diagnosis.findings,
            [
                Finding::VerifiesAs(BodyVariant::SortedCompactJson),
                Finding::PrettyPrinted
            ]
        );
        assert!(text.contains("re-serialized"), "{text}");
        let (diagnosis, text) = diagnose(&verifier(SECRET), &other, pretty.as_bytes(), T);
        assert_eq!(diagnosis.findings, [Finding::PrettyPrinted]);
        assert!(text.contains("line breaks and indentation"), "{text}");
    }

    /// Regression (issue 30, item 11): a compact body with its keys reordered, which bears no
    /// other trace of a re-serialization, was diagnosed as a wrong secret.
    #[test]
    fn a_compact_body_with_reordered_keys_is_no_wrong_secret() {
        // What a JavaScript or serde framework writes back: compact, its own key order, `<` and
        // `&` unescaped; Clerk wrote them sorted, with Go's escapes.
        let sent = r#"{"data":{"bio":"\u003cb\u003e \u0026","first_name":"Jürgen","id":"user_1"},"object":"event","type":"user.created"}"#;
        let received = r#"{"type":"user.created","object":"event","data":{"id":"user_1","first_name":"Jürgen","bio":"<b> &"}}"#;
        let (diagnosis, text) = diagnose(
            &verifier(SECRET),
            &signed(sent.as_bytes(), T),
            received.as_bytes(),
            T,
        );
        assert_eq!(diagnosis.error(), Some(&VerifyError::InvalidSignature));
        assert_eq!(
            diagnosis.findings,
            [
                Finding::VerifiesAs(BodyVariant::SortedCompactJson),
                Finding::UnsortedKeys
            ]
        );
        assert!(
            text.contains("re-serialized") && text.contains("raw bytes"),
            "{text}"
        );
        assert!(!text.contains("another endpoint"), "{text}");

        // A sender writing its keys in its own order, re-serialized in another: no trial undoes
        // it, and the key order alone proves nothing, so neither cause is stated as the one.
        let sent = br#"{"type":"user.created","data":{"id":"user_1"}}"#;
        let received = br#"{"data":{"id":"user_1"},"type":"user.created","object":"event"}"#;
        let (diagnosis, text) = diagnose(&verifier(SECRET), &signed(sent, T), received, T);
        assert_eq!(diagnosis.findings, [Finding::UnsortedKeys]);
        assert!(
            text.contains("may have been changed on the way")
                && text.contains("parsed and re-serialized")
                && text.contains("verify the raw bytes as received")
                && text.contains("if they already are"),
            "{text}"
        );

        // The request path has no trials, but the key order is seen there too.
        let receiver = verifier(SECRET).with_clock(move || at(T));
        let headers = signed(sent, T);
        let head = receiver.check_head(&headers).unwrap();
        let diagnosis = receiver
            .verify_diagnosed(&head, &headers, received)
            .unwrap_err();
        assert_eq!(diagnosis.findings, [Finding::UnsortedKeys]);
    }

    #[test]
    fn a_future_timestamp_gets_clock_advice_not_replay_advice() {
        let (diagnosis, text) = diagnose(&verifier(SECRET), &signed(SENT, T + 420), SENT, T);
        assert_eq!(
            diagnosis.error(),
            Some(&VerifyError::TimestampTooNew { timestamp: T + 420 })
        );
        assert_eq!(diagnosis.skew_seconds, Some(420));
        assert!(
            text.contains("420 s in the future, beyond the tolerance of 300 s")
                && text.contains("a clock is wrong")
                && text.contains("NTP"),
            "{text}"
        );
        assert!(!text.contains("replay"), "{text}");
        assert!(
            text.contains("the signature itself is valid (secret #1)"),
            "{text}"
        );
    }

    #[test]
    fn a_past_timestamp_gets_replay_advice_and_the_tolerance() {
        let receiver = verifier(SECRET).with_tolerance(Duration::from_secs(60));
        let (diagnosis, text) = diagnose(&receiver, &signed(SENT, T), SENT, T + 600);
        assert_eq!(diagnosis.skew_seconds, Some(-600));
        assert!(
            text.contains("600 s in the past, beyond the tolerance of 60 s")
                && text.contains("replayed"),
            "{text}"
        );
    }

    #[test]
    fn milli_micro_and_nanosecond_timestamps_are_named() {
        for (timestamp, finding, unit, divisor) in [
            (
                T * 1000 + 162,
                Finding::TimestampInMilliseconds,
                "milliseconds",
                "1000",
            ),
            (
                T * 1_000_000,
                Finding::TimestampInMicroseconds,
                "microseconds",
                "1000000",
            ),
            (
                T * 1_000_000_000,
                Finding::TimestampInNanoseconds,
                "nanoseconds",
                "1000000000",
            ),
        ] {
            let (diagnosis, text) = diagnose(&verifier(SECRET), &signed(SENT, timestamp), SENT, T);
            assert_eq!(diagnosis.findings, [finding], "{text}");
            assert!(
                text.contains(unit)
                    && text.contains(&format!("divide by {divisor}"))
                    && text.contains("tolerance of 300 s"),
                "{text}"
            );
        }
    }

    #[test]
    fn every_timestamp_message_states_the_tolerance() {
        let receiver = verifier(SECRET).with_tolerance(Duration::from_secs(42));
        let mut bad = signed(SENT, T);
        bad.insert("svix-timestamp", http::HeaderValue::from_static("soon"));
        for (headers, now) in [
            (signed(SENT, T), T + 100),
            (signed(SENT, T + 100), T),
            (signed(SENT, T * 1000), T),
            (bad, T),
            (signed(SENT, T), T),
        ] {
            let (_, text) = diagnose(&receiver, &headers, SENT, now);
            assert!(text.contains("tolerance of 42 s"), "{text}");
        }
    }

    #[test]
    fn extreme_clocks_and_timestamps_do_not_overflow() {
        let headers = signed(SENT, i64::MAX);
        let before_epoch = UNIX_EPOCH - Duration::from_secs(1);
        let diagnosis = verifier(SECRET).diagnose_at(&headers, SENT, before_epoch);
        assert_eq!(diagnosis.skew_seconds, Some(i64::MAX));
        // 19 digits: read as nanoseconds.
        assert!(diagnosis.to_string().contains("nanoseconds"));
        let diagnosis = verifier(SECRET).diagnose_at(
            &signed(SENT, 0),
            SENT,
            UNIX_EPOCH + Duration::from_secs(u64::MAX / 2),
        );
        assert_eq!(diagnosis.skew_seconds, Some(-i64::MAX));
    }

    #[test]
    fn copy_and_paste_changes_are_undone_by_the_trials() {
        let body = b"{\"a\":1}\n{\"b\":2}".to_vec();
        let newline = [&body[..], b"\n"].concat();
        let crlf = replace(&body, b"\n", b"\r\n");
        for (sent, received, variant) in [
            (&body, &newline, BodyVariant::WithoutTrailingNewline),
            (&newline, &body, BodyVariant::WithTrailingNewline),
            (&body, &crlf, BodyVariant::LfLineEndings),
            (&crlf, &body, BodyVariant::CrlfLineEndings),
        ] {
            let (diagnosis, text) = diagnose(&verifier(SECRET), &signed(sent, T), received, T);
            assert!(
                diagnosis.findings.contains(&Finding::VerifiesAs(variant)),
                "{text}"
            );
            assert!(text.contains(&format!("would verify {variant}")), "{text}");
            assert!(
                !text.contains("another endpoint") && !text.contains("re-serialized"),
                "{text}"
            );
        }
    }

    #[test]
    fn the_secret_text_used_as_the_key_is_recognised() {
        for text_key in [SECRET, &SECRET[6..]] {
            let signer = Verifier::new(SigningSecret::from_bytes(text_key.as_bytes()).unwrap());
            let headers = signer.signed_headers("msg_1", T, SENT).unwrap();
            let receiver = verifier(OTHER).with_secret(SigningSecret::new(SECRET).unwrap());
            let (diagnosis, text) = diagnose(&receiver, &headers, SENT, T);
            assert_eq!(
                diagnosis.findings,
                [Finding::SignedWithSecretText { secret: 1 }]
            );
            assert!(text.contains("TEXT of secret #2"), "{text}");
        }
    }

    #[test]
    fn what_the_headers_show_is_reported() {
        let mut headers = signed(SENT, T);
        headers.insert("content-encoding", http::HeaderValue::from_static("gzip"));
        let (diagnosis, text) = diagnose(&verifier(SECRET), &headers, b"{}", T);
        assert_eq!(diagnosis.findings, [Finding::ContentEncoding]);
        assert!(text.contains("content-encoding"), "{text}");

        let mut headers = signed(SENT, T);
        headers.insert("content-length", http::HeaderValue::from(SENT.len() + 3));
        let (diagnosis, text) = diagnose(&verifier(SECRET), &headers, b"{}", T);
        assert_eq!(
            diagnosis.findings,
            [Finding::LengthMismatch {
                announced: SENT.len() as u64 + 3
            }]
        );
        assert!(text.contains("content-length announced"), "{text}");

        let mut headers = signed(SENT, T);
        headers.remove("svix-signature");
        headers.insert(
            "webhook-signature",
            http::HeaderValue::from_static("v2,abc"),
        );
        let (diagnosis, text) = diagnose(&verifier(SECRET), &headers, SENT, T);
        assert_eq!(diagnosis.findings, [Finding::NoV1Signature]);
        assert!(
            text.contains("0 v1 signature(s) in webhook-signature"),
            "{text}"
        );
        assert!(text.contains("no v1,<base64> entry"), "{text}");

        let (diagnosis, text) = diagnose(&verifier(SECRET), &HeaderMap::new(), SENT, T);
        assert_eq!(diagnosis.signature, SignatureCheck::NotChecked);
        assert!(text.starts_with("svix-id is missing"), "{text}");
    }

    #[test]
    fn the_request_path_diagnosis_tries_nothing_more() {
        let body = b"{\"a\":1}";
        let received = [&body[..], b"\n"].concat();
        let headers = signed(body, T);
        let receiver = verifier(SECRET).with_clock(move || at(T));
        let head = receiver.check_head(&headers).unwrap();
        let diagnosis = receiver
            .verify_diagnosed(&head, &headers, &received)
            .unwrap_err();
        assert_eq!(diagnosis.error(), Some(&VerifyError::InvalidSignature));
        // No variant was tried (a trailing newline is no sign of re-serializing either).
        assert_eq!(diagnosis.findings, []);
        assert!(receiver.verify_diagnosed(&head, &headers, body).is_ok());

        let diagnosis = receiver.check_head(&signed(body, T + 1000)).unwrap_err();
        assert_eq!(diagnosis.signature, SignatureCheck::NotChecked);
        assert_eq!(diagnosis.body_len, None);
        let text = diagnosis.to_string();
        assert!(
            text.contains("1000 s in the future") && !text.contains("signature"),
            "{text}"
        );
    }
}

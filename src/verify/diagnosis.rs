//! Why a delivery verifies or not, in words a person can act on: one explanation shared by the
//! layer's log, the command-line tool and anyone calling [`Verifier::diagnose`].

use std::fmt;
use std::time::{Duration, SystemTime};

use http::HeaderMap;

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

impl BodyVariant {
    fn apply(self, body: &[u8]) -> Option<Vec<u8>> {
        match self {
            Self::WithoutTrailingNewline => body
                .strip_suffix(b"\r\n")
                .or_else(|| body.strip_suffix(b"\n"))
                .map(<[u8]>::to_vec),
            Self::WithTrailingNewline => Some([body, b"\n"].concat()),
            Self::LfLineEndings => contains(body, b"\r\n").then(|| replace(body, b"\r\n", b"\n")),
            Self::CrlfLineEndings => (body.contains(&b'\n') && !contains(body, b"\r\n"))
                .then(|| replace(body, b"\n", b"\r\n")),
            // Written from the parsed body, with two ways of escaping: see `json_trial`.
            Self::SortedCompactJson | Self::CompactJson => None,
        }
    }

    /// Whether the change is a JSON re-serialization, rather than an edit of the text.
    fn is_json(self) -> bool {
        matches!(self, Self::SortedCompactJson | Self::CompactJson)
    }
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

    /// The sentences of the explanation, in order.
    fn sentences(&self) -> Vec<String> {
        let tolerance = self.tolerance.as_secs();
        let mut out = Vec::new();
        let err = match &self.outcome {
            Ok(_) => {
                if let Some(secret) = self.signed_by() {
                    out.push(format!("signed with secret #{}", secret + 1));
                }
                if let Some(skew) = self.skew_seconds {
                    out.push(format!(
                        "the timestamp is {}, within the tolerance of {tolerance} s",
                        describe_skew(skew)
                    ));
                }
                self.unknown_signer_sentence(&mut out);
                return out;
            }
            Err(err) => err,
        };
        match err {
            VerifyError::MissingHeader { name } => out.push(format!(
                "{name} is missing (under its webhook-* name too): a delivery carries svix-id, \
                 svix-timestamp and svix-signature; either this is not a webhook delivery or \
                 something before this check dropped the headers"
            )),
            VerifyError::InvalidHeader { name } => out.push(format!(
                "{name} cannot be used: it is not visible ASCII, an empty id, or longer than any \
                 sender writes (an id up to 256 bytes, a signature list up to 4 KiB and 16 entries)"
            )),
            VerifyError::InvalidTimestamp => out.push(format!(
                "svix-timestamp must be whole seconds since the Unix epoch, such as {}, within the \
                 tolerance of {tolerance} s of this server's clock",
                self.now.max(0)
            )),
            VerifyError::TimestampTooOld { .. } => out.push(format!(
                "the timestamp is {}, beyond the tolerance of {tolerance} s: a replayed delivery \
                 or one held up for long if it is one delivery; this server's clock (check NTP) \
                 if it is every delivery",
                self.skew_seconds.map_or_else(String::new, describe_skew)
            )),
            VerifyError::TimestampTooNew { .. } => {
                let unit = self.findings.iter().find_map(|finding| match finding {
                    Finding::TimestampInMilliseconds => Some(("13", "milliseconds", "1000")),
                    Finding::TimestampInMicroseconds => Some(("16", "microseconds", "1000000")),
                    Finding::TimestampInNanoseconds => Some(("19", "nanoseconds", "1000000000")),
                    _ => None,
                });
                match unit {
                    Some((digits, unit, divisor)) => out.push(format!(
                        "the timestamp has {digits} digits: it looks like {unit} since the Unix \
                         epoch, where svix-timestamp is in seconds (the signer must divide by \
                         {divisor}); it lies beyond the tolerance of {tolerance} s"
                    )),
                    None => out.push(format!(
                        "the timestamp is {}, beyond the tolerance of {tolerance} s: senders sign \
                         with their current time, so a clock is wrong, this server's (check NTP) \
                         or the sender's",
                        self.skew_seconds.map_or_else(String::new, describe_skew)
                    )),
                }
            }
            // `InvalidSignature` and whatever the verifier may refuse for in a later version.
            _ => {}
        }
        match self.signature {
            SignatureCheck::SignedBy { secret } => {
                out.push(format!(
                    "the signature itself is valid (secret #{}): only the time is off",
                    secret + 1
                ));
                self.unknown_signer_sentence(&mut out);
            }
            SignatureCheck::NoMatch => {
                if *err != VerifyError::InvalidSignature {
                    out.push("the signature does not match either, at that time".to_owned());
                }
                self.signature_sentences(&mut out);
            }
            SignatureCheck::NotChecked => {}
        }
        out
    }

    /// What a verified delivery carrying a signature of another secret shows: a rotation whose new
    /// secret is missing here.
    fn unknown_signer_sentence(&self, out: &mut Vec<String>) {
        if let Some(signatures) = self.unknown_signatures() {
            out.push(format!(
                "it also carries {signatures} v1 signature(s) that none of the {} secret(s) made, \
                 so its sender signs with a secret not configured here: Svix signs with the old \
                 and the new secret for 24 hours after the endpoint's signing secret is rotated; \
                 if the missing one is the new secret, add it (CLERK_WEBHOOK_SIGNING_SECRET takes \
                 both, space-separated) before those 24 hours are over, or every delivery will \
                 then be refused; if only the new secret is configured, it is the old one, and \
                 nothing needs doing",
                self.secrets
            ));
        }
    }

    /// What the body shows of another serializer's style, as words; the key order only with
    /// another sign, as it proves nothing alone.
    fn style(&self) -> Vec<&'static str> {
        let mut style: Vec<&str> = self
            .findings
            .iter()
            .filter_map(|finding| match finding {
                Finding::SpacedSeparators => Some("spaces after ',' or ':'"),
                Finding::PrettyPrinted => Some("line breaks and indentation"),
                Finding::EscapedNonAscii => Some("non-ASCII characters as \\u escapes"),
                _ => None,
            })
            .collect();
        if !style.is_empty() && self.findings.contains(&Finding::UnsortedKeys) {
            style.push(UNSORTED);
        }
        style
    }

    fn signature_sentences(&self, out: &mut Vec<String>) {
        let body = self
            .body_len
            .map_or_else(String::new, |len| format!(", over a body of {len} bytes"));
        out.push(format!(
            "checked {} v1 signature(s) in {} against {} secret(s){body}",
            self.v1_signatures, self.signature_header, self.secrets
        ));
        // What proves a cause comes first and silences the guesses.
        let mut proven = false;
        for finding in &self.findings {
            match finding {
                Finding::NoV1Signature => {
                    out.push("the signature header holds no v1,<base64> entry".to_owned());
                    return;
                }
                Finding::VerifiesAs(variant) if variant.is_json() => {
                    let style = self.style();
                    let seen = if style.is_empty() {
                        String::new()
                    } else {
                        format!(" (the body has {})", style.join(", "))
                    };
                    out.push(format!(
                        "the body would verify {variant}: it is the JSON that was signed, but a \
                         proxy, middleware or framework (a body-parsing middleware, say) parsed \
                         and re-serialized it on the way{seen}; verify the raw bytes as received"
                    ));
                    proven = true;
                }
                Finding::VerifiesAs(variant) => {
                    out.push(format!(
                        "the body would verify {variant}: something changed it after it was signed"
                    ));
                    proven = true;
                }
                Finding::SignedWithSecretText { secret } => {
                    out.push(format!(
                        "it was signed with the TEXT of secret #{} as the key: the signer must \
                         base64-decode what follows whsec_ and use those bytes",
                        secret + 1
                    ));
                    proven = true;
                }
                _ => {}
            }
        }
        if proven {
            return;
        }
        let mut explained = false;
        for finding in &self.findings {
            match finding {
                Finding::ContentEncoding => {
                    out.push(
                        "the request has a content-encoding header: a layer that decompresses or \
                         re-encodes the body before this check changes the signed bytes"
                            .to_owned(),
                    );
                    explained = true;
                }
                Finding::LengthMismatch { announced } => {
                    out.push(format!(
                        "the body is not the {announced} bytes its content-length announced: \
                         something before this check changed it"
                    ));
                    explained = true;
                }
                _ => {}
            }
        }
        let style = self.style();
        let unsorted = self.findings.contains(&Finding::UnsortedKeys);
        if !style.is_empty() {
            out.push(format!(
                "the body is not the compact JSON Clerk sends (it has {}): a proxy, middleware or \
                 framework parsed and re-serialized it; verify the raw bytes as received",
                style.join(", ")
            ));
            explained = true;
        }
        if unsorted && !explained {
            // Compact JSON in another order: a re-serialization leaves no other trace, and a
            // sender other than Clerk's may order its keys so; neither cause is ruled out.
            out.push(format!(
                "none of the {} secret(s) signed any of the {} v1 signature(s), and the body's \
                 object keys are not in the sorted order Clerk writes them in: the body may have \
                 been changed on the way (parsed and re-serialized, by a body-parsing middleware \
                 or a proxy), so verify the raw bytes as received; if they already are, it is \
                 most likely the secret of another endpoint or environment (each endpoint has its \
                 own Signing Secret)",
                self.secrets, self.v1_signatures
            ));
            explained = true;
        }
        if !explained {
            out.push(format!(
                "none of the {} secret(s) signed any of the {} v1 signature(s), and the body \
                 looks as Clerk sends it: most likely the secret of another endpoint or \
                 environment (each endpoint has its own Signing Secret)",
                self.secrets, self.v1_signatures
            ));
        }
    }
}

impl fmt::Display for Diagnosis {
    /// The sentences joined by `; `, or one per line with `{:#}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let separator = if f.alternate() { "\n" } else { "; " };
        for (index, sentence) in self.sentences().iter().enumerate() {
            if index > 0 {
                f.write_str(separator)?;
            }
            f.write_str(sentence)?;
        }
        Ok(())
    }
}

fn describe_skew(skew: i64) -> String {
    match skew {
        0 => "exactly now".to_owned(),
        s if s < 0 => format!("{} s in the past", s.unsigned_abs()),
        s => format!("{s} s in the future"),
    }
}

/// A timestamp in a finer unit than seconds, told by its number of digits (a time in seconds has
/// 10 digits from 2001 to 2286).
fn timestamp_unit(text: &str) -> Option<Finding> {
    match text.len() {
        13 => Some(Finding::TimestampInMilliseconds),
        16 => Some(Finding::TimestampInMicroseconds),
        19 => Some(Finding::TimestampInNanoseconds),
        _ => None,
    }
}

/// The words for [`Finding::UnsortedKeys`] among the other signs of a re-serialization.
const UNSORTED: &str = "object keys out of sorted order";

/// How much of a body is searched for `\u` escapes: Clerk's bodies are a few KiB, and a forged
/// body of any size then costs one bounded scan on top of its HMAC.
const SCANNED_BODY_LEN: usize = 64 * 1024;
/// How many separators (`,` and `:` between tokens) are looked at: a serializer that spaces or
/// indents does it from the first one on, so the walk through the tokens stops early.
const SCANNED_SEPARATORS: usize = 16;

/// Signs that a JSON body was written again by another serializer than Clerk's, which writes
/// compact UTF-8 JSON; nothing for a body that is not a JSON object. Bounded: the walk through the
/// tokens stops after the first separators, the search for escapes after the first 64 KiB.
fn json_style_clues(body: &[u8]) -> Vec<Finding> {
    let json = body[..body.len().min(SCANNED_BODY_LEN)].trim_ascii();
    if !json.starts_with(b"{") {
        return Vec::new();
    }
    let (spaced, pretty) = separator_style(json);
    // Outside strings a backslash cannot occur, so the escapes need no walk through the tokens;
    // most bodies hold no backslash at all, which `contains` (memchr) rules out fast.
    let escaped = json.contains(&b'\\') && escapes_non_ascii_anywhere(json);
    let unsorted = keys_out_of_order(json);
    [
        (spaced, Finding::SpacedSeparators),
        (pretty, Finding::PrettyPrinted),
        (escaped, Finding::EscapedNonAscii),
        (unsorted, Finding::UnsortedKeys),
    ]
    .into_iter()
    .filter_map(|(seen, finding)| seen.then_some(finding))
    .collect()
}

/// Whether the first separators between tokens are followed by a space, and whether a line
/// break comes between tokens before the walk stops.
fn separator_style(json: &[u8]) -> (bool, bool) {
    let (mut spaced, mut pretty) = (false, false);
    let (mut in_string, mut escape) = (false, false);
    let mut separators = 0;
    let mut previous = 0u8;
    for &byte in json {
        if in_string {
            if escape {
                escape = false;
            } else if byte == b'\\' {
                escape = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b' ' if previous == b',' || previous == b':' => spaced = true,
                b'\n' | b'\r' => pretty = true,
                b',' | b':' => separators += 1,
                _ => {}
            }
            if (spaced && pretty) || separators > SCANNED_SEPARATORS {
                break;
            }
        }
        previous = byte;
    }
    (spaced, pretty)
}

/// Whether a `\u` escape of a non-ASCII character occurs; an escaped backslash (`\\`) is
/// skipped whole, so `\\u00fc` (a backslash, then text) is no escape.
fn escapes_non_ascii_anywhere(json: &[u8]) -> bool {
    let mut rest = json;
    while let Some(at) = rest.iter().position(|&byte| byte == b'\\') {
        match rest.get(at + 1) {
            Some(b'u') if escapes_non_ascii(rest.get(at + 2..at + 6)) => return true,
            Some(_) => rest = &rest[at + 2..],
            None => return false,
        }
    }
    false
}

/// Whether the four hex digits of a `\u` escape stand for a non-ASCII character that a compact
/// UTF-8 writer leaves as it is. Go, which Clerk's API is written in, escapes `<`, `>`, `&` and
/// U+2028/U+2029, and every writer escapes control characters: none of those is a clue.
fn escapes_non_ascii(hex: Option<&[u8]>) -> bool {
    let Some(code) = hex
        .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
        .and_then(|hex| std::str::from_utf8(hex).ok())
        .and_then(|hex| u16::from_str_radix(hex, 16).ok())
    else {
        return false;
    };
    code >= 0x80 && code != 0x2028 && code != 0x2029
}

/// How many object keys are compared, at most, and how deep nested objects and arrays are
/// followed: like the separators', the walk through the keys stops early. A serializer that
/// writes keys in its own order does so from the first object on (Clerk's envelope starts with
/// `data`, whose first keys are the user's or organization's); a forged body costs a walk through
/// its first 32 keys, on top of its HMAC.
const SCANNED_KEYS: usize = 32;
const SCANNED_DEPTH: usize = 32;

/// Whether a key of an object comes before the previous key of that object in byte order, among
/// the first keys of the body. Clerk's sender writes every object's keys sorted (as Go writes a
/// map's, and as Clerk's documented payloads show), so keys out of that order were most likely
/// written by another serializer. A key holding an escape is not compared: its order is that of
/// the text the escape stands for.
fn keys_out_of_order(json: &[u8]) -> bool {
    /// An open object or array, and for an object where its keys are.
    #[derive(Clone, Copy)]
    struct Open<'a> {
        object: bool,
        expect_key: bool,
        last_key: Option<&'a [u8]>,
    }
    let mut open = [Open {
        object: false,
        expect_key: false,
        last_key: None,
    }; SCANNED_DEPTH];
    let (mut depth, mut keys, mut at) = (0usize, 0usize, 0usize);
    while let Some(&byte) = json.get(at) {
        match byte {
            b'"' => {
                // A string cut off by the scanned length ends the walk.
                let Some(len) = string_len(&json[at + 1..]) else {
                    return false;
                };
                let text = &json[at + 1..at + 1 + len];
                at += len + 2;
                let Some(level) = depth.checked_sub(1).map(|top| &mut open[top]) else {
                    continue;
                };
                if level.object && level.expect_key {
                    level.expect_key = false;
                    let plain = !text.contains(&b'\\');
                    if plain && level.last_key.is_some_and(|last| last > text) {
                        return true;
                    }
                    level.last_key = plain.then_some(text);
                    keys += 1;
                    if keys >= SCANNED_KEYS {
                        return false;
                    }
                }
                continue;
            }
            b'{' | b'[' => {
                if depth == SCANNED_DEPTH {
                    return false;
                }
                let object = byte == b'{';
                open[depth] = Open {
                    object,
                    expect_key: object,
                    last_key: None,
                };
                depth += 1;
            }
            // The end of the body's own object (or a stray bracket) ends the walk.
            b'}' | b']' if depth <= 1 => return false,
            b'}' | b']' => depth -= 1,
            b',' if depth > 0 => {
                let level = &mut open[depth - 1];
                level.expect_key = level.object;
            }
            _ => {}
        }
        at += 1;
    }
    false
}

/// The length of a string's text, up to its closing quote (`rest` follows the opening one);
/// `None` when it does not close.
fn string_len(rest: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let next = at
            + rest
                .get(at..)?
                .iter()
                .position(|&b| b == b'"' || b == b'\\')?;
        if rest[next] == b'"' {
            return Some(next);
        }
        // An escape: the next byte is escaped (a `\uXXXX` has no quote or backslash in its hex).
        at = next + 2;
    }
}

/// Which re-serialization of a JSON body makes it verify, if one does: written compact with every
/// object's keys sorted (the way Clerk's sender writes it) or in the order received, each with
/// Clerk's escapes (Go's: `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes) and without them (as
/// most other serializers write). What a parse-and-serialize on the way changes, whitespace,
/// key order and escapes, is undone when the signed body was written one of these ways; numbers
/// are written as Go and JavaScript write them. Up to four HMACs per secret: for tools, never on
/// the request path.
fn json_trial(verifier: &Verifier, scheme: &SchemeHeaders<'_>, body: &[u8]) -> Option<BodyVariant> {
    let json: Json = serde_json::from_slice(body).ok()?;
    if !matches!(json, Json::Object(_)) {
        return None;
    }
    let mut tried: Vec<Vec<u8>> = Vec::new();
    for (sorted, variant) in [
        (true, BodyVariant::SortedCompactJson),
        (false, BodyVariant::CompactJson),
    ] {
        for go_escapes in [true, false] {
            let mut written = Vec::with_capacity(body.len());
            json.write(&mut written, sorted, go_escapes);
            if written == body || tried.contains(&written) {
                continue;
            }
            if verifier.signer(scheme, &written).is_some() {
                return Some(variant);
            }
            tried.push(written);
        }
    }
    None
}

/// A JSON value with each object's members in the order they came, to write it again the way
/// another serializer would.
enum Json {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Compact, with the keys `sorted` (by their bytes, as Go sorts a map's) or as received, and
    /// `go_escapes` or only the escapes JSON requires.
    fn write(&self, out: &mut Vec<u8>, sorted: bool, go_escapes: bool) {
        use std::io::Write as _;
        // Writing to a `Vec` cannot fail.
        match self {
            Self::Null => out.extend_from_slice(b"null"),
            Self::Bool(value) => out.extend_from_slice(if *value { b"true" } else { b"false" }),
            Self::Unsigned(value) => {
                let _ = write!(out, "{value}");
            }
            Self::Signed(value) => {
                let _ = write!(out, "{value}");
            }
            Self::Float(value) => write_float(out, *value),
            Self::String(text) => write_string(out, text, go_escapes),
            Self::Array(items) => {
                out.push(b'[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    item.write(out, sorted, go_escapes);
                }
                out.push(b']');
            }
            Self::Object(members) => {
                let mut members: Vec<&(String, Json)> = members.iter().collect();
                if sorted {
                    members.sort_by(|a, b| a.0.cmp(&b.0));
                }
                out.push(b'{');
                for (index, (key, value)) in members.into_iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    write_string(out, key, go_escapes);
                    out.push(b':');
                    value.write(out, sorted, go_escapes);
                }
                out.push(b'}');
            }
        }
    }
}

/// A float as Go and JavaScript write it: the shortest digits that read back the same, plainly
/// from 1e-6 to 1e21 (`1`, not `1.0`), with a signed exponent outside (`1e+21`, `1e-7`).
fn write_float(out: &mut Vec<u8>, value: f64) {
    use std::io::Write as _;
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-6..1e21).contains(&magnitude) {
        let _ = write!(out, "{value}");
        return;
    }
    let text = format!("{value:e}");
    match text.split_once('e') {
        Some((digits, exponent)) if !exponent.starts_with('-') => {
            let _ = write!(out, "{digits}e+{exponent}");
        }
        _ => out.extend_from_slice(text.as_bytes()),
    }
}

/// A JSON string: the escapes JSON requires, in their short forms where there is one (as Go,
/// JavaScript and serde_json write them), and with `go_escapes` Go's escapes of `<`, `>`, `&`,
/// U+2028 and U+2029 as well.
fn write_string(out: &mut Vec<u8>, text: &str, go_escapes: bool) {
    use std::io::Write as _;
    out.push(b'"');
    for ch in text.chars() {
        let short: &[u8] = match ch {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            '\n' => b"\\n",
            '\r' => b"\\r",
            '\t' => b"\\t",
            '\u{8}' => b"\\b",
            '\u{c}' => b"\\f",
            '\0'..='\u{1f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(ch));
                continue;
            }
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if go_escapes => {
                let _ = write!(out, "\\u{:04x}", u32::from(ch));
                continue;
            }
            _ => {
                let mut utf8 = [0; 4];
                out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
                continue;
            }
        };
        out.extend_from_slice(short);
    }
    out.push(b'"');
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Json, E> {
        Ok(Json::Bool(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Json, E> {
        Ok(Json::Unsigned(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Json, E> {
        Ok(Json::Signed(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Json, E> {
        Ok(Json::Float(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Json, E> {
        Ok(Json::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Json, E> {
        Ok(Json::String(value))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, Json>()? {
            members.push(member);
        }
        Ok(Json::Object(members))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn replace(body: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 16);
    let mut rest = body;
    while !rest.is_empty() {
        if rest.starts_with(from) {
            out.extend_from_slice(to);
            rest = &rest[from.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

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
    fn json_is_written_again_as_go_and_javascript_write_it() {
        let write = |text: &str, sorted, go_escapes| {
            let json: Json = serde_json::from_str(text).unwrap();
            let mut out = Vec::new();
            json.write(&mut out, sorted, go_escapes);
            String::from_utf8(out).unwrap()
        };
        let text = "{ \"b\": [1.0, -2, 0.5, 1e21, 1e-7, 18446744073709551615, true, null],\n \"a\": \"<é>\\n\\u0001\\u2028\\/\" }";
        assert_eq!(
            write(text, true, true),
            r#"{"a":"\u003cé\u003e\n\u0001\u2028/","b":[1,-2,0.5,1e+21,1e-7,18446744073709551615,true,null]}"#
        );
        assert_eq!(
            write(text, false, false),
            "{\"b\":[1,-2,0.5,1e+21,1e-7,18446744073709551615,true,null],\"a\":\"<é>\\n\\u0001\u{2028}/\"}"
        );
    }

    #[test]
    fn keys_out_of_order_are_found_in_any_object_but_not_across_objects() {
        assert!(!keys_out_of_order(
            br#"{"a":1,"b":{"z":1,"y":[]}}"#[..7].as_ref()
        ));
        assert!(keys_out_of_order(br#"{"a":1,"b":{"z":1,"y":[]}}"#));
        assert!(keys_out_of_order(br#"{"b":1,"a":2}"#));
        assert!(keys_out_of_order(br#"[{"a":1},{"c":{"b":2,"a":1}}]"#));
        // Each object and each element has its own order.
        assert!(!keys_out_of_order(
            br#"{"a":[{"z":1},{"y":2}],"b":{"y":1,"z":{"a":"}]{,\"z\":"}}}"#
        ));
        // A prefix comes first ("id" < "idx"); a key with an escape is not compared.
        assert!(!keys_out_of_order(br#"{"id":1,"idx":2,"\u0061":3,"b":4}"#));
        assert!(!keys_out_of_order(b"not json"));
        // Only the first keys are compared.
        let late = format!(
            r#"{{{},"b":1,"a":2}}"#,
            (0..SCANNED_KEYS)
                .map(|n| format!(r#""k{n:04}":0"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(!keys_out_of_order(late.as_bytes()));
    }

    #[test]
    fn separators_and_escapes_inside_strings_are_no_clue() {
        // Clerk's own compact output: ", " and ": " inside values, Go's HTML escapes, a
        // control character escape, and U+2028 which Go escapes.
        let body = br#"{"data":{"bio":"a, b: c\n\"q\": \"r\", s","html":"\u003cb\u003e \u0026","ls":"\u2028","nul":"\u0000"}}"#;
        assert_eq!(json_style_clues(body), []);
        assert_eq!(json_style_clues(b"not json, at: all\n"), []);
        assert_eq!(
            json_style_clues(br#"{"a":"\u00e9"}"#),
            [Finding::EscapedNonAscii]
        );
        assert_eq!(json_style_clues(br#"{"a":"\u+0e9"}"#), []);
        assert_eq!(json_style_clues(br#"{"a":"\u00"}"#), []);
        assert_eq!(json_style_clues(br#"{"a":"\\u00e9"}"#), []);
        assert_eq!(
            json_style_clues(br#"{"a":"\\\u00e9"}"#),
            [Finding::EscapedNonAscii]
        );
        // Only the start of a body is searched: the first separators, the first 64 KiB.
        let late = format!(r#"{{"a":"{}","b":"\u00e9"}}"#, "x".repeat(SCANNED_BODY_LEN));
        assert_eq!(json_style_clues(late.as_bytes()), []);
        let late = format!(r#"{{{}"z": 1}}"#, r#""a":1,"#.repeat(SCANNED_SEPARATORS));
        assert_eq!(json_style_clues(late.as_bytes()), []);
        let early = format!(r#"{{"a": 1,"b":"{}"}}"#, "x".repeat(SCANNED_BODY_LEN));
        assert_eq!(
            json_style_clues(early.as_bytes()),
            [Finding::SpacedSeparators]
        );
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

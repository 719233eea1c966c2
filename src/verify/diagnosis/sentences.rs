//! The diagnosis in words: the sentences a person reads, in order, and `Display`.

use std::fmt;

use super::clues::UNSORTED;
use super::{Diagnosis, Finding, SignatureCheck, VerifyError};

impl Diagnosis {
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

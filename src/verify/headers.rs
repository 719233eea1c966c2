//! Reading the `svix-*` / `webhook-*` headers and the signature list.

use std::cell::Cell;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue};
use subtle::ConstantTimeEq;

use super::VerifyError;

/// The length of an HMAC-SHA256 tag.
pub(crate) const TAG_LEN: usize = 32;

/// The longest `svix-id` accepted. Svix ids are about 30 characters; the id is the de-duplication
/// key, so a longer one would only cost store space and log volume.
pub(crate) const MAX_ID_LEN: usize = 256;
/// The longest signature header accepted, and the most entries in it. Svix sends one entry per
/// active secret (two during a rotation); the caps keep a flooded header as cheap as a clean one.
pub(crate) const MAX_SIGNATURE_HEADER_LEN: usize = 4096;
pub(crate) const MAX_SIGNATURES: usize = 16;
// `Candidates` keeps one bit per entry in a `u32`.
const _: () = assert!(MAX_SIGNATURES < 32);

/// One header of the scheme, under its Svix name and its unbranded Standard Webhooks twin.
///
/// The names are prebuilt `HeaderName`s: looking a `&str` up in a `HeaderMap` parses and validates
/// it on every call, which is a measurable part of verifying a small body.
struct SchemeHeader {
    svix: HeaderName,
    unbranded: HeaderName,
    /// The name used in errors.
    name: &'static str,
    /// The twin's name, to say which header was read.
    unbranded_name: &'static str,
}

const ID: SchemeHeader = SchemeHeader {
    svix: HeaderName::from_static("svix-id"),
    unbranded: HeaderName::from_static("webhook-id"),
    name: "svix-id",
    unbranded_name: "webhook-id",
};
const TIMESTAMP: SchemeHeader = SchemeHeader {
    svix: HeaderName::from_static("svix-timestamp"),
    unbranded: HeaderName::from_static("webhook-timestamp"),
    name: "svix-timestamp",
    unbranded_name: "webhook-timestamp",
};
const SIGNATURE: SchemeHeader = SchemeHeader {
    svix: HeaderName::from_static("svix-signature"),
    unbranded: HeaderName::from_static("webhook-signature"),
    name: "svix-signature",
    unbranded_name: "webhook-signature",
};

/// The three scheme headers of a delivery, read but not yet checked against the clock or a secret.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SchemeHeaders<'a> {
    pub(crate) id: &'a str,
    /// The timestamp exactly as sent: it is what was signed.
    pub(crate) timestamp_text: &'a str,
    pub(crate) timestamp: i64,
    pub(crate) signatures: &'a str,
    /// The header the signatures were read from (`svix-signature` or `webhook-signature`).
    pub(crate) signature_header: &'static str,
}

impl<'a> SchemeHeaders<'a> {
    /// Reads the headers; `HeaderMap` names are already case-insensitive. The id and signature
    /// sizes are checked before anything reads their bytes, so an oversized one costs nothing.
    pub(crate) fn read(headers: &'a HeaderMap) -> Result<Self, VerifyError> {
        Ok(Self::read_values(headers)?.0)
    }

    /// [`read`](Self::read), and the values it read: id, timestamp, signatures.
    fn read_values(headers: &'a HeaderMap) -> Result<(Self, [&'a HeaderValue; 3]), VerifyError> {
        let (id_value, id, _) = read_header(headers, &ID, MAX_ID_LEN)?;
        let (timestamp_value, timestamp_text, _) = read_header(headers, &TIMESTAMP, usize::MAX)?;
        let (signatures_value, signatures, signature_header) =
            read_header(headers, &SIGNATURE, MAX_SIGNATURE_HEADER_LEN)?;
        if id.is_empty() {
            return Err(VerifyError::InvalidHeader { name: ID.name });
        }
        if signatures
            .split_ascii_whitespace()
            .nth(MAX_SIGNATURES)
            .is_some()
        {
            return Err(VerifyError::InvalidHeader {
                name: SIGNATURE.name,
            });
        }
        let scheme = Self {
            id,
            timestamp_text,
            timestamp: parse_timestamp(timestamp_text)?,
            signatures,
            signature_header,
        };
        Ok((scheme, [id_value, timestamp_value, signatures_value]))
    }

    /// How many well-formed `v1` entries the signature header holds.
    pub(crate) fn v1_signature_count(&self) -> usize {
        v1_signatures(self.signatures).count()
    }
}

/// The header itself, under its Svix name or else its `webhook-*` twin (each header on its own, as
/// the `svix` crate does), and the name it was found under.
fn find_header<'a>(
    headers: &'a HeaderMap,
    header: &SchemeHeader,
) -> Option<(&'a HeaderValue, &'static str)> {
    match headers.get(&header.svix) {
        Some(value) => Some((value, header.name)),
        None => headers
            .get(&header.unbranded)
            .map(|value| (value, header.unbranded_name)),
    }
}

fn read_header<'a>(
    headers: &'a HeaderMap,
    header: &SchemeHeader,
    max_len: usize,
) -> Result<(&'a HeaderValue, &'a str, &'static str), VerifyError> {
    let (value, found_as) =
        find_header(headers, header).ok_or(VerifyError::MissingHeader { name: header.name })?;
    if value.len() > max_len {
        return Err(VerifyError::InvalidHeader { name: header.name });
    }
    Ok((value, header_text(value, header)?, found_as))
}

fn header_text<'a>(value: &'a HeaderValue, header: &SchemeHeader) -> Result<&'a str, VerifyError> {
    value
        .to_str()
        .map_err(|_| VerifyError::InvalidHeader { name: header.name })
}

/// The scheme headers of a request whose head passed the checks, kept while its body arrives so
/// that verifying it does not look them up, measure them or parse the timestamp again. The values
/// are shared with the request's `HeaderMap` (a reference count), not copied.
#[derive(Debug, Clone)]
pub(crate) struct CheckedHead {
    id: HeaderValue,
    timestamp_text: HeaderValue,
    timestamp: i64,
    signatures: HeaderValue,
    signature_header: &'static str,
    /// Once the body verified: how many `v1` signatures none of the verifier's secrets made (at
    /// most [`MAX_SIGNATURES`]). Noted by the verification, read by the layer when it accepts the
    /// delivery, so that the verification's answer stays a plain `Delivery`.
    unknown_signatures: Cell<u8>,
}

impl CheckedHead {
    /// Reads the headers as [`SchemeHeaders::read`] does, keeping the values.
    pub(crate) fn read(headers: &HeaderMap) -> Result<(Self, SchemeHeaders<'_>), VerifyError> {
        let (scheme, [id, timestamp_text, signatures]) = SchemeHeaders::read_values(headers)?;
        let head = Self {
            id: id.clone(),
            timestamp_text: timestamp_text.clone(),
            timestamp: scheme.timestamp,
            signatures: signatures.clone(),
            signature_header: scheme.signature_header,
            unknown_signatures: Cell::new(0),
        };
        Ok((head, scheme))
    }

    /// Notes, once the body verified, how many of its `v1` signatures none of the verifier's
    /// secrets made.
    pub(crate) fn note_unknown_signatures(&self, count: usize) {
        self.unknown_signatures
            .set(u8::try_from(count).unwrap_or(u8::MAX));
    }

    /// What [`note_unknown_signatures`](Self::note_unknown_signatures) noted: 0 until then.
    pub(crate) fn unknown_signatures(&self) -> usize {
        usize::from(self.unknown_signatures.get())
    }

    /// The headers as [`SchemeHeaders`], from the kept values (checked already: the text
    /// conversion cannot fail, and would be an invalid header if it did).
    pub(crate) fn scheme(&self) -> Result<SchemeHeaders<'_>, VerifyError> {
        Ok(SchemeHeaders {
            id: header_text(&self.id, &ID)?,
            timestamp_text: header_text(&self.timestamp_text, &TIMESTAMP)?,
            timestamp: self.timestamp,
            signatures: header_text(&self.signatures, &SIGNATURE)?,
            signature_header: self.signature_header,
        })
    }
}

/// The delivery id header (`svix-id`, or else `webhook-id`) as sent, unchecked: for logs.
pub(crate) fn delivery_id(headers: &HeaderMap) -> Option<&HeaderValue> {
    find_header(headers, &ID).map(|(value, _)| value)
}

/// Only plain ASCII digits: `i64::from_str` would also take a sign, which no sender writes.
fn parse_timestamp(text: &str) -> Result<i64, VerifyError> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(VerifyError::InvalidTimestamp);
    }
    text.parse().map_err(|_| VerifyError::InvalidTimestamp)
}

/// Whether a `v1` entry of `header` is `expected`, and how many are not: every entry is compared,
/// in constant time.
pub(crate) fn compare_signatures(header: &str, expected: &[u8; TAG_LEN]) -> (bool, usize) {
    v1_signatures(header).fold((false, 0), |(found, others), candidate| {
        let same = bool::from(candidate.ct_eq(expected));
        (found | same, others + usize::from(!same))
    })
}

/// The well-formed `v1` signatures of a header that [`SchemeHeaders::read`] accepted, decoded
/// once per delivery whatever the number of secrets, and kept on the stack.
pub(crate) struct Candidates {
    tags: [[u8; TAG_LEN]; MAX_SIGNATURES],
    len: usize,
}

impl Candidates {
    pub(crate) fn decode(header: &str) -> Self {
        let mut candidates = Self {
            tags: [[0; TAG_LEN]; MAX_SIGNATURES],
            len: 0,
        };
        for (slot, tag) in candidates.tags.iter_mut().zip(v1_signatures(header)) {
            *slot = tag;
            candidates.len += 1;
        }
        candidates
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Which candidates are `expected`, one bit each (bit `i` for the `i`th), compared with every
    /// candidate in constant time, whichever matches.
    pub(crate) fn matching(&self, expected: &[u8; TAG_LEN]) -> u32 {
        self.tags[..self.len]
            .iter()
            .enumerate()
            .fold(0, |found, (index, candidate)| {
                found | (u32::from(candidate.ct_eq(expected).unwrap_u8()) << index)
            })
    }

    /// Every candidate's bit, as [`matching`](Self::matching) sets them.
    pub(crate) fn all(&self) -> u32 {
        // At most `MAX_SIGNATURES` (16) candidates: the shift cannot overflow.
        (1u32 << self.len) - 1
    }

    /// How many candidates have no bit in `matched`.
    pub(crate) fn unmatched(&self, matched: u32) -> usize {
        (self.all() & !matched).count_ones() as usize
    }
}

/// The decoded `v1` signatures of a signature header, skipping every entry that is not
/// `v1,<base64 of exactly 32 bytes>`: other versions, malformed, empty and truncated entries can never
/// match, so they are dropped here rather than compared.
fn v1_signatures(header: &str) -> impl Iterator<Item = [u8; TAG_LEN]> + '_ {
    header.split_ascii_whitespace().filter_map(|entry| {
        let (version, encoded) = entry.split_once(',')?;
        if version != "v1" {
            return None;
        }
        // base64 of 32 bytes is 44 characters; anything longer cannot fit and is refused unread.
        let mut tag = [0u8; TAG_LEN];
        match STANDARD.decode_slice(encoded, &mut tag) {
            Ok(TAG_LEN) => Some(tag),
            _ => None,
        }
    })
}

/// The `content-length` the request announced, when it is a number.
pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn svix_names_win_over_unbranded_twins() {
        let map = headers(&[
            ("svix-id", "msg_svix"),
            ("webhook-id", "msg_unbranded"),
            ("svix-timestamp", "10"),
            ("webhook-signature", "v1,x"),
        ]);
        let read = SchemeHeaders::read(&map).unwrap();
        assert_eq!(read.id, "msg_svix");
        assert_eq!(read.timestamp, 10);
        assert_eq!(read.signatures, "v1,x");
    }

    #[test]
    fn missing_headers_are_named_by_their_svix_name() {
        let map = headers(&[("webhook-id", "msg"), ("webhook-signature", "v1,x")]);
        assert_eq!(
            SchemeHeaders::read(&map).unwrap_err(),
            VerifyError::MissingHeader {
                name: "svix-timestamp"
            }
        );
    }

    #[test]
    fn non_ascii_and_empty_ids_are_invalid_headers() {
        let mut map = headers(&[("svix-timestamp", "1"), ("svix-signature", "v1,x")]);
        map.insert("svix-id", HeaderValue::from_bytes(b"msg_\xff").unwrap());
        assert_eq!(
            SchemeHeaders::read(&map).unwrap_err(),
            VerifyError::InvalidHeader { name: "svix-id" }
        );
        map.insert("svix-id", HeaderValue::from_static(""));
        assert_eq!(
            SchemeHeaders::read(&map).unwrap_err(),
            VerifyError::InvalidHeader { name: "svix-id" }
        );
    }

    #[test]
    fn timestamps_are_plain_non_negative_i64_decimals() {
        assert_eq!(parse_timestamp("0"), Ok(0));
        assert_eq!(parse_timestamp("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_timestamp(&i64::MAX.to_string()), Ok(i64::MAX));
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1.5",
            "1e9",
            "abc",
            "9223372036854775808",
            "99999999999999999999",
        ] {
            assert_eq!(
                parse_timestamp(bad),
                Err(VerifyError::InvalidTimestamp),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_timestamp(&i64::MIN.to_string()),
            Err(VerifyError::InvalidTimestamp)
        );
    }

    #[test]
    fn oversized_ids_and_flooded_signature_headers_are_invalid_headers() {
        let entry = format!("v1,{}", STANDARD.encode([7u8; TAG_LEN]));
        let at_cap = vec![entry.as_str(); MAX_SIGNATURES].join(" ");
        let over_cap = vec![entry.as_str(); MAX_SIGNATURES + 1].join(" ");
        let long_id = "m".repeat(MAX_ID_LEN + 1);
        let map = headers(&[
            ("svix-id", "msg"),
            ("svix-timestamp", "1"),
            ("svix-signature", &at_cap),
        ]);
        assert_eq!(SchemeHeaders::read(&map).unwrap().signatures, at_cap);
        for (name, value) in [
            ("svix-signature", over_cap.as_str()),
            ("svix-signature", &"v".repeat(MAX_SIGNATURE_HEADER_LEN + 1)),
            ("svix-id", &long_id),
        ] {
            let mut map = map.clone();
            map.insert(name, HeaderValue::from_str(value).unwrap());
            assert_eq!(
                SchemeHeaders::read(&map).unwrap_err(),
                VerifyError::InvalidHeader { name },
                "{name} of {} bytes",
                value.len()
            );
        }
    }

    #[test]
    fn only_well_formed_v1_entries_are_kept() {
        let tag = STANDARD.encode([7u8; TAG_LEN]);
        let truncated = STANDARD.encode([7u8; TAG_LEN - 1]);
        let long = STANDARD.encode([7u8; TAG_LEN + 1]);
        let header = format!(
            "v2,{tag} v1,{truncated} v1, v1 ,{tag} v1,{long} garbage v1,{tag}  v1,not-base64 v1,{tag}"
        );
        let found: Vec<[u8; TAG_LEN]> = v1_signatures(&header).collect();
        assert_eq!(found, vec![[7u8; TAG_LEN]; 2]);
        let candidates = Candidates::decode(&header);
        assert_eq!(candidates.matching(&[7; TAG_LEN]), 0b11);
        assert_eq!(candidates.matching(&[1; TAG_LEN]), 0);
        assert_eq!(candidates.unmatched(0b01), 1);
        assert!(Candidates::decode("v2,abc v1,short").is_empty());
        assert_eq!(compare_signatures(&header, &[7; TAG_LEN]), (true, 0));
        assert_eq!(compare_signatures(&header, &[1; TAG_LEN]), (false, 2));
    }
}

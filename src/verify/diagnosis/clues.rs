//! The clues in the bytes: what a body or a timestamp shows about how it changed on its way (a
//! re-serialization, escapes, a unit), and the trials that sign a changed body again to confirm it.

use std::fmt;

use super::super::headers::SchemeHeaders;
use super::super::Verifier;
use super::{BodyVariant, Finding};

/// A timestamp in a finer unit than seconds, told by its number of digits (a time in seconds has
/// 10 digits from 2001 to 2286).
pub(super) fn timestamp_unit(text: &str) -> Option<Finding> {
    match text.len() {
        13 => Some(Finding::TimestampInMilliseconds),
        16 => Some(Finding::TimestampInMicroseconds),
        19 => Some(Finding::TimestampInNanoseconds),
        _ => None,
    }
}

/// The words for [`Finding::UnsortedKeys`] among the other signs of a re-serialization.
pub(super) const UNSORTED: &str = "object keys out of sorted order";

/// How much of a body is searched for `\u` escapes: Clerk's bodies are a few KiB, and a forged
/// body of any size then costs one bounded scan on top of its HMAC.
const SCANNED_BODY_LEN: usize = 64 * 1024;
/// How many separators (`,` and `:` between tokens) are looked at: a serializer that spaces or
/// indents does it from the first one on, so the walk through the tokens stops early.
const SCANNED_SEPARATORS: usize = 16;

/// Signs that a JSON body was written again by another serializer than Clerk's, which writes
/// compact UTF-8 JSON; nothing for a body that is not a JSON object. Bounded: the walk through the
/// tokens stops after the first separators, the search for escapes after the first 64 KiB.
pub(super) fn json_style_clues(body: &[u8]) -> Vec<Finding> {
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
pub(super) fn json_trial(
    verifier: &Verifier,
    scheme: &SchemeHeaders<'_>,
    body: &[u8],
) -> Option<BodyVariant> {
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

pub(super) fn replace(body: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
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

impl BodyVariant {
    pub(super) fn apply(self, body: &[u8]) -> Option<Vec<u8>> {
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
    pub(super) fn is_json(self) -> bool {
        matches!(self, Self::SortedCompactJson | Self::CompactJson)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

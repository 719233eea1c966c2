//! The JSON reader of the fast path of `parse_event`: a serde `Deserializer` over the body.
//!
//! serde_json reads a string a few bytes at a time between escapes, and copies each piece into a
//! scratch buffer before the model copies the whole string again. An `email.created` is one 8 KB
//! HTML string with about 300 escapes, and that reading was more than half of its parse. Here a
//! string is scanned 16 bytes at a time and, when it has escapes, decoded once into the `String`
//! the model keeps.
//!
//! The reader accepts less than serde_json, never more, and makes the same visitor calls on what
//! it accepts, with one difference: an escaped string is handed over owned (`visit_string`), where
//! serde_json lends its scratch buffer (`visit_str`). serde forwards `visit_string` to `visit_str`
//! unless a visitor overrides it to take the `String` as it is, which spares the model a copy.
//! Whatever the reader is unsure of fails: a nesting deeper than [`MAX_DEPTH`], a surrogate escape
//! without its pair, a number as a map key, a 128-bit integer, bytes, serde_json's `RawValue`. Its
//! errors carry no position and are never shown: `parse_event` then falls back to the two-pass
//! serde_json reading, which is the reference and describes every failure. A number that is not a
//! plain integer (a fraction, an exponent, more than 18 digits, `-0`), and any number read as an
//! `f32`, is handed to serde_json itself, so floats round exactly as there.

use serde::de::{
    DeserializeSeed, EnumAccess, Error as _, IgnoredAny, MapAccess, SeqAccess, VariantAccess,
    Visitor,
};
use serde::{forward_to_deserialize_any, Deserialize, Deserializer};
use serde_json::Error;

/// The deepest nesting read; serde_json's own limit is 128, so all this reader accepts, serde_json
/// accepts too.
const MAX_DEPTH: usize = 100;

/// What serde_json names its `RawValue` when it asks a deserializer for one: it cannot be built
/// outside serde_json.
const RAW_VALUE: &str = "$serde_json::private::RawValue";

/// Reads one JSON value from a body; [`end`](Self::end) checks nothing but whitespace follows.
pub(crate) struct JsonReader<'de> {
    text: &'de str,
    at: usize,
    depth: usize,
}

/// `text` read into a `Value`, or `None` where the reader declines: for the differential tests and
/// the fuzz target.
#[cfg(any(test, fuzzing))]
pub(crate) fn read_value(text: &str) -> Option<serde_json::Value> {
    let mut reader = JsonReader::new(text);
    let value = serde_json::Value::deserialize(&mut reader).ok()?;
    reader.end().ok()?;
    Some(value)
}

/// A string's contents: borrowed from the body when it holds no escape.
enum Text<'de> {
    Borrowed(&'de str),
    Owned(String),
}

fn fail<T>(why: &'static str) -> Result<T, Error> {
    Err(Error::custom(why))
}

impl<'de> JsonReader<'de> {
    pub(crate) fn new(text: &'de str) -> Self {
        JsonReader {
            text,
            at: 0,
            depth: 0,
        }
    }

    /// Succeeds when only whitespace is left.
    pub(crate) fn end(&mut self) -> Result<(), Error> {
        match self.peek() {
            None => Ok(()),
            Some(_) => fail("trailing characters"),
        }
    }

    fn bytes(&self) -> &'de [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not JSON whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = bytes.get(self.at) {
            self.at += 1;
        }
        bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<(), Error> {
        if self.peek() != Some(byte) {
            return fail("unexpected character");
        }
        self.at += 1;
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        if !self.bytes()[self.at..].starts_with(word) {
            return fail("unknown literal");
        }
        self.at += word.len();
        Ok(())
    }

    /// Past an opening bracket or brace.
    fn enter(&mut self) -> Result<(), Error> {
        self.at += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return fail("nested too deeply");
        }
        Ok(())
    }

    /// Past the closing bracket or brace: the visitor must have read every element.
    fn leave(&mut self, close: u8) -> Result<(), Error> {
        self.expect(close)?;
        self.depth -= 1;
        Ok(())
    }

    /// The string whose opening quote is at the cursor.
    fn string(&mut self) -> Result<Text<'de>, Error> {
        let start = self.at + 1;
        let end = special_byte(self.bytes(), start).ok_or_else(unterminated)?;
        match self.bytes()[end] {
            b'"' => {
                self.at = end + 1;
                Ok(Text::Borrowed(&self.text[start..end]))
            }
            b'\\' => self.decode(start, end).map(Text::Owned),
            _ => fail("control character in a string"),
        }
    }

    /// The contents of the string from `start`, whose first escape is the backslash at `at`.
    ///
    /// The plain runs between escapes are copied a whole block of 16 bytes at a time into a
    /// buffer on the stack, and the copy cut back to the block's first special byte; the buffer
    /// is moved into the string when full. A fixed-size copy is a couple of instructions, where
    /// copying each run to its exact length was a call to `memcpy`.
    fn decode(&mut self, start: usize, mut at: usize) -> Result<String, Error> {
        /// Room for a 16-byte block and, before it, an escape of up to 4 bytes.
        const ROOM: usize = 20;
        let bytes = self.bytes();
        let mut decoded = Vec::with_capacity(at - start + 64);
        decoded.extend_from_slice(&bytes[start..at]);
        let mut buffer = [0u8; 512];
        let mut filled = 0;
        loop {
            if filled > buffer.len() - ROOM {
                decoded.extend_from_slice(&buffer[..filled]);
                filled = 0;
            }
            // `at` is a backslash.
            match bytes.get(at + 1).copied().and_then(simple_escape) {
                Some(byte) => {
                    buffer[filled] = byte;
                    filled += 1;
                    at += 2;
                }
                None => {
                    self.at = at + 1;
                    let escaped = self.escape()?;
                    filled += escaped.encode_utf8(&mut buffer[filled..]).len();
                    at = self.at;
                }
            }
            loop {
                if filled > buffer.len() - ROOM {
                    decoded.extend_from_slice(&buffer[..filled]);
                    filled = 0;
                }
                let Some(Ok(block)) = bytes.get(at..at + 16).map(<&[u8; 16]>::try_from) else {
                    let run = special_byte(bytes, at).ok_or_else(unterminated)? - at;
                    decoded.extend_from_slice(&buffer[..filled]);
                    filled = 0;
                    decoded.extend_from_slice(&bytes[at..at + run]);
                    at += run;
                    break;
                };
                buffer[filled..filled + 16].copy_from_slice(block);
                if let Some(offset) = first_special(block) {
                    filled += offset;
                    at += offset;
                    break;
                }
                filled += 16;
                at += 16;
            }
            match bytes[at] {
                b'"' => {
                    self.at = at + 1;
                    decoded.extend_from_slice(&buffer[..filled]);
                    // Valid: the runs came from a `str`, cut only at ASCII bytes, and the escapes
                    // were encoded by `char`.
                    return String::from_utf8(decoded)
                        .map_err(|_| Error::custom("invalid UTF-8 in a string"));
                }
                b'\\' => {}
                _ => return fail("control character in a string"),
            }
        }
    }

    /// Past the string whose opening quote is at the cursor, checking it as [`string`] would.
    ///
    /// [`string`]: Self::string
    fn skip_string(&mut self) -> Result<(), Error> {
        self.at += 1;
        loop {
            let at = special_byte(self.bytes(), self.at).ok_or_else(unterminated)?;
            self.at = at + 1;
            match self.bytes()[at] {
                b'"' => return Ok(()),
                b'\\' => {
                    self.escape()?;
                }
                _ => return fail("control character in a string"),
            }
        }
    }

    /// The character of the escape after the backslash at the cursor.
    fn escape(&mut self) -> Result<char, Error> {
        let Some(&kind) = self.bytes().get(self.at) else {
            return Err(unterminated());
        };
        self.at += 1;
        match simple_escape(kind) {
            Some(byte) => Ok(char::from(byte)),
            None if kind == b'u' => self.unicode_escape(),
            None => fail("invalid escape"),
        }
    }

    /// The character of a `\u` escape (`\u` already read), with the second half of a surrogate
    /// pair; a lone surrogate fails, as in serde_json.
    fn unicode_escape(&mut self) -> Result<char, Error> {
        let code = match self.hex4()? {
            high @ 0xD800..=0xDBFF => {
                if !self.bytes()[self.at..].starts_with(b"\\u") {
                    return fail("lone surrogate");
                }
                self.at += 2;
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return fail("lone surrogate");
                }
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return fail("lone surrogate"),
            code => code,
        };
        char::from_u32(code).ok_or_else(|| Error::custom("invalid escape"))
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let Some(digits) = self.bytes().get(self.at..self.at + 4) else {
            return Err(unterminated());
        };
        let mut code = 0;
        for &digit in digits {
            let Some(value) = char::from(digit).to_digit(16) else {
                return fail("invalid escape");
            };
            code = code * 16 + value;
        }
        self.at += 4;
        Ok(code)
    }

    /// The value whose first byte, `first`, was peeked at the cursor.
    fn value<V: Visitor<'de>>(&mut self, first: Option<u8>, visitor: V) -> Result<V::Value, Error> {
        match first {
            Some(b'"') => match self.string()? {
                Text::Borrowed(text) => visitor.visit_borrowed_str(text),
                Text::Owned(text) => visitor.visit_string(text),
            },
            Some(b'{') => {
                self.enter()?;
                let value = visitor.visit_map(Items {
                    reader: self,
                    first: true,
                })?;
                self.leave(b'}')?;
                Ok(value)
            }
            Some(b'[') => {
                self.enter()?;
                let value = visitor.visit_seq(Items {
                    reader: self,
                    first: true,
                })?;
                self.leave(b']')?;
                Ok(value)
            }
            Some(b't') => {
                self.literal(b"true")?;
                visitor.visit_bool(true)
            }
            Some(b'f') => {
                self.literal(b"false")?;
                visitor.visit_bool(false)
            }
            Some(b'n') => {
                self.literal(b"null")?;
                visitor.visit_unit()
            }
            Some(b'-' | b'0'..=b'9') => self.number(visitor),
            _ => fail("expected a value"),
        }
    }

    /// The number at the cursor: a plain integer here, anything else through serde_json.
    fn number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        let bytes = self.bytes();
        let start = self.at;
        let negative = bytes[start] == b'-';
        let digits_from = start + usize::from(negative);
        let mut end = digits_from;
        let mut value: u64 = 0;
        while let Some(&digit @ b'0'..=b'9') = bytes.get(end) {
            value = value.wrapping_mul(10).wrapping_add(u64::from(digit - b'0'));
            end += 1;
        }
        let digits = end - digits_from;
        // At most 18 digits always fits an i64; a leading zero, a fraction or an exponent is not
        // plain, and serde_json reads `-0` as a float.
        let plain = (1..=18).contains(&digits)
            && (digits == 1 || bytes[digits_from] != b'0')
            && !matches!(bytes.get(end), Some(b'.' | b'e' | b'E'))
            && !(negative && value == 0);
        if plain {
            self.at = end;
            return if negative {
                visitor.visit_i64(-(value as i64))
            } else {
                visitor.visit_u64(value)
            };
        }
        self.at = start;
        let mut number = serde_json::Deserializer::from_str(self.number_token());
        let value = number.deserialize_any(visitor)?;
        number.end()?;
        Ok(value)
    }

    /// The text of the number at the cursor, for serde_json to read: whatever bytes a number may
    /// hold, so that a malformed one fails there.
    fn number_token(&mut self) -> &'de str {
        let start = self.at;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.bytes().get(self.at) {
            self.at += 1;
        }
        &self.text[start..self.at]
    }
}

fn unterminated() -> Error {
    Error::custom("unterminated string")
}

/// A byte that ends the plain run of a string: a quote, a backslash or a control character.
/// Written without short-circuits, so that a loop over it compiles to vector instructions.
fn is_special(byte: u8) -> bool {
    (byte == b'"') | (byte == b'\\') | (byte < 0x20)
}

/// The byte a one-letter escape stands for (`n` for a line feed...); `None` for `u` and for
/// what is not an escape.
fn simple_escape(kind: u8) -> Option<u8> {
    Some(match kind {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        _ => return None,
    })
}

/// The index of the first special byte at or after `at`: string contents are most of a body, and
/// are tested 16 bytes at a time. (The type hint of `single_pass.rs` scans strings with it too.)
pub(crate) fn special_byte(bytes: &[u8], mut at: usize) -> Option<usize> {
    while let Some(Ok(block)) = bytes.get(at..at + 16).map(<&[u8; 16]>::try_from) {
        if let Some(offset) = first_special(block) {
            return Some(at + offset);
        }
        at += 16;
    }
    let offset = bytes.get(at..)?.iter().position(|&byte| is_special(byte))?;
    Some(at + offset)
}

/// The offset of the block's first special byte. Whether there is one is tested with no branch
/// (a few vector instructions on x86_64 and aarch64, plain code elsewhere); where, 8 bytes at a
/// time.
#[inline(always)]
fn first_special(block: &[u8; 16]) -> Option<usize> {
    let mut any = false;
    for &byte in block {
        any |= is_special(byte);
    }
    if !any {
        return None;
    }
    let (low, high) = block.split_at(8);
    let [low, high] =
        [low, high].map(|half| u64::from_le_bytes(<[u8; 8]>::try_from(half).unwrap_or_default()));
    Some(match special_bytes(low) {
        0 => 8 + special_bytes(high).trailing_zeros() as usize / 8,
        mask => mask.trailing_zeros() as usize / 8,
    })
}

/// The high bit of each special byte of `word` (little-endian), and maybe of some bytes after
/// the first: the lowest bit set is exact, as a borrow only carries upwards.
#[inline(always)]
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    let zero_bytes = |word: u64| word.wrapping_sub(ONES) & !word;
    let quote = zero_bytes(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_bytes(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (quote | backslash | control) & HIGHS
}

/// Deserializer methods that read what `deserialize_any` reads, when the value starts with one of
/// the bytes given, and fail on anything else.
macro_rules! only_from {
    ($($method:ident: $first:pat,)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                match self.peek() {
                    first @ Some($first) => self.value(first, visitor),
                    _ => fail("not the kind of value asked for"),
                }
            }
        )*
    };
}

/// Deserializer methods that always fail: what serde_json reads its own way.
macro_rules! refuse {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
                fail("left to serde_json")
            }
        )*
    };
}

impl<'de> Deserializer<'de> for &mut JsonReader<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let first = self.peek();
        self.value(first, visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == RAW_VALUE {
            return fail("a raw value is serde_json's to read");
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b'"') => visitor.visit_enum(UnitVariant { reader: self }),
            Some(b'{') => {
                self.enter()?;
                let value = visitor.visit_enum(Variant { reader: self })?;
                self.leave(b'}')?;
                Ok(value)
            }
            _ => fail("expected an enum"),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek() == Some(b'"') {
            self.skip_string()?;
        } else {
            // A container's values come back here, one by one, through `IgnoredAny`.
            self.deserialize_any(IgnoredAny)?;
        }
        visitor.visit_unit()
    }

    /// serde_json reads an `f32` in single precision (with `float_roundtrip`), and refuses one out
    /// of its range: it reads this one too.
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            return fail("expected a number");
        }
        let mut number = serde_json::Deserializer::from_str(self.number_token());
        let value = number.deserialize_f32(visitor)?;
        number.end()?;
        Ok(value)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // serde_json reads a struct from an object or from an array of its fields.
        match self.peek() {
            first @ Some(b'{' | b'[') => self.value(first, visitor),
            _ => fail("expected a struct"),
        }
    }

    // serde_json checks what it was asked for against the value's first byte before it calls the
    // visitor; so does the reader, or a visitor that takes more than one kind of value (a field
    // identifier from a number, a map from `null`) would read what serde_json refuses.
    only_from! {
        deserialize_bool: b't' | b'f',
        deserialize_i8: b'-' | b'0'..=b'9',
        deserialize_i16: b'-' | b'0'..=b'9',
        deserialize_i32: b'-' | b'0'..=b'9',
        deserialize_i64: b'-' | b'0'..=b'9',
        deserialize_u8: b'-' | b'0'..=b'9',
        deserialize_u16: b'-' | b'0'..=b'9',
        deserialize_u32: b'-' | b'0'..=b'9',
        deserialize_u64: b'-' | b'0'..=b'9',
        deserialize_f64: b'-' | b'0'..=b'9',
        deserialize_char: b'"',
        deserialize_str: b'"',
        deserialize_string: b'"',
        deserialize_identifier: b'"',
        deserialize_unit: b'n',
        deserialize_seq: b'[',
        deserialize_map: b'{',
    }

    // serde_json reads 128-bit integers and bytes its own way: left to it.
    refuse! {
        deserialize_i128 deserialize_u128 deserialize_bytes deserialize_byte_buf
    }
}

/// The entries of an object or the elements of an array; the reader's cursor is just past the
/// opening brace or bracket, or past an item.
struct Items<'a, 'de> {
    reader: &'a mut JsonReader<'de>,
    first: bool,
}

impl Items<'_, '_> {
    /// Whether another item follows (its comma, if any, consumed); `close` ends the container.
    fn another(&mut self, close: u8) -> Result<bool, Error> {
        let reader = &mut *self.reader;
        match reader.peek() {
            Some(byte) if byte == close => return Ok(false),
            Some(b',') if !self.first => {
                reader.at += 1;
                // A trailing comma, refused before the item is asked for: an item type that
                // reads nothing would not notice it.
                if reader.peek() == Some(close) {
                    return fail("trailing comma");
                }
            }
            Some(_) if self.first => {}
            _ => return fail("expected a comma"),
        }
        self.first = false;
        Ok(true)
    }
}

impl<'de> MapAccess<'de> for Items<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if !self.another(b'}')? {
            return Ok(None);
        }
        if self.reader.peek() != Some(b'"') {
            return fail("expected a key");
        }
        let key = seed.deserialize(Key {
            reader: &mut *self.reader,
        })?;
        self.reader.expect(b':')?;
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(&mut *self.reader)
    }
}

impl<'de> SeqAccess<'de> for Items<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if !self.another(b']')? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

/// An object key (the cursor at its opening quote): always a string, as serde_json reads keys; a
/// key asked for as a number or a boolean (which serde_json parses out of the quotes) fails.
struct Key<'a, 'de> {
    reader: &'a mut JsonReader<'de>,
}

impl<'de> Deserializer<'de> for Key<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.reader.string()? {
            Text::Borrowed(text) => visitor.visit_borrowed_str(text),
            Text::Owned(text) => visitor.visit_string(text),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.reader.deserialize_enum(name, variants, visitor)
    }

    forward_to_deserialize_any! {
        char str string unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }

    // serde_json parses these out of the quotes; left to it.
    refuse! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_bytes deserialize_byte_buf
    }
}

/// An enum written as a string: a unit variant.
struct UnitVariant<'a, 'de> {
    reader: &'a mut JsonReader<'de>,
}

impl<'de> EnumAccess<'de> for UnitVariant<'_, 'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self), Error> {
        let variant = seed.deserialize(&mut *self.reader)?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for UnitVariant<'_, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, Error> {
        fail("a unit variant, where a newtype variant was expected")
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, Error> {
        fail("a unit variant, where a tuple variant was expected")
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        fail("a unit variant, where a struct variant was expected")
    }
}

/// An enum written as a one-key object: `{"Variant": value}`. The variant is read as a key, as
/// serde_json reads it.
struct Variant<'a, 'de> {
    reader: &'a mut JsonReader<'de>,
}

impl<'de> EnumAccess<'de> for Variant<'_, 'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self), Error> {
        if self.reader.peek() != Some(b'"') {
            return fail("expected a variant");
        }
        let variant = seed.deserialize(Key {
            reader: &mut *self.reader,
        })?;
        self.reader.expect(b':')?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for Variant<'_, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        <()>::deserialize(&mut *self.reader)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(&mut *self.reader)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.reader.deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.reader.deserialize_struct("", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};
    use std::fmt;

    use serde::de::DeserializeOwned;
    use serde_json::value::RawValue;
    use serde_json::Value;

    use super::*;

    /// Whether the reader reads `text`; when it does, serde_json must read the same `Value`,
    /// printed the same way (`-0.0`, a float's last digit).
    fn agrees(text: &str) -> bool {
        let reference = serde_json::from_str::<Value>(text);
        let Some(read) = read_value(text) else {
            return false;
        };
        let reference = reference
            .unwrap_or_else(|err| panic!("{text:?}: read, but serde_json refuses it: {err}"));
        assert_eq!(read, reference, "{text:?}");
        assert_eq!(read.to_string(), reference.to_string(), "{text:?}");
        true
    }

    /// `T` read by the reader, or `None` where it declines.
    fn typed<'de, T: Deserialize<'de>>(text: &'de str) -> Option<T> {
        let mut reader = JsonReader::new(text);
        let value = T::deserialize(&mut reader).ok()?;
        reader.end().ok()?;
        Some(value)
    }

    fn typed_agrees<T: DeserializeOwned + PartialEq + fmt::Debug>(text: &str) {
        let reference = serde_json::from_str::<T>(text);
        assert_eq!(typed::<T>(text), reference.ok(), "{text:?}");
    }

    #[test]
    fn reads_valid_json_as_serde_json_does() {
        for text in [
            "null",
            " true ",
            "false",
            "\"\"",
            "[]",
            "{}",
            "[1, [2, [3, {}]], {\"a\": [null, true]}]",
            "{\"a\":1,\"b\":{\"c\":[\"d\",{\"e\":null}]},\"a\":2}",
            " \t\r\n{ \"k\" : \"v\" , \"n\" : -12 } \n",
            "\"caf\u{e9} \u{1F600} \u{7f}\"",
            "{\"caf\\u00e9\":\"\\\"quoted\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}",
            "\"\\ud83d\\ude00 \\uD83D\\uDE00 \\u0000 \\uffff\"",
        ] {
            assert!(agrees(text), "{text:?}: declined");
        }
        let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/src/testing/samples");
        for entry in std::fs::read_dir(samples).unwrap() {
            let path = entry.unwrap().path();
            let sample = std::fs::read_to_string(&path).unwrap();
            assert!(agrees(&sample), "{}: declined", path.display());
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        for text in [
            "",
            " ",
            "nul",
            "nulll",
            "tru",
            "True",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{\"a\":1,}",
            "{,\"a\":1}",
            "{\"a\" 1}",
            "{\"a\":1 \"b\":2}",
            "{1:2}",
            "{\"a\"}",
            "[1]]",
            "[1] x",
            "\"unterminated",
            "\"a\\\"",
            "\"tab\tinside\"",
            "\"nul\u{0}inside\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12g4\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"\\ud800\\n\"",
            "01",
            "-",
            "-a",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "--1",
            "1.5.2",
            "1e400",
            "\u{feff}{}",
            "\u{c}{}",
        ] {
            assert!(serde_json::from_str::<Value>(text).is_err(), "{text:?}");
            assert!(!agrees(text), "{text:?}: read, but serde_json refuses it");
        }
    }

    /// Every escape, with plain runs of every length before and after it, so that it lands at
    /// every offset of a 16-byte block, across blocks, and in the last bytes of the body, where
    /// the block scan gives way to a byte scan; in a long string of many escapes, like an
    /// `email.created` body.
    #[test]
    fn escapes_read_at_every_offset_of_a_block_and_at_the_end() {
        let escapes = [
            "\\\"",
            "\\\\",
            "\\/",
            "\\b",
            "\\f",
            "\\n",
            "\\r",
            "\\t",
            "\\u00e9",
            "\\u20ac",
            "\\ud83d\\ude00",
            "\\u0000",
        ];
        for escape in escapes {
            for before in 0..36 {
                for after in 0..36 {
                    let plain =
                        |length: usize| "aé€😀".chars().cycle().take(length).collect::<String>();
                    let string = format!("\"{}{escape}{}\"", plain(before), plain(after));
                    assert!(agrees(&string), "{string}");
                    let object = format!("{{\"k\":{string},\"n\":[{string}]}}");
                    assert!(agrees(&object), "{object}");
                }
            }
        }
        let long: String = (0..600)
            .map(|at| format!("<p class=\\\"x{at}\\\">{}</p>\\n", "é".repeat(at % 23)))
            .collect();
        assert!(agrees(&format!("{{\"body\":\"{long}\"}}")));
    }

    #[test]
    fn numbers_are_typed_as_serde_json_types_them() {
        for number in [
            "0",
            "7",
            "-7",
            "999999999999999999",
            "-999999999999999999",
            "1000000000000000000",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "-0",
            "0.0",
            "-0.0",
            "1.5",
            "1e3",
            "1E-3",
            "0.1",
            "123.456e-7",
            "2.2250738585072014e-308",
            "1.7976931348623157e308",
        ] {
            assert!(agrees(number), "{number}");
            assert!(agrees(&format!("[{number},{number}]")), "{number}");
            typed_agrees::<f64>(number);
            typed_agrees::<i64>(number);
            typed_agrees::<u64>(number);
            typed_agrees::<u8>(number);
        }
    }

    #[derive(Deserialize, Debug, PartialEq)]
    enum Kind {
        Plain,
        Wrapped(u32),
        Pair(u8, u8),
        Named { inner: String },
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(untagged)]
    enum Either {
        Number(i64),
        Text(String),
        List(Vec<Either>),
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Model {
        text: String,
        missing: Option<String>,
        null: Option<i64>,
        ratio: f64,
        letter: char,
        flag: bool,
        kinds: Vec<Kind>,
        either: Vec<Either>,
        map: HashMap<String, Value>,
        pair: (i32, String),
        #[serde(default)]
        defaulted: u8,
    }

    #[test]
    fn typed_models_read_as_serde_json_reads_them() {
        let text = r#"{
            "text": "a\nb", "null": null, "ratio": 0.30000000000000004, "letter": "\u00e9",
            "flag": true, "ignored": {"deep": [1, "x", {"y": null}]},
            "kinds": ["Plain", {"Wrapped": 7}, {"Pair": [1, 2]}, {"Named": {"inner": "i"}}],
            "either": [1, "two", ["three", 4]],
            "map": {"k\u00e9y": [1.5, -0]}, "pair": [-3, "p"]
        }"#;
        let read = typed::<Model>(text).expect("declined");
        assert_eq!(read, serde_json::from_str::<Model>(text).unwrap());
        typed_agrees::<BTreeMap<String, Either>>(r#"{"a":1,"b":"c","d":[2]}"#);
        typed_agrees::<Kind>(r#""Plain""#);
        typed_agrees::<Kind>(r#""Pl\u0061in""#);
        typed_agrees::<Kind>(r#"{"Plain":null}"#);
        typed_agrees::<Kind>(r#""Unknown""#);
        typed_agrees::<Kind>(r#"{"Wrapped":1,"Plain":null}"#);
        typed_agrees::<Model>(r#"{"text":1}"#);
        assert!(typed::<IgnoredAny>(text).is_some());
    }

    #[test]
    fn borrows_as_serde_json_borrows() {
        assert_eq!(typed::<&str>(r#""plain""#), Some("plain"));
        assert!(serde_json::from_str::<&str>(r#""esc\naped""#).is_err());
        assert_eq!(typed::<&str>(r#""esc\naped""#), None);
    }

    /// What serde_json reads and the reader leaves to it: `parse_event` then reads with
    /// serde_json, so these cost time, never a different result.
    #[test]
    fn declines_what_it_leaves_to_serde_json() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(serde_json::from_str::<Value>(&deep).is_ok());
        assert!(!agrees(&deep));
        let shallow = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(agrees(&shallow));
        let numeric_keys = r#"{"1":"a","2":"b"}"#;
        assert!(serde_json::from_str::<HashMap<u32, String>>(numeric_keys).is_ok());
        assert_eq!(typed::<HashMap<u32, String>>(numeric_keys), None);
        let raw = r#"{"a":[1,2]}"#;
        assert!(serde_json::from_str::<Box<RawValue>>(raw).is_ok());
        assert!(typed::<Box<RawValue>>(raw).is_none());
    }

    /// A unit struct that reads nothing from its deserializer.
    #[derive(Debug, PartialEq)]
    struct Nothing;

    impl<'de> Deserialize<'de> for Nothing {
        fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            Ok(Nothing)
        }
    }

    /// Which visitor method was called.
    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Called(&'static str);

    /// Names the visitor method called, consuming what it is given.
    struct Names;

    impl<'de> Visitor<'de> for Names {
        type Value = Called;
        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("anything")
        }
        fn visit_unit<E>(self) -> Result<Called, E> {
            Ok(Called("unit"))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Called, E> {
            Ok(Called("u64"))
        }
        fn visit_str<E>(self, _: &str) -> Result<Called, E> {
            Ok(Called("str"))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Called, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Called("seq"))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Called, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Called("map"))
        }
    }

    /// The calls `deserialize_str` makes.
    impl<'de> Deserialize<'de> for Called {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_str(Names)
        }
    }

    /// The calls `deserialize_ignored_any` makes.
    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct IgnoredCalls(Called);

    impl<'de> Deserialize<'de> for IgnoredCalls {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer
                .deserialize_ignored_any(Names)
                .map(IgnoredCalls)
        }
    }

    /// A unit variant whose name is read through `deserialize_ignored_any`.
    #[derive(Debug, PartialEq)]
    struct UnitVariantCalls(IgnoredCalls);

    impl<'de> Deserialize<'de> for UnitVariantCalls {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Access;
            impl<'de> Visitor<'de> for Access {
                type Value = UnitVariantCalls;
                fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                    formatter.write_str("an enum")
                }
                fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
                    let (variant, access) = data.variant::<IgnoredCalls>()?;
                    access.unit_variant()?;
                    Ok(UnitVariantCalls(variant))
                }
            }
            deserializer.deserialize_enum("E", &[], Access)
        }
    }

    /// Variant `t` read as a tuple variant, `s` as a struct variant, their contents by [`Names`].
    #[derive(Debug, PartialEq)]
    struct VariantCalls(Called);

    impl<'de> Deserialize<'de> for VariantCalls {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Access;
            impl<'de> Visitor<'de> for Access {
                type Value = VariantCalls;
                fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                    formatter.write_str("an enum")
                }
                fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
                    let (variant, access) = data.variant::<String>()?;
                    match variant.as_str() {
                        "t" => access.tuple_variant(2, Names).map(VariantCalls),
                        _ => access.struct_variant(&[], Names).map(VariantCalls),
                    }
                }
            }
            deserializer.deserialize_enum("E", &["t", "s"], Access)
        }
    }

    /// An enum's access and an ignored key make the calls serde_json makes (a second review
    /// found them differing: a string variant read by serde's own string deserializer, a tuple or
    /// struct variant read whatever it was, an ignored key visited as unit).
    #[test]
    fn enum_access_and_ignored_keys_make_serde_json_calls() {
        for text in [r#""f""#, r#"{"f":null}"#, r#""\u0066""#] {
            typed_agrees::<UnitVariantCalls>(text);
        }
        for text in [
            r#"{"t":4}"#,
            r#"{"t":[1,2]}"#,
            r#"{"t":{"a":1}}"#,
            r#"{"s":null}"#,
            r#"{"s":{"a":1}}"#,
            r#"{"s":[1]}"#,
            r#""t""#,
        ] {
            typed_agrees::<VariantCalls>(text);
        }
        typed_agrees::<BTreeMap<IgnoredCalls, u8>>(r#"{"u":1}"#);
        assert_eq!(
            typed::<UnitVariantCalls>(r#""f""#),
            Some(UnitVariantCalls(IgnoredCalls(Called("unit"))))
        );
        assert_eq!(typed::<VariantCalls>(r#"{"t":4}"#), None);
    }

    /// The kinds of mismatch a review found (all refused by serde_json, all once read here): an
    /// `f32` out of its range or rounded twice, an identifier or a string read from another kind
    /// of value, a map from `null`, a trailing comma an element never looked at.
    #[test]
    fn what_serde_json_refuses_for_a_type_is_refused_too() {
        #[derive(Deserialize, Debug, PartialEq)]
        #[serde(tag = "t")]
        enum Internally {
            A,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        #[serde(tag = "t", content = "c")]
        enum Adjacently {
            A,
            N(u8),
        }
        #[derive(Deserialize, Debug, PartialEq)]
        #[serde(field_identifier)]
        enum Field {
            A,
        }
        for text in [
            "[3.5e38]",
            "[1e39]",
            "[1.0000000596046448]",
            "[3.4028235677973366e38]",
        ] {
            typed_agrees::<Vec<f32>>(text);
        }
        typed_agrees::<Vec<f32>>("[1.5, -0, 16777217]");
        typed_agrees::<Vec<Internally>>(r#"[{"t":0}]"#);
        typed_agrees::<Vec<Internally>>(r#"[{"t":"A"}]"#);
        typed_agrees::<Vec<Adjacently>>("[[1,2]]");
        typed_agrees::<Vec<Adjacently>>(r#"[{"t":"N","c":2}]"#);
        typed_agrees::<Vec<Field>>("[0]");
        typed_agrees::<serde_json::Map<String, Value>>("null");
        typed_agrees::<Vec<Nothing>>("[,]");
        typed_agrees::<Vec<Nothing>>("[,,]");
        typed_agrees::<Vec<Called>>(r#"[[1,2], {"a":1}, 1, null, "s"]"#);
        for text in [r#"[[1,2]]"#, r#"[{"a":1}]"#, "[1]", "[null]"] {
            assert_eq!(typed::<Vec<Called>>(text), None, "{text}");
        }
    }

    /// `IgnoredAny`'s method skips the value and calls `visit_unit`, whatever the value, as
    /// serde_json's does.
    #[test]
    fn an_ignored_value_is_skipped_then_visited_as_unit() {
        struct Skipped;
        impl<'de> Deserialize<'de> for Skipped {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Unit;
                impl<'de> Visitor<'de> for Unit {
                    type Value = Skipped;
                    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                        formatter.write_str("unit only")
                    }
                    fn visit_unit<E>(self) -> Result<Skipped, E> {
                        Ok(Skipped)
                    }
                }
                deserializer.deserialize_ignored_any(Unit)
            }
        }
        for text in [
            r#"{"a":[1,"\n",{"b":null}]}"#,
            "[1,2]",
            "-1.5",
            "true",
            r#""\t""#,
        ] {
            assert!(serde_json::from_str::<Skipped>(text).is_ok(), "{text}");
            assert!(typed::<Skipped>(text).is_some(), "{text}");
        }
    }

    /// Random texts from JSON's pieces, well and badly formed: never a panic, and whatever is
    /// read is what serde_json reads. (The fuzz target `json_reader` does this at length.)
    #[test]
    fn random_texts_never_read_differently() {
        const PIECES: &[&str] = &[
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\"k\":",
            "\\",
            "\\n",
            "\\u",
            "\\ud83d",
            "\\ude00",
            "00e9",
            "0",
            "1",
            "-",
            ".",
            "e",
            "9999999999",
            "true",
            "null",
            " ",
            "\t",
            "\u{1}",
            "é",
            "😀",
            "aaaaaaaaaaaaaaaa",
            r#""s\"é""#,
            "[1.5,-0]",
            r#"{"k":[]}"#,
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut read = 0;
        for _ in 0..50_000 {
            let length = 1 + next() % 12;
            let text: String = (0..length)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            read += usize::from(agrees(&text));
        }
        // Well-formed texts turn up too, so agreement was checked, not only refusals.
        assert!(read > 1_000, "only {read} texts read");
    }
}

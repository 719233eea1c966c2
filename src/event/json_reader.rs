//! The JSON reader of the fast path of `parse_event`: a serde `Deserializer` over the body.
//!
//! serde_json reads a string a few bytes at a time between escapes, and copies each piece into a
//! scratch buffer before the model copies the whole string again. An `email.created` is one 8 KB
//! HTML string with about 300 escapes, and that reading was more than half of its parse. Here a
//! string is scanned 16 bytes at a time and, when it has escapes, decoded once into the `String`
//! the model keeps.
//!
//! The reader accepts less than serde_json, never more, and types what it accepts identically:
//! the same visitor calls in the same order. Whatever it is unsure of fails: a nesting deeper than
//! [`MAX_DEPTH`], a surrogate escape without its pair, a number as a map key, serde_json's
//! `RawValue`. Its errors carry no position and are never shown: `parse_event` then falls back to
//! the two-pass serde_json reading, which is the reference and describes every failure. A number
//! that is not a plain integer (a fraction, an exponent, more than 18 digits, `-0`) is handed to
//! serde_json itself, so floats round exactly as there.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    DeserializeSeed, EnumAccess, Error as _, IntoDeserializer, MapAccess, SeqAccess, VariantAccess,
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
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = bytes.get(end) {
            end += 1;
        }
        self.at = end;
        let mut number = serde_json::Deserializer::from_str(&self.text[start..end]);
        let value = number.deserialize_any(visitor)?;
        number.end()?;
        Ok(value)
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
/// are tested 16 bytes at a time.
fn special_byte(bytes: &[u8], mut at: usize) -> Option<usize> {
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

impl<'de> Deserializer<'de> for &mut JsonReader<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b'"') => match self.string()? {
                Text::Borrowed(text) => visitor.visit_borrowed_str(text),
                Text::Owned(text) => visitor.visit_string(text),
            },
            Some(b'{') => {
                self.enter()?;
                let value = visitor.visit_map(Entries {
                    reader: self,
                    first: true,
                })?;
                self.leave(b'}')?;
                Ok(value)
            }
            Some(b'[') => {
                self.enter()?;
                let value = visitor.visit_seq(Elements {
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
            Some(b'"') => match self.string()? {
                Text::Borrowed(text) => visitor.visit_enum(BorrowedStrDeserializer::new(text)),
                Text::Owned(text) => visitor.visit_enum(text.into_deserializer()),
            },
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
            visitor.visit_unit()
        } else {
            // Containers come back here for each of their values, through `IgnoredAny`.
            self.deserialize_any(visitor)
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

/// An object's entries; the reader's cursor is just past `{` or past a value.
struct Entries<'a, 'de> {
    reader: &'a mut JsonReader<'de>,
    first: bool,
}

impl<'de> MapAccess<'de> for Entries<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let reader = &mut *self.reader;
        match reader.peek() {
            Some(b'}') => return Ok(None),
            Some(b'"') if self.first => {}
            Some(b',') if !self.first => {
                reader.at += 1;
                if reader.peek() != Some(b'"') {
                    return fail("expected a key");
                }
            }
            _ => return fail("expected a key"),
        }
        self.first = false;
        let key = seed.deserialize(Key {
            reader: &mut *reader,
        })?;
        reader.expect(b':')?;
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(&mut *self.reader)
    }
}

/// An array's elements; the reader's cursor is just past `[` or past an element.
struct Elements<'a, 'de> {
    reader: &'a mut JsonReader<'de>,
    first: bool,
}

impl<'de> SeqAccess<'de> for Elements<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let reader = &mut *self.reader;
        match reader.peek() {
            Some(b']') => return Ok(None),
            Some(b',') if !self.first => reader.at += 1,
            Some(_) if self.first => {}
            _ => return fail("expected an element"),
        }
        self.first = false;
        // After a comma, a closing bracket fails in the element's own reading: a trailing comma.
        seed.deserialize(&mut *reader).map(Some)
    }
}

macro_rules! refuse_in_key {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
                fail("a key read as other than a string")
            }
        )*
    };
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

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.reader.skip_string()?;
        visitor.visit_unit()
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
        char str string unit unit_struct seq tuple tuple_struct map struct identifier
    }

    // serde_json parses these out of the quotes; left to it.
    refuse_in_key! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_bytes deserialize_byte_buf
    }
}

/// An enum written as a one-key object: `{"Variant": value}`.
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
        self.reader.deserialize_any(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.reader.deserialize_any(visitor)
    }
}

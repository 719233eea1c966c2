//! `MaybeDeleted` in one pass, for the fast path of `parse_event`.
//!
//! `MaybeDeleted`'s own `Deserialize` (the reference, and what every other serde format gets)
//! reads the object into a `Value` to see whether it has a top-level `deleted` key, then types the
//! `Value` into the form that key says: on `role.deleted` that costs more than the `Value` parse
//! the whole delivery is measured against. Here the form is guessed from the body (does it contain
//! the text `"deleted"` anywhere?), the object is read once into that form, and the keys read on
//! the way are watched: the guess holds only if the object has a top-level key `deleted` (after
//! unescaping) exactly when the short form was chosen. Otherwise it is an error, and the caller
//! falls back to the two-pass reading.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, Visitor};
use serde::{forward_to_deserialize_any, Deserialize, Deserializer};

use crate::event::common::{DeletedObject, MaybeDeleted};

/// The key whose presence makes the short form.
const DELETED: &str = "deleted";

/// Reads `data` (from `deserializer`, inside `body`) as `MaybeDeleted::<T>` would, in one pass;
/// an error when the guess from `body` is wrong, or whatever else fails.
pub(crate) fn read<'de, T, D>(body: &str, deserializer: D) -> Result<MaybeDeleted<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    let short_form = mentions_deleted(body.as_bytes());
    let seen = Cell::new(false);
    let watched = Watched {
        inner: deserializer,
        seen: &seen,
    };
    let read = if short_form {
        MaybeDeleted::Deleted(DeletedObject::deserialize(watched)?)
    } else {
        MaybeDeleted::Full(T::deserialize(watched)?)
    };
    if seen.get() != short_form {
        return Err(D::Error::custom("the other form of a deleted object"));
    }
    Ok(read)
}

/// Whether `"deleted"` (with its quotes) occurs anywhere in `body`: the guess. Looks 8 positions
/// at a time for a quote followed by a `d`, and compares only there.
fn mentions_deleted(body: &[u8]) -> bool {
    const QUOTED: &[u8] = b"\"deleted\"";
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    // The high bit of every byte that is zero, and maybe of a few that follow one: a candidate.
    fn zero_bytes(word: u64) -> u64 {
        word.wrapping_sub(ONES) & !word & HIGHS
    }
    let word = |at: usize| {
        body.get(at..at + 8)
            .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
            .map(u64::from_le_bytes)
    };
    let mut at = 0;
    while let (Some(here), Some(next)) = (word(at), word(at + 1)) {
        let mut candidates = zero_bytes(here ^ (ONES * u64::from(b'"')))
            & zero_bytes(next ^ (ONES * u64::from(b'd')));
        while candidates != 0 {
            let offset = candidates.trailing_zeros() as usize / 8;
            if body[at + offset..].starts_with(QUOTED) {
                return true;
            }
            candidates &= candidates - 1;
        }
        at += 8;
    }
    body[at..]
        .windows(QUOTED.len())
        .any(|window| window == QUOTED)
}

/// A deserializer for a derived struct that notes in `seen` whether one of the keys of the
/// struct's own object (not of the objects nested in it) is `deleted`. Anything but a struct read
/// from a map is refused.
struct Watched<'c, D> {
    inner: D,
    seen: &'c Cell<bool>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Watched<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, D::Error> {
        Err(D::Error::custom("only a struct is watched"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_struct(
            name,
            fields,
            Watching {
                inner: visitor,
                seen: self.seen,
            },
        )
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The struct's visitor, handed the map with its keys watched. A struct sent as an array (which
/// derived structs accept) is refused.
struct Watching<'c, V> {
    inner: V,
    seen: &'c Cell<bool>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Watching<'_, V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(formatter)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(WatchedMap {
            inner: map,
            seen: self.seen,
        })
    }
}

struct WatchedMap<'c, A> {
    inner: A,
    seen: &'c Cell<bool>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for WatchedMap<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(WatchedKey {
            inner: seed,
            seen: self.seen,
        })
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A key of the watched object: read as the struct's field identifier, and noted.
struct WatchedKey<'c, K> {
    inner: K,
    seen: &'c Cell<bool>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for WatchedKey<'_, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<K::Value, D::Error> {
        self.inner.deserialize(KeyDeserializer {
            inner: deserializer,
            seen: self.seen,
        })
    }
}

/// Hands a derived struct's field identifier the key, noting it on the way. Derived structs read
/// their keys as identifiers; anything else is refused.
struct KeyDeserializer<'c, D> {
    inner: D,
    seen: &'c Cell<bool>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDeserializer<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, D::Error> {
        Err(D::Error::custom("only an identifier is watched"))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_identifier(KeyVisitor {
            inner: visitor,
            seen: self.seen,
        })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        ignored_any
    }
}

struct KeyVisitor<'c, V> {
    inner: V,
    seen: &'c Cell<bool>,
}

impl<V> KeyVisitor<'_, V> {
    fn note(&self, key: &str) {
        if key == DELETED {
            self.seen.set(true);
        }
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(formatter)
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<V::Value, E> {
        self.note(key);
        self.inner.visit_str(key)
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, key: &'de str) -> Result<V::Value, E> {
        self.note(key);
        self.inner.visit_borrowed_str(key)
    }

    fn visit_string<E: serde::de::Error>(self, key: String) -> Result<V::Value, E> {
        self.note(&key);
        self.inner.visit_string(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Permission, Role};

    /// The one-pass reading of `data`, alone in the body.
    fn one_pass<T: serde::de::DeserializeOwned>(data: &str) -> Option<MaybeDeleted<T>> {
        let mut deserializer = serde_json::Deserializer::from_str(data);
        let read = read::<T, _>(data, &mut deserializer).ok()?;
        deserializer.end().ok()?;
        Some(read)
    }

    /// Whatever the one pass reads is what `MaybeDeleted`'s own `Deserialize` reads; `read_too`
    /// says whether the one pass must succeed (rather than leave the object to the reference).
    fn check<T>(data: &str, read_too: bool)
    where
        T: serde::de::DeserializeOwned + PartialEq + fmt::Debug,
    {
        let reference = serde_json::from_str::<MaybeDeleted<T>>(data);
        match one_pass::<T>(data) {
            Some(fast) => assert_eq!(Some(&fast), reference.as_ref().ok(), "{data}"),
            None => assert!(!read_too, "{data}: not read in one pass"),
        }
    }

    #[test]
    fn both_forms_read_in_one_pass_as_the_reference_reads_them() {
        for data in [
            r#"{"object":"role","id":"role_1","deleted":true}"#,
            r#"{"deleted":true,"id":"role_1","object":"role","slug":"s","external_id":null}"#,
            r#"{"id":"role_1","deleted":null}"#,
            r#"{"id":"role_1","deleted":false,"extra":{"deleted":true}}"#,
            r#"{"id":"role_1","key":"org:editor","permissions":[]}"#,
            r#"{"id":"role_1","name":"a \"quoted\" name\n","created_at":1}"#,
            r#"{"id":"role_1","is_creator_eligible":true,"unknown":[{"x":"gone"}]}"#,
            // Escapes in the keys, read the same either way.
            r#"{"\u0069d":"role_1","deleted":true}"#,
            r#"{"\u0069d":"role_1"}"#,
        ] {
            check::<Role>(data, true);
            check::<Permission>(data, true);
        }
        assert!(matches!(
            one_pass::<Role>(r#"{"id":"role_1","deleted":true}"#),
            Some(MaybeDeleted::Deleted(_))
        ));
        assert!(matches!(
            one_pass::<Role>(r#"{"id":"role_1"}"#),
            Some(MaybeDeleted::Full(_))
        ));
    }

    #[test]
    fn a_wrong_guess_or_an_unusual_object_is_left_to_the_reference() {
        for data in [
            // "deleted" in the body but not a key of the object: guessed short, found full.
            r#"{"id":"role_1","permissions":[{"id":"p","deleted":true}]}"#,
            r#"{"id":"role_1","name":"deleted"}"#,
            r#"{"id":"role_1","unknown":[{"x":"deleted"}]}"#,
            r#"{"id":"role_1","x":{"deleted":true}}"#,
            // An escaped `deleted` key: guessed full, found short.
            r#"{"id":"role_1","delet\u0065d":true}"#,
            // Duplicates: the reference keeps the last, a derived struct refuses them.
            r#"{"id":"role_1","deleted":true,"deleted":false}"#,
            r#"{"id":"role_1","id":"role_2"}"#,
            // Not an object, or not a fitting one.
            r#"["role_1"]"#,
            r#""role_1""#,
            r#"{"deleted":true,"id":1}"#,
            r#"{"name":"no id"}"#,
        ] {
            check::<Role>(data, false);
            check::<Permission>(data, false);
        }
        assert!(one_pass::<Role>(r#"{"id":"role_1","delet\u0065d":true}"#).is_none());
        assert!(one_pass::<Role>(r#"{"id":"role_1","name":"deleted"}"#).is_none());
    }

    #[test]
    fn the_guess_finds_the_quoted_word_at_every_offset() {
        assert!(!mentions_deleted(b""));
        assert!(!mentions_deleted(b"\"deleted"));
        assert!(!mentions_deleted(b"deleted\""));
        assert!(!mentions_deleted(b"\"delet\\u0065d\""));
        for before in 0..24 {
            for after in 0..10 {
                let body = format!(
                    "{}\"deleted\"{}",
                    "\"d".repeat(before / 2) + &"x".repeat(before % 2),
                    "y".repeat(after)
                );
                assert!(mentions_deleted(body.as_bytes()), "{body}");
                let near_miss = body.replace("\"deleted\"", "\"deleteD\"");
                assert!(!mentions_deleted(near_miss.as_bytes()), "{near_miss}");
            }
        }
    }
}

//! The signing secret of a webhook endpoint.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The prefix Clerk and Svix put in front of the base64 key (`whsec_...`).
const PREFIX: &str = "whsec_";

/// The length of the keys Clerk generates; a shorter one was cut when it was copied.
const CLERK_KEY_LEN: usize = 24;

/// The signing secret of a Clerk webhook endpoint (`whsec_<base64 key>`).
///
/// Copy it from the Clerk dashboard (*Webhooks → your endpoint → Signing Secret*). The `whsec_` prefix is
/// optional; the rest must be standard base64 with padding. Surrounding whitespace (a trailing newline
/// from a secrets file) is ignored.
///
/// The key never appears in `Debug` output or in any error of this crate.
///
/// ```
/// use clerk_webhooks::{SigningSecret, Verifier};
///
/// let secret: SigningSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// println!("{secret:?}"); // SigningSecret(<redacted>)
/// let verifier = Verifier::new(secret);
/// # Ok::<(), clerk_webhooks::SecretError>(())
/// ```
#[derive(Clone)]
pub struct SigningSecret {
    key: Box<[u8]>,
}

impl SigningSecret {
    /// Parses a secret as shown in the Clerk dashboard: `whsec_` (optional) followed by standard,
    /// padded base64 of a key of at least 24 bytes (Clerk's length).
    ///
    /// # Errors
    ///
    /// A [`SecretError`] saying what is wrong: empty, quoted, a Clerk API key pasted by mistake,
    /// not base64, or too short to be a whole Clerk key (cut when copied). No error contains any
    /// part of the input.
    ///
    /// ```
    /// use clerk_webhooks::{SecretError, SigningSecret};
    ///
    /// assert!(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
    /// // The classic copy-and-paste mistakes are named.
    /// assert_eq!(SigningSecret::new("\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"").unwrap_err(), SecretError::Quoted);
    /// assert_eq!(SigningSecret::new("sk_test_abc123").unwrap_err(), SecretError::ApiKey);
    /// assert_eq!(SigningSecret::new("whsec_MfKQ9r8GKYqr").unwrap_err(), SecretError::TooShort { len: 9 });
    /// ```
    pub fn new(secret: &str) -> Result<Self, SecretError> {
        let trimmed = secret.trim();
        if is_quoted(trimmed) {
            return Err(SecretError::Quoted);
        }
        if ["sk_", "pk_"]
            .iter()
            .any(|prefix| trimmed.starts_with(prefix))
        {
            return Err(SecretError::ApiKey);
        }
        let encoded = trimmed.strip_prefix(PREFIX).unwrap_or(trimmed);
        if encoded.is_empty() {
            return Err(SecretError::Empty);
        }
        // The decode error is dropped on purpose: its text names the offending byte, a piece of the key.
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::InvalidBase64)?;
        if key.len() < CLERK_KEY_LEN {
            return Err(SecretError::TooShort { len: key.len() });
        }
        Self::from_bytes(key)
    }

    /// Uses raw key bytes as the secret (no prefix, no base64), of any length: for tests that want
    /// a short key on purpose, or senders other than Clerk.
    ///
    /// # Errors
    ///
    /// [`SecretError::Empty`] when `key` is empty: an empty HMAC key would accept signatures anyone can
    /// compute.
    ///
    /// ```
    /// use clerk_webhooks::{SigningSecret, Verifier};
    ///
    /// let verifier = Verifier::new(SigningSecret::from_bytes(*b"test key")?);
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    pub fn from_bytes(key: impl Into<Vec<u8>>) -> Result<Self, SecretError> {
        let key = key.into();
        if key.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self {
            key: key.into_boxed_slice(),
        })
    }

    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }
}

/// Quotes kept from a `.env` file or a YAML value: `"whsec_..."` or `'whsec_...'`.
fn is_quoted(text: &str) -> bool {
    ['"', '\'']
        .iter()
        .any(|quote| text.starts_with(*quote) || text.ends_with(*quote))
}

impl FromStr for SigningSecret {
    type Err = SecretError;

    fn from_str(secret: &str) -> Result<Self, Self::Err> {
        Self::new(secret)
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

/// Why a signing secret was refused, in words meant for the person configuring the app. Never
/// contains any part of the secret.
///
/// `Debug` shows the same text as `Display`, so `main` returning it with `?` prints the
/// explanation.
///
/// ```
/// use clerk_webhooks::{SecretError, SigningSecret};
///
/// let err = SigningSecret::new("whsec_%%%%").unwrap_err();
/// assert_eq!(err, SecretError::InvalidBase64);
/// assert!(!err.to_string().contains('%'));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The secret has no key bytes (`""`, `"whsec_"`, or empty raw bytes).
    #[error("the webhook signing secret is empty")]
    Empty,
    /// The secret is wrapped in quotes, kept from a `.env` or YAML file.
    #[error(
        "the webhook signing secret is wrapped in quotes: remove them (whsec_... without quotes)"
    )]
    Quoted,
    /// A Clerk API key (`sk_...` or `pk_...`) was given instead of the webhook signing secret.
    #[error(
        "this is a Clerk API key (sk_/pk_), not a webhook signing secret: copy the endpoint's \
         whsec_... secret from the Clerk dashboard (Webhooks, your endpoint, Signing Secret)"
    )]
    ApiKey,
    /// The part after `whsec_` is not standard, padded base64.
    #[error("the webhook signing secret is not `whsec_` followed by standard base64")]
    InvalidBase64,
    /// The key is shorter than a Clerk key: it was most likely cut when it was copied.
    #[error(
        "the webhook signing secret looks truncated: its key is {len} bytes, a Clerk key is 24; \
         copy the whole whsec_... secret again from the Clerk dashboard"
    )]
    TooShort {
        /// The length of the decoded key, in bytes.
        len: usize,
    },
}

impl fmt::Debug for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The environment variable [`from_env`](crate::Verifier::from_env) reads first.
pub const SECRET_ENV_VAR: &str = "CLERK_WEBHOOK_SIGNING_SECRET";
/// The environment variable read when [`SECRET_ENV_VAR`] is unset or blank (the name Clerk's JavaScript
/// SDK used before).
pub const FALLBACK_SECRET_ENV_VAR: &str = "CLERK_WEBHOOK_SECRET";

/// Reads one or more whitespace-separated secrets from the first of [`SECRET_ENV_VAR`] and
/// [`FALLBACK_SECRET_ENV_VAR`] that holds anything but whitespace.
pub(crate) fn secrets_from_env(
    lookup: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Vec<SigningSecret>, ConfigError> {
    for variable in [SECRET_ENV_VAR, FALLBACK_SECRET_ENV_VAR] {
        let Some(value) = lookup(variable) else {
            continue;
        };
        let value = value
            .into_string()
            .map_err(|_| ConfigError::NotUnicode { variable })?;
        if value.trim().is_empty() {
            continue;
        }
        return value
            .split_whitespace()
            .enumerate()
            .map(|(index, secret)| {
                SigningSecret::new(secret).map_err(|source| ConfigError::InvalidSecret {
                    variable,
                    position: index + 1,
                    source,
                })
            })
            .collect();
    }
    Err(ConfigError::MissingSecret)
}

/// A configuration mistake found at startup, before any request is served.
///
/// `Debug` shows the same text as `Display`: a `main` that returns it with `?` prints
/// `Error: no webhook signing secret: set CLERK_WEBHOOK_SIGNING_SECRET ...`, not a variant name.
///
/// ```no_run
/// use clerk_webhooks::ClerkWebhookLayer;
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let layer = ClerkWebhookLayer::from_env()?; // a misconfiguration stops here, explained
///     Ok(())
/// }
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither variable is set to anything but whitespace.
    #[error(
        "no webhook signing secret: set CLERK_WEBHOOK_SIGNING_SECRET (or CLERK_WEBHOOK_SECRET) to the \
         endpoint's `whsec_...` Signing Secret (Clerk Dashboard > Webhooks > your endpoint)"
    )]
    MissingSecret,
    /// The variable is set but is not valid Unicode.
    #[error("{variable} is not valid Unicode")]
    NotUnicode {
        /// The variable that was read.
        variable: &'static str,
    },
    /// One of the secrets in the variable is malformed.
    #[error("secret number {position} in {variable} is unusable: {source}")]
    InvalidSecret {
        /// The variable that was read.
        variable: &'static str,
        /// The 1-based position of the malformed secret among the whitespace-separated ones.
        position: usize,
        /// What is wrong with it (never its value).
        source: SecretError,
    },
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_optional() {
        let with = SigningSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let without = SigningSecret::new("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        assert_eq!(with.key(), without.key());
        assert_eq!(with.key().len(), 24);
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        let secret = SigningSecret::new("  whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n").unwrap();
        assert_eq!(secret.key(), &[0; 24]);
    }

    #[test]
    fn empty_keys_are_refused() {
        for input in ["", "   ", "whsec_", " whsec_ \n"] {
            assert_eq!(
                SigningSecret::new(input).unwrap_err(),
                SecretError::Empty,
                "{input:?}"
            );
        }
        assert_eq!(
            SigningSecret::from_bytes(Vec::new()).unwrap_err(),
            SecretError::Empty
        );
    }

    #[test]
    fn base64_is_strict() {
        // Missing padding, URL-safe alphabet, inner whitespace and a doubled prefix are all refused.
        for input in [
            "whsec_AAA",
            "whsec_AA-_",
            "whsec_AA AA",
            "whsec_whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "whsec_AA==AA",
        ] {
            assert_eq!(
                SigningSecret::new(input).unwrap_err(),
                SecretError::InvalidBase64,
                "{input:?}"
            );
        }
    }

    #[test]
    fn copy_and_paste_mistakes_are_named_without_quoting_the_secret() {
        let key = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let cases = [
            (format!("\"whsec_{key}\""), SecretError::Quoted),
            (format!("'whsec_{key}'"), SecretError::Quoted),
            (format!("whsec_{key}\""), SecretError::Quoted),
            (
                "sk_test_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
                SecretError::ApiKey,
            ),
            (
                "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k".to_owned(),
                SecretError::ApiKey,
            ),
            ("whsec_AAAA".to_owned(), SecretError::TooShort { len: 3 }),
            (
                format!("whsec_{}", &key[..28]),
                SecretError::TooShort { len: 21 },
            ),
        ];
        for (input, expected) in cases {
            let err = SigningSecret::new(&input).unwrap_err();
            assert_eq!(err, expected, "{input}");
            let shown = format!("{err} {err:?}");
            assert!(
                !shown.contains(&key[..8]) && !shown.contains("Y2xlcmsu"),
                "{shown}"
            );
        }
        // Longer keys than Clerk's are fine; the length check is a floor.
        assert!(SigningSecret::new(&format!("whsec_{key}{key}")).is_ok());
    }

    #[test]
    fn debug_of_errors_reads_like_display_for_main() {
        let err = ConfigError::InvalidSecret {
            variable: SECRET_ENV_VAR,
            position: 1,
            source: SecretError::TooShort { len: 3 },
        };
        assert_eq!(format!("{err:?}"), err.to_string());
        assert!(err.to_string().contains("looks truncated"), "{err}");
        assert_eq!(
            format!("{:?}", ConfigError::MissingSecret),
            ConfigError::MissingSecret.to_string()
        );
    }

    #[test]
    fn debug_and_errors_never_show_the_key() {
        let secret = SigningSecret::from_bytes(*b"secret-key").unwrap();
        let shown = format!("{secret:?} {secret:#?}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(!shown.contains("secret-key"), "{shown}");
        let err = SigningSecret::new("whsec_c2VjcmV0LWtleQ=!").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("c2VjcmV0"));
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<std::ffi::OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.into())
        }
    }

    #[test]
    fn env_prefers_the_signing_secret_variable() {
        let secrets = secrets_from_env(env(&[
            (SECRET_ENV_VAR, "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            (
                FALLBACK_SECRET_ENV_VAR,
                "whsec_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB",
            ),
        ]))
        .unwrap();
        assert_eq!(secrets.len(), 1);
        assert_eq!(secrets[0].key(), &[0; 24]);
    }

    #[test]
    fn env_falls_back_when_unset_or_blank() {
        for primary in [None, Some(""), Some(" \n")] {
            let mut vars = vec![(
                FALLBACK_SECRET_ENV_VAR,
                "whsec_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB",
            )];
            if let Some(value) = primary {
                vars.push((SECRET_ENV_VAR, value));
            }
            let secrets = secrets_from_env(env(&vars)).unwrap();
            assert_eq!(secrets[0].key(), &[1; 24], "{primary:?}");
        }
    }

    #[test]
    fn env_holds_several_secrets_and_a_trailing_newline() {
        let secrets = secrets_from_env(env(&[(
            SECRET_ENV_VAR,
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\twhsec_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\n",
        )]))
        .unwrap();
        let keys: Vec<&[u8]> = secrets.iter().map(SigningSecret::key).collect();
        assert_eq!(keys, [&[0u8; 24][..], &[1; 24][..]]);
    }

    #[test]
    fn env_errors_name_the_variables_and_never_the_value() {
        let missing = secrets_from_env(env(&[])).unwrap_err();
        assert_eq!(missing, ConfigError::MissingSecret);
        let text = missing.to_string();
        assert!(
            text.contains(SECRET_ENV_VAR) && text.contains(FALLBACK_SECRET_ENV_VAR),
            "{text}"
        );

        let bad = secrets_from_env(env(&[(
            FALLBACK_SECRET_ENV_VAR,
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA whsec_s3cr3t!",
        )]))
        .unwrap_err();
        assert_eq!(
            bad,
            ConfigError::InvalidSecret {
                variable: FALLBACK_SECRET_ENV_VAR,
                position: 2,
                source: SecretError::InvalidBase64
            }
        );
        assert!(!format!("{bad} {bad:?}").contains("s3cr3t"));
    }
}

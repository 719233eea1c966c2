//! The signing secret of a webhook endpoint.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The prefix Clerk and Svix put in front of the base64 key (`whsec_...`).
const PREFIX: &str = "whsec_";

/// The signing secret of a Clerk webhook endpoint (`whsec_<base64 key>`).
///
/// Copy it from the Clerk dashboard (*Webhooks → your endpoint → Signing Secret*). The `whsec_` prefix is
/// optional; the rest must be standard base64 with padding. Surrounding whitespace (a trailing newline
/// from a secrets file) is ignored.
///
/// The key never appears in `Debug` output or in any error of this crate.
///
/// ```
/// use clerk_webhooks::SigningSecret;
///
/// let secret = SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// assert_eq!(format!("{secret:?}"), "SigningSecret(<redacted>)");
///
/// // The same secret, parsed with `FromStr`.
/// let parsed: SigningSecret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// assert_eq!(parsed.len(), secret.len());
/// # Ok::<(), clerk_webhooks::SecretError>(())
/// ```
#[derive(Clone)]
pub struct SigningSecret {
    key: Box<[u8]>,
}

impl SigningSecret {
    /// Parses a secret as shown in the Clerk dashboard: `whsec_` (optional) followed by standard,
    /// padded base64.
    ///
    /// # Errors
    ///
    /// [`SecretError::Empty`] when there is no key, [`SecretError::InvalidBase64`] when the key is not
    /// standard padded base64. Neither error contains any part of the input.
    ///
    /// ```
    /// use clerk_webhooks::{SecretError, SigningSecret};
    ///
    /// assert!(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
    /// assert_eq!(SigningSecret::new("whsec_").unwrap_err(), SecretError::Empty);
    /// assert_eq!(SigningSecret::new("whsec_not base64!").unwrap_err(), SecretError::InvalidBase64);
    /// ```
    pub fn new(secret: &str) -> Result<Self, SecretError> {
        let trimmed = secret.trim();
        let encoded = trimmed.strip_prefix(PREFIX).unwrap_or(trimmed);
        if encoded.is_empty() {
            return Err(SecretError::Empty);
        }
        // The decode error is dropped on purpose: its text names the offending byte, a piece of the key.
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::InvalidBase64)?;
        Self::from_bytes(key)
    }

    /// Uses raw key bytes as the secret (no prefix, no base64).
    ///
    /// # Errors
    ///
    /// [`SecretError::Empty`] when `key` is empty: an empty HMAC key would accept signatures anyone can
    /// compute.
    ///
    /// ```
    /// use clerk_webhooks::SigningSecret;
    ///
    /// let secret = SigningSecret::from_bytes(b"raw key bytes".to_vec())?;
    /// assert_eq!(secret.len(), 13);
    /// assert!(SigningSecret::from_bytes(Vec::new()).is_err());
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

    /// The length of the decoded key in bytes (never zero).
    ///
    /// ```
    /// # use clerk_webhooks::SigningSecret;
    /// assert_eq!(SigningSecret::new("whsec_AAAA")?.len(), 3);
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // a secret is never empty
    pub fn len(&self) -> usize {
        self.key.len()
    }

    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }
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

/// Why a signing secret was refused. Never contains any part of the secret.
///
/// ```
/// use clerk_webhooks::{SecretError, SigningSecret};
///
/// let err = SigningSecret::new("whsec_%%%%").unwrap_err();
/// assert_eq!(err, SecretError::InvalidBase64);
/// assert!(!err.to_string().contains('%'));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The secret has no key bytes (`""`, `"whsec_"`, or empty raw bytes).
    #[error("the webhook signing secret is empty")]
    Empty,
    /// The part after `whsec_` is not standard, padded base64.
    #[error("the webhook signing secret is not `whsec_` followed by standard base64")]
    InvalidBase64,
}

/// The environment variable [`from_env`](crate::Verifier::from_env) reads first.
///
/// ```
/// assert_eq!(clerk_webhooks::SECRET_ENV_VAR, "CLERK_WEBHOOK_SIGNING_SECRET");
/// ```
pub const SECRET_ENV_VAR: &str = "CLERK_WEBHOOK_SIGNING_SECRET";
/// The environment variable read when [`SECRET_ENV_VAR`] is unset or blank (the name Clerk's JavaScript
/// SDK used before).
///
/// ```
/// assert_eq!(clerk_webhooks::FALLBACK_SECRET_ENV_VAR, "CLERK_WEBHOOK_SECRET");
/// ```
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
/// ```
/// use clerk_webhooks::ConfigError;
///
/// let err = ConfigError::MissingSecret;
/// assert!(err.to_string().contains("CLERK_WEBHOOK_SIGNING_SECRET"));
/// assert!(err.to_string().contains("CLERK_WEBHOOK_SECRET"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither variable is set to anything but whitespace.
    #[error(
        "no webhook signing secret: set CLERK_WEBHOOK_SIGNING_SECRET (or CLERK_WEBHOOK_SECRET) to the \
         endpoint's `whsec_...` secret from the Clerk dashboard"
    )]
    MissingSecret,
    /// The variable is set but is not valid Unicode.
    #[error("{variable} is not valid Unicode")]
    NotUnicode {
        /// The variable that was read.
        variable: &'static str,
    },
    /// One of the secrets in the variable is malformed.
    #[error("secret number {position} in {variable} is malformed: {source}")]
    InvalidSecret {
        /// The variable that was read.
        variable: &'static str,
        /// The 1-based position of the malformed secret among the whitespace-separated ones.
        position: usize,
        /// What is wrong with it (never its value).
        source: SecretError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_optional() {
        let with = SigningSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let without = SigningSecret::new("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        assert_eq!(with.key(), without.key());
        assert_eq!(with.len(), 24);
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        let secret = SigningSecret::new("  whsec_AAAA\n").unwrap();
        assert_eq!(secret.key(), &[0, 0, 0]);
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
            "whsec_whsec_AAAA",
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
    fn debug_and_errors_never_show_the_key() {
        let secret = SigningSecret::new("whsec_c2VjcmV0LWtleQ==").unwrap();
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
            (SECRET_ENV_VAR, "whsec_AAAA"),
            (FALLBACK_SECRET_ENV_VAR, "whsec_AQEB"),
        ]))
        .unwrap();
        assert_eq!(secrets.len(), 1);
        assert_eq!(secrets[0].key(), &[0, 0, 0]);
    }

    #[test]
    fn env_falls_back_when_unset_or_blank() {
        for primary in [None, Some(""), Some(" \n")] {
            let mut vars = vec![(FALLBACK_SECRET_ENV_VAR, "whsec_AQEB")];
            if let Some(value) = primary {
                vars.push((SECRET_ENV_VAR, value));
            }
            let secrets = secrets_from_env(env(&vars)).unwrap();
            assert_eq!(secrets[0].key(), &[1, 1, 1], "{primary:?}");
        }
    }

    #[test]
    fn env_holds_several_secrets_and_a_trailing_newline() {
        let secrets =
            secrets_from_env(env(&[(SECRET_ENV_VAR, "whsec_AAAA\twhsec_AQEB\n")])).unwrap();
        let keys: Vec<&[u8]> = secrets.iter().map(SigningSecret::key).collect();
        assert_eq!(keys, [&[0u8, 0, 0][..], &[1, 1, 1][..]]);
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
            "whsec_AAAA whsec_s3cr3t!",
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

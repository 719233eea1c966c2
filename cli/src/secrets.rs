//! The signing secret(s), from the environment (as the server reads them), a file, standard input
//! or, last, the command line. Errors say which secret is wrong and why, never quote it.

use std::io::Read;

use clerk_webhooks::{SigningSecret, Verifier, FALLBACK_SECRET_ENV_VAR, SECRET_ENV_VAR};

use crate::args::SecretArgs;

/// A verifier holding every secret given, in order (secret #1 first).
pub(crate) fn verifier(args: &SecretArgs) -> Result<Verifier, String> {
    let texts = texts(args)?;
    let mut secrets = texts.iter().enumerate().map(|(index, text)| {
        SigningSecret::new(text).map_err(|err| format!("secret #{}: {err}", index + 1))
    });
    let first = secrets.next().ok_or_else(missing)??;
    secrets.try_fold(Verifier::new(first), |verifier, secret| {
        Ok(verifier.with_secret(secret?))
    })
}

fn missing() -> String {
    format!(
        "no signing secret: set {SECRET_ENV_VAR} (or {FALLBACK_SECRET_ENV_VAR}) as your server \
         does, or give --secret-file PATH or --secret-stdin (the endpoint's Signing Secret: Clerk \
         Dashboard > Webhooks > your endpoint)"
    )
}

fn texts(args: &SecretArgs) -> Result<Vec<String>, String> {
    if let Some(path) = &args.secret_file {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read the secret file {}: {err}", path.display()))?;
        return Ok(split(&text));
    }
    if args.secret_stdin {
        let mut text = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map_err(|err| format!("cannot read the secret from standard input: {err}"))?;
        return Ok(split(&text));
    }
    if !args.secret.is_empty() {
        return Ok(args.secret.clone());
    }
    for variable in [SECRET_ENV_VAR, FALLBACK_SECRET_ENV_VAR] {
        match std::env::var(variable) {
            Ok(value) if !value.trim().is_empty() => return Ok(split(&value)),
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(format!("{variable} is not valid UTF-8"))
            }
            _ => {}
        }
    }
    Err(missing())
}

fn split(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

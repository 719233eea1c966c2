//! Signed deliveries: a sample or a file as the body, signed as Svix signs, and the `sign` command.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clerk_webhooks::testing::{sample, SignedRequest};
use http::{HeaderMap, HeaderValue};

use crate::args::DeliveryArgs;
use crate::secrets;

/// A delivery ready to send: its id, body and headers.
pub(crate) struct Signed {
    pub(crate) id: String,
    pub(crate) body: Vec<u8>,
    pub(crate) headers: HeaderMap,
}

fn body_of(args: &DeliveryArgs) -> Result<Vec<u8>, String> {
    match (&args.event_type, &args.file) {
        (Some(event_type), _) => sample(event_type).map(<[u8]>::to_vec).ok_or_else(|| {
            format!("no sample for `{event_type}`: `clerk-webhooks samples` lists the event types")
        }),
        (None, Some(path)) => {
            std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
        }
        (None, None) => Err("give --type EVENT_TYPE or --file PATH".to_owned()),
    }
}

pub(crate) fn signed(args: &DeliveryArgs) -> Result<Signed, String> {
    let body = body_of(args)?;
    let verifier = secrets::verifier(&args.secrets)?;
    let id = match &args.id {
        Some(id) if HeaderValue::from_str(id).is_err() => {
            return Err("--id must be visible ASCII (it becomes a header)".to_owned())
        }
        Some(id) => id.clone(),
        None => fresh_id(),
    };
    let mut request = SignedRequest::new(body.clone()).with_id(id.clone());
    if let Some(timestamp) = args.timestamp {
        request = request.with_timestamp(timestamp);
    }
    if args.unbranded {
        request = request.with_unbranded_headers();
    }
    let headers = request.headers(&verifier);
    Ok(Signed { id, body, headers })
}

/// An id like Svix's `msg_...`, unique enough for a person sending deliveries by hand.
fn fresh_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!(
        "msg_cli_{:x}{:05x}",
        nanos >> 20,
        std::process::id() & 0xfffff
    )
}

pub(crate) fn sign(args: &DeliveryArgs, curl: Option<&str>) -> Result<ExitCode, String> {
    let Signed { body, headers, .. } = signed(args)?;
    match curl {
        None => headers
            .iter()
            .for_each(|(name, value)| println!("{name}: {}", value.to_str().unwrap_or(""))),
        Some(url) => {
            let mut command = format!("curl -sS -X POST {}", shell_quote(url));
            for (name, value) in &headers {
                let line = format!("{name}: {}", value.to_str().unwrap_or(""));
                command.push_str(&format!(" \\\n  -H {}", shell_quote(&line)));
            }
            let data = match &args.file {
                Some(path) => format!("@{}", path.display()),
                None => String::from_utf8_lossy(&body).into_owned(),
            };
            command.push_str(&format!(" \\\n  --data-binary {}", shell_quote(&data)));
            println!("{command}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

//! Signs a webhook body like Svix does and POSTs it to your endpoint, so you can exercise a local
//! receiver without a tunnel or the Clerk dashboard.
//!
//! ```text
//! cargo run --example send -- --url http://127.0.0.1:3000/webhooks/clerk --type user.created
//! cargo run --example send -- --url http://127.0.0.1:3000/webhooks/clerk --file my-event.json
//! ```
//!
//! The secret comes from `--secret whsec_...` or `CLERK_WEBHOOK_SIGNING_SECRET`. `--type` picks a
//! built-in sample (one realistic body per event type, from `tests/fixtures/events`).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use clerk_webhooks::{ClerkEvent, SigningSecret, Verifier};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

const USAGE: &str =
    "usage: send --url URL (--type EVENT_TYPE | --file PATH) [--secret whsec_...] [--id MSG_ID]";

struct Args {
    url: String,
    body: Vec<u8>,
    secret: String,
    id: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut url, mut body, mut secret, mut id) = (None, None, None, None);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--secret" => secret = Some(value()?),
            "--id" => id = Some(value()?),
            "--file" => {
                let path = value()?;
                body = Some(std::fs::read(&path).map_err(|err| format!("{path}: {err}"))?);
            }
            "--type" => body = Some(sample(&value()?)?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let secret = secret
        .or_else(|| std::env::var(clerk_webhooks::SECRET_ENV_VAR).ok())
        .ok_or(format!(
            "no secret: pass --secret or set {}",
            clerk_webhooks::SECRET_ENV_VAR
        ))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_nanos();
    Ok(Args {
        url: url.ok_or(USAGE)?,
        body: body.ok_or(USAGE)?,
        secret,
        id: id.unwrap_or_else(|| format!("msg_local_{now:x}")),
    })
}

fn sample(event_type: &str) -> Result<Vec<u8>, String> {
    if !ClerkEvent::KNOWN_TYPES.contains(&event_type) {
        return Err(format!(
            "no sample for {event_type:?}; known types: {}",
            ClerkEvent::KNOWN_TYPES.join(", ")
        ));
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/events/{event_type}.json"));
    std::fs::read(&path).map_err(|err| format!("{}: {err}", path.display()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let verifier = Verifier::new(SigningSecret::new(&args.secret)?);
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let mut request = http::Request::post(&args.url)
        .header("content-type", "application/json")
        .header("user-agent", "clerk-webhooks-send")
        .body(Full::new(Bytes::from(args.body.clone())))?;
    request
        .headers_mut()
        .extend(verifier.signed_headers(&args.id, timestamp, &args.body)?);

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = client.request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    println!(
        "{} {} ({} bytes signed as {})",
        status.as_u16(),
        String::from_utf8_lossy(&body),
        args.body.len(),
        args.id
    );
    if !status.is_success() {
        std::process::exit(1);
    }
    Ok(())
}

//! Signs a sample Clerk delivery and verifies it, then a tampered and a stale copy.
//!
//! Run with `cargo run --example demo`. Self-contained: no account, no network.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_webhooks::{SigningSecret, Verifier};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let verifier = Verifier::new(SigningSecret::new(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )?);
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let body = br#"{"type":"user.created","object":"event","data":{"id":"user_29w83sxmDNGwOuEthce5gg56FcC"}}"#;

    let good = verifier.signed_headers("msg_good", now, body)?;
    report("good", verifier.verify(&good, body));

    let tampered = String::from_utf8_lossy(body).replace("user_29w", "user_30w");
    report("tampered", verifier.verify(&good, tampered.as_bytes()));

    let ten_minutes_ago = now - Duration::from_secs(600).as_secs() as i64;
    let stale = verifier.signed_headers("msg_stale", ten_minutes_ago, body)?;
    report("stale", verifier.verify(&stale, body));
    Ok(())
}

fn report(label: &str, outcome: Result<clerk_webhooks::Delivery, clerk_webhooks::VerifyError>) {
    match outcome {
        Ok(delivery) => println!("{label:>8}: accepted delivery {}", delivery.id()),
        Err(err) => println!("{label:>8}: {} {}", err.status().as_u16(), err.to_json()),
    }
}

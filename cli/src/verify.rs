//! `verify`: the library's diagnosis of a captured delivery, printed for a person.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_webhooks::VerifyError;
use http::{HeaderMap, HeaderValue};

use crate::args::VerifyArgs;
use crate::{dump, secrets};

pub(crate) fn run(args: &VerifyArgs) -> Result<ExitCode, String> {
    let verifier = secrets::verifier(&args.secrets)?;
    let (headers, body) = captured(args)?;
    let now = match args.now {
        Some(secs) => at(secs)
            .ok_or_else(|| format!("--now {secs} is out of this system's range of times"))?,
        None => SystemTime::now(),
    };
    let diagnosis = verifier.diagnose_at(&headers, &body, now);
    println!(
        "checking a body of {} bytes against {} secret(s)",
        body.len(),
        diagnosis.secrets
    );
    let explanation = format!("{diagnosis:#}");
    match &diagnosis.outcome {
        Ok(delivery) => {
            let secret = diagnosis
                .signed_by()
                .map_or_else(String::new, |index| format!("secret #{}", index + 1));
            println!("OK: verifies ({secret}), svix-id {}", delivery.id());
        }
        Err(err) => println!("FAILED: {err} ({})", err.code()),
    }
    for line in explanation.lines() {
        println!("    {line}");
    }
    let stale = matches!(
        diagnosis.error(),
        Some(VerifyError::TimestampTooOld { .. } | VerifyError::TimestampTooNew { .. })
    );
    if stale && args.now.is_none() {
        println!("    to judge it at the time of capture, give --now UNIX_SECONDS");
    }
    Ok(if diagnosis.outcome.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The headers and body of the delivery to check, from the flags or a captured request.
fn captured(args: &VerifyArgs) -> Result<(HeaderMap, Vec<u8>), String> {
    if let Some(path) = &args.request {
        let raw =
            std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        return dump::parse(&raw).map_err(|err| format!("{}: {err}", path.display()));
    }
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("svix-id", &args.id),
        ("svix-timestamp", &args.timestamp),
        ("svix-signature", &args.signature),
    ] {
        let value = value.as_deref().unwrap_or("");
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("the {name} value holds characters a header cannot"))?;
        headers.insert(name, value);
    }
    let path = args.body.as_ref().ok_or("give --body PATH")?;
    let body =
        std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    Ok((headers, body))
}

/// `secs` since the Unix epoch, when the system's time can hold it.
fn at(secs: i64) -> Option<SystemTime> {
    let offset = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    }
}

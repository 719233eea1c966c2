//! `send`: POST a signed delivery over http or https, and print the answer, bounded.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use crate::args::DeliveryArgs;
use crate::delivery::{signed, Signed};
use crate::text::printable;

/// The most of an answer read and printed: an endpoint's answer is a few bytes of JSON, and a
/// broken or hostile server must not make the tool hold more.
pub(crate) const MAX_ANSWER: u64 = 1024 * 1024;

pub(crate) fn run(url: &str, args: &DeliveryArgs) -> Result<ExitCode, String> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "{}: only http:// and https:// URLs are supported",
            printable(url.as_bytes())
        ));
    }
    let Signed { id, body, headers } = signed(args)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        // A 4xx or 5xx is an answer to print, not an error.
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        // Svix does not follow redirects either: a 3xx is printed as the endpoint's answer.
        .max_redirects(0)
        .build()
        .into();
    let mut request = agent.post(url);
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let response = request
        .send(&body[..])
        .map_err(|err| format!("sending to {url} failed: {err} (is your server running?)"))?;
    let status = response.status();
    let mut answer = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(MAX_ANSWER + 1)
        .read_to_end(&mut answer)
        .map_err(|err| format!("reading the answer from {url} failed: {err}"))?;
    let cut = answer.len() as u64 > MAX_ANSWER;
    answer.truncate(MAX_ANSWER as usize);

    println!("sent {} bytes as {id}", body.len());
    println!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    if !answer.is_empty() {
        println!("{}", printable(&answer));
    }
    if cut {
        println!("(the answer was cut after {} KiB)", MAX_ANSWER / 1024);
    }
    Ok(if status.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

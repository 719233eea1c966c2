//! What the workspace's integration tests share: the test secret and its injected clock, signed
//! and forged requests, a body of ready chunks, the examples built as a user builds them, and real
//! Redis and PostgreSQL servers on loopback (throwaway instances in temporary directories).

pub mod clerk_history;
pub mod dedupe_suite;
pub mod postgres_server;
pub mod recorded_metrics;
pub mod redis_server;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_webhooks::testing::SignedRequest;
use clerk_webhooks::{SigningSecret, Verifier};
use http::{HeaderMap, Request};

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// A second valid secret, for rotation and wrong-secret cases.
pub const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
/// The fixed "now" of the tests' injected clock.
pub const NOW: i64 = 1_716_883_200;

pub fn verifier() -> Verifier {
    Verifier::new(SigningSecret::new(SECRET).unwrap()).with_clock(|| at(NOW))
}

/// The instant `secs` seconds from the Unix epoch (before it when negative).
pub fn at(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

pub fn user_created(user_id: &str) -> String {
    format!(
        r#"{{"type":"user.created","object":"event","timestamp":1716883200000,"instance_id":"ins_1",
            "event_attributes":{{"http_request":{{"client_ip":"203.0.113.7","user_agent":"Svix"}}}},
            "data":{{"id":"{user_id}","object":"user","first_name":"Zoë","primary_email_address_id":"idn_1",
            "email_addresses":[{{"id":"idn_1","email_address":"zoe@example.com"}}]}}}}"#
    )
}

/// The headers of a delivery signed by the test kit, as `id` at `timestamp`.
pub fn signed_headers(id: &str, timestamp: i64, body: &[u8]) -> HeaderMap {
    SignedRequest::new(body.to_vec())
        .with_id(id)
        .with_timestamp(timestamp)
        .headers(&verifier())
}

/// A POST to `uri` with `body`, signed as `id` at `timestamp`.
pub fn signed_request<B>(uri: &str, id: &str, timestamp: i64, raw: &[u8], body: B) -> Request<B> {
    let mut request = Request::post(uri).body(body).unwrap();
    request
        .headers_mut()
        .extend(signed_headers(id, timestamp, raw));
    request
}

/// A well-formed `v1` signature that no secret made.
pub const FORGED_SIGNATURE: &str = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// A POST to `uri` with well-formed, current headers (the tests' `NOW`) and a forged signature.
pub fn forged_request<B>(uri: &str, id: &str, body: B) -> Request<B> {
    let mut request = Request::post(uri).body(body).unwrap();
    let headers = request.headers_mut();
    headers.insert("svix-id", id.parse().unwrap());
    headers.insert("svix-timestamp", NOW.to_string().parse().unwrap());
    headers.insert("svix-signature", FORGED_SIGNATURE.parse().unwrap());
    request
}

/// A body that hands out its chunks, each ready at once, with no announced length (as a chunked
/// request does): it never makes the layer wait.
pub struct ReadyChunks(pub Vec<bytes::Bytes>);

impl http_body::Body for ReadyChunks {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Ready(
            (!self.0.is_empty()).then(|| Ok(http_body::Frame::data(self.0.remove(0)))),
        )
    }
}

/// Builds the example `name` of the package whose tests are running (cargo sets
/// `CARGO_MANIFEST_DIR` for the test process) with the cargo running this test (and `features`,
/// cargo arguments such as `--all-features`) and returns its executable. (`cargo test
/// --all-targets` builds examples only as test harnesses, so their `main` must be built here.)
pub fn example(name: &str, features: &[&str]) -> PathBuf {
    let package_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .expect("CARGO_MANIFEST_DIR is unset: run the tests with cargo");
    let output = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--message-format=json",
            "--example",
            name,
        ])
        .args(features)
        .current_dir(package_dir)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "building the {name} example failed"
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == name)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo built no executable for the {name} example"))
}

/// Kills the example when the test ends, passed or failed.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

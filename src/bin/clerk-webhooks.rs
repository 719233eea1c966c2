//! `clerk-webhooks`: send signed sample deliveries to a local endpoint, sign bodies, and explain why
//! a captured delivery does not verify; with the `queue` feature, list, re-queue and sweep the jobs
//! of an endpoint's queue. Install with `cargo install clerk-webhooks --features cli`.
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand};
use clerk_webhooks::testing::{sample, SignedRequest};
use clerk_webhooks::{
    ClerkEvent, SigningSecret, Verifier, VerifyError, FALLBACK_SECRET_ENV_VAR, SECRET_ENV_VAR,
};
use http::{HeaderMap, HeaderName, HeaderValue};

/// Test Clerk webhooks locally: send signed sample deliveries to your endpoint, sign bodies, and
/// find out why a captured delivery does not verify.
///
/// The signing secret comes from --secret or from CLERK_WEBHOOK_SIGNING_SECRET (or
/// CLERK_WEBHOOK_SECRET), as in your server. It is never printed.
#[derive(Parser)]
#[command(name = "clerk-webhooks", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign a sample event (or a file) like Svix does and POST it to a local URL; prints the
    /// status and the answer.
    ///
    /// Example: clerk-webhooks send --url http://127.0.0.1:3000/webhooks/clerk --type user.created
    Send {
        /// Where your endpoint listens (plain http, as in local development).
        #[arg(long)]
        url: String,
        #[command(flatten)]
        delivery: DeliveryArgs,
    },
    /// Print the headers of a signed delivery for a body, or a ready curl command.
    ///
    /// Example: clerk-webhooks sign --type user.created --curl http://127.0.0.1:3000/webhooks/clerk
    Sign {
        #[command(flatten)]
        delivery: DeliveryArgs,
        /// Print a curl command posting the delivery to this URL instead of the headers.
        #[arg(long, value_name = "URL")]
        curl: Option<String>,
    },
    /// Say whether a captured delivery verifies and, if not, what is most likely wrong.
    ///
    /// Give the body exactly as received (--body FILE) with the three header values, or a raw
    /// HTTP request as captured (--request FILE: request line, headers, blank line, body).
    ///
    /// Example: clerk-webhooks verify --id msg_2x --timestamp 1716883200 --signature 'v1,K5o...'
    /// --body body.json
    Verify(VerifyArgs),
    /// List the event types that have a sample body.
    Samples,
    /// Look after the queue of an endpoint (feature `queue`): list dead jobs, queue them again,
    /// sweep finished ones.
    #[cfg(feature = "queue")]
    Queue {
        #[command(subcommand)]
        command: queue::QueueCommand,
    },
}

#[derive(Args)]
struct DeliveryArgs {
    /// The event type of the sample body to send (see `clerk-webhooks samples`).
    #[arg(
        long = "type",
        value_name = "EVENT_TYPE",
        conflicts_with = "file",
        required_unless_present = "file"
    )]
    event_type: Option<String>,
    /// A file whose bytes are the body.
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// The signing secret (whsec_...); repeat for rotation. Default: the environment.
    #[arg(long, value_name = "SECRET")]
    secret: Vec<String>,
    /// The svix-id; send the same one twice to exercise de-duplication. Default: a fresh one.
    #[arg(long, value_name = "MSG_ID")]
    id: Option<String>,
    /// The signing time in Unix seconds, to exercise the replay window. Default: now.
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    timestamp: Option<i64>,
    /// Use the Standard Webhooks header names (webhook-id, ...) instead of svix-*.
    #[arg(long)]
    unbranded: bool,
}

#[derive(Args)]
struct VerifyArgs {
    /// A secret (whsec_...) the delivery may be signed with; repeat to try several. Default: the
    /// environment.
    #[arg(long, value_name = "SECRET")]
    secret: Vec<String>,
    /// The svix-id (or webhook-id) header value.
    #[arg(
        long,
        value_name = "MSG_ID",
        required_unless_present = "request",
        conflicts_with = "request"
    )]
    id: Option<String>,
    /// The svix-timestamp header value.
    #[arg(
        long,
        value_name = "VALUE",
        required_unless_present = "request",
        conflicts_with = "request"
    )]
    timestamp: Option<String>,
    /// The svix-signature header value.
    #[arg(
        long,
        value_name = "VALUE",
        required_unless_present = "request",
        conflicts_with = "request"
    )]
    signature: Option<String>,
    /// The body exactly as received.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "request",
        conflicts_with = "request"
    )]
    body: Option<PathBuf>,
    /// A raw HTTP request as captured: request line, headers, a blank line, the body.
    #[arg(long, value_name = "PATH")]
    request: Option<PathBuf>,
    /// Judge the timestamp against this time (Unix seconds) instead of now, e.g. the time of
    /// capture.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<i64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Send { url, delivery } => send(&url, &delivery),
        Command::Sign { delivery, curl } => sign(&delivery, curl.as_deref()),
        Command::Verify(args) => verify(&args),
        Command::Samples => {
            ClerkEvent::KNOWN_TYPES
                .iter()
                .for_each(|event_type| println!("{event_type}"));
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "queue")]
        Command::Queue { command } => queue::run(&command),
    };
    result.unwrap_or_else(|message| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    })
}

/// The secrets as text (for the raw-key check) and as signing secrets, from the flags or the
/// environment. Errors never quote a secret.
fn secrets(given: &[String]) -> Result<Vec<(String, SigningSecret)>, String> {
    let texts: Vec<String> = if given.is_empty() {
        let from_env = [SECRET_ENV_VAR, FALLBACK_SECRET_ENV_VAR]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()));
        let Some(value) = from_env else {
            return Err(format!(
                "no signing secret: pass --secret whsec_... or set {SECRET_ENV_VAR} (the endpoint's \
                 Signing Secret: Clerk Dashboard > Webhooks > your endpoint)"
            ));
        };
        value.split_whitespace().map(str::to_owned).collect()
    } else {
        given.to_vec()
    };
    texts
        .into_iter()
        .enumerate()
        .map(|(n, text)| {
            let secret =
                SigningSecret::new(&text).map_err(|err| format!("secret #{}: {err}", n + 1))?;
            Ok((text, secret))
        })
        .collect()
}

fn verifier_of(secrets: &[(String, SigningSecret)]) -> Verifier {
    let mut all = secrets.iter().map(|(_, secret)| secret.clone());
    let first = all.next().expect("secrets() never returns an empty list");
    all.fold(Verifier::new(first), Verifier::with_secret)
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

fn signed(args: &DeliveryArgs) -> Result<(Vec<u8>, HeaderMap), String> {
    let body = body_of(args)?;
    let verifier = verifier_of(&secrets(&args.secret)?);
    let mut request = SignedRequest::new(body.clone());
    if let Some(id) = &args.id {
        if HeaderValue::from_str(id).is_err() {
            return Err("--id must be visible ASCII (it becomes a header)".to_owned());
        }
        request = request.with_id(id.clone());
    }
    if let Some(timestamp) = args.timestamp {
        request = request.with_timestamp(timestamp);
    }
    if args.unbranded {
        request = request.with_unbranded_headers();
    }
    Ok((body, request.headers(&verifier)))
}

fn sign(args: &DeliveryArgs, curl: Option<&str>) -> Result<ExitCode, String> {
    let (body, headers) = signed(args)?;
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

fn send(url: &str, args: &DeliveryArgs) -> Result<ExitCode, String> {
    let (body, headers) = signed(args)?;
    let (status, answer) = post(url, &headers, &body)?;
    let id = headers
        .get("svix-id")
        .or_else(|| headers.get("webhook-id"))
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    println!("sent {} bytes as {id}", body.len());
    println!("{status}");
    if !answer.is_empty() {
        println!("{answer}");
    }
    Ok(if status.starts_with('2') {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A plain HTTP/1.1 POST with `connection: close`: the status code and the answer's body.
fn post(url: &str, headers: &HeaderMap, body: &[u8]) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs (a local endpoint) are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let address = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let mut stream = TcpStream::connect(&address)
        .map_err(|err| format!("cannot connect to {address}: {err} (is your server running?)"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|err| err.to_string())?;
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap_or("")));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .map_err(|err| format!("sending to {address} failed: {err}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|err| format!("reading the answer from {address} failed: {err}"))?;
    let (head, body) = split_message(&response).ok_or("the server's answer is not HTTP")?;
    let status_line = head.lines().next().unwrap_or("");
    let status = status_line
        .split_once(' ')
        .map_or(status_line, |(_, status)| status)
        .to_owned();
    let chunked = head.lines().any(|line| {
        line.to_ascii_lowercase().starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Head (as text) and body of an HTTP message, split at the first blank line.
fn split_message(message: &[u8]) -> Option<(String, &[u8])> {
    let (end, skip) = find(message, b"\r\n\r\n")
        .map(|at| (at, 4))
        .or_else(|| find(message, b"\n\n").map(|at| (at, 2)))?;
    Some((
        String::from_utf8_lossy(&message[..end]).into_owned(),
        &message[end + skip..],
    ))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = find(body, b"\r\n") {
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            break;
        };
        body = &body[line_end + 2..];
        if size == 0 || size > body.len() {
            break;
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
    out
}

/// The headers and body of the delivery to check, from the flags or a captured request.
fn captured(args: &VerifyArgs) -> Result<(HeaderMap, Vec<u8>), String> {
    if let Some(path) = &args.request {
        let raw =
            std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        let (head, body) = split_message(&raw).ok_or_else(|| {
            format!(
                "{}: no blank line between the headers and the body",
                path.display()
            )
        })?;
        let mut headers = HeaderMap::new();
        // The first line is the request line; a dump that starts with a header is accepted too.
        for line in head
            .lines()
            .filter(|line| line.contains(':') && !line.starts_with("POST "))
        {
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.trim().as_bytes()),
                HeaderValue::from_str(value.trim()),
            ) {
                headers.append(name, value);
            }
        }
        return Ok((headers, body.to_vec()));
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

fn verify(args: &VerifyArgs) -> Result<ExitCode, String> {
    let secrets = secrets(&args.secret)?;
    let (headers, body) = captured(args)?;
    let now = args.now.map_or_else(SystemTime::now, at);
    let verifier = verifier_of(&secrets);
    println!(
        "checking a body of {} bytes against {} secret(s)",
        body.len(),
        secrets.len()
    );
    match verifier.verify_at(&headers, &body, now) {
        Ok(delivery) => {
            let matching = which_secret(&secrets, &headers, &body, delivery.timestamp());
            println!("OK: verifies ({matching}), svix-id {}", delivery.id());
            let skew = delivery.timestamp() - unix(now);
            println!("    the timestamp is {}", describe_skew(skew));
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            println!("FAILED: {} ({})", err, err.code());
            explain(&err, &secrets, &headers, &body, now);
            Ok(ExitCode::FAILURE)
        }
    }
}

fn explain(
    err: &VerifyError,
    secrets: &[(String, SigningSecret)],
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) {
    match err {
        VerifyError::TimestampTooOld { timestamp } | VerifyError::TimestampTooNew { timestamp } => {
            println!(
                "    the timestamp is {}",
                describe_skew(timestamp - unix(now))
            );
            let signature_ok = verifier_of(secrets)
                .verify_at(headers, body, at(*timestamp))
                .is_ok();
            if signature_ok {
                println!(
                    "    the signature itself is valid ({}): only the time is off. A delivery \
                     replayed or captured long ago, or a clock that is wrong (check NTP); use \
                     --now to judge it at the time of capture",
                    which_secret(secrets, headers, body, *timestamp)
                );
            } else {
                println!("    the signature does not match either, at that time:");
                explain_signature(secrets, headers, body);
            }
        }
        VerifyError::InvalidSignature => explain_signature(secrets, headers, body),
        VerifyError::MissingHeader { .. } => println!(
            "    a delivery needs svix-id, svix-timestamp and svix-signature (or webhook-*)"
        ),
        VerifyError::InvalidTimestamp => println!(
            "    svix-timestamp must be whole Unix seconds, such as {}",
            unix(SystemTime::now())
        ),
        _ => {}
    }
}

fn explain_signature(secrets: &[(String, SigningSecret)], headers: &HeaderMap, body: &[u8]) {
    let Some(timestamp) = header(headers, "timestamp").and_then(|text| text.parse::<i64>().ok())
    else {
        return;
    };
    let verifies =
        |verifier: &Verifier, body: &[u8]| verifier.verify_at(headers, body, at(timestamp)).is_ok();
    let all = verifier_of(secrets);
    let mut found = false;
    for (what, variant) in body_variants(body) {
        if verifies(&all, &variant) {
            println!("    the body would verify {what}: something changed it after it was signed");
            found = true;
        }
    }
    for (n, (text, _)) in secrets.iter().enumerate() {
        let raw_keys = [text.as_str(), text.strip_prefix("whsec_").unwrap_or(text)];
        for raw in raw_keys {
            let Ok(secret) = SigningSecret::from_bytes(raw.as_bytes()) else {
                continue;
            };
            if verifies(&Verifier::new(secret), body) {
                println!(
                    "    it was signed with the TEXT of secret #{} as the key: the signer must \
                     base64-decode what follows whsec_ and use those bytes",
                    n + 1
                );
                found = true;
            }
        }
    }
    let entries = header(headers, "signature").map_or(0, |value| {
        value
            .split_whitespace()
            .filter(|e| e.starts_with("v1,"))
            .count()
    });
    if entries == 0 {
        println!("    the signature header holds no v1,<base64> entry");
    } else if !found {
        println!(
            "    none of the {} secret(s) signed any of the {entries} v1 signature(s) over this \
             body. Most likely the secret of another endpoint or environment (each endpoint has \
             its own), or the body was changed (decompressed, re-serialized) before it was \
             captured",
            secrets.len()
        );
    }
}

/// The classic copy-and-paste and re-serialization changes, undone.
fn body_variants(body: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut variants = Vec::new();
    if let Some(stripped) = body
        .strip_suffix(b"\r\n")
        .or_else(|| body.strip_suffix(b"\n"))
    {
        variants.push(("without its trailing newline", stripped.to_vec()));
    }
    variants.push(("with a trailing newline added", [body, b"\n"].concat()));
    if body.windows(2).any(|pair| pair == b"\r\n") {
        let lf: Vec<u8> = String::from_utf8_lossy(body)
            .replace("\r\n", "\n")
            .into_bytes();
        variants.push(("with LF line endings instead of CRLF", lf));
    } else if body.contains(&b'\n') {
        let crlf = String::from_utf8_lossy(body)
            .replace('\n', "\r\n")
            .into_bytes();
        variants.push(("with CRLF line endings instead of LF", crlf));
    }
    variants
}

fn which_secret(
    secrets: &[(String, SigningSecret)],
    headers: &HeaderMap,
    body: &[u8],
    timestamp: i64,
) -> String {
    secrets
        .iter()
        .position(|(_, secret)| {
            Verifier::new(secret.clone())
                .verify_at(headers, body, at(timestamp))
                .is_ok()
        })
        .map_or_else(
            || "no single secret".to_owned(),
            |n| format!("secret #{}", n + 1),
        )
}

fn header<'a>(headers: &'a HeaderMap, suffix: &str) -> Option<&'a str> {
    headers
        .get(format!("svix-{suffix}"))
        .or_else(|| headers.get(format!("webhook-{suffix}")))
        .and_then(|value| value.to_str().ok())
}

fn describe_skew(skew: i64) -> String {
    match skew {
        0 => "exactly now".to_owned(),
        s if s < 0 => format!("{} s in the past", s.unsigned_abs()),
        s => format!("{s} s in the future"),
    }
}

fn at(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

fn unix(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// `clerk-webhooks queue ...`: the recovery API of `clerk_webhooks::queue` for operators.
#[cfg(feature = "queue")]
mod queue {
    use std::process::ExitCode;
    use std::time::Duration;

    use clap::{Args, Subcommand};
    use clerk_webhooks::queue::{
        dead_jobs, requeue_all_dead, requeue_dead, sweep_done, ConnectOptions,
        DEFAULT_DONE_RETENTION,
    };
    use redis::aio::ConnectionManager;

    #[derive(Subcommand)]
    pub(crate) enum QueueCommand {
        /// List the jobs apalis gave up on (out of attempts, or killed): task id, svix-id,
        /// status, attempts, when, last error.
        ///
        /// Example: clerk-webhooks queue dead --redis redis://127.0.0.1:6379/ --endpoint myapp
        Dead(Target),
        /// Queue dead jobs again, attempts reset: one by its task id, or all of them with --all.
        ///
        /// Example: clerk-webhooks queue requeue --redis redis://127.0.0.1:6379/ --endpoint myapp --all
        Requeue {
            #[command(flatten)]
            target: Target,
            /// Every dead job of the queue.
            #[arg(long, conflicts_with = "task_id", required_unless_present = "task_id")]
            all: bool,
            /// The task id of one dead job (as `queue dead` lists it).
            #[arg(value_name = "TASK_ID")]
            task_id: Option<String>,
        },
        /// Delete the jobs that finished successfully longer ago than the retention (their data
        /// and metadata); waiting, running, retrying and dead jobs are never touched.
        ///
        /// Example: clerk-webhooks queue sweep --redis redis://127.0.0.1:6379/ --endpoint myapp
        Sweep {
            #[command(flatten)]
            target: Target,
            /// Keep finished jobs this many hours. Default: 168 (7 days).
            #[arg(long, value_name = "HOURS")]
            older_than_hours: Option<u64>,
        },
    }

    /// Which queue: the Redis and the endpoint.
    #[derive(Args)]
    pub(crate) struct Target {
        /// The queue's Redis. Default: the REDIS_URL environment variable.
        #[arg(long, value_name = "URL")]
        redis: Option<String>,
        /// The endpoint's namespace, as your server's `layer.endpoint()` (or
        /// `Verifier::with_endpoint`) names it. Default: the one derived from the signing secret
        /// (--secret or the environment), as the server derives it.
        #[arg(long, value_name = "ENDPOINT")]
        endpoint: Option<String>,
        /// The endpoint's signing secret (whsec_...), to derive its namespace. Default: the
        /// environment.
        #[arg(long, value_name = "SECRET", conflicts_with = "endpoint")]
        secret: Vec<String>,
    }

    impl Target {
        fn endpoint(&self) -> Result<String, String> {
            match &self.endpoint {
                Some(endpoint) => Ok(endpoint.clone()),
                None => Ok(super::verifier_of(&super::secrets(&self.secret)?)
                    .endpoint()
                    .to_owned()),
            }
        }

        async fn connect(&self) -> Result<ConnectionManager, String> {
            let url = match &self.redis {
                Some(url) => url.clone(),
                None => std::env::var("REDIS_URL")
                    .ok()
                    .filter(|url| !url.trim().is_empty())
                    .ok_or("no Redis: pass --redis URL or set REDIS_URL")?,
            };
            // The library's own connection, with room for an operator's slow scans. The URL may
            // hold a password: errors name the problem, not the URL.
            ConnectOptions::new(&url)
                .connection_timeout(Duration::from_secs(5))
                .response_timeout(Duration::from_secs(30))
                .connect()
                .await
                .map_err(|err| format!("cannot reach Redis: {err}"))
        }
    }

    pub(crate) fn run(command: &QueueCommand) -> Result<ExitCode, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| format!("cannot start the runtime: {err}"))?;
        runtime.block_on(async {
            match command {
                QueueCommand::Dead(target) => dead(target).await,
                QueueCommand::Requeue {
                    target,
                    all,
                    task_id,
                } => requeue(target, *all, task_id.as_deref()).await,
                QueueCommand::Sweep {
                    target,
                    older_than_hours,
                } => sweep(target, *older_than_hours).await,
            }
        })
    }

    async fn dead(target: &Target) -> Result<ExitCode, String> {
        let endpoint = target.endpoint()?;
        let mut connection = target.connect().await?;
        let jobs = dead_jobs(&mut connection, &endpoint)
            .await
            .map_err(|err| err.to_string())?;
        println!("{} dead job(s) in the queue of {endpoint}", jobs.len());
        for job in jobs {
            let error = job
                .error
                .as_deref()
                .unwrap_or("-")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            println!(
                "{}\tsvix-id {}\t{}\tattempts {}\tdied at {}\t{error}",
                job.task_id,
                job.svix_id.as_deref().unwrap_or("-"),
                job.status.as_deref().unwrap_or("-"),
                job.attempts
                    .map_or_else(|| "-".to_owned(), |n| n.to_string()),
                job.died_at
                    .map_or_else(|| "-".to_owned(), |at| at.to_string()),
            );
        }
        Ok(ExitCode::SUCCESS)
    }

    async fn requeue(
        target: &Target,
        all: bool,
        task_id: Option<&str>,
    ) -> Result<ExitCode, String> {
        let endpoint = target.endpoint()?;
        let mut connection = target.connect().await?;
        if all {
            let count = requeue_all_dead(&mut connection, &endpoint)
                .await
                .map_err(|err| err.to_string())?;
            println!("requeued {count} dead job(s) in the queue of {endpoint}");
            return Ok(ExitCode::SUCCESS);
        }
        let task_id = task_id.ok_or("give a TASK_ID or --all")?;
        let requeued = requeue_dead(&mut connection, &endpoint, task_id)
            .await
            .map_err(|err| err.to_string())?;
        if requeued {
            println!("requeued {task_id}");
            Ok(ExitCode::SUCCESS)
        } else {
            println!(
                "not requeued: {task_id} is not a dead job of the queue of {endpoint} (or its data \
                 is gone, or its delivery has since got a new job)"
            );
            Ok(ExitCode::FAILURE)
        }
    }

    async fn sweep(target: &Target, older_than_hours: Option<u64>) -> Result<ExitCode, String> {
        let endpoint = target.endpoint()?;
        let retention = older_than_hours.map_or(DEFAULT_DONE_RETENTION, |hours| {
            Duration::from_secs(hours.saturating_mul(3600))
        });
        let mut connection = target.connect().await?;
        let swept = sweep_done(&mut connection, &endpoint, retention)
            .await
            .map_err(|err| err.to_string())?;
        println!(
            "swept {swept} job(s) finished more than {} hour(s) ago from the queue of {endpoint}",
            retention.as_secs() / 3600
        );
        Ok(ExitCode::SUCCESS)
    }
}

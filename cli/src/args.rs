//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::queue::QueueCommand;

/// Test Clerk webhooks: send signed sample deliveries to your endpoint, sign bodies, and find out
/// why a captured delivery does not verify.
///
/// The signing secret comes from CLERK_WEBHOOK_SIGNING_SECRET (or CLERK_WEBHOOK_SECRET), as in
/// your server, or from --secret-file or --secret-stdin. It is never printed.
#[derive(Parser)]
#[command(name = "clerk-webhooks", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Sign a sample event (or a file) like Svix does and POST it to your endpoint (http or
    /// https, so a tunnel URL works); prints the status and the answer.
    ///
    /// Example: clerk-webhooks send --url http://127.0.0.1:3000/webhooks/clerk --type user.created
    Send {
        /// Where your endpoint listens: http://... or https://...
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
    /// HTTP request as captured (--request FILE: request line, headers, blank line, body; a
    /// chunked body is de-chunked).
    ///
    /// Example: clerk-webhooks verify --id msg_2x --timestamp 1716883200 --signature 'v1,K5o...'
    /// --body body.json
    Verify(VerifyArgs),
    /// List the event types that have a sample body.
    Samples,
    /// Look after the queue of an endpoint: list dead jobs, queue them again, sweep finished
    /// ones.
    Queue {
        #[command(subcommand)]
        command: QueueCommand,
    },
}

/// Where the signing secret comes from when the environment does not hold it. One at most.
#[derive(Args, Clone)]
#[group(multiple = false)]
pub(crate) struct SecretArgs {
    /// A file holding the signing secret (whsec_...); several, separated by whitespace, for a
    /// rotation. Default: the environment.
    #[arg(long, value_name = "PATH")]
    pub(crate) secret_file: Option<PathBuf>,
    /// Read the signing secret(s) from standard input.
    #[arg(long)]
    pub(crate) secret_stdin: bool,
    /// The signing secret itself; repeat for rotation. Visible to every local user while the
    /// command runs (ps, /proc) and kept in shell history: prefer the environment,
    /// --secret-file or --secret-stdin.
    #[arg(long, value_name = "SECRET")]
    pub(crate) secret: Vec<String>,
}

#[derive(Args)]
pub(crate) struct DeliveryArgs {
    /// The event type of the sample body to send (see `clerk-webhooks samples`).
    #[arg(
        long = "type",
        value_name = "EVENT_TYPE",
        conflicts_with = "file",
        required_unless_present = "file"
    )]
    pub(crate) event_type: Option<String>,
    /// A file whose bytes are the body.
    #[arg(long, value_name = "PATH")]
    pub(crate) file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) secrets: SecretArgs,
    /// The svix-id; send the same one twice to exercise de-duplication. Default: a fresh one.
    #[arg(long, value_name = "MSG_ID")]
    pub(crate) id: Option<String>,
    /// The signing time in Unix seconds, to exercise the replay window. Default: now.
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    pub(crate) timestamp: Option<i64>,
    /// Use the Standard Webhooks header names (webhook-id, ...) instead of svix-*.
    #[arg(long)]
    pub(crate) unbranded: bool,
}

#[derive(Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub(crate) secrets: SecretArgs,
    /// The svix-id (or webhook-id) header value.
    #[arg(
        long,
        value_name = "MSG_ID",
        required_unless_present = "request",
        conflicts_with = "request"
    )]
    pub(crate) id: Option<String>,
    /// The svix-timestamp header value.
    #[arg(
        long,
        value_name = "VALUE",
        required_unless_present = "request",
        conflicts_with = "request"
    )]
    pub(crate) timestamp: Option<String>,
    /// The svix-signature header value.
    #[arg(
        long,
        value_name = "VALUE",
        required_unless_present = "request",
        conflicts_with = "request"
    )]
    pub(crate) signature: Option<String>,
    /// The body exactly as received.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "request",
        conflicts_with = "request"
    )]
    pub(crate) body: Option<PathBuf>,
    /// A raw HTTP request as captured: request line, headers, a blank line, the body.
    #[arg(long, value_name = "PATH")]
    pub(crate) request: Option<PathBuf>,
    /// Judge the timestamp against this time (Unix seconds) instead of now, e.g. the time of
    /// capture.
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    pub(crate) now: Option<i64>,
}

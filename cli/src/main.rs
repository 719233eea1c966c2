//! `clerk-webhooks`: send signed sample deliveries to an endpoint, sign bodies, explain why a
//! captured delivery does not verify, and list, re-queue and sweep the jobs of an endpoint's
//! queue. Install with `cargo install clerk-webhooks-cli`.
#![forbid(unsafe_code)]

mod args;
mod delivery;
mod dump;
mod queue;
mod secrets;
mod send;
mod text;
mod verify;

use std::process::ExitCode;

use clap::Parser;
use clerk_webhooks::ClerkEvent;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Send { url, delivery } => send::run(&url, &delivery),
        Command::Sign { delivery, curl } => delivery::sign(&delivery, curl.as_deref()),
        Command::Verify(args) => verify::run(&args),
        Command::Samples => {
            ClerkEvent::KNOWN_TYPES
                .iter()
                .for_each(|event_type| println!("{event_type}"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Queue { command } => queue::run(&command),
    };
    result.unwrap_or_else(|message| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    })
}

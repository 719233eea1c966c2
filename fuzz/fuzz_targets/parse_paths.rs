//! The one-pass reading of `parse_event` against the two-pass reading it falls back to (the
//! envelope through serde_json with `data` kept raw, then `data` typed): on every input, both give
//! the same event and metadata, or the same error (code, message and position).
//!
//! Input: one byte of flags (bit 0: the layer's lenient mode, where a known type whose data does
//! not fit becomes `ClerkEvent::Unparsed`), then the body.
//!
//! The reference is reached through `clerk_webhooks::__fuzzing`, which exists only under
//! `--cfg fuzzing` (cargo-fuzz sets it); built otherwise, this target only says so.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    use clerk_webhooks::__fuzzing::{parse_event_two_pass, parse_event_with};

    let Some((&flags, body)) = input.split_first() else {
        return;
    };
    let lenient = flags & 1 == 1;
    let fast = parse_event_with(body, lenient);
    let reference = parse_event_two_pass(body, lenient);
    assert_eq!(fast, reference, "lenient: {lenient}");
});

#[cfg(not(fuzzing))]
fn main() {
    eprintln!("parse_paths needs cargo-fuzz (--cfg fuzzing): cargo fuzz run parse_paths");
    std::process::exit(2);
}

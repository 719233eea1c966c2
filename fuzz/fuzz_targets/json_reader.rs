//! The one-pass reading's own JSON reader (`src/reading/json_reader.rs`) against serde_json, on any
//! text: whatever the reader accepts, serde_json accepts too and reads to the same `Value`, down
//! to how each number prints (`-0.0`, a float's last digit). The reader may decline what
//! serde_json accepts (`parse_event` then falls back to serde_json), never the other way round.
//!
//! The reader is reached through `clerk_webhooks::__fuzzing`, which exists only under
//! `--cfg fuzzing` (cargo-fuzz sets it); built otherwise, this target only says so.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    if let Some(read) = clerk_webhooks::__fuzzing::read_value_one_pass(text) {
        let reference = serde_json::from_str::<serde_json::Value>(text)
            .unwrap_or_else(|err| panic!("the reader accepted what serde_json refuses: {err}"));
        assert_eq!(read, reference);
        assert_eq!(read.to_string(), reference.to_string());
    }
});

#[cfg(not(fuzzing))]
fn main() {
    eprintln!("json_reader needs cargo-fuzz (--cfg fuzzing): cargo fuzz run json_reader");
    std::process::exit(2);
}

#!/usr/bin/env bash
# Instructions per parse of every sample body: `parse_event` against `serde_json::from_slice::<Value>`,
# counted by callgrind (valgrind), so the figures hold on a loaded machine where timings do not.
#
# usage: bash scripts/parse_instructions.sh [FIXTURE...]      (default: every sample)
#
# Builds a tiny release harness (a crate of its own in a temporary directory, depending on this one
# by path without default features; target dir target/parse-instructions), then for each body runs
# it under callgrind with 1 and with 41 parses: (Ir(41) - Ir(1)) / 40 is the cost of one parse,
# start-up and file reading excluded. Prints fixture, Value, parse_event, ratio; and the median ratio.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
harness="$(mktemp -d)"
trap 'rm -rf "$harness"' EXIT
mkdir -p "$harness/src"
cat > "$harness/Cargo.toml" <<TOML
[package]
name = "parse-instructions"
version = "0.0.0"
edition = "2021"
publish = false
[workspace]
[dependencies]
clerk-webhooks = { path = "$root", default-features = false }
serde_json = "1"
TOML
cat > "$harness/src/main.rs" <<'RUST'
use std::hint::black_box;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let body = std::fs::read(&args[2]).unwrap();
    let times: usize = args[3].parse().unwrap();
    for _ in 0..times {
        match args[1].as_str() {
            "value" => drop(black_box(serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap())),
            "event" => drop(black_box(clerk_webhooks::parse_event(black_box(&body)).unwrap())),
            other => panic!("unknown mode {other}"),
        }
    }
}
RUST
cp "$root/Cargo.lock" "$harness/"
CARGO_TARGET_DIR="$root/target/parse-instructions" cargo build --release --quiet --manifest-path "$harness/Cargo.toml"
bin="$root/target/parse-instructions/release/parse-instructions"

instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$3" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_parse() { echo $(( ($(instructions "$1" "$2" 41) - $(instructions "$1" "$2" 1)) / 40 )); }

if [ $# -eq 0 ]; then
    set -- $(cd "$root/src/testing/samples" && ls *.json | sed 's/\.json$//')
fi
printf "%-36s %10s %12s %6s\n" fixture Value parse_event ratio
for name in "$@"; do
    file="$root/src/testing/samples/$name.json"
    value=$(per_parse value "$file")
    event=$(per_parse event "$file")
    printf "%-36s %10d %12d %6.3f\n" "$name" "$value" "$event" "$(echo "$event / $value" | bc -l)"
done | tee "$harness/table"
awk '{print $4}' "$harness/table" | sort -n | awk '{r[NR]=$1} END {printf "median ratio %.3f, worst %.3f (%d bodies)\n", (NR%2 ? r[(NR+1)/2] : (r[NR/2]+r[NR/2+1])/2), r[NR], NR}'

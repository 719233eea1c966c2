#!/usr/bin/env bash
# What the one-pass reading (src/reading/: its own JSON reader) buys, measured in one run: the
# release load_server built as usual and built with `--cfg clerk_webhooks_two_pass` (every body read
# by the serde_json reference alone), each driven by wrk on its layer route and on its unverified
# `serde_json::Value` route, in alternating rounds; prints each round and the medians.
# Usage: scripts/reader_ab.sh [rounds, default 5] [seconds per run, default 5] [connections, default 64]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
ROUNDS="${1:-5}"
DURATION="${2:-5}"
CONNECTIONS="${3:-64}"
WORK="$(mktemp -d)"
trap 'kill ${PIDS:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
require wrk

cargo build --release -p clerk-webhooks-comparisons --example load_server -q
RUSTFLAGS="--cfg clerk_webhooks_two_pass" CARGO_TARGET_DIR=target/two-pass \
    cargo build --release -p clerk-webhooks-comparisons --example load_server -q
PIDS=""
start() { # name binary port
    CLERK_WEBHOOK_SIGNING_SECRET="$SECRET" PORT="$3" "$2" >"$WORK/$1.log" 2>&1 &
    PIDS="$PIDS $!"
    wait_for_line "$WORK/$1.log" listening
}
start one-pass target/release/examples/load_server 39881
start two-pass target/two-pass/release/examples/load_server 39882

sample=src/testing/samples/user.created.json
python3 scripts/wrk_request.py "$SECRET" "$sample" "$WORK/valid" 200 >/dev/null
rate() { # port path
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/valid.lua" "http://127.0.0.1:$1$2" |
        awk '/Requests\/sec/ {print $2}'
}
for round in $(seq 1 "$ROUNDS"); do
    a=$(rate 39881 /webhooks/clerk); b=$(rate 39881 /unverified)
    c=$(rate 39882 /webhooks/clerk); d=$(rate 39882 /unverified)
    echo "round $round: one-pass layer $a, its Value route $b; two-pass layer $c, its Value route $d"
    echo "$a $b $c $d" >>"$WORK/rates"
done
python3 - "$WORK/rates" <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1])]
one, one_value, two, two_value = (statistics.median(column) for column in zip(*rows))
print(f"medians (requests/s): one-pass layer {one:.0f}, two-pass layer {two:.0f}, "
      f"Value route {one_value:.0f} / {two_value:.0f}")
print(f"layer / unverified Value route: one-pass {one / one_value:.2f}x, two-pass {two / two_value:.2f}x")
print(f"one-pass / two-pass layer: {one / two:.2f}x")
PY
echo "the reader: $(cat src/reading/json_reader.rs src/reading/single_pass.rs src/reading/deleted_form.rs | wc -l) lines (json_reader.rs, single_pass.rs, deleted_form.rs)"

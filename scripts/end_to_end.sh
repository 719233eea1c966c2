#!/usr/bin/env bash
# End to end on loopback: the layer's route (verify + typed `ClerkEvent`) against a route that
# verifies nothing and parses the same body into `serde_json::Value`, both in the release
# `load_server` (comparisons/examples), driven by wrk with a signed `user.created` as Clerk sends it
# (compact, keys sorted: `type` after `data`).
#
# Rounds are interleaved (the route measured first alternates) so that drift on a shared machine
# falls on both; each round gives the ratio layer/unverified of requests per second, and the
# result is the median of those ratios. Every answer must be 200, or the script fails.
#
# usage: bash scripts/end_to_end.sh [rounds, default 7] [seconds per run, default 5] [connections, default 32]
# LOAD_SERVER=path runs that build of load_server instead of building this checkout's (to compare
# two versions of the crate).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
ROUNDS="${1:-7}"
DURATION="${2:-5}"
CONNECTIONS="${3:-32}"
PORT="${PORT:-39874}"
WORK="$(mktemp -d)"
trap 'kill "${SERVER_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

require wrk
# Refusals would be logged at warn; accepted deliveries are not logged at this level.
RUST_LOG=warn start_load_server
size=$(python3 scripts/wrk_request.py "$SECRET" src/testing/samples/user.created.json "$WORK/delivery" 200 --compact)
URL="http://127.0.0.1:$PORT"
echo "body: user.created, $size bytes compact; wrk 1 thread, $CONNECTIONS connections, ${DURATION} s per run, $ROUNDS rounds"

# Requests per second of one run on PATH; fails unless every answer was 200.
run() {
    local out
    out=$(wrk -t1 -c"$CONNECTIONS" -d"$2s" -s "$WORK/delivery.lua" "$URL$1")
    if ! grep -q "unexpected statuses: 0" <<<"$out" || ! grep -q "timeout 0" <<<"$out"; then
        echo "$1: not every answer was 200:" >&2
        echo "$out" >&2
        return 1
    fi
    sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out"
}

run /webhooks/clerk 2 >/dev/null # warm-up: connections, allocator, caches
run /unverified 2 >/dev/null
printf "%-6s %12s %12s %7s\n" round layer unverified ratio
for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 )); then
        layer=$(run /webhooks/clerk "$DURATION")
        plain=$(run /unverified "$DURATION")
    else
        plain=$(run /unverified "$DURATION")
        layer=$(run /webhooks/clerk "$DURATION")
    fi
    printf "%-6s %12.0f %12.0f %7.3f\n" "$round" "$layer" "$plain" "$(echo "$layer / $plain" | bc -l)"
done | tee "$WORK/rounds"
awk '{print $4}' "$WORK/rounds" | sort -n | awk '
    {r[NR] = $1}
    END {printf "median ratio layer/unverified %.3f (min %.3f, max %.3f, %d rounds)\n",
        (NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2), r[1], r[NR], NR}'

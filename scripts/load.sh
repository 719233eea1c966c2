#!/usr/bin/env bash
# Load test on loopback: starts comparisons/examples/load_server (release build) and drives it with wrk:
#   1. valid signed user.created deliveries          -> every answer must be 200
#   2. the same bodies on the unverified baseline    -> the throughput to compare with
#   3. deliveries with a bad signature               -> every answer must be 400
#   4. oversized bodies (2 MiB; the default limit is 256 KiB) -> every answer must be 413
#   5. valid deliveries while 200 clients trickle bodies one byte at a time
# and reports throughput, unexpected statuses and the server's peak memory (VmHWM).
# Usage: scripts/load.sh [seconds per run, default 10] [connections, default 64]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
DURATION="${1:-10}"
CONNECTIONS="${2:-64}"
PORT="${PORT:-39871}"
WORK="$(mktemp -d)"
trap 'kill "${SERVER_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

require wrk
start_load_server

# Signed requests as wrk Lua scripts (the signature is valid for 5 minutes, longer than the runs).
sample=src/testing/samples/user.created.json
python3 scripts/wrk_request.py "$SECRET" "$sample" "$WORK/valid" 200 >/dev/null
python3 scripts/wrk_request.py "$SECRET" "$sample" "$WORK/invalid" 400 --signed-id msg_other >/dev/null
python3 -c 'import sys; sys.stdout.buffer.write(b"{\"type\":\"user.created\",\"data\":{\"id\":\"u\",\"bio\":\"" + b"a" * (2 * 1024 * 1024) + b"\"}}")' >"$WORK/big.json"
python3 scripts/wrk_request.py "$SECRET" "$WORK/big.json" "$WORK/oversized" 413 >/dev/null

URL="http://127.0.0.1:$PORT"
run() { # name path script
    echo "== $1"
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/$3.lua" "$URL$2" | grep -E "Requests/sec|Latency|status|unexpected|errors"
}
run "valid deliveries (layer + typed event)" /webhooks/clerk valid
run "baseline: same bodies, no verification, parsed to Value" /unverified valid
run "bad signatures" /webhooks/clerk invalid
run "oversized bodies (2 MiB, default limit 256 KiB)" /webhooks/clerk oversized

echo "== valid deliveries while 200 clients trickle bodies one byte at a time"
python3 - "$PORT" "$DURATION" >"$WORK/slow.txt" <<'PY' &
import socket, sys, time
port, duration = int(sys.argv[1]), float(sys.argv[2])
sockets = []
for _ in range(200):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /webhooks/clerk HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
              b"svix-id: msg_slow\r\nsvix-timestamp: %d\r\nsvix-signature: v1,AAAA\r\ncontent-length: 100000\r\n\r\n" % int(time.time()))
    sockets.append(s)
end = time.time() + duration
while time.time() < end:
    for s in sockets:
        try: s.send(b"a")
        except OSError: pass
    time.sleep(0.5)
answers = {}
for s in sockets:
    s.settimeout(10)
    try: status = s.recv(64).split(b" ")[1].decode()
    except Exception: status = "closed"
    answers[status] = answers.get(status, 0) + 1
print("  slow clients' answers:", answers)
PY
SLOW_PID=$!
run "valid deliveries under slow-body pressure" /webhooks/clerk valid
wait "$SLOW_PID" || true
cat "$WORK/slow.txt"

echo "== server peak memory"
grep -E "VmHWM|VmRSS" "/proc/$SERVER_PID/status" | sed 's/^/  /'

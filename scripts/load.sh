#!/usr/bin/env bash
# Load test on loopback: starts comparisons/examples/load_server (release build) and drives it with wrk:
#   1. valid signed user.created deliveries          -> every answer must be 200
#   2. the same bodies on the unverified baseline    -> the throughput to compare with
#   3. deliveries with a bad signature               -> every answer must be 400
#   4. oversized bodies (2 MiB, limit 1 MiB)         -> every answer must be 413
#   5. valid deliveries while 200 clients trickle bodies one byte at a time
# and reports throughput, unexpected statuses and the server's peak memory (VmHWM).
# Usage: scripts/load.sh [seconds per run, default 10] [connections, default 64]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
DURATION="${1:-10}"
CONNECTIONS="${2:-64}"
SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PORT="${PORT:-39871}"
WORK="$(mktemp -d)"
trap 'kill "${SERVER_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
cargo build --release -p clerk-webhooks-comparisons --example load_server -q
CLERK_WEBHOOK_SIGNING_SECRET="$SECRET" PORT="$PORT" target/release/examples/load_server >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for_line "$WORK/server.log" listening

# Signed requests as wrk Lua scripts (the signature is valid for 5 minutes, longer than the runs).
python3 - "$SECRET" "$WORK" <<'PY'
import base64, hashlib, hmac, json, sys, time
secret, work = sys.argv[1], sys.argv[2]
key = base64.b64decode(secret.removeprefix("whsec_"))
body = open("src/testing/samples/user.created.json", "rb").read()
now = str(int(time.time()))
def sign(msg_id, payload):
    mac = hmac.new(key, f"{msg_id}.{now}.".encode() + payload, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()
def lua(name, payload, signature, expected):
    # The body is read from a file: it is bytes (UTF-8, or 2 MiB), not a Lua string literal.
    open(f"{work}/{name}.body", "wb").write(payload)
    # Counts statuses per thread; done() prints them merged, and the unexpected ones.
    open(f"{work}/{name}.lua", "w").write(f"""
wrk.method = "POST"
local file = io.open({json.dumps(f"{work}/{name}.body")}, "rb")
wrk.body = file:read("*all")
file:close()
wrk.headers["content-type"] = "application/json"
wrk.headers["svix-id"] = "msg_load"
wrk.headers["svix-timestamp"] = "{now}"
wrk.headers["svix-signature"] = "{signature}"
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init() counts = {{}} end
function response(status) counts[status] = (counts[status] or 0) + 1 end
function done(summary)
  local merged, unexpected = {{}}, 0
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do merged[status] = (merged[status] or 0) + n end
  end
  for status, n in pairs(merged) do
    io.write(string.format("  status %d: %d\\n", status, n))
    if status ~= {expected} then unexpected = unexpected + n end
  end
  io.write(string.format("  unexpected statuses: %d\\n", unexpected))
  io.write(string.format("  socket errors: connect %d, read %d, write %d, timeout %d\\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
""")
lua("valid", body, sign("msg_load", body), 200)
lua("invalid", body, sign("msg_other", body), 400)
big = b'{"type":"user.created","data":{"id":"u","bio":"' + b"a" * (2 * 1024 * 1024) + b'"}}'
lua("oversized", big, sign("msg_load", big), 413)
PY

URL="http://127.0.0.1:$PORT"
run() { # name path script
    echo "== $1"
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/$3.lua" "$URL$2" | grep -E "Requests/sec|Latency|status|unexpected|errors"
}
run "valid deliveries (layer + typed event)" /webhooks/clerk valid
run "baseline: same bodies, no verification, parsed to Value" /unverified valid
run "bad signatures" /webhooks/clerk invalid
run "oversized bodies (2 MiB, limit 1 MiB)" /webhooks/clerk oversized

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

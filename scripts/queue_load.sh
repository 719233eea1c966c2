#!/usr/bin/env bash
# Answer fast, process later, measured on loopback: wrk drives the release `load_server` example
# (the comparisons member's feature `queue`) with signed user.created deliveries, each with its own svix-id, on
#   /queued: verified, stored in a real redis-server for a worker (DeliveryQueue), answered at once;
#   /inline: verified, then the slow work (simulated: 20 ms) before the answer;
# and reports throughput and latency percentiles. Needs wrk and redis-server.
# Usage: scripts/queue_load.sh [seconds per run, default 10] [connections, default 64]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
DURATION="${1:-10}"
CONNECTIONS="${2:-64}"
PORT="${PORT:-39872}"
REDIS_PORT="${REDIS_PORT:-39873}"
WORK="$(mktemp -d)"
trap 'kill "${SERVER_PID:-}" "${REDIS_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

require wrk redis-server
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync everysec --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
wait_for_line "$WORK/redis.log" "Ready to accept"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/" start_load_server --features queue

# A pool of distinct signed deliveries (the signatures stay valid for 5 minutes, longer than the
# runs); wrk's request() walks through it, so no two requests of a run share a svix-id.
python3 - "$SECRET" "$WORK" <<'PY'
import base64, hashlib, hmac, json, sys, time
secret, work = sys.argv[1], sys.argv[2]
key = base64.b64decode(secret.removeprefix("whsec_"))
body = open("src/testing/samples/user.created.json", "rb").read()
now = str(int(time.time()))
with open(f"{work}/pool.txt", "w") as pool:
    for n in range(200000):
        msg_id = f"msg_load_{n}"
        mac = hmac.new(key, f"{msg_id}.{now}.".encode() + body, hashlib.sha256).digest()
        pool.write(f"{msg_id} v1,{base64.b64encode(mac).decode()}\n")
open(f"{work}/body", "wb").write(body)
open(f"{work}/queue.lua", "w").write(f"""
pool = {{}}
for line in io.lines({json.dumps(f"{work}/pool.txt")}) do
  local id, signature = line:match("(%S+) (%S+)")
  table.insert(pool, {{id, signature}})
end
local file = io.open({json.dumps(f"{work}/body")}, "rb")
local body = file:read("*all")
file:close()
local threads = {{}}
function setup(thread) thread:set("offset", #threads); table.insert(threads, thread) end
function init() n = offset; counts = {{}} end
function request()
  n = n + 2
  local entry = pool[(n % #pool) + 1]
  return wrk.format("POST", nil, {{["content-type"] = "application/json",
    ["svix-id"] = entry[1], ["svix-timestamp"] = "{now}", ["svix-signature"] = entry[2]}}, body)
end
function response(status) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency)
  local merged = {{}}
  for _, t in ipairs(threads) do
    for status, c in pairs(t:get("counts")) do merged[status] = (merged[status] or 0) + c end
  end
  for status, c in pairs(merged) do io.write(string.format("  status %d: %d\\n", status, c)) end
  io.write(string.format("  latency p50 %.2f ms, p99 %.2f ms\\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
""")
PY

URL="http://127.0.0.1:$PORT"
for route in queued inline; do
    echo "== /$route"
    wrk -t"$(( CONNECTIONS < 2 ? 1 : 2 ))" -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/queue.lua" "$URL/$route" | grep -E "Requests/sec|status|latency"
done

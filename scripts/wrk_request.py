#!/usr/bin/env python3
"""Writes a wrk Lua script that POSTs one signed delivery, for the load scripts.

usage: wrk_request.py SECRET BODY_FILE OUT EXPECTED_STATUS [--signed-id ID] [--compact]

OUT.body gets the body (read by the Lua script from the file: it is bytes, possibly not a valid
Lua string literal) and OUT.lua the script. The request carries `svix-id: msg_load` and a
signature over SIGNED_ID (default msg_load, so a different id makes a forged request), valid for 5
minutes from now. The script counts statuses per thread; wrk's done() prints them merged and how
many differ from EXPECTED_STATUS. --compact re-serializes the body as Clerk sends it: no
whitespace, keys sorted (so `type` comes last, after `data`).
"""
import argparse, base64, hashlib, hmac, json, time

parser = argparse.ArgumentParser()
parser.add_argument("secret")
parser.add_argument("body_file")
parser.add_argument("out")
parser.add_argument("expected", type=int)
parser.add_argument("--signed-id", default="msg_load")
parser.add_argument("--compact", action="store_true")
args = parser.parse_args()

body = open(args.body_file, "rb").read()
if args.compact:
    body = json.dumps(json.loads(body), separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
key = base64.b64decode(args.secret.removeprefix("whsec_"))
now = str(int(time.time()))
mac = hmac.new(key, f"{args.signed_id}.{now}.".encode() + body, hashlib.sha256).digest()
signature = "v1," + base64.b64encode(mac).decode()
open(f"{args.out}.body", "wb").write(body)
open(f"{args.out}.lua", "w").write(f"""
wrk.method = "POST"
local file = io.open({json.dumps(f"{args.out}.body")}, "rb")
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
    if status ~= {args.expected} then unexpected = unexpected + n end
  end
  io.write(string.format("  unexpected statuses: %d\\n", unexpected))
  io.write(string.format("  socket errors: connect %d, read %d, write %d, timeout %d\\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
""")
print(len(body))

local id, lease_id, kind = ARGV[4], ARGV[5], ARGV[6]
local meta = KEYS[4] .. ":" .. id
if redis.call("hget", meta, "lease") ~= lease_id then
    if redis.call("hget", meta, "finished_by") == lease_id then
        return 1
    end
    return 0
end
-- Still ours, or given back (this worker missed its heartbeats) but not taken again: this run
-- finished, so it decides.
if redis.call("srem", mine, id) == 0 and redis.call("lrem", KEYS[3], 0, id) == 0 then
    return 0
end

local status = "Failed"
if kind == "done" then
    redis.call("sadd", KEYS[6], id)
    status = "Done"
elseif kind == "retry" then
    redis.call("zadd", KEYS[8], now + tonumber(ARGV[8]), id)
elseif kind == "released" then
    redis.call("rpush", KEYS[3], id)
    signal()
    status = "Pending"
else
    redis.call("sadd", KEYS[7], id)
    if kind == "killed" then
        status = "Killed"
    end
end
redis.call("hset", meta, "status", status, "result", ARGV[7], "done_at", math.floor(now),
    "finished_by", lease_id)
redis.call("hdel", meta, "lease", "locked_at", "locked_by")
return 1

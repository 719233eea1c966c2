local ttl = tonumber(ARGV[1]) or 0
local emit_events = ARGV[2] == "1"

local function latest(key)
    return redis.call("hget", KEYS[8], key) or redis.call("get", KEYS[7] .. ":" .. key)
end

local function claim(key, id)
    redis.call("hset", KEYS[8], key, id)
    local idempotency = KEYS[7] .. ":" .. key
    redis.call("set", idempotency, id)
    if ttl > 0 then
        redis.call("expire", idempotency, ttl)
    end
end

-- Another key of the delivery (a secret rotation) finds job `id` too, unless it names a job of
-- its own; the job's meta lists such keys, for the sweep.
local function also_key(k, id)
    if redis.call("hexists", KEYS[8], k) == 0 then
        redis.call("hset", KEYS[8], k, id)
        local meta = KEYS[2] .. ":" .. id
        local others = redis.call("hget", meta, "other_keys")
        redis.call("hset", meta, "other_keys", (others and (others .. "\n") or "") .. k)
    end
end

local function push(id)
    redis.call("rpush", KEYS[3], id)
    redis.call("del", KEYS[4])
    redis.call("lpush", KEYS[4], 1)
    if emit_events then
        redis.call("publish", "tasks:" .. KEYS[3] .. ":available", id)
    end
end

local function requeue(id, key)
    local meta = KEYS[2] .. ":" .. id
    redis.call("srem", KEYS[5], id)
    redis.call("hset", meta, "status", "Pending", "attempts", 0)
    if redis.call("hexists", meta, "max_attempts") == 0 then
        redis.call("hset", meta, "max_attempts", 25)
    end
    redis.call("hdel", meta, "result", "done_at", "locked_at", "locked_by", "finished_by", "lease")
    if key and #key > 0 then
        claim(key, id)
    end
    push(id)
end

if not registered() then
    return {"unregistered", "", "", 0, ""}
end
local due = redis.call("zrangebyscore", KEYS[7], "-inf", now, "LIMIT", 0, 100)
if #due > 0 then
    redis.call("rpush", KEYS[3], unpack(due))
    redis.call("zrem", KEYS[7], unpack(due))
end
for _ = 1, 100 do
    local id = redis.call("lpop", KEYS[3])
    if not id then
        return {"empty", "", "", 0, ""}
    end
    local data = redis.call("hget", KEYS[6], id)
    local finished = redis.call("sismember", KEYS[8], id) == 1
        or redis.call("sismember", KEYS[9], id) == 1
    if data and not finished then
        local meta = KEYS[4] .. ":" .. id
        local attempt = redis.call("hincrby", meta, "attempts", 1)
        local lease_id = name .. "#" .. redis.call("hincrby", meta, "takes", 1)
        redis.call("hset", meta, "status", "Running", "locked_by", name,
            "locked_at", math.floor(now), "lease", lease_id)
        redis.call("sadd", mine, id)
        return {"job", id, data, attempt, lease_id}
    end
end
return {"skipped", "", "", 0, ""}

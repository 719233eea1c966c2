local id = ARGV[3]
if redis.call("sismember", KEYS[5], id) == 0 then
    return "not_dead"
end
if redis.call("hexists", KEYS[1], id) == 0 then
    return "no_data"
end
local key = redis.call("hget", KEYS[2] .. ":" .. id, "idempotency_key")
if key and #key > 0 then
    local current = latest(key)
    if not current then
        return "unrecorded"
    end
    if current ~= id then
        return "superseded"
    end
end
requeue(id, key)
return "requeued"

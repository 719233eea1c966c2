local key, payload = ARGV[3], ARGV[5]
local id = latest(key)
for other = 6, #ARGV do
    if id then
        break
    end
    id = latest(ARGV[other])
end
if not id then
    id = ARGV[4]
    redis.call("hset", KEYS[1], id, payload)
    redis.call("hset", KEYS[2] .. ":" .. id, "attempts", 0, "max_attempts", 25, "status", "Pending",
        "idempotency_key", key)
    claim(key, id)
    for other = 6, #ARGV do
        also_key(ARGV[other], id)
    end
    push(id)
    return {"queued", id}
end
-- Found under one key: every key finds it from now on, so it is still known once the secret
-- whose key it was found under is removed (unless it was swept: its idempotency key answers).
if redis.call("exists", KEYS[2] .. ":" .. id) == 1 then
    also_key(key, id)
    for other = 6, #ARGV do
        also_key(ARGV[other], id)
    end
end
if redis.call("sismember", KEYS[5], id) == 0 then
    if redis.call("sismember", KEYS[6], id) == 1 then
        return {"done", id}
    end
    if redis.call("exists", KEYS[2] .. ":" .. id) == 0 and redis.call("hexists", KEYS[1], id) == 0 then
        return {"done", id}
    end
    return {"already_queued", id}
end
if redis.call("hexists", KEYS[1], id) == 0 then
    redis.call("hset", KEYS[1], id, payload)
end
requeue(id, key)
return {"requeued", id}

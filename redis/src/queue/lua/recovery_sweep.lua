-- KEYS: 1 done set, 2 data hash, 3 meta prefix, 4 deliveries hash
-- ARGV: 1 retention (seconds), 2.. task ids
-- Redis' clock, the one workers stamp `done_at` with.
if redis.replicate_commands then redis.replicate_commands() end
local cutoff = tonumber(redis.call("TIME")[1]) - tonumber(ARGV[1])
local swept = 0
for i = 2, #ARGV do
    local id = ARGV[i]
    local meta_key = KEYS[3] .. ":" .. id
    if redis.call("sismember", KEYS[1], id) == 1 then
        local status = redis.call("hget", meta_key, "status")
        local done_at = tonumber(redis.call("hget", meta_key, "done_at"))
        if status == "Done" and done_at and done_at <= cutoff then
            local key = redis.call("hget", meta_key, "idempotency_key")
            if key and redis.call("hget", KEYS[4], key) == id then
                redis.call("hdel", KEYS[4], key)
            end
            local others = redis.call("hget", meta_key, "other_keys")
            if others then
                for other in string.gmatch(others, "[^\n]+") do
                    if redis.call("hget", KEYS[4], other) == id then
                        redis.call("hdel", KEYS[4], other)
                    end
                end
            end
            redis.call("hdel", KEYS[2], id)
            redis.call("del", meta_key)
            redis.call("srem", KEYS[1], id)
            swept = swept + 1
        end
    end
end
return swept

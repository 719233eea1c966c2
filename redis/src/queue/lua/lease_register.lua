local seen = redis.call("zscore", KEYS[1], name)
local owner = redis.call("hget", owners, name)
if seen and owner and owner ~= token and now - tonumber(seen) < lease then
    return 0
end
local running = ids_from(4)
local given = give_back_all(mine, running, false)
-- Ours, given back by whoever took this worker over, but not taken by anyone since.
for id in pairs(running) do
    if redis.call("lrem", KEYS[3], 0, id) > 0 then
        redis.call("sadd", mine, id)
        redis.call("hset", KEYS[4] .. ":" .. id, "status", "Running", "locked_by", name,
            "locked_at", math.floor(now))
    end
end
if given > 0 then
    signal()
end
redis.call("zadd", KEYS[1], now, name)
redis.call("hset", owners, name, token)
if not (seen and owner == token) then
    redis.call("hset", alive, name, now)
end
return 1

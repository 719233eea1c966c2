if not registered() then
    return {"unregistered", 0, 0}
end
-- A beat later than a third of the lease (a freeze, an outage) starts the steady run again.
local previous = tonumber(redis.call("zscore", KEYS[1], name))
local since = tonumber(redis.call("hget", alive, name) or now)
if now - previous > lease / 3 then
    since = now
end
redis.call("hset", alive, name, since)
redis.call("zadd", KEYS[1], now, name)

local strays = give_back_all(mine, ids_from(4), true)

local reclaimed = 0
if now - since >= lease then
    for _, worker in ipairs(redis.call("zrangebyscore", KEYS[1], "-inf", now - lease)) do
        if worker ~= name then
            reclaimed = reclaimed + give_back_all(KEYS[2] .. ":" .. worker, nil, false)
            redis.call("zrem", KEYS[1], worker)
            redis.call("hdel", owners, worker)
            redis.call("hdel", alive, worker)
        end
    end
end
if reclaimed + strays > 0 then
    signal()
end
return {"alive", reclaimed, strays}

if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call("TIME")
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local name, token, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
local owners, alive = KEYS[1] .. ":owners", KEYS[1] .. ":alive"
local mine = KEYS[2] .. ":" .. name

local function signal()
    redis.call("del", KEYS[5])
    redis.call("lpush", KEYS[5], 1)
end

-- A held job back on the active list, as apalis-redis' `release_leases.lua` does; `unrun`: it
-- never started, so its attempt does not count.
local function give_back(set, id, unrun)
    if redis.call("srem", set, id) == 1 then
        redis.call("rpush", KEYS[3], id)
        local meta = KEYS[4] .. ":" .. id
        redis.call("hset", meta, "status", "Pending")
        redis.call("hdel", meta, "locked_at", "locked_by")
        if unrun and tonumber(redis.call("hget", meta, "attempts") or "0") > 0 then
            redis.call("hincrby", meta, "attempts", -1)
        end
        return 1
    end
    return 0
end

-- Every job of `set` but those in `keep` (a table of ids).
local function give_back_all(set, keep, unrun)
    local count = 0
    for _, id in ipairs(redis.call("smembers", set)) do
        if not (keep and keep[id]) then
            count = count + give_back(set, id, unrun)
        end
    end
    return count
end

-- ARGV[first..] as a set.
local function ids_from(first)
    local ids = {}
    for i = first, #ARGV do
        ids[ARGV[i]] = true
    end
    return ids
end

local function registered()
    return redis.call("zscore", KEYS[1], name) and redis.call("hget", owners, name) == token
end

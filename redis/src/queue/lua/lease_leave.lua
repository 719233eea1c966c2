local given = 0
if redis.call("hget", owners, name) == token then
    given = give_back_all(mine, nil, false)
    redis.call("zrem", KEYS[1], name)
    redis.call("hdel", owners, name)
    redis.call("hdel", alive, name)
end
if given > 0 then
    signal()
end
return given

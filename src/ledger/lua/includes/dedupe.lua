--[[
  Remembering ids (events, stock events) for a while, so a replay within `ttlMs` is stored once.
  Ids live in a sorted set scored by the ledger time they were first seen; each write removes a
  bounded number of ids older than `ttlMs`, so the set holds about one window of ids and a write
  never does unbounded work. Earlier versions kept ids in a hash that never expired: it is still
  read, and the first write after an upgrade gives it the TTL as a whole (`PEXPIRE … NX`).
  Requires core.
]]
local DEDUPE_TRIM_PER_WRITE = 100

-- True when `id` was first seen less than `ttlMs` ago.
local function seenWithin(seen, legacy, id, now, ttlMs)
  local at = tonumber(redis.call('ZSCORE', seen, id) or redis.call('HGET', legacy, id))
  return at ~= nil and at > now - ttlMs
end

local function remember(seen, legacy, id, now, ttlMs)
  redis.call('ZADD', seen, now, id)
  local expired = redis.call('ZRANGEBYSCORE', seen, '-inf', now - ttlMs, 'LIMIT', 0, DEDUPE_TRIM_PER_WRITE)
  if #expired > 0 then redis.call('ZREM', seen, unpack(expired)) end
  redis.call('PEXPIRE', legacy, ttlMs, 'NX')
end

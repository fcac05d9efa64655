--[[
  Move a feed's watermark forward: the latest event time seen from a source. It never moves
  back, so a stale read of it errs toward holding a send.
  Input:  KEYS[1] hash source → watermark (epoch ms)   ARGV[1] JSON { skew, source, at }
  Output: JSON { watermark, now }
]]
--@include core

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req.skew)
local current = tonumber(redis.call('HGET', KEYS[1], req.source) or '0')
if req.at > current then
  redis.call('HSET', KEYS[1], req.source, req.at)
  current = req.at
end
return reply({ watermark = current, now = now })

--[[
  Move a feed's watermark forward: the latest event time seen from a source. It never moves
  back, so a stale read of it errs toward holding a send.
  Input:  KEYS[1] hash source → watermark (epoch ms)   ARGV[1] JSON { skew, maxAheadMs, source, at }
  Output: JSON { watermark, now }
        | { result: "error", code: "in_the_future", message, details }   (nothing written)
  A time more than `maxAheadMs` after the ledger clock is refused: the watermark never moves
  back, so one such time would hold it ahead for good.
]]
--@include core

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
if req.at > now + req.maxAheadMs then
  return fail('in_the_future', 'the watermark time lies more than ' .. req.maxAheadMs ..
    ' ms after the ledger clock', { at = req.at, maxAheadMs = req.maxAheadMs })
end
local current = tonumber(redis.call('HGET', KEYS[1], req.source) or '0')
if req.at > current then
  redis.call('HSET', KEYS[1], req.source, req.at)
  current = req.at
end
return reply({ watermark = current, now = now })

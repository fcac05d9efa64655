--[[
  Record a stock event once and keep the SKU's latest stock state (an older event never
  overrides a newer one).
  Input:  KEYS[1] hash eventId → ledger time (stock events recorded by earlier versions)
          KEYS[2] hash sku → stock JSON
          KEYS[3] sorted set eventId → ledger time (stock events recorded; see includes/dedupe.lua)
          ARGV[1] JSON { skew, maxAheadMs, dedupeMs, event: { eventId, sku, inStock, quantity?, at, source } }
  Output: JSON { result: "stored" | "duplicate", changed, now }
        | { result: "error", code: "in_the_future", message, details }   (nothing written)
]]
--@include core
--@include dedupe

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local event = req.event
if event.at > now + req.maxAheadMs then
  return fail('in_the_future', 'the event is dated more than ' .. req.maxAheadMs ..
    ' ms after the ledger clock', { at = event.at, maxAheadMs = req.maxAheadMs })
end
if seenWithin(KEYS[3], KEYS[1], event.eventId, now, req.dedupeMs) then
  return reply({ result = 'duplicate', changed = false, now = now })
end
remember(KEYS[3], KEYS[1], event.eventId, now, req.dedupeMs)
local current = decodeOrNil(redis.call('HGET', KEYS[2], event.sku))
if current ~= nil and current.at > event.at then
  return reply({ result = 'stored', changed = false, now = now })
end
redis.call('HSET', KEYS[2], event.sku, cjson.encode({ inStock = event.inStock, quantity = event.quantity,
  at = event.at, source = event.source, recordedAt = now }))
return reply({ result = 'stored', changed = current == nil or current.inStock ~= event.inStock, now = now })

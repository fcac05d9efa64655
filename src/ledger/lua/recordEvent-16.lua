--[[
  Record a customer's first-party event once, and react to it in the same step:
  a purchase or a return of a SKU ends the customer's open offers for that SKU (no abandoned-cart
  offer after the purchase, no offer for a product just returned); consent sets consent for a
  channel; cart and view are kept as signals.
  Input:  KEYS[1..14] the customer-scope keys (see includes/customer.lua)
          KEYS[15] partition hash eventId → ledger time (events already recorded)
          KEYS[16] customer stream of signals
          ARGV[1] JSON { skew, event: { eventId, type, customerId, at, source, sku?, category?, channel?,
                  granted?, orderId?, amount? } }
  Output: JSON { result: "stored" | "duplicate", cancelled: [offerId], now }
]]
--@include core
--@include customer

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req.skew)
local event = req.event
local SEEN, SIGNALS = KEYS[15], KEYS[16]

if redis.call('HEXISTS', SEEN, event.eventId) == 1 then
  return reply({ result = 'duplicate', cancelled = {}, now = now })
end
settle(now)
redis.call('HSET', SEEN, event.eventId, now)
local fields = { 'XADD', SIGNALS, 'MAXLEN', '~', '1000', '*', 'type', event.type, 'at', tostring(event.at),
  'source', event.source, 'event', event.eventId }
if event.sku then fields[#fields + 1] = 'sku'; fields[#fields + 1] = event.sku end
if event.category then fields[#fields + 1] = 'category'; fields[#fields + 1] = event.category end
redis.call(unpack(fields))

local actor = 'event:' .. event.source
local cancelled = {}
if (event.type == 'purchase' or event.type == 'return') and event.sku then
  local reason = event.type == 'purchase' and 'purchased' or 'returned'
  for _, offer in ipairs(openOffers()) do
    if offer.sku == event.sku then
      endOffer(offer, 'cancelled', reason, now, actor, { event = event.eventId, sku = event.sku })
      cancelled[#cancelled + 1] = offer.offerId
    end
  end
  if #cancelled > 0 then settle(now) end
elseif event.type == 'consent' then
  local current = decodeOrNil(redis.call('HGET', C.profile, 'consent.' .. event.channel))
  -- An older event never overrides a newer decision.
  if current == nil or (current.granted ~= event.granted and (current.eventAt or 0) <= event.at) then
    redis.call('HSET', C.profile, 'consent.' .. event.channel,
      cjson.encode({ granted = event.granted, at = now, source = event.source, eventAt = event.at }))
    if redis.call('HEXISTS', C.profile, 'createdAt') == 0 then redis.call('HSET', C.profile, 'createdAt', now) end
    record(now, { actor = actor, action = event.granted and 'consent_granted' or 'consent_revoked',
      channel = event.channel, reason = event.source })
  end
end
return reply({ result = 'stored', cancelled = cancelled, now = now })

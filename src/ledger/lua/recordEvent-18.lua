--[[
  Record a customer's first-party event once, and react to it in the same step:
  a purchase or a return of a SKU ends the customer's open offers for that SKU (no abandoned-cart
  offer after the purchase, no offer for a product just returned) and is marked for the
  guardrails (no new offer for it within the block windows; a purchase makes the customer
  `returning`); consent sets consent for a
  channel; cart and view are kept as signals.
  Input:  KEYS[1..15] the customer-scope keys (see includes/customer.lua)
          KEYS[16] partition hash eventId → ledger time (events recorded by earlier versions)
          KEYS[17] customer stream of signals
          KEYS[18] partition sorted set eventId → ledger time (events recorded; see includes/dedupe.lua)
          ARGV[1] JSON { skew, historyMs, maxAheadMs, dedupeMs, event: { eventId, type, customerId, at, source, sku?,
                  category?, channel?, granted?, orderId?, amount? } }
  Output: JSON { result: "stored" | "duplicate", cancelled: [offerId], consent?, now }
        | { result: "error", code: "in_the_future", message, details }   (nothing written)
  An event dated more than `maxAheadMs` after the ledger clock is refused: stored, it would
  outrank every real decision (consent) for as long as its date lies ahead.
  `consent`, for a consent event: "applied", "unchanged" or why it was not applied
  ("older_than_last_change": a newer decision stands; see includes/consent.lua).
]]
--@include core
--@include customer
--@include consent
--@include guardrails
--@include dedupe

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local event = req.event
local LEGACY_SEEN, SIGNALS, SEEN = KEYS[16], KEYS[17], KEYS[18]

if event.at > now + req.maxAheadMs then
  return fail('in_the_future', 'the event is dated more than ' .. req.maxAheadMs ..
    ' ms after the ledger clock', { at = event.at, maxAheadMs = req.maxAheadMs })
end

if seenWithin(SEEN, LEGACY_SEEN, event.eventId, now, req.dedupeMs) then
  return reply({ result = 'duplicate', cancelled = {}, now = now })
end
settle(now)
remember(SEEN, LEGACY_SEEN, event.eventId, now, req.dedupeMs)
local fields = { 'XADD', SIGNALS, 'MAXLEN', '~', '1000', '*', 'type', event.type, 'at', tostring(event.at),
  'source', event.source, 'event', event.eventId }
if event.sku then fields[#fields + 1] = 'sku'; fields[#fields + 1] = event.sku end
if event.category then fields[#fields + 1] = 'category'; fields[#fields + 1] = event.category end
redis.call(unpack(fields))

local actor = 'event:' .. event.source
if (event.type == 'purchase' or event.type == 'return') and event.sku then
  markSkuEvent(event.type, event.sku, event.at, now)
elseif event.type == 'purchase' then
  redis.call('ZADD', C.marks, 'NX', 0, FIRST_PURCHASE)
end
local cancelled = {}
local consent = nil
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
  local change = { granted = event.granted, at = event.at, source = event.source, by = 'event',
    attested = event.byCustomer == true }
  local decision = consentDecision(readConsent(C.profile, event.channel), change)
  consent = decision == 'apply' and 'applied' or decision
  if decision == 'apply' then
    writeConsent(C.profile, event.channel, change, now)
    if redis.call('HEXISTS', C.profile, 'createdAt') == 0 then redis.call('HSET', C.profile, 'createdAt', now) end
    record(now, { actor = actor, action = event.granted and 'consent_granted' or 'consent_revoked',
      channel = event.channel, reason = event.source })
  elseif decision ~= 'unchanged' then
    record(now, { actor = actor, action = 'consent_not_applied', channel = event.channel, reason = decision })
  end
end
return reply({ result = 'stored', cancelled = cancelled, consent = consent, now = now })

--[[
  Claim a delivery for sending: the only door to a channel adapter.
  Input:  KEYS   the 15 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, actor, offerId, channel, claimId, leaseMs, dedupe, minRemainingMs,
                  waitRetryMs, rules, facts: { stock?, zone? },
                  guards?: { watermarks?: [{ feed, at, needed }], facts?: [{ name, asOf, maxAge }] } }
          `rules` and `facts`: see includes/guardrails.lua; `guards`: what a trigger's decision
          depends on (feeds that must have caught up, data no older than its bound).
          `dedupe`: the channel's provider deduplicates (push), so a lost lease may be claimed again;
          without it (SMTP) a lost lease makes the delivery `unknown`.
  Output: JSON { answer: "go", token, leaseUntil, offer (deliveries left out), recipient, now }
        | { answer: "skip", reason, now }               permanent for this delivery
        | { answer: "hold", reason, retryAt, now }      transient; claim again at retryAt
        | { answer: "recheck", sku, timezone, now }     the facts were read for another SKU or time
                                                        zone (or not at all): read these, claim again;
                                                        nothing written
  A push waits (`retraction_in_flight`) while an earlier offer's retraction in its slot is being sent.
  A replay with the same claimId while the lease holds answers the same GO and writes nothing.
]]
--@include core
--@include customer
--@include delivery
--@include guardrails

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local channel = req.channel

local function skip(reason) return reply({ answer = 'skip', reason = reason, now = now }) end

local stored = loadOffer(req.offerId)
if not stored then return skip('unknown_offer') end
local offer = settleWith(now, stored)
local d = offer.deliveries[channel]
if not d then return skip('channel_not_requested') end
if RETRACTION[channel] == 'instant' then return skip('not_queued') end

-- The facts must be about this offer's SKU and this customer's time zone as they are now; asked
-- before anything is written, so a claim that answers `recheck` leaves no trace.
local rules = rulesFor(offer, req.rules)
local facts = req.facts or {}
local quiet = given(rules.quietHours) and rules.quietHours or nil
local timezone = nil
if quiet then timezone = redis.call('HGET', C.profile, 'timezone') or nil end
if not DELIVERY_ENDED[d.state] and not OFFER_ENDED[offer.state] then
  local zone = facts.zone
  local zoneStale = quiet and (not given(zone) or (given(zone.timezone) and zone.timezone or nil) ~= timezone)
  if zoneStale or stockFactMissing(offer, facts.stock) then
    return reply({ answer = 'recheck', sku = offer.sku or cjson.null, timezone = timezone or cjson.null, now = now })
  end
end

-- The same claim asked again while its lease holds (its answer was lost on the way): the
-- claimer has not sent, so the checks below run again and GO repeats the same token unwritten.
local resent = false
if d.state == 'sending' then
  if d.claimId == req.claimId and d.leaseUntil > now then
    resent = true
  elseif d.leaseUntil > now then
    return reply({ answer = 'hold', reason = 'in_flight', retryAt = d.leaseUntil, now = now })
  elseif not req.dedupe then
    setDelivery(offer, channel, now, 'ledger', 'unknown', 'lease_expired')
    saveOffer(offer)
    return skip('unknown')
  elseif OFFER_ENDED[offer.state] then
    setDelivery(offer, channel, now, 'ledger', 'cancelled', 'offer_' .. offer.state)
    retractIfMaybeShown(offer, channel, now, 'ledger')
    saveOffer(offer)
    return skip('delivery_cancelled')
  else
    -- The provider deduplicates by idempotency key, so a lost lease is safe to claim again.
    setDelivery(offer, channel, now, 'ledger', 'scheduled', 'lease_expired')
  end
end

if DELIVERY_ENDED[d.state] then
  return skip(d.state == 'sent' and 'already_sent' or ('delivery_' .. d.state))
end
if OFFER_ENDED[offer.state] then
  -- endOffer cancelled every scheduled or held delivery; only a resent claim gets here.
  setDelivery(offer, channel, now, req.actor, 'cancelled', 'offer_' .. offer.state)
  saveOffer(offer)
  return skip('delivery_cancelled')
end

local function hold(reason, retryAt, detail)
  local deadline = offer.holdDeadline or (offer.validUntil - (req.minRemainingMs or 0))
  if retryAt >= deadline then
    local why = UNCERTAIN[reason] and ('uncertain:' .. reason) or ('held_past_deadline:' .. reason)
    setDelivery(offer, channel, now, req.actor, 'skipped', why)
    saveOffer(offer)
    return skip(why)
  end
  if d.state ~= 'held' or d.reason ~= reason then
    local extra = { retryAt = retryAt }
    for name, value in pairs(detail or {}) do extra[name] = value end
    setDelivery(offer, channel, now, req.actor, 'held', reason, nil, extra)
    d.retryAt = retryAt
    saveOffer(offer)
  end
  return reply({ answer = 'hold', reason = reason, retryAt = retryAt, now = now })
end

local function skipDelivery(reason, detail)
  setDelivery(offer, channel, now, req.actor, 'skipped', reason, nil, detail)
  saveOffer(offer)
  return skip(reason)
end

if offer.state == 'pending' then
  if offer.validFrom > now then return hold('not_yet_valid', offer.validFrom) end
  return hold('waiting_for_slot', now + req.waitRetryMs)
end

if offer.validUntil - now < (req.minRemainingMs or 0) then return skipDelivery('too_little_validity_left') end
if not consentGranted(channel) then return skipDelivery('no_consent') end

local recipient = recipientFor(channel)
if not recipient then return skipDelivery('no_address') end

local refused, detail = offerRefusal(offer, rules, now)
if refused then return skipDelivery(refused, detail) end
local stock = latestStock(offer, facts.stock)
if stock then
  if now - stock.at > rules.stockMaxAgeMs then
    return hold('stock_unknown', now + req.waitRetryMs, { sku = offer.sku, at = stock.at })
  end
  if not stock.inStock then return skipDelivery('out_of_stock', { sku = offer.sku, at = stock.at }) end
end
local guards = req.guards or {}
for _, fact in ipairs(guards.facts or {}) do
  if now - fact.asOf > fact.maxAge then return hold('stale_data', now + req.waitRetryMs) end
end
for _, mark in ipairs(guards.watermarks or {}) do
  if mark.at < mark.needed then return hold('feed_behind', now + req.waitRetryMs, { feed = mark.feed }) end
end
if quiet and timezone then
  if #facts.zone.offsets == 0 then return hold('stale_data', now + req.waitRetryMs) end
  local ends = quietUntil(quiet, facts.zone.offsets, now)
  if ends then return hold('quiet_hours', ends, { timezone = timezone }) end
end

-- An earlier offer's retraction is on its way under the same collapse key: sent now, this offer's
-- message could arrive first and be overwritten by it on the device.
if RETRACTION[channel] == 'message' then
  local retractionEnds = retractionInFlight(offer.slot, channel, offer.offerId, now)
  if retractionEnds then
    return hold('retraction_in_flight', math.min(retractionEnds, now + RETRACTION_WAIT_MS))
  end
end

-- Counted last: a message held or skipped above is no send.
local cap = capReached(rules, channel, offer.offerId, now)
if cap then
  return skipDelivery('frequency_cap', { scope = cap.scope, count = cap.count, windowMs = cap.windowMs })
end

if resent then
  return reply({ answer = 'go', token = d.token, leaseUntil = d.leaseUntil, offer = termsOnly(offer),
    recipient = recipient, now = now })
end

d.attempts = d.attempts + 1
d.claimId = req.claimId
-- A lease never outlives the offer: a send still unconfirmed at validUntil is not vouched for.
d.leaseUntil = math.min(now + req.leaseMs, offer.validUntil)
d.token = d.attempts
setDelivery(offer, channel, now, req.actor, 'sending', nil, 'delivery_claimed')
redis.call('ZADD', C.leases, d.leaseUntil, member(offer.customerId, offer.offerId, channel))
redis.call('ZADD', C.marks, now, sendMark(channel, offer.offerId))
pruneMarks(now)
saveOffer(offer)
return reply({ answer = 'go', token = d.token, leaseUntil = d.leaseUntil, offer = termsOnly(offer),
  recipient = recipient, now = now })

--[[
  Issue an offer to a customer and decide, in the same step, which offer holds the slot.
  Input:  KEYS   the 14 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, actor, offer: { offerId, customerId, slot, title, body, code?, discount,
                  sku?, category?, channels, validFrom, validUntil, priority, campaignId?, policy,
                  holdDeadline? }, idempotencyKey?, fingerprint, maxOpenOffers }
  Output: JSON { result: "issued", offer, superseded: [offerId], now }
        | { result: "duplicate", offer, superseded: [], now }       (same idempotencyKey or offerId)
        | { result: "rejected", conflicting: [offerId], now }        (policy reject, slot taken)
        | { result: "error", code, message }
          (code "open_offer_limit": the customer already holds `maxOpenOffers` open offers; a
          replacement counts too, since whether it wins its slot is decided after it is stored)
  Replaying the same call returns "duplicate" and writes nothing: the offer id is fixed by the caller.
]]
--@include core
--@include customer

local req = cjson.decode(ARGV[1])
local input = req.offer
local now = ledgerNow(req)

if not POLICIES[input.policy] then return fail('invalid_input', 'unknown slot policy') end

local idemField = nil
if req.idempotencyKey then
  idemField = member(input.customerId, req.idempotencyKey)
  local prior = redis.call('HGET', C.idem, idemField)
  if prior then
    local separator = string.find(prior, '|', 1, true)
    local priorId = string.sub(prior, 1, separator - 1)
    if string.sub(prior, separator + 1) ~= req.fingerprint then
      return fail('conflict', 'idempotencyKey was already used for a different offer', { offerId = priorId })
    end
    return reply({ result = 'duplicate', offer = loadOffer(priorId), superseded = {}, now = now })
  end
end

local existing = loadOffer(input.offerId)
if existing then
  return reply({ result = 'duplicate', offer = existing, superseded = {}, now = now })
end

input.validFrom = input.validFrom or now
if input.validUntil <= input.validFrom then
  return fail('invalid_input', 'validUntil must lie after validFrom')
end
if input.validUntil <= now then
  return fail('invalid_input', 'validUntil must lie in the future (ledger time ' .. now .. ')')
end

settle(now)

local open = #openIds()
if open >= req.maxOpenOffers then
  return fail('open_offer_limit', 'the customer already holds ' .. open .. ' open offers (at most ' ..
    req.maxOpenOffers .. ')', { open = open, max = req.maxOpenOffers })
end

local offer = input
offer.state = 'pending'
offer.version = 1
offer.createdAt = now
offer.updatedAt = now
offer.deliveries = {}
for _, channel in ipairs(offer.channels) do
  offer.deliveries[channel] = { state = 'scheduled', attempts = 0 }
end

if offer.policy == 'reject' then
  local conflicting = {}
  for _, other in ipairs(openOffers()) do
    if other.state == 'active' and contradicts(offer, other) then conflicting[#conflicting + 1] = other.offerId end
  end
  if #conflicting > 0 then
    return reply({ result = 'rejected', conflicting = conflicting, now = now })
  end
end

saveOffer(offer)
redis.call('HSET', C.owners, offer.offerId, offer.customerId)
if idemField then redis.call('HSET', C.idem, idemField, offer.offerId .. '|' .. req.fingerprint) end
for _, entry in ipairs(indexEntries(offer)) do redis.call('ZADD', entry[1], 0, entry[2]) end
redis.call('ZADD', C.due, offer.validUntil, member('expire', offer.offerId))
record(now, { actor = req.actor, action = 'issued', offer = offer.offerId, slot = offer.slot, state = 'pending',
  version = offer.version, detail = { priority = offer.priority, policy = offer.policy, campaignId = offer.campaignId } })

if offer.validFrom <= now then
  tryActivate(offer, now, req.actor)
else
  redis.call('ZADD', C.due, offer.validFrom, member('activate', offer.offerId))
end

local others = {}
for _, id in ipairs(SUPERSEDED) do
  if id ~= offer.offerId then others[#others + 1] = id end
end
return reply({ result = 'issued', offer = loadOffer(offer.offerId), superseded = others, now = now })

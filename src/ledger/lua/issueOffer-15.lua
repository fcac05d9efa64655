--[[
  Issue an offer to a customer and decide, in the same step, which offer holds the slot.
  Input:  KEYS   the 15 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, actor, offer: { offerId, customerId, slot, title, body, code?, discount,
                  sku?, category?, channels, validFrom, validUntil, priority, campaignId?, policy,
                  holdDeadline?, guardrails?, lifecycle? }, idempotencyKey?, fingerprint, maxOpenOffers,
                  rules, stock?, requireProfile?, dryRun? }
          `rules`, `stock`, the offer's `guardrails` and `lifecycle`: see includes/guardrails.lua.
  Output: JSON { result: "issued", offer, superseded: [offerId], now }
        | { result: "duplicate", offer, superseded: [], now }       (same idempotencyKey or offerId)
        | { result: "rejected", conflicting: [offerId], now }        (policy reject, slot taken)
        | { result: "checked", refusal: reason | null, slotLive: { offerId, priority } | null, now }
                                                    (dryRun: what issuing would do; nothing written)
        | { result: "error", code, message, details? }
          (code "guardrail": a rule refuses the offer for this customer, `details.reason` names it;
          the refusal is in the customer's history, but for `no_profile`, where there is no customer)
          (code "open_offer_limit": the customer already holds `maxOpenOffers` open offers; a
          replacement counts too, since whether it wins its slot is decided after it is stored)
  Replaying the same call returns "duplicate" and writes nothing: the offer id is fixed by the caller.
]]
--@include core
--@include customer
--@include guardrails

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

local REFUSAL_WORDS = {
  no_profile = 'the customer has no profile',
  sensitive_category = 'the offer is in a sensitive category the customer has not opted in to',
  lifecycle_mismatch = 'the offer targets customers of another lifecycle',
  recently_returned = 'the customer returned this SKU within the block window',
  recently_purchased = 'the customer bought this SKU within the block window',
  out_of_stock = 'the SKU is out of stock',
}

-- The first rule the offer breaks, with its detail: the same checks every claim makes again.
local function refusal()
  if req.requireProfile and redis.call('EXISTS', C.profile) == 0 then return 'no_profile', {} end
  local reason, detail = offerRefusal(input, rulesFor(input, req.rules), now)
  if reason then return reason, detail end
  local stock = latestStock(input, req.stock)
  if stock and not stock.inStock then return 'out_of_stock', { sku = input.sku, at = stock.at } end
  return nil
end

local refused, detail = refusal()
if req.dryRun then
  -- Read only: the offers a settle would end (validity over) are left out instead of ended.
  local open, slotLive = 0, cjson.null
  for _, other in ipairs(openOffers()) do
    if other.validUntil > now then
      open = open + 1
      if other.slot == input.slot and other.state == 'active' then
        slotLive = { offerId = other.offerId, priority = other.priority }
      end
    end
  end
  if not refused and open >= req.maxOpenOffers then refused = 'open_offer_limit' end
  return reply({ result = 'checked', refusal = refused or cjson.null, slotLive = slotLive, now = now })
end
if refused then
  if refused ~= 'no_profile' then
    detail.campaignId = input.campaignId
    record(now, { actor = req.actor, action = 'not_offered', slot = input.slot, reason = refused, detail = detail })
  end
  detail.reason = refused
  return fail('guardrail', REFUSAL_WORDS[refused] .. ' (' .. refused .. ')', detail)
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

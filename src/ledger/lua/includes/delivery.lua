--[[
  Delivery helpers: state changes of one (offer, channel) with their history entries.
]]
local UNCERTAIN = { feed_behind = true, stale_data = true, stock_unknown = true }
-- How soon a message held behind a retraction in flight asks again (a push takes milliseconds).
local RETRACTION_WAIT_MS = 1000

local function setDelivery(offer, channel, now, actor, state, reason, action, extra)
  local d = offer.deliveries[channel]
  d.state = state
  d.reason = reason
  if state ~= 'held' and state ~= 'scheduled' then d.retryAt = nil end
  if state ~= 'sending' then
    -- Lease and claim id only matter while a claim is out; stored offers stay small.
    d.leaseUntil = nil
    d.claimId = nil
    redis.call('ZREM', C.leases, member(offer.customerId, offer.offerId, channel))
  end
  if state == 'unknown' then
    redis.call('ZADD', C.unknown, now, member(offer.customerId, offer.offerId, channel))
  else
    redis.call('ZREM', C.unknown, member(offer.customerId, offer.offerId, channel))
  end
  record(now, { actor = actor, action = action or ('delivery_' .. state), offer = offer.offerId, channel = channel,
    state = state, version = offer.version, attempt = d.attempts, reason = reason, detail = extra })
  return d
end

--[[
  The offer of a delivery transition, settled at `now`, and its delivery; or, as the third value,
  the error answer when the offer or its delivery on the channel does not exist.
]]
local function settledDelivery(req, now)
  local stored = loadOffer(req.offerId)
  if not stored then return nil, nil, fail('not_found', 'no offer ' .. req.offerId) end
  if not stored.deliveries[req.channel] then
    return nil, nil, fail('not_found', 'offer ' .. req.offerId .. ' has no ' .. req.channel .. ' delivery')
  end
  local offer = settleWith(now, stored)
  return offer, offer.deliveries[req.channel], nil
end

local function deliveryReplyState(d)
  return { state = d.state, reason = d.reason, attempts = d.attempts }
end

-- The contact a channel sends to, from the profile; nil when the customer has none for it.
-- (HMGET answers false, not nil, for a missing field.)
local ADDRESS_FIELD = { email = 'email', push = 'pushEndpoint' }
local function recipientFor(channel)
  local field = ADDRESS_FIELD[channel]
  if not field then return nil end
  local values = redis.call('HMGET', C.profile, field, 'name', 'locale', 'timezone')
  if not values[1] then return nil end
  return { address = values[1], name = values[2] or nil, locale = values[3] or nil, timezone = values[4] or nil }
end

--[[
  A push retraction and a newer offer's push share the collapse key `<customerId>:<slot>`, and the
  device shows whichever arrives last. So a retraction being sent is marked, per offer, until it
  is confirmed or its lease ends, and a newer offer's claim waits for every such mark in its slot
  (two ended offers may be taken back at once).
]]
local function retractionInFlight(slot, channel, offerId, now)
  local marks = redis.call('HGETALL', C.retracting)
  local prefix = member(slot, channel, '')
  local latest = nil
  for i = 1, #marks, 2 do
    local field, endsAt = marks[i], tonumber(marks[i + 1])
    if string.sub(field, 1, #prefix) == prefix and string.sub(field, #prefix + 1) ~= offerId
      and endsAt and endsAt > now and (latest == nil or endsAt > latest) then
      latest = endsAt
    end
  end
  return latest
end

local function markRetractionInFlight(offer, channel, endsAt, ttlMs)
  redis.call('HSET', C.retracting, member(offer.slot, channel, offer.offerId), endsAt)
  -- Only a crash leaves a mark behind; the key's time to live clears what nobody confirmed.
  redis.call('PEXPIRE', C.retracting, ttlMs)
end

local function clearRetractionInFlight(offer, channel)
  redis.call('HDEL', C.retracting, member(offer.slot, channel, offer.offerId))
end

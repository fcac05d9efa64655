--[[
  Delivery helpers: state changes of one (offer, channel) with their history entries.
]]
local UNCERTAIN = { watermark_behind = true, stale_data = true, stock_unknown = true }

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

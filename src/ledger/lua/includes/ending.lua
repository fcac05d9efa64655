--[[
  Ending an offer on request (cancel, redeem) and reporting time-driven transitions
  (activate, expire). ARGV[1] is JSON { skew, actor, offerId, reason?, expectedVersion? }.
]]
local function endOnRequest(as)
  local req = cjson.decode(ARGV[1])
  local now = ledgerNow(req)
  local stored = loadOffer(req.offerId)
  if not stored then return fail('not_found', 'no offer ' .. req.offerId) end
  local offer = settleWith(now, stored)
  if OFFER_ENDED[offer.state] then
    if offer.state == as then return reply({ result = 'unchanged', offer = offer, now = now }) end
    return fail('conflict', 'offer ' .. offer.offerId .. ' has already ended: ' .. offer.state, { state = offer.state })
  end
  if req.expectedVersion and req.expectedVersion ~= offer.version then
    return fail('conflict', 'offer ' .. offer.offerId .. ' is at version ' .. offer.version .. ', not ' ..
      req.expectedVersion, { version = offer.version })
  end
  if as == 'redeemed' and offer.state ~= 'active' then
    return fail('conflict', 'offer ' .. offer.offerId .. ' is not active', { state = offer.state })
  end
  endOffer(offer, as, req.reason or as, now, req.actor)
  settle(now)
  return reply({ result = 'ended', offer = loadOffer(offer.offerId), superseded = SUPERSEDED, now = now })
end

local function settleAndReport()
  local req = cjson.decode(ARGV[1])
  local now = ledgerNow(req)
  local before = loadOffer(req.offerId)
  if not before then return fail('not_found', 'no offer ' .. req.offerId) end
  local after = settleWith(now, before)
  return reply({ result = after.version ~= before.version and 'settled' or 'unchanged', offer = after,
    superseded = SUPERSEDED, now = now })
end

--[[
  Read the offer a customer's web banner shows for a slot, checked against the ledger clock.
  Read-only: an offer past validUntil is never returned, even before its expiry has been applied.
  Input:  KEYS[1] offers hash  KEYS[2] open set  KEYS[3] profile hash
          ARGV[1] JSON { skew, slot, minRemainingMs? }
  Output: JSON { offer? (deliveries left out), reason?, now }   offer absent: reason says why nothing is shown
]]
--@include core

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req.skew)
local ids = redis.call('SMEMBERS', KEYS[2])
table.sort(ids)
local reason = 'no_live_offer'
for _, id in ipairs(ids) do
  local offer = decodeOrNil(redis.call('HGET', KEYS[1], id))
  if offer and offer.slot == req.slot and offer.state == 'active' and offer.validFrom <= now
    and now + (req.minRemainingMs or 0) < offer.validUntil then
    local web = offer.deliveries.web
    local consent = decodeOrNil(redis.call('HGET', KEYS[3], 'consent.web'))
    if not web then
      reason = 'not_for_web'
    elseif web.state ~= 'sent' or not consent or consent.granted ~= true then
      reason = 'no_consent'
    else
      return reply({ offer = withoutDeliveries(offer), now = now })
    end
  end
end
return reply({ reason = reason, now = now })

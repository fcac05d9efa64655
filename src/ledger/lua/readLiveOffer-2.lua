--[[
  Read the offer a customer's web banner shows for a slot, checked against the ledger clock.
  Read-only: an offer past validUntil is never returned, even before its expiry has been applied.
  Input:  KEYS[1] live offers (see includes/customer.lua)  KEYS[2] profile hash
          ARGV[1] JSON { skew, slot, minRemainingMs? }
  Output: JSON { offer? (deliveries left out), reason?, now }   offer absent: reason says why nothing is shown
]]
--@include core
--@include codec

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req.skew)
local reason = 'no_live_offer'
-- Stored in offer id order, so the answer does not depend on the order of writes. Only the
-- offer that matches is decoded.
local F = OFFER_NUMBER
for _, packed in ipairs(readLive(redis.call('GET', KEYS[1]))) do
  if packed[F.slot] == req.slot and packed[F.state] == 'active' and packed[F.validFrom] <= now
    and now + (req.minRemainingMs or 0) < packed[F.validUntil] then
    local offer = unpackOffer(packed)
    local web = offer.deliveries.web
    local consent = decodeOrNil(redis.call('HGET', KEYS[2], 'consent.web'))
    if not web then
      reason = 'not_for_web'
    elseif web.state ~= 'sent' or not consent or consent.granted ~= true then
      reason = 'no_consent'
    else
      return reply({ offer = termsOnly(offer), now = now })
    end
  end
end
return reply({ reason = reason, now = now })

--[[
  Give back a claimed delivery without sending: something outside the ledger could not vouch for
  the send right now (a template or transport not ready, a guard that could not be read).
  Input:  KEYS   the 15 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, actor, offerId, channel, token, reason, retryAt }
  Output: JSON { result: "held" | "unchanged" | "stale", delivery, now } | { result: "error", code, message }
]]
--@include core
--@include customer
--@include delivery
--@include guardrails

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local offer, d, failure = settledDelivery(req, now)
if failure then return failure end
if d.token ~= req.token then return reply({ result = 'stale', delivery = deliveryReplyState(d), now = now }) end
if d.state ~= 'sending' then
  local same = d.state == 'held' and d.reason == req.reason
  return reply({ result = same and 'unchanged' or 'stale', delivery = deliveryReplyState(d), now = now })
end
if OFFER_ENDED[offer.state] then
  setDelivery(offer, req.channel, now, req.actor, 'cancelled', 'offer_' .. offer.state)
elseif req.retryAt >= (offer.holdDeadline or offer.validUntil) then
  setDelivery(offer, req.channel, now, req.actor, 'skipped', 'held_past_deadline:' .. req.reason)
else
  setDelivery(offer, req.channel, now, req.actor, 'held', req.reason, nil, { retryAt = req.retryAt })
  d.retryAt = req.retryAt
end
unmarkSend(req.channel, offer.offerId)
saveOffer(offer)
return reply({ result = 'held', delivery = deliveryReplyState(d), now = now })

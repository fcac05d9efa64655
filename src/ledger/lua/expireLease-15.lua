--[[
  End a lease that ran out without a confirm (the worker died or hung). On a channel whose
  provider deduplicates (`dedupe`), the delivery is scheduled again and a deliver effect is
  emitted; on one that cannot (SMTP), the outcome is `unknown` and it is never resent by itself.
  Input:  KEYS   the 15 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, offerId, channel, dedupe }
  Output: JSON { result: "expired" | "unchanged", delivery, now } | { result: "error", code, message }
]]
--@include core
--@include customer
--@include delivery

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local offer, d, failure = settledDelivery(req, now)
if failure then return failure end
if d.state ~= 'sending' or d.leaseUntil > now then
  return reply({ result = 'unchanged', delivery = deliveryReplyState(d), now = now })
end
if not req.dedupe then
  setDelivery(offer, req.channel, now, 'ledger', 'unknown', 'lease_expired')
elseif OFFER_ENDED[offer.state] then
  setDelivery(offer, req.channel, now, 'ledger', 'cancelled', 'offer_' .. offer.state)
  retractIfMaybeShown(offer, req.channel, now, 'ledger')
else
  setDelivery(offer, req.channel, now, 'ledger', 'scheduled', 'lease_expired')
  emit('deliver', offer, req.channel, now)
end
saveOffer(offer)
return reply({ result = 'expired', delivery = deliveryReplyState(d), now = now })

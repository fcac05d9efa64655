--[[
  Record that a retraction was delivered (a push replacement under the same collapse key), or
  that the provider refused it for good.
  Input:  KEYS   the 13 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, actor, offerId, channel, outcome: "done" | "failed", reason? }
  Output: JSON { result: "retracted" | "unchanged", delivery, now } | { result: "error", code, message }
]]
--@include core
--@include customer
--@include delivery

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req.skew)
local offer = loadOffer(req.offerId)
if not offer then return fail('not_found', 'no offer ' .. req.offerId) end
local d = offer.deliveries[req.channel]
if not d then return fail('not_found', 'offer ' .. req.offerId .. ' has no ' .. req.channel .. ' delivery') end
if d.retraction ~= 'due' then return reply({ result = 'unchanged', delivery = deliveryReplyState(d), now = now }) end
d.retraction = req.outcome
record(now, { actor = req.actor, action = req.outcome == 'done' and 'retracted' or 'retraction_failed', offer = offer.offerId,
  channel = req.channel, state = d.state, version = offer.version, reason = req.reason })
saveOffer(offer)
return reply({ result = 'retracted', delivery = deliveryReplyState(d), now = now })

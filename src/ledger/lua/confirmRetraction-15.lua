--[[
  Record how a retraction begun with beginRetraction went: delivered (`done`), refused for good
  (`failed`), or refused for now (`retry`: it stays due and stops holding newer messages in the
  slot, so the next attempt may find it replaced). A retraction whose outcome is unknown is not
  confirmed: it may still arrive, so newer messages wait until its lease ends.
  Input:  KEYS   the 15 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, actor, offerId, channel, outcome: "done" | "failed" | "retry", reason? }
  Output: JSON { result: "retracted" | "unchanged", delivery, now } | { result: "error", code, message }
]]
--@include core
--@include customer
--@include delivery

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local offer = loadOffer(req.offerId)
if not offer then return fail('not_found', 'no offer ' .. req.offerId) end
local d = offer.deliveries[req.channel]
if not d then return fail('not_found', 'offer ' .. req.offerId .. ' has no ' .. req.channel .. ' delivery') end
clearRetractionInFlight(offer, req.channel)
if d.retraction ~= 'due' or req.outcome == 'retry' then
  return reply({ result = 'unchanged', delivery = deliveryReplyState(d), now = now })
end
d.retraction = req.outcome
record(now, { actor = req.actor, action = req.outcome == 'done' and 'retracted' or 'retraction_failed', offer = offer.offerId,
  channel = req.channel, state = d.state, version = offer.version, reason = req.reason })
saveOffer(offer)
return reply({ result = 'retracted', delivery = deliveryReplyState(d), now = now })

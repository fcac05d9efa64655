--[[
  Support settles a delivery whose outcome is unknown: it was sent after all (`sent`), or it is
  to be sent again (`resend`, only while the offer is live; otherwise it ends cancelled).
  Input:  KEYS   the 15 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, actor, offerId, channel, as: "sent" | "resend", reason? }
  Output: JSON { result: "resolved", delivery, now } | { result: "error", code, message }
]]
--@include core
--@include customer
--@include delivery

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local offer, d, failure = settledDelivery(req, now)
if failure then return failure end
local why = req.reason or 'resolved_by_support'
if d.state ~= 'unknown' then
  local already = (req.as == 'sent' and d.state == 'sent' and d.reason == why)
    or (req.as == 'resend' and d.state == 'scheduled' and d.reason == why)
    or (req.as == 'resend' and d.state == 'cancelled' and d.reason == 'offer_' .. offer.state)
  if already then return reply({ result = 'unchanged', delivery = deliveryReplyState(d), now = now }) end
  return fail('conflict', 'the ' .. req.channel .. ' delivery of ' .. req.offerId .. ' is ' .. d.state .. ', not unknown',
    { state = d.state })
end
if req.as == 'sent' then
  setDelivery(offer, req.channel, now, req.actor, 'sent', why, 'delivery_resolved')
  d.sentAt = d.sentAt or now
  if OFFER_ENDED[offer.state] and RETRACTION[req.channel] == 'message' and d.retraction == nil then
    d.retraction = 'due'
    emit('retract', offer, req.channel, now)
    record(now, { actor = req.actor, action = 'retraction_due', offer = offer.offerId, channel = req.channel,
      state = 'sent', version = offer.version, reason = 'offer_' .. offer.state })
  end
elseif offer.state == 'active' then
  setDelivery(offer, req.channel, now, req.actor, 'scheduled', why, 'delivery_resolved')
  emit('deliver', offer, req.channel, now)
else
  setDelivery(offer, req.channel, now, req.actor, 'cancelled', 'offer_' .. offer.state, 'delivery_resolved')
end
saveOffer(offer)
return reply({ result = 'resolved', delivery = deliveryReplyState(d), now = now })
